import * as v from '../valid.js';
import { BaseEnv } from '../config/env.js';

/** Environment of the cost function; the construct types its `environment` with it. */
export const CostEnv = v.extend(BaseEnv, {
  /** The shared state table (pk `pk`, TTL attribute `ttl`) holding the alert dedup ledger. */
  STATE_TABLE: v.string().check(v.minLength(1)),
});
export type CostEnv = v.infer<typeof CostEnv>;
