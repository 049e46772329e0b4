import type { Severity } from '../config/schema.js';
import { clip } from '../errors.js';
import { firstOf, TOP_FAILURES, TOP_N, topLines } from '../notify/budget.js';
import type { AlertSignal, Notification } from '../notify/notifier.js';
import { runReportLines, type RunReportResult } from '../notify/run-report.js';
import type { Aspect, EstateStatus } from './model.js';

/**
 * A LATE or FAILING aspect of one database, as the status check remembers it between runs. Its key is the
 * pager's dedup key (per stage): a drill failure opened by the drill itself and found again by the status
 * check is one alert, and the status check resolves it when the aspect is OK again.
 */
export interface OpenCondition {
  key: string;
  database: string;
  aspect: Aspect;
  health: 'LATE' | 'FAILING';
  reason: string;
  /** When the status check first saw it (ISO). */
  since: string;
}

/** The conditions document the status check keeps in the report bucket. */
export interface ConditionsDocument {
  type: 'steward-open-conditions';
  version: 1;
  at: string;
  open: OpenCondition[];
}

/** `status/conditions.json` in the report bucket. */
export const CONDITIONS_KEY = 'status/conditions.json';

/** The pager key of a database's aspect. */
export const conditionKey = (database: string, aspect: Aspect): string => `${database}:${aspect}`;

/** What a status check found changed since the last one. */
export interface ConditionChanges {
  opened: OpenCondition[];
  /** LATE → FAILING. */
  worsened: OpenCondition[];
  /** FAILING → LATE: still open, said once. */
  improved: OpenCondition[];
  /** Open before, OK now. */
  cleared: OpenCondition[];
  /** Everything open now (the next document). */
  open: OpenCondition[];
}

/**
 * Compare the open conditions of the last check with the status now. A database that disappeared clears
 * its conditions (nothing left to protect). Pure.
 */
export const diffConditions = (
  previous: readonly OpenCondition[],
  status: EstateStatus,
): ConditionChanges => {
  const before = new Map(previous.map((c) => [c.key, c]));
  const now: OpenCondition[] = [];
  for (const d of status.databases) {
    for (const a of d.aspects) {
      if (a.health === 'OK') continue;
      const key = conditionKey(d.id, a.aspect);
      now.push({
        key,
        database: d.id,
        aspect: a.aspect,
        health: a.health,
        reason: a.reason,
        since: before.get(key)?.since ?? status.at,
      });
    }
  }
  const current = new Map(now.map((c) => [c.key, c]));
  return {
    opened: now.filter((c) => !before.has(c.key)),
    worsened: now.filter((c) => before.get(c.key)?.health === 'LATE' && c.health === 'FAILING'),
    improved: now.filter((c) => before.get(c.key)?.health === 'FAILING' && c.health === 'LATE'),
    cleared: previous.filter((c) => !current.has(c.key)),
    open: now,
  };
};

const severityOf = (h: OpenCondition['health']): Severity => (h === 'FAILING' ? 'critical' : 'warning');
const line = (c: OpenCondition) => `${c.health} ${c.database} (${c.aspect}): ${clip(c.reason, REASON_MAX)}`;
// The longest reason a line quotes (the full report keeps it whole).
const REASON_MAX = 300;
// How many names the subject lists before counting the rest.
const SUBJECT_NAMES = 3;

/** One group of the summary: a heading with its count, its first items, a count of the rest. */
const group = <T>(heading: string, items: readonly T[], render: (t: T) => string, what: string, n = TOP_N) =>
  items.length ? [`${heading} (${items.length}):`, ...topLines(items, render, what, n), ''] : [];

/**
 * The one notification of a status check that found changes (none when nothing changed): critical when
 * something became FAILING, warning when something became LATE, info when conditions only cleared. Each
 * change carries its pager signal: FAILING triggers at critical, LATE at warning, a cleared one resolves.
 */
export const conditionsNotification = (
  changes: ConditionChanges,
  status: EstateStatus,
  report?: RunReportResult,
): Notification | undefined => {
  const { opened, worsened, improved, cleared } = changes;
  if (!opened.length && !worsened.length && !improved.length && !cleared.length) return undefined;
  const raised = [...opened, ...worsened];
  const severity: Severity = raised.some((c) => c.health === 'FAILING')
    ? 'critical'
    : raised.length
      ? 'warning'
      : 'info';
  const names = (cs: readonly OpenCondition[]) => {
    const all = [...new Set(cs.map((c) => `${c.database} ${c.health} (${c.aspect})`))];
    return firstOf(all, SUBJECT_NAMES);
  };
  const clearedNames = [...new Set(cleared.map((c) => `${c.database} (${c.aspect})`))];
  const parts = [
    raised.length ? names(raised) : '',
    improved.length ? `better: ${names(improved)}` : '',
    cleared.length ? `cleared: ${firstOf(clearedNames, SUBJECT_NAMES)}` : '',
  ].filter(Boolean);
  const c = status.counts;
  const alerts: AlertSignal[] = [
    ...raised.map((x) => ({
      key: x.key,
      action: 'trigger' as const,
      severity: severityOf(x.health),
      summary: `${x.database} ${x.health}: ${x.aspect}: ${x.reason}`,
      resource: x.database,
    })),
    ...cleared.map((x) => ({
      key: x.key,
      action: 'resolve' as const,
      severity: severityOf(x.health),
      summary: `${x.database} ${x.aspect} OK again (was ${x.health}: ${x.reason})`,
      resource: x.database,
    })),
  ];
  return {
    severity,
    capability: 'report',
    subject: parts.join('; '),
    // A bounded summary: the raised first, each group's first few named, the rest counted; every change
    // is in the run's full report (the status check writes it before sending this).
    lines: [
      ...group('Needs attention', raised, (x) => `- ${line(x)}`, 'needing attention', TOP_FAILURES),
      ...group('Better, still open', improved, (x) => `- ${line(x)}`, 'better'),
      ...group(
        'Cleared (OK again)',
        cleared,
        (x) => `- ${x.database} (${x.aspect}), open since ${x.since}`,
        'cleared',
      ),
      ...(report ? [...runReportLines(report), ''] : []),
      `Now: ${c.FAILING} FAILING, ${c.LATE} LATE, ${c.UNPROTECTED} UNPROTECTED, ${c.OK} OK of ${status.databases.length} databases in ${status.region}.`,
    ],
    nextSteps: [
      `steward status --stage ${status.stage}: every database with the reason`,
      ...(raised.some((x) => x.aspect === 'drill')
        ? [`steward drills --stage ${status.stage}: recent drills`]
        : []),
    ],
    alerts,
    data: {
      changes: {
        opened: opened.slice(0, TOP_N),
        worsened: worsened.slice(0, TOP_N),
        improved: improved.slice(0, TOP_N),
        cleared: cleared.slice(0, TOP_N),
      },
      changed: {
        opened: opened.length,
        worsened: worsened.length,
        improved: improved.length,
        cleared: cleared.length,
      },
      counts: status.counts,
      report: report?.status === 'written' ? report.link.uri : null,
    },
  };
};
