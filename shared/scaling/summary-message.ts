import type { Severity } from '../config/schema.js';
import { clip } from '../errors.js';
import { TOP_FAILURES, topLines } from '../notify/budget.js';
import type { AlertSignal, Notification } from '../notify/notifier.js';
import { runReportLines, type RunReportResult } from '../notify/run-report.js';
import { alertsOf, count, severityOf, subjectOf } from './message.js';
import type { DecisionRecord } from './model.js';

// The one message of a run that decided more than SEPARATE_MAX things (a scale-in check over many
// databases): loaded by that run only, never by an alarm's.

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

const ERROR_MAX = 300;

// The groups a summary names, in its order: what needs a person first.
const GROUPS: readonly { status: DecisionRecord['status']; what: string; title: string }[] = [
  {
    status: 'approval-requested',
    what: 'awaiting approval',
    title: 'Awaiting approval (each also sent with its id):',
  },
  { status: 'done', what: 'acted', title: 'Acted:' },
  { status: 'already-done', what: 'already done', title: 'Already done by an earlier try:' },
  { status: 'planned', what: 'planned', title: 'Planned (dry run):' },
  { status: 'skipped', what: 'skipped', title: 'Skipped:' },
];

/**
 * One run's decisions as a bounded summary: the counts, the link to the full report, the failures first
 * (TOP_FAILURES named with their errors, cut), then the first TOP_N of each group, the rest counted. It
 * speaks at the highest severity among them (a failure: critical) and carries every decision's pager signal.
 */
export const summaryMessage = (
  label: string,
  headline: string,
  told: readonly DecisionRecord[],
  report: RunReportResult,
): Notification => {
  const failed = told.filter((d) => d.status === 'failed');
  const parts = [
    ...(failed.length ? [`${failed.length} FAILED`] : []),
    ...GROUPS.flatMap((g) => {
      const n = count(told, g.status);
      return n ? [`${n} ${g.what}`] : [];
    }),
  ];
  const severity = told
    .map(severityOf)
    .reduce<Severity>((a, b) => (SEVERITY_RANK[b] > SEVERITY_RANK[a] ? b : a), 'info');
  const alerts: AlertSignal[] = told.flatMap((d) => alertsOf(d).alerts ?? []);
  return {
    severity,
    capability: 'scaling',
    subject: `${label}: ${parts.join(', ')} of ${told.length} decisions`,
    lines: [
      headline,
      ...runReportLines(report),
      ...(failed.length
        ? [
            '',
            'Failed:',
            ...topLines(
              failed,
              (d) => `- ${subjectOf(d)}: ${clip(d.error ?? 'failed', ERROR_MAX)}`,
              'failed',
              TOP_FAILURES,
            ),
          ]
        : []),
      ...GROUPS.flatMap((g) => {
        const ds = told.filter((d) => d.status === g.status);
        return ds.length ? ['', g.title, ...topLines(ds, (d) => `- ${subjectOf(d)}`, g.what)] : [];
      }),
    ],
    data: {
      decisions: told.length,
      counts: Object.fromEntries(
        (['failed', ...GROUPS.map((g) => g.status)] as const).map((st) => [st, count(told, st)]),
      ),
    },
    ...(alerts.length ? { alerts } : {}),
  };
};
