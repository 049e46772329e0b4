import { describe, expect, it } from 'vitest';
import { reconcileCopies } from '../../../shared/backup/copies.js';
import {
  AWS_COPY_LIMITS,
  copyLimits,
  lessUse,
  noUse,
  scheduleCopies,
  siblingUse,
  SLOTS_EXPIRE_MS,
  slotsChange,
  withSourceUse,
} from '../../../shared/backup/copy-plan.js';
import { drCopyId } from '../../../shared/backup/ids.js';
import { parseConfig, type StewardConfig } from '../../../shared/config/schema.js';
import { fanOutTargets, targetConfig } from '../../../shared/fleet/fan-out.js';
import type { Snapshot } from '../../../shared/model.js';
import {
  dailySnapshot,
  fakeCopyPort,
  fakeSnapshotArn,
  fakeSnapshotReader,
  memoryCopyLedger,
  memoryCopySlots,
} from '../../fakes/backup-ports.js';
import { type FakeSnapshotStore, fakeSnapshotStore } from '../../fakes/snapshot-store.js';

// Two source regions of one account copy to the same DR region side by side. AWS counts copies in flight per
// destination Region per account, whatever their source (RDS User Guide, "Copying a DB snapshot": "up to 20
// snapshot copy requests in progress to a single destination Region per account"; Aurora User Guide, "DB
// cluster snapshot copying": up to five), so the two regions' reconciles, run at once as two fan-out children,
// share one budget: together they never pass it, and neither starves the other.
const DR = 'us-west-2';
const WORKLOAD = '222222222222';
const NOW = new Date('2026-01-15T04:00:00Z');
const CLUSTERS = AWS_COPY_LIMITS['aurora-cluster'];

const fleet = (targets: unknown[]): StewardConfig =>
  parseConfig(
    {
      stage: 'prod',
      account: '111111111111',
      region: 'eu-west-1',
      fleet: { organizationId: 'o-a1b2c3d4e5' },
      backup: { policies: { daily: { kinds: ['rds-instance', 'aurora-cluster'], copyToDr: true } } },
      dr: {
        region: DR,
        kmsKeyArn: 'arn:aws:kms:us-west-2:111111111111:key/3f7a0c1e-aaaa-bbbb-cccc-0123456789ab',
      },
      targets,
    },
    'budget',
  );

const source = (region: string, db: string): Snapshot => dailySnapshot('aurora-cluster', region, db);

/** AWS answers after a while: runs started together each list (and request) while the others do. */
const later = () => new Promise((r) => setTimeout(r, 5));
const slow = (store: FakeSnapshotStore): FakeSnapshotStore => ({
  ...store,
  list: async (kinds) => {
    await later();
    return store.list(kinds);
  },
});
const slowCopies = (port: ReturnType<typeof fakeCopyPort>): ReturnType<typeof fakeCopyPort> => ({
  ...port,
  copySnapshot: async (input) => {
    await later();
    return port.copySnapshot(input);
  },
});

/**
 * One account's two source regions, each with four Aurora clusters to copy (eight together, over the five in
 * flight AWS allows per destination), one DR store they both copy into; `ledger` for the regions that keep a
 * copy queue (the hub's own account-region).
 */
const estate = (config: StewardConfig, account: string, ledgerIn: string[] = []) => {
  const drStore = fakeSnapshotStore(DR);
  const slots = memoryCopySlots();
  const children = fanOutTargets(config, 'backup').filter((t) => t.account === account);
  const runs = children.map((t, i) => {
    const c = targetConfig(config, t);
    const primary = fakeSnapshotStore(
      t.region,
      [1, 2, 3, 4].map((n) => source(t.region, `db-${i}-${n}`)),
    );
    return {
      region: t.region,
      deps: {
        config: c,
        now: () => NOW,
        dr: slowCopies(fakeCopyPort(DR, drStore)),
        snapshots: { primary, dr: slow(drStore) },
        readers: { primary: fakeSnapshotReader(primary), dr: fakeSnapshotReader(drStore) },
        ...(ledgerIn.includes(t.region) ? { copyLedger: memoryCopyLedger() } : {}),
        copySlots: slots.of(t.account, DR),
      },
    };
  });
  const copying = () => drStore.snapshots.filter((s) => s.status === 'copying');
  const finishAll = () => copying().forEach((s) => (s.status = 'available'));
  return { runs, drStore, copying, finishAll, slots };
};

describe('DR copies of two source regions of one account', () => {
  it('share the destination budget: run at once, they never start more than AWS allows in flight', async () => {
    // Prepare: account 222222222222 in two regions, both spoke children (no copy queue: they list in full)
    const config = fleet([{}, { account: WORKLOAD, regions: ['eu-west-1', 'eu-central-1'] }]);
    const { runs, copying } = estate(config, WORKLOAD);
    expect(runs.map((r) => r.region)).toEqual(['eu-west-1', 'eu-central-1']);

    // Act: the two children's copy reconciles at once, as the Distributed Map runs them
    const results = await Promise.all(runs.map((r) => reconcileCopies(r.deps, false)));

    // Assert: five in flight to us-west-2, not four from each region; the region that waits says why
    expect(copying()).toHaveLength(CLUSTERS);
    const reasons = results.flatMap((r) => r.outcomes).map((o) => ('reason' in o ? o.reason : undefined));
    expect(reasons).toContainEqual(
      expect.stringMatching(
        /^deferred: 5 of 20 copies in flight to us-west-2 \(\d from the account's other regions\)/,
      ),
    );
  });

  it('shares it between the hub account-region that keeps a queue and its other region that lists', async () => {
    // Prepare: the hub's own account in eu-west-1 (its copy queue) and eu-central-1 (a spoke role)
    const config = fleet([{ regions: ['eu-west-1', 'eu-central-1'] }]);
    const { runs, copying } = estate(config, '111111111111', ['eu-west-1']);

    // Act
    await Promise.all(runs.map((r) => reconcileCopies(r.deps, false)));

    // Assert
    expect(copying()).toHaveLength(CLUSTERS);
  });

  it('lets neither region starve: once copies finish, the next runs start the rest, every one copied', async () => {
    // Prepare
    const config = fleet([{}, { account: WORKLOAD, regions: ['eu-west-1', 'eu-central-1'] }]);
    const { runs, copying, finishAll, drStore } = estate(config, WORKLOAD);

    // Act: hourly runs of both regions at once; copies finish between them
    const inFlight: number[] = [];
    for (let hour = 0; hour < 4; hour++) {
      await Promise.all(runs.map((r) => reconcileCopies(r.deps, false)));
      inFlight.push(copying().length);
      finishAll();
    }

    // Assert: never over five; all eight copied, from both regions
    expect(Math.max(...inFlight)).toBeLessThanOrEqual(CLUSTERS);
    expect(drStore.snapshots.map((s) => s.id).sort()).toEqual(
      (['eu-west-1', 'eu-central-1'] as const)
        .flatMap((region, i) =>
          [1, 2, 3, 4].map((n) => drCopyId(`steward-db-${i}-${n}-202601150300-sched`, region)),
        )
        .sort(),
    );
  });

  it('gives back the slot of a copy that failed to start in a region that keeps no queue', async () => {
    // Prepare: both regions are spoke children (no copy queue); one of eu-west-1's four copies is refused
    const config = fleet([{}, { account: WORKLOAD, regions: ['eu-west-1', 'eu-central-1'] }]);
    const { runs, copying, slots } = estate(config, WORKLOAD);
    const refused = drCopyId('steward-db-0-4-202601150300-sched', 'eu-west-1');
    runs[0]!.deps.dr.failCopy.set(
      refused,
      Object.assign(new Error('Quota exceeded'), { name: 'SnapshotQuotaExceeded' }),
    );

    // Act: eu-west-1 runs (three copies start, one fails), then eu-central-1
    const west = await reconcileCopies(runs[0]!.deps, false);
    await reconcileCopies(runs[1]!.deps, false);

    // Assert: eu-west-1 holds the three it started, so eu-central-1 gets the other two of the five
    expect(west.outcomes.filter((o) => o.status === 'failed')).toHaveLength(1);
    const held = slots.stored.get(`${WORKLOAD} ${DR}`)!.bySource;
    expect(held['eu-west-1']!.use['aurora-cluster']).toBe(3);
    expect(copying()).toHaveLength(CLUSTERS);
  });

  it('gives it back even when the other region writes the slots between its read and its write', async () => {
    // Prepare: as above, and eu-central-1 reserves one copy just as eu-west-1 gives its slot back
    const config = fleet([{}, { account: WORKLOAD, regions: ['eu-west-1', 'eu-central-1'] }]);
    const { runs, slots } = estate(config, WORKLOAD);
    runs[0]!.deps.dr.failCopy.set(
      drCopyId('steward-db-0-4-202601150300-sched', 'eu-west-1'),
      Object.assign(new Error('Quota exceeded'), { name: 'SnapshotQuotaExceeded' }),
    );
    const own = runs[0]!.deps.copySlots;
    const other = runs[1]!.deps.copySlots;
    let raced = false;
    runs[0]!.deps.copySlots = {
      read: () => own.read(),
      write: async (bySource, version) => {
        const giving = (bySource['eu-west-1']?.use['aurora-cluster'] ?? 0) < 4;
        if (giving && !raced) {
          raced = true;
          const now = await other.read();
          const central = { use: { 'rds-instance': 0, 'aurora-cluster': 1, ebs: 0 }, at: NOW.toISOString() };
          await other.write({ ...now.bySource, 'eu-central-1': central }, now.version);
        }
        return own.write(bySource, version);
      },
    };

    // Act
    await reconcileCopies(runs[0]!.deps, false);

    // Assert: the race happened; eu-west-1 holds the three it started, and eu-central-1's reservation stays
    expect(raced).toBe(true);
    const held = slots.stored.get(`${WORKLOAD} ${DR}`)!.bySource;
    expect(held['eu-west-1']!.use['aurora-cluster']).toBe(3);
    expect(held['eu-central-1']!.use['aurora-cluster']).toBe(1);
  });

  it('names the shared slots, not a copy queue, when other regions win every round of its reservation', async () => {
    // Prepare: a spoke child (no copy queue) whose every slot write finds another region's first
    const config = fleet([{}, { account: WORKLOAD, regions: ['eu-west-1', 'eu-central-1'] }]);
    const { runs } = estate(config, WORKLOAD);
    const deps = { ...runs[0]!.deps, copySlots: { ...runs[0]!.deps.copySlots, write: async () => false } };

    // Act
    const run = reconcileCopies(deps, false);

    // Assert: the error names what was contended; nothing was copied
    await expect(run).rejects.toThrow(
      `PutItem failed for DR copy slots of account ${WORKLOAD} in ${DR}: QueueContention: lost 16 rounds to concurrent reconciles`,
    );
    expect(runs[0]!.deps.dr.copies).toEqual([]);
  });

  it('counts a copy of the other region that the listing sees but no reservation names yet', async () => {
    // Prepare: eu-central-1 already has three copies in flight (started before this budget existed)
    const config = fleet([{}, { account: WORKLOAD, regions: ['eu-west-1', 'eu-central-1'] }]);
    const { runs, copying, drStore } = estate(config, WORKLOAD);
    for (const n of [1, 2, 3]) {
      const s = source('eu-central-1', `db-1-${n}`);
      drStore.snapshots.push({
        ...s,
        arn: fakeSnapshotArn('aurora-cluster', DR, s.id),
        region: DR,
        status: 'copying',
        sourceRegion: 'eu-central-1',
        tags: { ...s.tags, 'steward:copied-from': s.arn },
      });
    }

    // Act: only eu-west-1 runs
    await reconcileCopies(runs[0]!.deps, false);

    // Assert: two more, five in flight
    expect(copying()).toHaveLength(CLUSTERS);
  });
});

describe('two runs of one spoke account-region at once (the hourly child and an event of the same region)', () => {
  /**
   * Runs A and B of eu-west-1 (a spoke: no copy queue, each lists in full), with eu-central-1 holding one of
   * the five Aurora slots. A lists first; a new snapshot (db-0-0, first in line) arrives; B lists; only then
   * does A request its copies, so neither listing shows the other's copies. Both plan four, different ones.
   */
  const race = () => {
    const config = fleet([{}, { account: WORKLOAD, regions: ['eu-west-1', 'eu-central-1'] }]);
    const { runs, copying, slots } = estate(config, WORKLOAD);
    const deps = runs[0]!.deps;
    const store = deps.snapshots.primary as FakeSnapshotStore;
    const gate = () => {
      let open!: () => void;
      return { passed: new Promise<void>((r) => (open = r)), open: () => open() };
    };
    const aListed = gate();
    const bListed = gate();
    const listing = (then: () => void) => ({
      ...store,
      list: async (kinds: Parameters<FakeSnapshotStore['list']>[0]) => {
        const r = await store.list(kinds);
        then();
        return r;
      },
    });
    const a = {
      ...deps,
      snapshots: { ...deps.snapshots, primary: listing(aListed.open) },
      dr: {
        ...deps.dr,
        copySnapshot: async (input: Parameters<typeof deps.dr.copySnapshot>[0]) => {
          await bListed.passed;
          return deps.dr.copySnapshot(input);
        },
      },
    };
    const b = { ...deps, snapshots: { ...deps.snapshots, primary: listing(bListed.open) } };
    const run = async () => {
      const central = { use: { 'rds-instance': 0, 'aurora-cluster': 1, ebs: 0 }, at: NOW.toISOString() };
      await slots.of(WORKLOAD, DR).write({ 'eu-central-1': central }, 0);
      const first = reconcileCopies(a, false);
      await aListed.passed;
      store.snapshots.push(source('eu-west-1', 'db-0-0'));
      const second = reconcileCopies(b, false);
      return Promise.all([first, second]);
    };
    const held = () => slots.stored.get(`${WORKLOAD} ${DR}`)!.bySource['eu-west-1']!.use['aurora-cluster'];
    return { run, copying, held, deps };
  };

  it('never start more than the region has left, and reserve every copy they started', async () => {
    // Prepare
    const { run, copying, held } = race();

    // Act
    await run();

    // Assert: four of the five (eu-central-1 holds one), all of them in eu-west-1's reservation
    expect(copying().length).toBeLessThanOrEqual(CLUSTERS - 1);
    expect(held()).toBeGreaterThanOrEqual(copying().length);
  });

  it("give back only their own failed copy's slot, keeping the other run's", async () => {
    // Prepare: every copy of db-0-1 is refused, whichever run requests it
    const { run, copying, held, deps } = race();
    deps.dr.failCopy.set(
      drCopyId('steward-db-0-1-202601150300-sched', 'eu-west-1'),
      Object.assign(new Error('Quota exceeded'), { name: 'SnapshotQuotaExceeded' }),
    );

    // Act
    await run();

    // Assert: what is copying is reserved, after the release
    expect(copying().length).toBeGreaterThan(0);
    expect(held()).toBeGreaterThanOrEqual(copying().length);
    expect(copying().length).toBeLessThanOrEqual(CLUSTERS - 1);
  });
});

describe('two runs of the hub account-region at once (it keeps a copy queue)', () => {
  it('a give-back written late does not lower the slots below what a newer run of the region started', async () => {
    // Prepare: the hub's own account in eu-west-1 (its queue) and eu-central-1; eu-west-1 copies its four
    const config = fleet([{ regions: ['eu-west-1', 'eu-central-1'] }]);
    const { runs, drStore, slots, copying } = estate(config, '111111111111', ['eu-west-1']);
    const deps = runs[0]!.deps;
    await reconcileCopies(deps, false);
    const first = drCopyId('steward-db-0-1-202601150300-sched', 'eu-west-1');
    drStore.snapshots.find((x) => x.id === first)!.status = 'available';
    const next = source('eu-west-1', 'db-0-1');
    Object.assign(next, { id: 'steward-db-0-1-202601150400-sched', createdAt: '2026-01-15T04:00:00.000Z' });
    next.arn = fakeSnapshotArn('aurora-cluster', 'eu-west-1', next.id);
    let bDone!: () => void;
    const done = new Promise<void>((r) => (bDone = r));
    const a = {
      ...deps,
      copySlots: {
        read: () => deps.copySlots.read(),
        write: async (...args: Parameters<typeof deps.copySlots.write>) => {
          await done;
          return deps.copySlots.write(...args);
        },
      },
    };

    // Act: A (the hourly run) sees db-0-1's copy finished and writes its queue, then gives the slot back late;
    // meanwhile B (db-0-1's next snapshot's event) reads A's queue and starts that copy in the freed slot
    const hourly = reconcileCopies(a, false);
    const event = (async () => {
      await new Promise((r) => setTimeout(r, 50));
      (deps.snapshots.primary as FakeSnapshotStore).snapshots.push(next);
      await reconcileCopies(deps, false, {
        eventId: 'RDS-EVENT-0042',
        kind: 'aurora-cluster',
        id: next.id,
        snapshot: next.arn,
        region: 'eu-west-1',
      });
      bDone();
    })();
    await Promise.all([hourly, event]);

    // Assert: B's copy started; the region's slots still cover every copy in flight
    expect(copying().map((x) => x.id)).toContain(drCopyId(next.id, 'eu-west-1'));
    const held = slots.stored.get(`111111111111 ${DR}`)!.bySource['eu-west-1']!.use['aurora-cluster'];
    expect(held).toBeGreaterThanOrEqual(copying().length);
  });
});

describe('the shared budget of one destination (pure)', () => {
  const use = (rds: number, aurora = 0, ebs = 0) => ({ 'rds-instance': rds, 'aurora-cluster': aurora, ebs });
  const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

  it("counts the other regions' fresh reservations, or what a listing saw of them when that is more", () => {
    const slots = {
      'eu-west-1': { use: use(9), at: ago(0) },
      'eu-central-1': { use: use(2, 1), at: ago(60_000) },
      'us-east-1': { use: use(7), at: ago(SLOTS_EXPIRE_MS) },
    };
    // Own region left out; us-east-1's reservation expired, but the listing saw 3 of its copies.
    expect(siblingUse(slots, 'eu-west-1', NOW, { 'us-east-1': use(3), 'eu-central-1': use(1, 2) })).toEqual(
      use(5, 2),
    );
  });

  it('leaves a region the limits less the others, and never lets an EBS set start alone past them', () => {
    const left = lessUse(copyLimits(20), use(15, 4, 0));
    expect(left).toEqual({
      total: 1,
      perKind: { 'rds-instance': 1, 'aurora-cluster': 1, ebs: 1 },
      shared: true,
    });
    expect(lessUse(copyLimits(20), noUse())).toEqual(copyLimits(20));
    // A set of three volumes with one slot left waits (alone, without others, it would start).
    const set = {
      kind: 'ebs' as const,
      db: 'i-0abc',
      snapshot: { id: 'steward-i-0abc-202601150300-sched', arn: 'arn:aws:ec2:eu-west-1::snapshot/x' },
      missing: 1,
      weight: 3,
    };
    const queue = { inFlight: [], pending: [set] };
    expect(scheduleCopies(queue, left, NOW).start).toEqual([]);
    expect(scheduleCopies(queue, { ...copyLimits(20), total: 1 }, NOW).start).toHaveLength(1);
  });

  it('reserves more before copying, settles less or a stale reservation after, and drops expired entries', () => {
    const held = { use: use(2), at: ago(0) };
    expect(slotsChange(held, use(3), NOW)).toBe('reserve');
    expect(slotsChange(held, use(1), NOW)).toBe('settle');
    expect(slotsChange(held, use(2), NOW)).toBeUndefined();
    expect(slotsChange({ use: use(2), at: ago(2 * 3_600_000) }, use(2), NOW)).toBe('settle');
    expect(slotsChange(undefined, noUse(), NOW)).toBeUndefined();
    expect(slotsChange({ use: use(2), at: ago(SLOTS_EXPIRE_MS) }, use(2), NOW)).toBe('reserve');
    expect(
      withSourceUse(
        { 'eu-central-1': { use: use(1), at: ago(SLOTS_EXPIRE_MS) }, 'us-east-1': held },
        'eu-west-1',
        use(4),
        NOW,
      ),
    ).toEqual({ 'us-east-1': held, 'eu-west-1': { use: use(4), at: NOW.toISOString() } });
    expect(withSourceUse({ 'eu-west-1': held }, 'eu-west-1', noUse(), NOW)).toEqual({});
  });
});
