import { mkdir, copyFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StewardError } from '../../errors.js';
import { connectRedis, type RedisClient, text } from '../redis/client.js';
import type { RedisVerificationProfileInput } from '../redis/profile.js';
import type { RedisVerifyFn } from '../redis/verification.js';
import { type DrillReportDocument, reportKey } from '../report.js';
import { drillMetrics, formatDuration } from '../rto-rpo.js';
import { type RedisServer, startRedis } from './redis-server.js';

// The local provider of the Redis drill: snapshots a local redis-server the way ElastiCache takes a backup
// (BGSAVE, then the RDB file), restores one into a separate redis-server started from that file, verifies
// it with the Redis engine and removes it. Its steps are the drill's tasks (select, restore, await, verify,
// cleanup, record), run in this process in that order, cleanup on every path.

export class RedisSnapshotError extends StewardError {
  override name = 'RedisSnapshotError';
}

/** A snapshot on disk: the RDB file the server wrote, copied out of its dir. */
export interface LocalRedisSnapshot {
  id: string;
  file: string;
  /** When BGSAVE forked (ms precision, this process's clock): the data it holds is as of then. */
  referenceTime: string;
  /** LASTSAVE after the save (whole seconds, the server's clock). */
  lastSave: number;
  bytes: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Take a snapshot as ElastiCache does: BGSAVE (a fork writes the RDB file while the server keeps serving),
 * wait for LASTSAVE to change, check the save succeeded, and copy dump.rdb into `dir` as `<id>.rdb`.
 */
export const snapshotRedis = async (
  server: RedisServer,
  client: RedisClient,
  dir: string,
  id: string,
  timeoutMs = 120_000,
): Promise<LocalRedisSnapshot> => {
  const before = Number(await client.send(['LASTSAVE']));
  // LASTSAVE counts whole seconds: a save finishing in the same second as the last would look unchanged.
  while (Math.floor(Date.now() / 1000) <= before) await sleep(50);
  const referenceTime = new Date().toISOString();
  const started = text(await client.send(['BGSAVE']));
  if (!/Background saving started/i.test(started)) {
    throw new RedisSnapshotError(`BGSAVE answered ${JSON.stringify(started)}`);
  }
  const deadline = Date.now() + timeoutMs;
  let lastSave = before;
  while (lastSave === before) {
    if (Date.now() > deadline)
      throw new RedisSnapshotError(`BGSAVE did not finish within ${timeoutMs / 1000} s`);
    await sleep(50);
    lastSave = Number(await client.send(['LASTSAVE']));
  }
  const info = text(await client.send(['INFO', 'persistence']));
  const status = /^rdb_last_bgsave_status:(\S+)/m.exec(info)?.[1];
  if (status !== 'ok') throw new RedisSnapshotError(`BGSAVE finished with status ${status ?? 'unknown'}`);
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${id}.rdb`);
  await copyFile(join(server.dir, 'dump.rdb'), file);
  return { id, file, referenceTime, lastSave, bytes: (await stat(file)).size };
};

/** The newest snapshot in `dir` (by file time): the drill's `latest` selector. */
export const latestSnapshot = async (dir: string): Promise<string | undefined> => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.rdb'));
  const timed = await Promise.all(files.map(async (f) => ({ f, t: (await stat(join(dir, f))).mtimeMs })));
  return timed.sort((a, b) => b.t - a.t)[0]?.f;
};

export interface LocalRedisDrillOptions {
  /** The source cache's name (a config key of `drill.caches` in AWS). */
  database: string;
  drillId: string;
  snapshot: LocalRedisSnapshot;
  profile: RedisVerificationProfileInput;
  targets: { rtoSeconds: number; rpoSeconds: number };
  verify: RedisVerifyFn;
  /** Each step as it finishes, for progress output. */
  onStep?: (step: string, ms: number, detail?: string) => void;
}

/**
 * Restore the snapshot into a new redis-server, wait until it has loaded the file and answers, verify it,
 * remove it (always) and build the drill's report document (the database drill's shape).
 */
export const runLocalRedisDrill = async (o: LocalRedisDrillOptions): Promise<DrillReportDocument> => {
  const startedAt = new Date().toISOString();
  const step = async <T>(name: string, f: () => Promise<T>, detail?: (r: T) => string): Promise<T> => {
    const t = Date.now();
    const r = await f();
    o.onStep?.(name, Date.now() - t, detail?.(r));
    return r;
  };
  let restored: RedisServer | undefined;
  let error: { Error: string; Cause?: string } | undefined;
  let cleanup: DrillReportDocument['cleanup'];
  let restoredAt: string | undefined;
  let verifyStartedAt: string | undefined;
  let verifiedAt: string | undefined;
  let verification: DrillReportDocument['verification'];
  const restoreStartedAt = new Date().toISOString();
  try {
    restored = await step(
      'Restore',
      () => startRedis({ name: `drill-${o.drillId}`, rdbFile: o.snapshot.file }),
      (s) => `redis-server from ${o.snapshot.id}.rdb on ${s.host}:${s.port}`,
    );
    await step('AwaitRestore', async () => {
      // Ready: the file is loaded and the server answers.
      const c = await connectRedis({
        host: restored!.host,
        port: restored!.port,
        connectTimeoutMs: 10_000,
        commandTimeoutMs: 10_000,
      });
      try {
        if (text(await c.send(['PING'])) !== 'PONG')
          throw new RedisSnapshotError('the restored server does not answer PING');
      } finally {
        c.close();
      }
    });
    restoredAt = new Date().toISOString();
    verifyStartedAt = restoredAt;
    verification = await step(
      'Verify',
      () =>
        o.verify({ host: restored!.host, port: restored!.port }, o.profile, {
          referenceTime: new Date(o.snapshot.referenceTime),
          now: Date.now,
        }),
      (v) => `${v.checks.filter((c) => c.status === 'passed').length}/${v.checks.length} checks passed`,
    );
    verifiedAt = new Date().toISOString();
  } catch (e) {
    error = { Error: (e as Error).name ?? 'Error', Cause: (e as Error).message };
  } finally {
    if (restored) {
      const s = restored;
      await step('Cleanup', () => s.stop());
      cleanup = {
        status: 'deleted',
        at: new Date().toISOString(),
        detail: `redis-server ${s.host}:${s.port}`,
      };
    } else {
      cleanup = { status: 'skipped', at: new Date().toISOString(), detail: 'nothing was restored' };
    }
  }
  return step('Record', async () =>
    redisDrillDocument({
      ...o,
      startedAt,
      restoreStartedAt,
      restoredAt,
      verifyStartedAt,
      verifiedAt,
      verification,
      error,
      cleanup,
    }),
  );
};

interface Timeline {
  database: string;
  drillId: string;
  snapshot: LocalRedisSnapshot;
  targets: { rtoSeconds: number; rpoSeconds: number };
  startedAt: string;
  restoreStartedAt: string;
  restoredAt?: string | undefined;
  verifyStartedAt?: string | undefined;
  verifiedAt?: string | undefined;
  verification?: DrillReportDocument['verification'];
  error?: { Error: string; Cause?: string } | undefined;
  cleanup?: DrillReportDocument['cleanup'];
}

/** The report document of a local Redis drill: RTO, RPO and the verdict as a database drill has them. Pure. */
export const redisDrillDocument = (t: Timeline): DrillReportDocument => {
  const v = t.verification;
  const metrics =
    v && t.restoredAt && t.verifyStartedAt && t.verifiedAt
      ? drillMetrics({
          startedAt: t.startedAt,
          restoreStartedAt: t.restoreStartedAt,
          restoredAt: t.restoredAt,
          verifyStartedAt: t.verifyStartedAt,
          verifiedAt: t.verifiedAt,
          referenceTime: t.snapshot.referenceTime,
          ...(v.dataRpoSeconds === undefined ? {} : { dataRpoSeconds: v.dataRpoSeconds }),
          checksPassed: v.passed,
          checksOutcome: v.outcome,
          unfinishedChecks: v.checks.filter((c) => c.status === 'unfinished').map((c) => c.name),
          freshnessUnfinished: v.checks.some((c) => c.kind === 'freshness' && c.status === 'unfinished'),
          targets: t.targets,
        })
      : undefined;
  const failedStep = t.error ? (t.restoredAt ? 'verify' : 'restore') : undefined;
  const reasons = [
    ...(t.error ? [`${failedStep} failed: ${t.error.Error}: ${t.error.Cause ?? ''}`] : []),
    ...(metrics?.reasons ?? []),
    ...(!t.error && !metrics ? ['the restored cache was not verified'] : []),
  ];
  // A failed check says which one: the first failed check's detail follows the reason.
  const firstFailed = v?.checks.find((c) => c.status === 'failed');
  const gaps = metrics?.gaps ?? [];
  const outcome = reasons.length ? 'failed' : gaps.length ? 'inconclusive' : 'passed';
  const summary =
    outcome === 'passed'
      ? `DR drill PASSED for ${t.database}: RTO ${formatDuration(metrics!.rtoSeconds)} to first verified command (target ${formatDuration(metrics!.rtoTargetSeconds)}), RPO ${formatDuration(metrics!.rpoSeconds!)} (target ${formatDuration(metrics!.rpoTargetSeconds)})`
      : outcome === 'inconclusive'
        ? `DR drill INCONCLUSIVE for ${t.database}: ${gaps[0]}`
        : `DR drill FAILED for ${t.database}${failedStep ? ` at ${failedStep}` : ''}: ${reasons[0]}` +
          (firstFailed ? ` (${firstFailed.name}: ${firstFailed.detail})` : '');
  return {
    type: 'steward-drill-report',
    version: 1,
    drillId: t.drillId,
    database: t.database,
    passed: outcome === 'passed',
    outcome,
    ...(failedStep ? { failedStep } : {}),
    summary,
    reasons,
    gaps,
    startedAt: t.startedAt,
    targets: t.targets,
    source: { snapshotId: t.snapshot.id, referenceTime: t.snapshot.referenceTime },
    ...(metrics ? { metrics } : {}),
    ...(t.verifyStartedAt ? { verifyStartedAt: t.verifyStartedAt } : {}),
    ...(t.verifiedAt ? { verifiedAt: t.verifiedAt } : {}),
    ...(v ? { verification: v } : {}),
    ...(t.cleanup ? { cleanup: t.cleanup } : {}),
    ...(t.error ? { error: t.error } : {}),
    reportKey: reportKey(t.database, t.drillId, t.startedAt),
  };
};
