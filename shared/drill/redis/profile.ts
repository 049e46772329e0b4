import * as v from '../../valid.js';
import { ConfigError, formatIssues } from '../../errors.js';
import { MAX_BUDGET_SECONDS } from '../profile.js';

/** The Redis value types TYPE answers with (modules' types are reported by their own names). */
export const RedisType = v.enum(['string', 'hash', 'list', 'set', 'zset', 'stream']);
export type RedisType = v.infer<typeof RedisType>;

/** A logical database number; ElastiCache (cluster mode disabled) has 16, numbered 0–15. */
export const RedisDb = v.int().check(v.minimum(0), v.maximum(15));

/**
 * A SCAN MATCH glob. Bounded to printable text without spaces so it can be sent as one RESP argument and
 * shown in reports as written.
 */
export const RedisPattern = v
  .string()
  .check(
    v.minLength(1),
    v.maxLength(256),
    v.regex(/^[\x21-\x7e]+$/, 'must be a glob of printable characters without spaces, such as session:*'),
  );

/** A key name as configured (printable, no spaces). */
export const RedisKeyName = RedisPattern;

/** Key count of one logical database against a baseline (configured, else the last passed drill's). */
export const RedisDbCheck = v.strictObject({
  db: v._default(RedisDb, 0),
  /** At least this many keys. */
  minKeys: v.optional(v.int().check(v.minimum(0))),
  /** Expected key count; when absent the engine uses the last passed drill's count. */
  baselineKeys: v.optional(v.int().check(v.minimum(0))),
  /** Allowed drop below the baseline, in percent (keys expire and are written between drills). */
  tolerancePct: v._default(v.number().check(v.minimum(0), v.maximum(100)), 10),
});
export type RedisDbCheck = v.infer<typeof RedisDbCheck>;

/** One key that must exist in the restored copy, with its type. */
export const RedisKeyCheck = v.strictObject({
  key: RedisKeyName,
  db: v._default(RedisDb, 0),
  type: RedisType,
});
export type RedisKeyCheck = v.infer<typeof RedisKeyCheck>;

/**
 * Keys matching a glob, found with SCAN MATCH (bounded: at most `maxScan` keys are walked). Each sampled key
 * must have `type`; with `mustExpire`, none may have lost its TTL.
 */
export const RedisPatternCheck = v.strictObject({
  /** Names the check in the report; default the pattern. */
  name: v.optional(v.string().check(v.minLength(1), v.maxLength(100))),
  match: RedisPattern,
  db: v._default(RedisDb, 0),
  /** At least this many keys match (counted while scanning, extrapolated when the scan stopped early). */
  minKeys: v._default(v.int().check(v.minimum(0)), 1),
  /** Every sampled key has this type. */
  type: v.optional(RedisType),
  /** Every sampled key has a TTL (sessions, rate-limit windows): one without is a lost TTL. */
  mustExpire: v._default(v.boolean(), false),
  /** Matching keys whose TYPE (and PTTL) are read. */
  sample: v._default(v.int().check(v.minimum(1), v.maximum(10_000)), 100),
  /** SCAN walks at most this many keys of the database for this pattern. */
  maxScan: v._default(v.int().check(v.minimum(1), v.maximum(1_000_000)), 100_000),
});
export type RedisPatternCheck = v.infer<typeof RedisPatternCheck>;

/**
 * Where the newest write is recorded: a string key holding epoch seconds, epoch milliseconds or an ISO
 * time, or a stream whose last entry id (`<ms>-<seq>`) is the newest event. Its age at the snapshot time is
 * the data RPO.
 */
export const RedisFreshness = v.strictObject({
  key: RedisKeyName,
  db: v._default(RedisDb, 0),
});
export type RedisFreshness = v.infer<typeof RedisFreshness>;

/** What a Redis drill checks in the restored replication group. */
export const RedisVerificationProfile = v
  .strictObject({
    /** Key counts per logical database (DBSIZE). Default: database 0 against the last passed drill. */
    databases: v._default(v.array(RedisDbCheck), [{ db: 0, tolerancePct: 10 }]),
    /** Keys that must exist with these types. */
    keys: v._default(v.array(RedisKeyCheck).check(v.maxLength(1000)), []),
    patterns: v._default(v.array(RedisPatternCheck).check(v.maxLength(100)), []),
    freshness: v.optional(RedisFreshness),
    /** The drill fails when the data RPO (reference time − newest write) exceeds this. */
    rpoTargetSeconds: v.optional(v.number().check(v.positive())),
    connectTimeoutMs: v._default(v.int().check(v.positive(), v.maximum(120_000)), 10_000),
    /** Each command's time bound. */
    commandTimeoutMs: v._default(v.int().check(v.positive(), v.maximum(600_000)), 30_000),
    /** The whole verification's time budget; a check the budget cannot cover is "not finished". */
    budgetSeconds: v._default(v.number().check(v.positive(), v.maximum(MAX_BUDGET_SECONDS)), 300),
    /** Keys asked per SCAN call (its COUNT hint). */
    scanCount: v._default(v.int().check(v.minimum(10), v.maximum(100_000)), 1000),
  })
  .check(
    v.crossCheck(['databases', 'patterns'], (p, ctx) => {
      const dbs = p.databases.map((d) => d.db);
      for (const db of new Set(dbs.filter((d, i) => dbs.indexOf(d) !== i))) {
        ctx.addIssue({ code: 'custom', path: ['databases'], message: `database ${db} is listed twice` });
      }
      const names = p.patterns.map((x) => x.name ?? x.match);
      for (const name of new Set(names.filter((n, i) => names.indexOf(n) !== i))) {
        ctx.addIssue({
          code: 'custom',
          path: ['patterns'],
          message: `pattern check "${name}" is listed twice: give one a distinct name`,
        });
      }
      p.patterns.forEach((x, i) => {
        if (x.sample > x.maxScan)
          ctx.addIssue({
            code: 'custom',
            path: ['patterns', i, 'sample'],
            message: `sample ${x.sample} is more than maxScan ${x.maxScan}: at most maxScan keys are seen`,
          });
      });
    }),
  );
export type RedisVerificationProfile = v.infer<typeof RedisVerificationProfile>;
export type RedisVerificationProfileInput = v.input<typeof RedisVerificationProfile>;

/** Parse a Redis profile, applying defaults; throws one ConfigError naming every bad field. */
export const parseRedisProfile = (raw: unknown): RedisVerificationProfile => {
  const r = RedisVerificationProfile.safeParse(raw);
  if (!r.success) throw new ConfigError('Invalid Redis verification profile', formatIssues(r.error.issues));
  return r.data;
};
