import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { AwsCallError } from '../errors.js';
import type { DeletionBudget } from '../retention/ports.js';
import { call } from './call.js';
import { conditionalWrites } from './conditional-writes.js';

/**
 * Partition key of one UTC day's retention budget; a fan-out target's (`scope`: its account and region)
 * has its own, so one account's deletions never spend another's.
 */
export const budgetKey = (day: string, scope?: string): string =>
  `retention-budget#${day}${scope ? `#${scope}` : ''}`;

/** The budget scope of a backup vault's region: never a target's (`<account>-<region>`) nor the hub's. */
export const vaultBudgetScope = (account: string, region: string): string => `vault-${account}-${region}`;

// Optimistic rounds before giving up: each lost round means another run reserved in between.
const ROUNDS = 8;
// The item outlives its day by a few days, for the record.
const KEEP_SECONDS = 4 * 86_400;

/**
 * DeletionBudget over the stage's state table (`pk` string key, `ttl` epoch seconds). One item per UTC day
 * holds `used`. A reservation reads it (strongly consistent) and writes `used + granted` on the condition
 * that `used` is still what it read: of two concurrent runs one wins, the other reads again.
 */
export const dynamoDeletionBudget = (
  doc: DynamoDBDocumentClient,
  table: string,
  scope?: string,
): DeletionBudget => {
  const ttlOf = (day: string) => Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) + KEEP_SECONDS;
  const writes = conditionalWrites(doc, table);
  return {
    reserve: async (day, wanted, limit) => {
      const pk = budgetKey(day, scope);
      for (let round = 0; round < ROUNDS; round++) {
        const item = (
          await call('GetItem', `${table} ${pk}`, () =>
            doc.send(new GetCommand({ TableName: table, Key: { pk }, ConsistentRead: true })),
          )
        ).Item;
        const used = typeof item?.used === 'number' ? item.used : 0;
        const granted = Math.max(0, Math.min(wanted, limit - used));
        if (granted === 0) return 0;
        const r = await writes.update(pk, {
          UpdateExpression: 'SET used = :next, #ttl = :ttl',
          ConditionExpression: item ? 'used = :seen' : 'attribute_not_exists(pk)',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':next': used + granted,
            ':ttl': ttlOf(day),
            ...(item ? { ':seen': used } : {}),
          },
        });
        if (r.ok) return granted;
      }
      throw new AwsCallError(
        'UpdateItem',
        `${table} ${pk}`,
        Object.assign(new Error(`lost ${ROUNDS} rounds to concurrent reservations`), {
          name: 'BudgetContention',
        }),
      );
    },
    refund: async (day, n) => {
      if (n <= 0) return;
      const pk = budgetKey(day, scope);
      // Never below zero: a refund without its reservation (the item expired) changes nothing.
      await writes.update(pk, {
        UpdateExpression: 'SET used = used - :n',
        ConditionExpression: 'used >= :n',
        ExpressionAttributeValues: { ':n': n },
      });
    },
  };
};
