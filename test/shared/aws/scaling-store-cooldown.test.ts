import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { dynamoScalingStore } from '../../../shared/aws/scaling-store.js';

const doc = mockClient(DynamoDBDocumentClient);
const store = () =>
  dynamoScalingStore(
    DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
    'steward-prod-state',
    () => new Date('2026-01-15T10:00:00Z'),
  );

describe('dynamoScalingStore.restartCooldown', () => {
  beforeEach(() => doc.reset());

  it('extends the cooldown conditionally, never shortening a longer one, and leaves the acted-on transition alone', async () => {
    doc.on(UpdateCommand).resolves({ $metadata: {} });

    const ok = await store().restartCooldown(
      'rds-instance',
      'orders-db',
      new Date('2026-01-15T10:30:00Z'),
      'failover',
    );

    expect(ok).toBe(true);
    expect(doc).toReceiveCommandWith(UpdateCommand, {
      TableName: 'steward-prod-state',
      Key: { pk: 'scaling-cooldown#rds-instance:orders-db' },
      UpdateExpression: 'SET #until = :u, restartedBy = :r, #ttl = :ttl REMOVE eventKey',
      ConditionExpression: 'attribute_not_exists(#until) OR #until < :u',
    });
  });

  it('answers false when a longer cooldown is running (the condition refused)', async () => {
    doc
      .on(UpdateCommand)
      .rejects(Object.assign(new Error('no'), { name: 'ConditionalCheckFailedException' }));

    expect(
      await store().restartCooldown(
        'rds-instance',
        'orders-db',
        new Date('2026-01-15T10:30:00Z'),
        'failover',
      ),
    ).toBe(false);
  });
});
