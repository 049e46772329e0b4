/**
 * Bounded fan-out for AWS calls over many databases or snapshots: at most `FANOUT` in flight, and each
 * region's RDS and ElastiCache calls paced below the documented API rate (shared/aws/clients/).
 */

/**
 * Calls in flight per fan-out. RDS answers a control-plane call in ~100-300 ms, so 4 in flight is
 * ~13-40 calls/s before pacing: enough to drain a run's work, while the pacer and the SDK's adaptive
 * retry keep the sustained rate under RDS's ~12 requests/s per account-region.
 */
export const FANOUT = 4;

/** `f` over every item with at most `limit` in flight; results in input order. The first failure rejects. */
export const mapLimit = async <T, R>(
  items: readonly T[],
  limit: number,
  f: (t: T, i: number) => Promise<R>,
): Promise<R[]> => {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`mapLimit: limit must be a positive integer, got ${limit}`);
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await f(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
};

/** A token bucket: `take()` resolves when a call may start. */
export interface Pacer {
  take(): Promise<void>;
}

export interface PacerOptions {
  /** Sustained calls per second. */
  ratePerSecond: number;
  /** Calls that may start at once after a quiet spell. */
  burst: number;
  /** Clock and sleep, injected by tests; real time otherwise. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A token bucket of `burst` tokens refilled at `ratePerSecond`. Callers queue in order: each `take()`
 * reserves the next token and waits until it exists, so N callers start no faster than the rate allows.
 */
export const tokenBucket = ({
  ratePerSecond,
  burst,
  now = Date.now,
  sleep = (ms) => new Promise((r) => setTimeout(r, ms)),
}: PacerOptions): Pacer => {
  if (!(ratePerSecond > 0) || !(burst >= 1))
    throw new RangeError(`tokenBucket: rate ${ratePerSecond}/s and burst ${burst} must be positive`);
  const interval = 1000 / ratePerSecond;
  // The time at which the bucket is next full minus `burst` tokens, i.e. when the next token is free.
  let free = -Infinity;
  return {
    take: async () => {
      const t = now();
      // An idle bucket holds at most `burst` tokens: the oldest token it can lend dates from `t - burst·interval`.
      free = Math.max(free, t - burst * interval) + interval;
      const wait = free - t;
      if (wait > 0) await sleep(wait);
    },
  };
};
