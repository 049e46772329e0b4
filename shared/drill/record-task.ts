import { failureOf, type Failure, PartialFailureError } from '../errors.js';
import { logger, metrics, MetricUnit } from '../observability.js';
import { reportUnavailable, type RunReportResult } from '../notify/run-report.js';
import type { BaseDeps } from '../runtime.js';
import { ceilingOf } from './ceiling.js';
import { CLEANUP_ALLOWANCE_SECONDS, drillCost } from './cost.js';
import { cacheTargetOf, janitorMaxAgeHours, volumeTargetOf } from './stage-drills.js';
import { sanitiseDrillId } from './ids.js';
import {
  baselineKey,
  drillConditionKey,
  drillNotification,
  drillReport,
  drillVerdict,
  reportKey,
} from './report.js';
import type { DrillInput, DrillState, DrillTaskEvent } from './state.js';
import { BASELINE_TYPE, compactTime, type DrillDeps, readBaseline } from './task-core.js';

// The `record` task: the verdict, its metrics, the report and the notification.

/**
 * A state good enough to report on, from whatever reached Record (possibly the raw input when
 * `start` failed). `targets` stays absent then: it is how the report tells that start failed.
 */
export const reportable = (
  raw: Record<string, unknown>,
  event: DrillTaskEvent,
  deps: BaseDeps,
): DrillState => {
  const s = raw as Partial<DrillState>;
  const database =
    typeof s.database === 'string' && s.database
      ? s.database
      : typeof raw.database === 'string'
        ? raw.database
        : 'unknown';
  const cfg = Object.hasOwn(deps.config.drill.targets, database)
    ? deps.config.drill.targets[database]
    : volumeTargetOf(deps.config, database)
      ? { kind: 'ebs' as const }
      : cacheTargetOf(deps.config, database)
        ? { kind: 'redis' as const }
        : undefined;
  const exec = event.execution;
  return {
    ...(raw as object),
    drillId: s.drillId ?? sanitiseDrillId(exec?.name ?? `${database}-${compactTime(deps.now())}`),
    startedAt: s.startedAt ?? (exec ? new Date(exec.startTime).toISOString() : deps.now().toISOString()),
    input: s.input ?? ({ database } as DrillInput),
    database,
    kind: s.kind ?? cfg?.kind ?? 'rds-instance',
  } as DrillState;
};

/** One metric with the Database dimension (a single-metric emitter, so the dimension stays on it). */
const emit = (
  database: string,
  name: string,
  unit: (typeof MetricUnit)[keyof typeof MetricUnit],
  value: number,
) => {
  const m = metrics.singleMetric();
  m.addDimension('Database', database);
  m.addMetric(name, unit, value);
};

/**
 * Instance-hours and estimated cost of the copy, from its shape and when it existed: until it is gone, as the
 * service bills, not until Cleanup started. A copy Cleanup deleted is counted to its deletion, taken as
 * CLEANUP_ALLOWANCE_SECONDS after the delete (as the cost ceiling projects it; Record runs before it is gone).
 * One not yet deleted (handed over while RDS still creates it, or Cleanup failed) is counted to now and marked a
 * lower bound: its own event or the janitor deletes it later.
 */
const costOf = (s: DrillState, config: BaseDeps['config'], now: Date): DrillState['cost'] => {
  if (!s.shape || !s.target) return undefined;
  const { ceilingUsd, prices } = ceilingOf(s, config);
  const c = s.cleanup;
  const pending = !c || c.status === 'handed-over';
  const until = pending
    ? now.toISOString()
    : c.status === 'deleted'
      ? new Date(Date.parse(c.at) + CLEANUP_ALLOWANCE_SECONDS * 1000).toISOString()
      : c.at;
  const cost = drillCost(
    s.shape,
    {
      requestedAt: s.target.requestedAt,
      ...(s.target.availableAt ? { availableAt: s.target.availableAt } : {}),
      until,
    },
    prices,
    ceilingUsd,
  );
  if (pending)
    return {
      ...cost,
      lowerBound: true,
      notes: [
        ...cost.notes,
        `a lower bound: counted to ${until}, the copy not yet deleted (its own event or the janitor deletes it)`,
      ],
    };
  if (c.status !== 'deleted') return cost;
  const minutes = Math.round(CLEANUP_ALLOWANCE_SECONDS / 60);
  return {
    ...cost,
    notes: [...cost.notes, `counted to the deletion, taken as ${minutes} min after the delete at ${c.at}`],
  };
};

/**
 * The baseline a passed drill leaves for the next one: its tables, with its drill id and data time. Unless the
 * stored one is of newer data (`kept`, saying whose): two drills of one database may overlap (a scheduled one and
 * an on-demand `steward drill`, a scheduler's retried start), or one may restore older data (`--snapshot`, a point
 * in time), and whichever records last would otherwise set the bar, lowering it to older data's counts. Each
 * drill compares against the baseline it read at its own select, so overlapping drills never see each other's.
 */
const nextBaseline = async (
  s: DrillState,
  deps: DrillDeps,
): Promise<{ baseline?: object; kept?: string }> => {
  const tables = s.verification!.tables;
  const referenceTime = s.source?.referenceTime;
  const stored = referenceTime ? await readBaseline(s.database, deps) : undefined;
  if (
    referenceTime &&
    stored?.referenceTime &&
    Date.parse(stored.referenceTime) > Date.parse(referenceTime)
  ) {
    const kept = `kept drill ${stored.drillId}'s baseline: its data (${stored.referenceTime}) is newer than this drill's (${referenceTime})`;
    logger.info('drill baseline kept', { drillId: s.drillId, database: s.database, kept });
    return { kept };
  }
  return {
    baseline: {
      type: BASELINE_TYPE,
      drillId: s.drillId,
      ...(referenceTime ? { referenceTime } : {}),
      tables,
    },
  };
};

export const record = async (raw: DrillState, deps: DrillDeps): Promise<DrillState> => {
  const cost = costOf(raw, deps.config, deps.now());
  const s: DrillState = { ...raw, ...(cost ? { cost } : {}) };
  const v = drillVerdict(s);
  emit(s.database, 'DrillPassed', MetricUnit.Count, v.passed ? 1 : 0);
  emit(s.database, 'DrillInconclusive', MetricUnit.Count, v.outcome === 'inconclusive' ? 1 : 0);
  if (v.metrics) {
    emit(s.database, 'DrillRtoSeconds', MetricUnit.Seconds, v.metrics.rtoSeconds);
    if (v.metrics.rpoSeconds !== undefined) {
      emit(s.database, 'DrillRpoSeconds', MetricUnit.Seconds, v.metrics.rpoSeconds);
    }
    if (v.metrics.warm?.rtoSeconds !== undefined) {
      emit(s.database, 'DrillWarmRtoSeconds', MetricUnit.Seconds, v.metrics.warm.rtoSeconds);
    }
  }
  if (cost) {
    emit(s.database, 'DrillInstanceHours', MetricUnit.Count, cost.instanceHours);
    if (cost.estimatedUsd !== undefined)
      emit(s.database, 'DrillCostUsd', MetricUnit.NoUnit, cost.estimatedUsd);
  }
  const key = reportKey(s.database, s.drillId, s.startedAt);
  const { baseline, kept } = v.passed && s.verification ? await nextBaseline(s, deps) : {};
  const next: DrillState = {
    ...s,
    ...(kept ? { baselineKept: kept } : {}),
    result: {
      passed: v.passed,
      outcome: v.outcome,
      ...(v.metrics ? { metrics: v.metrics } : {}),
      reportKey: key,
      ...(v.failedStep ? { failedStep: v.failedStep } : {}),
      summary: v.summary,
    },
  };
  const failures: Failure[] = [];
  // The report first, then the message that links it (as every run summary does).
  let report: RunReportResult;
  try {
    report = {
      status: 'written',
      link: await deps.reports.put(key, JSON.stringify(drillReport(next, deps.place), null, 2)),
    };
  } catch (e) {
    failures.push(failureOf(`report ${key}`, e));
    report = reportUnavailable(e);
  }
  // Only a passed drill sets the bar for the next one: a failed restore must not lower it.
  if (baseline) {
    try {
      await deps.reports.put(baselineKey(s.database), JSON.stringify(baseline));
    } catch (e) {
      failures.push(failureOf(`baseline ${baselineKey(s.database)}`, e));
    }
  }
  try {
    await deps.notifier.send(
      drillNotification(
        next,
        v,
        key,
        report,
        janitorMaxAgeHours(deps.config.drill),
        drillConditionKey(next, deps.config.drill.caches),
      ),
    );
  } catch (e) {
    failures.push(failureOf('drill notification', e));
  }
  logger.info('drill recorded', {
    drillId: s.drillId,
    database: s.database,
    passed: v.passed,
    failedStep: v.failedStep,
    outcome: v.outcome,
    rtoSeconds: v.metrics?.rtoSeconds,
    warmRtoSeconds: v.metrics?.warm?.rtoSeconds,
    rpoSeconds: v.metrics?.rpoSeconds,
    instanceHours: cost?.instanceHours,
    estimatedUsd: cost?.estimatedUsd,
    reportKey: key,
  });
  if (failures.length) throw new PartialFailureError(`Drill ${s.drillId} recorded incompletely`, failures);
  return next;
};
