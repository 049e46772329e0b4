import * as z from '../zod.js';
import { BaseEnv } from '../config/env.js';

/** Environment of the retention function; the construct types its `environment` with it. */
export const RetentionEnv = z.extend(BaseEnv, {
  /** The stage's state table (pk `pk`, TTL `ttl`): the day's deletion budget. */
  STATE_TABLE: z.string().check(z.minLength(1)),
  /** The DR region's bucket of Redis DR copies, when a policy copies caches and retention sweeps DR. */
  REDIS_DR_BUCKET: z.optional(z.string().check(z.minLength(3))),
});
export type RetentionEnv = z.infer<typeof RetentionEnv>;
