import { Aws, Duration, Stack } from 'aws-cdk-lib';
import { ArnPrincipal, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import type { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ID_PREFIX } from '../shared/backup/ids.js';
import type { StewardConfig } from '../shared/config/schema.js';
import { DRILL_PREFIX } from '../shared/drill/ids.js';
import { vaultOf, VaultTag } from '../shared/fleet/vault.js';
import {
  hasEbsVaultDrills,
  hasRdsVaultDrills,
  hubDrillRoleArn,
  vaultDrillRoleArn,
  vaultDrillRoleName,
} from '../shared/fleet/vault-drill.js';
import { Tag } from '../shared/tags.js';
import { ec2Arn } from './arns.js';
import { trustHubRole } from './fleet.js';
import { allowOn, denyOn, type Grantee, type Permission } from './permission.js';

// Drills from the backup vault (`drill.targets.<db>.from: vault`): the vault drill role in the vault stack,
// its half of the vault key's policy, and the hub drill role's grants.

/** Key use RDS needs to copy or restore a snapshot encrypted with another account's key (as the share key allows). */
const SHARED_KEY_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:CreateGrant'];

/**
 * Key use EC2 needs to create a volume from a snapshot encrypted with another account's key, re-encrypted with a
 * key of the caller's account (EBS User Guide, "Share an Amazon EBS snapshot": the recipient needs the shared
 * key's DescribeKey, CreateGrant, Decrypt and ReEncrypt; the new volume's own key is the hub's default EBS key).
 */
const SHARED_EBS_KEY_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:CreateGrant', 'kms:ReEncryptFrom'];

/**
 * The role in the vault account the hub's drill role assumes (by ARN, from the organization and/or with the
 * fleet's external id, like the other vault roles): it reads the vault's snapshots and shares a steward vault
 * copy for one drill. It can neither copy, delete nor re-tag a copy; no workload account is trusted.
 */
export class VaultDrillRole extends Construct implements Grantee {
  readonly role: Role;

  constructor(scope: Construct, id: string, props: { config: StewardConfig }) {
    super(scope, id);
    const { config } = props;
    const fleet = config.fleet;
    if (!config.account || !fleet?.vault) throw new Error('a vault needs the hub account and fleet.vault');
    this.role = new Role(this, 'Role', {
      roleName: vaultDrillRoleName(config.stage, Aws.REGION),
      description: `steward ${config.stage}: the hub's drill function shares this vault's copies with the hub for restore drills`,
      maxSessionDuration: Duration.hours(1),
      assumedBy: trustHubRole(config.account, hubDrillRoleArn(config, Aws.PARTITION), fleet),
    });
    const copies = (type: string) =>
      `arn:${Aws.PARTITION}:rds:${Aws.REGION}:${Aws.ACCOUNT_ID}:${type}:${ID_PREFIX}*`;
    if (hasEbsVaultDrills(config)) this.allowEbsShares(config.account);
    if (!hasRdsVaultDrills(config)) return;
    this.allow({
      sid: 'ReadVaultSnapshots',
      actions: ['rds:DescribeDBSnapshots', 'rds:DescribeDBClusterSnapshots'],
      resources: ['*'],
      wildcardReason:
        "Read-only: the vault's copies of a drilled database, whose ids are generated per copy.",
    });
    // The accounts added to a share are no condition key (Service Authorization Reference, ModifyDBSnapshotAttribute):
    // the role is limited to steward's vault copies by id prefix and both vault tags; the code adds only the hub.
    // It reads the copy's attributes first: a share made before the drill (by hand) is not the drill's to take back.
    for (const [sid, action, read, type] of [
      [
        'ShareVaultDbCopiesForDrills',
        'rds:ModifyDBSnapshotAttribute',
        'rds:DescribeDBSnapshotAttributes',
        'snapshot',
      ],
      [
        'ShareVaultClusterCopiesForDrills',
        'rds:ModifyDBClusterSnapshotAttribute',
        'rds:DescribeDBClusterSnapshotAttributes',
        'cluster-snapshot',
      ],
    ] as const) {
      this.allow({
        sid,
        actions: [action, read],
        resources: [copies(type)],
        conditions: {
          StringEquals: {
            [`rds:${type}-tag/${Tag.managed}`]: 'true',
            [`rds:${type}-tag/${VaultTag.vault}`]: 'true',
          },
        },
        wildcardReason: `Vault copies are chosen per drill; only ${ID_PREFIX}* copies tagged ${Tag.managed}=true and ${VaultTag.vault}=true.`,
      });
    }
    this.deny({
      sid: 'NeverCopyDeleteOrRetagVaultSnapshots',
      actions: [
        'rds:CopyDBSnapshot',
        'rds:CopyDBClusterSnapshot',
        'rds:DeleteDBSnapshot',
        'rds:DeleteDBClusterSnapshot',
        'rds:AddTagsToResource',
        'rds:RemoveTagsFromResource',
      ],
      resources: ['*'],
    });
  }

  /**
   * EBS drills from the vault: list the vault's snapshots, and add or remove the hub account (only) to the
   * create-volume permission of steward's tagged vault copies (`ec2:Add/userId`, `ec2:Remove/userId`: Service
   * Authorization Reference), never a group (`all` would make a copy public); never copy, delete or re-tag one.
   */
  private allowEbsShares(hub: string): void {
    this.allow({
      sid: 'ReadVaultEbsSnapshots',
      actions: ['ec2:DescribeSnapshots'],
      resources: ['*'],
      wildcardReason:
        'DescribeSnapshots supports no resource-level permissions (Service Authorization Reference).',
    });
    // Who may create volumes from a part now: a share made before the drill (by hand) is not the drill's to take back.
    this.allow({
      sid: 'ReadVaultEbsCopySharesForDrills',
      actions: ['ec2:DescribeSnapshotAttribute'],
      resources: [ec2Arn(Stack.of(this), Aws.REGION, 'snapshot', '*')],
      conditions: {
        StringEquals: {
          [`aws:ResourceTag/${Tag.managed}`]: 'true',
          [`aws:ResourceTag/${VaultTag.vault}`]: 'true',
        },
      },
      wildcardReason: `EBS snapshot ids are AWS's; only steward's vault copies (${Tag.managed}=true, ${VaultTag.vault}=true).`,
    });
    for (const [sid, key] of [
      ['ShareVaultEbsCopiesWithHubForDrills', 'ec2:Add/userId'],
      ['UnshareVaultEbsCopiesFromHub', 'ec2:Remove/userId'],
    ] as const)
      this.allow({
        sid,
        actions: ['ec2:ModifySnapshotAttribute'],
        resources: [ec2Arn(Stack.of(this), Aws.REGION, 'snapshot', '*')],
        conditions: {
          StringEquals: {
            [`aws:ResourceTag/${Tag.managed}`]: 'true',
            [`aws:ResourceTag/${VaultTag.vault}`]: 'true',
            [key]: hub,
          },
          Null: { 'ec2:Add/group': 'true' },
        },
        wildcardReason: `EBS snapshot ids are AWS's; only steward's vault copies (${Tag.managed}=true, ${VaultTag.vault}=true), for the hub account ${hub} only.`,
      });
    this.deny({
      sid: 'NeverCopyDeleteOrRetagVaultEbsSnapshots',
      actions: ['ec2:CopySnapshot', 'ec2:DeleteSnapshot', 'ec2:CreateTags', 'ec2:DeleteTags'],
      resources: ['*'],
    });
  }

  allow(p: Permission): void {
    allowOn(this.role, p);
  }

  deny(p: Omit<Permission, 'wildcardReason'>): void {
    denyOn(this.role, p);
  }
}

/**
 * The vault key's half of a drill from the vault: the hub's drill role may use the key through RDS in this
 * region (to copy a shared instance copy into the hub, or restore a shared cluster copy), nothing else.
 */
export const allowHubDrillsOnVaultKey = (key: Key, config: StewardConfig): void => {
  if (hasRdsVaultDrills(config))
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'HubDrillRoleUsesKeyThroughRds',
        principals: [new ArnPrincipal(hubDrillRoleArn(config, Aws.PARTITION))],
        actions: SHARED_KEY_ACTIONS,
        resources: ['*'],
        conditions: { StringEquals: { 'kms:ViaService': `rds.${Aws.REGION}.amazonaws.com` } },
      }),
    );
  // EBS drills from the vault: the hub creates its volumes from shared parts, re-encrypted with its own key.
  if (hasEbsVaultDrills(config))
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'HubDrillRoleUsesKeyThroughEc2',
        principals: [new ArnPrincipal(hubDrillRoleArn(config, Aws.PARTITION))],
        actions: SHARED_EBS_KEY_ACTIONS,
        resources: ['*'],
        conditions: { StringEquals: { 'kms:ViaService': `ec2.${Aws.REGION}.amazonaws.com` } },
      }),
    );
};

/**
 * The hub drill role's grants for drills from the vault: assume the vault drill role; copy a shared vault copy
 * into a `steward-drill-*` snapshot (tagged) and restore that, or restore a shared cluster copy; delete only
 * its own tagged drill copies; use the vault key through RDS.
 */
export const grantVaultDrills = (fn: Grantee, scope: Construct, config: StewardConfig): void => {
  const vault = vaultOf(config);
  if (!vault) return;
  const stack = Stack.of(scope);
  const { region } = config;
  const here = (type: string, name: string) =>
    `arn:${stack.partition}:rds:${region}:${stack.account}:${type}:${name}`;
  const inVault = (type: string) =>
    `arn:${stack.partition}:rds:${region}:${vault.account}:${type}:${ID_PREFIX}*`;
  const drillCopy = here('snapshot', `${DRILL_PREFIX}*`);
  const requestManaged = { StringEquals: { [`aws:RequestTag/${Tag.managed}`]: 'true' } };
  fn.allow({
    sid: 'AssumeVaultDrillRole',
    actions: ['sts:AssumeRole'],
    resources: [vaultDrillRoleArn(config, region, stack.partition)],
  });
  if (hasEbsVaultDrills(config)) grantEbsVaultDrills(fn, stack, region, vault.account);
  if (!hasRdsVaultDrills(config)) return;
  fn.allow({
    sid: 'CopyVaultCopiesForDrills',
    actions: ['rds:CopyDBSnapshot'],
    resources: [inVault('snapshot'), drillCopy],
    conditions: requestManaged,
    wildcardReason: `A vault copy (${ID_PREFIX}*, readable only while the vault shares it) into the drill's own ${DRILL_PREFIX}* copy, tagged ${Tag.managed}=true.`,
  });
  fn.allow({
    sid: 'TagDrillCopiesOnCreate',
    actions: ['rds:AddTagsToResource'],
    resources: [drillCopy],
    conditions: requestManaged,
    wildcardReason: `Tag-on-create of the drill's copies (${DRILL_PREFIX}*, per execution), ${Tag.managed}=true required.`,
  });
  fn.allow({
    sid: 'RestoreFromVaultCopies',
    actions: ['rds:RestoreDBInstanceFromDBSnapshot', 'rds:RestoreDBClusterFromSnapshot'],
    resources: [drillCopy, inVault('cluster-snapshot')],
    conditions: requestManaged,
    wildcardReason: `The drill's own copy of a vault instance copy (${DRILL_PREFIX}*), or a shared vault cluster copy (${ID_PREFIX}*).`,
  });
  fn.allow({
    sid: 'DeleteDrillCopies',
    actions: ['rds:DeleteDBSnapshot'],
    resources: [drillCopy],
    conditions: {
      StringEquals: { [`rds:snapshot-tag/${Tag.managed}`]: 'true' },
      Null: { [`rds:snapshot-tag/${Tag.drill}`]: 'false' },
    },
    wildcardReason: `Cleanup deletes the drill's own copies only: ${DRILL_PREFIX}*, tagged ${Tag.managed}=true and ${Tag.drill}.`,
  });
  fn.allow({
    sid: 'UseVaultKeysThroughRds',
    actions: SHARED_KEY_ACTIONS,
    resources: [`arn:${stack.partition}:kms:${region}:${vault.account}:key/*`],
    conditions: { StringEquals: { 'kms:ViaService': `rds.${region}.amazonaws.com` } },
    wildcardReason: "The vault key's id is the vault stack's; through RDS in this region only.",
  });
};

/**
 * The hub drill role's half of an EBS drill from the vault: create its drill volumes from the vault's shared
 * parts (steward's vault copies only, by their tags; the volumes' own grants are allowEbsDrill's), and use the
 * vault key through EC2 in this region to re-encrypt them with the hub's key.
 */
const grantEbsVaultDrills = (fn: Grantee, stack: Stack, region: string, vaultAccount: string): void => {
  fn.allow({
    sid: 'DrillVolumesFromVaultEbsCopies',
    actions: ['ec2:CreateVolume'],
    resources: [ec2Arn(stack, region, 'snapshot', '*')],
    conditions: {
      StringEquals: {
        [`aws:ResourceTag/${Tag.managed}`]: 'true',
        [`aws:ResourceTag/${VaultTag.vault}`]: 'true',
      },
    },
    wildcardReason: `EBS snapshot ids are AWS's; only steward's vault copies (${Tag.managed}=true, ${VaultTag.vault}=true), readable only while the vault shares them.`,
  });
  fn.allow({
    sid: 'UseVaultKeysThroughEc2',
    actions: SHARED_EBS_KEY_ACTIONS,
    resources: [`arn:${stack.partition}:kms:${region}:${vaultAccount}:key/*`],
    conditions: { StringEquals: { 'kms:ViaService': `ec2.${region}.amazonaws.com` } },
    wildcardReason: "The vault key's id is the vault stack's; through EC2 in this region only.",
  });
};
