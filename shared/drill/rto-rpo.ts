import { EventShapeError } from '../errors.js';
import type { CheckResult, Measure } from './checks.js';
import type { VerificationReport } from './verify.js';

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
  targets: { rtoSeconds: number; rpoSeconds: number };
}

export interface DrillMetrics {
  startedAt: string;
  restoredAt: string;
  verifiedAt: string;
  referenceTime: string;
  /** Drill start → verification finished: how long a real recovery would take. */
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
  /** Why the drill failed; empty when it passed. */
  reasons: string[];
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
  const reasons = [
    ...(d.checksPassed ? [] : ['verification checks failed']),
    ...(rtoMet ? [] : [`RTO ${rtoSeconds} s exceeds the ${d.targets.rtoSeconds} s target`]),
    ...(rpoSeconds === undefined
      ? ['RPO not measured: no table with a freshness column has rows']
      : rpoMet
        ? []
        : [`RPO ${rpoSeconds} s exceeds the ${d.targets.rpoSeconds} s target`]),
  ];
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
    passed: reasons.length === 0,
    reasons,
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

const checkLine = (c: CheckResult): string => {
  const vs = c.expected === null ? show(c.measured) : `${show(c.measured)} (expected ${show(c.expected)})`;
  return `  ${c.passed ? '✓' : '✗'} ${c.name}: ${vs}; ${c.detail} [${Math.round(c.ms)} ms]`;
};

/** A readable multi-line report of one drill: what was restored, how long it took, every check, the verdict. */
export const renderDrillReport = (r: DrillReport): string => {
  const m = r.metrics;
  const v = r.verification;
  const mark = (ok: boolean) => (ok ? '✓' : '✗');
  const failed = v.checks.filter((c) => !c.passed);
  return [
    `DR drill ${m.passed ? 'PASSED' : 'FAILED'}: ${r.database}`,
    `Snapshot:  ${r.snapshotId} (reference time ${m.referenceTime})`,
    ...(r.restoredInstance ? [`Instance:  ${r.restoredInstance}`] : []),
    `Verified:  database ${v.database} on ${v.host}:${v.port} as ${v.user}`,
    `Started:   ${m.startedAt}`,
    `Restored:  ${m.restoredAt} (restore ${formatDuration(m.restoreSeconds)})`,
    `Finished:  ${m.verifiedAt} (verify ${formatDuration(m.verifySeconds)})`,
    `${mark(m.rtoMet)} RTO ${formatDuration(m.rtoSeconds)} (target ${formatDuration(m.rtoTargetSeconds)})`,
    `${mark(m.rpoMet)} RPO ${m.rpoSeconds === undefined ? 'not measured' : formatDuration(m.rpoSeconds)} (target ${formatDuration(m.rpoTargetSeconds)})` +
      (v.newestRowTime ? `, newest row ${v.newestRowTime}` : ''),
    `Checks: ${v.checks.length - failed.length}/${v.checks.length} passed`,
    ...v.checks.map(checkLine),
    m.passed ? 'Verdict: PASSED' : `Verdict: FAILED: ${m.reasons.join('; ')}`,
    ...(failed.length ? [`Failed checks: ${failed.map((c) => c.name).join(', ')}`] : []),
  ].join('\n');
};
