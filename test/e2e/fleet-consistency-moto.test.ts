import { DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, GetObjectTaggingCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ListCommandsCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { AwsCredentialIdentity } from '@smithy/types';
import { beforeAll, describe, expect, it } from 'vitest';
import * as backup from '../../functions/backup/handler.js';
import { consistencyDocumentName } from '../../infra/consistency.js';
import { parseConfig } from '../../shared/config/schema.js';
import { fanOutTargets } from '../../shared/fleet/fan-out.js';
import { runFleetEvent } from '../../shared/fleet/child.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import type { BaseDeps } from '../../shared/runtime.js';
import { Tag, tagRecord } from '../../shared/tags.js';
import { mongoConsistency } from '../support/fleet.js';
import { consistentMotoInstance, motoCredentials } from '../support/fleet-moto.js';
import { useMotoEnvironment } from '../support/moto.js';

// Application consistency across a fleet, over real HTTP against moto: a hub (moto's default account) and a
// workload account in two regions, each with an instance tagged for a consistent policy and steward's document
// as the hub and spoke stacks deploy it (same name, same content). The backup fan-out's children send the dump,
// pre and post commands to their own account-region's document with the credentials moto's STS hands out for
// the spoke role, and the hub tags each dump in its bucket. moto records commands per account and region (by
// the request's credentials) and reports every invocation Success at once; it runs no script and evaluates no
// policy (the IAM suite simulates the grants; the script runs under sh in test/shared/backup).
const HUB = '123456789012';
const WORKLOAD = '222222222222';
const REGIONS = ['eu-west-1', 'eu-central-1'];
// The full IAM config's dump bucket: the IAM suite simulates the recorded tagging against its backup role.
const BUCKET = 'team-dumps';
const SCHEDULED = '2026-01-15T03:00:00Z';
const DOCUMENT = consistencyDocumentName('fleet');

const config = parseConfig(
  {
    stage: 'fleet',
    account: HUB,
    region: 'eu-west-1',
    fleet: { externalId: 'steward-fleet-e2e' },
    backup: { policies: { mongo: mongoConsistency(BUCKET, { retention: 'standard' }) } },
    retention: { includeDrRegion: false, policies: { standard: { daily: 7 } } },
    targets: [{}, { account: WORKLOAD, regions: REGIONS }],
  },
  'fleet-consistency-e2e',
);
const base = (): BaseDeps => ({ config, dryRun: false, notifier: memoryNotifier(), now: () => new Date() });

interface Place {
  account: string;
  region: string;
  credentials?: AwsCredentialIdentity;
  instance: string;
}

describe('application consistency in a fleet, against an emulated AWS over real HTTP', () => {
  useMotoEnvironment('eu-west-1');
  const places: Place[] = [
    { account: HUB, region: 'eu-west-1', instance: '' },
    ...REGIONS.map((region) => ({ account: WORKLOAD, region, instance: '' })),
  ];
  const ec2 = (p: Place) =>
    new EC2Client({ region: p.region, ...(p.credentials && { credentials: p.credentials }) });
  const ssm = (p: Place) =>
    new SSMClient({ region: p.region, ...(p.credentials && { credentials: p.credentials }) });
  const hubS3 = () => new S3Client({ region: 'eu-west-1' });
  const dumpKey = (instance: string) =>
    `steward/mongo/${instance}/steward-${instance}-202601150300-sched.dump`;

  beforeAll(async () => {
    await hubS3().send(
      new CreateBucketCommand({
        Bucket: BUCKET,
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    );
    for (const p of places) {
      if (p.account !== HUB) p.credentials = await motoCredentials(p.account);
      p.instance = await consistentMotoInstance(
        { region: p.region, ...(p.credentials && { credentials: p.credentials }) },
        DOCUMENT,
        'mongo',
      );
      // The instance's dump, as its instance profile streams it to the stage's bucket (moto runs no script).
      await hubS3().send(new PutObjectCommand({ Bucket: BUCKET, Key: dumpKey(p.instance), Body: 'dump' }));
    }
  });

  it("runs each target's commands on its own instance, through its own account-region's document", async () => {
    // Prepare
    const targets = fanOutTargets(config, 'backup');
    const wiring = backup.fleetWiring(base, { CONSISTENCY_DOCUMENT: DOCUMENT });

    // Act: what each child of the Map runs
    for (const target of targets)
      await runFleetEvent(
        { action: 'scheduled-backup', policy: 'mongo', scheduledTime: SCHEDULED, target },
        wiring,
        backup.run,
      );

    // Assert: one child per place, each place's commands on its own instance only, in order
    expect(targets.map((t) => `${t.account} ${t.region}`)).toEqual(
      places.map((p) => `${p.account} ${p.region}`),
    );
    expect(targets.filter((t) => t.roleArn).map((t) => t.roleArn)).toEqual(
      REGIONS.map((r) => `arn:aws:iam::${WORKLOAD}:role/steward-fleet-spoke-backup-${r}`),
    );
    for (const p of places) {
      const commands = (await ssm(p).send(new ListCommandsCommand({}))).Commands ?? [];
      expect(
        commands.map((c) => [c.DocumentName, c.InstanceIds, c.Parameters?.Phase, c.Parameters?.Command]),
        `${p.account} ${p.region}`,
      ).toEqual([
        [DOCUMENT, [p.instance], ['dump'], ['mongodump --archive']],
        [DOCUMENT, [p.instance], ['pre'], ['fsfreeze -f /data']],
        [DOCUMENT, [p.instance], ['post'], ['fsfreeze -u /data']],
      ]);
      // The snapshot set is there, of that instance, in that account.
      const sets = ((await ec2(p).send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots ?? [])
        .map((s) => tagRecord(s.Tags))
        .filter((t) => t[Tag.set] !== undefined);
      expect(sets.map((t) => t[Tag.source])).toEqual([p.instance]);
    }
  });

  it("tags every place's dump in the stage's bucket as steward's, with the instance's account and region", async () => {
    for (const p of places) {
      const { TagSet } = await hubS3().send(
        new GetObjectTaggingCommand({ Bucket: BUCKET, Key: dumpKey(p.instance) }),
      );
      expect(tagRecord(TagSet)).toMatchObject({
        [Tag.managed]: 'true',
        [Tag.policy]: 'mongo',
        [Tag.source]: p.instance,
        [Tag.kind]: 'dump',
        // Where the instance is: retention keeps the dump with that target's overrides.
        [Tag.account]: p.account,
        [Tag.region]: p.region,
      });
    }
  });
});
