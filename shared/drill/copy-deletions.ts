import { errorMessage } from '../errors.js';
import { logger } from '../observability.js';
import {
  type CopyDeletion,
  type CopyDeletionLedger,
  DrillCopyBusyError,
  type RestorePort,
  type TargetRef,
  type TokenStore,
} from './ports.js';
import { dropToken } from './task-core.js';

// A restored RDS or Aurora copy RDS will not delete yet (still `creating`: a large Aurora cluster restores for
// hours) is not waited for: whoever deletes it (the drill's Cleanup, the execution-ended rule) records it in the
// state table first (CopyDeletionLedger), and its own next RDS event, or the janitor's next sweep, deletes it as
// soon as RDS allows. The record is written before the copy's parked token is taken, so a restore event handler
// that saw a live token and then added an Aurora writer finds it afterwards and deletes what it added.

/** Why a copy was not deleted at once, as outcomes and reports say it. */
export const HANDED_OVER =
  "RDS does not delete it while it is still being created: its next RDS event (or the janitor's next sweep) deletes it";

// The drill resources a dry run deletes all the same: a drill's restored copy (an RDS instance, an Aurora cluster,
// a Redis cache) and its own copy of a vault copy. A dry-run stage's drills restore, verify and delete their copy
// for real (proving a restore is their point), so the execution-ended rule and the janitor, which delete it when
// the drill's own Cleanup never ran (stopped by hand, timed out), must too, or nobody would. Each is steward's:
// named `steward-drill-*`, tagged `steward:drill`, and the ports refuse any other. Everything else a dry run only
// plans (volumes, verifiers, vault shares, endpoints), and an operator's preview (`preview`) plans everything.
const COPY_KINDS: ReadonlySet<string> = new Set(['rds-instance', 'aurora-cluster', 'redis', 'drill-copy']);

/** Whether a dry run deletes a drill resource of this kind all the same: a drill's own copy, unless a preview. */
export const deletedInDryRun = (kind: string, deps: { preview?: boolean | undefined }): boolean =>
  deps.preview !== true && COPY_KINDS.has(kind);

/** Whether a copy of this kind is deleted through the ledger (the kinds RDS events name). */
export const ledgered = (ref: TargetRef): ref is TargetRef & { kind: CopyDeletion['kind'] } =>
  ref.kind === 'rds-instance' || ref.kind === 'aurora-cluster';

/** The ledger's record of `ref`'s copy in its region, if any (a failed read is logged: undefined). */
export const recordOf = async (
  ledger: CopyDeletionLedger | undefined,
  ref: TargetRef,
  region: string,
): Promise<CopyDeletion | undefined> => {
  if (!ledger || !ledgered(ref)) return undefined;
  return (await ledger.list()).find((d) => d.id === ref.id && d.region === region);
};

const forget = async (ledger: CopyDeletionLedger, d: Pick<CopyDeletion, 'id' | 'region'>) => {
  try {
    await ledger.forget(d);
  } catch (e) {
    // The copy is deleting: the janitor forgets a record whose copy is gone.
    logger.warn('Could not forget the record of a drill copy being deleted', {
      ...d,
      error: errorMessage(e),
    });
  }
};

export interface DeleteCopyDeps {
  restore: Pick<RestorePort, 'region' | 'remove'>;
  tokens: TokenStore;
  deletions?: CopyDeletionLedger | undefined;
  now: () => Date;
}

/**
 * Delete a drill's restored copy: record it (write-ahead), take its parked token (the restore event handler adds
 * an Aurora copy's instances only while one is parked), delete it, forget it. RDS refusing the delete because the
 * copy is still being created hands it over (`handed-over`, the record kept) rather than fail. A record that could
 * not be written does not stop the delete; a copy RDS refused then is the failure it was (DrillCopyBusy).
 */
export const deleteCopy = async (
  ref: TargetRef,
  drillId: string,
  deps: DeleteCopyDeps,
): Promise<'deleted' | 'already-gone' | 'handed-over'> => {
  const ledger = ledgered(ref) ? deps.deletions : undefined;
  const region = deps.restore.region;
  let recorded = false;
  if (ledger && ledgered(ref)) {
    try {
      await ledger.record({
        kind: ref.kind,
        id: ref.id,
        ...(ref.instanceId ? { instanceId: ref.instanceId } : {}),
        drillId,
        region,
        since: deps.now().toISOString(),
      });
      recorded = true;
    } catch (e) {
      logger.warn('Could not record a drill copy before deleting it', { id: ref.id, error: errorMessage(e) });
    }
  }
  await dropToken(ref.id, deps);
  try {
    const done = await deps.restore.remove(ref);
    if (recorded) await forget(ledger!, { id: ref.id, region });
    return done;
  } catch (e) {
    if (recorded && e instanceof DrillCopyBusyError) {
      logger.info('drill copy handed over: RDS deletes it once it can', { id: ref.id, reason: e.message });
      return 'handed-over';
    }
    throw e;
  }
};

/**
 * Delete a copy the ledger names (`d`), from its event or the janitor's sweep: forgotten once RDS accepted the
 * delete or the copy is gone; `busy` (the record kept) while RDS still refuses.
 */
export const deleteHandedOver = async (
  d: CopyDeletion,
  deps: { restore: Pick<RestorePort, 'remove'>; deletions: CopyDeletionLedger },
): Promise<'deleted' | 'already-gone' | 'busy'> => {
  const ref: TargetRef = { kind: d.kind, id: d.id, ...(d.instanceId ? { instanceId: d.instanceId } : {}) };
  try {
    const done = await deps.restore.remove(ref);
    await forget(deps.deletions, d);
    return done;
  } catch (e) {
    if (e instanceof DrillCopyBusyError) return 'busy';
    throw e;
  }
};
