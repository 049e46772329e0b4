import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { once } from '../../shared/once.js';

describe('once', () => {
  it('runs nothing until called, then runs `load` once: concurrent and later calls share its promise', async () => {
    // Prepare
    const module = { answer: 42 };
    const load = vi.fn(async () => module);

    // Act
    const loadX = once(load);
    const before = load.mock.calls.length;
    const first = loadX();
    const concurrent = await Promise.all([first, loadX(), loadX()]);
    const later = loadX();

    // Assert
    expect(before).toBe(0);
    expect(load).toHaveBeenCalledTimes(1);
    expect(concurrent).toEqual([module, module, module]);
    expect(concurrent[0]).toBe(module);
    expect(later).toBe(first);
    expect(await later).toBe(module);
  });

  it('does not keep a rejection: its callers see it, the next call loads again and that result is kept', async () => {
    // Prepare: an import that fails the first time (a throttled or cut-off read of the chunk), then works.
    const module = { answer: 42 };
    const load = vi
      .fn<() => Promise<typeof module>>()
      .mockRejectedValueOnce(new Error('EMFILE: too many open files'))
      .mockResolvedValue(module);
    const loadX = once(load);

    // Act
    const failed = await Promise.allSettled([loadX(), loadX()]);
    const retried = await loadX();
    const kept = await loadX();

    // Assert
    expect(failed).toEqual([
      { status: 'rejected', reason: new Error('EMFILE: too many open files') },
      { status: 'rejected', reason: new Error('EMFILE: too many open files') },
    ]);
    expect(retried).toBe(module);
    expect(kept).toBe(module);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('loads a real module by its dynamic import once, as the lazy modules use it', async () => {
    // Prepare
    const loadValid = once(() => import('../../shared/valid.js'));

    // Act
    const [a, b] = [await loadValid(), await loadValid()];

    // Assert
    expect(typeof a.onFirstUse).toBe('function');
    expect(b).toBe(a);
  });

  it('is how shared/ and functions/ keep a loaded module: no promise of an import() of their own', () => {
    // Prepare: the IAM attribution (test/iam/attribution.ts) reads a loaded module in the form
    // `const loadX = once(() => import('./x.js'))`; a module's own `(loadedX ??= import('./x.js'))` it would
    // read as a bare import (every export of x.js credited to the role), so none may come back.
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
      );
    const files = [...walk('shared'), ...walk('functions')];

    // Act
    const kept = files.filter((f) => /\?\?=\s*import\(/.test(readFileSync(f, 'utf8')));
    const loaders = files.filter((f) => /once\(\(\) => import\(/.test(readFileSync(f, 'utf8')));

    // Assert
    expect(kept).toEqual([]);
    expect(loaders.length).toBeGreaterThan(5);
  });
});
