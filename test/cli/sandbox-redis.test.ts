import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { sandboxRedis } from '../../cli/sandbox-redis.js';
import type { DrillReportDocument } from '../../shared/drill/report.js';
import { leftIn, ownTmpDir, processesUnder, removeOwnTmpDir } from '../support/own-tmp.js';
import { inProcessSandbox } from '../support/sandbox.js';
import { DRILL_START, drillEnd } from '../support/local-drill.js';

// `npm start -- --engine redis` end to end: the drill state machine CDK synthesizes, run locally over a
// redis-server restored from the snapshot's RDB file. The intact drill passes, and each --break kind fails
// it with a message naming what is wrong. Every redis-server and temp dir is gone afterwards.
const BIN = fileURLToPath(new URL('../../bin/steward.mjs', import.meta.url));

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeOwnTmpDir));

const failedChecks = (r: DrillReportDocument) =>
  (r.verification?.checks ?? []).filter((c) => c.status === 'failed').map((c) => `${c.name}: ${c.detail}`);

describe('npm start -- --engine redis', () => {
  // In this process; TMPDIR is this block's own. The interrupted run below starts a fresh process.
  const { tmp, run, left } = inProcessSandbox('steward-redis-sandbox-test', sandboxRedis, {
    engine: 'redis',
    size: '500',
  });

  it('runs the synthesized drill definition to a pass on intact data and leaves nothing behind', async () => {
    // Act
    const { code, json } = await run();
    // Assert
    expect(code).toBe(0);
    expect(json.status).toBe('SUCCEEDED');
    // The definition CDK synthesizes for a stage with a Redis drill: the cache verifier's state, not Verify.
    expect(json.path).toEqual([
      ...DRILL_START,
      'WaitForRestore',
      'Engine?',
      'VerifyCache',
      ...drillEnd(true),
    ]);
    expect(json.report).toMatchObject({
      kind: 'redis',
      passed: true,
      outcome: 'passed',
      cleanup: { status: 'deleted' },
      source: { snapshotId: expect.stringMatching(/^steward-app-cache-\d{12}-sched$/) },
      target: { id: expect.stringMatching(/^steward-drill-app-cache-/), availableAt: expect.any(String) },
    });
    expect(json.report.metrics?.rpoSeconds).toBeLessThan(300);
    expect(json.report.verification?.tables).toMatchObject({ db0: { rows: 627 }, db1: { rows: 20 } });
    expect(json.reportFile).toMatch(
      /history\/reports\/drills\/app-cache\/\d{4}\/\d{2}\/sandbox-\d{14}\.json$/,
    );
    expect(left()).toEqual([]);
    expect(processesUnder(tmp())).toEqual([]);
    // The first run synthesizes the stage with CDK (about 5 s of CPU, longer on a shared machine).
  }, 120_000);

  it('with STEWARD_SANDBOX_FIRST_DRILL=1 runs a first drill before the reported one, and shows its state log', async () => {
    // Prepare: what the bench's overhead row sets.
    const before = process.env.STEWARD_SANDBOX_FIRST_DRILL;
    process.env.STEWARD_SANDBOX_FIRST_DRILL = '1';
    try {
      // Act
      const { code, json } = await run();
      // Assert: both drills passed through VerifyCache; the report is the second's, and nothing is left.
      const { firstDrill } = json as unknown as {
        firstDrill: {
          events: { state: string; type: string }[];
          target: { id: string; availableAt: string };
        };
      };
      expect(code).toBe(0);
      expect(firstDrill.events).toContainEqual(
        expect.objectContaining({ state: 'VerifyCache', type: 'succeeded' }),
      );
      expect(firstDrill.target.availableAt).toEqual(expect.any(String));
      expect(json.report.target?.id).not.toBe(firstDrill.target.id);
      expect(json.report).toMatchObject({ passed: true, cleanup: { status: 'deleted' } });
      expect(json.reportFile).toMatch(
        /history\/reports\/drills\/app-cache\/\d{4}\/\d{2}\/sandbox-\d{14}\.json$/,
      );
      expect(left()).toEqual([]);
      expect(processesUnder(tmp())).toEqual([]);
    } finally {
      if (before === undefined) delete process.env.STEWARD_SANDBOX_FIRST_DRILL;
      else process.env.STEWARD_SANDBOX_FIRST_DRILL = before;
    }
  }, 120_000);

  it('refuses an unknown --break kind before starting anything', async () => {
    // Act
    const r = run('rows-lost');
    // Assert
    await expect(r).rejects.toThrow(
      '--break with --engine redis takes one of keys-lost, ttl-lost, stale, got "rows-lost"',
    );
    expect(left()).toEqual([]);
  });

  it.each([
    ['keys-lost', /^key-count db0: \d+ keys .* is below \d+; -\d+\.\d% vs baseline 627: keys lost$/],
    ['ttl-lost', /^ttl sessions: 200 of 200 sampled keys have no TTL: TTL lost$/],
    ['stale', /^freshness db0 events: .* exceeds the 300 s target: stale data$/],
  ])('--break %s fails the drill with that one check, and cleans up', async (kind, reason) => {
    // Act
    const { code, json } = await run(kind);
    // Assert
    expect(code).toBe(1);
    expect(json.status).toBe('FAILED');
    expect(json.path.slice(-5)).toEqual(['VerifyCache', ...drillEnd(false)]);
    expect(failedChecks(json.report)).toEqual([expect.stringMatching(reason)]);
    expect(json.report.summary).toMatch(/^DR drill FAILED for app-cache: /);
    expect(json.report.cleanup?.status).toBe('deleted');
    expect(left()).toEqual([]);
    expect(processesUnder(tmp())).toEqual([]);
  });
});

describe('--engine redis interrupted', () => {
  it('Ctrl-C while seeding stops, removes every server and temp dir, and exits 130', async () => {
    // Prepare
    const tmp = ownTmpDir('steward-redis-signal-test');
    dirs.push(tmp);
    const child = spawn(
      process.execPath,
      [BIN, 'sandbox', '--engine', 'redis', '--size', '1000000', '--history', `${tmp}/history`],
      {
        cwd: tmp,
        env: { ...process.env, TMPDIR: tmp },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    const started = new Promise<void>((done) =>
      child.stdout.on('data', (b: Buffer) => {
        stdout += b.toString();
        if (stdout.includes('started the source redis-server')) done();
      }),
    );
    const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    // Act
    await started;
    child.kill('SIGINT');
    const code = await exit;
    // Assert
    expect(code).toBe(130);
    expect(stdout).toContain('interrupted; every server and temp dir was removed');
    expect(leftIn(tmp).filter((d) => d.startsWith('steward-'))).toEqual([]);
    expect(processesUnder(tmp)).toEqual([]);
  }, 60_000);
});
