import { failureOf, PartialFailureError, StewardError } from '../errors.js';
import type { Snapshot } from '../model.js';
import type { RunReportLink } from '../notify/run-report.js';
import type { DrillKind } from './cost.js';
import type { Tags } from '../tags.js';
import type { SourceShape } from './shape.js';
import type { DrillState, DrillTarget } from './state.js';

export type { DrillKind };

/** Where restored copies go: an isolated subnet group and security groups (AWS); ignored locally. */
export interface DrillNetwork {
  dbSubnetGroupName?: string;
  securityGroupIds?: string[];
}

/** Enough to find a restored copy: what `describe` and `remove` take (`region`: a DR restore's). */
export type TargetRef = Pick<DrillTarget, 'kind' | 'id' | 'instanceId' | 'region'>;

export interface RestoreRequest {
  kind: DrillKind;
  /** The source database id (PITR restores from it). */
  sourceDbId: string;
  source: NonNullable<DrillState['source']>;
  /** Deterministic (`drillTargetId`): restoring the same id twice returns the existing copy. */
  targetId: string;
  /** Always includes `steward:drill=<drillId>`; `remove` refuses anything without it. */
  tags: Tags;
  /** Default: the smallest sensible class for the kind (the drill task passes the resolved class). */
  instanceClass?: string;
  /** Storage to restore with; absent: the snapshot's. */
  storageType?: string;
  iops?: number;
  storageThroughputMiBps?: number;
  /** Turn on IAM database authentication on the copy (the verifier logs in with a token). */
  iamAuth?: boolean;
  /** Aurora: instances to create in the restored cluster (writer plus readers). Default 1. */
  instances?: number;
  /** Encrypt the copy with this key (a vault copy's restore: a key of this account); absent: the snapshot's. */
  kmsKeyId?: string;
  /** Aurora: the snapshot's engine and version when known (a vault copy's); absent: described first. */
  engine?: { engine?: string; engineVersion?: string };
  network: DrillNetwork;
}

/** A restore that was requested; the task adds `requestedAt`. */
export type RestoredTarget = Omit<DrillTarget, 'requestedAt' | 'availableAt' | 'secretArn'>;

export interface TargetStatus {
  /** Raw service status; `available` means ready to connect. */
  status: string;
  endpoint?: { host: string; port: number };
  /** True when the restore cannot become available any more (failed, incompatible, deleted). */
  failed: boolean;
  /** What the copy runs on, as the service reports it. */
  shape?: SourceShape;
}

/** A resource tagged `steward:drill`, as the janitor sees it. Aurora member instances are not listed. */
export interface DrillResource {
  kind: DrillKind;
  id: string;
  drillId: string;
  /** Absent while the service has not set it (still creating). */
  createdAt?: string;
  status?: string;
  /** Set when the resource is not in the stage's region (a Redis drill from the DR copy). */
  region?: string;
}

/** Port: restore databases for drills, watch them, remove them. One region. */
export interface RestorePort {
  readonly region: string;
  /** Snapshots (manual, automated, AWS Backup) of one database, as plain data. */
  listSnapshots(kind: DrillKind, dbId: string): Promise<Snapshot[]>;
  /** The source's point-in-time restore window; undefined when it has none. */
  restorableWindow(kind: DrillKind, dbId: string): Promise<{ earliest: string; latest: string } | undefined>;
  /** Start the restore; idempotent: our id already existing (for this drill) returns it. */
  restore(req: RestoreRequest): Promise<RestoredTarget>;
  /** Current status; for Aurora, ready means the cluster AND its writer instance are available. */
  describe(target: TargetRef): Promise<TargetStatus>;
  /**
   * Delete a restored copy without a final snapshot (Aurora: its instances, then the cluster).
   * Refuses (GuardRefusedError) anything not tagged `steward:drill`.
   */
  remove(target: TargetRef): Promise<'deleted' | 'already-gone'>;
  /** Every resource tagged `steward:drill` (the janitor's inventory). */
  listDrillResources(): Promise<DrillResource[]>;
  /** ARN of the database's RDS-managed master user secret, if it has one. */
  masterSecretArn(kind: DrillKind, dbId: string): Promise<string | undefined>;
  /** Class, instance count and storage of the source database; undefined when it no longer exists. */
  sourceShape(kind: DrillKind, dbId: string): Promise<SourceShape | undefined>;
}

/** A snapshot in the backup vault, with what restoring an Aurora copy needs (RDS requires the engine). */
export interface VaultCopy extends Snapshot {
  engine?: string;
  engineVersion?: string;
}

/**
 * Port: the backup vault's side of a drill from the vault (`from: vault`), with the vault drill role in the
 * stage's region: read the vault's copies of a database, and let one account restore one copy, for one drill.
 */
export interface VaultDrillPort {
  /** The vault account. */
  readonly account: string;
  readonly region: string;
  /** The vault's manual snapshots of `database` (its copies among them, tags included). */
  copies(kind: 'rds-instance' | 'aurora-cluster', database: string): Promise<VaultCopy[]>;
  /**
   * The vault's EBS snapshot sets copied from `source` (an instance or volume) of `sourceAccount`, any state
   * (absent: this vault side reads no EBS sets).
   */
  sets?(source: string, sourceAccount: string): Promise<Snapshot[]>;
  /**
   * Add `account` to the copy's `restore` attribute (RDS), or to one EBS snapshot's create-volume permission
   * (`kind: 'ebs'`, `id` the part's snapshot id). Idempotent; a copy that is gone is `gone`.
   */
  share(copy: Pick<Snapshot, 'kind' | 'id'>, account: string): Promise<'done' | 'gone'>;
  /** Remove `account` from what `share` added. Idempotent; a copy that is gone is `gone`. */
  unshare(copy: Pick<Snapshot, 'kind' | 'id'>, account: string): Promise<'done' | 'gone'>;
  /**
   * Whether `account` is in the copy's `restore` attribute (RDS) or the part's create-volume permission (EBS)
   * now: a share made before a drill (by hand, say) is not the drill's to take back. A copy that is gone: false.
   */
  sharedWith(copy: Pick<Snapshot, 'kind' | 'id'>, account: string): Promise<boolean>;
}

/**
 * Port: the drill's own copy of a shared vault copy, in the drill's account and region. RDS restores no DB
 * instance from a snapshot that is both shared and encrypted (RDS User Guide, "Sharing a DB snapshot"): the
 * drill copies it first, re-encrypted with a key of its own account, and restores that.
 */
export interface StagedCopyPort {
  /** Copy the shared snapshot (by ARN) to `targetId` encrypted with `kmsKeyId`, tagged. Idempotent. */
  copy(input: {
    sourceArn: string;
    targetId: string;
    kmsKeyId: string;
    tags: Tags;
  }): Promise<'started' | 'already-done'>;
  /** The copy's status; undefined when there is none. */
  status(id: string): Promise<{ status: string; failed: boolean } | undefined>;
  /** Delete the copy; refuses (GuardRefusedError) one without `steward:drill`. */
  remove(id: string): Promise<'deleted' | 'already-gone'>;
  /** Every drill copy in this account and region (`steward-drill-*`, tagged `steward:drill`): the janitor's. */
  listDrillCopies(): Promise<DrillCopy[]>;
}

/** A drill's own copy of a vault copy, as the janitor sees it. */
export interface DrillCopy {
  id: string;
  drillId: string;
  /** When the copy was made (a copy's own SnapshotCreateTime); absent while RDS has not set it. */
  createdAt?: string;
  status?: string;
}

/** What a drill shares out of the vault: an RDS or Aurora copy, or one snapshot of an EBS set. */
export type VaultShareKind = 'rds-instance' | 'aurora-cluster' | 'ebs';

/** A vault copy shared with the drill's account for one drill (recorded before the share is made). */
export interface VaultShare {
  /** `ebs`: one part of a vault EBS set (`copyId` is its snapshot id), shared for the drill's create-volume. */
  kind: VaultShareKind;
  copyId: string;
  drillId: string;
  /** The vault account and the copy's region. */
  vaultAccount: string;
  region: string;
  /** When the drill recorded the share, just before making it. */
  sharedAt: string;
}

/**
 * Port: the shares drills made of vault copies, recorded before each share and forgotten once it is removed, so
 * the janitor removes the ones a drill that died left behind, and only those (a share someone else made of a
 * vault copy, to restore by hand, is not recorded here and never touched).
 */
export interface VaultShareLedger {
  record(share: VaultShare): Promise<void>;
  forget(share: Pick<VaultShare, 'kind' | 'copyId' | 'drillId' | 'vaultAccount' | 'region'>): Promise<void>;
  /** The recorded shares of one vault account and region. */
  list(vaultAccount: string, region: string): Promise<VaultShare[]>;
}

/**
 * Fast snapshot restore one drill turns on for one snapshot in one zone (billed per snapshot and zone hour until
 * turned off), recorded before it is turned on (write-ahead) and forgotten once it is off.
 */
export interface FastRestoreRecord {
  drillId: string;
  snapshotId: string;
  availabilityZone: string;
  /** The zone's region (a drill from the DR copies turns it on there). */
  region: string;
  /** When the drill recorded it, just before turning it on. */
  enabledAt: string;
}

/**
 * Port: the fast snapshot restores drills turned on, recorded before each is turned on and forgotten once it is
 * off, so Cleanup, the execution-ended rule and the janitor turn off what a drill left on (its state lost, its
 * Cleanup failed) and only that: one someone else turned on is not recorded here and never touched.
 */
export interface FastRestoreLedger {
  record(r: FastRestoreRecord): Promise<void>;
  forget(r: Pick<FastRestoreRecord, 'drillId' | 'snapshotId' | 'availabilityZone'>): Promise<void>;
  /** Every recorded one, any drill, any zone. */
  list(): Promise<FastRestoreRecord[]>;
}

/**
 * A restored RDS or Aurora copy a drill's Cleanup (or the execution-ended rule) is deleting, recorded before its
 * token is taken and its delete sent (write-ahead) and forgotten once RDS accepted the delete. A record that stays
 * names a copy RDS would not delete yet (still `creating`): its own next RDS event, or the janitor's next sweep,
 * deletes it as soon as RDS allows, and the restore event handler adds no instance to it.
 */
export interface CopyDeletion {
  kind: 'rds-instance' | 'aurora-cluster';
  id: string;
  /** An Aurora copy's writer. */
  instanceId?: string;
  drillId: string;
  /** The copy's region. */
  region: string;
  /** When the delete was first asked for. */
  since: string;
}

/** Port: the copies being deleted (CopyDeletion), in the stage's state table. */
export interface CopyDeletionLedger {
  /** Record a copy to delete; a copy recorded already keeps its first record. */
  record(d: CopyDeletion): Promise<void>;
  forget(d: Pick<CopyDeletion, 'region' | 'id'>): Promise<void>;
  /** Every recorded copy, any region (one read). */
  list(): Promise<CopyDeletion[]>;
}

/** Database credentials read from a secret. Never logged, never put in state or errors. */
export interface DbCredentials {
  username: string;
  password: string;
  /** The secret's host is the SOURCE's: a drill connects to the restored copy's endpoint instead. */
  host?: string;
  port?: number;
  dbname?: string;
}

/**
 * Where the verifier's credentials come from: a secret (its ARN), or an IAM authentication token for
 * `iamUser`, signed for the restored copy's endpoint (a token is bound to host and port).
 */
export type CredentialRequest = { secretArn: string } | { iamUser: string; host: string; port: number };

/** Port: read database credentials. */
export interface CredentialsPort {
  get(req: CredentialRequest): Promise<DbCredentials>;
}

/** A parked task token and the state to resume the execution with. */
export interface ParkedToken {
  token: string;
  state: DrillState;
}

/**
 * Port: park a `waitForTaskToken` token until the RDS event says the restore is ready.
 * The state is parked too: the event handler has nothing else to build the next state from.
 */
export interface TokenStore {
  /** Park (or replace) the token of a target; it expires after `ttlSeconds`. */
  put(targetId: string, token: string, ttlSeconds: number, state: DrillState): Promise<void>;
  /** Take and delete the token: of concurrent callers exactly one gets it. Expired → undefined. */
  take(targetId: string): Promise<ParkedToken | undefined>;
  /**
   * Whether a token of the target is parked and not expired: an execution waits for this copy (WaitForRestore),
   * so its Cleanup has not started (Cleanup takes the token first) and the drill has not ended.
   */
  waiting(targetId: string): Promise<boolean>;
}

/** Port: keep drill reports and baselines (JSON). */
export interface ReportStore {
  /** Write an object; returns where it is, linked the way every run report is (`s3://` URI, console URL). */
  put(key: string, body: string): Promise<RunReportLink>;
  /** The object's body, or undefined when there is none. */
  get(key: string): Promise<string | undefined>;
}

/** Port: complete a `waitForTaskToken` task. */
export interface TaskSignal {
  /** Resume the execution with `output` as the task's result. */
  success(token: string, output: unknown): Promise<void>;
  /** Fail the task with this error name and cause (a Catch sees them). */
  failure(token: string, error: string, cause: string): Promise<void>;
}

/** Port: what Step Functions says about a drill execution. */
export interface ExecutionLookup {
  /** The error name a failed execution ended with (`DrillFailed` when steward's own Fail state ended it). */
  errorOf(executionArn: string): Promise<string | undefined>;
}

/**
 * Port: the drill's alerts already sent, by key, so that a retried event does not send one again (the
 * execution-ended sweep: Lambda retries it when its cleanup failed after the alert).
 */
export interface SentAlerts {
  /** Whether an alert was recorded as sent under `key` (within its time to live). */
  sent(key: string): Promise<boolean>;
  /** Record the alert under `key` as sent, for `ttlSeconds`. */
  record(key: string, ttlSeconds: number): Promise<void>;
}

/** The token belongs to a task that already finished or timed out; nothing is waiting for it. */
export class StaleTaskTokenError extends StewardError {
  override name = 'StaleTaskTokenError';
}

/**
 * A listing over several ports (regions, services) of which some failed: `found` holds what the others listed,
 * so the janitor and the execution-ended sweep act on it and report the rest.
 */
export class PartialListingError<T> extends PartialFailureError {
  override name = 'PartialListingError';
  constructor(
    message: string,
    readonly found: readonly T[],
    failures: ConstructorParameters<typeof PartialFailureError>[1],
  ) {
    super(message, failures);
  }
}

/** Every port's listing, together; one that fails makes a PartialListingError carrying the others'. */
export const listEach = async <T>(
  what: string,
  lists: readonly { name: string; list: () => Promise<T[]> }[],
): Promise<T[]> => {
  const settled = await Promise.allSettled(lists.map((l) => l.list()));
  const found = settled.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  const failures = settled.flatMap((r, i) =>
    r.status === 'rejected' ? [failureOf(lists[i]!.name, r.reason)] : [],
  );
  if (failures.length) throw new PartialListingError(`Listing ${what}`, found, failures);
  return found;
};

/** The error name of a restored copy RDS does not delete yet (a cluster or instance still being created). */
export const DRILL_COPY_BUSY = 'DrillCopyBusy';

/**
 * RDS refused to delete a drill's copy in its current state (InvalidDBClusterStateFault or
 * InvalidDBInstanceStateFault: still `creating`): the drill's Cleanup waits and retries on this error by name.
 */
export class DrillCopyBusyError extends StewardError {
  override name = DRILL_COPY_BUSY;
}

/** The snapshot a drill picked was deleted before the restore started (retention, or by hand). */
export class SnapshotGoneError extends StewardError {
  override name = 'SnapshotGoneError';
}

/** Where a Redis drill's replication group goes: the drill VPC's cache subnet group, security group, user group. */
export interface CacheDrillNetwork {
  cacheSubnetGroupName: string;
  securityGroupIds: string[];
  /** The RBAC user group holding the verifier's IAM-authenticated user (and a disabled `default`); `auth: iam`. */
  userGroupId?: string;
}

/** A snapshot a Redis drill may restore, with what sizing its restore needs. */
export interface CacheSnapshot extends Snapshot {
  sourceNodeType?: string;
  engine?: string;
  engineVersion?: string;
  /** Node groups (shards). */
  shards: number;
  /** Largest shard's data, bytes; undefined when the service did not say. */
  largestShardBytes?: number;
  /** A DR copy: the S3 ARNs of its RDB files (one per shard), restored with SnapshotArns. */
  rdbArns?: string[];
}

export interface CacheRestoreRequest {
  /** Deterministic (`drillTargetId`): restoring the same id twice returns the existing group. */
  targetId: string;
  /** Always includes `steward:drill=<drillId>` and `steward:managed=true`; `remove` refuses anything without. */
  tags: Tags;
  nodeType: string;
  /** An ElastiCache snapshot by name, or the RDB files of a DR copy by S3 ARN. */
  source: { snapshotName: string } | { rdbArns: string[] };
  shards: number;
  engine?: string;
  engineVersion?: string;
  network: CacheDrillNetwork;
  /**
   * How the copy takes logins, as the source does (a restore carries neither over): the AUTH token set at
   * creation, or the source's RBAC user group attached. Never logged, never in the drill's state.
   */
  login?: { authToken: string } | { userGroupId: string };
}

/** Port: the AUTH token or RBAC login of a cache, read from its secret. Never logged, never in state. */
export interface CacheSecrets {
  /** The AUTH token: the secret's `password`, or its whole string when that is not JSON with one. */
  token(secretArn: string): Promise<string>;
  /** An RBAC user's `username` and `password`. */
  user(secretArn: string): Promise<{ username: string; password: string }>;
}

/**
 * Port: the cache verifier of another region (the `Steward-<stage>-dr` stack's, inside that region's drill
 * VPC), run synchronously on one `verify` task event. Step Functions invokes no Lambda function in another
 * region, so the drill function relays to it.
 */
export interface RemoteCacheVerifier {
  /** Where it runs: it reaches drill groups in this region only. */
  readonly region: string;
  /** The state its `verify` task returns; its failure as an error named as it named it. */
  verify(event: {
    task: 'verify';
    state: Record<string, unknown>;
    execution?: { name: string; startTime: string };
  }): Promise<unknown>;
}

/** Port: restore ElastiCache replication groups for drills, watch them, remove them. One region. */
export interface CacheRestorePort {
  readonly region: string;
  /**
   * When the live replication group was created (ISO). ElastiCache snapshots and DR copies carry no id of their
   * group: one taken before this is of an earlier group of the same name. Refuses (StewardError naming it) a
   * group that is gone, or one without a creation time.
   */
  groupCreatedAt(groupId: string): Promise<string>;
  /** Snapshots (manual and automated) of the live replication group: none taken before it was created. */
  listSnapshots(groupId: string): Promise<CacheSnapshot[]>;
  restore(req: CacheRestoreRequest): Promise<RestoredTarget>;
  describe(target: TargetRef): Promise<TargetStatus>;
  /** Delete without a final snapshot; refuses (GuardRefusedError) anything not tagged `steward:drill`. */
  remove(target: TargetRef): Promise<'deleted' | 'already-gone'>;
  /** Every replication group tagged `steward:drill`. */
  listDrillResources(): Promise<DrillResource[]>;
}

/** Port: the RDB copies in the DR bucket (one region), as snapshots a drill may restore. */
export interface CacheCopyLister {
  readonly region: string;
  listCopies(groupId: string): Promise<CacheSnapshot[]>;
}

/** Signs an ElastiCache IAM authentication token for one user of one replication group (no AWS call). */
export type CacheTokenSigner = (req: { groupId: string; userId: string }) => Promise<string>;
