import type { StewardConfig } from '../config/schema.js';
import { drLagObjectiveSeconds } from '../report/schedule.js';
import { AwsCallError, errorMessage } from '../errors.js';
import type { Outcome, Quota, Snapshot } from '../model.js';
import { logger, metrics, MetricUnit } from '../observability.js';
import { failedOutcome, settleEach } from '../outcomes.js';
import { FANOUT, mapLimit } from '../pool.js';
import { sleep } from '../retry.js';
import { dataTime } from '../data-time.js';
import { isManaged, Tag } from '../tags.js';
import {
  applyObservation,
  type CopyAction,
  copyActionOf,
  copyTargetIdOf,
  type CopyKind,
  type CopyListing,
  copyLimits,
  type CopyPlan,
  copyPlanOf,
  type CopyQueue,
  type CopyUse,
  type QueuedCopy,
  type CopySchedule,
  type DatabaseDr,
  dbKey,
  databaseOf,
  emptyQueue,
  foldCopyFinished,
  foldSnapshotCreated,
  heldInFlight,
  type InFlightCopy,
  isCopyInFlight,
  lessUse,
  noUse,
  observeCopies,
  type QueuedLag,
  queuedLag,
  queuedTargetId,
  releaseCopies,
  scheduleCopies,
  siblingUse,
  slotsChange,
  useOf,
  withSourceUse,
} from './copy-plan.js';
import type {
  CopyLedger,
  CopyPort,
  CopySlots,
  SnapshotLister,
  SnapshotReader,
  StoredCopyQueue,
  StoredCopySlots,
} from './ports.js';
import { SNAPSHOT_COPIED_EVENT_IDS, SNAPSHOT_CREATED_EVENT_IDS, type SnapshotTrigger } from './request.js';
import { namedBySteward, snapshotId } from './ids.js';
import type { CacheDrPort } from './cache-dr.js';
import { originRegion } from './copy-origin.js';
import { guardCopyQuotas, QUOTA_BY_KIND, QUOTA_READ } from './plan.js';

/** What a copy reconcile needs: the listings, the copy port, and (deployed) the readers and the queue. */
export interface CopyDeps {
  config: StewardConfig;
  now: () => Date;
  dr: CopyPort;
  snapshots: { primary: SnapshotLister; dr: SnapshotLister };
  /** Targeted reads; with `copyLedger`, an RDS event reconciles only its database. */
  readers?: { primary: SnapshotReader; dr: SnapshotReader };
  /** The destinations' copy queues (the state table); absent, every reconcile lists everything. */
  copyLedger?: CopyLedger;
  /**
   * The destination's slots of this account when other source regions of it copy there too (the state
   * table): this run plans with what they hold left out of the limits, and reserves its own before copying.
   */
  copySlots?: CopySlots;
  /**
   * Redis DR, when wired: it copies the ElastiCache snapshots, so this reconcile neither lists them nor reports
   * them skipped. Absent (a fan-out child, no buckets), each one is reported as having no cross-region copy.
   */
  cacheDr?: CacheDrPort;
}

/** One database's DR lag as a run reports it: from a full listing, or from the queue's lag origins. */
export type DrLag = Omit<DatabaseDr, 'missing'> & { missing: number };

export interface CopyReconcile {
  copies?: CopyPlan;
  outcomes: Outcome[];
  /** Every database's DR lag: from a full listing or the queue (an event's run sees one database: none). */
  drLag?: DrLag[];
}

/**
 * How often the reconcile lists both regions whole, to repair what events and targeted reads missed (a lost
 * event, a snapshot deleted or untagged by hand, a new database's history). Between sweeps a run without an
 * event reads only what the queue says is in flight.
 */
export const SWEEP_EVERY_MS = 24 * 3_600_000;

const COPY = 'copy-to-dr';
// Optimistic rounds on the queue item before giving up: a round is lost only when another run's write landed,
// so N runs at once all land within N rounds. The function runs one invocation at a time (reserved
// concurrency 1); the margin is for a CLI run or a second stage tool meeting it.
const ROUNDS = 16;
// A short random pause after a lost round, so runs that collided do not collide again in lockstep.
const backoff = (round: number) => sleep(Math.random() * 10 * 2 ** Math.min(round, 4));

/** The policies that copy to DR, and the kinds they cover that have a cross-region copy. */
const copyingPolicies = (config: StewardConfig) => {
  const copying = Object.entries(config.backup.policies).filter(([, p]) => p.copyToDr);
  return {
    names: copying.map(([name]) => name),
    kinds: [...new Set(copying.flatMap(([, p]) => p.kinds))],
  };
};

/**
 * Full listings of both regions: the hourly safety net and the scheduled runs. With `shared` (other source
 * regions of the account copy to the same destination), the destination's copies in flight from another
 * region are not this region's: they leave its queue and are returned by region (`listed`), to count in the
 * shared budget (`siblingUse`).
 */
const observeAll = async (
  deps: CopyDeps,
  at: Date,
  shared = false,
): Promise<{ listing: CopyListing; unread: Outcome[]; listed: Record<string, CopyUse> }> => {
  const { names, kinds } = copyingPolicies(deps.config);
  const [primary, dr] = await Promise.all([
    deps.snapshots.primary.list(deps.cacheDr ? kinds.filter((k) => k !== 'elasticache') : kinds),
    deps.snapshots.dr.list(kinds.filter((k) => k !== 'elasticache')),
  ]);
  // Copies are planned against what is already in the DR region and in flight: a partial DR listing could
  // start copies past the in-flight limit, so it stops the reconcile. A partial primary listing only
  // delays the copies of what could not be read.
  if (dr.failures.length) throw dr.failures[0]!.cause;
  const unread = primary.failures.map((f) => failedOutcome({ resource: f.resource, action: COPY }, f.cause));
  const listing = observeCopies(primary.snapshots, dr.snapshots, names, at, undefined, deps.config.region);
  const listed: Record<string, CopyUse> = {};
  if (shared) {
    const own = deps.config.region;
    const foreign = dr.snapshots.filter((d) => {
      const from = originRegion(d);
      return d.kind !== 'elasticache' && isCopyInFlight(d) && from !== undefined && from !== own;
    });
    const ids = new Set(foreign.map((d) => dbKey(d.kind as CopyKind, d.id)));
    listing.observation.inFlight = listing.observation.inFlight.filter(
      (f) => !ids.has(dbKey(f.kind, f.targetId)),
    );
    for (const d of foreign) {
      const from = originRegion(d)!;
      const weight = d.parts ? d.parts.filter((p) => p.state === 'pending').length : 1;
      (listed[from] ??= noUse())[d.kind as CopyKind] += weight;
    }
  }
  return { listing, unread, listed };
};

/**
 * What the queue already says settles the event without listing its database: a copy that finished with
 * nothing of its database behind it, or a new snapshot of a database the queue knows (its next copy, or its
 * newest DR data, is there). Undefined: the database must be listed.
 */
const settledByQueue = (
  snapshot: Snapshot,
  inDr: boolean,
  queue: CopyQueue,
  policies: readonly string[],
): ((q: CopyQueue) => CopyQueue) | undefined => {
  const kind = snapshot.kind as CopyKind;
  const db = databaseOf(snapshot);
  const key = dbKey(kind, db);
  const policy = snapshot.tags[Tag.policy] ?? '';
  const t = dataTime(snapshot);
  const usable =
    snapshot.status.toLowerCase() === 'available' &&
    snapshot.type === 'manual' &&
    isManaged(snapshot.tags) &&
    namedBySteward(snapshot) &&
    policies.includes(policy) &&
    t !== undefined;
  if (!usable) return undefined;
  const waiting = queue.pending.find((p) => dbKey(p.kind, p.db) === key);
  if (inDr) {
    const copy = queue.inFlight.find((f) => f.kind === kind && f.targetId === snapshot.id);
    if (!copy || copy.behind !== 0 || waiting) return undefined;
    return (q) => foldCopyFinished(q, { kind, db, targetId: snapshot.id, policy, dataTime: t });
  }
  if (queue.inFlight.some((f) => dbKey(f.kind, f.db) === key)) return undefined;
  const since = queue.lag?.[policy]?.[key];
  const next: QueuedCopy = {
    kind,
    db,
    snapshot: {
      id: snapshot.id,
      arn: snapshot.arn,
      ...(snapshot.createdAt ? { createdAt: snapshot.createdAt } : {}),
    },
    targetId: copyTargetIdOf(snapshot),
    ...(since !== undefined ? { newestCopyAt: new Date(since * 1000).toISOString() } : {}),
    missing: 1,
  };
  // Newer than what waits, or than the database's newest DR data: it is the database's next copy. An
  // older snapshot arriving late needs the database listed (what of it is copied is not in the queue).
  const newer = waiting
    ? t > Date.parse(waiting.snapshot.createdAt ?? '') || waiting.snapshot.id === snapshot.id
    : since !== undefined && t > since * 1000;
  return newer ? (q) => foldSnapshotCreated(q, next) : undefined;
};

/** What an event settles without a describe: its database, and how the queue takes it in. */
interface SettledEvent {
  key: string;
  fold: (q: CopyQueue) => CopyQueue;
}

/**
 * A copy-finished event (RDS-EVENT-0060) that the queue settles without reading the copy: the queue holds
 * the copy in flight with nothing of its database behind it or waiting, its id carries steward's data stamp,
 * and the queue's lag origins name its copying policy. RDS sends that event only when a copy finished (a
 * failed copy has its own event), and `aws.*` events cannot be sent by anyone but AWS. What the event cannot
 * tell (the copy deleted right after) the daily sweep repairs. Undefined: read the copy as before.
 */
const finishedByEvent = (
  trigger: SnapshotTrigger & { id: string },
  queue: CopyQueue,
  policies: readonly string[],
): SettledEvent | undefined => {
  if (trigger.eventId !== SNAPSHOT_COPIED_EVENT_IDS.db) return undefined;
  const copy = queue.inFlight.find((f) => f.kind === trigger.kind && f.targetId === trigger.id);
  if (!copy || copy.behind !== 0) return undefined;
  const key = dbKey(copy.kind, copy.db);
  if (queue.pending.some((p) => dbKey(p.kind, p.db) === key)) return undefined;
  const t = dataTime({ id: copy.targetId });
  const policy = policies.find((p) => queue.lag?.[p]?.[key] !== undefined);
  if (t === undefined || policy === undefined) return undefined;
  return {
    key,
    fold: (q) =>
      foldCopyFinished(q, { kind: copy.kind, db: copy.db, targetId: copy.targetId, policy, dataTime: t }),
  };
};

/**
 * A "snapshot created" event the queue settles without reading the snapshot: its id is exactly the
 * scheduled id steward gives a database the queue's lag origins know (so its database, policy and data time
 * are known), nothing of that database is in flight, and it is newer than what the database waits for or has
 * in DR. It joins the queue as the database's next copy; the source is read once, right before its copy
 * starts (in this run or a later one), which drops it if it is not available, not steward's or not of a
 * copying policy after all. Undefined: read the snapshot as before.
 */
const createdByEvent = (
  trigger: SnapshotTrigger & { id: string },
  queue: CopyQueue,
  policies: readonly string[],
): SettledEvent | undefined => {
  const created: string[] = Object.values(SNAPSHOT_CREATED_EVENT_IDS);
  if (!created.includes(trigger.eventId) || !trigger.snapshot?.startsWith('arn:')) return undefined;
  const t = dataTime({ id: trigger.id });
  if (t === undefined) return undefined;
  const kind = trigger.kind;
  let found: { db: string; since: number } | undefined;
  for (const policy of policies)
    for (const [k, since] of Object.entries(queue.lag?.[policy] ?? {})) {
      const db = k.slice(kind.length + 1);
      if (k.startsWith(`${kind}:`) && snapshotId(db, new Date(t), 'sched') === trigger.id)
        found = { db, since };
    }
  if (!found) return undefined;
  const key = dbKey(kind, found.db);
  if (queue.inFlight.some((f) => dbKey(f.kind, f.db) === key)) return undefined;
  const waiting = queue.pending.find((p) => dbKey(p.kind, p.db) === key);
  const newer = waiting
    ? waiting.snapshot.id === trigger.id || t > Date.parse(waiting.snapshot.createdAt ?? '')
    : t > found.since * 1000;
  if (!newer) return undefined;
  const next: QueuedCopy = {
    kind,
    db: found.db,
    snapshot: { id: trigger.id, arn: trigger.snapshot, createdAt: new Date(t).toISOString() },
    targetId: copyTargetIdOf({ kind, id: trigger.id, region: trigger.snapshot.split(':')[3] ?? '' }),
    newestCopyAt: new Date(found.since * 1000).toISOString(),
    missing: 1,
  };
  return { key, fold: (q) => foldSnapshotCreated(q, next) };
};

/**
 * The event's database only: the snapshot the event names (to learn its database), then, unless the queue
 * settles it (`settledByQueue`), that database's snapshots in both regions. One to three describes,
 * whatever the size of the estate.
 */
const observeOne = async (
  deps: CopyDeps,
  readers: NonNullable<CopyDeps['readers']>,
  trigger: SnapshotTrigger & { id: string },
  at: Date,
  queue: CopyQueue,
): Promise<{ listing: CopyListing; released: string[]; fold?: (q: CopyQueue) => CopyQueue }> => {
  const { names } = copyingPolicies(deps.config);
  const inDr = trigger.region === readers.dr.region;
  const settled = (inDr ? finishedByEvent : createdByEvent)(trigger, queue, names);
  if (settled)
    return { listing: observeCopies([], [], names, at, [settled.key]), released: [], fold: settled.fold };
  const snapshot = await (inDr ? readers.dr : readers.primary).get(trigger.kind, trigger.id);
  if (!snapshot) {
    // Gone already (deleted, or a copy that failed and was removed): nothing to observe; a reservation under
    // its id no longer holds a slot.
    return { listing: observeCopies([], [], names, at, []), released: [trigger.id] };
  }
  const db = databaseOf(snapshot);
  const fold = settledByQueue(snapshot, inDr, queue, names);
  if (fold) {
    const listing = observeCopies([], [], names, at, [dbKey(trigger.kind, db)]);
    if (!inDr) listing.actions.set(snapshot.id, copyActionOf(snapshot));
    return { listing, released: [], fold };
  }
  const [primary, dr] = await Promise.all([
    readers.primary.ofDatabase(trigger.kind, db),
    readers.dr.ofDatabase(trigger.kind, db),
  ]);
  return {
    listing: observeCopies(primary, dr, names, at, [dbKey(trigger.kind, db)], deps.config.region),
    released: [],
  };
};

/**
 * Between sweeps (a run without an event, the queue kept): the copies the queue holds in flight, read in
 * one request per kind; each database whose copy is no longer in flight (finished, failed, or never
 * started) is read again in both regions, which also picks up Aurora copies (RDS sends no event when a
 * cluster snapshot copy finishes). A database that cannot be read keeps its queue entries and fails alone.
 */
const observeQueued = async (
  deps: CopyDeps,
  readers: NonNullable<CopyDeps['readers']>,
  queue: CopyQueue,
  at: Date,
): Promise<{ listing: CopyListing; unread: Outcome[] }> => {
  const { names } = copyingPolicies(deps.config);
  const kinds = [...new Set(queue.inFlight.map((f) => f.kind))];
  // What the DR region says of the copies in flight: a failed read stops the run (limits need it).
  const seen = new Map<string, Snapshot>();
  for (const kind of kinds) {
    const ids = queue.inFlight.filter((f) => f.kind === kind).map((f) => f.targetId);
    for (const s of await readers.dr.some(kind, ids)) seen.set(dbKey(kind, s.id), s);
  }
  const changed = new Map<string, { kind: CopyKind; db: string }>();
  for (const f of queue.inFlight) {
    const s = seen.get(dbKey(f.kind, f.targetId));
    if (!s || !isCopyInFlight(s)) changed.set(dbKey(f.kind, f.db), { kind: f.kind, db: f.db });
  }
  const unread: Outcome[] = [];
  const read = await mapLimit([...changed.values()], FANOUT, async ({ kind, db }) => {
    try {
      const [primary, dr] = await Promise.all([
        readers.primary.ofDatabase(kind, db),
        readers.dr.ofDatabase(kind, db),
      ]);
      return { key: dbKey(kind, db), primary, dr };
    } catch (e) {
      unread.push(failedOutcome({ resource: `${kind} ${db}`, action: COPY }, e));
      return undefined;
    }
  });
  const ok = read.filter((r) => r !== undefined);
  return {
    listing: observeCopies(
      ok.flatMap((r) => r.primary),
      ok.flatMap((r) => r.dr),
      names,
      at,
      ok.map((r) => r.key),
      deps.config.region,
    ),
    unread,
  };
};

/** The destination's budget shared with the account's other source regions (`CopyDeps.copySlots`). */
interface SharedBudget {
  slots: CopySlots;
  /** This run's source region. */
  source: string;
  /** The account the slots are of (errors name it). */
  account?: string;
  /** Copies in flight from other regions that this run's listing of the destination saw, by region. */
  listed: Record<string, CopyUse>;
  now: Date;
}

/**
 * After its queue, write a run's use into the shared slots (`seen`: the slots as the run read them, else read
 * here). A write lost to another writer is read again and retried (the regions' fan-out children run at once).
 * Best effort: a failure is logged, and the next run writes it, or it expires.
 * - `settle`: less than it holds there, or a reservation to renew; given up, the run's larger reservation would
 *   hold the other regions back until its next run. Only while the region's queue is still the one this run
 *   wrote (`current`): a newer run of the region planned on what the slots held then (and gives back itself).
 * - `confirm` (a run that started copies): its use, or what is stored when that is more, written again on the
 *   version read. A give-back of an older run of the region read before it and written after it then loses its
 *   race, reads again, and finds the queue moved; one written before it is raised again here.
 */
const settleSlots = async (
  budget: SharedBudget,
  use: CopyUse,
  seen: StoredCopySlots | undefined,
  destination: string,
  mode: 'settle' | 'confirm' = 'settle',
  current?: () => Promise<boolean>,
) => {
  try {
    let slots = seen ?? (await budget.slots.read());
    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0) {
        await backoff(round);
        slots = await budget.slots.read();
      }
      const change = slotsChange(slots.bySource[budget.source], use, budget.now);
      if (mode === 'settle') {
        // Undefined: what is stored already says this run's use (written by another run of this region).
        if (!change) return;
        if (current && !(await current())) return;
      }
      const bySource =
        mode === 'settle' || change === 'reserve'
          ? withSourceUse(slots.bySource, budget.source, use, budget.now)
          : slots.bySource;
      if (await budget.slots.write(bySource, slots.version)) return;
    }
  } catch (e) {
    logger.info('DR copy slots not settled; the next run does', { destination, error: String(e) });
    return;
  }
  logger.info('DR copy slots not settled; the next run does', { destination });
};

/** Whether two lists hold the same copies (by target id), whatever their order and dates. */
const sameCopies = (a: readonly InFlightCopy[], b: readonly InFlightCopy[]) => {
  const ids = new Set(a.map((f) => f.targetId));
  return a.length === b.length && b.every((f) => ids.has(f.targetId));
};

/**
 * Read the destination's queue (or take `first`, already read), fold in what was observed, schedule under
 * the limits (less what the account's other source regions hold, with `budget`), and write it back on the
 * version read; on a lost race read again and re-plan. With `budget`, more copies in flight are reserved in
 * the shared slots before the queue is written (and so before any copy is requested); fewer are given back
 * after it. A region without a queue (`ledger` absent: a spoke) keeps its copies in flight in its own entry
 * of the slots instead (`SourceSlots.inFlight`), folded and written back the same way on the slots' version:
 * two runs of that region at once (the hourly child and an event's) then each count the copies the other
 * reserved, and a run's give-back keeps the other's. `fold` gets the stored queue, and whether there was one.
 * Dry run reads and plans, writes nothing.
 */
const scheduleOnQueue = async (
  ledger: CopyLedger | undefined,
  destination: string,
  fold: (q: CopyQueue, stored: boolean) => CopyQueue,
  plan: (q: CopyQueue, others: CopyUse) => CopySchedule,
  dryRun: boolean,
  first?: StoredCopyQueue,
  budget?: SharedBudget,
): Promise<{ before: CopyQueue; schedule: CopySchedule; others: number }> => {
  // What the last lost round lost to another run's write: the shared slots, or the queue.
  let lost = 'queue';
  // A region without a queue whose last round lost only a give-back (nothing to start): best effort.
  let settling: { before: CopyQueue; schedule: CopySchedule; others: number } | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    const queued = ledger ? (round === 0 && first ? first : await ledger.read(destination)) : undefined;
    const slots = budget ? await budget.slots.read() : undefined;
    const claimed =
      !ledger && slots && budget ? heldInFlight(slots.bySource[budget.source], budget.now) : undefined;
    const stored =
      queued ??
      (claimed && slots ? { queue: { inFlight: claimed, pending: [] }, version: slots.version } : undefined);
    const before = fold(stored?.queue ?? emptyQueue(), stored !== undefined);
    const others =
      slots && budget ? siblingUse(slots.bySource, budget.source, budget.now, budget.listed) : noUse();
    const schedule = plan(before, others);
    const held = Object.values(others).reduce((n, v) => n + v, 0);
    if (dryRun) return { before, schedule, others: held };
    const use = useOf(schedule.queue.inFlight);
    const change = slots && budget ? slotsChange(slots.bySource[budget.source], use, budget.now) : undefined;
    const write = (inFlight?: readonly InFlightCopy[]) =>
      budget!.slots.write(
        withSourceUse(slots!.bySource, budget!.source, use, budget!.now, inFlight),
        slots!.version,
      );
    if (!ledger && budget && slots) {
      // The slots are this region's queue: a copy to start is written there first, on the version read.
      const starts = schedule.start.length > 0 || change === 'reserve';
      if (!starts && !change && sameCopies(claimed ?? [], schedule.queue.inFlight))
        return { before, schedule, others: held };
      if (await write(schedule.queue.inFlight)) return { before, schedule, others: held };
      lost = 'slots';
      settling = starts ? undefined : { before, schedule, others: held };
      await backoff(round);
      continue;
    }
    // A reservation lands before the queue that starts its copies: the other regions see it first.
    if (change === 'reserve' && !(await write())) {
      lost = 'slots';
      await backoff(round);
      continue;
    }
    // Nothing changed (an event about a database the queue already knew, no slot free): no write needed.
    const unchanged = !stored || JSON.stringify(schedule.queue) === JSON.stringify(stored.queue);
    if (unchanged || (await ledger!.write(destination, schedule.queue, stored.version))) {
      // Fewer in flight, or a reservation to renew: after the queue, best effort, while it is this run's.
      const written = unchanged ? stored?.version : stored.version + 1;
      const current = async () => (await ledger!.read(destination)).version === written;
      if (change === 'settle') await settleSlots(budget!, use, slots!, destination, 'settle', current);
      else if (budget && schedule.start.length)
        await settleSlots(budget, use, undefined, destination, 'confirm');
      return { before, schedule, others: held };
    }
    lost = 'queue';
    await backoff(round);
  }
  if (settling) {
    logger.info('DR copy slots not settled; the next run does', { destination });
    return settling;
  }
  const account = budget?.account ? ` of account ${budget.account}` : '';
  throw new AwsCallError(
    'PutItem',
    lost === 'slots' ? `DR copy slots${account} in ${destination}` : `DR copy queue of ${destination}`,
    Object.assign(new Error(`lost ${ROUNDS} rounds to concurrent reconciles`), { name: 'QueueContention' }),
  );
};

/**
 * Give back the slots of copies that did not start, queueing again the ones still to make. Without a queue
 * (a fan-out child in another account: it lists in full every run) nothing is stored but the shared slots:
 * their entry's copies (`SourceSlots.inFlight`, which other runs of the region may have added to since) less
 * these, or, from an entry that does not list them, this run's own plan (`planned`) less these.
 */
const release = async (
  ledger: CopyLedger | undefined,
  destination: string,
  targetIds: string[],
  requeue: readonly QueuedCopy[],
  planned: CopyQueue,
  budget?: SharedBudget,
) => {
  if (!targetIds.length || (!ledger && !budget)) return;
  await scheduleOnQueue(
    ledger,
    destination,
    (q, stored) => {
      const freed = releaseCopies(stored ? q : planned, targetIds);
      const queued = new Set(freed.pending.map((p) => dbKey(p.kind, p.db)));
      return {
        ...freed,
        pending: [...freed.pending, ...requeue.filter((r) => !queued.has(dbKey(r.kind, r.db)))],
      };
    },
    (q) => ({ queue: q, start: [], waiting: [] }),
    false,
    undefined,
    budget,
  );
};

/**
 * A queued copy of another database, read again before it starts: it may have been deleted, or stopped
 * being steward's, since it was queued. Undefined when it is no longer a copy to make.
 */
const freshAction = async (
  reader: SnapshotReader | undefined,
  kind: CopyKind,
  id: string,
  policies: readonly string[],
): Promise<CopyAction | undefined> => {
  const s = await reader?.get(kind, id);
  if (
    !s ||
    s.status.toLowerCase() !== 'available' ||
    s.type !== 'manual' ||
    !isManaged(s.tags) ||
    !namedBySteward(s)
  )
    return undefined;
  if (!policies.includes(s.tags[Tag.policy] ?? '')) return undefined;
  return copyActionOf(s);
};

/**
 * The metric of DR lag: the worst database of a copying policy, sent only while it is over the policy's
 * objective (what the DR-lag alarm watches; a quiet hour costs nothing, CloudWatch bills a custom metric per
 * hour it receives data); per database, every run, only when configured.
 */
const emitDrLag = (config: StewardConfig, databases: readonly DrLag[], now: Date): void => {
  const worst = new Map<string, number>();
  for (const d of databases)
    if (d.lagSeconds !== undefined) worst.set(d.policy, Math.max(worst.get(d.policy) ?? 0, d.lagSeconds));
  for (const [policy, seconds] of worst) {
    const p = config.backup.policies[policy];
    const objective = p && drLagObjectiveSeconds(p, config.report.drGraceHours, now);
    if (objective === undefined || seconds <= objective) continue;
    const m = metrics.singleMetric();
    m.addDimension('policy', policy);
    m.addMetric(DR_LAG_MAX_METRIC, MetricUnit.Seconds, seconds);
  }
  if (!config.backup.drLag.metricPerDatabase) return;
  for (const d of databases) {
    if (d.lagSeconds === undefined) continue;
    const m = metrics.singleMetric();
    m.addDimension('database', d.db);
    m.addMetric(DR_LAG_METRIC, MetricUnit.Seconds, d.lagSeconds);
  }
};

/** EMF metric: the worst DR lag of a copying policy's databases (dimension `policy`), seconds. */
export const DR_LAG_MAX_METRIC = 'DrLagMaxSeconds';
/** EMF metric: one database's DR lag (dimension `database`), only with `backup.drLag.metricPerDatabase`. */
export const DR_LAG_METRIC = 'DrLagSeconds';

const lagOf = (d: DatabaseDr): DrLag => ({ ...d, missing: d.missing.length });
const lagFromQueue = (q: QueuedLag): DrLag => q;

/**
 * The DR region's manual snapshot quota guard (`guardCopyQuotas`) over a run's RDS and Aurora copies to
 * start: one DescribeAccountAttributes in the DR region, only for a run that would start one. The refused
 * copies leave `start` for `skipped` (named database, quota and region) and return to the queue (`requeue`);
 * without a queue, the next listing finds them missing again. An unreadable quota costs no copy: the run goes
 * on unguarded and says so (AWS still refuses a copy past the quota). Warnings only from a run without an
 * event (hourly, after a backup), so the events' runs of a region near its quota do not each warn.
 */
const guardDrQuota = async (
  deps: CopyDeps,
  plan: CopyPlan,
  scheduled: readonly QueuedCopy[],
  warn: boolean,
): Promise<{ plan: CopyPlan; requeue: QueuedCopy[]; outcomes: Outcome[] }> => {
  const guarded = plan.start.some((c) => QUOTA_BY_KIND[c.source.kind] !== undefined);
  if (!deps.dr.quotas || !guarded) return { plan, requeue: [], outcomes: [] };
  const region = deps.dr.region;
  let quotas: Quota[];
  try {
    quotas = await deps.dr.quotas();
  } catch (e) {
    logger.warn('DR quota unreadable, copying without the quota guard', { region, error: errorMessage(e) });
    return {
      plan,
      requeue: [],
      outcomes: [
        {
          resource: `manual snapshot quotas in ${region}`,
          action: QUOTA_READ,
          status: 'skipped',
          reason: `DR quota guard off: ${errorMessage(e)}`,
        },
      ],
    };
  }
  const guard = guardCopyQuotas(
    plan.start,
    quotas,
    region,
    warn ? deps.config.backup.quotaWarnPercent : undefined,
  );
  const queued = (c: CopyAction) => scheduled.find((q) => q.snapshot.id === c.source.id);
  return {
    plan: {
      ...plan,
      start: guard.start,
      skipped: [
        ...plan.skipped,
        ...guard.refused.map(({ copy, why }) => ({
          source: copy.source,
          reason: 'dr-quota-full' as const,
          detail: `${why}: the copy of ${queued(copy)?.db ?? copy.source.id} (${copy.targetId}) waits; a later run copies it`,
        })),
      ],
      ...(guard.findings.length ? { findings: guard.findings } : {}),
    },
    requeue: guard.refused.flatMap(({ copy }) => queued(copy) ?? []),
    outcomes: [],
  };
};

/**
 * Plan and start DR copies. With a trigger (an RDS event naming a snapshot) and the queue, only that
 * database is observed (three targeted describes) and the destination's queue says what else waits. Without
 * one (hourly, after a scheduled backup), the queue's copies in flight are read and only the databases they
 * finished are observed; both regions are listed whole once every `SWEEP_EVERY_MS`, and always when no queue
 * is wired.
 */
export const reconcileCopies = async (
  deps: CopyDeps,
  dryRun: boolean,
  trigger?: SnapshotTrigger,
): Promise<CopyReconcile> => {
  const { names } = copyingPolicies(deps.config);
  if (!names.length) return { outcomes: [] };
  const at = deps.now();
  const region = deps.dr.region;
  const ledger = deps.copyLedger;
  const targeted = trigger?.id !== undefined && deps.readers !== undefined && ledger !== undefined;

  let listing: CopyListing;
  let listed: Record<string, CopyUse> = {};
  let unread: Outcome[] = [];
  let released: string[] = [];
  let first: StoredCopyQueue | undefined;
  let fold: ((q: CopyQueue) => CopyQueue) | undefined;
  let mode: 'event' | 'queued' | 'sweep';
  if (targeted) {
    mode = 'event';
    first = await ledger.read(region);
    ({ listing, released, fold } = await observeOne(
      deps,
      deps.readers!,
      trigger as SnapshotTrigger & { id: string },
      at,
      first.queue,
    ));
  } else {
    first = ledger && deps.readers ? await ledger.read(region) : undefined;
    const sweptAt = first?.queue.sweptAt ? Date.parse(first.queue.sweptAt) : NaN;
    // A sweep dated in the future (a clock or a hand edit) counts as stale, like none at all.
    const fresh = sweptAt <= at.getTime() && at.getTime() - sweptAt < SWEEP_EVERY_MS;
    if (first && fresh) {
      mode = 'queued';
      ({ listing, unread } = await observeQueued(deps, deps.readers!, first.queue, at));
    } else {
      mode = 'sweep';
      ({ listing, unread, listed } = await observeAll(deps, at, deps.copySlots !== undefined));
    }
  }

  const limits = copyLimits(deps.config.backup.maxCopiesInFlight);
  // Other source regions of the account copy to this destination too: one budget (AWS counts per account).
  const budget: SharedBudget | undefined = deps.copySlots && {
    slots: deps.copySlots,
    source: deps.config.region,
    ...(deps.config.account ? { account: deps.config.account } : {}),
    listed,
    now: at,
  };
  const { before, schedule, others } = await scheduleOnQueue(
    ledger,
    region,
    (q) => releaseCopies(fold ? fold(q) : applyObservation(q, listing.observation), released),
    (q, others) => scheduleCopies(q, lessUse(limits, others), at),
    dryRun,
    first,
    budget,
  );
  // DR lag of every database: the sweep's own listing, or the queue's lag origins (no listing needed).
  const drLag =
    mode === 'sweep'
      ? listing.databases.map(lagOf)
      : mode === 'queued'
        ? queuedLag(before, at).map(lagFromQueue)
        : undefined;
  if (drLag) emitDrLag(deps.config, drLag, deps.now());

  // A started copy of another database (from the queue) is read again first; one that is no longer a copy
  // to make gives its slot back, one that could not be read goes back in the queue.
  const actions = new Map(listing.actions);
  const stale: string[] = [];
  const requeue: QueuedCopy[] = [];
  const toRead = schedule.start.filter((q) => !actions.has(q.snapshot.id));
  const reads = await settleEach(
    toRead,
    async (q): Promise<Outcome> => {
      const a = await freshAction(deps.readers?.primary, q.kind, q.snapshot.id, names);
      if (a) actions.set(q.snapshot.id, a);
      else stale.push(queuedTargetId(q));
      return { resource: q.snapshot.id, action: COPY, status: 'planned' };
    },
    (q) => ({ resource: q.snapshot.id, action: COPY }),
  );
  const readFailures = reads.filter((o) => o.status === 'failed');
  reads.forEach((o, i) => {
    if (o.status === 'failed') requeue.push(toRead[i]!);
  });

  const scoped = mode === 'event' ? new Set(listing.observation.scope) : undefined;
  const full = copyPlanOf(
    { ...listing, actions },
    schedule,
    before.inFlight.length,
    limits,
    deps.config.region,
  );
  // An event's run reports its own database's waiting copies; the queue's length says how many others wait.
  const scopedPlan: CopyPlan = scoped
    ? {
        ...full,
        deferred: full.deferred.filter((d) => scoped.has(dbKey(d.source.kind, d.db))),
      }
    : full;
  // The DR region's manual snapshot quotas take the copies too: what they cannot take goes back in the queue.
  const quota = await guardDrQuota(deps, scopedPlan, schedule.start, trigger === undefined);
  const plan = quota.plan;
  requeue.push(...quota.requeue);

  const started: Outcome[] = dryRun
    ? plan.start.map((c) => ({
        resource: c.source.id,
        action: COPY,
        status: 'planned',
        detail: `${region}/${c.targetId}`,
      }))
    : await settleEach(
        plan.start,
        async (c: CopyAction): Promise<Outcome> => {
          const r = await deps.dr.copySnapshot({
            kind: c.source.kind,
            sourceArn: c.source.arn,
            targetId: c.targetId,
            ...(deps.config.dr.kmsKeyArn ? { kmsKeyId: deps.config.dr.kmsKeyArn } : {}),
            ...(c.encrypted !== undefined ? { encrypted: c.encrypted } : {}),
            tags: c.tags,
            ...(c.parts ? { parts: c.parts } : {}),
          });
          const status = r === 'started' ? 'done' : 'already-done';
          return { resource: c.source.id, action: COPY, status, detail: `${region}/${c.targetId}` };
        },
        (c) => ({ resource: c.source.id, action: COPY }),
      );
  if (!dryRun) {
    const failed = schedule.start.filter((q) =>
      plan.start.some((c, i) => c.source.id === q.snapshot.id && started[i]?.status === 'failed'),
    );
    requeue.push(...failed);
    try {
      await release(
        ledger,
        region,
        [...stale, ...requeue.map(queuedTargetId)],
        requeue,
        schedule.queue,
        budget,
      );
    } catch (e) {
      // The hourly run reads the copies in flight and drops reservations that never became copies: a slot
      // is lost for an hour at most.
      logger.warn('DR copy slots not released; the hourly reconcile frees them', { error: String(e) });
    }
  }

  const inFlightNow = before.inFlight.length + plan.start.length + others;
  const fromOthers = others ? ` (${others} from the account's other regions)` : '';
  const deferred = plan.deferred.map((c): Outcome => ({
    resource: c.source.id,
    action: COPY,
    status: 'skipped',
    reason:
      c.why === 'limit'
        ? `deferred: ${inFlightNow} of ${plan.limit} copies in flight to ${region}${fromOthers}; a later run starts it`
        : c.why === 'database-busy'
          ? `deferred: a copy of ${c.db} is in flight to ${region}; its completion starts the next`
          : `deferred: ${c.db}'s newer snapshot is copied first; this one follows`,
  }));
  const skipped = plan.skipped.map((s): Outcome => ({
    resource: s.source.id,
    action: COPY,
    status: 'skipped',
    reason: `${s.reason}: ${s.detail}`,
  }));
  return {
    copies: mode === 'sweep' ? plan : { ...plan, queued: schedule.queue.pending.length },
    outcomes: [...unread, ...readFailures, ...quota.outcomes, ...started, ...deferred, ...skipped],
    ...(drLag ? { drLag } : {}),
  };
};
