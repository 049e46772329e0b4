import {
  CreateSnapshotCommand,
  type ElastiCacheClient,
  ListTagsForResourceCommand,
  paginateDescribeReplicationGroups,
} from '@aws-sdk/client-elasticache';
import { AwsCallError, errorName } from '../errors.js';
import type { CreateSnapshotInput, Database } from '../model.js';
import { tagList, tagRecord } from '../tags.js';

// DescribeReplicationGroups MaxRecords is 20–100.
const PAGE = { pageSize: 100 } as const;

/**
 * ElastiCache side of backups in one region. Replication groups (Valkey / Redis OSS, cluster mode on or
 * off) are the unit: CreateSnapshot with ReplicationGroupId snapshots the whole group. ElastiCache has no
 * cross-region snapshot copy (only export to S3), so this adapter has no copy.
 */
export const elastiCacheBackup = (region: string, elasticache: ElastiCacheClient) => {
  const tagsOf = async (arn: string) => {
    try {
      return tagRecord(
        (await elasticache.send(new ListTagsForResourceCommand({ ResourceName: arn }))).TagList,
      );
    } catch (e) {
      throw new AwsCallError('ListTagsForResource (ElastiCache)', arn, e);
    }
  };

  /** Replication groups as Database, tags included (DescribeReplicationGroups carries none). */
  const listReplicationGroups = async (): Promise<Database[]> => {
    const groups: Omit<Database, 'tags'>[] = [];
    try {
      for await (const page of paginateDescribeReplicationGroups({ client: elasticache, ...PAGE }, {})) {
        for (const g of page.ReplicationGroups ?? []) {
          const engine = g.Engine ?? 'redis';
          groups.push({
            kind: 'elasticache',
            id: g.ReplicationGroupId ?? '',
            arn: g.ARN ?? '',
            region,
            engine,
            // Memcached has no replication groups today; the engine still travels so the plan can refuse it.
            cacheEngine: engine,
            status: g.Status ?? 'unknown',
            ...(g.AtRestEncryptionEnabled !== undefined ? { encrypted: g.AtRestEncryptionEnabled } : {}),
          });
        }
      }
    } catch (e) {
      throw new AwsCallError('DescribeReplicationGroups', `region ${region}`, e);
    }
    const out: Database[] = [];
    // Sequential on purpose: one ListTagsForResource per group stays well under the API rate.
    for (const g of groups) out.push({ ...g, tags: g.arn ? await tagsOf(g.arn) : {} });
    return out;
  };

  /** Snapshot a replication group with explicit tags; our deterministic name already existing is success. */
  const createSnapshot = async (input: CreateSnapshotInput): Promise<'created' | 'already-done'> => {
    if (input.kind !== 'elasticache')
      throw new TypeError(`the ElastiCache adapter cannot snapshot ${input.kind}`);
    try {
      await elasticache.send(
        new CreateSnapshotCommand({
          ReplicationGroupId: input.dbId,
          SnapshotName: input.snapshotId,
          Tags: tagList(input.tags),
        }),
      );
      return 'created';
    } catch (e) {
      if (errorName(e) === 'SnapshotAlreadyExistsFault') return 'already-done';
      throw new AwsCallError(
        'CreateSnapshot (ElastiCache)',
        `replication group ${input.dbId} (snapshot ${input.snapshotId}) in ${region}`,
        e,
      );
    }
  };

  return { region, listReplicationGroups, createSnapshot };
};

/** The ElastiCache backup adapter of one region. */
export type ElastiCacheBackup = ReturnType<typeof elastiCacheBackup>;
