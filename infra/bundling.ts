import type { BuildOptions } from 'esbuild';

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

/** The same settings in NodejsFunction's vocabulary. */
export const nodejsBundling = {
  minify: lambdaEsbuildOptions.minify,
  target: lambdaEsbuildOptions.target,
  externalModules: lambdaEsbuildOptions.external,
  mainFields: lambdaEsbuildOptions.mainFields,
  banner: lambdaEsbuildOptions.banner.js,
  sourceMap: true,
  forceDockerBundling: false,
} as const;
