import type pg from 'pg';
import { pgDriver } from './pg-client.js';
import { errorMessage } from '../../errors.js';
import {
  type CheckResult,
  type CountMethod,
  type Evaluation,
  type FreshnessEvaluation,
  type Probe,
  type RelationStats,
  budgetSpent,
  checkResult,
  checksOutcome,
  formatMs,
  notFinishedIn,
  estimateRows,
  evaluateAssertion,
  evaluateChecksum,
  evaluateFreshness,
  evaluateProbes,
  evaluateRowCount,
  evaluateSample,
  heapPages,
  notRun,
  extrapolate,
  formatBytes,
  maxTuplesPerPage,
  planProbes,
  plannedChecks,
  quoteTable,
  redact,
  samplePageNumbers,
  sql,
  unfinished,
  worstRpo,
} from '../checks.js';
import {
  type TableCheck,
  type VerificationProfile,
  type VerificationProfileInput,
  parseVerificationProfile,
} from '../profile.js';
import type { PgConnection, TableBaseline, VerificationReport, VerifyContext } from '../verification.js';

type Planned = Pick<CheckResult, 'name' | 'kind'>;

/** Below this, a check is not started: it could not do anything useful. */
const MIN_CHECK_MS = 50;
// The client-side backstop fires this long after the server-side statement_timeout should have.
const CLIENT_BACKSTOP_MS = 5_000;
// Part of an estimated row count's bound kept for the sample that follows a cancelled exact count.
const FALLBACK_SHARE = 0.4;

const describeError = (e: unknown): string => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)
    ? `${errorMessage(e)} (SQLSTATE ${code})`
    : errorMessage(e);
};

/** A statement cancelled by its statement_timeout (57014), or the time bound already spent. */
class OutOfTime extends Error {
  override name = 'OutOfTime';
}
/** The client-side backstop fired: the server did not answer, the connection cannot be trusted. */
class ConnectionStalled extends Error {
  override name = 'ConnectionStalled';
}

const isCancelled = (e: unknown) => (e as { code?: unknown } | null)?.code === '57014';

/**
 * One check's time bound: every statement it runs gets `statement_timeout` = the time left, so the
 * check cannot outlive its bound (plus one round trip), whatever it asks the server.
 */
interface Bound {
  readonly ms: number;
  remaining(): number;
  query<R extends pg.QueryResultRow>(
    text: string,
    values?: unknown[],
    withinMs?: number,
  ): Promise<pg.QueryResult<R>>;
  queryArray(text: string, withinMs?: number): Promise<pg.QueryArrayResult>;
}

/**
 * Connect to a restored database and check it against a profile. Every check runs under a time bound
 * (its own, capped by what is left of `budgetSeconds`), so verification time does not grow with the
 * database: tables above `exactCountMaxBytes`, or whose exact count does not finish in time, are
 * estimated (planner statistics after ANALYZE) and checked exactly on samples (every row on random
 * pages, key-range probes). A check that cannot finish is `unfinished`, never `failed`.
 * Never throws for what it finds; throws ConfigError only for an invalid profile.
 */
export const verifyDatabase = async (
  conn: PgConnection,
  rawProfile: VerificationProfileInput,
  ctx: VerifyContext,
): Promise<VerificationReport> => {
  const profile = parseVerificationProfile(rawProfile);
  const database = conn.database ?? profile.database;
  const clean = (e: unknown) => redact(describeError(e), [conn.password]);
  const started = ctx.now();
  const budgetMs = Math.round(profile.budgetSeconds * 1000);
  const budgetEnd = started + budgetMs;
  const planned = plannedChecks(profile);
  const checks: CheckResult[] = [];
  const tables: Record<string, TableBaseline> = {};
  const freshness: FreshnessEvaluation[] = [];
  let stalled = false;

  const client = new pgDriver.Client({
    host: conn.host,
    port: conn.port,
    user: conn.user,
    password: conn.password,
    database,
    ssl: conn.ssl,
    connectionTimeoutMillis: profile.connectTimeoutMs,
    application_name: 'steward-drill',
  });
  // A dropped connection also fails the pending query, which is where it is reported.
  client.on('error', () => undefined);

  const bound = (ms: number): Bound => {
    const end = ctx.now() + ms;
    const remaining = () => Math.floor(end - ctx.now());
    const within = (withinMs?: number) => {
      const left = Math.min(remaining(), withinMs ?? Infinity);
      if (left < MIN_CHECK_MS) throw new OutOfTime('no time left');
      return left;
    };
    const guarded = async <T>(left: number, send: () => Promise<T>): Promise<T> => {
      await client.query(`set statement_timeout = ${left}`);
      try {
        return await send();
      } catch (e) {
        if (isCancelled(e)) throw new OutOfTime('statement timeout');
        if (/query read timeout/i.test(errorMessage(e))) {
          stalled = true;
          throw new ConnectionStalled('the server did not answer within the time bound');
        }
        throw e;
      }
    };
    return {
      ms,
      remaining,
      query: <R extends pg.QueryResultRow>(text: string, values: unknown[] = [], withinMs?: number) => {
        const left = within(withinMs);
        return guarded(left, () =>
          client.query<R>({ text, values, query_timeout: left + CLIENT_BACKSTOP_MS } as pg.QueryConfig),
        );
      },
      queryArray: (text: string, withinMs?: number) => {
        const left = within(withinMs);
        // Extended protocol refuses several statements in one string.
        const query: pg.QueryArrayConfig & { queryMode: 'extended'; query_timeout: number } = {
          text,
          rowMode: 'array',
          queryMode: 'extended',
          query_timeout: left + CLIENT_BACKSTOP_MS,
        };
        return guarded(left, () => client.query(query));
      },
    };
  };

  /** Run one check under `ownMs` (capped by the budget left); a timeout is `unfinished`, not `failed`. */
  const run = async (
    p: Planned,
    ownMs: number,
    evaluate: (b: Bound) => Promise<Evaluation>,
  ): Promise<CheckResult> => {
    const t = ctx.now();
    const checkMs = Math.max(0, Math.min(ownMs, Math.floor(budgetEnd - t)));
    let e: Evaluation;
    // A check not run took no time: its `ms` is 0, not what the clock moved while it was skipped.
    let ran = false;
    if (stalled) {
      e = unfinished('not run: the connection stalled in an earlier check');
    } else if (checkMs < MIN_CHECK_MS) {
      e = budgetSpent(budgetMs);
    } else {
      ran = true;
      try {
        e = await evaluate(bound(checkMs));
      } catch (err) {
        e =
          err instanceof OutOfTime || err instanceof ConnectionStalled
            ? unfinished(
                notFinishedIn(checkMs, ownMs) + (err instanceof ConnectionStalled ? `: ${err.message}` : ''),
              )
            : { passed: false, measured: null, expected: null, detail: clean(err) };
      }
    }
    const result = checkResult(p, e, { ms: ran ? ctx.now() - t : 0, budgetMs: checkMs }, [conn.password]);
    checks.push(result);
    return result;
  };
  const find = (kind: CheckResult['kind'], name: string): Planned => {
    const p = planned.find((c) => c.kind === kind && c.name === `${kind} ${name}`);
    if (!p) throw new Error(`no planned ${kind} check for ${name}`);
    return p;
  };
  const statementMs = profile.statementTimeoutMs;

  try {
    const connect = await run(planned[0]!, profile.connectTimeoutMs + statementMs, async (b) => {
      await client.connect();
      // Read-only so a profile's SQL cannot change the restored data (ANALYZE, which only refreshes
      // statistics, is allowed); UTC and ISO so row text (checksums) and timestamp casts do not depend
      // on the server's defaults. Nothing else runs on a drill copy: waiting on a lock is a bug.
      await client.query(
        "set session characteristics as transaction read only; set lock_timeout = '10s';" +
          " set time zone 'UTC'; set datestyle = 'ISO, MDY'; set intervalstyle = 'postgres'; set bytea_output = 'hex'",
      );
      const r = await b.query<{ ok: number; version: string }>(
        'select 1 as ok, current_setting($1) as version',
        ['server_version'],
      );
      const ok = r.rows[0]?.ok === 1;
      return {
        passed: ok,
        measured: `PostgreSQL ${r.rows[0]?.version ?? '?'}`,
        expected: 'select 1 returns 1',
        detail: ok
          ? `connected to ${conn.host}:${conn.port}/${database} as ${conn.user}`
          : 'select 1 did not return 1',
      };
    });
    if (!connect.passed) {
      connect.detail = `could not connect to ${conn.host}:${conn.port}/${database} as ${conn.user}: ${connect.detail}`;
      // A connection that did not open in time is a failure to restore service, not missing evidence.
      connect.status = 'failed';
      for (const p of planned.slice(1)) checks.push(notRun(p, 'connect failed'));
      return finish();
    }

    for (const s of profile.schemas) {
      await run(find('schema', s), statementMs, async (b) => {
        const r = await b.query<{ ok: boolean }>(sql.schemaExists, [s]);
        const ok = r.rows[0]?.ok === true;
        return {
          passed: ok,
          measured: ok,
          expected: true,
          detail: ok ? 'exists' : `schema ${s} does not exist`,
        };
      });
    }

    const present = new Set<string>();
    for (const t of profile.tables) {
      const c = await run(find('table', t.name), statementMs, async (b) => {
        const r = await b.query<{ ok: boolean }>(sql.tableExists, [quoteTable(t.name)]);
        const ok = r.rows[0]?.ok === true;
        return {
          passed: ok,
          measured: ok,
          expected: true,
          detail: ok ? 'exists' : `table ${t.name} does not exist`,
        };
      });
      if (c.passed) present.add(t.name);
    }
    const missing = (name: string) =>
      present.has(name) ? undefined : `table ${name} missing or not checked`;

    for (const t of profile.tables) {
      const p = find('row-count', t.name);
      const why = missing(t.name);
      if (why) {
        checks.push(notRun(p, why));
        continue;
      }
      const baselineRows = t.baselineRows ?? ctx.baseline?.[t.name]?.rows;
      let estimated: { rows: number; stats: RelationStats } | undefined;
      await run(p, statementMs, async (b) => {
        const counted = await countRows(b, client, t, profile);
        tables[t.name] = { rows: counted.rows, method: counted.method };
        if (counted.method !== 'exact') estimated = { rows: counted.rows, stats: counted.stats };
        return evaluateRowCount(t, counted.rows, baselineRows, counted.method, counted.how);
      });
      // The planner's estimate, checked exactly on a sample of pages it did not choose.
      if (estimated && tables[t.name]?.method === 'estimate') {
        const { stats, rows } = estimated;
        await run({ name: `sample ${t.name}`, kind: 'sample' }, statementMs, async (b) => {
          const sampled = await samplePages(b, t, stats, profile.samplePages, seedOf(ctx.referenceTime));
          return evaluateSample(t, sampled, baselineRows, rows);
        });
      }
      if (profile.probes > 0 && tables[t.name]) {
        await probeKeyRanges(t, tables[t.name]!, ctx.baseline?.[t.name]);
      }
    }

    for (const t of profile.tables) {
      if (!t.freshnessColumn) continue;
      const column = t.freshnessColumn;
      const p = find('freshness', t.name);
      const why = missing(t.name);
      if (why) {
        checks.push(notRun(p, why));
        continue;
      }
      await run(p, statementMs, async (b) => {
        const r = await b.query<{ newest: Date | null }>(sql.newest(t.name, column));
        const e = evaluateFreshness(r.rows[0]?.newest ?? null, ctx.referenceTime, profile.rpoTargetSeconds);
        freshness.push(e);
        return e;
      });
    }

    for (const t of profile.tables) {
      if (!t.checksum) continue;
      const { sampleRows, orderBy } = t.checksum;
      const p = find('checksum', t.name);
      const why = missing(t.name);
      if (why) {
        checks.push(notRun(p, why));
        continue;
      }
      await run(p, statementMs, async (b) => {
        const r = await b.query<{ checksum: string; n: number }>(sql.checksum(t.name, orderBy), [sampleRows]);
        const checksum = r.rows[0]?.checksum ?? '';
        const known = tables[t.name];
        if (known) known.checksum = checksum;
        return evaluateChecksum(checksum, r.rows[0]?.n ?? 0, ctx.baseline?.[t.name]?.checksum);
      });
    }

    for (const a of profile.assertions) {
      const own = a.timeoutSeconds === undefined ? statementMs : Math.round(a.timeoutSeconds * 1000);
      await run(find('assertion', a.name), own, async (b) => {
        // Its own read-only transaction, rolled back: a SET or error inside cannot leak into the next check.
        await client.query('begin transaction read only');
        try {
          if (a.maxCost !== undefined) {
            const plan = await b.queryArray(`explain (format json) ${a.sql}`);
            const cost = planCost(plan.rows);
            if (cost !== undefined && cost > a.maxCost) {
              return unfinished(
                `not run: the planner's cost ${Math.round(cost)} exceeds its declared maxCost ${a.maxCost}`,
              );
            }
          }
          const r = await b.queryArray(a.sql);
          return evaluateAssertion(r.rows, r.fields.length);
        } finally {
          // A failure here means a dead connection, which the next check reports.
          await client.query('rollback').catch(() => undefined);
        }
      });
    }
    return finish();
  } finally {
    await client.end().catch(() => undefined);
  }

  /** Exact counts of key ranges: the last passed drill's ranges (compared) and fresh ones (recorded). */
  async function probeKeyRanges(t: TableCheck, measured: TableBaseline, base?: TableBaseline) {
    const key = t.key ?? (await integerPrimaryKey(t));
    if (!key) return;
    await run({ name: `probe ${t.name}`, kind: 'probe' }, statementMs, async (b) => {
      const range = await b.query<{ lo: string | null; hi: string | null }>(sql.keyRange(t.name, key));
      const { lo, hi } = range.rows[0] ?? {};
      const fresh =
        lo == null || hi == null
          ? []
          : planProbes(BigInt(lo), BigInt(hi), measured.rows, profile.probes, profile.probeRows);
      const count = async (p: Omit<Probe, 'rows'>) => {
        const r = await b.query<{ n: string }>(sql.probe(t.name, key), [p.from, p.to]);
        return Number(r.rows[0]?.n);
      };
      const compared: (Probe & { baseline: number })[] = [];
      if (base?.key === key) {
        for (const p of base.probes ?? []) compared.push({ ...p, baseline: p.rows, rows: await count(p) });
      }
      const recorded: Probe[] = [];
      for (const p of fresh) {
        const again = compared.find((c) => c.from === p.from && c.to === p.to);
        recorded.push({ ...p, rows: again ? again.rows : await count(p) });
      }
      measured.key = key;
      measured.probes = recorded;
      return evaluateProbes(t, key, compared, recorded);
    });
  }

  /** The one-column integer primary key of a table, if it has one (a catalog read, bounded). */
  async function integerPrimaryKey(t: TableCheck): Promise<string | undefined> {
    try {
      const r = await bound(Math.min(statementMs, Math.max(0, budgetEnd - ctx.now()))).query<{
        key: string;
      }>(sql.integerPrimaryKey, [quoteTable(t.name)]);
      return r.rows[0]?.key;
    } catch {
      // No time left or no catalog access: the table simply gets no probes.
      return undefined;
    }
  }

  function finish(): VerificationReport {
    const worst = worstRpo(freshness);
    const outcome = checksOutcome(checks);
    return {
      passed: outcome === 'passed',
      outcome,
      host: conn.host,
      port: conn.port,
      database,
      user: conn.user,
      referenceTime: ctx.referenceTime.toISOString(),
      checks,
      ...(worst ?? {}),
      verifyMs: Math.round(ctx.now() - started),
      budgetMs,
      tables,
    };
  }
};

/** The same sample for the same snapshot: a retried verification reads the same pages. */
const seedOf = (referenceTime: Date) => referenceTime.getTime() % 2_147_483_647;

interface Counted {
  rows: number;
  method: CountMethod;
  stats: RelationStats;
  how?: string;
}

/**
 * Exact `count(*)` when the heap is at most `exactCountMaxBytes` and the count finishes within part of
 * the check's bound; otherwise the planner's estimate after ANALYZE (or, with no statistics at all, a
 * sample of pages). `how` says which and why.
 */
const countRows = async (
  b: Bound,
  client: pg.Client,
  t: TableCheck,
  profile: VerificationProfile,
): Promise<Counted> => {
  const readStats = async (): Promise<RelationStats> => {
    const r = await b.query<{ bytes: string; block_size: number; reltuples: number; relpages: number }>(
      sql.relationStats,
      [quoteTable(t.name), 'block_size'],
    );
    const row = r.rows[0]!;
    return {
      bytes: Number(row.bytes),
      blockSize: row.block_size,
      reltuples: row.reltuples,
      relpages: row.relpages,
    };
  };
  const before = await readStats();
  const maxBytes = t.exactCountMaxBytes ?? profile.exactCountMaxBytes;
  let why: string;
  if (before.bytes <= maxBytes) {
    const withinMs = Math.floor(b.remaining() * (1 - FALLBACK_SHARE));
    try {
      const r = await b.query<{ n: string }>(sql.count(t.name), [], withinMs);
      return { rows: Number(r.rows[0]?.n), method: 'exact', stats: before };
    } catch (e) {
      if (!(e instanceof OutOfTime)) throw e;
      why = `exact count not finished in ${formatMs(withinMs)}`;
    }
  } else {
    why = `heap ${formatBytes(before.bytes, 1024)} > exactCountMaxBytes ${formatBytes(maxBytes, 1024)}`;
  }
  // ANALYZE reads a bounded random sample (300 × default_statistics_target rows) and refreshes
  // reltuples; only the owner may run it, others get a WARNING and the statistics as restored.
  const notices: string[] = [];
  const onNotice = (n: { message?: string }) => notices.push(n.message ?? '');
  client.on('notice', onNotice);
  let stats = before;
  let analyzed: string;
  try {
    await b.query(sql.analyze(t.name), [], Math.floor(b.remaining() * 0.5));
    stats = await readStats();
    analyzed = notices.some((n) => /skipping/i.test(n))
      ? 'statistics as restored (ANALYZE not permitted to this user)'
      : 'planner statistics after ANALYZE';
  } catch (e) {
    if (!(e instanceof OutOfTime)) throw e;
    analyzed = 'statistics as restored (ANALYZE not finished in time)';
  } finally {
    client.removeListener('notice', onNotice);
  }
  const estimate = estimateRows(stats);
  if (estimate !== undefined)
    return { rows: estimate, method: 'estimate', stats, how: `${analyzed}; ${why}` };
  // Never analyzed: extrapolate from every row on a sample of pages.
  const sampled = await samplePages(b, t, stats, profile.samplePages, 1);
  return {
    rows: extrapolate(sampled.rows, sampled.pages, sampled.totalPages),
    method: 'sample',
    stats,
    how: `${sampled.rows} rows on ${sampled.pages} random pages of ${sampled.totalPages}, no planner statistics; ${why}`,
  };
};

/** Read every row on `count` random pages of the heap (all of them for a small heap). */
const samplePages = async (b: Bound, t: TableCheck, stats: RelationStats, count: number, seed: number) => {
  const totalPages = heapPages(stats);
  const pages = samplePageNumbers(totalPages, count, seed);
  const r = await b.query<{ n: string }>(sql.samplePages(t.name), [pages, maxTuplesPerPage(stats.blockSize)]);
  return { rows: Number(r.rows[0]?.n), pages: pages.length, totalPages };
};

/** `Total Cost` of an `explain (format json)` result. */
const planCost = (rows: unknown[][]): number | undefined => {
  const doc = rows[0]?.[0];
  const parsed = typeof doc === 'string' ? (JSON.parse(doc) as unknown) : doc;
  const cost = (parsed as { Plan?: { 'Total Cost'?: unknown } }[] | undefined)?.[0]?.Plan?.['Total Cost'];
  return typeof cost === 'number' ? cost : undefined;
};
