import { errorMessage } from '../errors.js';
import type { Outcome } from '../model.js';
import { failedOutcome } from '../outcomes.js';
import { Tag, type Tags } from '../tags.js';
import type { EbsDrillSettings, RestoredVolume, SetMember, SnapshotSetRef } from './ebs-progress.js';
import type { DrillResource } from './ports.js';

export type { EbsDrillSettings, RestoredVolume, SetMember, SnapshotSetRef } from './ebs-progress.js';

/** A volume as the drill sees it. */
export interface DrillVolume {
  volumeId: string;
  state: string;
  snapshotId?: string;
  /** Where it was created: the zone the drill's fast snapshot restore was turned on in. */
  availabilityZone?: string;
  createdAt?: string;
  tags: Tags;
}

export interface CreateVolumeInput {
  snapshotId: string;
  availabilityZone: string;
  volumeType: EbsDrillSettings['volumeType'];
  /** Idempotency: a retried create with the same token returns the same volume. */
  clientToken: string;
  tags: Tags;
  /** Encrypted with the account's default EBS key, whatever key the snapshot has (a vault set's). */
  encrypted?: boolean;
}

/** Port: EBS volumes for drills, in one region. */
export interface EbsDrillPort {
  readonly region: string;
  createVolume(input: CreateVolumeInput): Promise<DrillVolume>;
  /** The volumes among `ids` (a deleted one is absent). */
  describe(ids: readonly string[]): Promise<DrillVolume[]>;
  /** Deletes a volume only when it carries `steward:drill`; `gone` when there is none. */
  remove(volumeId: string): Promise<'deleted' | 'gone'>;
  /**
   * Turn fast snapshot restore on in the zone for those of `snapshotIds` where it was not on already before
   * `since` (the drill's start: someone else's, or another drill's, is left as it is) and return those: what
   * this drill turned on, and may turn off. A retried task returns the same ones. `writeAhead` is given those
   * before they are turned on (the drill records them there: a drill that dies right after still leaves a record).
   */
  enableFastRestore(
    snapshotIds: readonly string[],
    availabilityZone: string,
    since: string,
    writeAhead?: (ours: readonly string[]) => Promise<void>,
  ): Promise<string[]>;
  disableFastRestore(snapshotIds: readonly string[], availabilityZone: string): Promise<void>;
  /** Every volume tagged `steward:drill` (what the janitor sweeps). */
  listDrillVolumes(): Promise<DrillVolume[]>;
}

/**
 * On a drill volume whose snapshot's fast snapshot restore the drill turned on: the record the execution-ended
 * cleanup and the janitor read to turn it off (the drill's state is gone by then), and only that.
 */
export const FAST_RESTORE_TAG = 'steward:fast-restore';

/** Tags of a drill volume: the drill's, steward's, and where it came from. */
export const drillVolumeTags = (drillId: string, set: SnapshotSetRef, m: SetMember): Tags => ({
  [Tag.drill]: drillId,
  [Tag.managed]: 'true',
  [Tag.source]: m.volumeId,
  [Tag.createdBy]: 'drill',
  'steward:snapshot-set': set.id,
});

// CreateVolume's ClientToken: up to 64 ASCII characters. The drill and the snapshot decide it, so a
// retried task gets the volume it already created instead of a second one.
/** The deterministic idempotency token of one restored volume. */
export const volumeToken = (drillId: string, snapshotId: string): string =>
  `${drillId}-${snapshotId}`.slice(-64);

/** The create requests of a drill of `set`: one volume per member, in the drill's zone. */
export const planVolumes = (
  drillId: string,
  set: SnapshotSetRef,
  s: EbsDrillSettings,
  fastRestored: readonly string[] = [],
): CreateVolumeInput[] =>
  set.members.map((m) => ({
    snapshotId: m.snapshotId,
    availabilityZone: s.availabilityZone,
    volumeType: s.volumeType,
    clientToken: volumeToken(drillId, m.snapshotId),
    tags: {
      ...drillVolumeTags(drillId, set, m),
      ...(fastRestored.includes(m.snapshotId) ? { [FAST_RESTORE_TAG]: 'drill' } : {}),
    },
    ...(s.encrypt ? { encrypted: true } : {}),
  }));

/** States a restored volume cannot leave for `available`. */
const DEAD = new Set(['error', 'deleting', 'deleted']);

export interface EbsDrillReport {
  drillId: string;
  setId: string;
  sourceId: string;
  availabilityZone: string;
  /** True when every volume of the set became available. */
  restored: boolean;
  volumes: RestoredVolume[];
  /** The slowest volume: the set is usable when its last volume is. */
  restoreSeconds?: number;
  /** The set's age when the drill restored it (RPO as the drill saw it). */
  setAgeSeconds: number;
  fastSnapshotRestore: boolean;
  cleanup: Outcome[];
  problems: string[];
}

export interface EbsDrillDeps {
  ebs: EbsDrillPort;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
}

// Poll DescribeVolumes every 5 s: a volume from a snapshot is usually available within seconds to a
// minute (its blocks then load lazily from S3), so the first poll comes quickly.
const POLL_MS = 5000;

/**
 * Restore each volume of `set` into the drill zone, wait (bounded) until all are available, time it, and
 * delete every volume created (and turn fast snapshot restore off) whatever happened. Never throws for a
 * failed restore: the report says so; a failed cleanup is a failed outcome in `cleanup`.
 */
export const drillSnapshotSet = async (
  drillId: string,
  set: SnapshotSetRef,
  s: EbsDrillSettings,
  deps: EbsDrillDeps,
): Promise<EbsDrillReport> => {
  const started = deps.now();
  const report: EbsDrillReport = {
    drillId,
    setId: set.id,
    sourceId: set.sourceId,
    availabilityZone: s.availabilityZone,
    restored: false,
    volumes: set.members.map((m) => ({
      snapshotId: m.snapshotId,
      sourceVolumeId: m.volumeId,
      ...(m.device && { device: m.device }),
      state: 'not-requested',
    })),
    setAgeSeconds: Math.round((started.getTime() - Date.parse(set.createdAt)) / 1000),
    fastSnapshotRestore: s.fastSnapshotRestore,
    cleanup: [],
    problems: [],
  };
  const snapshots = set.members.map((m) => m.snapshotId);
  // What this drill turned on: the only ones it turns off. All of them while the enable is in flight.
  let fsrOn: string[] = [];
  try {
    if (s.fastSnapshotRestore) {
      fsrOn = snapshots;
      fsrOn = await deps.ebs.enableFastRestore(snapshots, s.availabilityZone, started.toISOString());
    }
    const inputs = planVolumes(drillId, set, s, fsrOn);
    await Promise.all(
      inputs.map(async (input, i) => {
        const v = report.volumes[i]!;
        try {
          const created = await deps.ebs.createVolume(input);
          v.volumeId = created.volumeId;
          v.state = created.state;
        } catch (e) {
          v.state = 'create-failed';
          v.error = errorMessage(e);
        }
      }),
    );
    await waitAvailable(report, s, deps, started);
    report.restored = report.volumes.every((v) => v.state === 'available');
    const slowest = Math.max(...report.volumes.map((v) => v.seconds ?? NaN));
    if (report.restored) report.restoreSeconds = slowest;
  } catch (e) {
    report.problems.push(`drill stopped: ${errorMessage(e)}`);
  } finally {
    await cleanUp(report, s, deps, fsrOn);
  }
  for (const v of report.volumes)
    if (v.state !== 'available') report.problems.push(`${v.snapshotId}: ${v.error ?? `volume ${v.state}`}`);
  return report;
};

const waitAvailable = async (
  report: EbsDrillReport,
  s: EbsDrillSettings,
  deps: EbsDrillDeps,
  started: Date,
): Promise<void> => {
  const until = started.getTime() + s.timeoutSeconds * 1000;
  const pending = () =>
    report.volumes.filter((v) => v.volumeId && v.state !== 'available' && !DEAD.has(v.state));
  for (;;) {
    const waiting = pending();
    if (!waiting.length) return;
    if (deps.now().getTime() >= until) {
      for (const v of waiting) v.error = `not available within ${s.timeoutSeconds} s (last state ${v.state})`;
      return;
    }
    await deps.sleep(POLL_MS);
    const seen = new Map(
      (await deps.ebs.describe(waiting.map((v) => v.volumeId!))).map((x) => [x.volumeId, x]),
    );
    const at = deps.now();
    for (const v of waiting) {
      const x = seen.get(v.volumeId!);
      v.state = x?.state ?? 'deleted';
      if (v.state === 'available') v.seconds = Math.round((at.getTime() - started.getTime()) / 1000);
    }
  }
};

const cleanUp = async (
  report: EbsDrillReport,
  s: EbsDrillSettings,
  deps: EbsDrillDeps,
  fsrOn: readonly string[],
): Promise<void> => {
  const deletes = report.volumes.flatMap((v) => (v.volumeId ? [v.volumeId] : []));
  const outcomes = await Promise.all(
    deletes.map(async (id): Promise<Outcome> => {
      const base = { resource: `volume ${id}`, action: 'delete' };
      try {
        const r = await deps.ebs.remove(id);
        return { ...base, status: r === 'deleted' ? 'done' : 'already-done' };
      } catch (e) {
        return failedOutcome(base, e);
      }
    }),
  );
  if (fsrOn.length) {
    const base = {
      resource: `fast snapshot restore ${fsrOn.join(', ')} in ${s.availabilityZone}`,
      action: 'disable',
    };
    try {
      await deps.ebs.disableFastRestore(fsrOn, s.availabilityZone);
      outcomes.push({ ...base, status: 'done' });
    } catch (e) {
      outcomes.push(failedOutcome(base, e));
    }
  }
  report.cleanup = outcomes;
};

/**
 * A drill volume as the janitor sees it: a volume being deleted is `deleting` (skipped), one still
 * `creating` has its creation time from EC2 and is judged by age like the rest.
 */
export type VolumeResource = Omit<DrillResource, 'kind'> & { kind: 'ebs-volume' };

/** Drill volumes as the janitor's resources. */
export const volumeResources = (volumes: readonly DrillVolume[]): VolumeResource[] =>
  volumes.map((v) => ({
    kind: 'ebs-volume' as const,
    id: v.volumeId,
    drillId: v.tags[Tag.drill] ?? '',
    ...(v.createdAt && { createdAt: v.createdAt }),
    status: v.state,
  }));
