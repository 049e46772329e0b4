import { AwsCallError, errorName } from '../errors.js';

/** SDK error names that are answers, not failures, for one call. */
export interface Expected {
  /** "Already exists": an earlier attempt (a retry, another run) got there first: done. */
  exists?: readonly string[];
  /** "Not found": nothing there, or nothing there any more: gone. */
  gone?: readonly string[];
  /** A condition or a state refused the call for now (a conditional write, a resource not ready). */
  refused?: readonly string[];
}

export type Answer = keyof Expected;

/** What one SDK call came to: its response, or one of the answers the caller expected. */
export type Called<T> = { ok: true; value: T } | { ok: false; answer: Answer; cause: unknown };

const ANSWERS: readonly Answer[] = ['exists', 'gone', 'refused'];

/**
 * Send one SDK call. An error named in `expected` becomes its answer; anything else becomes one
 * AwsCallError naming the operation and the resource, with the SDK error as `cause` (or the error
 * `explain` builds for it, when the caller knows better, e.g. a KMS key in the wrong region).
 */
export const attempt = async <T>(
  operation: string,
  resource: string,
  send: () => Promise<T>,
  expected: Expected = {},
  explain?: (e: unknown) => Error | undefined,
): Promise<Called<T>> => {
  try {
    return { ok: true, value: await send() };
  } catch (e) {
    const name = errorName(e);
    const answer = ANSWERS.find((a) => expected[a]?.includes(name));
    if (answer) return { ok: false, answer, cause: e };
    throw explain?.(e) ?? new AwsCallError(operation, resource, e);
  }
};

/** Send one SDK call that has no expected answers: its response, or AwsCallError with the SDK error as cause. */
export const call = async <T>(operation: string, resource: string, send: () => Promise<T>): Promise<T> => {
  const r = await attempt(operation, resource, send);
  // `attempt` without expected answers either returns the response or throws.
  return (r as { value: T }).value;
};
