import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ALARM_CACHE_MS, cloudWatchAlarms } from '../../../shared/aws/cloudwatch-alarms.js';
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
});
