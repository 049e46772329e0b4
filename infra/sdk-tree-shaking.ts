import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The AWS SDK's generated schemas (`dist-es/schemas/schemas_0.js`, one module per client) write each
 * member's traits with computed keys that name a string constant of the same module:
 * `{ [_eQN]: "Foo", [_xN]: _f }` where `const _eQN = "ec2QueryName"`. esbuild treats a computed key as a
 * possible side effect, so it keeps every schema of the module: the EC2 client alone puts ~550 KB of
 * schemas in each bundle that sends any EC2 command, whichever commands it imports (aws/aws-sdk-js-v3#7607,
 * evanw/esbuild#4373). Written as literal keys, the same objects are tree-shaken to the schemas the
 * bundle's commands reach.
 *
 * This writes the literal key for every computed key that names a module-level string constant, and
 * nothing else: the objects are the same (same keys, same values, same order), only esbuild can now see it.
 */
export const literalTraitKeys = (source: string): { source: string; replaced: number } => {
  const strings = new Map<string, string>();
  for (const m of source.matchAll(/^const (_\w+) = ("[^"\\\n]*");$/gm)) strings.set(m[1]!, m[2]!);
  let replaced = 0;
  const out = source.replace(/([{,]\s*)\[(_\w+)\]:/g, (all, before: string, id: string) => {
    const value = strings.get(id);
    if (value === undefined) return all;
    replaced += 1;
    return `${before}${value}:`;
  });
  return { source: out, replaced };
};

// Raise when literalTraitKeys changes: the prepared copies are keyed by it.
const REWRITE_VERSION = 1;

const SCHEMAS = /^dist-es\/schemas\/schemas_\d+\.js$/;

/** Hard-link (or, across file systems, copy) `from` to `to`. */
const linkOrCopy = (from: string, to: string) => {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
};

/** The files of a package a bundle reads: package.json and the ES modules (`module`, which the bundles use). */
const bundledFiles = (dir: string, rel = ''): string[] =>
  readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) return rel || e.name === 'dist-es' ? bundledFiles(dir, path) : [];
    return path === 'package.json' || path.startsWith('dist-es/') ? [path] : [];
  });

/**
 * esbuild aliases that bundle each installed `@aws-sdk/client-*` package from a copy whose schema modules
 * have literal trait keys (`literalTraitKeys`): `{ '@aws-sdk/client-ec2': '<root>/.sdk-build/<key>/node_modules/@aws-sdk/client-ec2' }`.
 * The copy holds package.json and `dist-es/` only, hard-linked but for the rewritten schema modules, under a
 * `node_modules/` of its own so its imports (`@smithy/core`, ...) resolve to the project's packages as the
 * original's do. Copies are keyed by package version and made once, atomically (concurrent synths each
 * build in a temporary directory and keep the first one renamed into place). A package without computed
 * keys is left as it is (no alias).
 */
export const treeShakableSdk = (root: string): Record<string, string> => {
  const scope = join(root, 'node_modules', '@aws-sdk');
  if (!existsSync(scope)) return {};
  const aliases: Record<string, string> = {};
  for (const name of readdirSync(scope)
    .filter((n) => n.startsWith('client-'))
    .sort()) {
    const pkgDir = join(scope, name);
    const pkgJson = join(pkgDir, 'package.json');
    if (!existsSync(pkgJson) || !existsSync(join(pkgDir, 'dist-es'))) continue;
    const { version } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
    const pkg = `@aws-sdk/${name}`;
    const target = join(root, '.sdk-build', `${name}@${version}-${REWRITE_VERSION}`);
    const copy = join(target, 'node_modules', pkg);
    if (!existsSync(join(target, 'unchanged')) && existsSync(join(copy, 'package.json'))) {
      aliases[pkg] = copy;
      continue;
    }
    if (existsSync(join(target, 'unchanged'))) continue;
    const files = bundledFiles(pkgDir);
    const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
    let rewritten = 0;
    for (const f of files) {
      const to = join(tmp, 'node_modules', pkg, f);
      mkdirSync(dirname(to), { recursive: true });
      if (SCHEMAS.test(f)) {
        const r = literalTraitKeys(readFileSync(join(pkgDir, f), 'utf8'));
        rewritten += r.replaced;
        writeFileSync(to, r.source);
      } else linkOrCopy(join(pkgDir, f), to);
    }
    if (rewritten === 0) {
      // Nothing to rewrite (a client without computed keys): remember it, and bundle the original.
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(target, { recursive: true });
      writeFileSync(join(target, 'unchanged'), '');
      continue;
    }
    try {
      renameSync(tmp, target);
    } catch (e) {
      // Another synth put its copy in place first: the same files, keep it.
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(join(copy, 'package.json'))) {
        throw new Error(`could not prepare ${target} for bundling ${pkg}: ${(e as Error).message}`);
      }
    }
    aliases[pkg] = copy;
  }
  return aliases;
};
