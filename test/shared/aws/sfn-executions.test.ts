import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { sfnExecutions } from '../../../shared/aws/sfn.js';
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
  });
});
