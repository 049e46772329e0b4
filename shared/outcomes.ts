import { errorCode, errorMessage, PartialFailureError } from './errors.js';
import type { Outcome } from './model.js';
import { FANOUT, mapLimit } from './pool.js';

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
export const settleEach = <T>(
  items: readonly T[],
  act: (item: T) => Promise<Outcome>,
  describe: (item: T) => { resource: string; action: string },
  concurrency = FANOUT,
): Promise<Outcome[]> =>
  mapLimit(items, concurrency, async (item) => {
    try {
      return await act(item);
    } catch (e) {
      return failedOutcome(describe(item), e);
    }
  });

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
