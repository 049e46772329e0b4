import {
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  DBSnapshotAlreadyExistsFault,
  DBSnapshotNotFoundFault,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  KMSKeyNotAccessibleFault,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
  RDSServiceException,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { rdsVaultShares, rdsVaultStore } from '../../../shared/aws/vault.js';
import { AwsCallError } from '../../../shared/errors.js';

const rds = mockClient(RDSClient);
const REGION = 'eu-west-1';
const VAULT = '999999999999';
const SOURCE_ARN = 'arn:aws:rds:eu-west-1:222222222222:snapshot:steward-orders-db-202601150300-sched';
const KEY = 'alias/steward-prod-vault';
const meta = { $metadata: {} };

beforeEach(() => {
  rds.reset();
});

describe('rdsVaultShares', () => {
  const shares = () => rdsVaultShares(REGION, new RDSClient({ region: REGION }));

  it.each([
    ['share', 'ValuesToAdd'],
    ['unshare', 'ValuesToRemove'],
  ] as const)('%ss a DB snapshot with the vault account through the restore attribute', async (op, key) => {
    // Prepare
    rds.on(ModifyDBSnapshotAttributeCommand).resolves(meta);
    // Act
    const r = await shares()[op]({ kind: 'rds-instance', id: 'steward-orders-db-202601150300-sched' }, VAULT);
    // Assert
    expect(r).toBe('done');
    expect(rds).toHaveReceivedCommandWith(ModifyDBSnapshotAttributeCommand, {
      DBSnapshotIdentifier: 'steward-orders-db-202601150300-sched',
      AttributeName: 'restore',
      [key]: [VAULT],
    });
  });

  it('shares an Aurora cluster snapshot through ModifyDBClusterSnapshotAttribute', async () => {
    rds.on(ModifyDBClusterSnapshotAttributeCommand).resolves(meta);
    await shares().share({ kind: 'aurora-cluster', id: 'steward-billing-202601150300-sched' }, VAULT);
    expect(rds).toHaveReceivedCommandWith(ModifyDBClusterSnapshotAttributeCommand, {
      DBClusterSnapshotIdentifier: 'steward-billing-202601150300-sched',
      AttributeName: 'restore',
      ValuesToAdd: [VAULT],
    });
    expect(rds).not.toHaveReceivedCommand(ModifyDBSnapshotAttributeCommand);
  });

  it('answers gone for a snapshot that is no longer there', async () => {
    rds
      .on(ModifyDBSnapshotAttributeCommand)
      .rejects(new DBSnapshotNotFoundFault({ message: 'no', $metadata: {} }));
    expect(await shares().unshare({ kind: 'rds-instance', id: 'steward-x-202601150300-sched' }, VAULT)).toBe(
      'gone',
    );
  });

  it('answers default-key for a snapshot encrypted with the AWS-managed key, which cannot be shared', async () => {
    // Prepare
    rds.on(ModifyDBSnapshotAttributeCommand).rejects(
      new RDSServiceException({
        name: 'InvalidParameterValue',
        $fault: 'client',
        $metadata: {},
        message: 'Cannot share a snapshot encrypted with the default KMS key',
      }),
    );
    // Act
    const r = await shares().share({ kind: 'rds-instance', id: 'steward-x-202601150300-sched' }, VAULT);
    // Assert
    expect(r).toBe('default-key');
  });

  it('still fails any other refusal of the share', async () => {
    rds
      .on(ModifyDBSnapshotAttributeCommand)
      .rejects(new RDSServiceException({ name: 'AccessDenied', $fault: 'client', ...meta, message: 'no' }));
    await expect(
      shares().share({ kind: 'rds-instance', id: 'steward-x-202601150300-sched' }, VAULT),
    ).rejects.toThrow(AwsCallError);
  });

  it.each([
    ['rds-instance', CopyDBSnapshotCommand, 'SourceDBSnapshotIdentifier', 'TargetDBSnapshotIdentifier'],
    [
      'aurora-cluster',
      CopyDBClusterSnapshotCommand,
      'SourceDBClusterSnapshotIdentifier',
      'TargetDBClusterSnapshotIdentifier',
    ],
  ] as const)(
    're-encrypts a %s snapshot in its own region with the share key and explicit tags',
    async (kind, anyCommand, source, target) => {
      // Prepare: one mock for both commands (their inputs differ only in the names under test).
      const command = anyCommand as typeof CopyDBSnapshotCommand;
      rds.on(command).resolves(meta);
      // Act
      const r = await shares().reencrypt({
        kind,
        sourceId: 'steward-x-202601150300-sched',
        targetId: 'steward-x-202601150300-sched-vx-0abc123',
        kmsKeyId: 'alias/steward-prod-vault-share',
        tags: { 'steward:managed': 'true' },
      });
      // Assert: by id (same account), no CopyTags, the key re-encrypts.
      expect(r).toBe('started');
      expect(rds).toHaveReceivedCommandWith(command, {
        [source as 'SourceDBSnapshotIdentifier']: 'steward-x-202601150300-sched',
        [target as 'TargetDBSnapshotIdentifier']: 'steward-x-202601150300-sched-vx-0abc123',
        KmsKeyId: 'alias/steward-prod-vault-share',
        Tags: [{ Key: 'steward:managed', Value: 'true' }],
      });
      expect(rds.call(0).args[0].input).not.toHaveProperty('CopyTags');
    },
  );

  it('counts a re-encrypted copy already there as done, and deletes one that is gone as gone', async () => {
    rds.on(CopyDBSnapshotCommand).rejects(new DBSnapshotAlreadyExistsFault({ message: 'exists', ...meta }));
    rds.on(DeleteDBSnapshotCommand).rejects(new DBSnapshotNotFoundFault({ message: 'no', ...meta }));
    const s = shares();
    expect(
      await s.reencrypt({
        kind: 'rds-instance',
        sourceId: 'steward-x-202601150300-sched',
        targetId: 'steward-x-vx',
        kmsKeyId: 'k',
        tags: {},
      }),
    ).toBe('already-done');
    expect(await s.remove({ kind: 'rds-instance', id: 'steward-x-vx' })).toBe('already-gone');
    expect(rds).toHaveReceivedCommandWith(DeleteDBSnapshotCommand, { DBSnapshotIdentifier: 'steward-x-vx' });
  });

  it('deletes a re-encrypted cluster snapshot copy', async () => {
    rds.on(DeleteDBClusterSnapshotCommand).resolves(meta);
    expect(await shares().remove({ kind: 'aurora-cluster', id: 'steward-y-vx' })).toBe('deleted');
    expect(rds).toHaveReceivedCommandWith(DeleteDBClusterSnapshotCommand, {
      DBClusterSnapshotIdentifier: 'steward-y-vx',
    });
  });

  it('refuses ElastiCache: it has no cross-account copy', async () => {
    await expect(shares().share({ kind: 'elasticache', id: 'steward-c' }, VAULT)).rejects.toThrow(TypeError);
  });
});

describe('rdsVaultStore', () => {
  const store = () => rdsVaultStore(REGION, new RDSClient({ region: REGION }));

  it('copies a shared DB snapshot by ARN with the vault key and explicit tags, no CopyTags', async () => {
    rds.on(CopyDBSnapshotCommand).resolves(meta);
    const r = await store().copy({
      kind: 'rds-instance',
      sourceArn: SOURCE_ARN,
      targetId: 'steward-orders-db-202601150300-sched-1abc2de',
      kmsKeyId: KEY,
      encrypted: true,
      tags: { 'steward:vault': 'true', 'steward:managed': 'true' },
    });
    expect(r).toBe('started');
    expect(rds).toHaveReceivedCommandWith(CopyDBSnapshotCommand, {
      SourceDBSnapshotIdentifier: SOURCE_ARN,
      TargetDBSnapshotIdentifier: 'steward-orders-db-202601150300-sched-1abc2de',
      KmsKeyId: KEY,
      Tags: [
        { Key: 'steward:managed', Value: 'true' },
        { Key: 'steward:vault', Value: 'true' },
      ],
    });
    expect(rds.commandCalls(CopyDBSnapshotCommand)[0]!.args[0].input.CopyTags).toBeUndefined();
  });

  it('copies an unencrypted cluster snapshot without a key (a copy cannot encrypt one)', async () => {
    rds.on(CopyDBClusterSnapshotCommand).resolves(meta);
    await store().copy({
      kind: 'aurora-cluster',
      sourceArn: SOURCE_ARN.replace(':snapshot:', ':cluster-snapshot:'),
      targetId: 't',
      kmsKeyId: KEY,
      encrypted: false,
      tags: {},
    });
    expect(rds.commandCalls(CopyDBClusterSnapshotCommand)[0]!.args[0].input.KmsKeyId).toBeUndefined();
  });

  it('counts a copy that already exists as done (a retry)', async () => {
    rds
      .on(CopyDBSnapshotCommand)
      .rejects(new DBSnapshotAlreadyExistsFault({ message: 'exists', $metadata: {} }));
    const r = await store().copy({
      kind: 'rds-instance',
      sourceArn: SOURCE_ARN,
      targetId: 't',
      kmsKeyId: KEY,
      tags: {},
    });
    expect(r).toBe('already-done');
  });

  it('names both keys when KMS refuses the copy', async () => {
    rds.on(CopyDBSnapshotCommand).rejects(new KMSKeyNotAccessibleFault({ message: 'denied', $metadata: {} }));
    const e = await store()
      .copy({ kind: 'rds-instance', sourceArn: SOURCE_ARN, targetId: 't', kmsKeyId: KEY, tags: {} })
      .catch((x: unknown) => x);
    expect(String((e as Error).message)).toMatch(
      /vault key alias\/steward-prod-vault.*source snapshot's key/,
    );
  });

  it('lists the snapshots shared with the vault (IncludeShared), every page of both kinds', async () => {
    // Prepare: two pages of DB snapshots, one of cluster snapshots.
    rds
      .on(DescribeDBSnapshotsCommand, { SnapshotType: 'shared', IncludeShared: true })
      .resolvesOnce({
        DBSnapshots: [{ DBSnapshotIdentifier: SOURCE_ARN, DBSnapshotArn: SOURCE_ARN, Status: 'available' }],
        Marker: 'm1',
      })
      .resolvesOnce({
        DBSnapshots: [{ DBSnapshotIdentifier: 'b', DBSnapshotArn: 'arn-b', Status: 'available' }],
      });
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({
      DBClusterSnapshots: [{ DBClusterSnapshotIdentifier: 'c', DBClusterSnapshotArn: 'arn-c' }],
    });
    // Act
    const shared = await store().shared();
    // Assert
    expect(shared.map((s) => s.arn)).toEqual([SOURCE_ARN, 'arn-b', 'arn-c']);
    expect(rds).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, {
      SnapshotType: 'shared',
      IncludeShared: true,
      Marker: 'm1',
    });
    expect(rds).toHaveReceivedCommandWith(DescribeDBClusterSnapshotsCommand, {
      SnapshotType: 'shared',
      IncludeShared: true,
    });
  });

  it("lists the vault's own manual snapshots", async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
    await store().copies();
    expect(rds).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, { SnapshotType: 'manual' });
    expect(rds.commandCalls(DescribeDBSnapshotsCommand)[0]!.args[0].input.IncludeShared).toBeUndefined();
  });
});
