import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe } from 'vitest';
import { dynamoScalingStore } from '../../../shared/aws/scaling-store.js';
import { fakeScalingStore } from '../../fakes/scaling.js';
import { motoAvailable, startMoto } from '../../support/moto.js';
import { scalingStoreContract } from './scaling-store.contract.js';

const TABLE = 'steward-test-state';
scalingStoreContract('fakeScalingStore', async (c) => fakeScalingStore(c.now));

const available = motoAvailable('the store contract');

describe.runIf(available)('dynamoScalingStore against an emulated DynamoDB', () => {
  let stop: () => Promise<void>;
  let client: DynamoDBClient;
  let n = 0;
  beforeAll(async () => {
    const moto = await startMoto();
    stop = moto.stop;
    client = new DynamoDBClient({
      region: 'eu-west-1',
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
  });
  afterAll(async () => {
    client.destroy();
    await stop();
  });

  scalingStoreContract('dynamoScalingStore', async (c) => {
    // A fresh table per case: the contract's cases must not see each other's items.
    const table = `${TABLE}-${++n}`;
    await client.send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    return dynamoScalingStore(DynamoDBDocumentClient.from(client), table, c.now);
  });
});
