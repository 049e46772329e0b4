import * as z from '../zod.js';
import { BaseEnv } from '../config/env.js';

/** Environment of the report function; the construct types its `environment` with it. */
export const ReportEnv = z.extend(BaseEnv, {
  /** The report bucket: drill reports and retention records in, evidence and open conditions out. */
  REPORT_BUCKET: z.string().check(z.minLength(3)),
  /** The state table, when the stage has one (scaling cooldowns and approvals). */
  STATE_TABLE: z.optional(z.string().check(z.minLength(1))),
});
export type ReportEnv = z.infer<typeof ReportEnv>;
