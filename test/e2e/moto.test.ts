import {
  CreateDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  ListTagsForResourceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import scheduled from '../../events/backup/scheduled.json' with { type: 'json' };
import snapshotRequest from '../../events/backup/snapshot-request.json' with { type: 'json' };
import * as backup from '../../functions/backup/handler.js';
import * as retention from '../../functions/retention/handler.js';
import { parseConfig } from '../../shared/config/schema.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import type { BaseDeps } from '../../shared/runtime.js';
import { createMotoDatabases, useMotoEnvironment } from '../support/moto.js';
import { createStateTable } from '../support/state-table.js';

// End to end through real HTTP and the real SDK serialisers against moto: proves the requests we send
// (ids, tags, filters, pagination tokens) are ones the RDS API accepts. States and timing are proven
// with mocks elsewhere: moto makes everything available at once.
const REGION = 'eu-west-1';
const STATE_TABLE = 'steward-staging-state';

describe('backup and retention against an emulated RDS endpoint', () => {
  let rds: RDSClient;
  const config = parseConfig(
    {
      stage: 'staging',
      region: REGION,
      backup: { policies: { daily: { kinds: ['rds-instance'], retention: 'standard' } } },
      retention: { includeDrRegion: false, policies: { standard: { daily: 14, keepAtLeast: 3 } } },
    },
    'e2e',
  );
  const base = (now = new Date()): BaseDeps => ({
    config,
    dryRun: false,
    notifier: memoryNotifier(),
    now: () => now,
  });

  useMotoEnvironment(REGION);

  beforeAll(async () => {
    rds = new RDSClient({ region: REGION });
    await createMotoDatabases(rds);
    // A snapshot steward did not create: retention must never touch it.
    await rds.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: 'orders-db',
        DBSnapshotIdentifier: 'orders-db-by-hand',
      }),
    );
  });

  const snapshots = async () =>
    (await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }))).DBSnapshots ?? [];

  it('snapshots only the opted-in database, with the ownership tags, and a repeated event is a no-op', async () => {
    // Act
    const first = await backup.run(scheduled, backup.wire(base()));
    const second = await backup.run(scheduled, backup.wire(base()));
    // Assert
    const created = first.outcomes.filter((o) => o.action === 'create-snapshot');
    expect(created).toEqual([expect.objectContaining({ resource: 'orders-db', status: 'done' })]);
    expect(second.outcomes.find((o) => o.action === 'create-snapshot')).toMatchObject({
      status: 'already-done',
    });
    const snap = (await snapshots()).find(
      (s) => s.DBSnapshotIdentifier === 'steward-orders-db-202601150300-sched',
    )!;
    const tags = await rds.send(new ListTagsForResourceCommand({ ResourceName: snap.DBSnapshotArn }));
    expect(Object.fromEntries((tags.TagList ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({
      'steward:managed': 'true',
      'steward:policy': 'daily',
      'steward:source': 'orders-db',
      'steward:created-by': 'backup',
    });
  });

  it('takes a pre-change snapshot carrying its reason and retain-until date', async () => {
    // Act
    const result = await backup.run(
      { ...snapshotRequest, requestedAt: '2026-03-01T12:00:00Z' },
      backup.wire(base(new Date('2026-03-01T12:00:00Z'))),
    );
    // Assert
    expect(result.outcomes.find((o) => o.action === 'create-snapshot')).toMatchObject({ status: 'done' });
    const snap = (await snapshots()).find((s) => s.DBSnapshotIdentifier?.endsWith('-adhoc'))!;
    const tags = Object.fromEntries((snap.TagList ?? []).map((t) => [t.Key, t.Value]));
    expect(tags).toMatchObject({ 'steward:reason': 'pre-migration', 'steward:retain-until': '2026-05-30' });
  });

  it('retention deletes only expired steward snapshots and leaves the hand-made one alone', async () => {
    // Prepare: three more scheduled snapshots, so the keep-at-least floor of 3 leaves some to expire.
    for (const t of ['2026-01-16T03:00:00Z', '2026-01-17T03:00:00Z', '2026-01-18T03:00:00Z']) {
      await backup.run({ ...scheduled, scheduledTime: t }, backup.wire(base()));
    }
    const before = (await snapshots()).map((s) => s.DBSnapshotIdentifier).sort();
    // The day's deletion budget lives in the stage's state table.
    const ddb = new DynamoDBClient({ region: REGION });
    await createStateTable(ddb, STATE_TABLE);
    const env = { STATE_TABLE };
    // Act
    const dry = await retention.run({ action: 'retention', dryRun: true }, retention.wire(base(), env));
    const afterDry = (await snapshots()).map((s) => s.DBSnapshotIdentifier).sort();
    const real = await retention.run({ action: 'retention' }, retention.wire(base(), env));
    // Assert
    expect(afterDry).toEqual(before);
    expect(dry.plan.delete.map((s) => s.id)).toEqual(real.plan.delete.map((s) => s.id));
    const after = (await snapshots()).map((s) => s.DBSnapshotIdentifier);
    expect(after).toContain('orders-db-by-hand');
    for (const id of real.plan.delete.map((s) => s.id)) expect(after).not.toContain(id);
    expect(after.filter((id) => id?.startsWith('steward-')).length).toBeGreaterThanOrEqual(3);
    expect(real.plan.verdicts.find((v) => v.id === 'orders-db-by-hand')).toMatchObject({
      action: 'skip',
      rule: 'not-ours',
    });
    const budget = await ddb.send(
      new GetItemCommand({
        TableName: STATE_TABLE,
        Key: { pk: { S: `retention-budget#${real.at.slice(0, 10)}` } },
      }),
    );
    expect(budget.Item?.used).toEqual({ N: String(real.plan.delete.length) });
  });
});
