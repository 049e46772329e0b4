import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Client from 'pg/lib/client.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baselineSource, requestOf, sdkSurvivors } from '../../bench/cold/baselines.js';
import type { FakeCall } from '../../bench/cold/fake-endpoint.js';
import { startFakePostgres } from '../../bench/cold/fake-postgres.js';

describe("the cold-start bench's fake database", () => {
  const calls: FakeCall[] = [];
  let db: Awaited<ReturnType<typeof startFakePostgres>>;
  beforeAll(async () => {
    db = await startFakePostgres(calls);
  });
  afterAll(async () => {
    await db.close();
  });

  const connect = async (ssl: false | { rejectUnauthorized: boolean }) => {
    const client = new Client({
      host: db.host,
      port: db.port,
      user: 'steward_verifier',
      password: 'token',
      database: 'orders',
      ssl,
      connectionTimeoutMillis: 5_000,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return 'connected';
    } catch (e) {
      return (e as Error).message;
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  it('records a TLS connection as an SSLRequest and refuses it, so the client gives up at once', async () => {
    // Prepare
    calls.length = 0;

    // Act
    const outcome = await connect({ rejectUnauthorized: true });

    // Assert
    expect(outcome).toMatch(/does not support SSL/);
    expect(calls.map(requestOf)).toEqual([`pg:SSLRequest@127.0.0.1:${db.port}`]);
  });

  it('records a plain connection as a Startup and closes it', async () => {
    // Prepare
    calls.length = 0;

    // Act
    const outcome = await connect(false);

    // Assert
    expect(outcome).not.toBe('connected');
    expect(calls.map(requestOf)).toEqual([`pg:Startup@127.0.0.1:${db.port}`]);
  });

  /** A baseline's first invoke in a fresh process, as the bench runs it: the requests it made, what it printed. */
  const firstInvoke = async (pg: { imports: string[] } | undefined, sent: string[]) => {
    mkdirSync(resolve('.bench'), { recursive: true });
    const dir = mkdtempSync(join(resolve('.bench'), 'test-baseline-pg-'));
    try {
      const entry = join(dir, 'baseline.mjs');
      // The verifier's survivors (the RDS signer), as its metafile names them.
      const survivors = sdkSurvivors(['node_modules/@aws-sdk/rds-signer/dist-es/Signer.js']);
      writeFileSync(entry, baselineSource(survivors, undefined, undefined, pg));
      const event = join(dir, 'event.json');
      writeFileSync(event, JSON.stringify({ calls: sent }));
      calls.length = 0;
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [resolve('bench/cold/harness.mjs'), entry, event],
        {
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            AWS_REGION: 'eu-west-1',
            AWS_ACCESS_KEY_ID: 'AKIDBENCH',
            AWS_SECRET_ACCESS_KEY: 'bench',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
        },
      );
      return {
        requests: calls.map(requestOf),
        last: JSON.parse(stdout.trim().split('\n').at(-1)!) as object,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('is what a bare SDK + pg baseline connects to: it opens the recorded connections, in order', async () => {
    // Prepare
    const sent = [`pg:SSLRequest@127.0.0.1:${db.port}`, `pg:Startup@127.0.0.1:${db.port}`];

    // Act
    const r = await firstInvoke({ imports: ['pg/lib/client.js'] }, sent);

    // Assert: both connections, and a first invoke that returned.
    expect(r.requests).toEqual(sent);
    expect(r.last).not.toHaveProperty('error');
  });

  it('sees no connection from a baseline without pg (the bare SDK rows replay only AWS requests)', async () => {
    // Act
    const r = await firstInvoke(undefined, [`pg:SSLRequest@127.0.0.1:${db.port}`]);

    // Assert
    expect(r.requests).toEqual([]);
    expect(r.last).not.toHaveProperty('error');
  });
});
