import type { ResourceKind, Snapshot } from '../model.js';

/**
 * Port: the snapshots of one region, as plain data (adapter: shared/aws/snapshots.ts; the local provider
 * and the test fake implement it too). Retention lists and deletes through it.
 */
export interface SnapshotStore {
  region: string;
  /** Manual snapshots of the given kinds (automated ones are AWS's and never listed). */
  list(kinds: readonly ResourceKind[]): Promise<Snapshot[]>;
  /** Delete one snapshot; a snapshot that is already gone counts as deleted. */
  remove(s: Pick<Snapshot, 'kind' | 'id'>): Promise<'deleted' | 'already-gone'>;
}
