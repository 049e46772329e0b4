import { DescribeSnapshotsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import {
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  type DBSnapshot,
  RDSClient,
} from '@aws-sdk/client-rds';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { dynamoDeletionBudget } from '../shared/aws/retention-budget.js';
import { awsSnapshotStore } from '../shared/aws/snapshots.js';
import { parseConfig } from '../shared/config/schema.js';
import { memoryNotifier } from '../shared/notify/notifier.js';
import { planRetentionFor } from '../shared/retention/policy.js';
import { runRetention } from '../shared/retention/service.js';
import { Tag } from '../shared/tags.js';
import { type BenchRow, median } from './stats.js';

const DAY = 86_400_000;
const NOW = new Date('2026-11-23T12:00:00Z');

/** A simulated history: `n` managed daily snapshots over 40 databases, plus some not ours. */
const history = (n: number): DBSnapshot[] => {
  const dbs = 40;
  return Array.from({ length: n }, (_, i) => {
    const db = `db-${i % dbs}`;
    const day = Math.floor(i / dbs);
    const created = new Date(NOW.getTime() - (day + 1) * DAY + (i % 7) * 60_000);
    const ours = i % 50 !== 0;
    return {
      DBSnapshotIdentifier: ours ? `steward-${db}-${day}-sched` : `manual-${db}-${day}`,
      DBSnapshotArn: `arn:aws:rds:eu-west-1:111122223333:snapshot:x-${i}`,
      DBInstanceIdentifier: db,
      SnapshotCreateTime: created,
      Status: 'available',
      SnapshotType: 'manual',
      TagList: ours
        ? [
            { Key: Tag.managed, Value: 'true' },
            { Key: Tag.policy, Value: 'daily' },
            { Key: Tag.source, Value: db },
          ]
        : [],
    };
  });
};

/**
 * Retention over a 10 000-snapshot history behind a fake RDS that pages with MaxRecords 100, as the real
 * one does: API calls against the minimum, and planning CPU time.
 */
export const benchRetention = async (n: number, runs: number): Promise<BenchRow[]> => {
  const snaps = history(n);
  const rds = mockClient(RDSClient);
  const ec = mockClient(ElastiCacheClient);
  rds.on(DescribeDBSnapshotsCommand).callsFake((input: { Marker?: string; MaxRecords?: number }) => {
    const size = Math.min(Math.max(input.MaxRecords ?? 100, 20), 100);
    const start = Number(input.Marker ?? 0);
    const page = snaps.slice(start, start + size);
    return { DBSnapshots: page, Marker: start + size < snaps.length ? String(start + size) : undefined };
  });
  rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
  rds.on(DeleteDBSnapshotCommand).resolves({});
  ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  // The day's deletion budget in the state table: one read and one conditional write per run.
  const ddb = mockClient(DynamoDBDocumentClient);
  ddb.on(GetCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});

  const config = parseConfig(
    {
      stage: 'prod',
      region: 'eu-west-1',
      backup: { policies: { daily: { kinds: ['rds-instance'], retention: 'std' } } },
      retention: {
        deletions: { floor: 1000, safetyCap: 2000 },
        includeDrRegion: false,
        policies: { std: { daily: 30, weekly: 8, monthly: 12, yearly: 3, keepAtLeast: 7 } },
      },
    },
    'bench',
  );
  const store = awsSnapshotStore(
    'eu-west-1',
    new RDSClient({ region: 'eu-west-1' }),
    new ElastiCacheClient({ region: 'eu-west-1' }),
  );
  const result = await runRetention({
    stores: [store],
    config,
    notifier: memoryNotifier(),
    now: () => NOW,
    dryRun: false,
    budget: dynamoDeletionBudget(
      DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
      'state',
    ),
  });
  const calls = rds.calls().length + ec.calls().length + ddb.calls().length;
  const minimum = Math.ceil(n / 100) + result.plan.delete.length;

  // Planning CPU time, on the plain inventory (what the engine sees), median of `runs`.
  const { snapshots: inventory } = await awsSnapshotStore(
    'eu-west-1',
    new RDSClient({ region: 'eu-west-1' }),
    new ElastiCacheClient({ region: 'eu-west-1' }),
  ).list(['rds-instance']);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    planRetentionFor(inventory, config, NOW);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  rds.restore();
  ec.restore();
  ddb.restore();
  const planMs = median(times);
  return [
    {
      bench: `retention ${n} snapshots`,
      metric: `API calls (${result.plan.delete.length} deletions)`,
      value: String(calls),
      baseline: `${minimum} minimum`,
      ratio: calls / minimum,
      target: '≈ 1.00× (+1 cluster, +1 cache describe, +2 budget)',
      ok: calls <= minimum + 4,
    },
    {
      bench: `retention ${n} snapshots`,
      metric: `planning CPU ms (median of ${runs})`,
      value: planMs.toFixed(1),
      baseline: '50 ms budget',
      ratio: planMs / 50,
      target: '< 50 ms',
      ok: planMs < 50,
    },
  ];
};
