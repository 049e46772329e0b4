import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALARM_ACTION_PRINCIPAL, ALARM_PERMISSIONS } from '../../infra/scaling.js';
import { stackId, StewardStack } from '../../infra/stack.js';
import { parseConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import { loadExample } from '../support/examples.js';
import { scalingConfigInput } from '../shared/scaling/fixtures.js';
import { allowing, unbundledContext, list } from './iam.js';

// The scaling rules delivered by the alarms themselves (Lambda alarm actions) instead of EventBridge.
const direct = {
  ...scalingConfigInput,
  stage: 'direct',
  scaling: {
    ...scalingConfigInput.scaling,
    delivery: 'lambda-action',
    rules: {
      ...scalingConfigInput.scaling.rules,
      'orders-db-cpu': {
        ...scalingConfigInput.scaling.rules['orders-db-cpu'],
        alarm: { name: 'orders-db-cpu-high', create: { metric: 'CPUUtilization', threshold: 80 } },
      },
    },
  },
} satisfies StewardConfigInput;

let app: App;
let prod: Template;
let lambdaAction: Template;

beforeAll(() => {
  app = new App({ context: unbundledContext });
  const stacks = [
    new StewardStack(app, stackId('prod'), { config: loadExample('prod') }),
    new StewardStack(app, 'Steward-direct', { config: parseConfig(direct, 'test') }),
  ];
  [prod, lambdaAction] = stacks.map((s) => Template.fromStack(s)) as [Template, Template];
});

const rulesMatching = (t: Template, pattern: Record<string, unknown>) =>
  Object.keys(
    t.findResources('AWS::Events::Rule', { Properties: { EventPattern: Match.objectLike(pattern) } }),
  );

describe('event rules', () => {
  it('routes AWS Health scheduled changes and issues of RDS, ElastiCache, EC2 and EBS to the backup function', () => {
    expect(
      rulesMatching(prod, {
        source: ['aws.health'],
        'detail-type': ['AWS Health Event'],
        detail: {
          service: ['RDS', 'ELASTICACHE', 'EC2', 'EBS'],
          eventTypeCategory: ['scheduledChange', 'issue'],
        },
      }),
    ).toHaveLength(1);
  });

  it('routes the RDS failover, stop/start and storage events to the backup function', () => {
    expect(
      rulesMatching(prod, {
        source: ['aws.rds'],
        'detail-type': ['RDS DB Instance Event', 'RDS DB Cluster Event'],
        detail: {
          EventID: Match.arrayWith(['RDS-EVENT-0049', 'RDS-EVENT-0087', 'RDS-EVENT-0088', 'RDS-EVENT-0007']),
        },
      }),
    ).toHaveLength(1);
  });

  it('routes instance failovers (the function keeps its rules’ databases), and the rules’ alarms’ configuration changes, to scaling', () => {
    // No list of ARNs: it outgrew a pattern's 2,048 characters at ~35 databases (test/infra/event-patterns.test.ts).
    expect(
      rulesMatching(prod, {
        source: ['aws.rds'],
        'detail-type': ['RDS DB Instance Event'],
        detail: { EventID: ['RDS-EVENT-0015', 'RDS-EVENT-0049'] },
      }),
    ).toHaveLength(1);
    expect(
      rulesMatching(prod, {
        'detail-type': ['CloudWatch Alarm Configuration Change'],
        detail: { alarmName: Match.arrayWith(['orders-db-cpu-high']) },
      }),
    ).toHaveLength(1);
  });

  it('routes a drill execution that ends ABORTED, TIMED_OUT or FAILED to the drill function', () => {
    expect(
      rulesMatching(prod, {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['ABORTED', 'TIMED_OUT', 'FAILED'] },
      }),
    ).toHaveLength(1);
  });
});

describe('permissions', () => {
  it('lets the backup function create only its own pre-maintenance schedules, passing only its invoker role to Scheduler', () => {
    const create = allowing(prod, 'scheduler:CreateSchedule');
    expect(create).toHaveLength(1);
    expect(JSON.stringify(create[0]!.Resource)).toMatch(/schedule\/steward-prod\/steward-prod-pre-\*/);
    const pass = allowing(prod, 'iam:PassRole');
    expect(pass).toHaveLength(1);
    expect(pass[0]!.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
    });
    expect(JSON.stringify(pass[0]!.Resource)).toMatch(/BackupFunctionSchedulerRole/);
  });

  it('gives the backup function the scheduler environment it reads', () => {
    prod.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'steward-prod-backup',
      Environment: {
        Variables: Match.objectLike({
          MAINTENANCE_SCHEDULE_GROUP: 'steward-prod',
          MAINTENANCE_TARGET_ARN: Match.anyValue(),
          MAINTENANCE_ROLE_ARN: Match.anyValue(),
          MAINTENANCE_DLQ_ARN: Match.anyValue(),
        }),
      },
    });
  });

  it('scopes cloudwatch:DescribeAlarms to the rules’ alarms and states:DescribeExecution to drill executions', () => {
    const describe = allowing(prod, 'cloudwatch:DescribeAlarms');
    expect(describe).toHaveLength(1);
    expect(JSON.stringify(describe[0]!.Resource)).toMatch(/alarm:orders-db-cpu-high/);
    expect(list(describe[0]!.Resource as never)).not.toContain('*');
    const exec = allowing(prod, 'states:DescribeExecution');
    expect(JSON.stringify(exec[0]!.Resource)).toMatch(/execution:steward-prod-drill:\*/);
  });
});

describe('scaling.delivery: lambda-action', () => {
  it('adds no alarm state-change rule, makes the alarms steward creates invoke the function, and lets in each rule’s alarm by SourceArn and SourceAccount', () => {
    expect(rulesMatching(lambdaAction, { 'detail-type': ['CloudWatch Alarm State Change'] })).toEqual([]);
    lambdaAction.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'orders-db-cpu-high',
      AlarmActions: [Match.objectLike({ 'Fn::GetAtt': Match.anyValue() })],
    });
    const perms = Object.values(
      lambdaAction.findResources('AWS::Lambda::Permission', {
        Properties: { Principal: ALARM_ACTION_PRINCIPAL },
      }),
    ) as { Properties: { SourceArn?: unknown; SourceAccount?: unknown } }[];
    // A few for the stage (test/infra/scaling-lambda-action.test.ts); these rules' alarms are few: one per name
    // or prefix, the names the prefix `orders-db-` covers within it.
    const patterns = perms.map((p) =>
      JSON.stringify(p.Properties.SourceArn).replace(/^.*:alarm:([^"]*)"\]\]\}$/, '$1'),
    );
    expect(patterns.sort()).toEqual([
      'billing-aurora-load-*',
      'billing-aurora-unhealthy',
      'orders-db-*',
      'sessions-redis-cpu-high',
      'sessions-redis-memory-high',
      'sessions-redis-unhealthy',
    ]);
    expect(perms.length).toBeLessThanOrEqual(ALARM_PERMISSIONS);
    for (const p of perms) {
      expect(JSON.stringify(p.Properties.SourceArn)).toMatch(/^\{"Fn::Join".*:cloudwatch:eu-west-1:/);
      expect(p.Properties.SourceAccount).toEqual({ Ref: 'AWS::AccountId' });
    }
  });

  it('is cdk-nag clean', () => {
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(
      report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
  });
});
