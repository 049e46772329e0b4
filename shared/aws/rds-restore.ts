import {
  CreateDBInstanceCommand,
  type DBCluster,
  type DBInstance,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  paginateDescribeDBClusters,
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBInstances,
  paginateDescribeDBSnapshots,
  type RDSClient,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBClusterToPointInTimeCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import { AwsCallError, errorName, GuardRefusedError, StewardError } from '../errors.js';
import { auroraWriterId, DRILL_PREFIX } from '../drill/ids.js';
import type {
  DrillKind,
  DrillResource,
  RestoredTarget,
  RestorePort,
  RestoreRequest,
  TargetRef,
  TargetStatus,
} from '../drill/ports.js';
import { Tag, tagList, tagRecord, type Tags } from '../tags.js';
import { collectPages, PAGE } from './pages.js';
import { fromClusterSnapshot, fromDbSnapshot } from './snapshots.js';

/** Smallest class each kind allows for common engines; `drill.targets.<db>.instanceClass` overrides. */
export const DEFAULT_DRILL_CLASS: Record<DrillKind, string> = {
  'rds-instance': 'db.t4g.micro',
  // Aurora MySQL 3 and Aurora PostgreSQL start at db.t4g.medium.
  'aurora-cluster': 'db.t4g.medium',
};

/** On a drill's Aurora cluster: the class of the writer to add once the cluster is available. */
export const WRITER_CLASS_TAG = 'steward:drill-instance-class';

/** The snapshot a drill picked was deleted before the restore started (retention, or by hand). */
export class SnapshotGoneError extends StewardError {
  override name = 'SnapshotGoneError';
}

const SNAPSHOT_GONE = new Set(['DBSnapshotNotFoundFault', 'DBClusterSnapshotNotFoundFault']);
const INSTANCE_GONE = new Set(['DBInstanceNotFoundFault']);
const CLUSTER_GONE = new Set(['DBClusterNotFoundFault']);
const EXISTS = new Set(['DBInstanceAlreadyExistsFault', 'DBClusterAlreadyExistsFault']);

/** Statuses from which a restore never becomes available. */
const FAILED = new Set([
  'failed',
  'incompatible-restore',
  'incompatible-network',
  'incompatible-parameters',
  'incompatible-option-group',
  'incompatible-credentials',
  'inaccessible-encryption-credentials',
  'inaccessible-encryption-credentials-recoverable',
  'insufficient-capacity',
  'restore-error',
  'storage-full',
  'migration-failed',
  'deleting',
  'deleted',
  'not-found',
]);

const iso = (d: Date | undefined) => d?.toISOString();

export interface RdsRestoreOptions {
  defaultInstanceClass?: Partial<Record<DrillKind, string>>;
}

/**
 * RestorePort over the RDS API of one region. Restored copies are private, single-AZ, unprotected,
 * without automated backups, tagged `steward:drill`. For Aurora, RDS creates no instance with the
 * cluster and accepts `CreateDBInstance` only once the cluster is available: `restore` tries at once,
 * and `describe` adds the writer when it finds the cluster available without one.
 */
export const rdsRestorePort = (region: string, rds: RDSClient, opts: RdsRestoreOptions = {}): RestorePort => {
  const classFor = (kind: DrillKind, wanted?: string) =>
    wanted ?? opts.defaultInstanceClass?.[kind] ?? DEFAULT_DRILL_CLASS[kind];

  const call = async <T>(op: string, resource: string, send: () => Promise<T>): Promise<T> => {
    try {
      return await send();
    } catch (e) {
      throw new AwsCallError(op, `${resource} in ${region}`, e);
    }
  };

  /** The instance, or undefined when it does not exist. */
  const findInstance = async (id: string): Promise<DBInstance | undefined> => {
    try {
      const r = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
      return r.DBInstances?.[0];
    } catch (e) {
      if (INSTANCE_GONE.has(errorName(e))) return undefined;
      throw new AwsCallError('DescribeDBInstances', `DB instance ${id} in ${region}`, e);
    }
  };

  const findCluster = async (id: string): Promise<DBCluster | undefined> => {
    try {
      const r = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }));
      return r.DBClusters?.[0];
    } catch (e) {
      if (CLUSTER_GONE.has(errorName(e))) return undefined;
      throw new AwsCallError('DescribeDBClusters', `DB cluster ${id} in ${region}`, e);
    }
  };

  /** An existing resource with our id must be this drill's: otherwise it is not ours to reuse. */
  const assertSameDrill = (what: string, tags: Tags, want: Tags) => {
    if (tags[Tag.drill] !== want[Tag.drill]) {
      throw new GuardRefusedError(
        `${what} already exists but is tagged ${Tag.drill}=${tags[Tag.drill] ?? '(none)'}, not ${want[Tag.drill]}: refusing to use it for this drill`,
      );
    }
  };

  const instanceGoneOr = (req: RestoreRequest, op: string, e: unknown): Error => {
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
      Tags: tagList(req.tags),
    };
    const pitr = req.source.pointInTime;
    const op = pitr ? 'RestoreDBInstanceToPointInTime' : 'RestoreDBInstanceFromDBSnapshot';
    try {
      await (pitr
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
          ));
      return { kind: 'rds-instance', id: req.targetId, status: 'creating' };
    } catch (e) {
      if (!EXISTS.has(errorName(e))) throw instanceGoneOr(req, op, e);
      // A retried restore: ours already exists.
      const db = await findInstance(req.targetId);
      if (!db) throw instanceGoneOr(req, op, e);
      assertSameDrill(`DB instance ${req.targetId}`, tagRecord(db.TagList), req.tags);
      return { kind: 'rds-instance', id: req.targetId, status: db.DBInstanceStatus ?? 'unknown' };
    }
  };

  /** Add the writer instance to a drill cluster; `deferred` while the cluster is not available yet. */
  const createWriter = async (
    clusterId: string,
    engine: string,
    instanceClass: string,
    tags: Tags,
  ): Promise<'created' | 'exists' | 'deferred'> => {
    const id = auroraWriterId(clusterId);
    try {
      await rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: id,
          DBClusterIdentifier: clusterId,
          DBInstanceClass: instanceClass,
          Engine: engine,
          PubliclyAccessible: false,
          AutoMinorVersionUpgrade: false,
          Tags: tagList(tags),
        }),
      );
      return 'created';
    } catch (e) {
      if (errorName(e) === 'DBInstanceAlreadyExistsFault') return 'exists';
      // RDS accepts CreateDBInstance only once the restored cluster is available; describe retries.
      if (errorName(e) === 'InvalidDBClusterStateFault') return 'deferred';
      throw new AwsCallError(
        'CreateDBInstance',
        `writer ${id} of drill cluster ${clusterId} in ${region}`,
        e,
      );
    }
  };

  const restoreCluster = async (req: RestoreRequest): Promise<RestoredTarget> => {
    const instanceClass = classFor('aurora-cluster', req.instanceClass);
    const tags = { ...req.tags, [WRITER_CLASS_TAG]: instanceClass };
    const common = {
      DBClusterIdentifier: req.targetId,
      DBSubnetGroupName: req.network.dbSubnetGroupName,
      VpcSecurityGroupIds: req.network.securityGroupIds?.length ? req.network.securityGroupIds : undefined,
      DeletionProtection: false,
      CopyTagsToSnapshot: false,
      Tags: tagList(tags),
    };
    const pitr = req.source.pointInTime;
    const op = pitr ? 'RestoreDBClusterToPointInTime' : 'RestoreDBClusterFromSnapshot';
    let cluster: DBCluster | undefined;
    try {
      if (pitr) {
        const r = await rds.send(
          new RestoreDBClusterToPointInTimeCommand({
            SourceDBClusterIdentifier: req.sourceDbId,
            RestoreToTime: new Date(pitr),
            ...common,
          }),
        );
        cluster = r.DBCluster;
      } else {
        const snapshotId = req.source.snapshotId!;
        // Engine is required, and without EngineVersion RDS picks the region's default version.
        const snap = await call('DescribeDBClusterSnapshots', `cluster snapshot ${snapshotId}`, () =>
          rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: snapshotId })),
        ).catch((e: AwsCallError) => {
          throw SNAPSHOT_GONE.has(e.code) ? instanceGoneOr(req, op, e.cause) : e;
        });
        const s = snap.DBClusterSnapshots?.[0];
        const r = await rds.send(
          new RestoreDBClusterFromSnapshotCommand({
            SnapshotIdentifier: snapshotId,
            Engine: s?.Engine,
            EngineVersion: s?.EngineVersion,
            ...common,
          }),
        );
        cluster = r.DBCluster;
      }
    } catch (e) {
      if (e instanceof StewardError) throw e;
      if (!EXISTS.has(errorName(e))) throw instanceGoneOr(req, op, e);
      cluster = await findCluster(req.targetId);
      if (!cluster) throw instanceGoneOr(req, op, e);
      assertSameDrill(`DB cluster ${req.targetId}`, tagRecord(cluster.TagList), req.tags);
    }
    const engine = cluster?.Engine ?? (await findCluster(req.targetId))?.Engine;
    if (!engine) {
      throw new StewardError(
        `drill cluster ${req.targetId} in ${region} reports no engine: cannot add its writer`,
      );
    }
    await createWriter(req.targetId, engine, instanceClass, req.tags);
    return {
      kind: 'aurora-cluster',
      id: req.targetId,
      instanceId: auroraWriterId(req.targetId),
      status: cluster?.Status ?? 'creating',
    };
  };

  const describeInstance = async (id: string): Promise<TargetStatus> => {
    const db = await findInstance(id);
    if (!db) return { status: 'not-found', failed: true };
    const status = db.DBInstanceStatus ?? 'unknown';
    const host = db.Endpoint?.Address;
    const port = db.Endpoint?.Port;
    return {
      status,
      ...(host && port ? { endpoint: { host, port } } : {}),
      failed: FAILED.has(status),
    };
  };

  const describeCluster = async (t: TargetRef): Promise<TargetStatus> => {
    const c = await findCluster(t.id);
    if (!c) return { status: 'not-found', failed: true };
    const clusterStatus = c.Status ?? 'unknown';
    if (FAILED.has(clusterStatus)) return { status: clusterStatus, failed: true };
    if (clusterStatus !== 'available') return { status: clusterStatus, failed: false };
    const writerId = t.instanceId ?? auroraWriterId(t.id);
    const writer = await findInstance(writerId);
    if (!writer) {
      const tags = tagRecord(c.TagList);
      await createWriter(
        t.id,
        c.Engine ?? '',
        tags[WRITER_CLASS_TAG] ?? classFor('aurora-cluster'),
        Object.fromEntries(Object.entries(tags).filter(([k]) => k !== WRITER_CLASS_TAG)),
      );
      return { status: 'creating-instance', failed: false };
    }
    const status = writer.DBInstanceStatus ?? 'unknown';
    // Connect through the cluster (writer) endpoint, as an application would after a recovery.
    const host = c.Endpoint;
    const port = c.Port;
    return {
      status,
      ...(status === 'available' && host && port ? { endpoint: { host, port } } : {}),
      failed: FAILED.has(status),
    };
  };

  const guard = (what: string, id: string, tags: Tags) => {
    if (!tags[Tag.drill] || !id.startsWith(DRILL_PREFIX)) {
      throw new GuardRefusedError(
        `refusing to delete ${what} ${id} in ${region}: it has no ${Tag.drill} tag (or not a drill id), so a drill did not create it`,
      );
    }
  };

  const deleteInstance = async (db: DBInstance, aurora: boolean): Promise<'deleted' | 'already-gone'> => {
    const id = db.DBInstanceIdentifier ?? '';
    guard('DB instance', id, tagRecord(db.TagList));
    if (db.DBInstanceStatus === 'deleting') return 'deleted';
    try {
      await rds.send(
        new DeleteDBInstanceCommand(
          aurora
            ? { DBInstanceIdentifier: id }
            : { DBInstanceIdentifier: id, SkipFinalSnapshot: true, DeleteAutomatedBackups: true },
        ),
      );
      return 'deleted';
    } catch (e) {
      if (INSTANCE_GONE.has(errorName(e))) return 'already-gone';
      throw new AwsCallError('DeleteDBInstance', `drill instance ${id} in ${region}`, e);
    }
  };

  const removeCluster = async (t: TargetRef): Promise<'deleted' | 'already-gone'> => {
    const c = await findCluster(t.id);
    if (!c) {
      // A cluster that never got created can still not have an instance; nothing to do.
      return 'already-gone';
    }
    guard('DB cluster', t.id, tagRecord(c.TagList));
    // RDS refuses to delete a cluster with instances not yet `deleting`: instances first.
    const members = new Set((c.DBClusterMembers ?? []).map((m) => m.DBInstanceIdentifier ?? ''));
    members.add(t.instanceId ?? auroraWriterId(t.id));
    for (const id of members) {
      if (!id) continue;
      const db = await findInstance(id);
      if (db) await deleteInstance(db, true);
    }
    if (c.Status === 'deleting') return 'deleted';
    try {
      await rds.send(
        new DeleteDBClusterCommand({
          DBClusterIdentifier: t.id,
          SkipFinalSnapshot: true,
          DeleteAutomatedBackups: true,
        }),
      );
      return 'deleted';
    } catch (e) {
      if (CLUSTER_GONE.has(errorName(e))) return 'already-gone';
      throw new AwsCallError('DeleteDBCluster', `drill cluster ${t.id} in ${region}`, e);
    }
  };

  return {
    region,

    // Without SnapshotType, RDS lists manual and automated snapshots alike: a drill may restore either.
    listSnapshots: (kind, dbId) =>
      kind === 'rds-instance'
        ? collectPages(
            paginateDescribeDBSnapshots({ client: rds, ...PAGE }, { DBInstanceIdentifier: dbId }),
            (p) => p.DBSnapshots,
            (s) => fromDbSnapshot(s, region),
            'DescribeDBSnapshots',
            `snapshots of ${dbId} in ${region}`,
          )
        : collectPages(
            paginateDescribeDBClusterSnapshots({ client: rds, ...PAGE }, { DBClusterIdentifier: dbId }),
            (p) => p.DBClusterSnapshots,
            (s) => fromClusterSnapshot(s, region),
            'DescribeDBClusterSnapshots',
            `snapshots of ${dbId} in ${region}`,
          ),

    restorableWindow: async (kind, dbId) => {
      if (kind === 'aurora-cluster') {
        const c = await findCluster(dbId);
        const earliest = iso(c?.EarliestRestorableTime);
        const latest = iso(c?.LatestRestorableTime);
        return earliest && latest ? { earliest, latest } : undefined;
      }
      let r;
      try {
        r = await rds.send(new DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: dbId }));
      } catch (e) {
        if (errorName(e) === 'DBInstanceAutomatedBackupNotFoundFault') return undefined;
        throw new AwsCallError('DescribeDBInstanceAutomatedBackups', `${dbId} in ${region}`, e);
      }
      const backups = r.DBInstanceAutomatedBackups ?? [];
      const b = backups.find((x) => x.Status === 'active') ?? backups[0];
      const earliest = iso(b?.RestoreWindow?.EarliestTime);
      const latest = iso(b?.RestoreWindow?.LatestTime);
      return earliest && latest ? { earliest, latest } : undefined;
    },

    restore: (req) => (req.kind === 'aurora-cluster' ? restoreCluster(req) : restoreInstance(req)),

    describe: (t) => (t.kind === 'aurora-cluster' ? describeCluster(t) : describeInstance(t.id)),

    remove: async (t) => {
      if (t.kind === 'aurora-cluster') return removeCluster(t);
      const db = await findInstance(t.id);
      if (!db) return 'already-gone';
      return deleteInstance(db, false);
    },

    listDrillResources: async () => {
      const [instances, clusters] = await Promise.all([
        collectPages(
          paginateDescribeDBInstances({ client: rds, ...PAGE }, {}),
          (p) => p.DBInstances,
          (db): DrillResource | undefined => {
            const drillId = tagRecord(db.TagList)[Tag.drill];
            // Aurora members go with their cluster.
            if (!drillId || db.DBClusterIdentifier) return undefined;
            return {
              kind: 'rds-instance',
              id: db.DBInstanceIdentifier ?? '',
              drillId,
              createdAt: iso(db.InstanceCreateTime),
              status: db.DBInstanceStatus,
            };
          },
          'DescribeDBInstances',
          `drill instances in ${region}`,
        ),
        collectPages(
          paginateDescribeDBClusters({ client: rds, ...PAGE }, {}),
          (p) => p.DBClusters,
          (c): DrillResource | undefined => {
            const drillId = tagRecord(c.TagList)[Tag.drill];
            if (!drillId) return undefined;
            return {
              kind: 'aurora-cluster',
              id: c.DBClusterIdentifier ?? '',
              drillId,
              createdAt: iso(c.ClusterCreateTime),
              status: c.Status,
            };
          },
          'DescribeDBClusters',
          `drill clusters in ${region}`,
        ),
      ]);
      return [...instances, ...clusters];
    },

    masterSecretArn: async (kind, dbId) => {
      if (kind === 'aurora-cluster') {
        const c = await findCluster(dbId);
        if (!c) throw new StewardError(`DB cluster ${dbId} not found in ${region}`);
        return c.MasterUserSecret?.SecretArn;
      }
      const db = await findInstance(dbId);
      if (!db) throw new StewardError(`DB instance ${dbId} not found in ${region}`);
      return db.MasterUserSecret?.SecretArn;
    },
  };
};
