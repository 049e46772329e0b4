import { clip, errorCode, errorMessage } from '../errors.js';
import type { Place } from '../fleet/place.js';
import type { Outcome } from '../model.js';
import { logger } from '../observability.js';
import { type Notification, type Notifier, sendReported } from './notifier.js';

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
    return reportUnavailable(e);
  }
};

/** The result of a report write that threw: why, cut, for the summary to print instead of the link. */
export const reportUnavailable = (e: unknown): RunReportResult => ({
  status: 'failed',
  why: clip(`${errorCode(e)}: ${errorMessage(e)}`, 300),
});

/**
 * A summary as its report's write leaves it: linked to the report (the console page) when it was written;
 * raised from `info` to `warning` when the write failed, so a lost report is noticed.
 */
export const withReportLink = (n: Notification, report: RunReportResult): Notification => ({
  ...n,
  severity: report.status === 'failed' && n.severity === 'info' ? 'warning' : n.severity,
  ...(report.status === 'written'
    ? { links: [...(n.links ?? []), { text: 'Full report', href: report.link.consoleUrl }] }
    : {}),
});

/** The summary's lines about the full report. */
export const runReportLines = (r: RunReportResult): string[] =>
  r.status === 'written'
    ? [`Full report: ${r.link.uri}`, `Open in the console: ${r.link.consoleUrl}`]
    : r.status === 'failed'
      ? [`Full report unavailable: ${r.why}`]
      : ['Full report: not kept (no report bucket in this run)'];

/**
 * A run's name in its report key: in a fleet, led by its account and region, so two targets' children of
 * one fan-out, finishing in the same second, never write one key. A single-account stage keeps its keys.
 */
export const placedName = (name: string, p: Place | undefined): string =>
  p?.fleet ? `${p.account ?? 'unknown'}-${p.region}-${name}` : name;

/** One run to report: who speaks, when, a name for its key, and the full report's content. */
export interface ReportedRun {
  capability: string;
  at: Date;
  /** Names the run in its report's key: its action, and its policy or resource. */
  name: string;
  /** Everything the summary leaves out (every outcome, verdict, decision). */
  report: Record<string, unknown>;
}

/**
 * Report a run the one way every capability does: write the full report to the report bucket first, then
 * send the bounded summary `summarise` builds with the report's result (it prints `runReportLines`), so the
 * message links a report that already exists. A failed write costs only the link: the summary says why,
 * and an `info` summary becomes a `warning` so someone notices. A failed send is a failed outcome.
 */
export const reportRun = async (
  deps: { reports?: RunReports | undefined; notifier: Notifier; place?: Place | undefined },
  run: ReportedRun,
  summarise: (report: RunReportResult) => Notification,
): Promise<{ report: RunReportResult; notification: Notification; outcomes: Outcome[] }> => {
  const p = deps.place;
  const report = await writeRunReport(
    deps.reports,
    runReportKey(run.capability, run.at, placedName(run.name, p)),
    {
      type: 'steward-run-report',
      version: 1,
      capability: run.capability,
      at: run.at.toISOString(),
      ...(p ? { region: p.region, ...(p.account ? { account: p.account } : {}) } : {}),
      ...run.report,
    },
  );
  if (report.status === 'failed')
    logger.warn('full run report not written', { capability: run.capability, why: report.why });
  const notification = withReportLink(summarise(report), report);
  return { report, notification, outcomes: await sendReported(deps.notifier, notification) };
};

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
