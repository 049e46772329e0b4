import {
  CreateDBInstanceCommand,
  type DBCluster,
  DescribeDBClusterSnapshotsCommand,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBClusterToPointInTimeCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import { auroraMemberIds, auroraWriterId } from '../drill/ids.js';
import { type RestoredTarget, type RestoreRequest, SnapshotGoneError } from '../drill/ports.js';
import { AwsCallError, errorName, GuardRefusedError, StewardError } from '../errors.js';
import { Tag, tagList, tagRecord, type Tags } from '../tags.js';
import { attempt } from './call.js';
import type { RdsDrillContext, RdsDrillLookup } from './rds-drill-lookup.js';

/** On a drill's Aurora cluster: the class of the writer to add once the cluster is available. */
export const WRITER_CLASS_TAG = 'steward:drill-instance-class';
/** On a drill's Aurora cluster: how many instances (writer plus readers) it gets. */
export const INSTANCES_TAG = 'steward:drill-instances';
/** Tags steward keeps on a drill cluster for itself, not copied onto its instances. */
export const CLUSTER_ONLY_TAGS = [WRITER_CLASS_TAG, INSTANCES_TAG];

const SNAPSHOT_GONE = new Set(['DBSnapshotNotFoundFault', 'DBClusterSnapshotNotFoundFault']);
const EXISTS = ['DBInstanceAlreadyExistsFault', 'DBClusterAlreadyExistsFault'];

/**
 * Starting restores: a private, single-AZ, unprotected copy without automated backups, tagged
 * `steward:drill`. Restoring the same target id again returns the copy this drill already made.
 */
export const rdsDrillRestore = (ctx: RdsDrillContext, lookup: RdsDrillLookup) => {
  const { region, rds, classFor } = ctx;

  /** An existing resource with our id must be this drill's: otherwise it is not ours to reuse. */
  const assertSameDrill = (what: string, tags: Tags, want: Tags) => {
    if (tags[Tag.drill] !== want[Tag.drill]) {
      throw new GuardRefusedError(
        `${what} already exists but is tagged ${Tag.drill}=${tags[Tag.drill] ?? '(none)'}, not ${want[Tag.drill]}: refusing to use it for this drill`,
      );
    }
  };

  /** The snapshot vanished (SnapshotGoneError, so the drill can say so), or any other failure of `op`. */
  const failure = (req: RestoreRequest, op: string, e: unknown): Error => {
    const id = req.source.snapshotId;
    if (SNAPSHOT_GONE.has(errorName(e)) && id) {
      return new SnapshotGoneError(
        `snapshot ${id} of ${req.sourceDbId} no longer exists in ${region} (deleted after the drill selected it?): ${op} could not restore ${req.targetId}`,
        { cause: e },
      );
    }
    const from = id ? `snapshot ${id}` : `${req.sourceDbId} at ${req.source.pointInTime}`;
    return new AwsCallError(op, `drill target ${req.targetId} from ${from} in ${region}`, e);
  };

  const restoreInstance = async (req: RestoreRequest): Promise<RestoredTarget> => {
    const common = {
      DBInstanceClass: classFor('rds-instance', req.instanceClass),
      DBSubnetGroupName: req.network.dbSubnetGroupName,
      VpcSecurityGroupIds: req.network.securityGroupIds?.length ? req.network.securityGroupIds : undefined,
      PubliclyAccessible: false,
      MultiAZ: false,
      DeletionProtection: false,
      CopyTagsToSnapshot: false,
      AutoMinorVersionUpgrade: false,
      // No automated backups: the copy lives for minutes, and skipping the first backup makes it ready sooner.
      BackupRetentionPeriod: 0,
      // Absent: RDS restores the snapshot's (or the source's, for PITR) storage settings.
      StorageType: req.storageType,
      Iops: req.iops,
      StorageThroughput: req.storageThroughputMiBps,
      // The verifier logs in with a token (auth: iam); absent: the snapshot's setting.
      EnableIAMDatabaseAuthentication: req.iamAuth || undefined,
      Tags: tagList(req.tags),
    };
    const pitr = req.source.pointInTime;
    const op = pitr ? 'RestoreDBInstanceToPointInTime' : 'RestoreDBInstanceFromDBSnapshot';
    const r = await attempt(
      op,
      req.targetId,
      () =>
        pitr
          ? rds.send(
              new RestoreDBInstanceToPointInTimeCommand({
                SourceDBInstanceIdentifier: req.sourceDbId,
                TargetDBInstanceIdentifier: req.targetId,
                RestoreTime: new Date(pitr),
                ...common,
              }),
            )
          : rds.send(
              new RestoreDBInstanceFromDBSnapshotCommand({
                DBInstanceIdentifier: req.targetId,
                DBSnapshotIdentifier: req.source.snapshotId,
                ...common,
              }),
            ),
      { exists: EXISTS },
      (e) => failure(req, op, e),
    );
    if (r.ok) return { kind: 'rds-instance', id: req.targetId, status: 'creating' };
    // A retried restore: ours already exists.
    const db = await lookup.findInstance(req.targetId);
    if (!db) throw failure(req, op, r.cause);
    assertSameDrill(`DB instance ${req.targetId}`, tagRecord(db.TagList), req.tags);
    return { kind: 'rds-instance', id: req.targetId, status: db.DBInstanceStatus ?? 'unknown' };
  };

  /** Add one instance to a drill cluster; `deferred` while the cluster is not available yet. */
  const createMember = async (
    clusterId: string,
    id: string,
    engine: string,
    instanceClass: string,
    tags: Tags,
  ): Promise<'created' | 'exists' | 'deferred'> => {
    const r = await attempt(
      'CreateDBInstance',
      `${id === auroraWriterId(clusterId) ? 'writer' : 'reader'} ${id} of drill cluster ${clusterId} in ${region}`,
      () =>
        rds.send(
          new CreateDBInstanceCommand({
            DBInstanceIdentifier: id,
            DBClusterIdentifier: clusterId,
            DBInstanceClass: instanceClass,
            Engine: engine,
            PubliclyAccessible: false,
            AutoMinorVersionUpgrade: false,
            Tags: tagList(tags),
          }),
        ),
      // RDS accepts CreateDBInstance only once the restored cluster is available; describe retries.
      { exists: ['DBInstanceAlreadyExistsFault'], refused: ['InvalidDBClusterStateFault'] },
    );
    return r.ok ? 'created' : r.answer === 'exists' ? 'exists' : 'deferred';
  };

  /**
   * Add the instances of a drill cluster (the writer first, then readers) that `existing` lacks;
   * 'deferred' when RDS does not accept them yet.
   */
  const createMembers = async (
    clusterId: string,
    engine: string,
    instanceClass: string,
    instances: number,
    tags: Tags,
    existing: ReadonlySet<string> = new Set(),
  ): Promise<'created' | 'exists' | 'deferred'> => {
    let outcome: 'created' | 'exists' | 'deferred' = 'exists';
    for (const id of auroraMemberIds(clusterId, instances)) {
      if (existing.has(id)) continue;
      const r = await createMember(clusterId, id, engine, instanceClass, tags);
      if (r === 'deferred') return 'deferred';
      if (r === 'created') outcome = 'created';
    }
    return outcome;
  };

  /** Engine and version of a cluster snapshot: RestoreDBClusterFromSnapshot requires the engine. */
  const snapshotEngine = async (req: RestoreRequest, op: string, snapshotId: string) => {
    const r = await attempt(
      'DescribeDBClusterSnapshots',
      `cluster snapshot ${snapshotId} in ${region}`,
      () => rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: snapshotId })),
      {},
      (e) => (SNAPSHOT_GONE.has(errorName(e)) ? failure(req, op, e) : undefined),
    );
    const s = r.ok ? r.value.DBClusterSnapshots?.[0] : undefined;
    return { Engine: s?.Engine, EngineVersion: s?.EngineVersion };
  };

  const restoreCluster = async (req: RestoreRequest): Promise<RestoredTarget> => {
    const instanceClass = classFor('aurora-cluster', req.instanceClass);
    const instances = req.instances ?? 1;
    const tags = { ...req.tags, [WRITER_CLASS_TAG]: instanceClass, [INSTANCES_TAG]: String(instances) };
    const common = {
      DBClusterIdentifier: req.targetId,
      DBSubnetGroupName: req.network.dbSubnetGroupName,
      VpcSecurityGroupIds: req.network.securityGroupIds?.length ? req.network.securityGroupIds : undefined,
      DeletionProtection: false,
      CopyTagsToSnapshot: false,
      // aurora-iopt1 is I/O-Optimized; absent: the snapshot's.
      StorageType: req.storageType,
      // Cluster-wide: the writer and readers accept the verifier's token (auth: iam).
      EnableIAMDatabaseAuthentication: req.iamAuth || undefined,
      // A shared vault copy restores into a key of this account (RestoreDBClusterFromSnapshot KmsKeyId).
      KmsKeyId: req.kmsKeyId,
      Tags: tagList(tags),
    };
    const pitr = req.source.pointInTime;
    const op = pitr ? 'RestoreDBClusterToPointInTime' : 'RestoreDBClusterFromSnapshot';
    const snapshotId = req.source.snapshotId!;
    // Without EngineVersion RDS picks the region's default version.
    const engine = pitr
      ? undefined
      : req.engine?.engine
        ? { Engine: req.engine.engine, EngineVersion: req.engine.engineVersion }
        : await snapshotEngine(req, op, snapshotId);
    const r = await attempt(
      op,
      req.targetId,
      async (): Promise<DBCluster | undefined> =>
        pitr
          ? (
              await rds.send(
                new RestoreDBClusterToPointInTimeCommand({
                  SourceDBClusterIdentifier: req.sourceDbId,
                  RestoreToTime: new Date(pitr),
                  ...common,
                }),
              )
            ).DBCluster
          : (
              await rds.send(
                new RestoreDBClusterFromSnapshotCommand({
                  SnapshotIdentifier: snapshotId,
                  Engine: engine?.Engine,
                  EngineVersion: engine?.EngineVersion,
                  ...common,
                }),
              )
            ).DBCluster,
      { exists: EXISTS },
      (e) => failure(req, op, e),
    );
    let cluster = r.ok ? r.value : undefined;
    if (!r.ok) {
      cluster = await lookup.findCluster(req.targetId);
      if (!cluster) throw failure(req, op, r.cause);
      assertSameDrill(`DB cluster ${req.targetId}`, tagRecord(cluster.TagList), req.tags);
    }
    const clusterEngine = cluster?.Engine ?? (await lookup.findCluster(req.targetId))?.Engine;
    if (!clusterEngine) {
      throw new StewardError(
        `drill cluster ${req.targetId} in ${region} reports no engine: cannot add its writer`,
      );
    }
    await createMembers(req.targetId, clusterEngine, instanceClass, instances, req.tags);
    return {
      kind: 'aurora-cluster',
      id: req.targetId,
      instanceId: auroraWriterId(req.targetId),
      status: cluster?.Status ?? 'creating',
    };
  };

  const restore = (req: RestoreRequest): Promise<RestoredTarget> =>
    req.kind === 'aurora-cluster' ? restoreCluster(req) : restoreInstance(req);

  return { restore, createMembers };
};

export type RdsDrillRestore = ReturnType<typeof rdsDrillRestore>;
