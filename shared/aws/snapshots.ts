import {
  DeleteServerlessCacheSnapshotCommand,
  DeleteSnapshotCommand,
  type ElastiCacheClient,
  ListTagsForResourceCommand,
  paginateDescribeServerlessCacheSnapshots,
  paginateDescribeSnapshots,
  type ServerlessCacheSnapshot,
  type Snapshot as CacheSnapshot,
} from '@aws-sdk/client-elasticache';
import {
  paginateGetResources,
  type ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import {
  type DBClusterSnapshot,
  type DBSnapshot,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBSnapshots,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { SnapshotReader } from '../backup/ports.js';
import { type Failure, failureOf } from '../errors.js';
import type { ResourceKind, Snapshot, SnapshotListing, SnapshotType } from '../model.js';
import type { SnapshotStore } from '../retention/ports.js';
import { FANOUT, mapLimit } from '../pool.js';
import { Tag, tagRecord, type Tags } from '../tags.js';
import { attempt, call } from './call.js';
import type { EbsSetStore } from './ebs.js';
import { collectPages, PAGE } from './pages.js';

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
  ...(s.DbiResourceId ? { sourceResourceId: s.DbiResourceId } : {}),
  ...(s.InstanceCreateTime ? { sourceCreatedAt: s.InstanceCreateTime.toISOString() } : {}),
  // A cross-region copy gets a new SnapshotCreateTime; retention and drills date the data, not the copy.
  createdAt: (s.OriginalSnapshotCreateTime ?? s.SnapshotCreateTime)?.toISOString(),
  status: s.Status ?? 'unknown',
  type: snapshotType(s.SnapshotType),
  tags: tagRecord(s.TagList),
  encrypted: s.Encrypted,
  sourceRegion: s.SourceRegion,
  ...(s.OriginalSnapshotCreateTime && s.SnapshotCreateTime
    ? { copiedAt: s.SnapshotCreateTime.toISOString() }
    : {}),
});

/** An Aurora DB cluster snapshot as plain data. */
export const fromClusterSnapshot = (s: DBClusterSnapshot, region: string): Snapshot => ({
  kind: 'aurora-cluster',
  id: s.DBClusterSnapshotIdentifier ?? '',
  arn: s.DBClusterSnapshotArn ?? '',
  region,
  sourceId: s.DBClusterIdentifier ?? '',
  ...(s.DbClusterResourceId ? { sourceResourceId: s.DbClusterResourceId } : {}),
  ...(s.ClusterCreateTime ? { sourceCreatedAt: s.ClusterCreateTime.toISOString() } : {}),
  createdAt: s.SnapshotCreateTime?.toISOString(),
  status: s.Status ?? 'unknown',
  type: snapshotType(s.SnapshotType),
  tags: tagRecord(s.TagList),
  encrypted: s.StorageEncrypted,
  ...(s.SourceDBClusterSnapshotArn && s.SnapshotCreateTime
    ? { copiedAt: s.SnapshotCreateTime.toISOString() }
    : {}),
});

/**
 * The earliest creation time an ElastiCache snapshot names (its cluster's, its nodes'): each is a member's of
 * the group, so never before the group was created. ElastiCache states no id and no creation time of the group.
 */
const membersSince = (s: CacheSnapshot): string | undefined => {
  let min: Date | undefined;
  for (const t of [s.CacheClusterCreateTime, ...(s.NodeSnapshots ?? []).map((n) => n.CacheNodeCreateTime)])
    if (t && (!min || t < min)) min = t;
  return min?.toISOString();
};

/** An ElastiCache backup as plain data; DescribeSnapshots carries no tags, so they are passed in. */
export const fromCacheSnapshot = (s: CacheSnapshot, region: string, tags: Tags = {}): Snapshot => {
  const since = membersSince(s);
  return {
    kind: 'elasticache',
    id: s.SnapshotName ?? '',
    arn: s.ARN ?? '',
    region,
    sourceId: s.ReplicationGroupId ?? s.CacheClusterId ?? '',
    ...(since ? { sourceCreatedAt: since } : {}),
    createdAt: s.NodeSnapshots?.map((n) => n.SnapshotCreateTime)
      .find((t) => t)
      ?.toISOString(),
    status: s.SnapshotStatus ?? 'unknown',
    type: s.SnapshotSource === 'automated' ? 'automated' : 'manual',
    tags,
    encrypted: s.KmsKeyId !== undefined,
    shards: Math.max(1, s.NumNodeGroups ?? 1),
  };
};

/**
 * An ElastiCache serverless cache snapshot as plain data; DescribeServerlessCacheSnapshots carries no tags, so
 * they are passed in. Serverless caches are always encrypted at rest. `SnapshotType` is `automated` for the
 * cache's own daily snapshots; anything else is a manual one.
 */
export const fromServerlessSnapshot = (
  s: ServerlessCacheSnapshot,
  region: string,
  tags: Tags = {},
): Snapshot => ({
  kind: 'elasticache',
  serverless: true,
  id: s.ServerlessCacheSnapshotName ?? '',
  arn: s.ARN ?? '',
  region,
  sourceId: s.ServerlessCacheConfiguration?.ServerlessCacheName ?? '',
  createdAt: s.CreateTime?.toISOString(),
  // The API Reference spells states in capitals in places; the service answers them in lower case.
  status: (s.Status ?? 'unknown').toLowerCase(),
  type: s.SnapshotType === 'automated' ? 'automated' : 'manual',
  tags,
  encrypted: true,
});

/** DescribeServerlessCacheSnapshots MaxResults: "The default is 50. The Validation Constraints are a maximum of 50." */
export const SERVERLESS_SNAPSHOT_PAGE = { pageSize: 50 } as const;

const NOT_FOUND = [
  'DBSnapshotNotFoundFault',
  'DBClusterSnapshotNotFoundFault',
  'SnapshotNotFoundFault',
  'ServerlessCacheSnapshotNotFoundFault',
];

/**
 * The tags of every ElastiCache snapshot of a region tagged `steward:managed=true`, by ARN, in pages of 100
 * (the Resource Groups Tagging API): DescribeSnapshots carries no tags. A snapshot tagged a moment ago may not
 * be indexed yet: absent, not known to be steward's.
 */
export const managedCacheSnapshotTags = async (
  tagging: ResourceGroupsTaggingAPIClient,
  region: string,
): Promise<Map<string, Tags>> => {
  const tagged = new Map<string, Tags>();
  await collectPages(
    paginateGetResources(
      { client: tagging, pageSize: 100 },
      {
        ResourceTypeFilters: ['elasticache:snapshot'],
        TagFilters: [{ Key: Tag.managed, Values: ['true'] }],
      },
    ),
    (p) => p.ResourceTagMappingList,
    (m) => (m.ResourceARN ? tagged.set(m.ResourceARN, tagRecord(m.Tags)) : undefined),
    'GetResources (tagging)',
    `elasticache snapshots in ${region}`,
  );
  return tagged;
};

/**
 * SnapshotStore over the RDS, ElastiCache and EBS APIs of one region. ElastiCache lists no tags: with
 * `tagging` (the Resource Groups Tagging API) the tags of every steward snapshot come in pages of 100 (3 000
 * snapshots: 30 calls); without it, one ListTagsForResource per snapshot, `FANOUT` at a time. EBS snapshot
 * sets are listed only with `ebs` (a store without it, e.g. the vault's, which holds RDS copies, lists none).
 */
export const awsSnapshotStore = (
  region: string,
  rds: RDSClient,
  elasticache: ElastiCacheClient,
  tagging?: ResourceGroupsTaggingAPIClient,
  ebs?: EbsSetStore,
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

  /**
   * Steward's serverless cache snapshots: every page (no type filter, whose values the API Reference does not
   * list), then one ListTagsForResource per snapshot steward could have named, `FANOUT` at a time. One whose
   * tags cannot be read is a failure of its own and left out (not known to be ours: kept).
   */
  const listServerless = async (): Promise<SnapshotListing> => {
    const described = await collectPages(
      paginateDescribeServerlessCacheSnapshots({ client: elasticache, ...SERVERLESS_SNAPSHOT_PAGE }, {}),
      (p) => p.ServerlessCacheSnapshots,
      (s) =>
        s.SnapshotType !== 'automated' && s.ServerlessCacheSnapshotName?.startsWith(SNAPSHOT_PREFIX) && s.ARN
          ? s
          : undefined,
      'DescribeServerlessCacheSnapshots',
      `region ${region}`,
    );
    const listing: SnapshotListing = { snapshots: [], failures: [] };
    type Read = { s: ServerlessCacheSnapshot; tags: Tags } | { s: ServerlessCacheSnapshot; failure: Failure };
    const read = await mapLimit(described, FANOUT, async (s): Promise<Read> => {
      const id = s.ServerlessCacheSnapshotName!;
      try {
        const tags = await call(
          'ListTagsForResource (ElastiCache)',
          `serverless snapshot ${id} in ${region}`,
          () => elasticache.send(new ListTagsForResourceCommand({ ResourceName: s.ARN! })),
        );
        return { s, tags: tagRecord(tags.TagList) };
      } catch (e) {
        return { s, failure: failureOf(`elasticache serverless snapshot ${id} in ${region}`, e) };
      }
    });
    for (const r of read) {
      if ('failure' in r) listing.failures.push(r.failure);
      else listing.snapshots.push(fromServerlessSnapshot(r.s, region, r.tags));
    }
    return listing;
  };

  /** Replication group backups and serverless cache snapshots: one failing does not hide the other. */
  const listCaches = async (): Promise<SnapshotListing> => {
    const [groups, serverless] = await Promise.allSettled([listCache(), listServerless()]);
    const listing: SnapshotListing = { snapshots: [], failures: [] };
    for (const [r, what] of [
      [groups, 'elasticache snapshots'],
      [serverless, 'elasticache serverless snapshots'],
    ] as const) {
      if (r.status === 'fulfilled') {
        listing.snapshots.push(...r.value.snapshots);
        listing.failures.push(...r.value.failures);
      } else listing.failures.push(failureOf(`${what} in ${region}`, r.reason));
    }
    return listing;
  };

  const listCache = async (): Promise<SnapshotListing> => {
    // The request filter is `user` | `system`; the response field says `manual` | `automated`.
    const described = await collectPages(
      paginateDescribeSnapshots({ client: elasticache, pageSize: 50 }, { SnapshotSource: 'user' }),
      (p) => p.Snapshots,
      // DescribeSnapshots carries no tags: read them only for names steward could have created.
      (s) => (s.SnapshotName?.startsWith(SNAPSHOT_PREFIX) && s.ARN ? s : undefined),
      'DescribeSnapshots (ElastiCache)',
      `region ${region}`,
    );
    if (!described.length) return { snapshots: [], failures: [] };
    if (tagging) {
      // Tags of every snapshot tagged steward:managed=true, in bulk. A failed page fails the ElastiCache
      // listing (the other kinds still list); a snapshot absent from the answer (untagged, or tagged a
      // moment ago and not yet indexed) is listed without tags: not known to be ours, so it is kept.
      // Deleting still needs steward:managed=true and no steward:hold at the moment of the call (IAM).
      const tagged = await managedCacheSnapshotTags(tagging, region);
      return {
        snapshots: described.map((s) => fromCacheSnapshot(s, region, tagged.get(s.ARN!) ?? {})),
        failures: [],
      };
    }
    const listing: SnapshotListing = { snapshots: [], failures: [] };
    // One snapshot whose tags cannot be read (throttled past the SDK's retries) is reported on its own:
    // without its tags it is not known to be ours, so it is left out, which only ever keeps more.
    const read = await mapLimit(
      described,
      FANOUT,
      async (s): Promise<{ s: CacheSnapshot; tags: Tags } | { s: CacheSnapshot; failure: Failure }> => {
        const id = s.SnapshotName!;
        try {
          const tags = await call('ListTagsForResource (ElastiCache)', `snapshot ${id} in ${region}`, () =>
            elasticache.send(new ListTagsForResourceCommand({ ResourceName: s.ARN! })),
          );
          return { s, tags: tagRecord(tags.TagList) };
        } catch (e) {
          return { s, failure: failureOf(`elasticache snapshot ${id} in ${region}`, e) };
        }
      },
    );
    for (const r of read) {
      if ('failure' in r) listing.failures.push(r.failure);
      else listing.snapshots.push(fromCacheSnapshot(r.s, region, r.tags));
    }
    return listing;
  };

  const all = (list: () => Promise<Snapshot[]>) => async (): Promise<SnapshotListing> => ({
    snapshots: await list(),
    failures: [],
  });
  const listers: Record<ResourceKind, () => Promise<SnapshotListing>> = {
    'rds-instance': all(listInstances),
    'aurora-cluster': all(listClusters),
    elasticache: listCaches,
    ebs: ebs ? all(ebs.listSets) : async () => ({ snapshots: [], failures: [] }),
  };

  return {
    region,
    // Kinds are listed independently: one kind failing (AccessDenied, throttling) does not hide the others.
    list: async (kinds) => {
      const wanted = [...new Set(kinds)];
      const settled = await Promise.allSettled(wanted.map((k) => listers[k]()));
      const listing: SnapshotListing = { snapshots: [], failures: [] };
      settled.forEach((r, i) => {
        if (r.status === 'fulfilled') {
          listing.snapshots.push(...r.value.snapshots);
          listing.failures.push(...r.value.failures);
        } else listing.failures.push(failureOf(`${wanted[i]} snapshots in ${region}`, r.reason));
      });
      return listing;
    },
    remove: async ({ kind, id, parts, serverless }) => {
      if (kind === 'ebs') {
        if (!ebs) throw new TypeError(`EBS set ${id} in ${region}: this store has no EBS adapter`);
        return ebs.removeSet({ id, ...(parts ? { parts } : {}) });
      }
      const [op, send]: [string, () => Promise<unknown>] =
        kind === 'rds-instance'
          ? ['DeleteDBSnapshot', () => rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: id }))]
          : kind === 'aurora-cluster'
            ? [
                'DeleteDBClusterSnapshot',
                () => rds.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: id })),
              ]
            : serverless
              ? [
                  'DeleteServerlessCacheSnapshot',
                  () =>
                    elasticache.send(
                      new DeleteServerlessCacheSnapshotCommand({ ServerlessCacheSnapshotName: id }),
                    ),
                ]
              : [
                  'DeleteSnapshot (ElastiCache)',
                  () => elasticache.send(new DeleteSnapshotCommand({ SnapshotName: id })),
                ];
      const what = serverless ? `${kind} serverless snapshot` : `${kind} snapshot`;
      const r = await attempt(op, `${what} ${id} in ${region}`, send, { gone: NOT_FOUND });
      return r.ok ? 'deleted' : 'already-gone';
    },
  };
};

/**
 * Snapshot ids per request of `some` (the values of one `db-snapshot-id` / `db-cluster-snapshot-id` filter).
 * The RDS API reference documents no maximum for a filter's values (DescribeDBSnapshots,
 * DescribeDBClusterSnapshots and the Filter type say only "one or more"). The one limit observed on an RDS
 * identifier filter is 100: DescribeDBClusters refuses more with InvalidParameterCombination "Only up to 100
 * unique filter DB Cluster Identifiers may be specified per filter" (cloud-custodian/cloud-custodian#10133),
 * and RDS refuses more than 100 parameter names per DescribeDBParameters filter (AWS's own CloudFormation RDS
 * provider, aws-cloudformation/aws-cloudformation-resource-providers-rds#392). Nothing was found for the
 * snapshot filters, so we stay well below 100: 20 still covers every copy in flight to one destination (at
 * most 5 per destination region) in one request, so a lower limit costs nothing.
 */
export const IDS_PER_REQUEST = 20;

/**
 * SnapshotReader over one region's RDS API: one database's manual snapshots (`DBInstanceIdentifier` /
 * `DBClusterIdentifier` filter, usually one page), one snapshot by id, and named snapshots in bulk (the
 * `db-snapshot-id` / `db-cluster-snapshot-id` filters). What an RDS event and the hourly run reconcile.
 */
export const rdsSnapshotReader = (region: string, rds: RDSClient): SnapshotReader => ({
  region,
  ofDatabase: (kind, db) =>
    kind === 'rds-instance'
      ? collectPages(
          paginateDescribeDBSnapshots(
            { client: rds, ...PAGE },
            { DBInstanceIdentifier: db, SnapshotType: 'manual' },
          ),
          (p) => p.DBSnapshots,
          (s) => fromDbSnapshot(s, region),
          'DescribeDBSnapshots',
          `snapshots of DB instance ${db} in ${region}`,
        )
      : collectPages(
          paginateDescribeDBClusterSnapshots(
            { client: rds, ...PAGE },
            { DBClusterIdentifier: db, SnapshotType: 'manual' },
          ),
          (p) => p.DBClusterSnapshots,
          (s) => fromClusterSnapshot(s, region),
          'DescribeDBClusterSnapshots',
          `snapshots of DB cluster ${db} in ${region}`,
        ),
  get: async (kind, id) => {
    const resource = `${kind} snapshot ${id} in ${region}`;
    if (kind === 'rds-instance') {
      const r = await attempt(
        'DescribeDBSnapshots',
        resource,
        () => rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id })),
        { gone: NOT_FOUND },
      );
      const s = r.ok ? r.value.DBSnapshots?.[0] : undefined;
      return s && fromDbSnapshot(s, region);
    }
    const r = await attempt(
      'DescribeDBClusterSnapshots',
      resource,
      () => rds.send(new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id })),
      { gone: NOT_FOUND },
    );
    const s = r.ok ? r.value.DBClusterSnapshots?.[0] : undefined;
    return s && fromClusterSnapshot(s, region);
  },
  some: async (kind, ids) => {
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_REQUEST) chunks.push(ids.slice(i, i + IDS_PER_REQUEST));
    const lists = await Promise.all(
      chunks.map((Values) =>
        kind === 'rds-instance'
          ? collectPages(
              paginateDescribeDBSnapshots(
                { client: rds, ...PAGE },
                { SnapshotType: 'manual', Filters: [{ Name: 'db-snapshot-id', Values }] },
              ),
              (p) => p.DBSnapshots,
              (s) => fromDbSnapshot(s, region),
              'DescribeDBSnapshots',
              `${Values.length} DB snapshots in ${region}`,
            )
          : collectPages(
              paginateDescribeDBClusterSnapshots(
                { client: rds, ...PAGE },
                { SnapshotType: 'manual', Filters: [{ Name: 'db-cluster-snapshot-id', Values }] },
              ),
              (p) => p.DBClusterSnapshots,
              (s) => fromClusterSnapshot(s, region),
              'DescribeDBClusterSnapshots',
              `${Values.length} DB cluster snapshots in ${region}`,
            ),
      ),
    );
    return lists.flat();
  },
});
