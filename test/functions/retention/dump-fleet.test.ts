import { DescribeSnapshotsCommand as DescribeEbsSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { RDSClient } from '@aws-sdk/client-rds';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import {
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { run, wire } from '../../../functions/retention/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { fanOutTargets } from '../../../shared/fleet/fan-out.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { memoryDeletionBudget } from '../../../shared/retention/memory-budget.js';
import { FLEET_CONFIG } from '../../support/fleet.js';

// Dump objects in a fleet, through the retention function's real wiring (SDK mocked): the dump buckets are the
// stage's (its account and region), so the fan-out child of the hub's own account-region keeps them, the dumps
// of spoke targets' instances included; a spoke's child (signing with its role) lists no bucket of the hub.
const s3 = mockClient(S3Client);
const ec2 = mockClient(EC2Client);
const rds = mockClient(RDSClient);
const cache = mockClient(ElastiCacheClient);
const tagging = mockClient(ResourceGroupsTaggingAPIClient);

const SPOKE_INSTANCE = 'i-0fedcba9876543210';
const NOW = new Date('2026-01-31T05:00:00Z');
const config = parseConfig(
  {
    ...FLEET_CONFIG,
    backup: {
      policies: {
        mongo: {
          kinds: ['ebs'],
          retention: 'short',
          consistency: { dump: { command: 'mongodump --archive', bucket: 'team-dumps' } },
        },
      },
    },
    retention: { policies: { standard: {}, short: { daily: 2, keepAtLeast: 1 } } },
  },
  'fleet',
);
const day = (d: number) => `steward-${SPOKE_INSTANCE}-202601${d}0300-sched`;
const key = (d: number) => `steward/mongo/${SPOKE_INSTANCE}/${day(d)}.dump`;

beforeEach(() => {
  for (const m of [s3, ec2, rds, cache, tagging]) m.reset();
  rds.onAnyCommand().resolves({});
  cache.onAnyCommand().resolves({});
  tagging.onAnyCommand().resolves({});
  ec2.on(DescribeEbsSnapshotsCommand).resolves({ Snapshots: [] });
  // Four daily dumps of an instance in a spoke account, written there by its instance profile.
  s3.on(ListObjectsV2Command).resolves({
    Contents: [25, 26, 27, 28].map((d) => ({
      Key: key(d),
      LastModified: new Date(`2026-01-${d}T03:01:00Z`),
    })),
  });
  s3.on(GetObjectTaggingCommand).resolves({
    TagSet: [
      { Key: 'steward:managed', Value: 'true' },
      { Key: 'steward:policy', Value: 'mongo' },
      { Key: 'steward:source', Value: SPOKE_INSTANCE },
      { Key: 'steward:kind', Value: 'dump' },
    ],
  });
  s3.on(DeleteObjectCommand).resolves({});
});

const child = (account: string, region: string) => {
  const target = fanOutTargets(config, 'retention').find(
    (t) => t.account === account && t.region === region,
  )!;
  return {
    target,
    hubRegion: 'eu-west-1',
    ...(target.roleArn
      ? {
          as: { key: account, credentials: async () => ({ accessKeyId: 'AKIASPOKE', secretAccessKey: 's' }) },
        }
      : {}),
  };
};
const deps = (at: ReturnType<typeof child>) => ({
  ...wire(
    { config, dryRun: false, notifier: memoryNotifier(), now: () => NOW },
    { STATE_TABLE: 'steward-prod-state' },
    at,
  ),
  budget: memoryDeletionBudget(),
});

describe('retention of dump objects in a fleet', () => {
  it("keeps the stage's dumps in the hub's own child, spoke instances' dumps included, by their policy", async () => {
    // Act
    await run({ action: 'retention' }, deps(child('111111111111', 'eu-west-1')));

    // Assert: the two newest kept (daily: 2), the older two deleted, with the hub's own identity
    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: 'team-dumps', Prefix: 'steward/' });
    const deleted = s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key);
    expect(deleted.sort()).toEqual([key(25), key(26)]);
    const client = s3.commandCalls(DeleteObjectCommand)[0]!.thisValue as S3Client;
    expect(await client.config.region()).toBe('eu-west-1');
  });

  it("lists no dump bucket in a spoke's child (the buckets are the hub's)", async () => {
    // Act
    await run({ action: 'retention' }, deps(child('222222222222', 'eu-central-1')));

    // Assert
    expect(s3).not.toHaveReceivedCommand(ListObjectsV2Command);
    expect(s3).not.toHaveReceivedCommand(DeleteObjectCommand);
  });
});
