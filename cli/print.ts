import type { Outcome } from '../shared/model.js';
import type { RenderedNotification } from './base.js';
import { table } from '../shared/table.js';

const outcomeRows = (outcomes: readonly Outcome[]) =>
  outcomes.map((o) => [
    o.status,
    o.action,
    o.resource,
    o.status === 'skipped' ? o.reason : o.status === 'failed' ? o.error : (o.detail ?? ''),
  ]);

/** Print a handler result: JSON as-is, or a summary line and an outcome table for humans. */
export const printResult = (
  name: string,
  result: unknown,
  json: boolean,
  out: (s: string) => void,
  notifications: readonly RenderedNotification[] = [],
): void => {
  if (json) {
    // The handler's result, and what it would have published (a local run publishes nothing).
    out(JSON.stringify(notifications.length ? { ...(result as object), notifications } : result, null, 2));
    return;
  }
  const r = result as { summary?: unknown; dryRun?: boolean; outcomes?: Outcome[] };
  out(`${name}${r.dryRun ? ' (dry run: nothing changed)' : ''}`);
  if (typeof r.summary === 'string') out(r.summary);
  if (r.outcomes?.length) out(table(['STATUS', 'ACTION', 'RESOURCE', 'DETAIL'], outcomeRows(r.outcomes)));
};
