import type * as z from '../zod.js';
import { echo } from '../errors.js';
import { closest } from './suggest.js';

/** One thing wrong with a config: where (key path) and what to do about it. */
export interface ConfigProblem {
  path: (string | number)[];
  message: string;
}

type Issue = z.core.$ZodIssue & { input?: unknown };

/** `backup.policies.daily.schedule`, `cost.thresholds[1].amountUsd`; `(root)` for the document itself. */
export const renderPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>(
    (s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${String(p)}` : String(p)),
    '',
  ) || '(root)';

const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return echo(v, 40);
  return String(v);
};

const TYPE_NAMES: Record<string, string> = {
  int: 'a whole number',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping of keys',
  record: 'a mapping of names',
};

const hasInput = (i: Issue): boolean => Object.hasOwn(i, 'input');

const didYouMean = (input: unknown, values: readonly unknown[]): string => {
  if (typeof input !== 'string') return '';
  const near = closest(
    input,
    values.filter((v): v is string => typeof v === 'string'),
  );
  return near ? `: did you mean "${near}"?` : '';
};

const bound = (i: Issue & { origin?: string }, kind: 'least' | 'most', n: unknown, inclusive: boolean) => {
  const value = Number(n);
  if (i.origin === 'array' || i.origin === 'set')
    return `must have at ${kind} ${value} item${value === 1 ? '' : 's'}`;
  if (i.origin === 'string') return `must be at ${kind} ${value} character${value === 1 ? '' : 's'} long`;
  const limit = inclusive ? value : kind === 'least' ? `more than ${value}` : `less than ${value}`;
  const got = hasInput(i) ? ` (got ${describe(i.input)})` : '';
  return inclusive ? `must be at ${kind} ${limit}${got}` : `must be ${limit}${got}`;
};

/** Branch issues that only say "the value is not even this branch's type". */
const isTypeMismatch = (issues: readonly Issue[]): boolean =>
  issues.every((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value'));

/** The message of one (non-union) issue, in the config's words, with a fix where there is one. */
const message = (i: Issue): string => {
  switch (i.code) {
    case 'invalid_type': {
      if (!/^Invalid input: expected/.test(i.message)) return i.message;
      const expected = TYPE_NAMES[i.expected] ?? i.expected;
      if (hasInput(i) && i.input === undefined) return `is required (${expected})`;
      return `must be ${expected}${hasInput(i) ? `, got ${describe(i.input)}` : ''}`;
    }
    case 'invalid_value':
      if (!/^Invalid (option|input)/.test(i.message)) return i.message;
      return i.values.length === 1
        ? `must be ${JSON.stringify(i.values[0])}${hasInput(i) ? `, got ${describe(i.input)}` : ''}`
        : `must be one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}${didYouMean(i.input, i.values)}`;
    case 'too_small':
      return /^Too small/.test(i.message) ? bound(i, 'least', i.minimum, i.inclusive !== false) : i.message;
    case 'too_big':
      return /^Too big/.test(i.message) ? bound(i, 'most', i.maximum, i.inclusive !== false) : i.message;
    case 'not_multiple_of':
      return `must be a multiple of ${String(i.divisor)}`;
    case 'invalid_format':
      return i.message === `Invalid ${i.format}` || /^Invalid (string|email)/.test(i.message)
        ? `must be a valid ${i.format === 'regex' ? 'value' : i.format}${hasInput(i) ? `, got ${describe(i.input)}` : ''}`
        : i.message;
    default:
      return i.message;
  }
};

/**
 * Turn zod issues into config problems: one per unknown key (with "did you mean"), the branch of a union
 * that fits the input best, "is required" for missing keys, and bounds and choices in plain words.
 */
export const configProblems = (
  issues: readonly Issue[],
  prefix: readonly (string | number)[] = [],
): ConfigProblem[] =>
  issues.flatMap((i): ConfigProblem[] => {
    const path = [...prefix, ...(i.path as (string | number)[])];
    if (i.code === 'unrecognized_keys') {
      // strictObject's message: one `"<key>": unknown key, ...` line per key, in the issue's key order.
      const lines = i.message.split('\n');
      return i.keys.map((key, n) => ({
        path: [...path, key],
        message: lines[n]?.startsWith(JSON.stringify(key))
          ? lines[n]!.slice(JSON.stringify(key).length + 2)
          : `unknown key`,
      }));
    }
    if (i.code === 'invalid_key') {
      const inner = (i.issues as Issue[]).map(message).join('; ');
      return [{ path, message: `key ${describe(i.input ?? path[path.length - 1])}: ${inner}` }];
    }
    if (i.code === 'invalid_union') {
      const u = i as Issue & { note?: string; discriminator?: string; options?: unknown[] };
      if (u.note === 'No matching discriminator') {
        const got = (u.input as Record<string, unknown> | undefined)?.[u.discriminator ?? ''];
        const options = u.options ?? [];
        return [
          {
            path,
            message:
              got === undefined
                ? `is required: one of ${options.map((o) => JSON.stringify(o)).join(', ')}`
                : `must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}, got ${describe(got)}${didYouMean(got, options)}`,
          },
        ];
      }
      const branches = (i.errors as Issue[][]).filter((b) => !isTypeMismatch(b));
      if (branches.length) {
        // The branch the input resembles most: the fewest problems (ties: the first listed).
        const best = branches.reduce((a, b) => (b.length < a.length ? b : a));
        return configProblems(best, path);
      }
      const literals = (i.errors as Issue[][]).flatMap((b) =>
        b.flatMap((x) => (x.code === 'invalid_value' ? x.values : [])),
      );
      return [
        {
          path,
          message: `${i.message}${hasInput(i) && typeof i.input === 'string' ? `, got ${describe(i.input)}` : ''}${didYouMean(i.input, literals)}`,
        },
      ];
    }
    return [{ path, message: message(i) }];
  });
