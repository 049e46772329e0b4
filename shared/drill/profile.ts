import * as v from '../valid.js';
import { ConfigError, formatIssues } from '../errors.js';

/**
 * The most a verification may take: the verifier is a Lambda (900 s at most), which also connects, reads
 * the secret and returns its result.
 */
export const MAX_BUDGET_SECONDS = 840;

/** A bare SQL identifier; names are quoted exactly as written, so `Users` and `users` differ. */
export const SqlIdentifier = v
  .string()
  .check(
    v.regex(
      /^[A-Za-z_][A-Za-z0-9_]*$/,
      'must be an identifier: letters, digits and underscores, not starting with a digit',
    ),
    v.maxLength(63, 'PostgreSQL truncates identifiers longer than 63 bytes'),
  );

/** `table` (resolved through search_path) or `schema.table`. */
export const TableName = v
  .string()
  .check(
    v.regex(
      /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/,
      'must be table or schema.table: letters, digits and underscores',
    ),
  );

/** `col`, `col desc`, `a, b asc`: columns only, so an ORDER BY can be quoted safely. */
export const OrderBy = v
  .string()
  .check(
    v.regex(
      /^\s*[A-Za-z_][A-Za-z0-9_]*(\s+(asc|desc))?(\s*,\s*[A-Za-z_][A-Za-z0-9_]*(\s+(asc|desc))?)*\s*$/i,
      'must be a comma-separated list of columns, each optionally followed by asc or desc',
    ),
  );

export const TableCheck = v.strictObject({
  name: TableName,
  minRows: v.optional(v.int().check(v.minimum(0))),
  /** Expected row count; when absent the engine uses the baseline of the last successful drill. */
  baselineRows: v.optional(v.int().check(v.minimum(0))),
  /** Allowed drop below the baseline, in percent; growth is never a failure (data grows between drills). */
  tolerancePct: v._default(v.number().check(v.minimum(0), v.maximum(100)), 5),
  /** A timestamp column; `max()` of it is the newest row the restore contains (data RPO). */
  freshnessColumn: v.optional(SqlIdentifier),
  /** md5 over the first `sampleRows` rows by `orderBy`: use a unique, append-only order such as the primary key. */
  checksum: v.optional(
    v.strictObject({ sampleRows: v.int().check(v.minimum(1), v.maximum(1_000_000)), orderBy: OrderBy }),
  ),
  /** Count exactly only up to this heap size; larger tables are estimated. Default: the profile's. */
  exactCountMaxBytes: v.optional(v.int().check(v.minimum(0))),
  /**
   * An indexed integer column for key-range probes (exact counts of key ranges, compared with the last
   * passed drill's). Default: the table's primary key when it is one integer column.
   */
  key: v.optional(SqlIdentifier),
});
export type TableCheck = v.infer<typeof TableCheck>;

export const SqlAssertion = v.strictObject({
  name: v.string().check(v.minLength(1), v.maxLength(200)),
  /** Must return exactly one row with one boolean column; runs in a read-only session. */
  sql: v.string().check(v.minLength(1)),
  /** Its time bound; default the profile's `statementTimeoutMs`. Not finished by then: inconclusive, not failed. */
  timeoutSeconds: v.optional(v.number().check(v.positive(), v.maximum(MAX_BUDGET_SECONDS))),
  /** Its declared cost: EXPLAIN first, and do not run it when the planner's total cost is higher. */
  maxCost: v.optional(v.number().check(v.positive())),
});
export type SqlAssertion = v.infer<typeof SqlAssertion>;

/** What a DR drill checks in the restored database. */
export const VerificationProfile = v
  .object({
    database: v.string().check(v.minLength(1), v.maxLength(63)),
    /** Schemas that must exist. */
    schemas: v._default(v.array(SqlIdentifier), []),
    tables: v._default(v.array(TableCheck), []),
    assertions: v._default(v.array(SqlAssertion), []),
    /** The drill fails when the data RPO (reference time − newest row) exceeds this. */
    rpoTargetSeconds: v.optional(v.number().check(v.positive())),
    connectTimeoutMs: v._default(v.int().check(v.positive()), 10_000),
    /** Each check's time bound (server-side statement_timeout), capped by what is left of `budgetSeconds`. */
    statementTimeoutMs: v._default(v.int().check(v.positive()), 120_000),
    /** The whole verification's time budget; a check that the budget cannot cover is "not finished". */
    budgetSeconds: v._default(v.number().check(v.positive(), v.maximum(MAX_BUDGET_SECONDS)), 600),
    /** Tables whose heap is larger are not counted but estimated (planner statistics plus samples). */
    exactCountMaxBytes: v._default(v.int().check(v.minimum(0)), 2 * 1024 ** 3),
    /** Random pages an estimated table's sample check reads (every row on them is counted, by TID). */
    samplePages: v._default(v.int().check(v.minimum(1), v.maximum(1_000_000)), 1000),
    /** Key ranges probed per table with a key; 0 turns probes off. */
    probes: v._default(v.int().check(v.minimum(0), v.maximum(20)), 3),
    /** Rows each probed key range spans (about). */
    probeRows: v._default(v.int().check(v.minimum(1), v.maximum(10_000_000)), 10_000),
  })
  .check(
    v.crossCheck(['tables', 'assertions'], (p, ctx) => {
      const dup = (values: string[]) => values.filter((v, i) => values.indexOf(v) !== i);
      for (const name of new Set(dup(p.tables.map((t) => t.name)))) {
        ctx.addIssue({ code: 'custom', path: ['tables'], message: `table "${name}" is listed twice` });
      }
      for (const name of new Set(dup(p.assertions.map((a) => a.name)))) {
        ctx.addIssue({
          code: 'custom',
          path: ['assertions'],
          message: `assertion "${name}" is listed twice`,
        });
      }
    }),
  );
export type VerificationProfile = v.infer<typeof VerificationProfile>;
export type VerificationProfileInput = v.input<typeof VerificationProfile>;

/** Parse a profile, applying defaults; throws one ConfigError naming every bad field. */
export const parseVerificationProfile = (raw: unknown): VerificationProfile => {
  const r = VerificationProfile.safeParse(raw);
  if (!r.success) throw new ConfigError('Invalid verification profile', formatIssues(r.error.issues));
  return r.data;
};
