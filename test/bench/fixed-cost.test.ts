import { describe, expect, it, vi } from 'vitest';
import { fixedCostRows } from '../../bench/fixed-cost.js';
import { type CostInputs, fixedCost, total } from '../../bench/fixed-cost/model.js';
import { type CfnTemplate, countTemplate, firings } from '../../bench/fixed-cost/template.js';
import { ROOT } from '../support/sdk-recorder.js';
import { join } from 'node:path';
import { loadStage } from '../../shared/config/files.js';

// A stage as the synthesized template says it (the shape of the prod example after issue 16's levers): one
// function scheduled hourly, one daily, a state machine monthly; one alarm; one key.
const template = (extra: Record<string, { Type: string; Properties?: Record<string, unknown> }> = {}) =>
  ({
    Resources: {
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: { FunctionName: 'steward-prod-report', MemorySize: 1024 },
      },
      Fn2: {
        Type: 'AWS::Lambda::Function',
        Properties: { FunctionName: 'steward-prod-cost', MemorySize: 512 },
      },
      Hourly: {
        Type: 'AWS::Scheduler::Schedule',
        Properties: {
          Name: 'steward-prod-status-check',
          ScheduleExpression: 'rate(1 hour)',
          Target: { Arn: { 'Fn::GetAtt': ['Fn', 'Arn'] }, Input: '{"action":"status-check"}' },
        },
      },
      Daily: {
        Type: 'AWS::Scheduler::Schedule',
        Properties: {
          Name: 'steward-prod-cost',
          ScheduleExpression: 'cron(0 7 * * ? *)',
          Target: { Arn: { 'Fn::GetAtt': ['Fn2', 'Arn'] }, Input: '{"action":"cost-check"}' },
        },
      },
      Failures: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: { AlarmName: 'steward-prod-failures', Namespace: 'AWS/SQS', MetricName: 'X' },
      },
      Key: { Type: 'AWS::KMS::Key' },
      ...extra,
    },
  }) satisfies CfnTemplate;

const inputs = (t: CfnTemplate, hourlyMetrics: string[] = []): CostInputs => ({
  counts: countTemplate(t),
  emissions: {
    'steward-prod-status-check': { all: { metrics: hourlyMetrics, logBytes: 500 } },
    'steward-prod-cost': {
      all: { metrics: ['Steward/CostExplorerRequests{service=cost}'], logBytes: 800, requests: 2 },
    },
  },
  drillMetrics: [],
  coldStart: [],
  databases: 100,
  drCopying: 0,
  drillTargets: 0,
});

const line = (i: CostInputs, component: string) => fixedCost(i).find((l) => l.component === component)!;
const verdict = (i: CostInputs) => fixedCostRows('test', [i]).find((r) => r.metric.startsWith('total'))!;

describe('fixed monthly cost model', () => {
  it('counts schedules by the hour: hourly fires in 720 hours of the 30-day month, a daily cron in 30', () => {
    expect(firings('rate(1 hour)')).toMatchObject({ count: 720 });
    expect(firings('rate(1 hour)').hours.size).toBe(720);
    expect(firings('cron(0 7 * * ? *)').count).toBe(30);
    expect(firings('cron(0 5 1 * ? *)').count).toBe(1);
    expect(firings('cron(30 4 ? * MON-FRI *)').count).toBe(21);
    expect(firings('cron(0/15 * * * ? *)').hours.size).toBe(720);
  });

  it('bills a custom metric by the hours it receives data: hourly $0.30, daily 30/730 of it', () => {
    // Prepare
    const quiet = inputs(template());
    const hourly = inputs(template(), ['Steward/DatabasesLate{service=report}']);

    // Act / Assert
    expect(line(hourly, 'custom metrics sent most hours').usd).toBeCloseTo(0.3, 4);
    expect(line(quiet, 'custom metrics sent most hours').usd).toBe(0);
    expect(line(quiet, 'custom metrics sent daily or less').usd).toBeCloseTo((0.3 * 30) / 720, 4);
  });

  it('counts alarm metrics from the template: a metric-math alarm of 3 metrics costs 3 alarm metrics', () => {
    // Prepare
    const math = template({
      Math: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          Metrics: [
            { Id: 'e', Expression: 'a+b+c' },
            ...['a', 'b', 'c'].map((Id) => ({ Id, MetricStat: { Metric: { Namespace: 'AWS/Lambda' } } })),
          ],
        },
      },
    });

    // Act / Assert
    expect(line(inputs(math), 'alarms')).toMatchObject({
      usd: 0.4,
      how: '2 alarms, 4 alarm metrics (0 on custom metrics)',
    });
  });

  it('measured Cost Explorer requests per run × runs', () => {
    // 2 requests × 30 daily runs, scaled from the 30-day reference month to 730 hours.
    const ce = line(inputs(template()), 'Cost Explorer API');
    expect(ce.usd).toBeCloseTo((2 * 30 * 730) / 720 / 100, 4);
    expect(ce.how).toBe('61 requests (measured per run × runs)');
  });

  it('goes red at 100 databases when an hourly metric, an alarm or a dashboard pushes it over $2', () => {
    // Prepare: $1.00 key + $0.10 alarm + $0.61 Cost Explorer + the rest: under $2.
    const base = inputs(template());
    const plusHourly = inputs(template(), [
      'Steward/DatabasesLate{service=report}',
      'Steward/DatabasesFailing{service=report}',
    ]);
    const plusAlarms = inputs(
      template(
        Object.fromEntries(
          ['A', 'B', 'C'].map((k) => [
            k,
            { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'Errors', Namespace: 'AWS/Lambda' } },
          ]),
        ),
      ),
    );
    const plusDashboard = inputs(template({ Dash: { Type: 'AWS::CloudWatch::Dashboard' } }));

    // Act / Assert
    expect(total(fixedCost(base))).toBeLessThanOrEqual(2);
    expect(verdict(base).ok).toBe(true);
    expect(verdict(plusHourly)).toMatchObject({ ok: false, target: '≤ $2.00' });
    expect(verdict(plusAlarms).ok).toBe(false);
    expect(verdict(plusDashboard).ok).toBe(false);
  });

  it('counts budgets with notifications as free, and bills action-enabled budgets beyond the first two', () => {
    // Prepare: four notification budgets (the prod example's thresholds and LLM/API limit), then three with actions.
    const budget = (k: string) => [
      k,
      { Type: 'AWS::Budgets::Budget', Properties: { Budget: { BudgetName: k } } },
    ];
    const plain = template(Object.fromEntries(['B1', 'B2', 'B3', 'B4'].map(budget)));
    const actions = template({
      ...Object.fromEntries(['B1', 'B2', 'B3'].map(budget)),
      ...Object.fromEntries(
        ['B1', 'B2', 'B3'].map((k) => [
          `${k}Action`,
          { Type: 'AWS::Budgets::BudgetsAction', Properties: { BudgetName: k } },
        ]),
      ),
    });

    // Act / Assert: 3 action budgets × 30 days − 62 free budget-days = 28 × $0.10.
    expect(line(inputs(plain), 'AWS Budgets')).toMatchObject({
      usd: 0,
      how: '4 budgets (notifications only: free), 0 with actions',
    });
    expect(line(inputs(actions), 'AWS Budgets').usd).toBeCloseTo(2.8, 4);
  });

  it('reports an opt-in variant without holding it to the target', () => {
    // Prepare: over $2 by a dashboard.
    const over = inputs(template({ Dash: { Type: 'AWS::CloudWatch::Dashboard' } }));

    // Act
    const total100 = fixedCostRows('variant', [over], false).find((r) => r.metric.startsWith('total'))!;

    // Assert
    expect(total100).toMatchObject({ ok: true, target: 'reported', baseline: 'no target' });
  });

  it('counts an interface endpoint per AZ for every hour of the month', () => {
    const endpoint = template({
      Ep: {
        Type: 'AWS::EC2::VPCEndpoint',
        Properties: { VpcEndpointType: 'Interface', SubnetIds: ['a', 'b'] },
      },
    });
    expect(line(inputs(endpoint), 'interface endpoints').usd).toBeCloseTo(14.6, 2);
    expect(verdict(inputs(endpoint)).ok).toBe(false);
  });
});

describe('the fixed-cost estate', () => {
  it('is steady: an hourly copy reconcile over its month of copied snapshots copies nothing and emits no metric', async () => {
    // Prepare: metrics on, as deployed (test/setup.ts turns them off), in modules loaded afresh; the prod example
    // (it copies to DR) over the estate the bench builds, mid-afternoon.
    vi.resetModules();
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_DEV', '');
    const { scheduledRuns } = await import('../../bench/fixed-cost/runs.js');
    const { config } = loadStage(join(ROOT, 'examples'), 'prod');
    const run = scheduledRuns(config).backup!;

    // Act
    const emitted = await run({ action: 'reconcile-copies' }, new Date('2026-11-10T15:30:00Z'), 10);
    vi.unstubAllEnvs();

    // Assert: every DR copy is recognised by its copied-from ARN (a copy tagged otherwise is copied again hourly).
    expect(emitted?.metrics).toEqual([]);
  });
});
