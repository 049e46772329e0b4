import type { Severity } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import type { Notification } from '../notify/notifier.js';
import { type DrillMetrics, drillMetrics, formatDuration, renderDrillReport } from './rto-rpo.js';
import type { DrillState } from './state.js';
import type { VerificationReport } from './verify.js';

/** The verdict of a finished (or aborted) drill. */
export interface DrillVerdict {
  passed: boolean;
  /** The task the drill did not get past, when a step failed. */
  failedStep?: string;
  metrics?: DrillMetrics;
  /** Why it failed; empty when it passed. */
  reasons: string[];
  summary: string;
}

/** The JSON document a drill leaves in the report bucket; the CLI and the sandbox print it too. */
export interface DrillReportDocument {
  type: 'steward-drill-report';
  version: 1;
  drillId: string;
  database: string;
  kind?: DrillState['kind'];
  passed: boolean;
  failedStep?: string;
  summary: string;
  reasons: string[];
  startedAt: string;
  input?: DrillState['input'];
  targets?: DrillState['targets'];
  source?: DrillState['source'];
  target?: DrillState['target'];
  timedOut?: boolean;
  metrics?: DrillMetrics;
  verifyStartedAt?: string;
  verifiedAt?: string;
  verification?: VerificationReport;
  cleanup?: DrillState['cleanup'];
  error?: DrillState['error'];
  cleanupError?: DrillState['cleanupError'];
  reportKey?: string;
}

const CAUSE_MAX = 500;

/**
 * A Catch's Cause, readable: Lambda failures arrive as JSON (`errorType`, `errorMessage`, `trace`);
 * only the message is shown, cut to a sane length.
 */
export const causeText = (cause: string | undefined): string => {
  if (!cause) return '';
  let text = cause;
  try {
    const j = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof j.errorMessage === 'string') text = j.errorMessage;
  } catch {
    // Not JSON: a plain cause.
  }
  return text.length > CAUSE_MAX ? `${text.slice(0, CAUSE_MAX - 1)}…` : text;
};

/** The task a drill did not get past, read from how far its state got. */
export const reachedStep = (s: Partial<DrillState>): string => {
  if (!s.drillId || !s.targets) return 'start';
  if (!s.source) return 'select';
  if (!s.target) return 'restore';
  if (!s.available && !s.target.availableAt) return 'await';
  if (!s.verification) return 'verify';
  return 'record';
};

/** RTO, RPO and pass/fail of a drill from its state. Pure: the same state gives the same verdict. */
export const drillVerdict = (s: DrillState): DrillVerdict => {
  const reasons: string[] = [];
  const failedStep = s.error ? reachedStep(s) : undefined;
  if (s.error) {
    const cause = causeText(s.error.Cause);
    reasons.push(`${failedStep} failed: ${s.error.Error}${cause ? `: ${cause}` : ''}`);
  }
  let metrics: DrillMetrics | undefined;
  const v = s.verification;
  if (v && s.target?.availableAt && s.verifyStartedAt && s.source) {
    try {
      metrics = drillMetrics({
        startedAt: s.startedAt,
        restoreStartedAt: s.target.requestedAt,
        restoredAt: s.target.availableAt,
        verifyStartedAt: s.verifyStartedAt,
        verifiedAt: s.verifiedAt ?? new Date(Date.parse(s.verifyStartedAt) + v.verifyMs).toISOString(),
        referenceTime: s.source.referenceTime,
        ...(v.dataRpoSeconds === undefined ? {} : { dataRpoSeconds: v.dataRpoSeconds }),
        checksPassed: v.passed,
        targets: s.targets,
      });
      reasons.push(...metrics.reasons);
    } catch (e) {
      reasons.push(`could not measure RTO/RPO: ${errorMessage(e)}`);
    }
  } else if (!s.error) {
    reasons.push('the restored database was not verified');
  }
  const passed = reasons.length === 0 && metrics?.passed === true;
  const summary = passed
    ? `DR drill PASSED for ${s.database}: RTO ${formatDuration(metrics!.rtoSeconds)} (target ${formatDuration(metrics!.rtoTargetSeconds)}), RPO ${formatDuration(metrics!.rpoSeconds!)} (target ${formatDuration(metrics!.rpoTargetSeconds)})`
    : `DR drill FAILED for ${s.database}${failedStep ? ` at ${failedStep}` : ''}: ${reasons[0]}${reasons.length > 1 ? ` (+${reasons.length - 1} more)` : ''}`;
  return { passed, ...(failedStep ? { failedStep } : {}), ...(metrics ? { metrics } : {}), reasons, summary };
};

/** S3 key of a drill's report: `drills/<database>/<yyyy>/<mm>/<drillId>.json` (UTC month of the start). */
/** Where the last passed drill of a database leaves its measured tables: the next drill's baseline. */
export const baselineKey = (database: string): string => `baselines/${database}.json`;

export const reportKey = (database: string, drillId: string, startedAt: string): string => {
  const t = new Date(startedAt);
  const d = Number.isFinite(t.getTime()) ? t : new Date(0);
  const mm = String(d.getUTCMonth() + 1).padStart(2, '0');
  return `drills/${database}/${d.getUTCFullYear()}/${mm}/${drillId}.json`;
};

/** The report document of a drill: everything in its state except what is noise, plus the verdict. */
export const drillReport = (s: DrillState): DrillReportDocument => {
  const v = drillVerdict(s);
  return {
    type: 'steward-drill-report',
    version: 1,
    drillId: s.drillId,
    database: s.database,
    kind: s.kind,
    passed: v.passed,
    ...(v.failedStep ? { failedStep: v.failedStep } : {}),
    summary: v.summary,
    reasons: v.reasons,
    startedAt: s.startedAt,
    input: s.input,
    targets: s.targets,
    source: s.source,
    target: s.target,
    ...(s.timedOut ? { timedOut: true } : {}),
    ...(v.metrics ? { metrics: v.metrics } : {}),
    verifyStartedAt: s.verifyStartedAt,
    verifiedAt: s.verifiedAt,
    verification: s.verification,
    cleanup: s.cleanup,
    error: s.error,
    cleanupError: s.cleanupError,
    reportKey: s.result?.reportKey ?? reportKey(s.database, s.drillId, s.startedAt),
  };
};

/** Passed → info; passed but the copy may still run → warning; failed → critical. */
export const drillSeverity = (s: DrillState, v: DrillVerdict): Severity =>
  !v.passed ? 'critical' : s.cleanupError ? 'warning' : 'info';

const sourceText = (s: DrillState): string =>
  s.source?.snapshotId
    ? `snapshot ${s.source.snapshotId}`
    : s.source?.pointInTime
      ? `point in time ${s.source.pointInTime}`
      : 'nothing selected';

/** The one notification of a drill: the full readable report when it verified, else what failed where. */
export const drillNotification = (
  s: DrillState,
  v: DrillVerdict,
  key: string,
  janitorMaxAgeHours: number,
): Notification => {
  const body =
    v.metrics && s.verification
      ? renderDrillReport({
          database: s.database,
          snapshotId: sourceText(s).replace(/^snapshot /, ''),
          ...(s.target ? { restoredInstance: s.target.instanceId ?? s.target.id } : {}),
          metrics: v.metrics,
          verification: s.verification,
        }).split('\n')
      : [
          v.summary,
          `Drill:     ${s.drillId} (started ${s.startedAt})`,
          `Source:    ${s.database}, ${sourceText(s)}`,
          ...(s.target
            ? [`Restored:  ${s.target.kind} ${s.target.id} (status ${s.target.status ?? '?'})`]
            : []),
          ...v.reasons.map((r) => `✗ ${r}`),
        ];
  const cleanup = s.cleanupError
    ? [
        `Cleanup FAILED: ${s.cleanupError.Error}: ${causeText(s.cleanupError.Cause)}. The copy may still be running; the janitor deletes steward:drill resources older than ${janitorMaxAgeHours} h.`,
      ]
    : s.cleanup
      ? [`Cleanup: ${s.cleanup.status}${s.cleanup.detail ? ` (${s.cleanup.detail})` : ''}`]
      : [];
  return {
    severity: drillSeverity(s, v),
    capability: 'drill',
    subject: v.passed
      ? `Drill passed: ${s.database}${s.cleanupError ? ' (cleanup failed)' : ''}`
      : `Drill FAILED: ${s.database}${v.failedStep ? ` at ${v.failedStep}` : ''}`,
    lines: [...body, ...cleanup, `Report: ${key}`],
    data: {
      drillId: s.drillId,
      database: s.database,
      passed: v.passed,
      failedStep: v.failedStep,
      reportKey: key,
      metrics: v.metrics,
      reasons: v.reasons,
    },
  };
};
