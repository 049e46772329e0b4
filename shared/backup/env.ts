import * as z from '../zod.js';

/**
 * What the backup function needs to schedule pre-maintenance snapshots; the construct sets all four. Absent
 * (a local `steward invoke`), maintenance events are planned and reported but cannot be scheduled.
 */
export const BackupSchedulerEnv = z.object({
  MAINTENANCE_SCHEDULE_GROUP: z.string().check(z.minLength(1)),
  MAINTENANCE_TARGET_ARN: z
    .string()
    .check(z.regex(/^arn:aws[a-z-]*:lambda:/, 'must be a Lambda function ARN')),
  MAINTENANCE_ROLE_ARN: z.string().check(z.regex(/^arn:aws[a-z-]*:iam::/, 'must be an IAM role ARN')),
  MAINTENANCE_DLQ_ARN: z.optional(
    z.string().check(z.regex(/^arn:aws[a-z-]*:sqs:/, 'must be an SQS queue ARN')),
  ),
});
export type BackupSchedulerEnv = z.infer<typeof BackupSchedulerEnv>;

/** The report bucket each run's full report goes to; absent (a local run, no bucket), none is kept. */
export const RunReportsEnv = z.object({
  REPORT_BUCKET: z.optional(z.string().check(z.minLength(3))),
});

/**
 * The state table holding each destination's DR copy queue (the construct sets it). Absent (a local run),
 * every copy reconcile lists both regions in full.
 */
export const CopyQueueEnv = z.object({
  STATE_TABLE: z.optional(z.string().check(z.minLength(1))),
});

/**
 * The steward Command document application consistency runs (infra/consistency.ts sets it when a policy
 * configures consistency). The document's name is the stage's, so a local run can name it too.
 */
export const ConsistencyEnv = z.object({
  CONSISTENCY_DOCUMENT: z.optional(
    z.string().check(z.regex(/^[a-zA-Z0-9_.-]{3,128}$/, 'must be an SSM document name')),
  ),
});

/**
 * Redis DR's buckets (the construct sets both when a copying policy backs up ElastiCache): the export bucket
 * in the stage region, the DR bucket in `dr.region`. Absent, cache snapshots are not exported or copied.
 */
export const CacheDrEnv = z.object({
  REDIS_EXPORT_BUCKET: z.string().check(z.minLength(3)),
  REDIS_DR_BUCKET: z.string().check(z.minLength(3)),
});
export type CacheDrEnv = z.infer<typeof CacheDrEnv>;
