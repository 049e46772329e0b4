import { describe, expect, it } from 'vitest';
import { vaultCopyId } from '../../shared/fleet/vault.js';
import { vaultDrillRoleName } from '../../shared/fleet/vault-drill.js';
import { VAULT_DRILL_CONFIG } from '../support/fleet.js';
import {
  EVERYTHING,
  expectWorkloadRefused,
  fromOrg,
  HUB,
  onVaultKey,
  ORG,
  REGION,
  sharedWithHub,
  useVaultDrill,
  VAULT,
  VAULT_COPY_TAGS,
  WORKLOAD,
} from './fleet-deployment.js';
import { requestTags, resourceTags } from './requests.js';
import { simulate } from './simulate.js';
import type { PolicyDocument, RoleUnderTest } from './template.js';

// Drills from the vault, simulated: the hub's drill role (and only it) assumes the vault drill role, which
// may share only steward's tagged vault copies and can neither copy, delete nor re-tag one; the vault key lets
// the hub drill role use it through RDS only; and no workload account principal can share or delete a copy.
const d = useVaultDrill(VAULT_DRILL_CONFIG, 'vault-drill');

const assumeDrillRole = (
  principal: string,
  policy: PolicyDocument,
  context: Record<string, string>,
  account = HUB,
) =>
  simulate(
    principal,
    policy,
    {
      action: 'sts:AssumeRole',
      resource: `arn:aws:iam::${VAULT}:role/${vaultDrillRoleName('prod', REGION)}`,
      context,
      resourcePolicy: d.drillRole.trust,
      label: 'AssumeRole vault drill',
    },
    account,
    REGION,
  );

const COPY_ID = vaultCopyId(HUB, 'steward-orders-db-202601150300-sched');
const vaultSnapshot = (type = 'snapshot', id = COPY_ID) => `arn:aws:rds:${REGION}:${VAULT}:${type}:${id}`;
const copyTags = VAULT_COPY_TAGS;

const inVault = (
  role: Pick<RoleUnderTest, 'arn' | 'policy'>,
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
  account = VAULT,
) => simulate(role.arn, role.policy, { action, resource, context, label: action }, account, REGION);

describe('the vault drill role', () => {
  it('is assumed by the hub drill role only, from the organization with the external id', async () => {
    // Prepare
    const drill = d.hubRoles.get('drill')!;
    const backup = d.hubRoles.get('backup')!;

    // Act
    const ok = await assumeDrillRole(drill.arn, drill.policy, fromOrg);
    const noId = await assumeDrillRole(drill.arn, drill.policy, { 'aws:PrincipalOrgID': ORG });
    const otherRole = await assumeDrillRole(backup.arn, EVERYTHING, fromOrg);
    const workload = await assumeDrillRole(d.workloadBackup.arn, EVERYTHING, fromOrg, WORKLOAD);

    // Assert
    expect(ok.decision).toBe('Allowed');
    expect(noId.decision).toBe('ImplicitlyDenied');
    expect(otherRole.decision).toBe('ImplicitlyDenied');
    expect(workload.decision).toBe('ImplicitlyDenied');
  });

  it.each([
    ['rds:ModifyDBSnapshotAttribute', 'snapshot'],
    ['rds:ModifyDBClusterSnapshotAttribute', 'cluster-snapshot'],
    // Read before a drill shares the copy: a share made by hand before it is not the drill's to take back.
    ['rds:DescribeDBSnapshotAttributes', 'snapshot'],
    ['rds:DescribeDBClusterSnapshotAttributes', 'cluster-snapshot'],
  ])('may %s on a steward vault copy, and not on an untagged or hand-made snapshot', async (action, type) => {
    // Act
    const copy = await inVault(
      d.drillRole,
      action,
      vaultSnapshot(type),
      resourceTags(vaultSnapshot(type), copyTags),
    );
    const untagged = await inVault(
      d.drillRole,
      action,
      vaultSnapshot(type),
      resourceTags(vaultSnapshot(type), { 'steward:managed': 'true' }),
    );
    const byHand = await inVault(d.drillRole, action, vaultSnapshot(type, 'audit-2026'), {});

    // Assert
    expect(copy.decision).toBe('Allowed');
    expect(untagged.decision).toBe('ImplicitlyDenied');
    expect(byHand.decision).toBe('ImplicitlyDenied');
  });

  it.each([
    'rds:DeleteDBSnapshot',
    'rds:CopyDBSnapshot',
    'rds:RemoveTagsFromResource',
    'rds:AddTagsToResource',
  ])('may never %s a vault copy (explicit deny)', async (action) => {
    const v = await inVault(d.drillRole, action, vaultSnapshot(), {
      ...resourceTags(vaultSnapshot(), copyTags),
      ...requestTags(copyTags),
    });
    expect(v.decision).toBe('ExplicitlyDenied');
  });
});

describe("a workload account's database, drilled from the vault in the hub (drill.targets.<db>.account)", () => {
  // The vault's copies of the workload's databases: the same marks, its own source-account tag and copy ids.
  const workloadCopy = vaultCopyId(WORKLOAD, 'steward-orders-db-202601150300-sched');
  const workloadTags = {
    ...copyTags,
    'steward:source': 'orders-db',
    'steward:source-account': WORKLOAD,
    'steward:source-region': REGION,
  };

  it.each([
    ['rds:ModifyDBSnapshotAttribute', 'snapshot'],
    ['rds:ModifyDBClusterSnapshotAttribute', 'cluster-snapshot'],
  ])('the vault drill role may %s on its copy, as on the hub’s', async (action, type) => {
    const arn = vaultSnapshot(type, workloadCopy);
    const v = await inVault(d.drillRole, action, arn, resourceTags(arn, workloadTags));
    expect(v.decision).toBe('Allowed');
  });

  it('the hub drill role may copy its instance copy and restore its cluster copy while shared, tagged as steward’s', async () => {
    // Prepare
    const drill = d.hubRoles.get('drill')!;
    const managed = requestTags({ 'steward:managed': 'true', 'steward:drill': 'monthly-2026-02' });
    // The vault's share of that copy with the hub, as RDS evaluates it (the restore attribute holds the hub).
    const inHub = (action: string, resource: string, context: Record<string, string | string[]>) =>
      simulate(
        drill.arn,
        drill.policy,
        { action, resource, context, resourcePolicy: sharedWithHub(action, resource), label: action },
        HUB,
        REGION,
      );

    // Act
    const copy = await inHub('rds:CopyDBSnapshot', vaultSnapshot('snapshot', workloadCopy), managed);
    const restore = await inHub(
      'rds:RestoreDBClusterFromSnapshot',
      vaultSnapshot('cluster-snapshot', workloadCopy),
      managed,
    );
    const untaggedRestore = await inHub(
      'rds:RestoreDBClusterFromSnapshot',
      vaultSnapshot('cluster-snapshot', workloadCopy),
      {},
    );
    // The workload's own snapshot, even shared with the hub: drills restore the vault's copies only.
    const fromWorkload = await inHub(
      'rds:RestoreDBClusterFromSnapshot',
      `arn:aws:rds:${REGION}:${WORKLOAD}:cluster-snapshot:steward-ledger-202601150300-sched`,
      managed,
    );

    // Assert
    expect(copy.decision).toBe('Allowed');
    expect(restore.decision).toBe('Allowed');
    expect(untaggedRestore.decision).not.toBe('Allowed');
    expect(fromWorkload.decision).not.toBe('Allowed');
  });
});

describe('the vault key, for drills', () => {
  const viaRds = { 'kms:ViaService': `rds.${REGION}.amazonaws.com` };
  const onKey = (role: RoleUnderTest, action: string, context: Record<string, string>) =>
    onVaultKey(d, role, action, context);

  it('lets the hub drill role use it through RDS only', async () => {
    // Prepare
    const drill = d.hubRoles.get('drill')!;

    // Act
    const decrypt = await onKey(drill, 'kms:Decrypt', viaRds);
    const grant = await onKey(drill, 'kms:CreateGrant', { ...viaRds, 'kms:GrantIsForAWSResource': 'true' });
    const direct = await onKey(drill, 'kms:Decrypt', {});
    const encrypt = await onKey(drill, 'kms:Encrypt', viaRds);

    // Assert
    expect(decrypt.decision).toBe('Allowed');
    expect(grant.decision).toBe('Allowed');
    expect(direct.decision).not.toBe('Allowed');
    expect(encrypt.decision).not.toBe('Allowed');
  });

  it('gives the hub backup role nothing of it', async () => {
    const v = await onKey(d.hubRoles.get('backup')!, 'kms:Decrypt', viaRds);
    expect(v.decision).not.toBe('Allowed');
  });
});

describe('a workload account, after a compromise', () => {
  it.each(['rds:ModifyDBSnapshotAttribute', 'rds:DeleteDBSnapshot'])(
    'cannot %s a vault copy, even with a role allowed everything',
    async (action) => {
      const ctx = resourceTags(vaultSnapshot(), copyTags);
      await expectWorkloadRefused(d.workloadBackup, (p) =>
        inVault(p, action, vaultSnapshot(), ctx, WORKLOAD),
      );
    },
  );
});
