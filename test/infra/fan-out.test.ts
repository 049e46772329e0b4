import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  childExecutionType,
  EXPRESS_CHILD_BUDGET,
  expressChildInvoke,
  fanOutStateMachineName,
} from '../../infra/fan-out.js';
import type { StewardFunction } from '../../infra/steward-function.js';
import { runFanOutLocally, type RunFanOutLocallyOptions } from '../../infra/local-fan-out.js';
import { type AslState, type CfnTemplate, definitionFromTemplate } from '../../infra/local-drill.js';
import { stackId, StewardStack } from '../../infra/stack.js';
import { type RetentionDeps, run } from '../../functions/retention/handler.js';
import { parseConfig, type StewardConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import { AwsCallError } from '../../shared/errors.js';
import { ChildExecution, fanOutTargets, ResultManifest, targetConfig } from '../../shared/fleet/fan-out.js';
import { type FleetWiring, runFleetEvent } from '../../shared/fleet/child.js';
import type { MapRunResults } from '../../shared/fleet/summary.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import { memoryDeletionBudget } from '../../shared/retention/memory-budget.js';
import { fakeSnapshotStore } from '../fakes/snapshot-store.js';
import { loadExample } from '../support/examples.js';
import { FLEET_CONFIG, SCALING_FLEET_CONFIG } from '../support/fleet.js';
import { unbundledContext } from './iam.js';

const synth = (input: StewardConfigInput) => {
  const config = parseConfig(input, 'fan-out');
  const stack = new StewardStack(new App({ context: unbundledContext }), stackId(config.stage), { config });
  return { config, template: Template.fromStack(stack) };
};

let hub: Template;
let config: StewardConfig;
beforeAll(() => {
  ({ config, template: hub } = synth(FLEET_CONFIG));
});

const machineId = (t: Template, name: string) =>
  Object.entries(t.findResources('AWS::StepFunctions::StateMachine')).find(
    ([, r]) => r.Properties.StateMachineName === name,
  )![0];

describe('the fan-out a fleet hub synthesizes', () => {
  it('renders a Distributed Map per capability with the fleet settings and the results in the report bucket', () => {
    for (const capability of ['backup', 'retention'] as const) {
      const d = definitionFromTemplate(
        hub.toJSON() as CfnTemplate,
        fanOutStateMachineName('prod', capability),
      );
      expect(d.States.EachTarget).toMatchObject({
        Type: 'Map',
        ItemsPath: '$.targets',
        MaxConcurrency: 10,
        ToleratedFailurePercentage: 50,
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
        ResultWriter: {
          Resource: 'arn:aws:states:::s3:putObject',
          Parameters: { Bucket: 'ReportsBucket95FE29A2', Prefix: `fleet/${capability}/` },
        },
      });
      // With an OU target, the first state lists the targets through the function at each cycle; the
      // summary counts what it listed.
      expect(d.States.Targets).toMatchObject({
        Type: 'Task',
        Parameters: { action: 'fan-out-targets', capability, partition: 'aws', 'event.$': '$' },
      });
      expect(d.States.Summarise).toMatchObject({
        Parameters: { 'targets.$': 'States.ArrayLength($.targets)' },
      });
    }
    // Known at synth: the hub's own, 222222222222 in two regions, 333333333333; the OU's are listed.
    expect(fanOutTargets(config, 'backup').map((t) => `${t.account} ${t.region}`)).toEqual([
      '111111111111 eu-west-1',
      '222222222222 eu-west-1',
      '222222222222 eu-central-1',
      '333333333333 eu-west-1',
    ]);
  });

  it("lets the backup and retention functions list the OU targets' accounts, in the organization only", () => {
    const arn = (kind: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          `:organizations::*:${kind}/o-a1b2c3d4e5/${kind === 'ou' ? 'ou' : 'r'}-*`,
        ],
      ],
    });
    const listing = Object.values(hub.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.PolicyDocument.Statement as { Sid?: string }[]).some(
        (st) => st.Sid === 'ListOrganizationalUnitAccounts',
      ),
    );
    expect(listing.map((p) => p.Properties.Roles).flat()).toEqual([
      { Ref: expect.stringMatching(/^BackupFunction.*Role/) },
      { Ref: expect.stringMatching(/^RetentionFunction.*Role/) },
    ]);
    for (const p of listing)
      expect(p.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Sid: 'ListOrganizationalUnitAccounts',
          Action: ['organizations:ListAccountsForParent', 'organizations:ListChildren'],
          Resource: [arn('ou'), arn('root')],
        }),
      );
  });

  it('starts the cycles from the schedules, which no longer invoke the functions', () => {
    const schedules = Object.values(hub.findResources('AWS::Scheduler::Schedule'));
    const byName = (n: string) => schedules.find((s) => s.Properties.Name === n)!.Properties.Target;
    expect(byName('steward-prod-retention').Arn).toEqual({
      Ref: machineId(hub, 'steward-prod-retention-fleet'),
    });
    for (const policy of ['backup-daily', 'backup-nightly', 'backup-copies'])
      expect(byName(`steward-prod-${policy}`).Arn).toEqual({
        Ref: machineId(hub, 'steward-prod-backup-fleet'),
      });
    expect(JSON.parse(byName('steward-prod-backup-daily').Input as string)).toEqual({
      action: 'scheduled-backup',
      policy: 'daily',
      scheduledTime: '<aws.scheduler.scheduled-time>',
    });
  });

  // A cycle may end FAILED having told nobody (its summary state's own parameters failing, SQS refusing the parked
  // message: run locally below), and only such a cycle ends FAILED (one that told its failure ends SUCCEEDED: "tells
  // one failed cycle once" below). Each fleet state machine's ExecutionsFailed alarms to the warning topic, so no
  // FAILED cycle goes unheard; TIMED_OUT and ABORTED already park through the status-change rule (no alarm).
  it('warns of every cycle that ends FAILED: one ExecutionsFailed alarm per fleet state machine, to the warning topic', () => {
    // Prepare: backup, retention and the scale-in check fan out
    const { template } = synth(SCALING_FLEET_CONFIG);
    const warning = Object.entries(template.findResources('AWS::SNS::Topic')).find(
      ([, r]) => r.Properties.TopicName === 'steward-prod-warning',
    )![0];
    const onStates = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.Namespace === 'AWS/States',
    );
    // Assert
    expect(onStates.map((a) => a.Properties.AlarmName).sort()).toEqual(
      ['backup', 'retention', 'scaling'].map((c) => `steward-prod-${c}-fleet-failed`),
    );
    for (const capability of ['backup', 'retention', 'scaling'] as const)
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `steward-prod-${capability}-fleet-failed`,
        Namespace: 'AWS/States',
        MetricName: 'ExecutionsFailed',
        Dimensions: [
          {
            Name: 'StateMachineArn',
            Value: { Ref: machineId(template, fanOutStateMachineName('prod', capability)) },
          },
        ],
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: warning }],
        AlarmDescription: Match.stringLikeRegexp(
          `steward-prod-${capability}-fleet\\) ended FAILED having told nobody`,
        ),
      });
  });

  it('lets the functions run one child per target at once, up to maxConcurrency', () => {
    hub.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'steward-prod-backup',
      ReservedConcurrentExecutions: 10,
    });
    hub.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'steward-prod-retention',
      ReservedConcurrentExecutions: 10,
    });
  });

  it('takes maxConcurrency and toleratedFailurePercentage from config', () => {
    const { template } = synth({
      ...FLEET_CONFIG,
      fleet: { ...FLEET_CONFIG.fleet, maxConcurrency: 3, toleratedFailurePercentage: 5 },
    });
    const d = definitionFromTemplate(template.toJSON() as CfnTemplate, 'steward-prod-retention-fleet');
    expect(d.States.EachTarget).toMatchObject({ MaxConcurrency: 3, ToleratedFailurePercentage: 5 });
  });

  it('renders no fan-out for a single-account stage, whose schedules invoke the functions as before', () => {
    const { template } = synth(loadExample('prod'));
    const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    expect(machines.map((m) => m.Properties.StateMachineName)).not.toContainEqual(
      expect.stringMatching(/-fleet$/),
    );
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'steward-prod-retention',
      Target: {
        Arn: Match.objectLike({
          'Fn::GetAtt': Match.arrayWith([Match.stringLikeRegexp('^RetentionFunction')]),
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'steward-prod-retention',
      ReservedConcurrentExecutions: 1,
    });
    expect(JSON.stringify(template.findResources('AWS::CloudWatch::Alarm'))).not.toContain(
      'ExecutionsFailed',
    );
  });

  it("runs the scale-in check's children as EXPRESS, each bounded well within Express's 5 minutes, and logged", () => {
    // Prepare
    const { template } = synth(SCALING_FLEET_CONFIG);
    const json = template.toJSON() as CfnTemplate;
    // Act
    const d = definitionFromTemplate(json, fanOutStateMachineName('prod', 'scaling'));
    const map = d.States.EachTarget as unknown as {
      ItemProcessor: { ProcessorConfig: unknown; States: Record<string, AslState> };
      ToleratedFailurePercentage: number;
      ResultWriter: unknown;
    };
    const child = map.ItemProcessor.States.RunTarget as {
      TimeoutSeconds: number;
      Retry?: {
        ErrorEquals: string[];
        MaxAttempts: number;
        IntervalSeconds: number;
        BackoffRate: number;
        JitterStrategy?: string;
      }[];
    };
    // Assert: Express children, failures still tolerated per target and exported.
    expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' });
    expect(map.ToleratedFailurePercentage).toBe(50);
    expect(map.ResultWriter).toMatchObject({ Parameters: { Prefix: 'fleet/scaling/' } });
    // A throttled child is retried as a Standard child is (6 times, 2 s doubling): Lambda refuses a throttled
    // invoke at once (HTTP 429, before the function runs), so a fleet-wide burst of throttles does not fail targets.
    const retriers = child.Retry ?? [];
    const throttled = retriers.find((r) => r.ErrorEquals.includes('Lambda.TooManyRequestsException'));
    expect(throttled).toMatchObject({
      ErrorEquals: ['Lambda.TooManyRequestsException'],
      MaxAttempts: 6,
      IntervalSeconds: 2,
      BackoffRate: 2,
    });
    // Every child of the fleet is throttled in the same second: each waits a random part of its backoff
    // (full jitter, never longer than the backoff, so the worst case below holds), not all in lockstep.
    for (const r of retriers) expect(r.JitterStrategy, r.ErrorEquals.join()).toBe('FULL');
    // The worst child: every attempt that reached the function waits its full timeout (the function's 2 minutes
    // + 10 s), a throttled one nothing; plus every backoff.
    const waits = (r: (typeof retriers)[number]) =>
      Array.from({ length: r.MaxAttempts }, (_, i) => r.IntervalSeconds * r.BackoffRate ** i).reduce(
        (a, b) => a + b,
        0,
      );
    const ran = 1 + retriers.filter((r) => r !== throttled).reduce((n, r) => n + r.MaxAttempts, 0);
    expect(child.TimeoutSeconds).toBe(130);
    expect(ran * child.TimeoutSeconds + retriers.reduce((n, r) => n + waits(r), 0)).toBeLessThanOrEqual(
      EXPRESS_CHILD_BUDGET.toSeconds(),
    );
    expect(EXPRESS_CHILD_BUDGET.toSeconds()).toBeLessThan(300);
    // Express children keep no history: the state machine logs every event to a log group kept 90 days.
    const [id] = Object.entries(template.findResources('AWS::StepFunctions::StateMachine')).find(
      ([, r]) => r.Properties.StateMachineName === 'steward-prod-scaling-fleet',
    )!;
    const machine = json.Resources[id] as unknown as { Properties: { LoggingConfiguration: unknown } };
    expect(machine.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL' });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/vendedlogs/states/steward-prod-scaling-fleet',
      RetentionInDays: 90,
    });
    // Backup and retention keep STANDARD children (their functions may run past 5 minutes).
    for (const capability of ['backup', 'retention'] as const)
      expect(childExecutionType(capability)).toBe('STANDARD');
  });

  it("alarms and the dashboard read steward's fleet-wide series only: a per-target series exists only for news", () => {
    // Prepare: a fleet hub with scaling alarms, the DR-lag alarm's policies and the dashboard
    const { template } = synth({ ...SCALING_FLEET_CONFIG, dashboard: true });
    // Act
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties as { Dimensions?: { Name: string }[] },
    );
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    // Assert
    expect(alarms.length).toBeGreaterThan(0);
    for (const a of alarms) expect((a.Dimensions ?? []).map((d) => d.Name)).not.toContain('Account');
    expect(dashboards).toHaveLength(1);
    expect(JSON.stringify(dashboards[0]!.Properties.DashboardBody)).not.toMatch(/\\?"(Account|Region)\\?"/);
  });

  it('refuses an Express child whose function may run past what an Express execution may last', () => {
    // Prepare
    const slow = {
      fn: { timeout: Duration.minutes(5) },
      shortName: 'retention',
    } as unknown as StewardFunction;
    const quick = {
      fn: { timeout: Duration.seconds(30) },
      shortName: 'scaling',
    } as unknown as StewardFunction;
    // Act + Assert
    expect(() => expressChildInvoke(slow)).toThrow(/retention: an Express fan-out child waits 310 s/);
    // A quick function keeps more retries of the other service errors too, still within the budget.
    expect(expressChildInvoke(quick).retries.map((r) => [r.errors, r.maxAttempts])).toEqual([
      [['Lambda.TooManyRequestsException'], 6],
      [expect.not.arrayContaining(['Lambda.TooManyRequestsException']), 2],
    ]);
  });

  it('renders no scaling fan-out for a single-account stage: the scale-in schedule invokes the function', () => {
    // Prepare: the fleet's scaling rules (one scaling in), without targets or fleet
    const { fleet: _fleet, targets: _targets, ...single } = SCALING_FLEET_CONFIG;
    // Act
    const { template } = synth(single);
    // Assert
    const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    expect(machines.map((m) => m.Properties.StateMachineName)).not.toContainEqual(
      expect.stringMatching(/-fleet$/),
    );
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'steward-prod-scaling-scale-in',
      Target: {
        Arn: Match.objectLike({
          'Fn::GetAtt': Match.arrayWith([Match.stringLikeRegexp('^ScalingFunction')]),
        }),
        Input: JSON.stringify({ action: 'scale-in-check', scheduledTime: '<aws.scheduler.scheduled-time>' }),
      },
    });
  });
});

// The rendered definition, run locally over the four targets with the real retention handler core (its
// stores in-memory), one target refusing AssumeRole. aws-local-stepfunctions runs Map inline only; the
// ResultWriter export, ToleratedFailurePercentage and a child failing alone are emulated by
// infra/local-fan-out.ts (see there).
describe('a retention cycle run locally over the targets', () => {
  const REFUSED = '222222222222 eu-central-1';
  /** The output of a cycle that told its failure: it ends SUCCEEDED, saying how it was told. */
  const toldOutput = (outcome: 'notified' | 'parked', error: string) => ({
    cycle: 'FAILED',
    outcome:
      outcome === 'notified' ? 'notified by the summary' : 'summary failed, parked in steward-prod-failures',
    error: expect.objectContaining({ Error: error }) as unknown,
  });
  const cycle = async (
    c: StewardConfig,
    refused: string[],
    organization: {
      ous?: Record<string, string[]>;
      management?: string;
      refused?: boolean;
      managementRefused?: boolean;
    } = {},
    /** The summary itself fails: its read of the Map Run's export, or its notification. */
    summaryFails?: 'read' | 'notify',
    local: {
      /** Rewrites what the function answered a state (a function out of step with the definition). */
      answer?: (stateName: string, output: unknown) => unknown;
      sqs?: RunFanOutLocallyOptions['sqs'];
    } = {},
  ) => {
    const { template } = synth({ ...FLEET_CONFIG, fleet: c.fleet! });
    const definition = definitionFromTemplate(
      template.toJSON() as CfnTemplate,
      'steward-prod-retention-fleet',
    );
    const notifier = memoryNotifier();
    const send = notifier.send;
    if (summaryFails === 'notify')
      notifier.send = async (n) => {
        if (n.subject.startsWith('Fleet'))
          throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' });
        return send(n);
      };
    const objects = new Map<string, string>();
    const ran: string[] = [];
    const configs = new Map<string, StewardConfig>();
    const results: MapRunResults = {
      read: async (bucket, key) => {
        if (summaryFails === 'read')
          throw new AwsCallError(
            'GetObject',
            `s3://${bucket}/${key}`,
            Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }),
          );
        const json = (k: string) => JSON.parse(objects.get(`${bucket}/${k}`)!) as unknown;
        const m = ResultManifest.parse(json(key));
        const files = (l: { Key: string }[]) =>
          l.flatMap((f) => (json(f.Key) as unknown[]).map((x) => ChildExecution.parse(x)));
        return {
          succeeded: files(m.ResultFiles.SUCCEEDED),
          failed: files(m.ResultFiles.FAILED),
          pending: [],
        };
      },
    };
    const base = { config: c, dryRun: false, notifier, now: () => new Date('2026-11-23T04:30:00Z') };
    const wiring: FleetWiring<RetentionDeps> = {
      hub: () => {
        throw new Error('a child always names its target');
      },
      target: async (t) => {
        if (refused.includes(`${t.account} ${t.region}`))
          throw new AwsCallError(
            'AssumeRole',
            `${t.roleArn} (target ${t.account} ${t.region})`,
            Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' }),
          );
        ran.push(`${t.account} ${t.region}`);
        configs.set(`${t.account} ${t.region}`, targetConfig(c, t));
        return {
          ...base,
          config: targetConfig(c, t),
          stores: [fakeSnapshotStore(t.region)],
          budget: memoryDeletionBudget(),
        };
      },
      summary: () => ({ notifier, results }),
      listing: () => ({
        config: c,
        capability: 'retention',
        directory: {
          accountsUnder: async (ou) => {
            if (organization.refused)
              throw new AwsCallError(
                'ListAccountsForParent',
                ou,
                Object.assign(new Error('You don’t have permissions to access this resource.'), {
                  name: 'AccessDeniedException',
                }),
              );
            return organization.ous?.[ou] ?? [];
          },
          managementAccount: async () => {
            if (organization.managementRefused)
              throw new AwsCallError(
                'DescribeOrganization',
                'organization',
                Object.assign(new Error('You don’t have permissions to access this resource.'), {
                  name: 'AccessDeniedException',
                }),
              );
            return organization.management ?? '999999999999';
          },
        },
      }),
    };
    const execution = await runFanOutLocally({
      definition,
      input: { action: 'retention', scheduledTime: '2026-11-23T04:30:00Z' },
      objects,
      invoke: async ({ stateName, payload }) => {
        const output = await runFleetEvent(payload, wiring, run);
        return local.answer ? local.answer(stateName, output) : output;
      },
      ...(local.sqs ? { sqs: local.sqs, retryMs: 0 } : {}),
    });
    return { execution, notifier, ran, objects, configs };
  };

  it('runs every other target, exports each child, and the summary names the one that failed', async () => {
    // Act
    const { execution, notifier, ran, objects } = await cycle(config, [REFUSED]);
    // Assert: three children ran; the failed one is in FAILED_0.json with its account and region
    expect(ran.sort()).toEqual([
      '111111111111 eu-west-1',
      '222222222222 eu-west-1',
      '333333333333 eu-west-1',
    ]);
    const failed = [...objects].find(([k]) => k.endsWith('FAILED_0.json'))!;
    expect(JSON.parse(failed[1])).toEqual([
      expect.objectContaining({ Status: 'FAILED', Error: 'TargetFailedError' }),
    ]);
    // The summary's notification names the target; having told it, the execution ends SUCCEEDED, saying so in
    // its output (a FAILED execution is what the ExecutionsFailed alarm warns of: a second message).
    const summary = notifier.sent.find((n) => n.subject.startsWith('Fleet'))!;
    expect(summary.subject).toBe('Fleet retention: 1 of 4 targets failed');
    expect(summary.lines[0]).toMatch(
      /^222222222222 eu-central-1 \(targets\[1\]\): TargetFailedError: Target 222222222222 eu-central-1 \(targets\[1\]\): access denied/,
    );
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toEqual(toldOutput('notified', 'FleetCycleFailedError'));
    // It told its failure itself: nothing parks in the failure queue.
    expect(execution.messages).toEqual([]);
  });

  // The summary's own failure (after its retries) used to end the execution FAILED like the summary's deliberate
  // FAILED after it notified, and the execution-status rule parks only TIMED_OUT and ABORTED: a cycle whose
  // summary crashed told nobody. Its Catch now parks it in the failure queue (whose alarm warns), and, told, the
  // cycle ends SUCCEEDED (no second message from the ExecutionsFailed alarm).
  it.each([
    ['its read of the Map Run export', 'read', 'AwsCallError', 'GetObject'],
    ['its notification', 'notify', 'PartialFailureError', 'warning notification (Rate exceeded)'],
  ] as const)(
    'parks a cycle whose summary failed (%s) in the failure queue, naming the execution and the error',
    async (_, fails, error, cause) => {
      // Act: one target refused, then the summary fails
      const { execution, notifier } = await cycle(config, [REFUSED], {}, fails);
      // Assert
      expect(notifier.sent.filter((n) => n.subject.startsWith('Fleet'))).toEqual([]);
      expect(execution.status).toBe('SUCCEEDED');
      expect(execution.output).toEqual(toldOutput('parked', error));
      expect(execution.messages).toHaveLength(1);
      const [parked] = execution.messages;
      expect(parked!.queueUrl).toMatch(/FailureQueue/);
      expect(parked!.body).toMatchObject({
        problem:
          "The fleet retention cycle's summary failed: this cycle's failures may not have been notified",
        capability: 'retention',
        execution: expect.stringMatching(/^arn:aws:states:/) as unknown,
        error: { Error: error, Cause: expect.stringContaining(cause) as unknown },
      });
    },
  );

  // Two ends no Catch can turn into a message: a summary state whose own parameters fail (States.Runtime, which
  // Step Functions never lets a Catch or Retry take) and SQS refusing the parked message after its retries. Both
  // end the execution FAILED, with neither the summary's notification nor a parked message: only the fleet
  // state machine's ExecutionsFailed alarm hears of them (above, "warns of every cycle that ends FAILED").
  it("ends FAILED, telling nobody, when a summary state's own parameters fail (States.Runtime)", async () => {
    // Act: the listing answers without `unlisted` (a function out of step with the definition), which the
    // summary's parameters read
    const { execution, notifier, ran } = await cycle(config, [], {}, undefined, {
      answer: (state, out) => {
        if (state !== 'Targets') return out;
        const { unlisted: _, ...rest } = out as Record<string, unknown>;
        return rest;
      },
    });
    // Assert: every target ran, then the summary never started, and nothing was told or parked
    expect(ran).toHaveLength(4);
    expect(execution.status).toBe('FAILED');
    expect(execution.error?.Error).toBe('States.Runtime');
    expect(notifier.sent.filter((n) => n.subject.startsWith('Fleet'))).toEqual([]);
    expect(execution.messages).toEqual([]);
  });

  it('ends FAILED, telling nobody, when SQS refuses the parked message after its retries', async () => {
    // Prepare: the summary's notification fails, and SQS refuses every SendMessage
    const sent: string[] = [];
    const sqs = (m: { stateName: string }) => {
      sent.push(m.stateName);
      throw Object.assign(new Error('Access to the resource is denied.'), { name: 'SQS.AmazonSQSException' });
    };
    // Act
    const { execution, notifier } = await cycle(config, [REFUSED], {}, 'notify', { sqs });
    // Assert: the park was tried once and retried six times, then the execution failed with SQS's error
    expect(sent).toEqual(Array(7).fill('ParkSummaryFailure'));
    expect(execution.status).toBe('FAILED');
    expect(execution.error?.Error).toBe('SQS.AmazonSQSException');
    expect(notifier.sent.filter((n) => n.subject.startsWith('Fleet'))).toEqual([]);
    expect(execution.messages).toEqual([]);
  });

  // One failure, one message. An operator hears of a cycle through the summary's notification, a message parked in
  // the failure queue (its alarm warns) and, for an execution that ends FAILED, the fleet state machine's
  // ExecutionsFailed alarm. A cycle that told its failure itself used to end FAILED as well: two messages.
  const withoutUnlisted = (state: string, out: unknown) => {
    if (state !== 'Targets') return out;
    const { unlisted: _, ...rest } = out as Record<string, unknown>;
    return rest;
  };
  const sqsRefuses = () => {
    throw Object.assign(new Error('Access to the resource is denied.'), { name: 'SQS.AmazonSQSException' });
  };
  const notified = { told: 1, parked: 0, alarmed: 0 };
  const parked = { told: 0, parked: 1, alarmed: 0 };
  const alarmed = { told: 0, parked: 0, alarmed: 1 };
  it.each([
    ['targets failed: the summary notified them', notified, [REFUSED], undefined, {}],
    [
      'the listing failed as a whole: the summary notified it',
      notified,
      [],
      undefined,
      {},
      { managementRefused: true },
    ],
    ['the summary failed: the cycle was parked in the failure queue', parked, [REFUSED], 'notify', {}],
    [
      "the summary state's own parameters failed (States.Runtime)",
      alarmed,
      [],
      undefined,
      { answer: withoutUnlisted },
    ],
    ['SQS refused the parked message', alarmed, [REFUSED], 'notify', { sqs: sqsRefuses }],
  ] as const)(
    'tells one failed cycle once: %s',
    async (_, expected, refused, summaryFails, local, organization: Parameters<typeof cycle>[2] = {}) => {
      // Act
      const { execution, notifier } = await cycle(config, [...refused], organization, summaryFails, local);
      // Assert: the summary's notifications, the parked messages, the ExecutionsFailed alarm (a FAILED execution)
      expect({
        told: notifier.sent.filter((n) => n.subject.startsWith('Fleet')).length,
        parked: execution.messages.length,
        alarmed: execution.status === 'FAILED' ? 1 : 0,
      }).toEqual(expected);
    },
  );

  it('parks a cycle whose summary of a failed listing failed too', async () => {
    // Act
    const { execution, ran } = await cycle(config, [], { managementRefused: true }, 'notify');
    // Assert
    expect(ran).toEqual([]);
    expect(execution.output).toEqual(toldOutput('parked', 'PartialFailureError'));
    expect(execution.messages).toHaveLength(1);
  });

  it('parks a cycle whose summary of a Map Run that failed as a whole failed too', async () => {
    // Prepare: 2 of 4 failing is over a tolerated 25 %
    const strict = parseConfig(
      { ...FLEET_CONFIG, fleet: { ...FLEET_CONFIG.fleet, toleratedFailurePercentage: 25 } },
      'x',
    );
    // Act
    const { execution } = await cycle(strict, [REFUSED, '333333333333 eu-west-1'], {}, 'notify');
    // Assert
    expect(execution.output).toEqual(toldOutput('parked', 'PartialFailureError'));
    expect(execution.messages).toHaveLength(1);
  });

  it('succeeds without a summary notification when every target succeeds', async () => {
    // Act
    const { execution, notifier, ran } = await cycle(config, []);
    // Assert
    expect(ran).toHaveLength(4);
    expect(execution.status).toBe('SUCCEEDED');
    expect(notifier.sent.filter((n) => n.subject.startsWith('Fleet'))).toEqual([]);
  });

  it('fails the cycle past the tolerated share, and the summary says so', async () => {
    // Prepare: 2 of 4 failing is 50 %, over a tolerated 25 %
    const strict = parseConfig(
      { ...FLEET_CONFIG, fleet: { ...FLEET_CONFIG.fleet, toleratedFailurePercentage: 25 } },
      'x',
    );
    // Act
    const { execution, notifier } = await cycle(strict, [REFUSED, '333333333333 eu-west-1']);
    // Assert
    const summary = notifier.sent.find((n) => n.subject.startsWith('Fleet'))!;
    expect(summary.subject).toBe('Fleet retention: the cycle failed over 4 targets');
    expect(summary.lines[0]).toContain('States.ExceedToleratedFailureThreshold');
    expect(execution.output).toEqual(toldOutput('notified', 'FleetCycleFailedError'));
  });

  it('runs the account targets when an OU listing fails, names the OU, and ends the cycle as failed, told', async () => {
    // Act: Organizations refuses the OU's listing
    const { execution, notifier, ran } = await cycle(config, [], { refused: true });
    // Assert: one OU's listing no longer skips every target: the four account-regions ran, and the OU that was
    // not listed is named, critical, and the cycle's output says it failed (told, so nothing is parked)
    expect(ran.sort()).toEqual([
      '111111111111 eu-west-1',
      '222222222222 eu-central-1',
      '222222222222 eu-west-1',
      '333333333333 eu-west-1',
    ]);
    const summary = notifier.sent.find((n) => n.subject.startsWith('Fleet'));
    expect(summary?.subject).toBe(
      'Fleet retention: 1 organizational unit not listed (ou-ab12-cd34ef56), their accounts did not run',
    );
    expect(summary!.severity).toBe('critical');
    expect(summary!.lines[0]).toMatch(
      /^Organizational unit ou-ab12-cd34ef56 \(targets\[3\]\) could not be listed, none of its accounts ran: AccessDeniedException: ListAccountsForParent failed/,
    );
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toEqual(toldOutput('notified', 'FleetCycleFailedError'));
    expect(execution.messages).toEqual([]);
  });

  it('tells a cycle whose listing failed as a whole, with the error, and ends it as failed, told', async () => {
    // Act: Organizations refuses DescribeOrganization (the hub is not the management or a delegated administrator account)
    const { execution, notifier, ran } = await cycle(config, [], { managementRefused: true });
    // Assert: no child ran, and the cycle did not end silently: the summary says why (it used to fail unseen,
    // with no notification and no alarm, every target's run skipped)
    expect(ran).toEqual([]);
    const summary = notifier.sent.find((n) => n.subject.startsWith('Fleet'));
    expect(summary?.subject).toBe('Fleet retention: the cycle failed over 4 targets');
    expect(summary!.severity).toBe('critical');
    expect(summary!.lines.join('\n')).toMatch(/DescribeOrganization.*AccessDeniedException/);
    expect(execution.output).toEqual(toldOutput('notified', 'FleetCycleFailedError'));
  });

  it("runs one child per ACTIVE account of the OU, merging its overrides under an account target's", async () => {
    // Prepare: the OU keeps 21 dailies; 333333333333 (also an account target, 14) is in it, and so is the
    // management account 555555555555, where a StackSet deploys no spoke.
    const input = structuredClone(FLEET_CONFIG);
    input.targets![3] = {
      ...input.targets![3],
      retention: { policies: { standard: { daily: 21, weekly: 2 } } },
    };
    const c = parseConfig(input, 'x');
    const ou = { 'ou-ab12-cd34ef56': ['444444444444', '333333333333', '555555555555'] };
    // Act
    const { execution, ran, configs } = await cycle(c, [], { ous: ou, management: '555555555555' });
    // Assert
    expect(execution.status).toBe('SUCCEEDED');
    expect(ran.sort()).toEqual([
      '111111111111 eu-west-1',
      '222222222222 eu-central-1',
      '222222222222 eu-west-1',
      '333333333333 eu-central-1',
      '333333333333 eu-west-1',
      '444444444444 eu-central-1',
      '444444444444 eu-west-1',
    ]);
    const standard = (k: string) => configs.get(k)!.retention.policies.standard!;
    // The account target's 14 over the OU's 21; the OU's weekly 2 still applies under it.
    expect(standard('333333333333 eu-west-1')).toMatchObject({ daily: 14, weekly: 2 });
    expect(standard('333333333333 eu-central-1')).toMatchObject({ daily: 21, weekly: 2 });
    expect(standard('444444444444 eu-west-1')).toMatchObject({ daily: 21, weekly: 2 });
    expect(standard('222222222222 eu-west-1').daily).toBe(c.retention.policies.standard!.daily);
  });
});
