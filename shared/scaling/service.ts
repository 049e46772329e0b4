import { errorMessage } from '../errors.js';
import type { Outcome } from '../model.js';
import { sendReported } from '../notify/notifier.js';
import { addCount, logger } from '../observability.js';
import { failedOutcome, tally, throwIfFailed } from '../outcomes.js';
import { describeChange } from './change.js';
import { count, decisionMessage, SEPARATE_MAX, subjectOf } from './message.js';
import type { DecisionRecord } from './model.js';
import type { ScalingRequest } from './alarm-event.js';
import {
  CAPABILITY,
  handleEvent,
  notifiable,
  type RunOptions,
  type ScalingDeps,
  type ScalingResult,
} from './transition.js';
import { once } from '../once.js';

// Modules loaded on first use, once per container (shared/once.ts: `import()` resolves again at each call).
const loadRunReport = /* @__PURE__ */ once(() => import('../notify/run-report.js'));
const loadSummaryMessage = /* @__PURE__ */ once(() => import('./summary-message.js'));
const loadApprove = /* @__PURE__ */ once(() => import('./approve.js'));
const loadScaleIn = /* @__PURE__ */ once(() => import('./scale-in.js'));
const loadEvents = /* @__PURE__ */ once(() => import('./events.js'));

export { CAPABILITY };
export type { ScalingDeps, ScalingResult };

// The run of one scaling request. An alarm's (the trigger that needs to be quick) loads transition.ts and
// what it runs; an approval, the scale-in check, a configuration change or a failover, and the full report of
// a run with many decisions, are imported when they come (their own chunks in the bundle).

/**
 * A skip that says nothing about its target: bookkeeping (QUIET, an already-done repeat), or what a scale-in
 * check finds in every run while nothing changes: a resource already at its floor (`at-min`), or one still
 * waiting on steward's own last change (its class change pending until the maintenance window, its cooldown).
 * Not told, and counted in the fleet's total only: a check every 15 minutes over resources at rest would
 * otherwise notify each of them every 15 minutes (for days, until a maintenance window) and feed a per-target
 * metric series every hour.
 */
// And one waiting on a backup (`transient-state`): told by transition.ts once it outlasts its bound; a refusal
// told at an earlier check (`already-told`: the resource missing, its class off the ladder), by transition.ts.
const WAITING: readonly string[] = [
  'at-min',
  'pending-modification',
  'cooldown',
  'transient-state',
  'already-told',
];
const resting = (req: ScalingRequest, d: DecisionRecord): boolean =>
  !notifiable(d) ||
  (req.action === 'scale-in-check' && d.decision.verdict === 'skip' && WAITING.includes(d.decision.reason));

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
      // The error itself, when the record kept it (not enumerable), for the run's PartialFailureError.
      return d.cause === undefined
        ? { ...base, status: 'failed', error: d.error ?? 'failed' }
        : Object.assign(failedOutcome(base, d.cause), { error: d.error ?? errorMessage(d.cause) });
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
  const { reportRun } = await loadRunReport();
  const { summaryMessage } = await loadSummaryMessage();
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
      decisions = await (await loadApprove()).executeApproval(req.id, deps, o);
      break;
    case 'scale-in-check':
      decisions = await (await loadScaleIn()).scaleInCheck(deps, o);
      break;
    default:
      return (await loadEvents()).runEvent(req, deps);
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
