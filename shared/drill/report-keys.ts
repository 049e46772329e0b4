// Where a drill's report and a database's baseline live in the report bucket: the select task reads a
// baseline, so these stay apart from the report's (much larger) code in ./report.ts.

/** Where the last passed drill of a database leaves its measured tables: the next drill's baseline. */
export const baselineKey = (database: string): string => `baselines/${database}.json`;

/** S3 key of a drill's report: `drills/<database>/<yyyy>/<mm>/<drillId>.json` (UTC month of the start). */
export const reportKey = (database: string, drillId: string, startedAt: string): string => {
  const t = new Date(startedAt);
  const d = Number.isFinite(t.getTime()) ? t : new Date(0);
  const mm = String(d.getUTCMonth() + 1).padStart(2, '0');
  return `drills/${database}/${d.getUTCFullYear()}/${mm}/${drillId}.json`;
};
