import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackId, StewardStack } from '../../infra/stack.js';
import { parseConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import { loadExample } from '../support/examples.js';
import { scalingConfigInput } from '../shared/scaling/fixtures.js';
import {
  allowing,
  objectWrites,
  unbundledContext,
  list,
  statements,
  unconditionedWildcardWrites,
  unguardedDestructive,
} from './iam.js';

const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:ops-alarms';

// Every action, an Aurora cluster, a prefix rule, scale-in and an SNS topic, on a stage without drills:
// the state table must exist for scaling alone.
const everything = {
  ...scalingConfigInput,
  stage: 'staging',
  scaling: {
    ...scalingConfigInput.scaling,
    alarmTopicArns: [TOPIC],
    rules: {
      ...scalingConfigInput.scaling.rules,
      'orders-db-connections': {
        ...scalingConfigInput.scaling.rules['orders-db-connections'],
        scaleIn: { enabled: true, afterOkMinutes: 120 },
      },
    },
  },
} satisfies StewardConfigInput;

let app: App;
let prod: Template;
let all: Template;
let disabled: Template;

beforeAll(() => {
  // Build the whole tree first: synthesis (Template.fromStack) freezes it.
  app = new App({ context: unbundledContext });
  const stacks = [
    new StewardStack(app, stackId('prod'), { config: loadExample('prod') }),
    new StewardStack(app, 'Steward-scaling-all', { config: parseConfig(everything, 'test') }),
    new StewardStack(app, stackId('staging'), { config: loadExample('staging') }),
  ];
  [prod, all, disabled] = stacks.map((s) => Template.fromStack(s)) as [Template, Template, Template];
});

const scalingFunction = (t: Template): string => {
  const ids = Object.keys(
    t.findResources('AWS::Lambda::Function', {
      Properties: { FunctionName: Match.stringLikeRegexp('-scaling$') },
    }),
  );
  expect(ids).toHaveLength(1);
  return ids[0]!;
};

const arnOf = (r: unknown): string => JSON.stringify(r);

describe('scaling in prod (the seed rules)', () => {
  it('routes each rule’s alarm state changes (ALARM) to the function, with retries and a DLQ', () => {
    // Prepare
    const fn = scalingFunction(prod);

    // Assert
    for (const alarmName of [
      'orders-db-cpu-high',
      'orders-db-connections-high',
      'sessions-redis-memory-high',
      'orders-db-unhealthy',
    ]) {
      prod.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.cloudwatch'],
          'detail-type': ['CloudWatch Alarm State Change'],
          detail: { alarmName: Match.arrayWith([alarmName]), state: { value: ['ALARM'] } },
        },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [fn, 'Arn'] },
            DeadLetterConfig: { Arn: Match.anyValue() },
            RetryPolicy: Match.anyValue(),
          }),
        ],
      });
    }
  });

  it('creates the configured alarms: CPUUtilization > 80 % for 10 min, connections, cache memory per node', () => {
    prod.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'orders-db-cpu-high',
      Namespace: 'AWS/RDS',
      MetricName: 'CPUUtilization',
      Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'orders-db' }],
      Statistic: 'Average',
      Period: 60,
      EvaluationPeriods: 10,
      Threshold: 80,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    prod.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'orders-db-connections-high',
      MetricName: 'DatabaseConnections',
      Period: 300,
      EvaluationPeriods: 2,
    });
    prod.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'sessions-redis-memory-high',
      Namespace: 'AWS/ElastiCache',
      MetricName: 'DatabaseMemoryUsagePercentage',
      Dimensions: [{ Name: 'CacheClusterId', Value: 'sessions-redis-0001-001' }],
    });
    // orders-db-unhealthy is the users' own alarm: steward reacts to it, it does not create it.
    expect(
      prod.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: 'orders-db-unhealthy' } }),
    ).toEqual({});
  });

  it('gives the function the state table and read-write items on it only', () => {
    // Prepare
    const fn = scalingFunction(prod);
    const table = Object.keys(prod.findResources('AWS::DynamoDB::Table'))[0]!;

    // Assert
    prod.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'steward-prod-scaling',
      Environment: {
        Variables: Match.objectLike({ STATE_TABLE: { Ref: table }, POWERTOOLS_SERVICE_NAME: 'scaling' }),
      },
    });
    expect(fn).toBeDefined();
    const rw = statements(prod).filter((s) => s.Sid === 'ScalingState');
    expect(rw.map((s) => s.Resource)).toContainEqual({ 'Fn::GetAtt': [table, 'Arn'] });
    // Only its own items of the shared table.
    expect(rw[0]!.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['scaling-*'] },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    });
  });

  it('scopes every mutating call to the ARNs the rules name', () => {
    // Act
    const modify = allowing(prod, 'rds:ModifyDBInstance');
    const reboot = allowing(prod, 'rds:RebootDBInstance');
    const reshard = allowing(prod, 'elasticache:ModifyReplicationGroupShardConfiguration');
    const replica = allowing(prod, 'rds:CreateDBInstanceReadReplica');

    // Assert
    expect(modify.map((s) => arnOf(s.Resource))).toEqual([expect.stringMatching(/:db:orders-db"\]\]\}$/)]);
    expect(reboot.map((s) => arnOf(s.Resource))).toEqual([expect.stringMatching(/:db:orders-db"\]\]\}$/)]);
    expect(reshard.map((s) => arnOf(s.Resource))).toEqual([
      expect.stringMatching(/:replicationgroup:sessions-redis"\]\]\}$/),
    ]);
    expect(replica).toHaveLength(1);
    expect(replica[0]!.Condition).toEqual({ StringEquals: { 'aws:RequestTag/steward:managed': 'true' } });
    expect(arnOf(replica[0]!.Resource)).toContain(':db:orders-db-replica-*');
    // Scale-out reads the status of steward's replicas (none is added while one is still creating), with or
    // without scale-in.
    const describes = allowing(prod, 'rds:DescribeDBInstances').filter((s) => s.policy.startsWith('Scaling'));
    expect(describes.map((s) => arnOf(s.Resource)).join()).toContain(':db:orders-db-replica-*');
    // Nothing it does not need: no deletes without scale-in, no failover of clusters it was not given.
    expect(allowing(prod, 'rds:DeleteDBInstance').filter((s) => s.policy.startsWith('Scaling'))).toEqual([]);
    expect(allowing(prod, 'rds:FailoverDBCluster')).toEqual([]);
  });
});

describe('scaling run reports', () => {
  it('may write to the report bucket only under runs/scaling/ (the full report of a run with many decisions)', () => {
    // Act
    const writes = objectWrites(prod, 'Scaling');
    // Assert
    expect(writes).toHaveLength(1);
    expect(writes[0]!.Sid).toBe('WriteRunReports');
    expect(JSON.stringify(writes[0]!.Resource)).toMatch(/\/runs\/scaling\/\*"/);
    expect(allowing(prod, 's3:GetObject').filter((s) => s.policy.startsWith('Scaling'))).toEqual([]);
  });
});

describe('scaling with every action, an SNS topic and scale-in', () => {
  it('builds the state table for scaling alone (no drills on this stage)', () => {
    all.resourceCountIs('AWS::DynamoDB::Table', 1);
    all.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'steward-staging-state',
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
  });

  it('subscribes to the alarm topic, filtered on the message body to the rules’ alarms', () => {
    // Prepare
    const fn = scalingFunction(all);

    // Assert
    all.hasResourceProperties('AWS::SNS::Subscription', {
      TopicArn: TOPIC,
      Protocol: 'lambda',
      Endpoint: { 'Fn::GetAtt': [fn, 'Arn'] },
      FilterPolicyScope: 'MessageBody',
      FilterPolicy: {
        AlarmName: Match.arrayWith([
          'orders-db-cpu-high',
          { prefix: 'billing-aurora-load-' },
          { prefix: 'orders-db-' },
        ]),
      },
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue() },
    });
    all.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'sns.amazonaws.com',
      SourceArn: TOPIC,
    });
  });

  it('listens for OK too on scale-in rules, and checks for sustained OKs on a schedule', () => {
    all.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        detail: {
          alarmName: Match.arrayWith(['sessions-redis-cpu-high']),
          state: { value: ['ALARM', 'OK'] },
        },
      },
    });
    all.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        detail: {
          alarmName: Match.arrayWith([{ prefix: 'billing-aurora-load-' }]),
          state: { value: ['ALARM'] },
        },
      },
    });
    all.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'steward-staging-scaling-scale-in',
      ScheduleExpression: 'rate(15 minutes)',
      Target: {
        Input: Match.serializedJson({
          action: 'scale-in-check',
          scheduledTime: '<aws.scheduler.scheduled-time>',
        }),
      },
    });
  });

  it('deletes only steward-managed replicas, and only for rules that scale in', () => {
    // Act
    const deletes = allowing(all, 'rds:DeleteDBInstance');
    const decrease = allowing(all, 'elasticache:DecreaseReplicaCount');

    // Assert
    expect(deletes).toHaveLength(1);
    expect(deletes[0]!.Condition).toEqual({ StringEquals: { 'rds:db-tag/steward:managed': 'true' } });
    expect(list(deletes[0]!.Resource).map(arnOf)).toEqual([
      expect.stringContaining(':db:orders-db-replica-*'),
    ]);
    expect(decrease.map((s) => arnOf(s.Resource))).toEqual([
      expect.stringContaining(':replicationgroup:sessions-redis'),
    ]);
  });

  it('adds Aurora readers only with the managed tag, and fails over only the named cluster', () => {
    // Act
    const [create] = allowing(all, 'rds:CreateDBInstance');
    const failover = allowing(all, 'rds:FailoverDBCluster');
    const testFailover = allowing(all, 'elasticache:TestFailover');

    // Assert
    expect(create!.Condition).toEqual({ StringEquals: { 'aws:RequestTag/steward:managed': 'true' } });
    expect(list(create!.Resource).map(arnOf).join()).toContain(':db:billing-reader-*');
    expect(failover.map((s) => arnOf(s.Resource))).toEqual([
      expect.stringMatching(/:cluster:billing"\]\]\}$/),
    ]);
    expect(testFailover.map((s) => arnOf(s.Resource))).toEqual([
      expect.stringContaining(':replicationgroup:sessions-redis'),
    ]);
  });

  it('never allows a destructive action on a wildcard without a condition, nor writes on "*"', () => {
    expect(unguardedDestructive(all)).toEqual([]);
    expect(unconditionedWildcardWrites(all)).toEqual([]);
  });
});

describe('scaling disabled', () => {
  it('builds no scaling function, rule or alarm (the state table stays: retention keeps its budget there)', () => {
    expect(
      disabled.findResources('AWS::Lambda::Function', {
        Properties: { FunctionName: 'steward-staging-scaling' },
      }),
    ).toEqual({});
    const patterns = Object.values(disabled.findResources('AWS::Events::Rule')).map((r) =>
      JSON.stringify((r as { Properties: { EventPattern: unknown } }).Properties.EventPattern),
    );
    expect(patterns.filter((p) => p.includes('aws.cloudwatch'))).toEqual([]);
    disabled.resourceCountIs('AWS::DynamoDB::Table', 1);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged findings for the scaling stacks', () => {
    // Act
    const report = new AwsSolutionsChecks(app).validateScope(app);

    // Assert
    expect(
      report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
  });
});
