import * as v from '../valid.js';
import type { StewardConfig } from '../config/schema.js';
import { EventShapeError, formatIssues, StewardError } from '../errors.js';
import { logger } from '../observability.js';
import { type FanOutTarget, organizationalUnitTargets, planFanOut, type SkippedTarget } from './fan-out.js';
import { SPOKE_CAPABILITIES, type SpokeCapability } from './targets.js';

// The first step of a cycle with OU targets: list the OUs' accounts through AWS Organizations and hand the
// Distributed Map its items. The listing runs in the hub, once per cycle, so an account that joins an OU is
// in the next cycle (the StackSet's auto-deployment gives it its spoke).

/**
 * Port: the organization's accounts. Organizations answers these only in the management account or in a
 * member account that is a delegated administrator (AWS Organizations API Reference, ListAccountsForParent
 * and ListChildren: "can be called only from the organization's management account or by a member account
 * that is a delegated administrator"): the hub must be one of them.
 */
export interface OrganizationDirectory {
  /** The ACTIVE accounts directly in `parentId` (an OU or the root) and in every OU nested under it. */
  accountsUnder(parentId: string): Promise<string[]>;
  /** The organization's management account. */
  managementAccount(): Promise<string>;
}

/** The fan-out's first state sends this when the config has OU targets. */
export const FanOutTargetsEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.strictObject({
    action: v.literal('fan-out-targets'),
    capability: v.enum(SPOKE_CAPABILITIES),
    /** The hub's partition (the state machine's `AWS::Partition`): the spoke role ARNs name it. */
    partition: v.string().check(v.regex(/^aws(-[a-z]+)*$/, 'must be an AWS partition (aws, aws-cn, ...)')),
    /** The cycle's scheduled event, handed on to every child. */
    event: v.optional(v.record(v.string(), v.unknown())),
  }),
);
export type FanOutTargetsEvent = v.infer<typeof FanOutTargetsEvent>;

/** What the listing hands the Map: the scheduled event and one item per child. */
export interface FanOutItems {
  event: Record<string, unknown>;
  targets: { target: FanOutTarget }[];
  /** Account-regions of OU targets that get no child (logged and returned; never silent). */
  skipped: SkippedTarget[];
}

/**
 * Step Functions passes at most 256 KiB between states (Developer Guide, "Step Functions service quotas":
 * maximum input or output size for a task, state or execution). The items stay under it with room for
 * the event: about 1,500 account-regions.
 */
export const FAN_OUT_ITEMS_MAX_BYTES = 240 * 1024;

/** The items do not fit in one state's output. */
export class FanOutTooLargeError extends StewardError {
  override name = 'FanOutTooLargeError';
}

export { isFanOutTargets } from './kinds.js';

/** Parse the listing event; throws EventShapeError naming every bad field. */
export const parseFanOutTargets = (raw: unknown): FanOutTargetsEvent => {
  const r = FanOutTargetsEvent.safeParse(raw);
  if (!r.success) throw new EventShapeError('Invalid fan-out targets event', formatIssues(r.error.issues));
  return r.data;
};

export interface FanOutTargetsDeps {
  config: StewardConfig;
  /** The function's own capability (its spoke roles). */
  capability: SpokeCapability;
  directory: OrganizationDirectory;
  /**
   * The directory a spoke's forwarded event lists through: the container's, its answers kept a few minutes
   * (shared/aws/organizations.ts, recentDirectory). Absent: `directory`.
   */
  forwardedDirectory?: OrganizationDirectory;
}

/** The accounts of each OU target (one listing per OU) and, with any, the management account. */
export const listOrganizationalUnits = async (
  config: StewardConfig,
  directory: OrganizationDirectory,
): Promise<{ accountsOf: Map<string, string[]>; managementAccount?: string }> => {
  const ous = [...new Set(organizationalUnitTargets(config).map((t) => t.organizationalUnit!))];
  const accountsOf = new Map<string, string[]>();
  for (const ou of ous) accountsOf.set(ou, await directory.accountsUnder(ou));
  return ous.length ? { accountsOf, managementAccount: await directory.managementAccount() } : { accountsOf };
};

/**
 * List the accounts of every OU target (one listing per OU, nested OUs included, ACTIVE accounts only)
 * and the management account, then plan the cycle's children (shared/fleet/fan-out.ts, planFanOut).
 * A listing that fails fails the cycle before any child starts: a partial list would silently leave
 * accounts unprotected.
 */
export const runFanOutTargets = async (
  e: FanOutTargetsEvent,
  deps: FanOutTargetsDeps,
): Promise<FanOutItems> => {
  const listed = await listOrganizationalUnits(deps.config, deps.directory);
  const { accountsOf } = listed;
  const plan = planFanOut(deps.config, e.capability, {
    partition: e.partition,
    ...listed,
  });
  for (const s of plan.skipped) logger.warn('Target skipped', { ...s });
  const items: FanOutItems = {
    event: e.event ?? {},
    targets: plan.targets.map((target) => ({ target })),
    skipped: plan.skipped,
  };
  const bytes = Buffer.byteLength(JSON.stringify(items));
  if (bytes > FAN_OUT_ITEMS_MAX_BYTES)
    throw new FanOutTooLargeError(
      `The ${plan.targets.length} account-region targets take ${bytes} bytes, over the ${FAN_OUT_ITEMS_MAX_BYTES} a Step Functions state may pass: split the stage`,
    );
  logger.info('Fan-out targets listed', {
    capability: e.capability,
    targets: plan.targets.length,
    organizationalUnits: Object.fromEntries([...accountsOf].map(([ou, a]) => [ou, a.length])),
    skipped: plan.skipped.length,
  });
  return items;
};
