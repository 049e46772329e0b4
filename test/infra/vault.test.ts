import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackId, StewardStack } from '../../infra/stack.js';
import { addStages } from '../../infra/stages.js';
import { VaultStack } from '../../infra/vault.js';
import { SpokeStack, spokeStackId } from '../../infra/spoke.js';
import { parseConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import { vaultStackId } from '../../shared/fleet/vault.js';
import { FLEET_CONFIG, VAULT_ACCOUNT, VAULT_CONFIG } from '../support/fleet.js';
import { ownTmpDir } from '../support/own-tmp.js';
import { statements, unbundledContext } from './iam.js';

let hub: Template;
let vault: Template;
let vaultStack: VaultStack;
let spoke: Template;
let nagged: { hub: StewardStack; spoke: SpokeStack };

beforeAll(() => {
  const app = new App({ context: unbundledContext });
  const config = parseConfig(VAULT_CONFIG, 'vault');
  const hubStack = new StewardStack(app, stackId('prod'), { config });
  vaultStack = new VaultStack(app, vaultStackId('prod'), { config });
  const spokeStack = new SpokeStack(app, spokeStackId('prod'), { config });
  hub = Template.fromStack(hubStack);
  vault = Template.fromStack(vaultStack);
  spoke = Template.fromStack(spokeStack);
  nagged = { hub: hubStack, spoke: spokeStack };
});

const roleId = (t: Template, name: string) =>
  Object.entries(t.findResources('AWS::IAM::Role')).find(([, r]) =>
    JSON.stringify(r.Properties.RoleName ?? '').includes(name),
  )![0];
const statementsOf = (t: Template, name: string) => {
  const id = roleId(t, name);
  return statements(t).filter((s) =>
    JSON.stringify(t.toJSON().Resources[s.policy].Properties.Roles ?? []).includes(id),
  );
};

describe('a stage without a vault', () => {
  it('synthesizes the same hub as before and no vault stack', () => {
    // Prepare
    const synth = (config: StewardConfigInput) => {
      const app = new App({ context: unbundledContext });
      const t = Template.fromStack(new StewardStack(app, stackId('prod'), { config })).toJSON();
      return { t, vaults: app.node.children.filter((c) => c instanceof VaultStack).length };
    };
    // Act
    const plain = synth(FLEET_CONFIG);
    // Assert: no vault grant in the fleet hub, and a vault changes the hub only by its grants.
    expect(JSON.stringify(plain.t)).not.toContain('vault');
    expect(plain.vaults).toBe(0);
  });

  it('gets a Steward-<stage>-vault stack from the app only with fleet.vault', () => {
    // Prepare: one stage file each, as `cdk synth -c config=<dir>` reads them.
    const stacksOf = (config: StewardConfigInput) => {
      const dir = ownTmpDir('steward-vault');
      try {
        writeFileSync(join(dir, 'steward.prod.json'), JSON.stringify(config));
        const app = new App({ context: unbundledContext });
        // Act
        expect(addStages(app, () => undefined, { STEWARD_CONFIG: dir })).toBe(0);
        return app.node.children.map((c) => c.node.id).filter((id) => id.startsWith('Steward-'));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    // Assert
    expect(stacksOf(FLEET_CONFIG)).not.toContain('Steward-prod-vault');
    expect(stacksOf(VAULT_CONFIG)).toContain('Steward-prod-vault');
  });
});

describe('the vault stack', () => {
  it('deploys into the vault account, with no function, no asset and no bootstrap rule', () => {
    expect(vaultStack.account).toBe(VAULT_ACCOUNT);
    vault.resourceCountIs('AWS::Lambda::Function', 0);
    expect(vault.toJSON().Parameters?.BootstrapVersion).toBeUndefined();
  });

  it('holds a rotating, retained key that the vault account administers but only the copy role uses, through RDS', () => {
    // Act
    const [key] = Object.values(vault.findResources('AWS::KMS::Key'));
    const policy = key!.Properties.KeyPolicy as { Statement: Record<string, unknown>[] };
    const use = policy.Statement.filter((s) =>
      JSON.stringify(s.Action).match(/kms:(Decrypt|Encrypt|CreateGrant|GenerateDataKey|ReEncrypt)/),
    );
    // Assert
    expect(key!.Properties.EnableKeyRotation).toBe(true);
    expect(key!.DeletionPolicy).toBe('Retain');
    expect(policy.Statement.map((s) => s.Sid)).toEqual([
      'VaultAccountAdministersKeyButCannotUseIt',
      'VaultCopyRoleGrantsForRds',
      'VaultCopyRoleUsesKeyThroughRds',
    ]);
    expect(use.map((s) => s.Sid)).toEqual(['VaultCopyRoleGrantsForRds', 'VaultCopyRoleUsesKeyThroughRds']);
    for (const s of use) {
      expect(JSON.stringify(s.Principal)).toContain(roleId(vault, 'vault-copy'));
      expect(JSON.stringify(s.Condition)).toContain('kms:ViaService');
    }
    vault.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/steward-prod-vault' });
  });

  it.each([
    ['vault-copy', 'arn:aws:iam::111111111111:role/steward-prod-backup-eu-west-1'],
    ['vault-retention', 'arn:aws:iam::111111111111:role/steward-prod-retention-eu-west-1'],
  ])('%s trusts only its hub role, from the organization and with the external id', (name, hubRole) => {
    const [, role] = Object.entries(vault.findResources('AWS::IAM::Role')).find(
      ([id]) => id === roleId(vault, name),
    )!;
    expect(role.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: {
            AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111111111111:root']] },
          },
          Condition: {
            ArnEquals: {
              'aws:PrincipalArn': {
                'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, hubRole.slice('arn:aws'.length)]],
              },
            },
            StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5', 'sts:ExternalId': 'steward-prod-fleet' },
          },
        },
      ],
    });
    // No workload account is a principal anywhere in the vault.
    const text = JSON.stringify(vault.toJSON());
    for (const workload of ['222222222222', '333333333333'])
      expect(text).not.toMatch(new RegExp(`iam::${workload}`));
  });

  it('lets the copy role copy in and never delete, share or untag a copy', () => {
    const sids = statementsOf(vault, 'vault-copy').map((s) => `${s.Effect} ${s.Sid}`);
    expect(sids).toEqual(
      expect.arrayContaining([
        'Allow CopyIntoVault',
        'Allow UseVaultKeyThroughRds',
        'Deny NeverDeleteOrShareVaultCopies',
      ]),
    );
    const allowed = statementsOf(vault, 'vault-copy')
      .filter((s) => s.Effect === 'Allow')
      .flatMap((s) => [s.Action].flat());
    expect(allowed.filter((a) => /Delete|Modify|RemoveTags/.test(String(a)))).toEqual([]);
  });

  it('lets the retention role delete only copies the vault made, never held ones, and never share', () => {
    const st = statementsOf(vault, 'vault-retention');
    const deletes = st.filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Action).includes('Delete'));
    expect(deletes.map((s) => s.Sid)).toEqual(['DeleteVaultDbCopies', 'DeleteVaultClusterCopies']);
    for (const d of deletes) expect(JSON.stringify(d.Condition)).toMatch(/steward:managed.*steward:vault/);
    expect(st.filter((s) => s.Effect === 'Deny').map((s) => s.Sid)).toEqual(
      expect.arrayContaining(['NeverDeleteHeldDbSnapshots', 'NeverShareOrRetagVaultSnapshots']),
    );
  });

  it('passes cdk-nag', () => {
    const report = new AwsSolutionsChecks(vaultStack).validateScope(vaultStack);
    expect(report.violations.map((v) => `${v.ruleName}: ${JSON.stringify(v.violatingResources)}`)).toEqual(
      [],
    );
  });
});

describe('the hub with a vault', () => {
  it('lets the backup role share steward snapshots and assume the vault copy role, the retention role the vault retention role', () => {
    const backup = statementsOf(hub, 'steward-prod-backup-');
    const retention = statementsOf(hub, 'steward-prod-retention-');
    const assume = (st: typeof backup, sid: string) => st.find((s) => s.Sid === sid)?.Resource;
    expect(JSON.stringify(assume(backup, 'AssumeVaultCopyRole'))).toContain(
      `${VAULT_ACCOUNT}:role/steward-prod-vault-copy-eu-west-1`,
    );
    expect(JSON.stringify(assume(backup, 'AssumeVaultCopyRole'))).toContain(
      'steward-prod-vault-copy-eu-central-1',
    );
    expect(assume(backup, 'AssumeVaultRetentionRole')).toBeUndefined();
    expect(JSON.stringify(assume(retention, 'AssumeVaultRetentionRole'))).toContain(
      'steward-prod-vault-retention-eu-west-1',
    );
    expect(assume(retention, 'AssumeVaultCopyRole')).toBeUndefined();
    const share = backup.find((s) => s.Sid === 'ShareManagedDbSnapshotsWithVault')!;
    expect(share.Condition).toEqual({ StringEquals: { 'rds:snapshot-tag/steward:managed': 'true' } });
  });
});

describe('the share key (re-encrypting aws/rds-key snapshots for the vault)', () => {
  it.each([
    ['the hub', () => hub, 'steward-prod-backup-'],
    ['a spoke', () => spoke, 'steward-prod-spoke-backup'],
  ])('%s holds a rotating key the vault account may use through RDS only', (_name, template, role) => {
    // Prepare
    const t = template();
    // Assert: the alias the backup function names, the vault account reads and grants only via RDS.
    t.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/steward-prod-vault-share' });
    const key = Object.values(t.findResources('AWS::KMS::Key')).find((k) =>
      String(k.Properties.Description).includes('re-encrypts aws/rds-key snapshots'),
    );
    expect(key!.Properties.EnableKeyRotation).toBe(true);
    const vaultStatements = (
      key!.Properties.KeyPolicy.Statement as { Sid?: string; Principal: unknown }[]
    ).filter((st) => JSON.stringify(st.Principal).includes(VAULT_ACCOUNT));
    expect(vaultStatements.map((st) => st.Sid)).toEqual([
      'VaultAccountReadsThroughRds',
      'VaultAccountGrantsForRds',
    ]);
    expect(JSON.stringify(vaultStatements)).toContain('kms:ViaService');
    expect(JSON.stringify(vaultStatements)).not.toMatch(/kms:Encrypt|kms:\*/);
    // The backup role re-encrypts only into tagged copies and deletes only those.
    const backup = statementsOf(t, role);
    const sid = (s: string) => backup.find((st) => st.Sid === s)!;
    expect(sid('ReencryptManagedSnapshotsForVault').Condition).toEqual({
      StringEquals: { 'aws:RequestTag/steward:managed': 'true' },
      Null: { 'aws:RequestTag/steward:reencrypted-from': 'false' },
    });
    expect(sid('DeleteReencryptedDbSnapshots').Condition).toEqual({
      StringEquals: { 'rds:snapshot-tag/steward:managed': 'true' },
      Null: { 'rds:snapshot-tag/steward:reencrypted-from': 'false' },
    });
    expect(JSON.stringify(sid('UseShareKeyThroughRds').Condition)).toContain('kms:ViaService');
  });

  it.each(['hub', 'spoke'] as const)('leaves the %s cdk-nag clean', (which) => {
    const stack = nagged[which];
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(report.violations.map((v) => `${v.ruleName}: ${JSON.stringify(v.violatingResources)}`)).toEqual(
      [],
    );
  });

  it('is not made without a vault', () => {
    const app = new App({ context: unbundledContext });
    const t = Template.fromStack(
      new StewardStack(app, stackId('prod'), { config: parseConfig(FLEET_CONFIG, 'fleet') }),
    );
    expect(JSON.stringify(t.findResources('AWS::KMS::Alias'))).not.toContain('vault-share');
  });
});

describe('a vault with EBS snapshot sets', () => {
  // The same fleet with a policy that backs EBS up: the vault's EC2 statements, and the shares' pin.
  const ebsConfig = parseConfig(
    {
      ...VAULT_CONFIG,
      backup: { policies: { ...VAULT_CONFIG.backup!.policies, hosts: { kinds: ['ebs'] } } },
    },
    'vault',
  );
  let ebsVault: VaultStack;
  let ebsHub: Template;
  let ebsSpoke: Template;
  beforeAll(() => {
    const app = new App({ context: unbundledContext });
    const hubStack = new StewardStack(app, stackId('prod'), { config: ebsConfig });
    ebsVault = new VaultStack(app, vaultStackId('prod'), { config: ebsConfig });
    const spokeStack = new SpokeStack(app, spokeStackId('prod'), { config: ebsConfig });
    ebsHub = Template.fromStack(hubStack);
    ebsSpoke = Template.fromStack(spokeStack);
  });

  it('lets the copy role copy only into tagged vault snapshots, and denies it deleting, re-sharing or untagging them', () => {
    const t = Template.fromStack(ebsVault);
    const st = statementsOf(t, 'vault-copy');
    const copy = st.find((s) => s.Sid === 'CopyEbsIntoVault')!;
    expect(copy.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/steward:managed': 'true', 'aws:RequestTag/steward:vault': 'true' },
    });
    expect(st.find((s) => s.Sid === 'NeverDeleteOrShareVaultEbsCopies')).toMatchObject({
      Effect: 'Deny',
      Action: ['ec2:DeleteSnapshot', 'ec2:DeleteTags', 'ec2:ModifySnapshotAttribute'],
    });
    const retention = statementsOf(t, 'vault-retention');
    expect(JSON.stringify(retention.find((s) => s.Sid === 'DeleteVaultEbsCopies')!.Condition)).toMatch(
      /steward:managed.*steward:vault/,
    );
    // The vault key is usable through EC2 as well as RDS.
    const [key] = Object.values(t.findResources('AWS::KMS::Key'));
    const use = (key!.Properties.KeyPolicy.Statement as { Sid: string; Condition: unknown }[]).find(
      (x) => x.Sid === 'VaultCopyRoleUsesKeyThroughRds',
    )!;
    expect(JSON.stringify(use.Condition)).toMatch(/"kms:ViaService":\[.*"rds\.".*"ec2\."/);
  });

  it('pins the hub and spoke backup roles’ EBS shares to the vault account, never a group', () => {
    for (const [t, name] of [
      [ebsHub, 'steward-prod-backup-'],
      [ebsSpoke, 'steward-prod-spoke-backup-'],
    ] as const) {
      const st = statementsOf(t, name);
      expect(st.find((s) => s.Sid === 'ShareManagedEbsSnapshotsWithVault')!.Condition).toEqual({
        StringEquals: { 'aws:ResourceTag/steward:managed': 'true', 'ec2:Add/userId': VAULT_ACCOUNT },
        Null: { 'ec2:Add/group': 'true' },
      });
      expect(st.find((s) => s.Sid === 'UnshareManagedEbsSnapshotsFromVault')!.Condition).toMatchObject({
        StringEquals: { 'ec2:Remove/userId': VAULT_ACCOUNT },
      });
    }
  });

  it('passes cdk-nag', () => {
    const report = new AwsSolutionsChecks(ebsVault).validateScope(ebsVault);
    expect(report.violations.map((v) => `${v.ruleName}: ${JSON.stringify(v.violatingResources)}`)).toEqual(
      [],
    );
  });
});
