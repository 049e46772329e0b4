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
  /** Stamps the snapshot id; a retried request with the same value is a no-op. */
  requestedAt: z.optional(IsoTime),
  /**
   * Names the snapshot: the same token is the same snapshot, whichever invocation carries it (a pipeline's
   * retries). Without it (and without `requestedAt`) the Lambda request id names it, which Lambda's async
   * retries keep.
   */
  clientToken: z.optional(
    z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1 to 64 letters, digits, - or _')),
  ),
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

/** Where the request came in: the Lambda invocation's id (absent in local runs). */
export interface Invocation {
  requestId?: string;
}

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
export const parseBackupRequest = (
  raw: unknown,
  backup: StewardConfig['backup'],
  invocation: Invocation = {},
): BackupRequest => {
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
  }
};
