import {
  type CheckResult,
  countAgainst,
  evaluateFreshness,
  type Evaluation,
  type FreshnessEvaluation,
} from '../checks.js';
import { type RedisDbCheck, type RedisPatternCheck, type RedisVerificationProfile } from './profile.js';

// The Redis checks' rules: what is planned, and each verdict from what the engine measured. Pure: no I/O,
// no clock. Sampled key names never appear in a verdict (a session key can carry its token): only counts,
// and the names the config itself lists.

/** The name a pattern check has in the report. */
export const patternName = (p: RedisPatternCheck): string => p.name ?? p.match;

/** The checks a profile plans, in the order the engine runs them. */
export const plannedRedisChecks = (p: RedisVerificationProfile): Pick<CheckResult, 'name' | 'kind'>[] => [
  { name: 'connect', kind: 'connect' },
  ...p.databases.map((d) => ({ name: `key-count db${d.db}`, kind: 'key-count' as const })),
  ...p.keys.map((k) => ({ name: `key db${k.db} ${k.key}`, kind: 'key' as const })),
  ...p.patterns.flatMap((x) => [
    { name: `pattern ${patternName(x)}`, kind: 'pattern' as const },
    ...(x.mustExpire ? [{ name: `ttl ${patternName(x)}`, kind: 'ttl' as const }] : []),
  ]),
  ...(p.freshness
    ? [{ name: `freshness db${p.freshness.db} ${p.freshness.key}`, kind: 'freshness' as const }]
    : []),
];

/** DBSIZE of one logical database against minKeys and the baseline; only a drop fails. */
export const evaluateKeyCount = (
  d: RedisDbCheck,
  keys: number,
  baseline?: number,
  expires?: number,
): Evaluation => {
  const {
    floor,
    expected,
    vsBaseline: vs,
  } = countAgainst(keys, {
    min: d.minKeys,
    minName: 'minKeys',
    baseline,
    tolerancePct: d.tolerancePct,
  });
  const passed = keys >= floor;
  const ttl = expires === undefined ? '' : ` (${expires} with a TTL)`;
  return {
    passed,
    method: 'exact',
    measured: keys,
    expected,
    detail: passed
      ? `${keys} keys${ttl}${vs}`
      : `${keys} keys${ttl} is below ${floor}${vs}${baseline !== undefined && keys < baseline ? ': keys lost' : ''}`,
  };
};

/** A configured key's TYPE (`none`: it does not exist). */
export const evaluateKeyType = (expected: string, type: string): Evaluation => ({
  passed: type === expected,
  measured: type,
  expected,
  detail:
    type === expected
      ? 'exists'
      : type === 'none'
        ? 'missing'
        : `is a ${type}, not a ${expected}: wrong type`,
});

/** What one bounded SCAN MATCH walk found. */
export interface PatternScan {
  /** Distinct matching keys seen. */
  matched: number;
  /** True when the cursor came back to 0: every key of the database was walked. */
  complete: boolean;
  /** Keys of the database walked (about: SCAN's COUNT is a hint), capped by DBSIZE. */
  walked: number;
  /** DBSIZE when the walk ran. */
  dbSize: number;
  /** TYPE of each sampled key (`none`: expired or deleted since it was scanned). */
  types: string[];
}

/** Matching keys the walk stands for: exact when it finished, else extrapolated by the share walked. */
export const patternKeys = (s: PatternScan): { keys: number; method: 'exact' | 'sample' } =>
  s.complete || s.walked >= s.dbSize
    ? { keys: s.matched, method: 'exact' }
    : { keys: s.walked === 0 ? 0 : Math.round((s.matched / s.walked) * s.dbSize), method: 'sample' };

/** A pattern check: enough matching keys, and every sampled one of the expected type. */
export const evaluatePattern = (p: RedisPatternCheck, s: PatternScan): Evaluation => {
  const { keys, method } = patternKeys(s);
  const gone = s.types.filter((t) => t === 'none').length;
  const present = s.types.filter((t) => t !== 'none');
  const wrong = p.type ? present.filter((t) => t !== p.type) : [];
  const byType = [...new Set(wrong)].map((t) => `${wrong.filter((w) => w === t).length} ${t}`).join(', ');
  const enough = keys >= p.minKeys;
  const how =
    method === 'exact'
      ? `${keys} keys match (every key walked)`
      : `~${keys} keys match (${s.matched} in ${s.walked} of ${s.dbSize} keys walked)`;
  const typed = p.type
    ? `; ${present.length - wrong.length} of ${present.length} sampled keys are of type ${p.type}`
    : `; ${present.length} keys sampled`;
  const expired = gone ? `; ${gone} expired while checked` : '';
  const problems = [
    ...(enough ? [] : [`fewer than ${p.minKeys}: keys lost`]),
    ...(wrong.length ? [`${wrong.length} sampled keys have the wrong type (${byType})`] : []),
  ];
  return {
    passed: problems.length === 0,
    method,
    measured: keys,
    expected: `>= ${p.minKeys} keys${p.type ? `, type ${p.type}` : ''}`,
    detail: `${how}${typed}${expired}${problems.length ? `: ${problems.join('; ')}` : ''}`,
  };
};

/** TTL sanity of a must-expire pattern: PTTL of each sampled key; -1 is a key that lost its TTL. */
export const evaluateTtl = (pttls: readonly number[]): Evaluation => {
  const lost = pttls.filter((t) => t === -1).length;
  const gone = pttls.filter((t) => t === -2).length;
  const live = pttls.filter((t) => t >= 0);
  const minS = live.length ? Math.min(...live) / 1000 : undefined;
  const maxS = live.length ? Math.max(...live) / 1000 : undefined;
  const checked = pttls.length - gone;
  return {
    passed: lost === 0,
    measured: lost,
    expected: '0 keys without a TTL',
    detail:
      checked === 0
        ? `no matching key to check${gone ? ` (${gone} expired while checked)` : ''}`
        : lost
          ? `${lost} of ${checked} sampled keys have no TTL: TTL lost`
          : `all ${checked} sampled keys expire (in ${minS!.toFixed(0)} s to ${maxS!.toFixed(0)} s)${gone ? `; ${gone} expired while checked` : ''}`,
  };
};

/**
 * The time a freshness value stands for: epoch seconds (below 1e11, fractions allowed), epoch milliseconds,
 * an ISO time, or a stream entry id (`<ms>-<seq>`). Undefined when it is none of these.
 */
export const freshnessTime = (value: string, from: 'string' | 'stream'): Date | undefined => {
  const v = value.trim();
  if (from === 'stream') {
    const m = /^(\d+)-\d+$/.exec(v);
    return m ? new Date(Number(m[1])) : undefined;
  }
  if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    // 1e11 s is the year 5138, 1e11 ms is 1973: no real write time is ambiguous.
    return new Date(n < 1e11 ? n * 1000 : n);
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isFinite(t) ? new Date(t) : undefined;
};

/** Data RPO from the freshness key: reference time − newest write, never negative. */
export const evaluateRedisFreshness = (
  key: string,
  found: { type: string; value?: string },
  referenceTime: Date,
  rpoTargetSeconds?: number,
): FreshnessEvaluation => {
  const expected =
    rpoTargetSeconds === undefined ? 'recorded (no rpoTargetSeconds)' : `<= ${rpoTargetSeconds} s`;
  const miss = (detail: string): FreshnessEvaluation => ({ passed: false, measured: null, expected, detail });
  if (found.type === 'none') return miss(`key ${key} is missing: the newest write is unknown`);
  if (found.type !== 'string' && found.type !== 'stream')
    return miss(`key ${key} is a ${found.type}: a freshness key is a string (a time) or a stream`);
  if (found.value === undefined) return miss(`stream ${key} is empty: the newest write is unknown`);
  const newest = freshnessTime(found.value, found.type);
  if (!newest) {
    return miss(
      `key ${key} holds ${JSON.stringify(found.value.slice(0, 40))}, not epoch seconds, epoch milliseconds or an ISO time`,
    );
  }
  const e = evaluateFreshness(
    newest,
    referenceTime,
    rpoTargetSeconds,
    `write (${found.type === 'stream' ? 'last stream entry' : 'timestamp key'})`,
  );
  return e.passed ? e : { ...e, detail: `${e.detail}: stale data` };
};

/** `db0:keys=12,expires=3,avg_ttl=0` lines of `INFO keyspace`, by database number. */
export const parseKeyspace = (info: string): Map<number, { keys: number; expires: number }> => {
  const out = new Map<number, { keys: number; expires: number }>();
  for (const m of info.matchAll(/^db(\d+):keys=(\d+),expires=(\d+)/gm)) {
    out.set(Number(m[1]), { keys: Number(m[2]), expires: Number(m[3]) });
  }
  return out;
};
