import { errorMessage, EventShapeError } from '../errors.js';
import type { Outcome } from '../model.js';
import { type Notification, sendReported } from '../notify/notifier.js';
import { TOP_N } from '../notify/budget.js';
import { reportRun, type RunReports } from '../notify/run-report.js';
import { addCount, logger } from '../observability.js';
import { throwIfFailed } from '../outcomes.js';
import type { BaseDeps } from '../runtime.js';
import {
  CONDITIONS_KEY,
  type ConditionChanges,
  type ConditionsDocument,
  conditionsNotification,
  diffConditions,
  type OpenCondition,
} from './conditions.js';
import type { EvidenceReport } from './evidence.js';
import { drillOutcome, type EstateStatus } from './model.js';
import type { EvidenceDeps, evidenceKeys } from './monthly.js';
import { once } from '../once.js';
import type { HistoryStore } from './ports.js';
import type { ReportRequest } from './request.js';
import { runStatus } from './status.js';

// Modules loaded on first use, once per container (shared/once.ts: `import()` resolves again at each call).
// The monthly evidence (its documents, the HTML and CSV renderers: about 25 KB of bundle) is imported by the
// evidence run; the daily status check never loads it.
const loadMonthly = /* @__PURE__ */ once(() => import('./monthly.js'));

/** Capability name: log service, notification speaker, metric dimension. */
export const CAPABILITY = 'report';

/** The report function's deps: the base, and what status and evidence read (the report bucket required). */
export interface ReportDeps extends BaseDeps {
  estate: EvidenceDeps;
}

export type ReportResult =
  | {
      action: 'evidence';
      month: string;
      dryRun: boolean;
      summary: EvidenceReport['summary'];
      keys?: ReturnType<typeof evidenceKeys>;
      outcomes: Outcome[];
    }
  | {
      action: 'status-check';
      dryRun: boolean;
      counts: EstateStatus['counts'];
      changes: Omit<ConditionChanges, 'open'>;
      open: number;
      outcomes: Outcome[];
    };

const evidenceSubject = (r: EvidenceReport): string => {
  const s = r.summary;
  return [
    `${r.month} recovery evidence: ${s.backupsTaken}/${s.backupsScheduled} scheduled backups`,
    `${s.drillsPassed}/${s.drills} drills passed`,
    ...(s.drillsMissed ? [`${s.drillsMissed} drill${s.drillsMissed === 1 ? '' : 's'} not run`] : []),
    ...(s.unprotected ? [`${s.unprotected} unprotected`] : []),
  ].join(', ');
};

/** The first TOP_N items joined, then how many more (the evidence report lists them all). */
const firstOf = (items: readonly string[]): string =>
  items.length > TOP_N
    ? `${items.slice(0, TOP_N).join(', ')} and ${items.length - TOP_N} more`
    : items.join(', ');

/** The info notification that links a month's evidence: counts, the first few names, the report's links. */
export const evidenceNotification = (
  r: EvidenceReport,
  links: { html: string; json: string; databasesCsv: string; drillsCsv: string } | undefined,
): Notification => {
  const s = r.summary;
  const missed = r.databases.filter((d) => d.backups?.missed.length);
  const drillsWith = (o: 'failed' | 'inconclusive') =>
    r.databases
      .flatMap((d) => d.drills.filter((x) => drillOutcome(x) === o))
      .map((d) => `${d.database} ${d.startedAt.slice(0, 10)}`);
  const failedDrills = drillsWith('failed');
  const notRun = r.databases.flatMap((d) => (d.drillsMissed ?? []).map((t) => `${d.id} ${t.slice(0, 10)}`));
  const inconclusiveDrills = drillsWith('inconclusive');
  return {
    severity: 'info',
    capability: CAPABILITY,
    subject: evidenceSubject(r),
    lines: [
      `Databases: ${s.protected} of ${s.databases} protected${s.unprotected ? `, ${s.unprotected} without a steward:backup tag` : ''}.`,
      `Backups: ${s.backupsTaken} of ${s.backupsScheduled} scheduled taken${s.backupsMissed ? `, ${s.backupsMissed} missed (${firstOf(missed.map((d) => `${d.id} ${d.backups!.missed.length}`))})` : ''}${s.backupsPending ? `; ${s.backupsPending} not judged yet (inside the backup grace)` : ''}.`,
      ...(r.drRegion
        ? [
            `DR copies in ${r.drRegion}: ${s.drCopies}${s.drCopiesMissing ? `, ${s.drCopiesMissing} backups not copied` : ''}${s.drCopiesPending ? `; ${s.drCopiesPending} not judged yet (inside the DR grace): the report's notes say when to generate it again` : ''}.`,
          ]
        : []),
      `Retention expired ${s.retentionDeleted} snapshots${s.dumpsDeleted ? ` and ${s.dumpsDeleted} dump objects` : ''}.`,
      `Restore drills: ${s.drillsPassed} of ${s.drills} passed${failedDrills.length ? `; failed: ${firstOf(failedDrills)}` : ''}${inconclusiveDrills.length ? `; inconclusive: ${firstOf(inconclusiveDrills)}` : ''}${notRun.length ? `; scheduled but not run: ${firstOf(notRun)}` : ''}.`,
      ...(s.drills
        ? [
            `Drill copies: ${s.drillInstanceHours} instance-hours${s.drillEstimatedUsd !== undefined ? `, about $${s.drillEstimatedUsd.toFixed(2)}` : ''}.`,
          ]
        : []),
      ...(r.complete ? [] : ['The month is not over: this report is partial.']),
    ],
    nextSteps: [
      'Open the report (HTML) and file it with your audit evidence',
      `steward report --month ${r.month} --stage ${r.stage} --out evidence-${r.month}.html: the same report on demand`,
    ],
    ...(links
      ? {
          links: [
            { text: 'Evidence report (HTML)', href: links.html },
            { text: 'JSON', href: links.json },
            { text: 'CSV per database', href: links.databasesCsv },
            { text: 'CSV per drill', href: links.drillsCsv },
          ],
        }
      : {}),
    data: { month: r.month, summary: s, complete: r.complete },
  };
};

/** The report bucket as the place for run reports: the status check's full report goes beside the rest. */
const historyRunReports = (history: HistoryStore): RunReports => ({
  put: async (key, body) => {
    await history.put(key, body, 'application/json');
    return { uri: `${history.location}/${key}`, consoleUrl: history.href(key) };
  },
});

const runEvidence = async (
  req: Extract<ReportRequest, { action: 'evidence' }>,
  deps: ReportDeps,
  dryRun: boolean,
): Promise<ReportResult> => {
  const { buildEvidenceDocuments, previousMonth, storeEvidence } = await loadMonthly();
  const month = req.month ?? previousMonth(req.scheduledTime ? new Date(req.scheduledTime) : deps.now());
  const docs = await buildEvidenceDocuments(deps.estate, month, deps.place?.account ?? deps.config.account);
  const outcomes: Outcome[] = [];
  let keys: ReturnType<typeof evidenceKeys> | undefined;
  if (!dryRun) {
    try {
      keys = await storeEvidence(deps.estate.history, month, docs);
      outcomes.push({ resource: `evidence ${month}`, action: 'store', status: 'done', detail: keys.html });
    } catch (e) {
      outcomes.push({
        resource: `evidence ${month}`,
        action: 'store',
        status: 'failed',
        error: errorMessage(e),
      });
    }
  }
  const href = deps.estate.history.href;
  const links = keys && {
    html: href(keys.html),
    json: href(keys.json),
    databasesCsv: href(keys.databasesCsv),
    drillsCsv: href(keys.drillsCsv),
  };
  if (!dryRun) {
    const n = evidenceNotification(docs.report, links);
    const failed = outcomes.find((o) => o.status === 'failed');
    if (failed?.status === 'failed') {
      // The evidence exists only in this message now: say so, louder than info.
      n.severity = 'warning';
      n.lines.push('', `The report could not be written to ${deps.estate.history.location}: ${failed.error}`);
    }
    outcomes.push(...(await sendReported(deps.notifier, n)));
  }
  addCount('EvidenceBackupsMissed', docs.report.summary.backupsMissed);
  logger.info('evidence report', { month, dryRun, summary: docs.report.summary, keys });
  throwIfFailed(`evidence report ${month}`, outcomes);
  return {
    action: 'evidence',
    month,
    dryRun,
    summary: docs.report.summary,
    ...(keys ? { keys } : {}),
    outcomes,
  };
};

const readConditions = async (deps: ReportDeps): Promise<OpenCondition[]> => {
  const body = await deps.estate.history.get(CONDITIONS_KEY);
  if (body === undefined) return [];
  const doc = JSON.parse(body) as ConditionsDocument;
  if (doc?.type !== 'steward-open-conditions' || !Array.isArray(doc.open)) {
    throw new EventShapeError(`${CONDITIONS_KEY} in the report bucket is not a conditions document`);
  }
  return doc.open;
};

/**
 * The status check: judge every database, compare with the conditions open at the last check, notify what
 * changed (pager signals: FAILING triggers, cleared resolves), then remember the open conditions. The
 * memory is written only after the notification went out, so a failed send is retried by the next check.
 */
const runStatusCheck = async (deps: ReportDeps, dryRun: boolean): Promise<ReportResult> => {
  const [status, previous] = await Promise.all([runStatus(deps.estate), readConditions(deps)]);
  const changes = diffConditions(previous, status);
  const outcomes: Outcome[] = [];
  if (!dryRun) {
    // Something changed: the full report (every change, every database's status) first, then the bounded
    // summary that links it.
    if (conditionsNotification(changes, status)) {
      const reported = await reportRun(
        { reports: historyRunReports(deps.estate.history), notifier: deps.notifier },
        {
          capability: CAPABILITY,
          at: deps.now(),
          name: 'status-check',
          report: { changes, counts: status.counts, status },
        },
        (report) => conditionsNotification(changes, status, report)!,
      );
      outcomes.push(...reported.outcomes);
    }
    if (!outcomes.some((o) => o.status === 'failed')) {
      const doc: ConditionsDocument = {
        type: 'steward-open-conditions',
        version: 1,
        at: status.at,
        open: changes.open,
      };
      try {
        await deps.estate.history.put(CONDITIONS_KEY, JSON.stringify(doc, null, 2), 'application/json');
      } catch (e) {
        outcomes.push({
          resource: CONDITIONS_KEY,
          action: 'store',
          status: 'failed',
          error: errorMessage(e),
        });
      }
    }
  }
  addCount('DatabasesFailing', status.counts.FAILING);
  addCount('DatabasesLate', status.counts.LATE);
  addCount('DatabasesUnprotected', status.counts.UNPROTECTED);
  const { open, ...changed } = changes;
  logger.info('status check', {
    dryRun,
    counts: status.counts,
    opened: changed.opened.map((c) => c.key),
    cleared: changed.cleared.map((c) => c.key),
    notes: status.notes,
  });
  throwIfFailed('status check', outcomes);
  return {
    action: 'status-check',
    dryRun,
    counts: status.counts,
    changes: changed,
    open: open.length,
    outcomes,
  };
};

/**
 * Run one report request: the monthly evidence or the status check. Neither changes a database, so a
 * stage-wide dry run does not hold them back; a request's `dryRun` writes and sends nothing.
 */
export const runReport = async (req: ReportRequest, deps: ReportDeps): Promise<ReportResult> => {
  const dryRun = req.dryRun === true;
  return req.action === 'evidence' ? runEvidence(req, deps, dryRun) : runStatusCheck(deps, dryRun);
};
