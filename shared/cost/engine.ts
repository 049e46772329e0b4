import type { CostConfig, CostMetric, CostThreshold, HourlyCostLimit, Severity } from '../config/schema.js';
import type { CostAnomaly, CostForecast, DailyCost, Day, DayRange, HourlyCost } from './ports.js';

// The cost policy: pure. Time, config and Cost Explorer data arrive as arguments; every alert carries the
// numbers and the words that justify it, and its dedup key.

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** The HOURLY query's window: a daily run's 24 hours and Cost Explorer's lag of up to 24 more. */
const HOURS_JUDGED = 48;
/**
 * How long after its last day an anomaly can be found: Cost Explorer's data lags up to 24 h and Cost Anomaly
 * Detection runs a few times a day after it. GetAnomalies selects by last day, so each poll reaches this much
 * further back than the days since the last poll, or an anomaly found after a poll falls between two windows.
 */
export const ANOMALY_FOUND_LAG_DAYS = 2;

/** The UTC day of an instant. */
export const dayOf = (d: Date): Day => d.toISOString().slice(0, 10);

/** `day` shifted by `n` days. */
export const addDays = (day: Day, n: number): Day =>
  dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS));

const daysBetween = (r: DayRange): number => Math.round((Date.parse(r.end) - Date.parse(r.start)) / DAY_MS);

const firstOfNextMonth = (day: Day): Day => {
  const d = new Date(`${day.slice(0, 7)}-01T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return dayOf(d);
};

/** Severity as a rank, for ordering and for escalation in the ledger: info 1, warning 2, critical 3. */
export const severityLevel = (s: Severity): number => ({ info: 1, warning: 2, critical: 3 })[s];

/** The most severe of `severities`; `info` for none. */
export const worstSeverity = (severities: readonly Severity[]): Severity =>
  severities.reduce<Severity>((w, s) => (severityLevel(s) > severityLevel(w) ? s : w), 'info');

/**
 * Every date range one run needs. The month evaluated is the month of yesterday (the last complete day),
 * so on the 1st the run still judges the month that just ended on all its days, under that month's keys.
 */
export interface CostWindow {
  /** The run's instant (ISO). */
  at: string;
  today: Day;
  yesterday: Day;
  /** `YYYY-MM`, the calendar month (UTC) the thresholds are judged for. */
  month: string;
  /** Month-to-date actuals: `[first of month, today)`. Today is partial, so it is the forecast's. */
  actual: DayRange;
  /** The rest of the month, `[today, first of next month)`; absent on the 1st (the month is complete). */
  remaining?: DayRange;
  /** Spike baseline: the `baselineDays` days before yesterday. */
  baseline: DayRange;
  /**
   * The days judged on daily data (spikes, per-hour estimates): the day before yesterday, then yesterday.
   * Cost Explorer's data of a day can come in up to 24 h late, after the run that judged it as yesterday: the
   * next run judges it again, complete (each alert's key is its day, so one seen twice is told once).
   */
  judgedDays: [Day, Day];
  /**
   * On the 2nd only: the month that ended the day before yesterday. Its last day's cost can come in up to 24 h
   * after the run of the 1st judged the month, so this run judges that month's thresholds on actuals again,
   * under that month's keys (what the 1st told is not told again).
   */
  previous?: { month: string; actual: DayRange };
  /** The one DAILY query: month-to-date, the spike baseline and on the 2nd the month before it. */
  query: DayRange;
  /**
   * The last 48 complete hours (ISO), for the HOURLY query: the day a daily run covers plus Cost Explorer's
   * lag (up to 24 h), so an hour whose data arrives after the run that covered it is judged by the next.
   * Each day's peak alerts once (its key), so an hour seen twice is told once.
   */
  hours: { start: string; end: string };
  /** GetAnomalies window (by an anomaly's last day), inclusive at both ends: `lookbackDays` + ANOMALY_FOUND_LAG_DAYS. */
  anomalies: { start: Day; end: Day };
  daysInMonth: number;
}

/**
 * Whether a check polls Cost Anomaly Detection (one request, $0.01). Anomalies arrive as events as they are
 * found (the `Anomaly Detected` rule), so the poll is the fallback for a missed event: a schedule that fires
 * every day polls on every `lookbackDays`-th UTC day, and the windows of consecutive polls still cover every
 * day; any other schedule and an on-demand check poll every run.
 */
export const pollsAnomalies = (at: Date, lookbackDays: number, scheduledDaily: boolean): boolean =>
  !scheduledDaily || (Math.floor(at.getTime() / 86_400_000) + 1) % lookbackDays === 0;

/** Compute the run's window from `now` and the cost config. */
export const costWindow = (now: Date, cost: Pick<CostConfig, 'spikes' | 'anomalies'>): CostWindow => {
  const today = dayOf(now);
  const yesterday = addDays(today, -1);
  const monthStart = `${yesterday.slice(0, 7)}-01`;
  const monthEnd = firstOfNextMonth(monthStart);
  const baseline = { start: addDays(yesterday, -cost.spikes.baselineDays), end: yesterday };
  const dayBefore = addDays(yesterday, -1);
  const firstBaseline = addDays(dayBefore, -cost.spikes.baselineDays);
  const hourEnd = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const previousStart = `${dayBefore.slice(0, 7)}-01`;
  const previous =
    previousStart < monthStart
      ? { month: previousStart.slice(0, 7), actual: { start: previousStart, end: monthStart } }
      : undefined;
  const queryStart = [previous?.actual.start, firstBaseline, monthStart]
    .filter((d): d is Day => d !== undefined)
    .sort()[0]!;
  return {
    at: now.toISOString(),
    today,
    yesterday,
    month: monthStart.slice(0, 7),
    actual: { start: monthStart, end: today },
    ...(today < monthEnd && { remaining: { start: today, end: monthEnd } }),
    baseline,
    judgedDays: [dayBefore, yesterday],
    ...(previous && { previous }),
    query: { start: queryStart, end: today },
    hours: {
      start: new Date(hourEnd - HOURS_JUDGED * HOUR_MS).toISOString().replace('.000Z', 'Z'),
      end: new Date(hourEnd).toISOString().replace('.000Z', 'Z'),
    },
    anomalies: {
      start: addDays(today, -cost.anomalies.lookbackDays - ANOMALY_FOUND_LAG_DAYS),
      end: today,
    },
    daysInMonth: daysBetween({ start: monthStart, end: monthEnd }),
  };
};

/** The id a threshold goes by in alerts and keys. */
export const thresholdId = (t: Pick<CostThreshold, 'id' | 'amountUsd'>): string =>
  t.id ?? `usd-${t.amountUsd}`;

/** Every cost key in the shared state table starts with this; IAM confines the cost role to it. */
export const COST_KEY_PREFIX = 'cost-';

/** Dedup keys in the state table (`pk`), one per thing that alerts once. */
export const alertKeys = {
  threshold: (month: string, id: string, basis: Basis) => `${COST_KEY_PREFIX}alert#${month}#${id}#${basis}`,
  spike: (day: Day, service: string) => `${COST_KEY_PREFIX}spike#${day}#${service}`,
  hourly: (day: Day, ruleId: string) => `${COST_KEY_PREFIX}hourly#${day}#${ruleId}`,
  anomaly: (anomalyId: string) => `${COST_KEY_PREFIX}anomaly#${anomalyId}`,
  note: (month: string, code: CostNote['code']) => `${COST_KEY_PREFIX}note#${month}#${code}`,
};

/**
 * Notes that say the run was degraded: they reach the info topic once a month each, when nothing else
 * alerts. The others only explain (in alert messages and in `steward cost`).
 */
export const DEGRADED_NOTES: ReadonlySet<CostNote['code']> = new Set([
  'usage-unavailable',
  'forecast-unavailable',
  'hourly-unavailable',
  'anomalies-unavailable',
]);

/** A Cost Explorer answer, or why there is none (the run degrades instead of failing). */
export type Fetched<T> = { ok: true; value: T } | { ok: false; code: string; reason: string };

export type Basis = 'actual' | 'forecast';

/** An explanation attached to a run: data that was missing, estimated or cut. */
export interface CostNote {
  code:
    | 'usage-unavailable'
    | 'forecast-unavailable'
    | 'month-complete'
    | 'hourly-unavailable'
    | 'hourly-estimated'
    | 'service-missing'
    | 'anomalies-unavailable'
    | 'currency';
  text: string;
}

interface AlertBase {
  key: string;
  severity: Severity;
  /** Short, for a notification subject. */
  title: string;
  /** One line for humans, complete on its own. */
  text: string;
}
export type CostAlert =
  | (AlertBase & {
      kind: 'threshold';
      basis: Basis;
      thresholdId: string;
      amountUsd: number;
      valueUsd: number;
    })
  | (AlertBase & {
      kind: 'spike';
      service: string;
      day: Day;
      usd: number;
      baselineUsd: number;
      deltaUsd: number;
      /** Absent when the baseline is $0 (any growth is infinite). */
      deltaPercent?: number;
    })
  | (AlertBase & {
      kind: 'hourly';
      ruleId: string;
      services: string[];
      usdPerHour: number;
      maxUsdPerHour: number;
      /** The peak hour (ISO) when measured hourly; absent when estimated from the daily cost. */
      hour?: string;
      estimated: boolean;
    })
  | (AlertBase & { kind: 'anomaly'; anomaly: CostAnomaly });

export interface ThresholdStatus {
  id: string;
  amountUsd: number;
  severity: Severity;
  basis: Basis;
  key: string;
  valueUsd?: number;
  /**
   * `armed` below the amount; `crossed` at or above it (an alert is due unless already sent this month);
   * `covered` for a forecast whose actual already crossed (the actual alert speaks); `unknown` without data.
   */
  state: 'armed' | 'crossed' | 'covered' | 'unknown';
}

export interface ServiceCost {
  service: string;
  monthToDateUsd: number;
  yesterdayUsd: number;
  /** Mean daily cost over the baseline days (a missing day counts as $0). */
  baselineUsd: number;
  deltaUsd: number;
  deltaPercent?: number;
}

export interface CostEvaluation {
  window: CostWindow;
  metric: CostMetric;
  /**
   * The unit of every amount here (and of the config's limits it was judged against): Cost Explorer's `Unit`,
   * the account's billing currency, `USD` for most accounts. The `*Usd` names are kept for compatibility.
   */
  currency: string;
  /** Month-to-date actual; absent when the usage query failed. */
  actualUsd?: number;
  /** Month-end projection: month-to-date actual + Cost Explorer's forecast for the rest of the month. */
  forecast?: { monthEndUsd: number; remainingUsd: number; lowerUsd?: number; upperUsd?: number };
  /** Every service seen in the query window, most expensive this month first. */
  services: ServiceCost[];
  /** Month-to-date by the second group key (tag value or linked account), most expensive first. */
  groups: { group: string; monthToDateUsd: number }[];
  thresholds: ThresholdStatus[];
  /** Alerts due now, most severe first; the service dedups them against the ledger. */
  alerts: CostAlert[];
  notes: CostNote[];
}

/** What one run fetched; an absent part was not asked for. */
export interface CostInputs {
  daily: Fetched<DailyCost[]>;
  forecast?: Fetched<CostForecast>;
  hourly?: Fetched<HourlyCost[]>;
  anomalies?: Fetched<CostAnomaly[]>;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const inRange = (day: Day, r: DayRange): boolean => day >= r.start && day < r.end;

/**
 * Money for humans in the unit Cost Explorer gave: `$2,140.12` for USD, `2,140.12 CNY` for any other (the
 * account's billing currency), so no amount in another currency ever reads as dollars.
 */
export const money = (n: number, unit = 'USD'): string => {
  const [int, frac] = Math.abs(n).toFixed(2).split('.');
  const digits = `${int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${frac}`;
  return unit === 'USD' ? `${n < 0 ? '-' : ''}$${digits}` : `${n < 0 ? '-' : ''}${digits} ${unit}`;
};

/** Money in US dollars: `$2,140.12` (what AWS charges for its requests; Cost Explorer's amounts use `money`). */
export const usd = (n: number): string => money(n);

/**
 * The unit of a run's Cost Explorer amounts: the one its answers named (every amount of an account comes in its
 * billing currency), `USD` when they named none. Several (never seen from one account) are all named, joined.
 */
export const currencyOf = (inputs: CostInputs): string => {
  const units = new Set<string>();
  const add = (u: string | undefined) => u && units.add(u);
  if (inputs.daily.ok) for (const d of inputs.daily.value) add(d.unit);
  if (inputs.hourly?.ok) for (const h of inputs.hourly.value) add(h.unit);
  if (inputs.forecast?.ok) add(inputs.forecast.value.unit);
  return units.size ? [...units].sort().join('/') : 'USD';
};

/** Does a service name match a pattern (`*` = any run of characters, otherwise exact)? */
export const matchesService = (pattern: string, service: string): boolean => {
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  return re.test(service);
};
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The services of `names` that a per-hour rule covers. */
export const namedServices = (rule: Pick<HourlyCostLimit, 'services'>, names: Iterable<string>): string[] =>
  [...new Set(names)].filter((n) => rule.services.some((p) => matchesService(p, n))).sort();

/** Per-service totals for the month, yesterday and the baseline mean. */
export const summarizeServices = (daily: readonly DailyCost[], w: CostWindow): ServiceCost[] => {
  const by = new Map<string, { mtd: number; y: number; base: number }>();
  for (const d of daily) {
    const s = by.get(d.service) ?? { mtd: 0, y: 0, base: 0 };
    if (inRange(d.day, w.actual)) s.mtd += d.usd;
    if (d.day === w.yesterday) s.y += d.usd;
    if (inRange(d.day, w.baseline)) s.base += d.usd;
    by.set(d.service, s);
  }
  const days = daysBetween(w.baseline);
  return [...by.entries()]
    .map(([service, s]) => {
      const baselineUsd = s.base / days;
      const deltaUsd = s.y - baselineUsd;
      return {
        service,
        monthToDateUsd: round2(s.mtd),
        yesterdayUsd: round2(s.y),
        baselineUsd: round2(baselineUsd),
        deltaUsd: round2(deltaUsd),
        ...(baselineUsd > 0 && { deltaPercent: Math.round((deltaUsd / baselineUsd) * 1000) / 10 }),
      };
    })
    .sort((a, b) => b.monthToDateUsd - a.monthToDateUsd || a.service.localeCompare(b.service));
};

/**
 * A spike: yesterday exceeds the baseline mean by at least `minIncreaseUsd` AND by at least
 * `minIncreasePercent` (any growth from $0 or below counts as infinite). Both, so a $2 → $9 service stays quiet.
 */
export const isSpike = (
  s: Pick<ServiceCost, 'yesterdayUsd' | 'baselineUsd'>,
  rule: Pick<CostConfig['spikes'], 'minIncreasePercent' | 'minIncreaseUsd'>,
): boolean => {
  const delta = s.yesterdayUsd - s.baselineUsd;
  if (delta < rule.minIncreaseUsd) return false;
  // From a baseline at or below $0 (credits or refunds netted in) any growth is infinite, as from $0: the
  // ratio to a negative mean is negative, and read as a percentage it silenced every such jump.
  return s.baselineUsd <= 0 || (delta / s.baselineUsd) * 100 >= rule.minIncreasePercent;
};

const pct = (p: number | undefined): string => (p === undefined ? 'new' : `${p >= 0 ? '+' : ''}${p} %`);

/** Threshold states on the actual and the forecast; forecasts only warn while the actual is below. */
export const evaluateThresholds = (
  thresholds: readonly CostThreshold[],
  month: string,
  actualUsd: number | undefined,
  monthEndUsd: number | undefined,
  useForecast: boolean,
): ThresholdStatus[] =>
  thresholds.flatMap((t) => {
    const id = thresholdId(t);
    const base = { id, amountUsd: t.amountUsd, severity: t.severity };
    const actualCrossed = actualUsd !== undefined && actualUsd >= t.amountUsd;
    const actual: ThresholdStatus = {
      ...base,
      basis: 'actual',
      key: alertKeys.threshold(month, id, 'actual'),
      ...(actualUsd !== undefined && { valueUsd: actualUsd }),
      state: actualUsd === undefined ? 'unknown' : actualCrossed ? 'crossed' : 'armed',
    };
    if (!useForecast) return [actual];
    const forecast: ThresholdStatus = {
      ...base,
      basis: 'forecast',
      key: alertKeys.threshold(month, id, 'forecast'),
      ...(monthEndUsd !== undefined && { valueUsd: monthEndUsd }),
      state: actualCrossed
        ? 'covered'
        : monthEndUsd === undefined
          ? 'unknown'
          : monthEndUsd >= t.amountUsd
            ? 'crossed'
            : 'armed',
    };
    return [actual, forecast];
  });

const thresholdAlert = (s: ThresholdStatus, month: string, unit: string, ended = false): CostAlert => {
  const usd = (n: number) => money(n, unit);
  return {
    kind: 'threshold',
    key: s.key,
    severity: s.severity,
    basis: s.basis,
    thresholdId: s.id,
    amountUsd: s.amountUsd,
    valueUsd: s.valueUsd!,
    title: ended
      ? `${month} total ${usd(s.valueUsd!)} crossed ${usd(s.amountUsd)} (${s.id})`
      : s.basis === 'actual'
        ? `month-to-date ${usd(s.valueUsd!)} crossed ${usd(s.amountUsd)} (${s.id})`
        : `${month} forecast ${usd(s.valueUsd!)} crosses ${usd(s.amountUsd)} (${s.id})`,
    text: ended
      ? `${month} total ${usd(s.valueUsd!)} reached the ${usd(s.amountUsd)} ${s.severity} threshold (${s.id}), with cost that came in after the month ended`
      : s.basis === 'actual'
        ? `${month} month-to-date ${usd(s.valueUsd!)} reached the ${usd(s.amountUsd)} ${s.severity} threshold (${s.id})`
        : `${month} is forecast to end at ${usd(s.valueUsd!)}, above the ${usd(s.amountUsd)} ${s.severity} threshold (${s.id})`,
  };
};

/** Per-hour limits: from HOURLY data when the account has it, else yesterday's cost ÷ 24 (and said so). */
export const evaluateHourlyLimits = (
  rules: readonly HourlyCostLimit[],
  daily: readonly DailyCost[],
  hourly: Fetched<HourlyCost[]> | undefined,
  w: CostWindow,
  unit = 'USD',
): { alerts: CostAlert[]; notes: CostNote[] } => {
  const usd = (n: number) => money(n, unit);
  const alerts: CostAlert[] = [];
  const notes: CostNote[] = [];
  const seen = new Set(daily.map((d) => d.service));
  if (hourly && !hourly.ok) {
    notes.push({
      code: 'hourly-unavailable',
      text: `Hourly cost data unavailable (${hourly.code}: ${hourly.reason}); per-hour limits use daily cost ÷ 24 instead. Is hourly granularity enabled in Cost Explorer?`,
    });
  }
  for (const rule of rules) {
    const services = namedServices(rule, seen);
    if (!services.length) {
      notes.push({
        code: 'service-missing',
        text: `No cost for ${rule.services.join(', ')} from ${w.query.start} to ${addDays(w.query.end, -1)}: per-hour limit ${rule.id} had nothing to check.`,
      });
      continue;
    }
    if (hourly?.ok) {
      const perHour = new Map<string, number>();
      for (const h of hourly.value) {
        if (services.includes(h.service)) perHour.set(h.hour, (perHour.get(h.hour) ?? 0) + h.usd);
      }
      // The peak of each UTC day: an alert is keyed by its day, and the window spans two days, so a burst on
      // one day is judged even when the other day's is larger (the next run's window no longer holds it).
      const peaks = new Map<string, [string, number]>();
      for (const [h, v] of perHour) {
        const best = peaks.get(h.slice(0, 10));
        if (!best || v > best[1]) peaks.set(h.slice(0, 10), [h, v]);
      }
      for (const [hour, peak] of [...peaks.values()].sort(([a], [b]) => a.localeCompare(b))) {
        if (peak <= rule.maxUsdPerHour) continue;
        alerts.push({
          kind: 'hourly',
          key: alertKeys.hourly(hour.slice(0, 10), rule.id),
          severity: rule.severity,
          ruleId: rule.id,
          services,
          usdPerHour: round2(peak),
          maxUsdPerHour: rule.maxUsdPerHour,
          hour,
          estimated: false,
          title: `${rule.id} ${usd(peak)}/h, above ${usd(rule.maxUsdPerHour)}/h`,
          text: `${rule.id}: ${usd(peak)} in the hour from ${hour.slice(0, 16).replace('T', ' ')} UTC, above the limit of ${usd(rule.maxUsdPerHour)}/h (${services.join(', ')})`,
        });
      }
      continue;
    }
    for (const day of w.judgedDays) {
      const perHour =
        sum(daily.filter((d) => d.day === day && services.includes(d.service)).map((d) => d.usd)) / 24;
      if (perHour <= rule.maxUsdPerHour) continue;
      alerts.push({
        kind: 'hourly',
        key: alertKeys.hourly(day, rule.id),
        severity: rule.severity,
        ruleId: rule.id,
        services,
        usdPerHour: round2(perHour),
        maxUsdPerHour: rule.maxUsdPerHour,
        estimated: true,
        title: `${rule.id} ~${usd(perHour)}/h (daily / 24), above ${usd(rule.maxUsdPerHour)}/h`,
        text: `${rule.id}: ${usd(perHour)}/h on average on ${day} (daily cost ÷ 24: hourly granularity is not enabled), above the limit of ${usd(rule.maxUsdPerHour)}/h (${services.join(', ')})`,
      });
    }
  }
  if (!hourly?.ok && rules.length) {
    notes.push({
      code: 'hourly-estimated',
      text: 'Per-hour limits are estimated as daily cost ÷ 24: a burst within a day can exceed a limit unseen. Enable hourly granularity in Cost Explorer and set cost.hourly to measure hours.',
    });
  }
  return { alerts, notes };
};

/** The severity an anomaly's impact routes to: the highest `atLeastUsd` at or below it. */
export const anomalySeverity = (impactUsd: number, routes: CostConfig['anomalies']['routes']): Severity =>
  [...routes].sort((a, b) => b.atLeastUsd - a.atLeastUsd).find((r) => impactUsd >= r.atLeastUsd)?.severity ??
  'info';

/** Alerts for anomalies at or above the impact floor, routed by impact. */
export const anomalyAlerts = (
  anomalies: readonly CostAnomaly[],
  cfg: Pick<CostConfig['anomalies'], 'minImpactUsd' | 'routes'>,
): CostAlert[] =>
  anomalies
    .filter((a) => a.impactUsd >= cfg.minImpactUsd)
    .map((a) => {
      const severity = anomalySeverity(a.impactUsd, cfg.routes);
      const where = a.rootCauses[0]?.service ?? a.dimension ?? 'unknown dimension';
      const pctText = a.impactPercent !== undefined ? ` (+${a.impactPercent} % over expected)` : '';
      const since = a.startDate ? ` since ${a.startDate.slice(0, 10)}` : '';
      return {
        kind: 'anomaly' as const,
        key: alertKeys.anomaly(a.id),
        severity,
        anomaly: a,
        title: `anomaly on ${where}: ${usd(a.impactUsd)} impact`,
        text: `Cost anomaly on ${where}: ${usd(a.impactUsd)} impact${pctText}${since}`,
      };
    });

const byKeyOnce = (alerts: CostAlert[]): CostAlert[] => {
  const seen = new Set<string>();
  return alerts.filter((a) => !seen.has(a.key) && seen.add(a.key));
};

/**
 * Judge one run's data. What is missing becomes a note, and everything else is still evaluated: no forecast
 * means thresholds on actuals only; no usage means forecast and anomalies only.
 */
export const evaluateCost = (inputs: CostInputs, cost: CostConfig, w: CostWindow): CostEvaluation => {
  const notes: CostNote[] = [];
  const currency = currencyOf(inputs);
  const usd = (n: number) => money(n, currency);
  if (currency !== 'USD')
    notes.push({
      code: 'currency',
      text: `Amounts are in ${currency}, the unit Cost Explorer returns for this account (its billing currency): the configured thresholds, per-hour limits and spike floors (amountUsd, maxUsdPerHour, minIncreaseUsd) are read in ${currency} too.`,
    });
  const daily = inputs.daily.ok ? inputs.daily.value : [];
  if (!inputs.daily.ok) {
    notes.push({
      code: 'usage-unavailable',
      text: `Cost and usage unavailable (${inputs.daily.code}: ${inputs.daily.reason}): no month-to-date total, spikes or per-hour limits this run.`,
    });
  }
  const actualUsd = inputs.daily.ok
    ? round2(sum(daily.filter((d) => inRange(d.day, w.actual)).map((d) => d.usd)))
    : undefined;

  let forecast: CostEvaluation['forecast'];
  if (!w.remaining && cost.forecast) {
    notes.push({
      code: 'month-complete',
      text: `${w.month} is over: its thresholds are judged on its actuals, without a forecast. Cost of its last day that Cost Explorer reports later is judged by the next day's run.`,
    });
  } else if (inputs.forecast && !inputs.forecast.ok) {
    notes.push({
      code: 'forecast-unavailable',
      text: `Forecast unavailable (${inputs.forecast.code}: ${inputs.forecast.reason}); thresholds were checked on actuals only. Cost Explorer needs some history first (new accounts, early in the month).`,
    });
  } else if (inputs.forecast?.ok && actualUsd !== undefined) {
    const f = inputs.forecast.value;
    forecast = {
      monthEndUsd: round2(actualUsd + f.meanUsd),
      remainingUsd: round2(f.meanUsd),
      ...(f.lowerUsd !== undefined && { lowerUsd: round2(actualUsd + f.lowerUsd) }),
      ...(f.upperUsd !== undefined && { upperUsd: round2(actualUsd + f.upperUsd) }),
    };
  }

  const thresholds = evaluateThresholds(
    cost.thresholds,
    w.month,
    actualUsd,
    forecast?.monthEndUsd,
    cost.forecast,
  );
  const alerts: CostAlert[] = thresholds
    .filter((s) => s.state === 'crossed')
    .map((s) => thresholdAlert(s, w.month, currency));
  // On the 2nd, the month that ended, again on its actuals: its last day's cost may have come after the 1st.
  const prev = w.previous;
  if (prev && inputs.daily.ok) {
    const total = round2(sum(daily.filter((d) => inRange(d.day, prev.actual)).map((d) => d.usd)));
    alerts.push(
      ...evaluateThresholds(cost.thresholds, prev.month, total, undefined, false)
        .filter((s) => s.state === 'crossed')
        .map((s) => thresholdAlert(s, prev.month, currency, true)),
    );
  }

  const services = summarizeServices(daily, w);
  for (const day of cost.spikes.enabled ? w.judgedDays : []) {
    // Each day against the `baselineDays` before it (yesterday's is the summary's).
    const judged =
      day === w.yesterday
        ? services
        : summarizeServices(daily, {
            ...w,
            yesterday: day,
            baseline: { start: addDays(day, -cost.spikes.baselineDays), end: day },
          });
    for (const s of judged.filter((x) => isSpike(x, cost.spikes))) {
      alerts.push({
        kind: 'spike',
        key: alertKeys.spike(day, s.service),
        severity: cost.spikes.severity,
        service: s.service,
        day,
        usd: s.yesterdayUsd,
        baselineUsd: s.baselineUsd,
        deltaUsd: s.deltaUsd,
        ...(s.deltaPercent !== undefined && { deltaPercent: s.deltaPercent }),
        title: `${s.service} ${usd(s.yesterdayUsd)} on ${day} (+${usd(s.deltaUsd)})`,
        text: `${s.service} cost ${usd(s.yesterdayUsd)} on ${day}, ${usd(s.deltaUsd)} (${pct(s.deltaPercent)}) over its ${cost.spikes.baselineDays}-day mean of ${usd(s.baselineUsd)}`,
      });
    }
  }

  if (inputs.daily.ok) {
    const hourly = evaluateHourlyLimits(cost.hourlyLimits, daily, inputs.hourly, w, currency);
    alerts.push(...hourly.alerts);
    notes.push(...hourly.notes);
  }

  if (inputs.anomalies && !inputs.anomalies.ok) {
    notes.push({
      code: 'anomalies-unavailable',
      text: `Cost anomalies could not be read (${inputs.anomalies.code}: ${inputs.anomalies.reason}); anomaly events still alert when they arrive.`,
    });
  } else if (inputs.anomalies?.ok) {
    alerts.push(...anomalyAlerts(inputs.anomalies.value, cost.anomalies));
  }

  const groups = new Map<string, number>();
  for (const d of daily) {
    if (d.group !== undefined && inRange(d.day, w.actual))
      groups.set(d.group, (groups.get(d.group) ?? 0) + d.usd);
  }

  return {
    window: w,
    metric: cost.metric,
    currency,
    ...(actualUsd !== undefined && { actualUsd }),
    ...(forecast && { forecast }),
    services,
    groups: [...groups.entries()]
      .map(([group, v]) => ({ group, monthToDateUsd: round2(v) }))
      .sort((a, b) => b.monthToDateUsd - a.monthToDateUsd),
    thresholds,
    alerts: byKeyOnce(alerts).sort((a, b) => severityLevel(b.severity) - severityLevel(a.severity)),
    notes,
  };
};
