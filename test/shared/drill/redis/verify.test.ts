import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../../../shared/drill/local/redis-server.js';
import {
  redisSampleProfile,
  SAMPLE_CLOCK_KEY,
  SAMPLE_STREAM,
  seedRedisSample,
  writeAll,
} from '../../../../shared/drill/local/redis-sample.js';
import { connectRedis, type RedisClient, text } from '../../../../shared/drill/redis/client.js';
import type { RedisVerificationProfileInput } from '../../../../shared/drill/redis/profile.js';
import { verifyRedis } from '../../../../shared/drill/redis/verify.js';
import type { RedisConnection } from '../../../../shared/drill/redis/verification.js';

// The Redis verification engine against a real redis-server: each test starts its own server on a free
// port in its own temp dir, seeds the sandbox's session-like sample, damages it one way, and verifies.

const servers: RedisServer[] = [];
const clients: RedisClient[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const NOW = new Date();
const start = async (opts: Partial<Parameters<typeof startRedis>[0]> = {}) => {
  const s = await startRedis({ name: 'verify-test', ...opts });
  servers.push(s);
  return s;
};
const client = async (conn: RedisConnection) => {
  const c = await connectRedis({ ...conn, connectTimeoutMs: 5_000, commandTimeoutMs: 10_000 });
  clients.push(c);
  return c;
};
/** A seeded server and the sample profile with the intact data's key counts as baselines. */
const seeded = async () => {
  const s = await start();
  const c = await client({ host: s.host, port: s.port });
  await seedRedisSample(c, { sessions: 400, now: NOW });
  const baseline: Record<string, { rows: number }> = {};
  for (const db of [0, 1]) {
    await c.send(['SELECT', db]);
    baseline[`db${db}`] = { rows: Number(await c.send(['DBSIZE'])) };
  }
  await c.send(['SELECT', 0]);
  return { s, c, baseline };
};
const verify = (
  conn: RedisConnection,
  baseline?: Record<string, { rows: number }>,
  profile: RedisVerificationProfileInput = redisSampleProfile,
) => verifyRedis(conn, profile, { referenceTime: NOW, ...(baseline ? { baseline } : {}), now: Date.now });
const check = (r: Awaited<ReturnType<typeof verify>>, name: string) => {
  const c = r.checks.find((x) => x.name === name);
  if (!c) throw new Error(`no check ${name} in ${r.checks.map((x) => x.name).join(', ')}`);
  return c;
};
/** Every session key (they are a third of the sample). */
const sessionKeys = async (c: RedisClient): Promise<Buffer[]> => {
  const keys: Buffer[] = [];
  let cursor = '0';
  do {
    const r = (await c.send(['SCAN', cursor, 'MATCH', 'session:*', 'COUNT', 1000])) as [Buffer, Buffer[]];
    cursor = text(r[0]);
    keys.push(...r[1]);
  } while (cursor !== '0');
  return keys;
};

describe('verifyRedis on a real redis-server', () => {
  it('passes on intact data: key counts per database, keys, patterns, TTLs and the data RPO', async () => {
    // Prepare
    const { s, baseline } = await seeded();
    // Act
    const r = await verify({ host: s.host, port: s.port }, baseline);
    // Assert
    expect(r.checks.filter((c) => c.status !== 'passed')).toEqual([]);
    expect(r).toMatchObject({
      passed: true,
      outcome: 'passed',
      database: 'db0,db1',
      user: 'default (no AUTH)',
    });
    expect(r.checks.map((c) => c.name)).toEqual([
      'connect',
      'key-count db0',
      'key-count db1',
      'key db0 events',
      'key db0 app:last-write',
      'key db1 config:flags',
      'pattern sessions',
      'ttl sessions',
      'pattern rate limits',
      'ttl rate limits',
      'freshness db0 events',
    ]);
    expect(r.tables).toEqual({
      db0: { rows: baseline.db0!.rows, method: 'exact' },
      db1: { rows: 20, method: 'exact' },
    });
    expect(check(r, 'pattern sessions')).toMatchObject({ measured: 400, method: 'exact' });
    expect(r.dataRpoSeconds).toBe(0);
    expect(r.newestRowTime).toBe(NOW.toISOString());
  });

  it('fails the key count when keys were lost', async () => {
    // Prepare
    const { s, c, baseline } = await seeded();
    const keys = await sessionKeys(c);
    await writeAll(
      c,
      keys.slice(0, 300).map((k) => ['DEL', k]),
    );
    // Act
    const r = await verify({ host: s.host, port: s.port }, baseline);
    // Assert
    expect(r.outcome).toBe('failed');
    expect(check(r, 'key-count db0')).toMatchObject({ status: 'failed', measured: baseline.db0!.rows - 300 });
    expect(check(r, 'key-count db0').detail).toMatch(/keys lost/);
    expect(check(r, 'key-count db1').status).toBe('passed');
  });

  it('fails TTL sanity when session keys lost their TTL', async () => {
    // Prepare
    const { s, c, baseline } = await seeded();
    await writeAll(
      c,
      (await sessionKeys(c)).map((k) => ['PERSIST', k]),
    );
    // Act
    const r = await verify({ host: s.host, port: s.port }, baseline);
    // Assert
    expect(check(r, 'ttl sessions')).toMatchObject({ status: 'failed', measured: 200 });
    expect(check(r, 'ttl sessions').detail).toBe('200 of 200 sampled keys have no TTL: TTL lost');
    expect(check(r, 'ttl rate limits').status).toBe('passed');
    expect(r.outcome).toBe('failed');
  });

  it('fails freshness when the newest write is older than the RPO target (stale data)', async () => {
    // Prepare
    const s = await start();
    const c = await client({ host: s.host, port: s.port });
    await seedRedisSample(c, { sessions: 50, now: NOW, ageMs: 2 * 3600_000 });
    // Act
    const r = await verify({ host: s.host, port: s.port });
    // Assert
    expect(check(r, 'freshness db0 events')).toMatchObject({ status: 'failed', measured: 7200 });
    expect(check(r, 'freshness db0 events').detail).toMatch(/exceeds the 300 s target: stale data$/);
    expect(r.dataRpoSeconds).toBe(7200);
  });

  it('fails keys and patterns of the wrong type, and a missing key', async () => {
    // Prepare
    const { s, c, baseline } = await seeded();
    const [k1, k2] = await sessionKeys(c);
    await writeAll(c, [
      ['DEL', k1!, k2!],
      ['SET', k1!, 'not a hash', 'EX', 600],
      ['RPUSH', k2!, 'a'],
      ['EXPIRE', k2!, 600],
      ['DEL', SAMPLE_CLOCK_KEY, SAMPLE_STREAM],
      ['SET', SAMPLE_STREAM, String(NOW.getTime())],
    ]);
    // Act
    const r = await verify({ host: s.host, port: s.port }, baseline, {
      ...redisSampleProfile,
      patterns: [{ ...redisSampleProfile.patterns[0]!, sample: 400 }],
    });
    // Assert
    expect(check(r, 'key db0 events')).toMatchObject({ status: 'failed', measured: 'string' });
    expect(check(r, 'key db0 events').detail).toBe('is a string, not a stream: wrong type');
    expect(check(r, 'key db0 app:last-write')).toMatchObject({ status: 'failed', detail: 'missing' });
    expect(check(r, 'pattern sessions').detail).toMatch(
      /2 sampled keys have the wrong type \((1 string, 1 list|1 list, 1 string)\)/,
    );
    // A string timestamp is a valid freshness source too.
    expect(check(r, 'freshness db0 events').status).toBe('passed');
  });

  it('bounds a pattern walk and extrapolates the count when it stops early', async () => {
    // Prepare
    const { s } = await seeded();
    // Act
    const r = await verify({ host: s.host, port: s.port }, undefined, {
      databases: [],
      patterns: [{ match: 'session:*', maxScan: 100, sample: 10 }],
      scanCount: 50,
    });
    // Assert
    const p = check(r, 'pattern session:*');
    expect(p).toMatchObject({ status: 'passed', method: 'sample' });
    expect(p.detail).toMatch(/^~\d+ keys match \(\d+ in 100 of \d+ keys walked\)/);
  });

  it('reports a refused connection as a failed connect, the rest not run', async () => {
    // Prepare
    const s = await start();
    const port = s.port;
    await s.stop();
    // Act
    const r = await verify({ host: '127.0.0.1', port });
    // Assert
    expect(r.outcome).toBe('failed');
    expect(check(r, 'connect').detail).toMatch(
      /^could not connect to 127\.0\.0\.1:\d+ as default \(no AUTH\): connection to .* failed: ECONNREFUSED/,
    );
    expect(r.checks.slice(1).every((c) => c.detail === 'not run: connect failed')).toBe(true);
  });
});

describe('verifyRedis logging in', () => {
  const SECRET = 'pw-Zq8-not-in-any-report';

  it('logs in as an RBAC user with read-only rights, and a wrong password fails without the secret', async () => {
    // Prepare: no default user; an admin that seeds, and a verifier that may only read (not even INFO,
    // which is @dangerous).
    const s = await start({
      args: [
        ['default', 'off'],
        ['admin', 'on', `>${SECRET}-admin`, '~*', '&*', '+@all'],
        [
          'verifier',
          'on',
          `>${SECRET}`,
          '~*',
          'resetchannels',
          '-@all',
          '+@read',
          '+@connection',
          '+select',
          '+dbsize',
          '+scan',
          '+type',
        ],
      ].flatMap((rule) => ['--user', ...rule]),
    });
    const c = await client({ host: s.host, port: s.port, username: 'admin', password: `${SECRET}-admin` });
    await seedRedisSample(c, { sessions: 20, now: NOW });
    // Act
    const ok = await verify({ host: s.host, port: s.port, username: 'verifier', password: SECRET });
    const wrong = await verify({ host: s.host, port: s.port, username: 'verifier', password: `${SECRET}-x` });
    // Assert
    expect(ok.checks.filter((x) => x.status !== 'passed')).toEqual([]);
    expect(ok.user).toBe('verifier');
    expect(check(ok, 'connect').measured).toBe('PONG');
    expect(check(wrong, 'connect').detail).toMatch(/AUTH refused: WRONGPASS/);
    for (const r of [ok, wrong]) expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  it('logs in with an AUTH token; a missing token fails the first command', async () => {
    // Prepare
    const s = await start({ args: ['--requirepass', SECRET] });
    // Act
    const ok = await verify({ host: s.host, port: s.port, password: SECRET }, undefined, {
      databases: [{ db: 0, minKeys: 0 }],
    });
    const none = await verify({ host: s.host, port: s.port }, undefined, { databases: [{ db: 0 }] });
    // Assert
    expect(ok).toMatchObject({ outcome: 'passed', user: 'default (AUTH token)' });
    expect(check(none, 'connect')).toMatchObject({ status: 'failed' });
    expect(check(none, 'connect').detail).toMatch(/NOAUTH/);
    expect(JSON.stringify(ok)).not.toContain(SECRET);
  });
});

describe('verifyRedis over TLS', () => {
  let dir: string;
  let files: { caFile: string; certFile: string; keyFile: string; otherCa: string };
  beforeAll(() => {
    // A CA made for this test, and a server certificate for localhost and 127.0.0.1 signed by it.
    dir = mkdtempSync(join(tmpdir(), 'steward-redis-tls-'));
    const f = (n: string) => join(dir, n);
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ca = (name: string, cn: string) =>
      ssl(
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.pem`,
        '-days',
        '1',
        '-subj',
        `/CN=${cn}`,
      );
    ca('ca', 'steward test CA');
    ca('other', 'another CA');
    ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=localhost',
    );
    writeFileSync(f('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    ssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.pem',
      '-days',
      '1',
      '-extfile',
      'san.ext',
    );
    files = {
      caFile: f('ca.pem'),
      certFile: f('server.pem'),
      keyFile: f('server.key'),
      otherCa: f('other.pem'),
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies the certificate and host name, and refuses a server signed by another CA', async () => {
    // Prepare
    const s = await start({ tls: files });
    const { readFileSync } = await import('node:fs');
    const ca = readFileSync(files.caFile);
    const profile = { databases: [{ db: 0, minKeys: 0 }] };
    // Act
    const byName = await verify({ host: 'localhost', port: s.port, tls: { ca } }, undefined, profile);
    const byIp = await verify({ host: '127.0.0.1', port: s.port, tls: { ca } }, undefined, profile);
    const wrongCa = await verify(
      { host: 'localhost', port: s.port, tls: { ca: readFileSync(files.otherCa) } },
      undefined,
      profile,
    );
    const plain = await verify({ host: 'localhost', port: s.port }, undefined, {
      ...profile,
      connectTimeoutMs: 2_000,
    });
    // Assert
    expect(byName.outcome).toBe('passed');
    expect(check(byName, 'connect').detail).toMatch(/over TLS/);
    expect(byIp.outcome).toBe('passed');
    expect(check(wrongCa, 'connect')).toMatchObject({ status: 'failed' });
    expect(check(wrongCa, 'connect').detail).toMatch(
      /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|certificate/i,
    );
    expect(check(plain, 'connect').status).toBe('failed');
  });
});

describe('verifyRedis time bounds', () => {
  let silent: Server | undefined;
  afterEach(() => silent?.close());
  /** Serve `onConnection` on a free loopback port. */
  const serve = async (onConnection: (sock: Socket) => void): Promise<number> => {
    silent = createServer(onConnection);
    await new Promise<void>((r) => silent!.listen(0, '127.0.0.1', r));
    return (silent.address() as { port: number }).port;
  };

  it('a server that accepts but never answers fails connect within its bound', async () => {
    // Prepare: TCP accepted, nothing ever said.
    const port = await serve(() => undefined);
    // Act
    const r = await verify({ host: '127.0.0.1', port }, undefined, {
      connectTimeoutMs: 200,
      commandTimeoutMs: 200,
    });
    // Assert
    expect(check(r, 'connect')).toMatchObject({ status: 'failed' });
    expect(check(r, 'connect').detail).toMatch(/PING not answered within 200 ms/);
  });

  it('a command not answered in time leaves its check and the rest unfinished, not failed', async () => {
    // Prepare: answers PING and INFO, never DBSIZE.
    const port = await serve((sock) =>
      sock.on('data', (b) => {
        const s = b.toString();
        if (/PING/.test(s)) sock.write('+PONG\r\n');
        if (/INFO/.test(s))
          sock.write(/INFO\r\n\$6\r\nserver/.test(s) ? '$22\r\nredis_version:7.0.15\r\n\r\n' : '$0\r\n\r\n');
      }),
    );
    // Act: on a clock that stands still. The key count's check is bounded by the command timeout, and its
    // DBSIZE gets what is left of that bound: on the wall clock a loaded machine could leave 199 ms of 200
    // (the reported figure is what the command was given, so it is exact only on a fixed clock).
    const r = await verifyRedis(
      { host: '127.0.0.1', port },
      { databases: [{ db: 0 }], keys: [{ key: 'k', type: 'string' }], commandTimeoutMs: 200 },
      { referenceTime: NOW, now: () => NOW.getTime() },
    );
    // Assert
    expect(r.outcome).toBe('inconclusive');
    expect(check(r, 'connect').measured).toBe('Redis 7.0.15');
    expect(check(r, 'key-count db0')).toMatchObject({ status: 'unfinished' });
    expect(check(r, 'key-count db0').detail).toMatch(/DBSIZE not answered within 200 ms/);
    expect(check(r, 'key db0 k').status).toBe('unfinished');
  });

  it('a budget spent after connecting leaves every other check unfinished, and never throws', async () => {
    // Prepare: the clock jumps an hour once the server is asked for its version (the end of connect).
    let offset = 0;
    const port = await serve((sock) =>
      sock.on('data', (b) => {
        const s = b.toString();
        if (/PING/.test(s)) sock.write('+PONG\r\n');
        if (/INFO/.test(s)) {
          offset = 3_600_000;
          sock.write('$22\r\nredis_version:7.0.15\r\n\r\n');
        }
      }),
    );
    // Act
    const r = await verifyRedis(
      { host: '127.0.0.1', port },
      { databases: [{ db: 0 }], keys: [{ key: 'k', type: 'string' }], budgetSeconds: 60 },
      { referenceTime: NOW, now: () => Date.now() + offset },
    );
    // Assert
    expect(r.outcome).toBe('inconclusive');
    expect(check(r, 'connect').status).toBe('passed');
    expect(r.checks.slice(1).map((c) => [c.status, c.detail])).toEqual([
      ['unfinished', 'not run: the verification budget of 60 s is spent'],
      ['unfinished', 'not run: the verification budget of 60 s is spent'],
    ]);
  });
});
