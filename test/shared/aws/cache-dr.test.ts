import {
  CopySnapshotCommand,
  DescribeSnapshotsCommand,
  ElastiCacheClient,
  ListTagsForResourceCommand,
  SnapshotAlreadyExistsFault,
  SnapshotNotFoundFault,
} from '@aws-sdk/client-elasticache';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type ListObjectsV2CommandInput,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { cacheDrPort, type PartCopyOptions, s3RdbStore } from '../../../shared/aws/cache-dr.js';
import type { Snapshot } from '../../../shared/model.js';
import { planRetention } from '../../../shared/retention/gfs.js';
import { Tag } from '../../../shared/tags.js';
import { noServerlessCaches } from '../../support/serverless-mocks.js';

const ec = mockClient(ElastiCacheClient);
const s3 = mockClient(S3Client);
beforeEach(() => {
  ec.reset();
  noServerlessCaches(ec);
  s3.reset();
});

const SNAP = 'steward-sessions-202601310300-sched';
const DR_KEY = 'arn:aws:kms:us-west-2:111122223333:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9';
const snapshot: Snapshot = {
  kind: 'elasticache',
  id: SNAP,
  arn: `arn:aws:elasticache:eu-west-1:111122223333:snapshot:${SNAP}`,
  region: 'eu-west-1',
  sourceId: 'sessions',
  status: 'available',
  type: 'manual',
  tags: { [Tag.managed]: 'true', [Tag.policy]: 'daily' },
};
/** The port over mocked clients; `tagging` adds the bulk tag reader, `parts` and `now` as the adapter takes them. */
const port = (o: { tagging?: boolean; parts?: PartCopyOptions; now?: () => Date } = {}) =>
  cacheDrPort(
    'eu-west-1',
    'us-west-2',
    {
      elasticache: new ElastiCacheClient({ region: 'eu-west-1' }),
      s3: new S3Client({ region: 'eu-west-1' }),
      drS3: new S3Client({ region: 'us-west-2' }),
      ...(o.tagging ? { tagging: new ResourceGroupsTaggingAPIClient({ region: 'eu-west-1' }) } : {}),
    },
    { exportBucket: 'steward-prod-redis-export', drBucket: 'steward-prod-redis-dr', drKmsKeyArn: DR_KEY },
    o.parts,
    o.now,
  );

describe('cacheDrPort', () => {
  it('exports with CopySnapshot to the export bucket under the snapshot name; an export already there is done', async () => {
    ec.on(CopySnapshotCommand)
      .resolvesOnce({ $metadata: {} })
      .rejects(new SnapshotAlreadyExistsFault({ message: 'exists', $metadata: {} }));
    await expect(port().export(snapshot)).resolves.toBe('started');
    await expect(port().export(snapshot)).resolves.toBe('already-done');
    expect(ec).toReceiveCommandWith(CopySnapshotCommand, {
      SourceSnapshotName: SNAP,
      TargetSnapshotName: SNAP,
      TargetBucket: 'steward-prod-redis-export',
    });
  });

  it('copies a file to the DR bucket with the DR key, steward tags and the sizing facts', async () => {
    s3.on(CopyObjectCommand).resolves({ $metadata: {} });
    await port().copy(
      { snapshot, shards: 1, facts: { 'steward-shards': '1', 'steward-node-type': 'cache.r7g.large' } },
      { key: `${SNAP}-0001.rdb`, snapshot: SNAP },
      `elasticache/sessions/${SNAP}-0001.rdb`,
    );
    expect(s3).toReceiveCommandExactlyOnceWith(CopyObjectCommand, {
      Bucket: 'steward-prod-redis-dr',
      Key: `elasticache/sessions/${SNAP}-0001.rdb`,
      CopySource: `steward-prod-redis-export/${SNAP}-0001.rdb`,
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: DR_KEY,
      BucketKeyEnabled: true,
      TaggingDirective: 'REPLACE',
      Tagging: `steward%3Amanaged=true&steward%3Asource=sessions&steward%3Acreated-by=backup&steward%3Apolicy=daily&steward%3Acopied-from=${encodeURIComponent(snapshot.arn)}&steward%3Ashards=1`,
      MetadataDirective: 'REPLACE',
      Metadata: { 'steward-shards': '1', 'steward-node-type': 'cache.r7g.large' },
    });
  });
});

describe('cacheDrPort multipart copy (an RDB file over 5 GB)', () => {
  const GIB = 1024 ** 3;
  const big = { key: `${SNAP}-0001.rdb`, snapshot: SNAP, size: 5 * GIB + 1 };
  const source = { snapshot, shards: 1, facts: { 'steward-shards': '1' } };
  const drKey = `elasticache/sessions/${SNAP}-0001.rdb`;
  const MIB = 1024 ** 2;
  beforeEach(() => {
    // No upload left open by an earlier run, unless a test says so.
    s3.on(ListMultipartUploadsCommand).resolves({ Uploads: [] });
    s3.on(UploadPartCopyCommand).callsFake((i: { PartNumber: number }) => ({
      CopyPartResult: { ETag: `"etag-${i.PartNumber}"` },
    }));
    s3.on(CompleteMultipartUploadCommand).resolves({});
    s3.on(AbortMultipartUploadCommand).resolves({});
  });
  /** An upload an earlier run left open, begun at `initiated`, holding parts 1..`n` of `bytes` each. */
  const leftOpen = (id: string, initiated: string, n: number, bytes = 512 * MIB) => {
    s3.on(ListMultipartUploadsCommand).resolves({
      Uploads: [{ Key: drKey, UploadId: id, Initiated: new Date(initiated) }],
    });
    s3.on(ListPartsCommand, { UploadId: id }).resolves({
      Parts: Array.from({ length: n }, (_, i) => ({
        PartNumber: i + 1,
        ETag: `"old-${i + 1}"`,
        Size: bytes,
      })),
    });
  };
  const exported = { ...big, modified: '2026-01-31T04:00:00.000Z' };

  it('copies byte ranges with UploadPartCopy, retries a failed part, and completes with every part in order', async () => {
    // Prepare
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    s3.on(UploadPartCopyCommand, { PartNumber: 3 })
      .rejectsOnce(new Error('InternalError'))
      .resolves({ CopyPartResult: { ETag: '"etag-3"' } });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    // Act
    await port().copy(source, big, drKey);
    // Assert
    expect(s3).not.toReceiveCommand(CopyObjectCommand);
    expect(s3).toReceiveCommandWith(CreateMultipartUploadCommand, {
      Bucket: 'steward-prod-redis-dr',
      Key: drKey,
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: DR_KEY,
      BucketKeyEnabled: true,
      Metadata: { 'steward-shards': '1' },
      Tagging: expect.stringContaining('steward%3Amanaged=true'),
    });
    // 5 GiB + 1 byte in 512 MiB parts: 10 whole parts and one of 1 byte.
    const parts = s3.commandCalls(UploadPartCopyCommand).map((c) => c.args[0].input);
    expect(parts.filter((p) => p.PartNumber === 3)).toHaveLength(2);
    expect(new Set(parts.map((p) => p.CopySourceRange)).size).toBe(11);
    expect(parts.find((p) => p.PartNumber === 1)).toMatchObject({
      UploadId: 'up-1',
      CopySource: `steward-prod-redis-export/${SNAP}-0001.rdb`,
      CopySourceRange: `bytes=0-${512 * 1024 ** 2 - 1}`,
    });
    expect(parts.find((p) => p.PartNumber === 11)?.CopySourceRange).toBe(`bytes=${5 * GIB}-${5 * GIB}`);
    const done = s3.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input;
    expect(done.MultipartUpload?.Parts?.map((p) => p.PartNumber)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
    ]);
    expect(done.MultipartUpload?.Parts?.[2]).toEqual({ PartNumber: 3, ETag: '"etag-3"' });
    expect(s3).not.toReceiveCommand(AbortMultipartUploadCommand);
  });

  it('reports the copy failed when a part fails every attempt, and keeps the upload open for the next run', async () => {
    // Prepare
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-2' });
    s3.on(UploadPartCopyCommand, { PartNumber: 2 }).rejects(new Error('SlowDown'));
    // Act
    const copied = port().copy(source, big, drKey);
    // Assert
    await expect(copied).rejects.toThrow(/UploadPartCopy \(to DR\).*part 2.*upload up-2 keeps \d+\/11 parts/);
    expect(s3.commandCalls(UploadPartCopyCommand, { PartNumber: 2 })).toHaveLength(3);
    expect(s3).not.toReceiveCommand(AbortMultipartUploadCommand);
    expect(s3).not.toReceiveCommand(CompleteMultipartUploadCommand);
  });

  it('does not ask again for a part whose answer will not change (the upload is gone)', async () => {
    // Prepare: the DR bucket's lifecycle rule (or a stale-upload abort) removed the upload mid-copy.
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-4' });
    s3.on(UploadPartCopyCommand, { PartNumber: 2 }).rejects(
      Object.assign(new Error('The specified upload does not exist'), { name: 'NoSuchUpload' }),
    );
    // Act
    const copied = port({ parts: { concurrency: 1, attemptsPerPart: 3 } }).copy(source, big, drKey);
    // Assert
    await expect(copied).rejects.toThrow(/UploadPartCopy \(to DR\).*part 2.*NoSuchUpload/);
    expect(s3.commandCalls(UploadPartCopyCommand, { PartNumber: 2 })).toHaveLength(1);
  });

  it("starts no retry of a failed part once the run's budget is spent: the function's timeout would cut it", async () => {
    // Prepare: the run's one part (past `until`) fails once; a retry may take the request timeout again.
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-5' });
    s3.on(UploadPartCopyCommand)
      .rejectsOnce(new Error('InternalError'))
      .resolves({ CopyPartResult: { ETag: '"etag-1"' } });
    const late = port({
      parts: { concurrency: 1, attemptsPerPart: 3 },
      now: () => new Date('2026-01-31T06:00:00Z'),
    });
    // Act
    const copied = late.copy(source, exported, drKey, new Date('2026-01-31T05:59:00Z'));
    // Assert: reported, the upload kept for the next run
    await expect(copied).rejects.toThrow(/part 1.*upload up-5 keeps 0\/11 parts/);
    expect(s3).toReceiveCommandTimes(UploadPartCopyCommand, 1);
    expect(s3).not.toReceiveCommand(AbortMultipartUploadCommand);
  });

  it('resumes the upload an earlier run left open: copies only the parts it lacks, completes with all', async () => {
    // Prepare: parts 1-5 were copied by the last run, after the export was written.
    leftOpen('up-0', '2026-01-31T05:00:00Z', 5);
    // Act
    const left = await port().copy(source, exported, drKey);
    // Assert
    expect(left).toBeUndefined();
    expect(s3).not.toReceiveCommand(CreateMultipartUploadCommand);
    expect(s3).toReceiveCommandWith(ListMultipartUploadsCommand, {
      Bucket: 'steward-prod-redis-dr',
      Prefix: drKey,
    });
    expect(s3).toReceiveCommandWith(ListPartsCommand, {
      Bucket: 'steward-prod-redis-dr',
      Key: drKey,
      UploadId: 'up-0',
    });
    const sent = s3.commandCalls(UploadPartCopyCommand).map((c) => c.args[0].input.PartNumber);
    expect(sent.sort((a, b) => a! - b!)).toEqual([6, 7, 8, 9, 10, 11]);
    const done = s3.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input;
    expect(done.UploadId).toBe('up-0');
    expect(done.MultipartUpload?.Parts?.map((p) => p.ETag)).toEqual([
      ...[1, 2, 3, 4, 5].map((n) => `"old-${n}"`),
      ...[6, 7, 8, 9, 10, 11].map((n) => `"etag-${n}"`),
    ]);
    expect(s3).not.toReceiveCommand(AbortMultipartUploadCommand);
  });

  it.each([
    ['begun before the export was written', '2026-01-31T03:00:00Z', 512 * 1024 ** 2],
    ['holding parts of another size', '2026-01-31T05:00:00Z', 100 * 1024 ** 2],
  ])('aborts a stale upload (%s) and starts over', async (_why, initiated, bytes) => {
    // Prepare
    leftOpen('up-stale', initiated, 3, bytes);
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-new' });
    // Act
    await port().copy(source, exported, drKey);
    // Assert
    expect(s3).toReceiveCommandExactlyOnceWith(AbortMultipartUploadCommand, {
      Bucket: 'steward-prod-redis-dr',
      Key: drKey,
      UploadId: 'up-stale',
    });
    expect(s3).toReceiveCommandTimes(UploadPartCopyCommand, 11);
    expect(s3).toReceiveCommandWith(CompleteMultipartUploadCommand, { UploadId: 'up-new' });
  });

  it("starts no new part once the run's budget is spent (at least one a run), and says how far it got", async () => {
    // Prepare: the clock is past `until` from the start, one part at a time.
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-3' });
    const late = port({
      parts: { concurrency: 1, attemptsPerPart: 3 },
      now: () => new Date('2026-01-31T06:00:00Z'),
    });
    // Act
    const left = await late.copy(source, exported, drKey, new Date('2026-01-31T05:59:00Z'));
    // Assert
    expect(left).toEqual({ uploadId: 'up-3', partsDone: 1, parts: 11 });
    expect(s3).toReceiveCommandTimes(UploadPartCopyCommand, 1);
    expect(s3).not.toReceiveCommand(CompleteMultipartUploadCommand);
    expect(s3).not.toReceiveCommand(AbortMultipartUploadCommand);
  });
});

describe('cacheDrPort reads', () => {
  const tagging = mockClient(ResourceGroupsTaggingAPIClient);
  beforeEach(() => tagging.reset());
  const withTagging = () => port({ tagging: true });
  const arn = (id: string) => `arn:aws:elasticache:eu-west-1:111122223333:snapshot:${id}`;
  const described = (id: string) => ({
    SnapshotName: id,
    ARN: arn(id),
    ReplicationGroupId: 'sessions',
    SnapshotStatus: 'available',
    NumNodeGroups: 2,
  });
  const OTHER = 'steward-sessions-202601300300-sched';
  const managed = [
    { Key: Tag.managed, Value: 'true' },
    { Key: Tag.policy, Value: 'daily' },
  ];

  it("reads every steward snapshot's tags in bulk (GetResources, pages of 100), never one ListTagsForResource each", async () => {
    // Prepare: two of steward's snapshots; only SNAP is tagged steward:managed=true; one not named steward-*.
    ec.on(DescribeSnapshotsCommand).resolves({
      Snapshots: [described(SNAP), described(OTHER), { ...described('manual-1'), SnapshotName: 'manual-1' }],
    });
    tagging
      .on(GetResourcesCommand)
      .resolvesOnce({
        ResourceTagMappingList: [{ ResourceARN: arn(SNAP), Tags: managed }],
        PaginationToken: 'p2',
      })
      .resolves({ ResourceTagMappingList: [], PaginationToken: '' });
    // Act
    const sources = await withTagging().sources();
    // Assert
    expect(ec).not.toReceiveCommand(ListTagsForResourceCommand);
    expect(tagging).toReceiveCommandTimes(GetResourcesCommand, 2);
    expect(tagging).toReceiveNthCommandWith(GetResourcesCommand, 2, {
      ResourceTypeFilters: ['elasticache:snapshot'],
      TagFilters: [{ Key: Tag.managed, Values: ['true'] }],
      ResourcesPerPage: 100,
      PaginationToken: 'p2',
    });
    expect(sources.map((s) => [s.snapshot.id, s.snapshot.tags[Tag.policy], s.shards])).toEqual([
      [SNAP, 'daily', 2],
      [OTHER, undefined, 2],
    ]);
  });

  it('reads one snapshot by name with its tags; a snapshot that is gone is undefined', async () => {
    // Prepare
    ec.on(DescribeSnapshotsCommand, { SnapshotName: SNAP }).resolves({ Snapshots: [described(SNAP)] });
    ec.on(DescribeSnapshotsCommand, { SnapshotName: OTHER }).rejects(
      new SnapshotNotFoundFault({ message: 'not found', $metadata: {} }),
    );
    ec.on(ListTagsForResourceCommand).resolves({ TagList: managed });
    // Act
    const one = await withTagging().source(SNAP);
    const gone = await withTagging().source(OTHER);
    // Assert
    expect(one).toMatchObject({
      snapshot: { id: SNAP, sourceId: 'sessions', tags: { [Tag.policy]: 'daily' } },
      shards: 2,
    });
    expect(gone).toBeUndefined();
    expect(ec).toReceiveCommandExactlyOnceWith(ListTagsForResourceCommand, { ResourceName: arn(SNAP) });
    expect(tagging).not.toReceiveCommand(GetResourcesCommand);
  });

  it("lists one snapshot's files by prefix in either bucket (in DR, its group's, both key layouts)", async () => {
    // Prepare: the group's copies in DR, keyed with their policy and (older) without.
    s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    s3.on(ListObjectsV2Command, {
      Bucket: 'steward-prod-redis-dr',
      Prefix: 'elasticache/sessions/',
    }).resolves({
      Contents: [
        { Key: `elasticache/sessions/daily/${SNAP}-0001.rdb` },
        { Key: `elasticache/sessions/${SNAP}-0002.rdb` },
        { Key: `elasticache/sessions/daily/${OTHER}-0001.rdb` },
      ],
    });
    // Act
    await withTagging().exported(SNAP);
    const one = await withTagging().inDr({ group: 'sessions', snapshot: SNAP });
    await withTagging().inDr();
    // Assert
    expect(one.map((o) => o.key)).toEqual([
      `elasticache/sessions/daily/${SNAP}-0001.rdb`,
      `elasticache/sessions/${SNAP}-0002.rdb`,
    ]);
    // Assert
    expect(
      s3.commandCalls(ListObjectsV2Command).map((c) => [c.args[0].input.Bucket, c.args[0].input.Prefix]),
    ).toEqual([
      ['steward-prod-redis-export', `${SNAP}-`],
      ['steward-prod-redis-dr', 'elasticache/sessions/'],
      ['steward-prod-redis-dr', 'elasticache/'],
    ]);
  });
});

// Retention of the DR copies: a copy keyed with its policy (drRdbKey) is judged from the listing alone; a copy
// keyed before keys carried it costs one GetObjectTagging; every file's tags are read again before it is deleted.
describe('s3RdbStore', () => {
  const BUCKET = 'steward-prod-rdb-dr-111122223333-us-west-2';
  const day = (d: number) => `steward-sessions-2026012${d}0300-sched`;
  const store = () => s3RdbStore('us-west-2', new S3Client({ region: 'us-west-2' }), BUCKET, 'eu-west-1');
  const ours = [
    { Key: Tag.managed, Value: 'true' },
    { Key: Tag.policy, Value: 'daily' },
  ];

  it('lists copies keyed with their policy with no request per copy, and reads the tags of older ones', async () => {
    // Prepare: two copies keyed with the policy (of two shards each), one keyed without.
    s3.on(ListObjectsV2Command).resolves({
      Contents: [
        {
          Key: `elasticache/sessions/daily/${day(7)}-0001.rdb`,
          LastModified: new Date('2026-01-27T04:00:00Z'),
        },
        {
          Key: `elasticache/sessions/daily/${day(7)}-0002.rdb`,
          LastModified: new Date('2026-01-27T04:01:00Z'),
        },
        {
          Key: `elasticache/sessions/daily/${day(6)}-0002.rdb`,
          LastModified: new Date('2026-01-26T04:01:00Z'),
        },
        { Key: `elasticache/sessions/${day(5)}-0002.rdb`, LastModified: new Date('2026-01-25T04:01:00Z') },
        {
          Key: `elasticache/sessions/daily/${day(6)}-0001.rdb`,
          LastModified: new Date('2026-01-26T04:00:00Z'),
        },
        { Key: `elasticache/sessions/${day(5)}-0001.rdb`, LastModified: new Date('2026-01-25T04:00:00Z') },
      ],
    });
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: [...ours, { Key: Tag.source, Value: 'sessions' }] });
    // Act
    const { snapshots } = await store().list(['elasticache']);
    // Assert
    expect(s3).toReceiveCommandTimes(ListObjectsV2Command, 1);
    expect(s3).toReceiveCommandExactlyOnceWith(GetObjectTaggingCommand, {
      Bucket: BUCKET,
      Key: `elasticache/sessions/${day(5)}-0001.rdb`,
    });
    expect(
      snapshots.map((x) => [x.id, x.tags[Tag.policy], x.tags[Tag.managed], x.sourceId, x.shards, x.status]),
    ).toEqual([
      [day(7), 'daily', 'true', 'sessions', 2, 'available'],
      [day(6), 'daily', 'true', 'sessions', 2, 'available'],
      [day(5), 'daily', 'true', 'sessions', 2, 'available'],
    ]);
    // Every copy of the group holds as many files: none is read for its shard count.
    expect(s3).toReceiveCommandTimes(HeadObjectCommand, 0);
    expect(snapshots[0]).toMatchObject({
      copiedAt: '2026-01-27T04:01:00.000Z',
      createdAt: '2026-01-27T03:00:00.000Z',
    });
  });

  it("deletes a copy file by file after reading each file's tags, and refuses one not steward's or on hold", async () => {
    // Prepare
    s3.on(ListObjectsV2Command).resolves({
      Contents: [7, 6, 5].map((d) => ({ Key: `elasticache/sessions/daily/${day(d)}-0001.rdb` })),
    });
    s3.on(GetObjectTaggingCommand, { Key: `elasticache/sessions/daily/${day(7)}-0001.rdb` })
      .resolves({ TagSet: ours })
      .on(GetObjectTaggingCommand, { Key: `elasticache/sessions/daily/${day(6)}-0001.rdb` })
      .resolves({ TagSet: [] })
      .on(GetObjectTaggingCommand, { Key: `elasticache/sessions/daily/${day(5)}-0001.rdb` })
      .resolves({ TagSet: [...ours, { Key: Tag.hold, Value: 'audit' }] });
    s3.on(DeleteObjectCommand).resolves({});
    const s = store();
    const snap = (d: number): Snapshot => ({ ...snapshot, id: day(d), region: 'us-west-2' });
    // Act
    const deleted = await s.remove(snap(7));
    const untagged = await s.remove(snap(6)).catch((e: unknown) => e);
    const held = await s.remove(snap(5)).catch((e: unknown) => e);
    // Assert
    expect(deleted).toBe('deleted');
    expect((untagged as Error).message).toMatch(/not tagged steward:managed=true/);
    expect((held as Error).message).toMatch(/on hold \(steward:hold\)/);
    expect(s3).toReceiveCommandExactlyOnceWith(DeleteObjectCommand, {
      Bucket: BUCKET,
      Key: `elasticache/sessions/daily/${day(7)}-0001.rdb`,
    });
  });

  it("deletes no file of a copy when any of its files is on hold or not steward's (a copy is kept whole)", async () => {
    // Prepare: a copy of three shards, all steward's; only the second is on hold.
    const key = (shard: number) => `elasticache/sessions/daily/${day(7)}-000${shard}.rdb`;
    s3.on(ListObjectsV2Command).resolves({ Contents: [1, 2, 3].map((n) => ({ Key: key(n) })) });
    s3.on(GetObjectTaggingCommand, { Key: key(1) })
      .resolves({ TagSet: ours })
      .on(GetObjectTaggingCommand, { Key: key(2) })
      .resolves({ TagSet: [...ours, { Key: Tag.hold, Value: 'audit' }] })
      .on(GetObjectTaggingCommand, { Key: key(3) })
      .resolves({ TagSet: ours });
    s3.on(DeleteObjectCommand).resolves({});
    // Act
    const held = await store()
      .remove({ kind: 'elasticache', id: day(7) })
      .catch((e: unknown) => e);
    // Assert: refused, and not one shard deleted (a copy missing a shard restores nothing).
    expect((held as Error).message).toMatch(/on hold \(steward:hold\)/);
    expect(s3).toReceiveCommandTimes(DeleteObjectCommand, 0);
  });

  it('a retention run lists the DR prefix once, however many copies it deletes (not once per copy)', async () => {
    // Prepare: 12 copies (3 groups x 4 days, 2 shards each: 24 files), listed in pages of 5 keys.
    const keys = ['sessions', 'carts', 'flags'].flatMap((g) =>
      [1, 2, 3, 4].flatMap((d) =>
        [1, 2].map((n) => `elasticache/${g}/daily/steward-${g}-2026012${d}0300-sched-000${n}.rdb`),
      ),
    );
    s3.on(ListObjectsV2Command).callsFake((i: ListObjectsV2CommandInput) => {
      const from = Number(i.ContinuationToken ?? 0);
      const next = from + 5 < keys.length ? String(from + 5) : undefined;
      return {
        Contents: keys.slice(from, from + 5).map((Key) => ({ Key })),
        ...(next ? { IsTruncated: true, NextContinuationToken: next } : { IsTruncated: false }),
      };
    });
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: ours });
    s3.on(DeleteObjectCommand).resolves({});
    const s = store();
    const pagesOfOneListing = Math.ceil(keys.length / 5);
    // Act: the listing retention judges, then 9 of the 12 copies deleted (three at once, as settleEach may).
    const { snapshots } = await s.list(['elasticache']);
    const expired = snapshots.filter((x) => !x.id.includes('202601240300'));
    const results = await Promise.all(expired.map((x) => s.remove(x)));
    // Assert: one listing in all; every file of each expired copy deleted, after its own tags were read.
    expect(expired).toHaveLength(9);
    expect(results).toEqual(expired.map(() => 'deleted'));
    expect(s3).toReceiveCommandTimes(ListObjectsV2Command, pagesOfOneListing);
    expect(s3).toReceiveCommandTimes(DeleteObjectCommand, 18);
    expect(s3).toReceiveCommandTimes(GetObjectTaggingCommand, 18);
    // A copy deleted once is gone for the rest of the run, not deleted again.
    expect(await s.remove(expired[0]!)).toBe('already-gone');
    expect(s3).toReceiveCommandTimes(DeleteObjectCommand, 18);
  });

  it('a remove with no listing before it lists once for every remove of the run', async () => {
    // Prepare
    s3.on(ListObjectsV2Command).resolves({
      Contents: [7, 6, 5].map((d) => ({ Key: `elasticache/sessions/daily/${day(d)}-0001.rdb` })),
    });
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: ours });
    s3.on(DeleteObjectCommand).resolves({});
    const s = store();
    // Act
    const r = await Promise.all([7, 6, 5].map((d) => s.remove({ kind: 'elasticache', id: day(d) })));
    // Assert
    expect(r).toEqual(['deleted', 'deleted', 'deleted']);
    expect(s3).toReceiveCommandTimes(ListObjectsV2Command, 1);
  });

  it('a remove whose listing failed (throttled past retries) is reported, and the next remove lists again', async () => {
    // Prepare: the first listing fails, the second answers.
    s3.on(ListObjectsV2Command)
      .rejectsOnce(Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown' }))
      .resolves({ Contents: [{ Key: `elasticache/sessions/daily/${day(7)}-0001.rdb` }] });
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: ours });
    s3.on(DeleteObjectCommand).resolves({});
    const s = store();
    // Act
    const failed = await s.remove({ kind: 'elasticache', id: day(7) }).catch((e: unknown) => e);
    const retried = await s.remove({ kind: 'elasticache', id: day(7) });
    // Assert
    expect((failed as Error).message).toMatch(/reduce your request rate/);
    expect(retried).toBe('deleted');
    expect(s3).toReceiveCommandTimes(ListObjectsV2Command, 2);
  });

  it('reports a copy whose shards have not all arrived as copying (its metadata names 3 shards, 2 are there)', async () => {
    // Prepare: the 26th's copy is complete (3 of 3); the 27th's, newest, has 2 of its 3 files so far.
    const key = (d: number, n: number) => `elasticache/sessions/daily/${day(d)}-000${n}.rdb`;
    s3.on(ListObjectsV2Command).resolves({
      Contents: [key(7, 1), key(7, 2), key(6, 1), key(6, 2), key(6, 3)].map((Key) => ({
        Key,
        LastModified: new Date('2026-01-27T04:00:00Z'),
      })),
    });
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: [...ours, { Key: Tag.shards, Value: '3' }] });
    // Act
    const { snapshots } = await store().list(['elasticache']);
    // Assert: the newest is not available (the copies disagree: each one's shard count is read from its tags,
    // never from the file itself: retention may not read the cache's data).
    expect(snapshots.map((x) => [x.id, x.status, x.shards])).toEqual([
      [day(7), 'copying', 2],
      [day(6), 'available', 3],
    ]);
    expect(s3).toReceiveCommandTimes(GetObjectTaggingCommand, 2);
    expect(s3).toReceiveCommandWith(GetObjectTaggingCommand, { Bucket: BUCKET, Key: key(7, 1) });
    expect(s3).toReceiveCommandTimes(HeadObjectCommand, 0);
    // Retention keeping one (keepAtLeast 1, newest only): the complete copy stays, the partial one is not judged.
    const plan = planRetention(
      snapshots,
      () => ({ name: 'p', policy: { daily: 0, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 } }),
      new Date('2026-02-20T00:00:00Z'),
      { maxDeletionsPerRun: 100 },
    );
    expect(plan.delete).toEqual([]);
    expect(plan.verdicts.find((v) => v.id === day(6))?.action).toBe('keep');
  });

  it('reads a copy with a gap in its shard numbers as incomplete, with no request', async () => {
    // Prepare: one copy only (nothing to compare with): files 0001 and 0003.
    s3.on(ListObjectsV2Command).resolves({
      Contents: [1, 3].map((n) => ({ Key: `elasticache/sessions/daily/${day(7)}-000${n}.rdb` })),
    });
    // Act
    const { snapshots } = await store().list(['elasticache']);
    // Assert
    expect(snapshots.map((x) => x.status)).toEqual(['copying']);
    expect(s3.calls()).toHaveLength(1);
  });

  it('a group resharded to more shards: its newest copy, with more files than the older ones but not all, is copying', async () => {
    // Prepare: two copies of one shard (before the reshard), the newest of three shards with two arrived.
    const key = (d: number, n: number) => `elasticache/sessions/daily/${day(d)}-000${n}.rdb`;
    s3.on(ListObjectsV2Command).resolves({
      Contents: [key(7, 1), key(7, 2), key(6, 1), key(5, 1)].map((Key) => ({ Key })),
    });
    const shards = (n: number) => ({ TagSet: [...ours, { Key: Tag.shards, Value: String(n) }] });
    s3.on(GetObjectTaggingCommand, { Key: key(7, 1) })
      .resolves(shards(3))
      .on(GetObjectTaggingCommand, { Key: key(6, 1) })
      .resolves(shards(1))
      .on(GetObjectTaggingCommand, { Key: key(5, 1) })
      .resolves(shards(1));
    // Act
    const { snapshots } = await store().list(['elasticache']);
    // Assert
    expect(snapshots.map((x) => [x.id, x.status])).toEqual([
      [day(7), 'copying'],
      [day(6), 'available'],
      [day(5), 'available'],
    ]);
  });

  it('a copy made before the shards tag, in a group whose copies disagree, is judged by its files', async () => {
    // Prepare: two copies of one group, of 2 and 1 files, neither tagged with its shard count.
    const key = (d: number, n: number) => `elasticache/sessions/daily/${day(d)}-000${n}.rdb`;
    s3.on(ListObjectsV2Command).resolves({
      Contents: [key(7, 1), key(7, 2), key(6, 1)].map((Key) => ({ Key })),
    });
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: ours });
    // Act
    const { snapshots } = await store().list(['elasticache']);
    // Assert
    expect(snapshots.map((x) => [x.id, x.status])).toEqual([
      [day(7), 'available'],
      [day(6), 'available'],
    ]);
  });
});
