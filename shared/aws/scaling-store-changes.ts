import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ResourceKind } from '../config/schema.js';
import type { Approval } from '../scaling/model.js';
import { type ResourceHolder, type ScalingStore, STALE_EXECUTION_SECONDS } from '../scaling/ports.js';
import { call } from './call.js';
import type { conditionalWrites } from './conditional-writes.js';

// The scaling store's writes of a run that acts, asks for approval or sees a failover: the resource claims
// (the cooldown), the failover's cooldown restart and the approvals, spread into dynamoScalingStore
// (scaling-store.ts).

// How long the last acted-on transition is remembered after its cooldown: longer than any redelivery
// (EventBridge retries for 24 h), so an old event is still recognised as out of order.
const ACTED_MEMORY_SECONDS = 7 * 24 * 3600;

type Item = Record<string, unknown>;

/** The state table as dynamoScalingStore reads and writes it: its keys, clock and conditional writes. */
export interface StoreTable {
  doc: DynamoDBDocumentClient;
  table: string;
  now: () => Date;
  epoch: (d: Date) => number;
  cooldownAt: (kind: ResourceKind, id: string) => string;
  approvalAt: (id: string) => string;
  pendingAt: (rule: string) => string;
  get: (pk: string) => Promise<Item | undefined>;
  writes: ReturnType<typeof conditionalWrites>;
  putIf: (Item: Item, condition: string, values: Record<string, unknown>) => Promise<{ old?: Item } | false>;
  updateIf: (
    pk: string,
    update: string,
    condition: string,
    values: Record<string, unknown>,
  ) => Promise<boolean>;
  deleteIf: (pk: string, condition: string, values: Record<string, unknown>) => Promise<unknown>;
}

/** The methods of ScalingStore that act, restart a cooldown or keep approvals, over `t`. */
export type StoreChanges = Pick<
  ScalingStore,
  | 'claimResource'
  | 'releaseResource'
  | 'restartCooldown'
  | 'putApproval'
  | 'getApproval'
  | 'claimApproval'
  | 'completeApproval'
  | 'releaseApproval'
>;

export const scalingStoreChanges = (t: StoreTable): StoreChanges => {
  const date = (v: unknown) => (typeof v === 'string' ? new Date(v) : undefined);
  /** The TTL of a cooldown item ending `until`: kept ACTED_MEMORY_SECONDS past it (or past now, if later). */
  const remembered = (until: Date) => Math.max(t.epoch(until), t.epoch(t.now())) + ACTED_MEMORY_SECONDS;
  return {
    claimResource: async (kind, id, a) => {
      const pk = t.cooldownAt(kind, id);
      const at = a.at.toISOString();
      // Free when nobody ever acted, or the cooldown ran out and no newer transition was acted on (a cooldown
      // a failover restarted has no acted-on transition). ISO times in UTC compare as strings.
      const r = await t.putIf(
        {
          pk,
          lastActedAt: at,
          until: a.until.toISOString(),
          rule: a.rule,
          alarmName: a.alarmName,
          eventKey: a.eventKey,
          ttl: remembered(a.until),
        },
        'attribute_not_exists(#pk) OR (#until <= :now AND (attribute_not_exists(lastActedAt) OR lastActedAt <= :at))',
        { ':now': t.now().toISOString(), ':at': at },
      );
      if (r === false) {
        const held = await t.get(pk);
        const holder: ResourceHolder = {
          ...(typeof held?.rule === 'string' ? { rule: held.rule } : {}),
          ...(typeof held?.alarmName === 'string' ? { alarmName: held.alarmName } : {}),
          ...(date(held?.until) ? { until: date(held?.until)! } : {}),
          ...(date(held?.lastActedAt) ? { lastActedAt: date(held?.lastActedAt)! } : {}),
        };
        return { ok: false, holder };
      }
      const old = r.old;
      return {
        ok: true,
        claim: {
          kind,
          id,
          eventKey: a.eventKey,
          ...(old &&
            typeof old.lastActedAt === 'string' &&
            typeof old.until === 'string' && {
              previous: {
                at: new Date(old.lastActedAt),
                until: new Date(old.until),
                rule: String(old.rule ?? ''),
                alarmName: String(old.alarmName ?? ''),
                ...(typeof old.eventKey === 'string' ? { eventKey: old.eventKey } : {}),
              },
            }),
        },
      };
    },

    // Only while the claim is still ours: a later run's claim is never undone.
    releaseResource: async (c) => {
      const pk = t.cooldownAt(c.kind, c.id);
      if (!c.previous) {
        await t.deleteIf(pk, 'eventKey = :mine', { ':mine': c.eventKey });
        return;
      }
      await t.putIf(
        {
          pk,
          lastActedAt: c.previous.at.toISOString(),
          until: c.previous.until.toISOString(),
          rule: c.previous.rule,
          alarmName: c.previous.alarmName,
          ...(c.previous.eventKey ? { eventKey: c.previous.eventKey } : {}),
          ttl: remembered(c.previous.until),
        },
        'eventKey = :mine',
        { ':mine': c.eventKey },
      );
    },

    restartCooldown: async (kind, id, until, reason) =>
      (
        await t.writes.update(t.cooldownAt(kind, id), {
          // The acted-on transition (lastActedAt) is left as it is: it orders alarms, not failovers. The
          // claim in flight no longer owns the item: its release must not undo the failover's cooldown.
          UpdateExpression: 'SET #until = :u, restartedBy = :r, #ttl = :ttl REMOVE eventKey',
          ConditionExpression: 'attribute_not_exists(#until) OR #until < :u',
          ExpressionAttributeNames: { '#until': 'until', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':u': until.toISOString(),
            ':r': reason,
            ':ttl': remembered(until),
          },
        })
      ).ok,

    putApproval: async (a, ttlSeconds) => {
      const created = await t.putIf(
        {
          pk: t.approvalAt(a.id),
          status: a.status,
          approval: JSON.stringify(a),
          expiresAt: a.expiresAt,
          ttl: t.epoch(t.now()) + ttlSeconds,
        },
        'attribute_not_exists(#pk) OR #ttl <= :now',
        { ':now': t.epoch(t.now()) },
      );
      // The rule's index of approvals (read by steward status), kept as long as its newest approval. Also on
      // `exists`: a set ADD is idempotent, so a retry repairs an index write that failed after the put.
      await call('UpdateItem', `${t.table} ${t.pendingAt(a.rule)}`, () =>
        t.doc.send(
          new UpdateCommand({
            TableName: t.table,
            Key: { pk: t.pendingAt(a.rule) },
            UpdateExpression: 'ADD #ids :id SET #ttl = :ttl',
            ExpressionAttributeNames: { '#ids': 'ids', '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':id': new Set([a.id]), ':ttl': t.epoch(t.now()) + ttlSeconds },
          }),
        ),
      );
      return created === false ? 'exists' : 'created';
    },

    getApproval: async (id) => {
      const item = await t.get(t.approvalAt(id));
      if (!item || typeof item.approval !== 'string') return undefined;
      const a = JSON.parse(item.approval) as Approval;
      return {
        ...a,
        status:
          item.status === 'executed' ? 'executed' : item.status === 'executing' ? 'executing' : 'pending',
        ...(typeof item.executedAt === 'string' ? { executedAt: item.executedAt } : {}),
        ...(typeof item.result === 'string' ? { result: item.result } : {}),
        ...(typeof item.lastError === 'string' ? { lastError: item.lastError } : {}),
      };
    },

    claimApproval: (id, at) =>
      t.updateIf(
        t.approvalAt(id),
        'SET #status = :executing, claimedAt = :at',
        '#status = :pending OR (#status = :executing AND claimedAt < :stale)',
        {
          ':executing': 'executing',
          ':pending': 'pending',
          ':at': at.toISOString(),
          ':stale': new Date(at.getTime() - STALE_EXECUTION_SECONDS * 1000).toISOString(),
        },
      ),

    completeApproval: async (id, at, result) => {
      await t.updateIf(
        t.approvalAt(id),
        'SET #status = :executed, executedAt = :at, #result = :result REMOVE claimedAt',
        '#status = :executing',
        { ':executed': 'executed', ':executing': 'executing', ':at': at.toISOString(), ':result': result },
      );
    },

    releaseApproval: async (id, error) => {
      await t.updateIf(
        t.approvalAt(id),
        'SET #status = :pending, lastError = :error REMOVE claimedAt',
        '#status = :executing',
        { ':pending': 'pending', ':executing': 'executing', ':error': error },
      );
    },
  };
};
