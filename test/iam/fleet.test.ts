import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config/schema.js';
import { fanOutTargets } from '../../shared/fleet/fan-out.js';
import { spokeRoleName } from '../../shared/fleet/targets.js';
import { SCALING_FLEET_CONFIG } from '../support/fleet.js';
import { deployFleet, EXTERNAL_ID, fromOrg, HUB, ORG, REGION, WORKLOAD } from './fleet-deployment.js';
import { simulate } from './simulate.js';
import { type PolicyDocument, type PolicyStatement, resolver, type RoleUnderTest } from './template.js';

// The cross-account assume chain of the fleet, simulated: a hub function's role assumes its own spoke role
// in a workload account (identity policy in the hub, trust policy in the spoke), and nothing else does.
const OU_MEMBER = '444444444444';

let hubRoles: Map<string, RoleUnderTest>;
let failureQueueArn: string;
let spokeTrust: Map<string, PolicyDocument>;
let spokeBackup: RoleUnderTest;
let spokeScaling: RoleUnderTest;

beforeAll(() => {
  const d = deployFleet(SCALING_FLEET_CONFIG, 'fleet');
  hubRoles = d.hubRoles;
  const queueId = Object.entries(d.hubTemplate.Resources).find(
    ([, r]) => r.Type === 'AWS::SQS::Queue' && r.Properties?.QueueName === 'steward-prod-failures',
  )![0];
  failureQueueArn = resolver(d.hubTemplate, HUB, REGION).getAtt(queueId, 'Arn');
  const roles = d.spokeRoles;
  spokeBackup = [...roles.values()].find((r) => r.arn.includes('spoke-backup-'))!;
  spokeScaling = [...roles.values()].find((r) => r.arn.includes('spoke-scaling-'))!;
  spokeTrust = new Map(
    ['backup', 'retention', 'scaling'].map((capability) => {
      const id = Object.entries(d.spokeTemplate.Resources).find(
        ([, r]) =>
          r.Type === 'AWS::IAM::Role' &&
          JSON.stringify(r.Properties?.RoleName).includes(`spoke-${capability}-`),
      )![0];
      return [capability, roles.get(id)!.trust];
    }),
  );
});

type Capability = 'backup' | 'retention' | 'scaling';

const spokeArn = (capability: Capability, account = WORKLOAD) =>
  `arn:aws:iam::${account}:role/${spokeRoleName('prod', capability, REGION)}`;

const assume = (
  principal: string,
  policy: PolicyDocument,
  capability: Capability,
  context: Record<string, string>,
  account = WORKLOAD,
) =>
  simulate(
    principal,
    policy,
    {
      action: 'sts:AssumeRole',
      resource: spokeArn(capability, account),
      context,
      resourcePolicy: spokeTrust.get(capability)!,
      label: `AssumeRole ${capability} spoke`,
    },
    HUB,
    REGION,
  );

describe('the fleet assume chain', () => {
  it.each(['backup', 'retention', 'scaling'] as const)(
    'lets the hub %s role assume its spoke role in a workload account',
    async (capability) => {
      const hub = hubRoles.get(capability)!;
      const v = await assume(hub.arn, hub.policy, capability, fromOrg);
      expect(v.decision).toBe('Allowed');
    },
  );

  it('lets the hub role assume its spoke role in an account of the OU target, by organization', async () => {
    const hub = hubRoles.get('backup')!;
    const ok = await assume(
      hub.arn,
      hub.policy,
      'backup',
      { ...fromOrg, 'aws:ResourceOrgID': ORG },
      OU_MEMBER,
    );
    const elsewhere = await assume(
      hub.arn,
      hub.policy,
      'backup',
      { ...fromOrg, 'aws:ResourceOrgID': 'o-zzzzzzzzzz' },
      OU_MEMBER,
    );
    expect(ok.decision).toBe('Allowed');
    expect(elsewhere.decision).toBe('ImplicitlyDenied');
  });

  it('refuses the other hub function: retention cannot act as the backup spoke, nor backup as retention', async () => {
    const retention = hubRoles.get('retention')!;
    const backup = hubRoles.get('backup')!;
    expect((await assume(retention.arn, retention.policy, 'backup', fromOrg)).decision).toBe(
      'ImplicitlyDenied',
    );
    expect((await assume(backup.arn, backup.policy, 'retention', fromOrg)).decision).toBe('ImplicitlyDenied');
  });

  it('refuses the other hub functions the spoke scaling role, and the scaling role the others', async () => {
    const scaling = hubRoles.get('scaling')!;
    const verdicts = await Promise.all([
      assume(hubRoles.get('backup')!.arn, hubRoles.get('backup')!.policy, 'scaling', fromOrg),
      assume(hubRoles.get('retention')!.arn, hubRoles.get('retention')!.policy, 'scaling', fromOrg),
      assume(scaling.arn, scaling.policy, 'backup', fromOrg),
      assume(scaling.arn, scaling.policy, 'retention', fromOrg),
    ]);
    expect(verdicts.map((v) => v.decision)).toEqual(verdicts.map(() => 'ImplicitlyDenied'));
  });

  it('refuses any other principal of the hub account, even one allowed sts:AssumeRole everywhere', async () => {
    const anyAssume: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
    };
    const other = `arn:aws:iam::${HUB}:role/developer`;
    expect((await assume(other, anyAssume, 'backup', fromOrg)).decision).toBe('ImplicitlyDenied');
    // The trust alone is what refuses it: the same policy as the hub role's name is allowed.
    const hub = hubRoles.get('backup')!;
    expect((await assume(hub.arn, anyAssume, 'backup', fromOrg)).decision).toBe('Allowed');
  });

  it('refuses the hub role without the external id, or from outside the organization', async () => {
    const hub = hubRoles.get('backup')!;
    const noExternalId = await assume(hub.arn, hub.policy, 'backup', { 'aws:PrincipalOrgID': ORG });
    const otherOrg = await assume(hub.arn, hub.policy, 'backup', {
      'aws:PrincipalOrgID': 'o-zzzzzzzzzz',
      'sts:ExternalId': EXTERNAL_ID,
    });
    expect(noExternalId.decision).toBe('ImplicitlyDenied');
    expect(otherOrg.decision).toBe('ImplicitlyDenied');
  });
  it.each(['backup', 'retention', 'scaling'] as const)(
    "lets the hub %s role assume the role of every child the fan-out starts, and no other account's",
    async (capability) => {
      // Prepare: what the state machine hands each child (infra/fan-out.ts renders these items)
      const config = parseConfig(SCALING_FLEET_CONFIG, 'fleet');
      const hub = hubRoles.get(capability)!;
      const children = fanOutTargets(config, capability).filter((t) => t.roleArn);
      // Act
      const verdicts = await Promise.all(
        children.map((t) =>
          simulate(
            hub.arn,
            hub.policy,
            {
              action: 'sts:AssumeRole',
              resource: t.roleArn!,
              context: { ...fromOrg, 'sts:ExternalId': t.externalId! },
              // The spoke template's trust, the same in every account and region it deploys to.
              resourcePolicy: spokeTrust.get(capability)!,
              label: `AssumeRole ${t.account} ${t.region}`,
            },
            HUB,
            REGION,
          ),
        ),
      );
      const stranger = await simulate(
        hub.arn,
        hub.policy,
        {
          action: 'sts:AssumeRole',
          resource: spokeArn(capability, '999999999999'),
          context: fromOrg,
          // Even where a spoke would trust it, the hub role may not ask: its own policy names the targets.
          resourcePolicy: spokeTrust.get(capability)!,
          label: 'AssumeRole outside the targets',
        },
        HUB,
        REGION,
      );
      // Assert
      expect(children.map((t) => `${t.account} ${t.region}`)).toEqual([
        '222222222222 eu-west-1',
        '222222222222 eu-central-1',
        '333333333333 eu-west-1',
      ]);
      expect(verdicts.map((v) => v.decision)).toEqual(children.map(() => 'Allowed'));
      expect(stranger.decision).toBe('ImplicitlyDenied');
    },
  );
});

// DR copies from a spoke: the spoke backup role re-encrypts with its own account's DR key (the spoke DR
// stack's, default key policy: the account's IAM decides), through RDS in the DR region, named by alias.
describe('the spoke DR key', () => {
  const DR = 'us-west-2';
  const via = { 'kms:ViaService': `rds.${DR}.amazonaws.com`, 'kms:GrantIsForAWSResource': 'true' };
  const grant = (resource: string, context: Record<string, string | string[]>) =>
    simulate(
      spokeBackup.arn,
      spokeBackup.policy,
      {
        action: 'kms:CreateGrant',
        resource,
        context,
        resourcePolicy: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'DefaultKeyPolicyDelegatesToIam',
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${resource.split(':')[4]}:root` },
              Action: 'kms:*',
              Resource: '*',
            } as PolicyStatement,
          ],
        },
        label: 'CopyDBSnapshot → kms:CreateGrant (DR key)',
      },
      WORKLOAD,
      DR,
    );
  const ownKey = `arn:aws:kms:${DR}:${WORKLOAD}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`;

  it("lets the spoke backup role have RDS use its own account's DR key", async () => {
    const v = await grant(ownKey, { ...via, 'kms:ResourceAliases': ['alias/steward-prod-spoke-dr'] });
    expect(v.decision).toBe('Allowed');
  });

  it("refuses another key of the account, the key outside RDS, and the hub's DR key", async () => {
    const other = await grant(ownKey, { ...via, 'kms:ResourceAliases': ['alias/team-key'] });
    const direct = await grant(ownKey, {
      'kms:ResourceAliases': ['alias/steward-prod-spoke-dr'],
      'kms:GrantIsForAWSResource': 'false',
    });
    const hubKey = await grant(`arn:aws:kms:${DR}:${HUB}:key/3f7a0c1e-aaaa-bbbb-cccc-0123456789ab`, via);
    expect([other.decision, direct.decision, hubKey.decision]).toEqual([
      'ImplicitlyDenied',
      'ImplicitlyDenied',
      'ImplicitlyDenied',
    ]);
  });
});

// Scaling in a spoke: the spoke scaling role may do exactly what the hub scaling function may in its own
// account (the same statements), in the spoke's account and region only.
describe('the spoke scaling role', () => {
  const act = (action: string, resource: string, context: Record<string, string | string[]> = {}) =>
    simulate(
      spokeScaling.arn,
      spokeScaling.policy,
      { action, resource, context, label: `${action} ${resource}` },
      WORKLOAD,
      resource.split(':')[3] || REGION,
    );
  const db = (id: string, region = REGION) => `arn:aws:rds:${region}:${WORKLOAD}:db:${id}`;

  it("changes a rule's database to a class of its ladder, and nothing else", async () => {
    const up = await act('rds:ModifyDBInstance', db('billing'), { 'rds:DatabaseClass': 'db.r6g.xlarge' });
    const offLadder = await act('rds:ModifyDBInstance', db('billing'), {
      'rds:DatabaseClass': 'db.r6g.4xlarge',
    });
    const otherDb = await act('rds:ModifyDBInstance', db('payments'), {
      'rds:DatabaseClass': 'db.r6g.xlarge',
    });
    expect([up.decision, offLadder.decision, otherDb.decision]).toEqual([
      'Allowed',
      'ImplicitlyDenied',
      'ImplicitlyDenied',
    ]);
  });

  it('deletes only its own tagged replicas, and acts in no other region', async () => {
    const own = await act('rds:DeleteDBInstance', db('orders-replica-1'), {
      'rds:db-tag/steward:managed': 'true',
    });
    const untagged = await act('rds:DeleteDBInstance', db('orders-replica-1'));
    const source = await act('rds:DeleteDBInstance', db('orders'), { 'rds:db-tag/steward:managed': 'true' });
    const elsewhere = await act('rds:ModifyDBInstance', db('billing', 'us-east-1'), {
      'rds:DatabaseClass': 'db.r6g.xlarge',
    });
    expect(own.decision).toBe('Allowed');
    expect([untagged.decision, source.decision]).toEqual(['ImplicitlyDenied', 'ImplicitlyDenied']);
    expect(elsewhere.decision).not.toBe('Allowed');
  });
});

// The scale-in check's fan-out (infra/fan-out.ts for scaling): its scheduler starts only the scaling
// fan-out, its state machine invokes only the scaling function, and the scaling function's summary reads
// only its own Map Runs' export.
describe('the scaling fan-out', () => {
  const BUCKET = `arn:aws:s3:::steward-prod-reports-${HUB}-${REGION}`;
  const role = (prefix: string) => [...hubRoles].find(([id]) => id.startsWith(prefix))![1];
  const may = (r: RoleUnderTest, action: string, resource: string) =>
    simulate(r.arn, r.policy, { action, resource, context: {}, label: `${action} ${resource}` }, HUB, REGION);
  const fn = (name: string) => `arn:aws:lambda:${REGION}:${HUB}:function:steward-prod-${name}`;
  const machine = (name: string) => `arn:aws:states:${REGION}:${HUB}:stateMachine:steward-prod-${name}-fleet`;

  it("lets the scaling function read its own Map Runs' export, and no other capability's", async () => {
    const scaling = hubRoles.get('scaling')!;
    const key = 'fleet/scaling/8f1c/manifest.json';
    const verdicts = await Promise.all([
      may(scaling, 's3:GetObject', `${BUCKET}/${key}`),
      may(scaling, 's3:GetObject', `${BUCKET}/fleet/backup/8f1c/manifest.json`),
      may(scaling, 's3:GetObject', `${BUCKET}/runs/backup/2026-01-15/x.json`),
      may(scaling, 's3:PutObject', `${BUCKET}/${key}`),
    ]);
    expect(verdicts.map((v) => v.decision)).toEqual([
      'Allowed',
      'ImplicitlyDenied',
      'ImplicitlyDenied',
      'ImplicitlyDenied',
    ]);
  });

  it('lets its state machine invoke only the scaling function, and its scheduler start only it', async () => {
    const sm = role('ScalingFleetStateMachineRole');
    const scheduler = role('ScalingFleetSchedulerRole');
    const verdicts = await Promise.all([
      may(sm, 'lambda:InvokeFunction', fn('scaling')),
      may(sm, 'lambda:InvokeFunction', fn('backup')),
      may(scheduler, 'states:StartExecution', machine('scaling')),
      may(scheduler, 'states:StartExecution', machine('backup')),
    ]);
    expect(verdicts.map((v) => v.decision)).toEqual([
      'Allowed',
      'ImplicitlyDenied',
      'Allowed',
      'ImplicitlyDenied',
    ]);
  });

  // A summary that failed parks its cycle in the stage's failure queue, sent by the state machine itself
  // (infra/fan-out.ts, ParkSummaryFailure): SendMessage to that queue, and to no other.
  it.each(['Scaling', 'Backup', 'Retention'])(
    "lets the %s fan-out's state machine park a failed summary in the stage's failure queue only",
    async (capability) => {
      const sm = role(`${capability}FleetStateMachineRole`);
      const verdicts = await Promise.all([
        may(sm, 'sqs:SendMessage', failureQueueArn),
        may(sm, 'sqs:SendMessage', `arn:aws:sqs:${REGION}:${HUB}:orders-queue`),
        may(sm, 'sqs:ReceiveMessage', failureQueueArn),
        may(sm, 'sqs:DeleteMessage', failureQueueArn),
      ]);
      expect(verdicts.map((v) => v.decision)).toEqual([
        'Allowed',
        'ImplicitlyDenied',
        'ImplicitlyDenied',
        'ImplicitlyDenied',
      ]);
    },
  );

  // The Map Run starts each EXPRESS child as an execution of this state machine: StartExecution on itself
  // (the Developer Guide's "IAM policies for using Distributed Map states", for either child type); the
  // synchronous StartSyncExecution is an API for callers that wait on an Express machine, not granted.
  it("lets its state machine start its own Express children only, and no other machine's", async () => {
    const sm = role('ScalingFleetStateMachineRole');
    const verdicts = await Promise.all([
      may(sm, 'states:StartExecution', machine('scaling')),
      may(sm, 'states:StartExecution', machine('backup')),
      may(sm, 'states:StartSyncExecution', machine('scaling')),
    ]);
    expect(verdicts.map((v) => v.decision)).toEqual(['Allowed', 'ImplicitlyDenied', 'ImplicitlyDenied']);
  });
});

// Two source regions of one account share their DR region's copy slots, an item of the hub's state table
// under the copy queues' prefix: the hub backup role reads and writes it with its own credentials for every
// child; the spoke backup role, which the children sign their RDS calls with, has no access to the table.
describe('the shared DR copy slots', () => {
  const TABLE = `arn:aws:dynamodb:${REGION}:${HUB}:table/steward-prod-state`;
  const key = { 'dynamodb:LeadingKeys': ['dr-copies#slots#222222222222#us-west-2'] };
  const item = (r: RoleUnderTest, action: string, account: string, context = key) =>
    simulate(
      r.arn,
      r.policy,
      { action, resource: TABLE, context, label: `${action} slots` },
      account,
      REGION,
    );

  it('lets the hub backup role read and write them, and nothing outside the copy queues', async () => {
    const backup = hubRoles.get('backup')!;
    const verdicts = await Promise.all([
      item(backup, 'dynamodb:GetItem', HUB),
      item(backup, 'dynamodb:PutItem', HUB),
      item(backup, 'dynamodb:PutItem', HUB, { 'dynamodb:LeadingKeys': ['scaling-alarm#x'] }),
    ]);
    expect(verdicts.map((v) => v.decision)).toEqual(['Allowed', 'Allowed', 'ImplicitlyDenied']);
  });

  it('gives the spoke backup role no access to them', async () => {
    expect((await item(spokeBackup, 'dynamodb:PutItem', WORKLOAD)).decision).not.toBe('Allowed');
  });
});
