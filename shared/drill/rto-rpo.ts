import { EventShapeError } from '../errors.js';
import { type CheckResult, formatBytes, type Measure, type VerificationOutcome } from './checks.js';
import type { DrillCost, RestoreShape } from './cost.js';
import { describeShape } from './shape.js';
import type { VerificationReport } from './verification.js';
import { type WarmupProgress, warmupPercent } from './warmup-progress.js';

/** A point in time as Step Functions or a clock hands it over. */
export type Instant = Date | string | number;

export interface DrillTimes {
  startedAt: Instant;
  /** Defaults to startedAt (picking the snapshot takes no measurable time). */
  restoreStartedAt?: Instant;
  restoredAt: Instant;
  verifyStartedAt: Instant;
  verifiedAt: Instant;
  /** Snapshot time or PITR target. */
  referenceTime: Instant;
  /** From the verification report; absent when no table has a freshness column. */
  dataRpoSeconds?: number;
  /** Whether every verification check passed. */
  checksPassed: boolean;
  /** Failed, or inconclusive (checks not finished); default from `checksPassed`. */
  checksOutcome?: VerificationOutcome;
  /** Names of the checks that did not finish within their bounds. */
  unfinishedChecks?: string[];
  /** True when a freshness check did not finish: an unmeasured RPO is then missing evidence. */
  freshnessUnfinished?: boolean;
  targets: { rtoSeconds: number; rpoSeconds: number };
  /** The warm-up, when one ran. */
  warmup?: WarmupProgress;
  /** Why the warm-up stopped early, when its task failed. */
  warmupError?: string;
  /** Time-to-warm target (`warmup.rtoSeconds`). */
  warmTargetSeconds?: number;
}

/** The second RTO figure: drill start → every table read once (lazy-loaded storage pulled in). */
export interface WarmMetrics {
  startedAt: string;
  finishedAt?: string;
  /** Warm-up duration (so far, when it did not complete). */
  seconds: number;
  /** Time-to-warm: drill start → warm-up complete. Absent when it did not complete. */
  rtoSeconds?: number;
  complete: boolean;
  /** Share of the blocks read, 0–100. */
  percent: number;
  readBytes: number;
  totalBytes: number;
  relations: number;
  chunks: number;
  method?: WarmupProgress['method'];
  /** Why it stopped before completing. */
  stopped?: string;
  targetSeconds?: number;
  met?: boolean;
  notes: string[];
}

export interface DrillMetrics {
  startedAt: string;
  restoredAt: string;
  verifiedAt: string;
  referenceTime: string;
  /** Time to first verified query: drill start → verification finished. */
  rtoSeconds: number;
  restoreSeconds: number;
  verifySeconds: number;
  /** Data RPO: reference time − newest restored row. */
  rpoSeconds?: number;
  rtoTargetSeconds: number;
  rpoTargetSeconds: number;
  rtoMet: boolean;
  /** False when RPO was not measured: an unproven RPO is not a met one. */
  rpoMet: boolean;
  checksPassed: boolean;
  passed: boolean;
  outcome: VerificationOutcome;
  /** Why the drill failed; empty when it did not. */
  reasons: string[];
  /** Evidence that is missing (checks not finished): the drill is inconclusive when nothing failed. */
  gaps: string[];
  warm?: WarmMetrics;
}

/** A finished drill as reports, notifications and the CLI show it. */
export interface DrillReport {
  /** The source database the snapshot was taken from. */
  database: string;
  snapshotId: string;
  /** The temporary instance the snapshot was restored into. */
  restoredInstance?: string;
  metrics: DrillMetrics;
  verification: VerificationReport;
  shape?: RestoreShape;
  cost?: DrillCost;
}

const ms = (field: string, v: Instant): number => {
  const t = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(t))
    throw new EventShapeError('Invalid drill time', [`${field}: not a time: ${String(v)}`]);
  return t;
};

const seconds = (fromMs: number, toMs: number) => Math.round(toMs - fromMs) / 1000;

/** RTO, RPO and the verdict of one drill, from its timestamps and the verification outcome. */
export const drillMetrics = (d: DrillTimes): DrillMetrics => {
  const started = ms('startedAt', d.startedAt);
  const restoreStarted =
    d.restoreStartedAt === undefined ? started : ms('restoreStartedAt', d.restoreStartedAt);
  const restored = ms('restoredAt', d.restoredAt);
  const verifyStarted = ms('verifyStartedAt', d.verifyStartedAt);
  const verified = ms('verifiedAt', d.verifiedAt);
  const reference = ms('referenceTime', d.referenceTime);
  const order: [string, number][] = [
    ['startedAt', started],
    ['restoreStartedAt', restoreStarted],
    ['restoredAt', restored],
    ['verifyStartedAt', verifyStarted],
    ['verifiedAt', verified],
  ];
  const outOfOrder = order.slice(1).flatMap(([name, t], i) => {
    const [prevName, prev] = order[i]!;
    return t < prev ? [`${name}: before ${prevName}`] : [];
  });
  if (outOfOrder.length) throw new EventShapeError('Drill times out of order', outOfOrder);

  const rtoSeconds = seconds(started, verified);
  const rpoSeconds = d.dataRpoSeconds;
  const rtoMet = rtoSeconds <= d.targets.rtoSeconds;
  const rpoMet = rpoSeconds !== undefined && rpoSeconds <= d.targets.rpoSeconds;
  const checks = d.checksOutcome ?? (d.checksPassed ? 'passed' : 'failed');
  const warm = d.warmup ? warmMetrics(started, d.warmup, d.warmupError, d.warmTargetSeconds) : undefined;
  const warmMissed = warm?.targetSeconds !== undefined && warm.met === false;
  const reasons = [
    ...(checks === 'failed' ? ['verification checks failed'] : []),
    ...(rtoMet ? [] : [`RTO ${rtoSeconds} s exceeds the ${d.targets.rtoSeconds} s target`]),
    ...(rpoSeconds === undefined
      ? d.freshnessUnfinished
        ? []
        : ['RPO not measured: no table with a freshness column has rows']
      : rpoMet
        ? []
        : [`RPO ${rpoSeconds} s exceeds the ${d.targets.rpoSeconds} s target`]),
    ...(warmMissed
      ? [
          warm.rtoSeconds !== undefined
            ? `time-to-warm ${warm.rtoSeconds} s exceeds the ${warm.targetSeconds} s target`
            : `not warm after ${Math.round(warm.seconds + (Date.parse(warm.startedAt) - started) / 1000)} s, over the ${warm.targetSeconds} s time-to-warm target`,
        ]
      : []),
  ];
  const gaps = [
    ...(d.unfinishedChecks?.length
      ? [`not finished within their time bounds: ${d.unfinishedChecks.join(', ')}`]
      : checks === 'inconclusive'
        ? ['some checks did not finish within their time bounds']
        : []),
    ...(rpoSeconds === undefined && d.freshnessUnfinished
      ? ['RPO not measured: freshness not finished in time']
      : []),
    ...(warm?.targetSeconds !== undefined && warm.met === undefined
      ? [`time-to-warm not measured: warm-up ${warm.stopped ?? 'incomplete'} at ${warm.percent.toFixed(0)} %`]
      : []),
  ];
  const outcome: VerificationOutcome = reasons.length ? 'failed' : gaps.length ? 'inconclusive' : 'passed';
  return {
    startedAt: new Date(started).toISOString(),
    restoredAt: new Date(restored).toISOString(),
    verifiedAt: new Date(verified).toISOString(),
    referenceTime: new Date(reference).toISOString(),
    rtoSeconds,
    restoreSeconds: seconds(restoreStarted, restored),
    verifySeconds: seconds(verifyStarted, verified),
    ...(rpoSeconds === undefined ? {} : { rpoSeconds }),
    rtoTargetSeconds: d.targets.rtoSeconds,
    rpoTargetSeconds: d.targets.rpoSeconds,
    rtoMet,
    rpoMet,
    checksPassed: d.checksPassed,
    passed: outcome === 'passed',
    outcome,
    reasons,
    gaps,
    ...(warm ? { warm } : {}),
  };
};

/** The warm-up as the report shows it; `met` is undefined when there is no answer yet. */
export const warmMetrics = (
  drillStartMs: number,
  w: WarmupProgress,
  error?: string,
  targetSeconds?: number,
): WarmMetrics => {
  const start = Date.parse(w.startedAt);
  const end = w.finishedAt ? Date.parse(w.finishedAt) : start + w.readMs;
  const rtoSeconds = w.complete ? seconds(drillStartMs, end) : undefined;
  const elapsedSinceDrill = seconds(drillStartMs, end);
  const met =
    targetSeconds === undefined
      ? undefined
      : rtoSeconds !== undefined
        ? rtoSeconds <= targetSeconds
        : elapsedSinceDrill > targetSeconds
          ? false
          : undefined;
  const stopped = w.stopped
    ? `stopped (${w.stopped.reason}: ${w.stopped.detail})`
    : error
      ? `failed: ${error}`
      : undefined;
  return {
    startedAt: w.startedAt,
    ...(w.finishedAt ? { finishedAt: w.finishedAt } : {}),
    seconds: seconds(start, end),
    ...(rtoSeconds !== undefined ? { rtoSeconds } : {}),
    complete: w.complete,
    percent: Number(warmupPercent(w).toFixed(1)),
    readBytes: w.blocksRead * w.blockSize,
    totalBytes: w.blocksTotal * w.blockSize,
    relations: w.relations,
    chunks: w.chunks,
    ...(w.method ? { method: w.method } : {}),
    ...(stopped ? { stopped } : {}),
    ...(targetSeconds !== undefined ? { targetSeconds } : {}),
    ...(met !== undefined ? { met } : {}),
    notes: w.notes,
  };
};

/** `42.5 s`, or `1 h 02 min 05 s` for longer spans. */
export const formatDuration = (s: number): string => {
  if (s < 120) return `${Number(s.toFixed(1))} s`;
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h ? `${h} h ${pad(m)} min ${pad(sec)} s` : `${m} min ${pad(sec)} s`;
};

const show = (v: Measure): string =>
  v === null ? '-' : typeof v === 'number' ? String(Number(v.toFixed(3))) : String(v);

const MARK = { passed: '✓', failed: '✗', unfinished: '⧗' } as const;

const checkLine = (c: CheckResult): string => {
  const vs = c.expected === null ? show(c.measured) : `${show(c.measured)} (expected ${show(c.expected)})`;
  const status = c.status ?? (c.passed ? 'passed' : 'failed');
  const timing =
    c.budgetMs === undefined ? `${Math.round(c.ms)} ms` : `${Math.round(c.ms)} ms of ${formatMs(c.budgetMs)}`;
  return `  ${MARK[status]} ${c.name}: ${vs}; ${c.detail} [${timing}]`;
};

const formatMs = (ms: number) => (ms >= 1000 ? formatDuration(ms / 1000) : `${ms} ms`);

/** `0.17 instance-hours, ~$0.04 (estimate: db.t4g.micro at $0.016/h, ...)`. */
export const costLine = (c: DrillCost): string =>
  `${c.instanceHours} instance-hours, ` +
  (c.estimatedUsd === undefined
    ? 'cost unknown'
    : `${c.lowerBound ? 'at least ' : ''}~$${c.estimatedUsd.toFixed(2)} estimated`) +
  (c.instanceUsdPerHour !== undefined
    ? ` ($${c.instanceUsdPerHour}/h instance, storage $${c.breakdown.storageUsd.toFixed(2)})`
    : '') +
  (c.ceilingUsd !== undefined ? `; ceiling $${c.ceilingUsd}` : '') +
  `; ${c.priceSource}` +
  (c.notes.length ? `; ${c.notes.join('; ')}` : '');

const warmLine = (w: WarmMetrics): string => {
  const mark = w.met === undefined ? (w.complete ? '✓' : '–') : w.met ? '✓' : '✗';
  const target = w.targetSeconds === undefined ? 'no target' : `target ${formatDuration(w.targetSeconds)}`;
  const what =
    `warm-up ${formatDuration(w.seconds)}: ${formatBytes(w.readBytes)} of ${formatBytes(w.totalBytes)} in ` +
    `${w.relations} relations, ${w.chunks} chunk${w.chunks === 1 ? '' : 's'}${w.method ? `, ${w.method}` : ''}`;
  return w.rtoSeconds !== undefined
    ? `${mark} RTO to warm ${formatDuration(w.rtoSeconds)} (${target}; ${what})`
    : `${mark} RTO to warm not reached: ${w.percent.toFixed(0)} % read (${target}; ${what}${w.stopped ? `; ${w.stopped}` : ''})`;
};

const VERDICT = { passed: 'PASSED', failed: 'FAILED', inconclusive: 'INCONCLUSIVE' } as const;

/** A readable multi-line report of one drill: what was restored, how long it took, every check, the verdict. */
export const renderDrillReport = (r: DrillReport): string => {
  const m = r.metrics;
  const v = r.verification;
  const outcome = m.outcome ?? (m.passed ? 'passed' : 'failed');
  const mark = (ok: boolean) => (ok ? '✓' : '✗');
  const failed = v.checks.filter((c) => (c.status ?? (c.passed ? 'passed' : 'failed')) === 'failed');
  const unfinishedChecks = v.checks.filter((c) => c.status === 'unfinished');
  const estimated = v.checks.filter((c) => c.kind === 'row-count' && c.method && c.method !== 'exact');
  const passedCount = v.checks.length - failed.length - unfinishedChecks.length;
  return [
    `DR drill ${VERDICT[outcome]}: ${r.database}`,
    `Snapshot:  ${r.snapshotId} (reference time ${m.referenceTime})`,
    ...(r.restoredInstance ? [`Instance:  ${r.restoredInstance}`] : []),
    ...(r.shape ? [`Shape:     ${describeShape(r.shape)}`] : []),
    `Verified:  database ${v.database} on ${v.host}:${v.port} as ${v.user}`,
    `Started:   ${m.startedAt}`,
    `Restored:  ${m.restoredAt} (restore ${formatDuration(m.restoreSeconds)})`,
    `Finished:  ${m.verifiedAt} (verify ${formatDuration(m.verifySeconds)}${v.budgetMs ? ` of a ${formatMs(v.budgetMs)} budget` : ''})`,
    `${mark(m.rtoMet)} RTO to first verified query ${formatDuration(m.rtoSeconds)} (target ${formatDuration(m.rtoTargetSeconds)})`,
    ...(m.warm ? [warmLine(m.warm)] : []),
    `${mark(m.rpoMet)} RPO ${m.rpoSeconds === undefined ? 'not measured' : formatDuration(m.rpoSeconds)} (target ${formatDuration(m.rpoTargetSeconds)})` +
      (v.newestRowTime ? `, newest row ${v.newestRowTime}` : ''),
    ...(r.cost ? [`Cost:      ${costLine(r.cost)}`] : []),
    `Checks: ${passedCount}/${v.checks.length} passed` +
      (unfinishedChecks.length ? `, ${unfinishedChecks.length} not finished` : '') +
      (estimated.length
        ? `; ${estimated.length} row count${estimated.length === 1 ? '' : 's'} estimated`
        : ''),
    ...v.checks.map(checkLine),
    outcome === 'passed'
      ? 'Verdict: PASSED'
      : outcome === 'inconclusive'
        ? `Verdict: INCONCLUSIVE (nothing failed, evidence missing): ${m.gaps.join('; ')}`
        : `Verdict: FAILED: ${m.reasons.join('; ')}`,
    ...(failed.length ? [`Failed checks: ${failed.map((c) => c.name).join(', ')}`] : []),
  ].join('\n');
};
