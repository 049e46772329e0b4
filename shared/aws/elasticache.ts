import {
  CreateSnapshotCommand,
  type ElastiCacheClient,
  ListTagsForResourceCommand,
  paginateDescribeReplicationGroups,
} from '@aws-sdk/client-elasticache';
import type { CreateSnapshotInput, Database } from '../model.js';
import { FANOUT, mapLimit } from '../pool.js';
import { tagList, tagRecord } from '../tags.js';
import { attempt, call } from './call.js';
import { collectPages, PAGE } from './pages.js';
import { automated } from './rds.js';

/**
 * The replication groups of one region as plain data: what the status check and the evidence read. A
 * factory of its own (see `rdsDatabases`), so a bundle that only lists leaves CreateSnapshot out.
 */
export const elastiCacheGroups = (region: string, elasticache: ElastiCacheClient) => {
  const tagsOf = async (arn: string) =>
    tagRecord(
      (
        await call('ListTagsForResource (ElastiCache)', arn, () =>
          elasticache.send(new ListTagsForResourceCommand({ ResourceName: arn })),
        )
      ).TagList,
    );

  /** Replication groups as Database, tags included (DescribeReplicationGroups carries none). */
  const listReplicationGroups = async (): Promise<Database[]> => {
    // DescribeReplicationGroups MaxRecords is 20–100, like the RDS Describe* calls.
    const groups = await collectPages(
      paginateDescribeReplicationGroups({ client: elasticache, ...PAGE }, {}),
      (p) => p.ReplicationGroups,
      (g): Omit<Database, 'tags'> => {
        const engine = g.Engine ?? 'redis';
        return {
          kind: 'elasticache',
          id: g.ReplicationGroupId ?? '',
          arn: g.ARN ?? '',
          region,
          engine,
          // Memcached has no replication groups today; the engine still travels so the plan can refuse it.
          cacheEngine: engine,
          status: g.Status ?? 'unknown',
          ...(g.AtRestEncryptionEnabled !== undefined ? { encrypted: g.AtRestEncryptionEnabled } : {}),
          ...automated(g.SnapshotRetentionLimit, g.SnapshotWindow),
          ...(g.ReplicationGroupCreateTime ? { createdAt: g.ReplicationGroupCreateTime.toISOString() } : {}),
        };
      },
      'DescribeReplicationGroups',
      `region ${region}`,
    );
    // One ListTagsForResource per group, a few at a time: the client's pacer keeps the rate.
    return mapLimit(groups, FANOUT, async (g) => ({ ...g, tags: g.arn ? await tagsOf(g.arn) : {} }));
  };

  return { region, listReplicationGroups };
};

/**
 * ElastiCache side of backups in one region. Replication groups (Valkey / Redis OSS, cluster mode on or
 * off) are the unit: CreateSnapshot with ReplicationGroupId snapshots the whole group. ElastiCache has no
 * cross-region snapshot copy (only export to S3), so this adapter has no copy.
 */
export const elastiCacheBackup = (region: string, elasticache: ElastiCacheClient) => {
  const { listReplicationGroups } = elastiCacheGroups(region, elasticache);

  /** Snapshot a replication group with explicit tags; our deterministic name already existing is success. */
  const createSnapshot = async (input: CreateSnapshotInput): Promise<'created' | 'already-done'> => {
    if (input.kind !== 'elasticache')
      throw new TypeError(`the ElastiCache adapter cannot snapshot ${input.kind}`);
    const r = await attempt(
      'CreateSnapshot (ElastiCache)',
      `replication group ${input.dbId} (snapshot ${input.snapshotId}) in ${region}`,
      () =>
        elasticache.send(
          new CreateSnapshotCommand({
            ReplicationGroupId: input.dbId,
            SnapshotName: input.snapshotId,
            Tags: tagList(input.tags),
          }),
        ),
      { exists: ['SnapshotAlreadyExistsFault'] },
    );
    return r.ok ? 'created' : 'already-done';
  };

  return { region, listReplicationGroups, createSnapshot };
};

/** The ElastiCache backup adapter of one region. */
export type ElastiCacheBackup = ReturnType<typeof elastiCacheBackup>;
