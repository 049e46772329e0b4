import { run, wire } from '../functions/scaling/handler.js';
import { describeChange } from '../shared/scaling/engine.js';
import { stateTableName } from '../shared/scaling/env.js';
import type { DecisionRecord } from '../shared/scaling/model.js';
import type { ScalingResult } from '../shared/scaling/service.js';
import { localBase, UsageError } from './base.js';
import type { Flags } from './flags.js';
import { table } from '../shared/table.js';

/** Render scaling decisions: one row per decision, with the change or the reason. */
export const renderScaling = (r: ScalingResult): string => {
  const rows = r.decisions.map((d: DecisionRecord) => [
    d.status.toUpperCase(),
    d.rule,
    d.alarmName,
    d.resource,
    d.mode,
    d.decision.verdict === 'act'
      ? `${describeChange(d.decision.change)} (${d.decision.reason})${d.approvalId ? ` [approval ${d.approvalId}]` : ''}`
      : `${d.decision.reason}: ${d.decision.detail}${d.error ? ` (${d.error})` : ''}`,
  ]);
  return [
    `${r.dryRun ? 'scaling (dry run: nothing changed)' : 'scaling'}`,
    r.summary,
    table(['STATUS', 'RULE', 'ALARM', 'RESOURCE', 'MODE', 'CHANGE / WHY'], rows),
  ].join('\n');
};

const deps = (flags: Flags, out: (s: string) => void) => {
  const base = localBase(flags, flags['dry-run'], out);
  if (!base.config.scaling.enabled)
    throw new UsageError(
      `scaling is not enabled for stage ${base.config.stage} (scaling.enabled in its config)`,
    );
  // Same table the stage's function uses: cooldowns, seen events and approvals are shared with it.
  return wire(base, { STATE_TABLE: stateTableName(base.config.stage) });
};

const print = (r: ScalingResult, flags: Flags, out: (s: string) => void): number => {
  out(flags.json ? JSON.stringify(r, null, 2) : renderScaling(r));
  return 0;
};

/** `steward scale --alarm <name>`: the rule answering that alarm, as if it fired now. */
export const scale = async (_: string[], flags: Flags, out: (s: string) => void): Promise<number> => {
  if (!flags.alarm) throw new UsageError('scale needs --alarm <name> (an alarm a scaling rule answers)');
  const event = { action: 'run-playbook', alarm: flags.alarm, dryRun: flags['dry-run'] };
  return print(await run(event, deps(flags, out)), flags, out);
};

/** `steward approve <id>`: execute a change awaiting approval, once. */
export const approve = async ([id]: string[], flags: Flags, out: (s: string) => void): Promise<number> => {
  if (!id) throw new UsageError('approve needs the approval id from the notification: steward approve <id>');
  const event = { action: 'approve', id, dryRun: flags['dry-run'] };
  return print(await run(event, deps(flags, out)), flags, out);
};
