import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

// Arrows run one way: no module of the project reaches itself again through its own imports (type-only
// imports included: they are still a dependency a reader has to hold in their head), and a capability
// declares the ports it needs while the adapters in shared/aws/ implement them, never the reverse. A shared
// piece lives in a module below both that need it.
const DIRS = ['infra', 'shared', 'functions', 'cli', 'bench'];

const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );

/**
 * The project's own modules a file imports or re-exports from, as paths from the project root; a module it
 * loads on first use (`once(() => import('./x.js'))`, shared/once.ts) too: a circle through one is still a circle.
 */
const localImports = (file: string, src: string): string[] =>
  [...src.matchAll(/(?:(?:import|export)\s[^;]*?from\s+|\bimport\(\s*)'(\.[^']+)'/g)].map((m) =>
    normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '.ts'),
  );

/** Every strongly connected group of two or more modules (an import circle), each sorted. */
const importCircles = (graph: ReadonlyMap<string, readonly string[]>): string[][] => {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1) circles.push(group.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return circles;
};

describe('module layering', () => {
  it('has no import circle in infra/, shared/, functions/, cli/ or bench/', () => {
    // Prepare
    const files = DIRS.flatMap(sources);
    const graph = new Map(files.map((f) => [f, localImports(f, readFileSync(f, 'utf8'))]));

    // Act
    const circles = importCircles(graph);

    // Assert
    expect(files.length).toBeGreaterThan(100);
    expect(circles).toEqual([]);
  });

  it('no capability imports an adapter: only shared/aws/ (and the wiring: handlers, cli, runtime.ts) reach it', () => {
    // Prepare: every module in a capability's folder of shared/ (not the adapters themselves).
    const files = sources('shared').filter((f) => /^shared\/(?!aws\/)[^/]+\//.test(f));

    // Act
    const toAdapters = files.flatMap((f) =>
      localImports(f, readFileSync(f, 'utf8'))
        .filter((i) => i.startsWith('shared/aws/'))
        .map((i) => `${f} -> ${i}`),
    );

    // Assert
    expect(files.length).toBeGreaterThan(50);
    expect(toAdapters).toEqual([]);
  });

  it('every runtime dependency in package.json is imported by the code (Powertools Idempotency and Parser were not)', () => {
    // Prepare
    const { dependencies } = JSON.parse(readFileSync('package.json', 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const code = DIRS.flatMap(sources).map((f) => readFileSync(f, 'utf8'));
    const imported = new Set(
      code.flatMap((src) =>
        [...src.matchAll(/(?:from|import)\s*\(?\s*'([^.'][^']*)'/g)].map((m) =>
          m[1]!.startsWith('@') ? m[1]!.split('/').slice(0, 2).join('/') : m[1]!.split('/')[0]!,
        ),
      ),
    );

    // Act
    const unused = Object.keys(dependencies).filter((d) => !imported.has(d));

    // Assert
    expect(Object.keys(dependencies).length).toBeGreaterThan(10);
    expect(unused).toEqual([]);
  });

  it('finds a circle when there is one, type-only and first-use imports included (the check can fail)', () => {
    // Prepare
    const graph = new Map([
      ['infra/a.ts', localImports('infra/a.ts', "import type { B } from './b.js';")],
      ['infra/b.ts', localImports('infra/b.ts', "import {\n  c,\n} from '../infra/c.js';")],
      ['infra/c.ts', localImports('infra/c.ts', "export { a } from './a.js';")],
      ['infra/d.ts', localImports('infra/d.ts', "import { a } from './a.js';")],
      [
        'infra/e.ts',
        localImports(
          'infra/e.ts',
          "const loadF = /* @__PURE__ */ once(() => import('./f.js'));\nconst f = async () => (await loadF()).f;",
        ),
      ],
      ['infra/f.ts', localImports('infra/f.ts', "import { e } from './e.js';")],
    ]);

    // Act / Assert
    expect(importCircles(graph)).toEqual([
      ['infra/a.ts', 'infra/b.ts', 'infra/c.ts'],
      ['infra/e.ts', 'infra/f.ts'],
    ]);
    expect(localImports('shared/retention/x.ts', "import { s } from '../aws/snapshots.js';")).toEqual([
      'shared/aws/snapshots.ts',
    ]);
  });
});
