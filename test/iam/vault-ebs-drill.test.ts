import { describe, expect, it } from 'vitest';
import { VAULT_EBS_DRILL_CONFIG } from '../support/fleet.js';
import {
  expectWorkloadRefused,
  fromOrg,
  HUB,
  onVaultKey,
  REGION,
  sharedWithHub,
  useVaultDrill,
  VAULT,
  VAULT_COPY_TAGS,
  WORKLOAD,
} from './fleet-deployment.js';
import { requestTags, resourceTags } from './requests.js';
import { simulate } from './simulate.js';
import type { RoleUnderTest } from './template.js';

// EBS drills from the vault, simulated: the vault drill role may add and remove the hub account (and no other,
// never a group) on the create-volume permission of steward's tagged vault EBS copies, and can neither copy,
// delete nor re-tag one; the hub drill role creates its volumes only from tagged vault copies shared with it and
// uses the vault key through EC2 only; no workload account principal can share or delete a vault copy.
const d = useVaultDrill(VAULT_EBS_DRILL_CONFIG, 'vault-ebs-drill');

type Context = Record<string, string | string[]>;
// An EBS snapshot's ARN names no account; the simulation says whose it is (the vault's).
const part = `arn:aws:ec2:${REGION}::snapshot/snap-0f0vault00000001`;
const copyTags = VAULT_COPY_TAGS;
const tagged = resourceTags(part, copyTags);

const inVault = (
  role: Pick<RoleUnderTest, 'arn' | 'policy'>,
  action: string,
  context: Context,
  account = VAULT,
) =>
  simulate(
    role.arn,
    role.policy,
    { action, resource: part, context, label: action, resourceAccount: VAULT },
    account,
    REGION,
  );

describe('the vault drill role, for EBS sets', () => {
  it('is assumed by the hub drill role with the organization and external id', async () => {
    // Prepare
    const drill = d.hubRoles.get('drill')!;

    // Act
    const v = await simulate(
      drill.arn,
      drill.policy,
      {
        action: 'sts:AssumeRole',
        resource: d.drillRole.arn,
        context: fromOrg,
        resourcePolicy: d.drillRole.trust,
        label: 'AssumeRole vault drill',
      },
      HUB,
      REGION,
    );

    // Assert
    expect(v.decision).toBe('Allowed');
  });

  it('adds and removes the hub account on a steward vault copy, and lists the vault’s snapshots', async () => {
    // Act
    const add = await inVault(d.drillRole, 'ec2:ModifySnapshotAttribute', {
      ...tagged,
      'ec2:Add/userId': HUB,
    });
    const remove = await inVault(d.drillRole, 'ec2:ModifySnapshotAttribute', {
      ...tagged,
      'ec2:Remove/userId': HUB,
    });
    const list = await simulate(
      d.drillRole.arn,
      d.drillRole.policy,
      { action: 'ec2:DescribeSnapshots', resource: '*', context: {}, label: 'list' },
      VAULT,
      REGION,
    );

    // Assert
    expect(add.decision).toBe('Allowed');
    expect(remove.decision).toBe('Allowed');
    expect(list.decision).toBe('Allowed');
  });

  it('reads who may create volumes from a steward vault copy (before a drill shares it), and not from another snapshot', async () => {
    const copy = await inVault(d.drillRole, 'ec2:DescribeSnapshotAttribute', tagged);
    const other = await inVault(
      d.drillRole,
      'ec2:DescribeSnapshotAttribute',
      resourceTags(part, { 'steward:managed': 'true' }),
    );
    expect(copy.decision).toBe('Allowed');
    expect(other.decision).toBe('ImplicitlyDenied');
  });

  it.each<[string, Context]>([
    ['another account', { ...tagged, 'ec2:Add/userId': WORKLOAD }],
    ['the public (a group)', { ...tagged, 'ec2:Add/userId': HUB, 'ec2:Add/group': 'all' }],
    [
      'a snapshot steward did not copy into the vault',
      { ...resourceTags(part, { 'steward:managed': 'true' }), 'ec2:Add/userId': HUB },
    ],
    ['an untagged snapshot', { 'ec2:Add/userId': HUB }],
  ])('may not share with %s', async (_what, context) => {
    const v = await inVault(d.drillRole, 'ec2:ModifySnapshotAttribute', context);
    expect(v.decision).toBe('ImplicitlyDenied');
  });

  it.each(['ec2:CopySnapshot', 'ec2:DeleteSnapshot', 'ec2:CreateTags', 'ec2:DeleteTags'])(
    'may never %s a vault EBS copy (explicit deny)',
    async (action) => {
      const v = await inVault(d.drillRole, action, { ...tagged, ...requestTags(copyTags) });
      expect(v.decision).toBe('ExplicitlyDenied');
    },
  );
});

describe('the hub drill role, for EBS sets from the vault', () => {
  // The vault's part, shared with the hub account (its create-volume permission, modelled as a resource policy).
  const shared = sharedWithHub('ec2:CreateVolume', part);
  const createFrom = (context: Context) => {
    const drill = d.hubRoles.get('drill')!;
    return simulate(
      drill.arn,
      drill.policy,
      {
        action: 'ec2:CreateVolume',
        resource: part,
        context,
        resourcePolicy: shared,
        resourceAccount: VAULT,
        label: 'CreateVolume from a vault part',
      },
      HUB,
      REGION,
    );
  };

  it('creates a volume from a shared steward vault copy, and not from an untagged one', async () => {
    expect((await createFrom(tagged)).decision).toBe('Allowed');
    expect((await createFrom({})).decision).toBe('ImplicitlyDenied');
  });

  const viaEc2 = { 'kms:ViaService': `ec2.${REGION}.amazonaws.com` };
  const onKey = (role: RoleUnderTest, action: string, context: Record<string, string>) =>
    onVaultKey(d, role, action, context);

  it('uses the vault key through EC2 only, and only for what a volume from a shared snapshot needs', async () => {
    // Prepare
    const drill = d.hubRoles.get('drill')!;

    // Act
    const decrypt = await onKey(drill, 'kms:Decrypt', viaEc2);
    const reencrypt = await onKey(drill, 'kms:ReEncryptFrom', viaEc2);
    const grant = await onKey(drill, 'kms:CreateGrant', { ...viaEc2, 'kms:GrantIsForAWSResource': 'true' });
    const direct = await onKey(drill, 'kms:Decrypt', {});
    const viaRds = await onKey(drill, 'kms:Decrypt', { 'kms:ViaService': `rds.${REGION}.amazonaws.com` });
    const encrypt = await onKey(drill, 'kms:Encrypt', viaEc2);

    // Assert
    expect(decrypt.decision).toBe('Allowed');
    expect(reencrypt.decision).toBe('Allowed');
    expect(grant.decision).toBe('Allowed');
    expect(direct.decision).not.toBe('Allowed');
    expect(viaRds.decision).not.toBe('Allowed');
    expect(encrypt.decision).not.toBe('Allowed');
  });

  it('gives the hub backup role nothing of the vault key through EC2', async () => {
    const v = await onKey(d.hubRoles.get('backup')!, 'kms:Decrypt', viaEc2);
    expect(v.decision).not.toBe('Allowed');
  });
});

describe('a workload account, after a compromise', () => {
  it.each(['ec2:ModifySnapshotAttribute', 'ec2:DeleteSnapshot'])(
    'cannot %s a vault EBS copy, even with a role allowed everything',
    async (action) => {
      const ctx = { ...tagged, 'ec2:Add/userId': WORKLOAD };
      await expectWorkloadRefused(d.workloadBackup, (p) => inVault(p, action, ctx, WORKLOAD));
    },
  );
});
