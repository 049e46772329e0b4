import { expect } from 'vitest';
import { MESSAGE_BUDGET, publishedBytes } from '../../shared/notify/budget.js';
import { snsMessage } from '../../shared/notify/formats.js';
import type { Notification } from '../../shared/notify/notifier.js';
import type { RunReports } from '../../shared/notify/run-report.js';

/**
 * Assert that a capability's notification is a bounded summary by itself: published as SNS gets it (both
 * protocol forms, UTF-8 bytes), it fits steward's budget with no cut by the notifier's last guard.
 * Returns the readable body for further checks.
 */
export const expectBoundedSummary = (n: Notification): string => {
  const m = snsMessage(n, 'prod');
  expect(publishedBytes(m)).toBeLessThanOrEqual(MESSAGE_BUDGET);
  const body = (JSON.parse(m.Message) as { default: string }).default;
  expect(body).not.toMatch(/SNS limit|message cut to fit/);
  return body;
};

/** The one full report a run wrote, parsed; fails unless exactly one was written. */
export const onlyReport = <T>(
  reports: RunReports & { objects: Map<string, string> },
): { key: string; report: T } => {
  expect(reports.objects.size).toBe(1);
  const [[key, body]] = [...reports.objects] as [[string, string]];
  return { key, report: JSON.parse(body) as T };
};
