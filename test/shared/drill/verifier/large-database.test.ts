import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgServer } from '../../../../shared/drill/local/postgres-server.js';
import type { VerificationProfileInput } from '../../../../shared/drill/profile.js';
import { verifyDatabase } from '../../../../shared/drill/verifier/verify.js';
import { LEDGER, ledgerProfile, startSlowLedger } from '../../../support/slow-reads.js';

// "Too large to scan within the verifier's time": the ledger's every row read costs 2 ms (a forced
// row-level security policy that sleeps), so a full scan of its 3000 rows takes over 6 s, while the
// verification budget here is 4 s, a tenth of a Lambda's 15 minutes scaled down.
const ROWS = 3000;
const { owner: OWNER, password: PASSWORD, snapshotTime: SNAPSHOT_TIME } = LEDGER;
const profile = ledgerProfile(ROWS);

let server: PgServer;
beforeAll(async () => {
  server = await startSlowLedger('large-db-test', ROWS);
});
afterAll(async () => {
  await server?.stop();
});

const conn = () => ({ host: server.host, port: server.port, user: OWNER, password: PASSWORD });

describe('verification of a database too large to scan in its budget', () => {
  it('estimates the row count after ANALYZE, checks it on sampled pages and key ranges, and passes within budget', async () => {
    // Act
    const r = await verifyDatabase(conn(), profile, {
      referenceTime: SNAPSHOT_TIME,
      now: () => performance.now(),
    });

    // Assert
    expect(r.checks.filter((c) => c.status !== 'passed')).toEqual([]);
    expect(r).toMatchObject({ passed: true, outcome: 'passed', budgetMs: 4000, dataRpoSeconds: 30 });
    const count = r.checks.find((c) => c.name === 'row-count ledger')!;
    expect(count).toMatchObject({ method: 'estimate', measured: ROWS });
    expect(count.detail).toMatch(/planner statistics after ANALYZE; exact count not finished in 1\.2 s/);
    const sample = r.checks.find((c) => c.name === 'sample ledger')!;
    expect(sample).toMatchObject({ kind: 'sample', method: 'sample', status: 'passed' });
    expect(sample.detail).toMatch(/^\d+ rows on 4 random pages of \d+ \(every row read\)/);
    expect(r.checks.find((c) => c.name === 'probe ledger')).toMatchObject({ status: 'passed' });
    expect(r.tables.ledger).toMatchObject({ rows: ROWS, method: 'estimate', key: 'id' });
    // No check outlived its bound by more than a round trip or two, and none was unbounded.
    for (const c of r.checks) {
      expect(c.budgetMs, c.name).toBeGreaterThan(0);
      expect(c.ms, c.name).toBeLessThanOrEqual(c.budgetMs! + 1000);
    }
  });

  it('gives a check it does not run no time, even when the clock moves while it is skipped', async () => {
    // Prepare: the budget spent by the first assertion; a clock that reads 5 ms later at every read, as a
    // loaded machine's (a GC pause, a descheduled process) may between two reads around a skipped check.
    const slow: VerificationProfileInput = {
      ...profile,
      tables: [],
      budgetSeconds: 1.5,
      assertions: [
        { name: 'every amount is small', sql: 'select bool_and(amount_cents < 100000) from ledger' },
        { name: 'quick', sql: 'select true' },
      ],
    };
    let skew = 0;

    // Act
    const r = await verifyDatabase(conn(), slow, {
      referenceTime: SNAPSHOT_TIME,
      now: () => performance.now() + (skew += 5),
    });

    // Assert
    expect(r.checks.find((c) => c.name === 'assertion quick')).toMatchObject({ status: 'unfinished', ms: 0 });
  });

  it('says "not finished" rather than failing when the budget runs out, and the drill is inconclusive', async () => {
    // Prepare: an assertion that reads the whole ledger, first; too little budget left for the rest.
    const slow: VerificationProfileInput = {
      ...profile,
      tables: [],
      budgetSeconds: 1.5,
      assertions: [
        { name: 'every amount is small', sql: 'select bool_and(amount_cents < 100000) from ledger' },
        { name: 'quick', sql: 'select true' },
      ],
    };

    // Act
    const r = await verifyDatabase(conn(), slow, {
      referenceTime: SNAPSHOT_TIME,
      now: () => performance.now(),
    });

    // Assert
    expect(r.checks.find((c) => c.name === 'assertion every amount is small')).toMatchObject({
      status: 'unfinished',
      detail: expect.stringMatching(/^not finished in 1\.\d s \(what was left of the verification budget\)$/),
    });
    expect(r.checks.find((c) => c.name === 'assertion quick')).toMatchObject({
      status: 'unfinished',
      detail: 'not run: the verification budget of 1.5 s is spent',
      ms: 0,
    });
    expect(r).toMatchObject({ passed: false, outcome: 'inconclusive' });
  });

  it('skips an assertion whose declared cost the planner exceeds, without running it', async () => {
    // Act
    const r = await verifyDatabase(
      conn(),
      {
        ...profile,
        tables: [],
        assertions: [{ name: 'full scan', sql: 'select count(*) > 0 from ledger', maxCost: 10 }],
      },
      { referenceTime: SNAPSHOT_TIME, now: () => performance.now() },
    );

    // Assert
    const a = r.checks.find((c) => c.kind === 'assertion')!;
    expect(a.status).toBe('unfinished');
    expect(a.detail).toMatch(/^not run: the planner's cost \d+ exceeds its declared maxCost 10$/);
    expect(a.ms).toBeLessThan(1000);
  });
});
