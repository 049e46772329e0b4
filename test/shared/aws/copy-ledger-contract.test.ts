import { describe, expect, it } from 'vitest';
import { dynamoCopyLedger, dynamoCopySlots } from '../../../shared/aws/copy-ledger.js';
import { reconcileCopies } from '../../../shared/backup/copies.js';
import { drCopyId } from '../../../shared/backup/ids.js';
import type { CopyLedger } from '../../../shared/backup/ports.js';
import { parseConfig } from '../../../shared/config/schema.js';
import type { Snapshot } from '../../../shared/model.js';
import {
  dailySnapshot,
  fakeCopyPort,
  fakeSnapshotArn,
  fakeSnapshotReader,
} from '../../fakes/backup-ports.js';
import { fakeSnapshotStore } from '../../fakes/snapshot-store.js';
import { motoStateTables } from '../../support/state-table.js';

// A file of its own: the adapter's unit tests mock DynamoDBDocumentClient for the whole file. Against moto's
// DynamoDB behind a gate that serialises requests (DynamoDB makes each conditional write atomic; moto's
// threads do not), as the deployed function's concurrent invocations meet the one queue item.
const PRIMARY = 'eu-west-1';
const DR = 'us-west-2';
const NOW = new Date('2026-01-15T03:20:00Z');
const tables = motoStateTables();

const config = parseConfig(
  {
    stage: 'prod',
    region: PRIMARY,
    backup: { maxCopiesInFlight: 5, policies: { daily: { kinds: ['rds-instance'], copyToDr: true } } },
    dr: { region: DR, kmsKeyArn: 'arn:aws:kms:us-west-2:111122223333:alias/steward-dr' },
  },
  'test',
);

const snapshot = (db: string): Snapshot => dailySnapshot('rds-instance', PRIMARY, db);

/** `dbs` databases with one snapshot each to copy, fake RDS in both regions, and `ledger` as the queue. */
const estate = (dbs: readonly string[], ledger: CopyLedger) => {
  const primary = fakeSnapshotStore(PRIMARY, dbs.map(snapshot));
  const drStore = fakeSnapshotStore(DR);
  const dr = fakeCopyPort(DR, drStore);
  const deps = {
    config,
    now: () => NOW,
    dr,
    snapshots: { primary, dr: drStore },
    readers: { primary: fakeSnapshotReader(primary), dr: fakeSnapshotReader(drStore) },
    copyLedger: ledger,
  };
  return { deps, dr, drStore };
};

/** The same burst of "snapshot created" events, all at once, each about its own database. */
const burst = (deps: ReturnType<typeof estate>['deps'], dbs: readonly string[]) =>
  Promise.all(
    dbs.map((db) =>
      reconcileCopies(deps, false, {
        eventId: 'RDS-EVENT-0042',
        kind: 'rds-instance',
        id: snapshot(db).id,
        region: PRIMARY,
      }),
    ),
  );

describe('DR copy queue over DynamoDB (moto), under concurrent RDS events', () => {
  it('twelve concurrent "snapshot created" events start exactly 5 copies and queue the other 7', async () => {
    // Prepare
    const { doc, name } = await tables.table();
    const ledger: CopyLedger = dynamoCopyLedger(doc, name);
    const dbs = Array.from({ length: 12 }, (_, i) => `db-${String(i).padStart(2, '0')}`);
    const { deps, dr } = estate(dbs, ledger);

    // Act: every event at once, each about its own database.
    const runs = await burst(deps, dbs);

    // Assert: the limit held across runs, and no run's database was lost from the queue.
    expect(dr.copies).toHaveLength(5);
    expect(runs.reduce((n, r) => n + r.copies!.start.length, 0)).toBe(5);
    const { queue, version } = await ledger.read(DR);
    expect(queue.inFlight).toHaveLength(5);
    expect(queue.pending.map((q) => q.db).sort()).toEqual(
      dbs.filter((db) => !dr.copies.some((c) => c.targetId === drCopyId(snapshot(db).id, PRIMARY))).sort(),
    );
    expect(version).toBeGreaterThanOrEqual(12);
  });

  it('the same burst against a queue written without the version condition passes the limit (the fault it prevents)', async () => {
    // Prepare: last writer wins, as a write without the condition would.
    const { doc, name } = await tables.table();
    const real = dynamoCopyLedger(doc, name);
    const unconditional: CopyLedger = {
      read: (d) => real.read(d),
      write: async (d, q) => {
        // Overwrite whatever is there now with this run's plan.
        while (!(await real.write(d, q, (await real.read(d)).version)));
        return true;
      },
    };
    const dbs = Array.from({ length: 12 }, (_, i) => `db-${String(i).padStart(2, '0')}`);
    const { deps, dr } = estate(dbs, unconditional);

    // Act
    await burst(deps, dbs);

    // Assert
    expect(dr.copies.length).toBeGreaterThan(5);
  });

  it('a copy-finished event frees its slot and starts the next database from the queue', async () => {
    // Prepare: six databases, five copies in flight, one queued.
    const { doc, name } = await tables.table();
    const ledger = dynamoCopyLedger(doc, name);
    const dbs = Array.from({ length: 6 }, (_, i) => `db-${i}`);
    const { deps, dr, drStore } = estate(dbs, ledger);
    await reconcileCopies(deps, false);
    expect(dr.copies).toHaveLength(5);
    const first = drStore.snapshots[0]!;
    first.status = 'available';

    // Act
    const r = await reconcileCopies(deps, false, {
      eventId: 'RDS-EVENT-0060',
      kind: 'rds-instance',
      id: first.id,
      region: DR,
    });

    // Assert
    expect(r.copies!.start.map((c) => c.targetId)).toEqual([drCopyId(snapshot('db-5').id, PRIMARY)]);
    expect(dr.copies).toHaveLength(6);
    const { queue } = await ledger.read(DR);
    expect(queue.inFlight.map((f) => f.db).sort()).toEqual(['db-1', 'db-2', 'db-3', 'db-4', 'db-5']);
    expect(queue.pending).toEqual([]);
  });
});

/** A prod fleet in eu-west-1 that copies its daily RDS snapshots to DR, 5 copies in flight at most, with `target`. */
const fleetCopyingToDr = (target: { account?: string; regions: string[] }) =>
  parseConfig(
    {
      stage: 'prod',
      account: '111111111111',
      region: PRIMARY,
      fleet: { organizationId: 'o-a1b2c3d4e5' },
      backup: { maxCopiesInFlight: 5, policies: { daily: { kinds: ['rds-instance'], copyToDr: true } } },
      dr: { region: DR, kmsKeyArn: 'arn:aws:kms:us-west-2:111122223333:alias/steward-dr' },
      targets: [target],
    },
    'test',
  );

// Two source regions of one account (the hub's own with its queue, and another with none, listing in full)
// copy into one DR region at once: the destination's slots over moto's DynamoDB are the one budget.
describe('DR copy slots of one account over DynamoDB (moto), two source regions at once', () => {
  const OTHER = 'eu-central-1';
  const fleet = fleetCopyingToDr({ regions: [PRIMARY, OTHER] });
  // AWS answers after a while: each run lists and requests while the other does.
  const later = () => new Promise((r) => setTimeout(r, 300));
  const slowly = <T extends object>(o: T, name: keyof T): T => ({
    ...o,
    [name]: async (...args: unknown[]) => {
      await later();
      return (o[name] as (...a: unknown[]) => unknown)(...args);
    },
  });
  const at = (region: string, db: string): Snapshot => {
    const s = snapshot(db);
    return { ...s, region, arn: fakeSnapshotArn('rds-instance', region, s.id) };
  };

  it('start exactly 5 copies between them, and the stored slots name both regions', async () => {
    // Prepare: four databases to copy in each region, one DR store, the slots and the hub region's queue
    const { doc, name } = await tables.table();
    const slots = dynamoCopySlots(doc, name, '111111111111', DR);
    const drStore = fakeSnapshotStore(DR);
    const runs = [PRIMARY, OTHER].map((region) => {
      const primary = fakeSnapshotStore(
        region,
        [1, 2, 3, 4].map((n) => at(region, `${region}-db-${n}`)),
      );
      return {
        config: { ...fleet, region },
        now: () => NOW,
        dr: slowly(fakeCopyPort(DR, drStore), 'copySnapshot'),
        snapshots: { primary, dr: slowly(drStore, 'list') },
        readers: { primary: fakeSnapshotReader(primary), dr: fakeSnapshotReader(drStore) },
        ...(region === PRIMARY ? { copyLedger: dynamoCopyLedger(doc, name) } : {}),
        copySlots: slots,
      };
    });

    // Act
    await Promise.all(runs.map((deps) => reconcileCopies(deps, false)));

    // Assert
    expect(drStore.snapshots.filter((s) => s.status === 'copying')).toHaveLength(5);
    const stored = await slots.read();
    const held = Object.values(stored.bySource).reduce((n, s) => n + s.use['rds-instance'], 0);
    expect(held).toBe(5);
    expect(Object.keys(stored.bySource).every((r) => [PRIMARY, OTHER].includes(r))).toBe(true);
  });
});

describe('DR copy slots of one spoke region over DynamoDB (moto), two runs of it at once', () => {
  const OTHER = 'eu-central-1';
  const spoke = fleetCopyingToDr({ account: '222222222222', regions: [PRIMARY, OTHER] });

  it('the second run counts what the first reserved but its listing did not show', async () => {
    // Prepare: four databases to copy in eu-west-1 of 222222222222; eu-central-1 holds one of the five slots
    const { doc, name } = await tables.table();
    const slots = dynamoCopySlots(doc, name, '222222222222', DR);
    const central = { 'rds-instance': 1, 'aurora-cluster': 0, ebs: 0 };
    await slots.write({ [OTHER]: { use: central, at: NOW.toISOString() } }, 0);
    const primary = fakeSnapshotStore(
      PRIMARY,
      [1, 2, 3, 4].map((n) => snapshot(`db-${n}`)),
    );
    const drStore = fakeSnapshotStore(DR);
    const port = fakeCopyPort(DR, drStore);
    let open!: () => void;
    const secondListed = new Promise<void>((r) => (open = r));
    const run = (listed: () => void, copyWhen: Promise<void>) => ({
      config: { ...spoke, account: '222222222222' },
      now: () => NOW,
      dr: {
        ...port,
        copySnapshot: async (i: Parameters<typeof port.copySnapshot>[0]) => (
          await copyWhen,
          port.copySnapshot(i)
        ),
      },
      snapshots: {
        primary: {
          ...primary,
          list: async (k: Parameters<typeof primary.list>[0]) => {
            const r = await primary.list(k);
            listed();
            return r;
          },
        },
        dr: drStore,
      },
      readers: { primary: fakeSnapshotReader(primary), dr: fakeSnapshotReader(drStore) },
      copySlots: slots,
    });
    let firstListed!: () => void;
    const listedFirst = new Promise<void>((r) => (firstListed = r));

    // Act: the first run lists, a new database's snapshot arrives (first in line), the second run lists, and
    // only then does the first request its copies
    const first = reconcileCopies(run(firstListed, secondListed), false);
    await listedFirst;
    primary.snapshots.push(snapshot('db-0'));
    const second = reconcileCopies(run(open, Promise.resolve()), false);
    await Promise.all([first, second]);

    // Assert: four in flight with eu-central-1's one, all four in eu-west-1's entry
    const copying = drStore.snapshots.filter((s) => s.status === 'copying');
    expect(copying).toHaveLength(4);
    const stored = (await slots.read()).bySource[PRIMARY]!;
    expect(stored.use['rds-instance']).toBe(4);
    expect(stored.inFlight!.map((f) => f.targetId).sort()).toEqual(copying.map((s) => s.id).sort());
  });
});

describe('what the stored queue and slots keep (moto)', () => {
  const ebsSet = {
    kind: 'ebs' as const,
    db: 'i-0abc1234def567890',
    targetId: 'steward-i-0abc1234def567890-202601150300-sched-euw1',
    since: NOW.toISOString(),
    behind: 0,
    weight: 3,
  };
  const cluster = {
    kind: 'aurora-cluster' as const,
    db: 'ledger',
    targetId: 'steward-ledger-202601150300-sched-euw1',
    since: NOW.toISOString(),
    behind: 0,
  };

  it("keeps a spoke region's copies in flight in its slots entry, an EBS set with its weight included", async () => {
    // Prepare
    const { doc, name } = await tables.table();
    const slots = dynamoCopySlots(doc, name, '222222222222', DR);
    const use = { 'rds-instance': 0, 'aurora-cluster': 1, ebs: 3 };

    // Act
    await slots.write({ [PRIMARY]: { use, at: NOW.toISOString(), inFlight: [cluster, ebsSet] } }, 0);
    const read = await slots.read();

    // Assert
    expect(read).toEqual({
      bySource: { [PRIMARY]: { use, at: NOW.toISOString(), inFlight: [cluster, ebsSet] } },
      version: 1,
    });
  });

  it("keeps the queue's EBS sets, in flight and waiting, with their weight", async () => {
    // Prepare
    const { doc, name } = await tables.table();
    const ledger = dynamoCopyLedger(doc, name);
    const waiting = {
      kind: 'ebs' as const,
      db: 'i-0fedcba9876543210',
      snapshot: {
        id: 'steward-i-0fedcba9876543210-202601150300-sched',
        arn: 'arn:aws:ec2:eu-west-1::snapshot/set',
      },
      missing: 1,
      weight: 2,
    };

    // Act
    await ledger.write(DR, { inFlight: [ebsSet], pending: [waiting], lag: {} }, 0);
    const read = await ledger.read(DR);

    // Assert
    expect(read.queue.inFlight).toEqual([ebsSet]);
    expect(read.queue.pending).toEqual([waiting]);
  });
});
