import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, buildSync, type Metafile } from 'esbuild';
import { treeShakableBarrels, treeShakableSdk } from './sdk-tree-shaking.js';

// ESM bundles cannot `require`; some transitive deps still do, so give them one. esbuild writes the banner at
// the top of every output file, so each chunk has its own module-scoped `require` (test/infra/bundles.test.ts);
// `buildFunction` then blanks it in every chunk that never names `require` (`requireShimWhereUsed`).
const REQUIRE_SHIM =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

// `require` as code: not a property (`.require`), not the start of a string ("require"), not part of a longer
// name. Deliberately loose (a `require(` inside a message string counts): a chunk it matches keeps its shim.
const NAMES_REQUIRE = /(?<![\w$.'"`])require(?![\w$])/;

/**
 * An output file with the require shim blanked when nothing in it names `require`: each shim costs a
 * `createRequire` (a CommonJS module object and its `node_modules` lookup paths, built from the chunk's path)
 * and a link to the built-in `module`, at every cold start, per chunk loaded. esbuild's `__require` helper
 * names the `require` of the chunk that defines it, so that chunk keeps its shim. The banner line stays, empty,
 * so every line and the source map's mappings are unchanged.
 */
export const requireShimWhereUsed = (text: string): string =>
  text.startsWith(`${REQUIRE_SHIM}\n`) && !NAMES_REQUIRE.test(text.slice(REQUIRE_SHIM.length))
    ? text.slice(REQUIRE_SHIM.length)
    : text;

/**
 * The one set of esbuild settings for Lambda bundles (`functionBuildOptions` adds splitting and the output).
 * The CDK functions and `npm run bench` both use it, so the bench measures exactly what is deployed.
 */
export const lambdaEsbuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  // Bundle the SDK too: pinned versions, and tree-shaking keeps only the commands we use.
  external: [],
  mainFields: ['module', 'main'],
  banner: { js: REQUIRE_SHIM },
} satisfies BuildOptions;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let aliases: Record<string, string> | undefined;

/**
 * esbuild `alias` for every SDK client: bundled from a copy whose schemas esbuild can tree-shake
 * (infra/sdk-tree-shaking.ts), so a bundle keeps the schemas of the commands it sends, not the client's
 * whole model (EC2's alone is ~550 KB). Prepared once per process (and per SDK version on disk).
 */
export const sdkAlias = (): Record<string, string> => (aliases ??= treeShakableSdk(ROOT));

let barrels: Record<string, string> | undefined;

/**
 * esbuild `alias` for the SDK barrels whose named re-exports put modules in the chunk of every entry that
 * reaches the barrel (`@aws-sdk/core/protocols`, `@smithy/core/serde`, `@smithy/core/checksum`): bundled from
 * copies that re-export their modules with `export *` (infra/sdk-tree-shaking.ts, `treeShakableBarrels`), so
 * a chunk carries what its own code takes of them. Prepared once per process (and per SDK version on disk).
 */
export const barrelAlias = (): Record<string, string> => (barrels ??= treeShakableBarrels(ROOT));

/**
 * Built-in modules the bundles load through CommonJS (`process.getBuiltinModule`) instead of an ESM import.
 * Node makes a built-in's ESM view by reading every one of its exports once, getters included, and on Node 22
 * `node:http`'s `WebSocket`, `CloseEvent` and `MessageEvent` getters load undici, Node's whole fetch stack,
 * which nothing in a function uses: importing `node:http` (as the SDK's HTTP handler does) cost about 60 ms
 * of CPU against 6 ms for `require` (fresh Node 22 processes, loaded machine); `node:process` 8 ms against
 * 0.3. The CommonJS module is the same object; Lambda's own runtime loads `node:http` through `require` too.
 * Only modules nothing imports a subpath of: an alias maps those too (`node:util` would take pg's
 * `util/types` along; its ESM view costs about 6 ms).
 */
export const VIA_REQUIRE = ['http', 'process'] as const;

/**
 * Built-ins a bundled package imports at its top but no function's path uses, each through a CommonJS shim
 * (`infra/builtins/<file>.cjs`) whose exports are getters reading the built-in at their first use: the same
 * objects when used, nothing loaded when not. `node:stream/web`, which @middy/core imports for its response
 * streaming (off in every function), loads Node's whole WHATWG streams implementation: about 12 M
 * instructions of drill-verify's cold start (callgrind, docs/benchmarks.md s17-cold-verify).
 */
export const ON_FIRST_USE = { 'stream/web': 'stream-web' } as const;

/**
 * esbuild `alias` for `VIA_REQUIRE` and `ON_FIRST_USE`: `http` and `node:http` to `infra/builtins/http.cjs`,
 * `stream/web` and `node:stream/web` to `infra/builtins/stream-web.cjs`, and so on.
 */
export const builtinAlias = (): Record<string, string> =>
  Object.fromEntries(
    [...VIA_REQUIRE.map((m) => [m, m]), ...Object.entries(ON_FIRST_USE)].flatMap(([m, file]) => {
      const shim = fileURLToPath(new URL(`./builtins/${file}.cjs`, import.meta.url));
      return [
        [m, shim],
        [`node:${m}`, shim],
      ];
    }),
  );

/**
 * How a function is built, as deployed: `entry` (a path from the project root) bundled into `outdir` with code
 * splitting. The entry is `index.mjs` (handler `index.handler`); every module reached only through an
 * `await import()` (and what only such modules share) is a chunk beside it (`<name>-<hash>.mjs`), which Node
 * loads, parses and compiles only when the import runs: a trigger pays for its own code, not every trigger's.
 * `.mjs` because the asset has no package.json to say the files are ESM. A source map per output file
 * (shared/stack-traces.ts maps each frame through its own chunk's map). The bench builds its baselines with
 * the same options, only the entry differs.
 */
export const functionBuildOptions = (entry: string, outdir: string, define: Record<string, string> = {}) =>
  ({
    ...lambdaEsbuildOptions,
    absWorkingDir: ROOT,
    entryPoints: { index: entry },
    outdir,
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: '[name]-[hash]',
    sourcemap: true,
    // The SDK clients from copies esbuild can tree-shake (infra/sdk-tree-shaking.ts), and the built-ins whose
    // ESM view costs CPU at cold start through CommonJS (VIA_REQUIRE).
    alias: { ...sdkAlias(), ...barrelAlias(), ...builtinAlias() },
    define,
    metafile: true,
    logLevel: 'warning',
  }) satisfies BuildOptions;

/** Output paths of `meta` (relative to the project root, as esbuild writes them) made relative to `outdir`. */
export const outputsRelativeTo = (meta: Metafile, outdir: string): Metafile => {
  const local = (p: string) =>
    isAbsolute(p) || p.startsWith('node:') ? p : relative(outdir, resolve(ROOT, p)) || p;
  return {
    inputs: meta.inputs,
    outputs: Object.fromEntries(
      Object.entries(meta.outputs).map(([file, o]) => [
        local(file),
        {
          ...o,
          imports: o.imports.map((i) => (i.external ? i : { ...i, path: local(i.path) })),
        },
      ]),
    ),
  };
};

/**
 * Build `entry` into `outdir` (synchronously: CDK's local bundling is), returning its metafile. Each chunk's
 * require shim only where the chunk names `require` (`requireShimWhereUsed`); the metafile's output sizes are
 * those written.
 */
export const buildFunction = (
  entry: string,
  outdir: string,
  define: Record<string, string> = {},
): Metafile => {
  const { outputFiles, metafile } = buildSync({
    ...functionBuildOptions(entry, outdir, define),
    write: false,
  });
  const written = new Map<string, number>();
  for (const f of outputFiles) {
    const text = f.path.endsWith('.mjs') ? requireShimWhereUsed(f.text) : undefined;
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, text ?? f.contents);
    written.set(f.path, text === undefined ? f.contents.length : Buffer.byteLength(text));
  }
  const meta = outputsRelativeTo(metafile, outdir);
  for (const [path, bytes] of written) {
    const out = meta.outputs[relative(outdir, path)];
    if (out) out.bytes = bytes;
  }
  return meta;
};

/** What a function's build depends on beyond the source tree: its entry and its defines. */
export const buildKey = (entry: string, define: Record<string, string>): string =>
  createHash('sha256')
    .update(JSON.stringify([entry, define]))
    .digest('hex')
    .slice(0, 32);
