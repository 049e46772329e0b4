import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AWS_MAX_COPIES_IN_FLIGHT, isCopyInFlight, planCopies } from '../../../shared/backup/copy-plan.js';
import type { ResourceKind, Snapshot } from '../../../shared/model.js';

const PRIMARY = 'eu-west-1';
const DR = 'us-west-2';

/** A primary snapshot; its id gets steward's prefix (`a` → `steward-a`), as every snapshot steward takes has. */
const src = (name: string, over: Partial<Snapshot> = {}): Snapshot => {
  const id = name.startsWith('steward-') ? name : `steward-${name}`;
  return {
    kind: 'rds-instance',
    id,
    arn: `arn:aws:rds:${PRIMARY}:111122223333:snapshot:${id}`,
    region: PRIMARY,
    sourceId: 'orders-db',
    createdAt: '2026-01-15T03:05:00.000Z',
    status: 'available',
    type: 'manual',
    encrypted: true,
    tags: { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': 'orders-db' },
    ...over,
  };
};

const copyOf = (s: Snapshot, over: Partial<Snapshot> = {}): Snapshot => ({
  ...s,
  arn: s.arn.replace(PRIMARY, DR),
  region: DR,
  sourceRegion: PRIMARY,
  status: 'available',
  tags: { ...s.tags, 'steward:copied-from': s.arn },
  ...over,
});

/** A copy some other tool has in flight in the DR region. */
const foreignInFlight = (i: number): Snapshot => ({
  ...src(`other-${i}`),
  arn: `arn:aws:rds:${DR}:111122223333:snapshot:other-${i}`,
  region: DR,
  sourceRegion: PRIMARY,
  status: 'copying',
  tags: {},
});

const policies = ['daily'];

describe('planCopies', () => {
  it('starts an available, uncopied, managed snapshot with its tags plus copied-from', () => {
    // Prepare
    const s = src('steward-orders-db-202601150300-sched');

    // Act
    const plan = planCopies([s], [], 5, policies);

    // Assert
    expect(plan).toEqual({
      inFlight: 0,
      limit: 5,
      start: [
        {
          source: { kind: 'rds-instance', id: s.id, arn: s.arn, region: PRIMARY, createdAt: s.createdAt },
          // The source region's code before the stamp: one account's same-named databases of two regions
          // get a copy each in the DR region.
          targetId: 'steward-orders-db-euw1-202601150300-sched',
          encrypted: true,
          tags: { ...s.tags, 'steward:copied-from': s.arn },
        },
      ],
      deferred: [],
      skipped: [],
      alreadyCopied: 0,
    });
  });

  it.each([
    ['unmanaged', src('a', { tags: { 'steward:policy': 'daily' } })],
    [
      'of a policy that does not copy',
      src('a', { tags: { 'steward:managed': 'true', 'steward:policy': 'cache' } }),
    ],
    ['ad-hoc', src('a', { tags: { 'steward:managed': 'true', 'steward:policy': 'adhoc' } })],
    ['automated', src('a', { type: 'automated' })],
    // A human's copy of one of steward's snapshots, tags copied (CopyTags, the console's "Copy tags"): IAM lets
    // the backup role copy only steward-* snapshots, so starting it failed with AccessDenied every hour.
    [
      "tagged as steward's but named by someone else",
      src('a', {
        id: 'orders-db-before-upgrade',
        arn: `arn:aws:rds:${PRIMARY}:111122223333:snapshot:orders-db-before-upgrade`,
      }),
    ],
  ])('ignores a snapshot that is %s', (_what, s) => {
    // Act
    const plan = planCopies([s], [], 5, policies);

    // Assert
    expect(plan).toMatchObject({ start: [], deferred: [], skipped: [], alreadyCopied: 0 });
  });

  it.each([
    ['an ElastiCache snapshot', src('a', { kind: 'elasticache' }), 'no-cross-region-copy'],
    ['a snapshot still creating', src('a', { status: 'creating' }), 'not-available-yet'],
    ['a failed snapshot', src('a', { status: 'failed' }), 'source-failed'],
  ])('skips %s with a reason', (_what, s, reason) => {
    // Act
    const plan = planCopies([s], [], 5, policies);

    // Assert
    expect(plan.start).toEqual([]);
    expect(plan.skipped).toEqual([expect.objectContaining({ reason })]);
  });

  it.each([
    ['tagged copied-from its ARN under another id', (s: Snapshot) => copyOf(s, { id: 'renamed' })],
    ['with the same id', (s: Snapshot) => copyOf(s, { tags: {} })],
    ['still copying', (s: Snapshot) => copyOf(s, { status: 'copying' })],
  ])('counts a source as copied when a DR snapshot exists %s', (_what, make) => {
    // Prepare
    const s = src('steward-orders-db-202601150300-sched');

    // Act
    const plan = planCopies([s], [make(s)], 5, policies);

    // Assert
    expect(plan).toMatchObject({ start: [], deferred: [], skipped: [], alreadyCopied: 1 });
  });

  it('asks to delete a failed DR copy instead of retrying forever', () => {
    // Prepare
    const s = src('a');

    // Act
    const plan = planCopies([s], [copyOf(s, { status: 'failed' })], 5, policies);

    // Assert
    expect(plan.skipped).toEqual([
      expect.objectContaining({ reason: 'copy-failed', detail: expect.stringContaining('delete') }),
    ]);
  });

  it.each([
    // in flight in DR, configured limit, candidates, started, deferred
    [0, 5, 3, 3, 0],
    [0, 5, 8, 5, 3],
    [2, 5, 8, 3, 5],
    [5, 5, 2, 0, 2],
    [7, 5, 2, 0, 2],
    [0, 2, 4, 2, 2],
    [0, 9, 8, 8, 0],
    [0, 25, 30, 20, 10],
  ])(
    'with %i copies in flight and limit %i, of %i candidates starts %i and defers %i',
    (inFlight, limit, n, started, deferred) => {
      // Prepare
      // One snapshot of each of n databases (a database copies one at a time).
      const sources = Array.from({ length: n }, (_, i) => src(`s${i}`, { sourceId: `db-${i}` }));
      const dr = Array.from({ length: inFlight }, (_, i) => foreignInFlight(i));

      // Act
      const plan = planCopies(sources, dr, limit, policies);

      // Assert
      expect(plan.inFlight).toBe(inFlight);
      expect(plan.start).toHaveLength(started);
      expect(plan.deferred).toHaveLength(deferred);
    },
  );

  it('starts the database whose newest DR copy is oldest first, one never copied before all', () => {
    // Prepare: three databases; b's newest DR copy is older than c's; a has none.
    const day = (d: number) => `2026-01-${String(d).padStart(2, '0')}T03:05:00.000Z`;
    const sources = [
      src('c-15', { sourceId: 'c', createdAt: day(15) }),
      src('b-15', { sourceId: 'b', createdAt: day(15) }),
      src('a-15', { sourceId: 'a', createdAt: day(15) }),
    ];
    const dr = [
      copyOf(src('c-14', { sourceId: 'c', createdAt: day(14) })),
      copyOf(src('b-10', { sourceId: 'b', createdAt: day(10) })),
    ];

    // Act
    const plan = planCopies(sources, dr, 2, policies);

    // Assert
    expect(plan.start.map((c) => c.source.id)).toEqual(['steward-a-15', 'steward-b-15']);
    expect(plan.deferred.map((c) => [c.source.id, c.why])).toEqual([['steward-c-15', 'limit']]);
  });

  it('copies one snapshot of a database at a time, its newest first; the older ones wait behind it', () => {
    // Prepare
    const sources = [13, 14, 15].map((d) => src(`orders-${d}`, { createdAt: `2026-01-${d}T03:05:00.000Z` }));

    // Act
    const plan = planCopies(sources, [], 5, policies);

    // Assert
    expect(plan.start.map((c) => c.source.id)).toEqual(['steward-orders-15']);
    expect(plan.deferred.map((c) => [c.source.id, c.why])).toEqual([
      ['steward-orders-14', 'behind-newer'],
      ['steward-orders-13', 'behind-newer'],
    ]);
  });

  it('starts nothing for a database whose copy is in flight (RDS would queue it behind, holding a slot)', () => {
    // Prepare
    const older = src('orders-14', { createdAt: '2026-01-14T03:05:00.000Z' });
    const newer = src('orders-15', { createdAt: '2026-01-15T03:05:00.000Z' });

    // Act
    const plan = planCopies([older, newer], [copyOf(older, { status: 'copying' })], 5, policies);

    // Assert
    expect(plan.start).toEqual([]);
    expect(plan.inFlight).toBe(1);
    expect(plan.deferred.map((c) => [c.source.id, c.why])).toEqual([['steward-orders-15', 'database-busy']]);
  });

  it('keeps Aurora cluster copies under their own limit of 5 while DB snapshot copies use the rest', () => {
    // Prepare
    const clusters = Array.from({ length: 8 }, (_, i) =>
      src(`cl-${i}`, { kind: 'aurora-cluster', sourceId: `cluster-${i}` }),
    );
    const instances = Array.from({ length: 8 }, (_, i) => src(`db-${i}`, { sourceId: `db-${i}` }));

    // Act
    const plan = planCopies([...clusters, ...instances], [], 20, policies);

    // Assert
    expect(plan.start.filter((c) => c.source.kind === 'aurora-cluster')).toHaveLength(5);
    expect(plan.start.filter((c) => c.source.kind === 'rds-instance')).toHaveLength(8);
    expect(plan.deferred.filter((c) => c.why === 'limit')).toHaveLength(3);
  });

  it('keeps steward tags first when the source is near the 50-tag limit', () => {
    // Prepare
    const many = Object.fromEntries(
      Array.from({ length: 48 }, (_, i) => [`team:k${String(i).padStart(2, '0')}`, 'v']),
    );
    const s = src('a', { tags: { ...many, 'steward:managed': 'true', 'steward:policy': 'daily' } });

    // Act
    const [copy] = planCopies([s], [], 5, policies).start;

    // Assert
    expect(Object.keys(copy!.tags)).toHaveLength(50);
    expect(copy!.tags['steward:copied-from']).toBe(s.arn);
  });
});

describe('isCopyInFlight', () => {
  it.each([
    [{ sourceRegion: PRIMARY, status: 'copying' }, true],
    [{ sourceRegion: PRIMARY, status: 'pending' }, true],
    [{ sourceRegion: PRIMARY, status: 'available' }, false],
    [{ sourceRegion: PRIMARY, status: 'failed' }, false],
    [{ sourceRegion: DR, status: 'creating' }, false],
    [{ status: 'creating' }, false],
    [{ status: 'copying', tags: { 'steward:copied-from': 'arn:x' } }, true],
  ] as const)('%j → %s', (over, expected) => {
    // Prepare
    const s: Snapshot = { ...src('x'), region: DR, tags: {}, sourceRegion: undefined, ...over };

    // Act / Assert
    expect(isCopyInFlight(s)).toBe(expected);
  });
});

describe('planCopies properties', () => {
  const arbSource = fc.record({
    kind: fc.constantFrom<ResourceKind>('rds-instance', 'aurora-cluster', 'elasticache'),
    status: fc.constantFrom('available', 'available', 'available', 'creating', 'failed'),
    policy: fc.constantFrom('daily', 'cache'),
    managed: fc.boolean(),
    day: fc.integer({ min: 1, max: 28 }),
    copied: fc.constantFrom('none', 'none', 'by-tag', 'by-id', 'copying', 'failed'),
  });

  type Row = typeof arbSource extends fc.Arbitrary<infer T> ? T : never;

  const build = (rows: Row[], foreign: number) => {
    const sources = rows.map((r, i) =>
      src(`s${i}`, {
        kind: r.kind,
        status: r.status,
        createdAt: `2026-01-${String(r.day).padStart(2, '0')}T03:00:00.000Z`,
        tags: { ...(r.managed ? { 'steward:managed': 'true' } : {}), 'steward:policy': r.policy },
      }),
    );
    const dr = rows.flatMap((r, i): Snapshot[] => {
      const s = sources[i]!;
      if (r.copied === 'by-tag') return [copyOf(s, { id: `x${i}` })];
      if (r.copied === 'by-id') return [copyOf(s, { tags: {} })];
      if (r.copied === 'copying') return [copyOf(s, { status: 'copying' })];
      if (r.copied === 'failed') return [copyOf(s, { status: 'failed' })];
      return [];
    });
    return { sources, dr: [...dr, ...Array.from({ length: foreign }, (_, i) => foreignInFlight(i))] };
  };

  it('never has more than maxInFlight copies in flight after starting (property)', () => {
    fc.assert(
      fc.property(
        fc.array(arbSource, { maxLength: 25 }),
        fc.nat(7),
        fc.integer({ min: 1, max: 25 }),
        (rows, foreign, max) => {
          const { sources, dr } = build(rows, foreign);
          const plan = planCopies(sources, dr, max, policies);
          expect(plan.limit).toBeLessThanOrEqual(AWS_MAX_COPIES_IN_FLIGHT);
          expect(AWS_MAX_COPIES_IN_FLIGHT).toBe(20);
          expect(
            plan.start.length === 0 ||
              plan.inFlight + plan.start.length <= Math.min(max, AWS_MAX_COPIES_IN_FLIGHT),
          ).toBe(true);
        },
      ),
    );
  });

  it('accounts for every eligible uncopied snapshot: started, deferred or skipped with a reason (property)', () => {
    fc.assert(
      fc.property(
        fc.array(arbSource, { maxLength: 25 }),
        fc.nat(7),
        fc.integer({ min: 1, max: 5 }),
        (rows, foreign, max) => {
          const { sources, dr } = build(rows, foreign);
          const plan = planCopies(sources, dr, max, policies);
          const eligible = rows.flatMap((r, i) =>
            r.managed && r.policy === 'daily' ? [sources[i]!.id] : [],
          );
          const accounted = [
            ...plan.start.map((c) => c.source.id),
            ...plan.deferred.map((c) => c.source.id),
            ...plan.skipped.map((s) => s.source.id),
          ];
          expect(new Set(accounted).size).toBe(accounted.length);
          expect(accounted.length + plan.alreadyCopied).toBe(eligible.length);
          for (const id of accounted) expect(eligible).toContain(id);
        },
      ),
    );
  });
});
