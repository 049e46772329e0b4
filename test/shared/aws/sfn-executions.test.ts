import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DESCRIBE_WAITS_MS, sfnExecutions } from '../../../shared/aws/sfn.js';
import { AwsCallError } from '../../../shared/errors.js';

const sfn = mockClient(SFNClient);
const ARN = 'arn:aws:states:eu-west-1:111122223333:execution:steward-prod-drill:monthly-orders-db';

describe('sfnExecutions', () => {
  beforeEach(() => sfn.reset());

  it('answers the error name a failed execution ended with', async () => {
    sfn.on(DescribeExecutionCommand, { executionArn: ARN }).resolves({
      $metadata: {},
      executionArn: ARN,
      stateMachineArn: 'arn:aws:states:eu-west-1:111122223333:stateMachine:steward-prod-drill',
      status: 'FAILED',
      startDate: new Date(0),
      error: 'DrillFailed',
    });

    expect(await sfnExecutions(new SFNClient({ region: 'eu-west-1' })).errorOf(ARN)).toBe('DrillFailed');
    expect(sfn).toReceiveCommandWith(DescribeExecutionCommand, { executionArn: ARN });
  });

  it('wraps a failure naming the execution', async () => {
    sfn
      .on(DescribeExecutionCommand)
      .rejects(Object.assign(new Error('gone'), { name: 'ExecutionDoesNotExist' }));

    const e = await sfnExecutions(new SFNClient({ region: 'eu-west-1' }))
      .errorOf(ARN)
      .catch((x: unknown) => x);

    expect(e).toBeInstanceOf(AwsCallError);
    expect((e as Error).message).toMatch(
      /DescribeExecution failed for arn:aws:states:.*monthly-orders-db: ExecutionDoesNotExist/,
    );
    // An answer that asking again would not change: asked once.
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(1);
  });

  it('asks again, after waits, when DescribeExecution fails for a while, then answers', async () => {
    // Prepare: throttled past the SDK's own retries, twice
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    sfn
      .on(DescribeExecutionCommand)
      .rejectsOnce(throttled)
      .rejectsOnce(throttled)
      .resolves({ $metadata: {}, error: 'DrillFailed' } as never);
    const waited: number[] = [];

    // Act
    const error = await sfnExecutions(new SFNClient({ region: 'eu-west-1' }), {
      sleep: async (ms) => void waited.push(ms),
    }).errorOf(ARN);

    // Assert
    expect(error).toBe('DrillFailed');
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(3);
    expect(waited).toEqual(DESCRIBE_WAITS_MS.slice(0, 2));
  });

  it('gives up after its last wait, within the drill function budget, with the last error', async () => {
    // Prepare
    sfn
      .on(DescribeExecutionCommand)
      .rejects(Object.assign(new Error('boom'), { name: 'InternalServerError' }));
    const waited: number[] = [];

    // Act
    const e = await sfnExecutions(new SFNClient({ region: 'eu-west-1' }), {
      sleep: async (ms) => void waited.push(ms),
    })
      .errorOf(ARN)
      .catch((x: unknown) => x);

    // Assert: every wait taken, one attempt after each; well under a minute of the function's 5
    expect(e).toBeInstanceOf(AwsCallError);
    expect(waited).toEqual([...DESCRIBE_WAITS_MS]);
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(DESCRIBE_WAITS_MS.length + 1);
    expect(waited.reduce((a, b) => a + b, 0)).toBeLessThan(60_000);
  });
});
