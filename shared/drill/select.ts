import type { SnapshotSelector } from '../config/schema.js';
import type { Snapshot, SnapshotType } from '../model.js';
import type { DrillKind } from './cost.js';
import { cacheRestorableSnapshotPatterns, matchesNamePattern, restorableSnapshotPatterns } from './ids.js';
import { oldestFirst, pickAmong, SnapshotSelectionError, snapshotTime as time } from './pick.js';
import type { DrillState } from './state.js';

export { SnapshotSelectionError };

export interface SelectOptions {
  /** Source database id (a key of `drill.targets`), or a Redis drill's replication group. */
  database: string;
  kind: DrillKind;
  now: Date;
  /** Makes `randomWithinDays` repeatable: a retried select picks the same snapshot. */
  seed: string;
  /** The source's point-in-time restore window; required for a `pointInTime` selector. */
  restorableWindow?: { earliest: string; latest: string };
}

/**
 * Snapshots a drill picks from: steward's own and RDS's automated ones, both what a real recovery would
 * use, so neither is preferred: `latest` takes the newest. The drill role may restore exactly these
 * (restorableSnapshotPatterns, scoped per target in IAM); any other snapshot of the database (made by hand,
 * AWS Backup) is drilled by naming it: `snapshot: { id }`. Shared and public ones belong to other accounts.
 */
const RESTORABLE: ReadonlySet<SnapshotType> = new Set(['manual', 'automated']);

const sameDb = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Available snapshots of the source a drill may restore, oldest first (ties by id), so picks are stable. */
export const drillCandidates = (
  snapshots: readonly Snapshot[],
  database: string,
  kind: SelectOptions['kind'],
): Snapshot[] =>
  snapshots
    .filter(
      (s) =>
        s.kind === snapshotKind(kind) &&
        // A Redis drill restores a group's snapshot into a new group: a serverless cache's is not one.
        !s.serverless &&
        sameDb(s.sourceId, database) &&
        s.status === 'available' &&
        RESTORABLE.has(s.type) &&
        patternsOf(kind, database).some((p) => matchesNamePattern(s.id, p)) &&
        Number.isFinite(time(s.createdAt)),
    )
    .sort(oldestFirst);

/** A Redis drill restores ElastiCache snapshots. */
const snapshotKind = (kind: DrillKind): Snapshot['kind'] => (kind === 'redis' ? 'elasticache' : kind);

const patternsOf = (kind: DrillKind, database: string): string[] =>
  kind === 'redis' ? cacheRestorableSnapshotPatterns(database) : restorableSnapshotPatterns(database);

export const WHAT: Record<DrillKind, string> = {
  'rds-instance': 'RDS instance',
  'aurora-cluster': 'Aurora cluster',
  redis: 'ElastiCache replication group',
};

export const fromSnapshot = (s: Snapshot): NonNullable<DrillState['source']> => ({
  snapshotId: s.id,
  snapshotArn: s.arn,
  referenceTime: new Date(time(s.createdAt)).toISOString(),
});

/**
 * What a drill restores: a snapshot chosen by the selector, or a point in time inside the source's
 * restorable window. Pure; throws SnapshotSelectionError naming the database and the reason.
 */
export const selectSource = (
  selector: SnapshotSelector,
  snapshots: readonly Snapshot[],
  opts: SelectOptions,
): NonNullable<DrillState['source']> => {
  const { database, kind } = opts;
  const what = `${WHAT[kind]} ${database}`;

  if (typeof selector === 'object' && 'pointInTime' in selector) {
    const t = Date.parse(selector.pointInTime);
    if (!Number.isFinite(t)) {
      throw new SnapshotSelectionError(`point in time ${selector.pointInTime} is not a time`);
    }
    const w = opts.restorableWindow;
    if (!w) {
      throw new SnapshotSelectionError(
        `${what} has no point-in-time restore window (automated backups off, or the database is gone): cannot restore to ${selector.pointInTime}`,
      );
    }
    if (t < Date.parse(w.earliest) || t > Date.parse(w.latest)) {
      throw new SnapshotSelectionError(
        `point in time ${selector.pointInTime} is outside the restorable window of ${what}: earliest ${w.earliest}, latest ${w.latest}`,
      );
    }
    const at = new Date(t).toISOString();
    return { pointInTime: at, referenceTime: at };
  }

  if (typeof selector === 'object' && 'id' in selector) {
    const s = snapshots.find((x) => x.id === selector.id && x.kind === snapshotKind(kind));
    if (!s)
      throw new SnapshotSelectionError(`snapshot ${selector.id} not found among the snapshots of ${what}`);
    if (!sameDb(s.sourceId, database)) {
      throw new SnapshotSelectionError(
        `snapshot ${selector.id} belongs to ${s.sourceId}, not ${database}: a drill restores its own database's snapshots`,
      );
    }
    if (s.status !== 'available') {
      throw new SnapshotSelectionError(
        `snapshot ${selector.id} of ${database} is ${s.status}, not available`,
      );
    }
    if (!Number.isFinite(time(s.createdAt))) {
      throw new SnapshotSelectionError(`snapshot ${selector.id} of ${database} has no creation time yet`);
    }
    return fromSnapshot(s);
  }

  return fromSnapshot(
    pickAmong(drillCandidates(snapshots, database, kind), selector, opts, what, 'available snapshot'),
  );
};
