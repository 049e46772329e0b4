import { DescribeSnapshotsCommand as DescribeEbsSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { RDSClient } from '@aws-sdk/client-rds';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import {
  DeleteObjectCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { fleetWiring, run, wire } from '../../../functions/retention/handler.js';
import { parseConfig, type StewardConfig } from '../../../shared/config/schema.js';
import { fanOutTargets } from '../../../shared/fleet/fan-out.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { memoryDeletionBudget } from '../../../shared/retention/memory-budget.js';
import { memoryRunReports } from '../../../shared/notify/run-report.js';
import { dumpTags } from '../../../shared/backup/consistency.js';
import { FLEET_CONFIG } from '../../support/fleet.js';

// Dump objects in a fleet, through the retention function's real wiring (SDK mocked): the dump buckets are the
// stage's (its account and region), so the fan-out child of the hub's own account-region keeps them, the dumps
// of spoke targets' instances included; a spoke's child (signing with its role) lists no bucket of the hub.
const s3 = mockClient(S3Client);
const ec2 = mockClient(EC2Client);
const rds = mockClient(RDSClient);
const cache = mockClient(ElastiCacheClient);
const tagging = mockClient(ResourceGroupsTaggingAPIClient);
const org = mockClient(OrganizationsClient);

const SPOKE_INSTANCE = 'i-0fedcba9876543210';
const NOW = new Date('2026-01-31T05:00:00Z');
const config = parseConfig(
  {
    ...FLEET_CONFIG,
    backup: {
      policies: {
        mongo: {
          kinds: ['ebs'],
          retention: 'short',
          consistency: { dump: { command: 'mongodump --archive', bucket: 'team-dumps' } },
        },
      },
    },
    retention: { policies: { standard: {}, short: { daily: 2, keepAtLeast: 1 } } },
  },
  'fleet',
);
const day = (d: number) => `steward-${SPOKE_INSTANCE}-202601${d}0300-sched`;
const key = (d: number) => `steward/mongo/${SPOKE_INSTANCE}/${day(d)}.dump`;

beforeEach(() => {
  for (const m of [s3, ec2, rds, cache, tagging, org]) m.reset();
  rds.onAnyCommand().resolves({});
  cache.onAnyCommand().resolves({});
  tagging.onAnyCommand().resolves({});
  ec2.on(DescribeEbsSnapshotsCommand).resolves({ Snapshots: [] });
  // Four daily dumps of an instance in a spoke account, written there by its instance profile.
  s3.on(ListObjectsV2Command).resolves({
    Contents: [25, 26, 27, 28].map((d) => ({
      Key: key(d),
      LastModified: new Date(`2026-01-${d}T03:01:00Z`),
    })),
  });
  s3.on(GetObjectTaggingCommand).resolves({
    TagSet: [
      { Key: 'steward:managed', Value: 'true' },
      { Key: 'steward:policy', Value: 'mongo' },
      { Key: 'steward:source', Value: SPOKE_INSTANCE },
      { Key: 'steward:kind', Value: 'dump' },
    ],
  });
  s3.on(DeleteObjectCommand).resolves({});
});

const child = (account: string, region: string) => {
  const target = fanOutTargets(config, 'retention').find(
    (t) => t.account === account && t.region === region,
  )!;
  return {
    target,
    hubRegion: 'eu-west-1',
    ...(target.roleArn
      ? {
          as: { key: account, credentials: async () => ({ accessKeyId: 'AKIASPOKE', secretAccessKey: 's' }) },
        }
      : {}),
  };
};
const deps = (at: ReturnType<typeof child>) => ({
  ...wire(
    { config, dryRun: false, notifier: memoryNotifier(), now: () => NOW },
    { STATE_TABLE: 'steward-prod-state' },
    at,
  ),
  budget: memoryDeletionBudget(),
});

describe('retention of dump objects in a fleet', () => {
  it("keeps the stage's dumps in the hub's own child, spoke instances' dumps included, by their policy", async () => {
    // Act
    await run({ action: 'retention' }, deps(child('111111111111', 'eu-west-1')));

    // Assert: the two newest kept (daily: 2), the older two deleted, with the hub's own identity
    expect(s3).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: 'team-dumps', Prefix: 'steward/' });
    const deleted = s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key);
    expect(deleted.sort()).toEqual([key(25), key(26)]);
    const client = s3.commandCalls(DeleteObjectCommand)[0]!.thisValue as S3Client;
    expect(await client.config.region()).toBe('eu-west-1');
  });

  it("lists no dump bucket in a spoke's child (the buckets are the hub's)", async () => {
    // Act
    await run({ action: 'retention' }, deps(child('222222222222', 'eu-central-1')));

    // Assert
    expect(s3).not.toHaveReceivedCommand(ListObjectsV2Command);
    expect(s3).not.toHaveReceivedCommand(DeleteObjectCommand);
  });
});

// The override cases below keep 40 daily dumps (0 to 39 days back) per instance in the stage's bucket, each with
// the tags in `tagsOf`, and run the hub's own fan-out child of their stage over them.
const BACK = Array.from({ length: 40 }, (_, i) => i);
const stamp = (back: number) =>
  new Date(NOW.getTime() - back * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '') + '0300';
const setId = (instance: string, back: number) => `steward-${instance}-${stamp(back)}-sched`;
const dumpKey = (instance: string, back: number) => `steward/mongo/${instance}/${setId(instance, back)}.dump`;

/** The override cases' stage: a `mongo` policy dumping to team-dumps, 30 dailies kept, over `targets`. */
const dumpingStage = (targets = FLEET_CONFIG.targets) =>
  parseConfig(
    {
      ...FLEET_CONFIG,
      backup: {
        policies: {
          mongo: {
            kinds: ['ebs'],
            consistency: { dump: { command: 'mongodump --archive', bucket: 'team-dumps' } },
          },
        },
      },
      retention: { policies: { standard: { daily: 30, keepAtLeast: 1 } } },
      targets,
    },
    'fleet',
  );

/** The bucket listing `tagsOf`'s dumps (mocked before each test), and the hub's own child of `stage` over it. */
const hubDumps = (stage: StewardConfig, tagsOf: Record<string, Record<string, string>>) => {
  beforeEach(() => {
    s3.on(ListObjectsV2Command).resolves({ Contents: Object.keys(tagsOf).map((Key) => ({ Key })) });
    s3.on(GetObjectTaggingCommand).callsFake((input: { Key: string }) => ({
      TagSet: Object.entries(tagsOf[input.Key] ?? {}).map(([Key, Value]) => ({ Key, Value })),
    }));
  });
  const hubChild = async (notifier = memoryNotifier()) => {
    const target = fanOutTargets(stage, 'retention').find(
      (t) => t.account === '111111111111' && t.region === 'eu-west-1',
    )!;
    const wiring = fleetWiring(
      () => ({ config: stage, dryRun: false, notifier, now: () => NOW }),
      () => ({ STATE_TABLE: 'steward-prod-state' }),
    );
    return { ...(await wiring.target(target)), budget: memoryDeletionBudget() };
  };
  /** The dry run of `instance`'s dumps plans deleting those older than its `kept` dailies, and deletes nothing. */
  const itPlansTheSameInADryRun = (instance: string, kept: number) =>
    it('plans the same in a dry run and deletes nothing', async () => {
      // Act
      const result = await run({ action: 'retention', dryRun: true }, await hubChild());

      // Assert
      expect(s3).not.toHaveReceivedCommand(DeleteObjectCommand);
      const planned = result.plan.delete.map((s) => s.id).filter((id) => id.includes(instance));
      expect(planned.sort()).toEqual(olderThan(instance, kept).map((k) => `s3://team-dumps/${k}`));
    });
  return { hubChild, itPlansTheSameInADryRun };
};
/** The dumps of `instance` the run deleted. */
const deletedOf = (instance: string) =>
  s3
    .commandCalls(DeleteObjectCommand)
    .map((c) => c.args[0].input.Key!)
    .filter((k) => k.startsWith(`steward/mongo/${instance}/`))
    .sort();
/** The dumps of `instance` older than its `kept` dailies. */
const olderThan = (instance: string, kept: number) =>
  BACK.filter((b) => b >= kept)
    .map((b) => dumpKey(instance, b))
    .sort();

// A target's retention overrides apply to its instances' dumps: the hub's own child keeps every dump of the
// stage's bucket, each with the policies of the target its instance is in (`steward:account`, `steward:region`).
describe("retention of a spoke instance's dumps with its target's overrides", () => {
  const HUB_INSTANCE = 'i-0123456789abcdef0';
  const OLD_INSTANCE = 'i-0aaaaaaaaaaaaaaaa';
  // The stage keeps 30 dailies; targets[2] (333333333333, the stage's region) keeps 14.
  const stage = dumpingStage();
  const tagsOf: Record<string, Record<string, string>> = {};
  const place = (account: string) => ({ 'steward:account': account, 'steward:region': 'eu-west-1' });
  const ours = (instance: string) => ({
    'steward:managed': 'true',
    'steward:policy': 'mongo',
    'steward:source': instance,
    'steward:kind': 'dump',
  });
  for (const b of BACK) {
    tagsOf[dumpKey(SPOKE_INSTANCE, b)] = { ...ours(SPOKE_INSTANCE), ...place('333333333333') };
    tagsOf[dumpKey(HUB_INSTANCE, b)] = { ...ours(HUB_INSTANCE), ...place('111111111111') };
    // Written before dumps named their place: the run's own (the hub's) policies.
    tagsOf[dumpKey(OLD_INSTANCE, b)] = ours(OLD_INSTANCE);
  }
  // Not steward's, though it names the spoke's place and lies under the prefix: never deleted.
  const HAND_MADE = `steward/mongo/${SPOKE_INSTANCE}/steward-${SPOKE_INSTANCE}-202511010300-sched.dump`;
  tagsOf[HAND_MADE] = { 'steward:policy': 'mongo', ...place('333333333333') };

  const { hubChild, itPlansTheSameInADryRun } = hubDumps(stage, tagsOf);

  it("deletes a spoke instance's dumps after its target's 14 dailies, the hub's after the stage's 30", async () => {
    // Act
    await run({ action: 'retention' }, await hubChild());

    // Assert
    expect(deletedOf(SPOKE_INSTANCE)).toEqual(olderThan(SPOKE_INSTANCE, 14));
    expect(deletedOf(HUB_INSTANCE)).toEqual(olderThan(HUB_INSTANCE, 30));
    expect(deletedOf(OLD_INSTANCE)).toEqual(olderThan(OLD_INSTANCE, 30));
    expect(s3).not.toHaveReceivedCommandWith(DeleteObjectCommand, { Key: HAND_MADE });
  });

  itPlansTheSameInADryRun(SPOKE_INSTANCE, 14);
});

// An OU target's overrides reach the dumps of the accounts listed from it: the backup child tags each dump with
// the OU it reached the account through (`steward:ou`, tags built here by the backup's own dumpTags), and the
// hub's own child stacks the overrides as that child did, with no Organizations call. A dump whose target
// cannot be resolved keeps the longest policies that could apply, and the run report says so.
describe("retention of an OU account's dumps with the OU target's overrides", () => {
  const OU = 'ou-ab12-cd34ef56';
  const OU_INSTANCE = 'i-0bbbbbbbbbbbbbbbb'; // 444444444444, listed from the OU
  const BOTH_INSTANCE = 'i-0cccccccccccccccc'; // 333333333333: an account target (14 dailies) in the OU too
  const OLD_INSTANCE = 'i-0dddddddddddddddd'; // 444444444444, written before steward:ou
  const GONE_INSTANCE = 'i-0eeeeeeeeeeeeeeee'; // names an OU since removed from the targets
  // The stage keeps 30 dailies; the OU 35; targets[2] (333333333333) 14.
  const stage = dumpingStage([
    ...FLEET_CONFIG.targets!.slice(0, 3),
    {
      organizationalUnit: OU,
      regions: ['eu-west-1', 'eu-central-1'],
      retention: { policies: { standard: { daily: 35 } } },
    },
  ]);
  const tagsOf: Record<string, Record<string, string>> = {};
  const put = (instance: string, account: string, organizationalUnits?: string[]) => {
    for (const b of BACK)
      tagsOf[dumpKey(instance, b)] = dumpTags(
        { instanceId: instance, policy: 'mongo', setId: setId(instance, b), createdBy: 'backup' },
        { account, region: 'eu-west-1', ...(organizationalUnits ? { organizationalUnits } : {}) },
      );
  };
  put(OU_INSTANCE, '444444444444', [OU]);
  put(BOTH_INSTANCE, '333333333333', [OU]);
  put(OLD_INSTANCE, '444444444444');
  put(GONE_INSTANCE, '444444444444', ['ou-gone-abcdefgh']);
  // Not steward's, though it names the OU and lies under the prefix: never deleted.
  const HAND_MADE = `steward/mongo/${OU_INSTANCE}/steward-${OU_INSTANCE}-202511010300-sched.dump`;
  tagsOf[HAND_MADE] = {
    'steward:policy': 'mongo',
    'steward:account': '444444444444',
    'steward:region': 'eu-west-1',
    'steward:ou': OU,
  };

  const { hubChild, itPlansTheSameInADryRun } = hubDumps(stage, tagsOf);

  it("deletes an OU account's dumps after the OU's 35 dailies, and a target in the OU after its own 14", async () => {
    // Act
    await run({ action: 'retention' }, await hubChild());

    // Assert
    expect(deletedOf(OU_INSTANCE)).toEqual(olderThan(OU_INSTANCE, 35));
    expect(deletedOf(BOTH_INSTANCE)).toEqual(olderThan(BOTH_INSTANCE, 14));
    expect(s3).not.toHaveReceivedCommandWith(DeleteObjectCommand, { Key: HAND_MADE });
    // No request added: no Organizations call, one tag read per listed dump and one before each delete.
    expect(org.calls()).toHaveLength(0);
    const deletes = s3.commandCalls(DeleteObjectCommand).length;
    expect(s3.commandCalls(GetObjectTaggingCommand)).toHaveLength(Object.keys(tagsOf).length + deletes);
  });

  it('keeps a dump whose target cannot be resolved with the longest policies, and the run report names it', async () => {
    // Prepare
    const notifier = memoryNotifier();
    const reports = memoryRunReports('steward-prod-reports', 'eu-west-1');

    // Act
    const result = await run({ action: 'retention' }, { ...(await hubChild(notifier)), reports });

    // Assert: both kept by the OU's 35, longer than the hub's own 30 (which kept them before)
    expect(deletedOf(OLD_INSTANCE)).toEqual(olderThan(OLD_INSTANCE, 35));
    expect(deletedOf(GONE_INSTANCE)).toEqual(olderThan(GONE_INSTANCE, 35));
    const verdict = result.plan.verdicts.find((v) => v.id === `s3://team-dumps/${dumpKey(OLD_INSTANCE, 25)}`);
    expect(verdict).toMatchObject({ action: 'keep', policy: 'standard (longest)' });
    // The notification: one line per reason, with a count and an example
    const lines = notifier.sent[0]!.lines.join('\n');
    expect(lines).toContain(
      'Target not resolved (80 dump objects, kept with the longest of the policies that could apply, never shorter):',
    );
    expect(lines).toContain(
      `- 444444444444 eu-west-1 is no account target and the dump names no steward:ou: 40 (e.g. s3://team-dumps/${dumpKey(OLD_INSTANCE, 0)}, standard (longest))`,
    );
    expect(lines).toContain('steward:ou names ou-gone-abcdefgh, no organizational-unit target in eu-west-1');
    // The full report: every such dump with its reason
    const [body] = [...reports.objects.values()];
    const report = JSON.parse(body!) as { unresolvedTargets: { id: string; reason: string }[] };
    expect(report.unresolvedTargets).toHaveLength(80);
    expect(report.unresolvedTargets.map((u) => u.id)).toContain(
      `s3://team-dumps/${dumpKey(GONE_INSTANCE, 39)}`,
    );
  });

  itPlansTheSameInADryRun(OU_INSTANCE, 35);
});
