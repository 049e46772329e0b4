import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AwsCallError, errorCode } from '../errors.js';
import { doubling, retrying } from '../retry.js';
import { call } from './call.js';

/** BatchGetItem takes at most 100 keys a request. */
const BATCH = 100;
const UNPROCESSED = 'UnprocessedKeys';
/**
 * Waits before asking again for the keys DynamoDB left unprocessed (it asks for backoff): below 0.1, 0.2,
 * 0.4 and 0.8 s, full jitter, so readers throttled together do not come back together; 5 requests a batch.
 */
export const UNPROCESSED_WAITS_MS = doubling(100, 4);

/**
 * The items of `keys` in `table` (absent ones left out), 100 keys a request, with `read`'s projection. Keys
 * DynamoDB leaves unprocessed (throttling, 16 MB a response) are asked again after a jittered backoff; keys
 * still unprocessed then fail the read, naming the table, so that nothing is read as absent that is there.
 */
export const batchGetAll = async (
  doc: DynamoDBDocumentClient,
  table: string,
  keys: readonly Record<string, unknown>[],
  read: { ProjectionExpression?: string; ExpressionAttributeNames?: Record<string, string> } = {},
  o: { sleep?: (ms: number) => Promise<void> } = {},
): Promise<Record<string, unknown>[]> => {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += BATCH) {
    let pending = keys.slice(i, i + BATCH);
    await retrying(
      async () => {
        const r = await call('BatchGetItem', table, () =>
          doc.send(new BatchGetCommand({ RequestItems: { [table]: { ...read, Keys: [...pending] } } })),
        );
        out.push(...(r.Responses?.[table] ?? []));
        pending = r.UnprocessedKeys?.[table]?.Keys ?? [];
        if (pending.length)
          throw new AwsCallError(
            'BatchGetItem',
            table,
            Object.assign(new Error(`keys left unprocessed (${pending.length})`), { name: UNPROCESSED }),
          );
      },
      { waitsMs: UNPROCESSED_WAITS_MS, jitter: true, retryable: (e) => errorCode(e) === UNPROCESSED, ...o },
    );
  }
  return out;
};
