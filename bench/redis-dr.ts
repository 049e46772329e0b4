import {
  CopySnapshotCommand,
  DescribeSnapshotsCommand,
  type DescribeSnapshotsCommandInput,
  ElastiCacheClient,
  ListTagsForResourceCommand,
  type ListTagsForResourceCommandInput,
  type Snapshot,
} from '@aws-sdk/client-elasticache';
import {
  GetResourcesCommand,
  type GetResourcesCommandInput,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import {
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandInput,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { run, wire } from '../functions/backup/handler.js';
import { wire as wireRetention } from '../functions/retention/handler.js';
import { cacheDrPort } from '../shared/aws/cache-dr.js';
import { elastiCacheClient } from '../shared/aws/clients/elasticache.js';
import { s3Client } from '../shared/aws/clients/s3.js';
import { parseConfig } from '../shared/config/schema.js';
import { memoryNotifier } from '../shared/notify/notifier.js';
import { pages } from './estate/expected.js';
import type { BenchRow } from './stats.js';

// Redis DR's requests at scale, through the backup function's real wiring with the SDK mocked (no AWS): one
// ElastiCache "Snapshot Created" event, and one hourly reconcile with nothing left to copy, at `n` caches
// with a week of daily snapshots each, every one of them already in the DR bucket. The baseline is the same
// request served as before (a full run, one ListTagsForResource per snapshot). The minimum is counted from
// the estate alone, with the APIs' own page sizes.

const PRIMARY = 'eu-west-1';
const DR = 'us-west-2';
const ACCOUNT = '111122223333';
const NOW = new Date('2026-01-15T03:30:00Z');
const DAYS = 7;
const BUCKETS = { REDIS_EXPORT_BUCKET: 'steward-bench-export', REDIS_DR_BUCKET: 'steward-bench-dr' };
/** The APIs' largest pages (ElastiCache DescribeSnapshots MaxRecords 50; GetResources 100; ListObjectsV2 1 000). */
const PAGE = { describe: 50, tagging: 100, list: 1000 };

const config = parseConfig(
  {
    stage: 'bench',
    region: PRIMARY,
    backup: { policies: { cache: { kinds: ['elasticache'], copyToDr: true } } },
    dr: { region: DR, kmsKeyArn: `arn:aws:kms:${DR}:${ACCOUNT}:alias/steward-dr` },
  },
  'bench',
);

const arn = (id: string) => `arn:aws:elasticache:${PRIMARY}:${ACCOUNT}:snapshot:${id}`;
const stamp = (d: Date) => d.toISOString().slice(0, 16).replace(/[-T:]/g, '');
const TAGS = [
  { Key: 'steward:managed', Value: 'true' },
  { Key: 'steward:policy', Value: 'cache' },
];

/** `n` caches, a daily snapshot each for a week (the newest just taken by cache-0000 only), all but that one in DR. */
const estate = (n: number) => {
  const snapshots: Snapshot[] = [];
  const inDr: string[] = [];
  for (let i = 0; i < n; i++) {
    const group = `cache-${String(i).padStart(4, '0')}`;
    for (let d = 0; d < DAYS; d++) {
      const at = new Date(NOW.getTime() - (d + (i === 0 ? 0 : 1)) * 86_400_000);
      at.setUTCHours(3, 0, 0, 0);
      const id = `steward-${group}-${stamp(at)}-sched`;
      snapshots.push({
        SnapshotName: id,
        ARN: arn(id),
        ReplicationGroupId: group,
        SnapshotStatus: 'available',
        SnapshotSource: 'manual',
        NumNodeGroups: 1,
        NodeSnapshots: [{ SnapshotCreateTime: at }],
      });
      if (i !== 0 || d !== 0) inDr.push(`elasticache/${group}/${id}-0001.rdb`);
    }
  }
  return { snapshots, inDr, event: snapshots[0]!.SnapshotName! };
};

const page = <T>(all: readonly T[], token: string | undefined, size: number) => {
  const from = Number(token || 0);
  return {
    items: all.slice(from, from + size),
    next: from + size < all.length ? String(from + size) : undefined,
  };
};

/** The estate behind aws-sdk-client-mock, as the three APIs answer: pages, filters and prefixes. */
const mockEstate = (e: ReturnType<typeof estate>) => {
  const ec = mockClient(ElastiCacheClient);
  const tagging = mockClient(ResourceGroupsTaggingAPIClient);
  const s3 = mockClient(S3Client);
  ec.on(DescribeSnapshotsCommand).callsFake((i: DescribeSnapshotsCommandInput) => {
    const all = i.SnapshotName ? e.snapshots.filter((s) => s.SnapshotName === i.SnapshotName) : e.snapshots;
    const p = page(all, i.Marker, Math.min(i.MaxRecords ?? PAGE.describe, PAGE.describe));
    return { Snapshots: p.items, ...(p.next ? { Marker: p.next } : {}) };
  });
  ec.on(ListTagsForResourceCommand).callsFake((_: ListTagsForResourceCommandInput) => ({ TagList: TAGS }));
  ec.on(CopySnapshotCommand).resolves({});
  tagging.on(GetResourcesCommand).callsFake((i: GetResourcesCommandInput) => {
    const p = page(
      e.snapshots,
      i.PaginationToken,
      Math.min(i.ResourcesPerPage ?? PAGE.tagging, PAGE.tagging),
    );
    return {
      ResourceTagMappingList: p.items.map((s) => ({ ResourceARN: s.ARN, Tags: TAGS })),
      PaginationToken: p.next ?? '',
    };
  });
  s3.on(ListObjectsV2Command).callsFake((i: ListObjectsV2CommandInput) => {
    const keys =
      i.Bucket === BUCKETS.REDIS_DR_BUCKET ? e.inDr.filter((k) => k.startsWith(i.Prefix ?? '')) : [];
    const p = page(keys, i.ContinuationToken, Math.min(i.MaxKeys ?? PAGE.list, PAGE.list));
    return {
      Contents: p.items.map((Key) => ({ Key, Size: 1024 })),
      ...(p.next ? { IsTruncated: true, NextContinuationToken: p.next } : { IsTruncated: false }),
    };
  });
  const calls = () => ec.calls().length + tagging.calls().length + s3.calls().length;
  const restore = () => [ec, tagging, s3].forEach((m) => m.restore());
  return { calls, restore };
};

const snapshotCreated = (id: string) => ({
  version: '0',
  id: 'bench',
  'detail-type': 'Snapshot Created',
  source: 'aws.elasticache',
  account: ACCOUNT,
  time: NOW.toISOString(),
  region: PRIMARY,
  resources: [arn(id)],
  detail: {},
});

/** Requests one run costs: as shipped, and served as before (a full run, tags one snapshot at a time). */
const measure = async (n: number, what: 'event' | 'hourly', before: boolean): Promise<number> => {
  const e = estate(n);
  // The hourly run: the event's snapshot is in DR too.
  if (what === 'hourly') e.inDr.push(`elasticache/cache-0000/${e.event}-0001.rdb`);
  const aws = mockEstate(e);
  try {
    const deps = wire({ config, dryRun: false, notifier: memoryNotifier(), now: () => NOW }, BUCKETS);
    if (before)
      deps.cacheDr = cacheDrPort(
        PRIMARY,
        DR,
        { elasticache: elastiCacheClient(PRIMARY), s3: s3Client(PRIMARY), drS3: s3Client(DR) },
        { exportBucket: BUCKETS.REDIS_EXPORT_BUCKET, drBucket: BUCKETS.REDIS_DR_BUCKET },
      );
    await run(
      what === 'event' && !before ? snapshotCreated(e.event) : { action: 'reconcile-cache-dr' },
      deps,
    );
    return aws.calls();
  } finally {
    aws.restore();
  }
};

/** A DR copy's key as the backup now writes it: its policy (`cache`) after the group's prefix. */
const keyedWithPolicy = (key: string): string => key.replace(/^(elasticache\/[^/]+\/)/, '$1cache/');

/** The retention function's store of the Redis DR copies, as it wires it (S3 mocked by the caller). */
const drCopiesStore = (dryRun: boolean) =>
  wireRetention(
    { config, dryRun, notifier: memoryNotifier(), now: () => NOW },
    { STATE_TABLE: 'steward-bench-state', REDIS_DR_BUCKET: BUCKETS.REDIS_DR_BUCKET },
  ).stores.find((st) => st.redisDrCopies)!;

/** S3 mocked as the DR bucket holding `keys`: listed in pages as S3 pages them, every copy tagged by steward. */
const mockDrBucket = (keys: readonly string[]) => {
  const s3 = mockClient(S3Client);
  s3.on(ListObjectsV2Command).callsFake((i: ListObjectsV2CommandInput) => {
    const p = page(
      keys.filter((k) => k.startsWith(i.Prefix ?? '')),
      i.ContinuationToken,
      Math.min(i.MaxKeys ?? PAGE.list, PAGE.list),
    );
    return {
      Contents: p.items.map((Key) => ({ Key, Size: 1024, LastModified: NOW })),
      ...(p.next ? { IsTruncated: true, NextContinuationToken: p.next } : { IsTruncated: false }),
    };
  });
  s3.on(GetObjectTaggingCommand).resolves({ TagSet: TAGS });
  return s3;
};

/**
 * Requests retention's listing of the DR copies costs (the store the retention function wires), at `n` caches
 * with a week of copies each: copies keyed with their policy (as the backup now writes them), or keyed as
 * before, without it (one GetObjectTagging per copy).
 */
const measureRetention = async (n: number, keyed: boolean): Promise<number> => {
  const e = estate(n);
  const keys = e.inDr.map((k) => (keyed ? keyedWithPolicy(k) : k));
  const s3 = mockDrBucket(keys);
  try {
    const store = drCopiesStore(true);
    const { snapshots } = await store.list(['elasticache']);
    // Every copy judged under its policy, whichever way it was keyed.
    if (snapshots.length !== keys.length || snapshots.some((x) => x.tags['steward:policy'] !== 'cache'))
      throw new Error(
        `redis-dr bench: listed ${snapshots.length} of ${keys.length} copies, or without their policy`,
      );
    return s3.calls().length;
  } finally {
    s3.restore();
  }
};

/**
 * ListObjectsV2 requests of a retention run that deletes the oldest copy of each of `n` caches (a week of copies
 * each): its listing, then the removes, through the store the retention function wires.
 */
const measureRetentionDeletes = async (n: number): Promise<number> => {
  const keys = estate(n).inDr.map(keyedWithPolicy);
  const s3 = mockDrBucket(keys);
  s3.on(DeleteObjectCommand).resolves({});
  try {
    const store = drCopiesStore(false);
    const { snapshots } = await store.list(['elasticache']);
    const oldest = new Map<string, (typeof snapshots)[number]>();
    for (const x of snapshots)
      if (!oldest.has(x.sourceId) || x.createdAt! < oldest.get(x.sourceId)!.createdAt!)
        oldest.set(x.sourceId, x);
    for (const x of oldest.values())
      if ((await store.remove(x)) !== 'deleted') throw new Error(`redis-dr bench: ${x.id} was not deleted`);
    if (s3.commandCalls(DeleteObjectCommand).length !== n)
      throw new Error(
        `redis-dr bench: ${s3.commandCalls(DeleteObjectCommand).length} of ${n} copies deleted`,
      );
    return s3.commandCalls(ListObjectsV2Command).length;
  } finally {
    s3.restore();
  }
};

/**
 * Redis DR requests (ElastiCache, tagging, S3) per "Snapshot Created" event, per hourly run and per retention
 * run of the DR copies at `sizes` caches. Minimum per event: the snapshot by name, its tags, its files in the export bucket and in DR, its
 * export (5). Minimum per hourly run with nothing to copy: every page of steward's snapshots, of their tags,
 * of the export bucket and of the DR bucket's copies.
 */
export const benchRedisDr = async (sizes: readonly number[]): Promise<BenchRow[]> => {
  const rows: BenchRow[] = [];
  for (const n of sizes) {
    const snapshots = n * DAYS;
    const minimum = {
      event: 5,
      hourly:
        pages(snapshots, PAGE.describe) +
        pages(snapshots, PAGE.tagging) +
        pages(0, PAGE.list) +
        pages(snapshots, PAGE.list),
    };
    for (const what of ['event', 'hourly'] as const) {
      const now = await measure(n, what, false);
      const before = await measure(n, what, true);
      rows.push({
        bench: 'redis-dr',
        metric: `requests per ${what === 'event' ? '"Snapshot Created" event' : 'hourly run (nothing to copy)'}, ${n} caches x ${DAYS} snapshots`,
        value: String(now),
        baseline: `${before} (full run, tags one snapshot at a time)`,
        ratio: now / before,
        target: `<= ${minimum[what]} (minimum, from the estate)`,
        ok: now <= minimum[what],
      });
    }
    // Retention: the DR bucket's copies are listed in pages of 1 000 and judged from their keys.
    const listing = pages(snapshots - 1, PAGE.list);
    const now = await measureRetention(n, true);
    const before = await measureRetention(n, false);
    rows.push({
      bench: 'redis-dr',
      metric: `requests per retention run of the DR copies, ${n} caches x ${DAYS} copies`,
      value: String(now),
      baseline: `${before} (copies keyed without their policy: one GetObjectTagging each)`,
      ratio: now / before,
      target: `<= ${listing} (minimum: the listing's pages)`,
      ok: now <= listing,
    });
    // Deleting: the copies are deleted from the run's listing, not each after a listing of its own.
    const lists = await measureRetentionDeletes(n);
    const perCopy = listing * (n + 1);
    rows.push({
      bench: 'redis-dr',
      metric: `ListObjectsV2 requests per retention run deleting the oldest copy of each of ${n} caches (x ${DAYS} copies)`,
      value: String(lists),
      baseline: `${perCopy} (computed: a listing per copy deleted, as before bd3c353)`,
      ratio: lists / perCopy,
      target: `<= ${listing} (minimum: the listing's pages)`,
      ok: lists <= listing,
    });
  }
  return rows;
};
