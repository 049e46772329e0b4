import * as z from '../zod.js';
import type * as v from '../valid.js';
import { strictObject } from './strict.js';

/**
 * The zod schema of a `shared/valid.ts` schema: the same constructors with the same arguments, so a part the
 * functions parse at run time (a snapshot selector, a verification profile) is declared once and the config
 * schema validates it exactly as before, with the config's messages ("did you mean", bounds in plain words:
 * ./issues.ts). A strict object becomes the config's `strictObject` (./strict.ts). The functions never load
 * this module (test/infra/bundles.test.ts); the tests use it to check the kit against zod.
 */
export const zodOf = <S extends v.Type>(schema: S): z.ZodMiniType<v.output<S>, v.input<S>> =>
  withChecks(base(schema.def), schema.checks) as never;

const params = (p: v.Params | undefined) =>
  p === undefined
    ? undefined
    : typeof p === 'string'
      ? p
      : {
          ...(p.error ? { error: p.error } : {}),
          ...(p.message ? { message: p.message } : {}),
          ...(p.path ? { path: p.path } : {}),
          ...(p.abort ? { abort: p.abort } : {}),
        };

const check = (c: v.CheckDef): z.core.$ZodCheck<never> => {
  switch (c.check) {
    case 'minLength':
      return z.minLength(c.value, params(c.params) as never) as never;
    case 'maxLength':
      return z.maxLength(c.value, params(c.params) as never) as never;
    case 'minimum':
      return z.minimum(c.value, params(c.params) as never) as never;
    case 'maximum':
      return z.maximum(c.value, params(c.params) as never) as never;
    case 'positive':
      return z.positive(params(c.params) as never) as never;
    case 'regex':
      return z.regex(c.pattern, params(c.params) as never) as never;
    case 'refine':
      return z.refine(c.fn as (v: unknown) => unknown, params(c.params) as never) as never;
    case 'superRefine':
      return z.superRefine(c.fn as never, c.when ? { when: c.when as never } : undefined) as never;
  }
};

const withChecks = (s: z.ZodMiniType, checks: readonly v.Check<never>[]): z.ZodMiniType =>
  checks.length ? s.check(...(checks.map((c) => check(c.def)) as never[])) : s;

const shapeOf = (shape: v.Shape) => Object.fromEntries(Object.entries(shape).map(([k, s]) => [k, zodOf(s)]));

const base = (d: v.Def): z.ZodMiniType => {
  switch (d.type) {
    case 'string':
      return z.string();
    case 'number':
      return z.number();
    case 'int':
      return z.int();
    case 'boolean':
      return z.boolean();
    case 'unknown':
      return z.unknown();
    case 'url':
      return z.url();
    case 'datetime':
      return z.iso.datetime(d.params);
    case 'literal':
      return z.literal(d.values.length === 1 ? d.values[0]! : (d.values as never));
    case 'enum':
      return z.enum(d.values as [string, ...string[]]);
    case 'optional':
      return z.optional(zodOf(d.inner));
    case 'nullable':
      return z.nullable(zodOf(d.inner));
    case 'default':
      return z._default(zodOf(d.inner), d.value as never);
    case 'array':
      return z.array(zodOf(d.item));
    case 'object':
      return d.mode === 'strict'
        ? strictObject(shapeOf(d.shape))
        : d.mode === 'loose'
          ? z.looseObject(shapeOf(d.shape))
          : z.object(shapeOf(d.shape));
    case 'record':
      return (d.partial ? z.partialRecord : z.record)(zodOf(d.key) as never, zodOf(d.value));
    case 'union':
      return z.union(
        d.options.map((o) => zodOf(o)),
        params(d.params) as never,
      );
    case 'discriminatedUnion':
      return z.discriminatedUnion(d.key, d.options.map((o) => zodOf(o)) as never);
    case 'pipe':
      return z.pipe(zodOf(d.in), zodOf(d.out) as never);
    case 'transform':
      return z.transform(d.fn as (v: unknown) => unknown);
  }
};
