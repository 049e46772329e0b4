import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ALARM_CACHE_MS,
  ALARM_NAMES_PER_CALL,
  cloudWatchAlarms,
} from '../../../shared/aws/cloudwatch-alarms.js';
import { AwsCallError } from '../../../shared/errors.js';

const cw = mockClient(CloudWatchClient);
const meta = { $metadata: {} };

describe('cloudWatchAlarms', () => {
  beforeEach(() => cw.reset());

  it('describes one metric alarm by name and caches its comparison operator per container', async () => {
    // Prepare
    let t = 0;
    cw.on(DescribeAlarmsCommand).resolves({
      ...meta,
      MetricAlarms: [
        { AlarmName: 'cpu-band', ComparisonOperator: 'LessThanLowerOrGreaterThanUpperThreshold' },
      ],
    });
    const alarms = cloudWatchAlarms(new CloudWatchClient({ region: 'eu-west-1' }), 'eu-west-1', () => t);

    // Act
    const first = await alarms.comparison('cpu-band');
    t += ALARM_CACHE_MS - 1;
    const cached = await alarms.comparison('cpu-band');
    t += 2;
    const again = await alarms.comparison('cpu-band');

    // Assert
    expect([first, cached, again]).toEqual(Array(3).fill('LessThanLowerOrGreaterThanUpperThreshold'));
    expect(cw).toReceiveCommandTimes(DescribeAlarmsCommand, 2);
    expect(cw).toReceiveCommandWith(DescribeAlarmsCommand, {
      AlarmNames: ['cpu-band'],
      AlarmTypes: ['MetricAlarm'],
    });
  });

  it('answers undefined for an alarm that does not exist, and wraps a failure naming the alarm', async () => {
    const alarms = cloudWatchAlarms(new CloudWatchClient({ region: 'eu-west-1' }), 'eu-west-1');
    cw.on(DescribeAlarmsCommand, { AlarmNames: ['gone'] }).resolves({ ...meta, MetricAlarms: [] });
    cw.on(DescribeAlarmsCommand, { AlarmNames: ['denied'] }).rejects(
      Object.assign(new Error('no'), { name: 'AccessDenied' }),
    );

    expect(await alarms.comparison('gone')).toBeUndefined();
    const e = await alarms.comparison('denied').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AwsCallError);
    expect((e as AwsCallError).message).toMatch(
      /DescribeAlarms failed for alarm denied in eu-west-1: AccessDenied/,
    );
  });

  it("reads the states of 250 alarms in 3 calls of at most 100 names, following each call's pages", async () => {
    // Prepare: the first call's answer comes in two pages; one alarm is composite, one does not exist.
    const names = Array.from({ length: 250 }, (_, i) => `db-${String(i).padStart(3, '0')}-cpu-high`);
    const since = new Date('2026-01-15T10:00:00Z');
    const alarm = (name: string) => ({
      AlarmName: name,
      StateValue: name === 'db-007-cpu-high' ? 'INSUFFICIENT_DATA' : 'OK',
      StateTransitionedTimestamp: since,
      StateUpdatedTimestamp: new Date('2026-01-15T11:00:00Z'),
    });
    cw.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames: string[]; NextToken?: string }) => {
      const asked = input.AlarmNames.filter((n) => n !== 'db-249-cpu-high');
      if (asked[0] === 'db-000-cpu-high' && !input.NextToken)
        return { ...meta, MetricAlarms: asked.slice(0, 50).map(alarm), NextToken: 'page-2' };
      if (input.NextToken) return { ...meta, MetricAlarms: asked.slice(50).map(alarm) };
      if (asked[0] === 'db-200-cpu-high')
        return {
          ...meta,
          MetricAlarms: asked.slice(1).map(alarm),
          CompositeAlarms: [{ ...alarm(asked[0]), StateTransitionedTimestamp: undefined }],
        };
      return { ...meta, MetricAlarms: asked.map(alarm) };
    });
    const alarms = cloudWatchAlarms(new CloudWatchClient({ region: 'eu-west-1' }), 'eu-west-1');

    // Act
    const states = await alarms.states!([...names, names[0]!]);

    // Assert
    const calls = cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(4);
    expect(calls.map((c) => c.AlarmNames?.length)).toEqual([
      ALARM_NAMES_PER_CALL,
      ALARM_NAMES_PER_CALL,
      ALARM_NAMES_PER_CALL,
      50,
    ]);
    expect(calls[1]).toMatchObject({ AlarmNames: calls[0]!.AlarmNames, NextToken: 'page-2' });
    expect(calls[0]).toMatchObject({ AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100 });
    expect(states.size).toBe(249);
    expect(states.get('db-007-cpu-high')).toEqual({ state: 'INSUFFICIENT_DATA', since });
    expect(states.get('db-120-cpu-high')).toEqual({ state: 'OK', since });
    // A composite alarm without a transition time: its last state update.
    expect(states.get('db-200-cpu-high')).toEqual({ state: 'OK', since: new Date('2026-01-15T11:00:00Z') });
    expect(states.has('db-249-cpu-high')).toBe(false);
  });

  it('a failed page names the operation and the alarms it read', async () => {
    cw.on(DescribeAlarmsCommand).rejects(Object.assign(new Error('slow down'), { name: 'Throttling' }));
    const alarms = cloudWatchAlarms(new CloudWatchClient({ region: 'eu-west-1' }), 'eu-west-1');

    const e = await alarms.states!(['a-high', 'b-high']).catch((x: unknown) => x);

    expect(e).toBeInstanceOf(AwsCallError);
    expect((e as AwsCallError).message).toMatch(
      /DescribeAlarms failed for 2 alarms in eu-west-1 \(a-high, \.\.\.\)/,
    );
  });
});
