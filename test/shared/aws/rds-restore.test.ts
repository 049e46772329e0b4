import {
  CreateDBInstanceCommand,
  DBClusterNotFoundFault,
  DBClusterSnapshotNotFoundFault,
  DBInstanceAlreadyExistsFault,
  DBInstanceNotFoundFault,
  DBSnapshotNotFoundFault,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  InvalidDBClusterStateFault,
  RDSClient,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBClusterToPointInTimeCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { WRITER_CLASS_TAG } from '../../../shared/aws/rds-drill-restore.js';
import { rdsRestorePort } from '../../../shared/aws/rds-restore.js';
import { INSTANCES_TAG } from '../../../shared/aws/rds-drill-restore.js';
import { SnapshotGoneError } from '../../../shared/drill/ports.js';
import type { RestoreRequest } from '../../../shared/drill/ports.js';
import { AwsCallError, GuardRefusedError } from '../../../shared/errors.js';

const rds = mockClient(RDSClient);
const REGION = 'eu-west-1';
const TARGET = 'steward-drill-orders-db-29f02b21';
const CLUSTER = 'steward-drill-ledger-0a1b2c3d';
const WRITER = `${CLUSTER}-w`;
const DRILL = 'monthly-orders-db-20260201-0500';
const meta = { $metadata: {} };

const tags = {
  'steward:drill': DRILL,
  'steward:managed': 'true',
  'steward:source': 'orders-db',
  'steward:created-by': 'drill',
};
const tagList = [
  { Key: 'steward:created-by', Value: 'drill' },
  { Key: 'steward:drill', Value: DRILL },
  { Key: 'steward:managed', Value: 'true' },
  { Key: 'steward:source', Value: 'orders-db' },
];
const network = { dbSubnetGroupName: 'steward-drill', securityGroupIds: ['sg-0abc1234'] };

const instanceReq = (over: Partial<RestoreRequest> = {}): RestoreRequest => ({
  kind: 'rds-instance',
  sourceDbId: 'orders-db',
  source: {
    snapshotId: 'rds:orders-db-2026-01-31-03-05',
    snapshotArn: 'arn:aws:rds:eu-west-1:111122223333:snapshot:rds:orders-db-2026-01-31-03-05',
    referenceTime: '2026-01-31T03:05:00.000Z',
  },
  targetId: TARGET,
  tags,
  network,
  ...over,
});

const clusterReq = (over: Partial<RestoreRequest> = {}): RestoreRequest => ({
  ...instanceReq(),
  kind: 'aurora-cluster',
  sourceDbId: 'ledger',
  source: { snapshotId: 'ledger-snap', referenceTime: '2026-01-31T03:00:00.000Z' },
  targetId: CLUSTER,
  ...over,
});

const fault = <T>(Ctor: new (o: { message: string; $metadata: object }) => T, message = 'boom') =>
  new Ctor({ message, $metadata: {} });

/** Command names in the order the client sent them. */
const order = () => rds.calls().map((c) => c.args[0].constructor.name);

const port = () => rdsRestorePort(REGION, new RDSClient({ region: REGION }));

beforeEach(() => {
  rds.reset();
});

describe('restore an RDS instance', () => {
  it('restores the snapshot privately into the drill network, tagged, without backups or protection', async () => {
    // Prepare
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).resolves(meta);

    // Act
    const target = await port().restore(instanceReq());

    // Assert
    expect(target).toEqual({ kind: 'rds-instance', id: TARGET, status: 'creating' });
    expect(rds).toReceiveCommandExactlyOnceWith(RestoreDBInstanceFromDBSnapshotCommand, {
      DBInstanceIdentifier: TARGET,
      DBSnapshotIdentifier: 'rds:orders-db-2026-01-31-03-05',
      DBInstanceClass: 'db.t4g.micro',
      DBSubnetGroupName: 'steward-drill',
      VpcSecurityGroupIds: ['sg-0abc1234'],
      PubliclyAccessible: false,
      MultiAZ: false,
      DeletionProtection: false,
      CopyTagsToSnapshot: false,
      AutoMinorVersionUpgrade: false,
      BackupRetentionPeriod: 0,
      Tags: tagList,
    });
  });

  it('uses the configured instance class', async () => {
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).resolves(meta);
    await port().restore(instanceReq({ instanceClass: 'db.r6g.large' }));
    expect(rds).toReceiveCommandWith(RestoreDBInstanceFromDBSnapshotCommand, {
      DBInstanceClass: 'db.r6g.large',
    });
  });

  it('restores onto the requested storage type, IOPS and throughput, and leaves them to RDS otherwise', async () => {
    // Prepare
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).resolves(meta);

    // Act
    await port().restore(instanceReq({ storageType: 'gp3', iops: 12_000, storageThroughputMiBps: 500 }));
    await port().restore(instanceReq());

    // Assert
    const inputs = rds.commandCalls(RestoreDBInstanceFromDBSnapshotCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toMatchObject({ StorageType: 'gp3', Iops: 12_000, StorageThroughput: 500 });
    expect(inputs[1]!.StorageType).toBeUndefined();
    expect(inputs[1]!.Iops).toBeUndefined();
    expect(inputs[1]!.StorageThroughput).toBeUndefined();
  });

  it('turns IAM database authentication on when the verifier logs in with a token, and leaves it to the snapshot otherwise', async () => {
    // Prepare
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).resolves(meta);

    // Act
    await port().restore(instanceReq({ iamAuth: true }));
    await port().restore(instanceReq());

    // Assert
    const inputs = rds.commandCalls(RestoreDBInstanceFromDBSnapshotCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.EnableIAMDatabaseAuthentication)).toEqual([true, undefined]);
  });

  it('restores a point in time of the source instance', async () => {
    // Prepare
    rds.on(RestoreDBInstanceToPointInTimeCommand).resolves(meta);

    // Act
    await port().restore(
      instanceReq({
        source: { pointInTime: '2026-01-31T11:00:00.000Z', referenceTime: '2026-01-31T11:00:00.000Z' },
      }),
    );

    // Assert
    expect(rds).toReceiveCommandExactlyOnceWith(RestoreDBInstanceToPointInTimeCommand, {
      SourceDBInstanceIdentifier: 'orders-db',
      TargetDBInstanceIdentifier: TARGET,
      RestoreTime: new Date('2026-01-31T11:00:00.000Z'),
      PubliclyAccessible: false,
      DBSubnetGroupName: 'steward-drill',
      VpcSecurityGroupIds: ['sg-0abc1234'],
      Tags: tagList,
    });
    expect(rds).not.toReceiveCommand(RestoreDBInstanceFromDBSnapshotCommand);
  });

  it('is idempotent: a retried restore describes and returns the copy this drill already made', async () => {
    // Prepare
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).rejects(fault(DBInstanceAlreadyExistsFault));
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: TARGET }).resolves({
      DBInstances: [{ DBInstanceIdentifier: TARGET, DBInstanceStatus: 'modifying', TagList: tagList }],
    });

    // Act
    const target = await port().restore(instanceReq());

    // Assert
    expect(target).toEqual({ kind: 'rds-instance', id: TARGET, status: 'modifying' });
  });

  it('refuses to adopt an existing instance that belongs to another drill', async () => {
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).rejects(fault(DBInstanceAlreadyExistsFault));
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: TARGET, TagList: [{ Key: 'steward:drill', Value: 'other' }] }],
    });
    await expect(port().restore(instanceReq())).rejects.toThrow(GuardRefusedError);
  });

  it('says clearly when the selected snapshot vanished before the restore', async () => {
    // Prepare
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).rejects(fault(DBSnapshotNotFoundFault));

    // Act
    const err = await port()
      .restore(instanceReq())
      .catch((e: unknown) => e);

    // Assert
    expect(err).toBeInstanceOf(SnapshotGoneError);
    expect((err as Error).message).toMatch(
      /snapshot rds:orders-db-2026-01-31-03-05 of orders-db no longer exists in eu-west-1/,
    );
  });

  it('wraps other errors naming the operation and the target', async () => {
    rds.on(RestoreDBInstanceFromDBSnapshotCommand).rejects(new Error('AccessDenied'));
    const err = await port()
      .restore(instanceReq())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AwsCallError);
    expect((err as Error).message).toContain(
      `RestoreDBInstanceFromDBSnapshot failed for drill target ${TARGET}`,
    );
  });
});

describe('restore an Aurora cluster', () => {
  it('restores the cluster with the snapshot engine and version, THEN creates its writer instance', async () => {
    // Prepare
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({
      DBClusterSnapshots: [{ Engine: 'aurora-postgresql', EngineVersion: '16.4' }],
    });
    rds.on(RestoreDBClusterFromSnapshotCommand).resolves({
      DBCluster: { DBClusterIdentifier: CLUSTER, Engine: 'aurora-postgresql', Status: 'creating' },
    });
    rds.on(CreateDBInstanceCommand).resolves(meta);

    // Act
    const target = await port().restore(clusterReq());

    // Assert
    expect(target).toEqual({ kind: 'aurora-cluster', id: CLUSTER, instanceId: WRITER, status: 'creating' });
    expect(order()).toEqual([
      'DescribeDBClusterSnapshotsCommand',
      'RestoreDBClusterFromSnapshotCommand',
      'CreateDBInstanceCommand',
    ]);
    expect(rds).toReceiveCommandWith(DescribeDBClusterSnapshotsCommand, {
      DBClusterSnapshotIdentifier: 'ledger-snap',
    });
    expect(rds).toReceiveCommandWith(RestoreDBClusterFromSnapshotCommand, {
      DBClusterIdentifier: CLUSTER,
      SnapshotIdentifier: 'ledger-snap',
      Engine: 'aurora-postgresql',
      EngineVersion: '16.4',
      DBSubnetGroupName: 'steward-drill',
      VpcSecurityGroupIds: ['sg-0abc1234'],
      DeletionProtection: false,
      CopyTagsToSnapshot: false,
      Tags: [
        ...tagList.slice(0, 4),
        { Key: WRITER_CLASS_TAG, Value: 'db.t4g.medium' },
        { Key: INSTANCES_TAG, Value: '1' },
      ].sort((a, b) => (a.Key < b.Key ? -1 : 1)),
    });
    expect(rds).toReceiveCommandWith(CreateDBInstanceCommand, {
      DBInstanceIdentifier: WRITER,
      DBClusterIdentifier: CLUSTER,
      DBInstanceClass: 'db.t4g.medium',
      Engine: 'aurora-postgresql',
      PubliclyAccessible: false,
      Tags: tagList,
    });
  });

  it('restores a cluster point in time, then creates its writer', async () => {
    // Prepare
    rds.on(RestoreDBClusterToPointInTimeCommand).resolves({
      DBCluster: { DBClusterIdentifier: CLUSTER, Engine: 'aurora-mysql', Status: 'creating' },
    });
    rds.on(CreateDBInstanceCommand).resolves(meta);

    // Act
    await port().restore(
      clusterReq({
        source: { pointInTime: '2026-01-31T11:00:00.000Z', referenceTime: '2026-01-31T11:00:00.000Z' },
      }),
    );

    // Assert
    expect(order()).toEqual(['RestoreDBClusterToPointInTimeCommand', 'CreateDBInstanceCommand']);
    expect(rds).toReceiveCommandWith(RestoreDBClusterToPointInTimeCommand, {
      DBClusterIdentifier: CLUSTER,
      SourceDBClusterIdentifier: 'ledger',
      RestoreToTime: new Date('2026-01-31T11:00:00.000Z'),
    });
    expect(rds).toReceiveCommandWith(CreateDBInstanceCommand, {
      Engine: 'aurora-mysql',
      DBInstanceIdentifier: WRITER,
    });
  });

  it('turns IAM database authentication on for the whole cluster when the verifier logs in with a token', async () => {
    // Prepare
    rds.on(RestoreDBClusterToPointInTimeCommand).resolves({
      DBCluster: { DBClusterIdentifier: CLUSTER, Engine: 'aurora-postgresql', Status: 'creating' },
    });
    rds.on(CreateDBInstanceCommand).resolves(meta);

    // Act
    await port().restore(
      clusterReq({
        iamAuth: true,
        source: { pointInTime: '2026-01-31T11:00:00.000Z', referenceTime: '2026-01-31T11:00:00.000Z' },
      }),
    );

    // Assert
    expect(rds).toReceiveCommandWith(RestoreDBClusterToPointInTimeCommand, {
      DBClusterIdentifier: CLUSTER,
      EnableIAMDatabaseAuthentication: true,
    });
  });

  it('leaves the writer to describe when RDS wants the cluster available first', async () => {
    // Prepare
    rds
      .on(RestoreDBClusterToPointInTimeCommand)
      .resolves({ DBCluster: { Engine: 'aurora-mysql', Status: 'creating' } });
    rds.on(CreateDBInstanceCommand).rejects(fault(InvalidDBClusterStateFault));

    // Act
    const target = await port().restore(
      clusterReq({
        source: { pointInTime: '2026-01-31T11:00:00.000Z', referenceTime: '2026-01-31T11:00:00.000Z' },
      }),
    );

    // Assert
    expect(target.status).toBe('creating');
  });

  it('adds the missing writer when describe finds the cluster available, and reports ready only then', async () => {
    // Prepare
    const cluster = {
      DBClusterIdentifier: CLUSTER,
      Engine: 'aurora-postgresql',
      Status: 'available',
      Endpoint: `${CLUSTER}.cluster-abc.eu-west-1.rds.amazonaws.com`,
      Port: 5432,
      TagList: [...tagList, { Key: WRITER_CLASS_TAG, Value: 'db.r6g.large' }],
    };
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [cluster] });
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(fault(DBInstanceNotFoundFault))
      .resolves({
        DBInstances: [{ DBInstanceIdentifier: WRITER, DBInstanceStatus: 'available' }],
      });
    rds.on(CreateDBInstanceCommand).resolves(meta);
    const p = port();

    // Act
    const first = await p.describe({ kind: 'aurora-cluster', id: CLUSTER, instanceId: WRITER });
    const second = await p.describe({ kind: 'aurora-cluster', id: CLUSTER, instanceId: WRITER });

    // Assert
    expect(first).toEqual({ status: 'creating-instance', failed: false });
    expect(rds).toReceiveCommandExactlyOnceWith(CreateDBInstanceCommand, {
      DBInstanceIdentifier: WRITER,
      DBInstanceClass: 'db.r6g.large',
      Engine: 'aurora-postgresql',
      Tags: tagList,
    });
    expect(second).toEqual({
      status: 'available',
      endpoint: { host: `${CLUSTER}.cluster-abc.eu-west-1.rds.amazonaws.com`, port: 5432 },
      failed: false,
      shape: { instances: 1, storageType: 'aurora' },
    });
  });

  it('restores a cluster of several instances: the writer, then readers, ready only when all are available', async () => {
    // Prepare
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({
      DBClusterSnapshots: [{ Engine: 'aurora-postgresql', EngineVersion: '16.4' }],
    });
    rds.on(RestoreDBClusterFromSnapshotCommand).resolves({
      DBCluster: { DBClusterIdentifier: CLUSTER, Engine: 'aurora-postgresql', Status: 'creating' },
    });
    rds.on(CreateDBInstanceCommand).resolves(meta);
    const p = port();

    // Act
    await p.restore(
      clusterReq({ instanceClass: 'db.r6g.xlarge', instances: 3, storageType: 'aurora-iopt1' }),
    );

    // Assert
    expect(rds).toReceiveCommandWith(RestoreDBClusterFromSnapshotCommand, {
      StorageType: 'aurora-iopt1',
      Tags: expect.arrayContaining([{ Key: INSTANCES_TAG, Value: '3' }]),
    });
    expect(
      rds
        .commandCalls(CreateDBInstanceCommand)
        .map((c) => [c.args[0].input.DBInstanceIdentifier, c.args[0].input.DBInstanceClass]),
    ).toEqual([
      [WRITER, 'db.r6g.xlarge'],
      [`${CLUSTER}-r1`, 'db.r6g.xlarge'],
      [`${CLUSTER}-r2`, 'db.r6g.xlarge'],
    ]);

    // Prepare: available cluster; the second reader is still creating, then all are available.
    rds.reset();
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: CLUSTER,
          Engine: 'aurora-postgresql',
          Status: 'available',
          StorageType: 'aurora-iopt1',
          Endpoint: `${CLUSTER}.cluster-abc.eu-west-1.rds.amazonaws.com`,
          Port: 5432,
          TagList: [
            ...tagList,
            { Key: WRITER_CLASS_TAG, Value: 'db.r6g.xlarge' },
            { Key: INSTANCES_TAG, Value: '3' },
          ],
        },
      ],
    });
    const member = (id: string, status: string) => ({
      DBInstances: [{ DBInstanceIdentifier: id, DBInstanceStatus: status, DBInstanceClass: 'db.r6g.xlarge' }],
    });
    rds
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: WRITER })
      .resolves(member(WRITER, 'available'));
    rds
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: `${CLUSTER}-r1` })
      .resolves(member(`${CLUSTER}-r1`, 'available'));
    rds
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: `${CLUSTER}-r2` })
      .resolvesOnce(member(`${CLUSTER}-r2`, 'creating'))
      .resolves(member(`${CLUSTER}-r2`, 'available'));

    // Act
    const creating = await p.describe({ kind: 'aurora-cluster', id: CLUSTER, instanceId: WRITER });
    const ready = await p.describe({ kind: 'aurora-cluster', id: CLUSTER, instanceId: WRITER });

    // Assert
    expect(creating).toMatchObject({ status: 'creating', failed: false });
    expect(creating.endpoint).toBeUndefined();
    expect(ready).toMatchObject({
      status: 'available',
      failed: false,
      shape: { instanceClass: 'db.r6g.xlarge', instances: 3, storageType: 'aurora-iopt1' },
    });
    expect(rds).not.toReceiveCommand(CreateDBInstanceCommand);
  });

  it('says clearly when the cluster snapshot vanished', async () => {
    rds.on(DescribeDBClusterSnapshotsCommand).rejects(fault(DBClusterSnapshotNotFoundFault));
    await expect(port().restore(clusterReq())).rejects.toThrow(
      /snapshot ledger-snap of ledger no longer exists/,
    );
    expect(rds).not.toReceiveCommand(RestoreDBClusterFromSnapshotCommand);
  });
});

describe('source shape', () => {
  it("reads an instance's class and storage", async () => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db' }).resolves({
      DBInstances: [
        { DBInstanceClass: 'db.r6g.2xlarge', StorageType: 'io1', AllocatedStorage: 2000, Iops: 20_000 },
      ],
    });
    expect(await port().sourceShape('rds-instance', 'orders-db')).toEqual({
      instanceClass: 'db.r6g.2xlarge',
      instances: 1,
      storageType: 'io1',
      allocatedGb: 2000,
      iops: 20_000,
    });
  });

  it("reads an Aurora cluster's writer class and its instance count", async () => {
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'ledger' }).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: 'ledger',
          StorageType: 'aurora',
          DBClusterMembers: [
            { DBInstanceIdentifier: 'ledger-reader', IsClusterWriter: false },
            { DBInstanceIdentifier: 'ledger-writer', IsClusterWriter: true },
          ],
        },
      ],
    });
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'ledger-writer' }).resolves({
      DBInstances: [{ DBInstanceClass: 'db.r7g.4xlarge' }],
    });
    expect(await port().sourceShape('aurora-cluster', 'ledger')).toEqual({
      instanceClass: 'db.r7g.4xlarge',
      instances: 2,
      storageType: 'aurora',
    });
  });

  it('is undefined for a source that no longer exists', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(fault(DBInstanceNotFoundFault));
    expect(await port().sourceShape('rds-instance', 'gone-db')).toBeUndefined();
  });
});

describe('describe', () => {
  it.each([
    ['creating', false, undefined],
    ['available', false, { host: `${TARGET}.abc.eu-west-1.rds.amazonaws.com`, port: 5432 }],
    ['incompatible-restore', true, { host: `${TARGET}.abc.eu-west-1.rds.amazonaws.com`, port: 5432 }],
  ])('reports an instance in %s (failed: %s)', async (status, failed, endpoint) => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: TARGET,
          DBInstanceStatus: status,
          DBInstanceClass: 'db.r6g.large',
          StorageType: 'gp3',
          AllocatedStorage: 400,
          Iops: 12_000,
          StorageThroughput: 500,
          ...(endpoint ? { Endpoint: { Address: endpoint.host, Port: endpoint.port } } : {}),
        },
      ],
    });
    expect(await port().describe({ kind: 'rds-instance', id: TARGET })).toEqual({
      status,
      failed,
      ...(endpoint ? { endpoint } : {}),
      shape: {
        instanceClass: 'db.r6g.large',
        instances: 1,
        storageType: 'gp3',
        allocatedGb: 400,
        iops: 12_000,
        storageThroughputMiBps: 500,
      },
    });
  });

  it('reports a vanished instance as failed', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(fault(DBInstanceNotFoundFault));
    expect(await port().describe({ kind: 'rds-instance', id: TARGET })).toEqual({
      status: 'not-found',
      failed: true,
    });
  });
});

describe('remove', () => {
  it('deletes a drill instance without a final snapshot or retained backups', async () => {
    // Prepare
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: TARGET, DBInstanceStatus: 'available', TagList: tagList }],
    });
    rds.on(DeleteDBInstanceCommand).resolves(meta);

    // Act
    const result = await port().remove({ kind: 'rds-instance', id: TARGET });

    // Assert
    expect(result).toBe('deleted');
    expect(rds).toReceiveCommandExactlyOnceWith(DeleteDBInstanceCommand, {
      DBInstanceIdentifier: TARGET,
      SkipFinalSnapshot: true,
      DeleteAutomatedBackups: true,
    });
  });

  it('refuses to delete anything without the steward:drill tag', async () => {
    // Prepare
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: TARGET, TagList: [{ Key: 'steward:managed', Value: 'true' }] }],
    });

    // Act + Assert
    await expect(port().remove({ kind: 'rds-instance', id: TARGET })).rejects.toThrow(GuardRefusedError);
    expect(rds).not.toReceiveCommand(DeleteDBInstanceCommand);
  });

  it('refuses a tagged resource whose id is not a drill id', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'orders-db', TagList: tagList }],
    });
    await expect(port().remove({ kind: 'rds-instance', id: 'orders-db' })).rejects.toThrow(GuardRefusedError);
    expect(rds).not.toReceiveCommand(DeleteDBInstanceCommand);
  });

  it('counts an instance that is already gone', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(fault(DBInstanceNotFoundFault));
    expect(await port().remove({ kind: 'rds-instance', id: TARGET })).toBe('already-gone');
  });

  it('deletes an Aurora drill: the writer instance first, then the cluster without a final snapshot', async () => {
    // Prepare
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: CLUSTER,
          Status: 'available',
          TagList: tagList,
          DBClusterMembers: [{ DBInstanceIdentifier: WRITER }],
        },
      ],
    });
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: WRITER, DBInstanceStatus: 'available', TagList: tagList }],
    });
    rds.on(DeleteDBInstanceCommand).resolves(meta);
    rds.on(DeleteDBClusterCommand).resolves(meta);

    // Act
    const result = await port().remove({ kind: 'aurora-cluster', id: CLUSTER, instanceId: WRITER });

    // Assert
    expect(result).toBe('deleted');
    const calls = order();
    expect(calls.indexOf('DeleteDBInstanceCommand')).toBeLessThan(calls.indexOf('DeleteDBClusterCommand'));
    expect(rds).toReceiveCommandWith(DeleteDBInstanceCommand, { DBInstanceIdentifier: WRITER });
    expect(rds).toReceiveCommandWith(DeleteDBClusterCommand, {
      DBClusterIdentifier: CLUSTER,
      SkipFinalSnapshot: true,
      DeleteAutomatedBackups: true,
    });
  });

  it('names a cluster RDS does not delete yet (still creating) DrillCopyBusy, which Cleanup retries', async () => {
    // Prepare
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        { DBClusterIdentifier: CLUSTER, Status: 'creating', TagList: tagList, DBClusterMembers: [] },
      ],
    });
    rds.on(DescribeDBInstancesCommand).rejects(fault(DBInstanceNotFoundFault));
    rds.on(DeleteDBClusterCommand).rejects(fault(InvalidDBClusterStateFault, 'not in available state'));

    // Act
    const removed = port().remove({ kind: 'aurora-cluster', id: CLUSTER, instanceId: WRITER });

    // Assert
    await expect(removed).rejects.toMatchObject({
      name: 'DrillCopyBusy',
      message: expect.stringContaining(`drill cluster ${CLUSTER} in ${REGION} (creating)`),
    });
  });

  it('refuses to delete an untagged cluster and touches none of its instances', async () => {
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        { DBClusterIdentifier: CLUSTER, TagList: [], DBClusterMembers: [{ DBInstanceIdentifier: WRITER }] },
      ],
    });
    await expect(port().remove({ kind: 'aurora-cluster', id: CLUSTER })).rejects.toThrow(
      /no steward:drill tag/,
    );
    expect(rds).not.toReceiveCommand(DeleteDBInstanceCommand);
    expect(rds).not.toReceiveCommand(DeleteDBClusterCommand);
  });
});

describe('inventory', () => {
  it('lists manual and automated snapshots of one database as plain data', async () => {
    // Prepare
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'orders-db', DbiResourceId: 'db-ABC' }],
    });
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        {
          DBSnapshotIdentifier: 'rds:orders-db-2026-01-31-03-05',
          DBSnapshotArn: 'arn:aws:rds:eu-west-1:111122223333:snapshot:rds:orders-db-2026-01-31-03-05',
          DBInstanceIdentifier: 'orders-db',
          DbiResourceId: 'db-ABC',
          SnapshotCreateTime: new Date('2026-01-31T03:05:00Z'),
          Status: 'available',
          SnapshotType: 'automated',
        },
      ],
    });

    // Act
    const list = await port().listSnapshots('rds-instance', 'orders-db');

    // Assert
    expect(rds).toReceiveCommandWith(DescribeDBSnapshotsCommand, {
      DBInstanceIdentifier: 'orders-db',
      MaxRecords: 100,
    });
    expect(list).toEqual([
      expect.objectContaining({
        id: 'rds:orders-db-2026-01-31-03-05',
        sourceId: 'orders-db',
        type: 'automated',
        createdAt: '2026-01-31T03:05:00.000Z',
      }),
    ]);
  });

  it('lists only the snapshots of the live database, not of a deleted one that had its name', async () => {
    // Prepare: orders-db was deleted and re-created; its manual snapshot outlived it, under the same name.
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db' }).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'orders-db', DbiResourceId: 'db-NEW' }],
    });
    const snap = (id: string, dbi: string, at: string) => ({
      DBSnapshotIdentifier: id,
      DBInstanceIdentifier: 'orders-db',
      DbiResourceId: dbi,
      SnapshotCreateTime: new Date(at),
      Status: 'available',
      SnapshotType: 'manual',
    });
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        snap('before-migration', 'db-OLD', '2026-01-31T06:00:00Z'),
        snap('nightly', 'db-NEW', '2026-01-31T03:05:00Z'),
      ],
    });

    // Act
    const list = await port().listSnapshots('rds-instance', 'orders-db');

    // Assert: the later snapshot is of the deleted database; a drill of it would prove nothing about orders-db.
    expect(list.map((s) => s.id)).toEqual(['nightly']);
  });

  it('lists only the cluster snapshots of the live cluster', async () => {
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'ledger' }).resolves({
      DBClusters: [{ DBClusterIdentifier: 'ledger', DbClusterResourceId: 'cluster-NEW' }],
    });
    const snap = (id: string, res: string) => ({
      DBClusterSnapshotIdentifier: id,
      DBClusterIdentifier: 'ledger',
      DbClusterResourceId: res,
      SnapshotCreateTime: new Date('2026-01-31T03:00:00Z'),
      Status: 'available',
    });
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({
      DBClusterSnapshots: [snap('old-ledger', 'cluster-OLD'), snap('ledger-snap', 'cluster-NEW')],
    });

    const list = await port().listSnapshots('aurora-cluster', 'ledger');

    expect(list.map((s) => s.id)).toEqual(['ledger-snap']);
  });

  // Older snapshots and some emulators (moto's cluster snapshots) carry no resource id. A drill must never
  // pass on a snapshot it cannot tie to the live database: the source's creation time the snapshot states,
  // else the snapshot's own time against the live database's creation, else it is left out.
  it('ties a snapshot without a resource id by the creation time of the database it was taken from', async () => {
    // Prepare: orders-db re-created on 2026-01-20 at 10:00:00.4 (RDS may state it to the millisecond).
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db' }).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'orders-db',
          DbiResourceId: 'db-NEW',
          InstanceCreateTime: new Date('2026-01-20T10:00:00.400Z'),
        },
      ],
    });
    const snap = (id: string, at: string, over: Record<string, unknown> = {}) => ({
      DBSnapshotIdentifier: id,
      DBInstanceIdentifier: 'orders-db',
      SnapshotCreateTime: new Date(at),
      Status: 'available',
      SnapshotType: 'manual',
      ...over,
    });
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        // The live database's, stating its creation to the second only.
        snap('of-live', '2026-01-31T03:05:00Z', { InstanceCreateTime: new Date('2026-01-20T10:00:00Z') }),
        // Taken after the re-creation, but of the earlier database (a copy made since): its creation says so.
        snap('copied-old', '2026-01-31T06:00:00Z', { InstanceCreateTime: new Date('2025-03-01T08:00:00Z') }),
        // Neither id nor source creation time: by its own time, after the live database was created.
        snap('bare-after', '2026-01-30T03:05:00Z'),
        // ... and before it: an earlier namesake's.
        snap('bare-before', '2026-01-19T03:05:00Z'),
        // No time at all: nothing ties it.
        snap('bare-untimed', '2026-01-30T03:05:00Z', { SnapshotCreateTime: undefined }),
      ],
    });

    // Act
    const list = await port().listSnapshots('rds-instance', 'orders-db');

    // Assert
    expect(list.map((s) => s.id)).toEqual(['of-live', 'bare-after']);
  });

  it('leaves out every snapshot without a resource id when the live database states no creation time', async () => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db' }).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'orders-db', DbiResourceId: 'db-NEW' }],
    });
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        {
          DBSnapshotIdentifier: 'no-id',
          DBInstanceIdentifier: 'orders-db',
          SnapshotCreateTime: new Date('2026-01-31T03:05:00Z'),
          InstanceCreateTime: new Date('2026-01-20T10:00:00Z'),
          Status: 'available',
          SnapshotType: 'manual',
        },
      ],
    });

    expect(await port().listSnapshots('rds-instance', 'orders-db')).toEqual([]);
  });

  it('ties a cluster snapshot without a resource id by the cluster creation time it states', async () => {
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'ledger' }).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: 'ledger',
          DbClusterResourceId: 'cluster-NEW',
          ClusterCreateTime: new Date('2026-01-20T10:00:00Z'),
        },
      ],
    });
    const snap = (id: string, created: string) => ({
      DBClusterSnapshotIdentifier: id,
      DBClusterIdentifier: 'ledger',
      ClusterCreateTime: new Date(created),
      SnapshotCreateTime: new Date('2026-01-31T03:00:00Z'),
      Status: 'available',
    });
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({
      DBClusterSnapshots: [
        snap('old-ledger', '2025-01-01T00:00:00Z'),
        snap('ledger-snap', '2026-01-20T10:00:00Z'),
      ],
    });

    const list = await port().listSnapshots('aurora-cluster', 'ledger');

    expect(list.map((s) => s.id)).toEqual(['ledger-snap']);
  });

  it('reads the window of a retained backup without a resource id only when its creation time is the live one', async () => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db' }).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'orders-db',
          DbiResourceId: 'db-NEW',
          InstanceCreateTime: new Date('2026-01-20T10:00:00Z'),
        },
      ],
    });
    const backup = (created: string | undefined, earliest: string) => ({
      Status: 'active',
      ...(created ? { InstanceCreateTime: new Date(created) } : {}),
      RestoreWindow: { EarliestTime: new Date(earliest), LatestTime: new Date('2026-02-01T04:55:00Z') },
    });
    rds.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({
      DBInstanceAutomatedBackups: [
        backup(undefined, '2026-01-01T00:00:00Z'),
        backup('2025-01-01T00:00:00Z', '2026-01-10T00:00:00Z'),
        backup('2026-01-20T10:00:00Z', '2026-01-25T00:00:00Z'),
      ],
    });

    expect(await port().restorableWindow('rds-instance', 'orders-db')).toEqual({
      earliest: '2026-01-25T00:00:00.000Z',
      latest: '2026-02-01T04:55:00.000Z',
    });
  });

  it('refuses to list for a drill when the database no longer exists, naming it', async () => {
    rds.on(DescribeDBInstancesCommand).rejects(fault(DBInstanceNotFoundFault));
    rds.on(DescribeDBClustersCommand).rejects(fault(DBClusterNotFoundFault));
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ DBSnapshotIdentifier: 'left-behind' }] });

    await expect(port().listSnapshots('rds-instance', 'orders-db')).rejects.toThrow(
      /DB instance orders-db not found in eu-west-1/,
    );
    await expect(port().listSnapshots('aurora-cluster', 'ledger')).rejects.toThrow(
      /DB cluster ledger not found in eu-west-1/,
    );
    expect(rds).not.toReceiveCommand(DescribeDBSnapshotsCommand);
    expect(rds).not.toReceiveCommand(DescribeDBClusterSnapshotsCommand);
  });

  it('reads the point-in-time window of the live database, not a retained backup of a deleted one', async () => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db' }).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'orders-db', DbiResourceId: 'db-NEW' }],
    });
    rds.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({
      DBInstanceAutomatedBackups: [
        {
          Status: 'retained',
          DbiResourceId: 'db-OLD',
          RestoreWindow: {
            EarliestTime: new Date('2025-01-01T00:00:00Z'),
            LatestTime: new Date('2025-01-02T00:00:00Z'),
          },
        },
      ],
    });

    // The live database has no automated backup: no window, not the deleted one's.
    expect(await port().restorableWindow('rds-instance', 'orders-db')).toBeUndefined();
  });

  it('reads the point-in-time window from the active automated backup', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'orders-db', DbiResourceId: 'db-ABC' }],
    });
    rds.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({
      DBInstanceAutomatedBackups: [
        {
          Status: 'retained',
          DbiResourceId: 'db-ABC',
          RestoreWindow: {
            EarliestTime: new Date('2025-01-01T00:00:00Z'),
            LatestTime: new Date('2025-01-02T00:00:00Z'),
          },
        },
        {
          Status: 'active',
          DbiResourceId: 'db-ABC',
          RestoreWindow: {
            EarliestTime: new Date('2026-01-25T00:00:00Z'),
            LatestTime: new Date('2026-02-01T04:55:00Z'),
          },
        },
      ],
    });
    expect(await port().restorableWindow('rds-instance', 'orders-db')).toEqual({
      earliest: '2026-01-25T00:00:00.000Z',
      latest: '2026-02-01T04:55:00.000Z',
    });
  });

  it('lists only steward:drill resources, Aurora members under their cluster', async () => {
    // Prepare
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: TARGET,
          TagList: tagList,
          InstanceCreateTime: new Date('2026-02-01T05:01:00Z'),
          DBInstanceStatus: 'available',
        },
        { DBInstanceIdentifier: WRITER, TagList: tagList, DBClusterIdentifier: CLUSTER },
        { DBInstanceIdentifier: 'orders-db', TagList: [] },
      ],
    });
    rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: CLUSTER,
          TagList: tagList,
          ClusterCreateTime: new Date('2026-02-01T05:02:00Z'),
          Status: 'available',
        },
        { DBClusterIdentifier: 'ledger', TagList: [] },
      ],
    });

    // Act
    const list = await port().listDrillResources();

    // Assert
    expect(list).toEqual([
      {
        kind: 'rds-instance',
        id: TARGET,
        drillId: DRILL,
        createdAt: '2026-02-01T05:01:00.000Z',
        status: 'available',
      },
      {
        kind: 'aurora-cluster',
        id: CLUSTER,
        drillId: DRILL,
        createdAt: '2026-02-01T05:02:00.000Z',
        status: 'available',
      },
    ]);
  });

  it('finds the RDS-managed master secret of a database', async () => {
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { MasterUserSecret: { SecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-1' } },
      ],
    });
    expect(await port().masterSecretArn('rds-instance', 'orders-db')).toBe(
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-1',
    );
  });
});
