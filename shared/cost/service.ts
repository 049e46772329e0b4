import type { Severity, StewardConfig } from '../config/schema.js';
import { AwsCallError, errorMessage, errorName } from '../errors.js';
import type { Outcome } from '../model.js';
import { TOP_FAILURES, TOP_N, topLines } from '../notify/budget.js';
import { type Notification, type Notifier, sendReported } from '../notify/notifier.js';
import { reportRun, type RunReportResult, type RunReports } from '../notify/run-report.js';
import { addCount, logger, metrics, MetricUnit } from '../observability.js';
import { failedOutcome, tally, throwIfFailed } from '../outcomes.js';
import {
  alertKeys,
  anomalyAlerts,
  type CostAlert,
  type CostEvaluation,
  costWindow,
  DEGRADED_NOTES,
  evaluateCost,
  type Fetched,
  money,
  namedServices,
  type CostNote,
  pollsAnomalies,
  severityLevel,
  usd,
} from './engine.js';
import { fireTimes, parseSchedule } from '../report/schedule.js';
import { doubling, retrying } from '../retry.js';
import { anomalyNotification, costNotification, fromDryRunStage } from './message.js';
import type { AlertLedger, CostAnomaly, CostSource, UnsentAlert } from './ports.js';
import type { CostCheckRequest, CostTrigger } from './request.js';

/** What a cost run needs; the handler and the CLI build it. */
export interface CostServiceDeps {
  config: StewardConfig;
  source: CostSource;
  ledger: AlertLedger;
  notifier: Notifier;
  now: () => Date;
  /**
   * The stage's dry run (config or function env). Cost alerts change nothing in AWS, they only notify: a
   * dry-run stage (`steward init` starts one) still claims and sends them, each message marked as from a
   * dry-run stage, so an anomaly or a crossed threshold of the first weeks is told.
   */
  dryRun: boolean;
  /**
   * The operator's preview (`steward invoke cost --dry-run`): evaluate and report, claim and send nothing.
   * A check request's `dryRun` does the same; neither can be removed by a request.
   */
  preview?: boolean;
  /** Waits between confirm retries; injected by tests. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Where each delivery's full report goes (the report bucket); without it none is kept. */
  reports?: RunReports;
}

export type AlertStatus = 'sent' | 'already-sent' | 'planned' | 'failed';

export interface CostResult {
  trigger: CostTrigger['kind'];
  /** A preview: nothing was claimed or sent (the message is the one that would be). */
  dryRun: boolean;
  /** The stage is in dry run: what was sent says so. */
  stageDryRun: boolean;
  at: string;
  scheduledTime?: string;
  /** Scheduled checks only: totals, forecast, thresholds, services, notes. */
  evaluation?: CostEvaluation;
  /** Cost Explorer requests made by this run, retries and pages included ($0.01 each). */
  requests: number;
  alerts: { key: string; kind: CostAlert['kind']; severity: Severity; text: string; status: AlertStatus }[];
  outcomes: Outcome[];
  /** The message sent (or, in a dry run, the one that would be); absent when there was nothing new to say. */
  notification?: Notification;
  /** Alerts an earlier run claimed and never delivered, re-sent by this run for their own day. */
  resent: { key: string; detail: string; status: 'sent' | 'failed' }[];
  summary: string;
}

const DAY_S = 86_400;
const DAY_MS = DAY_S * 1000;
/** Dedup items outlive the longest thing they guard: a calendar month (40 days). */
const TTL_SECONDS = 40 * DAY_S;
/**
 * An anomaly's key outlives every poll window that can still list it (`lookbackDays`, up to 90, and the
 * 2 days of ANOMALY_FOUND_LAG_DAYS) by five days, whether it came by event or by a check's poll: else a later
 * poll alerts it again.
 */
const anomalyTtl = (cost: StewardConfig['cost']): number =>
  Math.max(TTL_SECONDS, (cost.anomalies.lookbackDays + 7) * DAY_S);

/** Expected Cost Explorer refusals: the run degrades with a note instead of failing. */
const DEGRADE = new Set([
  'DataUnavailableException',
  'LimitExceededException',
  'ThrottlingException',
  'BillExpirationException',
]);

/**
 * `cron(M H * * ? *)` or `cron(M H ? * * *)`: once a day at one time, every day (the cost schedule's usual
 * form). Read without the cron parser and its 14-day walk: compiling and running them is about 3 KB of code
 * on a cold start's first invoke, to answer what this form states.
 */
const DAILY_CRON = /^cron\(\s*(\d{1,2})\s+(\d{1,2})\s+(?:\*\s+\*\s+\?|\?\s+\*\s+\*)\s+\*\s*\)$/;

/** Does `expression` fire exactly once a day (every gap of the last two weeks is 24 h)? */
export const firesEveryDay = (expression: string, at: Date): boolean => {
  const daily = DAILY_CRON.exec(expression.trim());
  if (daily && Number(daily[1]) <= 59 && Number(daily[2]) <= 23) return true;
  const s = parseSchedule(expression);
  if (s.kind === 'rate') return s.intervalMs === DAY_MS;
  const fires = fireTimes(s, new Date(at.getTime() - 14 * DAY_MS), at) ?? [];
  return (
    fires.length >= 13 && fires.every((f, i) => i === 0 || f.getTime() - fires[i - 1]!.getTime() === DAY_MS)
  );
};

/** Run whatever the trigger asks: a scheduled/on-demand check, or anomalies delivered as events. */
export const runCost = (deps: CostServiceDeps, trigger: CostTrigger): Promise<CostResult> =>
  trigger.kind === 'check' ? runCostCheck(deps, trigger.request) : runCostAnomalies(deps, trigger.anomalies);

/**
 * One check: read month-to-date usage, the forecast and, when it polls (`pollsAnomalies`), recent anomalies
 * (2 or 3 Cost Explorer requests; one more HOURLY when `cost.hourly` and a per-hour rule has spend), evaluate, claim each due alert in the ledger,
 * send one notification, confirm (or release on failure), report, then throw if anything failed. A dry run
 * (and every check of a stage whose budgets alert, `alertsBy: budgets`) evaluates and previews only.
 */
export const runCostCheck = async (
  deps: CostServiceDeps,
  request: Pick<CostCheckRequest, 'dryRun' | 'scheduledTime'> = {},
): Promise<CostResult> => {
  const cost = deps.config.cost;
  // With budgets the stage's AWS Budgets alert the thresholds and limits: an on-demand check only previews,
  // so nothing is told twice (anomaly events still alert: budgets do not watch anomalies).
  // The stage's own dry run does not hold cost alerts back (they only notify): only a preview does.
  const dryRun = deps.preview === true || request.dryRun === true || cost.alertsBy === 'budgets';
  const now = deps.now();
  const w = costWindow(now, cost);
  const outcomes: Outcome[] = [];
  const before = deps.source.requests;
  // A scheduled run is judged by its scheduled time (a retry the next day still belongs to its own day).
  const at = request.scheduledTime ? new Date(request.scheduledTime) : now;
  const scheduledDaily = request.scheduledTime !== undefined && firesEveryDay(cost.schedule, at);

  const read = async <T>(
    what: string,
    f: () => Promise<T>,
    detail: (v: T) => string,
  ): Promise<Fetched<T>> => {
    try {
      const value = await f();
      outcomes.push({ resource: what, action: 'read', status: 'done', detail: detail(value) });
      return { ok: true, value };
    } catch (e) {
      const code = e instanceof AwsCallError ? e.code : errorName(e);
      const reason = errorMessage(e instanceof AwsCallError ? e.cause : e);
      if (DEGRADE.has(code))
        outcomes.push({ resource: what, action: 'read', status: 'skipped', reason: code });
      else outcomes.push(failedOutcome({ resource: what, action: 'read' }, e));
      return { ok: false, code, reason };
    }
  };

  const [daily, forecast, anomalies] = await Promise.all([
    read(
      `cost and usage ${w.query.start}..${w.query.end}`,
      () => deps.source.daily({ period: w.query, metric: cost.metric, groupBy: cost.groupBy }),
      (v) => `${v.length} service-days`,
    ),
    cost.forecast && w.remaining
      ? read(
          `forecast ${w.remaining.start}..${w.remaining.end}`,
          () => deps.source.forecast({ period: w.remaining!, metric: cost.metric }),
          (v) => money(v.meanUsd, v.unit),
        )
      : undefined,
    cost.anomalies.enabled && pollsAnomalies(at, cost.anomalies.lookbackDays, scheduledDaily)
      ? read(
          `anomalies ${w.anomalies.start}..${w.anomalies.end}`,
          () => deps.source.anomalies({ ...w.anomalies, minImpactUsd: cost.anomalies.minImpactUsd }),
          (v) => `${v.length} anomalies`,
        )
      : undefined,
  ]);
  // The HOURLY query is filtered to the named services that have spend (from the daily answer), so it runs
  // only when there is something to measure.
  let hourly: Fetched<Awaited<ReturnType<CostSource['hourly']>>> | undefined;
  if (cost.hourly && daily.ok) {
    const services = [
      ...new Set(
        cost.hourlyLimits.flatMap((r) =>
          namedServices(
            r,
            daily.value.map((d) => d.service),
          ),
        ),
      ),
    ];
    if (services.length) {
      hourly = await read(
        `hourly cost ${w.hours.start}..${w.hours.end}`,
        () => deps.source.hourly({ ...w.hours, metric: cost.metric, services }),
        (v) => `${v.length} service-hours`,
      );
    }
  }

  const evaluation = evaluateCost(
    { daily, ...(forecast && { forecast }), ...(hourly && { hourly }), ...(anomalies && { anomalies }) },
    cost,
    w,
  );
  const claims = [
    ...evaluation.alerts.map(alertClaim),
    ...evaluation.notes.filter((n) => DEGRADED_NOTES.has(n.code)).map(noteClaim(w.month)),
  ];
  // With an alert, the notes explain it (the ÷ 24 caveat only next to an estimated per-hour alert); without
  // one, only degraded notes not yet told this month speak.
  const explain = (fired: CostAlert[]) =>
    evaluation.notes.filter(
      (n) => n.code !== 'hourly-estimated' || fired.some((a) => a.kind === 'hourly' && a.estimated),
    );
  const delivery = await deliver(
    deps,
    dryRun,
    claims,
    (fired, notes, report) =>
      costNotification(evaluation, fired, fired.length ? explain(fired) : notes, cost.consoleUrl, report),
    { name: 'cost-check', report: { evaluation } },
    anomalyTtl(cost),
  );
  outcomes.push(...delivery.outcomes);
  // What earlier runs claimed and never delivered (a publish that failed, a run killed mid-publish) is owed
  // even when no run judges that key again, e.g. yesterday's spike: re-send it with its own day's text.
  const resent = dryRun ? [] : await resend(deps, new Set(claims.map((c) => c.key)));
  outcomes.push(...resent.flatMap((r) => r.outcomes));

  const requests = deps.source.requests - before;
  const sent = delivery.alerts.filter((a) => a.status === 'sent').length;
  const already = delivery.alerts.filter((a) => a.status === 'already-sent').length;
  const summary = [
    `${w.month}: month-to-date ${evaluation.actualUsd === undefined ? 'unavailable' : money(evaluation.actualUsd, evaluation.currency)}`,
    `forecast ${evaluation.forecast ? money(evaluation.forecast.monthEndUsd, evaluation.currency) : 'unavailable'}`,
    dryRun
      ? `${delivery.alerts.filter((a) => a.status === 'planned').length} alerts due (dry run), ${already} already sent`
      : `${sent} alerts sent, ${already} already sent`,
    `${requests} Cost Explorer requests`,
  ].join('; ');

  metrics.addMetric('CostExplorerRequests', MetricUnit.Count, requests);
  if (evaluation.actualUsd !== undefined)
    metrics.addMetric('MonthToDateUsd', MetricUnit.NoUnit, evaluation.actualUsd);
  if (evaluation.forecast)
    metrics.addMetric('ForecastMonthEndUsd', MetricUnit.NoUnit, evaluation.forecast.monthEndUsd);
  report(dryRun, summary, delivery, outcomes, { notes: evaluation.notes.map((n) => n.code), requests });

  throwIfFailed('cost', outcomes);
  return {
    trigger: 'check',
    dryRun,
    stageDryRun: deps.dryRun,
    at: now.toISOString(),
    ...(request.scheduledTime !== undefined && { scheduledTime: request.scheduledTime }),
    evaluation,
    requests,
    alerts: delivery.alerts,
    outcomes,
    ...(delivery.notification && { notification: delivery.notification }),
    resent: resent.flatMap((r) => r.rows),
    summary,
  };
};

/** Anomalies that arrived as EventBridge or SNS events: no Cost Explorer request, dedup by anomaly id. */
export const runCostAnomalies = async (
  deps: CostServiceDeps,
  anomalies: readonly CostAnomaly[],
): Promise<CostResult> => {
  const cost = deps.config.cost;
  const now = deps.now();
  const outcomes: Outcome[] = anomalies
    .filter((a) => a.impactUsd < cost.anomalies.minImpactUsd)
    .map((a) => ({
      resource: alertKeys.anomaly(a.id),
      action: 'alert',
      status: 'skipped' as const,
      reason: `impact ${usd(a.impactUsd)} is below minImpactUsd ${usd(cost.anomalies.minImpactUsd)}`,
    }));
  const preview = deps.preview === true;
  const delivery = await deliver(
    deps,
    preview,
    anomalyAlerts(anomalies, cost.anomalies).map(alertClaim),
    (fired, _notes, report) => anomalyNotification(fired, report),
    { name: 'anomalies', report: { received: anomalies.length } },
    anomalyTtl(cost),
  );
  outcomes.push(...delivery.outcomes);
  const sent = delivery.alerts.filter((a) => a.status === 'sent').length;
  const summary = `${anomalies.length} anomalies received (${anomalies.map((a) => a.via).join(', ')}): ${sent} alerted, ${
    delivery.alerts.length - sent
  } already alerted or planned, ${outcomes.filter((o) => o.status === 'skipped').length} below the impact floor`;
  report(preview, summary, delivery, outcomes, { anomalies: anomalies.map((a) => a.id) });
  throwIfFailed('cost anomalies', outcomes);
  return {
    trigger: 'anomalies',
    dryRun: preview,
    stageDryRun: deps.dryRun,
    at: now.toISOString(),
    requests: 0,
    alerts: delivery.alerts,
    outcomes,
    ...(delivery.notification && { notification: delivery.notification }),
    resent: [],
    summary,
  };
};

/** Something told at most once: an alert, or a degraded note (once a month, at info, when nothing alerts). */
type Claim = { key: string; severity: Severity; text: string } & ({ alert: CostAlert } | { note: CostNote });

const alertClaim = (a: CostAlert): Claim => ({ key: a.key, severity: a.severity, text: a.text, alert: a });
const noteClaim =
  (month: string) =>
  (n: CostNote): Claim => ({
    key: alertKeys.note(month, n.code),
    severity: 'info',
    text: n.text,
    note: n,
  });

interface Delivery {
  alerts: CostResult['alerts'];
  outcomes: Outcome[];
  notification?: Notification;
}

/**
 * Claim, send, confirm. Each due alert is claimed in the ledger BEFORE the one notification goes out: of
 * two concurrent runs only one wins a key, so nobody is told twice. The confirm is retried, since the
 * message is already out. If sending fails, the claims are released (marked failed): the next run that
 * judges them claims them again, and any later run re-sends them from the ledger (`resend`). A run that dies
 * between claim and confirm leaves a pending claim that a later run re-sends after STALE_CLAIM_SECONDS.
 */
const deliver = async (
  deps: CostServiceDeps,
  dryRun: boolean,
  claims: readonly Claim[],
  draw: (fired: CostAlert[], notes: CostNote[], report?: RunReportResult) => Notification | undefined,
  run: { name: string; report: Record<string, unknown> },
  ttlSeconds = TTL_SECONDS,
): Promise<Delivery> => {
  const render = (fired: CostAlert[], notes: CostNote[], report?: RunReportResult) =>
    markedFor(deps, draw(fired, notes, report));
  const outcomes: Outcome[] = [];
  const status = new Map<string, AlertStatus>();
  const alerts = claims.flatMap((c) => ('alert' in c ? [c.alert] : []));
  const split = (cs: readonly Claim[]) => ({
    fired: cs.flatMap((c) => ('alert' in c ? [c.alert] : [])),
    notes: cs.flatMap((c) => ('note' in c ? [c.note] : [])),
  });

  let notification: Notification | undefined;
  if (dryRun) {
    let held = new Set<string>();
    try {
      held = await deps.ledger.held(claims.map((c) => c.key));
    } catch (e) {
      outcomes.push(failedOutcome({ resource: 'alert ledger', action: 'read' }, e));
    }
    for (const c of claims) status.set(c.key, held.has(c.key) ? 'already-sent' : 'planned');
    const due = split(claims.filter((c) => !held.has(c.key)));
    notification = render(due.fired, due.notes);
  } else {
    const claimed: Claim[] = [];
    for (const c of claims) {
      try {
        const won = await deps.ledger.claim(c.key, severityLevel(c.severity), ttlSeconds, c.text);
        status.set(c.key, won ? 'sent' : 'already-sent');
        if (won) claimed.push(c);
      } catch (e) {
        // Without the ledger nobody can tell whether this was already sent: report it, do not risk repeats.
        status.set(c.key, 'failed');
        outcomes.push(failedOutcome({ resource: c.key, action: 'claim' }, e));
      }
    }
    const due = split(claimed);
    if (render(due.fired, due.notes)) {
      // The full report (every alert fired, whole) first, then the bounded summary that links it.
      const reported = await reportRun(
        deps,
        { capability: 'cost', at: deps.now(), name: run.name, report: { ...run.report, ...due } },
        (report) => render(due.fired, due.notes, report)!,
      );
      notification = reported.notification;
      const sendFailed = reported.outcomes;
      if (sendFailed.length) {
        outcomes.push(...sendFailed);
        for (const c of claimed) {
          status.set(c.key, 'failed');
          await deps.ledger.release(c.key).catch((r: unknown) => {
            outcomes.push(failedOutcome({ resource: c.key, action: 'release' }, r));
          });
        }
      }
      for (const c of claimed.filter((x) => status.get(x.key) === 'sent')) {
        await confirm(deps, c.key).catch((e: unknown) => {
          outcomes.push(failedOutcome({ resource: c.key, action: 'confirm' }, e));
        });
      }
    }
  }

  for (const a of alerts) {
    const s = status.get(a.key);
    if (s === 'sent') outcomes.push({ resource: a.key, action: 'alert', status: 'done', detail: a.text });
    if (s === 'planned')
      outcomes.push({ resource: a.key, action: 'alert', status: 'planned', detail: a.text });
    if (s === 'already-sent')
      outcomes.push({ resource: a.key, action: 'alert', status: 'already-done', detail: 'already alerted' });
  }
  return { alerts: toRows(alerts, status), outcomes, ...(notification && { notification }) };
};

/** A message of a dry-run stage says so (message.ts, fromDryRunStage); a live stage's is unchanged. */
const markedFor = <N extends Notification | undefined>(deps: CostServiceDeps, n: N): N =>
  (n && deps.dryRun ? fromDryRunStage(n, deps.config.stage) : n) as N;

/** Waits between confirm attempts after a publish (0.5, 1, 2, 4 s): the SDK's own retries come first. */
const CONFIRM_WAITS_MS = doubling(500, 4);

/**
 * Confirm a delivered alert, retrying: the message is out, so an unconfirmed claim would be re-sent by a
 * later run as owed (a duplicate). Only a ledger that refuses writes for the whole retry window leaves it so.
 */
const confirm = (deps: CostServiceDeps, key: string): Promise<void> =>
  retrying(() => deps.ledger.confirm(key), { waitsMs: CONFIRM_WAITS_MS, sleep: deps.sleep });

const LEVEL_SEVERITY: Record<number, Severity> = { 1: 'info', 2: 'warning', 3: 'critical' };

/**
 * Re-send what earlier runs claimed and never confirmed: failed publishes at once, claims of runs that
 * stopped mid-publish once stale. Each is claimed again first (of concurrent runs one wins), sent in one
 * message at the worst severity, then confirmed, or released again if the send fails.
 */
const resend = async (
  deps: CostServiceDeps,
  handled: ReadonlySet<string>,
): Promise<{ outcomes: Outcome[]; rows: CostResult['resent'] }[]> => {
  let owed: UnsentAlert[];
  try {
    owed = (await deps.ledger.unsent()).filter((u) => !handled.has(u.key));
  } catch (e) {
    return [{ outcomes: [failedOutcome({ resource: 'alert ledger', action: 'read-unsent' }, e)], rows: [] }];
  }
  const outcomes: Outcome[] = [];
  const mine: UnsentAlert[] = [];
  for (const u of owed.sort((a, b) => a.claimedAt - b.claimedAt || a.key.localeCompare(b.key))) {
    try {
      if (await deps.ledger.claim(u.key, u.level, anomalyTtl(deps.config.cost), u.detail)) mine.push(u);
    } catch (e) {
      outcomes.push(failedOutcome({ resource: u.key, action: 'claim' }, e));
    }
  }
  if (!mine.length) return [{ outcomes, rows: [] }];
  const severity = LEVEL_SEVERITY[Math.max(...mine.map((u) => u.level))] ?? 'warning';
  const why = (u: UnsentAlert) =>
    u.status === 'failed'
      ? 'its notification failed'
      : 'the run that claimed it stopped before confirming it';
  const failed = await sendReported(
    deps.notifier,
    markedFor(deps, {
      severity,
      capability: 'cost',
      subject:
        mine.length === 1
          ? `re-sent: ${mine[0]!.detail}`
          : `${mine.length} alerts re-sent that earlier runs could not deliver`,
      lines: topLines(
        mine,
        (u) =>
          `${(LEVEL_SEVERITY[u.level] ?? 'warning').toUpperCase()}  ${u.detail} (claimed ${new Date(u.claimedAt * 1000).toISOString()}; ${why(u)})`,
        're-sent',
        TOP_FAILURES,
      ),
      // Each under its own pager key, as first sent: a pager event the failed send did get out is the same incident.
      alerts: mine.map((u) => ({
        key: `cost:${u.key}`,
        action: 'trigger' as const,
        severity: LEVEL_SEVERITY[u.level] ?? 'warning',
        summary: u.detail,
      })),
      data: {
        count: mine.length,
        resent: mine.slice(0, TOP_N).map(({ key, detail, claimedAt }) => ({ key, detail, claimedAt })),
      },
    }),
  );
  outcomes.push(...failed);
  const rows: CostResult['resent'] = [];
  for (const u of mine) {
    if (failed.length) {
      await deps.ledger.release(u.key).catch((r: unknown) => {
        outcomes.push(failedOutcome({ resource: u.key, action: 'release' }, r));
      });
      rows.push({ key: u.key, detail: u.detail, status: 'failed' });
      continue;
    }
    outcomes.push({ resource: u.key, action: 'resend', status: 'done', detail: u.detail });
    rows.push({ key: u.key, detail: u.detail, status: 'sent' });
    await confirm(deps, u.key).catch((e: unknown) => {
      outcomes.push(failedOutcome({ resource: u.key, action: 'confirm' }, e));
    });
  }
  return [{ outcomes, rows }];
};

const toRows = (alerts: readonly CostAlert[], status: Map<string, AlertStatus>): CostResult['alerts'] =>
  alerts.map((a) => ({
    key: a.key,
    kind: a.kind,
    severity: a.severity,
    text: a.text,
    status: status.get(a.key) ?? 'failed',
  }));

const report = (
  dryRun: boolean,
  summary: string,
  delivery: Delivery,
  outcomes: readonly Outcome[],
  extra: Record<string, unknown>,
) => {
  const failed = outcomes.filter((o) => o.status === 'failed');
  addCount('CostAlertsSent', delivery.alerts.filter((a) => a.status === 'sent').length);
  addCount('CostAlertsSuppressed', delivery.alerts.filter((a) => a.status === 'already-sent').length);
  addCount('ActionFailures', failed.length);
  const line = {
    dryRun,
    summary,
    ...extra,
    alerts: delivery.alerts.map(({ key, severity, status }) => ({ key, severity, status })),
    outcomes: tally(outcomes),
    failed,
  };
  if (failed.length) logger.warn('cost run had failures', line);
  else logger.info('cost run', line);
};
