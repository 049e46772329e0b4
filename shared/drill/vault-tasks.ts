import type { StewardConfig } from '../config/schema.js';
import { ConfigError, type Failure, failureOf } from '../errors.js';
import { logger } from '../observability.js';
import type { Tags } from '../tags.js';
import { type SnapshotSelector } from '../config/parts.js';
import { drillTargetId } from './ids.js';
import {
  SnapshotGoneError,
  type StagedCopyPort,
  type VaultDrillPort,
  type VaultShare,
  type VaultShareLedger,
} from './ports.js';
import { selectVaultCopy } from './vault-select.js';
import type { DrillState, VaultSource } from './state.js';
import { DRILL_COPY_KEY } from './stage-drills.js';

export { DRILL_COPY_KEY };

// Drills from the backup vault (`drill.targets.<db>.from: vault`): the vault drill role shares the chosen copy
// with this account for the drill; an Aurora copy is restored directly by its ARN (a shared cluster snapshot,
// encrypted or not, restores: Aurora User Guide, "Sharing a DB cluster snapshot"); an encrypted instance copy
// is copied into this account first (RDS restores no DB instance from a snapshot that is both shared and
// encrypted: RDS User Guide, "Sharing a DB snapshot") and that copy restored. Cleanup always deletes the
// drill's copy and unshares the vault's.

/** What a drill from the vault needs (the control-plane function wires it when the stage has a vault). */
export interface VaultDrillDeps {
  /** The drill's own account: the one the copy is shared with. */
  account: string;
  /** The vault side, with the vault drill role in the stage's region. */
  vault: VaultDrillPort;
  /** The drill's own copies of shared instance copies, in this account. */
  staging: StagedCopyPort;
  /**
   * The key of this account that the drill's copy (and a restored Aurora copy) is encrypted with: RDS's
   * AWS-managed key by default, whose policy already lets this account use it through RDS. The copy lives for
   * the drill only.
   */
  key: string;
  /**
   * Where each share is recorded before it is made and forgotten once removed (the state table), so the janitor
   * can remove what a drill that died left shared; absent (a local run), shares are not recorded.
   */
  shares?: VaultShareLedger;
}

/** Why a drill's share of a vault copy stays: another drill recorded a share of the same copy. */
export const stillSharedFor = (drillId: string): string =>
  `still shared for drill ${drillId}: its own cleanup (or the janitor) takes the share back`;

/** Why a drill leaves a vault copy's share alone: it recorded none (the share was made before it, by hand). */
export const NOT_SHARED_BY_THIS_DRILL =
  'this drill recorded no share of it (shared with this account before it, by hand?): left as it is';

const sameCopy = (x: Pick<VaultShare, 'kind' | 'copyId'>, y: Pick<VaultShare, 'kind' | 'copyId'>) =>
  x.kind === y.kind && x.copyId === y.copyId;

/**
 * Whether a vault copy (or one part of a vault EBS set) is shared with this account already by someone else than
 * steward's drills: shared now, and no drill recorded a share of it (an administrator restoring it by hand, say).
 * A drill then neither records nor makes the share, so it never takes it back. Without the ledger (a local run),
 * false. `recorded`: the ledger's records (default: read now).
 */
export const sharedByHand = async (
  v: Pick<VaultDrillDeps, 'account' | 'vault' | 'shares'>,
  copy: Pick<VaultShare, 'kind' | 'copyId'>,
  recorded?: readonly VaultShare[],
): Promise<boolean> => {
  if (!v.shares) return false;
  const records = recorded ?? (await v.shares.list(v.vault.account, v.vault.region));
  if (records.some((x) => sameCopy(x, copy))) return false;
  return v.vault.sharedWith({ kind: copy.kind, id: copy.copyId }, v.account);
};

/**
 * Take one drill's share of a vault copy (or of one part of a vault EBS set) back: unshare it, then forget its
 * record (a refused unshare keeps the record for the janitor). Only a share the drill recorded (with the ledger):
 * one made before it (sharedByHand), or never made (the drill failed before its restore), is left as it is. And
 * not while another drill's share of the same copy is recorded: two drills of one database (a manual run beside
 * the schedule) may pick the same copy, and the first to end must not take away the share the other restores
 * from; then only this drill's record is forgotten (`kept`, naming that drill), and the last drill out takes it
 * back. `recorded`: the ledger's records that count, this drill's own included (default: read now).
 */
export const takeBackShare = async (
  v: Pick<VaultDrillDeps, 'account' | 'vault' | 'shares'>,
  share: Pick<VaultShare, 'kind' | 'copyId' | 'drillId'>,
  recorded?: readonly VaultShare[],
): Promise<{ result: 'done' | 'gone' } | { result: 'kept'; reason: string }> => {
  const record = { ...share, vaultAccount: v.vault.account, region: v.vault.region };
  const records = recorded ?? (v.shares ? await v.shares.list(v.vault.account, v.vault.region) : []);
  const same = records.filter((x) => sameCopy(x, share));
  if (v.shares && !same.some((x) => x.drillId === share.drillId))
    return { result: 'kept', reason: NOT_SHARED_BY_THIS_DRILL };
  const keeper = same.find((x) => x.drillId !== share.drillId);
  if (keeper) {
    await v.shares?.forget(record);
    return { result: 'kept', reason: stillSharedFor(keeper.drillId) };
  }
  const result = await v.vault.unshare({ kind: share.kind, id: share.copyId }, v.account);
  await v.shares?.forget(record);
  return { result };
};

interface Deps {
  config: StewardConfig;
  now: () => Date;
  vault?: VaultDrillDeps;
}

const noVault = (deps: Deps, database: string) =>
  new ConfigError(`No backup vault to drill ${database} from`, [
    `drill.targets.${database}.from: vault needs fleet.vault and the deployed drill function (it assumes the vault drill role steward-${deps.config.stage}-vault-drill-<region>); this run has neither`,
  ]);

const needVault = (deps: Deps, database: string): VaultDrillDeps => {
  if (deps.vault) return deps.vault;
  throw noVault(deps, database);
};

/** Whether the drill restores from the vault (its selected source is a vault copy). */
export const fromVault = (s: Pick<DrillState, 'source'>): VaultSource | undefined => s.source?.vault;

/**
 * The account of a vault copy's database when it is not the stage's own (a target's, `account`): the drill
 * then reads nothing of the source database (its shape, its master secret), which lives in that account.
 */
export const otherSourceAccount = (
  s: Pick<DrillState, 'source'>,
  config: Pick<StewardConfig, 'account'>,
): string | undefined => {
  const a = s.source?.vault?.sourceAccount;
  return a !== undefined && a !== config.account ? a : undefined;
};

/**
 * Select among the vault's copies of the database from its account (`drill.targets.<db>.account`, default the
 * drill's own) in the stage's region: a copy of another account's database of the same name is never picked.
 */
export const selectFromVault = async (
  s: DrillState,
  selector: SnapshotSelector,
  deps: Deps,
  target: { account?: string | undefined } = {},
): Promise<NonNullable<DrillState['source']>> => {
  const v = needVault(deps, s.database);
  if (s.kind !== 'rds-instance' && s.kind !== 'aurora-cluster')
    throw new TypeError(`a ${s.kind} drill does not restore from the vault`);
  // A target's database is in the account the config names; the hub's own in the stage's (the drill's) account.
  const account = target.account ?? deps.config.account ?? v.account;
  const copies = await v.vault.copies(s.kind, s.database);
  return selectVaultCopy(selector, copies, {
    database: s.database,
    kind: s.kind,
    now: deps.now(),
    seed: s.input.seed ?? s.drillId,
    owner: { database: s.database, account, region: deps.config.region },
    vaultAccount: v.vault.account,
  });
};

/** The drill's copy of an instance vault copy is named like its restored database (a separate namespace). */
const stagedIdOf = (s: Pick<DrillState, 'database' | 'drillId'>) => drillTargetId(s.database, s.drillId);

/** Whether the drill copies the vault copy into its own account before restoring it. */
const staged = (s: Pick<DrillState, 'kind'>, v: VaultSource) => s.kind === 'rds-instance' && v.encrypted;

export type VaultRestoreSource =
  | {
      ready: true;
      source: NonNullable<DrillState['source']>;
      kmsKeyId?: string;
      engine?: { engine?: string; engineVersion?: string };
    }
  | { ready: false; staged: string; status: string };

/**
 * Where the restore reads from: share the vault copy with this account (idempotent), then either the shared
 * copy's ARN (Aurora; an unencrypted instance copy) or the drill's own copy of it once available. A copy that
 * is not available yet is `ready: false` (the drill waits and asks again); one that failed throws.
 */
export const vaultRestoreSource = async (
  s: DrillState,
  tags: Tags,
  deps: Deps,
): Promise<VaultRestoreSource> => {
  const v = needVault(deps, s.database);
  const src = fromVault(s)!;
  const kind = s.kind;
  if (kind !== 'rds-instance' && kind !== 'aurora-cluster')
    throw new TypeError(`a ${kind} drill does not restore from the vault`);
  const share = async () => {
    // Shared with this account already, by hand: not this drill's share to record, make or take back.
    if (await sharedByHand(v, { kind, copyId: src.copyId })) return;
    // Recorded first: a drill that dies right after the share still leaves the janitor its record.
    await v.shares?.record({
      kind,
      copyId: src.copyId,
      drillId: s.drillId,
      vaultAccount: v.vault.account,
      region: v.vault.region,
      sharedAt: deps.now().toISOString(),
    });
    if ((await v.vault.share({ kind, id: src.copyId }, v.account)) === 'gone') {
      throw new SnapshotGoneError(
        `vault copy ${src.copyId} of ${s.database} no longer exists in vault ${src.account} ${src.region} (expired after the drill selected it?)`,
      );
    }
  };
  const engine = src.engine ? { engine: src.engine, engineVersion: src.engineVersion } : undefined;
  if (!staged(s, src)) {
    await share();
    return {
      ready: true,
      source: { ...s.source!, snapshotId: src.copyArn },
      ...(src.encrypted ? { kmsKeyId: v.key } : {}),
      ...(engine ? { engine } : {}),
    };
  }
  const id = stagedIdOf(s);
  // A drill copy that exists was copied from the share already: shared once, not on every poll.
  let st = await v.staging.status(id);
  if (!st) {
    await share();
    await v.staging.copy({ sourceArn: src.copyArn, targetId: id, kmsKeyId: v.key, tags });
    st = (await v.staging.status(id)) ?? { status: 'creating', failed: false };
  }
  if (st.failed) {
    throw new SnapshotGoneError(
      `the drill's copy ${id} of vault copy ${src.copyId} is ${st.status}: it never becomes available`,
    );
  }
  if (st.status !== 'available') return { ready: false, staged: id, status: `copying (${st.status})` };
  return { ready: true, source: { ...s.source!, snapshotId: id } };
};

/**
 * After a drill from the vault, whatever happened: delete the drill's own copy (if it made one) and take this
 * account off the vault copy's share (kept while another drill's share of it is recorded: takeBackShare). Both
 * run even when the other fails; failures are returned.
 */
export const vaultCleanup = async (s: Partial<DrillState>, deps: Deps): Promise<Failure[]> => {
  const src = s.source?.vault;
  if (!src || (s.kind !== 'rds-instance' && s.kind !== 'aurora-cluster') || !s.database || !s.drillId)
    return [];
  const failures: Failure[] = [];
  const v = deps.vault;
  if (!v) return [failureOf(`vault copy ${src.copyId}`, noVault(deps, s.database))];
  if (staged({ kind: s.kind }, src)) {
    const id = stagedIdOf({ database: s.database, drillId: s.drillId });
    try {
      const r = await v.staging.remove(id);
      logger.info('drill copy of the vault copy removed', { drillId: s.drillId, id, result: r });
    } catch (e) {
      failures.push(failureOf(`drill copy ${id}`, e));
    }
  }
  try {
    const r = await takeBackShare(v, { kind: s.kind, copyId: src.copyId, drillId: s.drillId });
    logger.info(r.result === 'kept' ? 'vault copy kept shared' : 'vault copy unshared', {
      drillId: s.drillId,
      copy: src.copyId,
      ...r,
    });
  } catch (e) {
    failures.push(failureOf(`vault copy ${src.copyId} (unshare)`, e));
  }
  return failures;
};
