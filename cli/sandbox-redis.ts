import '../infra/node20-compat.js';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type LocalDrillEvent, runDrillLocally } from '../infra/local-drill.js';
import { snapshotId as scheduledSnapshotId } from '../shared/backup/ids.js';
import { parseConfig, type StewardConfig } from '../shared/config/schema.js';
import { StewardError } from '../shared/errors.js';
import { formatBytes } from '../shared/drill/checks.js';
import { type CacheDrillDeps, withCacheDrills } from '../shared/drill/cache-tasks.js';
import { runCacheVerifyTask } from '../shared/drill/cache-verify.js';
import { connectRedis, type RedisClient, text } from '../shared/drill/redis/client.js';
import { verifyRedis } from '../shared/drill/redis/verify.js';
import type { DrillDeps } from '../shared/drill/tasks.js';
import { LOCAL } from '../shared/drill/local/local-provider.js';
import {
  type LocalCacheEstate,
  localCacheEstate,
  type LocalRedisSnapshot,
  noDatabases,
  snapshotRedis,
} from '../shared/drill/local/redis-drill.js';
import {
  REDIS_SANDBOX_CACHE as SOURCE_ID,
  redisSandboxConfigInput,
  seedRedisSample,
  writeAll,
} from '../shared/drill/local/redis-sample.js';
import {
  findRedisServer,
  type RedisServer,
  startRedis,
  stopAllRedis,
  stopAllRedisSync,
} from '../shared/drill/local/redis-server.js';
import { type Notification, renderNotification } from '../shared/notify/notifier.js';
import { LOCAL_ROOT } from '../shared/report/local-history.js';
import { renderDrillReport } from '../shared/drill/rto-rpo.js';
import type { BaseDeps } from '../shared/runtime.js';
import { UsageError } from './base.js';
import type { Flags } from './flags.js';
import {
  fileReports,
  firstDrillIfAsked,
  type LocalExecute,
  localControlTasks,
  localSignal,
  memoryTokens,
  sandboxExecutionName,
  sandboxExit,
  sandboxOutcome,
  sandboxRun,
  seconds,
  stateLog,
} from './sandbox-ports.js';
import { synthesizeDrillOnce } from './synth-drill.js';

/** Ways `--break` damages the source cache before the snapshot, each caught by a different check. */
export const REDIS_BREAKS = {
  'keys-lost': { what: 'deletes a third of the session keys before the snapshot' },
  'ttl-lost': { what: 'removes the TTL of every session key before the snapshot (PERSIST)' },
  stale: { what: 'the newest write is two hours old at the snapshot (RPO breach)' },
} as const;
export type RedisBreakKind = keyof typeof REDIS_BREAKS;

const STALE_MS = 2 * 3600_000;
/** Sessions the sample holds by default, and the bounds of `--size`. */
const DEFAULT_SESSIONS = 20_000;
const MAX_SESSIONS = 5_000_000;

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
  const chosen = process.env.STEWARD_REDIS_SERVER;
  if (chosen && !existsSync(chosen)) {
    throw new UsageError(
      `STEWARD_REDIS_SERVER=${chosen}: no such file: point it at a redis-server binary, or unset it to use the one on PATH`,
      ['STEWARD_REDIS_SERVER'],
    );
  }
  if (!findRedisServer()) {
    throw new UsageError(
      'the Redis sandbox needs redis-server: install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or set STEWARD_REDIS_SERVER',
    );
  }
  const historyRoot = resolve(flags.history ?? LOCAL_ROOT);
  const t0 = Date.now();
  const snapshots = mkdtempSync(join(tmpdir(), 'steward-redis-snapshots-'));
  const run = sandboxRun(flags, out, {
    what: 'every server and temp dir',
    again: 'stopping every server and removing every temp dir',
    atOnce: () => {
      stopAllRedisSync();
      rmSync(snapshots, { recursive: true, force: true });
    },
  });
  const { say, step, abort } = run;

  let source: RedisServer | undefined;
  let app: RedisClient | undefined;
  let estate: LocalCacheEstate | undefined;
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
          signal: abort.signal,
          now: new Date(),
          ...(breakKind === 'stale' ? { ageMs: STALE_MS } : {}),
        }),
      'seeding session-like data',
    );
    say(
      `    db0: ${seededCounts.sessions} session hashes (TTL 30-60 min), ${seededCounts.rateLimits} rate-limit counters (TTL 15-30 min), ` +
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

    // The drill: the state machine definition CDK synthesizes, executed locally (started now, in a child
    // process, while the snapshot is taken).
    const configInput = redisSandboxConfigInput(baseline);
    const config: StewardConfig = parseConfig(configInput, 'sandbox');
    const synthesis = synthesizeDrillOnce(configInput, abort.signal);
    // Named as the backup function names a scheduled snapshot: the names the drill may restore.
    const snapshotId = scheduledSnapshotId(SOURCE_ID, new Date(), 'sched');
    const snapshot: LocalRedisSnapshot = await step(
      'took a snapshot as ElastiCache does (BGSAVE, LASTSAVE changed, dump.rdb copied)',
      () => snapshotRedis(src, c, snapshots, snapshotId),
      'taking a snapshot (BGSAVE)',
    );
    say(`    ${snapshot.id}: ${formatBytes(snapshot.bytes)} RDB, data as of ${snapshot.referenceTime}`);

    estate = localCacheEstate({ now: () => new Date() });
    estate.addSnapshot(SOURCE_ID, snapshot);
    const definition = await step(
      'synthesized the drill state machine (the CDK definition)',
      () => synthesis,
      'synthesizing the drill state machine with CDK (about 5 s)',
    );
    const notifier = {
      send: async (n: Notification) =>
        say(`    ✉ ${n.severity} topic: ${renderNotification(n, config.stage).subject}`),
    };
    const base: BaseDeps = { config, dryRun: false, notifier, now: () => new Date() };
    const caches: CacheDrillDeps = {
      primary: estate.port,
      // Loopback servers this process started: no subnets, no security groups, no user group.
      network: { cacheSubnetGroupName: LOCAL, securityGroupIds: [] },
    };
    const { signal, settled } = localSignal();
    const reports = fileReports(join(historyRoot, 'reports'));
    const deps: DrillDeps = {
      ...base,
      restore: withCacheDrills(noDatabases(LOCAL), caches),
      caches,
      tokens: memoryTokens(),
      signal,
      reports,
      network: {},
    };
    // One execution of the drill: the control tasks of `control`, the cache verifier's task with the real engine.
    const execute: LocalExecute = (control, executionName, onEvent) =>
      runDrillLocally({
        definition,
        input: { database: SOURCE_ID },
        executionName,
        waitMs: 120_000,
        signal: abort.signal,
        onEvent,
        tasks: async (event, ctx) => {
          if (event.task === 'verify') {
            if (ctx.stateName !== 'VerifyCache')
              throw new StewardError(`a Redis drill reached ${ctx.stateName}, the database verifier`);
            // Loopback, so no TLS and no AUTH (auth: none).
            return runCacheVerifyTask(event, {
              ...base,
              verify: verifyRedis,
              // The local provider's groups are in region `local`: this verifier reaches them there.
              region: LOCAL,
              sign: async () => {
                throw new StewardError('the sandbox signs no IAM tokens: its cache logs in with auth: none');
              },
              tls: false,
            });
          }
          return control.run(event);
        },
      });
    // STEWARD_SANDBOX_FIRST_DRILL=1 (the bench's overhead row): a first drill in this process, before the reported one.
    const firstDrill = await firstDrillIfAsked(deps, execute);
    say('\n  drill (Step Functions, local):');
    const events: LocalDrillEvent[] = [];
    const control = localControlTasks(deps, settled);
    const result = await execute(control, sandboxExecutionName(new Date()), stateLog(events, say));
    const state = control.final(result);
    const { report: doc, reportFile, json } = sandboxOutcome('redis', result, state, events, reports.written);
    const leftovers = estate.running();
    if (flags.json) {
      out(json({ redis: { version, server: findRedisServer() }, ...(firstDrill ? { firstDrill } : {}) }));
    } else {
      say('');
      say(
        doc.metrics && doc.verification
          ? renderDrillReport({
              database: doc.database,
              snapshotId: snapshot.id,
              restoredInstance: `${doc.target?.id ?? 'redis-server'}: redis-server from ${snapshot.id}.rdb`,
              metrics: doc.metrics,
              verification: doc.verification,
            })
          : `DR drill FAILED at ${doc.failedStep ?? result.error?.Error ?? 'an unknown step'}: ${doc.summary}`,
      );
      if (!doc.passed && doc.metrics && doc.verification) say(`\n${doc.summary}`);
      say(`\nReport: ${reportFile ? pathToFileURL(reportFile).href : '(not written)'}`);
      say(
        `Cleanup: drill copy ${doc.cleanup?.status ?? 'not reached'}; ${leftovers.length} restored servers left running`,
      );
      say(`Total: ${seconds(Date.now() - t0)}`);
    }
    return sandboxExit(leftovers, run.stopped(), result.status === 'SUCCEEDED' && doc.passed);
  } catch (e) {
    return run.failed(e);
  } finally {
    // A synthesis still running (the run failed before it was needed) is stopped with its child.
    abort.abort();
    app?.close();
    await estate?.dispose();
    await source?.stop();
    await stopAllRedis();
    rmSync(snapshots, { recursive: true, force: true });
    run.close();
  }
};
