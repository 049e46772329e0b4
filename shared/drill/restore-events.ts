import * as v from '../valid.js';
import { EventShapeError, formatIssues } from '../errors.js';
import { logger } from '../observability.js';
import { deleteHandedOver, recordOf } from './copy-deletions.js';
import { DRILL_PREFIX, drillTargetOf } from './ids.js';
import { StaleTaskTokenError, type TargetRef } from './ports.js';
import { type DrillDeps, isReady, markAvailable, RESTORE_FAILED, restoreFailedCause } from './task-core.js';

// ---------------------------------------------------------------------------------------------
// RDS events

export const RdsEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.looseObject({
    source: v.literal('aws.rds'),
    'detail-type': v.string(),
    detail: v.looseObject({
      SourceIdentifier: v.string().check(v.minLength(1)),
      SourceType: v.optional(v.string()),
      EventID: v.optional(v.string()),
      Message: v.optional(v.string()),
    }),
  }),
);

export type RdsEventOutcome =
  | { outcome: 'ignored'; sourceId?: string; reason: string }
  | { outcome: 'not-ready' | 'no-token' | 'stale'; targetId: string; status: string }
  | { outcome: 'resumed' | 'failed'; targetId: string; status: string }
  /** A copy its drill handed over for deletion: deleted now (`deleted`, or `already-gone`), or still `busy`. */
  | { outcome: 'deleted' | 'busy'; targetId: string; status: string };

/**
 * An RDS event about a drill resource: if the restored copy is now ready (or failed), take the parked
 * task token and resume (or fail) the waiting execution. Not ready yet → the token stays parked.
 * Events are best effort; the state machine's polling (`status`) covers a lost one.
 */
export const onRdsEvent = async (raw: unknown, deps: DrillDeps): Promise<RdsEventOutcome> => {
  const r = RdsEvent.safeParse(raw);
  if (!r.success) throw new EventShapeError('Invalid RDS event', formatIssues(r.error.issues));
  const { SourceIdentifier, SourceType, EventID } = r.data.detail;
  const ref = drillTargetOf(SourceIdentifier, SourceType);
  if (!ref) {
    const reason = `${SourceIdentifier} is not a drill database (ids start with ${DRILL_PREFIX})`;
    logger.info('drill RDS event ignored', { eventId: EventID, reason });
    return { outcome: 'ignored', sourceId: SourceIdentifier, reason };
  }

  return resume(ref, EventID, deps);
};

// ---------------------------------------------------------------------------------------------
// ElastiCache events

// A drill group is `steward-drill-<name>-<8 hex>`; its nodes append `-001` (or `-0001-001` with shards).
const DRILL_CACHE = /^(steward-drill-(?:[a-z0-9-]*-)?[0-9a-f]{8})(?:-\d{3,4}(?:-\d{3})?)?$/;

export const CacheEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.looseObject({
    source: v.literal('aws.elasticache'),
    'detail-type': v.string(),
    resources: v.optional(v.array(v.string())),
    detail: v.optional(v.record(v.string(), v.unknown())),
  }),
);

/**
 * The drill group an ElastiCache event names, if any. The EventBridge reference lists "Cache Created" and
 * "Cache Creation Failed" without a detail schema, so the id is looked for in the detail's source
 * identifier and in the event's resource ARNs, for the group or one of its nodes.
 */
export const drillCacheOf = (raw: v.infer<typeof CacheEvent>): string | undefined => {
  const candidates = [
    ...Object.entries(raw.detail ?? {})
      .filter(([k, v]) => /source.?id/i.test(k) && typeof v === 'string')
      .map(([, v]) => v as string),
    ...(raw.resources ?? []).map((arn) => arn.split(':').at(-1) ?? ''),
  ];
  for (const c of candidates) {
    const m = DRILL_CACHE.exec(c.toLowerCase());
    if (m) return m[1];
  }
  return undefined;
};

/**
 * An ElastiCache event ("Cache Created", "Cache Creation Failed") about a Redis drill's group: resume (or
 * fail) the waiting execution, like an RDS event for a database drill. Best effort: polling covers a lost one.
 */
export const onCacheEvent = async (raw: unknown, deps: DrillDeps): Promise<RdsEventOutcome> => {
  const r = CacheEvent.safeParse(raw);
  if (!r.success) throw new EventShapeError('Invalid ElastiCache event', formatIssues(r.error.issues));
  const id = drillCacheOf(r.data);
  if (!id) {
    const reason = `${r.data['detail-type']}: names no drill replication group (ids start with ${DRILL_PREFIX})`;
    logger.info('drill ElastiCache event ignored', { reason });
    return { outcome: 'ignored', reason };
  }
  return resume({ kind: 'redis', id }, r.data['detail-type'], deps);
};

/**
 * Resume (or fail) the execution waiting for `ref` if the copy is ready (or failed); else leave the token. Only
 * while an execution waits for it (a token parked and not expired): describing an Aurora copy adds its missing
 * writer and readers, and a copy whose drill's Cleanup started (it takes the token first) or ended may be one
 * RDS refused to delete while it was still creating: an instance added then would be billed until the janitor.
 */
const resume = async (
  ref: TargetRef,
  eventId: string | undefined,
  deps: DrillDeps,
): Promise<RdsEventOutcome> => {
  if (!(await deps.tokens.waiting(ref.id))) {
    // A copy its drill handed over (RDS was still creating it): deleted now, if RDS allows.
    const handed = await handedOver(ref, eventId, deps);
    if (handed) return handed;
    logger.info('drill restore event: no execution waits for this copy', { eventId, targetId: ref.id });
    return { outcome: 'no-token', targetId: ref.id, status: 'not described' };
  }
  const d = await deps.restore.describe(ref);
  const base = { targetId: ref.id, status: d.status };
  logger.info('drill restore event', { eventId, ...base });
  // Its drill's Cleanup may have started since the token was seen (it records the copy before taking the token):
  // then the instances this describe just added are deleted with the copy, not left billed.
  if (ref.kind === 'aurora-cluster') {
    const handed = await handedOver(ref, eventId, deps);
    if (handed) return handed;
  }
  if (!isReady(d) && !d.failed) return { outcome: 'not-ready', ...base };
  const parked = await deps.tokens.take(ref.id);
  if (!parked) return { outcome: 'no-token', ...base };
  try {
    if (isReady(d)) {
      await deps.signal.success(parked.token, markAvailable(parked.state, d, deps.now()));
      return { outcome: 'resumed', ...base };
    }
    await deps.signal.failure(parked.token, RESTORE_FAILED, restoreFailedCause(ref, d));
    return { outcome: 'failed', ...base };
  } catch (e) {
    // The execution stopped waiting (timed out into polling, or ended): polling carries on.
    if (e instanceof StaleTaskTokenError) return { outcome: 'stale', ...base };
    throw e;
  }
};

/** Delete `ref`'s copy if the copy-deletion ledger names it (its drill's Cleanup handed it over); else undefined. */
const handedOver = async (
  ref: TargetRef,
  eventId: string | undefined,
  deps: DrillDeps,
): Promise<RdsEventOutcome | undefined> => {
  const deletions = deps.deletions;
  const d = await recordOf(deletions, ref, deps.restore.region);
  if (!d || !deletions) return undefined;
  const done = await deleteHandedOver(d, { restore: deps.restore, deletions });
  logger.info('drill restore event: a copy handed over for deletion', { eventId, targetId: ref.id, done });
  return done === 'busy'
    ? { outcome: 'busy', targetId: ref.id, status: 'RDS does not delete it yet' }
    : { outcome: 'deleted', targetId: ref.id, status: done };
};
