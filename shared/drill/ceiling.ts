import { StewardError } from '../errors.js';
import { logger } from '../observability.js';
import type { BaseDeps, StageDeps } from '../runtime.js';
import { cacheTargetOf } from './stage-drills.js';
import { type CeilingVerdict, COST_CEILING, type PriceOverrides, withinCeiling } from './cost.js';
import type { DrillState } from './state.js';

export { COST_CEILING };

/**
 * Going on would exceed the target's `costCeilingUsd`: the task stops the drill, which then cleans up.
 * The drill is INCONCLUSIVE (not proven), not FAILED: nothing is known to be wrong with the backup.
 */
export class CostCeilingError extends StewardError {
  override name = COST_CEILING;
}

/** The target's ceiling and the stage's prices. */
export const ceilingOf = (s: Pick<DrillState, 'database'>, config: BaseDeps['config']) => {
  const cfg = Object.hasOwn(config.drill.targets, s.database)
    ? config.drill.targets[s.database]
    : cacheTargetOf(config, s.database);
  const prices: PriceOverrides = config.drill.prices;
  return { ceilingUsd: cfg?.costCeilingUsd, prices };
};

/** Whether the drill may go on until `until` within its cost ceiling (always, without one). */
export const ceilingVerdict = (
  s: DrillState,
  config: BaseDeps['config'],
  now: Date,
  until: Date,
  requestedAt = s.target!.requestedAt,
): CeilingVerdict => {
  const { ceilingUsd, prices } = ceilingOf(s, config);
  if (ceilingUsd === undefined || !s.shape) return { ok: true };
  // A copy not available yet is projected as available now: the worst case, 10-minute minimum included.
  const availableAt = s.target?.availableAt ?? now.toISOString();
  return withinCeiling(s.shape, { requestedAt, availableAt }, until, prices, ceilingUsd);
};

/** Throw CostCeilingError when going on until `until` would exceed the ceiling. */
export const guardCeiling = (
  s: DrillState,
  deps: StageDeps,
  forSeconds: number,
  when: string,
  requestedAt?: string,
): void => {
  const now = deps.now();
  const v = ceilingVerdict(s, deps.config, now, new Date(now.getTime() + forSeconds * 1000), requestedAt);
  if (!v.ok) {
    logger.warn('drill stopped by its cost ceiling', { drillId: s.drillId, when, reason: v.reason });
    throw new CostCeilingError(`stopped ${when}: ${v.reason}`);
  }
};
