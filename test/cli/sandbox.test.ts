import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { diskProblem, parseSize } from '../../cli/sandbox.js';
import { leftIn, ownTmpDir, processesUnder, removeOwnTmpDir } from '../support/own-tmp.js';

// `npm start` end to end: a real PostgreSQL backup restored into a second server by the synthesized drill
// state machine, run locally. Small data keeps it fast; `npm run bench` measures the large sizes.
interface SandboxJson {
  status: string;
  path: string[];
  events: { state: string; type: string; at: number }[];
  report: {
    passed: boolean;
    cleanup?: { status: string };
    metrics: { rtoSeconds: number; rpoSeconds: number };
    source: { snapshotId: string };
    verification: { checks: { name: string; passed: boolean }[] };
  };
  postgres: { source: string; version: string };
}

// Each run records its history in this file's own directory, not in the working tree's .steward/.
const history = () => join(work, 'history');

const run = async (args: string[]) => {
  const lines: string[] = [];
  const code = await main(['sandbox', '--size', '2000', '--json', '--history', history(), ...args], (s) =>
    lines.push(s),
  );
  return { code, json: JSON.parse(lines.join('\n')) as SandboxJson };
};

const cli = async (argv: string[]) => {
  const lines: string[] = [];
  const code = await main(argv, (s) => lines.push(s));
  return { code, text: lines.join('\n') };
};

// Only what this file's runs started: their servers and temp dirs live under this TMPDIR, and the reports
// go to this working directory. Another sandbox on the machine (a developer, a parallel test) is not ours.
let own: string;
let work: string;
const saved = { tmpdir: process.env.TMPDIR, cwd: process.cwd() };
beforeAll(() => {
  own = ownTmpDir('steward-sandbox-test');
  work = ownTmpDir('steward-sandbox-cwd');
  process.env.TMPDIR = own;
  process.chdir(work);
});
afterAll(() => {
  process.chdir(saved.cwd);
  if (saved.tmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = saved.tmpdir;
  removeOwnTmpDir(own);
  removeOwnTmpDir(work);
});

const postmasters = () => processesUnder(own);
// The drill synthesis child's TypeScript loader caches under TMPDIR (tsx-<uid>): the loader's, not steward's.
const tempDirs = () => leftIn(own).filter((d) => !d.startsWith('tsx-'));

describe('npm start (the local sandbox)', () => {
  it('runs a passing drill through the state machine, reports RTO/RPO and cleans everything up', async () => {
    // Act
    const { code, json } = await run([]);
    // Assert
    expect(code).toBe(0);
    expect(json.status).toBe('SUCCEEDED');
    // This machine has PostgreSQL server binaries: the sandbox uses them, and says which.
    expect(json.postgres).toMatchObject({
      source: 'system',
      version: expect.stringMatching(/^PostgreSQL \d+/),
    });
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
    // The execution's state log with its timestamps: the bench reads the drill's overhead from it.
    const verify = json.events.filter((e) => e.state === 'Verify');
    expect(verify.map((e) => e.type)).toEqual(['entered', 'succeeded']);
    expect(verify[1]!.at).toBeGreaterThanOrEqual(verify[0]!.at);
    expect(json.events.map((e) => e.at)).toEqual([...json.events.map((e) => e.at)].sort((a, b) => a - b));
    expect(json.report).toMatchObject({ passed: true, cleanup: { status: 'deleted' } });
    expect(json.report.metrics.rtoSeconds).toBeGreaterThan(0);
    expect(json.report.metrics.rpoSeconds).toBeGreaterThanOrEqual(30);
    expect(json.report.source.snapshotId).toMatch(/^steward-app-db-\d{12}-sched$/);
    expect(postmasters()).toEqual([]);
    expect(tempDirs()).toEqual([]);
    // The first run synthesizes the stage with CDK (about 5 s of CPU, longer on a shared machine), as the
    // Redis and EBS sandbox tests' first runs do.
  }, 180_000);

  it('leaves a history that steward status and steward report read', async () => {
    // Act (after the passing run above recorded its backup and drill)
    const status = await cli(['status', '--history', history(), '--json']);
    const month = new Date().toISOString().slice(0, 7);
    const out = join(history(), 'evidence.html');
    const report = await cli(['report', '--history', history(), '--month', month, '--out', out]);
    // Assert
    expect(JSON.parse(status.text).databases).toEqual([
      expect.objectContaining({
        id: 'app-db',
        policy: 'daily',
        held: 1,
        drill: expect.objectContaining({ last: expect.objectContaining({ passed: true }) }),
      }),
    ]);
    expect(report.code).toBe(0);
    expect(report.text).toMatch(/recovery evidence: .*1\/1 drills passed/);
    expect(readFileSync(out, 'utf8')).toContain('data-chart="rto"');
  });

  it('with STEWARD_SANDBOX_FIRST_DRILL=1 runs a first drill before the reported one, and shows its state log', async () => {
    // Prepare: what the bench's overhead row sets.
    const before = process.env.STEWARD_SANDBOX_FIRST_DRILL;
    process.env.STEWARD_SANDBOX_FIRST_DRILL = '1';
    try {
      // Act
      const { code, json } = await run([]);
      // Assert: both drills passed through Verify; the report is the second's, and nothing is left.
      const { firstDrill, report } = json as unknown as {
        firstDrill: {
          events: { state: string; type: string }[];
          target: { id: string; availableAt: string };
        };
        report: { drillId: string; target: { id: string } };
      };
      expect(code).toBe(0);
      expect(firstDrill.events).toContainEqual(
        expect.objectContaining({ state: 'Verify', type: 'succeeded' }),
      );
      expect(firstDrill.events).toContainEqual(
        expect.objectContaining({ state: 'Cleanup', type: 'succeeded' }),
      );
      expect(firstDrill.target.availableAt).toEqual(expect.any(String));
      expect(report.target.id).not.toBe(firstDrill.target.id);
      expect(json.report).toMatchObject({ passed: true, cleanup: { status: 'deleted' } });
      // The first drill's report stays out of the history: only the reported drill's is there.
      const status = JSON.parse((await cli(['status', '--history', history(), '--json'])).text) as {
        databases: { drill: { last: { drillId: string } } }[];
      };
      expect(status.databases[0]!.drill.last.drillId).toBe(report.drillId);
      expect(postmasters()).toEqual([]);
      expect(tempDirs()).toEqual([]);
    } finally {
      if (before === undefined) delete process.env.STEWARD_SANDBOX_FIRST_DRILL;
      else process.env.STEWARD_SANDBOX_FIRST_DRILL = before;
    }
  }, 180_000);

  it.each([
    ['missing-table', 'table public.accounts'],
    ['rows-lost', 'row-count public.transactions'],
    ['stale', 'freshness public.transactions'],
    ['orphans', 'assertion no transaction without account (newest 100 000)'],
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
    expect(tempDirs()).toEqual([]);
  });

  it.each([
    [undefined, 50_000],
    ['200000', 200_000],
    ['80MB', 465_116],
    ['1GB', 5_813_953],
    ['1.5gb', 8_720_930],
  ])('reads --size %s as %i transactions (a size is about 172 bytes a transaction)', (raw, rows) => {
    expect(parseSize(raw)).toBe(rows);
  });

  it('refuses a size the temp dir cannot hold (source, backup and copy), naming what it needs', () => {
    // Act
    const refused = diskProblem(parseSize('10GB'), 20e9, '/tmp/x');
    const fits = diskProblem(parseSize('10GB'), 40e9, '/tmp/x');
    // Assert
    expect(refused).toBe(
      '--size 58,139,535 rows needs about 34 GB free in /tmp/x (source, backup and restored copy), but 20 GB is free: pick a smaller --size or set TMPDIR',
    );
    expect(fits).toBeUndefined();
  });

  it('rejects an unknown --break kind before starting anything', async () => {
    // Act
    const code = await main(['sandbox', '--break', 'meteor'], () => {});
    // Assert
    expect(code).toBe(2);
    expect(postmasters()).toEqual([]);
  });
});
