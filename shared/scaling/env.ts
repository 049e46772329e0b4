import * as z from 'zod';
import { BaseEnv } from '../config/env.js';

/** Environment of the scaling function; the construct types its `environment` with it. */
export const ScalingEnv = BaseEnv.extend({
  /** The stage's state table (pk `pk`, TTL `ttl`): seen events, cooldowns, approvals, alarm states. */
  STATE_TABLE: z.string().min(1),
});
export type ScalingEnv = z.infer<typeof ScalingEnv>;

/** Name of a stage's state table (infra/state-table.ts), for local runs that have no function environment. */
export const stateTableName = (stage: string): string => `steward-${stage}-state`;
