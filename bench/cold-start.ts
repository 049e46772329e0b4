import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  baselineSource,
  bytesAbove,
  firstDifference,
  frameworkUse,
  requestOf,
  sdkSurvivors,
  survivingCommands,
  survivingInputs,
} from './cold/baselines.js';
import { type DeployedFunction, type Metafile, synthesizeDeployed } from './cold/deployed.js';
import { type QueryAnswers, startFakeEndpoint } from './cold/fake-endpoint.js';
import { type NodeRuntime, nodeFor, runtimeMajor } from './cold/node-runtime.js';
import { type BenchRow, median, pairedRatio } from './stats.js';

const run = promisify(execFile);
const OUT = resolve('.bench/cold');
const HARNESS = resolve('bench/cold/harness.mjs');
const TARGET = 1.05;
// The self-test's injection: the weight this bench made steward shed coming back — an import steward must
// never carry outside the verifier (pg), the Powertools logger it replaced, and an SDK client no function
// uses, built and called on the first invoke (STS GetCallerIdentity): the rows must go red. (pg and STS
// alone added only ~4 ms to cost's ~186 ms, and its CPU self-test read 1.05×: too small a fault to show.)
// A fixed injection became a 4 % fault once the baselines grew, so code worth a tenth of the bare
// baseline's bundle, run once at load, comes with it: a fault of the size of steward's own code.
const INJECTED = {
  modules: ['pg', '@aws-lambda-powertools/logger'],
  client: { module: '@aws-sdk/client-sts', name: 'STSClient', command: 'GetCallerIdentityCommand' },
};
const INJECTED_WEIGHT = 0.1;

/** The event each function's first invoke gets: a sample from events/ (what its schedule or rule sends). */
const EVENTS: Record<string, () => unknown> = {
  backup: () => readJson('events/backup/scheduled.json'),
  retention: () => readJson('events/retention/scheduled.json'),
  drill: () => readJson('events/drill/task-select.json'),
  // The verify task of the same drill, its copy at a local port nothing listens on (the connection fails
  // at once): wiring, credentials and the first connection attempt, no database.
  'drill-verify': () => {
    const e = readJson('events/drill/task-select.json') as { state: Record<string, unknown> };
    return {
      ...e,
      task: 'verify',
      state: {
        ...e.state,
        source: { snapshotId: 'steward-orders-db-202601310300-sched', referenceTime: '2026-01-31T03:05:00Z' },
        target: {
          kind: 'rds-instance',
          id: 'steward-drill-orders-db-0500',
          requestedAt: '2026-02-01T05:00:10Z',
          endpoint: { host: '127.0.0.1', port: 9 },
        },
      },
    };
  },
  scaling: () => readJson('events/scaling/alarm-state-change.json'),
  cost: () => readJson('events/cost/scheduled.json'),
  report: () => readJson('events/report/status-check.json'),
};

/**
 * What the fake AWS answers a function's first invoke with, where empty answers would make it throw (and so
 * take the error path: mapping the stack through the source map, which no normal invoke does). The drill's
 * select task needs a snapshot of its database inside the selector's window: one manual snapshot of
 * orders-db from a day ago. The baseline sends the same requests and reads the same answers.
 */
const ANSWERS: Record<string, QueryAnswers> = {
  drill: {
    DescribeDBSnapshots: () => {
      const created = new Date(Date.now() - 86_400_000).toISOString();
      const id = `steward-orders-db-${created.slice(0, 16).replace(/\D/g, '')}-sched`;
      return (
        `<DBSnapshots><DBSnapshot><DBSnapshotIdentifier>${id}</DBSnapshotIdentifier>` +
        `<DBSnapshotArn>arn:aws:rds:eu-west-1:111122223333:snapshot:${id}</DBSnapshotArn>` +
        '<DBInstanceIdentifier>orders-db</DBInstanceIdentifier>' +
        `<SnapshotCreateTime>${created}</SnapshotCreateTime><Status>available</Status>` +
        '<SnapshotType>manual</SnapshotType><Engine>postgres</Engine><Encrypted>true</Encrypted>' +
        '</DBSnapshot></DBSnapshots>'
      );
    },
  },
};

const readJson = (file: string): unknown => JSON.parse(readFileSync(resolve(file), 'utf8'));

/** Bundle `source` with CDK's own esbuild command for `fn` (its entry and output swapped), with a metafile. */
const bundleLike = (fn: DeployedFunction, kind: string, source: string) => {
  const dir = join(OUT, 'baselines', `${fn.name}-${kind}`);
  mkdirSync(dir, { recursive: true });
  const entry = join(OUT, 'baselines', `${fn.name}-${kind}.mjs`);
  writeFileSync(entry, source);
  const file = join(dir, 'index.mjs');
  const meta = join(dir, 'meta.json');
  const extra = [`--metafile=${meta}`, '--log-level=error'];
  const options = { cwd: fn.bundle.cwd, stdio: ['ignore', 'ignore', 'inherit'] as ('ignore' | 'inherit')[] };
  const ownEntry = new RegExp(`"?[^\\s"]*functions/${fn.name}/handler\\.ts"?`);
  if (fn.bundle.argv) {
    const swapped = fn.bundle.argv.map((a) =>
      ownEntry.test(a) ? entry : a.startsWith('--outfile=') ? `--outfile=${file}` : a,
    );
    execFileSync(swapped[0]!, [...swapped.slice(1), ...extra], options);
  } else {
    // The same command run through a shell (`bash -c "esbuild ..."`): swap the entry and output in the text.
    const script = fn.bundle
      .script!.replace(ownEntry, JSON.stringify(entry))
      .replace(/--outfile=("[^"]*"|\S+)/, `--outfile=${JSON.stringify(file)}`);
    execFileSync('bash', ['-c', `${script} ${extra.join(' ')}`], options);
  }
  return { file, bytes: statSync(file).size, metafile: JSON.parse(readFileSync(meta, 'utf8')) as Metafile };
};

/** What Lambda puts in every function's environment (reserved variables), pointed at the fake endpoint. */
const lambdaEnv = (fn: DeployedFunction, endpoint: string): Record<string, string> => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  LANG: 'en_US.UTF-8',
  TZ: ':UTC',
  AWS_REGION: fn.region,
  AWS_DEFAULT_REGION: fn.region,
  AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
  AWS_LAMBDA_FUNCTION_NAME: `steward-prod-${fn.name}`,
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  LAMBDA_TASK_ROOT: fn.dir,
  AWS_ACCESS_KEY_ID: 'ASIABENCHCOLDSTART00',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_SESSION_TOKEN: 'bench',
  AWS_ENDPOINT_URL: endpoint,
});

interface Sample {
  importMs: number;
  totalMs: number;
  error?: string;
}

const coldStart = async (node: NodeRuntime, file: string, event: string, env: Record<string, string>) => {
  const { stdout } = await run(node.path, [HARNESS, file, event], { env, maxBuffer: 64 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Sample;
};

const kb = (bytes: number) => (bytes / 1024).toFixed(0);

/**
 * Every function the CDK app ships, as it ships: bundle size and cold start (import + first invoke, CPU
 * time, fresh processes on the Lambda runtime's Node.js major) against two fair baselines built from the
 * function's own esbuild metafile: the bare SDK (exactly the clients, commands and paginators that survive
 * in its bundle, sending the same requests its first invoke sent), and the same plus middy, Powertools and
 * zod as the function uses them. `pairs` interleaved rounds; each ratio is the median of paired ratios.
 * Self-tests: an injected import (`pg`) must turn both rows red; the baseline against itself must not.
 */
export const benchColdStarts = async (pairs: number, only?: string[]): Promise<BenchRow[]> => {
  const functions = synthesizeDeployed(join(OUT, 'synth')).filter(
    (f) => !only?.length || only.includes(f.name),
  );
  const major = runtimeMajor(functions[0]!.runtime);
  const node = nodeFor(major, resolve('.bench/node'));
  const rows: BenchRow[] = [
    {
      bench: 'cold starts',
      metric: `Node.js that ran them (${node.source})`,
      value: node.version,
      baseline: `${functions[0]!.runtime} (Lambda; arm64 there, ${process.arch} here)`,
      target: `Node.js ${major}`,
      ok: node.version.startsWith(`v${major}.`),
    },
  ];
  const fake = await startFakeEndpoint();
  try {
    for (const fn of functions) rows.push(...(await benchFunction(fn, node, fake, pairs)));
  } finally {
    await fake.close();
  }
  return rows;
};

const benchFunction = async (
  fn: DeployedFunction,
  node: NodeRuntime,
  fake: Awaited<ReturnType<typeof startFakeEndpoint>>,
  pairs: number,
): Promise<BenchRow[]> => {
  const inputs = survivingInputs(fn.metafile);
  const sdk = sdkSurvivors(inputs);
  const framework = frameworkUse(inputs);
  const bare = bundleLike(fn, 'bare', baselineSource(sdk));
  const withFramework = bundleLike(fn, 'framework', baselineSource(sdk, framework));
  const injected = bundleLike(
    fn,
    'injected',
    baselineSource(sdk, undefined, { ...INJECTED, weightBytes: Math.round(bare.bytes * INJECTED_WEIGHT) }),
  );

  const eventFile = join(OUT, 'baselines', `${fn.name}-event.json`);
  writeFileSync(eventFile, JSON.stringify(EVENTS[fn.name]?.() ?? {}));
  const base = lambdaEnv(fn, fake.url);
  const stewardEnv = { ...base, ...fn.environment };
  const { NODE_OPTIONS: nodeOptions, ...withoutOptions } = stewardEnv;
  const noMapsEnv = { ...withoutOptions };
  // The baselines get the Powertools settings the function has (service, namespace), not steward's own.
  const powertools = Object.fromEntries(
    Object.entries(fn.environment).filter(([k]) => k.startsWith('POWERTOOLS_')),
  );
  const baseEnv = { ...base, ...powertools };

  for (const op of Object.keys(fake.answers)) delete fake.answers[op];
  Object.assign(fake.answers, ANSWERS[fn.name] ?? {});
  // A first, unmeasured run of each: records the requests steward's first invoke sends, warms the disk cache.
  fake.calls.length = 0;
  const primed = await coldStart(node, fn.file, eventFile, stewardEnv);
  const requests = fake.calls.map(requestOf);
  const operations = new Set(fake.calls.map((c) => `${c.service}:${c.op}`)).size;
  const baselineEvent = join(OUT, 'baselines', `${fn.name}-baseline-event.json`);
  writeFileSync(baselineEvent, JSON.stringify({ calls: requests }));
  // The same first run of each baseline: the requests it sends, for the fairness check and its self-test.
  const sent = async (file: string) => {
    fake.calls.length = 0;
    await coldStart(node, file, baselineEvent, baseEnv);
    return fake.calls.map(requestOf);
  };
  const bareRequests = await sent(bare.file);
  const frameworkRequests = await sent(withFramework.file);
  const injectedRequests = await sent(injected.file);

  type Side = 'steward' | 'noMaps' | 'bare' | 'framework' | 'injected';
  const sides: [Side, string, string, Record<string, string>][] = [
    ['steward', fn.file, eventFile, stewardEnv],
    ...(nodeOptions
      ? [['noMaps', fn.file, eventFile, noMapsEnv] as [Side, string, string, Record<string, string>]]
      : []),
    ['bare', bare.file, baselineEvent, baseEnv],
    ['framework', withFramework.file, baselineEvent, baseEnv],
    ['injected', injected.file, baselineEvent, baseEnv],
  ];
  const cpu: Record<Side, number[]> = { steward: [], noMaps: [], bare: [], framework: [], injected: [] };
  // Interleaved rounds, each in a rotated order, so load and order hit every side alike.
  for (let i = 0; i < pairs; i++) {
    for (let k = 0; k < sides.length; k++) {
      const [side, file, event, env] = sides[(i + k) % sides.length]!;
      cpu[side].push((await coldStart(node, file, event, env)).totalMs);
    }
  }

  const ours = survivingCommands(sdk);
  const commandsOf = (m: Metafile) => survivingCommands(sdkSurvivors(survivingInputs(m)));
  const theirs = commandsOf(bare.metafile);
  // A bundle with SDK code but no command named (e.g. the SDK's single-file CommonJS build) cannot be
  // matched command by command: that is not "the same", it is unknown.
  const named = ours.length > 0 || !inputs.some((f) => f.includes('node_modules/@aws-sdk/client-'));
  // The fairness check: the same commands kept, the same requests sent (service, operation and region, in
  // order) by both baselines; its first difference named when there is one.
  const difference =
    (named ? undefined : 'SDK commands not named in the metafile') ??
    firstDifference(ours, theirs) ??
    firstDifference(requests, bareRequests) ??
    firstDifference(requests, frameworkRequests);
  // Its self-test: the injected baseline (one more client and command, one more request) must read
  // DIFFERENT on both halves of the check, the commands and the requests.
  const injectedCommands = commandsOf(injected.metafile);
  const selfCommands = firstDifference(ours, injectedCommands);
  const selfRequests = firstDifference(requests, injectedRequests);
  const of = `median of ${pairs} paired ratios`;
  const row = (metric: string, value: string, baseline: string, ratio: number, target: string, ok: boolean) =>
    ({ bench: fn.name, metric, value, baseline, ratio, target, ok }) satisfies BenchRow;
  const time = (side: Side, label: string) =>
    row(
      `cold import + first invoke, CPU ms, vs ${label} (${of})`,
      median(cpu.steward).toFixed(1),
      median(cpu[side]).toFixed(1),
      pairedRatio(cpu.steward, cpu[side]),
      `≤ ${TARGET}×`,
      pairedRatio(cpu.steward, cpu[side]) <= TARGET,
    );
  const bareLabel = `bare SDK (${ours.length} commands)`;
  // What the framework baseline adds, as the function's metafile shows it (Powertools only if it ships).
  const fwParts = [
    framework.middy && 'middy',
    (framework.logger || framework.metrics) && 'Powertools',
    framework.zod,
  ].filter(Boolean);
  const fwLabel = `SDK + ${fwParts.length ? fwParts.join(', ') : 'nothing'}`;
  const rows: BenchRow[] = [
    row(
      `bundle KB vs ${bareLabel}`,
      kb(fn.bytes),
      kb(bare.bytes),
      fn.bytes / bare.bytes,
      `≤ ${TARGET}×`,
      fn.bytes / bare.bytes <= TARGET,
    ),
    row(
      `bundle KB vs ${fwLabel}`,
      kb(fn.bytes),
      kb(withFramework.bytes),
      fn.bytes / withFramework.bytes,
      `≤ ${TARGET}×`,
      fn.bytes / withFramework.bytes <= TARGET,
    ),
    time('bare', bareLabel),
    time('framework', fwLabel),
  ];
  // Why the size row reads what it does: the bytes above the bare SDK by origin. Its ratio is the floor
  // that steward's own code sets alone (the bare SDK plus that code, no library at all): above the target,
  // no lighter library can reach it, only less code in the function.
  const above = bytesAbove(fn.metafile, bare.metafile);
  const own = Math.max(0, above.get('steward') ?? 0);
  const floor = (bare.bytes + own) / bare.bytes;
  rows.push(
    row(
      "bundle KB above the bare SDK, by origin; ratio: bare SDK + steward's own code only",
      [...above]
        .filter(([, b]) => Math.abs(b) >= 512)
        .sort((a, b) => b[1] - a[1])
        .map(([o, b]) => `${o} ${kb(b)}`)
        .join(', '),
      kb(bare.bytes),
      floor,
      `≤ ${TARGET}× (above it, only less code in the function reaches the target)`,
      floor <= TARGET,
    ),
  );
  if (nodeOptions)
    rows.push(
      row(
        `(not deployed) the same without NODE_OPTIONS=${nodeOptions}, vs bare SDK (${of})`,
        median(cpu.noMaps).toFixed(1),
        median(cpu.bare).toFixed(1),
        pairedRatio(cpu.noMaps, cpu.bare),
        'what the option costs',
        true,
      ),
    );
  const regions = new Set(requests.map((r) => r.split('@')[1])).size;
  rows.push(
    row(
      `fair baseline: same SDK commands, same first-invoke requests (${requests.length}: ${operations} operations, ${regions} regions)${difference ? `, first difference ${difference}` : ''}; first invoke ${primed.error ? `threw ${primed.error}` : 'returned'}`,
      difference ? 'DIFFERENT' : 'same',
      `${theirs.length} commands, ${bareRequests.length} requests`,
      difference ? 0 : 1,
      'identical, and a first invoke that returns (a throw measures the error path)',
      !difference && !primed.error,
    ),
  );
  // Self-tests: the checks above can fail. An extra import (pg) must go red; the baseline against itself
  // (each round against the next) must stay green.
  const selfKb = injected.bytes / bare.bytes;
  const selfCpu = pairedRatio(cpu.injected, cpu.bare);
  const aa = pairedRatio(cpu.bare, [...cpu.bare.slice(1), cpu.bare[0]!]);
  rows.push(
    {
      ...row(
        `self-test: fair baseline, the same check against the injected baseline (commands: ${selfCommands ?? 'same'}; requests: ${selfRequests ?? 'same'})`,
        selfCommands && selfRequests ? 'DIFFERENT' : 'same',
        `${injectedCommands.length} commands, ${injectedRequests.length} requests`,
        selfCommands && selfRequests ? 0 : 1,
        'DIFFERENT in commands and requests (must go red)',
        !!selfCommands && !!selfRequests,
      ),
      bench: `${fn.name}, self-test`,
    },
    {
      ...row(
        'self-test: bundle KB, bare SDK + injected pg, Powertools logger, STS call and a tenth more code vs bare SDK',
        kb(injected.bytes),
        kb(bare.bytes),
        selfKb,
        `> ${TARGET}× (must go red)`,
        selfKb > TARGET,
      ),
      bench: `${fn.name}, self-test`,
    },
    {
      ...row(
        `self-test: cold CPU, bare SDK + injected pg, Powertools logger, STS call and a tenth more code vs bare SDK (${of})`,
        median(cpu.injected).toFixed(1),
        median(cpu.bare).toFixed(1),
        selfCpu,
        `> ${TARGET}× (must go red)`,
        selfCpu > TARGET,
      ),
      bench: `${fn.name}, self-test`,
    },
    {
      ...row(
        `self-test (noise floor): cold CPU, bare SDK vs itself, the next round (${of})`,
        median(cpu.bare).toFixed(1),
        median(cpu.bare).toFixed(1),
        aa,
        `within ${TARGET}× either way (else this run is too noisy for the target)`,
        aa <= TARGET && aa >= 1 / TARGET,
      ),
      bench: `${fn.name}, self-test`,
    },
  );
  return rows;
};
