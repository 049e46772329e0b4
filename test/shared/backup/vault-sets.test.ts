import {
  CopySnapshotCommand,
  DescribeSnapshotsCommand,
  type DescribeSnapshotsCommandInput,
  EC2Client,
  EC2ServiceException,
  ModifySnapshotAttributeCommand,
  type Snapshot as Ec2Snapshot,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { setArn } from '../../../shared/aws/ebs.js';
import { ebsVaultShares } from '../../../shared/aws/ebs-vault.js';
import { ebsVaultStore } from '../../../shared/aws/ebs-vault-store.js';
import type { SnapshotLister, VaultShares, VaultStore } from '../../../shared/backup/ports.js';
import { reconcileVault, type VaultDeps } from '../../../shared/backup/vault.js';
import { vaultCopyId } from '../../../shared/fleet/vault.js';
import type { Snapshot } from '../../../shared/model.js';

// The EBS half of the vault flow over the real EC2 adapters, each with its own mocked client: the source
// account's EC2 (share, unshare every part of a set) and the vault's (its sets, what the source shares with
// it, the copy of each part). The RDS half sees nothing to do.
const NOW = new Date('2026-03-01T12:00:00Z');
const ACCOUNT = '222222222222';
const VAULT = '999999999999';
const REGION = 'eu-west-1';
const KEY = 'alias/steward-prod-vault';
const INSTANCE = 'i-0abc1234def567890';

const sourceClient = new EC2Client({ region: REGION });
const vaultClient = new EC2Client({ region: REGION });
const source = mockClient(sourceClient);
const vault = mockClient(vaultClient);

/** Steward's set of `INSTANCE` on `day`, two volumes, as the source region's listing (setsOf) gives it. */
const set = (day = 15, policy = 'daily'): Snapshot => {
  const id = `steward-${INSTANCE}-202601${day}0300-sched`;
  return {
    kind: 'ebs',
    id,
    arn: setArn(REGION, ACCOUNT, id),
    region: REGION,
    sourceId: INSTANCE,
    createdAt: `2026-01-${day}T03:00:05.000Z`,
    status: 'available',
    type: 'manual',
    tags: {
      'steward:managed': 'true',
      'steward:policy': policy,
      'steward:source': INSTANCE,
      'steward:set': id,
      'steward:set-size': '2',
    },
    encrypted: true,
    parts: ['vol-0a', 'vol-0b'].map((volumeId, i) => ({
      id: `snap-${day}${i}000000000000000`,
      volumeId,
      state: 'completed',
      startedAt: `2026-01-${day}T03:00:05.000Z`,
      encrypted: true,
    })),
  };
};

/** The vault's copy of `s`'s parts (by volume), each in the given state, as DescribeSnapshots lists them. */
const copyListed = (s: Snapshot, states: Record<string, string>): Ec2Snapshot[] =>
  (s.parts ?? [])
    .filter((p) => states[p.volumeId] !== undefined)
    .map((p, i) => ({
      SnapshotId: `snap-vault${i}${p.id.slice(5)}`,
      OwnerId: VAULT,
      VolumeId: 'vol-ffffffff',
      State: states[p.volumeId] as Ec2Snapshot['State'],
      StartTime: NOW,
      Encrypted: true,
      Description: `steward ${vaultCopyId(ACCOUNT, s.id)} copy of ${p.id}`,
      Tags: Object.entries({
        'steward:managed': 'true',
        'steward:vault': 'true',
        'steward:created-by': 'vault',
        'steward:policy': 'daily',
        'steward:source': INSTANCE,
        'steward:copied-from': s.arn,
        'steward:source-account': ACCOUNT,
        'steward:source-region': REGION,
        'steward:data-time': s.createdAt!,
        'steward:taken-at': s.createdAt!,
        'steward:set': vaultCopyId(ACCOUNT, s.id),
        'steward:set-size': '2',
        'steward:volume': p.volumeId,
      }).map(([Key, Value]) => ({ Key, Value })),
    }));

/** The vault's answers: its sets (any listing of its own), and the ids the source shares with it. */
const vaultSees = (copies: Ec2Snapshot[], shared: string[] = []) =>
  vault.on(DescribeSnapshotsCommand).callsFake((input: DescribeSnapshotsCommandInput) => {
    if (input.RestorableByUserIds)
      return { Snapshots: shared.map((SnapshotId) => ({ SnapshotId, OwnerId: ACCOUNT })) };
    const wanted = input.Filters?.find((f) => f.Name === 'tag:steward:set')?.Values;
    return {
      Snapshots: copies.filter(
        (c) => !wanted || wanted.includes(c.Tags!.find((t) => t.Key === 'steward:set')!.Value!),
      ),
    };
  });

const lister = (snapshots: Snapshot[]): SnapshotLister => ({
  region: REGION,
  list: (kinds) =>
    Promise.resolve({ snapshots: snapshots.filter((s) => kinds.includes(s.kind)), failures: [] }),
});

// The RDS half: nothing listed, nothing shared; it must never be asked to act.
const noRds: VaultStore = {
  region: REGION,
  copies: () => Promise.resolve([]),
  shared: () => Promise.resolve([]),
  copy: () => Promise.reject(new Error('no RDS copy expected')),
};
const noRdsShares: VaultShares = {
  region: REGION,
  share: () => Promise.reject(new Error('no RDS share expected')),
  unshare: () => Promise.reject(new Error('no RDS unshare expected')),
  reencrypt: () => Promise.reject(new Error('no RDS re-encryption expected')),
  remove: () => Promise.reject(new Error('no RDS delete expected')),
};

const deps = (snapshots: Snapshot[], maxInFlight = 20): VaultDeps => ({
  account: ACCOUNT,
  region: REGION,
  vaultAccount: VAULT,
  vaultKey: KEY,
  policies: ['daily'],
  maxInFlight: 20,
  maxClusterInFlight: 5,
  sources: lister(snapshots),
  shares: noRdsShares,
  vault: noRds,
  sets: {
    shares: ebsVaultShares(REGION, sourceClient),
    vault: ebsVaultStore(REGION, vaultClient),
    maxInFlight,
  },
});

const ec2Error = (name: string, message = name) =>
  new EC2ServiceException({ name, $fault: 'client', $metadata: {}, message });

beforeEach(() => {
  source.reset();
  vault.reset();
  source.on(ModifySnapshotAttributeCommand).resolves({});
  vault.on(CopySnapshotCommand).resolves({ SnapshotId: 'snap-new' });
});

describe('reconcileVault over EBS snapshot sets', () => {
  it('shares every part with the vault account, then the vault copies each with its key and the set tags', async () => {
    // Prepare
    const s = set();
    vaultSees([]);
    // Act
    const r = await reconcileVault(deps([s]), false, NOW);
    // Assert: both parts shared (createVolumePermission, the vault account only), both copied in the vault.
    for (const p of s.parts!)
      expect(source).toHaveReceivedCommandWith(ModifySnapshotAttributeCommand, {
        SnapshotId: p.id,
        Attribute: 'createVolumePermission',
        OperationType: 'add',
        UserIds: [VAULT],
      });
    const target = vaultCopyId(ACCOUNT, s.id);
    expect(vault).toHaveReceivedCommandTimes(CopySnapshotCommand, 2);
    const copies = vault.commandCalls(CopySnapshotCommand).map((c) => c.args[0].input);
    expect(copies.map((c) => c.SourceSnapshotId)).toEqual(s.parts!.map((p) => p.id));
    for (const [i, c] of copies.entries()) {
      expect(c).toMatchObject({ SourceRegion: REGION, Encrypted: true, KmsKeyId: KEY });
      const tags = Object.fromEntries(c.TagSpecifications![0]!.Tags!.map((t) => [t.Key, t.Value]));
      expect(tags).toMatchObject({
        'steward:managed': 'true',
        'steward:vault': 'true',
        'steward:created-by': 'vault',
        'steward:set': target,
        'steward:set-size': '2',
        'steward:volume': s.parts![i]!.volumeId,
        'steward:source': INSTANCE,
        'steward:source-account': ACCOUNT,
        'steward:source-region': REGION,
        'steward:copied-from': s.arn,
        'steward:data-time': s.createdAt,
        'steward:taken-at': s.createdAt,
      });
    }
    expect(source).not.toHaveReceivedCommand(CopySnapshotCommand);
    expect(vault).not.toHaveReceivedCommand(ModifySnapshotAttributeCommand);
    expect(r.outcomes).toEqual([
      { resource: `ebs ${INSTANCE} (set ${s.id})`, action: 'copy-to-vault', status: 'done', detail: target },
    ]);
  });

  it('unshares each part once the vault copy settled, and starts nothing more', async () => {
    const s = set();
    vaultSees(
      copyListed(s, { 'vol-0a': 'completed', 'vol-0b': 'completed' }),
      s.parts!.map((p) => p.id),
    );
    const r = await reconcileVault(deps([s]), false, NOW);
    expect(vault).not.toHaveReceivedCommand(CopySnapshotCommand);
    for (const p of s.parts!)
      expect(source).toHaveReceivedCommandWith(ModifySnapshotAttributeCommand, {
        SnapshotId: p.id,
        OperationType: 'remove',
        UserIds: [VAULT],
      });
    expect(
      r.outcomes.map((o) => [o.resource, o.action, o.status, 'detail' in o ? o.detail : undefined]),
    ).toEqual(s.parts!.map((p) => [`${p.id} (set ${s.id})`, 'unshare-from-vault', 'done', 'copied']));
  });

  it('keeps a part shared while its copy is pending, and unshares the part whose copy failed', async () => {
    const s = set();
    vaultSees(
      copyListed(s, { 'vol-0a': 'pending', 'vol-0b': 'error' }),
      s.parts!.map((p) => p.id),
    );
    const r = await reconcileVault(deps([s]), false, NOW);
    expect(source).toHaveReceivedCommandTimes(ModifySnapshotAttributeCommand, 1);
    expect(source).toHaveReceivedCommandWith(ModifySnapshotAttributeCommand, {
      SnapshotId: s.parts![1]!.id,
      OperationType: 'remove',
    });
    expect(vault).not.toHaveReceivedCommand(CopySnapshotCommand);
    expect(r.outcomes).toEqual([
      expect.objectContaining({ action: 'unshare-from-vault', status: 'done', detail: 'copy-failed' }),
      expect.objectContaining({
        resource: `ebs ${INSTANCE}`,
        action: 'copy-to-vault',
        status: 'skipped',
        reason: expect.stringMatching(/^copy-failed: vault copy set .* failed; it stays in the vault/),
      }),
    ]);
  });

  it('reports each aws/ebs-key snapshot on its own, copies nothing of its set, and takes back the shares it made', async () => {
    // Prepare: EBS shares the first part and refuses the second (encrypted with the default key).
    const s = set();
    vaultSees([]);
    source
      .on(ModifySnapshotAttributeCommand, { SnapshotId: s.parts![1]!.id, OperationType: 'add' })
      .rejects(
        ec2Error(
          'InvalidParameterValue',
          "Snapshots encrypted with the AWS Managed CMK can't be shared. Try again with a different key.",
        ),
      );
    // Act
    const r = await reconcileVault(deps([s]), false, NOW);
    // Assert
    expect(vault).not.toHaveReceivedCommand(CopySnapshotCommand);
    expect(source).toHaveReceivedCommandWith(ModifySnapshotAttributeCommand, {
      SnapshotId: s.parts![0]!.id,
      OperationType: 'remove',
      UserIds: [VAULT],
    });
    expect(r.outcomes).toEqual([
      expect.objectContaining({
        resource: `ebs ${INSTANCE} (set ${s.id})`,
        action: 'copy-to-vault',
        status: 'skipped',
        reason: 'not copied: 1 of 2 snapshots cannot be shared with the vault (aws/ebs key)',
      }),
      expect.objectContaining({
        resource: `ebs snapshot ${s.parts![1]!.id} (volume vol-0b, set ${s.id})`,
        action: 'share-with-vault',
        status: 'failed',
        error: expect.stringContaining('encrypted with the AWS-managed aws/ebs key'),
      }),
    ]);
  });

  it('fails the set when a share is refused otherwise, and takes back the shares it made', async () => {
    const s = set();
    vaultSees([]);
    source
      .on(ModifySnapshotAttributeCommand, { SnapshotId: s.parts![1]!.id, OperationType: 'add' })
      .rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'));
    const r = await reconcileVault(deps([s]), false, NOW);
    expect(vault).not.toHaveReceivedCommand(CopySnapshotCommand);
    expect(source).toHaveReceivedCommandWith(ModifySnapshotAttributeCommand, {
      SnapshotId: s.parts![0]!.id,
      OperationType: 'remove',
    });
    expect(r.outcomes).toEqual([
      expect.objectContaining({
        resource: `ebs ${INSTANCE} (set ${s.id})`,
        action: 'share-with-vault',
        status: 'failed',
        error: expect.stringContaining('UnauthorizedOperation'),
      }),
    ]);
  });

  it('a copy failing half-way keeps the started part shared and takes back the other', async () => {
    // Prepare: the first part's copy starts, the second is refused.
    const s = set();
    vaultSees([]);
    vault
      .on(CopySnapshotCommand, { SourceSnapshotId: s.parts![1]!.id })
      .rejects(ec2Error('ResourceLimitExceeded'));
    // Act
    const r = await reconcileVault(deps([s]), false, NOW);
    // Assert
    const removed = source
      .commandCalls(ModifySnapshotAttributeCommand)
      .map((c) => c.args[0].input)
      .filter((i) => i.OperationType === 'remove')
      .map((i) => i.SnapshotId);
    expect(removed).toEqual([s.parts![1]!.id]);
    expect(r.outcomes).toEqual([
      expect.objectContaining({
        resource: `ebs ${INSTANCE} (set ${s.id})`,
        action: 'copy-to-vault',
        status: 'failed',
        error: expect.stringContaining('20 EBS snapshot copies are already in flight'),
      }),
    ]);
  });

  it('completes a set whose vault copy stopped half-way: shares and copies only the missing part', async () => {
    const s = set();
    vaultSees(copyListed(s, { 'vol-0a': 'completed' }), []);
    const r = await reconcileVault(deps([s]), false, NOW);
    expect(source).toHaveReceivedCommandTimes(ModifySnapshotAttributeCommand, 1);
    expect(source).toHaveReceivedCommandWith(ModifySnapshotAttributeCommand, {
      SnapshotId: s.parts![1]!.id,
      OperationType: 'add',
    });
    expect(vault).toHaveReceivedCommandTimes(CopySnapshotCommand, 1);
    expect(vault).toHaveReceivedCommandWith(CopySnapshotCommand, { SourceSnapshotId: s.parts![1]!.id });
    expect(r.outcomes).toEqual([expect.objectContaining({ action: 'copy-to-vault', status: 'done' })]);
  });

  it('plans without sending anything in a dry run', async () => {
    const s = set();
    vaultSees([]);
    const r = await reconcileVault(deps([s]), true, NOW);
    expect(source).not.toHaveReceivedCommand(ModifySnapshotAttributeCommand);
    expect(vault).not.toHaveReceivedCommand(CopySnapshotCommand);
    expect(r.outcomes).toEqual([
      {
        resource: `ebs ${INSTANCE} (set ${s.id})`,
        action: 'copy-to-vault',
        status: 'planned',
        detail: vaultCopyId(ACCOUNT, s.id),
      },
    ]);
  });

  it('lists what the source shares with the vault by owner and restorable-by, every page', async () => {
    // Prepare
    const store = ebsVaultStore(REGION, vaultClient);
    vault
      .on(DescribeSnapshotsCommand)
      .resolvesOnce({ Snapshots: [{ SnapshotId: 'snap-1' }], NextToken: 't' })
      .resolves({ Snapshots: [{ SnapshotId: 'snap-2' }] });
    // Act
    const ids = await store.shared(ACCOUNT);
    // Assert
    expect(ids).toEqual(['snap-1', 'snap-2']);
    expect(vault).toHaveReceivedCommandWith(DescribeSnapshotsCommand, {
      OwnerIds: [ACCOUNT],
      RestorableByUserIds: ['self'],
    });
    expect(vault.commandCalls(DescribeSnapshotsCommand)[1]!.args[0].input.NextToken).toBe('t');
  });

  it('answers a part that is gone, and a refused unshare is an error', async () => {
    const shares = ebsVaultShares(REGION, sourceClient);
    source
      .on(ModifySnapshotAttributeCommand, { OperationType: 'add' })
      .rejects(ec2Error('InvalidSnapshot.NotFound'));
    source
      .on(ModifySnapshotAttributeCommand, { OperationType: 'remove' })
      .rejects(ec2Error('UnauthorizedOperation'));
    expect(await shares.share('snap-1', VAULT)).toBe('gone');
    await expect(shares.unshare('snap-1', VAULT)).rejects.toThrow(
      /ModifySnapshotAttribute failed.*UnauthorizedOperation/,
    );
  });
});
