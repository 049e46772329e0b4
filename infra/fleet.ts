import { ArnFormat, Aws, Stack } from 'aws-cdk-lib';
import { type CfnEventBus, EventBus, EventField, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import {
  AccountPrincipal,
  AnyPrincipal,
  type IPrincipal,
  PolicyDocument,
  PolicyStatement,
} from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { FleetConfig, StewardConfig } from '../shared/config/schema.js';
import {
  type SpokeCapability,
  spokeRoleName,
  spokeTargets,
  type TargetRef,
  targetRoleArn,
} from '../shared/fleet/targets.js';
import { ID_PREFIX } from '../shared/backup/ids.js';
import {
  vaultOf,
  type VaultRole,
  vaultRoleName,
  vaultShareKeyAlias,
  VaultTag,
} from '../shared/fleet/vault.js';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Tag } from '../shared/tags.js';
import type { Grantee } from './permission.js';
import { ec2Arn } from './arns.js';
import { backsUpEbs } from '../shared/aws/ebs.js';

/** The hub's fleet event bus: `steward-<stage>-fleet`, in the stage's account and region. */
export const fleetBusName = (stage: string): string => `steward-${stage}-fleet`;

/** The fleet bus's ARN, as a spoke in another account names it. */
export const fleetBusArn = (config: StewardConfig): string =>
  `arn:${Aws.PARTITION}:events:${config.region}:${config.account ?? Aws.ACCOUNT_ID}:event-bus/${fleetBusName(config.stage)}`;

/**
 * The hub half of the fleet: the event bus the spokes forward their alarm, RDS, Health and copy events to.
 * Only accounts of the organization (or, without one, the account targets) may put events on it. The backup
 * function's rules act on the spokes' database, Health, snapshot and copy-finished events (infra/backup.ts,
 * forwardFromFleet); the scaling function's on their rules' alarms and their databases' failovers
 * (infra/scaling.ts, forwardFromFleet).
 */
export class FleetBus extends Construct {
  readonly bus: EventBus;

  constructor(scope: Construct, id: string, props: { config: StewardConfig }) {
    super(scope, id);
    const { config } = props;
    this.bus = new EventBus(this, 'Bus', {
      eventBusName: fleetBusName(config.stage),
      description: `steward ${config.stage}: events forwarded by the spokes of the fleet`,
    });
    const organizationId = config.fleet?.organizationId;
    const accounts = [
      ...new Set(spokeTargets(config).flatMap((t) => (t.account !== undefined ? [t.account] : []))),
    ];
    // The policy inline on the bus (one resource; EventBus.addToResourcePolicy's separate policy resource
    // goes through CfnEventBusPolicy's deprecated `principal`).
    const statement = new PolicyStatement({
      sid: 'SpokesPutEvents',
      actions: ['events:PutEvents'],
      // The bus's own ARN as a literal: a reference to itself would be a circular dependency.
      resources: [
        Stack.of(this).formatArn({
          service: 'events',
          resource: 'event-bus',
          resourceName: fleetBusName(config.stage),
        }),
      ],
      ...(organizationId
        ? {
            principals: [new AnyPrincipal()],
            conditions: { StringEquals: { 'aws:PrincipalOrgID': organizationId } },
          }
        : { principals: accounts.map((a) => new AccountPrincipal(a)) }),
    });
    (this.bus.node.defaultChild as CfnEventBus).policy = new PolicyDocument({
      statements: [statement],
    }).toJSON();
  }
}

/**
 * What a rule on the fleet bus hands a function: the spoke's event wrapped as `forwarded`
 * (shared/fleet/forwarded.ts), so it is never taken for one of the hub's own (those arrive unwrapped).
 */
export const forwardedInput = (): RuleTargetInput =>
  RuleTargetInput.fromObject({
    action: 'forwarded',
    partition: Aws.PARTITION,
    event: EventField.fromPath('$'),
  });

/**
 * Let a hub function assume its capability's role in every spoke target: by ARN for account targets, and
 * in any account of the organization for OU targets (aws:ResourceOrgID), never elsewhere.
 */
export const allowAssumeSpokeRoles = (
  to: Grantee,
  config: StewardConfig,
  capability: SpokeCapability,
): void => {
  const targets = spokeTargets(config);
  const accounts = targets.filter((t): t is TargetRef & { account: string } => t.account !== undefined);
  const arns = [...new Set(accounts.map((t) => targetRoleArn(config, t, capability, Aws.PARTITION)))];
  if (arns.length)
    to.allow({ sid: 'AssumeSpokeRolesOfAccounts', actions: ['sts:AssumeRole'], resources: arns });
  const ous = targets.filter((t) => t.organizationalUnit !== undefined);
  const organizationId = config.fleet?.organizationId;
  if (ous.length && organizationId) {
    const names = [...new Set(ous.map((t) => t.role ?? spokeRoleName(config.stage, capability, t.region)))];
    to.allow({
      sid: 'AssumeSpokeRolesOfOrganization',
      actions: ['sts:AssumeRole'],
      resources: names.map((n) => `arn:${Aws.PARTITION}:iam::*:role/${n}`),
      conditions: { StringEquals: { 'aws:ResourceOrgID': organizationId } },
      wildcardReason: `Accounts of an organizational unit are unknown at synth: the spoke role names ${names.join(', ')} in any account of ${organizationId} (aws:ResourceOrgID) only.`,
    });
  }
};

/**
 * Let the hub function that starts a cycle list the accounts of the config's OU targets: ListChildren and
 * ListAccountsForParent on the organization's OUs and root (nested OUs are unknown at synth; the
 * Organizations ARNs name the management account, which the config does not), DescribeOrganization (no
 * resource type: `*`) for the management account. Organizations answers them only in the management
 * account or a delegated administrator's, which the hub must be.
 */
export const allowListOrganization = (to: Grantee, config: StewardConfig): void => {
  const org = config.fleet?.organizationId;
  if (!org) return;
  to.allow({
    sid: 'ListOrganizationalUnitAccounts',
    actions: ['organizations:ListAccountsForParent', 'organizations:ListChildren'],
    resources: [
      `arn:${Aws.PARTITION}:organizations::*:ou/${org}/ou-*`,
      `arn:${Aws.PARTITION}:organizations::*:root/${org}/r-*`,
    ],
    wildcardReason: `The accounts of the OU targets, and of the OUs nested in them, are listed at the start of each cycle: OUs of ${org} only (its management account and nested OUs are unknown at synth).`,
  });
  to.allow({
    sid: 'DescribeOrganization',
    actions: ['organizations:DescribeOrganization'],
    resources: ['*'],
    wildcardReason:
      'DescribeOrganization has no resource type (Service Authorization Reference): it names the management account, where a StackSet deploys no spoke.',
  });
};

/** Let a hub role assume its vault role in every vault region (by ARN; the vault role's trust names it back). */
export const allowAssumeVaultRole = (to: Grantee, config: StewardConfig, role: VaultRole): void => {
  const vault = vaultOf(config);
  if (!vault) return;
  to.allow({
    sid: role === 'copy' ? 'AssumeVaultCopyRole' : 'AssumeVaultRetentionRole',
    actions: ['sts:AssumeRole'],
    resources: vault.regions.map(
      (r) => `arn:${Aws.PARTITION}:iam::${vault.account}:role/${vaultRoleName(config.stage, role, r)}`,
    ),
  });
};

/**
 * Let a backup role (the hub's, a spoke's) share steward's own snapshots for the vault's copy, and unshare
 * them after: ModifyDB(Cluster)SnapshotAttribute on `steward-*` snapshots tagged steward:managed=true. The
 * Service Authorization Reference gives these actions no condition key for the accounts added, so the
 * vault account cannot be pinned in IAM: the code only ever adds the configured vault account.
 *
 * An `aws/rds`-key snapshot cannot be shared at all ("Sharing encrypted snapshots", RDS User Guide), so the
 * stack also holds the share key (`vaultShareKeyAlias`): a customer managed key the vault account may use
 * through RDS only, which the role copies such a snapshot with (in its own account and region), shares that
 * copy, and deletes it once the vault's copy settles (only copies tagged steward:reencrypted-from).
 */
export const allowShareWithVault = (
  to: Grantee,
  stack: Stack,
  region: string,
  config: StewardConfig,
): void => {
  const vault = vaultOf(config);
  if (!vault) return;
  const snapshotArn = (type: string) =>
    stack.formatArn({
      service: 'rds',
      region,
      resource: type,
      resourceName: `${ID_PREFIX}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  for (const [sid, action, type] of [
    ['ShareManagedDbSnapshotsWithVault', 'rds:ModifyDBSnapshotAttribute', 'snapshot'],
    ['ShareManagedClusterSnapshotsWithVault', 'rds:ModifyDBClusterSnapshotAttribute', 'cluster-snapshot'],
  ] as const) {
    to.allow({
      sid,
      actions: [action],
      resources: [snapshotArn(type)],
      conditions: { StringEquals: { [`rds:${type}-tag/${Tag.managed}`]: 'true' } },
      wildcardReason: `Snapshot ids are generated per run; only steward's own (${ID_PREFIX}*, ${Tag.managed}=true) are shared with the vault account, then unshared.`,
    });
  }

  // EBS snapshot sets: each part's create-volume permission, for the vault account only (ec2:Add/userId and
  // ec2:Remove/userId, Service Authorization Reference), never a group (`all` would make it public).
  if (backsUpEbs(config))
    for (const [sid, key] of [
      ['ShareManagedEbsSnapshotsWithVault', 'ec2:Add/userId'],
      ['UnshareManagedEbsSnapshotsFromVault', 'ec2:Remove/userId'],
    ] as const)
      to.allow({
        sid,
        actions: ['ec2:ModifySnapshotAttribute'],
        resources: [ec2Arn(stack, region, 'snapshot', '*')],
        conditions: {
          StringEquals: { [`aws:ResourceTag/${Tag.managed}`]: 'true', [key]: vault.account },
          Null: { 'ec2:Add/group': 'true' },
        },
        wildcardReason: `EBS snapshot ids are AWS's; only steward's own (${Tag.managed}=true) are shared with the vault account ${vault.account}, then unshared.`,
      });

  const viaRds = { 'kms:ViaService': `rds.${region}.amazonaws.com` };
  const key = new Key(stack, 'VaultShareKey', {
    alias: vaultShareKeyAlias(config.stage),
    description: `steward ${config.stage}: re-encrypts aws/rds-key snapshots so the vault account ${vault.account} can copy them`,
    enableKeyRotation: true,
  });
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'VaultAccountReadsThroughRds',
      principals: [new AccountPrincipal(vault.account)],
      actions: ['kms:Decrypt', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: { StringEquals: viaRds },
    }),
  );
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'VaultAccountGrantsForRds',
      principals: [new AccountPrincipal(vault.account)],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { StringEquals: viaRds, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    }),
  );
  to.allow({
    sid: 'ReencryptManagedSnapshotsForVault',
    actions: ['rds:CopyDBSnapshot', 'rds:CopyDBClusterSnapshot'],
    resources: [snapshotArn('snapshot'), snapshotArn('cluster-snapshot')],
    conditions: {
      StringEquals: { [`aws:RequestTag/${Tag.managed}`]: 'true' },
      Null: { [`aws:RequestTag/${VaultTag.reencryptedFrom}`]: 'false' },
    },
    wildcardReason: `Copy ids are generated (${ID_PREFIX}*); every request tags the copy ${Tag.managed}=true and ${VaultTag.reencryptedFrom}.`,
  });
  for (const [sid, action, type] of [
    ['DeleteReencryptedDbSnapshots', 'rds:DeleteDBSnapshot', 'snapshot'],
    ['DeleteReencryptedClusterSnapshots', 'rds:DeleteDBClusterSnapshot', 'cluster-snapshot'],
  ] as const) {
    to.allow({
      sid,
      actions: [action],
      resources: [snapshotArn(type)],
      conditions: {
        StringEquals: { [`rds:${type}-tag/${Tag.managed}`]: 'true' },
        Null: { [`rds:${type}-tag/${VaultTag.reencryptedFrom}`]: 'false' },
      },
      wildcardReason: `Only steward's re-encrypted copies (${ID_PREFIX}*, ${Tag.managed}=true, ${VaultTag.reencryptedFrom}) are deleted, once the vault holds its copy.`,
    });
  }
  to.allow({
    sid: 'ShareKeyGrantsForRds',
    actions: ['kms:CreateGrant'],
    resources: [key.keyArn],
    conditions: { StringEquals: viaRds, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
  });
  to.allow({
    sid: 'UseShareKeyThroughRds',
    actions: ['kms:DescribeKey', 'kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
    resources: [key.keyArn],
    conditions: { StringEquals: viaRds },
    wildcardReason: 'RDS re-encrypts the copy with the share key (ReEncrypt*/GenerateDataKey* families).',
  });
};

/**
 * The trust of a role the hub assumes in another account (a spoke role, a vault role): only `hubRoleArn` of
 * the hub account (as `aws:PrincipalArn`, so a recreated hub role keeps working), from the organization
 * and/or with the fleet's external id.
 */
export const trustHubRole = (hub: string, hubRoleArn: string, fleet: FleetConfig): IPrincipal =>
  new AccountPrincipal(hub).withConditions({
    ArnEquals: { 'aws:PrincipalArn': hubRoleArn },
    ...(fleet.organizationId || fleet.externalId
      ? {
          StringEquals: {
            ...(fleet.organizationId ? { 'aws:PrincipalOrgID': fleet.organizationId } : {}),
            ...(fleet.externalId ? { 'sts:ExternalId': fleet.externalId } : {}),
          },
        }
      : {}),
  });
