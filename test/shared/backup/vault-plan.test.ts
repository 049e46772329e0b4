import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planVault, type VaultPlanInput } from '../../../shared/backup/vault-plan.js';
import { vaultCopyId, vaultCopyTags } from '../../../shared/fleet/vault.js';
import type { Snapshot } from '../../../shared/model.js';

const ACCOUNT = '222222222222';
const VAULT = '999999999999';
const REGION = 'eu-west-1';

const source = (db: string, day: number, over: Partial<Snapshot> = {}): Snapshot => {
  const id = `steward-${db}-202601${String(day).padStart(2, '0')}0300-sched`;
  const kind = over.kind ?? 'rds-instance';
  return {
    kind,
    id,
    arn: `arn:aws:rds:${REGION}:${ACCOUNT}:${kind === 'aurora-cluster' ? 'cluster-snapshot' : 'snapshot'}:${id}`,
    region: REGION,
    sourceId: db,
    createdAt: `2026-01-${String(day).padStart(2, '0')}T03:05:00.000Z`,
    status: 'available',
    type: 'manual',
    tags: { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': db },
    encrypted: true,
    ...over,
  };
};

/** The vault's copy of `s`, as the vault lists it. */
const copyOf = (s: Snapshot, status = 'available', account = ACCOUNT): Snapshot => ({
  ...s,
  id: vaultCopyId(account, s.id),
  arn: `arn:aws:rds:${REGION}:${VAULT}:snapshot:${vaultCopyId(account, s.id)}`,
  status,
  tags: vaultCopyTags({
    sourceAccount: account,
    sourceRegion: REGION,
    sourceArn: s.arn,
    db: s.sourceId,
    policy: 'daily',
    dataTime: s.createdAt!,
  }),
});

const plan = (over: Partial<VaultPlanInput>) =>
  planVault({
    account: ACCOUNT,
    region: REGION,
    vaultAccount: VAULT,
    sources: [],
    copies: [],
    shared: [],
    policies: ['daily'],
    maxInFlight: 20,
    maxClusterInFlight: 5,
    ...over,
  });

const ids = (p: ReturnType<typeof plan>) => p.copy.map((c) => c.source.id);

describe('planVault', () => {
  it('copies the newest snapshot of a database the vault has none of, tagged for the vault', () => {
    // Act
    const p = plan({ sources: [source('orders', 13), source('orders', 15), source('orders', 14)] });
    // Assert
    expect(ids(p)).toEqual(['steward-orders-202601150300-sched']);
    expect(p.copy[0]!.targetId).toBe(vaultCopyId(ACCOUNT, 'steward-orders-202601150300-sched'));
    expect(p.copy[0]!.tags).toMatchObject({
      'steward:managed': 'true',
      'steward:vault': 'true',
      'steward:created-by': 'vault',
      'steward:source': 'orders',
      'steward:source-account': ACCOUNT,
      'steward:source-region': REGION,
      'steward:copied-from': source('orders', 15).arn,
      'steward:data-time': '2026-01-15T03:05:00.000Z',
    });
  });

  it('copies the next snapshot after the newest copy, one per database at a time', () => {
    const p = plan({
      sources: [source('orders', 13), source('orders', 14), source('orders', 15)],
      copies: [copyOf(source('orders', 13))],
    });
    expect(ids(p)).toEqual(['steward-orders-202601140300-sched']);
  });

  it('never re-copies what vault retention expired: older sources than the newest copy stay', () => {
    // Prepare: the vault expired its copy of the 13th; the 14th is its newest.
    const p = plan({
      sources: [source('orders', 13), source('orders', 14)],
      copies: [copyOf(source('orders', 14))],
    });
    expect(p.copy).toEqual([]);
  });

  it('waits while a copy of the database is in flight', () => {
    const p = plan({
      sources: [source('orders', 14), source('orders', 15)],
      copies: [copyOf(source('orders', 14), 'copying')],
    });
    expect(p.copy).toEqual([]);
    expect(p.inFlight).toBe(1);
  });

  it('skips what is not steward’s, not available, pre-change, of another policy, or a vault copy itself', () => {
    const p = plan({
      sources: [
        source('hand', 15, { tags: {} }),
        source('creating', 15, { status: 'creating' }),
        source('adhoc', 15, { tags: { 'steward:managed': 'true', 'steward:policy': 'adhoc' } }),
        source('weekly', 15, { tags: { 'steward:managed': 'true', 'steward:policy': 'weekly' } }),
        source('auto', 15, { type: 'automated' }),
      ],
    });
    expect(p.copy).toEqual([]);
  });

  it('reports ElastiCache as unsupported, once per run', () => {
    const p = plan({
      sources: [
        source('cache-a', 15, { kind: 'elasticache' }),
        source('cache-b', 15, { kind: 'elasticache' }),
      ],
    });
    expect(p.copy).toEqual([]);
    expect(p.skipped).toEqual([
      expect.objectContaining({ reason: 'unsupported', resource: `elasticache ${ACCOUNT} ${REGION}` }),
    ]);
    expect(p.skipped[0]!.detail).toMatch(/^2 ElastiCache backups/);
  });

  it('starts the databases furthest behind first, within the vault region’s limits (all accounts’ copies count)', () => {
    // Prepare: 2 slots left of 3 (one copy of another account in flight); 'a' has no copy, 'b' is a day behind, 'c' two.
    const other = copyOf(source('x', 15), 'copying', '333333333333');
    const p = plan({
      maxInFlight: 3,
      sources: [source('a', 15), source('b', 14), source('b', 15), source('c', 13), source('c', 15)],
      copies: [other, copyOf(source('b', 14)), copyOf(source('c', 13))],
    });
    expect(ids(p)).toEqual(['steward-a-202601150300-sched', 'steward-c-202601150300-sched']);
    expect(p.deferred.map((d) => d.source.id)).toEqual(['steward-b-202601150300-sched']);
  });

  it('holds Aurora copies to the cluster limit within the total', () => {
    const clusters = ['a', 'b', 'c'].map((db) => source(db, 15, { kind: 'aurora-cluster' }));
    const p = plan({ maxClusterInFlight: 2, sources: [...clusters, source('d', 15)] });
    expect(p.copy.map((c) => c.source.sourceId)).toEqual(['a', 'b', 'd']);
    expect(p.deferred.map((c) => c.source.sourceId)).toEqual(['c']);
  });

  it('unshares a source once its copy is available or failed, or nothing copies it; never while copying', () => {
    const [done, failed, flying, stray] = [
      source('a', 15),
      source('b', 15),
      source('c', 15),
      source('d', 15),
    ];
    const foreign = { ...source('e', 15), arn: source('e', 15).arn.replace(ACCOUNT, '333333333333') };
    const p = plan({
      sources: [done, failed, flying],
      copies: [copyOf(done), copyOf(failed, 'failed'), copyOf(flying, 'copying')],
      shared: [done, failed, flying, stray, foreign].map((s) => ({ ...s, id: s.arn })),
    });
    expect(p.unshare).toEqual([
      { source: { kind: 'rds-instance', id: done.id, arn: done.arn }, reason: 'copied' },
      { source: { kind: 'rds-instance', id: failed.id, arn: failed.arn }, reason: 'copy-failed' },
      { source: { kind: 'rds-instance', id: stray.id, arn: stray.arn }, reason: 'not-copying' },
    ]);
    expect(p.skipped).toEqual([expect.objectContaining({ resource: 'b', reason: 'copy-failed' })]);
  });

  it('does not unshare what this run is about to copy', () => {
    const s = source('a', 15);
    const p = plan({ sources: [s], shared: [{ ...s, id: s.arn }] });
    expect(ids(p)).toEqual([s.id]);
    expect(p.unshare).toEqual([]);
  });
});

describe('planVault invariants', () => {
  // Random estates: a few databases of both kinds, snapshots of random days, steward's or not, some copied
  // (available, copying or failed), some shared with the vault.
  const estate = fc
    .array(
      fc.record({
        db: fc.constantFrom('a', 'b', 'c', 'd'),
        day: fc.integer({ min: 10, max: 28 }),
        cluster: fc.boolean(),
        ours: fc.boolean(),
        status: fc.constantFrom('available', 'available', 'creating'),
        copy: fc.constantFrom(undefined, 'available', 'copying', 'failed'),
        shared: fc.boolean(),
      }),
      { maxLength: 24 },
    )
    .map((rows) => {
      const seen = new Set<string>();
      const sources: Snapshot[] = [];
      const copies: Snapshot[] = [];
      const shared: Snapshot[] = [];
      for (const r of rows) {
        const kind = r.cluster ? 'aurora-cluster' : 'rds-instance';
        const s = source(r.db, r.day, { kind, status: r.status, ...(r.ours ? {} : { tags: {} }) });
        if (seen.has(s.arn)) continue;
        seen.add(s.arn);
        sources.push(s);
        if (r.copy && r.ours) copies.push({ ...copyOf(s, r.copy), kind });
        if (r.shared) shared.push({ ...s, id: s.arn });
      }
      return { sources, copies, shared };
    });
  const limits = fc.record({
    maxInFlight: fc.integer({ min: 0, max: 6 }),
    maxClusterInFlight: fc.integer({ min: 0, max: 3 }),
  });

  it('copies only steward’s available snapshots, never twice, never behind a copy, within the limits', () => {
    fc.assert(
      fc.property(estate, limits, ({ sources, copies, shared }, l) => {
        // Act
        const p = plan({ sources, copies, shared, ...l });
        // Assert
        const flying = copies.filter((c) => ['pending', 'creating', 'copying'].includes(c.status));
        const copiedFrom = new Set(copies.map((c) => c.tags['steward:copied-from']));
        expect(p.copy.length + flying.length).toBeLessThanOrEqual(Math.max(l.maxInFlight, flying.length));
        const clusters = [...p.copy.map((c) => c.source), ...flying].filter(
          (s) => s.kind === 'aurora-cluster',
        );
        expect(
          p.copy.filter((c) => c.source.kind === 'aurora-cluster').length === 0 ||
            clusters.length <= l.maxClusterInFlight,
        ).toBe(true);
        const dbs = p.copy.map((c) => `${c.source.kind} ${c.source.sourceId}`);
        expect(new Set(dbs).size).toBe(dbs.length);
        for (const { source: s } of p.copy) {
          expect(s.tags['steward:managed']).toBe('true');
          expect(s.status).toBe('available');
          expect(copiedFrom.has(s.arn)).toBe(false);
          const mine = copies.filter((c) => c.kind === s.kind && c.tags['steward:source'] === s.sourceId);
          expect(mine.some((c) => c.status !== 'available' && c.status !== 'failed')).toBe(false);
          const newest = mine
            .filter((c) => c.status === 'available')
            .map((c) => c.tags['steward:data-time']!)
            .sort()
            .at(-1);
          if (newest) expect(s.createdAt! > newest).toBe(true);
        }
        // Never unshares a snapshot whose copy is in flight, or one it is about to copy.
        const busy = new Set([
          ...flying.map((c) => c.tags['steward:copied-from']),
          ...p.copy.map((c) => c.source.arn),
        ]);
        for (const u of p.unshare) expect(busy.has(u.source.arn)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
