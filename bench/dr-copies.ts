import type { DBSnapshot } from '@aws-sdk/client-rds';
import { run, wire } from '../functions/backup/handler.js';
import { parseConfig } from '../shared/config/schema.js';
import { memoryNotifier } from '../shared/notify/notifier.js';
import type { BenchRow } from './stats.js';
import { dbSnapshotArn, mockDrEstate } from './support/mocked-dr-estate.js';

const PRIMARY = 'eu-west-1';
const DR = 'us-west-2';
const ACCOUNT = '111122223333';
const NOW = new Date('2026-01-15T03:30:00Z');
/** Snapshots per database in the primary region (daily, 30 days); all but today's are in DR. */
const DAYS = 30;
/** RDS Describe* page size steward asks for (the API's maximum). */
const PAGE = 100;

const config = parseConfig(
  {
    stage: 'bench',
    region: PRIMARY,
    backup: { policies: { daily: { kinds: ['rds-instance', 'aurora-cluster'], copyToDr: true } } },
    dr: { region: DR, kmsKeyArn: `arn:aws:kms:${DR}:${ACCOUNT}:alias/steward-dr` },
  },
  'bench',
);

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const arn = (region: string, id: string) => dbSnapshotArn(region, id, ACCOUNT);

/** `n` databases, a daily snapshot each for 30 days, all copied to DR but today's. */
const estate = (n: number): Record<string, DBSnapshot[]> => {
  const regions: Record<string, DBSnapshot[]> = { [PRIMARY]: [], [DR]: [] };
  for (let i = 0; i < n; i++) {
    const db = `db-${pad(i, 4)}`;
    for (let d = 1; d <= DAYS; d++) {
      const at = new Date(Date.UTC(2025, 11, 17 + d, 3));
      const id = `steward-${db}-${at.toISOString().slice(0, 10).replace(/-/g, '')}0300-sched`;
      const tags = [
        { Key: 'steward:managed', Value: 'true' },
        { Key: 'steward:policy', Value: 'daily' },
        { Key: 'steward:source', Value: db },
      ];
      const s: DBSnapshot = {
        DBSnapshotIdentifier: id,
        DBSnapshotArn: arn(PRIMARY, id),
        DBInstanceIdentifier: db,
        SnapshotCreateTime: at,
        Status: 'available',
        SnapshotType: 'manual',
        Encrypted: true,
        TagList: tags,
      };
      regions[PRIMARY]!.push(s);
      if (d < DAYS)
        regions[DR]!.push({
          ...s,
          DBSnapshotArn: arn(DR, id),
          SourceRegion: PRIMARY,
          OriginalSnapshotCreateTime: at,
          TagList: [...tags, { Key: 'steward:copied-from', Value: s.DBSnapshotArn! }],
        });
    }
  }
  return regions;
};

const copyFinished = (id: string) => ({
  version: '0',
  id: 'bench',
  'detail-type': 'RDS DB Snapshot Event',
  source: 'aws.rds',
  account: ACCOUNT,
  time: NOW.toISOString(),
  region: DR,
  resources: [arn(DR, id)],
  detail: {
    EventCategories: ['notification'],
    SourceType: 'SNAPSHOT',
    SourceArn: arn(DR, id),
    SourceIdentifier: id,
    EventID: 'RDS-EVENT-0060',
  },
});

/** Calls one copy-finished event costs with the copy queue, and without it (every event listing everything). */
const measure = async (n: number, withQueue: boolean) => {
  const aws = mockDrEstate({ regions: estate(n) });
  try {
    const base = { config, dryRun: false, notifier: memoryNotifier(), now: () => NOW };
    const deps = wire(base, withQueue ? { STATE_TABLE: 'steward-bench-state' } : {});
    // The hourly safety net after the 03:00 backup: starts the first copies and fills the queue.
    await run({ action: 'reconcile-copies' }, deps);
    const done = aws.copied()[0]!;
    aws.finish(DR, done);
    aws.resetHistory();
    await run(copyFinished(done), deps);
    return aws.calls();
  } finally {
    aws.restore();
  }
};

/**
 * DR copy reconcile cost per RDS event at `sizes` databases: RDS calls of one copy-finished event with the
 * queue against the same event listing both regions (what every event cost before). The minimum is counted
 * from the estate alone: the event's copy, its database's snapshots in each region (pages of 100) only when
 * more of that database waits, the next database's source read again, and its copy; plus the queue item read
 * and written.
 */
export const benchDrCopies = async (sizes: readonly number[]): Promise<BenchRow[]> => {
  const rows: BenchRow[] = [];
  for (const n of sizes) {
    const now = await measure(n, true);
    const before = await measure(n, false);
    // The event's copy read (1); its database's snapshots in both regions only if more of it waits behind
    // the copy that finished; the next database's source read again, the DR region's manual snapshot quota
    // (DescribeAccountAttributes: the copy counts against it, and the event's run cannot know it otherwise),
    // and its copy.
    const e = estate(n);
    const behind = (e[PRIMARY]!.length - e[DR]!.length) / n - 1;
    const minimumRds = 1 + (behind > 0 ? 2 * Math.ceil(DAYS / PAGE) : 0) + 1 + 1 + 1;
    rows.push({
      bench: 'dr-copies',
      metric: `RDS calls per copy-finished event, ${n} DBs`,
      value: String(now.rds),
      baseline: `${before.rds} (every event lists both regions)`,
      ratio: now.rds / before.rds,
      target: `<= ${minimumRds} (the event's copy + the DR quota + the next copy)`,
      ok: now.rds <= minimumRds,
    });
    rows.push({
      bench: 'dr-copies',
      metric: `DynamoDB calls per copy-finished event, ${n} DBs`,
      value: String(now.dynamodb),
      baseline: '0 (no queue)',
      target: '<= 2 (read, conditional write)',
      ok: now.dynamodb <= 2,
    });
  }
  return rows;
};
