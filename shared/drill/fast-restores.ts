import type { Outcome } from '../model.js';
import { failedOutcome } from '../outcomes.js';
import type { EbsDrillPort } from './ebs.js';
import type { FastRestoreLedger, FastRestoreRecord } from './ports.js';

// Fast snapshot restore an EBS drill turns on is billed per snapshot and zone hour until it is turned off. Each
// one is recorded in the state table (FastRestoreLedger) before it is turned on and forgotten once it is off, so
// what a drill left on (its Cleanup failed, or its execution ended between the enable and its first volume) is
// turned off by the execution-ended rule or the janitor, and nothing someone else turned on is ever touched.

/** Snapshots by zone: what is to be turned off. */
export type FastRestoresByZone = Map<string, Set<string>>;

/** Add `snapshots` of `zone` to `into`. */
export const addFastRestores = (
  into: FastRestoresByZone,
  zone: string,
  snapshots: Iterable<string>,
): FastRestoresByZone => {
  const set = into.get(zone) ?? new Set<string>();
  for (const id of snapshots) set.add(id);
  if (set.size) into.set(zone, set);
  return into;
};

/** Record, before turning them on, the fast snapshot restores a drill turns on (a retry keeps the first time). */
export const recordFastRestores = async (
  ledger: FastRestoreLedger | undefined,
  r: Pick<FastRestoreRecord, 'drillId' | 'availabilityZone' | 'region' | 'enabledAt'>,
  snapshotIds: readonly string[],
): Promise<void> => {
  if (!ledger) return;
  for (const snapshotId of snapshotIds) await ledger.record({ ...r, snapshotId });
};

/**
 * Turn off the fast snapshot restores `want` names (per zone) for the drills `ending` says, and forget their
 * records once off. One that another drill's record names in the same zone (two drills of one set, a manual run
 * beside the schedule) stays on for it: only the ending drill's record is forgotten (`skipped`, naming that
 * drill), and the last drill out turns it off. A disable that fails keeps the records (the janitor's next sweep
 * turns them off). One outcome per zone and kind; `planned` in a dry run, which forgets nothing.
 */
export const turnOffFastRestores = async (
  port: Pick<EbsDrillPort, 'disableFastRestore'>,
  want: FastRestoresByZone,
  o: {
    ledger: FastRestoreLedger | undefined;
    records: readonly FastRestoreRecord[];
    ending: (r: FastRestoreRecord) => boolean;
    dryRun: boolean;
  },
): Promise<Outcome[]> => {
  const outcomes: Outcome[] = [];
  for (const [zone, ids] of [...want].sort(([a], [b]) => a.localeCompare(b))) {
    const inZone = o.records.filter((r) => r.availabilityZone === zone && ids.has(r.snapshotId));
    const keeper = new Map(inZone.filter((r) => !o.ending(r)).map((r) => [r.snapshotId, r.drillId]));
    const off = [...ids].filter((id) => !keeper.has(id)).sort();
    const kept = [...ids].filter((id) => keeper.has(id)).sort();
    const base = { resource: `fast snapshot restore of ${off.join(', ')} in ${zone}`, action: 'disable' };
    const forget = async (which: readonly string[]) => {
      for (const r of inZone) if (o.ending(r) && which.includes(r.snapshotId)) await o.ledger?.forget(r);
    };
    if (off.length) {
      try {
        if (!o.dryRun) {
          await port.disableFastRestore(off, zone);
          await forget(off);
        }
        outcomes.push({ ...base, status: o.dryRun ? 'planned' : 'done' });
      } catch (e) {
        outcomes.push(failedOutcome(base, e));
      }
    }
    if (kept.length) {
      const k = { resource: `fast snapshot restore of ${kept.join(', ')} in ${zone}`, action: 'disable' };
      try {
        if (!o.dryRun) await forget(kept);
        outcomes.push({
          ...k,
          status: 'skipped',
          reason: `still on for drill ${[...new Set(kept.map((id) => keeper.get(id)))].join(', ')}: its own cleanup (or the janitor) turns it off`,
        });
      } catch (e) {
        outcomes.push(failedOutcome(k, e));
      }
    }
  }
  return outcomes;
};

/** The records of the ledger, or a failed outcome naming the listing (then nothing is forgotten, nothing kept). */
export const listFastRestores = async (
  ledger: FastRestoreLedger | undefined,
): Promise<{ records: FastRestoreRecord[]; failed?: Outcome }> => {
  if (!ledger) return { records: [] };
  try {
    return { records: await ledger.list() };
  } catch (e) {
    return {
      records: [],
      failed: failedOutcome({ resource: 'fast snapshot restore records', action: 'list' }, e),
    };
  }
};

/** The ledger's records as snapshots by zone. */
export const byZone = (records: readonly FastRestoreRecord[]): FastRestoresByZone => {
  const out: FastRestoresByZone = new Map();
  for (const r of records) addFastRestores(out, r.availabilityZone, [r.snapshotId]);
  return out;
};
