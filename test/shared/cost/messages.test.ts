import { describe, expect, it } from 'vitest';
import type { CostAnomaly } from '../../../shared/cost/ports.js';
import { runCostAnomalies } from '../../../shared/cost/service.js';
import { memoryRunReports } from '../../../shared/notify/run-report.js';
import { costTestConfig, fakeCostDeps } from '../../fakes/cost-fixtures.js';
import { expectBoundedSummary, onlyReport } from '../../support/bounded.js';

/*
 * A cost message is a bounded summary however many alerts fire at once, with every alert in the full
 * report (the report bucket), written before the message that links it.
 */

const N = 5000;
const BUCKET = 'steward-prod-reports-111122223333-eu-west-1';

const anomaly = (i: number): CostAnomaly => ({
  id: `arn:aws:ce::111122223333:anomaly/${String(i).padStart(8, '0')}-aaaa-bbbb-cccc-ddddeeeeffff`,
  via: 'eventbridge',
  startDate: '2026-11-20',
  dimension: 'Amazon Relational Database Service',
  impactUsd: 500 + i,
  maxImpactUsd: 200,
  actualUsd: 900,
  expectedUsd: 400,
  impactPercent: 125,
  monitorName: 'services',
  rootCauses: Array.from({ length: 5 }, () => ({
    service: 'Amazon Relational Database Service',
    region: 'eu-west-1',
    usageType: 'EU-InstanceUsage:db.r6g.4xlarge',
    linkedAccount: '111122223333',
  })),
  link: `https://console.aws.amazon.com/cost-management/home#/anomaly-detection/monitors/abc/anomalies/${i}`,
});

describe('cost messages stay bounded however many alerts fire', () => {
  it(`${N} anomalies in one delivery: a summary under the budget, every alert in the full report`, async () => {
    // Prepare
    const { deps, notifier } = fakeCostDeps({ config: costTestConfig({ anomalies: { enabled: true } }) });
    const reports = memoryRunReports(BUCKET, 'eu-west-1');
    const order: string[] = [];
    const put = reports.put;
    reports.put = async (k, b) => (order.push('put'), put(k, b));
    const send = notifier.send;
    // Act
    await runCostAnomalies(
      { ...deps, reports, notifier: { send: async (n) => (order.push('send'), send(n)) } },
      Array.from({ length: N }, (_, i) => anomaly(i)),
    );
    // Assert
    const body = expectBoundedSummary(notifier.sent[0]!);
    const { key, report } = onlyReport<{ fired: unknown[] }>(reports);
    expect(key).toMatch(/^runs\/cost\/2026-11-23\/20261123T070000Z-anomalies\.json$/);
    expect(body).toContain(`Full report: s3://${BUCKET}/${key}`);
    expect(body).toMatch(/and \d+ more fired \(in the full report\)/);
    expect(report.fired).toHaveLength(N);
    expect(order).toEqual(['put', 'send']);
  });
});
