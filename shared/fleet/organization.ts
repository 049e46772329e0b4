import * as v from '../valid.js';
import type { StewardConfig } from '../config/schema.js';
import { clip, errorCode, errorMessage, EventShapeError, formatIssues, StewardError } from '../errors.js';
import { logger } from '../observability.js';
import { doubling, retrying } from '../retry.js';
import {
  type FanOutTarget,
  organizationalUnitTargets,
  planFanOut,
  type SkippedTarget,
  targetFailureKind,
} from './fan-out.js';
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

/** An organizational unit whose accounts could not be listed this cycle: none of them gets a child. */
export interface UnlistedUnit {
  organizationalUnit: string;
  /** The config targets (positions in `targets`) that name it. */
  targets: number[];
  /** The listing's last error: its operation, the OU and the SDK error. */
  error: string;
}

/** What the listing hands the Map: the scheduled event and one item per child. */
export interface FanOutItems {
  event: Record<string, unknown>;
  targets: { target: FanOutTarget }[];
  /** Account-regions of OU targets that get no child (logged and returned; never silent). */
  skipped: SkippedTarget[];
  /** OUs whose listing failed: the cycle runs the rest and its summary ends it FAILED naming them. */
  unlisted: UnlistedUnit[];
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
  /** The retries' sleep (tests). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * steward's waits before it lists an OU again after Organizations throttled it, on top of the client's own
 * adaptive retries (shared/aws/clients/organizations.ts): Organizations allows few requests per second per
 * account, and a cycle's listing shares that with every other tool of the management account. Full jitter,
 * about 15 s at most in all, well within the listing's invoke.
 */
export const OU_LISTING_WAITS_MS: readonly number[] = doubling(1_000, 3).map((ms) => ms * 2);

/**
 * Organizations throttled (the fleet's one reading of "throttled": targetFailureKind) or failed on its side
 * (ServiceException): worth another listing. A refusal is not, even one whose message speaks of throttling.
 */
const transient = (e: unknown): boolean =>
  targetFailureKind(e) === 'throttled' || /ServiceException/.test(errorCode(e));

export interface ListingOptions {
  /**
   * The waits before each retry of a throttled listing. @default OU_LISTING_WAITS_MS. A spoke's forwarded
   * event passes none: Lambda retries the event itself, and an alarm storm should not hold its containers.
   */
  waitsMs?: readonly number[];
  /** Injected by tests. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The accounts of each OU target (one listing per OU, a throttled one retried) and, with any, the management
 * account. An OU whose listing still fails is left out and returned in `unlisted`, and the others are
 * listed: one OU's throttle or refusal no longer stops every target of the cycle. The management account's
 * lookup (DescribeOrganization) still throws: it is refused only where the hub may list no OU at all (not the
 * management account or a delegated administrator), and without it an OU's management account would get a
 * child that can only fail.
 */
export const listOrganizationalUnits = async (
  config: StewardConfig,
  directory: OrganizationDirectory,
  o: ListingOptions = {},
): Promise<{ accountsOf: Map<string, string[]>; managementAccount?: string; unlisted: UnlistedUnit[] }> => {
  const refs = organizationalUnitTargets(config);
  const ous = [...new Set(refs.map((t) => t.organizationalUnit!))];
  const retry = {
    waitsMs: o.waitsMs ?? OU_LISTING_WAITS_MS,
    retryable: transient,
    jitter: true,
    ...(o.sleep ? { sleep: o.sleep } : {}),
  };
  const accountsOf = new Map<string, string[]>();
  const unlisted: UnlistedUnit[] = [];
  for (const ou of ous) {
    try {
      accountsOf.set(ou, await retrying(() => directory.accountsUnder(ou), retry));
    } catch (e) {
      const failure: UnlistedUnit = {
        organizationalUnit: ou,
        targets: [...new Set(refs.filter((t) => t.organizationalUnit === ou).map((t) => t.index))],
        error: clip(`${errorCode(e)}: ${errorMessage(e)}`, 600),
      };
      logger.error('Organizational unit not listed: its accounts get no child this cycle', { ...failure });
      unlisted.push(failure);
    }
  }
  if (!ous.length) return { accountsOf, unlisted };
  const managementAccount = await retrying(() => directory.managementAccount(), retry);
  return { accountsOf, managementAccount, unlisted };
};

/**
 * List the accounts of every OU target (one listing per OU, nested OUs included, ACTIVE accounts only)
 * and the management account, then plan the cycle's children (shared/fleet/fan-out.ts, planFanOut).
 * An OU whose listing fails (after retries for throttling) is returned in `unlisted` and the rest run; the
 * summary then ends the cycle FAILED naming it, so a partial list is never silent.
 */
export const runFanOutTargets = async (
  e: FanOutTargetsEvent,
  deps: FanOutTargetsDeps,
): Promise<FanOutItems> => {
  const { accountsOf, managementAccount, unlisted } = await listOrganizationalUnits(
    deps.config,
    deps.directory,
    deps.sleep ? { sleep: deps.sleep } : {},
  );
  const plan = planFanOut(deps.config, e.capability, {
    partition: e.partition,
    accountsOf,
    ...(managementAccount !== undefined ? { managementAccount } : {}),
  });
  for (const s of plan.skipped) logger.warn('Target skipped', { ...s });
  const items: FanOutItems = {
    event: e.event ?? {},
    targets: plan.targets.map((target) => ({ target })),
    skipped: plan.skipped,
    unlisted,
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
    unlisted: unlisted.map((u) => u.organizationalUnit),
  });
  return items;
};
