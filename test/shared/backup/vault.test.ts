import {
  CopyDBSnapshotCommand,
  DBSnapshotAlreadyExistsFault,
  DescribeDBClusterSnapshotsCommand,
  DeleteDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
  RDSServiceException,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rdsVaultShares, rdsVaultStore } from '../../../shared/aws/vault.js';
import type { SnapshotLister } from '../../../shared/backup/ports.js';
import { reconcileVault, type VaultDeps } from '../../../shared/backup/vault.js';
import { reencryptedId, vaultCopyId } from '../../../shared/fleet/vault.js';
import type { Snapshot } from '../../../shared/model.js';

// The vault flow over the real adapters, each with its own mocked client: the source account's RDS (share,
// unshare) and the vault's (its copies, what is shared with it, the copy).
const NOW = new Date('2026-03-01T12:00:00Z');
const ACCOUNT = '222222222222';
const VAULT = '999999999999';
const REGION = 'eu-west-1';
const KEY = 'alias/steward-prod-vault';

const sourceClient = new RDSClient({ region: REGION });
const vaultClient = new RDSClient({ region: REGION });
const source = mockClient(sourceClient);
const vault = mockClient(vaultClient);

const snap = (db: string, day = 15): Snapshot => {
  const id = `steward-${db}-202601${day}0300-sched`;
  return {
    kind: 'rds-instance',
    id,
    arn: `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:${id}`,
    region: REGION,
    sourceId: db,
    createdAt: `2026-01-${day}T03:05:00.000Z`,
    status: 'available',
    type: 'manual',
    tags: { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': db },
    encrypted: true,
  };
};

const lister = (snapshots: Snapshot[]): SnapshotLister => ({
  region: REGION,
  list: () => Promise.resolve({ snapshots, failures: [] }),
});

const deps = (snapshots: Snapshot[], shareKey?: string): VaultDeps => ({
  ...(shareKey ? { shareKey } : {}),
  account: ACCOUNT,
  region: REGION,
  vaultAccount: VAULT,
  vaultKey: KEY,
  policies: ['daily'],
  maxInFlight: 20,
  maxClusterInFlight: 5,
  sources: lister(snapshots),
  shares: rdsVaultShares(REGION, sourceClient),
  vault: rdsVaultStore(REGION, vaultClient),
});

/** The vault's listing: its own copies (manual) and the snapshots shared with it. */
const vaultSees = (copies: object[], shared: object[] = []) => {
  vault.on(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' }).resolves({ DBSnapshots: copies });
  vault
    .on(DescribeDBSnapshotsCommand, { SnapshotType: 'shared', IncludeShared: true })
    .resolves({ DBSnapshots: shared });
  vault.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
};

const copyListed = (s: Snapshot, status: string) => ({
  DBSnapshotIdentifier: vaultCopyId(ACCOUNT, s.id),
  DBSnapshotArn: `arn:aws:rds:${REGION}:${VAULT}:snapshot:${vaultCopyId(ACCOUNT, s.id)}`,
  DBInstanceIdentifier: s.sourceId,
  Status: status,
  SnapshotType: 'manual',
  TagList: [
    { Key: 'steward:managed', Value: 'true' },
    { Key: 'steward:vault', Value: 'true' },
    { Key: 'steward:created-by', Value: 'vault' },
    { Key: 'steward:source', Value: s.sourceId },
    { Key: 'steward:copied-from', Value: s.arn },
    { Key: 'steward:source-account', Value: ACCOUNT },
    { Key: 'steward:source-region', Value: REGION },
    { Key: 'steward:data-time', Value: s.createdAt! },
  ],
});
const sharedListed = (s: Snapshot) => ({
  DBSnapshotIdentifier: s.arn,
  DBSnapshotArn: s.arn,
  Status: 'available',
  SnapshotType: 'shared',
});

const denied = () =>
  new RDSServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: {},
    message: 'not authorized',
  });

beforeEach(() => {
  source.reset();
  vault.reset();
  source.on(ModifyDBSnapshotAttributeCommand).resolves({});
  vault.on(CopyDBSnapshotCommand).resolves({});
});

describe('reconcileVault', () => {
  it('shares the snapshot with the vault account, then the vault copies it with its key', async () => {
    // Prepare
    const s = snap('orders');
    vaultSees([]);
    // Act
    const r = await reconcileVault(deps([s]), false, NOW);
    // Assert: share first, with the vault account; the copy in the vault, by ARN, with the vault key.
    expect(source).toHaveReceivedCommandWith(ModifyDBSnapshotAttributeCommand, {
      DBSnapshotIdentifier: s.id,
      AttributeName: 'restore',
      ValuesToAdd: [VAULT],
    });
    expect(vault).toHaveReceivedCommandWith(CopyDBSnapshotCommand, {
      SourceDBSnapshotIdentifier: s.arn,
      TargetDBSnapshotIdentifier: vaultCopyId(ACCOUNT, s.id),
      KmsKeyId: KEY,
    });
    expect(source).not.toHaveReceivedCommand(CopyDBSnapshotCommand);
    expect(vault).not.toHaveReceivedCommand(ModifyDBSnapshotAttributeCommand);
    expect(r.outcomes).toEqual([
      {
        resource: 'rds-instance orders',
        action: 'copy-to-vault',
        status: 'done',
        detail: vaultCopyId(ACCOUNT, s.id),
      },
    ]);
  });

  it('unshares once the copy is available, and starts nothing more', async () => {
    const s = snap('orders');
    vaultSees([copyListed(s, 'available')], [sharedListed(s)]);
    const r = await reconcileVault(deps([s]), false, NOW);
    expect(source).toHaveReceivedCommandTimes(ModifyDBSnapshotAttributeCommand, 1);
    expect(source).toHaveReceivedCommandWith(ModifyDBSnapshotAttributeCommand, {
      DBSnapshotIdentifier: s.id,
      AttributeName: 'restore',
      ValuesToRemove: [VAULT],
    });
    expect(vault).not.toHaveReceivedCommand(CopyDBSnapshotCommand);
    expect(r.outcomes).toEqual([
      { resource: s.id, action: 'unshare-from-vault', status: 'done', detail: 'copied' },
    ]);
  });

  it('keeps the share while the copy is in flight', async () => {
    const s = snap('orders');
    vaultSees([copyListed(s, 'copying')], [sharedListed(s)]);
    const r = await reconcileVault(deps([s]), false, NOW);
    expect(source).not.toHaveReceivedCommand(ModifyDBSnapshotAttributeCommand);
    expect(r.outcomes).toEqual([]);
  });

  it('is idempotent on retry: a copy that already exists counts as done', async () => {
    // Prepare: the first attempt started the copy, but the vault's listing does not show it yet.
    const s = snap('orders');
    vaultSees([]);
    vault
      .on(CopyDBSnapshotCommand)
      .rejects(new DBSnapshotAlreadyExistsFault({ message: 'exists', $metadata: {} }));
    // Act
    const r = await reconcileVault(deps([s]), false, NOW);
    // Assert
    expect(r.outcomes).toEqual([
      {
        resource: 'rds-instance orders',
        action: 'copy-to-vault',
        status: 'already-done',
        detail: vaultCopyId(ACCOUNT, s.id),
      },
    ]);
  });

  it('does not copy what it could not share', async () => {
    vaultSees([]);
    source.on(ModifyDBSnapshotAttributeCommand).rejects(denied());
    const r = await reconcileVault(deps([snap('orders')]), false, NOW);
    expect(vault).not.toHaveReceivedCommand(CopyDBSnapshotCommand);
    expect(r.outcomes).toEqual([
      expect.objectContaining({
        resource: 'rds-instance orders',
        action: 'share-with-vault',
        status: 'failed',
      }),
    ]);
  });

  it('unshares at once when the copy fails, and reports both if that fails too', async () => {
    // Prepare
    const s = snap('orders');
    vaultSees([]);
    vault.on(CopyDBSnapshotCommand).rejects(denied());
    source
      .on(ModifyDBSnapshotAttributeCommand, { ValuesToRemove: [VAULT] })
      .rejectsOnce(denied())
      .resolves({});
    // Act
    const first = await reconcileVault(deps([s]), false, NOW);
    const second = await reconcileVault(deps([s]), false, NOW);
    // Assert
    expect(first.outcomes.map((o) => `${o.action} ${o.status}`)).toEqual([
      'copy-to-vault failed',
      'unshare-from-vault failed',
    ]);
    expect(second.outcomes.map((o) => `${o.action} ${o.status}`)).toEqual(['copy-to-vault failed']);
    expect(source).toHaveReceivedCommandWith(ModifyDBSnapshotAttributeCommand, { ValuesToRemove: [VAULT] });
  });

  it("copies the other databases when one fails: one database's failure is its own", async () => {
    // Prepare
    const [a, b, c] = [snap('a'), snap('b'), snap('c')];
    vaultSees([]);
    vault.on(CopyDBSnapshotCommand, { SourceDBSnapshotIdentifier: b.arn }).rejects(denied());
    // Act
    const r = await reconcileVault(deps([a, b, c]), false, NOW);
    // Assert
    expect(r.outcomes.map((o) => `${o.resource} ${o.action} ${o.status}`)).toEqual([
      'rds-instance a copy-to-vault done',
      'rds-instance b copy-to-vault failed',
      'rds-instance c copy-to-vault done',
    ]);
    expect(vault).toHaveReceivedCommandTimes(CopyDBSnapshotCommand, 3);
  });

  it('plans and changes nothing in a dry run', async () => {
    const s = snap('orders');
    const t = snap('stale', 14);
    vaultSees([], [sharedListed(t)]);
    const r = await reconcileVault(deps([s]), true, NOW);
    expect(source).not.toHaveReceivedCommand(ModifyDBSnapshotAttributeCommand);
    expect(vault).not.toHaveReceivedCommand(CopyDBSnapshotCommand);
    expect(r.outcomes.map((o) => `${o.action} ${o.status}`)).toEqual([
      'copy-to-vault planned',
      'unshare-from-vault planned',
    ]);
  });

  describe('a snapshot encrypted with the AWS-managed aws/rds key', () => {
    const SHARE_KEY = 'alias/steward-prod-vault-share';
    const defaultKey = () =>
      new RDSServiceException({
        name: 'InvalidParameterValue',
        $fault: 'client',
        $metadata: {},
        message: "You can't share a snapshot encrypted with the default KMS key",
      });
    /** Steward's re-encrypted copy of `s`, as the source account lists it. */
    const reencrypted = (s: Snapshot, status: string): Snapshot => {
      const id = reencryptedId(s.id);
      return {
        ...s,
        id,
        arn: `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:${id}`,
        status,
        createdAt: '2026-03-01T11:00:00.000Z',
        tags: {
          'steward:managed': 'true',
          'steward:source': s.sourceId,
          'steward:created-by': 'backup',
          'steward:retain-until': '2026-03-08T11:00:00.000Z',
          'steward:reencrypted-from': s.arn,
          'steward:data-time': s.createdAt!,
        },
      };
    };

    it('is copied re-encrypted with the share key in its own account, and nothing reaches the vault yet', async () => {
      // Prepare
      const s = snap('orders');
      vaultSees([]);
      source.on(ModifyDBSnapshotAttributeCommand).rejects(defaultKey());
      source.on(CopyDBSnapshotCommand).resolves({});
      // Act
      const r = await reconcileVault(deps([s], SHARE_KEY), false, NOW);
      // Assert: a same-account copy by id with the share key, tagged as steward's with no policy, kept 7 days at most.
      expect(source).toHaveReceivedCommandWith(CopyDBSnapshotCommand, {
        SourceDBSnapshotIdentifier: s.id,
        TargetDBSnapshotIdentifier: reencryptedId(s.id),
        KmsKeyId: SHARE_KEY,
      });
      const tags = Object.fromEntries(
        (source.commandCalls(CopyDBSnapshotCommand)[0]!.args[0].input.Tags ?? []).map((t) => [
          t.Key,
          t.Value,
        ]),
      );
      expect(tags).toEqual({
        'steward:managed': 'true',
        'steward:source': 'orders',
        'steward:created-by': 'backup',
        'steward:retain-until': '2026-03-08T12:00:00.000Z',
        'steward:reencrypted-from': s.arn,
        'steward:data-time': s.createdAt,
      });
      expect(vault).not.toHaveReceivedCommand(CopyDBSnapshotCommand);
      expect(r.outcomes).toEqual([
        expect.objectContaining({
          resource: 'rds-instance orders',
          action: 'reencrypt-for-vault',
          status: 'done',
        }),
      ]);
    });

    it('waits while the re-encryption runs, then shares that copy and the vault copies it as the original', async () => {
      // Prepare
      const s = snap('orders');
      vaultSees([]);
      // Act: while copying, nothing; once available, share and copy.
      const waiting = await reconcileVault(deps([s, reencrypted(s, 'copying')], SHARE_KEY), false, NOW);
      const r = await reconcileVault(deps([s, reencrypted(s, 'available')], SHARE_KEY), false, NOW);
      // Assert
      expect(waiting.outcomes).toEqual([]);
      expect(source).toHaveReceivedCommandTimes(ModifyDBSnapshotAttributeCommand, 1);
      expect(source).toHaveReceivedCommandWith(ModifyDBSnapshotAttributeCommand, {
        DBSnapshotIdentifier: reencryptedId(s.id),
        ValuesToAdd: [VAULT],
      });
      expect(vault).toHaveReceivedCommandWith(CopyDBSnapshotCommand, {
        SourceDBSnapshotIdentifier: reencrypted(s, 'available').arn,
        TargetDBSnapshotIdentifier: vaultCopyId(ACCOUNT, s.id),
        KmsKeyId: KEY,
        Tags: expect.arrayContaining([
          { Key: 'steward:copied-from', Value: s.arn },
          { Key: 'steward:data-time', Value: s.createdAt },
        ]),
      });
      expect(r.outcomes).toEqual([expect.objectContaining({ action: 'copy-to-vault', status: 'done' })]);
    });

    it('keeps the re-encrypted copy shared while the vault copies it, and deletes it once the copy settles', async () => {
      // Prepare
      const s = snap('orders');
      const r = reencrypted(s, 'available');
      source.on(DeleteDBSnapshotCommand).resolves({});
      vaultSees([copyListed(s, 'copying')], [sharedListed(r)]);
      // Act
      const during = await reconcileVault(deps([s, r], SHARE_KEY), false, NOW);
      vault.reset();
      vaultSees([copyListed(s, 'available')], [sharedListed(r)]);
      const after = await reconcileVault(deps([s, r], SHARE_KEY), false, NOW);
      // Assert: no unshare while copying; afterwards one delete (which ends the share) and no copy again.
      expect(during.outcomes).toEqual([]);
      expect(after.outcomes).toEqual([{ resource: r.id, action: 'delete-reencrypted-copy', status: 'done' }]);
      expect(source).not.toHaveReceivedCommand(ModifyDBSnapshotAttributeCommand);
      expect(source).toHaveReceivedCommandWith(DeleteDBSnapshotCommand, { DBSnapshotIdentifier: r.id });
      expect(vault).not.toHaveReceivedCommand(CopyDBSnapshotCommand);
    });

    it('deletes a failed re-encryption and reports it; the next run starts again', async () => {
      const s = snap('orders');
      const r = reencrypted(s, 'failed');
      source.on(DeleteDBSnapshotCommand).resolves({});
      vaultSees([]);
      const out = await reconcileVault(deps([s, r], SHARE_KEY), false, NOW);
      expect(out.outcomes.map((o) => `${o.action} ${o.status}`)).toEqual([
        'delete-reencrypted-copy done',
        'copy-to-vault skipped',
      ]);
      expect(source).not.toHaveReceivedCommand(CopyDBSnapshotCommand);
    });

    it('without a share key, fails the share naming the fix', async () => {
      const s = snap('orders');
      vaultSees([]);
      source.on(ModifyDBSnapshotAttributeCommand).rejects(defaultKey());
      const r = await reconcileVault(deps([s]), false, NOW);
      expect(r.outcomes).toEqual([
        expect.objectContaining({
          action: 'share-with-vault',
          status: 'failed',
          error: expect.stringMatching(/aws\/rds key, which cannot be shared.*customer managed key/),
        }),
      ]);
      expect(source).not.toHaveReceivedCommand(CopyDBSnapshotCommand);
    });
  });
});
