import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.js';
import * as retention from '../../functions/retention/handler.js';
import { redisDrBucketName } from '../../shared/backup/cache-dr.js';
import { parseConfig } from '../../shared/config/schema.js';
import { fanOutTargets } from '../../shared/fleet/fan-out.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import type { RetentionPlan } from '../../shared/retention/gfs.js';
import { Tag } from '../../shared/tags.js';
import { useMotoEnvironment } from '../support/moto.js';
import { ownTmpDir, removeOwnTmpDir } from '../support/own-tmp.js';

// `steward plan retention` (no --inventory) against moto, beside the retention function's own dry run over
// the same AWS: the preview must judge what the run judges, the stage's dump objects and its Redis DR copies
// (objects in S3, not snapshots) included. Before, the plan listed only the snapshot stores: it showed none
// of their deletions.
const REGION = 'eu-west-1';
const DR = 'us-west-2';
const ACCOUNT = '123456789012'; // moto's
const DUMPS = 'e2e-dumps';
const RDB_DR = redisDrBucketName('e2e', ACCOUNT, DR);

const input = {
  stage: 'e2e',
  region: REGION,
  account: ACCOUNT,
  backup: {
    policies: {
      hosts: {
        kinds: ['ebs'],
        retention: 'short',
        consistency: { dump: { command: 'pg_dumpall', bucket: DUMPS, prefix: 'steward/' } },
      },
      cache: { kinds: ['elasticache'], retention: 'short', copyToDr: true },
    },
  },
  retention: { policies: { short: { daily: 1, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 } } },
  dr: { region: DR, kmsKeyArn: `arn:aws:kms:${DR}:${ACCOUNT}:alias/steward-dr` },
};

// A fleet: the hub in another account, moto's account one of its spoke targets. The spoke's run keeps its
// account's Redis DR copies (its DR bucket, under its region's prefix); the plan for that target lists them too.
const HUB = '111111111111';
const SPOKE_DR = redisDrBucketName('fleet', ACCOUNT, DR);
const fleetInput = {
  stage: 'fleet',
  region: REGION,
  account: HUB,
  fleet: { externalId: 'steward-fleet-e2e' },
  backup: { policies: { cache: { kinds: ['elasticache'], retention: 'short', copyToDr: true } } },
  retention: input.retention,
  dr: { region: DR, kmsKeyArn: `arn:aws:kms:${DR}:${HUB}:alias/steward-dr` },
  targets: [{}, { account: ACCOUNT }],
};

describe('steward plan retention against moto', () => {
  useMotoEnvironment(REGION);
  let dir = '';

  beforeAll(async () => {
    dir = ownTmpDir('steward-plan-retention');
    writeFileSync(join(dir, 'steward.e2e.yaml'), JSON.stringify(input));
    const tags = (policy: string, source: string, kind?: string) =>
      new URLSearchParams({
        [Tag.managed]: 'true',
        [Tag.policy]: policy,
        [Tag.source]: source,
        ...(kind ? { [Tag.kind]: kind } : {}),
      }).toString();
    const s3 = new S3Client({ region: REGION, forcePathStyle: true });
    const drS3 = new S3Client({ region: DR, forcePathStyle: true });
    await s3.send(
      new CreateBucketCommand({ Bucket: DUMPS, CreateBucketConfiguration: { LocationConstraint: REGION } }),
    );
    await drS3.send(
      new CreateBucketCommand({ Bucket: RDB_DR, CreateBucketConfiguration: { LocationConstraint: DR } }),
    );
    for (const day of ['13', '14', '15']) {
      // An EC2 instance's dumps, steward's (tagged), one a day.
      await s3.send(
        new PutObjectCommand({
          Bucket: DUMPS,
          Key: `steward/hosts/i-0abc1234def567890/steward-i-0abc1234def567890-202601${day}0300-sched.dump`,
          Body: `dump of the ${day}th`,
          Tagging: tags('hosts', 'i-0abc1234def567890', 'dump'),
        }),
      );
      // The Redis DR copies of a replication group, one file each.
      await drS3.send(
        new PutObjectCommand({
          Bucket: RDB_DR,
          Key: `elasticache/sessions/cache/steward-sessions-202601${day}0300-sched-0001.rdb`,
          Body: `rdb of the ${day}th`,
          Tagging: tags('cache', 'sessions'),
        }),
      );
    }
    // A fleet stage whose hub is another account: moto's account is its spoke target (the CLI's profile).
    writeFileSync(join(dir, 'steward.fleet.yaml'), JSON.stringify(fleetInput));
    await drS3.send(
      new CreateBucketCommand({
        Bucket: SPOKE_DR,
        CreateBucketConfiguration: { LocationConstraint: DR },
      }),
    );
    for (const day of ['13', '14', '15'])
      await drS3.send(
        new PutObjectCommand({
          Bucket: SPOKE_DR,
          Key: `elasticache-${REGION}/sessions/cache/steward-sessions-202601${day}0300-sched-0001.rdb`,
          Body: `rdb of the ${day}th`,
          Tagging: tags('cache', 'sessions'),
        }),
      );
    vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterAll(() => {
    vi.restoreAllMocks();
    removeOwnTmpDir(dir);
  });

  it('lists the deletions of dump objects and Redis DR copies the retention run would make, and no other', async () => {
    // Act: the CLI's preview
    const out: string[] = [];
    const code = await main(['plan', 'retention', '--config', dir, '--stage', 'e2e', '--json'], (s) =>
      out.push(s),
    );
    const preview = JSON.parse(out.join('\n')) as RetentionPlan & { unread: string[] };

    // Act: the function's own dry run, wired as deployed (its environment names the Redis DR bucket)
    const config = parseConfig(input, 'e2e');
    const run = await retention.run(
      { action: 'retention', dryRun: true },
      retention.wire(
        { config, dryRun: true, notifier: memoryNotifier(), now: () => new Date() },
        { STATE_TABLE: 'steward-e2e-state', REDIS_DR_BUCKET: RDB_DR },
      ),
    );

    // Assert
    const ids = (p: Pick<RetentionPlan, 'delete'>) => p.delete.map((s) => s.id).sort();
    expect(preview.unread).toEqual([]);
    expect(code).toBe(0);
    expect(ids(preview)).toEqual(ids(run.plan));
    expect(preview.summary).toEqual(run.plan.summary);
    // Two days of dumps and two of Redis DR copies expire; the 15th's of each is kept.
    expect(ids(preview).filter((id) => id.includes('i-0abc1234def567890'))).toHaveLength(2);
    expect(ids(preview).filter((id) => id.includes('sessions'))).toHaveLength(2);
    expect(ids(preview).some((id) => id.includes('202601150300'))).toBe(false);
  }, 60_000);

  it("lists another target's Redis DR copies as that target's run does", async () => {
    // Act: the CLI's preview for the spoke target, with moto's (the spoke account's) credentials
    const out: string[] = [];
    const code = await main(
      [
        'plan',
        'retention',
        '--config',
        dir,
        '--stage',
        'fleet',
        '--target',
        `${ACCOUNT}/${REGION}`,
        '--json',
      ],
      (s) => out.push(s),
    );
    const preview = JSON.parse(out.join('\n')) as RetentionPlan & { unread: string[] };

    // Act: the function's fan-out child for that target (its spoke role's session, from moto's STS), dry run
    const config = parseConfig(fleetInput, 'fleet');
    const target = fanOutTargets(config, 'retention').find((t) => t.account === ACCOUNT)!;
    const wiring = retention.fleetWiring(
      () => ({ config, dryRun: true, notifier: memoryNotifier(), now: () => new Date() }),
      () => ({ STATE_TABLE: 'steward-fleet-state' }),
    );
    const run = await retention.run({ action: 'retention', dryRun: true }, await wiring.target(target));

    // Assert: the same deletions; two days of the spoke's Redis DR copies expire, the 15th's is kept
    const ids = (p: Pick<RetentionPlan, 'delete'>) => p.delete.map((s) => s.id).sort();
    expect(preview.unread).toEqual([]);
    expect(code).toBe(0);
    expect(ids(preview)).toEqual(ids(run.plan));
    expect(preview.summary).toEqual(run.plan.summary);
    expect(ids(preview)).toEqual([
      'steward-sessions-202601130300-sched',
      'steward-sessions-202601140300-sched',
    ]);
  }, 60_000);
});
