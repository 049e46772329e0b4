import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';

// `npm start` end to end: a real PostgreSQL backup restored into a second server by the synthesized drill
// state machine, run locally. Small data keeps it fast; `npm run bench` measures the large sizes.
interface SandboxJson {
  status: string;
  path: string[];
  report: {
    passed: boolean;
    cleanup?: { status: string };
    metrics: { rtoSeconds: number; rpoSeconds: number };
    source: { snapshotId: string };
    verification: { checks: { name: string; passed: boolean }[] };
  };
}

const run = async (args: string[]) => {
  const lines: string[] = [];
  const code = await main(['sandbox', '--size', '2000', '--json', ...args], (s) => lines.push(s));
  return { code, json: JSON.parse(lines.join('\n')) as SandboxJson };
};

// Hermetic: the sandbox makes its servers and temp dirs under os.tmpdir(), so this file points TMPDIR at a
// directory of its own and checks only that (other runs on the machine have their own servers and dirs).
let ownTmp: string;
const savedTmp = process.env.TMPDIR;
beforeAll(() => {
  ownTmp = mkdtempSync(join(tmpdir(), 'sandbox-test-'));
  chmodSync(ownTmp, 0o755); // the servers run as the postgres user, which must reach their data dirs
  process.env.TMPDIR = ownTmp;
});
afterAll(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  rmSync(ownTmp, { recursive: true, force: true });
});

const postmasters = () =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`${ownTmp}/steward-pg-`);
      } catch {
        return false;
      }
    });

const tempDirs = () => readdirSync(ownTmp).filter((d) => d.startsWith('steward-'));

describe('npm start (the local sandbox)', () => {
  it('runs a passing drill through the state machine, reports RTO/RPO and cleans everything up', async () => {
    // Prepare
    const before = tempDirs();
    // Act
    const { code, json } = await run([]);
    // Assert
    expect(code).toBe(0);
    expect(json.status).toBe('SUCCEEDED');
    expect(json.path).toEqual(
      expect.arrayContaining([
        'Start',
        'SelectSnapshot',
        'Restore',
        'WaitForRestore',
        'Verify',
        'Cleanup',
        'Record',
      ]),
    );
    expect(json.report).toMatchObject({ passed: true, cleanup: { status: 'deleted' } });
    expect(json.report.metrics.rtoSeconds).toBeGreaterThan(0);
    expect(json.report.metrics.rpoSeconds).toBeGreaterThanOrEqual(30);
    expect(json.report.source.snapshotId).toMatch(/^steward-app-db-\d{12}-sched$/);
    expect(postmasters()).toEqual([]);
    expect(tempDirs()).toEqual(before);
  });

  it.each([
    ['missing-table', 'table public.accounts'],
    ['rows-lost', 'row-count public.transactions'],
    ['stale', 'freshness public.transactions'],
    ['orphans', 'assertion no transaction without account'],
  ])('--break %s fails the drill naming the failed check, and still cleans up', async (kind, check) => {
    // Act
    const { code, json } = await run(['--break', kind]);
    // Assert
    expect(code).toBe(1);
    expect(json.status).toBe('FAILED');
    expect(json.report.passed).toBe(false);
    const failed = json.report.verification.checks.filter((c) => !c.passed).map((c) => c.name);
    expect(failed).toContain(check);
    expect(json.report.cleanup).toMatchObject({ status: 'deleted' });
    expect(postmasters()).toEqual([]);
  });

  it('rejects an unknown --break kind before starting anything', async () => {
    // Act
    const code = await main(['sandbox', '--break', 'meteor'], () => {});
    // Assert
    expect(code).toBe(2);
    expect(postmasters()).toEqual([]);
  });
});
