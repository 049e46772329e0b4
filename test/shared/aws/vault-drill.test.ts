import {
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBSnapshotAttributesCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rdsVaultDrillPort } from '../../../shared/aws/vault-drill.js';

// The RDS half of the vault drill role's side (shared/aws/vault-drill.ts) with RDS mocked: whether a vault copy is
// shared with the drill account already (its `restore` attribute), read before a drill shares it.
const REGION = 'eu-west-1';
const HUB = '111111111111';
const SPOKE = '222222222222';
const VAULT = '999999999999';
const rds = mockClient(RDSClient);
const port = () => rdsVaultDrillPort(REGION, new RDSClient({ region: REGION }), VAULT);

beforeEach(() => rds.reset());

describe('rdsVaultDrillPort.sharedWith', () => {
  it('reads the restore attribute of an instance or cluster copy; another account, `all` or a gone copy is no', async () => {
    // Prepare
    rds
      .on(DescribeDBSnapshotAttributesCommand, { DBSnapshotIdentifier: 'steward-orders-db-1' })
      .resolves({
        DBSnapshotAttributesResult: {
          DBSnapshotAttributes: [{ AttributeName: 'restore', AttributeValues: [SPOKE, HUB] }],
        },
      })
      .on(DescribeDBSnapshotAttributesCommand, { DBSnapshotIdentifier: 'steward-orders-db-2' })
      .resolves({
        DBSnapshotAttributesResult: {
          DBSnapshotAttributes: [{ AttributeName: 'restore', AttributeValues: ['all', SPOKE] }],
        },
      })
      .on(DescribeDBSnapshotAttributesCommand, { DBSnapshotIdentifier: 'steward-orders-db-3' })
      .rejects(Object.assign(new Error('gone'), { name: 'DBSnapshotNotFoundFault' }))
      .on(DescribeDBClusterSnapshotAttributesCommand)
      .resolves({
        DBClusterSnapshotAttributesResult: {
          DBClusterSnapshotAttributes: [{ AttributeName: 'restore', AttributeValues: [HUB] }],
        },
      });

    // Act
    const answers = await Promise.all([
      port().sharedWith({ kind: 'rds-instance', id: 'steward-orders-db-1' }, HUB),
      port().sharedWith({ kind: 'rds-instance', id: 'steward-orders-db-2' }, HUB),
      port().sharedWith({ kind: 'rds-instance', id: 'steward-orders-db-3' }, HUB),
      port().sharedWith({ kind: 'aurora-cluster', id: 'steward-ledger-1' }, HUB),
    ]);

    // Assert
    expect(answers).toEqual([true, false, false, true]);
    expect(rds).toHaveReceivedCommandWith(DescribeDBClusterSnapshotAttributesCommand, {
      DBClusterSnapshotIdentifier: 'steward-ledger-1',
    });
  });
});
