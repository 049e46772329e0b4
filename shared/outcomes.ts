import { errorCode, errorMessage, PartialFailureError } from './errors.js';
import type { Outcome } from './model.js';

type Failed = Extract<Outcome, { status: 'failed' }>;

/**
 * The failed outcome of a caught error: its message, its `errorCode` (the SDK's under an AwsCallError), and the error itself as a
 * non-enumerable `cause`, so reports serialise to plain JSON while PartialFailureError keeps the original.
 */
export const failedOutcome = (what: { resource: string; action: string }, e: unknown): Failed =>
  Object.defineProperty(
    { ...what, status: 'failed' as const, error: errorMessage(e), code: errorCode(e) },
    'cause',
    { value: e, enumerable: false },
  );

/**
 * Run `act` for every item with bounded concurrency; one failure does not stop the others.
 * Every item yields exactly one Outcome, in input order.
 */
export const settleEach = async <T>(
  items: readonly T[],
  act: (item: T) => Promise<Outcome>,
  describe: (item: T) => { resource: string; action: string },
  concurrency = 4,
): Promise<Outcome[]> => {
  const out: Outcome[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const item = items[i]!;
      try {
        out[i] = await act(item);
      } catch (e) {
        out[i] = failedOutcome(describe(item), e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
};

/** `f` over every item with at most `limit` in flight; results in input order. The first failure rejects. */
export const mapLimit = async <T, R>(
  items: readonly T[],
  limit: number,
  f: (t: T) => Promise<R>,
): Promise<R[]> => {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
};

/** Count outcomes by status. */
export const tally = (outcomes: readonly Outcome[]): Record<Outcome['status'], number> => {
  const t = { done: 0, 'already-done': 0, planned: 0, skipped: 0, failed: 0 };
  for (const o of outcomes) t[o.status]++;
  return t;
};

/** Throw once, after reporting, when any outcome failed, so Lambda error alarms and DLQs see it. */
export const throwIfFailed = (what: string, outcomes: readonly Outcome[]): void => {
  const failures = outcomes.flatMap((o) =>
    o.status === 'failed'
      ? [
          {
            resource: o.resource,
            error: o.error,
            ...(o.code !== undefined && { code: o.code }),
            ...(o.cause !== undefined && { cause: o.cause }),
          },
        ]
      : [],
  );
  if (failures.length)
    throw new PartialFailureError(
      `${what}: ${failures.length} of ${outcomes.length} actions failed`,
      failures,
    );
};
