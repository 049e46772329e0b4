import {
  DecreaseReplicaCountCommand,
  DescribeReplicationGroupsCommand,
  type ElastiCacheClient,
  IncreaseReplicaCountCommand,
  ModifyReplicationGroupShardConfigurationCommand,
  TestFailoverCommand,
} from '@aws-sdk/client-elasticache';
import type { CacheGroupState, ReplicaStep } from '../scaling/model.js';
import { attempt, call } from './call.js';
import { pendingNames } from './rds-scaling.js';

// The factory of the client this adapter sends through, for the callers that load this module on first use:
// the client's code then loads with the adapter that uses it, never before (test/infra/bundles.test.ts).
export { elastiCacheClient } from './clients/elasticache.js';

/**
 * ElastiCache side of scaling in one region, for Valkey / Redis OSS replication groups. Every call applies
 * immediately: ElastiCache requires `ApplyImmediately: true` for resharding and replica changes.
 */
export const elastiCacheScaling = (region: string, elasticache: ElastiCacheClient) => {
  const change = async (operation: string, resource: string, send: () => Promise<unknown>) => {
    await call(operation, `replication group ${resource} in ${region}`, send);
    return 'done' as const;
  };

  /** One replication group, or undefined when it does not exist. */
  const describeReplicationGroup = async (id: string): Promise<CacheGroupState | undefined> => {
    const r = await attempt(
      'DescribeReplicationGroups',
      `replication group ${id} in ${region}`,
      () => elasticache.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id })),
      { gone: ['ReplicationGroupNotFoundFault'] },
    );
    const g = r.ok ? r.value.ReplicationGroups?.[0] : undefined;
    if (!g) return undefined;
    return {
      kind: 'elasticache',
      id: g.ReplicationGroupId ?? id,
      arn: g.ARN ?? '',
      status: g.Status ?? 'unknown',
      pending: pendingNames(g.PendingModifiedValues),
      clusterMode: g.ClusterEnabled ?? false,
      automaticFailover: g.AutomaticFailover ?? 'disabled',
      multiAz: g.MultiAZ === 'enabled',
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
    change('ModifyReplicationGroupShardConfiguration', `${id} (→ ${count} shards)`, () =>
      elasticache.send(
        new ModifyReplicationGroupShardConfigurationCommand({
          ReplicationGroupId: id,
          NodeGroupCount: count,
          ApplyImmediately: true,
          ...(remove?.length ? { NodeGroupsToRemove: remove } : {}),
        }),
      ),
    );

  /**
   * A number sets every shard to that many replicas (NewReplicaCount); steps set each named shard to its own
   * count (ReplicaConfiguration, cluster mode enabled), leaving the shards not named as they are.
   */
  const counts = (to: number | readonly ReplicaStep[]) =>
    typeof to === 'number'
      ? { what: `→ ${to} replicas`, input: { NewReplicaCount: to } }
      : {
          what: to.map((s) => `${s.nodeGroupId} → ${s.to}`).join(', '),
          input: {
            ReplicaConfiguration: to.map((s) => ({ NodeGroupId: s.nodeGroupId, NewReplicaCount: s.to })),
          },
        };

  const increaseReplicaCount = (id: string, to: number | readonly ReplicaStep[]) => {
    const c = counts(to);
    return change('IncreaseReplicaCount', `${id} (${c.what})`, () =>
      elasticache.send(
        new IncreaseReplicaCountCommand({ ReplicationGroupId: id, ...c.input, ApplyImmediately: true }),
      ),
    );
  };

  const decreaseReplicaCount = (id: string, to: number | readonly ReplicaStep[]) => {
    const c = counts(to);
    return change('DecreaseReplicaCount', `${id} (${c.what})`, () =>
      elasticache.send(
        new DecreaseReplicaCountCommand({ ReplicationGroupId: id, ...c.input, ApplyImmediately: true }),
      ),
    );
  };

  /** Promote a replica of one shard (ElastiCache limits how often per day: TestFailoverNotAvailableFault). */
  const testFailover = (id: string, nodeGroupId: string) =>
    change('TestFailover', `${id} shard ${nodeGroupId}`, () =>
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
