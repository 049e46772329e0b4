import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  UnsafeIdentifierError,
  checksOutcome,
  estimateRows,
  evaluateProbes,
  evaluateSample,
  extrapolate,
  maxTuplesPerPage,
  planProbes,
  samplePageNumbers,
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

describe('bounded evidence for big tables', () => {
  it.each([
    [[], 'passed'],
    [['passed', 'passed'], 'passed'],
    [['passed', 'unfinished'], 'inconclusive'],
    [['unfinished', 'failed'], 'failed'],
  ] as const)(
    'checks %j make the verification %s: a check not finished is missing evidence, not a failure',
    (statuses, outcome) => {
      expect(checksOutcome(statuses.map((status) => ({ status })))).toBe(outcome);
    },
  );

  it.each([
    [
      'scales the density of the last ANALYZE to the heap now',
      { reltuples: 1000, relpages: 10, pages: 20 },
      2000,
    ],
    ['an empty heap has no rows', { reltuples: -1, relpages: 0, pages: 0 }, 0],
    ['a never analyzed table has no estimate', { reltuples: -1, relpages: 0, pages: 5 }, undefined],
  ])('estimateRows %s', (_why, { reltuples, relpages, pages }, rows) => {
    expect(estimateRows({ bytes: pages * 8192, blockSize: 8192, reltuples, relpages })).toBe(rows);
  });

  it('samples distinct pages, the same for the same seed, every page of a small heap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer(),
        (pages, count, seed) => {
          const picked = samplePageNumbers(pages, count, seed);
          expect(picked).toEqual(samplePageNumbers(pages, count, seed));
          expect(picked).toHaveLength(Math.min(pages, count));
          expect(new Set(picked).size).toBe(picked.length);
          expect(picked).toEqual([...picked].sort((a, b) => a - b));
          for (const p of picked) expect(p >= 0 && p < pages).toBe(true);
        },
      ),
    );
    expect(maxTuplesPerPage(8192)).toBe(291);
    expect(extrapolate(500, 10, 1000)).toBe(50_000);
  });

  it('fails the sample when the rows on the sampled pages extrapolate below the floor, whatever the estimate says', () => {
    // Act: the planner still says 10 000 (stale), the pages say ~7 500.
    const lost = evaluateSample(
      table({ minRows: 1 }),
      { rows: 750, pages: 10, totalPages: 100 },
      10_000,
      10_000,
    );
    const ok = evaluateSample(table(), { rows: 990, pages: 10, totalPages: 100 }, 10_000, 10_000);
    // Assert
    expect(lost).toMatchObject({ passed: false, measured: 7500, expected: '>= 9500', method: 'sample' });
    expect(lost.detail).toBe(
      '750 rows on 10 random pages of 100 (every row read) → ~7500 rows, -25.0% vs the estimate: below 9500, rows lost',
    );
    expect(ok.passed).toBe(true);
  });

  it('plans key-range probes inside the key space, ending at the newest key', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }),
        fc.bigInt({ min: 0n, max: 2n ** 40n }),
        fc.integer({ min: 1, max: 1e9 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 100_000 }),
        (lo, span, rows, count, perRange) => {
          const hi = lo + span;
          const probes = planProbes(lo, hi, rows, count, perRange);
          expect(probes.length).toBeGreaterThanOrEqual(1);
          expect(probes.length).toBeLessThanOrEqual(count);
          for (const p of probes) {
            expect(BigInt(p.from) >= lo && BigInt(p.to) <= hi + 1n && BigInt(p.from) < BigInt(p.to)).toBe(
              true,
            );
          }
          expect(probes.at(-1)!.to).toBe((hi + 1n).toString());
        },
      ),
    );
    expect(planProbes(1n, 1_000_000n, 1_000_000, 3, 1000)).toEqual([
      { from: '1', to: '1001' },
      { from: '499501', to: '500501' },
      { from: '999001', to: '1000001' },
    ]);
    expect(planProbes(5n, 4n, 0, 3, 10)).toEqual([]);
  });

  it('compares probed ranges with the last passed drill: a range may lose no more than the tolerance', () => {
    // Prepare
    const recorded = [{ from: '1', to: '1001', rows: 1000 }];
    // Act
    const same = evaluateProbes(
      table(),
      'id',
      [{ from: '1', to: '1001', rows: 990, baseline: 1000 }],
      recorded,
    );
    const lost = evaluateProbes(
      table(),
      'id',
      [{ from: '1', to: '1001', rows: 900, baseline: 1000 }],
      recorded,
    );
    const first = evaluateProbes(table(), 'id', [], recorded);
    // Assert
    expect(same.passed).toBe(true);
    expect(lost).toMatchObject({
      passed: false,
      detail: 'rows lost in 1 of 1 ranges of id: [1, 1001) 900 < baseline 1000',
    });
    expect(first).toMatchObject({
      passed: true,
      expected: null,
      detail: '1 ranges recorded: [1, 1001) 1000',
    });
  });

  it('labels an estimated count with its method', () => {
    expect(
      evaluateRowCount(
        table({ minRows: 1 }),
        5_000_000,
        undefined,
        'estimate',
        'planner statistics after ANALYZE',
      ),
    ).toMatchObject({
      passed: true,
      method: 'estimate',
      detail: '~5000000 rows (estimate: planner statistics after ANALYZE)',
    });
  });
});
