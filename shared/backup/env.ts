import * as v from '../valid.js';

/**
 * What the backup function needs to schedule pre-maintenance snapshots; the construct sets all four. Absent
 * (a local `steward invoke`), maintenance events are planned and reported but cannot be scheduled.
 */
export const BackupSchedulerEnv = v.object({
  MAINTENANCE_SCHEDULE_GROUP: v.string().check(v.minLength(1)),
  MAINTENANCE_TARGET_ARN: v
    .string()
    .check(v.regex(/^arn:aws[a-z-]*:lambda:/, 'must be a Lambda function ARN')),
  MAINTENANCE_ROLE_ARN: v.string().check(v.regex(/^arn:aws[a-z-]*:iam::/, 'must be an IAM role ARN')),
  MAINTENANCE_DLQ_ARN: v.optional(
    v.string().check(v.regex(/^arn:aws[a-z-]*:sqs:/, 'must be an SQS queue ARN')),
  ),
});
export type BackupSchedulerEnv = v.infer<typeof BackupSchedulerEnv>;

/** The report bucket each run's full report goes to; absent (a local run, no bucket), none is kept. */
export const RunReportsEnv = v.object({
  REPORT_BUCKET: v.optional(v.string().check(v.minLength(3))),
});

/**
 * The state table holding each destination's DR copy queue (the construct sets it). Absent (a local run),
 * every copy reconcile lists both regions in full.
 */
export const CopyQueueEnv = v.object({
  STATE_TABLE: v.optional(v.string().check(v.minLength(1))),
});

/**
 * The steward Command document application consistency runs (infra/consistency.ts sets it when a policy
 * configures consistency). The document's name is the stage's, so a local run can name it too.
 */
export const ConsistencyEnv = v.object({
  CONSISTENCY_DOCUMENT: v.optional(
    v.string().check(v.regex(/^[a-zA-Z0-9_.-]{3,128}$/, 'must be an SSM document name')),
  ),
});

/**
 * Redis DR's buckets (the construct sets both when a copying policy backs up ElastiCache): the export bucket
 * in the stage region, the DR bucket in `dr.region`. Absent, cache snapshots are not exported or copied.
 */
export const CacheDrEnv = v.object({
  REDIS_EXPORT_BUCKET: v.string().check(v.minLength(3)),
  REDIS_DR_BUCKET: v.string().check(v.minLength(3)),
});
export type CacheDrEnv = v.infer<typeof CacheDrEnv>;
