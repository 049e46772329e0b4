import { errorMessage } from '../errors.js';
import type { Outcome } from '../model.js';
import { firstOf } from '../notify/budget.js';
import { type Notification, sendReported } from '../notify/notifier.js';
import { addCount, logger } from '../observability.js';
import { throwIfFailed } from '../outcomes.js';
import { FANOUT, mapLimit } from '../pool.js';
import { RETENTION_RECORDS_PREFIX, type RetentionRecord } from '../retention/record.js';
import {
  buildEvidence,
  type EvidenceInputs,
  type EvidenceReport,
  monthRange,
  monthsEnding,
  previousMonth,
} from './evidence.js';
import { drillsOfMonths } from './history.js';
import { CAPABILITY, drillOutcome } from './model.js';
import type { HistoryStore } from './ports.js';
import { renderDatabasesCsv, renderDrillsCsv, renderEvidenceHtml } from './render.js';
import { drLagObjectiveSeconds } from './schedule.js';
import type { ReportRequest } from './request.js';
import type { StatusDeps } from './status.js';
import type { BaseDeps } from '../runtime.js';

// The evidence run (service.ts imports this module, and only this one, when a run needs evidence): its month,
// its run and its notification live here, so the daily status check never parses them.
export { previousMonth };

/** Evidence reads the same sources as status, and the report bucket is required. */
export type EvidenceDeps = StatusDeps & { history: HistoryStore };

/** Where a month's evidence goes in the report bucket. */
export const evidenceKeys = (month: string) => ({
  html: `evidence/${month}/report.html`,
  json: `evidence/${month}/report.json`,
  databasesCsv: `evidence/${month}/databases.csv`,
  drillsCsv: `evidence/${month}/drills.csv`,
});

const isRecord = (v: unknown): v is RetentionRecord =>
  typeof v === 'object' && v !== null && (v as RetentionRecord).type === 'steward-retention-record';

/** The months from `month` to the one `now` is in (retention of a later month deletes this month's backups). */
const monthsSince = (month: string, now: Date): string[] => {
  const out = [month];
  for (let m = month; out.length < 14;) {
    const { end } = monthRange(m);
    if (end.getTime() > now.getTime()) break;
    m = end.toISOString().slice(0, 7);
    out.push(m);
  }
  return out;
};

/**
 * Read what the month's evidence needs: the databases and snapshots (one paginated describe per kind and
 * region), retention records from the month on, and the drill reports of the trend window.
 */
export const readEvidence = async (deps: EvidenceDeps, month: string): Promise<EvidenceInputs> => {
  const { config, history } = deps;
  const notes: string[] = [...(deps.notes ?? [])];
  const copies = Object.values(config.backup.policies).some((p) => p.copyToDr);
  const recordKeys = (
    await mapLimit(monthsSince(month, deps.now()), FANOUT, (m) =>
      history.list(`${RETENTION_RECORDS_PREFIX}${m.replace('-', '/')}/`),
    )
  ).flat();
  const [databases, snapshots, drSnapshots, drills, records] = await Promise.all([
    deps.primary.databases(),
    deps.primary.snapshots(),
    copies && deps.dr ? deps.dr.snapshots() : Promise.resolve([]),
    drillsOfMonths(history, new Set(monthsEnding(month, config.report.trendMonths)), notes),
    mapLimit(recordKeys, 8, async (o) => {
      try {
        const body = await history.get(o.key);
        const doc: unknown = body === undefined ? undefined : JSON.parse(body);
        if (isRecord(doc)) return doc;
        notes.push(`${o.key} is not a retention record`);
      } catch (e) {
        notes.push(`${o.key} unreadable: ${errorMessage(e)}`);
      }
      return undefined;
    }),
  ]);
  return {
    month,
    databases,
    snapshots,
    drSnapshots,
    retention: records.filter((r): r is RetentionRecord => r !== undefined),
    drills,
    notes,
  };
};

/** The DR lag that counts as late in the charts: the smallest DR-lag objective of the copying policies. */
export const drLagLimitSeconds = (deps: Pick<StatusDeps, 'config' | 'now'>): number | undefined => {
  const { config } = deps;
  const objectives = Object.values(config.backup.policies)
    .filter((p) => p.copyToDr)
    .flatMap((p) => drLagObjectiveSeconds(p, config.report.drGraceHours, deps.now()) ?? []);
  return objectives.length ? Math.min(...objectives) : undefined;
};

/** A month's evidence in its three forms. */
export interface EvidenceDocuments {
  report: EvidenceReport;
  html: string;
  json: string;
  databasesCsv: string;
  drillsCsv: string;
}

/** Read, judge and render a month's evidence (nothing is written). */
export const buildEvidenceDocuments = async (
  deps: EvidenceDeps,
  month: string,
  account?: string,
): Promise<EvidenceDocuments> => {
  const report = buildEvidence(await readEvidence(deps, month), deps.config, deps.now(), account);
  const keys = evidenceKeys(month);
  const limit = drLagLimitSeconds(deps);
  return {
    report,
    html: renderEvidenceHtml(report, {
      ...(limit !== undefined ? { drLagLimitSeconds: limit } : {}),
      sources: [keys.json, keys.databasesCsv, keys.drillsCsv].map((k) => k.split('/').pop()!),
    }),
    json: `${JSON.stringify(report, null, 2)}\n`,
    databasesCsv: renderDatabasesCsv(report),
    drillsCsv: renderDrillsCsv(report),
  };
};

/** Write a month's evidence to the report bucket; returns the keys written. */
export const storeEvidence = async (
  history: HistoryStore,
  month: string,
  docs: EvidenceDocuments,
): Promise<ReturnType<typeof evidenceKeys>> => {
  const keys = evidenceKeys(month);
  await history.put(keys.html, docs.html, 'text/html; charset=utf-8');
  await history.put(keys.json, docs.json, 'application/json');
  await history.put(keys.databasesCsv, docs.databasesCsv, 'text/csv; charset=utf-8');
  await history.put(keys.drillsCsv, docs.drillsCsv, 'text/csv; charset=utf-8');
  return keys;
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

/** What an evidence run returns (the report function's result for `evidence`). */
export interface EvidenceResult {
  action: 'evidence';
  month: string;
  dryRun: boolean;
  summary: EvidenceReport['summary'];
  keys?: ReturnType<typeof evidenceKeys>;
  outcomes: Outcome[];
}

/**
 * The evidence run: a month's documents built, stored in the report bucket (not in a dry run) and linked in
 * one info notification (a warning when they could not be stored: the message is then all there is).
 */
export const runEvidence = async (
  req: Extract<ReportRequest, { action: 'evidence' }>,
  deps: BaseDeps & { estate: EvidenceDeps },
  dryRun: boolean,
): Promise<EvidenceResult> => {
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
