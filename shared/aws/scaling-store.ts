import { DeleteCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { ResourceKind } from '../config/schema.js';
import {
  alarmStateKey,
  approvalKey,
  cooldownKey,
  type KeyPlace,
  pendingApprovalsKey,
  placedKey,
  plannedKey,
} from '../scaling/ids.js';
import type { AlarmState, DecisionRecord, PlannedRecord, ResourceWait } from '../scaling/model.js';
import type { ScalingStore } from '../scaling/ports.js';
import { batchGetAll } from './batch-get.js';
import { call } from './call.js';
import { conditionalWrites } from './conditional-writes.js';
import { scalingStoreChanges, type StoreTable } from './scaling-store-changes.js';

type Item = Record<string, unknown>;

/** A dry run's plan as its item holds it; undefined when there is none (or it is malformed). */
const plannedOf = (item: Item | undefined): PlannedRecord | undefined =>
  item &&
  typeof item.at === 'string' &&
  typeof item.until === 'string' &&
  typeof item.rule === 'string' &&
  typeof item.alarmName === 'string' &&
  typeof item.change === 'string'
    ? {
        at: new Date(item.at),
        until: new Date(item.until),
        rule: item.rule,
        alarmName: item.alarmName,
        change: item.change,
      }
    : undefined;

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
  const plannedAt = (kind: ResourceKind, id: string) => eventAt(plannedKey(kind, id));
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

  /**
   * Several keys in one consistent BatchGetItem: one request on one connection (two parallel GetItems open two,
   * each with its TLS handshake on a cold start); live items by key. An error names the table and the keys.
   */
  const getMany = async (pks: readonly string[]): Promise<Map<string, Item>> => {
    const items = await batchGetAll(
      doc,
      table,
      [...new Set(pks)].map((pk) => ({ pk })),
      { ConsistentRead: true },
      { resource: (keys) => `${table} ${keys.map((k) => String(k.pk)).join(', ')}` },
    );
    const found = new Map<string, Item>();
    for (const item of items) {
      const kept = live(item);
      if (kept && typeof kept.pk === 'string') found.set(kept.pk, kept);
    }
    return found;
  };

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

  const store: StoreTable = {
    doc,
    table,
    now,
    epoch,
    cooldownAt,
    approvalAt,
    pendingAt,
    get,
    writes,
    putIf,
    updateIf,
    deleteIf,
  };
  const changes = scalingStoreChanges(store);

  return {
    // The seen event and the resource's cooldown (and a dry run's plan, asked for): items of the state table,
    // read in one request.
    memory: async (eventKey, kind: ResourceKind, id, o = {}) => {
      const seenPk = eventAt(eventKey);
      const cooldownPk = cooldownAt(kind, id);
      const plannedPk = plannedAt(kind, id);
      const items = await getMany([seenPk, cooldownPk, ...(o.planned ? [plannedPk] : [])]);
      const seen = items.get(seenPk);
      const cooldown = items.get(cooldownPk);
      const planned = o.planned ? plannedOf(items.get(plannedPk)) : undefined;
      return {
        seen: seen !== undefined,
        ...(planned ? { planned } : {}),
        ...(typeof cooldown?.lastActedAt === 'string' ? { lastActedAt: new Date(cooldown.lastActedAt) } : {}),
        ...(typeof cooldown?.until === 'string' ? { cooldownUntil: new Date(cooldown.until) } : {}),
        ...(typeof seen?.outcome === 'string' && seen.announced === false
          ? { unannounced: JSON.parse(seen.outcome) as DecisionRecord }
          : {}),
      };
    },

    // Its own item, never the cooldown's: claimResource neither reads nor overwrites it. Kept a day past its
    // cooldown (a later read checks `until`); a longer cooldown already planned is never shortened.
    recordPlanned: async (kind, id, p) => {
      await putIf(
        {
          pk: plannedAt(kind, id),
          at: p.at.toISOString(),
          until: p.until.toISOString(),
          rule: p.rule,
          alarmName: p.alarmName,
          change: p.change,
          ttl: epoch(p.until) + 24 * 3600,
        },
        'attribute_not_exists(#pk) OR #until <= :until',
        { ':until': p.until.toISOString() },
      );
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

    // What a run writes when it acts, asks for approval or sees a failover (scaling-store-changes.ts). Not
    // an `await import()`: an alarm that acts writes its claim, and one more dynamic import on that path
    // costs more CPU than these 3 KB do to parse.
    ...changes,

    alarmState: async (alarmName) => {
      const item = await get(alarmStateAt(alarmName));
      if (!item || typeof item.state !== 'string' || typeof item.since !== 'string') return undefined;
      const wait: ResourceWait | undefined =
        typeof item.waitState === 'string' &&
        typeof item.waitSince === 'string' &&
        typeof item.waitSeen === 'string'
          ? {
              state: item.waitState,
              since: new Date(item.waitSince),
              seen: new Date(item.waitSeen),
              ...(typeof item.waitTold === 'string' ? { told: new Date(item.waitTold) } : {}),
            }
          : undefined;
      return { state: item.state as AlarmState, since: new Date(item.since), ...(wait ? { wait } : {}) };
    },

    // On the alarm's state item, so the next transition (a put) drops it; only while it is the OK period read.
    noteWait: async (alarmName, since, wait) => {
      await updateIf(
        alarmStateAt(alarmName),
        `SET waitState = :state, waitSince = :waitSince, waitSeen = :seen${wait.told ? ', waitTold = :told' : ' REMOVE waitTold'}`,
        'attribute_exists(#pk) AND since = :since',
        {
          ':since': since.toISOString(),
          ':state': wait.state,
          ':waitSince': wait.since.toISOString(),
          ':seen': wait.seen.toISOString(),
          ...(wait.told ? { ':told': wait.told.toISOString() } : {}),
        },
      );
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
