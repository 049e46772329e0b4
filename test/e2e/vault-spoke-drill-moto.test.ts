import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { snapshotId } from '../../shared/backup/ids.js';
import type { VaultDeps } from '../../shared/backup/vault.js';
import { vaultCopyId } from '../../shared/fleet/vault.js';
import { useMotoEnvironment } from '../support/moto.js';
import {
  backedUpRds,
  clusterSharedWith,
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
  vaultStage,
  WORKLOAD,
  workloadVaultDeps,
} from '../support/vault-moto.js';

// A drill of a workload (spoke) account's RDS instance and Aurora cluster from the backup vault, end to end over
// real HTTP against moto with three accounts: the hub, a workload account and the vault. Both the hub and the
// workload account have an `orders-db` (the hub's backed up later, so its vault copy is newer); each account's
// snapshots are copied into the vault by the backup's own flow (the workload's through STS AssumeRole into its
// spoke role), then the hub's drill, configured with `account: <workload>`, picks the workload's copy, shares it
// with the hub only, copies and restores it (the cluster copy by its ARN) and cleans up, leaving the hub's copy
// untouched. moto partitions resources by the account of the assumed role's credentials; it checks no policy
// and makes copies and restores available at once (test/support/moto-shared-copy.py: shared copies/restores).
// The hub is moto's default account: the hub's own credentials.
const REGION = 'eu-west-1';
const SPOKE_AT = new Date('2026-01-31T03:00:00Z');
const HUB_AT = new Date('2026-01-31T22:00:00Z');
const profile = { database: 'app' };

const config = vaultStage(REGION, {
  drill: {
    enabled: true,
    targets: {
      'orders-db': {
        kind: 'rds-instance',
        from: 'vault',
        account: WORKLOAD,
        profile,
        rpoSeconds: 86_400 * 400,
      },
      ledger: { kind: 'aurora-cluster', from: 'vault', account: WORKLOAD, profile, rpoSeconds: 86_400 * 400 },
    },
  },
});

describe("a drill of a workload account's RDS instance and Aurora cluster from the backup vault, against moto with three accounts", () => {
  const endpoint = useMotoEnvironment(REGION, { script: SHARED_COPY_MOTO });
  quietMetrics();
  let hub: RDSClient;
  let vault: RDSClient;
  let task: ReturnType<typeof vaultDrill>['task'];
  let restore: ReturnType<typeof vaultDrill>['restore'];
  const spokeCopy = vaultCopyId(WORKLOAD, snapshotId('orders-db', SPOKE_AT, 'sched'));
  const hubCopy = vaultCopyId(HUB, snapshotId('orders-db', HUB_AT, 'sched'));
  const spokeClusterCopy = vaultCopyId(WORKLOAD, snapshotId('ledger', SPOKE_AT, 'sched'));
  const instanceShare = (id: string) => rdsSharedWith(vault, id);
  const clusterShare = () => clusterSharedWith(vault, spokeClusterCopy);
  const drillInstances = () => drillLeftovers(hub).instances();
  const drillClusters = () => drillLeftovers(hub).clusters();
  const drillCopies = () => drillLeftovers(hub).copies();

  /** Into the vault with the backup's own flow: share, copy (as the vault copy role), then unshare. */
  const toVault = (backup: VaultDeps) =>
    intoVault(backup, new Date('2026-01-31T23:00:00Z'), new Date('2026-01-31T23:30:00Z'));

  beforeAll(async () => {
    let roles: Awaited<ReturnType<typeof rdsVaultDrillMoto>>['roles'];
    ({ roles, hub, vault, task, restore } = await rdsVaultDrillMoto(config, REGION, endpoint()));

    // The workload's encrypted orders-db and ledger cluster, then the hub's orders-db (backed up later).
    await backedUpRds(new RDSClient({ region: REGION, credentials: roles.workload }), REGION, SPOKE_AT);
    await toVault(workloadVaultDeps(config, REGION, roles));
    await backedUpRds(hub, REGION, HUB_AT, false);
    await toVault(hubVaultDeps(config, REGION, roles));
  });

  it("the vault holds both accounts' copies of orders-db, shared with no one", async () => {
    const listed = (
      (await vault.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }))).DBSnapshots ?? []
    )
      .map((s) => s.DBSnapshotIdentifier!)
      .sort();
    expect(listed).toEqual([hubCopy, spokeCopy].sort());
    expect(await instanceShare(spokeCopy)).toEqual([]);
    expect(await instanceShare(hubCopy)).toEqual([]);
  });

  it("an instance: picks the workload's copy over the hub's newer one, shares it with the hub only, restores it, and leaves nothing", async () => {
    // Act
    const { selected, restored } = await restore('orders-db');
    const duringShare = await instanceShare(spokeCopy);
    const duringHubShare = await instanceShare(hubCopy);
    const duringCopies = await drillCopies();
    const available = await task('status', restored);
    const duringInstances = await drillInstances();
    const cleaned = await task('cleanup', available);

    // Assert
    expect(selected.source?.vault).toMatchObject({
      account: VAULT,
      copyId: spokeCopy,
      sourceAccount: WORKLOAD,
      encrypted: true,
    });
    expect(duringShare).toEqual([HUB]);
    expect(duringHubShare).toEqual([]);
    expect(duringCopies).toEqual([restored.target!.id]);
    expect(duringInstances).toEqual([restored.target!.id]);
    // The hub's own orders-db was not read for the shape: the configured (default) class.
    expect(restored.shape).toMatchObject({ instanceClassFrom: 'default' });
    expect(cleaned.cleanup?.status).toBe('deleted');
    expect(await drillInstances()).toEqual([]);
    expect(await drillCopies()).toEqual([]);
    expect(await instanceShare(spokeCopy)).toEqual([]);
  });

  it("an Aurora cluster: restores the workload's shared vault copy by its ARN, then deletes it and unshares", async () => {
    // Act
    const { selected, restored } = await restore('ledger');
    const duringShare = await clusterShare();
    const duringClusters = await drillClusters();
    const cleaned = await task('cleanup', restored);

    // Assert
    expect(selected.source?.vault).toMatchObject({ copyId: spokeClusterCopy, sourceAccount: WORKLOAD });
    expect(duringShare).toEqual([HUB]);
    expect(duringClusters).toEqual([restored.target!.id]);
    expect(cleaned.cleanup?.status).toBe('deleted');
    expect(await drillClusters()).toEqual([]);
    expect(await clusterShare()).toEqual([]);
  });
});
