import { fingerprint, SNAPSHOT_ID_MAX } from '../backup/ids.js';
import type { StewardConfig, VaultConfig } from '../config/schema.js';
import { Tag, type Tags } from '../tags.js';
import { hubRoleName } from './targets.js';

// The cross-account backup vault's pure half: names of its stack, roles and key, the id and tags of a vault
// copy. No SDK, no environment: infra, the backup service and the tests share it.

/** The vault's roles: the copy role (the hub's backup role assumes it) and the retention role (the hub's retention role). */
export const VAULT_ROLES = ['copy', 'retention'] as const;
export type VaultRole = (typeof VAULT_ROLES)[number];

/** The hub role that may assume each vault role. */
export const VAULT_ROLE_HUB = { copy: 'backup', retention: 'retention' } as const;

/** `Steward-<stage>-vault`: deployed into the vault account, once per vault region. */
export const vaultStackId = (stage: string): string => `Steward-${stage}-vault`;

/** The stage's vault, when it has one. */
export const vaultOf = (c: StewardConfig): (VaultConfig & { regions: string[] }) | undefined => {
  const v = c.fleet?.vault;
  return v ? { ...v, regions: v.regions ?? [c.region] } : undefined;
};

/** Whether the stage copies into a vault: the hub's backup and retention roles then get fixed names. */
export const hasVault = (c: StewardConfig): boolean => c.fleet?.vault !== undefined;

/** `steward-<stage>-vault-<role>-<region>`: at most 55 characters of IAM's 64, like the spoke roles. */
export const vaultRoleName = (stage: string, role: VaultRole, region: string): string =>
  `steward-${stage}-vault-${role}-${region}`;

/** The vault role's ARN in one region. */
export const vaultRoleArn = (
  c: StewardConfig,
  role: VaultRole,
  region: string,
  partition = 'aws',
): string => {
  const v = vaultOf(c);
  if (!v) throw new Error(`stage ${c.stage} has no fleet.vault`);
  return `arn:${partition}:iam::${v.account}:role/${vaultRoleName(c.stage, role, region)}`;
};

/** The hub role (by ARN) a vault role trusts. */
export const vaultTrustedHubRoleArn = (c: StewardConfig, role: VaultRole, partition = 'aws'): string => {
  if (!c.account) throw new Error('a vault needs the hub account (config account)');
  return `arn:${partition}:iam::${c.account}:role/${hubRoleName(c.stage, VAULT_ROLE_HUB[role], c.region)}`;
};

/** The vault key's alias in every vault region. */
export const vaultKeyAlias = (c: StewardConfig): string =>
  c.fleet?.vault?.keyAlias ?? `alias/steward-${c.stage}-vault`;

/** `created-by` of a vault copy: it is the vault's, never a workload account's. */
export const VAULT_CREATED_BY = 'vault';

/** Tag keys a vault copy carries beyond the usual ownership tags. */
export const VaultTag = {
  /** `true` on every copy steward made in the vault: what vault retention may ever delete. */
  vault: 'steward:vault',
  /** Account and region of the source snapshot (the database's home). */
  sourceAccount: 'steward:source-account',
  sourceRegion: 'steward:source-region',
  /** When the source's data was taken (ISO-8601): a copy's own create time is the copy's. */
  dataTime: 'steward:data-time',
  /**
   * On steward's re-encrypted copy of an `aws/rds`-key snapshot (in the source account): the ARN of the snapshot
   * it re-encrypts. The copy is what is shared with the vault; it is deleted once the vault's copy settles.
   */
  reencryptedFrom: 'steward:reencrypted-from',
} as const;

/**
 * Alias of the share key: the customer managed key in each source account and region (the hub's and each
 * spoke's stack make it) that re-encrypts an `aws/rds`-key snapshot so the vault account may copy it. RDS
 * resolves an alias name in the caller's account and region.
 */
export const vaultShareKeyAlias = (stage: string): string => `alias/steward-${stage}-vault-share`;

/** `created-by` of a re-encrypted copy: the backup function makes it, in the source account. */
export const REENCRYPT_CREATED_BY = 'backup';

/** How long a re-encrypted copy may live if the flow never deletes it: retention expires it after (days). */
export const REENCRYPT_RETAIN_DAYS = 7;

/**
 * Id of the re-encrypted copy of `sourceId`: the source id cut to leave room for a fingerprint, so it never
 * ends in `-sched`/`-adhoc` (no drill or backup pattern takes it for a backup), a retry names the same copy,
 * and it keeps steward's id prefix (IAM scopes copies and deletes to it).
 */
export const reencryptedId = (sourceId: string): string => {
  const print = fingerprint(`reencrypt:${sourceId}`);
  const head = sourceId
    .slice(0, SNAPSHOT_ID_MAX - print.length - 4)
    .replace(/-+$/, '')
    .replace(/--+/g, '-');
  return `${head}-vx-${print}`;
};

/**
 * Tags of a re-encrypted copy: steward's (managed, source, created-by) without a backup policy, so no policy's
 * GFS counts it, and a `retain-until` after which workload retention removes it should the flow not.
 */
export const reencryptedTags = (s: {
  sourceArn: string;
  db: string;
  dataTime?: string;
  retainUntil: string;
}): Tags => ({
  [Tag.managed]: 'true',
  [Tag.source]: s.db,
  [Tag.createdBy]: REENCRYPT_CREATED_BY,
  [Tag.retainUntil]: s.retainUntil,
  [VaultTag.reencryptedFrom]: s.sourceArn,
  ...(s.dataTime ? { [VaultTag.dataTime]: s.dataTime } : {}),
});

/**
 * The vault copy's id: the source id (steward's own, at most 63 characters) cut to leave room for a
 * fingerprint of the source account and id, so two accounts' snapshots of a same-named database never
 * collide in the vault, a retry names the same copy, and the id fits the 63 characters of a DB cluster
 * snapshot identifier.
 */
export const vaultCopyId = (sourceAccount: string, sourceId: string): string => {
  const print = fingerprint(`${sourceAccount}:${sourceId}`);
  const head = sourceId
    .slice(0, SNAPSHOT_ID_MAX - print.length - 1)
    .replace(/-+$/, '')
    .replace(/--+/g, '-');
  return `${head}-${print}`;
};

/** Tags of a vault copy: steward's ownership tags, the source's identity, and the vault mark. */
export const vaultCopyTags = (s: {
  sourceAccount: string;
  sourceRegion: string;
  sourceArn: string;
  db: string;
  policy: string;
  dataTime?: string;
}): Tags => ({
  [Tag.managed]: 'true',
  [Tag.source]: s.db,
  [Tag.policy]: s.policy,
  [Tag.createdBy]: VAULT_CREATED_BY,
  [Tag.copiedFrom]: s.sourceArn,
  [VaultTag.vault]: 'true',
  [VaultTag.sourceAccount]: s.sourceAccount,
  [VaultTag.sourceRegion]: s.sourceRegion,
  ...(s.dataTime ? { [VaultTag.dataTime]: s.dataTime } : {}),
});

/** True for a copy steward made in the vault (both marks): the only snapshots vault retention may delete. */
export const isVaultCopy = (tags: Tags): boolean =>
  tags[Tag.managed] === 'true' && tags[VaultTag.vault] === 'true' && tags[Tag.createdBy] === VAULT_CREATED_BY;

/** Hub role names a vault role trusts, by capability (for infra and the IAM suite). */
export const vaultHubRoleName = (c: StewardConfig, role: VaultRole): string =>
  hubRoleName(c.stage, VAULT_ROLE_HUB[role], c.region);
