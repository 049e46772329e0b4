import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { lambdaEsbuildOptions } from '../infra/bundling.js';
import { EMBEDDED_CONFIG, embedDefine } from '../shared/config/embedded.js';
import { EXAMPLES_DIR, loadStage } from '../shared/config/files.js';
import { type BenchRow, median } from './stats.js';

const OUT = resolve('.bench');

/**
 * Bundle an entry with the exact esbuild settings the CDK functions use, the prod example's resolved config
 * embedded as synth embeds it; returns the file and its inputs.
 */
const bundle = async (entry: string, name: string) => {
  const outfile = join(OUT, `${name}.mjs`);
  const r = await build({
    ...lambdaEsbuildOptions,
    define: { [EMBEDDED_CONFIG]: embedDefine(loadStage(EXAMPLES_DIR, 'prod').config) },
    entryPoints: [entry],
    outfile,
    metafile: true,
    logLevel: 'silent',
  });
  return { outfile, bytes: statSync(outfile).size, inputs: Object.keys(r.metafile.inputs) };
};

/**
 * The baseline is a bare handler importing exactly the SDK symbols the function's own sources import,
 * so the ratio isolates what steward adds (middy, Powertools, zod, our code) on top of the SDK.
 */
const writeBaseline = (name: string, inputs: string[], framework: boolean): string => {
  const imports = new Map<string, Set<string>>();
  for (const file of inputs.filter((f) => !f.includes('node_modules') && /\.ts$/.test(f))) {
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/import\s*(type\s*)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/[^']+)'/g)) {
      if (m[1]) continue;
      const names = m[2]!
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s && !s.startsWith('type '));
      const set = imports.get(m[3]!) ?? new Set<string>();
      names.forEach((n) => set.add(n.split(/\s+as\s+/)[0]!));
      imports.set(m[3]!, set);
    }
  }
  const lines: string[] = [];
  const used: string[] = [];
  let i = 0;
  for (const [pkg, names] of imports) {
    const aliased = [...names].map((n) => `${n} as s${i++}`);
    used.push(...aliased.map((a) => a.split(' as ')[1]!));
    lines.push(`import { ${aliased.join(', ')} } from '${pkg}';`);
  }
  if (framework) {
    // The libraries the issue mandates (middy, Powertools logger + metrics) and zod, used minimally.
    lines.push(
      "import middy from '@middy/core';",
      "import { Logger } from '@aws-lambda-powertools/logger';",
      "import { Metrics } from '@aws-lambda-powertools/metrics';",
      "import * as z from 'zod';",
      "const logger = new Logger(); const metrics = new Metrics({ namespace: 'Steward' });",
      'const Event = z.object({ action: z.string(), dryRun: z.boolean().optional() });',
      `export const handler = middy().handler(async (e: unknown) => { logger.info('x'); metrics.addMetric('X', 'Count', 1); return [Event.parse(e), ${used.join(', ')}].length; });`,
    );
  } else {
    lines.push(`export const handler = async () => [${used.join(', ')}].length;`);
  }
  const file = join(OUT, `baseline-${framework ? 'framework-' : ''}${name}.ts`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
};

/** Import time of a bundle in a fresh node process, in ms (module evaluation only, not node start-up). */
const importMs = (file: string): number => {
  const code = `const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});process.stdout.write(String(performance.now()-t))`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' }));
};

/** Bundle size and cold import time of each function against its bare-SDK baseline. */
export const benchBundles = async (functions: string[], runs: number): Promise<BenchRow[]> => {
  mkdirSync(OUT, { recursive: true });
  const rows: BenchRow[] = [];
  for (const fn of functions) {
    const ours = await bundle(`functions/${fn}/handler.ts`, fn);
    const bare = await bundle(writeBaseline(fn, ours.inputs, false), `baseline-${fn}`);
    const framework = await bundle(writeBaseline(fn, ours.inputs, true), `baseline-framework-${fn}`);
    const times = { ours: [] as number[], bare: [] as number[], framework: [] as number[] };
    // Interleave so machine noise hits every side alike.
    for (let i = 0; i < runs; i++) {
      times.ours.push(importMs(ours.outfile));
      times.bare.push(importMs(bare.outfile));
      times.framework.push(importMs(framework.outfile));
    }
    for (const [label, base, baseTimes] of [
      ['bare handler, same SDK clients', bare, times.bare],
      ['+ middy, Powertools, zod', framework, times.framework],
    ] as const) {
      const sizeRatio = ours.bytes / base.bytes;
      const timeRatio = median(times.ours) / median(baseTimes);
      rows.push(
        {
          bench: fn,
          metric: `bundle KB vs ${label}`,
          value: (ours.bytes / 1024).toFixed(0),
          baseline: (base.bytes / 1024).toFixed(0),
          ratio: sizeRatio,
          target: '≤ 1.05×',
          ok: sizeRatio <= 1.05,
        },
        {
          bench: fn,
          metric: `cold import ms vs ${label} (median of ${runs})`,
          value: median(times.ours).toFixed(1),
          baseline: median(baseTimes).toFixed(1),
          ratio: timeRatio,
          target: '≤ 1.05×',
          ok: timeRatio <= 1.05,
        },
      );
    }
  }
  return rows;
};
