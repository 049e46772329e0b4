import { StewardError } from '../errors.js';
import { REENCRYPT_RETAIN_DAYS, reencryptedId, reencryptedTags } from '../fleet/vault.js';
import type { Outcome } from '../model.js';
import { failedOutcome, settleEach } from '../outcomes.js';
import type { SnapshotLister, VaultShares, VaultStore } from './ports.js';
import { planVault, type VaultCopyAction, type VaultPlan } from './vault-plan.js';

/** Outcome actions of the vault flow, in reports and notifications. */
export const VAULT_SHARE = 'share-with-vault';
export const VAULT_COPY = 'copy-to-vault';
export const VAULT_UNSHARE = 'unshare-from-vault';
export const VAULT_REENCRYPT = 'reencrypt-for-vault';
export const VAULT_DROP = 'delete-reencrypted-copy';

/** RDS refused to share a snapshot encrypted with the AWS-managed `aws/rds` key, and no share key is set. */
export class DefaultKeyShareError extends StewardError {
  override name = 'DefaultKeyShareError';
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
}

export interface VaultReconcile {
  plan: VaultPlan;
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
  const kinds = ['rds-instance', 'aurora-cluster', 'elasticache'] as const;
  const [listing, copies, shared] = await Promise.all([
    deps.sources.list(kinds),
    deps.vault.copies(),
    deps.vault.shared(),
  ]);
  const plan = planVault({
    account: deps.account,
    region: deps.region,
    vaultAccount: deps.vaultAccount,
    sources: listing.snapshots,
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
  if (dryRun)
    return {
      plan,
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
  return { plan, outcomes: [...read, ...copied, ...cleanup, ...unshared, ...dropped, ...skips] };
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
