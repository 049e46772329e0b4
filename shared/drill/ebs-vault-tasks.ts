import type { StewardConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { isVaultSetOf, vaultVolumeAccount } from '../fleet/vault-drill.js';
import { Tag } from '../tags.js';
import type { Outcome, Snapshot } from '../model.js';
import { failedOutcome } from '../outcomes.js';
import type { EbsDrillProgress, EbsVaultSource } from './ebs-progress.js';
import { SnapshotGoneError, type VaultShare } from './ports.js';
import { sharedByHand, takeBackShare, type VaultDrillDeps } from './vault-tasks.js';

// EBS drills from the backup vault (`drill.volumes.<id>.from: vault`): the vault's copy of an instance's (or a
// volume's) snapshot set, from the hub's own account or any target account, is restored in the hub. The vault
// drill role adds the hub account to each part's create-volume permission (each share recorded in the state
// table just before it is made, so the janitor can take back what a drill that died left shared), the hub
// creates its volumes from the shared parts re-encrypted with its own default EBS key, and cleanup takes every
// share back once the volumes are deleted.

interface Deps {
  config: StewardConfig;
  now: () => Date;
  dryRun?: boolean;
  vault?: VaultDrillDeps | undefined;
}

const needVault = (
  deps: Deps,
  source: string,
  doing: string,
): { v: VaultDrillDeps; sets: NonNullable<VaultDrillDeps['vault']['sets']> } => {
  const v = deps.vault;
  if (!v?.vault.sets) {
    throw new ConfigError(`Cannot ${doing}: no backup vault to drill ${source} from`, [
      `drill.volumes.${source}.from: vault needs fleet.vault and the deployed drill function (it assumes the vault drill role steward-${deps.config.stage}-vault-drill-<region>); this run has neither`,
    ]);
  }
  return { v, sets: v.vault.sets.bind(v.vault) };
};

/** The vault's copies of `source`'s sets from `account` in the stage's region: only those, whatever the vault lists. */
export const vaultSetsOf = async (
  source: string,
  target: { account?: string | undefined },
  deps: Deps,
): Promise<{ sets: Snapshot[]; vault: EbsVaultSource }> => {
  const { v, sets } = needVault(deps, source, `select a vault set of ${source}`);
  const sourceAccount = vaultVolumeAccount(deps.config, target);
  const owner = { source, account: sourceAccount, region: deps.config.region };
  const listed = await sets(source, sourceAccount);
  return {
    sets: listed.filter((s) => isVaultSetOf(s, owner)),
    vault: { account: v.vault.account, region: v.vault.region, sourceAccount },
  };
};

/** The copied-from set of a chosen vault set, for the report. */
export const copiedFromOf = (s: Snapshot): string | undefined => s.tags[Tag.copiedFrom];

/**
 * Share every part of the vault set with this account (the vault drill role), each recorded first: a drill that
 * dies right after a share still leaves the janitor its record. Idempotent (a retried restore shares again,
 * which changes nothing). A part the vault no longer has fails the drill: its retention expired the set after
 * the drill selected it.
 */
export const shareVaultParts = async (drillId: string, p: EbsDrillProgress, deps: Deps): Promise<void> => {
  const { v } = needVault(deps, p.set.sourceId, `share the vault set ${p.set.id}`);
  const recorded = v.shares ? await v.shares.list(v.vault.account, v.vault.region) : [];
  for (const m of p.set.members) {
    // A part shared with this account already, by hand: not this drill's share to record, make or take back.
    if (await sharedByHand(v, { kind: 'ebs', copyId: m.snapshotId }, recorded)) continue;
    await v.shares?.record({
      kind: 'ebs',
      copyId: m.snapshotId,
      drillId,
      vaultAccount: v.vault.account,
      region: v.vault.region,
      sharedAt: deps.now().toISOString(),
    });
    if ((await v.vault.share({ kind: 'ebs', id: m.snapshotId }, v.account)) === 'gone') {
      throw new SnapshotGoneError(
        `vault snapshot ${m.snapshotId} (set ${p.set.id} of ${p.set.sourceId}) no longer exists in vault ${v.vault.account} ${v.vault.region} (expired after the drill selected it?)`,
      );
    }
  }
};

/**
 * After a drill from the vault, whatever happened (the volumes are deleted first): take this account off each
 * part's create-volume permission and forget its record; a part another drill's share of is recorded stays
 * shared for it (`skipped`, takeBackShare). Every part is tried; each is one outcome (`planned` in a dry run,
 * which changes nothing). Without the vault wiring every part is a failure naming why.
 */
export const unshareVaultParts = async (
  drillId: string,
  p: EbsDrillProgress,
  deps: Deps,
): Promise<Outcome[]> => {
  const v = deps.vault;
  // The recorded shares, read once for every part (a part of this set another drill shared is kept for it).
  let others: Promise<VaultShare[]> | undefined;
  const recorded = () =>
    (others ??= v?.shares ? v.shares.list(v.vault.account, v.vault.region) : Promise.resolve([]));
  return Promise.all(
    p.set.members.map(async (m): Promise<Outcome> => {
      const base = {
        resource: `vault snapshot ${m.snapshotId} (vault ${p.vault?.account ?? '?'})`,
        action: 'unshare',
      };
      if (deps.dryRun) return { ...base, status: 'planned' };
      try {
        if (!v) {
          throw new ConfigError(`No backup vault wiring to unshare ${m.snapshotId}`, [
            `drill.volumes.${p.set.sourceId}.from: vault: this function has no vault drill role; the janitor takes the recorded share back`,
          ]);
        }
        const r = await takeBackShare(v, { kind: 'ebs', copyId: m.snapshotId, drillId }, await recorded());
        if (r.result === 'kept') return { ...base, status: 'skipped', reason: r.reason };
        return { ...base, status: r.result === 'done' ? 'done' : 'already-done' };
      } catch (e) {
        return failedOutcome(base, e);
      }
    }),
  );
};
