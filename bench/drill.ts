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

export interface DrillJson {
  events: StateEvent[];
  target: { requestedAt: string; availableAt: string };
  metrics: {
    rtoSeconds: number;
    rtoTargetSeconds: number;
    restoreSeconds: number;
    verifySeconds: number;
    verifiedAt: string;
    warm?: Warm;
  };
  verification: { checks: Check[] };
}

/** A measured drill and the drill run before it in the same process (cold: the process's one-time costs). */
export interface DrillPair extends DrillJson {
  first: Pick<DrillJson, 'events' | 'target'>;
}

/** A verification check as the drill report lists it. */
export interface Check {
  name: string;
  ms: number;
  budgetMs?: number;
  status?: string;
}

/** The warm-up as the drill report lists it (`metrics.warm`). */
export interface Warm {
  startedAt: string;
  seconds: number;
  complete: boolean;
  readBytes: number;
  chunks: number;
}

/**
 * What `steward sandbox --json` printed with STEWARD_SANDBOX_FIRST_DRILL=1: the reported drill (the second of
 * its process) with its split, warm-up and checks, and the first drill's state log and restore times.
 */
export const drillPairOf = (stdout: string, rows: number): DrillPair => {
  const json = JSON.parse(stdout) as {
    events: StateEvent[];
    firstDrill?: { events: StateEvent[]; target: Partial<DrillJson['target']> };
    report: Partial<DrillJson> & { target?: Partial<DrillJson['target']> };
  };
  const { metrics, verification, target } = json.report;
  if (!metrics || !verification || !target?.requestedAt || !target.availableAt)
    throw new Error(`sandbox drill at ${rows} rows did not pass`);
  const first = json.firstDrill;
  if (!first?.target.requestedAt || !first.target.availableAt)
    throw new Error(`sandbox drill at ${rows} rows ran no first drill`);
  return {
    metrics,
    verification,
    events: json.events,
    target: target as DrillJson['target'],
    first: { events: first.events, target: first.target as DrillJson['target'] },
  };
};

/**
 * One sandbox process (`npm start -- --size N --json`) running two drills: the bench judges the second (see
 * benchDrill) and shows the first beside it.
 */
const drillOnce = async (rows: number): Promise<DrillPair> => {
  const env = { ...process.env, STEWARD_SANDBOX_FIRST_DRILL: '1' };
  const { stdout } = await run(process.execPath, [STEWARD, 'sandbox', '--size', String(rows), '--json'], {
    maxBuffer: 64 << 20,
    env,
  }).catch((e: { stdout?: string; message: string }) => {
    throw new Error(`sandbox drill at ${rows} rows did not pass: ${e.message}`);
  });
  return drillPairOf(stdout, rows);
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
export const drillPhases = (
  events: readonly StateEvent[],
  target: DrillJson['target'],
  /** The verifying state: `Verify` for a database, `VerifyCache` for a Redis drill. */
  verifyState = 'Verify',
): DrillPhases => {
  const start = events.find((e) => e.type === 'entered')?.at;
  const verifyIn = events.find((e) => e.state === verifyState && e.type === 'entered');
  const verifyOut = events.find((e) => e.state === verifyState && e.type === 'succeeded');
  if (start === undefined || !verifyIn || !verifyOut)
    throw new Error(`the execution never passed ${verifyState}`);
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
export const pausedBeforeVerify = (
  events: readonly StateEvent[],
  ms: number,
  verifyState = 'Verify',
): StateEvent[] => {
  const at = events.find((e) => e.state === verifyState && e.type === 'entered')?.at ?? Infinity;
  return events.map((e) => (e.at >= at ? { ...e, at: e.at + ms } : e));
};

// A check's bound is enforced server-side (statement_timeout); the client's clock adds a round trip.
const BUDGET_SLACK_MS = 250;

/** Checks with a time bound, and those that finished within it (the client's round trip allowed). */
export const checksWithinBound = (checks: readonly Check[]) => {
  const bounded = checks.filter((c) => c.budgetMs !== undefined);
  const within = bounded.filter((c) => c.ms <= c.budgetMs! + BUDGET_SLACK_MS);
  return {
    bounded: bounded.length,
    within: within.length,
    worst: Math.max(0, ...bounded.map((c) => c.ms / c.budgetMs!)),
  };
};

/** The same checks with the first bounded one running past its bound (the self-test of the bound row). */
export const oneCheckOverBound = (checks: readonly Check[]): Check[] => {
  const i = checks.findIndex((c) => c.budgetMs !== undefined);
  return checks.map((c, j) => (j === i ? { ...c, ms: c.budgetMs! * 1.5 + BUDGET_SLACK_MS } : c));
};

/** The overhead row's figure: the median share of RTO and the median ms of the executions' overhead. */
const overheadOf = (phases: readonly DrillPhases[]) => ({
  share: median(phases.map((q) => q.overhead / q.rto)),
  ms: median(phases.map((q) => q.overhead)),
});

/**
 * The overhead row and its self-test over drills that each ran second in their process, with the first
 * drills' figure in the metric: judged on what a container that has run a drill adds, not on the process's
 * one-time costs. The self-test adds a pause of 10 % of RTO before Verify to the same (second) executions.
 */
export const overheadRows = (bench: string, samples: readonly DrillPair[]): [BenchRow, BenchRow] => {
  const row = (pause: (p: DrillPhases) => number) => {
    const o = overheadOf(
      samples.map((x) => {
        const p = drillPhases(x.events, x.target);
        return drillPhases(pausedBeforeVerify(x.events, pause(p)), x.target);
      }),
    );
    return {
      value: `${(o.share * 100).toFixed(1)} % (${o.ms.toFixed(0)} ms)`,
      ratio: o.share,
      ok: o.share <= 0.05,
    };
  };
  const detection = median(samples.map((x) => drillPhases(x.events, x.target).detection));
  const first = overheadOf(samples.map((x) => drillPhases(x.first.events, x.first.target)));
  const measured = row(() => 0);
  const paused = row((p) => p.rto * 0.1);
  return [
    {
      bench,
      metric:
        `automation overhead share of RTO, from state timestamps (median of ${samples.length}, each the second ` +
        `drill of its process; detection ${detection.toFixed(0)} ms; the process's first drill: ` +
        `${(first.share * 100).toFixed(1)} % (${first.ms.toFixed(0)} ms))`,
      ...measured,
      baseline: 'RTO − restore (requested → available) − Verify',
      target: '≤ 5 %',
    },
    {
      bench: `${bench}, self-test`,
      metric: 'the same executions with a pause of 10 % of RTO before Verify: the overhead row',
      ...paused,
      ok: !paused.ok,
      baseline: 'RTO − restore − Verify',
      target: '> 5 % (must go red)',
    },
  ];
};

/**
 * The warm-up row: every drill's warm-up completed, and started only once verification had passed (it
 * reads the copy's blocks so it is fast when used; it must never delay the first verified query).
 */
export const warmedAfterVerify = (drills: readonly { verifiedAt: string; warm?: Warm }[]): boolean =>
  drills.length > 0 &&
  drills.every((d) => d.warm?.complete === true && Date.parse(d.warm.startedAt) >= Date.parse(d.verifiedAt));

/**
 * The sandbox drill at several data sizes (1, 10, 100 × the default): RTO against the drill's own target,
 * verification time against size, that every check stayed within its own time bound, that the warm-up
 * completed after verification, and what the automation itself adds on the recovery path, from the
 * execution's state timestamps (RTO − the copy's restore − the Verify task: selection, state transitions,
 * task plumbing and detecting that the copy is available). Every row has a self-test on the same drills
 * with the fault it must catch injected: a pause as long as the RTO target, a pause of 10 % of RTO,
 * verification that grows with the rows, a check past its bound, a warm-up that did not complete.
 * `runs[i]` drills of `sizes[i]` rows each; the largest drill must pass like the others.
 *
 * Each sandbox process runs a first drill before the measured one (STEWARD_SANDBOX_FIRST_DRILL), as the Redis
 * drill row does: a fresh process's first execution also pays one-time costs that are no drill's (the task
 * modules loaded through tsx on first use, where Lambda runs a bundle; schemas built on first use; cold
 * code), tens of ms before the restore is requested. Every row reads the second drill, as a container that
 * ran one before runs it; the overhead row shows the first drill's figure beside it.
 */
export const benchDrill = async (sizes: number[], runs: number[]): Promise<BenchRow[]> => {
  const rows: BenchRow[] = [];
  let first: { size: number; verify: number } | undefined;
  for (const [i, size] of sizes.entries()) {
    const n = runs[i] ?? 1;
    const samples: DrillPair[] = [];
    for (let r = 0; r < n; r++) samples.push(await drillOnce(size));
    const m = samples.map((s) => s.metrics);
    const target = median(m.map((x) => x.rtoTargetSeconds));
    const verify = median(m.map((x) => x.verifySeconds));
    const phases = samples.map((x) => drillPhases(x.events, x.target));
    // The executions' phases with a pause of `pause(p)` ms before Verify (none as they ran; the self-tests add one).
    const phasesWith = (pause: (p: DrillPhases) => number) =>
      samples.map((x) =>
        drillPhases(pausedBeforeVerify(x.events, pause(drillPhases(x.events, x.target))), x.target),
      );
    // RTO from the state log (start → Verify's exit), not the drill's own figure, so the self-test's pause counts.
    const rtoRow = (pause: (p: DrillPhases) => number) => {
      const rto = median(phasesWith(pause).map((q) => q.rto)) / 1000;
      return { value: rto.toFixed(2), ratio: rto / target, ok: rto <= target };
    };
    first ??= { size, verify };
    const scale = size / first.size;
    const scalingRow = (v: number) => ({
      value: v.toFixed(2),
      ratio: v / first!.verify,
      ok: v / first!.verify < scale,
    });
    const checks = samples.flatMap((s) => s.verification.checks);
    const checksRow = (c: readonly Check[]) => {
      const b = checksWithinBound(c);
      return {
        value: `${b.within}/${b.bounded}`,
        baseline: `worst ${(b.worst * 100).toFixed(0)} % of its bound`,
        ratio: b.bounded ? b.within / b.bounded : 0,
        ok: b.bounded > 0 && b.within === b.bounded,
      };
    };
    const warm = m.flatMap((x) => (x.warm ? [x.warm] : []));
    const warmRow = (drills: DrillJson['metrics'][]) => ({
      value: `${drills.filter((d) => d.warm?.complete).length}/${drills.length} complete`,
      ok: warmedAfterVerify(drills),
    });
    /** A self-test row: the injected fault must turn its row red. */
    const red = <R extends { ok: boolean }>(row: R): R => ({ ...row, ok: !row.ok });
    const unwarmed = m.map((x) => ({ ...x, ...(x.warm && { warm: { ...x.warm, complete: false } }) }));
    const restoreS = median(phases.map((p) => p.restore)) / 1000;
    const verifyS = median(phases.map((p) => p.verify)) / 1000;
    const bench = `sandbox drill ${size.toLocaleString('en')} rows`;
    const selfTest = `${bench}, self-test`;
    const of = `(median of ${n})`;
    rows.push(
      {
        bench,
        metric: `RTO to first verified query s, from state timestamps ${of} (restore ${restoreS.toFixed(2)} + Verify ${verifyS.toFixed(2)} s)`,
        ...rtoRow(() => 0),
        baseline: `${target} s drill target`,
        target: "≤ the drill's RTO target",
      },
      {
        bench: selfTest,
        metric: 'the same executions with a pause as long as the RTO target before Verify: the RTO row',
        ...red(rtoRow(() => target * 1000)),
        baseline: `${target} s drill target`,
        target: '> target (must go red)',
      },
      ...overheadRows(bench, samples),
    );
    // Verification against size: from the second size on (the first is the baseline).
    if (size !== first.size)
      rows.push(
        {
          bench,
          metric: `verification s vs ${first.size.toLocaleString('en')} rows ${of}`,
          ...scalingRow(verify),
          baseline: `${first.verify.toFixed(2)} × ${scale.toFixed(0)} size`,
          target: '< size ratio (estimates, samples)',
        },
        {
          bench: selfTest,
          metric: `the same verifications, each stretched by the size ratio (a check that reads every row): the verification row`,
          ...red(scalingRow(verify * scale)),
          baseline: `${first.verify.toFixed(2)} × ${scale.toFixed(0)} size`,
          target: '≥ size ratio (must go red)',
        },
      );
    rows.push(
      {
        bench,
        metric: 'checks within their own time bound',
        ...checksRow(checks),
        target: 'all',
      },
      {
        bench: selfTest,
        metric: 'the same checks with one running past its bound: the bound row',
        ...red(checksRow(oneCheckOverBound(checks))),
        target: 'not all (must go red)',
      },
      {
        bench,
        metric: `warm-up complete, started after verification ${of}`,
        ...warmRow(m),
        baseline: warm.length
          ? `${median(warm.map((w) => w.seconds)).toFixed(2)} s, ${(median(warm.map((w) => w.readBytes)) / 1e6).toFixed(0)} MB, ${median(warm.map((w) => w.chunks))} chunks`
          : 'no warm-up',
        ratio: warm.length
          ? median(warm.map((w) => w.seconds)) / median(m.map((x) => x.rtoSeconds))
          : undefined,
        target: 'complete, separate from RTO',
      },
      {
        bench: selfTest,
        metric:
          'the same drills with the warm-up stopped before the end (an un-warmed copy): the warm-up row',
        ...red(warmRow(unwarmed)),
        baseline: '',
        target: 'not all (must go red)',
      },
    );
  }
  return rows;
};
