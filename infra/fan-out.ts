import { Aws, Duration, type RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Policy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  type IScheduleGroup,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import {
  type CfnStateMachine,
  DefinitionBody,
  DistributedMap,
  JsonPath,
  LogLevel,
  Pass,
  ResultWriterV2,
  StateMachine,
  StateMachineType,
  TaskInput,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke, SqsSendMessage } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { StewardConfig } from '../shared/config/schema.js';
import { CYCLE_FAILED_ERROR, fanOutTargets, organizationalUnitTargets } from '../shared/fleet/fan-out.js';
import { hasFanOut, type SpokeCapability } from '../shared/fleet/targets.js';
import { allowListOrganization } from './fleet.js';
import { acknowledge, wildcardFindings } from './nag.js';
import type { Notifications } from './notifications.js';
import { failedExecutions } from './parked-messages.js';
import { acknowledgeStateMachineRole, stateMachineLogGroup } from './state-machines.js';
import type { Reports } from './reports.js';
import {
  type CapabilityProps,
  LAMBDA_RETRY,
  type ScheduleOptions,
  type StewardFunction,
} from './steward-function.js';

/** Where the Map Runs of a capability export their children's results in the report bucket. */
export const fanOutResultsPrefix = (capability: SpokeCapability): string => `fleet/${capability}/`;

/** `steward-<stage>-<capability>-fleet`: the state machine of one capability's scheduled cycles. */
export const fanOutStateMachineName = (stage: string, capability: SpokeCapability): string =>
  `steward-${stage}-${capability}-fleet`;

/** State names of the fan-out (the local run and the tests name them). */
export const FanOutStates = {
  targets: 'Targets',
  map: 'EachTarget',
  child: 'RunTarget',
  summarise: 'Summarise',
  summariseFailedRun: 'SummariseFailedRun',
  summariseFailedListing: 'SummariseFailedListing',
  cycleNotified: 'CycleFailedNotified',
  parkSummaryFailure: 'ParkSummaryFailure',
  summaryParked: 'SummaryFailedParked',
} as const;

/** Where a summary's caught error goes in the state's input. */
const SUMMARY_ERROR = '$.summaryError';

export interface FleetFanOutProps {
  config: StewardConfig;
  capability: SpokeCapability;
  /** The capability's function: each child invokes it with the scheduled event and its target. */
  function: StewardFunction;
  /** The stage's topics: a cycle that ends FAILED alarms to the warning topic. */
  notifications: Notifications;
  /** The Map Run exports its children's results here (the report bucket, same account and region). */
  reports: Reports;
  scheduleGroup: IScheduleGroup;
  removalPolicy: RemovalPolicy;
}

/**
 * The type of a capability's child executions. The scale-in check's are EXPRESS: it runs every 15 minutes,
 * and an Express child is billed per request and duration ($1.00 per million, $0.06 per GB-hour) rather
 * than per state transition ($25 per million); a child is one bounded invoke (EXPRESS_CHILD_BUDGET), and the
 * check is idempotent (the transition and resource claims in the state table: a check run twice acts once,
 * one that did not run is the next check's), so Express's weaker execution guarantees are safe. Backup and retention keep STANDARD children: they run once a day (Express would save
 * cents), their functions may run 5 and 10 minutes, past what an Express execution may last.
 */
export const childExecutionType = (capability: SpokeCapability): StateMachineType =>
  capability === 'scaling' ? StateMachineType.EXPRESS : StateMachineType.STANDARD;

/** An Express execution ends TIMED_OUT at 5 minutes; a child's worst case stays within 90 % of that. */
export const EXPRESS_CHILD_BUDGET = Duration.seconds(270);

/** What Lambda answers a throttled invoke with: at once (HTTP 429), before the function runs. */
const THROTTLED = 'Lambda.TooManyRequestsException';

/**
 * An Express child's invoke: waited for 10 s past the function's own timeout (the function bounds its work), and
 * retried within EXPRESS_CHILD_BUDGET, the worst case (every attempt that reached the function timing out, the
 * backoff waits between them) included. A throttled invoke costs only its wait (Lambda refuses it before the
 * function runs), so it keeps a Standard child's retries while they fit: a burst of throttles across the fleet
 * does not fail targets. The other service errors may come after the function ran: retried with what is left.
 * Throws, naming the function, when even one attempt could not fit.
 */
export const expressChildInvoke = (
  fn: StewardFunction,
): { timeout: Duration; retries: (typeof LAMBDA_RETRY)[] } => {
  const timeout = (fn.fn.timeout ?? Duration.minutes(5)).plus(Duration.seconds(10));
  const budget = EXPRESS_CHILD_BUDGET.toSeconds();
  const waits = (retries: number) =>
    Array.from(
      { length: retries },
      (_, i) => LAMBDA_RETRY.interval.toSeconds() * LAMBDA_RETRY.backoffRate ** i,
    ).reduce((a, b) => a + b, 0);
  const worst = (throttled: number, others: number) =>
    (others + 1) * timeout.toSeconds() + waits(others) + waits(throttled);
  if (worst(0, 0) > budget)
    throw new Error(
      `${fn.shortName}: an Express fan-out child waits ${timeout.toSeconds()} s for the function (its timeout + 10 s), more than the ${budget} s an Express child may take`,
    );
  let throttled = 0;
  while (throttled < LAMBDA_RETRY.maxAttempts && worst(throttled + 1, 0) <= budget) throttled++;
  let others = 0;
  while (others < LAMBDA_RETRY.maxAttempts && worst(throttled, others + 1) <= budget) others++;
  return {
    timeout,
    retries: [
      { ...LAMBDA_RETRY, errors: [THROTTLED], maxAttempts: throttled },
      { ...LAMBDA_RETRY, errors: LAMBDA_RETRY.errors.filter((e) => e !== THROTTLED), maxAttempts: others },
    ],
  };
};

/**
 * One capability's scheduled cycle over the fleet: a Step Functions Distributed Map over the config's
 * account-region targets (one child execution each, STANDARD or EXPRESS by childExecutionType, at most
 * `fleet.maxConcurrency` at once, the Map Run failing only past `fleet.toleratedFailurePercentage`), each
 * child invoking today's function with the scheduled event plus `target`; the children's results exported
 * to the report bucket (ResultWriter), then the function's summary names every target that failed in one
 * notification.
 */
export class FleetFanOut extends Construct {
  /**
   * The capability's fan-out when its cycles fan out (the stage has spokes, and so a report bucket; for
   * scaling, a rule that scales in: shared/fleet/targets.ts hasFanOut), else undefined.
   */
  static of(
    scope: Construct,
    capability: SpokeCapability,
    fn: StewardFunction,
    props: Pick<CapabilityProps, 'config' | 'notifications' | 'reports' | 'scheduleGroup' | 'removalPolicy'>,
  ): FleetFanOut | undefined {
    if (!hasFanOut(props.config, capability) || !props.reports) return undefined;
    return new FleetFanOut(scope, 'Fleet', {
      config: props.config,
      capability,
      function: fn,
      notifications: props.notifications,
      reports: props.reports,
      scheduleGroup: props.scheduleGroup,
      removalPolicy: props.removalPolicy,
    });
  }

  readonly stateMachine: StateMachine;
  /** ALARM when a cycle ended FAILED (→ the warning topic). */
  readonly failedAlarm: Alarm;
  readonly targets: number;
  private schedulerRole?: Role;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: FleetFanOutProps,
  ) {
    super(scope, id);
    const { config, capability, function: fn, reports } = props;
    const fleet = config.fleet;
    if (!fleet) throw new Error('a fan-out needs the fleet section');
    const stack = Stack.of(this);
    const items = fanOutTargets(config, capability, stack.partition).map((target) => ({ target }));
    this.targets = items.length;
    const name = fanOutStateMachineName(config.stage, capability);

    const invokeTimeout = (fn.fn.timeout ?? Duration.minutes(5)).plus(Duration.minutes(1));
    const childType = childExecutionType(capability);
    const express = childType === StateMachineType.EXPRESS ? expressChildInvoke(fn) : undefined;
    const child = new LambdaInvoke(this, FanOutStates.child, {
      stateName: FanOutStates.child,
      comment: 'Today\'s run in one target: the scheduled event plus "target"',
      lambdaFunction: fn.fn,
      payload: TaskInput.fromJsonPathAt(
        JsonPath.jsonMerge(JsonPath.objectAt('$.event'), JsonPath.objectAt('$.item')),
      ),
      // The child's output stays small (a child's is at most 256 KiB): its full report is in the bucket.
      resultSelector: { 'statusCode.$': '$.StatusCode' },
      resultPath: '$.result',
      taskTimeout: Timeout.duration(express?.timeout ?? invokeTimeout),
      retryOnServiceExceptions: false,
    });
    // Step Functions takes the first retrier whose errors match: an Express child's throttles first.
    for (const retry of express?.retries ?? [LAMBDA_RETRY]) if (retry.maxAttempts) child.addRetry(retry);

    // The execution input is the capability's scheduled event as the schedule sends it. The targets come
    // from config at synth (a Pass state), or, with OU targets, from the function listing the OUs' accounts
    // through Organizations at the start of each cycle (accounts that joined an OU are in the next cycle).
    // Inline items rather than an ItemReader: a listing of up to ~1,500 account-regions fits in a state's
    // 256 KiB, the function checks it, and no object is written and read back per cycle.
    const listed = organizationalUnitTargets(config).length > 0;
    const targets = listed
      ? new LambdaInvoke(this, FanOutStates.targets, {
          stateName: FanOutStates.targets,
          comment: `The config's ${items.length} account-region targets and the accounts of its organizational units, listed through Organizations`,
          lambdaFunction: fn.fn,
          payloadResponseOnly: true,
          payload: TaskInput.fromObject({
            action: 'fan-out-targets',
            capability,
            partition: Aws.PARTITION,
            event: JsonPath.objectAt('$'),
          }),
          taskTimeout: Timeout.duration(invokeTimeout),
          retryOnServiceExceptions: false,
        }).addRetry(LAMBDA_RETRY)
      : new Pass(this, FanOutStates.targets, {
          stateName: FanOutStates.targets,
          comment: `The ${items.length} account-region targets of the config`,
          parameters: { 'event.$': '$', targets: items },
        });
    if (listed) allowListOrganization(fn, config);

    const map = new DistributedMap(this, FanOutStates.map, {
      stateName: FanOutStates.map,
      comment: `One ${childType} child execution per account-region target`,
      itemsPath: '$.targets',
      itemSelector: { 'event.$': '$.event', 'item.$': '$$.Map.Item.Value' },
      maxConcurrency: fleet.maxConcurrency,
      toleratedFailurePercentage: fleet.toleratedFailurePercentage,
      // Express children keep no execution history: the Map Run keeps each child's status, output and error
      // (exported by the ResultWriter), the state machine's log group its events, the function's its logs.
      mapExecutionType: childType,
      label: `${capability}Targets`,
      resultWriterV2: new ResultWriterV2({ bucket: reports.bucket, prefix: fanOutResultsPrefix(capability) }),
      resultPath: '$.results',
    });
    map.itemProcessor(child);

    const summary = (stateName: string, extra: Record<string, unknown>) =>
      new LambdaInvoke(this, stateName, {
        stateName,
        lambdaFunction: fn.fn,
        payloadResponseOnly: true,
        payload: TaskInput.fromObject({
          action: 'fan-out-summary',
          capability,
          targets: listed ? JsonPath.arrayLength(JsonPath.listAt('$.targets')) : items.length,
          event: JsonPath.objectAt('$.event'),
          ...extra,
        }),
        taskTimeout: Timeout.duration(invokeTimeout),
        retryOnServiceExceptions: false,
      }).addRetry(LAMBDA_RETRY);
    // With OU targets, the OUs the listing could not list (the others ran): the summary ends the cycle FAILED
    // naming them.
    const unlisted = listed ? { unlisted: JsonPath.listAt('$.unlisted') } : {};
    const summarise = summary(FanOutStates.summarise, {
      results: JsonPath.objectAt('$.results'),
      ...unlisted,
    });
    const failedRun = summary(FanOutStates.summariseFailedRun, {
      error: JsonPath.objectAt('$.error'),
      ...unlisted,
    });
    map.addCatch(failedRun, { errors: ['States.ALL'], resultPath: '$.error' });
    // An OU whose listing fails is left out and named (`unlisted`, above); a listing that fails as a whole (the
    // management account's lookup, items too large) ends the cycle before any child starts. Uncaught, that was
    // a FAILED execution nobody was told of, every target's run skipped: the summary says so with the
    // listing's error, as for a Map Run that failed, and the cycle still ends FAILED.
    const failedListing =
      targets instanceof LambdaInvoke
        ? new LambdaInvoke(this, FanOutStates.summariseFailedListing, {
            stateName: FanOutStates.summariseFailedListing,
            comment: 'The accounts of the organizational units could not be listed: no child started',
            lambdaFunction: fn.fn,
            payloadResponseOnly: true,
            payload: TaskInput.fromObject({
              action: 'fan-out-summary',
              capability,
              targets: items.length,
              // The scheduled event, with the caught error beside its fields.
              event: JsonPath.objectAt('$'),
              error: JsonPath.objectAt('$.error'),
            }),
            taskTimeout: Timeout.duration(invokeTimeout),
            retryOnServiceExceptions: false,
          }).addRetry(LAMBDA_RETRY)
        : undefined;
    if (failedListing && targets instanceof LambdaInvoke)
      targets.addCatch(failedListing, { errors: ['States.ALL'], resultPath: '$.error' });

    // A summary that failed (its read of the export, its notification, a bug) ended the execution FAILED just
    // like the summary's deliberate FAILED after it notified, and the status-change rule below cannot tell the two
    // apart: such a cycle told nobody. Any error of the summary but its deliberate one (FleetCycleFailedError)
    // parks a message in the stage's failure queue (whose alarm warns), sent by Step Functions itself so no
    // failing function can lose it.
    // One failure, one message: a cycle that told its failure (the summary's notification, or the parked message)
    // ends SUCCEEDED, its output saying how it was told; it used to end FAILED too, so the ExecutionsFailed
    // alarm below warned a second time. FAILED is left to the ends that told nobody, which only that alarm hears.
    const told = (stateName: string, comment: string, outcome: string) =>
      new Pass(this, stateName, {
        stateName,
        comment,
        parameters: { cycle: 'FAILED', outcome, 'error.$': SUMMARY_ERROR },
      });
    const cycleNotified = told(
      FanOutStates.cycleNotified,
      'The summary notified the failed targets: told once, so the execution does not end FAILED (no alarm)',
      'notified by the summary',
    );
    const park = new SqsSendMessage(this, FanOutStates.parkSummaryFailure, {
      stateName: FanOutStates.parkSummaryFailure,
      comment: "The summary failed and may have told nobody: park the cycle in the stage's failure queue",
      queue: fn.failureQueue,
      messageBody: TaskInput.fromObject({
        problem: `The fleet ${capability} cycle's summary failed: this cycle's failures may not have been notified`,
        capability,
        stateMachine: name,
        execution: JsonPath.executionId,
        error: JsonPath.objectAt(SUMMARY_ERROR),
      }),
      resultPath: JsonPath.DISCARD,
      taskTimeout: Timeout.duration(Duration.seconds(30)),
    })
      .addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 6 })
      .next(
        told(
          FanOutStates.summaryParked,
          'The summary failed, parked in the failure queue (whose alarm warns): told once, so the execution does not end FAILED',
          `summary failed, parked in steward-${config.stage}-failures`,
        ),
      );
    for (const s of [summarise, failedRun, failedListing])
      s?.addCatch(cycleNotified, { errors: [CYCLE_FAILED_ERROR], resultPath: SUMMARY_ERROR }).addCatch(park, {
        errors: ['States.ALL'],
        resultPath: SUMMARY_ERROR,
      });

    const logGroup = stateMachineLogGroup(this, 'LogGroup', name, props.removalPolicy);
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: name,
      stateMachineType: StateMachineType.STANDARD,
      comment: `steward ${config.stage} ${capability}: one scheduled cycle over the fleet's targets`,
      definitionBody: DefinitionBody.fromChainable(targets.next(map).next(summarise)),
      // Every target at the pace of maxConcurrency, each within its invoke timeout, and the summary.
      timeout: invokeTimeout
        .plus(Duration.minutes(5))
        .plus(Duration.seconds(invokeTimeout.toSeconds() * Math.ceil(items.length / fleet.maxConcurrency))),
      tracingEnabled: true,
      // Every transition, as the drill logs (cdk-nag SF1): without execution data, a cycle's log stays small.
      // Express children log here too (they have no execution history of their own); kept three months.
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
    });
    (this.stateMachine.node.defaultChild as CfnStateMachine).addMetadata('cfn-lint', {
      config: { ignore_checks: ['W3005'] },
    });
    fn.fn.grantInvoke(this.stateMachine);
    // A cycle that outran its timeout or was stopped ends with no summary: it waits in the stage's failure queue,
    // whose alarm warns (it used to end unseen). A cycle that told its failure (the summary's notification, or
    // ParkSummaryFailure's message there) ends SUCCEEDED; one that ends FAILED told nobody (the alarm below).
    fn.parkEvents(
      this,
      'CycleEndedRule',
      `A ${capability} fleet cycle timed out or was stopped before its summary: park it in the failure queue`,
      {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [this.stateMachine.stateMachineArn], status: ['TIMED_OUT', 'ABORTED'] },
      },
    );
    // Two ends of a cycle no Catch can turn into a message: a summary state whose own parameters fail
    // (States.Runtime, which no Catch or Retry takes) and SQS refusing the parked message after its retries. Both
    // end FAILED having told nobody, and only they do (a cycle that told its failure ends SUCCEEDED, above), so a
    // FAILED cycle alarms to the warning topic, through CloudWatch (not the queue that may be what refused): one
    // message for one failure, never a second one for a failure already told.
    this.failedAlarm = new Alarm(this, 'FailedAlarm', {
      alarmName: `${name}-failed`,
      alarmDescription:
        `steward ${config.stage}: a fleet ${capability} cycle (state machine ${name}) ended FAILED having told nobody: ` +
        "its summary state's own parameters failed (States.Runtime), or SQS refused the parked message. Read the " +
        "failed execution's history in the Step Functions console. (A cycle that told its failure, by a " +
        `"Fleet ${capability}" notification or a message in steward-${config.stage}-failures, ends SUCCEEDED.)`,
      ...failedExecutions(this.stateMachine),
    });
    this.failedAlarm.addAlarmAction(new SnsAction(props.notifications.warning));
    // The summary reads the Map Run's export (manifest and result files) under the capability's prefix.
    reports.grantRead(fn, `ReadFleetResults${capability[0]!.toUpperCase()}${capability.slice(1)}`, [
      fanOutResultsPrefix(capability),
    ]);
    acknowledgeStateMachineRole(
      this,
      this.stateMachine.role,
      [fn],
      (f) => `Each child invokes ${f.shortName}`,
    );
    this.acknowledgeDistributedMap(fanOutResultsPrefix(capability));
  }

  /** What CDK grants a Distributed Map with a ResultWriter, and why each wildcard is needed. */
  private acknowledgeDistributedMap(prefix: string): void {
    const sm = this.stateMachine;
    // ResultWriterV2 grants the role the bucket's objects (PutObject, multipart) for the Map Run's export.
    for (const f of wildcardFindings(
      this,
      [],
      [`arn:${Aws.PARTITION}:s3:::${this.props.reports.bucket.bucketName}/*`],
    ))
      acknowledge(
        sm.role,
        `AwsSolutions-IAM5[${f}]`,
        `The Map Run writes its export (manifest and result files) under ${prefix} in steward's own report bucket; CDK's ResultWriter grants the bucket's objects.`,
      );
    // The Map Run starts, describes and stops its child executions, whose names Step Functions makes up.
    const policy = sm.node.tryFindChild('DistributedMapPolicy');
    if (!(policy instanceof Policy)) return;
    const doc = Stack.of(this).resolve(policy.document) as { Statement?: { Resource?: unknown }[] };
    const resources = (doc.Statement ?? []).flatMap((s) => [s.Resource ?? []].flat()) as string[];
    for (const f of wildcardFindings(this, [], resources))
      acknowledge(
        policy,
        `AwsSolutions-IAM5[${f}]`,
        "A Distributed Map manages its own child executions (named by Step Functions) of this state machine only: the wildcard is the execution's name.",
      );
  }

  /** Start a cycle on a schedule with the capability's scheduled event (the input a Lambda schedule sends). */
  addSchedule(id: string, o: ScheduleOptions): Schedule {
    const { config, scheduleGroup, function: fn } = this.props;
    this.schedulerRole ??= new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `EventBridge Scheduler starts steward ${config.stage} ${this.props.capability} fleet cycles`,
    });
    return new Schedule(this, id, {
      scheduleName: `steward-${config.stage}-${o.name}`,
      scheduleGroup,
      description: o.description,
      schedule: ScheduleExpression.expression(o.expression, TimeZone.of(o.timezone ?? 'UTC')),
      target: new StepFunctionsStartExecution(this.stateMachine, {
        input: ScheduleTargetInput.fromObject(o.input),
        role: this.schedulerRole,
        deadLetterQueue: fn.failureQueue,
        // A late cycle is still correct (the input carries the scheduled time).
        retryAttempts: 5,
        maxEventAge: Duration.hours(2),
      }),
    });
  }
}
