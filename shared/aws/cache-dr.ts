import {
  CopySnapshotCommand,
  DescribeSnapshotsCommand,
  type ElastiCacheClient,
  ListTagsForResourceCommand,
  paginateDescribeSnapshots,
} from '@aws-sdk/client-elasticache';
import type { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  paginateListObjectsV2,
  paginateListParts,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import {
  type CacheDrPort,
  type CacheDrSource,
  COPY_OBJECT_MAX_BYTES,
  copyParts,
  DR_RDB_PREFIX,
  drRdbKeyParts,
  type RdbObject,
  rdbObjectOf,
} from '../backup/cache-dr.js';
import { ID_PREFIX } from '../backup/ids.js';
import type { CacheCopyLister, CacheSnapshot } from '../drill/ports.js';
import { errorCode, GuardRefusedError } from '../errors.js';
import type { Snapshot, SnapshotListing } from '../model.js';
import { FANOUT, mapLimit } from '../pool.js';
import { retrying } from '../retry.js';
import type { SnapshotStore } from '../retention/ports.js';
import { Tag, tagRecord, type Tags } from '../tags.js';
import { attempt, call } from './call.js';
import { collectPages } from './pages.js';
import { cacheSnapshotOf } from './elasticache-drill.js';
import { managedCacheSnapshotTags } from './snapshots.js';

export interface CacheDrBuckets {
  /** The stage region's export bucket (ElastiCache writes there; same region only). */
  exportBucket: string;
  /** The DR region's bucket, and the DR key its copies are encrypted with. */
  drBucket: string;
  drKmsKeyArn?: string;
  /** This place's prefix in the DR bucket: `elasticache/` (the hub's own), or a spoke region's (spokeRdbPrefix). */
  drPrefix?: string;
}

/** How a multipart copy runs: parts at once, attempts per part (each attempt is also retried by the SDK). */
export interface PartCopyOptions {
  concurrency: number;
  attemptsPerPart: number;
  partBytes?: number;
  /** Files larger than this are copied in parts. @default CopyObject's 5 GB limit */
  multipartAbove?: number;
}

export const PART_COPY: PartCopyOptions = { concurrency: 4, attemptsPerPart: 3 };
// What S3 answers a part copy that asking again will not change: the upload, the export or the bucket is
// gone, or the role may not.
const PART_FINAL = new Set(['NoSuchUpload', 'NoSuchKey', 'NoSuchBucket', 'AccessDenied', 'InvalidRequest']);

/**
 * The DR bucket client's timeouts. S3 answers a CopyObject (up to 5 GB) or an UploadPartCopy (512 MiB) only
 * when the copy is done, and a cross-region copy moves the bytes between regions first: the default 20 s per
 * request would fail large files. Four minutes per request stays under the backup function's five-minute
 * timeout; a file whose copy takes longer fails (and is retried by the next run), which is reported.
 */
export const DR_COPY_TIMEOUTS = { requestTimeoutMs: 240_000 } as const;

// The facts a restore from the copy needs, as S3 user metadata (lower-case keys, string values).
const factsOf = (s: CacheSnapshot): Record<string, string> => ({
  'steward-shards': String(s.shards),
  ...(s.sourceNodeType ? { 'steward-node-type': s.sourceNodeType } : {}),
  ...(s.engine ? { 'steward-engine': s.engine } : {}),
  ...(s.engineVersion ? { 'steward-engine-version': s.engineVersion } : {}),
  ...(s.largestShardBytes !== undefined
    ? { 'steward-largest-shard-bytes': String(s.largestShardBytes) }
    : {}),
  ...(s.createdAt ? { 'steward-created-at': s.createdAt } : {}),
});

const tagging = (tags: Tags) =>
  Object.entries(tags)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');

/**
 * CacheDrPort over ElastiCache and S3: steward's snapshots (shard counts from DescribeSnapshots), the export
 * bucket in the stage region and the DR bucket in `dr.region`. DescribeSnapshots carries no tags: with
 * `tagging` (the Resource Groups Tagging API) a full listing reads every steward snapshot's tags in pages of
 * 100 (500 caches x 7 days: 35 requests) instead of one ListTagsForResource per snapshot; one snapshot (an
 * event's) is one DescribeSnapshots and one ListTagsForResource. A bucket is listed whole, or by the one
 * snapshot's prefix.
 */
export const cacheDrPort = (
  region: string,
  drRegion: string,
  clients: {
    elasticache: ElastiCacheClient;
    s3: S3Client;
    drS3: S3Client;
    tagging?: ResourceGroupsTaggingAPIClient;
  },
  buckets: CacheDrBuckets,
  parts: PartCopyOptions = PART_COPY,
  /** The clock a copy's `until` is read against: the run's own (`deps.now`). */
  now: () => Date = () => new Date(),
): CacheDrPort => {
  const drPrefix = buckets.drPrefix ?? DR_RDB_PREFIX;
  const listRdb = (s3: S3Client, bucket: string, prefix?: string) =>
    collectPages(
      paginateListObjectsV2(
        { client: s3, pageSize: 1000 },
        { Bucket: bucket, ...(prefix ? { Prefix: prefix } : {}) },
      ),
      (p) => p.Contents,
      (o) => (o.Key ? rdbObjectOf(o.Key, o.Size, o.LastModified?.toISOString()) : undefined),
      'ListObjectsV2',
      `RDB files in s3://${bucket}/${prefix ?? ''}`,
    );
  const tagsOf = async (s: CacheSnapshot) =>
    tagRecord(
      (
        await call('ListTagsForResource (ElastiCache)', `snapshot ${s.id} in ${region}`, () =>
          clients.elasticache.send(new ListTagsForResourceCommand({ ResourceName: s.arn })),
        )
      ).TagList,
    );
  const sourceOf = (s: CacheSnapshot, tags: Tags): CacheDrSource => ({
    snapshot: { ...s, tags },
    shards: s.shards,
    facts: factsOf(s),
  });
  const abortUpload = (drKey: string, uploadId: string, target: string) =>
    attempt(
      'AbortMultipartUpload (to DR)',
      `upload ${uploadId} of ${target}`,
      () =>
        clients.drS3.send(
          new AbortMultipartUploadCommand({ Bucket: buckets.drBucket, Key: drKey, UploadId: uploadId }),
        ),
      { gone: ['NoSuchUpload'] },
    );
  /**
   * The upload an earlier run left open for `drKey`, with the parts it holds, when it can be resumed: the
   * newest one begun after the export was written (an export rewritten since may hold other bytes) whose
   * parts are this plan's byte ranges. Every other open upload of the key is stale and aborted (S3 bills
   * its parts until then; the DR bucket's lifecycle rule aborts what no run comes back to).
   */
  const openUpload = async (
    drKey: string,
    file: RdbObject,
    plan: readonly { part: number; first: number; last: number }[],
    target: string,
  ): Promise<{ uploadId: string; done: Map<number, string> } | undefined> => {
    const uploads: { id: string; at: number }[] = [];
    let marker: { KeyMarker: string; UploadIdMarker?: string } | undefined;
    do {
      const page = await call('ListMultipartUploads (DR)', target, () =>
        clients.drS3.send(
          new ListMultipartUploadsCommand({ Bucket: buckets.drBucket, Prefix: drKey, ...marker }),
        ),
      );
      for (const u of page.Uploads ?? [])
        if (u.Key === drKey && u.UploadId) uploads.push({ id: u.UploadId, at: u.Initiated?.getTime() ?? 0 });
      marker =
        page.IsTruncated && page.NextKeyMarker
          ? {
              KeyMarker: page.NextKeyMarker,
              ...(page.NextUploadIdMarker ? { UploadIdMarker: page.NextUploadIdMarker } : {}),
            }
          : undefined;
    } while (marker);
    const exportedAt = file.modified ? Date.parse(file.modified) : -Infinity;
    const bytes = new Map(plan.map((p) => [p.part, p.last - p.first + 1]));
    let resumed: { uploadId: string; done: Map<number, string> } | undefined;
    for (const u of uploads.sort((a, b) => b.at - a.at)) {
      if (!resumed && u.at >= exportedAt) {
        const held = await collectPages(
          paginateListParts(
            { client: clients.drS3, pageSize: 1000 },
            { Bucket: buckets.drBucket, Key: drKey, UploadId: u.id },
          ),
          (p) => p.Parts,
          (p) => p,
          'ListParts (DR)',
          `upload ${u.id} of ${target}`,
        );
        if (held.every((p) => p.ETag && p.PartNumber !== undefined && bytes.get(p.PartNumber) === p.Size)) {
          resumed = { uploadId: u.id, done: new Map(held.map((p) => [p.PartNumber!, p.ETag!])) };
          continue;
        }
      }
      await abortUpload(drKey, u.id, target);
    }
    return resumed;
  };
  return {
    drPrefix,
    sources: async (): Promise<CacheDrSource[]> => {
      const [described, tagged] = await Promise.all([
        collectPages(
          paginateDescribeSnapshots(
            { client: clients.elasticache, pageSize: 50 },
            { SnapshotSource: 'user' },
          ),
          (p) => p.Snapshots,
          (s) => (s.SnapshotName?.startsWith(ID_PREFIX) && s.ARN ? cacheSnapshotOf(s, region) : undefined),
          'DescribeSnapshots (ElastiCache)',
          `steward snapshots in ${region}`,
        ),
        // A snapshot absent from the bulk answer has no tags here: not copied this run.
        clients.tagging ? managedCacheSnapshotTags(clients.tagging, region) : undefined,
      ]);
      if (tagged) return described.map((s) => sourceOf(s, tagged.get(s.arn) ?? {}));
      return mapLimit(described, FANOUT, async (s) => sourceOf(s, await tagsOf(s)));
    },
    source: async (name) => {
      const r = await attempt(
        'DescribeSnapshots (ElastiCache)',
        `snapshot ${name} in ${region}`,
        () => clients.elasticache.send(new DescribeSnapshotsCommand({ SnapshotName: name })),
        { gone: ['SnapshotNotFoundFault'] },
      );
      const found = r.ok ? r.value.Snapshots?.find((s) => s.SnapshotName === name && s.ARN) : undefined;
      if (!found) return undefined;
      const s = cacheSnapshotOf(found, region);
      return sourceOf(s, await tagsOf(s));
    },
    // A snapshot's files are `<snapshot>-<NNNN>.rdb`: the prefix `<snapshot>-` names no other snapshot's.
    exported: (snapshot) =>
      listRdb(clients.s3, buckets.exportBucket, snapshot === undefined ? undefined : `${snapshot}-`),
    // One snapshot's copy: its group's keys (a copy is keyed under its policy, or under none when made
    // before keys carried it: one listing finds both), filtered to the snapshot.
    inDr: async (of) =>
      of
        ? (await listRdb(clients.drS3, buckets.drBucket, `${drPrefix}${of.group}/`)).filter(
            (o) => o.snapshot === of.snapshot,
          )
        : listRdb(clients.drS3, buckets.drBucket, drPrefix),
    export: async (snapshot) => {
      // ElastiCache refuses a second export of the same name (the object exists, or the export is running).
      const r = await attempt(
        'CopySnapshot (export to S3)',
        `snapshot ${snapshot.id} to s3://${buckets.exportBucket} in ${region}`,
        () =>
          clients.elasticache.send(
            new CopySnapshotCommand({
              SourceSnapshotName: snapshot.id,
              TargetSnapshotName: snapshot.id,
              TargetBucket: buckets.exportBucket,
            }),
          ),
        { exists: ['SnapshotAlreadyExistsFault'], refused: ['InvalidSnapshotStateFault'] },
      );
      return r.ok ? 'started' : 'already-done';
    },
    copy: async (source, file, drKey, until) => {
      const s = source.snapshot;
      const copySource = `${buckets.exportBucket}/${file.key.split('/').map(encodeURIComponent).join('/')}`;
      const target = `s3://${buckets.drBucket}/${drKey} in ${drRegion}`;
      const encryption = buckets.drKmsKeyArn
        ? {
            ServerSideEncryption: 'aws:kms' as const,
            SSEKMSKeyId: buckets.drKmsKeyArn,
            BucketKeyEnabled: true,
          }
        : {};
      const tags = tagging({
        [Tag.managed]: 'true',
        [Tag.source]: s.sourceId,
        [Tag.createdBy]: 'backup',
        ...(s.tags[Tag.policy] ? { [Tag.policy]: s.tags[Tag.policy] } : {}),
        [Tag.copiedFrom]: s.arn,
        // Retention reads it (it may read tags, not the files): a copy is complete with this many files.
        [Tag.shards]: String(source.shards),
      });
      if (file.size === undefined || file.size <= (parts.multipartAbove ?? COPY_OBJECT_MAX_BYTES)) {
        await call('CopyObject (to DR)', `${file.key} to ${target}`, () =>
          clients.drS3.send(
            new CopyObjectCommand({
              Bucket: buckets.drBucket,
              Key: drKey,
              CopySource: copySource,
              ...encryption,
              TaggingDirective: 'REPLACE',
              Tagging: tags,
              MetadataDirective: 'REPLACE',
              Metadata: source.facts,
            }),
          ),
        );
        return;
      }
      // Over CopyObject's 5 GB: a multipart upload whose parts are byte ranges of the export
      // (UploadPartCopy). Tags, metadata and encryption are set when the upload is created; the object
      // appears only when it completes, so nothing half-written is ever in DR. A copy longer than one run
      // continues in the next: S3 itself keeps the upload and its parts (ListMultipartUploads, ListParts),
      // so a run that stopped, timed out or failed a part loses nothing already copied.
      const plan = copyParts(file.size, parts.partBytes);
      const open = await openUpload(drKey, file, plan, target);
      const uploadId =
        open?.uploadId ??
        (
          await call('CreateMultipartUpload (to DR)', target, () =>
            clients.drS3.send(
              new CreateMultipartUploadCommand({
                Bucket: buckets.drBucket,
                Key: drKey,
                ...encryption,
                Tagging: tags,
                Metadata: source.facts,
              }),
            ),
          )
        ).UploadId!;
      const done = new Map(open?.done ?? []);
      // After a part failed for good, or once the run's budget is spent, no new part starts. Every run
      // starts at least one part, so a copy always moves on.
      let failed = false;
      let started = 0;
      const budgetLeft = () => started === 0 || until === undefined || now() < until;
      const copyPart = async (p: { part: number; first: number; last: number }) => {
        if (failed || !budgetLeft()) return;
        started++;
        try {
          const r = await retrying(
            () =>
              call(
                'UploadPartCopy (to DR)',
                `part ${p.part} (bytes ${p.first}-${p.last}) of ${file.key} to ${target}`,
                () =>
                  clients.drS3.send(
                    new UploadPartCopyCommand({
                      Bucket: buckets.drBucket,
                      Key: drKey,
                      UploadId: uploadId,
                      PartNumber: p.part,
                      CopySource: copySource,
                      CopySourceRange: `bytes=${p.first}-${p.last}`,
                    }),
                  ),
              ),
            // At once (the SDK backed off already), not after another part failed, nor for an answer that
            // will not change; and, like a new part, not past the run's budget: a retry may take the whole
            // request timeout again, and the function's timeout would cut the run before it reports.
            {
              waitsMs: Array<number>(Math.max(0, parts.attemptsPerPart - 1)).fill(0),
              retryable: (e) => !failed && !PART_FINAL.has(errorCode(e)),
              ...(until && { deadline: until.getTime(), now: () => now().getTime() }),
            },
          );
          done.set(p.part, r.CopyPartResult!.ETag!);
        } catch (e) {
          failed = true;
          throw e;
        }
      };
      try {
        await mapLimit(
          plan.filter((p) => !done.has(p.part)),
          parts.concurrency,
          copyPart,
        );
      } catch (e) {
        // The upload stays open with the parts copied so far: the next run resumes it.
        if (e instanceof Error)
          e.message += `; upload ${uploadId} keeps ${done.size}/${plan.length} parts for the next run`;
        throw e;
      }
      if (done.size < plan.length) return { uploadId, partsDone: done.size, parts: plan.length };
      await call('CompleteMultipartUpload (to DR)', target, () =>
        clients.drS3.send(
          new CompleteMultipartUploadCommand({
            Bucket: buckets.drBucket,
            Key: drKey,
            UploadId: uploadId,
            MultipartUpload: {
              Parts: plan.map((p) => ({ PartNumber: p.part, ETag: done.get(p.part)! })),
            },
          }),
        ),
      );
    },
    cleanExport: async (file) => {
      await call('DeleteObject (export)', `s3://${buckets.exportBucket}/${file.key}`, () =>
        clients.s3.send(new DeleteObjectCommand({ Bucket: buckets.exportBucket, Key: file.key })),
      );
    },
  };
};

/**
 * One snapshot's copy in the DR bucket: its files, its replication group, when the newest file arrived, and
 * its backup policy when its keys carry it (drRdbKey).
 */
export interface RdbCopy {
  group: string;
  keys: string[];
  copiedAt?: string;
  policy?: string;
}

const stampTime = (id: string): string | undefined => {
  const m = /-(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})-(?:sched|adhoc)$/.exec(id);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00.000Z` : undefined;
};

/** A shard file's number: `<snapshot>-<NNNN>.rdb` (ElastiCache numbers an export's files from 0001). */
const shardNumber = (key: string): number => Number(/-(\d{4})\.rdb$/.exec(key)?.[1] ?? 0);

/**
 * The DR bucket's RDB copies as a SnapshotStore (kind `elasticache`, in `dr.region`): retention keeps them
 * under the policy of the snapshot they copy (their `steward:policy` tag), like any DR copy. Listed under
 * its place's prefix only (`elasticache/`, or a spoke region's `elasticache-<region>/`); each snapshot's tags come from its first file; a snapshot is removed file by file,
 * and only when every one of its files is tagged `steward:managed=true` and none is on hold (s3:DeleteObject has
 * no tag condition key).
 *
 * A copy is `available` only once every shard's file arrived, else `copying` (retention then neither counts
 * nor deletes it). How many it needs is read from its first file's `steward:shards` tag (one GetObjectTagging)
 * only when the listing gives cause: its group's copies hold different numbers of files; a gap in its shard
 * numbers says incomplete outright. The copies of a group that all hold as many files cost no request. A store lives for one run: removes delete
 * from the run's listing (the last `list`, or one listing for every remove), never one listing per copy.
 */
export const s3RdbStore = (
  region: string,
  s3: S3Client,
  bucket: string,
  sourceRegion: string,
  /** The copies of one place: `elasticache/` (the hub's own account-region), or a spoke region's. */
  prefix = DR_RDB_PREFIX,
): SnapshotStore & { copies(): Promise<Map<string, RdbCopy>> } => {
  const arnOf = (key: string) => `arn:aws:s3:::${bucket}/${key}`;
  /** The DR bucket's RDB copies grouped per snapshot: files, their group, when they arrived. */
  const copiesIn = async (): Promise<Map<string, RdbCopy>> => {
    const files = await collectPages(
      paginateListObjectsV2({ client: s3, pageSize: 1000 }, { Bucket: bucket, Prefix: prefix }),
      (p) => p.Contents,
      (o) => (o.Key && rdbObjectOf(o.Key) ? { key: o.Key, modified: o.LastModified } : undefined),
      'ListObjectsV2',
      `RDB copies in s3://${bucket}/${prefix}`,
    );
    const by = new Map<string, RdbCopy>();
    for (const f of files) {
      const name = rdbObjectOf(f.key)!.snapshot;
      const { group, policy } = drRdbKeyParts(f.key, prefix);
      const e: RdbCopy = by.get(name) ?? { group, keys: [] };
      e.keys.push(f.key);
      if (policy) e.policy = policy;
      const at = f.modified?.toISOString();
      if (at && (!e.copiedAt || at > e.copiedAt)) e.copiedAt = at;
      by.set(name, e);
    }
    return by;
  };
  const tagsOf = async (key: string) =>
    tagRecord(
      (
        await call('GetObjectTagging', `s3://${bucket}/${key}`, () =>
          s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key })),
        )
      ).TagSet,
    );
  /** The run's listing of the copies: the last `list`'s, or the first `remove`'s when none came before. */
  let listed: Promise<Map<string, RdbCopy>> | undefined;
  /** List the copies as the run's listing; one that fails is forgotten, so a later remove lists again. */
  const listRun = (): Promise<Map<string, RdbCopy>> => {
    const p = copiesIn();
    listed = p;
    p.catch(() => {
      if (listed === p) listed = undefined;
    });
    return p;
  };
  /**
   * Whether every shard's file of a copy arrived. A gap in its shard numbers says no at once; a copy of a
   * group whose copies all hold as many files is complete; one of a group whose copies disagree (one still
   * copying, or the group resharded since) reads its shard count from its first file's `steward:shards` tag
   * (`tags`, or GetObjectTagging: retention may read tags, not the cache's data). A copy made before the tag
   * is judged by its files. Not seen here: a group whose every copy lacks the same shards (its first copy);
   * retention's planner catches that while the snapshot it copies is listed (its shards against the files).
   */
  const isComplete = async (
    c: RdbCopy,
    groupAgrees: boolean,
    first: string,
    tags?: Tags,
  ): Promise<boolean> => {
    const highest = Math.max(...c.keys.map(shardNumber));
    if (highest > c.keys.length) return false;
    if (groupAgrees) return true;
    const shards = Number((tags ?? (await tagsOf(first)))[Tag.shards]);
    return Number.isInteger(shards) && shards > 0 ? c.keys.length >= shards : true;
  };
  return {
    region,
    redisDrCopies: true,
    holds: (s) => s.kind === 'elasticache' && s.arn.startsWith(arnOf(prefix)),
    list: async (kinds): Promise<SnapshotListing> => {
      if (!kinds.includes('elasticache')) return { snapshots: [], failures: [] };
      const listing = listRun();
      const copies = [...(await listing).entries()];
      // How many files the copies of each group hold: copies that disagree may be still copying.
      const counts = new Map<string, Set<number>>();
      for (const [, c] of copies) counts.set(c.group, (counts.get(c.group) ?? new Set()).add(c.keys.length));
      const snapshots = await mapLimit(copies, FANOUT, async ([name, c]): Promise<Snapshot> => {
        const first = [...c.keys].sort()[0]!;
        // The key carries what retention needs: no request per copy. Only the backup role writes under the
        // prefix (IAM), and each file's own tags are checked again before it is deleted (remove, below), so a
        // key never stands in for steward's tag where it matters. A copy keyed before keys carried the policy:
        // its first file's tags.
        const read = c.policy ? undefined : await tagsOf(first);
        const tags = read ?? { [Tag.managed]: 'true', [Tag.policy]: c.policy!, [Tag.source]: c.group };
        const complete = await isComplete(c, counts.get(c.group)!.size === 1, first, read);
        return {
          kind: 'elasticache',
          id: name,
          arn: arnOf(first),
          region,
          sourceId: c.group,
          ...(stampTime(name) ? { createdAt: stampTime(name)! } : {}),
          // A copy missing a shard restores nothing: retention must not count it as one kept.
          status: complete ? 'available' : 'copying',
          type: 'manual',
          tags,
          sourceRegion,
          ...(c.copiedAt ? { copiedAt: c.copiedAt } : {}),
          // The shards' files that arrived: retention holds the primary snapshot until it has them all.
          shards: c.keys.length,
        };
      });
      return { snapshots, failures: [] };
    },
    remove: async ({ id }) => {
      // The run's listing: a copy retention expired was complete when listed, so its files are all there.
      const copies = await (listed ?? listRun());
      const copy = copies.get(id);
      if (!copy) return 'already-gone';
      // Every file's tags first, then the deletes: a copy is removed whole or not at all (one shard on hold or
      // not steward's keeps the others, which alone restore nothing).
      const tagged = await mapLimit(copy.keys, FANOUT, async (key) => ({ key, tags: await tagsOf(key) }));
      for (const { key, tags } of tagged) {
        if (tags[Tag.managed] !== 'true') {
          throw new GuardRefusedError(
            `refusing to delete s3://${bucket}/${key}: not tagged ${Tag.managed}=true`,
          );
        }
        // A hold set on a copy's object: the listing reads no tags of a copy keyed with its policy.
        if (tags[Tag.hold] !== undefined) {
          throw new GuardRefusedError(
            `refusing to delete s3://${bucket}/${key}: it is on hold (${Tag.hold})`,
          );
        }
      }
      for (const key of copy.keys) {
        await attempt('DeleteObject (DR copy)', `s3://${bucket}/${key}`, () =>
          s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })),
        );
      }
      copies.delete(id);
      return 'deleted';
    },
    copies: copiesIn,
  };
};

/**
 * The DR bucket's copies of one replication group as drill candidates (a drill `from: dr`): each copy's
 * sizing facts from its first file's metadata (HeadObject) and the S3 ARNs of its files for SnapshotArns.
 * Restorable only once every shard's file arrived.
 */
export const s3RdbCopyLister = (
  region: string,
  s3: S3Client,
  bucket: string,
  sourceRegion: string,
): CacheCopyLister => {
  const arnOf = (key: string) => `arn:aws:s3:::${bucket}/${key}`;
  const store = s3RdbStore(region, s3, bucket, sourceRegion);
  return {
    region,
    listCopies: async (group): Promise<CacheSnapshot[]> => {
      const copies = [...(await store.copies()).entries()].filter(([, c]) => c.group === group.toLowerCase());
      return mapLimit(copies, FANOUT, async ([name, c]): Promise<CacheSnapshot> => {
        const keys = [...c.keys].sort();
        const head = await call('HeadObject', `s3://${bucket}/${keys[0]}`, () =>
          s3.send(new HeadObjectCommand({ Bucket: bucket, Key: keys[0]! })),
        );
        const m = head.Metadata ?? {};
        const shards = Number(m['steward-shards'] ?? keys.length) || keys.length;
        const bytes = Number(m['steward-largest-shard-bytes']);
        return {
          kind: 'elasticache',
          id: name,
          arn: arnOf(keys[0]!),
          region,
          sourceId: c.group,
          ...(m['steward-created-at'] || stampTime(name)
            ? { createdAt: m['steward-created-at'] ?? stampTime(name)! }
            : {}),
          // Restorable only once every shard's file arrived.
          status: keys.length >= shards ? 'available' : 'copying',
          type: 'manual',
          tags: {},
          shards,
          ...(m['steward-node-type'] ? { sourceNodeType: m['steward-node-type'] } : {}),
          ...(m['steward-engine'] ? { engine: m['steward-engine'] } : {}),
          ...(m['steward-engine-version'] ? { engineVersion: m['steward-engine-version'] } : {}),
          ...(Number.isFinite(bytes) ? { largestShardBytes: bytes } : {}),
          rdbArns: keys.map(arnOf),
        };
      });
    },
  };
};
