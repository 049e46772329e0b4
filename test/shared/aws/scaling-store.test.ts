import { DynamoDBClient, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BATCH_GET_REQUESTS } from '../../../shared/aws/batch-get.js';
import { dynamoScalingStore } from '../../../shared/aws/scaling-store.js';
import { AwsCallError } from '../../../shared/errors.js';

const TABLE = 'steward-test-state';
const NOW = new Date('2026-01-15T10:00:00Z');
const EPOCH = Math.floor(NOW.getTime() / 1000);
const meta = { $metadata: {} };
const conditionFailed = () =>
  new DynamoDBServiceException({
    name: 'ConditionalCheckFailedException',
    $fault: 'client',
    $metadata: {},
    message: 'The conditional request failed',
  });

describe('dynamoScalingStore requests', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const store = () =>
    dynamoScalingStore(
      DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
      TABLE,
      () => NOW,
    );
  beforeEach(() => {
    ddb.reset();
    // No jitter: a retry of unprocessed keys waits 0 ms.
    vi.spyOn(Math, 'random').mockReturnValue(0);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const SEEN = 'scaling-seen#orders-db-cpu-high#2026-01-15T09:59:00.000Z';
  const COOLDOWN = 'scaling-cooldown#rds-instance:orders-db';
  const cooldownItem = {
    pk: COOLDOWN,
    lastActedAt: '2026-01-15T09:30:00.000Z',
    until: '2026-01-15T10:30:00.000Z',
    ttl: EPOCH + 3600,
  };
  const seenItem = { pk: SEEN, outcome: JSON.stringify({ rule: 'r' }), announced: false, ttl: EPOCH + 3600 };
  const batchOf = (keys: string[]) => ({
    RequestItems: { [TABLE]: { Keys: keys.map((pk) => ({ pk })), ConsistentRead: true } },
  });

  it('reads the seen event and the cooldown in one consistent BatchGetItem', async () => {
    // Prepare
    ddb.on(BatchGetCommand).resolves({ ...meta, Responses: { [TABLE]: [cooldownItem, seenItem] } });

    // Act
    const m = await store().memory(SEEN, 'rds-instance', 'orders-db');

    // Assert
    expect(m).toEqual({
      seen: true,
      lastActedAt: new Date(cooldownItem.lastActedAt),
      cooldownUntil: new Date(cooldownItem.until),
      unannounced: { rule: 'r' },
    });
    expect(ddb.calls()).toHaveLength(1);
    expect(ddb).toReceiveCommandWith(BatchGetCommand, batchOf([SEEN, COOLDOWN]));
  });

  it('asks again, after a pause, for the keys DynamoDB left unprocessed, and only for those', async () => {
    // Prepare: the first answer throttles the cooldown's key
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({
        ...meta,
        Responses: { [TABLE]: [seenItem] },
        UnprocessedKeys: { [TABLE]: { Keys: [{ pk: COOLDOWN }], ConsistentRead: true } },
      })
      .resolvesOnce({ ...meta, Responses: { [TABLE]: [cooldownItem] } });
    const paused = vi.spyOn(globalThis, 'setTimeout');

    // Act
    const m = await store().memory(SEEN, 'rds-instance', 'orders-db');

    // Assert
    expect(m).toMatchObject({ seen: true, cooldownUntil: new Date(cooldownItem.until) });
    expect(ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input)).toEqual([
      batchOf([SEEN, COOLDOWN]),
      batchOf([COOLDOWN]),
    ]);
    expect(paused).toHaveBeenCalledTimes(1);
  });

  it('gives up on keys still unprocessed after a bounded number of requests, naming the table and key', async () => {
    // Prepare
    ddb.on(BatchGetCommand).resolves({
      ...meta,
      Responses: { [TABLE]: [] },
      UnprocessedKeys: { [TABLE]: { Keys: [{ pk: COOLDOWN }] } },
    });

    // Act
    const read = store().memory(SEEN, 'rds-instance', 'orders-db');

    // Assert
    await expect(read).rejects.toThrow(AwsCallError);
    await expect(read).rejects.toThrow(`BatchGetItem failed for ${TABLE} ${COOLDOWN}`);
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, BATCH_GET_REQUESTS);
  });

  it('names the table and both keys when the read fails, and leaves out items past their ttl', async () => {
    // Prepare
    ddb
      .on(BatchGetCommand)
      .rejectsOnce(new Error('ProvisionedThroughputExceededException'))
      .resolves({ ...meta, Responses: { [TABLE]: [{ ...cooldownItem, ttl: EPOCH }] } });

    // Act
    const failed = store().memory(SEEN, 'rds-instance', 'orders-db');
    await expect(failed).rejects.toThrow(`BatchGetItem failed for ${TABLE} ${SEEN}, ${COOLDOWN}`);
    const expired = await store().memory(SEEN, 'rds-instance', 'orders-db');

    // Assert
    expect(expired).toEqual({ seen: false });
  });

  it('claims with a conditional put that also admits an expired, unswept key', async () => {
    // Prepare
    ddb.on(PutCommand).resolves(meta);

    // Act
    const claimed = await store().claim('scaling-seen#a#t', 3600, { rule: 'r' });

    // Assert
    expect(claimed).toBe(true);
    expect(ddb).toReceiveCommandWith(PutCommand, {
      TableName: TABLE,
      Item: { pk: 'scaling-seen#a#t', rule: 'r', claimedAt: NOW.toISOString(), ttl: EPOCH + 3600 },
      ConditionExpression: 'attribute_not_exists(#pk) OR #ttl <= :now',
      ExpressionAttributeNames: { '#pk': 'pk', '#ttl': 'ttl' },
      ExpressionAttributeValues: { ':now': EPOCH },
    });
  });

  it('reports a refused condition as "already claimed", and any other error as AwsCallError', async () => {
    // Prepare
    ddb.on(PutCommand).rejectsOnce(conditionFailed()).rejectsOnce(new Error('throttled'));

    // Act
    const refused = await store().claim('k', 60, {});
    const failed = store().claim('k', 60, {});

    // Assert
    expect(refused).toBe(false);
    await expect(failed).rejects.toThrow(AwsCallError);
  });

  it('claims an approval with a conditional update pending → executing (or a stale executing)', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolvesOnce(meta).rejectsOnce(conditionFailed());

    // Act
    const first = await store().claimApproval('0123456789ab', NOW);
    const second = await store().claimApproval('0123456789ab', NOW);

    // Assert
    expect([first, second]).toEqual([true, false]);
    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      TableName: TABLE,
      Key: { pk: 'scaling-approval#0123456789ab' },
      UpdateExpression: 'SET #status = :executing, claimedAt = :at',
      ConditionExpression: '#status = :pending OR (#status = :executing AND claimedAt < :stale)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':executing': 'executing',
        ':pending': 'pending',
        ':at': NOW.toISOString(),
        ':stale': new Date(NOW.getTime() - 15 * 60_000).toISOString(),
      },
    });
  });

  it('claims a resource with one conditional put: free, or cooled down and not newer', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({ ...meta, Attributes: undefined });
    const at = new Date(NOW.getTime() - 5_000);
    const until = new Date(NOW.getTime() + 1_800_000);

    // Act
    const r = await store().claimResource('rds-instance', 'orders-db', {
      at,
      until,
      rule: 'orders-db-cpu',
      alarmName: 'orders-db-cpu-high',
      eventKey: 'scaling-seen#orders-db-cpu-high#t',
    });

    // Assert
    expect(r).toEqual({
      ok: true,
      claim: { kind: 'rds-instance', id: 'orders-db', eventKey: 'scaling-seen#orders-db-cpu-high#t' },
    });
    expect(ddb).toReceiveCommandWith(PutCommand, {
      TableName: TABLE,
      Item: expect.objectContaining({
        pk: 'scaling-cooldown#rds-instance:orders-db',
        lastActedAt: at.toISOString(),
        until: until.toISOString(),
        eventKey: 'scaling-seen#orders-db-cpu-high#t',
      }),
      ConditionExpression:
        'attribute_not_exists(#pk) OR (#until <= :now AND (attribute_not_exists(lastActedAt) OR lastActedAt <= :at))',
      ExpressionAttributeNames: { '#pk': 'pk', '#until': 'until' },
      ExpressionAttributeValues: { ':now': NOW.toISOString(), ':at': at.toISOString() },
      ReturnValues: 'ALL_OLD',
    });
  });

  it('indexes an approval under its rule, so steward status finds it by key, also when it already existed', async () => {
    // Prepare
    ddb.on(PutCommand).resolvesOnce(meta).rejectsOnce(conditionFailed());
    ddb.on(UpdateCommand).resolves(meta);
    const approval = {
      id: '0123456789ab',
      rule: 'orders-db-failover',
      status: 'pending',
      expiresAt: '2026-01-16T10:00:00.000Z',
    } as unknown as Parameters<ReturnType<typeof store>['putApproval']>[0];
    // Act
    const first = await store().putApproval(approval, 86400);
    const retry = await store().putApproval(approval, 86400);
    // Assert
    expect([first, retry]).toEqual(['created', 'exists']);
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 2);
    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      TableName: TABLE,
      Key: { pk: 'scaling-pending#orders-db-failover' },
      UpdateExpression: 'ADD #ids :id SET #ttl = :ttl',
      ExpressionAttributeValues: { ':id': new Set(['0123456789ab']), ':ttl': EPOCH + 86400 },
    });
  });

  it('treats an item past its ttl as gone even before DynamoDB sweeps it', async () => {
    // Prepare
    ddb
      .on(GetCommand)
      .resolves({ ...meta, Item: { pk: 'scaling-alarm#a', state: 'OK', since: 'x', ttl: EPOCH } });

    // Act
    const st = await store().alarmState('a');

    // Assert
    expect(st).toBeUndefined();
  });
});
