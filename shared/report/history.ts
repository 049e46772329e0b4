import type { DrillReportDocument } from '../drill/report.js';
import { errorMessage } from '../errors.js';
import { mapLimit } from '../pool.js';
import { type DrillSummary, drillSummary } from './model.js';
import type { HistoryStore, StoredObject } from './ports.js';

/**
 * The stage's report bucket: a fixed name, so the CLI finds it from the stage and the account alone
 * (S3 names are global; the account and region keep it unique). infra/reports.ts creates it.
 */
export const reportBucketName = (stage: string, account: string, region: string): string =>
  `steward-${stage}-reports-${account}-${region}`;

/** Prefix of drill reports in the report bucket: `drills/<database>/<yyyy>/<mm>/<drillId>.json`. */
export const DRILLS_PREFIX = 'drills/';
/** Parallel GETs when reading reports (S3 takes thousands per second; this bounds the function's memory). */
const READS = 8;

const DRILL_KEY = /^drills\/([^/]+)\/(\d{4})\/(\d{2})\/[^/]+\.json$/;

/** A drill report key's database and month (`2026-11`), or undefined for anything else under drills/. */
export const parseDrillKey = (key: string): { database: string; month: string } | undefined => {
  const m = DRILL_KEY.exec(key);
  return m ? { database: m[1]!, month: `${m[2]}-${m[3]}` } : undefined;
};

const isDrillReport = (v: unknown): v is DrillReportDocument =>
  typeof v === 'object' && v !== null && (v as DrillReportDocument).type === 'steward-drill-report';

/** Read and parse report documents; an unreadable one becomes a note, the others still count. */
export const readDrillReports = async (
  store: HistoryStore,
  objects: readonly StoredObject[],
  notes: string[],
): Promise<DrillSummary[]> => {
  const docs = await mapLimit(objects, READS, async (o) => {
    try {
      const body = await store.get(o.key);
      const doc: unknown = body === undefined ? undefined : JSON.parse(body);
      if (isDrillReport(doc)) return drillSummary(doc);
      notes.push(`${o.key} is not a drill report`);
    } catch (e) {
      notes.push(`${o.key} unreadable: ${errorMessage(e)}`);
    }
    return undefined;
  });
  return docs.filter((d): d is DrillSummary => d !== undefined);
};

const newer = (a: StoredObject, b: StoredObject) =>
  a.key.localeCompare(b.key) === 0 ? 0 : (a.lastModified ?? '') > (b.lastModified ?? '') ? 1 : -1;

/**
 * The newest drill of every database: one listing of drills/ (all pages), then one GET per database.
 * Keys sort by month; within a month the object's time decides.
 */
export const latestDrills = async (store: HistoryStore, notes: string[]): Promise<DrillSummary[]> => {
  const newest = new Map<string, StoredObject & { month: string }>();
  for (const o of await store.list(DRILLS_PREFIX)) {
    const k = parseDrillKey(o.key);
    if (!k) continue;
    const seen = newest.get(k.database);
    if (!seen || k.month > seen.month || (k.month === seen.month && newer(o, seen) > 0)) {
      newest.set(k.database, { ...o, month: k.month });
    }
  }
  return readDrillReports(store, [...newest.values()], notes);
};

/** Every drill whose report is filed under one of `months` (`yyyy-mm`). */
export const drillsOfMonths = async (
  store: HistoryStore,
  months: ReadonlySet<string>,
  notes: string[],
): Promise<DrillSummary[]> => {
  const objects = (await store.list(DRILLS_PREFIX)).filter((o) => {
    const k = parseDrillKey(o.key);
    return k !== undefined && months.has(k.month);
  });
  return readDrillReports(store, objects, notes);
};
