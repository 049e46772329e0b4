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

/** A month total that alerts once per calendar month (UTC) when reached, on actuals and on the forecast. */
export const CostThreshold = z.object({
  amountUsd: z.number().positive(),
  severity: Severity,
  /** Names the threshold in alerts and in its dedup key; default `usd-<amount>`. */
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{0,39}$/, 'must be lowercase letters, digits, dots and hyphens')
    .optional(),
});
export type CostThreshold = z.infer<typeof CostThreshold>;

/** Cost Explorer metric the thresholds are written in (what the bill calls "cost"). */
export const CostMetric = z.enum([
  'UnblendedCost',
  'NetUnblendedCost',
  'AmortizedCost',
  'NetAmortizedCost',
  'BlendedCost',
]);
export type CostMetric = z.infer<typeof CostMetric>;

/** Service names as Cost Explorer spells them; `*` matches any run of characters. */
const ServicePattern = z.string().min(1).max(200);

/** Per-hour spend limit on named services (the LLM/API rule). */
export const HourlyCostLimit = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be lowercase letters, digits and hyphens'),
  services: z.array(ServicePattern).min(1),
  maxUsdPerHour: z.number().positive(),
  severity: Severity.default('critical'),
});
export type HourlyCostLimit = z.infer<typeof HourlyCostLimit>;

/** Cost anomaly severity by total impact: the highest `atLeastUsd` at or below the impact wins. */
export const AnomalyRoute = z.object({ atLeastUsd: z.number().min(0), severity: Severity });

/** Cost alerts: monthly thresholds on actuals and forecast, daily spikes, per-hour limits, anomalies. */
export const CostConfig = z
  .object({
    enabled: z.boolean().default(false),
    /** Each run makes 3 Cost Explorer requests ($0.01 each, 4 with `hourly`); daily is plenty for a monthly bill. */
    schedule: ScheduleExpression.default('cron(0 7 * * ? *)'),
    thresholds: z.array(CostThreshold).default([
      { amountUsd: 2000, severity: 'warning' },
      { amountUsd: 2500, severity: 'warning' },
      { amountUsd: 3000, severity: 'critical' },
    ]),
    metric: CostMetric.default('UnblendedCost'),
    /** Also evaluate the thresholds on the forecast month-end total (early warning). */
    forecast: z.boolean().default(true),
    /** Second grouping next to SERVICE: a cost-allocation tag key, or linked accounts (management account). */
    groupBy: z
      .union([z.strictObject({ tag: z.string().min(1).max(128) }), z.literal('linked-account')])
      .optional(),
    /** Day-over-baseline spikes per service; both deltas must be exceeded, so small services stay quiet. */
    spikes: z
      .object({
        enabled: z.boolean().default(true),
        baselineDays: z.int().min(3).max(14).default(7),
        minIncreasePercent: z.number().positive().default(50),
        minIncreaseUsd: z.number().positive().default(50),
        severity: Severity.default('warning'),
      })
      .prefault({}),
    /**
     * The account has hourly granularity enabled in Cost Explorer (opt-in, billed by AWS). Then the
     * per-hour limits use one extra HOURLY query (4 requests per run); otherwise daily cost ÷ 24.
     */
    hourly: z.boolean().default(false),
    hourlyLimits: z.array(HourlyCostLimit).default([
      {
        id: 'llm-api',
        services: ['Amazon Bedrock', '*(Amazon Bedrock Edition)'],
        maxUsdPerHour: 100,
        severity: 'critical',
      },
    ]),
    /** Cost Anomaly Detection: polled each run and accepted as EventBridge / SNS events. */
    anomalies: z
      .object({
        enabled: z.boolean().default(true),
        /** Poll window: anomalies whose end date falls in the last N days. */
        lookbackDays: z.int().min(1).max(90).default(3),
        /** Smaller anomalies are neither alerted nor remembered. */
        minImpactUsd: z.number().min(0).default(10),
        routes: z
          .array(AnomalyRoute)
          .min(1)
          .default([
            { atLeastUsd: 1000, severity: 'critical' },
            { atLeastUsd: 100, severity: 'warning' },
            { atLeastUsd: 0, severity: 'info' },
          ]),
        /** An existing SNS topic an anomaly subscription (IMMEDIATE) publishes to: the function subscribes. */
        snsTopicArn: z
          .string()
          .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:.+$/, 'must be an SNS topic ARN')
          .optional(),
      })
      .prefault({}),
    consoleUrl: z.url().default('https://console.aws.amazon.com/cost-management/home#/cost-explorer'),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.thresholds.forEach((t, i) => {
      const id = t.id ?? `usd-${t.amountUsd}`;
      if (seen.has(id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['thresholds', i],
          message: `threshold id "${id}" is used twice: alerts are deduplicated by id, give each threshold its own`,
        });
      }
      seen.add(id);
    });
    const limits = new Set<string>();
    c.hourlyLimits.forEach((l, i) => {
      if (limits.has(l.id))
        ctx.addIssue({ code: 'custom', path: ['hourlyLimits', i, 'id'], message: `"${l.id}" is used twice` });
      limits.add(l.id);
    });
    if (!c.anomalies.routes.some((r) => r.atLeastUsd <= c.anomalies.minImpactUsd)) {
      ctx.addIssue({
        code: 'custom',
        path: ['anomalies', 'routes'],
        message: `no route covers anomalies from minImpactUsd ${c.anomalies.minImpactUsd}: add one with atLeastUsd <= ${c.anomalies.minImpactUsd}`,
      });
    }
  });
export type CostConfig = z.infer<typeof CostConfig>;

// --- Scaling: alarm-driven responses and remediation playbooks (README: Scaling and remediation playbooks).

/** An RDS instance class: `db.<family>.<size>`, e.g. `db.r6g.xlarge`. */
export const InstanceClass = z
  .string()
  .regex(/^db\.[a-z0-9-]+\.[a-z0-9]+$/, 'must be an instance class such as db.r6g.large');

/** A DB instance, Aurora cluster or replication group identifier (RDS: 1–63, ElastiCache: 1–40). */
const ScalingResourceId = z
  .string()
  .regex(/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/, 'must be a DB instance, cluster or replication group identifier');

// CloudWatch alarm names: 1–255 characters.
const AlarmName = z.string().min(1).max(255);

/** A CloudWatch alarm steward creates for a rule (otherwise the rule reacts to an alarm you own). */
export const ScalingAlarmSpec = z.strictObject({
  /** Metric of the rule's resource: AWS/RDS for RDS and Aurora, AWS/ElastiCache for caches. */
  metric: z.string().regex(/^[A-Za-z0-9]+$/, 'must be a metric name such as CPUUtilization'),
  threshold: z.number(),
  comparison: z.enum(['>', '>=', '<', '<=']).default('>'),
  statistic: z.enum(['Average', 'Maximum', 'Minimum', 'Sum', 'SampleCount']).default('Average'),
  periodSeconds: z.union([z.literal(60), z.literal(300), z.literal(900), z.literal(3600)]).default(60),
  /** `CPUUtilization > 80 for 10 min` = period 60 s, 10 evaluation periods. */
  evaluationPeriods: z.int().min(1).max(100).default(10),
  datapointsToAlarm: z.int().min(1).max(100).optional(),
  /**
   * Default: `DBInstanceIdentifier` / `DBClusterIdentifier` = the resource. ElastiCache publishes per node,
   * so cache alarms must name one, e.g. `{ CacheClusterId: 'sessions-redis-0001-001' }`.
   */
  dimensions: z.record(z.string().min(1), z.string().min(1)).optional(),
});
export type ScalingAlarmSpec = z.infer<typeof ScalingAlarmSpec>;

/** Which alarm a rule answers: one name (optionally created by steward), or every alarm with a prefix. */
export const AlarmMatch = z.union([
  z.strictObject({ name: AlarmName, create: ScalingAlarmSpec.optional() }),
  z.strictObject({ prefix: AlarmName }),
]);
export type AlarmMatch = z.infer<typeof AlarmMatch>;

/** What a rule does to its resource. */
export const ScalingAction = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('rds.scaleUp'),
    /** Classes in order, one family; default: the family's standard sizes from the current class to `max`. */
    ladder: z.array(InstanceClass).min(2).optional(),
    max: InstanceClass,
    /** false: the change waits for the next maintenance window (and shows as a pending modification). */
    applyImmediately: z.boolean().default(false),
  }),
  z.strictObject({
    type: z.literal('rds.addReadReplica'),
    /** RDS allows up to 15 read replicas per source, Aurora up to 15 readers per cluster. */
    maxReplicas: z.int().min(1).max(15),
    /** Default: the source's class (Aurora: the writer's). */
    instanceClass: InstanceClass.optional(),
  }),
  z.strictObject({ type: z.literal('elasticache.addShard'), max: z.int().min(2).max(500) }),
  /** Replicas per shard; ElastiCache allows 0–5. */
  z.strictObject({ type: z.literal('elasticache.addReplica'), max: z.int().min(1).max(5) }),
  z.strictObject({ type: z.literal('rds.failover') }),
  z.strictObject({
    type: z.literal('elasticache.failover'),
    /** Shard to fail over; default the first (`0001`). */
    nodeGroupId: z
      .string()
      .regex(/^\d{4}$/, 'must be a node group id such as 0001')
      .optional(),
  }),
  z.strictObject({ type: z.literal('notify') }),
]);
export type ScalingAction = z.infer<typeof ScalingAction>;
export type ScalingActionType = ScalingAction['type'];

/** The resource kinds each action can act on; the first is the default `kind`. */
export const ACTION_KINDS: Record<ScalingActionType, readonly ResourceKind[]> = {
  'rds.scaleUp': ['rds-instance'],
  'rds.addReadReplica': ['rds-instance', 'aurora-cluster'],
  'elasticache.addShard': ['elasticache'],
  'elasticache.addReplica': ['elasticache'],
  'rds.failover': ['rds-instance', 'aurora-cluster'],
  'elasticache.failover': ['elasticache'],
  notify: ['rds-instance', 'aurora-cluster', 'elasticache'],
};

/** Actions that have a reverse step for scale-in. */
export const SCALE_IN_ACTIONS: readonly ScalingActionType[] = [
  'rds.scaleUp',
  'rds.addReadReplica',
  'elasticache.addShard',
  'elasticache.addReplica',
];

export const ScalingMode = z.enum(['auto', 'approve', 'dryRun']);
export type ScalingMode = z.infer<typeof ScalingMode>;

/** One step back after the alarm has been OK for `afterOkMinutes`. Off by default. */
export const ScaleIn = z.strictObject({
  enabled: z.boolean().default(false),
  afterOkMinutes: z.int().min(15).max(10_080).default(60),
  /** Floor: a class for rds.scaleUp (default the ladder's first), a count otherwise (replicas 0, shards 1, cache replicas 1). */
  min: z.union([InstanceClass, z.int().min(0)]).optional(),
});

/** One rule: an alarm (name or prefix) → one action on one resource, with its guardrails. */
export const ScalingRule = z
  .strictObject({
    alarm: AlarmMatch,
    /** DB instance, Aurora cluster or replication group id. */
    resource: ScalingResourceId,
    /** Default: the action's first kind (`rds-instance`, or `elasticache` for elasticache.*). */
    kind: ResourceKind.optional(),
    action: ScalingAction,
    /** auto: act; approve: send the exact change and wait for `steward approve <id>`; dryRun: only tell. */
    mode: ScalingMode.default('auto'),
    /** Severity of every notification of this rule (failures are always critical). */
    severity: Severity.default('warning'),
    /** Per-resource quiet time after steward changed the resource. */
    cooldownMinutes: z.int().min(0).max(10_080).default(30),
    scaleIn: ScaleIn.prefault({}),
  })
  .superRefine((r, ctx) => {
    const kinds = ACTION_KINDS[r.action.type];
    if (r.kind && !kinds.includes(r.kind)) {
      ctx.addIssue({
        code: 'custom',
        path: ['kind'],
        message: `${r.action.type} acts on ${kinds.join(' or ')}, not ${r.kind}`,
      });
    }
    const a = r.action;
    if (a.type === 'rds.scaleUp') {
      const family = (c: string) => c.split('.')[1];
      const ladder = a.ladder ?? [];
      const wrong = [...ladder, a.max].find((c) => family(c) !== family(ladder[0] ?? a.max));
      if (wrong)
        ctx.addIssue({
          code: 'custom',
          path: ['action', 'ladder'],
          message: `must stay in one instance family: ${wrong} is not db.${family(ladder[0] ?? a.max)}.*`,
        });
      if (new Set(ladder).size !== ladder.length)
        ctx.addIssue({ code: 'custom', path: ['action', 'ladder'], message: 'must not repeat a class' });
      if (a.ladder && !ladder.includes(a.max))
        ctx.addIssue({ code: 'custom', path: ['action', 'max'], message: `${a.max} is not on the ladder` });
    }
    if (r.scaleIn.enabled) {
      if (!SCALE_IN_ACTIONS.includes(a.type))
        ctx.addIssue({
          code: 'custom',
          path: ['scaleIn', 'enabled'],
          message: `${a.type} has no scale-in step (only ${SCALE_IN_ACTIONS.join(', ')})`,
        });
      if (!('name' in r.alarm))
        ctx.addIssue({
          code: 'custom',
          path: ['scaleIn', 'enabled'],
          message: 'needs alarm.name: with a prefix, one OK alarm does not mean every matching alarm is OK',
        });
    }
    const min = r.scaleIn.min;
    if (r.scaleIn.enabled && a.type === 'rds.scaleUp' && !a.ladder && min === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['scaleIn', 'min'],
        message: 'is required with scale-in when the action has no ladder: the floor must be explicit',
      });
    if (min !== undefined && (typeof min === 'string') !== (a.type === 'rds.scaleUp'))
      ctx.addIssue({
        code: 'custom',
        path: ['scaleIn', 'min'],
        message:
          a.type === 'rds.scaleUp' ? 'must be an instance class' : 'must be a count (replicas or shards)',
      });
    if ('create' in r.alarm && r.alarm.create && (r.kind ?? kinds[0]) === 'elasticache') {
      if (!r.alarm.create.dimensions)
        ctx.addIssue({
          code: 'custom',
          path: ['alarm', 'create', 'dimensions'],
          message:
            'is required for ElastiCache: metrics are per node, e.g. { CacheClusterId: "<group>-0001-001" }',
        });
    }
  })
  .transform((r) => ({ ...r, kind: r.kind ?? ACTION_KINDS[r.action.type][0]! }));
export type ScalingRule = z.infer<typeof ScalingRule>;

const SnsTopicArn = z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:.+$/, 'must be an SNS topic ARN');

/** Scaling responses and remediation playbooks triggered by CloudWatch alarms. */
export const ScalingConfig = z
  .object({
    enabled: z.boolean().default(false),
    /** An approval not executed by then is refused (the planned change would be stale). */
    approvalTtlHours: z.int().min(1).max(168).default(24),
    /** Seen-event keys live this long; EventBridge retries a target for up to 24 h. */
    dedupTtlHours: z.int().min(25).max(720).default(48),
    /** Topics your existing alarms notify: the function subscribes, filtered to the rules' alarms. */
    alarmTopicArns: z.array(SnsTopicArn).default([]),
    /** How often steward looks for alarms that have stayed OK long enough to scale in (only with scale-in). */
    scaleInSchedule: ScheduleExpression.default('rate(15 minutes)'),
    rules: z.record(PolicyName, ScalingRule).default({}),
  })
  .superRefine((c, ctx) => {
    const names = new Map<string, string>();
    const prefixes = new Map<string, string>();
    for (const [rule, r] of Object.entries(c.rules)) {
      const [seen, value] = 'name' in r.alarm ? [names, r.alarm.name] : [prefixes, r.alarm.prefix];
      const other = seen.get(value);
      if (other)
        ctx.addIssue({
          code: 'custom',
          path: ['rules', rule, 'alarm'],
          message: `"${value}" is already answered by rule "${other}": one alarm maps to one action`,
        });
      seen.set(value, rule);
    }
  });
export type ScalingConfig = z.infer<typeof ScalingConfig>;

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
