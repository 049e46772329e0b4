import {
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { dataTime } from '../data-time.js';
import { failureOf, GuardRefusedError } from '../errors.js';
import type { Snapshot, SnapshotListing } from '../model.js';
import { FANOUT, mapLimit } from '../pool.js';
import type { SnapshotStore } from '../retention/ports.js';
import { Tag, tagRecord } from '../tags.js';
import { attempt } from './call.js';
import { collectPages } from './pages.js';

/** Where dumps land: a bucket and a key prefix of some policy's `consistency.dump`. */
export interface DumpLocation {
  bucket: string;
  prefix: string;
}

/** What a dump key says: `<prefix><policy>/<instance id>/<snapshot set id>.dump` (shared/backup/consistency.ts). */
const DUMP_KEY = /^([^/]+)\/(i-[0-9a-f]{8,17})\/([^/]+)\.dump$/;

const ARN = /^arn:aws:s3:::([^/]+)\/(.+)$/;

// ListObjectsV2 returns at most 1000 keys per page (its MaxKeys maximum).
const LIST_PAGE = 1000;

/** The dump object's id in plans and reports: its S3 URI (keys repeat across buckets). */
export const dumpObjectId = (bucket: string, key: string): string => `s3://${bucket}/${key}`;

/**
 * The dump objects of EC2 instances (consistency `dump`) as a SnapshotStore in the stage's region: each
 * object a backup of kind `ebs` with `object` set, so retention judges it by its `steward:policy` with
 * the same GFS rules, apart from the instance's snapshot sets. Listed under each configured prefix, every
 * page; each object's tags read with GetObjectTagging (S3 has no call that returns many objects' tags:
 * ListObjectsV2 returns none, and the Resource Groups Tagging API covers buckets, not objects), a few at
 * a time; a tag read that fails is a failure of that object alone. An object is deleted only when its
 * tags, read again just before, say `steward:managed=true`: IAM cannot check that for steward, because
 * s3:DeleteObject supports no s3:ExistingObjectTag condition
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html). In a versioned
 * bucket a delete leaves a delete marker: the bucket's lifecycle rules expire the noncurrent version.
 */
export const s3DumpStore = (
  region: string,
  s3: S3Client,
  locations: readonly DumpLocation[],
): SnapshotStore => {
  const arnOf = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;
  const within = (bucket: string, key: string) =>
    locations.some((l) => l.bucket === bucket && key.startsWith(l.prefix));
  const tagsOf = async (bucket: string, key: string) => {
    const r = await attempt(
      'GetObjectTagging',
      dumpObjectId(bucket, key),
      () => s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key })),
      { gone: ['NoSuchKey', 'NotFound'] },
    );
    return r.ok ? tagRecord(r.value.TagSet) : undefined;
  };
  return {
    region,
    holds: (s) => {
      const m = s.kind === 'ebs' ? ARN.exec(s.arn) : null;
      return !!m && within(m[1]!, m[2]!);
    },
    list: async (kinds): Promise<SnapshotListing> => {
      const listing: SnapshotListing = { snapshots: [], failures: [] };
      if (!kinds.includes('ebs')) return listing;
      // Every object once, even when one configured prefix lies inside another of the same bucket.
      const found = new Map<
        string,
        { bucket: string; key: string; instance: string; setId: string; modified?: Date }
      >();
      const listed = await Promise.allSettled(
        locations.map(async (l) => {
          const objects = await collectPages(
            paginateListObjectsV2(
              { client: s3, pageSize: LIST_PAGE },
              { Bucket: l.bucket, ...(l.prefix ? { Prefix: l.prefix } : {}) },
            ),
            (p) => p.Contents,
            (o) => {
              const m = o.Key ? DUMP_KEY.exec(o.Key.slice(l.prefix.length)) : null;
              return m && o.Key
                ? {
                    bucket: l.bucket,
                    key: o.Key,
                    instance: m[2]!,
                    setId: m[3]!,
                    ...(o.LastModified && { modified: o.LastModified }),
                  }
                : undefined;
            },
            'ListObjectsV2',
            `dump objects in s3://${l.bucket}/${l.prefix}`,
          );
          for (const o of objects) found.set(dumpObjectId(o.bucket, o.key), o);
        }),
      );
      listed.forEach((r, i) => {
        if (r.status === 'rejected') {
          const l = locations[i]!;
          listing.failures.push(failureOf(`dump objects in s3://${l.bucket}/${l.prefix}`, r.reason));
        }
      });
      const read = await mapLimit([...found.entries()], FANOUT, async ([id, o]) => {
        try {
          const tags = await tagsOf(o.bucket, o.key);
          return tags ? { id, o, tags } : undefined;
        } catch (e) {
          listing.failures.push(failureOf(id, e));
          return undefined;
        }
      });
      for (const r of read) {
        if (!r) continue;
        const { id, o, tags } = r;
        // The set's scheduled stamp dates the dump like its snapshot set; else when S3 stored it.
        const stamped = dataTime({ id: o.setId });
        const createdAt = stamped !== undefined ? new Date(stamped).toISOString() : o.modified?.toISOString();
        const snapshot: Snapshot = {
          kind: 'ebs',
          id,
          arn: arnOf(o.bucket, o.key),
          region,
          sourceId: o.instance,
          ...(createdAt ? { createdAt } : {}),
          status: 'available',
          type: 'manual',
          tags,
          object: { bucket: o.bucket, key: o.key },
        };
        listing.snapshots.push(snapshot);
      }
      return listing;
    },
    remove: async (s) => {
      const { bucket, key } = objectOf(s);
      if (!within(bucket, key))
        throw new GuardRefusedError(
          `refusing to delete ${dumpObjectId(bucket, key)}: not under a configured dump prefix`,
        );
      const tags = await tagsOf(bucket, key);
      if (!tags) return 'already-gone';
      if (tags[Tag.managed] !== 'true')
        throw new GuardRefusedError(
          `refusing to delete ${dumpObjectId(bucket, key)}: not tagged ${Tag.managed}=true`,
        );
      await attempt(
        'DeleteObject (dump)',
        dumpObjectId(bucket, key),
        () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })),
        { gone: ['NoSuchKey'] },
      );
      return 'deleted';
    },
  };
};

/** The bucket and key of a dump object the store listed (its id is `s3://<bucket>/<key>`). */
const objectOf = (s: Pick<Snapshot, 'id'>): { bucket: string; key: string } => {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(s.id);
  if (!m) throw new GuardRefusedError(`refusing to delete ${s.id}: not a dump object`);
  return { bucket: m[1]!, key: m[2]! };
};
