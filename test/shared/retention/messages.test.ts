import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../../shared/model.js';
import { memoryRunReports, runReportsPrefix } from '../../../shared/notify/run-report.js';
import { RETENTION_RECORDS_PREFIX } from '../../../shared/retention/record.js';
import { runRetention } from '../../../shared/retention/service.js';
import { stewardSnapshot } from '../../fakes/estate-rows.js';
import { fakeRetentionDeps, NOW, retentionTestConfig } from '../../fakes/retention-fixtures.js';
import { expectBoundedSummary, onlyReport } from '../../support/bounded.js';

/*
 * A retention run's message is a bounded summary at any estate size, with the full report (every outcome,
 * every verdict) in the report bucket, written before the message that links it.
 */

const N = 5000;
const BUCKET = 'steward-prod-reports-111122223333-eu-west-1';

/** Two cache snapshots per database, taken at 03:00: one of yesterday (kept) and one 30 days old (expired). */
const estate = (n: number): Snapshot[] =>
  Array.from({ length: n }, (_, i) => {
    const source = `sessions-cache-eu-${String(i).padStart(4, '0')}`;
    const snap = (daysAgo: number): Snapshot => {
      const at = new Date(NOW.getTime() - daysAgo * 86_400_000);
      at.setUTCHours(3, 0, 0, 0);
      return stewardSnapshot(source, at, { kind: 'elasticache', encrypted: true }, 'cache');
    };
    return [snap(1), snap(30)];
  }).flat();

const setup = () => {
  const config = retentionTestConfig({
    retention: {
      deletions: { floor: N, safetyCap: N },
      policies: { standard: {}, cache: { daily: 1, keepAtLeast: 1 } },
    },
  });
  const fx = fakeRetentionDeps({ inventory: estate(N), config });
  const reports = memoryRunReports(BUCKET, 'eu-west-1');
  return { ...fx, reports, deps: { ...fx.deps, reports } };
};

type FullReport = {
  capability: string;
  outcomes: { action: string; status: string; error?: string }[];
  verdicts: unknown[];
};

describe('retention messages stay bounded at any estate size', () => {
  it(`${N} deletions: a summary under the budget, the full report in S3 linked from it`, async () => {
    // Prepare
    const { deps, notifier, reports } = setup();
    // Act
    await runRetention(deps);
    // Assert
    const body = expectBoundedSummary(notifier.sent[0]!);
    const { key, report } = onlyReport<FullReport>(reports);
    expect(key).toMatch(/^runs\/retention\/2026-11-23\/20261123T043000Z-retention\.json$/);
    expect(body).toContain(`s3://${BUCKET}/${key}`);
    expect(body).toContain(`Deleted ${N}, already gone 0, failed 0.`);
    expect(report.capability).toBe('retention');
    expect(report.outcomes.filter((o) => o.action === 'delete' && o.status === 'done')).toHaveLength(N);
    expect(report.verdicts).toHaveLength(2 * N);
  });

  it(`${N} failed deletions with long errors: failures first, the first named, the rest counted`, async () => {
    // Prepare
    const { deps, notifier, reports, primary } = setup();
    for (const s of primary.snapshots)
      primary.failRemove.set(
        s.id,
        Object.assign(
          new Error(`InvalidSnapshotState: ${'snapshot is being used by an export task. '.repeat(20)}`),
          {
            name: 'InvalidSnapshotStateFault',
          },
        ),
      );
    // Act
    await expect(runRetention(deps)).rejects.toThrow();
    // Assert
    const body = expectBoundedSummary(notifier.sent[0]!);
    expect(body).toMatch(
      /Failed \(5000\):\n- elasticache snapshot steward-sessions-cache-eu-0000-\d+0300-sched in eu-west-1: /,
    );
    expect(body).toContain(`... and ${N - 25} more failed (in the full report)`);
    const { report } = onlyReport<FullReport>(reports);
    const failed = report.outcomes.filter((o) => o.status === 'failed');
    expect(failed).toHaveLength(N);
    // The full report keeps each error whole; the summary quotes it cut.
    expect(failed[0]!.error!.length).toBeGreaterThan(800);
  });

  it("run reports sit under the records' prefix, the one retention's role may write", () => {
    expect(runReportsPrefix('retention')).toBe(RETENTION_RECORDS_PREFIX);
  });

  it('the full report is written before the message that links it; a failed write makes a warning that says so', async () => {
    // Prepare
    const { deps, reports } = setup();
    const order: string[] = [];
    reports.fail = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    const notifier = { send: async () => void order.push('send') };
    const failing = {
      ...reports,
      put: async (k: string, b: string) => (order.push('put'), reports.put(k, b)),
    };
    const sent: string[] = [];
    // Act
    await runRetention({
      ...deps,
      reports: failing,
      notifier: { send: async (n) => (sent.push(`${n.severity}\n${n.lines.join('\n')}`), notifier.send()) },
    });
    // Assert
    expect(order).toEqual(['put', 'send']);
    expect(sent[0]).toMatch(/^warning\n/);
    expect(sent[0]).toContain('Full report unavailable: AccessDenied: Access Denied');
  });
});
