import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { sdkAlias } from '../../infra/bundling.js';
import { literalTraitKeys, treeShakableSdk } from '../../infra/sdk-tree-shaking.js';

const dirs: string[] = [];
const tmp = (label: string) => {
  const d = mkdtempSync(join(tmpdir(), `${label}-`));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('literalTraitKeys', () => {
  it('writes the literal key for a computed key that names a module string constant, and nothing else', () => {
    const src = [
      'const _eQN = "ec2QueryName";',
      'const _xN = "xmlName";',
      'const _n = 42;',
      'export var A$ = [3, n0, _A, 0, [_B], [[0, { [_eQN]: `B`, [_xN]: _b }]]];',
      'export var C$ = [3, n0, _C, { [_n]: 1, [other]: 2 }, "[_xN]: stays"];',
    ].join('\n');
    const r = literalTraitKeys(src);
    expect(r.replaced).toBe(2);
    expect(r.source.split('\n').slice(3)).toEqual([
      'export var A$ = [3, n0, _A, 0, [_B], [[0, { "ec2QueryName": `B`, "xmlName": _b }]]];',
      // A number constant, an unknown name and text inside a string are left alone.
      'export var C$ = [3, n0, _C, { [_n]: 1, [other]: 2 }, "[_xN]: stays"];',
    ]);
  });
});

describe('treeShakableSdk', () => {
  const fakeRoot = () => {
    const root = tmp('sdk-root');
    const pkg = (name: string, schemas: string) => {
      const dir = join(root, 'node_modules', '@aws-sdk', name);
      mkdirSync(join(dir, 'dist-es', 'schemas'), { recursive: true });
      mkdirSync(join(dir, 'dist-cjs'), { recursive: true });
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({ name: `@aws-sdk/${name}`, version: '3.1.0' }),
      );
      writeFileSync(join(dir, 'dist-es', 'index.js'), 'export * from "./schemas/schemas_0";\n');
      writeFileSync(join(dir, 'dist-es', 'schemas', 'schemas_0.js'), schemas);
      writeFileSync(join(dir, 'dist-cjs', 'index.js'), 'module.exports = {};\n');
    };
    pkg('client-a', 'const _x = "xmlName";\nexport var A$ = [3, { [_x]: 1 }];\n');
    pkg('client-b', 'export var B$ = [3, { xmlName: 1 }];\n');
    mkdirSync(join(root, 'node_modules', '@aws-sdk', 'core'), { recursive: true });
    return root;
  };

  it('aliases a client with computed keys to a copy under a node_modules of its own, rewritten', () => {
    const root = fakeRoot();
    const aliases = treeShakableSdk(root);
    const copy = join(root, '.sdk-build', 'client-a@3.1.0-1', 'node_modules', '@aws-sdk', 'client-a');
    expect(aliases).toEqual({ '@aws-sdk/client-a': copy });
    expect(readFileSync(join(copy, 'dist-es', 'schemas', 'schemas_0.js'), 'utf8')).toBe(
      'const _x = "xmlName";\nexport var A$ = [3, { "xmlName": 1 }];\n',
    );
    // The other files are the same files (hard links), and only what a bundle reads is there.
    const original = join(root, 'node_modules', '@aws-sdk', 'client-a');
    expect(statSync(join(copy, 'dist-es', 'index.js')).ino).toBe(
      statSync(join(original, 'dist-es', 'index.js')).ino,
    );
    expect(() => statSync(join(copy, 'dist-cjs'))).toThrow();
    // A client without computed keys is bundled as installed; a second call reuses the copies.
    expect(treeShakableSdk(root)).toEqual(aliases);
  });

  it('no aliases without an installed SDK', () => {
    expect(treeShakableSdk(tmp('no-sdk'))).toEqual({});
  });
});

/** Bundle a module's exports into one ES module and import it. */
const load = async (entry: string, dir: string, name: string): Promise<Record<string, unknown>> => {
  const outfile = join(dir, `${name}.mjs`);
  await build({
    stdin: { contents: `export * from ${JSON.stringify(entry)};`, resolveDir: dir },
    bundle: true,
    platform: 'node',
    format: 'esm',
    mainFields: ['module', 'main'],
    outfile,
    logLevel: 'silent',
  });
  return (await import(pathToFileURL(outfile).href)) as Record<string, unknown>;
};

/**
 * Whether two schema values are the same: same keys in the same order, same primitives; a reference to
 * another export (directly or through a thunk `() => Foo$`) must name the same export; classes by name.
 */
const sameSchema = (
  a: unknown,
  b: unknown,
  names: [Map<unknown, string>, Map<unknown, string>],
  at: string,
  root = false,
): string | undefined => {
  if (!root && (names[0].has(a) || names[1].has(b))) {
    return names[0].get(a) === names[1].get(b)
      ? undefined
      : `${at}: ${names[0].get(a)} vs ${names[1].get(b)}`;
  }
  if (typeof a === 'function' && typeof b === 'function') {
    if (a.prototype || b.prototype)
      return a.name === b.name ? undefined : `${at}: class ${a.name} vs ${b.name}`;
    return sameSchema((a as () => unknown)(), (b as () => unknown)(), names, `${at}()`);
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return Object.is(a, b) ? undefined : `${at}: ${String(a)} vs ${String(b)}`;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${at}: array vs object`;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.join('\0') !== kb.join('\0')) return `${at}: keys ${ka.join(',')} vs ${kb.join(',')}`;
  for (const k of ka) {
    const d = sameSchema(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      names,
      `${at}.${k}`,
    );
    if (d) return d;
  }
  return undefined;
};

describe('the installed SDK clients, bundled from their rewritten copies', () => {
  const aliases = Object.entries(sdkAlias());

  it('every client with computed trait keys is aliased (EC2, whose schemas are the largest, among them)', () => {
    expect(aliases.map(([pkg]) => pkg)).toContain('@aws-sdk/client-ec2');
    for (const [, dir] of aliases) {
      expect(
        literalTraitKeys(readFileSync(join(dir, 'dist-es', 'schemas', 'schemas_0.js'), 'utf8')).replaced,
      ).toBe(0);
    }
  });

  it.each(aliases)('%s: every schema export is the same as the installed one', async (pkg, dir) => {
    const out = tmp('sdk-schemas');
    const schemas = 'dist-es/schemas/schemas_0.js';
    const installed = await load(join(process.cwd(), 'node_modules', pkg, schemas), out, 'installed');
    const rewritten = await load(join(dir, schemas), out, 'rewritten');
    expect(Object.keys(rewritten)).toEqual(Object.keys(installed));
    const names: [Map<unknown, string>, Map<unknown, string>] = [
      new Map(Object.entries(installed).map(([k, v]) => [v, k])),
      new Map(Object.entries(rewritten).map(([k, v]) => [v, k])),
    ];
    const diffs = Object.keys(installed)
      .map((k) => sameSchema(installed[k], rewritten[k], names, k, true))
      .filter(Boolean);
    expect(diffs).toEqual([]);
  });
});
