import { errorMessage } from '../../errors.js';
import {
  type CheckResult,
  budgetSpent,
  checkResult,
  checksOutcome,
  notFinishedIn,
  type Evaluation,
  type FreshnessEvaluation,
  notRun,
  redact,
  unfinished,
  worstRpo,
} from '../checks.js';
import type { TableBaseline, VerificationReport } from '../verification.js';
import {
  type Arg,
  connectRedis,
  RedisConnectionError,
  type RedisClient,
  RedisReplyError,
  type RespValue,
  RedisTimeoutError,
  text,
} from './client.js';
import {
  evaluateKeyCount,
  evaluateKeyType,
  evaluatePattern,
  evaluateRedisFreshness,
  evaluateTtl,
  parseKeyspace,
  type PatternScan,
  plannedRedisChecks,
} from './checks.js';
import { parseRedisProfile, type RedisPatternCheck } from './profile.js';
import { dbKey, type RedisVerifyFn } from './verification.js';

type Planned = Pick<CheckResult, 'name' | 'kind'>;

/** Below this, a check (or one more SCAN call) is not started. */
const MIN_CHECK_MS = 50;
/** Commands per pipelined write of TYPE/PTTL reads: bounded replies, few round trips. */
const BATCH = 500;

/** The check's time bound (or the budget) is spent. */
class OutOfTime extends Error {
  override name = 'OutOfTime';
}

interface Bound {
  remaining(): number;
  send(args: readonly Arg[]): Promise<RespValue>;
  pipeline(cmds: readonly (readonly Arg[])[]): Promise<(RespValue | RedisReplyError)[]>;
}

/**
 * Connect to a restored Redis and check it against a profile: key counts per logical database (DBSIZE)
 * against the baseline, configured keys and their types, bounded SCAN MATCH pattern checks with the TYPE
 * and PTTL of a sample of matching keys (pipelined), and the data RPO from a timestamp key or a stream's
 * last entry. Every command runs under a time bound (its own, capped by what is left of the check's and of
 * `budgetSeconds`), so verification time does not grow with the keyspace. Read-only: it sends AUTH,
 * SELECT, PING, INFO, DBSIZE, SCAN, TYPE, PTTL, GET and XREVRANGE, nothing else.
 */
export const verifyRedis: RedisVerifyFn = async (conn, rawProfile, ctx) => {
  const profile = parseRedisProfile(rawProfile);
  const started = ctx.now();
  const budgetMs = Math.round(profile.budgetSeconds * 1000);
  const budgetEnd = started + budgetMs;
  const planned = plannedRedisChecks(profile);
  const checks: CheckResult[] = [];
  const tables: Record<string, TableBaseline> = {};
  const freshness: FreshnessEvaluation[] = [];
  const clean = (s: string) => redact(s, [conn.password]);
  let client: RedisClient | undefined;
  /** Why the connection cannot be used any more (a command timed out, the connection dropped). */
  let dead: { why: string; status: 'failed' | 'unfinished' } | undefined;
  let currentDb = 0;

  const bound = (ms: number): Bound => {
    const end = ctx.now() + ms;
    const remaining = () => Math.floor(end - ctx.now());
    const within = () => {
      const left = Math.min(remaining(), profile.commandTimeoutMs);
      if (left < MIN_CHECK_MS) throw new OutOfTime('no time left');
      return left;
    };
    return {
      remaining,
      // Async, so "no time left" rejects like any other failure of the command instead of throwing.
      send: async (args) => client!.send(args, within()),
      pipeline: async (cmds) => client!.pipeline(cmds, within()),
    };
  };
  const select = async (b: Bound, db: number) => {
    // Only when it changes: a cluster-mode cache has database 0 alone and refuses SELECT of any other.
    if (db === currentDb) return;
    await b.send(['SELECT', db]);
    currentDb = db;
  };

  const run = async (p: Planned, ownMs: number, evaluate: (b: Bound) => Promise<Evaluation>) => {
    const t = ctx.now();
    const checkMs = Math.max(0, Math.min(ownMs, Math.floor(budgetEnd - t)));
    let e: Evaluation;
    if (dead) {
      e =
        dead.status === 'unfinished'
          ? unfinished(`not run: ${dead.why}`)
          : { passed: false, measured: null, expected: null, detail: `not run: ${dead.why}` };
    } else if (checkMs < MIN_CHECK_MS) {
      e = budgetSpent(budgetMs);
    } else {
      try {
        e = await evaluate(bound(checkMs));
      } catch (err) {
        if (err instanceof OutOfTime) {
          e = unfinished(notFinishedIn(checkMs, ownMs));
        } else if (err instanceof RedisTimeoutError) {
          dead = { why: 'a command of an earlier check was not answered in time', status: 'unfinished' };
          e = unfinished(`not finished: ${err.message}`);
        } else if (err instanceof RedisConnectionError) {
          dead = { why: `the connection was lost (${err.message})`, status: 'failed' };
          e = { passed: false, measured: null, expected: null, detail: err.message };
        } else {
          e = { passed: false, measured: null, expected: null, detail: errorMessage(err) };
        }
      }
    }
    const result = checkResult(p, e, { ms: ctx.now() - t, budgetMs: checkMs }, [conn.password]);
    checks.push(result);
    return result;
  };
  const at = (i: number): Planned => planned[i]!;
  let next = 1;
  const cmdMs = profile.commandTimeoutMs;

  try {
    const connect = await run(at(0), profile.connectTimeoutMs + cmdMs, async (b) => {
      client = await connectRedis({
        host: conn.host,
        port: conn.port,
        ...(conn.tls !== undefined ? { tls: conn.tls } : {}),
        ...(conn.username !== undefined ? { username: conn.username } : {}),
        ...(conn.password !== undefined ? { password: conn.password } : {}),
        connectTimeoutMs: Math.min(profile.connectTimeoutMs, b.remaining()),
        commandTimeoutMs: cmdMs,
      });
      const pong = text(await b.send(['PING']));
      // INFO is @dangerous for ACL purposes: a restricted verifier user may not have it. Best effort.
      const info = await b.send(['INFO', 'server']).then(text, () => '');
      const version = /^(?:valkey|redis)_version:(\S+)/m.exec(info)?.[1];
      const engine = /^valkey_version:/m.test(info) ? 'Valkey' : 'Redis';
      return {
        passed: pong === 'PONG',
        measured: version ? `${engine} ${version}` : pong,
        expected: 'PING answers PONG',
        detail:
          pong === 'PONG'
            ? `connected to ${conn.host}:${conn.port}${conn.tls ? ' over TLS' : ''} as ${userOf(conn)}`
            : `PING answered ${JSON.stringify(pong.slice(0, 40))}`,
      };
    });
    if (!connect.passed) {
      connect.detail = clean(
        `could not connect to ${conn.host}:${conn.port} as ${userOf(conn)}: ${connect.detail}`,
      );
      // No service is a failed restore, not missing evidence.
      connect.status = 'failed';
      for (const p of planned.slice(1)) checks.push(notRun(p, 'connect failed'));
      return finish();
    }

    // TTL counts per database, when the user may run INFO: shown beside the key counts.
    const keyspace = await bound(Math.min(cmdMs, budgetEnd - ctx.now()))
      .send(['INFO', 'keyspace'])
      .then((r) => parseKeyspace(text(r)))
      .catch(() => undefined);

    for (const d of profile.databases) {
      await run(at(next++), cmdMs, async (b) => {
        await select(b, d.db);
        const keys = Number(await b.send(['DBSIZE']));
        tables[dbKey(d.db)] = { rows: keys, method: 'exact' };
        const baseline = d.baselineKeys ?? ctx.baseline?.[dbKey(d.db)]?.rows;
        return evaluateKeyCount(
          d,
          keys,
          baseline,
          keyspace?.get(d.db)?.expires ?? (keys === 0 ? 0 : undefined),
        );
      });
    }

    // Configured keys: one pipelined TYPE per database, one check each.
    const types = new Map<string, string | Error>();
    const byDb = groupBy(profile.keys, (k) => k.db);
    for (const [db, keys] of byDb) {
      try {
        const b = bound(Math.min(cmdMs, budgetEnd - ctx.now()));
        await select(b, db);
        const replies = await b.pipeline(keys.map((k) => ['TYPE', k.key]));
        keys.forEach((k, i) => types.set(`${db} ${k.key}`, replyText(replies[i])));
      } catch (e) {
        for (const k of keys) types.set(`${db} ${k.key}`, e as Error);
      }
    }
    for (const k of profile.keys) {
      await run(at(next++), cmdMs, async () => {
        const t = types.get(`${k.db} ${k.key}`);
        if (t instanceof Error) throw t;
        return evaluateKeyType(k.type, t ?? 'none');
      });
    }

    for (const p of profile.patterns) {
      let pttls: number[] | undefined;
      await run(at(next++), cmdMs * 4, async (b) => {
        const scan = await scanPattern(b, p);
        pttls = scan.pttls;
        return evaluatePattern(p, scan);
      });
      if (p.mustExpire) {
        await run(at(next++), cmdMs, async () => {
          if (!pttls) return unfinished('not run: its pattern check did not finish');
          return evaluateTtl(pttls);
        });
      }
    }

    const f = profile.freshness;
    if (f) {
      await run(at(next++), cmdMs, async (b) => {
        await select(b, f.db);
        const type = text(await b.send(['TYPE', f.key]));
        let value: string | undefined;
        if (type === 'string') value = text(await b.send(['GET', f.key]));
        if (type === 'stream') {
          const last = await b.send(['XREVRANGE', f.key, '+', '-', 'COUNT', 1]);
          const entry = Array.isArray(last) ? last[0] : undefined;
          value = Array.isArray(entry) ? text(entry[0]) : undefined;
        }
        const e = evaluateRedisFreshness(
          f.key,
          { type, ...(value !== undefined ? { value } : {}) },
          ctx.referenceTime,
          profile.rpoTargetSeconds,
        );
        freshness.push(e);
        return e;
      });
    }
    return finish();
  } finally {
    client?.close();
  }

  /** Walk the database with SCAN MATCH, at most `maxScan` keys, then TYPE (and PTTL) of a sample. */
  async function scanPattern(b: Bound, p: RedisPatternCheck): Promise<PatternScan & { pttls?: number[] }> {
    await select(b, p.db);
    const dbSize = Number(await b.send(['DBSIZE']));
    const maxCalls = Math.ceil(p.maxScan / profile.scanCount);
    // Distinct keys only: SCAN may return a key twice while the server rehashes.
    const seen = new Set<string>();
    const sample: Buffer[] = [];
    let cursor = '0';
    let calls = 0;
    let complete = false;
    while (calls < maxCalls) {
      // Out of time mid-walk: what was walked is still a sample of the keyspace.
      if (b.remaining() < MIN_CHECK_MS * 2 && calls > 0) break;
      const r = await b.send(['SCAN', cursor, 'MATCH', p.match, 'COUNT', profile.scanCount]);
      calls++;
      if (!Array.isArray(r) || !Array.isArray(r[1]))
        throw new RedisReplyError('SCAN returned no cursor and keys');
      cursor = text(r[0]);
      for (const key of r[1]) {
        if (!Buffer.isBuffer(key)) continue;
        const id = key.toString('latin1');
        if (seen.has(id)) continue;
        seen.add(id);
        if (sample.length < p.sample) sample.push(key);
      }
      if (cursor === '0') {
        complete = true;
        break;
      }
    }
    const walked = complete ? dbSize : Math.min(dbSize, calls * profile.scanCount);
    const types: string[] = [];
    const pttls: number[] = [];
    for (let i = 0; i < sample.length; i += BATCH) {
      const keys = sample.slice(i, i + BATCH);
      const cmds = keys.flatMap((k) =>
        p.mustExpire
          ? [
              ['TYPE', k],
              ['PTTL', k],
            ]
          : [['TYPE', k]],
      );
      const replies = await b.pipeline(cmds);
      const per = p.mustExpire ? 2 : 1;
      keys.forEach((_, j) => {
        const t = replyText(replies[j * per]);
        if (t instanceof Error) throw t;
        types.push(t);
        if (p.mustExpire) pttls.push(Number(replies[j * per + 1]));
      });
    }
    return { matched: seen.size, complete, walked, dbSize, types, ...(p.mustExpire ? { pttls } : {}) };
  }

  function finish(): VerificationReport {
    const worst = worstRpo(freshness);
    const outcome = checksOutcome(checks);
    return {
      passed: outcome === 'passed',
      outcome,
      host: conn.host,
      port: conn.port,
      database: profile.databases.map((d) => dbKey(d.db)).join(',') || 'db0',
      user: userOf(conn),
      referenceTime: ctx.referenceTime.toISOString(),
      checks,
      ...(worst ?? {}),
      verifyMs: Math.round(ctx.now() - started),
      budgetMs,
      tables,
    };
  }
};

/** Who the verifier logged in as: the RBAC user, or the default user (with or without an AUTH token). */
const userOf = (c: { username?: string; password?: string }): string =>
  c.username ?? (c.password !== undefined ? 'default (AUTH token)' : 'default (no AUTH)');

const replyText = (r: RespValue | RedisReplyError | undefined): string | Error =>
  r instanceof RedisReplyError ? r : text(r);

const groupBy = <T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> => {
  const out = new Map<K, T[]>();
  for (const i of items) out.set(key(i), [...(out.get(key(i)) ?? []), i]);
  return out;
};
