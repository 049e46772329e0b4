import { beforeEach, describe, expect, it, vi } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// Every zod constructor a module calls, counted: importing a trigger parser must build no schema (a cold start
// pays only for the schemas its invoke parses), and parsing builds them once.
const built = vi.hoisted(() => ({ calls: 0 }));
vi.mock('../../shared/zod.js', async (importOriginal) => {
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

const { onFirstUse } = await import('../../shared/zod.js');
const z = await import('../../shared/zod.js');

describe('schemas built on first use', () => {
  beforeEach(() => {
    built.calls = 0;
  });

  it('builds nothing until first used, then once, and behaves as the schema it builds', () => {
    // Prepare
    const build = vi.fn(() => z.strictObject({ id: z.string(), n: z.optional(z.int()) }));
    const Item = onFirstUse(build);
    expect(build).not.toHaveBeenCalled();

    // Act
    const ok = Item.safeParse({ id: 'a', n: 1 });
    const bad = Item.safeParse({ id: 1, extra: true });
    const list = z.array(Item).parse([{ id: 'b' }]);

    // Assert
    expect(build).toHaveBeenCalledTimes(1);
    expect(ok).toEqual({ success: true, data: { id: 'a', n: 1 } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.') || i.code)).toEqual(['id', 'unrecognized_keys']);
    expect(list).toEqual([{ id: 'b' }]);
    expect(Item instanceof z.ZodMiniObject).toBe(true);
  });

  it.each([
    ['backup', '../../shared/backup/request.js'],
    ['retention', '../../shared/retention/request.js'],
    ['scaling', '../../shared/scaling/request.js'],
    ['cost', '../../shared/cost/request.js'],
    ['report', '../../shared/report/request.js'],
    ['drill state', '../../shared/drill/state.js'],
    ['drill task', '../../shared/drill/tasks.js'],
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

  it('a parse builds only what it parses: a scheduled backup, not the RDS, Health or pre-change schemas', async () => {
    // Prepare
    vi.resetModules();
    const { parseBackupRequest } = await import('../../shared/backup/request.js');
    const { HealthEvent } = await import('../../shared/backup/request.js');
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

    // Act: each `z.onFirstUse(` call in code (not in a comment) without the annotation right before it.
    const unmarked = files.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .map((line, i) => ({ line, at: `${f}:${i + 1}` }))
        .filter(({ line }) => /=\s*z\.onFirstUse\(/.test(line) && !line.trimStart().startsWith('*'))
        .filter(({ line }) => !/\/\* @__PURE__ \*\/\s*z\.onFirstUse\(/.test(line))
        .map(({ at }) => at),
    );

    // Assert
    expect(files.length).toBeGreaterThan(50);
    expect(unmarked).toEqual([]);
  });
});
