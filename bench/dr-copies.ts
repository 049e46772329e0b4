import {
  CopyDBSnapshotCommand,
  type CopyDBSnapshotCommandInput,
  type DBSnapshot,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  type DescribeDBSnapshotsCommandInput,
  RDSClient,
} from '@aws-sdk/client-rds';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { run, wire } from '../functions/backup/handler.js';
import { parseConfig } from '../shared/config/schema.js';
import { memoryNotifier } from '../shared/notify/notifier.js';
import type { BenchRow } from './stats.js';

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
const arn = (region: string, id: string) => `arn:aws:rds:${region}:${ACCOUNT}:snapshot:${id}`;

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

/**
 * RDS and the state table for the backup function, as AWS keeps them: filters, pages of `MaxRecords` behind a
 * Marker, copies that appear `pending` in the destination, one conditional item.
 */
const simulate = (regions: Record<string, DBSnapshot[]>) => {
  const rds = mockClient(RDSClient);
  const ddb = mockClient(DynamoDBDocumentClient);
  let item: Record<string, unknown> | undefined;
  const regionOf = async (getClient: () => { config: { region: unknown } }) =>
    (await (getClient().config.region as () => Promise<string>)()) as string;
  rds.on(DescribeDBSnapshotsCommand).callsFake(async (input: DescribeDBSnapshotsCommandInput, getClient) => {
    const all = regions[await regionOf(getClient)] ?? [];
    if (input.DBSnapshotIdentifier) {
      const s = all.find((x) => x.DBSnapshotIdentifier === input.DBSnapshotIdentifier);
      if (!s) throw Object.assign(new Error('not found'), { name: 'DBSnapshotNotFoundFault' });
      return { DBSnapshots: [s] };
    }
    const matched = all.filter(
      (s) => !input.DBInstanceIdentifier || s.DBInstanceIdentifier === input.DBInstanceIdentifier,
    );
    const from = Number(input.Marker ?? 0);
    const size = input.MaxRecords ?? PAGE;
    return {
      DBSnapshots: matched.slice(from, from + size),
      ...(from + size < matched.length ? { Marker: String(from + size) } : {}),
    };
  });
  rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
  rds.on(CopyDBSnapshotCommand).callsFake(async (input: CopyDBSnapshotCommandInput) => {
    const source = regions[PRIMARY]!.find((s) => s.DBSnapshotArn === input.SourceDBSnapshotIdentifier)!;
    const copy = {
      ...source,
      DBSnapshotArn: arn(DR, input.TargetDBSnapshotIdentifier!),
      SourceRegion: PRIMARY,
      Status: 'pending',
      TagList: input.Tags,
    };
    regions[DR]!.push(copy);
    return { DBSnapshot: copy };
  });
  ddb.on(GetCommand).callsFake(async () => (item ? { Item: structuredClone(item) } : {}));
  ddb
    .on(PutCommand)
    .callsFake(
      async (input: {
        Item: Record<string, unknown>;
        ExpressionAttributeValues?: Record<string, unknown>;
      }) => {
        const seen = input.ExpressionAttributeValues?.[':seen'];
        if (seen === undefined ? item !== undefined : item?.version !== seen)
          throw Object.assign(new Error('conditional'), { name: 'ConditionalCheckFailedException' });
        item = structuredClone(input.Item);
        return {};
      },
    );
  return {
    calls: () => ({ rds: rds.calls().length, dynamodb: ddb.calls().length }),
    reset: () => {
      rds.resetHistory();
      ddb.resetHistory();
    },
    copied: () =>
      rds.commandCalls(CopyDBSnapshotCommand).map((c) => c.args[0].input.TargetDBSnapshotIdentifier!),
    restore: () => {
      rds.restore();
      ddb.restore();
    },
  };
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
  const regions = estate(n);
  const aws = simulate(regions);
  try {
    const base = { config, dryRun: false, notifier: memoryNotifier(), now: () => NOW };
    const deps = wire(base, withQueue ? { STATE_TABLE: 'steward-bench-state' } : {});
    // The hourly safety net after the 03:00 backup: starts the first copies and fills the queue.
    await run({ action: 'reconcile-copies' }, deps);
    const done = aws.copied()[0]!;
    regions[DR]!.find((s) => s.DBSnapshotIdentifier === done)!.Status = 'available';
    aws.reset();
    await run(copyFinished(done), deps);
    return aws.calls();
  } finally {
    aws.restore();
  }
};

/**
 * DR copy reconcile cost per RDS event at `sizes` databases: RDS calls of one copy-finished event with the
 * queue against the same event listing both regions (what every event cost before). The minimum is counted
 * from the estate alone: the event's snapshot, its database's snapshots in each region (pages of 100), the
 * next database's source read again, and its copy; plus the queue item read and written.
 */
export const benchDrCopies = async (sizes: readonly number[]): Promise<BenchRow[]> => {
  const rows: BenchRow[] = [];
  for (const n of sizes) {
    const now = await measure(n, true);
    const before = await measure(n, false);
    const minimumRds = 1 + Math.ceil(DAYS / PAGE) + Math.ceil(DAYS / PAGE) + 1 + 1;
    rows.push({
      bench: 'dr-copies',
      metric: `RDS calls per copy-finished event, ${n} DBs`,
      value: String(now.rds),
      baseline: `${before.rds} (every event lists both regions)`,
      ratio: now.rds / before.rds,
      target: `<= ${minimumRds} (the event's database + the next copy)`,
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
