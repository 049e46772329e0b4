import * as v from '../valid.js';
import type { StewardConfig } from '../config/schema.js';
import { echo } from '../errors.js';
import { RdsEventDetail } from '../rds-events.js';
import { ID_PREFIX } from './ids.js';
import {
  type BackupRequest,
  CACHE_SNAPSHOT_CREATED,
  EBS_SNAPSHOT_DETAIL_TYPES,
  EBS_SNAPSHOT_EVENTS,
  expectedPayloads,
  fail,
  HEALTH_CATEGORIES,
  HEALTH_SERVICES,
  type Invocation,
  isEventEnvelope,
  parseBackupPayload,
  parseWith,
  RDS_DATABASE_DETAIL_TYPES,
  RDS_OPERATIONAL_EVENTS,
  RDS_SNAPSHOT_DETAIL_TYPES,
  SNAPSHOT_COPIED_EVENT_IDS,
  SNAPSHOT_CREATED_EVENT_IDS,
  type SnapshotTrigger,
} from './request.js';

// AWS's own events the backup function reads (RDS snapshot and database events, EBS snapshot events, AWS
// Health, ElastiCache), apart from the direct payloads (request.ts): their schemas and parsers are loaded only
// by the invocations that get one of these events.

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
    source: e['detail-type'] === 'RDS DB Cluster Event' ? 'cluster' : 'instance',
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
  if (isEventEnvelope(raw)) {
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
  return parseBackupPayload(raw, backup, invocation);
};
