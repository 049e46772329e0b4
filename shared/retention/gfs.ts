import type { RetentionPolicy } from '../config/schema.js';
import type { ResourceKind, Snapshot } from '../model.js';
import { ADHOC_POLICY, isManaged, Tag } from '../tags.js';
import { isCopyOf, originRegion } from '../backup/copy-origin.js';
import { namedBySteward } from '../backup/ids.js';
import { tiedTo } from '../drill/pick.js';

/** The retention policy that governs one snapshot, with its name (verdicts and groups carry it). */
export interface ResolvedPolicy {
  name: string;
  policy: RetentionPolicy;
}

/** Finds a snapshot's retention policy; `undefined` means unknown, and an unknown policy never deletes. */
export type PolicyResolver = (s: Snapshot) => ResolvedPolicy | undefined;

/**
 * How many deletions one UTC day may make. Normal expiry must always fit, a mistake must not: the day may
 * delete `max(floor, ceil(dueMultiple × due))`, where `due` is what became due in the last 48 hours and is
 * still there (in steady state, what the passage of one day expires), but never more than `safetyCap`.
 */
export interface DeletionLimits {
  /** Always allowed per day, whatever is due: a small estate still catches up. */
  floor: number;
  /** Allowed per day as a multiple of what became due in the last 48 h: steady state plus catch-up. */
  dueMultiple: number;
  /** Never more per day. Reaching it stops deleting and alerts: a policy change or a bad inventory. */
  safetyCap: number;
}

/**
 * The DR region, for the rule that no day of a database is lost before it reached DR: an expired primary
 * snapshot is kept when it is the only one of its day and no available copy of that day is in `region`.
 */
export interface DrView {
  region: string;
  /** Backup policies (`steward:policy` values) whose snapshots are copied to DR. */
  policiesThatCopy: ReadonlySet<string>;
  /** The DR region's snapshots, or `undefined` when they could not be listed (then every such day is kept). */
  snapshots: readonly Snapshot[] | undefined;
  /**
   * The Redis DR copies (RDB files in the DR bucket) are listed too: an ElastiCache day is held like an RDS
   * day until its copy has every shard's file. Without them (no Redis DR) ElastiCache days are not held.
   */
  caches?: boolean;
}

export interface PlanOptions {
  /** A fixed cap on this plan's deletions (tests, previews); the oldest expired go first, the rest are deferred. */
  maxDeletionsPerRun?: number;
  /** The day's allowance relative to what is due (the shipped cap); combined with `maxDeletionsPerRun` when both are set. */
  limits?: DeletionLimits;
  /** Keep primary days that have not reached the DR region yet. */
  dr?: DrView;
}

/** Which cap held deletions back, if any. */
export type CapHit = 'safety' | 'relative' | 'fixed';

/** The day's allowance and what it was computed from. */
export interface Allowance {
  /** Snapshots that became due in the last 48 h and are still there (in steady state, one day's expiry). */
  due: number;
  /** Expired now (after every keep rule, DR holds included): what would be deleted without a cap. */
  expired: number;
  /** Deletions allowed: min(safetyCap, max(floor, ceil(dueMultiple × due))), or the fixed cap. */
  allowed: number;
  /** Set when `expired > allowed`: `safety` is the alert, `relative` is a backlog that drains over days. */
  capHit?: CapHit;
}

/** Why retention does not judge a snapshot at all. `skip` is not `keep`: it says "not ours to judge". */
export type SkipReason =
  | 'automated'
  | 'shared'
  | 'public'
  | 'awsbackup'
  | 'not-ours'
  | 'on-hold'
  | 'not-available'
  /** The writable `steward:source` tag names another database than the snapshot's own source field. */
  | 'source-mismatch';

/** GFS rules, in the order that names the reason when several keep the same snapshot. */
export const GFS_RULES = ['daily', 'weekly', 'monthly', 'yearly'] as const;
export type GfsRule = (typeof GFS_RULES)[number];

/** Rules that keep a snapshot. The first three are keeps on doubt and are reported. */
export type KeepRule =
  | 'unknown-policy'
  | 'bad-retain-until'
  | 'no-created-at'
  | 'retain-until'
  | GfsRule
  | 'newest'
  | 'keep-at-least'
  /** Expired, but the only snapshot of its day and no copy of that day is available in the DR region yet. */
  | 'awaiting-dr';

/** Keeps on doubt: the engine could not judge the snapshot safely, a human should look. */
export const DOUBT_RULES: readonly KeepRule[] = ['unknown-policy', 'bad-retain-until', 'no-created-at'];

/** `gfs`: outside every window of its policy; `retain-until-passed`: an ad-hoc snapshot past its date. */
export type ExpireRule = 'gfs' | 'retain-until-passed';

export interface VerdictSubject {
  id: string;
  arn: string;
  region: string;
  kind: ResourceKind;
  /** The database: the snapshot's own source identifier, as the service reports it. */
  sourceId: string;
  createdAt?: string;
  /** Retention policy name, when resolved. */
  policy?: string;
}

/**
 * One verdict per input snapshot. `rule` is the stable key, `reason` the text for humans, e.g.
 * `daily 2026-11-20`, `weekly 2026-W47`, `retain-until 2027-01-01`. `defer` is an expiry held back by the cap.
 */
export type Verdict = VerdictSubject & VerdictOutcome;

export type VerdictOutcome =
  | { action: 'keep'; rule: KeepRule; reason: string }
  | { action: 'expire' | 'defer'; rule: ExpireRule; reason: string }
  | { action: 'skip'; rule: SkipReason; reason: SkipReason };

export type VerdictRule = Verdict['rule'];

export interface RetentionSummary {
  total: number;
  keep: number;
  skip: number;
  /** Deletions planned for this run (after the cap). */
  expire: number;
  /** Expired but over the cap; the next run continues with them. */
  defer: number;
  /** Keeps on doubt (unknown policy, bad retain-until tag, no creation time). */
  doubt: number;
  byRule: Partial<Record<VerdictRule, number>>;
}

export interface RetentionPlan {
  /** Every input snapshot, sorted by region, kind, source, then oldest first. */
  verdicts: Verdict[];
  /** The snapshots to delete this run, oldest first, at most `maxDeletionsPerRun`. */
  delete: Snapshot[];
  /** Expired snapshots over the cap, oldest first. */
  deferred: Snapshot[];
  summary: RetentionSummary;
  allowance: Allowance;
}

const DAY_MS = 86_400_000;
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

const computePeriodKey = (rule: GfsRule, ms: number): string => {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  switch (rule) {
    case 'daily':
      return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    case 'weekly': {
      // ISO-8601: weeks start on Monday and belong to the year of their Thursday, so 2027-01-01 is 2026-W53.
      const mondayOffset = (d.getUTCDay() + 6) % 7;
      const thursday = Date.UTC(y, d.getUTCMonth(), d.getUTCDate() - mondayOffset + 3);
      const weekYear = new Date(thursday).getUTCFullYear();
      const week = 1 + Math.floor((thursday - Date.UTC(weekYear, 0, 1)) / (7 * DAY_MS));
      return `${pad(weekYear, 4)}-W${pad(week)}`;
    }
    case 'monthly':
      return `${pad(y, 4)}-${pad(d.getUTCMonth() + 1)}`;
    case 'yearly':
      return pad(y, 4);
  }
};

// Every period key is a function of the UTC day and the rule: plans over thousands of snapshots of the same
// few hundred days compute each one once (bounded, so a long-lived container does not grow it forever). The
// cache key is a number (day × 4 + rule), so a lookup allocates no string.
const periodCache = new Map<number, string>();
const PERIOD_CACHE_MAX = 50_000;

/** The UTC period a timestamp falls in for a GFS rule: `2026-11-20`, `2026-W47` (ISO week-year), `2026-11`, `2026`. */
export const periodKey = (rule: GfsRule, ms: number): string => {
  const k = Math.floor(ms / DAY_MS) * 4 + GFS_RULES.indexOf(rule);
  let v = periodCache.get(k);
  if (v === undefined) {
    if (periodCache.size >= PERIOD_CACHE_MAX) periodCache.clear();
    v = computePeriodKey(rule, ms);
    periodCache.set(k, v);
  }
  return v;
};

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const digits = (v: string, from: number, to: number): number => {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = v.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    n = n * 10 + c;
  }
  return n;
};

/**
 * The form every adapter reports (`Date#toISOString`, with or without milliseconds: `2026-11-20T03:07:00.000Z`),
 * read without a regular expression or `Date.parse`: a plan reads one per snapshot, thousands a run.
 * `undefined` for anything else (including years before 1000), which `parseInstant` then reads strictly.
 */
const parseUtcStamp = (v: string): number | undefined => {
  const frac = v.length === 24;
  if (!(frac || v.length === 20) || v.charCodeAt(v.length - 1) !== 90 /* Z */) return undefined;
  if (v[4] !== '-' || v[7] !== '-' || v[10] !== 'T' || v[13] !== ':' || v[16] !== ':') return undefined;
  if (frac && v[19] !== '.') return undefined;
  const y = digits(v, 0, 4);
  const mo = digits(v, 5, 7);
  const d = digits(v, 8, 10);
  const h = digits(v, 11, 13);
  const mi = digits(v, 14, 16);
  const s = digits(v, 17, 19);
  const ms = frac ? digits(v, 20, 23) : 0;
  // NaN fails every comparison below, so a non-digit anywhere falls through to the strict reader.
  if (!(y >= 1000 && mo >= 1 && mo <= 12 && d >= 1 && h <= 23 && mi <= 59 && s <= 59 && ms >= 0))
    return undefined;
  // A day past the month's end (2026-02-30) would roll over; the strict reader rejects it.
  if (d > (mo === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : MONTH_DAYS[mo - 1]!))
    return undefined;
  return Date.UTC(y, mo - 1, d, h, mi, s, ms);
};

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2})))?$/;

/**
 * Parse an ISO-8601 instant strictly: a date (`2027-01-01`, meaning 00:00 UTC) or a date-time with an
 * explicit zone. Anything else is `undefined`: impossible dates, and zone-less times, which `Date.parse`
 * would read in the machine's local zone. Used for `steward:retain-until` values and creation times.
 */
export const parseInstant = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const fast = parseUtcStamp(value);
  if (fast !== undefined) return fast;
  const m = ISO_INSTANT.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', zh = '0', zm = '0'] = m;
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  // Date.parse rolls 2026-02-30 over to March; a date that does not round-trip is a typo, not a date.
  if (
    day.getUTCFullYear() !== Number(y) ||
    day.getUTCMonth() !== Number(mo) - 1 ||
    day.getUTCDate() !== Number(d)
  ) {
    return undefined;
  }
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59 || Number(zh) > 23 || Number(zm) > 59)
    return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
};

/** What a plan reads from a snapshot once, for both of its judgements (now and a day earlier). */
interface Read {
  s: Snapshot;
  /** Creation time; `undefined` when missing or unreadable. */
  ms: number | undefined;
  /** The database it is of, shared by all its snapshots (one field: plans build two objects per snapshot). */
  line: Lineage;
}

/** One database of a (region, kind, source): every snapshot of it shares this object. */
interface Lineage {
  /** `region, kind, source`: one string per name (shared), so lookups and comparisons are cheap. */
  sourceKey: string;
  /**
   * `sourceKey` for the newest database of its name, else one per earlier database of that name (deleted,
   * then re-created): each is judged apart, so none takes another's keep slots (see placeLineages).
   */
  key: string;
  /** For an earlier database of the name: `, of an earlier database named orders (db-ABC…)`, else ''. */
  earlier: string;
}

interface Entry extends Read {
  /** Group key part: the service's source id (the tag is only a cross-check). */
  source: string;
  policy?: ResolvedPolicy;
  verdict?: Verdict;
}

/** An entry with a creation time, judged by period rules. */
type Dated = Entry & { ms: number };
const isDated = (e: Entry): e is Dated => e.ms !== undefined;

const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Total order, oldest first: createdAt, then id, region, kind, arn (ids repeat across regions). */
const byAge = (a: Dated, b: Dated): number =>
  a.ms - b.ms ||
  cmpStr(a.s.id, b.s.id) ||
  cmpStr(a.s.region, b.s.region) ||
  cmpStr(a.s.kind, b.s.kind) ||
  cmpStr(a.s.arn, b.s.arn);

/** Output order: region, kind, source, then oldest first (undated first), then id. */
const byGroupThenAge = (a: Entry, b: Entry): number =>
  (a.line.sourceKey === b.line.sourceKey
    ? 0
    : cmpStr(a.s.region, b.s.region) ||
      cmpStr(a.s.kind, b.s.kind) ||
      cmpStr(a.source, b.source) ||
      cmpStr(a.line.sourceKey, b.line.sourceKey)) ||
  (a.ms ?? -Infinity) - (b.ms ?? -Infinity) ||
  cmpStr(a.s.id, b.s.id) ||
  cmpStr(a.s.arn, b.s.arn) ||
  cmpStr(a.s.createdAt ?? '', b.s.createdAt ?? '');

const hasTag = (s: Snapshot, key: string) => Object.hasOwn(s.tags, key);

/** An object (a dump, a Redis DR copy) is named by its key, not steward's ids: only its tags count. */
const namedByUs = (s: Snapshot) => s.object !== undefined || namedBySteward(s);

const policyText = ({ name, policy: p }: ResolvedPolicy) =>
  `${name}: daily ${p.daily}, weekly ${p.weekly}, monthly ${p.monthly}, yearly ${p.yearly}, keep-at-least ${p.keepAtLeast}`;

// Every property written in one literal (one allocation, one shape): plans build one verdict per snapshot.
const verdict = (
  e: Entry,
  policy: string | undefined,
  action: Verdict['action'],
  rule: VerdictRule,
  reason: string,
): Verdict =>
  ({
    id: e.s.id,
    arn: e.s.arn,
    region: e.s.region,
    kind: e.s.kind,
    sourceId: e.source,
    createdAt: e.s.createdAt,
    policy,
    action,
    rule,
    reason,
  }) as Verdict;

const keep = (e: Entry, rule: KeepRule, reason: string, policy: string | undefined) =>
  (e.verdict = verdict(e, policy, 'keep', rule, reason));

/**
 * The day-earlier judgement (the deletion allowance) needs only which snapshots expire, not why the others
 * stay: it marks them with this one verdict instead of writing one each.
 */
const UNWRITTEN: Verdict = Object.freeze({
  id: '',
  arn: '',
  region: '',
  kind: 'rds-instance',
  sourceId: '',
  action: 'keep',
  rule: 'newest',
  reason: 'judged a day earlier',
});

interface Group {
  resolved: ResolvedPolicy;
  members: Dated[];
}

interface Expired {
  d: Dated;
  rule: ExpireRule;
  reason: string;
}

/**
 * Judge every snapshot at `nowMs`: a verdict on each entry but the expired ones, which are returned uncapped.
 * `write: false` (the day-earlier judgement) marks the kept and skipped without writing their verdicts.
 */
const judge = (
  reads: readonly Read[],
  policyOf: PolicyResolver,
  nowMs: number,
  write = true,
): { entries: Entry[]; expired: Expired[] } => {
  const skip = (e: Entry, reason: SkipReason) =>
    (e.verdict = write ? verdict(e, undefined, 'skip', reason, reason) : UNWRITTEN);
  const keep = (e: Entry, rule: KeepRule, reason: string, policy: string | undefined) =>
    (e.verdict = write ? verdict(e, policy, 'keep', rule, reason) : UNWRITTEN);

  // Group by the snapshot's own source field: the service sets it and nobody can rewrite it, whereas the
  // `steward:source` tag is writable by anyone who can tag. A tag that disagrees skips the snapshot.
  // One literal, one shape: plans build one entry per snapshot, twice.
  const entries: Entry[] = reads.map(({ s, ms, line }) => ({ s, source: s.sourceId, ms, line }));
  const disagrees = (s: Snapshot) => {
    const tag = s.tags[Tag.source];
    return hasTag(s, Tag.source) && tag !== s.sourceId && tag!.toLowerCase() !== s.sourceId.toLowerCase();
  };
  // Judged snapshots with a creation time, per source (for "newest") and per retention group (for GFS).
  // Retention groups in first-seen order; each source finds its own by policy name (no per-snapshot key string).
  const bySource = new Map<string, { members: Dated[]; byPolicy: Map<string, Group> }>();
  const groups: Group[] = [];
  const adHoc: { d: Dated; reason: string }[] = [];

  for (const e of entries) {
    const { s } = e;
    if (s.type !== 'manual') skip(e, s.type);
    else if (!isManaged(s.tags) || !namedByUs(s)) skip(e, 'not-ours');
    else if (hasTag(s, Tag.hold)) skip(e, 'on-hold');
    else if (s.status !== 'available') skip(e, 'not-available');
    else if (disagrees(s)) skip(e, 'source-mismatch');
    if (e.verdict) continue;

    const resolved = policyOf(s);
    const retainUntil = s.tags[Tag.retainUntil];
    const retainMs = parseInstant(retainUntil);
    if (retainUntil !== undefined && retainMs === undefined) {
      keep(
        e,
        'bad-retain-until',
        `bad ${Tag.retainUntil} value ${JSON.stringify(retainUntil)}`,
        resolved?.name,
      );
      continue;
    }
    if (retainMs !== undefined && retainMs > nowMs) {
      keep(e, 'retain-until', `retain-until ${retainUntil}`, resolved?.name);
      continue;
    }
    if (!isDated(e)) {
      const why =
        s.createdAt === undefined
          ? 'no creation time'
          : `unreadable creation time ${JSON.stringify(s.createdAt)}`;
      keep(e, 'no-created-at', why, resolved?.name);
      continue;
    }

    const d = e;
    d.policy = resolved;
    let source = bySource.get(e.line.key);
    if (!source) bySource.set(e.line.key, (source = { members: [], byPolicy: new Map() }));
    source.members.push(d);

    if (resolved) {
      let g = source.byPolicy.get(resolved.name);
      if (!g) {
        source.byPolicy.set(resolved.name, (g = { resolved, members: [] }));
        groups.push(g);
      }
      g.members.push(d);
    } else if (retainMs !== undefined && (!hasTag(s, Tag.policy) || s.tags[Tag.policy] === ADHOC_POLICY)) {
      adHoc.push({ d, reason: `retain-until ${retainUntil} passed` });
    } else {
      const tag = s.tags[Tag.policy];
      const why =
        tag === undefined ? `no ${Tag.policy} tag` : `${Tag.policy}=${JSON.stringify(tag)} names no policy`;
      keep(d, 'unknown-policy', `unknown-policy: ${why}`, undefined);
    }
  }

  // GFS per retention group: walk newest first, so the first snapshot seen in a period is its newest. A
  // period is one stretch of time, so in time order its snapshots are adjacent: comparing with the previous
  // snapshot's period finds each new one.
  for (const { resolved, members } of groups) {
    members.sort((a, b) => byAge(b, a));
    for (const rule of GFS_RULES) {
      const count = resolved.policy[rule];
      let seen = 0;
      let last: string | undefined;
      for (let i = 0; i < members.length && seen < count; i++) {
        const d = members[i]!;
        const period = periodKey(rule, d.ms);
        if (period === last) continue;
        last = period;
        seen++;
        if (!d.verdict)
          keep(
            d,
            rule,
            d.line.earlier ? `${rule} ${period}${d.line.earlier}` : `${rule} ${period}`,
            resolved.name,
          );
      }
    }
  }

  for (const { members } of bySource.values()) {
    const newest = members.reduce((a, b) => (byAge(a, b) >= 0 ? a : b));
    if (!newest.verdict) keep(newest, 'newest', `newest${newest.line.earlier}`, newest.policy?.name);
  }

  const expired: Expired[] = [];
  for (const { resolved, members } of groups) {
    const floor = resolved.policy.keepAtLeast;
    let kept = members.filter((d) => d.verdict).length;
    let reason: string | undefined;
    for (const d of members) {
      if (d.verdict) continue;
      if (kept < floor) {
        keep(d, 'keep-at-least', `keep-at-least ${floor}${d.line.earlier}`, resolved.name);
        kept++;
      } else {
        reason ??= `expired (${policyText(resolved)})${d.line.earlier}`;
        expired.push({ d, rule: 'gfs', reason });
      }
    }
  }
  for (const { d, reason } of adHoc) if (!d.verdict) expired.push({ d, rule: 'retain-until-passed', reason });

  return { entries, expired };
};

/** A database's UTC day in the primary region: `region, kind, source, yyyy-mm-dd`. */
const dayOf = (e: Dated) => `${e.line.key}\u0000${periodKey('daily', e.ms)}`;

/**
 * Keep the expired primary snapshots whose day has not reached the DR region. For each (region, kind,
 * source, UTC day) of a policy that copies: when no snapshot of that day stays (kept or held) and none has
 * an available copy in the DR region (same id, or `steward:copied-from` its ARN, as the copy planner
 * matches them), the newest expired one is kept (`awaiting-dr`). Returns the expired that may still go.
 * A DR snapshot's creation time is not used: an Aurora copy is dated by the copy, not by its data.
 */
const holdForDr = (entries: readonly Entry[], expired: Expired[], dr: DrView): Expired[] => {
  const primary = (e: Entry) => e.s.region !== dr.region;
  // Dump objects are never copied to DR; ElastiCache backups are held only when the Redis DR bucket's copies
  // are listed (`dr.caches`), since Redis DR copies RDB files to its own bucket, not snapshots.
  // A serverless cache snapshot is never copied (neither a cross-region copy nor an RDB export to the bucket).
  const copies = (s: Snapshot) =>
    (s.kind !== 'elasticache' || (dr.caches === true && !s.serverless)) &&
    !s.object &&
    dr.policiesThatCopy.has(s.tags[Tag.policy] ?? '');
  const available = (s: Snapshot) => s.status.toLowerCase() === 'available';
  // What each copy holds: an RDB copy only the shards whose files arrived; any other copy all of it.
  const copied = new Map<string, number>();
  const holds = (s: Snapshot) => (s.kind === 'elasticache' ? (s.shards ?? 1) : Infinity);
  const note = (key: string, c: Snapshot) => copied.set(key, Math.max(copied.get(key) ?? 0, holds(c)));
  // A copy without copied-from is matched by id, and only to a source of its origin region (or of none known):
  // one account's `orders` of two regions have copies of the same source id in one DR region.
  const copiedById = new Map<string, Snapshot[]>();
  for (const c of dr.snapshots ?? []) {
    if (c.region !== dr.region || !available(c)) continue;
    const from = c.tags[Tag.copiedFrom];
    if (from) note(`arn:${from}`, c);
    else copiedById.set(`${c.kind}:${c.id}`, [...(copiedById.get(`${c.kind}:${c.id}`) ?? []), c]);
  }
  const byId = (s: Snapshot) =>
    Math.max(0, ...(copiedById.get(`${s.kind}:${s.id}`) ?? []).filter((c) => isCopyOf(c, s)).map(holds));
  const hasCopy = (s: Snapshot) =>
    Math.max(copied.get(`arn:${s.arn}`) ?? 0, byId(s)) >= (s.kind === 'elasticache' ? (s.shards ?? 1) : 1);
  // Days already safe: one of their snapshots stays in the primary region, or has its copy in DR.
  const safe = new Set<string>();
  for (const e of entries) {
    if (!primary(e) || !isDated(e)) continue;
    const stays =
      available(e.s) &&
      (e.verdict?.action === 'keep' || (e.verdict?.action === 'skip' && e.verdict.rule === 'on-hold'));
    if (stays || hasCopy(e.s)) safe.add(dayOf(e));
  }
  for (const { d } of expired) if (hasCopy(d.s)) safe.add(dayOf(d));
  const go: Expired[] = [];
  // Newest first: the day keeps its newest snapshot, the one a copy would be made of.
  for (const x of [...expired].sort((a, b) => byAge(b.d, a.d))) {
    const { d } = x;
    const day = dayOf(d);
    if (!primary(d) || !copies(d.s) || safe.has(day)) {
      go.push(x);
      continue;
    }
    safe.add(day);
    const why =
      dr.snapshots === undefined
        ? `the DR region ${dr.region} could not be listed`
        : `no available copy of it in ${dr.region} yet`;
    keep(
      d,
      'awaiting-dr',
      `awaiting-dr: the only snapshot of ${periodKey('daily', d.ms)} left, ${why}`,
      d.policy?.name,
    );
  }
  return go;
};

// How far back "what became due" looks: two days, so a day's expiry that the previous run could not act on
// yet (its newest snapshot was still being created, or its DR copy had not arrived) is still counted when
// the next run sees it. What the previous run did delete is gone from the inventory and not counted again.
const DUE_WINDOW_MS = 2 * DAY_MS;

/**
 * What became due recently: snapshots expired at `nowMs` that were not yet expired `DUE_WINDOW_MS` earlier,
 * judging only what was in its region then (a DR copy is there from when it was copied, not from its data
 * time). In steady state that is one day's expiry. A policy change, a removed hold or an old backlog was
 * already expired then too, so it is not due: the allowance bounds it.
 */
const dueToday = (
  reads: readonly Read[],
  policyOf: PolicyResolver,
  nowMs: number,
  expiredNow: readonly Expired[],
): number => {
  const then = nowMs - DUE_WINDOW_MS;
  const existed = reads.filter(({ s, ms }) => {
    const arrived = parseInstant(s.copiedAt) ?? ms;
    return arrived === undefined || arrived <= then;
  });
  const before = new Set(judge(existed, policyOf, then, false).expired.map(({ d }) => d.s));
  return expiredNow.filter(({ d }) => !before.has(d.s)).length;
};

const checkCount = (name: string, v: number, min: number) => {
  if (!Number.isInteger(v) || v < min)
    throw new RangeError(`planRetention: ${name} must be an integer of at least ${min}, got ${v}`);
};

/** The day's allowance for `due` snapshots due: min(safetyCap, max(floor, ceil(dueMultiple × due))). */
export const allowanceFor = (due: number, limits: DeletionLimits): number =>
  Math.min(limits.safetyCap, Math.max(limits.floor, Math.ceil(limits.dueMultiple * due)));

/**
 * Which database of its name each snapshot is of. An identifier names one database at a time, but a database
 * deleted and re-created under the same name leaves the earlier one's snapshots under it (steward's outlive
 * it): judged together, an earlier database's snapshot could take a daily, weekly or monthly slot of the live
 * one, whose own snapshot would then be deleted in its place. Per (region, kind, source), newest first: the
 * newest snapshot that states its database (resource id, creation time) anchors a lineage, and every snapshot
 * the drills' reasoning ties to it (tiedTo: same resource id; else same creation time; else taken since it was
 * created) is of it; the rest start the next. ElastiCache states only its members' creation times, never
 * before the group's: a lineage's start is the earliest of them, and a snapshot taken since is of it. A
 * snapshot stating nothing joins by when it was taken; when none states anything, all are one (as before).
 * Splitting one database in two only keeps more (each part keeps its own slots); merging two never happens
 * when they state themselves. Only manual, dated snapshots are placed (the others are never judged).
 */
const placeLineages = (reads: readonly Read[], mixed: ReadonlySet<Lineage>): void => {
  const bySource = new Map<Lineage, Read[]>();
  for (const r of reads) {
    if (r.ms === undefined || r.s.type !== 'manual' || !mixed.has(r.line)) continue;
    const list = bySource.get(r.line);
    if (list) list.push(r);
    else bySource.set(r.line, [r]);
  }
  const states = (r: Read) => r.s.sourceResourceId !== undefined || since(r) !== undefined;
  for (let pending of bySource.values()) {
    if (pending.length < 2 || !pending.some(states)) continue;
    pending.sort((a, b) => byAge(b as Dated, a as Dated));
    for (let n = 0; pending.length; n++) {
      const anchor = pending.find(states);
      const exact = anchor?.s.kind !== 'elasticache';
      const start = anchor && since(anchor);
      const live = {
        id: anchor?.s.sourceResourceId,
        createdAt: start === undefined ? undefined : new Date(start),
      };
      // The newest database keeps the name's own lineage; each earlier one gets its own, shared by its snapshots.
      const { sourceKey } = pending[0]!.line;
      const line: Lineage | undefined =
        n === 0
          ? undefined
          : { sourceKey, key: `${sourceKey}\u0000#${n}`, earlier: earlierNote(anchor ?? pending[0]!) };
      const next: Read[] = [];
      for (const r of pending) {
        const from = since(r);
        const of = !anchor
          ? true
          : r === anchor ||
            tiedTo(live, {
              id: r.s.sourceResourceId,
              sourceCreatedAt: exact && from !== undefined ? new Date(from) : undefined,
              at: new Date(r.ms!),
            });
        if (!of) {
          next.push(r);
          continue;
        }
        if (line) r.line = line;
        // An ElastiCache lineage starts at its earliest member: a snapshot taken since is of the same group.
        if (!exact && from !== undefined && live.createdAt && from < live.createdAt.getTime())
          live.createdAt = new Date(from);
      }
      pending = next;
    }
  }
};

const since = (r: Read): number | undefined => parseInstant(r.s.sourceCreatedAt);

/** In the reason of every verdict on an earlier database of its name: `daily 2026-11-10, of an earlier database named orders (db-…)`. */
export const EARLIER_DATABASE = ', of an earlier database named ';

const earlierNote = ({ s }: Read): string => {
  const which = s.sourceResourceId ?? (s.sourceCreatedAt ? `created ${s.sourceCreatedAt}` : undefined);
  return `${EARLIER_DATABASE}${s.sourceId}${which ? ` (${which})` : ''}`;
};

/**
 * A plan's key for each (region, kind, source): one string per database, shared by its snapshots, found
 * without building a string per snapshot. A database's dump objects are a group of their own: a dump and
 * a snapshot set of the same day are two backups, neither replaces the other.
 */
/** One (region, kind, source) of a plan: its key, and whether its snapshots state more than one database. */
interface SourceSlot {
  /** The name's own lineage: every snapshot's until placeLineages gives an earlier database's its own. */
  line: Lineage;
  /** The first database a snapshot stated (its resource id, else creation time); `null` for none stated. */
  first: string | null | undefined;
  /** Its snapshots state different databases (or some state one, some none): lineages must be placed. */
  mixed: boolean;
}

const sourceKeys = () => {
  const keys = new Map<string, Map<string, Map<string, SourceSlot>>>();
  return (s: Snapshot): SourceSlot => {
    // A DR copy is grouped with the copies from its own source region: `orders` of two regions of one account
    // are two databases, each with its own days to keep in the DR region.
    const from = originRegion(s);
    const place = from === undefined || from === s.region ? s.region : `${s.region}<${from}`;
    let byKind = keys.get(place);
    if (!byKind) keys.set(place, (byKind = new Map()));
    // A serverless cache's snapshots are a group of their own too: a replication group of its name is another cache.
    const kind = s.object ? `${s.kind}\u0000object` : s.serverless ? `${s.kind}\u0000serverless` : s.kind;
    let bySource = byKind.get(kind);
    if (!bySource) byKind.set(kind, (bySource = new Map()));
    let slot = bySource.get(s.sourceId);
    if (slot === undefined) {
      const key = `${place}\u0000${kind}\u0000${s.sourceId}`;
      slot = { line: { sourceKey: key, key, earlier: '' }, first: undefined, mixed: false };
      bySource.set(s.sourceId, slot);
    }
    // Most databases' snapshots all state the same one: only a name whose snapshots differ is placed.
    const stated = s.sourceResourceId ?? s.sourceCreatedAt ?? null;
    if (slot.first === undefined) slot.first = stated;
    else if (slot.first !== stated) slot.mixed = true;
    return slot;
  };
};

/**
 * The inventory with each Redis DR copy (an `elasticache` snapshot copied from another region: RDB files in
 * S3, `shards` the files that arrived) that holds fewer files than its snapshot, listed in its own region, has
 * shards marked `copying`: a copy missing a shard restores nothing, so it is neither kept in place of a
 * complete one nor deleted. A copy whose snapshot is not listed is judged as its store reported it.
 */
const stillCopying = (snapshots: readonly Snapshot[]): readonly Snapshot[] => {
  const copies = new Set(
    snapshots.filter(
      (s) =>
        s.kind === 'elasticache' && s.status === 'available' && (originRegion(s) ?? s.region) !== s.region,
    ),
  );
  if (!copies.size) return snapshots;
  // The snapshots a copy may be of, by id (ElastiCache snapshot names are unique per account-region).
  const shardsOf = new Map<string, Snapshot[]>();
  for (const s of snapshots)
    if (s.kind === 'elasticache' && !copies.has(s)) shardsOf.set(s.id, [...(shardsOf.get(s.id) ?? []), s]);
  const partial = new Set(
    [...copies].filter((c) =>
      (shardsOf.get(c.id) ?? []).some((s) => isCopyOf(c, s) && (s.shards ?? 1) > (c.shards ?? 1)),
    ),
  );
  return partial.size ? snapshots.map((s) => (partial.has(s) ? { ...s, status: 'copying' } : s)) : snapshots;
};

/**
 * Plan retention for a snapshot inventory with grandfather-father-son rules, in UTC. Pure and
 * order-independent: the same snapshots, policies and `now` give the same plan.
 *
 * - Only available, manual snapshots tagged `steward:managed=true` and not on hold are judged; the rest skip.
 * - Snapshots are grouped by their own source identifier (the service's field); a `steward:source` tag that
 *   names another database skips the snapshot (`source-mismatch`): it is reported, never deleted.
 * - `steward:retain-until` in the future keeps; a malformed one, an unknown policy or a missing creation
 *   time keeps on doubt. An ad-hoc snapshot without a policy expires once its retain-until has passed.
 * - Per (region, kind, source, retention policy), keep the newest snapshot of each of the newest N days,
 *   ISO weeks, months and years that have a snapshot, then top up to `keepAtLeast` with the newest others.
 * - The newest judged snapshot of each (region, kind, source) is always kept.
 * - A source's dump objects (`object`) are judged apart from its snapshots, by the same rules, never held for DR.
 * - With `dr`, a primary day that has not reached the DR region keeps its newest snapshot (`awaiting-dr`).
 * - Deletions are capped, oldest first, the other expired ones deferred: by `limits` relative to what
 *   became due in the last 48 h (see DeletionLimits), and by `maxDeletionsPerRun` when given.
 *
 * Snapshots are identified by (region, kind, id); the inventory lists each one once.
 */
export const planRetention = (
  snapshots: readonly Snapshot[],
  policyOf: PolicyResolver,
  now: Date,
  opts: PlanOptions,
): RetentionPlan => {
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) throw new RangeError('planRetention: now is not a valid date');
  const { limits, maxDeletionsPerRun: fixed } = opts;
  if (fixed !== undefined) checkCount('maxDeletionsPerRun', fixed, 0);
  if (limits) {
    checkCount('limits.floor', limits.floor, 0);
    checkCount('limits.safetyCap', limits.safetyCap, 0);
    if (!(limits.dueMultiple >= 1) || !Number.isFinite(limits.dueMultiple))
      throw new RangeError(`planRetention: limits.dueMultiple must be at least 1, got ${limits.dueMultiple}`);
  }

  const sourceKeyOf = sourceKeys();
  const mixed = new Set<Lineage>();
  // As small as before the lineage pass (three fields): a plan holds one per snapshot, and its size is GC work.
  const reads: Read[] = stillCopying(snapshots).map((s) => {
    const slot = sourceKeyOf(s);
    if (slot.mixed) mixed.add(slot.line);
    return { s, ms: parseInstant(s.createdAt), line: slot.line };
  });
  if (mixed.size) placeLineages(reads, mixed);
  const { entries, expired: judgedExpired } = judge(reads, policyOf, nowMs);
  const due = limits ? dueToday(reads, policyOf, nowMs, judgedExpired) : 0;
  const expired = opts.dr ? holdForDr(entries, judgedExpired, opts.dr) : judgedExpired;

  // What the day's due work asks for, before the safety cap.
  const wanted = limits ? Math.max(limits.floor, Math.ceil(limits.dueMultiple * due)) : Infinity;
  const relative = limits ? Math.min(limits.safetyCap, wanted) : Infinity;
  const cap = Math.min(relative, fixed ?? Infinity);
  const capHit: CapHit | undefined =
    expired.length <= cap
      ? undefined
      : fixed !== undefined && fixed < relative
        ? 'fixed'
        : limits && wanted >= limits.safetyCap
          ? 'safety'
          : 'relative';
  const why =
    capHit === 'safety'
      ? `deferred: the safety cap of ${cap} deletions per day was reached`
      : capHit === 'relative'
        ? `deferred: at most ${cap} deletions today (${due} due in the last 48 h)`
        : `deferred: at most ${cap} deletions per run`;

  expired.sort((a, b) => byAge(a.d, b.d));
  const toDelete: Snapshot[] = [];
  const deferred: Snapshot[] = [];
  expired.forEach(({ d, rule, reason }, i) => {
    if (i < cap) {
      toDelete.push(d.s);
      d.verdict = verdict(d, d.policy?.name, 'expire', rule, reason);
    } else {
      deferred.push(d.s);
      d.verdict = verdict(d, d.policy?.name, 'defer', rule, `${reason}; ${why}`);
    }
  });

  // Sorted per database, then the databases in order: the same order as one sort of every entry, cheaper.
  const perSource = new Map<string, Entry[]>();
  for (const e of entries) {
    const list = perSource.get(e.line.sourceKey);
    if (list) list.push(e);
    else perSource.set(e.line.sourceKey, [e]);
  }
  const verdicts = [...perSource.values()]
    .sort((a, b) => byGroupThenAge(a[0]!, b[0]!))
    .flatMap((list) => list.sort(byGroupThenAge).map((e) => e.verdict!));
  const allowance: Allowance = {
    due,
    expired: expired.length,
    allowed: Number.isFinite(cap) ? cap : expired.length,
    ...(capHit ? { capHit } : {}),
  };
  return { verdicts, delete: toDelete, deferred, summary: summarize(verdicts), allowance };
};

const summarize = (verdicts: readonly Verdict[]): RetentionSummary => {
  const counts = { keep: 0, skip: 0, expire: 0, defer: 0 };
  const byRule = new Map<VerdictRule, number>();
  let doubt = 0;
  for (const v of verdicts) {
    counts[v.action]++;
    byRule.set(v.rule, (byRule.get(v.rule) ?? 0) + 1);
    if (v.action === 'keep' && DOUBT_RULES.includes(v.rule)) doubt++;
  }
  return { total: verdicts.length, ...counts, doubt, byRule: Object.fromEntries(byRule) };
};
