import {
  CreateVolumeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { ebsBackup } from '../../shared/aws/ebs.js';
import { ec2EbsDrillPort, ec2SnapshotSets } from '../../shared/aws/ebs-drill.js';
import { withEbsVaultSets } from '../../shared/aws/ebs-vault-drill.js';
import { rdsStagedCopies, rdsVaultDrillPort } from '../../shared/aws/vault-drill.js';
import type { DrillState } from '../../shared/drill/state.js';
import { vaultCopyId } from '../../shared/fleet/vault.js';
import { Tag, tagRecord } from '../../shared/tags.js';
import { fakeRestorePort } from '../fakes/drill-ports.js';
import { useMotoEnvironment } from '../support/moto.js';
import {
  backedUpSet,
  DRILL_EXECUTION as EXECUTION,
  ebsSharedWith,
  HUB,
  instanceWithDataVolume,
  intoVault,
  quietMetrics,
  SHARED_COPY_MOTO,
  VAULT,
  vaultDrill,
  vaultRoles,
  vaultStage,
  WORKLOAD,
  workloadVaultDeps,
} from '../support/vault-moto.js';

// An EBS drill from the backup vault, end to end over real HTTP against moto with three accounts: a workload
// account's instance is backed up and its set copied into the vault (the backup's own vault flow, as the spoke
// and vault copy roles), then the hub's drill restores the vault's copy through the real adapters: the vault drill
// role (assumed through STS) shares each part with the hub, the hub creates its volumes from the shared parts, and
// cleanup deletes the volumes and takes the shares back. moto 5.2.1 neither copies nor creates a volume from
// another account's shared snapshot: test/support/moto-shared-copy.py adds exactly that, only while the owner
// shares it. moto checks no KMS key and makes volumes available at once; the state table ledger is the in-memory
// fake here (its contract runs over moto's DynamoDB in test/shared/aws/vault-share-ledger.test.ts).
// The hub is moto's default account: the hub's own credentials.
const REGION = 'eu-west-1';

describe('an EBS drill from the backup vault, against moto with three accounts', () => {
  useMotoEnvironment(REGION, { script: SHARED_COPY_MOTO });
  quietMetrics();
  let instanceId = '';
  let hub: EC2Client;
  let vault: EC2Client;
  let workload: EC2Client;
  let parts: string[] = [];
  let task: ReturnType<typeof vaultDrill>['task'];
  let restore: ReturnType<typeof vaultDrill>['restore'];

  const config = () =>
    vaultStage(REGION, {
      backup: { policies: { daily: { kinds: ['ebs'] } } },
      drill: {
        enabled: true,
        volumes: { [instanceId]: { from: 'vault', account: WORKLOAD, rpoSeconds: 86_400 * 30 } },
      },
    });

  const sharedWith = (id: string) => ebsSharedWith(vault, id);
  const drillVolumes = async () =>
    (
      (await hub.send(new DescribeVolumesCommand({ Filters: [{ Name: 'tag-key', Values: [Tag.drill] }] })))
        .Volumes ?? []
    ).filter((v) => v.State !== 'deleted');

  beforeAll(async () => {
    // (the roles depend on the stage alone: the drill's volume is not known yet)
    const roles = vaultRoles(vaultStage(REGION), REGION);
    hub = new EC2Client({ region: REGION });
    workload = new EC2Client({ region: REGION, credentials: roles.workload });

    // The workload account: an instance with a data volume, backed up as one set of two parts.
    ({ instanceId } = await instanceWithDataVolume(workload, REGION));
    const setId = await backedUpSet(workload, REGION, instanceId, new Date('2026-01-31T03:00:00Z'));

    // Into the vault with the backup's own flow (share, copy, then unshare once the copies completed).
    await intoVault(
      workloadVaultDeps(config(), REGION, roles, true),
      new Date('2026-01-31T04:00:00Z'),
      new Date('2026-01-31T05:00:00Z'),
    );

    // The hub's drill, wired as the drill function wires it: the vault side as the vault drill role.
    vault = new EC2Client({ region: REGION, credentials: roles.drill });
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
    ({ task, restore } = vaultDrill(config, {
      restore: fakeRestorePort(REGION),
      ebs: {
        sets: ec2SnapshotSets(REGION, hub),
        volumes: ec2EbsDrillPort(REGION, hub),
        availabilityZone: `${REGION}b`,
      },
      vault: withEbsVaultSets(
        rdsVaultDrillPort(REGION, new RDSClient({ region: REGION, credentials: roles.drill }), VAULT),
        vault,
      ),
      staging: rdsStagedCopies(REGION, new RDSClient({ region: REGION })),
    }));
  });

  it('the hub cannot create a volume from a vault part it is not shared', async () => {
    expect(parts).toHaveLength(2);
    await expect(
      hub.send(new CreateVolumeCommand({ AvailabilityZone: `${REGION}a`, SnapshotId: parts[0]! })),
    ).rejects.toMatchObject({ name: 'InvalidSnapshot.NotFound' });
  });

  it('restores the workload instance’s vault set in the hub through shared parts, then deletes the volumes and unshares', async () => {
    // Act: select, restore (shares, then creates), status, cleanup, record
    const { selected, restored } = await restore(instanceId);
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
