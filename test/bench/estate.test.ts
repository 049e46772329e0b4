import { describe, expect, it } from 'vitest';
import { estateRows } from '../../bench/estate.js';
import { policyKeeps } from '../../bench/estate/expected.js';
import { simulateEstate } from '../../bench/estate/simulate.js';

const DAY = 86_400_000;
const policy = { daily: 7, weekly: 4, monthly: 3, yearly: 1, keepAtLeast: 3 };

describe('the estate bench', () => {
  it.each([
    // One snapshot a day for 10 days: the 7 newest days, the newest of each of 2 ISO weeks, 1 month, 1 year.
    [10, 8],
    // For 120 days to Tuesday 1 September: 7 days (26 Aug–1 Sep), 4 weeks (adds 23 and 16 Aug), 3 months
    // (adds 31 Jul), 1 year (1 Sep again).
    [120, 10],
  ])('keeps, from the policy alone, of %i daily snapshots %i', (days, kept) => {
    // Prepare: 2026-09-01 is a Tuesday.
    const taken = Array.from({ length: days }, (_, d) => Date.UTC(2026, 8, 1) - d * DAY + 3 * 3_600_000);

    // Act
    const keeps = policyKeeps(taken, policy);

    // Assert
    expect(keeps.size).toBe(kept);
    expect(keeps.has(Math.max(...taken))).toBe(true);
  });

  it('tops up to keepAtLeast with the newest others', () => {
    const taken = [1, 2, 3].map((d) => Date.UTC(2026, 8, d));
    expect(policyKeeps(taken, { daily: 1, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 2 })).toEqual(
      new Set(taken.slice(1)),
    );
  });

  it('drives the real backup and retention functions over the fake AWS, and its rows can fail', async () => {
    // Prepare: a small estate, one day; then the same with a retention cap of one deletion a run.
    const spec = {
      instances: 6,
      clusters: 1,
      caches: 2,
      days: 1,
      historyDays: 40,
      seed: 3,
      cpuBudgetSeconds: 120,
      timeouts: { backup: 300, retention: 600 },
    };

    // Act
    const good = await simulateEstate(spec);
    const capped = await simulateEstate({ ...spec, retentionCap: 1, start: Date.UTC(2026, 9, 1) });

    // Assert
    expect(good.stoppedEarly).toBeUndefined();
    expect(good.invocations.filter((i) => i.fn === 'retention')).toHaveLength(1);
    expect(good.lagHours).toHaveLength(7);
    const rows = estateRows(good, 'small');
    expect(rows.map((r) => [r.metric.split(' ')[0], r.ok])).toEqual([
      ['DR', true],
      ['retention', true],
      // The hourly reconcile reads only the copies in flight; both regions are listed once a day.
      ['RDS,', true],
      ['backup:', true],
      ['retention:', true],
    ]);
    expect(capped.retention.atPolicy).toBeLessThan(capped.retention.checks);
    expect(estateRows(capped, 'capped')[1]!.ok).toBe(false);
    // One day over twice its minimum turns the calls row red (e.g. an hourly run listing both regions again).
    const busy = { ...good, callsPerDay: good.callsPerDay.map((d) => ({ ...d, calls: 2 * d.minimum + 1 })) };
    expect(estateRows(busy, 'busy')[2]!.ok).toBe(false);
  });
});
