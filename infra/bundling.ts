import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { treeShakableSdk } from './sdk-tree-shaking.js';

// ESM bundles cannot `require`; some transitive deps still do, so give them one.
const REQUIRE_SHIM =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * The one set of esbuild settings for Lambda bundles. The CDK functions and `npm run bench` both use it,
 * so the bench measures exactly what is deployed.
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

/** esbuild `alias` for `VIA_REQUIRE`: `http` and `node:http` to `infra/builtins/http.cjs`, and so on. */
export const builtinAlias = (): Record<string, string> =>
  Object.fromEntries(
    VIA_REQUIRE.flatMap((m) => {
      const shim = fileURLToPath(new URL(`./builtins/${m}.cjs`, import.meta.url));
      return [
        [m, shim],
        [`node:${m}`, shim],
      ];
    }),
  );

/** `sdkAlias` and `builtinAlias` as NodejsFunction's `esbuildArgs`. */
export const sdkAliasArgs = (): { '--alias': string[] } => ({
  '--alias': Object.entries({ ...sdkAlias(), ...builtinAlias() }).map(([pkg, dir]) => `${pkg}=${dir}`),
});

/** The same settings in NodejsFunction's vocabulary (plus `sdkAliasArgs()`, which reads the disk). */
export const nodejsBundling = {
  minify: lambdaEsbuildOptions.minify,
  target: lambdaEsbuildOptions.target,
  externalModules: lambdaEsbuildOptions.external,
  mainFields: lambdaEsbuildOptions.mainFields,
  banner: lambdaEsbuildOptions.banner.js,
  sourceMap: true,
  forceDockerBundling: false,
} as const;
