import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyObservation,
  byOldestMissing,
  type CopyKind,
  copyLimits,
  type CopyQueue,
  copyTargetIdOf,
  dbKey,
  emptyQueue,
  observeCopies,
  type QueuedCopy,
  releaseCopies,
  RESERVATION_GRACE_MS,
  scheduleCopies,
} from '../../../shared/backup/copy-plan.js';
import type { Snapshot } from '../../../shared/model.js';

const PRIMARY = 'eu-west-1';
const DR = 'us-west-2';
const NOW = new Date('2026-01-15T06:00:00Z');
const policies = ['daily'];

const day = (d: number) => `2026-01-${String(d).padStart(2, '0')}T03:00:00.000Z`;

const source = (kind: CopyKind, db: string, d: number): Snapshot => {
  const id = `steward-${db}-202601${String(d).padStart(2, '0')}0300-sched`;
  return {
    kind,
    id,
    arn: `arn:aws:rds:${PRIMARY}:111122223333:${kind === 'aurora-cluster' ? 'cluster-snapshot' : 'snapshot'}:${id}`,
    region: PRIMARY,
    sourceId: db,
    createdAt: day(d),
    status: 'available',
    type: 'manual',
    encrypted: true,
    tags: { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': db },
  };
};

const copyOf = (s: Snapshot, status: string): Snapshot => ({
  ...s,
  id: copyTargetIdOf(s),
  arn: s.arn.replace(PRIMARY, DR).replace(s.id, copyTargetIdOf(s)),
  region: DR,
  sourceRegion: PRIMARY,
  status,
  tags: { ...s.tags, 'steward:copied-from': s.arn },
});

const queued = (kind: CopyKind, db: string, newest?: number, waiting = 15): QueuedCopy => ({
  kind,
  db,
  snapshot: { id: `${db}-${waiting}`, arn: `arn:${db}-${waiting}`, createdAt: day(waiting) },
  ...(newest !== undefined ? { newestCopyAt: day(newest) } : {}),
  missing: 1,
});

const arbKind = fc.constantFrom<CopyKind>('rds-instance', 'aurora-cluster');
const arbQueue: fc.Arbitrary<CopyQueue> = fc
  .record({
    inFlight: fc.array(fc.record({ kind: arbKind, db: fc.integer({ min: 0, max: 40 }) }), { maxLength: 30 }),
    pending: fc.array(
      fc.record({
        kind: arbKind,
        db: fc.integer({ min: 0, max: 40 }),
        newest: fc.option(fc.integer({ min: 1, max: 28 }), { nil: undefined }),
        waiting: fc.integer({ min: 1, max: 28 }),
      }),
      { maxLength: 60 },
    ),
  })
  .map(({ inFlight, pending }) => ({
    inFlight: inFlight.map((f, i) => ({ kind: f.kind, db: `db${f.db}`, targetId: `t${i}`, since: day(1) })),
    pending: pending.map((p) => queued(p.kind, `db${p.db}`, p.newest, p.waiting)),
  }));

describe('scheduleCopies', () => {
  it('starts oldest-missing first: a database never copied, then the one whose newest DR copy is oldest', () => {
    // Prepare
    const queue: CopyQueue = {
      inFlight: [],
      pending: [
        queued('rds-instance', 'fresh', 14),
        queued('rds-instance', 'stale', 3),
        queued('rds-instance', 'never'),
      ],
    };

    // Act
    const s = scheduleCopies(queue, copyLimits(2), NOW);

    // Assert
    expect(s.start.map((q) => q.db)).toEqual(['never', 'stale']);
    expect(s.waiting.map((w) => [w.copy.db, w.why])).toEqual([['fresh', 'limit']]);
    expect(s.queue.inFlight.map((f) => [f.db, f.since])).toEqual([
      ['never', NOW.toISOString()],
      ['stale', NOW.toISOString()],
    ]);
    expect(s.queue.pending.map((q) => q.db)).toEqual(['fresh']);
  });

  it('never exceeds the limits per destination: total, per kind (clusters 5) and one per database (property)', () => {
    fc.assert(
      fc.property(arbQueue, fc.integer({ min: 1, max: 25 }), (queue, configured) => {
        const limits = copyLimits(configured);
        const { queue: after, start } = scheduleCopies(queue, limits, NOW);
        const count = (q: CopyQueue, kind?: CopyKind) =>
          q.inFlight.filter((f) => kind === undefined || f.kind === kind).length;
        // Starting never takes the destination over a limit (what was already over stays, nothing is added).
        if (start.length) expect(count(after)).toBeLessThanOrEqual(limits.total);
        for (const kind of ['rds-instance', 'aurora-cluster'] as const)
          if (start.some((q) => q.kind === kind))
            expect(count(after, kind)).toBeLessThanOrEqual(limits.perKind[kind]);
        expect(limits.total).toBeLessThanOrEqual(20);
        expect(limits.perKind['aurora-cluster']).toBeLessThanOrEqual(5);
        const busy = new Set(queue.inFlight.map((f) => dbKey(f.kind, f.db)));
        const startedDbs = start.map((q) => dbKey(q.kind, q.db));
        expect(new Set(startedDbs).size).toBe(startedDbs.length);
        for (const k of startedDbs) expect(busy.has(k)).toBe(false);
      }),
    );
  });

  it('starts in oldest-missing order: nothing waiting for a slot goes before anything started (property)', () => {
    fc.assert(
      fc.property(arbQueue, fc.integer({ min: 1, max: 25 }), (queue, configured) => {
        const { start, waiting } = scheduleCopies(queue, copyLimits(configured), NOW);
        for (const w of waiting.filter((x) => x.why === 'limit'))
          for (const s of start.filter((x) => x.kind === w.copy.kind))
            expect(byOldestMissing(s, w.copy)).toBeLessThan(0);
      }),
    );
  });

  it('accounts for every queued database: started, or waiting with a reason (property)', () => {
    fc.assert(
      fc.property(arbQueue, fc.integer({ min: 1, max: 25 }), (queue, configured) => {
        const { start, waiting, queue: after } = scheduleCopies(queue, copyLimits(configured), NOW);
        const keys = new Set(queue.pending.map((q) => dbKey(q.kind, q.db)));
        const seen = [
          ...start.map((q) => dbKey(q.kind, q.db)),
          ...waiting.map((w) => dbKey(w.copy.kind, w.copy.db)),
        ];
        expect(new Set(seen)).toEqual(keys);
        expect(after.pending.length).toBe(waiting.length);
      }),
    );
  });
});

describe('applyObservation', () => {
  it("replaces only the observed database's entries; a reservation newer than the listing survives it", () => {
    // Prepare
    const queue: CopyQueue = {
      inFlight: [
        { kind: 'rds-instance', db: 'a', targetId: 'a-old', since: '2026-01-15T05:00:00.000Z' },
        { kind: 'rds-instance', db: 'a', targetId: 'a-new', since: '2026-01-15T06:30:00.000Z' },
        { kind: 'rds-instance', db: 'b', targetId: 'b-1', since: '2026-01-15T05:00:00.000Z' },
      ],
      pending: [queued('rds-instance', 'a', 3), queued('rds-instance', 'c', 2)],
    };

    // Act
    const next = applyObservation(queue, {
      scope: [dbKey('rds-instance', 'a')],
      at: NOW.toISOString(),
      inFlight: [],
      pending: [queued('rds-instance', 'a', 14)],
      lag: {},
    });

    // Assert
    expect(next.inFlight.map((f) => f.targetId)).toEqual(['a-new', 'b-1']);
    expect(next.pending.map((q) => [q.db, q.newestCopyAt])).toEqual([
      ['c', day(2)],
      ['a', day(14)],
    ]);
  });

  it('keeps a reservation the listing cannot show yet for the grace period, unless it saw that copy finish', () => {
    // Prepare: three reservations made as the listing started; one copy the listing saw finished.
    const since = NOW.toISOString();
    const queue: CopyQueue = {
      inFlight: [
        { kind: 'rds-instance', db: 'a', targetId: 'a-1', since },
        { kind: 'rds-instance', db: 'b', targetId: 'b-1', since },
        { kind: 'rds-instance', db: 'c', targetId: 'c-1', since: day(14) },
      ],
      pending: [],
    };

    // Act
    const next = applyObservation(queue, {
      scope: ['a', 'b', 'c'].map((db) => dbKey('rds-instance', db)),
      at: NOW.toISOString(),
      inFlight: [],
      pending: [],
      lag: {},
      done: ['b-1'],
    });

    // Assert: a's copy may not be requested yet (kept); b's finished; c's reservation is a day old.
    expect(next.inFlight.map((f) => f.targetId)).toEqual(['a-1']);
    expect(Date.parse(since) - RESERVATION_GRACE_MS).toBeLessThan(NOW.getTime());
  });

  it('a full listing replaces everything but the reservations made after it started', () => {
    // Prepare
    const queue: CopyQueue = {
      inFlight: [
        { kind: 'rds-instance', db: 'gone', targetId: 'x', since: '2026-01-15T05:00:00.000Z' },
        { kind: 'rds-instance', db: 'raced', targetId: 'y', since: '2026-01-15T06:00:01.000Z' },
      ],
      pending: [queued('rds-instance', 'stale', 1)],
    };

    // Act
    const next = applyObservation(queue, { at: NOW.toISOString(), inFlight: [], pending: [], lag: {} });

    // Assert: it also dates the sweep.
    expect(next).toEqual({ inFlight: [queue.inFlight[1]], pending: [], sweptAt: NOW.toISOString(), lag: {} });
  });
});

describe('the copy pipeline over days of events', () => {
  const arbEstate = fc.array(
    fc.record({
      kind: arbKind,
      // Days with a snapshot; a copy of some of them already in DR.
      days: fc.uniqueArray(fc.integer({ min: 1, max: 14 }), { minLength: 1, maxLength: 5 }),
      copied: fc.uniqueArray(fc.integer({ min: 1, max: 14 }), { maxLength: 3 }),
    }),
    { minLength: 1, maxLength: 25 },
  );

  it('starts every missing copy eventually, and never more than the limits at once (property)', () => {
    fc.assert(
      fc.property(
        arbEstate,
        fc.integer({ min: 1, max: 20 }),
        fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })),
        (estate, configured, coin) => {
          const primary = estate.flatMap((e, i) => e.days.map((d) => source(e.kind, `db-${i}`, d)));
          const dr = estate.flatMap((e, i) =>
            e.copied
              .filter((d) => e.days.includes(d))
              .map((d) => copyOf(source(e.kind, `db-${i}`, d), 'available')),
          );
          const limits = copyLimits(configured);
          let queue = emptyQueue();
          const rounds = primary.length * 2 + 2;
          const coins = coin[Symbol.iterator]();
          for (let r = 0; r < rounds; r++) {
            // The hourly full listing, or an event about one database: both must keep the queue right.
            const at = new Date(NOW.getTime() + r * 60_000);
            const listing = observeCopies(primary, dr, policies, at);
            queue = applyObservation(queue, listing.observation);
            const s = scheduleCopies(queue, limits, at);
            queue = s.queue;
            for (const q of s.start) {
              const src = primary.find((p) => p.id === q.snapshot.id)!;
              dr.push(copyOf(src, 'copying'));
            }
            const inFlight = dr.filter((d) => d.status === 'copying');
            expect(inFlight.length).toBeLessThanOrEqual(limits.total);
            expect(inFlight.filter((d) => d.kind === 'aurora-cluster').length).toBeLessThanOrEqual(5);
            // Copies finish in any order; at least one per round while any is in flight.
            inFlight.forEach((d, i) => {
              if (i === 0 || (coins.next().value as number) < 0.5) d.status = 'available';
            });
            queue = releaseCopies(
              queue,
              inFlight.filter((d) => d.status === 'available').map((d) => d.id),
            );
          }
          const copied = new Set(dr.map((d) => d.tags['steward:copied-from']));
          for (const p of primary) expect(copied.has(p.arn)).toBe(true);
        },
      ),
    );
  });
});
