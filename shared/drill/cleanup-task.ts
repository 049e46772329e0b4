import { EventShapeError, failureOf, formatIssues, PartialFailureError } from '../errors.js';
import { logger } from '../observability.js';
import { cacheCleanupRef } from './cache-tasks.js';
import { auroraWriterId, drillTargetId } from './ids.js';
import { deleteCopy, HANDED_OVER } from './copy-deletions.js';
import type { TargetRef } from './ports.js';
import type { DrillState } from './state.js';
import { type DrillDeps, prefixed, TargetShape } from './task-core.js';
import { fromVault, vaultCleanup } from './vault-tasks.js';

// The `cleanup` task of an RDS, Aurora or Redis drill (an EBS drill's is in ./ebs-tasks.ts).

/**
 * Delete the restored copy. Reached from every step (Catch), so the state may be partial, even the
 * raw execution input when `start` failed. Without `state.target` but past select, the copy is
 * looked up by its deterministic id: a restore that failed half-way may still have created it.
 */
export const cleanup = async (raw: Record<string, unknown>, deps: DrillDeps): Promise<DrillState> => {
  const s = raw as Partial<DrillState>;
  const at = deps.now().toISOString();
  let ref: TargetRef | undefined;
  if (s.target !== undefined) {
    const r = TargetShape.safeParse(s.target);
    if (!r.success) {
      throw new EventShapeError(
        'Invalid drill state for task cleanup',
        prefixed('state.target', formatIssues(r.error.issues)),
      );
    }
    ref = r.data;
  } else if (
    s.source &&
    s.drillId &&
    s.database &&
    (s.kind === 'rds-instance' || s.kind === 'aurora-cluster')
  ) {
    const id = drillTargetId(s.database, s.drillId);
    ref = { kind: s.kind, id, ...(s.kind === 'aurora-cluster' ? { instanceId: auroraWriterId(id) } : {}) };
  } else if (s.source && s.drillId && s.database && s.kind === 'redis') {
    ref = cacheCleanupRef({ database: s.database, drillId: s.drillId, source: s.source }, deps.config);
  }
  // A drill from the vault also deletes its own copy and unshares the vault's, whatever the restore did.
  let removed: Awaited<ReturnType<typeof deleteCopy>> | undefined;
  let failure: unknown;
  // Recorded, then its token taken (the restore event handler adds an Aurora copy's instances only while a token
  // is parked), then deleted; one RDS is still creating is handed over to its own next event and the janitor.
  try {
    if (ref) removed = await deleteCopy(ref, s.drillId ?? '?', deps);
  } catch (e) {
    failure = e;
  }
  const vaultFailures = fromVault(s) ? await vaultCleanup(s, deps) : [];
  if (failure !== undefined && !vaultFailures.length) throw failure;
  if (failure !== undefined || vaultFailures.length)
    throw new PartialFailureError(`Drill ${s.drillId ?? '?'} cleanup incomplete`, [
      ...(failure !== undefined && ref ? [failureOf(`${ref.kind} ${ref.id}`, failure)] : []),
      ...vaultFailures,
    ]);
  if (!ref || !removed) {
    return { ...raw, cleanup: { status: 'skipped', at, detail: 'nothing was restored' } } as DrillState;
  }
  logger.info('drill cleanup', { drillId: s.drillId, target: ref, result: removed });
  const detail =
    removed === 'handed-over' ? `${ref.kind} ${ref.id}: ${HANDED_OVER}` : `${ref.kind} ${ref.id}`;
  return { ...raw, cleanup: { status: removed, at, detail } } as DrillState;
};
