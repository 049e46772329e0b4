import type { CreateVolumeInput, DrillVolume, EbsDrillPort } from '../../shared/drill/ebs.js';
import type { EbsDrillDeps } from '../../shared/drill/ebs-tasks.js';
import type { Snapshot } from '../../shared/model.js';
import { Tag } from '../../shared/tags.js';

export interface FakeEbsOptions {
  /** Describes until a snapshot's volume is available (default 1: available on the first poll). */
  readyAfterPolls?: Record<string, number>;
  /** CreateVolume of this snapshot is refused. */
  failCreate?: string;
  /** The volume of this snapshot goes to `error`. */
  errorState?: string;
  /** DeleteVolume fails (as when a volume is still attached). */
  failDelete?: boolean;
}

export type FakeEbs = EbsDrillDeps & {
  volumes: EbsDrillPort;
  /** Volumes that exist, by id. */
  live: Map<string, DrillVolume & { polls: number }>;
  /** Every call, in order: `create <snap>`, `describe <n>`, `delete <vol>`, `fsr on|off <snaps>`, `list`. */
  log: string[];
  sets: EbsDrillDeps['sets'] & { all: Snapshot[] };
};

/**
 * EC2 for EBS drills in memory: snapshot sets to pick from, volumes that become available after some
 * describes, a refused create, a volume in error, a delete that fails. A retried create with the same client
 * token returns the same volume, as EC2's does.
 */
export const fakeEbs = (sets: Snapshot[], o: FakeEbsOptions = {}, region = 'eu-west-1'): FakeEbs => {
  const live = new Map<string, DrillVolume & { polls: number }>();
  const tokens = new Map<string, string>();
  const log: string[] = [];
  let n = 0;
  const volumes: EbsDrillPort = {
    region,
    createVolume: async (i: CreateVolumeInput) => {
      log.push(`create ${i.snapshotId}`);
      if (i.snapshotId === o.failCreate) throw new Error(`InvalidSnapshot.NotFound: ${i.snapshotId}`);
      const known = tokens.get(i.clientToken);
      if (known && live.has(known)) return { ...live.get(known)! };
      // Ids differ between regions, as EC2's do (a DR region's fake makes its own).
      const id = `vol-0${region === 'eu-west-1' ? 'drill' : 'other'}${String(++n).padStart(4, '0')}`;
      tokens.set(i.clientToken, id);
      const v = {
        volumeId: id,
        state: 'creating',
        snapshotId: i.snapshotId,
        createdAt: new Date(0).toISOString(),
        tags: { ...i.tags },
        polls: 0,
      };
      live.set(id, v);
      return { ...v };
    },
    describe: async (ids) => {
      log.push(`describe ${ids.length}`);
      return ids.flatMap((id) => {
        const v = live.get(id);
        if (!v) return [];
        v.polls++;
        if (v.snapshotId === o.errorState) v.state = 'error';
        else if (v.polls >= (o.readyAfterPolls?.[v.snapshotId!] ?? 1)) v.state = 'available';
        return [{ ...v }];
      });
    },
    remove: async (id) => {
      log.push(`delete ${id}`);
      if (o.failDelete) throw new Error(`VolumeInUse: ${id}`);
      const v = live.get(id);
      if (!v) return 'gone';
      if (!v.tags[Tag.drill]) throw new Error(`refusing to delete ${id}: not a drill volume`);
      live.delete(id);
      return 'deleted';
    },
    enableFastRestore: async (s) => void log.push(`fsr on ${s.join(',')}`),
    disableFastRestore: async (s) => void log.push(`fsr off ${s.join(',')}`),
    listDrillVolumes: async () => {
      log.push('list');
      return [...live.values()].filter((v) => v.tags[Tag.drill]).map(({ polls: _, ...v }) => v);
    },
  };
  return {
    volumes,
    live,
    log,
    availabilityZone: `${region}a`,
    sets: { all: sets, setsOf: async (id) => sets.filter((s) => s.sourceId === id) },
  };
};

/** A steward snapshot set of `source` taken at `createdAt`, one completed part per volume. */
export const ebsSet = (
  source: string,
  createdAt: string,
  volumes: string[],
  over: Partial<Snapshot> = {},
  region = 'eu-west-1',
): Snapshot => {
  const id = `steward-${source}-${createdAt.replace(/[-:T]/g, '').slice(0, 12)}-sched`;
  return {
    kind: 'ebs',
    id,
    arn: `arn:aws:ec2:${region}:111122223333:snapshot-set/${id}`,
    region,
    sourceId: source,
    createdAt,
    status: 'available',
    type: 'manual',
    tags: { [Tag.set]: id, [Tag.source]: source, [Tag.managed]: 'true' },
    encrypted: true,
    parts: volumes.map((v, i) => ({
      id: `snap-0${createdAt.slice(8, 10)}${String(i).padStart(3, '0')}${v.slice(-4)}`,
      volumeId: v,
      state: 'completed',
      startedAt: createdAt,
      encrypted: true,
    })),
    ...over,
  };
};
