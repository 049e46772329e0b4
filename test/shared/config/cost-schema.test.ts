import { describe, expect, it } from 'vitest';
import { budgetServiceMatch, parseConfig } from '../../../shared/config/schema.js';
import { loadExample } from '../../support/examples.js';
import { ConfigError } from '../../../shared/errors.js';

const base = { stage: 'staging', region: 'eu-west-1' } as const;

describe('cost config', () => {
  it('defaults to the runbook: $2,000 / $2,500 warning, $3,000 critical, LLM/API above $100/h critical', () => {
    // Act
    const { cost } = parseConfig({ ...base, cost: { enabled: true } }, 'test');

    // Assert
    expect(cost.thresholds).toEqual([
      { amountUsd: 2000, severity: 'warning' },
      { amountUsd: 2500, severity: 'warning' },
      { amountUsd: 3000, severity: 'critical' },
    ]);
    expect(cost.hourlyLimits).toEqual([
      expect.objectContaining({ id: 'llm-api', maxUsdPerHour: 100, severity: 'critical' }),
    ]);
    expect(cost).toMatchObject({
      alertsBy: 'budgets',
      schedule: 'cron(0 7 * * ? *)',
      metric: 'UnblendedCost',
      forecast: true,
      hourly: false,
      spikes: { enabled: true, baselineDays: 7, minIncreasePercent: 50, minIncreaseUsd: 50 },
      anomalies: { enabled: true, lookbackDays: 3, minImpactUsd: 10 },
    });
  });

  it('is enabled in prod, as budgets', () => {
    expect(loadExample('prod').cost).toMatchObject({ enabled: true, alertsBy: 'budgets' });
  });

  it('keeps groupBy, hourly granularity and any wildcard for the Cost Explorer check', () => {
    // Act
    const { cost } = parseConfig(
      {
        ...base,
        cost: {
          enabled: true,
          alertsBy: 'cost-explorer',
          groupBy: 'linked-account',
          hourly: true,
          hourlyLimits: [{ id: 'x', services: ['Amazon * Edition'], maxUsdPerHour: 1 }],
        },
      },
      'test',
    );

    // Assert
    expect(cost).toMatchObject({ alertsBy: 'cost-explorer', groupBy: 'linked-account', hourly: true });
  });

  it.each([
    ['Amazon Bedrock', { option: 'EQUALS', value: 'Amazon Bedrock' }],
    ['*(Amazon Bedrock Edition)', { option: 'ENDS_WITH', value: '(Amazon Bedrock Edition)' }],
    ['Amazon Bedrock*', { option: 'STARTS_WITH', value: 'Amazon Bedrock' }],
    ['*Bedrock*', { option: 'CONTAINS', value: 'Bedrock' }],
    ['Amazon * Edition', undefined],
    ['*', undefined],
    ['**', undefined],
  ])('reads the service pattern "%s" as a budget filter', (pattern, match) => {
    expect(budgetServiceMatch(pattern)).toEqual(match);
  });

  it.each([
    [
      'two thresholds with the same id',
      {
        thresholds: [
          { amountUsd: 100, severity: 'info' },
          { amountUsd: 100, severity: 'warning' },
        ],
      },
      /cost\.thresholds\[1\]: threshold id "usd-100" is used twice/,
    ],
    [
      'a negative amount',
      { thresholds: [{ amountUsd: -1, severity: 'info' }] },
      /cost\.thresholds\[0\]\.amountUsd/,
    ],
    [
      'an unknown severity',
      { thresholds: [{ amountUsd: 1, severity: 'page' }] },
      /cost\.thresholds\[0\]\.severity/,
    ],
    [
      'routes that leave small anomalies unrouted',
      { anomalies: { minImpactUsd: 10, routes: [{ atLeastUsd: 100, severity: 'warning' }] } },
      /cost\.anomalies\.routes: no route covers/,
    ],
    [
      'an anomaly topic that is not an SNS ARN',
      { anomalies: { snsTopicArn: 'cost-anomalies' } },
      /cost\.anomalies\.snsTopicArn: must be an SNS topic ARN/,
    ],
    [
      'a per-hour limit without services',
      { hourlyLimits: [{ id: 'x', services: [], maxUsdPerHour: 1 }] },
      /cost\.hourlyLimits\[0\]\.services/,
    ],
    ['a metric Cost Explorer cannot forecast', { metric: 'UsageQuantity' }, /cost\.metric/],
    [
      'a second grouping with budgets, which only the Cost Explorer check shows',
      { groupBy: 'linked-account' },
      /cost\.groupBy: a second grouping in the alert message needs the Cost Explorer check: set alertsBy: cost-explorer/,
    ],
    [
      'hourly granularity with budgets',
      { hourly: true },
      /cost\.hourly: per-hour limits measured hour by hour needs the Cost Explorer check/,
    ],
    [
      'a service pattern a budget filter cannot express',
      { hourlyLimits: [{ id: 'x', services: ['Amazon * Edition'], maxUsdPerHour: 1 }] },
      /cost\.hourlyLimits\[0\]\.services\[0\]: "Amazon \* Edition": a budget filter matches/,
    ],
    [
      'more budgets than a stage may create',
      { thresholds: Array.from({ length: 20 }, (_, i) => ({ amountUsd: 100 + i, severity: 'info' })) },
      /cost\.thresholds: 21 budgets for one stage: at most 20/,
    ],
  ])('rejects %s, naming the field', (_, cost, message) => {
    // Act
    const act = () => parseConfig({ ...base, cost: { enabled: true, ...cost } }, 'test');

    // Assert
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(message);
  });
});
