import { suggestion } from './config/suggest.js';

// steward's validation kit for what the functions parse at run time: triggers, events, requests, state and
// environment variables. It is the part of zod/mini's functional API those parsers use, with the same names,
// arguments and semantics (zod stays for the config schema, which the functions never load: ./config/embedded.ts),
// in a few KB instead of zod's ~30 KB per bundle. Messages are plain words naming the field through its path
// (`detail.SourceIdentifier: expected a string, got a number`), never echoing the value (an environment
// variable or a secret may be the input).
//
// Semantics kept from zod (test/shared/valid.test.ts runs every trigger schema through both on generated
// inputs): objects strip unknown keys (`looseObject` keeps them, `strictObject` refuses them), a missing
// optional key stays missing, `_default` replaces undefined without parsing it, checks after a failed type do
// not run but checks after a failed check do (a `when` decides for itself), lengths count code points,
// numbers are finite and integers safe, a union returns its first match (or the only branch that got past its
// types), a discriminated union picks its branch by the discriminator.

/** One thing wrong with an input: where (relative to the value parsed) and what. */
export interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  /** A failed check on a value of the right type: the checks after it still run (zod's `continue`). */
  continue?: boolean;
  input?: unknown;
  [extra: string]: unknown;
}

/** A value being parsed and what was found wrong with it so far. */
export interface Payload {
  value: unknown;
  issues: Issue[];
  /** No check may run on the value (a pipe stopped before its end). */
  aborted?: boolean;
}

export type SafeParseResult<T> =
  | { success: true; data: T; error?: undefined }
  | { success: false; data?: undefined; error: ValidationError };

/** What `parse` throws: the issues, the first few rendered as `path: message` in its message. */
export class ValidationError extends Error {
  override name = 'ValidationError';
  constructor(readonly issues: Issue[]) {
    super(
      issues
        .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(root)'}: ${i.message}`)
        .join('; '),
    );
  }
}

/** A message argument: the text, or zod's `{ message }` / `{ error }` (with a path and abort for refine). */
export type Params = string | { message?: string; error?: string; path?: PropertyKey[]; abort?: boolean };

const text = (p: Params | undefined): string | undefined =>
  typeof p === 'string' ? p : (p?.error ?? p?.message);

/** What a check is, for `test/support` and the config schema to rebuild it in zod (./config/from-valid.ts). */
export type CheckDef =
  | { check: 'minLength' | 'maxLength' | 'minimum' | 'maximum'; value: number; params?: Params }
  | { check: 'positive'; params?: Params }
  | { check: 'regex'; pattern: RegExp; params?: Params }
  | { check: 'refine'; fn: (v: never) => unknown; params?: Params }
  | { check: 'superRefine'; fn: (v: never, ctx: RefinementCtx) => void; when?: (p: Payload) => boolean };

/** A check on a parsed value of type T. */
export interface Check<T> {
  readonly def: CheckDef;
  readonly run: (p: Payload) => void;
  /** Run even after an earlier issue aborted the checks (zod's `when`); absent: only if none did. */
  readonly when?: (p: Payload) => boolean;
  /** Phantom: a check on T applies to every subtype of T. */
  readonly _in?: (value: T) => void;
}

export interface RefinementCtx {
  value: unknown;
  addIssue: (issue: {
    code?: string;
    message: string;
    path?: PropertyKey[];
    [extra: string]: unknown;
  }) => void;
}

/** What a schema is, for rebuilding it in zod (the config schema, and the tests comparing the two). */
export type Def =
  | { type: 'string' | 'number' | 'int' | 'boolean' | 'unknown' | 'url' }
  | { type: 'datetime'; params: DatetimeParams }
  | { type: 'literal'; values: readonly Primitive[] }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'optional' | 'nullable'; inner: Type }
  | { type: 'default'; inner: Type; value: unknown }
  | { type: 'array'; item: Type }
  | { type: 'object'; shape: Shape; mode: 'strip' | 'strict' | 'loose' }
  | { type: 'record'; key: Type; value: Type; partial: boolean }
  | { type: 'union'; options: readonly Type[]; params?: Params }
  | { type: 'discriminatedUnion'; key: string; options: readonly Type[] }
  | { type: 'pipe'; in: Type; out: Type }
  | { type: 'transform'; fn: (v: never) => unknown };

type Primitive = string | number | boolean | null;

/** A schema: parses an input of type I into an output of type O. */
export class Type<O = unknown, I = unknown> {
  declare readonly _output: O;
  declare readonly _input: I;
  constructor(
    readonly def: Def,
    /** Parses `p.value` in place, adding issues; checks run after it. */
    readonly parseValue: (p: Payload) => void,
    readonly checks: readonly Check<never>[] = [],
  ) {}

  /** The same schema with more checks on its output. */
  check(...checks: Check<O>[]): this {
    const next = Object.create(Object.getPrototypeOf(this) as object) as this;
    return Object.assign(next, this, { checks: [...this.checks, ...(checks as Check<never>[])] });
  }

  run(p: Payload): void {
    this.parseValue(p);
    if (!this.checks.length) return;
    let aborted = p.aborted === true || isAborted(p.issues, 0);
    for (const c of this.checks) {
      if (c.when) {
        if (p.aborted || p.issues.some((i) => i.continue === false) || !c.when(p)) continue;
      } else if (aborted) continue;
      const before = p.issues.length;
      c.run(p);
      if (!aborted && p.issues.length > before) aborted = isAborted(p.issues, before);
    }
  }

  safeParse(input: unknown): SafeParseResult<this['_output']> {
    const p: Payload = { value: input, issues: [] };
    this.run(p);
    return p.issues.length
      ? { success: false, error: new ValidationError(p.issues) }
      : { success: true, data: p.value as this['_output'] };
  }

  parse(input: unknown): this['_output'] {
    const r = this.safeParse(input);
    if (!r.success) throw r.error;
    return r.data;
  }
}

export type output<T extends Type> = T['_output'];
export type input<T extends Type> = T['_input'];
export type { output as infer };

const isAborted = (issues: readonly Issue[], from: number): boolean => {
  for (let i = from; i < issues.length; i++) if (issues[i]!.continue !== true) return true;
  return false;
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a value is, in words (never the value itself). */
const kindOf = (v: unknown): string =>
  v === undefined
    ? 'nothing'
    : v === null
      ? 'null'
      : Array.isArray(v)
        ? 'a list'
        : typeof v === 'number'
          ? Number.isNaN(v)
            ? 'NaN'
            : Number.isFinite(v)
              ? Number.isInteger(v)
                ? 'a whole number'
                : 'a number'
              : 'an infinite number'
          : typeof v === 'boolean'
            ? 'true or false'
            : typeof v === 'object'
              ? 'an object'
              : `a ${typeof v}`;

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
};

const typeIssue = (p: Payload, expected: string, extra?: Partial<Issue>): void => {
  p.issues.push({
    code: 'invalid_type',
    expected,
    path: [],
    message: `expected ${EXPECTED[expected] ?? expected}, got ${kindOf(p.value)}`,
    input: p.value,
    ...extra,
  });
};

const prefixed = (key: PropertyKey, issues: readonly Issue[]): Issue[] =>
  issues.map((i) => ({ ...i, path: [key, ...i.path] }));

const primitive = <O>(type: 'string' | 'boolean' | 'unknown', ok: (v: unknown) => boolean) =>
  new Type<O, O>({ type }, (p) => {
    if (!ok(p.value)) typeIssue(p, type);
  });

export const string = () => primitive<string>('string', (v) => typeof v === 'string');
export const boolean = () => primitive<boolean>('boolean', (v) => typeof v === 'boolean');
export const unknown = () => primitive<unknown>('unknown', () => true);

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export const number = () =>
  new Type<number, number>({ type: 'number' }, (p) => {
    if (!finite(p.value)) typeIssue(p, 'number');
  });

/** A safe integer. */
export const int = () =>
  new Type<number, number>({ type: 'int' }, (p) => {
    // zod's codes: not a number at all, then not whole (which aborts the checks after it).
    if (!finite(p.value)) return typeIssue(p, 'int');
    if (!Number.isInteger(p.value)) return typeIssue(p, 'int', { continue: false });
    if (!Number.isSafeInteger(p.value))
      p.issues.push({
        code: p.value > 0 ? 'too_big' : 'too_small',
        path: [],
        message: 'must be a whole number within ±2^53',
        input: p.value,
        continue: true,
      });
  });

/** Exactly this value (or one of these values). */
export const literal = <const T extends Primitive>(value: T | readonly T[]) => {
  const values: readonly T[] = Array.isArray(value) ? value : [value as T];
  return new Type<T, T>({ type: 'literal', values }, (p) => {
    if (!values.includes(p.value as T)) valueIssue(p, values);
  });
};

const valueIssue = (p: Payload, values: readonly Primitive[]): void => {
  p.issues.push({
    code: 'invalid_value',
    values,
    path: [],
    message:
      values.length === 1
        ? `must be ${JSON.stringify(values[0])}`
        : `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`,
    input: p.value,
  });
};

export type EnumType<T extends readonly string[]> = Type<T[number], T[number]> & { readonly options: T };

/** One of these strings; `.options` lists them. */
export const _enum = <const T extends readonly string[]>(values: T): EnumType<T> =>
  Object.assign(
    new Type<T[number], T[number]>({ type: 'enum', values }, (p) => {
      if (!values.includes(p.value as string)) valueIssue(p, values);
    }),
    { options: values },
  );
export { _enum as enum };

export const optional = <S extends Type>(inner: S) =>
  new Type<output<S> | undefined, input<S> | undefined>({ type: 'optional', inner }, (p) => {
    if (p.value !== undefined) inner.run(p);
  });

export const nullable = <S extends Type>(inner: S) =>
  new Type<output<S> | null, input<S> | null>({ type: 'nullable', inner }, (p) => {
    if (p.value !== null) inner.run(p);
  });

/** `value` (or what it returns) when the input is undefined, unparsed; otherwise the input, parsed. */
export const _default = <S extends Type>(
  inner: S,
  value: NoInfer<Exclude<output<S>, undefined>> | (() => NoInfer<Exclude<output<S>, undefined>>),
) =>
  new Type<Exclude<output<S>, undefined>, input<S> | undefined>({ type: 'default', inner, value }, (p) => {
    if (p.value === undefined) p.value = typeof value === 'function' ? (value as () => unknown)() : value;
    else inner.run(p);
  });

export const array = <S extends Type>(item: S) =>
  new Type<output<S>[], input<S>[]>({ type: 'array', item }, (p) => {
    if (!Array.isArray(p.value)) return typeIssue(p, 'array');
    const out: unknown[] = [];
    (p.value as unknown[]).forEach((v, i) => {
      const q: Payload = { value: v, issues: [] };
      item.run(q);
      if (q.issues.length) p.issues.push(...prefixed(i, q.issues));
      out.push(q.value);
    });
    p.value = out;
  });

export type Shape = Readonly<Record<string, Type>>;
type Flat<T> = { [K in keyof T]: T[K] } & {};
type OptionalKeys<S extends Shape, F extends '_output' | '_input'> = {
  [K in keyof S]: undefined extends S[K][F] ? K : never;
}[keyof S];
type ObjectOf<S extends Shape, F extends '_output' | '_input'> = Flat<
  { [K in Exclude<keyof S, OptionalKeys<S, F>>]: S[K][F] } & { [K in OptionalKeys<S, F>]?: S[K][F] }
>;

export type ObjectType<S extends Shape, O = ObjectOf<S, '_output'>, I = ObjectOf<S, '_input'>> = Type<
  O,
  I
> & {
  readonly shape: S;
};

const objectOf = <S extends Shape, O, I>(
  shape: S,
  mode: 'strip' | 'strict' | 'loose',
): ObjectType<S, O, I> => {
  const keys = Object.keys(shape);
  const known = new Set(keys);
  return Object.assign(
    new Type<O, I>({ type: 'object', shape, mode }, (p) => {
      const input = p.value;
      if (!isObject(input)) return typeIssue(p, 'object');
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const present = key in input;
        const q: Payload = { value: input[key], issues: [] };
        shape[key]!.run(q);
        if (q.issues.length) p.issues.push(...prefixed(key, q.issues));
        if (q.value !== undefined || present) out[key] = q.value;
      }
      if (mode !== 'strip') {
        for (const key of Object.keys(input)) {
          if (known.has(key)) continue;
          // Assigning an own `__proto__` key (JSON.parse makes one) would replace the output's prototype, so
          // a declared key the input left out would read the input's unvalidated value. zod skips it too.
          if (mode === 'loose') {
            if (key !== '__proto__') out[key] = input[key];
          } else
            p.issues.push({
              code: 'unrecognized_keys',
              keys: [key],
              path: [key],
              message: `unknown key, ${suggestion(key, keys)}`,
              input,
              // It describes the input's extra keys, not the parsed value: the object's checks still run.
              continue: true,
            });
        }
      }
      p.value = out;
    }),
    { shape },
  );
};

/** An object of these keys; other keys are dropped. */
export const object = <S extends Shape>(shape: S) =>
  objectOf<S, ObjectOf<S, '_output'>, ObjectOf<S, '_input'>>(shape, 'strip');
/** An object of these keys; any other key is an issue naming it (and the closest known key). */
export const strictObject = <S extends Shape>(shape: S) =>
  objectOf<S, ObjectOf<S, '_output'>, ObjectOf<S, '_input'>>(shape, 'strict');
/** An object of at least these keys; other keys are kept as they are. */
export const looseObject = <S extends Shape>(shape: S) =>
  objectOf<
    S,
    ObjectOf<S, '_output'> & Record<string, unknown>,
    ObjectOf<S, '_input'> & Record<string, unknown>
  >(shape, 'loose');

/** `base` with more (or replaced) keys, in the same mode; its checks are not carried over. */
export const extend = <B extends Shape, S extends Shape>(base: ObjectType<B>, shape: S) => {
  const def = base.def as Extract<Def, { type: 'object' }>;
  type M = Flat<Omit<B, keyof S> & S>;
  return objectOf<M, ObjectOf<M, '_output'>, ObjectOf<M, '_input'>>(
    { ...base.shape, ...shape } as M,
    def.mode,
  );
};

/** `base` with only these keys, in the same mode. */
export const pick = <B extends Shape, K extends keyof B & string>(
  base: ObjectType<B>,
  keys: Record<K, true>,
) => {
  const def = base.def as Extract<Def, { type: 'object' }>;
  type M = Pick<B, K>;
  const shape = Object.fromEntries(Object.keys(keys).map((k) => [k, base.shape[k]!])) as unknown as M;
  return objectOf<M, ObjectOf<M, '_output'>, ObjectOf<M, '_input'>>(shape, def.mode);
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  isObject(v) && [Object.prototype, null].includes(Object.getPrototypeOf(v) as object | null);

const recordOf = <K extends Type<string, string>, V extends Type, O, I>(key: K, value: V, partial: boolean) =>
  new Type<O, I>({ type: 'record', key, value, partial }, (p) => {
    const input = p.value;
    if (!isPlainObject(input)) return typeIssue(p, 'object');
    const out: Record<string, unknown> = {};
    const keys = key.def.type === 'enum' || key.def.type === 'literal' ? key.def.values : undefined;
    // A full record of an enumerated key set has every key: a missing one is parsed as undefined.
    const missing = keys && !partial ? keys.map(String).filter((k) => !Object.hasOwn(input, k)) : [];
    for (const k of [...Object.keys(input), ...missing]) {
      if (k === '__proto__') continue;
      const kp: Payload = { value: k, issues: [] };
      key.run(kp);
      if (kp.issues.length && keys) {
        // A key outside an enumerated set is unknown (as in a strict object), not invalid.
        p.issues.push({
          code: 'unrecognized_keys',
          keys: [k],
          path: [k],
          message: `unknown key, ${suggestion(k, keys.map(String))}`,
          input,
          continue: true,
        });
        continue;
      }
      if (kp.issues.length) {
        p.issues.push({
          code: 'invalid_key',
          path: [k],
          issues: kp.issues,
          message: `not an accepted key: ${kp.issues.map((i) => i.message).join('; ')}`,
          input: k,
        });
        continue;
      }
      const q: Payload = { value: input[k], issues: [] };
      value.run(q);
      if (q.issues.length) p.issues.push(...prefixed(k, q.issues));
      out[kp.value as string] = q.value;
    }
    p.value = out;
  });

/** An object whose every key parses with `key` and value with `value`. */
export const record = <K extends Type<string, string>, V extends Type>(key: K, value: V) =>
  recordOf<K, V, Record<output<K>, output<V>>, Record<input<K>, input<V>>>(key, value, false);
/** A record whose keys (an enum) may each be missing. */
export const partialRecord = <K extends Type<string, string>, V extends Type>(key: K, value: V) =>
  recordOf<K, V, Partial<Record<output<K>, output<V>>>, Partial<Record<input<K>, input<V>>>>(
    key,
    value,
    true,
  );

const unionIssue = (p: Payload, branches: readonly Payload[], params?: Params): void => {
  p.issues.push({
    code: 'invalid_union',
    path: [],
    errors: branches.map((b) => b.issues),
    message: text(params) ?? 'matches none of the accepted forms',
    input: p.value,
  });
};

/** The first option that accepts the input; else the only option that got past its types, else an issue. */
export const union = <const T extends readonly Type[]>(options: T, params?: Params) =>
  new Type<output<T[number]>, input<T[number]>>({ type: 'union', options, params }, (p) => {
    const tried: Payload[] = [];
    for (const o of options) {
      const q: Payload = { value: p.value, issues: [] };
      o.run(q);
      if (!q.issues.length) {
        p.value = q.value;
        return;
      }
      tried.push(q);
    }
    const typed = tried.filter((q) => !q.aborted && !isAborted(q.issues, 0));
    if (typed.length === 1) {
      p.value = typed[0]!.value;
      p.issues.push(...typed[0]!.issues);
      return;
    }
    unionIssue(p, tried, params);
  });

type Discriminable = ObjectType<Record<string, Type>, unknown, unknown>;

/** The option whose `key` (a literal) matches the input's. */
export const discriminatedUnion = <const T extends readonly Discriminable[]>(key: string, options: T) => {
  let byValue: Map<unknown, Discriminable> | undefined;
  const map = () => {
    byValue = new Map();
    for (const o of options) {
      const d = o.shape[key]!.def as Extract<Def, { type: 'literal' }>;
      for (const v of d.values) byValue.set(v, o);
    }
    return byValue;
  };
  return new Type<output<T[number]>, input<T[number]>>({ type: 'discriminatedUnion', key, options }, (p) => {
    if (!isObject(p.value)) return typeIssue(p, 'object');
    const option = (byValue ?? map()).get(p.value[key]);
    if (option) return option.run(p);
    const values = [...(byValue ?? map()).keys()];
    p.issues.push({
      code: 'invalid_union',
      note: 'No matching discriminator',
      discriminator: key,
      options: values,
      path: [key],
      errors: [],
      message:
        p.value[key] === undefined
          ? `is required: one of ${values.map((v) => JSON.stringify(v)).join(', ')}`
          : `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`,
      input: p.value,
    });
  });
};

/** `b` run on what `a` gives, when `a` found nothing wrong. */
export const pipe = <A extends Type, B extends Type<unknown, output<A>>>(
  a: A,
  b: B | Type<unknown, output<A>>,
): Type<output<B>, input<A>> =>
  new Type<output<B>, input<A>>({ type: 'pipe', in: a, out: b }, (p) => {
    a.run(p);
    // Any issue but an unknown key stops the pipe: a failed check never feeds its transform.
    if (p.issues.some((i) => i.code !== 'unrecognized_keys')) p.aborted = true;
    else b.run(p);
  });

/** The value, mapped by `fn` (in a `pipe`). */
export const transform = <I = unknown, O = I>(fn: (value: I) => O) =>
  new Type<O, I>({ type: 'transform', fn }, (p) => {
    p.value = fn(p.value as I);
  });

type DatetimeParams = {
  offset?: boolean;
  local?: boolean;
  precision?: number;
  message?: string;
  error?: string;
};

const DATE = `(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))`;
const time = (precision: number | undefined, seconds: boolean): string => {
  const hhmm = `(?:[01]\\d|2[0-3]):[0-5]\\d`;
  if (precision === -1) return hhmm;
  if (precision === 0) return `${hhmm}:[0-5]\\d`;
  if (typeof precision === 'number') return `${hhmm}:[0-5]\\d\\.\\d{${precision}}`;
  return seconds ? `${hhmm}:[0-5]\\d(?:\\.\\d+)?` : `${hhmm}(?::[0-5]\\d(?:\\.\\d+)?)?`;
};

/** ISO-8601 (RFC 3339) formats, as zod's `z.iso` accepts them. */
export const iso = {
  /** A date and time: `Z` (or, with `offset`, `±hh:mm`); seconds required with either; `local` allows neither. */
  datetime: (params: DatetimeParams = {}) => {
    const zone = params.offset ? `(?:Z|([+-](?:[01]\\d|2[0-3]):[0-5]\\d))` : `(?:Z)`;
    const qualified = `${time(params.precision, true)}${zone}`;
    const re = new RegExp(
      `^${DATE}T(?:${params.local ? `${qualified}|${time(params.precision, false)}` : qualified})$`,
    );
    const message = text(params) ?? 'must be an ISO-8601 date and time such as 2026-01-15T03:00:00Z';
    return new Type<string, string>({ type: 'datetime', params }, (p) => {
      if (typeof p.value !== 'string') return typeIssue(p, 'string');
      if (!re.test(p.value))
        p.issues.push({
          code: 'invalid_format',
          format: 'datetime',
          path: [],
          message,
          input: p.value,
          continue: true,
        });
    });
  },
};

/** A URL the WHATWG parser accepts (trimmed, without tabs and newlines). */
export const url = () =>
  new Type<string, string>({ type: 'url' }, (p) => {
    if (typeof p.value !== 'string') return typeIssue(p, 'string');
    const trimmed = p.value.trim();
    if (URL.canParse(trimmed)) p.value = trimmed.replace(/[\t\n\r]/g, '');
    else
      p.issues.push({
        code: 'invalid_format',
        format: 'url',
        path: [],
        message: 'must be a URL',
        input: p.value,
        continue: true,
      });
  });

// Checks.

const hasLength = (p: Payload): boolean =>
  p.value !== null && p.value !== undefined && (p.value as { length?: unknown }).length !== undefined;

const lengthOf = (v: string | readonly unknown[]): number =>
  typeof v === 'string' ? [...v].length : v.length;

const lengthCheck = (
  kind: 'minLength' | 'maxLength',
  value: number,
  params?: Params,
): Check<string | readonly unknown[]> => ({
  def: { check: kind, value, params },
  when: hasLength,
  run: (p) => {
    const v = p.value as string | unknown[];
    const n = lengthOf(v);
    if (kind === 'minLength' ? n >= value : n <= value) return;
    const unit =
      typeof v === 'string' ? `character${value === 1 ? '' : 's'}` : `item${value === 1 ? '' : 's'}`;
    const bound = kind === 'minLength' ? 'least' : 'most';
    p.issues.push({
      code: kind === 'minLength' ? 'too_small' : 'too_big',
      path: [],
      message:
        text(params) ??
        (typeof v === 'string'
          ? `must be at ${bound} ${value} ${unit} long`
          : `must have at ${bound} ${value} ${unit}`),
      input: v,
      continue: true,
    });
  },
});

export const minLength = (value: number, params?: Params) => lengthCheck('minLength', value, params);
export const maxLength = (value: number, params?: Params) => lengthCheck('maxLength', value, params);

const bound = (kind: 'minimum' | 'maximum' | 'positive', value: number, params?: Params): Check<number> => ({
  def: kind === 'positive' ? { check: kind, params } : { check: kind, value, params },
  run: (p) => {
    const v = p.value as number;
    if (kind === 'minimum' ? v >= value : kind === 'maximum' ? v <= value : v > 0) return;
    p.issues.push({
      code: kind === 'maximum' ? 'too_big' : 'too_small',
      path: [],
      message:
        text(params) ??
        (kind === 'positive'
          ? 'must be more than 0'
          : `must be at ${kind === 'minimum' ? 'least' : 'most'} ${value}`),
      input: v,
      continue: true,
    });
  },
});

export const minimum = (value: number, params?: Params) => bound('minimum', value, params);
export const maximum = (value: number, params?: Params) => bound('maximum', value, params);
export const positive = (params?: Params) => bound('positive', 0, params);

export const regex = (pattern: RegExp, params?: Params): Check<string> => ({
  def: { check: 'regex', pattern, params },
  run: (p) => {
    pattern.lastIndex = 0;
    if (pattern.test(p.value as string)) return;
    p.issues.push({
      code: 'invalid_format',
      format: 'regex',
      path: [],
      message: text(params) ?? `must match ${String(pattern)}`,
      input: p.value,
      continue: true,
    });
  },
});

/** A check that `fn` holds; else an issue with the message (at `path` below the value, if given). */
export const refine = <T>(fn: (value: T) => unknown, params?: Params): Check<T> => ({
  def: { check: 'refine', fn, params },
  run: (p) => {
    if (fn(p.value as T)) return;
    const abort = typeof params === 'object' && params.abort === true;
    p.issues.push({
      code: 'custom',
      path: [...((typeof params === 'object' && params.path) || [])],
      message: text(params) ?? 'is invalid',
      input: p.value,
      continue: !abort,
    });
  },
});

/** A check that adds its own issues; `when` decides whether it runs after an earlier issue. */
export const superRefine = <T>(
  fn: (value: T, ctx: RefinementCtx) => void,
  params: { when?: (p: Payload) => boolean } = {},
): Check<T> => ({
  def: { check: 'superRefine', fn, when: params.when },
  ...(params.when ? { when: params.when } : {}),
  run: (p) => {
    fn(p.value as T, {
      value: p.value,
      addIssue: (i) =>
        p.issues.push({
          ...i,
          code: i.code ?? 'custom',
          path: i.path ?? [],
          input: i.input ?? p.value,
          continue: true,
        }),
    });
  },
});

/**
 * A cross-field check that runs even when other parts of the object failed (every problem is reported at
 * once), as long as the keys it reads have the right types. `fn` must read only the `reads` keys.
 */
export const crossCheck = <T>(
  reads: readonly (keyof T & string)[],
  fn: (value: T, ctx: RefinementCtx) => void,
) =>
  superRefine<T>(fn, {
    // An issue with `continue: true` is a failed check on a well-typed value (a bound, a pattern); any other
    // (a wrong type, a missing key) leaves input that `fn` cannot read safely.
    when: (p) =>
      !p.issues.some(
        (i) =>
          i.code !== 'unrecognized_keys' &&
          i.continue !== true &&
          // zod (the config, through ./config/from-valid.ts) leaves a root issue's path unset.
          (!(i.path as PropertyKey[] | undefined)?.length || reads.includes(String(i.path[0]) as never)),
      ),
  });

/**
 * A schema built on its first use rather than at import: a cold start then pays only for the schemas its
 * invoke parses, not for every trigger its function accepts. It behaves as the schema `build` returns (same
 * type, methods, `instanceof`, nesting in other schemas), so declarations read
 * `export const X = v.onFirstUse(() => v.strictObject({ ... }))`. Each call carries the pure annotation (an
 * `@__PURE__` block comment before `v.onFirstUse`): it lets esbuild drop a declaration the function's bundle
 * never reads (a top-level call is otherwise kept as a possible side effect; esbuild honours an annotation on
 * the function itself only within one module, esbuild#4369).
 */
export const onFirstUse = <S extends object>(build: () => S): S => {
  let schema: S | undefined;
  const built = () => (schema ??= build());
  return new Proxy({} as S, {
    get: (_, key) => Reflect.get(built(), key),
    has: (_, key) => Reflect.has(built(), key),
    set: (_, key, value) => Reflect.set(built(), key, value),
    ownKeys: () => Reflect.ownKeys(built()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(built(), key);
      // A proxy may not report a property as non-configurable that its (empty) target lacks.
      return d && { ...d, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(built()),
  });
};
