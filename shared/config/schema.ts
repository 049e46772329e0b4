import * as z from '../zod.js';
import { ConfigError, formatIssues } from '../errors.js';
import { ADHOC_POLICY } from '../tags.js';
import { VerificationProfile } from '../drill/profile.js';

// Note on zod 4: `.default(v)` returns v as-is without parsing it; `.prefault(v)` parses it, so nested
// defaults apply. Every nested object below uses `prefault`.

/** EventBridge Scheduler expression: cron(...), rate(...) or at(...). */
export const ScheduleExpression = z
  .string()
  .check(
    z.regex(
      /^(cron|rate|at)\(.+\)$/,
      'must be a Scheduler expression such as cron(0 3 * * ? *) or rate(1 hour)',
    ),
  );

export const Region = z
  .string()
  .check(z.regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'must be an AWS region such as eu-west-1'));

export const KmsKeyArn = z
  .string()
  .check(z.regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+$/, 'must be a KMS key or alias ARN'));

export const Stage = z.enum(['dev', 'staging', 'prod']);
export type Stage = z.infer<typeof Stage>;

export const Severity = z.enum(['critical', 'warning', 'info']);
export type Severity = z.infer<typeof Severity>;

export const ResourceKind = z.enum(['rds-instance', 'aurora-cluster', 'elasticache']);
export type ResourceKind = z.infer<typeof ResourceKind>;

/** Policy names are tag values (`steward:backup=<name>`) and appear in snapshot ids. */
export const PolicyName = z
  .string()
  .check(
    z.regex(
      /^[a-z][a-z0-9-]{0,30}$/,
      'must be lowercase letters, digits and hyphens, starting with a letter',
    ),
  );

export const RetentionPolicy = z.object({
  /** Newest N days that have a snapshot, one snapshot (the newest) each. */
  daily: z._default(z.int().check(z.minimum(0), z.maximum(3650)), 30),
  /** Newest N ISO weeks, one each. */
  weekly: z._default(z.int().check(z.minimum(0), z.maximum(520)), 0),
  monthly: z._default(z.int().check(z.minimum(0), z.maximum(1200)), 0),
  yearly: z._default(z.int().check(z.minimum(0), z.maximum(100)), 0),
  /** Floor: never keep fewer than this many available snapshots of one source. */
  keepAtLeast: z._default(z.int().check(z.minimum(1), z.maximum(1000)), 3),
});
export type RetentionPolicy = z.infer<typeof RetentionPolicy>;

export const RetentionConfig = z.object({
  schedule: z._default(ScheduleExpression, 'cron(30 4 * * ? *)'),
  /** Bounds the blast radius of one run; the remainder is reported and handled next run. */
  maxDeletionsPerRun: z._default(z.int().check(z.minimum(1), z.maximum(1000)), 50),
  /** Also sweep the DR region's copies. */
  includeDrRegion: z._default(z.boolean(), true),
  policies: z.prefault(z.record(PolicyName, RetentionPolicy), { standard: {} }),
});

export const BackupPolicy = z.object({
  schedule: z._default(ScheduleExpression, 'cron(0 3 * * ? *)'),
  /** IANA zone for the schedule; retention math stays in UTC regardless. */
  timezone: z._default(z.string().check(z.minLength(1)), 'UTC'),
  kinds: z._default(z.array(ResourceKind).check(z.minLength(1)), [
    'rds-instance',
    'aurora-cluster',
    'elasticache',
  ]),
  /** Name of a retention policy in `retention.policies`. */
  retention: z._default(PolicyName, 'standard'),
  copyToDr: z._default(z.boolean(), false),
});
export type BackupPolicy = z.infer<typeof BackupPolicy>;

export const BackupConfig = z.object({
  preChangeRetainDays: z._default(z.int().check(z.minimum(1), z.maximum(3650)), 90),
  /** Warn when manual snapshot quota use reaches this share; at 100 % nothing is created. */
  quotaWarnPercent: z._default(z.number().check(z.minimum(1), z.maximum(100)), 80),
  /** AWS allows at most 5 cross-region copies in flight per destination region. */
  maxCopiesInFlight: z._default(z.int().check(z.minimum(1), z.maximum(5)), 5),
  /** Follow-up schedule that starts copies deferred by the in-flight limit. */
  copySchedule: z._default(ScheduleExpression, 'rate(1 hour)'),
  policies: z.prefault(z.record(PolicyName, BackupPolicy), { daily: {} }),
});

export const DrConfig = z.object({
  region: z._default(Region, 'us-west-2'),
  /** Key in the DR region used for encrypted cross-region copies (required when any policy copies). */
  kmsKeyArn: z.optional(KmsKeyArn),
});

const Topic = z.object({ emails: z._default(z.array(z.email()), []) });
export const NotificationsConfig = z.object({
  critical: z.prefault(Topic, {}),
  warning: z.prefault(Topic, {}),
  info: z.prefault(Topic, {}),
});

/** How a drill picks what to restore. `randomWithinDays` draws among available snapshots of the last N days. */
export const SnapshotSelector = z.union([
  z.literal('latest'),
  z.strictObject({ randomWithinDays: z.int().check(z.minimum(1), z.maximum(35)) }),
  z.strictObject({ id: z.string().check(z.minLength(1)) }),
  z.strictObject({ pointInTime: z.iso.datetime({ offset: true }) }),
]);
export type SnapshotSelector = z.infer<typeof SnapshotSelector>;

/** One database that gets restore drills. */
export const DrillTarget = z.object({
  kind: z._default(z.enum(['rds-instance', 'aurora-cluster']), 'rds-instance'),
  /** Overrides `drill.schedule` for this database. */
  schedule: z.optional(ScheduleExpression),
  snapshot: z._default(SnapshotSelector, 'latest'),
  /** What to check in the restored database. */
  profile: VerificationProfile,
  /** Secret with the master credentials; default: the source's RDS-managed master user secret. */
  secretArn: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
          'must be a Secrets Manager secret ARN',
        ),
      ),
  ),
  /** Instance class of the drill instance; the smallest class the engine allows by default. */
  instanceClass: z.optional(
    z.string().check(z.regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'must be an instance class such as db.t4g.micro')),
  ),
  rtoSeconds: z.optional(z.int().check(z.positive())),
  rpoSeconds: z.optional(z.int().check(z.positive())),
});
export type DrillTarget = z.infer<typeof DrillTarget>;

/** Restore drills: prove that backups restore, and measure RTO and RPO. */
export const DrillConfig = z.object({
  enabled: z._default(z.boolean(), false),
  /** Default schedule for every target: monthly. */
  schedule: z._default(ScheduleExpression, 'cron(0 5 1 * ? *)'),
  rtoSeconds: z._default(z.int().check(z.positive()), 3600),
  rpoSeconds: z._default(z.int().check(z.positive()), 300),
  /** A drill that has not verified by then fails (and still cleans up). */
  timeoutSeconds: z._default(z.int().check(z.minimum(600), z.maximum(86_400)), 3 * 3600),
  /** How long to wait for the RDS event before polling the restore's status. */
  pollSeconds: z._default(z.int().check(z.minimum(30), z.maximum(3600)), 300),
  /** The janitor deletes `steward:drill` resources older than this, and says so. */
  janitorMaxAgeHours: z._default(z.number().check(z.minimum(1), z.maximum(168)), 6),
  janitorSchedule: z._default(ScheduleExpression, 'rate(1 hour)'),
  /** Drill reports kept in S3 for this long. */
  reportRetentionDays: z._default(z.int().check(z.minimum(1), z.maximum(3650)), 400),
  targets: z._default(
    z.record(
      z.string().check(z.regex(/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/, 'must be a DB identifier')),
      DrillTarget,
    ),
    {},
  ),
});

/** A month total that alerts once per calendar month (UTC) when reached, on actuals and on the forecast. */
export const CostThreshold = z.object({
  amountUsd: z.number().check(z.positive()),
  severity: Severity,
  /** Names the threshold in alerts and in its dedup key; default `usd-<amount>`. */
  id: z.optional(
    z
      .string()
      .check(z.regex(/^[a-z0-9][a-z0-9.-]{0,39}$/, 'must be lowercase letters, digits, dots and hyphens')),
  ),
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
const ServicePattern = z.string().check(z.minLength(1), z.maxLength(200));

/** Per-hour spend limit on named services (the LLM/API rule). */
export const HourlyCostLimit = z.object({
  id: z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be lowercase letters, digits and hyphens')),
  services: z.array(ServicePattern).check(z.minLength(1)),
  maxUsdPerHour: z.number().check(z.positive()),
  severity: z._default(Severity, 'critical'),
});
export type HourlyCostLimit = z.infer<typeof HourlyCostLimit>;

/** Cost anomaly severity by total impact: the highest `atLeastUsd` at or below the impact wins. */
export const AnomalyRoute = z.object({ atLeastUsd: z.number().check(z.minimum(0)), severity: Severity });

/** Cost alerts: monthly thresholds on actuals and forecast, daily spikes, per-hour limits, anomalies. */
export const CostConfig = z
  .object({
    enabled: z._default(z.boolean(), false),
    /** Each run makes 3 Cost Explorer requests ($0.01 each, 4 with `hourly`); daily is plenty for a monthly bill. */
    schedule: z._default(ScheduleExpression, 'cron(0 7 * * ? *)'),
    thresholds: z._default(z.array(CostThreshold), [
      { amountUsd: 2000, severity: 'warning' },
      { amountUsd: 2500, severity: 'warning' },
      { amountUsd: 3000, severity: 'critical' },
    ]),
    metric: z._default(CostMetric, 'UnblendedCost'),
    /** Also evaluate the thresholds on the forecast month-end total (early warning). */
    forecast: z._default(z.boolean(), true),
    /** Second grouping next to SERVICE: a cost-allocation tag key, or linked accounts (management account). */
    groupBy: z.optional(
      z.union([
        z.strictObject({ tag: z.string().check(z.minLength(1), z.maxLength(128)) }),
        z.literal('linked-account'),
      ]),
    ),
    /** Day-over-baseline spikes per service; both deltas must be exceeded, so small services stay quiet. */
    spikes: z.prefault(
      z.object({
        enabled: z._default(z.boolean(), true),
        baselineDays: z._default(z.int().check(z.minimum(3), z.maximum(14)), 7),
        minIncreasePercent: z._default(z.number().check(z.positive()), 50),
        minIncreaseUsd: z._default(z.number().check(z.positive()), 50),
        severity: z._default(Severity, 'warning'),
      }),
      {},
    ),
    /**
     * The account has hourly granularity enabled in Cost Explorer (opt-in, billed by AWS). Then the
     * per-hour limits use one extra HOURLY query (4 requests per run); otherwise daily cost ÷ 24.
     */
    hourly: z._default(z.boolean(), false),
    hourlyLimits: z._default(z.array(HourlyCostLimit), [
      {
        id: 'llm-api',
        services: ['Amazon Bedrock', '*(Amazon Bedrock Edition)'],
        maxUsdPerHour: 100,
        severity: 'critical',
      },
    ]),
    /** Cost Anomaly Detection: polled each run and accepted as EventBridge / SNS events. */
    anomalies: z.prefault(
      z.object({
        enabled: z._default(z.boolean(), true),
        /** Poll window: anomalies whose end date falls in the last N days. */
        lookbackDays: z._default(z.int().check(z.minimum(1), z.maximum(90)), 3),
        /** Smaller anomalies are neither alerted nor remembered. */
        minImpactUsd: z._default(z.number().check(z.minimum(0)), 10),
        routes: z._default(z.array(AnomalyRoute).check(z.minLength(1)), [
          { atLeastUsd: 1000, severity: 'critical' },
          { atLeastUsd: 100, severity: 'warning' },
          { atLeastUsd: 0, severity: 'info' },
        ]),
        /** An existing SNS topic an anomaly subscription (IMMEDIATE) publishes to: the function subscribes. */
        snsTopicArn: z.optional(
          z.string().check(z.regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:.+$/, 'must be an SNS topic ARN')),
        ),
      }),
      {},
    ),
    consoleUrl: z._default(z.url(), 'https://console.aws.amazon.com/cost-management/home#/cost-explorer'),
  })
  .check(
    z.superRefine((c, ctx) => {
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
          ctx.addIssue({
            code: 'custom',
            path: ['hourlyLimits', i, 'id'],
            message: `"${l.id}" is used twice`,
          });
        limits.add(l.id);
      });
      if (!c.anomalies.routes.some((r) => r.atLeastUsd <= c.anomalies.minImpactUsd)) {
        ctx.addIssue({
          code: 'custom',
          path: ['anomalies', 'routes'],
          message: `no route covers anomalies from minImpactUsd ${c.anomalies.minImpactUsd}: add one with atLeastUsd <= ${c.anomalies.minImpactUsd}`,
        });
      }
    }),
  );
export type CostConfig = z.infer<typeof CostConfig>;

// --- Scaling: alarm-driven responses and remediation playbooks (README: Scaling and remediation playbooks).

/** An RDS instance class: `db.<family>.<size>`, e.g. `db.r6g.xlarge`. */
export const InstanceClass = z
  .string()
  .check(z.regex(/^db\.[a-z0-9-]+\.[a-z0-9]+$/, 'must be an instance class such as db.r6g.large'));

/** A DB instance, Aurora cluster or replication group identifier (RDS: 1–63, ElastiCache: 1–40). */
const ScalingResourceId = z
  .string()
  .check(
    z.regex(/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/, 'must be a DB instance, cluster or replication group identifier'),
  );

// CloudWatch alarm names: 1–255 characters.
const AlarmName = z.string().check(z.minLength(1), z.maxLength(255));

/** A CloudWatch alarm steward creates for a rule (otherwise the rule reacts to an alarm you own). */
export const ScalingAlarmSpec = z.strictObject({
  /** Metric of the rule's resource: AWS/RDS for RDS and Aurora, AWS/ElastiCache for caches. */
  metric: z.string().check(z.regex(/^[A-Za-z0-9]+$/, 'must be a metric name such as CPUUtilization')),
  threshold: z.number(),
  comparison: z._default(z.enum(['>', '>=', '<', '<=']), '>'),
  statistic: z._default(z.enum(['Average', 'Maximum', 'Minimum', 'Sum', 'SampleCount']), 'Average'),
  periodSeconds: z._default(z.union([z.literal(60), z.literal(300), z.literal(900), z.literal(3600)]), 60),
  /** `CPUUtilization > 80 for 10 min` = period 60 s, 10 evaluation periods. */
  evaluationPeriods: z._default(z.int().check(z.minimum(1), z.maximum(100)), 10),
  datapointsToAlarm: z.optional(z.int().check(z.minimum(1), z.maximum(100))),
  /**
   * Default: `DBInstanceIdentifier` / `DBClusterIdentifier` = the resource. ElastiCache publishes per node,
   * so cache alarms must name one, e.g. `{ CacheClusterId: 'sessions-redis-0001-001' }`.
   */
  dimensions: z.optional(z.record(z.string().check(z.minLength(1)), z.string().check(z.minLength(1)))),
});
export type ScalingAlarmSpec = z.infer<typeof ScalingAlarmSpec>;

/** Which alarm a rule answers: one name (optionally created by steward), or every alarm with a prefix. */
export const AlarmMatch = z.union([
  z.strictObject({ name: AlarmName, create: z.optional(ScalingAlarmSpec) }),
  z.strictObject({ prefix: AlarmName }),
]);
export type AlarmMatch = z.infer<typeof AlarmMatch>;

/** What a rule does to its resource. */
export const ScalingAction = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('rds.scaleUp'),
    /** Classes in order, one family; default: the family's standard sizes from the current class to `max`. */
    ladder: z.optional(z.array(InstanceClass).check(z.minLength(2))),
    max: InstanceClass,
    /** false: the change waits for the next maintenance window (and shows as a pending modification). */
    applyImmediately: z._default(z.boolean(), false),
  }),
  z.strictObject({
    type: z.literal('rds.addReadReplica'),
    /** RDS allows up to 15 read replicas per source, Aurora up to 15 readers per cluster. */
    maxReplicas: z.int().check(z.minimum(1), z.maximum(15)),
    /** Default: the source's class (Aurora: the writer's). */
    instanceClass: z.optional(InstanceClass),
  }),
  z.strictObject({
    type: z.literal('elasticache.addShard'),
    max: z.int().check(z.minimum(2), z.maximum(500)),
  }),
  /** Replicas per shard; ElastiCache allows 0–5. */
  z.strictObject({
    type: z.literal('elasticache.addReplica'),
    max: z.int().check(z.minimum(1), z.maximum(5)),
  }),
  z.strictObject({ type: z.literal('rds.failover') }),
  z.strictObject({
    type: z.literal('elasticache.failover'),
    /** Shard to fail over; default the first (`0001`). */
    nodeGroupId: z.optional(z.string().check(z.regex(/^\d{4}$/, 'must be a node group id such as 0001'))),
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
  enabled: z._default(z.boolean(), false),
  afterOkMinutes: z._default(z.int().check(z.minimum(15), z.maximum(10_080)), 60),
  /** Floor: a class for rds.scaleUp (default the ladder's first), a count otherwise (replicas 0, shards 1, cache replicas 1). */
  min: z.optional(z.union([InstanceClass, z.int().check(z.minimum(0))])),
});

/** One rule: an alarm (name or prefix) → one action on one resource, with its guardrails. */
export const ScalingRule = z.pipe(
  z
    .strictObject({
      alarm: AlarmMatch,
      /** DB instance, Aurora cluster or replication group id. */
      resource: ScalingResourceId,
      /** Default: the action's first kind (`rds-instance`, or `elasticache` for elasticache.*). */
      kind: z.optional(ResourceKind),
      action: ScalingAction,
      /** auto: act; approve: send the exact change and wait for `steward approve <id>`; dryRun: only tell. */
      mode: z._default(ScalingMode, 'auto'),
      /** Severity of every notification of this rule (failures are always critical). */
      severity: z._default(Severity, 'warning'),
      /** Per-resource quiet time after steward changed the resource. */
      cooldownMinutes: z._default(z.int().check(z.minimum(0), z.maximum(10_080)), 30),
      scaleIn: z.prefault(ScaleIn, {}),
    })
    .check(
      z.superRefine((r, ctx) => {
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
            ctx.addIssue({
              code: 'custom',
              path: ['action', 'max'],
              message: `${a.max} is not on the ladder`,
            });
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
              message:
                'needs alarm.name: with a prefix, one OK alarm does not mean every matching alarm is OK',
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
      }),
    ),
  z.transform((r) => ({ ...r, kind: r.kind ?? ACTION_KINDS[r.action.type][0]! })),
);
export type ScalingRule = z.infer<typeof ScalingRule>;

const SnsTopicArn = z
  .string()
  .check(z.regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:.+$/, 'must be an SNS topic ARN'));

/** Scaling responses and remediation playbooks triggered by CloudWatch alarms. */
export const ScalingConfig = z
  .object({
    enabled: z._default(z.boolean(), false),
    /** An approval not executed by then is refused (the planned change would be stale). */
    approvalTtlHours: z._default(z.int().check(z.minimum(1), z.maximum(168)), 24),
    /** Seen-event keys live this long; EventBridge retries a target for up to 24 h. */
    dedupTtlHours: z._default(z.int().check(z.minimum(25), z.maximum(720)), 48),
    /** Topics your existing alarms notify: the function subscribes, filtered to the rules' alarms. */
    alarmTopicArns: z._default(z.array(SnsTopicArn), []),
    /** How often steward looks for alarms that have stayed OK long enough to scale in (only with scale-in). */
    scaleInSchedule: z._default(ScheduleExpression, 'rate(15 minutes)'),
    rules: z._default(z.record(PolicyName, ScalingRule), {}),
  })
  .check(
    z.superRefine((c, ctx) => {
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
    }),
  );
export type ScalingConfig = z.infer<typeof ScalingConfig>;

export const StewardConfig = z
  .object({
    stage: Stage,
    /** Deploy target; omitted means the CLI's/CDK's default account. */
    account: z.optional(z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account id'))),
    region: Region,
    /** Stage-wide dry run: every destructive function plans and reports but changes nothing. */
    dryRun: z._default(z.boolean(), false),
    notifications: z.prefault(NotificationsConfig, {}),
    backup: z.prefault(BackupConfig, {}),
    retention: z.prefault(RetentionConfig, {}),
    dr: z.prefault(DrConfig, {}),
    drill: z.prefault(DrillConfig, {}),
    cost: z.prefault(CostConfig, {}),
    scaling: z.prefault(ScalingConfig, {}),
  })
  .check(
    z.superRefine((c, ctx) => {
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
    }),
  );
export type StewardConfig = z.infer<typeof StewardConfig>;
export type StewardConfigInput = z.input<typeof StewardConfig>;

/** Validate a stage config; throws one ConfigError naming every bad field path. */
export const parseConfig = (input: unknown, source: string): StewardConfig => {
  const r = StewardConfig.safeParse(input);
  if (!r.success) throw new ConfigError(`Invalid steward config (${source})`, formatIssues(r.error.issues));
  return r.data;
};
