import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SnapshotSelector } from '../../../shared/config/schema.js';
import {
  auroraReaderId,
  cacheDrillTargetId,
  drillTargetId,
  drillTargetOf,
  fnv1a,
  sanitiseDrillId,
} from '../../../shared/drill/ids.js';
import { drillCandidates, SnapshotSelectionError, selectSource } from '../../../shared/drill/select.js';
import { selectVaultCopy } from '../../../shared/drill/vault-select.js';
import type { Snapshot, SnapshotType } from '../../../shared/model.js';

const NOW = new Date('2026-02-01T05:00:00Z');
const DB = 'orders-db';

const snap = (id: string, createdAt: string, over: Partial<Snapshot> = {}): Snapshot => ({
  kind: 'rds-instance',
  id,
  arn: `arn:aws:rds:eu-west-1:111122223333:snapshot:${id}`,
  region: 'eu-west-1',
  sourceId: DB,
  createdAt,
  status: 'available',
  type: 'manual',
  tags: {},
  ...over,
});

const snapshots: Snapshot[] = [
  snap('rds:orders-db-2026-01-31-03-05', '2026-01-31T03:05:00.000Z', { type: 'automated' }),
  snap('steward-orders-db-202601300300-sched', '2026-01-30T03:00:00.000Z'),
  snap('steward-orders-db-202601290300-sched', '2026-01-29T03:00:00.000Z'),
  snap('steward-orders-db-202601010300-sched', '2026-01-01T03:00:00.000Z'),
  snap('steward-orders-db-202602010300-sched', '2026-02-01T03:00:00.000Z', { status: 'creating' }),
  snap('steward-billing-db-202601310300-sched', '2026-01-31T23:00:00.000Z', { sourceId: 'billing-db' }),
  snap('shared-orders', '2026-01-31T23:30:00.000Z', { type: 'shared' }),
  snap('cluster-snap', '2026-01-31T23:40:00.000Z', { kind: 'aurora-cluster' }),
];

const opts = { database: DB, kind: 'rds-instance' as const, now: NOW, seed: 'drill-1' };

describe('selectSource', () => {
  it.each<[string, SnapshotSelector, string]>([
    [
      'latest takes the newest available snapshot, automated included',
      'latest',
      'rds:orders-db-2026-01-31-03-05',
    ],
    [
      'an id picks exactly that snapshot',
      { id: 'steward-orders-db-202601010300-sched' },
      'steward-orders-db-202601010300-sched',
    ],
  ])('%s', (_title, selector, expected) => {
    // Act
    const source = selectSource(selector, snapshots, opts);

    // Assert
    expect(source.snapshotId).toBe(expected);
    expect(source.referenceTime).toBe(snapshots.find((s) => s.id === expected)!.createdAt);
    expect(source.snapshotArn).toContain(expected);
  });

  it.each<[string, SnapshotSelector, Snapshot[], RegExp]>([
    ['no snapshot at all', 'latest', [], /no available snapshot of RDS instance orders-db/],
    [
      'only snapshots still being created',
      'latest',
      [snap('s1', '2026-01-31T03:00:00.000Z', { status: 'creating' })],
      /no available snapshot/,
    ],
    ['an unknown id', { id: 'nope' }, snapshots, /snapshot nope not found/],
    [
      'an id of another database',
      { id: 'steward-billing-db-202601310300-sched' },
      snapshots,
      /belongs to billing-db, not orders-db/,
    ],
    [
      'an id not yet available',
      { id: 'steward-orders-db-202602010300-sched' },
      snapshots,
      /is creating, not available/,
    ],
    [
      'only snapshots made by hand or by AWS Backup (the drill role may not restore them)',
      'latest',
      [
        snap('orders-db-before-upgrade', '2026-01-31T03:00:00.000Z'),
        snap('awsbackup:job-0a1b2c3d', '2026-01-31T04:00:00.000Z', { type: 'awsbackup' }),
      ],
      /no available snapshot/,
    ],
    [
      'randomWithinDays with nothing recent',
      { randomWithinDays: 1 },
      [snap('steward-orders-db-202601010300-sched', '2026-01-01T03:00:00.000Z')],
      /in the last 1 days \(newest: steward-orders-db-202601010300-sched at 2026-01-01T03:00:00.000Z\)/,
    ],
  ])('throws a clear error for %s', (_title, selector, list, message) => {
    // Act + Assert
    expect(() => selectSource(selector, list, opts)).toThrow(SnapshotSelectionError);
    expect(() => selectSource(selector, list, opts)).toThrow(message);
  });

  it('restores a point in time inside the window and measures RPO against it', () => {
    // Act
    const source = selectSource({ pointInTime: '2026-01-31T12:00:00+01:00' }, [], {
      ...opts,
      restorableWindow: { earliest: '2026-01-25T00:00:00.000Z', latest: '2026-02-01T04:55:00.000Z' },
    });

    // Assert
    expect(source).toEqual({
      pointInTime: '2026-01-31T11:00:00.000Z',
      referenceTime: '2026-01-31T11:00:00.000Z',
    });
  });

  it.each([
    ['before the window', '2026-01-20T00:00:00Z'],
    ['after the latest restorable time', '2026-02-01T04:59:00Z'],
  ])('refuses a point in time %s, naming both ends of the window', (_title, pointInTime) => {
    // Act + Assert
    expect(() =>
      selectSource({ pointInTime }, [], {
        ...opts,
        restorableWindow: { earliest: '2026-01-25T00:00:00.000Z', latest: '2026-02-01T04:55:00.000Z' },
      }),
    ).toThrow(
      /outside the restorable window .*earliest 2026-01-25T00:00:00.000Z, latest 2026-02-01T04:55:00.000Z/,
    );
  });

  it('refuses a point in time when the source has no restorable window', () => {
    expect(() => selectSource({ pointInTime: '2026-01-31T00:00:00Z' }, [], opts)).toThrow(
      /has no point-in-time restore window/,
    );
  });
});

const snapshotArb = fc.record({
  // Names a drill may restore (steward's, automated) and names it may not (by hand).
  id: fc.oneof(
    fc.stringMatching(/^[a-z][a-z0-9-]{2,12}$/),
    fc
      .integer({ min: 0, max: 99_999_999 })
      .map((n) => `steward-orders-db-2026${String(n).padStart(8, '0')}-sched`),
    fc.integer({ min: 0, max: 9_999 }).map(
      (n) =>
        `rds:orders-db-2026-01-${String(n)
          .padStart(4, '0')
          .replace(/(..)(..)/, '$1-$2')}-00`,
    ),
  ),
  sourceId: fc.constantFrom(DB, 'billing-db'),
  kind: fc.constantFrom('rds-instance' as const, 'aurora-cluster' as const),
  status: fc.constantFrom('available', 'creating', 'failed'),
  type: fc.constantFrom<SnapshotType>('manual', 'automated', 'shared', 'awsbackup'),
  ageHours: fc.integer({ min: 0, max: 24 * 40 }),
});
type SnapshotSpec = {
  id: string;
  sourceId: string;
  kind: Snapshot['kind'];
  status: string;
  type: SnapshotType;
  ageHours: number;
};

const build = (arbs: SnapshotSpec[]) =>
  arbs.map((a) =>
    snap(a.id, new Date(NOW.getTime() - a.ageHours * 3_600_000).toISOString(), {
      sourceId: a.sourceId,
      kind: a.kind,
      status: a.status,
      type: a.type,
    }),
  );

const selectorArb = fc.oneof(
  fc.constant<SnapshotSelector>('latest'),
  fc.integer({ min: 1, max: 35 }).map((n): SnapshotSelector => ({ randomWithinDays: n })),
);

describe('selectSource properties', () => {
  it.each([
    ['a steward snapshot of the database', 'steward-orders-db-202601310300-sched', true],
    ['a pre-change snapshot of the database', 'steward-orders-db-202601311200-adhoc', true],
    ['an automated snapshot of the database', 'rds:orders-db-2026-01-31-03-05', true],
    ['a snapshot made by hand', 'orders-db-before-upgrade', false],
    [
      'a steward snapshot of another database sharing the prefix',
      'steward-orders-db-archive-202601310300-sched',
      false,
    ],
    [
      'an automated snapshot of another database sharing the prefix',
      'rds:orders-db-archive-2026-01-31-03-05',
      false,
    ],
  ])('offers %s as a candidate: %s', (_title, id, candidate) => {
    // Prepare
    const s = snap(id, '2026-01-31T03:05:00.000Z', { type: id.startsWith('rds:') ? 'automated' : 'manual' });

    // Act + Assert
    expect(drillCandidates([s], DB, 'rds-instance').length === 1).toBe(candidate);
  });

  it('always returns an available, restorable snapshot of the database, or throws', () => {
    fc.assert(
      fc.property(
        fc.array(snapshotArb, { maxLength: 25 }),
        selectorArb,
        fc.string(),
        (arbs, selector, seed) => {
          const list = build(arbs);
          let source;
          try {
            source = selectSource(selector, list, { ...opts, seed });
          } catch (e) {
            expect(e).toBeInstanceOf(SnapshotSelectionError);
            return;
          }
          const picked = list.find(
            (s) => s.id === source.snapshotId && s.createdAt === source.referenceTime,
          )!;
          expect(drillCandidates(list, DB, 'rds-instance')).toContainEqual(picked);
        },
      ),
    );
  });

  it('picks the same snapshot for the same seed, whatever the listing order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(snapshotArb, { selector: (a) => a.id, maxLength: 25 }),
        fc.integer({ min: 1, max: 35 }),
        fc.string(),
        (arbs, days, seed) => {
          const list = build(arbs);
          const pick = (l: Snapshot[]) => {
            try {
              return selectSource({ randomWithinDays: days }, l, { ...opts, seed }).snapshotId;
            } catch {
              return 'none';
            }
          };
          expect(pick([...list].reverse())).toBe(pick(list));
        },
      ),
    );
  });

  it('spreads picks over the candidates as the seed changes', () => {
    // Prepare
    const list = build(
      Array.from({ length: 5 }, (_, i) => ({
        id: `steward-orders-db-2026012${i}0300-sched`,
        sourceId: DB,
        kind: 'rds-instance' as const,
        status: 'available',
        type: 'manual' as const,
        ageHours: 24 * i + 1,
      })),
    );

    // Act
    const picks = new Set(
      Array.from(
        { length: 50 },
        (_, i) => selectSource({ randomWithinDays: 7 }, list, { ...opts, seed: `run-${i}` }).snapshotId,
      ),
    );

    // Assert
    expect(picks.size).toBe(5);
  });
});

describe('drill ids', () => {
  it('names the restored copy after the database and a hash of the drill id', () => {
    expect(drillTargetId('orders-db', 'monthly-orders-db-20260201-0500')).toMatch(
      /^steward-drill-orders-db-[0-9a-f]{8}$/,
    );
    expect(drillTargetId('orders-db', 'a')).not.toBe(drillTargetId('orders-db', 'b'));
  });

  it('always yields a valid RDS identifier short enough for the Aurora member suffixes', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{0,62}$/), fc.string(), (db, drillId) => {
        const id = drillTargetId(db, drillId);
        expect(id.length).toBeLessThanOrEqual(59);
        expect(auroraReaderId(id, 15).length).toBeLessThanOrEqual(63);
        expect(id).toMatch(/^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$/);
      }),
    );
  });

  it('always yields a valid ElastiCache replication group id (40 characters) for a Redis drill', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{0,39}$/), fc.string(), (group, drillId) => {
        const id = cacheDrillTargetId(group, drillId);
        expect(id.length).toBeLessThanOrEqual(40);
        expect(id).toMatch(/^steward-drill-(?!.*--)[a-z0-9-]*[0-9a-f]{8}$/);
      }),
    );
    expect(cacheDrillTargetId('sessions', 'x')).toBe(drillTargetId('sessions', 'x'));
  });

  it.each([
    [
      'steward-drill-orders-db-29f02b21',
      'DB_INSTANCE',
      { kind: 'rds-instance', id: 'steward-drill-orders-db-29f02b21' },
    ],
    [
      'steward-drill-ledger-0a1b2c3d-w',
      'DB_INSTANCE',
      {
        kind: 'aurora-cluster',
        id: 'steward-drill-ledger-0a1b2c3d',
        instanceId: 'steward-drill-ledger-0a1b2c3d-w',
      },
    ],
    [
      'steward-drill-ledger-0a1b2c3d',
      'CLUSTER',
      {
        kind: 'aurora-cluster',
        id: 'steward-drill-ledger-0a1b2c3d',
        instanceId: 'steward-drill-ledger-0a1b2c3d-w',
      },
    ],
    [
      'steward-drill-ledger-0a1b2c3d-r2',
      'DB_INSTANCE',
      {
        kind: 'aurora-cluster',
        id: 'steward-drill-ledger-0a1b2c3d',
        instanceId: 'steward-drill-ledger-0a1b2c3d-w',
      },
    ],
    ['orders-db', 'DB_INSTANCE', undefined],
  ])('maps event source %s (%s) to its drill target', (id, type, expected) => {
    expect(drillTargetOf(id, type)).toEqual(expected);
  });

  it('keeps execution names usable as tag values', () => {
    expect(sanitiseDrillId('drill orders-db #1 (manual)')).toBe('drill-orders-db--1--manual-');
    expect(fnv1a('')).toBe(0x811c9dc5);
  });
});

describe('selectVaultCopy (drills from the backup vault)', () => {
  const owner = { database: DB, account: '111122223333', region: 'eu-west-1' };
  const copy = (
    id: string,
    dataTime: string,
    over: Partial<Snapshot> = {},
    tags: Record<string, string> = {},
  ) =>
    snap(id, '2026-02-01T00:00:00.000Z', {
      arn: `arn:aws:rds:eu-west-1:999999999999:snapshot:${id}`,
      encrypted: true,
      tags: {
        'steward:managed': 'true',
        'steward:vault': 'true',
        'steward:created-by': 'vault',
        'steward:source': DB,
        'steward:source-account': owner.account,
        'steward:source-region': owner.region,
        'steward:data-time': dataTime,
        ...tags,
      },
      ...over,
    });
  const copies = [
    copy('v-old', '2026-01-20T03:00:00.000Z'),
    copy('v-new', '2026-01-31T03:00:00.000Z'),
    copy('v-other-account', '2026-01-31T23:00:00.000Z', {}, { 'steward:source-account': '222222222222' }),
    copy('v-other-region', '2026-01-31T23:00:00.000Z', {}, { 'steward:source-region': 'eu-central-1' }),
    copy('v-copying', '2026-02-01T03:00:00.000Z', { status: 'copying' }),
    snap('by-hand', '2026-02-01T04:00:00.000Z'),
  ];
  const opts = {
    database: DB,
    kind: 'rds-instance' as const,
    now: NOW,
    seed: 'exec-1',
    owner,
    vaultAccount: '999999999999',
  };

  it.each<[SnapshotSelector, string]>([
    ['latest', 'v-new'],
    [{ id: 'v-old' }, 'v-old'],
  ])('picks %j among the available copies of this account and region: %s', (selector, id) => {
    // Act
    const s = selectVaultCopy(selector, copies, opts);

    // Assert: dated by the source's data time, not the copy's.
    expect(s.snapshotId).toBe(id);
    expect(s.referenceTime).toBe(copies.find((c) => c.id === id)!.tags['steward:data-time']);
    expect(s.vault).toMatchObject({ account: '999999999999', copyId: id, encrypted: true });
  });

  it.each<[SnapshotSelector, RegExp]>([
    [{ id: 'v-other-account' }, /is not a copy of RDS instance orders-db of 111122223333\/eu-west-1/],
    [{ id: 'v-copying' }, /is copying, not available/],
    [{ id: 'nope' }, /not found in vault 999999999999/],
    [{ randomWithinDays: 1 }, /no available vault copy in vault 999999999999 of .* in the last 1 days/],
    [{ pointInTime: '2026-01-31T00:00:00Z' }, /not a point in time/],
  ])('refuses %j, saying why', (selector, why) => {
    expect(() => selectVaultCopy(selector, copies, opts)).toThrow(why);
  });

  it('finds nothing for a database the vault holds no copy of', () => {
    expect(() =>
      selectVaultCopy('latest', copies, { ...opts, owner: { ...owner, database: 'billing-db' } }),
    ).toThrow(SnapshotSelectionError);
  });

  it("picks a target account's copy for that account's database, and records the account it lives in", () => {
    // Prepare: the same database name in the hub and in a target account
    const spoke = { ...owner, account: '222222222222' };

    // Act
    const s = selectVaultCopy('latest', copies, { ...opts, owner: spoke });

    // Assert
    expect(s.snapshotId).toBe('v-other-account');
    expect(s.vault).toMatchObject({ account: '999999999999', sourceAccount: '222222222222' });
    expect(selectVaultCopy('latest', copies, opts).vault.sourceAccount).toBe(owner.account);
  });

  it("refuses a target account's database when the vault holds only other accounts' copies, naming the account", () => {
    expect(() =>
      selectVaultCopy('latest', copies, { ...opts, owner: { ...owner, account: '333333333333' } }),
    ).toThrow(/orders-db of 333333333333\/eu-west-1/);
    expect(() =>
      selectVaultCopy({ id: 'v-new' }, copies, { ...opts, owner: { ...owner, account: '222222222222' } }),
    ).toThrow(
      /v-new is not a copy of RDS instance orders-db of 222222222222\/eu-west-1 \(its source: orders-db of 111122223333/,
    );
  });

  it("never picks a copy of another account's database, whatever the vault lists", () => {
    const accounts = ['111122223333', '222222222222', '333333333333'];
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            account: fc.constantFrom(...accounts),
            hour: fc.integer({ min: 0, max: 23 }),
            available: fc.boolean(),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        fc.constantFrom(...accounts),
        (listed, account) => {
          const vault = listed.map((c, i) =>
            copy(
              `v-${i}`,
              `2026-01-31T${String(c.hour).padStart(2, '0')}:00:00.000Z`,
              c.available ? {} : { status: 'copying' },
              { 'steward:source-account': c.account },
            ),
          );
          const mine = vault.filter(
            (c) => c.tags['steward:source-account'] === account && c.status === 'available',
          );
          const pick = () => selectVaultCopy('latest', vault, { ...opts, owner: { ...owner, account } });
          if (!mine.length) {
            expect(pick).toThrow(SnapshotSelectionError);
            return;
          }
          const s = pick();
          const chosen = vault.find((c) => c.id === s.snapshotId)!;
          expect(chosen.tags['steward:source-account']).toBe(account);
          expect(s.vault.sourceAccount).toBe(account);
          // The newest of that account's copies by its data time.
          const newest = Math.max(...mine.map((c) => Date.parse(c.tags['steward:data-time']!)));
          expect(Date.parse(s.referenceTime)).toBe(newest);
        },
      ),
    );
  });
});
