import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { echo, GuardRefusedError, StewardError } from '../../errors.js';
import { Tag, type Tags } from '../../tags.js';
import type {
  CacheRestorePort,
  CacheSnapshot,
  DrillResource,
  RestorePort,
  RestoredTarget,
  TargetRef,
  TargetStatus,
} from '../ports.js';
import { SnapshotGoneError } from '../ports.js';
import { type RedisClient, text } from '../redis/client.js';
import { type RedisServer, startRedis } from './redis-server.js';
import { LOCAL } from './local-provider.js';

// The local provider of the Redis drill: snapshots a local redis-server the way ElastiCache takes a backup
// (BGSAVE, then the RDB file), and stands in for ElastiCache behind the drill's CacheRestorePort: a restore
// starts a separate redis-server from the snapshot's RDB file, cleanup stops it and removes its dir. The
// drill state machine CDK synthesizes runs its tasks against it (cli/sandbox-redis.ts).

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

/** Node type of a local redis-server (the drill config names it, so no ElastiCache type is implied). */
export const LOCAL_NODE_TYPE = 'cache.local.server';

interface Restored {
  id: string;
  tags: Tags;
  createdAt: string;
  status: 'creating' | 'available' | 'create-failed';
  server?: RedisServer;
  ready: Promise<void>;
}

/** The local stand-in for ElastiCache: what the sandbox's Redis drill restores from and into. */
export interface LocalCacheEstate {
  /** The CacheRestorePort the drill tasks use (region `local`). */
  port: CacheRestorePort;
  /** Make a snapshot of `groupId` restorable (what ElastiCache lists after CreateSnapshot). */
  addSnapshot(groupId: string, snapshot: LocalRedisSnapshot): void;
  /** Restored servers still running (the sandbox checks that cleanup left none). */
  running(): string[];
  /** Stop every restored server and remove its dir. */
  dispose(): Promise<void>;
}

const arnOf = (type: string, id: string) => `arn:local:elasticache:${LOCAL}:000000000000:${type}:${id}`;

/**
 * A local ElastiCache for drills: snapshots are RDB files, a restore starts a redis-server from one in the
 * background (`creating` until it has loaded the file and answers), removal refuses anything without
 * `steward:drill` and `steward:managed=true`, as the ElastiCache adapter does. For the sandbox and tests.
 */
export const localCacheEstate = (o: { now: () => Date }): LocalCacheEstate => {
  const snaps = new Map<string, { groupId: string; snapshot: LocalRedisSnapshot }>();
  const restored = new Map<string, Restored>();

  const cacheSnapshot = (groupId: string, s: LocalRedisSnapshot): CacheSnapshot => ({
    kind: 'elasticache',
    id: s.id,
    arn: arnOf('snapshot', s.id),
    region: LOCAL,
    sourceId: groupId,
    // The data is as of the fork: the RPO is measured from here.
    createdAt: s.referenceTime,
    status: 'available',
    type: 'manual',
    tags: {},
    sourceNodeType: LOCAL_NODE_TYPE,
    shards: 1,
    largestShardBytes: s.bytes,
  });

  const statusOf = (r: Restored): TargetStatus => ({
    status: r.status,
    failed: r.status === 'create-failed',
    ...(r.server && r.status === 'available'
      ? { endpoint: { host: r.server.host, port: r.server.port } }
      : {}),
    shape: { instanceClass: LOCAL_NODE_TYPE },
  });

  const port: CacheRestorePort = {
    region: LOCAL,
    // The local server has no namesakes: its group dates from its first snapshot, which is then always its.
    groupCreatedAt: async (groupId) => {
      const times = [...snaps.values()]
        .filter((x) => x.groupId === groupId)
        .map((x) => x.snapshot.referenceTime)
        .sort();
      if (!times.length) throw new StewardError(`replication group ${groupId} not found in ${LOCAL}`);
      return times[0]!;
    },
    listSnapshots: async (groupId) =>
      [...snaps.values()].filter((x) => x.groupId === groupId).map((x) => cacheSnapshot(groupId, x.snapshot)),
    restore: async (req): Promise<RestoredTarget> => {
      if (!req.tags[Tag.drill] || req.tags[Tag.managed] !== 'true') {
        throw new GuardRefusedError(
          `refusing to restore ${req.targetId}: not tagged ${Tag.drill} and managed`,
        );
      }
      const existing = restored.get(req.targetId);
      if (existing) {
        if (existing.tags[Tag.drill] !== req.tags[Tag.drill])
          throw new GuardRefusedError(`${req.targetId} exists but is not drill ${req.tags[Tag.drill]}'s`);
        return { kind: 'redis', id: existing.id, status: existing.status, tls: false, region: LOCAL };
      }
      if (!('snapshotName' in req.source))
        throw new StewardError('the local sandbox restores snapshots by name, not RDB files in S3');
      const snap = snaps.get(req.source.snapshotName);
      if (!snap) {
        throw new SnapshotGoneError(
          `local snapshot ${echo(req.source.snapshotName)} no longer exists: ${req.targetId} could not be restored`,
        );
      }
      const r: Restored = {
        id: req.targetId,
        tags: { ...req.tags },
        createdAt: o.now().toISOString(),
        status: 'creating',
        ready: Promise.resolve(),
      };
      // As ElastiCache does, the restore runs in the background: `describe` says `creating` until it answers.
      r.ready = startRedis({ name: req.targetId, rdbFile: snap.snapshot.file }).then(
        (server) => {
          r.server = server;
          if (restored.get(r.id) === r) r.status = 'available';
          else void server.stop();
        },
        () => {
          r.status = 'create-failed';
        },
      );
      restored.set(r.id, r);
      return { kind: 'redis', id: r.id, status: r.status, tls: false, region: LOCAL };
    },
    describe: async (t: TargetRef) => {
      const r = restored.get(t.id);
      if (!r) return { status: 'not found', failed: true };
      // A local restore takes well under a second: wait for it rather than make the drill poll.
      await r.ready;
      return statusOf(r);
    },
    remove: async (t: TargetRef) => {
      const r = restored.get(t.id);
      if (!r) return 'already-gone';
      if (!r.tags[Tag.drill] || r.tags[Tag.managed] !== 'true') {
        throw new GuardRefusedError(
          `refusing to delete ${t.id}: it has no ${Tag.drill} and ${Tag.managed}=true tags, so a drill did not create it`,
        );
      }
      await r.ready;
      restored.delete(t.id);
      // Stops the server and removes its dir (with its copy of the RDB file).
      await r.server?.stop();
      return 'deleted';
    },
    listDrillResources: async (): Promise<DrillResource[]> =>
      [...restored.values()]
        .filter((r) => r.tags[Tag.drill])
        .map((r) => ({
          kind: 'redis',
          id: r.id,
          drillId: r.tags[Tag.drill]!,
          createdAt: r.createdAt,
          status: r.status,
          region: LOCAL,
        })),
  };

  return {
    port,
    addSnapshot: (groupId, snapshot) => void snaps.set(snapshot.id, { groupId, snapshot }),
    running: () => [...restored.values()].filter((r) => r.server).map((r) => r.id),
    dispose: async () => {
      for (const r of restored.values()) {
        await r.ready;
        await r.server?.stop();
      }
      restored.clear();
      for (const { snapshot } of snaps.values()) await rm(snapshot.file, { force: true });
      snaps.clear();
    },
  };
};

/** A RestorePort with no databases: the Redis sandbox drills a cache only. */
export const noDatabases = (region: string, sandbox = 'Redis'): RestorePort => {
  const none = (what: string) => async (): Promise<never> => {
    throw new StewardError(`the ${sandbox} sandbox has no databases to ${what}`);
  };
  return {
    region,
    listSnapshots: async () => [],
    restorableWindow: async () => undefined,
    restore: none('restore'),
    describe: async () => ({ status: 'not found', failed: true }),
    remove: async () => 'already-gone',
    listDrillResources: async () => [],
    masterSecretArn: async () => undefined,
    sourceShape: async () => undefined,
  };
};
