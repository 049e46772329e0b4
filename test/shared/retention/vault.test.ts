import { DeleteSnapshotCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { ebsBackup } from '../../../shared/aws/ebs.js';
import { awsSnapshotStore } from '../../../shared/aws/snapshots.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { vaultCopyId, vaultCopyTags } from '../../../shared/fleet/vault.js';
import type { Snapshot } from '../../../shared/model.js';
import { memoryDeletionBudget } from '../../../shared/retention/memory-budget.js';
import { planVaultRetention, runVaultRetention } from '../../../shared/retention/vault.js';
import { fakeSnapshotStore } from '../../fakes/snapshot-store.js';
import { noServerlessCaches } from '../../support/serverless-mocks.js';

const VAULT = '999999999999';
const REGION = 'eu-west-1';
const NOW = new Date('2026-03-01T12:00:00Z');
const limits = { floor: 100, dueMultiple: 2, safetyCap: 2000 };
// One daily, at least one: everything but each group's newest copy expires.
const policy = {
  name: 'vault',
  policy: parseConfig(
    {
      stage: 'x',
      region: REGION,
      retention: { policies: { standard: {}, vault: { daily: 1, keepAtLeast: 1 } } },
    },
    'x',
  ).retention.policies.vault!,
};

/** The vault's copy of `account`'s snapshot of `db` taken on January `day` (copied on March 1st). */
const copy = (account: string, db: string, day: number, over: Partial<Snapshot> = {}): Snapshot => {
  const source = `steward-${db}-202601${String(day).padStart(2, '0')}0300-sched`;
  const id = vaultCopyId(account, source);
  return {
    kind: 'rds-instance',
    id,
    arn: `arn:aws:rds:${REGION}:${VAULT}:snapshot:${id}`,
    region: REGION,
    sourceId: db,
    createdAt: '2026-03-01T00:00:00.000Z',
    status: 'available',
    type: 'manual',
    tags: vaultCopyTags({
      sourceAccount: account,
      sourceRegion: REGION,
      sourceArn: `arn:aws:rds:${REGION}:${account}:snapshot:${source}`,
      db,
      policy: 'daily',
      dataTime: `2026-01-${String(day).padStart(2, '0')}T03:05:00.000Z`,
    }),
    ...over,
  };
};

describe('planVaultRetention', () => {
  it('expires by the data time, per source account and database', () => {
    // Prepare: two accounts with a same-named database, two copies each.
    const snaps = [
      copy('222222222222', 'orders', 14),
      copy('222222222222', 'orders', 15),
      copy('333333333333', 'orders', 13),
      copy('333333333333', 'orders', 14),
    ];
    // Act
    const { plan } = planVaultRetention(snaps, policy, NOW, limits);
    // Assert: each account keeps its own newest (data time, not the copies' common create time).
    expect(plan.delete.map((s) => s.id).sort()).toEqual([snaps[0]!.id, snaps[2]!.id].sort());
    expect(plan.delete[0]!.sourceId).toBe('orders');
  });

  it('never judges what the vault did not copy, and keeps a held copy', () => {
    const foreign = { ...copy('222222222222', 'orders', 10), tags: { 'steward:managed': 'true' } };
    const handMade = { ...copy('222222222222', 'orders', 11), tags: {} };
    const held = copy('222222222222', 'orders', 12, {});
    held.tags = { ...held.tags, 'steward:hold': 'audit' };
    const snaps = [foreign, handMade, held, copy('222222222222', 'orders', 15)];
    const { plan, ignored } = planVaultRetention(snaps, policy, NOW, limits);
    expect(plan.delete).toEqual([]);
    expect(ignored).toBe(2);
  });
});

describe('runVaultRetention', () => {
  it('deletes the expired copies, and in a dry run only plans them', async () => {
    const snaps = [copy('222222222222', 'orders', 14), copy('222222222222', 'orders', 15)];
    const store = fakeSnapshotStore(REGION, snaps);
    const dry = await runVaultRetention(
      { store, policy, limits, budget: memoryDeletionBudget(), now: () => NOW },
      true,
    );
    expect(dry.outcomes).toEqual([
      { resource: snaps[0]!.id, action: 'expire-vault-copy', status: 'planned' },
    ]);
    expect(store.snapshots).toHaveLength(2);
    const r = await runVaultRetention(
      { store, policy, limits, budget: memoryDeletionBudget(), now: () => NOW },
      false,
    );
    expect(r.outcomes).toEqual([{ resource: snaps[0]!.id, action: 'expire-vault-copy', status: 'done' }]);
    expect(store.snapshots.map((s) => s.id)).toEqual([snaps[1]!.id]);
  });

  it('reports a failed delete and still deletes the others', async () => {
    const snaps = [
      copy('222222222222', 'a', 14),
      copy('222222222222', 'a', 15),
      copy('222222222222', 'b', 14),
      copy('222222222222', 'b', 15),
    ];
    const store = fakeSnapshotStore(REGION, snaps);
    store.failRemove.set(snaps[0]!.id, new Error('AccessDenied'));
    const r = await runVaultRetention(
      { store, policy, limits, budget: memoryDeletionBudget(), now: () => NOW },
      false,
    );
    expect(r.outcomes.map((o) => `${o.resource} ${o.status}`).sort()).toEqual(
      [`${snaps[0]!.id} failed`, `${snaps[2]!.id} done`].sort(),
    );
  });

  describe("the day's deletion budget", () => {
    // Four databases, two copies each: four copies expire; the day's allowance is 3.
    const snaps = () =>
      ['a', 'b', 'c', 'd'].flatMap((db) => [copy('222222222222', db, 14), copy('222222222222', db, 15)]);
    const tight = { floor: 3, dueMultiple: 1, safetyCap: 3 };

    it("a retry of the day's run deletes only what the budget has left, not another allowance", async () => {
      // Prepare: one store, one budget shared by the run and its Lambda retry.
      const store = fakeSnapshotStore(REGION, snaps());
      const budget = memoryDeletionBudget();
      const deps = { store, policy, limits: tight, budget, now: () => NOW };
      // Act
      const first = await runVaultRetention(deps, false);
      const retry = await runVaultRetention(deps, false);
      // Assert: 3 on the first run, none on the retry; the fourth waits for tomorrow.
      expect(first.outcomes.filter((o) => o.status === 'done')).toHaveLength(3);
      expect(first.overBudget).toBe(0);
      expect(retry.outcomes).toEqual([
        expect.objectContaining({ status: 'skipped', reason: expect.stringMatching(/budget \(3\)/) }),
      ]);
      expect(retry.overBudget).toBe(1);
      expect(budget.used.get('2026-03-01')).toBe(3);
      expect(store.snapshots).toHaveLength(5);
    });

    it('gives back what it reserved and did not delete (a failed delete)', async () => {
      // Prepare
      const all = snaps();
      const store = fakeSnapshotStore(REGION, all);
      store.failRemove.set(all[0]!.id, new Error('Throttling'));
      const budget = memoryDeletionBudget();
      // Act
      const r = await runVaultRetention({ store, policy, limits: tight, budget, now: () => NOW }, false);
      // Assert: 3 granted, 2 deleted, 1 refunded.
      expect(r.outcomes.filter((o) => o.status === 'done')).toHaveLength(2);
      expect(budget.used.get('2026-03-01')).toBe(2);
    });

    it('deletes nothing when the budget cannot be reserved, and reports it failed', async () => {
      // Prepare
      const store = fakeSnapshotStore(REGION, snaps());
      const budget = {
        reserve: () => Promise.reject(new Error('ResourceNotFoundException')),
        refund: () => Promise.resolve(),
      };
      // Act
      const r = await runVaultRetention({ store, policy, limits: tight, budget, now: () => NOW }, false);
      // Assert
      expect(store.snapshots).toHaveLength(8);
      expect(r.outcomes[0]).toMatchObject({
        resource: `vault retention budget ${REGION} 2026-03-01`,
        action: 'reserve',
        status: 'failed',
      });
      expect(r.outcomes.filter((o) => o.status === 'skipped')).toHaveLength(3);
    });

    it('a dry run reserves nothing', async () => {
      const budget = memoryDeletionBudget();
      const store = fakeSnapshotStore(REGION, snaps());
      await runVaultRetention({ store, policy, limits: tight, budget, now: () => NOW }, true);
      expect(budget.used.size).toBe(0);
    });
  });
});

describe('runVaultRetention over EBS snapshot sets', () => {
  // The vault's EBS sets through the real store (RDS and ElastiCache mocked empty): a set is judged by its
  // source's data time and deleted whole, every part.
  const ec2 = mockClient(EC2Client);
  const rds = mockClient(RDSClient);
  const cache = mockClient(ElastiCacheClient);
  const vaultSet = (day: number, volumes: string[]) => {
    const source = `steward-i-0abc-202601${day}0300-sched`;
    const id = vaultCopyId('222222222222', source);
    return volumes.map((v, i) => ({
      SnapshotId: `snap-${day}-${i}`,
      OwnerId: VAULT,
      VolumeId: 'vol-ffffffff',
      State: 'completed' as const,
      StartTime: NOW,
      Description: `steward ${id} copy of snap-0${day}${i}`,
      Tags: Object.entries({
        ...vaultCopyTags({
          sourceAccount: '222222222222',
          sourceRegion: REGION,
          sourceArn: `arn:aws:ec2:${REGION}:222222222222:snapshot-set/${source}`,
          db: 'i-0abc',
          policy: 'daily',
          dataTime: `2026-01-${day}T03:00:05.000Z`,
        }),
        'steward:set': id,
        'steward:set-size': String(volumes.length),
        'steward:taken-at': `2026-01-${day}T03:00:05.000Z`,
        'steward:volume': v,
      }).map(([Key, Value]) => ({ Key, Value })),
    }));
  };

  it('expires an older set whole and keeps the newest; a hand-made vault snapshot is never judged', async () => {
    // Prepare
    ec2.reset();
    rds.reset();
    cache.reset();
    noServerlessCaches(cache);
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
    const older = vaultSet(14, ['vol-a', 'vol-b']);
    const newer = vaultSet(15, ['vol-a', 'vol-b']);
    const handMade = {
      SnapshotId: 'snap-hand',
      OwnerId: VAULT,
      State: 'completed' as const,
      StartTime: NOW,
      Tags: [{ Key: 'steward:set', Value: 'mine' }],
    };
    ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [...older, ...newer, handMade] });
    ec2.on(DeleteSnapshotCommand).resolves({});
    const store = awsSnapshotStore(
      REGION,
      new RDSClient({ region: REGION }),
      new ElastiCacheClient({ region: REGION }),
      undefined,
      ebsBackup(REGION, new EC2Client({ region: REGION })),
    );
    // Act
    const r = await runVaultRetention(
      { store, policy, limits, budget: memoryDeletionBudget(), now: () => NOW },
      false,
    );
    // Assert: the hand-made one is not even listed (steward did not describe it), so never judged or deleted
    expect(r.ignored).toBe(0);
    expect(r.outcomes).toEqual([expect.objectContaining({ action: 'expire-vault-copy', status: 'done' })]);
    expect(ec2.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input.SnapshotId)).toEqual([
      'snap-14-0',
      'snap-14-1',
    ]);
  });
});
