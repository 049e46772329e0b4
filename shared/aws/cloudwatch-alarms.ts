import {
  type CloudWatchClient,
  type CompositeAlarm,
  DescribeAlarmsCommand,
  type MetricAlarm,
  paginateDescribeAlarms,
} from '@aws-sdk/client-cloudwatch';
import type { AlarmState, LiveAlarmState } from '../scaling/model.js';
import type { AlarmDescriber } from '../scaling/ports.js';
import { call } from './call.js';
import { collectPages } from './pages.js';

// The factory of the client this adapter sends through, for the callers that load this module on first use:
// the client's code then loads with the adapter that uses it, never before (test/infra/bundles.test.ts).
export { cloudWatchClient } from './clients/cloudwatch.js';

/** How long a described comparison operator is trusted: an edited alarm is seen within this. */
export const ALARM_CACHE_MS = 10 * 60_000;

/** DescribeAlarms takes at most 100 AlarmNames a call, and returns at most 100 alarms a page. */
export const ALARM_NAMES_PER_CALL = 100;

const STATES: readonly string[] = ['OK', 'ALARM', 'INSUFFICIENT_DATA'];

/** An alarm's state and when its value last changed (the transition; else the last update of state or reason). */
const liveState = (a: MetricAlarm | CompositeAlarm): [string, LiveAlarmState] | undefined => {
  const since = a.StateTransitionedTimestamp ?? a.StateUpdatedTimestamp;
  if (!a.AlarmName || !a.StateValue || !STATES.includes(a.StateValue) || !since) return undefined;
  return [a.AlarmName, { state: a.StateValue as AlarmState, since }];
};

/**
 * AlarmDescriber over CloudWatch DescribeAlarms. The comparison operator: one call per alarm per container
 * per ALARM_CACHE_MS (it changes rarely, and a burst of transitions must not cost a burst of calls). States:
 * never cached, one paginated call per 100 names.
 */
export const cloudWatchAlarms = (
  cw: CloudWatchClient,
  region: string,
  now: () => number = Date.now,
): AlarmDescriber => {
  const cache = new Map<string, { at: number; comparison: string | undefined }>();
  return {
    comparison: async (alarmName) => {
      const hit = cache.get(alarmName);
      if (hit && now() - hit.at < ALARM_CACHE_MS) return hit.comparison;
      const r = await call('DescribeAlarms', `alarm ${alarmName} in ${region}`, () =>
        cw.send(new DescribeAlarmsCommand({ AlarmNames: [alarmName], AlarmTypes: ['MetricAlarm'] })),
      );
      const comparison = r.MetricAlarms?.find((a) => a.AlarmName === alarmName)?.ComparisonOperator;
      cache.set(alarmName, { at: now(), comparison });
      return comparison;
    },
    states: async (alarmNames) => {
      const names = [...new Set(alarmNames)];
      const out = new Map<string, LiveAlarmState>();
      for (let i = 0; i < names.length; i += ALARM_NAMES_PER_CALL) {
        const chunk = names.slice(i, i + ALARM_NAMES_PER_CALL);
        const found = await collectPages(
          paginateDescribeAlarms(
            { client: cw, pageSize: ALARM_NAMES_PER_CALL },
            { AlarmNames: chunk, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] },
          ),
          (p) => [...(p.MetricAlarms ?? []), ...(p.CompositeAlarms ?? [])],
          liveState,
          'DescribeAlarms',
          `${chunk.length} alarms in ${region} (${chunk[0]}${chunk.length > 1 ? ', ...' : ''})`,
        );
        for (const [name, st] of found) out.set(name, st);
      }
      return out;
    },
  };
};
