import {
  DescribeReplicationGroupsCommand,
  DescribeSnapshotsCommand,
  ElastiCacheClient,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-elasticache';
import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  DescribeInstancesCommand,
  DescribeSnapshotsCommand as DescribeEc2SnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ebsBackup } from '../../../shared/aws/ebs.js';
import { awsEstateReader, dynamoScalingReader, s3History } from '../../../shared/aws/estate.js';
import { AwsCallError } from '../../../shared/errors.js';
import { noServerlessCaches } from '../../support/serverless-mocks.js';

const rds = mockClient(RDSClient);
const cache = mockClient(ElastiCacheClient);
const s3 = mockClient(S3Client);
const ddb = mockClient(DynamoDBDocumentClient);
const REGION = 'eu-west-1';
const NOW = new Date('2026-11-23T06:00:00Z');

const body = (text: string) => ({ transformToString: async () => text });

beforeEach(() => {
  rds.reset();
  cache.reset();
  noServerlessCaches(cache);
  s3.reset();
  ddb.reset();
});

describe('awsEstateReader', () => {
  it('lists every database kind once, with tags, creation time and replica source', async () => {
    // Prepare
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'orders-db',
          DBInstanceArn: 'arn:aws:rds:eu-west-1:111122223333:db:orders-db',
          Engine: 'postgres',
          DBInstanceStatus: 'available',
          InstanceCreateTime: new Date('2025-01-01T00:00:00Z'),
          TagList: [{ Key: 'steward:backup', Value: 'daily' }],
        },
        {
          DBInstanceIdentifier: 'orders-db-replica-1',
          DBInstanceArn: 'arn:aws:rds:eu-west-1:111122223333:db:orders-db-replica-1',
          Engine: 'postgres',
          DBInstanceStatus: 'available',
          ReadReplicaSourceDBInstanceIdentifier: 'orders-db',
        },
      ],
    });
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });
    cache.on(DescribeReplicationGroupsCommand).resolves({
      ReplicationGroups: [
        {
          ReplicationGroupId: 'sessions',
          ARN: 'arn:aws:elasticache:eu-west-1:111122223333:replicationgroup:sessions',
          Status: 'available',
          ReplicationGroupCreateTime: new Date('2025-02-01T00:00:00Z'),
        },
      ],
    });
    cache.on(ListTagsForResourceCommand).resolves({ TagList: [{ Key: 'steward:backup', Value: 'cache' }] });
    // Act
    const dbs = await awsEstateReader(REGION, new RDSClient({}), new ElastiCacheClient({})).databases();
    // Assert
    expect(dbs.map((d) => [d.kind, d.id, d.tags['steward:backup'], d.createdAt, d.replicaOf])).toEqual([
      ['rds-instance', 'orders-db', 'daily', '2025-01-01T00:00:00.000Z', undefined],
      ['rds-instance', 'orders-db-replica-1', undefined, undefined, 'orders-db'],
      ['elasticache', 'sessions', 'cache', '2025-02-01T00:00:00.000Z', undefined],
    ]);
    expect(rds).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 1);
  });

  it('lists snapshots manual and automated in the same pages, with no per-snapshot call', async () => {
    // Prepare
    rds
      .on(DescribeDBSnapshotsCommand, { Marker: undefined })
      .resolves({
        Marker: 'page-2',
        DBSnapshots: [
          {
            DBSnapshotIdentifier: 'steward-orders-db-202611230300-sched',
            DBInstanceIdentifier: 'orders-db',
            SnapshotType: 'manual',
            Status: 'available',
            SnapshotCreateTime: new Date('2026-11-23T03:02:00Z'),
            TagList: [{ Key: 'steward:managed', Value: 'true' }],
          },
        ],
      })
      .on(DescribeDBSnapshotsCommand, { Marker: 'page-2' })
      .resolves({
        DBSnapshots: [
          {
            DBSnapshotIdentifier: 'rds:orders-db-2026-11-23-04-10',
            DBInstanceIdentifier: 'orders-db',
            SnapshotType: 'automated',
            Status: 'available',
          },
        ],
      });
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
    cache.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [
        {
          SnapshotName: 'steward-sessions-202611230300-sched',
          ReplicationGroupId: 'sessions',
          SnapshotSource: 'manual',
          SnapshotStatus: 'available',
          ARN: 'arn:aws:elasticache:eu-west-1:111122223333:snapshot:steward-sessions-202611230300-sched',
        },
      ],
    });
    // Act
    const snaps = await awsEstateReader(REGION, new RDSClient({}), new ElastiCacheClient({})).snapshots();
    // Assert
    expect(snaps.map((s) => [s.kind, s.id, s.type, s.sourceId])).toEqual([
      ['rds-instance', 'steward-orders-db-202611230300-sched', 'manual', 'orders-db'],
      ['rds-instance', 'rds:orders-db-2026-11-23-04-10', 'automated', 'orders-db'],
      ['elasticache', 'steward-sessions-202611230300-sched', 'manual', 'sessions'],
    ]);
    expect(rds).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, { MaxRecords: 100, Marker: 'page-2' });
    expect(rds.commandCalls(DescribeDBSnapshotsCommand)[0]!.args[0].input).not.toHaveProperty('SnapshotType');
    expect(cache.commandCalls(DescribeSnapshotsCommand)[0]!.args[0].input).toEqual({ MaxRecords: 50 });
    expect(cache).not.toHaveReceivedCommand(ListTagsForResourceCommand);
  });

  it('names the call and region when a describe fails', async () => {
    // Prepare
    rds.on(DescribeDBSnapshotsCommand).rejects(Object.assign(new Error('no'), { name: 'AccessDenied' }));
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({});
    cache.on(DescribeSnapshotsCommand).resolves({});
    // Act / Assert
    const read = awsEstateReader(REGION, new RDSClient({}), new ElastiCacheClient({})).snapshots();
    await expect(read).rejects.toThrow(AwsCallError);
    await expect(read).rejects.toThrow(/DescribeDBSnapshots failed for region eu-west-1: AccessDenied/);
  });
});

describe('s3History', () => {
  it('lists every page under a prefix, reads a missing key as undefined and writes with a content type', async () => {
    // Prepare
    s3.on(ListObjectsV2Command, { ContinuationToken: undefined })
      .resolves({
        NextContinuationToken: 't2',
        IsTruncated: true,
        Contents: [{ Key: 'drills/a/2026/11/x.json', LastModified: new Date('2026-11-01T06:00:00Z') }],
      })
      .on(ListObjectsV2Command, { ContinuationToken: 't2' })
      .resolves({ Contents: [{ Key: 'drills/b/2026/11/y.json' }] });
    s3.on(GetObjectCommand, { Key: 'drills/a/2026/11/x.json' }).resolves({ Body: body('{"a":1}') } as never);
    s3.on(GetObjectCommand, { Key: 'missing.json' }).rejects(
      Object.assign(new Error('gone'), { name: 'NoSuchKey' }),
    );
    s3.on(PutObjectCommand).resolves({});
    const h = s3History(new S3Client({}), 'steward-prod-reports-111122223333-eu-west-1', 'eu-west-1');
    // Act
    const listed = await h.list('drills/');
    const got = await h.get('drills/a/2026/11/x.json');
    const missing = await h.get('missing.json');
    await h.put('evidence/2026-11/report.html', '<html></html>', 'text/html; charset=utf-8');
    // Assert
    expect(listed).toEqual([
      { key: 'drills/a/2026/11/x.json', lastModified: '2026-11-01T06:00:00.000Z' },
      { key: 'drills/b/2026/11/y.json' },
    ]);
    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, {
      Bucket: 'steward-prod-reports-111122223333-eu-west-1',
      Prefix: 'drills/',
      ContinuationToken: 't2',
    });
    expect(got).toBe('{"a":1}');
    expect(missing).toBeUndefined();
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Key: 'evidence/2026-11/report.html',
      ContentType: 'text/html; charset=utf-8',
      ServerSideEncryption: 'AES256',
    });
    expect(h.location).toBe('s3://steward-prod-reports-111122223333-eu-west-1');
  });
});

describe('dynamoScalingReader', () => {
  it("reads the rules' cooldowns and pending approvals by key, never by Scan", async () => {
    // Prepare
    const TABLE = 'steward-prod-state';
    const approval = (id: string, status: string, expiresAt = '2026-11-24T00:00:00.000Z') => ({
      pk: `scaling-approval#${id}`,
      status,
      approval: JSON.stringify({
        id,
        rule: 'orders-db-failover',
        expiresAt,
        change: { type: 'rds.rebootWithFailover', dbInstanceId: 'orders-db' },
      }),
    });
    ddb
      .on(BatchGetCommand)
      .callsFake((input: { RequestItems: Record<string, { Keys: { pk: string }[] }> }) => {
        const keys = input.RequestItems[TABLE]!.Keys.map((k) => k.pk);
        const items: Record<string, unknown>[] = [
          {
            pk: 'scaling-cooldown#rds-instance:orders-db',
            until: '2026-11-23T06:12:00.000Z',
            rule: 'orders-db-cpu',
          },
          { pk: 'scaling-pending#orders-db-failover', ids: new Set(['e34135da0d95', 'old', 'done']) },
          approval('e34135da0d95', 'pending'),
          approval('old', 'pending', '2026-11-22T00:00:00.000Z'),
          approval('done', 'executed'),
        ];
        return { Responses: { [TABLE]: items.filter((i) => keys.includes(i.pk as string)) } };
      });
    const reader = dynamoScalingReader(
      DynamoDBDocumentClient.from(new DynamoDBClient({})),
      TABLE,
      {
        'orders-db-cpu': { resource: 'orders-db', kind: 'rds-instance' },
        'orders-db-failover': { resource: 'orders-db', kind: 'rds-instance' },
      },
      () => NOW,
    );
    // Act
    const state = await reader.scalingState();
    // Assert
    expect(state).toEqual([
      {
        kind: 'rds-instance',
        resource: 'orders-db',
        cooldownUntil: '2026-11-23T06:12:00.000Z',
        lastRule: 'orders-db-cpu',
        approvals: [
          {
            id: 'e34135da0d95',
            rule: 'orders-db-failover',
            change: 'reboot orders-db with forced failover',
            expiresAt: '2026-11-24T00:00:00.000Z',
          },
        ],
      },
    ]);
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 2);
    expect(ddb).toHaveReceivedNthCommandWith(BatchGetCommand, 1, {
      RequestItems: {
        [TABLE]: {
          Keys: [
            { pk: 'scaling-cooldown#rds-instance:orders-db' },
            { pk: 'scaling-pending#orders-db-cpu' },
            { pk: 'scaling-pending#orders-db-failover' },
          ],
        },
      },
    });
  });

  it('asks again for keys DynamoDB left unprocessed', async () => {
    // Prepare
    const TABLE = 't';
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { [TABLE]: [] },
        UnprocessedKeys: { [TABLE]: { Keys: [{ pk: 'scaling-cooldown#rds-instance:a' }] } },
      })
      .resolves({
        Responses: {
          [TABLE]: [{ pk: 'scaling-cooldown#rds-instance:a', until: '2026-11-23T07:00:00.000Z' }],
        },
      });
    const reader = dynamoScalingReader(
      DynamoDBDocumentClient.from(new DynamoDBClient({})),
      TABLE,
      { r: { resource: 'a', kind: 'rds-instance' } },
      () => NOW,
    );
    // Act
    const state = await reader.scalingState();
    // Assert
    expect(state.map((s) => s.cooldownUntil)).toEqual(['2026-11-23T07:00:00.000Z']);
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 2);
  });

  it('fails, naming the table, when DynamoDB leaves keys unprocessed every time: never reports a cooldown as absent', async () => {
    // Prepare: the cooldown key is throttled on every request
    const TABLE = 't';
    ddb.on(BatchGetCommand).resolves({
      Responses: { [TABLE]: [] },
      UnprocessedKeys: { [TABLE]: { Keys: [{ pk: 'scaling-cooldown#rds-instance:a' }] } },
    });
    const reader = dynamoScalingReader(
      DynamoDBDocumentClient.from(new DynamoDBClient({})),
      TABLE,
      { r: { resource: 'a', kind: 'rds-instance' } },
      () => NOW,
    );
    // Act
    const read = reader.scalingState();
    // Assert: a bounded number of requests, then an error rather than a state without the cooldown
    await expect(read).rejects.toThrow(/BatchGetItem failed for t: .*unprocessed/);
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 5);
  });
});

describe('awsEstateReader with EBS', () => {
  it('lists the tagged instances and volumes and the EBS snapshot sets beside the databases', async () => {
    // Prepare: no databases; one tagged instance and one two-volume set of it.
    const ec2 = mockClient(EC2Client);
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
    cache.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [] });
    cache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          OwnerId: '111122223333',
          Instances: [
            {
              InstanceId: 'i-0abc',
              State: { Name: 'running' },
              Tags: [{ Key: 'steward:backup', Value: 'daily' }],
              BlockDeviceMappings: [{ Ebs: { VolumeId: 'vol-1' } }, { Ebs: { VolumeId: 'vol-2' } }],
            },
          ],
        },
      ],
    });
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [] });
    const set = 'steward-i-0abc-202611230300-sched';
    const tags = [
      { Key: 'steward:managed', Value: 'true' },
      { Key: 'steward:source', Value: 'i-0abc' },
      { Key: 'steward:set', Value: set },
      { Key: 'steward:set-size', Value: '2' },
    ];
    ec2.on(DescribeEc2SnapshotsCommand).resolves({
      Snapshots: ['vol-1', 'vol-2'].map((v, i) => ({
        SnapshotId: `snap-${i}`,
        VolumeId: v,
        State: 'completed',
        StartTime: new Date('2026-11-23T03:00:04Z'),
        OwnerId: '111122223333',
        Description: `steward ${set}`,
        Tags: tags,
      })),
    });
    try {
      const reader = awsEstateReader(
        REGION,
        new RDSClient({ region: REGION }),
        new ElastiCacheClient({ region: REGION }),
        ebsBackup(REGION, new EC2Client({ region: REGION })),
      );

      // Act
      const [dbs, snaps] = await Promise.all([reader.databases(), reader.snapshots()]);

      // Assert
      expect(dbs.map((d) => [d.kind, d.id])).toEqual([['ebs', 'i-0abc']]);
      expect(snaps.map((s) => [s.kind, s.id, s.sourceId, s.status, s.parts?.length])).toEqual([
        ['ebs', set, 'i-0abc', 'available', 2],
      ]);
    } finally {
      ec2.restore();
    }
  });
});
