import { beforeEach, describe, expect, it, vi } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIssues } from '../../shared/errors.js';
import type { SafeParseResult } from '../../shared/valid.js';

// Every kit constructor a module calls, counted: importing a trigger parser must build no schema (a cold start
// pays only for the schemas its invoke parses), and parsing builds them once.
const built = vi.hoisted(() => ({ calls: 0 }));
vi.mock('../../shared/valid.js', async (importOriginal) => {
  const real = await importOriginal<Record<string, unknown>>();
  const counted = (o: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(o).map(([k, v]) => [
        k,
        typeof v === 'function' && k !== 'onFirstUse' && !/^[A-Z$]/.test(k)
          ? (...args: unknown[]) => {
              built.calls++;
              return (v as (...a: unknown[]) => unknown)(...args);
            }
          : v,
      ]),
    );
  return { ...counted(real), iso: counted(real.iso as Record<string, unknown>) };
});

const v = await import('../../shared/valid.js');

/** The issues of a failed parse as the functions report them: `path: message`. */
const problems = (schema: { safeParse: (x: unknown) => SafeParseResult<unknown> }, input: unknown) => {
  const r = schema.safeParse(input);
  return r.success ? [] : formatIssues(r.error.issues);
};

describe('the validation kit', () => {
  it('names the field and what it expected, never the value', () => {
    // Prepare
    const Event = v.object({
      detail: v.object({ SourceIdentifier: v.string().check(v.minLength(1)), Date: v.optional(v.string()) }),
      'detail-type': v.literal('RDS DB Instance Event'),
    });

    // Act
    const missing = problems(Event, { detail: {}, 'detail-type': 'RDS DB Instance Event' });
    const wrong = problems(Event, { detail: { SourceIdentifier: 42 }, 'detail-type': 'x-secret' });
    const empty = problems(Event, {
      detail: { SourceIdentifier: '' },
      'detail-type': 'RDS DB Instance Event',
    });

    // Assert
    expect(missing).toEqual(['detail.SourceIdentifier: expected a string, got nothing']);
    expect(wrong).toEqual([
      'detail.SourceIdentifier: expected a string, got a whole number',
      'detail-type: must be "RDS DB Instance Event"',
    ]);
    expect(empty).toEqual(['detail.SourceIdentifier: must be at least 1 character long']);
    expect(wrong.join()).not.toContain('x-secret');
  });

  it('strips unknown keys from an object, keeps them in a loose one, and names them in a strict one', () => {
    // Prepare
    const shape = { policy: v.string(), dryRun: v.optional(v.boolean()) };
    const input = { policy: 'daily', dryRn: true };

    // Act
    const stripped = v.object(shape).parse(input);
    const loose = v.looseObject(shape).parse(input);
    const strict = problems(v.strictObject(shape), input);

    // Assert
    expect(stripped).toStrictEqual({ policy: 'daily' });
    expect(loose).toStrictEqual({ policy: 'daily', dryRn: true });
    expect(strict).toEqual(['dryRn: unknown key, did you mean "dryRun"?']);
  });

  it("never takes a loose object's prototype from the input's own __proto__ key, as zod does not", () => {
    // Prepare: JSON.parse makes `__proto__` an own key (a spoke's forwarded event, a secret's JSON).
    const Secret = v.looseObject({ username: v.string(), port: v.optional(v.int()) });
    const input: unknown = JSON.parse('{"username":"u","other":1,"__proto__":{"port":"not-a-port"}}');

    // Act
    const parsed = Secret.parse(input) as Record<string, unknown>;

    // Assert: the unvalidated value is not readable through the declared key, nor kept as a key.
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(parsed.port).toBeUndefined();
    expect(parsed).toStrictEqual({ username: 'u', other: 1 });
  });

  it('applies defaults unparsed, keeps a missing optional key missing, and runs pipes and transforms', () => {
    // Prepare
    const Env = v.object({
      DRY_RUN: v.pipe(
        v._default(v.enum(['true', 'false']), 'false'),
        v.transform((s) => s === 'true'),
      ),
      LIST: v.optional(
        v.pipe(
          v.string(),
          v.transform((s) => s.split(',')),
        ),
      ),
      N: v._default(v.int().check(v.minimum(1)), () => 3),
    });

    // Act
    const out = Env.parse({});
    const set = Env.parse({ DRY_RUN: 'true', LIST: 'a,b', N: 2 });

    // Assert
    expect(out).toStrictEqual({ DRY_RUN: false, N: 3 });
    expect(set).toStrictEqual({ DRY_RUN: true, LIST: ['a', 'b'], N: 2 });
    expect(problems(Env, { DRY_RUN: 'yes', N: 1.5 })).toEqual([
      'DRY_RUN: must be one of "true", "false"',
      'N: expected a whole number, got a number',
    ]);
  });

  it('runs every check of a well-typed value, none of a wrongly typed one, and counts code points', () => {
    // Prepare
    const Name = v
      .string()
      .check(v.minLength(2), v.maxLength(3), v.regex(/^[a-z]+$/, 'lowercase letters only'));

    // Act
    const both = problems(Name, 'ABCD');
    const typed = problems(Name, 7);

    // Assert
    expect(both).toEqual(['(root): must be at most 3 characters long', '(root): lowercase letters only']);
    expect(typed).toEqual(['(root): expected a string, got a whole number']);
    expect(Name.check(v.regex(/./u)).safeParse('😀😀').success).toBe(false);
    expect(v.string().check(v.maxLength(2)).safeParse('😀😀').success).toBe(true);
  });

  it('accepts finite numbers and safe integers only', () => {
    expect(v.number().safeParse(Number.NaN).success).toBe(false);
    expect(v.number().safeParse(Number.POSITIVE_INFINITY).success).toBe(false);
    expect(v.int().safeParse(2 ** 53).success).toBe(false);
    expect(v.int().safeParse(2 ** 53 - 1).success).toBe(true);
    expect(problems(v.number().check(v.positive()), 0)).toEqual(['(root): must be more than 0']);
  });

  it('accepts ISO-8601 date-times as zod does: seconds with a zone, an offset only when allowed', () => {
    // Prepare
    const Utc = v.iso.datetime();
    const Offset = v.iso.datetime({ offset: true, message: 'must be an ISO time' });

    // Act and assert
    expect(Utc.safeParse('2026-01-15T03:00:00Z').success).toBe(true);
    expect(Utc.safeParse('2026-01-15T03:00:00.123Z').success).toBe(true);
    expect(Utc.safeParse('2026-01-15T03:00:00+01:00').success).toBe(false);
    expect(Offset.safeParse('2026-01-15T03:00:00+01:00').success).toBe(true);
    expect(Offset.safeParse('2026-02-29T03:00:00Z').success).toBe(false);
    expect(Offset.safeParse('2028-02-29T03:00:00Z').success).toBe(true);
    expect(problems(Offset, '2026-01-15 03:00')).toEqual(['(root): must be an ISO time']);
  });

  it('picks a union branch: the first match, else the only branch past its types, else one issue', () => {
    // Prepare
    const Selector = v.union(
      [
        v.literal('latest'),
        v.strictObject({ days: v.int().check(v.minimum(1)) }),
        v.strictObject({ id: v.string() }),
      ],
      { error: 'must be latest, { days } or { id }' },
    );
    const Request = v.discriminatedUnion('action', [
      v.object({ action: v.literal('a'), n: v.number() }),
      v.object({ action: v.literal('b') }),
    ]);

    // Act and assert
    expect(Selector.parse({ id: 'snap' })).toEqual({ id: 'snap' });
    expect(problems(Selector, { days: 0 })).toEqual(['days: must be at least 1']);
    expect(problems(Selector, 'oldest')).toEqual(['(root): must be latest, { days } or { id }']);
    expect(Request.parse({ action: 'b', extra: 1 })).toEqual({ action: 'b' });
    expect(problems(Request, { action: 'a' })).toEqual(['n: expected a number, got nothing']);
    expect(problems(Request, { action: 'c' })).toEqual(['action: must be one of "a", "b"']);
    expect(problems(Request, {})).toEqual(['action: is required: one of "a", "b"']);
  });

  it('a cross-field check runs when the keys it reads are well typed, whatever else failed', () => {
    // Prepare
    const Range = v
      .strictObject({ from: v.int(), to: v.int(), label: v.string().check(v.minLength(1)) })
      .check(
        v.crossCheck<{ from: number; to: number }>(['from', 'to'], (r, ctx) => {
          if (r.to < r.from)
            ctx.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
        }),
      );

    // Act and assert
    expect(problems(Range, { from: 2, to: 1, label: '' })).toEqual([
      'label: must be at least 1 character long',
      'to: must not be before from',
    ]);
    expect(problems(Range, { from: 2, to: 1, label: 7 })).toEqual([
      'label: expected a string, got a whole number',
      'to: must not be before from',
    ]);
    expect(problems(Range, { from: 'x', to: 1, label: 'a' })).toEqual([
      'from: expected a whole number, got a string',
    ]);
  });

  it('names a bad record key and a bad item by its place', () => {
    // Prepare
    const Tags = v.record(v.string().check(v.regex(/^[a-z]+$/, 'lowercase only')), v.array(v.string()));

    // Act and assert
    expect(problems(Tags, { ok: ['a', 3], Bad: [] })).toEqual([
      'ok.1: expected a string, got a whole number',
      'Bad: not an accepted key: lowercase only',
    ]);
    expect(() => Tags.parse([])).toThrow(/^\(root\): expected an object, got a list$/);
  });
});

describe('schemas built on first use', () => {
  beforeEach(() => {
    built.calls = 0;
  });

  it('builds nothing until first used, then once, and behaves as the schema it builds', () => {
    // Prepare
    const build = vi.fn(() => v.strictObject({ id: v.string(), n: v.optional(v.int()) }));
    const Item = v.onFirstUse(build);
    expect(build).not.toHaveBeenCalled();

    // Act
    const ok = Item.safeParse({ id: 'a', n: 1 });
    const bad = Item.safeParse({ id: 1, extra: true });
    const list = v.array(Item).parse([{ id: 'b' }]);

    // Assert
    expect(build).toHaveBeenCalledTimes(1);
    expect(ok).toEqual({ success: true, data: { id: 'a', n: 1 } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => `${i.path.join('.')} ${i.code}`)).toEqual([
      'id invalid_type',
      'extra unrecognized_keys',
    ]);
    expect(list).toEqual([{ id: 'b' }]);
    expect(Item instanceof v.Type).toBe(true);
    expect(Object.keys(Item.shape)).toEqual(['id', 'n']);
  });

  it.each([
    ['backup', '../../shared/backup/request.js'],
    ['backup AWS events', '../../shared/backup/events.js'],
    ['retention', '../../shared/retention/request.js'],
    ['scaling', '../../shared/scaling/request.js'],
    ['scaling alarm', '../../shared/scaling/alarm-event.js'],
    ['cost', '../../shared/cost/request.js'],
    ['report', '../../shared/report/request.js'],
    ['drill state', '../../shared/drill/state.js'],
    ['drill task', '../../shared/drill/tasks.js'],
    ['drill task state', '../../shared/drill/task-core.js'],
    ['drill restore events', '../../shared/drill/restore-events.js'],
    ['drill execution end', '../../shared/drill/execution-end.js'],
    ['fleet fan-out', '../../shared/fleet/fan-out.js'],
    ['fleet forwarded-event', '../../shared/fleet/forwarded.js'],
    ['Map Run results', '../../shared/aws/map-run-results.js'],
  ])('importing the %s trigger schemas builds none of them', async (_, path) => {
    // Prepare
    vi.resetModules();
    built.calls = 0;

    // Act
    await import(path);

    // Assert
    expect(built.calls).toBe(0);
  });

  it("importing the drill functions' environments builds none of them (each bundle keeps and builds its own)", async () => {
    // Prepare: the base environment every function parses, imported first (it is built at import).
    vi.resetModules();
    await import('../../shared/config/env.js');
    built.calls = 0;

    // Act
    await import('../../shared/drill/env.js');

    // Assert
    expect(built.calls).toBe(0);
  });

  it('a parse builds only what it parses: a scheduled backup, not the RDS, Health or pre-change schemas', async () => {
    // Prepare
    vi.resetModules();
    const { parseBackupRequest } = await import('../../shared/backup/events.js');
    const { HealthEvent } = await import('../../shared/backup/events.js');
    built.calls = 0;
    const backup = { policies: { daily: {} } } as never;

    // Act
    parseBackupRequest(
      { action: 'scheduled-backup', policy: 'daily', scheduledTime: '2026-01-15T03:00:00Z' },
      backup,
    );
    const scheduled = built.calls;
    HealthEvent.safeParse({});

    // Assert
    expect(scheduled).toBeGreaterThan(0);
    expect(built.calls).toBeGreaterThan(scheduled);
  });
});

describe('every declaration built on first use is marked pure', () => {
  it('carries the @__PURE__ annotation, so esbuild can drop a schema a bundle never reads', () => {
    // Prepare: every source file the functions can import (the CLI, bench and tests are never bundled).
    const roots = ['shared', 'functions'];
    const files = roots.flatMap((r) =>
      readdirSync(r, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
        .map((f) => join(r, f)),
    );

    // Act: each `v.onFirstUse(` call in code (not in a comment) without the annotation right before it.
    const lines = files.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${f}:${i + 1}` }))
        .filter(({ line }) => /=.*\bv\.onFirstUse\(/.test(line) && !line.trimStart().startsWith('*')),
    );
    const unmarked = lines
      .filter(({ line }) => !/\/\* @__PURE__ \*\/\s*v\.onFirstUse\(/.test(line))
      .map(({ at }) => at);

    // Assert
    expect(files.length).toBeGreaterThan(50);
    expect(lines.length).toBeGreaterThan(50);
    expect(unmarked).toEqual([]);
  });
});
