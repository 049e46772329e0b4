import * as z from '../zod.js';
import { ConfigError } from '../errors.js';
import { type ConfigProblem, configProblems, renderPath } from './issues.js';
import { ADHOC_POLICY } from '../tags.js';
import * as profile from '../drill/profile.js';
import * as redisProfile from '../drill/redis/profile.js';
import { scheduleProblem } from './schedule.js';
import { alwaysCheck, crossCheck, strictObject } from './strict.js';
import { ConsistencyConfig } from './consistency.js';
import { EbsVerify } from './ebs-verifier.js';
import { closest } from './suggest.js';
import * as parts from './parts.js';
import { zodOf } from './from-valid.js';
import { ladderFor } from './ladder.js';

export { KmsKeyArn, Region, ResourceKind, SnapshotSelector } from './parts.js';

// The parts the functions also parse at run time are declared once, in steward's validation kit
// (shared/valid.ts); the config validates them through their zod form.
const Region = zodOf(parts.Region);
const KmsKeyArn = zodOf(parts.KmsKeyArn);
const ResourceKind = zodOf(parts.ResourceKind);
type ResourceKind = parts.ResourceKind;
const SnapshotSelector = zodOf(parts.SnapshotSelector);
type SnapshotSelector = parts.SnapshotSelector;
const TableName = zodOf(profile.TableName);
const VerificationProfile = zodOf(profile.VerificationProfile);
const RedisVerificationProfile = zodOf(redisProfile.RedisVerificationProfile);

// Note on zod 4: `.default(v)` returns v as-is without parsing it; `.prefault(v)` parses it, so nested
// defaults apply. Every nested object below uses `prefault`.

/** EventBridge Scheduler expression: cron(...), rate(...) or at(...), parsed (shared/config/schedule.ts). */
export const ScheduleExpression = z.string().check(
  z.superRefine((s, ctx) => {
    const problem = scheduleProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: s });
  }),
);

const isTimeZone = (zone: string): boolean => {
  // The default, without Intl: the first DateTimeFormat loads the time-zone data (~20 ms of cold start).
  if (zone === 'UTC') return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** IANA time zone name, as EventBridge Scheduler takes it. */
export const TimeZone = z
  .string()
  .check(z.refine(isTimeZone, 'must be an IANA time zone such as UTC or Europe/Paris'));

// YAML reads an unquoted 123456789012 as a number (and drops a leading zero), so say how to fix it.
const quotedId = (what: string) =>
  z.string({
    error: (iss) =>
      typeof iss.input === 'number'
        ? `must be a string: quote the ${what} ("123456789012"); YAML reads bare digits as a number`
        : undefined,
  });

export const AccountId = quotedId('account id').check(z.regex(/^\d{12}$/, 'must be a 12-digit account id'));

/**
 * Stage names go into resource names (`steward-<stage>-backup-<policy>` must fit the Scheduler's 64
 * characters with a 31-character policy name), stack names and tags: 1-16 lowercase letters, digits and
 * single hyphens, starting with a letter.
 */
export const StageName = z
  .string()
  .check(
    z.regex(
      /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,15}$/,
      'must be 1-16 lowercase letters, digits and single hyphens, starting with a letter (it goes into resource names)',
    ),
  );

export const Severity = z.enum(['critical', 'warning', 'info']);
export type Severity = z.infer<typeof Severity>;

/** Policy names are tag values (`steward:backup=<name>`) and appear in snapshot ids. */
export const PolicyName = z
  .string()
  .check(
    z.regex(
      /^[a-z][a-z0-9-]{0,30}$/,
      'must be lowercase letters, digits and hyphens, starting with a letter',
    ),
  );

export const RetentionPolicy = strictObject({
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

/**
 * How many snapshots retention may delete per UTC day (all runs together): normal expiry always fits, a
 * mistake does not. The day may delete max(floor, ceil(dueMultiple × due)), where `due` is what became
 * due in the last 48 h and is still there, and never more than `safetyCap`; reaching it stops deleting and alerts.
 */
export const DeletionLimitsConfig = strictObject({
  floor: z._default(z.int().check(z.minimum(0), z.maximum(100_000)), 50),
  dueMultiple: z._default(z.number().check(z.minimum(1), z.maximum(10)), 2),
  safetyCap: z._default(z.int().check(z.minimum(1), z.maximum(100_000)), 2000),
}).check(
  crossCheck(['floor', 'safetyCap'], (v, ctx) => {
    if (v.floor > v.safetyCap)
      ctx.addIssue({
        code: 'custom',
        path: ['floor'],
        input: v.floor,
        message: `must not exceed safetyCap (${v.safetyCap}): the floor is always allowed, the safety cap never exceeded`,
      });
  }),
);

export const RetentionConfig = strictObject(
  {
    schedule: z._default(ScheduleExpression, 'cron(30 4 * * ? *)'),
    /** The day's deletion allowance: relative to what is due, under an absolute safety cap that alerts. */
    deletions: z.prefault(DeletionLimitsConfig, {}),
    /** Also sweep the DR region's copies. */
    includeDrRegion: z._default(z.boolean(), true),
    policies: z.prefault(z.record(PolicyName, RetentionPolicy), { standard: {} }),
  },
  {
    maxDeletionsPerRun:
      'a fixed cap made retention fall behind on large estates; it is replaced by retention.deletions (floor, dueMultiple, safetyCap): move the value to retention.deletions.floor',
  },
);

export const BackupPolicy = strictObject({
  schedule: z._default(ScheduleExpression, 'cron(0 3 * * ? *)'),
  /** IANA zone for the schedule; retention math stays in UTC regardless. */
  timezone: z._default(TimeZone, 'UTC'),
  kinds: z._default(z.array(ResourceKind).check(z.minLength(1)), [
    'rds-instance',
    'aurora-cluster',
    'elasticache',
  ]),
  /** Name of a retention policy in `retention.policies`. */
  retention: z._default(PolicyName, 'standard'),
  copyToDr: z._default(z.boolean(), false),
  /**
   * DR-lag objective (hours): the age of the newest data in the DR region above which the policy's DR-lag
   * alarm fires. Default: the schedule's interval plus `report.drGraceHours` (36 h for a daily backup), the
   * point where `steward status` calls the DR copy LATE.
   */
  drLagObjectiveHours: z.optional(z.int().check(z.minimum(1), z.maximum(2160))),
  /**
   * Application consistency of EC2 instances (EBS snapshot sets): pre/post commands and an optional dump
   * to S3, run through Systems Manager. Without it an instance's snapshot set is crash-consistent.
   */
  consistency: z.optional(ConsistencyConfig),
});
export type BackupPolicy = z.infer<typeof BackupPolicy>;

export const BackupConfig = strictObject({
  preChangeRetainDays: z._default(z.int().check(z.minimum(1), z.maximum(3650)), 90),
  /** Warn when manual snapshot quota use reaches this share; at 100 % nothing is created. */
  quotaWarnPercent: z._default(z.number().check(z.minimum(1), z.maximum(100)), 80),
  /**
   * Cross-region copies in flight per destination region. AWS documents 20 DB snapshot copies and 5 DB
   * cluster snapshot copies per destination region: cluster copies also stay under 5.
   */
  maxCopiesInFlight: z._default(z.int().check(z.minimum(1), z.maximum(20)), 20),
  /**
   * Safety net: a full listing of both regions that starts what events missed (RDS events are best effort;
   * Aurora cluster copies have no copy-finished event). Copies otherwise start as others finish.
   */
  copySchedule: z._default(ScheduleExpression, 'rate(1 hour)'),
  /** The DR-lag metric: the worst database of each copying policy, and optionally every database. */
  drLag: z.prefault(
    strictObject({
      /**
       * Also publish `DrLagSeconds` per database (dimension `database`). Each is a custom metric at about
       * $0.30 a month: 500 databases cost ~$150 a month, against $0.30 for the per-policy maximum.
       */
      metricPerDatabase: z._default(z.boolean(), false),
    }),
    {},
  ),
  policies: z.prefault(z.record(PolicyName, BackupPolicy), { daily: {} }),
  /**
   * AWS Health scheduled changes of a protected resource (a pre-change snapshot before the window) and issues
   * (a notification).
   */
  maintenance: z.prefault(
    strictObject({
      enabled: z._default(z.boolean(), true),
      /** The snapshot is taken this long before the maintenance window starts. */
      leadMinutes: z._default(z.int().check(z.minimum(5), z.maximum(1440)), 60),
    }),
    {},
  ),
});

export const DrConfig = strictObject({
  region: z._default(Region, 'us-west-2'),
  /** Key in the DR region used for encrypted cross-region copies (required when any policy copies). */
  kmsKeyArn: z.optional(KmsKeyArn),
});

const Topic = strictObject({ emails: z._default(z.array(z.email()), []) });

/** Which severity topics a chat channel shows: warning by the runbook, critical too as context for the page. */
const ChatSeverities = z._default(z.array(Severity).check(z.minLength(1)), ['critical', 'warning']);

/** A Slack channel Amazon Q Developer in chat applications posts to (the workspace is authorized in its console first). */
export const SlackChannel = strictObject({
  workspaceId: z
    .string()
    .check(z.regex(/^T[A-Z0-9]{6,}$/, 'must be a Slack workspace (team) id such as T07ABCDEF12')),
  channelId: z
    .string()
    .check(z.regex(/^[CG][A-Z0-9]{6,}$/, 'must be a Slack channel id such as C07ABCDEF12')),
  severities: ChatSeverities,
});

const Uuid = z
  .string()
  .check(z.regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID'));

/** A Microsoft Teams channel Amazon Q Developer in chat applications posts to. */
export const TeamsChannel = strictObject({
  teamId: Uuid,
  tenantId: Uuid,
  channelId: z
    .string()
    .check(
      z.regex(
        /^19(:|%3[aA]).+(@|%40)thread\.(tacv2|skype)$/,
        'must be a Teams channel id such as 19:abc…@thread.tacv2 (as in the channel link, encoded or not)',
      ),
    ),
  severities: ChatSeverities,
});

/** Chat: the per-protocol SNS message carries an Amazon Q custom notification; optionally wire the channels. */
export const ChatConfig = strictObject({
  /** Amazon Q renders `client-markdown` in the target's own markdown: bold and links differ. */
  markdown: z._default(z.enum(['slack', 'teams']), 'slack'),
  slack: z.optional(SlackChannel),
  teams: z.optional(TeamsChannel),
});
export type ChatConfig = z.infer<typeof ChatConfig>;

/** PagerDuty through an EventBridge API destination; the routing key stays in Secrets Manager. */
export const PagerDutyConfig = strictObject({
  /** Name or ARN of a Secrets Manager secret whose value is the Events API v2 routing (integration) key. */
  routingKeySecret: z.string().check(
    z.regex(
      /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+|[\w/+=.@-]{1,512})$/,
      'must be a Secrets Manager secret name or ARN (never the routing key itself)',
    ),
    z.refine(
      (v) => !/^[0-9a-f]{32}$/i.test(v),
      'looks like a routing key: store it in Secrets Manager and name the secret here',
    ),
  ),
  /** Signals at these severities open incidents; every resolve is sent. */
  severities: z._default(z.array(Severity).check(z.minLength(1)), ['critical']),
  endpoint: z._default(z.url(), 'https://events.pagerduty.com/v2/enqueue'),
});
export type PagerDutyConfig = z.infer<typeof PagerDutyConfig>;

export const NotificationsConfig = strictObject({
  critical: z.prefault(Topic, {}),
  warning: z.prefault(Topic, {}),
  info: z.prefault(Topic, {}),
  chat: z.optional(ChatConfig),
  pagerDuty: z.optional(PagerDutyConfig),
});

const DrillInstanceClass = z
  .string()
  .check(z.regex(/^db\.[a-z0-9-]+\.[a-z0-9]+$/, 'must be an instance class such as db.t4g.micro'));

/** What a drill restores onto: the report states it, so the RTO it measures means something. */
export const DrillRestoreShape = strictObject({
  /** `source`: the source's class (what a real recovery would run on); or a stated (cheaper) class. */
  instanceClass: z._default(z.union([z.literal('source'), DrillInstanceClass]), 'source'),
  /** Default: the snapshot's. RDS: gp2, gp3, io1, io2; Aurora: aurora or aurora-iopt1 (I/O-Optimized). */
  storageType: z.optional(z.enum(['gp2', 'gp3', 'io1', 'io2', 'aurora', 'aurora-iopt1'])),
  /** Provisioned IOPS (gp3, io1, io2). Default: the snapshot's. */
  iops: z.optional(z.int().check(z.minimum(1000), z.maximum(256_000))),
  /** gp3 throughput in MiB/s. Default: the snapshot's. */
  storageThroughputMiBps: z.optional(z.int().check(z.minimum(125), z.maximum(4000))),
  /** Aurora: instances in the restored cluster (the writer plus readers), as in production. */
  instances: z._default(z.int().check(z.minimum(1), z.maximum(16)), 1),
});
export type DrillRestoreShape = z.infer<typeof DrillRestoreShape>;

/**
 * Chunks one warm-up may take: Step Functions keeps at most 25 000 events in an execution's history,
 * and each chunk adds 7 (Task and Choice entered and exited, Lambda scheduled, started, succeeded).
 */
export const MAX_WARMUP_CHUNKS = 3000;

/** The full read that pulls a restored copy's lazily loaded storage in, after verification. */
export const DrillWarmup = strictObject({
  enabled: z._default(z.boolean(), true),
  /** `all` user tables (with their indexes and TOAST when pg_prewarm is installed), or these tables. */
  tables: z._default(z.union([z.literal('all'), z.array(TableName).check(z.minLength(1))]), 'all'),
  /** Relations read at once (separate connections). */
  parallelism: z._default(z.int().check(z.minimum(1), z.maximum(16)), 4),
  /** Reading per invocation of the verifier (a Lambda: 900 s at most); the state machine loops. */
  chunkSeconds: z._default(z.int().check(z.minimum(1), z.maximum(840)), 600),
  /** Warm-up stops after this long, reporting how far it got. */
  maxSeconds: z._default(z.int().check(z.minimum(1), z.maximum(259_200)), 7200),
  /** Target for time-to-warm (drill start → warm); the drill fails when it is missed. */
  rtoSeconds: z.optional(z.int().check(z.positive())),
}).check(
  crossCheck(['chunkSeconds', 'maxSeconds'], (w, ctx) => {
    if (Math.ceil(w.maxSeconds / w.chunkSeconds) > MAX_WARMUP_CHUNKS) {
      ctx.addIssue({
        code: 'custom',
        path: ['chunkSeconds'],
        message: `maxSeconds ${w.maxSeconds} / chunkSeconds ${w.chunkSeconds} is more than ${MAX_WARMUP_CHUNKS} chunks, which would overflow the 25 000 events of a Step Functions execution: raise chunkSeconds to at least ${Math.ceil(w.maxSeconds / MAX_WARMUP_CHUNKS)}`,
      });
    }
  }),
);
export type DrillWarmup = z.infer<typeof DrillWarmup>;

/** One database that gets restore drills. */
export const DrillTarget = strictObject({
  kind: z._default(z.enum(['rds-instance', 'aurora-cluster']), 'rds-instance'),
  /**
   * `source`: the database's own snapshots (or a point in time). `vault`: the backup vault's copies of it
   * (`fleet.vault`), shared with this account for the drill only: the recovery path after an account compromise.
   */
  from: z._default(z.enum(['source', 'vault']), 'source'),
  /**
   * `from: vault`: the account the database lives in (the hub's own, or a target's); default the stage's
   * `account`. The vault's copies of that account's database in the stage's region are drilled.
   */
  account: z.optional(AccountId),
  /** Overrides `drill.schedule` for this database. */
  schedule: z.optional(ScheduleExpression),
  snapshot: z._default(SnapshotSelector, 'latest'),
  /** What to check in the restored database. */
  profile: VerificationProfile,
  /**
   * How the verifier logs in to the restored copy. `iam` (default): IAM database authentication as
   * `iamUser`, a role in the source database granted `rds_iam` (the snapshot keeps it); no secret and no
   * always-on VPC endpoint. `secret`: `secretArn`, else the source's RDS-managed master user secret, read
   * through a Secrets Manager interface endpoint in the drill VPC (two AZs; for the drill's hours only unless
   * `drill.endpoints.mode` is `always-on`).
   */
  auth: z._default(z.enum(['iam', 'secret']), 'iam'),
  /** `auth: iam`: the database role the verifier logs in as (granted `rds_iam` and read access). */
  iamUser: z._default(
    z
      .string()
      .check(
        z.regex(
          /^[a-z_][a-z0-9_]{0,62}$/,
          'must be a PostgreSQL role name: lower case letters, digits and _, starting with a letter or _',
        ),
      ),
    'steward_verifier',
  ),
  /** `auth: secret`: secret with the credentials; default: the source's RDS-managed master user secret. */
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
  restore: z.prefault(DrillRestoreShape, {}),
  warmup: z.prefault(DrillWarmup, {}),
  /** Stop the drill (and delete the copy) before its estimated cost would exceed this. */
  costCeilingUsd: z.optional(z.number().check(z.positive())),
  rtoSeconds: z.optional(z.int().check(z.positive())),
  rpoSeconds: z.optional(z.int().check(z.positive())),
}).check(
  crossCheck(['auth', 'secretArn'], (t, ctx) => {
    if (t.auth === 'iam' && t.secretArn !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['secretArn'],
        message:
          'is read only with auth: secret; set auth: secret to log in with this secret (it adds a Secrets Manager endpoint to the drill VPC while a drill runs), or remove it to log in with IAM database authentication as iamUser',
      });
    }
  }),
  crossCheck(['from', 'account'], (t, ctx) => {
    if (t.account !== undefined && t.from !== 'vault') {
      ctx.addIssue({
        code: 'custom',
        path: ['account'],
        message: `is read only with from: vault (the vault holds every account's copies); with from: ${t.from} the drill restores the stage account's own snapshots: set from: vault, or remove account`,
      });
    }
  }),
  crossCheck(['from', 'snapshot'], (t, ctx) => {
    if (t.from === 'vault' && typeof t.snapshot === 'object' && 'pointInTime' in t.snapshot) {
      ctx.addIssue({
        code: 'custom',
        path: ['snapshot', 'pointInTime'],
        message:
          'the vault holds snapshot copies, not a point-in-time window: with from: vault use latest, { randomWithinDays: N } or { id: <vault copy id> }',
      });
    }
  }),
  crossCheck(['kind', 'restore'], (t, ctx) => {
    const r = t.restore;
    const aurora = t.kind === 'aurora-cluster';
    const bad = (key: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: ['restore', key], message });
    if (r.storageType && aurora !== r.storageType.startsWith('aurora')) {
      bad(
        'storageType',
        aurora
          ? 'an Aurora cluster takes aurora or aurora-iopt1'
          : 'an RDS instance takes gp2, gp3, io1 or io2',
      );
    }
    if (r.instances > 1 && !aurora) bad('instances', 'only an Aurora cluster has several instances');
    if (r.iops !== undefined && (aurora || r.storageType === 'gp2')) {
      bad('iops', 'provisioned IOPS need storageType gp3, io1 or io2');
    }
    if (r.storageThroughputMiBps !== undefined && (aurora || (r.storageType ?? 'gp3') !== 'gp3')) {
      bad('storageThroughputMiBps', 'throughput is set on gp3 storage only');
    }
  }),
);
export type DrillTarget = z.infer<typeof DrillTarget>;

const SecretArn = z
  .string()
  .check(
    z.regex(
      /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
      'must be a Secrets Manager secret ARN',
    ),
  );

/** Refuses a `pointInTime` selector for a kind that restores snapshots only; `what` says so, `id` names its ids. */
const snapshotsOnly = <T extends { snapshot: SnapshotSelector }>(what: string, id: string) =>
  crossCheck<T>(['snapshot'], (t, ctx) => {
    if (typeof t.snapshot === 'object' && 'pointInTime' in t.snapshot) {
      ctx.addIssue({
        code: 'custom',
        path: ['snapshot', 'pointInTime'],
        message: `${what}, not a point in time: use latest, { randomWithinDays: N } or { id: ${id} }`,
      });
    }
  });

/**
 * One ElastiCache (Redis OSS / Valkey) replication group that gets restore drills: its snapshot is restored
 * into a new group in the drill network and checked with `checks` over TLS.
 */
export const RedisDrillTarget = strictObject({
  /** The replication group; default: the key of `drill.caches`. */
  replicationGroupId: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^[a-zA-Z](?:[a-zA-Z0-9]|-(?=[a-zA-Z0-9])){0,39}$/,
          'must be a replication group id: 1-40 letters, digits and single hyphens, starting with a letter',
        ),
      ),
  ),
  /**
   * `source`: an ElastiCache snapshot in the stage's region. `dr`: the RDB copy in the DR bucket
   * (`dr.region`), restored in the DR region: the recovery path after a region loss.
   */
  from: z._default(z.enum(['source', 'dr']), 'source'),
  /** Overrides `drill.schedule` for this cache. */
  schedule: z.optional(ScheduleExpression),
  snapshot: z._default(SnapshotSelector, 'latest'),
  /** What to check in the restored copy: key counts, keys, patterns, TTLs, freshness. */
  checks: z.prefault(RedisVerificationProfile, {}),
  /**
   * How the verifier logs in. `token`: the AUTH token in `secretArn` (a secret whose `password`, or whole
   * string, is the token); `user`: an RBAC user, `secretArn` holding `username` and `password`; `none`: no
   * AUTH (a cache without AUTH; the drill network is still reachable only from the verifier). `iam` (AWS
   * drills): steward's IAM-authenticated ElastiCache user, with a token the verifier signs itself, so the
   * drill VPC needs no Secrets Manager endpoint; `token` and `user` read a secret through one (`drill.endpoints`).
   */
  auth: z._default(z.enum(['token', 'user', 'none', 'iam']), 'token'),
  secretArn: z.optional(SecretArn),
  /**
   * `auth: user`: the source's RBAC user group, holding the user in `secretArn`. A restore carries no user
   * group over, so the drill attaches this one to the copy (a user group may serve several groups).
   */
  userGroupId: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^[a-zA-Z][a-zA-Z0-9-]{0,119}$/,
          'must be a user group id: a letter, then letters, digits and hyphens',
        ),
      ),
  ),
  /** In-transit encryption: connect with TLS, verifying the certificate and the host name. */
  tls: z._default(z.boolean(), true),
  /**
   * Node type of the restored copy; default: the smallest whose memory, less ElastiCache's 25 % reserved
   * memory, holds the snapshot's largest shard with 10 % to spare (shared/drill/cache-shape.ts).
   */
  nodeType: z.optional(
    z
      .string()
      .check(z.regex(/^cache\.[a-z0-9-]+\.[a-z0-9]+$/, 'must be a node type such as cache.t4g.micro')),
  ),
  /** Stop the drill (and delete the copy) before its estimated cost would exceed this. */
  costCeilingUsd: z.optional(z.number().check(z.positive())),
  rtoSeconds: z.optional(z.int().check(z.positive())),
  rpoSeconds: z.optional(z.int().check(z.positive())),
}).check(
  snapshotsOnly('ElastiCache restores snapshots only', '<snapshot name>'),
  crossCheck(['auth', 'secretArn'], (t, ctx) => {
    if ((t.auth === 'token' || t.auth === 'user') && t.secretArn === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['secretArn'],
        message: `auth: ${t.auth} reads the ${t.auth === 'user' ? 'RBAC user and password' : 'AUTH token'} from a secret: name it here, or set auth: none for a cache without AUTH`,
      });
    }
    if ((t.auth === 'none' || t.auth === 'iam') && t.secretArn !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['secretArn'],
        message: 'is read only with auth: token or auth: user; remove it, or set the auth mode it holds',
      });
    }
  }),
  crossCheck(['from', 'auth'], (t, ctx) => {
    // A drill from the DR copy is verified by the DR stack's verifier, inside the DR region's drill VPC: it has
    // no Secrets Manager endpoint (and the secret lives in the stage's region), so it cannot read a login.
    if (t.from === 'dr' && (t.auth === 'token' || t.auth === 'user')) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth'],
        message: `from: dr is verified inside the DR region's drill VPC, which reads no secrets: use auth: iam (steward's IAM-authenticated user) or auth: none, not auth: ${t.auth}`,
      });
    }
  }),
  crossCheck(['auth', 'userGroupId'], (t, ctx) => {
    if (t.auth === 'user' && t.userGroupId === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['userGroupId'],
        message:
          "auth: user needs the source's RBAC user group (it holds the user): a restore does not carry it over, so the drill attaches it to the copy",
      });
    }
    if (t.auth !== 'user' && t.userGroupId !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['userGroupId'],
        message: 'is read only with auth: user; remove it, or set auth: user',
      });
    }
  }),
);
export type RedisDrillTarget = z.infer<typeof RedisDrillTarget>;

/**
 * One EC2 instance (every volume of its snapshot set) or one EBS volume that gets restore drills: each volume
 * of a steward snapshot set is restored into the drill network's Availability Zone, timed, and deleted.
 */
export const EbsDrillTarget = strictObject({
  /**
   * `source`: the sets in the stage's region. `dr`: the sets' copies in `dr.region` (a policy with
   * `copyToDr`), restored there: the recovery path after a region loss. `vault`: the backup vault's copies of
   * the sets (`fleet.vault`), shared with this account for the drill only and restored here: the recovery path
   * after an account compromise, and how a spoke target's instances are drilled.
   */
  from: z._default(z.enum(['source', 'dr', 'vault']), 'source'),
  /**
   * `from: vault`: the account the instance or volume lives in (the hub's own, or a target's); default the
   * stage's `account`. The vault's copies of that account's sets in the stage's region are drilled.
   */
  account: z.optional(AccountId),
  /** Overrides `drill.schedule` for this instance or volume. */
  schedule: z.optional(ScheduleExpression),
  /** `latest` complete set, `{ randomWithinDays }`, or `{ id: <set id> }` (its `steward:set` tag). */
  snapshot: z._default(SnapshotSelector, 'latest'),
  /**
   * Where the volumes are restored; default: the Availability Zone of the drill VPC's first subnet (with
   * `from: dr`, the DR region's first available zone). With `from: dr`, a zone of `dr.region`.
   */
  availabilityZone: z.optional(
    z
      .string()
      .check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'must be an Availability Zone such as eu-west-1a')),
  ),
  volumeType: z._default(z.enum(['gp3', 'gp2', 'io1', 'io2', 'st1', 'sc1', 'standard']), 'gp3'),
  /**
   * Fast snapshot restore for the set's snapshots in that zone while the drill runs: volumes are fully
   * initialized at creation (no lazy loading). Billed per snapshot and zone hour, with a one-hour minimum.
   */
  fastSnapshotRestore: z._default(z.boolean(), false),
  /** A volume not `available` by then fails the drill (the volumes are still deleted). */
  timeoutSeconds: z._default(z.int().check(z.minimum(60), z.maximum(7200)), 1800),
  /** Seconds between two DescribeVolumes polls (a Wait state of the state machine). */
  pollSeconds: z._default(z.int().check(z.minimum(5), z.maximum(300)), 15),
  /**
   * A read-only check of the restored volumes on a short-lived verifier instance in the drill network (with
   * `from: dr`, the DR stack's drill network in `dr.region`; absent: restore-only). A failed check fails the drill; a check that could not run makes it inconclusive.
   */
  verify: z.optional(EbsVerify),
  /** RTO target: drill start to every volume available (and verified, when `verify` is set). */
  rtoSeconds: z.optional(z.int().check(z.positive())),
  /**
   * RPO target: the set's age when the drill started (a crash-consistent set holds what was on disk when it
   * was taken). Default 25 h: daily sets with an hour of slack.
   */
  rpoSeconds: z._default(z.int().check(z.positive()), 90_000),
}).check(
  snapshotsOnly('EBS restores snapshot sets only', '<set id>'),
  crossCheck(['from', 'account'], (t, ctx) => {
    if (t.account !== undefined && t.from !== 'vault') {
      ctx.addIssue({
        code: 'custom',
        path: ['account'],
        message: `is read only with from: vault (the vault holds every account's sets); with from: ${t.from} the drill restores the stage account's own sets: set from: vault, or remove account`,
      });
    }
  }),
  crossCheck(['pollSeconds', 'timeoutSeconds'], (t, ctx) => {
    if (t.pollSeconds >= t.timeoutSeconds) {
      ctx.addIssue({ code: 'custom', path: ['pollSeconds'], message: 'must be less than timeoutSeconds' });
    }
  }),
);
export type EbsDrillTarget = z.infer<typeof EbsDrillTarget>;

/** Restore drills: prove that backups restore, and measure RTO and RPO. */
export const DrillConfig = strictObject({
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
  /**
   * The interface endpoints an opt-in drill feature needs in the drill VPC (Secrets Manager for `auth: secret`
   * targets and `auth: token` / `user` caches; the three Systems Manager endpoints for an EBS `verify`).
   * `per-drill` (default): a drill creates them when it starts and the last running drill deletes them when it
   * ends, so they are billed only for drill hours. `always-on`: deployed with the stack, billed every hour
   * (~$7.30 a month per endpoint and AZ), for teams that want no endpoint creation inside a drill.
   */
  endpoints: z.prefault(
    strictObject({
      mode: z._default(z.enum(['per-drill', 'always-on']), 'per-drill'),
      /** `per-drill`: a drill whose endpoints are not available by then stops (inconclusive) and cleans up. */
      timeoutSeconds: z._default(z.int().check(z.minimum(120), z.maximum(3600)), 900),
    }),
    {},
  ),
  /** Drill reports kept in S3 for this long. */
  reportRetentionDays: z._default(z.int().check(z.minimum(1), z.maximum(3650)), 400),
  /** Prices for the cost estimate of each drill; steward ships us-east-1 list prices. */
  prices: z.prefault(
    strictObject({
      instanceUsdPerHour: z._default(z.record(DrillInstanceClass, z.number().check(z.minimum(0))), {}),
      multiplier: z._default(z.number().check(z.minimum(0.1), z.maximum(10)), 1),
    }),
    {},
  ),
  targets: z._default(
    z.record(
      z.string().check(z.regex(/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/, 'must be a DB identifier')),
      DrillTarget,
    ),
    {},
  ),
  /** ElastiCache replication groups that get Redis drills, by replication group id. */
  caches: z._default(
    z.record(
      z
        .string()
        .check(
          z.regex(
            /^[a-zA-Z][a-zA-Z0-9-]{0,39}$/,
            'must be a replication group id: a letter, then letters, digits and hyphens, at most 40',
          ),
        ),
      RedisDrillTarget,
    ),
    {},
  ),
  /** EC2 instances (their whole snapshot set) and EBS volumes that get EBS drills, by instance or volume id. */
  volumes: z._default(
    z.record(
      z
        .string()
        .check(
          z.regex(/^(i|vol)-[0-9a-f]{8,17}$/, 'must be an EC2 instance id (i-…) or a volume id (vol-…)'),
        ),
      EbsDrillTarget,
    ),
    {},
  ),
}).check(
  crossCheck(['targets', 'caches', 'volumes'], (d, ctx) => {
    for (const name of Object.keys(d.volumes)) {
      if (Object.hasOwn(d.targets, name) || Object.hasOwn(d.caches, name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['volumes', name],
          message: `is also in drill.${Object.hasOwn(d.targets, name) ? 'targets' : 'caches'}: a drill, its report and its metrics are named by this key, so it names one resource`,
        });
      }
    }
    for (const name of Object.keys(d.caches)) {
      if (Object.hasOwn(d.targets, name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['caches', name],
          message: `is also in drill.targets: a drill, its report and its metrics are named by this key, so it names one database or one cache`,
        });
      }
    }
  }),
);

/** A month total that alerts once per calendar month (UTC) when reached, on actuals and on the forecast. */
export const CostThreshold = strictObject({
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

/**
 * How an AWS Budgets filter on SERVICE expresses one service pattern: a name with no `*`, or one `*` at the
 * start, the end or both (ENDS_WITH, STARTS_WITH, CONTAINS); any other pattern has none.
 */
export const budgetServiceMatch = (
  pattern: string,
): { option: 'EQUALS' | 'STARTS_WITH' | 'ENDS_WITH' | 'CONTAINS'; value: string } | undefined => {
  const head = pattern.startsWith('*');
  const tail = pattern.endsWith('*') && pattern.length > 1;
  const value = pattern.slice(head ? 1 : 0, tail ? -1 : undefined);
  if (!value || value.includes('*')) return undefined;
  return { option: head && tail ? 'CONTAINS' : head ? 'ENDS_WITH' : tail ? 'STARTS_WITH' : 'EQUALS', value };
};

/** Budgets one stage may create (thresholds + per-hour limits): well inside the account's 20,000. */
export const MAX_STAGE_BUDGETS = 20;

/** Per-hour spend limit on named services (the LLM/API rule). */
export const HourlyCostLimit = strictObject({
  id: z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'must be lowercase letters, digits and hyphens')),
  services: z.array(ServicePattern).check(z.minLength(1)),
  maxUsdPerHour: z.number().check(z.positive()),
  severity: z._default(Severity, 'critical'),
});
export type HourlyCostLimit = z.infer<typeof HourlyCostLimit>;

/** Cost anomaly severity by total impact: the highest `atLeastUsd` at or below the impact wins. */
export const AnomalyRoute = strictObject({ atLeastUsd: z.number().check(z.minimum(0)), severity: Severity });

/**
 * Who watches the thresholds and per-hour limits. `budgets`: AWS Budgets, deployed with the stage (no
 * request fees), publishing to the severity topics. `cost-explorer`: steward's scheduled check, which adds
 * per-service spikes, hourly granularity, top services and groups in one message, at $0.01 per request.
 */
export const CostAlertsBy = z.enum(['budgets', 'cost-explorer']);
export type CostAlertsBy = z.infer<typeof CostAlertsBy>;

/** Cost alerts: monthly thresholds on actuals and forecast, daily spikes, per-hour limits, anomalies. */
export const CostConfig = z
  .object({
    enabled: z._default(z.boolean(), false),
    /** `budgets` (free) or `cost-explorer` (the scheduled check: spikes, hourly granularity, breakdowns). */
    alertsBy: z._default(CostAlertsBy, 'budgets'),
    /** `cost-explorer` only: each run makes 2 requests ($0.01 each, +1 with `hourly`, +1 on anomaly-poll days). */
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
      z.union(
        [
          strictObject({ tag: z.string().check(z.minLength(1), z.maxLength(128)) }),
          z.literal('linked-account'),
        ],
        { error: 'must be { tag: <cost allocation tag key> } or linked-account' },
      ),
    ),
    /** Day-over-baseline spikes per service; both deltas must be exceeded, so small services stay quiet. */
    spikes: z.prefault(
      strictObject({
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
    /** Cost Anomaly Detection: accepted as EventBridge / SNS events; polled every `lookbackDays`-th day on a daily schedule. */
    anomalies: z.prefault(
      strictObject({
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
    crossCheck(['alertsBy', 'thresholds', 'hourlyLimits', 'anomalies', 'groupBy', 'hourly'], (c, ctx) => {
      if (c.alertsBy === 'budgets') {
        // What only the Cost Explorer check can do: say so rather than deploy budgets that ignore it.
        const needsExplorer = (path: string, what: string) =>
          ctx.addIssue({
            code: 'custom',
            path: [path],
            message: `${what} needs the Cost Explorer check: set alertsBy: cost-explorer ($0.01 per request), or remove ${path}`,
          });
        if (c.groupBy) needsExplorer('groupBy', 'a second grouping in the alert message');
        if (c.hourly) needsExplorer('hourly', 'per-hour limits measured hour by hour');
        c.hourlyLimits.forEach((l, i) =>
          l.services.forEach((s, k) => {
            if (!budgetServiceMatch(s))
              ctx.addIssue({
                code: 'custom',
                path: ['hourlyLimits', i, 'services', k],
                message: `"${s}": a budget filter matches a service name exactly, by prefix, by suffix or by a part ('Name', 'Name*', '*Name', '*Name*'); other wildcards need alertsBy: cost-explorer`,
              });
          }),
        );
        if (c.thresholds.length + c.hourlyLimits.length > MAX_STAGE_BUDGETS)
          ctx.addIssue({
            code: 'custom',
            path: ['thresholds'],
            message: `${c.thresholds.length + c.hourlyLimits.length} budgets for one stage: at most ${MAX_STAGE_BUDGETS} thresholds and per-hour limits together`,
          });
      }
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
export const ScalingAlarmSpec = strictObject({
  /** Metric of the rule's resource: AWS/RDS for RDS and Aurora, AWS/ElastiCache for caches. */
  metric: z.string().check(z.regex(/^[A-Za-z0-9]+$/, 'must be a metric name such as CPUUtilization')),
  threshold: z.number(),
  comparison: z._default(z.enum(['>', '>=', '<', '<=']), '>'),
  statistic: z._default(z.enum(['Average', 'Maximum', 'Minimum', 'Sum', 'SampleCount']), 'Average'),
  periodSeconds: z._default(z.literal([60, 300, 900, 3600]), 60),
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

/**
 * Which side of its threshold an alarm's breach must be on for the rule to act. `above`: over the threshold
 * or the anomaly band's upper bound; `below`: under it or the band's lower bound; `any`: either. Default: `any`
 * for a static threshold (its comparison already says the side), `above` for an anomaly-detection band
 * alarm, which fires on both sides.
 */
export const AlarmBreach = z.enum(['above', 'below', 'any']);
export type AlarmBreach = z.infer<typeof AlarmBreach>;

/** Which alarm a rule answers: one name (optionally created by steward), or every alarm with a prefix. */
export const AlarmMatch = z.union(
  [
    strictObject({ name: AlarmName, create: z.optional(ScalingAlarmSpec), breach: z.optional(AlarmBreach) }),
    strictObject({ prefix: AlarmName, breach: z.optional(AlarmBreach) }),
  ],
  {
    error:
      'must be { name: <alarm name> } (with create to let steward make it) or { prefix: <alarm name prefix> }',
  },
);
export type AlarmMatch = z.infer<typeof AlarmMatch>;

/** What a rule does to its resource. */
export const ScalingAction = z.discriminatedUnion('type', [
  strictObject({
    type: z.literal('rds.scaleUp'),
    /** Classes in order, one family; default: the family's standard sizes from the current class to `max`. */
    ladder: z.optional(z.array(InstanceClass).check(z.minLength(2))),
    max: InstanceClass,
    /** false: the change waits for the next maintenance window (and shows as a pending modification). */
    applyImmediately: z._default(z.boolean(), false),
  }),
  strictObject({
    type: z.literal('rds.addReadReplica'),
    /** RDS allows up to 15 read replicas per source, Aurora up to 15 readers per cluster. */
    maxReplicas: z.int().check(z.minimum(1), z.maximum(15)),
    /** Default: the source's class (Aurora: the writer's). */
    instanceClass: z.optional(InstanceClass),
  }),
  strictObject({
    type: z.literal('elasticache.addShard'),
    max: z.int().check(z.minimum(2), z.maximum(500)),
  }),
  /** Replicas per shard; ElastiCache allows 0–5. */
  strictObject({
    type: z.literal('elasticache.addReplica'),
    max: z.int().check(z.minimum(1), z.maximum(5)),
  }),
  strictObject({ type: z.literal('rds.failover') }),
  strictObject({
    type: z.literal('elasticache.failover'),
    /** Shard to fail over; default the first (`0001`). */
    nodeGroupId: z.optional(z.string().check(z.regex(/^\d{4}$/, 'must be a node group id such as 0001'))),
  }),
  strictObject({ type: z.literal('notify') }),
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
export const ScaleIn = strictObject({
  enabled: z._default(z.boolean(), false),
  afterOkMinutes: z._default(z.int().check(z.minimum(15), z.maximum(10_080)), 60),
  /** Floor: a class for rds.scaleUp (default the ladder's first), a count otherwise (replicas 0, shards 1, cache replicas 1). */
  min: z.optional(
    z.union([InstanceClass, z.int().check(z.minimum(0))], {
      error: 'must be an instance class (rds.scaleUp) or a count (replicas, shards)',
    }),
  ),
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
      crossCheck(['kind', 'action', 'scaleIn', 'alarm'], (r, ctx) => {
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
        // The floor must be a rung the rule climbs (the engine refuses one off it at every scale-in), at or
        // below max (above it no class would ever step back).
        const rungs = a.type === 'rds.scaleUp' ? ladderFor(a.ladder, a.max) : [];
        if (typeof min === 'string' && a.type === 'rds.scaleUp' && !rungs.includes(min))
          ctx.addIssue({
            code: 'custom',
            path: ['scaleIn', 'min'],
            message: a.ladder
              ? `${min} is not on the ladder (${rungs.join(', ')}): the floor must be one of its classes`
              : `${min} is not on the ladder the action climbs without one (${rungs.join(', ')}: the family's standard sizes up to max): the floor must be one of its classes, or set action.ladder`,
          });
        else if (
          typeof min === 'string' &&
          a.type === 'rds.scaleUp' &&
          rungs.includes(a.max) &&
          rungs.indexOf(min) > rungs.indexOf(a.max)
        )
          ctx.addIssue({
            code: 'custom',
            path: ['scaleIn', 'min'],
            message: `${min} is above max (${a.max}): no class would ever step back`,
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
    /** An ALARM transition older than this when it arrives is reported and not acted on (a late redelivery). */
    staleAfterMinutes: z._default(z.int().check(z.minimum(1), z.maximum(1440)), 15),
    /** A state time further than this in the future is refused: clocks disagree, or the event is forged. */
    clockSkewSeconds: z._default(z.int().check(z.minimum(0), z.maximum(3600)), 300),
    /**
     * How alarm transitions reach the function: `eventbridge` (a few rules for all the config's rules), or
     * `lambda-action` (the alarm invokes the function directly: steward adds the action to the alarms it creates
     * and lets CloudWatch invoke the function for the rules' alarms, by alarm name or shared name prefix in
     * aws:SourceArn and by aws:SourceAccount: infra/scaling.ts).
     */
    delivery: z._default(z.enum(['eventbridge', 'lambda-action']), 'eventbridge'),
    rules: z._default(z.record(PolicyName, ScalingRule), {}),
  })
  .check(
    crossCheck(['rules'], (c, ctx) => {
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

/**
 * The operator's view: `steward status`, the hourly status check that alerts LATE/FAILING databases and
 * resolves them when cleared, and the monthly recovery-evidence report (README: Status and evidence).
 */
export const ReportConfig = strictObject({
  /** Build the report function and its schedules (the report bucket exists either way). */
  enabled: z._default(z.boolean(), true),
  /** Monthly evidence report of the month before (UTC): 06:00 on the 1st. */
  schedule: z._default(ScheduleExpression, 'cron(0 6 1 * ? *)'),
  /** Status check: alerts a database that turns LATE or FAILING, resolves it when it is OK again. */
  statusSchedule: z._default(ScheduleExpression, 'rate(1 hour)'),
  /** A scheduled backup counts as missing this long after its scheduled time. */
  backupGraceMinutes: z._default(z.int().check(z.minimum(10), z.maximum(1440)), 120),
  /** A DR copy counts as missing this long after its backup was due (copies queue 5 at a time). */
  drGraceHours: z._default(z.int().check(z.minimum(1), z.maximum(168)), 12),
  /** A scheduled drill counts as missing this long after its scheduled time. */
  drillGraceDays: z._default(z.int().check(z.minimum(1), z.maximum(30)), 2),
  /** Months of drills the evidence report's RTO/RPO trend shows. */
  trendMonths: z._default(z.int().check(z.minimum(1), z.maximum(13)), 12),
});
export type ReportConfig = z.infer<typeof ReportConfig>;

const RoleRef = z
  .string()
  .check(
    z.regex(
      /^(arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}|[\w+=,.@-]{1,64})$/,
      'must be an IAM role name or role ARN',
    ),
  );

type Unwrapped<T> = T extends z.ZodMiniDefault<infer I> ? I : T;
type Overrides<S extends z.core.$ZodLooseShape> = { [K in keyof S]: z.ZodMiniOptional<Unwrapped<S[K]>> };

/**
 * The same keys and checks as `shape`, each optional and without its default: an override names only what it
 * changes, and everything else stays the stage's value (a zod `partial` would fill the defaults back in).
 */
const overridesOf = <S extends z.core.$ZodLooseShape>(shape: S) =>
  strictObject(
    Object.fromEntries(
      Object.entries(shape).map(([k, s]) => {
        const def = (s as z.ZodMiniDefault)._zod.def;
        return [k, z.optional(def.type === 'default' ? def.innerType : s)];
      }),
    ) as Overrides<S>,
  );

const { kinds, retention, copyToDr, drLagObjectiveHours } = BackupPolicy.shape;

/** What one target changes of the stage's backup settings: thresholds, and named policies' fields. */
export const TargetBackupOverrides = strictObject({
  quotaWarnPercent: z.optional(BackupConfig.shape.quotaWarnPercent._zod.def.innerType),
  /** Only policies of `backup.policies`; the schedule stays the stage's (one schedule runs every target). */
  policies: z.optional(
    z.record(PolicyName, overridesOf({ kinds, retention, copyToDr, drLagObjectiveHours })),
  ),
});

/** What one target changes of the stage's retention: the day's deletion limits, and named policies' counts. */
export const TargetRetentionOverrides = strictObject({
  deletions: z.optional(overridesOf(DeletionLimitsConfig.shape)),
  policies: z.optional(z.record(PolicyName, overridesOf(RetentionPolicy.shape))),
});

/**
 * What one target changes of the stage's scaling (a spoke's alarm forwarded to the hub acts with these): how
 * late an alarm may arrive, and named rules' mode, severity and cooldown. The actions and their ceilings stay
 * the stage's (the spoke's scaling role grants exactly those).
 */
export const TargetScalingOverrides = strictObject({
  staleAfterMinutes: z.optional(ScalingConfig.shape.staleAfterMinutes._zod.def.innerType),
  rules: z.optional(
    z.record(
      PolicyName,
      strictObject({
        mode: z.optional(ScalingMode),
        severity: z.optional(Severity),
        cooldownMinutes: z.optional(z.int().check(z.minimum(0), z.maximum(10_080))),
      }),
    ),
  ),
});
export type TargetScalingOverrides = z.infer<typeof TargetScalingOverrides>;

/** AWS Organizations organization id. */
export const OrganizationId = z
  .string()
  .check(z.regex(/^o-[a-z0-9]{10,32}$/, 'must be an organization id such as o-a1b2c3d4e5'));

/** An organizational unit, or the organization's root (every account). */
export const OrganizationalUnitId = z
  .string()
  .check(
    z.regex(
      /^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/,
      'must be an organizational unit id such as ou-ab12-cd34ef56, or the root (r-ab12)',
    ),
  );

/**
 * Accounts (one, or every account of an organizational unit) and regions steward manages, with what they
 * change of the stage's policies. The default target is the stage's own account and region.
 */
export const Target = strictObject({
  /** Default: the account the stage deploys to. */
  account: z.optional(AccountId),
  /** Every account of this OU (the spoke StackSet deploys to it); instead of `account`. */
  organizationalUnit: z.optional(OrganizationalUnitId),
  /** Default: the stage's region. */
  regions: z.optional(z.array(Region).check(z.minLength(1))),
  /** Role steward assumes in `account` (name or ARN) instead of the spoke stack's roles. */
  role: z.optional(RoleRef),
  backup: z.optional(TargetBackupOverrides),
  retention: z.optional(TargetRetentionOverrides),
  scaling: z.optional(TargetScalingOverrides),
});
export type TargetInput = z.input<typeof Target>;

/** A KMS alias name: `alias/<name>`; AWS reserves `alias/aws/` for its own keys. */
const KeyAlias = z
  .string()
  .check(
    z.regex(
      /^alias\/(?!aws\/)[a-zA-Z0-9/_-]{1,250}$/,
      'must be a KMS alias such as alias/steward-vault (not alias/aws/...)',
    ),
  );

/**
 * The cross-account backup vault: a dedicated account that holds a copy of every RDS and Aurora snapshot
 * steward takes, re-encrypted with the vault's own key, that no workload account can write to or delete from.
 */
export const VaultConfig = strictObject({
  /** The vault account (not the hub, not a target): only its own roles act on the copies. */
  account: AccountId,
  /** Regions with a vault stack; default: every region of the targets (a shared snapshot is copied within its region). */
  regions: z.optional(z.array(Region).check(z.minLength(1))),
  /** The retention policy (of `retention.policies`) the vault's own retention applies to its copies. */
  retention: PolicyName,
  /** Alias of the vault key in each vault region. @default alias/steward-<stage>-vault */
  keyAlias: z.optional(KeyAlias),
});
export type VaultConfig = z.infer<typeof VaultConfig>;

/** How the hub reaches its spokes (required once a target is outside the stage's own account and region). */
export const FleetConfig = strictObject({
  /** Spoke roles trust hub principals of this organization only; the hub's event bus accepts its accounts only. */
  organizationId: z.optional(OrganizationId),
  /** Required by spoke roles as sts:ExternalId (for accounts outside an organization, or in addition to it). */
  externalId: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^[\w+=,.@:/-]{2,1224}$/,
          'must be 2-1224 letters, digits and +=,.@:/-_ (an STS external id)',
        ),
      ),
  ),
  /** Who creates the spokes' StackSet: the management account (`SELF`) or a delegated administrator. */
  callAs: z._default(z.enum(['SELF', 'DELEGATED_ADMIN']), 'SELF'),
  /** The cross-account backup vault (off without it). */
  vault: z.optional(VaultConfig),
  /**
   * Targets one scheduled cycle works on at once (the Distributed Map's MaxConcurrency, and the reserved
   * concurrency of the backup and retention functions).
   */
  maxConcurrency: z._default(z.int().check(z.minimum(1), z.maximum(100)), 10),
  /**
   * The share of a cycle's targets that may fail before the cycle stops starting the rest (the Distributed
   * Map's ToleratedFailurePercentage). Failures within it are reported without stopping anything.
   */
  toleratedFailurePercentage: z._default(z.number().check(z.minimum(0), z.maximum(100)), 50),
}).check(
  crossCheck(['organizationId', 'externalId'], (f, ctx) => {
    if (!f.organizationId && !f.externalId)
      ctx.addIssue({
        code: 'custom',
        path: ['organizationId'],
        message:
          'or externalId is required: a spoke role trusts the hub only with the organization id or an external id',
      });
  }),
);
export type FleetConfig = z.infer<typeof FleetConfig>;

/** The keys of a stage config (the file adds `$schema`, and may leave `stage` to its name). */
export const stewardConfigShape = {
  stage: StageName,
  /** Deploy target; omitted means the CLI's/CDK's default account. */
  account: z.optional(AccountId),
  region: Region,
  /** Stage-wide dry run: every destructive function plans and reports but changes nothing. */
  dryRun: z._default(z.boolean(), false),
  /** Stack termination protection, and stateful resources (key, logs, tables, reports) kept on delete. */
  deletionProtection: z._default(z.boolean(), true),
  /** The CloudWatch dashboard `Steward-<stage>`: $3 a month beyond the account's three free ones. */
  dashboard: z._default(z.boolean(), false),
  targets: z._default(z.array(Target).check(z.minLength(1)), [{}]),
  /** Hub and spokes: how the hub's roles reach targets outside its own account and region. */
  fleet: z.optional(FleetConfig),
  notifications: z.prefault(NotificationsConfig, {}),
  backup: z.prefault(BackupConfig, {}),
  retention: z.prefault(RetentionConfig, {}),
  dr: z.prefault(DrConfig, {}),
  drill: z.prefault(DrillConfig, {}),
  cost: z.prefault(CostConfig, {}),
  scaling: z.prefault(ScalingConfig, {}),
  report: z.prefault(ReportConfig, {}),
};

const names = (o: object) => Object.keys(o).join(', ') || 'none';

// The cross-reference checks below run even when other parts of the file are invalid (every problem is
// reported at once), so they read the half-parsed value defensively: a part that failed is left as written.
type Loose = Record<string, unknown>;
const rec = (v: unknown): Loose | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const entries = (v: unknown): [string, Loose][] =>
  Object.entries(rec(v) ?? {}).flatMap(([k, x]) => (rec(x) ? [[k, rec(x)!] as [string, Loose]] : []));

const StewardConfigObject = strictObject(stewardConfigShape).check(
  alwaysCheck((c, ctx) => {
    const backupPolicies = entries(rec(c.backup)?.policies);
    const retentionPolicies = rec(rec(c.retention)?.policies);
    if (backupPolicies.some(([name]) => name === ADHOC_POLICY)) {
      ctx.addIssue({
        code: 'custom',
        path: ['backup', 'policies', ADHOC_POLICY],
        message: `"${ADHOC_POLICY}" is reserved for pre-change snapshots (kept by steward:retain-until): pick another name`,
      });
    }
    if (!retentionPolicies) return;
    for (const [name, p] of backupPolicies) {
      const retention = str(p.retention);
      // Own keys only: a policy named "constructor" must not resolve to Object.prototype.constructor.
      if (retention === undefined || Object.hasOwn(retentionPolicies, retention)) continue;
      const near = closest(retention, Object.keys(retentionPolicies));
      ctx.addIssue({
        code: 'custom',
        path: ['backup', 'policies', name, 'retention'],
        message: `names retention policy "${retention}", which is not in retention.policies (${names(retentionPolicies)}): ${near ? `did you mean "${near}"? Otherwise add` : 'use one of those, or add'} "${retention}" under retention.policies`,
      });
    }
  }),
  alwaysCheck((c, ctx) => {
    const region = str(c.region);
    const dr = rec(c.dr);
    const drRegion = str(dr?.region);
    const kmsKeyArn = str(dr?.kmsKeyArn);
    // A target may turn copies on for a policy: its DR copies need the key as well.
    const overridden = (Array.isArray(c.targets) ? c.targets : []).flatMap((t) =>
      entries(rec(rec(t)?.backup)?.policies),
    );
    const copying = [...entries(rec(c.backup)?.policies), ...overridden].filter(
      ([, p]) => p.copyToDr === true,
    );
    if (copying.length && drRegion) {
      const targets = Array.isArray(c.targets) ? c.targets.map(rec) : [];
      const regions = targets.flatMap((t) => (Array.isArray(t?.regions) ? t.regions : [region]));
      if (drRegion === region || regions.includes(drRegion)) {
        ctx.addIssue({
          code: 'custom',
          path: ['dr', 'region'],
          message: `is ${drRegion}, a region steward backs up (policy "${copying[0]![0]}" copies to it): pick another region for the DR copies`,
        });
      }
      if (!kmsKeyArn) {
        ctx.addIssue({
          code: 'custom',
          path: ['dr', 'kmsKeyArn'],
          message: `is required because policy "${copying[0]![0]}" copies to ${drRegion}: encrypted snapshots need a key in the destination region`,
        });
      }
    }
    const keyRegion = kmsKeyArn?.split(':')[3];
    if (keyRegion && drRegion && keyRegion !== drRegion) {
      ctx.addIssue({
        code: 'custom',
        path: ['dr', 'kmsKeyArn'],
        message: `is in ${keyRegion} but the DR region is ${drRegion}: KMS keys are regional, use a key in ${drRegion}`,
      });
    }
  }),
  crossCheck(['account', 'region', 'targets', 'fleet'], (c, ctx) => {
    const seen = new Map<string, number>();
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    c.targets.forEach((t, i) => {
      const ou = t.organizationalUnit;
      if (ou !== undefined && t.account !== undefined)
        issue(
          ['targets', i, 'organizationalUnit'],
          `names every account of ${ou}, and account names one: give one of them (a target per OU or account)`,
        );
      const account = t.account ?? c.account;
      const remote = ou !== undefined || (t.account !== undefined && t.account !== c.account);
      if (remote && !c.fleet)
        issue(
          ['fleet'],
          `is required for targets[${i}] (${ou ?? t.account}): steward reaches another account through its spoke roles, which trust the hub with fleet.organizationId or fleet.externalId${ou === undefined ? ` (if ${t.account} is where the stage deploys, set account: "${t.account}" at the top)` : ''}`,
        );
      if (remote && c.account === undefined)
        issue(
          ['account'],
          `is required with targets in other accounts (targets[${i}]): spoke roles trust the hub's roles by their ARNs, which name this account`,
        );
      if (ou !== undefined && c.fleet && !c.fleet.organizationId)
        issue(
          ['fleet', 'organizationId'],
          `is required for targets[${i}] (${ou}): the spokes of an organizational unit deploy as a StackSet of the organization`,
        );
      const roleAccount = t.role?.startsWith('arn:') ? t.role.split(':')[4] : undefined;
      if (roleAccount && ou !== undefined)
        issue(
          ['targets', i, 'role'],
          `is a role ARN of account ${roleAccount}, but ${ou} has many accounts: give the role name, the same in each account`,
        );
      else if (roleAccount && account && roleAccount !== account)
        issue(
          ['targets', i, 'role'],
          `is a role in account ${roleAccount}, but the target is account ${account}: use a role in ${account}`,
        );
      const who = ou ?? account ?? 'this account';
      for (const region of t.regions ?? [c.region]) {
        const key = `${who} ${region}`;
        const first = seen.get(key);
        if (first !== undefined)
          issue(
            ['targets', i, 'regions'],
            `${region} of ${who} is already in targets[${first}]: list each account and region once`,
          );
        seen.set(key, i);
      }
    });
  }),
  crossCheck(['account', 'region', 'targets', 'fleet', 'retention'], (c, ctx) => {
    const vault = c.fleet?.vault;
    if (!vault) return;
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    if (c.account === undefined)
      issue(
        ['account'],
        'is required with fleet.vault: the vault roles trust the hub roles by their ARNs, which name this account',
      );
    if (vault.account === c.account)
      issue(
        ['fleet', 'vault', 'account'],
        `is ${vault.account}, the hub's own account: the vault must be an account no workload or hub role can write to or delete from`,
      );
    c.targets.forEach((t, i) => {
      if (t.account !== undefined && t.account === vault.account)
        issue(
          ['fleet', 'vault', 'account'],
          `is ${vault.account}, also targets[${i}]: a vault inside a workload account does not survive that account's compromise; use a dedicated account`,
        );
    });
    if (!Object.hasOwn(c.retention.policies, vault.retention)) {
      const near = closest(vault.retention, Object.keys(c.retention.policies));
      issue(
        ['fleet', 'vault', 'retention'],
        `names retention policy "${vault.retention}", which is not in retention.policies (${names(c.retention.policies)}): ${near ? `did you mean "${near}"?` : 'add it there'}`,
      );
    }
    if (vault.regions) {
      const missing = [...new Set(c.targets.flatMap((t) => t.regions ?? [c.region]))].filter(
        (r) => !vault.regions!.includes(r),
      );
      if (missing.length)
        issue(
          ['fleet', 'vault', 'regions'],
          `lacks ${missing.join(', ')}, where targets are: a shared snapshot can only be copied within its own region, so each target region needs a vault region (add ${missing.join(', ')}, or leave regions out for every target region)`,
        );
    }
  }),
  crossCheck(['account', 'region', 'targets', 'fleet', 'drill'], (c, ctx) => {
    const vault = c.fleet?.vault;
    // As the parsed config resolves them: default, every target region.
    const vaultRegions = vault?.regions ?? [...new Set(c.targets.flatMap((t) => t.regions ?? [c.region]))];
    const fromVault = [
      ...Object.entries(c.drill.targets).map(([name, t]) => ({
        path: ['drill', 'targets', name],
        t,
        what: 'database',
      })),
      ...Object.entries(c.drill.volumes).map(([name, t]) => ({
        path: ['drill', 'volumes', name],
        t,
        what: 'instance or volume',
      })),
    ];
    for (const { path: at, t, what } of fromVault) {
      if (t.from !== 'vault') continue;
      const path = [...at, 'from'];
      if (t.account !== undefined && vault && t.account === vault.account)
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'account'],
          message: `is ${t.account}, the vault account: name the account the ${what} lives in (the hub's ${c.account ?? 'account'} or a target's); the vault holds its copies`,
        });
      else if (
        t.account !== undefined &&
        t.account !== c.account &&
        // An OU target's accounts are listed at run time: any account may be one of them.
        !c.targets.some((x) => x.organizationalUnit !== undefined || x.account === t.account)
      )
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'account'],
          message: `is ${t.account}, which is neither the hub's account nor a target's: the vault copies the ${what === 'database' ? 'snapshots' : 'sets'} of the hub and its targets only; add the account to targets, or name one of them`,
        });
      // Another account's database: its RDS-managed master secret lives there, and the drill does not look it up.
      if (
        'auth' in t &&
        t.auth === 'secret' &&
        t.secretArn === undefined &&
        t.account !== undefined &&
        t.account !== c.account
      )
        ctx.addIssue({
          code: 'custom',
          path: [...at, 'secretArn'],
          message: `is required with auth: secret when the database lives in another account (${t.account}): its RDS-managed master user secret is that account's, and the drill reads no secret there; name a secret holding its login, or use auth: iam`,
        });
      if (!vault)
        ctx.addIssue({
          code: 'custom',
          path,
          message:
            "is vault, but fleet.vault is not set: a drill from the vault restores the vault account's copy of the database; configure fleet.vault or use from: source",
        });
      else if (!vaultRegions.includes(c.region))
        ctx.addIssue({
          code: 'custom',
          path,
          message: `is vault, but ${c.region} (where drills restore) is not a vault region (${vaultRegions.join(', ')}): a shared snapshot is restored within its own region; add ${c.region} to fleet.vault.regions`,
        });
    }
  }),
  crossCheck(['region', 'dr', 'drill'], (c, ctx) => {
    for (const [name, t] of Object.entries(c.drill.volumes)) {
      if (t.from !== 'dr') continue;
      const path = ['drill', 'volumes', name];
      if (c.dr.region === c.region)
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'from'],
          message: `is dr, but dr.region is ${c.region}, the stage's own region: a drill from the DR copies restores in the DR region; set dr.region (and a backup policy with copyToDr for ebs)`,
        });
      if (t.availabilityZone !== undefined && !t.availabilityZone.startsWith(c.dr.region))
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'availabilityZone'],
          message: `is ${t.availabilityZone}, not a zone of ${c.dr.region}: with from: dr the volumes are restored in dr.region`,
        });
    }
  }),
  crossCheck(['targets', 'scaling'], (c, ctx) => {
    c.targets.forEach((t, i) => {
      for (const name of Object.keys(t.scaling?.rules ?? {}))
        if (!Object.hasOwn(c.scaling.rules, name)) {
          const near = closest(name, Object.keys(c.scaling.rules));
          ctx.addIssue({
            code: 'custom',
            path: ['targets', i, 'scaling', 'rules', name],
            message: `names scaling rule "${name}", which is not in scaling.rules (${names(c.scaling.rules)}): ${near ? `did you mean "${near}"? A target overrides` : 'a target overrides'} rules of the stage, it adds none`,
          });
        }
    });
  }),
  crossCheck(['targets', 'backup', 'retention'], (c, ctx) => {
    const issue = (path: (string | number)[], message: string) =>
      ctx.addIssue({ code: 'custom', path, message });
    const unknown = (path: (string | number)[], kind: string, name: string, known: object) => {
      const near = closest(name, Object.keys(known));
      issue(
        path,
        `names ${kind} policy "${name}", which is not in ${kind}.policies (${names(known)}): ${near ? `did you mean "${near}"? A target overrides` : 'a target overrides'} policies of the stage, it adds none`,
      );
    };
    c.targets.forEach((t, i) => {
      for (const [name, p] of Object.entries(t.backup?.policies ?? {})) {
        if (!Object.hasOwn(c.backup.policies, name))
          unknown(['targets', i, 'backup', 'policies', name], 'backup', name, c.backup.policies);
        if (p.retention !== undefined && !Object.hasOwn(c.retention.policies, p.retention))
          unknown(
            ['targets', i, 'backup', 'policies', name, 'retention'],
            'retention',
            p.retention,
            c.retention.policies,
          );
      }
      for (const name of Object.keys(t.retention?.policies ?? {}))
        if (!Object.hasOwn(c.retention.policies, name))
          unknown(['targets', i, 'retention', 'policies', name], 'retention', name, c.retention.policies);
      const own = t.retention?.deletions;
      const d = { ...c.retention.deletions, ...own };
      if (own && d.floor > d.safetyCap)
        issue(
          ['targets', i, 'retention', 'deletions', 'floor'],
          `is ${d.floor}, above this target's safetyCap (${d.safetyCap}): the floor is always allowed, the safety cap never exceeded`,
        );
    });
  }),
);

/**
 * A stage's validated config: every default filled in, and `targets` resolved to explicit regions (the
 * document embedded in the Lambdas). Parsing its output again yields the same document.
 */
export const StewardConfig = z.pipe(
  StewardConfigObject,
  z.transform((c) => {
    const targets = c.targets.map((t) => ({ ...t, regions: t.regions ?? [c.region] }));
    const vault = c.fleet?.vault;
    return {
      ...c,
      targets,
      // The vault's regions default to every target region (in first-seen order).
      ...(c.fleet && vault
        ? {
            fleet: {
              ...c.fleet,
              vault: { ...vault, regions: vault.regions ?? [...new Set(targets.flatMap((t) => t.regions))] },
            },
          }
        : {}),
    };
  }),
);
export type StewardConfig = z.infer<typeof StewardConfig>;
export type StewardConfigInput = z.input<typeof StewardConfig>;

/** Not errors, but worth saying: configuration that is valid and not (yet) acted on. */
/** Where Cost Anomaly Detection emits its EventBridge events ("Anomaly Detected", `aws.ce`). */
export const COST_ANOMALY_REGION = 'us-east-1';

export const configWarnings = (c: StewardConfig): { path: (string | number)[]; message: string }[] => {
  const warnings: { path: (string | number)[]; message: string }[] = [];
  c.targets.forEach((t, i) => {
    // With a fleet, every target fans out; an OU target's listing needs the hub's standing in Organizations.
    const elsewhere = c.fleet
      ? t.organizationalUnit !== undefined
      : t.organizationalUnit !== undefined ||
        (t.account !== undefined && t.account !== c.account) ||
        t.regions.some((r) => r !== c.region);
    if (elsewhere) {
      const who = t.organizationalUnit ?? t.account ?? 'this account';
      warnings.push({
        path: ['targets', i],
        message: c.fleet
          ? `${who} ${t.regions.join(', ')}: each cycle lists its accounts through AWS Organizations, which answers only the management account or a delegated administrator: deploy the hub (${c.account}) in one of them, or list the accounts as account targets`
          : `${who} ${t.regions.join(', ')}: validated, but not managed: without a fleet key steward acts only on its own account and region, ${c.region} (README: Fleet)`,
      });
    }
  });
  // Cost Anomaly Detection emits its EventBridge events in its home region only: a stage elsewhere deploys a rule
  // that never fires, and with budgets nothing polls (infra/cost.ts).
  const anomalies = c.cost.anomalies;
  if (c.cost.enabled && anomalies.enabled && !anomalies.snsTopicArn && c.region !== COST_ANOMALY_REGION) {
    warnings.push({
      path: ['cost', 'anomalies'],
      message:
        `Cost Anomaly Detection emits its events in ${COST_ANOMALY_REGION} only: the rule in ${c.region} sees none, and ` +
        (c.cost.alertsBy === 'budgets'
          ? 'with alertsBy: budgets no anomaly is ever alerted. '
          : `anomalies arrive only by the Cost Explorer poll, every lookbackDays (${anomalies.lookbackDays}). `) +
        `Set anomalies.snsTopicArn (an IMMEDIATE anomaly subscription's topic), forward aws.ce events from ${COST_ANOMALY_REGION} to this region's default bus, or set anomalies.enabled: false (README: Cost alerts)`,
    });
  }
  // AWS Budgets publish to the severity topics as AWS, not through steward's notifier: the pager route, which
  // carries steward's own signals (events on the bus), never sees them (infra/cost-budgets.ts, infra/pager.ts).
  const pager = c.notifications.pagerDuty;
  if (c.cost.enabled && c.cost.alertsBy === 'budgets' && pager) {
    const paged = [...c.cost.thresholds, ...c.cost.hourlyLimits].filter((b) =>
      pager.severities.includes(b.severity),
    );
    if (paged.length) {
      const severities = [...new Set(paged.map((b) => b.severity))];
      warnings.push({
        path: ['cost', 'alertsBy'],
        message:
          `AWS Budgets publish to the SNS topics only, never to the PagerDuty route (notifications.pagerDuty carries steward's own signals): ` +
          `the budgets ${paged.map((b) => ('maxUsdPerHour' in b ? b.id : (b.id ?? `usd-${b.amountUsd}`))).join(', ')} (${severities.join(', ')}) will not page. ` +
          `Subscribe PagerDuty's Amazon SNS integration to the ${severities.map((s) => `steward-${c.stage}-${s}`).join(', ')} topic${severities.length > 1 ? 's' : ''}, ` +
          'or set cost.alertsBy: cost-explorer, whose check pages them (README: Cost alerts)',
      });
    }
  }
  if (
    c.drill.enabled &&
    !Object.keys(c.drill.targets).length &&
    !Object.keys(c.drill.caches).length &&
    !Object.keys(c.drill.volumes).length
  ) {
    warnings.push({
      path: ['drill', 'targets'],
      message:
        'drill.enabled is true but there are no targets: the drill state machine deploys and drills nothing',
    });
  }
  return warnings;
};

/** Validate a stage config: the resolved config, or every problem (key path and fix). */
export const validateConfig = (
  input: unknown,
): { ok: true; config: StewardConfig } | { ok: false; problems: ConfigProblem[] } => {
  const r = StewardConfig.safeParse(input, { reportInput: true });
  return r.success ? { ok: true, config: r.data } : { ok: false, problems: configProblems(r.error.issues) };
};

/** Validate a stage config; throws one ConfigError naming every bad key path and its fix. */
export const parseConfig = (input: unknown, source: string): StewardConfig => {
  const r = validateConfig(input);
  if (!r.ok) {
    throw new ConfigError(
      `Invalid steward config (${source})`,
      r.problems.map((p) => `${renderPath(p.path)}: ${p.message}`),
    );
  }
  return r.config;
};
