import { describe, expect, it } from 'vitest';
import type { DrillReportDocument } from '../../../shared/drill/report.js';
import { drillOutcome, drillSummary } from '../../../shared/report/model.js';

const doc = (over: Partial<DrillReportDocument>): DrillReportDocument => ({
  type: 'steward-drill-report',
  version: 1,
  drillId: 'orders-db-20261102',
  database: 'orders-db',
  passed: false,
  summary: 'DR drill INCONCLUSIVE for orders-db',
  reasons: [],
  startedAt: '2026-11-02T05:00:00.000Z',
  ...over,
});

describe('drillSummary', () => {
  it('keeps what status and the evidence need of an inconclusive drill: its outcome, its gaps and its cost', () => {
    // Act
    const s = drillSummary(
      doc({
        outcome: 'inconclusive',
        gaps: ['row-count public.ledger: not finished in 120 s'],
        cost: {
          instanceHours: 1.5,
          storageHours: 2,
          estimatedUsd: 0.27,
          breakdown: { instanceUsd: 0.27, storageUsd: 0, iopsUsd: 0, throughputUsd: 0 },
          estimate: true,
          priceSource: 'list prices',
          notes: [],
        },
      }),
    );
    // Assert
    expect(s).toMatchObject({
      passed: false,
      outcome: 'inconclusive',
      gaps: ['row-count public.ledger: not finished in 120 s'],
      cost: { instanceHours: 1.5, estimatedUsd: 0.27 },
    });
    expect(drillOutcome(s)).toBe('inconclusive');
  });

  it('reads a report written before inconclusive drills existed by its passed flag', () => {
    expect(drillOutcome(drillSummary(doc({ passed: true })))).toBe('passed');
    expect(drillOutcome(drillSummary(doc({ passed: false })))).toBe('failed');
    expect(drillSummary(doc({ passed: true }))).not.toHaveProperty('cost');
  });
});
