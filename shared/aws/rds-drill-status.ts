import type { TargetRef, TargetStatus } from '../drill/ports.js';
import { auroraMemberIds, auroraWriterId } from '../drill/ids.js';
import { FANOUT, mapLimit } from '../pool.js';
import { tagRecord } from '../tags.js';
import { instanceShape, type RdsDrillContext, type RdsDrillLookup } from './rds-drill-lookup.js';
import {
  CLUSTER_ONLY_TAGS,
  INSTANCES_TAG,
  type RdsDrillRestore,
  WRITER_CLASS_TAG,
} from './rds-drill-restore.js';

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

/**
 * Watching a restore: ready means connectable. For Aurora the cluster AND all its instances (writer and
 * readers) must be available; RDS accepts instances only once the cluster is, so `describe` adds the
 * missing ones.
 */
export const rdsDrillStatus = (
  { classFor }: RdsDrillContext,
  lookup: RdsDrillLookup,
  restore: RdsDrillRestore,
) => {
  const describeInstance = async (id: string): Promise<TargetStatus> => {
    const db = await lookup.findInstance(id);
    if (!db) return { status: 'not-found', failed: true };
    const status = db.DBInstanceStatus ?? 'unknown';
    const host = db.Endpoint?.Address;
    const port = db.Endpoint?.Port;
    return {
      status,
      ...(host && port ? { endpoint: { host, port } } : {}),
      failed: FAILED.has(status),
      shape: instanceShape(db),
    };
  };

  const describeCluster = async (t: TargetRef): Promise<TargetStatus> => {
    const c = await lookup.findCluster(t.id);
    if (!c) return { status: 'not-found', failed: true };
    const clusterStatus = c.Status ?? 'unknown';
    if (FAILED.has(clusterStatus)) return { status: clusterStatus, failed: true };
    if (clusterStatus !== 'available') return { status: clusterStatus, failed: false };
    const tags = tagRecord(c.TagList);
    const instances = Math.max(1, Number(tags[INSTANCES_TAG] ?? 1) || 1);
    const writerId = t.instanceId ?? auroraWriterId(t.id);
    const ids = [writerId, ...auroraMemberIds(t.id, instances).slice(1)];
    const members = await mapLimit(ids, FANOUT, (id) => lookup.findInstance(id));
    if (members.some((m) => !m)) {
      await restore.createMembers(
        t.id,
        c.Engine ?? '',
        tags[WRITER_CLASS_TAG] ?? classFor('aurora-cluster'),
        instances,
        Object.fromEntries(Object.entries(tags).filter(([k]) => !CLUSTER_ONLY_TAGS.includes(k))),
        new Set(members.flatMap((m) => (m?.DBInstanceIdentifier ? [m.DBInstanceIdentifier] : []))),
      );
      return { status: 'creating-instance', failed: false };
    }
    const statuses = members.map((m) => m!.DBInstanceStatus ?? 'unknown');
    const failed = statuses.find((st) => FAILED.has(st));
    const status = failed ?? statuses.find((st) => st !== 'available') ?? 'available';
    const writer = members[0]!;
    // Connect through the cluster (writer) endpoint, as an application would after a recovery.
    const host = c.Endpoint;
    const port = c.Port;
    return {
      status,
      ...(status === 'available' && host && port ? { endpoint: { host, port } } : {}),
      failed: failed !== undefined,
      shape: {
        ...(writer.DBInstanceClass ? { instanceClass: writer.DBInstanceClass } : {}),
        instances: members.length,
        storageType: c.StorageType ?? 'aurora',
      },
    };
  };

  const describe = (t: TargetRef): Promise<TargetStatus> =>
    t.kind === 'aurora-cluster' ? describeCluster(t) : describeInstance(t.id);

  return { describe };
};
