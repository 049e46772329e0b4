import type { StewardConfig } from '../config/schema.js';
import type { Snapshot } from '../model.js';
import { Tag } from '../tags.js';
import { isVaultCopy, vaultOf, VaultTag } from './vault.js';

// Drills from the backup vault (`drill.targets.<db>.from: vault`), the pure half: the vault drill role's name,
// which copies of a database a drill may pick, and when they were taken. No SDK, no environment.

/**
 * `steward-<stage>-vault-drill-<region>`: the role in the vault account that the hub's drill role assumes to
 * read the vault's copies and share one with the hub for one drill (at most 51 characters of IAM's 64).
 */
export const vaultDrillRoleName = (stage: string, region: string): string =>
  `steward-${stage}-vault-drill-${region}`;

/** The vault drill role's ARN in `region`. */
export const vaultDrillRoleArn = (c: StewardConfig, region: string, partition = 'aws'): string => {
  const v = vaultOf(c);
  if (!v) throw new Error(`stage ${c.stage} has no fleet.vault`);
  return `arn:${partition}:iam::${v.account}:role/${vaultDrillRoleName(c.stage, region)}`;
};

/** The hub's drill role: named (like the backup and retention roles) so the vault can trust it by ARN. */
export const hubDrillRoleName = (stage: string, region: string): string => `steward-${stage}-drill-${region}`;

/** The hub drill role's ARN, as the vault drill role's trust policy and the vault key's policy name it. */
export const hubDrillRoleArn = (c: StewardConfig, partition = 'aws'): string => {
  if (!c.account) throw new Error('a vault needs the hub account (config account)');
  return `arn:${partition}:iam::${c.account}:role/${hubDrillRoleName(c.stage, c.region)}`;
};

/** Databases drilled from the vault (`from: vault`). */
export const vaultDrillTargets = (c: StewardConfig): string[] =>
  Object.entries(c.drill.targets)
    .filter(([, t]) => t.from === 'vault')
    .map(([db]) => db);

/** EC2 instances and EBS volumes drilled from the vault's copies of their snapshot sets (`from: vault`). */
export const vaultVolumeDrills = (c: StewardConfig): string[] =>
  Object.entries(c.drill.volumes)
    .filter(([, t]) => t.from === 'vault')
    .map(([id]) => id);

/** Whether the stage drills RDS or Aurora copies from its vault (the hub drill role's RDS grants). */
export const hasRdsVaultDrills = (c: StewardConfig): boolean =>
  c.drill.enabled && c.fleet?.vault !== undefined && vaultDrillTargets(c).length > 0;

/** Whether the stage drills EBS sets from its vault (the vault drill role's and the hub drill role's EC2 grants). */
export const hasEbsVaultDrills = (c: StewardConfig): boolean =>
  c.drill.enabled && c.fleet?.vault !== undefined && vaultVolumeDrills(c).length > 0;

/** Whether the stage drills from its vault: the vault stack then holds the drill role, the hub's drill role a name. */
export const hasVaultDrills = (c: StewardConfig): boolean => hasRdsVaultDrills(c) || hasEbsVaultDrills(c);

/** The account whose sets an EBS drill from the vault restores: the target's `account`, else the hub's. */
export const vaultVolumeAccount = (c: StewardConfig, t: { account?: string | undefined }): string => {
  const account = t.account ?? c.account;
  if (!account) throw new Error('a drill from the vault needs the hub account (config account)');
  return account;
};

/**
 * When the copy's data was taken: the source's data time the vault copy carries (a copy's own create time is
 * when the vault copied it), else its create time. RPO is measured against it.
 */
export const vaultCopyDataTime = (s: Pick<Snapshot, 'tags' | 'createdAt'>): string | undefined => {
  const t = s.tags[VaultTag.dataTime] ?? s.createdAt;
  return t !== undefined && Number.isFinite(Date.parse(t)) ? new Date(t).toISOString() : undefined;
};

/** Whose copies a drill of `database` picks from: the database's account and region (the hub's own). */
export interface VaultCopyOwner {
  database: string;
  account: string;
  region: string;
}

/**
 * Whether `s` is the vault's copy of the owner's database: made by steward in the vault (both marks) from a
 * snapshot of that database, account and region. Another account's same-named database is not it.
 */
export const isVaultCopyOf = (s: Snapshot, o: VaultCopyOwner, kind: Snapshot['kind']): boolean =>
  s.kind === kind &&
  isVaultCopy(s.tags) &&
  (s.tags[Tag.source] ?? '').toLowerCase() === o.database.toLowerCase() &&
  s.tags[VaultTag.sourceAccount] === o.account &&
  s.tags[VaultTag.sourceRegion] === o.region;

/** Whose sets an EBS drill from the vault picks from: the instance or volume, its account and region. */
export interface VaultSetOwner {
  source: string;
  account: string;
  region: string;
}

/**
 * Whether `s` is the vault's copy of one of the owner's snapshot sets: made by steward in the vault (both marks)
 * from a set of that instance or volume, in that account and region. Another account's set is never it.
 */
export const isVaultSetOf = (s: Snapshot, o: VaultSetOwner): boolean =>
  s.kind === 'ebs' &&
  isVaultCopy(s.tags) &&
  s.sourceId === o.source &&
  s.tags[VaultTag.sourceAccount] === o.account &&
  s.tags[VaultTag.sourceRegion] === o.region;
