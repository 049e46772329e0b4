import {
  CreateServerlessCacheSnapshotCommand,
  CreateSnapshotCommand,
  type ElastiCacheClient,
  ListTagsForResourceCommand,
  paginateDescribeReplicationGroups,
  paginateDescribeServerlessCaches,
} from '@aws-sdk/client-elasticache';
import { errorMessage } from '../errors.js';
import type { CreateSnapshotInput, Database } from '../model.js';
import { FANOUT, mapLimit } from '../pool.js';
import { tagList, tagRecord } from '../tags.js';
import { attempt } from './call.js';
import { collectPages, PAGE } from './pages.js';
import { automated } from './rds.js';

// ListTagsForResource's answers for a group or serverless cache deleted since the describe, and for one that
// is not `available`.
const NOT_FOUND = ['ReplicationGroupNotFoundFault', 'ServerlessCacheNotFoundFault'];
const NOT_AVAILABLE = [
  'InvalidReplicationGroupStateFault',
  'InvalidReplicationGroupState',
  'InvalidServerlessCacheStateFault',
];

/** DescribeServerlessCaches MaxResults: "The default is 50. The Validation Constraints are a maximum of 50." */
const SERVERLESS_PAGE = { pageSize: 50 } as const;

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
    const what = g.serverless ? 'serverless cache' : 'group';
    return {
      tags: {},
      tagsUnread: `ListTagsForResource refused while the ${what} is ${g.status}: ${errorMessage(r.cause)}`,
    };
  };

  /** One ListTagsForResource per cache, a few at a time: the client's pacer keeps the rate. */
  const withTags = async (caches: Omit<Database, 'tags'>[]): Promise<Database[]> => {
    const tagged = await mapLimit(caches, FANOUT, async (g) => {
      const t = await tagsOf(g);
      return t && { ...g, ...t };
    });
    return tagged.filter((g) => g !== undefined);
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
    return withTags(groups);
  };

  /**
   * Serverless caches (Valkey, Redis OSS, Memcached) as Database, `serverless` set, tags included. A team
   * tags one `steward:backup` as it tags a group: listed here, it is backed up, or shown unprotected, rather
   * than never seen. Serverless caches are always encrypted at rest (API Reference, StorageEncryptionType);
   * their own automatic snapshots are `SnapshotRetentionLimit` days at `DailySnapshotTime` (hh:mm UTC).
   */
  const listServerlessCaches = async (): Promise<Database[]> => {
    const caches = await collectPages(
      paginateDescribeServerlessCaches({ client: elasticache, ...SERVERLESS_PAGE }, {}),
      (p) => p.ServerlessCaches,
      (c): Omit<Database, 'tags'> => {
        const engine = c.Engine ?? 'redis';
        return {
          kind: 'elasticache',
          serverless: true,
          id: c.ServerlessCacheName ?? '',
          arn: c.ARN ?? '',
          region,
          engine,
          cacheEngine: engine,
          // The API Reference spells the states in capitals (AVAILABLE, CREATE-FAILED); the service answers
          // them in lower case, as the other ElastiCache states.
          status: (c.Status ?? 'unknown').toLowerCase(),
          encrypted: true,
          ...automated(c.SnapshotRetentionLimit, c.DailySnapshotTime),
          ...(c.CreateTime ? { createdAt: c.CreateTime.toISOString() } : {}),
        };
      },
      'DescribeServerlessCaches',
      `region ${region}`,
    );
    return withTags(caches);
  };

  /** Every cache of the region: replication groups and serverless caches, in one list. */
  const listCaches = async (): Promise<Database[]> =>
    (await Promise.all([listReplicationGroups(), listServerlessCaches()])).flat();

  return { region, listReplicationGroups, listServerlessCaches, listCaches };
};

/**
 * ElastiCache side of backups in one region. Replication groups (Valkey / Redis OSS, cluster mode on or
 * off) are the unit: CreateSnapshot with ReplicationGroupId snapshots the whole group; a serverless cache is
 * snapshotted whole with CreateServerlessCacheSnapshot. ElastiCache has no
 * cross-region snapshot copy (only export to S3), so this adapter has no copy.
 */
export const elastiCacheBackup = (region: string, elasticache: ElastiCacheClient) => {
  const { listReplicationGroups, listServerlessCaches, listCaches } = elastiCacheGroups(region, elasticache);

  /**
   * Snapshot a replication group, or a serverless cache (CreateServerlessCacheSnapshot), with explicit tags;
   * our deterministic name already existing is success.
   */
  const createSnapshot = async (input: CreateSnapshotInput): Promise<'created' | 'already-done'> => {
    if (input.kind !== 'elasticache')
      throw new TypeError(`the ElastiCache adapter cannot snapshot ${input.kind}`);
    if (input.serverless) {
      const made = await attempt(
        'CreateServerlessCacheSnapshot',
        `serverless cache ${input.dbId} (snapshot ${input.snapshotId}) in ${region}`,
        () =>
          elasticache.send(
            new CreateServerlessCacheSnapshotCommand({
              ServerlessCacheName: input.dbId,
              ServerlessCacheSnapshotName: input.snapshotId,
              Tags: tagList(input.tags),
            }),
          ),
        { exists: ['ServerlessCacheSnapshotAlreadyExistsFault'] },
      );
      return made.ok ? 'created' : 'already-done';
    }
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

  return { region, listReplicationGroups, listServerlessCaches, listCaches, createSnapshot };
};

/** The ElastiCache backup adapter of one region. */
export type ElastiCacheBackup = ReturnType<typeof elastiCacheBackup>;
