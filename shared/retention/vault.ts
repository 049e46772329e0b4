import type { RetentionPolicy } from '../config/schema.js';
import { isVaultCopy, VaultTag } from '../fleet/vault.js';
import type { Outcome, Snapshot } from '../model.js';
import { failedOutcome, settleEach } from '../outcomes.js';
import { type DeletionLimits, planRetention, type RetentionPlan } from './gfs.js';
import type { SnapshotStore } from './ports.js';

/** Outcome action of a vault deletion. */
export const VAULT_EXPIRE = 'expire-vault-copy';

/**
 * The vault's retention plan: the GFS engine over the copies steward made in the vault (both marks, see
 * isVaultCopy), all under the vault's own policy; anything else in the vault account is never judged, so never
 * deleted. Each copy is grouped by its source account, region and database and dated by its source's data time.
 */
export const planVaultRetention = (
  snapshots: readonly Snapshot[],
  policy: { name: string; policy: RetentionPolicy },
  now: Date,
  limits: DeletionLimits,
): { plan: RetentionPlan; ignored: number } => {
  const copies = snapshots.filter((s) => isVaultCopy(s.tags));
  const byKey = new Map<string, Snapshot>();
  const judged = copies.map((s) => {
    const t = s.tags;
    // The engine groups by (region, kind, source): the source account and region join the region part, so
    // two accounts' same-named databases are two groups (the source itself must stay the tag's, which the
    // engine checks against the service's field).
    const n: Snapshot = {
      ...s,
      region: `${s.region}/${t[VaultTag.sourceAccount] ?? '?'}/${t[VaultTag.sourceRegion] ?? '?'}`,
      createdAt: t[VaultTag.dataTime] ?? s.createdAt,
    };
    byKey.set(`${s.kind} ${s.id}`, s);
    return n;
  });
  const plan = planRetention(judged, () => policy, now, { limits });
  // Hand back the vault's own snapshots (their real source ids) for the deletes.
  const original = (s: Snapshot) => byKey.get(`${s.kind} ${s.id}`)!;
  return {
    plan: { ...plan, delete: plan.delete.map(original), deferred: plan.deferred.map(original) },
    ignored: snapshots.length - copies.length,
  };
};

export interface VaultRetentionDeps {
  /** The vault region's snapshots, listed and deleted with the vault retention role. */
  store: SnapshotStore;
  policy: { name: string; policy: RetentionPolicy };
  limits: DeletionLimits;
  now: () => Date;
}

/**
 * Expire the vault's copies by the vault's policy: list (RDS and Aurora only: the vault holds no ElastiCache),
 * plan, delete unless dry run; one failed delete never stops the others. Runs with the vault's own retention
 * role, which IAM lets delete only copies carrying both marks and never a held one.
 */
export const runVaultRetention = async (
  deps: VaultRetentionDeps,
  dryRun: boolean,
): Promise<{ plan: RetentionPlan; ignored: number; outcomes: Outcome[] }> => {
  const listing = await deps.store.list(['rds-instance', 'aurora-cluster']);
  const { plan, ignored } = planVaultRetention(listing.snapshots, deps.policy, deps.now(), deps.limits);
  const unread = listing.failures.map((f) =>
    failedOutcome({ resource: f.resource, action: VAULT_EXPIRE }, new Error(f.error)),
  );
  const outcomes = dryRun
    ? plan.delete.map((s): Outcome => ({ resource: s.id, action: VAULT_EXPIRE, status: 'planned' }))
    : await settleEach(
        plan.delete,
        async (s): Promise<Outcome> => ({
          resource: s.id,
          action: VAULT_EXPIRE,
          status: (await deps.store.remove(s)) === 'deleted' ? 'done' : 'already-done',
        }),
        (s) => ({ resource: s.id, action: VAULT_EXPIRE }),
      );
  return { plan, ignored, outcomes: [...unread, ...outcomes] };
};
