import * as z from '../zod.js';
import { BaseEnv } from '../config/env.js';

/** Environment of the cost function; the construct types its `environment` with it. */
export const CostEnv = z.extend(BaseEnv, {
  /** The shared state table (pk `pk`, TTL attribute `ttl`) holding the alert dedup ledger. */
  STATE_TABLE: z.string().check(z.minLength(1)),
});
export type CostEnv = z.infer<typeof CostEnv>;
