import { clip } from '../errors.js';
import type { Outcome } from '../model.js';
import { TOP_FAILURES, TOP_N, topLines } from './budget.js';

/** The longest error text a summary line quotes (the full report keeps all of it). */
const ERROR_MAX = 300;

type Failed = Extract<Outcome, { status: 'failed' }>;
type Skipped = Extract<Outcome, { status: 'skipped' }>;

/** Items grouped by a key, groups in order of first appearance. */
const groupBy = <T>(items: readonly T[], key: (t: T) => string): [string, T[]][] => {
  const groups = new Map<string, T[]>();
  for (const t of items) {
    const k = key(t);
    const g = groups.get(k);
    if (g) g.push(t);
    else groups.set(k, [t]);
  }
  return [...groups];
};

/** One group: a heading with its count, then its first resources and a count of the rest. */
const groupLines = (heading: string, items: readonly Outcome[]): string[] => [
  `${heading} (${items.length}):`,
  ...topLines(
    items,
    (o) => `  ${o.resource}${'detail' in o && o.detail ? ` -> ${o.detail}` : ''}`,
    'of these',
  ),
];

/**
 * A run's outcomes as a bounded summary, whatever their number: every failure first (the first
 * TOP_FAILURES named with their error, the rest counted), then the skips grouped by action and reason,
 * then what was done grouped by action, each group naming its first TOP_N resources. The full list
 * belongs in the run's full report.
 */
export const outcomeLines = (outcomes: readonly Outcome[]): string[] => {
  const failed = outcomes.filter((o): o is Failed => o.status === 'failed');
  const skipped = outcomes.filter((o): o is Skipped => o.status === 'skipped');
  const done = outcomes.filter((o) => o.status !== 'failed' && o.status !== 'skipped');
  const skipGroups = groupBy(skipped, (o) => `skipped ${o.action}: ${clip(o.reason, ERROR_MAX)}`);
  const doneGroups = groupBy(done, (o) => `${o.status} ${o.action}`);
  return [
    ...topLines(
      failed,
      (o) => `FAILED ${o.action} ${o.resource}: ${clip(o.error, ERROR_MAX)}`,
      'failed',
      TOP_FAILURES,
    ),
    ...skipGroups.slice(0, TOP_N).flatMap(([h, items]) => groupLines(h, items)),
    ...(skipGroups.length > TOP_N
      ? [`... and ${skipGroups.length - TOP_N} more kinds of skip (in the full report)`]
      : []),
    ...doneGroups.flatMap(([h, items]) => groupLines(h, items)),
  ];
};

/** `3 done, 2 skipped, 1 failed` per action: the counts a summary leads with. */
export const outcomeCounts = (outcomes: readonly Outcome[]): Record<string, Record<string, number>> => {
  const counts: Record<string, Record<string, number>> = {};
  for (const o of outcomes) {
    const c = (counts[o.action] ??= {});
    c[o.status] = (c[o.status] ?? 0) + 1;
  }
  return counts;
};

/** The counts as one line per action: `create-snapshot: 498 done, 2 failed`. */
export const countLines = (outcomes: readonly Outcome[]): string[] =>
  Object.entries(outcomeCounts(outcomes)).map(
    ([action, c]) =>
      `${action}: ${Object.entries(c)
        .map(([status, n]) => `${n} ${status}`)
        .join(', ')}`,
  );
