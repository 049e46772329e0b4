import type { RetentionPolicy } from '../config/schema.js';
import { isVaultCopy, VaultTag } from '../fleet/vault.js';
import type { Outcome, Snapshot } from '../model.js';
import { failedOutcome, settleEach, tally } from '../outcomes.js';
import { type DeletionLimits, planRetention, type RetentionPlan } from './gfs.js';
import { refundDeletions, reserveDeletions } from './day-budget.js';
import type { DeletionBudget, SnapshotStore } from './ports.js';

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
  /**
   * The vault region's day budget, shared by every vault retention run of the day (Lambda retries, EventBridge
   * redeliveries, a manual invoke): together they delete at most the day's allowance, as workload retention does.
   */
  budget: DeletionBudget;
  now: () => Date;
}

/** Result of one vault retention run; `overBudget` are expired copies today's budget left for tomorrow. */
export interface VaultRetentionRun {
  plan: RetentionPlan;
  ignored: number;
  outcomes: Outcome[];
  overBudget: number;
}

/**
 * Expire the vault's copies by the vault's policy: list (RDS, Aurora and EBS sets, a set kept or deleted whole:
 * the vault holds no ElastiCache),
 * plan, reserve the deletions from the day's budget, delete what was granted unless dry run (the rest waits for
 * tomorrow), refund what was not deleted; one failed delete never stops the others. Runs with the vault's own retention
 * role, which IAM lets delete only copies carrying both marks and never a held one.
 */
export const runVaultRetention = async (
  deps: VaultRetentionDeps,
  dryRun: boolean,
): Promise<VaultRetentionRun> => {
  const listing = await deps.store.list(['rds-instance', 'aurora-cluster', 'ebs']);
  const now = deps.now();
  const { plan, ignored } = planVaultRetention(listing.snapshots, deps.policy, now, deps.limits);
  const unread = listing.failures.map((f) =>
    failedOutcome({ resource: f.resource, action: VAULT_EXPIRE }, new Error(f.error)),
  );
  if (dryRun)
    return {
      plan,
      ignored,
      overBudget: 0,
      outcomes: [
        ...unread,
        ...plan.delete.map((s): Outcome => ({ resource: s.id, action: VAULT_EXPIRE, status: 'planned' })),
      ],
    };
  // Reserve before deleting: what an earlier run of the day deleted counts against today's allowance.
  const budget = await reserveDeletions(
    deps.budget,
    now,
    plan.delete.length,
    plan.allowance.allowed,
    `vault retention budget ${deps.store.region}`,
  );
  const granted = plan.delete.slice(0, budget.granted);
  const over = plan.delete.slice(granted.length);
  const deleted = await settleEach(
    granted,
    async (s): Promise<Outcome> => ({
      resource: s.id,
      action: VAULT_EXPIRE,
      status: (await deps.store.remove(s)) === 'deleted' ? 'done' : 'already-done',
    }),
    (s) => ({ resource: s.id, action: VAULT_EXPIRE }),
  );
  if (budget.day) await refundDeletions(deps.budget, budget.day, granted.length - tally(deleted).done);
  const why = budget.failed
    ? 'not deleted: the deletion budget could not be reserved'
    : `deferred: today's vault deletion budget (${plan.allowance.allowed}) was used by an earlier run (a retry, an overlap)`;
  return {
    plan,
    ignored,
    overBudget: over.length,
    outcomes: [
      ...unread,
      ...(budget.failed ? [budget.failed] : []),
      ...deleted,
      ...over.map((s): Outcome => ({ resource: s.id, action: VAULT_EXPIRE, status: 'skipped', reason: why })),
    ],
  };
};
