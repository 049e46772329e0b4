import { LambdaClient } from '@aws-sdk/client-lambda';
import { type ClientOptions, http, memo } from './kit.js';

/**
 * One Lambda client per region per container, for synchronous invokes that answer when the invoked function is
 * done: the drill function's relay to the DR region's cache verifier, and the CLI's `steward approve --target`
 * (the hub's scaling function). `o.requestTimeoutMs` must outlast the invoked function's timeout; two attempts
 * (a throttled invoke is retried once, a run is not started a third time).
 */
export const lambdaClient = (region: string, o?: ClientOptions): LambdaClient =>
  memo('lambda', region, o, () => new LambdaClient({ region, maxAttempts: 2, ...http(o) }));
