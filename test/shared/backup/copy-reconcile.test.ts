import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reconcileCopies, SWEEP_EVERY_MS } from '../../../shared/backup/copies.js';
import { type CopyKind, dbKey } from '../../../shared/backup/copy-plan.js';
import { parseConfig } from '../../../shared/config/schema.js';
import type { Snapshot } from '../../../shared/model.js';
import {
  fakeCopyPort,
  fakeSnapshotArn,
  fakeSnapshotReader,
  memoryCopyLedger,
} from '../../fakes/backup-ports.js';
import { type FakeSnapshotStore, fakeSnapshotStore } from '../../fakes/snapshot-store.js';

// The copy reconcile as deployed (the queue kept, targeted reads), hour by hour: copies finish in any order,
// RDS events about them arrive or are lost (and Aurora sends none), and the hourly run, the events and a
// "snapshot created" event run concurrently against one queue. Between daily sweeps nothing lists a region.
const PRIMARY = 'eu-west-1';
const DR = 'us-west-2';
const START = Date.parse('2026-01-15T04:00:00Z');
const HOUR = 3_600_000;

const config = (maxCopiesInFlight: number) =>
  parseConfig(
    {
      stage: 'prod',
      region: PRIMARY,
      backup: {
        maxCopiesInFlight,
        policies: { daily: { kinds: ['rds-instance', 'aurora-cluster'], copyToDr: true } },
      },
      dr: { region: DR, kmsKeyArn: 'arn:aws:kms:us-west-2:111122223333:alias/steward-dr' },
    },
    'test',
  );

const source = (kind: CopyKind, db: string, day: number): Snapshot => {
  const id = `steward-${db}-202601${String(day).padStart(2, '0')}0300-sched`;
  return {
    kind,
    id,
    arn: fakeSnapshotArn(kind, PRIMARY, id),
    region: PRIMARY,
    sourceId: db,
    createdAt: `2026-01-${String(day).padStart(2, '0')}T03:00:00.000Z`,
    status: 'available',
    type: 'manual',
    encrypted: true,
    tags: { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': db },
  };
};

const copyOf = (s: Snapshot): Snapshot => ({
  ...s,
  arn: fakeSnapshotArn(s.kind, DR, s.id),
  region: DR,
  sourceRegion: PRIMARY,
  tags: { ...s.tags, 'steward:copied-from': s.arn },
});

/** Counts list calls: between sweeps the hourly run must not list either region. */
const counted = (store: FakeSnapshotStore) => {
  let lists = 0;
  return {
    store: {
      ...store,
      list: (kinds: Parameters<FakeSnapshotStore['list']>[0]) => (lists++, store.list(kinds)),
    },
    lists: () => lists,
  };
};

const arbEstate = fc.array(
  fc.record({
    kind: fc.constantFrom<CopyKind>('rds-instance', 'aurora-cluster'),
    days: fc.uniqueArray(fc.integer({ min: 1, max: 14 }), { minLength: 1, maxLength: 4 }),
    copied: fc.uniqueArray(fc.integer({ min: 1, max: 14 }), { maxLength: 2 }),
  }),
  { minLength: 1, maxLength: 12 },
);

describe('the DR copy reconcile between sweeps', () => {
  it('never passes the limits, copies every snapshot, and lists the regions only once a day (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbEstate,
        fc.integer({ min: 1, max: 20 }),
        fc.infiniteStream(fc.double({ min: 0, max: 1, noNaN: true })),
        async (estate, configured, coin) => {
          // Prepare
          const coins = coin[Symbol.iterator]();
          const flip = (p: number) => (coins.next().value as number) < p;
          const sources = estate.flatMap((e, i) => e.days.map((d) => source(e.kind, `db-${i}`, d)));
          const primary = fakeSnapshotStore(PRIMARY, sources);
          const drStore = fakeSnapshotStore(
            DR,
            estate.flatMap((e, i) =>
              e.copied.filter((d) => e.days.includes(d)).map((d) => copyOf(source(e.kind, `db-${i}`, d))),
            ),
          );
          const p = counted(primary);
          const d = counted(drStore);
          let now = START;
          const deps = {
            config: config(configured),
            now: () => new Date(now),
            dr: fakeCopyPort(DR, drStore),
            snapshots: { primary: p.store, dr: d.store },
            readers: { primary: fakeSnapshotReader(primary), dr: fakeSnapshotReader(drStore) },
            copyLedger: memoryCopyLedger(),
          };
          const total = Math.min(configured, 20);
          const hours = sources.length * 2 + 30;

          for (let h = 0; h < hours; h++) {
            now = START + h * HOUR;
            // Copies in flight finish in any order (at least one an hour); RDS tells about half of the DB
            // snapshot copies and none of the cluster copies.
            const inFlight = drStore.snapshots.filter((s) => s.status === 'copying');
            const finished = inFlight.filter((_, i) => i === 0 || flip(0.5));
            for (const s of finished) s.status = 'available';
            const events = finished.filter((s) => s.kind === 'rds-instance' && flip(0.5));
            // "Snapshot created" events, repeated by EventBridge, about databases the queue may be starting.
            const created = sources.filter(() => flip(0.1)).slice(0, 2);

            // Act: the hourly run, the events and a repeated "created" event, all at once.
            await Promise.all([
              reconcileCopies(deps, false),
              ...events.map((s) =>
                reconcileCopies(deps, false, {
                  eventId: 'RDS-EVENT-0060',
                  kind: 'rds-instance',
                  id: s.id,
                  region: DR,
                }),
              ),
              ...created.map((c) =>
                reconcileCopies(deps, false, {
                  eventId: 'RDS-EVENT-0042',
                  kind: c.kind as Exclude<CopyKind, 'ebs'>,
                  id: c.id,
                  region: PRIMARY,
                }),
              ),
            ]);

            // Assert: the limits held, one copy per database.
            const copying = drStore.snapshots.filter((s) => s.status === 'copying');
            expect(copying.length).toBeLessThanOrEqual(total);
            expect(copying.filter((s) => s.kind === 'aurora-cluster').length).toBeLessThanOrEqual(
              Math.min(5, total),
            );
            const dbs = copying.map((s) => dbKey(s.kind, s.sourceId));
            expect(new Set(dbs).size).toBe(dbs.length);
          }

          // Assert: every source reached DR; both regions were listed once a day at most (day 1 and day 2).
          const copied = new Set(drStore.snapshots.map((s) => s.tags['steward:copied-from']));
          for (const s of sources) expect(copied.has(s.arn)).toBe(true);
          const days = Math.ceil((hours * HOUR) / SWEEP_EVERY_MS);
          expect(p.lists()).toBeLessThanOrEqual(days);
          expect(d.lists()).toBeLessThanOrEqual(days);
        },
      ),
      { numRuns: 12 },
    );
  });
});

describe('an event the queue settles without a describe', () => {
  it('a "created" event still has its source read before the copy starts: a snapshot not steward\'s is never copied', async () => {
    // Prepare: yesterday's snapshot of "orders" is in DR and the queue knows the database (the sweep); today a
    // snapshot with steward's scheduled id appears, but without steward's tags (made by hand).
    const yesterday = source('rds-instance', 'orders', 14);
    const byHand: Snapshot = { ...source('rds-instance', 'orders', 15), tags: {} };
    const primary = fakeSnapshotStore(PRIMARY, [yesterday, byHand]);
    const drStore = fakeSnapshotStore(DR, [{ ...copyOf(yesterday), status: 'available' }]);
    const reader = fakeSnapshotReader(primary);
    const port = fakeCopyPort(DR, drStore);
    const ledger = memoryCopyLedger();
    const deps = {
      config: config(5),
      now: () => new Date(START),
      dr: port,
      snapshots: { primary, dr: drStore },
      readers: { primary: reader, dr: fakeSnapshotReader(drStore) },
      copyLedger: ledger,
    };
    await reconcileCopies(deps, false);
    reader.reads = 0;

    // Act: its "created" event.
    await reconcileCopies(deps, false, {
      eventId: 'RDS-EVENT-0042',
      kind: 'rds-instance',
      id: byHand.id,
      snapshot: byHand.arn,
      region: PRIMARY,
    });

    // Assert: one read (right before the copy would start), no copy, nothing left in flight or waiting.
    expect(reader.reads).toBe(1);
    expect(port.copies).toEqual([]);
    const { queue } = ledger.stored.get(DR)!;
    expect([queue.inFlight, queue.pending]).toEqual([[], []]);
  });
});
