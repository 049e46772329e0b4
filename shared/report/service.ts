import { errorMessage, EventShapeError } from '../errors.js';
import type { Outcome } from '../model.js';
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
import { CAPABILITY, type EstateStatus } from './model.js';
import type { EvidenceDeps, EvidenceResult } from './monthly.js';
import { once } from '../once.js';
import type { HistoryStore } from './ports.js';
import type { ReportRequest } from './request.js';
import { runStatus } from './status.js';

// Modules loaded on first use, once per container (shared/once.ts: `import()` resolves again at each call).
// The monthly evidence (its run, documents and notification, the HTML and CSV renderers: about 28 KB of
// bundle) is imported by the evidence run; the daily status check never loads it.
const loadMonthly = /* @__PURE__ */ once(() => import('./monthly.js'));

/** The report function's deps: the base, and what status and evidence read (the report bucket required). */
export interface ReportDeps extends BaseDeps {
  estate: EvidenceDeps;
}

export type ReportResult =
  | EvidenceResult
  | {
      action: 'status-check';
      dryRun: boolean;
      counts: EstateStatus['counts'];
      changes: Omit<ConditionChanges, 'open'>;
      open: number;
      outcomes: Outcome[];
    };

/** The report bucket as the place for run reports: the status check's full report goes beside the rest. */
const historyRunReports = (history: HistoryStore): RunReports => ({
  put: async (key, body) => {
    await history.put(key, body, 'application/json');
    return { uri: `${history.location}/${key}`, consoleUrl: history.href(key) };
  },
});

/** The conditions the last check left open, and whether it wrote them before keys named the kind. */
const readConditions = async (deps: ReportDeps): Promise<{ open: OpenCondition[]; upgrading: boolean }> => {
  const body = await deps.estate.history.get(CONDITIONS_KEY);
  if (body === undefined) return { open: [], upgrading: false };
  const doc = JSON.parse(body) as ConditionsDocument;
  if (doc?.type !== 'steward-open-conditions' || !Array.isArray(doc.open)) {
    throw new EventShapeError(`${CONDITIONS_KEY} in the report bucket is not a conditions document`);
  }
  return { open: doc.open, upgrading: doc.version !== 2 };
};

/**
 * The status check: judge every database, compare with the conditions open at the last check, notify what
 * changed (pager signals: FAILING triggers, cleared resolves), then remember the open conditions. The
 * memory is written only after the notification went out, so a failed send is retried by the next check.
 */
const runStatusCheck = async (deps: ReportDeps, dryRun: boolean): Promise<ReportResult> => {
  const [status, previous] = await Promise.all([runStatus(deps.estate), readConditions(deps)]);
  // The first check after an upgrade from keys without the kind resolves the old keys it owns, once: its
  // document is then rewritten in version 2 (README: Upgrade).
  const changes = diffConditions(previous.open, status, previous.upgrading);
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
        version: 2,
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
 * stage-wide dry run does not hold them back; a request's `dryRun` writes and sends nothing. A preview (a
 * local run, which prints instead of publishing) also holds back the status check's memory of what it
 * told: written, it would keep the deployed check from paging what the local run only printed.
 */
export const runReport = async (req: ReportRequest, deps: ReportDeps): Promise<ReportResult> => {
  const dryRun = req.dryRun === true;
  return req.action === 'evidence'
    ? (await loadMonthly()).runEvidence(req, deps, dryRun)
    : runStatusCheck(deps, dryRun || deps.preview === true);
};
