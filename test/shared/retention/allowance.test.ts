import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RetentionPolicy } from '../../../shared/config/schema.js';
import type { ResourceKind, Snapshot } from '../../../shared/model.js';
import {
  allowanceFor,
  type DeletionLimits,
  planRetention,
  type PolicyResolver,
} from '../../../shared/retention/gfs.js';
import { Tag } from '../../../shared/tags.js';

// Days simulated one retention run at a time: backups create snapshots, retention plans with the day's
// allowance, the plan's deletions are applied. Each simulated history is ~100 plans, so fewer runs than
// the single-plan properties in gfs.test.ts.
const RUNS = { numRuns: Math.max(20, Math.floor((Number(process.env.STEWARD_GFS_RUNS) || 10_000) / 250)) };

const DAY = 86_400_000;
const START = Date.parse('2026-01-05T00:00:00Z');
const REGION = 'eu-west-1';
const KINDS: ResourceKind[] = ['rds-instance', 'aurora-cluster', 'elasticache'];

/** Resolver: `steward:policy=daily` → the given retention policy. */
const resolverFor =
  (policy: () => RetentionPolicy): PolicyResolver =>
  (s) =>
    s.tags[Tag.policy] === 'daily' ? { name: 'standard', policy: policy() } : undefined;

const snapshot = (source: string, kind: ResourceKind, at: number, suffix = 'sched'): Snapshot => {
  const id = `steward-${source}-${new Date(at).toISOString().replace(/\D/g, '').slice(0, 12)}-${suffix}`;
  return {
    kind,
    id,
    arn: `arn:aws:rds:${REGION}:111122223333:snapshot:${id}`,
    region: REGION,
    sourceId: source,
    createdAt: new Date(at).toISOString(),
    status: 'available',
    type: 'manual',
    tags: { [Tag.managed]: 'true', [Tag.policy]: 'daily', [Tag.source]: source },
  };
};

interface Estate {
  /** Per database: its kind and how many backups it takes a day (1 = the nightly one; more = e.g. 6-hourly). */
  databases: { kind: ResourceKind; perDay: number }[];
  policy: RetentionPolicy;
  days: number;
}

const policyArb = fc.record({
  daily: fc.integer({ min: 1, max: 10 }),
  weekly: fc.integer({ min: 0, max: 4 }),
  monthly: fc.integer({ min: 0, max: 3 }),
  yearly: fc.integer({ min: 0, max: 1 }),
  keepAtLeast: fc.integer({ min: 1, max: 5 }),
});

const estateArb: fc.Arbitrary<Estate> = fc.record({
  databases: fc.array(
    fc.record({
      kind: fc.constantFrom(...KINDS),
      perDay: fc.oneof(
        { arbitrary: fc.constant(1), weight: 4 },
        { arbitrary: fc.integer({ min: 2, max: 4 }), weight: 1 },
      ),
    }),
    { minLength: 1, maxLength: 6 },
  ),
  policy: policyArb,
  days: fc.integer({ min: 30, max: 80 }),
});

/** The backups one database takes on day `d`: the first at 03:00, the rest spread over the day. */
const backupsOn = (db: number, perDay: number, kind: ResourceKind, d: number): Snapshot[] =>
  Array.from({ length: perDay }, (_, i) =>
    snapshot(`db-${db}`, kind, START + d * DAY + 3 * 3_600_000 + i * Math.floor((20 * 3_600_000) / perDay)),
  );

interface Day {
  day: number;
  due: number;
  expired: number;
  allowed: number;
  deleted: number;
  deferred: number;
  capHit?: string;
}

/**
 * Run the estate for its days: backups, then retention at 04:30 UTC (the default schedule) unless the day
 * is in `missed`. `policyOn(d)` may change the policy mid-way (a mistake). `lag(db, d)` delays when database
 * `db`'s backups of day `d` become available (a slow snapshot, a DR copy that arrives hours after its data):
 * until then a run lists them as `creating`. Returns each run's figures and the inventory after the last one.
 */
const simulate = (
  estate: Estate,
  limits: DeletionLimits,
  opts: {
    missed?: ReadonlySet<number>;
    policyOn?: (d: number) => RetentionPolicy;
    lag?: (db: number, d: number) => number;
  } = {},
) => {
  const availableAt = new Map<Snapshot, number>();
  let inventory: Snapshot[] = [];
  let day = 0;
  const policyOn = opts.policyOn ?? (() => estate.policy);
  const resolver = resolverFor(() => policyOn(day));
  const runs: Day[] = [];
  for (; day < estate.days; day++) {
    estate.databases.forEach((db, i) => {
      // Yesterday's later backups (e.g. 6-hourly) land after yesterday's run: add them by creation time.
      const taken = backupsOn(i, db.perDay, db.kind, day);
      for (const s of taken) availableAt.set(s, Date.parse(s.createdAt!) + (opts.lag?.(i, day) ?? 0));
      inventory.push(...taken);
    });
    const now = new Date(START + day * DAY + 4.5 * 3_600_000);
    const visible = inventory
      .filter((s) => Date.parse(s.createdAt!) <= now.getTime())
      .map((s) => (availableAt.get(s)! <= now.getTime() ? s : { ...s, status: 'creating' }));
    if (opts.missed?.has(day)) continue;
    const plan = planRetention(visible, resolver, now, { limits });
    const gone = new Set(plan.delete.map((s) => s.id));
    inventory = inventory.filter((s) => !gone.has(s.id));
    runs.push({
      day,
      due: plan.allowance.due,
      expired: plan.allowance.expired,
      allowed: plan.allowance.allowed,
      deleted: plan.delete.length,
      deferred: plan.deferred.length,
      ...(plan.allowance.capHit ? { capHit: plan.allowance.capHit } : {}),
    });
  }
  const end = new Date(START + (estate.days - 1) * DAY + 4.5 * 3_600_000);
  const atPolicy = planRetention(
    inventory.filter((s) => Date.parse(s.createdAt!) <= end.getTime()),
    resolver,
    end,
    {},
  );
  return { runs, inventory, leftExpired: atPolicy.allowance.expired };
};

describe('allowanceFor', () => {
  it.each([
    [0, { floor: 50, dueMultiple: 2, safetyCap: 2000 }, 50],
    [30, { floor: 50, dueMultiple: 2, safetyCap: 2000 }, 60],
    [1000, { floor: 50, dueMultiple: 2, safetyCap: 2000 }, 2000],
    [1500, { floor: 50, dueMultiple: 2, safetyCap: 2000 }, 2000],
    [7, { floor: 0, dueMultiple: 1.5, safetyCap: 100 }, 11],
  ])('%i due with %o allows %i', (due, limits, allowed) => {
    expect(allowanceFor(due, limits)).toBe(allowed);
  });
});

describe(`retention over simulated days (${RUNS.numRuns} random estates each)`, () => {
  it('keeps up in steady state: every day deletes all that is due, with no floor and a multiple of 1', () => {
    fc.assert(
      fc.property(estateArb, (estate) => {
        // Prepare: the tightest limits there are; only "what became due today" is allowed.
        const limits = { floor: 0, dueMultiple: 1, safetyCap: 100_000 };

        // Act
        const { runs, leftExpired } = simulate(estate, limits);

        // Assert: nothing ever deferred, and at the end the estate is exactly at policy.
        expect(runs.filter((r) => r.deferred > 0)).toEqual([]);
        expect(leftExpired).toBe(0);
      }),
      RUNS,
    );
  });

  it('keeps up when snapshots become available hours after they were taken, with no floor and a multiple of 1', () => {
    fc.assert(
      fc.property(estateArb, fc.integer({ min: 1, max: 2 ** 30 }), (estate, seed) => {
        // Prepare: the tightest limits; each database's backups of a day become available 0-20 h after
        // they were taken, so a run often lists the newest as still creating, and a day's expiry is only
        // seen by the next run.
        const limits = { floor: 0, dueMultiple: 1, safetyCap: 100_000 };
        const lag = (db: number, d: number) =>
          (Math.imul(seed ^ (db * 7919 + d * 104_729), 2_654_435_761) >>> 0) % (20 * 3_600_000);

        // Act
        const { runs } = simulate(estate, limits, { lag });

        // Assert: nothing ever deferred.
        expect(runs.filter((r) => r.deferred > 0)).toEqual([]);
      }),
      RUNS,
    );
  });

  it('catches up after missed runs (a failed day, an outage) and is back at policy within days', () => {
    fc.assert(
      fc.property(
        estateArb,
        fc.uniqueArray(fc.integer({ min: 5, max: 25 }), { maxLength: 4 }),
        fc.integer({ min: 1, max: 5 }),
        (estate, missedDays, floor) => {
          // Prepare: the shipped multiple; a quiet month after the last missed run.
          const limits = { floor, dueMultiple: 2, safetyCap: 100_000 };
          const sim = { ...estate, days: Math.max(estate.days, 60) };

          // Act
          const { runs, leftExpired } = simulate(sim, limits, { missed: new Set(missedDays) });

          // Assert: deletions never exceed the allowance, and the backlog is gone by the end.
          expect(runs.filter((r) => r.deleted > r.allowed)).toEqual([]);
          expect(runs.slice(-5).filter((r) => r.deferred > 0)).toEqual([]);
          expect(leftExpired).toBe(0);
        },
      ),
      RUNS,
    );
  });

  it('bounds a mistake (the policy changed to keep 1 day): at most the safety cap a day, oldest first, and it says so', () => {
    fc.assert(
      fc.property(
        estateArb,
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 20 }),
        (estate, floor, safetyCap) => {
          // Prepare: steady state for `days`, then a week under a one-day policy.
          const oneDay: RetentionPolicy = { daily: 1, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 };
          const changed = estate.days;
          const limits = { floor: Math.min(floor, safetyCap), dueMultiple: 2, safetyCap };
          const sim = { ...estate, days: estate.days + 7 };

          // Act
          const { runs } = simulate(sim, limits, {
            policyOn: (d) => (d >= changed ? oneDay : estate.policy),
          });

          // Assert: no day ever deletes more than the safety cap; a day that deferred says which cap held it.
          const after = runs.filter((r) => r.day >= changed);
          expect(runs.filter((r) => r.deleted > safetyCap)).toEqual([]);
          expect(runs.filter((r) => r.deferred > 0 && !r.capHit)).toEqual([]);
          // The cap is the safety cap whenever the day's relative allowance reaches it.
          expect(
            after.filter(
              (r) =>
                r.deferred > 0 && (r.capHit === 'safety') !== Math.max(limits.floor, 2 * r.due) >= safetyCap,
            ),
          ).toEqual([]);
          // Oldest first and never beyond the allowance: the mistake drains at most `allowed` a day.
          expect(after.filter((r) => r.deleted !== Math.min(r.expired, r.allowed))).toEqual([]);
        },
      ),
      RUNS,
    );
  });
});

describe('a mistake on a large estate', () => {
  it('deletes the safety cap, oldest first, and flags the safety cap, not a normal backlog', () => {
    // Prepare: 20 databases with 30 days of nightly backups under a 30-day policy, then "keep 1 day".
    const estate: Estate = {
      databases: Array.from({ length: 20 }, () => ({ kind: 'rds-instance' as const, perDay: 1 })),
      policy: { daily: 30, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 },
      days: 40,
    };
    const oneDay: RetentionPolicy = { daily: 1, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 };
    const limits = { floor: 10, dueMultiple: 2, safetyCap: 25 };

    // Act
    const { runs } = simulate({ ...estate, days: 41 }, limits, {
      policyOn: (d) => (d >= 40 ? oneDay : estate.policy),
    });

    // Assert: the day before, normal work (20 due, 20 deleted); the mistake day expires all but the newest
    // of 31 snapshots of each database (2 each became due in the last 48 h under the new policy), and
    // deletes 25 of them.
    const [before, mistake] = runs.slice(-2);
    expect(before).toMatchObject({ due: 20, expired: 20, deleted: 20, deferred: 0 });
    expect(mistake).toMatchObject({ due: 40, allowed: 25, deleted: 25, capHit: 'safety' });
    expect(mistake!.expired).toBe(30 * 20);
  });
});

describe('what became due', () => {
  it('dates a DR copy by when it arrived: a backlog of copies that arrived today is due today', () => {
    // Prepare: a DR region kept at 30 dailies; the copies of the last 5 days arrived only today at 02:00
    // (DR caught up after an outage), each dated by its data (03:00 of its day).
    const now = START + 40 * DAY + 4.5 * 3_600_000;
    const policy: RetentionPolicy = { daily: 30, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 1 };
    const copies = Array.from({ length: 35 }, (_, k) => {
      const data = START + (5 + k) * DAY + 3 * 3_600_000;
      const late = k >= 30;
      return {
        ...snapshot('db-0', 'rds-instance', data),
        region: 'us-west-2',
        copiedAt: new Date(late ? START + 40 * DAY + 2 * 3_600_000 : data + 2 * 3_600_000).toISOString(),
      };
    });

    // Act
    const plan = planRetention(
      copies,
      resolverFor(() => policy),
      new Date(now),
      {
        limits: { floor: 0, dueMultiple: 1, safetyCap: 1000 },
      },
    );

    // Assert: the 5 oldest fell out of the 30 dailies with today's arrivals: all 5 are due and deleted.
    expect(plan.allowance).toMatchObject({ due: 5, expired: 5, allowed: 5 });
    expect(plan.delete.map((s) => s.createdAt)).toEqual(copies.slice(0, 5).map((s) => s.createdAt));
  });
});
