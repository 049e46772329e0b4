import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { AlarmDescriber } from '../scaling/ports.js';
import { call } from './call.js';

// The factory of the client this adapter sends through, for the callers that load this module on first use:
// the client's code then loads with the adapter that uses it, never before (test/infra/bundles.test.ts).
export { cloudWatchClient } from './clients/cloudwatch.js';

/** How long a described comparison operator is trusted: an edited alarm is seen within this. */
export const ALARM_CACHE_MS = 10 * 60_000;

/**
 * AlarmDescriber over CloudWatch DescribeAlarms, one call per alarm per container per ALARM_CACHE_MS: the
 * comparison operator of an alarm changes rarely, and a burst of transitions must not cost a burst of calls.
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
  };
};
