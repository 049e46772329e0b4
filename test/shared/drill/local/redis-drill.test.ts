import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, text } from '../../../../shared/drill/redis/client.js';
import {
  localCacheEstate,
  type LocalRedisSnapshot,
  snapshotRedis,
} from '../../../../shared/drill/local/redis-drill.js';
import { type RedisServer, startRedis } from '../../../../shared/drill/local/redis-server.js';
import { GuardRefusedError } from '../../../../shared/errors.js';
import { Tag } from '../../../../shared/tags.js';
import { leftIn, ownTmpDir, removeOwnTmpDir } from '../../../support/own-tmp.js';

// The local stand-in for ElastiCache behind the Redis drill's CacheRestorePort: a restore is a second
// redis-server started from the snapshot's RDB file; removal stops it and removes its dir, and refuses
// what a drill did not create, as the ElastiCache adapter does.

const DRILL_TAGS = { [Tag.drill]: 'drill-1', [Tag.managed]: 'true' };
const request = (
  tags: Record<string, string> = DRILL_TAGS,
  snapshotName = 'steward-app-202601010300-sched',
) => ({
  targetId: 'steward-drill-app-1',
  tags,
  nodeType: 'cache.local.server',
  source: { snapshotName },
  shards: 1,
  network: { cacheSubnetGroupName: 'local', securityGroupIds: [] },
});

const TIMEOUTS = { connectTimeoutMs: 10_000, commandTimeoutMs: 10_000 };

let tmp: string;
let source: RedisServer;
let snapshot: LocalRedisSnapshot;
const before = process.env.TMPDIR;
beforeAll(async () => {
  tmp = ownTmpDir('steward-redis-estate-test');
  process.env.TMPDIR = tmp;
  source = await startRedis({ name: 'source' });
  const c = await connectRedis({ ...TIMEOUTS, host: source.host, port: source.port });
  try {
    await c.send(['SET', 'app:key', 'kept']);
    snapshot = await snapshotRedis(source, c, `${tmp}/snapshots`, 'steward-app-202601010300-sched');
  } finally {
    c.close();
  }
});
afterAll(async () => {
  await source.stop();
  if (before === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = before;
  removeOwnTmpDir(tmp);
});

describe('localCacheEstate', () => {
  it('lists the snapshot, restores it into a new server with the data, and removal stops it', async () => {
    // Prepare
    const estate = localCacheEstate({ now: () => new Date() });
    estate.addSnapshot('app', snapshot);

    // Act
    const listed = await estate.port.listSnapshots('app');
    const restored = await estate.port.restore(request());
    const status = await estate.port.describe({ kind: 'redis', id: restored.id });
    const c = await connectRedis({ ...TIMEOUTS, host: status.endpoint!.host, port: status.endpoint!.port });
    const value = text(await c.send(['GET', 'app:key']));
    c.close();
    const resources = await estate.port.listDrillResources();
    const removed = await estate.port.remove({ kind: 'redis', id: restored.id });

    // Assert
    expect(listed).toMatchObject([
      { id: snapshot.id, kind: 'elasticache', sourceId: 'app', createdAt: snapshot.referenceTime },
    ]);
    expect(status).toMatchObject({ status: 'available', failed: false });
    expect(value).toBe('kept');
    expect(resources).toMatchObject([{ kind: 'redis', id: 'steward-drill-app-1', drillId: 'drill-1' }]);
    expect(removed).toBe('deleted');
    expect(estate.running()).toEqual([]);
    expect(await estate.port.remove({ kind: 'redis', id: restored.id })).toBe('already-gone');
    expect(leftIn(tmp).filter((d) => d.startsWith('steward-redis-steward-drill'))).toEqual([]);
    await estate.dispose();
  });

  it('refuses to restore into a group without both drill tags (removal could not tell it is ours)', async () => {
    // Prepare
    const estate = localCacheEstate({ now: () => new Date() });
    estate.addSnapshot('app', snapshot);

    // Act
    const untagged = estate.port.restore(request({ [Tag.drill]: 'drill-1' }));

    // Assert
    await expect(untagged).rejects.toThrow(GuardRefusedError);
    expect(estate.running()).toEqual([]);
    expect(await estate.port.listDrillResources()).toEqual([]);
    await estate.dispose();
  });

  it('a snapshot that is gone fails the restore naming it', async () => {
    // Prepare
    const estate = localCacheEstate({ now: () => new Date() });

    // Act
    const r = estate.port.restore(request(DRILL_TAGS, 'steward-app-209901010300-sched'));

    // Assert
    await expect(r).rejects.toThrow(/local snapshot "steward-app-209901010300-sched" no longer exists/);
  });
});
