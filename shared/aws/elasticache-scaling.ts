import {
  DecreaseReplicaCountCommand,
  DescribeReplicationGroupsCommand,
  type ElastiCacheClient,
  IncreaseReplicaCountCommand,
  ModifyReplicationGroupShardConfigurationCommand,
  TestFailoverCommand,
} from '@aws-sdk/client-elasticache';
import { AwsCallError, errorName } from '../errors.js';
import type { CacheGroupState } from '../scaling/model.js';
import { pendingNames } from './rds-scaling.js';

/**
 * ElastiCache side of scaling in one region, for Valkey / Redis OSS replication groups. Every call applies
 * immediately: ElastiCache requires `ApplyImmediately: true` for resharding and replica changes.
 */
export const elastiCacheScaling = (region: string, elasticache: ElastiCacheClient) => {
  const call = async (operation: string, resource: string, send: () => Promise<unknown>) => {
    try {
      await send();
      return 'done' as const;
    } catch (e) {
      throw new AwsCallError(operation, `replication group ${resource} in ${region}`, e);
    }
  };

  /** One replication group, or undefined when it does not exist. */
  const describeReplicationGroup = async (id: string): Promise<CacheGroupState | undefined> => {
    let g;
    try {
      g = (await elasticache.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id })))
        .ReplicationGroups?.[0];
    } catch (e) {
      if (errorName(e) === 'ReplicationGroupNotFoundFault') return undefined;
      throw new AwsCallError('DescribeReplicationGroups', `replication group ${id} in ${region}`, e);
    }
    if (!g) return undefined;
    return {
      kind: 'elasticache',
      id: g.ReplicationGroupId ?? id,
      arn: g.ARN ?? '',
      status: g.Status ?? 'unknown',
      pending: pendingNames(g.PendingModifiedValues),
      clusterMode: g.ClusterEnabled ?? false,
      automaticFailover: g.AutomaticFailover ?? 'disabled',
      nodeGroups: (g.NodeGroups ?? [])
        .map((n) => ({
          id: n.NodeGroupId ?? '',
          status: n.Status ?? 'unknown',
          // Members are the primary and its replicas.
          replicas: Math.max(0, (n.NodeGroupMembers?.length ?? 1) - 1),
        }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    };
  };

  /** Reshard online to `count` shards; scaling in must name the shards to remove. */
  const setShardCount = (id: string, count: number, remove?: string[]) =>
    call('ModifyReplicationGroupShardConfiguration', `${id} (→ ${count} shards)`, () =>
      elasticache.send(
        new ModifyReplicationGroupShardConfigurationCommand({
          ReplicationGroupId: id,
          NodeGroupCount: count,
          ApplyImmediately: true,
          ...(remove?.length ? { NodeGroupsToRemove: remove } : {}),
        }),
      ),
    );

  /** Every shard to `count` replicas. */
  const increaseReplicaCount = (id: string, count: number) =>
    call('IncreaseReplicaCount', `${id} (→ ${count} replicas)`, () =>
      elasticache.send(
        new IncreaseReplicaCountCommand({
          ReplicationGroupId: id,
          NewReplicaCount: count,
          ApplyImmediately: true,
        }),
      ),
    );

  const decreaseReplicaCount = (id: string, count: number) =>
    call('DecreaseReplicaCount', `${id} (→ ${count} replicas)`, () =>
      elasticache.send(
        new DecreaseReplicaCountCommand({
          ReplicationGroupId: id,
          NewReplicaCount: count,
          ApplyImmediately: true,
        }),
      ),
    );

  /** Promote a replica of one shard (ElastiCache limits how often per day: TestFailoverNotAvailableFault). */
  const testFailover = (id: string, nodeGroupId: string) =>
    call('TestFailover', `${id} shard ${nodeGroupId}`, () =>
      elasticache.send(new TestFailoverCommand({ ReplicationGroupId: id, NodeGroupId: nodeGroupId })),
    );

  return {
    region,
    describeReplicationGroup,
    setShardCount,
    increaseReplicaCount,
    decreaseReplicaCount,
    testFailover,
  };
};

/** The ElastiCache scaling adapter of one region. */
export type ElastiCacheScaling = ReturnType<typeof elastiCacheScaling>;
