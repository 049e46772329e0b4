import { createRequire } from 'node:module';
import type { Metafile } from './deployed.js';
import type { FakeCall } from './fake-endpoint.js';

/** The SDK classes and functions that survive in a bundle, per package: what a fair baseline imports. */
export type SdkSurvivors = Map<string, Set<string>>;

/** The JavaScript outputs of a build (the entry and every chunk), by name. */
const jsOutputsOf = (meta: Metafile): string[] => Object.keys(meta.outputs).filter((f) => /\.m?js$/.test(f));

/**
 * Inputs that contribute bytes to `outputs` of the bundle (by default all its JavaScript: the entry and every
 * chunk; the bench passes the files a trigger loaded). Tree-shaken files contribute none.
 */
export const survivingInputs = (meta: Metafile, outputs: readonly string[] = jsOutputsOf(meta)): string[] => {
  const missing = outputs.filter((f) => !meta.outputs[f]);
  if (missing.length) throw new Error(`not outputs of this build: ${missing.join(', ')}`);
  if (!outputs.length) throw new Error('no JavaScript output');
  const kept = new Set<string>();
  for (const f of outputs)
    for (const [input, i] of Object.entries(meta.outputs[f]!.inputs))
      if (i.bytesInOutput > 0) kept.add(input);
  return [...kept];
};

const SDK_FILE = /node_modules\/(@aws-sdk\/[\w-]+)\/dist-es\/(?:(commands|pagination|waiters)\/)?(\w+)\.js$/;

/**
 * What a bundle keeps of the AWS SDK, read from esbuild's metafile: each client class, command, paginator,
 * waiter and utility class (`Signer`, `DynamoDBDocumentClient`) whose module contributes bytes. The rest of
 * the SDK (protocols, models, endpoints, the Smithy runtime) follows from those, in a baseline as in steward.
 */
export const sdkSurvivors = (inputs: readonly string[]): SdkSurvivors => {
  const out: SdkSurvivors = new Map();
  const add = (pkg: string, name: string) => {
    const set = out.get(pkg) ?? new Set<string>();
    set.add(name);
    out.set(pkg, set);
  };
  for (const f of inputs) {
    const m = SDK_FILE.exec(f);
    if (!m) continue;
    const [, pkg, folder, base] = m as unknown as [string, string, string | undefined, string];
    if (folder === 'commands' && base.endsWith('Command')) add(pkg, base);
    else if (folder === 'pagination' && base.endsWith('Paginator'))
      add(pkg, `paginate${base.replace(/Paginator$/, '')}`);
    else if (folder === 'waiters' && base.startsWith('waitFor'))
      add(pkg, base.replace(/^waitFor/, 'waitUntil'));
    // Client classes (RDSClient, DynamoDBDocumentClient) and the RDS signer.
    else if (!folder && (/^[A-Z]\w*Client$/.test(base) || base === 'Signer')) add(pkg, base);
  }
  return out;
};

/** The commands (not clients or helpers) among the survivors, as `package/Name`: the fairness check. */
export const survivingCommands = (s: SdkSurvivors): string[] =>
  [...s]
    .flatMap(([pkg, names]) => [...names].filter((n) => n.endsWith('Command')).map((n) => `${pkg}/${n}`))
    .sort();

/** Which of the framework libraries a bundle uses, read from the same metafile. */
export interface FrameworkUse {
  middy: boolean;
  logger: boolean;
  loggerMiddleware: boolean;
  metrics: boolean;
  metricsMiddleware: boolean;
  /** zod's flavour in the bundle: `zod/mini` (functional) or classic `zod`; none when absent. */
  zod: 'zod/mini' | 'zod' | undefined;
}

export const frameworkUse = (inputs: readonly string[]): FrameworkUse => {
  const has = (re: RegExp) => inputs.some((f) => re.test(f));
  const classic = has(/node_modules\/zod\/v4\/classic\//);
  const mini = has(/node_modules\/zod\/v4\/mini\//);
  return {
    middy: has(/node_modules\/@middy\/core\//),
    logger: has(/node_modules\/@aws-lambda-powertools\/logger\/lib\/esm\/Logger\.js$/),
    loggerMiddleware: has(/node_modules\/@aws-lambda-powertools\/logger\/lib\/esm\/middleware\//),
    metrics: has(/node_modules\/@aws-lambda-powertools\/metrics\/lib\/esm\/Metrics\.js$/),
    metricsMiddleware: has(/node_modules\/@aws-lambda-powertools\/metrics\/lib\/esm\/middleware\//),
    zod: classic ? 'zod' : mini ? 'zod/mini' : undefined,
  };
};

/**
 * One request as the fairness check compares it and a baseline replays it: `service:Operation@region`. The
 * service (the signing name) tells apart operations that two clients share by name (EC2's and
 * ElastiCache's DescribeSnapshots); the region, a function's DR-region listings from its own region's.
 */
export const requestOf = (c: FakeCall): string => `${c.service}:${c.op}@${c.region}`;

// Where a DynamoDB input holds attribute values, as records (attribute name → value).
const RECORDS = ['Item', 'Key', 'ExpressionAttributeValues', 'ExclusiveStartKey'] as const;

/** One attribute value (`{ S: 'x' }`) as the plain value the document client takes (binary left as it is). */
const plainValue = (v: unknown): unknown => {
  if (typeof v !== 'object' || v === null) return v;
  const a = v as Record<string, unknown>;
  if ('S' in a) return a.S;
  if ('N' in a) return Number(a.N);
  if ('BOOL' in a) return a.BOOL;
  if ('NULL' in a) return null;
  if ('M' in a) return plain(a.M);
  if ('L' in a) return (a.L as unknown[]).map(plainValue);
  if ('SS' in a) return new Set(a.SS as string[]);
  if ('NS' in a) return new Set((a.NS as string[]).map(Number));
  return v;
};

/** A record of attribute values (attribute name → `{ S: 'x' }`) as plain values. */
const plain = (r: unknown): unknown =>
  typeof r === 'object' && r !== null
    ? Object.fromEntries(Object.entries(r).map(([k, v]) => [k, plainValue(v)]))
    : r;

/** A DynamoDB input in the document client's form: every record of attribute values as plain values. */
const documentInput = (input: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...input };
  for (const k of RECORDS) if (out[k]) out[k] = plain(out[k]);
  if (out.RequestItems && typeof out.RequestItems === 'object')
    out.RequestItems = Object.fromEntries(
      Object.entries(out.RequestItems as Record<string, unknown>).map(([table, r]) => [
        table,
        Array.isArray(r)
          ? r.map((w: Record<string, Record<string, unknown>>) =>
              Object.fromEntries(Object.entries(w).map(([k, v]) => [k, documentInput(v)])),
            )
          : { ...(r as object), Keys: ((r as { Keys?: unknown[] }).Keys ?? []).map(plain) },
      ]),
    );
  if (Array.isArray(out.TransactItems))
    out.TransactItems = out.TransactItems.map((t: Record<string, Record<string, unknown>>) =>
      Object.fromEntries(Object.entries(t).map(([k, v]) => [k, documentInput(v)])),
    );
  return out;
};

/** A request's input as the fake endpoint received it, as text (null when none was recorded): to compare sides. */
export const bodyOf = (c: FakeCall): string | null => (c.input ? JSON.stringify(c.input) : null);

/**
 * The input a baseline sends for a request steward made (the fake endpoint's record of it): the same input, so
 * the bare SDK serializes and signs the same request (a DynamoDB one in the document client's form, which the
 * baseline sends it through, as steward does); null where none was recorded (Scheduler and Lambda REST
 * requests: the baseline's stand-in).
 */
export const replayInput = (c: FakeCall): Record<string, unknown> | null =>
  !c.input ? null : c.service === 'dynamodb' && DOCUMENT_OPS[c.op] ? documentInput(c.input) : c.input;

/** Where two lists (of requests or commands) first part, as text; undefined when they are the same. */
export const firstDifference = (ours: readonly string[], theirs: readonly string[]): string | undefined => {
  for (let i = 0; i < Math.max(ours.length, theirs.length); i++)
    if (ours[i] !== theirs[i]) return `#${i + 1} ${ours[i] ?? '(none)'} vs ${theirs[i] ?? '(none)'}`;
  return undefined;
};

// Operation names the DynamoDB document client's commands send (GetCommand sends GetItem, ...).
const DOCUMENT_OPS: Record<string, string> = {
  GetItem: 'GetCommand',
  PutItem: 'PutCommand',
  UpdateItem: 'UpdateCommand',
  DeleteItem: 'DeleteCommand',
  Query: 'QueryCommand',
  Scan: 'ScanCommand',
  BatchGetItem: 'BatchGetCommand',
  BatchWriteItem: 'BatchWriteCommand',
  TransactWriteItems: 'TransactWriteCommand',
  TransactGetItems: 'TransactGetCommand',
};

// What a REST service needs in the URL of a request (an empty label fails before the request is sent).
const LABELS = { Bucket: 'steward-bench', Key: 'bench/first-invoke.json', Name: 'steward-bench' };

/**
 * About `bytes` of distinct small functions, each called once at load (so each is parsed and compiled,
 * as a function's own code on its cold path is): the self-test's weight that grows with the baseline. A
 * fixed injection shrinks to a smaller fault as the baselines grow (pg, the logger and an STS call were
 * 4 % of backup's cold start once its baseline reached ~390 ms), so it stops proving the rows can fail.
 */
export const weightSource = (bytes: number): string => {
  const one = (i: number) => `(a)=>{let s=a^${i};for(let k=0;k<3;k++)s=(s*31+${i}+k)|0;return s;}`;
  const parts: string[] = [];
  for (let size = 0, i = 0; size < bytes; i++) {
    parts.push(one(i));
    size += parts[i]!.length + 1;
  }
  const fns = parts.join(',');
  return `{ let w = 0; for (const f of [${fns}]) w = f(w); globalThis.__weight = w; }`;
};

// The packages of the PostgreSQL client (the verifier's engine), named together.
const PG = /^(pg|pg-[a-z0-9-]+|pgpass|postgres-[a-z-]+|split2)$/;
const PG_FILE = /(?:^|\/)node_modules\/((?:pg|pg-[a-z0-9-]+|pgpass|postgres-[a-z-]+|split2)\/.*)$/;

/**
 * The pg modules that contribute bytes among `inputs` (by their paths in the metafile): the fairness check's
 * third half for a baseline with pg, and what it must carry.
 */
export const pgModules = (inputs: readonly string[]): string[] =>
  inputs.filter((f) => PG_FILE.test(f)).sort();

/**
 * What steward's own code imports of pg, read from the metafile: each import of a pg module (`pg/lib/client.js`)
 * by a steward module that contributes bytes to `inputs` (the loaded chunks' survivors). Undefined when there is
 * none: the function speaks no PostgreSQL.
 */
export const pgUse = (meta: Metafile, inputs: readonly string[]): PgUse | undefined => {
  const imports = new Set<string>();
  for (const f of inputs) {
    if (f.includes('node_modules/')) continue;
    for (const i of meta.inputs[f]?.imports ?? []) {
      const m = PG_FILE.exec(i.path);
      if (m) imports.add(m[1]!);
    }
  }
  return imports.size ? { imports: [...imports].sort() } : undefined;
};

/**
 * The PostgreSQL client a baseline carries (the verifier's "bare SDK + pg"): the pg modules steward's own code
 * imports (`pg/lib/client.js`), read from the function's metafile. The baseline opens each connection its
 * event names with that Client.
 */
export interface PgUse {
  imports: readonly string[];
}

/** The self-test's injection: modules to import and keep, an SDK client to build and call, code run at load. */
export interface Injection {
  modules: readonly string[];
  client?: { module: string; name: string; command: string };
  /** Bytes of generated code that runs once at load (see `weightSource`). */
  weightBytes?: number;
}

/** The injection as statements: its imports, the weight, and `call` (the extra request, once per invoke). */
const injectionLines = (extra: Injection): string[] => {
  const lines: string[] = [];
  extra.modules.forEach((m, n) =>
    lines.push(`import * as injected${n} from '${m}';`, `globalThis.__injected${n} = injected${n};`),
  );
  if (extra.client)
    lines.push(
      `import { ${extra.client.name} as X0, ${extra.client.command} as X1 } from '${extra.client.module}';`,
      'const call = async () => { try { await new X0({}).send(new X1({})); } catch {} };',
    );
  else lines.push('const call = async () => {};');
  if (extra.weightBytes) lines.push(weightSource(extra.weightBytes));
  return lines;
};

/** The injection as a module of its own, exporting `call`: what a baseline's `lazy` injection imports. */
export const injectionSource = (extra: Injection): string =>
  [...injectionLines(extra), 'export { call };'].join('\n') + '\n';

/**
 * A connection to a database (`pg:SSLRequest@host:port`), as the verifier opens one: an IAM token signed
 * locally with the RDS signer when the bundle keeps it, then pg's Client (the first of `pg.imports` that is
 * the class or exports it), TLS required when the recorded first message asked for it, connected and ended.
 */
const pgConnect = (pg: PgUse): string[] => [
  `const PG_CLIENT = [${pg.imports.map((_, n) => `pg${n}`).join(', ')}].map((m) => (typeof m === 'function' ? m : m?.Client)).find(Boolean);`,
  'const connect = async (op, address) => {',
  "  const [host, port] = [address.replace(/:\\d+$/, ''), Number(/:(\\d+)$/.exec(address)?.[1])];",
  "  const Signer = CLIENTS.find(([, n]) => n === 'Signer')?.[2];",
  "  const user = 'steward_verifier';",
  '  let password = "bench";',
  '  if (Signer) password = await new Signer({ hostname: host, port, username: user, region: REGION }).getAuthToken();',
  "  const client = new PG_CLIENT({ host, port, user, password, database: 'postgres', ssl: op === 'SSLRequest' ? { rejectUnauthorized: true } : false, connectionTimeoutMillis: 10000, application_name: 'steward-drill' });",
  '  client.on("error", () => undefined);',
  '  try { await client.connect(); } catch {}',
  '  await client.end().catch(() => undefined);',
  '  return true;',
  '};',
];

const DOCUMENT_CLIENT = '@aws-sdk/lib-dynamodb';
const signingNames = new Map<string, string | undefined>();

/**
 * The service each package's client signs for (`rds`, `elasticache`, `tagging`), read here in the bench's own
 * process from the installed package (a client built and destroyed, once per package) so that the baseline
 * need not build a client to learn it: steward builds a client only at its first send. The document client
 * signs as the DynamoDB client it wraps; a package without a client class (the RDS signer) signs for none.
 */
export const signingNamesOf = (survivors: SdkSurvivors): Record<string, string> => {
  const require = createRequire(import.meta.url);
  const read = (pkg: string, name: string | undefined): string | undefined => {
    if (!signingNames.has(pkg)) {
      const C = name && (require(pkg) as Record<string, unknown>)[name];
      let service: string | undefined;
      if (typeof C === 'function') {
        const client = new (
          C as new (o: object) => {
            config?: { defaultSigningName?: string };
            destroy?: () => void;
          }
        )({ region: 'us-east-1' });
        service = client.config?.defaultSigningName;
        client.destroy?.();
      }
      signingNames.set(pkg, service);
    }
    return signingNames.get(pkg);
  };
  const out: Record<string, string> = {};
  for (const [pkg, names] of survivors) {
    const service =
      pkg === DOCUMENT_CLIENT
        ? read('@aws-sdk/client-dynamodb', 'DynamoDBClient')
        : read(
            pkg,
            [...names].find((n) => /Client$/.test(n)),
          );
    if (service) out[pkg] = service;
  }
  return out;
};

/**
 * The source of a baseline handler: it imports exactly `survivors`, builds each client at its first send (in
 * the region it sends to, as steward's factory does) and sends the requests named in the event (`calls`: the requests steward's own first invoke sent,
 * as `requestOf` writes them), one command each, to the same fake endpoint: each with the command of that
 * name whose client signs for that service, from a client in that region. `framework` adds middy, the
 * Powertools logger and metrics (with their middlewares) and a zod event schema, each only when the
 * function uses it; `extra` is modules to import and keep, and an SDK client to build and call once (the
 * self-test's injection).
 */
export const baselineSource = (
  survivors: SdkSurvivors,
  framework?: FrameworkUse,
  extra?: Injection & {
    /**
     * The injection is a module of its own (`injectionSource`, at this specifier), imported with
     * `await import()` by the first invoke when `lazy.taken`, else never: in a split bundle, a chunk the trigger
     * loads or one it does not.
     */
    lazy?: { module: string; taken: boolean };
  },
  pg?: PgUse,
): string => {
  const lines: string[] = [];
  const clients: string[] = [];
  const commands: string[] = [];
  let i = 0;
  for (const [pkg, names] of survivors) {
    const aliased = [...names].sort().map((n) => {
      const alias = `s${i++}`;
      if (/Client$/.test(n)) clients.push(`[${JSON.stringify(pkg)}, ${JSON.stringify(n)}, ${alias}]`);
      else if (n.endsWith('Command'))
        commands.push(`[${JSON.stringify(pkg)}, ${JSON.stringify(n)}, ${alias}]`);
      else clients.push(`[${JSON.stringify(pkg)}, ${JSON.stringify(n)}, ${alias}]`);
      return `${n} as ${alias}`;
    });
    lines.push(`import { ${aliased.join(', ')} } from '${pkg}';`);
  }
  pg?.imports.forEach((spec, n) => lines.push(`import pg${n} from '${spec}';`));
  if (extra?.lazy)
    lines.push(
      extra.lazy.taken
        ? `const extraCall = async () => { await (await import(${JSON.stringify(extra.lazy.module)})).call(); };`
        : `const extraCall = async () => { if (globalThis.__never) await import(${JSON.stringify(extra.lazy.module)}); };`,
    );
  else if (extra) lines.push(...injectionLines(extra), 'const extraCall = call;');
  else lines.push('const extraCall = async () => {};');
  lines.push(
    `const CLIENTS = [${clients.join(', ')}];`,
    `const COMMANDS = [${commands.join(', ')}];`,
    `const DOCUMENT_OPS = ${JSON.stringify(DOCUMENT_OPS)};`,
    `const LABELS = ${JSON.stringify(LABELS)};`,
    'const REGION = process.env.AWS_REGION;',
    // The service each package's client signs for, read at generation (`signingNamesOf`), not from a client.
    `const SIGNS = ${JSON.stringify(signingNamesOf(survivors))};`,
    // One client per package and region, built at its first send (as steward's factory does): a client the
    // function imports but does not send through is never built. The document client wraps the DynamoDB
    // client of its region, built then.
    'const built = new Map();',
    'const build = (pkg, region) => {',
    '  const options = region ? { region } : {};',
    "  if (pkg.endsWith('lib-dynamodb')) {",
    "    const Doc = CLIENTS.find(([p, n]) => p === pkg && n === 'DynamoDBDocumentClient')?.[2];",
    "    const ddb = clientOf('@aws-sdk/client-dynamodb', region);",
    '    return Doc && ddb && Doc.from(ddb);',
    '  }',
    "  const C = CLIENTS.find(([p, , K]) => p === pkg && typeof K.prototype?.send === 'function')?.[2];",
    '  return C && new C(options);',
    '};',
    'const clientOf = (pkg, region) => {',
    '  const key = `${pkg} ${region}`;',
    '  if (!built.has(key)) built.set(key, build(pkg, region));',
    '  return built.get(key);',
    '};',
    'const signs = (pkg, service) => SIGNS[pkg] === service;',
    // Send `service:Op@region` with the surviving command of that name whose client signs for that service (the
    // document client's where it survives: GetItem → GetCommand, else the client package's own), with `input`.
    'const send = async (request, input) => {',
    '  const [, service, op, region] = /^([^:]+):(\\w+)@(.*)$/.exec(request) ?? [];',
    // Without pg, a connection finds no command of its name and is not made.
    ...(pg ? ["  if (service === 'pg') return connect(op, region);"] : []),
    // The document client's command first: where a bundle keeps it, steward sends through it (its marshalling
    // is work steward's first invoke does), and the DynamoDB command it wraps survives beside it.
    "  let hit = DOCUMENT_OPS[op] ? COMMANDS.find(([pkg, name]) => pkg.endsWith('lib-dynamodb') && name === DOCUMENT_OPS[op] && signs(pkg, service)) : undefined;",
    "  hit ??= COMMANDS.find(([pkg, name]) => name === `${op}Command` && !pkg.endsWith('lib-dynamodb') && signs(pkg, service));",
    '  if (!hit) return false;',
    '  const [pkg, , Command] = hit;',
    '  const stand = pkg.endsWith("lib-dynamodb") ? { TableName: "t", Key: { pk: "x" } } : /client-(s3|scheduler|lambda)$/.test(pkg) ? { ...LABELS } : {};',
    '  const client = clientOf(pkg, region || REGION);',
    // The input steward's request carried (`replayInput`); a stand-in where none was recorded (Scheduler,
    // Lambda) or where it fails before it is sent (no HTTP status: a value the serializer refuses), so the
    // request is still made.
    '  try { await client.send(new Command(input ?? stand)); } catch (e) {',
    '    if (input && !e?.$metadata?.httpStatusCode) try { await client.send(new Command(stand)); } catch {}',
    '  }',
    '  return true;',
    '};',
    ...(pg ? pgConnect(pg) : []),
    'const calls = async (event) => { let n = 0; for (const [i, request] of (event.calls ?? []).entries()) if (await send(request, event.inputs?.[i] ?? undefined)) n++; await extraCall(); return n; };',
  );
  if (!framework) {
    lines.push('export const handler = async (event) => ({ sent: await calls(event) });');
    return lines.join('\n') + '\n';
  }
  const f = framework;
  if (f.middy) lines.push("import middy from '@middy/core';");
  if (f.logger) lines.push("import { Logger } from '@aws-lambda-powertools/logger';");
  if (f.loggerMiddleware)
    lines.push("import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';");
  if (f.metrics) lines.push("import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';");
  if (f.metricsMiddleware)
    lines.push("import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';");
  if (f.zod) lines.push(`import * as z from '${f.zod}';`);
  if (f.logger) lines.push('const logger = new Logger();');
  if (f.metrics) lines.push("const metrics = new Metrics({ namespace: 'Steward' });");
  // A small request schema of the shape steward's requests have, parsed on every invoke.
  if (f.zod === 'zod/mini')
    lines.push(
      'const Event = z.object({ calls: z.array(z.string()), action: z.optional(z.string()), dryRun: z.optional(z.boolean()) });',
    );
  else if (f.zod)
    lines.push(
      'const Event = z.object({ calls: z.array(z.string()), action: z.string().optional(), dryRun: z.boolean().optional() });',
    );
  lines.push(
    'const run = async (event) => {',
    `  const e = ${f.zod ? 'Event.parse(event)' : 'event'};`,
    '  const sent = await calls(e);',
    f.logger ? "  logger.info('first invoke', { sent });" : '',
    f.metrics ? "  metrics.addMetric('Sent', MetricUnit.Count, sent);" : '',
    '  return { sent };',
    '};',
  );
  const uses = [
    f.loggerMiddleware && f.logger ? '.use(injectLambdaContext(logger, { resetKeys: true }))' : '',
    f.metricsMiddleware && f.metrics ? '.use(logMetrics(metrics, { captureColdStartMetric: true }))' : '',
  ].join('');
  lines.push(f.middy ? `export const handler = middy()${uses}.handler(run);` : 'export const handler = run;');
  return lines.filter(Boolean).join('\n') + '\n';
};

/** Where a bundle's bytes come from: steward's own modules, or an npm package (by its name). */
const originOf = (input: string): string => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  return m ? m[1]! : 'steward';
};

/**
 * The bytes `meta` carries beyond `bare`'s, by origin: steward's own code, zod, middy, the PostgreSQL
 * client, the SDK (any package the bare baseline also carries) and other packages, in `outputs` of each
 * (by default every JavaScript output: the whole bundle). Why a bundle is larger than the bare SDK, in bytes
 * of output.
 */
export const bytesAbove = (
  meta: Metafile,
  bare: Metafile,
  outputs: { ours?: readonly string[]; theirs?: readonly string[] } = {},
): Map<string, number> => {
  const count = (m: Metafile, files: readonly string[] = jsOutputsOf(m)) => {
    const by = new Map<string, number>();
    for (const f of files)
      for (const [input, i] of Object.entries(m.outputs[f]?.inputs ?? {}))
        by.set(originOf(input), (by.get(originOf(input)) ?? 0) + i.bytesInOutput);
    return by;
  };
  const ours = count(meta, outputs.ours);
  const theirs = count(bare, outputs.theirs);
  const label = (origin: string) =>
    origin === 'steward'
      ? 'steward'
      : theirs.has(origin)
        ? 'SDK'
        : origin === 'zod' || origin === '@middy/core'
          ? origin.replace('@middy/core', 'middy')
          : PG.test(origin)
            ? 'pg'
            : 'other';
  const above = new Map<string, number>();
  for (const origin of new Set([...ours.keys(), ...theirs.keys()])) {
    const d = (ours.get(origin) ?? 0) - (theirs.get(origin) ?? 0);
    above.set(label(origin), (above.get(label(origin)) ?? 0) + d);
  }
  return above;
};
