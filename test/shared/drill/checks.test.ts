import { describe, expect, it } from 'vitest';
import {
  UnsafeIdentifierError,
  evaluateAssertion,
  evaluateChecksum,
  evaluateFreshness,
  evaluateRowCount,
  plannedChecks,
  quoteOrderBy,
  quoteTable,
  redact,
  sql,
  worstRpo,
} from '../../../shared/drill/checks.js';
import { type TableCheck, parseVerificationProfile } from '../../../shared/drill/profile.js';
import { ConfigError } from '../../../shared/errors.js';

const table = (over: Partial<TableCheck> = {}): TableCheck => ({
  name: 'public.t',
  tolerancePct: 5,
  ...over,
});

describe('identifier quoting', () => {
  it.each([
    ['users', '"users"'],
    ['public.users', '"public"."users"'],
    ['Audit_Log2', '"Audit_Log2"'],
    ['user', '"user"'],
  ])('quotes %s as %s', (name, quoted) => {
    // Act / Assert
    expect(quoteTable(name)).toBe(quoted);
  });

  it.each(['users; drop table users', 'a.b.c', '"users"', 'users--', '1users', 'pg catalog', '', 'x".y'])(
    'refuses %j',
    (name) => {
      // Act / Assert
      expect(() => quoteTable(name)).toThrow(UnsafeIdentifierError);
    },
  );

  it.each([
    ['id', undefined, '"id"'],
    ['created_at desc, id', 't', 't."created_at" desc, t."id"'],
    ['ID ASC', undefined, '"ID" asc'],
  ])('quotes ORDER BY %j', (orderBy, alias, quoted) => {
    // Act / Assert
    expect(quoteOrderBy(orderBy, alias)).toBe(quoted);
  });

  it.each(['id; select 1', 'id desc nulls first', 'random()', 'id,,x'])('refuses ORDER BY %j', (orderBy) => {
    // Act / Assert
    expect(() => quoteOrderBy(orderBy)).toThrow(UnsafeIdentifierError);
  });

  it('builds the checksum query from quoted names with the sample size bound', () => {
    // Act
    const q = sql.checksum('public.transactions', 'id');
    // Assert
    expect(q).toContain(`string_agg(t::text, E'\\n' order by t."id")`);
    expect(q).toContain('from "public"."transactions" order by "id" limit $1');
  });
});

describe('profile validation', () => {
  it('names every bad field', () => {
    // Act
    const act = () =>
      parseVerificationProfile({
        database: 'app',
        tables: [
          { name: 'x; drop', checksum: { sampleRows: 0, orderBy: 'id; --' } },
          { name: 'a', freshnessColumn: 'now()' },
          { name: 'a' },
        ],
      });
    // Assert
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(
      /tables\.0\.name: .*tables\.0\.checksum\.sampleRows: .*tables\.0\.checksum\.orderBy: .*tables\.1\.freshnessColumn: .*table "a" is listed twice/,
    );
  });

  it('plans one check per schema, table, count, freshness column, checksum and assertion', () => {
    // Prepare
    const p = parseVerificationProfile({
      database: 'app',
      schemas: ['public'],
      tables: [
        { name: 'a', freshnessColumn: 'ts', checksum: { sampleRows: 5, orderBy: 'id' } },
        { name: 'b' },
      ],
      assertions: [{ name: 'ok', sql: 'select true' }],
    });
    // Act
    const names = plannedChecks(p).map((c) => c.name);
    // Assert
    expect(names).toEqual([
      'connect',
      'schema public',
      'table a',
      'table b',
      'row-count a',
      'row-count b',
      'freshness a',
      'checksum a',
      'assertion ok',
    ]);
  });
});

describe('evaluateRowCount', () => {
  it.each([
    { rows: 0, t: table(), baseline: undefined, passed: true },
    { rows: 9, t: table({ minRows: 10 }), baseline: undefined, passed: false },
    { rows: 10, t: table({ minRows: 10 }), baseline: undefined, passed: true },
    { rows: 950, t: table(), baseline: 1_000, passed: true },
    { rows: 949, t: table(), baseline: 1_000, passed: false },
    { rows: 5_000, t: table(), baseline: 1_000, passed: true },
    { rows: 899, t: table({ tolerancePct: 10 }), baseline: 1_000, passed: false },
    { rows: 0, t: table({ tolerancePct: 0 }), baseline: 0, passed: true },
    { rows: 999, t: table({ tolerancePct: 0, minRows: 1 }), baseline: 1_000, passed: false },
  ])(
    '$rows rows, minRows $t.minRows, baseline $baseline ±$t.tolerancePct%: passed=$passed',
    ({ rows, t, baseline, passed }) => {
      // Act / Assert
      expect(evaluateRowCount(t, rows, baseline).passed).toBe(passed);
    },
  );
});

describe('evaluateFreshness', () => {
  const ref = new Date('2025-06-01T03:00:00Z');

  it.each([
    { newest: '2025-06-01T02:59:30Z', target: 300, rpo: 30, passed: true },
    { newest: '2025-06-01T02:55:00Z', target: 300, rpo: 300, passed: true },
    { newest: '2025-06-01T02:54:59Z', target: 300, rpo: 301, passed: false },
    { newest: '2025-06-01T01:00:00Z', target: undefined, rpo: 7_200, passed: true },
    { newest: '2025-06-01T03:00:10Z', target: 300, rpo: 0, passed: true },
  ])('newest $newest, target $target s: RPO $rpo s, passed=$passed', ({ newest, target, rpo, passed }) => {
    // Act
    const e = evaluateFreshness(new Date(newest), ref, target);
    // Assert
    expect({ rpo: e.rpoSeconds, passed: e.passed }).toEqual({ rpo, passed });
  });

  it('fails an empty table: freshness cannot be shown', () => {
    // Act
    const e = evaluateFreshness(null, ref, 300);
    // Assert
    expect(e).toMatchObject({ passed: false, detail: 'no rows: the newest row time is unknown' });
    expect(e.rpoSeconds).toBeUndefined();
  });

  it('reports the worst table as the data RPO', () => {
    // Prepare
    const es = ['02:59:30', '02:50:00', '02:58:00'].map((t) =>
      evaluateFreshness(new Date(`2025-06-01T${t}Z`), ref),
    );
    // Act / Assert
    expect(worstRpo([...es, evaluateFreshness(null, ref)])).toEqual({
      dataRpoSeconds: 600,
      newestRowTime: '2025-06-01T02:50:00.000Z',
    });
    expect(worstRpo([])).toBeUndefined();
  });
});

describe('evaluateAssertion', () => {
  it.each([
    { rows: [[true]], columns: 1, passed: true, detail: 'holds' },
    { rows: [[false]], columns: 1, passed: false, detail: 'returned false' },
    { rows: [[null]], columns: 1, passed: false, detail: 'returned NULL, not a boolean' },
    { rows: [['t']], columns: 1, passed: false, detail: 'returned string "t", not a boolean' },
    {
      rows: [],
      columns: 1,
      passed: false,
      detail: 'returned 0 row(s) with 1 column(s); expected exactly one row with one boolean column',
    },
    {
      rows: [[true, true]],
      columns: 2,
      passed: false,
      detail: 'returned 1 row(s) with 2 column(s); expected exactly one row with one boolean column',
    },
  ])('$rows → passed=$passed', ({ rows, columns, passed, detail }) => {
    // Act / Assert
    expect(evaluateAssertion(rows, columns)).toMatchObject({ passed, detail });
  });
});

describe('evaluateChecksum', () => {
  it.each([
    { baseline: undefined, passed: true, detail: /recorded/ },
    { baseline: 'abc', passed: true, detail: /matches/ },
    { baseline: 'def', passed: false, detail: /differs/ },
  ])('against baseline $baseline: passed=$passed', ({ baseline, passed, detail }) => {
    // Act
    const e = evaluateChecksum('abc', 1_000, baseline);
    // Assert
    expect(e.passed).toBe(passed);
    expect(e.detail).toMatch(detail);
  });
});

describe('redact', () => {
  it('removes given secrets and URL passwords', () => {
    // Act
    const out = redact('auth for s3cr3t failed at postgresql://drill:hunter2@db:5432/app', [
      's3cr3t',
      undefined,
      '',
    ]);
    // Assert
    expect(out).toBe('auth for *** failed at postgresql://drill:***@db:5432/app');
  });
});
