import * as v from './valid.js';

/**
 * The detail of an EventBridge "RDS DB Instance Event" / "RDS DB Cluster Event" (only the fields steward
 * reads): backup tells about failovers, stops and storage; scaling restarts a cooldown on a failover.
 */
export const RdsEventDetail = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    EventID: v.optional(v.string()),
    SourceIdentifier: v.string().check(v.minLength(1)),
    SourceArn: v.optional(v.string()),
    Date: v.optional(v.string()),
    Message: v.optional(v.string()),
  }),
);
