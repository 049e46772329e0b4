import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { call } from '../shared/aws/call.js';
import { decodeInvokeAnswer } from '../shared/aws/lambda-answer.js';
import { StewardError } from '../shared/errors.js';

// The CLI's way into a deployed function (`steward approve --target`): only the hub's own function may act in
// a spoke (the spoke roles trust its role alone), so the CLI asks it to, with the operator's credentials. No
// function sends it: it lives with the CLI, outside the function roles' IAM simulation.

/** The invoked function failed: its own error type and message (the Lambda error document). */
export class FunctionFailedError extends StewardError {
  override name = 'FunctionFailedError';
}

/**
 * Invoke `functionName` with `payload` and wait for its result (RequestResponse); the parsed JSON it
 * returned. A call Lambda refuses is an AwsCallError; a run that threw (or answered no JSON) is a
 * FunctionFailedError naming the function, the error type and message (../shared/aws/lambda-answer.ts).
 */
export const invokeFunction = async (
  client: LambdaClient,
  functionName: string,
  payload: unknown,
): Promise<unknown> => {
  const r = await call('Invoke', `function ${functionName}`, () =>
    client.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    ),
  );
  const answer = decodeInvokeAnswer(r);
  if (!answer.ok)
    throw new FunctionFailedError(`${functionName} failed: ${answer.errorType}: ${answer.errorMessage}`);
  return answer.value;
};
