import { errorMessage } from '../errors.js';
import type { DecisionRecord, LiveAlarmState, NamedRule, ResourceWait } from './model.js';
import { namedRules } from './alarm-event.js';
import {
  failedDecision,
  handleEvent,
  keepCause,
  record,
  type RunOptions,
  type ScalingDeps,
} from './transition.js';

/** A rule whose alarm steward remembers OK, and since when. */
interface Remembered {
  rule: NamedRule;
  alarmName: string;
  since: Date;
  /** A step back already waiting on a transient state (a backup) in this OK period. */
  wait?: ResourceWait;
}

/**
 * Scale in where a rule's alarm has stayed OK for its `afterOkMinutes`. The remembered OK is steward's
 * record of the transitions it was sent; before stepping back, CloudWatch confirms the alarm is OK now and
 * has been all along (guard.ts confirmSustained): one DescribeAlarms per 100 alarms held long enough, for
 * the whole run, never one per resource. An alarm gone to INSUFFICIENT_DATA (its metric stopped) or back
 * in ALARM since is a quiet `not-sustained` skip, logged and counted.
 */
export const scaleInCheck = async (deps: ScalingDeps, o: RunOptions): Promise<DecisionRecord[]> => {
  const now = deps.now();
  const found: (Remembered | DecisionRecord)[] = [];
  for (const rule of namedRules(deps.config.scaling)) {
    if (!rule.scaleIn.enabled || !('name' in rule.alarm)) continue;
    const alarmName = rule.alarm.name;
    try {
      const st = await deps.state.alarmState(alarmName);
      if (st?.state === 'OK')
        found.push({ rule, alarmName, since: st.since, ...(st.wait ? { wait: st.wait } : {}) });
    } catch (e) {
      found.push(
        keepCause(
          record(rule, alarmName, now, failedDecision('could not read the alarm state'), 'failed', {
            error: errorMessage(e),
          }),
          e,
        ),
      );
    }
  }
  const held = (r: Remembered) => now.getTime() - r.since.getTime() >= r.rule.scaleIn.afterOkMinutes * 60_000;
  const due = found.filter((r): r is Remembered => !('resource' in r) && held(r));
  const describe = deps.alarms?.states;
  let live: Map<string, LiveAlarmState> | undefined;
  let unread: unknown;
  if (describe && due.length) {
    try {
      live = await describe(due.map((r) => r.alarmName));
    } catch (e) {
      unread = e;
    }
  }
  const out: DecisionRecord[] = [];
  for (const r of found) {
    if ('resource' in r) {
      out.push(r);
      continue;
    }
    const { rule, alarmName, since, wait } = r;
    const asked = describe !== undefined && held(r);
    if (asked && unread !== undefined) {
      out.push(
        keepCause(
          record(
            rule,
            alarmName,
            now,
            failedDecision('could not confirm the alarm state with CloudWatch'),
            'failed',
            { error: errorMessage(unread) },
          ),
          unread,
        ),
      );
      continue;
    }
    out.push(
      await handleEvent(
        {
          rule,
          event: { alarmName, state: 'OK', at: since, source: 'scale-in-check' },
          ...(asked ? { live: live?.get(alarmName) ?? null } : {}),
          ...(wait ? { wait } : {}),
        },
        deps,
        o,
      ),
    );
  }
  return out;
};
