import type { Place } from '../fleet/place.js';
import type { Severity, StewardConfig } from '../config/schema.js';
import { clip, errorMessage } from '../errors.js';
import { TOP_FAILURES, TOP_N, topLines } from '../notify/budget.js';
import { conditionKey } from '../notify/condition-key.js';
import type { Notification } from '../notify/notifier.js';
import { runReportLines, type RunReportResult, withReportLink } from '../notify/run-report.js';
import type { VerificationOutcome } from './checks.js';
import { COST_CEILING } from './cost.js';
import { ENDPOINTS_UNAVAILABLE } from './endpoints.js';
import { ebsDrillVerdict, ebsVolumeLines } from './ebs-verdict.js';
import { type DrillMetrics, drillMetrics, formatDuration, renderDrillReport } from './rto-rpo.js';
import type { DrillState } from './state.js';
import { causeText, type DrillVerdict } from './verdict.js';
import type { VerificationReport } from './verification.js';
import { baselineKey, reportKey } from './report-keys.js';

export { baselineKey, reportKey };

/** The JSON document a drill leaves in the report bucket; the CLI and the sandbox print it too. */
export interface DrillReportDocument {
  type: 'steward-drill-report';
  version: 1;
  drillId: string;
  database: string;
  /** Where the database lives (absent in reports written before fleets, and when unknown). */
  account?: string;
  region?: string;
  kind?: DrillState['kind'];
  passed: boolean;
  /** Absent in reports written before inconclusive drills existed (then: passed or failed). */
  outcome?: VerificationOutcome;
  failedStep?: string;
  summary: string;
  reasons: string[];
  gaps?: string[];
  startedAt: string;
  input?: DrillState['input'];
  targets?: DrillState['targets'];
  source?: DrillState['source'];
  target?: DrillState['target'];
  /** EBS drills: the set, each restored volume with its time, the verifier's answer, cleanup per volume. */
  ebs?: DrillState['ebs'];
  /** What the copy ran on: class (and why), instances, storage. */
  shape?: DrillState['shape'];
  timedOut?: boolean;
  metrics?: DrillMetrics;
  /** Instance-hours and estimated cost of the copy (an estimate from list prices). */
  cost?: DrillState['cost'];
  /** Why this passed drill did not set the next drill's baseline (one of newer data had). */
  baselineKept?: string;
  warmup?: DrillState['warmup'];
  warmupError?: DrillState['warmupError'];
  verifyStartedAt?: string;
  verifiedAt?: string;
  verification?: VerificationReport;
  cleanup?: DrillState['cleanup'];
  error?: DrillState['error'];
  cleanupError?: DrillState['cleanupError'];
  reportKey?: string;
}

/** The task a drill did not get past, read from how far its state got. */
export const reachedStep = (s: Partial<DrillState>): string => {
  if (!s.drillId || !s.targets) return 'start';
  if (!s.source) return 'select';
  if (!s.target) return 'restore';
  if (!s.available && !s.target.availableAt) return 'await';
  if (!s.verification) return 'verify';
  return 'record';
};

/**
 * A task that ran out of time: the Task state's own timeout, or the Lambda function's (`Sandbox.Timedout`,
 * "Task timed out after ..."). Verification bounds every check well inside both, so this is a backstop.
 */
const isTimeout = (e: NonNullable<DrillState['error']>): boolean =>
  e.Error === 'States.Timeout' ||
  e.Error === 'Sandbox.Timedout' ||
  /Task timed out after/.test(e.Cause ?? '');

/** RTO, RPO and pass/fail of a drill from its state. Pure: the same state gives the same verdict. */
export const drillVerdict = (s: DrillState): DrillVerdict => {
  if (s.kind === 'ebs') return ebsDrillVerdict(s);
  const reasons: string[] = [];
  const gaps: string[] = [];
  // Stopped by the cost ceiling, or a verifier that ran out of time: not proven, but nothing is known
  // to be wrong with the backup.
  const ceiling = s.error?.Error === COST_CEILING;
  const outOfTime = s.error !== undefined && reachedStep(s) === 'verify' && isTimeout(s.error);
  // The verifier's interface endpoints never became available: it could not run; the backup is not suspect.
  const noEndpoints = s.error?.Error === ENDPOINTS_UNAVAILABLE;
  const failedStep = s.error && !ceiling && !outOfTime && !noEndpoints ? reachedStep(s) : undefined;
  if (s.error) {
    const cause = causeText(s.error.Cause);
    if (ceiling)
      gaps.push(`drill stopped at ${reachedStep(s)} by its cost ceiling${cause ? `: ${cause}` : ''}`);
    else if (noEndpoints)
      gaps.push(
        `the verifier could not run: its VPC endpoints were not available${cause ? ` (${cause})` : ''}`,
      );
    else if (outOfTime)
      gaps.push(
        `verification not finished within the verifier's time (${s.error.Error}${cause ? `: ${cause}` : ''})`,
      );
    else reasons.push(`${failedStep} failed: ${s.error.Error}${cause ? `: ${cause}` : ''}`);
  }
  let metrics: DrillMetrics | undefined;
  const v = s.verification;
  if (v && s.target?.availableAt && s.verifyStartedAt && s.source) {
    try {
      const unfinished = v.checks.filter((c) => c.status === 'unfinished');
      metrics = drillMetrics({
        startedAt: s.startedAt,
        restoreStartedAt: s.target.requestedAt,
        restoredAt: s.target.availableAt,
        verifyStartedAt: s.verifyStartedAt,
        verifiedAt: s.verifiedAt ?? new Date(Date.parse(s.verifyStartedAt) + v.verifyMs).toISOString(),
        referenceTime: s.source.referenceTime,
        ...(v.dataRpoSeconds === undefined ? {} : { dataRpoSeconds: v.dataRpoSeconds }),
        checksPassed: v.passed,
        checksOutcome: v.outcome ?? (v.passed ? 'passed' : 'failed'),
        unfinishedChecks: unfinished.map((c) => c.name),
        freshnessUnfinished: unfinished.some((c) => c.kind === 'freshness'),
        targets: s.targets,
        ...(s.warmup ? { warmup: s.warmup } : {}),
        ...(s.warmupError
          ? { warmupError: `${s.warmupError.Error}: ${causeText(s.warmupError.Cause)}` }
          : {}),
        ...(s.targets.warmRtoSeconds !== undefined ? { warmTargetSeconds: s.targets.warmRtoSeconds } : {}),
      });
      reasons.push(...metrics.reasons);
      gaps.push(...metrics.gaps);
    } catch (e) {
      reasons.push(`could not measure RTO/RPO: ${errorMessage(e)}`);
    }
  } else if (!s.error) {
    reasons.push('the restored database was not verified');
  }
  const outcome: VerificationOutcome = reasons.length
    ? 'failed'
    : gaps.length || metrics?.outcome !== 'passed'
      ? 'inconclusive'
      : 'passed';
  const passed = outcome === 'passed';
  const warm = metrics?.warm?.rtoSeconds;
  const cost = s.cost?.estimatedUsd;
  const atLeast = s.cost?.lowerBound ? 'at least ' : '';
  const summary = passed
    ? `DR drill PASSED for ${s.database}: RTO ${formatDuration(metrics!.rtoSeconds)} to first verified query (target ${formatDuration(metrics!.rtoTargetSeconds)})` +
      `${warm !== undefined ? `, ${formatDuration(warm)} to warm` : ''}, RPO ${formatDuration(metrics!.rpoSeconds!)} (target ${formatDuration(metrics!.rpoTargetSeconds)})` +
      `${cost !== undefined ? `, ${atLeast}~$${cost.toFixed(2)}` : ''}`
    : outcome === 'inconclusive'
      ? `DR drill INCONCLUSIVE for ${s.database}: ${gaps[0] ?? 'not all evidence was collected'}${gaps.length > 1 ? ` (+${gaps.length - 1} more)` : ''}`
      : `DR drill FAILED for ${s.database}${failedStep ? ` at ${failedStep}` : ''}: ${reasons[0]}${reasons.length > 1 ? ` (+${reasons.length - 1} more)` : ''}`;
  return {
    passed,
    outcome,
    ...(failedStep ? { failedStep } : {}),
    ...(metrics ? { metrics } : {}),
    reasons,
    gaps,
    summary,
  };
};

/** The report document of a drill: everything in its state except what is noise, plus the verdict. */
export const drillReport = (
  s: DrillState,
  place?: Pick<Place, 'account' | 'region'>,
): DrillReportDocument => {
  const v = drillVerdict(s);
  return {
    type: 'steward-drill-report',
    version: 1,
    drillId: s.drillId,
    database: s.database,
    ...(place?.account ? { account: place.account } : {}),
    ...(place ? { region: place.region } : {}),
    kind: s.kind,
    passed: v.passed,
    outcome: v.outcome,
    ...(v.failedStep ? { failedStep: v.failedStep } : {}),
    summary: v.summary,
    reasons: v.reasons,
    gaps: v.gaps,
    startedAt: s.startedAt,
    input: s.input,
    targets: s.targets,
    source: s.source,
    target: s.target,
    ...(s.ebs ? { ebs: s.ebs } : {}),
    ...(s.shape ? { shape: s.shape } : {}),
    ...(s.timedOut ? { timedOut: true } : {}),
    ...(v.metrics ? { metrics: v.metrics } : {}),
    ...(s.cost ? { cost: s.cost } : {}),
    ...(s.baselineKept ? { baselineKept: s.baselineKept } : {}),
    ...(s.warmup ? { warmup: s.warmup } : {}),
    ...(s.warmupError ? { warmupError: s.warmupError } : {}),
    verifyStartedAt: s.verifyStartedAt,
    verifiedAt: s.verifiedAt,
    verification: s.verification,
    cleanup: s.cleanup,
    error: s.error,
    cleanupError: s.cleanupError,
    reportKey: s.result?.reportKey ?? reportKey(s.database, s.drillId, s.startedAt),
  };
};

/** Failed → critical; inconclusive, or passed but the copy may still run → warning; passed → info. */
export const drillSeverity = (s: DrillState, v: DrillVerdict): Severity =>
  v.outcome === 'failed' ? 'critical' : v.outcome === 'inconclusive' || s.cleanupError ? 'warning' : 'info';

// A vault copy names its vault and the account the database lives in (the hub's, or a target's).
const sourceText = (s: DrillState): string =>
  s.kind === 'ebs' && s.source?.snapshotId
    ? `snapshot set ${s.source.snapshotId}`
    : s.source?.vault
      ? `snapshot ${s.source.vault.copyId} (the copy in vault ${s.source.vault.account} ${s.source.vault.region} of ${s.source.vault.sourceAccount ? `account ${s.source.vault.sourceAccount}'s` : "the stage account's"} database)`
      : s.source?.snapshotId
        ? `snapshot ${s.source.snapshotId}`
        : s.source?.pointInTime
          ? `point in time ${s.source.pointInTime}`
          : 'nothing selected';

// The longest line a drill message keeps (a verdict joins every failed check's reason).
const LINE_MAX = 1000;

/**
 * The readable report bounded for a message: its header, the check lines with failed and unfinished ones
 * first (the first TOP_FAILURES, the rest counted), then its verdict lines, each cut. The drill's report in
 * the report bucket keeps every check.
 */
const boundedReport = (rendered: string): string[] => {
  const lines = rendered.split('\n');
  const checksAt = lines.findIndex((l) => l.startsWith('Checks: '));
  const verdictAt = lines.findIndex((l) => l.startsWith('Verdict: '));
  if (checksAt < 0 || verdictAt < checksAt) return lines.map((l) => clip(l, LINE_MAX));
  const checks = lines.slice(checksAt + 1, verdictAt);
  const passed = (l: string) => l.trimStart().startsWith('✓');
  return [
    ...lines.slice(0, checksAt + 1),
    ...topLines(
      [...checks.filter((l) => !passed(l)), ...checks.filter(passed)],
      (l) => clip(l, LINE_MAX),
      'checks',
      TOP_FAILURES,
    ),
    ...lines.slice(verdictAt).map((l) => clip(l, LINE_MAX)),
  ];
};

/**
 * The pager key of a drill's condition, as the status check keys the same database's drill aspect
 * (conditionKey): a Redis drill is filed under its `drill.caches` name, but its condition is its replication
 * group's (`replicationGroupId`, default the name), so the drill's own alert and the status check's are one.
 */
export const drillConditionKey = (
  s: Pick<DrillState, 'database' | 'kind'>,
  caches: StewardConfig['drill']['caches'],
): string =>
  s.kind === 'redis'
    ? conditionKey(
        'elasticache',
        (Object.hasOwn(caches, s.database) ? caches[s.database]!.replicationGroupId : undefined) ??
          s.database,
        'drill',
      )
    : conditionKey(s.kind, s.database, 'drill');

/**
 * The one notification of a drill: the readable report (bounded) when it verified, else what failed where;
 * it links the drill's report (`key`) as every run summary links its full report, or says why it is missing.
 */
export const drillNotification = (
  s: DrillState,
  v: DrillVerdict,
  key: string,
  report: RunReportResult,
  janitorMaxAgeHours: number,
  pagerKey: string,
): Notification => {
  const body =
    v.metrics && s.verification
      ? boundedReport(
          renderDrillReport({
            database: s.database,
            snapshotId: sourceText(s).replace(/^snapshot /, ''),
            ...(s.target ? { restoredInstance: s.target.instanceId ?? s.target.id } : {}),
            metrics: v.metrics,
            verification: s.verification,
            ...(s.shape ? { shape: s.shape } : {}),
            ...(s.cost ? { cost: s.cost } : {}),
          }),
        )
      : [
          clip(v.summary, LINE_MAX),
          `Drill:     ${s.drillId} (started ${s.startedAt})`,
          `Source:    ${s.database}, ${sourceText(s)}`,
          ...(s.target
            ? [`Restored:  ${s.target.kind} ${s.target.id} (status ${s.target.status ?? '?'})`]
            : []),
          ...ebsVolumeLines(s).map((l) => clip(l, LINE_MAX)),
          ...topLines(v.reasons, (r) => `✗ ${clip(r, LINE_MAX)}`, 'reasons', TOP_FAILURES),
          ...topLines(v.gaps, (g) => `⧗ ${clip(g, LINE_MAX)}`, 'gaps'),
        ];
  const cleanup = s.cleanupError
    ? [
        `Cleanup FAILED: ${s.cleanupError.Error}: ${causeText(s.cleanupError.Cause)}. The copy may still be running; the janitor deletes steward:drill resources older than ${janitorMaxAgeHours} h.`,
      ]
    : s.cleanup
      ? [`Cleanup: ${s.cleanup.status}${s.cleanup.detail ? ` (${s.cleanup.detail})` : ''}`]
      : [];
  return withReportLink(
    {
      severity: drillSeverity(s, v),
      capability: 'drill',
      subject: v.passed
        ? `Drill passed: ${s.database}${s.cleanupError ? ' (cleanup failed)' : ''}`
        : v.outcome === 'inconclusive'
          ? `Drill inconclusive: ${s.database}${s.cleanupError ? ' (cleanup failed)' : ''}`
          : `Drill FAILED: ${s.database}${v.failedStep ? ` at ${v.failedStep}` : ''}`,
      lines: [...body, ...cleanup, ...runReportLines(report)],
      // The pager condition `<kind>:<id>:drill`: a failed drill opens it, a passed one clears it (the status
      // check opens the same key for a missed drill, so one incident covers both).
      alerts: [
        {
          key: pagerKey,
          action: v.passed ? 'resolve' : 'trigger',
          severity: 'critical',
          summary: v.summary,
          resource: s.database,
        },
      ],
      nextSteps: v.passed
        ? []
        : [
            `steward drills: the drill and its checks`,
            report.status === 'written'
              ? `Open the full report: ${report.link.uri}`
              : `Open the report ${key} in the report bucket`,
          ],
      data: {
        drillId: s.drillId,
        database: s.database,
        passed: v.passed,
        outcome: v.outcome,
        failedStep: v.failedStep,
        reportKey: key,
        metrics: v.metrics && {
          ...v.metrics,
          reasons: v.metrics.reasons.slice(0, TOP_N).map((r) => clip(r, LINE_MAX)),
          gaps: v.metrics.gaps.slice(0, TOP_N).map((g) => clip(g, LINE_MAX)),
        },
        // The first few, cut: the report holds every reason and check.
        reasons: v.reasons.slice(0, TOP_N).map((r) => clip(r, LINE_MAX)),
        gaps: v.gaps.slice(0, TOP_N).map((g) => clip(g, LINE_MAX)),
        reasonCount: v.reasons.length,
        gapCount: v.gaps.length,
        ...(s.cost ? { cost: s.cost } : {}),
      },
    },
    report,
  );
};
