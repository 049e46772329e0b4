import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { drillDefinition } from '../infra/drill-synth.js';
import { type AslDefinition, type LocalDrillEvent, runDrillLocally } from '../infra/local-drill.js';
import { parseConfig } from '../shared/config/schema.js';
import { REDIS_SANDBOX_CACHE, redisSandboxConfigInput } from '../shared/drill/local/redis-sample.js';
import {
  type DrillJson,
  type DrillPhases,
  drillPhases,
  pausedBeforeVerify,
  type StateEvent,
} from './drill.js';
import { type BenchRow, median } from './stats.js';

// The Redis sandbox drill runs as a user runs it, `steward sandbox --engine redis --json`, in its own
// process: the drill state machine CDK synthesizes, over a redis-server restored from the RDB file.
const STEWARD = fileURLToPath(new URL('../bin/steward.mjs', import.meta.url));
const run = promisify(execFile);
const VERIFY = 'VerifyCache';
/** The overhead share the row allows: what the database drill's row allows. */
const MAX_SHARE = 0.05;

interface RedisDrillJson {
  events: StateEvent[];
  target: DrillJson['target'];
  rtoTargetSeconds: number;
  keys: Record<number, number>;
  /** The drill run before it in the same process (cold: the process's one-time costs). */
  first: { events: StateEvent[]; target: DrillJson['target'] };
}

/** One Redis sandbox drill of `sessions` sessions: its state log, the copy's restore times, the key counts. */
const redisDrillOnce = async (sessions: number): Promise<RedisDrillJson> => {
  const args = [STEWARD, 'sandbox', '--engine', 'redis', '--size', String(sessions), '--json'];
  // A first drill runs in the process before the measured one: see the row's doc below.
  const env = { ...process.env, STEWARD_SANDBOX_FIRST_DRILL: '1' };
  const { stdout } = await run(process.execPath, args, { maxBuffer: 64 << 20, env }).catch(
    (e: { message: string }) => {
      throw new Error(`Redis sandbox drill of ${sessions} sessions did not pass: ${e.message}`);
    },
  );
  const json = JSON.parse(stdout) as {
    events: StateEvent[];
    firstDrill?: { events: StateEvent[]; target: Partial<DrillJson['target']> };
    report: {
      target?: Partial<DrillJson['target']>;
      metrics?: { rtoTargetSeconds: number };
      verification?: { tables?: Record<string, { rows?: number }> };
    };
  };
  const { target, metrics, verification } = json.report;
  if (!metrics || !target?.requestedAt || !target.availableAt)
    throw new Error(`Redis sandbox drill of ${sessions} sessions did not pass`);
  const first = json.firstDrill;
  if (!first?.target.requestedAt || !first.target.availableAt)
    throw new Error(`Redis sandbox drill of ${sessions} sessions ran no first drill`);
  const keys = Object.fromEntries(
    Object.entries(verification?.tables ?? {}).map(([db, t]) => [Number(db.slice(2)), t.rows ?? 0]),
  );
  return {
    events: json.events,
    target: target as DrillJson['target'],
    rtoTargetSeconds: metrics.rtoTargetSeconds,
    keys,
    first: { events: first.events, target: first.target as DrillJson['target'] },
  };
};

/**
 * The executor's own floor, computed apart from steward's tasks: the same definition run with tasks that
 * return at once, Start entered to VerifyCache's exit (ms, median of `runs`). No drill's overhead can be
 * below what the state transitions themselves take.
 */
export const executorFloorMs = async (definition: AslDefinition, runs: number): Promise<number> => {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const events: LocalDrillEvent[] = [];
    await runDrillLocally({
      definition,
      input: { database: REDIS_SANDBOX_CACHE },
      executionName: `floor-${i}`,
      // Whatever a task gets, it answers at once with a state that takes the Redis path to the end.
      tasks: async (e) => ({ ...e.state, kind: 'redis', available: true, result: { passed: true } }),
      onEvent: (e) => events.push(e),
    });
    const out = events.find((e) => e.state === VERIFY && e.type === 'succeeded');
    if (!events[0] || !out) throw new Error('the instant-task execution never passed VerifyCache');
    samples.push(out.at - events[0].at);
  }
  return median(samples);
};

/**
 * "Redis drill overhead share of RTO": what the automation adds on the recovery path of a Redis drill,
 * from the execution's state timestamps (RTO to VerifyCache's exit − the copy's restore, requested →
 * available − the VerifyCache task), as the database drill's row reads it. Its minimum is computed
 * independently: the same synthesized definition with instant tasks (the executor's floor). The self-test
 * adds a pause of 10 % of RTO before VerifyCache to the same executions: the row must go red.
 * `runs[i]` drills of `sizes[i]` sessions each.
 *
 * Each sandbox process runs a first drill before the measured one (STEWARD_SANDBOX_FIRST_DRILL): a fresh
 * process's first execution also pays one-time costs that are no drill's: the TypeScript source resolved and
 * loaded through tsx's loader (Lambda runs a bundle), schemas built on first use, cold code. At 20 000
 * sessions (a local restore of tens of ms) those few ms are most of that drill's overhead, so the row judges
 * the drill after it, as a container that ran one before runs it, and shows the first drill's figure beside
 * it. A cold container's start is measured where it is compared with the bare SDK: the cold-start rows.
 */
export const benchRedisDrill = async (
  sizes: number[],
  runs: number[],
  floorRuns = 9,
): Promise<BenchRow[]> => {
  const rows: BenchRow[] = [];
  let floor: number | undefined;
  for (const [i, sessions] of sizes.entries()) {
    const n = runs[i] ?? 1;
    const samples: RedisDrillJson[] = [];
    for (let r = 0; r < n; r++) samples.push(await redisDrillOnce(sessions));
    // The definition the sandbox ran: the same stage config, synthesized here once.
    floor ??= await executorFloorMs(
      drillDefinition(parseConfig(redisSandboxConfigInput(samples[0]!.keys), 'bench')),
      floorRuns,
    );
    const phasesWith = (pause: (p: DrillPhases) => number) =>
      samples.map((x) => {
        const p = drillPhases(x.events, x.target, VERIFY);
        return drillPhases(pausedBeforeVerify(x.events, pause(p), VERIFY), x.target, VERIFY);
      });
    const overheadRow = (pause: (p: DrillPhases) => number) => {
      const phases = phasesWith(pause);
      const share = median(phases.map((q) => q.overhead / q.rto));
      const overhead = median(phases.map((q) => q.overhead));
      return {
        value: `${(share * 100).toFixed(1)} % (${overhead.toFixed(0)} ms)`,
        ratio: overhead / floor!,
        ok: share <= MAX_SHARE,
      };
    };
    const phases = phasesWith(() => 0);
    const firsts = samples.map((x) => drillPhases(x.first.events, x.first.target, VERIFY));
    const firstShare = median(firsts.map((q) => q.overhead / q.rto));
    const firstOverhead = median(firsts.map((q) => q.overhead));
    const rto = median(phases.map((p) => p.rto));
    const restore = median(phases.map((p) => p.restore));
    const verify = median(phases.map((p) => p.verify));
    const bench = `redis sandbox drill ${sessions.toLocaleString('en')} sessions`;
    rows.push(
      {
        bench,
        metric:
          `Redis drill overhead share of RTO, from state timestamps (median of ${n}, each the second drill of ` +
          `its process; RTO ${rto.toFixed(0)} ms = restore ${restore.toFixed(0)} + VerifyCache ` +
          `${verify.toFixed(0)} + overhead; the process's first drill: ${(firstShare * 100).toFixed(1)} % ` +
          `(${firstOverhead.toFixed(0)} ms))`,
        ...overheadRow(() => 0),
        baseline: `minimum ${floor.toFixed(0)} ms: the definition with instant tasks (ratio: overhead / minimum)`,
        target: `≤ ${MAX_SHARE * 100} %`,
      },
      {
        bench: `${bench}, self-test`,
        metric: 'the same executions with a pause of 10 % of RTO before VerifyCache: the overhead row',
        ...((row) => ({ ...row, ok: !row.ok }))(overheadRow((p) => p.rto * 0.1)),
        baseline: `minimum ${floor.toFixed(0)} ms`,
        target: `> ${MAX_SHARE * 100} % (must go red)`,
      },
    );
  }
  return rows;
};
