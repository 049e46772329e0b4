import { describe, expect, it } from 'vitest';
import type { Arg, RedisClient } from '../../../../shared/drill/redis/client.js';
import { evaluateKeyCount } from '../../../../shared/drill/redis/checks.js';
import { parseRedisProfile } from '../../../../shared/drill/redis/profile.js';
import { redisSampleProfile, seedRedisSample } from '../../../../shared/drill/local/redis-sample.js';

// The Redis sandbox's key-count check on a slow machine: its baseline is DBSIZE right after seeding, and the
// restored copy is counted minutes later (CDK synthesizes in between). A fake server records what the sample
// writes, with each key's expiry, so the clock can be moved: a key counts at time t if it has no TTL or its
// TTL ends after t. A redis-server's clock cannot be moved, and real minutes are no unit test.
const recordingServer = () => {
  const dbs = new Map<number, Map<string, number | undefined>>();
  let db = 0;
  const keys = () => dbs.get(db) ?? dbs.set(db, new Map()).get(db)!;
  const apply = (c: readonly Arg[]) => {
    const [cmd, key] = [String(c[0]).toUpperCase(), String(c[1])];
    if (cmd === 'SELECT') db = Number(c[1]);
    else if (cmd === 'EXPIRE') keys().set(key, Number(c[2]));
    else if (cmd === 'SET') {
      const ex = c.findIndex((a) => String(a).toUpperCase() === 'EX');
      keys().set(key, ex < 0 ? undefined : Number(c[ex + 1]));
    } else if (cmd === 'HSET' || cmd === 'XADD') {
      if (!keys().has(key)) keys().set(key, undefined);
    } else if (cmd === 'DEL') keys().delete(key);
    else throw new Error(`the recording server does not know ${cmd}`);
    return Buffer.from('OK');
  };
  const client: RedisClient = {
    send: async (c) => apply(c),
    pipeline: async (cs) => cs.map(apply),
    close: () => {},
  };
  /** DBSIZE of a database `seconds` after seeding. */
  const dbSize = (n: number, seconds = 0) =>
    [...(dbs.get(n)?.values() ?? [])].filter((ttl) => ttl === undefined || ttl > seconds).length;
  const sessionKeys = () => [...(dbs.get(0)?.keys() ?? [])].filter((k) => k.startsWith('session:'));
  return { client, dbSize, sessionKeys, apply };
};

const profile = parseRedisProfile(redisSampleProfile);
const db0 = profile.databases.find((d) => d.db === 0)!;
const SLOW_RUN_S = 3 * 60;

describe('the Redis sandbox sample on a slow machine', () => {
  it('every database keeps its baseline key count 3 minutes after seeding', async () => {
    const s = recordingServer();
    await seedRedisSample(s.client, { sessions: 20_000, now: new Date('2026-12-01T12:00:00Z') });
    for (const d of profile.databases) {
      const baseline = s.dbSize(d.db);
      const verdict = evaluateKeyCount(d, s.dbSize(d.db, SLOW_RUN_S), baseline);
      expect(verdict.detail).not.toContain('keys lost');
      expect(verdict.passed).toBe(true);
      expect(s.dbSize(d.db, SLOW_RUN_S)).toBe(baseline);
    }
  });

  it('still exercises TTLs: every session and rate-limit key expires, within the hour', async () => {
    const s = recordingServer();
    await seedRedisSample(s.client, { sessions: 1_000, now: new Date('2026-12-01T12:00:00Z') });
    expect(s.dbSize(0, 3600)).toBe(2); // the stream and app:last-write
    expect(s.dbSize(1, 3600)).toBe(s.dbSize(1)); // feature flags never expire
  });

  it('--break keys-lost still fails the check 3 minutes later, naming the lost keys', async () => {
    const s = recordingServer();
    await seedRedisSample(s.client, { sessions: 20_000, now: new Date('2026-12-01T12:00:00Z') });
    const baseline = s.dbSize(0);
    // As the sandbox breaks it: a third of the session keys deleted after the baseline is taken.
    const sessions = s.sessionKeys();
    sessions.slice(0, Math.ceil(sessions.length / 3)).forEach((k) => s.apply(['DEL', k]));
    const verdict = evaluateKeyCount(db0, s.dbSize(0, SLOW_RUN_S), baseline);
    expect(verdict.passed).toBe(false);
    expect(verdict.detail).toMatch(/: keys lost$/);
  });
});
