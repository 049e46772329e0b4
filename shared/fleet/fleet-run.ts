import { PartialFailureError } from '../errors.js';
import { logger } from '../observability.js';
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
  listOrganizationalUnits,
  parseFanOutTargets,
  runFanOutTargets,
} from './organization.js';
import { type FanOutSummaryDeps, runFanOutSummary } from './summary.js';
import { type ForwardedEvent, forwardedTargets, isForwarded, parseForwarded } from './forwarded.js';
import { organizationalUnitTargets } from './fan-out.js';

/** How a fleet capability's handler gets its deps: today's, one target's, the fan-out summary's. */
export interface FleetWiring<D> {
  /** Today's deps (the event names no target): built once per container. */
  hub: () => D;
  /** One target's deps, its clients signed with the target's role (assumed before this resolves). */
  target: (t: FanOutTarget) => Promise<D>;
  /** The parent's summary after the Map (its adapters may load on first use). */
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
 * Run one fleet event of a fleet capability (shared/fleet/child.ts loads this module for those only). Without
 * `target`: the fan-out's listing or summary, a spoke's forwarded event, else exactly today's run. With one:
 * the target's deps, then today's run on the event without `target`; anything that fails (the AssumeRole, a
 * call in the target, the run's own partial failure) fails the child with a TargetFailedError naming the
 * account and region.
 */
export const runFleetOnly = async <D, R>(
  raw: unknown,
  wiring: FleetWiring<D>,
  run: FleetRun<D, R>,
): Promise<R | FanOutSummary | FanOutItems | ForwardedRun<R>> => {
  const { event, target } = splitTarget(raw);
  if (!target) {
    if (isFanOutSummary(event)) return runFanOutSummary(parseFanOutSummary(event), await wiring.summary());
    if (isFanOutTargets(event)) return runFanOutTargets(parseFanOutTargets(event), await wiring.listing());
    if (isForwarded(event)) return runForwarded(parseForwarded(event), wiring, run);
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

/** What a forwarded event came to: the results of the targets it ran in (none: not a target). */
export interface ForwardedRun<R> {
  from: { account: string; region: string };
  ran: { target: FanOutTarget; result: R }[];
}

/**
 * A spoke's event forwarded to the fleet bus: run today's code on the inner event in each target it acts in
 * (shared/fleet/forwarded.ts), with that target's credentials, exactly as a fan-out child would. An OU
 * account is found by listing the OU targets (Organizations), only when no account target names it. Every
 * target runs; any failure is reported and thrown once (PartialFailureError of TargetFailedErrors).
 */
const runForwarded = async <D, R>(
  e: ForwardedEvent,
  wiring: FleetWiring<D>,
  run: FleetRun<D, R>,
): Promise<ForwardedRun<R>> => {
  const listing = await wiring.listing();
  const capability = listing.capability;
  const from = { account: e.event.account, region: e.event.region };
  let targets = forwardedTargets(listing.config, capability, from, { partition: e.partition });
  if (!targets.length && organizationalUnitTargets(listing.config).length)
    targets = forwardedTargets(listing.config, capability, from, {
      partition: e.partition,
      ...(await listOrganizationalUnits(listing.config, listing.directory)),
    });
  if (!targets.length) {
    logger.warn('Forwarded event from an account-region that is no target: ignored', { ...from });
    return { from, ran: [] };
  }
  const ran: ForwardedRun<R>['ran'] = [];
  const failed: { target: FanOutTarget; error: unknown }[] = [];
  for (const target of targets) {
    try {
      ran.push({ target, result: (await runFleetOnly({ ...e.event, target }, wiring, run)) as R });
    } catch (error) {
      failed.push({ target, error });
    }
  }
  if (failed.length)
    throw new PartialFailureError(
      `A forwarded ${e.event.source} event of ${from.account} ${from.region} failed in ${failed.length} of ${targets.length} targets`,
      failed.map((f) => ({
        resource: `${f.target.account} ${f.target.region}`,
        error: f.error instanceof Error ? f.error.message : String(f.error),
        cause: f.error,
      })),
    );
  return { from, ran };
};
