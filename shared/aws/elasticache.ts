import {
  CreateSnapshotCommand,
  type ElastiCacheClient,
  ListTagsForResourceCommand,
  paginateDescribeReplicationGroups,
} from '@aws-sdk/client-elasticache';
import { errorMessage } from '../errors.js';
import type { CreateSnapshotInput, Database } from '../model.js';
import { FANOUT, mapLimit } from '../pool.js';
import { tagList, tagRecord } from '../tags.js';
import { attempt } from './call.js';
import { collectPages, PAGE } from './pages.js';
import { automated } from './rds.js';

// ListTagsForResource's answers for a group deleted since the describe, and for one that is not `available`.
const NOT_FOUND = ['ReplicationGroupNotFoundFault'];
const NOT_AVAILABLE = ['InvalidReplicationGroupStateFault', 'InvalidReplicationGroupState'];

/**
 * The replication groups of one region as plain data: what the status check and the evidence read. A
 * factory of its own (see `rdsDatabases`), so a bundle that only lists leaves CreateSnapshot out.
 */
export const elastiCacheGroups = (region: string, elasticache: ElastiCacheClient) => {
  /**
   * A group's tags. ElastiCache answers only for a group that is `available` ("If the cluster is not in the
   * available state, ListTagsForResource returns an error", API Reference): a group being modified, snapshotted
   * or deleted is listed without tags, saying why (`tagsUnread`), and one deleted since the describe is gone.
   * Either used to fail the whole listing, and with it every database of the run.
   */
  const tagsOf = async (
    g: Omit<Database, 'tags'>,
  ): Promise<Pick<Database, 'tags' | 'tagsUnread'> | undefined> => {
    if (!g.arn) return { tags: {} };
    const r = await attempt(
      'ListTagsForResource (ElastiCache)',
      g.arn,
      () => elasticache.send(new ListTagsForResourceCommand({ ResourceName: g.arn })),
      { gone: NOT_FOUND, refused: NOT_AVAILABLE },
    );
    if (r.ok) return { tags: tagRecord(r.value.TagList) };
    if (r.answer === 'gone') return undefined;
    return {
      tags: {},
      tagsUnread: `ListTagsForResource refused while the group is ${g.status}: ${errorMessage(r.cause)}`,
    };
  };

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
    const tagged = await mapLimit(groups, FANOUT, async (g) => {
      const t = await tagsOf(g);
      return t && { ...g, ...t };
    });
    return tagged.filter((g) => g !== undefined);
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
