import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The functions ship a source map per output file (index.mjs.map, and one per chunk: the bundles are split,
// infra/bundling.ts) but do not run with `--enable-source-maps`: on Node 22 that flag parses the 3-4 MB map at
// every cold start (+10-19 % CPU of cold import and first invoke, measured). Instead, an error that leaves a
// handler has its stack mapped here, once the error exists: each frame through the map of the chunk it points
// into, each map read when a frame first needs it (the first such error of a container), never on the hot path.

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A source path as the map names it (relative to where the bundle was built, so it may hold the build
 * machine's folders), from the project's own `functions/` or `shared/`, or from `node_modules/`.
 */
const shortSource = (source: string) => {
  const dep = source.lastIndexOf('node_modules/');
  if (dep >= 0) return source.slice(dep);
  const own = source.search(/(^|\/)(functions|shared)\//);
  return own >= 0 ? source.slice(own).replace(/^\//, '') : source.replace(/^(\.\.\/)+/, '');
};

/** What mapping a frame needs of a source map. */
export type FrameMap = Pick<SourceMap, 'findEntry'>;

/**
 * Rewrite every frame of `stack` that points into a file of the bundle whose entry is at `bundleUrl` (the
 * entry or any chunk beside it: `<dir>/<file>.mjs:<line>:<column>`, as a file URL or a path) to the original
 * source, line and column of that file's map (`mapOf(file)`, by its name in the bundle directory). Frames of
 * a file without a map, or that its map does not cover, stay as they are.
 */
export const mapStack = (
  stack: string,
  bundleUrl: string,
  mapOf: (file: string) => FrameMap | undefined,
): string => {
  const dir = new URL('.', bundleUrl).href;
  const dirs = [dir, dir.startsWith('file://') ? fileURLToPath(dir) : undefined]
    .filter((p): p is string => !!p)
    .map(escape);
  const frame = new RegExp(`(?:${dirs.join('|')})([^/\\s:()]+\\.mjs):(\\d+):(\\d+)`, 'g');
  return stack.replace(frame, (whole, file: string, line: string, column: string) => {
    const map = mapOf(file);
    if (!map) return whole;
    const e = map.findEntry(Number(line) - 1, Number(column) - 1) as Partial<{
      originalSource: string;
      originalLine: number;
      originalColumn: number;
    }>;
    if (!e.originalSource || e.originalLine === undefined || e.originalColumn === undefined) return whole;
    return `${shortSource(e.originalSource)}:${e.originalLine + 1}:${e.originalColumn + 1}`;
  });
};

type Mapper = ((stack: string) => string) | null;
let mapper: Mapper | undefined;

/**
 * The bundle's maps (`<file>.map` beside each file), each read once, when a frame first points into its file;
 * null when Node maps already. Outside a bundle (tests, the CLI) no frame names a `.mjs` file beside this
 * module, so nothing is read.
 */
const bundleMapper = (bundleUrl: string): Mapper => {
  if (mapper !== undefined) return mapper;
  mapper = null;
  if (process.sourceMapsEnabled || !bundleUrl.startsWith('file:')) return mapper;
  const dir = fileURLToPath(new URL('.', bundleUrl));
  const maps = new Map<string, FrameMap | undefined>();
  const mapOf = (file: string) => {
    if (!maps.has(file)) {
      let map: FrameMap | undefined;
      try {
        map = new SourceMap(JSON.parse(readFileSync(join(dir, `${file}.map`), 'utf8')) as SourceMapPayload);
      } catch {
        // No map beside this file: its frames stay as they are.
      }
      maps.set(file, map);
    }
    return maps.get(file);
  };
  mapper = (stack) => mapStack(stack, bundleUrl, mapOf);
  return mapper;
};

/** Map the stack of `error` and of its causes to the original sources (in place). */
export const mapErrorStacks = (error: unknown, bundleUrl: string = import.meta.url): void => {
  const seen = new Set<unknown>();
  for (let e = error; e instanceof Error && !seen.has(e) && seen.size < 8; e = e.cause) {
    seen.add(e);
    const map = bundleMapper(bundleUrl);
    if (!map || typeof e.stack !== 'string') return;
    try {
      e.stack = map(e.stack);
    } catch {
      return;
    }
  }
};

/**
 * Middy middleware: an error leaving the handler carries a stack in the TypeScript sources, so the Lambda
 * runtime logs `functions/backup/handler.ts:40:11`, not `index.mjs:1:123456`. It changes nothing else.
 */
export const readableStacks = () => ({
  onError: (request: { error?: unknown }): void => mapErrorStacks(request.error),
});
