import * as v from '../valid.js';
import { BaseEnv } from '../config/env.js';

/** Environment of the scaling function; the construct types its `environment` with it. */
export const ScalingEnv = v.extend(BaseEnv, {
  /** The stage's state table (pk `pk`, TTL `ttl`): seen events, cooldowns, approvals, alarm states. */
  STATE_TABLE: v.string().check(v.minLength(1)),
});
export type ScalingEnv = v.infer<typeof ScalingEnv>;

/** Name of a stage's state table (infra/state-table.ts), for local runs that have no function environment. */
export const stateTableName = (stage: string): string => `steward-${stage}-state`;
