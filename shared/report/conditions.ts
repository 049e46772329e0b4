import type { Severity } from '../config/schema.js';
import { clip } from '../errors.js';
import type { ResourceKind } from '../model.js';
import { firstOf, TOP_FAILURES, TOP_N, topLines } from '../notify/budget.js';
import { conditionKey, legacyConditionKey } from '../notify/condition-key.js';
import type { AlertSignal, Notification } from '../notify/notifier.js';
import { runReportLines, type RunReportResult } from '../notify/run-report.js';
import type { Aspect, EstateStatus } from './model.js';

export { conditionKey };

/**
 * A LATE or FAILING aspect of one database, as the status check remembers it between runs. Its key is the
 * pager's dedup key (per stage): a drill failure opened by the drill itself and found again by the status
 * check is one alert, and the status check resolves it when the aspect is OK again.
 */
export interface OpenCondition {
  /** `<kind>:<id>:<aspect>` (conditionKey); `<database>:<aspect>` in a document of version 1. */
  key: string;
  database: string;
  /** The database's kind; absent in a document of version 1 (written before keys named it). */
  kind?: ResourceKind;
  aspect: Aspect;
  health: 'LATE' | 'FAILING';
  reason: string;
  /** When the status check first saw it (ISO). */
  since: string;
}

/**
 * The conditions document the status check keeps in the report bucket. Version 2 keys conditions by kind;
 * a version 1 document (keys `<database>:<aspect>`) is read once more, by the first check after an upgrade.
 */
export interface ConditionsDocument {
  type: 'steward-open-conditions';
  version: 1 | 2;
  at: string;
  open: OpenCondition[];
}

/** `status/conditions.json` in the report bucket. */
export const CONDITIONS_KEY = 'status/conditions.json';

/** What a status check found changed since the last one. */
export interface ConditionChanges {
  opened: OpenCondition[];
  /** LATE → FAILING. */
  worsened: OpenCondition[];
  /** FAILING → LATE: still open, said once. */
  improved: OpenCondition[];
  /** Open before, OK now. */
  cleared: OpenCondition[];
  /**
   * Upgrade only, once: conditions remembered under a key without the kind (`<database>:<aspect>`) that are
   * still open. Their old key is resolved and they are raised again under the new one (in `opened`).
   */
  rekeyed: OpenCondition[];
  /**
   * Upgrade only, once: the old key a drill opened itself (`<drill name>:drill`) for a drill whose last run
   * did not pass and that the remembered conditions do not hold: resolved, so no incident of the old key
   * stays open (a resolve of a key without an open incident is dropped by PagerDuty).
   */
  retired: string[];
  /** Everything open now (the next document). */
  open: OpenCondition[];
}

/** A condition remembered under a key without its kind (a version 1 document). */
const isLegacy = (c: OpenCondition): boolean => c.kind === undefined;

/**
 * Compare the open conditions of the last check with the status now. A database that disappeared clears
 * its conditions (nothing left to protect). `upgrading`: the last document was of version 1, so the drills'
 * own old keys are retired too. Pure.
 */
export const diffConditions = (
  previous: readonly OpenCondition[],
  status: EstateStatus,
  upgrading = previous.some(isLegacy),
): ConditionChanges => {
  const before = new Map(previous.filter((c) => !isLegacy(c)).map((c) => [c.key, c]));
  const legacy = new Map(previous.filter(isLegacy).map((c) => [legacyConditionKey(c.database, c.aspect), c]));
  const now: OpenCondition[] = [];
  const carried = new Set<string>();
  for (const d of status.databases) {
    for (const a of d.aspects) {
      if (a.health === 'OK') continue;
      const key = conditionKey(d.kind, d.id, a.aspect);
      const old = legacyConditionKey(d.id, a.aspect);
      if (legacy.has(old)) carried.add(old);
      now.push({
        key,
        database: d.id,
        kind: d.kind,
        aspect: a.aspect,
        health: a.health,
        reason: a.reason,
        since: before.get(key)?.since ?? legacy.get(old)?.since ?? status.at,
      });
    }
  }
  const current = new Map(now.map((c) => [c.key, c]));
  const remembered = new Set(previous.map((c) => c.key));
  const retired = upgrading
    ? [
        ...new Set(
          status.databases.flatMap((d) =>
            d.drill?.last && !d.drill.last.passed ? [legacyConditionKey(d.drill.last.database, 'drill')] : [],
          ),
        ),
      ].filter((k) => !remembered.has(k))
    : [];
  return {
    opened: now.filter((c) => !before.has(c.key)),
    worsened: now.filter((c) => before.get(c.key)?.health === 'LATE' && c.health === 'FAILING'),
    improved: now.filter((c) => before.get(c.key)?.health === 'FAILING' && c.health === 'LATE'),
    cleared: previous.filter((c) =>
      isLegacy(c) ? !carried.has(legacyConditionKey(c.database, c.aspect)) : !current.has(c.key),
    ),
    rekeyed: [...legacy.entries()].filter(([k]) => carried.has(k)).map(([, c]) => c),
    retired,
    open: now,
  };
};

const severityOf = (h: OpenCondition['health']): Severity => (h === 'FAILING' ? 'critical' : 'warning');
// What a condition is about: `billing-db (rds-instance backup)`; a version 1 condition names no kind.
const about = (c: OpenCondition) => `${c.database} (${c.kind ? `${c.kind} ` : ''}${c.aspect})`;
const resourceOf = (c: OpenCondition) => (c.kind ? `${c.database} (${c.kind})` : c.database);
const line = (c: OpenCondition) => `${c.health} ${about(c)}: ${clip(c.reason, REASON_MAX)}`;
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
  const { opened, worsened, improved, cleared, rekeyed, retired } = changes;
  if (
    !opened.length &&
    !worsened.length &&
    !improved.length &&
    !cleared.length &&
    !rekeyed.length &&
    !retired.length
  )
    return undefined;
  // Raised again only because its key changed (the first check after an upgrade): said so, once.
  const again = new Set(rekeyed.map((x) => `${x.database}\u0000${x.aspect}`));
  const isAgain = (x: OpenCondition) => again.has(`${x.database}\u0000${x.aspect}`);
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
    rekeyed.length || retired.length ? `pager keys renamed: ${rekeyed.length + retired.length}` : '',
  ].filter(Boolean);
  const c = status.counts;
  const alerts: AlertSignal[] = [
    ...raised.map((x) => ({
      key: x.key,
      action: 'trigger' as const,
      severity: severityOf(x.health),
      summary: `${resourceOf(x)} ${x.health}: ${x.aspect}: ${x.reason}${isAgain(x) ? ` (open since ${x.since}; raised again under its new pager key after a steward upgrade)` : ''}`,
      resource: resourceOf(x),
    })),
    ...cleared.map((x) => ({
      key: x.key,
      action: 'resolve' as const,
      severity: severityOf(x.health),
      summary: `${resourceOf(x)} ${x.aspect} OK again (was ${x.health}: ${x.reason})`,
      resource: resourceOf(x),
    })),
    // The old keys of an upgrade, resolved once: what is still open was raised above under its new key.
    ...rekeyed.map((x) => ({
      key: x.key,
      action: 'resolve' as const,
      severity: severityOf(x.health),
      summary: `${x.database} ${x.aspect}: pager key renamed (still ${x.health}, raised again under its new key)`,
      resource: x.database,
    })),
    ...retired.map((key) => ({
      key,
      action: 'resolve' as const,
      severity: 'critical' as const,
      summary: `${key}: a drill's pager key of an earlier steward, resolved once (its condition, if still open, is raised under its new key)`,
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
      ...group('Cleared (OK again)', cleared, (x) => `- ${about(x)}, open since ${x.since}`, 'cleared'),
      ...(rekeyed.length || retired.length
        ? [
            'Pager keys renamed (once, after a steward upgrade): keys now name the kind, `<kind>:<id>:<aspect>`.',
            'The old keys are resolved; what is still open is raised again above under its new key.',
            ...topLines(rekeyed, (x) => `- ${x.key}, open since ${x.since}`, 'renamed'),
            ...(retired.length ? [`- drills' own old keys resolved: ${firstOf(retired, TOP_N)}`] : []),
            '',
          ]
        : []),
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
        rekeyed: rekeyed.slice(0, TOP_N),
        retired: retired.slice(0, TOP_N),
      },
      changed: {
        opened: opened.length,
        worsened: worsened.length,
        improved: improved.length,
        cleared: cleared.length,
        rekeyed: rekeyed.length,
        retired: retired.length,
      },
      counts: status.counts,
      report: report?.status === 'written' ? report.link.uri : null,
    },
  };
};
