import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ResourceKind } from '../config/schema.js';
import {
  alarmStateKey,
  approvalKey,
  cooldownKey,
  type KeyPlace,
  pendingApprovalsKey,
  placedKey,
} from '../scaling/ids.js';
import type { AlarmState, Approval, DecisionRecord } from '../scaling/model.js';
import { type ResourceHolder, type ScalingStore, STALE_EXECUTION_SECONDS } from '../scaling/ports.js';
import { call } from './call.js';
import { conditionalWrites } from './conditional-writes.js';

// How long the last acted-on transition is remembered after its cooldown: longer than any redelivery
// (EventBridge retries for 24 h), so an old event is still recognised as out of order.
const ACTED_MEMORY_SECONDS = 7 * 24 * 3600;

type Item = Record<string, unknown>;

/**
 * ScalingStore over the stage's state table (partition key `pk`, TTL attribute `ttl` in epoch seconds).
 * DynamoDB deletes expired items lazily (up to days later), so reads and conditions check `ttl` themselves.
 * Every claim is one conditional write: of concurrent runs exactly one wins it.
 */
export const dynamoScalingStore = (
  doc: DynamoDBDocumentClient,
  table: string,
  now: () => Date = () => new Date(),
  /** A spoke account-region of a fleet: every key carries it (ids.ts, placedKey). The hub's own: none. */
  place?: KeyPlace,
): ScalingStore => {
  const eventAt = (key: string) => placedKey(key, place);
  const cooldownAt = (kind: ResourceKind, id: string) => eventAt(cooldownKey(kind, id));
  const approvalAt = (id: string) => eventAt(approvalKey(id));
  const pendingAt = (rule: string) => eventAt(pendingApprovalsKey(rule));
  const alarmStateAt = (alarmName: string) => eventAt(alarmStateKey(alarmName));
  const epoch = (d: Date) => Math.floor(d.getTime() / 1000);
  const live = (item: Item | undefined) =>
    item && !(typeof item.ttl === 'number' && item.ttl <= epoch(now())) ? item : undefined;
  // DynamoDB refuses an empty ExpressionAttributeNames: give it only the placeholders the expressions use.
  const names = (expression: string) => {
    const used = ['pk', 'ttl', 'status', 'until', 'result'].filter((n) => expression.includes(`#${n}`));
    return used.length ? Object.fromEntries(used.map((n) => [`#${n}`, n])) : undefined;
  };

  const get = async (pk: string) =>
    live(
      (
        await call('GetItem', `${table} ${pk}`, () =>
          doc.send(new GetCommand({ TableName: table, Key: { pk }, ConsistentRead: true })),
        )
      ).Item,
    );

  const writes = conditionalWrites(doc, table);

  /** A conditional put; the replaced item when it went through, false when the condition refused it. */
  const putIf = async (
    Item: Item,
    ConditionExpression: string,
    values: Record<string, unknown>,
  ): Promise<{ old?: Item } | false> => {
    const r = await writes.put({
      Item,
      ConditionExpression,
      ExpressionAttributeNames: names(ConditionExpression),
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_OLD',
    });
    return r.ok ? (r.value.Attributes ? { old: r.value.Attributes } : {}) : false;
  };

  /** A conditional update; false when the condition refused it. */
  const updateIf = async (
    pk: string,
    UpdateExpression: string,
    ConditionExpression: string,
    values: Record<string, unknown>,
  ): Promise<boolean> =>
    (
      await writes.update(pk, {
        UpdateExpression,
        ConditionExpression,
        ExpressionAttributeNames: names(`${UpdateExpression} ${ConditionExpression}`),
        ExpressionAttributeValues: values,
      })
    ).ok;

  const deleteIf = async (pk: string, ConditionExpression: string, values: Record<string, unknown>) =>
    writes.remove(pk, { ConditionExpression, ExpressionAttributeValues: values });

  const date = (v: unknown) => (typeof v === 'string' ? new Date(v) : undefined);

  return {
    memory: async (eventKey, kind: ResourceKind, id) => {
      const [seen, cooldown] = await Promise.all([get(eventAt(eventKey)), get(cooldownAt(kind, id))]);
      return {
        seen: seen !== undefined,
        ...(typeof cooldown?.lastActedAt === 'string' ? { lastActedAt: new Date(cooldown.lastActedAt) } : {}),
        ...(typeof cooldown?.until === 'string' ? { cooldownUntil: new Date(cooldown.until) } : {}),
        ...(typeof seen?.outcome === 'string' && seen.announced === false
          ? { unannounced: JSON.parse(seen.outcome) as DecisionRecord }
          : {}),
      };
    },

    // An expired key that DynamoDB has not swept yet may be claimed again.
    claim: async (eventKey, ttlSeconds, record) =>
      (await putIf(
        { ...record, pk: eventAt(eventKey), claimedAt: now().toISOString(), ttl: epoch(now()) + ttlSeconds },
        'attribute_not_exists(#pk) OR #ttl <= :now',
        { ':now': epoch(now()) },
      )) !== false,

    release: async (eventKey) => {
      await call('DeleteItem', `${table} ${eventAt(eventKey)}`, () =>
        doc.send(new DeleteCommand({ TableName: table, Key: { pk: eventAt(eventKey) } })),
      );
    },

    claimResource: async (kind, id, a) => {
      const pk = cooldownAt(kind, id);
      const at = a.at.toISOString();
      // Free when nobody ever acted, or the cooldown ran out and no newer transition was acted on (a cooldown
      // a failover restarted has no acted-on transition). ISO times in UTC compare as strings.
      const r = await putIf(
        {
          pk,
          lastActedAt: at,
          until: a.until.toISOString(),
          rule: a.rule,
          alarmName: a.alarmName,
          eventKey: a.eventKey,
          ttl: Math.max(epoch(a.until), epoch(now())) + ACTED_MEMORY_SECONDS,
        },
        'attribute_not_exists(#pk) OR (#until <= :now AND (attribute_not_exists(lastActedAt) OR lastActedAt <= :at))',
        { ':now': now().toISOString(), ':at': at },
      );
      if (r === false) {
        const held = await get(pk);
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
      const pk = cooldownAt(c.kind, c.id);
      if (!c.previous) {
        await deleteIf(pk, 'eventKey = :mine', { ':mine': c.eventKey });
        return;
      }
      await putIf(
        {
          pk,
          lastActedAt: c.previous.at.toISOString(),
          until: c.previous.until.toISOString(),
          rule: c.previous.rule,
          alarmName: c.previous.alarmName,
          ...(c.previous.eventKey ? { eventKey: c.previous.eventKey } : {}),
          ttl: Math.max(epoch(c.previous.until), epoch(now())) + ACTED_MEMORY_SECONDS,
        },
        'eventKey = :mine',
        { ':mine': c.eventKey },
      );
    },

    // On the event's own item, so it expires with it; a key already gone has nothing to record.
    recordOutcome: async (eventKey, decision) => {
      await updateIf(eventAt(eventKey), 'SET outcome = :outcome, announced = :no', 'attribute_exists(#pk)', {
        ':outcome': JSON.stringify(decision),
        ':no': false,
      });
    },

    markAnnounced: async (eventKey) => {
      await updateIf(eventAt(eventKey), 'SET announced = :yes', 'attribute_exists(#pk)', { ':yes': true });
    },

    restartCooldown: async (kind, id, until, reason) =>
      (
        await writes.update(cooldownAt(kind, id), {
          // The acted-on transition (lastActedAt) is left as it is: it orders alarms, not failovers. The
          // claim in flight no longer owns the item: its release must not undo the failover's cooldown.
          UpdateExpression: 'SET #until = :u, restartedBy = :r, #ttl = :ttl REMOVE eventKey',
          ConditionExpression: 'attribute_not_exists(#until) OR #until < :u',
          ExpressionAttributeNames: { '#until': 'until', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':u': until.toISOString(),
            ':r': reason,
            ':ttl': Math.max(epoch(until), epoch(now())) + ACTED_MEMORY_SECONDS,
          },
        })
      ).ok,

    putApproval: async (a, ttlSeconds) => {
      const created = await putIf(
        {
          pk: approvalAt(a.id),
          status: a.status,
          approval: JSON.stringify(a),
          expiresAt: a.expiresAt,
          ttl: epoch(now()) + ttlSeconds,
        },
        'attribute_not_exists(#pk) OR #ttl <= :now',
        { ':now': epoch(now()) },
      );
      // The rule's index of approvals (read by steward status), kept as long as its newest approval. Also on
      // `exists`: a set ADD is idempotent, so a retry repairs an index write that failed after the put.
      await call('UpdateItem', `${table} ${pendingAt(a.rule)}`, () =>
        doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: pendingAt(a.rule) },
            UpdateExpression: 'ADD #ids :id SET #ttl = :ttl',
            ExpressionAttributeNames: { '#ids': 'ids', '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':id': new Set([a.id]), ':ttl': epoch(now()) + ttlSeconds },
          }),
        ),
      );
      return created === false ? 'exists' : 'created';
    },

    getApproval: async (id) => {
      const item = await get(approvalAt(id));
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
      updateIf(
        approvalAt(id),
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
      await updateIf(
        approvalAt(id),
        'SET #status = :executed, executedAt = :at, #result = :result REMOVE claimedAt',
        '#status = :executing',
        { ':executed': 'executed', ':executing': 'executing', ':at': at.toISOString(), ':result': result },
      );
    },

    releaseApproval: async (id, error) => {
      await updateIf(
        approvalAt(id),
        'SET #status = :pending, lastError = :error REMOVE claimedAt',
        '#status = :executing',
        { ':pending': 'pending', ':executing': 'executing', ':error': error },
      );
    },

    alarmState: async (alarmName) => {
      const item = await get(alarmStateAt(alarmName));
      if (!item || typeof item.state !== 'string' || typeof item.since !== 'string') return undefined;
      return { state: item.state as AlarmState, since: new Date(item.since) };
    },

    setAlarmState: async (alarmName, state, since, ttlSeconds) => {
      const at = since.toISOString();
      await putIf(
        { pk: alarmStateAt(alarmName), state, since: at, ttl: epoch(now()) + ttlSeconds },
        'attribute_not_exists(#pk) OR since <= :since',
        { ':since': at },
      );
    },
  };
};
