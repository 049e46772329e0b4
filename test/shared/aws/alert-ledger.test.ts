import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { dynamoAlertLedger } from '../../../shared/aws/alert-ledger.js';
import { STALE_CLAIM_SECONDS } from '../../../shared/cost/ports.js';
import { AwsCallError } from '../../../shared/errors.js';

const NOW = new Date('2026-11-23T07:00:00Z');
const T = NOW.getTime() / 1000;
const KEY = 'cost-alert#2026-11#usd-2000#actual';
const ddb = mockClient(DynamoDBDocumentClient);
const ledger = () =>
  dynamoAlertLedger(DynamoDBDocumentClient.from(new DynamoDBClient({})), 'steward-prod-state', () => NOW);
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

describe('dynamoAlertLedger', () => {
  beforeEach(() => ddb.reset());

  it('claims with one conditional PutItem: absent, lower level, failed, or a stale pending claim', async () => {
    // Prepare
    ddb.on(PutCommand).resolves({});

    // Act
    const won = await ledger().claim(KEY, 2, 40 * 86_400, 'month-to-date crossed');

    // Assert
    expect(won).toBe(true);
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'steward-prod-state',
      Item: {
        pk: KEY,
        level: 2,
        status: 'pending',
        claimedAt: T,
        ttl: T + 40 * 86_400,
        detail: 'month-to-date crossed',
        outbox: 'cost-alert',
        outboxSince: T,
      },
      ConditionExpression:
        'attribute_not_exists(pk) OR #level < :level OR #status = :failed OR (#status = :pending AND claimedAt < :stale)',
      ExpressionAttributeValues: {
        ':level': 2,
        ':pending': 'pending',
        ':failed': 'failed',
        ':stale': T - STALE_CLAIM_SECONDS,
      },
    });
  });

  it('answers false on ConditionalCheckFailedException: already alerted is not an error', async () => {
    // Prepare
    ddb.on(PutCommand).rejects(conditionFailed());

    // Act
    const won = await ledger().claim(KEY, 2, 60, 'x');

    // Assert
    expect(won).toBe(false);
  });

  it('wraps any other failure, naming the table and key', async () => {
    // Prepare
    ddb
      .on(PutCommand)
      .rejects(Object.assign(new Error('throughput'), { name: 'ProvisionedThroughputExceededException' }));

    // Act
    const act = ledger().claim(KEY, 2, 60, 'x');

    // Assert
    await expect(act).rejects.toThrow(AwsCallError);
    await expect(ledger().claim(KEY, 2, 60, 'x')).rejects.toThrow(
      `PutItem failed for steward-prod-state ${KEY}`,
    );
  });

  it('confirms (leaving the outbox) and releases (marking it failed, still owed) with updates', async () => {
    // Prepare
    ddb.on(UpdateCommand).resolves({});

    // Act
    await ledger().confirm(KEY);
    await ledger().release(KEY);

    // Assert
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: KEY },
      UpdateExpression: 'SET #status = :sent, sentAt = :now REMOVE outbox, outboxSince',
      ConditionExpression: 'attribute_exists(pk)',
    });
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: 'steward-prod-state',
      Key: { pk: KEY },
      UpdateExpression: 'SET #status = :failed',
      ConditionExpression: '#status = :pending',
    });
  });

  it('reads held keys in batches of 100, following unprocessed keys', async () => {
    // Prepare
    const keys = Array.from({ length: 150 }, (_, i) => `k${i}`);
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { 'steward-prod-state': [{ pk: 'k1' }] },
        UnprocessedKeys: { 'steward-prod-state': { Keys: [{ pk: 'k2' }] } },
      })
      .resolvesOnce({ Responses: { 'steward-prod-state': [{ pk: 'k2' }] } })
      .resolves({ Responses: { 'steward-prod-state': [{ pk: 'k120' }] } });

    // Act
    const held = await ledger().held(keys);

    // Assert
    expect(held).toEqual(new Set(['k1', 'k2', 'k120']));
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(3);
    expect(
      ddb.commandCalls(BatchGetCommand)[0]!.args[0].input.RequestItems!['steward-prod-state']!.Keys,
    ).toHaveLength(100);
  });
});
