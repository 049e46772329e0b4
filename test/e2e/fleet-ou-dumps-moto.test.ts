import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import {
  CreateBucketCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { AwsCredentialIdentity } from '@smithy/types';
import { beforeAll, describe, expect, it } from 'vitest';
import * as backup from '../../functions/backup/handler.js';
import * as retention from '../../functions/retention/handler.js';
import { consistencyDocumentName } from '../../infra/consistency.js';
import { parseConfig, type StewardConfig } from '../../shared/config/schema.js';
import { fanOutTargets } from '../../shared/fleet/fan-out.js';
import { runFleetEvent } from '../../shared/fleet/child.js';
import type { FanOutItems } from '../../shared/fleet/organization.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import { memoryDeletionBudget } from '../../shared/retention/memory-budget.js';
import type { BaseDeps } from '../../shared/runtime.js';
import { Tag, tagList, tagRecord } from '../../shared/tags.js';
import { mongoConsistency } from '../support/fleet.js';
import { consistentMotoInstance, motoCredentials } from '../support/fleet-moto.js';
import { useMotoEnvironment } from '../support/moto.js';

// An OU target's retention overrides reach its accounts' dumps, over real HTTP against moto: an organization
// whose management account is the hub (moto's default account), an OU holding one workload account, and the
// stage's dump bucket in the hub. The backup cycle's listing step lists the OU through Organizations, each
// child runs the dump and tags it in the hub's bucket (the OU account's with `steward:ou`), and the retention
// cycle's hub child keeps the OU account's dumps with the OU's 1 daily, the hub's with the stage's 3, and a
// hand-made object naming the OU untouched. moto runs no script on the instance (the dump objects are put here,
// as the instance profile would stream them) and evaluates no policy (the IAM suite simulates the grants).
const HUB = '123456789012';
const REGION = 'eu-west-1';
const BUCKET = 'team-dumps';
const DOCUMENT = consistencyDocumentName('oudumps');
const DAYS = ['2026-01-15T03:00:00Z', '2026-01-16T03:00:00Z', '2026-01-17T03:00:00Z'];
const NOW = new Date('2026-01-17T05:00:00Z');
const stamp = (day: string) => day.slice(0, 16).replace(/[-T:]/g, '');
const dumpKey = (instance: string, day: string) =>
  `steward/mongo/${instance}/steward-${instance}-${stamp(day)}-sched.dump`;

interface Place {
  account: string;
  credentials?: AwsCredentialIdentity;
  instance: string;
}

describe("an OU target's overrides on its accounts' dumps, against an emulated AWS over real HTTP", () => {
  useMotoEnvironment(REGION);
  const hubS3 = () => new S3Client({ region: REGION });
  let config: StewardConfig;
  let ou: string;
  const hub: Place = { account: HUB, instance: '' };
  const member: Place = { account: '', instance: '' };
  let handMade: string;

  beforeAll(async () => {
    // The organization, as the hub (its management account) sees it.
    const org = new OrganizationsClient({ region: 'us-east-1' });
    const { Organization } = await org.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
    const root = (await org.send(new ListRootsCommand({}))).Roots![0]!.Id!;
    ou = (await org.send(new CreateOrganizationalUnitCommand({ ParentId: root, Name: 'prod' })))
      .OrganizationalUnit!.Id!;
    const created = await org.send(
      new CreateAccountCommand({ AccountName: 'workload', Email: 'workload@example.com' }),
    );
    member.account = created.CreateAccountStatus!.AccountId!;
    await org.send(
      new MoveAccountCommand({ AccountId: member.account, SourceParentId: root, DestinationParentId: ou }),
    );
    config = parseConfig(
      {
        stage: 'oudumps',
        account: HUB,
        region: REGION,
        fleet: { organizationId: Organization!.Id!, externalId: 'steward-oudumps-e2e' },
        backup: { policies: { mongo: mongoConsistency(BUCKET, { retention: 'standard' }) } },
        retention: { includeDrRegion: false, policies: { standard: { daily: 3, keepAtLeast: 1 } } },
        targets: [{}, { organizationalUnit: ou, retention: { policies: { standard: { daily: 1 } } } }],
      },
      'fleet-ou-dumps-e2e',
    );

    await hubS3().send(
      new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }),
    );
    member.credentials = await motoCredentials(member.account);
    for (const p of [hub, member]) {
      p.instance = await consistentMotoInstance(
        { region: REGION, ...(p.credentials && { credentials: p.credentials }) },
        DOCUMENT,
        'mongo',
      );
      // Each day's dump, as the instance profile streams it to the stage's bucket (moto runs no script).
      for (const day of DAYS)
        await hubS3().send(
          new PutObjectCommand({ Bucket: BUCKET, Key: dumpKey(p.instance, day), Body: 'dump' }),
        );
    }
    // Not steward's: someone's object under the prefix naming the OU, without steward:managed.
    handMade = `steward/mongo/${member.instance}/steward-${member.instance}-202601010300-sched.dump`;
    await hubS3().send(new PutObjectCommand({ Bucket: BUCKET, Key: handMade, Body: 'mine' }));
    await hubS3().send(
      new PutObjectTaggingCommand({
        Bucket: BUCKET,
        Key: handMade,
        Tagging: {
          TagSet: tagList({
            [Tag.policy]: 'mongo',
            [Tag.account]: member.account,
            [Tag.region]: REGION,
            [Tag.ou]: ou,
          }),
        },
      }),
    );
  });

  it('lists the OU through Organizations and tags the OU account’s dumps with it, the hub’s without', async () => {
    // Prepare
    const base = (): BaseDeps => ({
      config,
      dryRun: false,
      notifier: memoryNotifier(),
      now: () => new Date(),
    });
    const wiring = backup.fleetWiring(base, { CONSISTENCY_DOCUMENT: DOCUMENT });

    // Act: the cycle's listing step, then each child of the Map, on three days
    const items = (await runFleetEvent(
      { action: 'fan-out-targets', capability: 'backup', partition: 'aws', event: {} },
      wiring,
      backup.run,
    )) as FanOutItems;
    for (const day of DAYS)
      for (const { target } of items.targets)
        await runFleetEvent(
          { action: 'scheduled-backup', policy: 'mongo', scheduledTime: day, target },
          wiring,
          backup.run,
        );

    // Assert: one child for the hub, one for the OU's account (as targets[1], with its spoke role)
    expect(items.targets.map((i) => [i.target.account, i.target.index, i.target.roleArn])).toEqual([
      [HUB, 0, undefined],
      [member.account, 1, `arn:aws:iam::${member.account}:role/steward-oudumps-spoke-backup-${REGION}`],
    ]);
    for (const p of [hub, member])
      for (const day of DAYS) {
        const { TagSet } = await hubS3().send(
          new GetObjectTaggingCommand({ Bucket: BUCKET, Key: dumpKey(p.instance, day) }),
        );
        const tags = tagRecord(TagSet);
        expect(tags).toMatchObject({ [Tag.managed]: 'true', [Tag.account]: p.account, [Tag.region]: REGION });
        expect(tags[Tag.ou]).toBe(p === member ? ou : undefined);
      }
  });

  it("keeps the OU account's dumps with the OU's 1 daily and the hub's with the stage's 3", async () => {
    // Prepare: the retention cycle's child of the hub's own account-region (it keeps the stage's buckets)
    const notifier = memoryNotifier();
    const target = fanOutTargets(config, 'retention').find((t) => t.account === HUB)!;
    const wiring = retention.fleetWiring(
      () => ({ config, dryRun: false, notifier, now: () => NOW }),
      () => ({ STATE_TABLE: 'unused' }),
    );
    const deps = { ...(await wiring.target(target)), budget: memoryDeletionBudget() };

    // Act
    await retention.run({ action: 'retention' }, deps);

    // Assert
    const left = ((await hubS3().send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? [])
      .map((o) => o.Key!)
      .sort();
    expect(left).toEqual(
      [...DAYS.map((d) => dumpKey(hub.instance, d)), dumpKey(member.instance, DAYS[2]!), handMade].sort(),
    );
    expect(notifier.sent[0]!.lines.join('\n')).not.toContain('Target not resolved');
  });
});
