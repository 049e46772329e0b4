import type { FanOutSummary, FanOutTarget } from './fan-out.js';
import type { ForwardedRun } from './forwarded-run.js';
import { hasTarget, isFanOutSummary, isFanOutTargets, isForwarded } from './kinds.js';
import type { FanOutItems, FanOutTargetsDeps } from './organization.js';
import type { FanOutSummaryDeps } from './summary.js';
import { once } from '../once.js';

// Modules loaded on first use, once per container (shared/once.ts: `import()` resolves again at each call).
const loadFanOut = /* @__PURE__ */ once(() => import('./fan-out.js'));
const loadSummary = /* @__PURE__ */ once(() => import('./summary.js'));
const loadOrganization = /* @__PURE__ */ once(() => import('./organization.js'));
const loadForwarded = /* @__PURE__ */ once(() => import('./forwarded.js'));
const loadForwardedRun = /* @__PURE__ */ once(() => import('./forwarded-run.js'));

export type { ForwardedRun };

/** How a fleet capability's handler gets its deps: today's, one target's, the fan-out summary's. */
export interface FleetWiring<D> {
  /** Today's deps (the event names no target): built once per container. */
  hub: () => D;
  /**
   * One target's deps for `event` (the event without `target`), its clients signed with the target's role:
   * assumed before this resolves, unless the capability runs that event in the hub first (then when a client
   * first signs with it: shared/aws/fleet-sessions.ts, `startsInHub`).
   */
  target: (t: FanOutTarget, event?: unknown) => Promise<D>;
  /** The parent's summary after the Map. */
  summary: () => FanOutSummaryDeps | Promise<FanOutSummaryDeps>;
  /** The parent's first step when the config has OU targets: list their accounts. */
  listing: () => FanOutTargetsDeps | Promise<FanOutTargetsDeps>;
}

/**
 * Today's run of a capability on one event. A target's deps carry its config (its account and region), which
 * places the run's messages and metrics there (shared/runtime.ts, atPlace).
 */
export type FleetRun<D, R> = (event: unknown, deps: D) => Promise<R>;

/**
 * Run one handler event of a fleet capability. Without `target`: exactly today's run (or the fan-out's
 * listing or summary, or a spoke's forwarded event). With one: the target's deps, then today's run on the
 * event without `target`; anything that fails (the AssumeRole, a call in the target, the run's own partial
 * failure) fails the child with a TargetFailedError naming the account and region.
 *
 * Today's run is what most events are (an alarm, a schedule, an RDS event), so it loads nothing of the
 * fan-out: its parsers and runs are imported when their event comes (their own chunks in the bundle).
 */
export const runFleetEvent = async <D, R>(
  raw: unknown,
  wiring: FleetWiring<D>,
  run: FleetRun<D, R>,
): Promise<R | FanOutSummary | FanOutItems | ForwardedRun<R>> => {
  if (!hasTarget(raw)) {
    if (isFanOutSummary(raw)) {
      const { parseFanOutSummary } = await loadFanOut();
      const { runFanOutSummary } = await loadSummary();
      const e = parseFanOutSummary(raw);
      return runFanOutSummary(e, await wiring.summary());
    }
    if (isFanOutTargets(raw)) {
      const { parseFanOutTargets, runFanOutTargets } = await loadOrganization();
      const e = parseFanOutTargets(raw);
      return runFanOutTargets(e, await wiring.listing());
    }
    if (isForwarded(raw)) {
      const { parseForwarded } = await loadForwarded();
      const { runForwarded } = await loadForwardedRun();
      const e = parseForwarded(raw);
      return runForwarded(e, await wiring.listing(), async (inner) => {
        return (await runFleetEvent(inner, wiring, run)) as R;
      });
    }
    return run(raw, wiring.hub());
  }
  const { splitTarget, TargetFailedError } = await loadFanOut();
  const { event, target } = splitTarget(raw) as { event: unknown; target: FanOutTarget };
  let deps: D;
  try {
    deps = await wiring.target(target, event);
  } catch (e) {
    throw new TargetFailedError(target, e);
  }
  try {
    return await run(event, deps);
  } catch (e) {
    throw new TargetFailedError(target, e);
  }
};
