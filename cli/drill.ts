import { setTimeout as delay } from 'node:timers/promises';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  paginateListExecutions,
  paginateListStateMachines,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { sfnClient } from '../shared/aws/clients/sfn.js';
import * as z from '../shared/zod.js';
import type { StewardConfig } from '../shared/config/schema.js';
import { drillReport, type DrillReportDocument } from '../shared/drill/report.js';
import { causeText } from '../shared/drill/verdict.js';
import { formatDuration, renderDrillReport } from '../shared/drill/rto-rpo.js';
import { DrillInput, type DrillState } from '../shared/drill/state.js';
import { deployCommand } from '../shared/config/files.js';
import { suggestion } from '../shared/config/suggest.js';
import { AwsCallError, formatIssues, StewardError } from '../shared/errors.js';
import { mapLimit } from '../shared/pool.js';
import { stageConfig, UsageError } from './base.js';
import { placeFor, selectTarget } from './target.js';
import { placeLabel } from '../shared/fleet/place.js';
import type { Flags } from './flags.js';
import { table } from '../shared/table.js';

/**
 * State names of the drill state machine the CLI reads from its history. Copied from `DrillStates`
 * in infra/drill.ts (importing it would load aws-cdk-lib on every CLI run); a test keeps them equal.
 */
export const DRILL_CLI_STATES = { wait: 'WaitForRestore', record: 'Record' } as const;

/** What `steward drill` and `steward drills` talk to; tests pass a mocked client and an instant sleep. */
export interface DrillCliDeps {
  /** Default: the shared Step Functions client of `config.region` (AWS_PROFILE and AWS_ENDPOINT_URL apply). */
  sfn?: SFNClient;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => Date;
  /** Between history polls while `--wait`ing. */
  pollMs?: number;
  /** Aborting it stops waiting, as Ctrl-C does; the execution keeps running. */
  interrupt?: AbortSignal;
}

const POLL_MS = 5_000;
// Step Functions' maximum page for GetExecutionHistory.
const HISTORY_PAGE = 1000;
// Record's exit is the 5th event from the end of a FAILED drill (then Passed?, DrillFailed, ExecutionFailed).
const TAIL_EVENTS = 20;
// Execution names: 1–80 characters; letters, digits, `-` and `_` keep them valid and readable in CloudWatch.
const NAME_MAX = 80;
const LIMIT_MAX = 1000;
// Bounds parallel DescribeExecution/GetExecutionHistory calls of `steward drills` (history refills at 5/s).
const LIST_CONCURRENCY = 5;
const OUTCOME_MAX = 100;

const sleepFor = async (ms: number, signal: AbortSignal): Promise<void> => {
  try {
    await delay(ms, undefined, { signal });
  } catch {
    // Aborted: the caller checks the signal.
  }
};

/** The drill state machine of a stage, as infra/drill.ts names it. */
export const drillStateMachineName = (stage: string): string => `steward-${stage}-drill`;

/** `<db>-<yyyymmddhhmmss>-cli` (UTC): readable, sortable, unique per second, at most 80 valid characters. */
export const drillExecutionName = (database: string, at: Date): string => {
  const suffix = `-${at.toISOString().replace(/[-:T]/g, '').slice(0, 14)}-cli`;
  return `${database.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, NAME_MAX - suffix.length)}${suffix}`;
};

const PointInTime = z.iso.datetime({ offset: true });

const requireDrills = (config: StewardConfig, file = `steward.${config.stage}.yaml`): string[] => {
  if (!config.drill.enabled) {
    throw new UsageError(
      `drills are disabled in stage ${config.stage}: no drill state machine is deployed (drill.enabled in ${file})`,
    );
  }
  const known = [
    ...Object.keys(config.drill.targets),
    ...Object.keys(config.drill.caches),
    ...Object.keys(config.drill.volumes),
  ];
  if (!known.length) {
    throw new UsageError(
      `stage ${config.stage} has no drill targets (drill.targets, drill.caches or drill.volumes in ${file})`,
    );
  }
  return known;
};

/** The execution input `steward drill` starts: the command line checked against the stage config and DrillInput. */
export const drillInputFrom = (
  positionals: string[],
  flags: Pick<Flags, 'snapshot' | 'pitr'>,
  config: StewardConfig,
  now: Date,
  file?: string,
): DrillInput => {
  const known = requireDrills(config, file);
  const [database, ...extra] = positionals;
  if (!database)
    throw new UsageError(`drill needs a database (known in ${config.stage}: ${known.join(', ')})`);
  if (extra.length) throw new UsageError(`drill takes one database, got also: ${extra.join(' ')}`);
  if (!known.includes(database)) {
    throw new UsageError(
      `unknown drill database "${database}" in stage ${config.stage}: ${suggestion(database, known)}`,
    );
  }
  if (flags.snapshot !== undefined && flags.pitr !== undefined) {
    throw new UsageError('--snapshot and --pitr are exclusive: restore a snapshot or a point in time');
  }
  if (flags.pitr !== undefined) {
    if (!PointInTime.safeParse(flags.pitr).success) {
      throw new UsageError(
        `--pitr takes an ISO time with an offset, such as 2025-06-01T03:00:00Z or 2025-06-01T05:00:00+02:00 (got "${flags.pitr}")`,
      );
    }
    if (Date.parse(flags.pitr) > now.getTime()) {
      throw new UsageError(`--pitr ${flags.pitr} is in the future`);
    }
  }
  const snapshot =
    flags.pitr !== undefined
      ? { pointInTime: flags.pitr }
      : flags.snapshot === undefined
        ? undefined
        : flags.snapshot === 'latest'
          ? 'latest'
          : { id: flags.snapshot };
  const parsed = DrillInput.safeParse({ database, ...(snapshot === undefined ? {} : { snapshot }) });
  if (!parsed.success) {
    throw new UsageError(`invalid drill input: ${formatIssues(parsed.error.issues).join('; ')}`);
  }
  return parsed.data;
};

const aws = async <T>(operation: string, resource: string, call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (e) {
    throw new AwsCallError(operation, resource, e);
  }
};

const findStateMachine = async (sfn: SFNClient, config: StewardConfig, file: string): Promise<string> => {
  const name = drillStateMachineName(config.stage);
  const arn = await aws('ListStateMachines', `region ${config.region}`, async () => {
    for await (const page of paginateListStateMachines({ client: sfn }, {})) {
      const hit = page.stateMachines?.find((m) => m.name === name);
      if (hit?.stateMachineArn) return hit.stateMachineArn;
    }
    return undefined;
  });
  if (!arn) {
    throw new StewardError(
      `no drill state machine ${name} in ${config.region}: deploy with ${deployCommand(file, config.stage)}`,
    );
  }
  return arn;
};

const parseJson = (text: string | undefined): unknown => {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

const isDrillState = (v: unknown): v is DrillState =>
  typeof v === 'object' && v !== null && typeof (v as DrillState).drillId === 'string';

/** What Record returned, newest first: a FAILED execution has no output, Record's exit holds the report. */
const recordedState = (events: readonly HistoryEvent[]): DrillState | undefined => {
  for (const e of [...events].sort((a, b) => (b.id ?? 0) - (a.id ?? 0))) {
    if (e.type !== 'TaskStateExited' || e.stateExitedEventDetails?.name !== DRILL_CLI_STATES.record) continue;
    const s = parseJson(e.stateExitedEventDetails.output);
    if (isDrillState(s)) return s;
  }
  return undefined;
};

/** `ExecutionAborted`, `ExecutionTimedOut`: what ended an execution that has no error of its own. */
const executionEnd = (status: string | undefined): string =>
  `Execution${(status ?? 'unknown').toLowerCase().replace(/(?:^|_)(\w)/g, (_, c: string) => c.toUpperCase())}`;

/**
 * The drill's state at the end of an execution: its output, else Record's exit. When it never got to
 * Record (timed out, aborted), the furthest state it reached, with the execution's error.
 */
export const finalDrillState = (
  d: Pick<
    DescribeExecutionCommandOutput,
    'name' | 'status' | 'startDate' | 'input' | 'output' | 'error' | 'cause'
  >,
  events: readonly HistoryEvent[],
): DrillState => {
  const output = parseJson(d.output);
  if (d.status === 'SUCCEEDED' && isDrillState(output)) return output;
  const recorded = recordedState(events);
  if (recorded) return recorded;
  const reached = [...events]
    .sort((a, b) => (b.id ?? 0) - (a.id ?? 0))
    .map((e) => parseJson(e.stateExitedEventDetails?.output ?? e.stateEnteredEventDetails?.input))
    .find(isDrillState);
  const input = (parseJson(d.input) ?? {}) as DrillInput;
  return {
    drillId: d.name ?? '?',
    startedAt: (d.startDate ?? new Date(0)).toISOString(),
    input,
    database: input.database,
    ...reached,
    error: reached?.error ?? { Error: d.error ?? executionEnd(d.status), Cause: d.cause ?? '' },
  } as DrillState;
};

/** `mm:ss` (or `h:mm:ss`) since the execution started. */
const clock = (ms: number): string => {
  const total = Math.max(0, Math.floor(ms / 1000));
  const pad = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(total / 3600);
  const rest = `${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
  return h ? `${h}:${rest}` : rest;
};

/** `Error: cause` of a failure event (TaskFailed, TaskTimedOut, LambdaFunctionFailed, ...), if it is one. */
const failureOf = (e: HistoryEvent): string | undefined => {
  if (!e.type || e.type.startsWith('Execution') || !/(Failed|TimedOut)$/.test(e.type)) return undefined;
  const details = Object.entries(e).find(([k]) => k.endsWith('EventDetails'))?.[1] as
    { error?: string; cause?: string } | undefined;
  const cause = causeText(details?.cause);
  return `${details?.error ?? e.type}${cause ? `: ${cause}` : ''}`;
};

/** Turns history events into progress lines: each state entered and left, with time since the start. */
const progressPrinter = (startedAt: Date, say: (s: string) => void) => {
  let current: { name: string; at: number; failure?: string } | undefined;
  return (e: HistoryEvent): void => {
    const type = e.type ?? '';
    // Choice states route in no time; they would only add noise.
    if (type.startsWith('Choice')) return;
    const at = e.timestamp ? new Date(e.timestamp).getTime() : startedAt.getTime();
    const prefix = `  ${clock(at - startedAt.getTime())}  `;
    if (type.endsWith('StateEntered')) {
      const name = e.stateEnteredEventDetails?.name ?? '?';
      current = { name, at };
      const mark = type === 'FailStateEntered' ? '✗' : type === 'SucceedStateEntered' ? '✓' : '→';
      say(`${prefix}${mark} ${name}`);
      return;
    }
    if (type.endsWith('StateExited')) {
      // Succeed and Fail states were shown when entered; they end where they begin.
      if (current && !type.startsWith('Succeed')) {
        const took = formatDuration((at - current.at) / 1000);
        say(`${prefix}${current.failure ? '↳' : '✓'} ${current.name} (${took})`);
      }
      current = undefined;
      return;
    }
    if (!current) return;
    if (type === 'TaskSucceeded' || type === 'LambdaFunctionSucceeded') {
      delete current.failure;
      return;
    }
    const failure = failureOf(e);
    if (!failure) return;
    current.failure = failure;
    say(
      current.name === DRILL_CLI_STATES.wait && type.endsWith('TimedOut')
        ? `${prefix}↻ ${current.name}: no RDS event yet, checking the restore`
        : `${prefix}✗ ${current.name}: ${failure}`,
    );
  };
};

/**
 * Reads an execution's history as it grows: each call returns only the events not seen yet. It keeps
 * the token of the last page it reached, so a poll re-reads one page, not the whole history.
 */
const historyReader = (sfn: SFNClient, executionArn: string, signal: AbortSignal) => {
  let pageToken: string | undefined;
  let lastId = 0;
  return async (): Promise<HistoryEvent[]> => {
    const fresh: HistoryEvent[] = [];
    for (;;) {
      const page = await aws('GetExecutionHistory', executionArn, () =>
        sfn.send(
          new GetExecutionHistoryCommand({
            executionArn,
            maxResults: HISTORY_PAGE,
            ...(pageToken ? { nextToken: pageToken } : {}),
          }),
          { abortSignal: signal },
        ),
      );
      for (const e of page.events ?? []) {
        if ((e.id ?? 0) <= lastId) continue;
        fresh.push(e);
        lastId = e.id ?? lastId;
      }
      if (!page.nextToken || page.nextToken === pageToken) return fresh;
      pageToken = page.nextToken;
    }
  };
};

interface Finished {
  describe: DescribeExecutionCommandOutput;
  events: HistoryEvent[];
}

/** Polls until the execution is no longer RUNNING, printing progress; undefined when waiting was interrupted. */
const follow = async (
  sfn: SFNClient,
  executionArn: string,
  startedAt: Date,
  opts: { pollMs: number; sleep: (ms: number, signal: AbortSignal) => Promise<void>; signal: AbortSignal },
  say: (s: string) => void,
): Promise<Finished | undefined> => {
  const read = historyReader(sfn, executionArn, opts.signal);
  const print = progressPrinter(startedAt, say);
  const events: HistoryEvent[] = [];
  const pull = async () => {
    const fresh = await read();
    events.push(...fresh);
    fresh.forEach(print);
  };
  try {
    for (;;) {
      await pull();
      const describe = await aws('DescribeExecution', executionArn, () =>
        sfn.send(new DescribeExecutionCommand({ executionArn }), { abortSignal: opts.signal }),
      );
      if (describe.status !== 'RUNNING') {
        // Events between the last read and the end.
        await pull();
        return { describe, events };
      }
      await opts.sleep(opts.pollMs, opts.signal);
      if (opts.signal.aborted) return undefined;
    }
  } catch (e) {
    if (opts.signal.aborted) return undefined;
    throw e;
  }
};

const sourceText = (doc: DrillReportDocument): string =>
  doc.source?.snapshotId ??
  (doc.source?.pointInTime ? `point in time ${doc.source.pointInTime}` : '(nothing selected)');

/** A finished drill for people: the full report when it was verified, else what failed where. */
export const renderDrillOutcome = (
  doc: DrillReportDocument,
  status: string | undefined,
  recorded: boolean,
): string => {
  const body =
    doc.metrics && doc.verification
      ? [
          renderDrillReport({
            database: doc.database,
            snapshotId: sourceText(doc),
            ...(doc.target ? { restoredInstance: doc.target.instanceId ?? doc.target.id } : {}),
            metrics: doc.metrics,
            verification: doc.verification,
            ...(doc.shape ? { shape: doc.shape } : {}),
            ...(doc.cost ? { cost: doc.cost } : {}),
          }),
        ]
      : [
          doc.summary,
          ...(doc.failedStep ? [`Failed step: ${doc.failedStep}`] : []),
          ...doc.reasons.slice(1).map((r) => `✗ ${r}`),
        ];
  const cleanup = doc.cleanupError
    ? `Cleanup FAILED: ${doc.cleanupError.Error}: ${causeText(doc.cleanupError.Cause)} (the janitor deletes what is left)`
    : `Cleanup: ${doc.cleanup ? `${doc.cleanup.status}${doc.cleanup.detail ? ` (${doc.cleanup.detail})` : ''}` : 'not reached'}`;
  return [
    ...body,
    cleanup,
    ...(recorded && doc.reportKey ? [`Report: ${doc.reportKey} in the drill report bucket`] : []),
    `Execution: ${status ?? 'unknown'}`,
  ].join('\n');
};

const defaults = (deps: DrillCliDeps, config: StewardConfig) => ({
  sfn: deps.sfn ?? sfnClient(config.region),
  sleep: deps.sleep ?? sleepFor,
  now: deps.now ?? (() => new Date()),
  pollMs: Math.min(Math.max(deps.pollMs ?? POLL_MS, 0), 60_000),
});

/**
 * `steward drill <database>`: start a restore drill in Step Functions; with `--wait`, follow it and
 * print its report (exit 0 only when it passed).
 */
export const drill = async (
  positionals: string[],
  flags: Flags,
  out: (s: string) => void,
  deps: DrillCliDeps = {},
): Promise<number> => {
  const { config, file } = stageConfig(flags);
  const target = selectTarget(config, flags);
  if (target && !target.hub)
    throw new UsageError(
      `--target ${placeLabel(target)}: drills restore in the stage's own account-region (${placeLabel(placeFor(config, undefined))}) only; a target's databases are not drilled yet`,
      ['--target'],
    );
  const { sfn, sleep, now, pollMs } = defaults(deps, config);
  const input = drillInputFrom(positionals, flags, config, now(), file);
  const say = flags.json ? () => {} : out;
  const stateMachineArn = await findStateMachine(sfn, config, file);
  const name = drillExecutionName(input.database, now());
  const started = await aws('StartExecution', stateMachineArn, () =>
    sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) })),
  );
  const executionArn = started.executionArn!;
  const startDate = started.startDate ? new Date(started.startDate) : now();
  const stageFlag = `--stage ${config.stage}`;
  say(`Started drill ${name} of ${input.database} (stage ${config.stage}, ${config.region})`);
  say(`Execution: ${executionArn}`);

  if (!flags.wait) {
    if (flags.json) out(JSON.stringify({ executionArn, name, startDate, input }, null, 2));
    say(
      [
        'Follow it:',
        `  steward drills ${stageFlag}`,
        `  aws stepfunctions describe-execution --execution-arn ${executionArn}`,
        `  https://${config.region}.console.aws.amazon.com/states/home?region=${config.region}#/v2/executions/details/${executionArn}`,
      ].join('\n'),
    );
    return 0;
  }

  say('Waiting for it (Ctrl-C stops waiting, not the drill):');
  const ctrlC = new AbortController();
  const onSigint = () => ctrlC.abort();
  process.once('SIGINT', onSigint);
  let finished: Finished | undefined;
  try {
    const signal = deps.interrupt ? AbortSignal.any([ctrlC.signal, deps.interrupt]) : ctrlC.signal;
    finished = await follow(sfn, executionArn, startDate, { pollMs, sleep, signal }, say);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  if (!finished) {
    const note = `Stopped waiting. The drill is still running in Step Functions; follow it with: steward drills ${stageFlag}`;
    if (flags.json)
      out(JSON.stringify({ executionArn, name, status: 'RUNNING', waiting: 'stopped' }, null, 2));
    say(`\n${note}`);
    return 1;
  }
  const { describe, events } = finished;
  const state = finalDrillState(describe, events);
  const doc = drillReport(state);
  if (flags.json) out(JSON.stringify(doc, null, 2));
  else out(`\n${renderDrillOutcome(doc, describe.status, state.result !== undefined)}`);
  return describe.status === 'SUCCEEDED' && doc.passed ? 0 : 1;
};

/** One execution of the drill state machine, as `steward drills` lists it. */
export interface DrillRun {
  name: string;
  executionArn: string;
  status: string;
  startedAt: string;
  database?: string;
  /** RUNNING: the state it is in. */
  currentState?: string;
  report?: DrillReportDocument;
  error?: { Error?: string; Cause?: string };
}

const tailEvents = async (sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> =>
  (
    await aws('GetExecutionHistory', executionArn, () =>
      sfn.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: TAIL_EVENTS })),
    )
  ).events ?? [];

const describeRun = async (sfn: SFNClient, x: ExecutionListItem): Promise<DrillRun> => {
  const executionArn = x.executionArn!;
  const d = await aws('DescribeExecution', executionArn, () =>
    sfn.send(new DescribeExecutionCommand({ executionArn })),
  );
  const status = d.status ?? x.status ?? 'UNKNOWN';
  const run: DrillRun = {
    name: x.name ?? d.name ?? '?',
    executionArn,
    status,
    startedAt: new Date(d.startDate ?? x.startDate ?? 0).toISOString(),
  };
  const database = (parseJson(d.input) as { database?: unknown } | undefined)?.database;
  if (typeof database === 'string') run.database = database;
  if (status === 'RUNNING') {
    const entered = (await tailEvents(sfn, executionArn)).find((e) => e.type?.endsWith('StateEntered'));
    if (entered?.stateEnteredEventDetails?.name) run.currentState = entered.stateEnteredEventDetails.name;
    return run;
  }
  const output = parseJson(d.output);
  const state =
    status === 'SUCCEEDED' && isDrillState(output)
      ? output
      : recordedState(await tailEvents(sfn, executionArn));
  if (state) {
    run.report = drillReport(state);
    run.database ??= state.database;
  } else if (status !== 'SUCCEEDED') {
    run.error = { ...(d.error ? { Error: d.error } : {}), ...(d.cause ? { Cause: d.cause } : {}) };
  }
  return run;
};

const cut = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

const outcome = (r: DrillRun): string => {
  if (r.status === 'RUNNING') return `in ${r.currentState ?? '?'}`;
  const doc = r.report;
  if (!doc)
    return cut(
      `${r.error?.Error ?? r.status}${r.error?.Cause ? `: ${causeText(r.error.Cause)}` : ''}`,
      OUTCOME_MAX,
    );
  if (doc.passed) return 'passed';
  if (doc.outcome === 'inconclusive') {
    return cut(`INCONCLUSIVE: ${doc.gaps?.[0] ?? doc.summary}`, OUTCOME_MAX);
  }
  const failedChecks =
    doc.verification?.checks
      .filter((c) => (c.status ?? (c.passed ? 'passed' : 'failed')) === 'failed')
      .map((c) => c.name) ?? [];
  const why = failedChecks.length
    ? `failed checks: ${failedChecks.join(', ')}`
    : (doc.reasons[0] ?? doc.summary);
  return cut(`FAILED${doc.failedStep ? ` at ${doc.failedStep}` : ''}: ${why}`, OUTCOME_MAX);
};

const measured = (seconds: number | undefined, met: boolean | undefined): string =>
  seconds === undefined ? '-' : `${formatDuration(seconds)}${met ? '' : ' ✗'}`;

/** Time-to-warm, or how far the warm-up got. */
const warmText = (r: DrillRun): string => {
  const w = r.report?.metrics?.warm;
  if (!w) return '-';
  if (w.rtoSeconds !== undefined) return measured(w.rtoSeconds, w.met !== false);
  return `${Math.round(w.percent)} %${w.met === false ? ' ✗' : ''}`;
};

const costText = (r: DrillRun): string => {
  const c = r.report?.cost;
  return c?.estimatedUsd === undefined ? '-' : `~$${c.estimatedUsd.toFixed(2)}`;
};

/** The `steward drills` table: newest first, one row per execution. RTO is to the first verified query. */
export const renderDrillRuns = (runs: readonly DrillRun[]): string =>
  table(
    ['STARTED (UTC)', 'DATABASE', 'STATUS', 'RTO', 'WARM', 'RPO', 'COST', 'OUTCOME', 'EXECUTION'],
    runs.map((r) => [
      r.startedAt.slice(0, 19).replace('T', ' '),
      r.database ?? '?',
      r.status,
      measured(r.report?.metrics?.rtoSeconds, r.report?.metrics?.rtoMet),
      warmText(r),
      measured(r.report?.metrics?.rpoSeconds, r.report?.metrics?.rpoMet),
      costText(r),
      outcome(r),
      r.name,
    ]),
  );

const parseLimit = (raw: string | undefined): number => {
  if (raw === undefined) return 20;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > LIMIT_MAX) {
    throw new UsageError(`--limit takes a whole number from 1 to ${LIMIT_MAX} (got "${raw}")`);
  }
  return n;
};

/** `steward drills`: the recent drills of a stage with their RTO, RPO and outcome. */
export const drills = async (
  positionals: string[],
  flags: Flags,
  out: (s: string) => void,
  deps: DrillCliDeps = {},
): Promise<number> => {
  if (positionals.length) throw new UsageError(`drills takes no arguments (got: ${positionals.join(' ')})`);
  const limit = parseLimit(flags.limit);
  const { config, file } = stageConfig(flags);
  requireDrills(config, file);
  const { sfn } = defaults(deps, config);
  const stateMachineArn = await findStateMachine(sfn, config, file);
  const executions = await aws('ListExecutions', stateMachineArn, async () => {
    const all: ExecutionListItem[] = [];
    for await (const page of paginateListExecutions({ client: sfn, pageSize: limit }, { stateMachineArn })) {
      all.push(...(page.executions ?? []));
      if (all.length >= limit) break;
    }
    return all;
  });
  // The API lists newest first already; sorting keeps that true whatever a page boundary does.
  const newest = executions
    .sort((a, b) => new Date(b.startDate ?? 0).getTime() - new Date(a.startDate ?? 0).getTime())
    .slice(0, limit);
  const runs = await mapLimit(newest, LIST_CONCURRENCY, (x) => describeRun(sfn, x));
  if (flags.json) {
    out(JSON.stringify(runs, null, 2));
    return 0;
  }
  out(
    runs.length
      ? renderDrillRuns(runs)
      : `No drills yet in ${config.stage}. Start one with: steward drill <database> --stage ${config.stage}`,
  );
  return 0;
};
