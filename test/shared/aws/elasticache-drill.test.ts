import {
  CreateReplicationGroupCommand,
  DeleteReplicationGroupCommand,
  DescribeReplicationGroupsCommand,
  DescribeSnapshotsCommand,
  ElastiCacheClient,
  ElastiCacheServiceException,
  InvalidReplicationGroupStateFault,
  ListTagsForResourceCommand,
  ReplicationGroupAlreadyExistsFault,
  ReplicationGroupNotFoundFault,
} from '@aws-sdk/client-elasticache';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { elastiCacheDrillPort } from '../../../shared/aws/elasticache-drill.js';
import { AwsCallError, GuardRefusedError } from '../../../shared/errors.js';
import { Tag } from '../../../shared/tags.js';

const ec = mockClient(ElastiCacheClient);
const REGION = 'eu-west-1';
const meta = { $metadata: {} };
const ID = 'steward-drill-sessions-1a2b3c4d';
const arn = (id: string) => `arn:aws:elasticache:${REGION}:111122223333:replicationgroup:${id}`;
const port = () => elastiCacheDrillPort(REGION, new ElastiCacheClient({ region: REGION }));
const network = {
  cacheSubnetGroupName: 'steward-prod-drill',
  securityGroupIds: ['sg-0cache'],
  userGroupId: 'steward-prod-drill',
};
const drillTags = {
  [Tag.drill]: 'monthly-sessions',
  [Tag.managed]: 'true',
  [Tag.source]: 'sessions',
  [Tag.createdBy]: 'drill',
};
const fault = <T>(Fault: new (o: { message: string; $metadata: object }) => T) =>
  new Fault({ message: 'no', $metadata: {} });

beforeEach(() => ec.reset());

describe('elastiCacheDrillPort.restore', () => {
  it('creates a one-node group from the snapshot in the drill network, TLS and IAM user group on, tagged, no backups', async () => {
    // Prepare
    ec.on(CreateReplicationGroupCommand).resolves({
      ...meta,
      ReplicationGroup: { ReplicationGroupId: ID, Status: 'creating' },
    });

    // Act
    const r = await port().restore({
      targetId: ID,
      tags: drillTags,
      nodeType: 'cache.t4g.small',
      source: { snapshotName: 'steward-sessions-202601300300-sched' },
      shards: 1,
      engine: 'redis',
      engineVersion: '7.1.0',
      network,
    });

    // Assert
    expect(r).toEqual({ kind: 'redis', id: ID, status: 'creating', tls: true, region: REGION });
    expect(ec).toReceiveCommandExactlyOnceWith(CreateReplicationGroupCommand, {
      ReplicationGroupId: ID,
      ReplicationGroupDescription: 'steward restore drill monthly-sessions',
      Engine: 'redis',
      CacheNodeType: 'cache.t4g.small',
      CacheSubnetGroupName: 'steward-prod-drill',
      SecurityGroupIds: ['sg-0cache'],
      SnapshotName: 'steward-sessions-202601300300-sched',
      NumCacheClusters: 1,
      AutomaticFailoverEnabled: false,
      TransitEncryptionEnabled: true,
      AtRestEncryptionEnabled: true,
      UserGroupIds: ['steward-prod-drill'],
      SnapshotRetentionLimit: 0,
      Tags: Object.entries(drillTags)
        .map(([Key, Value]) => ({ Key, Value }))
        .sort((a, b) => a.Key.localeCompare(b.Key)),
    });
  });

  it.each([
    [
      'an AUTH token',
      { authToken: 'source-auth-token-0123456789' },
      { AuthToken: 'source-auth-token-0123456789' },
    ],
    ["the source's RBAC user group", { userGroupId: 'sessions-users' }, { UserGroupIds: ['sessions-users'] }],
  ] as const)(
    "sets the source's login on the copy (a restore carries none over): %s, TLS on",
    async (_, login, expected) => {
      // Prepare
      ec.on(CreateReplicationGroupCommand).resolves({
        ...meta,
        ReplicationGroup: { ReplicationGroupId: ID, Status: 'creating' },
      });

      // Act
      await port().restore({
        targetId: ID,
        tags: drillTags,
        nodeType: 'cache.t4g.small',
        source: { snapshotName: 'steward-sessions-202601300300-sched' },
        shards: 1,
        engine: 'redis',
        engineVersion: '7.1.0',
        network: {
          cacheSubnetGroupName: network.cacheSubnetGroupName,
          securityGroupIds: network.securityGroupIds,
        },
        login,
      });

      // Assert
      const input = ec.commandCalls(CreateReplicationGroupCommand)[0]!.args[0].input;
      expect(input).toMatchObject({ ...expected, TransitEncryptionEnabled: true });
      // One login only: an AUTH token and a user group are exclusive.
      expect('AuthToken' in input && 'UserGroupIds' in input).toBe(false);
    },
  );

  it('restores RDB files by S3 ARN with one node per shard, and an older Redis onto 7.1 for IAM authentication', async () => {
    // Prepare
    ec.on(CreateReplicationGroupCommand).resolves({
      ...meta,
      ReplicationGroup: { ReplicationGroupId: ID, Status: 'creating' },
    });
    const rdbArns = ['arn:aws:s3:::dr/a-0001.rdb', 'arn:aws:s3:::dr/a-0002.rdb'];

    // Act
    await port().restore({
      targetId: ID,
      tags: drillTags,
      nodeType: 'cache.r7g.large',
      source: { rdbArns },
      shards: 2,
      engineVersion: '6.2.6',
      network,
    });

    // Assert
    const input = ec.commandCalls(CreateReplicationGroupCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      SnapshotArns: rdbArns,
      NumNodeGroups: 2,
      ReplicasPerNodeGroup: 0,
      AutomaticFailoverEnabled: true,
      EngineVersion: '7.1',
    });
    expect(input).not.toHaveProperty('SnapshotName');
  });

  it('takes an existing group of the same drill as restored (a retry), and refuses one of another drill', async () => {
    // Prepare
    ec.on(CreateReplicationGroupCommand).rejects(fault(ReplicationGroupAlreadyExistsFault));
    ec.on(DescribeReplicationGroupsCommand).resolves({
      ...meta,
      ReplicationGroups: [{ ReplicationGroupId: ID, ARN: arn(ID), Status: 'creating' }],
    });
    ec.on(ListTagsForResourceCommand)
      .resolvesOnce({ ...meta, TagList: [{ Key: Tag.drill, Value: 'monthly-sessions' }] })
      .resolves({ ...meta, TagList: [{ Key: Tag.drill, Value: 'another' }] });
    const req = {
      targetId: ID,
      tags: drillTags,
      nodeType: 'cache.t4g.small',
      source: { snapshotName: 's' },
      shards: 1,
      network,
    };

    // Act / Assert
    await expect(port().restore(req)).resolves.toMatchObject({ id: ID, status: 'creating' });
    await expect(port().restore(req)).rejects.toThrow(GuardRefusedError);
  });

  it('refuses to restore anything but a steward-drill id tagged steward:drill', async () => {
    await expect(
      port().restore({
        targetId: 'sessions',
        tags: drillTags,
        nodeType: 'cache.t4g.small',
        source: { snapshotName: 's' },
        shards: 1,
        network,
      }),
    ).rejects.toThrow(GuardRefusedError);
    expect(ec).not.toReceiveCommand(CreateReplicationGroupCommand);
  });
});

describe('elastiCacheDrillPort.describe', () => {
  it.each([
    [{ Status: 'creating' }, { status: 'creating', failed: false }],
    [
      {
        Status: 'available',
        CacheNodeType: 'cache.t4g.small',
        NodeGroups: [{ PrimaryEndpoint: { Address: 'master.x.cache.amazonaws.com', Port: 6379 } }],
      },
      {
        status: 'available',
        failed: false,
        endpoint: { host: 'master.x.cache.amazonaws.com', port: 6379 },
        shape: { instanceClass: 'cache.t4g.small' },
      },
    ],
    [
      {
        Status: 'available',
        ConfigurationEndpoint: { Address: 'clustercfg.x.cache.amazonaws.com', Port: 6379 },
      },
      {
        status: 'available',
        failed: false,
        endpoint: { host: 'clustercfg.x.cache.amazonaws.com', port: 6379 },
      },
    ],
    [{ Status: 'create-failed' }, { status: 'create-failed', failed: true }],
  ])('reads %j as %j', async (group, want) => {
    ec.on(DescribeReplicationGroupsCommand, { ReplicationGroupId: ID }).resolves({
      ...meta,
      ReplicationGroups: [{ ReplicationGroupId: ID, ...group }],
    });
    await expect(port().describe({ kind: 'redis', id: ID })).resolves.toEqual(want);
  });

  it('a group that is gone can never become available', async () => {
    ec.on(DescribeReplicationGroupsCommand).rejects(fault(ReplicationGroupNotFoundFault));
    await expect(port().describe({ kind: 'redis', id: ID })).resolves.toEqual({
      status: 'not found',
      failed: true,
    });
  });
});

describe('elastiCacheDrillPort.remove', () => {
  const group = (status: string) => ({
    ...meta,
    ReplicationGroups: [{ ReplicationGroupId: ID, ARN: arn(ID), Status: status }],
  });

  it('deletes a tagged drill group without a final snapshot', async () => {
    // Prepare
    ec.on(DescribeReplicationGroupsCommand).resolves(group('available'));
    ec.on(ListTagsForResourceCommand).resolves({
      ...meta,
      TagList: [
        { Key: Tag.drill, Value: 'd' },
        { Key: Tag.managed, Value: 'true' },
      ],
    });
    ec.on(DeleteReplicationGroupCommand).resolves(meta);

    // Act / Assert
    await expect(port().remove({ kind: 'redis', id: ID })).resolves.toBe('deleted');
    expect(ec).toReceiveCommandExactlyOnceWith(DeleteReplicationGroupCommand, {
      ReplicationGroupId: ID,
      RetainPrimaryCluster: false,
    });
    expect(ec.commandCalls(DeleteReplicationGroupCommand)[0]!.args[0].input).not.toHaveProperty(
      'FinalSnapshotIdentifier',
    );
  });

  it('refuses a group without steward:drill and steward:managed=true, and never sends the delete', async () => {
    ec.on(DescribeReplicationGroupsCommand).resolves(group('available'));
    ec.on(ListTagsForResourceCommand).resolves({ ...meta, TagList: [{ Key: Tag.managed, Value: 'true' }] });
    await expect(port().remove({ kind: 'redis', id: ID })).rejects.toThrow(GuardRefusedError);
    expect(ec).not.toReceiveCommand(DeleteReplicationGroupCommand);
  });

  it('is done when the group is gone or already deleting, and fails loudly while it is still creating', async () => {
    // Prepare
    ec.on(ListTagsForResourceCommand).resolves({
      ...meta,
      TagList: [
        { Key: Tag.drill, Value: 'd' },
        { Key: Tag.managed, Value: 'true' },
      ],
    });
    ec.on(DescribeReplicationGroupsCommand)
      .rejectsOnce(fault(ReplicationGroupNotFoundFault))
      .resolvesOnce(group('deleting'))
      .resolves(group('creating'));
    ec.on(DeleteReplicationGroupCommand).rejects(fault(InvalidReplicationGroupStateFault));

    // Act / Assert
    await expect(port().remove({ kind: 'redis', id: ID })).resolves.toBe('already-gone');
    await expect(port().remove({ kind: 'redis', id: ID })).resolves.toBe('deleted');
    await expect(port().remove({ kind: 'redis', id: ID })).rejects.toThrow(AwsCallError);
  });
});

describe('elastiCacheDrillPort.listSnapshots and listDrillResources', () => {
  it('leaves out the snapshots of an earlier group deleted and re-created under the same id', async () => {
    // Prepare: sessions was re-created on 2026-01-20; a manual snapshot of the old group kept its id.
    ec.on(DescribeReplicationGroupsCommand, { ReplicationGroupId: 'sessions' }).resolves({
      ...meta,
      ReplicationGroups: [
        { ReplicationGroupId: 'sessions', ReplicationGroupCreateTime: new Date('2026-01-20T10:00:00Z') },
      ],
    });
    const snap = (name: string, at: string) => ({
      SnapshotName: name,
      ReplicationGroupId: 'sessions',
      SnapshotStatus: 'available',
      SnapshotSource: 'manual',
      NodeSnapshots: [{ SnapshotCreateTime: new Date(at) }],
    });
    ec.on(DescribeSnapshotsCommand).resolves({
      ...meta,
      Snapshots: [snap('before-rebuild', '2026-01-19T23:00:00Z'), snap('nightly', '2026-01-31T03:00:00Z')],
    });

    // Act
    const list = await port().listSnapshots('sessions');

    // Assert: ElastiCache snapshots carry no id of their group; one taken before the group existed is not its.
    expect(list.map((s) => s.id)).toEqual(['nightly']);
  });

  it('refuses to list snapshots of a group that no longer exists, naming it', async () => {
    ec.on(DescribeReplicationGroupsCommand).rejects(fault(ReplicationGroupNotFoundFault));
    ec.on(DescribeSnapshotsCommand).resolves({ ...meta, Snapshots: [{ SnapshotName: 'left-behind' }] });

    await expect(port().listSnapshots('sessions')).rejects.toThrow(
      /replication group sessions not found in eu-west-1/,
    );
    expect(ec).not.toReceiveCommand(DescribeSnapshotsCommand);
  });

  it('refuses a group without a creation time: nothing would tie a snapshot to it', async () => {
    ec.on(DescribeReplicationGroupsCommand).resolves({
      ...meta,
      ReplicationGroups: [{ ReplicationGroupId: 'sessions' }],
    });
    ec.on(DescribeSnapshotsCommand).resolves({ ...meta, Snapshots: [{ SnapshotName: 'nightly' }] });

    await expect(port().listSnapshots('sessions')).rejects.toThrow(
      /replication group sessions in eu-west-1 has no creation time \(ReplicationGroupCreateTime\)/,
    );
    await expect(port().groupCreatedAt('sessions')).rejects.toThrow(/has no creation time/);
    expect(ec).not.toReceiveCommand(DescribeSnapshotsCommand);
  });

  it('lists manual and automatic snapshots of the group with their size, type and shards', async () => {
    // Prepare
    ec.on(DescribeReplicationGroupsCommand).resolves({
      ...meta,
      ReplicationGroups: [
        { ReplicationGroupId: 'sessions', ReplicationGroupCreateTime: new Date('2025-01-01T00:00:00Z') },
      ],
    });
    ec.on(DescribeSnapshotsCommand)
      .resolvesOnce({
        ...meta,
        Marker: 'next',
        Snapshots: [
          {
            SnapshotName: 'automatic.sessions-2026-01-31-03-00',
            ARN: 'arn:aws:elasticache:eu-west-1:1:snapshot:automatic.sessions-2026-01-31-03-00',
            ReplicationGroupId: 'sessions',
            SnapshotStatus: 'available',
            SnapshotSource: 'automated',
            CacheNodeType: 'cache.r7g.large',
            Engine: 'valkey',
            EngineVersion: '8.0',
            NumNodeGroups: 2,
            NodeSnapshots: [
              { CacheSize: '10 MB', SnapshotCreateTime: new Date('2026-01-31T03:00:00Z') },
              { CacheSize: '2.5 GB', SnapshotCreateTime: new Date('2026-01-31T03:00:00Z') },
            ],
          },
        ],
      })
      .resolves({
        ...meta,
        Snapshots: [
          {
            SnapshotName: 'steward-sessions-202601300300-sched',
            ReplicationGroupId: 'sessions',
            SnapshotStatus: 'creating',
            NodeSnapshots: [{ CacheSize: 'lots' }],
          },
        ],
      });

    // Act
    const list = await port().listSnapshots('sessions');

    // Assert
    expect(ec).toReceiveCommandWith(DescribeSnapshotsCommand, {
      ReplicationGroupId: 'sessions',
      MaxRecords: 50,
    });
    expect(ec).toReceiveCommandWith(DescribeSnapshotsCommand, {
      ReplicationGroupId: 'sessions',
      Marker: 'next',
      MaxRecords: 50,
    });
    expect(list[0]).toMatchObject({
      id: 'automatic.sessions-2026-01-31-03-00',
      type: 'automated',
      sourceNodeType: 'cache.r7g.large',
      engine: 'valkey',
      shards: 2,
      largestShardBytes: 2.5e9,
      createdAt: '2026-01-31T03:00:00.000Z',
    });
    // A size not understood is unknown, never a guess.
    expect(list[1]).not.toHaveProperty('largestShardBytes');
  });

  it('lists only steward-drill groups that carry steward:drill, with their region', async () => {
    // Prepare
    ec.on(DescribeReplicationGroupsCommand).resolves({
      ...meta,
      ReplicationGroups: [
        { ReplicationGroupId: 'sessions', ARN: arn('sessions') },
        {
          ReplicationGroupId: ID,
          ARN: arn(ID),
          Status: 'available',
          ReplicationGroupCreateTime: new Date('2026-02-01T05:00:10Z'),
        },
        { ReplicationGroupId: 'steward-drill-fake-00000000', ARN: arn('steward-drill-fake-00000000') },
      ],
    });
    ec.on(ListTagsForResourceCommand, { ResourceName: arn(ID) }).resolves({
      ...meta,
      TagList: [{ Key: Tag.drill, Value: 'monthly-sessions' }],
    });
    ec.on(ListTagsForResourceCommand, { ResourceName: arn('steward-drill-fake-00000000') }).resolves({
      ...meta,
      TagList: [],
    });

    // Act
    const found = await port().listDrillResources();

    // Assert
    expect(found).toEqual([
      {
        kind: 'redis',
        id: ID,
        drillId: 'monthly-sessions',
        createdAt: '2026-02-01T05:00:10.000Z',
        status: 'available',
        region: REGION,
      },
    ]);
    expect(ec).not.toReceiveCommandWith(ListTagsForResourceCommand, { ResourceName: arn('sessions') });
  });

  it('names the operation and group when ElastiCache fails', async () => {
    ec.on(DescribeReplicationGroupsCommand).rejects(
      new ElastiCacheServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: {},
        message: 'no',
      }),
    );
    await expect(port().describe({ kind: 'redis', id: ID })).rejects.toThrow(
      /DescribeReplicationGroups.*steward-drill-sessions-1a2b3c4d/,
    );
  });
});
