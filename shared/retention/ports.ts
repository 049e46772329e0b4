import type { ResourceKind, Snapshot, SnapshotListing } from '../model.js';

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
  /** Delete one snapshot; a snapshot that is already gone counts as deleted. */
  remove(s: Pick<Snapshot, 'kind' | 'id'>): Promise<'deleted' | 'already-gone'>;
}
