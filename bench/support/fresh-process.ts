import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Run a bench worker (`node --import tsx <worker> <input JSON> <out file>`) in a process of its own, so its
 * SDK clients, rate limiters, clock and CPU time start fresh, and read back the JSON it wrote. A failure
 * names what failed with the last lines of the worker's stderr.
 */
export const inFreshProcess = (
  what: string,
  worker: string,
  input: unknown,
  o: { nodeArgs?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): unknown => {
  const dir = mkdtempSync(join(tmpdir(), 'steward-bench-'));
  try {
    const out = join(dir, 'result.json');
    const r = spawnSync(
      process.execPath,
      [...(o.nodeArgs ?? []), '--import', 'tsx', join(ROOT, worker), JSON.stringify(input), out],
      { cwd: ROOT, env: o.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`${what} failed: ${r.stderr.trim().split('\n').slice(-5).join(' ')}`);
    return JSON.parse(readFileSync(out, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
