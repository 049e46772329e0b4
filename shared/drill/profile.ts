import * as z from '../zod.js';
import { ConfigError, formatIssues } from '../errors.js';
import { crossCheck, strictObject } from '../config/strict.js';

/**
 * The most a verification may take: the verifier is a Lambda (900 s at most), which also connects, reads
 * the secret and returns its result.
 */
export const MAX_BUDGET_SECONDS = 840;

/** A bare SQL identifier; names are quoted exactly as written, so `Users` and `users` differ. */
export const SqlIdentifier = z
  .string()
  .check(
    z.regex(
      /^[A-Za-z_][A-Za-z0-9_]*$/,
      'must be an identifier: letters, digits and underscores, not starting with a digit',
    ),
    z.maxLength(63, 'PostgreSQL truncates identifiers longer than 63 bytes'),
  );

/** `table` (resolved through search_path) or `schema.table`. */
export const TableName = z
  .string()
  .check(
    z.regex(
      /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/,
      'must be table or schema.table: letters, digits and underscores',
    ),
  );

/** `col`, `col desc`, `a, b asc`: columns only, so an ORDER BY can be quoted safely. */
export const OrderBy = z
  .string()
  .check(
    z.regex(
      /^\s*[A-Za-z_][A-Za-z0-9_]*(\s+(asc|desc))?(\s*,\s*[A-Za-z_][A-Za-z0-9_]*(\s+(asc|desc))?)*\s*$/i,
      'must be a comma-separated list of columns, each optionally followed by asc or desc',
    ),
  );

export const TableCheck = strictObject({
  name: TableName,
  minRows: z.optional(z.int().check(z.minimum(0))),
  /** Expected row count; when absent the engine uses the baseline of the last successful drill. */
  baselineRows: z.optional(z.int().check(z.minimum(0))),
  /** Allowed drop below the baseline, in percent; growth is never a failure (data grows between drills). */
  tolerancePct: z._default(z.number().check(z.minimum(0), z.maximum(100)), 5),
  /** A timestamp column; `max()` of it is the newest row the restore contains (data RPO). */
  freshnessColumn: z.optional(SqlIdentifier),
  /** md5 over the first `sampleRows` rows by `orderBy`: use a unique, append-only order such as the primary key. */
  checksum: z.optional(
    strictObject({ sampleRows: z.int().check(z.minimum(1), z.maximum(1_000_000)), orderBy: OrderBy }),
  ),
  /** Count exactly only up to this heap size; larger tables are estimated. Default: the profile's. */
  exactCountMaxBytes: z.optional(z.int().check(z.minimum(0))),
  /**
   * An indexed integer column for key-range probes (exact counts of key ranges, compared with the last
   * passed drill's). Default: the table's primary key when it is one integer column.
   */
  key: z.optional(SqlIdentifier),
});
export type TableCheck = z.infer<typeof TableCheck>;

export const SqlAssertion = strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  /** Must return exactly one row with one boolean column; runs in a read-only session. */
  sql: z.string().check(z.minLength(1)),
  /** Its time bound; default the profile's `statementTimeoutMs`. Not finished by then: inconclusive, not failed. */
  timeoutSeconds: z.optional(z.number().check(z.positive(), z.maximum(MAX_BUDGET_SECONDS))),
  /** Its declared cost: EXPLAIN first, and do not run it when the planner's total cost is higher. */
  maxCost: z.optional(z.number().check(z.positive())),
});
export type SqlAssertion = z.infer<typeof SqlAssertion>;

/** What a DR drill checks in the restored database. */
export const VerificationProfile = z
  .object({
    database: z.string().check(z.minLength(1), z.maxLength(63)),
    /** Schemas that must exist. */
    schemas: z._default(z.array(SqlIdentifier), []),
    tables: z._default(z.array(TableCheck), []),
    assertions: z._default(z.array(SqlAssertion), []),
    /** The drill fails when the data RPO (reference time − newest row) exceeds this. */
    rpoTargetSeconds: z.optional(z.number().check(z.positive())),
    connectTimeoutMs: z._default(z.int().check(z.positive()), 10_000),
    /** Each check's time bound (server-side statement_timeout), capped by what is left of `budgetSeconds`. */
    statementTimeoutMs: z._default(z.int().check(z.positive()), 120_000),
    /** The whole verification's time budget; a check that the budget cannot cover is "not finished". */
    budgetSeconds: z._default(z.number().check(z.positive(), z.maximum(MAX_BUDGET_SECONDS)), 600),
    /** Tables whose heap is larger are not counted but estimated (planner statistics plus samples). */
    exactCountMaxBytes: z._default(z.int().check(z.minimum(0)), 2 * 1024 ** 3),
    /** Random pages an estimated table's sample check reads (every row on them is counted, by TID). */
    samplePages: z._default(z.int().check(z.minimum(1), z.maximum(1_000_000)), 1000),
    /** Key ranges probed per table with a key; 0 turns probes off. */
    probes: z._default(z.int().check(z.minimum(0), z.maximum(20)), 3),
    /** Rows each probed key range spans (about). */
    probeRows: z._default(z.int().check(z.minimum(1), z.maximum(10_000_000)), 10_000),
  })
  .check(
    crossCheck(['tables', 'assertions'], (p, ctx) => {
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
export type VerificationProfile = z.infer<typeof VerificationProfile>;
export type VerificationProfileInput = z.input<typeof VerificationProfile>;

/** Parse a profile, applying defaults; throws one ConfigError naming every bad field. */
export const parseVerificationProfile = (raw: unknown): VerificationProfile => {
  const r = VerificationProfile.safeParse(raw);
  if (!r.success) throw new ConfigError('Invalid verification profile', formatIssues(r.error.issues));
  return r.data;
};
