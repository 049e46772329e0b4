import { build, type Metafile } from 'esbuild';
import { barrelAlias, builtinAlias, lambdaEsbuildOptions, sdkAlias } from '../../infra/bundling.js';

/** Every project module in the chunks a chunk loads before it runs (its static imports, transitively). */
const staticModules = (meta: Metafile, entry: string): Set<string> => {
  const seen = new Set<string>();
  const visit = (out: string) => {
    if (seen.has(out)) return;
    seen.add(out);
    for (const i of meta.outputs[out]!.imports)
      if (i.kind === 'import-statement' && meta.outputs[i.path]) visit(i.path);
  };
  visit(Object.keys(meta.outputs).find((o) => meta.outputs[o]!.entryPoint === entry)!);
  return new Set(
    [...seen].flatMap((o) =>
      Object.entries(meta.outputs[o]!.inputs)
        .filter(([, i]) => i.bytesInOutput > 0)
        .map(([p]) => p),
    ),
  );
};

/**
 * `entry` (a path from the project root) built with the shipped settings and code splitting, as a function's
 * chunks are built, in memory: the project modules its entry loads at a cold start (`cold`) and every module
 * any of its outputs ships (`shipped`).
 */
export const splitBuildModules = async (
  entry: string,
): Promise<{ cold: Set<string>; shipped: Set<string> }> => {
  const r = await build({
    ...lambdaEsbuildOptions,
    alias: { ...sdkAlias(), ...barrelAlias(), ...builtinAlias() },
    entryPoints: [entry],
    splitting: true,
    outdir: 'out',
    outExtension: { '.js': '.mjs' },
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const shipped = new Set(
    Object.values(r.metafile.outputs).flatMap((o) =>
      Object.entries(o.inputs)
        .filter(([, i]) => i.bytesInOutput > 0)
        .map(([p]) => p),
    ),
  );
  return { cold: staticModules(r.metafile, entry), shipped };
};
