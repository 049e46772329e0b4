import * as v from '../valid.js';
import { BaseEnv } from '../config/env.js';

/** Environment of the retention function; the construct types its `environment` with it. */
export const RetentionEnv = v.extend(BaseEnv, {
  /** The stage's state table (pk `pk`, TTL `ttl`): the day's deletion budget. */
  STATE_TABLE: v.string().check(v.minLength(1)),
  /** The DR region's bucket of Redis DR copies, when a policy copies caches and retention sweeps DR. */
  REDIS_DR_BUCKET: v.optional(v.string().check(v.minLength(3))),
});
export type RetentionEnv = v.infer<typeof RetentionEnv>;
