import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { AwsCallError, StewardError } from '../shared/errors.js';

// The CLI's way into a deployed function (`steward approve --target`): only the hub's own function may act in
// a spoke (the spoke roles trust its role alone), so the CLI asks it to, with the operator's credentials. No
// function sends it: it lives with the CLI, outside the function roles' IAM simulation.

/** The invoked function failed: its own error type and message (the Lambda error document). */
export class FunctionFailedError extends StewardError {
  override name = 'FunctionFailedError';
}

/**
 * Invoke `functionName` with `payload` and wait for its result (RequestResponse); the parsed JSON it
 * returned. A call Lambda refuses is an AwsCallError; a run that threw is a FunctionFailedError naming the
 * function, the error type and message (Lambda API Reference, Invoke: `FunctionError` is set and the payload
 * is the error document).
 */
export const invokeFunction = async (
  client: LambdaClient,
  functionName: string,
  payload: unknown,
): Promise<unknown> => {
  let r;
  try {
    r = await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: Buffer.from(JSON.stringify(payload)),
      }),
    );
  } catch (e) {
    throw new AwsCallError('Invoke', `function ${functionName}`, e);
  }
  const text = r.Payload ? Buffer.from(r.Payload).toString('utf8') : '';
  const json = (): unknown => {
    try {
      return text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      return text;
    }
  };
  if (r.FunctionError) {
    const doc = json() as { errorType?: unknown; errorMessage?: unknown } | undefined;
    const type = typeof doc?.errorType === 'string' ? doc.errorType : r.FunctionError;
    const message = typeof doc?.errorMessage === 'string' ? doc.errorMessage : text;
    throw new FunctionFailedError(`${functionName} failed: ${type}: ${message}`);
  }
  return json();
};
