import type { ScalingResources } from '../scaling/ports.js';
import type { ElastiCacheScaling } from './elasticache-scaling.js';
import type { RdsScaling } from './rds-scaling.js';

/** ScalingResources over the RDS and ElastiCache scaling adapters of one region. */
export const awsScalingResources = (rds: RdsScaling, cache: ElastiCacheScaling): ScalingResources => ({
  region: rds.region,
  describe: (kind, id) =>
    kind === 'rds-instance'
      ? rds.describeInstance(id)
      : kind === 'aurora-cluster'
        ? rds.describeCluster(id)
        : cache.describeReplicationGroup(id),
  apply: async (c) => {
    switch (c.type) {
      case 'rds.modifyClass':
        return rds.modifyInstanceClass(c.dbInstanceId, c.to, c.applyImmediately);
      case 'rds.createReadReplica':
        return rds.createReadReplica(c);
      case 'rds.createClusterReader':
        return rds.createClusterReader(c);
      case 'rds.deleteReplica':
        return rds.deleteReplica(c.instanceId);
      case 'rds.rebootWithFailover':
        return rds.rebootWithFailover(c.dbInstanceId);
      case 'rds.failoverCluster':
        return rds.failoverCluster(c.clusterId);
      case 'elasticache.setShardCount':
        return cache.setShardCount(c.replicationGroupId, c.to, c.remove);
      case 'elasticache.setReplicaCount':
        return c.to > c.from
          ? cache.increaseReplicaCount(c.replicationGroupId, c.to)
          : cache.decreaseReplicaCount(c.replicationGroupId, c.to);
      case 'elasticache.testFailover':
        return cache.testFailover(c.replicationGroupId, c.nodeGroupId);
      case 'notify':
        return 'done';
    }
  },
});
