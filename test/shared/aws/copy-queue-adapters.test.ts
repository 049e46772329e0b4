import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DBSnapshotNotFoundFault,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  type DescribeDBSnapshotsCommandInput,
  RDSClient,
} from '@aws-sdk/client-rds';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { copyQueueKey, dynamoCopyLedger } from '../../../shared/aws/copy-ledger.js';
import { IDS_PER_REQUEST, rdsSnapshotReader } from '../../../shared/aws/snapshots.js';
import type { CopyQueue } from '../../../shared/backup/copy-plan.js';
import { AwsCallError } from '../../../shared/errors.js';

const REGION = 'us-west-2';
const meta = { $metadata: {} };
const rds = mockClient(RDSClient);
const ddb = mockClient(DynamoDBDocumentClient);

beforeEach(() => {
  rds.reset();
  ddb.reset();
});

const reader = () => rdsSnapshotReader(REGION, new RDSClient({ region: REGION }));
const ledger = () =>
  dynamoCopyLedger(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })), 'state');

const snap = (id: string, db = 'orders-db') => ({
  DBSnapshotIdentifier: id,
  DBSnapshotArn: `arn:aws:rds:${REGION}:111122223333:snapshot:${id}`,
  DBInstanceIdentifier: db,
  SnapshotCreateTime: new Date('2026-01-15T04:00:00Z'),
  OriginalSnapshotCreateTime: new Date('2026-01-15T03:01:00Z'),
  SourceRegion: 'eu-west-1',
  Status: 'available',
  SnapshotType: 'manual',
  Encrypted: true,
  TagList: [{ Key: 'steward:managed', Value: 'true' }],
});

describe('rdsSnapshotReader', () => {
  it("lists one database's manual snapshots with the DBInstanceIdentifier filter, through every page", async () => {
    // Prepare: three pages behind Markers (recorded as sent: the paginator reuses its input object).
    const sent: DescribeDBSnapshotsCommandInput[] = [];
    rds
      .on(DescribeDBSnapshotsCommand)
      .callsFake((input: DescribeDBSnapshotsCommandInput) =>
        sent.push({ ...input }) && input.Marker === undefined
          ? { ...meta, DBSnapshots: [snap('a')], Marker: 'm1' }
          : input.Marker === 'm1'
            ? { ...meta, DBSnapshots: [snap('b')], Marker: 'm2' }
            : { ...meta, DBSnapshots: [snap('c')] },
      );

    // Act
    const list = await reader().ofDatabase('rds-instance', 'orders-db');

    // Assert
    expect(list.map((s) => [s.id, s.sourceId, s.createdAt, s.copiedAt])).toEqual([
      ['a', 'orders-db', '2026-01-15T03:01:00.000Z', '2026-01-15T04:00:00.000Z'],
      ['b', 'orders-db', '2026-01-15T03:01:00.000Z', '2026-01-15T04:00:00.000Z'],
      ['c', 'orders-db', '2026-01-15T03:01:00.000Z', '2026-01-15T04:00:00.000Z'],
    ]);
    const filter = { DBInstanceIdentifier: 'orders-db', SnapshotType: 'manual', MaxRecords: 100 };
    expect(sent).toEqual([filter, { ...filter, Marker: 'm1' }, { ...filter, Marker: 'm2' }]);
  });

  it("lists one cluster's snapshots with the DBClusterIdentifier filter", async () => {
    // Prepare
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({
      ...meta,
      DBClusterSnapshots: [
        {
          DBClusterSnapshotIdentifier: 'steward-ledger-202601150300-sched',
          DBClusterSnapshotArn: `arn:aws:rds:${REGION}:111122223333:cluster-snapshot:steward-ledger-202601150300-sched`,
          DBClusterIdentifier: 'ledger',
          Status: 'copying',
          SnapshotType: 'manual',
          TagList: [],
        },
      ],
    });

    // Act
    const list = await reader().ofDatabase('aurora-cluster', 'ledger');

    // Assert
    expect(list).toMatchObject([{ kind: 'aurora-cluster', sourceId: 'ledger', status: 'copying' }]);
    expect(rds).toReceiveCommandWith(DescribeDBClusterSnapshotsCommand, {
      DBClusterIdentifier: 'ledger',
      SnapshotType: 'manual',
    });
  });

  it('reads one snapshot by id, and answers undefined when RDS says it is not found', async () => {
    // Prepare
    rds
      .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'here' })
      .resolves({ ...meta, DBSnapshots: [snap('here')] })
      .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: 'gone' })
      .rejects(new DBSnapshotNotFoundFault({ message: 'DBSnapshot gone not found.', ...meta }));

    // Act / Assert
    expect((await reader().get('rds-instance', 'here'))?.id).toBe('here');
    expect(await reader().get('rds-instance', 'gone')).toBeUndefined();
  });

  it('reads named snapshots with the db-snapshot-id filter, never more than IDS_PER_REQUEST values a request', async () => {
    // Prepare: 45 ids (more than any destination has in flight), each answered by its own snapshot.
    const sent: string[][] = [];
    rds.on(DescribeDBSnapshotsCommand).callsFake((input: DescribeDBSnapshotsCommandInput) => {
      const values = input.Filters?.find((f) => f.Name === 'db-snapshot-id')?.Values ?? [];
      sent.push([...values]);
      return { ...meta, DBSnapshots: values.map((id) => snap(id)) };
    });
    const ids = Array.from({ length: 45 }, (_, i) => `steward-db${i}-202601150300-sched`);

    // Act
    const found = await reader().some('rds-instance', ids);

    // Assert
    expect(IDS_PER_REQUEST).toBeLessThan(100); // the only limit observed on an RDS identifier filter
    expect(sent.map((v) => v.length)).toEqual([20, 20, 5]);
    expect(sent.flat()).toEqual(ids);
    expect(found.map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(rds).toReceiveCommandWith(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' });
  });

  it('names the call and the database when throttling outlasts the retries', async () => {
    // Prepare
    rds
      .on(DescribeDBSnapshotsCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }));

    // Act
    const p = reader().ofDatabase('rds-instance', 'orders-db');

    // Assert
    await expect(p).rejects.toBeInstanceOf(AwsCallError);
    await expect(p).rejects.toMatchObject({
      operation: 'DescribeDBSnapshots',
      code: 'ThrottlingException',
      message: expect.stringContaining('snapshots of DB instance orders-db in us-west-2'),
    });
  });
});

const queue: CopyQueue = {
  inFlight: [{ kind: 'rds-instance', db: 'a', targetId: 'steward-a-1', since: '2026-01-15T03:00:00.000Z' }],
  pending: [
    {
      kind: 'aurora-cluster',
      db: 'ledger',
      snapshot: { id: 'steward-ledger-1', arn: 'arn:aws:rds:eu-west-1:1:cluster-snapshot:steward-ledger-1' },
      missing: 2,
    },
  ],
  sweptAt: '2026-01-15T02:17:00.000Z',
  lag: { daily: { 'rds-instance:a': 1_768_442_400, 'aurora-cluster:ledger': 1_768_356_000 } },
};

describe('dynamoCopyLedger', () => {
  it('reads the destination item strongly consistent; none yet is an empty queue at version 0', async () => {
    // Prepare
    ddb.on(GetCommand).resolves(meta);

    // Act
    const stored = await ledger().read('us-west-2');

    // Assert
    expect(stored).toEqual({ queue: { inFlight: [], pending: [] }, version: 0 });
    expect(ddb).toReceiveCommandWith(GetCommand, {
      TableName: 'state',
      Key: { pk: copyQueueKey('us-west-2') },
      ConsistentRead: true,
    });
  });

  it('writes the first item only if none exists, and later ones only on the version read', async () => {
    // Prepare
    ddb.on(PutCommand).resolves(meta);

    // Act
    const first = await ledger().write('us-west-2', queue, 0);
    const later = await ledger().write('us-west-2', queue, 7);

    // Assert
    expect(first && later).toBe(true);
    const item = {
      inFlight: JSON.stringify(queue.inFlight),
      pending: JSON.stringify(queue.pending),
      sweptAt: queue.sweptAt,
      lag: JSON.stringify(queue.lag),
    };
    expect(ddb).toReceiveNthCommandWith(PutCommand, 1, {
      Item: { pk: 'dr-copies#us-west-2', version: 1, ...item },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(ddb).toReceiveNthCommandWith(PutCommand, 2, {
      Item: { pk: 'dr-copies#us-west-2', version: 8, ...item },
      ConditionExpression: 'version = :seen',
      ExpressionAttributeValues: { ':seen': 7 },
    });
  });

  it('answers false when another run wrote in between', async () => {
    // Prepare
    ddb
      .on(PutCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', ...meta }));

    // Act / Assert
    expect(await ledger().write('us-west-2', queue, 3)).toBe(false);
  });

  it('drops entries it cannot read (a hand edit, an older shape) instead of failing every run', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({
      ...meta,
      Item: {
        pk: 'dr-copies#us-west-2',
        version: 4,
        inFlight: [...queue.inFlight, { kind: 'elasticache', db: 'x', targetId: 'y', since: 'z' }, 'junk'],
        pending: [...queue.pending, { kind: 'rds-instance', db: 'b' }],
        sweptAt: 'yesterday',
        lag: JSON.stringify({ daily: { ...queue.lag!.daily, 'rds-instance:b': 'soon' }, weekly: 'junk' }),
      },
    });

    // Act
    const stored = await ledger().read('us-west-2');

    // Assert: an unreadable sweep time reads as never swept (the next run lists both regions).
    const { sweptAt: _unreadable, ...rest } = queue;
    expect(stored).toEqual({ queue: rest, version: 4 });
    ddb.on(GetCommand).resolves({
      ...meta,
      Item: {
        pk: 'dr-copies#us-west-2',
        version: 5,
        inFlight: '[{',
        pending: JSON.stringify(queue.pending),
        lag: '{"daily":',
      },
    });
    expect((await ledger().read('us-west-2')).queue).toEqual({
      inFlight: [],
      pending: queue.pending,
      lag: {},
    });
  });
});
