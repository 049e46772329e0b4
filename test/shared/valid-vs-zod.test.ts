import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as v from '../../shared/valid.js';
import { zodOf } from '../../shared/config/from-valid.js';

// The functions parse their triggers, events, state and environments with steward's kit (shared/valid.ts)
// instead of zod. Every schema they export is checked here against zod itself: `zodOf` rebuilds it with the
// same zod constructors and arguments it was written with before the kit, and both parse inputs generated
// from the schema (mostly well formed, with a wrong type, a missing or unknown key, an out-of-range number or
// an off-pattern string here and there). They must accept exactly the same inputs, give the same output, and
// name the same fields.

const MODULES = {
  'backup request': () => import('../../shared/backup/request.js'),
  'backup AWS events': () => import('../../shared/backup/events.js'),
  'backup env': () => import('../../shared/backup/env.js'),
  'retention request': () => import('../../shared/retention/request.js'),
  'retention env': () => import('../../shared/retention/env.js'),
  'scaling request': () => import('../../shared/scaling/request.js'),
  'scaling env': () => import('../../shared/scaling/env.js'),
  'cost request': () => import('../../shared/cost/request.js'),
  'cost env': () => import('../../shared/cost/env.js'),
  'report request': () => import('../../shared/report/request.js'),
  'report env': () => import('../../shared/report/env.js'),
  'drill state': () => import('../../shared/drill/state.js'),
  'drill tasks': () => import('../../shared/drill/tasks.js'),
  'drill task state': () => import('../../shared/drill/task-core.js'),
  'drill restore events': () => import('../../shared/drill/restore-events.js'),
  'drill execution end': () => import('../../shared/drill/execution-end.js'),
  'drill env': () => import('../../shared/drill/env.js'),
  'drill endpoints': () => import('../../shared/drill/endpoints.js'),
  'verification profile': () => import('../../shared/drill/profile.js'),
  'Redis verification profile': () => import('../../shared/drill/redis/profile.js'),
  'fleet fan-out': () => import('../../shared/fleet/fan-out.js'),
  'fleet forwarded event': () => import('../../shared/fleet/forwarded.js'),
  'fleet organization': () => import('../../shared/fleet/organization.js'),
  'Map Run results': () => import('../../shared/aws/map-run-results.js'),
  'drill network': () => import('../../shared/aws/drill-network.js'),
  secrets: () => import('../../shared/aws/secrets.js'),
  'RDS events': () => import('../../shared/rds-events.js'),
  'function env': () => import('../../shared/config/env.js'),
  'config parts': () => import('../../shared/config/parts.js'),
} satisfies Record<string, () => Promise<Record<string, unknown>>>;

/** Anything at all, for where a schema expects something else. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -3, max: 3 }),
  fc.double(),
  fc.string({ maxLength: 6 }),
  fc.constant([]),
  fc.constant({}),
  fc.constantFrom('true', 'false', '12', '2026-01-15T03:00:00Z', 'x,y'),
);

const dates = fc.date({
  min: new Date('1999-12-30T00:00:00Z'),
  max: new Date('2100-01-01T00:00:00Z'),
  noInvalidDate: true,
});
const isoTimes = fc.oneof(
  dates.map((d) => d.toISOString()),
  dates.map((d) => d.toISOString().replace('.000Z', 'Z')),
  dates.map((d) => d.toISOString().replace(/\.\d+Z$/, '+02:00')),
  dates.map((d) => d.toISOString().replace(/\.\d+Z$/, '.985+0000')),
  dates.map((d) => d.toISOString().slice(0, 16)),
  dates.map((d) => d.toUTCString()),
);

const checksOf = (s: v.Type) => s.checks.map((c) => c.def);

const numbers = (s: v.Type): fc.Arbitrary<unknown> => {
  const bounds = checksOf(s).flatMap((c) => ('value' in c ? [c.value] : []));
  return fc.oneof(
    fc.integer({ min: -2, max: 120 }),
    fc.double({ min: -10, max: 1e7, noNaN: true }),
    fc.constantFrom(...bounds.flatMap((b) => [b - 1, b, b + 1, b + 0.5]), 0, 2 ** 53, -(2 ** 53), Number.NaN),
  );
};

const strings = (s: v.Type): fc.Arbitrary<unknown> => {
  const checks = checksOf(s);
  const patterns = checks.flatMap((c) => (c.check === 'regex' ? [c.pattern] : []));
  const lengths = checks.flatMap((c) =>
    c.check === 'minLength' || c.check === 'maxLength' ? [c.value] : [],
  );
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.oneof(
        ...patterns.map((p) => fc.stringMatching(new RegExp(p.source), { size: 'small' })),
        fc.string(),
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        ...lengths.flatMap((n) => ['a'.repeat(n), 'b'.repeat(n + 1)]),
        '',
        ' ',
        'x{{y',
      ),
    },
    { weight: 1, arbitrary: isoTimes },
  );
};

/** Inputs for `s`: half well formed, half its own shape with noise (sometimes anything) at every level. */
const inputs = (s: v.Type): fc.Arbitrary<unknown> => fc.oneof(clean(s, 0), noisy(s, 0));

const noisy = (s: v.Type, depth: number): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 12, arbitrary: shaped(s, depth) }, { weight: 1, arbitrary: junk });

/** What `s` should accept: every key, values matching their patterns and within their bounds. */
const clean = (s: v.Type, depth: number): fc.Arbitrary<unknown> => {
  const d = s.def;
  const deeper = (t: v.Type) => (depth > 8 ? junk : clean(t, depth + 1));
  const checks = checksOf(s);
  switch (d.type) {
    case 'string': {
      const patterns = checks.flatMap((c) => (c.check === 'regex' ? [c.pattern] : []));
      const min = Math.max(0, ...checks.flatMap((c) => (c.check === 'minLength' ? [c.value] : [])));
      const max = Math.min(40, ...checks.flatMap((c) => (c.check === 'maxLength' ? [c.value] : [])));
      // Mostly the pattern's own strings: a schema with several patterned fields (DrillEnv has six) must still
      // be accepted whole often enough for the accepted-count check below (at even odds it saw none in 1 run of 10).
      return patterns.length
        ? fc.oneof(
            ...patterns.map((p) => ({
              weight: 4,
              arbitrary: fc.stringMatching(new RegExp(p.source), { size: 'small' }),
            })),
            { weight: 1, arbitrary: isoTimes },
          )
        : fc.oneof(
            fc.string({ minLength: min, maxLength: Math.max(min, max) }).filter((x) => x.trim() !== ''),
            isoTimes,
          );
    }
    case 'number':
    case 'int': {
      const min = Math.max(
        -1000,
        ...checks.flatMap((c) => (c.check === 'minimum' ? [c.value] : c.check === 'positive' ? [1] : [])),
      );
      const max = Math.min(1e6, ...checks.flatMap((c) => (c.check === 'maximum' ? [c.value] : [])));
      return fc.integer({ min, max: Math.max(min, max) });
    }
    case 'literal':
    case 'enum':
      return fc.constantFrom(...d.values);
    case 'record':
      return fc.dictionary(
        deeper(d.key).filter((k): k is string => typeof k === 'string'),
        deeper(d.value),
        {
          maxKeys: 3,
        },
      );
    case 'object':
      return fc.record(Object.fromEntries(Object.keys(d.shape).map((k) => [k, deeper(d.shape[k]!)])));
    default:
      return wrapping(s, deeper) ?? shaped(s, depth);
  }
};

const shaped = (s: v.Type, depth: number): fc.Arbitrary<unknown> => {
  const d = s.def;
  const deeper = (t: v.Type) => (depth > 8 ? junk : noisy(t, depth + 1));
  switch (d.type) {
    case 'string':
      return strings(s);
    case 'number':
    case 'int':
      return numbers(s);
    case 'boolean':
      return fc.boolean();
    case 'unknown':
    case 'transform':
      return junk;
    case 'url':
      return fc.oneof(fc.webUrl(), fc.constantFrom(' https://x.test/a\tb ', 'not a url', 'mailto:a@b'));
    case 'datetime':
      return isoTimes;
    case 'literal':
    case 'enum':
      return fc.oneof(
        fc.constantFrom(...d.values),
        fc.constantFrom(...d.values).map((x) => `${String(x)}x`),
      );
    case 'record':
      return fc.dictionary(
        fc.oneof(
          deeper(d.key).filter((k): k is string => typeof k === 'string'),
          fc.string({ maxLength: 4 }),
        ),
        deeper(d.value),
        { maxKeys: 3 },
      );
    case 'object': {
      const keys = Object.keys(d.shape);
      const full = fc.record(Object.fromEntries(keys.map((k) => [k, deeper(d.shape[k]!)])));
      return fc
        .tuple(
          full,
          fc.oneof({ weight: 5, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.subarray(keys) }),
          fc.option(fc.tuple(fc.constantFrom('extra', ...keys.map((k) => `${k}s`)), junk), { freq: 5 }),
        )
        .map(([o, drop, extra]) => {
          const out: Record<string, unknown> = { ...o };
          for (const k of drop) delete out[k];
          for (const k of Object.keys(out)) if (out[k] === undefined && drop.length) delete out[k];
          if (extra) out[extra[0]] = extra[1];
          return out;
        });
    }
    default: {
      const wrapped = wrapping(s, deeper);
      if (!wrapped) throw new Error(`no generator for a ${d.type} schema`);
      return wrapped;
    }
  }
};

/**
 * Inputs for a schema that wraps others (optional, nullable, default, array, pipe, union), built from what
 * `deeper` generates for its parts (well formed for `clean`, noisy for `shaped`); undefined for any other.
 */
const wrapping = (
  s: v.Type,
  deeper: (t: v.Type) => fc.Arbitrary<unknown>,
): fc.Arbitrary<unknown> | undefined => {
  const d = s.def;
  switch (d.type) {
    case 'optional':
    case 'nullable':
    case 'default':
      return fc.oneof(fc.constant(d.type === 'nullable' ? null : undefined), deeper(d.inner));
    case 'array':
      return fc.array(deeper(d.item), { maxLength: 3 });
    case 'pipe':
      return deeper(d.in);
    case 'union':
    case 'discriminatedUnion':
      return fc.oneof(...d.options.map((o) => deeper(o)));
    default:
      return undefined;
  }
};

/** The fields issues name, as `a.b.0` (the root as ''). */
const fieldsOf = (issues: readonly { path: readonly PropertyKey[] }[]): string[] =>
  [...new Set(issues.map((i) => i.path.map(String).join('.')))].sort();

const exported = async (load: () => Promise<Record<string, unknown>>) =>
  Object.entries(await load()).filter((e): e is [string, v.Type] => e[1] instanceof v.Type);

describe('the kit accepts exactly what zod accepted', () => {
  it.each(Object.entries(MODULES))('%s: every exported schema, on generated inputs', async (_, load) => {
    // Prepare
    const schemas = await exported(load);
    expect(schemas.length).toBeGreaterThan(0);

    for (const [name, schema] of schemas) {
      const zod = zodOf(schema);
      let accepted = 0;

      // Act and assert
      fc.assert(
        fc.property(inputs(schema), (input) => {
          const ours = schema.safeParse(structuredClone(input));
          const theirs = zod.safeParse(structuredClone(input));
          expect(
            ours.success,
            `${name}: ${JSON.stringify(input)} ${JSON.stringify(theirs.error?.issues ?? ours.error?.issues)}`,
          ).toBe(theirs.success);
          if (ours.success) {
            accepted++;
            expect(ours.data, name).toEqual(theirs.data);
          } else {
            // The kit names an unknown key in the path; zod names its object (and the key in the message).
            const kit = ours.error.issues.map((i) =>
              i.code === 'unrecognized_keys' ? { path: i.path.slice(0, -1) } : i,
            );
            expect(fieldsOf(kit), `${name}: ${JSON.stringify(input)}`).toEqual(
              fieldsOf(theirs.error!.issues),
            );
          }
        }),
        { numRuns: 150 },
      );
      // Each schema saw inputs it accepts (the generator reaches its well-formed shape), not only refusals.
      expect(accepted, name).toBeGreaterThan(0);
    }
  });
});
