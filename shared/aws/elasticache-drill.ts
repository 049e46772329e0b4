import {
  CreateReplicationGroupCommand,
  DeleteReplicationGroupCommand,
  DescribeReplicationGroupsCommand,
  type ElastiCacheClient,
  ListTagsForResourceCommand,
  paginateDescribeReplicationGroups,
  paginateDescribeSnapshots,
  type ReplicationGroup,
  type Snapshot as ElastiCacheSnapshot,
} from '@aws-sdk/client-elasticache';
import { parseCacheSize } from '../drill/cache-shape.js';
import { DRILL_PREFIX } from '../drill/ids.js';
import { notBefore } from '../drill/pick.js';
import type {
  CacheRestorePort,
  CacheRestoreRequest,
  CacheSnapshot,
  DrillResource,
  RestoredTarget,
  TargetRef,
  TargetStatus,
} from '../drill/ports.js';
import { GuardRefusedError, StewardError } from '../errors.js';
import { FANOUT, mapLimit } from '../pool.js';
import { Tag, tagList, tagRecord } from '../tags.js';
import { attempt, call } from './call.js';
import { collectPages, PAGE } from './pages.js';
import { fromCacheSnapshot } from './snapshots.js';

const NOT_FOUND = ['ReplicationGroupNotFoundFault'];
// IAM authentication needs Valkey, or Redis OSS 7.0 or later, with TLS (ElastiCache User Guide,
// "Authenticating with IAM"); an older snapshot is restored onto this version (upgrades are allowed).
const IAM_AUTH_MIN_REDIS = '7.1';

const major = (v: string | undefined) => Number.parseInt(v ?? '', 10);

/** The snapshot as a drill candidate: plain data plus what sizing its restore needs. */
export const cacheSnapshotOf = (s: ElastiCacheSnapshot, region: string): CacheSnapshot => {
  const sizes = (s.NodeSnapshots ?? []).map((n) => parseCacheSize(n.CacheSize));
  const known = sizes.filter((b): b is number => b !== undefined);
  return {
    ...fromCacheSnapshot(s, region),
    ...(s.CacheNodeType ? { sourceNodeType: s.CacheNodeType } : {}),
    ...(s.Engine ? { engine: s.Engine } : {}),
    ...(s.EngineVersion ? { engineVersion: s.EngineVersion } : {}),
    shards: Math.max(1, s.NumNodeGroups ?? 1),
    ...(known.length && known.length === sizes.length ? { largestShardBytes: Math.max(...known) } : {}),
  };
};

/** The restored group's status as the drill sees it: ready means available with an endpoint. */
const statusOf = (g: ReplicationGroup): TargetStatus => {
  const status = g.Status ?? 'unknown';
  const endpoint = g.ConfigurationEndpoint ?? g.NodeGroups?.[0]?.PrimaryEndpoint;
  return {
    status,
    failed: status === 'create-failed' || status === 'deleting',
    ...(endpoint?.Address && endpoint.Port
      ? { endpoint: { host: endpoint.Address, port: endpoint.Port } }
      : {}),
    ...(g.CacheNodeType ? { shape: { instanceClass: g.CacheNodeType } } : {}),
  };
};

/**
 * CacheRestorePort over the ElastiCache API of one region: restore a snapshot (by name, or the RDB files of
 * a DR copy by S3 ARN) into a new replication group in the drill network, watch it, delete it (tagged
 * `steward:drill` only), and list what drills left behind.
 */
export const elastiCacheDrillPort = (region: string, elasticache: ElastiCacheClient): CacheRestorePort => {
  const find = async (id: string): Promise<ReplicationGroup | undefined> => {
    const r = await attempt(
      'DescribeReplicationGroups',
      `drill replication group ${id} in ${region}`,
      () => elasticache.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id })),
      { gone: NOT_FOUND },
    );
    return r.ok ? r.value.ReplicationGroups?.[0] : undefined;
  };

  const tagsOf = async (arn: string) =>
    tagRecord(
      (
        await call('ListTagsForResource (ElastiCache)', arn, () =>
          elasticache.send(new ListTagsForResourceCommand({ ResourceName: arn })),
        )
      ).TagList,
    );

  /**
   * When the live group was created: ElastiCache snapshots carry no immutable id of their group (RDS's have
   * DbiResourceId), so this is what tells a group's backups from those of an earlier group deleted and
   * re-created under the same id (a snapshot or DR copy taken before the group existed is not of it). A group
   * that no longer exists, or one without a creation time, is refused: nothing could tie a snapshot to it.
   */
  const groupCreatedAt = async (groupId: string): Promise<string> => {
    const r = await attempt(
      'DescribeReplicationGroups',
      `replication group ${groupId} in ${region}`,
      () => elasticache.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: groupId })),
      { gone: NOT_FOUND },
    );
    const live = r.ok ? r.value.ReplicationGroups?.[0] : undefined;
    if (!live) {
      throw new StewardError(
        `replication group ${groupId} not found in ${region}: a drill restores the backups of a live group; ` +
          'snapshots left under its name may be of an earlier one',
      );
    }
    if (!live.ReplicationGroupCreateTime) {
      throw new StewardError(
        `replication group ${groupId} in ${region} has no creation time (ReplicationGroupCreateTime): a drill ` +
          'cannot tell its snapshots from those of an earlier group of the same name',
      );
    }
    return live.ReplicationGroupCreateTime.toISOString();
  };

  /** Listing by group id also returns manual snapshots of an earlier namesake: left out (groupCreatedAt). */
  const listSnapshots = async (groupId: string) => {
    const since = Date.parse(await groupCreatedAt(groupId));
    // No SnapshotSource: both steward's (manual) and ElastiCache's automatic backups, what a recovery uses.
    return collectPages(
      paginateDescribeSnapshots({ client: elasticache, pageSize: 50 }, { ReplicationGroupId: groupId }),
      (p) => p.Snapshots,
      (s) => {
        const snap = cacheSnapshotOf(s, region);
        return notBefore(since, snap) ? snap : undefined;
      },
      'DescribeSnapshots (ElastiCache)',
      `snapshots of ${groupId} in ${region}`,
    );
  };

  const restore = async (req: CacheRestoreRequest): Promise<RestoredTarget> => {
    if (!req.tags[Tag.drill] || !req.targetId.startsWith(DRILL_PREFIX)) {
      throw new GuardRefusedError(
        `refusing to restore ${req.targetId}: a drill restores only ${DRILL_PREFIX}* tagged ${Tag.drill}`,
      );
    }
    const engine = req.engine ?? 'redis';
    const upgrade = engine === 'redis' && !(major(req.engineVersion) >= 7);
    const clustered = req.shards > 1;
    const r = await attempt(
      'CreateReplicationGroup',
      `drill replication group ${req.targetId} in ${region}`,
      () =>
        elasticache.send(
          new CreateReplicationGroupCommand({
            ReplicationGroupId: req.targetId,
            ReplicationGroupDescription: `steward restore drill ${req.tags[Tag.drill]}`,
            Engine: engine,
            ...(upgrade ? { EngineVersion: IAM_AUTH_MIN_REDIS } : {}),
            CacheNodeType: req.nodeType,
            CacheSubnetGroupName: req.network.cacheSubnetGroupName,
            SecurityGroupIds: req.network.securityGroupIds,
            ...('snapshotName' in req.source
              ? { SnapshotName: req.source.snapshotName }
              : { SnapshotArns: req.source.rdbArns }),
            // No replicas: a drill proves the data restores; primaries alone hold all of it.
            ...(clustered
              ? { NumNodeGroups: req.shards, ReplicasPerNodeGroup: 0, AutomaticFailoverEnabled: true }
              : { NumCacheClusters: 1, AutomaticFailoverEnabled: false }),
            TransitEncryptionEnabled: true,
            AtRestEncryptionEnabled: true,
            // A restore carries no AUTH token and no RBAC user group over from the source: set the source's
            // login on the copy. AuthToken needs TransitEncryptionEnabled (on above); IAM-authenticated users
            // and AUTH tokens are exclusive (CreateReplicationGroup API reference, AuthToken, UserGroupIds).
            ...(req.login && 'authToken' in req.login ? { AuthToken: req.login.authToken } : {}),
            ...(req.login && 'userGroupId' in req.login
              ? { UserGroupIds: [req.login.userGroupId] }
              : req.network.userGroupId
                ? { UserGroupIds: [req.network.userGroupId] }
                : {}),
            SnapshotRetentionLimit: 0,
            Tags: tagList(req.tags),
          }),
        ),
      { exists: ['ReplicationGroupAlreadyExistsFault'] },
    );
    if (!r.ok) {
      // A retried restore: the group is ours only if it carries this drill's tag.
      const g = await find(req.targetId);
      const tags = g?.ARN ? await tagsOf(g.ARN) : {};
      if (tags[Tag.drill] !== req.tags[Tag.drill]) {
        throw new GuardRefusedError(
          `replication group ${req.targetId} in ${region} exists but is not drill ${req.tags[Tag.drill]}'s`,
        );
      }
    }
    return {
      kind: 'redis',
      id: req.targetId,
      status: r.ok ? (r.value.ReplicationGroup?.Status ?? 'creating') : 'creating',
      tls: true,
      region,
    };
  };

  const describe = async (t: TargetRef): Promise<TargetStatus> => {
    const g = await find(t.id);
    return g ? statusOf(g) : { status: 'not found', failed: true };
  };

  const remove = async (t: TargetRef): Promise<'deleted' | 'already-gone'> => {
    const g = await find(t.id);
    if (!g) return 'already-gone';
    const tags = g.ARN ? await tagsOf(g.ARN) : {};
    if (!tags[Tag.drill] || tags[Tag.managed] !== 'true' || !t.id.startsWith(DRILL_PREFIX)) {
      throw new GuardRefusedError(
        `refusing to delete replication group ${t.id} in ${region}: it has no ${Tag.drill} and ${Tag.managed}=true tags (or not a drill id), so a drill did not create it`,
      );
    }
    if (g.Status === 'deleting') return 'deleted';
    // A group still `creating` cannot be deleted (InvalidReplicationGroupStateFault): the error stands, the
    // Cleanup state retries, and the janitor deletes it later if it is still there.
    const r = await attempt(
      'DeleteReplicationGroup',
      `drill replication group ${t.id} in ${region}`,
      () =>
        elasticache.send(
          new DeleteReplicationGroupCommand({ ReplicationGroupId: t.id, RetainPrimaryCluster: false }),
        ),
      { gone: NOT_FOUND },
    );
    return r.ok ? 'deleted' : 'already-gone';
  };

  const listDrillResources = async (): Promise<DrillResource[]> => {
    const groups = await collectPages(
      paginateDescribeReplicationGroups({ client: elasticache, ...PAGE }, {}),
      (p) => p.ReplicationGroups,
      (g) => (g.ReplicationGroupId?.startsWith(DRILL_PREFIX) && g.ARN ? g : undefined),
      'DescribeReplicationGroups',
      `drill replication groups in ${region}`,
    );
    // DescribeReplicationGroups carries no tags: read them for drill-named groups only.
    const tagged = await mapLimit(groups, FANOUT, async (g) => ({ g, tags: await tagsOf(g.ARN!) }));
    return tagged.flatMap(({ g, tags }): DrillResource[] => {
      const drillId = tags[Tag.drill];
      return drillId
        ? [
            {
              kind: 'redis',
              id: g.ReplicationGroupId!,
              drillId,
              ...(g.ReplicationGroupCreateTime
                ? { createdAt: g.ReplicationGroupCreateTime.toISOString() }
                : {}),
              ...(g.Status ? { status: g.Status } : {}),
              region,
            },
          ]
        : [];
    });
  };

  return { region, groupCreatedAt, listSnapshots, restore, describe, remove, listDrillResources };
};
