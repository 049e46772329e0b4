import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { type ExecutionLookup, StaleTaskTokenError, type TaskSignal } from '../drill/ports.js';
import { errorName } from '../errors.js';
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

/** ExecutionLookup over Step Functions DescribeExecution: the error name an execution failed with. */
export const sfnExecutions = (sfn: SFNClient): ExecutionLookup => ({
  errorOf: async (executionArn) =>
    (
      await call('DescribeExecution', executionArn, () =>
        sfn.send(new DescribeExecutionCommand({ executionArn })),
      )
    ).error,
});
