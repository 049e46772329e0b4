import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { FleetBus } from '../../infra/fleet.js';
import {
  SpokeDrStack,
  spokeDrStackId,
  spokeDrTemplate,
  SpokeStack,
  spokeStackId,
  SpokeStackSetStack,
  spokeStackSetStackId,
  spokeTemplate,
} from '../../infra/spoke.js';
import { stackId, StewardStack } from '../../infra/stack.js';
import { parseConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import { loadExample } from '../support/examples.js';
import { SCALING_FLEET_CONFIG } from '../support/fleet.js';
import { statements, unbundledContext } from './iam.js';

let hub: Template;
let hubStack: StewardStack;
let spoke: Template;
let spokeStack: SpokeStack;
let stackSet: Template;
let spokeDrStack: SpokeDrStack;
let spokeDr: Template;
const config = parseConfig(SCALING_FLEET_CONFIG, 'fleet');

beforeAll(() => {
  const app = new App({ context: unbundledContext });
  hubStack = new StewardStack(app, stackId('prod'), { config });
  spokeStack = new SpokeStack(app, spokeStackId('prod'), { config });
  const setStack = new SpokeStackSetStack(app, spokeStackSetStackId('prod'), { config });
  spokeDrStack = new SpokeDrStack(app, spokeDrStackId('prod'), { config });
  spokeDr = Template.fromStack(spokeDrStack);
  hub = Template.fromStack(hubStack);
  spoke = Template.fromStack(spokeStack);
  stackSet = Template.fromStack(setStack);
});

const roleOf = (t: Template, name: string) => {
  const [id] = Object.entries(t.findResources('AWS::IAM::Role')).find(([, r]) =>
    JSON.stringify(r.Properties.RoleName ?? '').includes(name),
  )!;
  return id;
};
const sidsOf = (t: Template, roleId: string) =>
  statements(t)
    .filter((s) => JSON.stringify(t.toJSON().Resources[s.policy].Properties.Roles ?? []).includes(roleId))
    .map((s) => `${s.Effect} ${s.Sid}`)
    .sort();

describe('a single-account stage', () => {
  it('has no fleet bus, no named retention role, no AssumeRole grant and no spoke stack', () => {
    // Prepare
    const app = new App({ context: unbundledContext });
    const config = loadExample('staging');
    // Act
    const t = Template.fromStack(new StewardStack(app, stackId('staging'), { config }));
    // Assert
    t.resourceCountIs('AWS::Events::EventBus', 0);
    expect(statements(t).filter((s) => JSON.stringify(s.Action).includes('sts:'))).toEqual([]);
    const named = Object.values(t.findResources('AWS::IAM::Role')).filter((r) => r.Properties.RoleName);
    expect(named).toEqual([]);
    expect(app.node.children.some((c) => c instanceof SpokeStack || c instanceof FleetBus)).toBe(false);
  });

  it('synthesizes the same hub whether targets are left out or spelled as this account, this region', () => {
    const synth = (extra: Partial<StewardConfigInput>) =>
      Template.fromStack(
        new StewardStack(new App({ context: unbundledContext }), stackId('acme'), {
          config: { stage: 'acme', region: 'eu-west-1', ...extra },
        }),
      ).toJSON();
    expect(synth({ targets: [{}] })).toEqual(synth({}));
    expect(synth({ targets: [{ regions: ['eu-west-1'] }] })).toEqual(synth({}));
  });
});

describe('the hub of a fleet', () => {
  it('has a fleet bus that only accounts of the organization may put events on', () => {
    hub.hasResourceProperties('AWS::Events::EventBus', {
      Name: 'steward-prod-fleet',
      Policy: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'SpokesPutEvents',
            Effect: 'Allow',
            Principal: { AWS: '*' },
            Action: 'events:PutEvents',
            Resource: Match.anyValue(),
            Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
          },
        ],
      },
    });
    hub.resourceCountIs('AWS::Events::EventBusPolicy', 0);
  });

  it('names the backup and retention roles and lets each assume only its own spoke role', () => {
    // Assert
    hub.hasResourceProperties('AWS::IAM::Role', { RoleName: 'steward-prod-backup-eu-west-1' });
    hub.hasResourceProperties('AWS::IAM::Role', { RoleName: 'steward-prod-retention-eu-west-1' });
    const assume = statements(hub).filter((s) => s.Action === 'sts:AssumeRole');
    const arns = (sid: string) => assume.filter((s) => s.Sid === sid).map((s) => JSON.stringify(s.Resource));
    expect(arns('AssumeSpokeRolesOfAccounts').join()).toMatch(
      /iam::222222222222:role\/steward-prod-spoke-backup-eu-west-1/,
    );
    expect(arns('AssumeSpokeRolesOfAccounts').join()).toMatch(
      /iam::333333333333:role\/steward-prod-spoke-retention-eu-west-1/,
    );
    const org = assume.filter((s) => s.Sid === 'AssumeSpokeRolesOfOrganization');
    expect(org).toHaveLength(3);
    for (const s of org) {
      expect(s.Condition).toEqual({ StringEquals: { 'aws:ResourceOrgID': 'o-a1b2c3d4e5' } });
      expect(JSON.stringify(s.Resource)).toMatch(
        /iam::\*:role\/steward-prod-spoke-(backup|retention|scaling)-eu-/,
      );
    }
    // Each hub role assumes only its own capability's spoke roles.
    for (const s of assume) {
      const own = JSON.stringify(s.Resource).match(/spoke-(backup|retention|scaling)/g) ?? [];
      expect(new Set(own).size).toBe(1);
    }
  });

  it('passes cdk-nag, fan-out state machines included', () => {
    const report = new AwsSolutionsChecks(hubStack).validateScope(hubStack);
    expect(report.violations.map((v) => `${v.ruleName}: ${JSON.stringify(v.violatingResources)}`)).toEqual(
      [],
    );
  });
});

describe('the spoke', () => {
  it('trusts only its hub role, from the organization and with the external id', () => {
    for (const capability of ['backup', 'retention']) {
      spoke.hasResourceProperties('AWS::IAM::Role', {
        RoleName: { 'Fn::Join': ['', [`steward-prod-spoke-${capability}-`, { Ref: 'AWS::Region' }]] },
        AssumeRolePolicyDocument: {
          Statement: [
            {
              Action: 'sts:AssumeRole',
              Effect: 'Allow',
              Principal: {
                AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111111111111:root']] },
              },
              Condition: {
                ArnEquals: {
                  'aws:PrincipalArn': {
                    'Fn::Join': [
                      '',
                      [
                        'arn:',
                        { Ref: 'AWS::Partition' },
                        `:iam::111111111111:role/steward-prod-${capability}-eu-west-1`,
                      ],
                    ],
                  },
                },
                StringEquals: {
                  'aws:PrincipalOrgID': 'o-a1b2c3d4e5',
                  'sts:ExternalId': 'steward-prod-fleet',
                },
              },
            },
          ],
        },
      });
    }
  });

  it("carries the hub function's own estate statements and guards, built by the same code", () => {
    // Prepare: the hub's statements that act on the estate, not on the hub's own resources
    const hubOnly =
      /Notifications|Report|Records|DrCopyQueue|Maintenance|InvokerRole|AssumeSpoke|Budget|FleetResults|Organization|Logs|Xray|^Allow $/;
    // (statements without a Sid are CDK's own grants: logs, tracing, the failure queue; the hub lists OUs.
    // Redis DR's statements are the estate's too: each spoke exports and copies its own caches)
    const estate = (sids: string[]) =>
      sids.filter((s) => !hubOnly.test(s.split(' ')[1]!) && !s.endsWith(' undefined'));
    // Act
    const hubBackup = estate(sidsOf(hub, roleOf(hub, 'steward-prod-backup-')));
    const hubRetention = estate(sidsOf(hub, roleOf(hub, 'steward-prod-retention-')));
    // Assert
    expect(sidsOf(spoke, roleOf(spoke, 'spoke-backup-'))).toEqual(hubBackup);
    expect(sidsOf(spoke, roleOf(spoke, 'spoke-retention-'))).toEqual(hubRetention);
    expect(hubBackup).toContain('Deny OnlyConfiguredRegions');
    expect(hubRetention).toContain('Deny NeverDeleteHeldDbSnapshots');
  });

  it('points its ARNs at the account and region it is deployed to', () => {
    const deletes = statements(spoke).find((s) => s.Sid === 'DeleteManagedDbSnapshots')!;
    expect(JSON.stringify(deletes.Resource)).toContain('{"Ref":"AWS::Region"}');
    expect(JSON.stringify(deletes.Resource)).toContain('{"Ref":"AWS::AccountId"}');
    expect(JSON.stringify(deletes.Resource)).not.toContain('111111111111');
  });

  it("forwards RDS, snapshot and copy, and Health events to the hub's fleet bus, and holds no function", () => {
    const bus = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':events:eu-west-1:111111111111:event-bus/steward-prod-fleet'],
      ],
    };
    // Database, snapshot and copy, Health, alarm events; and ElastiCache snapshots (the stage keeps Redis DR).
    spoke.resourceCountIs('AWS::Events::Rule', 5);
    for (const source of ['aws.rds', 'aws.health'])
      spoke.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: Match.objectLike({ source: [source] }),
        Targets: [Match.objectLike({ Arn: bus })],
      });
    spoke.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.rds'],
        'detail-type': ['RDS DB Snapshot Event', 'RDS DB Cluster Snapshot Event'],
        detail: Match.objectLike({ EventID: Match.arrayWith(['RDS-EVENT-0060']) }),
      },
    });
    spoke.resourceCountIs('AWS::Lambda::Function', 0);
    expect(spoke.toJSON().Parameters?.BootstrapVersion).toBeUndefined();
  });

  it('passes cdk-nag', () => {
    const report = new AwsSolutionsChecks(spokeStack).validateScope(spokeStack);
    expect(report.violations.map((v) => `${v.ruleName}: ${JSON.stringify(v.violatingResources)}`)).toEqual(
      [],
    );
  });
});

describe('the spokes StackSet', () => {
  it('deploys the spoke template to the OU targets with service-managed permissions and auto-deployment', () => {
    // Prepare
    const config = parseConfig(SCALING_FLEET_CONFIG, 'fleet');
    // Act
    const [set] = Object.values(stackSet.findResources('AWS::CloudFormation::StackSet'));
    // Assert
    expect(set!.Properties).toMatchObject({
      StackSetName: 'steward-prod-spokes',
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      CallAs: 'SELF',
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      StackInstancesGroup: [
        {
          Regions: ['eu-west-1', 'eu-central-1'],
          DeploymentTargets: { OrganizationalUnitIds: ['ou-ab12-cd34ef56'] },
        },
      ],
    });
    expect(JSON.parse(set!.Properties.TemplateBody as string)).toEqual(spoke.toJSON());
    expect(spokeTemplate(config, unbundledContext)).toEqual(spoke.toJSON());
  });
});

describe('the spoke DR key', () => {
  it("lets the spoke's backup role use only its own account's DR key, by alias, through RDS in the DR region", () => {
    // Act
    const grant = statements(spoke).find((s) => s.Sid === 'GrantDrKeyToRds')!;
    // Assert: the key of the account the spoke is deployed in, never the hub's dr.kmsKeyArn
    expect(JSON.stringify(grant.Resource)).toContain(':kms:us-west-2:');
    expect(JSON.stringify(grant.Resource)).toContain('{"Ref":"AWS::AccountId"}');
    expect(JSON.stringify(grant)).not.toContain('111111111111');
    expect(grant.Condition).toMatchObject({
      StringEquals: { 'kms:ViaService': 'rds.us-west-2.amazonaws.com' },
      'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/steward-prod-spoke-dr' },
      Bool: { 'kms:GrantIsForAWSResource': 'true' },
    });
  });

  it('is a rotating, retained key of the spoke account in the DR region, and passes cdk-nag', () => {
    // Assert
    expect(spokeDrStack.region).toBe('us-west-2');
    spokeDr.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true, PendingWindowInDays: 30 },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    spokeDr.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/steward-prod-spoke-dr' });
    const report = new AwsSolutionsChecks(spokeDrStack).validateScope(spokeDrStack);
    expect(report.violations).toEqual([]);
  });

  it("deploys to the OU targets' accounts in the DR region as its own StackSet", () => {
    // Prepare
    const config = parseConfig(SCALING_FLEET_CONFIG, 'fleet');
    // Act
    const set = Object.values(stackSet.findResources('AWS::CloudFormation::StackSet')).find(
      (r) => r.Properties.StackSetName === 'steward-prod-spokes-dr',
    )!;
    // Assert
    expect(set.Properties).toMatchObject({
      PermissionModel: 'SERVICE_MANAGED',
      StackInstancesGroup: [
        { Regions: ['us-west-2'], DeploymentTargets: { OrganizationalUnitIds: ['ou-ab12-cd34ef56'] } },
      ],
    });
    expect(JSON.parse(set.Properties.TemplateBody as string)).toEqual(
      spokeDrTemplate(config, unbundledContext),
    );
  });
});

describe("the hub's rule on forwarded snapshot events", () => {
  it("hands the backup function the spokes' snapshot and copy-finished events from the fleet bus, wrapped", () => {
    // Act
    const [rule] = Object.values(hub.findResources('AWS::Events::Rule')).filter(
      (r) =>
        JSON.stringify(r.Properties.EventBusName ?? '').includes('FleetBus') &&
        r.Properties.EventPattern['detail-type']?.includes('RDS DB Snapshot Event'),
    );
    // Assert
    expect(rule!.Properties.EventPattern).toMatchObject({
      source: ['aws.rds'],
      detail: { EventID: ['RDS-EVENT-0042', 'RDS-EVENT-0075', 'RDS-EVENT-0060'] },
    });
    const target = rule!.Properties.Targets[0];
    expect(target.InputTransformer.InputPathsMap).toEqual({ f1: '$' });
    expect(JSON.stringify(target.InputTransformer.InputTemplate)).toContain('\\"action\\":\\"forwarded\\"');
    expect(JSON.stringify(target.Arn)).toContain('BackupFunction');
  });

  it("hands the backup function the spokes' AWS Health scheduled changes and issues, wrapped, as the spoke forwards them", () => {
    // Act
    const [rule] = Object.values(hub.findResources('AWS::Events::Rule')).filter(
      (r) =>
        JSON.stringify(r.Properties.EventBusName ?? '').includes('FleetBus') &&
        r.Properties.EventPattern.source?.[0] === 'aws.health',
    );
    // Assert
    const forwardedBySpoke = Object.values(spoke.findResources('AWS::Events::Rule')).find(
      (r) => r.Properties.EventPattern.source?.[0] === 'aws.health',
    );
    expect(rule!.Properties.EventPattern).toEqual(forwardedBySpoke!.Properties.EventPattern);
    expect(rule!.Properties.EventPattern.detail).toEqual({
      service: ['RDS', 'ELASTICACHE', 'EC2', 'EBS'],
      eventTypeCategory: ['scheduledChange', 'issue'],
    });
    expect(JSON.stringify(rule!.Properties.Targets[0].InputTransformer.InputTemplate)).toContain(
      '\\"action\\":\\"forwarded\\"',
    );
    expect(JSON.stringify(rule!.Properties.Targets[0].Arn)).toContain('BackupFunction');
  });

  it('is forwarded a copy-finished event by the spoke DR stack, from the DR region', () => {
    spokeDr.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.rds'], detail: { EventID: ['RDS-EVENT-0060'] } },
      Targets: [
        Match.objectLike({
          Arn: {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':events:eu-west-1:111111111111:event-bus/steward-prod-fleet',
              ],
            ],
          },
        }),
      ],
    });
  });
});

// Scaling in a fleet (the rules of SCALING_FLEET_CONFIG): the spoke's alarms scale in its own account-region.
const fleetBus = {
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, ':events:eu-west-1:111111111111:event-bus/steward-prod-fleet'],
  ],
};
const alarmPattern = {
  source: ['aws.cloudwatch'],
  'detail-type': ['CloudWatch Alarm State Change'],
  detail: {
    alarmName: ['orders-cpu-high', 'billing-cpu-high', { prefix: 'sessions-memory' }],
    state: { value: ['ALARM', 'OK'] },
  },
};

describe('scaling in a fleet: the hub', () => {
  it('names the scaling role and lets it assume only the spoke scaling roles', () => {
    hub.hasResourceProperties('AWS::IAM::Role', { RoleName: 'steward-prod-scaling-eu-west-1' });
    const own = roleOf(hub, 'steward-prod-scaling-');
    const assume = statements(hub).filter(
      (s) =>
        s.Action === 'sts:AssumeRole' &&
        JSON.stringify(hub.toJSON().Resources[s.policy].Properties.Roles).includes(own),
    );
    expect(assume.map((s) => s.Sid).sort()).toEqual([
      'AssumeSpokeRolesOfAccounts',
      'AssumeSpokeRolesOfOrganization',
    ]);
    const resources = JSON.stringify(assume.map((s) => s.Resource));
    expect(resources).toMatch(/iam::222222222222:role\/steward-prod-spoke-scaling-eu-central-1/);
    expect(resources).not.toMatch(/spoke-(backup|retention)/);
  });

  it("hands the scaling function the spokes' alarm state changes from the fleet bus, wrapped as forwarded", () => {
    // Act
    const onFleetBus = Object.values(hub.findResources('AWS::Events::Rule')).filter(
      (r) =>
        JSON.stringify(r.Properties.EventBusName ?? '').includes('FleetBus') &&
        JSON.stringify(r.Properties.Targets).includes('ScalingFunction'),
    );
    const rules = onFleetBus.filter((r) => r.Properties.EventPattern.source[0] === 'aws.cloudwatch');
    // Assert
    expect(rules).toHaveLength(1);
    expect(rules[0]!.Properties.EventPattern).toEqual(alarmPattern);
    const target = rules[0]!.Properties.Targets[0];
    expect(target.InputTransformer.InputPathsMap).toEqual({ f1: '$' });
    expect(JSON.stringify(target.InputTransformer.InputTemplate)).toContain('\\"action\\":\\"forwarded\\"');
    expect(target.DeadLetterConfig).toBeDefined();
  });

  it("hands the scaling function the spokes' database failovers from the fleet bus too, wrapped as forwarded", () => {
    // Act
    const rules = Object.values(hub.findResources('AWS::Events::Rule')).filter(
      (r) =>
        JSON.stringify(r.Properties.EventBusName ?? '').includes('FleetBus') &&
        JSON.stringify(r.Properties.Targets).includes('ScalingFunction') &&
        r.Properties.EventPattern.source[0] === 'aws.rds',
    );
    // Assert: the in-account failover pattern (the fleet's rules are on instances), forwarded
    expect(rules).toHaveLength(1);
    expect(rules[0]!.Properties.EventPattern).toEqual({
      source: ['aws.rds'],
      'detail-type': ['RDS DB Instance Event'],
      detail: { EventID: ['RDS-EVENT-0015', 'RDS-EVENT-0049'] },
    });
    const target = rules[0]!.Properties.Targets[0];
    expect(JSON.stringify(target.InputTransformer.InputTemplate)).toContain('\\"action\\":\\"forwarded\\"');
    expect(target.DeadLetterConfig).toBeDefined();
  });

  it('starts the scale-in check on its own Distributed Map, one child per target, which reads its results', () => {
    // Act
    const schedule = Object.values(hub.findResources('AWS::Scheduler::Schedule')).find(
      (r) => r.Properties.Name === 'steward-prod-scaling-scale-in',
    )!;
    const machine = Object.entries(hub.findResources('AWS::StepFunctions::StateMachine')).find(
      ([, r]) => r.Properties.StateMachineName === 'steward-prod-scaling-fleet',
    );
    const fn = Object.values(hub.findResources('AWS::Lambda::Function')).find(
      (r) => r.Properties.FunctionName === 'steward-prod-scaling',
    );
    // Assert: the schedule starts the state machine with the check (no partition: the items carry the roles)
    expect(machine).toBeDefined();
    expect(schedule.Properties.Target.Arn).toEqual({ Ref: machine![0] });
    expect(JSON.parse(schedule.Properties.Target.Input as string)).toEqual({
      action: 'scale-in-check',
      scheduledTime: '<aws.scheduler.scheduled-time>',
    });
    // Each invocation is one target's check: the function keeps its 2 minutes, and no reserved concurrency
    // (alarms keep their own headroom; the Map's MaxConcurrency bounds the children).
    expect(fn?.Properties.Timeout).toBe(120);
    expect(fn?.Properties.ReservedConcurrentExecutions).toBeUndefined();
    // The summary reads the Map Run's export under fleet/scaling/ only.
    const reads = statements(hub).filter((s) => s.Sid === 'ReadFleetResultsScaling');
    expect(reads).toHaveLength(1);
    expect(JSON.stringify(reads[0]!.Resource)).toContain('/fleet/scaling/*');
  });

  it('passes cdk-nag', () => {
    const report = new AwsSolutionsChecks(hubStack).validateScope(hubStack);
    expect(report.violations.map((v) => `${v.ruleName}: ${JSON.stringify(v.violatingResources)}`)).toEqual(
      [],
    );
  });
});

describe('scaling in a fleet: the spoke', () => {
  it('has a scaling role that trusts only the hub scaling role, from the organization, with the external id', () => {
    spoke.hasResourceProperties('AWS::IAM::Role', {
      RoleName: { 'Fn::Join': ['', ['steward-prod-spoke-scaling-', { Ref: 'AWS::Region' }]] },
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Condition: {
              ArnEquals: {
                'aws:PrincipalArn': {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':iam::111111111111:role/steward-prod-scaling-eu-west-1',
                    ],
                  ],
                },
              },
              StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5', 'sts:ExternalId': 'steward-prod-fleet' },
            },
          }),
        ],
      },
    });
  });

  it("carries the hub scaling function's own statements, built by the same code, with the region guard", () => {
    // Prepare: the hub's statements on its own resources (state table, reports, fan-out results, topics,
    // spoke roles)
    const hubOnly = /ScalingState|Report|FleetResults|Notifications|AssumeSpoke|Organization|Pager|^Allow $/;
    const estate = (sids: string[]) =>
      sids.filter((s) => !hubOnly.test(s.split(' ')[1]!) && !s.endsWith(' undefined'));
    // Act
    const hubScaling = estate(sidsOf(hub, roleOf(hub, 'steward-prod-scaling-')));
    const spokeScaling = sidsOf(spoke, roleOf(spoke, 'spoke-scaling-'));
    // Assert
    expect(spokeScaling).toEqual(hubScaling);
    expect(spokeScaling).toEqual(
      expect.arrayContaining([
        'Allow CreateManagedReadReplicas',
        'Allow DeleteManagedReadReplicas',
        'Allow ModifyClassBilling',
        'Allow DescribeRuleAlarms',
        'Deny OnlyConfiguredRegions',
        'Deny NeverManageMasterPasswords',
      ]),
    );
    const replicas = statements(spoke).find((s) => s.Sid === 'CreateManagedReadReplicas')!;
    expect(JSON.stringify(replicas.Resource)).toContain('{"Ref":"AWS::AccountId"}');
    expect(JSON.stringify(replicas.Resource)).not.toContain('111111111111');
  });

  it("forwards exactly the alarm state changes the hub's rule takes", () => {
    spoke.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: alarmPattern,
      Targets: [Match.objectLike({ Arn: fleetBus })],
    });
  });

  it('is in the StackSet template too', () => {
    const roles = Object.values(
      (spokeTemplate(config) as { Resources: Record<string, { Type: string; Properties: object }> })
        .Resources,
    ).filter((r) => r.Type === 'AWS::IAM::Role');
    expect(JSON.stringify(roles)).toContain('steward-prod-spoke-scaling-');
  });
});
