import { DescribeSnapshotsCommand as DescribeEbsSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeSnapshotsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import {
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { noServerlessCaches } from '../../support/serverless-mocks.js';
import { run, wire } from '../../../functions/retention/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { memoryDeletionBudget } from '../../../shared/retention/memory-budget.js';

// Retention of Redis DR copies through the retention function's real wiring (SDK mocked): the DR bucket's
// copies are a snapshot store beside the DR region's, kept under the cache policy's GFS rules; an expired
// copy is deleted file by file after its tag check, and nothing outside `elasticache/` is listed. The IAM
// suite simulates these calls against the retention role.
const PRIMARY = 'eu-west-1';
const DR = 'us-west-2';
const BUCKET = 'steward-prod-rdb-dr-111122223333-us-west-2';
const NOW = new Date('2026-01-31T05:00:00Z');

const config = parseConfig(
  {
    stage: 'prod',
    region: PRIMARY,
    backup: { policies: { cache: { kinds: ['elasticache'], copyToDr: true, retention: 'cache' } } },
    retention: { policies: { cache: { daily: 2, keepAtLeast: 1 } } },
    dr: { region: DR, kmsKeyArn: `arn:aws:kms:${DR}:111122223333:alias/steward-dr` },
  },
  'test',
);

const rds = mockClient(RDSClient);
const cache = mockClient(ElastiCacheClient);
const tagging = mockClient(ResourceGroupsTaggingAPIClient);
const s3 = mockClient(S3Client);
// Retention lists every kind steward makes, EBS sets included (none here).
const ec2 = mockClient(EC2Client);
const day = (d: number) => `steward-sessions-2026012${d}0300-sched`;

beforeEach(() => {
  for (const m of [rds, cache, tagging, s3, ec2]) m.reset();
  noServerlessCaches(cache);
  ec2.on(DescribeEbsSnapshotsCommand).resolves({ Snapshots: [] });
  rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
  rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
  cache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  tagging.onAnyCommand().resolves({ ResourceTagMappingList: [] });
  // Four daily copies in DR, one file each.
  s3.on(ListObjectsV2Command).resolves({
    Contents: [5, 6, 7, 8].map((d) => ({
      Key: `elasticache/sessions/${day(d)}-0001.rdb`,
      LastModified: new Date(`2026-01-2${d}T04:00:00Z`),
    })),
  });
  s3.on(GetObjectTaggingCommand).resolves({
    TagSet: [
      { Key: 'steward:managed', Value: 'true' },
      { Key: 'steward:policy', Value: 'cache' },
      { Key: 'steward:source', Value: 'sessions' },
    ],
  });
  s3.on(DeleteObjectCommand).resolves({});
});

describe('retention of Redis DR copies', () => {
  it("keeps the newest copies under the cache policy and deletes the rest from the DR bucket's prefix", async () => {
    // Prepare
    const deps = {
      ...wire(
        { config, dryRun: false, notifier: memoryNotifier(), now: () => NOW },
        { STATE_TABLE: 'steward-prod-state', REDIS_DR_BUCKET: BUCKET },
      ),
      budget: memoryDeletionBudget(),
    };

    // Act
    const result = await run({ action: 'retention' }, deps);

    // Assert
    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: BUCKET, Prefix: 'elasticache/' });
    const deleted = s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key);
    expect(deleted.sort()).toEqual([
      `elasticache/sessions/${day(5)}-0001.rdb`,
      `elasticache/sessions/${day(6)}-0001.rdb`,
    ]);
    expect(result.outcomes.filter((o) => o.action === 'delete').map((o) => o.status)).toEqual([
      'done',
      'done',
    ]);
  });

  it('holds a primary cache snapshot whose DR copy has not arrived, and lists each region once', async () => {
    // Prepare: primary snapshots of four days; DR holds copies of the 25th, 27th and 28th, not the 26th.
    const arn = (d: number) => `arn:aws:elasticache:${PRIMARY}:111122223333:snapshot:${day(d)}`;
    // ElastiCache answers in the primary region only (it has no cross-region copies).
    cache.on(DescribeSnapshotsCommand).callsFake(async (_i, getClient) => ({
      Snapshots: ((await getClient().config.region()) === PRIMARY ? [5, 6, 7, 8] : []).map((d) => ({
        SnapshotName: day(d),
        ARN: arn(d),
        ReplicationGroupId: 'sessions',
        SnapshotStatus: 'available',
        SnapshotSource: 'manual',
        NumNodeGroups: 1,
        NodeSnapshots: [{ SnapshotCreateTime: new Date(`2026-01-2${d}T03:00:00Z`) }],
      })),
    }));
    tagging.on(GetResourcesCommand).resolves({
      ResourceTagMappingList: [5, 6, 7, 8].map((d) => ({
        ResourceARN: arn(d),
        Tags: [
          { Key: 'steward:managed', Value: 'true' },
          { Key: 'steward:policy', Value: 'cache' },
          { Key: 'steward:source', Value: 'sessions' },
        ],
      })),
    });
    s3.on(ListObjectsV2Command).resolves({
      Contents: [5, 7, 8].map((d) => ({
        Key: `elasticache/sessions/${day(d)}-0001.rdb`,
        LastModified: new Date(`2026-01-2${d}T04:00:00Z`),
      })),
    });
    const deps = {
      ...wire(
        { config, dryRun: true, notifier: memoryNotifier(), now: () => NOW },
        { STATE_TABLE: 'steward-prod-state', REDIS_DR_BUCKET: BUCKET },
      ),
      budget: memoryDeletionBudget(),
    };

    // Act
    const result = await run({ action: 'retention' }, deps);

    // Assert
    const verdict = (region: string, id: string) =>
      result.plan.verdicts.find((v) => v.region === region && v.id === id && v.kind === 'elasticache');
    expect(verdict(PRIMARY, day(6))).toMatchObject({ action: 'keep', rule: 'awaiting-dr' });
    expect(verdict(PRIMARY, day(5))?.action).toBe('expire');
    expect(verdict(DR, day(5))?.action).toBe('expire');
    expect(result.regions).toEqual([
      { region: PRIMARY, listed: 4 },
      { region: DR, listed: 3 },
    ]);
  });

  it('without the bucket in the environment, the DR copies are not touched', () => {
    const deps = wire(
      { config, dryRun: false, notifier: memoryNotifier(), now: () => NOW },
      { STATE_TABLE: 'steward-prod-state' },
    );
    expect(deps.stores.map((s) => s.region)).toEqual([PRIMARY, DR]);
  });
});
