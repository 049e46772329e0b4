import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ResourceKind } from '../config/schema.js';
import { alarmStateKey, approvalKey, cooldownKey } from '../scaling/ids.js';
import type { AlarmState, Approval } from '../scaling/model.js';
import type { ScalingStore } from '../scaling/ports.js';
import { attempt, call } from './call.js';

// How long the last acted-on transition is remembered after its cooldown: longer than any redelivery
// (EventBridge retries for 24 h), so an old event is still recognised as out of order.
const ACTED_MEMORY_SECONDS = 7 * 24 * 3600;

const CONDITION_FAILED = ['ConditionalCheckFailedException'];

/**
 * ScalingStore over the stage's state table (partition key `pk`, TTL attribute `ttl` in epoch seconds).
 * DynamoDB deletes expired items lazily (up to days later), so reads and conditions check `ttl` themselves.
 */
export const dynamoScalingStore = (
  doc: DynamoDBDocumentClient,
  table: string,
  now: () => Date = () => new Date(),
): ScalingStore => {
  const epoch = (d: Date) => Math.floor(d.getTime() / 1000);
  const live = (item: Record<string, unknown> | undefined) =>
    item && !(typeof item.ttl === 'number' && item.ttl <= epoch(now())) ? item : undefined;

  const get = async (pk: string) =>
    live(
      (
        await call('GetItem', `${table} ${pk}`, () =>
          doc.send(new GetCommand({ TableName: table, Key: { pk } })),
        )
      ).Item,
    );

  /** A conditional put; false when the condition refused it. */
  const putIf = async (
    Item: Record<string, unknown>,
    ConditionExpression: string,
    values: Record<string, unknown>,
  ): Promise<boolean> =>
    (
      await attempt(
        'PutItem',
        `${table} ${String(Item.pk)}`,
        () =>
          doc.send(
            new PutCommand({
              TableName: table,
              Item,
              ConditionExpression,
              ExpressionAttributeNames: {
                '#pk': 'pk',
                ...(ConditionExpression.includes('#ttl') ? { '#ttl': 'ttl' } : {}),
              },
              ExpressionAttributeValues: values,
            }),
          ),
        { refused: CONDITION_FAILED },
      )
    ).ok;

  return {
    memory: async (eventKey, kind: ResourceKind, id) => {
      const [seen, cooldown] = await Promise.all([get(eventKey), get(cooldownKey(kind, id))]);
      return {
        seen: seen !== undefined,
        ...(typeof cooldown?.lastActedAt === 'string' ? { lastActedAt: new Date(cooldown.lastActedAt) } : {}),
        ...(typeof cooldown?.until === 'string' ? { cooldownUntil: new Date(cooldown.until) } : {}),
      };
    },

    // An expired key that DynamoDB has not swept yet may be claimed again.
    claim: (eventKey, ttlSeconds, record) =>
      putIf(
        { ...record, pk: eventKey, claimedAt: now().toISOString(), ttl: epoch(now()) + ttlSeconds },
        'attribute_not_exists(#pk) OR #ttl <= :now',
        { ':now': epoch(now()) },
      ),

    release: async (eventKey) => {
      await call('DeleteItem', `${table} ${eventKey}`, () =>
        doc.send(new DeleteCommand({ TableName: table, Key: { pk: eventKey } })),
      );
    },

    recordAction: async (kind, id, a) => {
      const at = a.at.toISOString();
      // Two rules acting on one resource: the newer transition stays the reference for out-of-order checks.
      await putIf(
        {
          pk: cooldownKey(kind, id),
          lastActedAt: at,
          until: a.until.toISOString(),
          rule: a.rule,
          alarmName: a.alarmName,
          ttl: Math.max(epoch(a.until), epoch(now())) + ACTED_MEMORY_SECONDS,
        },
        'attribute_not_exists(#pk) OR lastActedAt <= :at',
        { ':at': at },
      );
    },

    putApproval: async (a, ttlSeconds) => {
      const created = await putIf(
        {
          pk: approvalKey(a.id),
          status: a.status,
          approval: JSON.stringify(a),
          expiresAt: a.expiresAt,
          ttl: epoch(now()) + ttlSeconds,
        },
        'attribute_not_exists(#pk) OR #ttl <= :now',
        { ':now': epoch(now()) },
      );
      return created ? 'created' : 'exists';
    },

    getApproval: async (id) => {
      const item = await get(approvalKey(id));
      if (!item || typeof item.approval !== 'string') return undefined;
      const a = JSON.parse(item.approval) as Approval;
      return {
        ...a,
        status: item.status === 'executed' ? 'executed' : 'pending',
        ...(typeof item.executedAt === 'string' ? { executedAt: item.executedAt } : {}),
        ...(typeof item.result === 'string' ? { result: item.result } : {}),
      };
    },

    markExecuted: async (id, at) =>
      (
        await attempt(
          'UpdateItem',
          `${table} ${approvalKey(id)}`,
          () =>
            doc.send(
              new UpdateCommand({
                TableName: table,
                Key: { pk: approvalKey(id) },
                UpdateExpression: 'SET #status = :executed, executedAt = :at',
                ConditionExpression: '#status = :pending',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: {
                  ':executed': 'executed',
                  ':pending': 'pending',
                  ':at': at.toISOString(),
                },
              }),
            ),
          { refused: CONDITION_FAILED },
        )
      ).ok,

    recordResult: async (id, result) => {
      await call('UpdateItem', `${table} ${approvalKey(id)}`, () =>
        doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: approvalKey(id) },
            UpdateExpression: 'SET #result = :result',
            ExpressionAttributeNames: { '#result': 'result' },
            ExpressionAttributeValues: { ':result': result },
          }),
        ),
      );
    },

    alarmState: async (alarmName) => {
      const item = await get(alarmStateKey(alarmName));
      if (!item || typeof item.state !== 'string' || typeof item.since !== 'string') return undefined;
      return { state: item.state as AlarmState, since: new Date(item.since) };
    },

    setAlarmState: async (alarmName, state, since, ttlSeconds) => {
      const at = since.toISOString();
      await putIf(
        { pk: alarmStateKey(alarmName), state, since: at, ttl: epoch(now()) + ttlSeconds },
        'attribute_not_exists(#pk) OR since <= :since',
        { ':since': at },
      );
    },
  };
};
