import { describe, expect, it } from 'vitest';
import type { Notification } from '../../../shared/notify/notifier.js';
import { memoryRunReports, reportRun, runReportLines } from '../../../shared/notify/run-report.js';

const AT = new Date('2026-03-01T06:00:00Z');
const summary = (lines: string[]): Notification => ({
  severity: 'info',
  capability: 'cost',
  subject: 'daily check',
  lines,
});

describe('reportRun', () => {
  it('writes the full report first, then sends a summary that links it', async () => {
    // Prepare
    const order: string[] = [];
    const reports = memoryRunReports('bucket-1', 'eu-west-1');
    const put = reports.put;
    const sent: Notification[] = [];
    // Act
    const r = await reportRun(
      {
        reports: { put: (k, b) => (order.push(`put ${k}`), put(k, b)) },
        notifier: { send: async (n) => void (order.push('send'), sent.push(n)) },
      },
      { capability: 'cost', at: AT, name: 'daily check', report: { rows: [1, 2, 3] } },
      (report) => summary(runReportLines(report)),
    );
    // Assert
    const key = 'runs/cost/2026-03-01/20260301T060000Z-daily-check.json';
    expect(order).toEqual([`put ${key}`, 'send']);
    expect(JSON.parse(reports.objects.get(key)!)).toEqual({
      type: 'steward-run-report',
      version: 1,
      capability: 'cost',
      at: AT.toISOString(),
      rows: [1, 2, 3],
    });
    expect(sent[0]!.lines[0]).toBe(`Full report: s3://bucket-1/${key}`);
    expect(sent[0]!.links).toEqual([{ text: 'Full report', href: expect.stringContaining('bucket-1') }]);
    expect(sent[0]!.severity).toBe('info');
    expect(r.outcomes).toEqual([]);
  });

  it('a failed write still sends the summary, as a warning that says why', async () => {
    // Prepare
    const reports = memoryRunReports('bucket-1', 'eu-west-1');
    reports.fail = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    const sent: Notification[] = [];
    // Act
    await reportRun(
      { reports, notifier: { send: async (n) => void sent.push(n) } },
      { capability: 'cost', at: AT, name: 'x', report: {} },
      (report) => summary(runReportLines(report)),
    );
    // Assert
    expect(sent[0]).toMatchObject({
      severity: 'warning',
      lines: ['Full report unavailable: AccessDenied: Access Denied'],
    });
    expect(sent[0]!.links).toBeUndefined();
  });

  it('a failed send is a failed outcome, not an exception', async () => {
    // Act
    const r = await reportRun(
      { notifier: { send: async () => Promise.reject(new Error('throttled')) } },
      { capability: 'cost', at: AT, name: 'x', report: {} },
      (report) => summary(runReportLines(report)),
    );
    // Assert
    expect(r.report).toEqual({ status: 'none' });
    expect(r.outcomes).toMatchObject([{ status: 'failed', action: 'notify', error: 'throttled' }]);
  });
});
