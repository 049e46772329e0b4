import {
  DeleteSnapshotCommand,
  DescribeSnapshotsCommand,
  type DescribeSnapshotsCommandInput,
  ElastiCacheClient,
  InvalidParameterValueException,
  ListTagsForResourceCommand,
  SnapshotNotFoundFault,
} from '@aws-sdk/client-elasticache';
import {
  DBClusterSnapshotNotFoundFault,
  DBSnapshotNotFoundFault,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  type DescribeDBClusterSnapshotsCommandInput,
  DescribeDBSnapshotsCommand,
  type DescribeDBSnapshotsCommandInput,
  RDSClient,
  RDSServiceException,
} from '@aws-sdk/client-rds';
import {
  GetResourcesCommand,
  type GetResourcesCommandInput,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { awsSnapshotStore } from '../../../shared/aws/snapshots.js';
import { FANOUT } from '../../../shared/pool.js';
import { planRetention } from '../../../shared/retention/gfs.js';
import { AwsCallError } from '../../../shared/errors.js';
import type { ResourceKind, Snapshot } from '../../../shared/model.js';
import { tagList } from '../../../shared/tags.js';
import { fakeSnapshotStore } from '../../fakes/snapshot-store.js';
import { snapshotStoreContract } from './snapshot-store.contract.js';
import { noServerlessCaches } from '../../support/serverless-mocks.js';

const REGION = 'eu-west-1';
const rds = mockClient(RDSClient);
const ec = mockClient(ElastiCacheClient);
const tagging = mockClient(ResourceGroupsTaggingAPIClient);
const meta = { $metadata: {} };

beforeEach(() => {
  rds.reset();
  ec.reset();
  noServerlessCaches(ec);
  tagging.reset();
});

const store = () =>
  awsSnapshotStore(REGION, new RDSClient({ region: REGION }), new ElastiCacheClient({ region: REGION }));

/**
 * A stateful stand-in for the RDS and ElastiCache snapshot APIs of one region: filters like the service,
 * serves small pages with a Marker, deletes, and answers NotFound for what is gone.
 */
const simulateAws = (initial: readonly Snapshot[], pageSize = 2): void => {
  const state = initial.map((s) => structuredClone(s));
  const page = <T>(items: T[], marker: string | undefined, max = 100) => {
    const start = marker ? Number(marker) : 0;
    const end = start + Math.min(max, pageSize);
    return { items: items.slice(start, end), Marker: end < items.length ? String(end) : undefined };
  };
  const rdsOf = (kind: ResourceKind, type: string | undefined) =>
    state.filter((s) => s.kind === kind && (type === undefined || s.type === type));

  rds.on(DescribeDBSnapshotsCommand).callsFake((input: DescribeDBSnapshotsCommandInput) => {
    const p = page(rdsOf('rds-instance', input.SnapshotType), input.Marker, input.MaxRecords);
    return {
      Marker: p.Marker,
      DBSnapshots: p.items.map((s) => ({
        DBSnapshotIdentifier: s.id,
        DBSnapshotArn: s.arn,
        DBInstanceIdentifier: s.sourceId,
        SnapshotCreateTime: s.createdAt ? new Date(s.createdAt) : undefined,
        Status: s.status,
        SnapshotType: s.type,
        TagList: tagList(s.tags),
        Encrypted: s.encrypted,
      })),
    };
  });
  rds.on(DescribeDBClusterSnapshotsCommand).callsFake((input: DescribeDBClusterSnapshotsCommandInput) => {
    const p = page(rdsOf('aurora-cluster', input.SnapshotType), input.Marker, input.MaxRecords);
    return {
      Marker: p.Marker,
      DBClusterSnapshots: p.items.map((s) => ({
        DBClusterSnapshotIdentifier: s.id,
        DBClusterSnapshotArn: s.arn,
        DBClusterIdentifier: s.sourceId,
        SnapshotCreateTime: s.createdAt ? new Date(s.createdAt) : undefined,
        Status: s.status,
        SnapshotType: s.type,
        TagList: tagList(s.tags),
        StorageEncrypted: s.encrypted,
      })),
    };
  });
  ec.on(DescribeSnapshotsCommand).callsFake((input: DescribeSnapshotsCommandInput) => {
    const source = input.SnapshotSource;
    if (source !== undefined && source !== 'user' && source !== 'system') {
      throw new InvalidParameterValueException({ message: `Invalid SnapshotSource ${source}`, ...meta });
    }
    const wanted = source === 'user' ? 'manual' : source === 'system' ? 'automated' : undefined;
    const p = page(
      state.filter((s) => s.kind === 'elasticache' && (wanted === undefined || s.type === wanted)),
      input.Marker,
      input.MaxRecords,
    );
    return {
      Marker: p.Marker,
      Snapshots: p.items.map((s) => ({
        SnapshotName: s.id,
        ARN: s.arn,
        ReplicationGroupId: s.sourceId,
        SnapshotStatus: s.status,
        SnapshotSource: s.type,
        ...(s.encrypted && { KmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/abc' }),
        NodeSnapshots: [
          { CacheNodeId: '0001', SnapshotCreateTime: s.createdAt ? new Date(s.createdAt) : undefined },
        ],
      })),
    };
  });
  ec.on(ListTagsForResourceCommand).callsFake(({ ResourceName }: { ResourceName: string }) => ({
    TagList: tagList(state.find((s) => s.arn === ResourceName)?.tags ?? {}),
  }));
  // The tagging API: resources of the asked types carrying every filter's key (with one of its values).
  tagging.on(GetResourcesCommand).callsFake((input: GetResourcesCommandInput) => {
    const matches = state.filter(
      (s) =>
        s.kind === 'elasticache' &&
        (input.TagFilters ?? []).every(
          (f) => f.Key! in s.tags && (!f.Values?.length || f.Values.includes(s.tags[f.Key!]!)),
        ),
    );
    const start = Number(input.PaginationToken ?? 0);
    const end = start + Math.min(input.ResourcesPerPage ?? 100, pageSize);
    return {
      ResourceTagMappingList: matches
        .slice(start, end)
        .map((s) => ({ ResourceARN: s.arn, Tags: tagList(s.tags) })),
      // The API answers an empty string, not no token, on the last page.
      PaginationToken: end < matches.length ? String(end) : '',
    };
  });

  const remove = (kind: ResourceKind, id: string | undefined, notFound: () => Error) => {
    const i = state.findIndex((s) => s.kind === kind && s.id === id);
    if (i < 0) throw notFound();
    state.splice(i, 1);
    return {};
  };
  rds
    .on(DeleteDBSnapshotCommand)
    .callsFake(({ DBSnapshotIdentifier: id }) =>
      remove('rds-instance', id, () => new DBSnapshotNotFoundFault({ message: `${id} not found`, ...meta })),
    );
  rds
    .on(DeleteDBClusterSnapshotCommand)
    .callsFake(({ DBClusterSnapshotIdentifier: id }) =>
      remove(
        'aurora-cluster',
        id,
        () => new DBClusterSnapshotNotFoundFault({ message: `${id} not found`, ...meta }),
      ),
    );
  ec.on(DeleteSnapshotCommand).callsFake(({ SnapshotName: id }) =>
    remove('elasticache', id, () => new SnapshotNotFoundFault({ message: `${id} not found`, ...meta })),
  );
};

snapshotStoreContract('awsSnapshotStore over mocked RDS and ElastiCache', (region, initial) => {
  simulateAws(initial);
  return awsSnapshotStore(region, new RDSClient({ region }), new ElastiCacheClient({ region }));
});

snapshotStoreContract('awsSnapshotStore with ElastiCache tags in bulk (tagging API)', (region, initial) => {
  simulateAws(initial);
  return awsSnapshotStore(
    region,
    new RDSClient({ region }),
    new ElastiCacheClient({ region }),
    new ResourceGroupsTaggingAPIClient({ region }),
  );
});

snapshotStoreContract('fakeSnapshotStore', (region, initial) => fakeSnapshotStore(region, initial));

describe('awsSnapshotStore', () => {
  describe('listing', () => {
    it('follows the Marker across DB snapshot pages and asks for manual snapshots only', async () => {
      // Prepare
      rds
        .on(DescribeDBSnapshotsCommand)
        .resolvesOnce({
          Marker: 'page-2',
          DBSnapshots: [
            {
              DBSnapshotIdentifier: 'steward-orders-db-202611210300-sched',
              DBInstanceIdentifier: 'orders-db',
            },
          ],
        })
        .resolvesOnce({
          DBSnapshots: [
            {
              DBSnapshotIdentifier: 'steward-orders-db-202611220300-sched',
              DBInstanceIdentifier: 'orders-db',
            },
          ],
        });

      // Act
      const { snapshots: listed } = await store().list(['rds-instance']);

      // Assert
      expect(listed.map((s) => s.id)).toEqual([
        'steward-orders-db-202611210300-sched',
        'steward-orders-db-202611220300-sched',
      ]);
      expect(rds).toReceiveCommandTimes(DescribeDBSnapshotsCommand, 2);
      expect(rds).toReceiveNthCommandWith(DescribeDBSnapshotsCommand, 1, {
        SnapshotType: 'manual',
        MaxRecords: 100,
      });
      expect(rds).toReceiveCommandWith(DescribeDBSnapshotsCommand, {
        SnapshotType: 'manual',
        MaxRecords: 100,
        Marker: 'page-2',
      });
      expect(rds).not.toReceiveCommand(DescribeDBClusterSnapshotsCommand);
      expect(ec).not.toReceiveAnyCommand();
    });

    it('follows the Marker across cluster snapshot pages', async () => {
      // Prepare
      rds
        .on(DescribeDBClusterSnapshotsCommand)
        .resolvesOnce({ Marker: 'm2', DBClusterSnapshots: [{ DBClusterSnapshotIdentifier: 'a' }] })
        .resolvesOnce({ DBClusterSnapshots: [{ DBClusterSnapshotIdentifier: 'b' }] });

      // Act
      const { snapshots: listed } = await store().list(['aurora-cluster']);

      // Assert
      expect(listed.map((s) => s.id)).toEqual(['a', 'b']);
      expect(rds).toReceiveCommandWith(DescribeDBClusterSnapshotsCommand, {
        SnapshotType: 'manual',
        Marker: 'm2',
      });
    });

    it('maps a DB snapshot to plain data, dating a cross-region copy by its original creation time', async () => {
      // Prepare
      rds.on(DescribeDBSnapshotsCommand).resolves({
        DBSnapshots: [
          {
            DBSnapshotIdentifier: 'steward-orders-db-202611200300-sched',
            DBSnapshotArn: 'arn:aws:rds:us-west-2:111122223333:snapshot:steward-orders-db-202611200300-sched',
            DBInstanceIdentifier: 'orders-db',
            SnapshotCreateTime: new Date('2026-11-21T01:15:00Z'),
            OriginalSnapshotCreateTime: new Date('2026-11-20T03:04:00Z'),
            Status: 'available',
            SnapshotType: 'manual',
            Encrypted: true,
            SourceRegion: 'eu-west-1',
            TagList: [
              { Key: 'steward:managed', Value: 'true' },
              { Key: 'steward:copied-from', Value: 'arn:aws:rds:eu-west-1:111122223333:snapshot:x' },
            ],
          },
        ],
      });

      // Act
      const {
        snapshots: [copy],
      } = await awsSnapshotStore('us-west-2', new RDSClient({}), new ElastiCacheClient({})).list([
        'rds-instance',
      ]);

      // Assert
      expect(copy).toEqual({
        kind: 'rds-instance',
        id: 'steward-orders-db-202611200300-sched',
        arn: 'arn:aws:rds:us-west-2:111122223333:snapshot:steward-orders-db-202611200300-sched',
        region: 'us-west-2',
        sourceId: 'orders-db',
        createdAt: '2026-11-20T03:04:00.000Z',
        copiedAt: '2026-11-21T01:15:00.000Z',
        status: 'available',
        type: 'manual',
        tags: {
          'steward:managed': 'true',
          'steward:copied-from': 'arn:aws:rds:eu-west-1:111122223333:snapshot:x',
        },
        encrypted: true,
        sourceRegion: 'eu-west-1',
      });
    });

    it('asks ElastiCache for user snapshots and reads tags only for names steward could have created', async () => {
      // Prepare
      const ours =
        'arn:aws:elasticache:eu-west-1:111122223333:snapshot:steward-sessions-redis-202611200300-sched';
      ec.on(DescribeSnapshotsCommand)
        .resolvesOnce({
          Marker: 'next',
          Snapshots: [
            {
              SnapshotName: 'steward-sessions-redis-202611200300-sched',
              ARN: ours,
              ReplicationGroupId: 'sessions-redis',
              SnapshotStatus: 'available',
              SnapshotSource: 'manual',
              NodeSnapshots: [{ CacheNodeId: '0001', SnapshotCreateTime: new Date('2026-11-20T03:01:00Z') }],
            },
          ],
        })
        .resolvesOnce({
          Snapshots: [
            {
              SnapshotName: 'before-upgrade-jdoe',
              ARN: 'arn:aws:elasticache:eu-west-1:111122223333:snapshot:before-upgrade-jdoe',
              ReplicationGroupId: 'sessions-redis',
              SnapshotSource: 'manual',
            },
          ],
        });
      ec.on(ListTagsForResourceCommand).resolves({ TagList: [{ Key: 'steward:managed', Value: 'true' }] });

      // Act
      const { snapshots: listed } = await store().list(['elasticache']);

      // Assert
      expect(listed).toEqual([
        {
          kind: 'elasticache',
          id: 'steward-sessions-redis-202611200300-sched',
          arn: ours,
          region: REGION,
          sourceId: 'sessions-redis',
          createdAt: '2026-11-20T03:01:00.000Z',
          status: 'available',
          type: 'manual',
          tags: { 'steward:managed': 'true' },
          encrypted: false,
          shards: 1,
        },
      ]);
      expect(ec).toReceiveNthCommandWith(DescribeSnapshotsCommand, 1, {
        SnapshotSource: 'user',
        MaxRecords: 50,
      });
      expect(ec).toReceiveCommandWith(DescribeSnapshotsCommand, { SnapshotSource: 'user', Marker: 'next' });
      expect(ec).toReceiveCommandExactlyOnceWith(ListTagsForResourceCommand, { ResourceName: ours });
      expect(ec).toReceiveCommandTimes(ListTagsForResourceCommand, 1);
    });

    it('reads which database each snapshot is of from the listing itself, and retention keeps them apart', async () => {
      // Prepare: `orders` deleted and re-created, and `sessions` likewise; DescribeDBSnapshots,
      // DescribeDBClusterSnapshots and DescribeSnapshots state each snapshot's database (resource id, creation
      // times), so no request is added: the same pages as before.
      const day = (d: number) => new Date(Date.UTC(2026, 10, d, 3));
      const dbSnap = (d: number, rid: string, created: string) => ({
        DBSnapshotIdentifier: `steward-orders-${d}`,
        DBInstanceIdentifier: 'orders',
        DbiResourceId: rid,
        InstanceCreateTime: new Date(created),
        SnapshotCreateTime: day(d),
        Status: 'available',
        SnapshotType: 'manual',
        TagList: [
          { Key: 'steward:managed', Value: 'true' },
          { Key: 'steward:policy', Value: 'daily' },
        ],
      });
      rds
        .on(DescribeDBSnapshotsCommand)
        .resolvesOnce({
          Marker: 'p2',
          DBSnapshots: [1, 2, 3].map((d) => dbSnap(d, 'db-OLD', '2025-03-01T10:00:00Z')),
        })
        .resolvesOnce({ DBSnapshots: [21, 22].map((d) => dbSnap(d, 'db-NEW', '2026-11-20T12:00:00Z')) });
      rds.on(DescribeDBClusterSnapshotsCommand).resolves({
        DBClusterSnapshots: [
          {
            DBClusterSnapshotIdentifier: 'steward-ledger-1',
            DBClusterIdentifier: 'ledger',
            DbClusterResourceId: 'cluster-ABC',
            ClusterCreateTime: new Date('2024-01-01T00:00:00Z'),
            SnapshotCreateTime: day(1),
          },
        ],
      });
      ec.on(DescribeSnapshotsCommand).resolves({
        Snapshots: [
          {
            SnapshotName: 'steward-sessions-1',
            ARN: 'arn:aws:elasticache:eu-west-1:111122223333:snapshot:steward-sessions-1',
            ReplicationGroupId: 'sessions',
            CacheClusterCreateTime: new Date('2026-02-01T10:09:00Z'),
            SnapshotStatus: 'available',
            SnapshotSource: 'manual',
            NodeSnapshots: [
              {
                CacheNodeId: '0001',
                CacheNodeCreateTime: new Date('2026-02-01T10:05:00Z'),
                SnapshotCreateTime: day(1),
              },
            ],
          },
        ],
      });
      ec.on(ListTagsForResourceCommand).resolves({ TagList: [] });

      // Act
      const { snapshots } = await store().list(['rds-instance', 'aurora-cluster', 'elasticache']);
      const plan = planRetention(
        snapshots,
        (s) =>
          s.tags['steward:policy'] === 'daily'
            ? { name: 'standard', policy: { daily: 2, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 } }
            : undefined,
        new Date('2026-11-23T04:30:00Z'),
        {},
      );

      // Assert
      const of = (id: string) => snapshots.find((s) => s.id === id)!;
      expect(of('steward-orders-1')).toMatchObject({
        sourceResourceId: 'db-OLD',
        sourceCreatedAt: '2025-03-01T10:00:00.000Z',
      });
      expect(of('steward-ledger-1')).toMatchObject({
        sourceResourceId: 'cluster-ABC',
        sourceCreatedAt: '2024-01-01T00:00:00.000Z',
      });
      // ElastiCache states its members' creation times only: the earliest.
      expect(of('steward-sessions-1').sourceCreatedAt).toBe('2026-02-01T10:05:00.000Z');
      expect(of('steward-sessions-1').sourceResourceId).toBeUndefined();
      // The new `orders` keeps its two days; the old one its own two newest, not in the new one's slots.
      expect(
        plan.verdicts.filter((v) => v.sourceId === 'orders').map((v) => [v.id, v.action, v.reason]),
      ).toEqual([
        [
          'steward-orders-1',
          'expire',
          expect.stringContaining('of an earlier database named orders (db-OLD)'),
        ],
        ['steward-orders-2', 'keep', 'daily 2026-11-02, of an earlier database named orders (db-OLD)'],
        ['steward-orders-3', 'keep', 'daily 2026-11-03, of an earlier database named orders (db-OLD)'],
        ['steward-orders-21', 'keep', 'daily 2026-11-21'],
        ['steward-orders-22', 'keep', 'daily 2026-11-22'],
      ]);
      expect(rds).toReceiveCommandTimes(DescribeDBSnapshotsCommand, 2);
      expect(rds).toReceiveCommandTimes(DescribeDBClusterSnapshotsCommand, 1);
      expect(ec).toReceiveCommandTimes(DescribeSnapshotsCommand, 1);
    });

    it('reports a kind whose listing fails and still lists the other kinds', async () => {
      // Prepare
      const denied = new RDSServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        message: 'not authorized',
        ...meta,
      });
      rds.on(DescribeDBSnapshotsCommand).rejects(denied);
      rds.on(DescribeDBClusterSnapshotsCommand).resolves({
        DBClusterSnapshots: [{ DBClusterSnapshotIdentifier: 'steward-billing-202611200300-sched' }],
      });

      // Act
      const listing = await store().list(['rds-instance', 'aurora-cluster']);

      // Assert
      expect(listing.snapshots.map((s) => s.id)).toEqual(['steward-billing-202611200300-sched']);
      expect(listing.failures).toHaveLength(1);
      expect(listing.failures[0]).toMatchObject({
        resource: 'rds-instance snapshots in eu-west-1',
        code: 'AccessDenied',
        error: expect.stringMatching(/DescribeDBSnapshots failed for region eu-west-1: AccessDenied/),
      });
      expect(listing.failures[0]!.cause).toBeInstanceOf(AwsCallError);
    });

    it('leaves out one ElastiCache snapshot whose tags cannot be read, reports it, and lists the rest', async () => {
      // Prepare: the tag read of one snapshot is throttled past the SDK's retries.
      const names = [
        'steward-sessions-redis-202611200300-sched',
        'steward-sessions-redis-202611210300-sched',
      ];
      ec.on(DescribeSnapshotsCommand).resolves({
        Snapshots: names.map((n) => ({
          SnapshotName: n,
          ARN: `arn:${n}`,
          ReplicationGroupId: 'sessions-redis',
        })),
      });
      ec.on(ListTagsForResourceCommand)
        .rejects(new InvalidParameterValueException({ message: 'unused', ...meta }))
        .on(ListTagsForResourceCommand, { ResourceName: `arn:${names[0]}` })
        .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }))
        .on(ListTagsForResourceCommand, { ResourceName: `arn:${names[1]}` })
        .resolves({ TagList: [{ Key: 'steward:managed', Value: 'true' }] });
      rds.on(DescribeDBSnapshotsCommand).resolves({
        DBSnapshots: [{ DBSnapshotIdentifier: 'steward-orders-db-202611200300-sched' }],
      });

      // Act
      const listing = await store().list(['rds-instance', 'elasticache']);

      // Assert
      expect(listing.snapshots.map((s) => s.id).sort()).toEqual(
        ['steward-orders-db-202611200300-sched', names[1]!].sort(),
      );
      expect(listing.failures).toMatchObject([
        {
          resource: `elasticache snapshot ${names[0]} in eu-west-1`,
          code: 'ThrottlingException',
          error: expect.stringMatching(/ListTagsForResource \(ElastiCache\) failed for snapshot/),
        },
      ]);
    });
  });

  describe('ElastiCache tags at scale (3 000 snapshots)', () => {
    const N = 3000;
    const cache = Array.from({ length: N }, (_, i) => {
      const name = `steward-redis-${i % 100}-2026${String(1 + (i % 12)).padStart(2, '0')}${String(1 + (i % 28)).padStart(2, '0')}0300-sched-${i}`;
      // A short stand-in ARN (the join is by identity): the IAM suite then binds all 3 000 tag reads to one
      // request instead of simulating 3 000.
      return { name, arn: `arn:${name}` };
    });
    const describePages = () =>
      ec.on(DescribeSnapshotsCommand).callsFake((input: DescribeSnapshotsCommandInput) => {
        const start = Number(input.Marker ?? 0);
        const end = start + (input.MaxRecords ?? 50);
        return {
          Snapshots: cache.slice(start, end).map((c) => ({
            SnapshotName: c.name,
            ARN: c.arn,
            ReplicationGroupId: 'redis',
            SnapshotStatus: 'available',
            SnapshotSource: 'manual',
          })),
          Marker: end < N ? String(end) : undefined,
        };
      });
    const managed = [{ Key: 'steward:managed', Value: 'true' }];

    it('reads every tag in 30 tagging calls (pages of 100) instead of 3 000 ListTagsForResource', async () => {
      // Prepare
      describePages();
      const tokens: (string | undefined)[] = [];
      tagging.on(GetResourcesCommand).callsFake((input: GetResourcesCommandInput) => {
        tokens.push(input.PaginationToken);
        const start = Number(input.PaginationToken || 0);
        const end = start + input.ResourcesPerPage!;
        return {
          ResourceTagMappingList: cache.slice(start, end).map((c) => ({ ResourceARN: c.arn, Tags: managed })),
          PaginationToken: end < N ? String(end) : '',
        };
      });
      const bulk = awsSnapshotStore(
        REGION,
        new RDSClient({ region: REGION }),
        new ElastiCacheClient({ region: REGION }),
        new ResourceGroupsTaggingAPIClient({ region: REGION }),
      );

      // Act
      const { snapshots: listed, failures } = await bulk.list(['elasticache']);

      // Assert
      expect(failures).toEqual([]);
      expect(listed).toHaveLength(N);
      expect(listed.every((s) => s.tags['steward:managed'] === 'true')).toBe(true);
      expect(ec).toReceiveCommandTimes(DescribeSnapshotsCommand, N / 50);
      expect(ec).not.toReceiveCommand(ListTagsForResourceCommand);
      expect(tagging).toReceiveCommandTimes(GetResourcesCommand, N / 100);
      expect(tagging).toReceiveCommandWith(GetResourcesCommand, {
        ResourceTypeFilters: ['elasticache:snapshot'],
        TagFilters: [{ Key: 'steward:managed', Values: ['true'] }],
        ResourcesPerPage: 100,
      });
      // Each page asks from where the previous one ended (the paginator reuses one input object).
      expect(tokens).toEqual([
        undefined,
        ...Array.from({ length: N / 100 - 1 }, (_, i) => String((i + 1) * 100)),
      ]);
    });

    it('fails the ElastiCache listing alone when a tagging page stays throttled past the retries', async () => {
      // Prepare
      describePages();
      tagging
        .on(GetResourcesCommand)
        .resolvesOnce({ ResourceTagMappingList: [], PaginationToken: 'p2' })
        .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }));
      rds.on(DescribeDBSnapshotsCommand).resolves({
        DBSnapshots: [{ DBSnapshotIdentifier: 'steward-orders-db-202611200300-sched' }],
      });
      const bulk = awsSnapshotStore(
        REGION,
        new RDSClient({ region: REGION }),
        new ElastiCacheClient({ region: REGION }),
        new ResourceGroupsTaggingAPIClient({ region: REGION }),
      );

      // Act
      const listing = await bulk.list(['rds-instance', 'elasticache']);

      // Assert
      expect(listing.snapshots.map((s) => s.id)).toEqual(['steward-orders-db-202611200300-sched']);
      expect(listing.failures).toMatchObject([
        {
          resource: 'elasticache snapshots in eu-west-1',
          code: 'ThrottlingException',
          error: expect.stringMatching(
            /GetResources \(tagging\) failed for elasticache snapshots in eu-west-1/,
          ),
        },
      ]);
    });

    it('without the tagging API, reads one snapshot at a time per worker: FANOUT in flight, never more', async () => {
      // Prepare
      describePages();
      let inFlight = 0;
      let peak = 0;
      ec.on(ListTagsForResourceCommand).callsFake(async () => {
        peak = Math.max(peak, ++inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        return { TagList: managed };
      });

      // Act
      const { snapshots: listed } = await store().list(['elasticache']);

      // Assert
      expect(listed).toHaveLength(N);
      expect(ec).toReceiveCommandTimes(ListTagsForResourceCommand, N);
      expect(peak).toBe(FANOUT);
    });
  });

  describe('removing', () => {
    const ID = 'steward-a-202611200300-sched';
    it.each<[ResourceKind, () => void]>([
      [
        'rds-instance',
        () =>
          expect(rds).toReceiveCommandExactlyOnceWith(DeleteDBSnapshotCommand, { DBSnapshotIdentifier: ID }),
      ],
      [
        'aurora-cluster',
        () =>
          expect(rds).toReceiveCommandExactlyOnceWith(DeleteDBClusterSnapshotCommand, {
            DBClusterSnapshotIdentifier: ID,
          }),
      ],
      [
        'elasticache',
        () => expect(ec).toReceiveCommandExactlyOnceWith(DeleteSnapshotCommand, { SnapshotName: ID }),
      ],
    ])('deletes a %s snapshot with its own API', async (kind, assertDeleteCall) => {
      // Prepare
      rds.onAnyCommand().resolves({});
      ec.onAnyCommand().resolves({});

      // Act
      const result = await store().remove({ kind, id: ID });

      // Assert
      expect(result).toBe('deleted');
      assertDeleteCall();
      expect(kind === 'elasticache' ? rds : ec).not.toReceiveAnyCommand();
    });

    it.each([
      [
        'rds-instance',
        () =>
          rds.on(DeleteDBSnapshotCommand).rejects(new DBSnapshotNotFoundFault({ message: 'gone', ...meta })),
      ],
      [
        'aurora-cluster',
        () =>
          rds
            .on(DeleteDBClusterSnapshotCommand)
            .rejects(new DBClusterSnapshotNotFoundFault({ message: 'gone', ...meta })),
      ],
      [
        'elasticache',
        () => ec.on(DeleteSnapshotCommand).rejects(new SnapshotNotFoundFault({ message: 'gone', ...meta })),
      ],
    ] as const)('treats NotFound on a %s snapshot as already gone', async (kind, arrange) => {
      // Prepare
      arrange();

      // Act
      const result = await store().remove({ kind, id: 'steward-a-202611200300-sched' });

      // Assert
      expect(result).toBe('already-gone');
    });

    it('wraps AccessDenied in an AwsCallError naming the snapshot and keeping the SDK error', async () => {
      // Prepare
      const denied = new RDSServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        message: 'User is not authorized to perform rds:DeleteDBSnapshot',
        ...meta,
      });
      rds.on(DeleteDBSnapshotCommand).rejects(denied);

      // Act
      const error = await store()
        .remove({ kind: 'rds-instance', id: 'steward-orders-db-202611200300-sched' })
        .catch((e: unknown) => e);

      // Assert
      expect(error).toBeInstanceOf(AwsCallError);
      expect((error as AwsCallError).code).toBe('AccessDenied');
      expect((error as AwsCallError).cause).toBe(denied);
      expect((error as AwsCallError).message).toBe(
        'DeleteDBSnapshot failed for rds-instance snapshot steward-orders-db-202611200300-sched in eu-west-1: ' +
          'AccessDenied: User is not authorized to perform rds:DeleteDBSnapshot',
      );
    });
  });
});
