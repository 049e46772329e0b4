import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type LocalDrillEvent, type LocalDrillResult, TaskTimedOut } from '../infra/local-drill.js';
import { drillReport } from '../shared/drill/report.js';
import { StewardError } from '../shared/errors.js';
import type { ReportStore, TaskSignal, TokenStore } from '../shared/drill/ports.js';
import type { DrillState, DrillTaskEvent } from '../shared/drill/state.js';
import { type DrillDeps, runDrillTask } from '../shared/drill/tasks.js';
import type { Flags } from './flags.js';
import { progress } from './progress.js';

// What the sandboxes (PostgreSQL, Redis and EBS) give the drill tasks in place of DynamoDB, Step Functions'
// task tokens and the report bucket, how they print the local execution, and how a run stops on a signal.

/** Parked task tokens in memory (the state table in AWS). */
export const memoryTokens = (): TokenStore => {
  const parked = new Map<string, { token: string; state: DrillState }>();
  return {
    put: async (id, token, _ttl, state) => void parked.set(id, { token, state }),
    take: async (id) => {
      const p = parked.get(id);
      parked.delete(id);
      return p;
    },
    waiting: async (id) => parked.has(id),
  };
};

/** Completes local token waits: what SendTaskSuccess/Failure would deliver to Step Functions. */
export const localSignal = () => {
  const settled = new Map<
    string,
    { ok: true; output: unknown } | { ok: false; error: string; cause: string }
  >();
  const signal: TaskSignal = {
    success: async (token, output) => void settled.set(token, { ok: true, output }),
    failure: async (token, error, cause) => void settled.set(token, { ok: false, error, cause }),
  };
  return { signal, settled };
};

/** Drill reports as files under `dir`, addressed by file URL. */
export const fileReports = (dir: string): ReportStore & { written: string[] } => {
  const written: string[] = [];
  return {
    written,
    put: async (key, body) => {
      const file = join(dir, key);
      await mkdir(join(file, '..'), { recursive: true });
      await writeFile(file, body);
      written.push(file);
      // A local file: its URL serves people and machines alike.
      const url = pathToFileURL(file).href;
      return { uri: url, consoleUrl: url };
    },
    // Each sandbox run is a fresh estate: only what this run wrote (e.g. a baseline) can be read back.
    get: async (key) => (written.includes(join(dir, key)) ? readFile(join(dir, key), 'utf8') : undefined),
  };
};

/** A duration as the sandboxes print it: `1.23 s`. */
export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The drill id of a sandbox run: `sandbox-<yyyymmddhhmmss>`. */
export const sandboxExecutionName = (now: Date): string =>
  `sandbox-${now
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}`;

/** Collects the execution's state log into `events` and prints each state as it ends. */
export const stateLog = (events: LocalDrillEvent[], say: (s: string) => void) => {
  const entered = new Map<string, number>();
  return (e: LocalDrillEvent): void => {
    events.push(e);
    if (e.type === 'entered') entered.set(e.state, e.at);
    const since = entered.has(e.state) ? ` (${seconds(e.at - entered.get(e.state)!)})` : '';
    if (e.type === 'succeeded') say(`    ✓ ${e.state}${since}`);
    if (e.type === 'failed') say(`    ✗ ${e.state}${since}: ${e.error ?? ''}`);
    if (e.type === 'caught') say(`    ↳ ${e.state}: caught ${e.error ?? ''}`);
    if (e.type === 'retry') say(`    ↻ ${e.state}: retrying`);
  };
};

/**
 * The control plane's tasks of a local execution: the real drill tasks, the wait for the restore completed
 * as SendTaskSuccess/Failure (through `signal`) would complete it, or timed out into the polling path.
 * `final` is the drill's state at the end: the execution's output, or, for a FAILED execution (which has
 * none), what Record saw.
 */
export const localControlTasks = (deps: DrillDeps, settled: ReturnType<typeof localSignal>['settled']) => {
  let recorded: DrillState | undefined;
  return {
    run: async (event: DrillTaskEvent): Promise<unknown> => {
      const next = await runDrillTask(event, deps);
      if (event.task === 'record') recorded = next;
      if (event.task !== 'await') return next;
      const s = settled.get(event.taskToken ?? '');
      if (!s) throw new TaskTimedOut();
      if (!s.ok) throw Object.assign(new Error(s.cause), { name: s.error });
      return s.output;
    },
    final: (result: LocalDrillResult): DrillState => {
      const state = (result.output as DrillState | undefined) ?? recorded;
      if (!state)
        throw new StewardError(
          `the drill ended ${result.status} before recording: ${result.error?.Cause ?? ''}`,
        );
      return state;
    },
  };
};

/** One local execution of the drill with the control tasks of `control` (the sandbox's own verifier tasks). */
export type LocalExecute = (
  control: ReturnType<typeof localControlTasks>,
  executionName: string,
  onEvent: (e: LocalDrillEvent) => void,
) => Promise<LocalDrillResult>;

/** The first drill of a process, as `--json` prints it (`firstDrill`): its state log and the copy's times. */
export interface FirstDrill {
  events: LocalDrillEvent[];
  target: NonNullable<DrillState['target']>;
}

/**
 * STEWARD_SANDBOX_FIRST_DRILL=1 (the bench's overhead rows): one drill runs first in this process, restored,
 * verified, warmed and removed like the reported one but with its own tokens and reports (in a temp dir it
 * removes), so the reported drill runs as in a container that has run a drill. The first one pays this
 * process's one-time costs (the TypeScript source loaded through tsx, schemas built on first use, cold code);
 * its state log is returned for `--json`. Undefined when the variable is not set.
 */
export const firstDrillIfAsked = async (
  deps: DrillDeps,
  execute: LocalExecute,
): Promise<FirstDrill | undefined> => {
  if (process.env.STEWARD_SANDBOX_FIRST_DRILL !== '1') return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'steward-first-drill-'));
  try {
    const { signal, settled } = localSignal();
    const control = localControlTasks(
      { ...deps, tokens: memoryTokens(), signal, reports: fileReports(dir) },
      settled,
    );
    const events: LocalDrillEvent[] = [];
    const r = await execute(control, `${sandboxExecutionName(new Date())}-first`, (e) => void events.push(e));
    const s = control.final(r);
    if (r.status !== 'SUCCEEDED' || !s.target)
      throw new StewardError(`the first drill did not pass: ${r.error?.Cause ?? s.error?.Cause ?? ''}`);
    return { events, target: s.target };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

/** The exit code of a sandbox run ended by a signal: the shell's 128 + signal number. */
export const SIGNAL_EXIT_CODE: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

class Interrupted extends StewardError {
  override name = 'Interrupted';
}

/**
 * A sandbox run's console and signals. `say` prints the run's results (nothing with --json, whose one
 * document `out` prints); `tell` what the user must see either way (stderr with --json). `step` runs a step of
 * the run and says how long it took; one that takes a while says so on stderr while it runs (as `running`).
 *
 * Ctrl-C or SIGTERM aborts `abort` and refuses every further step; the caller's `finally` then removes every
 * server and temp dir and calls `close`. The handlers stay for the whole run, cleanup included: a second signal
 * stops at once, removing what it must synchronously (`atOnce`), rather than leave it behind as a default
 * exit-by-signal would. `what` names what the run removes ("every server and temp dir").
 */
export const sandboxRun = (
  flags: Pick<Flags, 'json'>,
  out: (s: string) => void,
  cleanup: { what: string; atOnce: () => void; again: string },
) => {
  const say = flags.json ? () => {} : out;
  const tell = flags.json ? (s: string) => console.error(s) : out;
  const abort = new AbortController();
  let stopSignal: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopSignal) {
      tell(`\nsteward sandbox: ${sig} again: ${cleanup.again} now`);
      cleanup.atOnce();
      process.exit(SIGNAL_EXIT_CODE[sig] ?? 1);
    }
    stopSignal = sig;
    abort.abort();
    tell(`\nsteward sandbox: ${sig}: stopping the drill and cleaning up (send it again to stop at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    say,
    tell,
    abort,
    /** The signal that stopped the run, if one did. */
    stopped: () => stopSignal,
    step: async <T>(label: string, f: () => Promise<T>, running = label): Promise<T> => {
      if (stopSignal) throw new Interrupted();
      const s = Date.now();
      const ticker = progress(running, process.stderr);
      let r: T;
      try {
        r = await f();
      } finally {
        ticker.stop();
      }
      say(`  ✓ ${label} (${seconds(Date.now() - s)})`);
      return r;
    },
    /** A run that failed after a signal failed because of it (servers stopping under a query): the signal's exit code. */
    failed: (e: unknown): number => {
      if (stopSignal) return SIGNAL_EXIT_CODE[stopSignal] ?? 1;
      throw e;
    },
    /** The end of the run, after its cleanup: the handlers go. */
    close: () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      if (stopSignal) tell(`steward sandbox: interrupted; ${cleanup.what} was removed`);
    },
  };
};

/**
 * A finished sandbox drill's exit code: a restored server left running is an error, a run stopped by a
 * signal exits with that signal's code, else 0 when the drill passed.
 */
export const sandboxExit = (
  leftovers: string[],
  stopSignal: NodeJS.Signals | undefined,
  passed: boolean,
): number => {
  if (leftovers.length)
    throw new StewardError(`cleanup left restored servers running: ${leftovers.join(', ')}`);
  if (stopSignal) return SIGNAL_EXIT_CODE[stopSignal] ?? 1;
  return passed ? 0 : 1;
};

/**
 * The end of a local drill: its report document, the report file this run wrote, and the `--json` document
 * (the execution's status, path and state log beside the report; `extra` adds the engine's own facts).
 */
export const sandboxOutcome = (
  engine: string,
  result: LocalDrillResult,
  state: DrillState,
  events: LocalDrillEvent[],
  written: readonly string[],
) => {
  const report = drillReport(state);
  const reportFile = written.find((f) => f.endsWith(report.reportKey ?? `${state.drillId}.json`));
  return {
    report,
    reportFile,
    json: (extra: Record<string, unknown> = {}) =>
      JSON.stringify(
        {
          engine,
          status: result.status,
          error: result.error,
          path: result.path,
          events,
          report,
          reportFile,
          ...extra,
        },
        null,
        2,
      ),
  };
};
