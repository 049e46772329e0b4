import type { BackupPort, CopyPort, SnapshotReader } from '../backup/ports.js';
import type { EbsBackup } from './ebs.js';
import type { ElastiCacheBackup } from './elasticache.js';
import type { RdsBackup } from './rds.js';

/** BackupPort over the RDS, ElastiCache and (when given) EBS adapters of one region. */
export const awsBackupPort = (rds: RdsBackup, cache: ElastiCacheBackup, ebs?: EbsBackup): BackupPort => ({
  region: rds.region,
  listDatabases: async (kinds) => {
    const want = new Set(kinds);
    const lists = await Promise.all([
      want.has('rds-instance') ? rds.listInstances() : [],
      want.has('aurora-cluster') ? rds.listClusters() : [],
      want.has('elasticache') ? cache.listCaches() : [],
      want.has('ebs') && ebs ? ebs.listTargets() : [],
    ]);
    return lists.flat();
  },
  quotas: () => rds.quotas(),
  createSnapshot: (input, around, checked) => {
    if (input.kind === 'ebs') {
      if (!ebs) throw new TypeError('EBS is not wired in this backup port');
      return ebs.createSnapshot(input, around, checked);
    }
    return input.kind === 'elasticache' ? cache.createSnapshot(input) : rds.createSnapshot(input);
  },
  ...(ebs ? { takenSets: (ids: readonly string[]) => ebs.takenSets(ids) } : {}),
});

/** CopyPort over the DR region's RDS and (when given) EBS adapters. */
export const awsCopyPort = (rds: RdsBackup, ebs?: EbsBackup): CopyPort => ({
  region: rds.region,
  copySnapshot: (input) => {
    if (input.kind !== 'ebs') return rds.copySnapshot(input);
    if (!ebs) throw new TypeError('EBS is not wired in this copy port');
    return ebs.copySnapshot(input);
  },
  quotas: () => rds.quotas(),
});

/** SnapshotReader over one region's RDS reader and (when given) its EBS adapter's set reads. */
export const awsSnapshotReader = (rds: SnapshotReader, ebs?: EbsBackup): SnapshotReader =>
  ebs
    ? {
        region: rds.region,
        ofDatabase: (kind, db) =>
          kind === 'ebs' ? ebs.reader.ofDatabase(kind, db) : rds.ofDatabase(kind, db),
        get: (kind, id) => (kind === 'ebs' ? ebs.reader.get(kind, id) : rds.get(kind, id)),
        some: (kind, ids) => (kind === 'ebs' ? ebs.reader.some(kind, ids) : rds.some(kind, ids)),
      }
    : rds;
