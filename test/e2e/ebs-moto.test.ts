import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CopySnapshotCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  type Snapshot as Ec2Snapshot,
} from '@aws-sdk/client-ec2';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import createSnapshotsEvent from '../../events/ebs/aws-create-snapshots.json' with { type: 'json' };
import * as backup from '../../functions/backup/handler.js';
import * as retention from '../../functions/retention/handler.js';
import { parseConfig } from '../../shared/config/schema.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import { Tag, tagRecord } from '../../shared/tags.js';
import { useMotoEnvironment } from '../support/moto.js';
import { createStateTable } from '../support/state-table.js';
import { instanceWithDataVolume } from '../support/vault-moto.js';

// EBS snapshot sets end to end through real HTTP and the SDK's EC2 serialisers against moto: the backup
// function lists the tagged instance and volume, takes a multi-volume set (CreateSnapshots) and a one-volume
// set (CreateSnapshot), copies each part to the DR region (CopySnapshot with SourceRegion), and a repeated run
// takes nothing again; then retention deletes the expired sets whole, in both regions. Moto completes
// snapshots and copies at once and dates them by the wall clock, so states, pagination and throttling are
// proven with mocks (test/shared/aws/ebs.test.ts), not here.
const REGION = 'eu-west-1';
const DR = 'us-west-2';
const TABLE = 'steward-e2e-state';

const config = parseConfig(
  {
    stage: 'e2e',
    region: REGION,
    backup: { policies: { daily: { kinds: ['ebs'], retention: 'short', copyToDr: true } } },
    retention: { policies: { short: { daily: 1, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 } } },
    dr: { region: DR, kmsKeyArn: `arn:aws:kms:${DR}:123456789012:alias/steward-dr` },
  },
  'e2e',
);

const base = () => ({ config, dryRun: false, notifier: memoryNotifier(), now: () => new Date() });

describe('EBS snapshot sets, against moto', () => {
  useMotoEnvironment(REGION, { emptyAmis: true });
  let ec2: EC2Client;
  let drEc2: EC2Client;
  let instanceId = '';
  let dataVolume = '';
  let loneVolume = '';
  // A copy someone made of a part, tags copied (the retention test makes it): not steward's.
  let theirs = '';

  const steward = async (client: EC2Client): Promise<Ec2Snapshot[]> =>
    ((await client.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots ?? []).filter(
      (s) => tagRecord(s.Tags)[Tag.set] !== undefined && s.SnapshotId !== theirs,
    );
  const setOf = (s: Ec2Snapshot) => tagRecord(s.Tags)[Tag.set]!;

  beforeAll(async () => {
    ec2 = new EC2Client({ region: REGION });
    drEc2 = new EC2Client({ region: DR });
    await createStateTable(new DynamoDBClient({ region: REGION }), TABLE);
    // An instance (root volume) with a data volume attached, tagged for the daily policy; and a volume of
    // its own, tagged too.
    ({ instanceId, dataVolume } = await instanceWithDataVolume(ec2, REGION));
    loneVolume = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${REGION}a`, Size: 5 })))
      .VolumeId!;
    await ec2.send(
      new CreateTagsCommand({
        Resources: [instanceId, loneVolume],
        Tags: [{ Key: Tag.backup, Value: 'daily' }],
      }),
    );
  });

  it('takes a crash-consistent set per instance and a set per tagged volume, and copies each part to DR', async () => {
    // Act
    const result = await backup.run(
      { action: 'scheduled-backup', policy: 'daily', scheduledTime: '2026-01-14T03:00:00Z' },
      backup.wire(base(), {}),
    );

    // Assert: two sets in the primary region, with their deterministic set ids and tags.
    expect(result.outcomes.filter((o) => o.action === 'create-snapshot').map((o) => o.status)).toEqual([
      'done',
      'done',
    ]);
    const primary = await steward(ec2);
    const sets = new Map<string, Ec2Snapshot[]>();
    for (const s of primary) sets.set(setOf(s), [...(sets.get(setOf(s)) ?? []), s]);
    const instanceSet = `steward-${instanceId}-202601140300-sched`;
    const volumeSet = `steward-${loneVolume}-202601140300-sched`;
    expect([...sets.keys()].sort()).toEqual([instanceSet, volumeSet].sort());
    expect(sets.get(instanceSet)!.map((s) => s.VolumeId)).toContain(dataVolume);
    expect(sets.get(instanceSet)).toHaveLength(2);
    expect(tagRecord(sets.get(instanceSet)![0]!.Tags)).toMatchObject({
      [Tag.managed]: 'true',
      [Tag.policy]: 'daily',
      [Tag.source]: instanceId,
      [Tag.setSize]: '2',
    });

    // Assert: moto completes snapshots at once, so the same run copied every part to DR, tagged back to its source.
    const copies = await steward(drEc2);
    expect(copies).toHaveLength(3);
    const copied = copies.filter((c) => setOf(c) === instanceSet).map((c) => tagRecord(c.Tags));
    expect(copied.map((t) => t[Tag.volume]).sort()).toEqual(
      sets
        .get(instanceSet)!
        .map((s) => s.VolumeId)
        .sort(),
    );
    expect(copied[0]).toMatchObject({
      [Tag.copiedFrom]: expect.stringContaining(`snapshot-set/${instanceSet}`),
    });
    expect(result.outcomes.filter((o) => o.action === 'copy-to-dr' && o.status === 'done')).toHaveLength(2);
  });

  it('a repeated run of the same slot takes and copies nothing again', async () => {
    // Act
    const again = await backup.run(
      { action: 'scheduled-backup', policy: 'daily', scheduledTime: '2026-01-14T03:00:00Z' },
      backup.wire(base(), {}),
    );

    // Assert
    expect(again.outcomes.filter((o) => o.action === 'create-snapshot').map((o) => o.status)).toEqual([
      'already-done',
      'already-done',
    ]);
    expect(await steward(ec2)).toHaveLength(3);
    expect(await steward(drEc2)).toHaveLength(3);
  });

  it('retention deletes the older sets whole, in the primary and the DR region, and keeps the newest', async () => {
    // Prepare: the next day's sets (and their copies).
    await backup.run(
      { action: 'scheduled-backup', policy: 'daily', scheduledTime: '2026-01-15T03:00:00Z' },
      backup.wire(base(), {}),
    );
    expect(await steward(ec2)).toHaveLength(6);
    expect(await steward(drEc2)).toHaveLength(6);
    // Prepare: someone copies a part of the 14th's instance set in the console, tags copied: the copy carries
    // steward:set, steward:managed and the policy, and the console's description.
    const part = (await steward(ec2)).find((s) => setOf(s) === `steward-${instanceId}-202601140300-sched`)!;
    theirs = (
      await ec2.send(
        new CopySnapshotCommand({
          SourceRegion: REGION,
          SourceSnapshotId: part.SnapshotId!,
          Description: `[Copied ${part.SnapshotId!} from ${REGION}] ${part.Description!}`,
          TagSpecifications: [{ ResourceType: 'snapshot', Tags: part.Tags! }],
        }),
      )
    ).SnapshotId!;

    // Act: keep one day per instance (moto dates every snapshot now: the newest set id wins the tie).
    const later = { ...base(), now: () => new Date(Date.now() + 3_600_000) };
    const result = await retention.run(
      { action: 'retention' },
      retention.wire(later, { STATE_TABLE: TABLE }),
    );

    // Assert: four sets deleted (two per region), every part of them; the 15th's sets stay.
    const day = (s: { region: string; id: string }) => `${s.region}/${s.id.slice(-18)}`;
    expect(result.plan.delete.map(day).sort()).toEqual([
      `${REGION}/202601140300-sched`,
      `${REGION}/202601140300-sched`,
      `${DR}/202601140300-sched`,
      `${DR}/202601140300-sched`,
    ]);
    const left = [...(await steward(ec2)), ...(await steward(drEc2))];
    expect(left).toHaveLength(6);
    expect(left.every((s) => setOf(s).includes('202601150300'))).toBe(true);
    // Assert: the hand-made copy was never judged (no part of the set) and is still there.
    expect(result.plan.delete.flatMap((s) => s.parts ?? []).map((p) => p.id)).not.toContain(theirs);
    const kept = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [theirs] }));
    expect(kept.Snapshots?.map((s) => tagRecord(s.Tags)[Tag.set])).toEqual([setOf(part)]);
  });
  it('retention keeps dump objects by their policy, apart from the sets, and never deletes one steward did not tag', async () => {
    // Prepare: the daily policy dumps to a bucket; dumps of the 14th and 15th tagged by steward, and a
    // hand-made object of the 13th under the same prefix, untagged.
    const withDumps = parseConfig(
      {
        stage: 'e2e',
        region: REGION,
        backup: {
          policies: {
            daily: {
              kinds: ['ebs'],
              retention: 'short',
              consistency: {
                dump: { command: 'mongodump --archive', bucket: 'e2e-dumps', prefix: 'steward/' },
              },
            },
          },
        },
        retention: { policies: { short: { daily: 1, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 } } },
      },
      'e2e',
    );
    const s3 = new S3Client({ region: REGION, forcePathStyle: true });
    await s3.send(
      new CreateBucketCommand({
        Bucket: 'e2e-dumps',
        CreateBucketConfiguration: { LocationConstraint: REGION },
      }),
    );
    const dumpKey = (day: string) =>
      `steward/daily/${instanceId}/steward-${instanceId}-202601${day}0300-sched.dump`;
    const ours = new URLSearchParams({
      [Tag.managed]: 'true',
      [Tag.policy]: 'daily',
      [Tag.source]: instanceId,
      [Tag.kind]: 'dump',
    }).toString();
    for (const [day, tagging] of [
      ['13', undefined],
      ['14', ours],
      ['15', ours],
    ] as const)
      await s3.send(
        new PutObjectCommand({
          Bucket: 'e2e-dumps',
          Key: dumpKey(day),
          Body: `dump of the ${day}th`,
          ...(tagging ? { Tagging: tagging } : {}),
        }),
      );
    const keys = async () =>
      ((await s3.send(new ListObjectsV2Command({ Bucket: 'e2e-dumps' }))).Contents ?? [])
        .map((o) => o.Key)
        .sort();
    const run = (dryRun: boolean) =>
      retention.run(
        { action: 'retention', ...(dryRun ? { dryRun: true } : {}) },
        retention.wire({ ...base(), config: withDumps }, { STATE_TABLE: TABLE }),
      );

    // Act: a dry run, then the run.
    const dry = await run(true);
    const before = await keys();
    const result = await run(false);

    // Assert: the dry run deleted nothing; the run deleted the 14th's dump only, the sets are untouched.
    expect(dry.plan.delete.map((s) => s.id)).toEqual([`s3://e2e-dumps/${dumpKey('14')}`]);
    expect(before).toHaveLength(3);
    expect(result.plan.delete.map((s) => s.id)).toEqual([`s3://e2e-dumps/${dumpKey('14')}`]);
    expect(result.outcomes.filter((o) => o.action === 'delete').map((o) => o.status)).toEqual(['done']);
    expect(await keys()).toEqual([dumpKey('13'), dumpKey('15')]);
    const hand = result.plan.verdicts.find((v) => v.id.endsWith(dumpKey('13')));
    expect(hand).toMatchObject({ action: 'skip', rule: 'not-ours' });
    expect(result.plan.verdicts.find((v) => v.id.endsWith(dumpKey('15')))).toMatchObject({ action: 'keep' });
    expect(await steward(ec2)).toHaveLength(3);
  });
  it("an EBS createSnapshots event copies its set to DR through the copy queue; a snapshot not steward's copies nothing", async () => {
    // Prepare: the 16th's sets taken by a policy that does not copy, so nothing of them is in DR yet.
    const noCopy = parseConfig(
      {
        stage: 'e2e',
        region: REGION,
        backup: { policies: { daily: { kinds: ['ebs'], retention: 'short' } } },
        retention: { policies: { short: { daily: 1, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 } } },
        dr: { region: DR, kmsKeyArn: `arn:aws:kms:${DR}:123456789012:alias/steward-dr` },
      },
      'e2e',
    );
    await backup.run(
      { action: 'scheduled-backup', policy: 'daily', scheduledTime: '2026-01-16T03:00:00Z' },
      backup.wire({ ...base(), config: noCopy }, {}),
    );
    const set = `steward-${instanceId}-202601160300-sched`;
    const parts = (await steward(ec2)).filter((s) => setOf(s) === set);
    expect(parts).toHaveLength(2);
    expect((await steward(drEc2)).filter((s) => setOf(s) === set)).toEqual([]);
    // The documented event, naming this set's snapshots in this region.
    const event = structuredClone(createSnapshotsEvent);
    event.region = REGION;
    event.detail.snapshots = parts.map((p) => ({
      snapshot_id: `arn:aws:ec2:${REGION}::snapshot/${p.SnapshotId}`,
      source: `arn:aws:ec2:${REGION}::volume/${p.VolumeId}`,
      status: 'completed',
    }));
    const hand = await ec2.send(new CreateSnapshotCommand({ VolumeId: loneVolume }));
    const notOurs = structuredClone(event);
    notOurs.detail.snapshots = [
      { ...event.detail.snapshots[0]!, snapshot_id: `arn:aws:ec2:${REGION}::snapshot/${hand.SnapshotId}` },
    ];

    // Act
    const before = await steward(drEc2);
    const ignored = await backup.run(notOurs, backup.wire(base(), { STATE_TABLE: TABLE }));
    const afterIgnored = await steward(drEc2);
    const result = await backup.run(event, backup.wire(base(), { STATE_TABLE: TABLE }));

    // Assert: nothing for the hand-made snapshot; the set's two volumes copied, tagged back to the set.
    expect(ignored.outcomes.filter((o) => o.status === 'failed')).toEqual([]);
    expect(afterIgnored.length).toBe(before.length);
    expect(result.outcomes.filter((o) => o.status === 'failed')).toEqual([]);
    const copies = (await steward(drEc2)).filter((s) => setOf(s) === set);
    expect(copies.map((c) => tagRecord(c.Tags)[Tag.volume]).sort()).toEqual(
      parts.map((p) => p.VolumeId).sort(),
    );
  });
});
