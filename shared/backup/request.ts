import * as z from '../zod.js';
import type { StewardConfig } from '../config/schema.js';
import { EventShapeError, formatIssues } from '../errors.js';

// RDS and ElastiCache tag values: up to 256 Unicode letters, digits, white space and _ . : / = + - @
const TagValue = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(256),
    z.regex(
      /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u,
      'must be a tag value: letters, digits, spaces and _ . : / = + - @',
    ),
  );

const IsoTime = z.iso.datetime({
  offset: true,
  message: 'must be an ISO-8601 date-time such as 2026-01-15T03:00:00Z',
});

/** EventBridge Scheduler payload of a backup policy's schedule (`scheduledTime` = `<aws.scheduler.scheduled-time>`). */
export const ScheduledBackupEvent = z.strictObject({
  action: z.literal('scheduled-backup'),
  policy: z.string().check(z.minLength(1)),
  scheduledTime: IsoTime,
  dryRun: z.optional(z.boolean()),
});

/** Ad-hoc (pre-change) snapshot of one database, from the CLI or a pipeline. */
export const SnapshotEvent = z.strictObject({
  action: z.literal('snapshot'),
  /** DB instance, Aurora cluster or replication group id, or its ARN. */
  resource: z.string().check(z.minLength(1), z.maxLength(2048)),
  reason: TagValue,
  retainDays: z.optional(z.int().check(z.minimum(1), z.maximum(3650))),
  /** Stamps the snapshot id; a retried request with the same value is a no-op. Defaults to now. */
  requestedAt: z.optional(IsoTime),
  dryRun: z.optional(z.boolean()),
});

/** Hourly follow-up: start DR copies that were not available yet or deferred by the in-flight limit. */
export const ReconcileCopiesEvent = z.strictObject({
  action: z.literal('reconcile-copies'),
  dryRun: z.optional(z.boolean()),
});

/** A direct payload: what Scheduler, the CLI and pipelines send. */
export const BackupEvent = z.discriminatedUnion('action', [
  ScheduledBackupEvent,
  SnapshotEvent,
  ReconcileCopiesEvent,
]);
export type BackupEvent = z.infer<typeof BackupEvent>;

/** RDS event ids meaning "a manual snapshot was created" (DB snapshot / DB cluster snapshot). */
export const SNAPSHOT_CREATED_EVENT_IDS = { db: 'RDS-EVENT-0042', cluster: 'RDS-EVENT-0075' } as const;

/** EventBridge detail-types of RDS snapshot events. */
export const RDS_SNAPSHOT_DETAIL_TYPES = ['RDS DB Snapshot Event', 'RDS DB Cluster Snapshot Event'] as const;

/** EventBridge "manual snapshot created" event from RDS: a new snapshot may be ready to copy. */
export const RdsSnapshotCreatedEvent = z.object({
  source: z.literal('aws.rds'),
  'detail-type': z.enum(RDS_SNAPSHOT_DETAIL_TYPES),
  detail: z.object({
    EventID: z.enum([SNAPSHOT_CREATED_EVENT_IDS.db, SNAPSHOT_CREATED_EVENT_IDS.cluster]),
    SourceArn: z.optional(z.string()),
    SourceIdentifier: z.optional(z.string()),
  }),
});

/** The one typed request every trigger becomes. */
export type BackupRequest =
  | { action: 'scheduled-backup'; policy: string; scheduledTime: Date; dryRun: boolean }
  | {
      action: 'snapshot';
      resource: string;
      reason: string;
      retainDays: number;
      requestedAt?: Date;
      dryRun: boolean;
    }
  | { action: 'reconcile-copies'; dryRun: boolean; trigger?: { eventId: string; snapshot?: string } };

const fail = (what: string, issues: string[]): never => {
  throw new EventShapeError(what, issues);
};

const parseWith = <S extends z.ZodMiniType>(schema: S, raw: unknown, what: string): z.infer<S> => {
  const r = schema.safeParse(raw);
  return r.success ? r.data : fail(what, formatIssues(r.error.issues));
};

/**
 * Parse any backup trigger into one BackupRequest. Malformed input or an unknown policy name throws one
 * EventShapeError naming the field path. `retainDays` defaults to `backup.preChangeRetainDays`.
 */
export const parseBackupRequest = (raw: unknown, backup: StewardConfig['backup']): BackupRequest => {
  // EventBridge envelopes carry `source`; direct payloads carry `action`.
  if (raw !== null && typeof raw === 'object' && 'source' in raw && !('action' in raw)) {
    const e = parseWith(RdsSnapshotCreatedEvent, raw, 'Invalid RDS snapshot event');
    const snapshot = e.detail.SourceArn ?? e.detail.SourceIdentifier;
    return {
      action: 'reconcile-copies',
      dryRun: false,
      trigger: { eventId: e.detail.EventID, ...(snapshot ? { snapshot } : {}) },
    };
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
    case 'snapshot':
      return {
        action: e.action,
        resource: e.resource,
        reason: e.reason,
        retainDays: e.retainDays ?? backup.preChangeRetainDays,
        ...(e.requestedAt ? { requestedAt: new Date(e.requestedAt) } : {}),
        dryRun: e.dryRun ?? false,
      };
    case 'reconcile-copies':
      return { action: e.action, dryRun: e.dryRun ?? false };
  }
};
