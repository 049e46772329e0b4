import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  localClient,
  type PgServer,
  PostgresServerError,
  physicalBackup,
  removeOnExit,
  startPostgres,
  stopAllPostgres,
  stopAllPostgresSync,
} from '../../../../shared/drill/local/postgres-server.js';
import { loadSampleData } from '../../../../shared/drill/local/sample-data.js';
import { processesUnder } from '../../../support/own-tmp.js';

const NOW = new Date('2025-06-01T03:00:00.000Z');

const query = async <T extends pg.QueryResultRow>(server: PgServer, sql: string): Promise<T[]> => {
  const c = new pg.Client(server.connectionString('app'));
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
};

const fingerprint = (server: PgServer) =>
  query<{ n: string; sum: string; md5: string }>(
    server,
    "select count(*) as n, sum(amount_cents) as sum, md5(string_agg(t::text, '' order by id)) as md5 from transactions t",
  );

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const expectGone = (s: PgServer, { keepsData = false } = {}) => {
  expect(isAlive(s.pid)).toBe(false);
  expect(processesUnder(s.dataDir)).toEqual([]); // a surviving postmaster names its data dir
  expect(existsSync(s.socketDir)).toBe(false);
  expect(existsSync(s.dataDir)).toBe(keepsData);
};

describe('local PostgreSQL servers', () => {
  let primary: PgServer;
  let work: string;
  let snapshot: string;
  let before: Awaited<ReturnType<typeof fingerprint>>;
  let backupMs: number;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'steward-pg-test-'));
    primary = await startPostgres({ name: 'primary' });
    const c = new pg.Client(primary.connectionString());
    await c.connect();
    await c.query('create database app');
    await c.end();
    await loadSampleData(primary.connectionString('app'), { rows: 2_000, seed: 1, now: NOW });
    before = await fingerprint(primary);
    const backup = await physicalBackup(primary, join(work, 'snapshot'));
    snapshot = backup.dataDir;
    backupMs = backup.ms;
    // Written after the snapshot: a restore must not contain it.
    await query(
      primary,
      "insert into transactions (account_id, amount_cents, kind, description, occurred_at, created_at) values (1, 1, 'fee', 'after snapshot', now(), now())",
    );
  });

  afterAll(async () => {
    await stopAllPostgres();
    await rm(work, { recursive: true, force: true });
  });

  it('takes a timed physical backup of a running server', () => {
    // Assert
    expect(backupMs).toBeGreaterThan(0);
    expect(existsSync(join(snapshot, 'backup_label'))).toBe(true);
    expect(existsSync(join(snapshot, 'PG_VERSION'))).toBe(true);
  });

  it('restores a copy of the backup as a separate server on another port with the data as of the backup', async () => {
    // Act
    const restored = await startPostgres({ name: 'restored', restoreFrom: snapshot });
    const after = await fingerprint(restored);
    const primaryNow = await fingerprint(primary);
    await restored.stop();
    // Assert
    expect(restored.port).not.toBe(primary.port);
    expect(after).toEqual(before);
    expect(Number(primaryNow[0]?.n)).toBe(2_001);
    expectGone(restored);
    // The snapshot itself is untouched, so it can be restored again.
    expect(existsSync(join(snapshot, 'backup_label'))).toBe(true);
  });

  it('starts an existing data dir in place and keeps it on stop', async () => {
    // Prepare: in place, the server's OS user must reach the dir (the backup itself did not need that)
    await chmod(work, 0o755);
    const lines: string[] = [];
    // Act
    const inPlace = await startPostgres({ name: 'in-place', dataDir: snapshot, log: (l) => lines.push(l) });
    const after = await fingerprint(inPlace);
    await inPlace.stop();
    // Assert
    expect(inPlace.dataDir).toBe(snapshot);
    expect(after).toEqual(before);
    expect(lines.join('\n')).toContain('database system is ready to accept connections');
    expectGone(inPlace, { keepsData: true });
  });

  it('stops every server it started, leaving no process and no temp dir', async () => {
    // Prepare
    const extra = await startPostgres({ name: 'extra' });
    // Act
    await stopAllPostgres();
    // Assert
    expectGone(extra);
    expectGone(primary);
  });

  it('fails with the server log tail when the port is taken, and cleans up', async () => {
    // Prepare: a temp root of this test's own, so only what this test started is looked at
    // (other runs of this suite on the machine make their own `steward-pg-clash-*` dirs).
    const ownTmp = await mkdtemp(join(tmpdir(), 'steward-test-clash-root-'));
    await chmod(ownTmp, 0o755); // the server's OS user must reach its data dir below it
    const savedTmp = process.env.TMPDIR;
    process.env.TMPDIR = ownTmp;
    try {
      const holder = await startPostgres({ name: 'holder' });
      // Act
      const act = startPostgres({ name: 'clash', port: holder.port });
      // Assert
      await expect(act).rejects.toThrow(PostgresServerError);
      await expect(act).rejects.toThrow(
        /exited during start-up[\s\S]*log tail:[\s\S]*Address already in use/,
      );
      await holder.stop();
      expect(readdirSync(ownTmp)).toEqual([]);
    } finally {
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
      await rm(ownTmp, { recursive: true, force: true });
    }
  });

  it('a local client survives its server stopping under it while idle (no unhandled error event)', async () => {
    // Prepare: what Ctrl-C does to the sandbox's clients while the sample data loads.
    const doomed = await startPostgres({ name: 'doomed' });
    const c = localClient(doomed.connectionString());
    await c.connect();
    const ended = new Promise((r) => c.once('end', r));

    // Act: without an 'error' listener, the server's "terminating connection" would crash the process.
    await doomed.stop();
    await ended;

    // Assert
    await expect(c.query('select 1')).rejects.toThrow();
    expectGone(doomed);
  });

  it('removes a registered dir in the synchronous stop that a second signal runs', async () => {
    // Prepare: the local provider registers its snapshot dir like this.
    const dir = await mkdtemp(join(tmpdir(), 'steward-snapshots-test-'));
    removeOnExit(dir);

    // Act
    stopAllPostgresSync();

    // Assert
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses to start a directory that is not a PostgreSQL cluster', async () => {
    // Act
    const act = startPostgres({ name: 'not-a-cluster', dataDir: work });
    // Assert
    await expect(act).rejects.toThrow(/is not a PostgreSQL data directory/);
  });
});
