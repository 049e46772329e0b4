import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  type Snapshot as Ec2Snapshot,
} from '@aws-sdk/client-ec2';
import { beforeAll, describe, expect, it } from 'vitest';
import { snapshotId } from '../../shared/backup/ids.js';
import { reconcileVault, type VaultDeps } from '../../shared/backup/vault.js';
import { vaultCopyId, vaultKeyAlias } from '../../shared/fleet/vault.js';
import { memoryDeletionBudget } from '../../shared/retention/memory-budget.js';
import { runVaultRetention } from '../../shared/retention/vault.js';
import { Tag, tagRecord } from '../../shared/tags.js';
import { useMotoEnvironment } from '../support/moto.js';
import {
  backedUpSet,
  instanceWithDataVolume,
  intoVault,
  SHARED_COPY_MOTO,
  VAULT,
  vaultRetentionStore,
  vaultRoles,
  vaultStage,
  WORKLOAD,
  workloadVaultDeps,
} from '../support/vault-moto.js';

// EBS snapshot sets into the backup vault, end to end over real HTTP against moto with three accounts: the
// hub (moto's default account), a workload account and the vault account, each reached through STS AssumeRole
// with the shipped credentials provider. moto 5.2.1 stores a snapshot's createVolumePermission but neither
// copies another account's shared snapshot nor lists it by owner: test/support/moto-shared-copy.py adds
// exactly that, only while the owner shares it, as AWS does. moto does not check KMS keys on EBS copies
// (the key is asserted as sent), makes copies `completed` at once (so the unshare follows in the next run),
// and does not model the aws/ebs refusal (proven with mocks: test/shared/backup/vault-sets.test.ts).
const REGION = 'eu-west-1';

const config = vaultStage(REGION, { backup: { policies: { daily: { kinds: ['ebs'] } } } });

describe('EBS snapshot sets in the backup vault, against moto with three accounts', () => {
  useMotoEnvironment(REGION, { script: SHARED_COPY_MOTO, emptyAmis: true });
  let workload: EC2Client;
  let vault: EC2Client;
  let deps: VaultDeps;
  let instanceId = '';
  let handMade = '';

  const setIdOf = (day: number) => snapshotId(instanceId, new Date(`2026-01-${day}T03:00:00Z`), 'sched');
  // Snapshots that carry a set tag.
  const own = async (ec2: EC2Client): Promise<Ec2Snapshot[]> =>
    (
      await ec2.send(
        new DescribeSnapshotsCommand({
          OwnerIds: ['self'],
          Filters: [{ Name: 'tag-key', Values: [Tag.set] }],
        }),
      )
    ).Snapshots ?? [];
  const exists = async (ec2: EC2Client, id: string) =>
    (
      (
        await ec2.send(
          new DescribeSnapshotsCommand({
            OwnerIds: ['self'],
            Filters: [{ Name: 'snapshot-id', Values: [id] }],
          }),
        )
      ).Snapshots ?? []
    ).length === 1;
  const sharedWith = async (id: string) =>
    (
      (
        await workload.send(
          new DescribeSnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission' }),
        )
      ).CreateVolumePermissions ?? []
    ).map((p) => p.UserId);
  const takeSet = (day: number) =>
    backedUpSet(workload, REGION, instanceId, new Date(`2026-01-${day}T03:00:00Z`));
  const partsOf = async (setId: string) =>
    (await own(workload)).filter((s) => tagRecord(s.Tags)[Tag.set] === setId).map((s) => s.SnapshotId!);

  beforeAll(async () => {
    const roles = vaultRoles(config, REGION);
    workload = new EC2Client({ region: REGION, credentials: roles.workload });
    vault = new EC2Client({ region: REGION, credentials: roles.vault });

    // The workload account: an instance with a data volume (a set of two), and a hand-made snapshot.
    const { instanceId: id, dataVolume: data } = await instanceWithDataVolume(workload, REGION);
    instanceId = id;
    handMade = (await workload.send(new CreateSnapshotCommand({ VolumeId: data, Description: 'hand-made' })))
      .SnapshotId!;

    deps = workloadVaultDeps(config, REGION, roles, true);
  });

  it('shares each part with the vault, copies the set into the vault account with the vault key and tags, then unshares', async () => {
    // Prepare
    const setId = await takeSet(14);
    const parts = await partsOf(setId);
    expect(parts).toHaveLength(2);

    // Act: the first run shares and copies; moto's copies complete at once.
    const first = await reconcileVault(deps, false, new Date('2026-01-14T04:00:00Z'));

    // Assert: the vault account holds the set's two parts, tagged as the vault's copy of this set.
    expect(first.outcomes).toEqual([
      expect.objectContaining({
        action: 'copy-to-vault',
        status: 'done',
        detail: vaultCopyId(WORKLOAD, setId),
      }),
    ]);
    for (const id of parts) expect(await sharedWith(id)).toEqual([VAULT]);
    const copies = await own(vault);
    expect(copies).toHaveLength(2);
    for (const c of copies) {
      expect(c.OwnerId).toBe(VAULT);
      expect(c.KmsKeyId).toBe(vaultKeyAlias(config));
      expect(tagRecord(c.Tags)).toMatchObject({
        [Tag.managed]: 'true',
        'steward:vault': 'true',
        [Tag.set]: vaultCopyId(WORKLOAD, setId),
        [Tag.setSize]: '2',
        [Tag.source]: instanceId,
        'steward:source-account': WORKLOAD,
        'steward:source-region': REGION,
      });
    }
    // Nothing of the vault is visible in the workload account, and the hand-made snapshot was never shared.
    for (const c of copies) expect(await exists(workload, c.SnapshotId!)).toBe(false);
    expect(await sharedWith(handMade)).toEqual([]);

    // Act: the next run finds the copies settled and takes the shares back.
    const second = await reconcileVault(deps, false, new Date('2026-01-14T05:00:00Z'));

    // Assert
    expect(second.outcomes.map((o) => [o.action, o.status])).toEqual([
      ['unshare-from-vault', 'done'],
      ['unshare-from-vault', 'done'],
    ]);
    for (const id of parts) expect(await sharedWith(id)).toEqual([]);
    expect(await own(vault)).toHaveLength(2);
  });

  it('the workload account cannot delete a vault copy: it is not there to delete', async () => {
    const [copy] = await own(vault);
    await expect(
      workload.send(new DeleteSnapshotCommand({ SnapshotId: copy!.SnapshotId! })),
    ).rejects.toThrow();
    expect(await own(vault)).toHaveLength(2);
  });

  it('vault retention, with the vault retention role, expires the older set whole and leaves a hand-made vault snapshot', async () => {
    // Prepare: a newer set reaches the vault (copy, then unshare), and the vault holds one hand-made snapshot.
    await takeSet(15);
    await intoVault(deps, new Date('2026-01-15T04:00:00Z'), new Date('2026-01-15T05:00:00Z'));
    const vaultVolume = (
      await vault.send(new CreateVolumeCommand({ AvailabilityZone: `${REGION}a`, Size: 1 }))
    ).VolumeId!;
    const foreign = (
      await vault.send(
        new CreateSnapshotCommand({
          VolumeId: vaultVolume,
          TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: Tag.set, Value: 'hand-made' }] }],
        }),
      )
    ).SnapshotId!;
    expect(await own(vault)).toHaveLength(5);
    const store = vaultRetentionStore(REGION, vaultRoles(config, REGION), true);
    const policy = {
      name: 'vault',
      policy: { ...config.retention.policies.standard!, daily: 1, keepAtLeast: 1 },
    };

    // Act
    const r = await runVaultRetention(
      {
        store,
        policy,
        limits: { floor: 100, dueMultiple: 2, safetyCap: 2000 },
        budget: memoryDeletionBudget(),
        now: () => new Date('2026-03-01T12:00:00Z'),
      },
      false,
    );

    // Assert: the older set's two parts are gone, the newer set's two stay, the hand-made one is untouched.
    expect(r.outcomes).toEqual([
      { resource: vaultCopyId(WORKLOAD, setIdOf(14)), action: 'expire-vault-copy', status: 'done' },
    ]);
    const left = await own(vault);
    expect(left.map((s) => tagRecord(s.Tags)[Tag.set]).sort()).toEqual(
      ['hand-made', vaultCopyId(WORKLOAD, setIdOf(15)), vaultCopyId(WORKLOAD, setIdOf(15))].sort(),
    );
    expect(left.map((s) => s.SnapshotId)).toContain(foreign);
    expect(await exists(vault, foreign)).toBe(true);
    // The workload's own sets and hand-made snapshot are the workload's: untouched.
    expect(await exists(workload, handMade)).toBe(true);
  });
});
