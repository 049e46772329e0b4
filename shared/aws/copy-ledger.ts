import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type {
  CopyQueue,
  CopyUse,
  InFlightCopy,
  LagSince,
  QueuedCopy,
  SlotsBySource,
} from '../backup/copy-plan.js';
import type { CopyLedger, CopySlots } from '../backup/ports.js';
import { attempt, call } from './call.js';

/** Partition key prefix of the DR copy queues (one item per destination region). */
export const COPY_QUEUE_PREFIX = 'dr-copies#';

/** Partition key of one destination region's copy queue. */
export const copyQueueKey = (destination: string): string => `${COPY_QUEUE_PREFIX}${destination}`;

/** Partition key of one account's slots in one destination region (under the queues' prefix and grant). */
export const copySlotsKey = (account: string, destination: string): string =>
  `${COPY_QUEUE_PREFIX}slots#${account}#${destination}`;

const CONDITION_FAILED = ['ConditionalCheckFailedException'];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const str = (v: unknown): v is string => typeof v === 'string';
const kind = (v: unknown) => v === 'rds-instance' || v === 'aurora-cluster' || v === 'ebs';
// An EBS set's volumes (absent: 1).
const weightOf = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? { weight: v } : {});

// The item's lists are stored as JSON strings, one attribute each: an event's run reads and writes the whole
// item, and hundreds of queued copies as DynamoDB lists of maps cost far more to marshal than one string (the
// item's size is about the same). An older item with DynamoDB lists still reads.
const parsed = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
};

// The item is steward's own, but a hand edit or an older shape must not crash every run: entries that do not
// parse are dropped, and the daily sweep rebuilds what they said.
const inFlightOf = (raw: unknown, v = parsed(raw)): InFlightCopy[] =>
  (Array.isArray(v) ? v : []).flatMap((f): InFlightCopy[] =>
    isRecord(f) && kind(f.kind) && str(f.db) && str(f.targetId) && str(f.since)
      ? [
          {
            kind: f.kind as InFlightCopy['kind'],
            db: f.db,
            targetId: f.targetId,
            since: f.since,
            ...(typeof f.behind === 'number' ? { behind: f.behind } : {}),
            ...weightOf(f.weight),
          },
        ]
      : [],
  );

const pendingOf = (raw: unknown, v = parsed(raw)): QueuedCopy[] =>
  (Array.isArray(v) ? v : []).flatMap((q): QueuedCopy[] => {
    if (!isRecord(q) || !kind(q.kind) || !str(q.db) || !isRecord(q.snapshot)) return [];
    const s = q.snapshot;
    if (!str(s.id) || !str(s.arn)) return [];
    return [
      {
        kind: q.kind as QueuedCopy['kind'],
        db: q.db,
        snapshot: { id: s.id, arn: s.arn, ...(str(s.createdAt) ? { createdAt: s.createdAt } : {}) },
        ...(str(q.targetId) ? { targetId: q.targetId } : {}),
        ...(str(q.newestCopyAt) ? { newestCopyAt: q.newestCopyAt } : {}),
        missing: typeof q.missing === 'number' ? q.missing : 1,
        ...weightOf(q.weight),
      },
    ];
  });

// DR lag origins: policy → database key → epoch seconds; anything else is dropped (the next sweep rebuilds it).
const lagOf = (raw: unknown, v = parsed(raw)): LagSince => {
  const out: LagSince = {};
  if (!isRecord(v)) return out;
  for (const [policy, dbs] of Object.entries(v)) {
    if (!isRecord(dbs)) continue;
    const ok = Object.entries(dbs).filter(([, t]) => typeof t === 'number' && Number.isFinite(t));
    if (ok.length) out[policy] = Object.fromEntries(ok) as Record<string, number>;
  }
  return out;
};

/**
 * CopyLedger over the stage's state table (`pk` string key): one item per destination region holding its
 * in-flight copies and each database's next copy, and a `version` every write must still find (optimistic
 * concurrency: of two runs that read the same version, one writes, the other reads again and re-plans).
 * Each database takes ~30 bytes of lag origin, and ~250 more while a copy of it waits: the item stays under
 * DynamoDB's 400 KB up to ~1 400 databases per destination even with every one of them waiting.
 */
/**
 * Write `item` under `pk` only if the item is still at `version` (0: it must not exist yet), as `version + 1`;
 * false when another writer got there first. The queue and the slots both use it.
 */
const putVersioned = async (
  doc: DynamoDBDocumentClient,
  table: string,
  pk: string,
  version: number,
  item: Record<string, unknown>,
): Promise<boolean> => {
  const r = await attempt(
    'PutItem',
    `${table} ${pk}`,
    () =>
      doc.send(
        new PutCommand({
          TableName: table,
          Item: { pk, version: version + 1, ...item },
          ConditionExpression: version === 0 ? 'attribute_not_exists(pk)' : 'version = :seen',
          ...(version === 0 ? {} : { ExpressionAttributeValues: { ':seen': version } }),
        }),
      ),
    { refused: CONDITION_FAILED },
  );
  return r.ok;
};

export const dynamoCopyLedger = (doc: DynamoDBDocumentClient, table: string): CopyLedger => ({
  read: async (destination) => {
    const pk = copyQueueKey(destination);
    const item = (
      await call('GetItem', `${table} ${pk}`, () =>
        doc.send(new GetCommand({ TableName: table, Key: { pk }, ConsistentRead: true })),
      )
    ).Item;
    if (!item) return { queue: { inFlight: [], pending: [] }, version: 0 };
    return {
      queue: {
        inFlight: inFlightOf(item.inFlight),
        pending: pendingOf(item.pending),
        // Unreadable: as if never swept, so the next run lists both regions and writes it again.
        ...(str(item.sweptAt) && Number.isFinite(Date.parse(item.sweptAt)) ? { sweptAt: item.sweptAt } : {}),
        lag: lagOf(item.lag),
      },
      version: typeof item.version === 'number' ? item.version : 0,
    };
  },
  write: (destination, queue: CopyQueue, version) =>
    putVersioned(doc, table, copyQueueKey(destination), version, {
      inFlight: JSON.stringify(queue.inFlight),
      pending: JSON.stringify(queue.pending),
      ...(queue.sweptAt ? { sweptAt: queue.sweptAt } : {}),
      lag: JSON.stringify(queue.lag ?? {}),
    }),
});

const useOfItem = (v: unknown): CopyUse | undefined => {
  if (!isRecord(v)) return undefined;
  const n = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : 0);
  return { 'rds-instance': n(v['rds-instance']), 'aurora-cluster': n(v['aurora-cluster']), ebs: n(v.ebs) };
};

// Source regions → { use, at }; an entry that does not parse is dropped (its region's next run writes it).
const slotsOf = (raw: unknown, v = parsed(raw)): SlotsBySource => {
  const out: SlotsBySource = {};
  if (!isRecord(v)) return out;
  for (const [region, e] of Object.entries(v)) {
    const use = isRecord(e) ? useOfItem(e.use) : undefined;
    if (use && isRecord(e) && str(e.at) && Number.isFinite(Date.parse(e.at)))
      out[region] = {
        use,
        at: e.at,
        ...(Array.isArray(e.inFlight) ? { inFlight: inFlightOf(e.inFlight) } : {}),
      };
  }
  return out;
};

/**
 * CopySlots over the stage's state table: one item per account and destination region (`copySlotsKey`),
 * each source region's copies in flight there, and a `version` every write must still find (as the queue's).
 * The item is the hub's, whichever account the copies are in: the fan-out's children of one account's
 * regions run with the hub's credentials for the table.
 */
export const dynamoCopySlots = (
  doc: DynamoDBDocumentClient,
  table: string,
  account: string,
  destination: string,
): CopySlots => {
  const pk = copySlotsKey(account, destination);
  return {
    read: async () => {
      const item = (
        await call('GetItem', `${table} ${pk}`, () =>
          doc.send(new GetCommand({ TableName: table, Key: { pk }, ConsistentRead: true })),
        )
      ).Item;
      if (!item) return { bySource: {}, version: 0 };
      return {
        bySource: slotsOf(item.bySource),
        version: typeof item.version === 'number' ? item.version : 0,
      };
    },
    write: (bySource, version) =>
      putVersioned(doc, table, pk, version, { bySource: JSON.stringify(bySource) }),
  };
};
