import type { RDSClient } from '@aws-sdk/client-rds';
import type { DrillKind, RestorePort } from '../drill/ports.js';
import { DEFAULT_DRILL_CLASS } from '../drill/shape.js';
import { rdsDrillCleanup } from './rds-drill-cleanup.js';
import { rdsDrillLookup, type RdsDrillContext } from './rds-drill-lookup.js';
import { rdsDrillRestore } from './rds-drill-restore.js';
import { rdsDrillStatus } from './rds-drill-status.js';

export { WRITER_CLASS_TAG } from './rds-drill-restore.js';

export { DEFAULT_DRILL_CLASS };

export interface RdsRestoreOptions {
  defaultInstanceClass?: Partial<Record<DrillKind, string>>;
}

/**
 * RestorePort over the RDS API of one region, in four parts: lookup (describe, snapshots, PITR window,
 * master secret), restore (instance or cluster + writer), status (ready = connectable) and cleanup
 * (guarded deletes, the janitor's inventory).
 */
export const rdsRestorePort = (region: string, rds: RDSClient, opts: RdsRestoreOptions = {}): RestorePort => {
  const ctx: RdsDrillContext = {
    region,
    rds,
    classFor: (kind, wanted) => wanted ?? opts.defaultInstanceClass?.[kind] ?? DEFAULT_DRILL_CLASS[kind],
  };
  const lookup = rdsDrillLookup(ctx);
  const restore = rdsDrillRestore(ctx, lookup);
  const { describe } = rdsDrillStatus(ctx, lookup, restore);
  const { remove, listDrillResources } = rdsDrillCleanup(ctx, lookup);
  return {
    region,
    listSnapshots: lookup.listSnapshots,
    restorableWindow: lookup.restorableWindow,
    restore: restore.restore,
    describe,
    remove,
    listDrillResources,
    masterSecretArn: lookup.masterSecretArn,
    sourceShape: lookup.sourceShape,
  };
};
