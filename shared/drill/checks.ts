import { StewardError } from '../errors.js';
import type { SqlAssertion, TableCheck, VerificationProfile } from './profile.js';

export type CheckKind =
  | 'connect'
  | 'schema'
  | 'table'
  | 'row-count'
  | 'sample'
  | 'probe'
  | 'freshness'
  | 'assertion'
  | 'checksum'
  // Redis (./redis/): keys per logical database, keys that must exist, SCAN MATCH patterns, TTLs.
  | 'key-count'
  | 'key'
  | 'pattern'
  | 'ttl';
export type Measure = string | number | boolean | null;

/**
 * `unfinished`: the check did not finish within its time bound (or the verification budget had no time
 * left for it). That is missing evidence, not evidence of a bad backup: it makes a drill INCONCLUSIVE,
 * never FAILED.
 */
export type CheckStatus = 'passed' | 'failed' | 'unfinished';

/** How a row count was obtained. */
export type CountMethod = 'exact' | 'estimate' | 'sample';

/** One verification check as the report carries it. */
export interface CheckResult {
  name: string;
  kind: CheckKind;
  /** True only for `status: passed`. */
  passed: boolean;
  status: CheckStatus;
  measured: Measure;
  expected: Measure;
  detail: string;
  ms: number;
  /** The check's time bound: its own bound, capped by what was left of the verification budget. */
  budgetMs?: number;
  /** Row counts: exact, planner estimate or sample extrapolation. */
  method?: CountMethod;
}

/** Outcome of a pure evaluation; the engine adds name, kind and timing. */
export type Evaluation = Pick<CheckResult, 'passed' | 'measured' | 'expected' | 'detail'> &
  Partial<Pick<CheckResult, 'status' | 'method'>>;

/** Passed, failed (something is wrong with the restored data) or inconclusive (some check did not finish). */
export type VerificationOutcome = 'passed' | 'failed' | 'inconclusive';

/** Any failed check fails; otherwise any unfinished check makes it inconclusive. */
export const checksOutcome = (checks: readonly Pick<CheckResult, 'status'>[]): VerificationOutcome =>
  checks.some((c) => c.status === 'failed')
    ? 'failed'
    : checks.some((c) => c.status === 'unfinished')
      ? 'inconclusive'
      : 'passed';

/** A check that did not finish within `boundMs`. */
export const unfinished = (why: string): Evaluation => ({
  passed: false,
  status: 'unfinished',
  measured: null,
  expected: null,
  detail: why,
});

/** `12.5 s` or `250 ms`. */
export const formatMs = (ms: number): string =>
  ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${ms} ms`;

/** Why a check did not start: the verification budget is spent. */
export const budgetSpent = (budgetMs: number): Evaluation =>
  unfinished(`not run: the verification budget of ${formatMs(budgetMs)} is spent`);

/** `not finished in 2 min`, saying when the bound was what was left of the budget rather than its own. */
export const notFinishedIn = (checkMs: number, ownMs: number): string =>
  `not finished in ${formatMs(checkMs)}${checkMs < ownMs ? ' (what was left of the verification budget)' : ''}`;

/** A check as the report carries it: its evaluation and timing, with `secrets` removed from the detail. */
export const checkResult = (
  p: Pick<CheckResult, 'name' | 'kind'>,
  e: Evaluation,
  timing: { ms: number; budgetMs: number },
  secrets: readonly (string | undefined)[],
): CheckResult => {
  const status = e.status ?? (e.passed ? 'passed' : 'failed');
  return {
    ...p,
    passed: status === 'passed',
    status,
    measured: e.measured,
    expected: e.expected,
    detail: redact(e.detail, secrets),
    ms: Math.round(timing.ms),
    budgetMs: timing.budgetMs,
    ...(e.method ? { method: e.method } : {}),
  };
};

/** A name that would need more than quoting to be safe; the profile schema rejects these earlier. */
export class UnsafeIdentifierError extends StewardError {
  override name = 'UnsafeIdentifierError';
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TABLE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/** Quote one identifier after checking it is a plain identifier (defence in depth: also quoted). */
export const quoteIdent = (name: string): string => {
  if (!IDENT.test(name))
    throw new UnsafeIdentifierError(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  return `"${name.replace(/"/g, '""')}"`;
};

/** Quote `table` or `schema.table`. */
export const quoteTable = (name: string): string => {
  if (!TABLE.test(name))
    throw new UnsafeIdentifierError(`not a table or schema.table name: ${JSON.stringify(name)}`);
  return name.split('.').map(quoteIdent).join('.');
};

/** Quote an ORDER BY list (`a, b desc`), prefixing each column with `alias.` when given. */
export const quoteOrderBy = (orderBy: string, alias?: string): string => {
  const parts = orderBy.split(',').map((p) => p.trim().split(/\s+/));
  if (
    !parts.length ||
    parts.some((p) => p.length > 2 || (p[1] !== undefined && !/^(asc|desc)$/i.test(p[1])))
  ) {
    throw new UnsafeIdentifierError(`not an ORDER BY column list: ${JSON.stringify(orderBy)}`);
  }
  return parts
    .map(
      ([col = '', dir]) =>
        `${alias ? `${alias}.` : ''}${quoteIdent(col)}${dir ? ` ${dir.toLowerCase()}` : ''}`,
    )
    .join(', ');
};

/** SQL text of every query the engine runs; table and column names quoted, values bound. */
export const sql = {
  schemaExists: 'select exists(select 1 from pg_catalog.pg_namespace where nspname = $1) as ok',
  /** Bind `quoteTable(name)`: to_regclass parses quoted names and honours search_path. */
  tableExists: 'select to_regclass($1) is not null as ok',
  count: (table: string) => `select count(*)::text as n from ${quoteTable(table)}`,
  /** Bind `quoteTable(name)`. Heap size now, and the statistics the planner would scale by it. */
  relationStats:
    'select pg_relation_size(c.oid)::text as bytes, current_setting($2)::int as block_size,' +
    ' c.reltuples::float8 as reltuples, c.relpages::int as relpages from pg_catalog.pg_class c where c.oid = to_regclass($1)',
  analyze: (table: string) => `analyze ${quoteTable(table)}`,
  /**
   * Every live row on the pages `$1` (block numbers): a TID scan of all `$2` line pointers a page can
   * hold, so exactly those pages are read, empty ones included.
   */
  samplePages: (table: string) =>
    `select count(*)::text as n from ${quoteTable(table)} where ctid = any(array(` +
    `select format('(%s,%s)', b, i)::tid from unnest($1::int8[]) b, generate_series(1, $2::int) i))`,
  /** Bind `quoteTable(name)`: the column of a one-column integer primary key, if any. */
  integerPrimaryKey:
    'select a.attname as key from pg_catalog.pg_index i join pg_catalog.pg_attribute a' +
    ' on a.attrelid = i.indrelid and a.attnum = i.indkey[0]' +
    " where i.indrelid = to_regclass($1) and i.indisprimary and i.indnatts = 1 and a.atttypid in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)",
  /** min and max of the key (two index endpoint reads when the key is indexed). */
  keyRange: (table: string, key: string) =>
    `select min(${quoteIdent(key)})::text as lo, max(${quoteIdent(key)})::text as hi from ${quoteTable(table)}`,
  /** Bind the range [$1, $2). */
  probe: (table: string, key: string) =>
    `select count(*)::text as n from ${quoteTable(table)} where ${quoteIdent(key)} >= $1::bigint and ${quoteIdent(key)} < $2::bigint`,
  /** `::timestamptz` in a UTC session reads `timestamp` columns as UTC and accepts `date`. */
  newest: (table: string, column: string) =>
    `select max(${quoteIdent(column)})::timestamptz as newest from ${quoteTable(table)}`,
  /** Bind the sample size as $1. The aggregate orders again: a subquery's order is not guaranteed to survive. */
  checksum: (table: string, orderBy: string) =>
    `select md5(coalesce(string_agg(t::text, E'\\n' order by ${quoteOrderBy(orderBy, 't')}), '')) as checksum,` +
    ` count(*)::int as n from (select * from ${quoteTable(table)} order by ${quoteOrderBy(orderBy)} limit $1) t`,
} as const;

/** The checks a profile plans, in the order the engine runs them. */
export const plannedChecks = (p: VerificationProfile): Pick<CheckResult, 'name' | 'kind'>[] => [
  { name: 'connect', kind: 'connect' },
  ...p.schemas.map((s) => ({ name: `schema ${s}`, kind: 'schema' as const })),
  ...p.tables.map((t) => ({ name: `table ${t.name}`, kind: 'table' as const })),
  ...p.tables.map((t) => ({ name: `row-count ${t.name}`, kind: 'row-count' as const })),
  ...p.tables
    .filter((t) => t.freshnessColumn)
    .map((t) => ({ name: `freshness ${t.name}`, kind: 'freshness' as const })),
  ...p.tables
    .filter((t) => t.checksum)
    .map((t) => ({ name: `checksum ${t.name}`, kind: 'checksum' as const })),
  ...p.assertions.map((a: SqlAssertion) => ({ name: `assertion ${a.name}`, kind: 'assertion' as const })),
];

/** A planned check that did not run, failed with the reason (or unfinished, when time ran out). */
export const notRun = (
  c: Pick<CheckResult, 'name' | 'kind'>,
  reason: string,
  status: Exclude<CheckStatus, 'passed'> = 'failed',
): CheckResult => ({
  ...c,
  passed: false,
  status,
  measured: null,
  expected: null,
  detail: `not run: ${reason}`,
  ms: 0,
});

/** The lowest count that passes: the minimum and the allowed drop below the baseline, whichever is higher. */
export const countFloor = (
  min: number | undefined,
  baseline: number | undefined,
  tolerancePct: number,
): number => Math.max(min ?? 0, baseline === undefined ? 0 : Math.ceil(baseline * (1 - tolerancePct / 100)));

/**
 * A count (rows, keys) against a minimum (`minName` in the text) and a baseline less its tolerance: the floor,
 * the expectation as the report shows it, and how the count compares with the baseline.
 */
export const countAgainst = (
  count: number,
  c: { min?: number | undefined; minName: string; baseline?: number | undefined; tolerancePct: number },
): { floor: number; expected: string; vsBaseline: string } => {
  const parts = [
    ...(c.min !== undefined ? [`>= ${c.min} (${c.minName})`] : []),
    ...(c.baseline !== undefined
      ? [
          `>= ${countFloor(undefined, c.baseline, c.tolerancePct)} (baseline ${c.baseline} - ${c.tolerancePct}%)`,
        ]
      : []),
  ];
  return {
    floor: countFloor(c.min, c.baseline, c.tolerancePct),
    expected: parts.length ? parts.join(', ') : `any (no ${c.minName}, no baseline)`,
    vsBaseline:
      c.baseline === undefined
        ? ''
        : `; ${formatPct(c.baseline === 0 ? 0 : ((count - c.baseline) / c.baseline) * 100)} vs baseline ${c.baseline}`,
  };
};

/** The lowest row count that passes: minRows and the allowed drop below the baseline, whichever is higher. */
export const rowFloor = (t: TableCheck, baselineRows?: number): number =>
  countFloor(t.minRows, baselineRows, t.tolerancePct);

/** Row count against minRows and the baseline; only a drop fails, since tables grow between drills. */
export const evaluateRowCount = (
  t: TableCheck,
  rows: number,
  baselineRows?: number,
  method: CountMethod = 'exact',
  how?: string,
): Evaluation => {
  const { floor, expected, vsBaseline } = countAgainst(rows, {
    min: t.minRows,
    minName: 'minRows',
    baseline: baselineRows,
    tolerancePct: t.tolerancePct,
  });
  const passed = rows >= floor;
  const counted = method === 'exact' ? `${rows} rows` : `~${rows} rows (${method}${how ? `: ${how}` : ''})`;
  return {
    passed,
    method,
    measured: rows,
    expected,
    detail: passed
      ? `${counted}${vsBaseline}`
      : `${counted} is below ${floor}${vsBaseline}${baselineRows !== undefined && rows < baselineRows ? ': rows lost' : ''}`,
  };
};

/** Planner statistics of a table, and its heap size now. */
export interface RelationStats {
  bytes: number;
  blockSize: number;
  /** -1 when never analyzed (PostgreSQL 14+). */
  reltuples: number;
  relpages: number;
}

/** Pages in the heap now. */
export const heapPages = (s: RelationStats): number => Math.ceil(s.bytes / s.blockSize);

/**
 * The planner's row estimate: its rows-per-page density (reltuples / relpages, from the last ANALYZE)
 * times the pages the heap has now. Undefined when the table has no statistics.
 */
export const estimateRows = (s: RelationStats): number | undefined => {
  const pages = heapPages(s);
  if (pages === 0) return 0;
  if (s.reltuples < 0 || s.relpages <= 0) return undefined;
  return Math.round((s.reltuples / s.relpages) * pages);
};

/** Line pointers a heap page can hold (MaxHeapTuplesPerPage): 291 for 8 KB pages. */
export const maxTuplesPerPage = (blockSize: number): number => Math.floor((blockSize - 24) / (24 + 4));

/**
 * `count` distinct page numbers of [0, pages), chosen at random but the same for the same seed, in
 * ascending order; every page when the heap has no more than `count`. Pure.
 */
export const samplePageNumbers = (pages: number, count: number, seed: number): number[] => {
  if (pages <= count) return Array.from({ length: pages }, (_, i) => i);
  const picked = new Set<number>();
  let x = seed >>> 0 || 1;
  // xorshift32: cheap, seedable, good enough to spread pages.
  while (picked.size < count) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    picked.add(Math.floor((x / 4294967296) * pages));
  }
  return [...picked].sort((a, b) => a - b);
};

/** Rows a sample of `sampledPages` pages (with `rows` live rows) extrapolates to over `totalPages`. */
export const extrapolate = (rows: number, sampledPages: number, totalPages: number): number =>
  sampledPages === 0 ? 0 : Math.round((rows / sampledPages) * totalPages);

/**
 * The sampled check of an estimated table: every row on `samplePages` random pages is read (empty pages
 * count as empty), and the count they extrapolate to must clear the same floor as the row count. An
 * independent check of the planner's estimate, whose statistics can be stale when ANALYZE could not run.
 */
export const evaluateSample = (
  t: TableCheck,
  sampled: { rows: number; pages: number; totalPages: number },
  baselineRows: number | undefined,
  estimate: number,
): Evaluation => {
  const rows = extrapolate(sampled.rows, sampled.pages, sampled.totalPages);
  const floor = rowFloor(t, baselineRows);
  const vsEstimate =
    estimate === 0 ? '' : `, ${formatPct(((rows - estimate) / estimate) * 100)} vs the estimate`;
  const passed = rows >= floor;
  return {
    passed,
    method: 'sample',
    measured: rows,
    expected: `>= ${floor}`,
    detail:
      `${sampled.rows} rows on ${sampled.pages} random pages of ${sampled.totalPages} (every row read) → ~${rows} rows${vsEstimate}` +
      (passed ? '' : `: below ${floor}, rows lost`),
  };
};

/** One key range [from, to) and its exact row count. Keys are decimal strings (bigint-safe). */
export interface Probe {
  from: string;
  to: string;
  rows: number;
}

/**
 * `count` ranges of the key space [lo, hi], each about `rowsPerRange` rows wide (by the key's density),
 * evenly spread with the last one ending at the newest key. Pure and deterministic.
 */
export const planProbes = (
  lo: bigint,
  hi: bigint,
  estimatedRows: number,
  count: number,
  rowsPerRange: number,
): Omit<Probe, 'rows'>[] => {
  if (count <= 0 || hi < lo) return [];
  const span = hi - lo + 1n;
  const rows = BigInt(Math.max(1, Math.round(estimatedRows)));
  let width = (span * BigInt(rowsPerRange) + rows - 1n) / rows;
  if (width < 1n) width = 1n;
  if (width * BigInt(count) >= span) return [{ from: lo.toString(), to: (hi + 1n).toString() }];
  const last = hi + 1n - width;
  const out: Omit<Probe, 'rows'>[] = [];
  for (let i = 0; i < count; i++) {
    const start = count === 1 ? last : lo + ((last - lo) * BigInt(i)) / BigInt(count - 1);
    out.push({ from: start.toString(), to: (start + width).toString() });
  }
  return out;
};

/**
 * Key-range probes against the same ranges of the last passed drill: a range may not lose more than
 * the table's tolerance. New ranges are recorded for the next drill.
 */
export const evaluateProbes = (
  t: TableCheck,
  key: string,
  compared: readonly (Probe & { baseline: number })[],
  recorded: readonly Probe[],
): Evaluation => {
  const lost = compared.filter((p) => p.rows < Math.ceil(p.baseline * (1 - t.tolerancePct / 100)));
  const range = (p: Probe) => `[${p.from}, ${p.to})`;
  const passed = lost.length === 0;
  const total = [...compared, ...recorded].reduce((n, p) => n + p.rows, 0);
  return {
    passed,
    measured: total,
    expected: compared.length ? `each range >= its baseline - ${t.tolerancePct}%` : null,
    detail: passed
      ? `${compared.length ? `${compared.length} ranges of ${key} match the last passed drill; ` : ''}` +
        `${recorded.length} ranges recorded: ${recorded.map((p) => `${range(p)} ${p.rows}`).join(', ')}`
      : `rows lost in ${lost.length} of ${compared.length} ranges of ${key}: ` +
        lost.map((p) => `${range(p)} ${p.rows} < baseline ${p.baseline}`).join(', '),
  };
};

const formatPct = (pct: number) => `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;

/** `1.2 GB`, `640 MB`: decimal units, or binary ones (still written KB, MB, GB) with `base` 1024. */
export const formatBytes = (n: number, base: 1000 | 1024 = 1000): string => {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  return `${Number(v.toFixed(1))} ${units[i]}`;
};

/** Freshness evaluation plus the data RPO it measured (seconds; absent when the table is empty). */
export type FreshnessEvaluation = Evaluation & { rpoSeconds?: number; newest?: string };

/** Data RPO of one table: reference time − newest row time, never negative. */
export const evaluateFreshness = (
  newest: Date | null,
  referenceTime: Date,
  rpoTargetSeconds?: number,
  /** What `newest` is the time of, in the detail: a table's newest row, a cache's newest write. */
  what = 'row',
): FreshnessEvaluation => {
  const expected =
    rpoTargetSeconds === undefined ? 'recorded (no rpoTargetSeconds)' : `<= ${rpoTargetSeconds} s`;
  if (!newest || Number.isNaN(newest.getTime())) {
    return { passed: false, measured: null, expected, detail: 'no rows: the newest row time is unknown' };
  }
  const lagMs = referenceTime.getTime() - newest.getTime();
  const rpoSeconds = Math.max(0, lagMs) / 1000;
  const passed = rpoTargetSeconds === undefined || rpoSeconds <= rpoTargetSeconds;
  const ahead =
    lagMs < 0 ? ` (newest ${what} is ${-lagMs / 1000} s after the reference time: clock skew?)` : '';
  return {
    passed,
    measured: rpoSeconds,
    expected,
    rpoSeconds,
    newest: newest.toISOString(),
    detail: `newest ${what} ${newest.toISOString()}, reference ${referenceTime.toISOString()}: data RPO ${rpoSeconds} s${ahead}${
      passed ? '' : ` exceeds the ${rpoTargetSeconds} s target`
    }`,
  };
};

/** The worst (largest) data RPO over tables, with the newest row time of that table. */
export const worstRpo = (
  evaluations: readonly FreshnessEvaluation[],
): { dataRpoSeconds: number; newestRowTime: string } | undefined => {
  let worst: FreshnessEvaluation | undefined;
  for (const e of evaluations) {
    if (e.rpoSeconds !== undefined && (worst?.rpoSeconds === undefined || e.rpoSeconds > worst.rpoSeconds))
      worst = e;
  }
  return worst?.rpoSeconds === undefined || worst.newest === undefined
    ? undefined
    : { dataRpoSeconds: worst.rpoSeconds, newestRowTime: worst.newest };
};

/** A custom assertion's result must be exactly one row with one boolean column. */
export const evaluateAssertion = (rows: readonly unknown[][], columns: number): Evaluation => {
  const expected = 'one row, one boolean column, true';
  if (rows.length !== 1 || columns !== 1) {
    return {
      passed: false,
      measured: null,
      expected,
      detail: `returned ${rows.length} row(s) with ${columns} column(s); expected exactly one row with one boolean column`,
    };
  }
  const v = rows[0]?.[0];
  if (typeof v !== 'boolean') {
    return {
      passed: false,
      measured: v === null || v === undefined ? null : String(v),
      expected,
      detail: `returned ${v === null ? 'NULL' : `${typeof v} ${JSON.stringify(v)}`}, not a boolean`,
    };
  }
  return { passed: v, measured: v, expected, detail: v ? 'holds' : 'returned false' };
};

/** Sampled checksum against the baseline's; without a baseline it is recorded and passes. */
export const evaluateChecksum = (checksum: string, sampled: number, baseline?: string): Evaluation => {
  if (baseline === undefined) {
    return {
      passed: true,
      measured: checksum,
      expected: null,
      detail: `md5 of ${sampled} sampled rows recorded (no baseline to compare)`,
    };
  }
  const passed = checksum === baseline;
  return {
    passed,
    measured: checksum,
    expected: baseline,
    detail: passed
      ? `md5 of ${sampled} sampled rows matches the baseline`
      : `md5 of ${sampled} sampled rows differs from the baseline: sampled rows changed or are missing`,
  };
};

/** Remove secrets from text: each given value, and the password of any URL with credentials. */
export const redact = (text: string, secrets: readonly (string | undefined)[]): string => {
  let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@');
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
};

/** Remove a secret from anything a verification engine returned, including its JSON escaping. */
export const scrub = <T>(value: T, secret: string): T => {
  const json = JSON.stringify(value);
  const escaped = JSON.stringify(secret).slice(1, -1);
  return json.includes(escaped) ? (JSON.parse(redact(json, [escaped])) as T) : value;
};
