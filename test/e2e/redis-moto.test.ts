import { CreateCacheSubnetGroupCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { cacheDrPort, s3RdbCopyLister, s3RdbStore } from '../../shared/aws/cache-dr.js';
import { DR_RDB_PREFIX, drRdbKey } from '../../shared/backup/cache-dr.js';
import { elastiCacheDrillPort } from '../../shared/aws/elasticache-drill.js';
import { drillTargetId } from '../../shared/drill/ids.js';
import { GuardRefusedError } from '../../shared/errors.js';
import { planRetention } from '../../shared/retention/gfs.js';
import { Tag } from '../../shared/tags.js';
import { createMotoRedis, useMotoEnvironment } from '../support/moto.js';

// The ElastiCache drill port and the Redis DR buckets through real HTTP and the SDK's serialisers against
// moto 5.2.1. Moto answers CreateReplicationGroup (from a snapshot name), Describe/Delete, CreateSnapshot,
// DescribeSnapshots, ListTagsForResource and all of S3 (the multipart copy's UploadPartCopy included); it
// does not implement CopySnapshot (the export to
// S3) or user groups, and its groups are `available` at once: the export is proven with mocks, states and
// timing with mocks and the local state machine run.
const REGION = 'eu-west-1';
const DR = 'us-west-2';
const SNAP = 'steward-sessions-202601310300-sched';

describe('Redis drills and DR copies against moto', () => {
  useMotoEnvironment(REGION);
  let ec: ElastiCacheClient;
  beforeAll(async () => {
    ec = new ElastiCacheClient({ region: REGION });
    await ec.send(
      new CreateCacheSubnetGroupCommand({
        CacheSubnetGroupName: 'steward-e2e-drill',
        CacheSubnetGroupDescription: 'drill',
        SubnetIds: ['subnet-0a1b2c3d'],
      }),
    );
    await createMotoRedis(ec, 'sessions', {
      name: SNAP,
      tags: { [Tag.managed]: 'true', [Tag.policy]: 'daily' },
    });
  });

  it('restores a snapshot into a tagged drill group, sees it, lists it for the janitor and deletes it', async () => {
    // Prepare
    const port = elastiCacheDrillPort(REGION, ec);
    const id = drillTargetId('sessions', 'e2e-1');

    // Act
    const snapshots = await port.listSnapshots('sessions');
    const restored = await port.restore({
      targetId: id,
      tags: { [Tag.drill]: 'e2e-1', [Tag.managed]: 'true', [Tag.source]: 'sessions' },
      nodeType: 'cache.t4g.small',
      source: { snapshotName: SNAP },
      shards: 1,
      network: { cacheSubnetGroupName: 'steward-e2e-drill', securityGroupIds: ['sg-0a1b2c3d'] },
    });
    const status = await port.describe({ kind: 'redis', id });
    const leftovers = await port.listDrillResources();
    const removed = await port.remove({ kind: 'redis', id });
    const again = await port.remove({ kind: 'redis', id });

    // Assert
    expect(snapshots.map((s) => [s.id, s.sourceId])).toEqual([[SNAP, 'sessions']]);
    expect(restored).toMatchObject({ kind: 'redis', id });
    expect(status.failed).toBe(false);
    expect(leftovers).toEqual([expect.objectContaining({ kind: 'redis', id, drillId: 'e2e-1' })]);
    expect(removed).toBe('deleted');
    // Moto keeps the group `deleting` (as ElastiCache does for a while): a second cleanup is done, not an error.
    expect(again).toBe('deleted');
    // The source group is not a drill's: refused, never deleted.
    await expect(port.remove({ kind: 'redis', id: 'sessions' })).rejects.toThrow(GuardRefusedError);
  });

  it('copies an exported RDB file to the DR bucket tagged and described, lists it as a DR copy, and removes it', async () => {
    // Prepare: what ElastiCache's export leaves in the export bucket.
    const s3 = new S3Client({ region: REGION, forcePathStyle: true });
    const drS3 = new S3Client({ region: DR, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'steward-e2e-redis-export' }));
    await drS3.send(
      new CreateBucketCommand({
        Bucket: 'steward-e2e-redis-dr',
        CreateBucketConfiguration: { LocationConstraint: DR },
      }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: 'steward-e2e-redis-export',
        Key: `${SNAP}-0001.rdb`,
        Body: 'REDIS0011...',
      }),
    );
    const port = cacheDrPort(
      REGION,
      DR,
      { elasticache: ec, s3, drS3 },
      {
        exportBucket: 'steward-e2e-redis-export',
        drBucket: 'steward-e2e-redis-dr',
      },
    );
    const store = s3RdbStore(DR, drS3, 'steward-e2e-redis-dr', REGION);

    // Act
    const [source] = await port.sources();
    const exported = await port.exported();
    // Keyed as the plan keys it: under the group and the snapshot's policy (drRdbKey).
    await port.copy(source!, exported[0]!, drRdbKey('sessions', `${SNAP}-0001.rdb`, DR_RDB_PREFIX, 'daily'));
    await port.cleanExport(exported[0]!);
    const listing = await store.list(['elasticache']);
    const copies = await s3RdbCopyLister(DR, drS3, 'steward-e2e-redis-dr', REGION).listCopies('sessions');
    const removed = await store.remove({ kind: 'elasticache', id: SNAP });

    // Assert
    expect(source).toMatchObject({ shards: 1, snapshot: { id: SNAP, tags: { [Tag.policy]: 'daily' } } });
    expect(await port.exported()).toEqual([]);
    expect(listing.snapshots).toEqual([
      expect.objectContaining({
        kind: 'elasticache',
        id: SNAP,
        region: DR,
        sourceId: 'sessions',
        createdAt: '2026-01-31T03:00:00.000Z',
        sourceRegion: REGION,
        tags: expect.objectContaining({
          [Tag.managed]: 'true',
          [Tag.policy]: 'daily',
          [Tag.source]: 'sessions',
        }),
      }),
    ]);
    expect(copies).toEqual([
      expect.objectContaining({
        id: SNAP,
        status: 'available',
        shards: 1,
        rdbArns: [`arn:aws:s3:::steward-e2e-redis-dr/elasticache/sessions/daily/${SNAP}-0001.rdb`],
      }),
    ]);
    expect(removed).toBe('deleted');
    expect((await store.list(['elasticache'])).snapshots).toEqual([]);
  });

  it('lists a copy still copying (2 of its 3 shards in DR) as copying: retention keeps the older complete copy', async () => {
    // Prepare: a three-shard group's exports, the older snapshot's three files and the newer's first two.
    const s3 = new S3Client({ region: REGION, forcePathStyle: true });
    const drS3 = new S3Client({ region: DR, forcePathStyle: true });
    const buckets = { exportBucket: 'steward-e2e-shards-export', drBucket: 'steward-e2e-shards-dr' };
    await s3.send(new CreateBucketCommand({ Bucket: buckets.exportBucket }));
    await drS3.send(
      new CreateBucketCommand({
        Bucket: buckets.drBucket,
        CreateBucketConfiguration: { LocationConstraint: DR },
      }),
    );
    const older = 'steward-sessions-202601300300-sched';
    const files = [1, 2, 3]
      .map((n) => `${older}-000${n}.rdb`)
      .concat([1, 2].map((n) => `${SNAP}-000${n}.rdb`));
    for (const Key of files)
      await s3.send(new PutObjectCommand({ Bucket: buckets.exportBucket, Key, Body: 'REDIS0011...' }));
    const port = cacheDrPort(REGION, DR, { elasticache: ec, s3, drS3 }, buckets);
    const [moto] = await port.sources();
    // Moto's snapshot has one node group: the same snapshot as a three-shard group's (its facts say 3).
    const of = (id: string) => ({
      snapshot: { ...moto!.snapshot, id },
      shards: 3,
      facts: { ...moto!.facts, 'steward-shards': '3' },
    });
    for (const file of await port.exported())
      await port.copy(of(file.snapshot), file, drRdbKey('sessions', file.key, DR_RDB_PREFIX, 'daily'));
    const store = s3RdbStore(DR, drS3, buckets.drBucket, REGION);

    // Act
    const { snapshots } = await store.list(['elasticache']);
    const plan = planRetention(
      snapshots,
      () => ({ name: 'daily', policy: { daily: 0, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 } }),
      new Date('2026-03-01T00:00:00Z'),
      { maxDeletionsPerRun: 10 },
    );

    // Assert: the newer copy is not available, so it neither counts as the one kept nor is deleted.
    expect(snapshots.map((x) => [x.id, x.status, x.shards])).toEqual([
      [older, 'available', 3],
      [SNAP, 'copying', 2],
    ]);
    expect(plan.delete).toEqual([]);
    expect(plan.verdicts.find((v) => v.id === older)).toMatchObject({ action: 'keep' });
  });

  it('copies a file in parts (UploadPartCopy) against S3 as moto serves it: the copy is whole and tagged', async () => {
    // Prepare: an 11 MiB export, copied in 5 MiB parts (the threshold lowered from 5 GB for the test).
    const s3 = new S3Client({ region: REGION, forcePathStyle: true });
    const drS3 = new S3Client({ region: DR, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'steward-e2e-parts-export' }));
    await drS3.send(
      new CreateBucketCommand({
        Bucket: 'steward-e2e-parts-dr',
        CreateBucketConfiguration: { LocationConstraint: DR },
      }),
    );
    const body = Buffer.alloc(11 * 1024 ** 2, 7);
    body.write('REDIS0011', 0);
    await s3.send(
      new PutObjectCommand({ Bucket: 'steward-e2e-parts-export', Key: `${SNAP}-0001.rdb`, Body: body }),
    );
    const port = cacheDrPort(
      REGION,
      DR,
      { elasticache: ec, s3, drS3 },
      { exportBucket: 'steward-e2e-parts-export', drBucket: 'steward-e2e-parts-dr' },
      { concurrency: 2, attemptsPerPart: 3, partBytes: 5 * 1024 ** 2, multipartAbove: 1 },
    );
    const [source] = await port.sources();
    const [file] = await port.exported();

    // Act
    await port.copy(source!, file!, `elasticache/sessions/${SNAP}-0001.rdb`);

    // Assert
    const key = `elasticache/sessions/${SNAP}-0001.rdb`;
    const head = await drS3.send(new HeadObjectCommand({ Bucket: 'steward-e2e-parts-dr', Key: key }));
    expect(head.ContentLength).toBe(body.length);
    expect(head.Metadata).toMatchObject({ 'steward-shards': '1' });
    const tags = await drS3.send(new GetObjectTaggingCommand({ Bucket: 'steward-e2e-parts-dr', Key: key }));
    expect(tags.TagSet).toEqual(expect.arrayContaining([{ Key: Tag.managed, Value: 'true' }]));
    const copied = await drS3.send(new GetObjectCommand({ Bucket: 'steward-e2e-parts-dr', Key: key }));
    expect(Buffer.from(await copied.Body!.transformToByteArray()).equals(body)).toBe(true);
  });

  it('continues a multipart copy in a later run from the parts S3 holds (ListMultipartUploads, ListParts)', async () => {
    // Prepare: the same 11 MiB export in 5 MiB parts; the first run's budget is spent from the start.
    const s3 = new S3Client({ region: REGION, forcePathStyle: true });
    const drS3 = new S3Client({ region: DR, forcePathStyle: true });
    await drS3.send(
      new CreateBucketCommand({
        Bucket: 'steward-e2e-resume-dr',
        CreateBucketConfiguration: { LocationConstraint: DR },
      }),
    );
    const body = Buffer.alloc(11 * 1024 ** 2, 9);
    const buckets = { exportBucket: 'steward-e2e-parts-export', drBucket: 'steward-e2e-resume-dr' };
    await s3.send(
      new PutObjectCommand({ Bucket: buckets.exportBucket, Key: `${SNAP}-0001.rdb`, Body: body }),
    );
    const opts = { concurrency: 1, attemptsPerPart: 3, partBytes: 5 * 1024 ** 2, multipartAbove: 1 };
    const late = cacheDrPort(
      REGION,
      DR,
      { elasticache: ec, s3, drS3 },
      buckets,
      opts,
      () => new Date(8.64e15),
    );
    const port = cacheDrPort(REGION, DR, { elasticache: ec, s3, drS3 }, buckets, opts);
    const [source] = await port.sources();
    const [file] = await port.exported();
    const key = `elasticache/sessions/${SNAP}-0001.rdb`;

    // Act
    const first = await late.copy(source!, file!, key, new Date());
    const second = await port.copy(source!, file!, key);

    // Assert
    expect(first).toMatchObject({ partsDone: 1, parts: 3 });
    expect(second).toBeUndefined();
    const copied = await drS3.send(new GetObjectCommand({ Bucket: buckets.drBucket, Key: key }));
    expect(Buffer.from(await copied.Body!.transformToByteArray()).equals(body)).toBe(true);
  });
});
