import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AlertLedger } from '../cost/ports.js';
import { AwsCallError, errorName } from '../errors.js';

/**
 * A claim older than this that was never confirmed belongs to a run that died between claim and send
 * (Lambda's longest timeout is 15 minutes): the next run may take it over and alert.
 */
export const STALE_CLAIM_SECONDS = 15 * 60;

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
      try {
        await doc.send(
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
        );
        return true;
      } catch (e) {
        if (errorName(e) === 'ConditionalCheckFailedException') return false;
        throw new AwsCallError('PutItem', `${table} ${key}`, e);
      }
    },
    confirm: async (key) => {
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: key },
            UpdateExpression: 'SET #status = :sent, sentAt = :now',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':sent': 'sent', ':now': seconds() },
          }),
        );
      } catch (e) {
        if (errorName(e) === 'ConditionalCheckFailedException') return;
        throw new AwsCallError('UpdateItem', `${table} ${key}`, e);
      }
    },
    release: async (key) => {
      try {
        await doc.send(new DeleteCommand({ TableName: table, Key: { pk: key } }));
      } catch (e) {
        throw new AwsCallError('DeleteItem', `${table} ${key}`, e);
      }
    },
    held: async (keys) => {
      const found = new Set<string>();
      const unique = [...new Set(keys)];
      for (let i = 0; i < unique.length; i += BATCH) {
        let pending: Record<string, unknown>[] | undefined = unique.slice(i, i + BATCH).map((pk) => ({ pk }));
        // Unprocessed keys come back under load; a few rounds, then give up loudly.
        for (let round = 0; pending?.length; round++) {
          if (round === 5) throw new AwsCallError('BatchGetItem', table, new Error('keys left unprocessed'));
          try {
            const r: BatchGetCommandOutput = await doc.send(
              new BatchGetCommand({
                RequestItems: { [table]: { Keys: pending, ProjectionExpression: 'pk' } },
              }),
            );
            for (const item of r.Responses?.[table] ?? [])
              if (typeof item.pk === 'string') found.add(item.pk);
            pending = r.UnprocessedKeys?.[table]?.Keys;
          } catch (e) {
            throw new AwsCallError('BatchGetItem', table, e);
          }
        }
      }
      return found;
    },
  };
};

/** In-memory AlertLedger with the same semantics (tests, the CLI without a deployed table, the bench). */
export const memoryAlertLedger = (
  now: () => Date = () => new Date(),
): AlertLedger & { items: Map<string, { level: number; status: string; claimedAt: number }> } => {
  const items = new Map<string, { level: number; status: string; claimedAt: number }>();
  const seconds = () => Math.floor(now().getTime() / 1000);
  return {
    items,
    // Synchronous check-and-set: as atomic as DynamoDB's conditional write.
    claim: async (key, level) => {
      const t = seconds();
      const cur = items.get(key);
      if (cur && cur.level >= level && !(cur.status === 'pending' && cur.claimedAt < t - STALE_CLAIM_SECONDS))
        return false;
      items.set(key, { level, status: 'pending', claimedAt: t });
      return true;
    },
    confirm: async (key) => {
      const cur = items.get(key);
      if (cur) cur.status = 'sent';
    },
    release: async (key) => void items.delete(key),
    held: async (keys) => new Set(keys.filter((k) => items.has(k))),
  };
};
