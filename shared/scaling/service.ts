import { echo, errorMessage, EventShapeError } from '../errors.js';
import type { Outcome } from '../model.js';
import { sendReported } from '../notify/notifier.js';
import { reportRun, type RunReports } from '../notify/run-report.js';
import { addCount, logger, metrics, MetricUnit } from '../observability.js';
import { tally, throwIfFailed } from '../outcomes.js';
import type { BaseDeps } from '../runtime.js';
import {
  changesResource,
  checkApproval,
  decideScaling,
  describeChange,
  type GuardOptions,
  guardEvent,
  needsComparison,
} from './engine.js';
import { approvalId, approvalKey, seenKey } from './ids.js';
import type {
  Approval,
  DecisionRecord,
  NamedRule,
  PlannedChange,
  ScalingDecision,
  ScalingResource,
  SkipReason,
} from './model.js';
import type {
  AlarmDescriber,
  ResourceClaim,
  ResourceHolder,
  ScalingResources,
  ScalingStore,
} from './ports.js';
import {
  type ApprovalTarget,
  count,
  decisionMessage,
  SEPARATE_MAX,
  subjectOf,
  summaryMessage,
} from './message.js';
import { namedRules, type RuleEvent, type ScalingRequest } from './request.js';

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

const HOUR = 3600;
// The alarm-state marker outlives any sustained-OK period (at most a week) with room to spare.
const ALARM_STATE_TTL = 30 * 24 * HOUR;

interface RunOptions {
  /** The request is a dry run: read only, no state written, nothing changed. */
  readOnly: boolean;
}

const record = (
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

const failedDecision = (detail: string): ScalingDecision => ({
  verdict: 'skip',
  reason: 'unsupported',
  detail,
});

/**
 * Act: claim the resource first (the claim is the cooldown, atomic across rules and runs), then change it.
 * A failed change gives the claim back. Undefined when another rule or run holds the resource.
 */
const apply = async (
  deps: ScalingDeps,
  rule: NamedRule,
  change: PlannedChange,
  at: Date,
  alarmName: string,
  eventKey: string,
): Promise<{ result: 'done' | 'already-done' } | { held: ScalingDecision }> => {
  let claim: ResourceClaim | undefined;
  if (changesResource(change)) {
    const until = new Date(deps.now().getTime() + rule.cooldownMinutes * 60_000);
    const c = await deps.state.claimResource(rule.kind, rule.resource, {
      at,
      until,
      rule: rule.name,
      alarmName,
      eventKey,
    });
    if (!c.ok) return { held: heldBy(rule, c.holder, deps.now()) };
    claim = c.claim;
  }
  try {
    return { result: await deps.resources.apply(change) };
  } catch (e) {
    if (claim) {
      await deps.state.releaseResource(claim).catch((r: unknown) =>
        logger.error('could not release the resource claim; its cooldown runs out on its own', {
          resource: rule.resource,
          error: errorMessage(r),
        }),
      );
    }
    throw e;
  }
};

/** The skip when the claim was refused: another rule or run changed (or is changing) the resource. */
const heldBy = (rule: NamedRule, h: ResourceHolder, now: Date): ScalingDecision => {
  const by = h.rule ? ` by rule ${h.rule}${h.alarmName ? ` (alarm ${h.alarmName})` : ''}` : '';
  if (h.until && h.until.getTime() > now.getTime())
    return {
      verdict: 'skip',
      reason: 'cooldown',
      detail: `${rule.resource} was just claimed${by}: cooldown until ${h.until.toISOString()}`,
    };
  return {
    verdict: 'skip',
    reason: 'out-of-order',
    detail: `${rule.resource} was acted on${by} for a newer transition (${h.lastActedAt?.toISOString() ?? '?'})`,
  };
};

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
 * One alarm transition through its rule: remember, guard, observe, decide (pure), then act, ask for approval
 * or only plan, as the rule's mode and the dry-run flags say. Never throws: a failure is a `failed` record.
 */
const handleEvent = async (item: RuleEvent, deps: ScalingDeps, o: RunOptions): Promise<DecisionRecord> => {
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
    const memory = await deps.state.memory(key, rule.kind, rule.resource);
    // An earlier attempt decided (and maybe changed the resource) but could not tell: tell now, act never.
    if (memory.unannounced && !o.readOnly) return { ...memory.unannounced, eventKey: key, replayed: true };
    const guard: GuardOptions = { staleAfterMs: scaling.staleAfterMinutes * 60_000 };
    // Which side of its band the alarm breached is in the event or its comparison; else describe it (cached).
    if (!memory.seen && needsComparison(event, rule) && deps.alarms) {
      const comparison = await deps.alarms.comparison(event.alarmName);
      if (comparison) guard.comparison = comparison;
    }
    const guarded = guardEvent(event, rule, memory, now, guard);
    let resource: ScalingResource | undefined;
    if (!('skip' in guarded) && rule.action.type !== 'notify') {
      resource = await deps.resources.describe(rule.kind, rule.resource);
    }
    decision = decideScaling(event, rule, resource, memory, now, guard);

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

    if (o.readOnly || deps.dryRun || rule.mode === 'dryRun') {
      if (!o.readOnly) await restartSustain();
      return done(record(rule, event.alarmName, event.at, decision, 'planned'));
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
    return record(
      rule,
      event.alarmName,
      event.at,
      decision ?? failedDecision('failed before deciding'),
      'failed',
      {
        error: errorMessage(e),
      },
    );
  }
};

/**
 * Execute an approved change once: re-check it against the resource now, claim the approval (pending →
 * executing) and the resource, act, then executing → executed. A failed action puts the approval back to
 * pending (with its error), so it can be approved again once the cause is fixed.
 */
const executeApproval = async (id: string, deps: ScalingDeps, o: RunOptions): Promise<DecisionRecord[]> => {
  const approval = await deps.state.getApproval(id);
  if (!approval)
    throw new EventShapeError(`No approval ${echo(id)}`, [
      `id: no approval with this id (approvals are deleted a week after they expire)`,
    ]);
  const now = deps.now();
  const rule = namedRules(deps.config.scaling).find((r) => r.name === approval.rule);
  const stand: NamedRule = rule ?? {
    name: approval.rule,
    alarm: { name: approval.alarmName },
    resource: 'unknown',
    kind: 'rds-instance',
    action: { type: 'notify' },
    mode: 'approve',
    severity: 'warning',
    cooldownMinutes: 0,
    scaleIn: { enabled: false, afterOkMinutes: 60 },
  };
  const rec = (d: ScalingDecision, status: DecisionRecord['status'], extra: Partial<DecisionRecord> = {}) =>
    record(stand, approval.alarmName, approval.at, d, status, { approvalId: id, mode: 'approve', ...extra });
  if (approval.status === 'executed') {
    const detail = `approval ${id} was executed at ${approval.executedAt ?? '?'} (${approval.result ?? 'no result recorded'})`;
    return [rec({ verdict: 'skip', reason: 'duplicate', detail }, 'already-done')];
  }
  let decision: ScalingDecision | undefined;
  let claimed = false;
  try {
    let resource: ScalingResource | undefined;
    let cooldownUntil: Date | undefined;
    if (rule && rule.action.type !== 'notify') {
      const [memory, described] = await Promise.all([
        deps.state.memory(seenKey(approval.alarmName, new Date(approval.at)), rule.kind, rule.resource),
        deps.resources.describe(rule.kind, rule.resource),
      ]);
      resource = described;
      cooldownUntil = memory.cooldownUntil;
    }
    decision = checkApproval(approval, rule, resource, cooldownUntil ? { cooldownUntil } : {}, now);
    if (decision.verdict === 'skip') return [rec(decision, 'skipped')];
    if (o.readOnly || deps.dryRun) return [rec(decision, 'planned')];
    claimed = await deps.state.claimApproval(id, now);
    if (!claimed)
      return [
        rec(
          {
            verdict: 'skip',
            reason: 'duplicate',
            detail: `approval ${id} is being executed (or was) by another request`,
          },
          'already-done',
        ),
      ];
    const r = await apply(
      deps,
      rule!,
      decision.change,
      new Date(approval.at),
      approval.alarmName,
      approvalKey(id),
    );
    if ('held' in r) {
      await deps.state.releaseApproval(id, `not executed: ${r.held.verdict === 'skip' ? r.held.detail : ''}`);
      return [rec(r.held, 'skipped')];
    }
    claimed = false;
    await deps.state
      .completeApproval(id, now, r.result)
      .catch((e: unknown) =>
        logger.warn('could not mark the approval executed', { id, error: errorMessage(e) }),
      );
    return [rec(decision, r.result)];
  } catch (e) {
    if (claimed) {
      await deps.state
        .releaseApproval(id, errorMessage(e))
        .catch((r: unknown) =>
          logger.error('could not put the approval back to pending', { id, error: errorMessage(r) }),
        );
    }
    return [rec(decision ?? failedDecision('failed before deciding'), 'failed', { error: errorMessage(e) })];
  }
};

/** Scale in where a rule's alarm has stayed OK for its `afterOkMinutes`. */
const scaleInCheck = async (deps: ScalingDeps, o: RunOptions): Promise<DecisionRecord[]> => {
  const out: DecisionRecord[] = [];
  for (const rule of namedRules(deps.config.scaling)) {
    if (!rule.scaleIn.enabled || !('name' in rule.alarm)) continue;
    const alarmName = rule.alarm.name;
    try {
      const st = await deps.state.alarmState(alarmName);
      if (st?.state !== 'OK') continue;
      out.push(
        await handleEvent(
          { rule, event: { alarmName, state: 'OK', at: st.since, source: 'scale-in-check' } },
          deps,
          o,
        ),
      );
    } catch (e) {
      out.push(
        record(rule, alarmName, deps.now(), failedDecision('could not read the alarm state'), 'failed', {
          error: errorMessage(e),
        }),
      );
    }
  }
  return out;
};

/**
 * A skip that says nothing about its target: bookkeeping (QUIET, an already-done repeat), or what a scale-in
 * check finds in every run while nothing changes, a resource already at its floor (`at-min`). Not told, and
 * counted in the fleet's total only: a check every 15 minutes over resources at rest would otherwise notify
 * each of them every 15 minutes and feed a per-target metric series every hour.
 */
const resting = (req: ScalingRequest, d: DecisionRecord): boolean =>
  !notifiable(d) ||
  (req.action === 'scale-in-check' && d.decision.verdict === 'skip' && d.decision.reason === 'at-min');

const notifiable = (d: DecisionRecord): boolean =>
  !(d.status === 'skipped' && d.decision.verdict === 'skip' && QUIET.includes(d.decision.reason)) &&
  !(d.status === 'already-done' && d.decision.verdict === 'skip');

const outcomeOf = (d: DecisionRecord): Outcome => {
  const base = { resource: d.resource, action: d.action };
  const change = d.decision.verdict === 'act' ? describeChange(d.decision.change) : '';
  switch (d.status) {
    case 'done':
    case 'already-done':
      return {
        ...base,
        status: d.status,
        detail: change || (d.decision.verdict === 'skip' ? d.decision.detail : ''),
      };
    case 'planned':
      return { ...base, status: 'planned', detail: change };
    case 'approval-requested':
      return { ...base, status: 'planned', detail: `awaiting approval ${d.approvalId}: ${change}` };
    case 'skipped':
      return {
        ...base,
        status: 'skipped',
        reason: d.decision.verdict === 'skip' ? `${d.decision.reason}: ${d.decision.detail}` : 'skipped',
      };
    case 'failed':
      return { ...base, status: 'failed', error: d.error ?? 'failed' };
  }
};

const summarize = (req: ScalingRequest, ds: readonly DecisionRecord[]): string => {
  if (ds.length === 1) return subjectOf(ds[0]!);
  if (!ds.length)
    return req.action === 'scale-in-check'
      ? 'scale-in check: no alarm has stayed OK long enough'
      : 'nothing to do';
  return `${ds.length} decisions: ${count(ds, 'done')} acted, ${count(ds, 'already-done')} already done, ${count(ds, 'approval-requested')} awaiting approval, ${count(ds, 'planned')} planned, ${count(ds, 'skipped')} skipped, ${count(ds, 'failed')} failed`;
};

const empty = (req: ScalingRequest, summary: string, outcomes: Outcome[] = []): ScalingResult => ({
  action: req.action,
  dryRun: req.dryRun,
  summary,
  decisions: [],
  outcomes,
});

/**
 * Events that are not alarm transitions: a configured alarm's configuration changed, a database a rule names
 * failed over, or an event understood and ignored (logged with its reason).
 */
const runEvent = async (
  req: Extract<ScalingRequest, { action: 'alarm-config' | 'failover' | 'ignored' }>,
  deps: ScalingDeps,
): Promise<ScalingResult> => {
  switch (req.action) {
    case 'ignored': {
      logger.info('scaling event ignored', { reason: req.reason });
      metrics.addMetric('EventsIgnored', MetricUnit.Count, 1);
      return empty(req, `ignored: ${req.reason}`);
    }
    case 'alarm-config': {
      if (req.operation !== 'delete' || !req.rules.length) {
        const why = req.rules.length
          ? `${req.operation} of alarm ${req.alarmName} (rules ${req.rules.join(', ')}) is not a state change: nothing to do`
          : `alarm ${req.alarmName} is answered by no rule: not a state change steward acts on`;
        logger.info('scaling event ignored', { reason: why });
        return empty(req, `ignored: ${why}`);
      }
      // CloudWatch cannot rename an alarm: a rename is a delete (this) and a create under the new name.
      const subject = `alarm ${req.alarmName} was deleted: rule${req.rules.length > 1 ? 's' : ''} ${req.rules.join(', ')} can no longer fire`;
      const outcomes = await sendReported(deps.notifier, {
        severity: 'warning',
        capability: CAPABILITY,
        subject,
        lines: [
          `CloudWatch deleted alarm ${req.alarmName} (or renamed it: a rename is a delete and a create).`,
          `Scaling rule${req.rules.length > 1 ? 's' : ''} ${req.rules.join(', ')} answer${req.rules.length > 1 ? '' : 's'} it and will not act until it exists again.`,
          'Recreate the alarm, or point the rule at its new name in steward.<stage>.yaml (scaling.rules.<rule>.alarm).',
        ],
        data: { alarmName: req.alarmName, operation: req.operation, rules: req.rules },
      });
      logger.warn('alarm of a scaling rule deleted', { alarmName: req.alarmName, rules: req.rules });
      throwIfFailed('scaling alarm-config', outcomes);
      return empty(req, subject, outcomes);
    }
    case 'failover': {
      const kind = req.rules[0]!.kind;
      const cooldown = Math.max(...req.rules.map((r) => r.cooldownMinutes));
      const until = new Date(req.at.getTime() + cooldown * 60_000);
      const summary = `${req.resource} failed over (${req.eventId}) at ${req.at.toISOString()}: scaling cooldown restarts until ${until.toISOString()}`;
      if (req.dryRun || deps.dryRun) return empty(req, `[dry run] ${summary}`);
      const restarted = await deps.state.restartCooldown(
        kind,
        req.resource,
        until,
        `failover ${req.eventId} at ${req.at.toISOString()}`,
      );
      const said = restarted ? summary : `${summary} (a longer cooldown was already running)`;
      logger.info('scaling cooldown restarted by a failover', { resource: req.resource, until, restarted });
      return empty(req, said);
    }
  }
};

/**
 * The decisions a message told are announced, so a redelivery stays quiet. Not told (`failed` not empty):
 * the run fails, and Lambda's retry tells them (they were recorded before the message).
 */
const markAnnounced = async (deps: ScalingDeps, told: readonly DecisionRecord[], failed: Outcome[]) => {
  if (failed.length) return failed;
  for (const d of told) {
    if (!d.eventKey) continue;
    await deps.state
      .markAnnounced(d.eventKey)
      .catch((e: unknown) =>
        logger.warn('could not mark the decision announced', { key: d.eventKey, error: errorMessage(e) }),
      );
  }
  return failed;
};

/**
 * Tell the decisions that are news. A few (an alarm's run has one): one message each. More than
 * SEPARATE_MAX (a scale-in check over many databases): `reportRun`, the run's full report (every decision)
 * written to the report bucket first, then one bounded summary that links it. An approval request still
 * goes out on its own as well: each is one change a person approves by its id, and its message carries the
 * exact change and the command.
 */
const tell = async (
  req: ScalingRequest,
  decisions: readonly DecisionRecord[],
  deps: ScalingDeps,
): Promise<Outcome[]> => {
  const told = decisions.filter((d) => !resting(req, d));
  const alone = (d: DecisionRecord) => d.status === 'approval-requested';
  const separate = told.filter((d) => !alone(d)).length <= SEPARATE_MAX;
  const outcomes: Outcome[] = [];
  for (const d of separate ? told : told.filter(alone)) {
    const n = decisionMessage(d, deps.config.stage, deps.target);
    outcomes.push(...(await markAnnounced(deps, [d], await sendReported(deps.notifier, n))));
  }
  if (separate) return outcomes;
  const headline = summarize(req, decisions);
  const label = req.action === 'scale-in-check' ? 'scale-in check' : `scaling ${req.action}`;
  const run = await reportRun(
    deps,
    {
      capability: CAPABILITY,
      at: deps.now(),
      name: req.action,
      report: { action: req.action, dryRun: req.dryRun || deps.dryRun, summary: headline, decisions },
    },
    (report) => summaryMessage(label, headline, told, report),
  );
  outcomes.push(
    ...(await markAnnounced(
      deps,
      told.filter((d) => !alone(d)),
      run.outcomes,
    )),
  );
  return outcomes;
};

/**
 * Run one scaling request. Each alarm transition gets exactly one decision (acted, skipped with its reason,
 * planned, approval requested, or failed); every decision is logged and counted, and each one that is news is
 * notified at its rule's severity (failures: critical). Then PartialFailureError if any failed.
 */
export const runScaling = async (req: ScalingRequest, deps: ScalingDeps): Promise<ScalingResult> => {
  const o: RunOptions = { readOnly: req.dryRun };
  let decisions: DecisionRecord[];
  switch (req.action) {
    case 'alarms':
      decisions = [];
      // One at a time: two transitions of one resource must see each other's cooldown.
      for (const item of req.items) decisions.push(await handleEvent(item, deps, o));
      break;
    case 'approve':
      decisions = await executeApproval(req.id, deps, o);
      break;
    case 'scale-in-check':
      decisions = await scaleInCheck(deps, o);
      break;
    default:
      return runEvent(req, deps);
  }

  const outcomes = decisions.map(outcomeOf);
  for (const d of decisions) logger.info('scaling decision', { ...d });
  outcomes.push(...(await tell(req, decisions, deps)));

  // A replayed decision was counted when it was made.
  const fresh = decisions.filter((d) => !d.replayed);
  addCount('ScalingActions', count(fresh, 'done'));
  addCount('ScalingPlanned', count(fresh, 'planned'));
  addCount('ScalingApprovalsRequested', count(fresh, 'approval-requested'));
  // Every skip counts in the fleet's total; a target's own series only the skips that are news there,
  // not the resting state a scale-in check finds every run (below).
  addCount(
    'ScalingSkipped',
    count(fresh, 'skipped', 'already-done'),
    fresh.filter((d) => ['skipped', 'already-done'].includes(d.status) && !resting(req, d)).length,
  );
  addCount('ActionFailures', outcomes.filter((x) => x.status === 'failed').length);

  const summary = summarize(req, decisions);
  const dryRun = req.dryRun || deps.dryRun;
  logger.info('scaling run finished', { action: req.action, dryRun, summary, tally: tally(outcomes) });
  const result: ScalingResult = { action: req.action, dryRun, summary, decisions, outcomes };
  throwIfFailed(`scaling ${req.action}`, outcomes);
  return result;
};
