import {
  DescribeDBInstanceAutomatedBackupsCommand,
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBSnapshots,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { DBInstance } from '@aws-sdk/client-rds';
import type { DrillKind, RestorePort } from '../drill/ports.js';
import type { SourceShape } from '../drill/shape.js';
import { StewardError } from '../errors.js';
import { attempt } from './call.js';
import { collectPages, PAGE } from './pages.js';
import { findDbCluster, findDbInstance } from './rds-describe.js';
import { fromClusterSnapshot, fromDbSnapshot } from './snapshots.js';
import { tiedTo } from '../drill/pick.js';

const GONE =
  'a drill restores the backups of a live database; snapshots left under its name may be of an earlier one';

/** What every part of the RDS restore adapter shares: one region's client and the class defaults. */
export interface RdsDrillContext {
  region: string;
  rds: RDSClient;
  /** The instance class of a restored copy: the request's, else the configured default, else the smallest. */
  classFor(kind: DrillKind, wanted?: string): string;
}

export const iso = (d: Date | undefined): string | undefined => d?.toISOString();

/** Class and storage of one DB instance, as plain data. */
export const instanceShape = (db: DBInstance): SourceShape => ({
  ...(db.DBInstanceClass ? { instanceClass: db.DBInstanceClass } : {}),
  instances: 1,
  ...(db.StorageType ? { storageType: db.StorageType } : {}),
  ...(db.AllocatedStorage !== undefined ? { allocatedGb: db.AllocatedStorage } : {}),
  ...(db.Iops !== undefined ? { iops: db.Iops } : {}),
  ...(db.StorageThroughput !== undefined ? { storageThroughputMiBps: db.StorageThroughput } : {}),
});

/** Reading one region's databases and snapshots for drills; nothing here changes anything. */
export const rdsDrillLookup = ({ region, rds }: RdsDrillContext) => {
  const findInstance = (id: string) => findDbInstance(rds, region, id);
  const findCluster = (id: string) => findDbCluster(rds, region, id);

  /** The live source, or a refusal naming it: a drill proves the backups of a database that exists. */
  const liveInstance = async (dbId: string) => {
    const db = await findInstance(dbId);
    if (!db) throw new StewardError(`DB instance ${dbId} not found in ${region}: ${GONE}`);
    return db;
  };
  const liveCluster = async (dbId: string) => {
    const c = await findCluster(dbId);
    if (!c) throw new StewardError(`DB cluster ${dbId} not found in ${region}: ${GONE}`);
    return c;
  };
  /**
   * Listing by identifier also returns the snapshots of an earlier database deleted and re-created under the
   * same name (manual snapshots outlive it): only the live source's backups count (tiedTo).
   */
  const ofSource = tiedTo;

  // Without SnapshotType, RDS lists manual and automated snapshots alike: a drill may restore either.
  const listSnapshots: RestorePort['listSnapshots'] = async (kind, dbId) => {
    if (kind === 'rds-instance') {
      const db = await liveInstance(dbId);
      const live = { id: db.DbiResourceId, createdAt: db.InstanceCreateTime };
      return collectPages(
        paginateDescribeDBSnapshots({ client: rds, ...PAGE }, { DBInstanceIdentifier: dbId }),
        (p) => p.DBSnapshots,
        (s) =>
          ofSource(live, {
            id: s.DbiResourceId,
            sourceCreatedAt: s.InstanceCreateTime,
            at: s.SnapshotCreateTime,
          })
            ? fromDbSnapshot(s, region)
            : undefined,
        'DescribeDBSnapshots',
        `snapshots of ${dbId} in ${region}`,
      );
    }
    const c = await liveCluster(dbId);
    const live = { id: c.DbClusterResourceId, createdAt: c.ClusterCreateTime };
    return collectPages(
      paginateDescribeDBClusterSnapshots({ client: rds, ...PAGE }, { DBClusterIdentifier: dbId }),
      (p) => p.DBClusterSnapshots,
      (s) =>
        ofSource(live, {
          id: s.DbClusterResourceId,
          sourceCreatedAt: s.ClusterCreateTime,
          at: s.SnapshotCreateTime,
        })
          ? fromClusterSnapshot(s, region)
          : undefined,
      'DescribeDBClusterSnapshots',
      `snapshots of ${dbId} in ${region}`,
    );
  };

  const restorableWindow: RestorePort['restorableWindow'] = async (kind, dbId) => {
    if (kind === 'aurora-cluster') {
      const c = await liveCluster(dbId);
      const earliest = iso(c.EarliestRestorableTime);
      const latest = iso(c.LatestRestorableTime);
      return earliest && latest ? { earliest, latest } : undefined;
    }
    const db = await liveInstance(dbId);
    const live = { id: db.DbiResourceId, createdAt: db.InstanceCreateTime };
    const r = await attempt(
      'DescribeDBInstanceAutomatedBackups',
      `${dbId} in ${region}`,
      () => rds.send(new DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: dbId })),
      { gone: ['DBInstanceAutomatedBackupNotFoundFault'] },
    );
    // Retained backups of a deleted database of the same name are listed too: only the live one's window.
    const backups = (r.ok ? (r.value.DBInstanceAutomatedBackups ?? []) : []).filter((x) =>
      ofSource(live, { id: x.DbiResourceId, sourceCreatedAt: x.InstanceCreateTime }),
    );
    const b = backups.find((x) => x.Status === 'active') ?? backups[0];
    const earliest = iso(b?.RestoreWindow?.EarliestTime);
    const latest = iso(b?.RestoreWindow?.LatestTime);
    return earliest && latest ? { earliest, latest } : undefined;
  };

  const masterSecretArn: RestorePort['masterSecretArn'] = async (kind, dbId) => {
    if (kind === 'aurora-cluster') {
      const c = await findCluster(dbId);
      if (!c) throw new StewardError(`DB cluster ${dbId} not found in ${region}`);
      return c.MasterUserSecret?.SecretArn;
    }
    const db = await findInstance(dbId);
    if (!db) throw new StewardError(`DB instance ${dbId} not found in ${region}`);
    return db.MasterUserSecret?.SecretArn;
  };

  /** The source's class (an Aurora cluster's: its writer's), instance count and storage. */
  const sourceShape: RestorePort['sourceShape'] = async (kind, dbId) => {
    if (kind === 'rds-instance') {
      const db = await findInstance(dbId);
      return db ? instanceShape(db) : undefined;
    }
    const c = await findCluster(dbId);
    if (!c) return undefined;
    const members = c.DBClusterMembers ?? [];
    const writerId = (members.find((m) => m.IsClusterWriter) ?? members[0])?.DBInstanceIdentifier;
    const writer = writerId ? await findInstance(writerId) : undefined;
    return {
      ...(writer?.DBInstanceClass ? { instanceClass: writer.DBInstanceClass } : {}),
      instances: Math.max(1, members.length),
      // Aurora storage grows with the data; DescribeDBClusters' AllocatedStorage is always 1.
      storageType: c.StorageType ?? 'aurora',
    };
  };

  return { findInstance, findCluster, listSnapshots, restorableWindow, masterSecretArn, sourceShape };
};

export type RdsDrillLookup = ReturnType<typeof rdsDrillLookup>;
