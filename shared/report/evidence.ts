import { mayBeCopyFrom } from '../backup/copy-origin.js';
import { replicaCoveredBy } from '../backup/plan.js';
import type { StewardConfig } from '../config/schema.js';
import { round } from '../drill/cost.js';
import type { Database, ResourceKind, Snapshot } from '../model.js';
import { isDumpEntry, type RetentionRecord } from '../retention/record.js';
import { Tag } from '../tags.js';
import { dataTime, isStewardSnapshot } from './health.js';
import { drillOutcome, type DrillSummary } from './model.js';
import { fireTimes, parseSchedule, type Schedule, ScheduleError } from './schedule.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
// A scheduled backup is evidenced by a snapshot holding data from shortly before its time to an hour after.
const BEFORE_MS = 5 * MINUTE;
const AFTER_MS = 60 * MINUTE;

/** `2026-11` → its first instant and the first instant of the next month (UTC). */
export const monthRange = (month: string): { start: Date; end: Date } => {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!m) throw new RangeError(`month must be YYYY-MM, got "${month}"`);
  const y = Number(m[1]);
  const mo = Number(m[2]) - 1;
  return { start: new Date(Date.UTC(y, mo, 1)), end: new Date(Date.UTC(y, mo + 1, 1)) };
};

/** The month (`YYYY-MM`) before the one `at` falls in (UTC): what the monthly schedule reports on. */
export const previousMonth = (at: Date): string => {
  const d = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() - 1, 1));
  return d.toISOString().slice(0, 7);
};

/** The `n` months ending with `month`, oldest first. */
export const monthsEnding = (month: string, n: number): string[] => {
  const { start } = monthRange(month);
  return Array.from({ length: n }, (_, i) =>
    new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() - (n - 1 - i), 1))
      .toISOString()
      .slice(0, 7),
  );
};

/** What the monthly evidence report reads, as plain data. */
export interface EvidenceInputs {
  month: string;
  /** Databases of the primary region (Aurora members are shown as their cluster). */
  databases: readonly Database[];
  /** Primary-region snapshots as listed now, automated ones included. */
  snapshots: readonly Snapshot[];
  /** DR-region snapshots as listed now. */
  drSnapshots: readonly Snapshot[];
  /** Retention records from the month on: what has been deleted since still counts as taken. */
  retention: readonly RetentionRecord[];
  /** Drills of the trend window (the month and the months before it). */
  drills: readonly DrillSummary[];
  notes?: readonly string[];
}

export interface EvidenceRow {
  id: string;
  kind: ResourceKind;
  engine: string;
  /** Backup policy; undefined for a database that is not protected. */
  policy?: string;
  replicaOf?: string;
  /**
   * A read replica without a policy of its own whose source has a `steward:backup` tag: the source's backups
   * hold its data. A replica without it (its source untagged, or not in this region) is unprotected.
   */
  coveredBy?: string;
  backups?: {
    schedule: string;
    /** Scheduled backups in the counted window; null when the schedule is a rate (its phase is unknown). */
    scheduled: number | null;
    taken: number;
    /** Scheduled times with no backup on record (ISO). */
    missed: string[];
    /** Backups on record that match no scheduled time (manual invokes, the sandbox). */
    unscheduled: number;
    /** Pre-change snapshots of the month. */
    adhoc: number;
    /**
     * Scheduled times of the month after the backup grace when the report was generated: not judged yet
     * (ISO), and not counted above. Absent when none.
     */
    pending?: string[];
    /** Start of the counted window, when it is not the start of the month (and why). */
    countedFrom?: { at: string; why: string };
  };
  dr?: {
    region: string;
    /** Copies on record holding data of the month. */
    copies: number;
    /** Backups of the month (older than the DR grace) with no copy on record (ISO scheduled times). */
    notCopied: string[];
    /**
     * Backups of the month with no copy on record that were still inside the DR grace when the report was
     * generated: neither copied nor missing yet (ISO scheduled times). Absent when none.
     */
    pending?: string[];
    /** DR lag at the end of each day of the month (seconds; null before the first copy). */
    lagByDay: (number | null)[];
    maxLagSeconds?: number;
  };
  /** Snapshots retention deleted in the month; an EC2 instance's dump objects apart (`dumps`). */
  retention: { deleted: number; failed: number; dumps?: { deleted: number; failed: number } };
  drills: DrillSummary[];
  drillTarget?: { rtoSeconds: number; rpoSeconds: number };
  /**
   * A drill target's scheduled drills of the month (up to `report.drillGraceDays` before the report) that no
   * drill started for, from an hour before to the grace after (ISO). Absent when none.
   */
  drillsMissed?: string[];
}

/** The monthly recovery evidence: written as JSON, CSV and a self-contained HTML page. */
export interface EvidenceReport {
  type: 'steward-evidence-report';
  version: 1;
  stage: string;
  /** The account every database of the report lives in (absent when unknown, and in older reports). */
  account?: string;
  region: string;
  drRegion?: string;
  month: string;
  generatedAt: string;
  /** False while the month is still running (an on-demand report of the current month). */
  complete: boolean;
  summary: {
    databases: number;
    protected: number;
    unprotected: number;
    backupsScheduled: number;
    backupsTaken: number;
    backupsMissed: number;
    drCopies: number;
    drCopiesMissing: number;
    /** Scheduled backups and DR copies of the month not judged yet (inside their grace at generation). */
    backupsPending?: number;
    drCopiesPending?: number;
    retentionDeleted: number;
    /** EC2 instances' dump objects retention deleted (not snapshots: never counted as backups taken). */
    dumpsDeleted?: number;
    drills: number;
    drillsPassed: number;
    /** Scheduled drills of the month that did not run (absent when none). */
    drillsMissed?: number;
    /** Drills that found nothing wrong but did not prove everything (not finished in time, cost ceiling). */
    drillsInconclusive: number;
    /** Billed instance-hours of the month's drill copies, and their estimated cost where prices are known. */
    drillInstanceHours: number;
    drillEstimatedUsd?: number;
  };
  databases: EvidenceRow[];
  /** Drills of the trend window per database, oldest first: the RTO/RPO charts. */
  trend: Record<
    string,
    Pick<
      DrillSummary,
      | 'startedAt'
      | 'passed'
      | 'outcome'
      | 'rtoSeconds'
      | 'rpoSeconds'
      | 'rtoTargetSeconds'
      | 'rpoTargetSeconds'
    >[]
  >;
  trendMonths: string[];
  notes: string[];
}

const sourceOf = (s: { tags?: Record<string, string>; sourceId: string }) =>
  s.tags?.[Tag.source] || s.sourceId;
const LIVE = new Set(['available', 'creating', 'copying', 'pending', 'backing-up']);

interface Evidence {
  at: number;
  id: string;
  /** When it was available in its region (a copy's copy time), for DR lag. */
  arrived: number;
}

const parse = (expression: string, timezone: string): Schedule | undefined => {
  try {
    return parseSchedule(expression, timezone);
  } catch (e) {
    if (e instanceof ScheduleError) return undefined;
    throw e;
  }
};

/**
 * The month's recovery evidence per database: backups scheduled vs taken (a backup retention has since
 * deleted still counts, from its record), DR copies and DR lag, retention deletions, every drill with its
 * checks, and the RTO/RPO trend. Pure: the same inputs, config and time give the same report.
 */
export const buildEvidence = (
  inputs: EvidenceInputs,
  config: StewardConfig,
  now: Date,
  account: string | undefined = config.account,
): EvidenceReport => {
  const { start, end } = monthRange(inputs.month);
  const nowMs = now.getTime();
  const notes = [...(inputs.notes ?? [])];
  const months = new Set([inputs.month]);
  const trendMonths = [
    ...new Set([...inputs.drills.map((d) => d.startedAt.slice(0, 7)), inputs.month]),
  ].sort();
  const monthEndCap = Math.min(end.getTime(), nowMs);
  if (start.getTime() > nowMs) notes.push(`${inputs.month} has not started yet: nothing to report`);

  // Evidence per (region, kind, database): snapshots listed now plus what retention recorded deleting.
  const evidence = new Map<string, Evidence[]>();
  const add = (where: 'primary' | 'dr', kind: string, db: string, e: Evidence) => {
    const k = `${where}\u0000${kind}\u0000${db}`;
    const list = evidence.get(k);
    if (list) list.push(e);
    else evidence.set(k, [e]);
  };
  const stewardOf = (s: Snapshot) => isStewardSnapshot(s) && LIVE.has(s.status) && s.type === 'manual';
  // Evidence is filed by where it was listed: the primary region or the DR region.
  const place = (region: string) =>
    region === config.dr.region && region !== config.region ? 'dr' : 'primary';
  for (const [where, list] of [
    ['primary', inputs.snapshots],
    // Only this region's copies: another source region's database of the same id has its own in the DR region.
    ['dr', inputs.drSnapshots.filter((s) => mayBeCopyFrom(s, config.region))],
  ] as const) {
    for (const s of list) {
      if (!stewardOf(s)) continue;
      const at = dataTime(s);
      if (at === undefined) continue;
      const arrived = s.copiedAt ? Date.parse(s.copiedAt) : at;
      add(where, s.kind, sourceOf(s), { at, id: s.id, arrived: Number.isFinite(arrived) ? arrived : at });
    }
  }
  // Deletions per (kind, database) and, for EC2 instances, of their dump objects apart: a dump is not a
  // snapshot set, so it is never evidence of a scheduled backup (the set of that day may be missing).
  const deletions = new Map<string, { deleted: number; failed: number }>();
  const dumpDeletions = new Map<string, { deleted: number; failed: number }>();
  for (const r of inputs.retention) {
    const inMonth = r.at.slice(0, 7) === inputs.month;
    for (const e of r.entries) {
      const dump = isDumpEntry(e);
      if (e.status !== 'failed' && !dump) {
        const at = dataTime(e);
        if (at !== undefined) add(place(e.region), e.kind, e.sourceId, { at, id: e.id, arrived: at });
      }
      if (!inMonth) continue;
      const tally = dump ? dumpDeletions : deletions;
      const k = `${e.kind}\u0000${e.sourceId}`;
      const d = tally.get(k) ?? { deleted: 0, failed: 0 };
      if (e.status === 'failed') d.failed++;
      else d.deleted++;
      tally.set(k, d);
    }
  }
  const byId = (list: Evidence[]) => [...new Map(list.map((e) => [e.id, e])).values()];

  const rows: EvidenceRow[] = [];
  for (const db of inputs.databases) {
    if (db.kind === 'rds-instance' && db.clusterId) continue;
    // A read replica tagged like its source is protected by the source's snapshots (backup skips it).
    const findSource = (of: string) =>
      inputs.databases.find((d) => d.kind === 'rds-instance' && (d.id === of || d.arn === of));
    const covered = replicaCoveredBy(db, findSource);
    const policyName = covered ? undefined : db.tags[Tag.backup];
    const source = policyName === undefined && db.replicaOf ? findSource(db.replicaOf) : undefined;
    const policy =
      policyName !== undefined && Object.hasOwn(config.backup.policies, policyName)
        ? config.backup.policies[policyName]
        : undefined;
    // A Redis drill target is named by its replication group (drill.caches; `replicationGroupId` when set), and
    // its drills are filed under its drill.caches key.
    const cacheTarget =
      config.drill.enabled && db.kind === 'elasticache' && !db.serverless
        ? Object.entries(config.drill.caches).find(
            ([name, c]) => (c.replicationGroupId ?? name).toLowerCase() === db.id.toLowerCase(),
          )
        : undefined;
    const drillName = cacheTarget?.[0] ?? db.id;
    const mine = byId(evidence.get(`primary\u0000${db.kind}\u0000${db.id}`) ?? []).sort(
      (a, b) => a.at - b.at,
    );
    const row: EvidenceRow = {
      id: db.id,
      kind: db.kind,
      engine: db.serverless ? `${db.engine} serverless` : db.engine,
      ...(policyName !== undefined ? { policy: policyName } : {}),
      ...(db.replicaOf ? { replicaOf: db.replicaOf } : {}),
      ...(source?.tags[Tag.backup] !== undefined ? { coveredBy: source.id } : {}),
      retention: {
        ...(deletions.get(`${db.kind}\u0000${db.id}`) ?? { deleted: 0, failed: 0 }),
        ...(dumpDeletions.has(`${db.kind}\u0000${db.id}`)
          ? { dumps: dumpDeletions.get(`${db.kind}\u0000${db.id}`)! }
          : {}),
      },
      drills: inputs.drills
        .filter((d) => d.database === drillName && months.has(d.startedAt.slice(0, 7)))
        .sort((a, b) => a.startedAt.localeCompare(b.startedAt)),
    };
    const target =
      config.drill.enabled && Object.hasOwn(config.drill.targets, db.id)
        ? config.drill.targets[db.id]
        : undefined;
    // An EBS drill target is the instance or volume itself (drill.volumes).
    const volume =
      config.drill.enabled && db.kind === 'ebs' && Object.hasOwn(config.drill.volumes, db.id)
        ? config.drill.volumes[db.id]
        : undefined;
    const drilled = target && target.kind === db.kind ? target : (cacheTarget?.[1] ?? volume);
    if (drilled) {
      row.drillTarget = {
        rtoSeconds: drilled.rtoSeconds ?? config.drill.rtoSeconds,
        rpoSeconds: drilled.rpoSeconds ?? config.drill.rpoSeconds,
      };
      // Scheduled drills no drill started for: the drills that ran can all pass while others never started.
      const grace = config.report.drillGraceDays * DAY;
      const sched = parse(drilled.schedule ?? config.drill.schedule, 'UTC');
      const created = db.createdAt ? Date.parse(db.createdAt) : NaN;
      const from = Math.max(start.getTime(), Number.isFinite(created) ? created : -Infinity);
      const until = Math.min(end.getTime() - 1, nowMs - grace);
      const started = inputs.drills
        .filter((d) => d.database === drillName)
        .map((d) => Date.parse(d.startedAt));
      const missed =
        sched && sched.kind !== 'rate' && from <= until
          ? (fireTimes(sched, new Date(from), new Date(until)) ?? []).filter(
              (f) => !started.some((t) => t >= f.getTime() - 60 * MINUTE && t <= f.getTime() + grace),
            )
          : [];
      if (missed.length) row.drillsMissed = missed.map((f) => f.toISOString());
    }
    if (policy && policy.kinds.includes(db.kind)) {
      // Fire times are inclusive at both ends: the next month's first instant is that month's (a midnight
      // backup of 1 December is December's), so the window ends 1 ms before it.
      const graceEnd = Math.min(
        monthEndCap,
        end.getTime() - 1,
        nowMs - config.report.backupGraceMinutes * MINUTE,
      );
      let from = start.getTime();
      let countedFrom: { at: string; why: string } | undefined;
      const created = db.createdAt ? Date.parse(db.createdAt) : NaN;
      if (Number.isFinite(created) && created > from) {
        from = created;
        countedFrom = { at: new Date(created).toISOString(), why: 'created' };
      }
      const sched = parse(policy.schedule, policy.timezone);
      // Newly protected (or its history expired unrecorded): count from the first backup on record, and say
      // so, when scheduled times before it would otherwise count as missed.
      const first = mine[0]?.at;
      const firstFire =
        sched && sched.kind !== 'rate'
          ? fireTimes(sched, new Date(from), new Date(end.getTime() - 1))?.[0]
          : undefined;
      if (first !== undefined && firstFire !== undefined && first - BEFORE_MS > firstFire.getTime()) {
        from = first - BEFORE_MS;
        countedFrom = { at: new Date(first).toISOString(), why: 'first backup on record' };
      }
      // A rate has no known phase (undefined); a window that has not opened yet expects nothing.
      const fires =
        sched === undefined || sched.kind === 'rate'
          ? undefined
          : from <= graceEnd
            ? fireTimes(sched, new Date(from), new Date(graceEnd))
            : [];
      const covers = (t: number) => (e: Evidence) => e.at >= t - BEFORE_MS && e.at <= t + AFTER_MS;
      const inMonth = mine.filter((e) => e.at >= start.getTime() - BEFORE_MS && e.at < end.getTime());
      const taken = fires?.filter((f) => mine.some(covers(f.getTime()))) ?? [];
      const missed = fires?.filter((f) => !mine.some(covers(f.getTime()))) ?? [];
      const matched = (e: Evidence) => fires?.some((f) => covers(f.getTime())(e)) ?? false;
      // What the grace keeps from judging: the month's fires after it, up to now (the month's end at most).
      const pending =
        sched === undefined || sched.kind === 'rate'
          ? []
          : fireTimes(
              sched,
              new Date(Math.max(from, graceEnd + 1)),
              new Date(Math.min(end.getTime() - 1, nowMs)),
            )!;
      row.backups = {
        schedule: `${policy.schedule}${policy.timezone !== 'UTC' ? ` ${policy.timezone}` : ''}`,
        scheduled: fires ? fires.length : null,
        taken: fires ? taken.length : inMonth.filter((e) => e.id.endsWith('-sched')).length,
        missed: missed.map((f) => f.toISOString()),
        unscheduled: fires ? inMonth.filter((e) => !e.id.endsWith('-adhoc') && !matched(e)).length : 0,
        adhoc: inMonth.filter((e) => e.id.endsWith('-adhoc')).length,
        ...(pending.length ? { pending: pending.map((f) => f.toISOString()) } : {}),
        ...(countedFrom ? { countedFrom } : {}),
      };
      if (!sched)
        notes.push(`${db.id}: schedule ${policy.schedule} not understood; backups counted, not matched`);

      if (policy.copyToDr && db.kind !== 'elasticache') {
        const copies = byId(evidence.get(`dr\u0000${db.kind}\u0000${db.id}`) ?? []);
        const drGraceEnd = nowMs - config.report.drGraceHours * 60 * MINUTE;
        const copied = (t: number) => copies.some(covers(t));
        const lagByDay: (number | null)[] = [];
        for (let day = start.getTime(); day < end.getTime(); day += DAY) {
          const t = Math.min(day + DAY, nowMs);
          if (day > nowMs) break;
          const held = copies.filter((c) => c.arrived <= t).reduce((a, c) => Math.max(a, c.at), -Infinity);
          lagByDay.push(held === -Infinity ? null : Math.round((t - held) / 1000));
        }
        const lags = lagByDay.filter((l): l is number => l !== null);
        const drPending = taken.filter((f) => f.getTime() > drGraceEnd && !copied(f.getTime()));
        row.dr = {
          region: config.dr.region,
          copies: copies.filter((c) => c.at >= start.getTime() - BEFORE_MS && c.at < end.getTime()).length,
          notCopied: taken
            .filter((f) => f.getTime() <= drGraceEnd && !copied(f.getTime()))
            .map((f) => f.toISOString()),
          ...(drPending.length ? { pending: drPending.map((f) => f.toISOString()) } : {}),
          lagByDay,
          ...(lags.length ? { maxLagSeconds: Math.max(...lags) } : {}),
        };
      }
    }
    rows.push(row);
  }
  rows.sort((a, b) => a.id.localeCompare(b.id) || a.kind.localeCompare(b.kind));

  const trend: EvidenceReport['trend'] = {};
  for (const d of [...inputs.drills].sort((a, b) => a.startedAt.localeCompare(b.startedAt))) {
    (trend[d.database] ??= []).push({
      startedAt: d.startedAt,
      passed: d.passed,
      ...(d.outcome ? { outcome: d.outcome } : {}),
      ...(d.rtoSeconds !== undefined ? { rtoSeconds: d.rtoSeconds } : {}),
      ...(d.rpoSeconds !== undefined ? { rpoSeconds: d.rpoSeconds } : {}),
      ...(d.rtoTargetSeconds !== undefined ? { rtoTargetSeconds: d.rtoTargetSeconds } : {}),
      ...(d.rpoTargetSeconds !== undefined ? { rpoTargetSeconds: d.rpoTargetSeconds } : {}),
    });
  }

  const sum = (f: (r: EvidenceRow) => number) => rows.reduce((a, r) => a + f(r), 0);
  // A report made soon after its month ended (the default: 06:00 on the 1st, inside the 12 h DR grace of the
  // last evening's backups) cannot judge the month's last hours yet: say so, with when it can.
  const backupsPending = sum((r) => r.backups?.pending?.length ?? 0);
  const drillsMissed = sum((r) => r.drillsMissed?.length ?? 0);
  const drCopiesPending = sum((r) => r.dr?.pending?.length ?? 0);
  const judgeable = (list: (r: EvidenceRow) => string[] | undefined, graceMs: number) =>
    new Date(
      Math.max(...rows.flatMap((r) => (list(r) ?? []).map((t) => Date.parse(t) + graceMs))),
    ).toISOString();
  if (backupsPending)
    notes.push(
      `${backupsPending} scheduled backup${backupsPending === 1 ? '' : 's'} not judged yet (inside the ${config.report.backupGraceMinutes} min backup grace when this report was generated): generate it again after ${judgeable((r) => r.backups?.pending, config.report.backupGraceMinutes * MINUTE)} (steward report --month ${inputs.month}) to count ${backupsPending === 1 ? 'it' : 'them'}.`,
    );
  if (drCopiesPending)
    notes.push(
      `${drCopiesPending} DR cop${drCopiesPending === 1 ? 'y' : 'ies'} not judged yet (backups still inside the ${config.report.drGraceHours} h DR grace when this report was generated): generate it again after ${judgeable((r) => r.dr?.pending, config.report.drGraceHours * 60 * MINUTE)} (steward report --month ${inputs.month}) to judge ${drCopiesPending === 1 ? 'it' : 'them'}.`,
    );
  const protectedRows = rows.filter((r) => r.backups);
  const copiesToDr = Object.values(config.backup.policies).some((p) => p.copyToDr);
  const priced = rows.flatMap((r) => r.drills.flatMap((d) => d.cost?.estimatedUsd ?? []));
  return {
    type: 'steward-evidence-report',
    version: 1,
    stage: config.stage,
    ...(account ? { account } : {}),
    region: config.region,
    ...(copiesToDr ? { drRegion: config.dr.region } : {}),
    month: inputs.month,
    generatedAt: now.toISOString(),
    complete: end.getTime() <= nowMs,
    summary: {
      databases: rows.length,
      protected: protectedRows.length,
      unprotected: rows.filter((r) => r.policy === undefined && !r.coveredBy).length,
      backupsScheduled: sum((r) => r.backups?.scheduled ?? 0),
      backupsTaken: sum((r) => r.backups?.taken ?? 0),
      backupsMissed: sum((r) => r.backups?.missed.length ?? 0),
      drCopies: sum((r) => r.dr?.copies ?? 0),
      drCopiesMissing: sum((r) => r.dr?.notCopied.length ?? 0),
      ...(backupsPending ? { backupsPending } : {}),
      ...(drCopiesPending ? { drCopiesPending } : {}),
      retentionDeleted: sum((r) => r.retention.deleted),
      ...(rows.some((r) => r.retention.dumps)
        ? { dumpsDeleted: sum((r) => r.retention.dumps?.deleted ?? 0) }
        : {}),
      drills: sum((r) => r.drills.length),
      drillsPassed: sum((r) => r.drills.filter((d) => d.passed).length),
      ...(drillsMissed ? { drillsMissed } : {}),
      drillsInconclusive: sum((r) => r.drills.filter((d) => drillOutcome(d) === 'inconclusive').length),
      drillInstanceHours: round(
        sum((r) => r.drills.reduce((a, d) => a + (d.cost?.instanceHours ?? 0), 0)),
        4,
      ),
      ...(priced.length
        ? {
            drillEstimatedUsd: round(
              priced.reduce((a, usd) => a + usd, 0),
              2,
            ),
          }
        : {}),
    },
    databases: rows,
    trend,
    trendMonths,
    notes,
  };
};
