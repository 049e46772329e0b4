import type { TargetRef, TargetStatus } from '../drill/ports.js';
import { auroraWriterId } from '../drill/ids.js';
import { tagRecord } from '../tags.js';
import type { RdsDrillContext, RdsDrillLookup } from './rds-drill-lookup.js';
import { type RdsDrillRestore, WRITER_CLASS_TAG } from './rds-drill-restore.js';

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
 * Watching a restore: ready means connectable. For Aurora the cluster AND its writer must be available;
 * RDS accepts the writer only once the cluster is, so `describe` adds it when it finds it missing.
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
    };
  };

  const describeCluster = async (t: TargetRef): Promise<TargetStatus> => {
    const c = await lookup.findCluster(t.id);
    if (!c) return { status: 'not-found', failed: true };
    const clusterStatus = c.Status ?? 'unknown';
    if (FAILED.has(clusterStatus)) return { status: clusterStatus, failed: true };
    if (clusterStatus !== 'available') return { status: clusterStatus, failed: false };
    const writerId = t.instanceId ?? auroraWriterId(t.id);
    const writer = await lookup.findInstance(writerId);
    if (!writer) {
      const tags = tagRecord(c.TagList);
      await restore.createWriter(
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

  const describe = (t: TargetRef): Promise<TargetStatus> =>
    t.kind === 'aurora-cluster' ? describeCluster(t) : describeInstance(t.id);

  return { describe };
};
