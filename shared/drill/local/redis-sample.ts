import { LOCAL_NODE_TYPE } from './redis-drill.js';
import type { Arg, RedisClient } from '../redis/client.js';
import type { RedisVerificationProfileInput } from '../redis/profile.js';

// Session-like data for the Redis sandbox, its tests and the bench: what a web application keeps in its
// cache. Database 0: session hashes that expire, rate-limit counters that expire, a stream of events and
// the time of the newest write; database 1: feature flags that never expire.

export interface RedisSampleOptions {
  /** Session hashes; rate-limit counters are a quarter of it, events a half. */
  sessions: number;
  /** The newest write's time; every event is before it. */
  now: Date;
  /** Shift every write time back (ms): data that stopped being written that long ago. */
  ageMs?: number;
  /** Stop between batches when aborted (Ctrl-C in the sandbox). */
  signal?: AbortSignal;
}

export interface RedisSampleCounts {
  sessions: number;
  rateLimits: number;
  events: number;
  flags: number;
}

/** Where the sample keeps the time of its newest write, and its event stream. */
export const SAMPLE_CLOCK_KEY = 'app:last-write';
export const SAMPLE_STREAM = 'events';
const FLAGS = 20;
const PIPELINE = 1000;

/**
 * TTLs of the expiring keys (seconds, first to last). The sandbox's baseline is DBSIZE right after seeding
 * and its restored copy is counted minutes later (CDK synthesizes in between; on a loaded machine that
 * takes minutes): every key must outlive that, or the key-count check sees keys "lost" that merely expired
 * (rate-limit counters of 1-2 minutes were a fifth of database 0, twice the 10 % tolerance). 15-30 minutes
 * still exercises TTLs (the `ttl` checks need them) and leaves a run 15 minutes.
 */
export const SAMPLE_TTL_SECONDS = {
  sessions: { min: 1800, max: 3599 },
  rateLimits: { min: 900, max: 1799 },
} as const;
const ttl = (r: { min: number; max: number }, i: number) => r.min + (i % (r.max - r.min + 1));

/** Write in pipelined batches; an error reply fails the whole load, an abort stops it between batches. */
export const writeAll = async (
  client: RedisClient,
  commands: Iterable<readonly Arg[]>,
  signal?: AbortSignal,
): Promise<void> => {
  let batch: (readonly Arg[])[] = [];
  const flush = async () => {
    signal?.throwIfAborted();
    const replies = await client.pipeline(batch, 120_000);
    const bad = replies.find((r) => r instanceof Error);
    if (bad) throw bad;
    batch = [];
  };
  for (const c of commands) {
    batch.push(c);
    if (batch.length >= PIPELINE) await flush();
  }
  if (batch.length) await flush();
};

/** Load the sample into an empty server; deterministic but for the times. */
export const seedRedisSample = async (
  client: RedisClient,
  o: RedisSampleOptions,
): Promise<RedisSampleCounts> => {
  const newest = o.now.getTime() - (o.ageMs ?? 0);
  const counts: RedisSampleCounts = {
    sessions: o.sessions,
    rateLimits: Math.max(1, Math.floor(o.sessions / 4)),
    events: Math.max(1, Math.floor(o.sessions / 2)),
    flags: FLAGS,
  };
  function* commands(): Generator<readonly Arg[]> {
    yield ['SELECT', 0];
    for (let i = 0; i < counts.sessions; i++) {
      const key = `session:${(i * 2654435761) % 4294967296}`;
      yield ['HSET', key, 'user', `user-${i % 997}`, 'created', newest - i * 1000, 'cart', String(i % 7)];
      // 30 to 60 minutes left, as a sliding session would have.
      yield ['EXPIRE', key, ttl(SAMPLE_TTL_SECONDS.sessions, i)];
    }
    for (let i = 0; i < counts.rateLimits; i++) {
      const key = `ratelimit:10.0.${(i >> 8) & 255}.${i & 255}`;
      // 15 to 30 minutes left: long enough to outlive a slow sandbox run (see SAMPLE_TTL_SECONDS).
      yield ['SET', key, 1 + (i % 50), 'EX', ttl(SAMPLE_TTL_SECONDS.rateLimits, i)];
    }
    // Explicit ids: the stream's last id is the newest event's time, whatever the server's clock.
    for (let i = counts.events - 1; i >= 0; i--) {
      yield [
        'XADD',
        SAMPLE_STREAM,
        `${newest - i * 100}-0`,
        'type',
        i % 3 ? 'page_view' : 'login',
        'user',
        `user-${i % 997}`,
      ];
    }
    yield ['SET', SAMPLE_CLOCK_KEY, String(newest)];
    yield ['SELECT', 1];
    yield [
      'HSET',
      'config:flags',
      ...Array.from({ length: FLAGS }, (_, i) => [`flag-${i}`, i % 2 ? 'on' : 'off']).flat(),
    ];
    for (let i = 1; i < FLAGS; i++) yield ['SET', `config:limit:${i}`, String(i * 10)];
    yield ['SELECT', 0];
  }
  await writeAll(client, commands(), o.signal);
  return counts;
};

/** What the sandbox checks in the restored copy of the sample (baselines are added from the source). */
export const redisSampleProfile = {
  databases: [{ db: 0 }, { db: 1 }],
  keys: [
    { key: SAMPLE_STREAM, type: 'stream' },
    { key: SAMPLE_CLOCK_KEY, type: 'string' },
    { key: 'config:flags', db: 1, type: 'hash' },
  ],
  patterns: [
    { name: 'sessions', match: 'session:*', type: 'hash', mustExpire: true, minKeys: 1, sample: 200 },
    { name: 'rate limits', match: 'ratelimit:*', type: 'string', mustExpire: true, minKeys: 1, sample: 200 },
  ],
  freshness: { key: SAMPLE_STREAM },
  rpoTargetSeconds: 300,
  connectTimeoutMs: 5_000,
  commandTimeoutMs: 10_000,
  budgetSeconds: 120,
} satisfies RedisVerificationProfileInput;

/** The sandbox's cache: the `drill.caches` key and replication group of the sample. */
export const REDIS_SANDBOX_CACHE = 'app-cache';

/**
 * The sandbox's stage config: one Redis drill target, the sample cache, checked with the sample's profile.
 * The local servers run without AUTH and TLS on loopback (`auth: none`, `tls: false`), on a node type
 * named for what it is, so no ElastiCache price or size is implied.
 */
export const redisSandboxConfigInput = (baselineKeys: Record<number, number>) => ({
  stage: 'dev',
  region: 'eu-west-1',
  drill: {
    enabled: true,
    caches: {
      [REDIS_SANDBOX_CACHE]: {
        auth: 'none',
        tls: false,
        nodeType: LOCAL_NODE_TYPE,
        checks: {
          ...redisSampleProfile,
          // The intact source's key counts stand in for "recorded by the last passed drill".
          databases: Object.entries(baselineKeys).map(([db, n]) => ({ db: Number(db), baselineKeys: n })),
        },
      },
    },
  },
});
