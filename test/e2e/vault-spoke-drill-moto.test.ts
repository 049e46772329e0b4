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
import type { DrillTaskEvent } from '../../shared/drill/state.js';
import { type DrillDeps, runDrillTask } from '../../shared/drill/tasks.js';
import { DRILL_COPY_KEY } from '../../shared/drill/vault-tasks.js';
import { vaultCopyId, vaultKeyAlias, vaultRoleArn } from '../../shared/fleet/vault.js';
import { vaultDrillRoleArn } from '../../shared/fleet/vault-drill.js';
import { spokeRoleName } from '../../shared/fleet/targets.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import { metrics } from '../../shared/observability.js';
import { Tag, tagList } from '../../shared/tags.js';
import {
  fakeReportStore,
  fakeTaskSignal,
  fakeTokenStore,
  fakeVaultShareLedger,
} from '../fakes/drill-ports.js';
import { createMotoKey, startMoto } from '../support/moto.js';
import { ROOT } from '../support/sdk-recorder.js';

// A drill of a workload (spoke) account's RDS instance and Aurora cluster from the backup vault, end to end over
// real HTTP against moto with three accounts: the hub, a workload account and the vault. Both the hub and the
// workload account have an `orders-db` (the hub's backed up later, so its vault copy is newer); each account's
// snapshots are copied into the vault by the backup's own flow (the workload's through STS AssumeRole into its
// spoke role), then the hub's drill, configured with `account: <workload>`, picks the workload's copy, shares it
// with the hub only, copies and restores it (the cluster copy by its ARN) and cleans up, leaving the hub's copy
// untouched. moto partitions resources by the account of the assumed role's credentials; it checks no policy
// and makes copies and restores available at once (test/support/moto-shared-copy.py: shared copies/restores).
const HUB = '123456789012'; // moto's default account: the hub's own credentials
const WORKLOAD = '222222222222';
const VAULT = '999999999999';
const REGION = 'eu-west-1';
const SPOKE_AT = new Date('2026-01-31T03:00:00Z');
const HUB_AT = new Date('2026-01-31T22:00:00Z');
const EXECUTION = { name: 'monthly-2026-02', startTime: '2026-02-01T05:00:00.000Z' };
const profile = { database: 'app' };

const config = parseConfig(
  {
    stage: 'e2e',
    account: HUB,
    region: REGION,
    targets: [{}, { account: WORKLOAD }],
    fleet: { externalId: 'steward-e2e-fleet', vault: { account: VAULT, retention: 'standard' } },
    drill: {
      enabled: true,
      targets: {
        'orders-db': {
          kind: 'rds-instance',
          from: 'vault',
          account: WORKLOAD,
          profile,
          rpoSeconds: 86_400 * 400,
        },
        ledger: {
          kind: 'aurora-cluster',
          from: 'vault',
          account: WORKLOAD,
          profile,
          rpoSeconds: 86_400 * 400,
        },
      },
    },
  },
  'e2e',
);

describe("a drill of a workload account's RDS instance and Aurora cluster from the backup vault, against moto with three accounts", () => {
  let stop: (() => Promise<void>) | undefined;
  const saved = { ...process.env };
  let hub: RDSClient;
  let vault: RDSClient;
  let drill: () => DrillDeps;
  const spokeCopy = vaultCopyId(WORKLOAD, snapshotId('orders-db', SPOKE_AT, 'sched'));
  const hubCopy = vaultCopyId(HUB, snapshotId('orders-db', HUB_AT, 'sched'));
  const spokeClusterCopy = vaultCopyId(WORKLOAD, snapshotId('ledger', SPOKE_AT, 'sched'));

  const task = (t: DrillTaskEvent['task'], state: unknown) =>
    runDrillTask({ task: t, state, execution: EXECUTION } as DrillTaskEvent, drill());
  const instanceShare = async (id: string) =>
    (
      await vault.send(new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: id }))
    ).DBSnapshotAttributesResult?.DBSnapshotAttributes?.find((a) => a.AttributeName === 'restore')
      ?.AttributeValues ?? [];
  const clusterShare = async () =>
    (
      await vault.send(
        new DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: spokeClusterCopy }),
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

  /** An account's encrypted orders-db (and, in the workload, the ledger cluster), backed up at `at`, into the vault. */
  const backUpIntoVault = async (
    account: string,
    rds: RDSClient,
    credentials: RDSClient['config']['credentials'] | undefined,
    at: Date,
    copyAs: RDSClient['config']['credentials'],
    cluster: boolean,
  ) => {
    await rds.send(
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
    if (cluster)
      await rds.send(
        new CreateDBClusterCommand({
          DBClusterIdentifier: 'ledger',
          Engine: 'aurora-postgresql',
          MasterUsername: 'app',
          MasterUserPassword: 'not-a-secret-1',
          StorageEncrypted: true,
          Tags: tagList({ 'steward:backup': 'daily' }),
        }),
      );
    const dbs = cluster
      ? ([
          ['rds-instance', 'orders-db'],
          ['aurora-cluster', 'ledger'],
        ] as const)
      : ([['rds-instance', 'orders-db']] as const);
    for (const [kind, db] of dbs)
      await rdsBackup(REGION, rds).createSnapshot({
        kind,
        dbId: db,
        snapshotId: snapshotId(db, at, 'sched'),
        tags: {
          [Tag.managed]: 'true',
          [Tag.policy]: 'daily',
          [Tag.source]: db,
          [Tag.createdBy]: 'backup',
        },
      });
    const backup: VaultDeps = {
      account,
      region: REGION,
      vaultAccount: VAULT,
      vaultKey: vaultKeyAlias(config),
      policies: ['daily'],
      maxInFlight: 20,
      maxClusterInFlight: 5,
      sources: awsSnapshotStore(
        REGION,
        rds,
        new ElastiCacheClient({ region: REGION, ...(credentials ? { credentials } : {}) }),
      ),
      shares: rdsVaultShares(REGION, rds),
      vault: rdsVaultStore(REGION, new RDSClient({ region: REGION, credentials: copyAs })),
    };
    await reconcileVault(backup, false, new Date('2026-01-31T23:00:00Z'));
    await reconcileVault(backup, false, new Date('2026-01-31T23:30:00Z'));
  };

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
    const as = (account: string, roleArn: string) =>
      creds.forTarget({ account, region: REGION, roleArn, externalId: 'steward-e2e-fleet' });
    const copyAs = as(VAULT, vaultRoleArn(config, 'copy', REGION));
    const drillAs = as(VAULT, vaultDrillRoleArn(config, REGION));
    const workloadAs = as(
      WORKLOAD,
      `arn:aws:iam::${WORKLOAD}:role/${spokeRoleName('e2e', 'backup', REGION)}`,
    );
    hub = new RDSClient({ region: REGION });
    vault = new RDSClient({ region: REGION, credentials: drillAs });
    await createMotoKey(moto.endpoint, (await copyAs()).accessKeyId, REGION, vaultKeyAlias(config));

    await backUpIntoVault(
      WORKLOAD,
      new RDSClient({ region: REGION, credentials: workloadAs }),
      workloadAs,
      SPOKE_AT,
      copyAs,
      true,
    );
    await backUpIntoVault(HUB, hub, undefined, HUB_AT, copyAs, false);

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

  it("the vault holds both accounts' copies of orders-db, shared with no one", async () => {
    const listed = (
      (await vault.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }))).DBSnapshots ?? []
    )
      .map((s) => s.DBSnapshotIdentifier!)
      .sort();
    expect(listed).toEqual([hubCopy, spokeCopy].sort());
    expect(await instanceShare(spokeCopy)).toEqual([]);
    expect(await instanceShare(hubCopy)).toEqual([]);
  });

  it("an instance: picks the workload's copy over the hub's newer one, shares it with the hub only, restores it, and leaves nothing", async () => {
    // Act
    const started = await task('start', { database: 'orders-db' });
    const selected = await task('select', started);
    const restored = await task('restore', selected);
    const duringShare = await instanceShare(spokeCopy);
    const duringHubShare = await instanceShare(hubCopy);
    const duringCopies = await drillCopies();
    const available = await task('status', restored);
    const duringInstances = await drillInstances();
    const cleaned = await task('cleanup', available);

    // Assert
    expect(selected.source?.vault).toMatchObject({
      account: VAULT,
      copyId: spokeCopy,
      sourceAccount: WORKLOAD,
      encrypted: true,
    });
    expect(duringShare).toEqual([HUB]);
    expect(duringHubShare).toEqual([]);
    expect(duringCopies).toEqual([restored.target!.id]);
    expect(duringInstances).toEqual([restored.target!.id]);
    // The hub's own orders-db was not read for the shape: the configured (default) class.
    expect(restored.shape).toMatchObject({ instanceClassFrom: 'default' });
    expect(cleaned.cleanup?.status).toBe('deleted');
    expect(await drillInstances()).toEqual([]);
    expect(await drillCopies()).toEqual([]);
    expect(await instanceShare(spokeCopy)).toEqual([]);
  });

  it("an Aurora cluster: restores the workload's shared vault copy by its ARN, then deletes it and unshares", async () => {
    // Act
    const started = await task('start', { database: 'ledger' });
    const selected = await task('select', started);
    const restored = await task('restore', selected);
    const duringShare = await clusterShare();
    const duringClusters = await drillClusters();
    const cleaned = await task('cleanup', restored);

    // Assert
    expect(selected.source?.vault).toMatchObject({ copyId: spokeClusterCopy, sourceAccount: WORKLOAD });
    expect(duringShare).toEqual([HUB]);
    expect(duringClusters).toEqual([restored.target!.id]);
    expect(cleaned.cleanup?.status).toBe('deleted');
    expect(await drillClusters()).toEqual([]);
    expect(await clusterShare()).toEqual([]);
  });
});
