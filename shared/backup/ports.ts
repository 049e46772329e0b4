import type {
  CopySnapshotInput,
  CreateSnapshotInput,
  Database,
  Quota,
  ResourceKind,
  SnapshotListing,
} from '../model.js';

/** Port: databases, quota and snapshot creation in the primary region. */
export interface BackupPort {
  readonly region: string;
  /** Databases of the given kinds, as plain data. */
  listDatabases(kinds: readonly ResourceKind[]): Promise<Database[]>;
  /** Manual snapshot quotas (`ManualSnapshots`, `ManualClusterSnapshots`). */
  quotas(): Promise<Quota[]>;
  /** Take one snapshot; our deterministic id already existing counts as done. */
  createSnapshot(input: CreateSnapshotInput): Promise<'created' | 'already-done'>;
}

/** Port: cross-region copies into this (DR) region. */
export interface CopyPort {
  readonly region: string;
  /** Start one copy; a copy with the target id already existing counts as done. */
  copySnapshot(input: CopySnapshotInput): Promise<'started' | 'already-done'>;
}

/** Port: the manual snapshots of one region, as plain data (what the DR copy reconciler compares). */
export interface SnapshotLister {
  readonly region: string;
  /** Manual snapshots of the given kinds (automated ones are AWS's and never listed), with what could not be read. */
  list(kinds: readonly ResourceKind[]): Promise<SnapshotListing>;
}

/** A one-time schedule that invokes the backup function with `payload` at `at` (UTC), then deletes itself. */
export interface OneTimeSchedule {
  /** Deterministic: the same maintenance and database always name the same schedule. */
  name: string;
  at: Date;
  description: string;
  payload: Record<string, unknown>;
}

/** Port: schedule a future backup request (EventBridge Scheduler). */
export interface BackupScheduler {
  /** `exists`: a schedule of this name is already there (a retried event). */
  scheduleOnce(s: OneTimeSchedule): Promise<'created' | 'exists'>;
}
