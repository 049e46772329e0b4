import type { ResourceKind } from './config/schema.js';
import type { Failure } from './errors.js';
import type { Tags } from './tags.js';

export type { ResourceKind };

/** A database as the adapters describe it: plain data, no SDK types. */
export interface Database {
  kind: ResourceKind;
  id: string;
  arn: string;
  region: string;
  engine: string;
  /** Raw service status, e.g. `available`, `backing-up`, `modifying`. */
  status: string;
  tags: Tags;
  /** For an RDS instance that is an Aurora cluster member: the cluster id (back up the cluster instead). */
  clusterId?: string;
  encrypted?: boolean;
  /** For ElastiCache: the engine, since Memcached cannot be snapshotted (a serverless Memcached cache can). */
  cacheEngine?: string;
  /**
   * For ElastiCache: a serverless cache (DescribeServerlessCaches), not a replication group. Its id is its
   * ServerlessCacheName, its snapshots are serverless cache snapshots (CreateServerlessCacheSnapshot), kept
   * apart from a group's even under the same name.
   */
  serverless?: true;
  /**
   * For ElastiCache: why its tags could not be read (ListTagsForResource refuses a group that is not
   * `available`), so `tags` is empty and whether it is opted in is unknown this run.
   */
  tagsUnread?: string;
  /** AWS's own automated backups: kept `retentionDays` (0 = off), taken in `window` (`hh:mm-hh:mm` UTC). */
  automatedBackup?: { retentionDays: number; window?: string };
  /** ISO-8601 creation time, when the service reports it (scheduled backups are not due before it). */
  createdAt?: string;
  /** For an RDS read replica: the source instance (its backups are the replica's recovery path). */
  replicaOf?: string;
  /** For EBS: the volumes a snapshot set holds (an instance's attached EBS volumes, or the one volume). */
  ebs?: EbsTarget;
}

/** An EBS target: an EC2 instance (every attached EBS volume, one crash-consistent set) or one volume. */
export interface EbsTarget {
  volumes: string[];
  /** For a volume: the instance it is attached to, whose own set may already cover it. */
  attachedTo?: string;
}

/** One volume's snapshot in an EBS snapshot set. */
export interface EbsPart {
  /** The EBS snapshot id (`snap-...`). */
  id: string;
  /** The source volume (on a copy: the source's, from `steward:volume`). */
  volumeId: string;
  /** EBS snapshot state: `pending`, `completed`, `error`, `recoverable`, `recovering`. */
  state: string;
  startedAt?: string;
  encrypted?: boolean;
}

export type SnapshotType = 'manual' | 'automated' | 'shared' | 'public' | 'awsbackup';

/** A snapshot (RDS DB snapshot, Aurora cluster snapshot, ElastiCache backup) as plain data. */
export interface Snapshot {
  kind: ResourceKind;
  id: string;
  arn: string;
  region: string;
  /** The database it was taken from. */
  sourceId: string;
  /** ISO-8601 creation time; absent while the service has not set it yet. */
  createdAt?: string;
  /**
   * The immutable id of the database it was taken from (RDS `DbiResourceId`, Aurora `DbClusterResourceId`): an
   * earlier database deleted and re-created under the same identifier has another. Absent for ElastiCache.
   */
  sourceResourceId?: string;
  /**
   * ISO-8601: when the database it was taken from was created, as the snapshot states it (RDS
   * `InstanceCreateTime`, Aurora `ClusterCreateTime`: the same on every snapshot of it). ElastiCache names only
   * its group's members: the earliest `CacheClusterCreateTime` / `CacheNodeCreateTime` of the snapshot, never
   * before the group was created.
   */
  sourceCreatedAt?: string;
  /** Raw service status: `available`, `creating`, `copying`, `pending`, `failed`, `deleting`. */
  status: string;
  type: SnapshotType;
  tags: Tags;
  encrypted?: boolean;
  /** Set on a cross-region copy: the region it was copied from. */
  sourceRegion?: string;
  /** Set on a copy: when the copy was made (`createdAt` dates the data it holds). */
  copiedAt?: string;
  /** For an EBS snapshot set (kind `ebs`, id the set's `steward:set`): its volumes' snapshots. */
  parts?: EbsPart[];
  /**
   * Set when the backup is an S3 object, not a service snapshot: an EC2 instance's dump (kind `ebs`, id
   * `s3://<bucket>/<key>`). Retention groups it apart from the instance's snapshot sets and never holds
   * it for DR (dumps are not copied there).
   */
  object?: { bucket: string; key: string };
  /**
   * ElastiCache: the snapshot's shards (node groups); of a Redis DR copy (RDB files in the DR bucket), the
   * shards' files that arrived. A copy holds the snapshot once it has them all.
   */
  shards?: number;
  /**
   * ElastiCache: a serverless cache snapshot (DescribeServerlessCacheSnapshots; `sourceId` its cache's name),
   * deleted with DeleteServerlessCacheSnapshot and never copied to DR (ElastiCache has no cross-region copy).
   */
  serverless?: true;
}

/**
 * The manual snapshots of one region as far as they could be read: one snapshot whose tags cannot be read,
 * or one kind whose listing fails, is a failure of its own and never hides the rest.
 */
export interface SnapshotListing {
  snapshots: Snapshot[];
  failures: Failure[];
}

/** Per-resource outcome of an action; a run reports all of them. */
export type Outcome =
  | { resource: string; action: string; status: 'done' | 'already-done' | 'planned'; detail?: string }
  | { resource: string; action: string; status: 'skipped'; reason: string }
  | {
      resource: string;
      action: string;
      status: 'failed';
      error: string;
      /** The error's name (`AwsCallError`, `ThrottlingException`): a serialisable summary of `cause`. */
      code?: string;
      /** The original error, kept (not enumerable, so reports stay plain JSON); see `failedOutcome`. */
      readonly cause?: unknown;
    };

/** A service quota as `DescribeAccountAttributes` reports it, e.g. `ManualSnapshots` 42/100. */
export interface Quota {
  name: string;
  used: number;
  max: number;
}

/** A quota the run came near or would pass: what the backup and DR-copy guards report. */
export interface QuotaFinding {
  severity: 'warning' | 'critical';
  quota: string;
  used: number;
  max: number;
  /** Snapshots this run planned against the quota (before the guard refused them). */
  planned: number;
  message: string;
}

/** Ask a service to take one manual snapshot of a database, tagged. */
export interface CreateSnapshotInput {
  kind: ResourceKind;
  dbId: string;
  snapshotId: string;
  tags: Tags;
  /** For EBS: the volumes the set holds (what pre/post commands are told). */
  volumes?: readonly string[];
  /** For ElastiCache: the database is a serverless cache (CreateServerlessCacheSnapshot). */
  serverless?: true;
}

/** Ask the destination region to copy one snapshot from another region. */
export interface CopySnapshotInput {
  kind: ResourceKind;
  /** ARN of the source snapshot; its region is where the copy comes from. */
  sourceArn: string;
  targetId: string;
  /** Key in the destination region; KMS keys are regional. */
  kmsKeyId?: string;
  /** Whether the source is encrypted (an unencrypted cluster snapshot must not get a KmsKeyId). */
  encrypted?: boolean;
  tags: Tags;
  /** For an EBS snapshot set: the source's volume snapshots, each copied on its own. */
  parts?: EbsPart[];
}
