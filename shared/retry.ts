/**
 * steward's own retries of a whole operation, on top of the SDK clients' retries of each call
 * (shared/aws/clients/kit.ts): a wait list, which errors are worth another attempt, full jitter for what
 * many runs hit at once, and a deadline no retry starts past.
 */

/** Real time's sleep; injected away by tests. */
export const sleep = (ms: number): Promise<void> => new Promise<void>((r) => setTimeout(r, ms));

/** Exponential backoff: `firstMs`, `2 × firstMs`, … for `retries` retries. */
export const doubling = (firstMs: number, retries: number): number[] =>
  Array.from({ length: Math.max(0, retries) }, (_, i) => firstMs * 2 ** i);

export interface RetryOptions {
  /** The wait before each retry (ms): `waitsMs.length + 1` attempts at most. */
  waitsMs: readonly number[];
  /** Whether an error is worth another attempt. @default every error */
  retryable?: (e: unknown) => boolean;
  /** Full jitter: each wait a random time below its value, so callers that failed together do not retry together. */
  jitter?: boolean;
  /** No retry whose wait would end at or past this time (epoch ms, by `now`): the last error is thrown instead. */
  deadline?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/**
 * `f` (given the attempt number, 1-based) until it returns, throws an error `retryable` refuses, the waits run
 * out or the deadline comes: then its last error is thrown, as it was.
 */
export const retrying = async <T>(f: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await f(attempt);
    } catch (e) {
      const wait = o.waitsMs[attempt - 1];
      if (wait === undefined || (o.retryable && !o.retryable(e))) throw e;
      const ms = o.jitter ? Math.floor((o.random ?? Math.random)() * wait) : wait;
      if (o.deadline !== undefined && (o.now ?? Date.now)() + ms >= o.deadline) throw e;
      await (o.sleep ?? sleep)(ms);
    }
  }
};
