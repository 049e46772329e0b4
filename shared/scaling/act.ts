import { errorMessage } from '../errors.js';
import { logger } from '../observability.js';
import type { BaseDeps } from '../runtime.js';
import { changesResource } from './change.js';
import type { NamedRule, PlannedChange, ScalingDecision } from './model.js';
import type { ResourceClaim, ResourceHolder, ScalingResources, ScalingStore } from './ports.js';

// The change itself, once a transition (or an approval) is decided and neither a dry run nor waiting for
// approval: imported then (transition.ts, approve.ts), never by an alarm that only tells or skips.

/**
 * Act: claim the resource first (the claim is the cooldown, atomic across rules and runs), then change it.
 * A failed change gives the claim back. Undefined when another rule or run holds the resource.
 */
export const apply = async (
  deps: Pick<BaseDeps, 'now'> & { state: ScalingStore; resources: ScalingResources },
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
