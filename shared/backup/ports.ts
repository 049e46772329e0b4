import type { CopyKind, CopyQueue, SlotsBySource } from './copy-plan.js';
import type {
  CopySnapshotInput,
  CreateSnapshotInput,
  EbsPart,
  Database,
  Quota,
  ResourceKind,
  Snapshot,
  SnapshotListing,
} from '../model.js';

/**
 * Wraps the one call that takes an EBS snapshot set (CreateSnapshots or CreateSnapshot) with pre and post
 * commands (application consistency: freeze, snapshot, thaw). It is called only when a set is really taken,
 * never for a set that already exists; it must call `snapshot` at most once and let its error through.
 */
export type SnapshotAround = (
  /** The instance or volume, its volumes, the set's deterministic id and the policy that takes it. */
  target: { id: string; volumes: readonly string[]; setId: string; policy: string },
  snapshot: () => Promise<void>,
) => Promise<void>;

/** Port: databases, quota and snapshot creation in the primary region. */
export interface BackupPort {
  readonly region: string;
  /** Databases of the given kinds, as plain data. */
  listDatabases(kinds: readonly ResourceKind[]): Promise<Database[]>;
  /** Manual snapshot quotas (`ManualSnapshots`, `ManualClusterSnapshots`). */
  quotas(): Promise<Quota[]>;
  /**
   * Take one snapshot; our deterministic id already existing counts as done. `around` wraps the taking of an
   * EBS set (other kinds ignore it). `checked`: the caller already looked the id up (`takenSets`) and found
   * nothing, so an EBS set is taken without looking again.
   */
  createSnapshot(
    input: CreateSnapshotInput,
    around?: SnapshotAround,
    checked?: boolean,
  ): Promise<'created' | 'already-done'>;
  /**
   * Which of these EBS set ids exist already (a retry, an overlapping run), in a few requests for many ids:
   * EBS snapshot ids are AWS's, so a set is found by its `steward:set` tag. Absent: each create looks itself.
   */
  takenSets?(ids: readonly string[]): Promise<Set<string>>;
}

/** Port: cross-region copies into this (DR) region. */
export interface CopyPort {
  readonly region: string;
  /** Start one copy; a copy with the target id already existing counts as done. */
  copySnapshot(input: CopySnapshotInput): Promise<'started' | 'already-done'>;
  /**
   * This region's manual snapshot quotas (`ManualSnapshots`, `ManualClusterSnapshots`), which RDS and Aurora
   * copies count against; absent, copies are not guarded.
   */
  quotas?(): Promise<Quota[]>;
}

/** Port: the manual snapshots of one region, as plain data (what the DR copy reconciler compares). */
export interface SnapshotLister {
  readonly region: string;
  /** Manual snapshots of the given kinds (automated ones are AWS's and never listed), with what could not be read. */
  list(kinds: readonly ResourceKind[]): Promise<SnapshotListing>;
}

/**
 * Port: targeted reads of one region's snapshots, so an RDS event reconciles one database in a few calls
 * instead of listing the estate.
 */
export interface SnapshotReader {
  readonly region: string;
  /** The manual snapshots of one database; a cross-region copy keeps its source's database id. */
  ofDatabase(kind: CopyKind, db: string): Promise<Snapshot[]>;
  /** One snapshot by id; undefined when there is none (deleted, never created). */
  get(kind: CopyKind, id: string): Promise<Snapshot | undefined>;
  /** The manual snapshots among `ids` that exist (a few requests for many ids; none for none). */
  some(kind: CopyKind, ids: readonly string[]): Promise<Snapshot[]>;
}

/** One destination's copy queue as stored, with the version a conditional write must still find. */
export interface StoredCopyQueue {
  queue: CopyQueue;
  /** 0: nothing stored yet. */
  version: number;
}

/**
 * Port: the copy queue of each destination region, shared by every run (hourly, scheduled, one per RDS
 * event). Writes are conditional on the version read, so two concurrent runs never both take the last slot.
 */
export interface CopyLedger {
  read(destination: string): Promise<StoredCopyQueue>;
  /** Store `queue` if the stored version is still `version`; false when another run wrote in between. */
  write(destination: string, queue: CopyQueue, version: number): Promise<boolean>;
}

/** One account's slots in one destination region as stored, with the version a conditional write must find. */
export interface StoredCopySlots {
  bySource: SlotsBySource;
  /** 0: nothing stored yet. */
  version: number;
}

/**
 * The copies in flight to one destination region of one account, by source region: every source region of
 * the account that copies there shares AWS's limits (shared/backup/copy-plan.ts, `siblingUse`).
 */
export interface CopySlots {
  read(): Promise<StoredCopySlots>;
  /** Store `bySource` if the stored version is still `version`; false when another run wrote in between. */
  write(bySource: SlotsBySource, version: number): Promise<boolean>;
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

/** Ask the vault to copy one snapshot shared with it. */
export interface VaultCopyInput {
  kind: ResourceKind;
  /** ARN of the shared source snapshot (a shared snapshot is named by ARN). */
  sourceArn: string;
  targetId: string;
  /** The vault key (alias or ARN) in the vault region. */
  kmsKeyId: string;
  /** An unencrypted cluster snapshot cannot be encrypted by a copy: it gets no key. */
  encrypted?: boolean;
  tags: Record<string, string>;
}

/** A re-encrypting copy of one of steward's snapshots, within its own account and region. */
export interface ReencryptInput {
  kind: ResourceKind;
  sourceId: string;
  targetId: string;
  /** The share key (alias or ARN) in the source account and region. */
  kmsKeyId: string;
  tags: Record<string, string>;
}

/** Port: share steward's snapshots with the vault account, in the account and region that own them. */
export interface VaultShares {
  readonly region: string;
  /**
   * Let `account` copy the snapshot; `gone` when there is no such snapshot any more; `default-key` when RDS
   * refuses because the snapshot is encrypted with the AWS-managed `aws/rds` key (never shareable).
   */
  share(s: Pick<Snapshot, 'kind' | 'id'>, account: string): Promise<'done' | 'gone' | 'default-key'>;
  /** Take that back once the vault holds its copy. */
  unshare(s: Pick<Snapshot, 'kind' | 'id'>, account: string): Promise<'done' | 'gone'>;
  /** Start a copy re-encrypted with a customer managed key; a copy with the target id already there is done. */
  reencrypt(input: ReencryptInput): Promise<'started' | 'already-done'>;
  /** Delete one of steward's re-encrypted copies; one already gone counts as deleted. */
  remove(s: Pick<Snapshot, 'kind' | 'id'>): Promise<'deleted' | 'already-gone'>;
}

/** Port: one vault region, as the vault copy role sees it. */
export interface VaultStore {
  readonly region: string;
  /** The vault's own manual snapshots (its copies among them). */
  copies(): Promise<Snapshot[]>;
  /** Snapshots other accounts share with the vault account, in this region. */
  shared(): Promise<Snapshot[]>;
  /** Start one copy; a copy with the target id already there counts as done. */
  copy(input: VaultCopyInput): Promise<'started' | 'already-done'>;
}

/**
 * Port: share the parts of steward's EBS snapshot sets with the vault account (createVolumePermission), in the
 * account and region that own them. Idempotent like VaultShares; `default-key` when EBS refuses because the
 * snapshot is encrypted with the AWS-managed `aws/ebs` key (never shareable with another account).
 */
export interface VaultSetShares {
  readonly region: string;
  share(snapshotId: string, account: string): Promise<'done' | 'gone' | 'default-key'>;
  unshare(snapshotId: string, account: string): Promise<'done' | 'gone'>;
}

/** Ask the vault to copy the parts of one EBS snapshot set shared with it (each part on its own). */
export interface VaultSetCopyInput {
  /** The source set's identifier (`setArn`): its region is the source region. */
  sourceArn: string;
  /** The vault copy's set id (`steward:set` of every copied part). */
  targetId: string;
  kmsKeyId: string;
  parts: EbsPart[];
  tags: Record<string, string>;
}

/** Port: one vault region's EBS side, as the vault copy role sees it. */
export interface VaultSetStore {
  readonly region: string;
  /** The vault's own EBS snapshot sets (every source account's copies among them). */
  copies(): Promise<Snapshot[]>;
  /** Ids of the EBS snapshots `account` shares with the vault account in this region. */
  shared(account: string): Promise<string[]>;
  /**
   * Copy every part not yet in the vault (by `steward:set` and `steward:volume`); `onStarted` hears each
   * part whose copy was started, so a failure half-way through tells which shares a copy still needs.
   */
  copySet(
    input: VaultSetCopyInput,
    onStarted?: (volumeId: string) => void,
  ): Promise<'started' | 'already-done'>;
}
