import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  CreateDBInstanceCommand,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBClusterToPointInTimeCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
} from '@aws-sdk/client-rds';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import failedEvent from '../../../events/drill/aws-execution-failed.json' with { type: 'json' };
import rdsEvent from '../../../events/drill/rds-restore-complete.json' with { type: 'json' };
import { run } from '../../../functions/drill/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import type { DrillState } from '../../../shared/drill/state.js';
import type { Notification } from '../../../shared/notify/notifier.js';
import { drillEnv, drillTask, wiredDrill } from '../../support/drill-wiring.js';

// The drill control plane through its real adapters (handler wire(), SDK clients mocked): the restores,
// cleanups, task tokens and reports exactly as the code sends them. The IAM suite simulates these.
const REGION = 'eu-west-1';
const ACCOUNT = '111122223333';
const NOW = new Date('2026-02-01T05:00:05Z');
const SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:rds!db-0a1b2c3d-AbCdEf`;
const profile = { database: 'app' };
const config = parseConfig(
  {
    stage: 'prod',
    region: REGION,
    drill: {
      enabled: true,
      targets: {
        'orders-db': { kind: 'rds-instance', profile, rpoSeconds: 86_400 },
        ledger: { kind: 'aurora-cluster', profile, rpoSeconds: 86_400 },
      },
    },
  },
  'test',
);
const env = drillEnv();
const deps = () => wiredDrill(config, env, NOW);
const task = drillTask;

const rds = mockClient(RDSClient);
const doc = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);

const drillTags = (db: string) =>
  expect.arrayContaining([
    { Key: 'steward:managed', Value: 'true' },
    { Key: 'steward:drill', Value: 'monthly-2026-02' },
    { Key: 'steward:source', Value: db },
  ]);

let drillInstanceStatus = 'available';

beforeEach(() => {
  for (const m of [rds, doc, s3, sfn]) m.reset();
  drillInstanceStatus = 'available';
  const snapshot = (id: string, type: string, at: string) => ({
    DBSnapshotIdentifier: id,
    DBSnapshotArn: `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:${id}`,
    DBInstanceIdentifier: 'orders-db',
    // As RDS states it on every snapshot: the id of the database it was taken from (the live one here).
    DbiResourceId: 'db-ORDERS',
    SnapshotCreateTime: new Date(at),
    Status: 'available',
    SnapshotType: type,
  });
  rds.on(DescribeDBSnapshotsCommand).resolves({
    DBSnapshots: [
      snapshot('steward-orders-db-202601300300-sched', 'manual', '2026-01-30T03:01:00Z'),
      snapshot('rds:orders-db-2026-01-31-03-05', 'automated', '2026-01-31T03:05:00Z'),
      snapshot('orders-db-by-hand', 'manual', '2026-01-31T12:00:00Z'),
    ],
  });
  rds.on(DescribeDBClusterSnapshotsCommand).resolves({
    DBClusterSnapshots: [
      {
        DBClusterSnapshotIdentifier: 'steward-ledger-202601310300-sched',
        DBClusterSnapshotArn: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster-snapshot:steward-ledger-202601310300-sched`,
        DBClusterIdentifier: 'ledger',
        DbClusterResourceId: 'cluster-LEDGER',
        SnapshotCreateTime: new Date('2026-01-31T03:05:00Z'),
        Status: 'available',
        SnapshotType: 'manual',
        Engine: 'aurora-postgresql',
        EngineVersion: '16.4',
      },
    ],
  });
  const drillTagList = (db: string) => [
    { Key: 'steward:managed', Value: 'true' },
    { Key: 'steward:drill', Value: 'monthly-2026-02' },
    { Key: 'steward:source', Value: db },
  ];
  rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier?: string }) => {
    const id = input.DBInstanceIdentifier ?? '';
    if (!id.startsWith('steward-drill-')) {
      return {
        DBInstances: [
          { DBInstanceIdentifier: id, DbiResourceId: 'db-ORDERS', MasterUserSecret: { SecretArn: SECRET } },
        ],
      };
    }
    return {
      DBInstances: [
        {
          DBInstanceIdentifier: id,
          DBInstanceStatus: drillInstanceStatus,
          Endpoint: { Address: `${id}.example`, Port: 5432 },
          TagList: drillTagList('orders-db'),
        },
      ],
    };
  });
  rds.on(DescribeDBClustersCommand).callsFake((input: { DBClusterIdentifier?: string }) => {
    const id = input.DBClusterIdentifier ?? '';
    return {
      DBClusters: [
        {
          DBClusterIdentifier: id,
          ...(id.startsWith('steward-drill-') ? {} : { DbClusterResourceId: 'cluster-LEDGER' }),
          Status: 'available',
          Engine: 'aurora-postgresql',
          Endpoint: `${id}.cluster.example`,
          Port: 5432,
          MasterUserSecret: { SecretArn: SECRET },
          EarliestRestorableTime: new Date('2026-01-25T00:00:00Z'),
          LatestRestorableTime: new Date('2026-02-01T04:55:00Z'),
          DBClusterMembers: [],
          TagList: id.startsWith('steward-drill-') ? drillTagList('ledger') : [],
        },
      ],
    };
  });
  rds.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({
    DBInstanceAutomatedBackups: [
      {
        Status: 'active',
        DbiResourceId: 'db-ORDERS',
        RestoreWindow: {
          EarliestTime: new Date('2026-01-25T00:00:00Z'),
          LatestTime: new Date('2026-02-01T04:55:00Z'),
        },
      },
    ],
  });
  rds.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({});
  rds.on(RestoreDBInstanceToPointInTimeCommand).resolves({});
  rds.on(CreateDBInstanceCommand).resolves({});
  rds.on(DeleteDBInstanceCommand).resolves({});
  rds.on(DeleteDBClusterCommand).resolves({});
  rds
    .on(RestoreDBClusterFromSnapshotCommand)
    .resolves({ DBCluster: { Engine: 'aurora-postgresql', Status: 'creating' } });
  rds
    .on(RestoreDBClusterToPointInTimeCommand)
    .resolves({ DBCluster: { Engine: 'aurora-postgresql', Status: 'creating' } });
  doc.on(PutCommand).resolves({});
  s3.on(PutObjectCommand).resolves({});
  s3.on(GetObjectCommand).rejects(Object.assign(new Error('no such key'), { name: 'NoSuchKey' }));
  sfn.on(SendTaskSuccessCommand).resolves({});
});

const through = async (database: string, input: Record<string, unknown> = {}) => {
  const started = (await run(task('start', { database, ...input }), deps())) as DrillState;
  const selected = (await run(task('select', started), deps())) as DrillState;
  return (await run(task('restore', selected), deps())) as DrillState;
};

describe('drill control plane through its real adapters', () => {
  it('restores the newest steward or automated snapshot of an instance, tagged, into the drill network', async () => {
    // Act
    await through('orders-db');

    // Assert: the hand-made snapshot is not a candidate (the role may not restore it).
    expect(rds).toHaveReceivedCommandWith(RestoreDBInstanceFromDBSnapshotCommand, {
      DBSnapshotIdentifier: 'rds:orders-db-2026-01-31-03-05',
      DBSubnetGroupName: 'steward-prod-drill',
      PubliclyAccessible: false,
      Tags: drillTags('orders-db'),
    });
  });

  it('restores an instance and a cluster to a point in time, tagged', async () => {
    // Act
    await through('orders-db', { snapshot: { pointInTime: '2026-02-01T04:00:00Z' } });
    await through('ledger', { snapshot: { pointInTime: '2026-02-01T04:00:00Z' } });

    // Assert
    expect(rds).toHaveReceivedCommandWith(RestoreDBInstanceToPointInTimeCommand, {
      SourceDBInstanceIdentifier: 'orders-db',
      Tags: drillTags('orders-db'),
    });
    expect(rds).toHaveReceivedCommandWith(RestoreDBClusterToPointInTimeCommand, {
      SourceDBClusterIdentifier: 'ledger',
      Tags: expect.arrayContaining([{ Key: 'steward:managed', Value: 'true' }]),
    });
  });

  it('restores a cluster snapshot and adds the writer, both tagged', async () => {
    // Act
    await through('ledger');

    // Assert
    expect(rds).toHaveReceivedCommandWith(RestoreDBClusterFromSnapshotCommand, {
      SnapshotIdentifier: 'steward-ledger-202601310300-sched',
      Tags: expect.arrayContaining([{ Key: 'steward:managed', Value: 'true' }]),
    });
    expect(rds).toHaveReceivedCommandWith(CreateDBInstanceCommand, { Tags: drillTags('ledger') });
  });

  it('parks the task token, resumes it on the RDS event, cleans up and records the report', async () => {
    // Prepare
    const restored = await through('orders-db');
    doc.on(DeleteCommand).resolves({
      Attributes: { token: 'token-1', state: JSON.stringify(restored), ttl: NOW.getTime() / 1000 + 600 },
    });
    // The event handler asks first whether an execution waits for the copy (its token parked, not expired).
    doc
      .on(GetCommand, { Key: { pk: `drill-token#${restored.target!.id}` } })
      .resolves({ Item: { pk: `drill-token#${restored.target!.id}`, ttl: NOW.getTime() / 1000 + 600 } });

    // Act
    drillInstanceStatus = 'creating';
    await run(task('await', restored, { taskToken: 'token-1' }), deps());
    drillInstanceStatus = 'available';
    await run({ ...rdsEvent, detail: { ...rdsEvent.detail, SourceIdentifier: restored.target!.id } }, deps());
    const cleaned = (await run(task('cleanup', restored), deps())) as DrillState;
    await run(task('record', cleaned), deps());

    // Assert
    expect(doc).toHaveReceivedCommandWith(PutCommand, {
      TableName: 'steward-prod-state',
      Item: expect.objectContaining({ pk: `drill-token#${restored.target!.id}` }),
    });
    expect(doc).toHaveReceivedCommandWith(DeleteCommand, {
      Key: { pk: `drill-token#${restored.target!.id}` },
    });
    expect(doc).toHaveReceivedCommandWith(GetCommand, {
      Key: { pk: `drill-token#${restored.target!.id}` },
      ConsistentRead: true,
    });
    expect(sfn).toHaveReceivedCommandWith(SendTaskSuccessCommand, { taskToken: 'token-1' });
    expect(rds).toHaveReceivedCommandWith(DeleteDBInstanceCommand, {
      DBInstanceIdentifier: restored.target!.id,
    });
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Key: expect.stringMatching(/^drills\/orders-db\//),
    });
  });

  it('cleans up a drill cluster: its writer, then the cluster', async () => {
    // Prepare
    const restored = await through('ledger');

    // Act
    await run(task('cleanup', restored), deps());

    // Assert
    expect(rds).toHaveReceivedCommandWith(DeleteDBInstanceCommand, {
      DBInstanceIdentifier: `${restored.target!.id}-w`,
    });
    expect(rds).toHaveReceivedCommandWith(DeleteDBClusterCommand, {
      DBClusterIdentifier: restored.target!.id,
    });
  });

  it('alerts once for an execution that failed outside the drill: asked why, the alert recorded, a retry silent', async () => {
    // Prepare: the documented example, pointed at this stage's drill state machine; it left a drill instance
    const arn = `arn:aws:states:${REGION}:${ACCOUNT}:execution:steward-prod-drill:monthly-2026-02`;
    const event = structuredClone(failedEvent);
    Object.assign(event.detail, {
      executionArn: arn,
      stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:steward-prod-drill`,
      name: 'monthly-2026-02',
    });
    const listed = {
      DBInstanceIdentifier: 'steward-drill-orders-db-1a2b3c4d',
      DBInstanceStatus: 'available',
      TagList: [
        { Key: 'steward:managed', Value: 'true' },
        { Key: 'steward:drill', Value: 'monthly-2026-02' },
      ],
    };
    rds
      .on(DescribeDBInstancesCommand)
      .callsFake((input: { DBInstanceIdentifier?: string }) =>
        input.DBInstanceIdentifier === undefined || input.DBInstanceIdentifier === listed.DBInstanceIdentifier
          ? { DBInstances: [listed] }
          : { DBInstances: [] },
      );
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });
    sfn.on(DescribeExecutionCommand).resolves({ error: 'States.Runtime' } as never);
    doc
      .on(GetCommand)
      .resolvesOnce({})
      .resolves({ Item: { pk: `drill-alert#${arn}`, ttl: 4_102_444_800 } });
    const wired = deps();
    const sent = (wired.notifier as unknown as { sent: Notification[] }).sent;

    // Act: the event, then Lambda's retry of it
    await run(event, wired);
    await run(event, wired);

    // Assert
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: arn });
    expect(doc).toHaveReceivedCommandWith(GetCommand, {
      TableName: env.DRILL_TABLE,
      Key: { pk: `drill-alert#${arn}` },
      ConsistentRead: true,
    });
    expect(doc).toHaveReceivedCommandWith(PutCommand, {
      TableName: env.DRILL_TABLE,
      Item: {
        pk: `drill-alert#${arn}`,
        sentAt: NOW.toISOString(),
        ttl: NOW.getTime() / 1000 + 7 * 24 * 3600,
      },
    });
    expect(sent.map((n) => n.severity)).toEqual(['critical']);
    expect(rds).toHaveReceivedCommandWith(DeleteDBInstanceCommand, {
      DBInstanceIdentifier: 'steward-drill-orders-db-1a2b3c4d',
    });
  });
});
