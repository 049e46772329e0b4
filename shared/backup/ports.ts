import type { ElastiCacheBackup } from '../aws/elasticache.js';
import type { RdsBackup } from '../aws/rds.js';
import type { CopySnapshotInput, CreateSnapshotInput, Database, Quota, ResourceKind } from '../model.js';

/** Port: databases, quota and snapshot creation in the primary region. */
export interface BackupPort {
  readonly region: string;
  /** Databases of the given kinds, as plain data. */
  listDatabases(kinds: readonly ResourceKind[]): Promise<Database[]>;
  /** Manual snapshot quotas (`ManualSnapshots`, `ManualClusterSnapshots`). */
  quotas(): Promise<Quota[]>;
  /** Take one snapshot; our deterministic id already existing counts as done. */
  createSnapshot(input: CreateSnapshotInput): Promise<'created' | 'already-done'>;
}

/** Port: cross-region copies into this (DR) region. */
export interface CopyPort {
  readonly region: string;
  /** Start one copy; a copy with the target id already existing counts as done. */
  copySnapshot(input: CopySnapshotInput): Promise<'started' | 'already-done'>;
}

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
