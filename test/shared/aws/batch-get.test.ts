import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { batchGetAll, UNPROCESSED_WAITS_MS } from '../../../shared/aws/batch-get.js';

const ddb = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const TABLE = 'steward-prod-state';

describe('batchGetAll', () => {
  beforeEach(() => ddb.reset());

  it('asks again for unprocessed keys after a jittered backoff, each wait below its step', async () => {
    // Prepare: two throttled rounds, then the rest
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { [TABLE]: [{ pk: 'a' }] },
        UnprocessedKeys: { [TABLE]: { Keys: [{ pk: 'b' }, { pk: 'c' }] } },
      })
      .resolvesOnce({
        Responses: { [TABLE]: [{ pk: 'b' }] },
        UnprocessedKeys: { [TABLE]: { Keys: [{ pk: 'c' }] } },
      })
      .resolves({ Responses: { [TABLE]: [{ pk: 'c' }] } });
    const waited: number[] = [];
    // Act
    const items = await batchGetAll(
      doc,
      TABLE,
      [{ pk: 'a' }, { pk: 'b' }, { pk: 'c' }],
      {},
      {
        sleep: async (ms) => void waited.push(ms),
      },
    );
    // Assert
    expect(items.map((i) => i.pk)).toEqual(['a', 'b', 'c']);
    expect(ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems![TABLE]!.Keys)).toEqual([
      [{ pk: 'a' }, { pk: 'b' }, { pk: 'c' }],
      [{ pk: 'b' }, { pk: 'c' }],
      [{ pk: 'c' }],
    ]);
    expect(waited).toHaveLength(2);
    waited.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(UNPROCESSED_WAITS_MS[i]!);
    });
  });

  it('does not ask again when the request itself fails (the SDK retried it already)', async () => {
    // Prepare
    ddb.on(BatchGetCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    // Act
    const read = batchGetAll(doc, TABLE, [{ pk: 'a' }], {}, { sleep: async () => {} });
    // Assert
    await expect(read).rejects.toThrow(/BatchGetItem failed for steward-prod-state: AccessDeniedException/);
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 1);
  });
});
