import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** esbuild's metafile, the parts the bench reads (esbuild's own type is one). */
export interface Metafile {
  inputs: Record<string, { bytes: number; imports?: { path: string; kind: string; original?: string }[] }>;
  outputs: Record<
    string,
    {
      bytes: number;
      inputs: Record<string, { bytesInOutput: number }>;
      imports?: { path: string; kind: string; external?: boolean }[];
      entryPoint?: string;
    }
  >;
}

const run = promisify(execFile);
const HOOK = resolve('bench/cold/loaded-hook.mjs');

/** What one untimed cold start printed, and which files of its bundle it loaded. */
export interface LoadedRun {
  /** The harness's last line (JSON). */
  stdout: string;
  /** Files of `dir` the process loaded as ES modules, by their names there, in load order. */
  files: string[];
}

/**
 * Run `node <args>` once with a module hook that lists every file it loads (bench/cold/loaded-hook.mjs) and
 * return the files of the bundle directory `dir` among them. Only for untimed runs: the hook costs CPU.
 */
export const loadedFiles = async (
  node: string,
  args: readonly string[],
  dir: string,
  env: Record<string, string>,
): Promise<LoadedRun> => {
  const tmp = mkdtempSync(join(tmpdir(), 'steward-loaded-'));
  const log = join(tmp, 'loaded.txt');
  try {
    const { stdout } = await run(node, ['--import', HOOK, ...args], {
      env: { ...env, STEWARD_LOADED_LOG: log },
      maxBuffer: 64 << 20,
    });
    const inDir = resolve(dir) + sep;
    let lines: string[] = [];
    try {
      lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    } catch {
      throw new Error(`the module hook wrote no list of loaded files (${log}): was it registered?`);
    }
    const files = [
      ...new Set(
        lines
          .map((url) => fileURLToPath(url))
          .filter((f) => f.startsWith(inDir))
          .map((f) => relative(inDir, f)),
      ),
    ];
    return { stdout, files };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
};

/** The JavaScript outputs of a build (the entry and every chunk), by name in the bundle directory. */
export const jsOutputs = (meta: Metafile): string[] =>
  Object.keys(meta.outputs).filter((f) => /\.m?js$/.test(f));

/** Bytes of `files` (outputs of `meta`), together. */
export const outputBytes = (meta: Metafile, files: readonly string[]): number =>
  files.reduce((n, f) => n + (meta.outputs[f]?.bytes ?? 0), 0);

/** The outputs `entry` loads by static imports alone, itself included: what every trigger loads. */
export const staticClosure = (meta: Metafile, entry = 'index.mjs'): string[] => {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || !meta.outputs[file]) return;
    seen.add(file);
    for (const i of meta.outputs[file]!.imports ?? [])
      if (i.kind === 'import-statement' && !i.external) visit(i.path);
  };
  visit(entry);
  return [...seen];
};
