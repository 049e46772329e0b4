import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { barrelAlias, sdkAlias } from '../../infra/bundling.js';
import {
  importFromSplitSchemas,
  literalTraitKeys,
  SDK_BARRELS,
  splitBarrel,
  splitSchemas,
  treeShakableBarrels,
  treeShakableSdk,
} from '../../infra/sdk-tree-shaking.js';

const dirs: string[] = [];
const tmp = (label: string) => {
  const d = mkdtempSync(join(tmpdir(), `${label}-`));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('literalTraitKeys', () => {
  it('writes the literal key for a computed key that names a module string constant, and nothing else', () => {
    const src = [
      'const _eQN = "ec2QueryName";',
      'const _xN = "xmlName";',
      'const _n = 42;',
      'export var A$ = [3, n0, _A, 0, [_B], [[0, { [_eQN]: `B`, [_xN]: _b }]]];',
      'export var C$ = [3, n0, _C, { [_n]: 1, [other]: 2 }, "[_xN]: stays"];',
    ].join('\n');
    const r = literalTraitKeys(src);
    expect(r.replaced).toBe(2);
    expect(r.source.split('\n').slice(3)).toEqual([
      'export var A$ = [3, n0, _A, 0, [_B], [[0, { "ec2QueryName": `B`, "xmlName": _b }]]];',
      // A number constant, an unknown name and text inside a string are left alone.
      'export var C$ = [3, n0, _C, { [_n]: 1, [other]: 2 }, "[_xN]: stays"];',
    ]);
  });
});

// A schema module as the SDK generates it (literal trait keys already): two operations that share a
// structure, an error registry, an export nothing reaches.
const SCHEMAS = [
  'const _A = "A";',
  'const _AIn = "AInput";',
  'const _B = "B";',
  'const _BIn = "BInput";',
  'const _E = "Oops";',
  'const _S = "Shared";',
  'const _m = "message";',
  'const _s = "smithy.ts.sdk.synthetic.x";',
  'const n0 = "com.amazonaws.x";',
  'import { TypeRegistry } from "@smithy/core/schema";',
  'import { Oops, Unused } from "../models/errors";',
  'const n0_registry = new TypeRegistry(n0);',
  'export var Oops$ = [-3, n0, _E,',
  '    { "error": "client" },',
  '    [_m],',
  '    [0]',
  '];',
  'n0_registry.registerError(Oops$, Oops);',
  'export const errorTypeRegistries = [',
  '    n0_registry,',
  '];',
  'export var Shared$ = [3, n0, _S, 0, [_m], [0]];',
  'export var AInput$ = [3, n0, _AIn, 0, [_S], [() => Shared$]];',
  'export var BInput$ = [3, n0, _BIn, 0, [_S, _m], [() => Shared$, 0]];',
  'var Lonely = [3, n0, "Lonely", 0, [], []];',
  'export var Orphan$ = [3, n0, "Orphan", 0, [], [() => Lonely]];',
  'export var A$ = [9, n0, _A,',
  '    0, () => AInput$, () => __Unit',
  '];',
  'export var B$ = [9, n0, _B,',
  '    0, () => BInput$, () => __Unit',
  '];',
  'var __Unit = "unit";',
  '',
].join('\n');

describe('splitSchemas', () => {
  it('puts each declaration in the module of the set of operations (or error registries) that reach it', () => {
    const r = splitSchemas(SCHEMAS)!;
    const lines = (m: string) => r.modules.get(m)!.split('\n').filter(Boolean);
    expect(Object.fromEntries(r.roots)).toEqual({
      'schemas_0.A': ['A'],
      'schemas_0.B': ['B'],
      'schemas_0.errors': ['errors'],
      'schemas_0.shared0': ['A', 'B'],
      'schemas_0.shared1': ['errors', 'A', 'B'],
      'schemas_0.rest': [],
    });
    // What everything reads (the namespace, the message) once, in the module of everything.
    expect(lines('schemas_0.shared1')).toEqual([
      'const _m = "message";',
      'const n0 = "com.amazonaws.x";',
      'export { n0, _m };',
    ]);
    // Each module imports what it reads, only that, from the original specifiers or the modules of larger sets,
    // and keeps its statements in their order.
    expect(lines('schemas_0.A')).toEqual([
      'import { n0 } from "./schemas_0.shared1";',
      'import { _S, Shared$, __Unit } from "./schemas_0.shared0";',
      'const _A = "A";',
      'const _AIn = "AInput";',
      'export var AInput$ = [3, n0, _AIn, 0, [_S], [() => Shared$]];',
      'export var A$ = [9, n0, _A,',
      '    0, () => AInput$, () => __Unit',
      '];',
    ]);
    expect(lines('schemas_0.shared0')).toEqual([
      'import { n0, _m } from "./schemas_0.shared1";',
      'const _S = "Shared";',
      'export var Shared$ = [3, n0, _S, 0, [_m], [0]];',
      'var __Unit = "unit";',
      'export { _S, __Unit };',
    ]);
    expect(lines('schemas_0.errors')).toEqual([
      'import { TypeRegistry } from "@smithy/core/schema";',
      'import { n0, _m } from "./schemas_0.shared1";',
      'import { Oops } from "../models/errors";',
      'const _E = "Oops";',
      'const n0_registry = new TypeRegistry(n0);',
      'export var Oops$ = [-3, n0, _E,',
      '    { "error": "client" },',
      '    [_m],',
      '    [0]',
      '];',
      'n0_registry.registerError(Oops$, Oops);',
      'export const errorTypeRegistries = [',
      '    n0_registry,',
      '];',
    ]);
    expect(lines('schemas_0.rest')).toEqual([
      'import { n0 } from "./schemas_0.shared1";',
      'const _s = "smithy.ts.sdk.synthetic.x";',
      'var Lonely = [3, n0, "Lonely", 0, [], []];',
      'export var Orphan$ = [3, n0, "Orphan", 0, [], [() => Lonely]];',
    ]);
    // The schema module re-exports every original export by name, nothing else.
    expect(r.barrel.split('\n').filter(Boolean)).toEqual([
      'export { Oops$, errorTypeRegistries } from "./schemas_0.errors";',
      'export { Shared$ } from "./schemas_0.shared0";',
      'export { AInput$, A$ } from "./schemas_0.A";',
      'export { BInput$, B$ } from "./schemas_0.B";',
      'export { Orphan$ } from "./schemas_0.rest";',
    ]);
    expect(r.home.get('A$')).toBe('schemas_0.A');
    expect(r.home.has('n0')).toBe(false);
  });

  it('leaves alone a module without operations, or with a statement it does not know', () => {
    expect(splitSchemas('const _x = "x";\nexport var X$ = [3, n0, _x, 0, [], []];\n')).toBeUndefined();
    expect(splitSchemas(`${SCHEMAS}\nglobalThis.seen = A$;\n`)).toBeUndefined();
  });

  it("rewrites a client module's import of the schema module to the modules that declare what it imports", () => {
    const home = new Map([
      ['A$', 'schemas_0.A'],
      ['errorTypeRegistries', 'schemas_0.errors'],
      ['Oops$', 'schemas_0.errors'],
    ]);
    expect(
      importFromSplitSchemas(
        [
          'import { _ep0, command } from "../commandBuilder";',
          'import { A$ } from "../schemas/schemas_0";',
          'import { errorTypeRegistries, Oops$ as O } from "./schemas/schemas_0";',
          'export * from "./schemas/schemas_0";',
        ].join('\n'),
        home,
      ).split('\n'),
    ).toEqual([
      'import { _ep0, command } from "../commandBuilder";',
      'import { A$ } from "../schemas/schemas_0.A";',
      'import { errorTypeRegistries, Oops$ as O } from "./schemas/schemas_0.errors";',
      'export * from "./schemas/schemas_0";',
    ]);
    // A name the split does not know: the import is left as it is.
    expect(importFromSplitSchemas('import { Z$ } from "../schemas/schemas_0";', home)).toBe(
      'import { Z$ } from "../schemas/schemas_0";',
    );
  });
});

describe('splitBarrel', () => {
  const BARREL = [
    'import { getRandomValues } from "node:crypto";',
    'import { bindV4 } from "./uuid/v4";',
    'export { parseBoolean, expectInt } from "./parse-utils";',
    'export { ChecksumStream } from "./util-stream/checksum/ChecksumStream";',
    'export class Blob extends bindBlob(getRandomValues) {',
    '}',
    'export { Md5Node, Md5Node as Md5 } from "./md5/Md5Node";',
    'export const v4 = bindV4(getRandomValues);',
    'export { hasOwn } from "@smithy/core/transport";',
    'export * from "./stars";',
    '',
  ].join('\n');

  it('puts each named re-export of a module it names apart in a module of its own, the rest in common.js, and re-exports each with export *', () => {
    const r = splitBarrel(BARREL, (spec) => /ChecksumStream|Md5Node/.test(spec))!;
    expect(r.barrel.split('\n').filter(Boolean)).toEqual([
      'export * from "./common.js";',
      'export * from "./re-0.js";',
      'export * from "./re-1.js";',
    ]);
    // Each module apart reaches common.js (an import of nothing): whatever reaches it reaches what the whole
    // barrel did, so no module gets an entry set of its own but those apart.
    expect(r.modules.get('re-0.js')).toBe(
      'import {} from "./common.js";\nexport { ChecksumStream } from "./util-stream/checksum/ChecksumStream";\n',
    );
    expect(r.modules.get('re-1.js')).toBe(
      'import {} from "./common.js";\nexport { Md5Node, Md5Node as Md5 } from "./md5/Md5Node";\n',
    );
    // Everything else, in its order: imports, declarations (over several lines too), re-exports, stars.
    expect(r.modules.get('common.js')!.split('\n').filter(Boolean)).toEqual([
      'import { getRandomValues } from "node:crypto";',
      'import { bindV4 } from "./uuid/v4";',
      'export { parseBoolean, expectInt } from "./parse-utils";',
      'export class Blob extends bindBlob(getRandomValues) {',
      '}',
      'export const v4 = bindV4(getRandomValues);',
      'export { hasOwn } from "@smithy/core/transport";',
      'export * from "./stars";',
    ]);
    expect([...r.modules.keys()].sort()).toEqual(['common.js', 're-0.js', 're-1.js']);
  });

  it('leaves alone a barrel with nothing apart, or with a default export (export * does not carry it)', () => {
    expect(splitBarrel(BARREL, () => false)).toBeUndefined();
    expect(splitBarrel(`${BARREL}export default v4;\n`, () => true)).toBeUndefined();
    expect(splitBarrel(`export { default } from "./x";\n${BARREL}`, () => true)).toBeUndefined();
  });
});

describe('treeShakableBarrels', () => {
  const fakeRoot = (sideEffects: unknown) => {
    const root = tmp('barrel-root');
    const dir = join(root, 'node_modules', '@smithy', 'core');
    mkdirSync(join(dir, 'dist-es', 'submodules', 'serde'), { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: '@smithy/core',
        version: '3.2.1',
        sideEffects,
        exports: { './serde': { module: './dist-es/submodules/serde/index.js', node: './dist-cjs/x.js' } },
      }),
    );
    writeFileSync(
      join(dir, 'dist-es', 'submodules', 'serde', 'index.js'),
      'export { a } from "./a";\nexport { createBufferedReadable } from "./util-stream/createBufferedReadable";\n',
    );
    return root;
  };

  it('aliases the subpath to the split barrel, whose imports point back at the installed modules', () => {
    const root = fakeRoot(false);
    const aliases = treeShakableBarrels(root);
    const dir = join(root, '.sdk-build', 'smithy-core-serde@3.2.1-1');
    expect(aliases).toEqual({ '@smithy/core/serde': join(dir, 'index.js') });
    expect(readFileSync(join(dir, 'index.js'), 'utf8')).toBe(
      'export * from "./common.js";\nexport * from "./re-0.js";\n',
    );
    const back = '../../node_modules/@smithy/core/dist-es/submodules/serde';
    expect(readFileSync(join(dir, 'common.js'), 'utf8')).toBe(`export { a } from "${back}/a";\n`);
    expect(readFileSync(join(dir, 're-0.js'), 'utf8')).toBe(
      `import {} from "./common.js";\nexport { createBufferedReadable } from "${back}/util-stream/createBufferedReadable";\n`,
    );
    // The package's word that they have no side effects, kept; a second call reuses the copy.
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toMatchObject({ sideEffects: false });
    expect(treeShakableBarrels(root)).toEqual(aliases);
  });

  it('no alias for a barrel its package says has side effects, nor without the package', () => {
    expect(treeShakableBarrels(fakeRoot(true))).toEqual({});
    expect(treeShakableBarrels(fakeRoot(['./dist-es/submodules/serde/index.js']))).toEqual({});
    expect(treeShakableBarrels(tmp('no-sdk'))).toEqual({});
  });
});

describe('the installed SDK barrels, bundled split', () => {
  it.each(SDK_BARRELS.map(([pkg, sub]) => [`${pkg}/${sub}`, pkg, sub] as const))(
    '%s: split, exporting the same names as the installed barrel, each the same kind of value',
    async (subpath, pkg, sub) => {
      const split = barrelAlias()[subpath];
      expect(split, `${subpath} is not split (an SDK update moved what it names apart?)`).toBeDefined();
      const out = tmp('sdk-barrel');
      const dir = join(process.cwd(), 'node_modules', pkg);
      const { exports } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        exports: Record<string, { module: string }>;
      };
      const installed = await load(join(dir, exports[`./${sub}`]!.module), out, 'installed');
      const rewritten = await load(split!, out, 'rewritten');
      expect(Object.keys(rewritten).sort()).toEqual(Object.keys(installed).sort());
      const kind = (v: unknown) => (typeof v === 'function' ? `function ${v.name}` : typeof v);
      for (const k of Object.keys(installed)) expect(kind(rewritten[k]), k).toBe(kind(installed[k]));
    },
  );
});

describe('treeShakableSdk', () => {
  const fakeRoot = () => {
    const root = tmp('sdk-root');
    const pkg = (name: string, schemas: string) => {
      const dir = join(root, 'node_modules', '@aws-sdk', name);
      mkdirSync(join(dir, 'dist-es', 'schemas'), { recursive: true });
      mkdirSync(join(dir, 'dist-cjs'), { recursive: true });
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify({ name: `@aws-sdk/${name}`, version: '3.1.0' }),
      );
      writeFileSync(join(dir, 'dist-es', 'index.js'), 'export * from "./schemas/schemas_0";\n');
      writeFileSync(join(dir, 'dist-es', 'schemas', 'schemas_0.js'), schemas);
      writeFileSync(join(dir, 'dist-cjs', 'index.js'), 'module.exports = {};\n');
    };
    pkg(
      'client-a',
      'const _x = "xmlName";\nconst n0 = "a";\nexport var In$ = [3, { [_x]: 1 }];\nexport var Op$ = [9, n0, "Op", 0, () => In$, () => In$];\n',
    );
    const a = join(root, 'node_modules', '@aws-sdk', 'client-a', 'dist-es');
    mkdirSync(join(a, 'commands'));
    writeFileSync(
      join(a, 'commands', 'OpCommand.js'),
      'import { Op$ } from "../schemas/schemas_0";\nexport class OpCommand { static schema = Op$; }\n',
    );
    pkg('client-b', 'export var B$ = [3, { xmlName: 1 }];\n');
    mkdirSync(join(root, 'node_modules', '@aws-sdk', 'core'), { recursive: true });
    return root;
  };

  it('aliases a client with computed keys to a copy under a node_modules of its own, rewritten', () => {
    const root = fakeRoot();
    const aliases = treeShakableSdk(root);
    const copy = join(root, '.sdk-build', 'client-a@3.1.0-2', 'node_modules', '@aws-sdk', 'client-a');
    expect(aliases).toEqual({ '@aws-sdk/client-a': copy });
    // Literal keys, and the schemas split by operation (splitSchemas); the command imports its own module.
    expect(readFileSync(join(copy, 'dist-es', 'schemas', 'schemas_0.js'), 'utf8')).toBe(
      'export { In$, Op$ } from "./schemas_0.Op";\n',
    );
    expect(readFileSync(join(copy, 'dist-es', 'schemas', 'schemas_0.Op.js'), 'utf8')).toBe(
      'const n0 = "a";\nexport var In$ = [3, { "xmlName": 1 }];\nexport var Op$ = [9, n0, "Op", 0, () => In$, () => In$];\n',
    );
    // The key's constant, no longer read, is in the module nothing imports.
    expect(readFileSync(join(copy, 'dist-es', 'schemas', 'schemas_0.rest.js'), 'utf8')).toBe(
      'const _x = "xmlName";\n',
    );
    expect(readFileSync(join(copy, 'dist-es', 'commands', 'OpCommand.js'), 'utf8')).toBe(
      'import { Op$ } from "../schemas/schemas_0.Op";\nexport class OpCommand { static schema = Op$; }\n',
    );
    // The other files are the same files (hard links), and only what a bundle reads is there.
    const original = join(root, 'node_modules', '@aws-sdk', 'client-a');
    expect(statSync(join(copy, 'dist-es', 'index.js')).ino).toBe(
      statSync(join(original, 'dist-es', 'index.js')).ino,
    );
    expect(() => statSync(join(copy, 'dist-cjs'))).toThrow();
    // A client without computed keys is bundled as installed; a second call reuses the copies.
    expect(treeShakableSdk(root)).toEqual(aliases);
  });

  it('no aliases without an installed SDK', () => {
    expect(treeShakableSdk(tmp('no-sdk'))).toEqual({});
  });
});

/** Bundle a module's exports into one ES module and import it. */
const load = async (entry: string, dir: string, name: string): Promise<Record<string, unknown>> => {
  const outfile = join(dir, `${name}.mjs`);
  await build({
    stdin: { contents: `export * from ${JSON.stringify(entry)};`, resolveDir: dir },
    bundle: true,
    platform: 'node',
    format: 'esm',
    mainFields: ['module', 'main'],
    outfile,
    logLevel: 'silent',
  });
  return (await import(pathToFileURL(outfile).href)) as Record<string, unknown>;
};

/**
 * Whether two schema values are the same: same keys in the same order, same primitives; a reference to
 * another export (directly or through a thunk `() => Foo$`) must name the same export; classes by name.
 */
const sameSchema = (
  a: unknown,
  b: unknown,
  names: [Map<unknown, string>, Map<unknown, string>],
  at: string,
  root = false,
): string | undefined => {
  if (!root && (names[0].has(a) || names[1].has(b))) {
    return names[0].get(a) === names[1].get(b)
      ? undefined
      : `${at}: ${names[0].get(a)} vs ${names[1].get(b)}`;
  }
  if (typeof a === 'function' && typeof b === 'function') {
    if (a.prototype || b.prototype)
      return a.name === b.name ? undefined : `${at}: class ${a.name} vs ${b.name}`;
    return sameSchema((a as () => unknown)(), (b as () => unknown)(), names, `${at}()`);
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return Object.is(a, b) ? undefined : `${at}: ${String(a)} vs ${String(b)}`;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${at}: array vs object`;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.join('\0') !== kb.join('\0')) return `${at}: keys ${ka.join(',')} vs ${kb.join(',')}`;
  for (const k of ka) {
    const d = sameSchema(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      names,
      `${at}.${k}`,
    );
    if (d) return d;
  }
  return undefined;
};

describe('the installed SDK clients, bundled from their rewritten copies', () => {
  const aliases = Object.entries(sdkAlias());

  it('every client with computed trait keys is aliased (EC2, whose schemas are the largest, among them)', () => {
    expect(aliases.map(([pkg]) => pkg)).toContain('@aws-sdk/client-ec2');
    for (const [, dir] of aliases) {
      expect(
        literalTraitKeys(readFileSync(join(dir, 'dist-es', 'schemas', 'schemas_0.js'), 'utf8')).replaced,
      ).toBe(0);
    }
  });

  it.each(aliases)('%s: every schema export is the same as the installed one', async (pkg, dir) => {
    const out = tmp('sdk-schemas');
    const schemas = 'dist-es/schemas/schemas_0.js';
    const installed = await load(join(process.cwd(), 'node_modules', pkg, schemas), out, 'installed');
    const rewritten = await load(join(dir, schemas), out, 'rewritten');
    expect(Object.keys(rewritten)).toEqual(Object.keys(installed));
    const names: [Map<unknown, string>, Map<unknown, string>] = [
      new Map(Object.entries(installed).map(([k, v]) => [v, k])),
      new Map(Object.entries(rewritten).map(([k, v]) => [v, k])),
    ];
    const diffs = Object.keys(installed)
      .map((k) => sameSchema(installed[k], rewritten[k], names, k, true))
      .filter(Boolean);
    expect(diffs).toEqual([]);
  });
});

// What a local endpoint answers, by operation: the query protocol's Action, DynamoDB's target, S3's method.
const ANSWERS: Record<string, { status: number; type: string; body: string }> = {
  DescribeDBInstances: {
    status: 200,
    type: 'text/xml',
    body: '<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBInstancesResult><DBInstances><DBInstance><DBInstanceIdentifier>db1</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus><AllocatedStorage>20</AllocatedStorage><InstanceCreateTime>2026-11-30T10:00:00Z</InstanceCreateTime><TagList><Tag><Key>steward:managed</Key><Value>true</Value></Tag></TagList></DBInstance></DBInstances></DescribeDBInstancesResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></DescribeDBInstancesResponse>',
  },
  CreateDBSnapshot: {
    status: 200,
    type: 'text/xml',
    body: '<CreateDBSnapshotResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><CreateDBSnapshotResult><DBSnapshot><DBSnapshotIdentifier>s1</DBSnapshotIdentifier><Status>creating</Status><SnapshotCreateTime>2026-12-01T00:00:00Z</SnapshotCreateTime></DBSnapshot></CreateDBSnapshotResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></CreateDBSnapshotResponse>',
  },
  DescribeDBSnapshots: {
    status: 404,
    type: 'text/xml',
    body: '<ErrorResponse><Error><Type>Sender</Type><Code>DBSnapshotNotFound</Code><Message>no such snapshot</Message></Error><RequestId>r3</RequestId></ErrorResponse>',
  },
  DescribeDBClusters: {
    status: 400,
    type: 'text/xml',
    body: '<ErrorResponse><Error><Type>Sender</Type><Code>SomethingNew</Code><Message>unmodeled</Message></Error><RequestId>r4</RequestId></ErrorResponse>',
  },
  'DynamoDB_20120810.Query': {
    status: 200,
    type: 'application/x-amz-json-1.0',
    body: '{"Count":1,"Items":[{"pk":{"S":"a"},"n":{"N":"3"},"tags":{"SS":["x","y"]}}],"ScannedCount":1}',
  },
  PUT: { status: 200, type: 'application/xml', body: '' },
  GET: {
    status: 404,
    type: 'application/xml',
    body: '<Error><Code>NoSuchKey</Code><Message>gone</Message><RequestId>r5</RequestId></Error>',
  },
};

/** A request as the endpoint saw it, without what changes between two sends (dates, signatures, ids). */
const seen = (req: IncomingMessage, body: string) => ({
  method: req.method,
  url: req.url,
  headers: Object.fromEntries(
    Object.entries(req.headers).filter(
      ([k]) =>
        !/^(authorization|x-amz-date|x-amz-content-sha256|amz-sdk-invocation-id|amz-sdk-request|user-agent|x-amz-user-agent|date)$/.test(
          k,
        ),
    ),
  ),
  body,
});

// Each send's result: its output without $metadata, or the error's name, class and message.
const SENDER = [
  "import { RDSClient, DescribeDBInstancesCommand, CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, DescribeDBClustersCommand, DBSnapshotNotFoundFault, RDSServiceException } from '@aws-sdk/client-rds';",
  "import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';",
  "import { S3Client, PutObjectTaggingCommand, GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';",
  'export const sendAll = async (port) => {',
  "  const options = { region: 'eu-west-1', endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };",
  '  const rds = new RDSClient(options);',
  '  const ddb = new DynamoDBClient(options);',
  '  const s3 = new S3Client({ ...options, forcePathStyle: true });',
  '  const out = [];',
  '  const send = async (client, command, classes = []) => {',
  '    try { const { $metadata, ...rest } = await client.send(command); out.push(rest); }',
  '    catch (e) { out.push({ error: e.name, message: e.message, classes: classes.map((C) => e instanceof C) }); }',
  '  };',
  "  await send(rds, new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'db1', Filters: [{ Name: 'engine', Values: ['postgres', 'aurora-postgresql'] }] }));",
  "  await send(rds, new CreateDBSnapshotCommand({ DBInstanceIdentifier: 'db1', DBSnapshotIdentifier: 's1', Tags: [{ Key: 'steward:managed', Value: 'true' }, { Key: 'b', Value: 'x&y' }] }));",
  "  await send(rds, new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: 'x', SnapshotType: 'manual', MaxRecords: 20 }), [DBSnapshotNotFoundFault, RDSServiceException]);",
  '  await send(rds, new DescribeDBClustersCommand({}), [DBSnapshotNotFoundFault, RDSServiceException]);',
  "  await send(ddb, new QueryCommand({ TableName: 't', KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 'a' } }, Limit: 5, ConsistentRead: true }));",
  "  await send(s3, new PutObjectTaggingCommand({ Bucket: 'b', Key: 'k/1.json', Tagging: { TagSet: [{ Key: 'a', Value: '1' }, { Key: 'b <c>', Value: '2' }] } }));",
  "  await send(s3, new GetObjectCommand({ Bucket: 'b', Key: 'k/2.json' }), [NoSuchKey]);",
  '  return out;',
  '};',
].join('\n');

describe('clients bundled from their split copies, against the installed SDK', () => {
  it('send the same requests and read the same answers: outputs, modeled errors as their classes, unmodeled as the service exception', async () => {
    // Prepare
    const requests: ReturnType<typeof seen>[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        requests.push(seen(req, body));
        const op = /(?:^|&)Action=(\w+)/.exec(body)?.[1] ?? String(req.headers['x-amz-target'] ?? req.method);
        const a = ANSWERS[op] ?? { status: 500, type: 'text/plain', body: `no answer for ${op}` };
        res.writeHead(a.status, { 'content-type': a.type, 'x-amzn-requestid': 'r' });
        res.end(a.body);
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as AddressInfo).port;
    const dir = tmp('sdk-send');
    const bundle = async (name: string, alias: Record<string, string>) => {
      const outfile = join(dir, `${name}.mjs`);
      const r = await build({
        stdin: { contents: SENDER, resolveDir: process.cwd() },
        bundle: true,
        platform: 'node',
        format: 'esm',
        mainFields: ['module', 'main'],
        alias,
        outfile,
        metafile: true,
        logLevel: 'silent',
      });
      const { sendAll } = (await import(pathToFileURL(outfile).href)) as {
        sendAll: (port: number) => Promise<unknown[]>;
      };
      return { sendAll, inputs: Object.keys(r.metafile.inputs) };
    };

    try {
      const copy = await bundle('copy', { ...sdkAlias(), ...barrelAlias() });
      const installed = await bundle('installed', {});
      // The copy bundle reads each command's schemas from its own module; the other, the installed schemas_0.js.
      expect(copy.inputs).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^\.sdk-build\/.*\/client-rds\/dist-es\/schemas\/schemas_0\.CreateDBSnapshot\.js$/,
          ),
        ]),
      );
      // And S3's REST-XML protocol and MD5 through the split barrels (treeShakableBarrels).
      expect(copy.inputs).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^\.sdk-build\/aws-sdk-core-protocols@[^/]+\/re-\d+\.js$/),
        ]),
      );
      expect(installed.inputs.filter((p) => p.includes('.sdk-build'))).toEqual([]);

      // Act
      const fromCopy = await copy.sendAll(port);
      const copyRequests = requests.splice(0);
      const fromInstalled = await installed.sendAll(port);
      const installedRequests = requests.splice(0);

      // Assert
      expect(copyRequests).toHaveLength(7);
      expect(copyRequests).toEqual(installedRequests);
      expect(fromCopy).toEqual(fromInstalled);
      expect(fromCopy[0]).toMatchObject({
        DBInstances: [
          {
            DBInstanceIdentifier: 'db1',
            AllocatedStorage: 20,
            InstanceCreateTime: new Date('2026-11-30T10:00:00Z'),
            TagList: [{ Key: 'steward:managed', Value: 'true' }],
          },
        ],
      });
      expect(fromCopy[2]).toEqual({
        error: 'DBSnapshotNotFoundFault',
        message: 'no such snapshot',
        classes: [true, true],
      });
      expect(fromCopy[3]).toMatchObject({ error: 'SomethingNew', classes: [false, true] });
      expect(fromCopy[4]).toMatchObject({
        Items: [{ pk: { S: 'a' }, n: { N: '3' }, tags: { SS: ['x', 'y'] } }],
      });
      expect(fromCopy[6]).toMatchObject({ error: 'NoSuchKey', classes: [true] });
      expect(copyRequests[1]!.body).toContain('Tags.Tag.2.Value=x%26y');
      expect(copyRequests[5]!.body).toContain('<Key>b &lt;c&gt;</Key>');
    } finally {
      server.close();
    }
  });
});
