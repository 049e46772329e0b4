import { errorMessage, failureOf, PartialFailureError } from '../errors.js';
import { logger } from '../observability.js';
import {
  type FanOutSummary,
  type FanOutTarget,
  isFanOutSummary,
  parseFanOutSummary,
  planFanOut,
  splitTarget,
  TargetFailedError,
  targetLabel,
} from './fan-out.js';
import {
  type FanOutItems,
  type FanOutTargetsDeps,
  isFanOutTargets,
  listOrganizationalUnits,
  parseFanOutTargets,
  runFanOutTargets,
} from './organization.js';
import { type FanOutSummaryDeps, notifyFailedTargets, runFanOutSummary } from './summary.js';
import { type ForwardedEvent, forwardedTargets, isForwarded, parseForwarded } from './forwarded.js';
import { organizationalUnitTargets } from './fan-out.js';

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
 * Today's run of a capability on one event. A target's deps carry its config (its account and region), which
 * places the run's messages and metrics there (shared/runtime.ts, atPlace).
 */
export type FleetRun<D, R> = (event: unknown, deps: D) => Promise<R>;

export interface FleetEventOptions {
  /**
   * A hub event (no `target`) that runs in the hub's own account-region and then in every spoke target, one
   * after the other, in the handler itself (no fan-out): the scaling scale-in check.
   */
  everyTarget?: (event: unknown) => boolean;
}

/**
 * Run one handler event of a fleet capability. Without `target`: exactly today's run (or the fan-out's
 * listing or summary, or a run over every target). With one: the target's deps, then today's run on the
 * event without `target`; anything that fails (the AssumeRole, a call in the target, the run's own partial
 * failure) fails the child with a TargetFailedError naming the account and region.
 */
export const runFleetEvent = async <D, R>(
  raw: unknown,
  wiring: FleetWiring<D>,
  run: FleetRun<D, R>,
  o: FleetEventOptions = {},
): Promise<R | FanOutSummary | FanOutItems | ForwardedRun<R> | EveryTargetRun<R>> => {
  const { event, target } = splitTarget(raw);
  if (!target) {
    if (isFanOutSummary(event)) return runFanOutSummary(parseFanOutSummary(event), wiring.summary());
    if (isFanOutTargets(event)) return runFanOutTargets(parseFanOutTargets(event), wiring.listing());
    if (isForwarded(event)) return runForwarded(parseForwarded(event), wiring, run);
    if (o.everyTarget?.(event)) return runEveryTarget(event, wiring, run);
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

/** What a run over every target came to: the hub's own run, then each spoke target's. */
export interface EveryTargetRun<R> {
  /** Undefined when the hub's own run failed (named in the error thrown). */
  hub?: R;
  targets: { target: FanOutTarget; result: R }[];
}

const partitionOf = (event: unknown): string => {
  const p = (event as { partition?: unknown } | null)?.partition;
  return typeof p === 'string' && p ? p : 'aws';
};

/**
 * A hub event that acts in every account-region of the stage: today's run in the hub, then the same event in
 * each spoke target (account targets, and the accounts of OU targets as Organizations lists them), each with
 * that target's role (its session cached per container) and overrides, exactly as a forwarded event runs
 * there. One at a time: the metric scope of a run (Account, Region) is the container's. A target that fails
 * (its role refused, a failed decision) never stops the others; a failed OU listing leaves the account
 * targets running. Then one notification names every failure (critical when half or more of the
 * account-regions failed, else warning) and the run throws once (PartialFailureError), so the function's
 * error alarm sees it.
 */
const runEveryTarget = async <D, R>(
  event: unknown,
  wiring: FleetWiring<D>,
  run: FleetRun<D, R>,
): Promise<EveryTargetRun<R>> => {
  const listing = wiring.listing();
  const { config, capability } = listing;
  const failed: { label: string; error: unknown }[] = [];
  let hub: R | undefined;
  try {
    hub = await run(event, wiring.hub());
  } catch (error) {
    failed.push({ label: `${config.account ?? 'the hub'} ${config.region} (the hub)`, error });
  }
  let listed: Awaited<ReturnType<typeof listOrganizationalUnits>> | undefined;
  if (organizationalUnitTargets(config).length)
    try {
      listed = await listOrganizationalUnits(config, listing.directory);
    } catch (error) {
      failed.push({ label: 'the accounts of the organizational units', error });
    }
  const spokes = planFanOut(config, capability, {
    partition: partitionOf(event),
    ...(listed ?? {}),
  }).targets.filter((t) => t.roleArn);
  const targets: EveryTargetRun<R>['targets'] = [];
  for (const target of spokes) {
    try {
      targets.push({
        target,
        result: (await runFleetEvent({ ...(event as object), target }, wiring, run)) as R,
      });
    } catch (error) {
      failed.push({ label: targetLabel(target), error });
    }
  }
  logger.info('Run in every target finished', {
    capability,
    targets: spokes.length + 1,
    failed: failed.length,
  });
  if (!failed.length) return { ...(hub !== undefined ? { hub } : {}), targets };
  const told = await notifyFailedTargets(wiring.summary().notifier, {
    capability,
    what: `${capability} ${String((event as { action?: unknown }).action ?? 'run')}`,
    total: spokes.length + 1,
    failed: failed.map((f) => `${f.label}: ${errorMessage(f.error)}`),
  });
  throw new PartialFailureError(
    `A ${capability} run over ${spokes.length + 1} account-regions failed in ${failed.length}`,
    [
      ...failed.map((f) => failureOf(f.label, f.error)),
      ...told.map((o) => ({ resource: o.resource, error: o.status === 'failed' ? o.error : 'not sent' })),
    ],
  );
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
  const listing = wiring.listing();
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
      ran.push({ target, result: (await runFleetEvent({ ...e.event, target }, wiring, run)) as R });
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
