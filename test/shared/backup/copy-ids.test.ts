import { describe, expect, it } from 'vitest';
import { reconcileCopies } from '../../../shared/backup/copies.js';
import {
  copyActionOf,
  copyLimits,
  copyTargetIdOf,
  observeCopies,
  scheduleCopies,
} from '../../../shared/backup/copy-plan.js';
import { drCopyId, isValidSnapshotId, regionCode } from '../../../shared/backup/ids.js';
import { parseConfig } from '../../../shared/config/schema.js';
import type { Snapshot } from '../../../shared/model.js';
import {
  dailySnapshot,
  fakeCopyPort,
  fakeSnapshotArn,
  fakeSnapshotReader,
} from '../../fakes/backup-ports.js';
import { fakeSnapshotStore } from '../../fakes/snapshot-store.js';

// One account runs a database `orders` in two regions, both copying to one DR region (issue #17). Copies used
// to keep their source's id: the second region's copy was refused by RDS (the id was taken) or its source was
// counted as copied because the first region's copy had its id, so steward reported `orders` of the second
// region protected in DR by the other database's copy.
const WEST = 'eu-west-1';
const CENTRAL = 'eu-central-1';
const DR = 'us-west-2';
const NOW = new Date('2026-01-15T06:00:00Z');
const ID = 'steward-orders-202601150300-sched';

const config = (region: string) =>
  parseConfig(
    {
      stage: 'prod',
      account: '111122223333',
      region,
      backup: { policies: { daily: { kinds: ['rds-instance'], copyToDr: true } } },
      dr: {
        region: DR,
        kmsKeyArn: 'arn:aws:kms:us-west-2:111122223333:key/3f7a0c1e-aaaa-bbbb-cccc-0123456789ab',
      },
    },
    'copy-ids',
  );

const source = (region: string, id = ID): Snapshot => dailySnapshot('rds-instance', region, 'orders', id);

/** A copy in the DR region as steward made it before copy ids named their region: the source's own id. */
const legacyCopy = (s: Snapshot, status = 'available'): Snapshot => ({
  ...s,
  arn: fakeSnapshotArn(s.kind, DR, s.id),
  region: DR,
  status,
  sourceRegion: s.region,
  tags: { ...s.tags, 'steward:copied-from': s.arn },
});

const run = (region: string, primary: Snapshot[], drStore: ReturnType<typeof fakeSnapshotStore>) => {
  const store = fakeSnapshotStore(region, primary);
  const dr = fakeCopyPort(DR, drStore);
  return {
    dr,
    deps: {
      config: config(region),
      now: () => NOW,
      dr,
      snapshots: { primary: store, dr: drStore },
      readers: { primary: fakeSnapshotReader(store), dr: fakeSnapshotReader(drStore) },
    },
  };
};

describe('DR copy ids of one database id in two source regions', () => {
  it('name their source region, so the two copies of `orders` are two snapshots in the DR region', () => {
    expect(regionCode('eu-west-1')).toBe('euw1');
    expect(regionCode('ap-southeast-2')).toBe('apse2');
    expect(regionCode('ap-south-2')).toBe('aps2');
    expect(drCopyId(ID, WEST)).toBe('steward-orders-euw1-202601150300-sched');
    expect(drCopyId(ID, CENTRAL)).toBe('steward-orders-euc1-202601150300-sched');
    // EBS sets keep their id: a set is found by its tag, and EBS snapshot ids are AWS's.
    expect(copyTargetIdOf({ kind: 'ebs', id: ID, region: WEST })).toBe(ID);
    // The longest source id still gives a valid, distinct copy id per region, stamp last.
    const long = `steward-${'x'.repeat(36)}-202601150300-sched`;
    expect(long).toHaveLength(63);
    const [a, b] = [drCopyId(long, WEST), drCopyId(long, CENTRAL)];
    expect([isValidSnapshotId(a), isValidSnapshotId(b), a !== b]).toEqual([true, true, true]);
    expect(a).toMatch(/-euw1-202601150300-sched$/);
  });

  it("starts the second region's copy although the first region's copy has its source's id", async () => {
    // Prepare: eu-central-1's `orders` was copied before this change, under the source id
    const drStore = fakeSnapshotStore(DR, [legacyCopy(source(CENTRAL))]);
    const west = run(WEST, [source(WEST)], drStore);

    // Act
    const r = await reconcileCopies(west.deps, false);

    // Assert: eu-west-1's own copy, under an id of its own, and not counted as copied by the other's
    expect(west.dr.copies.map((c) => [c.targetId, c.sourceArn])).toEqual([
      ['steward-orders-euw1-202601150300-sched', source(WEST).arn],
    ]);
    expect(r.copies!.alreadyCopied).toBe(0);
    expect(drStore.snapshots.map((s) => s.id).sort()).toEqual([ID, 'steward-orders-euw1-202601150300-sched']);
  });

  it('sees in each region only its own copies: what is copied, in flight, and the DR lag', async () => {
    // Prepare: eu-central-1's legacy copy (available); eu-west-1's new-id copy still copying
    const drStore = fakeSnapshotStore(DR, [legacyCopy(source(CENTRAL))]);
    await reconcileCopies(run(WEST, [source(WEST)], drStore).deps, false);
    const central = run(CENTRAL, [source(CENTRAL)], drStore);
    const west = run(WEST, [source(WEST)], drStore);

    // Act
    const [c, w] = [await reconcileCopies(central.deps, false), await reconcileCopies(west.deps, false)];

    // Assert: eu-central-1 is copied (its old-id copy, recognised by its copied-from), nothing copied twice
    expect(central.dr.copies).toEqual([]);
    expect(c.copies).toMatchObject({ inFlight: 0, alreadyCopied: 1, start: [] });
    expect(c.drLag).toEqual([
      expect.objectContaining({
        db: 'orders',
        newestCopyAt: '2026-01-15T03:00:00.000Z',
        lagSeconds: 3 * 3600,
      }),
    ]);
    // eu-west-1: its copy is in flight, and its DR lag does not borrow eu-central-1's available copy
    expect(west.dr.copies).toEqual([]);
    expect(w.copies).toMatchObject({ inFlight: 1, alreadyCopied: 1, start: [] });
    expect(w.drLag).toEqual([expect.objectContaining({ db: 'orders' })]);
    expect(w.drLag![0]!.newestCopyAt).toBeUndefined();
  });

  it('still recognises an old-id copy of its own region (no second copy under the new id)', () => {
    // Act
    const listing = observeCopies(
      [source(WEST)],
      [legacyCopy(source(WEST))],
      ['daily'],
      NOW,
      undefined,
      WEST,
    );

    // Assert
    expect(listing.alreadyCopied).toBe(1);
    expect(listing.actions.size).toBe(0);
  });

  it("never takes another region's copy for a source by its id alone, even without copied-from", () => {
    // Prepare: a copy whose tags were lost, but RDS says it came from eu-central-1
    const { ['steward:copied-from']: _gone, ...tags } = legacyCopy(source(CENTRAL)).tags;
    const handMade = { ...legacyCopy(source(CENTRAL)), tags };

    // Act
    const listing = observeCopies([source(WEST)], [handMade], ['daily'], NOW);

    // Assert
    expect(listing.alreadyCopied).toBe(0);
    expect([...listing.actions.values()].map((a) => a.targetId)).toEqual([drCopyId(ID, WEST)]);
  });
});

describe('a copy queued before copy ids named their region', () => {
  it('is reserved under the id its copy is made with (its source ARN names the region)', () => {
    // Prepare: a pending entry as an older version wrote it, without targetId
    const s = source(WEST);
    const queue = {
      inFlight: [],
      pending: [
        { kind: 'rds-instance' as const, db: 'orders', snapshot: { id: s.id, arn: s.arn }, missing: 1 },
      ],
    };

    // Act
    const { queue: after } = scheduleCopies(queue, copyLimits(20), NOW);

    // Assert
    expect(after.inFlight.map((f) => f.targetId)).toEqual([copyActionOf(s).targetId]);
  });
});
