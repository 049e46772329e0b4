import { mayBeCopyFrom } from '../backup/copy-origin.js';
import { replicaCoveredBy, unsnapshottable } from '../backup/plan.js';
import type { BackupPolicy, ReportConfig, StewardConfig } from '../config/schema.js';
import type { Database, ResourceKind, Snapshot } from '../model.js';
import { planRetention } from '../retention/gfs.js';
import { drCopying, retentionPolicyResolver } from '../retention/policy.js';
import { dataTime } from '../data-time.js';
import { Tag } from '../tags.js';
import { shortDuration, utcMinute } from './format.js';
import {
  type AspectVerdict,
  type DatabaseStatus,
  drillOutcome,
  type DrillSummary,
  type EstateStatus,
  type Health,
  HEALTH_RANK,
  type ScalingState,
} from './model.js';
import { parseSchedule, previousFire, type Schedule, ScheduleError, typicalInterval } from './schedule.js';

/** What `steward status` (and the status check) reads, as plain data. */
export interface EstateInputs {
  /** Databases of the primary region: RDS instances (Aurora members included), Aurora clusters, caches. */
  databases: readonly Database[];
  /** Snapshots of the primary region, automated ones included. */
  snapshots: readonly Snapshot[];
  /** Snapshots of the DR region (empty when nothing copies there). */
  drSnapshots: readonly Snapshot[];
  /** Drills on record; the newest per database counts. Undefined: the history could not be read. */
  drills?: readonly DrillSummary[];
  scaling: readonly ScalingState[];
  /** Caveats of the reads (a source that could not be read), shown with the result. */
  notes?: readonly string[];
}

const MINUTE = 60_000;
// An id stamp is the scheduled minute; the snapshot itself is created a little later.
const STAMP_SLACK_MS = 5 * MINUTE;

export { dataTime };

/**
 * Steward's own snapshot: tagged `steward:managed=true`, or (ElastiCache, whose list carries no tags)
 * a manual snapshot named `steward-*`. Read-only use: retention still checks the tags before deleting.
 */
export const isStewardSnapshot = (s: Snapshot): boolean =>
  s.tags[Tag.managed] === 'true' ||
  (s.kind === 'elasticache' && s.type === 'manual' && s.id.startsWith('steward-'));

const sourceOf = (s: Snapshot) => s.tags[Tag.source] || s.sourceId;
const key = (kind: ResourceKind, id: string) => `${kind}\u0000${id}`;
/**
 * A database's or snapshot's key: a serverless cache and a replication group of the same name are two caches,
 * each with its own snapshots.
 */
const keyOf = (x: { kind: ResourceKind; serverless?: true }, id: string) =>
  x.serverless ? `${x.kind}\u0000serverless\u0000${id}` : key(x.kind, id);
const worst = (hs: readonly Health[]): Health =>
  hs.reduce<Health>((a, b) => (HEALTH_RANK[b] > HEALTH_RANK[a] ? b : a), 'OK');
const old = (ms: number) => `${shortDuration(ms / 1000)} old`;
const utc = utcMinute;

const schedule = (expression: string, timezone = 'UTC'): Schedule | string => {
  try {
    return parseSchedule(expression, timezone);
  } catch (e) {
    return e instanceof ScheduleError ? e.message : String(e);
  }
};

const group = (snaps: readonly Snapshot[]): Map<string, Snapshot[]> => {
  const out = new Map<string, Snapshot[]>();
  for (const s of snaps) {
    const k = keyOf(s, sourceOf(s));
    const list = out.get(k);
    if (list) list.push(s);
    else out.set(k, [s]);
  }
  return out;
};

const newestBy = (snaps: readonly Snapshot[]): Snapshot | undefined =>
  snaps.reduce<Snapshot | undefined>(
    (a, s) => (a === undefined || (dataTime(s) ?? -Infinity) > (dataTime(a) ?? -Infinity) ? s : a),
    undefined,
  );

const LIVE = new Set(['available', 'creating', 'copying', 'pending', 'backing-up']);

/**
 * Judge one stream of scheduled snapshots (primary backups or DR copies): the latest scheduled time that
 * is past its grace must be covered by a snapshot holding data at least that new. One miss is LATE, two
 * consecutive misses FAILING; a failed snapshot for that time is FAILING.
 */
const judgeStream = (
  what: 'backup' | 'DR copy',
  sched: Schedule | string,
  mine: readonly Snapshot[],
  graceMs: number,
  since: number | undefined,
  now: number,
): { health: AspectVerdict['health']; reason: string; nextAt?: number } => {
  const live = mine.filter((s) => LIVE.has(s.status));
  const newest = newestBy(live);
  const newestMs = newest ? dataTime(newest) : undefined;
  const newestText = newest
    ? `newest ${what} ${newest.id} is ${old(now - newestMs!)}`
    : `no ${what} on record`;
  if (typeof sched === 'string') {
    return { health: 'LATE', reason: `schedule not understood (${sched}); ${newestText}` };
  }
  const covered = (due: number) => newestMs !== undefined && newestMs >= due - STAMP_SLACK_MS;
  const due = previousFire(sched, new Date(now - graceMs))?.getTime();
  if (due === undefined) {
    // rate(): the phase is unknown, so judge by age against the interval.
    const every = typicalInterval(sched, new Date(now));
    if (every === undefined) return { health: 'OK', reason: `no scheduled ${what} due; ${newestText}` };
    const late = newestMs === undefined || now - newestMs > every + graceMs;
    const failing = newestMs === undefined || now - newestMs > 2 * every + graceMs;
    return late
      ? {
          health: failing ? 'FAILING' : 'LATE',
          reason: `${newestText}, expected every ${shortDuration(every / 1000)}`,
        }
      : { health: 'OK', reason: newestText };
  }
  if (since !== undefined && since > due)
    return { health: 'OK', reason: `new since ${utc(since)}; first ${what} not yet due` };
  const failed = mine.find(
    (s) => s.status === 'failed' && (dataTime(s) ?? -Infinity) >= due - STAMP_SLACK_MS,
  );
  if (failed) return { health: 'FAILING', reason: `${what} ${failed.id} failed` };
  if (covered(due)) return { health: 'OK', reason: newestText };
  const before = previousFire(sched, new Date(due - 1))?.getTime();
  const twice = before !== undefined && (since === undefined || since <= before) && !covered(before);
  return {
    health: twice ? 'FAILING' : 'LATE',
    reason: `${twice ? 'the last two scheduled' : 'the scheduled'} ${twice ? (what === 'backup' ? 'backups' : 'DR copies') : what} of ${utc(due)}${twice ? ` and ${utc(before!)}` : ''} missing; ${newestText}`,
  };
};

interface Context {
  config: StewardConfig;
  settings: ReportConfig;
  now: number;
  primary: Map<string, Snapshot[]>;
  dr: Map<string, Snapshot[]>;
  /** Undefined when the drill history could not be read. */
  drills?: Map<string, DrillSummary>;
  scaling: Map<string, ScalingState>;
  byId: Map<string, Database>;
}

const backupAspect = (
  db: Database,
  policyName: string,
  policy: BackupPolicy | undefined,
  ours: readonly Snapshot[],
  c: Context,
): AspectVerdict => {
  const aspect = 'backup';
  if (!policy) {
    const known = Object.keys(c.config.backup.policies).join(', ') || 'none';
    return {
      aspect,
      health: 'FAILING',
      reason: `${Tag.backup}=${policyName} names no backup policy (known: ${known})`,
    };
  }
  if (!policy.kinds.includes(db.kind)) {
    return {
      aspect,
      health: 'FAILING',
      reason: `policy ${policyName} does not back up ${db.kind} (it covers ${policy.kinds.join(', ')})`,
    };
  }
  const blocked = unsnapshottable(db);
  if (blocked?.reason === 'not-snapshottable') return { aspect, health: 'FAILING', reason: blocked.detail };
  const since = db.createdAt ? Date.parse(db.createdAt) : undefined;
  const v = judgeStream(
    'backup',
    schedule(policy.schedule, policy.timezone),
    ours,
    c.settings.backupGraceMinutes * MINUTE,
    Number.isFinite(since) ? since : undefined,
    c.now,
  );
  // Say why backups skip the database, when they do.
  const why = v.health !== 'OK' && blocked ? ` (backups skip it: ${blocked.detail})` : '';
  return { aspect, health: v.health, reason: `${v.reason}${why}` };
};

const drAspect = (
  db: Database,
  policy: BackupPolicy,
  copies: readonly Snapshot[],
  c: Context,
): AspectVerdict => {
  const since = db.createdAt ? Date.parse(db.createdAt) : undefined;
  const v = judgeStream(
    'DR copy',
    schedule(policy.schedule, policy.timezone),
    copies,
    c.settings.drGraceHours * 60 * MINUTE,
    Number.isFinite(since) ? since : undefined,
    c.now,
  );
  return { aspect: 'dr', health: v.health, reason: `${v.reason} in ${c.config.dr.region}` };
};

const drillAspect = (
  name: string,
  target: { schedule?: string | undefined },
  last: DrillSummary | undefined,
  c: Context,
): AspectVerdict => {
  const aspect = 'drill';
  if (!c.drills)
    return { aspect, health: 'LATE', reason: 'drill history unreadable: no proof of a recent drill' };
  if (!last) return { aspect, health: 'LATE', reason: `no drill on record: run steward drill ${name}` };
  const when = utc(Date.parse(last.startedAt));
  // Nothing was found wrong, but nothing was proven either: late on its proof, not failing.
  if (drillOutcome(last) === 'inconclusive') {
    return {
      aspect,
      health: 'LATE',
      reason: `drill of ${when} inconclusive: ${last.gaps?.[0] ?? last.summary}`,
    };
  }
  if (!last.passed) {
    return {
      aspect,
      health: 'FAILING',
      reason: `drill of ${when} failed${last.failedStep ? ` at ${last.failedStep}` : ''}: ${last.reasons[0] ?? last.summary}`,
    };
  }
  const sched = schedule(target.schedule ?? c.config.drill.schedule);
  if (typeof sched === 'string')
    return { aspect, health: 'OK', reason: `passed ${when}; schedule not understood (${sched})` };
  const due = previousFire(sched, new Date(c.now - c.settings.drillGraceDays * 1440 * MINUTE))?.getTime();
  if (due !== undefined && Date.parse(last.startedAt) < due - 60 * MINUTE) {
    return { aspect, health: 'LATE', reason: `the drill due ${utc(due)} did not run; last passed ${when}` };
  }
  return { aspect, health: 'OK', reason: `passed ${when}` };
};

const ownerOf = (s: Snapshot): 'steward' | 'automated' | 'other' =>
  isStewardSnapshot(s) ? 'steward' : s.type === 'automated' ? 'automated' : 'other';

/** Retention's verdict on this database's snapshots now: how many it keeps (ElastiCache judged by name). */
const retentionKeeps = (db: Database, policyName: string, ours: readonly Snapshot[], c: Context): number => {
  // ElastiCache lists no tags: give the judge the tags a steward snapshot of this database carries.
  const judged = ours.map((s) =>
    s.kind === 'elasticache' && s.tags[Tag.managed] === undefined
      ? { ...s, tags: { ...s.tags, [Tag.managed]: 'true', [Tag.policy]: policyName, [Tag.source]: db.id } }
      : s,
  );
  // With DR copies, a day that has not reached DR is kept too, as retention keeps it.
  const dr = drCopying(c.config);
  const plan = planRetention(judged, retentionPolicyResolver(c.config), new Date(c.now), {
    maxDeletionsPerRun: Number.MAX_SAFE_INTEGER,
    ...(dr && { dr: { ...dr, snapshots: c.dr.get(keyOf(db, db.id)) ?? [] } }),
  });
  return plan.verdicts.filter((v) => v.action === 'keep').length;
};

const assess = (db: Database, c: Context): DatabaseStatus => {
  const k = keyOf(db, db.id);
  const all = c.primary.get(k) ?? [];
  const ours = all.filter(isStewardSnapshot);
  // A read replica tagged like its source is protected by the source's snapshots (backup skips it).
  const policyName = replicaCoveredBy(db, (of) => c.byId.get(key('rds-instance', of)))
    ? undefined
    : db.tags[Tag.backup];
  const policy =
    policyName !== undefined && Object.hasOwn(c.config.backup.policies, policyName)
      ? c.config.backup.policies[policyName]
      : undefined;
  const aspects: AspectVerdict[] = [];
  const reasons: string[] = [];
  let unprotected = false;

  if (policyName !== undefined) {
    aspects.push(backupAspect(db, policyName, policy, ours, c));
    if (policy?.copyToDr && db.kind !== 'elasticache') {
      aspects.push(drAspect(db, policy, (c.dr.get(k) ?? []).filter(isStewardSnapshot), c));
    }
  } else if (db.replicaOf) {
    const source = c.byId.get(key('rds-instance', db.replicaOf));
    if (source?.tags[Tag.backup] === undefined) {
      unprotected = true;
      reasons.push(`read replica of ${db.replicaOf}, which has no ${Tag.backup} tag either`);
    }
  } else {
    unprotected = true;
    reasons.push(
      db.tagsUnread
        ? `its tags could not be read (${db.tagsUnread}): whether it is tagged ${Tag.backup} is unknown until it is available`
        : `no ${Tag.backup} tag: steward takes no snapshots of it`,
    );
  }

  const drillTarget =
    c.config.drill.enabled && Object.hasOwn(c.config.drill.targets, db.id)
      ? c.config.drill.targets[db.id]!
      : undefined;
  // An EBS drill target is the instance or volume the row is (drill.volumes).
  const volumeTarget =
    c.config.drill.enabled && db.kind === 'ebs' && Object.hasOwn(c.config.drill.volumes, db.id)
      ? c.config.drill.volumes[db.id]!
      : undefined;
  // A Redis drill target is named by its drill.caches key (its drills are filed under it), its replication
  // group by `replicationGroupId` (default: the key).
  // A serverless cache is never a Redis drill target (drills restore a group's snapshot into a new group).
  const cacheTarget =
    c.config.drill.enabled && db.kind === 'elasticache' && !db.serverless
      ? Object.entries(c.config.drill.caches).find(
          ([name, t]) => (t.replicationGroupId ?? name).toLowerCase() === db.id.toLowerCase(),
        )
      : undefined;
  const drillName = cacheTarget?.[0] ?? db.id;
  const last = c.drills?.get(drillName);
  if (drillTarget && drillTarget.kind === db.kind) aspects.push(drillAspect(drillName, drillTarget, last, c));
  else if (volumeTarget) aspects.push(drillAspect(drillName, volumeTarget, last, c));
  else if (cacheTarget) aspects.push(drillAspect(drillName, cacheTarget[1], last, c));

  const judged = aspects.map((a) => a.health);
  const health = worst([...judged, ...(unprotected ? (['UNPROTECTED'] as const) : [])]);
  const bad = aspects
    .filter((a) => a.health !== 'OK')
    .sort((a, b) => HEALTH_RANK[b.health] - HEALTH_RANK[a.health]);
  reasons.unshift(...bad.map((a) => `${a.aspect}: ${a.reason}`));

  const shown = newestBy((ours.length ? ours : all).filter((s) => s.status !== 'deleting'));
  const shownMs = shown ? dataTime(shown) : undefined;
  const drCopies = (c.dr.get(k) ?? []).filter((s) => isStewardSnapshot(s) && LIVE.has(s.status));
  // DR lag dates the newest copy that can be restored (available), as the backup function's metric does.
  const newestDr = newestBy(drCopies.filter((s) => s.status === 'available'));
  const status: DatabaseStatus = {
    id: db.id,
    kind: db.kind,
    engine: db.serverless ? `${db.engine} serverless` : db.engine,
    ...(db.serverless ? { serverless: true } : {}),
    status: db.status,
    ...(policyName !== undefined ? { policy: policyName } : {}),
    ...(db.replicaOf ? { replicaOf: db.replicaOf } : {}),
    health,
    reasons,
    aspects,
    ...(shown
      ? {
          newestSnapshot: {
            id: shown.id,
            ...(shown.createdAt ? { createdAt: shown.createdAt } : {}),
            ...(shownMs !== undefined
              ? { ageSeconds: Math.max(0, Math.round((c.now - shownMs) / 1000)) }
              : {}),
            status: shown.status,
            owner: ownerOf(shown),
          },
        }
      : {}),
    held: ours.filter((s) => s.status === 'available' && s.type === 'manual').length,
  };
  if (policy && policyName) status.keeps = retentionKeeps(db, policyName, ours, c);
  if (policy?.copyToDr && db.kind !== 'elasticache') {
    const lagMs = newestDr ? dataTime(newestDr) : undefined;
    status.dr = {
      region: c.config.dr.region,
      copies: drCopies.length,
      ...(newestDr ? { newestCopyId: newestDr.id } : {}),
      ...(lagMs !== undefined ? { lagSeconds: Math.max(0, Math.round((c.now - lagMs) / 1000)) } : {}),
    };
  }
  const drilled =
    drillTarget && drillTarget.kind === db.kind ? drillTarget : (volumeTarget ?? cacheTarget?.[1]);
  if (drilled) {
    status.drill = {
      rtoTargetSeconds: drilled.rtoSeconds ?? c.config.drill.rtoSeconds,
      rpoTargetSeconds: drilled.rpoSeconds ?? c.config.drill.rpoSeconds,
      ...(last ? { last } : {}),
    };
  }
  const scaling = c.scaling.get(k);
  if (scaling) status.scaling = scaling;
  if (policy) {
    const sched = schedule(policy.schedule, policy.timezone);
    if (typeof sched !== 'string' && sched.kind !== 'rate') {
      const next =
        sched.kind === 'at'
          ? sched.at
          : sched.fires(new Date(c.now), new Date(c.now + 400 * 1440 * MINUTE))[0];
      if (next && next.getTime() > c.now) status.nextBackupAt = next.toISOString();
    }
  }
  return status;
};

/**
 * The health of every database in the account-region, tagged or not (Aurora members are shown as their
 * cluster). Pure: the same inputs, config and time give the same status.
 */
export const assessEstate = (inputs: EstateInputs, config: StewardConfig, now: Date): EstateStatus => {
  const newestDrills = inputs.drills && new Map<string, DrillSummary>();
  for (const d of inputs.drills ?? []) {
    const seen = newestDrills!.get(d.database);
    if (!seen || Date.parse(d.startedAt) > Date.parse(seen.startedAt)) newestDrills!.set(d.database, d);
  }
  const c: Context = {
    config,
    settings: config.report,
    now: now.getTime(),
    primary: group(inputs.snapshots),
    // Only this region's copies: another source region's database of the same id has its own in the DR region.
    dr: group(inputs.drSnapshots.filter((s) => mayBeCopyFrom(s, config.region))),
    ...(newestDrills ? { drills: newestDrills } : {}),
    scaling: new Map(inputs.scaling.map((s) => [key(s.kind, s.resource), s])),
    byId: new Map(inputs.databases.map((d) => [keyOf(d, d.id), d])),
  };
  const rows = inputs.databases
    .filter((d) => !(d.kind === 'rds-instance' && d.clusterId))
    .map((d) => assess(d, c))
    .sort(
      (a, b) =>
        HEALTH_RANK[b.health] - HEALTH_RANK[a.health] ||
        a.id.localeCompare(b.id) ||
        a.kind.localeCompare(b.kind),
    );
  const counts: Record<Health, number> = { OK: 0, LATE: 0, FAILING: 0, UNPROTECTED: 0 };
  for (const r of rows) counts[r.health]++;
  const notes = [...(inputs.notes ?? [])];
  const known = new Set(inputs.databases.map((d) => d.id));
  if (config.drill.enabled) {
    for (const target of Object.keys(config.drill.targets)) {
      if (!known.has(target)) notes.push(`drill target ${target} is not a database in ${config.region}`);
    }
    for (const target of Object.keys(config.drill.volumes)) {
      if (!known.has(target))
        notes.push(
          `EBS drill target ${target} is not an instance or volume tagged for backup in ${config.region}`,
        );
    }
  }
  return {
    type: 'steward-status',
    version: 1,
    stage: config.stage,
    ...(config.account ? { account: config.account } : {}),
    region: config.region,
    at: now.toISOString(),
    counts,
    databases: rows,
    notes,
  };
};

/** True when anything is LATE or FAILING: `steward status` exits 1, the status check alerts. */
export const needsAttention = (s: EstateStatus): boolean => s.counts.LATE + s.counts.FAILING > 0;
