import * as v from '../valid.js';
import type { Severity, StewardConfig } from '../config/schema.js';
import { EventShapeError, formatIssues } from '../errors.js';

// RDS and ElastiCache tag values: up to 256 Unicode letters, digits, white space and _ . : / = + - @. Made
// from a string on first use: V8 checks a regex literal when it parses the module, and for these Unicode
// property classes that builds ICU's character sets at every cold start (~2-3 M instructions, Node 22), used
// or not; only an ad-hoc snapshot request (its reason) uses it.
const TagValue = /* @__PURE__ */ v.onFirstUse(() =>
  v
    .string()
    .check(
      v.minLength(1),
      v.maxLength(256),
      v.regex(
        new RegExp('^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$', 'u'),
        'must be a tag value: letters, digits, spaces and _ . : / = + - @',
      ),
    ),
);

const IsoTime = /* @__PURE__ */ v.onFirstUse(() =>
  v.iso.datetime({
    offset: true,
    message: 'must be an ISO-8601 date-time such as 2026-01-15T03:00:00Z',
  }),
);

/** EventBridge Scheduler payload of a backup policy's schedule (`scheduledTime` = `<aws.scheduler.scheduled-time>`). */
export const ScheduledBackupEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.strictObject({
    action: v.literal('scheduled-backup'),
    policy: v.string().check(v.minLength(1)),
    scheduledTime: IsoTime,
    dryRun: v.optional(v.boolean()),
  }),
);

/** Ad-hoc (pre-change) snapshot of one database, from the CLI or a pipeline. */
export const SnapshotEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.strictObject({
    action: v.literal('snapshot'),
    /** DB instance, Aurora cluster or replication group id, or its ARN. */
    resource: v.string().check(v.minLength(1), v.maxLength(2048)),
    reason: TagValue,
    retainDays: v.optional(v.int().check(v.minimum(1), v.maximum(3650))),
    /** Stamps the snapshot id; a retried request with the same value is a no-op. */
    requestedAt: v.optional(IsoTime),
    /**
     * Names the snapshot: the same token is the same snapshot, whichever invocation carries it (a pipeline's
     * retries). Without it (and without `requestedAt`) the Lambda request id names it, which Lambda's async
     * retries keep.
     */
    clientToken: v.optional(
      v.string().check(v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, - or _')),
    ),
    dryRun: v.optional(v.boolean()),
  }),
);

/** Hourly follow-up: start DR copies that were not available yet or deferred by the in-flight limit. */
export const ReconcileCopiesEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.strictObject({
    action: v.literal('reconcile-copies'),
    dryRun: v.optional(v.boolean()),
  }),
);

/**
 * Redis DR on its own: export steward's cache snapshots to S3 and copy them to the DR bucket; with
 * `snapshot`, only that one (what an ElastiCache "Snapshot Created" event becomes).
 */
export const ReconcileCacheDrEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.strictObject({
    action: v.literal('reconcile-cache-dr'),
    snapshot: v.optional(v.string().check(v.minLength(1))),
    dryRun: v.optional(v.boolean()),
  }),
);

/** A direct payload: what Scheduler, the CLI and pipelines send. */
export const BackupEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.discriminatedUnion('action', [
    ScheduledBackupEvent,
    SnapshotEvent,
    ReconcileCopiesEvent,
    ReconcileCacheDrEvent,
  ]),
);
export type BackupEvent = v.infer<typeof BackupEvent>;

/** RDS event ids meaning "a manual snapshot was created" (DB snapshot / DB cluster snapshot). */
export const SNAPSHOT_CREATED_EVENT_IDS = { db: 'RDS-EVENT-0042', cluster: 'RDS-EVENT-0075' } as const;

/**
 * RDS event id meaning "a cross-region DB snapshot copy finished" ("Finished copy of snapshot <name> from
 * region <name> in <n> minutes", RDS User Guide, "Amazon RDS event categories and event messages", DB
 * snapshot events). It is emitted in the destination region. The DB cluster snapshot table lists no copy
 * event: Aurora copies are followed up by the hourly reconcile only.
 */
export const SNAPSHOT_COPIED_EVENT_IDS = { db: 'RDS-EVENT-0060' } as const;

/** EventBridge detail-types of RDS snapshot events. */
export const RDS_SNAPSHOT_DETAIL_TYPES = ['RDS DB Snapshot Event', 'RDS DB Cluster Snapshot Event'] as const;

/**
 * EventBridge detail-types of the EBS snapshot results steward copies on: `createSnapshot` and `copySnapshot`
 * come as "EBS Snapshot Notification", `createSnapshots` (a multi-volume set) as "EBS Multi-Volume Snapshots
 * Completion Status" (EBS User Guide, "Amazon EventBridge events for Amazon EBS", snapshot events).
 */
export const EBS_SNAPSHOT_DETAIL_TYPES = [
  'EBS Snapshot Notification',
  'EBS Multi-Volume Snapshots Completion Status',
] as const;

/** EBS snapshot events (`detail.event`) that start DR copies: a set (or one volume's snapshot) completed, a copy finished. */
export const EBS_SNAPSHOT_EVENTS = {
  created: ['createSnapshot', 'createSnapshots'],
  copied: 'copySnapshot',
} as const;

/** The snapshot an RDS or EBS snapshot event is about, as far as the event says. */
export interface SnapshotTrigger {
  eventId: string;
  /** The event's SourceArn, else its SourceIdentifier (kept for the report). */
  snapshot?: string;
  kind: 'rds-instance' | 'aurora-cluster' | 'ebs';
  /**
   * The snapshot id (the ARN's last part; `rds:` of automated-style identifiers dropped). For EBS, one volume
   * snapshot of the set (`snap-...`): the set is found by its `steward:set` tag.
   */
  id?: string;
  /** The region the event came from (the ARN's, else the envelope's). */
  region?: string;
}

/** Where the request came in: the Lambda invocation's id (absent in local runs). */
export interface Invocation {
  requestId?: string;
}

/**
 * RDS instance and cluster events steward tells about for a protected database, at their severity. One table
 * keyed by id: the ids here are each listed in one of the RDS/Aurora User Guides' tables ("Amazon RDS event
 * categories and event messages": DB instance events, DB cluster events), not both. The event's detail-type,
 * not its id, decides whether it is about an instance or a cluster (`rds-event` `source`).
 */
export const RDS_OPERATIONAL_EVENTS: Record<string, { severity: Severity; what: string }> = {
  'RDS-EVENT-0013': { severity: 'warning', what: 'Multi-AZ failover started' },
  'RDS-EVENT-0015': { severity: 'warning', what: 'Multi-AZ failover to the standby completed' },
  'RDS-EVENT-0049': { severity: 'warning', what: 'Multi-AZ failover completed' },
  'RDS-EVENT-0087': {
    severity: 'warning',
    what: 'stopped: no new writes, and RDS starts it again after 7 days',
  },
  'RDS-EVENT-0088': { severity: 'info', what: 'started' },
  'RDS-EVENT-0154': { severity: 'warning', what: 'started by RDS after 7 days stopped' },
  'RDS-EVENT-0089': {
    severity: 'warning',
    what: 'free storage low: more than 90 % of allocated storage used',
  },
  'RDS-EVENT-0007': { severity: 'critical', what: 'allocated storage exhausted (storage-full): writes fail' },
  'RDS-EVENT-0227': { severity: 'critical', what: 'Aurora cluster storage dangerously low' },
  // DB cluster events (Aurora, and Multi-AZ DB clusters).
  'RDS-EVENT-0069': {
    severity: 'critical',
    what: 'cluster failover failed: check the state of the cluster instances',
  },
  'RDS-EVENT-0070': { severity: 'warning', what: 'cluster failover: promoting the previous primary again' },
  'RDS-EVENT-0071': { severity: 'warning', what: 'cluster failover completed' },
  'RDS-EVENT-0072': { severity: 'warning', what: 'cluster same-AZ failover started' },
  'RDS-EVENT-0073': { severity: 'warning', what: 'cluster cross-AZ failover started' },
  'RDS-EVENT-0150': {
    severity: 'warning',
    what: 'cluster stopped: no new writes, and RDS starts it again after 7 days',
  },
  'RDS-EVENT-0151': { severity: 'info', what: 'cluster started' },
  'RDS-EVENT-0153': { severity: 'warning', what: 'cluster started by RDS after 7 days stopped' },
};

/** EventBridge detail-types of RDS instance and cluster events. */
export const RDS_DATABASE_DETAIL_TYPES = ['RDS DB Instance Event', 'RDS DB Cluster Event'] as const;

/**
 * AWS Health services whose events touch what steward protects: RDS and ElastiCache databases, and EC2
 * instances and EBS volumes (EBS sets). Their scheduled changes get pre-change snapshots; their issues a
 * notification.
 */
export const HEALTH_SERVICES = ['RDS', 'ELASTICACHE', 'EC2', 'EBS'] as const;

/** The Health event categories steward reads: a scheduled change (it acts before) and an issue (it tells). */
export const HEALTH_CATEGORIES = ['scheduledChange', 'issue'] as const;

/** What steward expects instead of a hand-wired classic EventBridge "Scheduled Event". */
export const expectedPayloads = (backup: StewardConfig['backup']): string[] => [
  `a steward schedule's payload {"action":"scheduled-backup","policy":"<one of: ${Object.keys(backup.policies).join(', ') || 'none'}>","scheduledTime":"<aws.scheduler.scheduled-time>"} (steward deploys one schedule per policy)`,
  '{"action":"snapshot","resource":"<db id or ARN>","reason":"<why>"} for a pre-change snapshot',
  '{"action":"reconcile-copies"} to start pending DR copies',
  '{"action":"reconcile-cache-dr"} to export and copy ElastiCache snapshots to DR',
];

/** The ElastiCache event that starts a Redis DR run: a snapshot (ours, or any) became available. */
export const CACHE_SNAPSHOT_CREATED = 'Snapshot Created';

/** The one typed request every trigger becomes. */
export type BackupRequest =
  | { action: 'scheduled-backup'; policy: string; scheduledTime: Date; dryRun: boolean }
  | {
      action: 'snapshot';
      resource: string;
      reason: string;
      retainDays: number;
      requestedAt?: Date;
      /**
       * What names the snapshot, so a retry is a no-op: a client token or the Lambda request id (`key`), or
       * the requested time (`at`). Absent only for local runs without either, which stamp it with the clock.
       */
      identity?: { key: string } | { at: Date };
      dryRun: boolean;
    }
  | { action: 'reconcile-copies'; dryRun: boolean; trigger?: SnapshotTrigger }
  /**
   * Redis DR: export and copy; with `snapshot`, only that one. `trigger` names the ElastiCache event that
   * started it, if one did.
   */
  | { action: 'reconcile-cache-dr'; dryRun: boolean; snapshot?: string; trigger?: string }
  /** AWS Health scheduled maintenance: pre-change snapshots of the protected databases it names. */
  | {
      action: 'maintenance';
      eventArn: string;
      typeCode: string;
      service: string;
      start: Date;
      end?: Date;
      entities: string[];
      dryRun: boolean;
    }
  /**
   * An AWS Health issue of a service whose resources steward protects: told (the protected resources it names,
   * or the region's service for a public event), never acted on.
   */
  | {
      action: 'health-issue';
      eventArn: string;
      typeCode: string;
      service: string;
      /** `open`, `closed` (resolved) or `upcoming`. */
      status: string;
      /** `PUBLIC` (the region's service), `ACCOUNT_SPECIFIC` or `NONE`. */
      scope?: string;
      start?: Date;
      end?: Date;
      eventRegion?: string;
      entities: string[];
      description?: string;
      dryRun: boolean;
    }
  /** An RDS instance or cluster event to tell about (failover, stop/start, storage). */
  /** `source`: what the event is about, from its detail-type (an instance and a cluster may share a name). */
  | {
      action: 'rds-event';
      eventId: string;
      database: string;
      source: 'instance' | 'cluster';
      at: Date;
      message?: string;
      dryRun: boolean;
    }
  /** Received, understood, not for backup: logged with the reason. */
  | { action: 'ignored'; reason: string; dryRun: boolean };

export const fail = (what: string, issues: string[]): never => {
  throw new EventShapeError(what, issues);
};

export const parseWith = <S extends v.Type>(schema: S, raw: unknown, what: string): v.infer<S> => {
  const r = schema.safeParse(raw);
  return r.success ? r.data : fail(what, formatIssues(r.error.issues));
};

/**
 * Whether `raw` is an EventBridge envelope (AWS's own events carry `source`; direct payloads carry `action`):
 * shared/backup/events.ts parses those, loaded only by the invocations that get one.
 */
export const isEventEnvelope = (raw: unknown): raw is object =>
  raw !== null && typeof raw === 'object' && 'source' in raw && !('action' in raw);

/**
 * Parse a direct payload (a steward schedule's, the CLI's, a pipeline's) into one BackupRequest. Malformed
 * input or an unknown policy name throws one EventShapeError naming the field path. `retainDays` defaults to
 * `backup.preChangeRetainDays`. Every trigger, AWS's events too: parseBackupRequest (events.ts).
 */
export const parseBackupPayload = (
  raw: unknown,
  backup: StewardConfig['backup'],
  invocation: Invocation = {},
): BackupRequest => {
  const e = parseWith(BackupEvent, raw, 'Invalid backup request');
  switch (e.action) {
    case 'scheduled-backup': {
      if (!Object.hasOwn(backup.policies, e.policy)) {
        const known = Object.keys(backup.policies).join(', ') || 'none';
        fail(`Unknown backup policy "${e.policy}"`, [
          `policy: "${e.policy}" is not in backup.policies (known: ${known})`,
        ]);
      }
      return {
        action: e.action,
        policy: e.policy,
        scheduledTime: new Date(e.scheduledTime),
        dryRun: e.dryRun ?? false,
      };
    }
    case 'snapshot': {
      // The request names its snapshot, never the clock: a client token first (the caller's own key), then
      // the requested time, then the Lambda request id (kept by Lambda's async retries).
      const identity = e.clientToken
        ? { key: `client-token:${e.clientToken}` }
        : e.requestedAt
          ? { at: new Date(e.requestedAt) }
          : invocation.requestId
            ? { key: `lambda-request:${invocation.requestId}` }
            : undefined;
      return {
        action: e.action,
        resource: e.resource,
        reason: e.reason,
        retainDays: e.retainDays ?? backup.preChangeRetainDays,
        ...(e.requestedAt ? { requestedAt: new Date(e.requestedAt) } : {}),
        ...(identity ? { identity } : {}),
        dryRun: e.dryRun ?? false,
      };
    }
    case 'reconcile-copies':
      return { action: e.action, dryRun: e.dryRun ?? false };
    case 'reconcile-cache-dr':
      return { action: e.action, ...(e.snapshot ? { snapshot: e.snapshot } : {}), dryRun: e.dryRun ?? false };
  }
};
