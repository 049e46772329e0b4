import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  alertKeys,
  anomalyAlerts,
  anomalySeverity,
  costWindow,
  evaluateCost,
  evaluateHourlyLimits,
  evaluateThresholds,
  isSpike,
  matchesService,
  namedServices,
  pollsAnomalies,
  summarizeServices,
  usd,
  worstSeverity,
} from '../../../shared/cost/engine.js';
import { costSummaryLines } from '../../../shared/cost/message.js';
import type { CostAnomaly, DailyCost } from '../../../shared/cost/ports.js';
import { costTestConfig } from '../../fakes/cost-fixtures.js';

const cost = costTestConfig().cost;
const w = costWindow(new Date('2026-11-23T07:00:00Z'), cost);

/** `days` days of `usd` per day for `service`, ending yesterday (2026-11-22). */
const flat = (service: string, usdPerDay: number, days = 22, end = '2026-11-23'): DailyCost[] =>
  Array.from({ length: days }, (_, i) => ({
    day: new Date(Date.parse(`${end}T00:00:00Z`) - (days - i) * 86_400_000).toISOString().slice(0, 10),
    service,
    usd: usdPerDay,
    estimated: true,
  }));

const anomaly = (impactUsd: number, id = 'a-1'): CostAnomaly => ({
  id,
  via: 'poll',
  impactUsd,
  maxImpactUsd: impactUsd,
  rootCauses: [{ service: 'Amazon Bedrock' }],
  link: 'https://example.invalid',
});

describe('costWindow', () => {
  it.each([
    // now, month judged, actual range, remaining, query start
    [
      '2026-11-23T07:00:00Z',
      '2026-11',
      ['2026-11-01', '2026-11-23'],
      ['2026-11-23', '2026-12-01'],
      '2026-11-01',
    ],
    [
      '2026-11-03T07:00:00Z',
      '2026-11',
      ['2026-11-01', '2026-11-03'],
      ['2026-11-03', '2026-12-01'],
      '2026-10-25',
    ],
    ['2026-12-01T07:00:00Z', '2026-11', ['2026-11-01', '2026-12-01'], undefined, '2026-11-01'],
    ['2027-01-01T00:30:00Z', '2026-12', ['2026-12-01', '2027-01-01'], undefined, '2026-12-01'],
    [
      '2028-02-29T23:59:00Z',
      '2028-02',
      ['2028-02-01', '2028-02-29'],
      ['2028-02-29', '2028-03-01'],
      '2028-02-01',
    ],
  ])('at %s judges %s', (now, month, actual, remaining, queryStart) => {
    // Act
    const win = costWindow(new Date(now), cost);

    // Assert
    expect(win.month).toBe(month);
    expect([win.actual.start, win.actual.end]).toEqual(actual);
    expect(win.remaining && [win.remaining.start, win.remaining.end]).toEqual(remaining);
    expect(win.query.start).toBe(queryStart);
    expect(win.query.end).toBe(now.slice(0, 10));
  });

  it('covers the spike baseline and yesterday inside the one daily query, whatever the day', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2020-01-01'), max: new Date('2035-12-31'), noInvalidDate: true }),
        (now) => {
          const win = costWindow(now, cost);
          expect(win.query.start <= win.baseline.start).toBe(true);
          expect(win.query.start <= win.actual.start).toBe(true);
          expect(win.yesterday < win.query.end).toBe(true);
          expect(win.actual.end).toBe(win.query.end);
          expect(win.daysInMonth).toBeGreaterThanOrEqual(28);
        },
      ),
    );
  });

  it("on the 2nd judges the month that ended again, on actuals: its last day's cost can come after the 1st's run", () => {
    // Prepare: November as the 1st saw it, $66 a day ($1,980), and $40 of 30 November that came in later
    const win = costWindow(new Date('2026-12-02T07:00:00Z'), cost);
    const daily: DailyCost[] = [
      ...flat('Amazon Relational Database Service', 66, 31, '2026-12-02'),
      { day: '2026-11-30', service: 'Amazon Relational Database Service', usd: 40, estimated: true },
    ];

    // Act
    const ev = evaluateCost({ daily: { ok: true, value: daily } }, cost, win);

    // Assert: one query from 1 November; November's crossing alerts under November's key, December's table stays
    expect(win.month).toBe('2026-12');
    expect(win.query).toEqual({ start: '2026-11-01', end: '2026-12-02' });
    const november = ev.alerts.filter((a) => a.key.startsWith('cost-alert#2026-11#'));
    expect(november.map((a) => a.key)).toEqual(['cost-alert#2026-11#usd-2000#actual']);
    expect(november[0]!.text).toMatch(/^2026-11 total \$2,020\.00 reached the \$2,000\.00 warning threshold/);
    expect(ev.thresholds.every((t) => t.key.startsWith('cost-alert#2026-12#'))).toBe(true);
    expect(ev.actualUsd).toBe(66);
    // The 3rd judges December alone again.
    expect(costWindow(new Date('2026-12-03T07:00:00Z'), cost).query.start).toBe('2026-11-24');
  });

  it('a daily poll finds every anomaly found since the last one, though it is found up to 2 days after its last day', () => {
    // Cost Explorer's data lags up to 24 h and Cost Anomaly Detection runs a few times a day after it: an anomaly
    // whose last day is D can be found on D + 2, after that day's poll, and GetAnomalies selects by last day.
    const HOUR = 3_600_000;
    const DAY = 24 * HOUR;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 14 }),
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 0, max: 56 }),
        (lookbackDays, endDay, hoursToFound) => {
          const end = Date.UTC(2026, 0, 1) + endDay * DAY;
          const found = end + hoursToFound * HOUR;
          // The first 07:00 scheduled run at or after it is found that polls.
          let at = Math.ceil((found - 7 * HOUR) / DAY) * DAY + 7 * HOUR;
          while (!pollsAnomalies(new Date(at), lookbackDays, true)) at += DAY;
          const win = costWindow(new Date(at), { ...cost, anomalies: { ...cost.anomalies, lookbackDays } });
          const last = new Date(end).toISOString().slice(0, 10);
          expect(win.anomalies.start <= last && last <= win.anomalies.end).toBe(true);
        },
      ),
    );
  });

  it("asks for the last 48 complete hours: a day and Cost Explorer's lag", () => {
    expect(costWindow(new Date('2026-11-23T07:42:10Z'), cost).hours).toEqual({
      start: '2026-11-21T07:00:00Z',
      end: '2026-11-23T07:00:00Z',
    });
  });
});

describe('evaluateThresholds', () => {
  const thresholds = cost.thresholds;
  it.each([
    ['under all', 1500, 1900, ['armed', 'armed', 'armed', 'armed', 'armed', 'armed']],
    ['forecast crosses one', 1500, 2100, ['armed', 'crossed', 'armed', 'armed', 'armed', 'armed']],
    [
      'actual crosses one, forecast another',
      2100,
      2600,
      ['crossed', 'covered', 'armed', 'crossed', 'armed', 'armed'],
    ],
    ['exactly at the amount counts', 2000, 2000, ['crossed', 'covered', 'armed', 'armed', 'armed', 'armed']],
    ['no forecast', 2100, undefined, ['crossed', 'covered', 'armed', 'unknown', 'armed', 'unknown']],
    [
      'no data at all',
      undefined,
      undefined,
      ['unknown', 'unknown', 'unknown', 'unknown', 'unknown', 'unknown'],
    ],
  ])('%s', (_, actual, forecast, states) => {
    // Act
    const s = evaluateThresholds(thresholds, '2026-11', actual, forecast, true);

    // Assert
    expect(s.map((x) => x.state)).toEqual(states);
    expect(s.map((x) => x.key)).toEqual([
      'cost-alert#2026-11#usd-2000#actual',
      'cost-alert#2026-11#usd-2000#forecast',
      'cost-alert#2026-11#usd-2500#actual',
      'cost-alert#2026-11#usd-2500#forecast',
      'cost-alert#2026-11#usd-3000#actual',
      'cost-alert#2026-11#usd-3000#forecast',
    ]);
  });

  it('a forecast alert never fires for a threshold the actual has crossed', () => {
    fc.assert(
      fc.property(
        fc.float({ min: 0, max: 10_000, noNaN: true }),
        fc.float({ min: 0, max: 10_000, noNaN: true }),
        (a, extra) => {
          const s = evaluateThresholds(thresholds, '2026-11', a, a + extra, true);
          for (const t of s.filter((x) => x.basis === 'forecast' && x.state === 'crossed')) {
            expect(a).toBeLessThan(t.amountUsd);
          }
          // Crossed exactly when the value reaches the amount.
          for (const t of s.filter((x) => x.basis === 'actual'))
            expect(t.state === 'crossed').toBe(a >= t.amountUsd);
        },
      ),
    );
  });

  it('uses the configured id in the key', () => {
    const [t] = evaluateThresholds(
      [{ amountUsd: 100, severity: 'info', id: 'team-budget' }],
      '2026-11',
      150,
      undefined,
      false,
    );
    expect(t!.key).toBe('cost-alert#2026-11#team-budget#actual');
  });
});

describe('spikes', () => {
  const rule = { minIncreasePercent: 50, minIncreaseUsd: 50 };
  it.each([
    ['doubling by $100', 100, 200, true],
    ['+$60 but only +30 %', 200, 260, false],
    ['+400 % but only +$4', 1, 5, false],
    ['new service at $80', 0, 80, true],
    ['new service at $20', 0, 20, false],
    ['exactly at both floors', 100, 150, true],
    ['a drop', 300, 10, false],
    // UnblendedCost by SERVICE nets credits and refunds in: a baseline can be below $0.
    ['credits ran out: -$40 a day → $900', -40, 900, true],
    ['below $0, then +$30 only', -40, -10, false],
  ])('%s → %s', (_, baselineUsd, yesterdayUsd, spike) => {
    expect(isSpike({ baselineUsd, yesterdayUsd }, rule)).toBe(spike);
  });

  it('never alerts below the absolute floor, nor below the relative one on a non-zero baseline', () => {
    fc.assert(
      fc.property(
        fc.float({ min: 0, max: 5_000, noNaN: true }),
        fc.float({ min: 0, max: 5_000, noNaN: true }),
        (baselineUsd, yesterdayUsd) => {
          const spike = isSpike({ baselineUsd, yesterdayUsd }, rule);
          if (yesterdayUsd - baselineUsd < 50) expect(spike).toBe(false);
          if (baselineUsd > 0 && ((yesterdayUsd - baselineUsd) / baselineUsd) * 100 < 50)
            expect(spike).toBe(false);
        },
      ),
    );
  });

  it('alerts a jump from a baseline below $0 (credits or a refund netted in), as from $0', () => {
    // Prepare: credits worth more than the usage for the 7 baseline days, then $900 of usage yesterday.
    const daily = flat('Amazon Bedrock', -40).map((d) => (d.day === '2026-11-22' ? { ...d, usd: 900 } : d));

    // Act
    const ev = evaluateCost({ daily: { ok: true, value: daily } }, cost, w);

    // Assert
    expect(ev.alerts.filter((a) => a.kind === 'spike')).toMatchObject([
      { key: alertKeys.spike('2026-11-22', 'Amazon Bedrock'), usd: 900, baselineUsd: -40, deltaUsd: 940 },
    ]);
  });

  it('judges the day before yesterday again: its cost may have come in after the last run', () => {
    // Prepare: at 22 Nov 07:00 the 21st showed $70 (most of its data not in yet: Cost Explorer lags up to
    // 24 h); at 23 Nov 07:00 the 21st is complete at $900, the 22nd back to $70.
    const daily = flat('Amazon Bedrock', 70).map((d) => (d.day === '2026-11-21' ? { ...d, usd: 900 } : d));

    // Act
    const ev = evaluateCost({ daily: { ok: true, value: daily } }, cost, w);

    // Assert: on main only the 22nd was judged, and the 21st's spike was never alerted.
    expect(ev.alerts.filter((a) => a.kind === 'spike')).toMatchObject([
      { key: alertKeys.spike('2026-11-21', 'Amazon Bedrock'), day: '2026-11-21', usd: 900, baselineUsd: 70 },
    ]);
    expect(ev.alerts.find((a) => a.kind === 'spike')!.text).toContain('on 2026-11-21');
  });

  it('compares yesterday with the mean of the 7 days before it; a missing day counts as $0', () => {
    // Prepare: $70 a day, but only on 6 of the 7 baseline days
    const daily = flat('Amazon Bedrock', 70).filter((d) => d.day !== '2026-11-18');

    // Act
    const [s] = summarizeServices(daily, w);

    // Assert
    expect(s).toMatchObject({ service: 'Amazon Bedrock', yesterdayUsd: 70, baselineUsd: 60, deltaUsd: 10 });
    expect(s!.deltaPercent).toBeCloseTo(16.7, 1);
  });

  it('alerts a spike once per day and service, with both deltas in the text', () => {
    // Prepare
    const daily = [
      ...flat('Amazon Bedrock', 20, 21, '2026-11-22'),
      { day: '2026-11-22', service: 'Amazon Bedrock', usd: 120, estimated: true },
    ];

    // Act
    const ev = evaluateCost({ daily: { ok: true, value: daily } }, { ...cost, forecast: false }, w);

    // Assert
    const spikes = ev.alerts.filter((a) => a.kind === 'spike');
    expect(spikes.map((a) => a.key)).toEqual([alertKeys.spike('2026-11-22', 'Amazon Bedrock')]);
    expect(spikes[0]!.text).toBe(
      'Amazon Bedrock cost $120.00 on 2026-11-22, $100.00 (+500 %) over its 7-day mean of $20.00',
    );
  });
});

// Cost Explorer gives each amount with its Unit: the account's billing currency, USD for most, CNY in China.
describe('currency', () => {
  it("labels every amount with Cost Explorer's unit, never as dollars, and says the limits are read in it", () => {
    // Prepare: 22 days of 100 CNY; the default thresholds (2 000, 2 500, 3 000) are read in CNY too.
    const daily = flat('Amazon Relational Database Service', 100).map((d) => ({ ...d, unit: 'CNY' }));
    const c = {
      ...cost,
      forecast: false,
      hourlyLimits: [
        {
          id: 'rds',
          services: ['Amazon Relational Database Service'],
          maxUsdPerHour: 1,
          severity: 'warning' as const,
        },
      ],
    };

    // Act
    const ev = evaluateCost({ daily: { ok: true, value: daily } }, c, w);

    // Assert
    expect(ev.currency).toBe('CNY');
    expect(ev.alerts.map((a) => a.kind).sort()).toEqual(['hourly', 'hourly', 'threshold']);
    for (const a of ev.alerts) {
      expect(a.text).toContain(' CNY');
      expect(a.text + a.title).not.toContain('$');
    }
    expect(ev.alerts.find((a) => a.kind === 'threshold')!.text).toBe(
      '2026-11 month-to-date 2,200.00 CNY reached the 2,000.00 CNY warning threshold (usd-2000)',
    );
    expect(ev.notes.find((n) => n.code === 'currency')?.text).toMatch(
      /in CNY, the unit Cost Explorer returns/,
    );
    expect(costSummaryLines(ev).join('\n')).not.toContain('$');
  });

  it('keeps $ for USD (the unit most accounts bill in), without a note', () => {
    const daily = flat('Amazon Relational Database Service', 100).map((d) => ({ ...d, unit: 'USD' }));
    const ev = evaluateCost({ daily: { ok: true, value: daily } }, { ...cost, forecast: false }, w);
    expect(ev.currency).toBe('USD');
    expect(ev.alerts.find((a) => a.kind === 'threshold')!.text).toContain('$2,200.00');
    expect(ev.notes.map((n) => n.code)).not.toContain('currency');
  });
});

describe('per-hour limits', () => {
  const rules = cost.hourlyLimits;
  const names = [
    'Amazon Bedrock',
    'Claude 3.5 Sonnet (Amazon Bedrock Edition)',
    'Amazon Bedrock Agents',
    'AWS Lambda',
  ];

  it.each([
    ['Amazon Bedrock', 'Amazon Bedrock', true],
    ['Amazon Bedrock', 'Amazon Bedrock Agents', false],
    ['*(Amazon Bedrock Edition)', 'Claude 3.5 Sonnet (Amazon Bedrock Edition)', true],
    ['*(Amazon Bedrock Edition)', 'Amazon Bedrock', false],
    ['Amazon *', 'Amazon Bedrock', true],
    ['a.b', 'axb', false],
  ])('pattern %s matches %s: %s', (pattern, name, ok) => {
    expect(matchesService(pattern, name)).toBe(ok);
  });

  it('resolves the named services from what the account spends on', () => {
    expect(namedServices(rules[0]!, names)).toEqual([
      'Amazon Bedrock',
      'Claude 3.5 Sonnet (Amazon Bedrock Edition)',
    ]);
  });

  it('hourly: alerts the peak hour above the limit, not the average', () => {
    // Prepare
    const daily = flat('Amazon Bedrock', 30);
    const hours = [
      { hour: '2026-11-23T02:00:00Z', service: 'Amazon Bedrock', usd: 90 },
      { hour: '2026-11-23T03:00:00Z', service: 'Amazon Bedrock', usd: 95 },
      { hour: '2026-11-23T03:00:00Z', service: 'AWS Lambda', usd: 500 },
      { hour: '2026-11-23T04:00:00Z', service: 'Amazon Bedrock', usd: 101 },
    ];

    // Act
    const r = evaluateHourlyLimits(rules, daily, { ok: true, value: hours }, w);

    // Assert
    expect(r.alerts).toEqual([
      expect.objectContaining({
        key: 'cost-hourly#2026-11-23#llm-api',
        severity: 'critical',
        usdPerHour: 101,
        hour: '2026-11-23T04:00:00Z',
        estimated: false,
      }),
    ]);
    expect(r.notes).toEqual([]);
  });

  it('hourly: alerts each UTC day of the window whose peak is above the limit, not only the larger peak', () => {
    // Prepare: the window (22 Nov 07:00 to 23 Nov 07:00) spans two days, each with its own burst. The next
    // run's window starts at 23 Nov 07:00: the 23rd's 03:00 burst is judged by this run or never.
    const daily = flat('Amazon Bedrock', 30);
    const hours = [
      { hour: '2026-11-22T09:00:00Z', service: 'Amazon Bedrock', usd: 150 },
      { hour: '2026-11-23T03:00:00Z', service: 'Amazon Bedrock', usd: 120 },
      { hour: '2026-11-23T04:00:00Z', service: 'Amazon Bedrock', usd: 40 },
    ];

    // Act
    const r = evaluateHourlyLimits(rules, daily, { ok: true, value: hours }, w);

    // Assert
    expect(r.alerts.map((a) => [a.key, a.kind === 'hourly' && a.hour])).toEqual([
      ['cost-hourly#2026-11-22#llm-api', '2026-11-22T09:00:00Z'],
      ['cost-hourly#2026-11-23#llm-api', '2026-11-23T03:00:00Z'],
    ]);
  });

  it('without hourly data: the day before yesterday is estimated again, its cost may have come in late', () => {
    // Prepare: $3,000 of Bedrock on 21 Nov (complete only now), $30 on the 22nd.
    const daily = flat('Amazon Bedrock', 30).map((d) => (d.day === '2026-11-21' ? { ...d, usd: 3000 } : d));

    // Act
    const r = evaluateHourlyLimits(rules, daily, undefined, w);

    // Assert: on main only the 22nd was estimated.
    expect(r.alerts).toEqual([
      expect.objectContaining({ key: 'cost-hourly#2026-11-21#llm-api', usdPerHour: 125, estimated: true }),
    ]);
  });

  it.each([
    ['$2,399 a day → $99.96/h', 2399, false],
    ['$2,401 a day → $100.04/h', 2401, true],
  ])('daily fallback: %s alerts: %s', (_, daily, alerts) => {
    // Act
    const r = evaluateHourlyLimits(rules, flat('Amazon Bedrock', daily), undefined, w);

    // Assert: the same cost every day, so both judged days (the 21st again, the 22nd) are over or under.
    expect(r.alerts.map((a) => a.key)).toEqual(
      alerts ? ['cost-hourly#2026-11-21#llm-api', 'cost-hourly#2026-11-22#llm-api'] : [],
    );
    expect(r.notes.map((n) => n.code)).toEqual(['hourly-estimated']);
    if (alerts) expect(r.alerts[1]).toMatchObject({ key: 'cost-hourly#2026-11-22#llm-api', estimated: true });
  });

  it('hourly data unavailable: falls back to daily ÷ 24 and says why', () => {
    const r = evaluateHourlyLimits(
      rules,
      flat('Amazon Bedrock', 2600),
      { ok: false, code: 'DataUnavailableException', reason: 'not enabled' },
      w,
    );
    expect(r.alerts).toHaveLength(2);
    expect(r.notes.map((n) => n.code)).toEqual(['hourly-unavailable', 'hourly-estimated']);
  });

  it('names a rule whose services have no spend at all', () => {
    const r = evaluateHourlyLimits(rules, flat('AWS Lambda', 3), undefined, w);
    expect(r.alerts).toEqual([]);
    expect(r.notes[0]).toMatchObject({ code: 'service-missing' });
    expect(r.notes[0]!.text).toContain('per-hour limit llm-api had nothing to check');
  });
});

describe('anomalies', () => {
  it.each([
    [4, 'info'],
    [99.99, 'info'],
    [100, 'warning'],
    [999, 'warning'],
    [1000, 'critical'],
    [25_000, 'critical'],
  ] as const)('impact $%s routes to %s', (impact, severity) => {
    expect(anomalySeverity(impact, cost.anomalies.routes)).toBe(severity);
  });

  it('drops anomalies below the floor and keys the rest by id', () => {
    const alerts = anomalyAlerts([anomaly(5, 'small'), anomaly(300, 'big')], cost.anomalies);
    expect(alerts.map((a) => [a.key, a.severity])).toEqual([['cost-anomaly#big', 'warning']]);
  });
});

describe('evaluateCost degrades', () => {
  it('usage unavailable: no totals, spikes or per-hour checks, but anomalies still alert', () => {
    // Act
    const ev = evaluateCost(
      {
        daily: { ok: false, code: 'DataUnavailableException', reason: 'new account' },
        forecast: { ok: false, code: 'DataUnavailableException', reason: 'new account' },
        anomalies: { ok: true, value: [anomaly(1500)] },
      },
      cost,
      w,
    );

    // Assert
    expect(ev.actualUsd).toBeUndefined();
    expect(ev.forecast).toBeUndefined();
    expect(ev.alerts.map((a) => a.kind)).toEqual(['anomaly']);
    expect(ev.notes.map((n) => n.code)).toEqual(['usage-unavailable', 'forecast-unavailable']);
  });

  it('orders alerts most severe first and dedups repeated keys', () => {
    const ev = evaluateCost(
      {
        daily: { ok: true, value: flat('Amazon Bedrock', 150) },
        anomalies: { ok: true, value: [anomaly(150, 'x'), anomaly(150, 'x')] },
      },
      { ...cost, forecast: false },
      w,
    );
    expect(ev.alerts.map((a) => a.severity)).toEqual(['critical', 'warning', 'warning', 'warning']);
    expect(new Set(ev.alerts.map((a) => a.key)).size).toBe(ev.alerts.length);
  });
});

describe('formatting', () => {
  it.each([
    [0, '$0.00'],
    [2140.123, '$2,140.12'],
    [1234567.5, '$1,234,567.50'],
    [-12.5, '-$12.50'],
  ])('usd(%s) = %s', (n, s) => expect(usd(n)).toBe(s));

  it('picks the worst severity', () => {
    expect(worstSeverity([])).toBe('info');
    expect(worstSeverity(['warning', 'critical', 'info'])).toBe('critical');
  });
});
