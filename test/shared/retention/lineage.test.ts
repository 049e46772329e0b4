import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RetentionPolicy } from '../../../shared/config/schema.js';
import type { ResourceKind, Snapshot } from '../../../shared/model.js';
import { planRetention, type PolicyResolver, type RetentionPlan } from '../../../shared/retention/gfs.js';
import { Tag } from '../../../shared/tags.js';

// A team deletes `orders` and later creates a new `orders`: the earlier database's steward snapshots stay under
// the same identifier. Each database of a name is judged by its own slots (shared/retention/gfs.ts,
// placeLineages): an earlier one's snapshot never takes a daily, weekly or monthly slot of the live one.

const NOW = new Date('2026-11-23T04:30:00Z');
const DAY = 86_400_000;
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const NOTHING: RetentionPolicy = { daily: 0, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 };
const resolver =
  (p: Partial<RetentionPolicy>): PolicyResolver =>
  (s) =>
    s.tags[Tag.policy] === 'daily' ? { name: 'standard', policy: { ...NOTHING, ...p } } : undefined;

interface Db {
  /** Resource id (RDS DbiResourceId / Aurora DbClusterResourceId); none for ElastiCache. */
  rid?: string;
  /** When the database was created (epoch ms). */
  created: number;
}

const snap = (
  kind: ResourceKind,
  db: Db,
  at: number,
  opts: { states?: 'both' | 'time' | 'id'; memberLag?: number; managed?: boolean } = {},
): Snapshot => {
  const id = `steward-orders-${at}`;
  const states = opts.states ?? 'both';
  return {
    kind,
    id,
    arn: `arn:aws:rds:eu-west-1:111122223333:snapshot:${id}`,
    region: 'eu-west-1',
    sourceId: 'orders',
    createdAt: iso(at),
    status: 'available',
    type: 'manual',
    tags: {
      ...(opts.managed === false ? {} : { [Tag.managed]: 'true' }),
      [Tag.policy]: 'daily',
      [Tag.source]: 'orders',
    },
    ...(kind !== 'elasticache' && db.rid && states !== 'time' ? { sourceResourceId: db.rid } : {}),
    ...(states !== 'id' ? { sourceCreatedAt: iso(db.created + (opts.memberLag ?? 0)) } : {}),
  };
};

const verdict = (plan: RetentionPlan, s: Snapshot) => plan.verdicts.find((v) => v.id === s.id)!;

describe('retention: a deleted database and a new one of the same name', () => {
  // The old `orders`: daily snapshots from 2026-10-01 to 2026-11-10, then deleted; the new one created
  // 2026-11-20 and snapshotted daily since: three snapshots by NOW.
  const oldDb: Db = { rid: 'db-OLDOLDOLD', created: Date.parse('2026-01-05T10:00:00Z') };
  const newDb: Db = { rid: 'db-NEWNEWNEW', created: Date.parse('2026-11-20T12:00:00Z') };
  const oldAt = Array.from({ length: 41 }, (_, i) => Date.parse('2026-10-01T03:00:00Z') + i * DAY);
  const newAt = [1, 2, 3].map((d) => Date.parse('2026-11-20T03:00:00Z') + d * DAY);

  it.each(['rds-instance', 'aurora-cluster'] as const)(
    '%s: the live database keeps its own weekly and monthly slots; the earlier one keeps its own',
    (kind) => {
      // Prepare: weekly 4 and monthly 2. Judged together, the new database's weeks and month are already
      // taken by its own snapshots, but its weekly slots 2-4 and its second month go to the old one's.
      const olds = oldAt.map((t) => snap(kind, oldDb, t));
      const news = newAt.map((t) => snap(kind, newDb, t));

      // Act
      const plan = planRetention([...olds, ...news], resolver({ daily: 1, weekly: 4, monthly: 2 }), NOW, {});
      const alone = planRetention(news, resolver({ daily: 1, weekly: 4, monthly: 2 }), NOW, {});
      const oldAlone = planRetention(olds, resolver({ daily: 1, weekly: 4, monthly: 2 }), NOW, {});

      // Assert: the live database's verdicts are exactly those it gets alone.
      expect(news.map((s) => verdict(plan, s))).toEqual(news.map((s) => verdict(alone, s)));
      // The earlier database is judged as a deleted database is: its newest day, its own weeks and months.
      expect(olds.map((s) => [verdict(plan, s).action, verdict(plan, s).rule])).toEqual(
        olds.map((s) => [verdict(oldAlone, s).action, verdict(oldAlone, s).rule]),
      );
      const oldNewest = verdict(plan, olds.at(-1)!);
      expect(oldNewest).toMatchObject({ action: 'keep', rule: 'daily' });
      expect(oldNewest.reason).toBe('daily 2026-11-10, of an earlier database named orders (db-OLDOLDOLD)');
      expect(plan.delete.filter((s) => news.includes(s))).toEqual(alone.delete);
    },
  );

  it('does not let the earlier database take the live one’s daily slots (the reported fault)', () => {
    // Prepare: daily 5. The new database has 3 days; judged as one, days 4 and 5 of the slots went to the
    // old database's two newest, so they were kept as the live database's backups.
    const olds = oldAt.map((t) => snap('rds-instance', oldDb, t));
    const news = newAt.map((t) => snap('rds-instance', newDb, t));

    // Act
    const plan = planRetention([...olds, ...news], resolver({ daily: 5, keepAtLeast: 1 }), NOW, {});

    // Assert: the new database's three are its daily slots; the old one keeps its own five newest days.
    expect(news.map((s) => verdict(plan, s).reason)).toEqual([
      'daily 2026-11-21',
      'daily 2026-11-22',
      'daily 2026-11-23',
    ]);
    expect(olds.slice(-5).map((s) => verdict(plan, s).reason)).toEqual(
      ['06', '07', '08', '09', '10'].map(
        (d) => `daily 2026-11-${d}, of an earlier database named orders (db-OLDOLDOLD)`,
      ),
    );
    expect(plan.summary).toMatchObject({ keep: 8, expire: 36 });
  });

  it('keeps an earlier database’s last snapshots by its own floor, not as spares of the live one', () => {
    // Prepare: daily 1, keepAtLeast 3. Judged as one group, the live database's three filled the floor and the
    // old database's last two backups were deleted as the live one's surplus.
    const olds = oldAt.slice(-2).map((t) => snap('rds-instance', oldDb, t));
    const news = newAt.map((t) => snap('rds-instance', newDb, t));

    // Act
    const plan = planRetention([...olds, ...news], resolver({ daily: 1, keepAtLeast: 3 }), NOW, {});

    // Assert: the live database keeps all three (its floor); the old one keeps its two (its own floor).
    expect(news.map((s) => verdict(plan, s).action)).toEqual(['keep', 'keep', 'keep']);
    expect(olds.map((s) => verdict(plan, s).action)).toEqual(['keep', 'keep']);
  });

  it('ties by creation time when a snapshot states no resource id (RDS, as drills do)', () => {
    const olds = oldAt.map((t) => snap('rds-instance', oldDb, t, { states: 'time' }));
    const news = newAt.map((t) => snap('rds-instance', newDb, t, { states: 'time' }));
    const plan = planRetention([...olds, ...news], resolver({ daily: 5 }), NOW, {});
    expect(news.map((s) => verdict(plan, s).reason)).toEqual([
      'daily 2026-11-21',
      'daily 2026-11-22',
      'daily 2026-11-23',
    ]);
    expect(verdict(plan, olds.at(-1)!).reason).toBe(
      `daily 2026-11-10, of an earlier database named orders (created ${iso(oldDb.created)})`,
    );
  });

  it('ElastiCache: a snapshot taken before the live group’s earliest member was created is an earlier group’s', () => {
    // Prepare: members of one group are created minutes apart; each snapshot names the member it was taken
    // from. The new group's snapshots name members created 0, 5 and 9 minutes after it.
    const olds = oldAt.map((t, i) => snap('elasticache', oldDb, t, { memberLag: (i % 3) * 300_000 }));
    const news = newAt.map((t, i) => snap('elasticache', newDb, t, { memberLag: [540_000, 0, 300_000][i]! }));

    // Act
    const plan = planRetention([...olds, ...news], resolver({ daily: 5 }), NOW, {});

    // Assert: one lineage each, never the old group's days in the new group's slots.
    expect(news.map((s) => verdict(plan, s).reason)).toEqual([
      'daily 2026-11-21',
      'daily 2026-11-22',
      'daily 2026-11-23',
    ]);
    expect(olds.slice(-5).map((s) => verdict(plan, s).reason.replace(/ \(created .*\)$/, ''))).toEqual(
      ['06', '07', '08', '09', '10'].map((d) => `daily 2026-11-${d}, of an earlier database named orders`),
    );
    expect(plan.summary).toMatchObject({ keep: 8, expire: 36 });
  });

  it('judges as before when no snapshot states its database (an inventory file without the fields)', () => {
    const olds = oldAt.map((t) => ({ ...snap('rds-instance', oldDb, t), sourceCreatedAt: undefined }));
    const plan = planRetention(olds, resolver({ daily: 5 }), NOW, {});
    expect(plan.summary).toMatchObject({ keep: 5, expire: 36 });
    expect(plan.verdicts.every((v) => !v.reason.includes('earlier'))).toBe(true);
  });
});

// Property: any number of databases of one name, one after another (each deleted before the next was
// created), with resource ids, creation times only, or (ElastiCache) members' creation times. Whatever the
// policy, each database's verdicts are exactly those it gets alone; a snapshot steward did not create is
// never deleted.
const RUNS = { numRuns: Number(process.env.STEWARD_GFS_RUNS) || 300 };
const START = Date.parse('2024-01-01T00:00:00Z');

const policyArb = fc.record({
  daily: fc.integer({ min: 0, max: 4 }),
  weekly: fc.integer({ min: 0, max: 3 }),
  monthly: fc.integer({ min: 0, max: 3 }),
  yearly: fc.integer({ min: 0, max: 1 }),
  keepAtLeast: fc.integer({ min: 1, max: 4 }),
});

const historyArb = fc
  .record({
    kind: fc.constantFrom<ResourceKind>('rds-instance', 'aurora-cluster', 'elasticache'),
    states: fc.constantFrom('both', 'time', 'id'),
    // Per database: days it lived before being deleted (the last one is live), a gap before the next, and
    // its snapshots' offsets (hours since creation, within its life).
    dbs: fc.array(
      fc.record({
        lifeDays: fc.integer({ min: 1, max: 200 }),
        gapHours: fc.integer({ min: 1, max: 24 * 30 }),
        snaps: fc.array(
          fc.record({
            at: fc.double({ min: 0, max: 1, noNaN: true }),
            managed: fc.boolean(),
            lag: fc.nat(600),
          }),
          { minLength: 1, maxLength: 25 },
        ),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  })
  .map(({ kind, states, dbs }) => {
    // ElastiCache states no resource id: only members' creation times.
    const st = kind === 'elasticache' ? 'time' : states;
    let t = START;
    const lineages = dbs.map((d, i) => {
      const db: Db = { rid: `db-${i}`, created: t };
      const end = t + d.lifeDays * DAY;
      const snaps = d.snaps.map((x, j) =>
        snap(kind, db, Math.round(t + 20 * 60_000 + x.at * (end - t - 40 * 60_000)) + j, {
          states: st as 'both' | 'time' | 'id',
          managed: x.managed || j === 0,
          memberLag: kind === 'elasticache' ? x.lag * 1000 : 0,
        }),
      );
      t = end + d.gapHours * HOUR;
      return snaps.map((s, j) => ({ ...s, id: `steward-orders-${i}-${j}` }));
    });
    // ElastiCache's member lag must stay before the snapshots it is named on; creation times are otherwise
    // whole (one per database).
    return { lineages, now: new Date(t) };
  });

describe(`retention lineages, properties (${RUNS.numRuns} random histories)`, () => {
  it('judges each database of a name as if it were alone; never deletes what steward did not create', () => {
    fc.assert(
      fc.property(historyArb, policyArb, ({ lineages, now }, policy) => {
        const all = lineages.flat();
        const plan = planRetention(all, resolver(policy), now, {});
        for (const [i, own] of lineages.entries()) {
          const alone = planRetention(own, resolver(policy), now, {});
          for (const s of own) {
            const mixed = verdict(plan, s);
            const single = verdict(alone, s);
            expect([mixed.action, mixed.rule], s.id).toEqual([single.action, single.rule]);
            if (i === lineages.length - 1) expect(mixed.reason).toBe(single.reason);
          }
        }
        for (const s of plan.delete) expect(s.tags[Tag.managed]).toBe('true');
      }),
      RUNS,
    );
  });
});
