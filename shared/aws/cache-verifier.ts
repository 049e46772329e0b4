import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { RemoteCacheVerifier } from '../drill/ports.js';
import { StewardError } from '../errors.js';
import { call } from './call.js';

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
 * name and message. `functionArn` is read when first needed (the DR stack publishes it).
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
    const text = r.Payload ? new TextDecoder().decode(r.Payload) : '';
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (r.FunctionError) {
      // A Node.js function's error payload: { errorType, errorMessage, trace } (Lambda Developer Guide,
      // "AWS Lambda function errors in Node.js"); FunctionError is `Unhandled` for a thrown error.
      const e = (body ?? {}) as { errorType?: unknown; errorMessage?: unknown };
      throw new RemoteVerifyError(
        typeof e.errorType === 'string' && e.errorType ? e.errorType : r.FunctionError,
        `${fn} in ${region}: ${typeof e.errorMessage === 'string' ? e.errorMessage : text.slice(0, 1000)}`,
      );
    }
    return body;
  },
});
