import {
  DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  ModifySnapshotAttributeCommand,
} from '@aws-sdk/client-ec2';
import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../../functions/drill/handler.js';
import { ec2Client } from '../../../shared/aws/clients/ec2.js';
import type { JanitorResult } from '../../../shared/drill/janitor.js';
import type { DrillState } from '../../../shared/drill/state.js';
import {
  drillEnv,
  drillTask,
  selectedWith,
  vaultDrillStage,
  wiredDrill,
} from '../../support/drill-wiring.js';
import { assumedRole, mockShareRecords } from '../../support/fleet-mocks.js';

// EBS drills from the backup vault through the drill function's real adapters (handler wire(), SDK clients
// mocked): the vault's sets listed and each part shared by the vault drill role (its own client, assumed with
// the fleet's external id), each share recorded in the state table before it is made, the volumes created by the
// drill role from the shared parts re-encrypted with the hub's key, and the cleanup's deletes before its unshares.
const REGION = 'eu-west-1';
const HUB = '111111111111';
const SPOKE = '222222222222';
const VAULT = '999999999999';
const INSTANCE = 'i-0abc1234def567890';
const NOW = new Date('2026-02-01T05:00:05Z');
const config = vaultDrillStage(HUB, REGION, VAULT, {
  targets: [{}, { account: SPOKE }],
  backup: { policies: { instances: { kinds: ['ebs'] } } },
  drill: { enabled: true, volumes: { [INSTANCE]: { from: 'vault', account: SPOKE } } },
});
const env = drillEnv({ DRILL_EBS_AZ: 'eu-west-1b' }, HUB, REGION);
const deps = (raw: Record<string, string | undefined> = { VAULT_PARTITION: 'aws' }) =>
  wiredDrill(config, env, NOW, raw);
const task = drillTask;

const ec2 = mockClient(EC2Client);
const sts = mockClient(STSClient);
const doc = mockClient(DynamoDBDocumentClient);
const rds = mockClient(RDSClient);

const SET = 'steward-i-0abc1234def567890-202602010300-sched-1a2b3c4d';
const PARTS = ['snap-0f0000000000000a1', 'snap-0f0000000000000a2'];
const part = (id: string, volume: string, account = SPOKE) => ({
  SnapshotId: id,
  OwnerId: VAULT,
  VolumeId: 'vol-ffffffff',
  State: 'completed' as const,
  StartTime: new Date('2026-02-01T03:40:00Z'),
  Encrypted: true,
  Description: `steward ${account === SPOKE ? SET : `${SET}-other`} copy of snap-0src`,
  Tags: [
    { Key: 'steward:set', Value: account === SPOKE ? SET : `${SET}-other` },
    { Key: 'steward:set-size', Value: '2' },
    { Key: 'steward:volume', Value: volume },
    { Key: 'steward:source', Value: INSTANCE },
    { Key: 'steward:managed', Value: 'true' },
    { Key: 'steward:created-by', Value: 'vault' },
    { Key: 'steward:vault', Value: 'true' },
    { Key: 'steward:copied-from', Value: `arn:aws:ec2:${REGION}:${account}:snapshot-set/steward-x` },
    { Key: 'steward:taken-at', Value: '2026-02-01T03:00:00.000Z' },
    { Key: 'steward:source-account', Value: account },
    { Key: 'steward:source-region', Value: REGION },
  ],
});

/** Every call that changes something, in order, across the clients. */
let order: string[];
let volumes: Map<string, { tags: { Key: string; Value: string }[] }>;

beforeEach(() => {
  for (const m of [ec2, sts, doc, rds]) m.reset();
  // The janitor's RDS listings: no drill database or drill copy.
  rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
  rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });
  rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
  order = [];
  volumes = new Map();
  sts.on(AssumeRoleCommand).resolves(assumedRole('VAULTDRILL'));
  // The state table's share records (a cleanup takes back only the shares its drill recorded).
  const ledger = mockShareRecords(doc);
  ec2
    .on(DescribeSnapshotsCommand)
    .resolves({ Snapshots: [part(PARTS[0]!, 'vol-0root'), part(PARTS[1]!, 'vol-0data')] });
  ec2.on(ModifySnapshotAttributeCommand).callsFake((i: { SnapshotId: string; OperationType: string }) => {
    order.push(`${i.OperationType} ${i.SnapshotId}`);
    return {};
  });
  doc.on(UpdateCommand).callsFake((i: UpdateCommandInput) => {
    order.push(`${i.UpdateExpression!.split(' ')[0]} ${i.ExpressionAttributeNames!['#s']}`);
    return ledger.apply(i);
  });
  ec2
    .on(CreateVolumeCommand)
    .callsFake(
      (i: { SnapshotId: string; TagSpecifications: { Tags: { Key: string; Value: string }[] }[] }) => {
        const id = `vol-0drill${volumes.size + 1}`;
        volumes.set(id, { tags: i.TagSpecifications[0]!.Tags });
        order.push(`create ${i.SnapshotId}`);
        return { VolumeId: id, State: 'creating', SnapshotId: i.SnapshotId };
      },
    );
  ec2.on(DescribeVolumesCommand).callsFake((i: { VolumeIds?: string[] }) => ({
    Volumes: [...volumes.entries()]
      .filter(([id]) => !i.VolumeIds || i.VolumeIds.includes(id))
      .map(([id, v]) => ({ VolumeId: id, State: 'available', Tags: v.tags, CreateTime: NOW })),
  }));
  ec2.on(DeleteVolumeCommand).callsFake((i: { VolumeId: string }) => {
    volumes.delete(i.VolumeId);
    order.push(`delete ${i.VolumeId}`);
    return {};
  });
});

const selected = () => selectedWith(deps)(INSTANCE);

/** The client that sent the first `command`. */
const clientOf = (command: new (...a: never[]) => object) =>
  ec2.calls().find((x) => x.args[0] instanceof command)!.thisValue as EC2Client;

describe('an EBS drill from the backup vault, through the real adapters', () => {
  it('lists the vault’s copies of the spoke instance’s sets with the vault drill role’s own client', async () => {
    // Act
    const s = await selected();

    // Assert: a client of its own (the vault drill role's credentials, assumed lazily: the mocked client never
    // signs, so no AssumeRole is sent here; the role and external id are simulated in test/iam/vault-ebs-drill.test.ts)
    expect(clientOf(DescribeSnapshotsCommand)).not.toBe(ec2Client(REGION));
    expect(ec2).toHaveReceivedCommandWith(DescribeSnapshotsCommand, {
      OwnerIds: ['self'],
      Filters: expect.arrayContaining([
        { Name: `tag:steward:source-account`, Values: [SPOKE] },
        { Name: `tag:steward:source`, Values: [INSTANCE] },
      ]),
    });
    expect(s.source).toMatchObject({ snapshotId: SET, referenceTime: '2026-02-01T03:00:00.000Z' });
    expect(s.ebs?.set.members.map((m) => m.snapshotId)).toEqual(PARTS);
    expect(s.ebs?.settings.availabilityZone).toBe('eu-west-1b');
  });

  it('records then shares each part as the vault drill role, and creates the volumes as the drill role, re-encrypted', async () => {
    // Prepare
    const s = await selected();

    // Act
    await run(task('restore', s), deps());

    // Assert
    const record = (p: string) => `SET share#monthly-2026-02#ebs#${p}`;
    expect(order).toEqual([
      record(PARTS[0]!),
      `add ${PARTS[0]}`,
      record(PARTS[1]!),
      `add ${PARTS[1]}`,
      `create ${PARTS[0]}`,
      `create ${PARTS[1]}`,
    ]);
    expect(ec2).toHaveReceivedCommandWith(ModifySnapshotAttributeCommand, {
      SnapshotId: PARTS[0],
      Attribute: 'createVolumePermission',
      OperationType: 'add',
      UserIds: [HUB],
    });
    expect(ec2).toHaveReceivedCommandWith(CreateVolumeCommand, {
      SnapshotId: PARTS[0],
      AvailabilityZone: 'eu-west-1b',
      Encrypted: true,
      TagSpecifications: [
        {
          ResourceType: 'volume',
          Tags: expect.arrayContaining([{ Key: 'steward:drill', Value: 'monthly-2026-02' }]),
        },
      ],
    });
    expect(ec2.commandCalls(CreateVolumeCommand)[0]!.args[0].input.KmsKeyId).toBeUndefined();
    // The share signs as the vault drill role (its own client), the volumes as the drill role.
    expect(clientOf(ModifySnapshotAttributeCommand)).toBe(clientOf(DescribeSnapshotsCommand));
    expect(clientOf(ModifySnapshotAttributeCommand)).not.toBe(clientOf(CreateVolumeCommand));
  });

  it('cleans up: the volumes first, then each share taken back and forgotten', async () => {
    // Prepare
    const restored = (await run(task('restore', await selected()), deps())) as DrillState;
    const available = (await run(task('status', restored), deps())) as DrillState;
    order = [];

    // Act
    const cleaned = (await run(task('cleanup', available), deps())) as DrillState;

    // Assert
    expect(order.slice(0, 2).sort()).toEqual(['delete vol-0drill1', 'delete vol-0drill2']);
    expect(order.slice(2)).toEqual([
      `remove ${PARTS[0]}`,
      `remove ${PARTS[1]}`,
      `REMOVE share#monthly-2026-02#ebs#${PARTS[0]}`,
      `REMOVE share#monthly-2026-02#ebs#${PARTS[1]}`,
    ]);
    expect(cleaned.cleanup?.status).toBe('deleted');
  });

  it('the janitor unshares a part an old drill recorded, as the vault drill role', async () => {
    // Prepare: one share recorded 9 hours ago by a drill that died
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [] });
    doc.on(GetCommand).resolves({
      Item: {
        pk: `drill-vault-shares#${VAULT}#${REGION}`,
        [`share#dead-drill#ebs#${PARTS[0]}`]: {
          kind: 'ebs',
          copyId: PARTS[0],
          drillId: 'dead-drill',
          vaultAccount: VAULT,
          region: REGION,
          sharedAt: '2026-01-31T20:00:00.000Z',
        },
      },
    });

    // Act
    const r = (await run({ action: 'janitor' }, deps()).catch((e: unknown) => e)) as JanitorResult;

    // Assert
    expect(ec2).toHaveReceivedCommandWith(ModifySnapshotAttributeCommand, {
      SnapshotId: PARTS[0],
      OperationType: 'remove',
      UserIds: [HUB],
    });
    expect(order).toContain(`REMOVE share#dead-drill#ebs#${PARTS[0]}`);
    expect(r.outcomes?.map((o) => [o.action, o.status])).toContainEqual(['unshare', 'done']);
  });

  it('has no vault side outside the deployed function: a drill from the vault fails at select, naming why', async () => {
    // Act
    const started = (await run(task('start', { database: INSTANCE }), deps({}))) as DrillState;
    const failed = await run(task('select', started), deps({})).catch((e: unknown) => e as Error);

    // Assert
    expect((failed as Error).message).toContain(`drill.volumes.${INSTANCE}.from: vault`);
    expect(sts).not.toHaveReceivedCommand(AssumeRoleCommand);
  });
});
