import {
  CreateServerlessCacheSnapshotCommand,
  CreateSnapshotCommand,
  DeleteServerlessCacheSnapshotCommand,
  DeleteSnapshotCommand,
  DescribeReplicationGroupsCommand,
  DescribeServerlessCacheSnapshotsCommand,
  DescribeServerlessCachesCommand,
  DescribeSnapshotsCommand,
  ElastiCacheClient,
  InvalidServerlessCacheStateFault,
  ListTagsForResourceCommand,
  ServerlessCacheNotFoundFault,
  ServerlessCacheSnapshotAlreadyExistsFault,
  ServerlessCacheSnapshotNotFoundFault,
} from '@aws-sdk/client-elasticache';
import { RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { awsBackupPort } from '../../../shared/aws/backup-ports.js';
import { elastiCacheBackup } from '../../../shared/aws/elasticache.js';
import { awsEstateReader } from '../../../shared/aws/estate.js';
import { rdsBackup } from '../../../shared/aws/rds.js';
import { awsSnapshotStore } from '../../../shared/aws/snapshots.js';

// Shapes as the ElastiCache API Reference gives them (ServerlessCache, ServerlessCacheSnapshot); the states
// come in lower case from the service, as every other ElastiCache state.
const ec = mockClient(ElastiCacheClient);
const REGION = 'eu-west-1';
const meta = { $metadata: {} };
const cacheArn = (n: string) => `arn:aws:elasticache:eu-west-1:111122223333:serverlesscache:${n}`;
const snapArn = (n: string) => `arn:aws:elasticache:eu-west-1:111122223333:serverlesscachesnapshot:${n}`;
const client = () => new ElastiCacheClient({ region: REGION });
const adapter = () => elastiCacheBackup(REGION, client());

beforeEach(() => {
  ec.reset();
});

describe('elastiCacheBackup.listServerlessCaches', () => {
  it('follows NextToken pages of 50 and reads each cache’s tags from its ARN', async () => {
    // Prepare
    ec.on(DescribeServerlessCachesCommand, { NextToken: undefined })
      .resolves({
        ...meta,
        NextToken: 'next',
        ServerlessCaches: [
          {
            ServerlessCacheName: 'sessions',
            ARN: cacheArn('sessions'),
            Status: 'available',
            Engine: 'valkey',
            CreateTime: new Date('2026-01-01T00:00:00Z'),
            SnapshotRetentionLimit: 1,
            DailySnapshotTime: '04:00',
          },
        ],
      })
      .on(DescribeServerlessCachesCommand, { NextToken: 'next' })
      .resolves({
        ...meta,
        ServerlessCaches: [{ ServerlessCacheName: 'queues', ARN: cacheArn('queues'), Status: 'AVAILABLE' }],
      });
    ec.on(ListTagsForResourceCommand, { ResourceName: cacheArn('sessions') })
      .resolves({ ...meta, TagList: [{ Key: 'steward:backup', Value: 'cache' }] })
      .on(ListTagsForResourceCommand, { ResourceName: cacheArn('queues') })
      .resolves({ ...meta, TagList: [] });

    // Act
    const dbs = await adapter().listServerlessCaches();

    // Assert
    expect(dbs).toEqual([
      {
        kind: 'elasticache',
        serverless: true,
        id: 'sessions',
        arn: cacheArn('sessions'),
        region: REGION,
        engine: 'valkey',
        cacheEngine: 'valkey',
        status: 'available',
        encrypted: true,
        automatedBackup: { retentionDays: 1, window: '04:00' },
        createdAt: '2026-01-01T00:00:00.000Z',
        tags: { 'steward:backup': 'cache' },
      },
      expect.objectContaining({ id: 'queues', status: 'available', serverless: true, tags: {} }),
    ]);
    // Two pages of the API's maximum (the paginator reuses one input object, so only the size is compared).
    const calls = ec.commandCalls(DescribeServerlessCachesCommand);
    expect(calls.map((c) => c.args[0].input.MaxResults)).toEqual([50, 50]);
  });

  it('lists a cache that is not available without tags, saying why, and leaves out one deleted since', async () => {
    // Prepare
    ec.on(DescribeServerlessCachesCommand).resolves({
      ...meta,
      ServerlessCaches: [
        { ServerlessCacheName: 'orders', ARN: cacheArn('orders'), Status: 'modifying', Engine: 'redis' },
        { ServerlessCacheName: 'old', ARN: cacheArn('old'), Status: 'deleting', Engine: 'redis' },
      ],
    });
    ec.on(ListTagsForResourceCommand, { ResourceName: cacheArn('orders') })
      .rejects(new InvalidServerlessCacheStateFault({ $metadata: {}, message: 'orders is not available' }))
      .on(ListTagsForResourceCommand, { ResourceName: cacheArn('old') })
      .rejects(new ServerlessCacheNotFoundFault({ $metadata: {}, message: 'gone' }));

    // Act
    const dbs = await adapter().listServerlessCaches();

    // Assert
    expect(dbs.map((d) => [d.id, d.status, d.tags, d.tagsUnread])).toEqual([
      [
        'orders',
        'modifying',
        {},
        'ListTagsForResource refused while the serverless cache is modifying: orders is not available',
      ],
    ]);
  });

  it('wraps a describe failure naming the call and the region', async () => {
    // Prepare
    ec.on(DescribeServerlessCachesCommand).rejects(
      Object.assign(new Error('not authorized'), { name: 'AccessDenied' }),
    );

    // Act / Assert
    await expect(adapter().listServerlessCaches()).rejects.toThrow(
      'DescribeServerlessCaches failed for region eu-west-1: AccessDenied',
    );
  });

  it('the backup port lists replication groups and serverless caches for the elasticache kind', async () => {
    // Prepare
    ec.on(DescribeReplicationGroupsCommand).resolves({
      ...meta,
      ReplicationGroups: [
        {
          ReplicationGroupId: 'sessions',
          ARN: 'arn:aws:elasticache:eu-west-1:111122223333:replicationgroup:sessions',
          Status: 'available',
        },
      ],
    });
    ec.on(DescribeServerlessCachesCommand).resolves({
      ...meta,
      ServerlessCaches: [{ ServerlessCacheName: 'sessions', ARN: cacheArn('sessions'), Status: 'available' }],
    });
    ec.on(ListTagsForResourceCommand).resolves({ ...meta, TagList: [] });
    const port = awsBackupPort(rdsBackup(REGION, new RDSClient({ region: REGION })), adapter());

    // Act
    const dbs = await port.listDatabases(['elasticache']);

    // Assert: the same name twice, two caches.
    expect(dbs.map((d) => [d.id, d.serverless ?? false])).toEqual([
      ['sessions', false],
      ['sessions', true],
    ]);
  });
});

describe('elastiCacheBackup.createSnapshot of a serverless cache', () => {
  const input = {
    kind: 'elasticache' as const,
    serverless: true as const,
    dbId: 'sessions',
    snapshotId: 'steward-sessions-202601150300-sched',
    tags: { 'steward:managed': 'true', 'steward:policy': 'cache' },
  };

  it('takes CreateServerlessCacheSnapshot with our name and explicit tags, never CreateSnapshot', async () => {
    // Prepare
    ec.on(CreateServerlessCacheSnapshotCommand).resolves(meta);

    // Act
    const r = await adapter().createSnapshot(input);

    // Assert
    expect(r).toBe('created');
    expect(ec).toReceiveCommandExactlyOnceWith(CreateServerlessCacheSnapshotCommand, {
      ServerlessCacheName: 'sessions',
      ServerlessCacheSnapshotName: 'steward-sessions-202601150300-sched',
      Tags: [
        { Key: 'steward:managed', Value: 'true' },
        { Key: 'steward:policy', Value: 'cache' },
      ],
    });
    expect(ec).not.toReceiveCommand(CreateSnapshotCommand);
  });

  it('treats our snapshot name already existing as already done', async () => {
    // Prepare
    ec.on(CreateServerlessCacheSnapshotCommand).rejects(
      new ServerlessCacheSnapshotAlreadyExistsFault({ $metadata: {}, message: 'exists' }),
    );

    // Act / Assert
    await expect(adapter().createSnapshot(input)).resolves.toBe('already-done');
  });

  it('wraps a cache that is not available in AwsCallError naming the serverless cache', async () => {
    // Prepare
    ec.on(CreateServerlessCacheSnapshotCommand).rejects(
      new InvalidServerlessCacheStateFault({ $metadata: {}, message: 'not available' }),
    );

    // Act / Assert
    await expect(adapter().createSnapshot(input)).rejects.toMatchObject({
      name: 'AwsCallError',
      code: 'InvalidServerlessCacheStateFault',
      resource: 'serverless cache sessions (snapshot steward-sessions-202601150300-sched) in eu-west-1',
    });
  });
});

describe('serverless cache snapshots in the snapshot store and the estate', () => {
  const snapshot = (name: string, type = 'manual', cache = 'sessions') => ({
    ServerlessCacheSnapshotName: name,
    ARN: snapArn(name),
    SnapshotType: type,
    Status: 'available',
    CreateTime: new Date('2026-01-15T03:00:00Z'),
    ServerlessCacheConfiguration: { ServerlessCacheName: cache, Engine: 'valkey', MajorEngineVersion: '8' },
  });

  it('retention lists steward’s manual ones, every page, with their tags; not automated ones or others’', async () => {
    // Prepare
    ec.on(DescribeSnapshotsCommand).resolves({ ...meta, Snapshots: [] });
    ec.on(DescribeServerlessCacheSnapshotsCommand, { NextToken: undefined })
      .resolves({
        ...meta,
        NextToken: 'p2',
        ServerlessCacheSnapshots: [snapshot('steward-sessions-202601150300-sched'), snapshot('theirs')],
      })
      .on(DescribeServerlessCacheSnapshotsCommand, { NextToken: 'p2' })
      .resolves({
        ...meta,
        ServerlessCacheSnapshots: [snapshot('steward-sessions-auto', 'automated')],
      });
    ec.on(ListTagsForResourceCommand, {
      ResourceName: snapArn('steward-sessions-202601150300-sched'),
    }).resolves({ ...meta, TagList: [{ Key: 'steward:managed', Value: 'true' }] });
    const store = awsSnapshotStore(REGION, new RDSClient({ region: REGION }), client());

    // Act
    const listing = await store.list(['elasticache']);

    // Assert
    expect(listing).toEqual({
      snapshots: [
        {
          kind: 'elasticache',
          serverless: true,
          id: 'steward-sessions-202601150300-sched',
          arn: snapArn('steward-sessions-202601150300-sched'),
          region: REGION,
          sourceId: 'sessions',
          createdAt: '2026-01-15T03:00:00.000Z',
          status: 'available',
          type: 'manual',
          tags: { 'steward:managed': 'true' },
          encrypted: true,
        },
      ],
      failures: [],
    });
    expect(ec.commandCalls(ListTagsForResourceCommand)).toHaveLength(1);
    const pages = ec.commandCalls(DescribeServerlessCacheSnapshotsCommand);
    expect(pages.map((c) => c.args[0].input.MaxResults)).toEqual([50, 50]);
  });

  it('a serverless listing that fails is a failure of its own: the group backups still list', async () => {
    // Prepare
    ec.on(DescribeSnapshotsCommand).resolves({ ...meta, Snapshots: [] });
    ec.on(DescribeServerlessCacheSnapshotsCommand).rejects(
      Object.assign(new Error('not authorized'), { name: 'AccessDenied' }),
    );
    const store = awsSnapshotStore(REGION, new RDSClient({ region: REGION }), client());

    // Act
    const listing = await store.list(['elasticache']);

    // Assert
    expect(listing.snapshots).toEqual([]);
    expect(listing.failures.map((f) => [f.resource, f.code])).toEqual([
      ['elasticache serverless snapshots in eu-west-1', 'AccessDenied'],
    ]);
  });

  it('retention deletes one with DeleteServerlessCacheSnapshot; one already gone counts as gone', async () => {
    // Prepare
    ec.on(DeleteServerlessCacheSnapshotCommand, { ServerlessCacheSnapshotName: 'steward-a' })
      .resolves(meta)
      .on(DeleteServerlessCacheSnapshotCommand, { ServerlessCacheSnapshotName: 'steward-b' })
      .rejects(new ServerlessCacheSnapshotNotFoundFault({ $metadata: {}, message: 'gone' }));
    const store = awsSnapshotStore(REGION, new RDSClient({ region: REGION }), client());

    // Act
    const a = await store.remove({ kind: 'elasticache', id: 'steward-a', serverless: true });
    const b = await store.remove({ kind: 'elasticache', id: 'steward-b', serverless: true });

    // Assert
    expect([a, b]).toEqual(['deleted', 'already-gone']);
    expect(ec).not.toReceiveCommand(DeleteSnapshotCommand);
  });

  it('the status check reads serverless caches and all their snapshots, automated ones too', async () => {
    // Prepare
    ec.on(DescribeReplicationGroupsCommand).resolves({ ...meta, ReplicationGroups: [] });
    ec.on(DescribeSnapshotsCommand).resolves({ ...meta, Snapshots: [] });
    ec.on(DescribeServerlessCachesCommand).resolves({
      ...meta,
      ServerlessCaches: [{ ServerlessCacheName: 'sessions', ARN: cacheArn('sessions'), Status: 'available' }],
    });
    ec.on(ListTagsForResourceCommand).resolves({ ...meta, TagList: [] });
    ec.on(DescribeServerlessCacheSnapshotsCommand).resolves({
      ...meta,
      ServerlessCacheSnapshots: [snapshot('steward-x'), snapshot('auto-1', 'automated')],
    });
    const rds = mockClient(RDSClient);
    rds.resolves({});
    const reader = awsEstateReader(REGION, new RDSClient({ region: REGION }), client());

    // Act
    const [dbs, snaps] = await Promise.all([reader.databases(), reader.snapshots()]);
    rds.restore();

    // Assert
    expect(dbs.map((d) => [d.id, d.serverless])).toEqual([['sessions', true]]);
    expect(snaps.map((s) => [s.id, s.type, s.serverless, s.sourceId])).toEqual([
      ['steward-x', 'manual', true, 'sessions'],
      ['auto-1', 'automated', true, 'sessions'],
    ]);
  });
});
