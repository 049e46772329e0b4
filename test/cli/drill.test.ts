import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionListItem,
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandInput,
  type HistoryEvent,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  type StateMachineListItem,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { DRILL_CLI_STATES, drill, drillExecutionName, drillInputFrom, drills } from '../../cli/drill.js';
import { main } from '../../cli/main.js';
import type { CheckResult } from '../../shared/drill/checks.js';
import type { DrillReportDocument } from '../../shared/drill/report.js';
import type { DrillState } from '../../shared/drill/state.js';
import { cliFlags, loadExample, onExample } from '../support/examples.js';

const ACCOUNT = '111122223333';
const T0 = new Date('2025-06-01T05:00:00.000Z');
const NAME = 'orders-db-20250601050000-cli';
const SM_ARN = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:steward-prod-drill`;
const execArn = (name: string) => `arn:aws:states:eu-west-1:${ACCOUNT}:execution:steward-prod-drill:${name}`;
const EXEC_ARN = execArn(NAME);
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const iso = (s: number) => at(s).toISOString();

const machine = (name: string): StateMachineListItem => ({
  name,
  stateMachineArn: `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:${name}`,
  type: 'STANDARD',
  creationDate: new Date('2025-01-10T09:00:00Z'),
});

const check = (name: string, kind: CheckResult['kind'], passed: boolean, measured: number): CheckResult => ({
  name,
  kind,
  passed,
  status: passed ? 'passed' : 'failed',
  measured,
  expected: '>= 4750 (baseline 5000 - 5%)',
  detail: passed ? `${measured} rows` : `${measured} rows is below 4750`,
  ms: 31,
});

const drillState = (drillId: string, transactions: number): DrillState => ({
  drillId,
  startedAt: iso(0),
  input: { database: 'orders-db' },
  database: 'orders-db',
  kind: 'rds-instance',
  targets: { rtoSeconds: 3600, rpoSeconds: 300 },
  source: {
    snapshotId: 'steward-orders-db-202506010300-daily',
    snapshotArn: `arn:aws:rds:eu-west-1:${ACCOUNT}:snapshot:steward-orders-db-202506010300-daily`,
    referenceTime: '2025-06-01T03:00:00.000Z',
  },
  target: {
    kind: 'rds-instance',
    id: 'steward-drill-orders-db-1a2b3c4d',
    requestedAt: iso(5),
    availableAt: iso(306),
    status: 'available',
    endpoint: { host: 'steward-drill-orders-db-1a2b3c4d.abc.eu-west-1.rds.amazonaws.com', port: 5432 },
  },
  available: true,
  verifyStartedAt: iso(307),
  verifiedAt: iso(340),
  verification: {
    passed: transactions >= 4750,
    outcome: transactions >= 4750 ? 'passed' : 'failed',
    budgetMs: 600_000,
    host: 'steward-drill-orders-db-1a2b3c4d.abc.eu-west-1.rds.amazonaws.com',
    port: 5432,
    database: 'orders',
    user: 'postgres',
    referenceTime: '2025-06-01T03:00:00.000Z',
    checks: [
      check('row-count public.accounts', 'row-count', true, 900),
      check('row-count public.transactions', 'row-count', transactions >= 4750, transactions),
    ],
    dataRpoSeconds: 42,
    newestRowTime: '2025-06-01T02:59:18.000Z',
    verifyMs: 33_000,
    tables: {},
  },
  cleanup: { status: 'deleted', at: iso(400) },
  result: {
    passed: transactions >= 4750,
    summary: 'set by record',
    reportKey: `drills/orders-db/2025/06/${drillId}.json`,
  },
});
const PASSED = drillState(NAME, 5000);
const FAILED = drillState(NAME, 4500);

/** A history as Step Functions writes it for the drill: ids in order, LambdaInvoke task events, Choice states. */
const drillHistory = (final: DrillState, passed: boolean): HistoryEvent[] => {
  const raw: Omit<HistoryEvent, 'id' | 'previousEventId'>[] = [];
  const json = (v: unknown) => JSON.stringify(v);
  const input = json(final.input);
  raw.push({
    type: 'ExecutionStarted',
    timestamp: at(0),
    executionStartedEventDetails: {
      input,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/steward-prod-DrillStateMachineRole`,
    },
  });
  let previous = input;
  const task = (name: string, from: number, to: number, output: unknown, timedOut = false) => {
    raw.push(
      { type: 'TaskStateEntered', timestamp: at(from), stateEnteredEventDetails: { name, input: previous } },
      {
        type: 'TaskScheduled',
        timestamp: at(from),
        taskScheduledEventDetails: {
          resourceType: 'lambda',
          resource: timedOut ? 'invoke.waitForTaskToken' : 'invoke',
          region: 'eu-west-1',
          parameters: '{}',
        },
      },
      {
        type: 'TaskStarted',
        timestamp: at(from),
        taskStartedEventDetails: { resourceType: 'lambda', resource: 'invoke' },
      },
    );
    if (timedOut) {
      raw.push({
        type: 'TaskTimedOut',
        timestamp: at(to),
        taskTimedOutEventDetails: { resourceType: 'lambda', resource: 'invoke', error: 'States.Timeout' },
      });
      return;
    }
    raw.push(
      {
        type: 'TaskSucceeded',
        timestamp: at(to),
        taskSucceededEventDetails: { resourceType: 'lambda', resource: 'invoke', output: json(output) },
      },
      { type: 'TaskStateExited', timestamp: at(to), stateExitedEventDetails: { name, output: json(output) } },
    );
    previous = json(output);
  };
  const choice = (name: string, s: number, output: unknown) =>
    raw.push(
      {
        type: 'ChoiceStateEntered',
        timestamp: at(s),
        stateEnteredEventDetails: { name, input: json(output) },
      },
      {
        type: 'ChoiceStateExited',
        timestamp: at(s),
        stateExitedEventDetails: { name, output: json(output) },
      },
    );
  const {
    verification: _v,
    verifiedAt: _va,
    verifyStartedAt: _vs,
    cleanup: _c,
    result: _r,
    ...restored
  } = final;
  const { source: _s, target, available: _a, ...started } = restored;
  const selected = { ...started, source: final.source };
  const requested = { ...selected, target: { ...target!, availableAt: undefined, status: 'creating' } };
  task('Start', 0, 1, started);
  task('SelectSnapshot', 1, 3, selected);
  task('Restore', 3, 5, requested);
  task('WaitForRestore', 5, 305, undefined, true);
  task('CheckRestore', 305, 306, restored);
  choice('Restored?', 306, restored);
  task('Verify', 306, 340, { ...final, cleanup: undefined, result: undefined });
  task('Cleanup', 340, 400, { ...final, result: undefined });
  task('Record', 400, 401, final);
  choice('Passed?', 401, final);
  if (passed) {
    raw.push(
      {
        type: 'SucceedStateEntered',
        timestamp: at(401),
        stateEnteredEventDetails: { name: 'DrillSucceeded', input: json(final) },
      },
      {
        type: 'SucceedStateExited',
        timestamp: at(401),
        stateExitedEventDetails: { name: 'DrillSucceeded', output: json(final) },
      },
      {
        type: 'ExecutionSucceeded',
        timestamp: at(401),
        executionSucceededEventDetails: { output: json(final) },
      },
    );
  } else {
    raw.push(
      {
        type: 'FailStateEntered',
        timestamp: at(401),
        stateEnteredEventDetails: { name: 'DrillFailed', input: json(final) },
      },
      {
        type: 'ExecutionFailed',
        timestamp: at(401),
        executionFailedEventDetails: { error: 'DrillFailed', cause: 'The restore drill did not pass' },
      },
    );
  }
  return raw.map((e, i) => ({ ...e, id: i + 1, previousEventId: i }) as HistoryEvent);
};

const describeOutput = (
  name: string,
  status: DescribeExecutionCommandOutput['status'],
  extra: Partial<DescribeExecutionCommandOutput> = {},
): Partial<DescribeExecutionCommandOutput> => ({
  executionArn: execArn(name),
  stateMachineArn: SM_ARN,
  name,
  status,
  startDate: T0,
  input: JSON.stringify({ database: 'orders-db' }),
  ...extra,
});

const flags = cliFlags;

const sfn = mockClient(SFNClient);
const client = new SFNClient({ region: 'eu-west-1' });

/** Serves GetExecutionHistory in small pages with offset tokens; only `shown` events exist so far. */
const serveHistory = (events: HistoryEvent[], shown: number, pageSize = 4) => {
  let visible = Math.min(shown, events.length);
  sfn.on(GetExecutionHistoryCommand).callsFake((input: GetExecutionHistoryCommandInput) => {
    const from = input.nextToken ? Number(input.nextToken.slice(1)) : 0;
    const page = events.slice(0, visible).slice(from, from + pageSize);
    const end = from + page.length;
    return { events: page, ...(end < visible ? { nextToken: `t${end}` } : {}) };
  });
  return {
    progress: () => {
      visible = events.length;
    },
    done: () => visible === events.length,
  };
};

const capture = () => {
  const lines: string[] = [];
  return { lines, out: (s: string) => lines.push(...s.split('\n')), text: () => lines.join('\n') };
};

describe('steward drill', () => {
  let stderr: MockInstance;

  beforeEach(() => {
    sfn.reset();
    sfn
      .on(ListStateMachinesCommand)
      .resolvesOnce({ stateMachines: [machine('steward-prod-orders')], nextToken: 'page-2' })
      .resolves({ stateMachines: [machine('steward-prod-drill')] });
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXEC_ARN, startDate: T0 });
    stderr = vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(() => stderr.mockRestore());

  it.each([
    ['the target default', {}, { database: 'orders-db' }],
    ['--snapshot latest', { snapshot: 'latest' }, { database: 'orders-db', snapshot: 'latest' }],
    [
      '--snapshot <id>',
      { snapshot: 'rds:orders-db-2025-06-01-03-10' },
      { database: 'orders-db', snapshot: { id: 'rds:orders-db-2025-06-01-03-10' } },
    ],
    [
      '--pitr',
      { pitr: '2025-06-01T04:30:00+02:00' },
      { database: 'orders-db', snapshot: { pointInTime: '2025-06-01T04:30:00+02:00' } },
    ],
  ])('starts the drill state machine with %s as input and a readable name', async (_, f, input) => {
    // Prepare
    const { out, text } = capture();
    // Act
    const code = await drill(['orders-db'], flags(f), out, { sfn: client, now: () => T0 });
    // Assert
    expect(code).toBe(0);
    expect(sfn).toReceiveCommandWith(ListStateMachinesCommand, { nextToken: 'page-2' });
    expect(sfn).toReceiveCommandTimes(StartExecutionCommand, 1);
    expect(sfn).toReceiveCommandWith(StartExecutionCommand, {
      stateMachineArn: SM_ARN,
      name: NAME,
      input: JSON.stringify(input),
    });
    expect(text()).toContain(EXEC_ARN);
    expect(text()).toContain('steward drills --stage prod');
    expect(sfn).not.toReceiveCommand(DescribeExecutionCommand);
  });

  it('names executions <db>-<yyyymmddhhmmss>-cli, within the 80 valid characters Step Functions takes', () => {
    // Prepare
    const long = `a${'b'.repeat(62)}`;
    // Act
    const short = drillExecutionName('orders-db', T0);
    const capped = drillExecutionName(long, T0);
    // Assert
    expect(short).toBe(NAME);
    expect(capped).toHaveLength(80);
    expect(capped).toMatch(/^[A-Za-z0-9_-]+-20250601050000-cli$/);
  });

  it('refuses an unknown database with exit 2, naming the known ones, and starts nothing', async () => {
    // Prepare
    const { out } = capture();
    // Act
    const code = await main(['drill', 'billing-db', ...onExample('prod')], out);
    // Assert
    expect(code).toBe(2);
    expect(stderr).toHaveBeenCalledWith(expect.stringContaining('unknown drill database "billing-db"'));
    expect(stderr).toHaveBeenCalledWith(expect.stringContaining('known: orders-db'));
    expect(sfn).not.toReceiveCommand(StartExecutionCommand);
  });

  it('a mistyped database names the closest one, and a long list of targets is cut', () => {
    // Prepare
    const config = loadExample('prod');
    const many = {
      ...config,
      drill: {
        ...config.drill,
        targets: Object.fromEntries(
          Array.from({ length: 40 }, (_, i) => [`db-${i}`, config.drill.targets['orders-db']!]),
        ),
      },
    };
    // Act
    const typo = () => drillInputFrom(['ordres-db'], {}, config, T0);
    const unknown = () => drillInputFrom(['billing'], {}, many, T0);
    // Assert
    expect(typo).toThrow('unknown drill database "ordres-db" in stage prod: did you mean "orders-db"?');
    expect(unknown).toThrow(
      'unknown drill database "billing" in stage prod: known: db-0, db-1, db-2, db-3, db-4, db-5, db-6, db-7, db-8, db-9, db-10, db-11, … (',
    );
  });

  it.each([
    [
      '--snapshot and --pitr together',
      ['--snapshot', 'latest', '--pitr', '2025-06-01T03:00:00Z'],
      'exclusive',
    ],
    ['--pitr without an offset', ['--pitr', '2025-06-01T03:00:00'], 'ISO time with an offset'],
    ['--pitr in the future', ['--pitr', '2999-01-01T00:00:00Z'], 'in the future'],
  ])('refuses %s with exit 2 and starts nothing', async (_, args, message) => {
    // Prepare
    const { out } = capture();
    // Act
    const code = await main(['drill', 'orders-db', ...onExample('prod'), ...args], out);
    // Assert
    expect(code).toBe(2);
    expect(stderr).toHaveBeenCalledWith(expect.stringContaining(message));
    expect(sfn).not.toReceiveCommand(StartExecutionCommand);
  });

  it('fails with exit 1 and the deploy command (config and stage, as init prints it) when the stage has no drill state machine', async () => {
    // Prepare
    sfn.on(ListStateMachinesCommand).resolves({ stateMachines: [machine('steward-staging-drill')] });
    const { out } = capture();
    // Act
    const code = await main(['drill', 'orders-db', ...onExample('prod')], out);
    // Assert
    expect(code).toBe(1);
    expect(stderr).toHaveBeenCalledWith(
      expect.stringContaining(
        'no drill state machine steward-prod-drill in eu-west-1: deploy with npx cdk deploy --all -c config=examples -c stage=prod',
      ),
    );
    expect(sfn).not.toReceiveCommand(StartExecutionCommand);
  });

  it('--wait follows a passing drill page by page, prints each state once and the report, exit 0', async () => {
    // Prepare
    const events = drillHistory(PASSED, true);
    const history = serveHistory(events, 9);
    sfn
      .on(DescribeExecutionCommand)
      .callsFake(() =>
        history.done()
          ? describeOutput(NAME, 'SUCCEEDED', { stopDate: at(401), output: JSON.stringify(PASSED) })
          : describeOutput(NAME, 'RUNNING'),
      );
    const sleeps: number[] = [];
    const { out, lines, text } = capture();
    // Act
    const code = await drill(['orders-db'], flags({ wait: true }), out, {
      sfn: client,
      now: () => T0,
      sleep: async (ms) => {
        sleeps.push(ms);
        history.progress();
      },
    });
    // Assert
    expect(code).toBe(0);
    expect(sleeps).toEqual([5000]);
    expect(sfn).toReceiveCommandWith(GetExecutionHistoryCommand, { executionArn: EXEC_ARN, nextToken: 't8' });
    expect(sfn).toReceiveCommandWith(GetExecutionHistoryCommand, {
      executionArn: EXEC_ARN,
      nextToken: 't36',
    });
    expect(lines).toEqual(
      expect.arrayContaining([
        '  00:00  → Start',
        '  00:01  ✓ Start (1 s)',
        '  00:05  ✓ Restore (2 s)',
        '  05:05  ↻ WaitForRestore: no RDS event yet, checking the restore',
        '  05:40  ✓ Verify (34 s)',
        '  06:41  ✓ Record (1 s)',
        '  06:41  ✓ DrillSucceeded',
        'DR drill PASSED: orders-db',
        '✓ RTO to first verified query 5 min 40 s (target 1 h 00 min 00 s)',
        'Verdict: PASSED',
        'Execution: SUCCEEDED',
      ]),
    );
    for (const state of [
      'Start',
      'SelectSnapshot',
      'Restore',
      'CheckRestore',
      'Verify',
      'Cleanup',
      'Record',
    ]) {
      expect(lines.filter((l) => l.endsWith(`→ ${state}`))).toHaveLength(1);
    }
    expect(lines.filter((l) => l.includes('DrillSucceeded'))).toHaveLength(1);
    expect(text()).not.toContain('Restored?');
  });

  it('--wait on a failed drill reads the report from the Record step in the history, exit 1', async () => {
    // Prepare
    serveHistory(drillHistory(FAILED, false), 99);
    sfn.on(DescribeExecutionCommand).resolves(
      describeOutput(NAME, 'FAILED', {
        stopDate: at(401),
        error: 'DrillFailed',
        cause: 'The restore drill did not pass',
      }),
    );
    const { out, lines } = capture();
    // Act
    const code = await drill(['orders-db'], flags({ wait: true }), out, {
      sfn: client,
      now: () => T0,
      sleep: async () => {},
    });
    // Assert
    expect(code).toBe(1);
    expect(lines).toEqual(
      expect.arrayContaining([
        '  06:41  ✗ DrillFailed',
        'DR drill FAILED: orders-db',
        'Verdict: FAILED: verification checks failed',
        'Failed checks: row-count public.transactions',
        'Execution: FAILED',
      ]),
    );
    expect(sfn).toReceiveCommandTimes(DescribeExecutionCommand, 1);
  });

  it('--wait --json prints the drill report document of a failed drill', async () => {
    // Prepare
    serveHistory(drillHistory(FAILED, false), 99);
    sfn.on(DescribeExecutionCommand).resolves(describeOutput(NAME, 'FAILED', { error: 'DrillFailed' }));
    const { out, text } = capture();
    // Act
    const code = await drill(['orders-db'], flags({ wait: true, json: true }), out, {
      sfn: client,
      now: () => T0,
      sleep: async () => {},
    });
    // Assert
    expect(code).toBe(1);
    const doc = JSON.parse(text()) as DrillReportDocument;
    expect(doc).toMatchObject({
      type: 'steward-drill-report',
      drillId: NAME,
      passed: false,
      reasons: ['verification checks failed'],
      reportKey: `drills/orders-db/2025/06/${NAME}.json`,
    });
    expect(doc.metrics?.rtoSeconds).toBe(340);
  });

  it('--wait on a drill stopped before Record reports how far it got, exit 1', async () => {
    // Prepare
    const events = drillHistory(PASSED, true);
    const waiting = events.findIndex((e) => e.stateEnteredEventDetails?.name === 'WaitForRestore') + 3;
    serveHistory(
      [...events.slice(0, waiting), { id: waiting + 1, type: 'ExecutionAborted', timestamp: at(60) }],
      99,
    );
    sfn.on(DescribeExecutionCommand).resolves(describeOutput(NAME, 'ABORTED', { stopDate: at(60) }));
    const { out, lines } = capture();
    // Act
    const code = await drill(['orders-db'], flags({ wait: true }), out, {
      sfn: client,
      now: () => T0,
      sleep: async () => {},
    });
    // Assert
    expect(code).toBe(1);
    expect(lines).toEqual(
      expect.arrayContaining([
        '  00:05  → WaitForRestore',
        'DR drill FAILED for orders-db at await: await failed: ExecutionAborted',
        'Cleanup: not reached',
        'Execution: ABORTED',
      ]),
    );
    expect(lines.some((l) => l.startsWith('Report:'))).toBe(false);
  });

  it('Ctrl-C while waiting stops waiting, leaves the execution running and says so', async () => {
    // Prepare
    serveHistory(drillHistory(PASSED, true), 9);
    sfn.on(DescribeExecutionCommand).resolves(describeOutput(NAME, 'RUNNING'));
    const ctrlC = new AbortController();
    const { out, text } = capture();
    // Act
    const code = await drill(['orders-db'], flags({ wait: true }), out, {
      sfn: client,
      now: () => T0,
      interrupt: ctrlC.signal,
      sleep: async () => ctrlC.abort(),
    });
    // Assert
    expect(code).toBe(1);
    expect(text()).toContain('Stopped waiting. The drill is still running in Step Functions');
    expect(sfn).not.toReceiveCommand(StopExecutionCommand);
    expect(sfn).toReceiveCommandTimes(DescribeExecutionCommand, 1);
  });

  it('reads the state names the drill state machine really has', async () => {
    // Act
    const { DrillStates } = await import('../../infra/drill.js');
    // Assert
    expect(DRILL_CLI_STATES).toEqual({ wait: DrillStates.wait, record: DrillStates.record });
  });
});

describe('steward drills', () => {
  const running = 'orders-db-20250603050000-cli';
  const failed = 'orders-db-20250602050000-cli';
  const passed = 'orders-db-20250601050000-sched';
  const item = (name: string, status: ExecutionListItem['status'], day: number): ExecutionListItem => ({
    executionArn: execArn(name),
    stateMachineArn: SM_ARN,
    name,
    status,
    startDate: new Date(Date.UTC(2025, 5, day, 5)),
  });

  beforeEach(() => {
    sfn.reset();
    sfn.on(ListStateMachinesCommand).resolves({ stateMachines: [machine('steward-prod-drill')] });
    sfn.on(ListExecutionsCommand).resolves({
      executions: [item(running, 'RUNNING', 3), item(failed, 'FAILED', 2), item(passed, 'SUCCEEDED', 1)],
    });
    sfn
      .on(DescribeExecutionCommand, { executionArn: execArn(running) })
      .resolves(describeOutput(running, 'RUNNING', { startDate: new Date(Date.UTC(2025, 5, 3, 5)) }));
    sfn.on(DescribeExecutionCommand, { executionArn: execArn(failed) }).resolves(
      describeOutput(failed, 'FAILED', {
        startDate: new Date(Date.UTC(2025, 5, 2, 5)),
        error: 'DrillFailed',
      }),
    );
    sfn
      .on(DescribeExecutionCommand, { executionArn: execArn(passed) })
      .resolves(describeOutput(passed, 'SUCCEEDED', { output: JSON.stringify(drillState(passed, 5000)) }));
    // Newest first, as reverseOrder returns them.
    sfn.on(GetExecutionHistoryCommand, { executionArn: execArn(failed) }).resolves({
      events: drillHistory(drillState(failed, 4500), false).reverse().slice(0, 20),
      nextToken: 'older',
    });
    sfn.on(GetExecutionHistoryCommand, { executionArn: execArn(running) }).resolves({
      events: [
        {
          id: 21,
          type: 'TaskStarted',
          timestamp: at(310),
          taskStartedEventDetails: { resourceType: 'lambda', resource: 'invoke' },
        },
        {
          id: 20,
          type: 'TaskScheduled',
          timestamp: at(310),
          taskScheduledEventDetails: {
            resourceType: 'lambda',
            resource: 'invoke',
            region: 'eu-west-1',
            parameters: '{}',
          },
        },
        {
          id: 19,
          type: 'TaskStateEntered',
          timestamp: at(310),
          stateEnteredEventDetails: { name: 'Verify', input: '{}' },
        },
        {
          id: 18,
          type: 'ChoiceStateExited',
          timestamp: at(310),
          stateExitedEventDetails: { name: 'Restored?', output: '{}' },
        },
      ],
      nextToken: 'older',
    });
  });

  it('lists recent drills newest first with database, status, RTO, warm, RPO, cost and outcome', async () => {
    // Prepare
    const { out, lines } = capture();
    // Act
    const code = await drills([], flags(), out, { sfn: client });
    // Assert
    expect(code).toBe(0);
    expect(sfn).toReceiveCommandWith(ListExecutionsCommand, { stateMachineArn: SM_ARN, maxResults: 20 });
    expect(sfn).toReceiveCommandWith(GetExecutionHistoryCommand, {
      executionArn: execArn(failed),
      reverseOrder: true,
      maxResults: 20,
    });
    expect(sfn).not.toReceiveCommandWith(GetExecutionHistoryCommand, { executionArn: execArn(passed) });
    expect(lines[0]).toMatch(
      /^STARTED \(UTC\)\s+DATABASE\s+STATUS\s+RTO\s+WARM\s+RPO\s+COST\s+OUTCOME\s+EXECUTION$/,
    );
    const [r, f, p] = lines.slice(2).map((l) => l.split(/\s{2,}/));
    expect(r).toEqual([
      '2025-06-03 05:00:00',
      'orders-db',
      'RUNNING',
      '-',
      '-',
      '-',
      '-',
      'in Verify',
      running,
    ]);
    expect(f).toEqual([
      '2025-06-02 05:00:00',
      'orders-db',
      'FAILED',
      '5 min 40 s',
      '-',
      '42 s',
      '-',
      'FAILED: failed checks: row-count public.transactions',
      failed,
    ]);
    expect(p).toEqual([
      '2025-06-01 05:00:00',
      'orders-db',
      'SUCCEEDED',
      '5 min 40 s',
      '-',
      '42 s',
      '-',
      'passed',
      passed,
    ]);
  });

  it('refuses a --limit that is not a whole number from 1 to 1000 with exit 2', async () => {
    // Prepare
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => {});
    // Act
    const code = await main(['drills', ...onExample('prod'), '--limit', '0'], () => {});
    // Assert
    expect(code).toBe(2);
    expect(stderr).toHaveBeenCalledWith(
      expect.stringContaining('--limit takes a whole number from 1 to 1000'),
    );
    stderr.mockRestore();
    expect(sfn).not.toReceiveCommand(ListExecutionsCommand);
  });
});
