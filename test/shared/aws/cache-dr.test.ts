import {
  CopySnapshotCommand,
  ElastiCacheClient,
  SnapshotAlreadyExistsFault,
} from '@aws-sdk/client-elasticache';
import { CopyObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { cacheDrPort } from '../../../shared/aws/cache-dr.js';
import type { Snapshot } from '../../../shared/model.js';
import { Tag } from '../../../shared/tags.js';

const ec = mockClient(ElastiCacheClient);
const s3 = mockClient(S3Client);
beforeEach(() => {
  ec.reset();
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
const port = () =>
  cacheDrPort(
    'eu-west-1',
    'us-west-2',
    {
      elasticache: new ElastiCacheClient({ region: 'eu-west-1' }),
      s3: new S3Client({ region: 'eu-west-1' }),
      drS3: new S3Client({ region: 'us-west-2' }),
    },
    { exportBucket: 'steward-prod-redis-export', drBucket: 'steward-prod-redis-dr', drKmsKeyArn: DR_KEY },
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
      Tagging: `steward%3Amanaged=true&steward%3Asource=sessions&steward%3Acreated-by=backup&steward%3Apolicy=daily&steward%3Acopied-from=${encodeURIComponent(snapshot.arn)}`,
      MetadataDirective: 'REPLACE',
      Metadata: { 'steward-shards': '1', 'steward-node-type': 'cache.r7g.large' },
    });
  });
});
