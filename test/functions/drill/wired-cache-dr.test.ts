import {
  CreateReplicationGroupCommand,
  DeleteReplicationGroupCommand,
  DescribeReplicationGroupsCommand,
  ElastiCacheClient,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-elasticache';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../../functions/drill/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { drillTargetId } from '../../../shared/drill/ids.js';
import type { ConfigError } from '../../../shared/errors.js';
import type { DrillState } from '../../../shared/drill/state.js';
import { CACHE_DRILL_ENV, drillEnv, drillTask, EXECUTION, wiredDrill } from '../../support/drill-wiring.js';
import { noServerlessCaches } from '../../support/serverless-mocks.js';

// A Redis drill from the DR copy through the drill function's real wiring (SDK clients mocked): it picks
// among the DR bucket's RDB copies, reads the DR stack's drill network, restores with SnapshotArns in the DR
// region, polls and deletes there; the IAM suite simulates these calls against the synthesized drill role.
const REGION = 'eu-west-1';
const DR = 'us-west-2';
const ACCOUNT = '111122223333';
const BUCKET = `steward-prod-rdb-dr-${ACCOUNT}-${DR}`;
const NOW = new Date('2026-02-01T05:00:05Z');
const config = parseConfig(
  {
    stage: 'prod',
    region: REGION,
    account: ACCOUNT,
    dr: { region: DR, kmsKeyArn: `arn:aws:kms:${DR}:${ACCOUNT}:alias/steward-dr` },
    backup: { policies: { cache: { kinds: ['elasticache'], copyToDr: true } } },
    drill: { enabled: true, caches: { 'rate-limits': { auth: 'iam', from: 'dr', rpoSeconds: 86_400 } } },
  },
  'test',
);
const env = drillEnv({ ...CACHE_DRILL_ENV, REDIS_DR_BUCKET: BUCKET }, ACCOUNT, REGION);
const execution = EXECUTION;
const ID = drillTargetId('rate-limits', execution.name);
const SNAPSHOT = 'steward-rate-limits-202601310300-sched';
const KEYS = [`elasticache/rate-limits/${SNAPSHOT}-0001.rdb`, `elasticache/rate-limits/${SNAPSHOT}-0002.rdb`];
const deps = () => wiredDrill(config, env, NOW);
const task = drillTask;

const ec = mockClient(ElastiCacheClient);
const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);
const ssm = mockClient(SSMClient);
const lambda = mockClient(LambdaClient);
beforeEach(() => {
  lambda.reset();
  ec.reset();
  noServerlessCaches(ec);
  rds.reset();
  s3.reset();
  ssm.reset();
  s3.on(GetObjectCommand).rejects(Object.assign(new Error('none'), { name: 'NoSuchKey' }));
});

describe('a Redis drill from the DR copy through the drill function', () => {
  it('restores the DR bucket’s copy into the DR stack’s drill network in the DR region, then deletes it there', async () => {
    // Prepare
    s3.on(ListObjectsV2Command, { Bucket: BUCKET, Prefix: 'elasticache/' }).resolves({
      $metadata: {},
      Contents: KEYS.map((Key) => ({ Key, LastModified: new Date('2026-01-31T03:40:00Z') })),
    });
    s3.on(HeadObjectCommand).resolves({
      $metadata: {},
      Metadata: {
        'steward-shards': '2',
        'steward-node-type': 'cache.r7g.large',
        'steward-engine': 'redis',
        'steward-engine-version': '7.1.0',
        'steward-largest-shard-bytes': String(200 * 1024 ** 2),
        'steward-created-at': '2026-01-31T03:00:00.000Z',
      },
    });
    ssm.on(GetParameterCommand).resolves({
      $metadata: {},
      Parameter: {
        Value: JSON.stringify({
          cacheSubnetGroupName: 'steward-prod-drill',
          securityGroupIds: ['sg-0d0cac4e'],
          userGroupId: 'steward-prod-drill',
        }),
      },
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
          ARN: `arn:aws:elasticache:${DR}:${ACCOUNT}:replicationgroup:${ID}`,
          Status: 'available',
          CacheNodeType: 'cache.t4g.medium',
          ConfigurationEndpoint: { Address: `clustercfg.${ID}.abc.usw2.cache.amazonaws.com`, Port: 6379 },
        },
      ],
    });
    // The source, looked up in the stage region: the live group, created before its snapshots.
    ec.on(DescribeReplicationGroupsCommand, { ReplicationGroupId: 'rate-limits' }).resolves({
      $metadata: {},
      ReplicationGroups: [
        { ReplicationGroupId: 'rate-limits', ReplicationGroupCreateTime: new Date('2025-01-01T00:00:00Z') },
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
    let s = (await run(task('start', { database: 'rate-limits' }), d)) as DrillState;
    s = (await run(task('select', s), d)) as DrillState;
    s = (await run(task('restore', s), d)) as DrillState;
    s = (await run(task('status', s), d)) as DrillState;
    const cleaned = (await run(task('cleanup', s), d)) as DrillState;

    // Assert
    expect(s.source).toMatchObject({ snapshotId: SNAPSHOT, region: DR });
    expect(ssm).toReceiveCommandWith(GetParameterCommand, { Name: '/steward/prod/drill/dr-cache-network' });
    expect(ec).toReceiveCommandWith(CreateReplicationGroupCommand, {
      ReplicationGroupId: ID,
      SnapshotArns: KEYS.map((k) => `arn:aws:s3:::${BUCKET}/${k}`),
      NumNodeGroups: 2,
      CacheSubnetGroupName: 'steward-prod-drill',
      SecurityGroupIds: ['sg-0d0cac4e'],
      UserGroupIds: ['steward-prod-drill'],
      TransitEncryptionEnabled: true,
    });
    // Every ElastiCache call went to the DR region's client but one: the live group's lookup in the stage
    // region, whose creation time tells its copies from an earlier namesake's.
    const calls = await Promise.all(
      ec
        .calls()
        .map(async (c) => [
          await (c.thisValue as ElastiCacheClient).config.region(),
          c.args[0].constructor.name,
        ]),
    );
    expect(calls.filter(([r]) => r !== DR)).toEqual([['eu-west-1', 'DescribeReplicationGroupsCommand']]);
    expect(s).toMatchObject({ available: true, target: { region: DR, endpoint: { port: 6379 } } });
    expect(cleaned.cleanup).toMatchObject({ status: 'deleted' });
    expect(ec).toReceiveCommandWith(DeleteReplicationGroupCommand, { ReplicationGroupId: ID });
  });
});

describe('verifying a Redis drill from the DR copy through the drill function', () => {
  const restored = (): DrillState => ({
    drillId: execution.name,
    startedAt: execution.startTime,
    input: { database: 'rate-limits' },
    database: 'rate-limits',
    kind: 'redis',
    targets: { rtoSeconds: 3600, rpoSeconds: 86_400 },
    source: { snapshotId: SNAPSHOT, referenceTime: '2026-01-31T03:00:00.000Z', region: DR },
    target: {
      kind: 'redis',
      id: ID,
      requestedAt: '2026-02-01T05:00:06.000Z',
      region: DR,
      endpoint: { host: `clustercfg.${ID}.abc.usw2.cache.amazonaws.com`, port: 6379 },
      iamUser: 'steward-prod-drill-verifier',
    },
    available: true,
  });
  const VERIFIER = `arn:aws:lambda:${DR}:${ACCOUNT}:function:steward-prod-drill-verify-cache`;
  const site = {
    cacheSubnetGroupName: 'steward-prod-drill',
    securityGroupIds: ['sg-0d0cac4e'],
    userGroupId: 'steward-prod-drill',
    verifierFunctionArn: VERIFIER,
  };
  const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

  it('relays verify to the DR stack’s cache verifier in the DR region and returns its state', async () => {
    // Prepare
    ssm.on(GetParameterCommand).resolves({ $metadata: {}, Parameter: { Value: JSON.stringify(site) } });
    const verified = { ...restored(), verifiedAt: NOW.toISOString(), verification: { passed: true } };
    lambda.on(InvokeCommand).resolves({ $metadata: {}, StatusCode: 200, Payload: json(verified) as never });

    // Act
    const s = (await run(task('verify-dr', restored()), deps())) as DrillState;

    // Assert
    expect(s).toEqual(verified);
    expect(ssm).toReceiveCommandWith(GetParameterCommand, { Name: '/steward/prod/drill/dr-cache-network' });
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 1);
    const sent = lambda.commandCalls(InvokeCommand)[0]!;
    expect(sent.args[0].input).toMatchObject({ FunctionName: VERIFIER, InvocationType: 'RequestResponse' });
    expect(JSON.parse(new TextDecoder().decode(sent.args[0].input.Payload as Uint8Array))).toEqual({
      task: 'verify',
      state: restored(),
      execution,
    });
    expect(await (sent.thisValue as LambdaClient).config.region()).toBe(DR);
  });

  it('fails the task under the DR verifier’s own error name when it throws', async () => {
    // Prepare
    ssm.on(GetParameterCommand).resolves({ $metadata: {}, Parameter: { Value: JSON.stringify(site) } });
    lambda.on(InvokeCommand).resolves({
      $metadata: {},
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: json({
        errorType: 'EventShapeError',
        errorMessage: 'Invalid drill state for task verify',
      }) as never,
    });

    // Act
    const err = await run(task('verify-dr', restored()), deps()).catch((e: unknown) => e);

    // Assert
    expect(err).toMatchObject({ name: 'EventShapeError' });
    expect(String((err as Error).message)).toContain('Invalid drill state for task verify');
  });

  it('names the DR stack to deploy when its parameter names no verifier, and invokes nothing', async () => {
    // Prepare
    const { verifierFunctionArn: _, ...old } = site;
    ssm.on(GetParameterCommand).resolves({ $metadata: {}, Parameter: { Value: JSON.stringify(old) } });

    // Act
    const err = await run(task('verify-dr', restored()), deps()).catch((e: unknown) => e);

    // Assert
    expect((err as ConfigError).issues?.join('\n')).toMatch(
      /names no cache verifier.*deploy Steward-prod-dr/,
    );
    expect(lambda).toHaveReceivedCommandTimes(InvokeCommand, 0);
  });
});
