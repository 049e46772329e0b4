import { describe, expect, it } from 'vitest';
import type { SnapshotStore } from '../../../shared/retention/ports.js';
import type { ResourceKind, Snapshot } from '../../../shared/model.js';

const REGION = 'eu-west-1';

const snap = (kind: ResourceKind, id: string, overrides: Partial<Snapshot> = {}): Snapshot => ({
  kind,
  id,
  arn:
    kind === 'elasticache'
      ? `arn:aws:elasticache:${REGION}:111122223333:snapshot:${id}`
      : `arn:aws:rds:${REGION}:111122223333:${kind === 'aurora-cluster' ? 'cluster-snapshot' : 'snapshot'}:${id}`,
  region: REGION,
  sourceId:
    kind === 'elasticache' ? 'sessions-redis' : kind === 'aurora-cluster' ? 'billing-aurora' : 'orders-db',
  createdAt: '2026-11-20T03:04:05.000Z',
  status: 'available',
  type: 'manual',
  tags: { 'steward:managed': 'true', 'steward:policy': 'daily' },
  encrypted: kind !== 'elasticache',
  ...(kind === 'elasticache' ? { shards: 1 } : {}),
  ...overrides,
});

/** Seeds the contract uses: every kind, enough of them to span several pages of a paginating backend. */
export const contractSeeds = (): Snapshot[] => [
  snap('rds-instance', 'steward-orders-db-202611200300-sched'),
  snap('rds-instance', 'steward-orders-db-202611210300-sched', { createdAt: '2026-11-21T03:04:05.000Z' }),
  snap('rds-instance', 'steward-orders-db-202611220300-sched', { createdAt: '2026-11-22T03:04:05.000Z' }),
  snap('rds-instance', 'steward-orders-db-202611230300-sched', { createdAt: undefined, status: 'creating' }),
  snap('aurora-cluster', 'steward-billing-aurora-202611200300-sched'),
  snap('aurora-cluster', 'steward-billing-aurora-202611210300-sched', { tags: { 'steward:hold': 'audit' } }),
  snap('aurora-cluster', 'steward-orders-db-202611200300-sched', { sourceId: 'orders-aurora' }),
  snap('elasticache', 'steward-sessions-redis-202611200300-sched', { tags: { 'steward:managed': 'true' } }),
  snap('elasticache', 'steward-sessions-redis-202611210300-sched', { createdAt: '2026-11-21T03:00:00.000Z' }),
  snap('rds-instance', 'rds:orders-db-2026-11-22-03-10', { type: 'automated', tags: {} }),
  snap('elasticache', 'automatic.sessions-redis-2026-11-22-03-10', { type: 'automated', tags: {} }),
];

const ids = (snaps: readonly Snapshot[]) => snaps.map((s) => `${s.kind}/${s.id}`).sort();
const manual = (snaps: readonly Snapshot[]) => snaps.filter((s) => s.type === 'manual');
const ALL: ResourceKind[] = ['rds-instance', 'aurora-cluster', 'elasticache'];

/**
 * The SnapshotStore port's contract. Runs against the AWS adapter (over a stateful SDK mock) and the
 * in-memory fake, so the fake the handler tests use cannot drift from the real thing.
 */
export const snapshotStoreContract = (
  name: string,
  make: (region: string, initial: Snapshot[]) => SnapshotStore | Promise<SnapshotStore>,
): void => {
  describe(`SnapshotStore contract: ${name}`, () => {
    it('lists every manual snapshot of every kind as plain data in its region', async () => {
      // Prepare
      const seeds = contractSeeds();
      const store = await make(REGION, seeds);

      // Act
      const { snapshots: listed, failures } = await store.list(ALL);
      expect(failures).toEqual([]);

      // Assert
      expect(store.region).toBe(REGION);
      expect(ids(listed)).toEqual(ids(manual(seeds)));
      for (const s of manual(seeds))
        expect(listed.find((l) => l.kind === s.kind && l.id === s.id)).toEqual(s);
    });

    it.each(ALL)('lists only the requested kind %s', async (kind) => {
      // Prepare
      const seeds = contractSeeds();
      const store = await make(REGION, seeds);

      // Act
      const { snapshots: listed } = await store.list([kind]);

      // Assert
      expect(ids(listed)).toEqual(ids(manual(seeds).filter((s) => s.kind === kind)));
    });

    it('never lists automated snapshots', async () => {
      // Prepare
      const store = await make(REGION, contractSeeds());

      // Act
      const { snapshots: listed, failures } = await store.list(ALL);
      expect(failures).toEqual([]);

      // Assert
      expect(listed.filter((s) => s.type !== 'manual')).toEqual([]);
    });

    it('lists nothing for an empty region', async () => {
      // Prepare
      const store = await make(REGION, []);

      // Act
      const { snapshots: listed, failures } = await store.list(ALL);
      expect(failures).toEqual([]);

      // Assert
      expect(listed).toEqual([]);
    });

    it.each(ALL)('removes a %s snapshot, which is then no longer listed', async (kind) => {
      // Prepare
      const seeds = contractSeeds();
      const victim = manual(seeds).find((s) => s.kind === kind)!;
      const store = await make(REGION, seeds);

      // Act
      const result = await store.remove(victim);
      const { snapshots: listed, failures } = await store.list(ALL);
      expect(failures).toEqual([]);

      // Assert
      expect(result).toBe('deleted');
      expect(ids(listed)).toEqual(ids(manual(seeds).filter((s) => s !== victim)));
    });

    it('reports a second removal of the same snapshot as already gone', async () => {
      // Prepare
      const victim = contractSeeds()[0]!;
      const store = await make(REGION, contractSeeds());
      await store.remove(victim);

      // Act
      const again = await store.remove(victim);

      // Assert
      expect(again).toBe('already-gone');
    });

    it.each(ALL)('reports removing an unknown %s snapshot as already gone', async (kind) => {
      // Prepare
      const store = await make(REGION, contractSeeds());

      // Act
      const result = await store.remove({ kind, id: 'steward-nope-202601010000-sched' });

      // Assert
      expect(result).toBe('already-gone');
    });

    it('removes only the snapshot of the given kind when ids repeat across kinds', async () => {
      // Prepare
      const seeds = contractSeeds();
      const store = await make(REGION, seeds);

      // Act
      await store.remove({ kind: 'aurora-cluster', id: 'steward-orders-db-202611200300-sched' });
      const { snapshots: listed, failures } = await store.list(ALL);
      expect(failures).toEqual([]);

      // Assert
      expect(ids(listed)).toContain('rds-instance/steward-orders-db-202611200300-sched');
      expect(ids(listed)).not.toContain('aurora-cluster/steward-orders-db-202611200300-sched');
    });
  });
};
