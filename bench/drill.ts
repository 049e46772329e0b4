import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type BenchRow, median } from './stats.js';

// The bench sits below the CLI (`steward bench` imports bench/run.ts): it never imports cli/. The sandbox
// drill runs as a user runs it, `steward sandbox --json`, in its own process.
const STEWARD = fileURLToPath(new URL('../bin/steward.mjs', import.meta.url));
const run = promisify(execFile);

interface DrillJson {
  metrics: {
    rtoSeconds: number;
    restoreSeconds: number;
    verifySeconds: number;
    warm?: { seconds: number; complete: boolean; readBytes: number; chunks: number };
  };
  verification: { checks: { name: string; ms: number; budgetMs?: number; status?: string }[] };
}

/** One sandbox drill (`npm start -- --size N --json`): its measured RTO split, warm-up and checks. */
const drillOnce = async (rows: number): Promise<DrillJson> => {
  const { stdout } = await run(process.execPath, [STEWARD, 'sandbox', '--size', String(rows), '--json'], {
    maxBuffer: 64 << 20,
  }).catch((e: { stdout?: string; message: string }) => {
    throw new Error(`sandbox drill at ${rows} rows did not pass: ${e.message}`);
  });
  const json = JSON.parse(stdout) as { report: Partial<DrillJson> };
  if (!json.report.metrics || !json.report.verification)
    throw new Error(`sandbox drill at ${rows} rows did not pass`);
  return json.report as DrillJson;
};

// A check's bound is enforced server-side (statement_timeout); the client's clock adds a round trip.
const BUDGET_SLACK_MS = 250;

/**
 * The sandbox drill at several data sizes (1, 10, 100 × the default): restore, verification and warm-up
 * time against size, that every check stayed within its own time bound, and what the automation itself
 * adds on the recovery path (RTO − restore − verify: state transitions, selection, task plumbing).
 * `runs[i]` drills of `sizes[i]` rows each; the largest drill must pass like the others.
 */
export const benchDrill = async (sizes: number[], runs: number[]): Promise<BenchRow[]> => {
  const rows: BenchRow[] = [];
  let firstVerify: { size: number; seconds: number } | undefined;
  for (const [i, size] of sizes.entries()) {
    const n = runs[i] ?? 1;
    const samples: DrillJson[] = [];
    for (let r = 0; r < n; r++) samples.push(await drillOnce(size));
    const m = samples.map((s) => s.metrics);
    const rto = median(m.map((x) => x.rtoSeconds));
    const restore = median(m.map((x) => x.restoreSeconds));
    const verify = median(m.map((x) => x.verifySeconds));
    const overhead = median(m.map((x) => (x.rtoSeconds - x.restoreSeconds - x.verifySeconds) / x.rtoSeconds));
    firstVerify ??= { size, seconds: verify };
    const checks = samples.flatMap((s) => s.verification.checks);
    const bounded = checks.filter((c) => c.budgetMs !== undefined);
    const within = bounded.filter((c) => c.ms <= c.budgetMs! + BUDGET_SLACK_MS);
    const worst = Math.max(...bounded.map((c) => c.ms / c.budgetMs!));
    const warm = m.map((x) => x.warm).filter((w) => w?.complete);
    const bench = `sandbox drill ${size.toLocaleString('en')} rows`;
    const of = `(median of ${n})`;
    rows.push(
      {
        bench,
        metric: `RTO to first verified query s ${of}`,
        value: rto.toFixed(2),
        baseline: `restore ${restore.toFixed(2)} + verify ${verify.toFixed(2)}`,
        ratio: rto / (restore + verify),
        target: '',
        ok: true,
      },
      {
        bench,
        metric: 'automation overhead share of RTO',
        value: `${(overhead * 100).toFixed(1)} %`,
        baseline: 'RTO − restore − verify',
        ratio: overhead,
        target: '≤ 5 %',
        ok: overhead <= 0.05,
      },
      {
        bench,
        metric: `verification s vs ${firstVerify.size.toLocaleString('en')} rows ${of}`,
        value: verify.toFixed(2),
        baseline: `${firstVerify.seconds.toFixed(2)} × ${(size / firstVerify.size).toFixed(0)} size`,
        ratio: verify / firstVerify.seconds,
        target: '< size ratio (estimates, samples)',
        ok: size === firstVerify.size || verify / firstVerify.seconds < size / firstVerify.size,
      },
      {
        bench,
        metric: 'checks within their own time bound',
        value: `${within.length}/${bounded.length}`,
        baseline: `worst ${(worst * 100).toFixed(0)} % of its bound`,
        ratio: bounded.length ? within.length / bounded.length : 0,
        target: 'all',
        ok: bounded.length > 0 && within.length === bounded.length,
      },
    );
    if (warm.length === n) {
      const seconds = median(warm.map((w) => w!.seconds));
      const bytes = median(warm.map((w) => w!.readBytes));
      rows.push({
        bench,
        metric: `warm-up s, after verification ${of}`,
        value: seconds.toFixed(2),
        baseline: `${(bytes / 1e6).toFixed(0)} MB, ${median(warm.map((w) => w!.chunks))} chunks`,
        ratio: seconds / rto,
        target: 'complete, separate from RTO',
        ok: true,
      });
    } else {
      rows.push({
        bench,
        metric: 'warm-up',
        value: `${warm.length}/${n} complete`,
        baseline: '',
        target: 'complete',
        ok: false,
      });
    }
  }
  return rows;
};
