import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';

/**
 * Records every AWS SDK command the tests send, mocked (aws-sdk-client-mock) or real (moto end to end),
 * with the client's service and region and the steward source frames that sent it. One JSON-lines file
 * per test file under `.steward/iam/calls/`; the IAM suite (test/iam) simulates them against the
 * synthesized roles, so the requests it proves are the ones the code makes, not a hand-kept list.
 */

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CALLS_DIR = join(ROOT, '.steward', 'iam', 'calls');

/** One recorded SDK call. */
export interface RecordedCall {
  /** SDK client class, e.g. `RDSClient`, `DynamoDBDocumentClient`. */
  client: string;
  /** Command class without the `Command` suffix, e.g. `CreateDBSnapshot`. */
  command: string;
  region: string;
  input: unknown;
  /** Steward source frames, innermost first: `shared/aws/rds.ts:createSnapshot`. */
  frames: string[];
  /** Test file that made the call (relative to the repository). */
  test: string;
  mocked: boolean;
}

type Pending = Omit<RecordedCall, 'region' | 'test'> & { region: Promise<string> };

const require = createRequire(import.meta.url);
const HOOKED = Symbol.for('steward.sdkRecorder');

// The calls not yet written, kept on globalThis: the hooks below patch modules loaded once per process
// (sinon, the smithy client, the signer), so they must reach the same list when a worker runs several test
// files one after another (the `infra` project, `isolate: false`), where this module is loaded once per file.
// Files in one worker run one at a time: each file's `afterAll` writes what its tests sent.
const PENDING = Symbol.for('steward.sdkRecorder.pending');
const pending: Pending[] = ((globalThis as Record<symbol, Pending[] | undefined>)[PENDING] ??= []);

/**
 * The stack where a command was sent, deep enough to reach the service above the adapter: V8 keeps 10 frames
 * by default, and the SDK's, the mock's and the retry helpers' frames can fill them before steward's.
 */
const sendStack = (): string | undefined => {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  try {
    return new Error().stack;
  } finally {
    Error.stackTraceLimit = limit;
  }
};

const FRAME = /^\s*at (?:async )?(?:(.+?) \()?(.+?):(\d+):\d+\)?$/;

/** The repository's own frames (not node_modules, not the tests), innermost first. */
const stewardFrames = (stack: string | undefined): string[] =>
  (stack ?? '')
    .split('\n')
    .slice(1)
    .flatMap((line) => {
      const m = FRAME.exec(line);
      if (!m) return [];
      const file = m[2]!.replace(/^file:\/\//, '');
      if (!file.startsWith(ROOT) || file.includes('/node_modules/')) return [];
      const rel = relative(ROOT, file);
      if (!/^(shared|functions|cli|infra)\//.test(rel)) return [];
      const fn = (m[1] ?? '<anonymous>').replace(/ \[as .*\]$/, '').replace(/^(Object|Module|async)\./, '');
      return [`${rel}:${fn}@${m[3]}`];
    });

// Dates become ISO strings, long strings (report bodies) are cut: the record is for IAM, not payloads.
const plain = (input: unknown): unknown =>
  JSON.parse(
    JSON.stringify(input ?? {}, (_k, v: unknown) =>
      typeof v === 'string' && v.length > 300
        ? `${v.slice(0, 300)}…`
        : v instanceof Uint8Array
          ? '<bytes>'
          : v,
    ),
  );

interface SdkClient {
  constructor: { name: string };
  config?: { region?: unknown };
}
interface SdkCommand {
  constructor: { name: string };
  input?: unknown;
}

const regionOf = async (client: SdkClient): Promise<string> => {
  const r = client.config?.region;
  try {
    const v = typeof r === 'function' ? await (r as () => unknown)() : r;
    return typeof v === 'string' ? v : 'unknown';
  } catch {
    return 'unknown';
  }
};

const record = (client: unknown, command: unknown, stack: string | undefined, mocked: boolean): void => {
  const c = client as SdkClient | undefined;
  const cmd = command as SdkCommand | undefined;
  if (!c || !cmd?.constructor?.name?.endsWith('Command')) return;
  const frames = stewardFrames(stack);
  // Calls the tests make themselves (seeding moto, reading results) are not steward's requests.
  if (!frames.some((f) => /^(shared|functions)\//.test(f))) return;
  pending.push({
    client: c.constructor.name,
    command: cmd.constructor.name.replace(/Command$/, ''),
    region: regionOf(c),
    input: plain(cmd.input),
    frames,
    mocked,
  });
};

interface SinonStub {
  invoke: (func: unknown, thisValue: unknown, args: unknown[]) => unknown;
}
interface SinonApi {
  stub: (...args: unknown[]) => unknown;
  [HOOKED]?: boolean;
}

/** aws-sdk-client-mock replaces `send` with a sinon stub: record what each stub is invoked with. */
const hookSinon = (): void => {
  const sinon = require('sinon') as SinonApi;
  if (sinon[HOOKED]) return;
  sinon[HOOKED] = true;
  const stub = sinon.stub.bind(sinon);
  sinon.stub = (...args: unknown[]) => {
    const s = stub(...args) as SinonStub;
    if (args[1] === 'send' && typeof s?.invoke === 'function') {
      const invoke = s.invoke.bind(s);
      s.invoke = (func, thisValue, callArgs) => {
        record(thisValue, callArgs[0], sendStack(), true);
        return invoke(func, thisValue, callArgs);
      };
    }
    return s;
  };
};

interface SmithyClient {
  prototype: { send: (this: unknown, command: unknown, ...rest: unknown[]) => unknown };
  [HOOKED]?: boolean;
}

/** Real clients (moto end to end) send through the smithy base `Client#send`. */
const hookSmithy = (): void => {
  const { Client } = require('@smithy/core/client') as { Client: SmithyClient };
  if (Client[HOOKED]) return;
  Client[HOOKED] = true;
  const send = Client.prototype.send;
  Client.prototype.send = function (this: unknown, command: unknown, ...rest: unknown[]) {
    record(this, command, sendStack(), false);
    return send.call(this, command, ...rest);
  };
};

interface RdsSigner {
  prototype: {
    getAuthToken: (this: {
      hostname?: unknown;
      port?: unknown;
      username?: unknown;
      region?: unknown;
    }) => unknown;
  };
  [HOOKED]?: boolean;
}

/**
 * An IAM database authentication token is signed locally (no SDK command is sent), but using it is the
 * IAM request `rds-db:connect`: recorded as `Signer:connect` with the endpoint and user it was signed for.
 */
const hookSigner = (): void => {
  const { Signer } = require('@aws-sdk/rds-signer') as { Signer: RdsSigner };
  if (Signer[HOOKED]) return;
  Signer[HOOKED] = true;
  const getAuthToken = Signer.prototype.getAuthToken;
  Signer.prototype.getAuthToken = function (this) {
    const frames = stewardFrames(sendStack());
    if (frames.some((f) => /^(shared|functions)\//.test(f))) {
      pending.push({
        client: 'Signer',
        command: 'connect',
        region: Promise.resolve(typeof this.region === 'string' ? this.region : 'unknown'),
        input: { hostname: this.hostname, port: this.port, DBUser: this.username },
        frames,
        mocked: false,
      });
    }
    return getAuthToken.call(this);
  };
};

/** Install the hooks for this test file and write its calls when it ends. */
export const recordSdkCalls = (): void => {
  hookSinon();
  hookSmithy();
  hookSigner();
  afterAll(async () => {
    const file = expect.getState().testPath ?? 'unknown';
    const test = relative(ROOT, file);
    if (test.startsWith('test/iam/')) return;
    const calls: RecordedCall[] = [];
    for (const p of pending.splice(0)) calls.push({ ...p, region: await p.region, test });
    mkdirSync(CALLS_DIR, { recursive: true });
    writeFileSync(
      join(CALLS_DIR, `${test.replace(/[^a-zA-Z0-9]+/g, '_')}.jsonl`),
      calls.map((c) => JSON.stringify(c)).join('\n') + (calls.length ? '\n' : ''),
    );
  });
};
