import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { drEventsStackId, DrEventsStack } from '../../infra/dr-events.js';
import { addStages } from '../../infra/stages.js';
import { stackId, StewardStack } from '../../infra/stack.js';
import { parseConfig } from '../../shared/config/schema.js';
import { loadExample } from '../support/examples.js';
import { allowing, unbundledContext } from './iam.js';

// Event-driven DR copies as deployed: the DR region forwards copy-finished events to the primary region,
// the backup function's rules take both events, it may touch only its queue item, and each copying policy
// has a DR-lag alarm at its objective.
let app: App;
let prod: Template;
let dr: Template;
let drStack: DrEventsStack;

beforeAll(() => {
  app = new App({ context: unbundledContext });
  const config = loadExample('prod');
  const primary = new StewardStack(app, stackId('prod'), { config });
  drStack = new DrEventsStack(app, drEventsStackId('prod'), { config: parseConfig(config, 'prod') });
  prod = Template.fromStack(primary);
  dr = Template.fromStack(drStack);
});

describe('DR copy events', () => {
  it('deploys the forwarding rule in the DR region, to the primary default bus only', () => {
    expect(drStack.region).toBe('us-west-2');
    dr.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.rds'],
        'detail-type': ['RDS DB Snapshot Event'],
        detail: { EventID: ['RDS-EVENT-0060'], SourceIdentifier: [{ prefix: 'steward-' }] },
      },
      Targets: [
        Match.objectLike({
          Arn: {
            'Fn::Join': ['', ['arn:aws:events:eu-west-1:', { Ref: 'AWS::AccountId' }, ':event-bus/default']],
          },
        }),
      ],
    });
    const puts = allowing(dr, 'events:PutEvents');
    expect(puts).toHaveLength(1);
    expect(puts[0]!.Resource).toEqual({
      'Fn::Join': ['', ['arn:aws:events:eu-west-1:', { Ref: 'AWS::AccountId' }, ':event-bus/default']],
    });
    expect(Object.keys(dr.findResources('AWS::Lambda::Function'))).toEqual([]);
  });

  it('routes the forwarded copy-finished events, and snapshot-created events, to the backup function', () => {
    prod.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.rds'],
        'detail-type': ['RDS DB Snapshot Event'],
        region: ['us-west-2'],
        detail: { EventID: ['RDS-EVENT-0060'], SourceIdentifier: [{ prefix: 'steward-' }] },
      },
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BackupFunction'), 'Arn'] } }),
      ],
    });
    prod.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: { EventID: ['RDS-EVENT-0042', 'RDS-EVENT-0075'], SourceIdentifier: [{ prefix: 'steward-' }] },
      }),
    });
    prod.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'steward-prod-backup-copies',
      ScheduleExpression: 'rate(1 hour)',
    });
  });

  it('routes EBS snapshot events only when a policy copies EBS sets: created in the primary, copied forwarded from DR', () => {
    // Prepare: the prod example copies databases only; the same with EBS in its copying policy.
    const ebsRules = (t: Template) =>
      Object.values(t.findResources('AWS::Events::Rule')).filter((r) =>
        JSON.stringify(r).includes('"aws.ec2"'),
      );
    const input = loadExample('prod');
    const withEbs = parseConfig(
      {
        ...input,
        stage: 'ebs',
        backup: {
          ...input.backup,
          policies: Object.fromEntries(
            Object.entries(input.backup?.policies ?? {}).map(([k, p]) => [
              k,
              p.copyToDr ? { ...p, kinds: ['rds-instance', 'aurora-cluster', 'ebs'] } : p,
            ]),
          ),
        },
      },
      'ebs',
    );
    const ebsApp = new App({ context: unbundledContext });
    const primaryStack = new StewardStack(ebsApp, stackId('ebs'), { config: withEbs });
    const drEbs = new DrEventsStack(ebsApp, drEventsStackId('ebs'), { config: withEbs });
    const primary = Template.fromStack(primaryStack);
    const forward = Template.fromStack(drEbs);

    // Assert
    expect(ebsRules(prod)).toEqual([]);
    expect(ebsRules(dr)).toEqual([]);
    primary.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ec2'],
        'detail-type': ['EBS Snapshot Notification', 'EBS Multi-Volume Snapshots Completion Status'],
        detail: { event: ['createSnapshot', 'createSnapshots'], result: ['succeeded'] },
      },
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BackupFunction'), 'Arn'] } }),
      ],
    });
    primary.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ec2'],
        'detail-type': ['EBS Snapshot Notification'],
        region: ['us-west-2'],
        detail: { event: ['copySnapshot'], result: ['succeeded'] },
      },
    });
    forward.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ec2'],
        'detail-type': ['EBS Snapshot Notification'],
        detail: { event: ['copySnapshot'], result: ['succeeded'] },
      },
      Targets: [
        Match.objectLike({
          Arn: {
            'Fn::Join': ['', ['arn:aws:events:eu-west-1:', { Ref: 'AWS::AccountId' }, ':event-bus/default']],
          },
        }),
      ],
    });
  });

  it('lets the backup function read and conditionally write only the DR copy queue items', () => {
    const grants = allowing(prod, 'dynamodb:PutItem').filter((s) => s.Sid === 'DrCopyQueue');
    expect(grants).toHaveLength(1);
    expect(grants[0]!.Action).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(grants[0]!.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['dr-copies#*'] },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    });
    prod.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'steward-prod-backup',
      Environment: { Variables: Match.objectLike({ STATE_TABLE: Match.anyValue() }) },
    });
  });

  it("alarms on each copying policy's worst DR lag above its objective, to the warning topic", () => {
    prod.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'steward-prod-dr-lag-daily',
      Namespace: 'Steward',
      MetricName: 'DrLagMaxSeconds',
      Dimensions: Match.arrayWith([
        { Name: 'policy', Value: 'daily' },
        { Name: 'service', Value: 'backup' },
      ]),
      Statistic: 'Maximum',
      Period: 3600,
      // A daily schedule: 24 h plus the 12 h DR grace, where status calls the copy LATE.
      Threshold: 36 * 3600,
      ComparisonOperator: 'GreaterThanThreshold',
      // The metric is sent only while over the objective: no data is OK, and costs nothing.
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^NotificationsWarning') }],
    });
  });

  it('takes an explicit objective from the policy', () => {
    const input = loadExample('prod');
    const withObjective = {
      ...input,
      stage: 'objective',
      backup: {
        ...input.backup,
        policies: Object.fromEntries(
          Object.entries(input.backup?.policies ?? {}).map(([k, p]) => [
            k,
            { ...p, drLagObjectiveHours: 30 },
          ]),
        ),
      },
    };
    const t = Template.fromStack(
      new StewardStack(new App({ context: unbundledContext }), 'Steward-objective', {
        config: withObjective,
      }),
    );
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'steward-objective-dr-lag-daily',
      Threshold: 30 * 3600,
    });
  });

  it('adds the DR stack only for stages that copy, and it passes cdk-nag', () => {
    // Act
    const stages = new App({ context: unbundledContext });
    addStages(stages, () => undefined, { STEWARD_CONFIG: 'examples' });
    const ids = stages.node.children.map((c) => c.node.id).filter((id) => id.startsWith('Steward-'));
    const report = new AwsSolutionsChecks(app).validateScope(drStack);

    // Assert
    expect(ids.sort()).toEqual(['Steward-dev', 'Steward-prod', 'Steward-prod-dr', 'Steward-staging']);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});
