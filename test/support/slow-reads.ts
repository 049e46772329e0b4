import pg from 'pg';
import { type PgServer, startPostgres } from '../../shared/drill/local/postgres-server.js';
import type { VerificationProfileInput } from '../../shared/drill/profile.js';

export interface SlowTableOptions {
  database: string;
  /** Owns the table (so it may ANALYZE it) and reads it through the slowing policy all the same. */
  owner: string;
  password: string;
  rows: number;
  /** Milliseconds every row read costs. */
  msPerRow: number;
  /** Bytes of padding per row: ~1000 puts about 7 rows on a page. */
  padBytes?: number;
  /** Newest `created_at`: rows are one second apart up to it. */
  newest: Date;
}

/** Run statements as the server's superuser in `database`. */
export const asSuperuser = async (server: PgServer, database: string, ...statements: string[]) => {
  const c = new pg.Client(server.connectionString(database));
  await c.connect();
  try {
    for (const s of statements) await c.query(s);
  } finally {
    await c.end();
  }
};

/**
 * A database whose `ledger` table is "too large to scan": a forced row-level security policy sleeps
 * `msPerRow` for every row a query reads, for every user including the owner. A full scan of a few
 * thousand rows then takes seconds, while what production-sized verification relies on stays cheap
 * and real: catalog statistics, ANALYZE (it reads pages, not rows through the policy), index lookups
 * of a few rows, and TABLESAMPLE reading a few pages. The same read a real lazily loaded RDS copy
 * makes slow, made slow on purpose, against a real PostgreSQL.
 */
export const createSlowLedger = async (server: PgServer, o: SlowTableOptions): Promise<void> => {
  await asSuperuser(
    server,
    'postgres',
    `create role ${o.owner} login password '${o.password}'`,
    `create database ${o.database} owner ${o.owner}`,
  );
  await asSuperuser(
    server,
    o.database,
    `create table ledger (id bigint primary key, created_at timestamptz not null, amount_cents bigint not null, pad text not null)`,
    `insert into ledger select i, '${o.newest.toISOString()}'::timestamptz - (${o.rows} - i) * interval '1 second',
       (i * 7919) % 100000, repeat('x', ${o.padBytes ?? 1000}) from generate_series(1, ${o.rows}) i`,
    'create index on ledger (created_at)',
    'analyze ledger',
    `create function slow_row() returns boolean language plpgsql volatile as $$ begin perform pg_sleep(${o.msPerRow / 1000}); return true; end $$`,
    `alter table ledger owner to ${o.owner}`,
    'alter table ledger enable row level security',
    'alter table ledger force row level security',
    'create policy slow_reads on ledger using (slow_row())',
  );
};

/** The slow ledger the large-database tests share: its owner, its newest row and the snapshot after it. */
export const LEDGER = {
  owner: 'ledger_owner',
  password: 'Slow-Reads-Are-Real-1',
  newest: new Date('2026-03-01T04:59:30.000Z'),
  snapshotTime: new Date('2026-03-01T05:00:00.000Z'),
} as const;

/**
 * Verification of the slow ledger of `rows` rows with a Lambda's 15 minutes scaled down: 4 s in all,
 * 2 s a check, a few sampled pages and probed key ranges.
 */
export const ledgerProfile = (rows: number) =>
  ({
    database: 'ledger',
    budgetSeconds: 4,
    statementTimeoutMs: 2000,
    samplePages: 4,
    probes: 2,
    probeRows: 40,
    tables: [{ name: 'ledger', minRows: rows - 100, freshnessColumn: 'created_at' }],
    rpoTargetSeconds: 300,
  }) satisfies VerificationProfileInput;

/** A server of the test's own holding a slow `ledger` database of `rows` rows, each read costing 2 ms. */
export const startSlowLedger = async (name: string, rows: number): Promise<PgServer> => {
  const server = await startPostgres({ name });
  await createSlowLedger(server, {
    database: 'ledger',
    owner: LEDGER.owner,
    password: LEDGER.password,
    rows,
    msPerRow: 2,
    newest: LEDGER.newest,
  });
  return server;
};
