import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { type ExecutionLookup, StaleTaskTokenError, type TaskSignal } from '../drill/ports.js';
import { errorCode, errorName } from '../errors.js';
import { retrying } from '../retry.js';
import { attempt, call } from './call.js';

// Step Functions limits: error ≤ 256 characters, cause ≤ 32,768.
const ERROR_MAX = 256;
const CAUSE_MAX = 32_768;
/** The task already finished, timed out, or its execution ended: nobody waits for this token. */
const STALE = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

// Tokens are long and opaque; the tail is enough to tell them apart in logs.
const label = (token: string) => `task token …${token.slice(-12)}`;

const send = async (op: string, token: string, act: () => Promise<unknown>): Promise<void> => {
  await attempt(op, label(token), act, {}, (e) =>
    STALE.has(errorName(e))
      ? new StaleTaskTokenError(`${op}: ${label(token)} is stale (${errorName(e)})`, { cause: e })
      : undefined,
  );
};

/** TaskSignal over Step Functions SendTaskSuccess / SendTaskFailure. */
export const sfnTaskSignal = (sfn: SFNClient): TaskSignal => ({
  success: (token, output) =>
    send('SendTaskSuccess', token, () =>
      sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) })),
    ),
  failure: (token, error, cause) =>
    send('SendTaskFailure', token, () =>
      sfn.send(
        new SendTaskFailureCommand({
          taskToken: token,
          error: error.slice(0, ERROR_MAX),
          cause: cause.slice(0, CAUSE_MAX),
        }),
      ),
    ),
});

/**
 * Waits between DescribeExecution attempts, each attempt with the SDK's own retries: 15 s in all, within the
 * drill function's 5 minutes, so a throttle or a short Step Functions outage does not cost the critical
 * alert of an execution that ended outside the drill (shared/drill/execution-end.ts).
 */
export const DESCRIBE_WAITS_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000];
// Answers that asking again would not change.
const FINAL = new Set(['ExecutionDoesNotExist', 'InvalidArn', 'AccessDeniedException']);

/**
 * ExecutionLookup over Step Functions DescribeExecution: the error name an execution failed with, asked
 * again after each of `waitsMs` (DESCRIBE_WAITS_MS) while it fails; the last failure is thrown.
 */
export const sfnExecutions = (
  sfn: SFNClient,
  o: { waitsMs?: readonly number[]; sleep?: (ms: number) => Promise<void> } = {},
): ExecutionLookup => {
  const retry = {
    waitsMs: o.waitsMs ?? DESCRIBE_WAITS_MS,
    retryable: (e: unknown) => !FINAL.has(errorCode(e)),
    sleep: o.sleep,
  };
  return {
    errorOf: async (executionArn) =>
      (
        await retrying(
          () =>
            call('DescribeExecution', executionArn, () =>
              sfn.send(new DescribeExecutionCommand({ executionArn })),
            ),
          retry,
        )
      ).error,
  };
};
