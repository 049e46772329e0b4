import type { SnapshotStore } from '../../shared/retention/ports.js';
import { failureOf } from '../../shared/errors.js';
import type { Snapshot } from '../../shared/model.js';

/** In-memory SnapshotStore for one region; the live state is visible for assertions. */
export interface FakeSnapshotStore extends SnapshotStore {
  /** The region's snapshots right now (non-manual ones included: they are stored, never listed). */
  snapshots: Snapshot[];
  /** `kind/id` of every snapshot `remove` deleted, in call order. */
  removed: string[];
  /** Set to make `list` reject with this error. */
  failList: unknown;
  /** Snapshot id → error that `remove` rejects with for it. */
  failRemove: Map<string, unknown>;
  /** Snapshot id → error reading it (its tags): `list` leaves it out and reports it as a failure. */
  failRead: Map<string, unknown>;
}

/**
 * Fake SnapshotStore honouring the port's contract (see test/shared/aws/snapshot-store.contract.ts).
 * `initial` may hold several regions' snapshots: only `region`'s are kept, copied.
 */
export const fakeSnapshotStore = (region: string, initial: readonly Snapshot[] = []): FakeSnapshotStore => {
  const store: FakeSnapshotStore = {
    region,
    snapshots: initial.filter((s) => s.region === region).map((s) => structuredClone(s)),
    removed: [],
    failList: undefined,
    failRemove: new Map(),
    failRead: new Map(),
    list: async (kinds) => {
      if (store.failList !== undefined) throw store.failList;
      const wanted = store.snapshots.filter((s) => kinds.includes(s.kind) && s.type === 'manual');
      return {
        snapshots: wanted.filter((s) => !store.failRead.has(s.id)).map((s) => structuredClone(s)),
        failures: wanted
          .filter((s) => store.failRead.has(s.id))
          .map((s) => failureOf(`${s.kind} snapshot ${s.id} in ${region}`, store.failRead.get(s.id))),
      };
    },
    remove: async ({ kind, id }) => {
      if (store.failRemove.has(id)) throw store.failRemove.get(id);
      const i = store.snapshots.findIndex((s) => s.kind === kind && s.id === id);
      if (i < 0) return 'already-gone';
      store.snapshots.splice(i, 1);
      store.removed.push(`${kind}/${id}`);
      return 'deleted';
    },
  };
  return store;
};
