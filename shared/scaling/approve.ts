import { echo, errorMessage, EventShapeError } from '../errors.js';
import { logger } from '../observability.js';
import { checkApproval } from './engine.js';
import { describeFor } from './guard.js';
import { approvalKey, seenKey } from './ids.js';
import type { DecisionRecord, NamedRule, ScalingDecision, ScalingResource } from './model.js';
import { namedRules } from './alarm-event.js';
import { apply } from './act.js';
import { failedDecision, keepCause, record, type RunOptions, type ScalingDeps } from './transition.js';

/**
 * Execute an approved change once: re-check it against the resource now, claim the approval (pending →
 * executing) and the resource, act, then executing → executed. A failed action puts the approval back to
 * pending (with its error), so it can be approved again once the cause is fixed.
 */
export const executeApproval = async (
  id: string,
  deps: ScalingDeps,
  o: RunOptions,
): Promise<DecisionRecord[]> => {
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
        deps.resources.describe(rule.kind, rule.resource, describeFor(rule)),
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
    return [
      keepCause(
        rec(decision ?? failedDecision('failed before deciding'), 'failed', { error: errorMessage(e) }),
        e,
      ),
    ];
  }
};
