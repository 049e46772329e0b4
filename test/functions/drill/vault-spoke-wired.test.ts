import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  CopyDBSnapshotCommand,
  DeleteDBInstanceCommand,
  DeleteDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../../functions/drill/handler.js';
import { drillNotification, drillReport, drillVerdict } from '../../../shared/drill/report.js';
import type { DrillState } from '../../../shared/drill/state.js';
import {
  drillEnv,
  drillTask,
  fakeVaultRds,
  rdsVaultCopyTags,
  restoreShare,
  selectedWith,
  vaultCopies,
  vaultDrillStage,
  type VaultRdsFake,
  wiredDrill,
} from '../../support/drill-wiring.js';
import { assumedRole, mockShareRecords } from '../../support/fleet-mocks.js';

// RDS and Aurora drills of a target (spoke) account's databases from the backup vault, through the drill
// function's real adapters (handler wire(), SDK clients mocked): the copy picked is the newest of that account's
// database only (the hub has a same-named database, and a third account too), shared with the hub, restored,
// cleaned up and unshared as for the hub's own; the report and the message name the account.
const REGION = 'eu-west-1';
const HUB = '111111111111';
const SPOKE = '222222222222';
const OTHER = '333333333333';
const VAULT = '999999999999';
const NOW = new Date('2026-02-01T05:00:05Z');
const profile = { database: 'app' };
const config = vaultDrillStage(HUB, REGION, VAULT, {
  targets: [{}, { account: SPOKE }],
  drill: {
    enabled: true,
    targets: {
      'orders-db': { from: 'vault', account: SPOKE, profile, rpoSeconds: 86_400 },
      ledger: { kind: 'aurora-cluster', from: 'vault', account: SPOKE, profile, rpoSeconds: 86_400 },
    },
  },
});
const env = drillEnv({}, HUB, REGION);
const deps = () => wiredDrill(config, env, NOW, { VAULT_PARTITION: 'aws' });
const task = drillTask;

const rds = mockClient(RDSClient);
const sts = mockClient(STSClient);
const doc = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);

const vaultTags = (db: string, account: string, dataTime: string) =>
  rdsVaultCopyTags(db, account, REGION, dataTime);
const vaultArn = (type: string, id: string) => `arn:aws:rds:${REGION}:${VAULT}:${type}:${id}`;
// The spoke's newest copy; the hub's and a third account's same-named database have newer ones.
const SPOKE_COPY = 'steward-orders-db-202601310300-sched-2b2b2b2b';
const HUB_COPY = 'steward-orders-db-202601312200-sched-1a1a1a1a';
const OTHER_COPY = 'steward-orders-db-202601312300-sched-3c3c3c3c';
const SPOKE_CLUSTER_COPY = 'steward-ledger-202601310300-sched-2e2e2e2e';

let fake: VaultRdsFake;

beforeEach(() => {
  for (const m of [rds, sts, doc, s3]) m.reset();
  sts.on(AssumeRoleCommand).resolves(assumedRole('VAULTDRILL'));
  const copies = vaultCopies(VAULT, REGION);
  const snapshot = (id: string, account: string, dataTime: string, at: string) =>
    copies.instance('orders-db', id, vaultTags('orders-db', account, dataTime), at);
  fake = fakeVaultRds(rds, 'orders-db', {
    // Two pages: the spoke's copies on the second.
    copies: (marker) =>
      marker
        ? {
            DBSnapshots: [
              snapshot(
                'steward-orders-db-202601300300-sched-2a2a2a2a',
                SPOKE,
                '2026-01-30T03:00:00Z',
                '2026-01-30T04:00:00Z',
              ),
              snapshot(SPOKE_COPY, SPOKE, '2026-01-31T03:00:00Z', '2026-01-31T04:00:00Z'),
            ],
          }
        : {
            DBSnapshots: [
              snapshot(HUB_COPY, HUB, '2026-01-31T22:00:00Z', '2026-01-31T22:30:00Z'),
              snapshot(OTHER_COPY, OTHER, '2026-01-31T23:00:00Z', '2026-01-31T23:30:00Z'),
            ],
            Marker: 'page-2',
          },
    clusterCopies: [SPOKE_CLUSTER_COPY, 'steward-ledger-202601312200-sched-1e1e1e1e'].map((id, i) =>
      copies.cluster(
        'ledger',
        id,
        vaultTags('ledger', i === 0 ? SPOKE : HUB, `2026-01-31T${i === 0 ? '03' : '22'}:00:00Z`),
      ),
    ),
    // The hub's own orders-db: another database than the spoke's, on a large class.
    instances: {
      'orders-db': {
        DBInstanceIdentifier: 'orders-db',
        DBInstanceClass: 'db.r6g.4xlarge',
        StorageType: 'io2',
      },
    },
  });
  doc.on(PutCommand).resolves({});
  // The state table's share records (a cleanup takes back only the shares its drill recorded).
  mockShareRecords(doc);
  s3.on(GetObjectCommand).rejects(Object.assign(new Error('no such key'), { name: 'NoSuchKey' }));
});

const selected = selectedWith(deps);
const share = (id: string, add: boolean) => restoreShare(id, HUB, add);

describe("a drill of a target account's database from the backup vault, through the real adapters", () => {
  it("picks the newest copy of the spoke's database over every page, never the hub's or another account's newer one", async () => {
    // Act
    const s = await selected('orders-db');

    // Assert
    expect(s.source).toMatchObject({
      snapshotId: SPOKE_COPY,
      referenceTime: '2026-01-31T03:00:00.000Z',
      vault: {
        account: VAULT,
        region: REGION,
        copyId: SPOKE_COPY,
        copyArn: vaultArn('snapshot', SPOKE_COPY),
        sourceAccount: SPOKE,
        encrypted: true,
      },
    });
    expect(rds).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, { Marker: 'page-2' });
  });

  it('shares the spoke copy with the hub only, copies and restores it on the configured class, never reading the hub database of the same name', async () => {
    // Prepare
    const s = await selected('orders-db');

    // Act
    const copying = (await run(task('restore', s), deps())) as DrillState;
    fake.staged = 'available';
    const restoring = (await run(task('status', copying), deps())) as DrillState;

    // Assert
    expect(rds).toHaveReceivedCommandTimes(ModifyDBSnapshotAttributeCommand, 1);
    expect(rds).toHaveReceivedCommandWith(ModifyDBSnapshotAttributeCommand, share(SPOKE_COPY, true));
    expect(rds).toHaveReceivedCommandWith(CopyDBSnapshotCommand, {
      SourceDBSnapshotIdentifier: vaultArn('snapshot', SPOKE_COPY),
      TargetDBSnapshotIdentifier: copying.target!.id,
      KmsKeyId: 'alias/aws/rds',
    });
    expect(rds).not.toHaveReceivedCommandWith(DescribeDBInstancesCommand, {
      DBInstanceIdentifier: 'orders-db',
    });
    expect(copying.shape).toMatchObject({ instanceClass: 'db.t4g.micro', instanceClassFrom: 'default' });
    expect(rds).toHaveReceivedCommandWith(RestoreDBInstanceFromDBSnapshotCommand, {
      DBInstanceIdentifier: copying.target!.id,
      DBSnapshotIdentifier: copying.target!.id,
      DBInstanceClass: 'db.t4g.micro',
      PubliclyAccessible: false,
    });
    expect(restoring.available).toBe(true);
  });

  it("restores the spoke's Aurora copy by its ARN, not the hub's newer one", async () => {
    // Prepare
    const s = await selected('ledger');

    // Act
    await run(task('restore', s), deps());

    // Assert
    expect(s.source?.vault).toMatchObject({ copyId: SPOKE_CLUSTER_COPY, sourceAccount: SPOKE });
    expect(rds).toHaveReceivedCommandWith(ModifyDBClusterSnapshotAttributeCommand, {
      DBClusterSnapshotIdentifier: SPOKE_CLUSTER_COPY,
      ValuesToAdd: [HUB],
    });
    expect(rds).toHaveReceivedCommandWith(RestoreDBClusterFromSnapshotCommand, {
      SnapshotIdentifier: vaultArn('cluster-snapshot', SPOKE_CLUSTER_COPY),
      Engine: 'aurora-postgresql',
    });
  });

  it('cleans up the restored instance and the drill copy and unshares; the report and the message name the spoke account', async () => {
    // Prepare
    const s = await selected('orders-db');
    const copying = (await run(task('restore', s), deps())) as DrillState;
    fake.staged = 'available';
    const restored = (await run(task('status', copying), deps())) as DrillState;

    // Act
    const cleaned = (await run(task('cleanup', restored), deps())) as DrillState;

    // Assert
    expect(rds).toHaveReceivedCommandWith(DeleteDBInstanceCommand, {
      DBInstanceIdentifier: restored.target!.id,
    });
    expect(rds).toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: restored.target!.id,
    });
    expect(rds).toHaveReceivedCommandWith(ModifyDBSnapshotAttributeCommand, share(SPOKE_COPY, false));
    const final = { ...cleaned, error: { Error: 'VerificationError', Cause: 'stopped for the test' } };
    expect(drillReport(final, { account: HUB, region: REGION }).source?.vault).toMatchObject({
      sourceAccount: SPOKE,
      copyId: SPOKE_COPY,
    });
    const lines = drillNotification(
      final,
      drillVerdict(final),
      'k',
      { status: 'none' },
      24,
      'rds-instance:x:drill',
    ).lines;
    expect(lines).toContain(
      `Source:    orders-db, snapshot ${SPOKE_COPY} (the copy in vault ${VAULT} ${REGION} of account ${SPOKE}'s database)`,
    );
  });
});
