import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type BenchRow, median } from './stats.js';

// The bench sits below the CLI (`steward bench` imports bench/run.ts): it never imports cli/. The sandbox
// drill runs as a user runs it, `steward sandbox --json`, in its own process.
const STEWARD = fileURLToPath(new URL('../bin/steward.mjs', import.meta.url));
const run = promisify(execFile);

/** One entry of the execution's state log (`steward sandbox --json` prints it as `events`). */
export interface StateEvent {
  state: string;
  type: 'entered' | 'succeeded' | 'failed' | 'caught' | 'retry';
  /** Epoch ms. */
  at: number;
}

interface DrillJson {
  events: StateEvent[];
  target: { requestedAt: string; availableAt: string };
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
  const json = JSON.parse(stdout) as {
    events: StateEvent[];
    report: Partial<DrillJson> & { target?: Partial<DrillJson['target']> };
  };
  const { metrics, verification, target } = json.report;
  if (!metrics || !verification || !target?.requestedAt || !target.availableAt)
    throw new Error(`sandbox drill at ${rows} rows did not pass`);
  return { metrics, verification, events: json.events, target: target as DrillJson['target'] };
};

/** Where the time to first verified query went, in ms, read from the execution's state timestamps. */
export interface DrillPhases {
  /** Execution start to the Verify state's exit. */
  rto: number;
  /** The copy's restore: requested (Restore task) to available (as the restore port reported it). */
  restore: number;
  /** From the copy being available to the execution leaving the wait for it (event or poll). */
  detection: number;
  /** The Verify task, entered to exited. */
  verify: number;
  /** Everything else: selection, state transitions, task plumbing, detection. */
  overhead: number;
}

/**
 * Split a drill's RTO by its state log: restore is the copy's own time (requested → available), so a slow
 * detection of "available" (an event that comes late, a poll interval) counts as automation overhead, not
 * as restore time.
 */
export const drillPhases = (events: readonly StateEvent[], target: DrillJson['target']): DrillPhases => {
  const start = events.find((e) => e.type === 'entered')?.at;
  const verifyIn = events.find((e) => e.state === 'Verify' && e.type === 'entered');
  const verifyOut = events.find((e) => e.state === 'Verify' && e.type === 'succeeded');
  if (start === undefined || !verifyIn || !verifyOut) throw new Error('the execution never passed Verify');
  // The state the execution left to enter Verify: the end of the wait for the copy.
  const waited = events.filter((e) => e.type === 'succeeded' && e.at <= verifyIn.at).at(-1)!;
  const requested = Date.parse(target.requestedAt);
  const available = Date.parse(target.availableAt);
  const rto = verifyOut.at - start;
  const restore = available - requested;
  const verify = verifyOut.at - verifyIn.at;
  return {
    rto,
    restore,
    detection: Math.max(0, waited.at - available),
    verify,
    overhead: rto - restore - verify,
  };
};

/** The same state log with a pause of `ms` before Verify (the self-test: overhead the row must catch). */
export const pausedBeforeVerify = (events: readonly StateEvent[], ms: number): StateEvent[] => {
  const at = events.find((e) => e.state === 'Verify' && e.type === 'entered')?.at ?? Infinity;
  return events.map((e) => (e.at >= at ? { ...e, at: e.at + ms } : e));
};

// A check's bound is enforced server-side (statement_timeout); the client's clock adds a round trip.
const BUDGET_SLACK_MS = 250;

/**
 * The sandbox drill at several data sizes (1, 10, 100 × the default): restore, verification and warm-up
 * time against size, that every check stayed within its own time bound, and what the automation itself
 * adds on the recovery path, from the execution's state timestamps (RTO − the copy's restore − the Verify
 * task: selection, state transitions, task plumbing and detecting that the copy is available).
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
    const verify = median(m.map((x) => x.verifySeconds));
    const phases = samples.map((x) => drillPhases(x.events, x.target));
    const overhead = median(phases.map((p) => p.overhead / p.rto));
    const detection = median(phases.map((p) => p.detection));
    // Self-test: the same executions with a pause of 10 % of RTO before Verify must turn the row red.
    const paused = median(
      samples.map((x) => {
        const p = drillPhases(x.events, x.target);
        const q = drillPhases(pausedBeforeVerify(x.events, p.rto * 0.1), x.target);
        return q.overhead / q.rto;
      }),
    );
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
        baseline: `restore ${(median(phases.map((p) => p.restore)) / 1000).toFixed(2)} + Verify ${(median(phases.map((p) => p.verify)) / 1000).toFixed(2)}`,
        ratio: rto / (median(phases.map((p) => p.restore + p.verify)) / 1000),
        target: '',
        ok: true,
      },
      {
        bench,
        metric: `automation overhead share of RTO, from state timestamps (detection ${detection.toFixed(0)} ms)`,
        value: `${(overhead * 100).toFixed(1)} %`,
        baseline: 'RTO − restore (requested → available) − Verify',
        ratio: overhead,
        target: '≤ 5 %',
        ok: overhead <= 0.05,
      },
      {
        bench: `${bench}, self-test`,
        metric: 'the same executions with a pause of 10 % of RTO before Verify: the overhead row',
        value: `${(paused * 100).toFixed(1)} %`,
        baseline: 'RTO − restore − Verify',
        ratio: paused,
        target: '> 5 % (must go red)',
        ok: paused > 0.05,
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
