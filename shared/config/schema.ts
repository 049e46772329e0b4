import * as z from 'zod';
import { ConfigError, formatIssues } from '../errors.js';
import { ADHOC_POLICY } from '../tags.js';
import { VerificationProfile } from '../drill/profile.js';

// Note on zod 4: `.default(v)` returns v as-is without parsing it; `.prefault(v)` parses it, so nested
// defaults apply. Every nested object below uses `prefault`.

/** EventBridge Scheduler expression: cron(...), rate(...) or at(...). */
export const ScheduleExpression = z
  .string()
  .regex(
    /^(cron|rate|at)\(.+\)$/,
    'must be a Scheduler expression such as cron(0 3 * * ? *) or rate(1 hour)',
  );

export const Region = z
  .string()
  .regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1');

export const KmsKeyArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+$/, 'must be a KMS key or alias ARN');

export const Stage = z.enum(['dev', 'staging', 'prod']);
export type Stage = z.infer<typeof Stage>;

export const Severity = z.enum(['critical', 'warning', 'info']);
export type Severity = z.infer<typeof Severity>;

export const ResourceKind = z.enum(['rds-instance', 'aurora-cluster', 'elasticache']);
export type ResourceKind = z.infer<typeof ResourceKind>;

/** Policy names are tag values (`steward:backup=<name>`) and appear in snapshot ids. */
export const PolicyName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}$/, 'must be lowercase letters, digits and hyphens, starting with a letter');

export const RetentionPolicy = z.object({
  /** Newest N days that have a snapshot, one snapshot (the newest) each. */
  daily: z.int().min(0).max(3650).default(30),
  /** Newest N ISO weeks, one each. */
  weekly: z.int().min(0).max(520).default(0),
  monthly: z.int().min(0).max(1200).default(0),
  yearly: z.int().min(0).max(100).default(0),
  /** Floor: never keep fewer than this many available snapshots of one source. */
  keepAtLeast: z.int().min(1).max(1000).default(3),
});
export type RetentionPolicy = z.infer<typeof RetentionPolicy>;

export const RetentionConfig = z.object({
  schedule: ScheduleExpression.default('cron(30 4 * * ? *)'),
  /** Bounds the blast radius of one run; the remainder is reported and handled next run. */
  maxDeletionsPerRun: z.int().min(1).max(1000).default(50),
  /** Also sweep the DR region's copies. */
  includeDrRegion: z.boolean().default(true),
  policies: z.record(PolicyName, RetentionPolicy).prefault({ standard: {} }),
});

export const BackupPolicy = z.object({
  schedule: ScheduleExpression.default('cron(0 3 * * ? *)'),
  /** IANA zone for the schedule; retention math stays in UTC regardless. */
  timezone: z.string().min(1).default('UTC'),
  kinds: z.array(ResourceKind).min(1).default(['rds-instance', 'aurora-cluster', 'elasticache']),
  /** Name of a retention policy in `retention.policies`. */
  retention: PolicyName.default('standard'),
  copyToDr: z.boolean().default(false),
});
export type BackupPolicy = z.infer<typeof BackupPolicy>;

export const BackupConfig = z.object({
  preChangeRetainDays: z.int().min(1).max(3650).default(90),
  /** Warn when manual snapshot quota use reaches this share; at 100 % nothing is created. */
  quotaWarnPercent: z.number().min(1).max(100).default(80),
  /** AWS allows at most 5 cross-region copies in flight per destination region. */
  maxCopiesInFlight: z.int().min(1).max(5).default(5),
  /** Follow-up schedule that starts copies deferred by the in-flight limit. */
  copySchedule: ScheduleExpression.default('rate(1 hour)'),
  policies: z.record(PolicyName, BackupPolicy).prefault({ daily: {} }),
});

export const DrConfig = z.object({
  region: Region.default('us-west-2'),
  /** Key in the DR region used for encrypted cross-region copies (required when any policy copies). */
  kmsKeyArn: KmsKeyArn.optional(),
});

const Topic = z.object({ emails: z.array(z.email()).default([]) });
export const NotificationsConfig = z.object({
  critical: Topic.prefault({}),
  warning: Topic.prefault({}),
  info: Topic.prefault({}),
});

/** How a drill picks what to restore. `randomWithinDays` draws among available snapshots of the last N days. */
export const SnapshotSelector = z.union([
  z.literal('latest'),
  z.strictObject({ randomWithinDays: z.int().min(1).max(35) }),
  z.strictObject({ id: z.string().min(1) }),
  z.strictObject({ pointInTime: z.iso.datetime({ offset: true }) }),
]);
export type SnapshotSelector = z.infer<typeof SnapshotSelector>;

/** One database that gets restore drills. */
export const DrillTarget = z.object({
  kind: z.enum(['rds-instance', 'aurora-cluster']).default('rds-instance'),
  /** Overrides `drill.schedule` for this database. */
  schedule: ScheduleExpression.optional(),
  snapshot: SnapshotSelector.default('latest'),
  /** What to check in the restored database. */
  profile: VerificationProfile,
  /** Secret with the master credentials; default: the source's RDS-managed master user secret. */
  secretArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
      'must be a Secrets Manager secret ARN',
    )
    .optional(),
  /** Instance class of the drill instance; the smallest class the engine allows by default. */
  instanceClass: z
    .string()
    .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'must be an instance class such as db.t4g.micro')
    .optional(),
  rtoSeconds: z.int().positive().optional(),
  rpoSeconds: z.int().positive().optional(),
});
export type DrillTarget = z.infer<typeof DrillTarget>;

/** Restore drills: prove that backups restore, and measure RTO and RPO. */
export const DrillConfig = z.object({
  enabled: z.boolean().default(false),
  /** Default schedule for every target: monthly. */
  schedule: ScheduleExpression.default('cron(0 5 1 * ? *)'),
  rtoSeconds: z.int().positive().default(3600),
  rpoSeconds: z.int().positive().default(300),
  /** A drill that has not verified by then fails (and still cleans up). */
  timeoutSeconds: z
    .int()
    .min(600)
    .max(86_400)
    .default(3 * 3600),
  /** How long to wait for the RDS event before polling the restore's status. */
  pollSeconds: z.int().min(30).max(3600).default(300),
  /** The janitor deletes `steward:drill` resources older than this, and says so. */
  janitorMaxAgeHours: z.number().min(1).max(168).default(6),
  janitorSchedule: ScheduleExpression.default('rate(1 hour)'),
  /** Drill reports kept in S3 for this long. */
  reportRetentionDays: z.int().min(1).max(3650).default(400),
  targets: z
    .record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/, 'must be a DB identifier'), DrillTarget)
    .default({}),
});

export const CostThreshold = z.object({ amountUsd: z.number().positive(), severity: Severity });
/** Filled in by the cost-alerts issue. */
export const CostConfig = z.object({
  enabled: z.boolean().default(false),
  schedule: ScheduleExpression.default('cron(0 7 * * ? *)'),
  thresholds: z.array(CostThreshold).default([
    { amountUsd: 2000, severity: 'warning' },
    { amountUsd: 2500, severity: 'warning' },
    { amountUsd: 3000, severity: 'critical' },
  ]),
});

/** Filled in by the scaling issue. */
export const ScalingConfig = z.object({
  enabled: z.boolean().default(false),
  rules: z.array(z.record(z.string(), z.unknown())).default([]),
});

export const StewardConfig = z
  .object({
    stage: Stage,
    /** Deploy target; omitted means the CLI's/CDK's default account. */
    account: z
      .string()
      .regex(/^\d{12}$/, 'must be a 12-digit account id')
      .optional(),
    region: Region,
    /** Stage-wide dry run: every destructive function plans and reports but changes nothing. */
    dryRun: z.boolean().default(false),
    notifications: NotificationsConfig.prefault({}),
    backup: BackupConfig.prefault({}),
    retention: RetentionConfig.prefault({}),
    dr: DrConfig.prefault({}),
    drill: DrillConfig.prefault({}),
    cost: CostConfig.prefault({}),
    scaling: ScalingConfig.prefault({}),
  })
  .superRefine((c, ctx) => {
    if (Object.hasOwn(c.backup.policies, ADHOC_POLICY)) {
      ctx.addIssue({
        code: 'custom',
        path: ['backup', 'policies', ADHOC_POLICY],
        message: `"${ADHOC_POLICY}" is reserved for pre-change snapshots (kept by steward:retain-until): pick another name`,
      });
    }
    for (const [name, p] of Object.entries(c.backup.policies)) {
      if (!(p.retention in c.retention.policies)) {
        ctx.addIssue({
          code: 'custom',
          path: ['backup', 'policies', name, 'retention'],
          message: `names retention policy "${p.retention}", which is not in retention.policies (${Object.keys(c.retention.policies).join(', ') || 'none'})`,
        });
      }
    }
    const copying = Object.entries(c.backup.policies).filter(([, p]) => p.copyToDr);
    if (copying.length && c.dr.region === c.region) {
      ctx.addIssue({
        code: 'custom',
        path: ['dr', 'region'],
        message: `must differ from the primary region ${c.region}`,
      });
    }
    if (copying.length && !c.dr.kmsKeyArn) {
      ctx.addIssue({
        code: 'custom',
        path: ['dr', 'kmsKeyArn'],
        message: `is required because policy "${copying[0]![0]}" copies to ${c.dr.region}: encrypted snapshots need a key in the destination region`,
      });
    }
    const keyRegion = c.dr.kmsKeyArn?.split(':')[3];
    if (keyRegion && keyRegion !== c.dr.region) {
      ctx.addIssue({
        code: 'custom',
        path: ['dr', 'kmsKeyArn'],
        message: `is in ${keyRegion} but the DR region is ${c.dr.region}: KMS keys are regional, use a key in ${c.dr.region}`,
      });
    }
  });
export type StewardConfig = z.infer<typeof StewardConfig>;
export type StewardConfigInput = z.input<typeof StewardConfig>;

/** Validate a stage config; throws one ConfigError naming every bad field path. */
export const parseConfig = (input: unknown, source: string): StewardConfig => {
  const r = StewardConfig.safeParse(input);
  if (!r.success) throw new ConfigError(`Invalid steward config (${source})`, formatIssues(r.error.issues));
  return r.data;
};
