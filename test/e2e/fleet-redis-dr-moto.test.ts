import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import * as backup from '../../functions/backup/handler.js';
import * as retention from '../../functions/retention/handler.js';
import { parseConfig } from '../../shared/config/schema.js';
import { fanOutTargets } from '../../shared/fleet/fan-out.js';
import { runFleetEvent } from '../../shared/fleet/child.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import type { BaseDeps } from '../../shared/runtime.js';
import { Tag } from '../../shared/tags.js';
import { motoCredentials } from '../support/fleet-moto.js';
import { createMotoRedis, useMotoEnvironment } from '../support/moto.js';
import { createStateTable } from '../support/state-table.js';

// Redis DR in a spoke account, over real HTTP against moto: one workload account in two regions, each with a
// replication group named `sessions` and a steward snapshot of it, and the buckets the spoke stacks make (an
// export bucket per region, one DR bucket for the account in the DR region). moto has no CopySnapshot with
// TargetBucket (the export, proven with mocks through the same wiring: test/functions/fleet/redis-dr-wiring),
// so each region's export bucket is given the RDB file ElastiCache would have written. The fan-out children
// then copy with the credentials moto's STS hands out for the spoke roles, each region under its own prefix of
// the one DR bucket (the two `sessions` groups never collide), clean the exports, and retention expires the old
// copies of one region only, leaving a hand-made object under its prefix. Nothing lands in the hub's account.
// moto evaluates no IAM (the IAM suite simulates the spoke roles: test/iam/fleet-redis-dr.test.ts).
const HUB = '123456789012';
const SPOKE = '222222222222';
const REGIONS = ['eu-west-1', 'eu-central-1'];
const DR = 'us-west-2';
const STATE_TABLE = 'steward-rdr-state';
const DR_BUCKET = `steward-rdr-rdb-dr-${SPOKE}-${DR}`;
const exportBucket = (region: string) => `steward-rdr-rdb-export-${SPOKE}-${region}`;
const snap = (day: number) => `steward-sessions-2026012${day}0300-sched`;

const config = parseConfig(
  {
    stage: 'rdr',
    account: HUB,
    region: 'eu-west-1',
    fleet: { externalId: 'steward-rdr-e2e' },
    backup: { policies: { cache: { kinds: ['elasticache'], copyToDr: true, retention: 'cache' } } },
    retention: { policies: { cache: { daily: 2, keepAtLeast: 1 } } },
    dr: { region: DR, kmsKeyArn: `arn:aws:kms:${DR}:${HUB}:alias/steward-dr` },
    targets: [{ account: SPOKE, regions: REGIONS }],
  },
  'fleet-redis-dr-e2e',
);
const base = (): BaseDeps => ({
  config,
  dryRun: false,
  notifier: memoryNotifier(),
  now: () => new Date('2026-01-29T05:00:00Z'),
});

/** Credentials in the spoke account. */
const spokeCredentials = () => motoCredentials(SPOKE);

describe('Redis DR in a spoke account against an emulated AWS over real HTTP, two regions', () => {
  useMotoEnvironment('eu-west-1');
  let drS3: S3Client;

  beforeAll(async () => {
    const credentials = await spokeCredentials();
    drS3 = new S3Client({ region: DR, credentials, forcePathStyle: true });
    // The spoke DR stack's bucket of copies (moto does not check the DR key the copies name).
    await drS3.send(
      new CreateBucketCommand({ Bucket: DR_BUCKET, CreateBucketConfiguration: { LocationConstraint: DR } }),
    );
    for (const region of REGIONS) {
      const ec = new ElastiCacheClient({ region, credentials });
      const s3 = new S3Client({ region, credentials, forcePathStyle: true });
      await createMotoRedis(ec, 'sessions', {
        name: snap(8),
        tags: { [Tag.managed]: 'true', [Tag.policy]: 'cache', [Tag.source]: 'sessions' },
      });
      // The spoke stack's export bucket, and what ElastiCache's export leaves in it.
      await s3.send(
        new CreateBucketCommand({
          Bucket: exportBucket(region),
          CreateBucketConfiguration: { LocationConstraint: region as 'eu-west-1' },
        }),
      );
      await s3.send(
        new PutObjectCommand({
          Bucket: exportBucket(region),
          Key: `${snap(8)}-0001.rdb`,
          Body: `REDIS ${region}`,
        }),
      );
    }
    await createStateTable(new DynamoDBClient({ region: 'eu-west-1' }), STATE_TABLE);
  });

  const children = (capability: 'backup' | 'retention') =>
    fanOutTargets(config, capability).filter((t) => t.account === SPOKE);
  const keys = async (prefix = '') =>
    ((await drS3.send(new ListObjectsV2Command({ Bucket: DR_BUCKET, Prefix: prefix }))).Contents ?? [])
      .map((o) => o.Key!)
      .sort();

  it("copies each region's snapshot under its own prefix of the account's DR bucket, then cleans the exports", async () => {
    // Act: the event of each region's snapshot (as the spoke forwards it), then the hourly reconcile.
    const wiring = backup.fleetWiring(base, {});
    for (const target of children('backup'))
      await runFleetEvent({ action: 'reconcile-cache-dr', snapshot: snap(8), target }, wiring, backup.run);
    for (const target of children('backup'))
      await runFleetEvent({ action: 'reconcile-cache-dr', snapshot: snap(8), target }, wiring, backup.run);

    // Assert: one copy per region, each that region's bytes, tagged as steward's; the exports are gone.
    expect(await keys()).toEqual([
      `elasticache-eu-central-1/sessions/cache/${snap(8)}-0001.rdb`,
      `elasticache-eu-west-1/sessions/cache/${snap(8)}-0001.rdb`,
    ]);
    for (const region of REGIONS) {
      const Key = `elasticache-${region}/sessions/cache/${snap(8)}-0001.rdb`;
      const body = await (
        await drS3.send(new GetObjectCommand({ Bucket: DR_BUCKET, Key }))
      ).Body!.transformToString();
      const tags = (await drS3.send(new GetObjectTaggingCommand({ Bucket: DR_BUCKET, Key }))).TagSet ?? [];
      expect(body).toBe(`REDIS ${region}`);
      expect(tags).toEqual(expect.arrayContaining([{ Key: Tag.managed, Value: 'true' }]));
      expect(tags).toEqual(
        expect.arrayContaining([
          { Key: Tag.copiedFrom, Value: `arn:aws:elasticache:${region}:${SPOKE}:snapshot:${snap(8)}` },
        ]),
      );
      const s3 = new S3Client({ region, credentials: await spokeCredentials(), forcePathStyle: true });
      expect(
        (await s3.send(new ListObjectsV2Command({ Bucket: exportBucket(region) }))).Contents ?? [],
      ).toEqual([]);
    }
    // Nothing in the hub's account.
    const hubBuckets =
      (await new S3Client({ region: 'eu-west-1' }).send(new ListBucketsCommand({}))).Buckets ?? [];
    expect(hubBuckets.map((b) => b.Name).filter((n) => n?.includes('rdb'))).toEqual([]);
  });

  it("expires one region's old copies under its own prefix only, and never a hand-made object", async () => {
    // Prepare: older copies of eu-west-1 (as the backup keys and tags them), and an object put there by hand.
    const prefix = 'elasticache-eu-west-1/sessions/cache/';
    for (const day of [5, 6, 7])
      await drS3.send(
        new PutObjectCommand({
          Bucket: DR_BUCKET,
          Key: `${prefix}${snap(day)}-0001.rdb`,
          Body: 'REDIS old',
          Tagging: `${Tag.managed}=true&${Tag.policy}=cache&${Tag.source}=sessions`,
        }),
      );
    await drS3.send(
      new PutObjectCommand({ Bucket: DR_BUCKET, Key: `${prefix}${snap(4)}-0001.rdb`, Body: 'by hand' }),
    );
    const wiring = retention.fleetWiring(base, () => ({ STATE_TABLE, REPORT_BUCKET: undefined }));
    const target = children('retention').find((t) => t.region === 'eu-west-1')!;

    // Act
    const result = await runFleetEvent({ action: 'retention', target }, wiring, retention.run).catch(
      (e: unknown) => e,
    );

    // Assert: the cache policy keeps 2 dailies (the 28th and 27th); the 26th and 25th go; the hand-made
    // object (the 24th) is refused (no steward:managed tag) and stays; eu-central-1's copy is not listed.
    expect(await keys()).toEqual([
      `elasticache-eu-central-1/sessions/cache/${snap(8)}-0001.rdb`,
      `${prefix}${snap(4)}-0001.rdb`,
      `${prefix}${snap(7)}-0001.rdb`,
      `${prefix}${snap(8)}-0001.rdb`,
    ]);
    // The refused deletion is the run's failure, named.
    expect(String((result as Error).message ?? result)).toMatch(/not tagged steward:managed=true/);
  });
});
