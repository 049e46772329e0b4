import {
  DeleteSnapshotCommand,
  type ElastiCacheClient,
  ListTagsForResourceCommand,
  paginateDescribeSnapshots,
} from '@aws-sdk/client-elasticache';
import {
  type DBClusterSnapshot,
  type DBSnapshot,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBSnapshots,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { AwsCallError, errorName } from '../errors.js';
import { collectPages, PAGE } from './pages.js';
import type { ResourceKind, Snapshot, SnapshotType } from '../model.js';
import { tagRecord } from '../tags.js';

/** Snapshot ids steward creates start with this; ElastiCache lists no tags, so the prefix narrows tag reads. */
export const SNAPSHOT_PREFIX = 'steward-';

const snapshotType = (t: string | undefined): SnapshotType =>
  t === 'automated' || t === 'shared' || t === 'public' || t === 'awsbackup' ? t : 'manual';

/** An RDS DB snapshot as plain data. */
export const fromDbSnapshot = (s: DBSnapshot, region: string): Snapshot => ({
  kind: 'rds-instance',
  id: s.DBSnapshotIdentifier ?? '',
  arn: s.DBSnapshotArn ?? '',
  region,
  sourceId: s.DBInstanceIdentifier ?? '',
  // A cross-region copy gets a new SnapshotCreateTime; retention and drills date the data, not the copy.
  createdAt: (s.OriginalSnapshotCreateTime ?? s.SnapshotCreateTime)?.toISOString(),
  status: s.Status ?? 'unknown',
  type: snapshotType(s.SnapshotType),
  tags: tagRecord(s.TagList),
  encrypted: s.Encrypted,
  sourceRegion: s.SourceRegion,
});

/** An Aurora DB cluster snapshot as plain data. */
export const fromClusterSnapshot = (s: DBClusterSnapshot, region: string): Snapshot => ({
  kind: 'aurora-cluster',
  id: s.DBClusterSnapshotIdentifier ?? '',
  arn: s.DBClusterSnapshotArn ?? '',
  region,
  sourceId: s.DBClusterIdentifier ?? '',
  createdAt: s.SnapshotCreateTime?.toISOString(),
  status: s.Status ?? 'unknown',
  type: snapshotType(s.SnapshotType),
  tags: tagRecord(s.TagList),
  encrypted: s.StorageEncrypted,
});

/** Port: the snapshots of one region, as plain data. The retention engine and copy reconciler use it. */
export interface SnapshotStore {
  region: string;
  /** Manual snapshots of the given kinds (automated ones are AWS's and never listed). */
  list(kinds: readonly ResourceKind[]): Promise<Snapshot[]>;
  /** Delete one snapshot; a snapshot that is already gone counts as deleted. */
  remove(s: Pick<Snapshot, 'kind' | 'id'>): Promise<'deleted' | 'already-gone'>;
}

const NOT_FOUND = new Set([
  'DBSnapshotNotFoundFault',
  'DBClusterSnapshotNotFoundFault',
  'SnapshotNotFoundFault',
]);

/** SnapshotStore over the RDS and ElastiCache APIs of one region. */
export const awsSnapshotStore = (
  region: string,
  rds: RDSClient,
  elasticache: ElastiCacheClient,
): SnapshotStore => {
  const listInstances = () =>
    collectPages(
      paginateDescribeDBSnapshots({ client: rds, ...PAGE }, { SnapshotType: 'manual' }),
      (p) => p.DBSnapshots,
      (s) => fromDbSnapshot(s, region),
      'DescribeDBSnapshots',
      `region ${region}`,
    );

  const listClusters = () =>
    collectPages(
      paginateDescribeDBClusterSnapshots({ client: rds, ...PAGE }, { SnapshotType: 'manual' }),
      (p) => p.DBClusterSnapshots,
      (s) => fromClusterSnapshot(s, region),
      'DescribeDBClusterSnapshots',
      `region ${region}`,
    );

  const listCache = async (): Promise<Snapshot[]> => {
    const out: Snapshot[] = [];
    try {
      // The request filter is `user` | `system`; the response field says `manual` | `automated`.
      for await (const page of paginateDescribeSnapshots(
        { client: elasticache, pageSize: 50 },
        { SnapshotSource: 'user' },
      )) {
        for (const s of page.Snapshots ?? []) {
          const id = s.SnapshotName ?? '';
          // DescribeSnapshots carries no tags: read them only for names steward could have created.
          if (!id.startsWith(SNAPSHOT_PREFIX) || !s.ARN) continue;
          let tags;
          try {
            tags = await elasticache.send(new ListTagsForResourceCommand({ ResourceName: s.ARN }));
          } catch (e) {
            throw new AwsCallError('ListTagsForResource (ElastiCache)', `snapshot ${id} in ${region}`, e);
          }
          const created = s.NodeSnapshots?.map((n) => n.SnapshotCreateTime).find((t) => t);
          out.push({
            kind: 'elasticache',
            id,
            arn: s.ARN,
            region,
            sourceId: s.ReplicationGroupId ?? s.CacheClusterId ?? '',
            createdAt: created?.toISOString(),
            status: s.SnapshotStatus ?? 'unknown',
            type: s.SnapshotSource === 'automated' ? 'automated' : 'manual',
            tags: tagRecord(tags.TagList),
            encrypted: s.KmsKeyId !== undefined,
          });
        }
      }
    } catch (e) {
      if (e instanceof AwsCallError) throw e;
      throw new AwsCallError('DescribeSnapshots (ElastiCache)', `region ${region}`, e);
    }
    return out;
  };

  const listers: Record<ResourceKind, () => Promise<Snapshot[]>> = {
    'rds-instance': listInstances,
    'aurora-cluster': listClusters,
    elasticache: listCache,
  };

  return {
    region,
    list: async (kinds) => (await Promise.all([...new Set(kinds)].map((k) => listers[k]()))).flat(),
    remove: async ({ kind, id }) => {
      const [op, send] =
        kind === 'rds-instance'
          ? ['DeleteDBSnapshot', () => rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: id }))]
          : kind === 'aurora-cluster'
            ? [
                'DeleteDBClusterSnapshot',
                () => rds.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: id })),
              ]
            : [
                'DeleteSnapshot (ElastiCache)',
                () => elasticache.send(new DeleteSnapshotCommand({ SnapshotName: id })),
              ];
      try {
        await send();
        return 'deleted';
      } catch (e) {
        if (NOT_FOUND.has(errorName(e))) return 'already-gone';
        throw new AwsCallError(op as string, `${kind} snapshot ${id} in ${region}`, e);
      }
    },
  };
};
