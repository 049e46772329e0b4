import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  CopyDBSnapshotCommand,
  DeleteDBInstanceCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClustersCommand,
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
import type { JanitorResult } from '../../../shared/drill/janitor.js';
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

// Drills from the backup vault through the drill function's real adapters (handler wire(), SDK clients
// mocked): which copy is picked, the share by the vault drill role, the drill's own copy of an instance copy,
// the restore, and a cleanup that always deletes that copy and unshares, on every failure path.
const REGION = 'eu-west-1';
const HUB = '111111111111';
const VAULT = '999999999999';
const NOW = new Date('2026-02-01T05:00:05Z');
const profile = { database: 'app' };
const config = vaultDrillStage(HUB, REGION, VAULT, {
  drill: {
    enabled: true,
    targets: {
      'orders-db': { kind: 'rds-instance', from: 'vault', profile, rpoSeconds: 86_400 },
      ledger: { kind: 'aurora-cluster', from: 'vault', profile, rpoSeconds: 86_400 },
    },
  },
});
const env = drillEnv({}, HUB, REGION);
const deps = (raw: Record<string, string | undefined> = { VAULT_PARTITION: 'aws' }) =>
  wiredDrill(config, env, NOW, raw);
const task = drillTask;

const rds = mockClient(RDSClient);
const sts = mockClient(STSClient);
const doc = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);

const vaultTags = (db: string, account = HUB, dataTime = '2026-01-31T03:00:00Z') =>
  rdsVaultCopyTags(db, account, REGION, dataTime);
const vaultArn = (type: string, id: string) => `arn:aws:rds:${REGION}:${VAULT}:${type}:${id}`;
const NEWEST = 'steward-orders-db-202601310300-sched-1a2b3c4d';

let fake: VaultRdsFake;
/** The state table item of the vault's shares, and one drill's share of the newest instance copy in it. */
const SHARES_KEY = `drill-vault-shares#${VAULT}#${REGION}`;
const shareKey = (drillId: string) => `share#${drillId}#rds-instance#${NEWEST}`;
/** This drill's share of the newest instance copy, recorded in the state table as its restore records it. */
const recordShare = () =>
  ledger.apply({
    TableName: 'steward-prod-state',
    Key: { pk: SHARES_KEY },
    UpdateExpression: 'SET #s = if_not_exists(#s, :s)',
    ExpressionAttributeNames: { '#s': shareKey('monthly-2026-02') },
    ExpressionAttributeValues: {
      ':s': {
        kind: 'rds-instance',
        copyId: NEWEST,
        drillId: 'monthly-2026-02',
        vaultAccount: VAULT,
        region: REGION,
        sharedAt: '2026-02-01T05:00:00.000Z',
      },
    },
  });

let ledger: ReturnType<typeof mockShareRecords>;

beforeEach(() => {
  for (const m of [rds, sts, doc, s3]) m.reset();
  sts.on(AssumeRoleCommand).resolves(assumedRole('VAULTDRILL'));
  // The state table's share records (a cleanup takes back only the shares its drill recorded).
  ledger = mockShareRecords(doc);
  const copies = vaultCopies(VAULT, REGION);
  const snapshot = (id: string, tags: { Key: string; Value: string }[], at: string) =>
    copies.instance('orders-db', id, tags, at);
  fake = fakeVaultRds(rds, 'orders-db', {
    copies: () => ({
      DBSnapshots: [
        snapshot(
          'steward-orders-db-202601300300-sched-0a0b0c0d',
          vaultTags('orders-db', HUB, '2026-01-30T03:00:00Z'),
          '2026-01-30T04:00:00Z',
        ),
        snapshot(NEWEST, vaultTags('orders-db'), '2026-01-31T04:00:00Z'),
        // Newer, but another account's database of the same name, and a snapshot the vault did not make.
        snapshot(
          'steward-orders-db-202601312300-sched-9f9f9f9f',
          vaultTags('orders-db', '222222222222', '2026-01-31T23:00:00Z'),
          '2026-01-31T23:30:00Z',
        ),
        snapshot('orders-db-by-hand', [], '2026-02-01T01:00:00Z'),
      ],
    }),
    clusterCopies: [
      copies.cluster('ledger', 'steward-ledger-202601310300-sched-5e6f7a8b', vaultTags('ledger')),
    ],
  });
  doc.on(PutCommand).resolves({});
  s3.on(GetObjectCommand).rejects(Object.assign(new Error('no such key'), { name: 'NoSuchKey' }));
});

const selected = selectedWith(deps);
const shareOf = (add: boolean) => restoreShare(NEWEST, HUB, add);

/** The client that sent the first `command`. */
const clientOf = (command: object) =>
  rds.calls().find((x) => x.args[0] instanceof (command as new () => object))!.thisValue as RDSClient;

describe('a drill from the backup vault, through the real adapters', () => {
  it("picks the newest vault copy of this account's database, by its data time, as the vault drill role", async () => {
    // Act
    const s = await selected('orders-db');

    // Assert: another account's copy and a hand-made snapshot are not candidates.
    expect(s.source).toMatchObject({
      snapshotId: NEWEST,
      referenceTime: '2026-01-31T03:00:00.000Z',
      vault: {
        account: VAULT,
        region: REGION,
        copyId: NEWEST,
        copyArn: vaultArn('snapshot', NEWEST),
        encrypted: true,
      },
    });
    expect(rds).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, {
      Filters: [{ Name: 'db-instance-id', Values: ['orders-db'] }],
      SnapshotType: 'manual',
    });
  });

  it('shares the instance copy, copies it into this account with its own key, and restores that copy once available', async () => {
    // Prepare
    const s = await selected('orders-db');

    // Act
    const copying = (await run(task('restore', s), deps())) as DrillState;
    fake.staged = 'available';
    const restoring = (await run(task('status', copying), deps())) as DrillState;

    // Assert
    expect(rds).toHaveReceivedCommandWith(ModifyDBSnapshotAttributeCommand, shareOf(true));
    // The share signs as the vault drill role (its own client, assumed lazily), the copy as the drill role.
    expect(clientOf(ModifyDBSnapshotAttributeCommand)).not.toBe(clientOf(CopyDBSnapshotCommand));
    expect(rds).toHaveReceivedCommandWith(CopyDBSnapshotCommand, {
      SourceDBSnapshotIdentifier: vaultArn('snapshot', NEWEST),
      TargetDBSnapshotIdentifier: copying.target!.id,
      KmsKeyId: 'alias/aws/rds',
      Tags: expect.arrayContaining([{ Key: 'steward:drill', Value: 'monthly-2026-02' }]),
    });
    expect(copying.target).toMatchObject({ staged: copying.target!.id, status: 'copying (creating)' });
    expect(rds).toHaveReceivedCommandTimes(RestoreDBInstanceFromDBSnapshotCommand, 1);
    expect(rds).toHaveReceivedCommandWith(RestoreDBInstanceFromDBSnapshotCommand, {
      DBInstanceIdentifier: copying.target!.id,
      DBSnapshotIdentifier: copying.target!.id,
      DBSubnetGroupName: 'steward-prod-drill',
      PubliclyAccessible: false,
    });
    expect(restoring.target?.staged).toBeUndefined();
    expect(restoring.available).toBe(true);
  });

  it('restores an Aurora copy directly by its ARN into a key of this account, with the engine the vault listed', async () => {
    // Prepare
    const s = await selected('ledger');

    // Act
    await run(task('restore', s), deps());

    // Assert
    const arn = vaultArn('cluster-snapshot', 'steward-ledger-202601310300-sched-5e6f7a8b');
    expect(rds).toHaveReceivedCommandWith(ModifyDBClusterSnapshotAttributeCommand, {
      DBClusterSnapshotIdentifier: 'steward-ledger-202601310300-sched-5e6f7a8b',
      ValuesToAdd: [HUB],
    });
    expect(rds).toHaveReceivedCommandWith(RestoreDBClusterFromSnapshotCommand, {
      SnapshotIdentifier: arn,
      KmsKeyId: 'alias/aws/rds',
      Engine: 'aurora-postgresql',
      EngineVersion: '16.4',
    });
    expect(rds).not.toHaveReceivedCommand(CopyDBSnapshotCommand);
  });

  it('cleans up after a passed drill: the restored instance, the drill copy, and the share', async () => {
    // Prepare
    const s = await selected('orders-db');
    const copying = (await run(task('restore', s), deps())) as DrillState;
    fake.staged = 'available';
    const restored = (await run(task('status', copying), deps())) as DrillState;

    // Act
    await run(task('cleanup', restored), deps());

    // Assert
    expect(rds).toHaveReceivedCommandWith(DeleteDBInstanceCommand, {
      DBInstanceIdentifier: restored.target!.id,
    });
    expect(rds).toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: restored.target!.id,
    });
    expect(rds).toHaveReceivedCommandWith(ModifyDBSnapshotAttributeCommand, shareOf(false));
  });

  it.each([
    [
      'the vault refuses the share',
      () =>
        rds
          .on(ModifyDBSnapshotAttributeCommand, shareOf(true))
          .rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' })),
      false,
    ],
    [
      'the copy is refused',
      () =>
        rds
          .on(CopyDBSnapshotCommand)
          .rejects(Object.assign(new Error('key'), { name: 'KMSKeyNotAccessibleFault' })),
      false,
    ],
    [
      'the copy fails',
      () => rds.on(CopyDBSnapshotCommand).callsFake(() => ((fake.staged = 'failed'), {})),
      true,
    ],
  ])(
    'when %s, the restore fails and cleanup still unshares and deletes what exists',
    async (_, fail, copied) => {
      // Prepare
      const s = await selected('orders-db');
      fail();

      // Act
      const restore = run(task('restore', s), deps());
      await expect(restore).rejects.toThrow();
      await run(task('cleanup', { ...s, error: { Error: 'AwsCallError' } }), deps());

      // Assert
      expect(rds).not.toHaveReceivedCommand(RestoreDBInstanceFromDBSnapshotCommand);
      expect(rds).toHaveReceivedCommandWith(ModifyDBSnapshotAttributeCommand, shareOf(false));
      if (copied)
        expect(rds).toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
          DBSnapshotIdentifier: expect.stringMatching(/^steward-drill-orders-db-/),
        });
      else expect(rds).not.toHaveReceivedCommand(DeleteDBSnapshotCommand);
    },
  );

  it('when the restore of the drill copy fails, cleanup deletes the copy and unshares', async () => {
    // Prepare
    const s = await selected('orders-db');
    // The drill shared the vault copy (recorded) and made its own copy of it in an earlier restore attempt.
    recordShare();
    fake.staged = 'available';
    rds.on(CopyDBSnapshotCommand).resolves({});
    rds
      .on(RestoreDBInstanceFromDBSnapshotCommand)
      .rejects(Object.assign(new Error('quota'), { name: 'InstanceQuotaExceeded' }));

    // Act
    await expect(run(task('restore', s), deps())).rejects.toThrow(/RestoreDBInstanceFromDBSnapshot/);
    await run(task('cleanup', { ...s, error: { Error: 'AwsCallError' } }), deps());

    // Assert
    expect(rds).toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: expect.stringMatching(/^steward-drill-orders-db-/),
    });
    expect(rds).toHaveReceivedCommandWith(ModifyDBSnapshotAttributeCommand, shareOf(false));
  });

  it('an unshare that fails still deletes the drill copy, and fails the cleanup naming the vault copy', async () => {
    // Prepare
    const s = await selected('orders-db');
    // The drill shared the vault copy (recorded) and made its own copy of it.
    recordShare();
    fake.staged = 'available';
    rds
      .on(ModifyDBSnapshotAttributeCommand, shareOf(false))
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));

    // Act
    const cleanup = run(task('cleanup', s), deps());

    // Assert
    await expect(cleanup).rejects.toThrow(new RegExp(`vault copy ${NEWEST}`));
    expect(rds).toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: expect.stringMatching(/^steward-drill-/),
    });
  });

  it('without the deployed vault wiring, a drill from the vault fails at select, naming the config', async () => {
    // Prepare
    const started = (await run(task('start', { database: 'orders-db' }), deps({}))) as DrillState;

    // Act
    const select = run(task('select', started), deps({}));

    // Assert
    await expect(select).rejects.toThrow(/No backup vault to drill orders-db from/);
    expect(sts).not.toHaveReceivedCommand(AssumeRoleCommand);
  });
});

describe('what drills from the vault leave behind: the share record and the janitor, through the real adapters', () => {
  const DEAD = 'steward-drill-orders-db-0dead0be';

  it('records the share in the state table before making it, and forgets it once unshared', async () => {
    // Prepare: one log of the record, the share, the unshare and the forget, in the order they are sent
    const log: string[] = [];
    doc
      .on(UpdateCommand)
      .callsFake((i: UpdateCommandInput) => (log.push(i.UpdateExpression!), ledger.apply(i)));
    rds
      .on(ModifyDBSnapshotAttributeCommand)
      .callsFake((i: { ValuesToAdd?: string[] }) => (log.push(i.ValuesToAdd ? 'share' : 'unshare'), {}));
    const s = await selected('orders-db');

    // Act
    await run(task('restore', s), deps());
    fake.staged = 'available';
    await run(task('cleanup', s), deps());

    // Assert: recorded before the share is added; forgotten after it is removed (after the drill's own copy,
    // itself recorded before its delete and forgotten once RDS accepted it)
    expect(log).toEqual([
      'SET #s = if_not_exists(#s, :s)',
      'share',
      'SET #s = if_not_exists(#s, :s)',
      'REMOVE #s',
      'unshare',
      'REMOVE #s',
    ]);
    expect(doc).toHaveReceivedNthCommandWith(UpdateCommand, 1, {
      TableName: 'steward-prod-state',
      Key: { pk: SHARES_KEY },
      UpdateExpression: 'SET #s = if_not_exists(#s, :s)',
      ExpressionAttributeNames: { '#s': shareKey('monthly-2026-02') },
      ExpressionAttributeValues: {
        ':s': {
          kind: 'rds-instance',
          copyId: NEWEST,
          drillId: 'monthly-2026-02',
          vaultAccount: VAULT,
          region: REGION,
          sharedAt: NOW.toISOString(),
        },
      },
    });
    expect(doc).toHaveReceivedNthCommandWith(UpdateCommand, 3, {
      Key: { pk: 'drill-copy-deletions' },
      UpdateExpression: 'REMOVE #s',
    });
    expect(doc).toHaveReceivedNthCommandWith(UpdateCommand, 4, {
      Key: { pk: SHARES_KEY },
      UpdateExpression: 'REMOVE #s',
      ExpressionAttributeNames: { '#s': shareKey('monthly-2026-02') },
    });
  });

  it("deletes a dead drill's copy, then unshares its vault copy as the vault drill role and forgets the record", async () => {
    // Prepare: a drill that died yesterday left its copy (two pages of hub snapshots) and its share
    fake.staged = 'available';
    const yesterday = new Date('2026-01-31T12:00:00Z');
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });
    rds
      .on(DescribeDBSnapshotsCommand)
      .callsFake((input: { DBSnapshotIdentifier?: string; Marker?: string }) => {
        if (input.DBSnapshotIdentifier)
          return {
            DBSnapshots: [
              {
                DBSnapshotIdentifier: input.DBSnapshotIdentifier,
                Status: 'available',
                TagList: [{ Key: 'steward:drill', Value: 'monthly-2026-01' }],
              },
            ],
          };
        return input.Marker
          ? {
              DBSnapshots: [
                {
                  DBSnapshotIdentifier: DEAD,
                  SnapshotCreateTime: yesterday,
                  Status: 'available',
                  TagList: [
                    { Key: 'steward:managed', Value: 'true' },
                    { Key: 'steward:drill', Value: 'monthly-2026-01' },
                  ],
                },
                // Not a drill copy: no steward:drill, or not a drill id.
                { DBSnapshotIdentifier: 'steward-drill-by-hand', SnapshotCreateTime: yesterday, TagList: [] },
              ],
            }
          : {
              DBSnapshots: [
                {
                  DBSnapshotIdentifier: 'orders-db-before-upgrade',
                  SnapshotCreateTime: yesterday,
                  TagList: [{ Key: 'steward:drill', Value: 'x' }],
                },
              ],
              Marker: 'page-2',
            };
      });
    doc.on(GetCommand).resolves({
      Item: {
        pk: SHARES_KEY,
        [shareKey('monthly-2026-01')]: {
          kind: 'rds-instance',
          copyId: NEWEST,
          drillId: 'monthly-2026-01',
          vaultAccount: VAULT,
          region: REGION,
          sharedAt: yesterday.toISOString(),
        },
      },
    });
    doc.on(UpdateCommand).resolves({});

    // Act
    const result = (await run({ action: 'janitor' }, deps())) as JanitorResult;

    // Assert
    expect(result.outcomes.map((o) => `${o.action} ${o.resource} ${o.status}`)).toEqual([
      `delete drill-copy ${DEAD} done`,
      `unshare vault copy ${NEWEST} (vault ${VAULT}) done`,
    ]);
    expect(rds).toHaveReceivedCommandWith(DescribeDBSnapshotsCommand, {
      SnapshotType: 'manual',
      Marker: 'page-2',
    });
    expect(rds).toHaveReceivedCommandTimes(DeleteDBSnapshotCommand, 1);
    expect(rds).toHaveReceivedCommandWith(DeleteDBSnapshotCommand, { DBSnapshotIdentifier: DEAD });
    expect(rds).toHaveReceivedCommandWith(ModifyDBSnapshotAttributeCommand, shareOf(false));
    // The unshare signs as the vault drill role (its own client), the copy's deletion as the drill role.
    expect(clientOf(ModifyDBSnapshotAttributeCommand)).not.toBe(clientOf(DeleteDBSnapshotCommand));
    expect(doc).toHaveReceivedCommandWith(GetCommand, { Key: { pk: SHARES_KEY }, ConsistentRead: true });
    expect(doc).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: SHARES_KEY },
      UpdateExpression: 'REMOVE #s',
      ExpressionAttributeNames: { '#s': shareKey('monthly-2026-01') },
    });
  });

  it('in a dry run lists both and changes nothing', async () => {
    // Prepare
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });
    doc.on(GetCommand).resolves({
      Item: {
        pk: SHARES_KEY,
        [shareKey('monthly-2026-01')]: {
          kind: 'rds-instance',
          copyId: NEWEST,
          drillId: 'monthly-2026-01',
          vaultAccount: VAULT,
          region: REGION,
          sharedAt: '2026-01-31T12:00:00.000Z',
        },
      },
    });
    const dry = () => wiredDrill(config, env, NOW, { VAULT_PARTITION: 'aws' }, true);

    // Act
    const result = (await run({ action: 'janitor' }, dry())) as JanitorResult;

    // Assert
    expect(result.outcomes.map((o) => `${o.action} ${o.status}`)).toEqual(['unshare planned']);
    expect(rds).not.toHaveReceivedCommand(ModifyDBSnapshotAttributeCommand);
    expect(doc).not.toHaveReceivedCommand(UpdateCommand);
  });
});
