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
import { dirname, join, relative, sep } from 'node:path';

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

/** One top-level statement of a generated schema module: its text, the names it declares and reads. */
interface Statement {
  text: string;
  declares: string[];
  reads: Set<string>;
  kind: 'import' | 'decl' | 'expr';
  /** An import's module specifier, and its specifiers by local name (`A` or `A as B`). */
  from?: string;
  specifiers?: Map<string, string>;
}

/**
 * The top-level statements of a generated schema module. The generator writes each statement from column 0
 * and indents its continuation lines (or closes them with `]`, `}` or `)` at column 0), so lines are enough.
 */
const statements = (source: string): Statement[] => {
  const chunks: string[] = [];
  for (const line of source.split('\n')) {
    if (chunks.length && (line === '' || /^[\s\])}]/.test(line))) chunks[chunks.length - 1] += `\n${line}`;
    else chunks.push(line);
  }
  return chunks
    .map((text) => text.trimEnd())
    .filter(Boolean)
    .map((text): Statement => {
      const code = text.replace(/"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`|'(?:[^'\\\n]|\\.)*'/g, '""');
      // Names read: identifiers, not property names after a dot.
      const ids = new Set([...code.matchAll(/(?<![\w$.])[A-Za-z_$][\w$]*/g)].map((m) => m[0]));
      const imp = /^import\s*\{([^}]*)\}\s*from\s*"([^"]+)";?$/.exec(text);
      if (imp) {
        const specifiers = new Map<string, string>();
        for (const spec of imp[1]!.split(',').map((n) => n.trim().replace(/\s+/g, ' '))) {
          if (spec) specifiers.set(spec.split(' as ').pop()!, spec);
        }
        return {
          text,
          declares: [...specifiers.keys()],
          reads: new Set(),
          kind: 'import',
          from: imp[2]!,
          specifiers,
        };
      }
      const decl = /^(?:export\s+)?(?:const|var|let)\s+([A-Za-z_$][\w$]*)\s*=/.exec(text);
      if (!decl) return { text, declares: [], reads: ids, kind: 'expr' };
      ids.delete(decl[1]!);
      return { text, declares: [decl[1]!], reads: ids, kind: 'decl' };
    });
};

/** What `splitSchemas` makes of a schema module: its parts by file name, and where each export now lives. */
export interface SplitSchemas {
  /** Module source by file name (beside the schema module, so its relative imports still resolve). */
  modules: Map<string, string>;
  /** The schema module's new text: every original export, re-exported by name from the module that declares it. */
  barrel: string;
  /** The file name (without `.js`) of the module that declares each original export. */
  home: Map<string, string>;
  /** What reaches each module: operation names, `errors` (the error registries); none for the rest. */
  roots: Map<string, string[]>;
}

/**
 * A client's schema module (`schemas_0.js`) split by who reaches what, so a bundle split into chunks places each
 * schema in the chunk of the code that sends its commands. esbuild puts a module's kept code in one chunk: the one
 * every entry reaching the module loads. The client's runtime config imports `errorTypeRegistries` from the
 * schema module, so each command schema any chunk of a function keeps rode along in the chunk that builds the
 * client, loaded by every trigger (drill's select task: RDS, ElastiCache and S3 schemas of commands other tasks
 * send).
 *
 * The roots are each operation schema (`export var Foo$ = [9, ...]`) and the error registries (with the
 * statements that register errors). Every top-level declaration goes to the module of the set of roots that
 * reach it (string constants included, so no byte is duplicated): `schemas_0.<Operation>.js` when one operation
 * reaches it, `schemas_0.errors.js` when only the registries do, `schemas_0.shared<n>.js` for each other set,
 * `schemas_0.rest.js` when nothing does. A declaration's set contains the set of whatever reads it, so modules
 * import only from modules of larger sets: no import cycle, and each module evaluates after what it reads, in
 * the original order within it. Each module imports from the original specifiers only the names it reads.
 * Undefined (leave the module whole) when the module has no operation schema or has a top-level statement other
 * than a declaration, an import or an error registration.
 */
export const splitSchemas = (source: string): SplitSchemas | undefined => {
  const all = statements(source);
  const ops = new Map<number, string>();
  all.forEach((s, i) => {
    const op = /^export var ([A-Za-z_$][\w$]*\$) = \[9,/.exec(s.text);
    if (op) ops.set(i, op[1]!.slice(0, -1));
  });
  if (!ops.size) return undefined;
  const registers = (s: Statement) =>
    s.kind === 'expr' && /^[A-Za-z_$][\w$]*_registry\.registerError\(/.test(s.text);
  if (all.some((s) => s.kind === 'expr' && !registers(s))) return undefined;
  const declaredBy = new Map<string, number>();
  all.forEach((s, i) => s.declares.forEach((d) => declaredBy.set(d, i)));
  // The set of roots that reach each statement, as a sorted key.
  const reach = all.map(() => new Set<string>());
  const visit = (i: number, root: string) => {
    if (reach[i]!.has(root)) return;
    reach[i]!.add(root);
    for (const r of all[i]!.reads) {
      const j = declaredBy.get(r);
      if (j !== undefined) visit(j, root);
    }
  };
  all.forEach((s, i) => {
    if (ops.has(i)) visit(i, `op:${ops.get(i)!}`);
    else if (registers(s) || s.declares.some((d) => d === 'errorTypeRegistries' || d.endsWith('_registry')))
      visit(i, 'errors');
  });
  // Module names, in order of first appearance.
  const nameOf = new Map<string, string>();
  const roots = new Map<string, string[]>();
  let shared = 0;
  const keyOf = (i: number) => [...reach[i]!].sort().join(' ');
  const moduleOf = all.map((s, i) => {
    if (s.kind === 'import') return undefined;
    const key = keyOf(i);
    if (!nameOf.has(key)) {
      const from = [...reach[i]!].sort().map((r) => r.replace(/^op:/, ''));
      const name =
        from.length === 0
          ? 'schemas_0.rest'
          : from.length > 1
            ? `schemas_0.shared${shared++}`
            : from[0] === 'errors'
              ? 'schemas_0.errors'
              : `schemas_0.${from[0]!}`;
      nameOf.set(key, name);
      roots.set(name, from);
    }
    return nameOf.get(key)!;
  });
  const exported = new Set(all.flatMap((s) => (/^export\s/.test(s.text) ? s.declares : [])));
  const home = new Map<string, string>();
  all.forEach((s, i) => s.declares.forEach((d) => moduleOf[i] && home.set(d, moduleOf[i]!)));
  // What each module reads from elsewhere, and what others read from it.
  const readsFrom = new Map<string, Map<string, Set<string>>>();
  const needed = new Map<string, Set<string>>();
  all.forEach((s, i) => {
    const m = moduleOf[i];
    if (!m) return;
    for (const r of s.reads) {
      const j = declaredBy.get(r);
      if (j === undefined) continue;
      const source = moduleOf[j] ?? `import:${j}`;
      if (source === m) continue;
      const by = readsFrom.get(m) ?? new Map<string, Set<string>>();
      by.set(source, (by.get(source) ?? new Set()).add(r));
      readsFrom.set(m, by);
      if (moduleOf[j]) needed.set(source, (needed.get(source) ?? new Set()).add(r));
    }
  });
  const modules = new Map<string, string>();
  for (const m of new Set(moduleOf.filter((x): x is string => !!x))) {
    const head = [...(readsFrom.get(m) ?? [])].map(([source, names]) => {
      if (source.startsWith('import:')) {
        const imp = all[Number(source.slice(7))]!;
        const specs = [...names].map((n) => imp.specifiers!.get(n)!);
        return `import { ${specs.join(', ')} } from "${imp.from!}";`;
      }
      return `import { ${[...names].join(', ')} } from "./${source}";`;
    });
    const body = all.filter((_, i) => moduleOf[i] === m).map((s) => s.text);
    const extra = [...(needed.get(m) ?? [])].filter((n) => !exported.has(n));
    const tail = extra.length ? [`export { ${extra.join(', ')} };`] : [];
    modules.set(m, `${[...head, ...body, ...tail].join('\n')}\n`);
  }
  const byModule = new Map<string, string[]>();
  for (const name of exported) {
    const m = home.get(name)!;
    byModule.set(m, [...(byModule.get(m) ?? []), name]);
  }
  const barrel = [...byModule]
    .map(([m, names]) => `export { ${names.join(', ')} } from "./${m}";`)
    .join('\n');
  return {
    modules,
    barrel: `${barrel}\n`,
    home: new Map([...home].filter(([n]) => exported.has(n))),
    roots,
  };
};

/**
 * An `import { ... } from "<dir>/schemas/schemas_0"` of a client's module written as one import per module of
 * the split schemas (`splitSchemas`) that declares what it imports. Other text is left as it is.
 */
export const importFromSplitSchemas = (source: string, home: Map<string, string>): string =>
  source.replace(
    /^import \{([^}]*)\} from "((?:\.\.?\/)+(?:[\w-]+\/)*)schemas_0";$/gm,
    (all, names: string, dir: string) => {
      const by = new Map<string, string[]>();
      for (const spec of names
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean)) {
        const m = home.get(spec.split(/\s+as\s+/)[0]!);
        if (!m) return all;
        by.set(m, [...(by.get(m) ?? []), spec]);
      }
      return [...by].map(([m, specs]) => `import { ${specs.join(', ')} } from "${dir}${m}";`).join('\n');
    },
  );

// Raise when literalTraitKeys, splitSchemas or importFromSplitSchemas change: the prepared copies are keyed by it.
const REWRITE_VERSION = 2;

const SCHEMAS = /^dist-es\/schemas\/schemas_\d+\.js$/;
const SCHEMA_0 = 'dist-es/schemas/schemas_0.js';

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
 * Its schema module is split by the operations that reach each schema (`splitSchemas`), and the modules that
 * imported it (each command, the runtime config) import from the parts (`importFromSplitSchemas`).
 * The copy holds package.json and `dist-es/` only, hard-linked but for the rewritten modules, under a
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
    // The schema module split first: where each of its exports now lives, for the modules that import them.
    let home: Map<string, string> | undefined;
    for (const f of files) {
      const to = join(tmp, 'node_modules', pkg, f);
      mkdirSync(dirname(to), { recursive: true });
      if (SCHEMAS.test(f)) {
        const r = literalTraitKeys(readFileSync(join(pkgDir, f), 'utf8'));
        rewritten += r.replaced;
        const split = f === SCHEMA_0 ? splitSchemas(r.source) : undefined;
        writeFileSync(to, split?.barrel ?? r.source);
        if (split) {
          home = split.home;
          rewritten += split.modules.size;
          for (const [m, text] of split.modules) writeFileSync(join(dirname(to), `${m}.js`), text);
        }
      }
    }
    for (const f of files) {
      if (SCHEMAS.test(f)) continue;
      const to = join(tmp, 'node_modules', pkg, f);
      mkdirSync(dirname(to), { recursive: true });
      const text = home && f.endsWith('.js') ? readFileSync(join(pkgDir, f), 'utf8') : undefined;
      const rewired = text === undefined ? undefined : importFromSplitSchemas(text, home!);
      if (rewired !== undefined && rewired !== text) writeFileSync(to, rewired);
      else linkOrCopy(join(pkgDir, f), to);
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

/** What `splitBarrel` makes of a barrel: the barrel, now only `export *` lines, and its new modules by file name. */
export interface SplitBarrel {
  barrel: string;
  modules: Map<string, string>;
}

/**
 * A barrel of the SDK split so that it is nothing but `export * from` lines: each named re-export of a module
 * `apart` names (`export { a, b as c } from "./m";`) in a module of its own (`re-<n>.js`), and the rest (the
 * other re-exports, the barrel's own imports, declarations and local export lists, in their order) in
 * `common.js`, the barrel re-exporting each with `export *`.
 *
 * Why: esbuild puts a module in the chunk of every entry point that reaches it, and from a barrel any of whose
 * code or named re-exports is used (the SDK's barrels all are), an entry reaches every module the barrel
 * imports, used or not. A module of star re-exports alone is never used itself: an import through it binds to
 * the module that declares the name, and an entry reaches a module apart only when it takes one of its names.
 * Only the modules `apart` names go apart: the rest stays one module, reached as the whole barrel was, because
 * splitting every line gives each protocol and helper an entry set of its own and the bundles more chunks
 * (docs/benchmarks.md, s18-cold-scaling).
 *
 * The exports are the same bindings under the same names: each name the barrel exported comes from exactly one
 * of the new modules, as it did from one statement, and a star re-export carries every name but `default`.
 * Undefined (leave the barrel as it is) when it has a default export or nothing goes apart.
 */
export const splitBarrel = (
  source: string,
  apart: (specifier: string) => boolean,
): SplitBarrel | undefined => {
  const statements: string[] = [];
  for (const line of source.split('\n')) {
    if (statements.length && /^[\s\])}]/.test(line)) statements[statements.length - 1] += `\n${line}`;
    else if (line.trim()) statements.push(line);
  }
  if (statements.some((s) => /^export\s+default\b|^export\s*\{[^}]*\bdefault\b/.test(s))) return undefined;
  const barrel = ['export * from "./common.js";'];
  const modules = new Map<string, string>();
  const common: string[] = [];
  for (const s of statements) {
    const spec = /^export \{[^}]*\} from "([^"]+)";$/.exec(s)?.[1];
    if (spec !== undefined && apart(spec)) {
      const name = `re-${modules.size}.js`;
      modules.set(name, `import {} from "./common.js";\n${s}\n`);
      barrel.push(`export * from "./${name}";`);
    } else {
      common.push(s);
    }
  }
  if (!modules.size) return undefined;
  modules.set('common.js', `${common.join('\n')}\n`);
  return { barrel: `${barrel.join('\n')}\n`, modules };
};

/**
 * The SDK barrels split by `splitBarrel`, by package and subpath, and the modules each puts apart: what only
 * S3 (and its flexible checksums) use. Each client's runtime config imports its protocol from
 * `@aws-sdk/core/protocols`, and `@smithy/core`'s own modules import `serde` and `checksum`, so S3's REST-XML
 * protocol, its checksum streams, MD5 and CRC32 sat in a chunk every trigger loads wherever S3 was in any chunk
 * of the function (scaling's alarm: 17 KB it never runs).
 */
export const SDK_BARRELS = [
  [
    '@aws-sdk/core',
    'protocols',
    ['xml/AwsRestXmlProtocol', 'xml/XmlCodec', 'xml/XmlShapeSerializer', 'xml/parseXmlBody'],
  ],
  [
    '@smithy/core',
    'serde',
    [
      'util-stream/checksum/ChecksumStream',
      'util-stream/checksum/createChecksumStream',
      'util-stream/createBufferedReadable',
      'util-stream/getAwsChunkedEncodingStream',
    ],
  ],
  ['@smithy/core', 'checksum', ['md5/Md5Js', 'md5/Md5Node', 'hash-stream-node/readableStreamHasher']],
] as const;

// Raise when splitBarrel or treeShakableBarrels change: the prepared barrels are keyed by it.
const BARREL_REWRITE_VERSION = 1;

/** The ES module a package's `exports` gives `./<sub>` (its `module` or `import` condition), if any. */
const esmOf = (pkgDir: string, sub: string): string | undefined => {
  const { exports } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
    exports?: Record<string, unknown>;
  };
  const entry = exports?.[`./${sub}`] as Record<string, unknown> | undefined;
  const file = entry?.module ?? entry?.import;
  return typeof file === 'string' ? join(pkgDir, file) : undefined;
};

/** Whether `file` of the package at `pkgDir` has no side effects by its package.json (`sideEffects`). */
const sideEffectFree = (pkgDir: string, file: string): boolean => {
  const { sideEffects } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
    sideEffects?: unknown;
  };
  if (sideEffects === false) return true;
  return (
    Array.isArray(sideEffects) &&
    sideEffects.every((p) => typeof p === 'string' && !p.includes('*') && join(pkgDir, p) !== file)
  );
};

/**
 * esbuild aliases that bundle each barrel of `SDK_BARRELS` split (`splitBarrel`):
 * `{ '@smithy/core/serde': '<root>/.sdk-build/smithy-core-serde@<version>-<n>/index.js' }`. The copy is the
 * barrel and its new modules alone, their relative imports pointing back at the installed package's modules
 * (one instance of each, whoever imports it), beside a package.json that keeps the package's word that they
 * have no side effects. Made once per package version, atomically; a barrel with nothing to split gets no alias.
 */
export const treeShakableBarrels = (root: string): Record<string, string> => {
  const aliases: Record<string, string> = {};
  for (const [pkg, sub, apart] of SDK_BARRELS) {
    const pkgDir = join(root, 'node_modules', pkg);
    if (!existsSync(join(pkgDir, 'package.json'))) continue;
    const barrel = esmOf(pkgDir, sub);
    if (!barrel || !existsSync(barrel) || !sideEffectFree(pkgDir, barrel)) continue;
    const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
    const name = `${pkg.replace(/^@/, '').replace('/', '-')}-${sub}`;
    const target = join(root, '.sdk-build', `${name}@${version}-${BARREL_REWRITE_VERSION}`);
    const file = join(target, 'index.js');
    if (!existsSync(file) && !existsSync(join(target, 'unchanged'))) {
      // Relative imports back to the installed package's modules, from the copy's directory.
      const back = relative(target, dirname(barrel)).split(sep).join('/');
      const split = splitBarrel(
        readFileSync(barrel, 'utf8').replace(
          / from "\.\/([^"]+)";$/gm,
          (_, p: string) => ` from "${back}/${p}";`,
        ),
        (spec) => (apart as readonly string[]).some((m) => spec === `${back}/${m}`),
      );
      const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
      mkdirSync(tmp, { recursive: true });
      if (split) {
        writeFileSync(join(tmp, 'index.js'), split.barrel);
        for (const [m, text] of split.modules) writeFileSync(join(tmp, m), text);
        writeFileSync(
          join(tmp, 'package.json'),
          `${JSON.stringify({ private: true, sideEffects: false })}\n`,
        );
      } else {
        writeFileSync(join(tmp, 'unchanged'), '');
      }
      try {
        renameSync(tmp, target);
      } catch (e) {
        // Another synth put its copy in place first: the same files, keep it.
        rmSync(tmp, { recursive: true, force: true });
        if (!existsSync(file) && !existsSync(join(target, 'unchanged'))) {
          throw new Error(`could not prepare ${target} for bundling ${pkg}/${sub}: ${(e as Error).message}`);
        }
      }
    }
    if (existsSync(file)) aliases[`${pkg}/${sub}`] = file;
  }
  return aliases;
};
