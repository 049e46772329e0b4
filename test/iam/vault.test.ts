import { beforeAll, describe, expect, it } from 'vitest';
import { vaultCopyId, vaultRoleName } from '../../shared/fleet/vault.js';
import { VAULT_CONFIG } from '../support/fleet.js';
import {
  deployFleet,
  EVERYTHING,
  fromOrg,
  HUB,
  ORG,
  REGION,
  roleNamed,
  VAULT,
  WORKLOAD,
} from './fleet-deployment.js';
import { type Context, requestTags, resourceTags } from './requests.js';
import { lintPolicy } from './lint.js';
import { simulate } from './simulate.js';
import type { PolicyDocument, RoleUnderTest } from './template.js';

// The vault's IAM, simulated: the hub's roles assume their vault roles (identity policy in the hub, trust
// in the vault), the vault key's policy lets only the copy role use it, and nothing in a workload account
// can delete or re-share a vault copy.
let hubRoles: Map<string, RoleUnderTest>;
let vaultRoles: Record<'copy' | 'retention', RoleUnderTest>;
let workloadBackup: RoleUnderTest;
let keyPolicy: PolicyDocument;
let keyArn: string;

beforeAll(() => {
  // With a policy that backs EBS up: the vault's EC2 statements are synthesized too.
  const d = deployFleet(
    {
      ...VAULT_CONFIG,
      backup: { policies: { ...VAULT_CONFIG.backup!.policies, hosts: { kinds: ['ebs'] } } },
    },
    'vault',
    { vault: true },
  );
  hubRoles = d.hubRoles;
  vaultRoles = {
    copy: roleNamed(d.vault!.roles, vaultRoleName('prod', 'copy', REGION)),
    retention: roleNamed(d.vault!.roles, vaultRoleName('prod', 'retention', REGION)),
  };
  // The spoke as deployed in the workload account: the role with the widest rights there.
  workloadBackup = roleNamed(d.spokeRoles, `steward-prod-spoke-backup-${REGION}`);
  ({ keyPolicy, keyArn } = d.vault!);
});

const vaultRoleArn = (role: 'copy' | 'retention') =>
  `arn:aws:iam::${VAULT}:role/${vaultRoleName('prod', role, REGION)}`;

const assume = (
  principal: string,
  policy: PolicyDocument,
  role: 'copy' | 'retention',
  context: Record<string, string>,
  account = HUB,
) =>
  simulate(
    principal,
    policy,
    {
      action: 'sts:AssumeRole',
      resource: vaultRoleArn(role),
      context,
      resourcePolicy: vaultRoles[role].trust,
      label: `AssumeRole vault ${role}`,
    },
    account,
    REGION,
  );

const COPY_ID = vaultCopyId(WORKLOAD, 'steward-orders-db-202601150300-sched');
const vaultSnapshot = (type = 'snapshot') => `arn:aws:rds:${REGION}:${VAULT}:${type}:${COPY_ID}`;
const copyTags = { 'steward:managed': 'true', 'steward:vault': 'true', 'steward:created-by': 'vault' };

describe('the vault assume chain', () => {
  it.each([
    ['backup', 'copy'],
    ['retention', 'retention'],
  ] as const)('lets the hub %s role assume the vault %s role', async (hub, role) => {
    const r = hubRoles.get(hub)!;
    expect((await assume(r.arn, r.policy, role, fromOrg)).decision).toBe('Allowed');
  });

  it('refuses the crossed pairs: the backup role cannot act as vault retention, nor retention as the copy role', async () => {
    const backup = hubRoles.get('backup')!;
    const retention = hubRoles.get('retention')!;
    expect((await assume(backup.arn, backup.policy, 'retention', fromOrg)).decision).toBe('ImplicitlyDenied');
    expect((await assume(retention.arn, retention.policy, 'copy', fromOrg)).decision).toBe(
      'ImplicitlyDenied',
    );
  });

  it('refuses the hub role without the external id or from another organization', async () => {
    const backup = hubRoles.get('backup')!;
    const noId = await assume(backup.arn, backup.policy, 'copy', { 'aws:PrincipalOrgID': ORG });
    const otherOrg = await assume(backup.arn, backup.policy, 'copy', {
      ...fromOrg,
      'aws:PrincipalOrgID': 'o-zzzzzzzzzz',
    });
    expect(noId.decision).toBe('ImplicitlyDenied');
    expect(otherOrg.decision).toBe('ImplicitlyDenied');
  });

  it.each(['copy', 'retention'] as const)(
    'refuses any workload account principal, even one allowed everything, for the vault %s role',
    async (role) => {
      const spoke = await assume(workloadBackup.arn, workloadBackup.policy, role, fromOrg, WORKLOAD);
      const admin = await assume(`arn:aws:iam::${WORKLOAD}:role/admin`, EVERYTHING, role, fromOrg, WORKLOAD);
      expect(spoke.decision).toBe('ImplicitlyDenied');
      expect(admin.decision).toBe('ImplicitlyDenied');
    },
  );
});

const inVault = (
  role: RoleUnderTest,
  action: string,
  resource: string,
  context: Record<string, string | string[]> = {},
  resourcePolicy?: PolicyDocument,
) =>
  simulate(
    role.arn,
    role.policy,
    {
      action,
      resource,
      context,
      label: action,
      ...(resourcePolicy ? { resourcePolicy } : {}),
      // An EBS snapshot's ARN names no account: the vault's own.
      ...(resource.includes('::snapshot/') ? { resourceAccount: VAULT } : {}),
    },
    VAULT,
    REGION,
  );

describe('the vault roles', () => {
  it('let the copy role make a tagged copy, and never an untagged one', async () => {
    const tagged = await inVault(
      vaultRoles.copy,
      'rds:CopyDBSnapshot',
      vaultSnapshot(),
      requestTags(copyTags),
    );
    const untagged = await inVault(
      vaultRoles.copy,
      'rds:CopyDBSnapshot',
      vaultSnapshot(),
      requestTags({ 'steward:managed': 'true' }),
    );
    const cluster = await inVault(
      vaultRoles.copy,
      'rds:CopyDBClusterSnapshot',
      vaultSnapshot('cluster-snapshot'),
      requestTags(copyTags),
    );
    expect(tagged.decision).toBe('Allowed');
    expect(untagged.decision).toBe('ImplicitlyDenied');
    expect(cluster.decision).toBe('Allowed');
  });

  it.each([
    ['copy', 'rds:DescribeDBSnapshots'],
    ['copy', 'rds:DescribeDBClusterSnapshots'],
    ['retention', 'rds:DescribeDBSnapshots'],
    ['retention', 'rds:DescribeDBClusterSnapshots'],
  ] as const)('let the %s role list the vault (%s, every snapshot)', async (role, action) => {
    const type = action.includes('Cluster') ? 'cluster-snapshot' : 'snapshot';
    const v = await inVault(vaultRoles[role], action, `arn:aws:rds:${REGION}:${VAULT}:${type}:*`);
    expect(v.decision).toBe('Allowed');
  });

  it.each(['rds:DeleteDBSnapshot', 'rds:ModifyDBSnapshotAttribute', 'rds:RemoveTagsFromResource'])(
    'refuse the copy role %s on a vault copy, explicitly',
    async (action) => {
      const v = await inVault(
        vaultRoles.copy,
        action,
        vaultSnapshot(),
        resourceTags(vaultSnapshot(), copyTags),
      );
      expect(v.decision).toBe('ExplicitlyDenied');
    },
  );

  it('let the retention role delete a vault copy, but not a held one, nor a snapshot the vault did not copy', async () => {
    const arn = vaultSnapshot();
    const ours = await inVault(
      vaultRoles.retention,
      'rds:DeleteDBSnapshot',
      arn,
      resourceTags(arn, copyTags),
    );
    const held = await inVault(
      vaultRoles.retention,
      'rds:DeleteDBSnapshot',
      arn,
      resourceTags(arn, { ...copyTags, 'steward:hold': 'audit' }),
    );
    const foreign = await inVault(
      vaultRoles.retention,
      'rds:DeleteDBSnapshot',
      arn,
      resourceTags(arn, { 'steward:managed': 'true' }),
    );
    expect(ours.decision).toBe('Allowed');
    expect(held.decision).toBe('ExplicitlyDenied');
    expect(foreign.decision).toBe('ImplicitlyDenied');
  });

  it.each(['rds:ModifyDBSnapshotAttribute', 'rds:AddTagsToResource'])(
    'refuse the retention role %s (re-share, re-tag)',
    async (action) => {
      const v = await inVault(
        vaultRoles.retention,
        action,
        vaultSnapshot(),
        resourceTags(vaultSnapshot(), copyTags),
      );
      expect(v.decision).toBe('ExplicitlyDenied');
    },
  );
});

describe('the vault key', () => {
  const viaRds = { 'kms:ViaService': `rds.${REGION}.amazonaws.com` };

  it('lets the copy role use it through RDS, and nothing else', async () => {
    const decrypt = await inVault(vaultRoles.copy, 'kms:Decrypt', keyArn, viaRds, keyPolicy);
    const grant = await inVault(
      vaultRoles.copy,
      'kms:CreateGrant',
      keyArn,
      { ...viaRds, 'kms:GrantIsForAWSResource': 'true' },
      keyPolicy,
    );
    const direct = await inVault(vaultRoles.copy, 'kms:Decrypt', keyArn, {}, keyPolicy);
    expect(decrypt.decision).toBe('Allowed');
    expect(grant.decision).toBe('Allowed');
    expect(direct.decision).not.toBe('Allowed');
  });

  it('refuses the retention role and a vault administrator allowed everything: the key policy delegates no use', async () => {
    const retention = await inVault(vaultRoles.retention, 'kms:Decrypt', keyArn, viaRds, keyPolicy);
    const admin = await simulate(
      `arn:aws:iam::${VAULT}:role/admin`,
      EVERYTHING,
      {
        action: 'kms:Decrypt',
        resource: keyArn,
        context: viaRds,
        resourcePolicy: keyPolicy,
        label: 'admin Decrypt',
      },
      VAULT,
      REGION,
    );
    expect(retention.decision).not.toBe('Allowed');
    expect(admin.decision).not.toBe('Allowed');
  });

  it('refuses a workload account principal', async () => {
    const v = await simulate(
      `arn:aws:iam::${WORKLOAD}:role/admin`,
      EVERYTHING,
      {
        action: 'kms:Decrypt',
        resource: keyArn,
        context: viaRds,
        resourcePolicy: keyPolicy,
        label: 'workload Decrypt',
      },
      WORKLOAD,
      REGION,
    );
    expect(v.decision).not.toBe('Allowed');
  });
});

describe('a workload account against the vault', () => {
  it.each([
    ['rds:DeleteDBSnapshot', 'snapshot'],
    ['rds:ModifyDBSnapshotAttribute', 'snapshot'],
    ['rds:DeleteDBClusterSnapshot', 'cluster-snapshot'],
    ['rds:ModifyDBClusterSnapshotAttribute', 'cluster-snapshot'],
  ])(
    'cannot %s a vault copy: not its spoke role, not an administrator allowed everything',
    async (action, type) => {
      const arn = vaultSnapshot(type);
      const ctx = resourceTags(arn, copyTags);
      const spoke = await simulate(
        workloadBackup.arn,
        workloadBackup.policy,
        { action, resource: arn, context: ctx, label: action },
        WORKLOAD,
        REGION,
      );
      const admin = await simulate(
        `arn:aws:iam::${WORKLOAD}:role/admin`,
        EVERYTHING,
        { action, resource: arn, context: ctx, label: action },
        WORKLOAD,
        REGION,
      );
      expect(spoke.decision).not.toBe('Allowed');
      expect(admin.decision).not.toBe('Allowed');
    },
  );

  it('can still act on its own snapshots with the same administrator policy (the denial is the account boundary)', async () => {
    const own = `arn:aws:rds:${REGION}:${WORKLOAD}:snapshot:steward-orders-db-202601150300-sched`;
    const v = await simulate(
      `arn:aws:iam::${WORKLOAD}:role/admin`,
      EVERYTHING,
      { action: 'rds:DeleteDBSnapshot', resource: own, context: {}, label: 'own' },
      WORKLOAD,
      REGION,
    );
    expect(v.decision).toBe('Allowed');
  });
});

describe('sharing with the vault', () => {
  const source = (account: string, type = 'snapshot') =>
    `arn:aws:rds:${REGION}:${account}:${type}:steward-orders-db-202601150300-sched`;
  const share = (
    role: RoleUnderTest,
    account: string,
    action: string,
    type: string,
    tags: Record<string, string>,
  ) =>
    simulate(
      role.arn,
      role.policy,
      {
        action,
        resource: source(account, type),
        context: resourceTags(source(account, type), tags),
        label: action,
      },
      account,
      REGION,
    );

  it.each([
    ['rds:ModifyDBSnapshotAttribute', 'snapshot'],
    ['rds:ModifyDBClusterSnapshotAttribute', 'cluster-snapshot'],
  ])('lets the hub and spoke backup roles %s on steward snapshots only', async (action, type) => {
    const hub = hubRoles.get('backup')!;
    expect((await share(hub, HUB, action, type, { 'steward:managed': 'true' })).decision).toBe('Allowed');
    expect(
      (await share(workloadBackup, WORKLOAD, action, type, { 'steward:managed': 'true' })).decision,
    ).toBe('Allowed');
    expect((await share(hub, HUB, action, type, {})).decision).toBe('ImplicitlyDenied');
  });
});

describe('re-encrypting aws/rds-key snapshots for the vault', () => {
  const arn = (account: string, id: string, type = 'snapshot') =>
    `arn:aws:rds:${REGION}:${account}:${type}:${id}`;
  const reencrypted = 'steward-orders-db-202601150300-sched-vx-0abc123';
  const marked = {
    'steward:managed': 'true',
    'steward:reencrypted-from': arn(WORKLOAD, 'steward-orders-db-202601150300-sched'),
  };
  const act = (role: RoleUnderTest, account: string, action: string, resource: string, context: Context) =>
    simulate(role.arn, role.policy, { action, resource, context, label: action }, account, REGION);

  it.each([
    ['rds:CopyDBSnapshot', 'snapshot'],
    ['rds:CopyDBClusterSnapshot', 'cluster-snapshot'],
  ])(
    'lets the spoke backup role %s into a copy tagged as re-encrypted, never an untagged one',
    async (action, type) => {
      const target = arn(WORKLOAD, reencrypted, type);
      expect((await act(workloadBackup, WORKLOAD, action, target, requestTags(marked))).decision).toBe(
        'Allowed',
      );
      // Untagged, or under another name than steward's prefix: denied.
      const untagged = await act(workloadBackup, WORKLOAD, action, target, requestTags({}));
      expect(untagged.decision, untagged.by.join(', ')).toBe('ImplicitlyDenied');
      const other = arn(WORKLOAD, 'orders-copy', type);
      const named = await act(workloadBackup, WORKLOAD, action, other, requestTags(marked));
      expect(named.decision, named.by.join(', ')).toBe('ImplicitlyDenied');
    },
  );

  it.each([
    ['rds:DeleteDBSnapshot', 'snapshot', 'snapshot'],
    ['rds:DeleteDBClusterSnapshot', 'cluster-snapshot', 'cluster-snapshot'],
  ])('lets the hub and spoke backup roles %s only their re-encrypted copies', async (action, type) => {
    for (const [role, account] of [
      [hubRoles.get('backup')!, HUB],
      [workloadBackup, WORKLOAD],
    ] as const) {
      const own = arn(account, reencrypted, type);
      expect((await act(role, account, action, own, resourceTags(own, marked))).decision).toBe('Allowed');
      // A backup of steward's (no re-encrypted mark) and a foreign snapshot stay out of reach.
      const backup = arn(account, 'steward-orders-db-202601150300-sched', type);
      expect(
        (await act(role, account, action, backup, resourceTags(backup, { 'steward:managed': 'true' })))
          .decision,
      ).toBe('ImplicitlyDenied');
      const foreign = arn(account, 'hand-made', type);
      expect((await act(role, account, action, foreign, resourceTags(foreign, marked))).decision).toBe(
        'ImplicitlyDenied',
      );
    }
  });
});

describe('the vault statements', () => {
  it('each mean what they say by the Service Authorization Reference (the vault roles and the hub roles with their vault grants)', async () => {
    // Act
    const findings: string[] = [];
    for (const [name, r] of [
      ['vault copy', vaultRoles.copy],
      ['vault retention', vaultRoles.retention],
      ['hub backup', hubRoles.get('backup')!],
      ['hub retention', hubRoles.get('retention')!],
      ['spoke backup', workloadBackup],
    ] as const)
      for (const f of await lintPolicy(r.policy))
        findings.push(`${name} ${f.sid}: ${f.problem}: ${f.detail}`);
    // Assert
    expect(findings).toEqual([]);
  });
});

describe('EBS snapshot sets in the vault', () => {
  const ebsCopy = `arn:aws:ec2:${REGION}::snapshot/snap-0vault0000000001`;
  const setTags = { ...copyTags, 'steward:set': COPY_ID };
  const viaEc2 = { 'kms:ViaService': `ec2.${REGION}.amazonaws.com` };

  it('let the copy role copy into a snapshot tagged as the vault set, tag it on create, and never untagged', async () => {
    const tagged = await inVault(vaultRoles.copy, 'ec2:CopySnapshot', ebsCopy, requestTags(setTags));
    const untagged = await inVault(
      vaultRoles.copy,
      'ec2:CopySnapshot',
      ebsCopy,
      requestTags({ 'steward:managed': 'true' }),
    );
    const onCreate = await inVault(vaultRoles.copy, 'ec2:CreateTags', ebsCopy, {
      ...requestTags(setTags),
      'ec2:CreateAction': 'CopySnapshot',
    });
    const retag = await inVault(vaultRoles.copy, 'ec2:CreateTags', ebsCopy, requestTags(setTags));
    const list = await inVault(vaultRoles.copy, 'ec2:DescribeSnapshots', '*');
    expect(tagged.decision).toBe('Allowed');
    expect(untagged.decision).toBe('ImplicitlyDenied');
    expect(onCreate.decision).toBe('Allowed');
    expect(retag.decision).toBe('ImplicitlyDenied');
    expect(list.decision).toBe('Allowed');
  });

  it.each(['ec2:DeleteSnapshot', 'ec2:ModifySnapshotAttribute', 'ec2:DeleteTags'])(
    'refuse the copy role %s on a vault EBS copy, explicitly',
    async (action) => {
      const v = await inVault(vaultRoles.copy, action, ebsCopy, resourceTags(ebsCopy, setTags));
      expect(v.decision).toBe('ExplicitlyDenied');
    },
  );

  it('let the retention role delete a vault EBS copy, but not a held one, nor a snapshot the vault did not copy', async () => {
    const ours = await inVault(
      vaultRoles.retention,
      'ec2:DeleteSnapshot',
      ebsCopy,
      resourceTags(ebsCopy, setTags),
    );
    const held = await inVault(
      vaultRoles.retention,
      'ec2:DeleteSnapshot',
      ebsCopy,
      resourceTags(ebsCopy, { ...setTags, 'steward:hold': 'audit' }),
    );
    const foreign = await inVault(
      vaultRoles.retention,
      'ec2:DeleteSnapshot',
      ebsCopy,
      resourceTags(ebsCopy, { 'steward:managed': 'true' }),
    );
    expect(ours.decision).toBe('Allowed');
    expect(held.decision).toBe('ExplicitlyDenied');
    expect(foreign.decision).toBe('ImplicitlyDenied');
  });

  it.each(['ec2:ModifySnapshotAttribute', 'ec2:CreateTags', 'ec2:DeleteTags'])(
    'refuse the retention role %s on a vault EBS copy (re-share, re-tag)',
    async (action) => {
      const v = await inVault(vaultRoles.retention, action, ebsCopy, resourceTags(ebsCopy, setTags));
      expect(v.decision).toBe('ExplicitlyDenied');
    },
  );

  it('let the copy role use the vault key through EC2, and a source account key through EC2 only', async () => {
    const vaultKey = await inVault(vaultRoles.copy, 'kms:Decrypt', keyArn, viaEc2, keyPolicy);
    const grant = await inVault(
      vaultRoles.copy,
      'kms:CreateGrant',
      keyArn,
      { ...viaEc2, 'kms:GrantIsForAWSResource': 'true' },
      keyPolicy,
    );
    const sourceKey = `arn:aws:kms:${REGION}:${WORKLOAD}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    // The source account's key policy lets the vault account use it (README: Backup vault, source keys).
    // A key policy (with a Principal, which the identity-policy type does not carry).
    const sourcePolicy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${VAULT}:root` },
          Action: [
            'kms:Decrypt',
            'kms:DescribeKey',
            'kms:CreateGrant',
            'kms:ReEncrypt*',
            'kms:GenerateDataKey*',
          ],
          Resource: '*',
        },
      ],
    } as unknown as PolicyDocument;
    // The fleet has an OU target: a key of any account of the organization (aws:ResourceOrgID).
    const ofOrg = { ...viaEc2, 'aws:ResourceOrgID': ORG };
    const source = await inVault(vaultRoles.copy, 'kms:ReEncryptFrom', sourceKey, ofOrg, sourcePolicy);
    const direct = await inVault(
      vaultRoles.copy,
      'kms:Decrypt',
      sourceKey,
      { 'aws:ResourceOrgID': ORG },
      sourcePolicy,
    );
    expect(vaultKey.decision).toBe('Allowed');
    expect(grant.decision).toBe('Allowed');
    expect(source.decision).toBe('Allowed');
    expect(direct.decision).toBe('ImplicitlyDenied');
  });

  it.each(['ec2:DeleteSnapshot', 'ec2:ModifySnapshotAttribute', 'ec2:DeleteTags'])(
    'a workload account cannot %s a vault EBS copy: not its spoke role, not an administrator allowed everything',
    async (action) => {
      const ctx = { ...resourceTags(ebsCopy, setTags), 'ec2:Owner': VAULT };
      const request = { action, resource: ebsCopy, context: ctx, label: action, resourceAccount: VAULT };
      const spoke = await simulate(workloadBackup.arn, workloadBackup.policy, request, WORKLOAD, REGION);
      const admin = await simulate(
        `arn:aws:iam::${WORKLOAD}:role/admin`,
        EVERYTHING,
        request,
        WORKLOAD,
        REGION,
      );
      expect(spoke.decision).not.toBe('Allowed');
      expect(admin.decision).not.toBe('Allowed');
      // The same administrator on its own account's snapshot: the denial is the account boundary.
      const own = await simulate(
        `arn:aws:iam::${WORKLOAD}:role/admin`,
        EVERYTHING,
        { ...request, resourceAccount: WORKLOAD },
        WORKLOAD,
        REGION,
      );
      expect(own.decision).toBe('Allowed');
    },
  );

  it('lets the hub and spoke backup roles share steward EBS snapshots with the vault account only, never publicly', async () => {
    const part = `arn:aws:ec2:${REGION}::snapshot/snap-0source000000001`;
    const managed = resourceTags(part, { 'steward:managed': 'true' });
    const share = (role: RoleUnderTest, account: string, context: Context) =>
      simulate(
        role.arn,
        role.policy,
        {
          action: 'ec2:ModifySnapshotAttribute',
          resource: part,
          context,
          label: 'share',
          resourceAccount: account,
        },
        account,
        REGION,
      );
    for (const [role, account] of [
      [hubRoles.get('backup')!, HUB],
      [workloadBackup, WORKLOAD],
    ] as const) {
      expect((await share(role, account, { ...managed, 'ec2:Add/userId': VAULT })).decision).toBe('Allowed');
      expect((await share(role, account, { ...managed, 'ec2:Remove/userId': VAULT })).decision).toBe(
        'Allowed',
      );
      // Another account, a public share, an unmanaged snapshot: denied.
      expect((await share(role, account, { ...managed, 'ec2:Add/userId': '444444444444' })).decision).toBe(
        'ImplicitlyDenied',
      );
      expect(
        (await share(role, account, { ...managed, 'ec2:Add/userId': VAULT, 'ec2:Add/group': 'all' }))
          .decision,
      ).toBe('ImplicitlyDenied');
      expect((await share(role, account, { 'ec2:Add/userId': VAULT })).decision).toBe('ImplicitlyDenied');
    }
  });
});
