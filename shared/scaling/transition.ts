import { errorMessage } from '../errors.js';
import type { Outcome } from '../model.js';
import type { RunReports } from '../notify/run-report.js';
import { logger } from '../observability.js';
import type { BaseDeps } from '../runtime.js';
import { confirmSustained, describeFor, guardEvent, type GuardOptions, needsComparison } from './guard.js';
import { changesResource, describeChange } from './change.js';
import { approvalId, seenKey } from './ids.js';
import type { ApprovalTarget } from './message.js';
import type {
  Approval,
  DecisionRecord,
  NamedRule,
  PlannedChange,
  ResourceWait,
  ScalingDecision,
  ScalingResource,
  SkipReason,
} from './model.js';
import type { AlarmDescriber, ScalingResources, ScalingStore } from './ports.js';
import type { RuleEvent, ScalingRequest } from './alarm-event.js';
import { once } from '../once.js';

// Modules loaded on first use, once per container (shared/once.ts: `import()` resolves again at each call).
const loadActing = /* @__PURE__ */ once(() => import('./acting.js'));

// One alarm transition through its rule: what every trigger that decides shares (an alarm, a playbook run,
// the scale-in check, an approval). The planner and the change (acting.ts: engine.ts, act.ts) are imported,
// together, only when the guards let the transition through: a duplicate, stale, suppressed or cooling-down
// alarm never loads them. The other triggers' own code (approve.ts, scale-in.ts, events.ts) is imported by
// service.ts when they come.

/** Capability name: log service, notification speaker, metric dimension. */
export const CAPABILITY = 'scaling';

/** Everything a scaling run needs; the Lambda and the CLI wire the same shape. */
export interface ScalingDeps extends BaseDeps {
  resources: ScalingResources;
  state: ScalingStore;
  /** Describes an alarm when the event does not say which side of its band it breached. */
  alarms?: AlarmDescriber;
  /** Where a run that summarises many decisions keeps its full report (runs/scaling/); without it, none. */
  reports?: RunReports;
  /** A spoke's run (a forwarded alarm): its target, which an approval's payload names. */
  target?: ApprovalTarget;
}

/** What one invocation decided and did. */
export interface ScalingResult {
  action: ScalingRequest['action'];
  /** The request asked for a dry run (nothing read-write was touched), or the stage forces one. */
  dryRun: boolean;
  summary: string;
  decisions: DecisionRecord[];
  outcomes: Outcome[];
}

/** Skips that are bookkeeping, not news: logged and counted, never notified. */
// Suppressed and muted: CloudWatch holds the alarm's actions on purpose, so steward does not page either.
// A breach on the side a rule does not answer (below an anomaly band) is not news for scaling.
const QUIET: readonly SkipReason[] = [
  'duplicate',
  'ignored-state',
  'not-sustained',
  'suppressed',
  'muted',
  'wrong-side',
];

export const HOUR = 3600;

/**
 * States AWS puts a resource in by itself for a while and leaves by itself: the daily backup (RDS and Aurora
 * `backing-up`, ElastiCache `snapshotting`). The scale-in check finds a step back waiting on one at every run
 * of the backup window; that wait is logged and counted (`transient-state`, naming the state and how long it
 * has lasted), and told once it outlasts TELL_WAIT_AFTER_MS: a backup stuck that long is news.
 */
const TRANSIENT: readonly string[] = ['backing-up', 'snapshotting'];
export const TELL_WAIT_AFTER_MS = 60 * 60_000;
/** Checks that saw the state further apart than this (the schedule runs every 15 min) saw two waits. */
const SAME_WAIT_GAP_MS = 2 * 60 * 60_000;

const minutesOf = (ms: number) => Math.floor(ms / 60_000);

/**
 * The scale-in check's step back refused on a transient state: a quiet `transient-state` skip while the wait
 * is younger than its bound or was told already, `not-available` (told) at the check that finds it past the
 * bound. The wait is noted on the alarm's state (one update per check while it lasts); a note that cannot be
 * written is a warning, and the wait starts again at the next check.
 */
const waitOn = async (
  deps: ScalingDeps,
  item: RuleEvent,
  state: string,
  now: Date,
  o: RunOptions,
): Promise<ScalingDecision> => {
  const { rule } = item;
  const { since, lasted, tell, told } = await noteWait(deps, item, state, now, o, TELL_WAIT_AFTER_MS);
  const bound = minutesOf(TELL_WAIT_AFTER_MS);
  if (tell)
    return {
      verdict: 'skip',
      reason: 'not-available',
      detail: `${rule.resource} has been ${state} for ${minutesOf(lasted)} min (since ${since.toISOString()}), past the ${bound} min a backup is given: the step back waits until it is available`,
    };
  return {
    verdict: 'skip',
    reason: 'transient-state',
    detail: `${rule.resource} is ${state} (${minutesOf(lasted)} min so far, since ${since.toISOString()}): the step back waits for it${
      told ? `; told at ${told.toISOString()}` : `, told if it lasts ${bound} min`
    }`,
  };
};
/**
 * The wait this check continues (the same state, seen by a check at most SAME_WAIT_GAP_MS ago) or starts, noted
 * on the alarm's state, and whether this check tells it (it has lasted `tellAfterMs` and was not told yet).
 */
const noteWait = async (
  deps: ScalingDeps,
  item: RuleEvent,
  state: string,
  now: Date,
  o: RunOptions,
  tellAfterMs: number,
): Promise<{ since: Date; lasted: number; tell: boolean; told?: Date }> => {
  const { event } = item;
  const prior =
    item.wait?.state === state && now.getTime() - item.wait.seen.getTime() <= SAME_WAIT_GAP_MS
      ? item.wait
      : undefined;
  const since = prior?.since ?? now;
  const lasted = now.getTime() - since.getTime();
  const tell = lasted >= tellAfterMs && !prior?.told;
  const told = tell ? now : prior?.told;
  const wait: ResourceWait = { state, since, seen: now, ...(told ? { told } : {}) };
  if (!o.readOnly) {
    await deps.state.noteWait(event.alarmName, event.at, wait).catch((e: unknown) =>
      logger.warn('could not note the wait on a transient state; it starts again at the next check', {
        alarm: event.alarmName,
        error: errorMessage(e),
      }),
    );
  }
  return { since, lasted, tell, ...(told ? { told } : {}) };
};

/**
 * Refusals a scale-in check finds again at every check while nothing changes: the rule's resource is missing
 * (deleted, renamed), its class is off the rule's ladder (moved by hand), the action cannot act on it (a
 * cluster-mode-disabled group, another kind of resource), or it is in a state that is no backup (`stopped`, for
 * up to 7 days; `modifying` by hand).
 */
const STANDING: readonly SkipReason[] = ['not-found', 'not-on-ladder', 'unsupported', 'not-available'];

/**
 * The scale-in check's step back refused for a STANDING reason: told at the first check that finds it, then a
 * quiet `already-told` while every check finds the same refusal (noted on the alarm's state as a wait on it),
 * told again when it changes (another class). The check runs every 15 minutes and the alarm may stay OK (a
 * healthy database; or missing data treated as not breaching after a delete): without this, one warning became
 * 96 a day, for as long as the rule and the resource disagree.
 */
const standing = async (
  deps: ScalingDeps,
  item: RuleEvent,
  refused: Extract<ScalingDecision, { verdict: 'skip' }>,
  now: Date,
  o: RunOptions,
): Promise<ScalingDecision> => {
  const { since, tell, told } = await noteWait(deps, item, `${refused.reason}: ${refused.detail}`, now, o, 0);
  const rule = `scaling.rules.${item.rule.name}`;
  const fix =
    refused.reason === 'not-found'
      ? `fix or remove ${rule}`
      : refused.reason === 'not-available'
        ? 'the step back waits until it is available'
        : `fix ${rule} or ${item.rule.resource}`;
  if (tell)
    return {
      ...refused,
      detail: `${refused.detail}: ${fix} (told once; the scale-in check says no more while this stays so)`,
    };
  return {
    verdict: 'skip',
    reason: 'already-told',
    detail: `${refused.reason}: ${refused.detail} (since ${since.toISOString()}${told ? `, told at ${told.toISOString()}` : ''}): ${fix}`,
  };
};

// The alarm-state marker outlives any sustained-OK period (at most a week) with room to spare.
export const ALARM_STATE_TTL = 30 * 24 * HOUR;

export interface RunOptions {
  /** The request is a dry run: read only, no state written, nothing changed. */
  readOnly: boolean;
}

export const record = (
  rule: NamedRule,
  alarmName: string,
  at: Date | string,
  decision: ScalingDecision,
  status: DecisionRecord['status'],
  extra: Partial<DecisionRecord> = {},
): DecisionRecord => ({
  rule: rule.name,
  alarmName,
  resource: rule.resource,
  action: rule.action.type,
  mode: rule.mode,
  severity: rule.severity,
  at: typeof at === 'string' ? at : at.toISOString(),
  decision,
  status,
  ...extra,
});

/**
 * A failed record that keeps the error it failed with, not enumerable (reports and logs stay plain JSON), so the
 * run's PartialFailureError carries it as its cause: the CLI tells a table that is not there (a stage not deployed)
 * by it, as it does for any other command.
 */
export const keepCause = (rec: DecisionRecord, e: unknown): DecisionRecord =>
  Object.defineProperty(rec, 'cause', { value: e, enumerable: false });

export const failedDecision = (detail: string): ScalingDecision => ({
  verdict: 'skip',
  reason: 'unsupported',
  detail,
});

/**
 * Remember a decision that is news before it is announced, so a retry whose notification failed announces
 * it instead of acting again. After the action this only records: a failure is a warning, never a failed
 * action (the change is made and the resource claim, written first, holds its cooldown).
 */
const note = async (deps: ScalingDeps, key: string, rec: DecisionRecord): Promise<DecisionRecord> => {
  if (!notifiable(rec)) return rec;
  try {
    await deps.state.recordOutcome(key, rec);
    return { ...rec, eventKey: key };
  } catch (e) {
    logger.warn('could not record the decision; a retry after a failed notification will stay quiet', {
      key,
      error: errorMessage(e),
    });
    return { ...rec, warning: `the outcome could not be recorded: ${errorMessage(e)}` };
  }
};

/**
 * A dry run planned a change: remember it with the cooldown a live stage would have started, so the next
 * transitions inside it are told as that cooldown, not planned again (the plan is news once per cooldown).
 * Apart from the live cooldown (ports.ts, recordPlanned). A write that fails is a warning: the plan stands, and
 * the next transition may plan it again.
 */
const rememberPlan = async (
  deps: ScalingDeps,
  rule: NamedRule,
  alarmName: string,
  change: PlannedChange,
  now: Date,
): Promise<string | undefined> => {
  if (!changesResource(change)) return undefined;
  const until = new Date(now.getTime() + rule.cooldownMinutes * 60_000);
  try {
    await deps.state.recordPlanned(rule.kind, rule.resource, {
      at: now,
      until,
      rule: rule.name,
      alarmName,
      change: describeChange(change),
    });
    return undefined;
  } catch (e) {
    logger.warn('could not remember the dry run’s plan; the next transition may plan it again', {
      resource: rule.resource,
      error: errorMessage(e),
    });
    return `the plan could not be remembered (its cooldown): ${errorMessage(e)}`;
  }
};

/**
 * One alarm transition through its rule: remember, guard, observe, decide (pure), then act, ask for approval
 * or only plan, as the rule's mode and the dry-run flags say. Never throws: a failure is a `failed` record.
 */
export const handleEvent = async (
  item: RuleEvent,
  deps: ScalingDeps,
  o: RunOptions,
): Promise<DecisionRecord> => {
  const { event, rule } = item;
  const now = deps.now();
  const sweep = event.source === 'scale-in-check';
  const key = seenKey(event.alarmName, event.at, sweep ? 'in' : 'out');
  let claimed = false;
  let decision: ScalingDecision | undefined;
  try {
    const scaling = deps.config.scaling;
    // Scale-in waits for a sustained OK: remember each live transition of the rule's alarm.
    if (!o.readOnly && !sweep && rule.scaleIn.enabled && event.state !== 'INSUFFICIENT_DATA') {
      await deps.state.setAlarmState(event.alarmName, event.state, event.at, ALARM_STATE_TTL);
    }
    // A dry-run stage or rule plans what a live one would do, its plans' cooldowns included: it reads its own
    // plan on the resource (kept apart: a live decision never reads it, so a dry run never holds one back).
    const dry = deps.dryRun || rule.mode === 'dryRun';
    const memory = await deps.state.memory(
      key,
      rule.kind,
      rule.resource,
      ...(dry ? [{ planned: true }] : []),
    );
    // An earlier attempt decided (and maybe changed the resource) but could not tell: tell now, act never.
    if (memory.unannounced && !o.readOnly) return { ...memory.unannounced, eventKey: key, replayed: true };
    const guard: GuardOptions = { staleAfterMs: scaling.staleAfterMinutes * 60_000 };
    // Which side of its band the alarm breached is in the event or its comparison; else describe it (cached).
    if (!memory.seen && needsComparison(event, rule) && deps.alarms) {
      const comparison = await deps.alarms.comparison(event.alarmName);
      if (comparison) guard.comparison = comparison;
    }
    let guarded = guardEvent(event, rule, memory, now, guard);
    // The scale-in check steps back only on an OK that CloudWatch confirms now (scale-in.ts asked for it).
    if (sweep && 'direction' in guarded && (item.live !== undefined || deps.alarms?.states)) {
      const unconfirmed = confirmSustained(event, rule, item.live, now);
      if (unconfirmed) guarded = { skip: unconfirmed };
    }
    let resource: ScalingResource | undefined;
    if (!('skip' in guarded) && rule.action.type !== 'notify') {
      resource = await deps.resources.describe(rule.kind, rule.resource, describeFor(rule));
    }
    // What guardEvent let through is planned (engine.ts, decideScaling), against the resource as described.
    decision =
      'skip' in guarded ? guarded.skip : (await loadActing()).planChange(guarded.direction, rule, resource);
    if (
      sweep &&
      resource &&
      !('skip' in guarded) &&
      decision.verdict === 'skip' &&
      decision.reason === 'not-available' &&
      TRANSIENT.includes(resource.status)
    ) {
      // A step back that would not be taken once the backup ends (at its floor) is not waiting on it.
      const after = (await loadActing()).planChange(guarded.direction, rule, {
        ...resource,
        status: 'available',
      });
      decision = after.verdict === 'skip' ? after : await waitOn(deps, item, resource.status, now, o);
    }
    // (A wait on a backup was decided above: waitOn tells it once it outlasts its bound.)
    if (
      sweep &&
      !('skip' in guarded) &&
      decision.verdict === 'skip' &&
      STANDING.includes(decision.reason) &&
      !(resource && TRANSIENT.includes(resource.status))
    )
      decision = await standing(deps, item, decision, now, o);

    const claim = async (): Promise<boolean> => {
      if (o.readOnly) return true;
      claimed = await deps.state.claim(key, scaling.dedupTtlHours * HOUR, {
        rule: rule.name,
        alarmName: event.alarmName,
        state: event.state,
        verdict: decision!.verdict === 'act' ? 'act' : `skip:${decision!.reason}`,
      });
      return claimed;
    };
    const duplicate = (): DecisionRecord =>
      record(
        rule,
        event.alarmName,
        event.at,
        {
          verdict: 'skip',
          reason: 'duplicate',
          detail: 'another delivery of this transition was handled first',
        },
        'skipped',
      );
    const done = (rec: DecisionRecord) => (claimed ? note(deps, key, rec) : rec);

    if (decision.verdict === 'skip') {
      // The scale-in check re-reads its alarms every run: its skips are not events to remember.
      if (decision.reason !== 'duplicate' && !sweep && !(await claim())) return duplicate();
      return done(record(rule, event.alarmName, event.at, decision, 'skipped'));
    }
    if (!(await claim())) return duplicate();
    // A scale-in step (done, planned or asked for) restarts the sustained-OK clock: one step per period.
    const restartSustain = async () => {
      if (sweep && !o.readOnly) await deps.state.setAlarmState(event.alarmName, 'OK', now, ALARM_STATE_TTL);
    };

    if (o.readOnly || dry) {
      if (o.readOnly) return done(record(rule, event.alarmName, event.at, decision, 'planned'));
      await restartSustain();
      const warning = await rememberPlan(deps, rule, event.alarmName, decision.change, now);
      return done(record(rule, event.alarmName, event.at, decision, 'planned', warning ? { warning } : {}));
    }
    if (rule.mode === 'approve' && decision.change.type !== 'notify') {
      const id = approvalId(rule.name, event.alarmName, event.at, decision.direction);
      const approval: Approval = {
        id,
        status: 'pending',
        rule: rule.name,
        alarmName: event.alarmName,
        at: event.at.toISOString(),
        direction: decision.direction,
        change: decision.change,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + scaling.approvalTtlHours * HOUR * 1000).toISOString(),
      };
      // Kept past its expiry for a week, so `steward approve` can say "expired" rather than "unknown".
      await deps.state.putApproval(approval, (scaling.approvalTtlHours + 7 * 24) * HOUR);
      await restartSustain();
      return done(
        record(rule, event.alarmName, event.at, decision, 'approval-requested', { approvalId: id }),
      );
    }
    const { apply } = await loadActing();
    const r = await apply(deps, rule, decision.change, event.at, event.alarmName, key);
    if ('held' in r) {
      decision = r.held;
      return done(record(rule, event.alarmName, event.at, r.held, 'skipped'));
    }
    // The change is made: nothing after this may turn it into a failure or give the claims back.
    claimed = false;
    await restartSustain().catch((e: unknown) =>
      logger.warn('could not restart the sustained-OK clock', {
        alarm: event.alarmName,
        error: errorMessage(e),
      }),
    );
    return note(deps, key, record(rule, event.alarmName, event.at, decision, r.result));
  } catch (e) {
    // Forget the event, so Lambda's retry decides again (against the resource as it is then).
    if (claimed) {
      await deps.state.release(key).catch((r: unknown) =>
        logger.error('could not release the event key; a retry will see a duplicate', {
          key,
          error: errorMessage(r),
        }),
      );
    }
    return keepCause(
      record(
        rule,
        event.alarmName,
        event.at,
        decision ?? failedDecision('failed before deciding'),
        'failed',
        {
          error: errorMessage(e),
        },
      ),
      e,
    );
  }
};

export const notifiable = (d: DecisionRecord): boolean =>
  !(d.status === 'skipped' && d.decision.verdict === 'skip' && QUIET.includes(d.decision.reason)) &&
  !(d.status === 'already-done' && d.decision.verdict === 'skip');

export const empty = (req: ScalingRequest, summary: string, outcomes: Outcome[] = []): ScalingResult => ({
  action: req.action,
  dryRun: req.dryRun,
  summary,
  decisions: [],
  outcomes,
});
