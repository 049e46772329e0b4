import { CopyDBSnapshotCommand, type DBSnapshot, RDSClient } from '@aws-sdk/client-rds';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { drCopyId } from '../../../shared/backup/ids.js';
import copiedEvent from '../../../events/rds/snapshot-copied.json' with { type: 'json' };
import createdEvent from '../../../events/rds/snapshot-created.json' with { type: 'json' };
import { installDrEstate, type MockedDrEstate } from '../../../bench/support/mocked-dr-estate.js';
import { run, wire } from '../../../functions/backup/handler.js';
import { copyQueueKey } from '../../../shared/aws/copy-ledger.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';

// The backup function through its real adapters (RDS and DynamoDB mocked, with state and pages as AWS
// keeps them): an RDS snapshot event reconciles its own database with targeted describes and the stored
// queue, a constant number of calls whatever the estate; the hourly safety net lists everything.
const PRIMARY = 'eu-west-1';
const DR = 'us-west-2';
const ACCOUNT = '111122223333';
const KEY = `arn:aws:kms:${DR}:${ACCOUNT}:alias/steward-dr`;
const TABLE = 'steward-prod-state';
const NOW = new Date('2026-01-15T03:30:00Z');
const DAYS = 30;

const config = parseConfig(
  {
    stage: 'prod',
    region: PRIMARY,
    backup: { policies: { daily: { kinds: ['rds-instance', 'aurora-cluster'], copyToDr: true } } },
    dr: { region: DR, kmsKeyArn: KEY },
  },
  'test',
);
const base = () => ({ config, dryRun: false, notifier: memoryNotifier(), now: () => NOW });

const rds = mockClient(RDSClient);
const ddb = mockClient(DynamoDBDocumentClient);

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const dbName = (i: number) => (i === 7 ? 'orders-db' : `db-${pad(i, 3)}`);
const snapId = (db: string, day: number) => `steward-${db}-202601${pad(day, 2)}0300-sched`;
const snapArn = (region: string, id: string) => `arn:aws:rds:${region}:${ACCOUNT}:snapshot:${id}`;
const tags = (db: string) => [
  { Key: 'steward:managed', Value: 'true' },
  { Key: 'steward:policy', Value: 'daily' },
  { Key: 'steward:source', Value: db },
];

/**
 * An estate of `n` databases with a daily snapshot each for 30 days (the 15th is today's), all copied to
 * DR except the newest: after the 03:00 backup, every database has one copy to make.
 */
const estate = (n: number) => {
  const regions: Record<string, DBSnapshot[]> = { [PRIMARY]: [], [DR]: [] };
  for (let i = 0; i < n; i++) {
    const db = dbName(i);
    for (let d = 1; d <= DAYS; d++) {
      const day = d <= 15 ? d : d - 15; // 15 distinct days, two snapshots a day: 30 per database
      const id = d <= 15 ? snapId(db, day) : `${snapId(db, day)}-2`;
      const snap: DBSnapshot = {
        DBSnapshotIdentifier: id,
        DBSnapshotArn: snapArn(PRIMARY, id),
        DBInstanceIdentifier: db,
        SnapshotCreateTime: new Date(`2026-01-${pad(day, 2)}T03:01:00Z`),
        Status: 'available',
        SnapshotType: 'manual',
        Encrypted: true,
        TagList: tags(db),
      };
      regions[PRIMARY]!.push(snap);
      if (day < 15)
        regions[DR]!.push({
          ...snap,
          DBSnapshotArn: snapArn(DR, id),
          SourceRegion: PRIMARY,
          OriginalSnapshotCreateTime: snap.SnapshotCreateTime,
          SnapshotCreateTime: new Date(`2026-01-${pad(day, 2)}T04:00:00Z`),
          TagList: [...tags(db), { Key: 'steward:copied-from', Value: snap.DBSnapshotArn! }],
        });
    }
  }
  return regions;
};

let regions: Record<string, DBSnapshot[]>;
let aws: MockedDrEstate;
const calls = () => {
  const { rds: r, dynamodb, describes } = aws.calls();
  return { rds: r, dynamodb, describes };
};

beforeEach(() => {
  rds.reset();
  ddb.reset();
  regions = {};
  // RDS and the state table as AWS keeps them (filters, pages behind a Marker, one conditional item).
  aws = installDrEstate(
    {
      get regions() {
        return regions;
      },
    },
    rds,
    ddb,
  );
});

const item = () => aws.state.item;
const deployed = () => wire(base(), { STATE_TABLE: TABLE });
const finish = (id: string) => aws.finish(DR, id);
const copiedTargets = () => aws.copied();

describe('DR copies driven by RDS events', () => {
  it.each([10, 500])(
    'with %i databases an event costs the same few calls; the hourly listing fills the queue',
    async (n) => {
      // Prepare: the hourly safety net after the 03:00 backup lists everything and starts the first 20.
      regions = estate(n);
      const deps = deployed();
      await run({ action: 'reconcile-copies' }, deps);
      const hourly = calls();
      const started = copiedTargets();
      expect(started).toHaveLength(Math.min(n, 20));
      expect(item()!.pk).toBe(copyQueueKey(DR));
      rds.resetHistory();
      ddb.resetHistory();

      // Act: one copy finishes (RDS-EVENT-0060 in the DR region).
      const done = started[0]!;
      finish(done);
      const event = structuredClone(copiedEvent);
      event.detail.SourceArn = snapArn(DR, done);
      event.detail.SourceIdentifier = done;
      const result = await run(event, deps);

      // Assert: three describes of its database, the queue read and written, the next copy read, the DR
      // region's quota read (DescribeAccountAttributes) and the copy started.
      const perEvent = calls();
      // With 10 databases nothing else waits, so the slot goes to the same database's older snapshot.
      expect(perEvent).toEqual(
        n > 20 ? { rds: 6, dynamodb: 2, describes: 4 } : { rds: 5, dynamodb: 2, describes: 3 },
      );
      expect(result.copies!.start).toHaveLength(1);
      // The hourly full listing pages through both regions: it grows with the estate, the event does not.
      expect(hourly.describes).toBe(Math.ceil((n * DAYS) / 100) + Math.ceil((n * 28) / 100));
    },
  );

  it('a copy that finishes with nothing of its database behind it is settled by its event alone: no describe of the copy', async () => {
    // Prepare: 500 databases with one copy to make each (today's second snapshot not taken); the hourly
    // run starts 20, each with nothing behind it.
    regions = estate(500);
    regions[PRIMARY] = regions[PRIMARY]!.filter((s) => !s.DBSnapshotIdentifier!.endsWith('150300-sched-2'));
    const deps = deployed();
    await run({ action: 'reconcile-copies' }, deps);
    const started = copiedTargets();
    aws.resetHistory();

    // Act: one copy finishes (RDS-EVENT-0060 in the DR region).
    finish(started[0]!);
    const event = structuredClone(copiedEvent);
    event.detail.SourceArn = snapArn(DR, started[0]!);
    event.detail.SourceIdentifier = started[0]!;
    const result = await run(event, deps);

    // Assert: the queue read and written, the next queued source read again and copied; the finished copy
    // itself is not described (the event says it finished, the queue says nothing of it waits); the DR
    // region's quota read before the copy.
    expect(aws.calls()).toEqual({ rds: 3, dynamodb: 2, describes: 1, listings: 0 });
    expect(result.copies!.start).toHaveLength(1);
    expect(JSON.stringify(item())).not.toContain(started[0]!);
  });

  it('a "snapshot created" event of a database the queue knows, with no slot free, reads nothing but the queue', async () => {
    // Prepare: 500 databases after the sweep (20 copies in flight, the rest queued); a database that waits
    // takes its next scheduled snapshot.
    regions = estate(500);
    const deps = deployed();
    await run({ action: 'reconcile-copies' }, deps);
    const db = dbName(100);
    const id = snapId(db, 16);
    regions[PRIMARY]!.push({
      ...regions[PRIMARY]!.find((s) => s.DBInstanceIdentifier === db)!,
      DBSnapshotIdentifier: id,
      DBSnapshotArn: snapArn(PRIMARY, id),
      SnapshotCreateTime: new Date('2026-01-16T03:01:00Z'),
    });
    aws.resetHistory();

    // Act
    const event = structuredClone(createdEvent);
    event.detail.SourceArn = snapArn(PRIMARY, id);
    event.detail.SourceIdentifier = id;
    await run(event, deps);

    // Assert: the queue read and written with the database's next copy; the snapshot is read once, when its
    // copy starts (not now: no slot is free).
    expect(aws.calls()).toEqual({ rds: 0, dynamodb: 2, describes: 0, listings: 0 });
    expect(JSON.stringify(item())).toContain(id);
  });

  it.each([60, 500])(
    'with %i databases the hourly run after the daily sweep reads only the copies in flight and the databases they finished: the same calls',
    async (n) => {
      // Prepare: the first run sweeps both regions (nothing swept yet) and starts 20 copies; three of them
      // finish and their events are lost (EventBridge delivery is best effort).
      regions = estate(n);
      const deps = deployed();
      await run({ action: 'reconcile-copies' }, deps);
      const started = copiedTargets();
      for (const id of started.slice(0, 3)) finish(id);
      aws.resetHistory();

      // Act: the next hourly run.
      const result = await run({ action: 'reconcile-copies' }, deps);

      // Assert: no listing; one describe of the 20 copies in flight, the three finished databases in each
      // region, the three next queued sources read again and copied (after one read of the DR region's quota);
      // the queue read and written once.
      expect(aws.calls()).toEqual({ rds: 14, dynamodb: 2, describes: 10, listings: 0 });
      expect(result.copies!.start).toHaveLength(3);
      expect(copiedTargets().filter((id) => started.includes(id))).toEqual([]);
      expect(regions[DR]!.filter((s) => s.Status === 'pending')).toHaveLength(20);
    },
  );

  it("an event's run starts the next database in oldest-missing order and never passes 20 in flight", async () => {
    // Prepare
    regions = estate(60);
    const deps = deployed();
    await run({ action: 'reconcile-copies' }, deps);
    const first = copiedTargets();

    // Act: every copy in flight finishes, one event each.
    for (const id of first) {
      finish(id);
      const event = structuredClone(copiedEvent);
      event.detail.SourceArn = snapArn(DR, id);
      event.detail.SourceIdentifier = id;
      await run(event, deps);
    }

    // Assert
    const all = copiedTargets();
    expect(all).toHaveLength(40);
    const inFlight = regions[DR]!.filter((s) => s.Status === 'pending');
    expect(inFlight).toHaveLength(20);
    // Every database copies its newest snapshot (15th, second of the day) before any older one.
    expect(all.every((id) => id!.endsWith('202601150300-sched-2-euw1'))).toBe(true);
    expect(new Set(all).size).toBe(40);
  });

  it('a "snapshot created" event of a database with a free slot starts its copy in a few calls', async () => {
    // Prepare: a small estate, nothing in flight, the queue empty (no hourly run yet).
    regions = estate(8);
    const deps = deployed();

    // Act
    const result = await run(structuredClone(createdEvent), deps);

    // Assert
    expect(copiedTargets()).toEqual([drCopyId(snapId('orders-db', 15) + '-2', PRIMARY)]);
    expect(calls()).toEqual({ rds: 5, dynamodb: 2, describes: 3 });
    expect(result.summary).toBe('DR copies 1 started, 1 deferred, 0 already in flight, 0 failed');
  });

  it('without the state table (a local run) an event lists both regions in full, as before', async () => {
    // Prepare
    regions = estate(500);
    const deps = wire(base(), {});

    // Act
    await run(structuredClone(createdEvent), deps);

    // Assert: every page of both regions, for one event.
    expect(calls().describes).toBe(Math.ceil((500 * DAYS) / 100) + Math.ceil((500 * 28) / 100));
    expect(calls().dynamodb).toBe(0);
  });
});

describe('a copy that does not start', () => {
  it('gives its slot back and queues its database again (KMS refused the copy)', async () => {
    // Prepare
    regions = estate(8);
    const deps = deployed();
    rds
      .on(CopyDBSnapshotCommand)
      .rejects(
        Object.assign(new Error('KMS key is disabled'), { name: 'KMSKeyNotAccessibleFault', $metadata: {} }),
      );

    // Act
    const run1 = run(structuredClone(createdEvent), deps);

    // Assert
    await expect(run1).rejects.toThrow(/KMS key is disabled/);
    // The item's lists are JSON strings (shared/aws/copy-ledger.ts).
    const stored = {
      inFlight: JSON.parse(item()!.inFlight as string) as unknown[],
      pending: JSON.parse(item()!.pending as string) as { db: string }[],
    };
    expect(stored.inFlight).toEqual([]);
    expect(stored.pending.map((q) => q.db)).toEqual(['orders-db']);
  });
});
