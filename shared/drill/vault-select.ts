import type { SnapshotSelector } from '../config/schema.js';
import { isVaultCopyOf, type VaultCopyOwner, vaultCopyDataTime } from '../fleet/vault-drill.js';
import { VaultTag } from '../fleet/vault.js';
import { Tag } from '../tags.js';
import { oldestFirst, pickAmong, SnapshotSelectionError, snapshotTime as time } from './pick.js';
import type { VaultCopy } from './ports.js';
import { fromSnapshot, type SelectOptions, WHAT } from './select.js';
import type { DrillState, VaultSource } from './state.js';

// Which vault copy a drill from the backup vault restores: apart from ./select.ts, which the select task of
// every RDS drill loads, as only a drill from the vault needs it (with ./vault-tasks.ts).

/**
 * What a drill from the vault restores: one of the vault's copies of the database (its account and region),
 * chosen by the selector among available copies dated by the source's data time (so RPO is the source's).
 * Pure; throws SnapshotSelectionError naming the database, its account and region, and the reason.
 */
export const selectVaultCopy = (
  selector: SnapshotSelector,
  copies: readonly VaultCopy[],
  opts: SelectOptions & { owner: VaultCopyOwner; vaultAccount: string },
): NonNullable<DrillState['source']> & { vault: VaultSource } => {
  const { owner, kind } = opts;
  const what = `${WHAT[kind]} ${owner.database} of ${owner.account}/${owner.region}`;
  if (kind === 'redis' || (typeof selector === 'object' && 'pointInTime' in selector)) {
    throw new SnapshotSelectionError(
      `${what}: the vault holds snapshot copies of RDS instances and Aurora clusters only, not a point in time or an ElastiCache backup`,
    );
  }
  const dated = copies
    .filter((s) => isVaultCopyOf(s, owner, kind))
    .map((s) => ({ ...s, createdAt: vaultCopyDataTime(s) }));
  let pick: VaultCopy;
  if (typeof selector === 'object' && 'id' in selector) {
    const s = copies.find((x) => x.id === selector.id && x.kind === kind);
    if (!s)
      throw new SnapshotSelectionError(`vault copy ${selector.id} not found in vault ${opts.vaultAccount}`);
    const ours = dated.find((x) => x.id === s.id);
    if (!ours)
      throw new SnapshotSelectionError(
        `vault copy ${selector.id} is not a copy of ${what} (its source: ${s.tags[Tag.source] ?? '?'} of ${s.tags[VaultTag.sourceAccount] ?? '?'}/${s.tags[VaultTag.sourceRegion] ?? '?'})`,
      );
    if (ours.status !== 'available')
      throw new SnapshotSelectionError(
        `vault copy ${selector.id} of ${what} is ${ours.status}, not available`,
      );
    if (!Number.isFinite(time(ours.createdAt)))
      throw new SnapshotSelectionError(`vault copy ${selector.id} of ${what} has no data time yet`);
    pick = ours;
  } else {
    const candidates = dated
      .filter((s) => s.status === 'available' && Number.isFinite(time(s.createdAt)))
      .sort(oldestFirst);
    pick = pickAmong(candidates, selector, opts, what, `available vault copy in vault ${opts.vaultAccount}`);
  }
  return {
    ...fromSnapshot(pick),
    vault: {
      account: opts.vaultAccount,
      region: pick.region,
      copyId: pick.id,
      copyArn: pick.arn,
      sourceAccount: owner.account,
      encrypted: pick.encrypted !== false,
      ...(pick.engine ? { engine: pick.engine } : {}),
      ...(pick.engineVersion ? { engineVersion: pick.engineVersion } : {}),
    },
  };
};
