import {
  CreateReplicationGroupCommand,
  DeleteReplicationGroupCommand,
  DescribeReplicationGroupsCommand,
  DescribeSnapshotsCommand,
  ElastiCacheClient,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-elasticache';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../../functions/drill/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { drillTargetId } from '../../../shared/drill/ids.js';
import type { DrillState } from '../../../shared/drill/state.js';
import { CACHE_DRILL_ENV, drillEnv, drillTask, EXECUTION, wiredDrill } from '../../support/drill-wiring.js';
import { noServerlessCaches } from '../../support/serverless-mocks.js';

// A Redis drill through the drill function's real wiring (SDK clients mocked): the ElastiCache calls exactly
// as the code sends them, which the IAM suite simulates against the synthesized drill role.
const REGION = 'eu-west-1';
const NOW = new Date('2026-02-01T05:00:05Z');
const config = parseConfig(
  {
    stage: 'prod',
    region: REGION,
    drill: { enabled: true, caches: { 'sessions-redis': { auth: 'iam', rpoSeconds: 86_400 } } },
  },
  'test',
);
const env = drillEnv(CACHE_DRILL_ENV);
const execution = EXECUTION;
const ID = drillTargetId('sessions-redis', execution.name);
const arn = (id: string) => `arn:aws:elasticache:${REGION}:111122223333:replicationgroup:${id}`;
const deps = () => wiredDrill(config, env, NOW);
const task = drillTask;

const ec = mockClient(ElastiCacheClient);
const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);
// The state table: the janitor reads the drill copies being deleted (none).
const doc = mockClient(DynamoDBDocumentClient);
afterAll(() => doc.restore());
beforeEach(() => {
  ec.reset();
  noServerlessCaches(ec);
  rds.reset();
  s3.reset();
  doc.reset();
  doc.on(GetCommand).resolves({});
  s3.on(GetObjectCommand).rejects(Object.assign(new Error('none'), { name: 'NoSuchKey' }));
});

describe('a Redis drill through the drill function', () => {
  it('selects, restores into the drill network, polls and deletes the group with the real adapters', async () => {
    // Prepare
    ec.on(DescribeSnapshotsCommand).resolves({
      $metadata: {},
      Snapshots: [
        {
          SnapshotName: 'steward-sessions-redis-202601310300-sched',
          ARN: 'arn:aws:elasticache:eu-west-1:111122223333:snapshot:steward-sessions-redis-202601310300-sched',
          ReplicationGroupId: 'sessions-redis',
          SnapshotStatus: 'available',
          SnapshotSource: 'manual',
          CacheNodeType: 'cache.r7g.large',
          Engine: 'redis',
          EngineVersion: '7.1.0',
          NodeSnapshots: [{ CacheSize: '120 MB', SnapshotCreateTime: new Date('2026-01-31T03:00:00Z') }],
        },
      ],
    });
    ec.on(CreateReplicationGroupCommand).resolves({
      $metadata: {},
      ReplicationGroup: { ReplicationGroupId: ID, Status: 'creating' },
    });
    ec.on(DescribeReplicationGroupsCommand).resolves({
      $metadata: {},
      ReplicationGroups: [
        {
          ReplicationGroupId: ID,
          ARN: arn(ID),
          Status: 'available',
          CacheNodeType: 'cache.t4g.micro',
          NodeGroups: [
            { PrimaryEndpoint: { Address: `master.${ID}.abc.euw1.cache.amazonaws.com`, Port: 6379 } },
          ],
        },
      ],
    });
    // The source, looked up in the stage region: the live group, created before its snapshots.
    ec.on(DescribeReplicationGroupsCommand, { ReplicationGroupId: 'sessions-redis' }).resolves({
      $metadata: {},
      ReplicationGroups: [
        {
          ReplicationGroupId: 'sessions-redis',
          ReplicationGroupCreateTime: new Date('2025-01-01T00:00:00Z'),
        },
      ],
    });
    ec.on(ListTagsForResourceCommand).resolves({
      $metadata: {},
      TagList: [
        { Key: 'steward:drill', Value: execution.name },
        { Key: 'steward:managed', Value: 'true' },
      ],
    });
    ec.on(DeleteReplicationGroupCommand).resolves({ $metadata: {} });
    rds.on(DescribeDBInstancesCommand).resolves({ $metadata: {}, DBInstances: [] });
    rds.on(DescribeDBClustersCommand).resolves({ $metadata: {}, DBClusters: [] });
    const d = deps();

    // Act
    let s = (await run(task('start', { database: 'sessions-redis' }), d)) as DrillState;
    s = (await run(task('select', s), d)) as DrillState;
    s = (await run(task('restore', s), d)) as DrillState;
    s = (await run(task('status', s), d)) as DrillState;
    const cleaned = (await run(task('cleanup', s), d)) as DrillState;
    const janitor = await run({ action: 'janitor' }, d);

    // Assert
    expect(ec).toReceiveCommandWith(CreateReplicationGroupCommand, {
      ReplicationGroupId: ID,
      SnapshotName: 'steward-sessions-redis-202601310300-sched',
      CacheNodeType: 'cache.t4g.micro',
      CacheSubnetGroupName: 'steward-prod-drill',
      SecurityGroupIds: ['sg-0cac4e123'],
      UserGroupIds: ['steward-prod-drill'],
      TransitEncryptionEnabled: true,
    });
    expect(s).toMatchObject({
      available: true,
      target: { iamUser: 'steward-prod-drill-verifier', endpoint: { port: 6379 } },
    });
    expect(cleaned.cleanup).toMatchObject({ status: 'deleted' });
    expect(ec).toReceiveCommandWith(DeleteReplicationGroupCommand, {
      ReplicationGroupId: ID,
      RetainPrimaryCluster: false,
    });
    // The janitor lists drill groups too (this one is young: kept).
    expect(janitor).toMatchObject({ verdicts: [{ resource: { kind: 'redis', id: ID }, action: 'keep' }] });
  });
});
