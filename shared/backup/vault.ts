import { StewardError } from '../errors.js';
import { REENCRYPT_RETAIN_DAYS, reencryptedId, reencryptedTags } from '../fleet/vault.js';
import type { Outcome, ResourceKind, Snapshot } from '../model.js';
import { failedOutcome, settleEach } from '../outcomes.js';
import { Tag } from '../tags.js';
import type { SnapshotLister, VaultSetShares, VaultSetStore, VaultShares, VaultStore } from './ports.js';
import { planVault, type VaultCopyAction, type VaultPlan } from './vault-plan.js';
import { planVaultSets, type VaultSetCopyAction, type VaultSetsPlan } from './vault-sets-plan.js';

import { VAULT_COPY, VAULT_DROP, VAULT_REENCRYPT, VAULT_SHARE, VAULT_UNSHARE } from './vault-actions.js';

export { VAULT_COPY, VAULT_DROP, VAULT_REENCRYPT, VAULT_SHARE, VAULT_UNSHARE };

/** RDS refused to share a snapshot encrypted with the AWS-managed `aws/rds` key, and no share key is set. */
export class DefaultKeyShareError extends StewardError {
  override name = 'DefaultKeyShareError';
}

/** EBS refused to share a snapshot encrypted with the AWS-managed `aws/ebs` key. */
export class DefaultEbsKeyShareError extends StewardError {
  override name = 'DefaultEbsKeyShareError';
}

/** The EBS side of a vault reconcile: snapshot sets, shared and copied part by part. */
export interface VaultSetsDeps {
  /** Share and unshare parts, with the source account's credentials. */
  shares: VaultSetShares;
  /** The vault region's EBS side, with the vault copy role's credentials. */
  vault: VaultSetStore;
  /** Snapshot copies in flight the vault region allows (EBS: 20 per destination region). */
  maxInFlight: number;
}

/** Everything one vault reconcile needs: the source account-region and the vault region it copies into. */
export interface VaultDeps {
  /** The source account and region; the vault copies within the region (a shared snapshot is copied in its own region). */
  account: string;
  region: string;
  vaultAccount: string;
  /** The vault key's alias (or ARN) in the vault region. */
  vaultKey: string;
  policies: readonly string[];
  maxInFlight: number;
  maxClusterInFlight: number;
  /** The source region's snapshots, with the source account's credentials. */
  sources: SnapshotLister;
  /** Share and unshare, with the source account's credentials. */
  shares: VaultShares;
  /** The vault region, with the vault copy role's credentials. */
  vault: VaultStore;
  /**
   * The share key (alias) in the source account and region: an `aws/rds`-key snapshot is copied re-encrypted
   * with it, and that copy is shared instead. Without it such a snapshot's share fails, naming the fix.
   */
  shareKey?: string;
  /** EBS snapshot sets; without it EBS sets are not listed, nor copied into the vault. */
  sets?: VaultSetsDeps;
}

export interface VaultReconcile {
  plan: VaultPlan;
  /** The EBS snapshot sets' plan, when the reconcile covers them. */
  sets?: VaultSetsPlan;
  outcomes: Outcome[];
}

const label = (a: VaultCopyAction) => `${a.source.kind} ${a.source.sourceId}`;

/**
 * Copy this account-region's new snapshots into the vault: observe (the source listing, the vault's copies
 * and what is shared with it), plan (pure), then for each due copy share the snapshot with the vault
 * account and start the copy with the vault key; take back every share whose copy is settled. A share
 * that fails skips its copy; a copy that fails is unshared at once; one database's failure never stops
 * another's. Idempotent: ids are deterministic, sharing twice or unsharing what is not shared changes
 * nothing, and a copy already there is "already done". Copies finish asynchronously: the next run unshares.
 */
export const reconcileVault = async (
  deps: VaultDeps,
  dryRun: boolean,
  now: Date,
): Promise<VaultReconcile> => {
  const kinds: ResourceKind[] = [
    'rds-instance',
    'aurora-cluster',
    'elasticache',
    ...(deps.sets ? ['ebs' as const] : []),
  ];
  const [listing, copies, shared] = await Promise.all([
    deps.sources.list(kinds),
    deps.vault.copies(),
    deps.vault.shared(),
  ]);
  const plan = planVault({
    account: deps.account,
    region: deps.region,
    vaultAccount: deps.vaultAccount,
    sources: listing.snapshots.filter((s) => s.kind !== 'ebs'),
    copies,
    shared,
    policies: deps.policies,
    maxInFlight: deps.maxInFlight,
    maxClusterInFlight: deps.maxClusterInFlight,
  });
  const read: Outcome[] = listing.failures.map((f) => ({
    resource: f.resource,
    action: VAULT_COPY,
    status: 'failed',
    error: f.error,
  }));
  const skips: Outcome[] = [
    ...plan.skipped.map((s): Outcome => ({
      resource: s.resource,
      action: VAULT_COPY,
      status: 'skipped',
      reason: `${s.reason}: ${s.detail}`,
    })),
    ...plan.deferred.map((a): Outcome => ({
      resource: label(a),
      action: VAULT_COPY,
      status: 'skipped',
      reason: `deferred: the vault region ${deps.vault.region} is at its copy limit; the next run starts it`,
    })),
  ];
  const sets = deps.sets
    ? await reconcileVaultSets(
        deps,
        deps.sets,
        listing.snapshots.filter((s) => s.kind === 'ebs'),
        dryRun,
      )
    : undefined;
  const ebs = sets ? { sets: sets.plan } : {};
  if (dryRun)
    return {
      plan,
      ...ebs,
      outcomes: [
        ...read,
        ...plan.copy.map((a): Outcome => ({
          resource: label(a),
          action: VAULT_COPY,
          status: 'planned',
          detail: a.targetId,
        })),
        ...plan.unshare.map((u): Outcome => ({
          resource: u.source.id,
          action: VAULT_UNSHARE,
          status: 'planned',
          detail: u.reason,
        })),
        ...plan.drop.map((r): Outcome => ({ resource: r.id, action: VAULT_DROP, status: 'planned' })),
        ...skips,
        ...(sets?.outcomes ?? []),
      ],
    };

  const cleanup: Outcome[] = [];
  const copied = await settleEach(
    plan.copy,
    async (a): Promise<Outcome> => {
      const shared = await deps.shares.share(a.source, deps.vaultAccount);
      if (shared === 'gone')
        return {
          resource: label(a),
          action: VAULT_SHARE,
          status: 'skipped',
          reason: `${a.source.id} is gone`,
        };
      if (shared === 'default-key') return reencrypt(deps, a, now);
      try {
        const r = await deps.vault.copy({
          kind: a.source.kind,
          sourceArn: a.source.arn,
          targetId: a.targetId,
          kmsKeyId: deps.vaultKey,
          ...(a.source.encrypted !== undefined ? { encrypted: a.source.encrypted } : {}),
          tags: a.tags,
        });
        return {
          resource: label(a),
          action: VAULT_COPY,
          status: r === 'started' ? 'done' : 'already-done',
          detail: a.targetId,
        };
      } catch (e) {
        // Nothing is copying it: take the share back now rather than at the next run.
        const failed = failedOutcome({ resource: label(a), action: VAULT_COPY }, e);
        try {
          await deps.shares.unshare(a.source, deps.vaultAccount);
        } catch (u) {
          cleanup.push(failedOutcome({ resource: label(a), action: VAULT_UNSHARE }, u));
        }
        return failed;
      }
    },
    (a) => ({ resource: label(a), action: VAULT_SHARE }),
  );

  const unshared = await settleEach(
    plan.unshare,
    async (u): Promise<Outcome> => {
      const r = await deps.shares.unshare(u.source, deps.vaultAccount);
      return {
        resource: u.source.id,
        action: VAULT_UNSHARE,
        status: r === 'done' ? 'done' : 'already-done',
        detail: u.reason,
      };
    },
    (u) => ({ resource: u.source.id, action: VAULT_UNSHARE }),
  );
  // Steward's own re-encrypted copies, once the vault's copy settled (deleting one also ends its share).
  const dropped = await settleEach(
    plan.drop,
    async (r): Promise<Outcome> => ({
      resource: r.id,
      action: VAULT_DROP,
      status: (await deps.shares.remove(r)) === 'deleted' ? 'done' : 'already-done',
    }),
    (r) => ({ resource: r.id, action: VAULT_DROP }),
  );
  return {
    plan,
    ...ebs,
    outcomes: [...read, ...copied, ...cleanup, ...unshared, ...dropped, ...skips, ...(sets?.outcomes ?? [])],
  };
};

const setLabel = (a: VaultSetCopyAction) => `ebs ${a.source.sourceId} (set ${a.source.id})`;

/**
 * The EBS half of a vault reconcile, after the RDS half's listing: plan (pure), then for each due set share
 * every part still to copy, copy the set in the vault (each part on its own, with the vault key) and take
 * back every share whose copy settled. A set with a part EBS will not share (the `aws/ebs` key) or that is
 * gone is not copied: each refused snapshot is its own failure, and the parts shared for it are unshared at
 * once. A copy that fails unshares the parts whose copy never started; the ones started stay shared until
 * their copy settles (the next run completes the set).
 */
const reconcileVaultSets = async (
  deps: VaultDeps,
  ebs: VaultSetsDeps,
  sources: readonly Snapshot[],
  dryRun: boolean,
): Promise<{ plan: VaultSetsPlan; outcomes: Outcome[] }> => {
  const [copies, shared] = await Promise.all([ebs.vault.copies(), ebs.vault.shared(deps.account)]);
  const plan = planVaultSets({
    account: deps.account,
    region: deps.region,
    sources,
    copies,
    shared,
    policies: deps.policies,
    maxInFlight: ebs.maxInFlight,
  });
  const skips: Outcome[] = [
    ...plan.failed.map((c): Outcome => ({
      resource: `ebs ${c.sourceId}`,
      action: VAULT_COPY,
      status: 'skipped',
      reason: `copy-failed: vault copy set ${c.id} of ${c.tags[Tag.copiedFrom] ?? '?'} failed; it stays in the vault for inspection (vault retention removes it)`,
    })),
    ...plan.deferred.map((a): Outcome => ({
      resource: setLabel(a),
      action: VAULT_COPY,
      status: 'skipped',
      reason: `deferred: the vault region ${ebs.vault.region} is at its EBS copy limit; the next run starts it`,
    })),
  ];
  if (dryRun)
    return {
      plan,
      outcomes: [
        ...plan.copy.map((a): Outcome => ({
          resource: setLabel(a),
          action: VAULT_COPY,
          status: 'planned',
          detail: a.targetId,
        })),
        ...plan.unshare.map((u): Outcome => ({
          resource: `${u.snapshotId} (set ${u.set})`,
          action: VAULT_UNSHARE,
          status: 'planned',
          detail: u.reason,
        })),
        ...skips,
      ],
    };

  const side: Outcome[] = [];
  const unshareNow = async (ids: readonly string[], label: string) => {
    for (const id of ids)
      try {
        await ebs.shares.unshare(id, deps.vaultAccount);
      } catch (e) {
        side.push(failedOutcome({ resource: `${id} (${label})`, action: VAULT_UNSHARE }, e));
      }
  };
  const copied = await settleEach(
    plan.copy,
    async (a): Promise<Outcome> => {
      const todo = (a.source.parts ?? []).filter((p) => !a.done.includes(p.id));
      const shared: string[] = [];
      const refused: typeof todo = [];
      let gone = 0;
      try {
        for (const p of todo) {
          const r = await ebs.shares.share(p.id, deps.vaultAccount);
          if (r === 'done') shared.push(p.id);
          else if (r === 'gone') gone++;
          else refused.push(p);
        }
      } catch (e) {
        await unshareNow(shared, `set ${a.source.id}`);
        throw e;
      }
      if (refused.length || gone) {
        await unshareNow(shared, `set ${a.source.id}`);
        for (const p of refused)
          side.push(
            failedOutcome(
              {
                resource: `ebs snapshot ${p.id} (volume ${p.volumeId}, set ${a.source.id})`,
                action: VAULT_SHARE,
              },
              new DefaultEbsKeyShareError(
                `ebs snapshot ${p.id} of volume ${p.volumeId} in ${deps.region}: it is encrypted with the AWS-managed aws/ebs key, which cannot be shared with another account; encrypt the volume with a customer managed key whose policy lets the vault account use it through EC2`,
              ),
            ),
          );
        return {
          resource: setLabel(a),
          action: VAULT_COPY,
          status: 'skipped',
          reason: refused.length
            ? `not copied: ${refused.length} of ${todo.length} snapshots cannot be shared with the vault (aws/ebs key)`
            : `not copied: ${gone} of ${todo.length} snapshots are gone`,
        };
      }
      const started = new Set<string>();
      try {
        const r = await ebs.vault.copySet(
          {
            sourceArn: a.source.arn,
            targetId: a.targetId,
            kmsKeyId: deps.vaultKey,
            parts: a.source.parts ?? [],
            tags: a.tags,
          },
          (volume) => started.add(volume),
        );
        return {
          resource: setLabel(a),
          action: VAULT_COPY,
          status: r === 'started' ? 'done' : 'already-done',
          detail: a.targetId,
        };
      } catch (e) {
        // Nothing copies the parts whose copy never started: take their shares back now.
        await unshareNow(
          todo.filter((p) => !started.has(p.volumeId)).map((p) => p.id),
          `set ${a.source.id}`,
        );
        return failedOutcome({ resource: setLabel(a), action: VAULT_COPY }, e);
      }
    },
    (a) => ({ resource: setLabel(a), action: VAULT_SHARE }),
  );
  const unshared = await settleEach(
    plan.unshare,
    async (u): Promise<Outcome> => ({
      resource: `${u.snapshotId} (set ${u.set})`,
      action: VAULT_UNSHARE,
      status:
        (await ebs.shares.unshare(u.snapshotId, deps.vaultAccount)) === 'done' ? 'done' : 'already-done',
      detail: u.reason,
    }),
    (u) => ({ resource: `${u.snapshotId} (set ${u.set})`, action: VAULT_UNSHARE }),
  );
  return { plan, outcomes: [...copied, ...side, ...unshared, ...skips] };
};

const DAY_MS = 86_400_000;

/**
 * RDS will not share a snapshot encrypted with the AWS-managed `aws/rds` key ("Sharing encrypted snapshots",
 * RDS User Guide: copy it with a customer managed key and share the copy). Start that copy with the share key,
 * in the snapshot's own account and region; a later run shares it with the vault once it is available, and
 * deletes it once the vault's copy settles. Without a share key the share fails, naming the fix.
 */
const reencrypt = async (deps: VaultDeps, a: VaultCopyAction, now: Date): Promise<Outcome> => {
  if (!deps.shareKey || a.reencrypted)
    throw new DefaultKeyShareError(
      `${a.source.kind} snapshot ${a.source.id} in ${deps.region}: it is encrypted with the AWS-managed aws/rds key, which cannot be shared with another account; ${
        a.reencrypted
          ? 'its re-encrypted copy was refused too: check the share key policy'
          : 'deploy the stack that holds the share key in this account and region, or encrypt the database with a customer managed key whose policy lets the vault account use it through RDS'
      }`,
    );
  const targetId = reencryptedId(a.source.id);
  const r = await deps.shares.reencrypt({
    kind: a.source.kind,
    sourceId: a.source.id,
    targetId,
    kmsKeyId: deps.shareKey,
    tags: reencryptedTags({
      sourceArn: a.source.arn,
      db: a.source.sourceId,
      ...(a.source.createdAt ? { dataTime: a.source.createdAt } : {}),
      retainUntil: new Date(now.getTime() + REENCRYPT_RETAIN_DAYS * DAY_MS).toISOString(),
    }),
  });
  return {
    resource: label(a),
    action: VAULT_REENCRYPT,
    status: r === 'started' ? 'done' : 'already-done',
    detail: `${targetId} (aws/rds key: re-encrypted with ${deps.shareKey}; shared with the vault once available)`,
  };
};
