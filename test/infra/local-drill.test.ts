import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AslDefinition,
  type LocalDrillEvent,
  runDrillLocally,
  TaskTimedOut,
} from '../../infra/local-drill.js';
import { drillDefinition } from '../../infra/drill-synth.js';
import { loadExample } from '../support/examples.js';
import { LEDGER, ledgerProfile, startSlowLedger } from '../support/slow-reads.js';
import {
  fakeCredentials,
  fakeReportStore,
  fakeRestorePort,
  fakeTaskSignal,
  fakeTokenStore,
} from '../fakes/drill-ports.js';
import { parseConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import type { PgServer } from '../../shared/drill/local/postgres-server.js';
import { drillReport, drillVerdict } from '../../shared/drill/report.js';
import type { DrillState, DrillTask, DrillTaskEvent } from '../../shared/drill/state.js';
import { type DrillDeps, runDrillControl, runDrillTask, type VerifyDeps } from '../../shared/drill/tasks.js';
import { runVerifyTask } from '../../shared/drill/verify-tasks.js';
import { verifyDatabase } from '../../shared/drill/verifier/verify.js';
import { warmUp } from '../../shared/drill/verifier/warmup.js';
import { AwsCallError } from '../../shared/errors.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import { drillExecutionEnded } from '../support/drill-tasks.js';
import { DRILL_START, drillEnd } from '../support/local-drill.js';

// The real synthesized definition (prod config), run with fake tasks (no AWS, no PostgreSQL), and once
// with the real verification and warm-up engines against a real, slow PostgreSQL.
let definition: AslDefinition;
beforeAll(() => {
  definition = drillDefinition(loadExample('prod'));
});

const AT = '2025-03-01T05:00:00.000Z';
const EXECUTION = 'drill-orders-db-test';
const INPUT = { database: 'orders-db' };

type Handler = (e: DrillTaskEvent) => Promise<unknown>;
const s = (e: DrillTaskEvent) => e.state as unknown as DrillState;

/** Happy-path task doubles that grow the state like the real tasks; each scenario replaces a few. */
const defaults: Record<DrillTask, Handler> = {
  start: async (e) => ({
    drillId: e.execution!.name,
    startedAt: e.execution!.startTime,
    input: e.state,
    database: (e.state as { database: string }).database,
    kind: 'rds-instance',
    targets: { rtoSeconds: 3600, rpoSeconds: 300 },
  }),
  select: async (e) => ({
    ...s(e),
    source: { snapshotId: 'rds:orders-db-2025-03-01-03-00', referenceTime: AT },
  }),
  restore: async (e) => ({
    ...s(e),
    target: { kind: 'rds-instance', id: 'steward-drill-orders-db-1a2b3c4d', requestedAt: AT },
  }),
  // What the RDS event handler sends with SendTaskSuccess.
  await: async (e) => ({
    ...s(e),
    available: true,
    target: {
      ...s(e).target!,
      status: 'available',
      availableAt: AT,
      endpoint: { host: 'db.local', port: 5432 },
    },
  }),
  status: async (e) => ({ ...s(e), available: true, timedOut: false }),
  verify: async (e) => ({ ...s(e), verifiedAt: AT, verification: { passed: true } }),
  // One chunk finishes the warm-up; scenarios that start one replace `verify` to set `warmup.pending`.
  'verify-volumes': async () => {
    throw new Error('an RDS drill reached VerifyVolumes');
  },
  'verify-dr': async () => {
    throw new Error('an RDS drill reached VerifyCacheInDr');
  },
  // The prod example's drills log in with IAM: its definition has no endpoint states.
  endpoints: async () => {
    throw new Error('a drill without per-drill endpoints reached an endpoint state');
  },
  'close-endpoints': async () => {
    throw new Error('a drill without per-drill endpoints reached CloseEndpoints');
  },
  warmup: async (e) => ({ ...s(e), warmup: { ...s(e).warmup!, pending: false, complete: true } }),
  cleanup: async (e) => ({ ...s(e), cleanup: { status: 'deleted', at: AT } }),
  record: async (e) => {
    const state = s(e);
    const passed =
      !state.error && !state.timedOut && !state.cleanupError && state.verification?.passed === true;
    const failedStep = state.error
      ? 'error'
      : state.timedOut
        ? 'await'
        : state.cleanupError
          ? 'cleanup'
          : passed
            ? undefined
            : 'verify';
    const inconclusive = !passed && state.error?.Error === 'CostCeilingReached';
    return {
      ...state,
      result: {
        passed,
        ...(inconclusive ? { outcome: 'inconclusive' } : {}),
        summary: passed ? 'restore verified' : `failed at ${failedStep}: ${state.error?.Error ?? ''}`,
        ...(failedStep && { failedStep }),
      },
    };
  },
};

/** Run the synthesized definition with `overrides` over the happy-path doubles; record every call. */
const run = async (
  overrides: Partial<Record<DrillTask, Handler>> = {},
  options: { waitMs?: number } = {},
) => {
  const calls: DrillTaskEvent[] = [];
  const states: string[] = [];
  const events: LocalDrillEvent[] = [];
  const result = await runDrillLocally({
    definition,
    input: INPUT,
    executionName: EXECUTION,
    ...options,
    tasks: async (event, context) => {
      calls.push(structuredClone(event));
      states.push(context.stateName);
      return (overrides[event.task] ?? defaults[event.task])(event);
    },
    onEvent: (e) => events.push(e),
  });
  const count = (task: DrillTask) => calls.filter((c) => c.task === task).length;
  const last = (task: DrillTask) => calls.filter((c) => c.task === task).at(-1);
  return { result, calls, states, events, count, last };
};

/** Every run that got a copy: picked a snapshot, restored it and waited for it. */
const RESTORED = [...DRILL_START, 'WaitForRestore'];

describe('runDrillLocally on the synthesized definition', () => {
  it('passes: Start through Record, then DrillSucceeded with result.passed', async () => {
    // Act
    const { result, calls, count, events } = await run();

    // Assert
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toEqual([...RESTORED, 'Verify', 'WarmUp?', ...drillEnd(true)]);
    expect((result.output as DrillState).result?.passed).toBe(true);
    expect(calls.map((c) => c.task)).toEqual([
      'start',
      'select',
      'restore',
      'await',
      'verify',
      'cleanup',
      'record',
    ]);
    expect(count('cleanup')).toBe(1);
    // The payload every function parses: task, state, execution; a fresh token for the wait only.
    expect(calls[0]).toEqual({
      task: 'start',
      state: INPUT,
      execution: { name: EXECUTION, startTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    });
    expect(calls[3]!.taskToken).toMatch(new RegExp(`^local:${EXECUTION}:WaitForRestore:`));
    expect(calls.filter((c) => c.taskToken)).toHaveLength(1);
    expect(events.filter((e) => e.type === 'entered').map((e) => e.state)).toEqual(result.path);
  });

  it('cleans up and fails when the restore throws, with the error in the state', async () => {
    // Act
    const { result, count, last, events } = await run({
      restore: async () => {
        throw new AwsCallError('RestoreDBInstanceFromDBSnapshot', 'orders-db', new Error('quota exceeded'));
      },
    });

    // Assert
    expect(result.status).toBe('FAILED');
    expect(result.error).toEqual({ Error: 'DrillFailed', Cause: expect.any(String) });
    expect(result.path).toEqual([...DRILL_START, ...drillEnd(false)]);
    expect(count('cleanup')).toBe(1);
    const error = s(last('cleanup')!).error!;
    expect(error.Error).toBe('AwsCallError');
    expect(JSON.parse(error.Cause!)).toMatchObject({
      errorType: 'AwsCallError',
      errorMessage: expect.stringContaining('quota exceeded'),
    });
    expect(s(last('record')!).error?.Error).toBe('AwsCallError');
    expect(events).toContainEqual(expect.objectContaining({ state: 'Restore', type: 'caught' }));
  });

  it('polls when no event arrives, gives up when the drill times out, and still cleans up', async () => {
    // Prepare: the token wait always times out; status never sees it available, then the deadline passes.
    let polls = 0;

    // Act
    const { result, count, last, states } = await run({
      await: async () => {
        throw new TaskTimedOut();
      },
      status: async (e) => ({ ...s(e), available: false, timedOut: ++polls >= 3 }),
    });

    // Assert
    expect(result.status).toBe('FAILED');
    const poll = ['WaitForRestore', 'CheckRestore', 'Restored?'];
    expect(result.path).toEqual([...DRILL_START, ...poll, ...poll, ...poll, ...drillEnd(false)]);
    expect(count('await')).toBe(3);
    expect(count('verify')).toBe(0);
    expect(count('cleanup')).toBe(1);
    // ResultPath null on the timeout Catch: the state goes to CheckRestore without an error in it.
    expect(s(last('status')!).error).toBeUndefined();
    expect(s(last('record')!).timedOut).toBe(true);
    expect(states).not.toContain('Verify');
  });

  it('emulates the token wait timing out after waitMs, and verifies once polling finds the copy available', async () => {
    // Act: the RDS event never comes (the handler never settles).
    const { result, count } = await run({ await: () => new Promise(() => {}) }, { waitMs: 20 });

    // Assert
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toEqual([
      ...RESTORED,
      'CheckRestore',
      'Restored?',
      'Verify',
      'WarmUp?',
      ...drillEnd(true),
    ]);
    expect(count('status')).toBe(1);
  });

  it('cleans up and fails when the restore fails (SendTaskFailure on the token)', async () => {
    // Act
    const { result, count, last } = await run({
      await: async () => {
        throw Object.assign(new Error('steward-drill-orders-db-1a2b3c4d is incompatible-restore'), {
          name: 'RestoreFailed',
        });
      },
    });

    // Assert
    expect(result.path).toEqual([...DRILL_START, 'WaitForRestore', ...drillEnd(false)]);
    expect(count('cleanup')).toBe(1);
    expect(s(last('cleanup')!).error).toEqual({
      Error: 'RestoreFailed',
      Cause: 'steward-drill-orders-db-1a2b3c4d is incompatible-restore',
    });
  });

  it('cleans up and fails when verification fails', async () => {
    // Act
    const { result, count, last } = await run({
      verify: async (e) => ({ ...s(e), verifiedAt: AT, verification: { passed: false } }),
    });

    // Assert
    expect(result.status).toBe('FAILED');
    expect(result.path).toEqual([...RESTORED, 'Verify', 'WarmUp?', ...drillEnd(false)]);
    expect(count('cleanup')).toBe(1);
    expect(s(last('record')!).verification).toEqual({ passed: false });
  });

  it('cleans up and fails when the verifier crashes', async () => {
    // Act
    const { result, count, last } = await run({
      verify: async () => {
        throw Object.assign(new Error('connect ETIMEDOUT 10.0.0.12:5432'), { name: 'Error' });
      },
    });

    // Assert
    expect(result.path).toEqual([...RESTORED, 'Verify', ...drillEnd(false)]);
    expect(count('cleanup')).toBe(1);
    expect(s(last('record')!).error?.Error).toBe('Error');
  });

  it('ends inconclusive, not failed, when the verifier runs out of time, and still cleans up', async () => {
    // Act: the Verify task times out (States.Timeout); Record judges the state with the real verdict.
    const { result, count, last } = await run({
      verify: async () => {
        throw new TaskTimedOut('Task timed out after 900.00 seconds');
      },
      record: async (e) => {
        const v = drillVerdict(s(e));
        return { ...s(e), result: { passed: v.passed, outcome: v.outcome, summary: v.summary } };
      },
    });

    // Assert
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path).toEqual([...RESTORED, 'Verify', 'Cleanup', 'Record', 'Passed?', 'DrillInconclusive']);
    expect(count('cleanup')).toBe(1);
    expect(s(last('record')!).error?.Error).toBe('States.Timeout');
  });

  it('retries a failed cleanup and reports the drill once cleanup succeeds', async () => {
    // Prepare
    let attempts = 0;

    // Act
    const { result, count, events } = await run({
      cleanup: async (e) => {
        if (++attempts === 1)
          throw new AwsCallError('DeleteDBInstance', 'steward-drill-orders-db-1a2b3c4d', 'busy');
        return { ...s(e), cleanup: { status: 'deleted', at: AT } };
      },
    });

    // Assert
    expect(count('cleanup')).toBe(2);
    expect(events).toContainEqual(expect.objectContaining({ state: 'Cleanup', type: 'retry' }));
    expect(result.status).toBe('SUCCEEDED');
    expect((result.output as DrillState).cleanup?.status).toBe('deleted');
    expect(result.path.filter((p) => p === 'Cleanup')).toHaveLength(1);
  });

  it('records a failed drill when cleanup keeps failing after its retries', async () => {
    // Act
    const { result, count, last } = await run({
      cleanup: async () => {
        throw new AwsCallError(
          'DeleteDBInstance',
          'steward-drill-orders-db-1a2b3c4d',
          'InvalidDBInstanceState',
        );
      },
    });

    // Assert: 1 attempt + 3 retries, then the Catch hands over to Record with cleanupError.
    expect(count('cleanup')).toBe(4);
    expect(result.path).toEqual([...RESTORED, 'Verify', 'WarmUp?', ...drillEnd(false)]);
    expect(s(last('record')!).cleanupError?.Error).toBe('AwsCallError');
  });

  it('retries a throttled Lambda invoke without leaving the happy path', async () => {
    // Prepare
    let calls = 0;

    // Act
    const { result, count } = await run({
      select: async (e) => {
        if (++calls === 1)
          throw Object.assign(new Error('Rate exceeded'), { name: 'Lambda.TooManyRequestsException' });
        return defaults.select(e);
      },
    });

    // Assert
    expect(count('select')).toBe(2);
    expect(result.status).toBe('SUCCEEDED');
  });

  it('warms up in a loop of bounded chunks after verification, resuming each from the last one', async () => {
    // Prepare: verification starts a warm-up that needs three chunks.
    const verifyWithWarmup: Handler = async (e) => ({
      ...s(e),
      verifiedAt: AT,
      verification: { passed: true },
      warmup: { pending: true, chunks: 0, blocksRead: 0 },
    });
    const chunk: Handler = async (e) => {
      const w = s(e).warmup!;
      const chunks = w.chunks + 1;
      return { ...s(e), warmup: { ...w, chunks, blocksRead: w.blocksRead + 100, pending: chunks < 3 } };
    };

    // Act
    const { result, count, calls } = await run({ verify: verifyWithWarmup, warmup: chunk });

    // Assert
    expect(result.status).toBe('SUCCEEDED');
    expect(count('warmup')).toBe(3);
    expect(result.path).toEqual([
      ...RESTORED,
      'Verify',
      'WarmUp?',
      'WarmUp',
      'WarmUp?',
      'WarmUp',
      'WarmUp?',
      'WarmUp',
      'WarmUp?',
      ...drillEnd(true),
    ]);
    // Each chunk gets the progress the previous one returned.
    const blocks = calls.filter((c) => c.task === 'warmup').map((c) => s(c).warmup!.blocksRead);
    expect(blocks).toEqual([0, 100, 200]);
    expect(s(calls.at(-1)!).warmup).toMatchObject({ chunks: 3, blocksRead: 300, pending: false });
  });

  it('retries a failed warm-up chunk twice, then gives up on warm-up only and still records the drill', async () => {
    // Act
    const { result, count, last } = await run({
      verify: async (e) => ({
        ...s(e),
        verifiedAt: AT,
        verification: { passed: true },
        warmup: { pending: true, chunks: 0 },
      }),
      warmup: async () => {
        throw Object.assign(new Error('connection reset'), { name: 'Error' });
      },
    });

    // Assert: the warm-up error is its own, the verification stands.
    expect(count('warmup')).toBe(3);
    expect(result.path).toEqual([...RESTORED, 'Verify', 'WarmUp?', 'WarmUp', ...drillEnd(true)]);
    expect(s(last('record')!).warmupError?.Error).toBe('Error');
    expect(s(last('record')!).error).toBeUndefined();
  });

  it('ends an inconclusive drill (stopped by its cost ceiling) as succeeded, so no failure alarm fires', async () => {
    // Act
    const { result, count } = await run({
      status: async () => {
        throw Object.assign(new Error('going on would cost about $12.40, over the $10 ceiling'), {
          name: 'CostCeilingReached',
        });
      },
      await: async () => {
        throw new TaskTimedOut();
      },
    });

    // Assert
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path.slice(-4)).toEqual(['Cleanup', 'Record', 'Passed?', 'DrillInconclusive']);
    expect(count('cleanup')).toBe(1);
    expect(count('verify')).toBe(0);
  });

  it('fails without a second cleanup when Record itself fails', async () => {
    // Act
    const { result, count } = await run({
      record: async () => {
        throw new AwsCallError('PutObject', 's3://reports/drills/orders-db', 'AccessDenied');
      },
    });

    // Assert
    expect(result.path).toEqual([...RESTORED, 'Verify', 'WarmUp?', 'Cleanup', 'Record', 'DrillRecordFailed']);
    expect(result.error?.Error).toBe('DrillRecordFailed');
    expect(count('cleanup')).toBe(1);
  });
});

describe('a drill whose Record fails', () => {
  it('ends with an error the execution-ended rule alerts on: its verdict may never have been sent', async () => {
    // Prepare: Record could not send the drill's notification (the topic's key refuses it, say).
    const { result } = await run({
      record: async () => {
        throw new AwsCallError(
          'Publish',
          'arn:aws:sns:eu-west-1:111122223333:steward-prod-alerts',
          'KMS.AccessDenied',
        );
      },
    });
    const notifier = memoryNotifier();
    const deps: DrillDeps = {
      config: parseConfig({ stage: 'prod', region: 'eu-west-1' }, 'test'),
      dryRun: false,
      notifier,
      now: () => new Date(AT),
      restore: fakeRestorePort(),
      tokens: fakeTokenStore(),
      signal: fakeTaskSignal(),
      reports: fakeReportStore(),
      network: {},
      // What DescribeExecution says this execution failed with.
      executions: { errorOf: async () => result.error?.Error },
    };

    // Act: the "Execution Status Change" event of that execution reaches the drill function.
    const r = await runDrillControl(
      drillExecutionEnded('eu-west-1', '111122223333', EXECUTION, 'FAILED'),
      deps,
    );

    // Assert
    expect(result.status).toBe('FAILED');
    expect(r).toMatchObject({ outcome: 'alerted', status: 'FAILED' });
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]).toMatchObject({ severity: 'critical' });
    expect(notifier.sent[0]!.lines.join('\n')).toMatch(/recording it failed/);
  });
});

// "Too large to scan within the verifier's time", for real: every row read of the ledger costs 2 ms (a
// forced row-level security policy that sleeps), so a full scan of its 2000 rows takes over 4 s, while
// each check has 2 s and the whole verification 4 s (a Lambda's 15 minutes, scaled down).
describe('a drill of a database too large to scan in its verification budget', () => {
  const ROWS = 2000;
  const { owner: OWNER, password: PASSWORD, snapshotTime: SNAPSHOT_TIME } = LEDGER;
  const profile = ledgerProfile(ROWS);
  let server: PgServer;
  beforeAll(async () => {
    server = await startSlowLedger('local-drill-large', ROWS);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('passes, with the warm-up run in bounded chunks after verification and reported as its own RTO figure', async () => {
    // Prepare: the real drill tasks, verification and warm-up engines; the restore is this server.
    const config = parseConfig(
      {
        stage: 'test',
        region: 'eu-west-1',
        drill: {
          enabled: true,
          rtoSeconds: 3600,
          targets: {
            ledger: {
              profile,
              // The default login: IAM database authentication as a role of the source database.
              iamUser: OWNER,
              restore: { instanceClass: 'db.r6g.large' },
              warmup: { chunkSeconds: 2, maxSeconds: 300, parallelism: 2 },
            },
          },
        },
      } satisfies StewardConfigInput,
      'test',
    );
    // The password stands for the token the verifier signs for each connection.
    const credentials = fakeCredentials({ [`iam:${OWNER}`]: { username: OWNER, password: PASSWORD } });
    const restore = fakeRestorePort('eu-west-1');
    restore.snapshots = [
      {
        kind: 'rds-instance',
        id: 'rds:ledger-2026-03-01-05-00',
        arn: 'arn:aws:rds:eu-west-1:111122223333:snapshot:rds:ledger-2026-03-01-05-00',
        region: 'eu-west-1',
        sourceId: 'ledger',
        createdAt: SNAPSHOT_TIME.toISOString(),
        status: 'available',
        type: 'automated',
        tags: {},
      },
    ];
    restore.sources.ledger = { instanceClass: 'db.r6g.2xlarge', storageType: 'gp3', allocatedGb: 100 };
    const reports = fakeReportStore();
    const deps: DrillDeps & VerifyDeps = {
      config,
      dryRun: false,
      verify: verifyDatabase,
      warmUp,
      notifier: memoryNotifier(),
      now: () => new Date(),
      restore: {
        ...restore,
        // The copy is "restored" at once, on this server.
        describe: async (t) => {
          restore.setStatus(t.id, 'available');
          return { ...(await restore.describe(t)), endpoint: { host: server.host, port: server.port } };
        },
      },
      credentials,
      tokens: fakeTokenStore(),
      signal: fakeTaskSignal(),
      reports,
      network: {},
      ssl: false,
    };
    const warmups: number[] = [];
    let recorded: DrillState | undefined;

    // Act
    const result = await runDrillLocally({
      // The prod example's definition: the same states whatever the targets (the tasks read `config`).
      definition,
      input: { database: 'ledger' },
      executionName: 'ledger-large-test',
      tasks: async (event) => {
        if (event.task === 'verify') return runVerifyTask(event, deps);
        if (event.task === 'warmup') {
          const next = await runVerifyTask(event, deps);
          warmups.push(next.warmup!.blocksRead);
          return next;
        }
        // `await` finds the copy available and returns what SendTaskSuccess would carry.
        const next = await runDrillTask(event, deps);
        if (event.task === 'record') recorded = next;
        return next;
      },
    });

    // Assert
    const doc = drillReport((result.output ?? recorded) as DrillState);
    expect(doc.reasons).toEqual([]);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path.at(-1)).toBe('DrillSucceeded');
    expect(doc).toMatchObject({ passed: true, outcome: 'passed' });
    expect(doc.verification!.checks.find((c) => c.name === 'row-count ledger')!.method).toBe('estimate');
    // Warm-up: several bounded chunks, each resuming where the last stopped, until every block was read.
    expect(warmups.length).toBeGreaterThanOrEqual(2);
    expect(warmups).toEqual([...warmups].sort((a, b) => a - b));
    const warm = doc.metrics!.warm!;
    expect(warm).toMatchObject({ complete: true, percent: 100, method: 'tid-range', chunks: warmups.length });
    expect(warm.readBytes).toBe(warm.totalBytes);
    // Two RTO figures: verified first, warm later; the warm-up is not part of the first.
    expect(warm.rtoSeconds!).toBeGreaterThan(doc.metrics!.rtoSeconds);
    expect(doc.metrics!.verifySeconds).toBeLessThanOrEqual(profile.budgetSeconds + 1);
    // What it ran on and what it cost are in the report.
    expect(doc.shape).toMatchObject({ instanceClass: 'db.r6g.large', instanceClassFrom: 'config' });
    expect(doc.shape!.sourceInstanceClass).toBe('db.r6g.2xlarge');
    expect(doc.cost).toMatchObject({ instanceUsdPerHour: 0.225, estimate: true });
    expect(doc.cost!.instanceHours).toBeGreaterThanOrEqual(600 / 3600 - 1e-9);
    // IAM login: the copy restored with IAM authentication on; a token per connecting task (verify and
    // each warm-up chunk), each signed for the copy's endpoint; no secret read.
    expect(restore.requests.map((r) => r.iamAuth)).toEqual([true]);
    expect(credentials.reads).toEqual(
      Array<string>(1 + warmups.length).fill(`iam:${OWNER}@${server.host}:${server.port}`),
    );
  });
});

describe('a drill from the backup vault, on the synthesized definition', () => {
  it('polls while its copy of the vault copy is made, restores that copy, and cleans up the copy and the share', async () => {
    // Prepare: the real control-plane tasks (vault ports faked); the copy becomes available on the second look.
    const HUB = '111111111111';
    const config = parseConfig(
      {
        stage: 'prod',
        account: HUB,
        region: 'eu-west-1',
        fleet: { externalId: 'steward-prod-fleet', vault: { account: '999999999999', retention: 'vault' } },
        retention: { policies: { standard: {}, vault: { daily: 35 } } },
        drill: {
          enabled: true,
          targets: { 'orders-db': { from: 'vault', profile: { database: 'orders' } } },
        },
      },
      'test',
    );
    const copyId = 'steward-orders-db-202503010300-sched-1a2b3c4d';
    const restore = fakeRestorePort();
    const staged = new Map<string, { status: string; looks: number }>();
    const shares: string[] = [];
    const deps: DrillDeps = {
      config,
      dryRun: false,
      notifier: memoryNotifier(),
      now: () => new Date(AT),
      restore: {
        ...restore,
        describe: async (t) => {
          restore.setStatus(t.id, 'available');
          return restore.describe(t);
        },
      },
      tokens: fakeTokenStore(),
      signal: fakeTaskSignal(),
      reports: fakeReportStore(),
      network: {},
      vault: {
        account: HUB,
        key: 'alias/aws/rds',
        vault: {
          account: '999999999999',
          region: 'eu-west-1',
          copies: async () => [
            {
              kind: 'rds-instance',
              id: copyId,
              arn: `arn:aws:rds:eu-west-1:999999999999:snapshot:${copyId}`,
              region: 'eu-west-1',
              sourceId: 'orders-db',
              createdAt: AT,
              status: 'available',
              type: 'manual',
              encrypted: true,
              tags: {
                'steward:managed': 'true',
                'steward:vault': 'true',
                'steward:created-by': 'vault',
                'steward:source': 'orders-db',
                'steward:source-account': HUB,
                'steward:source-region': 'eu-west-1',
                'steward:data-time': '2025-03-01T03:00:00.000Z',
              },
            },
          ],
          share: async (_c, to) => (shares.push(`+${to}`), 'done'),
          unshare: async (_c, to) => (shares.push(`-${to}`), 'done'),
          sharedWith: async () => false,
        },
        staging: {
          listDrillCopies: async () => [],
          copy: async ({ targetId }) => (staged.set(targetId, { status: 'copying', looks: 0 }), 'started'),
          status: async (id) => {
            const c = staged.get(id);
            if (!c) return undefined;
            if (++c.looks > 2 && c.status === 'copying') {
              c.status = 'available';
              // The fake restore port restores only snapshots it knows.
              restore.snapshots.push({
                ...restore.snapshots[0]!,
                id,
                arn: id,
                sourceId: 'orders-db',
                tags: {},
              });
            }
            return { status: c.status, failed: false };
          },
          remove: async (id) => (staged.delete(id) ? 'deleted' : 'already-gone'),
        },
      },
    };
    restore.snapshots.push({
      kind: 'rds-instance',
      id: 'placeholder',
      arn: 'placeholder',
      region: 'eu-west-1',
      sourceId: 'other',
      status: 'available',
      type: 'manual',
      tags: {},
    });
    const states: string[] = [];

    // Act
    const result = await runDrillLocally({
      definition,
      input: { database: 'orders-db' },
      executionName: 'orders-vault-test',
      tasks: async (event, context) => {
        states.push(context.stateName);
        if (event.task === 'verify') return defaults.verify(event);
        if (event.task === 'record') return defaults.record(event);
        const next = await runDrillTask(event, deps);
        // No RDS event comes while the drill's copy is made: the token wait times out into polling.
        if (event.task === 'await' && !next.available) throw new TaskTimedOut('no RDS event');
        return next;
      },
    });

    // Assert
    expect(result.status).toBe('SUCCEEDED');
    expect(states).toContain('CheckRestore');
    expect(restore.requests).toHaveLength(1);
    expect(restore.requests[0]!.source.snapshotId).toMatch(/^steward-drill-orders-db-/);
    expect(shares).toEqual(['+111111111111', '-111111111111']);
    expect(staged.size).toBe(0);
    expect(restore.removed).toEqual([restore.requests[0]!.targetId]);
  });
});
