import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../../shared/drill/checks.js';
import {
  type DrillTimes,
  drillMetrics,
  formatDuration,
  renderDrillReport,
} from '../../../shared/drill/rto-rpo.js';
import type { VerificationReport } from '../../../shared/drill/verification.js';
import { drillCost } from '../../../shared/drill/cost.js';
import { newWarmup, type WarmupProgress } from '../../../shared/drill/warmup-progress.js';
import { EventShapeError } from '../../../shared/errors.js';

const T0 = Date.parse('2025-06-01T05:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

const drill = (over: Partial<DrillTimes> = {}): DrillTimes => ({
  startedAt: at(0),
  restoreStartedAt: at(5),
  restoredAt: at(605),
  verifyStartedAt: at(610),
  verifiedAt: at(640),
  referenceTime: at(-7_200),
  dataRpoSeconds: 42,
  checksPassed: true,
  targets: { rtoSeconds: 3_600, rpoSeconds: 300 },
  ...over,
});

describe('drillMetrics', () => {
  it('measures RTO from drill start to verified, and restore and verify separately', () => {
    // Act
    const m = drillMetrics(drill());
    // Assert
    expect(m).toMatchObject({
      rtoSeconds: 640,
      restoreSeconds: 600,
      verifySeconds: 30,
      rpoSeconds: 42,
      rtoMet: true,
      rpoMet: true,
      passed: true,
      reasons: [],
      referenceTime: '2025-06-01T03:00:00.000Z',
    });
  });

  it.each([
    { case: 'all met', over: {}, passed: true, rtoMet: true, rpoMet: true, reasons: [] },
    {
      case: 'RTO exactly at the target',
      over: { verifiedAt: at(3_600) },
      passed: true,
      rtoMet: true,
      rpoMet: true,
      reasons: [],
    },
    {
      case: 'RTO one second over',
      over: { verifiedAt: at(3_601) },
      passed: false,
      rtoMet: false,
      rpoMet: true,
      reasons: ['RTO 3601 s exceeds the 3600 s target'],
    },
    {
      case: 'RPO exactly at the target',
      over: { dataRpoSeconds: 300 },
      passed: true,
      rtoMet: true,
      rpoMet: true,
      reasons: [],
    },
    {
      case: 'RPO over',
      over: { dataRpoSeconds: 300.5 },
      passed: false,
      rtoMet: true,
      rpoMet: false,
      reasons: ['RPO 300.5 s exceeds the 300 s target'],
    },
    {
      case: 'RPO not measured',
      over: { dataRpoSeconds: undefined },
      passed: false,
      rtoMet: true,
      rpoMet: false,
      reasons: ['RPO not measured: no table with a freshness column has rows'],
    },
    {
      case: 'a check failed',
      over: { checksPassed: false },
      passed: false,
      rtoMet: true,
      rpoMet: true,
      reasons: ['verification checks failed'],
    },
    {
      case: 'everything failed',
      over: { checksPassed: false, verifiedAt: at(4_000), dataRpoSeconds: 900 },
      passed: false,
      rtoMet: false,
      rpoMet: false,
      reasons: [
        'verification checks failed',
        'RTO 4000 s exceeds the 3600 s target',
        'RPO 900 s exceeds the 300 s target',
      ],
    },
  ])('$case: passed=$passed', ({ over, passed, rtoMet, rpoMet, reasons }) => {
    // Act
    const m = drillMetrics(drill(over));
    // Assert
    expect({ passed: m.passed, rtoMet: m.rtoMet, rpoMet: m.rpoMet, reasons: m.reasons }).toEqual({
      passed,
      rtoMet,
      rpoMet,
      reasons,
    });
  });

  it.each([
    { case: 'Date objects', v: new Date(T0 + 60_000) },
    { case: 'epoch milliseconds', v: T0 + 60_000 },
    { case: 'ISO strings', v: at(60) },
  ])('accepts $case', ({ v }) => {
    // Act
    const m = drillMetrics(
      drill({ restoreStartedAt: undefined, restoredAt: v, verifyStartedAt: v, verifiedAt: v }),
    );
    // Assert
    expect(m).toMatchObject({ rtoSeconds: 60, restoreSeconds: 60, verifySeconds: 0 });
  });

  it('measures the restore from drill start when no restore start is given', () => {
    // Act
    const m = drillMetrics(drill({ restoreStartedAt: undefined }));
    // Assert
    expect(m.restoreSeconds).toBe(605);
  });

  it.each([
    {
      case: 'verified before restored',
      over: { verifyStartedAt: at(600), verifiedAt: at(500) },
      issue: 'verifiedAt: before verifyStartedAt',
    },
    {
      case: 'restored before started',
      over: { restoreStartedAt: at(0), restoredAt: at(-1) },
      issue: 'restoredAt: before restoreStartedAt',
    },
    { case: 'not a time', over: { restoredAt: 'yesterday' }, issue: 'restoredAt: not a time: yesterday' },
  ])('rejects $case', ({ over, issue }) => {
    // Act
    const act = () => drillMetrics(drill(over));
    // Assert
    expect(act).toThrow(EventShapeError);
    expect(act).toThrow(issue);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [42.25, '42.3 s'],
    [119.9, '119.9 s'],
    [125, '2 min 05 s'],
    [3_600, '1 h 00 min 00 s'],
    [3_725.4, '1 h 02 min 05 s'],
  ])('%s s reads %s', (s, text) => {
    // Act / Assert
    expect(formatDuration(s)).toBe(text);
  });
});

describe('renderDrillReport', () => {
  const checks: CheckResult[] = [
    {
      name: 'connect',
      kind: 'connect',
      passed: true,
      status: 'passed',
      measured: 'PostgreSQL 15.4',
      expected: 'select 1 returns 1',
      detail: 'connected',
      ms: 12,
    },
    {
      name: 'row-count public.transactions',
      kind: 'row-count',
      passed: false,
      status: 'failed',
      measured: 4_500,
      expected: '>= 4750 (baseline 5000 - 5%)',
      detail: '4500 rows is below 4750',
      ms: 30.4,
    },
  ];
  const verification: VerificationReport = {
    passed: false,
    outcome: 'failed',
    budgetMs: 600_000,
    host: 'drill-1.abc.eu-west-1.rds.amazonaws.com',
    port: 5432,
    database: 'app',
    user: 'drill',
    referenceTime: at(-7_200),
    checks,
    dataRpoSeconds: 42,
    newestRowTime: at(-7_242),
    verifyMs: 30_000,
    tables: {},
  };

  it('shows the snapshot, times, every check with measured vs expected, and the verdict with reasons', () => {
    // Prepare
    const metrics = drillMetrics(drill({ checksPassed: false }));
    // Act
    const text = renderDrillReport({
      database: 'orders-db',
      snapshotId: 'steward-orders-db-202506010300-daily',
      restoredInstance: 'steward-drill-abc',
      metrics,
      verification,
    });
    // Assert
    const lines = text.split('\n');
    expect(lines[0]).toBe('DR drill FAILED: orders-db');
    expect(text).toContain(
      'Snapshot:  steward-orders-db-202506010300-daily (reference time 2025-06-01T03:00:00.000Z)',
    );
    expect(text).toContain('Instance:  steward-drill-abc');
    expect(text).toContain('Restored:  2025-06-01T05:10:05.000Z (restore 10 min 00 s)');
    expect(text).toContain('✓ RTO to first verified query 10 min 40 s (target 1 h 00 min 00 s)');
    expect(text).toContain('✓ RPO 42 s (target 5 min 00 s), newest row 2025-06-01T02:59:18.000Z');
    expect(text).toContain('Checks: 1/2 passed');
    expect(text).toContain('  ✓ connect: PostgreSQL 15.4 (expected select 1 returns 1); connected [12 ms]');
    expect(text).toContain(
      '  ✗ row-count public.transactions: 4500 (expected >= 4750 (baseline 5000 - 5%)); 4500 rows is below 4750 [30 ms]',
    );
    expect(lines.at(-2)).toBe('Verdict: FAILED: verification checks failed');
    expect(lines.at(-1)).toBe('Failed checks: row-count public.transactions');
  });

  it('says PASSED and marks an unmeasured RPO', () => {
    // Prepare
    const metrics = drillMetrics(drill({ dataRpoSeconds: undefined }));
    // Act
    const text = renderDrillReport({
      database: 'orders-db',
      snapshotId: 's',
      metrics: { ...metrics, passed: true, outcome: 'passed', reasons: [] },
      verification: {
        ...verification,
        checks: [checks[0]!],
        dataRpoSeconds: undefined,
        newestRowTime: undefined,
      },
    });
    // Assert
    expect(text).toContain('✗ RPO not measured (target 5 min 00 s)');
    expect(text.split('\n').at(-1)).toBe('Verdict: PASSED');
  });
});

describe('inconclusive drills and the second RTO figure', () => {
  const warmup = (over: Partial<WarmupProgress> = {}): WarmupProgress => ({
    ...newWarmup(new Date(at(640)), 7200),
    pending: false,
    method: 'tid-range',
    relations: 4,
    blocksTotal: 1_000_000,
    blocksRead: 1_000_000,
    chunks: 3,
    readMs: 1_500_000,
    complete: true,
    finishedAt: at(2_140),
    ...over,
  });

  it('is inconclusive, not failed, when checks did not finish, and says which', () => {
    // Act
    const m = drillMetrics(
      drill({
        checksPassed: false,
        checksOutcome: 'inconclusive',
        unfinishedChecks: ['assertion balances', 'freshness public.events'],
        freshnessUnfinished: true,
        dataRpoSeconds: undefined,
      }),
    );
    // Assert
    expect(m).toMatchObject({
      outcome: 'inconclusive',
      passed: false,
      reasons: [],
      gaps: [
        'not finished within their time bounds: assertion balances, freshness public.events',
        'RPO not measured: freshness not finished in time',
      ],
    });
  });

  it('measures time-to-warm from the drill start, apart from the first verified query', () => {
    // Act
    const m = drillMetrics(drill({ warmup: warmup(), warmTargetSeconds: 3600 }));
    // Assert
    expect(m.rtoSeconds).toBe(640);
    expect(m.warm).toMatchObject({
      complete: true,
      rtoSeconds: 2140,
      seconds: 1500,
      percent: 100,
      readBytes: 8_192_000_000,
      met: true,
      method: 'tid-range',
    });
    expect(m.outcome).toBe('passed');
  });

  it.each([
    ['no target: a note, not a verdict', undefined, 'passed', undefined],
    ['a target not yet missed: inconclusive', 7200, 'inconclusive', undefined],
    ['a target already missed: failed', 1000, 'failed', false],
  ] as const)('an incomplete warm-up with %s', (_why, target, outcome, met) => {
    // Act: stopped by its cost ceiling at 40 %, 1 500 s after verification (2 140 s after the start).
    const w = warmup({
      complete: false,
      blocksRead: 400_000,
      stopped: { reason: 'cost-ceiling', detail: 'over the $5 ceiling', at: at(2_140) },
    });
    const m = drillMetrics(drill({ warmup: w, ...(target ? { warmTargetSeconds: target } : {}) }));
    // Assert
    expect(m.outcome).toBe(outcome);
    expect(m.warm!.met).toBe(met);
    expect(m.warm!.rtoSeconds).toBeUndefined();
    expect(m.warm!.stopped).toBe('stopped (cost-ceiling: over the $5 ceiling)');
  });

  it('renders an inconclusive verdict, both RTO figures, the shape, the cost and unfinished checks', () => {
    // Prepare
    const m = drillMetrics(
      drill({
        checksPassed: false,
        checksOutcome: 'inconclusive',
        unfinishedChecks: ['assertion slow'],
        warmup: warmup(),
      }),
    );
    const checks: CheckResult[] = [
      {
        name: 'row-count public.events',
        kind: 'row-count',
        passed: true,
        status: 'passed',
        method: 'estimate',
        measured: 5_000_000,
        expected: '>= 1 (minRows)',
        detail:
          '~5000000 rows (estimate: planner statistics after ANALYZE; heap 600 GB > exactCountMaxBytes 2 GB)',
        ms: 812,
        budgetMs: 120_000,
      },
      {
        name: 'assertion slow',
        kind: 'assertion',
        passed: false,
        status: 'unfinished',
        measured: null,
        expected: null,
        detail: 'not finished in 2 min 00 s',
        ms: 120_004,
        budgetMs: 120_000,
      },
    ];
    // Act
    const text = renderDrillReport({
      database: 'events-db',
      snapshotId: 's',
      metrics: m,
      verification: {
        passed: false,
        outcome: 'inconclusive',
        budgetMs: 600_000,
        host: 'h',
        port: 5432,
        database: 'events',
        user: 'u',
        referenceTime: at(-7_200),
        checks,
        dataRpoSeconds: 42,
        verifyMs: 121_000,
        tables: {},
      },
      shape: {
        kind: 'rds-instance',
        instanceClass: 'db.r6g.large',
        instanceClassFrom: 'config',
        sourceInstanceClass: 'db.r6g.4xlarge',
        instances: 1,
        storageType: 'gp3',
        allocatedGb: 800,
      },
      cost: drillCost(
        { kind: 'rds-instance', instanceClass: 'db.r6g.large', instanceClassFrom: 'config', instances: 1 },
        { requestedAt: at(5), availableAt: at(605), until: at(2_200) },
      ),
    });
    // Assert
    const lines = text.split('\n');
    expect(lines[0]).toBe('DR drill INCONCLUSIVE: events-db');
    expect(text).toContain('Shape:     db.r6g.large (configured; source db.r6g.4xlarge), gp3 800 GB');
    expect(text).toContain('✓ RTO to first verified query 10 min 40 s (target 1 h 00 min 00 s)');
    expect(text).toContain(
      '✓ RTO to warm 35 min 40 s (no target; warm-up 25 min 00 s: 8.2 GB of 8.2 GB in 4 relations, 3 chunks, tid-range)',
    );
    expect(text).toMatch(/^Cost: {6}0\.4431 instance-hours, ~\$0\.10 estimated \(\$0\.225\/h instance/m);
    expect(text).toContain('Checks: 1/2 passed, 1 not finished; 1 row count estimated');
    expect(text).toContain('  ⧗ assertion slow: -; not finished in 2 min 00 s [120004 ms of 2 min 00 s]');
    expect(lines.at(-1)).toBe(
      'Verdict: INCONCLUSIVE (nothing failed, evidence missing): not finished within their time bounds: assertion slow',
    );
  });
});
