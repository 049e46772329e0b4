import { join } from 'node:path';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotAttributesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { rdsBackup } from '../../shared/aws/rds.js';
import { rdsRestorePort } from '../../shared/aws/rds-restore.js';
import { awsSnapshotStore } from '../../shared/aws/snapshots.js';
import { targetCredentials } from '../../shared/aws/target-credentials.js';
import { rdsVaultShares, rdsVaultStore } from '../../shared/aws/vault.js';
import { rdsStagedCopies, rdsVaultDrillPort } from '../../shared/aws/vault-drill.js';
import { snapshotId } from '../../shared/backup/ids.js';
import { reconcileVault, type VaultDeps } from '../../shared/backup/vault.js';
import { parseConfig } from '../../shared/config/schema.js';
import type { DrillState, DrillTaskEvent } from '../../shared/drill/state.js';
import { type DrillDeps, runDrillTask } from '../../shared/drill/tasks.js';
import { DRILL_COPY_KEY } from '../../shared/drill/vault-tasks.js';
import { vaultCopyId, vaultKeyAlias, vaultRoleArn } from '../../shared/fleet/vault.js';
import { vaultDrillRoleArn } from '../../shared/fleet/vault-drill.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import { metrics } from '../../shared/observability.js';
import { Tag, tagList, tagRecord } from '../../shared/tags.js';
import {
  fakeReportStore,
  fakeTaskSignal,
  fakeTokenStore,
  fakeVaultShareLedger,
} from '../fakes/drill-ports.js';
import { createMotoKey, startMoto } from '../support/moto.js';
import { ROOT } from '../support/sdk-recorder.js';

// A drill from the backup vault of an RDS instance and an Aurora cluster, end to end over real HTTP against moto
// with the hub and the vault account: the hub's snapshots are copied into the vault by the backup's own flow (the
// vault copy role, reached through STS AssumeRole), then the drill, through the real adapters, lists the vault's
// copies and shares one with the hub as the vault drill role, copies the shared instance copy into the hub (RDS
// restores no instance from a shared encrypted snapshot) and restores that copy, restores the shared cluster copy
// by its ARN, and cleans up: the restored database, the drill's copy, the share. moto 5.2.1 neither copies nor
// restores another account's shared snapshot: test/support/moto-shared-copy.py adds exactly that, only while the
// owner shares it. moto makes copies and restores available at once and checks no key policy; the verification
// (a PostgreSQL login) is not run here (the drill's checks run against real PostgreSQL in the local sandbox).
const HUB = '123456789012'; // moto's default account: the hub's own credentials
const VAULT = '999999999999';
const REGION = 'eu-west-1';
const AT = new Date('2026-01-31T03:00:00Z');
const EXECUTION = { name: 'monthly-2026-02', startTime: '2026-02-01T05:00:00.000Z' };
const profile = { database: 'app' };

const config = parseConfig(
  {
    stage: 'e2e',
    account: HUB,
    region: REGION,
    fleet: { externalId: 'steward-e2e-fleet', vault: { account: VAULT, retention: 'standard' } },
    drill: {
      enabled: true,
      targets: {
        'orders-db': { kind: 'rds-instance', from: 'vault', profile, rpoSeconds: 86_400 * 400 },
        ledger: { kind: 'aurora-cluster', from: 'vault', profile, rpoSeconds: 86_400 * 400 },
      },
    },
  },
  'e2e',
);

describe('a drill from the backup vault (RDS and Aurora), against moto with the hub and the vault account', () => {
  let stop: (() => Promise<void>) | undefined;
  const saved = { ...process.env };
  let hub: RDSClient;
  let vault: RDSClient;
  let drill: () => DrillDeps;
  const instanceCopy = vaultCopyId(HUB, snapshotId('orders-db', AT, 'sched'));
  const clusterCopy = vaultCopyId(HUB, snapshotId('ledger', AT, 'sched'));

  const task = (t: DrillTaskEvent['task'], state: unknown) =>
    runDrillTask({ task: t, state, execution: EXECUTION } as DrillTaskEvent, drill());
  const instanceShare = async () =>
    (
      await vault.send(new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: instanceCopy }))
    ).DBSnapshotAttributesResult?.DBSnapshotAttributes?.find((a) => a.AttributeName === 'restore')
      ?.AttributeValues ?? [];
  const clusterShare = async () =>
    (
      await vault.send(
        new DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: clusterCopy }),
      )
    ).DBClusterSnapshotAttributesResult?.DBClusterSnapshotAttributes?.find(
      (a) => a.AttributeName === 'restore',
    )?.AttributeValues ?? [];
  const drillInstances = async () =>
    ((await hub.send(new DescribeDBInstancesCommand({}))).DBInstances ?? [])
      .map((d) => d.DBInstanceIdentifier!)
      .filter((id) => id.startsWith('steward-drill-'));
  const drillClusters = async () =>
    ((await hub.send(new DescribeDBClustersCommand({}))).DBClusters ?? [])
      .map((d) => d.DBClusterIdentifier!)
      .filter((id) => id.startsWith('steward-drill-'));
  const drillCopies = async () =>
    ((await hub.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }))).DBSnapshots ?? [])
      .map((s) => s.DBSnapshotIdentifier!)
      .filter((id) => id.startsWith('steward-drill-'));

  beforeAll(async () => {
    const moto = await startMoto({ script: join(ROOT, 'test/support/moto-shared-copy.py') });
    stop = moto.stop;
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: REGION,
    });
    const creds = targetCredentials(new STSClient({ region: REGION }), { sessionName: 'steward-e2e' });
    const as = (roleArn: string) =>
      creds.forTarget({ account: VAULT, region: REGION, roleArn, externalId: 'steward-e2e-fleet' });
    const copyAs = as(vaultRoleArn(config, 'copy', REGION));
    const drillAs = as(vaultDrillRoleArn(config, REGION));
    hub = new RDSClient({ region: REGION });
    vault = new RDSClient({ region: REGION, credentials: drillAs });
    await createMotoKey(moto.endpoint, (await copyAs()).accessKeyId, REGION, vaultKeyAlias(config));

    // The hub's own encrypted instance and Aurora cluster, and steward's snapshots of both.
    await hub.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'orders-db',
        DBInstanceClass: 'db.t4g.micro',
        Engine: 'postgres',
        MasterUsername: 'app',
        MasterUserPassword: 'not-a-secret-1',
        AllocatedStorage: 20,
        StorageEncrypted: true,
        Tags: tagList({ 'steward:backup': 'daily' }),
      }),
    );
    await hub.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: 'ledger',
        Engine: 'aurora-postgresql',
        MasterUsername: 'app',
        MasterUserPassword: 'not-a-secret-1',
        StorageEncrypted: true,
        Tags: tagList({ 'steward:backup': 'daily' }),
      }),
    );
    for (const [kind, db] of [
      ['rds-instance', 'orders-db'],
      ['aurora-cluster', 'ledger'],
    ] as const)
      await rdsBackup(REGION, hub).createSnapshot({
        kind,
        dbId: db,
        snapshotId: snapshotId(db, AT, 'sched'),
        tags: {
          [Tag.managed]: 'true',
          [Tag.policy]: 'daily',
          [Tag.source]: db,
          [Tag.createdBy]: 'backup',
        },
      });

    // Into the vault with the backup's own flow: share, copy (as the vault copy role), then unshare.
    const backup: VaultDeps = {
      account: HUB,
      region: REGION,
      vaultAccount: VAULT,
      vaultKey: vaultKeyAlias(config),
      policies: ['daily'],
      maxInFlight: 20,
      maxClusterInFlight: 5,
      sources: awsSnapshotStore(REGION, hub, new ElastiCacheClient({ region: REGION })),
      shares: rdsVaultShares(REGION, hub),
      vault: rdsVaultStore(REGION, new RDSClient({ region: REGION, credentials: copyAs })),
    };
    await reconcileVault(backup, false, new Date('2026-01-31T04:00:00Z'));
    await reconcileVault(backup, false, new Date('2026-01-31T05:00:00Z'));

    const shares = fakeVaultShareLedger();
    drill = () => ({
      config,
      dryRun: false,
      notifier: memoryNotifier(),
      now: () => new Date('2026-02-01T05:00:10Z'),
      restore: rdsRestorePort(REGION, hub),
      vault: {
        account: HUB,
        vault: rdsVaultDrillPort(REGION, vault, VAULT),
        staging: rdsStagedCopies(REGION, hub),
        key: DRILL_COPY_KEY,
        shares,
      },
      tokens: fakeTokenStore(),
      signal: fakeTaskSignal(),
      reports: fakeReportStore(),
      network: {},
    });
  });

  afterAll(async () => {
    await stop?.();
    process.env = saved;
  });

  beforeEach(() => {
    vi.spyOn(metrics, 'singleMetric').mockImplementation(
      () =>
        ({ addDimension: () => undefined, addMetric: () => undefined }) as unknown as ReturnType<
          typeof metrics.singleMetric
        >,
    );
  });

  it('the vault holds both copies, shared with no one, and the hub cannot restore one it is not shared', async () => {
    expect(await instanceShare()).toEqual([]);
    expect(await clusterShare()).toEqual([]);
    await expect(
      hub.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          DBInstanceIdentifier: 'by-hand',
          DBSnapshotIdentifier: `arn:aws:rds:${REGION}:${VAULT}:snapshot:${instanceCopy}`,
        }),
      ),
    ).rejects.toMatchObject({ name: 'DBSnapshotNotFoundFault' });
  });

  it('an instance: shares the vault copy, copies it into the hub, restores that copy, then deletes both and unshares', async () => {
    // Act
    const started = await task('start', { database: 'orders-db' });
    const selected = await task('select', started);
    const restored = await task('restore', selected);
    const duringShare = await instanceShare();
    const duringCopies = await drillCopies();
    const duringInstances = await drillInstances();
    const duringCopy = (
      await hub.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: restored.target!.id }))
    ).DBSnapshots?.[0];
    const available = await task('status', restored);
    const cleaned = await task('cleanup', available);

    // Assert: the vault's copy of the hub's database, dated by the source's data time.
    expect(selected.source?.vault).toMatchObject({ account: VAULT, copyId: instanceCopy, encrypted: true });
    // (moto dates the hub's snapshot by its real creation time; the vault copy carries it as steward:data-time)
    const [source] = (
      await hub.send(
        new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId('orders-db', AT, 'sched') }),
      )
    ).DBSnapshots!;
    expect(selected.source?.referenceTime).toBe(source!.SnapshotCreateTime!.toISOString());
    // While restored: shared with the hub only, the drill's own copy and the restored instance in the hub.
    expect(duringShare).toEqual([HUB]);
    expect(duringCopies).toEqual([restored.target!.id]);
    expect(duringInstances).toEqual([restored.target!.id]);
    expect(tagRecord(duringCopy?.TagList)).toMatchObject({
      [Tag.drill]: EXECUTION.name,
      [Tag.managed]: 'true',
    });
    expect((available as DrillState).available).toBe(true);
    // After: nothing of the drill is left, and the vault's copy is shared with no one.
    expect(cleaned.cleanup?.status).toBe('deleted');
    expect(await drillInstances()).toEqual([]);
    expect(await drillCopies()).toEqual([]);
    expect(await instanceShare()).toEqual([]);
  });

  it('an Aurora cluster: restores the shared vault copy by its ARN, then deletes the cluster and unshares', async () => {
    // Act
    const started = await task('start', { database: 'ledger' });
    const selected = await task('select', started);
    const restored = await task('restore', selected);
    const duringShare = await clusterShare();
    const duringClusters = await drillClusters();
    const cleaned = await task('cleanup', restored);

    // Assert
    expect(selected.source?.vault).toMatchObject({ account: VAULT, copyId: clusterCopy });
    expect(duringShare).toEqual([HUB]);
    expect(duringClusters).toEqual([restored.target!.id]);
    expect(cleaned.cleanup?.status).toBe('deleted');
    expect(await drillClusters()).toEqual([]);
    expect(await clusterShare()).toEqual([]);
    // Unshared, the copy restores no more in the hub.
    await expect(
      hub.send(
        new RestoreDBClusterFromSnapshotCommand({
          DBClusterIdentifier: 'by-hand',
          Engine: 'aurora-postgresql',
          SnapshotIdentifier: `arn:aws:rds:${REGION}:${VAULT}:cluster-snapshot:${clusterCopy}`,
        }),
      ),
    ).rejects.toMatchObject({ name: 'DBClusterSnapshotNotFoundFault' });
  });
});
