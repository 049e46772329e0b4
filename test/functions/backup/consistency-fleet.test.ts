import {
  CreateSnapshotsCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { RDSClient } from '@aws-sdk/client-rds';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import {
  GetCommandInvocationCommand,
  SendCommandCommand,
  type SendCommandCommandInput,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  DescribeOrganizationCommand,
  ListAccountsForParentCommand,
  ListChildrenCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { fleetWiring, run } from '../../../functions/backup/handler.js';
import { s3Client } from '../../../shared/aws/clients/s3.js';
import { ssmClient } from '../../../shared/aws/clients/ssm.js';
import { consistencyDocumentName } from '../../../infra/consistency.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { fanOutTargets } from '../../../shared/fleet/fan-out.js';
import { runFleetEvent } from '../../../shared/fleet/child.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { atPlace, type BaseDeps } from '../../../shared/runtime.js';
import { Tag } from '../../../shared/tags.js';
import { FLEET_CONFIG, mongoConsistency } from '../../support/fleet.js';

// Application consistency in a spoke target, through the backup handler's real fleet wiring (SDK mocked): the
// fan-out child of a spoke assumes the spoke backup role and sends the pre and post commands to the spoke's
// own copy of steward's document (the stage's name), in the target's region, signed with the spoke's
// credentials, around the snapshot set; the hub's own child runs them with the hub's credentials as before.
const sts = mockClient(STSClient);
const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const s3 = mockClient(S3Client);
const rds = mockClient(RDSClient);
const cache = mockClient(ElastiCacheClient);
const tagging = mockClient(ResourceGroupsTaggingAPIClient);
const org = mockClient(OrganizationsClient);

const HUB = '111111111111';
const SPOKE = '222222222222';
const INSTANCE = 'i-0abc1234def567890';
const config = parseConfig(
  {
    ...FLEET_CONFIG,
    backup: { policies: { mongo: mongoConsistency() } },
  },
  'fleet',
);
const DOCUMENT = consistencyDocumentName('prod');
// What the hub stack's construct sets (infra/backup.ts): the one name the spoke stack deploys too.
const env = { CONSISTENCY_DOCUMENT: DOCUMENT };
const SCHEDULED = '2026-01-15T03:00:00Z';

/** The fan-out child of `account` in `region`, as the Map hands it over (its role, none for the hub). */
const targetOf = (account: string, region: string) =>
  fanOutTargets(config, 'backup').find((t) => t.account === account && t.region === region)!;

let order: string[];
let n = 0;
beforeEach(() => {
  for (const m of [sts, ec2, ssm, s3, rds, cache, tagging, org]) m.reset();
  rds.onAnyCommand().resolves({});
  cache.onAnyCommand().resolves({});
  tagging.onAnyCommand().resolves({});
  order = [];
  sts.on(AssumeRoleCommand).callsFake(() => ({
    Credentials: {
      AccessKeyId: `AKIASPOKE${++n}`,
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(Date.now() + 3600_000),
    },
  }));
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: INSTANCE,
            State: { Name: 'running' },
            Tags: [{ Key: Tag.backup, Value: 'mongo' }],
            BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-root' } }],
          },
        ],
      },
    ],
  });
  ec2.on(DescribeVolumesCommand).resolves({ Volumes: [] });
  ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  ec2.on(CreateSnapshotsCommand).callsFake(() => {
    order.push('snapshot');
    return { Snapshots: [{ SnapshotId: 'snap-1', VolumeId: 'vol-root' }] };
  });
  ssm.on(SendCommandCommand).callsFake((input: SendCommandCommandInput) => {
    const phase = input.Parameters!.Phase![0]!;
    order.push(phase);
    return { Command: { CommandId: `cmd-${phase}` } };
  });
  ssm.on(GetCommandInvocationCommand).resolves({ Status: 'Success' });
  s3.on(PutObjectTaggingCommand).resolves({});
});

const backUp = (account: string, region: string, notifier = memoryNotifier()) => {
  const base = (): BaseDeps => ({ config, dryRun: false, notifier, now: () => new Date() });
  return runFleetEvent(
    {
      action: 'scheduled-backup',
      policy: 'mongo',
      scheduledTime: SCHEDULED,
      target: targetOf(account, region),
    },
    fleetWiring(base, env),
    (e, d) => run(e, atPlace(d, e), { requestId: 'req-1' }),
  );
};

const sent = () => ssm.commandCalls(SendCommandCommand).map((c) => c.args[0].input);

describe('application consistency in a spoke target (backup handler, fleet wiring)', () => {
  it("sends the pre and post commands to the spoke's document with the spoke role, in the target's region", async () => {
    // Act
    await backUp(SPOKE, 'eu-central-1');

    // Assert: the spoke role assumed, the dump, freeze, snapshot set and thaw in that order
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: `arn:aws:iam::${SPOKE}:role/steward-prod-spoke-backup-eu-central-1`,
      ExternalId: 'steward-prod-fleet',
    });
    expect(order).toEqual(['dump', 'pre', 'snapshot', 'post']);
    for (const input of sent())
      expect(input).toMatchObject({ DocumentName: DOCUMENT, InstanceIds: [INSTANCE], TimeoutSeconds: 30 });
    expect(sent().map((i) => i.Parameters!.Command)).toEqual([
      ['mongodump --archive'],
      ['fsfreeze -f /data'],
      ['fsfreeze -u /data'],
    ]);
    for (const call of [
      ...ssm.commandCalls(SendCommandCommand),
      ...ssm.commandCalls(GetCommandInvocationCommand),
    ]) {
      const client = call.thisValue as SSMClient;
      expect(await client.config.region()).toBe('eu-central-1');
      expect((await client.config.credentials()).accessKeyId).toMatch(/^AKIASPOKE/);
    }
    // The snapshot set is the spoke's too.
    const create = ec2.commandCalls(CreateSnapshotsCommand)[0]!.thisValue as EC2Client;
    expect((await create.config.credentials()).accessKeyId).toMatch(/^AKIASPOKE/);
  });

  it("tags the spoke instance's dump in the stage's bucket with the hub's own identity, in the hub's region", async () => {
    // Act
    await backUp(SPOKE, 'eu-central-1');

    // Assert
    const [tagging] = s3.commandCalls(PutObjectTaggingCommand);
    expect(tagging!.args[0].input).toMatchObject({
      Bucket: 'team-dumps',
      Key: expect.stringMatching(new RegExp(`^steward/mongo/${INSTANCE}/.+\\.dump$`)),
    });
    // The instance's account and region: retention keeps the dump with that target's overrides.
    expect(tagging!.args[0].input.Tagging?.TagSet).toEqual(
      expect.arrayContaining([
        { Key: 'steward:account', Value: SPOKE },
        { Key: 'steward:region', Value: 'eu-central-1' },
      ]),
    );
    // The container's client of the function's own identity in the hub's region (shared/aws/clients/kit.ts memoizes it).
    expect(tagging!.thisValue).toBe(s3Client('eu-west-1'));
  });

  it("runs them in the hub's own account-region with the hub's own credentials, assuming no role", async () => {
    // Act
    await backUp(HUB, 'eu-west-1');

    // Assert
    expect(sts).not.toHaveReceivedCommand(AssumeRoleCommand);
    expect(order).toEqual(['dump', 'pre', 'snapshot', 'post']);
    for (const call of ssm.commandCalls(SendCommandCommand))
      expect(call.thisValue).toBe(ssmClient('eu-west-1'));
  });

  it('names the account, region, instance and command when the thaw cannot be sent, after retrying it once', async () => {
    // Prepare: the spoke role may not send the post command (a stale spoke stack, an SCP)
    ssm.on(SendCommandCommand).callsFake((input: SendCommandCommandInput) => {
      const phase = input.Parameters!.Phase![0]!;
      order.push(phase);
      if (phase === 'post')
        throw Object.assign(new Error('not authorized to perform ssm:SendCommand'), {
          name: 'AccessDeniedException',
        });
      return { Command: { CommandId: `cmd-${phase}` } };
    });
    const notifier = memoryNotifier();

    // Act
    const outcome = await backUp(SPOKE, 'eu-central-1', notifier).then(
      (r) => ({ ok: true as const, r }),
      (e: unknown) => ({ ok: false as const, error: String(e) }),
    );

    // Assert: thawed twice (one retry), and the failure says where, which instance and which command
    expect(order).toEqual(['dump', 'pre', 'snapshot', 'post', 'post']);
    expect(outcome).toEqual({
      ok: false,
      error: expect.stringMatching(
        new RegExp(`Target ${SPOKE} eu-central-1 .*${INSTANCE}: snapshot set taken, but post command error`),
      ),
    });
    const [alert] = notifier.sent;
    expect(alert).toMatchObject({ severity: 'critical', place: { account: SPOKE, region: 'eu-central-1' } });
    expect(alert!.lines.join('\n')).toMatch(
      new RegExp(
        `FAILED create-snapshot ${INSTANCE}: .*post command error \\(SendCommand failed for ${INSTANCE}`,
      ),
    );
  });
});

// An account listed from an OU target: the child knows which targets it came from (`index`, `inherits`), and
// the dump says so (`steward:ou`), so the hub's retention applies those targets' overrides without listing the
// organization again. The items come from the cycle's real listing step (Organizations mocked).
describe('the dump of an account listed from an organizational unit names it (steward:ou)', () => {
  const OU = 'ou-ab12-cd34ef56';
  const LISTED = '444444444444';
  const listed = async () => {
    // The OU holds 444444444444 and the account target 333333333333; the management account is elsewhere.
    org.on(ListAccountsForParentCommand, { ParentId: OU }).resolves({
      Accounts: [LISTED, '333333333333'].map((Id) => ({ Id, State: 'ACTIVE' as const })),
    });
    org.on(ListChildrenCommand).resolves({ Children: [] });
    org.on(DescribeOrganizationCommand).resolves({ Organization: { MasterAccountId: '999999999999' } });
    const base = (): BaseDeps => ({
      config,
      dryRun: false,
      notifier: memoryNotifier(),
      now: () => new Date(),
    });
    const wiring = fleetWiring(base, env);
    const items = (await runFleetEvent(
      { action: 'fan-out-targets', capability: 'backup', partition: 'aws', event: {} },
      wiring,
      run,
    )) as { targets: { target: ReturnType<typeof targetOf> }[] };
    return { wiring, targets: items.targets.map((i) => i.target) };
  };
  const tagsOfDump = () =>
    Object.fromEntries(
      (s3.commandCalls(PutObjectTaggingCommand)[0]!.args[0].input.Tagging?.TagSet ?? []).map((t) => [
        t.Key,
        t.Value,
      ]),
    );
  const backUpIn = async (account: string, region: string) => {
    const { wiring, targets } = await listed();
    const target = targets.find((t) => t.account === account && t.region === region)!;
    await runFleetEvent(
      { action: 'scheduled-backup', policy: 'mongo', scheduledTime: SCHEDULED, target },
      wiring,
      (e, d) => run(e, atPlace(d, e), { requestId: 'req-1' }),
    );
    return target;
  };

  it('tags the dump of an account the OU listed with its OU id, beside its account and region', async () => {
    // Act
    const target = await backUpIn(LISTED, 'eu-central-1');

    // Assert: the child ran as the OU target (targets[3]) with the spoke role, and its dump names the OU
    expect(target).toMatchObject({ index: 3, account: LISTED });
    expect(target.inherits).toBeUndefined();
    expect(tagsOfDump()).toMatchObject({
      [Tag.account]: LISTED,
      [Tag.region]: 'eu-central-1',
      [Tag.ou]: OU,
      [Tag.managed]: 'true',
    });
  });

  it('tags an account that is both an account target and in the OU with the OU it inherits', async () => {
    // Act
    const target = await backUpIn('333333333333', 'eu-west-1');

    // Assert: its own target (targets[2]) last, the OU's overrides under it
    expect(target).toMatchObject({ index: 2, inherits: [3] });
    expect(tagsOfDump()).toMatchObject({ [Tag.account]: '333333333333', [Tag.ou]: OU });
  });

  it('writes no steward:ou for an account target alone, nor for the hub outside a fan-out', async () => {
    // Act
    await backUpIn(SPOKE, 'eu-central-1');
    const spoke = tagsOfDump();
    s3.resetHistory();
    await runFleetEvent(
      { action: 'scheduled-backup', policy: 'mongo', scheduledTime: SCHEDULED },
      fleetWiring(() => ({ config, dryRun: false, notifier: memoryNotifier(), now: () => new Date() }), env),
      (e, d) => run(e, atPlace(d, e), { requestId: 'req-1' }),
    );

    // Assert
    expect(spoke[Tag.ou]).toBeUndefined();
    expect(tagsOfDump()[Tag.ou]).toBeUndefined();
    expect(tagsOfDump()[Tag.account]).toBe(HUB);
  });
});
