import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { StewardError } from '../shared/errors.js';
import { formatBytes } from '../shared/drill/checks.js';
import { connectRedis, type RedisClient, text } from '../shared/drill/redis/client.js';
import { verifyRedis } from '../shared/drill/redis/verify.js';
import {
  type LocalRedisSnapshot,
  runLocalRedisDrill,
  snapshotRedis,
} from '../shared/drill/local/redis-drill.js';
import { redisSampleProfile, seedRedisSample, writeAll } from '../shared/drill/local/redis-sample.js';
import {
  findRedisServer,
  type RedisServer,
  startRedis,
  stopAllRedis,
  stopAllRedisSync,
} from '../shared/drill/local/redis-server.js';
import { LOCAL_ROOT } from '../shared/report/local-history.js';
import { renderDrillReport } from '../shared/drill/rto-rpo.js';
import { UsageError } from './base.js';
import type { Flags } from './flags.js';
import { progress } from './progress.js';

/** Ways `--break` damages the source cache before the snapshot, each caught by a different check. */
export const REDIS_BREAKS = {
  'keys-lost': { what: 'deletes a third of the session keys before the snapshot' },
  'ttl-lost': { what: 'removes the TTL of every session key before the snapshot (PERSIST)' },
  stale: { what: 'the newest write is two hours old at the snapshot (RPO breach)' },
} as const;
export type RedisBreakKind = keyof typeof REDIS_BREAKS;

const SOURCE_ID = 'app-cache';
const STALE_MS = 2 * 3600_000;
const EXIT_CODE: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };
/** Sessions the sample holds by default, and the bounds of `--size`. */
const DEFAULT_SESSIONS = 20_000;
const MAX_SESSIONS = 5_000_000;

class Interrupted extends StewardError {
  override name = 'Interrupted';
}

/** `--size` for the Redis sandbox: the number of session hashes (keys are about 1.75 times that). */
export const parseRedisSize = (raw: string | undefined): number => {
  if (raw === undefined) return DEFAULT_SESSIONS;
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < 100 || n > MAX_SESSIONS) {
    throw new UsageError(
      `--size with --engine redis takes a number of sessions, 100 to ${MAX_SESSIONS}, got "${raw}"`,
    );
  }
  return n;
};

/** Every key matching `match` in the current database. */
const scanAll = async (c: RedisClient, match: string): Promise<Buffer[]> => {
  const keys: Buffer[] = [];
  let cursor = '0';
  do {
    const r = (await c.send(['SCAN', cursor, 'MATCH', match, 'COUNT', 1000])) as [Buffer, Buffer[]];
    cursor = text(r[0]);
    keys.push(...r[1]);
  } while (cursor !== '0');
  return keys;
};

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/**
 * `npm start -- --engine redis`: a Redis restore drill with no AWS. A local redis-server holds session-like
 * data; a snapshot is taken as ElastiCache takes one (BGSAVE, the RDB file), restored into a separate
 * redis-server started from that file, verified over TCP with the Redis verification engine, reported with
 * RTO/RPO, and removed. Every server and temp dir is removed on every path, Ctrl-C included.
 */
export const sandboxRedis = async (flags: Flags, out: (s: string) => void): Promise<number> => {
  const sessions = parseRedisSize(flags.size);
  const breakKind = flags.break as RedisBreakKind | undefined;
  if (breakKind !== undefined && !(breakKind in REDIS_BREAKS)) {
    throw new UsageError(
      `--break with --engine redis takes one of ${Object.keys(REDIS_BREAKS).join(', ')}, got "${breakKind}"`,
    );
  }
  if (!findRedisServer()) {
    throw new UsageError(
      'the Redis sandbox needs redis-server: install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or set STEWARD_REDIS_SERVER',
    );
  }
  const historyRoot = resolve(flags.history ?? LOCAL_ROOT);
  const say = flags.json ? () => {} : out;
  const tell = flags.json ? (s: string) => console.error(s) : out;
  const t0 = Date.now();
  let stopSignal: NodeJS.Signals | undefined;
  const snapshots = mkdtempSync(join(tmpdir(), 'steward-redis-snapshots-'));
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopSignal) {
      tell(`\nsteward sandbox: ${sig} again: stopping every server and removing every temp dir now`);
      stopAllRedisSync();
      rmSync(snapshots, { recursive: true, force: true });
      process.exit(EXIT_CODE[sig] ?? 1);
    }
    stopSignal = sig;
    tell(`\nsteward sandbox: ${sig}: stopping the drill and cleaning up (send it again to stop at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const step = async <T>(label: string, f: () => Promise<T>, running = label): Promise<T> => {
    if (stopSignal) throw new Interrupted();
    const s = Date.now();
    const ticker = progress(running, process.stderr);
    try {
      const r = await f();
      say(`  ✓ ${label} (${seconds(Date.now() - s)})`);
      return r;
    } finally {
      ticker.stop();
    }
  };

  let source: RedisServer | undefined;
  let app: RedisClient | undefined;
  try {
    say(
      `steward sandbox: a Redis restore drill on this machine, no AWS (${sessions.toLocaleString('en')} sessions)\n`,
    );
    source = await step(
      'started the source redis-server',
      () => startRedis({ name: 'source' }),
      'starting redis-server',
    );
    const src = source;
    app = await connectRedis({
      host: src.host,
      port: src.port,
      connectTimeoutMs: 10_000,
      commandTimeoutMs: 120_000,
    });
    const c = app;
    const version = /^redis_version:(\S+)/m.exec(text(await c.send(['INFO', 'server'])))?.[1] ?? '?';
    say(`    Redis ${version} (${findRedisServer()}) on ${src.host}:${src.port}`);
    const seededCounts = await step(
      'seeded session-like data',
      () =>
        seedRedisSample(c, {
          sessions,
          now: new Date(),
          ...(breakKind === 'stale' ? { ageMs: STALE_MS } : {}),
        }),
      'seeding session-like data',
    );
    say(
      `    db0: ${seededCounts.sessions} session hashes (TTL 30-60 min), ${seededCounts.rateLimits} rate-limit counters (TTL 1-2 min), ` +
        `a stream of ${seededCounts.events} events, app:last-write; db1: ${seededCounts.flags} feature flags (no TTL)`,
    );
    // The intact source's key counts stand in for "recorded by the last passed drill".
    const baseline: Record<number, number> = {};
    for (const db of [0, 1]) {
      await c.send(['SELECT', db]);
      baseline[db] = Number(await c.send(['DBSIZE']));
    }
    await c.send(['SELECT', 0]);
    if (breakKind === 'keys-lost' || breakKind === 'ttl-lost') {
      await step(`--break ${breakKind}: ${REDIS_BREAKS[breakKind].what}`, async () => {
        const keys = await scanAll(c, 'session:*');
        await writeAll(
          c,
          breakKind === 'keys-lost'
            ? keys.slice(0, Math.ceil(keys.length / 3)).map((k) => ['DEL', k])
            : keys.map((k) => ['PERSIST', k]),
        );
      });
    } else if (breakKind === 'stale') {
      say(`  ✓ --break stale: ${REDIS_BREAKS.stale.what}`);
    }

    const snapshotId = `steward-${SOURCE_ID}-${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 12)}-daily`;
    const snapshot: LocalRedisSnapshot = await step(
      'took a snapshot as ElastiCache does (BGSAVE, LASTSAVE changed, dump.rdb copied)',
      () => snapshotRedis(src, c, snapshots, snapshotId),
      'taking a snapshot (BGSAVE)',
    );
    say(`    ${snapshot.id}: ${formatBytes(snapshot.bytes)} RDB, data as of ${snapshot.referenceTime}`);

    if (stopSignal) throw new Interrupted();
    say('\n  drill (local provider: select → restore → await → verify → cleanup → record):');
    const drillId = `sandbox-${new Date()
      .toISOString()
      .replace(/[-:.TZ]/g, '')
      .slice(0, 14)}`;
    const doc = await runLocalRedisDrill({
      database: SOURCE_ID,
      drillId,
      snapshot,
      profile: {
        ...redisSampleProfile,
        databases: [0, 1].map((db) => ({ db, baselineKeys: baseline[db] })),
      },
      // The sandbox's targets: the runbook's RTO 1 h and RPO 5 min.
      targets: { rtoSeconds: 3600, rpoSeconds: 300 },
      verify: verifyRedis,
      onStep: (name, ms, detail) => say(`    ✓ ${name} (${seconds(ms)})${detail ? `: ${detail}` : ''}`),
    });

    const reportFile = join(historyRoot, 'reports', doc.reportKey ?? `${drillId}.json`);
    await mkdir(join(reportFile, '..'), { recursive: true });
    await writeFile(reportFile, JSON.stringify(doc, null, 2));
    if (flags.json) {
      out(
        JSON.stringify(
          { engine: 'redis', report: doc, reportFile, redis: { version, server: findRedisServer() } },
          null,
          2,
        ),
      );
    } else {
      say('');
      say(
        doc.metrics && doc.verification
          ? renderDrillReport({
              database: doc.database,
              snapshotId: snapshot.id,
              restoredInstance: `redis-server from ${snapshot.id}.rdb (removed)`,
              metrics: doc.metrics,
              verification: doc.verification,
            })
          : doc.summary,
      );
      if (!doc.passed) say(`\n${doc.summary}`);
      say(`\nReport: ${pathToFileURL(reportFile).href}`);
      say(`Cleanup: drill copy ${doc.cleanup?.status ?? 'not reached'}`);
      say(`Total: ${seconds(Date.now() - t0)}`);
    }
    if (stopSignal) return EXIT_CODE[stopSignal] ?? 1;
    return doc.passed ? 0 : 1;
  } catch (e) {
    if (stopSignal) return EXIT_CODE[stopSignal] ?? 1;
    throw e;
  } finally {
    app?.close();
    await source?.stop();
    await stopAllRedis();
    rmSync(snapshots, { recursive: true, force: true });
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (stopSignal) tell('steward sandbox: interrupted; every server and temp dir was removed');
  }
};
