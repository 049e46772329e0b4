import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/schema.js';
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
      schedule: 'cron(0 7 * * ? *)',
      metric: 'UnblendedCost',
      forecast: true,
      hourly: false,
      spikes: { enabled: true, baselineDays: 7, minIncreasePercent: 50, minIncreaseUsd: 50 },
      anomalies: { enabled: true, lookbackDays: 3, minImpactUsd: 10 },
    });
  });

  it('is enabled in prod', () => {
    expect(loadExample('prod').cost.enabled).toBe(true);
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
  ])('rejects %s, naming the field', (_, cost, message) => {
    // Act
    const act = () => parseConfig({ ...base, cost: { enabled: true, ...cost } }, 'test');

    // Assert
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(message);
  });
});
