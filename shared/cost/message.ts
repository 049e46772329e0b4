import type { Severity } from '../config/schema.js';
import { TOP_FAILURES, TOP_N, topLines } from '../notify/budget.js';
import type { Notification } from '../notify/notifier.js';
import { runReportLines, type RunReportResult } from '../notify/run-report.js';
import {
  addDays,
  type CostAlert,
  type CostEvaluation,
  type CostNote,
  money,
  type ThresholdStatus,
  usd,
  worstSeverity,
} from './engine.js';
import type { CostAnomaly } from './ports.js';

// Rendering only: what the engine decided, as text for people and JSON for machines. Pure.

const TOP = 5;

const label = (s: Severity) => s.toUpperCase().padEnd(8);

const subjectOf = (alerts: readonly CostAlert[]): string =>
  alerts.length === 1 ? alerts[0]!.title : `${alerts[0]!.title} (+${alerts.length - 1} more)`;

const signed = (n: number, unit: string) => `${n >= 0 ? '+' : '-'}${money(Math.abs(n), unit)}`;
const signedPct = (p: number | undefined) => (p === undefined ? 'new' : `${p >= 0 ? '+' : ''}${p} %`);

const thresholdWord = (s: ThresholdStatus): string =>
  ({ armed: 'armed', crossed: 'FIRED', covered: 'covered by actual', unknown: 'n/a' })[s.state];

/** `Nov 1–22`-style span of a month-to-date range, in UTC dates. */
const span = (start: string, endExclusive: string): string =>
  start === endExclusive ? 'no complete day yet' : `${start} to ${addDays(endExclusive, -1)}`;

/** The summary block every scheduled-run message carries: totals, forecast, thresholds, top services. */
export const costSummaryLines = (ev: CostEvaluation, opts: { thresholds?: boolean } = {}): string[] => {
  // Every amount here is in the run's currency (Cost Explorer's unit), its limits too.
  const usd = (n: number) => money(n, ev.currency);
  const w = ev.window;
  const lines: string[] = [];
  const elapsed = Math.round((Date.parse(w.actual.end) - Date.parse(w.actual.start)) / 86_400_000);
  lines.push(
    ev.actualUsd === undefined
      ? `Month-to-date ${w.month}: unavailable`
      : `Month-to-date ${w.month} (${span(w.actual.start, w.actual.end)}, ${elapsed} of ${w.daysInMonth} days): ${usd(ev.actualUsd)} (${ev.metric})`,
  );
  if (ev.forecast) {
    const band =
      ev.forecast.lowerUsd !== undefined && ev.forecast.upperUsd !== undefined
        ? ` (80 % interval ${usd(ev.forecast.lowerUsd)} to ${usd(ev.forecast.upperUsd)})`
        : '';
    lines.push(`Forecast month-end: ${usd(ev.forecast.monthEndUsd)}${band}`);
  } else {
    lines.push('Forecast month-end: unavailable');
  }
  const byId = new Map<string, ThresholdStatus[]>();
  for (const t of ev.thresholds) byId.set(t.id, [...(byId.get(t.id) ?? []), t]);
  if (opts.thresholds !== false)
    lines.push(
      'Thresholds:',
      ...[...byId.values()].map((ts) => {
        const t = ts[0]!;
        const states = ts.map((s) => `${s.basis} ${thresholdWord(s)}`).join(', ');
        return `  ${usd(t.amountUsd).padStart(10)} ${t.severity.padEnd(8)} ${t.id}: ${states}`;
      }),
    );
  if (ev.services.length) {
    const top = ev.services.slice(0, TOP);
    const width = Math.max(...top.map((s) => s.service.length));
    lines.push(
      '',
      `Top ${top.length} services this month (yesterday vs ${Math.round((Date.parse(w.baseline.end) - Date.parse(w.baseline.start)) / 86_400_000)}-day mean):`,
      ...top.map(
        (s, i) =>
          `  ${i + 1}. ${s.service.padEnd(width)}  ${usd(s.monthToDateUsd).padStart(11)}  yesterday ${usd(s.yesterdayUsd)} (${signed(s.deltaUsd, ev.currency)}, ${signedPct(s.deltaPercent)})`,
      ),
    );
  }
  if (ev.groups.length) {
    lines.push(
      '',
      'Top groups this month:',
      ...ev.groups
        .slice(0, TOP)
        .map((g, i) => `  ${i + 1}. ${g.group === '' ? '(untagged)' : g.group}  ${usd(g.monthToDateUsd)}`),
    );
  }
  return lines;
};

const noteLines = (notes: readonly CostNote[]): string[] =>
  notes.length ? ['', 'Notes:', ...topLines(notes, (n) => `- ${n.text}`, 'notes')] : [];

/** The alerts that fired, the first TOP_FAILURES named: what the reader acts on. */
const firedLines = (fired: readonly CostAlert[]): string[] =>
  fired.length
    ? ['Fired:', ...topLines(fired, (a) => `${label(a.severity)} ${a.text}`, 'fired', TOP_FAILURES), '']
    : [];

/** The details of the first TOP_N anomalies (each a few lines); the rest are in the full report. */
const anomalyDetails = (fired: readonly CostAlert[]): string[] => {
  const anomalies = fired.flatMap((a) => (a.kind === 'anomaly' ? [a.anomaly] : []));
  return [
    ...anomalies.slice(0, TOP_N).flatMap((a) => ['', ...anomalyLines(a)]),
    ...(anomalies.length > TOP_N
      ? ['', `... and ${anomalies.length - TOP_N} more anomalies' details (in the full report)`]
      : []),
  ];
};

/** The data of the alerts that fired: counted, the first TOP_N listed. */
const firedData = (fired: readonly CostAlert[]) => ({
  firedCount: fired.length,
  fired: fired.slice(0, TOP_N).map((a) => ({ key: a.key, kind: a.kind, severity: a.severity, text: a.text })),
});

/**
 * The one message of a scheduled run: the alerts that fired now (already-sent ones are not repeated), then
 * the month's totals, forecast, threshold states and top services, the notes, and a console link.
 * Undefined when there is nothing new to say.
 */
export const costNotification = (
  ev: CostEvaluation,
  fired: readonly CostAlert[],
  notes: readonly CostNote[],
  consoleUrl: string,
  report?: RunReportResult,
): Notification | undefined => {
  if (!fired.length && !notes.length) return undefined;
  const severity = fired.length ? worstSeverity(fired.map((a) => a.severity)) : 'info';
  const subject = fired.length
    ? subjectOf(fired)
    : `cost check degraded: ${notes.map((n) => n.code.replace(/-/g, ' ')).join(', ')}`;
  const lines = [
    ...firedLines(fired),
    ...costSummaryLines(ev),
    ...anomalyDetails(fired),
    ...noteLines(notes),
    '',
    `Cost Explorer: ${consoleUrl}`,
    ...(report ? runReportLines(report) : []),
  ];
  return {
    severity,
    capability: 'cost',
    subject,
    lines,
    links: [{ text: 'Cost Explorer', href: consoleUrl }],
    // One incident per alert key (a threshold of a month, a spike of a day, an anomaly). A bill does not
    // un-cross a threshold: these only open; the key re-arms with the next month or day, as the alert does.
    alerts: fired.map((a) => ({
      key: `cost:${a.key}`,
      action: 'trigger' as const,
      severity: a.severity,
      summary: a.text,
    })),
    data: {
      month: ev.window.month,
      metric: ev.metric,
      actualUsd: ev.actualUsd,
      forecast: ev.forecast,
      ...firedData(fired),
      thresholds: ev.thresholds.map(({ id, basis, amountUsd, severity: s, state, valueUsd }) => ({
        id,
        basis,
        amountUsd,
        severity: s,
        state,
        valueUsd,
      })),
      topServices: ev.services.slice(0, TOP),
      notes: notes.slice(0, TOP_N).map((n) => n.code),
      report: report?.status === 'written' ? report.link.uri : null,
    },
  };
};

/**
 * A cost message of a stage in dry run: sent all the same (a cost alert only notifies; nothing in AWS
 * changes), but saying so first, in the subject (before the summary, so SNS's 100-character cut keeps it),
 * the body's first line and the data.
 */
export const fromDryRunStage = (n: Notification, stage: string): Notification => ({
  ...n,
  subject: `(dry-run stage) ${n.subject}`,
  lines: [
    `Stage ${stage} is in dry run (dryRun: true): steward changes nothing in AWS, but cost alerts only notify, so they are sent.`,
    '',
    ...n.lines,
  ],
  data: { ...(n.data as Record<string, unknown> | undefined), stageDryRun: true },
});

/** Details of one anomaly: impact, expected vs actual, root causes, link. */
export const anomalyLines = (a: CostAnomaly): string[] => {
  const lines = [
    `Anomaly ${a.id}${a.monitorName ? ` (monitor ${a.monitorName})` : ''}`,
    `  ${a.dimension ?? 'unknown dimension'}: ${usd(a.impactUsd)} total impact, ${usd(a.maxImpactUsd)} max daily impact`,
  ];
  if (a.actualUsd !== undefined && a.expectedUsd !== undefined) {
    lines.push(
      `  actual ${usd(a.actualUsd)} vs expected ${usd(a.expectedUsd)}${a.impactPercent !== undefined ? ` (+${a.impactPercent} %)` : ''}`,
    );
  }
  if (a.startDate)
    lines.push(`  from ${a.startDate.slice(0, 10)} to ${a.endDate?.slice(0, 10) ?? 'ongoing'}`);
  for (const r of a.rootCauses.slice(0, TOP)) {
    const parts = [r.service, r.region, r.usageType, r.linkedAccountName ?? r.linkedAccount].filter(Boolean);
    lines.push(
      `  root cause: ${parts.join(' / ')}${r.contributionUsd !== undefined ? ` (${usd(r.contributionUsd)})` : ''}`,
    );
  }
  lines.push(`  details: ${a.link}`);
  return lines;
};

/** The message for anomalies that arrived as events (no Cost Explorer request was made). */
export const anomalyNotification = (
  fired: readonly CostAlert[],
  report?: RunReportResult,
): Notification | undefined => {
  const anomalies = fired.flatMap((a) => (a.kind === 'anomaly' ? [a] : []));
  if (!anomalies.length) return undefined;
  return {
    severity: worstSeverity(anomalies.map((a) => a.severity)),
    capability: 'cost',
    subject: subjectOf(anomalies),
    lines: [
      ...firedLines(anomalies),
      ...anomalyDetails(anomalies),
      ...(report ? ['', ...runReportLines(report)] : []),
    ],
    alerts: anomalies.map((a) => ({
      key: `cost:${a.key}`,
      action: 'trigger' as const,
      severity: a.severity,
      summary: a.text,
    })),
    data: {
      firedCount: anomalies.length,
      fired: anomalies.slice(0, TOP_N).map((a) => ({
        key: a.key,
        severity: a.severity,
        anomalyId: a.anomaly.id,
        impactUsd: a.anomaly.impactUsd,
        via: a.anomaly.via,
      })),
      report: report?.status === 'written' ? report.link.uri : null,
    },
  };
};
