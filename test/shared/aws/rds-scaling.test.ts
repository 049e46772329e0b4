import {
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  DBClusterNotFoundFault,
  DBInstanceAlreadyExistsFault,
  DBInstanceNotFoundFault,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  FailoverDBClusterCommand,
  InvalidDBInstanceStateFault,
  ModifyDBInstanceCommand,
  RDSClient,
  RebootDBInstanceCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { pendingNames, rdsScaling } from '../../../shared/aws/rds-scaling.js';
import { AwsCallError } from '../../../shared/errors.js';

const rds = mockClient(RDSClient);
const REGION = 'eu-west-1';
const meta = { $metadata: {} };
const adapter = () => rdsScaling(REGION, new RDSClient({ region: REGION }));
const arn = (type: string, id: string) => `arn:aws:rds:${REGION}:111122223333:${type}:${id}`;

beforeEach(() => {
  rds.reset();
});

describe('rdsScaling.describeInstance', () => {
  it('turns the instance into plain data: class, Multi-AZ, pending modifications, replicas, tags', async () => {
    // Prepare
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db' }).resolves({
      ...meta,
      DBInstances: [
        {
          DBInstanceIdentifier: 'orders-db',
          DBInstanceArn: arn('db', 'orders-db'),
          DBInstanceStatus: 'available',
          Engine: 'postgres',
          DBInstanceClass: 'db.r6g.large',
          MultiAZ: true,
          PendingModifiedValues: { DBInstanceClass: 'db.r6g.xlarge', PendingCloudwatchLogsExports: {} },
          ReadReplicaDBInstanceIdentifiers: ['orders-db-replica-2', 'orders-db-replica-1'],
          TagList: [{ Key: 'team', Value: 'orders' }],
        },
      ],
    });

    // Act
    const db = await adapter().describeInstance('orders-db');

    // Assert
    expect(db).toEqual({
      kind: 'rds-instance',
      id: 'orders-db',
      arn: arn('db', 'orders-db'),
      status: 'available',
      engine: 'postgres',
      instanceClass: 'db.r6g.large',
      multiAz: true,
      pending: ['DBInstanceClass'],
      replicas: ['orders-db-replica-1', 'orders-db-replica-2'],
      tags: { team: 'orders' },
    });
  });

  it("for scale-in, reads the tags of each replica named like steward's, by id; never otherwise", async () => {
    // Prepare: two replicas of steward's name (one already gone), one hand-named, one in another region (ARN).
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db' }).resolves({
      ...meta,
      DBInstances: [
        {
          DBInstanceIdentifier: 'orders-db',
          DBInstanceStatus: 'available',
          ReadReplicaDBInstanceIdentifiers: [
            'orders-db-replica-1',
            'orders-db-replica-2',
            'reporting',
            arn('db', 'orders-db-replica-3').replace(REGION, 'us-east-1'),
          ],
        },
      ],
    });
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db-replica-1' }).resolves({
      ...meta,
      DBInstances: [
        {
          DBInstanceIdentifier: 'orders-db-replica-1',
          DBInstanceStatus: 'creating',
          TagList: [
            { Key: 'steward:managed', Value: 'true' },
            { Key: 'steward:created-by', Value: 'scaling' },
          ],
        },
      ],
    });
    rds
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db-replica-2' })
      .rejects(
        new DBInstanceNotFoundFault({ $metadata: {}, message: 'DBInstance orders-db-replica-2 not found' }),
      );

    // Act
    const plain = await adapter().describeInstance('orders-db');
    const callsPlain = rds.commandCalls(DescribeDBInstancesCommand).length;
    const forScaleIn = await adapter().describeInstance('orders-db', { replicaTags: true });

    // Assert
    expect(callsPlain).toBe(1);
    expect(plain).not.toHaveProperty('replicaTags');
    expect(
      rds.commandCalls(DescribeDBInstancesCommand).map((c) => c.args[0].input.DBInstanceIdentifier),
    ).toEqual(['orders-db', 'orders-db', 'orders-db-replica-1', 'orders-db-replica-2']);
    expect(forScaleIn?.replicaTags).toEqual({
      'orders-db-replica-1': { 'steward:managed': 'true', 'steward:created-by': 'scaling' },
    });
    // Its status too: a replica still being created is a change in flight (engine.ts).
    expect(forScaleIn?.replicaStatus).toEqual({ 'orders-db-replica-1': 'creating' });
  });

  it('returns undefined for an instance that does not exist, and AwsCallError for anything else', async () => {
    // Prepare
    rds
      .on(DescribeDBInstancesCommand)
      .rejectsOnce(new DBInstanceNotFoundFault({ $metadata: {}, message: 'DBInstance gone not found' }))
      .rejectsOnce(new Error('throttled'));

    // Act
    const missing = await adapter().describeInstance('gone');
    const failing = adapter().describeInstance('orders-db');

    // Assert
    expect(missing).toBeUndefined();
    await expect(failing).rejects.toThrow(
      /DescribeDBInstances failed for DB instance orders-db in eu-west-1/,
    );
  });
});

describe('rdsScaling.describeCluster', () => {
  it('lists the members with their classes (db-cluster-id filter) and counts a busy member as pending', async () => {
    // Prepare
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'billing' }).resolves({
      ...meta,
      DBClusters: [
        {
          DBClusterIdentifier: 'billing',
          DBClusterArn: arn('cluster', 'billing'),
          Status: 'available',
          Engine: 'aurora-postgresql',
          DBClusterMembers: [
            { DBInstanceIdentifier: 'billing-1', IsClusterWriter: true },
            { DBInstanceIdentifier: 'billing-reader-1', IsClusterWriter: false },
          ],
          TagList: [{ Key: 'team', Value: 'billing' }],
        },
      ],
    });
    rds.on(DescribeDBInstancesCommand).resolves({
      ...meta,
      DBInstances: [
        { DBInstanceIdentifier: 'billing-1', DBInstanceClass: 'db.r6g.large', DBInstanceStatus: 'available' },
        {
          DBInstanceIdentifier: 'billing-reader-1',
          DBInstanceClass: 'db.r6g.large',
          DBInstanceStatus: 'creating',
          TagList: [{ Key: 'steward:managed', Value: 'true' }],
        },
      ],
    });

    // Act
    const c = await adapter().describeCluster('billing');

    // Assert
    expect(rds).toReceiveCommandWith(DescribeDBInstancesCommand, {
      Filters: [{ Name: 'db-cluster-id', Values: ['billing'] }],
      MaxRecords: 100,
    });
    expect(c).toEqual({
      kind: 'aurora-cluster',
      id: 'billing',
      arn: arn('cluster', 'billing'),
      status: 'available',
      engine: 'aurora-postgresql',
      pending: ['billing-reader-1 is creating'],
      members: [
        { id: 'billing-1', writer: true, instanceClass: 'db.r6g.large', status: 'available', tags: {} },
        {
          id: 'billing-reader-1',
          writer: false,
          instanceClass: 'db.r6g.large',
          status: 'creating',
          // A member's own tags, read in the same listing: scale-in removes only a reader steward created.
          tags: { 'steward:managed': 'true' },
        },
      ],
      tags: { team: 'billing' },
    });
  });

  it('returns undefined for a cluster that does not exist', async () => {
    // Prepare
    rds.on(DescribeDBClustersCommand).rejects(new DBClusterNotFoundFault({ $metadata: {}, message: 'no' }));

    // Act
    const c = await adapter().describeCluster('gone');

    // Assert
    expect(c).toBeUndefined();
    expect(rds).not.toReceiveCommand(DescribeDBInstancesCommand);
  });
});

describe('rdsScaling calls', () => {
  it('modifies the instance class, now or in the maintenance window', async () => {
    // Prepare
    rds.on(ModifyDBInstanceCommand).resolves(meta);

    // Act
    await adapter().modifyInstanceClass('orders-db', 'db.r6g.xlarge', true);
    await adapter().modifyInstanceClass('orders-db', 'db.r6g.2xlarge', false);

    // Assert
    expect(rds).toReceiveNthCommandWith(ModifyDBInstanceCommand, 1, {
      DBInstanceIdentifier: 'orders-db',
      DBInstanceClass: 'db.r6g.xlarge',
      ApplyImmediately: true,
    });
    expect(rds).toReceiveNthCommandWith(ModifyDBInstanceCommand, 2, {
      DBInstanceIdentifier: 'orders-db',
      DBInstanceClass: 'db.r6g.2xlarge',
      ApplyImmediately: false,
    });
  });

  it('creates a read replica with its deterministic id, class and sorted tags; an existing one is already done', async () => {
    // Prepare
    rds
      .on(CreateDBInstanceReadReplicaCommand)
      .resolvesOnce(meta)
      .rejectsOnce(new DBInstanceAlreadyExistsFault({ $metadata: {}, message: 'exists' }));
    const change = {
      type: 'rds.createReadReplica' as const,
      sourceId: 'orders-db',
      replicaId: 'orders-db-replica-1',
      instanceClass: 'db.r6g.large',
      tags: { team: 'orders', 'steward:managed': 'true' },
      replicas: 1,
    };

    // Act
    const results = [await adapter().createReadReplica(change), await adapter().createReadReplica(change)];

    // Assert
    expect(results).toEqual(['done', 'already-done']);
    expect(rds).toReceiveCommandWith(CreateDBInstanceReadReplicaCommand, {
      DBInstanceIdentifier: 'orders-db-replica-1',
      SourceDBInstanceIdentifier: 'orders-db',
      DBInstanceClass: 'db.r6g.large',
      CopyTagsToSnapshot: true,
      Tags: [
        { Key: 'steward:managed', Value: 'true' },
        { Key: 'team', Value: 'orders' },
      ],
    });
  });

  it('adds an Aurora reader with CreateDBInstance in the cluster', async () => {
    // Prepare
    rds.on(CreateDBInstanceCommand).resolves(meta);

    // Act
    const r = await adapter().createClusterReader({
      type: 'rds.createClusterReader',
      clusterId: 'billing',
      instanceId: 'billing-reader-1',
      instanceClass: 'db.r6g.large',
      engine: 'aurora-postgresql',
      tags: { 'steward:managed': 'true' },
      readers: 1,
    });

    // Assert
    expect(r).toBe('done');
    expect(rds).toReceiveCommandWith(CreateDBInstanceCommand, {
      DBInstanceIdentifier: 'billing-reader-1',
      DBClusterIdentifier: 'billing',
      Engine: 'aurora-postgresql',
      DBInstanceClass: 'db.r6g.large',
      Tags: [{ Key: 'steward:managed', Value: 'true' }],
    });
  });

  it('fails over: a Multi-AZ reboot with ForceFailover, an Aurora FailoverDBCluster', async () => {
    // Prepare
    rds.on(RebootDBInstanceCommand).resolves(meta).on(FailoverDBClusterCommand).resolves(meta);

    // Act
    await adapter().rebootWithFailover('orders-db');
    await adapter().failoverCluster('billing');

    // Assert
    expect(rds).toReceiveCommandWith(RebootDBInstanceCommand, {
      DBInstanceIdentifier: 'orders-db',
      ForceFailover: true,
    });
    expect(rds).toReceiveCommandWith(FailoverDBClusterCommand, { DBClusterIdentifier: 'billing' });
  });

  it('deletes a replica without a final snapshot; a replica already gone is already done', async () => {
    // Prepare
    rds
      .on(DeleteDBInstanceCommand)
      .resolvesOnce(meta)
      .rejectsOnce(new DBInstanceNotFoundFault({ $metadata: {}, message: 'gone' }));

    // Act
    const results = [
      await adapter().deleteReplica('orders-db-replica-2'),
      await adapter().deleteReplica('orders-db-replica-2'),
    ];

    // Assert
    expect(results).toEqual(['done', 'already-done']);
    expect(rds).toReceiveCommandWith(DeleteDBInstanceCommand, {
      DBInstanceIdentifier: 'orders-db-replica-2',
      SkipFinalSnapshot: true,
    });
  });

  it('names the operation, the resource and the SDK error when a call fails', async () => {
    // Prepare
    rds.on(ModifyDBInstanceCommand).rejects(
      new InvalidDBInstanceStateFault({
        $metadata: {},
        message: 'Database instance is not in available state.',
      }),
    );

    // Act
    const call = adapter().modifyInstanceClass('orders-db', 'db.r6g.xlarge', true);

    // Assert
    await expect(call).rejects.toThrow(AwsCallError);
    await expect(call).rejects.toThrow(
      'ModifyDBInstance failed for DB instance orders-db (→ db.r6g.xlarge) in eu-west-1: InvalidDBInstanceStateFault: Database instance is not in available state.',
    );
  });
});

describe('pendingNames', () => {
  it.each<[object | undefined, string[]]>([
    [undefined, []],
    [{}, []],
    [{ DBInstanceClass: undefined, ProcessorFeatures: [] }, []],
    [
      { PendingCloudwatchLogsExports: { LogTypesToEnable: ['postgresql'] }, AllocatedStorage: 200 },
      ['AllocatedStorage', 'PendingCloudwatchLogsExports'],
    ],
    [{ MultiAZ: false }, ['MultiAZ']],
  ])('%j → %j', (pending, names) => {
    expect(pendingNames(pending)).toEqual(names);
  });
});
