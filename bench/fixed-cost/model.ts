import { firings, MONTH_HOURS, MONTH_START, type TemplateCounts } from './template.js';
import type { MetricId, RunEmission } from './runs.js';

/**
 * AWS list prices, us-east-1 (other regions differ by up to ~20 %), from each service's pricing page.
 * CloudWatch bills a custom metric $0.30 a month prorated by the hour, and only for hours in which it
 * receives data: a metric sent once a day costs 30/730 of one sent every hour, once a month 1/730.
 */
export const PRICES = {
  metricMonth: 0.3,
  alarmMetric: 0.1,
  compositeAlarm: 0.5,
  dashboard: 3,
  kmsKey: 1,
  endpointAzHour: 0.01,
  costExplorerRequest: 0.01,
  /**
   * AWS Budgets: a budget with notifications (email, SNS) is free; only action-enabled budgets are billed,
   * $0.10 a day each after the first two (62 free budget-days a month). The AWS Price List's AWSBudgets
   * offer: "$0.00 for Budget-days" (BudgetsUsage), "$0.10 per Action-enabled Budget-day" from day 62.
   */
  budgetDay: 0,
  actionBudgetDay: 0.1,
  freeActionBudgetDays: 62,
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  sfnTransition: 0.025 / 1000,
  logsGb: 0.5,
} as const;

/** A month is 730 hours; the reference month (30 days) is scaled up to it. */
export const HOURS_PER_MONTH = 730;
const SCALE = HOURS_PER_MONTH / MONTH_HOURS;

/** Functions whose runs read or act on every database (their duration grows with the estate). */
const ESTATE_READERS = ['backup', 'retention', 'report'];

/** Assumed, not measured: billed seconds of one invocation (init + the calls, which wait on AWS). */
export const ASSUMED = {
  secondsPerRun: 2,
  secondsPerDatabase: 0.05,
  /** Lambda's START/END/REPORT lines per invocation, in bytes. */
  platformLogBytes: 400,
  /** A drill's state machine: every state once, plus its wait loop (restore polls ~ every 5 min, ~30 min). */
  drillWaitLoops: 6,
  /** Transitions per wait-loop iteration (wait, check, choice). */
  transitionsPerLoop: 3,
} as const;

export interface CostLine {
  component: string;
  how: string;
  usd: number;
}

export interface CostInputs {
  counts: TemplateCounts;
  /**
   * The measured emission of each schedule's run (by schedule name) at this estate size, by the hour of the
   * reference month it fires in; `all` for a run measured once and the same at every firing.
   */
  emissions: Record<string, { all?: RunEmission; byHour?: Map<number, RunEmission> }>;
  /** Metrics one drill records per database (once a month each). */
  drillMetrics: string[];
  /** Functions whose handler adds Powertools' ColdStart metric. */
  coldStart: string[];
  /** Databases in the estate, and how many of them copy to DR (one copy-finished event a day each). */
  databases: number;
  drCopying: number;
  drillTargets: number;
}

const usd = (n: number) => Math.round(n * 1e4) / 1e4;

/** The itemised fixed monthly cost of one stage, from its template and the measured runs. */
export const fixedCost = (i: CostInputs): CostLine[] => {
  const { counts } = i;
  // Hours of the month in which each custom metric receives data (a metric is billed once per such hour).
  const metricHours = new Map<MetricId, Set<number>>();
  const addHours = (id: MetricId, hours: Iterable<number>) => {
    const set = metricHours.get(id) ?? new Set<number>();
    for (const h of hours) set.add(h);
    metricHours.set(id, set);
  };
  let invocations = 0;
  let gbSeconds = 0;
  let logBytes = 0;
  let ceRequests = 0;
  let drills = 0;
  for (const s of counts.schedules) {
    const f = firings(s.expression);
    if (s.target === 'state-machine') {
      drills += f.count;
      continue;
    }
    invocations += f.count;
    const fn = s.target.replace(/^steward-[^-]+-/, '');
    const memoryGb = (counts.functions[s.target]?.memoryMb ?? 512) / 1024;
    const perRun =
      ASSUMED.secondsPerRun + (ESTATE_READERS.includes(fn) ? ASSUMED.secondsPerDatabase * i.databases : 0);
    gbSeconds += f.count * memoryGb * perRun;
    const measured = i.emissions[s.name] ?? {};
    for (const h of f.hours) {
      const e = measured.byHour?.get(h) ?? measured.all;
      // Runs within one hour emit the same metrics in that hour; f.count / hours covers sub-hourly rates.
      const runs = f.count / f.hours.size;
      logBytes += runs * (ASSUMED.platformLogBytes + (e?.logBytes ?? 0));
      ceRequests += runs * (e?.requests ?? 0);
      for (const m of e?.metrics ?? []) addHours(m, [h]);
    }
    if (i.coldStart.includes(fn))
      addHours(`Steward/ColdStart{function_name=${s.target},service=${fn}}`, f.hours);
  }
  // Event-driven: one snapshot-created and one copy-finished event per copying database a day (backup).
  const eventRuns = 30 * 2 * i.drCopying;
  invocations += eventRuns;
  gbSeconds += eventRuns * 0.5 * ASSUMED.secondsPerRun;
  logBytes += eventRuns * ASSUMED.platformLogBytes;
  // Drills: each target's metrics once a month (its record step), the drill and verifier invocations.
  const drillMetricHours = drills * i.drillMetrics.length;
  const transitions =
    drills * (counts.stateMachineStates + ASSUMED.drillWaitLoops * ASSUMED.transitionsPerLoop);

  const hourly = [...metricHours.entries()].filter(([, h]) => h.size >= MONTH_HOURS / 2);
  const metricUsd = (hours: number) => ((hours * SCALE) / HOURS_PER_MONTH) * PRICES.metricMonth;
  const sumHours = (xs: [MetricId, Set<number>][]) => xs.reduce((n, [, h]) => n + h.size, 0);
  const rare = [...metricHours.entries()].filter(([, h]) => h.size < MONTH_HOURS / 2);
  const alarmMetrics = counts.alarms.reduce((n, a) => n + a.metrics, 0);
  const custom = counts.alarms.filter((a) => !a.namespaces.every((ns) => ns.startsWith('AWS/')));
  return [
    {
      component: 'custom metrics sent most hours',
      how: `${hourly.length} metrics (${hourly.map(([id]) => id.replace(/^Steward\//, '')).join(', ') || 'none'})`,
      usd: usd(metricUsd(sumHours(hourly))),
    },
    {
      component: 'custom metrics sent daily or less',
      how: `${rare.length} metrics, ${Math.round(sumHours(rare) * SCALE)} metric-hours of ${HOURS_PER_MONTH}`,
      usd: usd(metricUsd(sumHours(rare))),
    },
    {
      component: 'drill metrics',
      how: `${i.drillMetrics.length} per drilled database × ${drills} drills, 1 h each`,
      usd: usd(((drillMetricHours * SCALE) / HOURS_PER_MONTH) * PRICES.metricMonth),
    },
    {
      component: 'alarms',
      how: `${counts.alarms.length} alarms, ${alarmMetrics} alarm metrics (${custom.length} on custom metrics)`,
      usd: usd(alarmMetrics * PRICES.alarmMetric + counts.compositeAlarms * PRICES.compositeAlarm),
    },
    { component: 'dashboards', how: `${counts.dashboards}`, usd: counts.dashboards * PRICES.dashboard },
    { component: 'KMS keys', how: `${counts.kmsKeys}`, usd: counts.kmsKeys * PRICES.kmsKey },
    {
      component: 'AWS Budgets',
      how: `${counts.budgets} budgets (notifications only: free), ${counts.actionBudgets} with actions`,
      usd: usd(
        counts.budgets * 30 * PRICES.budgetDay +
          Math.max(0, counts.actionBudgets * 30 - PRICES.freeActionBudgetDays) * PRICES.actionBudgetDay,
      ),
    },
    {
      component: 'interface endpoints',
      how: `${counts.endpointAzs} endpoint-AZs × ${HOURS_PER_MONTH} h`,
      usd: usd(counts.endpointAzs * HOURS_PER_MONTH * PRICES.endpointAzHour),
    },
    {
      component: 'Cost Explorer API',
      how: `${Math.round(ceRequests * SCALE)} requests (measured per run × runs)`,
      usd: usd(ceRequests * SCALE * PRICES.costExplorerRequest),
    },
    {
      component: 'Lambda',
      how: `${Math.round(invocations * SCALE)} invocations, ${Math.round(gbSeconds * SCALE)} GB-s (duration assumed)`,
      usd: usd((gbSeconds * PRICES.lambdaGbSecond + invocations * PRICES.lambdaRequest) * SCALE),
    },
    {
      component: 'Step Functions',
      how: `${drills} drills × ${counts.stateMachineStates + ASSUMED.drillWaitLoops * ASSUMED.transitionsPerLoop} transitions`,
      usd: usd(transitions * PRICES.sfnTransition * SCALE),
    },
    {
      component: 'CloudWatch Logs',
      how: `${(logBytes / 1e6).toFixed(1)} MB ingested (measured per run + platform lines)`,
      usd: usd((logBytes * SCALE * PRICES.logsGb) / 1e9),
    },
  ];
};

export const total = (lines: CostLine[]) => usd(lines.reduce((n, l) => n + l.usd, 0));

/** The reference month's first run time of a schedule (the time its measured run is stamped with). */
export const firstRun = (expression: string): Date => {
  const h = Math.min(...firings(expression).hours);
  return new Date(MONTH_START + 14 * 86_400_000 + (h % 24) * 3_600_000 + 5 * 60_000);
};
