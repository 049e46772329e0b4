import { PartialFailureError } from '../errors.js';
import { logger } from '../observability.js';
import type { FanOutTarget } from './fan-out.js';
import { organizationalUnitTargets } from './fan-out.js';
import { type ForwardedEvent, forwardedTargets } from './forwarded.js';
import { type FanOutTargetsDeps, listOrganizationalUnits } from './organization.js';

/** What a forwarded event came to: the results of the targets it ran in (none: not a target). */
export interface ForwardedRun<R> {
  from: { account: string; region: string };
  ran: { target: FanOutTarget; result: R }[];
}

/**
 * A spoke's event forwarded to the fleet bus: run today's code on the inner event in each target it acts in
 * (shared/fleet/forwarded.ts), with that target's credentials, exactly as a fan-out child would (`runIn`:
 * shared/fleet/child.ts runs the event with its `target`). An OU account is found by listing the OU targets
 * (Organizations), only when no account target names it, through the container's recent listing
 * (`forwardedDirectory`: one listing for a storm of events). Every target runs; any failure is reported and
 * thrown once (PartialFailureError of TargetFailedErrors).
 */
export const runForwarded = async <R>(
  e: ForwardedEvent,
  listing: FanOutTargetsDeps,
  runIn: (event: Record<string, unknown>) => Promise<R>,
): Promise<ForwardedRun<R>> => {
  const capability = listing.capability;
  const from = { account: e.event.account, region: e.event.region };
  let targets = forwardedTargets(listing.config, capability, from, { partition: e.partition });
  if (!targets.length && organizationalUnitTargets(listing.config).length) {
    const { accountsOf, managementAccount, unlisted } = await listOrganizationalUnits(
      listing.config,
      listing.forwardedDirectory ?? listing.directory,
      { waitsMs: [] },
    );
    targets = forwardedTargets(listing.config, capability, from, {
      partition: e.partition,
      accountsOf,
      ...(managementAccount !== undefined ? { managementAccount } : {}),
    });
    // Not found, but an OU could not be listed: the account may be in it. Fail (the event is retried, then
    // parked) rather than ignore an event of an account steward protects.
    if (!targets.length && unlisted.length)
      throw new PartialFailureError(
        `A forwarded ${e.event.source} event of ${from.account} ${from.region}: ${unlisted.length} organizational units could not be listed`,
        unlisted.map((u) => ({ resource: u.organizationalUnit, error: u.error })),
      );
  }
  if (!targets.length) {
    logger.warn('Forwarded event from an account-region that is no target: ignored', { ...from });
    return { from, ran: [] };
  }
  const ran: ForwardedRun<R>['ran'] = [];
  const failed: { target: FanOutTarget; error: unknown }[] = [];
  for (const target of targets) {
    try {
      ran.push({ target, result: await runIn({ ...e.event, target }) });
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
