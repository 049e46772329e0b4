import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { functionBuildOptions, lambdaEsbuildOptions } from '../../infra/bundling.js';
import { mapStack } from '../../shared/stack-traces.js';

const SOURCE = new URL('../../shared/stack-traces.ts', import.meta.url).pathname;
// The entry lives in a temp dir: its imports resolve from the project's node_modules.
const nodePaths = [new URL('../../node_modules', import.meta.url).pathname];

describe('readable stack traces without --enable-source-maps', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stack-traces-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Bundle `source` as the functions are bundled (external source map), run its handler, return the stack. */
  const thrownStack = async (source: string, nodeFlags: string[] = []) => {
    const entry = join(dir, 'entry.ts');
    writeFileSync(entry, source.replace('STACK_TRACES', JSON.stringify(SOURCE)));
    const outfile = join(dir, 'index.mjs');
    await build({
      ...lambdaEsbuildOptions,
      sourcemap: true,
      nodePaths,
      entryPoints: [entry],
      outfile,
      logLevel: 'silent',
    });
    const run = `import(${JSON.stringify(pathToFileURL(outfile).href)}).then((m) => m.handler({}, {})).catch((e) => process.stdout.write(e.stack + '\\n--cause--\\n' + e.cause?.stack))`;
    return execFileSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', run], {
      encoding: 'utf8',
    });
  };

  const handlerSource = `import middy from '@middy/core';
import { readableStacks } from STACK_TRACES;

const fail = (): never => {
  throw new Error('boom', { cause: new TypeError('underneath') });
};

export const handler = middy()
  .use(readableStacks())
  .handler(async () => fail());
`;

  it('maps an error leaving the handler to the TypeScript source, line and column, causes too', async () => {
    // Act
    const stack = await thrownStack(handlerSource);

    // Assert: `fail` throws on line 5 of entry.ts (its name is minified, as without a map); no frame
    // points into the minified bundle.
    const [error, cause] = stack.split('\n--cause--\n');
    expect(error).toMatch(/^Error: boom\n\s+at \S+ \(entry\.ts:5:\d+\)/);
    expect(cause).toMatch(/^TypeError: underneath\n\s+at \S+ \(entry\.ts:5:\d+\)/);
    expect(stack).not.toMatch(/index\.mjs:\d+:\d+/);
  });

  it('is what Node would print with --enable-source-maps (the frames name the same lines)', async () => {
    // Act
    const ours = await thrownStack(handlerSource);
    const nodes = await thrownStack(handlerSource.replace('.use(readableStacks())', ''), [
      '--enable-source-maps',
    ]);

    // Assert
    const lines = (s: string) => [...s.matchAll(/entry\.ts:(\d+)/g)].map((m) => m[1]);
    expect(lines(ours)[0]).toBe('5');
    expect(lines(nodes)[0]).toBe('5');
  });

  it("maps frames in a chunk loaded by `await import()` through that chunk's map (split bundles, as deployed)", async () => {
    // Prepare: the throw lives in a module the handler imports on first use, so it is a chunk of its own.
    const split = join(dir, 'split');
    writeFileSync(
      join(dir, 'lazy.ts'),
      "export const fail = (): never => {\n  throw new Error('lazy boom');\n};\n",
    );
    writeFileSync(
      join(dir, 'split-entry.ts'),
      handlerSource
        .replace('STACK_TRACES', JSON.stringify(SOURCE))
        .replace(
          '.handler(async () => fail());',
          ".handler(async () => (await import('./lazy.ts')).fail());",
        ),
    );
    await build({
      ...functionBuildOptions(join(dir, 'split-entry.ts'), split),
      nodePaths,
      logLevel: 'silent',
    });
    const chunks = readdirSync(split).filter((f) => f.endsWith('.mjs'));
    expect(chunks.filter((f) => f.startsWith('lazy-'))).toHaveLength(1);
    const run = `import(${JSON.stringify(pathToFileURL(join(split, 'index.mjs')).href)}).then((m) => m.handler({}, {})).catch((e) => process.stdout.write(e.stack))`;

    // Act
    const stack = execFileSync(process.execPath, ['--input-type=module', '-e', run], { encoding: 'utf8' });

    // Assert: the throw (line 2 of lazy.ts) and the handler's frames are sources, no frame a chunk's line.
    expect(stack).toMatch(/^Error: lazy boom\n\s+at \S+ \(\S*lazy\.ts:2:\d+\)/);
    expect(stack).not.toMatch(/\.mjs:\d+:\d+/);
  });

  it('leaves the stack alone when the bundle has no map', async () => {
    // Prepare
    const entry = join(dir, 'plain.ts');
    writeFileSync(entry, handlerSource.replace('STACK_TRACES', JSON.stringify(SOURCE)));
    const outfile = join(dir, 'plain.mjs');
    await build({ ...lambdaEsbuildOptions, nodePaths, entryPoints: [entry], outfile, logLevel: 'silent' });
    const run = `import(${JSON.stringify(pathToFileURL(outfile).href)}).then((m) => m.handler({}, {})).catch((e) => process.stdout.write(e.stack))`;

    // Act
    const stack = execFileSync(process.execPath, ['--input-type=module', '-e', run], { encoding: 'utf8' });

    // Assert
    expect(stack).toMatch(/^Error: boom\n/);
    expect(stack).toMatch(/plain\.mjs:\d+:\d+/);
  });

  it('rewrites only the frames of its own bundle that the map covers, naming sources from the project root', () => {
    // Prepare
    const url = 'file:///var/task/index.mjs';
    const map = {
      findEntry: (line: number, column: number) =>
        line === 0 && column === 99
          ? { originalSource: '../../functions/backup/handler.ts', originalLine: 39, originalColumn: 10 }
          : line === 0 && column === 199
            ? {
                originalSource: '../../../home/ci/steward/shared/errors.ts',
                originalLine: 0,
                originalColumn: 0,
              }
            : line === 0 && column === 299
              ? {
                  originalSource: '../../../home/ci/steward/node_modules/@smithy/core/a.js',
                  originalLine: 1,
                  originalColumn: 2,
                }
              : {},
    };
    const stack = [
      'Error: x',
      `    at run (${url}:1:100)`,
      `    at other (${url}:1:5)`,
      '    at node:internal/process/task_queues:95:5',
      '    at /var/task/index.mjs:1:100',
      `    at new StewardError (${url}:1:200)`,
      `    at send (${url}:1:300)`,
    ].join('\n');

    // Act
    const mapped = mapStack(stack, url, (file) => (file === 'index.mjs' ? map : undefined));

    // Assert
    expect(mapped.split('\n')).toEqual([
      'Error: x',
      '    at run (functions/backup/handler.ts:40:11)',
      `    at other (${url}:1:5)`,
      '    at node:internal/process/task_queues:95:5',
      '    at functions/backup/handler.ts:40:11',
      '    at new StewardError (shared/errors.ts:1:1)',
      '    at send (node_modules/@smithy/core/a.js:2:3)',
    ]);
  });

  it("maps each chunk's frames through that chunk's own map, and leaves a chunk without one alone", () => {
    // Prepare: the entry and two chunks of a split bundle, as a path (Node prints file URLs, paths in some frames).
    const url = 'file:///var/task/index.mjs';
    const entry = {
      findEntry: () => ({
        originalSource: '../functions/drill/handler.ts',
        originalLine: 9,
        originalColumn: 0,
      }),
    };
    const janitor = {
      findEntry: () => ({
        originalSource: '../shared/drill/janitor.ts',
        originalLine: 99,
        originalColumn: 4,
      }),
    };
    const asked: string[] = [];
    const mapOf = (file: string) => {
      asked.push(file);
      return file === 'index.mjs' ? entry : file === 'janitor-ABC123.mjs' ? janitor : undefined;
    };
    const stack = [
      'Error: x',
      '    at sweep (file:///var/task/janitor-ABC123.mjs:1:50)',
      '    at /var/task/janitor-ABC123.mjs:1:60',
      '    at run (file:///var/task/index.mjs:1:10)',
      '    at s (file:///var/task/chunk-XYZ.mjs:1:5)',
      '    at elsewhere (file:///opt/other/index.mjs:1:1)',
    ].join('\n');

    // Act
    const mapped = mapStack(stack, url, mapOf);

    // Assert
    expect(mapped.split('\n')).toEqual([
      'Error: x',
      '    at sweep (shared/drill/janitor.ts:100:5)',
      '    at shared/drill/janitor.ts:100:5',
      '    at run (functions/drill/handler.ts:10:1)',
      '    at s (file:///var/task/chunk-XYZ.mjs:1:5)',
      '    at elsewhere (file:///opt/other/index.mjs:1:1)',
    ]);
    expect([...new Set(asked)].sort()).toEqual(['chunk-XYZ.mjs', 'index.mjs', 'janitor-ABC123.mjs']);
  });
});
