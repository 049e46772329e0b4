import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Arrows run down: cli/ (the `steward bench` command) → bench/ → shared/, infra/, functions/. The bench
// never imports the CLI; it runs it, as a user does, in its own process.
const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.(ts|mjs)$/.test(e.name) ? [join(dir, e.name)] : [],
  );

const importsOf = (src: string): string[] =>
  [...src.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);

describe('bench layering', () => {
  it('imports nothing from cli/, statically or dynamically', () => {
    // Prepare
    const files = sources('bench');

    // Act
    const upward = files.flatMap((f) =>
      importsOf(readFileSync(f, 'utf8'))
        .filter((i) => /(^|\/)cli\//.test(i))
        .map((i) => `${f}: ${i}`),
    );

    // Assert
    expect(files.length).toBeGreaterThan(5);
    expect(upward).toEqual([]);
  });

  it('finds an upward import when there is one (the check can fail)', () => {
    expect(importsOf("import { main } from '../cli/main.js';")).toEqual(['../cli/main.js']);
    expect(importsOf("const m = await import('../cli/main.js');")).toEqual(['../cli/main.js']);
  });
});
