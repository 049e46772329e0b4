import type { Severity } from '../config/schema.js';
import { clip } from '../errors.js';
import type { Notification } from '../notify/notifier.js';
import { describeChange } from './change.js';
import type { DecisionRecord } from './model.js';

// What one scaling decision says, alone or in a run's summary: the texts and the pager signals.

/** How many decisions of one status a list of decisions holds. */
export const count = (ds: readonly DecisionRecord[], ...s: DecisionRecord['status'][]): number =>
  ds.filter((d) => s.includes(d.status)).length;

const approveCommand = (id: string, stage: string) => `steward approve ${id} --stage ${stage}`;

/** One line: what happened. */
export const subjectOf = (d: DecisionRecord): string => {
  const what = d.decision.verdict === 'act' ? describeChange(d.decision.change) : undefined;
  switch (d.status) {
    case 'done':
      return `${d.rule}: ${what ?? 'done'}`;
    case 'already-done':
      // An earlier try got through (or the approval was executed before): say so, never count it as acted.
      return `${d.rule}: already done: ${what ?? (d.decision.verdict === 'skip' ? d.decision.detail : 'done')}`;
    case 'planned':
      return `[dry run] ${d.rule}: would ${what ?? 'act'}`;
    case 'approval-requested':
      return `${d.rule}: approval needed (${d.approvalId}): ${what}`;
    case 'skipped':
      return `${d.rule}: skipped (${d.decision.verdict === 'skip' ? d.decision.reason : '?'}) on ${d.resource}`;
    case 'failed':
      return `${d.rule}: FAILED${what ? ` to ${what}` : ''}`;
  }
};

// The longest text a decision's message quotes (an AWS error can carry a whole policy document); the error
// itself stays whole in the run's PartialFailureError and the log.
const TEXT_MAX = 1000;

/**
 * Where a spoke's approval executes: its target, as the fan-out names it (the approval lives in that
 * account-region's scaling memory, and the change is made with its spoke role).
 */
export type ApprovalTarget = Record<string, unknown>;

export const linesOf = (d: DecisionRecord, stage: string, target?: ApprovalTarget): string[] => {
  const lines = [
    `Alarm ${d.alarmName} at ${d.at}; rule ${d.rule} (${d.action}, mode ${d.mode}) on ${d.resource}.`,
  ];
  if (d.decision.verdict === 'act') lines.push(`Why: ${clip(d.decision.reason, TEXT_MAX)}.`);
  else lines.push(`Why: ${d.decision.reason}: ${clip(d.decision.detail, TEXT_MAX)}.`);
  if (d.error) lines.push(`Error: ${clip(d.error, TEXT_MAX)}`);
  if (d.warning) lines.push(`Note: ${clip(d.warning, TEXT_MAX)}`);
  if (d.status === 'approval-requested' && d.decision.verdict === 'act') {
    lines.push(
      '',
      `Exact change: ${JSON.stringify(d.decision.change)}`,
      ...(target
        ? [
            `To execute it once: ${approveCommand(d.approvalId!, stage)} --target ${target.account}/${target.region}`,
            `  or invoke steward-${stage}-scaling with ${JSON.stringify({ action: 'approve', id: d.approvalId, target })}`,
            '  (either way the hub function acts in that account and region, with its spoke role).',
          ]
        : [
            `To execute it once: ${approveCommand(d.approvalId!, stage)}`,
            `  or invoke steward-${stage}-scaling with {"action":"approve","id":"${d.approvalId}"}`,
          ]),
      'It is checked again against the resource before it runs; nothing happens without approval.',
    );
  }
  return lines;
};

/** A decision as a message's details carry it: its free texts cut (the log line keeps them whole). */
export const boundedRecord = (d: DecisionRecord): DecisionRecord => ({
  ...d,
  ...(d.error !== undefined && { error: clip(d.error, TEXT_MAX) }),
  ...(d.warning !== undefined && { warning: clip(d.warning, TEXT_MAX) }),
  decision:
    d.decision.verdict === 'act'
      ? { ...d.decision, reason: clip(d.decision.reason, TEXT_MAX) }
      : { ...d.decision, detail: clip(d.decision.detail, TEXT_MAX) },
});

/**
 * The pager signal of a decision: a failed action opens `scaling:<rule>:<resource>`; the next action of the
 * rule on the resource that succeeds clears it (a resolve of a key with no open incident is dropped).
 */
export const alertsOf = (d: DecisionRecord): Pick<Notification, 'alerts'> => {
  const key = `scaling:${d.rule}:${d.resource}`;
  if (d.status === 'failed')
    return {
      alerts: [{ key, action: 'trigger', severity: 'critical', summary: subjectOf(d), resource: d.resource }],
    };
  if (d.status === 'done' || d.status === 'already-done')
    return {
      alerts: [{ key, action: 'resolve', severity: 'critical', summary: subjectOf(d), resource: d.resource }],
    };
  return {};
};

export const severityOf = (d: DecisionRecord): Severity => (d.status === 'failed' ? 'critical' : d.severity);

/** The message of one decision: what happened, why, the exact change to approve, at the rule's severity. */
export const decisionMessage = (d: DecisionRecord, stage: string, target?: ApprovalTarget): Notification => ({
  severity: severityOf(d),
  capability: 'scaling',
  subject: subjectOf(d),
  lines: linesOf(d, stage, target),
  data: boundedRecord(d),
  ...alertsOf(d),
});

/**
 * Up to this many decisions to tell, a run sends each as its own message (an alarm's run has one); beyond
 * it (a scale-in check over many databases), one bounded summary that links the run's full report
 * (summary-message.ts).
 */
export const SEPARATE_MAX = 5;
