// EventBridge Scheduler expressions, parsed rather than pattern-matched, so a schedule that the Scheduler
// API would reject fails validation (and synth) instead of `cdk deploy`. Rules, from the EventBridge
// Scheduler and EventBridge user guides ("Schedule types", "Cron expressions reference", "Rate expressions"):
// - cron(minutes hours day-of-month month day-of-week year): six fields; minutes 0-59, hours 0-23,
//   day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or SUN-SAT, year 1970-2199; wildcards
//   `, - * /` everywhere except day-of-week (no `/`), `?` only in the two day fields, `L` and `W` in
//   day-of-month, `L` and `#` in day-of-week. Day-of-month and day-of-week cannot both be given: exactly
//   one of them is `?`.
// - rate(value unit): a positive integer and minute|minutes|hour|hours|day|days, singular exactly when
//   the value is 1 (rate(1 hours) and rate(5 hour) are rejected).
// - at(yyyy-mm-ddThh:mm:ss): one time, in the schedule's time zone (no offset in the expression).
// Pure: no clock (an at() in the past is the user's business), no I/O.

interface Field {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** `?` allowed (day-of-month, day-of-week). */
  any?: boolean;
  step: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const FIELDS: readonly Field[] = [
  { name: 'minutes', min: 0, max: 59, step: true },
  { name: 'hours', min: 0, max: 23, step: true },
  { name: 'day-of-month', min: 1, max: 31, any: true, step: true },
  { name: 'month', min: 1, max: 12, names: MONTHS, step: true },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS, any: true, step: false },
  { name: 'year', min: 1970, max: 2199, step: true },
];
const DOM = 2;
const DOW = 4;

const EXAMPLE = 'e.g. cron(0 3 * * ? *) for 03:00 every day';

/** A number or a name (JAN, MON) in the field's range, or a reason it is not. */
const value = (raw: string, f: Field): number | string => {
  const named = f.names?.indexOf(raw.toUpperCase() as never) ?? -1;
  if (named >= 0) return named + f.min;
  if (!/^\d+$/.test(raw)) {
    const names = f.names ? ` or ${f.names[0]}-${f.names[f.names.length - 1]}` : '';
    return `"${raw}" is not a number${names}`;
  }
  const n = Number(raw);
  if (n < f.min || n > f.max) return `${n} is outside ${f.min}-${f.max}`;
  return n;
};

/** One comma-separated item: `*`, `a`, `a-b`, each optionally `/step` where the field allows it. */
const item = (raw: string, f: Field): string | undefined => {
  const [range, step, ...extra] = raw.split('/');
  if (extra.length) return `"${raw}" has more than one /`;
  if (step !== undefined) {
    if (!f.step) return `"${raw}": ${f.name} takes no / increments`;
    if (!/^\d+$/.test(step) || Number(step) < 1 || Number(step) > f.max - f.min)
      return `"${raw}": the increment must be 1-${f.max - f.min}`;
  }
  if (range === '*') return undefined;
  const ends = range!.split('-');
  if (ends.length > 2 || ends.some((e) => e === '')) return `"${raw}" is not a value or a range a-b`;
  const [a, b] = ends.map((e) => value(e, f));
  if (typeof a === 'string') return a;
  if (typeof b === 'string') return b;
  if (b !== undefined && b < a!)
    return `"${raw}": a range runs from low to high (list wrapped values with ,)`;
  return undefined;
};

const field = (raw: string, f: Field, i: number): string | undefined => {
  if (raw === '?') return f.any ? undefined : `? is only allowed in day-of-month and day-of-week`;
  const upper = raw.toUpperCase();
  // L, W and # stand alone: they cannot be combined with lists or ranges.
  if (i === DOM && upper === 'L') return undefined;
  if (i === DOM && /W$/.test(upper)) {
    const day = value(upper.slice(0, -1), f);
    return typeof day === 'string'
      ? `"${raw}": W follows a day of the month (3W = the weekday nearest the 3rd); ${day}`
      : undefined;
  }
  if (i === DOW && upper === 'L') return undefined;
  if (i === DOW && /L$/.test(upper)) {
    const day = value(upper.slice(0, -1), f);
    return typeof day === 'string'
      ? `"${raw}": L follows a day of the week (6L = the last Friday); ${day}`
      : undefined;
  }
  if (i === DOW && upper.includes('#')) {
    const [day, nth, ...extra] = upper.split('#');
    const d = value(day!, f);
    if (typeof d === 'string' || extra.length || !/^[1-5]$/.test(nth ?? ''))
      return `"${raw}": # takes a day and its occurrence in the month, 1-5 (3#2 = the second Tuesday)`;
    return undefined;
  }
  if (raw.includes('?')) return `"${raw}": ? must be the whole field`;
  for (const part of raw.split(',')) {
    if (part === '') return `"${raw}" has an empty list item`;
    const problem = item(part, f);
    if (problem) return problem;
  }
  return undefined;
};

const cronProblem = (inner: string): string | undefined => {
  const parts = inner.trim().split(/\s+/);
  if (parts.length !== 6) {
    const base = `cron takes 6 fields (minutes hours day-of-month month day-of-week year), got ${parts.length}`;
    if (parts.length === 5) {
      // A Unix cron line: add the year, and put ? in whichever day field is * (the other one is kept).
      const [mi, h, dom, mo, dow] = parts;
      const fixed =
        dow === '*' ? [mi, h, dom, mo, '?', '*'] : dom === '*' ? [mi, h, '?', mo, dow, '*'] : undefined;
      const candidate = fixed?.join(' ');
      if (candidate && !cronProblem(candidate))
        return `${base}: EventBridge adds a year field and needs ? in one day field, did you mean cron(${candidate})?`;
      return `${base}: add the year field, and ? in day-of-month or day-of-week`;
    }
    if (parts.length === 7) return `${base}: EventBridge has no seconds field, drop the first one`;
    return `${base}: ${EXAMPLE}`;
  }
  for (const [i, f] of FIELDS.entries()) {
    const problem = field(parts[i]!, f, i);
    if (problem) return `${f.name} field: ${problem}`;
  }
  const dom = parts[DOM]!;
  const dow = parts[DOW]!;
  if (dom === '?' && dow === '?')
    return 'day-of-month and day-of-week cannot both be ?: give one of them a value or *';
  if (dom !== '?' && dow !== '?') {
    const fixed = [...parts];
    fixed[dow === '*' ? DOW : DOM] = '?';
    return `day-of-month (${dom}) and day-of-week (${dow}) cannot both be set: one of them must be ?, e.g. cron(${fixed.join(' ')})`;
  }
  return undefined;
};

const UNITS = ['minute', 'hour', 'day'] as const;

const rateProblem = (inner: string): string | undefined => {
  const parts = inner.trim().split(/\s+/);
  const [amount, unit] = parts;
  if (parts.length !== 2 || !amount || !unit)
    return 'rate takes a value and a unit: rate(1 hour), rate(15 minutes), rate(7 days)';
  if (!/^\d+$/.test(amount) || Number(amount) < 1)
    return `rate value "${amount}" must be a positive whole number`;
  const n = Number(amount);
  const singular = unit.replace(/s$/, '');
  if (!(UNITS as readonly string[]).includes(singular))
    return `rate unit "${unit}" must be minute(s), hour(s) or day(s)`;
  const right = n === 1 ? singular : `${singular}s`;
  if (unit !== right)
    return `rate(${n} ${unit}): the unit is ${n === 1 ? 'singular for 1' : 'plural above 1'}, rate(${n} ${right})`;
  return undefined;
};

const atProblem = (inner: string): string | undefined => {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(inner.trim());
  if (!m) {
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(inner.trim());
    return zoned
      ? `at(${inner}): no offset in the expression; it runs in the schedule's time zone (timezone, default UTC)`
      : `at(${inner}) must be at(yyyy-mm-ddThh:mm:ss), e.g. at(2030-01-31T03:00:00)`;
  }
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (
    t.getUTCFullYear() !== y ||
    t.getUTCMonth() !== mo - 1 ||
    t.getUTCDate() !== d ||
    h > 23 ||
    mi > 59 ||
    s > 59
  )
    return `at(${inner}) is not a real date and time`;
  return undefined;
};

/** Why `expression` is not a valid EventBridge Scheduler expression, with the fix; undefined when it is. */
export const scheduleProblem = (expression: string): string | undefined => {
  const m = /^(cron|rate|at)\((.*)\)$/s.exec(expression);
  if (!m) return `"${expression}" must be cron(...), rate(...) or at(...): ${EXAMPLE}, rate(1 hour)`;
  const [, kind, inner] = m as unknown as [string, 'cron' | 'rate' | 'at', string];
  return kind === 'cron' ? cronProblem(inner) : kind === 'rate' ? rateProblem(inner) : atProblem(inner);
};
