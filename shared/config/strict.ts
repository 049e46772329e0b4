import * as z from '../zod.js';
import { suggestion } from './suggest.js';

/**
 * The message of an unknown-keys issue: one line per key, `"<key>": unknown key, did you mean "<known>"?`.
 * `configProblems` splits it back into one problem per key (with the key in the path).
 */
export const unknownKeysMessage = (
  keys: readonly string[],
  known: readonly string[],
  removed: Readonly<Record<string, string>> = {},
): string =>
  keys
    .map(
      (k) =>
        `${JSON.stringify(k)}: ${Object.hasOwn(removed, k) ? `no longer a key: ${removed[k]}` : `unknown key, ${suggestion(k, known)}`}`,
    )
    .join('\n');

/**
 * A config object that rejects unknown keys (a misspelt key must never fall back to a default
 * silently) and names the closest known key. `removed` says what replaced a key an older config may still use.
 */
export const strictObject = <S extends z.core.$ZodLooseShape>(
  shape: S,
  removed: Readonly<Record<string, string>> = {},
) =>
  z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? unknownKeysMessage(iss.keys, Object.keys(shape), removed)
        : undefined,
  });

/**
 * A cross-field check that runs even when other parts of the object failed validation (zod skips
 * refinements after a type error anywhere), as long as the keys it reads have the right types: every
 * problem is reported at once. `fn` must read only the `reads` keys; the rest may be unvalidated input.
 */
export const crossCheck = <T>(
  reads: readonly (keyof T & string)[],
  fn: (value: T, ctx: z.core.$RefinementCtx<T>) => void,
) =>
  z.superRefine<T>(fn, {
    // An issue with `continue: true` is a failed check on a well-typed value (a bound, a pattern); any other
    // (a wrong type, a missing key) leaves input that `fn` cannot read safely.
    when: (payload) =>
      !payload.issues.some(
        (i) =>
          i.code !== 'unrecognized_keys' &&
          (i as { continue?: boolean }).continue !== true &&
          (!i.path?.length || reads.includes(String(i.path[0]) as never)),
      ),
  });

/**
 * A cross-field check that always runs, whatever else failed: `fn` gets the half-validated value (parts
 * that failed are left as written) and must check the type of everything it reads.
 */
export const alwaysCheck = (
  fn: (value: Record<string, unknown>, ctx: z.core.$RefinementCtx<unknown>) => void,
) =>
  z.superRefine<Record<string, unknown>>(
    (v, ctx) => fn(v !== null && typeof v === 'object' ? v : {}, ctx as z.core.$RefinementCtx<unknown>),
    {
      when: () => true,
    },
  );
