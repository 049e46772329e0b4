import { startRedis } from '../shared/drill/local/redis-server.js';
import { writeAll } from '../shared/drill/local/redis-sample.js';
import { connectRedis, type RedisClient, text } from '../shared/drill/redis/client.js';
import { parseRedisProfile, type RedisVerificationProfileInput } from '../shared/drill/redis/profile.js';
import { verifyRedis } from '../shared/drill/redis/verify.js';
import { type BenchRow, median, pairedRatio } from './stats.js';

// Redis verification at 1 M and 10 M keys against a real redis-server. Each size: the keyspace is seeded
// (DEBUG POPULATE for the bulk, pipelined writes for keys with TTLs, a stream and a clock key), then the
// engine's verification and a minimal client sending only the commands that verification needs run
// interleaved. Rows: the engine against the minimal client per sampled key, how verification time grows
// with a 10 × keyspace (it must not: every walk is bounded), and a self-test that adds one full-keyspace
// SCAN to the engine's run, which must turn the row red.

/** What the bench verifies: the sandbox's kinds of checks, at the shipped bounds. */
const PROFILE = {
  databases: [{ db: 0 }],
  keys: [
    { key: 'events', type: 'stream' },
    { key: 'app:last-write', type: 'string' },
  ],
  patterns: [
    { name: 'sessions', match: 'session:*', type: 'string', sample: 100 },
    { name: 'rate limits', match: 'ratelimit:*', type: 'string', mustExpire: true, sample: 100 },
  ],
  freshness: { key: 'events' },
  budgetSeconds: 300,
} satisfies RedisVerificationProfileInput;

const RATELIMIT_SHARE = 0.01;

const seed = async (c: RedisClient, keys: number): Promise<void> => {
  const rateLimits = Math.round(keys * RATELIMIT_SHARE);
  // DEBUG POPULATE <n> <prefix> <size>: `session:0` … strings of 32 bytes, written by the server itself.
  await c.send(['DEBUG', 'POPULATE', keys - rateLimits - 2, 'session', 32], 600_000);
  const now = Date.now();
  function* writes() {
    for (let i = 0; i < rateLimits; i++) yield ['SET', `ratelimit:${i}`, '1', 'EX', 3600] as const;
    yield ['SET', 'app:last-write', String(now)] as const;
    for (let i = 0; i < 1000; i++)
      yield ['XADD', 'events', `${now - (999 - i)}-0`, 'type', 'page_view'] as const;
  }
  await writeAll(c, writes());
};

/** The commands verification needs, sent straight, with no engine around them. */
const minimal = async (host: string, port: number): Promise<number> => {
  const p = parseRedisProfile(PROFILE);
  const c = await connectRedis({ host, port, connectTimeoutMs: 10_000, commandTimeoutMs: 60_000 });
  let sampled = 0;
  try {
    await c.send(['PING']);
    await c.send(['DBSIZE']);
    await c.pipeline(p.keys.map((k) => ['TYPE', k.key]));
    for (const x of p.patterns) {
      await c.send(['DBSIZE']);
      const keys: Buffer[] = [];
      let cursor = '0';
      for (let calls = 0; calls < Math.ceil(x.maxScan / p.scanCount); calls++) {
        const r = (await c.send(['SCAN', cursor, 'MATCH', x.match, 'COUNT', p.scanCount])) as [
          Buffer,
          Buffer[],
        ];
        cursor = text(r[0]);
        for (const k of r[1]) if (keys.length < x.sample) keys.push(k);
        if (cursor === '0') break;
      }
      await c.pipeline(
        keys.flatMap((k) =>
          x.mustExpire
            ? [
                ['TYPE', k],
                ['PTTL', k],
              ]
            : [['TYPE', k]],
        ),
      );
      sampled += keys.length;
    }
    await c.send(['TYPE', 'events']);
    await c.send(['XREVRANGE', 'events', '+', '-', 'COUNT', 1]);
  } finally {
    c.close();
  }
  return sampled;
};

/** A full-keyspace SCAN: what the self-test adds to the engine's run. */
const fullScan = async (host: string, port: number): Promise<void> => {
  const c = await connectRedis({ host, port, connectTimeoutMs: 10_000, commandTimeoutMs: 60_000 });
  try {
    let cursor = '0';
    do cursor = text(((await c.send(['SCAN', cursor, 'COUNT', 1000])) as [Buffer])[0]);
    while (cursor !== '0');
  } finally {
    c.close();
  }
};

const timed = async <T>(f: () => Promise<T>): Promise<{ ms: number; r: T }> => {
  const t = performance.now();
  const r = await f();
  return { ms: performance.now() - t, r };
};

export const benchRedisVerify = async (sizes: number[], runs: number): Promise<BenchRow[]> => {
  const rows: BenchRow[] = [];
  const engineMs = new Map<number, number[]>();
  const scannedMs = new Map<number, number[]>();
  for (const keys of sizes) {
    const server = await startRedis({ name: 'bench-verify', args: ['--enable-debug-command', 'local'] });
    try {
      const c = await connectRedis({
        host: server.host,
        port: server.port,
        connectTimeoutMs: 10_000,
        commandTimeoutMs: 600_000,
      });
      try {
        await seed(c, keys);
      } finally {
        c.close();
      }
      const verify = async () => {
        const v = await verifyRedis({ host: server.host, port: server.port }, PROFILE, {
          referenceTime: new Date(),
          now: Date.now,
        });
        if (v.outcome !== 'passed')
          throw new Error(
            `bench verification did not pass: ${JSON.stringify(v.checks.filter((x) => !x.passed))}`,
          );
        return v;
      };
      await verify(); // the first run warms the server's and this process's caches: not measured
      const eng: number[] = [];
      const min: number[] = [];
      const withScan: number[] = [];
      let sampled = 0;
      for (let i = 0; i < runs; i++) {
        eng.push((await timed(verify)).ms);
        const m = await timed(() => minimal(server.host, server.port));
        min.push(m.ms);
        sampled = m.r;
        withScan.push(
          (await timed(async () => (await verify(), await fullScan(server.host, server.port)))).ms,
        );
      }
      engineMs.set(keys, eng);
      scannedMs.set(keys, withScan);
      const bench = `redis-verify ${(keys / 1e6).toLocaleString('en')} M keys`;
      const perKey = (xs: number[]) => `${(median(xs) / sampled).toFixed(3)} ms/key`;
      const ratio = pairedRatio(eng, min);
      rows.push({
        bench,
        metric: `verification per sampled key (${sampled} keys sampled, ${median(eng).toFixed(0)} ms in all) vs a minimal client sending only the required commands (median of ${runs}, interleaved)`,
        value: perKey(eng),
        baseline: perKey(min),
        ratio,
        target: '≤ 1.5',
        ok: ratio <= 1.5,
      });
      const selfRatio = pairedRatio(withScan, min);
      rows.push({
        bench: `${bench}, self-test`,
        metric: 'the same verification plus one full-keyspace SCAN: the row above',
        value: perKey(withScan),
        baseline: perKey(min),
        ratio: selfRatio,
        target: '> 1.5 (must go red)',
        ok: selfRatio > 1.5,
      });
    } finally {
      await server.stop();
    }
  }
  const [small, large] = [Math.min(...sizes), Math.max(...sizes)];
  if (sizes.length > 1) {
    const growthRow = (times: Map<number, number[]>) => {
      const a = median(times.get(small)!);
      const b = median(times.get(large)!);
      return { value: `${b.toFixed(0)} ms`, baseline: `${a.toFixed(0)} ms`, ratio: b / a };
    };
    const grown = growthRow(engineMs);
    const scanned = growthRow(scannedMs);
    const M = (n: number) => `${(n / 1e6).toLocaleString('en')} M`;
    rows.push(
      {
        bench: 'redis-verify growth',
        metric: `verification time at ${M(large)} keys vs at ${M(small)} (every walk bounded: a ${large / small} × keyspace must not cost ${large / small} ×)`,
        ...grown,
        target: '≤ 2',
        ok: grown.ratio <= 2,
      },
      {
        bench: 'redis-verify growth, self-test',
        metric: 'the same with one full-keyspace SCAN added to each verification: the row above',
        ...scanned,
        target: '> 2 (must go red)',
        ok: scanned.ratio > 2,
      },
    );
  }
  return rows;
};
