/**
 * When an EventBridge Scheduler expression fires: the status check needs "the last scheduled backup
 * before now" and the monthly report "every scheduled backup of the month". Pure: no clock, no I/O.
 *
 * Scheduler cron has six fields, `cron(minutes hours day-of-month month day-of-week year)`, evaluated in the
 * schedule's time zone (UTC by default); day-of-month or day-of-week must be `?`; day-of-week counts
 * 1 = SUN … 7 = SAT. https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 */

const MINUTE = 60_000;
const DAY = 86_400_000;
// A month of an every-minute schedule is 44 640 fires; more than this is a question nobody asks.
const MAX_FIRES = 100_000;

/** A parsed schedule: when it fires, or (rate) only how often. */
export type Schedule =
  | { kind: 'cron'; expression: string; timezone: string; fires: (from: Date, to: Date) => Date[] }
  | { kind: 'rate'; expression: string; intervalMs: number }
  | { kind: 'at'; expression: string; at: Date };

/** An expression this evaluator cannot read; callers report "schedule unknown", never guess. */
export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface Field {
  values: Set<number>;
  any: boolean;
}

const number = (raw: string, names: readonly string[] | undefined, base: number, what: string): number => {
  const named = names?.indexOf(raw.toUpperCase()) ?? -1;
  if (named >= 0) return named + base;
  if (!/^\d+$/.test(raw)) throw new ScheduleError(`${what}: "${raw}" is not a number`);
  return Number(raw);
};

/** `*`, `5`, `1,15`, `1-5`, `*\/15`, `10-50/20`, names for months and days. */
const field = (raw: string, min: number, max: number, what: string, names?: readonly string[]): Field => {
  const values = new Set<number>();
  const base = names === MONTHS || names === DAYS ? 1 : 0;
  for (const part of raw.split(',')) {
    const [range = '', stepRaw] = part.split('/');
    const step = stepRaw === undefined ? 1 : number(stepRaw, undefined, 0, what);
    if (step < 1) throw new ScheduleError(`${what}: step must be at least 1`);
    let lo: number;
    let hi: number;
    if (range === '*') [lo, hi] = [min, max];
    else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      [lo, hi] = [number(a, names, base, what), number(b, names, base, what)];
    } else {
      lo = number(range, names, base, what);
      hi = stepRaw === undefined ? lo : max;
    }
    if (lo < min || hi > max || lo > hi) throw new ScheduleError(`${what}: ${part} is outside ${min}-${max}`);
    for (let v = lo; v <= hi; v += step) values.add(v);
  }
  return { values, any: raw === '*' };
};

const daysIn = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();

/** Day-of-month: a field, `?`, `L` (last day), `LW` (last weekday), `15W` (weekday nearest the 15th). */
const dayOfMonth = (raw: string): ((y: number, m: number, d: number) => boolean) | undefined => {
  if (raw === '?') return undefined;
  const weekdayNear = (y: number, m: number, target: number) => {
    const last = daysIn(y, m);
    const t = Math.min(target, last);
    const dow = new Date(Date.UTC(y, m - 1, t)).getUTCDay();
    if (dow === 6) return t === 1 ? 3 : t - 1;
    if (dow === 0) return t === last ? t - 2 : t + 1;
    return t;
  };
  if (raw === 'L') return (y, m, d) => d === daysIn(y, m);
  if (raw === 'LW') return (y, m, d) => d === weekdayNear(y, m, daysIn(y, m));
  const w = /^(\d{1,2})W$/.exec(raw);
  if (w) {
    const target = Number(w[1]);
    if (target < 1 || target > 31) throw new ScheduleError(`day-of-month: ${raw} is outside 1-31`);
    return (y, m, d) => d === weekdayNear(y, m, target);
  }
  const f = field(raw, 1, 31, 'day-of-month');
  return (_y, _m, d) => f.values.has(d);
};

/** Day-of-week (1 = SUN): a field, `?`, `L` (Saturday), `6L` (last Friday), `2#1` (first Monday). */
const dayOfWeek = (raw: string): ((y: number, m: number, d: number) => boolean) | undefined => {
  if (raw === '?') return undefined;
  const dowOf = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 1;
  if (raw === 'L') return (y, m, d) => dowOf(y, m, d) === 7;
  const last = /^(\w{1,3})L$/.exec(raw);
  if (last) {
    const want = number(last[1]!, DAYS, 1, 'day-of-week');
    return (y, m, d) => dowOf(y, m, d) === want && d + 7 > daysIn(y, m);
  }
  const nth = /^(\w{1,3})#([1-5])$/.exec(raw);
  if (nth) {
    const want = number(nth[1]!, DAYS, 1, 'day-of-week');
    const n = Number(nth[2]);
    return (y, m, d) => dowOf(y, m, d) === want && Math.ceil(d / 7) === n;
  }
  const f = field(raw, 1, 7, 'day-of-week', DAYS);
  return (y, m, d) => f.values.has(dowOf(y, m, d));
};

const formatters = new Map<string, Intl.DateTimeFormat>();
const formatter = (timezone: string): Intl.DateTimeFormat => {
  let f = formatters.get(timezone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: timezone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
      });
    } catch {
      throw new ScheduleError(`unknown time zone "${timezone}"`);
    }
    formatters.set(timezone, f);
  }
  return f;
};

/** The zone's offset from UTC at `ms`, in ms (wall clock − UTC). */
const offsetAt = (timezone: string, ms: number): number => {
  if (timezone === 'UTC') return 0;
  const parts = Object.fromEntries(
    formatter(timezone)
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
  );
  return wall - Math.floor(ms / MINUTE) * MINUTE;
};

/** The UTC instant of a wall-clock time in `timezone` (the later reading when DST makes it ambiguous). */
const fromWall = (timezone: string, wallMs: number): number | undefined => {
  let guess = wallMs - offsetAt(timezone, wallMs);
  guess = wallMs - offsetAt(timezone, guess);
  // A wall time inside a DST gap does not exist: Scheduler skips it, so do we.
  return guess + offsetAt(timezone, guess) === wallMs ? guess : undefined;
};

/** Parse a cron(...) expression into a function listing its fire times in [from, to]. */
const cron = (expression: string, body: string, timezone: string): Schedule => {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) throw new ScheduleError(`cron needs 6 fields, got ${parts.length}`);
  const [mi = '', h = '', dom = '', mo = '', dow = '', yr = ''] = parts;
  const minutes = [...field(mi, 0, 59, 'minutes').values].sort((a, b) => a - b);
  const hours = [...field(h, 0, 23, 'hours').values].sort((a, b) => a - b);
  const months = field(mo, 1, 12, 'month', MONTHS).values;
  const years = field(yr, 1970, 2199, 'year');
  const byDom = dayOfMonth(dom);
  const byDow = dayOfWeek(dow);
  if ((byDom === undefined) === (byDow === undefined))
    throw new ScheduleError('exactly one of day-of-month and day-of-week must be ?');
  // An unknown zone fails here, at parse. UTC needs no formatter (offsetAt answers 0): the first
  // Intl.DateTimeFormat loads the time-zone data, ~30 ms of a cold start's CPU (measured, Node 22).
  if (timezone !== 'UTC') formatter(timezone);
  const dayMatches = (y: number, m: number, d: number) =>
    months.has(m) && (years.any || years.values.has(y)) && (byDom ?? byDow)!(y, m, d);

  const fires = (from: Date, to: Date): Date[] => {
    const out: Date[] = [];
    const a = from.getTime();
    const b = to.getTime();
    if (!(a <= b)) return out;
    // Walk the zone's calendar days that overlap [from, to] (±1 day covers any offset).
    for (
      let day = Math.floor((a + offsetAt(timezone, a)) / DAY) * DAY - DAY;
      day <= b + 2 * DAY;
      day += DAY
    ) {
      const d = new Date(day);
      const [y, m, dd] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
      if (!dayMatches(y, m, dd)) continue;
      for (const hh of hours) {
        for (const mm of minutes) {
          const at = fromWall(timezone, day + hh * 3_600_000 + mm * MINUTE);
          if (at !== undefined && at >= a && at <= b) out.push(new Date(at));
        }
      }
      if (out.length > MAX_FIRES)
        throw new ScheduleError(`${expression} fires more than ${MAX_FIRES} times in the range`);
    }
    return out.sort((x, y) => x.getTime() - y.getTime());
  };
  return { kind: 'cron', expression, timezone, fires };
};

const RATE_UNITS: Record<string, number> = { minute: MINUTE, hour: 60 * MINUTE, day: DAY };

/** Parse a Scheduler expression: cron(...), rate(n unit) or at(yyyy-mm-ddThh:mm:ss). Throws ScheduleError. */
export const parseSchedule = (expression: string, timezone = 'UTC'): Schedule => {
  const m = /^(cron|rate|at)\((.*)\)$/.exec(expression.trim());
  if (!m) throw new ScheduleError(`"${expression}" is not cron(...), rate(...) or at(...)`);
  const [, type, body = ''] = m;
  if (type === 'cron') return cron(expression, body, timezone);
  if (type === 'rate') {
    const r = /^(\d+)\s+(minute|hour|day)s?$/.exec(body.trim());
    if (!r || Number(r[1]) < 1) throw new ScheduleError(`"${expression}" is not rate(<n> minute|hour|day)`);
    return { kind: 'rate', expression, intervalMs: Number(r[1]) * RATE_UNITS[r[2]!]! };
  }
  const at = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body.trim());
  if (!at) throw new ScheduleError(`"${expression}" is not at(yyyy-mm-ddThh:mm:ss)`);
  const [y, mo, d, h, mi, s] = at.slice(1).map(Number) as [number, number, number, number, number, number];
  const instant = fromWall(timezone, Date.UTC(y, mo - 1, d, h, mi, s));
  if (instant === undefined) throw new ScheduleError(`"${expression}" does not exist in ${timezone}`);
  return { kind: 'at', expression, at: new Date(instant) };
};

/** Fire times in [from, to]; undefined for a rate (its phase is unknown). */
export const fireTimes = (s: Schedule, from: Date, to: Date): Date[] | undefined => {
  if (s.kind === 'cron') return s.fires(from, to);
  if (s.kind === 'at') return s.at >= from && s.at <= to ? [s.at] : [];
  return undefined;
};

// Backups are daily to monthly; a yearly schedule still fires within this look-back.
const LOOK_BACK_DAYS = [2, 40, 400];

/** The last fire time at or before `at` (within ~400 days); undefined for a rate or when none. */
export const previousFire = (s: Schedule, at: Date): Date | undefined => {
  if (s.kind === 'rate') return undefined;
  for (const days of LOOK_BACK_DAYS) {
    const fires = fireTimes(s, new Date(at.getTime() - days * DAY), at)!;
    if (fires.length) return fires[fires.length - 1];
  }
  return undefined;
};

/** The typical gap between fires (ms): a rate's interval, else the median gap of the fires before `at`. */
export const typicalInterval = (s: Schedule, at: Date): number | undefined => {
  if (s.kind === 'rate') return s.intervalMs;
  if (s.kind === 'at') return undefined;
  let fires: Date[] = [];
  for (const days of LOOK_BACK_DAYS) {
    fires = s.fires(new Date(at.getTime() - days * DAY), at);
    if (fires.length >= 3) break;
  }
  if (fires.length < 2) return undefined;
  const gaps = fires
    .slice(1)
    .map((f, i) => f.getTime() - fires[i]!.getTime())
    .sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)];
};

/**
 * A copying backup policy's DR-lag objective (seconds): its `drLagObjectiveHours`, else its schedule's
 * typical interval plus the DR grace, where `steward status` calls the DR copy LATE. Undefined for a schedule
 * without an interval (a one-time `at(...)`) and no explicit objective.
 */
export const drLagObjectiveSeconds = (
  policy: { schedule: string; timezone: string; drLagObjectiveHours?: number | undefined },
  drGraceHours: number,
  at: Date,
): number | undefined => {
  if (policy.drLagObjectiveHours !== undefined) return policy.drLagObjectiveHours * 3600;
  let interval: number | undefined;
  try {
    interval = typicalInterval(parseSchedule(policy.schedule, policy.timezone), at);
  } catch {
    interval = undefined;
  }
  return interval === undefined ? undefined : interval / 1000 + drGraceHours * 3600;
};
