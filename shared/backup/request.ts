import * as v from '../valid.js';
import type { Severity, StewardConfig } from '../config/schema.js';
import { echo, EventShapeError, formatIssues } from '../errors.js';
import { RdsEventDetail } from '../rds-events.js';
import { ID_PREFIX } from './ids.js';

// RDS and ElastiCache tag values: up to 256 Unicode letters, digits, white space and _ . : / = + - @
const TagValue = /* @__PURE__ */ v.onFirstUse(() =>
  v
    .string()
    .check(
      v.minLength(1),
      v.maxLength(256),
      v.regex(
        /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u,
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

/** EventBridge RDS snapshot event steward acts on: a snapshot to copy is ready, or a copy finished. */
export const RdsSnapshotCreatedEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    source: v.literal('aws.rds'),
    'detail-type': v.enum(RDS_SNAPSHOT_DETAIL_TYPES),
    region: v.optional(v.string()),
    detail: v.object({
      EventID: v.enum([
        SNAPSHOT_CREATED_EVENT_IDS.db,
        SNAPSHOT_CREATED_EVENT_IDS.cluster,
        SNAPSHOT_COPIED_EVENT_IDS.db,
      ]),
      SourceArn: v.optional(v.string()),
      SourceIdentifier: v.optional(v.string()),
    }),
  }),
);

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

/**
 * An EventBridge EBS snapshot event (only the fields steward reads). `snapshot_id` (one snapshot) or
 * `snapshots[].snapshot_id` (a multi-volume set) are snapshot ARNs; the envelope's `region` is where it
 * happened (a copy's event: the destination region). The documented examples print their ARNs in two
 * layouts (`arn:aws:ec2:us-west-2::snapshot/...` and `arn:aws:ec2::us-east-1:snapshot/...`), so steward
 * reads only the id after `snapshot/` and takes the region from the envelope.
 */
export const EbsSnapshotEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    source: v.literal('aws.ec2'),
    'detail-type': v.enum(EBS_SNAPSHOT_DETAIL_TYPES),
    region: v.string().check(v.minLength(1)),
    detail: v.object({
      event: v.string(),
      result: v.string(),
      snapshot_id: v.optional(v.string()),
      snapshots: v.optional(v.array(v.object({ snapshot_id: v.string() }))),
    }),
  }),
);

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

/** RDS instance and cluster events steward tells about for a protected database, at their severity. */
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
};

/** EventBridge detail-types of RDS instance and cluster events. */
export const RDS_DATABASE_DETAIL_TYPES = ['RDS DB Instance Event', 'RDS DB Cluster Event'] as const;

const RdsDatabaseEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    source: v.literal('aws.rds'),
    'detail-type': v.enum(RDS_DATABASE_DETAIL_TYPES),
    time: v.optional(v.string()),
    detail: RdsEventDetail,
  }),
);

const HealthTime = /* @__PURE__ */ v.onFirstUse(() =>
  v
    .string()
    .check(v.refine((s) => Number.isFinite(Date.parse(s)), 'must be a date and time (RFC 1123 or ISO-8601)')),
);

/**
 * AWS Health event (only the fields steward reads; the schema reference names them all: AWS Health User Guide,
 * "Reference: AWS Health events Amazon EventBridge schema"). `eventRegion` is the region the event is about
 * (`region` is where it was delivered); `backupEvent: "true"` marks the copy Health also delivers to the
 * partition's backup region.
 */
export const HealthEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    source: v.literal('aws.health'),
    'detail-type': v.literal('AWS Health Event'),
    detail: v.object({
      eventArn: v.string().check(v.minLength(1)),
      service: v.string().check(v.minLength(1)),
      eventTypeCode: v.string().check(v.minLength(1)),
      eventTypeCategory: v.string().check(v.minLength(1)),
      eventScopeCode: v.optional(v.string()),
      startTime: v.optional(HealthTime),
      endTime: v.optional(HealthTime),
      statusCode: v.optional(v.string()),
      eventRegion: v.optional(v.string()),
      backupEvent: v.optional(v.string()),
      eventDescription: v.optional(
        v.array(v.object({ language: v.optional(v.string()), latestDescription: v.optional(v.string()) })),
      ),
      affectedEntities: v._default(v.array(v.object({ entityValue: v.string().check(v.minLength(1)) })), []),
    }),
  }),
);

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

/**
 * An ElastiCache event EventBridge delivers directly ("Amazon ElastiCache events" in the EventBridge events
 * reference: "Snapshot Created", "Snapshot Export Failed", ...). The reference publishes no detail schema
 * (EventBridge's schema registry, as the CDK's generated event patterns show, names `SourceArn`,
 * `SourceIdentifier` and `SourceType` in it): the snapshot is read from the envelope's `resources` or the
 * detail's `SourceArn`, whichever is a snapshot ARN, and from nothing else.
 */
export const CacheSnapshotEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    source: v.literal('aws.elasticache'),
    'detail-type': v.string().check(v.minLength(1)),
    resources: v.optional(v.array(v.string())),
    detail: v.optional(v.object({ SourceArn: v.optional(v.string()) })),
  }),
);

/** The ElastiCache event that starts a Redis DR run: a snapshot (ours, or any) became available. */
export const CACHE_SNAPSHOT_CREATED = 'Snapshot Created';

// arn:<partition>:elasticache:<region>:<account>:snapshot:<name>
const CACHE_SNAPSHOT_ARN = /^arn:[a-z-]+:elasticache:[a-z0-9-]+:\d{12}:snapshot:(.+)$/;

/**
 * An ElastiCache event as a request. "Snapshot Created" of a steward snapshot reconciles that snapshot only
 * (a few requests, whatever the estate's size). Any other snapshot's (ElastiCache's automatic backups
 * are never copied) and an event that names no snapshot start nothing: the hourly reconcile lists
 * everything, so a snapshot it did not name still reaches DR within the hour.
 */
const parseCacheEvent = (raw: unknown): BackupRequest => {
  const e = parseWith(CacheSnapshotEvent, raw, 'Invalid ElastiCache event');
  const type = e['detail-type'];
  const ignored = (reason: string): BackupRequest => ({ action: 'ignored', reason, dryRun: false });
  if (type !== CACHE_SNAPSHOT_CREATED) return ignored(`ElastiCache "${type}" does not start a Redis DR copy`);
  const arns = [...(e.resources ?? []), ...(e.detail?.SourceArn ? [e.detail.SourceArn] : [])];
  const snapshot = arns.map((a) => CACHE_SNAPSHOT_ARN.exec(a)?.[1]).find((n) => n !== undefined);
  if (snapshot === undefined)
    return ignored(`ElastiCache "${type}" names no snapshot: the hourly Redis DR reconcile copies it`);
  if (!snapshot.startsWith(ID_PREFIX))
    return ignored(`ElastiCache snapshot ${echo(snapshot)} is not steward's: Redis DR copies steward's only`);
  return { action: 'reconcile-cache-dr', snapshot, dryRun: false, trigger: `${type}: ${snapshot}` };
};

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
  | { action: 'rds-event'; eventId: string; database: string; at: Date; message?: string; dryRun: boolean }
  /** Received, understood, not for backup: logged with the reason. */
  | { action: 'ignored'; reason: string; dryRun: boolean };

/** What an RDS snapshot event names: the snapshot's kind, id and region (ARN first, as the docs' examples). */
const snapshotTrigger = (e: v.infer<typeof RdsSnapshotCreatedEvent>): SnapshotTrigger => {
  const d = e.detail;
  const snapshot = d.SourceArn ?? d.SourceIdentifier;
  // arn:aws:rds:<region>:<account>:snapshot:<id> (a cluster snapshot: cluster-snapshot:<id>)
  const arn = d.SourceArn?.split(':');
  const id = arn && arn.length >= 7 ? arn.slice(6).join(':') : d.SourceIdentifier;
  const region = arn && arn.length >= 7 ? arn[3] : e.region;
  return {
    eventId: d.EventID,
    ...(snapshot ? { snapshot } : {}),
    kind: e['detail-type'] === 'RDS DB Cluster Snapshot Event' ? 'aurora-cluster' : 'rds-instance',
    ...(id ? { id: id.replace(/^rds:/, '') } : {}),
    ...(region ? { region } : {}),
  };
};

/**
 * An EBS snapshot event: a succeeded `createSnapshot(s)` or `copySnapshot` becomes a targeted copy reconcile
 * of the set that snapshot belongs to (any of its volumes' snapshots names it); anything else is ignored with
 * the reason. The event carries no tags, so the rule matches every snapshot of the account: the reconcile reads
 * the snapshot once and does nothing for one that is not steward's.
 */
const parseEbsEvent = (raw: unknown): BackupRequest => {
  const e = parseWith(EbsSnapshotEvent, raw, 'Invalid EBS snapshot event');
  const d = e.detail;
  const known: readonly string[] = [...EBS_SNAPSHOT_EVENTS.created, EBS_SNAPSHOT_EVENTS.copied];
  if (!known.includes(d.event))
    return {
      action: 'ignored',
      reason: `EBS ${d.event} is not a snapshot steward copies on`,
      dryRun: false,
    };
  if (d.result !== 'succeeded')
    return {
      action: 'ignored',
      reason: `EBS ${d.event} ${d.result}: nothing to copy (the backup run and the hourly reconcile report failed sets)`,
      dryRun: false,
    };
  const arn = d.snapshot_id ?? d.snapshots?.[0]?.snapshot_id;
  const id = /snapshot\/(snap-[0-9a-f]+)$/.exec(arn ?? '')?.[1];
  if (!arn || !id)
    fail('Invalid EBS snapshot event', [
      `detail.${d.snapshot_id !== undefined || !d.snapshots ? 'snapshot_id' : 'snapshots[0].snapshot_id'}: must be a snapshot ARN ending in snapshot/snap-<id>`,
    ]);
  return {
    action: 'reconcile-copies',
    dryRun: false,
    trigger: { eventId: d.event, snapshot: arn!, kind: 'ebs', id: id!, region: e.region },
  };
};

const fail = (what: string, issues: string[]): never => {
  throw new EventShapeError(what, issues);
};

const parseWith = <S extends v.Type>(schema: S, raw: unknown, what: string): v.infer<S> => {
  const r = schema.safeParse(raw);
  return r.success ? r.data : fail(what, formatIssues(r.error.issues));
};

const parseHealth = (raw: unknown): BackupRequest => {
  const e = parseWith(HealthEvent, raw, 'Invalid AWS Health event');
  const d = e.detail;
  const base = { dryRun: false };
  const category = d.eventTypeCategory as (typeof HEALTH_CATEGORIES)[number];
  if (!HEALTH_CATEGORIES.includes(category))
    return {
      action: 'ignored',
      reason: `AWS Health ${d.eventTypeCode} is a ${d.eventTypeCategory}, not a scheduled change or an issue`,
      ...base,
    };
  if (!(HEALTH_SERVICES as readonly string[]).includes(d.service))
    return {
      action: 'ignored',
      reason: `AWS Health ${d.eventTypeCode} is about ${d.service}, not ${HEALTH_SERVICES.join(', ')}`,
      ...base,
    };
  // Health delivers each event in its region and a copy in the partition's backup region (the schema's
  // `backupEvent`): the region the event is about acts on the original, so the copy would repeat it.
  if (d.backupEvent === 'true')
    return {
      action: 'ignored',
      reason: `AWS Health ${d.eventTypeCode} is the backup-region copy of an event about ${d.eventRegion ?? 'another region'}`,
      ...base,
    };
  const entities = d.affectedEntities.map((a) => a.entityValue);
  if (category === 'issue')
    return {
      action: 'health-issue',
      eventArn: d.eventArn,
      typeCode: d.eventTypeCode,
      service: d.service,
      status: d.statusCode ?? 'open',
      ...(d.eventScopeCode ? { scope: d.eventScopeCode } : {}),
      ...(d.startTime ? { start: new Date(Date.parse(d.startTime)) } : {}),
      ...(d.endTime ? { end: new Date(Date.parse(d.endTime)) } : {}),
      ...(d.eventRegion ? { eventRegion: d.eventRegion } : {}),
      entities,
      ...(d.eventDescription?.find((x) => x.latestDescription)?.latestDescription
        ? { description: d.eventDescription.find((x) => x.latestDescription)!.latestDescription! }
        : {}),
      ...base,
    };
  if (d.statusCode === 'closed')
    return {
      action: 'ignored',
      reason: `AWS Health ${d.eventTypeCode} is closed: the maintenance is over`,
      ...base,
    };
  if (!d.startTime)
    fail('Invalid AWS Health event', [
      'detail.startTime: required for a scheduled change (when the window starts)',
    ]);
  return {
    action: 'maintenance',
    eventArn: d.eventArn,
    typeCode: d.eventTypeCode,
    service: d.service,
    start: new Date(Date.parse(d.startTime!)),
    ...(d.endTime ? { end: new Date(Date.parse(d.endTime)) } : {}),
    entities,
    ...base,
  };
};

const parseRdsDatabaseEvent = (raw: unknown): BackupRequest => {
  const e = parseWith(RdsDatabaseEvent, raw, 'Invalid RDS event');
  const d = e.detail;
  // The documented example names the instance `rds:<id>` in SourceIdentifier; the ARN's last part is the id.
  const database = d.SourceArn?.split(':').at(-1) ?? d.SourceIdentifier.replace(/^rds:/, '');
  const eventId = d.EventID ?? '(none)';
  if (!Object.hasOwn(RDS_OPERATIONAL_EVENTS, eventId))
    return {
      action: 'ignored',
      reason: `RDS event ${eventId} on ${database} is not one steward tells about`,
      dryRun: false,
    };
  const at = new Date(Date.parse(d.Date ?? e.time ?? ''));
  if (Number.isNaN(at.getTime())) fail('Invalid RDS event', ['detail.Date: must be an ISO-8601 time']);
  return {
    action: 'rds-event',
    eventId,
    database,
    at,
    ...(d.Message ? { message: d.Message } : {}),
    dryRun: false,
  };
};

/**
 * Parse any backup trigger into one BackupRequest. Malformed input or an unknown policy name throws one
 * EventShapeError naming the field path. `retainDays` defaults to `backup.preChangeRetainDays`.
 */
export const parseBackupRequest = (
  raw: unknown,
  backup: StewardConfig['backup'],
  invocation: Invocation = {},
): BackupRequest => {
  // EventBridge envelopes carry `source`; direct payloads carry `action`.
  if (raw !== null && typeof raw === 'object' && 'source' in raw && !('action' in raw)) {
    const src = (raw as { source: unknown }).source;
    const type = (raw as { 'detail-type'?: unknown })['detail-type'];
    if (src === 'aws.events' && type === 'Scheduled Event')
      fail('A classic EventBridge "Scheduled Event" carries no backup request', [
        `detail-type: "Scheduled Event" has no policy or action; send one of: ${expectedPayloads(backup).join('; ')}. Set the rule target's input to that JSON, or use the schedules steward deploys`,
      ]);
    if (src === 'aws.health') return parseHealth(raw);
    if (src === 'aws.elasticache') return parseCacheEvent(raw);
    if (src === 'aws.ec2') return parseEbsEvent(raw);
    if (src === 'aws.rds' && (RDS_DATABASE_DETAIL_TYPES as readonly unknown[]).includes(type))
      return parseRdsDatabaseEvent(raw);
    if (src !== 'aws.rds')
      fail('Unrecognised backup event', [
        `source: "${String(src)}" is not one the backup function reads (aws.rds snapshot and database events, aws.elasticache and aws.ec2 (EBS) snapshot events, aws.health); or send ${expectedPayloads(backup).join('; ')}`,
      ]);
    const e = parseWith(RdsSnapshotCreatedEvent, raw, 'Invalid RDS snapshot event');
    return { action: 'reconcile-copies', dryRun: false, trigger: snapshotTrigger(e) };
  }
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
