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

/** Whether the stage drills from its vault: the vault stack then holds the drill role, the hub's drill role a name. */
export const hasVaultDrills = (c: StewardConfig): boolean =>
  c.drill.enabled && c.fleet?.vault !== undefined && vaultDrillTargets(c).length > 0;

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
