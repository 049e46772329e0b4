import { describe, expect, it } from 'vitest';
import {
  cycleRows,
  cyclesPerMonth,
  cycleTransitions,
  expressChildrenUsd,
  fanOutDefinition,
  minimumCalls,
} from '../../bench/fleet.js';
import { type FleetSpec, simulateCycle } from '../../bench/fleet/simulate.js';

// The fleet bench's parts on a tiny fleet: the counts it reports and that each row can go red.
const tiny: FleetSpec = {
  accounts: 2,
  regions: ['eu-west-1', 'eu-central-1'],
  databases: 20,
  maxConcurrency: 2,
};
/** Each child of a cycle on the tiny fleet, in order, ok: two accounts, two regions each. */
const TINY_OK = [
  ['100000000000', 'eu-west-1', true],
  ['100000000000', 'eu-central-1', true],
  ['100000000001', 'eu-west-1', true],
  ['100000000001', 'eu-central-1', true],
];

describe('the fleet bench', () => {
  it("counts a cycle's transitions: each state once, each child its start plus its own states", () => {
    // Prepare: the fan-out's shape (a Pass, the Distributed Map of one invoke, the summary)
    const def = {
      StartAt: 'Targets',
      States: {
        Targets: { Type: 'Pass', Next: 'EachTarget' },
        EachTarget: {
          Type: 'Map',
          Next: 'Summarise',
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED' },
            StartAt: 'RunTarget',
            States: { RunTarget: { Type: 'Task', End: true } },
          },
        },
        Summarise: { Type: 'Task', End: true },
      },
    };
    // Act / Assert
    expect(cycleTransitions(def, 300)).toBe(3 + 300 * 2);
    expect(fanOutDefinition({ Resources: {} }, 'backup')).toBeUndefined();
  });

  it('counts EXPRESS children as their starts only, and prices their requests and 100 ms-rounded duration in 64 MB', () => {
    // Prepare
    const def = {
      StartAt: 'EachTarget',
      States: {
        EachTarget: {
          Type: 'Map',
          End: true,
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
            StartAt: 'RunTarget',
            States: { RunTarget: { Type: 'Task', Next: 'Then' }, Then: { Type: 'Pass', End: true } },
          },
        },
      },
    };
    // Act
    const usd = expressChildrenUsd(def, [1_001, 950], 500);
    // Assert: 1 + 300 starts; 1.1 s + 1.0 s at 64 MB; $1 per million requests, $0.06 per GB-hour
    expect(cycleTransitions(def, 300)).toBe(1 + 300);
    expect(usd.gb).toBe(0.0625);
    expect(usd.gbSeconds).toBeCloseTo(2.1 * 0.0625, 10);
    expect(usd.usd).toBeCloseTo(2 / 1e6 + (2.1 * 0.0625 * 0.06) / 3600, 12);
  });

  it('a cycle on the fake fleet: every child ok, the single-account minimum of calls, one AssumeRole per role target', async () => {
    // Act
    const r = await simulateCycle(tiny, 'retention');
    const rows = cycleRows(r, tiny);
    // Assert
    expect(r.children.map((c) => [c.account, c.region, c.ok])).toEqual(TINY_OK);
    expect(r.children.map((c) => c.byOp.DeleteDBSnapshot ?? 0)).toEqual([18, 18, 18, 18]);
    expect(r.children[0]!.calls).toBe(minimumCalls('retention', tiny.databases) + 1); // the budget is read, then written
    expect(r.assumeRoleCalls).toBe(2);
    expect(rows.map((x) => x.ok)).toEqual([true, true, true, true]);
  });

  it.each([
    ['serial', 0],
    ['no-session-cache', 2],
  ] as const)('the fault %s turns its row red', async (fault, row) => {
    const r = await simulateCycle({ ...tiny, accounts: 3, fault }, 'backup');
    expect(cycleRows(r, { ...tiny, accounts: 3 })[row]!.ok).toBe(false);
  });

  it('a scale-in check on the fake fleet: each target steps back its due instances at the single-account minimum', async () => {
    // Act
    const r = await simulateCycle(tiny, 'scaling');
    const rows = cycleRows(r, tiny);
    // Assert: two instances step back in each account-region, with the spoke scaling role outside the hub's
    expect(r.children.map((c) => [c.account, c.region, c.ok])).toEqual(TINY_OK);
    expect(r.children.map((c) => c.byOp.ModifyDBInstance)).toEqual([2, 2, 2, 2]);
    // Each target's check confirmed its due alarms with CloudWatch in one call.
    expect(r.children.map((c) => c.byOp.DescribeAlarms)).toEqual([1, 1, 1, 1]);
    // 18 alarm states, one DescribeAlarms, 4 due (a describe and one memory read each), 2 steps (6 calls each)
    expect(minimumCalls('scaling', tiny.databases)).toBe(18 + 1 + 4 * 2 + 2 * 6);
    expect(r.children.map((c) => c.calls)).toEqual(r.children.map(() => minimumCalls('scaling', 20)));
    expect(r.assumeRoleCalls).toBe(2);
    expect(rows.map((x) => x.ok)).toEqual([true, true, true, true]);
  });

  it.each([
    ['serial', 0],
    ['twice', 1],
  ] as const)('the scale-in fault %s turns its row red', async (fault, row) => {
    const r = await simulateCycle({ ...tiny, accounts: 3, fault }, 'scaling');
    expect(cycleRows(r, { ...tiny, accounts: 3 })[row]!.ok).toBe(false);
  });

  it('a scale-in check at rest sends no per-target series; counting every metric above zero turns the row red', async () => {
    // Act
    const r = await simulateCycle({ ...tiny, rest: true }, 'scaling');
    const fault = await simulateCycle({ ...tiny, rest: true, fault: 'every-metric-per-target' }, 'scaling');
    const row = cycleRows(r, tiny, 730, r.restNamesPerChild)[3]!;
    // Assert: the check that acts sends ScalingActions per target; at rest nothing (ScalingSkipped is
    // fleet-wide only), and the fault counts the resting skips per target.
    expect(r.metricNamesPerChild).toEqual([1, 1, 1, 1]);
    expect(r.restNamesPerChild).toEqual([0, 0, 0, 0]);
    expect(row.ok).toBe(true);
    expect(fault.restNamesPerChild).toEqual([1, 1, 1, 1]);
    expect(cycleRows(fault, tiny, 730, fault.restNamesPerChild)[3]!.ok).toBe(false);
  });

  it('counts the cycles a month of the scale-in schedule, and a cron as daily', () => {
    expect(cyclesPerMonth('rate(15 minutes)')).toBe(2920);
    expect(cyclesPerMonth('rate(1 hour)')).toBe(730);
    expect(cyclesPerMonth('cron(0 3 * * ? *)')).toBe(30);
  });
});
