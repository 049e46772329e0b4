import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFunction } from '../../infra/bundling.js';
import {
  baselineSource,
  injectionSource,
  requestOf,
  sdkSurvivors,
  survivingCommands,
  survivingInputs,
} from '../../bench/cold/baselines.js';
import { startFakeEndpoint } from '../../bench/cold/fake-endpoint.js';
import { jsOutputs, loadedFiles, outputBytes, staticClosure } from '../../bench/cold/loaded.js';

const HARNESS = resolve('bench/cold/harness.mjs');

describe('the files a cold start loads (the module hook of the untimed runs)', () => {
  // Inside the repository (its own temp dir under the gitignored .bench/), so packages resolve from node_modules.
  mkdirSync(resolve('.bench'), { recursive: true });
  const dir = mkdtempSync(join(resolve('.bench'), 'test-loaded-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = (extra: Record<string, string> = {}) => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...extra,
  });

  it('lists the entry, its static imports and the chunks the invoke imported, not the chunks it never imported', async () => {
    // Prepare: a split build (the functions' options) with one `await import()` taken and one not.
    const src = join(dir, 'split-src');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'shared.mjs'), 'export const shared = (x) => `shared ${x}`;\n');
    writeFileSync(
      join(src, 'taken.mjs'),
      "import { shared } from './shared.mjs';\nexport const value = () => shared('taken');\n",
    );
    writeFileSync(
      join(src, 'never.mjs'),
      "import { shared } from './shared.mjs';\nexport const value = () => shared('never');\n",
    );
    writeFileSync(
      join(src, 'index.mjs'),
      [
        'export const handler = async (event) =>',
        "  event.never ? (await import('./never.mjs')).value() : (await import('./taken.mjs')).value();",
      ].join('\n'),
    );
    const out = join(dir, 'split');
    const meta = buildFunction(join(src, 'index.mjs'), out);
    const event = join(dir, 'event.json');
    writeFileSync(event, '{}');
    const taken = jsOutputs(meta).find((f) => f.startsWith('taken-'))!;
    const never = jsOutputs(meta).find((f) => f.startsWith('never-'))!;
    expect([taken, never].every(Boolean)).toBe(true);

    // Act
    const r = await loadedFiles(process.execPath, [HARNESS, join(out, 'index.mjs'), event], out, env());

    // Assert
    expect((JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { error?: string }).error).toBeUndefined();
    expect(r.files).toContain('index.mjs');
    expect(r.files).toContain(taken);
    expect(r.files).not.toContain(never);
    for (const f of staticClosure(meta)) expect(r.files).toContain(f);
    expect(outputBytes(meta, r.files)).toBeLessThan(outputBytes(meta, jsOutputs(meta)));
  });

  it("sees an injection in a chunk the first invoke loads (the self-test's), and not the same chunk never loaded", async () => {
    // Prepare: the bare baseline of one RDS command, with the self-test's injection behind `await import()`.
    const rds = 'node_modules/@aws-sdk/client-rds/dist-es';
    const survivors = sdkSurvivors([`${rds}/RDSClient.js`, `${rds}/commands/DescribeDBSnapshotsCommand.js`]);
    const injection = {
      modules: ['pg'],
      client: { module: '@aws-sdk/client-sts', name: 'STSClient', command: 'GetCallerIdentityCommand' },
      weightBytes: 4096,
    };
    const built = (taken: boolean) => {
      const src = join(dir, `injected-${taken}-src`);
      mkdirSync(src, { recursive: true });
      writeFileSync(join(src, 'injected.mjs'), injectionSource(injection));
      writeFileSync(
        join(src, 'index.mjs'),
        baselineSource(survivors, undefined, { ...injection, lazy: { module: './injected.mjs', taken } }),
      );
      const out = join(dir, `injected-${taken}`);
      return { out, meta: buildFunction(join(src, 'index.mjs'), out) };
    };
    const fake = await startFakeEndpoint();
    const event = join(dir, 'calls.json');
    writeFileSync(event, JSON.stringify({ calls: ['rds:DescribeDBSnapshots@eu-west-1'] }));
    const firstRun = async ({ out, meta }: ReturnType<typeof built>) => {
      fake.calls.length = 0;
      const r = await loadedFiles(
        process.execPath,
        [HARNESS, join(out, 'index.mjs'), event],
        out,
        env({
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'AKIDBENCH',
          AWS_SECRET_ACCESS_KEY: 'bench',
          AWS_ENDPOINT_URL: fake.url,
        }),
      );
      return {
        requests: fake.calls.map(requestOf),
        commands: survivingCommands(sdkSurvivors(survivingInputs(meta, r.files))),
        loadedBytes: outputBytes(meta, r.files),
        wholeBytes: outputBytes(meta, jsOutputs(meta)),
      };
    };

    try {
      // Act
      const loaded = await firstRun(built(true));
      const notLoaded = await firstRun(built(false));

      // Assert: loaded, it is one more command, one more request and pg's bytes; never loaded, none of them.
      expect(loaded.commands).toEqual([
        '@aws-sdk/client-rds/DescribeDBSnapshotsCommand',
        '@aws-sdk/client-sts/GetCallerIdentityCommand',
      ]);
      expect(loaded.requests).toEqual([
        'rds:DescribeDBSnapshots@eu-west-1',
        'sts:GetCallerIdentity@eu-west-1',
      ]);
      expect(notLoaded.commands).toEqual(['@aws-sdk/client-rds/DescribeDBSnapshotsCommand']);
      expect(notLoaded.requests).toEqual(['rds:DescribeDBSnapshots@eu-west-1']);
      expect(loaded.loadedBytes).toBeGreaterThan(notLoaded.loadedBytes * 1.05);
      expect(notLoaded.wholeBytes).toBeGreaterThan(notLoaded.loadedBytes * 1.05);
    } finally {
      await fake.close();
    }
  });
});
