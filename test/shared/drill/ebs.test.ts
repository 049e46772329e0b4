import { describe, expect, it } from 'vitest';
import {
  type CreateVolumeInput,
  drillSnapshotSet,
  type DrillVolume,
  type EbsDrillPort,
  type EbsDrillSettings,
  planVolumes,
  type SnapshotSetRef,
  volumeToken,
} from '../../../shared/drill/ebs.js';
import { Tag } from '../../../shared/tags.js';

const SET: SnapshotSetRef = {
  id: 'steward-i-0abc1234def567890-202601150300-sched',
  sourceId: 'i-0abc1234def567890',
  createdAt: '2026-01-15T03:00:00Z',
  members: [
    { snapshotId: 'snap-0aaa', volumeId: 'vol-0root', device: '/dev/xvda' },
    { snapshotId: 'snap-0bbb', volumeId: 'vol-0data', device: '/dev/xvdf' },
  ],
};
const SETTINGS: EbsDrillSettings = {
  availabilityZone: 'eu-west-1a',
  volumeType: 'gp3',
  fastSnapshotRestore: false,
  timeoutSeconds: 600,
};
const DRILL = 'monthly-mongo-202602010500';

/**
 * An EC2 in memory: volumes become available after `readyAfterPolls` describes (per snapshot), a
 * snapshot may fail to restore, and every call is logged. Each sleep advances the clock.
 */
const fakeEc2 = (
  o: {
    readyAfterPolls?: Record<string, number>;
    failCreate?: string;
    errorState?: string;
    failDelete?: boolean;
    failFsr?: boolean;
  } = {},
) => {
  const volumes = new Map<string, DrillVolume & { polls: number }>();
  const log: string[] = [];
  let clock = Date.parse('2026-02-01T05:00:00Z');
  let n = 0;
  const port: EbsDrillPort = {
    region: 'eu-west-1',
    createVolume: async (i: CreateVolumeInput) => {
      log.push(`create ${i.snapshotId}`);
      if (i.snapshotId === o.failCreate) throw new Error('InvalidSnapshot.NotFound');
      const id = `vol-new${++n}`;
      const v = { volumeId: id, state: 'creating', snapshotId: i.snapshotId, tags: i.tags, polls: 0 };
      volumes.set(id, v);
      return { ...v };
    },
    describe: async (ids) => {
      log.push(`describe ${ids.length}`);
      return ids.flatMap((id) => {
        const v = volumes.get(id);
        if (!v) return [];
        v.polls++;
        if (v.snapshotId === o.errorState) v.state = 'error';
        else if (v.polls >= (o.readyAfterPolls?.[v.snapshotId!] ?? 1)) v.state = 'available';
        return [{ ...v }];
      });
    },
    remove: async (id) => {
      log.push(`delete ${id}`);
      if (o.failDelete) throw new Error('VolumeInUse');
      return volumes.delete(id) ? 'deleted' : 'gone';
    },
    enableFastRestore: async (s) => {
      log.push(`fsr on ${s.join(',')}`);
      if (o.failFsr) throw new Error('InsufficientCapacity');
      return [...s];
    },
    disableFastRestore: async (s) => void log.push(`fsr off ${s.join(',')}`),
    listDrillVolumes: async () => [...volumes.values()],
  };
  const deps = {
    ebs: port,
    now: () => new Date(clock),
    sleep: async (ms: number) => void (clock += ms),
  };
  return { deps, log, volumes };
};

describe('planVolumes', () => {
  it('restores every member into the drill zone, tagged steward:drill, with a deterministic token', () => {
    // Act
    const plan = planVolumes(DRILL, SET, SETTINGS);
    // Assert
    expect(plan).toEqual([
      {
        snapshotId: 'snap-0aaa',
        availabilityZone: 'eu-west-1a',
        volumeType: 'gp3',
        clientToken: `${DRILL}-snap-0aaa`,
        tags: {
          [Tag.drill]: DRILL,
          [Tag.managed]: 'true',
          [Tag.source]: 'vol-0root',
          [Tag.createdBy]: 'drill',
          'steward:snapshot-set': SET.id,
        },
      },
      expect.objectContaining({ snapshotId: 'snap-0bbb', clientToken: `${DRILL}-snap-0bbb` }),
    ]);
  });

  it('keeps the token within CreateVolume’s 64 characters', () => {
    expect(volumeToken('d'.repeat(80), 'snap-0123456789abcdef0')).toHaveLength(64);
  });
});

describe('drillSnapshotSet', () => {
  it('restores every volume, times the set by its slowest volume, and deletes them all', async () => {
    // Prepare
    const w = fakeEc2({ readyAfterPolls: { 'snap-0aaa': 1, 'snap-0bbb': 3 } });
    // Act
    const r = await drillSnapshotSet(DRILL, SET, SETTINGS, w.deps);
    // Assert
    expect(r).toMatchObject({
      restored: true,
      restoreSeconds: 15,
      setAgeSeconds: 17 * 86400 + 2 * 3600,
      problems: [],
    });
    expect(r.volumes.map((v) => [v.snapshotId, v.device, v.state, v.seconds])).toEqual([
      ['snap-0aaa', '/dev/xvda', 'available', 5],
      ['snap-0bbb', '/dev/xvdf', 'available', 15],
    ]);
    expect(r.cleanup.map((o) => o.status)).toEqual(['done', 'done']);
    expect(w.volumes.size).toBe(0);
  });

  it('a member that cannot be restored fails the drill; the others are still restored and deleted', async () => {
    // Prepare
    const w = fakeEc2({ failCreate: 'snap-0bbb' });
    // Act
    const r = await drillSnapshotSet(DRILL, SET, SETTINGS, w.deps);
    // Assert
    expect(r.restored).toBe(false);
    expect(r.restoreSeconds).toBeUndefined();
    expect(r.problems).toEqual(['snap-0bbb: InvalidSnapshot.NotFound']);
    expect(w.volumes.size).toBe(0);
  });

  it('a volume that goes to error fails the drill and is deleted', async () => {
    // Prepare
    const w = fakeEc2({ errorState: 'snap-0aaa' });
    // Act
    const r = await drillSnapshotSet(DRILL, SET, SETTINGS, w.deps);
    // Assert
    expect(r.volumes[0]!.state).toBe('error');
    expect(r.problems).toEqual(['snap-0aaa: volume error']);
    expect(w.volumes.size).toBe(0);
  });

  it('stops waiting at the timeout, says so, and deletes what it created', async () => {
    // Prepare
    const w = fakeEc2({ readyAfterPolls: { 'snap-0aaa': 1, 'snap-0bbb': 10_000 } });
    // Act
    const r = await drillSnapshotSet(DRILL, SET, { ...SETTINGS, timeoutSeconds: 60 }, w.deps);
    // Assert
    expect(r.restored).toBe(false);
    expect(r.problems).toEqual(['snap-0bbb: not available within 60 s (last state creating)']);
    expect(w.log.filter((l) => l.startsWith('describe')).length).toBeLessThanOrEqual(13);
    expect(w.volumes.size).toBe(0);
  });

  it('with fast snapshot restore: turns it on first and off at the end, also when a restore fails', async () => {
    // Prepare
    const w = fakeEc2({ failCreate: 'snap-0aaa' });
    // Act
    const r = await drillSnapshotSet(DRILL, SET, { ...SETTINGS, fastSnapshotRestore: true }, w.deps);
    // Assert
    expect(w.log[0]).toBe('fsr on snap-0aaa,snap-0bbb');
    expect(w.log.at(-1)).toBe('fsr off snap-0aaa,snap-0bbb');
    expect(r.cleanup.at(-1)).toMatchObject({ action: 'disable', status: 'done' });
  });

  it('a failure before any volume exists (fast snapshot restore refused) still cleans up and reports', async () => {
    // Prepare
    const w = fakeEc2({ failFsr: true });
    // Act
    const r = await drillSnapshotSet(DRILL, SET, { ...SETTINGS, fastSnapshotRestore: true }, w.deps);
    // Assert
    expect(r.restored).toBe(false);
    expect(r.problems[0]).toBe('drill stopped: InsufficientCapacity');
    expect(w.log).toEqual(['fsr on snap-0aaa,snap-0bbb', 'fsr off snap-0aaa,snap-0bbb']);
  });

  it('a delete that fails is a failed cleanup outcome naming the volume (the janitor retries it)', async () => {
    // Prepare
    const w = fakeEc2({ failDelete: true });
    // Act
    const r = await drillSnapshotSet(DRILL, SET, SETTINGS, w.deps);
    // Assert
    expect(r.restored).toBe(true);
    expect(r.cleanup).toEqual([
      expect.objectContaining({ resource: 'volume vol-new1', status: 'failed', error: 'VolumeInUse' }),
      expect.objectContaining({ resource: 'volume vol-new2', status: 'failed' }),
    ]);
  });
});
