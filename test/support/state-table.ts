import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { OUTBOX } from '../../shared/aws/alert-ledger.js';
import { startMoto } from './moto.js';

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
 * Moto's DynamoDB for the enclosing describe block, with a fresh table shaped like the stage's state table
 * (`pk` string key) per call of `table()`: contract cases must not see each other's items.
 */
export const motoStateTables = () => {
  let stop: (() => Promise<void>) | undefined;
  let client: DynamoDBClient | undefined;
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

/**
 * Run "concurrent" calls one after another. Moto's server handles requests on threads without serialising
 * a conditional write's check and put, so truly concurrent calls can both pass a condition DynamoDB would
 * refuse one of; the adapters' conflict paths are proven against mocks instead.
 */
export const oneAtATime = async <T>(calls: (() => Promise<T>)[]): Promise<T[]> => {
  const out: T[] = [];
  for (const c of calls) out.push(await c());
  return out;
};
