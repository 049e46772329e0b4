import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type BackupDeps, runBackup } from '../../../shared/backup/service.js';
import { parseConfig } from '../../../shared/config/schema.js';
import type { Snapshot } from '../../../shared/model.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { metrics } from '../../../shared/observability.js';
import { assessEstate } from '../../../shared/report/health.js';
import { drLagLimitSeconds } from '../../../shared/report/monthly.js';
import { fakeBackupPort, fakeCopyPort, fakeSnapshotArn } from '../../fakes/backup-ports.js';
import { fakeSnapshotStore } from '../../fakes/snapshot-store.js';

const PRIMARY = 'eu-west-1';
const DR = 'us-west-2';
const NOW = new Date('2026-01-15T10:00:00Z');
const HOUR = 3600;

const config = (perDatabase = false, hourlyObjective = 6) =>
  parseConfig(
    {
      stage: 'prod',
      region: PRIMARY,
      backup: {
        drLag: { metricPerDatabase: perDatabase },
        policies: {
          daily: { copyToDr: true, kinds: ['rds-instance'] },
          hourly: {
            copyToDr: true,
            kinds: ['rds-instance'],
            schedule: 'rate(1 hour)',
            drLagObjectiveHours: hourlyObjective,
          },
        },
      },
      dr: { region: DR, kmsKeyArn: 'arn:aws:kms:us-west-2:111122223333:alias/steward-dr' },
    },
    'test',
  );

const snap = (db: string, day: number, policy = 'daily', region = PRIMARY): Snapshot => {
  const id = `steward-${db}-202601${String(day).padStart(2, '0')}0300-sched`;
  return {
    kind: 'rds-instance',
    id,
    arn: fakeSnapshotArn('rds-instance', region, id),
    region,
    sourceId: db,
    createdAt: `2026-01-${String(day).padStart(2, '0')}T03:04:00.000Z`,
    status: 'available',
    type: 'manual',
    encrypted: true,
    tags: { 'steward:managed': 'true', 'steward:policy': policy, 'steward:source': db },
    ...(region === DR ? { sourceRegion: PRIMARY } : {}),
  };
};

let emitted: { name: string; value: number; dims: Record<string, string> }[];
beforeEach(() => {
  emitted = [];
  vi.spyOn(metrics, 'singleMetric').mockImplementation(() => {
    const dims: Record<string, string> = {};
    return {
      addDimension: (k: string, v: string) => void (dims[k] = v),
      addMetric: (name: string, _unit: unknown, value: number) => void emitted.push({ name, value, dims }),
    } as unknown as ReturnType<typeof metrics.singleMetric>;
  });
});
afterEach(() => vi.restoreAllMocks());

const deps = (perDatabase: boolean, hourlyObjective?: number): BackupDeps => {
  // orders-db: copied up to the 14th; billing-db: up to the 12th (its 13th copy still copying);
  // fresh-db: never copied (its only snapshot from the 15th waits).
  const primary = [
    snap('orders-db', 14),
    snap('orders-db', 15),
    snap('billing-db', 12),
    snap('billing-db', 13),
    snap('fresh-db', 15),
    snap('events-db', 15, 'hourly'),
  ];
  const dr = [
    snap('orders-db', 14, 'daily', DR),
    snap('billing-db', 12, 'daily', DR),
    { ...snap('billing-db', 13, 'daily', DR), status: 'copying' },
    snap('events-db', 15, 'hourly', DR),
  ];
  const primaryStore = fakeSnapshotStore(PRIMARY, primary);
  const drStore = fakeSnapshotStore(DR, dr);
  return {
    config: config(perDatabase, hourlyObjective),
    dryRun: true,
    notifier: memoryNotifier(),
    now: () => NOW,
    primary: fakeBackupPort(PRIMARY, [], [], primaryStore),
    dr: fakeCopyPort(DR, drStore),
    snapshots: { primary: primaryStore, dr: drStore },
  };
};

describe('DR lag', () => {
  it('publishes the worst database of each copying policy over its objective as DrLagMaxSeconds (dimension policy)', async () => {
    // Act
    const result = await runBackup({ action: 'reconcile-copies', dryRun: true }, deps(false));

    // Assert: billing-db's newest available copy holds data of the 12th 03:00 (a copy in flight is not DR).
    expect(emitted).toEqual([
      { name: 'DrLagMaxSeconds', value: 3 * 24 * HOUR + 7 * HOUR, dims: { policy: 'daily' } },
      { name: 'DrLagMaxSeconds', value: 7 * HOUR, dims: { policy: 'hourly' } },
    ]);
    expect(result.drLag!.map((d) => [d.db, d.lagSeconds, d.newestCopyAt ?? null]).sort()).toEqual([
      ['billing-db', 3 * 24 * HOUR + 7 * HOUR, '2026-01-12T03:00:00.000Z'],
      ['events-db', 7 * HOUR, '2026-01-15T03:00:00.000Z'],
      // Never copied: its data has waited since its oldest snapshot.
      ['fresh-db', 7 * HOUR, null],
      ['orders-db', 24 * HOUR + 7 * HOUR, '2026-01-14T03:00:00.000Z'],
    ]);
  });

  it('sends nothing for a policy whose worst lag is within its objective (no data: OK, and not billed)', async () => {
    // Act: the hourly policy's worst lag is 7 h, under an objective of 8 h.
    await runBackup({ action: 'reconcile-copies', dryRun: true }, deps(false, 8));

    // Assert: only the daily policy (79 h over its 36 h) is sent.
    expect(emitted).toEqual([
      { name: 'DrLagMaxSeconds', value: 3 * 24 * HOUR + 7 * HOUR, dims: { policy: 'daily' } },
    ]);
  });

  it('adds one DrLagSeconds per database (dimension database) only when configured', async () => {
    // Act
    await runBackup({ action: 'reconcile-copies', dryRun: true }, deps(true));

    // Assert
    expect(
      emitted
        .filter((m) => m.name === 'DrLagSeconds')
        .map((m) => [m.dims.database, m.value])
        .sort(),
    ).toEqual([
      ['billing-db', 3 * 24 * HOUR + 7 * HOUR],
      ['events-db', 7 * HOUR],
      ['fresh-db', 7 * HOUR],
      ['orders-db', 24 * HOUR + 7 * HOUR],
    ]);
  });

  it('agrees with steward status on every copied database, and the objective with its DR-lag limit', async () => {
    // Prepare
    const d = deps(false);
    const result = await runBackup({ action: 'reconcile-copies', dryRun: true }, d);
    const fake = d.snapshots as unknown as {
      primary: { snapshots: Snapshot[] };
      dr: { snapshots: Snapshot[] };
    };
    const dbs = ['orders-db', 'billing-db', 'fresh-db', 'events-db'].map((id) => ({
      kind: 'rds-instance' as const,
      id,
      arn: `arn:aws:rds:${PRIMARY}:111122223333:db:${id}`,
      region: PRIMARY,
      engine: 'postgres',
      status: 'available',
      tags: { 'steward:backup': id === 'events-db' ? 'hourly' : 'daily' },
    }));

    // Act
    const status = assessEstate(
      { databases: dbs, snapshots: fake.primary.snapshots, drSnapshots: fake.dr.snapshots, scaling: [] },
      d.config,
      NOW,
    );

    // Assert
    for (const row of status.databases) {
      const lag = result.drLag!.find((x) => x.db === row.id)!;
      if (row.dr?.lagSeconds !== undefined) expect(row.dr.lagSeconds).toBe(lag.lagSeconds);
      else expect(lag.newestCopyAt).toBeUndefined();
    }
    // The smallest objective: the hourly policy's explicit 6 h (daily's default is 24 h + 12 h grace).
    expect(drLagLimitSeconds({ config: d.config, now: () => NOW })).toBe(6 * HOUR);
  });
});
