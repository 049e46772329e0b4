import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import type { RecordedCall } from '../support/sdk-recorder.js';
import { ROOT } from '../support/sdk-recorder.js';

/**
 * Which function's role sends a recorded call. A call carries its steward source frames (with lines); the
 * adapter that sent it is the exported factory (`awsSnapshotStore`, `rdsRestorePort`) whose source span
 * holds the first `shared/aws/*` or `shared/notify/*` frame. A function's role covers the factories its
 * handler imports, directly or through the modules it imports (value imports only): the import graph,
 * not a list, decides. `EXCLUDED` names the few operations of a wired factory a function never runs.
 */

/** A module that sends SDK commands. */
const HELPERS = new Set([
  'shared/aws/pages.ts',
  'shared/aws/call.ts',
  'shared/aws/state-table-client.ts',
  'shared/aws/objects.ts',
  'shared/aws/conditional-writes.ts',
  'shared/aws/batch-get.ts',
]);
// shared/aws/clients/: one module per SDK client's factory (and their kit), helpers all.
const isAdapter = (file: string) =>
  /^shared\/(aws|notify)\//.test(file) && !HELPERS.has(file) && !file.startsWith('shared/aws/clients/');

/** The functions: one folder each under functions/, the role named after it. */
export const functionNames = (): string[] =>
  readdirSync(join(ROOT, 'functions')).filter((f) => existsSync(join(ROOT, 'functions', f, 'handler.ts')));

const NAMED_IMPORT = /import\s*\{([^}]*)\}\s*from\s*['"](\.{1,2}\/[^'"]+)['"]/g;
const SIDE_IMPORT = /^import\s+(?!type\b)(?:\*\s+as\s+\w+\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm;
// `await import('./x.js')`: a module a handler loads when a task first needs it (it is in the role's graph as
// much as a static import). Its values: what `(await import(...)).name` or `const { a, b } = await import(...)`
// reads, else every export of the module.
// A module loaded once per container (shared/once.ts), `const loadX = once(() => import('./x.js'))`, reads as
// `import('./x.js')` wherever `loadX` stands (`await loadX()`: `await import('./x.js')`), not where it is declared.
const LOAD_ONCE =
  /\bconst\s+(\w+)\s*=\s*(?:\/\*\s*@__PURE__\s*\*\/\s*)?once\(\s*\(\)\s*=>\s*(import\(\s*['"][^'"]+['"]\s*\))\s*,?\s*\);?/g;
/** `text` with each once-loaded module's loader read as its `import()` (LOAD_ONCE). */
export const readLoadedOnce = (text: string): string => {
  const loaders = new Map<string, string>();
  const rest = text.replace(LOAD_ONCE, (_, name: string, load: string) => (loaders.set(name, load), ''));
  if (!loaders.size) return rest;
  const names = new RegExp(`\\b(${[...loaders.keys()].join('|')})\\b(?:\\s*\\(\\s*\\))?`, 'g');
  return rest.replace(names, (_, name: string) => loaders.get(name)!);
};
const DYNAMIC_IMPORT =
  /(?:const\s*\{([^}]*)\}\s*=\s*)?(?:\(\s*)?await\s+import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)(?:\s*\)\.(\w+))?|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

const resolveImport = (from: string, spec: string) =>
  normalize(join(dirname(from), spec.replace(/\.js$/, '.ts')));

/** `file#name` of every value a module imports from repository modules, and the modules it loads. */
const importsOf = (file: string): { modules: string[]; names: string[] } => {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const modules: string[] = [];
  const names: string[] = [];
  for (const m of text.matchAll(NAMED_IMPORT)) {
    if (/^\s*import\s+type\b/.test(m[0])) continue;
    const target = resolveImport(file, m[2]!);
    if (!existsSync(join(ROOT, target))) continue;
    const values = m[1]!
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n && !n.startsWith('type '))
      .map((n) => n.split(/\s+as\s+/)[0]!);
    if (!values.length) continue;
    modules.push(target);
    names.push(...values.map((v) => `${target}#${v}`));
  }
  for (const m of text.matchAll(SIDE_IMPORT)) {
    const target = resolveImport(file, m[1]!);
    if (existsSync(join(ROOT, target))) modules.push(target);
  }
  for (const m of readLoadedOnce(text).matchAll(DYNAMIC_IMPORT)) {
    const target = resolveImport(file, (m[2] ?? m[4])!);
    if (!existsSync(join(ROOT, target))) continue;
    modules.push(target);
    const read = m[1]
      ? m[1].split(',').map((n) => n.trim().split(/\s*:\s*/)[0]!)
      : m[3]
        ? [m[3]]
        : exportSpans(target).map((x) => x.name);
    names.push(...read.filter(Boolean).map((v) => `${target}#${v}`));
  }
  return { modules, names };
};

const graphs = new Map<string, { modules: Set<string>; names: Set<string> }>();
/** Every repository module a function's handler loads through value imports, and the values it imports. */
const graphOf = (fn: string) => {
  let g = graphs.get(fn);
  if (g) return g;
  const seen = new Set<string>();
  const names = new Set<string>();
  const todo = [`functions/${fn}/handler.ts`];
  while (todo.length) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const i = importsOf(f);
    i.names.forEach((n) => names.add(n));
    todo.push(...i.modules);
  }
  g = { modules: seen, names };
  graphs.set(fn, g);
  return g;
};

/**
 * The factories of its own module an adapter factory is built on (`ebsBackup` on `ebsSetStore`, whose
 * listing and deletes it returns as its own): whoever imports the outer one sends through them too. Only a
 * factory whose members the outer one takes apart (`const { listSets, removeSet } = ebsSetStore(…)`) counts:
 * one kept whole for a single read (`s3RdbCopyLister` keeps `s3RdbStore` for its listing) lends the importer
 * none of its other calls (the drill never deletes a Redis DR copy).
 */
const builtOn = (name: string): string[] => {
  const [file, factory] = name.split('#') as [string, string];
  const spans = exportSpans(file);
  const span = spans.find((x) => x.name === factory);
  if (!span) return [];
  const body = readFileSync(join(ROOT, file), 'utf8').split('\n').slice(span.from, span.to).join('\n');
  return spans
    .filter((x) => x.name !== factory && new RegExp(`const \\{[^}]*\\} = ${x.name}\\(`).test(body))
    .map((x) => `${file}#${x.name}`);
};

/** The adapter factories (`shared/aws/rds.ts#rdsBackup`) a function's handler reaches through value imports. */
export const adaptersOf = (fn: string): Set<string> =>
  new Set(
    [...graphOf(fn).names].filter((n) => isAdapter(n.split('#')[0]!)).flatMap((n) => [n, ...builtOn(n)]),
  );

/**
 * Whether the function's handler loads every steward module on the call's stack. An adapter many
 * functions import (the run-report writer, the conditional writes) is sent on behalf of the capability
 * whose service is on the stack: the backup service's report is the backup role's call, not retention's.
 */
const reachesStack = (fn: string, call: RecordedCall): boolean => {
  const { modules } = graphOf(fn);
  return call.frames
    .map((f) => frameParts(f).file)
    .filter((file) => /^(shared|functions)\//.test(file))
    .every((file) => modules.has(file));
};

const spans = new Map<string, { name: string; from: number; to: number }[]>();
/** Top-level exports of a module with the line span of their definitions. */
const exportSpans = (file: string) => {
  let s = spans.get(file);
  if (!s) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    const starts = lines.flatMap((l, i) => {
      const m = /^export\s+(?:const|async function|function)\s+(\w+)/.exec(l);
      return m
        ? [{ name: m[1]!, line: i + 1 }]
        : /^(const|let|function|interface|type|export)\b/.test(l)
          ? [{ name: '', line: i + 1 }]
          : [];
    });
    s = starts.flatMap((x, i) =>
      x.name ? [{ name: x.name, from: x.line, to: (starts[i + 1]?.line ?? lines.length + 1) - 1 }] : [],
    );
    spans.set(file, s);
  }
  return s;
};

const frameParts = (f: string) => {
  const m = /^(.+?):(.*)@(\d+)$/.exec(f);
  return m
    ? { file: m[1]!, fn: m[2]!, line: Number(m[3]) }
    : { file: f.slice(0, f.indexOf(':')), fn: '', line: 0 };
};

/** The adapter factory that sent a recorded call (`shared/aws/snapshots.ts#awsSnapshotStore`). */
export const adapterOf = (call: RecordedCall): string | undefined => {
  const frame = call.frames.map(frameParts).find((f) => isAdapter(f.file));
  if (!frame) return undefined;
  const span = exportSpans(frame.file).find((x) => frame.line >= x.from && frame.line <= x.to);
  return `${frame.file}#${span?.name ?? '?'}`;
};

/**
 * Adapter operations a handler imports but its function never runs. Each entry is `file:operation`
 * (an operation is a function name in the call's frames) with the reason; the suite checks that no
 * call recorded through that handler contradicts it.
 */
export const EXCLUDED: Record<string, Record<string, string>> = {
  backup: {
    'shared/aws/snapshots.ts:remove':
      'backup lists snapshots (copy reconciler, quota) but never deletes one: retention does',
    'shared/aws/ebs.ts:removeSet':
      'backup takes and copies EBS snapshot sets but never deletes one: retention does',
  },
  retention: {
    'shared/aws/ebs.ts:listTargets': 'retention lists snapshot sets, never instances or volumes',
    'shared/aws/ebs.ts:createSnapshot': 'retention deletes expired snapshot sets; backup takes them',
    'shared/aws/ebs.ts:copySnapshot': 'retention deletes DR copies; backup makes them',
  },
  drill: {
    'shared/aws/snapshots.ts:managedCacheSnapshotTags':
      "the drill reads no snapshot tags in bulk: it picks Redis DR copies from the DR bucket's listing (s3RdbCopyLister); the bulk read serves the backup function's Redis DR sources",
  },
  'drill-verify': {
    'shared/aws/sns-notifier.ts:send':
      'the verify task returns its result to the state machine; the record task (control plane) notifies',
  },
  'drill-verify-cache': {
    'shared/aws/sns-notifier.ts:send':
      'the verify task returns its result to the state machine; the record task (control plane) notifies',
  },
  report: {
    'shared/aws/rds.ts:createSnapshot': 'the status and the evidence only list databases and snapshots',
    'shared/aws/rds.ts:copySnapshot': 'the status and the evidence only list DR copies',
    'shared/aws/rds.ts:quotas': 'the status reads no snapshot quota',
    'shared/aws/elasticache.ts:createSnapshot': 'the status and the evidence only list caches and snapshots',
    'shared/aws/ebs.ts:createSnapshot': 'the status and the evidence only list EBS targets and sets',
    'shared/aws/ebs.ts:takenSets': 'the status and the evidence list every set, never look sets up for a run',
    'shared/aws/ebs.ts:copySnapshot': 'the status and the evidence only list DR copies of sets',
    'shared/aws/ebs.ts:removeSet': 'the status and the evidence never delete',
  },
};

/**
 * Adapters no function's handler imports yet, with the reason. Their calls belong to no role, so the suite
 * proves them separately; once a handler imports one, its entry must go and the role must allow the calls.
 */
export const UNWIRED: Record<string, string> = {};

/**
 * Calls sent with another role's credentials than the function's: a role the hub assumes in another account.
 * A key is an adapter (`file#factory`) or a module on the call's stack; such a call belongs to no function
 * role, and the assumed role is simulated on its own, with the reason's test.
 */
export const ASSUMED: Record<string, string> = {
  'shared/aws/vault.ts#rdsVaultStore':
    "the vault side of the copy runs with the vault copy role's credentials in the vault account (test/iam/vault.test.ts)",
  'shared/aws/ebs-vault-store.ts':
    "the vault side of an EBS set's copy runs with the vault copy role's credentials in the vault account (test/iam/vault.test.ts)",
  'shared/aws/vault-drill.ts#rdsVaultDrillPort':
    "the vault side of a drill from the vault (listing the vault's copies, sharing one with the hub) runs with the vault drill role's credentials in the vault account (test/iam/vault-drill.test.ts)",
  'shared/aws/ebs-vault-drill.ts':
    "the vault side of an EBS drill from the vault (listing the vault's sets, sharing each part with the hub) runs with the vault drill role's credentials in the vault account (test/iam/vault-ebs-drill.test.ts)",
  'shared/retention/vault.ts':
    "vault retention lists and deletes with the vault retention role's credentials in the vault account (test/iam/vault.test.ts)",
};

/** The reason a call runs as an assumed role (see ASSUMED), if it does. */
export const assumedBy = (call: RecordedCall): string | undefined => {
  const adapter = adapterOf(call);
  if (adapter && ASSUMED[adapter]) return ASSUMED[adapter];
  return call.frames.map((f) => ASSUMED[frameParts(f).file]).find((x) => x !== undefined);
};

/** The function whose handler appears in the call's frames, if any (handler and end-to-end tests). */
export const handlerOf = (call: RecordedCall): string | undefined =>
  call.frames
    .map((f) => /^functions\/([^/]+)\/handler\.ts:/.exec(f)?.[1])
    .find((x): x is string => x !== undefined);

const excludedFor = (fn: string, call: RecordedCall): string | undefined => {
  for (const [op, why] of Object.entries(EXCLUDED[fn] ?? {})) {
    const [file, name] = [op.slice(0, op.lastIndexOf(':')), op.slice(op.lastIndexOf(':') + 1)];
    if (call.frames.map(frameParts).some((f) => f.file === file && f.fn === name)) return why;
  }
  return undefined;
};

/**
 * Every adapter factory on the call's stack, innermost first: an adapter built on another (the drill's DR
 * copy lister over the DR copies' store) sends for whoever imports the outer one.
 */
const adaptersOnStack = (call: RecordedCall): string[] => [
  ...new Set(
    call.frames
      .map(frameParts)
      .filter((f) => isAdapter(f.file))
      .map(
        (f) =>
          `${f.file}#${exportSpans(f.file).find((x) => f.line >= x.from && f.line <= x.to)?.name ?? '?'}`,
      ),
  ),
];

/** The functions whose role sends this call. */
export const rolesFor = (call: RecordedCall, adapters: Map<string, Set<string>>): string[] => {
  const adapter = adapterOf(call);
  if (!adapter || assumedBy(call)) return [];
  const through = handlerOf(call);
  if (through) return [through];
  const stack = adaptersOnStack(call);
  return [...adapters]
    .filter(([fn, a]) => stack.some((x) => a.has(x)) && reachesStack(fn, call) && !excludedFor(fn, call))
    .map(([fn]) => fn);
};

/** Calls recorded through a handler that an exclusion says the function never makes. */
export const contradictedExclusions = (calls: RecordedCall[]): string[] =>
  calls.flatMap((c) => {
    const fn = handlerOf(c);
    const why = fn && excludedFor(fn, c);
    return why ? [`${fn} ran ${c.command} (${adapterOf(c)}), but EXCLUDED says: ${why}`] : [];
  });
