import { afterEach, beforeEach, vi } from 'vitest';
import type { DrillState, DrillTaskEvent } from '../../shared/drill/state.js';
import { type DrillDeps, runDrillTask } from '../../shared/drill/tasks.js';
import { metrics } from '../../shared/observability.js';

// The drill tasks called as the state machine calls them, over in-memory ports (test/shared/drill/*-tasks.test.ts),
// and the event that tells the drill control an execution ended.

/** Quiets Powertools' single metrics (the drill tasks emit them) for each test of the enclosing describe. */
export const quietMetrics = (): void => {
  beforeEach(() => {
    vi.spyOn(metrics, 'singleMetric').mockImplementation(
      () =>
        ({ addDimension: () => undefined, addMetric: () => undefined }) as unknown as ReturnType<
          typeof metrics.singleMetric
        >,
    );
  });
};

/** `quietMetrics`, and every mock restored after each test. */
export const quietMetricsEachTest = (): void => {
  quietMetrics();
  afterEach(() => vi.restoreAllMocks());
};

/**
 * The drill tasks of `execution`: `task(name, state)`, a task's input as the state machine passes it, and
 * `caught(name, state, deps)`, a task run as a Catch of the state machine sees it: what it returned, or the
 * state the failed task received plus `error`.
 */
export const drillTasksOf = (execution: { name: string; startTime: string }) => {
  const task = (t: DrillTaskEvent['task'], state: unknown) =>
    ({ task: t, state, execution }) as DrillTaskEvent;
  const caught = async (t: DrillTaskEvent['task'], s: DrillState, deps: DrillDeps): Promise<DrillState> => {
    try {
      return await runDrillTask(task(t, s), deps);
    } catch (e) {
      const err = e as Error;
      return { ...s, error: { Error: err.name, Cause: JSON.stringify({ errorMessage: err.message }) } };
    }
  };
  return { task, caught };
};

/**
 * The Step Functions "Execution Status Change" event (the shape of events/drill/aws-execution-aborted.json, the
 * fields the drill control reads) of execution `name` of `account`'s `steward-prod-drill` in `region`, ended `status`.
 */
export const drillExecutionEnded = (
  region: string,
  account: string,
  name: string,
  status: 'ABORTED' | 'FAILED' | 'TIMED_OUT' = 'ABORTED',
  /** The execution's input (the event carries it as a JSON string), e.g. `{ database }`. */
  input?: Record<string, unknown>,
) => ({
  source: 'aws.states',
  'detail-type': 'Step Functions Execution Status Change',
  detail: {
    executionArn: `arn:aws:states:${region}:${account}:execution:steward-prod-drill:${name}`,
    stateMachineArn: `arn:aws:states:${region}:${account}:stateMachine:steward-prod-drill`,
    name,
    status,
    ...(input ? { input: JSON.stringify(input) } : {}),
  },
});
