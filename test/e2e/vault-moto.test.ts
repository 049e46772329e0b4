import {
  CreateDBClusterCommand,
  CreateDBSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotAttributesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { beforeAll, describe, expect, it } from 'vitest';
import { rdsBackup } from '../../shared/aws/rds.js';
import { rdsVaultShares, rdsVaultStore } from '../../shared/aws/vault.js';
import { reconcileVault, type VaultDeps } from '../../shared/backup/vault.js';
import { memoryDeletionBudget } from '../../shared/retention/memory-budget.js';
import { runVaultRetention } from '../../shared/retention/vault.js';
import { snapshotId } from '../../shared/backup/ids.js';
import { reencryptedId, vaultCopyId, vaultKeyAlias, vaultShareKeyAlias } from '../../shared/fleet/vault.js';
import { tagList } from '../../shared/tags.js';
import { createMotoInstance, createMotoKey, useMotoEnvironment } from '../support/moto.js';
import {
  HUB,
  SHARED_COPY_MOTO,
  VAULT,
  vaultRetentionStore,
  vaultRoles,
  vaultStage,
  WORKLOAD,
  workloadVaultDeps,
} from '../support/vault-moto.js';

// The backup vault end to end over real HTTP against moto, with three accounts: the hub (moto's default
// account, whose credentials the test starts with), a workload account and the vault account, each reached
// through STS AssumeRole with the shipped credentials provider. moto keeps each account's resources apart
// by the assumed credentials (checked below with GetCallerIdentity and by what each account can list).
// moto 5.2.1 does not model copying a snapshot another account shares (it looks the source ARN up in the
// caller's account): test/support/moto-shared-copy.py adds exactly that, allowing the copy only while the
// owner shares it, as AWS does. moto makes a copy `available` at once, so the unshare follows in the next run.
const NOW = new Date('2026-03-01T12:00:00Z');
const REGION = 'eu-west-1';
const AT = new Date('2026-01-15T03:00:00Z');

const config = vaultStage(REGION);

describe('the backup vault, against moto with three accounts', () => {
  const endpoint = useMotoEnvironment(REGION, { script: SHARED_COPY_MOTO });
  let workload: RDSClient;
  let vault: RDSClient;
  let hub: RDSClient;
  let vaultKeyArn = '';
  let deps: VaultDeps;

  const clients = () => vaultRoles(config, REGION, 'steward-e2e-backup');

  /** A KMS key and its alias in an account. */
  const createKey = (accessKeyId: string, alias = vaultKeyAlias(config)): Promise<string> =>
    createMotoKey(endpoint(), accessKeyId, REGION, alias);

  beforeAll(async () => {
    const c = clients();
    hub = new RDSClient({ region: REGION });
    workload = new RDSClient({ region: REGION, credentials: c.workload });
    vault = new RDSClient({ region: REGION, credentials: c.vault });
    vaultKeyArn = await createKey((await c.vault()).accessKeyId);

    // The workload account: an opted-in instance and Aurora cluster, steward's snapshots of both (made by the
    // shipped adapter), and a hand-made snapshot steward must never touch.
    await createMotoInstance(workload, 'orders-db', { Tags: tagList({ 'steward:backup': 'daily' }) });
    await workload.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: 'billing',
        Engine: 'aurora-postgresql',
        MasterUsername: 'app',
        MasterUserPassword: 'not-a-secret-1',
        Tags: tagList({ 'steward:backup': 'daily' }),
      }),
    );
    const backup = rdsBackup(REGION, workload);
    const tags = (db: string) => ({
      'steward:managed': 'true',
      'steward:policy': 'daily',
      'steward:source': db,
      'steward:created-by': 'backup',
    });
    for (const [kind, db] of [
      ['rds-instance', 'orders-db'],
      ['aurora-cluster', 'billing'],
    ] as const)
      await backup.createSnapshot({
        kind,
        dbId: db,
        snapshotId: snapshotId(db, AT, 'sched'),
        tags: tags(db),
      });
    await workload.send(
      new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'orders-db', DBSnapshotIdentifier: 'hand-made' }),
    );

    deps = workloadVaultDeps(config, REGION, c);
  });

  const instanceSnap = snapshotId('orders-db', AT, 'sched');
  const clusterSnap = snapshotId('billing', AT, 'sched');

  it('reaches each account through AssumeRole, and moto keeps their resources apart', async () => {
    const c = clients();
    const who = async (credentials?: ReturnType<typeof clients>['vault']) =>
      (
        await new STSClient({ region: REGION, ...(credentials ? { credentials } : {}) }).send(
          new GetCallerIdentityCommand({}),
        )
      ).Account;
    expect([await who(), await who(c.workload), await who(c.vault)]).toEqual([HUB, WORKLOAD, VAULT]);
    const ids = async (rds: RDSClient) =>
      ((await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }))).DBSnapshots ?? [])
        .map((s) => s.DBSnapshotIdentifier)
        .sort();
    expect(await ids(workload)).toEqual(['hand-made', instanceSnap]);
    expect(await ids(vault)).toEqual([]);
    expect(await ids(hub)).toEqual([]);
  });

  it('copies both snapshots into the vault account and region, re-encrypted with the vault key and tagged', async () => {
    // Act
    const r = await reconcileVault(deps, false, NOW);
    // Assert: two copies started, nothing failed, the hand-made snapshot not among them.
    expect(r.outcomes.map((o) => `${o.resource} ${o.action} ${o.status}`).sort()).toEqual([
      'aurora-cluster billing copy-to-vault done',
      'rds-instance orders-db copy-to-vault done',
    ]);
    const [copy] = (
      await vault.send(
        new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: vaultCopyId(WORKLOAD, instanceSnap) }),
      )
    ).DBSnapshots!;
    expect(copy!.DBSnapshotArn).toBe(
      `arn:aws:rds:${REGION}:${VAULT}:snapshot:${vaultCopyId(WORKLOAD, instanceSnap)}`,
    );
    expect(copy!.KmsKeyId).toBe(vaultKeyArn);
    expect(vaultKeyArn).toMatch(new RegExp(`^arn:aws:kms:${REGION}:${VAULT}:key/`));
    expect(Object.fromEntries(copy!.TagList!.map((t) => [t.Key, t.Value]))).toMatchObject({
      'steward:managed': 'true',
      'steward:vault': 'true',
      'steward:created-by': 'vault',
      'steward:source': 'orders-db',
      'steward:source-account': WORKLOAD,
      'steward:source-region': REGION,
      'steward:copied-from': `arn:aws:rds:${REGION}:${WORKLOAD}:snapshot:${instanceSnap}`,
    });
    const [cluster] = (
      await vault.send(
        new DescribeDBClusterSnapshotsCommand({
          DBClusterSnapshotIdentifier: vaultCopyId(WORKLOAD, clusterSnap),
        }),
      )
    ).DBClusterSnapshots!;
    expect(cluster!.DBClusterSnapshotArn).toContain(`:${VAULT}:cluster-snapshot:`);
    // While the copy runs the source stays shared with the vault, and with nobody else.
    const attrs = await workload.send(
      new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: instanceSnap }),
    );
    expect(attrs.DBSnapshotAttributesResult!.DBSnapshotAttributes).toEqual([
      { AttributeName: 'restore', AttributeValues: [VAULT] },
    ]);
  });

  it('unshares once the copies are there, and then has nothing left to do', async () => {
    // Act
    const second = await reconcileVault(deps, false, NOW);
    const third = await reconcileVault(deps, false, NOW);
    // Assert
    expect(second.outcomes.map((o) => `${o.resource} ${o.action} ${o.status}`).sort()).toEqual([
      `${clusterSnap} unshare-from-vault done`,
      `${instanceSnap} unshare-from-vault done`,
    ]);
    expect(third.outcomes).toEqual([]);
    const attrs = await workload.send(
      new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: instanceSnap }),
    );
    expect(attrs.DBSnapshotAttributesResult!.DBSnapshotAttributes).toEqual([
      { AttributeName: 'restore', AttributeValues: [] },
    ]);
    // Unshared, the source can no longer be copied by the vault (the share was the only way in).
    await expect(
      rdsVaultStore(REGION, vault).copy({
        kind: 'rds-instance',
        sourceArn: `arn:aws:rds:${REGION}:${WORKLOAD}:snapshot:${instanceSnap}`,
        targetId: 'steward-probe-copy',
        kmsKeyId: vaultKeyAlias(config),
        tags: {},
      }),
    ).rejects.toThrow(/not found/i);
  });

  it('leaves the workload account unable to see or delete the vault copy, and its own snapshots as they were', async () => {
    const id = vaultCopyId(WORKLOAD, instanceSnap);
    const arn = `arn:aws:rds:${REGION}:${VAULT}:snapshot:${id}`;
    // Act
    const seen = await workload.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }));
    const shared = await workload.send(
      new DescribeDBSnapshotsCommand({ SnapshotType: 'shared', IncludeShared: true }),
    );
    const byId = await workload
      .send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: id }))
      .catch((e: Error) => e);
    const byArn = await workload
      .send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: arn }))
      .catch((e: Error) => e);
    const reshare = await workload
      .send(
        new ModifyDBSnapshotAttributeCommand({
          DBSnapshotIdentifier: arn,
          AttributeName: 'restore',
          ValuesToAdd: [WORKLOAD],
        }),
      )
      .catch((e: Error) => e);
    // Assert
    expect((seen.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier).sort()).toEqual([
      'hand-made',
      instanceSnap,
    ]);
    expect(shared.DBSnapshots ?? []).toEqual([]);
    for (const e of [byId, byArn, reshare]) expect((e as Error).name).toMatch(/NotFound/);
    const still = await vault.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }));
    expect(still.DBSnapshots!.map((s) => s.Status)).toEqual(['available']);
  });

  it("expires the vault's older copy by the vault's own policy, with its retention role, and nothing else there", async () => {
    // Prepare: the next day's snapshot reaches the vault too; someone made a snapshot in the vault by hand.
    const next = snapshotId('orders-db', new Date('2026-01-16T03:00:00Z'), 'sched');
    await rdsBackup(REGION, workload).createSnapshot({
      kind: 'rds-instance',
      dbId: 'orders-db',
      snapshotId: next,
      tags: { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': 'orders-db' },
    });
    await reconcileVault(deps, false, NOW);
    await reconcileVault(deps, false, NOW);
    await createMotoInstance(vault, 'vault-admin-db');
    await vault.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: 'vault-admin-db',
        DBSnapshotIdentifier: 'steward-by-hand',
      }),
    );
    const store = vaultRetentionStore(REGION, clients());
    const policy = { name: 'vault', policy: { daily: 1, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 } };
    // Act
    const r = await runVaultRetention(
      {
        store,
        policy,
        limits: config.retention.deletions,
        budget: memoryDeletionBudget(),
        now: () => new Date('2026-03-01T12:00:00Z'),
      },
      false,
    );
    // Assert: the older orders-db copy goes; the newest of each database and the hand-made one stay.
    expect(r.outcomes).toEqual([
      { resource: vaultCopyId(WORKLOAD, instanceSnap), action: 'expire-vault-copy', status: 'done' },
    ]);
    const left = (
      (await vault.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }))).DBSnapshots ?? []
    )
      .map((s) => s.DBSnapshotIdentifier)
      .sort();
    expect(left).toEqual(['steward-by-hand', vaultCopyId(WORKLOAD, next)].sort());
    const clusters = await vault.send(new DescribeDBClusterSnapshotsCommand({ SnapshotType: 'manual' }));
    expect(clusters.DBClusterSnapshots!.map((s) => s.DBClusterSnapshotIdentifier)).toEqual([
      vaultCopyId(WORKLOAD, clusterSnap),
    ]);
  });

  it('re-encrypts an aws/rds-key snapshot with the share key, copies that into the vault as the original, then deletes it', async () => {
    // Prepare: a third database's snapshot. moto does not refuse sharing an aws/rds-key snapshot, so the share
    // port answers as RDS does for this one snapshot (`default-key`); every other call goes to moto as is.
    const original = snapshotId('ledger-db', AT, 'sched');
    await createMotoInstance(workload, 'ledger-db');
    await rdsBackup(REGION, workload).createSnapshot({
      kind: 'rds-instance',
      dbId: 'ledger-db',
      snapshotId: original,
      tags: { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': 'ledger-db' },
    });
    // The share key the spoke stack makes in the workload account.
    const shareKeyArn = await createKey((await clients().workload()).accessKeyId, vaultShareKeyAlias('e2e'));
    const real = rdsVaultShares(REGION, workload);
    const withDefaultKey: VaultDeps = {
      ...deps,
      shareKey: vaultShareKeyAlias('e2e'),
      shares: {
        ...real,
        share: (x, a) => (x.id === original ? Promise.resolve('default-key') : real.share(x, a)),
      },
    };
    const copyId = reencryptedId(original);
    // Act: re-encrypt; share the copy and copy it into the vault; delete it once the vault's copy is there.
    const first = await reconcileVault(withDefaultKey, false, NOW);
    const [made] = (await workload.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: copyId })))
      .DBSnapshots!;
    const second = await reconcileVault(withDefaultKey, false, NOW);
    const third = await reconcileVault(withDefaultKey, false, NOW);
    // Assert
    const line = (r: typeof first) => r.outcomes.map((o) => `${o.resource} ${o.action} ${o.status}`);
    expect(line(first), JSON.stringify(first.outcomes)).toEqual([
      'rds-instance ledger-db reencrypt-for-vault done',
    ]);
    // The copy in the workload account: encrypted with the share key, marked as re-encrypted, no backup policy.
    expect(made!.KmsKeyId).toBe(shareKeyArn);
    expect(Object.fromEntries(made!.TagList!.map((t) => [t.Key, t.Value]))).toMatchObject({
      'steward:reencrypted-from': `arn:aws:rds:${REGION}:${WORKLOAD}:snapshot:${original}`,
      'steward:managed': 'true',
    });
    expect(made!.TagList!.map((t) => t.Key)).not.toContain('steward:policy');
    expect(line(second)).toEqual(['rds-instance ledger-db copy-to-vault done']);
    expect(line(third)).toEqual([`${copyId} delete-reencrypted-copy done`]);
    const [inVault] = (
      await vault.send(
        new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: vaultCopyId(WORKLOAD, original) }),
      )
    ).DBSnapshots!;
    expect(Object.fromEntries(inVault!.TagList!.map((t) => [t.Key, t.Value]))).toMatchObject({
      'steward:copied-from': `arn:aws:rds:${REGION}:${WORKLOAD}:snapshot:${original}`,
      'steward:source': 'ledger-db',
    });
    const left = (
      (await workload.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }))).DBSnapshots ?? []
    ).map((x) => x.DBSnapshotIdentifier);
    expect(left).toContain(original);
    expect(left).not.toContain(copyId);
  });
});
