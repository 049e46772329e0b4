import {
  DecreaseReplicaCountCommand,
  DescribeReplicationGroupsCommand,
  ElastiCacheClient,
  IncreaseReplicaCountCommand,
  ModifyReplicationGroupShardConfigurationCommand,
  ReplicationGroupNotFoundFault,
  TestFailoverCommand,
  TestFailoverNotAvailableFault,
} from '@aws-sdk/client-elasticache';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { elastiCacheScaling } from '../../../shared/aws/elasticache-scaling.js';
import { AwsCallError } from '../../../shared/errors.js';
import { noServerlessCaches } from '../../support/serverless-mocks.js';

const ec = mockClient(ElastiCacheClient);
const REGION = 'eu-west-1';
const meta = { $metadata: {} };
const ARN = 'arn:aws:elasticache:eu-west-1:111122223333:replicationgroup:sessions-redis';
const adapter = () => elastiCacheScaling(REGION, new ElastiCacheClient({ region: REGION }));
const members = (n: number) => Array.from({ length: n }, (_, i) => ({ CacheClusterId: `m-${i}` }));

beforeEach(() => {
  ec.reset();
  noServerlessCaches(ec);
});

describe('elastiCacheScaling.describeReplicationGroup', () => {
  it('turns the group into plain data: cluster mode, failover, shards sorted with their replica counts', async () => {
    // Prepare
    ec.on(DescribeReplicationGroupsCommand, { ReplicationGroupId: 'sessions-redis' }).resolves({
      ...meta,
      ReplicationGroups: [
        {
          ReplicationGroupId: 'sessions-redis',
          ARN,
          Status: 'available',
          ClusterEnabled: true,
          AutomaticFailover: 'enabled',
          PendingModifiedValues: { Resharding: { SlotMigration: { ProgressPercentage: 40 } } },
          NodeGroups: [
            { NodeGroupId: '0002', Status: 'available', NodeGroupMembers: members(3) },
            { NodeGroupId: '0001', Status: 'available', NodeGroupMembers: members(2) },
          ],
        },
      ],
    });

    // Act
    const g = await adapter().describeReplicationGroup('sessions-redis');

    // Assert
    expect(g).toEqual({
      kind: 'elasticache',
      id: 'sessions-redis',
      arn: ARN,
      status: 'available',
      pending: ['Resharding'],
      clusterMode: true,
      automaticFailover: 'enabled',
      multiAz: false,
      nodeGroups: [
        { id: '0001', status: 'available', replicas: 1 },
        { id: '0002', status: 'available', replicas: 2 },
      ],
    });
  });

  it('returns undefined for a group that does not exist', async () => {
    // Prepare
    ec.on(DescribeReplicationGroupsCommand).rejects(
      new ReplicationGroupNotFoundFault({ $metadata: {}, message: 'no' }),
    );

    // Act
    const g = await adapter().describeReplicationGroup('gone');

    // Assert
    expect(g).toBeUndefined();
  });
});

describe('elastiCacheScaling calls', () => {
  it('reshards immediately to the new count, naming the shard to remove when scaling in', async () => {
    // Prepare
    ec.on(ModifyReplicationGroupShardConfigurationCommand).resolves(meta);

    // Act
    await adapter().setShardCount('sessions-redis', 3);
    await adapter().setShardCount('sessions-redis', 2, ['0003']);

    // Assert
    expect(ec).toReceiveNthCommandWith(ModifyReplicationGroupShardConfigurationCommand, 1, {
      ReplicationGroupId: 'sessions-redis',
      NodeGroupCount: 3,
      ApplyImmediately: true,
    });
    expect(ec).toReceiveNthCommandWith(ModifyReplicationGroupShardConfigurationCommand, 2, {
      ReplicationGroupId: 'sessions-redis',
      NodeGroupCount: 2,
      ApplyImmediately: true,
      NodeGroupsToRemove: ['0003'],
    });
  });

  it('sets the replica count per shard up and down, immediately', async () => {
    // Prepare
    ec.on(IncreaseReplicaCountCommand).resolves(meta).on(DecreaseReplicaCountCommand).resolves(meta);

    // Act
    await adapter().increaseReplicaCount('sessions-redis', 2);
    await adapter().decreaseReplicaCount('sessions-redis', 1);

    // Assert
    expect(ec).toReceiveCommandWith(IncreaseReplicaCountCommand, {
      ReplicationGroupId: 'sessions-redis',
      NewReplicaCount: 2,
      ApplyImmediately: true,
    });
    expect(ec).toReceiveCommandWith(DecreaseReplicaCountCommand, {
      ReplicationGroupId: 'sessions-redis',
      NewReplicaCount: 1,
      ApplyImmediately: true,
    });
  });

  it('changes unequal shards one by one (ReplicaConfiguration), naming only the shards that move', async () => {
    // Prepare
    ec.on(IncreaseReplicaCountCommand).resolves(meta).on(DecreaseReplicaCountCommand).resolves(meta);

    // Act
    await adapter().increaseReplicaCount('sessions-redis', [{ nodeGroupId: '0002', from: 1, to: 2 }]);
    await adapter().decreaseReplicaCount('sessions-redis', [
      { nodeGroupId: '0001', from: 3, to: 2 },
      { nodeGroupId: '0003', from: 2, to: 1 },
    ]);

    // Assert: no NewReplicaCount, which would set every shard to one count.
    expect(ec).toReceiveCommandWith(IncreaseReplicaCountCommand, {
      ReplicationGroupId: 'sessions-redis',
      ReplicaConfiguration: [{ NodeGroupId: '0002', NewReplicaCount: 2 }],
      ApplyImmediately: true,
    });
    expect(ec.commandCalls(DecreaseReplicaCountCommand)[0]!.args[0].input).toEqual({
      ReplicationGroupId: 'sessions-redis',
      ReplicaConfiguration: [
        { NodeGroupId: '0001', NewReplicaCount: 2 },
        { NodeGroupId: '0003', NewReplicaCount: 1 },
      ],
      ApplyImmediately: true,
    });
  });

  it('reads Multi-AZ from the group', async () => {
    // Prepare
    ec.on(DescribeReplicationGroupsCommand).resolves({
      ReplicationGroups: [{ ReplicationGroupId: 'sessions-redis', Status: 'available', MultiAZ: 'enabled' }],
    });

    // Act
    const g = await adapter().describeReplicationGroup('sessions-redis');

    // Assert
    expect(g).toMatchObject({ multiAz: true });
  });

  it('tests failover of one shard, and reports the daily limit as an AwsCallError', async () => {
    // Prepare
    ec.on(TestFailoverCommand)
      .resolvesOnce(meta)
      .rejectsOnce(new TestFailoverNotAvailableFault({ $metadata: {}, message: 'limit reached' }));

    // Act
    const ok = await adapter().testFailover('sessions-redis', '0001');
    const limited = adapter().testFailover('sessions-redis', '0001');

    // Assert
    expect(ok).toBe('done');
    expect(ec).toReceiveCommandWith(TestFailoverCommand, {
      ReplicationGroupId: 'sessions-redis',
      NodeGroupId: '0001',
    });
    await expect(limited).rejects.toThrow(AwsCallError);
    await expect(limited).rejects.toThrow(
      /TestFailover failed for replication group sessions-redis shard 0001 in eu-west-1: TestFailoverNotAvailableFault/,
    );
  });
});
