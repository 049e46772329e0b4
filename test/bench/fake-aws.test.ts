import {
  CopyDBSnapshotCommand,
  CreateDBSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  paginateDescribeDBSnapshots,
  RDSClient,
} from '@aws-sdk/client-rds';
import { DescribeSnapshotsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimClock } from '../../bench/estate/clock.js';
import { FakeAws, MINUTE, RDS_EVENTS, type SimEvent } from '../../bench/estate/fake-aws.js';

// The estate bench's fake AWS, through real SDK clients: paging as RDS and ElastiCache page, throttling
// that the SDK's retry strategy sees, copies that complete over simulated time.

const PRIMARY = 'eu-west-1';
const DR = 'us-west-2';
const credentials = { accessKeyId: 'AKIDSIMULATED', secretAccessKey: 'simulated' };

const rds = (fake: FakeAws, region: string, maxAttempts = 3) => {
  const c = new RDSClient({ region, credentials, maxAttempts, endpoint: 'http://127.0.0.1:9' });
  fake.attach(c, region);
  return c;
};

const seed = (fake: FakeAws, n: number) => {
  fake.addDatabase({
    kind: 'rds-instance',
    id: 'orders',
    region: PRIMARY,
    sizeGb: 100,
    dailyChange: 0.05,
    tags: {},
  });
  for (let i = 0; i < n; i++)
    fake.seedSnapshot({
      kind: 'rds-instance',
      id: `steward-orders-${String(i).padStart(3, '0')}`,
      region: PRIMARY,
      sourceId: 'orders',
      takenAt: Date.UTC(2026, 0, 1) + i * 86_400_000,
      tags: { 'steward:managed': 'true' },
    });
};

describe('the estate bench fake AWS', () => {
  let clock: SimClock;
  let events: SimEvent[];
  let fake: FakeAws;

  beforeEach(() => {
    clock = new SimClock(Date.UTC(2026, 5, 1));
    events = [];
    fake = new FakeAws({ clock, onEvent: (e) => events.push(e), rate: { burst: 5, perSecond: 1 } });
  });
  afterEach(() => clock.uninstall());

  /** Run `f` on simulated time until it settles (and at most a simulated day). */
  const simulate = async <T>(f: () => Promise<T>): Promise<T> => {
    clock.install();
    let out: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    void f().then(
      (value) => (out = { ok: true, value }),
      (error: unknown) => (out = { ok: false, error }),
    );
    const until = clock.now + 86_400_000;
    while (!out && clock.now < until) await clock.run(Math.min(until, clock.now + MINUTE));
    clock.uninstall();
    if (!out) throw new Error('did not settle within a simulated day');
    if (!out.ok) throw out.error;
    return out.value;
  };

  it('pages DescribeDBSnapshots by MaxRecords and Marker, as the SDK paginator asks', async () => {
    // Prepare
    seed(fake, 45);
    const client = rds(fake, PRIMARY);

    // Act
    const ids = await simulate(async () => {
      const out: string[] = [];
      for await (const p of paginateDescribeDBSnapshots({ client, pageSize: 20 }, { SnapshotType: 'manual' }))
        out.push(...(p.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier!));
      return out;
    });

    // Assert
    expect(ids).toHaveLength(45);
    expect(new Set(ids).size).toBe(45);
    const pages = fake.calls.filter((c) => c.op === 'DescribeDBSnapshots');
    expect(pages).toHaveLength(3);
  });

  it('refuses MaxRecords outside 20–100 (RDS) and 20–50 (ElastiCache DescribeSnapshots)', async () => {
    // Prepare
    seed(fake, 5);
    const client = rds(fake, PRIMARY);
    const cache = new ElastiCacheClient({ region: PRIMARY, credentials, endpoint: 'http://127.0.0.1:9' });
    fake.attach(cache, PRIMARY);

    // Act
    const tooSmall = simulate(() => client.send(new DescribeDBSnapshotsCommand({ MaxRecords: 10 })));
    await expect(tooSmall).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    const tooLarge = simulate(() => cache.send(new DescribeSnapshotsCommand({ MaxRecords: 100 })));

    // Assert
    await expect(tooLarge).rejects.toMatchObject({ name: 'InvalidParameterValue' });
    const page = await simulate(() => client.send(new DescribeDBSnapshotsCommand({})));
    expect(page.DBSnapshots).toHaveLength(5);
    expect(page.Marker).toBeUndefined();
  });

  it('names a missing snapshot with DBSnapshotNotFoundFault instead of an empty page', async () => {
    // Prepare
    const client = rds(fake, PRIMARY);

    // Act
    const r = simulate(() => client.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'nope' })));

    // Assert
    await expect(r).rejects.toMatchObject({ name: 'DBSnapshotNotFoundFault' });
  });

  it('throttles past the token bucket with ThrottlingException, which the SDK retries', async () => {
    // Prepare: 5 burst, 1 per second; 10 requests at once.
    seed(fake, 1);
    const retried = rds(fake, PRIMARY, 10);
    const once = rds(fake, DR, 1);
    fake.addDatabase({ kind: 'rds-instance', id: 'dr', region: DR, sizeGb: 1, dailyChange: 0, tags: {} });

    // Act
    const all = await simulate(() =>
      Promise.all(Array.from({ length: 10 }, () => retried.send(new DescribeDBInstancesCommand({})))),
    );
    const single = simulate(() =>
      Promise.all(Array.from({ length: 10 }, () => once.send(new DescribeDBInstancesCommand({})))),
    );

    // Assert
    expect(all).toHaveLength(10);
    const primary = fake.calls.filter((c) => c.region === PRIMARY);
    expect(primary.filter((c) => c.throttled).length).toBeGreaterThan(0);
    expect(primary.filter((c) => !c.throttled)).toHaveLength(10);
    await expect(single).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('completes a cross-region copy over simulated time, emits its event, and enforces the in-flight limit', async () => {
    // Prepare
    fake = new FakeAws({
      clock,
      onEvent: (e) => events.push(e),
      copiesPerDestination: { 'rds-instance': 1, 'aurora-cluster': 1 },
      copyMinutes: () => 30,
    });
    seed(fake, 2);
    const source = rds(fake, PRIMARY);
    const dr = rds(fake, DR);
    const arn = (i: number) => fake.arn('rds-instance', PRIMARY, `steward-orders-00${i}`);
    const copy = (i: number) =>
      dr.send(
        new CopyDBSnapshotCommand({
          SourceDBSnapshotIdentifier: arn(i),
          TargetDBSnapshotIdentifier: `steward-orders-00${i}`,
          CopyTags: true,
        }),
      );

    // Act
    const started = await simulate(() => copy(0));
    const second = simulate(() => copy(1));
    await expect(second).rejects.toMatchObject({ name: 'SnapshotQuotaExceededFault' });
    clock.install();
    await clock.run(clock.now + 31 * MINUTE);
    clock.uninstall();
    const after = await simulate(() =>
      dr.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'steward-orders-000' })),
    );

    // Assert
    expect(started.DBSnapshot?.Status).toBe('copying');
    expect(after.DBSnapshots?.[0]).toMatchObject({
      Status: 'available',
      SourceRegion: PRIMARY,
      OriginalSnapshotCreateTime: new Date(Date.UTC(2026, 0, 1)),
      TagList: [{ Key: 'steward:managed', Value: 'true' }],
    });
    expect(events.map((e) => [e.region, e.detail.EventID, e.detail.SourceIdentifier])).toEqual([
      [DR, RDS_EVENTS.snapshotCopied, 'steward-orders-000'],
    ]);
    await simulate(() => copy(1));
    void source;
  });

  it('keeps state-table items through the document client, with the conditions steward writes', async () => {
    // Prepare
    const doc = DynamoDBDocumentClient.from(
      new DynamoDBClient({ region: PRIMARY, credentials, endpoint: 'http://127.0.0.1:9' }),
    );
    fake.attach(doc, PRIMARY);
    const put = (version: number, condition: string, seen?: number) =>
      doc.send(
        new PutCommand({
          TableName: 'state',
          Item: { pk: 'queue', version, pending: [{ db: 'orders', at: 1 }] },
          ConditionExpression: condition,
          ...(seen === undefined ? {} : { ExpressionAttributeValues: { ':seen': seen } }),
        }),
      );

    // Act
    await simulate(() => put(1, 'attribute_not_exists(pk)'));
    const again = simulate(() => put(1, 'attribute_not_exists(pk)'));
    await expect(again).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    await simulate(() => put(2, 'version = :seen', 1));
    // The retention budget's refund: never below zero.
    const refund = (n: number) =>
      doc.send(
        new UpdateCommand({
          TableName: 'state',
          Key: { pk: 'queue' },
          UpdateExpression: 'SET used = used - :n',
          ConditionExpression: 'used >= :n',
          ExpressionAttributeValues: { ':n': n },
        }),
      );
    await simulate(() =>
      doc.send(
        new UpdateCommand({
          TableName: 'state',
          Key: { pk: 'queue' },
          UpdateExpression: 'SET used = :n',
          ExpressionAttributeValues: { ':n': 3 },
        }),
      ),
    );
    await simulate(() => refund(1));
    await expect(simulate(() => refund(5))).rejects.toMatchObject({
      name: 'ConditionalCheckFailedException',
    });
    const read = await simulate(() => doc.send(new GetCommand({ TableName: 'state', Key: { pk: 'queue' } })));

    // Assert: plain values back, as the document client returns them.
    expect(read.Item).toEqual({ pk: 'queue', version: 2, pending: [{ db: 'orders', at: 1 }], used: 2 });
  });

  it('fails a copy whose source is deleted before it completes, and creates snapshots that become available', async () => {
    // Prepare
    seed(fake, 1);
    const source = rds(fake, PRIMARY);
    const dr = rds(fake, DR);

    // Act
    await simulate(() =>
      dr.send(
        new CopyDBSnapshotCommand({
          SourceDBSnapshotIdentifier: fake.arn('rds-instance', PRIMARY, 'steward-orders-000'),
          TargetDBSnapshotIdentifier: 'steward-orders-000',
        }),
      ),
    );
    await simulate(() =>
      source.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: 'steward-orders-000' })),
    );
    const created = await simulate(() =>
      source.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: 'orders',
          DBSnapshotIdentifier: 'steward-orders-new',
        }),
      ),
    );
    clock.install();
    await clock.run(clock.now + 86_400_000);
    clock.uninstall();

    // Assert
    expect(created.DBSnapshot?.Status).toBe('creating');
    const states = Object.fromEntries(fake.snapshotsIn(DR).map((s) => [s.id, s.status]));
    expect(states).toEqual({ 'steward-orders-000': 'failed' });
    expect(fake.snapshotsIn(PRIMARY).map((s) => [s.id, s.status])).toEqual([
      ['steward-orders-new', 'available'],
    ]);
    // The new snapshot (5 minutes) is ready before the failed full copy (an hour) gives up.
    expect(events.map((e) => e.detail.EventID)).toEqual([
      RDS_EVENTS.snapshotCreated,
      RDS_EVENTS.snapshotCopyFailed,
    ]);
  });
});
