// The seeded pick every drill kind makes among its candidates (database snapshots, vault copies, EBS snapshot
// sets), below select.ts and ebs-tasks.ts so neither copies it.
import type { SnapshotSelector } from '../config/schema.js';
import { StewardError } from '../errors.js';
import type { Snapshot } from '../model.js';
import { fnv1a } from './ids.js';

/** No snapshot or point in time matches what the drill asked for; the message says why. */
export class SnapshotSelectionError extends StewardError {
  override name = 'SnapshotSelectionError';
}

const DAY_MS = 86_400_000;

/** A snapshot's creation time in epoch ms; NaN when it has none yet. */
export const snapshotTime = (iso: string | undefined): number => (iso === undefined ? NaN : Date.parse(iso));

/**
 * Whether a snapshot may be of a Redis group created at `since` (epoch ms): not taken before it. ElastiCache
 * snapshots and their DR copies carry no id of their group, so one taken before the live group existed is of
 * an earlier group of the same name. One with no creation time is kept here: no drill restores it (it is no
 * candidate, and naming it is refused for want of a time).
 */
export const notBefore = (since: number, s: Pick<Snapshot, 'createdAt'>): boolean => {
  const at = snapshotTime(s.createdAt);
  return !Number.isFinite(at) || at >= since;
};

/** Whole seconds: the creation times RDS states in two places need not agree below the second. */
const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

/**
 * Whether a snapshot (or a retained automated backup) is of the live database, which a drill restores (and
 * retention keeps by its own slots, shared/retention/gfs.ts). By the
 * resource id RDS sets on both (`DbiResourceId` / `DbClusterResourceId`, immutable) when both carry one; else
 * by the creation time of the database it was taken from, which the snapshot states (`InstanceCreateTime` /
 * `ClusterCreateTime`), against the live one's; else, as for ElastiCache, a snapshot taken before the live
 * database was created is an earlier namesake's, and one taken since is the live one's (an identifier names one
 * database at a time). With none of these (no id, no times), nothing ties it to the live database: it is left
 * out, so a drill never passes on it.
 */
export const tiedTo = (
  live: { id?: string | undefined; createdAt?: Date | undefined },
  of: { id?: string | undefined; sourceCreatedAt?: Date | undefined; at?: Date | undefined },
): boolean => {
  if (live.id && of.id) return of.id === live.id;
  if (!live.createdAt) return false;
  if (of.sourceCreatedAt) return seconds(of.sourceCreatedAt) === seconds(live.createdAt);
  return of.at !== undefined && seconds(of.at) >= seconds(live.createdAt);
};

/** Oldest first, ties by id: the order `pickAmong` expects. */
export const oldestFirst = (a: Snapshot, b: Snapshot): number =>
  snapshotTime(a.createdAt) - snapshotTime(b.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * `latest` or a seeded `randomWithinDays` pick among candidates sorted oldest first (a retried select picks
 * the same one). `which` names the candidates in the errors ("available snapshot"), `what` their source.
 */
export const pickAmong = <S extends Snapshot>(
  candidates: readonly S[],
  selector: Extract<SnapshotSelector, 'latest' | { randomWithinDays: number }>,
  opts: { now: Date; seed: string },
  what: string,
  which: string,
): S => {
  if (!candidates.length) throw new SnapshotSelectionError(`no ${which} of ${what} to restore`);
  if (selector === 'latest') return candidates.at(-1)!;
  const since = opts.now.getTime() - selector.randomWithinDays * DAY_MS;
  const recent = candidates.filter((s) => snapshotTime(s.createdAt) >= since);
  if (!recent.length) {
    const newest = candidates.at(-1)!;
    throw new SnapshotSelectionError(
      `no ${which} of ${what} in the last ${selector.randomWithinDays} days (newest: ${newest.id} at ${newest.createdAt})`,
    );
  }
  return recent[fnv1a(opts.seed) % recent.length]!;
};
