import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { OUTBOX } from '../../shared/aws/alert-ledger.js';
import { serialisedEndpoint, startMoto } from './moto.js';

/** Create a table shaped like the stage's state table (`pk` string key, on demand, the alert outbox index). */
export const createStateTable = async (client: DynamoDBClient, name: string): Promise<void> => {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: OUTBOX.partition, AttributeType: 'S' },
        { AttributeName: OUTBOX.sort, AttributeType: 'N' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: OUTBOX.index,
          KeySchema: [
            { AttributeName: OUTBOX.partition, KeyType: 'HASH' },
            { AttributeName: OUTBOX.sort, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
};

/**
 * Moto's DynamoDB (behind a gate that serialises requests, see serialisedEndpoint) for the enclosing
 * describe block, with a fresh table shaped like the stage's state table
 * (`pk` string key) per call of `table()`: contract cases must not see each other's items.
 */
export const motoStateTables = () => {
  let stop: (() => Promise<void>) | undefined;
  let client: DynamoDBClient | undefined;
  let n = 0;
  beforeAll(async () => {
    const moto = await startMoto();
    // DynamoDB makes each conditional write atomic; moto's threads do not: one request at a time.
    const gate = await serialisedEndpoint(moto.endpoint);
    stop = async () => {
      await gate.close();
      await moto.stop();
    };
    client = new DynamoDBClient({
      region: 'eu-west-1',
      endpoint: gate.endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
  });
  afterAll(async () => {
    client?.destroy();
    await stop?.();
  });
  return {
    /** A new, empty state table and a document client for it. */
    table: async (): Promise<{ doc: DynamoDBDocumentClient; name: string }> => {
      const name = `steward-test-state-${++n}`;
      await createStateTable(client!, name);
      return { doc: DynamoDBDocumentClient.from(client!), name };
    },
  };
};
