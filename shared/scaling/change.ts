import type { PlannedChange } from './model.js';

/** One line for humans: what the change does. */
export const describeChange = (c: PlannedChange): string => {
  switch (c.type) {
    case 'rds.modifyClass':
      return `modify ${c.dbInstanceId} class ${c.from} → ${c.to}${c.applyImmediately ? ' (apply immediately)' : ' (next maintenance window)'}`;
    case 'rds.createReadReplica':
      return `create read replica ${c.replicaId} of ${c.sourceId}${c.instanceClass ? ` (${c.instanceClass})` : ''}`;
    case 'rds.createClusterReader':
      return `add reader ${c.instanceId} (${c.instanceClass}) to Aurora cluster ${c.clusterId}`;
    case 'rds.deleteReplica':
      return `delete replica ${c.instanceId} of ${c.of}`;
    case 'rds.rebootWithFailover':
      return `reboot ${c.dbInstanceId} with forced failover`;
    case 'rds.failoverCluster':
      return `fail over Aurora cluster ${c.clusterId}`;
    case 'elasticache.setShardCount':
      return `reshard ${c.replicationGroupId} ${c.from} → ${c.to} shards${c.remove ? ` (remove ${c.remove.join(', ')})` : ''}`;
    case 'elasticache.setReplicaCount':
      return c.shards
        ? `set ${c.replicationGroupId} replicas: ${c.shards.map((s) => `shard ${s.nodeGroupId} ${s.from} → ${s.to}`).join(', ')}`
        : `set ${c.replicationGroupId} replicas per shard ${c.from} → ${c.to}`;
    case 'elasticache.testFailover':
      return `fail over shard ${c.nodeGroupId} of ${c.replicationGroupId}`;
    case 'notify':
      return `notify about ${c.resource}`;
  }
};

/** Does this change alter the resource (and so start a cooldown)? */
export const changesResource = (c: PlannedChange): boolean => c.type !== 'notify';
