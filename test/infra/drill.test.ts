import { App, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DRILL_STATE_TASKS, DrillStates } from '../../infra/drill.js';
import { type AslDefinition, type AslState, definitionFromTemplate } from '../../infra/local-drill.js';
import { drillDefinition } from '../../infra/drill-synth.js';
import { stackId, StewardStack } from '../../infra/stack.js';
import { parseConfig, type StewardConfig } from '../../shared/config/schema.js';
import { exampleInput, loadExample } from '../support/examples.js';
import {
  allowing,
  unbundledContext,
  list,
  statements,
  unconditionedWildcardWrites,
  unguardedDestructive,
} from './iam.js';

const SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:billing-master-AbCdEf';

// Prod as shipped (one RDS instance target, logging in with IAM database authentication); and the same
// with secret logins: orders-db by its RDS-managed master secret, plus an Aurora target with its own
// secret and schedule, with its Secrets Manager endpoint always on (per-drill endpoints, the default:
// test/infra/cache-drill.test.ts and test/infra/ebs-drill.test.ts).
const prod = loadExample('prod');
const withAurora: StewardConfig = parseConfig(
  {
    ...exampleInput('prod'),
    drill: {
      ...exampleInput('prod').drill,
      endpoints: { mode: 'always-on' },
      targets: {
        'orders-db': { ...exampleInput('prod').drill!.targets!['orders-db']!, auth: 'secret' },
        'billing-cluster': {
          kind: 'aurora-cluster',
          schedule: 'cron(0 6 15 * ? *)',
          auth: 'secret',
          secretArn: SECRET,
          profile: { database: 'billing', tables: [{ name: 'invoices', minRows: 1 }] },
        },
      },
    },
  },
  'test',
);

let app: App;
let stack: StewardStack;
let t: Template;
let definition: AslDefinition;
let auroraStack: StewardStack;
let aurora: Template;

beforeAll(() => {
  // One app, as `cdk synth` builds it (bundles are placeholders: the nag run sees the same tree).
  app = new App({ context: unbundledContext });
  stack = new StewardStack(app, stackId('prod'), { config: prod });
  auroraStack = new StewardStack(app, 'Steward-aurora', { config: withAurora });
  t = Template.fromStack(stack);
  aurora = Template.fromStack(auroraStack);
  definition = definitionFromTemplate(
    t.toJSON() as Parameters<typeof definitionFromTemplate>[0],
    'steward-prod-drill',
  );
});

/** The logical id of a construct's CloudFormation resource. */
const lid = (c: IConstruct): string => stack.getLogicalId(c.node.defaultChild as CfnElement);
const state = (name: string): AslState => {
  const s = definition.States[name];
  if (!s) throw new Error(`no state ${name}`);
  return s;
};
const taskStates = () => Object.entries(definition.States).filter(([, s]) => s.Type === 'Task');
/** Every state reachable from `from` through Next, Choices and Default (not through Catch). */
const reachable = (from: string, seen = new Set<string>()): Set<string> => {
  if (seen.has(from)) return seen;
  seen.add(from);
  const s = state(from);
  for (const next of [s.Next, s.Default, ...(s.Choices ?? []).map((c) => c.Next)]) {
    if (next) reachable(next, seen);
  }
  return seen;
};
const resourceId = (t: Template, type: string, props: Record<string, unknown>): string => {
  const ids = Object.keys(t.findResources(type, { Properties: props }));
  expect(ids, `${type} ${JSON.stringify(props)}`).toHaveLength(1);
  return ids[0]!;
};

describe('drill state machine', () => {
  it('is a STANDARD machine logging ALL transitions without execution data, traced, with a retained log group', () => {
    // Prepare
    const group = resourceId(t, 'AWS::Logs::LogGroup', {
      LogGroupName: '/aws/vendedlogs/states/steward-prod-drill',
    });

    // Assert
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'steward-prod-drill',
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        // Execution data carries task tokens, endpoints and user names.
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [group, 'Arn'] } } }],
      },
    });
    t.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 90, LogGroupName: '/aws/vendedlogs/states/steward-prod-drill' },
      DeletionPolicy: 'Retain',
    });
  });

  it('times out an hour after the restore deadline plus the longest warm-up, so cleanup still runs inside the execution', () => {
    const warmups = Object.values(prod.drill.targets).map((t) =>
      t.warmup.enabled ? t.warmup.maxSeconds : 0,
    );
    expect(definition.TimeoutSeconds).toBe(prod.drill.timeoutSeconds + Math.max(...warmups) + 3600);
  });

  it('has exactly the states the tasks and the local runner rely on', () => {
    // Assert
    // Engine? and VerifyCache exist only in a stage with Redis drills (test/infra/cache-drill.test.ts), and
    // VerifyCacheInDr only with one from the DR copy; the volumes' loop only in one with EBS drills
    // (test/infra/ebs-drill.test.ts); the endpoint states only in one whose drills create endpoints
    // (test/infra/cache-drill.test.ts, test/infra/ebs-drill.test.ts).
    const cacheOnly: string[] = [
      DrillStates.openEndpoints,
      DrillStates.checkEndpoints,
      DrillStates.endpointsReady,
      DrillStates.waitEndpoints,
      DrillStates.checkVolumeEndpoints,
      DrillStates.volumeEndpointsReady,
      DrillStates.waitVolumeEndpoints,
      DrillStates.closeEndpoints,
      DrillStates.engine,
      DrillStates.verifyCache,
      DrillStates.verifyCacheDr,
      DrillStates.volumes,
      DrillStates.waitVolumes,
      DrillStates.checkVolumes,
      DrillStates.volumesRestored,
      DrillStates.verifyVolumes,
    ];
    expect(Object.keys(definition.States).sort()).toEqual(
      Object.values(DrillStates)
        .filter((n) => !cacheOnly.includes(n))
        .sort(),
    );
    expect(definition.StartAt).toBe('Start');
    const chain = ['Start', 'SelectSnapshot', 'Restore', 'WaitForRestore', 'Verify', 'WarmUp?'];
    chain.slice(0, -1).forEach((name, i) => expect(state(name).Next, name).toBe(chain[i + 1]));
    expect(state('Cleanup').Next).toBe('Record');
    expect(state('Record').Next).toBe('Passed?');
    expect(state('CheckRestore').Next).toBe('Restored?');
    expect(state('WarmUp').Next).toBe('WarmUp?');
    expect(state('DrillSucceeded').Type).toBe('Succeed');
    expect(state('DrillInconclusive').Type).toBe('Succeed');
    expect(state('DrillFailed')).toMatchObject({ Type: 'Fail', Error: 'DrillFailed' });
    expect(state('DrillRecordFailed')).toMatchObject({ Type: 'Fail', Error: 'DrillRecordFailed' });
  });

  it('sends every task { task, state: $, execution } and gets the next state back (payloadResponseOnly)', () => {
    for (const [name, s] of taskStates()) {
      // Act
      const wait = name === DrillStates.wait;
      const payload = wait ? (s.Parameters?.Payload as Record<string, unknown>) : s.Parameters;

      // Assert
      expect(payload, name).toEqual({
        task: DRILL_STATE_TASKS[name as keyof typeof DRILL_STATE_TASKS],
        'state.$': '$',
        execution: { 'name.$': '$$.Execution.Name', 'startTime.$': '$$.Execution.StartTime' },
        ...(wait && { 'taskToken.$': '$$.Task.Token' }),
      });
      if (!wait) expect(s.Resource, name).toMatch(/^arn:aws:lambda:local:000000000000:function:/);
      expect(s.ResultPath, name).toBeUndefined();
    }
  });

  it('runs Verify and WarmUp on the verifier (in the VPC) and every other task on the drill function', () => {
    // Prepare
    const control = `arn:aws:lambda:local:000000000000:function:${lid(stack.drill!.function.fn)}`;
    const verifier = `arn:aws:lambda:local:000000000000:function:${lid(stack.drill!.verifier.fn)}`;

    // Assert
    expect(state('Verify').Resource).toBe(verifier);
    expect(state('WarmUp').Resource).toBe(verifier);
    for (const [name, s] of taskStates().filter(([n]) => n !== 'Verify' && n !== 'WarmUp')) {
      expect(s.Resource === control || s.Parameters?.FunctionName === control, name).toBe(true);
    }
  });

  it('waits for the restore with a task token and falls back to polling after pollSeconds', () => {
    // Act
    const wait = state('WaitForRestore');

    // Assert
    expect(wait.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(wait.TimeoutSeconds).toBe(prod.drill.pollSeconds);
    expect(wait.Catch?.[0]).toEqual({
      ErrorEquals: ['States.Timeout'],
      ResultPath: null,
      Next: 'CheckRestore',
    });
    expect(state('Restored?').Choices).toEqual([
      {
        And: [
          { Variable: '$.available', IsPresent: true },
          { Variable: '$.available', BooleanEquals: true },
        ],
        Next: 'Verify',
      },
      {
        And: [
          { Variable: '$.timedOut', IsPresent: true },
          { Variable: '$.timedOut', BooleanEquals: true },
        ],
        Next: 'Cleanup',
      },
    ]);
    expect(state('Restored?').Default).toBe('WaitForRestore');
  });

  it('catches every failure before Cleanup into a path that reaches Cleanup', () => {
    for (const [name, s] of taskStates().filter(([n]) => !['Cleanup', 'Record', 'WarmUp'].includes(n))) {
      // Act
      const catchAll = s.Catch?.find((c) => c.ErrorEquals.includes('States.ALL'));

      // Assert: States.ALL is caught (last), into Cleanup, keeping the state and adding the error.
      expect(catchAll, name).toEqual({ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Cleanup' });
      expect(s.Catch?.at(-1), name).toBe(catchAll);
      for (const c of s.Catch ?? [])
        expect(reachable(c.Next).has('Cleanup'), `${name} → ${c.Next}`).toBe(true);
    }
    expect(state('Cleanup').Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.cleanupError', Next: 'Record' },
    ]);
    // A warm-up that keeps failing ends warm-up only: the verification stands.
    expect(state('WarmUp').Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.warmupError', Next: 'Cleanup' },
    ]);
    expect(state('WarmUp').Retry?.at(-1)).toEqual({
      ErrorEquals: ['States.ALL'],
      IntervalSeconds: 10,
      MaxAttempts: 2,
      BackoffRate: 2,
    });
    expect(state('WarmUp?')).toMatchObject({
      Choices: [
        {
          And: [
            { Variable: '$.warmup.pending', IsPresent: true },
            { Variable: '$.warmup.pending', BooleanEquals: true },
          ],
          Next: 'WarmUp',
        },
      ],
      Default: 'Cleanup',
    });
    expect(state('Record').Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.recordError', Next: 'DrillRecordFailed' },
    ]);
  });

  it('retries Cleanup on any error, and every task on Lambda service errors', () => {
    // Assert
    expect(state('Cleanup').Retry?.at(-1)).toEqual({
      ErrorEquals: ['States.ALL'],
      IntervalSeconds: 30,
      MaxAttempts: 3,
      BackoffRate: 2,
    });
    // A copy RDS does not delete yet (still creating) is handed over, not waited for: no timer of its own.
    expect(state('Cleanup').Retry?.flatMap((r) => r.ErrorEquals)).not.toContain('DrillCopyBusy');
    for (const [name, s] of taskStates()) {
      expect(s.Retry?.[0]?.ErrorEquals, name).toEqual(
        expect.arrayContaining([
          'Lambda.ServiceException',
          'Lambda.TooManyRequestsException',
          'Lambda.SdkClientException',
        ]),
      );
      // A month's drills start together: a throttle that hits them all is not retried by all in lockstep.
      expect(s.Retry?.[0], name).toMatchObject({ JitterStrategy: 'FULL' });
    }
  });

  it('decides the outcome on $.result.passed, and ends an inconclusive drill without failing the execution', () => {
    expect(state('Passed?')).toMatchObject({
      Choices: [
        {
          And: [
            { Variable: '$.result.passed', IsPresent: true },
            { Variable: '$.result.passed', BooleanEquals: true },
          ],
          Next: 'DrillSucceeded',
        },
        {
          And: [
            { Variable: '$.result.outcome', IsPresent: true },
            { Variable: '$.result.outcome', StringEquals: 'inconclusive' },
          ],
          Next: 'DrillInconclusive',
        },
      ],
      Default: 'DrillFailed',
    });
  });

  it('is the definition the local runner synthesizes without bundling', () => {
    // Act
    const local = drillDefinition(prod);

    // Assert
    expect(local).toEqual(definition);
  });
});

describe('drill network', () => {
  it('is an isolated VPC: two subnets, no internet or NAT gateway, no routes, flow logs on', () => {
    // Prepare
    const vpc = resourceId(t, 'AWS::EC2::VPC', {});

    // Assert
    t.resourceCountIs('AWS::EC2::Subnet', 2);
    t.allResourcesProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false, VpcId: { Ref: vpc } });
    for (const type of [
      'AWS::EC2::InternetGateway',
      'AWS::EC2::NatGateway',
      'AWS::EC2::Route',
      'AWS::EC2::EIP',
    ]) {
      t.resourceCountIs(type, 0);
    }
    t.hasResourceProperties('AWS::EC2::FlowLog', { ResourceId: { Ref: vpc }, TrafficType: 'ALL' });
  });

  it('runs the verifier in the isolated subnets with its own security group', () => {
    // Prepare
    const subnets = Object.keys(t.findResources('AWS::EC2::Subnet'));
    const sg = lid(stack.drill!.verifierSecurityGroup);

    // Act
    const [fn] = Object.values(
      t.findResources('AWS::Lambda::Function', { Properties: { FunctionName: 'steward-prod-drill-verify' } }),
    );

    // Assert
    expect(fn!.Properties.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [sg, 'GroupId'] }]);
    expect(fn!.Properties.VpcConfig.SubnetIds.map((s: { Ref: string }) => s.Ref).sort()).toEqual(
      subnets.sort(),
    );
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'steward-prod-drill',
      VpcConfig: Match.absent(),
    });
  });

  it('with IAM logins (the default), lets the verifier out only to the drill databases, with no endpoint at all', () => {
    // Prepare
    const db = lid(stack.drill!.databaseSecurityGroup);
    const verifier = lid(stack.drill!.verifierSecurityGroup);
    const gid = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'GroupId'] });

    // Act
    const egress = Object.values(t.findResources('AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties);

    // Assert
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    expect(egress).toEqual([
      expect.objectContaining({
        GroupId: gid(verifier),
        FromPort: 5432,
        ToPort: 5432,
        DestinationSecurityGroupId: gid(db),
      }),
    ]);
    expect(allowing(t, 'secretsmanager:GetSecretValue')).toEqual([]);
  });

  it('with IAM logins, lets the verifier connect to drill copies only as the configured role', () => {
    // Act
    const connects = allowing(t, 'rds-db:connect');

    // Assert
    expect(connects.map((s) => [s.Sid, s.policy.startsWith('DrillVerifier')])).toEqual([
      ['ConnectToDrillCopiesAsVerifier', true],
    ]);
    expect(JSON.stringify(connects[0]!.Resource)).toMatch(
      /:rds-db:eu-west-1:.*:dbuser:\*\/steward_verifier"/,
    );
  });

  it('admits PostgreSQL to drill databases only from the verifier, and with secret logins lets the verifier out only to them and Secrets Manager', () => {
    // Prepare
    const t = aurora;
    const stack = auroraStack;
    const db = lid(stack.drill!.databaseSecurityGroup);
    const verifier = lid(stack.drill!.verifierSecurityGroup);
    const endpoint = resourceId(t, 'AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('VPC endpoint for Secrets Manager'),
    });
    const gid = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'GroupId'] });

    // Act
    const ingress = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => r.Properties);
    const egress = Object.values(t.findResources('AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties);
    const groups = t.findResources('AWS::EC2::SecurityGroup');

    // Assert
    expect(ingress.filter((r) => JSON.stringify(r.GroupId) === JSON.stringify(gid(db)))).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 5432,
        ToPort: 5432,
        SourceSecurityGroupId: gid(verifier),
      }),
    ]);
    expect(ingress.filter((r) => JSON.stringify(r.GroupId) === JSON.stringify(gid(endpoint)))).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        SourceSecurityGroupId: gid(verifier),
      }),
    ]);
    expect(egress.filter((r) => JSON.stringify(r.GroupId) === JSON.stringify(gid(verifier)))).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ FromPort: 5432, ToPort: 5432, DestinationSecurityGroupId: gid(db) }),
        expect.objectContaining({ FromPort: 443, ToPort: 443, DestinationSecurityGroupId: gid(endpoint) }),
      ]),
    );
    expect(egress).toHaveLength(2);
    for (const g of Object.values(groups)) {
      // No inline rule opens anything: no ingress at all, egress only CDK's "disallow all" placeholder.
      expect(g.Properties.SecurityGroupIngress).toBeUndefined();
      for (const rule of g.Properties.SecurityGroupEgress ?? [])
        expect(rule.CidrIp).toBe('255.255.255.255/32');
    }
  });

  it('with secret logins and endpoints always on, reaches Secrets Manager through a private-DNS interface endpoint that serves the verifier only', () => {
    // Prepare
    const t = aurora;
    const role = lid(auroraStack.drill!.verifier.role);

    // Assert
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Interface',
      ServiceName: 'com.amazonaws.eu-west-1.secretsmanager',
      PrivateDnsEnabled: true,
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Effect: 'Allow',
            Action: 'secretsmanager:GetSecretValue',
            Principal: { AWS: { 'Fn::GetAtt': [role, 'Arn'] } },
          }),
        ],
      },
    });
  });

  it('gives restores an isolated DB subnet group and passes it and the DB security group to the drill function', () => {
    // Prepare
    const group = resourceId(t, 'AWS::RDS::DBSubnetGroup', { DBSubnetGroupName: 'steward-prod-drill' });
    const db = lid(stack.drill!.databaseSecurityGroup);

    // Assert
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'steward-prod-drill',
      Environment: {
        Variables: Match.objectLike({
          DRILL_SUBNET_GROUP: { Ref: group },
          DRILL_SECURITY_GROUP_IDS: { 'Fn::GetAtt': [db, 'GroupId'] },
          DRILL_TABLE: { Ref: Match.anyValue() },
          REPORT_BUCKET: { Ref: Match.anyValue() },
        }),
      },
    });
  });
});

describe('drill reports and state', () => {
  it("lets the drill function read and write only its reports, per-database baselines and the janitor's run reports", () => {
    // Act
    // The report function reads and writes the same bucket (report.test.ts); here: the drill's own roles.
    const drillRoles = (st: { policy: string }) => st.policy.startsWith('Drill');
    const reads = allowing(t, 's3:GetObject')
      .filter(drillRoles)
      .map((st) => JSON.stringify(st.Resource));
    const writes = allowing(t, 's3:PutObject')
      .filter(drillRoles)
      .map((st) => JSON.stringify(st.Resource));

    // Assert
    expect(reads).toHaveLength(1);
    expect(reads[0]).toContain('/baselines/*');
    expect(writes.some((r) => r.includes('/drills/*'))).toBe(true);
    expect(writes.some((r) => r.includes('/baselines/*'))).toBe(true);
    expect(writes.some((r) => r.includes('/runs/drill/*'))).toBe(true);
    expect(
      writes.every(
        (r) => r.includes('/drills/*') || r.includes('/baselines/*') || r.includes('/runs/drill/*'),
      ),
    ).toBe(true);
  });

  it('keeps reports in an encrypted, versioned, SSL-only, private bucket for reportRetentionDays, with access logs', () => {
    // Prepare
    const bucket = lid(stack.drill!.reportBucket);

    // Assert
    t.hasResource('AWS::S3::Bucket', {
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LifecycleConfiguration: {
          Rules: [Match.objectLike({ ExpirationInDays: prod.drill.reportRetentionDays, Status: 'Enabled' })],
        },
        LoggingConfiguration: { DestinationBucketName: { Ref: Match.anyValue() }, LogFilePrefix: 'reports/' },
      },
      DeletionPolicy: 'Retain',
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucket },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('keeps state in an on-demand, PITR, encrypted table keyed by pk with a ttl, retained in prod', () => {
    t.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        TableName: 'steward-prod-state',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      },
      DeletionPolicy: 'Retain',
    });
  });
});

describe('drill triggers and alarms', () => {
  it('hands RDS instance and cluster events about drill databases to the drill function', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.rds'],
        'detail-type': ['RDS DB Instance Event', 'RDS DB Cluster Event'],
        detail: { SourceIdentifier: [{ prefix: 'steward-drill-' }, { prefix: 'rds:steward-drill-' }] },
      },
      Targets: [Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() } })],
    });
  });

  it('runs the janitor on its schedule', () => {
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'steward-prod-drill-janitor',
      ScheduleExpression: prod.drill.janitorSchedule,
      Target: { Input: Match.serializedJson({ action: 'janitor' }) },
    });
  });

  it('starts one execution per target on its schedule, or the drill schedule', () => {
    // Prepare
    const machine = lid(stack.drill!.stateMachine);

    // Assert
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'steward-prod-drill-orders-db',
      ScheduleExpression: prod.drill.schedule,
      ScheduleExpressionTimezone: 'UTC',
      Target: {
        Arn: { Ref: machine },
        Input: Match.serializedJson({ database: 'orders-db' }),
        DeadLetterConfig: { Arn: Match.anyValue() },
      },
    });
    aurora.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'steward-prod-drill-billing-cluster',
      ScheduleExpression: 'cron(0 6 15 * ? *)',
      Target: { Input: Match.serializedJson({ database: 'billing-cluster' }) },
    });
    expect(allowing(t, 'states:StartExecution').map((s) => s.Resource)).toEqual([{ Ref: machine }]);
  });

  it('pages a failed execution through the drill function, not an alarm on ExecutionsFailed', () => {
    // Assert: no ExecutionsFailed alarm (its two metrics cost $0.20 a month); a drill that fails is paged
    // by its record step, any other end (FAILED, TIMED_OUT, ABORTED) reaches the drill function by this rule.
    expect(
      JSON.stringify(t.findResources('AWS::CloudWatch::Alarm')).match(/ExecutionsFailed|ExecutionsTimedOut/),
    ).toBeNull();
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.states'],
        detail: Match.objectLike({ status: ['ABORTED', 'TIMED_OUT', 'FAILED'] }),
      }),
      Targets: [Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() } })],
    });
  });
});

describe('drill permissions', () => {
  it.each([
    ['rds:DeleteDBInstance', 'rds:db-tag', ':db:steward-drill-*'],
    ['rds:DeleteDBCluster', 'rds:cluster-tag', ':cluster:steward-drill-*'],
  ])('allows %s only on tagged steward-drill-* databases', (action, key, resource) => {
    // Act
    const [delete_, ...more] = allowing(aurora, action);

    // Assert
    expect(more).toEqual([]);
    expect(delete_!.Condition).toEqual({
      StringEquals: { [`${key}/steward:managed`]: 'true' },
      Null: { [`${key}/steward:drill`]: 'false' },
    });
    expect(list(delete_!.Resource).map((r) => JSON.stringify(r))).toEqual([
      expect.stringContaining(resource),
    ]);
  });

  it('restores only into steward-drill-* databases tagged steward:managed=true', () => {
    for (const action of [
      'rds:RestoreDBInstanceFromDBSnapshot',
      'rds:RestoreDBInstanceToPointInTime',
      'rds:RestoreDBClusterFromSnapshot',
      'rds:RestoreDBClusterToPointInTime',
      'rds:CreateDBInstance',
      'rds:AddTagsToResource',
    ]) {
      // Act
      const allows = allowing(aurora, action).filter((s) => s.policy.startsWith('DrillFunction'));

      // Assert
      expect(allows.length, action).toBeGreaterThan(0);
      for (const s of allows) {
        expect(s.Condition, action).toEqual({ StringEquals: { 'aws:RequestTag/steward:managed': 'true' } });
      }
    }
    // Without an Aurora target there are no cluster permissions at all.
    expect(allowing(t, 'rds:RestoreDBClusterFromSnapshot')).toEqual([]);
    expect(allowing(t, 'rds:DeleteDBCluster')).toEqual([]);
  });

  it('lets only the drill function complete task tokens (SendTask* has no resource-level permissions)', () => {
    // Act
    const sends = allowing(t, 'states:SendTaskSuccess');

    // Assert
    expect(sends).toHaveLength(1);
    expect(sends[0]!.Resource).toBe('*');
    expect(sends[0]!.policy).toMatch(/^DrillFunction/);
    expect(allowing(t, 'states:SendTaskHeartbeat')).toEqual([]);
  });

  it('lets the verifier read only the master secrets of the configured targets and configured secrets', () => {
    // Act
    const reads = allowing(aurora, 'secretsmanager:GetSecretValue');

    // Assert: orders-db's RDS-managed secret (by the tag RDS sets), billing-cluster's configured secret.
    expect(reads.map((s) => s.Sid)).toEqual([
      'ReadTargetInstanceMasterSecrets',
      'ReadConfiguredDrillSecrets',
    ]);
    expect(reads.every((s) => s.policy.startsWith('DrillVerifier'))).toBe(true);
    expect(JSON.stringify(reads[0]!.Resource)).toContain(':secret:rds!db-*');
    expect(JSON.stringify(reads[0]!.Condition)).toContain('aws:ResourceTag/aws:rds:primaryDBInstanceArn');
    expect(JSON.stringify(reads[0]!.Condition)).toContain(':db:orders-db');
    expect(list(reads[1]!.Resource)).toEqual([SECRET]);
  });

  it('restores only snapshots of the configured targets', () => {
    // Act
    const restores = allowing(aurora, 'rds:RestoreDBInstanceFromDBSnapshot').flatMap((s) => list(s.Resource));
    const clusterRestores = allowing(aurora, 'rds:RestoreDBClusterFromSnapshot').flatMap((s) =>
      list(s.Resource),
    );

    // Assert
    const sources = (r: unknown[], type: string) =>
      r
        .map((x) => JSON.stringify(x))
        .filter((x) => x.includes(`:${type}:`))
        .map((x) => x.split(`:${type}:`)[1]!.replace(/"\]\]\}$/, ''))
        .sort();
    expect(sources(restores, 'snapshot')).toEqual([
      'rds:orders-db-????-??-??-??-??',
      'steward-orders-db-????????????-adhoc',
      'steward-orders-db-????????????-sched',
    ]);
    expect(sources(clusterRestores, 'cluster-snapshot')).toEqual([
      'rds:billing-cluster-????-??-??-??-??',
      'steward-billing-cluster-????????????-adhoc',
      'steward-billing-cluster-????????????-sched',
    ]);
  });

  it('lets the state machine invoke exactly the two drill functions', () => {
    // Act
    const invokes = statements(t).filter(
      (s) => s.policy.startsWith('DrillStateMachine') && list(s.Action).includes('lambda:InvokeFunction'),
    );

    // Assert
    expect(invokes).toHaveLength(1);
    expect(JSON.stringify(invokes[0]!.Resource)).toMatch(/DrillFunctionHandler.*DrillVerifierHandler/);
  });

  it.each([
    ['prod', () => t],
    ['prod + aurora', () => aurora],
  ])('%s: never allows a destructive action on a wildcard resource without a condition', (_, template) => {
    expect(unguardedDestructive(template())).toEqual([]);
    expect(unconditionedWildcardWrites(template())).toEqual([]);
  });
});

describe('cdk-nag AwsSolutions with drills enabled', () => {
  it('reports no unacknowledged errors or warnings', () => {
    // Act
    const report = new AwsSolutionsChecks(app).validateScope(app);

    // Assert
    expect(
      report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
    expect(report.success).toBe(true);
  });
});
