import {
  CopySnapshotCommand,
  DescribeSnapshotsCommand,
  ElastiCacheClient,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-elasticache';
import { EC2Client } from '@aws-sdk/client-ec2';
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
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import snapshotCreated from '../../../events/elasticache/snapshot-created.json' with { type: 'json' };
import { fleetWiring as backupFleetWiring, run as runBackup } from '../../../functions/backup/handler.js';
import {
  fleetWiring as retentionFleetWiring,
  run as runRetention,
} from '../../../functions/retention/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import type { FanOutTarget } from '../../../shared/fleet/fan-out.js';
import { runFleetEvent } from '../../../shared/fleet/child.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { memoryDeletionBudget } from '../../../shared/retention/memory-budget.js';
import type { BaseDeps } from '../../../shared/runtime.js';
import { FLEET_CONFIG } from '../../support/fleet.js';
import { noServerlessCaches } from '../../support/serverless-mocks.js';

// Redis DR in a spoke target, through the backup and retention functions' real fan-out wiring (SDK mocked): a
// child signing with the target's spoke role exports the target's cache snapshots to its own account's export
// bucket, copies them to its own account's DR bucket under its region's prefix with its account's DR key, and
// its retention sweeps that prefix only; every call signs with the target's session. The hub's own target keeps
// its buckets and `elasticache/`. The IAM suite simulates these calls against the spoke roles
// (test/iam/fleet-redis-dr.test.ts).
const HUB = '111111111111';
const SPOKE = '222222222222';
const REGION = 'eu-central-1';
const DR = 'us-west-2';
const EXPORT = `steward-prod-rdb-export-${SPOKE}-${REGION}`;
const DR_BUCKET = `steward-prod-rdb-dr-${SPOKE}-${DR}`;
const PREFIX = `elasticache-${REGION}/`;
const HUB_ENV = {
  REDIS_EXPORT_BUCKET: `steward-prod-rdb-export-${HUB}-eu-west-1`,
  REDIS_DR_BUCKET: `steward-prod-rdb-dr-${HUB}-${DR}`,
};
const NEW = 'steward-sessions-202601150300-sched';
const OLD = 'steward-sessions-202601140300-sched';
const NOW = new Date('2026-01-15T04:05:00Z');

const config = parseConfig(FLEET_CONFIG, 'fleet');
const base = (): BaseDeps => ({ config, dryRun: false, notifier: memoryNotifier(), now: () => NOW });

const sts = mockClient(STSClient);
const cache = mockClient(ElastiCacheClient);
const s3 = mockClient(S3Client);
const rds = mockClient(RDSClient);
const ec2 = mockClient(EC2Client);
const tagging = mockClient(ResourceGroupsTaggingAPIClient);

const spoke = (capability: 'backup' | 'retention'): FanOutTarget => ({
  index: 1,
  account: SPOKE,
  region: REGION,
  roleArn: `arn:aws:iam::${SPOKE}:role/steward-prod-spoke-${capability}-${REGION}`,
  externalId: 'steward-prod-fleet',
});
const hubTarget: FanOutTarget = { index: 0, account: HUB, region: 'eu-west-1' };

const regionOf = async (client: unknown) =>
  (client as { config: { region: () => Promise<string> } }).config.region();
const keyOf = async (client: unknown) =>
  (await (client as { config: { credentials: () => Promise<{ accessKeyId: string }> } }).config.credentials())
    .accessKeyId;
const snapshotArn = (id: string, region = REGION, account = SPOKE) =>
  `arn:aws:elasticache:${region}:${account}:snapshot:${id}`;
const TAGS = [
  { Key: 'steward:managed', Value: 'true' },
  { Key: 'steward:policy', Value: 'daily' },
  { Key: 'steward:source', Value: 'sessions' },
];

beforeEach(() => {
  for (const m of [sts, cache, s3, rds, ec2, tagging]) m.reset();
  noServerlessCaches(cache);
  sts.on(AssumeRoleCommand).resolves({
    Credentials: {
      AccessKeyId: 'AKIASPOKE',
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(Date.now() + 3_600_000),
    },
  });
  rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
  rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
  ec2.onAnyCommand().resolves({ Snapshots: [] });
  // Steward's two available one-shard snapshots of `sessions`, wherever the client signs (the assertions say where).
  cache.on(DescribeSnapshotsCommand).callsFake(async (_i, getClient) => {
    const region = await regionOf(getClient());
    if (region === DR) return { Snapshots: [] };
    const account = region === REGION ? SPOKE : HUB;
    return {
      Snapshots: [
        [NEW, '2026-01-15T03:00:00Z'],
        [OLD, '2026-01-14T03:00:00Z'],
      ].map(([id, at]) => ({
        SnapshotName: id,
        ARN: snapshotArn(id!, region, account),
        ReplicationGroupId: 'sessions',
        SnapshotStatus: 'available',
        SnapshotSource: 'manual',
        NumNodeGroups: 1,
        CacheNodeType: 'cache.r7g.large',
        NodeSnapshots: [{ SnapshotCreateTime: new Date(at!) }],
      })),
    };
  });
  tagging.on(GetResourcesCommand).callsFake(async (_i, getClient) => {
    const region = await regionOf(getClient());
    const account = region === REGION ? SPOKE : HUB;
    return {
      ResourceTagMappingList:
        region === DR
          ? []
          : [NEW, OLD].map((id) => ({ ResourceARN: snapshotArn(id, region, account), Tags: TAGS })),
    };
  });
  cache.on(CopySnapshotCommand).resolves({});
  // OLD is exported (one shard) in each account's export bucket; DR holds nothing yet.
  s3.on(ListObjectsV2Command).callsFake(async (input: { Bucket: string; Prefix?: string }) =>
    input.Bucket === EXPORT || input.Bucket === HUB_ENV.REDIS_EXPORT_BUCKET
      ? {
          Contents: [{ Key: `${OLD}-0001.rdb`, Size: 1024 }].filter((o) =>
            o.Key.startsWith(input.Prefix ?? ''),
          ),
        }
      : { Contents: [] },
  );
  s3.on(CopyObjectCommand).resolves({});
  s3.on(DeleteObjectCommand).resolves({});
  s3.on(ListMultipartUploadsCommand).resolves({ Uploads: [] });
});

describe('Redis DR in a spoke target: the backup child', () => {
  it("exports to the target account's bucket and copies under its region's prefix, with its session and DR key", async () => {
    // Act
    const result = await runFleetEvent(
      { action: 'reconcile-cache-dr', target: spoke('backup') },
      backupFleetWiring(base, HUB_ENV),
      (e, d) => runBackup(e, d),
    );

    // Assert: the export and the copy are the target's, in its account's buckets.
    expect(cache).toHaveReceivedCommandWith(CopySnapshotCommand, {
      SourceSnapshotName: NEW,
      TargetSnapshotName: NEW,
      TargetBucket: EXPORT,
    });
    expect(s3).toHaveReceivedCommandWith(CopyObjectCommand, {
      Bucket: DR_BUCKET,
      Key: `${PREFIX}sessions/daily/${OLD}-0001.rdb`,
      CopySource: `${EXPORT}/${OLD}-0001.rdb`,
      SSEKMSKeyId: `arn:aws:kms:${DR}:${SPOKE}:alias/steward-prod-spoke-dr`,
    });
    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: DR_BUCKET, Prefix: PREFIX });
    // Nothing of the hub's buckets, and nothing listed outside the region's prefix.
    const buckets = new Set(s3.calls().map((c) => (c.args[0].input as { Bucket?: string }).Bucket));
    expect([...buckets].sort()).toEqual([DR_BUCKET, EXPORT]);
    expect(
      s3
        .commandCalls(ListObjectsV2Command)
        .filter((c) => c.args[0].input.Bucket === DR_BUCKET)
        .every((c) => c.args[0].input.Prefix?.startsWith(PREFIX)),
    ).toBe(true);
    // Every call signed with the target's session; the copy in the DR region, the rest in the target's.
    for (const c of [...cache.calls(), ...s3.calls(), ...tagging.calls()])
      expect(await keyOf(c.thisValue)).toBe('AKIASPOKE');
    expect(await regionOf(s3.commandCalls(CopyObjectCommand)[0]!.thisValue)).toBe(DR);
    expect(await regionOf(cache.commandCalls(CopySnapshotCommand)[0]!.thisValue)).toBe(REGION);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleArn: spoke('backup').roleArn });
    expect((result as { summary: string }).summary).toBe(
      'Redis DR 1 exports started, 1 RDB files copied, 0 exports cleaned, 0 waiting',
    );
  });

  it('a spoke\'s forwarded ElastiCache "Snapshot Created" exports that snapshot in the spoke, in five requests', async () => {
    // Prepare: the event as the spoke forwards it and the hub's fleet-bus rule wraps it.
    const forwarded = {
      action: 'forwarded',
      partition: 'aws',
      event: { ...snapshotCreated, account: SPOKE, region: REGION, resources: [snapshotArn(NEW)] },
    };
    cache.on(ListTagsForResourceCommand).resolves({ TagList: TAGS });

    // Act
    await runFleetEvent(forwarded, backupFleetWiring(base, HUB_ENV), (e, d) => runBackup(e, d));

    // Assert: that snapshot by name and its tags, its files in each of the spoke's buckets, its export.
    expect(cache.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'DescribeSnapshotsCommand',
      'ListTagsForResourceCommand',
      'CopySnapshotCommand',
    ]);
    expect(cache).toHaveReceivedCommandWith(CopySnapshotCommand, {
      SourceSnapshotName: NEW,
      TargetBucket: EXPORT,
    });
    expect(
      s3.commandCalls(ListObjectsV2Command).map((c) => [c.args[0].input.Bucket, c.args[0].input.Prefix]),
    ).toEqual([
      [EXPORT, `${NEW}-`],
      [DR_BUCKET, `${PREFIX}sessions/`],
    ]);
    for (const c of [...cache.calls(), ...s3.calls()]) expect(await keyOf(c.thisValue)).toBe('AKIASPOKE');
  });

  it("cleans the target's export once its DR prefix holds the snapshot", async () => {
    // Prepare: OLD's file is in DR under the target's prefix.
    s3.on(ListObjectsV2Command).callsFake(async (input: { Bucket: string; Prefix?: string }) => {
      if (input.Bucket === EXPORT) return { Contents: [{ Key: `${OLD}-0001.rdb`, Size: 1024 }] };
      if (input.Bucket === DR_BUCKET && (input.Prefix ?? '').startsWith(PREFIX))
        return { Contents: [{ Key: `${PREFIX}sessions/daily/${OLD}-0001.rdb`, Size: 1024 }] };
      return { Contents: [] };
    });

    // Act
    await runFleetEvent(
      { action: 'reconcile-cache-dr', target: spoke('backup') },
      backupFleetWiring(base, HUB_ENV),
      (e, d) => runBackup(e, d),
    );

    // Assert
    expect(s3).toHaveReceivedCommandExactlyOnceWith(DeleteObjectCommand, {
      Bucket: EXPORT,
      Key: `${OLD}-0001.rdb`,
    });
    expect(s3).not.toHaveReceivedCommand(CopyObjectCommand);
  });

  it("the hub's own target keeps the buckets its environment names and `elasticache/`, with its own credentials", async () => {
    // Act
    await runFleetEvent(
      { action: 'reconcile-cache-dr', target: hubTarget },
      backupFleetWiring(base, HUB_ENV),
      (e, d) => runBackup(e, d),
    );

    // Assert
    expect(sts).not.toHaveReceivedAnyCommand();
    expect(s3).toHaveReceivedCommandWith(CopyObjectCommand, {
      Bucket: HUB_ENV.REDIS_DR_BUCKET,
      Key: `elasticache/sessions/daily/${OLD}-0001.rdb`,
      CopySource: `${HUB_ENV.REDIS_EXPORT_BUCKET}/${OLD}-0001.rdb`,
    });
  });

  it('a target whose policies copy no cache (an override) exports nothing', async () => {
    // Prepare: targets[1] turns copies off for the policy that backs caches up and copies.
    const c = parseConfig(
      {
        ...FLEET_CONFIG,
        targets: FLEET_CONFIG.targets!.map((t, i) =>
          i === 1 ? { ...t, backup: { policies: { daily: { copyToDr: false } } } } : t,
        ),
      },
      'fleet',
    );

    // Act
    await runFleetEvent(
      { action: 'reconcile-cache-dr', target: spoke('backup') },
      backupFleetWiring(() => ({ ...base(), config: c }), HUB_ENV),
      (e, d) => runBackup(e, d),
    );

    // Assert
    expect(cache).not.toHaveReceivedCommand(CopySnapshotCommand);
    expect(s3).not.toHaveReceivedAnyCommand();
  });
});

describe('Redis DR in a spoke target: the retention child', () => {
  const day = (d: number) => `steward-sessions-2026012${d}0300-sched`;
  const copies = (prefix: string) =>
    [5, 6, 7, 8].map((d) => ({
      Key: `${prefix}sessions/daily/${day(d)}-0001.rdb`,
      LastModified: new Date(`2026-01-2${d}T04:00:00Z`),
    }));
  const sweep = (target: FanOutTarget) =>
    runFleetEvent(
      { action: 'retention', target },
      retentionFleetWiring(
        () => ({ ...base(), now: () => new Date('2026-01-31T05:00:00Z') }),
        () => ({ STATE_TABLE: 'steward-prod-state', REDIS_DR_BUCKET: HUB_ENV.REDIS_DR_BUCKET }),
      ),
      (e, d) => runRetention(e, { ...d, budget: memoryDeletionBudget() }),
    );

  beforeEach(() => {
    cache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [] });
    // Each place's four daily copies under its own prefix of its account's DR bucket.
    s3.on(ListObjectsV2Command).callsFake(async (input: { Bucket: string; Prefix: string }) => ({
      Contents: copies(input.Prefix),
    }));
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: TAGS });
  });

  it("keeps the target's copies under the cache policy and deletes the rest, from its own prefix, with its session", async () => {
    // Act
    await sweep(spoke('retention'));

    // Assert: only the target's prefix is listed, and whatever is deleted is under it.
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ Bucket: DR_BUCKET, Prefix: PREFIX }),
    ]);
    for (const c of s3.calls()) expect(await keyOf(c.thisValue)).toBe('AKIASPOKE');
    for (const c of s3.commandCalls(DeleteObjectCommand)) {
      expect(c.args[0].input.Bucket).toBe(DR_BUCKET);
      expect(c.args[0].input.Key?.startsWith(PREFIX)).toBe(true);
    }
  });

  it("deletes the target's expired copies, and the hub's own target sweeps `elasticache/` of the hub's bucket", async () => {
    // Prepare: the hub and the target keep 2 dailies of `standard` (overrides), so two of four copies expire.
    const c = parseConfig(
      {
        ...FLEET_CONFIG,
        targets: FLEET_CONFIG.targets!.map((t, i) =>
          i <= 1 ? { ...t, retention: { policies: { standard: { daily: 2, keepAtLeast: 1 } } } } : t,
        ),
      },
      'fleet',
    );
    const wiring = retentionFleetWiring(
      () => ({ ...base(), config: c, now: () => new Date('2026-01-31T05:00:00Z') }),
      () => ({ STATE_TABLE: 'steward-prod-state', REDIS_DR_BUCKET: HUB_ENV.REDIS_DR_BUCKET }),
    );
    const go = (target: FanOutTarget) =>
      runFleetEvent({ action: 'retention', target }, wiring, (e, d) =>
        runRetention(e, { ...d, budget: memoryDeletionBudget() }),
      );

    // Act
    await go(spoke('retention'));
    const spokeDeletes = s3.commandCalls(DeleteObjectCommand).map((x) => x.args[0].input);
    s3.resetHistory();
    await go(hubTarget);
    const hubDeletes = s3.commandCalls(DeleteObjectCommand).map((x) => x.args[0].input);

    // Assert
    expect(spokeDeletes).toEqual([
      { Bucket: DR_BUCKET, Key: `${PREFIX}sessions/daily/${day(5)}-0001.rdb` },
      { Bucket: DR_BUCKET, Key: `${PREFIX}sessions/daily/${day(6)}-0001.rdb` },
    ]);
    expect(hubDeletes).toEqual([
      { Bucket: HUB_ENV.REDIS_DR_BUCKET, Key: `elasticache/sessions/daily/${day(5)}-0001.rdb` },
      { Bucket: HUB_ENV.REDIS_DR_BUCKET, Key: `elasticache/sessions/daily/${day(6)}-0001.rdb` },
    ]);
  });
});
