import type { ScalingResources } from '../scaling/ports.js';
import type { ElastiCacheScaling } from './elasticache-scaling.js';
import type { RdsScaling } from './rds-scaling.js';

/**
 * ScalingResources over the RDS and ElastiCache scaling adapters of one region, each got when a resource of
 * its kind is first described or changed: the function's wiring imports an adapter (and its SDK commands)
 * only then, so an RDS rule's alarm never loads ElastiCache's, and an alarm a guard stops loads neither.
 */
export const scalingResourcesOf = (
  region: string,
  rds: () => Promise<RdsScaling>,
  cache: () => Promise<ElastiCacheScaling>,
): ScalingResources => ({
  region,
  describe: async (kind, id, o) =>
    kind === 'rds-instance'
      ? (await rds()).describeInstance(id, o)
      : kind === 'aurora-cluster'
        ? (await rds()).describeCluster(id)
        : (await cache()).describeReplicationGroup(id),
  apply: async (c) => {
    switch (c.type) {
      case 'rds.modifyClass':
        return (await rds()).modifyInstanceClass(c.dbInstanceId, c.to, c.applyImmediately);
      case 'rds.createReadReplica':
        return (await rds()).createReadReplica(c);
      case 'rds.createClusterReader':
        return (await rds()).createClusterReader(c);
      case 'rds.deleteReplica':
        return (await rds()).deleteReplica(c.instanceId);
      case 'rds.rebootWithFailover':
        return (await rds()).rebootWithFailover(c.dbInstanceId);
      case 'rds.failoverCluster':
        return (await rds()).failoverCluster(c.clusterId);
      case 'elasticache.setShardCount':
        return (await cache()).setShardCount(c.replicationGroupId, c.to, c.remove);
      case 'elasticache.setReplicaCount':
        // Unequal shards move one by one (ReplicaConfiguration); equal ones by one NewReplicaCount.
        return c.to > c.from
          ? (await cache()).increaseReplicaCount(c.replicationGroupId, c.shards ?? c.to)
          : (await cache()).decreaseReplicaCount(c.replicationGroupId, c.shards ?? c.to);
      case 'elasticache.testFailover':
        return (await cache()).testFailover(c.replicationGroupId, c.nodeGroupId);
      case 'notify':
        return 'done';
    }
  },
});

/** ScalingResources over the RDS and ElastiCache scaling adapters of one region. */
export const awsScalingResources = (rds: RdsScaling, cache: ElastiCacheScaling): ScalingResources =>
  scalingResourcesOf(
    rds.region,
    () => Promise.resolve(rds),
    () => Promise.resolve(cache),
  );
