import { createHash } from 'node:crypto';
import type { Severity, StewardConfig } from '../config/schema.js';
import { ConfigError, errorMessage } from '../errors.js';
import type { Database, Outcome } from '../model.js';
import { type Notifier, sendReported } from '../notify/notifier.js';
import { logger, metrics, MetricUnit } from '../observability.js';
import { throwIfFailed } from '../outcomes.js';
import { Tag } from '../tags.js';
import { findDatabase } from './plan.js';
import type { BackupScheduler } from './ports.js';
import { type BackupRequest, RDS_OPERATIONAL_EVENTS } from './request.js';

type Maintenance = Extract<BackupRequest, { action: 'maintenance' }>;

/** One protected database a maintenance window touches, and when its pre-change snapshot is taken. */
export type MaintenanceItem =
  | { entity: string; db: Database; snapshotAt: Date; mode: 'schedule' | 'now'; scheduleName: string }
  | { entity: string; db?: Database; mode: 'skip'; reason: string };

const MINUTE = 60_000;
// A schedule less than this far ahead could fire before it exists: take the snapshot now instead.
const TOO_SOON_MS = 2 * MINUTE;

/** Scheduler names: 1–64 of `[0-9a-zA-Z-_.]`; deterministic per maintenance event and database. */
export const preChangeScheduleName = (stage: string, eventArn: string, dbArn: string): string =>
  `steward-${stage}-pre-${createHash('sha256').update(`${eventArn}|${dbArn}`).digest('hex').slice(0, 16)}`;

const protectedBy = (db: Database, all: readonly Database[]): Database | undefined => {
  // An Aurora member is protected (and snapshotted) through its cluster.
  const owner = db.clusterId
    ? (all.find((d) => d.kind === 'aurora-cluster' && d.id === db.clusterId) ?? db)
    : db;
  return owner.tags[Tag.backup] !== undefined ? owner : undefined;
};

/** ElastiCache names nodes (`<group>-0001-001`); the replication group is what steward protects. */
const cacheGroupOf = (entity: string, all: readonly Database[]): Database | undefined =>
  all
    .filter((d) => d.kind === 'elasticache' && entity.toLowerCase().startsWith(`${d.id.toLowerCase()}-`))
    .sort((a, b) => b.id.length - a.id.length)[0];

/**
 * Which protected databases a scheduled maintenance touches and when each gets its pre-change snapshot:
 * the window start minus `leadMinutes`, scheduled, or now when that is (almost) past. Pure.
 */
export const planMaintenance = (
  req: Maintenance,
  databases: readonly Database[],
  leadMinutes: number,
  stage: string,
  now: Date,
): MaintenanceItem[] => {
  const seen = new Set<string>();
  return req.entities.flatMap((entity): MaintenanceItem[] => {
    const found = findDatabase(databases, entity);
    const db = 'db' in found ? found.db : cacheGroupOf(entity, databases);
    if (!db)
      return [
        {
          entity,
          mode: 'skip',
          reason: `not a database in this region (${'error' in found ? found.error : ''})`,
        },
      ];
    const owner = protectedBy(db, databases);
    if (!owner)
      return [{ entity, db, mode: 'skip', reason: `${db.id} is not protected (no ${Tag.backup} tag)` }];
    if (seen.has(owner.arn)) return [];
    seen.add(owner.arn);
    if (req.start.getTime() <= now.getTime())
      return [
        {
          entity,
          db: owner,
          mode: 'skip',
          reason: `the window started at ${req.start.toISOString()}: too late for a pre-change snapshot`,
        },
      ];
    const at = new Date(Math.floor((req.start.getTime() - leadMinutes * MINUTE) / 1000) * 1000);
    const scheduleName = preChangeScheduleName(stage, req.eventArn, owner.arn);
    const soon = at.getTime() - now.getTime() < TOO_SOON_MS;
    return [
      { entity, db: owner, snapshotAt: soon ? now : at, mode: soon ? 'now' : 'schedule', scheduleName },
    ];
  });
};

/** What a pre-change snapshot request looks like (the `snapshot` payload the function itself accepts). */
export const preChangePayload = (db: Database, at: Date, typeCode: string, retainDays: number) => ({
  action: 'snapshot',
  resource: db.arn,
  reason: `pre-maintenance ${typeCode}`.slice(0, 256),
  retainDays,
  requestedAt: at.toISOString(),
});

export interface EventDeps {
  config: StewardConfig;
  dryRun: boolean;
  notifier: Notifier;
  now: () => Date;
  /** Absent outside the deployed function: maintenance is then planned and reported, not scheduled. */
  scheduler?: BackupScheduler;
  listDatabases(): Promise<Database[]>;
  /** Take a pre-change snapshot now (the ad-hoc path), for a window too close to schedule. */
  snapshotNow(payload: ReturnType<typeof preChangePayload>): Promise<Outcome[]>;
}

export interface EventResult {
  action: 'maintenance' | 'rds-event' | 'ignored';
  dryRun: boolean;
  severity: Severity;
  summary: string;
  maintenance?: MaintenanceItem[];
  outcomes: Outcome[];
}

const CAPABILITY = 'backup';
const when = (d: Date) => d.toISOString().replace(/:\d\d\.\d{3}Z$/, 'Z');

/** A scheduled maintenance: schedule (or take) a pre-change snapshot of each protected database, and say so. */
const maintenance = async (req: Maintenance, deps: EventDeps): Promise<EventResult> => {
  const { config } = deps;
  const dryRun = deps.dryRun || req.dryRun;
  const window = `${when(req.start)}${req.end ? ` to ${when(req.end)}` : ''}`;
  if (!config.backup.maintenance.enabled) {
    const summary = `ignored: ${req.typeCode} (backup.maintenance.enabled is false)`;
    logger.info('backup event ignored', { reason: summary });
    return { action: 'ignored', dryRun, severity: 'info', summary, outcomes: [] };
  }
  const items = planMaintenance(
    req,
    await deps.listDatabases(),
    config.backup.maintenance.leadMinutes,
    config.stage,
    deps.now(),
  );
  const outcomes: Outcome[] = [];
  const lines: string[] = [];
  for (const item of items) {
    if (item.mode === 'skip') {
      logger.info('maintenance entity ignored', { entity: item.entity, reason: item.reason });
      lines.push(`- ${item.entity}: nothing to do: ${item.reason}`);
      continue;
    }
    const payload = preChangePayload(
      item.db,
      item.snapshotAt,
      req.typeCode,
      config.backup.preChangeRetainDays,
    );
    const base = { resource: item.db.id, action: 'pre-maintenance-snapshot' };
    const what = `${item.db.id} (${item.db.kind}): pre-change snapshot at ${when(item.snapshotAt)}, ${config.backup.maintenance.leadMinutes} min before the window, kept ${config.backup.preChangeRetainDays} days`;
    try {
      if (dryRun) {
        outcomes.push({
          ...base,
          status: 'planned',
          detail: item.mode === 'now' ? 'snapshot now' : item.scheduleName,
        });
      } else if (item.mode === 'now') {
        outcomes.push(...(await deps.snapshotNow(payload)));
      } else {
        if (!deps.scheduler)
          throw new ConfigError('Cannot schedule a pre-maintenance snapshot here', [
            'MAINTENANCE_SCHEDULE_GROUP: the deployed backup function sets it (steward invoke runs without a scheduler)',
          ]);
        const r = await deps.scheduler.scheduleOnce({
          name: item.scheduleName,
          at: item.snapshotAt,
          description: `steward: snapshot ${item.db.id} before ${req.typeCode} (${window})`,
          payload,
        });
        outcomes.push({
          ...base,
          status: r === 'created' ? 'done' : 'already-done',
          detail: item.scheduleName,
        });
      }
      lines.push(
        `- ${what}${item.mode === 'now' ? ' (now: the window is too close to schedule)' : ` (schedule ${item.scheduleName})`}`,
      );
    } catch (e) {
      outcomes.push({ ...base, status: 'failed', error: errorMessage(e) });
      lines.push(`- ${item.db.id}: FAILED to arrange the pre-change snapshot: ${errorMessage(e)}`);
    }
  }
  const arranged = items.filter((i) => i.mode !== 'skip');
  const failed = outcomes.some((o) => o.status === 'failed');
  const severity: Severity = failed ? 'critical' : arranged.length ? 'info' : 'info';
  const summary = arranged.length
    ? `${dryRun ? '[dry run] ' : ''}${req.typeCode} ${window}: pre-change snapshot of ${arranged.map((i) => i.db!.id).join(', ')} ${config.backup.maintenance.leadMinutes} min before`
    : `${req.typeCode} ${window}: no protected database affected`;
  metrics.addMetric(
    'MaintenanceSnapshotsScheduled',
    MetricUnit.Count,
    outcomes.filter((o) => o.status === 'done').length,
  );
  if (arranged.length) {
    outcomes.push(
      ...(await sendReported(deps.notifier, {
        severity,
        capability: CAPABILITY,
        subject: summary,
        lines: [
          `AWS Health: ${req.typeCode} for ${req.service}, window ${window} (${req.eventArn}).`,
          'What steward will do:',
          ...lines,
          '',
          'The snapshot is an ordinary pre-change snapshot (steward:reason, steward:retain-until); retention keeps it until then.',
        ],
        data: { eventArn: req.eventArn, typeCode: req.typeCode, start: req.start, end: req.end, outcomes },
      })),
    );
  } else {
    logger.info('maintenance touches no protected database', { eventArn: req.eventArn, lines });
  }
  throwIfFailed(`pre-maintenance snapshots for ${req.typeCode}`, outcomes);
  return { action: 'maintenance', dryRun, severity, summary, maintenance: items, outcomes };
};

/** A failover, stop, start or storage event: a notification at its severity when the database is protected. */
const rdsEvent = async (
  req: Extract<BackupRequest, { action: 'rds-event' }>,
  deps: EventDeps,
): Promise<EventResult> => {
  const known = RDS_OPERATIONAL_EVENTS[req.eventId]!;
  const all = await deps.listDatabases();
  const db = all.find((d) => d.id.toLowerCase() === req.database.toLowerCase() && d.kind !== 'elasticache');
  const owner = db && protectedBy(db, all);
  if (!owner) {
    const summary = `ignored: ${req.eventId} on ${req.database}: ${db ? 'not protected (no steward:backup tag)' : 'not a database in this region'}`;
    logger.info('backup event ignored', { reason: summary });
    return { action: 'ignored', dryRun: req.dryRun, severity: 'info', summary, outcomes: [] };
  }
  const summary = `${req.database}: ${known.what} (${req.eventId})`;
  const outcomes = await sendReported(deps.notifier, {
    severity: known.severity,
    capability: CAPABILITY,
    subject: summary,
    lines: [
      `${req.eventId} at ${req.at.toISOString()} on ${db!.kind} ${req.database}${owner !== db ? ` (member of protected cluster ${owner.id})` : ''}, protected by backup policy "${owner.tags[Tag.backup]}".`,
      ...(req.message ? [`RDS says: ${req.message}`] : []),
    ],
    data: { eventId: req.eventId, database: req.database, at: req.at, message: req.message },
  });
  metrics.addMetric('DatabaseEventsNotified', MetricUnit.Count, 1);
  throwIfFailed(`notification of ${req.eventId}`, outcomes);
  return { action: 'rds-event', dryRun: req.dryRun, severity: known.severity, summary, outcomes };
};

/** Run a backup event that is not a backup run: maintenance, an RDS database event, or one to ignore. */
export const runBackupEvent = async (
  req: Extract<BackupRequest, { action: 'maintenance' | 'rds-event' | 'ignored' }>,
  deps: EventDeps,
): Promise<EventResult> => {
  switch (req.action) {
    case 'maintenance':
      return maintenance(req, deps);
    case 'rds-event':
      return rdsEvent(req, deps);
    case 'ignored':
      logger.info('backup event ignored', { reason: req.reason });
      metrics.addMetric('EventsIgnored', MetricUnit.Count, 1);
      return {
        action: 'ignored',
        dryRun: req.dryRun,
        severity: 'info',
        summary: `ignored: ${req.reason}`,
        outcomes: [],
      };
  }
};
