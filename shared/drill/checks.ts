import { StewardError } from '../errors.js';
import type { SqlAssertion, TableCheck, VerificationProfile } from './profile.js';

export type CheckKind = 'connect' | 'schema' | 'table' | 'row-count' | 'freshness' | 'assertion' | 'checksum';
export type Measure = string | number | boolean | null;

/** One verification check as the report carries it. */
export interface CheckResult {
  name: string;
  kind: CheckKind;
  passed: boolean;
  measured: Measure;
  expected: Measure;
  detail: string;
  ms: number;
}

/** Outcome of a pure evaluation; the engine adds name, kind and timing. */
export type Evaluation = Pick<CheckResult, 'passed' | 'measured' | 'expected' | 'detail'>;

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

/** A planned check that did not run, failed with the reason. */
export const notRun = (c: Pick<CheckResult, 'name' | 'kind'>, reason: string): CheckResult => ({
  ...c,
  passed: false,
  measured: null,
  expected: null,
  detail: `not run: ${reason}`,
  ms: 0,
});

/** The lowest row count that passes: minRows and the allowed drop below the baseline, whichever is higher. */
export const rowFloor = (t: TableCheck, baselineRows?: number): number => {
  const fromBaseline = baselineRows === undefined ? 0 : Math.ceil(baselineRows * (1 - t.tolerancePct / 100));
  return Math.max(t.minRows ?? 0, fromBaseline);
};

/** Row count against minRows and the baseline; only a drop fails, since tables grow between drills. */
export const evaluateRowCount = (t: TableCheck, rows: number, baselineRows?: number): Evaluation => {
  const floor = rowFloor(t, baselineRows);
  const expectedParts = [
    ...(t.minRows !== undefined ? [`>= ${t.minRows} (minRows)`] : []),
    ...(baselineRows !== undefined
      ? [
          `>= ${Math.ceil(baselineRows * (1 - t.tolerancePct / 100))} (baseline ${baselineRows} - ${t.tolerancePct}%)`,
        ]
      : []),
  ];
  const expected = expectedParts.length ? expectedParts.join(', ') : 'any (no minRows, no baseline)';
  const passed = rows >= floor;
  const vsBaseline =
    baselineRows === undefined
      ? ''
      : `; ${formatPct(baselineRows === 0 ? 0 : ((rows - baselineRows) / baselineRows) * 100)} vs baseline ${baselineRows}`;
  return {
    passed,
    measured: rows,
    expected,
    detail: passed
      ? `${rows} rows${vsBaseline}`
      : `${rows} rows is below ${floor}${vsBaseline}${baselineRows !== undefined && rows < baselineRows ? ': rows lost' : ''}`,
  };
};

const formatPct = (pct: number) => `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`;

/** Freshness evaluation plus the data RPO it measured (seconds; absent when the table is empty). */
export type FreshnessEvaluation = Evaluation & { rpoSeconds?: number; newest?: string };

/** Data RPO of one table: reference time − newest row time, never negative. */
export const evaluateFreshness = (
  newest: Date | null,
  referenceTime: Date,
  rpoTargetSeconds?: number,
): FreshnessEvaluation => {
  const expected =
    rpoTargetSeconds === undefined ? 'recorded (no rpoTargetSeconds)' : `<= ${rpoTargetSeconds} s`;
  if (!newest || Number.isNaN(newest.getTime())) {
    return { passed: false, measured: null, expected, detail: 'no rows: the newest row time is unknown' };
  }
  const lagMs = referenceTime.getTime() - newest.getTime();
  const rpoSeconds = Math.max(0, lagMs) / 1000;
  const passed = rpoTargetSeconds === undefined || rpoSeconds <= rpoTargetSeconds;
  const ahead = lagMs < 0 ? ` (newest row is ${-lagMs / 1000} s after the reference time: clock skew?)` : '';
  return {
    passed,
    measured: rpoSeconds,
    expected,
    rpoSeconds,
    newest: newest.toISOString(),
    detail: `newest row ${newest.toISOString()}, reference ${referenceTime.toISOString()}: data RPO ${rpoSeconds} s${ahead}${
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
