import { describe, expect, it } from 'vitest';
import { reconcileCopies } from '../../../shared/backup/copies.js';
import type { CopyKind } from '../../../shared/backup/copy-plan.js';
import { drCopyId } from '../../../shared/backup/ids.js';
import { parseConfig } from '../../../shared/config/schema.js';
import type { Quota, Snapshot } from '../../../shared/model.js';
import {
  fakeCopyPort,
  fakeSnapshotArn,
  fakeSnapshotReader,
  memoryCopyLedger,
} from '../../fakes/backup-ports.js';
import { fakeSnapshotStore } from '../../fakes/snapshot-store.js';

// DR copies count against the DR region's manual snapshot quotas (RDS: ManualSnapshots and
// ManualClusterSnapshots, 100 each per region by default), as the backups count against the primary's.
const PRIMARY = 'eu-west-1';
const DR = 'us-west-2';
const NOW = new Date('2026-01-15T04:00:00Z');

const config = parseConfig(
  {
    stage: 'prod',
    region: PRIMARY,
    backup: { policies: { daily: { kinds: ['rds-instance', 'aurora-cluster'], copyToDr: true } } },
    dr: { region: DR, kmsKeyArn: 'arn:aws:kms:us-west-2:111122223333:alias/steward-dr' },
  },
  'test',
);

const source = (kind: CopyKind, db: string, day = 15): Snapshot => {
  const id = `steward-${db}-202601${String(day).padStart(2, '0')}0300-sched`;
  return {
    kind,
    id,
    arn: fakeSnapshotArn(kind, PRIMARY, id),
    region: PRIMARY,
    sourceId: db,
    createdAt: `2026-01-${String(day).padStart(2, '0')}T03:00:00.000Z`,
    status: 'available',
    type: 'manual',
    encrypted: true,
    tags: { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': db },
  };
};

const estate = (sources: Snapshot[], quotas: Quota[], queued = false) => {
  const primary = fakeSnapshotStore(PRIMARY, sources);
  const drStore = fakeSnapshotStore(DR);
  const dr = fakeCopyPort(DR, drStore, quotas);
  const deps = {
    config,
    now: () => NOW,
    dr,
    snapshots: { primary, dr: drStore },
    ...(queued
      ? {
          readers: { primary: fakeSnapshotReader(primary), dr: fakeSnapshotReader(drStore) },
          copyLedger: memoryCopyLedger(),
        }
      : {}),
  };
  return { deps, dr, drStore, primary };
};

describe("the DR region's manual snapshot quota", () => {
  it.each([false, true])(
    'starts only the copies the DR quota takes, reports the others by name, quota and region, and copies them once it has room (queue kept: %s)',
    async (queued) => {
      // Prepare: three instances to copy, the DR region at 99/100 manual DB snapshots.
      const sources = ['orders', 'billing', 'ledger'].map((db) => source('rds-instance', db));
      const { deps, dr } = estate(sources, [{ name: 'ManualSnapshots', used: 99, max: 100 }], queued);

      // Act
      const first = await reconcileCopies(deps, false);

      // Assert: one copy fits; the other two are refused, named, and not lost.
      expect(dr.copies).toHaveLength(1);
      const refused = first.outcomes.filter(
        (o) => o.status === 'skipped' && o.reason.startsWith('dr-quota-full'),
      );
      expect(refused).toHaveLength(2);
      for (const o of refused) {
        expect(o.status === 'skipped' && o.reason).toContain('ManualSnapshots');
        expect(o.status === 'skipped' && o.reason).toContain('99/100');
        expect(o.status === 'skipped' && o.reason).toContain(DR);
      }
      expect(refused.map((o) => o.resource).sort()).toEqual(
        sources
          .filter((s) => !dr.copies.some((c) => c.sourceArn === s.arn))
          .map((s) => s.id)
          .sort(),
      );
      expect(first.copies!.findings).toEqual([
        expect.objectContaining({ severity: 'critical', quota: 'ManualSnapshots', used: 99, max: 100 }),
      ]);
      expect(first.copies!.findings![0]!.message).toContain(DR);

      // Act: retention made room in the DR region.
      dr.quotaList = [{ name: 'ManualSnapshots', used: 60, max: 100 }];
      await reconcileCopies(deps, false);

      // Assert: every source copied once.
      expect(dr.copies.map((c) => c.targetId).sort()).toEqual(
        sources.map((s) => drCopyId(s.id, PRIMARY)).sort(),
      );
    },
  );

  it('guards cluster copies by ManualClusterSnapshots, apart from instance copies', async () => {
    // Prepare
    const sources = [source('rds-instance', 'orders'), source('aurora-cluster', 'analytics')];
    const { deps, dr } = estate(sources, [
      { name: 'ManualSnapshots', used: 10, max: 100 },
      { name: 'ManualClusterSnapshots', used: 100, max: 100 },
    ]);

    // Act
    const r = await reconcileCopies(deps, false);

    // Assert
    expect(dr.copies.map((c) => c.kind)).toEqual(['rds-instance']);
    expect(r.outcomes).toContainEqual(
      expect.objectContaining({
        resource: sources[1]!.id,
        status: 'skipped',
        reason: expect.stringContaining('ManualClusterSnapshots quota full (100/100 used) in us-west-2'),
      }),
    );
  });

  it('reads the DR quota once for a run that starts copies, and not at all for one that starts none', async () => {
    // Prepare
    const { deps, dr } = estate(
      [source('rds-instance', 'orders')],
      [{ name: 'ManualSnapshots', used: 10, max: 100 }],
    );

    // Act
    await reconcileCopies(deps, false);
    await reconcileCopies(deps, false);

    // Assert: the first run started the copy (one read); the second had nothing to start.
    expect(dr.copies).toHaveLength(1);
    expect(dr.quotaReads).toBe(1);
  });

  it('copies unguarded, and says so, when the DR quota cannot be read', async () => {
    // Prepare
    const { deps, dr } = estate([source('rds-instance', 'orders')], []);
    dr.quotas = async () => {
      throw new Error('AccessDenied');
    };

    // Act
    const r = await reconcileCopies(deps, false);

    // Assert
    expect(dr.copies).toHaveLength(1);
    expect(r.outcomes).toContainEqual(
      expect.objectContaining({
        resource: `manual snapshot quotas in ${DR}`,
        action: 'read-quota',
        status: 'skipped',
        reason: expect.stringContaining('AccessDenied'),
      }),
    );
  });
});
