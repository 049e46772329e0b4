import {
  type FanOutSummary,
  type FanOutTarget,
  isFanOutSummary,
  parseFanOutSummary,
  splitTarget,
  TargetFailedError,
} from './fan-out.js';
import {
  type FanOutItems,
  type FanOutTargetsDeps,
  isFanOutTargets,
  parseFanOutTargets,
  runFanOutTargets,
} from './organization.js';
import { type FanOutSummaryDeps, runFanOutSummary } from './summary.js';

/** How a fleet capability's handler gets its deps: today's, one target's, the fan-out summary's. */
export interface FleetWiring<D> {
  /** Today's deps (the event names no target): built once per container. */
  hub: () => D;
  /** One target's deps, its clients signed with the target's role (assumed before this resolves). */
  target: (t: FanOutTarget) => Promise<D>;
  /** The parent's summary after the Map. */
  summary: () => FanOutSummaryDeps;
  /** The parent's first step when the config has OU targets: list their accounts. */
  listing: () => FanOutTargetsDeps;
}

/**
 * Run one handler event of a fleet capability. Without `target`: exactly today's run (or the fan-out's
 * listing or summary). With one: the target's deps, then today's run on the event without `target`; anything that
 * fails (the AssumeRole, a call in the target, the run's own partial failure) fails the child with a
 * TargetFailedError naming the account and region.
 */
export const runFleetEvent = async <D, R>(
  raw: unknown,
  wiring: FleetWiring<D>,
  run: (event: unknown, deps: D) => Promise<R>,
): Promise<R | FanOutSummary | FanOutItems> => {
  const { event, target } = splitTarget(raw);
  if (!target) {
    if (isFanOutSummary(event)) return runFanOutSummary(parseFanOutSummary(event), wiring.summary());
    if (isFanOutTargets(event)) return runFanOutTargets(parseFanOutTargets(event), wiring.listing());
    return run(event, wiring.hub());
  }
  let deps: D;
  try {
    deps = await wiring.target(target);
  } catch (e) {
    throw new TargetFailedError(target, e);
  }
  try {
    return await run(event, deps);
  } catch (e) {
    throw new TargetFailedError(target, e);
  }
};
