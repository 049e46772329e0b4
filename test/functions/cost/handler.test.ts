import {
  DataUnavailableException,
  GetAnomaliesCommand,
  GetCostAndUsageCommand,
  type GetCostAndUsageCommandOutput,
  GetCostForecastCommand,
  LimitExceededException,
} from '@aws-sdk/client-cost-explorer';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../../../functions/cost/handler.js';
import { memoryAlertLedger } from '../../../shared/cost/memory-ledger.js';
import type { AlertLedger } from '../../../shared/cost/ports.js';
import { AwsCallError, EventShapeError, PartialFailureError } from '../../../shared/errors.js';
import { snsNotifier } from '../../../shared/aws/sns-notifier.js';
import { memoryNotifier, type Notification } from '../../../shared/notify/notifier.js';
import { pagerDutyEvents } from '../../../shared/notify/pager.js';
import {
  anomaliesResponse,
  costEvents,
  costTestConfig,
  fakeCostDeps,
  forecastResponse,
  mockCostExplorer,
  NOW,
  RECORDED,
  usageResponse,
} from '../../fakes/cost-fixtures.js';

let ce: ReturnType<typeof mockCostExplorer> | undefined;
afterEach(() => {
  ce?.restore();
  ce = undefined;
});

const unavailable = () =>
  new DataUnavailableException({
    message: 'Insufficient amount of historical data to generate forecast.',
    $metadata: { httpStatusCode: 400 },
  });

const keysOf = (r: { alerts: { key: string; status: string }[] }, status = 'sent') =>
  r.alerts.filter((a) => a.status === status).map((a) => a.key);

describe('cost handler: scheduled thresholds', () => {
  it('under all thresholds: sends nothing and reports every threshold armed', async () => {
    // Prepare
    ce = mockCostExplorer({ usage: usageResponse({ scale: 0.6 }), forecast: forecastResponse(0.6) });
    const { deps, notifier } = fakeCostDeps();

    // Act
    const r = await run(costEvents().scheduled, deps);

    // Assert
    expect(r.evaluation!.actualUsd).toBeCloseTo(RECORDED.monthToDate * 0.6, 1);
    expect(r.evaluation!.forecast!.monthEndUsd).toBeLessThan(2000);
    expect(r.evaluation!.thresholds.every((t) => t.state === 'armed')).toBe(true);
    expect(r.alerts).toEqual([]);
    expect(notifier.sent).toEqual([]);
    expect(r.requests).toBe(3);
  });

  it('crossing one: the forecast crosses $2,000 → one warning, naming the threshold', async () => {
    // Prepare
    ce = mockCostExplorer({ usage: usageResponse({ scale: 0.8 }), forecast: forecastResponse(0.8) });
    const { deps, notifier } = fakeCostDeps();

    // Act
    const r = await run(costEvents().scheduled, deps);

    // Assert
    expect(keysOf(r)).toEqual(['cost-alert#2026-11#usd-2000#forecast']);
    expect(notifier.sent).toHaveLength(1);
    const n = notifier.sent[0]!;
    expect(n.severity).toBe('warning');
    expect(n.subject).toBe('2026-11 forecast $2,336.32 crosses $2,000.00 (usd-2000)');
    expect(n.lines.join('\n')).toContain('Forecast month-end: $2,336.32');
  });

  it('crossing two in one run (recorded month): the actual $2,000 and the forecast $2,500, one message', async () => {
    // Prepare
    ce = mockCostExplorer();
    const { deps, notifier } = fakeCostDeps();

    // Act
    const r = await run(costEvents().scheduled, deps);

    // Assert
    expect(keysOf(r).sort()).toEqual([
      'cost-alert#2026-11#usd-2000#actual',
      'cost-alert#2026-11#usd-2500#forecast',
    ]);
    expect(r.evaluation!.actualUsd).toBe(RECORDED.monthToDate);
    expect(r.evaluation!.forecast!.monthEndUsd).toBe(RECORDED.monthEnd);
    // The forecast for $2,000 is covered by the actual: no second message about the same line.
    expect(r.evaluation!.thresholds.find((t) => t.id === 'usd-2000' && t.basis === 'forecast')!.state).toBe(
      'covered',
    );
    expect(notifier.sent).toHaveLength(1);
    const text = notifier.sent[0]!.lines.join('\n');
    expect(notifier.sent[0]!.severity).toBe('warning');
    expect(text).toContain(
      '2026-11 month-to-date $2,140.12 reached the $2,000.00 warning threshold (usd-2000)',
    );
    expect(text).toContain('2026-11 is forecast to end at $2,920.40, above the $2,500.00 warning threshold');
    expect(text).toContain('Top 5 services this month');
    expect(text).toContain('Amazon Relational Database Service');
    expect(text).toMatch(/Cost Explorer: https:\/\/console\.aws\.amazon\.com\/cost-management/);
  });

  it('a critical threshold in the mix makes the one message critical', async () => {
    // Prepare
    ce = mockCostExplorer({ usage: usageResponse({ scale: 1.1 }), forecast: forecastResponse(1.1) });
    const { deps, notifier } = fakeCostDeps();

    // Act
    const r = await run(costEvents().scheduled, deps);

    // Assert
    expect(keysOf(r)).toContain('cost-alert#2026-11#usd-3000#forecast');
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]!.severity).toBe('critical');
  });

  it('already alerted this month: a second run repeats nothing', async () => {
    // Prepare
    ce = mockCostExplorer();
    const { deps, notifier } = fakeCostDeps();
    await run(costEvents().scheduled, deps);

    // Act
    const second = await run(costEvents().scheduled, deps);

    // Assert
    expect(notifier.sent).toHaveLength(1);
    expect(keysOf(second, 'already-sent').sort()).toEqual([
      'cost-alert#2026-11#usd-2000#actual',
      'cost-alert#2026-11#usd-2500#forecast',
    ]);
    expect(second.notification).toBeUndefined();
  });

  it('new month: the same thresholds re-arm and alert again under the new month', async () => {
    // Prepare: November alerted
    ce = mockCostExplorer();
    const ledger = memoryAlertLedger(() => NOW);
    await run(costEvents().scheduled, fakeCostDeps({ ledger }).deps);
    ce.restore();
    // December 3rd: two days at a rate that already crosses $2,000
    const dec = new Date('2026-12-03T07:00:00Z');
    ce = mockCostExplorer({
      usage: usageResponse({ scale: 11, today: '2026-12-03', days: 8 }),
      forecast: forecastResponse(0.5),
    });
    const { deps, notifier } = fakeCostDeps({ ledger, now: dec });

    // Act
    const r = await run({ action: 'cost-check' }, deps);

    // Assert
    expect(r.evaluation!.window.month).toBe('2026-12');
    // The spike baselines of the 1st and the 2nd (the day before yesterday is judged again).
    expect(r.evaluation!.window.query).toEqual({ start: '2026-11-24', end: '2026-12-03' });
    expect(keysOf(r)).toContain('cost-alert#2026-12#usd-2000#actual');
    expect(notifier.sent).toHaveLength(1);
  });

  it('on the 1st judges the month that just ended on its final days, without a forecast request', async () => {
    // Prepare
    ce = mockCostExplorer({ usage: usageResponse({ today: '2026-12-01' }) });
    const { deps } = fakeCostDeps({ now: new Date('2026-12-01T07:00:00Z') });

    // Act
    const r = await run({ action: 'cost-check' }, deps);

    // Assert
    expect(r.evaluation!.window.month).toBe('2026-11');
    expect(ce.commandCalls(GetCostForecastCommand)).toHaveLength(0);
    expect(r.requests).toBe(2);
    expect(r.evaluation!.notes.map((n) => n.code)).toContain('month-complete');
  });
});

describe('cost handler: the month that ended, judged again on the 2nd', () => {
  /** A DAILY answer of one service: `usd` a day from 1 November to the day before `today`, `last` on 30 November. */
  const usage = (today: string, usd: number, last: number): GetCostAndUsageCommandOutput => {
    const days: string[] = [];
    for (let t = Date.parse('2026-11-01T00:00:00Z'); t < Date.parse(`${today}T00:00:00Z`); t += 86_400_000)
      days.push(new Date(t).toISOString().slice(0, 10));
    return {
      ResultsByTime: days.map((day, i) => ({
        TimePeriod: { Start: day, End: days[i + 1] ?? today },
        Estimated: true,
        Groups: [
          {
            Keys: ['Amazon Relational Database Service'],
            Metrics: {
              UnblendedCost: { Amount: String(day === '2026-11-30' ? last : usd), Unit: 'USD' },
            },
          },
        ],
      })),
      $metadata: {},
    };
  };

  it("alerts a threshold that 30 November's cost, come in after the 1st's run, took November over: once, as November's", async () => {
    // Prepare: the 1st sees $1,972 + $20 of the 30th; by the 2nd the 30th is complete ($68): $2,040
    const ledger = memoryAlertLedger(() => new Date('2026-12-02T07:00:00Z'));
    ce = mockCostExplorer({ usage: usage('2026-12-01', 68, 20) });
    const first = await run(
      { action: 'cost-check' },
      fakeCostDeps({ ledger, now: new Date('2026-12-01T07:00:00Z') }).deps,
    );
    ce.restore();
    ce = mockCostExplorer({ usage: usage('2026-12-02', 68, 68), forecast: forecastResponse(0.01) });
    const { deps, notifier } = fakeCostDeps({ ledger, now: new Date('2026-12-02T07:00:00Z') });

    // Act
    const second = await run({ action: 'cost-check' }, deps);
    const third = await run({ action: 'cost-check' }, deps);

    // Assert
    expect(first.evaluation!.actualUsd).toBe(1992);
    expect(keysOf(first)).toEqual([]);
    expect(second.evaluation!.window.month).toBe('2026-12');
    expect(keysOf(second)).toEqual(['cost-alert#2026-11#usd-2000#actual']);
    expect(notifier.sent[0]!.subject).toBe('2026-11 total $2,040.00 crossed $2,000.00 (usd-2000)');
    // No request more than any run: usage (from 1 November), forecast, the on-demand anomaly poll.
    expect(second.requests).toBe(3);
    expect(keysOf(third)).toEqual([]);
    expect(keysOf(third, 'already-sent')).toEqual(['cost-alert#2026-11#usd-2000#actual']);
    expect(notifier.sent).toHaveLength(1);
  });
});

describe('cost handler: degrade, never crash', () => {
  it('forecast unavailable: checks actuals, notes it, still alerts the actual crossing', async () => {
    // Prepare
    ce = mockCostExplorer({ forecast: unavailable() });
    const { deps, notifier } = fakeCostDeps();

    // Act
    const r = await run(costEvents().scheduled, deps);

    // Assert
    expect(r.evaluation!.forecast).toBeUndefined();
    expect(keysOf(r)).toEqual(['cost-alert#2026-11#usd-2000#actual']);
    expect(r.evaluation!.thresholds.filter((t) => t.basis === 'forecast').map((t) => t.state)).toEqual([
      'covered',
      'unknown',
      'unknown',
    ]);
    expect(r.outcomes).toContainEqual(
      expect.objectContaining({ action: 'read', status: 'skipped', reason: 'DataUnavailableException' }),
    );
    const text = notifier.sent[0]!.lines.join('\n');
    expect(text).toContain('Forecast unavailable (DataUnavailableException');
    expect(text).toContain('Forecast month-end: unavailable');
  });

  it('forecast unavailable and nothing crossed: one info note a month, not one a day', async () => {
    // Prepare
    ce = mockCostExplorer({ usage: usageResponse({ scale: 0.5 }), forecast: unavailable() });
    const { deps, notifier } = fakeCostDeps();

    // Act
    await run(costEvents().scheduled, deps);
    await run(costEvents().scheduled, deps);

    // Assert
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]!.severity).toBe('info');
    expect(notifier.sent[0]!.subject).toBe('cost check degraded: forecast unavailable');
  });

  it('retries LimitExceededException with backoff, counting every attempt', async () => {
    // Prepare
    ce = mockCostExplorer();
    ce.on(GetCostForecastCommand)
      .rejectsOnce(
        new LimitExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }),
      )
      .resolves(forecastResponse());
    const { deps } = fakeCostDeps();

    // Act
    const r = await run(costEvents().scheduled, deps);

    // Assert
    expect(r.evaluation!.forecast!.monthEndUsd).toBe(RECORDED.monthEnd);
    expect(ce.commandCalls(GetCostForecastCommand)).toHaveLength(2);
    expect(r.requests).toBe(4);
  });

  it('throttled on every attempt: degrades with a note instead of failing the run', async () => {
    // Prepare
    ce = mockCostExplorer();
    ce.on(GetAnomaliesCommand).rejects(
      new LimitExceededException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }),
    );
    const { deps } = fakeCostDeps();

    // Act
    const r = await run(costEvents().scheduled, deps);

    // Assert
    expect(ce.commandCalls(GetAnomaliesCommand)).toHaveLength(4);
    expect(r.evaluation!.notes.map((n) => n.code)).toContain('anomalies-unavailable');
    expect(keysOf(r)).toHaveLength(2);
  });

  it('access denied on usage: still reports forecast and anomalies, then throws so the alarm sees it', async () => {
    // Prepare
    ce = mockCostExplorer({ anomalies: anomaliesResponse() });
    ce.on(GetCostAndUsageCommand).rejects(
      Object.assign(new Error('not authorized to perform: ce:GetCostAndUsage'), {
        name: 'AccessDeniedException',
      }),
    );
    const { deps, notifier } = fakeCostDeps();

    // Act
    const act = run(costEvents().scheduled, deps);

    // Assert
    await expect(act).rejects.toThrow(PartialFailureError);
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]!.lines.join('\n')).toContain('Cost and usage unavailable (AccessDeniedException');
    expect(notifier.sent[0]!.lines.join('\n')).toContain(
      'Cost anomaly on Amazon Elastic Compute Cloud - Compute',
    );
  });

  it('a failed publish releases the claims, so the next run alerts again', async () => {
    // Prepare
    ce = mockCostExplorer();
    const sns = mockClient(SNSClient);
    sns.on(PublishCommand).rejectsOnce(new Error('KMS key disabled')).resolves({ MessageId: '1' });
    const topics = {
      critical: 'arn:aws:sns:eu-west-1:111122223333:c',
      warning: 'arn:aws:sns:eu-west-1:111122223333:w',
      info: 'arn:aws:sns:eu-west-1:111122223333:i',
    };
    const { deps, ledger } = fakeCostDeps({ notifier: snsNotifier(new SNSClient({}), topics, 'staging') });

    // Act
    await expect(run(costEvents().scheduled, deps)).rejects.toThrow(PartialFailureError);
    const retry = await run(costEvents().scheduled, deps);

    // Assert
    expect(keysOf(retry)).toHaveLength(2);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
    expect(await ledger.held(keysOf(retry))).toEqual(new Set(keysOf(retry)));
    sns.restore();
  });
});

describe('cost handler: spikes and per-hour limits', () => {
  it('alerts a service whose yesterday exceeds its 7-day mean by both +50 % and +$50', async () => {
    // Prepare
    ce = mockCostExplorer({ usage: usageResponse({ scale: 0.5, yesterday: { 'Amazon Bedrock': 95 } }) });
    const { deps, notifier } = fakeCostDeps({ config: costTestConfig({ forecast: false }) });

    // Act
    const r = await run(costEvents().scheduled, deps);

    // Assert
    expect(keysOf(r)).toEqual(['cost-spike#2026-11-22#Amazon Bedrock']);
    expect(notifier.sent[0]!.subject).toMatch(/^Amazon Bedrock \$95\.00 on 2026-11-22 \(\+\$8\d\.\d\d\)$/);
  });

  it('stays quiet on noise below the absolute floor, however large the percentage', async () => {
    // Prepare: AWS Cost Explorer goes from ~$0.02/day to $40 (+200 000 %) but by less than $50
    ce = mockCostExplorer({ usage: usageResponse({ scale: 0.5, yesterday: { 'AWS Cost Explorer': 40 } }) });
    const { deps, notifier } = fakeCostDeps({ config: costTestConfig({ forecast: false }) });

    // Act
    const r = await run(costEvents().scheduled, deps);

    // Assert
    expect(r.alerts).toEqual([]);
    expect(notifier.sent).toEqual([]);
  });

  it('hourly enabled: one extra HOURLY request for the named services catches a one-hour burst', async () => {
    // Prepare
    ce = mockCostExplorer({ usage: usageResponse({ scale: 0.5 }) });
    const { deps, notifier } = fakeCostDeps({ config: costTestConfig({ hourly: true, forecast: false }) });

    // Act
    const r = await run(costEvents().scheduled, deps);

    // Assert
    expect(ce).toHaveReceivedCommandWith(GetCostAndUsageCommand, {
      Granularity: 'HOURLY',
      TimePeriod: { Start: '2026-11-21T07:00:00Z', End: '2026-11-23T07:00:00Z' },
      Filter: {
        Dimensions: {
          Key: 'SERVICE',
          Values: ['Amazon Bedrock', 'Claude 3.5 Sonnet (Amazon Bedrock Edition)'],
        },
      },
    });
    expect(r.requests).toBe(3);
    expect(keysOf(r)).toEqual(['cost-hourly#2026-11-23#llm-api']);
    expect(notifier.sent[0]!.severity).toBe('critical');
    expect(notifier.sent[0]!.lines.join('\n')).toContain(
      'llm-api: $132.40 in the hour from 2026-11-23 03:00 UTC, above the limit of $100.00/h',
    );
  });

  it('hourly enabled: a burst whose hourly data came after the run that covered it is judged by the next', async () => {
    // Prepare: Cost Explorer's data lags (up to 24 h): hours later than 8 h before a call are not there yet.
    // A $140 burst at 23 Nov 03:00 is missing at the 23rd's 07:00 run and present at the 24th's.
    ce = mockCostExplorer({ usage: usageResponse({ scale: 0.5 }) });
    let now = NOW;
    const burst = { hour: '2026-11-23T03:00:00Z', usd: 140 };
    ce.on(GetCostAndUsageCommand, { Granularity: 'HOURLY' }).callsFake(
      (input: { TimePeriod: { Start: string; End: string } }) => {
        const known = burst.hour < input.TimePeriod.End && burst.hour >= input.TimePeriod.Start;
        const arrived = Date.parse(burst.hour) <= now.getTime() - 8 * 3_600_000;
        return {
          $metadata: {},
          ResultsByTime:
            known && arrived
              ? [
                  {
                    TimePeriod: { Start: burst.hour, End: '2026-11-23T04:00:00Z' },
                    Groups: [
                      {
                        Keys: ['Amazon Bedrock'],
                        Metrics: { UnblendedCost: { Amount: String(burst.usd), Unit: 'USD' } },
                      },
                    ],
                    Estimated: true,
                  },
                ]
              : [],
        };
      },
    );
    const config = costTestConfig({ hourly: true, forecast: false });
    const ledger = memoryAlertLedger(() => now);
    const hourly = (r: Awaited<ReturnType<typeof run>>) =>
      keysOf(r).filter((k) => k.startsWith('cost-hourly'));

    // Act
    const first = await run(costEvents().scheduled, fakeCostDeps({ config, ledger, now }).deps);
    now = new Date('2026-11-24T07:00:00Z');
    const next = await run(
      { action: 'cost-check', scheduledTime: now.toISOString() },
      fakeCostDeps({ config, ledger, now }).deps,
    );

    // Assert: on main the 24th's window began at 23 Nov 07:00, after the burst: never alerted.
    expect(hourly(first)).toEqual([]);
    expect(hourly(next)).toEqual(['cost-hourly#2026-11-23#llm-api']);
  });

  it('hourly disabled: estimates daily cost ÷ 24, says so, and needs no extra request', async () => {
    // Prepare: $2,600 of Bedrock yesterday ≈ $108.37/h on average (with Claude)
    ce = mockCostExplorer({ usage: usageResponse({ scale: 0.5, yesterday: { 'Amazon Bedrock': 2600 } }) });
    const { deps, notifier } = fakeCostDeps({ config: costTestConfig({ forecast: false }) });

    // Act
    const r = await run(costEvents().scheduled, deps);

    // Assert
    expect(ce.commandCalls(GetCostAndUsageCommand)).toHaveLength(1);
    expect(keysOf(r)).toContain('cost-hourly#2026-11-22#llm-api');
    const text = notifier.sent[0]!.lines.join('\n');
    expect(text).toContain(
      '$108.37/h on average on 2026-11-22 (daily cost ÷ 24: hourly granularity is not enabled)',
    );
    expect(text).toContain('Per-hour limits are estimated as daily cost ÷ 24');
  });

  it('hourly enabled but not opted in: falls back to daily ÷ 24 with a note', async () => {
    // Prepare
    ce = mockCostExplorer({
      usage: usageResponse({ scale: 0.5 }),
      hourly: new DataUnavailableException({
        message: 'Hourly granularity is not enabled for this account',
        $metadata: { httpStatusCode: 400 },
      }),
    });
    const { deps } = fakeCostDeps({ config: costTestConfig({ hourly: true, forecast: false }) });

    // Act
    const r = await run(costEvents().scheduled, deps);

    // Assert
    expect(r.evaluation!.notes.map((n) => n.code)).toEqual(
      expect.arrayContaining(['hourly-unavailable', 'hourly-estimated']),
    );
    expect(keysOf(r)).toEqual([]);
  });
});

describe('cost handler: concurrency', () => {
  it('duplicate concurrent runs send one alert between them', async () => {
    // Prepare
    ce = mockCostExplorer();
    const ledger = memoryAlertLedger(() => NOW);
    const notifier = memoryNotifier();
    const a = fakeCostDeps({ ledger, notifier }).deps;
    const b = fakeCostDeps({ ledger, notifier }).deps;

    // Act
    const [ra, rb] = await Promise.all([run(costEvents().scheduled, a), run(costEvents().scheduled, b)]);

    // Assert
    expect(notifier.sent).toHaveLength(1);
    expect([...keysOf(ra), ...keysOf(rb)].sort()).toEqual([
      'cost-alert#2026-11#usd-2000#actual',
      'cost-alert#2026-11#usd-2500#forecast',
    ]);
    expect([...keysOf(ra, 'already-sent'), ...keysOf(rb, 'already-sent')]).toHaveLength(2);
  });
});

describe('cost handler: anomaly events', () => {
  it('routes an EventBridge anomaly by its impact ($312.40 → warning) without any Cost Explorer request', async () => {
    // Prepare
    ce = mockCostExplorer();
    const { deps, notifier } = fakeCostDeps();

    // Act
    const r = await run(costEvents().eventBridge, deps);

    // Assert
    expect(ce.calls()).toHaveLength(0);
    expect(keysOf(r)).toEqual(['cost-anomaly#a6c2f6e4-31d3-4f0e-9b8e-2f1d7c9a5b10']);
    expect(notifier.sent[0]!.severity).toBe('warning');
    const text = notifier.sent[0]!.lines.join('\n');
    expect(text).toContain(
      'root cause: Amazon Elastic Compute Cloud - Compute / eu-west-1 / EU-BoxUsage:g5.2xlarge',
    );
    expect(text).toContain(
      'details: https://console.aws.amazon.com/cost-management/home#/anomaly-detection/',
    );
  });

  it('routes an SNS-wrapped anomaly ($1,288.45 → critical)', async () => {
    // Prepare
    const { deps, notifier } = fakeCostDeps();

    // Act
    const r = await run(costEvents().sns, deps);

    // Assert
    expect(r.alerts.map((a) => [a.key, a.severity])).toEqual([
      ['cost-anomaly#b91e0c7d-2a64-4d1f-8f3e-7c5a9b2d4e61', 'critical'],
    ]);
    expect(notifier.sent[0]!.subject).toBe('anomaly on Amazon Bedrock: $1,288.45 impact');
  });

  it('the poll and the event report the same anomaly once', async () => {
    // Prepare
    ce = mockCostExplorer({ usage: usageResponse({ scale: 0.5 }), anomalies: anomaliesResponse() });
    const { deps, notifier } = fakeCostDeps();
    await run(costEvents().eventBridge, deps);

    // Act
    const r = await run(costEvents().scheduled, deps);

    // Assert
    expect(keysOf(r, 'already-sent')).toEqual(['cost-anomaly#a6c2f6e4-31d3-4f0e-9b8e-2f1d7c9a5b10']);
    expect(notifier.sent).toHaveLength(1);
  });

  it('escalates an anomaly once when its impact grows into a higher severity', async () => {
    // Prepare
    const { deps, notifier } = fakeCostDeps();
    await run(costEvents().eventBridge, deps);
    const grown = costEvents().eventBridge;
    grown.detail.impact.totalImpact = 1500;

    // Act
    await run(grown, deps);
    await run(grown, deps);

    // Assert
    expect(notifier.sent.map((n) => n.severity)).toEqual(['warning', 'critical']);
  });

  it('ignores anomalies below the impact floor', async () => {
    // Prepare
    const small = costEvents().eventBridge;
    small.detail.impact.totalImpact = 4.2;
    const { deps, notifier } = fakeCostDeps();

    // Act
    const r = await run(small, deps);

    // Assert
    expect(notifier.sent).toEqual([]);
    expect(r.outcomes).toEqual([expect.objectContaining({ status: 'skipped' })]);
  });

  it.each([
    [
      'EventBridge without detail.anomalyId',
      () => {
        const e = costEvents().eventBridge;
        delete e.detail.anomalyId;
        return e;
      },
      /detail\.anomalyId/,
    ],
    [
      'EventBridge with a non-numeric impact',
      () => {
        const e = costEvents().eventBridge;
        e.detail.impact.maxImpact = 'lots';
        return e;
      },
      /detail\.impact\.maxImpact/,
    ],
    [
      'EventBridge of another detail-type',
      () => ({ ...costEvents().eventBridge, 'detail-type': 'Budget Alert' }),
      /detail-type/,
    ],
    [
      'SNS message that is not JSON',
      () => {
        const e = costEvents().sns;
        e.Records[0]!.Sns.Message = 'Anomaly!';
        return e;
      },
      /Records\.0\.Sns\.Message: is not JSON/,
    ],
    [
      'SNS message without impact',
      () => {
        const e = costEvents().sns;
        const m = JSON.parse(e.Records[0]!.Sns.Message);
        delete m.impact;
        e.Records[0]!.Sns.Message = JSON.stringify(m);
        return e;
      },
      /Records\.0\.Sns\.Message\.impact/,
    ],
    [
      'a scheduled request with a misspelt field',
      () => ({ ...costEvents().scheduled, dry_run: true }),
      /dry_run/,
    ],
    ['an unknown shape', () => ({ hello: 'world' }), /Unrecognised cost trigger/],
  ])('malformed trigger (%s): clear EventShapeError, nothing read or sent', async (_, make, field) => {
    // Prepare
    ce = mockCostExplorer();
    const { deps, notifier, ledger } = fakeCostDeps();

    // Act
    const act = run(make(), deps);

    // Assert
    await expect(act).rejects.toThrow(EventShapeError);
    await expect(run(make(), deps)).rejects.toThrow(field);
    expect(ce.calls()).toHaveLength(0);
    expect(notifier.sent).toEqual([]);
    expect((ledger as ReturnType<typeof memoryAlertLedger>).items.size).toBe(0);
  });
});

describe('cost handler: on demand', () => {
  it('an on-demand check without a scheduled time alerts like the schedule', async () => {
    // Prepare
    ce = mockCostExplorer();
    const { deps, notifier } = fakeCostDeps();

    // Act
    const r = await run(costEvents().onDemand, deps);

    // Assert
    expect(r.scheduledTime).toBeUndefined();
    expect(keysOf(r)).toHaveLength(2);
    expect(notifier.sent).toHaveLength(1);
  });

  it('with alertsBy: budgets, an on-demand check previews but sends nothing: the budgets alert, not twice', async () => {
    // Prepare: the recorded month crosses two thresholds, which the stage's budgets already watch.
    ce = mockCostExplorer();
    const { deps, notifier, ledger } = fakeCostDeps({ config: costTestConfig({ alertsBy: 'budgets' }) });

    // Act
    const r = await run(costEvents().onDemand, deps);

    // Assert
    expect(r.dryRun).toBe(true);
    expect(keysOf(r, 'planned')).toHaveLength(2);
    expect(notifier.sent).toEqual([]);
    expect((ledger as ReturnType<typeof memoryAlertLedger>).items.size).toBe(0);
  });

  it('with alertsBy: budgets, an anomaly event still alerts (budgets do not watch anomalies)', async () => {
    // Prepare
    ce = mockCostExplorer();
    const { deps, notifier } = fakeCostDeps({ config: costTestConfig({ alertsBy: 'budgets' }) });

    // Act
    await run(costEvents().eventBridge, deps);

    // Assert
    expect(notifier.sent).toHaveLength(1);
  });

  it('a dry run evaluates and previews the message but claims and sends nothing', async () => {
    // Prepare
    ce = mockCostExplorer();
    const { deps, notifier, ledger } = fakeCostDeps();

    // Act
    const r = await run(costEvents().dryRun, deps);

    // Assert
    expect(r.dryRun).toBe(true);
    expect(keysOf(r, 'planned')).toHaveLength(2);
    expect(r.notification?.severity).toBe('warning');
    expect(notifier.sent).toEqual([]);
    expect((ledger as ReturnType<typeof memoryAlertLedger>).items.size).toBe(0);
  });
});

describe('cost handler: a stage in dry run', () => {
  it('still sends its cost alerts, marked as from a dry-run stage: they only notify, nothing in AWS changes', async () => {
    // Prepare: `steward init` starts a stage with dryRun: true; the recorded month crosses two thresholds.
    ce = mockCostExplorer();
    const { deps, notifier, ledger } = fakeCostDeps({ dryRun: true });

    // Act
    const r = await run(costEvents().scheduled, deps);

    // Assert: claimed once and sent, as in a live stage, and the message says where it comes from.
    expect(r.dryRun).toBe(false);
    expect(r.stageDryRun).toBe(true);
    expect(keysOf(r)).toHaveLength(2);
    expect((ledger as ReturnType<typeof memoryAlertLedger>).items.size).toBe(2);
    expect(notifier.sent).toHaveLength(1);
    const n = notifier.sent[0]!;
    expect(n.severity).toBe('warning');
    expect(n.subject).toMatch(/^\(dry-run stage\) month-to-date \$2,140\.12 crossed/);
    expect(n.lines[0]).toBe(
      'Stage staging is in dry run (dryRun: true): steward changes nothing in AWS, but cost alerts only notify, so they are sent.',
    );
    expect(n.data).toMatchObject({ stageDryRun: true });
    expect(n.alerts?.map((a) => a.key).sort()).toEqual([
      'cost:cost-alert#2026-11#usd-2000#actual',
      'cost:cost-alert#2026-11#usd-2500#forecast',
    ]);
  });

  it('still alerts an anomaly event, marked', async () => {
    // Prepare
    const { deps, notifier } = fakeCostDeps({ dryRun: true });

    // Act
    const r = await run(costEvents().eventBridge, deps);

    // Assert
    expect(r.dryRun).toBe(false);
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]!.subject).toMatch(/^\(dry-run stage\) /);
  });

  it("the operator's preview (steward invoke cost --dry-run) claims and sends nothing, in a dry-run stage too", async () => {
    // Prepare
    ce = mockCostExplorer();
    const { deps, notifier, ledger } = fakeCostDeps({ dryRun: true });
    deps.preview = true;

    // Act
    const check = await run(costEvents().scheduled, deps);
    const anomaly = await run(costEvents().eventBridge, deps);

    // Assert
    expect(check.dryRun).toBe(true);
    expect(keysOf(check, 'planned')).toHaveLength(2);
    expect(anomaly.dryRun).toBe(true);
    expect(keysOf(anomaly, 'planned')).toHaveLength(1);
    expect(notifier.sent).toEqual([]);
    expect((ledger as ReturnType<typeof memoryAlertLedger>).items.size).toBe(0);
  });
});

describe('cost handler: Cost Explorer client', () => {
  it('asks for month-to-date DAILY by SERVICE, the rest-of-month forecast and the recent anomalies', async () => {
    // Prepare
    ce = mockCostExplorer();
    const { deps } = fakeCostDeps();

    // Act
    await run(costEvents().scheduled, deps);

    // Assert
    expect(ce).toHaveReceivedCommandWith(GetCostAndUsageCommand, {
      TimePeriod: { Start: '2026-11-01', End: '2026-11-23' },
      Granularity: 'DAILY',
      Metrics: ['UnblendedCost'],
      GroupBy: [{ Type: 'DIMENSION', Key: 'SERVICE' }],
    });
    expect(ce).toHaveReceivedCommandWith(GetCostForecastCommand, {
      TimePeriod: { Start: '2026-11-23', End: '2026-12-01' },
      Metric: 'UNBLENDED_COST',
      Granularity: 'MONTHLY',
    });
    expect(ce).toHaveReceivedCommandWith(GetAnomaliesCommand, {
      DateInterval: { StartDate: '2026-11-18', EndDate: '2026-11-23' },
      TotalImpact: { NumericOperator: 'GREATER_THAN_OR_EQUAL', StartValue: 10 },
    });
    expect(ce.calls()).toHaveLength(3);
  });

  it('polls anomalies on a daily schedule only every lookbackDays-th day: events deliver them in between', async () => {
    // Prepare: 2026-11-23 polls (lookbackDays 3); the scheduled runs of the 24th and 25th do not.
    ce = mockCostExplorer();
    const polled: number[] = [];

    // Act
    for (const day of [23, 24, 25, 26]) {
      ce.resetHistory();
      const at = new Date(`2026-11-${day}T07:00:00Z`);
      const { deps } = fakeCostDeps({ now: at });
      await run({ action: 'cost-check', scheduledTime: at.toISOString() }, deps);
      polled.push(ce.commandCalls(GetAnomaliesCommand).length);
    }

    // Assert: consecutive polls (23rd, 26th) are lookbackDays apart, and each reaches 2 days further back (an
    // anomaly is found up to 2 days after its last day), so no anomaly found between them falls outside both.
    expect(polled).toEqual([1, 0, 0, 1]);
    expect(ce).toHaveReceivedCommandWith(GetAnomaliesCommand, {
      DateInterval: { StartDate: '2026-11-21', EndDate: '2026-11-26' },
    });
  });

  it('polls anomalies on every run of a schedule that is not daily, and on demand', async () => {
    // Prepare: weekdays only (a 3-day gap over the weekend), and an on-demand check, both on the 24th.
    ce = mockCostExplorer();
    const at = new Date('2026-11-24T07:00:00Z');
    const weekdays = costTestConfig({ schedule: 'cron(0 7 ? * MON-FRI *)' });

    // Act
    await run(
      { action: 'cost-check', scheduledTime: at.toISOString() },
      fakeCostDeps({ now: at, config: weekdays }).deps,
    );
    await run({ action: 'cost-check' }, fakeCostDeps({ now: at }).deps);

    // Assert
    expect(ce.commandCalls(GetAnomaliesCommand)).toHaveLength(2);
  });
});

describe('cost handler: anomalies polled with a long look-back', () => {
  it('an anomaly a poll alerted is not alerted again while later polls still see it (lookbackDays 60)', async () => {
    // Prepare: a ledger whose items expire at their TTL, as DynamoDB's do; the anomaly ended 2026-11-22.
    ce = mockCostExplorer({ anomalies: anomaliesResponse() });
    let clock = NOW;
    const inner = memoryAlertLedger(() => clock);
    const expires = new Map<string, number>();
    const ledger: AlertLedger = {
      ...inner,
      claim: async (key, level, ttl, detail) => {
        if ((expires.get(key) ?? Infinity) <= clock.getTime() / 1000) inner.items.delete(key);
        const won = await inner.claim(key, level, ttl, detail);
        if (won) expires.set(key, clock.getTime() / 1000 + ttl);
        return won;
      },
    };
    const config = costTestConfig({ anomalies: { lookbackDays: 60 } });
    const anomalyKeys = (r: Awaited<ReturnType<typeof run>>) =>
      keysOf(r).filter((k) => k.startsWith('cost-anomaly#'));

    // Act: on-demand checks poll every run; the second, 45 days on, still has the anomaly in its window.
    const first = await run({ action: 'cost-check' }, fakeCostDeps({ now: clock, config, ledger }).deps);
    clock = new Date('2027-01-06T07:00:00Z');
    const later = await run({ action: 'cost-check' }, fakeCostDeps({ now: clock, config, ledger }).deps);

    // Assert
    expect(ce).toHaveReceivedCommandWith(GetAnomaliesCommand, {
      DateInterval: { StartDate: '2026-11-05', EndDate: '2027-01-06' },
    });
    expect(anomalyKeys(first)).toHaveLength(1);
    expect(anomalyKeys(later)).toEqual([]);
  });
});

describe('cost handler: claim and confirm faults', () => {
  it('a confirm write that fails right after the publish is retried: a later run does not alert again', async () => {
    // Prepare: the ledger refuses the first two confirms (throttled), then recovers.
    ce = mockCostExplorer();
    let clock = NOW;
    const ledger = memoryAlertLedger(() => clock);
    let refusals = 2;
    const flaky: AlertLedger = {
      ...ledger,
      confirm: async (key) => {
        if (refusals-- > 0)
          throw new AwsCallError('UpdateItem', `steward-prod-state ${key}`, {
            name: 'ProvisionedThroughputExceededException',
            message: 'throughput',
          });
        return ledger.confirm(key);
      },
    };
    const first = fakeCostDeps({ ledger: flaky, now: NOW });

    // Act
    const sent = await run(costEvents().scheduled, first.deps);
    clock = new Date(NOW.getTime() + 60 * 60_000);
    const later = fakeCostDeps({ ledger, now: clock });
    const again = await run(costEvents().scheduled, later.deps);

    // Assert
    expect(sent.outcomes.filter((o) => o.status === 'failed')).toEqual([]);
    expect(first.notifier.sent).toHaveLength(1);
    expect(later.notifier.sent).toEqual([]);
    expect(keysOf(again, 'already-sent')).toEqual(keysOf(sent));
  });

  it('a run killed during the publish: the next day re-sends the pending spike alert for its own day', async () => {
    // Prepare: on 2026-11-23 Bedrock spiked on the 22nd; the run claims the alert and dies in Publish.
    ce = mockCostExplorer({ usage: usageResponse({ scale: 0.5, yesterday: { 'Amazon Bedrock': 95 } }) });
    let clock = NOW;
    const ledger = memoryAlertLedger(() => clock);
    let publishing: () => void = () => {};
    const reached = new Promise<void>((r) => (publishing = r));
    const killed = fakeCostDeps({
      config: costTestConfig({ forecast: false }),
      ledger,
      notifier: {
        send: () => {
          publishing();
          return new Promise<void>(() => {}); // never returns: the function timed out here
        },
      },
    });
    void run(costEvents().scheduled, killed.deps);
    await reached;

    // Act: the next day's run sees no spike of its own day.
    clock = new Date('2026-11-24T07:00:00Z');
    ce.on(GetCostAndUsageCommand, { Granularity: 'DAILY' }).resolves(
      usageResponse({ scale: 0.5, today: '2026-11-24' }),
    );
    const next = fakeCostDeps({ config: costTestConfig({ forecast: false }), ledger, now: clock });
    const r = await run(costEvents().scheduled, next.deps);

    // Assert
    expect(r.resent).toEqual([
      {
        key: 'cost-spike#2026-11-22#Amazon Bedrock',
        detail: expect.stringContaining('2026-11-22'),
        status: 'sent',
      },
    ]);
    expect(next.notifier.sent.map((n) => n.subject)).toEqual([
      expect.stringMatching(/^re-sent: Amazon Bedrock cost \$95\.00 on 2026-11-22/),
    ]);
    expect(await ledger.unsent()).toEqual([]);
  });

  it("a re-sent critical alert pages under its own key: the failed send's pager event, if it went out, is the same incident", async () => {
    // Prepare: a critical spike of the 22nd; SNS refuses the message (the pager route may already have paged it).
    const config = costTestConfig({ forecast: false, spikes: { severity: 'critical' } });
    ce = mockCostExplorer({ usage: usageResponse({ scale: 0.5, yesterday: { 'Amazon Bedrock': 95 } }) });
    let clock = NOW;
    const ledger = memoryAlertLedger(() => clock);
    const failed: Notification[] = [];
    const down = fakeCostDeps({
      config,
      ledger,
      notifier: {
        send: async (n) => {
          failed.push(n);
          throw new Error('SNS: Internal Error');
        },
      },
    });
    await run(costEvents().scheduled, down.deps).catch(() => undefined);
    clock = new Date('2026-11-24T07:00:00Z');
    ce.on(GetCostAndUsageCommand, { Granularity: 'DAILY' }).resolves(
      usageResponse({ scale: 0.5, today: '2026-11-24' }),
    );
    const next = fakeCostDeps({ config, ledger, now: clock });

    // Act
    await run(costEvents().scheduled, next.deps);

    // Assert
    const key = (n: Notification) => pagerDutyEvents(n, 'prod').map((e) => e.dedup_key);
    expect(key(failed[0]!)).toEqual(['steward/prod/cost:cost-spike#2026-11-22#Amazon Bedrock']);
    expect(next.notifier.sent).toHaveLength(1);
    expect(key(next.notifier.sent[0]!)).toEqual(key(failed[0]!));
  });

  it('a failed publish is re-sent by a later run even when nothing judges that key again', async () => {
    // Prepare: SNS refuses the spike alert of the 22nd.
    ce = mockCostExplorer({ usage: usageResponse({ scale: 0.5, yesterday: { 'Amazon Bedrock': 95 } }) });
    let clock = NOW;
    const ledger = memoryAlertLedger(() => clock);
    const down = fakeCostDeps({
      config: costTestConfig({ forecast: false }),
      ledger,
      notifier: { send: async () => Promise.reject(new Error('SNS: Internal Error')) },
    });
    await run(costEvents().scheduled, down.deps).catch(() => undefined);

    // Act
    clock = new Date('2026-11-24T07:00:00Z');
    ce.on(GetCostAndUsageCommand, { Granularity: 'DAILY' }).resolves(
      usageResponse({ scale: 0.5, today: '2026-11-24' }),
    );
    const next = fakeCostDeps({ config: costTestConfig({ forecast: false }), ledger, now: clock });
    const r = await run(costEvents().scheduled, next.deps);

    // Assert
    expect(r.resent.map((x) => [x.key, x.status])).toEqual([
      ['cost-spike#2026-11-22#Amazon Bedrock', 'sent'],
    ]);
  });
});
