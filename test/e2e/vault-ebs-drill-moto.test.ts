import { join } from 'node:path';
import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { RDSClient } from '@aws-sdk/client-rds';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ebsBackup } from '../../shared/aws/ebs.js';
import { ec2EbsDrillPort, ec2SnapshotSets } from '../../shared/aws/ebs-drill.js';
import { ebsVaultShares } from '../../shared/aws/ebs-vault.js';
import { withEbsVaultSets } from '../../shared/aws/ebs-vault-drill.js';
import { ebsVaultStore } from '../../shared/aws/ebs-vault-store.js';
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
import { spokeRoleName } from '../../shared/fleet/targets.js';
import { vaultCopyId, vaultKeyAlias } from '../../shared/fleet/vault.js';
import { vaultDrillRoleArn } from '../../shared/fleet/vault-drill.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import { metrics } from '../../shared/observability.js';
import { Tag, tagRecord } from '../../shared/tags.js';
import {
  fakeReportStore,
  fakeRestorePort,
  fakeTaskSignal,
  fakeTokenStore,
  fakeVaultShareLedger,
} from '../fakes/drill-ports.js';
import { startMoto } from '../support/moto.js';
import { ROOT } from '../support/sdk-recorder.js';

// An EBS drill from the backup vault, end to end over real HTTP against moto with three accounts: a workload
// account's instance is backed up and its set copied into the vault (the backup's own vault flow, as the spoke
// and vault copy roles), then the hub's drill restores the vault's copy through the real adapters: the vault drill
// role (assumed through STS) shares each part with the hub, the hub creates its volumes from the shared parts, and
// cleanup deletes the volumes and takes the shares back. moto 5.2.1 neither copies nor creates a volume from
// another account's shared snapshot: test/support/moto-shared-copy.py adds exactly that, only while the owner
// shares it. moto checks no KMS key and makes volumes available at once; the state table ledger is the in-memory
// fake here (its contract runs over moto's DynamoDB in test/shared/aws/vault-share-ledger.test.ts).
const HUB = '123456789012'; // moto's default account: the hub's own credentials
const WORKLOAD = '222222222222';
const VAULT = '999999999999';
const REGION = 'eu-west-1';
const EXECUTION = { name: 'monthly-2026-02', startTime: '2026-02-01T05:00:00.000Z' };

describe('an EBS drill from the backup vault, against moto with three accounts', () => {
  let stop: (() => Promise<void>) | undefined;
  const saved = { ...process.env };
  let instanceId = '';
  let hub: EC2Client;
  let vault: EC2Client;
  let workload: EC2Client;
  let parts: string[] = [];
  let drill: () => DrillDeps;

  const config = () =>
    parseConfig(
      {
        stage: 'e2e',
        account: HUB,
        region: REGION,
        fleet: { externalId: 'steward-e2e-fleet', vault: { account: VAULT, retention: 'standard' } },
        backup: { policies: { daily: { kinds: ['ebs'] } } },
        targets: [{}, { account: WORKLOAD }],
        drill: {
          enabled: true,
          volumes: { [instanceId]: { from: 'vault', account: WORKLOAD, rpoSeconds: 86_400 * 30 } },
        },
      },
      'e2e',
    );

  const sharedWith = async (id: string) =>
    (
      (
        await vault.send(
          new DescribeSnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission' }),
        )
      ).CreateVolumePermissions ?? []
    ).map((p) => p.UserId);
  const drillVolumes = async () =>
    (
      (await hub.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag-key', Values: [Tag.drill] }] })))
        .Volumes ?? []
    ).filter((v) => v.State !== 'deleted');
  const task = (t: DrillTaskEvent['task'], state: unknown) =>
    runDrillTask({ task: t, state, execution: EXECUTION } as DrillTaskEvent, drill());

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
    const workloadAs = as(
      WORKLOAD,
      `arn:aws:iam::${WORKLOAD}:role/${spokeRoleName('e2e', 'backup', REGION)}`,
    );
    hub = new EC2Client({ region: REGION });
    workload = new EC2Client({ region: REGION, credentials: workloadAs });
    const copyAs = as(VAULT, `arn:aws:iam::${VAULT}:role/steward-e2e-vault-copy-${REGION}`);
    const copier = new EC2Client({ region: REGION, credentials: copyAs });

    // The workload account: an instance with a data volume, backed up as one set of two parts.
    const run = await workload.send(
      new RunInstancesCommand({
        ImageId: 'ami-0a1b2c3d4e5f60718',
        MinCount: 1,
        MaxCount: 1,
        InstanceType: 't3.micro',
        Placement: { AvailabilityZone: `${REGION}a` },
      }),
    );
    instanceId = run.Instances![0]!.InstanceId!;
    const data = (await workload.send(new CreateVolumeCommand({ AvailabilityZone: `${REGION}a`, Size: 10 })))
      .VolumeId!;
    await workload.send(
      new AttachVolumeCommand({ InstanceId: instanceId, VolumeId: data, Device: '/dev/sdf' }),
    );
    const setId = snapshotId(instanceId, new Date('2026-01-31T03:00:00Z'), 'sched');
    await ebsBackup(REGION, workload).createSnapshot({
      kind: 'ebs',
      dbId: instanceId,
      snapshotId: setId,
      tags: {
        [Tag.managed]: 'true',
        [Tag.policy]: 'daily',
        [Tag.source]: instanceId,
        [Tag.createdBy]: 'backup',
        [Tag.set]: setId,
        [Tag.setSize]: '2',
      },
    });

    // Into the vault with the backup's own flow (share, copy, then unshare once the copies completed).
    const c = config();
    const workloadRds = new RDSClient({ region: REGION, credentials: workloadAs });
    const backup: VaultDeps = {
      account: WORKLOAD,
      region: REGION,
      vaultAccount: VAULT,
      vaultKey: vaultKeyAlias(c),
      policies: ['daily'],
      maxInFlight: 20,
      maxClusterInFlight: 5,
      sources: awsSnapshotStore(
        REGION,
        workloadRds,
        new ElastiCacheClient({ region: REGION, credentials: workloadAs }),
        undefined,
        ebsBackup(REGION, workload),
      ),
      shares: rdsVaultShares(REGION, workloadRds),
      vault: rdsVaultStore(REGION, new RDSClient({ region: REGION, credentials: copyAs })),
      sets: {
        shares: ebsVaultShares(REGION, workload),
        vault: ebsVaultStore(REGION, copier),
        maxInFlight: 20,
      },
    };
    await reconcileVault(backup, false, new Date('2026-01-31T04:00:00Z'));
    await reconcileVault(backup, false, new Date('2026-01-31T05:00:00Z'));

    // The hub's drill, wired as the drill function wires it: the vault side as the vault drill role.
    const drillAs = as(VAULT, vaultDrillRoleArn(c, REGION));
    vault = new EC2Client({ region: REGION, credentials: drillAs });
    const vaultCopies = (
      (
        await vault.send(
          new DescribeSnapshotsCommand({
            OwnerIds: ['self'],
            Filters: [{ Name: `tag:${Tag.set}`, Values: [vaultCopyId(WORKLOAD, setId)] }],
          }),
        )
      ).Snapshots ?? []
    ).map((s) => s.SnapshotId!);
    parts = vaultCopies.sort();
    const shares = fakeVaultShareLedger();
    drill = () => ({
      config: config(),
      dryRun: false,
      notifier: memoryNotifier(),
      now: () => new Date('2026-02-01T05:00:10Z'),
      restore: fakeRestorePort(REGION),
      ebs: {
        sets: ec2SnapshotSets(REGION, hub),
        volumes: ec2EbsDrillPort(REGION, hub),
        availabilityZone: `${REGION}b`,
      },
      vault: {
        account: HUB,
        vault: withEbsVaultSets(
          rdsVaultDrillPort(REGION, new RDSClient({ region: REGION, credentials: drillAs }), VAULT),
          vault,
        ),
        staging: rdsStagedCopies(REGION, new RDSClient({ region: REGION })),
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

  it('the hub cannot create a volume from a vault part it is not shared', async () => {
    expect(parts).toHaveLength(2);
    await expect(
      hub.send(new CreateVolumeCommand({ AvailabilityZone: `${REGION}a`, SnapshotId: parts[0]! })),
    ).rejects.toMatchObject({ name: 'InvalidSnapshot.NotFound' });
  });

  it('restores the workload instance’s vault set in the hub through shared parts, then deletes the volumes and unshares', async () => {
    // Act: select, restore (shares, then creates), status, cleanup, record
    const started = await task('start', { database: instanceId });
    const selected = await task('select', started);
    const restored = await task('restore', selected);
    const shareWhileRestored = await Promise.all(parts.map(sharedWith));
    const volumesWhileRestored = await drillVolumes();
    const available = await task('status', restored);
    const cleaned = await task('cleanup', available);
    const recorded = await task('record', cleaned);

    // Assert: the vault's copy of the workload account's set, dated by the source set.
    expect(selected.ebs?.vault).toMatchObject({ account: VAULT, sourceAccount: WORKLOAD });
    // (moto dates the source set by its real creation time, which the vault copy carries as steward:taken-at)
    const [source] = await ebsBackup(REGION, workload).listSets();
    expect(selected.source?.referenceTime).toBe(source?.createdAt);
    expect(selected.source?.snapshotId).toBe(vaultCopyId(WORKLOAD, source!.id));
    expect(selected.ebs?.set.members.map((m) => m.snapshotId).sort()).toEqual(parts);
    // While restored: each part shared with the hub only, a volume of each in the hub, tagged as the drill's.
    expect(shareWhileRestored).toEqual([[HUB], [HUB]]);
    expect(volumesWhileRestored.map((v) => v.SnapshotId).sort()).toEqual(parts);
    for (const v of volumesWhileRestored) {
      expect(v.AvailabilityZone).toBe(`${REGION}b`);
      expect(v.Encrypted).toBe(true);
      expect(tagRecord(v.Tags)).toMatchObject({ [Tag.drill]: EXECUTION.name, [Tag.managed]: 'true' });
    }
    expect((available as DrillState).available).toBe(true);
    // After: no drill volume, no share, and the vault's set untouched.
    expect(await drillVolumes()).toEqual([]);
    expect(await Promise.all(parts.map(sharedWith))).toEqual([[], []]);
    expect(cleaned.cleanup?.status).toBe('deleted');
    expect(recorded.result).toMatchObject({ passed: true, outcome: 'passed' });
    const still = (await vault.send(new DescribeSnapshotsCommand({ SnapshotIds: parts }))).Snapshots ?? [];
    expect(still).toHaveLength(2);
    // The workload account never sees the vault's parts.
    await expect(workload.send(new DescribeSnapshotsCommand({ SnapshotIds: [parts[0]!] }))).rejects.toThrow();
  });

  it('after the drill the hub can no longer create a volume from the vault’s parts', async () => {
    await expect(
      hub.send(new CreateVolumeCommand({ AvailabilityZone: `${REGION}a`, SnapshotId: parts[1]! })),
    ).rejects.toMatchObject({ name: 'InvalidSnapshot.NotFound' });
  });
});
