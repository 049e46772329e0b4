import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/schema.js';
import { runCacheVerifyTask } from '../../../shared/drill/cache-verify.js';
import { redisSampleProfile, seedRedisSample } from '../../../shared/drill/local/redis-sample.js';
import { type RedisServer, startRedis } from '../../../shared/drill/local/redis-server.js';
import { connectRedis } from '../../../shared/drill/redis/client.js';
import { verifyRedis } from '../../../shared/drill/redis/verify.js';
import type { DrillState } from '../../../shared/drill/state.js';
import { ConfigError, EventShapeError } from '../../../shared/errors.js';

// The cache verifier's task against a real redis-server with an ACL user standing for steward's
// IAM-authenticated ElastiCache user: the "token" is that user's password (ElastiCache checks the SigV4
// token where redis-server checks the password; the client sends both the same way, AUTH <user> <token>).

const USER = 'steward-prod-drill-verifier';
const TOKEN = 'steward-drill-x/?Action=connect&User=steward-prod-drill-verifier&X-Amz-Signature=abc123';
const servers: RedisServer[] = [];
afterEach(async () => Promise.all(servers.splice(0).map((s) => s.stop())));

const NOW = new Date();
const config = parseConfig(
  {
    stage: 'prod',
    region: 'eu-west-1',
    drill: { enabled: true, caches: { sessions: { auth: 'iam', checks: redisSampleProfile } } },
  },
  'test',
);

const stateFor = (server: RedisServer, iamUser?: string): DrillState => ({
  drillId: 'monthly-sessions',
  startedAt: NOW.toISOString(),
  input: { database: 'sessions' },
  database: 'sessions',
  kind: 'redis',
  targets: { rtoSeconds: 3600, rpoSeconds: 300 },
  source: { snapshotId: 'steward-sessions-202601300300-sched', referenceTime: NOW.toISOString() },
  target: {
    kind: 'redis',
    id: 'steward-drill-sessions-1a2b3c4d',
    requestedAt: NOW.toISOString(),
    endpoint: { host: server.host, port: server.port },
    ...(iamUser ? { iamUser } : {}),
  },
});

describe('runCacheVerifyTask', () => {
  it('logs in as the verifier user with the signed token, verifies, and never returns the token', async () => {
    // Prepare
    const server = await startRedis({
      name: 'cache-verify',
      args: ['--user', `${USER}`, 'on', `>${TOKEN}`, '~*', '&*', '+@all'],
    });
    servers.push(server);
    const admin = await connectRedis({
      host: server.host,
      port: server.port,
      username: USER,
      password: TOKEN,
      connectTimeoutMs: 5000,
      commandTimeoutMs: 10_000,
    });
    await seedRedisSample(admin, { sessions: 50, now: NOW });
    admin.close();
    const signed: unknown[] = [];

    // Act
    const s = await runCacheVerifyTask(
      { task: 'verify', state: stateFor(server, USER) },
      {
        config,
        dryRun: false,
        now: () => new Date(),
        verify: verifyRedis,
        sign: async (req) => (signed.push(req), TOKEN),
        tls: false,
      },
    );

    // Assert
    expect(signed).toEqual([{ groupId: 'steward-drill-sessions-1a2b3c4d', userId: USER }]);
    expect(s.verification?.checks.find((c) => c.kind === 'connect')?.status).toBe('passed');
    expect(s.verification?.tables).toHaveProperty('db0');
    expect(JSON.stringify(s)).not.toContain('X-Amz-Signature=abc123');
    expect(s.verifiedAt).toBeDefined();
  });

  it.each([
    [
      'token',
      ['--requirepass', 'source-auth-token-0123456789'],
      { password: 'source-auth-token-0123456789' },
    ],
    [
      'user',
      ['--user', 'app', 'on', '>app-password-0123456789', '~*', '&*', '+@all', '--user', 'default', 'off'],
      { username: 'app', password: 'app-password-0123456789' },
    ],
  ] as const)(
    'with auth: %s, logs in with the login read from the secret and never returns it',
    async (auth, args, login) => {
      // Prepare: the copy took the source's login at restore (AuthToken, or its RBAC user group).
      const server = await startRedis({ name: `cache-verify-${auth}`, args: [...args] });
      servers.push(server);
      const admin = await connectRedis({
        host: server.host,
        port: server.port,
        ...login,
        connectTimeoutMs: 5000,
        commandTimeoutMs: 10_000,
      });
      await seedRedisSample(admin, { sessions: 50, now: NOW });
      admin.close();
      const secretArn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:sessions-login-AbCdEf';
      const read: string[] = [];
      const withAuth = parseConfig(
        {
          stage: 'prod',
          region: 'eu-west-1',
          drill: {
            enabled: true,
            caches: {
              sessions: {
                auth,
                secretArn,
                ...(auth === 'user' ? { userGroupId: 'sessions-users' } : {}),
                checks: redisSampleProfile,
              },
            },
          },
        },
        'test',
      );
      const state = stateFor(server);

      // Act
      const s = await runCacheVerifyTask(
        { task: 'verify', state: { ...state, target: { ...state.target!, secretArn } } },
        {
          config: withAuth,
          dryRun: false,
          now: () => new Date(),
          verify: verifyRedis,
          sign: async () => {
            throw new Error('no IAM token for a secret login');
          },
          secrets: {
            token: async (arn) => (read.push(arn), login.password),
            user: async (arn) => (read.push(arn), { username: 'app', password: login.password }),
          },
          tls: false,
        },
      );

      // Assert
      expect(read).toEqual([secretArn]);
      expect(s.verification?.checks.find((c) => c.kind === 'connect')?.status).toBe('passed');
      expect(s.verification?.passed).toBe(true);
      expect(JSON.stringify(s)).not.toContain(login.password);
    },
  );

  it('refuses a database drill state and a state without an endpoint, naming the field', async () => {
    const base = stateFor({ host: '127.0.0.1', port: 1 } as RedisServer);
    const deps = {
      config,
      dryRun: false,
      now: () => new Date(),
      verify: verifyRedis,
      sign: async () => TOKEN,
    };
    await expect(
      runCacheVerifyTask({ task: 'verify', state: { ...base, kind: 'rds-instance' } }, deps),
    ).rejects.toThrow(EventShapeError);
    await expect(
      runCacheVerifyTask(
        { task: 'verify', state: { ...base, target: { ...base.target, endpoint: undefined } } },
        deps,
      ),
    ).rejects.toThrow(/state.target.endpoint/);
    await expect(runCacheVerifyTask({ task: 'warmup', state: base }, deps)).rejects.toThrow(/only "verify"/);
  });

  it('refuses a group restored in another region (a drill from the DR copy) without connecting, naming both regions', async () => {
    // Prepare
    const base = stateFor({
      host: 'clustercfg.steward-drill-x.usw2.cache.amazonaws.com',
      port: 6379,
    } as RedisServer);
    const state = { ...base, target: { ...base.target, region: 'us-west-2' } };
    const signed: unknown[] = [];
    const verified: unknown[] = [];

    // Act
    const e = await runCacheVerifyTask(
      { task: 'verify', state },
      {
        config,
        dryRun: false,
        now: () => new Date(),
        verify: async (...args) => (verified.push(args), verifyRedis(...args)),
        sign: async (req) => (signed.push(req), TOKEN),
      },
    ).catch((x: unknown) => x);

    // Assert
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).issues.join('\n')).toMatch(
      /state.target.region: the drill group is in us-west-2; this cache verifier reaches drill groups in eu-west-1 only/,
    );
    expect(signed).toEqual([]);
    expect(verified).toEqual([]);
  });
});
