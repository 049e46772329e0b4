import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SUITE = 'test/shared/retention/gfs.test.ts';

interface VitestJson {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
}

/**
 * The retention engine's safety properties (never deletes a held, unmanaged, mismatched or undated snapshot;
 * always keeps the newest; re-planning deletes nothing more; order does not matter; ...) over `runs` random
 * histories each: the same test file CI runs at 1 000, here at 100 000. They take minutes.
 */
export const benchGfsProperties = async (runs: number): Promise<BenchRow[]> => {
  const dir = mkdtempSync(join(tmpdir(), 'steward-bench-gfs-'));
  try {
    const report = join(dir, 'report.json');
    const started = performance.now();
    spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/vitest/vitest.mjs'),
        'run',
        SUITE,
        '-t',
        'planRetention properties',
        '--reporter=json',
        `--outputFile=${report}`,
      ],
      { cwd: ROOT, env: { ...process.env, STEWARD_GFS_RUNS: String(runs) }, stdio: 'ignore' },
    );
    const seconds = (performance.now() - started) / 1000;
    let r: VitestJson = { numTotalTests: 0, numPassedTests: 0, numFailedTests: 0 };
    try {
      r = JSON.parse(readFileSync(report, 'utf8')) as VitestJson;
    } catch {
      // No report: the run crashed; the row says so below.
    }
    // Properties the file defines beyond the ones selected are skipped, not counted.
    const ran = r.numPassedTests + r.numFailedTests;
    return [
      {
        bench: 'retention GFS safety properties',
        metric: `properties holding over ${runs.toLocaleString('en')} random histories each (${seconds.toFixed(0)} s)`,
        value: `${r.numPassedTests}/${ran}`,
        baseline: `${ran} properties`,
        ratio: ran ? r.numPassedTests / ran : 0,
        target: 'all hold',
        ok: ran > 0 && r.numFailedTests === 0,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
