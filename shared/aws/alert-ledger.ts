import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type AlertLedger, STALE_CLAIM_SECONDS } from '../cost/ports.js';
import { AwsCallError } from '../errors.js';
import { attempt, call } from './call.js';

const CONDITION_FAILED = ['ConditionalCheckFailedException'];
// BatchGetItem takes at most 100 keys per request.
const BATCH = 100;

/**
 * AlertLedger over the shared state table (`pk` string key, `ttl` epoch seconds). A claim is one conditional
 * PutItem: it succeeds when the key is absent (`attribute_not_exists(pk)`), held at a lower level (an
 * escalation), or pending past STALE_CLAIM_SECONDS. ConditionalCheckFailedException means "already
 * alerted": an answer, not an error.
 */
export const dynamoAlertLedger = (
  doc: DynamoDBDocumentClient,
  table: string,
  now: () => Date = () => new Date(),
): AlertLedger => {
  const seconds = () => Math.floor(now().getTime() / 1000);
  return {
    claim: async (key, level, ttlSeconds, detail) => {
      const t = seconds();
      const r = await attempt(
        'PutItem',
        `${table} ${key}`,
        () =>
          doc.send(
            new PutCommand({
              TableName: table,
              Item: { pk: key, level, status: 'pending', claimedAt: t, ttl: t + ttlSeconds, detail },
              ConditionExpression:
                'attribute_not_exists(pk) OR #level < :level OR (#status = :pending AND claimedAt < :stale)',
              ExpressionAttributeNames: { '#level': 'level', '#status': 'status' },
              ExpressionAttributeValues: {
                ':level': level,
                ':pending': 'pending',
                ':stale': t - STALE_CLAIM_SECONDS,
              },
            }),
          ),
        { refused: CONDITION_FAILED },
      );
      return r.ok;
    },
    confirm: async (key) => {
      // A key that is gone (released, expired) has nothing left to confirm.
      await attempt(
        'UpdateItem',
        `${table} ${key}`,
        () =>
          doc.send(
            new UpdateCommand({
              TableName: table,
              Key: { pk: key },
              UpdateExpression: 'SET #status = :sent, sentAt = :now',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':sent': 'sent', ':now': seconds() },
            }),
          ),
        { refused: CONDITION_FAILED },
      );
    },
    release: async (key) => {
      await call('DeleteItem', `${table} ${key}`, () =>
        doc.send(new DeleteCommand({ TableName: table, Key: { pk: key } })),
      );
    },
    held: async (keys) => {
      const found = new Set<string>();
      const unique = [...new Set(keys)];
      for (let i = 0; i < unique.length; i += BATCH) {
        let pending: Record<string, unknown>[] | undefined = unique.slice(i, i + BATCH).map((pk) => ({ pk }));
        // Unprocessed keys come back under load; a few rounds, then give up loudly.
        for (let round = 0; pending?.length; round++) {
          if (round === 5) throw new AwsCallError('BatchGetItem', table, new Error('keys left unprocessed'));
          const keys = pending;
          const r: BatchGetCommandOutput = await call('BatchGetItem', table, () =>
            doc.send(
              new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ProjectionExpression: 'pk' } } }),
            ),
          );
          for (const item of r.Responses?.[table] ?? []) if (typeof item.pk === 'string') found.add(item.pk);
          pending = r.UnprocessedKeys?.[table]?.Keys;
        }
      }
      return found;
    },
  };
};
