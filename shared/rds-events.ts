import * as z from './zod.js';

/**
 * The detail of an EventBridge "RDS DB Instance Event" / "RDS DB Cluster Event" (only the fields steward
 * reads): backup tells about failovers, stops and storage; scaling restarts a cooldown on a failover.
 */
export const RdsEventDetail = /* @__PURE__ */ z.onFirstUse(() =>
  z.object({
    EventID: z.optional(z.string()),
    SourceIdentifier: z.string().check(z.minLength(1)),
    SourceArn: z.optional(z.string()),
    Date: z.optional(z.string()),
    Message: z.optional(z.string()),
  }),
);
