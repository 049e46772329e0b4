import {
  type DBInstance,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  paginateDescribeDBClusters,
  paginateDescribeDBInstances,
} from '@aws-sdk/client-rds';
import { auroraMemberIds, auroraWriterId, DRILL_PREFIX } from '../drill/ids.js';
import { DrillCopyBusyError, type DrillResource, type TargetRef } from '../drill/ports.js';
import { errorMessage, errorName, GuardRefusedError } from '../errors.js';
import { Tag, tagRecord, type Tags } from '../tags.js';
import { attempt } from './call.js';
import { collectPages, PAGE } from './pages.js';
import { iso, type RdsDrillContext, type RdsDrillLookup } from './rds-drill-lookup.js';
import { INSTANCES_TAG } from './rds-drill-restore.js';

/**
 * Removing restored copies and finding leftovers. Deletes only what carries `steward:drill` and a drill
 * id, without a final snapshot; Aurora instances go first (RDS refuses a cluster that still has some).
 */
export const rdsDrillCleanup = ({ region, rds }: RdsDrillContext, lookup: RdsDrillLookup) => {
  // RDS deletes no copy it is still creating: the drill's Cleanup retries this error by name until it can.
  const busy = (what: string, cause: unknown) =>
    new DrillCopyBusyError(
      `RDS does not delete ${what} yet (${errorName(cause)}: ${errorMessage(cause)}): retried until it can, else the janitor deletes it`,
    );
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
    const r = await attempt(
      'DeleteDBInstance',
      `drill instance ${id} in ${region}`,
      () =>
        rds.send(
          new DeleteDBInstanceCommand(
            aurora
              ? { DBInstanceIdentifier: id }
              : { DBInstanceIdentifier: id, SkipFinalSnapshot: true, DeleteAutomatedBackups: true },
          ),
        ),
      { gone: ['DBInstanceNotFoundFault'], refused: ['InvalidDBInstanceStateFault'] },
    );
    if (!r.ok && r.answer === 'refused')
      throw busy(`drill instance ${id} in ${region} (${db.DBInstanceStatus ?? 'unknown'})`, r.cause);
    return r.ok ? 'deleted' : 'already-gone';
  };

  const removeCluster = async (t: TargetRef): Promise<'deleted' | 'already-gone'> => {
    const c = await lookup.findCluster(t.id);
    // A cluster that never got created cannot have instances either; nothing to do.
    if (!c) return 'already-gone';
    guard('DB cluster', t.id, tagRecord(c.TagList));
    // RDS refuses to delete a cluster with instances not yet `deleting`: instances first.
    const members = new Set((c.DBClusterMembers ?? []).map((m) => m.DBInstanceIdentifier ?? ''));
    members.add(t.instanceId ?? auroraWriterId(t.id));
    // Readers just created may not be listed as members yet.
    const instances = Number(tagRecord(c.TagList)[INSTANCES_TAG] ?? 1) || 1;
    for (const id of auroraMemberIds(t.id, instances)) members.add(id);
    for (const id of members) {
      if (!id) continue;
      const db = await lookup.findInstance(id);
      if (db) await deleteInstance(db, true);
    }
    if (c.Status === 'deleting') return 'deleted';
    const r = await attempt(
      'DeleteDBCluster',
      `drill cluster ${t.id} in ${region}`,
      () =>
        rds.send(
          new DeleteDBClusterCommand({
            DBClusterIdentifier: t.id,
            SkipFinalSnapshot: true,
            DeleteAutomatedBackups: true,
          }),
        ),
      { gone: ['DBClusterNotFoundFault'], refused: ['InvalidDBClusterStateFault'] },
    );
    if (!r.ok && r.answer === 'refused')
      throw busy(`drill cluster ${t.id} in ${region} (${c.Status ?? 'unknown'})`, r.cause);
    return r.ok ? 'deleted' : 'already-gone';
  };

  const remove = async (t: TargetRef): Promise<'deleted' | 'already-gone'> => {
    if (t.kind === 'aurora-cluster') return removeCluster(t);
    const db = await lookup.findInstance(t.id);
    if (!db) return 'already-gone';
    return deleteInstance(db, false);
  };

  const listDrillResources = async (): Promise<DrillResource[]> => {
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
  };

  return { remove, listDrillResources };
};
