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

/** `sdkAlias` as NodejsFunction's `esbuildArgs`. */
export const sdkAliasArgs = (): { '--alias': string[] } => ({
  '--alias': Object.entries(sdkAlias()).map(([pkg, dir]) => `${pkg}=${dir}`),
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
