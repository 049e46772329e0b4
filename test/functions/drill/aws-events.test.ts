import { describe, expect, it } from 'vitest';
import aborted from '../../../events/drill/aws-execution-aborted.json' with { type: 'json' };
import failed from '../../../events/drill/aws-execution-failed.json' with { type: 'json' };
import succeeded from '../../../events/drill/aws-execution-succeeded.json' with { type: 'json' };
import timedOut from '../../../events/drill/aws-execution-timed-out.json' with { type: 'json' };
import { type DrillDeps, run } from '../../../functions/drill/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { AwsCallError } from '../../../shared/errors.js';
import {
  fakeReportStore,
  fakeRestorePort,
  fakeSentAlerts,
  fakeTaskSignal,
  fakeTokenStore,
} from '../../fakes/drill-ports.js';

// The documented examples name state machine `state-machine` in account 012345678912; steward's is
// `steward-<stage>-drill`, so the examples are pointed at it (the only change) to be ours.
const OURS = 'arn:aws:states:us-east-1:012345678912:stateMachine:steward-prod-drill';
const ours = <T extends { detail: { stateMachineArn: string } }>(e: T): T => {
  const c = structuredClone(e);
  c.detail.stateMachineArn = OURS;
  return c;
};

const setup = (error?: string | Error) => {
  const restore = fakeRestorePort('us-east-1');
  restore.resources.set('steward-drill-orders-db-1a2b3c4d', {
    kind: 'rds-instance',
    id: 'steward-drill-orders-db-1a2b3c4d',
    tags: { 'steward:drill': 'execution-name', 'steward:managed': 'true' },
    status: 'available',
    createdAt: '2019-02-26T23:53:00Z',
  });
  restore.resources.set('steward-drill-orders-db-99999999', {
    kind: 'rds-instance',
    id: 'steward-drill-orders-db-99999999',
    tags: { 'steward:drill': 'another-running-drill', 'steward:managed': 'true' },
    status: 'available',
  });
  const notifier = memoryNotifier();
  const asked: string[] = [];
  const deps: DrillDeps = {
    config: parseConfig({ stage: 'prod', region: 'us-east-1' }, 'test'),
    dryRun: false,
    notifier,
    now: () => new Date('2019-02-26T23:57:00Z'),
    restore,
    tokens: fakeTokenStore(),
    signal: fakeTaskSignal(),
    reports: fakeReportStore(),
    network: {},
    executions: {
      errorOf: async (arn) => {
        asked.push(arn);
        if (error instanceof Error) throw error;
        return error;
      },
    },
    alerts: fakeSentAlerts(() => new Date('2019-02-26T23:57:00Z')),
  };
  return { deps, notifier, restore, asked };
};

describe('a drill execution that ends outside steward’s own handling', () => {
  it.each([
    ['ABORTED', aborted, /stopped it \(StopExecution\)/],
    ['TIMED_OUT', timedOut, /state machine's own timeout/],
  ])(
    '%s: a critical alert at once, and only that execution’s restored database is deleted',
    async (status, e, why) => {
      // Prepare
      const { deps, notifier, restore } = setup();

      // Act
      const r = await run(ours(e), deps);

      // Assert
      expect(r).toMatchObject({ outcome: 'alerted', status });
      expect(restore.removed).toEqual(['steward-drill-orders-db-1a2b3c4d']);
      expect(notifier.sent).toHaveLength(1);
      expect(notifier.sent[0]).toMatchObject({
        severity: 'critical',
        subject: `Drill execution execution-name ended ${status} outside the drill's own handling`,
      });
      expect(notifier.sent[0]!.lines.join('\n')).toMatch(why);
    },
  );

  it('FAILED by a service error (not the drill’s own DrillFailed state): alert and clean up', async () => {
    const { deps, restore, asked } = setup('States.Runtime');

    const r = await run(ours(failed), deps);

    expect(asked).toEqual([failed.detail.executionArn]);
    expect(r).toMatchObject({ outcome: 'alerted', status: 'FAILED' });
    expect(restore.removed).toEqual(['steward-drill-orders-db-1a2b3c4d']);
  });

  it('FAILED in the drill’s own DrillFailed state was recorded and notified already: ignored with the reason', async () => {
    const { deps, notifier, restore } = setup('DrillFailed');

    const r = await run(ours(failed), deps);

    expect(r).toMatchObject({
      outcome: 'ignored',
      reason: expect.stringContaining('recorded and notified already'),
    });
    expect(notifier.sent).toEqual([]);
    expect(restore.removed).toEqual([]);
  });

  it.each([
    ['a SUCCEEDED execution', ours(succeeded), /is SUCCEEDED: nothing went wrong/],
    ['another state machine (the example as published)', aborted, /is not this stage's drill state machine/],
  ])('ignores %s, saying why', async (_w, e, reason) => {
    const { deps, notifier, restore } = setup();

    const r = await run(e, deps);

    expect(r).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(reason) });
    expect(notifier.sent).toEqual([]);
    expect(restore.removed).toEqual([]);
  });

  it('FAILED whose DescribeExecution still fails: the alert says whether the drill recorded it is unknown, and cleans up', async () => {
    // Prepare: Step Functions could not be asked (the adapter retried already: shared/aws/sfn.ts)
    const unreadable = new AwsCallError(
      'DescribeExecution',
      failed.detail.executionArn,
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
    );
    const { deps, notifier, restore } = setup(unreadable);

    // Act
    const r = await run(ours(failed), deps);

    // Assert
    expect(r).toMatchObject({ outcome: 'alerted', status: 'FAILED' });
    expect(restore.removed).toEqual(['steward-drill-orders-db-1a2b3c4d']);
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]).toMatchObject({
      severity: 'critical',
      subject: 'Drill execution execution-name ended FAILED; whether the drill recorded it is unknown',
      data: expect.objectContaining({ error: 'unknown' }),
    });
    const text = notifier.sent[0]!.lines.join('\n');
    expect(text).toMatch(/Could not read how it failed \(DescribeExecution failed .*ThrottlingException/);
    expect(text).toMatch(/if it ended in the drill's own DrillFailed state, .* this alert repeats it/);
  });

  it('a retried event whose cleanup failed deletes what is left without sending the alert again', async () => {
    // Prepare: the first delete is refused, so the run fails after its alert (Lambda retries the event)
    const { deps, notifier, restore } = setup();
    const remove = restore.remove.bind(restore);
    let refusals = 1;
    restore.remove = async (x) => {
      if (refusals-- > 0) throw Object.assign(new Error('throttled'), { name: 'Throttling' });
      return remove(x);
    };

    // Act
    const first = await run(ours(aborted), deps).catch((e: unknown) => e);
    const retried = await run(ours(aborted), deps);

    // Assert
    expect(first).toBeInstanceOf(Error);
    expect(retried).toMatchObject({ outcome: 'alerted', status: 'ABORTED' });
    expect(restore.removed).toEqual(['steward-drill-orders-db-1a2b3c4d']);
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]!.lines.join('\n')).toMatch(/FAILED \(.*throttled/);
  });

  it('an alert that could not be sent is sent by the retried event', async () => {
    // Prepare
    const { deps, notifier } = setup();
    const send = notifier.send.bind(notifier);
    let failures = 1;
    notifier.send = async (m) => {
      if (failures-- > 0) throw new Error('SNS refused');
      return send(m);
    };

    // Act
    const first = await run(ours(timedOut), deps).catch((e: unknown) => e);
    await run(ours(timedOut), deps);

    // Assert
    expect(first).toBeInstanceOf(Error);
    expect(notifier.sent).toHaveLength(1);
  });

  it('sends the alert when the record of sent alerts cannot be read (a duplicate beats none)', async () => {
    // Prepare
    const { deps, notifier } = setup();
    (deps.alerts as ReturnType<typeof fakeSentAlerts>).fail = new Error('DynamoDB unavailable');

    // Act
    await run(ours(aborted), deps);

    // Assert
    expect(notifier.sent).toHaveLength(1);
  });
});
