import { createHash } from 'node:crypto';
import type { Severity, StewardConfig } from '../config/schema.js';
import { clip, ConfigError, errorMessage } from '../errors.js';
import type { Database, Outcome } from '../model.js';
import { firstOf, TOP_FAILURES, topLines } from '../notify/budget.js';
import { type Notifier, sendReported } from '../notify/notifier.js';
import { logger, metrics, MetricUnit } from '../observability.js';
import { throwIfFailed } from '../outcomes.js';
import { Tag } from '../tags.js';
import { findDatabase } from './plan.js';
import type { BackupScheduler } from './ports.js';
import { type BackupRequest, RDS_OPERATIONAL_EVENTS } from './request.js';

type Maintenance = Extract<BackupRequest, { action: 'maintenance' }>;
type HealthIssue = Extract<BackupRequest, { action: 'health-issue' }>;

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

/** The id an entity names: an ARN's last part (`arn:aws:ec2:…:instance/i-0abc` → `i-0abc`), else itself. */
const idOf = (entity: string): string => (entity.startsWith('arn:') ? entity.split(/[/:]/).at(-1)! : entity);

/**
 * What steward protects among what one Health entity names: the database (an Aurora member through its
 * cluster, an ElastiCache node through its replication group, an EC2 instance's EBS set), or, for an EC2
 * instance that is not protected as a whole, each protected EBS volume attached to it. Entities come as ids
 * or ARNs: the EC2 retirement sample of the AWS Health User Guide names its instance by ARN.
 */
export const protectedByEntity = (
  entity: string,
  all: readonly Database[],
): { owners: Database[] } | { db?: Database; skip: string } => {
  const found = findDatabase(all, entity);
  const id = idOf(entity);
  const db =
    'db' in found
      ? found.db
      : (cacheGroupOf(entity, all) ?? (id !== entity ? all.find((d) => d.id === id) : undefined));
  if (db) {
    const owner = protectedBy(db, all);
    return owner ? { owners: [owner] } : { db, skip: `${db.id} is not protected (no ${Tag.backup} tag)` };
  }
  const volumes = all.filter(
    (d) => d.kind === 'ebs' && d.ebs?.attachedTo === id && d.tags[Tag.backup] !== undefined,
  );
  if (volumes.length) return { owners: volumes };
  return { skip: `not a database in this region (${'error' in found ? found.error : ''})` };
};

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
    const r = protectedByEntity(entity, databases);
    if ('skip' in r) return [{ entity, ...(r.db ? { db: r.db } : {}), mode: 'skip', reason: r.skip }];
    return r.owners.flatMap((owner): MaintenanceItem[] => {
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
  action: 'maintenance' | 'health-issue' | 'rds-event' | 'ignored';
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

const REGION = /^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/;
const DESCRIPTION_MAX = 1000;

const ignoredEvent = (summary: string, dryRun: boolean): EventResult => {
  logger.info('backup event ignored', { reason: summary });
  metrics.addMetric('EventsIgnored', MetricUnit.Count, 1);
  return { action: 'ignored', dryRun, severity: 'info', summary, outcomes: [] };
};

/**
 * An AWS Health issue of RDS, ElastiCache, EC2 or EBS: one bounded notification, no action. An account's
 * event tells only when it names a resource steward protects (each named, at most TOP_FAILURES, the rest
 * counted); a public event (no resources: the region's service) tells as it is. Warning while open,
 * info once closed. An issue about another region than this run's is not this run's to tell.
 */
const healthIssue = async (req: HealthIssue, deps: EventDeps): Promise<EventResult> => {
  const { config } = deps;
  const dryRun = deps.dryRun || req.dryRun;
  if (!config.backup.maintenance.enabled)
    return ignoredEvent(`ignored: ${req.typeCode} (backup.maintenance.enabled is false)`, dryRun);
  if (req.eventRegion && REGION.test(req.eventRegion) && req.eventRegion !== config.region)
    return ignoredEvent(`ignored: ${req.typeCode} is about ${req.eventRegion}, not ${config.region}`, dryRun);
  const all = req.entities.length ? await deps.listDatabases() : [];
  const owners = new Map<string, Database>();
  let unprotected = 0;
  for (const entity of req.entities) {
    const r = protectedByEntity(entity, all);
    if ('skip' in r) unprotected++;
    else for (const o of r.owners) owners.set(o.arn, o);
  }
  const named = [...owners.values()];
  if (req.entities.length && !named.length)
    return ignoredEvent(
      `ignored: ${req.typeCode} names ${req.entities.length} resources, none protected by steward`,
      dryRun,
    );
  const closed = req.status === 'closed';
  const severity: Severity = closed ? 'info' : 'warning';
  const ids = named.map((o) => o.id);
  const on = named.length ? firstOf(ids, 3) : `${req.service} in ${config.region}`;
  const summary = `AWS Health ${closed ? 'issue resolved' : 'issue'}: ${req.typeCode} on ${on}`;
  const since = req.start ? `, since ${when(req.start)}${req.end ? ` until ${when(req.end)}` : ''}` : '';
  const outcomes = await sendReported(deps.notifier, {
    severity,
    capability: CAPABILITY,
    subject: summary,
    lines: [
      `AWS Health ${req.typeCode} for ${req.service} (${req.scope ?? 'scope not given'}), status ${req.status}${since} (${req.eventArn}).`,
      ...(named.length
        ? [
            `Resources steward protects that it names (${named.length}):`,
            ...topLines(
              named,
              (o) => `- ${o.id} (${o.kind}), backup policy "${o.tags[Tag.backup]}"`,
              'resources',
              TOP_FAILURES,
            ),
            ...(unprotected ? [`It also names ${unprotected} resources steward does not protect.`] : []),
          ]
        : [`A public event: ${req.service} in ${config.region} as a whole, no resource named.`]),
      ...(req.description ? ['', `AWS says: ${clip(req.description, DESCRIPTION_MAX)}`] : []),
      '',
      closed
        ? 'AWS reports the issue resolved.'
        : 'Steward takes no action on an issue. Check the resources; before replacing or restoring one, take a pre-change snapshot (steward snapshot).',
    ],
    data: {
      eventArn: req.eventArn,
      typeCode: req.typeCode,
      service: req.service,
      status: req.status,
      scope: req.scope ?? null,
      resources: named.slice(0, TOP_FAILURES).map((o) => o.arn),
      unprotected,
    },
  });
  metrics.addMetric('HealthIssuesNotified', MetricUnit.Count, 1);
  throwIfFailed(`notification of ${req.typeCode}`, outcomes);
  return { action: 'health-issue', dryRun, severity, summary, outcomes };
};

/** A failover, stop, start or storage event: a notification at its severity when the database is protected. */
const rdsEvent = async (
  req: Extract<BackupRequest, { action: 'rds-event' }>,
  deps: EventDeps,
): Promise<EventResult> => {
  const known = RDS_OPERATIONAL_EVENTS[req.eventId]!;
  const all = await deps.listDatabases();
  // A cluster event names the cluster, an instance event the instance (an Aurora member is told through its
  // protected cluster); a cluster and an instance may share a name.
  const kind = req.source === 'cluster' ? 'aurora-cluster' : 'rds-instance';
  const db = all.find((d) => d.id.toLowerCase() === req.database.toLowerCase() && d.kind === kind);
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

/**
 * Run a backup event that is not a backup run: maintenance, a Health issue, an RDS database event, or one to
 * ignore.
 */
export const runBackupEvent = async (
  req: Extract<BackupRequest, { action: 'maintenance' | 'health-issue' | 'rds-event' | 'ignored' }>,
  deps: EventDeps,
): Promise<EventResult> => {
  switch (req.action) {
    case 'maintenance':
      return maintenance(req, deps);
    case 'health-issue':
      return healthIssue(req, deps);
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
