import {
  CopySnapshotCommand,
  DescribeSnapshotsCommand,
  ElastiCacheClient,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-elasticache';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import snapshotCreated from '../../../events/elasticache/snapshot-created.json' with { type: 'json' };
import { run, wire } from '../../../functions/backup/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { noServerlessCaches } from '../../support/serverless-mocks.js';

// Redis DR through the backup function's real wiring (SDK mocked): the environment's two buckets turn it on;
// an ElastiCache "Snapshot Created" event, the hourly reconcile and a scheduled backup each export steward's
// available cache snapshots and copy finished exports to the DR bucket in dr.region. The IAM suite
// simulates these calls against the backup role.
const PRIMARY = 'eu-west-1';
const DR = 'us-west-2';
const ACCOUNT = '111122223333';
const KEY = `arn:aws:kms:${DR}:${ACCOUNT}:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9`;
const NOW = new Date('2026-01-15T04:05:00Z');
const ENV = { REDIS_EXPORT_BUCKET: 'steward-prod-redis-export', REDIS_DR_BUCKET: 'steward-prod-redis-dr' };
const NEW = 'steward-sessions-202601150300-sched';
const OLD = 'steward-sessions-202601140300-sched';

const config = parseConfig(
  {
    stage: 'prod',
    region: PRIMARY,
    backup: { policies: { cache: { kinds: ['elasticache'], copyToDr: true } } },
    dr: { region: DR, kmsKeyArn: KEY },
  },
  'test',
);
const base = () => ({ config, dryRun: false, notifier: memoryNotifier(), now: () => NOW });

const cache = mockClient(ElastiCacheClient);
const s3 = mockClient(S3Client);
const rds = mockClient(RDSClient);
const tagging = mockClient(ResourceGroupsTaggingAPIClient);
const regionOf = async (getClient: () => { config: { region: unknown } }) =>
  (await (getClient().config.region as () => Promise<string>)()) as string;
const snapshotArn = (id: string) => `arn:aws:elasticache:${PRIMARY}:${ACCOUNT}:snapshot:${id}`;

const TAGS = [
  { Key: 'steward:managed', Value: 'true' },
  { Key: 'steward:policy', Value: 'cache' },
  { Key: 'steward:source', Value: 'sessions' },
];

/** Steward's available one-shard snapshots of `sessions`, each `[name, created]`, and their tags in bulk. */
const describeSnapshots = (...snaps: [string, string][]) => {
  tagging.on(GetResourcesCommand).resolves({
    ResourceTagMappingList: snaps.map(([id]) => ({ ResourceARN: snapshotArn(id), Tags: TAGS })),
  });
  cache.on(DescribeSnapshotsCommand).resolves({
    Snapshots: snaps.map(([id, at]) => ({
      SnapshotName: id,
      ARN: snapshotArn(id),
      ReplicationGroupId: 'sessions',
      SnapshotStatus: 'available',
      SnapshotSource: 'manual',
      NumNodeGroups: 1,
      CacheNodeType: 'cache.r7g.large',
      NodeSnapshots: [{ SnapshotCreateTime: new Date(at) }],
    })),
  });
};

beforeEach(() => {
  cache.reset();
  noServerlessCaches(cache);
  s3.reset();
  rds.reset();
  rds.onAnyCommand().resolves({});
  tagging.reset();
  tagging.onAnyCommand().resolves({ ResourceTagMappingList: [] });
  describeSnapshots([NEW, '2026-01-15T03:00:00Z'], [OLD, '2026-01-14T03:00:00Z']);
  cache.on(ListTagsForResourceCommand).resolves({ TagList: TAGS });
  cache.on(CopySnapshotCommand).resolves({});
  // The older snapshot's export is in the export bucket (one shard); DR has nothing yet.
  s3.on(ListObjectsV2Command).callsFake(async (input: { Bucket: string; Prefix?: string }, getClient) => {
    if (input.Bucket === ENV.REDIS_EXPORT_BUCKET && (await regionOf(getClient)) === PRIMARY)
      return {
        Contents: [{ Key: `${OLD}-0001.rdb`, Size: 1024 }].filter((o) =>
          o.Key.startsWith(input.Prefix ?? ''),
        ),
      };
    return { Contents: [] };
  });
  s3.on(CopyObjectCommand).resolves({});
  s3.on(DeleteObjectCommand).resolves({});
  s3.on(ListMultipartUploadsCommand).resolves({ Uploads: [] });
});

describe('Redis DR in the deployed backup function', () => {
  it('an ElastiCache "Snapshot Created" event exports its snapshot only, in five requests whatever the estate', async () => {
    // Act
    const result = await run(snapshotCreated, wire(base(), ENV));

    // Assert: the event's snapshot by name, its tags, its files in each bucket, its export; OLD waits for the hour.
    expect(result.action).toBe('reconcile-cache-dr');
    expect(cache.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'DescribeSnapshotsCommand',
      'ListTagsForResourceCommand',
      'CopySnapshotCommand',
    ]);
    expect(cache).toHaveReceivedCommandWith(DescribeSnapshotsCommand, { SnapshotName: NEW });
    expect(cache).toHaveReceivedCommandWith(CopySnapshotCommand, {
      SourceSnapshotName: NEW,
      TargetSnapshotName: NEW,
      TargetBucket: ENV.REDIS_EXPORT_BUCKET,
    });
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input.Prefix)).toEqual([
      `${NEW}-`,
      'elasticache/sessions/',
    ]);
    expect(s3).not.toHaveReceivedCommand(CopyObjectCommand);
    expect(tagging).not.toHaveReceivedAnyCommand();
    expect(result.summary).toBe(
      'Redis DR 1 exports started, 0 RDB files copied, 0 exports cleaned, 0 waiting',
    );
  });

  it.each([
    [
      'an automatic backup',
      `arn:aws:elasticache:${PRIMARY}:${ACCOUNT}:snapshot:automatic.sessions-2026-01-15-03-00`,
      /not steward's/,
    ],
    [
      'no snapshot',
      `arn:aws:elasticache:${PRIMARY}:${ACCOUNT}:replicationgroup:sessions`,
      /names no snapshot/,
    ],
  ])('a "Snapshot Created" event naming %s sends no request', async (_what, resource, reason) => {
    // Act
    const result = await run({ ...snapshotCreated, resources: [resource] }, wire(base(), ENV));

    // Assert
    expect(result.summary).toMatch(reason);
    expect(cache).not.toHaveReceivedAnyCommand();
    expect(s3).not.toHaveReceivedAnyCommand();
  });

  it('the hourly reconcile reads snapshot tags in bulk and copies the finished export to DR', async () => {
    // Act
    const result = await run({ action: 'reconcile-cache-dr' }, wire(base(), ENV));

    // Assert
    expect(cache).not.toHaveReceivedCommand(ListTagsForResourceCommand);
    expect(s3).toHaveReceivedCommandWith(CopyObjectCommand, {
      Bucket: ENV.REDIS_DR_BUCKET,
      Key: `elasticache/sessions/cache/${OLD}-0001.rdb`,
      CopySource: `${ENV.REDIS_EXPORT_BUCKET}/${OLD}-0001.rdb`,
      SSEKMSKeyId: KEY,
    });
    const copy = s3.commandCalls(CopyObjectCommand)[0]!;
    expect(await regionOf(() => copy.thisValue as S3Client)).toBe(DR);
    expect(result.summary).toBe(
      'Redis DR 1 exports started, 1 RDB files copied, 0 exports cleaned, 0 waiting',
    );
  });

  it('the hourly reconcile runs Redis DR too; without the buckets in the environment nothing is exported', async () => {
    // Act
    await run({ action: 'reconcile-copies' }, wire(base(), {}));
    const withoutBuckets = cache.commandCalls(CopySnapshotCommand).length;
    const result = await run({ action: 'reconcile-copies' }, wire(base(), ENV));

    // Assert
    expect(withoutBuckets).toBe(0);
    expect(cache).toHaveReceivedCommandTimes(CopySnapshotCommand, 1);
    expect(result.outcomes.filter((o) => o.action === 'copy-rdb-to-dr').map((o) => o.status)).toEqual([
      'done',
    ]);
  });

  it('the hourly reconcile still runs Redis DR when the DR copy listing fails (throttled), and reports that failure', async () => {
    // Prepare: a stage that also copies RDS to DR; the DR region answers DescribeDBSnapshots with throttling
    // after the SDK's own retries.
    const both = parseConfig(
      {
        stage: 'prod',
        region: PRIMARY,
        backup: {
          policies: {
            cache: { kinds: ['elasticache'], copyToDr: true },
            db: { kinds: ['rds-instance'], copyToDr: true },
          },
        },
        dr: { region: DR, kmsKeyArn: KEY },
      },
      'test',
    );
    rds.on(DescribeDBSnapshotsCommand).callsFake(async (_input, getClient) => {
      if ((await regionOf(getClient)) === DR)
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      return { DBSnapshots: [] };
    });
    const notifier = memoryNotifier();

    // Act
    const result = await run(
      { action: 'reconcile-copies' },
      wire({ ...base(), config: both, notifier }, ENV),
    ).catch((e: unknown) => e);

    // Assert: the export and the copy went ahead; the copy reconcile's failure is one failed outcome, reported.
    expect(cache).toHaveReceivedCommandTimes(CopySnapshotCommand, 1);
    expect(s3).toHaveReceivedCommandTimes(CopyObjectCommand, 1);
    expect(notifier.sent.flatMap((m) => m.lines).join('\n')).toMatch(/Rate exceeded/);
    expect(notifier.sent.map((m) => m.subject).join('\n')).not.toMatch(/failed before acting/);
    expect(result).toBeInstanceOf(Error);
  });

  it('the DR copy planner leaves cache snapshots to Redis DR: none is reported skipped, none listed by it', async () => {
    // Act
    const result = await run({ action: 'reconcile-copies' }, wire(base(), ENV));

    // Assert: only Redis DR lists ElastiCache snapshots (once); the RDS/EBS copy plan has nothing to say of them.
    expect(result.copies?.skipped ?? []).toEqual([]);
    expect(cache).toHaveReceivedCommandTimes(DescribeSnapshotsCommand, 1);
  });

  it('a dry run only plans', async () => {
    // Act
    const result = await run({ action: 'reconcile-cache-dr', dryRun: true }, wire(base(), ENV));
    // Assert
    expect(cache).not.toHaveReceivedCommand(CopySnapshotCommand);
    expect(s3).not.toHaveReceivedCommand(CopyObjectCommand);
    expect(result.summary).toBe(
      '[dry run] Redis DR 1 exports planned, 1 RDB files to copy, 0 exports cleaned, 0 waiting',
    );
  });

  it('copies an export over 5 GB in parts, and cleans an export once DR holds it', async () => {
    // Prepare: the older export is 6 GiB; a still older snapshot is in DR already, its export left over.
    const BIG = 6 * 1024 ** 3;
    const DONE = 'steward-sessions-202601130300-sched';
    s3.on(ListObjectsV2Command).callsFake(async (input: { Bucket: string }, getClient) => {
      if ((await regionOf(getClient)) === PRIMARY)
        return {
          Contents: [
            { Key: `${OLD}-0001.rdb`, Size: BIG },
            { Key: `${DONE}-0001.rdb`, Size: 1024 },
          ],
        };
      return input.Bucket === ENV.REDIS_DR_BUCKET
        ? { Contents: [{ Key: `elasticache/sessions/${DONE}-0001.rdb`, Size: 1024 }] }
        : { Contents: [] };
    });
    describeSnapshots([OLD, '2026-01-14T03:00:00Z'], [DONE, '2026-01-13T03:00:00Z']);
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    s3.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"e"' } });
    s3.on(CompleteMultipartUploadCommand).resolves({});

    // Act
    const result = await run({ action: 'reconcile-cache-dr' }, wire(base(), ENV));

    // Assert
    expect(s3).not.toHaveReceivedCommand(CopyObjectCommand);
    expect(s3).toHaveReceivedCommandWith(CreateMultipartUploadCommand, {
      Bucket: ENV.REDIS_DR_BUCKET,
      Key: `elasticache/sessions/cache/${OLD}-0001.rdb`,
      SSEKMSKeyId: KEY,
    });
    expect(s3).toHaveReceivedCommandTimes(UploadPartCopyCommand, 12);
    expect(s3).toHaveReceivedCommandExactlyOnceWith(DeleteObjectCommand, {
      Bucket: ENV.REDIS_EXPORT_BUCKET,
      Key: `${DONE}-0001.rdb`,
    });
    expect(result.summary).toBe(
      'Redis DR 0 exports started, 1 RDB files copied, 1 exports cleaned, 0 waiting',
    );
  });

  it('reports a multipart copy whose part keeps failing, and leaves its upload for the next run', async () => {
    // Prepare
    s3.on(ListObjectsV2Command).callsFake(async (input: { Bucket: string }, getClient) =>
      input.Bucket === ENV.REDIS_EXPORT_BUCKET && (await regionOf(getClient)) === PRIMARY
        ? { Contents: [{ Key: `${OLD}-0001.rdb`, Size: 6 * 1024 ** 3 }] }
        : { Contents: [] },
    );
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-2' });
    s3.on(UploadPartCopyCommand).rejects(new Error('InternalError'));

    // Act
    const running = run({ action: 'reconcile-cache-dr' }, wire(base(), ENV));

    // Assert
    await expect(running).rejects.toThrow(/Redis DR: 1 of 2 actions failed/);
    expect(s3).not.toHaveReceivedCommand(AbortMultipartUploadCommand);
    expect(s3).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it('aborts a stale upload (begun before the export was written) and copies the file afresh', async () => {
    // Prepare
    const key = `elasticache/sessions/cache/${OLD}-0001.rdb`;
    s3.on(ListObjectsV2Command).callsFake(async (input: { Bucket: string }, getClient) =>
      input.Bucket === ENV.REDIS_EXPORT_BUCKET && (await regionOf(getClient)) === PRIMARY
        ? {
            Contents: [
              { Key: `${OLD}-0001.rdb`, Size: 6 * 1024 ** 3, LastModified: new Date('2026-01-15T03:30:00Z') },
            ],
          }
        : { Contents: [] },
    );
    s3.on(ListMultipartUploadsCommand).resolves({
      Uploads: [{ Key: key, UploadId: 'up-old', Initiated: new Date('2026-01-14T03:30:00Z') }],
    });
    s3.on(AbortMultipartUploadCommand).resolves({});
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-5' });
    s3.on(UploadPartCopyCommand).resolves({ CopyPartResult: { ETag: '"e"' } });
    s3.on(CompleteMultipartUploadCommand).resolves({});

    // Act
    await run({ action: 'reconcile-cache-dr' }, wire(base(), ENV));

    // Assert
    expect(s3).toHaveReceivedCommandExactlyOnceWith(AbortMultipartUploadCommand, {
      Bucket: ENV.REDIS_DR_BUCKET,
      Key: key,
      UploadId: 'up-old',
    });
    expect(s3).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, { UploadId: 'up-5' });
  });

  it('continues a multipart copy across runs: the first stops at its budget, the second resumes and completes', async () => {
    // Prepare: a 6 GiB export (12 parts). In the first run the clock moves 50 s per part copied, so its
    // two-minute budget is spent after a few parts (4 copy at once); in the second it stands still.
    const key = `elasticache/sessions/cache/${OLD}-0001.rdb`;
    s3.on(ListObjectsV2Command).callsFake(async (input: { Bucket: string }, getClient) =>
      input.Bucket === ENV.REDIS_EXPORT_BUCKET && (await regionOf(getClient)) === PRIMARY
        ? {
            Contents: [
              { Key: `${OLD}-0001.rdb`, Size: 6 * 1024 ** 3, LastModified: new Date('2026-01-15T03:30:00Z') },
            ],
          }
        : { Contents: [] },
    );
    const parts: { PartNumber: number; ETag: string; Size: number }[] = [];
    let clock = NOW.getTime();
    const firstRun = { on: true };
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-4' });
    s3.on(UploadPartCopyCommand).callsFake((i: { PartNumber: number }) => {
      if (firstRun.on) clock += 50_000;
      parts.push({ PartNumber: i.PartNumber, ETag: `"e${i.PartNumber}"`, Size: 512 * 1024 ** 2 });
      return { CopyPartResult: { ETag: `"e${i.PartNumber}"` } };
    });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    const deps = () => wire({ ...base(), now: () => new Date(clock) }, ENV);

    // Act: the first run, then the next hour's.
    const first = await run({ action: 'reconcile-cache-dr' }, deps());
    const copiedFirst = parts.length;
    firstRun.on = false;
    s3.on(ListMultipartUploadsCommand).resolves({
      Uploads: [{ Key: key, UploadId: 'up-4', Initiated: new Date(NOW.getTime() + 1000) }],
    });
    s3.on(ListPartsCommand).callsFake(() => ({ Parts: [...parts] }));
    clock += 3_600_000;
    const second = await run({ action: 'reconcile-cache-dr' }, deps());

    // Assert
    expect(first.outcomes.find((o) => o.action === 'copy-rdb-to-dr')).toMatchObject({
      status: 'skipped',
      reason: `multipart copy of ${OLD}-0001.rdb in progress (${copiedFirst}/12 parts): the next run continues upload up-4`,
    });
    expect(copiedFirst).toBeGreaterThan(0);
    expect(copiedFirst).toBeLessThan(12);
    expect(s3).toHaveReceivedCommandTimes(CreateMultipartUploadCommand, 1);
    // Every part copied once: the second run copied only what the first did not.
    expect(parts.map((p) => p.PartNumber).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ]);
    expect(s3).toHaveReceivedCommandExactlyOnceWith(CompleteMultipartUploadCommand, { UploadId: 'up-4' });
    expect(second.outcomes.find((o) => o.action === 'copy-rdb-to-dr')?.status).toBe('done');
  });
});
