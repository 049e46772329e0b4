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
/** Requests a batch makes at most before its keys still unprocessed fail the read. */
export const BATCH_GET_REQUESTS = UNPROCESSED_WAITS_MS.length + 1;

/**
 * The items of `keys` in `table` (absent ones left out), 100 keys a request, with `read`'s projection. Keys
 * DynamoDB leaves unprocessed (throttling, 16 MB a response) are asked again after a jittered backoff; keys
 * still unprocessed then fail the read, naming the table, so that nothing is read as absent that is there.
 */
export const batchGetAll = async (
  doc: DynamoDBDocumentClient,
  table: string,
  keys: readonly Record<string, unknown>[],
  read: {
    ProjectionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ConsistentRead?: boolean;
  } = {},
  o: {
    sleep?: (ms: number) => Promise<void>;
    /** What an error names for the keys asked (default: the table). */
    resource?: (keys: readonly Record<string, unknown>[]) => string;
  } = {},
): Promise<Record<string, unknown>[]> => {
  const { resource = () => table, ...retry } = o;
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += BATCH) {
    let pending = keys.slice(i, i + BATCH);
    await retrying(
      async () => {
        const r = await call('BatchGetItem', resource(pending), () =>
          doc.send(new BatchGetCommand({ RequestItems: { [table]: { ...read, Keys: [...pending] } } })),
        );
        out.push(...(r.Responses?.[table] ?? []));
        pending = r.UnprocessedKeys?.[table]?.Keys ?? [];
        if (pending.length)
          throw new AwsCallError(
            'BatchGetItem',
            resource(pending),
            Object.assign(new Error(`keys left unprocessed (${pending.length})`), { name: UNPROCESSED }),
          );
      },
      {
        waitsMs: UNPROCESSED_WAITS_MS,
        jitter: true,
        retryable: (e) => errorCode(e) === UNPROCESSED,
        ...retry,
      },
    );
  }
  return out;
};
