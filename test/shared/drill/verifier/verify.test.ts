import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../../../shared/drill/checks.js';
import { type PgServer, startPostgres } from '../../../../shared/drill/local/postgres-server.js';
import type { VerificationProfileInput } from '../../../../shared/drill/profile.js';
import { loadSampleData, sampleDatabase, sampleProfile } from '../../../../shared/drill/local/sample-data.js';
import type {
  PgConnection,
  VerificationReport,
  VerifyContext,
} from '../../../../shared/drill/verification.js';
import { verifyDatabase } from '../../../../shared/drill/verifier/verify.js';
import { ConfigError } from '../../../../shared/errors.js';
import { asSuperuser } from '../../../support/slow-reads.js';

const NOW = new Date('2025-06-01T03:00:00.000Z');
const ROWS = 5_000;
const READER = 'drill_reader';
const READER_PASSWORD = 'Corr3ct-Horse-Battery-Staple';

let server: PgServer;
let baseline: VerificationReport['tables'];

const admin = (database: string, ...statements: string[]) => asSuperuser(server, database, ...statements);

const reader = (over: Partial<PgConnection> = {}): PgConnection => ({
  host: server.host,
  port: server.port,
  user: READER,
  password: READER_PASSWORD,
  database: sampleDatabase,
  ...over,
});

const ctx = (over: Partial<VerifyContext> = {}): VerifyContext => ({
  referenceTime: NOW,
  now: () => performance.now(),
  ...over,
});

const check = (r: VerificationReport, name: string): CheckResult => {
  const c = r.checks.find((x) => x.name === name);
  if (!c) throw new Error(`no check named ${name}: ${r.checks.map((x) => x.name).join(', ')}`);
  return c;
};

const failedNames = (r: VerificationReport) => r.checks.filter((c) => !c.passed).map((c) => c.name);

describe('verifyDatabase against a real PostgreSQL', () => {
  beforeAll(async () => {
    server = await startPostgres({ name: 'verify-test' });
    await admin(
      'postgres',
      `create database ${sampleDatabase}`,
      `create role ${READER} login password '${READER_PASSWORD}'`,
    );
    await loadSampleData(server.connectionString(sampleDatabase), { rows: ROWS, seed: 42, now: NOW });
    await admin(sampleDatabase, `grant select on all tables in schema public to ${READER}`);
    // Copies of the restored database with one kind of damage each (a template copy keeps the grants).
    await admin(
      'postgres',
      `create database shrunk template ${sampleDatabase}`,
      `create database tampered template ${sampleDatabase}`,
    );
    await admin('shrunk', 'delete from transactions where id % 10 = 0');
    // Rows lost without the statistics noticing (no ANALYZE since): what an estimate alone would miss.
    await admin('postgres', `create database stale template ${sampleDatabase}`);
    await admin(
      'stale',
      'alter table transactions set (autovacuum_enabled = off)',
      'delete from transactions where id % 10 = 0',
    );
    await admin('tampered', "update transactions set description = description || '!' where id = 7");
    const first = await verifyDatabase(reader(), sampleProfile, ctx());
    baseline = first.tables;
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('passes a database that matches the profile, measuring data RPO and recording a new baseline', async () => {
    // Act
    const r = await verifyDatabase(reader(), sampleProfile, ctx());
    // Assert
    expect(failedNames(r)).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.dataRpoSeconds).toBe(30);
    expect(r.newestRowTime).toBe('2025-06-01T02:59:30.000Z');
    expect(new Set(r.checks.map((c) => c.kind))).toEqual(
      new Set(['connect', 'schema', 'table', 'row-count', 'probe', 'freshness', 'checksum', 'assertion']),
    );
    expect(r.tables['public.transactions']).toEqual({
      rows: ROWS,
      method: 'exact',
      checksum: expect.stringMatching(/^[0-9a-f]{32}$/),
      // The one-column integer primary key, probed over its whole (small) range.
      key: 'id',
      probes: [{ from: '1', to: String(ROWS + 1), rows: ROWS }],
    });
    expect(r.tables['public.users']?.rows).toBe(100);
    expect(check(r, 'row-count public.transactions')).toMatchObject({ measured: ROWS, passed: true });
    expect(check(r, 'checksum public.transactions').detail).toContain('no baseline');
    expect(r.verifyMs).toBeGreaterThan(0);
  });

  it('fails a missing table and reports its dependent checks as not run while the others still run', async () => {
    // Prepare
    const profile: VerificationProfileInput = {
      ...sampleProfile,
      tables: [
        ...sampleProfile.tables,
        {
          name: 'public.ledger_entries',
          minRows: 1,
          freshnessColumn: 'created_at',
          checksum: { sampleRows: 10, orderBy: 'id' },
        },
      ],
    };
    // Act
    const r = await verifyDatabase(reader(), profile, ctx());
    // Assert
    expect(r.passed).toBe(false);
    expect(check(r, 'table public.ledger_entries')).toMatchObject({
      passed: false,
      detail: expect.stringContaining('does not exist'),
    });
    for (const kind of ['row-count', 'freshness', 'checksum']) {
      expect(check(r, `${kind} public.ledger_entries`).detail).toMatch(
        /^not run: table public.ledger_entries missing/,
      );
    }
    expect(failedNames(r)).toHaveLength(4);
    expect(check(r, 'assertion no transaction without account (newest 100 000)').passed).toBe(true);
  });

  it('fails the row count when rows dropped beyond the tolerance below the last baseline', async () => {
    // Act
    const r = await verifyDatabase(reader({ database: 'shrunk' }), sampleProfile, ctx({ baseline }));
    // Assert
    expect(check(r, 'row-count public.transactions')).toMatchObject({
      passed: false,
      measured: 4_500,
      expected: '>= 1 (minRows), >= 4750 (baseline 5000 - 5%)',
      detail: expect.stringContaining('-10.0% vs baseline 5000: rows lost'),
    });
    expect(check(r, 'row-count public.users').passed).toBe(true);
    expect(r.passed).toBe(false);
  });

  it('catches rows lost behind stale statistics with the sampled pages and the key-range probes', async () => {
    // Prepare: estimate every table; the reader does not own them, so it cannot ANALYZE.
    const profile: VerificationProfileInput = { ...sampleProfile, exactCountMaxBytes: 0 };
    // Act
    const r = await verifyDatabase(reader({ database: 'stale' }), profile, ctx({ baseline }));
    // Assert: the planner still believes 5000 rows...
    expect(check(r, 'row-count public.transactions')).toMatchObject({
      status: 'passed',
      method: 'estimate',
      measured: ROWS,
      detail: expect.stringContaining('statistics as restored (ANALYZE not permitted to this user)'),
    });
    // ...but every row on the sampled pages (all of them, for a table this small) and the probed key
    // range, against the last passed drill's, say 10 % are gone.
    expect(check(r, 'sample public.transactions')).toMatchObject({
      status: 'failed',
      method: 'sample',
      measured: 4_500,
      detail: expect.stringContaining('rows lost'),
    });
    expect(check(r, 'probe public.transactions')).toMatchObject({
      status: 'failed',
      detail: `rows lost in 1 of 1 ranges of id: [1, ${ROWS + 1}) 4500 < baseline ${ROWS}`,
    });
    expect(r.outcome).toBe('failed');
  });

  it.each([
    { baselineRows: 5_200, why: 'a drop within the 5 % tolerance' },
    { baselineRows: 4_000, why: 'growth since the baseline' },
  ])('accepts $why', async ({ baselineRows }) => {
    // Prepare
    const profile: VerificationProfileInput = {
      ...sampleProfile,
      tables: sampleProfile.tables.map((t) =>
        t.name === 'public.transactions' ? { ...t, baselineRows } : t,
      ),
    };
    // Act
    const r = await verifyDatabase(reader(), profile, ctx());
    // Assert
    expect(check(r, 'row-count public.transactions').passed).toBe(true);
  });

  it('fails freshness when the newest restored row is older than the RPO target allows', async () => {
    // Prepare: the snapshot claims to be an hour newer than the data it holds
    const referenceTime = new Date(NOW.getTime() + 3_600_000);
    // Act
    const r = await verifyDatabase(reader(), sampleProfile, ctx({ referenceTime }));
    // Assert
    expect(r.passed).toBe(false);
    expect(r.dataRpoSeconds).toBe(3_630);
    expect(failedNames(r)).toEqual([
      'freshness public.users',
      'freshness public.accounts',
      'freshness public.transactions',
    ]);
    expect(check(r, 'freshness public.transactions')).toMatchObject({
      measured: 3_630,
      expected: '<= 300 s',
      detail: expect.stringContaining('exceeds the 300 s target'),
    });
  });

  it('fails custom assertions that return false, a non-boolean, several rows, or an SQL error, and runs the rest', async () => {
    // Prepare
    const profile: VerificationProfileInput = {
      database: sampleDatabase,
      tables: [],
      assertions: [
        { name: 'false', sql: 'select count(*) = 0 from transactions' },
        { name: 'not boolean', sql: 'select count(*) from transactions' },
        { name: 'two rows', sql: 'select true from generate_series(1, 2)' },
        { name: 'two columns', sql: 'select true, true' },
        { name: 'sql error', sql: 'select exists(select 1 from ledger_entries)' },
        { name: 'write', sql: 'delete from transactions returning true' },
        { name: 'two statements', sql: 'select true; select true' },
        { name: 'true', sql: 'select count(*) > 0 from transactions' },
      ],
    };
    // Act
    const r = await verifyDatabase(reader(), profile, ctx());
    // Assert
    const detail = (name: string) => check(r, `assertion ${name}`).detail;
    expect(failedNames(r)).toEqual([
      'assertion false',
      'assertion not boolean',
      'assertion two rows',
      'assertion two columns',
      'assertion sql error',
      'assertion write',
      'assertion two statements',
    ]);
    expect(detail('false')).toBe('returned false');
    expect(detail('not boolean')).toBe('returned string "5000", not a boolean');
    expect(detail('two rows')).toContain('returned 2 row(s)');
    expect(detail('two columns')).toContain('2 column(s)');
    expect(detail('sql error')).toBe('relation "ledger_entries" does not exist (SQLSTATE 42P01)');
    expect(detail('write')).toContain('read-only transaction');
    expect(detail('two statements')).toContain('multiple commands');
    expect(check(r, 'assertion true').passed).toBe(true);
  });

  it('reports an assertion that exceeds its time bound as not finished: inconclusive, not failed', async () => {
    // Prepare
    const profile: VerificationProfileInput = {
      database: sampleDatabase,
      statementTimeoutMs: 200,
      assertions: [
        { name: 'slow', sql: 'select pg_sleep(5) is not null' },
        { name: 'slow with its own bound', sql: 'select pg_sleep(5) is not null', timeoutSeconds: 0.3 },
        { name: 'quick', sql: 'select true' },
      ],
    };
    // Act
    const r = await verifyDatabase(reader(), profile, ctx());
    // Assert
    expect(check(r, 'assertion slow')).toMatchObject({
      passed: false,
      status: 'unfinished',
      budgetMs: 200,
      detail: 'not finished in 200 ms',
    });
    expect(check(r, 'assertion slow with its own bound')).toMatchObject({
      status: 'unfinished',
      budgetMs: 300,
      detail: 'not finished in 300 ms',
    });
    expect(check(r, 'assertion slow').ms).toBeLessThan(4_000);
    // The connection survives the cancelled statements: the next check runs.
    expect(check(r, 'assertion quick').status).toBe('passed');
    expect(r).toMatchObject({ passed: false, outcome: 'inconclusive' });
  });

  it('fails the checksum when sampled rows differ from the baseline and passes it when they match', async () => {
    // Act
    const tampered = await verifyDatabase(reader({ database: 'tampered' }), sampleProfile, ctx({ baseline }));
    const intact = await verifyDatabase(reader(), sampleProfile, ctx({ baseline }));
    // Assert
    expect(failedNames(tampered)).toEqual(['checksum public.transactions']);
    expect(check(tampered, 'checksum public.transactions')).toMatchObject({
      expected: baseline['public.transactions']?.checksum,
      detail: expect.stringContaining('differs from the baseline'),
    });
    expect(intact.passed).toBe(true);
    expect(check(intact, 'checksum public.transactions').detail).toContain('matches the baseline');
  });

  it('reports bad credentials as a failed connect check, runs nothing else, and never shows the password', async () => {
    // Prepare
    const password = 'Wr0ng-Secret-Xyzzy-991';
    // Act
    const r = await verifyDatabase(reader({ password }), sampleProfile, ctx());
    // Assert
    expect(r.passed).toBe(false);
    expect(check(r, 'connect').detail).toMatch(
      /^could not connect to 127\.0\.0\.1:\d+\/app as drill_reader: password authentication failed for user "drill_reader" \(SQLSTATE 28P01\)$/,
    );
    expect(r.checks.slice(1).every((c) => !c.passed && c.detail === 'not run: connect failed')).toBe(true);
    expect(r.checks).toHaveLength(1 + 1 + 3 + 3 + 3 + 1 + 4);
    expect(JSON.stringify(r)).not.toContain(password);
    expect(JSON.stringify(r)).not.toContain(READER_PASSWORD);
  });

  it('reports an unreachable server as a failed connect check', async () => {
    // Act
    const r = await verifyDatabase(reader({ port: 1 }), sampleProfile, ctx());
    // Assert
    expect(check(r, 'connect')).toMatchObject({
      passed: false,
      detail: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('rejects an unsafe table name before connecting', async () => {
    // Prepare
    const profile: VerificationProfileInput = {
      database: sampleDatabase,
      tables: [{ name: 'users; drop table users' }],
    };
    // Act
    const act = verifyDatabase(reader({ port: 1 }), profile, ctx());
    // Assert
    await expect(act).rejects.toThrow(ConfigError);
    await expect(act).rejects.toThrow(/tables\.0\.name: must be table or schema\.table/);
  });

  it('loads identical sample data for the same seed and different data for another seed', async () => {
    // Prepare
    await admin('postgres', 'create database again', 'create database other');
    await loadSampleData(server.connectionString('again'), { rows: ROWS, seed: 42, now: NOW });
    await loadSampleData(server.connectionString('other'), { rows: ROWS, seed: 43, now: NOW });
    const superuser = { user: 'postgres', password: undefined };
    // Act
    const again = await verifyDatabase(
      reader({ ...superuser, database: 'again' }),
      sampleProfile,
      ctx({ baseline }),
    );
    const other = await verifyDatabase(
      reader({ ...superuser, database: 'other' }),
      sampleProfile,
      ctx({ baseline }),
    );
    // Assert
    expect(again.passed).toBe(true);
    expect(failedNames(other)).toEqual(['checksum public.transactions']);
  });
});
