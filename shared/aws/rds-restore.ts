import type { RDSClient } from '@aws-sdk/client-rds';
import type { DrillKind, RestorePort } from '../drill/ports.js';
import { DEFAULT_DRILL_CLASS } from '../drill/shape.js';
import { once } from '../once.js';
import { rdsDrillLookup, type RdsDrillContext } from './rds-drill-lookup.js';

export { DEFAULT_DRILL_CLASS };

export interface RdsRestoreOptions {
  defaultInstanceClass?: Partial<Record<DrillKind, string>>;
}

/**
 * RestorePort over the RDS API of one region, in four parts: lookup (describe, snapshots, PITR window,
 * master secret), restore (instance or cluster + writer), status (ready = connectable) and cleanup
 * (guarded deletes, the janitor's inventory). The last three are imported on their first use: the select
 * task (the lookup's snapshots) loads none of their code.
 */
export const rdsRestorePort = (region: string, rds: RDSClient, opts: RdsRestoreOptions = {}): RestorePort => {
  const ctx: RdsDrillContext = {
    region,
    rds,
    classFor: (kind, wanted) => wanted ?? opts.defaultInstanceClass?.[kind] ?? DEFAULT_DRILL_CLASS[kind],
  };
  const lookup = rdsDrillLookup(ctx);
  const later = once(() =>
    Promise.all([
      import('./rds-drill-restore.js'),
      import('./rds-drill-status.js'),
      import('./rds-drill-cleanup.js'),
    ]).then(([r, s, c]) => {
      const restore = r.rdsDrillRestore(ctx, lookup);
      const { describe } = s.rdsDrillStatus(ctx, lookup, restore);
      const { remove, listDrillResources } = c.rdsDrillCleanup(ctx, lookup);
      return { restore: restore.restore, describe, remove, listDrillResources };
    }),
  );
  return {
    region,
    listSnapshots: lookup.listSnapshots,
    restorableWindow: lookup.restorableWindow,
    restore: async (req) => (await later()).restore(req),
    describe: async (t) => (await later()).describe(t),
    remove: async (t) => (await later()).remove(t),
    listDrillResources: async () => (await later()).listDrillResources(),
    masterSecretArn: lookup.masterSecretArn,
    sourceShape: lookup.sourceShape,
  };
};
