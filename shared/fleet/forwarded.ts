import * as v from '../valid.js';
import type { StewardConfig } from '../config/schema.js';
import { EventShapeError, formatIssues } from '../errors.js';
import { type FanOutTarget, planFanOut, type PlanFanOutOptions } from './fan-out.js';
import type { SpokeCapability } from './targets.js';

// Events the spokes forward to the hub's fleet bus, and the targets they act in. The hub's rules on that bus
// wrap each event as { action: "forwarded", partition, event } (an input transformer), so a spoke's event is
// never mistaken for one of the hub's own account-region (those arrive on the default bus, unwrapped).

/** What a rule on the fleet bus sends the function: the spoke's event as EventBridge delivered it. */
export const ForwardedEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.strictObject({
    action: v.literal('forwarded'),
    /** The hub's partition (the rule's `AWS::Partition`): the spoke role ARNs name it. */
    partition: v.string().check(v.regex(/^aws(-[a-z]+)*$/, 'must be an AWS partition (aws, aws-cn, ...)')),
    event: v.looseObject({
      // Set by EventBridge to where the event happened, and kept across the bus-to-bus forward.
      account: v.string().check(v.regex(/^\d{12}$/, 'must be a 12-digit account id')),
      region: v.string().check(v.regex(/^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region')),
      source: v.string(),
    }),
  }),
);
export type ForwardedEvent = v.infer<typeof ForwardedEvent>;

export { isForwarded } from './kinds.js';

/** Parse a forwarded event; throws EventShapeError naming every bad field. */
export const parseForwarded = (raw: unknown): ForwardedEvent => {
  const r = ForwardedEvent.safeParse(raw);
  if (!r.success) throw new EventShapeError('Invalid forwarded event', formatIssues(r.error.issues));
  return r.data;
};

/**
 * The targets one forwarded event acts in, with the role the hub assumes there: the account-region it came
 * from; or, for an event of the DR region that is no target region of the account (a DR copy finished
 * there: RDS emits RDS-EVENT-0060 in the destination region), every target region of that account, whose
 * copies it may have been (backup only: an alarm acts where it fired). None for an account-region that is no target: the hub acts only where the
 * config says. Pure.
 */
export const forwardedTargets = (
  c: StewardConfig,
  capability: SpokeCapability,
  from: { account: string; region: string },
  o: PlanFanOutOptions = {},
): FanOutTarget[] => {
  const ofAccount = planFanOut(c, capability, o).targets.filter((t) => t.account === from.account);
  const here = ofAccount.filter((t) => t.region === from.region);
  if (here.length) return here;
  return capability === 'backup' && from.region === c.dr.region ? ofAccount : [];
};
