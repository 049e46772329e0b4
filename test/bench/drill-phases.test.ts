import { describe, expect, it } from 'vitest';
import {
  checksWithinBound,
  drillPairOf,
  drillPhases,
  oneCheckOverBound,
  overheadRows,
  pausedBeforeVerify,
  type StateEvent,
  warmedAfterVerify,
} from '../../bench/drill.js';

// A sandbox execution's state log (`steward sandbox --json`, 5 000 rows), times relative to its start.
const T0 = Date.parse('2026-11-30T18:32:35.771Z');
const log: [string, StateEvent['type'], number][] = [
  ['Start', 'entered', 0],
  ['Start', 'succeeded', 6],
  ['SelectSnapshot', 'entered', 6],
  ['SelectSnapshot', 'succeeded', 8],
  ['Restore', 'entered', 8],
  ['Restore', 'succeeded', 26],
  ['WaitForRestore', 'entered', 26],
  ['WaitForRestore', 'succeeded', 903],
  ['Verify', 'entered', 903],
  ['Verify', 'succeeded', 1002],
  ['Cleanup', 'entered', 1090],
];
const events = log.map(([state, type, ms]) => ({ state, type, at: T0 + ms }));
const target = (availableMs: number) => ({
  requestedAt: new Date(T0 + 9).toISOString(),
  availableAt: new Date(T0 + availableMs).toISOString(),
});

describe('drill phases from state timestamps', () => {
  it('splits RTO into the copy’s restore, the Verify task and the rest', () => {
    expect(drillPhases(events, target(903))).toEqual({
      rto: 1002,
      restore: 894,
      detection: 0,
      verify: 99,
      overhead: 9,
    });
  });

  it('books a late detection of the available copy as overhead, not as restore time', () => {
    // Prepare: the copy was available 400 ms before the wait ended (an event that came late, a poll).
    const p = drillPhases(events, target(503));

    // Assert
    expect(p.restore).toBe(494);
    expect(p.detection).toBe(400);
    expect(p.overhead).toBe(409);
  });

  it('sees a pause before Verify (the self-test the bench row must fail on)', () => {
    const p = drillPhases(pausedBeforeVerify(events, 100), target(903));
    expect(p.rto).toBe(1102);
    expect(p.overhead / p.rto).toBeGreaterThan(0.05);
  });

  it('refuses an execution that never verified', () => {
    expect(() => drillPhases(events.slice(0, 8), target(903))).toThrow(/never passed Verify/);
  });

  it('reads a Redis drill by its VerifyCache state, and sees a pause before it', () => {
    // Prepare: a Redis sandbox execution (`steward sandbox --engine redis --json`, 20 000 sessions).
    const redis = [
      ...events.slice(0, 8),
      { state: 'Engine?', type: 'entered' as const, at: T0 + 903 },
      { state: 'Engine?', type: 'succeeded' as const, at: T0 + 903 },
      { state: 'VerifyCache', type: 'entered' as const, at: T0 + 904 },
      { state: 'VerifyCache', type: 'succeeded' as const, at: T0 + 1283 },
    ];

    // Act
    const p = drillPhases(redis, target(903), 'VerifyCache');
    const paused = drillPhases(pausedBeforeVerify(redis, 128, 'VerifyCache'), target(903), 'VerifyCache');

    // Assert
    expect(p).toEqual({ rto: 1283, restore: 894, detection: 0, verify: 379, overhead: 10 });
    expect(paused.overhead / paused.rto).toBeGreaterThan(0.05);
    expect(() => drillPhases(redis, target(903))).toThrow(/never passed Verify/);
  });
});

describe('the overhead row judges the second drill of each process', () => {
  // The same execution shifted so its overhead (start → requested) is `ms` longer: a first drill's one-time costs.
  const slower = (ms: number) => ({
    events: events.map((e, i) => (i === 0 ? e : { ...e, at: e.at + ms })),
    target: {
      requestedAt: new Date(T0 + 9 + ms).toISOString(),
      availableAt: new Date(T0 + 903 + ms).toISOString(),
    },
  });
  const metrics = {
    rtoSeconds: 1,
    rtoTargetSeconds: 3600,
    restoreSeconds: 0.9,
    verifySeconds: 0.1,
    verifiedAt: '2026-11-30T18:32:36.773Z',
  };
  const pair = (firstMs: number) => ({
    ...slower(0),
    metrics,
    verification: { checks: [] },
    first: slower(firstMs),
  });

  it('reads the second drill, and shows the first beside it', () => {
    // Prepare: first drills 120 ms slower before the restore (13 % of their RTO), second drills at 9 ms.
    const [row, selfTest] = overheadRows('sandbox drill 5,000 rows', [pair(120), pair(120), pair(120)]);

    // Assert
    expect(row).toMatchObject({ value: '0.9 % (9 ms)', ok: true });
    expect(row.metric).toContain('median of 3, each the second drill of its process');
    expect(row.metric).toContain("the process's first drill: 11.5 % (129 ms)");
    // The self-test's pause of 10 % of RTO lands on the same second drills: red (its ok says it went red).
    expect(selfTest).toMatchObject({ value: '9.9 % (109 ms)', ok: true });
  });

  it('goes red when the second drill itself is slow, whatever the first', () => {
    // Prepare: a second drill 120 ms slower before the restore (steward's own code, not a one-time cost).
    const slow = { ...pair(0), ...slower(120) };

    // Act
    const [row] = overheadRows('sandbox drill 5,000 rows', [slow]);

    // Assert
    expect(row).toMatchObject({ value: '11.5 % (129 ms)', ok: false });
  });

  it('reads the sandbox output with its first drill, and refuses one without', () => {
    // Prepare: what `steward sandbox --json` prints with STEWARD_SANDBOX_FIRST_DRILL=1 (trimmed).
    const out = (firstDrill?: unknown) =>
      JSON.stringify({
        events,
        report: { metrics, verification: { checks: [] }, target: target(903) },
        ...(firstDrill ? { firstDrill } : {}),
      });

    // Act
    const p = drillPairOf(out(slower(50)), 5_000);

    // Assert
    expect(p.first).toEqual(slower(50));
    expect(p.target).toEqual(target(903));
    expect(() => drillPairOf(out(), 5_000)).toThrow(/5000 rows ran no first drill/);
  });
});

describe('drill bench rows and their self-tests', () => {
  const checks = [
    { name: 'row counts', ms: 40, budgetMs: 5_000 },
    { name: 'freshness', ms: 4_900, budgetMs: 5_000 },
    { name: 'schema', ms: 3 },
  ];

  it('counts the bounded checks that finished within their bound', () => {
    expect(checksWithinBound(checks)).toEqual({ bounded: 2, within: 2, worst: 0.98 });
  });

  it("sees one check past its bound (the bound row's self-test)", () => {
    const b = checksWithinBound(oneCheckOverBound(checks));
    expect(b.within).toBe(b.bounded - 1);
  });

  const verifiedAt = '2026-11-30T18:32:36.773Z';
  const warm = {
    startedAt: '2026-11-30T18:32:36.800Z',
    seconds: 0.4,
    complete: true,
    readBytes: 5e6,
    chunks: 1,
  };

  it('accepts a warm-up that completed after verification', () => {
    expect(warmedAfterVerify([{ verifiedAt, warm }])).toBe(true);
  });

  it.each([
    ['stopped before the end', [{ verifiedAt, warm: { ...warm, complete: false } }]],
    [
      'started before verification passed',
      [{ verifiedAt, warm: { ...warm, startedAt: '2026-11-30T18:32:36.000Z' } }],
    ],
    ['missing', [{ verifiedAt }]],
    ['no drill at all', []],
  ])('refuses a warm-up %s', (_, drills) => {
    expect(warmedAfterVerify(drills)).toBe(false);
  });
});
