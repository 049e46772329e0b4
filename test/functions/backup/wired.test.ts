import {
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DescribeAccountAttributesCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  CreateServerlessCacheSnapshotCommand,
  CreateSnapshotCommand,
  DescribeServerlessCachesCommand,
  DescribeReplicationGroupsCommand,
  DescribeSnapshotsCommand,
  ElastiCacheClient,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-elasticache';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import reconcileEvent from '../../../events/backup/reconcile-copies.json' with { type: 'json' };
import scheduledEvent from '../../../events/backup/scheduled.json' with { type: 'json' };
import { run, wire } from '../../../functions/backup/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { atPlace } from '../../../shared/runtime.js';
import { noServerlessCaches } from '../../support/serverless-mocks.js';

// The backup function through its real adapters (handler wire(), SDK clients mocked): the requests the
// service builds, tags included, exactly as they leave the code. The IAM suite simulates these.
const PRIMARY = 'eu-west-1';
const DR = 'us-west-2';
const ACCOUNT = '111122223333';
const KEY = `arn:aws:kms:${DR}:${ACCOUNT}:alias/steward-dr`;
const NOW = new Date('2026-01-15T03:05:00Z');

const config = parseConfig(
  {
    stage: 'prod',
    region: PRIMARY,
    backup: {
      policies: {
        daily: { kinds: ['rds-instance', 'aurora-cluster'], copyToDr: true },
        cache: { kinds: ['elasticache'] },
      },
    },
    dr: { region: DR, kmsKeyArn: KEY },
  },
  'test',
);
const base = () => ({ config, dryRun: false, notifier: memoryNotifier(), now: () => NOW });

const rds = mockClient(RDSClient);
const s3 = mockClient(S3Client);
const cache = mockClient(ElastiCacheClient);
const regionOf = async (getClient: () => { config: { region: unknown } }) =>
  (await (getClient().config.region as () => Promise<string>)()) as string;

const arn = (region: string, type: string, id: string) => `arn:aws:rds:${region}:${ACCOUNT}:${type}:${id}`;
const cacheArn = (id: string) => `arn:aws:elasticache:${PRIMARY}:${ACCOUNT}:replicationgroup:${id}`;
const ownership = (source: string) => [
  { Key: 'steward:created-by', Value: 'backup' },
  { Key: 'steward:kind', Value: 'sched' },
  { Key: 'steward:managed', Value: 'true' },
  { Key: 'steward:policy', Value: 'daily' },
  { Key: 'steward:source', Value: source },
];

beforeEach(() => {
  rds.reset();
  s3.reset();
  s3.on(PutObjectCommand).resolves({});
  cache.reset();
  noServerlessCaches(cache);
  rds.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'orders-db',
        DBInstanceArn: arn(PRIMARY, 'db', 'orders-db'),
        Engine: 'postgres',
        DBInstanceStatus: 'available',
        StorageEncrypted: true,
        TagList: [{ Key: 'steward:backup', Value: 'daily' }],
      },
    ],
  });
  rds.on(DescribeDBClustersCommand).resolves({
    DBClusters: [
      {
        DBClusterIdentifier: 'ledger',
        DBClusterArn: arn(PRIMARY, 'cluster', 'ledger'),
        Engine: 'aurora-postgresql',
        Status: 'available',
        StorageEncrypted: true,
        TagList: [{ Key: 'steward:backup', Value: 'daily' }],
      },
    ],
  });
  rds.on(DescribeAccountAttributesCommand).resolves({
    AccountQuotas: [{ AccountQuotaName: 'ManualSnapshots', Used: 1, Max: 100 }],
  });
  rds.on(CreateDBSnapshotCommand).resolves({});
  rds.on(CreateDBClusterSnapshotCommand).resolves({});
  rds.on(CopyDBSnapshotCommand).resolves({});
  rds.on(CopyDBClusterSnapshotCommand).resolves({});
  // The primary region has yesterday's snapshots; the DR region has none yet.
  rds.on(DescribeDBSnapshotsCommand).callsFake(async (_input, getClient) =>
    (await regionOf(getClient)) === PRIMARY
      ? {
          DBSnapshots: [
            {
              DBSnapshotIdentifier: 'steward-orders-db-202601140300-sched',
              DBSnapshotArn: arn(PRIMARY, 'snapshot', 'steward-orders-db-202601140300-sched'),
              DBInstanceIdentifier: 'orders-db',
              SnapshotCreateTime: new Date('2026-01-14T03:01:00Z'),
              Status: 'available',
              SnapshotType: 'manual',
              Encrypted: true,
              TagList: ownership('orders-db'),
            },
          ],
        }
      : { DBSnapshots: [] },
  );
  rds.on(DescribeDBClusterSnapshotsCommand).callsFake(async (_input, getClient) =>
    (await regionOf(getClient)) === PRIMARY
      ? {
          DBClusterSnapshots: [
            {
              DBClusterSnapshotIdentifier: 'steward-ledger-202601140300-sched',
              DBClusterSnapshotArn: arn(PRIMARY, 'cluster-snapshot', 'steward-ledger-202601140300-sched'),
              DBClusterIdentifier: 'ledger',
              SnapshotCreateTime: new Date('2026-01-14T03:01:00Z'),
              Status: 'available',
              SnapshotType: 'manual',
              StorageEncrypted: true,
              TagList: ownership('ledger'),
            },
          ],
        }
      : { DBClusterSnapshots: [] },
  );
  cache.on(DescribeReplicationGroupsCommand).resolves({
    ReplicationGroups: [
      {
        ReplicationGroupId: 'sessions',
        ARN: `arn:aws:elasticache:${PRIMARY}:${ACCOUNT}:replicationgroup:sessions`,
        Engine: 'valkey',
        Status: 'available',
      },
    ],
  });
  cache.on(ListTagsForResourceCommand).resolves({ TagList: [{ Key: 'steward:backup', Value: 'cache' }] });
  cache.on(CreateSnapshotCommand).resolves({});
  cache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
});

describe('backup through its real adapters', () => {
  it('snapshots an opted-in instance and cluster with steward ownership tags', async () => {
    // Act
    await run(scheduledEvent, wire(base()));

    // Assert
    expect(rds).toHaveReceivedCommandWith(CreateDBSnapshotCommand, {
      DBInstanceIdentifier: 'orders-db',
      DBSnapshotIdentifier: 'steward-orders-db-202601150300-sched',
      Tags: ownership('orders-db'),
    });
    expect(rds).toHaveReceivedCommandWith(CreateDBClusterSnapshotCommand, {
      DBClusterIdentifier: 'ledger',
      DBClusterSnapshotIdentifier: 'steward-ledger-202601150300-sched',
      Tags: ownership('ledger'),
    });
  });

  it('a placed run also tags where each database lives (steward:account, steward:region), sorted in', async () => {
    // Act: the handler places every invocation (atPlace); the account comes from the function's ARN
    const context = {
      invokedFunctionArn: `arn:aws:lambda:${PRIMARY}:${ACCOUNT}:function:steward-prod-backup`,
    };
    await run(scheduledEvent, atPlace(wire(base()), scheduledEvent, context));
    await run({ ...scheduledEvent, policy: 'cache' }, atPlace(wire(base()), scheduledEvent, context));

    // Assert
    const where = [
      { Key: 'steward:account', Value: ACCOUNT },
      { Key: 'steward:region', Value: PRIMARY },
    ];
    expect(rds).toHaveReceivedCommandWith(CreateDBSnapshotCommand, {
      DBSnapshotIdentifier: 'steward-orders-db-202601150300-sched',
      Tags: [where[0]!, ...ownership('orders-db'), where[1]!].sort((a, b) => (a.Key < b.Key ? -1 : 1)),
    });
    expect(cache).toHaveReceivedCommandWith(CreateSnapshotCommand, {
      SnapshotName: 'steward-sessions-202601150300-sched',
      Tags: expect.arrayContaining(where),
    });
  });

  it('snapshots an opted-in replication group with ownership tags', async () => {
    // Act
    await run({ ...scheduledEvent, policy: 'cache' }, wire(base()));

    // Assert
    expect(cache).toHaveReceivedCommandWith(CreateSnapshotCommand, {
      ReplicationGroupId: 'sessions',
      SnapshotName: 'steward-sessions-202601150300-sched',
      Tags: expect.arrayContaining([
        { Key: 'steward:managed', Value: 'true' },
        { Key: 'steward:policy', Value: 'cache' },
      ]),
    });
  });

  it('a replication group being modified (its tags refused) is a missed backup, and the others are snapshotted', async () => {
    // Prepare: ElastiCache answers ListTagsForResource only for an available group
    cache.on(DescribeReplicationGroupsCommand).resolves({
      ReplicationGroups: [
        { ReplicationGroupId: 'sessions', ARN: cacheArn('sessions'), Engine: 'valkey', Status: 'available' },
        { ReplicationGroupId: 'queues', ARN: cacheArn('queues'), Engine: 'valkey', Status: 'modifying' },
      ],
    });
    cache.on(ListTagsForResourceCommand, { ResourceName: cacheArn('queues') }).rejects(
      Object.assign(new Error('Replication group queues is not available'), {
        name: 'InvalidReplicationGroupStateFault',
      }),
    );

    // Act
    const r = await run({ ...scheduledEvent, policy: 'cache' }, wire(base()));

    // Assert
    expect(cache).toHaveReceivedCommandWith(CreateSnapshotCommand, { ReplicationGroupId: 'sessions' });
    expect(cache).not.toHaveReceivedCommandWith(CreateSnapshotCommand, { ReplicationGroupId: 'queues' });
    expect(r.severity).toBe('warning');
    expect(r.outcomes).toContainEqual(
      expect.objectContaining({
        resource: 'queues',
        status: 'skipped',
        reason: expect.stringMatching(/^not-available: status modifying: its tags could not be read/),
      }),
    );
  });

  it('snapshots an opted-in serverless cache with CreateServerlessCacheSnapshot, and names one not available', async () => {
    // Prepare: a serverless cache of the same name as the group, and one being modified.
    const serverlessArn = (id: string) => `arn:aws:elasticache:${PRIMARY}:${ACCOUNT}:serverlesscache:${id}`;
    cache.on(DescribeServerlessCachesCommand).resolves({
      ServerlessCaches: [
        {
          ServerlessCacheName: 'sessions',
          ARN: serverlessArn('sessions'),
          Engine: 'valkey',
          Status: 'available',
        },
        { ServerlessCacheName: 'carts', ARN: serverlessArn('carts'), Engine: 'valkey', Status: 'modifying' },
      ],
    });
    cache
      .on(ListTagsForResourceCommand, { ResourceName: serverlessArn('sessions') })
      .resolves({ TagList: [{ Key: 'steward:backup', Value: 'cache' }] })
      .on(ListTagsForResourceCommand, { ResourceName: serverlessArn('carts') })
      .resolves({ TagList: [{ Key: 'steward:backup', Value: 'cache' }] });

    // Act: a dry run first, then the run.
    const dry = await run({ ...scheduledEvent, policy: 'cache', dryRun: true }, wire(base()));
    expect(cache).not.toHaveReceivedCommand(CreateServerlessCacheSnapshotCommand);
    const r = await run({ ...scheduledEvent, policy: 'cache' }, wire(base()));

    // Assert
    expect(dry.outcomes).toContainEqual(
      expect.objectContaining({
        resource: 'sessions',
        status: 'planned',
        detail: 'steward-sessions-202601150300-sched',
      }),
    );
    expect(cache).toHaveReceivedCommandTimes(CreateServerlessCacheSnapshotCommand, 1);
    expect(cache).toHaveReceivedCommandWith(CreateServerlessCacheSnapshotCommand, {
      ServerlessCacheName: 'sessions',
      ServerlessCacheSnapshotName: 'steward-sessions-202601150300-sched',
      Tags: expect.arrayContaining([
        { Key: 'steward:managed', Value: 'true' },
        { Key: 'steward:policy', Value: 'cache' },
        { Key: 'steward:source', Value: 'sessions' },
      ]),
    });
    expect(r.outcomes).toContainEqual(
      expect.objectContaining({
        resource: 'carts',
        status: 'skipped',
        reason: 'not-available: status modifying: only available databases can be snapshotted',
      }),
    );
  });

  it('copies available snapshots to the DR region under the DR key, carrying their tags', async () => {
    // Act
    await run(reconcileEvent, wire(base()));

    // Assert
    const copiedFrom = (type: string, id: string) => ({
      Key: 'steward:copied-from',
      Value: arn(PRIMARY, type, id),
    });
    expect(rds).toHaveReceivedCommandWith(CopyDBSnapshotCommand, {
      SourceDBSnapshotIdentifier: arn(PRIMARY, 'snapshot', 'steward-orders-db-202601140300-sched'),
      TargetDBSnapshotIdentifier: 'steward-orders-db-euw1-202601140300-sched',
      KmsKeyId: KEY,
      CopyTags: true,
      Tags: [copiedFrom('snapshot', 'steward-orders-db-202601140300-sched'), ...ownership('orders-db')],
    });
    expect(rds).toHaveReceivedCommandWith(CopyDBClusterSnapshotCommand, {
      SourceDBClusterSnapshotIdentifier: arn(
        PRIMARY,
        'cluster-snapshot',
        'steward-ledger-202601140300-sched',
      ),
      TargetDBClusterSnapshotIdentifier: 'steward-ledger-euw1-202601140300-sched',
      KmsKeyId: KEY,
      CopyTags: true,
      Tags: [copiedFrom('cluster-snapshot', 'steward-ledger-202601140300-sched'), ...ownership('ledger')],
    });
  });

  it('keeps the full report of a run in the report bucket under runs/backup/ and links it', async () => {
    // Prepare
    const deps = wire(base(), { REPORT_BUCKET: 'steward-prod-reports' });
    // Act
    await run(scheduledEvent, deps);
    // Assert
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'steward-prod-reports',
      Key: 'runs/backup/2026-01-15/20260115T030500Z-scheduled-backup-daily.json',
      ContentType: 'application/json',
      ServerSideEncryption: 'AES256',
    });
    const sent = (deps.notifier as ReturnType<typeof memoryNotifier>).sent[0]!;
    expect(sent.lines).toContain(
      'Full report: s3://steward-prod-reports/runs/backup/2026-01-15/20260115T030500Z-scheduled-backup-daily.json',
    );
  });
});
