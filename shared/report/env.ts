import * as v from '../valid.js';
import { BaseEnv } from '../config/env.js';

/** Environment of the report function; the construct types its `environment` with it. */
export const ReportEnv = v.extend(BaseEnv, {
  /** The report bucket: drill reports and retention records in, evidence and open conditions out. */
  REPORT_BUCKET: v.string().check(v.minLength(3)),
  /** The state table, when the stage has one (scaling cooldowns and approvals). */
  STATE_TABLE: v.optional(v.string().check(v.minLength(1))),
});
export type ReportEnv = v.infer<typeof ReportEnv>;
