import { build, type Metafile } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtinAlias, lambdaEsbuildOptions, sdkAlias, VIA_REQUIRE } from '../../infra/bundling.js';
import { EMBEDDED_CONFIG, embedDefine } from '../../shared/config/embedded.js';
import { loadExample } from '../support/examples.js';

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
/** Bytes each surviving input puts in the bundle, by its path from the project root. */
const bytes = {} as Record<Fn, Record<string, number>>;
/** The bundle's code. */
const code = {} as Record<Fn, string>;

/** The modules that survive in a function's bundle, as paths from the project root or node_modules. */
const survivors = (meta: Metafile): string[] => {
  const out = Object.values(meta.outputs).find((o) => o.entryPoint)!;
  return Object.entries(out.inputs)
    .filter(([, i]) => i.bytesInOutput > 0)
    .map(([path]) => path.replace(/^.*?node_modules\//, 'node_modules/'));
};

const has = (fn: Fn, pattern: RegExp) => shipped[fn].filter((p) => pattern.test(p));

beforeAll(async () => {
  const define = { [EMBEDDED_CONFIG]: embedDefine(loadExample('prod')) };
  await Promise.all(
    FUNCTIONS.map(async (fn) => {
      const r = await build({
        ...lambdaEsbuildOptions,
        // As infra/steward-function.ts ships them: the SDK clients from their tree-shakable copies, and the
        // built-ins loaded through CommonJS.
        alias: { ...sdkAlias(), ...builtinAlias() },
        define,
        entryPoints: [`functions/${fn}/handler.ts`],
        outfile: `${fn}.mjs`,
        write: false,
        metafile: true,
        logLevel: 'silent',
      });
      shipped[fn] = survivors(r.metafile);
      code[fn] = r.outputFiles.find((f) => f.path.endsWith('.mjs'))!.text;
      const out = Object.values(r.metafile.outputs).find((o) => o.entryPoint)!;
      bytes[fn] = Object.fromEntries(
        Object.entries(out.inputs)
          .filter(([, i]) => i.bytesInOutput > 0)
          .map(([path, i]) => [path, i.bytesInOutput]),
      );
    }),
  );
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
      const ec2 = Object.entries(bytes[fn]).find(([p]) =>
        p.endsWith('/client-ec2/dist-es/schemas/schemas_0.js'),
      );
      expect(ec2?.[1], fn).toBeGreaterThan(0);
      expect(ec2![1], fn).toBeLessThan(64 * 1024);
    }
  });

  it("no function carries the consistency document's script (infra builds the document; functions run it by name)", () => {
    for (const fn of FUNCTIONS) expect(code[fn].includes('steward-watchdog'), fn).toBe(false);
  });

  it('no function imports node:http or node:process as ESM: their ESM view loads what no function uses', () => {
    const esm = new RegExp(`(from|import)\\s*"(node:)?(${VIA_REQUIRE.join('|')})"`, 'g');
    for (const fn of FUNCTIONS) {
      expect(code[fn].match(esm), fn).toBeNull();
      // Every function sends SDK requests, over node:http, which it now loads through CommonJS.
      expect(code[fn], fn).toContain('getBuiltinModule("node:http")');
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
});
