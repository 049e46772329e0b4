import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flags } from '../../cli/flags.js';
import { sandboxRedis } from '../../cli/sandbox-redis.js';
import type { DrillReportDocument } from '../../shared/drill/report.js';
import { leftIn, ownTmpDir, processesUnder, removeOwnTmpDir } from '../support/own-tmp.js';

// `npm start -- --engine redis` end to end, each run in its own process, TMPDIR and working directory: the
// intact drill passes, and each --break kind fails it with a message naming what is wrong. Every
// redis-server and temp dir is gone afterwards.
const BIN = fileURLToPath(new URL('../../bin/steward.mjs', import.meta.url));

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeOwnTmpDir));

const sandbox = (...extra: string[]) => {
  const tmp = ownTmpDir('steward-redis-sandbox-test');
  dirs.push(tmp);
  const args = [
    BIN,
    'sandbox',
    '--engine',
    'redis',
    '--size',
    '500',
    '--json',
    '--history',
    `${tmp}/history`,
    ...extra,
  ];
  const child = spawn(process.execPath, args, {
    cwd: tmp,
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise<{
    code: number | null;
    doc: { report: DrillReportDocument };
    stderr: string;
    tmp: string;
  }>((done) =>
    child.once('exit', (code) =>
      done({ code, doc: JSON.parse(stdout || '{}') as { report: DrillReportDocument }, stderr, tmp }),
    ),
  );
};
const failedChecks = (r: DrillReportDocument) =>
  (r.verification?.checks ?? []).filter((c) => c.status === 'failed').map((c) => `${c.name}: ${c.detail}`);

describe('npm start -- --engine redis', () => {
  it('passes on intact data and leaves nothing behind', async () => {
    // Act
    const ok = await sandbox();
    // Assert
    expect(ok.stderr).not.toMatch(/Error/);
    expect(ok.code).toBe(0);
    expect(ok.doc.report).toMatchObject({ passed: true, outcome: 'passed', cleanup: { status: 'deleted' } });
    expect(ok.doc.report.metrics?.rpoSeconds).toBeLessThan(300);
    expect(ok.doc.report.verification?.tables).toMatchObject({ db0: { rows: 627 }, db1: { rows: 20 } });
    expect(leftIn(ok.tmp).filter((d) => d.startsWith('steward-'))).toEqual([]);
    expect(processesUnder(ok.tmp)).toEqual([]);
    // A whole sandbox run in a fresh process, on a shared machine.
  }, 60_000);
});

describe('--engine redis --break', () => {
  // In this process (a fresh process per kind would mostly measure start-up): TMPDIR is this file's own.
  let tmp: string;
  const before = process.env.TMPDIR;
  beforeAll(() => {
    tmp = ownTmpDir('steward-redis-break-test');
    dirs.push(tmp);
    process.env.TMPDIR = tmp;
  });
  afterAll(() => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
  });

  const flags = (kind: string): Flags => ({
    engine: 'redis',
    size: '500',
    break: kind,
    history: `${tmp}/history`,
    json: true,
    all: false,
    force: false,
    write: false,
    wait: false,
    'dry-run': false,
    help: false,
  });

  it('refuses an unknown kind before starting anything', async () => {
    // Act
    const run = sandboxRedis(flags('rows-lost'), () => undefined);
    // Assert
    await expect(run).rejects.toThrow(
      '--break with --engine redis takes one of keys-lost, ttl-lost, stale, got "rows-lost"',
    );
    expect(leftIn(tmp).filter((d) => d.startsWith('steward-'))).toEqual([]);
  });

  it.each([
    ['keys-lost', /^key-count db0: \d+ keys .* is below \d+; -\d+\.\d% vs baseline 627: keys lost$/],
    ['ttl-lost', /^ttl sessions: 200 of 200 sampled keys have no TTL: TTL lost$/],
    ['stale', /^freshness db0 events: .* exceeds the 300 s target: stale data$/],
  ])('--break %s fails the drill with that one check, and cleans up', async (kind, reason) => {
    // Prepare
    const lines: string[] = [];
    // Act
    const code = await sandboxRedis(flags(kind), (s) => lines.push(s));
    // Assert
    const { report } = JSON.parse(lines.join('\n')) as { report: DrillReportDocument };
    expect(code).toBe(1);
    expect(failedChecks(report)).toEqual([expect.stringMatching(reason)]);
    expect(report.summary).toMatch(/^DR drill FAILED for app-cache: verification checks failed \(/);
    expect(report.cleanup?.status).toBe('deleted');
    expect(leftIn(tmp).filter((d) => d.startsWith('steward-'))).toEqual([]);
    expect(processesUnder(tmp)).toEqual([]);
  });
});
