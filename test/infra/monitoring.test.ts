import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { StewardStack } from '../../infra/stack.js';
import { exampleInput } from '../support/examples.js';
import { unbundledContext } from './iam.js';

// The dashboard is opt-in (`dashboard: true`): $3 a month beyond the account's three free dashboards. Without
// it (the examples), no dashboard: stack.test.ts.
let withDashboard: Template;
beforeAll(() => {
  const app = new App({ context: unbundledContext });
  const prod = exampleInput('prod');
  const dash = new StewardStack(app, 'Steward-dash', { config: { ...prod, stage: 'dash', dashboard: true } });
  withDashboard = Template.fromStack(dash);
});

describe('dashboard', () => {
  it('with dashboard: true, has every row: functions, one failure queue graph, drills, scaling, cost, status', () => {
    // Act
    const dashboards = Object.values(withDashboard.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboards[0]!.Properties.DashboardBody);

    // Assert
    expect(dashboards).toHaveLength(1);
    for (const metric of [
      'Invocations',
      'Errors',
      'DrillPassed',
      'DrillRtoSeconds',
      'ExecutionsFailed',
      'ScalingApprovalsRequested',
      'MonthToDateUsd',
      'DatabasesFailing',
    ]) {
      expect(body).toContain(metric);
    }
    expect(body).toContain('orders-db');
    expect(body.match(/failure queue \(every function\)/g)).toHaveLength(1);
    expect(body.match(/ApproximateNumberOfMessagesVisible/g)).toHaveLength(1);
  });
});
