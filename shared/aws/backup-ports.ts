import type { BackupPort, CopyPort } from '../backup/ports.js';
import type { ElastiCacheBackup } from './elasticache.js';
import type { RdsBackup } from './rds.js';

/** BackupPort over the RDS and ElastiCache adapters of one region. */
export const awsBackupPort = (rds: RdsBackup, cache: ElastiCacheBackup): BackupPort => ({
  region: rds.region,
  listDatabases: async (kinds) => {
    const want = new Set(kinds);
    const lists = await Promise.all([
      want.has('rds-instance') ? rds.listInstances() : [],
      want.has('aurora-cluster') ? rds.listClusters() : [],
      want.has('elasticache') ? cache.listReplicationGroups() : [],
    ]);
    return lists.flat();
  },
  quotas: () => rds.quotas(),
  createSnapshot: (input) =>
    input.kind === 'elasticache' ? cache.createSnapshot(input) : rds.createSnapshot(input),
});

/** CopyPort over the DR region's RDS adapter. */
export const awsCopyPort = (rds: RdsBackup): CopyPort => ({
  region: rds.region,
  copySnapshot: (input) => rds.copySnapshot(input),
});
