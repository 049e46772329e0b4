import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackId, StewardStack } from '../../infra/stack.js';
import { loadExample } from '../support/examples.js';
import { unbundledContext, isDestructive, list, statements } from './iam.js';

let stack: StewardStack;
let t: Template;

beforeAll(() => {
  // No bundling: these assertions are about the template; the stack and nag tests bundle already.
  const app = new App({ context: unbundledContext });
  stack = new StewardStack(app, stackId('prod'), { config: loadExample('prod') });
  t = Template.fromStack(stack);
});

/** The statements of the report function's role, by Sid. */
const reportStatements = () =>
  Object.fromEntries(
    statements(t)
      .filter((s) => s.policy.startsWith('ReportFunctionRole'))
      .map((s) => [s.Sid, s]),
  );

describe('report function', () => {
  it('runs the status check hourly and the evidence of the month before on the 1st at 06:00 UTC', () => {
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'steward-prod-status-check',
      ScheduleExpression: 'rate(1 hour)',
      Target: {
        Input: Match.serializedJson({
          action: 'status-check',
          scheduledTime: '<aws.scheduler.scheduled-time>',
        }),
      },
    });
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'steward-prod-evidence',
      ScheduleExpression: 'cron(0 6 1 * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      Target: {
        Input: Match.serializedJson({ action: 'evidence', scheduledTime: '<aws.scheduler.scheduled-time>' }),
      },
    });
  });

  it('knows the report bucket and the state table', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'steward-prod-report',
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'report',
          REPORT_BUCKET: { Ref: Match.stringLikeRegexp('ReportsBucket') },
          STATE_TABLE: { Ref: Match.stringLikeRegexp('StateTable') },
        }),
      },
    });
  });

  it('reads databases and history, writes only evidence and its own memory, and changes nothing else', () => {
    // Act
    const s = reportStatements();
    // Assert
    expect(s.DescribeDatabasesAndSnapshots?.Condition).toEqual({
      StringEquals: { 'aws:RequestedRegion': ['eu-west-1', 'us-west-2'] },
    });
    expect(list(s.ReadHistory!.Action)).toEqual(['s3:GetObject']);
    expect(JSON.stringify(s.ReadHistory!.Resource)).toMatch(
      /drills\/\*.*runs\/retention\/\*.*status\/conditions\.json\*/,
    );
    // Unconditioned: a GetObject of a missing key is a 404 only with ListBucket on the bucket itself.
    expect(list(s.ReadHistoryList!.Action)).toEqual(['s3:ListBucket']);
    expect(s.ReadHistoryList!.Condition).toBeUndefined();
    expect(JSON.stringify(s.WriteEvidence!.Resource)).toContain('/evidence/*');
    expect(JSON.stringify(s.WriteOpenConditions!.Resource)).toContain('/status/conditions.json');
    expect(list(s.WriteRunReports!.Action)).toEqual(['s3:PutObject']);
    expect(JSON.stringify(s.WriteRunReports!.Resource)).toContain('/runs/report/*');
    expect(list(s.ReadScalingState!.Action)).toEqual(['dynamodb:BatchGetItem']);
    expect(s.ReadScalingState!.Condition).toEqual({
      'ForAllValues:StringLike': {
        'dynamodb:LeadingKeys': ['scaling-cooldown#*', 'scaling-pending#*', 'scaling-approval#*'],
      },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    });
    expect(s.OnlyConfiguredRegions?.Condition).toEqual({
      StringNotEquals: { 'aws:RequestedRegion': ['eu-west-1', 'us-west-2'] },
    });
    const writes = Object.values(s as Record<string, { Action: string | string[]; Effect: string }>)
      .filter((x) => x.Effect === 'Allow')
      .flatMap((x) => list(x!.Action))
      .filter((a) => isDestructive(a) || /:(Put|Create|Update|Send|Publish|Scan)/.test(a));
    expect(new Set(writes)).toEqual(new Set(['s3:PutObject', 'sns:Publish', 'sqs:SendMessage']));
  });
});

describe('report bucket', () => {
  it('has the fixed name the CLI derives from stage, account and region, and is retained', () => {
    t.hasResource('AWS::S3::Bucket', {
      Properties: {
        BucketName: { 'Fn::Join': ['', ['steward-prod-reports-', { Ref: 'AWS::AccountId' }, '-eu-west-1']] },
        VersioningConfiguration: { Status: 'Enabled' },
      },
      DeletionPolicy: 'Retain',
    });
  });

  it('lets retention write its records, and only under runs/retention/', () => {
    const [record] = statements(t).filter((x) => x.Sid === 'WriteRetentionRecords');
    expect(list(record!.Action)).toEqual(['s3:PutObject']);
    expect(JSON.stringify(record!.Resource)).toMatch(/\/runs\/retention\/\*"\]\]\}$/);
  });
});
