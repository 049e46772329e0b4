import {
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  ModifySnapshotAttributeCommand,
  type Snapshot as Ec2Snapshot,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { withEbsVaultSets } from '../../../shared/aws/ebs-vault-drill.js';
import type { VaultDrillPort } from '../../../shared/drill/ports.js';
import { AwsCallError } from '../../../shared/errors.js';

// The EBS half of the vault drill role's side (shared/aws/ebs-vault-drill.ts) with EC2 mocked: the exact
// listing (the vault's own snapshots of one source and account, every page) and the create-volume permission
// of one part for the drill account; RDS kinds still go to the RDS half.
const REGION = 'eu-west-1';
const HUB = '111111111111';
const SPOKE = '222222222222';
const VAULT = '999999999999';
const SOURCE = 'i-0abc1234def567890';
const meta = { $metadata: {} };
const ec2 = mockClient(EC2Client);

const rdsCalls: string[] = [];
const rdsSide: VaultDrillPort = {
  account: VAULT,
  region: REGION,
  copies: async () => [],
  share: async (c, to) => (rdsCalls.push(`share ${c.kind} ${c.id} ${to}`), 'done'),
  unshare: async (c, to) => (rdsCalls.push(`unshare ${c.kind} ${c.id} ${to}`), 'done'),
  sharedWith: async (c, to) => (rdsCalls.push(`shared? ${c.kind} ${c.id} ${to}`), false),
};
const port = () => withEbsVaultSets(rdsSide, new EC2Client({ region: REGION }));

const part = (
  id: string,
  volume: string,
  set = 'steward-i-0abc-202602010300-sched-1a2b3c4d',
): Ec2Snapshot => ({
  SnapshotId: id,
  OwnerId: VAULT,
  VolumeId: 'vol-ffffffff',
  State: 'completed',
  StartTime: new Date('2026-02-01T03:20:00Z'),
  Encrypted: true,
  Description: `steward ${set} copy of snap-0src`,
  Tags: [
    { Key: 'steward:set', Value: set },
    { Key: 'steward:set-size', Value: '2' },
    { Key: 'steward:volume', Value: volume },
    { Key: 'steward:source', Value: SOURCE },
    { Key: 'steward:managed', Value: 'true' },
    { Key: 'steward:created-by', Value: 'vault' },
    { Key: 'steward:vault', Value: 'true' },
    {
      Key: 'steward:copied-from',
      Value: `arn:aws:ec2:${REGION}:${SPOKE}:snapshot-set/steward-i-0abc-202602010300-sched`,
    },
    { Key: 'steward:taken-at', Value: '2026-02-01T03:00:00.000Z' },
    { Key: 'steward:source-account', Value: SPOKE },
    { Key: 'steward:source-region', Value: REGION },
  ],
});

beforeEach(() => {
  ec2.reset();
  rdsCalls.length = 0;
});
afterAll(() => ec2.restore());

describe('withEbsVaultSets (mocked EC2)', () => {
  it('lists the vault’s own copies of one source from one account, every page, grouped into sets dated by the source', async () => {
    // Prepare: two pages, one part each
    ec2
      .on(DescribeSnapshotsCommand)
      .resolvesOnce({ ...meta, Snapshots: [part('snap-0f01', 'vol-0root')], NextToken: 'p2' })
      .resolvesOnce({ ...meta, Snapshots: [part('snap-0f02', 'vol-0data')] });

    // Act
    const sets = await port().sets!(SOURCE, SPOKE);

    // Assert
    const calls = ec2.commandCalls(DescribeSnapshotsCommand);
    expect(calls).toHaveLength(2);
    // The paginator sends one input object, NextToken added for the next page: compared by its fields.
    expect(calls[0]!.args[0].input).toMatchObject({
      OwnerIds: ['self'],
      Filters: [
        { Name: 'tag-key', Values: ['steward:set'] },
        { Name: 'tag:steward:vault', Values: ['true'] },
        { Name: 'tag:steward:source', Values: [SOURCE] },
        { Name: 'tag:steward:source-account', Values: [SPOKE] },
      ],
      MaxResults: 1000,
    });
    expect(calls[1]!.args[0].input).toMatchObject({ NextToken: 'p2' });
    expect(sets).toHaveLength(1);
    expect(sets[0]).toMatchObject({
      kind: 'ebs',
      id: 'steward-i-0abc-202602010300-sched-1a2b3c4d',
      sourceId: SOURCE,
      status: 'available',
      createdAt: '2026-02-01T03:00:00.000Z',
    });
    expect(sets[0]!.parts!.map((p) => [p.id, p.volumeId])).toEqual([
      ['snap-0f01', 'vol-0root'],
      ['snap-0f02', 'vol-0data'],
    ]);
  });

  it('adds the drill account to one part’s create-volume permission, and removes it', async () => {
    // Prepare
    ec2.on(ModifySnapshotAttributeCommand).resolves(meta);

    // Act
    const shared = await port().share({ kind: 'ebs', id: 'snap-0f01' }, HUB);
    const unshared = await port().unshare({ kind: 'ebs', id: 'snap-0f01' }, HUB);

    // Assert
    expect(ec2.commandCalls(ModifySnapshotAttributeCommand).map((c) => c.args[0].input)).toEqual([
      { SnapshotId: 'snap-0f01', Attribute: 'createVolumePermission', OperationType: 'add', UserIds: [HUB] },
      {
        SnapshotId: 'snap-0f01',
        Attribute: 'createVolumePermission',
        OperationType: 'remove',
        UserIds: [HUB],
      },
    ]);
    expect([shared, unshared]).toEqual(['done', 'done']);
    expect(rdsCalls).toEqual([]);
  });

  it('answers gone for a part the vault no longer has, and names the part and vault when refused', async () => {
    // Prepare
    ec2
      .on(ModifySnapshotAttributeCommand)
      .rejectsOnce(Object.assign(new Error('not found'), { name: 'InvalidSnapshot.NotFound' }))
      .rejectsOnce(Object.assign(new Error('denied'), { name: 'UnauthorizedOperation' }));

    // Act
    const gone = await port().unshare({ kind: 'ebs', id: 'snap-0f01' }, HUB);
    const refused = await port()
      .share({ kind: 'ebs', id: 'snap-0f02' }, HUB)
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );

    // Assert
    expect(gone).toBe('gone');
    expect(refused).toBeInstanceOf(AwsCallError);
    expect(refused?.message).toContain(
      `vault ebs copy snap-0f02 in vault ${VAULT} ${REGION} (share with drill account ${HUB})`,
    );
  });

  it('reads whether one part’s create-volume permission names the drill account already (gone: no)', async () => {
    // Prepare
    ec2
      .on(DescribeSnapshotAttributeCommand, { SnapshotId: 'snap-0f01' })
      .resolves({ ...meta, CreateVolumePermissions: [{ UserId: SPOKE }, { UserId: HUB }] })
      .on(DescribeSnapshotAttributeCommand, { SnapshotId: 'snap-0f02' })
      .resolves({ ...meta, CreateVolumePermissions: [{ Group: 'all' }, { UserId: SPOKE }] })
      .on(DescribeSnapshotAttributeCommand, { SnapshotId: 'snap-0f03' })
      .rejects(Object.assign(new Error('not found'), { name: 'InvalidSnapshot.NotFound' }));

    // Act
    const answers = await Promise.all(
      ['snap-0f01', 'snap-0f02', 'snap-0f03'].map((id) => port().sharedWith({ kind: 'ebs', id }, HUB)),
    );

    // Assert
    expect(answers).toEqual([true, false, false]);
    expect(ec2).toHaveReceivedCommandWith(DescribeSnapshotAttributeCommand, {
      SnapshotId: 'snap-0f01',
      Attribute: 'createVolumePermission',
    });
    expect(rdsCalls).toEqual([]);
  });

  it('hands RDS and Aurora copies to the RDS half untouched', async () => {
    // Act
    await port().share({ kind: 'rds-instance', id: 'steward-orders-db-1' }, HUB);
    await port().unshare({ kind: 'aurora-cluster', id: 'steward-ledger-1' }, HUB);

    // Assert
    expect(rdsCalls).toEqual([
      `share rds-instance steward-orders-db-1 ${HUB}`,
      `unshare aurora-cluster steward-ledger-1 ${HUB}`,
    ]);
    expect(ec2.commandCalls(ModifySnapshotAttributeCommand)).toHaveLength(0);
  });
});
