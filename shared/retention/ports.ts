import type { ResourceKind, Snapshot, SnapshotListing } from '../model.js';
import type { RetentionRecord } from './record.js';

/**
 * Port: the snapshots of one region, as plain data (adapter: shared/aws/snapshots.ts; the local provider
 * and the test fake implement it too). Retention lists and deletes through it.
 */
export interface SnapshotStore {
  region: string;
  /**
   * Manual snapshots of the given kinds (automated ones are AWS's and never listed). What cannot be read
   * (one snapshot's tags, one kind's listing) is a failure in the listing, not a rejection of all of it.
   */
  list(kinds: readonly ResourceKind[]): Promise<SnapshotListing>;
  /** Delete one snapshot (an EBS set: all its parts); a snapshot that is already gone counts as deleted. */
  remove(s: Pick<Snapshot, 'kind' | 'id' | 'parts' | 'serverless'>): Promise<'deleted' | 'already-gone'>;
  /**
   * Whether a listed snapshot is this store's, when two stores share a region (the DR region's snapshots
   * and the Redis DR bucket's copies). Absent: every snapshot of its region.
   */
  holds?(s: Pick<Snapshot, 'kind' | 'arn'>): boolean;
  /**
   * This store lists the Redis DR copies (the DR bucket's RDB files): with it, retention holds an ElastiCache
   * day until its copy arrived, as it holds RDS days (GFS's `DrView.caches`).
   */
  redisDrCopies?: true;
}

/**
 * Port: the day's deletion budget, shared by every run (adapter: shared/aws/retention-budget.ts over the
 * state table). Lambda's async retries, EventBridge redeliveries and overlapping or manual runs each plan
 * up to the per-run cap; the budget is what bounds them together. Reserve before deleting, refund what
 * was not deleted.
 */
export interface DeletionBudget {
  /**
   * Reserve up to `wanted` deletions of `day`'s budget of `limit` (a UTC `YYYY-MM-DD`); returns how many
   * were granted, 0 when the day's budget is used up. Atomic: two runs never get the same deletion.
   */
  reserve(day: string, wanted: number, limit: number): Promise<number>;
  /** Give back `n` reserved deletions that did not happen (failed, or already gone). */
  refund(day: string, n: number): Promise<void>;
}

/** Port: keep a run's record of deletions (the report bucket); the evidence report reads them back. */
export interface RetentionRecorder {
  /** Store the record; returns where it went. */
  record(r: RetentionRecord): Promise<string>;
}
