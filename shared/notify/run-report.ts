import { clip, errorCode, errorMessage } from '../errors.js';

/** Where a run's full report was written: for machines (the S3 URI) and for people (the console). */
export interface RunReportLink {
  uri: string;
  consoleUrl: string;
}

/** Port: keep one run's full report (the notification carries only its summary). */
export interface RunReports {
  put(key: string, body: string): Promise<RunReportLink>;
}

/** Where runs leave their full reports in the report bucket: `runs/<capability>/`. */
export const RUN_REPORTS_PREFIX = 'runs/';

/** The prefix one capability writes under (its function's grant is scoped to it). */
export const runReportsPrefix = (capability: string): string => `${RUN_REPORTS_PREFIX}${capability}/`;

/**
 * The key of one run's full report: `runs/<capability>/<yyyy-mm-dd>/<yyyymmddThhmmssZ>-<what>.json`, dated by
 * the run's time in UTC; `what` names the run (its action and policy), kept to key-safe characters.
 */
export const runReportKey = (capability: string, at: Date, what: string): string => {
  const iso = at.toISOString();
  const stamp = `${iso.slice(0, 19).replace(/[-:]/g, '')}Z`;
  const name = what.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 100);
  return `${runReportsPrefix(capability)}${iso.slice(0, 10)}/${stamp}-${name}.json`;
};

/** The S3 console's page for one object. */
export const s3ConsoleUrl = (bucket: string, region: string, key: string): string =>
  `https://console.aws.amazon.com/s3/object/${bucket}?region=${region}&prefix=${encodeURIComponent(key)}`;

/**
 * What a summary says about the full report: its link; or that the write failed (the summary warns); or
 * that this run keeps none (a local run without a report bucket).
 */
export type RunReportResult =
  { status: 'written'; link: RunReportLink } | { status: 'failed'; why: string } | { status: 'none' };

/**
 * Write a run's full report. A failure never costs the summary: it comes back as the reason the full
 * report is unavailable, which the summary prints instead of the link.
 */
export const writeRunReport = async (
  reports: RunReports | undefined,
  key: string,
  report: unknown,
): Promise<RunReportResult> => {
  if (!reports) return { status: 'none' };
  try {
    return { status: 'written', link: await reports.put(key, JSON.stringify(report, null, 2)) };
  } catch (e) {
    return { status: 'failed', why: clip(`${errorCode(e)}: ${errorMessage(e)}`, 300) };
  }
};

/** The summary's lines about the full report. */
export const runReportLines = (r: RunReportResult): string[] =>
  r.status === 'written'
    ? [`Full report: ${r.link.uri}`, `Open in the console: ${r.link.consoleUrl}`]
    : r.status === 'failed'
      ? [`Full report unavailable: ${r.why}`]
      : ['Full report: not kept (no report bucket in this run)'];

/** RunReports in memory (tests, local runs); `fail` makes `put` reject. */
export const memoryRunReports = (
  bucket: string,
  region: string,
): RunReports & { objects: Map<string, string>; fail: unknown } => {
  const store = {
    objects: new Map<string, string>(),
    fail: undefined as unknown,
    put: async (key: string, body: string): Promise<RunReportLink> => {
      if (store.fail !== undefined) throw store.fail;
      store.objects.set(key, body);
      return { uri: `s3://${bucket}/${key}`, consoleUrl: s3ConsoleUrl(bucket, region, key) };
    },
  };
  return store;
};
