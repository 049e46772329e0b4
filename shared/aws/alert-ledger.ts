import { type DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { type AlertLedger, STALE_CLAIM_SECONDS, type UnsentAlert } from '../cost/ports.js';
import { batchGetAll } from './batch-get.js';
import { conditionalWrites } from './conditional-writes.js';
import { collectPages } from './pages.js';

/**
 * The state table's sparse index of alerts claimed and not yet confirmed sent: `outbox` (partition, the
 * same value for every alert) and `outboxSince` (sort, the claim's epoch seconds) are set by a claim and
 * removed by the confirm, so the index holds only what is still owed. infra/state-table.ts builds it.
 */
export const OUTBOX = {
  index: 'outbox',
  partition: 'outbox',
  sort: 'outboxSince',
  value: 'cost-alert',
} as const;

/**
 * AlertLedger over the shared state table (`pk` string key, `ttl` epoch seconds). A claim is one conditional
 * PutItem: it succeeds when the key is absent (`attribute_not_exists(pk)`), held at a lower level (an
 * escalation), failed to publish, or pending past STALE_CLAIM_SECONDS. ConditionalCheckFailedException
 * means "already alerted": an answer, not an error. Until confirmed, a claim is in the OUTBOX index.
 */
export const dynamoAlertLedger = (
  doc: DynamoDBDocumentClient,
  table: string,
  now: () => Date = () => new Date(),
): AlertLedger => {
  const seconds = () => Math.floor(now().getTime() / 1000);
  const writes = conditionalWrites(doc, table);
  // One conditional status change; a refused condition means there is nothing (left) to change.
  const setStatus = async (
    key: string,
    update: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<void> => {
    await writes.update(key, {
      UpdateExpression: update,
      ConditionExpression: condition,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: values,
    });
  };
  return {
    claim: async (key, level, ttlSeconds, detail) => {
      const t = seconds();
      const r = await writes.put({
        Item: {
          pk: key,
          level,
          status: 'pending',
          claimedAt: t,
          ttl: t + ttlSeconds,
          detail,
          [OUTBOX.partition]: OUTBOX.value,
          [OUTBOX.sort]: t,
        },
        ConditionExpression:
          'attribute_not_exists(pk) OR #level < :level OR #status = :failed OR (#status = :pending AND claimedAt < :stale)',
        ExpressionAttributeNames: { '#level': 'level', '#status': 'status' },
        ExpressionAttributeValues: {
          ':level': level,
          ':pending': 'pending',
          ':failed': 'failed',
          ':stale': t - STALE_CLAIM_SECONDS,
        },
      });
      return r.ok;
    },
    // A key that is gone (released, expired) has nothing left to confirm.
    confirm: (key) =>
      setStatus(
        key,
        `SET #status = :sent, sentAt = :now REMOVE ${OUTBOX.partition}, ${OUTBOX.sort}`,
        'attribute_exists(pk)',
        { ':sent': 'sent', ':now': seconds() },
      ),
    // Kept (with its text, in the outbox) rather than deleted: a later run must still be able to re-send it.
    release: (key) =>
      setStatus(key, 'SET #status = :failed', '#status = :pending', {
        ':failed': 'failed',
        ':pending': 'pending',
      }),
    unsent: async () => {
      const stale = seconds() - STALE_CLAIM_SECONDS;
      const items = await collectPages(
        paginateQuery(
          { client: doc },
          {
            TableName: table,
            IndexName: OUTBOX.index,
            KeyConditionExpression: '#o = :o',
            ExpressionAttributeNames: { '#o': OUTBOX.partition },
            ExpressionAttributeValues: { ':o': OUTBOX.value },
          },
        ),
        (p) => p.Items,
        (i): UnsentAlert | undefined =>
          typeof i.pk === 'string' &&
          typeof i.level === 'number' &&
          typeof i.claimedAt === 'number' &&
          (i.status === 'failed' || (i.status === 'pending' && i.claimedAt < stale))
            ? {
                key: i.pk,
                level: i.level,
                detail: typeof i.detail === 'string' ? i.detail : i.pk,
                claimedAt: i.claimedAt,
                status: i.status,
              }
            : undefined,
        'Query',
        `${table} index ${OUTBOX.index}`,
      );
      return items;
    },
    held: async (keys) => {
      const found = new Set<string>();
      const items = await batchGetAll(
        doc,
        table,
        [...new Set(keys)].map((pk) => ({ pk })),
        { ProjectionExpression: 'pk, #status', ExpressionAttributeNames: { '#status': 'status' } },
      );
      // A failed publish is owed, not held: the next run alerts it again.
      for (const item of items)
        if (typeof item.pk === 'string' && item.status !== 'failed') found.add(item.pk);
      return found;
    },
  };
};
