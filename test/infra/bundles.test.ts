import { build, type Metafile } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildFunction,
  builtinAlias,
  ON_FIRST_USE,
  functionBuildOptions,
  lambdaEsbuildOptions,
  outputsRelativeTo,
  requireShimWhereUsed,
  VIA_REQUIRE,
} from '../../infra/bundling.js';
import { EMBEDDED_CONFIG, embedDefine } from '../../shared/config/embedded.js';
import { loadExample } from '../support/examples.js';
import { staticClosure } from '../../bench/cold/loaded.js';
import { literalTraitKeys, SDK_BARRELS, splitSchemas } from '../../infra/sdk-tree-shaking.js';

// What each function's bundle carries, read from esbuild's metafile with the shipped settings: only the
// modules that produce output count (tree-shaken ones do not). The bench measures the sizes and times;
// this pins what must never come back: pg outside the verifier, clients a function cannot use, the
// config schema (functions read their config as data), the sandbox's local provider.
const FUNCTIONS = [
  'backup',
  'retention',
  'drill',
  'drill-verify',
  'drill-verify-cache',
  'cost',
  'scaling',
  'report',
] as const;
type Fn = (typeof FUNCTIONS)[number];

const shipped = {} as Record<Fn, string[]>;
/** Bytes each surviving input puts in the bundle (all its chunks), by its path from the project root. */
const bytes = {} as Record<Fn, Record<string, number>>;
/** The bundle's code: every output file (the entry and its chunks), by its name in the bundle directory. */
const files = {} as Record<Fn, Record<string, string>>;
const metafiles = {} as Record<Fn, Metafile>;
/** All of a bundle's code, for what must appear in no chunk. */
const code = (fn: Fn) => Object.values(files[fn]).join('\n');

/** The modules that survive in any output of a function's bundle, as paths from the project root or node_modules. */
const survivors = (meta: Metafile): string[] => [
  ...new Set(
    Object.values(meta.outputs).flatMap((o) =>
      Object.entries(o.inputs)
        .filter(([, i]) => i.bytesInOutput > 0)
        .map(([path]) => path.replace(/^.*?node_modules\//, 'node_modules/')),
    ),
  ),
];

const has = (fn: Fn, pattern: RegExp) => shipped[fn].filter((p) => pattern.test(p));

/**
 * What is surely loaded when each unit of a bundle loads: the entry (index.mjs, every trigger) and every chunk
 * an `await import()` loads, each with its static imports and what loaded the import (of several importers,
 * only what all of them load). In breadth-first order from the entry.
 */
const loadSets = (meta: Metafile): Map<string, Set<string>> => {
  const sets = new Map<string, Set<string>>([['index.mjs', new Set(staticClosure(meta))]]);
  const todo = ['index.mjs'];
  while (todo.length) {
    const unit = todo.shift()!;
    const loaded = sets.get(unit)!;
    for (const f of loaded)
      for (const i of meta.outputs[f]!.imports)
        if (i.kind === 'dynamic-import' && !i.external) {
          const next = new Set([...loaded, ...staticClosure(meta, i.path)]);
          const before = sets.get(i.path);
          const both = before ? new Set([...before].filter((x) => next.has(x))) : next;
          if (before && both.size === before.size) continue;
          sets.set(i.path, both);
          todo.push(i.path);
        }
  }
  return sets;
};

beforeAll(async () => {
  const define = { [EMBEDDED_CONFIG]: embedDefine(loadExample('prod')) };
  await Promise.all(
    FUNCTIONS.map(async (fn) => {
      // As infra/steward-function.ts ships them (the same options: splitting, the SDK's tree-shakable copies,
      // the built-ins through CommonJS), into a directory that is never written.
      const outdir = join(tmpdir(), `steward-bundle-${fn}`);
      const r = await build({
        ...functionBuildOptions(`functions/${fn}/handler.ts`, outdir, define),
        write: false,
        logLevel: 'silent',
      });
      const meta = outputsRelativeTo(r.metafile, outdir);
      metafiles[fn] = meta;
      shipped[fn] = survivors(meta);
      files[fn] = Object.fromEntries(
        // As buildFunction writes them: the require shim only where a chunk names `require`.
        r.outputFiles
          .filter((f) => f.path.endsWith('.mjs'))
          .map((f) => [relative(outdir, f.path), requireShimWhereUsed(f.text)]),
      );
      bytes[fn] = {};
      for (const o of Object.values(meta.outputs))
        for (const [path, i] of Object.entries(o.inputs))
          if (i.bytesInOutput > 0) bytes[fn][path] = (bytes[fn][path] ?? 0) + i.bytesInOutput;
    }),
  );
});

describe('how each function is split', () => {
  it('is an entry (index.mjs) and chunks beside it, every one ESM with its source map, and the require shim where it names require', () => {
    for (const fn of FUNCTIONS) {
      const names = Object.keys(files[fn]);
      expect(names, fn).toContain('index.mjs');
      // The SDK's credential providers it never reaches on Lambda are chunks already: several files.
      expect(names.length, fn).toBeGreaterThan(2);
      expect(metafiles[fn].outputs['index.mjs']?.entryPoint, fn).toBe(`functions/${fn}/handler.ts`);
      for (const [name, text] of Object.entries(files[fn])) {
        expect(name, fn).toMatch(/^[\w-]+\.mjs$/);
        // The shim's line, blank where nothing names `require` (so the source map's lines stay right).
        const shim = text.startsWith(`${lambdaEsbuildOptions.banner.js}\n`);
        expect(shim || text.startsWith('\n'), `${fn} ${name}`).toBe(true);
        if (shim)
          expect(text.slice(lambdaEsbuildOptions.banner.js.length), `${fn} ${name}`).toMatch(/\brequire\b/);
        expect(text, `${fn} ${name}`).toContain(`//# sourceMappingURL=${name}.map`);
        expect(metafiles[fn].outputs[`${name}.map`], `${fn} ${name}`).toBeDefined();
      }
    }
  });

  it("drill's janitor is a chunk of its own, which the select task (index.mjs and its static imports) does not load", () => {
    const meta = metafiles.drill;
    const janitor = Object.entries(meta.outputs).filter(
      ([f, o]) => f.endsWith('.mjs') && (o.inputs['shared/drill/janitor.ts']?.bytesInOutput ?? 0) > 0,
    );
    expect(janitor.map(([f]) => f)).toEqual([expect.stringMatching(/^janitor-\w+\.mjs$/)]);
    const loaded = new Set(staticClosure(meta));
    expect(loaded.has('index.mjs')).toBe(true);
    expect(loaded.has(janitor[0]![0])).toBe(false);
    // index.mjs reaches it only through `await import()`.
    const dynamic = [...loaded].flatMap((f) =>
      meta.outputs[f]!.imports.filter((i) => i.kind === 'dynamic-import').map((i) => i.path),
    );
    expect(dynamic).toContain(janitor[0]![0]);
  });
});

describe('what each function bundle carries', () => {
  it('pg, and the verification engine, only in the verifier', () => {
    for (const fn of FUNCTIONS) {
      const pg = has(fn, /^node_modules\/pg(-[a-z]+)?\//);
      const engine = has(fn, /^shared\/drill\/verifier\//);
      if (fn === 'drill-verify') {
        expect(pg.length, fn).toBeGreaterThan(0);
        expect(engine.length, fn).toBeGreaterThan(0);
      } else {
        expect(pg, fn).toEqual([]);
        expect(engine, fn).toEqual([]);
      }
    }
  });

  it("in the verifier, pg's Client without its pool or native binding (which no verification runs)", () => {
    expect(has('drill-verify', /^node_modules\/pg\/lib\/client\.js$/)).toHaveLength(1);
    expect(has('drill-verify', /^node_modules\/(pg-pool\/|pg\/lib\/native\/|pg\/lib\/index\.js$)/)).toEqual(
      [],
    );
  });

  it('in the verifier, only the clients it can reach from its isolated VPC: none but Secrets Manager', () => {
    const clients = new Set(
      shipped['drill-verify']
        .map((p) => /^node_modules\/@aws-sdk\/(client-[a-z-]+|lib-[a-z-]+|rds-signer)\//.exec(p)?.[1])
        .filter(Boolean),
    );
    expect([...clients].sort()).toEqual(['client-secrets-manager', 'rds-signer']);
  });

  it('no config schema and no local sandbox code in any function: the config is data', () => {
    for (const fn of FUNCTIONS) {
      expect(has(fn, /^shared\/config\/(schema|files|reference)\.ts$/), fn).toEqual([]);
      expect(has(fn, /^shared\/drill\/local\//), fn).toEqual([]);
      expect(has(fn, /^node_modules\/yaml\//), fn).toEqual([]);
    }
  });

  it('no zod in any function: triggers, events and environments are parsed with shared/valid.ts', () => {
    for (const fn of FUNCTIONS) {
      expect(has(fn, /^node_modules\/zod\//), fn).toEqual([]);
      // Nor what builds zod schemas from the kit's: the config side only.
      expect(
        has(fn, /^shared\/(zod|config\/(from-valid|strict|issues|consistency|ebs-verifier))\.ts$/),
        fn,
      ).toEqual([]);
      expect(has(fn, /^shared\/valid\.ts$/), fn).toHaveLength(1);
    }
  });

  it('no Powertools in any function: shared/observability writes its log and EMF format itself', () => {
    for (const fn of FUNCTIONS) expect(has(fn, /^node_modules\/@aws-lambda-powertools\//), fn).toEqual([]);
  });

  it("the SDK clients' schemas are tree-shaken: only the shapes of the commands a function sends", () => {
    for (const fn of FUNCTIONS) {
      const clients = Object.keys(bytes[fn]).filter((p) =>
        /node_modules\/@aws-sdk\/client-[a-z0-9-]+\//.test(p),
      );
      // Every client comes from its rewritten copy (infra/sdk-tree-shaking.ts), none as installed.
      expect(
        clients.filter((p) => !p.startsWith('.sdk-build/')),
        fn,
      ).toEqual([]);
    }
    // EC2's whole model is ~550 KB of output; the functions that send EC2 commands keep 30-50 KB of it.
    for (const fn of ['backup', 'retention', 'drill', 'report'] as const) {
      // The schema module and the modules it is split into (infra/sdk-tree-shaking.ts, splitSchemas).
      const ec2 = Object.entries(bytes[fn])
        .filter(([p]) => /\/client-ec2\/dist-es\/schemas\/schemas_0(\.\w+)?\.js$/.test(p))
        .reduce((n, [, b]) => n + b, 0);
      expect(ec2, fn).toBeGreaterThan(0);
      expect(ec2, fn).toBeLessThan(64 * 1024);
    }
  });

  it('every SDK client whose class a trigger loads has a command of its own loaded with it', () => {
    // Commands a client's own code imports (S3's session for directory buckets, DynamoDB's endpoint
    // discovery): they come with the class, so they do not count as steward's.
    const OWN_COMMANDS = new Set([
      'client-s3/CreateSessionCommand',
      'client-dynamodb/DescribeEndpointsCommand',
    ]);
    // A client's class brings its config, endpoint rule set and serde setup: loaded without one of its
    // commands, none of it can send anything. Each client's factory is a module of its own
    // (shared/aws/clients/), imported where its adapter is, so a chunk carries only the clients its code uses.
    const unused = new Map<string, string>();
    for (const fn of FUNCTIONS) {
      const meta = metafiles[fn];
      const sdk = (f: string) =>
        Object.entries(meta.outputs[f]!.inputs)
          .filter(([, i]) => i.bytesInOutput > 0)
          .flatMap(([p]) => {
            const m =
              /@aws-sdk\/(client-[a-z0-9-]+)\/dist-es\/(?:(\w+Client)|commands\/(\w+Command))\.js$/.exec(p);
            return m ? [{ client: m[1]!, isClass: !!m[2], command: m[3] }] : [];
          });
      for (const [unit, files] of loadSets(meta)) {
        const found = [...files].flatMap(sdk);
        const sends = new Set(
          found
            .filter((x) => x.command && !OWN_COMMANDS.has(`${x.client}/${x.command}`))
            .map((x) => x.client),
        );
        for (const c of new Set(found.filter((x) => x.isClass).map((x) => x.client)))
          if (!sends.has(c) && !unused.has(`${fn} ${c}`))
            unused.set(`${fn} ${c}`, `${fn}: ${c} loaded by ${unit} with none of its commands`);
      }
    }
    expect([...unused.values()]).toEqual([]);
  });

  it('what every trigger of drill (its select task) and of scaling loads carries no schema of a command it does not send', () => {
    // The SDK copies split each client's schema module by the operations (and error registries) that reach each
    // schema (infra/sdk-tree-shaking.ts, splitSchemas), and esbuild places each module in the chunk of the code
    // that reaches it. A schema module in the static closure of index.mjs must be reached by a command loaded
    // there, or by the error registries of a client built there; the whole schema_0.js (as installed) never.
    const roots = new Map<string, Map<string, string[]>>();
    const rootsOf = (client: string) => {
      if (!roots.has(client)) {
        const file = join('node_modules', '@aws-sdk', client, 'dist-es', 'schemas', 'schemas_0.js');
        const split = splitSchemas(literalTraitKeys(readFileSync(file, 'utf8')).source);
        roots.set(client, split?.roots ?? new Map());
      }
      return roots.get(client)!;
    };
    const stray: string[] = [];
    for (const fn of ['drill', 'scaling'] as const) {
      const meta = metafiles[fn];
      const loaded = staticClosure(meta).flatMap((f) =>
        Object.entries(meta.outputs[f]!.inputs)
          .filter(([, i]) => i.bytesInOutput > 0)
          .map(([p]) => p),
      );
      const sent = new Set(
        loaded.flatMap((p) => {
          const m = /@aws-sdk\/(client-[a-z0-9-]+)\/dist-es\/commands\/(\w+)Command\.js$/.exec(p);
          return m ? [`${m[1]} ${m[2]}`] : [];
        }),
      );
      const built = new Set(
        loaded.flatMap((p) => /@aws-sdk\/(client-[a-z0-9-]+)\/dist-es\/\w+Client\.js$/.exec(p)?.[1] ?? []),
      );
      expect(sent.size, fn).toBeGreaterThan(0);
      for (const p of loaded) {
        const m = /@aws-sdk\/(client-[a-z0-9-]+)\/dist-es\/schemas\/(schemas_0(?:\.\w+)?)\.js$/.exec(p);
        if (!m) continue;
        const [, client, module] = m as unknown as [string, string, string];
        const from = rootsOf(client).get(module);
        const reached = from?.some((r) => (r === 'errors' ? built.has(client) : sent.has(`${client} ${r}`)));
        if (!reached)
          stray.push(
            `${fn}: ${client}/${module}${from ? ` (reached by ${from.join(', ') || 'nothing'})` : ' (whole)'}`,
          );
      }
    }
    expect(stray).toEqual([]);
  });

  it("what every trigger loads carries S3's REST-XML protocol, checksum streams and MD5 only where it loads S3's client", () => {
    // The SDK barrels (@aws-sdk/core/protocols, @smithy/core/serde and checksum) are bundled split, so each
    // module SDK_BARRELS puts apart is in the chunks of the code that takes it (S3's client), not in the chunk
    // of every entry that reaches the barrel (infra/sdk-tree-shaking.ts, splitBarrel): scaling's alarm carried
    // 17 KB of them.
    const apart = SDK_BARRELS.flatMap(([pkg, sub, modules]) =>
      modules.map((m) => `node_modules/${pkg}/dist-es/submodules/${sub}/${m}.js`),
    );
    const found: string[] = [];
    const checked: string[] = [];
    for (const fn of FUNCTIONS) {
      const meta = metafiles[fn];
      const loaded = staticClosure(meta).flatMap((f) =>
        Object.entries(meta.outputs[f]!.inputs)
          .filter(([, i]) => i.bytesInOutput > 0)
          .map(([p]) => p.replace(/^.*?node_modules\//, 'node_modules/')),
      );
      if (loaded.some((p) => /@aws-sdk\/client-s3\/dist-es\/S3Client\.js$/.test(p))) continue;
      checked.push(fn);
      found.push(...loaded.filter((p) => apart.includes(p)).map((p) => `${fn}: ${p}`));
    }
    expect(checked).toEqual(expect.arrayContaining(['scaling', 'drill-verify']));
    expect(found).toEqual([]);
  });

  it('retention and report carry no snapshot writer they never call: retention lists and deletes, report lists', () => {
    // esbuild keeps every member of an object a bundle builds, so the listing halves are factories of their own
    // (ebsSetStore, rdsDatabases, elastiCacheGroups): the writers and their commands stay out of these bundles.
    const command = (names: string) =>
      new RegExp(`@aws-sdk/client-(?:ec2|rds|elasticache)/dist-es/commands/(?:${names})Command\\.js$`);
    expect(
      has('retention', command('CreateSnapshots?|CopySnapshot|DescribeInstances|DescribeVolumes')),
    ).toEqual([]);
    expect(has('retention', command('DeleteSnapshot|DescribeSnapshots')).length).toBeGreaterThan(0);
    expect(
      has('report', command('CreateDB\\w*Snapshot|CopyDB\\w*Snapshot|DescribeAccountAttributes')),
    ).toEqual([]);
    expect(has('report', /client-elasticache\/dist-es\/commands\/CreateSnapshotCommand\.js$/)).toEqual([]);
    expect(has('report', command('DescribeDBInstances|DescribeReplicationGroups'))).toHaveLength(2);
    // backup takes and copies, so it keeps them (the check can fail).
    expect(has('backup', command('CreateDBSnapshot|CopyDBSnapshot|CreateSnapshots'))).toHaveLength(3);
  });

  it("no function carries the consistency document's script (infra builds the document; functions run it by name)", () => {
    for (const fn of FUNCTIONS) expect(code(fn).includes('steward-watchdog'), fn).toBe(false);
  });

  it('no function imports node:http, node:process or node:stream/web as ESM: they load what no function uses', () => {
    const names = [...VIA_REQUIRE, ...Object.keys(ON_FIRST_USE)];
    const esm = new RegExp(`(from|import)\\s*"(node:)?(${names.join('|')})"`, 'g');
    for (const fn of FUNCTIONS) {
      for (const [name, text] of Object.entries(files[fn]))
        expect(text.match(esm), `${fn} ${name}`).toBeNull();
      // Every function sends SDK requests, over node:http, which it now loads through CommonJS.
      expect(code(fn), fn).toContain('getBuiltinModule("node:http")');
    }
  });
});

describe('the require shim only where a chunk names require (infra/bundling.ts, requireShimWhereUsed)', () => {
  const SHIM = lambdaEsbuildOptions.banner.js;

  it('blanks the shim of a chunk that never names require, keeping every line', () => {
    for (const body of [
      'var a=1;export{a};',
      'var s="require";x.require(1);var requirement=2;',
      'var o={}',
    ]) {
      const text = `${SHIM}\n${body}\n//# sourceMappingURL=c.mjs.map\n`;
      const out = requireShimWhereUsed(text);
      expect(out, body).toBe(`\n${body}\n//# sourceMappingURL=c.mjs.map\n`);
      expect(out.split('\n').length).toBe(text.split('\n').length);
    }
  });

  it("keeps it where the code names require: esbuild's __require helper, a typeof check, a call, a message", () => {
    for (const body of [
      'var m=(a=>typeof require<"u"?require:a)(function(a){throw Error(a)});export{m};',
      'if(typeof require==="function")x();',
      'var c=require("node:crypto");',
      'throw Error("register it by calling [require(\'x\')]");',
    ]) {
      const text = `${SHIM}\n${body}\n`;
      expect(requireShimWhereUsed(text), body).toBe(text);
    }
    // A file without the banner (a source map, or another build's file) is left as it is.
    expect(requireShimWhereUsed('var a=require;')).toBe('var a=require;');
  });

  it('builds chunks that still require what they require: a CommonJS dependency loading a built-in runs', async () => {
    // Prepare: an entry importing a CommonJS module that requires a built-in (esbuild emits __require for it,
    // in a chunk shared by two dynamic imports), and a chunk that requires nothing.
    const dir = mkdtempSync(join(tmpdir(), 'steward-shim-'));
    try {
      const out = join(dir, 'out');
      writeFileSync(join(dir, 'dep.cjs'), "const os = require('os');\nmodule.exports = { eol: os.EOL };\n");
      writeFileSync(join(dir, 'a.mjs'), "import dep from './dep.cjs';\nexport const a = () => dep.eol;\n");
      writeFileSync(join(dir, 'b.mjs'), "import dep from './dep.cjs';\nexport const b = () => dep.eol;\n");
      writeFileSync(join(dir, 'plain.mjs'), 'export const plain = () => 42;\n');
      writeFileSync(
        join(dir, 'entry.mjs'),
        [
          'export const handler = async () => {',
          "  const [{ a }, { b }, { plain }] = await Promise.all([import('./a.mjs'), import('./b.mjs'), import('./plain.mjs')]);",
          '  return [a(), b(), plain()];',
          '};',
        ].join('\n'),
      );

      // Act
      const meta = buildFunction(join(dir, 'entry.mjs'), out);
      const mod = (await import(pathToFileURL(join(out, 'index.mjs')).href)) as {
        handler: () => Promise<unknown[]>;
      };

      // Assert: it runs; the chunk with esbuild's __require keeps the shim, the others have a blank line.
      expect(await mod.handler()).toEqual(['\n', '\n', 42]);
      const chunks = Object.keys(meta.outputs).filter((f) => f.endsWith('.mjs'));
      const texts = chunks.map((f) => readFileSync(join(out, f), 'utf8'));
      const withShim = texts.filter((t) => t.startsWith(`${SHIM}\n`));
      expect(withShim.length).toBe(1);
      expect(withShim[0]).toContain('typeof require');
      expect(texts.filter((t) => t.startsWith('\n')).length).toBe(chunks.length - 1);
      // The metafile's sizes are the files' as written.
      for (const f of chunks)
        expect(meta.outputs[f]!.bytes, f).toBe(Buffer.byteLength(readFileSync(join(out, f))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('built-ins through CommonJS (infra/bundling.ts, VIA_REQUIRE)', () => {
  it('give a bundle the same objects as the ESM imports they replace: default, named and namespace imports', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'steward-builtins-'));
    const entry = join(dir, 'entry.mjs');
    writeFileSync(
      entry,
      [
        "import http, { Agent, request } from 'node:http';",
        "import * as https from 'http';",
        "import process2, { env } from 'node:process';",
        'export const seen = { http, Agent, request, getFromNamespace: https.get, process2, env };',
      ].join('\n'),
    );
    const outfile = join(dir, 'out.mjs');
    await build({
      ...lambdaEsbuildOptions,
      alias: builtinAlias(),
      entryPoints: [entry],
      outfile,
      logLevel: 'silent',
    });
    const require = createRequire(import.meta.url);
    const http = require('node:http') as { Agent: unknown; request: unknown; get: unknown };

    try {
      // Act
      const { seen } = (await import(pathToFileURL(outfile).href)) as { seen: Record<string, unknown> };

      // Assert
      expect(readFileSync(outfile, 'utf8')).not.toMatch(/from\s*"(node:)?(http|process)"/);
      expect(seen).toEqual({
        http,
        Agent: http.Agent,
        request: http.request,
        getFromNamespace: http.get,
        process2: process,
        env: process.env,
      });
      expect(seen.http).toBe(http);
      expect(seen.env).toBe(process.env);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('read node:stream/web at the first use of an export: every export of the built-in, the same objects', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'steward-builtins-'));
    const entry = join(dir, 'entry.mjs');
    writeFileSync(
      entry,
      [
        "import { ReadableStream } from 'node:stream/web';",
        "import * as web from 'stream/web';",
        'export const seen = () => ({ ReadableStream, web: { ...web } });',
      ].join('\n'),
    );
    const outfile = join(dir, 'out.mjs');
    await build({
      ...lambdaEsbuildOptions,
      alias: builtinAlias(),
      entryPoints: [entry],
      outfile,
      logLevel: 'silent',
    });
    const require = createRequire(import.meta.url);
    const web = require('node:stream/web') as Record<string, unknown>;

    try {
      // Act
      const { seen } = (await import(pathToFileURL(outfile).href)) as {
        seen: () => { ReadableStream: unknown; web: Record<string, unknown> };
      };
      const got = seen();

      // Assert
      expect(readFileSync(outfile, 'utf8')).not.toMatch(/from\s*"(node:)?stream\/web"/);
      expect(got.ReadableStream).toBe(web.ReadableStream);
      // Its named exports (a CommonJS module's namespace also has `default`: the shim's exports object).
      const named = Object.keys(got.web).filter((k) => k !== 'default');
      expect(named.sort()).toEqual(Object.keys(web).sort());
      for (const [name, value] of Object.entries(web)) expect(got.web[name], name).toBe(value);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
