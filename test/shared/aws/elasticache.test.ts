import {
  CreateSnapshotCommand,
  DescribeReplicationGroupsCommand,
  ElastiCacheClient,
  ElastiCacheServiceException,
  InvalidReplicationGroupStateFault,
  ListTagsForResourceCommand,
  ReplicationGroupNotFoundFault,
  SnapshotAlreadyExistsFault,
} from '@aws-sdk/client-elasticache';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { elastiCacheBackup } from '../../../shared/aws/elasticache.js';
import { AwsCallError } from '../../../shared/errors.js';
import { noServerlessCaches } from '../../support/serverless-mocks.js';

const ec = mockClient(ElastiCacheClient);
const REGION = 'eu-west-1';
const meta = { $metadata: {} };
const arn = (id: string) => `arn:aws:elasticache:eu-west-1:111122223333:replicationgroup:${id}`;
const adapter = () => elastiCacheBackup(REGION, new ElastiCacheClient({ region: REGION }));
const accessDenied = () =>
  new ElastiCacheServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: {},
    message: 'not authorized',
  });

beforeEach(() => {
  ec.reset();
  noServerlessCaches(ec);
});

describe('elastiCacheBackup.listReplicationGroups', () => {
  it('follows Marker pages of 100 and reads each group’s tags from its ARN', async () => {
    // Prepare
    ec.on(DescribeReplicationGroupsCommand, { Marker: undefined })
      .resolves({
        ...meta,
        Marker: 'next',
        ReplicationGroups: [
          {
            ReplicationGroupId: 'sessions',
            ARN: arn('sessions'),
            Status: 'available',
            Engine: 'redis',
            ClusterEnabled: false,
            AtRestEncryptionEnabled: true,
          },
        ],
      })
      .on(DescribeReplicationGroupsCommand, { Marker: 'next' })
      .resolves({
        ...meta,
        ReplicationGroups: [
          {
            ReplicationGroupId: 'queues',
            ARN: arn('queues'),
            Status: 'snapshotting',
            Engine: 'valkey',
            ClusterEnabled: true,
          },
        ],
      });
    ec.on(ListTagsForResourceCommand, { ResourceName: arn('sessions') })
      .resolves({ ...meta, TagList: [{ Key: 'steward:backup', Value: 'cache' }] })
      .on(ListTagsForResourceCommand, { ResourceName: arn('queues') })
      .resolves({ ...meta, TagList: [] });

    // Act
    const dbs = await adapter().listReplicationGroups();

    // Assert
    expect(ec).toReceiveNthCommandWith(DescribeReplicationGroupsCommand, 1, { MaxRecords: 100 });
    expect(ec).toReceiveNthCommandWith(DescribeReplicationGroupsCommand, 2, {
      MaxRecords: 100,
      Marker: 'next',
    });
    expect(ec).toReceiveCommandWith(ListTagsForResourceCommand, { ResourceName: arn('sessions') });
    expect(ec).toReceiveCommandWith(ListTagsForResourceCommand, { ResourceName: arn('queues') });
    expect(dbs).toEqual([
      {
        kind: 'elasticache',
        id: 'sessions',
        arn: arn('sessions'),
        region: REGION,
        engine: 'redis',
        cacheEngine: 'redis',
        status: 'available',
        encrypted: true,
        tags: { 'steward:backup': 'cache' },
      },
      {
        kind: 'elasticache',
        id: 'queues',
        arn: arn('queues'),
        region: REGION,
        engine: 'valkey',
        cacheEngine: 'valkey',
        status: 'snapshotting',
        tags: {},
      },
    ]);
  });

  it('wraps a tag read failure in AwsCallError naming the group ARN', async () => {
    // Prepare
    ec.on(DescribeReplicationGroupsCommand).resolves({
      ...meta,
      ReplicationGroups: [{ ReplicationGroupId: 'sessions', ARN: arn('sessions'), Status: 'available' }],
    });
    ec.on(ListTagsForResourceCommand).rejects(accessDenied());

    // Act
    const p = adapter().listReplicationGroups();

    // Assert
    await expect(p).rejects.toThrow(AwsCallError);
    await expect(p).rejects.toThrow(
      `ListTagsForResource (ElastiCache) failed for ${arn('sessions')}: AccessDenied`,
    );
  });

  // ListTagsForResource (ElastiCache API Reference): "If the cluster is not in the available state,
  // ListTagsForResource returns an error" (InvalidReplicationGroupState); a group deleted since the describe
  // answers ReplicationGroupNotFoundFault. Either one failed the whole listing, so one group being modified,
  // snapshotted or deleted stopped the backup of every database of the run.
  it('lists a group whose tags ElastiCache refuses while it is not available, saying so, and the others in full', async () => {
    // Prepare
    ec.on(DescribeReplicationGroupsCommand).resolves({
      ...meta,
      ReplicationGroups: [
        { ReplicationGroupId: 'sessions', ARN: arn('sessions'), Status: 'available', Engine: 'redis' },
        { ReplicationGroupId: 'queues', ARN: arn('queues'), Status: 'modifying', Engine: 'valkey' },
      ],
    });
    ec.on(ListTagsForResourceCommand, { ResourceName: arn('sessions') })
      .resolves({ ...meta, TagList: [{ Key: 'steward:backup', Value: 'cache' }] })
      .on(ListTagsForResourceCommand, { ResourceName: arn('queues') })
      .rejects(
        new InvalidReplicationGroupStateFault({
          $metadata: {},
          message: 'Replication group queues is not available',
        }),
      );

    // Act
    const dbs = await adapter().listReplicationGroups();

    // Assert
    expect(dbs.map((d) => [d.id, d.status, d.tags, d.tagsUnread])).toEqual([
      ['sessions', 'available', { 'steward:backup': 'cache' }, undefined],
      [
        'queues',
        'modifying',
        {},
        'ListTagsForResource refused while the group is modifying: Replication group queues is not available',
      ],
    ]);
  });

  it('leaves out a group deleted between the describe and its tag read', async () => {
    // Prepare
    ec.on(DescribeReplicationGroupsCommand).resolves({
      ...meta,
      ReplicationGroups: [
        { ReplicationGroupId: 'sessions', ARN: arn('sessions'), Status: 'available' },
        { ReplicationGroupId: 'old', ARN: arn('old'), Status: 'deleting' },
      ],
    });
    ec.on(ListTagsForResourceCommand, { ResourceName: arn('sessions') })
      .resolves({ ...meta, TagList: [] })
      .on(ListTagsForResourceCommand, { ResourceName: arn('old') })
      .rejects(new ReplicationGroupNotFoundFault({ $metadata: {}, message: 'gone' }));

    // Act
    const dbs = await adapter().listReplicationGroups();

    // Assert
    expect(dbs.map((d) => d.id)).toEqual(['sessions']);
  });

  it('wraps a describe failure naming the region', async () => {
    // Prepare
    ec.on(DescribeReplicationGroupsCommand).rejects(accessDenied());

    // Act / Assert
    await expect(adapter().listReplicationGroups()).rejects.toThrow(
      'DescribeReplicationGroups failed for region eu-west-1: AccessDenied',
    );
  });
});

describe('elastiCacheBackup.createSnapshot', () => {
  const input = {
    kind: 'elasticache' as const,
    dbId: 'sessions',
    snapshotId: 'steward-sessions-202601150300-sched',
    tags: { 'steward:managed': 'true', 'steward:policy': 'cache' },
  };

  it('snapshots the whole replication group with our name and explicit tags', async () => {
    // Prepare
    ec.on(CreateSnapshotCommand).resolves(meta);

    // Act
    const r = await adapter().createSnapshot(input);

    // Assert
    expect(r).toBe('created');
    expect(ec).toReceiveCommandExactlyOnceWith(CreateSnapshotCommand, {
      ReplicationGroupId: 'sessions',
      SnapshotName: 'steward-sessions-202601150300-sched',
      Tags: [
        { Key: 'steward:managed', Value: 'true' },
        { Key: 'steward:policy', Value: 'cache' },
      ],
    });
    expect(ec.commandCalls(CreateSnapshotCommand)[0]!.args[0].input).not.toHaveProperty('CacheClusterId');
  });

  it('treats our snapshot name already existing as already done', async () => {
    // Prepare
    ec.on(CreateSnapshotCommand).rejects(
      new SnapshotAlreadyExistsFault({ $metadata: {}, message: 'exists' }),
    );

    // Act / Assert
    await expect(adapter().createSnapshot(input)).resolves.toBe('already-done');
  });

  it.each([
    ['AccessDenied', accessDenied()],
    ['ReplicationGroupNotFoundFault', new ReplicationGroupNotFoundFault({ $metadata: {}, message: 'gone' })],
  ])('wraps %s in AwsCallError naming the group and snapshot', async (code, fault) => {
    // Prepare
    ec.on(CreateSnapshotCommand).rejects(fault);

    // Act / Assert
    await expect(adapter().createSnapshot(input)).rejects.toMatchObject({
      name: 'AwsCallError',
      code,
      resource: 'replication group sessions (snapshot steward-sessions-202601150300-sched) in eu-west-1',
    });
  });

  it('refuses a non-ElastiCache database instead of sending a wrong request', async () => {
    // Act / Assert
    await expect(adapter().createSnapshot({ ...input, kind: 'rds-instance' })).rejects.toThrow(TypeError);
    expect(ec).not.toReceiveAnyCommand();
  });
});
