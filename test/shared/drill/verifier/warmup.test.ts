import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgServer, startPostgres } from '../../../../shared/drill/local/postgres-server.js';
import { loadSampleData, sampleDatabase } from '../../../../shared/drill/local/sample-data.js';
import {
  newWarmup,
  warmUp,
  type WarmupOptions,
  type WarmupProgress,
} from '../../../../shared/drill/verifier/warmup.js';
import { asSuperuser, createSlowLedger } from '../../../support/slow-reads.js';

// The warm-up engine against a real PostgreSQL: what it reads, how it resumes, where it stops.
const NOW = new Date('2026-03-01T05:00:00.000Z');
const READER = 'warm_reader';
const PASSWORD = 'Warm-Reader-Passw0rd';
const OWNER = 'ledger_owner';

let server: PgServer;
beforeAll(async () => {
  server = await startPostgres({ name: 'warmup-test' });
  await asSuperuser(
    server,
    'postgres',
    `create database ${sampleDatabase}`,
    `create role ${READER} login password '${PASSWORD}'`,
  );
  await loadSampleData(server.connectionString(sampleDatabase), { rows: 5000, seed: 42, now: NOW });
  await asSuperuser(server, sampleDatabase, `grant select on all tables in schema public to ${READER}`);
  // A copy with pg_prewarm installed: then indexes and TOAST are read too.
  await asSuperuser(server, 'postgres', `create database prewarmed template ${sampleDatabase}`);
  await asSuperuser(server, 'prewarmed', 'create extension pg_prewarm');
  // 600 rows of ~1 KB, 2 ms a row read: over a second to read whole.
  await createSlowLedger(server, {
    database: 'ledger',
    owner: OWNER,
    password: PASSWORD,
    rows: 600,
    msPerRow: 2,
    newest: NOW,
  });
});
afterAll(async () => {
  await server?.stop();
});

const reader = (database = sampleDatabase, user = READER) => ({
  host: server.host,
  port: server.port,
  user,
  ...(user === 'postgres' ? {} : { password: PASSWORD }),
  database,
});
const options = (over: Partial<WarmupOptions> = {}): WarmupOptions => ({
  tables: 'all',
  parallelism: 2,
  chunkMs: 60_000,
  connectTimeoutMs: 5_000,
  database: sampleDatabase,
  now: () => Date.now(),
  ...over,
});
const fresh = () => newWarmup(new Date(), 600);

describe('warmUp', () => {
  it('reads every table heap with TID range scans when pg_prewarm is not installed', async () => {
    // Act
    const w = await warmUp(reader(), fresh(), options());

    // Assert
    expect(w).toMatchObject({ pending: false, complete: true, method: 'tid-range', relations: 3, chunks: 1 });
    expect(w.blocksTotal).toBeGreaterThan(0);
    expect(w.blocksRead).toBe(w.blocksTotal);
    expect(w.inFlight).toEqual([]);
    expect(w.notes).toContain('pg_prewarm not installed: table heaps only (indexes and TOAST are not read)');
  });

  it('reads tables, their indexes and TOAST with pg_prewarm, and skips what the user may not read', async () => {
    // Act: the superuser may read everything; the reader only the tables it was granted.
    const all = await warmUp(reader('prewarmed', 'postgres'), fresh(), options({ database: 'prewarmed' }));
    const granted = await warmUp(reader('prewarmed'), fresh(), options({ database: 'prewarmed' }));

    // Assert: 3 tables, 6 indexes (3 primary keys, users' unique email, 3 secondary), 0 TOAST (no wide rows
    // yet, but the TOAST tables and their indexes exist): every relation with storage.
    expect(all).toMatchObject({ complete: true, method: 'pg_prewarm' });
    expect(all.relations).toBeGreaterThan(3 + 6);
    expect(all.blocksRead).toBe(all.blocksTotal);
    expect(granted).toMatchObject({ complete: true, method: 'pg_prewarm', relations: 3 });
    expect(granted.notes.join('\n')).toMatch(
      /\d+ relations not readable by warm_reader \(not their owner\): skipped/,
    );
    expect(granted.blocksTotal).toBeLessThan(all.blocksTotal);
  });

  it('warms only the listed tables, and notes one that does not exist', async () => {
    // Act
    const w = await warmUp(reader(), fresh(), options({ tables: ['public.users', 'ghost'] }));

    // Assert
    expect(w).toMatchObject({ complete: true, relations: 1 });
    expect(w.notes).toContain('table ghost not found: not warmed');
  });

  it('stops each call at its chunk and resumes where the last one stopped, until everything is read', async () => {
    // Prepare: half-second chunks of a table that takes over a second to read.
    const chunk = options({ database: 'ledger', chunkMs: 500, unitBlocks: 16 });
    const seen: WarmupProgress[] = [];
    let w = fresh();

    // Act
    while (w.pending && seen.length < 30) {
      const started = Date.now();
      w = await warmUp(reader('ledger', OWNER), w, chunk);
      seen.push(w);
      // Assert: a call never runs much past its chunk (one round trip and the connections).
      expect(Date.now() - started).toBeLessThan(500 + 2000);
    }

    // Assert
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(w).toMatchObject({ complete: true, pending: false, method: 'tid-range' });
    expect(w.blocksRead).toBe(w.blocksTotal);
    const read = seen.map((s) => s.blocksRead);
    expect(read).toEqual([...read].sort((a, b) => a - b));
    expect(w.chunks).toBe(seen.length);
  });

  it('stops at warmup.maxSeconds and says how far it got', async () => {
    // Prepare: a deadline 300 ms away, far inside the (long) chunk.
    const w = { ...newWarmup(new Date(), 0.3) };

    // Act
    const next = await warmUp(reader('ledger', OWNER), w, options({ database: 'ledger' }));

    // Assert
    expect(next).toMatchObject({
      pending: false,
      complete: false,
      stopped: { reason: 'deadline', detail: 'warmup.maxSeconds reached' },
    });
    expect(next.blocksRead).toBeLessThan(next.blocksTotal);
  });
});
