import { dataTime } from '../data-time.js';
import type { QuotaFinding, ResourceKind, Snapshot } from '../model.js';
import { isManaged, Tag, type Tags } from '../tags.js';
import { isCopyOf, mayBeCopyFrom } from './copy-origin.js';
import { drCopyId, namedBySteward } from './ids.js';

/**
 * Cross-region copies in progress per destination region, as AWS documents them: 20 DB snapshot copies
 * (RDS User Guide, "Copying a DB snapshot": "up to 20 snapshot copy requests in progress to a single
 * destination Region per account") and 5 DB cluster snapshot copies (Aurora User Guide, "DB cluster
 * snapshot copying": "up to five"). Whether the two share one pool is not documented, so the configured
 * limit caps both together and cluster copies also stay under their own 5. EBS: 20 concurrent snapshot
 * copies per destination Region, not adjustable (EBS User Guide, "Quotas for Amazon EBS"; past it CopySnapshot
 * fails with ResourceLimitExceeded), counted per volume: a set of 3 volumes takes 3.
 */
export const AWS_COPY_LIMITS: Readonly<Record<CopyKind, number>> = {
  'rds-instance': 20,
  'aurora-cluster': 5,
  ebs: 20,
};

/** The largest in-flight limit AWS documents for any kind; config can only lower it. */
export const AWS_MAX_COPIES_IN_FLIGHT = Math.max(...Object.values(AWS_COPY_LIMITS));

// RDS allows 50 tags per resource.
const MAX_TAGS = 50;

/** The kinds that have a cross-region snapshot copy (ElastiCache only exports to S3). */
export type CopyKind = Exclude<ResourceKind, 'elasticache'>;

/** The source snapshot a copy decision is about. */
export interface SnapshotRef {
  kind: ResourceKind;
  id: string;
  arn: string;
  region: string;
  createdAt?: string;
}

export interface CopyAction {
  source: SnapshotRef;
  /**
   * Its id in the DR region, the same on every run so a repeated run finds it: an RDS or Aurora copy's names
   * its source region (`drCopyId`), so one account's same-named databases of two regions get a copy each; an
   * EBS set copy keeps its set's id (EBS snapshot ids are AWS's; a set is found by its tag and origin).
   */
  targetId: string;
  encrypted?: boolean;
  /** The source's tags plus `steward:copied-from=<source arn>`. */
  tags: Tags;
  /** An EBS set's volume snapshots, each copied on its own. */
  parts?: Snapshot['parts'];
}

/** An eligible copy not started by this run, and why. */
export interface DeferredCopy {
  source: SnapshotRef;
  /** The database the snapshot is of. */
  db: string;
  /**
   * `limit`: the destination's in-flight limit is reached; `database-busy`: a copy of the same database is in
   * flight (RDS queues a second one behind it anyway, holding a slot for nothing); `behind-newer`: the
   * database's newer snapshot goes first.
   */
  why: 'limit' | 'database-busy' | 'behind-newer';
}

export type CopySkipReason =
  /** ElastiCache has no cross-region snapshot copy (only export to S3). */
  | 'no-cross-region-copy'
  /** Still creating; a later run (hourly schedule, RDS event) copies it. */
  | 'not-available-yet'
  /** The source snapshot failed; there is nothing to copy. */
  | 'source-failed'
  /** A copy with this id exists in the DR region but failed; delete it to retry. */
  | 'copy-failed'
  /** The DR region's manual snapshot quota cannot take it now; a later run copies it (`guardCopyQuotas`). */
  | 'dr-quota-full';

export interface CopyPlan {
  /** Copies already in progress in the DR region (counted against the limit). */
  inFlight: number;
  /** Effective limit per destination: min(configured, AWS's documented limit). */
  limit: number;
  /** Copies to start now: the databases whose newest DR copy is oldest first. */
  start: CopyAction[];
  /** Eligible copies not started now, in the order they will start; later runs and events start them. */
  deferred: DeferredCopy[];
  skipped: { source: SnapshotRef; reason: CopySkipReason; detail: string }[];
  /** Eligible sources that already have a DR copy (done or in progress). */
  alreadyCopied: number;
  /** Databases whose next copy waits in the destination's queue after this run (every database's). */
  queued?: number;
  /** The DR region's manual snapshot quotas, when full or near it (`guardCopyQuotas`). */
  findings?: QuotaFinding[];
}

// `incomplete`: an EBS set copy with parts missing and none in progress (a run stopped between its copies).
const DONE = new Set(['available', 'failed', 'deleting', 'incomplete']);

/** True for a DR snapshot that is a cross-region copy still in progress. */
export const isCopyInFlight = (s: Snapshot): boolean =>
  ((s.sourceRegion !== undefined && s.sourceRegion !== s.region) || s.tags[Tag.copiedFrom] !== undefined) &&
  !DONE.has(s.status.toLowerCase());

export const refOf = (s: Snapshot): SnapshotRef => ({
  kind: s.kind,
  id: s.id,
  arn: s.arn,
  region: s.region,
  ...(s.createdAt ? { createdAt: s.createdAt } : {}),
});

/** Keep at most 50 tags, steward's own first, so the copy stays recognisable. */
const copyTags = (s: Snapshot): Tags => {
  const tags: Tags = { ...s.tags, [Tag.copiedFrom]: s.arn };
  const keys = Object.keys(tags);
  if (keys.length <= MAX_TAGS) return tags;
  const ours = keys.filter((k) => k.startsWith('steward:'));
  const theirs = keys.filter((k) => !k.startsWith('steward:')).sort();
  return Object.fromEntries([...ours, ...theirs].slice(0, MAX_TAGS).map((k) => [k, tags[k]!]));
};

/** The DR id of a source snapshot's copy (`CopyAction.targetId`). */
export const copyTargetIdOf = (s: Pick<Snapshot, 'kind' | 'id' | 'region'>): string =>
  s.kind === 'ebs' ? s.id : drCopyId(s.id, s.region);

/** The copy of one available source snapshot: its DR id (`copyTargetIdOf`), its tags plus copied-from. */
export const copyActionOf = (s: Snapshot): CopyAction => ({
  source: refOf(s),
  targetId: copyTargetIdOf(s),
  ...(s.encrypted !== undefined ? { encrypted: s.encrypted } : {}),
  tags: copyTags(s),
  ...(s.parts ? { parts: s.parts } : {}),
});

/** The database a snapshot is of: the AWS field, the writable tag only when AWS leaves it empty. */
export const databaseOf = (s: Snapshot): string => s.sourceId || s.tags[Tag.source] || '';

/** `<kind>:<database id>`: one database across both regions (a copy keeps its source's database id). */
export const dbKey = (kind: ResourceKind, db: string): string => `${kind}:${db}`;

// ---------------------------------------------------------------------------------------------------------
// The copy queue of one destination region: what is in flight and what each database copies next. The
// backup function keeps it in the state table, so an RDS event reconciles one database, not the estate.

/** A copy in progress in the destination (observed in a listing, or reserved by a run that starts it). */
export interface InFlightCopy {
  kind: CopyKind;
  db: string;
  targetId: string;
  /** When it was seen or reserved (ISO); a reservation newer than a listing survives that listing. */
  since: string;
  /**
   * Snapshots of the database still missing behind this copy when it started (absent: unknown). 0 lets the
   * copy's finish event skip listing the database: nothing else of it waits.
   */
  behind?: number;
  /** Copies it takes of the destination's limit: an EBS set's volumes (absent: 1). */
  weight?: number;
}

/** The next copy of one database: its newest snapshot not yet in the destination. */
export interface QueuedCopy {
  kind: CopyKind;
  db: string;
  snapshot: { id: string; arn: string; createdAt?: string };
  /** The copy's id in the destination (`copyTargetIdOf`); absent (queued before it was kept): the source's. */
  targetId?: string;
  /** Data time (ISO) of the database's newest available DR copy; absent: none yet, so it goes first. */
  newestCopyAt?: string;
  /** How many of the database's snapshots are missing in the destination, this one included. */
  missing: number;
  /** Copies it takes of the destination's limit: an EBS set's volumes (absent: 1). */
  weight?: number;
}

/**
 * Per copying policy, per database (`dbKey`): since when (epoch seconds) its DR lag counts, i.e. the data
 * time of its newest available DR copy, or of its oldest eligible snapshot when none is copied yet. Kept so
 * the hourly run can publish DR lag without listing the estate; each observation rewrites its databases'.
 */
export type LagSince = Record<string, Record<string, number>>;

export interface CopyQueue {
  inFlight: InFlightCopy[];
  pending: QueuedCopy[];
  /** When the last full listing of both regions started (ISO); absent: never, so the next run lists all. */
  sweptAt?: string;
  lag?: LagSince;
}

export const emptyQueue = (): CopyQueue => ({ inFlight: [], pending: [] });

/** What a listing saw: every database (`scope` absent) or only the named ones (an event's database). */
export interface CopyObservation {
  /** `dbKey`s the listing covered; absent: all of them (the hourly full listing). */
  scope?: string[];
  /** When the listing started (ISO). */
  at: string;
  inFlight: InFlightCopy[];
  pending: QueuedCopy[];
  /** The observed databases' DR lag origins (`LagSince`). */
  lag: LagSince;
  /** Target ids the listing saw in the destination no longer in flight (available, failed, deleting). */
  done?: string[];
}

/**
 * How long a reservation the destination does not show yet is kept: a run reserves a slot, then requests the
 * copy, within its own timeout (5 minutes); a listing made in between must not free that slot for a second
 * copy. A reservation whose copy a listing saw finish is freed at once.
 */
export const RESERVATION_GRACE_MS = 15 * 60_000;

/** Merge DR lag origins: the observed databases' entries replace what `lag` held for them (all of it when `scope` is absent). */
const mergeLag = (
  lag: LagSince | undefined,
  observed: LagSince,
  scope: Set<string> | undefined,
): LagSince => {
  if (!scope) return observed;
  const out: LagSince = {};
  for (const [policy, dbs] of Object.entries(lag ?? {})) {
    const kept = Object.entries(dbs).filter(([k]) => !scope.has(k));
    if (kept.length) out[policy] = Object.fromEntries(kept);
  }
  for (const [policy, dbs] of Object.entries(observed)) out[policy] = { ...out[policy], ...dbs };
  return out;
};

/**
 * Replace what the queue holds about the observed databases with what the listing saw. A reservation the
 * listing does not show is kept for `RESERVATION_GRACE_MS` (a concurrent run may not have requested its copy
 * yet), unless the listing saw that copy finished. A full listing (no `scope`) also dates the sweep.
 */
export const applyObservation = (queue: CopyQueue, obs: CopyObservation): CopyQueue => {
  const scope = obs.scope && new Set(obs.scope);
  const covered = (c: { kind: CopyKind; db: string }) => !scope || scope.has(dbKey(c.kind, c.db));
  const at = Date.parse(obs.at);
  const seen = new Set(obs.inFlight.map((f) => f.targetId));
  const done = new Set(obs.done);
  const kept = queue.inFlight.filter(
    (f) =>
      !seen.has(f.targetId) &&
      (!covered(f) || (!done.has(f.targetId) && Date.parse(f.since) > at - RESERVATION_GRACE_MS)),
  );
  const sweptAt = scope ? queue.sweptAt : obs.at;
  return {
    inFlight: [...kept, ...obs.inFlight],
    pending: [...queue.pending.filter((p) => !covered(p)), ...obs.pending],
    ...(sweptAt ? { sweptAt } : {}),
    lag: mergeLag(queue.lag, obs.lag, scope),
  };
};

/** One database's DR lag as the queue knows it (no listing): seconds since its lag origin, and what waits. */
export interface QueuedLag {
  kind: CopyKind;
  db: string;
  policy: string;
  lagSeconds: number;
  /** Snapshots of it waiting for DR, as last observed (0 when none is queued). */
  missing: number;
}

/** Every database's DR lag at `now` from the queue's lag origins (what an hourly run without a listing reports). */
export const queuedLag = (queue: CopyQueue, now: Date): QueuedLag[] => {
  const waiting = new Map(queue.pending.map((q) => [dbKey(q.kind, q.db), q.missing]));
  const nowS = Math.floor(now.getTime() / 1000);
  return Object.entries(queue.lag ?? {}).flatMap(([policy, dbs]) =>
    Object.entries(dbs).map(([key, since]) => {
      const sep = key.indexOf(':');
      return {
        kind: key.slice(0, sep) as CopyKind,
        db: key.slice(sep + 1),
        policy,
        lagSeconds: Math.max(0, nowS - since),
        missing: waiting.get(key) ?? 0,
      };
    }),
  );
};

/** Per-destination limits: the configured total (never above AWS's) and each kind's own. */
export interface CopyLimits {
  total: number;
  perKind: Readonly<Record<CopyKind, number>>;
  /**
   * Other source regions of the account use part of the destination (`lessUse`): a copy bigger than what is
   * left (an EBS set) waits for them instead of starting alone past the limit.
   */
  shared?: boolean;
}

export const copyLimits = (configured: number): CopyLimits => {
  const total = Math.max(0, Math.min(Math.floor(configured), AWS_MAX_COPIES_IN_FLIGHT));
  return {
    total,
    perKind: {
      'rds-instance': Math.min(total, AWS_COPY_LIMITS['rds-instance']),
      'aurora-cluster': Math.min(total, AWS_COPY_LIMITS['aurora-cluster']),
      ebs: Math.min(total, AWS_COPY_LIMITS.ebs),
    },
  };
};

// ---------------------------------------------------------------------------------------------------------
// One destination shared by the source regions of one account. AWS counts copies in flight per destination
// Region per account, from any source, so every source region of the account that copies to the same DR region
// takes its slots from one budget: each keeps its own queue (its databases, its DR lag), and reserves what it
// has in flight in the destination's slots (CopySlots, one item per account and destination), written before
// it requests a copy; each plans with the limits less what the others hold.

/** Copies in flight to one destination, by kind (an EBS set counts its volumes). */
export type CopyUse = Record<CopyKind, number>;

export const noUse = (): CopyUse => ({ 'rds-instance': 0, 'aurora-cluster': 0, ebs: 0 });

const KINDS: readonly CopyKind[] = ['rds-instance', 'aurora-cluster', 'ebs'];

const totalOf = (u: CopyUse): number => KINDS.reduce((n, k) => n + u[k], 0);

/** What a queue's copies in flight use of the destination. */
export const useOf = (inFlight: readonly Pick<InFlightCopy, 'kind' | 'weight'>[]): CopyUse => {
  const u = noUse();
  for (const f of inFlight) u[f.kind] += f.weight ?? 1;
  return u;
};

/** One source region's copies in flight to the destination, as its last run reserved them, and when. */
export interface SourceSlots {
  use: CopyUse;
  at: string;
  /**
   * Those copies, one by one, for a region that keeps no copy queue (a spoke's: it lists in full every run).
   * Two runs of that region can overlap (the hourly child and an event's), and neither listing shows a copy the
   * other reserved and has not requested yet: each run folds its listing into these as into a queue
   * (`applyObservation`), so a reservation the listing does not show yet still counts, and a give-back
   * removes only its own copies. Absent: an entry written without them (a region with a queue, or an older
   * steward).
   */
  inFlight?: InFlightCopy[];
}

/** The destination's slots of one account, by source region. */
export type SlotsBySource = Record<string, SourceSlots>;

/**
 * A source region's reservation that no run renewed for this long no longer counts: its copies have long
 * finished or failed (a run renews its reservation at least hourly while it has copies in flight; an
 * RDS copy that has not finished in six hours is also still seen by a listing of the destination).
 */
export const SLOTS_EXPIRE_MS = 6 * 3_600_000;
/** A run with copies in flight renews its reservation when it is older than this. */
export const SLOTS_RENEW_MS = 3_600_000;

const fresh = (s: SourceSlots | undefined, now: Date): s is SourceSlots =>
  s !== undefined && now.getTime() - Date.parse(s.at) < SLOTS_EXPIRE_MS;

/** A source region's copies in flight as its fresh entry lists them (`SourceSlots.inFlight`); else undefined. */
export const heldInFlight = (s: SourceSlots | undefined, now: Date): InFlightCopy[] | undefined =>
  fresh(s, now) ? s.inFlight : undefined;

/**
 * What the account's other source regions use of the destination: per region, the larger of its fresh
 * reservation and what a listing of the destination saw in flight from it (`listed`: copies started before
 * the region reserved, or by another tool).
 */
export const siblingUse = (
  bySource: SlotsBySource,
  own: string,
  now: Date,
  listed: Readonly<Record<string, CopyUse>> = {},
): CopyUse => {
  const out = noUse();
  for (const region of new Set([...Object.keys(bySource), ...Object.keys(listed)])) {
    if (region === own) continue;
    const reserved = fresh(bySource[region], now) ? bySource[region]!.use : noUse();
    const seen = listed[region] ?? noUse();
    for (const k of KINDS) out[k] += Math.max(reserved[k] ?? 0, seen[k] ?? 0);
  }
  return out;
};

/** The limits left to one source region when the account's other source regions use `used` of them. */
export const lessUse = (limits: CopyLimits, used: CopyUse): CopyLimits => {
  if (totalOf(used) === 0) return limits;
  const total = Math.max(0, limits.total - totalOf(used));
  const perKind = Object.fromEntries(
    KINDS.map((k) => [k, Math.max(0, Math.min(total, limits.perKind[k] - used[k]))]),
  ) as Record<CopyKind, number>;
  return { total, perKind, shared: true };
};

/**
 * How a run's own use changes the stored slots: `reserve` (more of some kind: written before any copy is
 * requested, so the others see it first), `settle` (less, or a reservation to renew or clear: written after
 * the run's queue, best effort), or nothing.
 */
export const slotsChange = (
  stored: SourceSlots | undefined,
  use: CopyUse,
  now: Date,
): 'reserve' | 'settle' | undefined => {
  const held = fresh(stored, now) ? stored.use : noUse();
  if (KINDS.some((k) => use[k] > (held[k] ?? 0))) return 'reserve';
  if (totalOf(use) === 0) return stored ? 'settle' : undefined;
  if (KINDS.some((k) => use[k] !== (held[k] ?? 0))) return 'settle';
  return now.getTime() - Date.parse(stored!.at) >= SLOTS_RENEW_MS ? 'settle' : undefined;
};

/**
 * The slots with one source region's use (none: its entry removed), and its copies one by one when given
 * (`inFlight`: a region without a queue), expired entries dropped.
 */
export const withSourceUse = (
  bySource: SlotsBySource,
  source: string,
  use: CopyUse,
  now: Date,
  inFlight?: readonly InFlightCopy[],
): SlotsBySource => {
  const out: SlotsBySource = {};
  for (const [region, s] of Object.entries(bySource)) if (region !== source && fresh(s, now)) out[region] = s;
  if (totalOf(use) > 0)
    out[source] = { use, at: now.toISOString(), ...(inFlight ? { inFlight: [...inFlight] } : {}) };
  return out;
};

const timeOr = (iso: string | undefined, none: number) => {
  const t = iso === undefined ? NaN : Date.parse(iso);
  return Number.isFinite(t) ? t : none;
};

/**
 * Oldest-missing first: the database whose newest DR copy is oldest (none at all first), then the older
 * waiting snapshot, then the name, so the order is total and every run agrees on it.
 */
export const byOldestMissing = (a: QueuedCopy, b: QueuedCopy): number =>
  timeOr(a.newestCopyAt, -Infinity) - timeOr(b.newestCopyAt, -Infinity) ||
  timeOr(a.snapshot.createdAt, Infinity) - timeOr(b.snapshot.createdAt, Infinity) ||
  dbKey(a.kind, a.db).localeCompare(dbKey(b.kind, b.db));

export interface CopySchedule {
  /** The queue after reserving the started copies (they moved from `pending` to `inFlight`). */
  queue: CopyQueue;
  start: QueuedCopy[];
  /** Still queued, in start order, with why each waits. */
  waiting: { copy: QueuedCopy; why: 'limit' | 'database-busy' }[];
}

const weightOf = (c: { weight?: number }) => Math.max(1, c.weight ?? 1);

/**
 * The DR id a queued copy is made under (what its reservation holds). An entry queued before copy ids named
 * their region has none: it is the id its source's ARN gives (the id the copy will be made under).
 */
export const queuedTargetId = (q: Pick<QueuedCopy, 'kind' | 'targetId' | 'snapshot'>): string => {
  if (q.targetId !== undefined) return q.targetId;
  const region = q.snapshot.arn.split(':')[3];
  return region ? copyTargetIdOf({ kind: q.kind, id: q.snapshot.id, region }) : q.snapshot.id;
};

/**
 * Start what fits: at most `limits.total` copies in flight to the destination and `limits.perKind` of each
 * kind, at most one per database (RDS queues a second copy of the same database behind the first while it
 * holds a slot), oldest-missing first. An EBS set counts one copy per volume; a set larger than the whole
 * limit starts only when nothing of its kind is in flight (else it would never start). Pure: `now` stamps
 * the reservations.
 */
export const scheduleCopies = (queue: CopyQueue, limits: CopyLimits, now: Date): CopySchedule => {
  const busy = new Set(queue.inFlight.map((f) => dbKey(f.kind, f.db)));
  const perKind: Record<CopyKind, number> = { 'rds-instance': 0, 'aurora-cluster': 0, ebs: 0 };
  for (const f of queue.inFlight) perKind[f.kind] += weightOf(f);
  let total = queue.inFlight.reduce((n, f) => n + weightOf(f), 0);
  const start: QueuedCopy[] = [];
  const waiting: CopySchedule['waiting'] = [];
  const seen = new Set<string>();
  // byOldestMissing with each entry's times parsed once (an event's run sorts every queued database).
  const keyed = queue.pending.map((q) => ({
    q,
    copy: timeOr(q.newestCopyAt, -Infinity),
    taken: timeOr(q.snapshot.createdAt, Infinity),
    key: dbKey(q.kind, q.db),
  }));
  keyed.sort((a, b) => a.copy - b.copy || a.taken - b.taken || a.key.localeCompare(b.key));
  for (const { q } of keyed) {
    const key = dbKey(q.kind, q.db);
    // One entry per database; a duplicate (never written by steward) is dropped rather than started twice.
    if (seen.has(key)) continue;
    seen.add(key);
    const w = weightOf(q);
    const fits = (used: number, limit: number) =>
      used + w <= limit || (used === 0 && limit > 0 && !limits.shared);
    if (busy.has(key)) waiting.push({ copy: q, why: 'database-busy' });
    else if (!fits(total, limits.total) || !fits(perKind[q.kind], limits.perKind[q.kind]))
      waiting.push({ copy: q, why: 'limit' });
    else {
      start.push(q);
      busy.add(key);
      perKind[q.kind] += w;
      total += w;
    }
  }
  const since = now.toISOString();
  const started = new Set(start.map((q) => dbKey(q.kind, q.db)));
  return {
    queue: {
      ...queue,
      inFlight: [
        ...queue.inFlight,
        ...start.map((q) => ({
          kind: q.kind,
          db: q.db,
          targetId: queuedTargetId(q),
          since,
          behind: Math.max(0, q.missing - 1),
          ...(q.weight !== undefined ? { weight: q.weight } : {}),
        })),
      ],
      pending: waiting.map((w) => w.copy).filter((q) => !started.has(dbKey(q.kind, q.db))),
    },
    start,
    waiting,
  };
};

/**
 * A copy finished and nothing of its database waited behind it: free its slot and date the database's DR
 * data (an observation without listing the database; what waits of it, if anything, is left as it is).
 */
export const foldCopyFinished = (
  queue: CopyQueue,
  copy: { kind: CopyKind; db: string; targetId: string; policy: string; dataTime: number },
): CopyQueue => {
  const key = dbKey(copy.kind, copy.db);
  const since = Math.floor(copy.dataTime / 1000);
  const current = queue.lag?.[copy.policy]?.[key];
  const lag =
    current !== undefined && current >= since
      ? queue.lag
      : { ...queue.lag, [copy.policy]: { ...queue.lag?.[copy.policy], [key]: since } };
  return { ...releaseCopies(queue, [copy.targetId]), ...(lag ? { lag } : {}) };
};

/**
 * A new snapshot of a database is available: it becomes the database's next copy, ahead of an older one
 * waiting (which then waits behind it); an entry already holding a newer or the same snapshot is kept.
 */
export const foldSnapshotCreated = (queue: CopyQueue, next: QueuedCopy): CopyQueue => {
  const key = dbKey(next.kind, next.db);
  const current = queue.pending.find((p) => dbKey(p.kind, p.db) === key);
  const time = (q: QueuedCopy) => timeOr(q.snapshot.createdAt, -Infinity);
  if (current && (current.snapshot.id === next.snapshot.id || time(current) >= time(next))) return queue;
  const entry: QueuedCopy = current
    ? { ...current, snapshot: next.snapshot, missing: current.missing + 1 }
    : next;
  return { ...queue, pending: [...queue.pending.filter((p) => p !== current), entry] };
};

/** Remove reservations (a copy that did not start after all): its database is reconciled again later. */
export const releaseCopies = (queue: CopyQueue, targetIds: Iterable<string>): CopyQueue => {
  const drop = new Set(targetIds);
  return { ...queue, inFlight: queue.inFlight.filter((f) => !drop.has(f.targetId)) };
};

// ---------------------------------------------------------------------------------------------------------
// Observing listings: which sources are copied, which are missing, and each database's DR lag.

/** One database's DR state in a listing. */
export interface DatabaseDr {
  kind: CopyKind;
  db: string;
  /** The backup policy of its newest eligible snapshot (the metric's dimension). */
  policy: string;
  /** Data time of its newest available DR copy. */
  newestCopyAt?: string;
  /** Its uncopied available sources, newest first. */
  missing: Snapshot[];
  /**
   * Seconds between `now` and the data time of the newest available DR copy; with no copy at all, the age
   * of its oldest eligible snapshot (that data has waited that long for DR).
   */
  lagSeconds?: number;
}

export interface CopyListing {
  observation: CopyObservation;
  /** The copy action of every missing available source, by snapshot id. */
  actions: Map<string, CopyAction>;
  skipped: CopyPlan['skipped'];
  alreadyCopied: number;
  databases: DatabaseDr[];
}

const newestFirst = (a: Snapshot, b: Snapshot): number =>
  (dataTime(b) ?? -Infinity) - (dataTime(a) ?? -Infinity) || b.id.localeCompare(a.id);

/**
 * Compare the primary region's eligible snapshots (steward-managed, manual, of a policy that copies) with the
 * destination's: a source counts as copied when a DR snapshot carries `steward:copied-from=<its ARN>`, or has
 * its id and no origin but its region (`isCopyOf`). `scope` names the databases the listings covered (an
 * event's); absent, they covered everything. With `sourceRegion`, the destination's copies from the account's
 * other source regions are left out (their databases may share an id with this region's): what is in flight,
 * done and each database's DR lag are this region's copies'. Every eligible source is copied, missing
 * (queued), or skipped with a reason.
 */
export const observeCopies = (
  primarySnapshots: readonly Snapshot[],
  allDrSnapshots: readonly Snapshot[],
  policiesThatCopy: Iterable<string>,
  at: Date,
  scope?: readonly string[],
  sourceRegion?: string,
): CopyListing => {
  const policies = new Set(policiesThatCopy);
  const inScope = (kind: ResourceKind, db: string) => !scope || scope.includes(dbKey(kind, db));
  const drSnapshots =
    sourceRegion === undefined
      ? allDrSnapshots
      : allDrSnapshots.filter((d) => mayBeCopyFrom(d, sourceRegion));
  const drByOrigin = new Map<string, Snapshot>();
  for (const d of drSnapshots) {
    const from = d.tags[Tag.copiedFrom];
    if (from) drByOrigin.set(`arn:${from}`, d);
    else drByOrigin.set(`id:${d.kind}:${d.id}`, d);
  }
  const copyOf = (s: Snapshot): Snapshot | undefined => {
    const byArn = drByOrigin.get(`arn:${s.arn}`);
    if (byArn) return byArn;
    const byId = drByOrigin.get(`id:${s.kind}:${s.id}`);
    return byId && isCopyOf(byId, s) ? byId : undefined;
  };

  const inFlight: InFlightCopy[] = drSnapshots
    .filter((d) => d.kind !== 'elasticache' && isCopyInFlight(d) && inScope(d.kind, databaseOf(d)))
    .map((d) => ({
      kind: d.kind as CopyKind,
      db: databaseOf(d),
      targetId: d.id,
      since: at.toISOString(),
      ...(d.parts ? { weight: d.parts.filter((p) => p.state === 'pending').length } : {}),
    }));
  const done = drSnapshots
    .filter((d) => d.kind !== 'elasticache' && !isCopyInFlight(d) && inScope(d.kind, databaseOf(d)))
    .map((d) => d.id);

  const skipped: CopyPlan['skipped'] = [];
  const actions = new Map<string, CopyAction>();
  let alreadyCopied = 0;
  const dbs = new Map<string, DatabaseDr & { oldest?: number }>();
  for (const s of primarySnapshots) {
    // Tagged as ours but named by someone else: a human's copy of one of our snapshots, tags copied (the
    // backup role may copy only ID_PREFIX snapshots, so starting it would fail every hour).
    if (
      s.type !== 'manual' ||
      !isManaged(s.tags) ||
      !namedBySteward(s) ||
      !policies.has(s.tags[Tag.policy] ?? '')
    )
      continue;
    if (s.kind === 'elasticache') {
      skipped.push({
        source: refOf(s),
        reason: 'no-cross-region-copy',
        detail:
          'ElastiCache has no cross-region snapshot copy: Redis DR exports it to S3 and copies the RDB files',
      });
      continue;
    }
    const db = databaseOf(s);
    if (!inScope(s.kind, db)) continue;
    const key = dbKey(s.kind, db);
    const entry = dbs.get(key) ?? { kind: s.kind, db, policy: s.tags[Tag.policy]!, missing: [] };
    dbs.set(key, entry);
    const t = dataTime(s);
    if (t !== undefined && (entry.oldest === undefined || t < entry.oldest)) {
      entry.oldest = t;
    }
    const found = copyOf(s);
    // A set copy missing parts is copied again: the copy starts only the missing volumes.
    const copy = found?.status.toLowerCase() === 'incomplete' ? undefined : found;
    if (copy?.status.toLowerCase() === 'failed') {
      skipped.push({
        source: refOf(s),
        reason: 'copy-failed',
        detail: `DR copy ${copy.id} in ${copy.region} failed: delete it to retry`,
      });
      continue;
    }
    if (copy) {
      alreadyCopied++;
      continue;
    }
    const status = s.status.toLowerCase();
    if (status === 'failed') {
      skipped.push({ source: refOf(s), reason: 'source-failed', detail: 'source snapshot failed' });
    } else if (status !== 'available') {
      skipped.push({
        source: refOf(s),
        reason: 'not-available-yet',
        detail: `status ${s.status}: copied by a later run once available`,
      });
    } else {
      entry.missing.push(s);
      actions.set(s.id, copyActionOf(s));
    }
  }

  // Each database's newest available DR copy dates its DR data (the copy's data, not when it was copied).
  const newestCopy = new Map<string, number>();
  for (const d of drSnapshots) {
    if (d.kind === 'elasticache' || d.status.toLowerCase() !== 'available' || !isManaged(d.tags)) continue;
    const t = dataTime(d);
    const key = dbKey(d.kind, databaseOf(d));
    if (t !== undefined && t > (newestCopy.get(key) ?? -Infinity)) newestCopy.set(key, t);
  }

  const now = at.getTime();
  const databases: DatabaseDr[] = [...dbs.entries()].map(([key, { oldest, ...d }]) => {
    const copied = newestCopy.get(key);
    const since = copied ?? oldest;
    return {
      ...d,
      missing: [...d.missing].sort(newestFirst),
      ...(copied !== undefined ? { newestCopyAt: new Date(copied).toISOString() } : {}),
      ...(since !== undefined ? { lagSeconds: Math.max(0, Math.round((now - since) / 1000)) } : {}),
    };
  });
  const pending: QueuedCopy[] = databases.flatMap((d): QueuedCopy[] => {
    const next = d.missing[0];
    if (!next) return [];
    return [
      {
        kind: d.kind,
        db: d.db,
        snapshot: { id: next.id, arn: next.arn, ...(next.createdAt ? { createdAt: next.createdAt } : {}) },
        ...(copyTargetIdOf(next) !== next.id ? { targetId: copyTargetIdOf(next) } : {}),
        ...(d.newestCopyAt ? { newestCopyAt: d.newestCopyAt } : {}),
        missing: d.missing.length,
        ...(next.parts ? { weight: next.parts.length } : {}),
      },
    ];
  });
  const lag: LagSince = {};
  for (const d of databases)
    if (d.lagSeconds !== undefined)
      (lag[d.policy] ??= {})[dbKey(d.kind, d.db)] = Math.floor(now / 1000) - d.lagSeconds;
  return {
    observation: {
      ...(scope ? { scope: [...scope] } : {}),
      at: at.toISOString(),
      inFlight,
      pending,
      lag,
      done,
    },
    actions,
    skipped,
    alreadyCopied,
    databases,
  };
};

/**
 * The copies of one run from a schedule: what starts (the scheduled copies `actions` has), and every eligible
 * copy that does not, in start order. A database's older missing snapshots wait behind its newest.
 */
export const copyPlanOf = (
  listing: Pick<CopyListing, 'actions' | 'skipped' | 'alreadyCopied' | 'databases'>,
  schedule: CopySchedule,
  inFlightBefore: number,
  limits: CopyLimits,
  region: string,
): CopyPlan => {
  const refOfQueued = (q: QueuedCopy): SnapshotRef =>
    listing.actions.get(q.snapshot.id)?.source ?? {
      kind: q.kind,
      id: q.snapshot.id,
      arn: q.snapshot.arn,
      region,
      ...(q.snapshot.createdAt ? { createdAt: q.snapshot.createdAt } : {}),
    };
  const deferred: DeferredCopy[] = schedule.waiting.map((w) => ({
    source: refOfQueued(w.copy),
    db: w.copy.db,
    why: w.why,
  }));
  // The newest missing source is the database's queue entry (started or waiting above); the rest wait behind it.
  for (const d of listing.databases)
    for (const s of d.missing.slice(1)) deferred.push({ source: refOf(s), db: d.db, why: 'behind-newer' });
  return {
    inFlight: inFlightBefore,
    limit: limits.total,
    // A start without an action (its source could not be read again) is not started: the caller released it.
    start: schedule.start.flatMap((q) => listing.actions.get(q.snapshot.id) ?? []),
    deferred,
    skipped: listing.skipped,
    alreadyCopied: listing.alreadyCopied,
  };
};

/**
 * Decide which primary-region snapshots to copy to the DR region now, from full listings of both regions
 * (no queue kept elsewhere): oldest-missing first, one copy per database, under the per-destination limits.
 * Every eligible uncopied source is started, deferred or skipped with a reason.
 */
export const planCopies = (
  primarySnapshots: readonly Snapshot[],
  drSnapshots: readonly Snapshot[],
  maxInFlight: number,
  policiesThatCopy: Iterable<string>,
  now: Date = new Date(0),
  sourceRegion?: string,
): CopyPlan => {
  const listing = observeCopies(
    primarySnapshots,
    drSnapshots,
    policiesThatCopy,
    now,
    undefined,
    sourceRegion,
  );
  const limits = copyLimits(maxInFlight);
  const queue = applyObservation(emptyQueue(), listing.observation);
  const schedule = scheduleCopies(queue, limits, now);
  return copyPlanOf(listing, schedule, queue.inFlight.length, limits, '');
};
