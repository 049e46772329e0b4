import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { dynamoDeletionBudget } from '../../../shared/aws/retention-budget.js';

// The adapter's exact requests and its conflict path; the contract (over moto) proves the semantics.
const ddb = mockClient(DynamoDBDocumentClient);
const meta = { $metadata: {} };
const budget = () =>
  dynamoDeletionBudget(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })), 'state');
const conflict = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', ...meta });

beforeEach(() => ddb.reset());

describe('dynamoDeletionBudget', () => {
  it('reads the day strongly consistent and writes used + granted on the condition it is unchanged', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({ ...meta, Item: { pk: 'retention-budget#2026-11-23', used: 7 } });
    ddb.on(UpdateCommand).resolves(meta);

    // Act
    const granted = await budget().reserve('2026-11-23', 5, 10);

    // Assert
    expect(granted).toBe(3);
    expect(ddb).toReceiveCommandWith(GetCommand, {
      TableName: 'state',
      Key: { pk: 'retention-budget#2026-11-23' },
      ConsistentRead: true,
    });
    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      Key: { pk: 'retention-budget#2026-11-23' },
      UpdateExpression: 'SET used = :next, #ttl = :ttl',
      ConditionExpression: 'used = :seen',
      ExpressionAttributeValues: expect.objectContaining({ ':next': 10, ':seen': 7 }),
    });
  });

  it('loses a race to another run, reads again, and takes only what is left', async () => {
    // Prepare: both runs read 0; the other run's write of 8 lands first.
    ddb
      .on(GetCommand)
      .resolvesOnce({ ...meta })
      .resolves({ ...meta, Item: { pk: 'retention-budget#2026-11-23', used: 8 } });
    ddb.on(UpdateCommand).rejectsOnce(conflict()).resolves(meta);

    // Act
    const granted = await budget().reserve('2026-11-23', 4, 10);

    // Assert
    expect(granted).toBe(2);
    expect(ddb).toReceiveCommandTimes(UpdateCommand, 2);
    expect(ddb.commandCalls(UpdateCommand)[0]!.args[0].input.ConditionExpression).toBe(
      'attribute_not_exists(pk)',
    );
  });

  it('gives up loudly when it keeps losing, rather than deleting without a reservation', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({ ...meta });
    ddb.on(UpdateCommand).rejects(conflict());

    // Act
    const err = await budget()
      .reserve('2026-11-23', 4, 10)
      .catch((e: unknown) => e);

    // Assert
    expect(err).toMatchObject({ name: 'AwsCallError', code: 'BudgetContention' });
  });
});
