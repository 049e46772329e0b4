import {
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DBClusterSnapshotAlreadyExistsFault,
  DBInstanceNotFoundFault,
  DBSnapshotAlreadyExistsFault,
  DescribeAccountAttributesCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  KMSKeyNotAccessibleFault,
  RDSClient,
  RDSServiceException,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rdsBackup } from '../../../shared/aws/rds.js';
import { AwsCallError } from '../../../shared/errors.js';

const rds = mockClient(RDSClient);
const PRIMARY = 'eu-west-1';
const DR = 'us-west-2';
const KEY = 'arn:aws:kms:us-west-2:111122223333:alias/steward-dr';
const SOURCE_ARN = 'arn:aws:rds:eu-west-1:111122223333:snapshot:steward-orders-db-202601150300-sched';

const meta = { $metadata: {} };
const accessDenied = () =>
  new RDSServiceException({
    name: 'AccessDenied',
    $fault: 'client',
    $metadata: {},
    message: 'not authorized',
  });

const tags = {
  'steward:managed': 'true',
  'steward:policy': 'daily',
  'steward:source': 'orders-db',
  'steward:created-by': 'backup',
  'steward:kind': 'sched',
};
const tagList = [
  { Key: 'steward:created-by', Value: 'backup' },
  { Key: 'steward:kind', Value: 'sched' },
  { Key: 'steward:managed', Value: 'true' },
  { Key: 'steward:policy', Value: 'daily' },
  { Key: 'steward:source', Value: 'orders-db' },
];

beforeEach(() => {
  rds.reset();
});

describe('rdsBackup.listInstances', () => {
  it('follows Marker pages of 100 and returns instances as plain data, Aurora members with their cluster', async () => {
    // Prepare
    rds
      .on(DescribeDBInstancesCommand, { Marker: undefined })
      .resolves({
        ...meta,
        Marker: 'page-2',
        DBInstances: [
          {
            DBInstanceIdentifier: 'orders-db',
            DBInstanceArn: 'arn:aws:rds:eu-west-1:111122223333:db:orders-db',
            Engine: 'postgres',
            DBInstanceStatus: 'available',
            StorageEncrypted: true,
            TagList: [{ Key: 'steward:backup', Value: 'daily' }],
          },
        ],
      })
      .on(DescribeDBInstancesCommand, { Marker: 'page-2' })
      .resolves({
        ...meta,
        DBInstances: [
          {
            DBInstanceIdentifier: 'analytics-writer',
            DBInstanceArn: 'arn:aws:rds:eu-west-1:111122223333:db:analytics-writer',
            Engine: 'aurora-postgresql',
            DBInstanceStatus: 'available',
            DBClusterIdentifier: 'analytics',
          },
        ],
      });

    // Act
    const dbs = await rdsBackup(PRIMARY, new RDSClient({ region: PRIMARY })).listInstances();

    // Assert
    expect(rds).toReceiveCommandTimes(DescribeDBInstancesCommand, 2);
    expect(rds).toReceiveNthCommandWith(DescribeDBInstancesCommand, 1, { MaxRecords: 100 });
    expect(rds).toReceiveNthCommandWith(DescribeDBInstancesCommand, 2, { MaxRecords: 100, Marker: 'page-2' });
    expect(dbs).toEqual([
      {
        kind: 'rds-instance',
        id: 'orders-db',
        arn: 'arn:aws:rds:eu-west-1:111122223333:db:orders-db',
        region: PRIMARY,
        engine: 'postgres',
        status: 'available',
        encrypted: true,
        tags: { 'steward:backup': 'daily' },
      },
      {
        kind: 'rds-instance',
        id: 'analytics-writer',
        arn: 'arn:aws:rds:eu-west-1:111122223333:db:analytics-writer',
        region: PRIMARY,
        engine: 'aurora-postgresql',
        status: 'available',
        clusterId: 'analytics',
        tags: {},
      },
    ]);
  });

  it('wraps a describe failure in AwsCallError naming the operation and region', async () => {
    // Prepare
    rds.on(DescribeDBInstancesCommand).rejects(accessDenied());

    // Act
    const p = rdsBackup(PRIMARY, new RDSClient({ region: PRIMARY })).listInstances();

    // Assert
    await expect(p).rejects.toThrow(AwsCallError);
    await expect(p).rejects.toThrow('DescribeDBInstances failed for region eu-west-1: AccessDenied');
  });
});

describe('rdsBackup.listClusters', () => {
  it('follows Marker pages and returns clusters with their tags', async () => {
    // Prepare
    rds
      .on(DescribeDBClustersCommand, { Marker: undefined })
      .resolves({ ...meta, Marker: 'm2', DBClusters: [] })
      .on(DescribeDBClustersCommand, { Marker: 'm2' })
      .resolves({
        ...meta,
        DBClusters: [
          {
            DBClusterIdentifier: 'analytics',
            DBClusterArn: 'arn:aws:rds:eu-west-1:111122223333:cluster:analytics',
            Engine: 'aurora-postgresql',
            Status: 'available',
            StorageEncrypted: true,
            TagList: [{ Key: 'steward:backup', Value: 'daily' }],
          },
        ],
      });

    // Act
    const dbs = await rdsBackup(PRIMARY, new RDSClient({ region: PRIMARY })).listClusters();

    // Assert
    expect(rds).toReceiveNthCommandWith(DescribeDBClustersCommand, 2, { MaxRecords: 100, Marker: 'm2' });
    expect(dbs).toEqual([
      {
        kind: 'aurora-cluster',
        id: 'analytics',
        arn: 'arn:aws:rds:eu-west-1:111122223333:cluster:analytics',
        region: PRIMARY,
        engine: 'aurora-postgresql',
        status: 'available',
        encrypted: true,
        tags: { 'steward:backup': 'daily' },
      },
    ]);
  });
});

describe('rdsBackup.createSnapshot', () => {
  it('creates a DB snapshot with our id and explicit tags', async () => {
    // Prepare
    rds.on(CreateDBSnapshotCommand).resolves(meta);

    // Act
    const r = await rdsBackup(PRIMARY, new RDSClient({ region: PRIMARY })).createSnapshot({
      kind: 'rds-instance',
      dbId: 'orders-db',
      snapshotId: 'steward-orders-db-202601150300-sched',
      tags,
    });

    // Assert
    expect(r).toBe('created');
    expect(rds).toReceiveCommandExactlyOnceWith(CreateDBSnapshotCommand, {
      DBInstanceIdentifier: 'orders-db',
      DBSnapshotIdentifier: 'steward-orders-db-202601150300-sched',
      Tags: tagList,
    });
  });

  it('creates a DB cluster snapshot for an Aurora cluster', async () => {
    // Prepare
    rds.on(CreateDBClusterSnapshotCommand).resolves(meta);

    // Act
    const r = await rdsBackup(PRIMARY, new RDSClient({ region: PRIMARY })).createSnapshot({
      kind: 'aurora-cluster',
      dbId: 'analytics',
      snapshotId: 'steward-analytics-202601150300-sched',
      tags,
    });

    // Assert
    expect(r).toBe('created');
    expect(rds).toReceiveCommandExactlyOnceWith(CreateDBClusterSnapshotCommand, {
      DBClusterIdentifier: 'analytics',
      DBClusterSnapshotIdentifier: 'steward-analytics-202601150300-sched',
      Tags: tagList,
    });
    expect(rds).not.toReceiveCommand(CreateDBSnapshotCommand);
  });

  it.each(['rds-instance', 'aurora-cluster'] as const)(
    'treats our %s snapshot id already existing as already done',
    async (kind) => {
      // Prepare
      rds
        .on(CreateDBSnapshotCommand)
        .rejects(new DBSnapshotAlreadyExistsFault({ $metadata: {}, message: 'exists' }))
        .on(CreateDBClusterSnapshotCommand)
        .rejects(new DBClusterSnapshotAlreadyExistsFault({ $metadata: {}, message: 'exists' }));

      // Act
      const r = await rdsBackup(PRIMARY, new RDSClient({ region: PRIMARY })).createSnapshot({
        kind,
        dbId: 'x',
        snapshotId: 'steward-x-202601150300-sched',
        tags,
      });

      // Assert
      expect(r).toBe('already-done');
    },
  );

  it.each([
    ['AccessDenied', accessDenied()],
    ['DBInstanceNotFoundFault', new DBInstanceNotFoundFault({ $metadata: {}, message: 'gone' })],
  ])('wraps %s in AwsCallError naming the database, snapshot and region', async (code, fault) => {
    // Prepare
    rds.on(CreateDBSnapshotCommand).rejects(fault);

    // Act
    const p = rdsBackup(PRIMARY, new RDSClient({ region: PRIMARY })).createSnapshot({
      kind: 'rds-instance',
      dbId: 'orders-db',
      snapshotId: 'steward-orders-db-202601150300-sched',
      tags,
    });

    // Assert
    await expect(p).rejects.toMatchObject({
      name: 'AwsCallError',
      code,
      operation: 'CreateDBSnapshot',
      resource: 'rds-instance orders-db (snapshot steward-orders-db-202601150300-sched) in eu-west-1',
    });
  });
});

describe('rdsBackup.copySnapshot', () => {
  const copyTags = { ...tags, 'steward:copied-from': SOURCE_ARN };

  it('copies a DB snapshot by source ARN with the DR key, CopyTags and explicit tags incl. copied-from', async () => {
    // Prepare
    rds.on(CopyDBSnapshotCommand).resolves(meta);

    // Act
    const r = await rdsBackup(DR, new RDSClient({ region: DR })).copySnapshot({
      kind: 'rds-instance',
      sourceArn: SOURCE_ARN,
      targetId: 'steward-orders-db-202601150300-sched',
      kmsKeyId: KEY,
      encrypted: true,
      tags: copyTags,
    });

    // Assert
    expect(r).toBe('started');
    expect(rds).toReceiveCommandExactlyOnceWith(CopyDBSnapshotCommand, {
      SourceDBSnapshotIdentifier: SOURCE_ARN,
      TargetDBSnapshotIdentifier: 'steward-orders-db-202601150300-sched',
      KmsKeyId: KEY,
      CopyTags: true,
      Tags: [{ Key: 'steward:copied-from', Value: SOURCE_ARN }, ...tagList],
    });
    // SDK v3 has no SourceRegion input: the presigned URL is generated from the source ARN (see below).
    expect(rds.commandCalls(CopyDBSnapshotCommand)[0]!.args[0].input).not.toHaveProperty('PreSignedUrl');
  });

  it.each([
    [true, KEY],
    [undefined, KEY],
    [false, undefined],
  ])('copies a cluster snapshot (encrypted: %s) with KmsKeyId %s', async (encrypted, expectedKey) => {
    // Prepare
    rds.on(CopyDBClusterSnapshotCommand).resolves(meta);
    const arn = 'arn:aws:rds:eu-west-1:111122223333:cluster-snapshot:steward-analytics-202601150300-sched';

    // Act
    await rdsBackup(DR, new RDSClient({ region: DR })).copySnapshot({
      kind: 'aurora-cluster',
      sourceArn: arn,
      targetId: 'steward-analytics-202601150300-sched',
      kmsKeyId: KEY,
      ...(encrypted !== undefined ? { encrypted } : {}),
      tags: { 'steward:copied-from': arn },
    });

    // Assert
    expect(rds).toReceiveCommandWith(CopyDBClusterSnapshotCommand, {
      SourceDBClusterSnapshotIdentifier: arn,
      TargetDBClusterSnapshotIdentifier: 'steward-analytics-202601150300-sched',
      CopyTags: true,
      Tags: [{ Key: 'steward:copied-from', Value: arn }],
    });
    expect(rds.commandCalls(CopyDBClusterSnapshotCommand)[0]!.args[0].input.KmsKeyId).toBe(expectedKey);
  });

  it('treats a copy that already exists in the DR region as already done', async () => {
    // Prepare
    rds
      .on(CopyDBSnapshotCommand)
      .rejects(new DBSnapshotAlreadyExistsFault({ $metadata: {}, message: 'exists' }));

    // Act
    const r = await rdsBackup(DR, new RDSClient({ region: DR })).copySnapshot({
      kind: 'rds-instance',
      sourceArn: SOURCE_ARN,
      targetId: 'steward-orders-db-202601150300-sched',
      kmsKeyId: KEY,
      tags: {},
    });

    // Assert
    expect(r).toBe('already-done');
  });

  it.each([
    [
      'KMSKeyNotAccessibleFault',
      new KMSKeyNotAccessibleFault({ $metadata: {}, message: 'The key is disabled' }),
    ],
    [
      'InvalidParameterValue',
      new RDSServiceException({
        name: 'InvalidParameterValue',
        $fault: 'client',
        $metadata: {},
        message:
          'The target snapshot KMS key [arn:...] does not exist, is not enabled or you do not have permissions to access it.',
      }),
    ],
  ])('turns %s into an AwsCallError naming the KMS key and the DR region', async (code, fault) => {
    // Prepare
    rds.on(CopyDBSnapshotCommand).rejects(fault);

    // Act
    const p = rdsBackup(DR, new RDSClient({ region: DR })).copySnapshot({
      kind: 'rds-instance',
      sourceArn: SOURCE_ARN,
      targetId: 'steward-orders-db-202601150300-sched',
      kmsKeyId: KEY,
      tags: {},
    });

    // Assert
    await expect(p).rejects.toMatchObject({ name: 'AwsCallError', code, operation: 'CopyDBSnapshot' });
    await expect(p).rejects.toThrow(`KMS key ${KEY} must exist in ${DR}`);
  });

  it('wraps other copy failures naming source and target', async () => {
    // Prepare
    rds.on(CopyDBSnapshotCommand).rejects(accessDenied());

    // Act
    const p = rdsBackup(DR, new RDSClient({ region: DR })).copySnapshot({
      kind: 'rds-instance',
      sourceArn: SOURCE_ARN,
      targetId: 'steward-orders-db-202601150300-sched',
      kmsKeyId: KEY,
      tags: {},
    });

    // Assert
    await expect(p).rejects.toThrow(
      `CopyDBSnapshot failed for rds-instance snapshot ${SOURCE_ARN} -> steward-orders-db-202601150300-sched in ${DR}: AccessDenied`,
    );
  });
});

describe('rdsBackup.quotas', () => {
  it('returns the manual snapshot quotas used/max and ignores the others', async () => {
    // Prepare
    rds.on(DescribeAccountAttributesCommand).resolves({
      ...meta,
      AccountQuotas: [
        { AccountQuotaName: 'DBInstances', Used: 12, Max: 40 },
        { AccountQuotaName: 'ManualSnapshots', Used: 80, Max: 100 },
        { AccountQuotaName: 'ManualClusterSnapshots', Used: 3, Max: 100 },
      ],
    });

    // Act
    const q = await rdsBackup(PRIMARY, new RDSClient({ region: PRIMARY })).quotas();

    // Assert
    expect(q).toEqual([
      { name: 'ManualSnapshots', used: 80, max: 100 },
      { name: 'ManualClusterSnapshots', used: 3, max: 100 },
    ]);
  });

  it('wraps a failure naming the region', async () => {
    // Prepare
    rds.on(DescribeAccountAttributesCommand).rejects(accessDenied());

    // Act / Assert
    await expect(rdsBackup(PRIMARY, new RDSClient({ region: PRIMARY })).quotas()).rejects.toThrow(
      'DescribeAccountAttributes failed for region eu-west-1: AccessDenied',
    );
  });
});

describe('SDK v3 cross-region copy (no network)', () => {
  it('presigns the source-region request from the source ARN: no SourceRegion input is needed', async () => {
    // Prepare: a real client in the DR region whose HTTP handler records the request instead of sending it.
    rds.restore();
    const bodies: string[] = [];
    const client = new RDSClient({
      region: DR,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
      requestHandler: {
        handle: async (req: { body?: unknown }) => {
          bodies.push(String(req.body));
          const xml =
            '<CopyDBSnapshotResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><CopyDBSnapshotResult><DBSnapshot>' +
            '<DBSnapshotIdentifier>steward-orders-db-202601150300-sched</DBSnapshotIdentifier></DBSnapshot>' +
            '</CopyDBSnapshotResult></CopyDBSnapshotResponse>';
          return {
            response: {
              statusCode: 200,
              headers: { 'content-type': 'text/xml' },
              body: new TextEncoder().encode(xml),
            },
          };
        },
      } as never,
    });

    try {
      // Act
      const r = await rdsBackup(DR, client).copySnapshot({
        kind: 'rds-instance',
        sourceArn: SOURCE_ARN,
        targetId: 'steward-orders-db-202601150300-sched',
        kmsKeyId: KEY,
        tags: {},
      });

      // Assert
      expect(r).toBe('started');
      const body = new URLSearchParams(bodies[0]);
      const presigned = new URL(body.get('PreSignedUrl')!);
      expect(presigned.hostname).toBe('rds.eu-west-1.amazonaws.com');
      expect(presigned.searchParams.get('DestinationRegion')).toBe(DR);
      expect(presigned.searchParams.get('KmsKeyId')).toBe(KEY);
      expect(presigned.searchParams.get('SourceDBSnapshotIdentifier')).toBe(SOURCE_ARN);
      expect(presigned.searchParams.get('X-Amz-Credential')).toContain('/eu-west-1/rds/aws4_request');
    } finally {
      client.destroy();
      rds.restore();
    }
  });
});
