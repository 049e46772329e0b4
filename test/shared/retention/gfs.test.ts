import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RetentionPolicy, StewardConfig } from '../../../shared/config/schema.js';
import type { ResourceKind, Snapshot, SnapshotType } from '../../../shared/model.js';
import {
  type GfsRule,
  parseInstant,
  periodKey,
  planRetention,
  type PolicyResolver,
  type RetentionPlan,
} from '../../../shared/retention/gfs.js';
import { retentionPolicyResolver } from '../../../shared/retention/policy.js';
import { Tag, type Tags } from '../../../shared/tags.js';

const NOW = new Date('2026-11-23T04:30:00Z');
const UNCAPPED = { maxDeletionsPerRun: 1000 };
const NOTHING: RetentionPolicy = { daily: 0, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 };

/** Resolver for `steward:policy=daily` → retention policy `standard` with the given windows. */
const standard =
  (p: Partial<RetentionPolicy>): PolicyResolver =>
  (s) =>
    s.tags[Tag.policy] === 'daily' ? { name: 'standard', policy: { ...NOTHING, ...p } } : undefined;

const managedTags = (extra: Tags = {}): Tags => ({
  [Tag.managed]: 'true',
  [Tag.policy]: 'daily',
  [Tag.source]: 'orders-db',
  ...extra,
});

const snap = (createdAt: string | undefined, overrides: Partial<Snapshot> = {}): Snapshot => {
  const id = overrides.id ?? `steward-orders-db-${createdAt ?? 'undated'}`;
  const region = overrides.region ?? 'eu-west-1';
  return {
    kind: 'rds-instance',
    id,
    arn: `arn:aws:rds:${region}:111122223333:snapshot:${id}`,
    region,
    sourceId: 'orders-db',
    createdAt,
    status: 'available',
    type: 'manual',
    tags: managedTags(),
    ...overrides,
  };
};

const verdictOf = (plan: RetentionPlan, s: Snapshot) => {
  const v = plan.verdicts.find((x) => x.id === s.id && x.region === s.region && x.kind === s.kind);
  if (!v) throw new Error(`no verdict for ${s.id}`);
  return v;
};

describe('periodKey', () => {
  it.each<[GfsRule, string, string]>([
    ['daily', '2026-11-20T23:59:59.999Z', '2026-11-20'],
    ['daily', '2026-11-21T00:00:00.000Z', '2026-11-21'],
    ['weekly', '2026-11-16T00:00:00Z', '2026-W47'],
    ['weekly', '2026-11-22T23:59:59Z', '2026-W47'],
    ['weekly', '2026-11-23T00:00:00Z', '2026-W48'],
    ['weekly', '2026-12-28T00:00:00Z', '2026-W53'],
    ['weekly', '2026-12-31T12:00:00Z', '2026-W53'],
    ['weekly', '2027-01-01T00:00:00Z', '2026-W53'],
    ['weekly', '2027-01-03T23:59:59Z', '2026-W53'],
    ['weekly', '2027-01-04T00:00:00Z', '2027-W01'],
    ['weekly', '2024-12-30T00:00:00Z', '2025-W01'],
    ['weekly', '2024-12-29T23:59:59Z', '2024-W52'],
    ['weekly', '2021-01-03T12:00:00Z', '2020-W53'],
    ['monthly', '2026-10-31T23:59:59.999Z', '2026-10'],
    ['monthly', '2026-11-01T00:00:00Z', '2026-11'],
    ['yearly', '2025-12-31T23:59:59.999Z', '2025'],
    ['yearly', '2026-01-01T00:00:00Z', '2026'],
  ])('puts %s %s in %s (UTC, ISO week-year)', (rule, at, expected) => {
    // Prepare
    const ms = Date.parse(at);

    // Act
    const key = periodKey(rule, ms);

    // Assert
    expect(key).toBe(expected);
  });
});

describe('parseInstant', () => {
  it.each([
    ['2027-01-01', Date.parse('2027-01-01T00:00:00Z')],
    ['2027-01-01T12:00:00Z', Date.parse('2027-01-01T12:00:00Z')],
    ['2027-01-01T12:00Z', Date.parse('2027-01-01T12:00:00Z')],
    ['2027-01-01T14:00:00.250+02:00', Date.parse('2027-01-01T12:00:00.250Z')],
    ['2026-11-20T03:04:05.123456Z', Date.parse('2026-11-20T03:04:05.123Z')],
    ['2026-11-20T03:04:05.123Z', Date.UTC(2026, 10, 20, 3, 4, 5, 123)],
    ['2024-02-29T03:00:00Z', Date.UTC(2024, 1, 29, 3)],
    ['2000-02-29T03:00:00.000Z', Date.UTC(2000, 1, 29, 3)],
    ['0999-12-31T23:59:59.999Z', Date.parse('0999-12-31T23:59:59.999Z')],
  ])('reads %s', (value, expected) => {
    // Prepare / Act
    const ms = parseInstant(value);

    // Assert
    expect(ms).toBe(expected);
  });

  it.each([
    '',
    'soon',
    '2027-1-1',
    '2026-02-30',
    '2026-13-01',
    '2027-01-01T10:00',
    '2027-01-01T24:00:00Z',
    '01/02/2027',
    'Nov 20 2026',
    '2026-02-29T03:00:00.000Z',
    '2100-02-29T03:00:00Z',
    '2026-04-31T03:00:00.000Z',
    '2026-11-20T03:04:05.12aZ',
    '2026-11-20T03:04:60.000Z',
    '0050-01-01T00:00:00.000Z',
  ])('rejects %j', (value) => {
    // Prepare / Act
    const ms = parseInstant(value);

    // Assert
    expect(ms).toBeUndefined();
  });

  it("reads the adapters' form (with or without milliseconds) exactly as the strict reader does", () => {
    // Prepare: the form Date#toISOString writes, with digits in and out of range (2026-02-30, 24:00, 60 s).
    const stamp = fc
      .record({
        y: fc.integer({ min: 100, max: 9999 }),
        mo: fc.integer({ min: 0, max: 13 }),
        d: fc.integer({ min: 0, max: 32 }),
        h: fc.integer({ min: 0, max: 24 }),
        mi: fc.integer({ min: 0, max: 60 }),
        s: fc.integer({ min: 0, max: 60 }),
        ms: fc.option(fc.integer({ min: 0, max: 999 })),
      })
      .map(({ y, mo, d, h, mi, s, ms }) => {
        const p = (n: number, w = 2) => String(n).padStart(w, '0');
        return `${p(y, 4)}-${p(mo)}-${p(d)}T${p(h)}:${p(mi)}:${p(s)}${ms === null ? '' : `.${p(ms, 3)}`}Z`;
      });

    fc.assert(
      fc.property(stamp, (value) => {
        // Act
        const ms = parseInstant(value);

        // Assert: an instant that is not written back the same way rolled over (a typo, not a date).
        const t = Date.parse(value);
        const canonical = value.length === 20 ? `${value.slice(0, 19)}.000Z` : value;
        const valid = Number.isFinite(t) && new Date(t).toISOString() === canonical;
        expect(ms).toBe(valid ? t : undefined);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('planRetention', () => {
  describe('GFS windows', () => {
    it.each<{ title: string; policy: Partial<RetentionPolicy>; expected: [string, string][] }>([
      {
        title: 'daily keeps the newest snapshot of each of the newest N days',
        policy: { daily: 2 },
        expected: [
          ['2026-11-20T03:00:00Z', 'expire'],
          ['2026-11-20T15:00:00Z', 'expire'],
          ['2026-11-21T03:00:00Z', 'daily 2026-11-21'],
          ['2026-11-22T03:00:00Z', 'daily 2026-11-22'],
        ],
      },
      {
        title: 'daily counts days that have a snapshot, not calendar days',
        policy: { daily: 2 },
        expected: [
          ['2026-11-01T03:00:00Z', 'expire'],
          ['2026-11-10T03:00:00Z', 'daily 2026-11-10'],
          ['2026-11-22T03:00:00Z', 'daily 2026-11-22'],
        ],
      },
      {
        title: 'daily splits days at UTC midnight',
        policy: { daily: 2 },
        expected: [
          ['2026-11-21T00:00:00.000Z', 'expire'],
          ['2026-11-21T23:59:59.999Z', 'daily 2026-11-21'],
          ['2026-11-22T00:00:00.000Z', 'daily 2026-11-22'],
        ],
      },
      {
        title: 'daily judges a creation time with an offset in UTC',
        policy: { daily: 2 },
        expected: [
          ['2026-11-21T12:00:00Z', 'expire'],
          ['2026-11-22T01:00:00+02:00', 'daily 2026-11-21'],
          ['2026-11-22T03:00:00Z', 'daily 2026-11-22'],
        ],
      },
      {
        title: 'weekly treats 2026-12-31 and 2027-01-01 as one ISO week, 2026-W53',
        policy: { weekly: 3 },
        expected: [
          ['2026-12-27T03:00:00Z', 'weekly 2026-W52'],
          ['2026-12-28T03:00:00Z', 'expire'],
          ['2026-12-31T03:00:00Z', 'expire'],
          ['2027-01-01T03:00:00Z', 'weekly 2026-W53'],
          ['2027-01-04T03:00:00Z', 'weekly 2027-W01'],
        ],
      },
      {
        title: 'weekly puts 2024-12-30 in week-year 2025',
        policy: { weekly: 2 },
        expected: [
          ['2024-12-29T03:00:00Z', 'weekly 2024-W52'],
          ['2024-12-30T03:00:00Z', 'expire'],
          ['2025-01-05T03:00:00Z', 'weekly 2025-W01'],
        ],
      },
      {
        title: 'weekly keeps only the newest N weeks',
        policy: { weekly: 2 },
        expected: [
          ['2026-11-02T03:00:00Z', 'expire'],
          ['2026-11-09T03:00:00Z', 'weekly 2026-W46'],
          ['2026-11-16T03:00:00Z', 'expire'],
          ['2026-11-22T23:00:00Z', 'weekly 2026-W47'],
        ],
      },
      {
        title: 'monthly keeps the newest snapshot of each of the newest N months',
        policy: { monthly: 2 },
        expected: [
          ['2026-09-30T23:59:59Z', 'expire'],
          ['2026-10-01T00:00:00Z', 'expire'],
          ['2026-10-31T23:59:59Z', 'monthly 2026-10'],
          ['2026-11-01T00:00:00Z', 'monthly 2026-11'],
        ],
      },
      {
        title: 'yearly keeps the newest snapshot of each of the newest N years',
        policy: { yearly: 2 },
        expected: [
          ['2024-06-01T03:00:00Z', 'expire'],
          ['2024-12-31T23:59:59Z', 'yearly 2024'],
          ['2025-01-01T00:00:00Z', 'expire'],
          ['2025-12-31T23:59:59.999Z', 'yearly 2025'],
        ],
      },
      {
        title: 'the first of daily, weekly, monthly, yearly names the reason',
        policy: { daily: 1, weekly: 2, monthly: 2, yearly: 2 },
        expected: [
          ['2025-07-10T03:00:00Z', 'yearly 2025'],
          ['2026-10-05T03:00:00Z', 'weekly 2026-W41'],
          ['2026-11-16T03:00:00Z', 'expire'],
          ['2026-11-22T03:00:00Z', 'daily 2026-11-22'],
        ],
      },
      {
        title: 'keep-at-least tops up with the newest expired snapshots',
        policy: { daily: 1, keepAtLeast: 3 },
        expected: [
          ['2026-11-19T03:00:00Z', 'expire'],
          ['2026-11-20T03:00:00Z', 'keep-at-least 3'],
          ['2026-11-21T03:00:00Z', 'keep-at-least 3'],
          ['2026-11-22T03:00:00Z', 'daily 2026-11-22'],
        ],
      },
      {
        title: 'a policy that keeps no period still keeps the newest',
        policy: {},
        expected: [
          ['2026-11-21T03:00:00Z', 'expire'],
          ['2026-11-22T03:00:00Z', 'newest'],
        ],
      },
    ])('$title', ({ policy, expected }) => {
      // Prepare
      const snaps = expected.map(([at]) => snap(at));

      // Act
      const plan = planRetention(snaps, standard(policy), NOW, UNCAPPED);

      // Assert
      const got = snaps.map((s) => {
        const v = verdictOf(plan, s);
        return [s.createdAt, v.action === 'expire' ? 'expire' : v.reason];
      });
      expect(got).toEqual(expected);
      expect(plan.delete.map((s) => s.createdAt)).toEqual(
        expected.filter(([, r]) => r === 'expire').map(([at]) => at),
      );
    });

    it('breaks a tie in creation time by id, so the result does not depend on input order', () => {
      // Prepare
      const a = snap('2026-11-22T03:00:00Z', { id: 'steward-orders-db-a' });
      const b = snap('2026-11-22T03:00:00Z', { id: 'steward-orders-db-b' });

      // Act
      const plans = [
        planRetention([a, b], standard({ daily: 1 }), NOW, UNCAPPED),
        planRetention([b, a], standard({ daily: 1 }), NOW, UNCAPPED),
      ];

      // Assert
      for (const plan of plans) {
        expect(verdictOf(plan, b)).toMatchObject({ action: 'keep', reason: 'daily 2026-11-22' });
        expect(plan.delete).toEqual([a]);
      }
    });
  });

  describe('what may not be judged or deleted', () => {
    // The subject is the oldest of three; the policy would expire it, so only its tags or state can save it.
    const older = [snap('2026-11-21T03:00:00Z'), snap('2026-11-22T03:00:00Z')];
    const policy = standard({ daily: 1, keepAtLeast: 1 });
    const gfsExpired = 'expired (standard: daily 1, weekly 0, monthly 0, yearly 0, keep-at-least 1)';

    it.each<{ title: string; overrides: Partial<Snapshot>; tags?: Tags; action: string; reason: string }>([
      {
        title: 'skips a snapshot without the managed tag',
        overrides: { tags: {} },
        action: 'skip',
        reason: 'not-ours',
      },
      {
        title: 'skips a snapshot whose managed tag is not "true"',
        overrides: { tags: managedTags({ [Tag.managed]: 'false' }) },
        action: 'skip',
        reason: 'not-ours',
      },
      {
        title: 'skips an automated snapshot even when tagged',
        overrides: { type: 'automated' },
        action: 'skip',
        reason: 'automated',
      },
      { title: 'skips a shared snapshot', overrides: { type: 'shared' }, action: 'skip', reason: 'shared' },
      {
        title: 'skips an AWS Backup snapshot',
        overrides: { type: 'awsbackup' },
        action: 'skip',
        reason: 'awsbackup',
      },
      {
        title: 'skips a snapshot being created',
        overrides: { status: 'creating' },
        action: 'skip',
        reason: 'not-available',
      },
      {
        title: 'skips a copy in flight',
        overrides: { status: 'copying' },
        action: 'skip',
        reason: 'not-available',
      },
      {
        title: 'skips a failed snapshot',
        overrides: { status: 'failed' },
        action: 'skip',
        reason: 'not-available',
      },
      {
        title: 'skips a held snapshot',
        overrides: { tags: managedTags({ [Tag.hold]: 'legal-case-114' }) },
        action: 'skip',
        reason: 'on-hold',
      },
      {
        title: 'skips a held snapshot whatever the hold value, even empty',
        overrides: { tags: managedTags({ [Tag.hold]: '' }) },
        action: 'skip',
        reason: 'on-hold',
      },
      {
        title: 'skips a held snapshot even when its retain-until has passed',
        overrides: { tags: managedTags({ [Tag.hold]: 'audit', [Tag.retainUntil]: '2020-01-01' }) },
        action: 'skip',
        reason: 'on-hold',
      },
      {
        title: 'keeps a snapshot whose retain-until date is in the future',
        overrides: { tags: managedTags({ [Tag.retainUntil]: '2027-01-01' }) },
        action: 'keep',
        reason: 'retain-until 2027-01-01',
      },
      {
        title: 'keeps a snapshot retained until one millisecond from now',
        overrides: { tags: managedTags({ [Tag.retainUntil]: '2026-11-23T04:30:00.001Z' }) },
        action: 'keep',
        reason: 'retain-until 2026-11-23T04:30:00.001Z',
      },
      {
        title: 'judges a snapshot retained until exactly now by its policy',
        overrides: { tags: managedTags({ [Tag.retainUntil]: '2026-11-23T06:30:00+02:00' }) },
        action: 'expire',
        reason: gfsExpired,
      },
      {
        title: 'judges a snapshot with a passed retain-until and a policy by the policy',
        overrides: { tags: managedTags({ [Tag.retainUntil]: '2026-11-01' }) },
        action: 'expire',
        reason: gfsExpired,
      },
      {
        title: 'expires an ad-hoc snapshot without a policy once its retain-until has passed',
        overrides: { tags: { [Tag.managed]: 'true', [Tag.retainUntil]: '2026-11-01' } },
        action: 'expire',
        reason: 'retain-until 2026-11-01 passed',
      },
      ...['next-week', '2026-02-30', '2026-13-01', '2027-01-01T10:00', ''].map((value) => ({
        title: `keeps a snapshot with the malformed retain-until ${JSON.stringify(value)}`,
        overrides: { tags: managedTags({ [Tag.retainUntil]: value }) },
        action: 'keep',
        reason: `bad steward:retain-until value ${JSON.stringify(value)}`,
      })),
      {
        title: 'keeps a snapshot whose policy names no backup policy',
        overrides: { tags: managedTags({ [Tag.policy]: 'hourly' }) },
        action: 'keep',
        reason: 'unknown-policy: steward:policy="hourly" names no policy',
      },
      {
        title: 'keeps a managed snapshot without a policy or retain-until tag',
        overrides: { tags: { [Tag.managed]: 'true' } },
        action: 'keep',
        reason: 'unknown-policy: no steward:policy tag',
      },
      {
        title: 'keeps a snapshot without a creation time',
        overrides: { createdAt: undefined },
        action: 'keep',
        reason: 'no creation time',
      },
      {
        title: 'keeps a snapshot with an unreadable creation time',
        overrides: { createdAt: 'yesterday' },
        action: 'keep',
        reason: 'unreadable creation time "yesterday"',
      },
      {
        title: 'keeps a snapshot whose creation time has no zone, which would read differently per machine',
        overrides: { createdAt: '2026-11-01T03:00:00' },
        action: 'keep',
        reason: 'unreadable creation time "2026-11-01T03:00:00"',
      },
      {
        title: 'expires an ordinary snapshot outside every window',
        overrides: {},
        action: 'expire',
        reason: gfsExpired,
      },
    ])('$title', ({ overrides, action, reason }) => {
      // Prepare
      const subject = snap('2026-11-01T03:00:00Z', { id: 'steward-subject', ...overrides });

      // Act
      const plan = planRetention([...older, subject], policy, NOW, UNCAPPED);

      // Assert
      expect(verdictOf(plan, subject)).toMatchObject({ action, reason });
      expect(plan.delete.includes(subject)).toBe(action === 'expire');
    });

    // A human who wants to keep one of steward's snapshots copies it (CopyDBSnapshot, or the console's
    // "Copy tags" box): the copy carries steward:managed=true and steward:policy, but its name is the human's.
    // The retention role may delete only steward-* ids (infra/retention.ts), so judging it took a keep-at-least
    // slot from steward's own snapshots, and once expired it failed every run with AccessDenied.
    it.each<[string, ResourceKind]>([
      ['orders-db-before-upgrade', 'rds-instance'],
      ['audit-2026-keep', 'aurora-cluster'],
      ['rds:orders-db-2026-11-01-03-00', 'rds-instance'],
    ])('skips %s (%s), a copy of a steward snapshot under a name steward never gives', (id, kind) => {
      // Prepare
      const copy = snap('2026-11-22T05:00:00Z', { id, kind });
      const own = [1, 2, 3].map((d) => snap(`2026-11-2${d}T03:00:00Z`, { kind }));

      // Act
      const plan = planRetention([...own, copy], standard({ daily: 1, keepAtLeast: 3 }), NOW, UNCAPPED);

      // Assert
      expect(verdictOf(plan, copy)).toMatchObject({ action: 'skip', reason: 'not-ours' });
      expect(plan.delete).toEqual([]);
      expect(own.map((s) => verdictOf(plan, s).action)).toEqual(['keep', 'keep', 'keep']);
    });

    it('reports keeps on doubt in the summary', () => {
      // Prepare
      const snaps = [
        snap('2026-11-22T03:00:00Z'),
        snap('2026-11-01T03:00:00Z', { tags: managedTags({ [Tag.policy]: 'hourly' }) }),
        snap('2026-11-02T03:00:00Z', { tags: managedTags({ [Tag.retainUntil]: 'soon' }) }),
        snap(undefined),
      ];

      // Act
      const plan = planRetention(snaps, policy, NOW, UNCAPPED);

      // Assert
      expect(plan.summary).toMatchObject({ total: 4, keep: 4, doubt: 3, expire: 0 });
      expect(plan.summary.byRule).toEqual({
        daily: 1,
        'unknown-policy': 1,
        'bad-retain-until': 1,
        'no-created-at': 1,
      });
    });
  });

  describe('groups', () => {
    it('always keeps the newest available snapshot of a source, even an ad-hoc one past its retain-until', () => {
      // Prepare
      const adHoc = { [Tag.managed]: 'true', [Tag.source]: 'orders-db', [Tag.retainUntil]: '2026-11-01' };
      const old = snap('2026-08-01T10:00:00Z', { tags: adHoc });
      const newest = snap('2026-08-02T10:00:00Z', { tags: adHoc });
      const creating = snap('2026-11-23T03:00:00Z', { status: 'creating' });

      // Act
      const plan = planRetention([old, newest, creating], standard({}), NOW, UNCAPPED);

      // Assert
      expect(verdictOf(plan, newest)).toMatchObject({ action: 'keep', rule: 'newest', reason: 'newest' });
      expect(verdictOf(plan, old)).toMatchObject({
        action: 'expire',
        reason: 'retain-until 2026-11-01 passed',
      });
    });

    it('judges the DR copies of a database separately from the primary region', () => {
      // Prepare
      const primary = [snap('2026-11-21T03:00:00Z'), snap('2026-11-22T03:00:00Z')];
      const dr = primary.map((s) => ({
        ...s,
        region: 'us-west-2',
        arn: s.arn.replace('eu-west-1', 'us-west-2'),
      }));

      // Act
      const plan = planRetention([...primary, ...dr], standard({ daily: 1 }), NOW, UNCAPPED);

      // Assert
      expect(plan.delete.map((s) => `${s.region}/${s.createdAt}`)).toEqual([
        'eu-west-1/2026-11-21T03:00:00Z',
        'us-west-2/2026-11-21T03:00:00Z',
      ]);
    });

    it("groups by the snapshot's own source identifier, not by the writable steward:source tag", () => {
      // Prepare: two databases' snapshots; every one carries a matching tag.
      const a = [
        snap('2026-11-20T03:00:00Z', { id: 'steward-a-1', sourceId: 'orders-db' }),
        snap('2026-11-21T03:00:00Z', { id: 'steward-a-2', sourceId: 'orders-db' }),
      ];
      const b = [
        snap('2026-11-22T03:00:00Z', {
          id: 'steward-b-1',
          sourceId: 'billing-db',
          tags: managedTags({ [Tag.source]: 'billing-db' }),
        }),
      ];

      // Act
      const plan = planRetention([...a, ...b], standard({ daily: 1 }), NOW, UNCAPPED);

      // Assert
      expect(verdictOf(plan, a[0]!)).toMatchObject({ action: 'expire', sourceId: 'orders-db' });
      expect(verdictOf(plan, a[1]!)).toMatchObject({ action: 'keep', sourceId: 'orders-db' });
      expect(verdictOf(plan, b[0]!)).toMatchObject({ action: 'keep', sourceId: 'billing-db' });
    });

    it('skips a snapshot whose steward:source tag disagrees with its source, and never deletes it', () => {
      // Prepare: orders-db's only snapshots, tagged (by hand, or by a bug) as billing-db's. Grouped by the
      // tag, they would join billing-db's newer history and expire, leaving orders-db with no backup.
      const forged = [
        snap('2026-11-19T03:00:00Z', {
          id: 'steward-o-1',
          sourceId: 'orders-db',
          tags: managedTags({ [Tag.source]: 'billing-db' }),
        }),
        snap('2026-11-20T03:00:00Z', {
          id: 'steward-o-2',
          sourceId: 'orders-db',
          tags: managedTags({ [Tag.source]: 'billing-db' }),
        }),
      ];
      const billing = [
        snap('2026-11-21T03:00:00Z', {
          id: 'steward-b-1',
          sourceId: 'billing-db',
          tags: managedTags({ [Tag.source]: 'billing-db' }),
        }),
        snap('2026-11-22T03:00:00Z', {
          id: 'steward-b-2',
          sourceId: 'billing-db',
          tags: managedTags({ [Tag.source]: 'billing-db' }),
        }),
      ];

      // Act
      const plan = planRetention([...forged, ...billing], standard({ daily: 1 }), NOW, UNCAPPED);

      // Assert
      for (const s of forged) {
        expect(verdictOf(plan, s)).toMatchObject({
          action: 'skip',
          rule: 'source-mismatch',
          sourceId: 'orders-db',
        });
      }
      expect(plan.delete.map((s) => s.id)).toEqual(['steward-b-1']);
    });

    it('matches the tag case-insensitively (RDS identifiers are case-insensitive)', () => {
      // Prepare
      const s = snap('2026-11-22T03:00:00Z', { tags: managedTags({ [Tag.source]: 'Orders-DB' }) });

      // Act
      const plan = planRetention([s], standard({ daily: 1 }), NOW, UNCAPPED);

      // Assert
      expect(verdictOf(plan, s)).toMatchObject({ action: 'keep', rule: 'daily' });
    });

    it('judges snapshots under different retention policies separately', () => {
      // Prepare
      const resolver: PolicyResolver = (s) =>
        s.tags[Tag.policy] === 'daily'
          ? { name: 'short', policy: { ...NOTHING, daily: 1 } }
          : { name: 'long', policy: { ...NOTHING, daily: 2 } };
      const short = [snap('2026-11-20T03:00:00Z'), snap('2026-11-22T03:00:00Z')];
      const long = [
        snap('2026-11-19T03:00:00Z', { tags: managedTags({ [Tag.policy]: 'monthly' }) }),
        snap('2026-11-21T03:00:00Z', { tags: managedTags({ [Tag.policy]: 'monthly' }) }),
      ];

      // Act
      const plan = planRetention([...short, ...long], resolver, NOW, UNCAPPED);

      // Assert
      expect(plan.delete).toEqual([short[0]]);
      expect(verdictOf(plan, long[0]!)).toMatchObject({
        action: 'keep',
        policy: 'long',
        reason: 'daily 2026-11-19',
      });
    });
  });

  describe('deletion cap', () => {
    const expiredIn = (region: string, kind: ResourceKind) =>
      ['2026-11-01T03:00:00Z', '2026-11-02T03:00:00Z', '2026-11-03T03:00:00Z'].map((at) =>
        snap(at, { region, kind, id: `steward-${kind}-${at}`, arn: `arn:${region}:${kind}:${at}` }),
      );
    const newest = (region: string, kind: ResourceKind) =>
      snap('2026-11-22T03:00:00Z', {
        region,
        kind,
        id: `steward-${kind}-newest`,
        arn: `arn:${region}:${kind}:newest`,
      });
    const snaps = [
      ...expiredIn('eu-west-1', 'rds-instance'),
      newest('eu-west-1', 'rds-instance'),
      ...expiredIn('us-west-2', 'aurora-cluster'),
      newest('us-west-2', 'aurora-cluster'),
    ];

    it.each([
      [0, 0, 6],
      [2, 2, 4],
      [5, 5, 1],
      [6, 6, 0],
      [50, 6, 0],
    ])(
      'with a cap of %i deletes %i, oldest first across the plan, and defers %i',
      (cap, deleted, deferredCount) => {
        // Prepare
        const byAge = [...snaps]
          .filter((s) => !s.id.endsWith('newest'))
          .sort((a, b) => a.createdAt!.localeCompare(b.createdAt!) || a.id.localeCompare(b.id));

        // Act
        const plan = planRetention(snaps, standard({ daily: 1 }), NOW, { maxDeletionsPerRun: cap });

        // Assert
        expect(plan.delete).toEqual(byAge.slice(0, deleted));
        expect(plan.deferred).toEqual(byAge.slice(deleted));
        expect(plan.summary).toMatchObject({ expire: deleted, defer: deferredCount, keep: 2 });
        for (const s of plan.deferred) {
          expect(verdictOf(plan, s)).toMatchObject({
            action: 'defer',
            reason: expect.stringContaining(`at most ${cap} deletions per run`),
          });
        }
      },
    );

    it('rejects a negative or fractional cap and an invalid now', () => {
      // Prepare
      const run = (now: Date, cap: number) => () =>
        planRetention(snaps, standard({}), now, { maxDeletionsPerRun: cap });

      // Act / Assert
      expect(run(NOW, -1)).toThrow(RangeError);
      expect(run(NOW, 1.5)).toThrow(RangeError);
      expect(run(new Date('nope'), 1)).toThrow(RangeError);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Property tests: random histories against invariants that must hold for any inventory and any policy.

// 1 000 random histories per property here (CI's share of its 15 minutes: 10 000 took 32 s of it);
// `npm run bench -- properties` runs the same properties at 100 000, and STEWARD_GFS_RUNS sets any count.
const RUNS = { numRuns: Number(process.env.STEWARD_GFS_RUNS) || 1_000 };
const KINDS: ResourceKind[] = ['rds-instance', 'aurora-cluster', 'elasticache'];
const START = Date.parse('2024-01-01T00:00:00Z');
const RETAIN = {
  past: ['2020-01-01', '2026-11-23T04:29:59Z', '2026-11-23T06:30:00+02:00'],
  future: ['2099-12-31', '2026-11-23T04:30:00.001Z', '2027-01-01T00:00:00+01:00'],
  bad: ['soon', '2026-02-30', '2026-11-23T04:30', ''],
};
type RetainKind = 'none' | keyof typeof RETAIN;

interface Meta {
  retain: RetainKind;
  ms: number | undefined;
}

const retentionPolicy = fc.record({
  daily: fc.integer({ min: 0, max: 3 }),
  weekly: fc.integer({ min: 0, max: 2 }),
  monthly: fc.integer({ min: 0, max: 2 }),
  yearly: fc.integer({ min: 0, max: 1 }),
  keepAtLeast: fc.integer({ min: 1, max: 3 }),
});

/** A config whose backup policies `daily` and `cache` map to two random retention policies. */
const configArb = fc.tuple(retentionPolicy, retentionPolicy).map(([short, long]) => {
  const backup = (retention: string) => ({
    schedule: 'cron(0 3 * * ? *)',
    timezone: 'UTC',
    kinds: KINDS,
    retention,
    copyToDr: false,
  });
  return {
    backup: { policies: { daily: backup('short'), cache: backup('long') } },
    retention: { policies: { short, long } },
  } as unknown as Pick<StewardConfig, 'backup' | 'retention'>;
});

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;
const RECENT = Date.parse('2026-10-20T00:00:00Z');
/** Usually `common`; one time in eight one of the `rare` values, so every special case shows up often. */
const mostly = <T>(common: T, ...rare: T[]) =>
  fc.oneof({ arbitrary: fc.constant(common), weight: 7 }, { arbitrary: fc.constantFrom(...rare), weight: 1 });

const rawSnapshot = fc.record({
  // Skewed towards one region, kind and source so groups are big enough for windows and floors to bite.
  region: mostly<string>('eu-west-1', 'us-west-2'),
  kind: mostly<ResourceKind>('rds-instance', 'aurora-cluster', 'elasticache'),
  source: mostly('orders-db', 'billing-db'),
  sourceTag: mostly<'same' | 'none' | 'other'>('same', 'none', 'other'),
  // A dense recent window (many same-day and same-week snapshots), exact 03:00 schedules (ties in creation
  // time, broken by id), and three sparse years.
  offset: fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 40 * 24 * 60 }).map((m) => RECENT + m * minute), weight: 3 },
    { arbitrary: fc.integer({ min: 0, max: 20 }).map((d) => RECENT + d * day + 3 * hour), weight: 1 },
    { arbitrary: fc.integer({ min: 0, max: 3 * 366 * 24 * 60 }).map((m) => START + m * minute), weight: 2 },
  ),
  dated: mostly(true, false),
  type: mostly<SnapshotType>('manual', 'automated', 'shared'),
  status: mostly('available', 'creating', 'copying'),
  managed: mostly<string | undefined>('true', 'false', undefined),
  hold: mostly<string | undefined>(undefined, 'legal', ''),
  retain: mostly<RetainKind>('none', 'past', 'future', 'bad'),
  retainPick: fc.nat(),
  policy: mostly<string | undefined>('daily', 'cache', 'hourly', undefined),
});

interface History {
  snaps: Snapshot[];
  meta: Map<Snapshot, Meta>;
}

const historyArb: fc.Arbitrary<History> = fc
  .array(rawSnapshot, { maxLength: 40, size: 'max' })
  .map((raws) => {
    const meta = new Map<Snapshot, Meta>();
    const snaps = raws.map((r, i) => {
      const tags: Tags = {};
      if (r.managed !== undefined) tags[Tag.managed] = r.managed;
      if (r.hold !== undefined) tags[Tag.hold] = r.hold;
      if (r.policy !== undefined) tags[Tag.policy] = r.policy;
      // The tag mostly agrees with the source, is sometimes absent, and sometimes names another database.
      if (r.sourceTag === 'same') tags[Tag.source] = r.source;
      if (r.sourceTag === 'other') tags[Tag.source] = `${r.source}-other`;
      if (r.retain !== 'none')
        tags[Tag.retainUntil] = RETAIN[r.retain][r.retainPick % RETAIN[r.retain].length]!;
      const id = `steward-${r.source}-${i}`;
      const s: Snapshot = {
        kind: r.kind,
        id,
        arn: `arn:aws:rds:${r.region}:111122223333:snapshot:${id}`,
        region: r.region,
        sourceId: r.source,
        createdAt: r.dated ? new Date(r.offset).toISOString() : undefined,
        status: r.status,
        type: r.type,
        tags,
      };
      meta.set(s, { retain: r.retain, ms: r.dated ? r.offset : undefined });
      return s;
    });
    return { snaps, meta };
  });

const key = (s: Snapshot) => `${s.region}|${s.kind}|${s.id}`;
const sourceKey = (s: Snapshot) => `${s.region}|${s.kind}|${s.sourceId}`;
const sourceAgrees = (s: Snapshot) =>
  s.tags[Tag.source] === undefined || s.tags[Tag.source]!.toLowerCase() === s.sourceId.toLowerCase();
const judged = (s: Snapshot) =>
  s.type === 'manual' &&
  s.tags[Tag.managed] === 'true' &&
  !(Tag.hold in s.tags) &&
  s.status === 'available' &&
  sourceAgrees(s);
const removed = (plan: RetentionPlan) => new Set([...plan.delete, ...plan.deferred].map(key));
const plan = (snaps: readonly Snapshot[], config: Pick<StewardConfig, 'backup' | 'retention'>, cap = 1000) =>
  planRetention(snaps, retentionPolicyResolver(config), NOW, { maxDeletionsPerRun: cap });
const older = (a: Snapshot, b: Snapshot, meta: Map<Snapshot, Meta>) =>
  meta.get(a)!.ms! - meta.get(b)!.ms! || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Assert a deep equality cheaply: 10 000 runs of `toEqual` on whole plans dominate the run time, so compare
 * JSON first and let `toEqual` produce the readable diff only when they differ.
 */
const expectSame = (actual: unknown, expected: unknown) => {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) expect(actual).toEqual(expected);
};

describe(`planRetention properties (${RUNS.numRuns.toLocaleString('en')} random histories each)`, () => {
  it('never deletes a held, unmanaged, unavailable, non-manual, source-mismatched, undated, retained or unknown-policy snapshot', () => {
    fc.assert(
      fc.property(historyArb, configArb, fc.integer({ min: 0, max: 6 }), ({ snaps, meta }, config, cap) => {
        // Prepare / Act
        const gone = removed(plan(snaps, config, cap));

        // Assert
        const violations = snaps
          .filter((s) => gone.has(key(s)))
          .filter((s) => {
            const m = meta.get(s)!;
            const known = s.tags[Tag.policy] === 'daily' || s.tags[Tag.policy] === 'cache';
            const adHoc = s.tags[Tag.policy] === undefined && m.retain === 'past';
            return (
              !judged(s) ||
              m.ms === undefined ||
              m.retain === 'future' ||
              m.retain === 'bad' ||
              !(known || adHoc)
            );
          });
        expect(violations).toEqual([]);
      }),
      RUNS,
    );
  });

  it('always keeps the newest judged snapshot of each source', () => {
    fc.assert(
      fc.property(historyArb, configArb, fc.integer({ min: 0, max: 6 }), ({ snaps, meta }, config, cap) => {
        // Prepare
        const newest = new Map<string, Snapshot>();
        for (const s of snaps.filter((x) => judged(x) && meta.get(x)!.ms !== undefined)) {
          const best = newest.get(sourceKey(s));
          if (!best || older(best, s, meta) < 0) newest.set(sourceKey(s), s);
        }

        // Act
        const gone = removed(plan(snaps, config, cap));

        // Assert
        expect([...newest.values()].filter((s) => gone.has(key(s)))).toEqual([]);
      }),
      RUNS,
    );
  });

  it('never lets a source and policy fall below keepAtLeast', () => {
    fc.assert(
      fc.property(historyArb, configArb, fc.integer({ min: 0, max: 6 }), ({ snaps, meta }, config, cap) => {
        // Prepare
        const resolve = retentionPolicyResolver(config);
        const groups = new Map<string, { floor: number; members: Snapshot[] }>();
        for (const s of snaps) {
          const p = resolve(s);
          if (!judged(s) || !p || meta.get(s)!.ms === undefined || meta.get(s)!.retain === 'future') continue;
          const g = groups.get(`${sourceKey(s)}|${p.name}`) ?? { floor: p.policy.keepAtLeast, members: [] };
          g.members.push(s);
          groups.set(`${sourceKey(s)}|${p.name}`, g);
        }

        // Act
        const gone = removed(plan(snaps, config, cap));

        // Assert
        const short = [...groups]
          .map(([group, { floor, members }]) => ({
            group,
            floor,
            size: members.length,
            survivors: members.filter((s) => !gone.has(key(s))).length,
          }))
          .filter((g) => g.survivors < Math.min(g.floor, g.size));
        expect(short).toEqual([]);
      }),
      RUNS,
    );
  });

  it('is idempotent: after applying an uncapped plan, re-planning deletes nothing and keeps every verdict', () => {
    fc.assert(
      fc.property(historyArb, configArb, ({ snaps }, config) => {
        // Prepare
        const first = plan(snaps, config);
        const gone = new Set(first.delete.map(key));
        const remaining = snaps.filter((s) => !gone.has(key(s)));

        // Act
        const second = plan(remaining, config);

        // Assert
        expect(first.deferred.length + second.delete.length + second.deferred.length).toBe(0);
        expectSame(
          second.verdicts,
          first.verdicts.filter((v) => v.action !== 'expire'),
        );
      }),
      RUNS,
    );
  });

  it('with a cap, deletes oldest first and converges to the uncapped result over successive runs', () => {
    fc.assert(
      fc.property(historyArb, configArb, fc.integer({ min: 1, max: 5 }), ({ snaps, meta }, config, cap) => {
        // Prepare
        const target = plan(snaps, config).delete.map(key).sort();
        let current = snaps;
        let runs = 0;
        const problems: string[] = [];

        // Act
        for (;;) {
          const p = plan(current, config, cap);
          if (p.delete.length > cap)
            problems.push(`run ${runs}: ${p.delete.length} deletions over cap ${cap}`);
          const newestDeleted = p.delete.at(-1);
          const oldestDeferred = p.deferred[0];
          if (newestDeleted && oldestDeferred && older(newestDeleted, oldestDeferred, meta) > 0) {
            problems.push(
              `run ${runs}: deleted ${newestDeleted.id} but deferred the older ${oldestDeferred.id}`,
            );
          }
          if (p.delete.length === 0) {
            if (p.deferred.length)
              problems.push(`run ${runs}: ${p.deferred.length} deferred with nothing deleted`);
            break;
          }
          const gone = new Set(p.delete.map(key));
          current = current.filter((s) => !gone.has(key(s)));
          runs++;
        }

        // Assert
        expect(problems).toEqual([]);
        expectSame(
          snaps
            .filter((s) => !current.includes(s))
            .map(key)
            .sort(),
          target,
        );
        expect(runs).toBe(Math.ceil(target.length / cap));
      }),
      RUNS,
    );
  });

  it('does not depend on input order', () => {
    fc.assert(
      fc.property(
        historyArb.chain((h) =>
          fc.tuple(
            fc.constant(h),
            fc.shuffledSubarray(h.snaps, { minLength: h.snaps.length, maxLength: h.snaps.length }),
          ),
        ),
        configArb,
        fc.integer({ min: 0, max: 6 }),
        ([{ snaps }, shuffled], config, cap) => {
          // Prepare / Act
          const a = plan(snaps, config, cap);
          const b = plan(shuffled, config, cap);

          // Assert
          expectSame(b, a);
        },
      ),
      RUNS,
    );
  });

  it('with DR configured, never deletes the last snapshot of a primary day that has no available DR copy', () => {
    // Prepare: us-west-2 is the DR region; some primary snapshots have a copy there (same id), in any state.
    const DR = 'us-west-2';
    const withCopies = historyArb.chain((h) =>
      fc.tuple(
        fc.constant(h),
        fc.array(fc.constantFrom('none', 'available', 'copying', 'failed'), {
          minLength: h.snaps.length,
          maxLength: h.snaps.length,
        }),
      ),
    );
    fc.assert(
      fc.property(
        withCopies,
        configArb,
        fc.integer({ min: 0, max: 6 }),
        fc.boolean(),
        ([{ snaps, meta }, copyStates], config, cap, drListed) => {
          const primary = snaps.filter((s) => s.region !== DR);
          const copies = primary.flatMap((s, i) =>
            copyStates[i] === 'none'
              ? []
              : [
                  {
                    ...s,
                    region: DR,
                    arn: s.arn.replace(s.region, DR),
                    status: copyStates[i]!,
                    tags: { ...s.tags, [Tag.copiedFrom]: s.arn },
                  },
                ],
          );
          // The DR region holds the copies, plus whatever the history put there (ids never collide with copies').
          const all = [
            ...snaps.filter((s) => s.region !== DR || !copies.some((c) => c.id === s.id)),
            ...copies,
          ];
          const dr = {
            region: DR,
            policiesThatCopy: new Set(['daily']),
            snapshots: drListed ? all.filter((s) => s.region === DR) : undefined,
          };

          // Act
          const p = planRetention(all, retentionPolicyResolver(config), NOW, { maxDeletionsPerRun: cap, dr });
          const gone = new Set(p.delete.map(key));

          // Assert: each deleted primary snapshot of a copying policy has its day safe elsewhere.
          const dayOf = (s: Snapshot) =>
            `${s.region}|${s.kind}|${s.sourceId}|${new Date(meta.get(s)?.ms ?? parseInstant(s.createdAt)!).toISOString().slice(0, 10)}`;
          const copied = (s: Snapshot) =>
            drListed && copies.some((c) => c.id === s.id && c.status === 'available');
          const stays = (s: Snapshot) =>
            !gone.has(key(s)) &&
            s.status === 'available' &&
            s.type === 'manual' &&
            s.tags[Tag.managed] === 'true';
          const unsafe = p.delete
            .filter((d) => d.region !== DR && d.kind !== 'elasticache' && d.tags[Tag.policy] === 'daily')
            .filter((d) => {
              const sameDay = primary.filter((s) => meta.get(s)!.ms !== undefined && dayOf(s) === dayOf(d));
              return !sameDay.some((s) => copied(s) || stays(s));
            })
            .map((d) => d.id);
          expect(unsafe).toEqual([]);
          // And the rule only ever keeps more: what it deletes, the plan without DR would delete too.
          const without = new Set(
            planRetention(all, retentionPolicyResolver(config), NOW, { maxDeletionsPerRun: 1000 }).delete.map(
              key,
            ),
          );
          expect([...gone].filter((k) => !without.has(k))).toEqual([]);
        },
      ),
      RUNS,
    );
  });

  it('gives every snapshot exactly one verdict, consistent with the delete and deferred lists', () => {
    fc.assert(
      fc.property(historyArb, configArb, fc.integer({ min: 0, max: 6 }), ({ snaps }, config, cap) => {
        // Prepare / Act
        const p = plan(snaps, config, cap);

        // Assert
        expectSame(p.verdicts.map((v) => `${v.region}|${v.kind}|${v.id}`).sort(), snaps.map(key).sort());
        expectSame(
          p.verdicts
            .filter((v) => v.action === 'expire')
            .map((v) => v.id)
            .sort(),
          p.delete.map((s) => s.id).sort(),
        );
        expectSame(
          p.verdicts
            .filter((v) => v.action === 'defer')
            .map((v) => v.id)
            .sort(),
          p.deferred.map((s) => s.id).sort(),
        );
        expect(p.delete.length).toBeLessThanOrEqual(cap);
        expect(p.summary.keep + p.summary.skip + p.summary.expire + p.summary.defer).toBe(snaps.length);
      }),
      RUNS,
    );
  });
});

describe('planRetention over dump objects', () => {
  const I = 'i-0abc1234def567890';
  const ebs = (day: string): Snapshot =>
    snap(`2026-11-${day}T03:00:00Z`, {
      kind: 'ebs',
      id: `steward-${I}-202611${day}0300-sched`,
      arn: `arn:aws:ec2:eu-west-1:111122223333:snapshot-set/steward-${I}-202611${day}0300-sched`,
      sourceId: I,
      tags: managedTags({ [Tag.source]: I }),
    });
  const dump = (day: string): Snapshot => {
    const key = `steward/daily/${I}/steward-${I}-202611${day}0300-sched.dump`;
    return snap(`2026-11-${day}T03:00:00Z`, {
      kind: 'ebs',
      id: `s3://dumps/${key}`,
      arn: `arn:aws:s3:::dumps/${key}`,
      sourceId: I,
      tags: managedTags({ [Tag.source]: I, [Tag.kind]: 'dump' }),
      object: { bucket: 'dumps', key },
    });
  };

  it('judges an instance’s dumps apart from its snapshot sets: each keeps its own newest days', () => {
    // Prepare: a set and a dump on each of three days; keep two days.
    const sets = ['20', '21', '22'].map(ebs);
    const dumps = ['20', '21', '22'].map(dump);

    // Act
    const plan = planRetention([...sets, ...dumps], standard({ daily: 2 }), NOW, UNCAPPED);

    // Assert: one of each expires, the 20th's; neither replaces the other on the same day.
    expect(plan.delete.map((s) => s.id).sort()).toEqual([dumps[0]!.id, sets[0]!.id].sort());
    expect(verdictOf(plan, dumps[2]!)).toMatchObject({ action: 'keep', rule: 'daily' });
    expect(verdictOf(plan, sets[2]!)).toMatchObject({ action: 'keep', rule: 'daily' });
  });

  it('never holds a dump for DR: dumps are not copied there', () => {
    // Prepare: the policy copies to DR and nothing reached it; only the 20th's dump and set are past daily 1.
    const plan = planRetention([ebs('20'), ebs('22'), dump('20'), dump('22')], standard({ daily: 1 }), NOW, {
      ...UNCAPPED,
      dr: { region: 'us-west-2', policiesThatCopy: new Set(['daily']), snapshots: [] },
    });

    // Assert: the set waits for its copy; the dump goes.
    expect(verdictOf(plan, ebs('20'))).toMatchObject({ action: 'keep', rule: 'awaiting-dr' });
    expect(plan.delete.map((s) => s.id)).toEqual([dump('20').id]);
  });
});

describe('planRetention: the DR hold for ElastiCache (Redis DR copies in the DR bucket)', () => {
  const DR = 'us-west-2';
  // Two days of a two-shard cache; the policy keeps one day: the older day expires.
  const cache = (day: string, overrides: Partial<Snapshot> = {}) =>
    snap(`2026-11-${day}T03:00:00Z`, {
      kind: 'elasticache',
      id: `steward-sessions-202611${day}0300-sched`,
      arn: `arn:aws:elasticache:eu-west-1:111122223333:snapshot:steward-sessions-202611${day}0300-sched`,
      sourceId: 'sessions',
      tags: managedTags({ [Tag.source]: 'sessions' }),
      shards: 2,
      ...overrides,
    });
  const old = cache('21');
  const inventory = [old, cache('22')];
  /** The RDB copy of `s` in the DR bucket with `files` of its shards' files arrived. */
  const copyOf = (s: Snapshot, files: number): Snapshot => ({
    ...s,
    region: DR,
    arn: `arn:aws:s3:::steward-prod-rdb-dr-111122223333-${DR}/elasticache/sessions/${s.id}-0001.rdb`,
    shards: files,
    tags: { ...s.tags, [Tag.copiedFrom]: s.arn },
  });
  const plan = (drSnapshots: Snapshot[] | undefined, caches: boolean) =>
    planRetention(inventory, standard({ daily: 1 }), NOW, {
      ...UNCAPPED,
      dr: { region: DR, policiesThatCopy: new Set(['daily']), snapshots: drSnapshots, caches },
    });

  it.each<[string, string, Snapshot[] | undefined]>([
    ['no copy of it in DR', 'kept', []],
    ['one of its two files in DR', 'kept', [copyOf(old, 1)]],
    ['the DR bucket unreadable', 'kept', undefined],
    ['both files in DR', 'expired', [copyOf(old, 2)]],
  ])('with %s, the only snapshot of its day is %s', (_what, action, drSnapshots) => {
    // Act
    const p = plan(drSnapshots, true);

    // Assert
    expect(verdictOf(p, old)).toMatchObject(
      action === 'kept' ? { action: 'keep', rule: 'awaiting-dr' } : { action: 'expire' },
    );
  });

  it('holds nothing when the Redis DR copies are not listed (a target without Redis DR)', () => {
    // Act
    const p = plan([], false);

    // Assert
    expect(verdictOf(p, old).action).toBe('expire');
  });
});

describe('planRetention: a Redis DR copy holding fewer files than its snapshot has shards', () => {
  const DR = 'us-west-2';
  const id = (day: string) => `steward-sessions-202611${day}0300-sched`;
  const primary = (day: string): Snapshot =>
    snap(`2026-11-${day}T03:00:00Z`, {
      kind: 'elasticache',
      id: id(day),
      arn: `arn:aws:elasticache:eu-west-1:111122223333:snapshot:${id(day)}`,
      sourceId: 'sessions',
      tags: managedTags({ [Tag.source]: 'sessions' }),
      shards: 3,
    });
  /** The RDB copy as the DR bucket's store lists it: its files so far as `shards`, its origin region. */
  const copy = (day: string, files: number): Snapshot => ({
    ...primary(day),
    region: DR,
    arn: `arn:aws:s3:::steward-prod-rdb-dr-111122223333-${DR}/elasticache/sessions/daily/${id(day)}-0001.rdb`,
    sourceRegion: 'eu-west-1',
    shards: files,
  });

  it('is not judged (still copying) while its snapshot is listed: the older complete copy stays', () => {
    // Prepare: the 22nd's copy has 2 of 3 files (its group's copies agreed, so the store saw no cause to ask).
    const complete = copy('21', 3);
    const partial = copy('22', 2);
    // Act: keep one (keepAtLeast 1, no windows).
    const p = planRetention([primary('22'), complete, partial], standard({}), NOW, UNCAPPED);
    // Assert
    expect(verdictOf(p, partial)).toMatchObject({ action: 'skip', rule: 'not-available' });
    expect(verdictOf(p, complete).action).toBe('keep');
    expect(p.delete).toEqual([]);
  });

  it('is judged as listed once it holds every file, or when its snapshot is not listed', () => {
    // Act
    const whole = planRetention([primary('22'), copy('21', 3), copy('22', 3)], standard({}), NOW, UNCAPPED);
    const orphan = planRetention([copy('21', 3), copy('22', 2)], standard({}), NOW, UNCAPPED);
    // Assert
    expect(whole.delete.map((s) => s.id)).toEqual([id('21')]);
    expect(orphan.delete.map((s) => s.id)).toEqual([id('21')]);
  });
});

describe('planRetention: one database id in two source regions of one account (issue #17)', () => {
  const DR = 'us-west-2';
  const id = (day: string, code = '') => `steward-orders-db-${code}202611${day}0300-sched`;
  const source = (region: string, day: string) => snap(`2026-11-${day}T03:04:00Z`, { id: id(day), region });
  const copy = (s: Snapshot, code: string): Snapshot => ({
    ...s,
    id: id(s.id.slice(-12, -10), code),
    arn: s.arn.replace(s.region, DR),
    region: DR,
    sourceRegion: s.region,
    tags: { ...s.tags, [Tag.copiedFrom]: s.arn },
  });

  it("keeps each region's DR copies by their own days: two copies of one day are not one the other replaces", () => {
    // Prepare: both regions' `orders-db` of the 22nd copied to us-west-2 (one old-id copy, one new-id copy)
    const copies = [copy(source('eu-west-1', '22'), 'euw1-'), copy(source('eu-central-1', '22'), '')];

    // Act
    const plan = planRetention(copies, standard({ daily: 1 }), NOW, UNCAPPED);

    // Assert: each is its region's newest day, so both are kept
    expect(plan.delete).toEqual([]);
    for (const c of copies) expect(verdictOf(plan, c)).toMatchObject({ action: 'keep', rule: 'daily' });
  });

  it("holds a primary day for DR when only the other region's copy of the same id is there", () => {
    // Prepare: eu-west-1's 21st expired; us-west-2 holds only eu-central-1's copy of that id, without its tag
    const west = [source('eu-west-1', '21'), source('eu-west-1', '22')];
    const { [Tag.copiedFrom]: _gone, ...tags } = copy(source('eu-central-1', '21'), '').tags;
    const theirs = { ...copy(source('eu-central-1', '21'), ''), tags };
    const ours = copy(source('eu-west-1', '22'), 'euw1-');

    // Act
    const plan = planRetention(west, standard({ daily: 1 }), NOW, {
      ...UNCAPPED,
      dr: { region: DR, policiesThatCopy: new Set(['daily']), snapshots: [theirs, ours] },
    });

    // Assert
    expect(verdictOf(plan, west[0]!)).toMatchObject({ action: 'keep', rule: 'awaiting-dr' });
  });
});

describe('planRetention: ElastiCache serverless cache snapshots', () => {
  const cacheSnap = (day: string, serverless: boolean): Snapshot =>
    snap(`2026-11-${day}T03:00:00Z`, {
      kind: 'elasticache',
      id: `steward-sessions-202611${day}0300-sched${serverless ? '' : '-g'}`,
      sourceId: 'sessions',
      tags: managedTags({ [Tag.source]: 'sessions' }),
      ...(serverless ? { serverless: true as const } : {}),
    });

  it('judges a serverless cache apart from the replication group of its name: each keeps its own newest', () => {
    // Prepare: daily 1; the group's snapshot is the newer one of the name.
    const snaps = [cacheSnap('20', true), cacheSnap('22', false)];

    // Act
    const plan = planRetention(snaps, standard({ daily: 1 }), NOW, UNCAPPED);

    // Assert: judged together, the serverless cache's only snapshot would expire.
    expect(plan.verdicts.map((v) => [v.id, v.action])).toEqual(
      expect.arrayContaining([
        ['steward-sessions-202611200300-sched', 'keep'],
        ['steward-sessions-202611220300-sched-g', 'keep'],
      ]),
    );
  });

  it('never holds an expired serverless snapshot for a DR copy (none is ever made)', () => {
    // Prepare: daily 1 with Redis DR copies listed (caches: true); two days of one serverless cache.
    const snaps = [cacheSnap('20', true), cacheSnap('22', true)];

    // Act
    const plan = planRetention(snaps, standard({ daily: 1 }), NOW, {
      ...UNCAPPED,
      dr: { region: 'us-west-2', policiesThatCopy: new Set(['daily']), snapshots: [], caches: true },
    });

    // Assert
    expect(plan.delete.map((s) => s.id)).toEqual(['steward-sessions-202611200300-sched']);
  });
});
