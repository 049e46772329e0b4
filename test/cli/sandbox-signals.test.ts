import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftIn, ownTmpDir, processesUnder, removeOwnTmpDir } from '../support/own-tmp.js';

// `npm start` as a user runs it, in its own process: Ctrl-C and SIGTERM at the moments that used to leave
// things behind. Each run gets its own TMPDIR and working directory, so only what it started is checked.
const BIN = fileURLToPath(new URL('../../bin/steward.mjs', import.meta.url));

interface Run {
  child: ChildProcess;
  /** Resolves when a stdout line matches. */
  line: (re: RegExp) => Promise<string>;
  /** Resolves when a stderr line (progress) matches. */
  errLine: (re: RegExp) => Promise<string>;
  /** Everything printed on stdout so far. */
  stdout: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  tmp: string;
}

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeOwnTmpDir));

const sandbox = (args: string[]): Run => {
  const tmp = ownTmpDir('steward-signal-test');
  const cwd = ownTmpDir('steward-signal-cwd');
  dirs.push(tmp, cwd);
  const child = spawn(process.execPath, [BIN, 'sandbox', ...args], {
    cwd,
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const text = { out: '', err: '' };
  const waiters: { re: RegExp; stream: 'out' | 'err'; done: (l: string) => void }[] = [];
  const listen = (stream: 'out' | 'err') => (b: Buffer) => {
    text[stream] += b.toString();
    for (const l of text[stream].split('\n')) {
      for (const w of waiters.filter((x) => x.stream === stream && x.re.test(l))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.done(l);
      }
    }
  };
  child.stdout!.on('data', listen('out'));
  child.stderr!.on('data', listen('err'));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal, stderr: text.err })),
  );
  const waitFor =
    (stream: 'out' | 'err') =>
    (re: RegExp): Promise<string> =>
      new Promise((done, fail) => {
        const seen = text[stream].split('\n').find((l) => re.test(l));
        if (seen !== undefined) return done(seen);
        waiters.push({ re, stream, done });
        void exit.then(() =>
          fail(new Error(`exited before printing ${re}; output:\n${text.out}\n${text.err}`)),
        );
      });
  return { child, tmp, exit, line: waitFor('out'), errLine: waitFor('err'), stdout: () => text.out };
};

/** What steward left in the run's TMPDIR (the TypeScript loader's cache is not steward's) and its servers. */
const leftovers = (r: Run) => ({
  dirs: leftIn(r.tmp).filter((d) => d.startsWith('steward-')),
  servers: processesUnder(r.tmp),
});

describe('npm start under signals', () => {
  beforeAll(() => {
    // Nothing to prepare: each run is its own process with its own TMPDIR.
  });

  it('Ctrl-C while the sample data loads exits 130, with no unhandled pg error and nothing left', async () => {
    // Prepare
    const r = sandbox(['--size', '400000']);
    await r.line(/loading the sample database/);

    // Act
    r.child.kill('SIGINT');
    const { code, stderr } = await r.exit;

    // Assert
    expect(stderr).not.toMatch(/Unhandled 'error' event|ECONNRESET|terminating connection/);
    expect(code).toBe(130);
    expect(leftovers(r)).toEqual({ dirs: [], servers: [] });
  });

  it('SIGTERM after the snapshot exits 143 and removes the snapshot directory and every server', async () => {
    // Prepare
    const r = sandbox(['--size', '2000']);
    await r.line(/took a snapshot with the backup core/);

    // Act
    r.child.kill('SIGTERM');
    const { code } = await r.exit;

    // Assert
    expect(code).toBe(143);
    expect(leftovers(r)).toEqual({ dirs: [], servers: [] });
  });

  it('Ctrl-C while the drill state machine is synthesized stops the synthesis at once and leaves nothing', async () => {
    // Prepare
    const r = sandbox(['--size', '2000']);
    await r.errLine(/synthesizing the drill state machine/);

    // Act
    r.child.kill('SIGINT');
    const { code } = await r.exit;

    // Assert: the synthesis never finished (it used to block the signal until it had).
    expect(code).toBe(130);
    expect(r.stdout()).not.toMatch(/synthesized the drill state machine/);
    expect(leftovers(r)).toEqual({ dirs: [], servers: [] });
  });

  it('Ctrl-C while the source server starts exits 130 and leaves nothing', async () => {
    // Prepare
    const r = sandbox(['--size', '2000']);
    await r.line(/a restore drill on this machine/);

    // Act
    r.child.kill('SIGINT');
    const { code } = await r.exit;

    // Assert
    expect(code).toBe(130);
    expect(r.stdout()).not.toMatch(/loaded the sample database/);
    expect(leftovers(r)).toEqual({ dirs: [], servers: [] });
  });

  it('Ctrl-C while the drill restores and verifies stops the execution, removes the copy and every server', async () => {
    // Prepare
    const r = sandbox(['--size', '2000']);
    await r.line(/✓ Restore\b/);

    // Act
    r.child.kill('SIGINT');
    const { code } = await r.exit;

    // Assert
    expect(code).toBe(130);
    expect(r.stdout()).not.toMatch(/Verdict:/);
    expect(leftovers(r)).toEqual({ dirs: [], servers: [] });
    // It runs the whole sandbox up to the drill (synthesis included) in a fresh process.
  }, 180_000);

  it('a second Ctrl-C during cleanup still leaves nothing behind', async () => {
    // Prepare
    const r = sandbox(['--size', '2000']);
    await r.line(/took a snapshot with the backup core/);
    r.child.kill('SIGINT');
    await r.line(/cleaning up/);

    // Act
    r.child.kill('SIGINT');
    const { code } = await r.exit;

    // Assert
    expect(code).toBe(130);
    expect(leftovers(r)).toEqual({ dirs: [], servers: [] });
  });
});
