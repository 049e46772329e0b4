import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackId, StewardStack } from '../../infra/stack.js';
import { VaultStack } from '../../infra/vault.js';
import { parseConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import { vaultStackId } from '../../shared/fleet/vault.js';
import { VAULT_CONFIG, VAULT_DRILL_CONFIG } from '../support/fleet.js';
import { statements, unbundledContext } from './iam.js';

const synth = (input: StewardConfigInput) => {
  const app = new App({ context: unbundledContext });
  const config = parseConfig(input, 'vault-drill');
  const hub = new StewardStack(app, stackId('prod'), { config });
  const vault = new VaultStack(app, vaultStackId('prod'), { config });
  return { hub: Template.fromStack(hub), vault: Template.fromStack(vault), vaultStack: vault };
};

let t: ReturnType<typeof synth>;
beforeAll(() => {
  t = synth(VAULT_DRILL_CONFIG);
});

const sid = (tpl: Template, id: string) => statements(tpl).find((s) => s.Sid === id)!;

describe('drills from the vault: the vault stack', () => {
  it('holds a drill role that trusts only the hub drill role, from the organization, with the external id', () => {
    // Act
    const roles = t.vault.findResources('AWS::IAM::Role', {
      Properties: { RoleName: { 'Fn::Join': ['', ['steward-prod-vault-drill-', { Ref: 'AWS::Region' }]] } },
    });

    // Assert
    const [role] = Object.values(roles);
    expect(JSON.stringify(role!.Properties.AssumeRolePolicyDocument)).toContain(
      ':iam::111111111111:role/steward-prod-drill-eu-west-1',
    );
    expect(role!.Properties.AssumeRolePolicyDocument.Statement[0].Condition).toMatchObject({
      StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5', 'sts:ExternalId': 'steward-prod-fleet' },
    });
  });

  it('lets it share only tagged steward vault copies, and never copy, delete or re-tag one', () => {
    // Act
    const share = sid(t.vault, 'ShareVaultDbCopiesForDrills');
    const deny = sid(t.vault, 'NeverCopyDeleteOrRetagVaultSnapshots');

    // Assert
    expect(share.Condition).toEqual({
      StringEquals: { 'rds:snapshot-tag/steward:managed': 'true', 'rds:snapshot-tag/steward:vault': 'true' },
    });
    expect(JSON.stringify(share.Resource)).toContain(':snapshot:steward-*');
    expect(deny.Effect).toBe('Deny');
    expect(deny.Action).toEqual(expect.arrayContaining(['rds:DeleteDBSnapshot', 'rds:CopyDBSnapshot']));
  });

  it('lets the hub drill role use the vault key through RDS only', () => {
    // Act
    const [key] = Object.values(t.vault.findResources('AWS::KMS::Key'));
    const st = (
      key!.Properties.KeyPolicy.Statement as { Sid: string; Condition?: unknown; Action: string[] }[]
    ).find((s) => s.Sid === 'HubDrillRoleUsesKeyThroughRds')!;

    // Assert
    expect([...st.Action].sort()).toEqual(['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey']);
    expect(JSON.stringify(st.Condition)).toContain('kms:ViaService');
  });

  it('passes cdk-nag', () => {
    const report = new AwsSolutionsChecks(t.vaultStack).validateScope(t.vaultStack);
    expect(report.violations.map((v) => `${v.ruleName}: ${JSON.stringify(v.violatingResources)}`)).toEqual(
      [],
    );
  });

  it('has no drill role without a target drilled from the vault', () => {
    // Act
    const plain = synth(VAULT_CONFIG);

    // Assert
    expect(JSON.stringify(plain.vault.toJSON())).not.toContain('vault-drill');
    expect(JSON.stringify(plain.hub.toJSON())).not.toContain('vault-drill');
  });
});

describe('drills from the vault: the hub drill function', () => {
  it('is named for the vault to trust, knows the partition, and may assume the vault drill role only', () => {
    // Act
    const assume = sid(t.hub, 'AssumeVaultDrillRole');

    // Assert
    t.hub.hasResourceProperties('AWS::IAM::Role', { RoleName: 'steward-prod-drill-eu-west-1' });
    t.hub.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ VAULT_PARTITION: Match.anyValue() }) },
    });
    expect(JSON.stringify(assume.Resource)).toContain(
      ':iam::999999999999:role/steward-prod-vault-drill-eu-west-1',
    );
  });

  it('copies and deletes only its own tagged drill copies', () => {
    // Act
    const copy = sid(t.hub, 'CopyVaultCopiesForDrills');
    const del = sid(t.hub, 'DeleteDrillCopies');

    // Assert
    expect(copy.Condition).toEqual({ StringEquals: { 'aws:RequestTag/steward:managed': 'true' } });
    expect(JSON.stringify(copy.Resource)).toContain(':999999999999:snapshot:steward-*');
    expect(del.Condition).toEqual({
      StringEquals: { 'rds:snapshot-tag/steward:managed': 'true' },
      Null: { 'rds:snapshot-tag/steward:drill': 'false' },
    });
    expect(JSON.stringify(del.Resource)).toContain(':snapshot:steward-drill-*');
  });

  it("records its shares of vault copies in the state table under their own keys only (the janitor's list)", () => {
    // Act
    const shares = sid(t.hub, 'DrillVaultShares');
    const without = synth(VAULT_CONFIG);

    // Assert
    expect(shares.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['drill-vault-shares#*'] },
      Null: { 'dynamodb:LeadingKeys': 'false' },
    });
    expect(shares.Action).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem']));
    expect(sid(without.hub, 'DrillVaultShares')).toBeUndefined();
  });
});
