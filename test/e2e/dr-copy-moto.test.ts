import { CreateDBSnapshotCommand, RDSClient } from '@aws-sdk/client-rds';
import { tagList } from '../../shared/tags.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import copiedEvent from '../../events/rds/snapshot-copied.json' with { type: 'json' };
import createdEvent from '../../events/rds/snapshot-created.json' with { type: 'json' };
import * as backup from '../../functions/backup/handler.js';
import { dynamoCopyLedger } from '../../shared/aws/copy-ledger.js';
import { rdsSnapshotReader } from '../../shared/aws/snapshots.js';
import { parseConfig } from '../../shared/config/schema.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import { createMotoDatabases, useMotoEnvironment } from '../support/moto.js';
import { createStateTable } from '../support/state-table.js';

// The event-driven DR copy path end to end through real HTTP and the SDK's serialisers against moto: the
// targeted describes (DBSnapshotIdentifier, DBInstanceIdentifier + SnapshotType, and the hourly run's
// db-snapshot-id filter) in both regions and the queue item's read are requests the APIs accept. Moto 5.2.1 answers a cross-region CopyDBSnapshot with
// an internal error (500), so the copy here is made by hand, as a DR copy that already exists; the copy
// request is proven with mocks (wired.test.ts, dr-events.test.ts), the queue's writes by the moto contract.
const REGION = 'eu-west-1';
const DR = 'us-west-2';
const TABLE = 'steward-e2e-state';
const SNAPSHOT = 'steward-orders-db-202601150300-sched';

describe('DR copies driven by RDS events, against moto', () => {
  const config = parseConfig(
    {
      stage: 'e2e',
      region: REGION,
      backup: { policies: { daily: { kinds: ['rds-instance'], retention: 'standard', copyToDr: true } } },
      dr: { region: DR, kmsKeyArn: `arn:aws:kms:${DR}:123456789012:alias/steward-dr` },
    },
    'e2e',
  );
  const deps = (now: string) =>
    backup.wire(
      { config, dryRun: false, notifier: memoryNotifier(), now: () => new Date(now) },
      { STATE_TABLE: TABLE },
    );
  let dr: RDSClient;
  let doc: DynamoDBDocumentClient;

  useMotoEnvironment(REGION);

  beforeAll(async () => {
    await createMotoDatabases(new RDSClient({ region: REGION }));
    const ddb = new DynamoDBClient({ region: REGION });
    await createStateTable(ddb, TABLE);
    doc = DynamoDBDocumentClient.from(ddb);
    dr = new RDSClient({ region: DR });
  });

  // The queue as the adapter reads it back from moto.
  const queue = async () => (await dynamoCopyLedger(doc, TABLE).read(DR)).queue;

  it('a "snapshot created" event reads only that database, in both regions, and finds its copy made', async () => {
    // Prepare: today's snapshot in the primary region, and its DR copy (same id, copied-from tag) in DR.
    const primary = new RDSClient({ region: REGION });
    const tags = { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': 'orders-db' };
    const made = await primary.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: 'orders-db',
        DBSnapshotIdentifier: SNAPSHOT,
        Tags: tagList(tags),
      }),
    );
    await createMotoDatabases(dr);
    await dr.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: 'orders-db',
        DBSnapshotIdentifier: SNAPSHOT,
        Tags: tagList({ ...tags, 'steward:copied-from': made.DBSnapshot!.DBSnapshotArn! }),
      }),
    );

    // Act
    const result = await backup.run(structuredClone(createdEvent), deps('2026-01-15T03:08:00Z'));

    // Assert: nothing to copy, nothing failed, nothing listed beyond the database.
    expect(result.action).toBe('reconcile-copies');
    expect(result.copies).toMatchObject({ start: [], deferred: [], alreadyCopied: 1 });
    expect(result.outcomes.filter((o) => o.status === 'failed')).toEqual([]);
  });

  it('a "copy finished" event from the DR region reads its copy there and leaves the queue empty', async () => {
    // Act
    const result = await backup.run(structuredClone(copiedEvent), deps('2026-01-15T03:30:00Z'));

    // Assert
    expect(result.copies).toMatchObject({ start: [], alreadyCopied: 1 });
    const item = await queue();
    expect(item.inFlight).toEqual([]);
    expect(item.pending).toEqual([]);
  });

  it('the hourly run sweeps both regions once a day; between sweeps it names the copies in flight by filter', async () => {
    // Act: the first hourly run (never swept), then the filtered read a later hourly run makes of the copies
    // the queue holds in flight.
    const result = await backup.run({ action: 'reconcile-copies' }, deps('2026-01-15T04:17:00Z'));
    const named = await rdsSnapshotReader(DR, dr).some('rds-instance', [SNAPSHOT, 'steward-gone-1']);

    // Assert
    expect(result.copies).toMatchObject({ start: [], alreadyCopied: 1 });
    expect((await queue()).sweptAt).toBe('2026-01-15T04:17:00.000Z');
    expect(named.map((s) => [s.id, s.sourceId, s.tags['steward:copied-from']?.split(':')[3]])).toEqual([
      [SNAPSHOT, 'orders-db', REGION],
    ]);
  });
});
