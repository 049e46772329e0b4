import { run, wire } from '../functions/scaling/handler.js';
import { lambdaClient } from '../shared/aws/clients/lambda.js';
import type { FanOutTarget } from '../shared/fleet/fan-out.js';
import { placeLabel } from '../shared/fleet/place.js';
import { targetRoleArn } from '../shared/fleet/targets.js';
import type { ScalingConfig } from '../shared/config/schema.js';
import { closest } from '../shared/config/suggest.js';
import { answered, matchRule, namedRules } from '../shared/scaling/alarm-event.js';
import { describeChange } from '../shared/scaling/engine.js';
import { stateTableName } from '../shared/scaling/env.js';
import type { DecisionRecord } from '../shared/scaling/model.js';
import type { ScalingResult } from '../shared/scaling/service.js';
import { localBase, UsageError } from './base.js';
import { invokeFunction } from './lambda-invoke.js';
import { callerOf, expectDeployed, type SelectedTarget, targetedStage } from './target.js';
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

const stageOf = (flags: Flags, out: (s: string) => void) => {
  const base = localBase(flags, flags['dry-run'], out);
  if (!base.config.scaling.enabled)
    throw new UsageError(
      `scaling is not enabled for stage ${base.config.stage} (scaling.enabled in its config)`,
    );
  return base;
};

/**
 * Run `event` here as the stage's function would, on its state table (cooldowns, seen events and approvals are
 * shared with it). A table that is not there (the stage not deployed in this account-region) is said so, naming
 * the table, the account and region, and the deploy command, as for an approval in a spoke.
 */
const runHere = (
  event: Record<string, unknown>,
  flags: Flags,
  out: (s: string) => void,
  base = stageOf(flags, out),
): Promise<ScalingResult> => {
  const { stage, region, account } = base.config;
  const table = stateTableName(stage);
  return expectDeployed(
    stage,
    {
      resource: `state table ${table}`,
      region,
      ...(account ? { account } : {}),
      ...(flags.config ? { config: flags.config } : {}),
    },
    () => run(event, wire(base, { STATE_TABLE: table })),
  );
};

/** A mistyped --alarm: refused before anything is read, with the closest alarm a rule answers by name. */
const checkAnswered = (scaling: ScalingConfig, alarm: string) => {
  const rules = namedRules(scaling);
  if (matchRule(rules, alarm)) return;
  const named = rules.flatMap((r) => ('name' in r.alarm ? [r.alarm.name] : []));
  const near = closest(alarm, named);
  throw new UsageError(
    `No scaling rule for alarm "${alarm}"${near ? `: did you mean "${near}"?` : ''} (alarms answered: ${answered(rules)})`,
    ['--alarm'],
  );
};

const print = (r: ScalingResult, flags: Flags, out: (s: string) => void): number => {
  out(flags.json ? JSON.stringify(r, null, 2) : renderScaling(r));
  return 0;
};

/** `steward scale --alarm <name>`: the rule answering that alarm, as if it fired now. */
export const scale = async (_: string[], flags: Flags, out: (s: string) => void): Promise<number> => {
  if (!flags.alarm) throw new UsageError('scale needs --alarm <name> (an alarm a scaling rule answers)');
  const base = stageOf(flags, out);
  checkAnswered(base.config.scaling, flags.alarm);
  const event = { action: 'run-playbook', alarm: flags.alarm, dryRun: flags['dry-run'] };
  return print(await runHere(event, flags, out, base), flags, out);
};

/**
 * An approval asked for in a spoke target: its record is in the hub's state table (under the target's
 * place) and its resource in the spoke's account, which only the hub's scaling function may change (the spoke
 * scaling role trusts its role alone). So the CLI invokes that function with the payload the approval's
 * message gives, `{"action":"approve","id":…,"target":{…}}`, and prints what it did.
 */
const approveInSpoke = async (
  id: string,
  flags: Flags,
  at: { hub: ReturnType<typeof targetedStage>['hub']; target: SelectedTarget & { account: string } },
  out: (s: string) => void,
): Promise<number> => {
  const { hub, target } = at;
  if (!hub.scaling.enabled)
    throw new UsageError(`scaling is not enabled for stage ${hub.stage} (scaling.enabled in its config)`);
  if (!hub.account)
    throw new UsageError(
      `stage ${hub.stage} names no account: a fleet's config names the hub's account (the spokes trust its roles)`,
    );
  const caller = await callerOf(hub.region);
  if (caller.account !== hub.account)
    throw new UsageError(
      `the credentials are for account ${caller.account ?? 'unknown'}: an approval in ${placeLabel(target)} is executed by the stage's scaling function in the hub account ${hub.account} (use a profile of it, AWS_PROFILE)`,
      ['--target'],
    );
  const fanOutTarget: FanOutTarget = {
    index: target.ref.index,
    account: target.account,
    region: target.region,
    roleArn: targetRoleArn(hub, { ...target.ref, account: target.account }, 'scaling', caller.partition),
    ...(hub.fleet?.externalId ? { externalId: hub.fleet.externalId } : {}),
  };
  const payload = {
    action: 'approve',
    id,
    ...(flags['dry-run'] ? { dryRun: true } : {}),
    target: fanOutTarget,
  };
  // The function's whole run is one request: the timeout covers scaling's longest run (10 minutes) and a little.
  const functionName = `steward-${hub.stage}-scaling`;
  const result = (await expectDeployed(
    hub.stage,
    {
      resource: `function ${functionName}`,
      account: hub.account,
      region: hub.region,
      ...(flags.config ? { config: flags.config } : {}),
    },
    () => invokeFunction(lambdaClient(hub.region, { requestTimeoutMs: 11 * 60_000 }), functionName, payload),
  )) as ScalingResult;
  return print(result, flags, out);
};

/**
 * `steward approve <id>`: execute a change awaiting approval, once. In the stage's own account-region it runs
 * here, with the caller's credentials; with `--target` naming a spoke, the deployed hub function runs it there.
 */
export const approve = async ([id]: string[], flags: Flags, out: (s: string) => void): Promise<number> => {
  if (!id) throw new UsageError('approve needs the approval id from the notification: steward approve <id>');
  const at = targetedStage(flags);
  if (at.target && !at.target.hub) {
    if (at.target.account === undefined)
      throw new UsageError(`--target ${placeLabel(at.target)}: name the account too (--account)`, [
        '--account',
      ]);
    return approveInSpoke(
      id,
      flags,
      { hub: at.hub, target: { ...at.target, account: at.target.account } },
      out,
    );
  }
  const event = { action: 'approve', id, dryRun: flags['dry-run'] };
  return print(await runHere(event, flags, out), flags, out);
};
