import {
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  NoSuchKey,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { s3DumpStore } from '../../../shared/aws/dump-objects.js';
import { GuardRefusedError } from '../../../shared/errors.js';
import { Tag, tagList } from '../../../shared/tags.js';

const s3 = mockClient(S3Client);
beforeEach(() => s3.reset());

const REGION = 'eu-west-1';
const BUCKET = 'acme-db-dumps';
const I = 'i-0abc1234def567890';
const key = (day: string, prefix = 'steward/') =>
  `${prefix}mongo/${I}/steward-${I}-202611${day}0300-sched.dump`;
const OURS = { [Tag.managed]: 'true', [Tag.policy]: 'mongo', [Tag.source]: I, [Tag.kind]: 'dump' };
const store = (locations = [{ bucket: BUCKET, prefix: 'steward/' }]) =>
  s3DumpStore(REGION, new S3Client({ region: REGION }), locations);

describe('s3DumpStore', () => {
  it('lists every page under each dump prefix, reads each dump’s tags, and dates it by its set’s stamp', async () => {
    // Prepare: two pages, plus keys that are not dumps (other names, other depths).
    s3.on(ListObjectsV2Command, { Bucket: BUCKET, Prefix: 'steward/' })
      .resolvesOnce({
        Contents: [
          { Key: key('20'), LastModified: new Date('2026-11-20T03:09:00Z') },
          { Key: 'steward/mongo/notes.txt' },
        ],
        IsTruncated: true,
        NextContinuationToken: 'page-2',
      })
      .resolvesOnce({
        Contents: [
          { Key: key('21'), LastModified: new Date('2026-11-21T03:09:00Z') },
          { Key: `steward/mongo/${I}/hand-made.dump`, LastModified: new Date('2026-11-19T10:00:00Z') },
        ],
      });
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: tagList(OURS) });

    // Act
    const listing = await store().list(['ebs']);

    // Assert
    expect(listing.failures).toEqual([]);
    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, {
      Bucket: BUCKET,
      Prefix: 'steward/',
      ContinuationToken: 'page-2',
    });
    expect(s3).toHaveReceivedCommandTimes(GetObjectTaggingCommand, 3);
    const byId = new Map(listing.snapshots.map((s) => [s.id, s]));
    expect(byId.get(`s3://${BUCKET}/${key('20')}`)).toEqual({
      kind: 'ebs',
      id: `s3://${BUCKET}/${key('20')}`,
      arn: `arn:aws:s3:::${BUCKET}/${key('20')}`,
      region: REGION,
      sourceId: I,
      createdAt: '2026-11-20T03:00:00.000Z',
      status: 'available',
      type: 'manual',
      tags: OURS,
      object: { bucket: BUCKET, key: key('20') },
    });
    // A dump whose name carries no stamp is dated by S3's LastModified.
    expect(byId.get(`s3://${BUCKET}/steward/mongo/${I}/hand-made.dump`)?.createdAt).toBe(
      '2026-11-19T10:00:00.000Z',
    );
    expect(listing.snapshots).toHaveLength(3);
  });

  it('lists an object once when one prefix lies inside another, and nothing unless EBS is asked for', async () => {
    // Prepare
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: key('20') }] });
    s3.on(GetObjectTaggingCommand).resolves({ TagSet: tagList(OURS) });
    const nested = store([
      { bucket: BUCKET, prefix: '' },
      { bucket: BUCKET, prefix: 'steward/' },
    ]);

    // Act
    const all = await nested.list(['ebs']);
    const none = await nested.list(['rds-instance', 'elasticache']);

    // Assert
    expect(all.snapshots.map((s) => s.id)).toEqual([`s3://${BUCKET}/${key('20')}`]);
    expect(s3).toHaveReceivedCommandTimes(GetObjectTaggingCommand, 1);
    expect(none.snapshots).toEqual([]);
  });

  it('reports an object whose tags cannot be read, and a prefix that cannot be listed, and keeps the rest', async () => {
    // Prepare
    s3.on(ListObjectsV2Command, { Bucket: BUCKET })
      .resolves({ Contents: [{ Key: key('20') }, { Key: key('21') }] })
      .on(ListObjectsV2Command, { Bucket: 'other-bucket' })
      .rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    s3.on(GetObjectTaggingCommand, { Key: key('20') })
      .rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }))
      .on(GetObjectTaggingCommand, { Key: key('21') })
      .resolves({ TagSet: tagList(OURS) });

    // Act
    const listing = await store([
      { bucket: BUCKET, prefix: 'steward/' },
      { bucket: 'other-bucket', prefix: 'dumps/' },
    ]).list(['ebs']);

    // Assert
    expect(listing.snapshots.map((s) => s.id)).toEqual([`s3://${BUCKET}/${key('21')}`]);
    expect(listing.failures.map((f) => f.resource).sort()).toEqual([
      'dump objects in s3://other-bucket/dumps/',
      `s3://${BUCKET}/${key('20')}`,
    ]);
  });

  it('deletes a dump only when its tags, read again, say steward made it', async () => {
    // Prepare
    s3.on(GetObjectTaggingCommand, { Key: key('20') })
      .resolves({ TagSet: tagList(OURS) })
      .on(GetObjectTaggingCommand, { Key: key('21') })
      .resolves({ TagSet: tagList({ [Tag.policy]: 'mongo' }) });
    s3.on(DeleteObjectCommand).resolves({});

    // Act
    const deleted = await store().remove({ kind: 'ebs', id: `s3://${BUCKET}/${key('20')}` });
    const refused = store().remove({ kind: 'ebs', id: `s3://${BUCKET}/${key('21')}` });

    // Assert
    expect(deleted).toBe('deleted');
    await expect(refused).rejects.toThrow(GuardRefusedError);
    await expect(refused).rejects.toThrow(`not tagged ${Tag.managed}=true`);
    expect(s3).toHaveReceivedCommandTimes(DeleteObjectCommand, 1);
    expect(s3).toHaveReceivedCommandWith(DeleteObjectCommand, { Bucket: BUCKET, Key: key('20') });
  });

  it('counts a dump that is already gone as gone, and never deletes outside the dump prefixes', async () => {
    // Prepare
    s3.on(GetObjectTaggingCommand).rejects(new NoSuchKey({ message: 'gone', $metadata: {} }));

    // Act
    const gone = await store().remove({ kind: 'ebs', id: `s3://${BUCKET}/${key('20')}` });
    const outside = store().remove({ kind: 'ebs', id: `s3://${BUCKET}/${key('20', 'elsewhere/')}` });
    const notAnObject = store().remove({ kind: 'ebs', id: 'steward-i-0abc-202611200300-sched' });

    // Assert
    expect(gone).toBe('already-gone');
    await expect(outside).rejects.toThrow('not under a configured dump prefix');
    await expect(notAnObject).rejects.toThrow('not a dump object');
    expect(s3).toHaveReceivedCommandTimes(DeleteObjectCommand, 0);
  });

  it('holds only dump objects under its prefixes', () => {
    const s = store();
    expect(s.holds!({ kind: 'ebs', arn: `arn:aws:s3:::${BUCKET}/${key('20')}` })).toBe(true);
    expect(s.holds!({ kind: 'ebs', arn: `arn:aws:s3:::${BUCKET}/other/${key('20')}` })).toBe(false);
    expect(s.holds!({ kind: 'ebs', arn: `arn:aws:ec2:${REGION}:111122223333:snapshot-set/x` })).toBe(false);
    expect(s.holds!({ kind: 'elasticache', arn: `arn:aws:s3:::${BUCKET}/${key('20')}` })).toBe(false);
  });
});
