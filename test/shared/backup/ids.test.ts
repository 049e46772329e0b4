import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  adhocSnapshotId,
  isValidSnapshotId,
  SNAPSHOT_ID_MAX,
  snapshotId,
  utcStamp,
} from '../../../shared/backup/ids.js';

const at = new Date('2026-01-15T03:00:00Z');

describe('snapshotId', () => {
  it.each([
    ['orders-db', at, 'sched', 'steward-orders-db-202601150300-sched'],
    ['orders-db', at, 'adhoc', 'steward-orders-db-202601150300-adhoc'],
    ['Orders_DB', at, 'sched', 'steward-orders-db-202601150300-sched'],
    ['sessions', new Date('2026-12-31T23:59:59.999Z'), 'sched', 'steward-sessions-202612312359-sched'],
    ['--weird..name--', at, 'sched', 'steward-weird-name-202601150300-sched'],
    ['db--double', at, 'sched', 'steward-db-double-202601150300-sched'],
    ['___', at, 'adhoc', 'steward-db-202601150300-adhoc'],
  ] as const)('turns %j at %s (%s) into %s', (db, time, kind, expected) => {
    // Act
    const id = snapshotId(db, time, kind);

    // Assert
    expect(id).toBe(expected);
    expect(isValidSnapshotId(id)).toBe(true);
  });

  it('stamps the UTC minute whatever the offset of the input', () => {
    // Prepare
    const sameInstant = new Date('2026-01-15T05:00:00+02:00');

    // Act
    const id = snapshotId('orders-db', sameInstant, 'sched');

    // Assert
    expect(id).toBe('steward-orders-db-202601150300-sched');
  });

  it('cuts a long database id to the 63-character cluster snapshot limit and keeps ids of similar dbs apart', () => {
    // Prepare
    const a = 'a-very-long-aurora-cluster-identifier-for-payments-eu-1';
    const b = 'a-very-long-aurora-cluster-identifier-for-payments-eu-2';

    // Act
    const idA = snapshotId(a, at, 'adhoc');
    const idB = snapshotId(b, at, 'adhoc');

    // Assert
    expect(idA.length).toBeLessThanOrEqual(SNAPSHOT_ID_MAX);
    expect(isValidSnapshotId(idA)).toBe(true);
    expect(idA).not.toBe(idB);
    expect(idA).toMatch(/^steward-a-very-long-aurora-cluster-i-[0-9a-z]{7}-202601150300-adhoc$/);
  });

  it('refuses an invalid date instead of producing a bogus id', () => {
    // Act / Assert
    expect(() => snapshotId('orders-db', new Date('nope'), 'sched')).toThrow(RangeError);
  });

  it('is deterministic and always valid (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 120 }),
        fc.date({
          min: new Date('2000-01-01T00:00:00Z'),
          max: new Date('2099-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        fc.constantFrom('sched' as const, 'adhoc' as const),
        (db, time, kind) => {
          const id = snapshotId(db, time, kind);
          expect(snapshotId(db, new Date(time.getTime()), kind)).toBe(id);
          expect(isValidSnapshotId(id)).toBe(true);
          expect(id.endsWith(`-${utcStamp(time)}-${kind}`)).toBe(true);
        },
      ),
    );
  });

  it('gives the same id to every time within one minute and different ids across minutes (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 59_999 }), (ms) => {
        const minute = Date.UTC(2026, 0, 15, 3, 0);
        expect(snapshotId('orders-db', new Date(minute + ms), 'sched')).toBe(
          snapshotId('orders-db', at, 'sched'),
        );
        expect(snapshotId('orders-db', new Date(minute + 60_000 + ms), 'sched')).not.toBe(
          snapshotId('orders-db', at, 'sched'),
        );
      }),
    );
  });
});

describe('adhocSnapshotId', () => {
  it('names the same snapshot for the same request key, and another for another key', () => {
    // Act
    const a = adhocSnapshotId('orders-db', 'lambda-request:c0ffee');
    // Assert
    expect(a).toMatch(/^steward-orders-db-[a-z0-9]{10}-adhoc$/);
    expect(adhocSnapshotId('orders-db', 'lambda-request:c0ffee')).toBe(a);
    expect(adhocSnapshotId('orders-db', 'lambda-request:c0ffef')).not.toBe(a);
  });

  it('is always a valid snapshot id of at most 63 characters', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), fc.string({ minLength: 1, maxLength: 80 }), (db, key) => {
        // Act
        const id = adhocSnapshotId(db, key);
        // Assert
        expect(id.length).toBeLessThanOrEqual(SNAPSHOT_ID_MAX);
        expect(isValidSnapshotId(id)).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('isValidSnapshotId', () => {
  it.each([
    ['steward-orders-202601150300-sched', true],
    ['1steward', false],
    ['steward--double', false],
    ['steward-trailing-', false],
    ['Steward-upper', false],
    ['steward_underscore', false],
    [`s${'x'.repeat(63)}`, false],
  ])('%s → %s', (id, valid) => {
    // Act / Assert
    expect(isValidSnapshotId(id)).toBe(valid);
  });
});
