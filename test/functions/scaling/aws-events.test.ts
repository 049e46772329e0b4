import { describe, expect, it } from 'vitest';
import anomaly from '../../../events/scaling/aws-anomaly-detection-alarm.json' with { type: 'json' };
import configCreate from '../../../events/scaling/aws-alarm-config-create.json' with { type: 'json' };
import configDelete from '../../../events/scaling/aws-alarm-config-delete.json' with { type: 'json' };
import configUpdate from '../../../events/scaling/aws-alarm-config-update.json' with { type: 'json' };
import contributor from '../../../events/scaling/aws-alarm-contributor-state-change.json' with { type: 'json' };
import composite from '../../../events/scaling/aws-composite-alarm-suppressed.json' with { type: 'json' };
import lambdaComposite from '../../../events/scaling/aws-lambda-action-composite-alarm.json' with { type: 'json' };
import lambdaMetric from '../../../events/scaling/aws-lambda-action-metric-alarm.json' with { type: 'json' };
import metricMath from '../../../events/scaling/aws-metric-math-alarm.json' with { type: 'json' };
import muted from '../../../events/scaling/aws-metric-alarm-muted.json' with { type: 'json' };
import multiSeries from '../../../events/scaling/aws-multi-time-series-alarm.json' with { type: 'json' };
import failover from '../../../events/rds/aws-instance-failover.json' with { type: 'json' };
import clusterFailover from '../../../events/rds/cluster-failover.json' with { type: 'json' };
import { run, type ScalingDeps } from '../../../functions/scaling/handler.js';
import { parseConfig, type StewardConfigInput } from '../../../shared/config/schema.js';
import { EventShapeError } from '../../../shared/errors.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { cooldownKey } from '../../../shared/scaling/ids.js';
import type { RdsInstanceState } from '../../../shared/scaling/model.js';
import { fakeScalingResources, fakeScalingStore } from '../../fakes/scaling.js';

// The AWS documentation's own example events (events/README.md), each answered by a rule on one database.
const scaleUp = {
  type: 'rds.scaleUp' as const,
  ladder: ['db.r6g.large', 'db.r6g.xlarge'],
  max: 'db.r6g.xlarge',
};
const config = (over: Record<string, unknown> = {}, alarmOver: Record<string, unknown> = {}) =>
  parseConfig(
    {
      stage: 'prod',
      region: 'us-east-1',
      scaling: {
        enabled: true,
        rules: {
          cpu: { alarm: { name: 'ServerCpuTooHigh' }, resource: 'my-db-instance', action: scaleUp },
          traffic: {
            alarm: { name: 'TotalNetworkTrafficTooHigh' },
            resource: 'my-db-instance',
            action: scaleUp,
          },
          anomaly: {
            alarm: { name: 'EC2 CPU Utilization Anomaly', ...alarmOver },
            resource: 'my-db-instance',
            action: scaleUp,
          },
          aggregated: {
            alarm: { name: 'ServiceAggregatedAlarm' },
            resource: 'my-db-instance',
            action: scaleUp,
          },
          insights: { alarm: { name: 'DynamoDBInsightsAlarm' }, resource: 'my-db-instance', action: scaleUp },
          'lambda-metric': {
            alarm: { name: 'lambda-demo-metric-alarm' },
            resource: 'my-db-instance',
            action: scaleUp,
          },
          'lambda-composite': {
            alarm: { name: 'CompositeDemo.Main' },
            resource: 'my-db-instance',
            action: scaleUp,
          },
        },
        ...over,
      },
    } satisfies StewardConfigInput,
    'test',
  );

const db: RdsInstanceState = {
  kind: 'rds-instance',
  id: 'my-db-instance',
  arn: 'arn:aws:rds:us-east-1:123456789012:db:my-db-instance',
  status: 'available',
  engine: 'postgres',
  instanceClass: 'db.r6g.large',
  multiAz: true,
  pending: [],
  replicas: [],
  tags: {},
};

const setup = (now: string, c = config(), comparison?: string) => {
  let clock = new Date(now);
  const state = fakeScalingStore(() => clock);
  const resources = fakeScalingResources('us-east-1', [db]);
  const notifier = memoryNotifier();
  const described: string[] = [];
  const deps: ScalingDeps = {
    config: c,
    dryRun: false,
    notifier,
    now: () => clock,
    resources,
    state,
    alarms: {
      comparison: async (name) => {
        described.push(name);
        return comparison;
      },
    },
  };
  return { deps, state, resources, notifier, described, at: (iso: string) => (clock = new Date(iso)) };
};
const clone = <T>(v: T): T => structuredClone(v);
const after = (iso: string, seconds: number) => new Date(Date.parse(iso) + seconds * 1000).toISOString();

describe('alarm semantics, fed the AWS documentation examples', () => {
  it('does not act on a composite alarm whose actions CloudWatch suppresses (WaitPeriod), and says so quietly', async () => {
    // Prepare
    const { deps, resources, notifier } = setup(after('2022-07-22T15:57:45.394Z', 5));

    // Act
    const r = await run(composite, deps);

    // Assert
    expect(r.decisions[0]!.decision).toMatchObject({ verdict: 'skip', reason: 'suppressed' });
    expect(r.decisions[0]!.decision).toMatchObject({ detail: expect.stringContaining('WaitPeriod') });
    expect(resources.applied).toEqual([]);
    expect(notifier.sent).toEqual([]);
  });

  it.each(['ExtensionPeriod', 'Alarm'])('also holds back actions suppressed by %s', async (by) => {
    const { deps, resources } = setup(after('2022-07-22T15:57:45.394Z', 5));
    const e = clone(composite);
    e.detail.state.actionsSuppressedBy = by;

    const r = await run(e, deps);

    expect(r.decisions[0]!.decision).toMatchObject({ reason: 'suppressed' });
    expect(resources.applied).toEqual([]);
  });

  it('acts on the Lambda alarm action of a composite alarm once the suppression is over (only previousState was suppressed)', async () => {
    const { deps, resources } = setup(after('2023-08-04T12:56:46.138Z', 3));

    const r = await run(lambdaComposite, deps);

    expect(r.decisions[0]).toMatchObject({ status: 'done', alarmName: 'CompositeDemo.Main' });
    expect(resources.applied).toHaveLength(1);
  });

  it('accepts the Lambda alarm-action payload (alarmData) of a metric alarm as an alarm transition', async () => {
    const { deps, resources } = setup(after('2023-08-04T12:36:15.490Z', 3));

    const r = await run(lambdaMetric, deps);

    expect(r.decisions[0]).toMatchObject({ status: 'done', rule: 'lambda-metric' });
    expect(resources.applied[0]).toMatchObject({ type: 'rds.modifyClass', to: 'db.r6g.xlarge' });
  });

  it('ignores, and says so, the alarm action of an alarm no rule answers: nothing read, written, changed or sent', async () => {
    // The function's resource policy lets the stage's alarms invoke it by name prefix (lambda-action delivery),
    // so another alarm of the account-region whose actions name it may; a throw would be retried and parked.
    const { deps, state, resources, notifier, described } = setup(after('2023-08-04T12:36:15.490Z', 3));
    const theirs = clone(lambdaMetric);
    theirs.alarmData.alarmName = 'someone-elses-alarm';
    theirs.alarmArn = theirs.alarmArn.replace('lambda-demo-metric-alarm', 'someone-elses-alarm');

    const r = await run(theirs, deps);

    expect(r.decisions).toEqual([]);
    expect(r.summary).toMatch(
      /^ignored: alarm "someone-elses-alarm" \(arn:aws:cloudwatch:us-east-1:444455556666:alarm:someone-elses-alarm\) invoked the function as its alarm action, but none of the 7 rules/,
    );
    expect(resources.applied).toEqual([]);
    expect(state.writes).toBe(0);
    expect(notifier.sent).toEqual([]);
    expect(described).toEqual([]);
  });

  it('still refuses a malformed alarm action before looking for its rule', async () => {
    const { deps, state } = setup(after('2023-08-04T12:36:15.490Z', 3));
    const bad = clone(lambdaMetric) as { alarmData: Partial<typeof lambdaMetric.alarmData> };
    bad.alarmData.alarmName = 'someone-elses-alarm';
    delete bad.alarmData.state;

    await expect(run(bad, deps)).rejects.toThrow(EventShapeError);
    expect(state.writes).toBe(0);
  });

  it('acts when the mute window does not cover the transition (the published example: window in 2026, ALARM in 2019)', async () => {
    const { deps, resources } = setup(after('2019-10-02T17:04:40.989Z', 4));

    const r = await run(muted, deps);

    expect(r.decisions[0]).toMatchObject({ status: 'done' });
    expect(resources.applied).toHaveLength(1);
  });

  it('does not act on a transition inside the mute window, and reports it as muted', async () => {
    // Prepare: the same event, its transition inside the mute rule's window
    const { deps, resources, notifier } = setup('2026-01-01T11:00:03Z');
    const e = clone(muted);
    e.detail.state.timestamp = '2026-01-01T11:00:00.000+0000';

    // Act
    const r = await run(e, deps);

    // Assert
    expect(r.decisions[0]!.decision).toMatchObject({
      reason: 'muted',
      detail: expect.stringContaining('alarm-mute-rule:testMute'),
    });
    expect(r.outcomes[0]).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/^muted: /) });
    expect(resources.applied).toEqual([]);
    expect(notifier.sent).toEqual([]);
  });

  it('does not scale out on an anomaly band breached below (datapoint 0.0 under the lower bound), without describing the alarm', async () => {
    const { deps, resources, described } = setup(after('2019-10-03T16:00:04.653Z', 2));

    const r = await run(anomaly, deps);

    expect(r.decisions[0]!.decision).toMatchObject({
      reason: 'wrong-side',
      detail: expect.stringContaining('breached below its band'),
    });
    expect(resources.applied).toEqual([]);
    expect(described).toEqual([]);
  });

  it('acts on the same breach when the rule answers the lower side (alarm.breach: below)', async () => {
    const { deps, resources } = setup(after('2019-10-03T16:00:04.653Z', 2), config({}, { breach: 'below' }));

    const r = await run(anomaly, deps);

    expect(r.decisions[0]).toMatchObject({ status: 'done' });
    expect(resources.applied).toHaveLength(1);
  });

  it('describes an alarm once (cached by the adapter) when the event does not say the side, and decides by its comparison', async () => {
    // Prepare: a rule that answers `above`; the event carries no band data and no operator
    const c = config({}, { breach: 'above' });
    const { deps, resources, described } = setup(
      after('2019-10-03T16:00:04.653Z', 2),
      c,
      'GreaterThanUpperThreshold',
    );
    const e = clone(anomaly);
    delete (e.detail.state as { reasonData?: string }).reasonData;

    // Act
    const r = await run(e, deps);

    // Assert
    expect(described).toEqual(['EC2 CPU Utilization Anomaly']);
    expect(r.decisions[0]).toMatchObject({ status: 'done' });
    expect(resources.applied).toHaveLength(1);
  });

  it('refuses to guess the side of a two-sided band it cannot see', async () => {
    const c = config({}, { breach: 'above' });
    const { deps, resources } = setup(
      after('2019-10-03T16:00:04.653Z', 2),
      c,
      'LessThanLowerOrGreaterThanUpperThreshold',
    );
    const e = clone(anomaly);
    delete (e.detail.state as { reasonData?: string }).reasonData;

    const r = await run(e, deps);

    expect(r.decisions[0]!.decision).toMatchObject({
      reason: 'wrong-side',
      detail: expect.stringContaining('cannot tell'),
    });
    expect(resources.applied).toEqual([]);
  });

  it('reports a stale ALARM (arrived after scaling.staleAfterMinutes) and does not act', async () => {
    const { deps, resources, notifier } = setup(after('2019-10-02T17:20:48.554Z', 16 * 60));

    const r = await run(metricMath, deps);

    expect(r.decisions[0]!.decision).toMatchObject({
      reason: 'stale',
      detail: expect.stringContaining('16 min later'),
    });
    expect(resources.applied).toEqual([]);
    expect(notifier.sent[0]!.subject).toMatch(/skipped \(stale\)/);
  });

  it('takes the stale age from config', async () => {
    const { deps, resources } = setup(
      after('2019-10-02T17:20:48.554Z', 16 * 60),
      config({ staleAfterMinutes: 30 }),
    );

    const r = await run(metricMath, deps);

    expect(r.decisions[0]).toMatchObject({ status: 'done' });
    expect(resources.applied).toHaveLength(1);
  });

  it('refuses an event from the future beyond the clock skew, naming the field; the skew is configurable', async () => {
    const early = setup(after('2019-10-02T17:20:48.554Z', -301));
    const e = await run(metricMath, early.deps).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EventShapeError);
    expect((e as EventShapeError).issues[0]).toMatch(/^detail\.state\.timestamp: .* more than 300 s ahead/);

    const lenient = setup(after('2019-10-02T17:20:48.554Z', -301), config({ clockSkewSeconds: 600 }));
    await expect(run(metricMath, lenient.deps)).resolves.toMatchObject({ action: 'alarms' });
  });

  it('answers the alarm-level state change of a multi-time-series (Metrics Insights) alarm', async () => {
    const { deps, resources } = setup(after('2025-12-01T13:42:04.919Z', 2));

    const r = await run(multiSeries, deps);

    expect(r.decisions[0]).toMatchObject({ status: 'done', rule: 'insights' });
    expect(resources.applied).toHaveLength(1);
  });

  it('ignores a per-contributor transition with its reason (the alarm-level event is the one it answers)', async () => {
    const { deps, resources } = setup('2025-12-01T13:42:06Z');

    const r = await run(contributor, deps);

    expect(r).toMatchObject({ action: 'ignored', summary: expect.stringContaining('per-contributor') });
    expect(resources.applied).toEqual([]);
  });
});

describe('alarm configuration changes', () => {
  it('warns when an alarm a rule depends on is deleted (or renamed)', async () => {
    const { deps, notifier } = setup('2022-03-03T17:07:14Z');

    const r = await run(configDelete, deps);

    expect(r.action).toBe('alarm-config');
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]).toMatchObject({
      severity: 'warning',
      subject: 'alarm TotalNetworkTrafficTooHigh was deleted: rule traffic can no longer fire',
    });
  });

  it.each([
    ['an update', configUpdate, /update of alarm ServerCpuTooHigh \(rules cpu\) is not a state change/],
    ['a create', configCreate, /create of alarm ServiceAggregatedAlarm .* is not a state change/],
  ])('ignores %s of a configured alarm as "not a state change", sending nothing', async (_w, e, summary) => {
    const { deps, notifier } = setup('2022-03-03T17:07:14Z');

    const r = await run(e, deps);

    expect(r.summary).toMatch(summary);
    expect(notifier.sent).toEqual([]);
  });

  it('refuses any other CloudWatch detail-type, naming the shapes it accepts', async () => {
    const { deps } = setup('2022-03-03T17:07:14Z');
    const e = { ...clone(configUpdate), 'detail-type': 'CloudWatch Alarm Something Else' };

    const err = (await run(e, deps).catch((x: unknown) => x)) as EventShapeError;

    expect(err).toBeInstanceOf(EventShapeError);
    expect(err.message).toMatch(/Not a CloudWatch alarm state change/);
    expect(err.issues[0]).toMatch(
      /detail-type: "CloudWatch Alarm Something Else" is not a state change; .*alarmData/,
    );
  });
});

describe('RDS failover', () => {
  it('restarts the scaling cooldown of a database a rule names (the documented RDS-EVENT-0049 example)', async () => {
    // Prepare
    const { deps, state, resources, at } = setup('2018-09-27T22:36:45Z');

    // Act
    const r = await run(failover, deps);
    at('2018-09-27T22:40:00Z');
    const alarm = clone(muted);
    alarm.detail.state.timestamp = '2018-09-27T22:39:58.000+0000';
    const next = await run(alarm, deps);

    // Assert
    expect(r).toMatchObject({
      action: 'failover',
      summary: expect.stringContaining('cooldown restarts until 2018-09-27T23:06:43.292Z'),
    });
    expect(state.items.get(cooldownKey('rds-instance', 'my-db-instance'))).toMatchObject({
      until: '2018-09-27T23:06:43.292Z',
      restartedBy: 'failover RDS-EVENT-0049 at 2018-09-27T22:36:43.292Z',
    });
    expect(next.decisions[0]!.decision).toMatchObject({ reason: 'cooldown' });
    expect(resources.applied).toEqual([]);
  });

  // An Aurora cluster rule, and an instance rule on an instance that shares the cluster's name.
  const withCluster = () =>
    config({
      rules: {
        readers: {
          alarm: { name: 'AnalyticsCpuHigh' },
          resource: 'analytics',
          kind: 'aurora-cluster',
          action: { type: 'rds.addReadReplica', maxReplicas: 3 },
          cooldownMinutes: 45,
        },
        twin: { alarm: { name: 'TwinCpuHigh' }, resource: 'analytics', action: scaleUp, cooldownMinutes: 10 },
      },
    });

  it('restarts the cooldown of an Aurora cluster a rule names on a cluster failover (RDS-EVENT-0071)', async () => {
    const { deps, state } = setup('2018-09-27T22:36:45Z', withCluster());

    const r = await run(clusterFailover, deps);

    expect(r).toMatchObject({
      action: 'failover',
      summary: expect.stringContaining('analytics failed over (RDS-EVENT-0071)'),
    });
    expect(state.items.get(cooldownKey('aurora-cluster', 'analytics'))).toMatchObject({
      until: '2018-09-27T23:21:43.292Z',
      restartedBy: 'failover RDS-EVENT-0071 at 2018-09-27T22:36:43.292Z',
    });
    // The same-named instance's rule is not the cluster's: its cooldown is left alone.
    expect(state.items.get(cooldownKey('rds-instance', 'analytics'))).toBeUndefined();
  });

  it('takes an instance failover for the instance rule, not the same-named cluster', async () => {
    const { deps, state } = setup('2018-09-27T22:36:45Z', withCluster());
    const instance = JSON.parse(
      JSON.stringify(failover).replaceAll('my-db-instance', 'analytics'),
    ) as typeof failover;

    await run(instance, deps);

    expect(state.items.get(cooldownKey('rds-instance', 'analytics'))).toMatchObject({
      until: '2018-09-27T22:46:43.292Z',
    });
    expect(state.items.get(cooldownKey('aurora-cluster', 'analytics'))).toBeUndefined();
  });

  it('ignores, with the reason, a cluster event that is not a completed failover', async () => {
    const { deps, state } = setup('2018-09-27T22:36:45Z', withCluster());
    const started = clone(clusterFailover);
    started.detail.EventID = 'RDS-EVENT-0073';

    expect(await run(started, deps)).toMatchObject({
      action: 'ignored',
      summary: expect.stringContaining('RDS-EVENT-0073 on analytics is not a failover'),
    });
    expect(state.writes).toBe(0);
  });

  it('ignores, with the reason, an RDS event that is not a failover or names no rule resource', async () => {
    const { deps, state } = setup('2018-09-27T22:36:45Z');
    const other = clone(failover);
    other.detail.EventID = 'RDS-EVENT-0088';
    const elsewhere = clone(failover);
    elsewhere.detail.SourceArn = 'arn:aws:rds:us-east-1:123456789012:db:unrelated';

    expect(await run(other, deps)).toMatchObject({
      action: 'ignored',
      summary: expect.stringContaining('RDS-EVENT-0088 on my-db-instance is not a failover'),
    });
    expect(await run(elsewhere, deps)).toMatchObject({
      action: 'ignored',
      summary: expect.stringContaining('unrelated is not a resource of any scaling rule'),
    });
    expect(state.writes).toBe(0);
  });
});
