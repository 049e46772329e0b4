import { errorMessage } from '../errors.js';
import type { DecisionRecord } from './model.js';
import { namedRules } from './alarm-event.js';
import { failedDecision, handleEvent, record, type RunOptions, type ScalingDeps } from './transition.js';

/** Scale in where a rule's alarm has stayed OK for its `afterOkMinutes`. */
export const scaleInCheck = async (deps: ScalingDeps, o: RunOptions): Promise<DecisionRecord[]> => {
  const out: DecisionRecord[] = [];
  for (const rule of namedRules(deps.config.scaling)) {
    if (!rule.scaleIn.enabled || !('name' in rule.alarm)) continue;
    const alarmName = rule.alarm.name;
    try {
      const st = await deps.state.alarmState(alarmName);
      if (st?.state !== 'OK') continue;
      out.push(
        await handleEvent(
          { rule, event: { alarmName, state: 'OK', at: st.since, source: 'scale-in-check' } },
          deps,
          o,
        ),
      );
    } catch (e) {
      out.push(
        record(rule, alarmName, deps.now(), failedDecision('could not read the alarm state'), 'failed', {
          error: errorMessage(e),
        }),
      );
    }
  }
  return out;
};
