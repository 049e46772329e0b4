import type { Place } from '../fleet/place.js';
import type { ResourceKind, Snapshot } from '../model.js';
import type { Verdict } from './gfs.js';

/** Where retention leaves its records in the report bucket: `runs/retention/<yyyy>/<mm>/<dd>/<time>.json`. */
export const RETENTION_RECORDS_PREFIX = 'runs/retention/';

/** One snapshot retention deleted (or failed to): the evidence that outlives the snapshot. */
export interface RetentionRecordEntry {
  id: string;
  kind: ResourceKind;
  region: string;
  /** The database it was taken from. */
  sourceId: string;
  createdAt?: string;
  policy?: string;
  reason: string;
  status: 'deleted' | 'already-gone' | 'failed';
  error?: string;
  /**
   * Set for an EC2 instance's dump object (kind `ebs`, id `s3://<bucket>/<key>`): a dump is not a snapshot
   * set, so the evidence never counts its record as a backup taken. Records written before this field carry
   * the `s3://` id only (see isDumpEntry).
   */
  dump?: true;
}

/** True for the record of a dump object, in records written before `dump` existed too (an `s3://` id). */
export const isDumpEntry = (e: Pick<RetentionRecordEntry, 'id' | 'dump'>): boolean =>
  e.dump === true || e.id.startsWith('s3://');

/**
 * What one retention run deleted, kept in the report bucket: the monthly evidence report counts a
 * backup that retention has since deleted as taken, and lists every deletion of the month.
 */
export interface RetentionRecord {
  type: 'steward-retention-record';
  version: 1;
  at: string;
  scheduledTime?: string;
  /** Where the run acted (records from before fleets have neither; each entry names its region). */
  account?: string;
  region?: string;
  /** In a fleet: the record's key names its account and region too (see retentionRecordKey). */
  fleet?: true;
  entries: RetentionRecordEntry[];
  /** Expired snapshots left for the next run by the per-run cap. */
  deferred: number;
}

/**
 * The record's key: one per run, dated by the run's time (UTC). In a fleet, with the run's account and
 * region after the time, so two targets' runs in the same millisecond never write one key.
 */
export const retentionRecordKey = (
  at: string,
  place?: { account?: string | undefined; region?: string | undefined; fleet?: boolean | undefined },
): string => {
  const d = at.slice(0, 10).replace(/-/g, '/');
  const where = place?.fleet ? `-${place.account ?? 'unknown'}-${place.region ?? 'unknown'}` : '';
  return `${RETENTION_RECORDS_PREFIX}${d}/${at.replace(/[-:.]/g, '')}${where}.json`;
};

/** Build the record of a run from its deletions; undefined when it deleted (and tried) nothing. */
export const retentionRecord = (run: {
  at: string;
  scheduledTime?: string;
  place?: Place;
  deleted: readonly { snapshot: Snapshot; status: RetentionRecordEntry['status']; error?: string }[];
  verdicts: readonly Verdict[];
  deferred: number;
}): RetentionRecord | undefined => {
  if (!run.deleted.length) return undefined;
  const verdictOf = new Map(run.verdicts.map((v) => [`${v.region}\u0000${v.kind}\u0000${v.id}`, v]));
  return {
    type: 'steward-retention-record',
    version: 1,
    at: run.at,
    ...(run.scheduledTime ? { scheduledTime: run.scheduledTime } : {}),
    ...(run.place?.account ? { account: run.place.account } : {}),
    ...(run.place ? { region: run.place.region } : {}),
    ...(run.place?.fleet ? { fleet: true as const } : {}),
    entries: run.deleted.map(({ snapshot: s, status, error }) => {
      const v = verdictOf.get(`${s.region}\u0000${s.kind}\u0000${s.id}`);
      return {
        id: s.id,
        kind: s.kind,
        region: s.region,
        sourceId: v?.sourceId ?? s.sourceId,
        ...(s.createdAt ? { createdAt: s.createdAt } : {}),
        ...(v?.policy ? { policy: v.policy } : {}),
        reason: v?.reason ?? 'expired',
        status,
        ...(error ? { error } : {}),
        ...(s.object ? { dump: true as const } : {}),
      };
    }),
    deferred: run.deferred,
  };
};
