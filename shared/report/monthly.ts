import { errorMessage } from '../errors.js';
import { FANOUT, mapLimit } from '../pool.js';
import { RETENTION_RECORDS_PREFIX, type RetentionRecord } from '../retention/record.js';
import {
  buildEvidence,
  type EvidenceInputs,
  type EvidenceReport,
  monthRange,
  monthsEnding,
} from './evidence.js';
import { drillsOfMonths } from './history.js';
import type { HistoryStore } from './ports.js';
import { renderDatabasesCsv, renderDrillsCsv, renderEvidenceHtml } from './render.js';
import { drLagObjectiveSeconds } from './schedule.js';
import type { StatusDeps } from './status.js';

// The evidence run's month (service.ts imports this module, and only this one, when a run needs evidence).
export { previousMonth } from './evidence.js';

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
