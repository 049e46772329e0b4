import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { RemoteCacheVerifier } from '../drill/ports.js';
import { StewardError } from '../errors.js';
import { call } from './call.js';
import { decodeInvokeAnswer } from './lambda-answer.js';

/** The remote verifier's own failure, under the error name it threw (what the drill's Catch records). */
export class RemoteVerifyError extends StewardError {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The DR stack's cache verifier, invoked synchronously (`RequestResponse`) with one `verify` task event: its
 * answer is the drill state, or (`FunctionError`) the error it threw, rethrown as RemoteVerifyError with its
 * name and message (./lambda-answer.ts decodes it). `functionArn` is read when first needed (the DR stack
 * publishes it).
 */
export const lambdaCacheVerifier = (
  lambda: LambdaClient,
  region: string,
  functionArn: () => Promise<string>,
): RemoteCacheVerifier => ({
  region,
  verify: async (event) => {
    const fn = await functionArn();
    const r = await call('Invoke', `${fn} in ${region}`, () =>
      lambda.send(
        new InvokeCommand({
          FunctionName: fn,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(event)),
        }),
      ),
    );
    const answer = decodeInvokeAnswer(r);
    if (!answer.ok)
      throw new RemoteVerifyError(answer.errorType, `${fn} in ${region}: ${answer.errorMessage}`);
    return answer.value;
  },
});
