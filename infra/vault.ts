import { Aws, DefaultStackSynthesizer, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import {
  AccountRootPrincipal,
  ArnPrincipal,
  PolicyDocument,
  PolicyStatement,
  Role,
} from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ID_PREFIX } from '../shared/backup/ids.js';
import type { StewardConfig } from '../shared/config/schema.js';
import { expandTargets } from '../shared/fleet/targets.js';
import {
  VAULT_ROLE_HUB,
  vaultKeyAlias,
  vaultOf,
  type VaultRole,
  vaultRoleName,
  VaultTag,
  vaultTrustedHubRoleArn,
} from '../shared/fleet/vault.js';
import { Tag } from '../shared/tags.js';
import { backsUpEbs } from '../shared/aws/ebs.js';
import { ec2Arn } from './arns.js';
import { trustHubRole } from './fleet.js';
import { allowOn, denyOn, type Grantee, type Permission } from './permission.js';
import { denyHeldDeletes } from './retention.js';
import { allowHubDrillsOnVaultKey, VaultDrillRole } from './vault-drill.js';
import { hasVaultDrills } from '../shared/fleet/vault-drill.js';

/**
 * The vault's key administration: everything but using the key, so no principal of the vault account (nor
 * any other) encrypts or decrypts with it except through the vault roles below.
 */
const KEY_ADMIN_ACTIONS = [
  'kms:Create*',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];

/** Key use through RDS (a copy re-encrypts with the vault key; RDS holds a grant for the copy). */
const KEY_USE_ACTIONS = [
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncrypt*',
  'kms:GenerateDataKey*',
];

export interface VaultRoleProps {
  config: StewardConfig;
  role: VaultRole;
}

/**
 * A role in the vault account that only one hub role may assume: the hub's backup role (copy) or its retention
 * role (retention), by ARN, from the organization and/or with the fleet's external id, exactly as a spoke
 * role trusts the hub. No workload account is trusted: nothing there can act on the vault.
 */
export class VaultRoleConstruct extends Construct implements Grantee {
  readonly role: Role;
  readonly hubRoleArn: string;

  constructor(scope: Construct, id: string, props: VaultRoleProps) {
    super(scope, id);
    const { config, role } = props;
    const hub = config.account;
    const fleet = config.fleet;
    // The schema requires both with fleet.vault.
    if (!hub || !fleet?.vault) throw new Error('a vault needs the hub account and fleet.vault');
    this.hubRoleArn = vaultTrustedHubRoleArn(config, role, Aws.PARTITION);
    this.role = new Role(this, 'Role', {
      roleName: vaultRoleName(config.stage, role, Aws.REGION),
      description: `steward ${config.stage}: the hub's ${VAULT_ROLE_HUB[role]} function ${role === 'copy' ? 'copies snapshots into' : 'expires copies of'} this vault`,
      maxSessionDuration: Duration.hours(1),
      assumedBy: trustHubRole(hub, this.hubRoleArn, fleet),
    });
  }

  allow(p: Permission): void {
    allowOn(this.role, p);
  }

  deny(p: Omit<Permission, 'wildcardReason'>): void {
    denyOn(this.role, p);
  }
}

/** The accounts whose snapshots are copied into the vault: the hub's own and every account target's. */
export const vaultSourceAccounts = (c: StewardConfig): { accounts: string[]; anyOfOrganization: boolean } => {
  const targets = expandTargets(c);
  const accounts = [
    ...new Set([
      ...(c.account ? [c.account] : []),
      ...targets.flatMap((t) => (t.account !== undefined ? [t.account] : [])),
    ]),
  ];
  return { accounts, anyOfOrganization: targets.some((t) => t.organizationalUnit !== undefined) };
};

// Like the spoke: no bootstrap-version rule and no assets, so it deploys into an account `cdk bootstrap`
// may never have seen.
const vaultSynthesizer = () => new DefaultStackSynthesizer({ generateBootstrapVersionRule: false });

export interface VaultStackProps extends Omit<StackProps, 'env' | 'tags' | 'synthesizer'> {
  config: StewardConfig;
}

/**
 * `Steward-<stage>-vault`, deployed into the vault account once per vault region: the vault key (only the
 * vault roles use it, through RDS), the copy role and the retention role. Region-agnostic: the same
 * template deploys into each vault region.
 */
export class VaultStack extends Stack {
  readonly key: Key;
  readonly copyRole: VaultRoleConstruct;
  readonly retentionRole: VaultRoleConstruct;
  /** Present when a drill target restores from the vault. */
  readonly drillRole?: VaultDrillRole;

  constructor(scope: Construct, id: string, props: VaultStackProps) {
    const { config, ...stackProps } = props;
    const vault = vaultOf(config);
    if (!vault) throw new Error(`stage ${config.stage} has no fleet.vault`);
    super(scope, id, {
      description: `steward ${config.stage}: the backup vault (copies of every RDS and Aurora snapshot${backsUpEbs(config) ? ' and EBS snapshot set' : ''}, the vault key, its copy and retention roles)`,
      ...stackProps,
      env: { account: vault.account },
      synthesizer: vaultSynthesizer(),
      tags: { 'steward:stage': config.stage },
    });
    const here = Aws.REGION;
    const rds = (region: string, account: string, type: string) =>
      `arn:${Aws.PARTITION}:rds:${region}:${account}:${type}:${ID_PREFIX}*`;

    this.copyRole = new VaultRoleConstruct(this, 'CopyRole', { config, role: 'copy' });
    this.retentionRole = new VaultRoleConstruct(this, 'RetentionRole', { config, role: 'retention' });
    const copy = this.copyRole;
    const retention = this.retentionRole;

    // With EBS sets the vault key is used through EC2 too (a CopySnapshot re-encrypts with it).
    const ebs = backsUpEbs(config);
    const viaRds = {
      'kms:ViaService': ebs
        ? [`rds.${here}.amazonaws.com`, `ec2.${here}.amazonaws.com`]
        : `rds.${here}.amazonaws.com`,
    };
    this.key = new Key(this, 'Key', {
      alias: vaultKeyAlias(config),
      description: `steward ${config.stage}: encrypts the vault's snapshot copies; only the vault roles use it, through RDS${ebs ? ' and EC2' : ''}`,
      enableKeyRotation: true,
      // Losing the key loses every copy in the vault.
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
      policy: new PolicyDocument({
        statements: [
          new PolicyStatement({
            sid: 'VaultAccountAdministersKeyButCannotUseIt',
            principals: [new AccountRootPrincipal()],
            actions: KEY_ADMIN_ACTIONS,
            resources: ['*'],
          }),
          new PolicyStatement({
            sid: 'VaultCopyRoleGrantsForRds',
            principals: [new ArnPrincipal(copy.role.roleArn)],
            actions: ['kms:CreateGrant'],
            resources: ['*'],
            conditions: { StringEquals: viaRds, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
          }),
          new PolicyStatement({
            sid: 'VaultCopyRoleUsesKeyThroughRds',
            principals: [new ArnPrincipal(copy.role.roleArn)],
            actions: KEY_USE_ACTIONS,
            resources: ['*'],
            conditions: { StringEquals: viaRds },
          }),
        ],
      }),
    });

    // Drills from the vault (drill.targets.<db>.from: vault): the drill role and its use of the key.
    if (hasVaultDrills(config)) {
      this.drillRole = new VaultDrillRole(this, 'DrillRole', { config });
      allowHubDrillsOnVaultKey(this.key, config);
    }

    const { accounts, anyOfOrganization } = vaultSourceAccounts(config);
    const organizationId = config.fleet?.organizationId;
    // Sources: steward's snapshots in the hub and the account targets (by account), and, for OU targets, in
    // any account of the organization (aws:ResourceOrgID).
    const sources = (type: string) => accounts.map((a) => rds(here, a, type));
    const ours = (type: string) => rds(here, Aws.ACCOUNT_ID, type);
    const requestManaged = {
      StringEquals: {
        [`aws:RequestTag/${Tag.managed}`]: 'true',
        [`aws:RequestTag/${VaultTag.vault}`]: 'true',
      },
    };

    copy.allow({
      sid: 'ReadVaultAndSharedSnapshots',
      actions: ['rds:DescribeDBSnapshots', 'rds:DescribeDBClusterSnapshots'],
      resources: ['*'],
      wildcardReason:
        "Read-only: the vault's own copies and the snapshots shared with the vault account (ids generated per run, in any source account).",
    });
    copy.allow({
      sid: 'CopyIntoVault',
      actions: ['rds:CopyDBSnapshot', 'rds:CopyDBClusterSnapshot'],
      resources: [ours('snapshot'), ours('cluster-snapshot')],
      conditions: requestManaged,
      wildcardReason: `Vault copy ids are generated per source (${ID_PREFIX}<db>-<time>-<kind>-<fingerprint>); every copy must be tagged ${Tag.managed}=true and ${VaultTag.vault}=true.`,
    });
    copy.allow({
      sid: 'TagVaultCopiesOnCreate',
      actions: ['rds:AddTagsToResource'],
      resources: [ours('snapshot'), ours('cluster-snapshot')],
      conditions: requestManaged,
      wildcardReason: `Tag-on-create of the vault's copies (${ID_PREFIX}* ids, tagged ${Tag.managed}=true and ${VaultTag.vault}=true).`,
    });
    copy.allow({
      sid: 'CopyFromSharedSourceSnapshots',
      actions: ['rds:CopyDBSnapshot', 'rds:CopyDBClusterSnapshot'],
      resources: [...sources('snapshot'), ...sources('cluster-snapshot')],
      wildcardReason: `Source side of a vault copy: steward's own snapshots (${ID_PREFIX}*) in the hub and target accounts; they are readable only while their account shares them with the vault.`,
    });
    if (anyOfOrganization && organizationId)
      copy.allow({
        sid: 'CopyFromSharedSourceSnapshotsOfOrganization',
        actions: ['rds:CopyDBSnapshot', 'rds:CopyDBClusterSnapshot'],
        resources: [rds(here, '*', 'snapshot'), rds(here, '*', 'cluster-snapshot')],
        conditions: { StringEquals: { 'aws:ResourceOrgID': organizationId } },
        wildcardReason: `Accounts of an organizational unit are unknown at synth: steward's snapshots (${ID_PREFIX}*) in any account of ${organizationId} (aws:ResourceOrgID) only.`,
      });
    // The source snapshot's key is in the source account: its own policy must let the vault account use it
    // through RDS (README: Fleet); this is the vault role's half.
    const sourceKeys = accounts.map((a) => `arn:${Aws.PARTITION}:kms:${here}:${a}:key/*`);
    copy.allow({
      sid: 'UseSourceKeysThroughRds',
      actions: ['kms:DescribeKey', 'kms:Decrypt', 'kms:CreateGrant'],
      resources: anyOfOrganization ? [`arn:${Aws.PARTITION}:kms:${here}:*:key/*`] : sourceKeys,
      conditions: {
        StringEquals: {
          'kms:ViaService': `rds.${here}.amazonaws.com`,
          ...(anyOfOrganization && organizationId ? { 'aws:ResourceOrgID': organizationId } : {}),
        },
      },
      wildcardReason:
        'The source snapshots are encrypted with keys of the source accounts, unknown at synth: through RDS in this region only.',
    });
    copy.allow({
      sid: 'UseVaultKeyThroughRds',
      actions: [...KEY_USE_ACTIONS, 'kms:CreateGrant'],
      resources: [this.key.keyArn],
      conditions: { StringEquals: viaRds },
      wildcardReason: 'RDS re-encrypts the copy with the vault key (ReEncrypt*/GenerateDataKey* families).',
    });
    // The copy role copies in; it never deletes, re-shares or re-tags a copy, whatever else it is allowed.
    copy.deny({
      sid: 'NeverDeleteOrShareVaultCopies',
      actions: [
        'rds:DeleteDBSnapshot',
        'rds:DeleteDBClusterSnapshot',
        'rds:ModifyDBSnapshotAttribute',
        'rds:ModifyDBClusterSnapshotAttribute',
        'rds:RemoveTagsFromResource',
      ],
      resources: [ours('snapshot'), ours('cluster-snapshot')],
    });

    if (ebs) grantEbsVault(this, copy, config, accounts, anyOfOrganization);

    // Retention: the hub's GFS engine with the vault's policy. It reads the vault's snapshots and deletes only
    // copies steward made there (both marks), never a held one; it can neither share nor re-tag anything.
    retention.allow({
      sid: 'ReadVaultSnapshots',
      actions: ['rds:DescribeDBSnapshots', 'rds:DescribeDBClusterSnapshots', 'rds:ListTagsForResource'],
      resources: ['*'],
      wildcardReason: "Read-only inventory of the vault's snapshots, whose ids are generated per copy.",
    });
    for (const [sid, action, type] of [
      ['DeleteVaultDbCopies', 'rds:DeleteDBSnapshot', 'snapshot'],
      ['DeleteVaultClusterCopies', 'rds:DeleteDBClusterSnapshot', 'cluster-snapshot'],
    ] as const) {
      retention.allow({
        sid,
        actions: [action],
        resources: [ours(type)],
        conditions: {
          StringEquals: {
            [`rds:${type}-tag/${Tag.managed}`]: 'true',
            [`rds:${type}-tag/${VaultTag.vault}`]: 'true',
          },
        },
        wildcardReason: `Expired vault copies are chosen per run; only ${ID_PREFIX}* copies tagged ${Tag.managed}=true and ${VaultTag.vault}=true (made by the copy role) can be deleted.`,
      });
    }
    denyHeldDeletes(retention, { stack: this, regions: [here], cacheRegion: here });
    if (ebs) {
      retention.allow({
        sid: 'ReadVaultEbsSnapshots',
        actions: ['ec2:DescribeSnapshots'],
        resources: ['*'],
        wildcardReason:
          'DescribeSnapshots supports no resource-level permissions (Service Authorization Reference).',
      });
      retention.allow({
        sid: 'DeleteVaultEbsCopies',
        actions: ['ec2:DeleteSnapshot'],
        resources: [ec2Arn(this, here, 'snapshot', '*')],
        conditions: {
          StringEquals: {
            [`aws:ResourceTag/${Tag.managed}`]: 'true',
            [`aws:ResourceTag/${VaultTag.vault}`]: 'true',
          },
        },
        wildcardReason: `EBS snapshot ids are AWS's; only parts of sets tagged ${Tag.managed}=true and ${VaultTag.vault}=true (made by the copy role) can be deleted.`,
      });
      retention.deny({
        sid: 'NeverShareOrRetagVaultEbsSnapshots',
        actions: ['ec2:ModifySnapshotAttribute', 'ec2:CreateTags', 'ec2:DeleteTags'],
        resources: ['*'],
      });
    }
    retention.deny({
      sid: 'NeverShareOrRetagVaultSnapshots',
      actions: [
        'rds:ModifyDBSnapshotAttribute',
        'rds:ModifyDBClusterSnapshotAttribute',
        'rds:AddTagsToResource',
        'rds:RemoveTagsFromResource',
      ],
      resources: ['*'],
    });
  }
}

/**
 * The copy role's EBS half: read the vault's sets and what source accounts share with it, copy a shared part
 * into a `steward:managed` + `steward:vault` snapshot (tag-on-create only), use the source accounts' keys and
 * the vault key through EC2 only, and never delete, re-share or untag an EBS snapshot.
 */
const grantEbsVault = (
  stack: Stack,
  copy: VaultRoleConstruct,
  config: StewardConfig,
  accounts: readonly string[],
  anyOfOrganization: boolean,
): void => {
  const here = Aws.REGION;
  const snapshots = ec2Arn(stack, here, 'snapshot', '*');
  const requestManaged = {
    [`aws:RequestTag/${Tag.managed}`]: 'true',
    [`aws:RequestTag/${VaultTag.vault}`]: 'true',
  };
  const viaEc2 = { 'kms:ViaService': `ec2.${here}.amazonaws.com` };
  const organizationId = config.fleet?.organizationId;
  copy.allow({
    sid: 'ReadVaultAndSharedEbsSnapshots',
    actions: ['ec2:DescribeSnapshots'],
    resources: ['*'],
    wildcardReason:
      'DescribeSnapshots supports no resource-level permissions (Service Authorization Reference).',
  });
  // CopySnapshot authorizes the new copy and the (shared) source snapshot alike (Service Authorization
  // Reference); both carry the request's tags, so every copy must be tagged as the vault's.
  copy.allow({
    sid: 'CopyEbsIntoVault',
    actions: ['ec2:CopySnapshot'],
    resources: [snapshots],
    conditions: { StringEquals: requestManaged },
    wildcardReason: `EBS snapshot ids are AWS's; every copy must be tagged ${Tag.managed}=true and ${VaultTag.vault}=true.`,
  });
  copy.allow({
    sid: 'TagEbsVaultCopiesOnCreate',
    actions: ['ec2:CreateTags'],
    resources: [snapshots],
    conditions: { StringEquals: { ...requestManaged, 'ec2:CreateAction': 'CopySnapshot' } },
    wildcardReason: `Tag-on-create of the vault's EBS copies only (ec2:CreateAction), tagged ${Tag.managed}=true and ${VaultTag.vault}=true.`,
  });
  // A shared encrypted snapshot is copied with its own key, in the source account: that key's policy must let
  // the vault account use it (EBS User Guide, "Share an Amazon EBS snapshot"); this is the vault role's half.
  copy.allow({
    sid: 'UseSourceKeysThroughEbs',
    actions: ['kms:DescribeKey', 'kms:Decrypt', 'kms:CreateGrant', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
    resources: anyOfOrganization
      ? [`arn:${Aws.PARTITION}:kms:${here}:*:key/*`]
      : accounts.map((a) => `arn:${Aws.PARTITION}:kms:${here}:${a}:key/*`),
    conditions: {
      StringEquals: {
        ...viaEc2,
        ...(anyOfOrganization && organizationId ? { 'aws:ResourceOrgID': organizationId } : {}),
      },
    },
    wildcardReason:
      'The source volumes are encrypted with keys of the source accounts, unknown at synth: through EC2 in this region only.',
  });
  copy.deny({
    sid: 'NeverDeleteOrShareVaultEbsCopies',
    actions: ['ec2:DeleteSnapshot', 'ec2:ModifySnapshotAttribute', 'ec2:DeleteTags'],
    resources: [snapshots],
  });
};
