import { readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { fileURLToPath } from 'node:url';

// The functions ship their source maps (index.mjs.map) but do not run with `--enable-source-maps`: on
// Node 22 that flag parses the 3-4 MB map at every cold start (+10-19 % CPU of cold import and first
// invoke, measured). Instead, an error that leaves a handler has its stack mapped here, once the error
// exists: the map is read on the first such error of a container, never on the hot path.

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

/**
 * Rewrite every frame of `stack` that points into the bundle at `bundleUrl` (`<url>:<line>:<column>`) to
 * the original source, line and column of `map`. Frames the map does not cover stay as they are.
 */
export const mapStack = (stack: string, bundleUrl: string, map: Pick<SourceMap, 'findEntry'>): string => {
  const paths = [bundleUrl, bundleUrl.startsWith('file://') ? fileURLToPath(bundleUrl) : undefined]
    .filter((p): p is string => !!p)
    .map(escape);
  const frame = new RegExp(`(?:${paths.join('|')}):(\\d+):(\\d+)`, 'g');
  return stack.replace(frame, (whole, line: string, column: string) => {
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

/** This bundle's map (`<bundle>.map`), read once; null when there is none (tests, the CLI) or Node maps already. */
const bundleMapper = (bundleUrl: string): Mapper => {
  if (mapper !== undefined) return mapper;
  mapper = null;
  if (process.sourceMapsEnabled) return mapper;
  try {
    const file = fileURLToPath(bundleUrl);
    const payload = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as SourceMapPayload;
    const map = new SourceMap(payload);
    mapper = (stack) => mapStack(stack, bundleUrl, map);
  } catch {
    // No map next to this file: stacks stay as they are.
  }
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
