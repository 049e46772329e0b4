import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { errorMessage } from '../errors.js';
import {
  type CheckResult,
  type Evaluation,
  type FreshnessEvaluation,
  evaluateAssertion,
  evaluateChecksum,
  evaluateFreshness,
  evaluateRowCount,
  notRun,
  plannedChecks,
  quoteTable,
  redact,
  sql,
  worstRpo,
} from './checks.js';
import { type VerificationProfileInput, parseVerificationProfile } from './profile.js';

/** Where the restored database listens. `database` defaults to the profile's. */
export interface PgConnection {
  host: string;
  port: number;
  user: string;
  password?: string;
  database?: string;
  /** `true`, or TLS options such as `{ ca, rejectUnauthorized: true }` for RDS. */
  ssl?: boolean | ConnectionOptions;
}

/** A table's numbers from a drill: the next drill's baseline. */
export interface TableBaseline {
  rows: number;
  checksum?: string;
}

export interface VerifyContext {
  /** Snapshot time, or the PITR target time: data RPO is measured against it. */
  referenceTime: Date;
  /** From config or the last successful drill, keyed by the profile's table name. */
  baseline?: Record<string, TableBaseline>;
  /** Millisecond clock, injected so timing is testable. */
  now: () => number;
}

export interface VerificationReport {
  passed: boolean;
  host: string;
  port: number;
  database: string;
  user: string;
  referenceTime: string;
  checks: CheckResult[];
  /** Worst data RPO over the tables with a freshness column. */
  dataRpoSeconds?: number;
  /** Newest row time of the table that sets `dataRpoSeconds`. */
  newestRowTime?: string;
  verifyMs: number;
  /** Rows and checksums measured now: a new baseline when the drill passes. */
  tables: Record<string, TableBaseline>;
}

type Planned = Pick<CheckResult, 'name' | 'kind'>;

const describeError = (e: unknown): string => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)
    ? `${errorMessage(e)} (SQLSTATE ${code})`
    : errorMessage(e);
};

/**
 * Connect to a restored database and check it against a profile. Never throws for what it finds
 * (each check reports its own failure); throws ConfigError only for an invalid profile.
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
  const planned = plannedChecks(profile);
  const checks: CheckResult[] = [];
  const tables: Record<string, TableBaseline> = {};
  const freshness: FreshnessEvaluation[] = [];

  const run = async (p: Planned, evaluate: () => Promise<Evaluation>): Promise<CheckResult> => {
    const t = ctx.now();
    let e: Evaluation;
    try {
      e = await evaluate();
    } catch (err) {
      e = { passed: false, measured: null, expected: null, detail: clean(err) };
    }
    const result: CheckResult = {
      ...p,
      passed: e.passed,
      measured: e.measured,
      expected: e.expected,
      detail: redact(e.detail, [conn.password]),
      ms: Math.round(ctx.now() - t),
    };
    checks.push(result);
    return result;
  };
  const find = (kind: CheckResult['kind'], name: string): Planned => {
    const p = planned.find((c) => c.kind === kind && c.name === `${kind} ${name}`);
    if (!p) throw new Error(`no planned ${kind} check for ${name}`);
    return p;
  };

  const client = new pg.Client({
    host: conn.host,
    port: conn.port,
    user: conn.user,
    password: conn.password,
    database,
    ssl: conn.ssl,
    connectionTimeoutMillis: profile.connectTimeoutMs,
    // Client-side backstop for a silent network; the server-side statement_timeout fires first.
    query_timeout: profile.statementTimeoutMs + 10_000,
    application_name: 'steward-drill',
  });
  // A dropped connection also fails the pending query, which is where it is reported.
  client.on('error', () => undefined);

  try {
    const connect = await run(planned[0]!, async () => {
      await client.connect();
      // Read-only so a profile's SQL cannot change the restored data; UTC and ISO so row text
      // (checksums) and timestamp casts do not depend on the server's defaults.
      await client.query(
        `set session characteristics as transaction read only; set statement_timeout = ${profile.statementTimeoutMs};` +
          ` set time zone 'UTC'; set datestyle = 'ISO, MDY'; set intervalstyle = 'postgres'; set bytea_output = 'hex'`,
      );
      const r = await client.query<{ ok: number; version: string }>(
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
      for (const p of planned.slice(1)) checks.push(notRun(p, 'connect failed'));
      return finish();
    }

    for (const s of profile.schemas) {
      await run(find('schema', s), async () => {
        const r = await client.query<{ ok: boolean }>(sql.schemaExists, [s]);
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
      const c = await run(find('table', t.name), async () => {
        const r = await client.query<{ ok: boolean }>(sql.tableExists, [quoteTable(t.name)]);
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

    // An index-only scan would answer count(*) without touching the heap; the count doubles as the
    // full read that pulls lazy-loaded RDS storage in from S3, so it must read the table itself.
    await client.query('set enable_indexonlyscan = off').catch(() => undefined);
    for (const t of profile.tables) {
      const p = find('row-count', t.name);
      const why = missing(t.name);
      if (why) {
        checks.push(notRun(p, why));
        continue;
      }
      await run(p, async () => {
        const r = await client.query<{ n: string }>(sql.count(t.name));
        const rows = Number(r.rows[0]?.n);
        tables[t.name] = { rows };
        return evaluateRowCount(t, rows, t.baselineRows ?? ctx.baseline?.[t.name]?.rows);
      });
    }
    await client.query('reset enable_indexonlyscan').catch(() => undefined);

    for (const t of profile.tables) {
      if (!t.freshnessColumn) continue;
      const column = t.freshnessColumn;
      const p = find('freshness', t.name);
      const why = missing(t.name);
      if (why) {
        checks.push(notRun(p, why));
        continue;
      }
      await run(p, async () => {
        const r = await client.query<{ newest: Date | null }>(sql.newest(t.name, column));
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
      await run(p, async () => {
        const r = await client.query<{ checksum: string; n: number }>(sql.checksum(t.name, orderBy), [
          sampleRows,
        ]);
        const checksum = r.rows[0]?.checksum ?? '';
        const known = tables[t.name];
        if (known) known.checksum = checksum;
        return evaluateChecksum(checksum, r.rows[0]?.n ?? 0, ctx.baseline?.[t.name]?.checksum);
      });
    }

    for (const a of profile.assertions) {
      await run(find('assertion', a.name), async () => {
        // Its own read-only transaction, rolled back: a SET or error inside cannot leak into the next check.
        await client.query('begin transaction read only');
        try {
          // Extended protocol refuses several statements in one string.
          const query: pg.QueryArrayConfig & { queryMode: 'extended' } = {
            text: a.sql,
            rowMode: 'array',
            queryMode: 'extended',
          };
          const r = await client.query(query);
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

  function finish(): VerificationReport {
    const worst = worstRpo(freshness);
    return {
      passed: checks.every((c) => c.passed),
      host: conn.host,
      port: conn.port,
      database,
      user: conn.user,
      referenceTime: ctx.referenceTime.toISOString(),
      checks,
      ...(worst ?? {}),
      verifyMs: Math.round(ctx.now() - started),
      tables,
    };
  }
};
