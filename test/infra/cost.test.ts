import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { COST_EXPLORER_ACTIONS } from '../../infra/cost.js';
import { stackId, StewardStack } from '../../infra/stack.js';
import { parseConfig } from '../../shared/config/schema.js';
import { exampleInput, loadExample } from '../support/examples.js';
import {
  allowing,
  objectWrites,
  unbundledContext,
  list,
  statements,
  unconditionedWildcardWrites,
} from './iam.js';

const ANOMALY_TOPIC = 'arn:aws:sns:us-east-1:111122223333:cost-anomalies';

let app: App;
let prod: StewardStack;
let t: Template;
let costOnly: Template;

beforeAll(() => {
  // One app as `cdk synth` builds it (placeholder bundles: nag sees the same tree): prod as shipped, and a stage
  // with cost as its only state user (no drill, no scaling) and an anomaly SNS topic.
  app = new App({ context: unbundledContext });
  prod = new StewardStack(app, stackId('prod'), { config: loadExample('prod') });
  const costStage = parseConfig(
    {
      ...exampleInput('staging'),
      cost: {
        enabled: true,
        alertsBy: 'cost-explorer',
        hourly: true,
        anomalies: { snsTopicArn: ANOMALY_TOPIC },
      },
      drill: { enabled: false },
      scaling: { enabled: false },
    },
    'test',
  );
  const other = new StewardStack(app, 'Steward-cost-only', { config: costStage });
  t = Template.fromStack(prod);
  costOnly = Template.fromStack(other);
});

describe('cost function', () => {
  it('with alertsBy: cost-explorer, runs the daily check at 07:00 UTC with the scheduled time as input', () => {
    costOnly.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'steward-staging-cost',
      ScheduleExpression: 'cron(0 7 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      Target: {
        Input: Match.serializedJson({
          action: 'cost-check',
          scheduledTime: '<aws.scheduler.scheduled-time>',
        }),
        DeadLetterConfig: { Arn: Match.anyValue() },
      },
    });
  });

  it('is a steward function named for the capability, with the state table in its environment', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'steward-prod-cost',
      Timeout: 120,
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'cost',
          STATE_TABLE: { Ref: Match.anyValue() },
        }),
      },
    });
  });

  it("parks what failed in the stage's failure queue, whose one alarm warns", () => {
    const queue = Object.keys(
      t.findResources('AWS::SQS::Queue', { Properties: { QueueName: 'steward-prod-failures' } }),
    );
    expect(queue).toHaveLength(1);
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp('^CostFunctionHandler') },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue[0], 'Arn'] } } },
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'steward-prod-failures' });
  });

  it('receives Cost Anomaly Detection events from EventBridge, with a DLQ', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.ce'], 'detail-type': ['Anomaly Detected'] },
      Targets: [Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() } })],
    });
  });

  it('subscribes to the configured anomaly SNS topic in its region, with a DLQ', () => {
    costOnly.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: ANOMALY_TOPIC,
      Region: 'us-east-1',
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue() },
    });
    costOnly.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'sns.amazonaws.com',
      SourceArn: ANOMALY_TOPIC,
    });
  });
});

describe('cost budgets (alertsBy: budgets, the prod example)', () => {
  const budgets = (tpl: Template) =>
    Object.values(tpl.findResources('AWS::Budgets::Budget')).map(
      (r) => r.Properties as { Budget: Record<string, unknown>; NotificationsWithSubscribers: unknown[] },
    );
  const topicRef = (severity: string) =>
    Object.keys(
      t.findResources('AWS::SNS::Topic', { Properties: { TopicName: `steward-prod-${severity}` } }),
    )[0]!;
  const notification = (type: string, severity: string) => ({
    Notification: {
      NotificationType: type,
      ComparisonOperator: 'GREATER_THAN',
      Threshold: 100,
      ThresholdType: 'PERCENTAGE',
    },
    Subscribers: [{ SubscriptionType: 'SNS', Address: { Ref: topicRef(severity) } }],
  });

  it('makes each threshold a monthly budget alerting on actual and forecast through its severity topic', () => {
    // Assert: the example's $2000 / $2500 warning and $3000 critical thresholds.
    for (const [amount, severity] of [
      [2000, 'warning'],
      [2500, 'warning'],
      [3000, 'critical'],
    ] as const) {
      t.hasResourceProperties('AWS::Budgets::Budget', {
        Budget: {
          BudgetName: `steward-prod-usd-${amount}-${severity}`,
          BudgetType: 'COST',
          TimeUnit: 'MONTHLY',
          BudgetLimit: { Amount: amount, Unit: 'USD' },
          Metrics: ['UnblendedCost'],
        },
        NotificationsWithSubscribers: [
          notification('ACTUAL', severity),
          notification('FORECASTED', severity),
        ],
      });
    }
  });

  it("makes the LLM/API limit a daily budget of 24 × $100 on Bedrock's services, by name and by suffix", () => {
    t.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: {
        BudgetName: 'steward-prod-llm-api-critical',
        TimeUnit: 'DAILY',
        BudgetLimit: { Amount: 2400, Unit: 'USD' },
        FilterExpression: {
          Or: [
            { Dimensions: { Key: 'SERVICE', Values: ['Amazon Bedrock'], MatchOptions: ['EQUALS'] } },
            {
              Dimensions: {
                Key: 'SERVICE',
                Values: ['(Amazon Bedrock Edition)'],
                MatchOptions: ['ENDS_WITH'],
              },
            },
          ],
        },
      },
      NotificationsWithSubscribers: [notification('ACTUAL', 'critical')],
    });
    expect(budgets(t)).toHaveLength(4);
  });

  it('schedules no Cost Explorer check, and builds no budget for the Cost Explorer check', () => {
    expect(
      Object.values(t.findResources('AWS::Scheduler::Schedule')).map((r) => r.Properties.Name as string),
    ).not.toContain('steward-prod-cost');
    expect(budgets(costOnly)).toEqual([]);
  });

  it("lets only this account's budgets publish to the topics and use their key", () => {
    // This stack's account (a deploy-time token) and its budgets' ARNs: arn:<partition>:budgets::<account>:*
    const onlyOurBudgets = {
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: {
        'aws:SourceArn': {
          'Fn::Join': ['', ['arn:aws:budgets::', { Ref: 'AWS::AccountId' }, ':*']],
        },
      },
    };
    const policies = Object.values(t.findResources('AWS::SNS::TopicPolicy'));
    const budgetStatements = policies.flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as { Sid: string }[]).filter((s) => s.Sid === 'AllowBudgets'),
    );
    expect(budgetStatements).toHaveLength(3);
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowBudgets',
            Principal: { Service: 'budgets.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: onlyOurBudgets,
          }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowBudgetsToPublish',
            Principal: { Service: 'budgets.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: onlyOurBudgets,
          }),
        ]),
      },
    });
    expect(JSON.stringify(costOnly.toJSON())).not.toContain('budgets.amazonaws.com');
  });
});

describe('cost permissions', () => {
  it('may call exactly the three Cost Explorer reads, and nothing else of ce:', () => {
    // Act
    const ce = statements(t).filter((s) => list(s.Action).some((a) => a.startsWith('ce:')));

    // Assert
    expect(ce).toHaveLength(1);
    expect(ce[0]!.Sid).toBe('ReadCostExplorer');
    expect(ce[0]!.Effect).toBe('Allow');
    expect(list(ce[0]!.Action).sort()).toEqual([...COST_EXPLORER_ACTIONS].sort());
    expect(COST_EXPLORER_ACTIONS).toEqual(['ce:GetCostAndUsage', 'ce:GetCostForecast', 'ce:GetAnomalies']);
  });

  it('writes the ledger only in the state table, by key (no Scan)', () => {
    // Act
    const [ledger] = statements(t).filter((s) => s.Sid === 'CostAlertLedger');

    // Assert
    expect(list(ledger!.Action)).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:DeleteItem']));
    expect(list(ledger!.Action)).not.toContain('dynamodb:Scan');
    expect(JSON.stringify(ledger!.Resource)).toContain('StateTable');
    expect(allowing(t, 'dynamodb:Scan')).toEqual([]);
  });

  it("finds undelivered alerts through the state table's outbox index, and only there", () => {
    // Act
    const [outbox] = statements(t).filter((s) => s.Sid === 'CostAlertOutbox');

    // Assert
    expect(list(outbox!.Action)).toEqual(['dynamodb:Query']);
    expect(JSON.stringify(outbox!.Resource)).toMatch(/StateTable.*\/index\/outbox/);
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [
        {
          IndexName: 'outbox',
          KeySchema: [
            { AttributeName: 'outbox', KeyType: 'HASH' },
            { AttributeName: 'outboxSince', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  it("writes to the report bucket only its own run reports' prefix", () => {
    // Act
    const writes = objectWrites(t, 'Cost');
    // Assert
    expect(writes).toHaveLength(1);
    expect(writes[0]!.Sid).toBe('WriteRunReports');
    expect(JSON.stringify(writes[0]!.Resource)).toMatch(/\/runs\/cost\/\*"/);
  });

  it('adds no unconditioned wildcard writes', () => {
    expect(unconditionedWildcardWrites(t)).toEqual([]);
    expect(unconditionedWildcardWrites(costOnly)).toEqual([]);
  });
});

describe('state table', () => {
  it('exists when cost is the only capability that needs it: on-demand, PITR, encrypted, pk + ttl', () => {
    costOnly.resourceCountIs('AWS::DynamoDB::Table', 1);
    costOnly.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'steward-staging-state',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('is shared, not duplicated, when drills are on too (prod)', () => {
    t.resourceCountIs('AWS::DynamoDB::Table', 1);
  });

  it('is built for a stage without drill, scaling or cost (dev) too: retention keeps its budget there', () => {
    const dev = loadExample('dev');
    const tpl = Template.fromStack(
      new StewardStack(new App({ context: unbundledContext }), 'Steward-dev-x', {
        config: {
          ...dev,
          drill: { ...dev.drill, enabled: false },
          scaling: { ...dev.scaling, enabled: false },
          cost: { ...dev.cost, enabled: false },
        },
      }),
    );
    tpl.resourceCountIs('AWS::DynamoDB::Table', 1);
    tpl.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'steward-dev-state' });
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged findings for prod and a cost-only stage', () => {
    // Act
    const report = new AwsSolutionsChecks(app).validateScope(app);

    // Assert
    expect(
      report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
  });
});
