import type { FanOutSummary } from './fan-out.js';
import type { FleetRun, FleetWiring, ForwardedRun } from './fleet-run.js';
import type { FanOutItems } from './organization.js';

export type { FleetRun, FleetWiring, ForwardedRun };

/** The actions of the fleet's own events: the fan-out's summary and OU listing, a spoke's forwarded event. */
const FLEET_ACTIONS: readonly unknown[] = ['fan-out-summary', 'fan-out-targets', 'forwarded'];

/**
 * Whether a handler event is the fleet's (a fan-out child's, with `target`; the fan-out's summary or listing;
 * a forwarded event) rather than one of the capability's own triggers. Only the shape's marker: the fleet
 * module parses the rest.
 */
export const isFleetEvent = (raw: unknown): boolean =>
  raw !== null &&
  typeof raw === 'object' &&
  ((!Array.isArray(raw) && 'target' in raw) || FLEET_ACTIONS.includes((raw as { action?: unknown }).action));

/**
 * Run one handler event of a fleet capability. A capability's own trigger: exactly today's run, with the
 * hub's deps. A fleet event (isFleetEvent): the fan-out child, listing, summary or forwarded event
 * (shared/fleet/fleet-run.ts), whose code is loaded only by the invocations that get one.
 */
export const runFleetEvent = async <D, R>(
  raw: unknown,
  wiring: FleetWiring<D>,
  run: FleetRun<D, R>,
): Promise<R | FanOutSummary | FanOutItems | ForwardedRun<R>> =>
  isFleetEvent(raw)
    ? (await import('./fleet-run.js')).runFleetOnly(raw, wiring, run)
    : run(raw, wiring.hub());
