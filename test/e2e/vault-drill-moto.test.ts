import {
  DescribeDBSnapshotsCommand,
  type RDSClient,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { snapshotId } from '../../shared/backup/ids.js';
import { parseConfig } from '../../shared/config/schema.js';
import type { DrillState } from '../../shared/drill/state.js';
import { vaultCopyId } from '../../shared/fleet/vault.js';
import { Tag, tagRecord } from '../../shared/tags.js';
import { useMotoEnvironment } from '../support/moto.js';
import {
  backedUpRds,
  clusterSharedWith,
  DRILL_EXECUTION as EXECUTION,
  drillLeftovers,
  HUB,
  hubVaultDeps,
  intoVault,
  quietMetrics,
  rdsSharedWith,
  rdsVaultDrillMoto,
  SHARED_COPY_MOTO,
  VAULT,
  type vaultDrill,
} from '../support/vault-moto.js';

// A drill from the backup vault of an RDS instance and an Aurora cluster, end to end over real HTTP against moto
// with the hub and the vault account: the hub's snapshots are copied into the vault by the backup's own flow (the
// vault copy role, reached through STS AssumeRole), then the drill, through the real adapters, lists the vault's
// copies and shares one with the hub as the vault drill role, copies the shared instance copy into the hub (RDS
// restores no instance from a shared encrypted snapshot) and restores that copy, restores the shared cluster copy
// by its ARN, and cleans up: the restored database, the drill's copy, the share. moto 5.2.1 neither copies nor
// restores another account's shared snapshot: test/support/moto-shared-copy.py adds exactly that, only while the
// owner shares it. moto makes copies and restores available at once and checks no key policy; the verification
// (a PostgreSQL login) is not run here (the drill's checks run against real PostgreSQL in the local sandbox).
// The hub is moto's default account: the hub's own credentials.
const REGION = 'eu-west-1';
const AT = new Date('2026-01-31T03:00:00Z');
const profile = { database: 'app' };

const config = parseConfig(
  {
    stage: 'e2e',
    account: HUB,
    region: REGION,
    fleet: { externalId: 'steward-e2e-fleet', vault: { account: VAULT, retention: 'standard' } },
    drill: {
      enabled: true,
      targets: {
        'orders-db': { kind: 'rds-instance', from: 'vault', profile, rpoSeconds: 86_400 * 400 },
        ledger: { kind: 'aurora-cluster', from: 'vault', profile, rpoSeconds: 86_400 * 400 },
      },
    },
  },
  'e2e',
);

describe('a drill from the backup vault (RDS and Aurora), against moto with the hub and the vault account', () => {
  const endpoint = useMotoEnvironment(REGION, { script: SHARED_COPY_MOTO });
  quietMetrics();
  let hub: RDSClient;
  let vault: RDSClient;
  let task: ReturnType<typeof vaultDrill>['task'];
  let restore: ReturnType<typeof vaultDrill>['restore'];
  const instanceCopy = vaultCopyId(HUB, snapshotId('orders-db', AT, 'sched'));
  const clusterCopy = vaultCopyId(HUB, snapshotId('ledger', AT, 'sched'));
  const instanceShare = () => rdsSharedWith(vault, instanceCopy);
  const clusterShare = () => clusterSharedWith(vault, clusterCopy);
  const drillInstances = () => drillLeftovers(hub).instances();
  const drillClusters = () => drillLeftovers(hub).clusters();
  const drillCopies = () => drillLeftovers(hub).copies();

  beforeAll(async () => {
    let roles: Awaited<ReturnType<typeof rdsVaultDrillMoto>>['roles'];
    ({ roles, hub, vault, task, restore } = await rdsVaultDrillMoto(config, REGION, endpoint()));

    // The hub's own encrypted instance and Aurora cluster, and steward's snapshots of both.
    await backedUpRds(hub, REGION, AT);

    // Into the vault with the backup's own flow.
    await intoVault(
      hubVaultDeps(config, REGION, roles),
      new Date('2026-01-31T04:00:00Z'),
      new Date('2026-01-31T05:00:00Z'),
    );
  });

  it('the vault holds both copies, shared with no one, and the hub cannot restore one it is not shared', async () => {
    expect(await instanceShare()).toEqual([]);
    expect(await clusterShare()).toEqual([]);
    await expect(
      hub.send(
        new RestoreDBInstanceFromDBSnapshotCommand({
          DBInstanceIdentifier: 'by-hand',
          DBSnapshotIdentifier: `arn:aws:rds:${REGION}:${VAULT}:snapshot:${instanceCopy}`,
        }),
      ),
    ).rejects.toMatchObject({ name: 'DBSnapshotNotFoundFault' });
  });

  it('an instance: shares the vault copy, copies it into the hub, restores that copy, then deletes both and unshares', async () => {
    // Act
    const { selected, restored } = await restore('orders-db');
    const duringShare = await instanceShare();
    const duringCopies = await drillCopies();
    const duringInstances = await drillInstances();
    const duringCopy = (
      await hub.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: restored.target!.id }))
    ).DBSnapshots?.[0];
    const available = await task('status', restored);
    const cleaned = await task('cleanup', available);

    // Assert: the vault's copy of the hub's database, dated by the source's data time.
    expect(selected.source?.vault).toMatchObject({ account: VAULT, copyId: instanceCopy, encrypted: true });
    // (moto dates the hub's snapshot by its real creation time; the vault copy carries it as steward:data-time)
    const [source] = (
      await hub.send(
        new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId('orders-db', AT, 'sched') }),
      )
    ).DBSnapshots!;
    expect(selected.source?.referenceTime).toBe(source!.SnapshotCreateTime!.toISOString());
    // While restored: shared with the hub only, the drill's own copy and the restored instance in the hub.
    expect(duringShare).toEqual([HUB]);
    expect(duringCopies).toEqual([restored.target!.id]);
    expect(duringInstances).toEqual([restored.target!.id]);
    expect(tagRecord(duringCopy?.TagList)).toMatchObject({
      [Tag.drill]: EXECUTION.name,
      [Tag.managed]: 'true',
    });
    expect((available as DrillState).available).toBe(true);
    // After: nothing of the drill is left, and the vault's copy is shared with no one.
    expect(cleaned.cleanup?.status).toBe('deleted');
    expect(await drillInstances()).toEqual([]);
    expect(await drillCopies()).toEqual([]);
    expect(await instanceShare()).toEqual([]);
  });

  it('an Aurora cluster: restores the shared vault copy by its ARN, then deletes the cluster and unshares', async () => {
    // Act
    const { selected, restored } = await restore('ledger');
    const duringShare = await clusterShare();
    const duringClusters = await drillClusters();
    const cleaned = await task('cleanup', restored);

    // Assert
    expect(selected.source?.vault).toMatchObject({ account: VAULT, copyId: clusterCopy });
    expect(duringShare).toEqual([HUB]);
    expect(duringClusters).toEqual([restored.target!.id]);
    expect(cleaned.cleanup?.status).toBe('deleted');
    expect(await drillClusters()).toEqual([]);
    expect(await clusterShare()).toEqual([]);
    // Unshared, the copy restores no more in the hub.
    await expect(
      hub.send(
        new RestoreDBClusterFromSnapshotCommand({
          DBClusterIdentifier: 'by-hand',
          Engine: 'aurora-postgresql',
          SnapshotIdentifier: `arn:aws:rds:${REGION}:${VAULT}:cluster-snapshot:${clusterCopy}`,
        }),
      ),
    ).rejects.toMatchObject({ name: 'DBClusterSnapshotNotFoundFault' });
  });
});
