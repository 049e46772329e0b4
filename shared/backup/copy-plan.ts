import type { ResourceKind, Snapshot } from '../model.js';
import { isManaged, Tag, type Tags } from '../tags.js';

// AWS allows at most 5 cross-region snapshot copies in progress per destination region.
/** Hard AWS limit on copies in flight per destination region; config can only lower it. */
export const AWS_MAX_COPIES_IN_FLIGHT = 5;

// RDS allows 50 tags per resource.
const MAX_TAGS = 50;

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
  /** Same id in the DR region, so a repeated run finds it. */
  targetId: string;
  encrypted?: boolean;
  /** The source's tags plus `steward:copied-from=<source arn>`. */
  tags: Tags;
}

export type CopySkipReason =
  /** ElastiCache has no cross-region snapshot copy (only export to S3). */
  | 'no-cross-region-copy'
  /** Still creating; a later run (hourly schedule, RDS event) copies it. */
  | 'not-available-yet'
  /** The source snapshot failed; there is nothing to copy. */
  | 'source-failed'
  /** A copy with this id exists in the DR region but failed; delete it to retry. */
  | 'copy-failed';

export interface CopyPlan {
  /** Copies already in progress in the DR region (counted against the limit). */
  inFlight: number;
  /** Effective limit: min(configured, AWS's 5). */
  limit: number;
  /** Copies to start now, oldest source first. */
  start: CopyAction[];
  /** Eligible copies over the limit; the next run starts them. */
  deferred: CopyAction[];
  skipped: { source: SnapshotRef; reason: CopySkipReason; detail: string }[];
  /** Eligible sources that already have a DR copy (done or in progress). */
  alreadyCopied: number;
}

const DONE = new Set(['available', 'failed', 'deleting']);

/** True for a DR snapshot that is a cross-region copy still in progress. */
export const isCopyInFlight = (s: Snapshot): boolean =>
  ((s.sourceRegion !== undefined && s.sourceRegion !== s.region) || s.tags[Tag.copiedFrom] !== undefined) &&
  !DONE.has(s.status.toLowerCase());

const refOf = (s: Snapshot): SnapshotRef => ({
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

const byAge = (a: Snapshot, b: Snapshot): number =>
  (a.createdAt ?? '\uffff').localeCompare(b.createdAt ?? '\uffff') || a.id.localeCompare(b.id);

/**
 * Decide which primary-region snapshots to copy to the DR region now. Eligible: steward-managed, manual,
 * of a policy that copies. A source counts as copied when a DR snapshot carries `steward:copied-from=<its
 * ARN>` or has its id. Starts the oldest uncopied sources that fit under the in-flight limit; defers the
 * rest (nothing is dropped: every eligible uncopied source is started, deferred or skipped with a reason).
 */
export const planCopies = (
  primarySnapshots: readonly Snapshot[],
  drSnapshots: readonly Snapshot[],
  maxInFlight: number,
  policiesThatCopy: Iterable<string>,
): CopyPlan => {
  const policies = new Set(policiesThatCopy);
  const limit = Math.max(0, Math.min(Math.floor(maxInFlight), AWS_MAX_COPIES_IN_FLIGHT));
  const inFlight = drSnapshots.filter(isCopyInFlight).length;

  const drByOrigin = new Map<string, Snapshot>();
  for (const d of drSnapshots) {
    const from = d.tags[Tag.copiedFrom];
    if (from) drByOrigin.set(`arn:${from}`, d);
    drByOrigin.set(`id:${d.kind}:${d.id}`, d);
  }

  const skipped: CopyPlan['skipped'] = [];
  const candidates: Snapshot[] = [];
  let alreadyCopied = 0;
  for (const s of primarySnapshots) {
    if (s.type !== 'manual' || !isManaged(s.tags) || !policies.has(s.tags[Tag.policy] ?? '')) continue;
    if (s.kind === 'elasticache') {
      skipped.push({
        source: refOf(s),
        reason: 'no-cross-region-copy',
        detail: 'ElastiCache has no cross-region snapshot copy',
      });
      continue;
    }
    const copy = drByOrigin.get(`arn:${s.arn}`) ?? drByOrigin.get(`id:${s.kind}:${s.id}`);
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
      candidates.push(s);
    }
  }

  const actions = [...candidates].sort(byAge).map((s): CopyAction => ({
    source: refOf(s),
    targetId: s.id,
    ...(s.encrypted !== undefined ? { encrypted: s.encrypted } : {}),
    tags: copyTags(s),
  }));
  const free = Math.max(0, limit - inFlight);
  return {
    inFlight,
    limit,
    start: actions.slice(0, free),
    deferred: actions.slice(free),
    skipped,
    alreadyCopied,
  };
};
