import { fileURLToPath } from 'node:url';
import type { Metafile } from 'esbuild';
import {
  ArnFormat,
  AssetHashType,
  DockerImage,
  Duration,
  Lazy,
  type RemovalPolicy,
  Stack,
  Tags,
  TimeZone,
} from 'aws-cdk-lib';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import {
  type EventPattern,
  type IEventBus,
  type IRule,
  type IRuleTarget,
  Rule,
  type RuleTargetInput,
} from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  type CfnFunction,
  Code,
  Function as LambdaFn,
  Runtime,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { JitterType } from 'aws-cdk-lib/aws-stepfunctions';
import {
  type IScheduleGroup,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import type * as v from '../shared/valid.js';
import { EMBEDDED_CONFIG, embedDefine } from '../shared/config/embedded.js';
import type { BaseEnv } from '../shared/config/env.js';
import type { StewardConfig } from '../shared/config/schema.js';
import { buildFunction, buildKey } from './bundling.js';
import { acknowledge, wildcardFindings } from './nag.js';
import { PAGER_DETAIL_TYPE, PAGER_SOURCE } from '../shared/notify/formats.js';
import { type Notifications, topicName } from './notifications.js';
import { parkedMessages } from './parked-messages.js';
import { allowOn, denyOn, denyOutsideOwnership, type Grantee, type Permission } from './permission.js';
import type { Reports } from './reports.js';

/** Error names Lambda's Invoke API raises for transient service trouble (what `retryOnServiceExceptions` retries, plus throttling). */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/**
 * A state machine's retrier of a Lambda task on those errors: 2 s doubling, 6 attempts, each wait a random
 * part of its step (full jitter), so the fan-out children or drills that one throttle hit together do not
 * come back together. Jitter only shortens a wait: worst cases counted without it still hold.
 */
export const LAMBDA_RETRY = {
  errors: LAMBDA_SERVICE_ERRORS,
  interval: Duration.seconds(2),
  maxAttempts: 6,
  backoffRate: 2,
  jitterStrategy: JitterType.FULL,
};

/** One name per capability across folder, construct, log `service` and metric dimension. */
export type Capability = 'backup' | 'retention' | 'drill' | 'cost' | 'scaling' | 'report';

/** What every capability construct receives from the stack. */
export interface CapabilityProps {
  config: StewardConfig;
  notifications: Notifications;
  scheduleGroup: IScheduleGroup;
  removalPolicy: RemovalPolicy;
  /** The stage's report bucket, when it has one: every function learns its name (REPORT_BUCKET). */
  reports?: Reports;
}

/** Where a function that must reach private resources runs. */
export interface FunctionPlacement {
  vpc: IVpc;
  subnets: SubnetSelection;
  securityGroups: ISecurityGroup[];
}

export interface StewardFunctionProps extends Omit<CapabilityProps, 'notifications' | 'scheduleGroup'> {
  /**
   * The stage's topics. Absent only for a function in another region's stack (the DR stack's cache verifier):
   * it publishes nothing, has no schedule or rule, and is invoked only synchronously, so it gets no failure
   * queue (its caller sees every error); its environment names the stage's topics by ARN.
   */
  notifications?: Notifications;
  scheduleGroup?: IScheduleGroup;
  capability: Capability;
  /**
   * A second function of the same capability (`drill-verify`): its folder under `functions/`, its function
   * and log group name suffix. Metrics and logs still carry the capability as `service`. @default capability
   */
  name?: string;
  description: string;
  /** Run inside a VPC (gets the network-interface permissions Lambda needs, scoped to that VPC). */
  placement?: FunctionPlacement;
  /** @default 5 minutes */
  timeout?: Duration;
  /** @default 512 MB (Lambda CPU scales with memory; keeps cold starts of the ~1 MB bundle short) */
  memorySize?: number;
  /** Capability variables; type them with the capability's env schema (`satisfies v.input<...>`). */
  environment?: Record<string, string>;
  /**
   * Reserved concurrency. 1 for a function whose per-run bounds must not multiply: Lambda's async retries,
   * EventBridge redeliveries and overlapping schedules then queue (throttled async events are retried for
   * up to 6 hours) instead of running side by side. @default none (the account's unreserved pool)
   */
  reservedConcurrency?: number;
  /**
   * Regions the function calls AWS in; every other region is denied, whatever else the role allows.
   * @default the stage's region
   */
  regions?: readonly string[];
  /** Publishes to the severity topics (and so uses their key). @default true */
  publishes?: boolean;
  /** A fixed role name, for a role another account's resource policy must name (the DR key). */
  roleName?: string;
}

export interface ScheduleOptions {
  /** Unique within the stage; the schedule is named `steward-<stage>-<name>`. */
  name: string;
  description: string;
  /** EventBridge Scheduler expression from config: cron(...), rate(...) or at(...). */
  expression: string;
  /** IANA zone the expression is evaluated in. @default UTC */
  timezone?: string;
  /** JSON payload; may use Scheduler context attributes such as `<aws.scheduler.scheduled-time>`. */
  input: Record<string, unknown>;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The stage's one failure queue and its one alarm (→ warning topic): every function's failed async
 * invocations (after Lambda's two retries) and every undeliverable Scheduler, EventBridge or SNS trigger.
 * One queue, not one per function: CloudWatch bills an alarm per metric, and a message names its source
 * (Lambda: `requestContext.functionArn`; Scheduler and EventBridge: the schedule or rule in its attributes).
 */
export class FailureQueue extends Construct {
  readonly queue: Queue;
  readonly alarm: Alarm;
  /**
   * The same queue as EventBridge rules' dead-letter queue, without the statement CDK adds per rule: a queue
   * policy holds at most 20 statements (8 KB), so every rule is one `aws:SourceArn` of one statement.
   */
  readonly forRules: IQueue;
  private readonly ruleArns: string[] = [];

  /** The stack's failure queue, created by the first function that needs it. */
  static of(scope: Construct, config: StewardConfig, notifications: Notifications): FailureQueue {
    const stack = Stack.of(scope);
    return (
      (stack.node.tryFindChild('FailureQueue') as FailureQueue | undefined) ??
      new FailureQueue(stack, 'FailureQueue', config, notifications)
    );
  }

  private constructor(scope: Construct, id: string, config: StewardConfig, notifications: Notifications) {
    super(scope, id);
    this.queue = new Queue(this, 'Queue', {
      queueName: `steward-${config.stage}-failures`,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.queue,
      'AwsSolutions-SQS3',
      'This queue is the dead-letter destination itself (Lambda on-failure destination, Scheduler and ' +
        'EventBridge DLQ); its depth alarms to the warning topic, and a DLQ of a DLQ would only hide failures.',
    );
    this.alarm = new Alarm(this, 'Alarm', {
      alarmName: `steward-${config.stage}-failures`,
      alarmDescription:
        `steward ${config.stage}: a function failed after its retries, a schedule, rule or subscription could not ` +
        `invoke it, or a fleet cycle timed out, was stopped or its summary failed; the event waits in steward-${config.stage}-failures ` +
        '(each message names its function, schedule, rule or execution). Runs that fail report their own failures ' +
        'as notifications first; inspect, fix, and redrive.',
      ...parkedMessages(this.queue),
    });
    this.alarm.addAlarmAction(new SnsAction(notifications.warning));
    this.alarm.addOkAction(new SnsAction(notifications.warning));
    this.forRules = Queue.fromQueueAttributes(this, 'ForRules', {
      queueArn: this.queue.queueArn,
      queueUrl: this.queue.queueUrl,
      queueName: this.queue.queueName,
    });
  }

  /** Let `rule` (a rule of this stack whose target names `forRules`) park undeliverable events here. */
  allowRule(rule: IRule): void {
    if (!this.ruleArns.length) {
      this.queue.addToResourcePolicy(
        new PolicyStatement({
          sid: 'AllowStewardRules',
          principals: [new ServicePrincipal('events.amazonaws.com')],
          actions: ['sqs:SendMessage'],
          resources: [this.queue.queueArn],
          conditions: { ArnEquals: { 'aws:SourceArn': Lazy.list({ produce: () => this.ruleArns }) } },
        }),
      );
    }
    this.ruleArns.push(rule.ruleArn);
  }
}

/** Metafiles of the builds this process ran, by `buildKey` (CDK's asset cache skips a build it has staged). */
const builds = new Map<string, Metafile>();

/** How a function's code was built: what the bench and the bundle tests read. */
export interface FunctionBuild {
  /** The handler module, from the project root (`functions/backup/handler.ts`). */
  entry: string;
  /** esbuild `define`: the stage's embedded config. */
  define: Record<string, string>;
  /**
   * esbuild's metafile of the build, outputs named inside the asset (`index.mjs`, `janitor-<hash>.mjs`);
   * undefined when the stack was synthesized without bundling (`aws:cdk:bundling-stacks: []`).
   */
  readonly metafile: Metafile | undefined;
}

/**
 * Every steward Lambda: Node.js 22 on arm64, ESM bundle with the AWS SDK pinned inside, split into chunks
 * loaded on first use (infra/bundling.ts, functionBuildOptions), source maps,
 * active tracing, its own log group and role, an SQS failure queue for anything that could not run it
 * (async invoke, Scheduler, EventBridge), and alarms on errors and on that queue → warning topic.
 */
export class StewardFunction extends Construct implements Grantee {
  readonly fn: LambdaFn;
  readonly build: FunctionBuild;
  readonly role: Role;
  readonly logGroup: LogGroup;
  private readonly queue?: Queue;
  readonly capability: Capability;
  /** `backup`, `drill`, `drill-verify`: the folder under `functions/` and the function name suffix. */
  readonly shortName: string;
  readonly config: StewardConfig;
  private readonly props: StewardFunctionProps;
  private schedulerRole?: Role;

  constructor(scope: Construct, id: string, props: StewardFunctionProps) {
    super(scope, id);
    this.props = props;
    this.capability = props.capability;
    this.shortName = props.name ?? props.capability;
    this.config = props.config;
    const { config, notifications, capability, placement } = props;
    const name = `steward-${config.stage}-${this.shortName}`;
    Tags.of(this).add('steward:capability', capability);

    const logGroupName = `/aws/lambda/${name}`;
    this.logGroup = new LogGroup(this, 'LogGroup', {
      logGroupName,
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: props.removalPolicy,
    });

    this.queue = notifications ? FailureQueue.of(this, config, notifications).queue : undefined;

    // Our own role: no AWS managed policy, logs scoped to this function's log group.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `steward ${config.stage} ${this.shortName} function`,
      ...(props.roleName ? { roleName: props.roleName } : {}),
    });
    this.logGroup.grantWrite(this.role);

    // Without the topics at hand (another region's stack), their ARNs in the stage's region.
    const topicArn = (severity: 'critical' | 'warning' | 'info') =>
      notifications?.[severity].topicArn ??
      Stack.of(this).formatArn({
        service: 'sns',
        region: config.region,
        resource: topicName(config.stage, severity),
      });
    const environment = {
      CRITICAL_TOPIC_ARN: topicArn('critical'),
      WARNING_TOPIC_ARN: topicArn('warning'),
      INFO_TOPIC_ARN: topicArn('info'),
      DRY_RUN: config.dryRun ? 'true' : 'false',
      ...(props.reports ? { REPORT_BUCKET: props.reports.bucketName } : {}),
    } satisfies v.input<typeof BaseEnv>;

    // The stage's resolved config, validated at synth, is data in the bundle (not an environment variable:
    // Lambda caps those at 4 KB in total). Cold start reads it as data: the config schema stays out of the
    // bundle (shared/config/embedded.ts).
    const entry = `functions/${this.shortName}/handler.ts`;
    const define = { [EMBEDDED_CONFIG]: embedDefine(config) };
    const key = buildKey(entry, define);
    this.build = {
      entry,
      define,
      get metafile() {
        return builds.get(key);
      },
    };

    this.fn = new LambdaFn(this, 'Handler', {
      functionName: name,
      description: props.description,
      // Bundled here with esbuild's API (infra/bundling.ts), as NodejsFunction bundles locally, but with code
      // splitting, which needs an output directory (NodejsFunction's command has `--outfile`). The asset is
      // the build's output only (hashed from it, so a build that changes nothing changes no asset); no Docker
      // fallback: a failed build fails the synth.
      code: Code.fromAsset(ROOT, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          image: DockerImage.fromRegistry('dummy'),
          // Not run (local bundling always answers); it names the build, so CDK's in-process asset cache
          // never hands one function's bundle to another.
          command: ['esbuild', entry, `--build=${key}`],
          local: {
            tryBundle: (outputDir: string) => {
              builds.set(key, buildFunction(entry, outputDir, define));
              return true;
            },
          },
        },
      }),
      handler: 'index.handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      ...(props.reservedConcurrency !== undefined && {
        reservedConcurrentExecutions: props.reservedConcurrency,
      }),
      timeout: props.timeout ?? Duration.minutes(5),
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      ...(placement && {
        vpc: placement.vpc,
        vpcSubnets: placement.subnets,
        securityGroups: placement.securityGroups,
      }),
      environment: {
        ...props.environment,
        ...environment,
        POWERTOOLS_SERVICE_NAME: capability,
        POWERTOOLS_METRICS_NAMESPACE: 'Steward',
        // No NODE_OPTIONS=--enable-source-maps: on Node 22 it parses the 3-4 MB source map at every cold
        // start (+10-19 % CPU, measured). The maps ship beside the chunks and the handler maps the stack of
        // an error that leaves it (shared/stack-traces.ts), so traces still name the TypeScript source.
      },
      // Handlers are idempotent (deterministic snapshot ids), so Lambda's two async retries are safe.
      retryAttempts: 2,
      ...(this.queue ? { onFailure: new SqsDestination(this.queue) } : {}),
    });
    // CDK makes the function depend on its role and the role's DefaultPolicy so it never runs before its
    // permissions exist; the role half duplicates the Role GetAtt, which cfn-lint reports as W3005.
    (this.fn.node.defaultChild as CfnFunction).addMetadata('cfn-lint', {
      config: { ignore_checks: ['W3005'] },
    });
    acknowledge(
      this.fn,
      'AwsSolutions-L1',
      'Pinned to nodejs22.x on purpose: bundles target node22 and the Powertools/SDK versions are tested ' +
        'there; moving to nodejs24.x is a deliberate upgrade, not a drift.',
    );
    acknowledge(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions.',
    );

    if (props.publishes ?? true) {
      if (!notifications) throw new Error(`${name}: a function that publishes needs the stage's topics`);
      this.allow({
        sid: 'PublishNotifications',
        actions: ['sns:Publish'],
        resources: notifications.all.map((t) => t.topicArn),
      });
      // SNS asks KMS for the data key with the publisher's credentials; only through SNS, in this region.
      this.allow({
        sid: 'EncryptNotifications',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: [notifications.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `sns.${config.region}.amazonaws.com` } },
        wildcardReason:
          'Publishing to an SSE-KMS topic needs the GenerateDataKey family on the topic key; the resource is that one key, through SNS only.',
      });
    }

    // Guards that hold whatever an Allow says.
    denyOutsideOwnership(this, props.regions ?? [config.region]);

    if (config.notifications.pagerDuty && notifications) {
      // The pager route: PagerDuty events on the default bus, under steward's source and detail-type only.
      // Both keys are multivalued (one value per entry of a batch): every entry must be steward's, and a
      // request without them (ForAllValues holds for an empty set) is refused.
      this.allow({
        sid: 'SendPagerEvents',
        actions: ['events:PutEvents'],
        resources: [
          Stack.of(this).formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' }),
        ],
        conditions: {
          'ForAllValues:StringEquals': {
            'events:source': [PAGER_SOURCE],
            'events:detail-type': [PAGER_DETAIL_TYPE],
          },
          Null: { 'events:source': 'false', 'events:detail-type': 'false' },
        },
      });
    }

    if (placement) this.allowNetworkInterfaces(placement.vpc);

    // No per-function alarms: a failure that exhausts Lambda's retries (or never reaches the function) alarms
    // once for the stage through the failure queue; each run notifies its own failures; a drill's Step
    // Functions tasks fail into the drill's cleanup, record and notification. Errors stay on the dashboard.
  }

  /** Failed async invocations (after Lambda's retries) and undeliverable Scheduler / EventBridge events. */
  get failureQueue(): Queue {
    if (!this.queue)
      throw new Error(`${this.shortName}: a function without the stage's topics has no failure queue`);
    return this.queue;
  }

  /** Add an Allow statement to the function's role; a wildcard must say why (cdk-nag acknowledgement). */
  allow(p: Permission): void {
    allowOn(this.role, p);
  }

  /** Add a Deny statement: a guard that holds even if the code or another Allow is wrong. */
  deny(p: Omit<Permission, 'wildcardReason'>): void {
    denyOn(this.role, p);
  }

  private need<K extends 'notifications' | 'scheduleGroup'>(k: K): NonNullable<StewardFunctionProps[K]> {
    const v = this.props[k];
    if (!v) throw new Error(`${this.shortName}: a schedule or rule needs the stage's ${k}`);
    return v as NonNullable<StewardFunctionProps[K]>;
  }

  /** An EventBridge Scheduler schedule that invokes this function with a fixed JSON input. */
  addSchedule(id: string, o: ScheduleOptions): Schedule {
    return new Schedule(this, id, {
      scheduleName: `steward-${this.props.config.stage}-${o.name}`,
      scheduleGroup: this.need('scheduleGroup'),
      description: o.description,
      schedule: ScheduleExpression.expression(o.expression, TimeZone.of(o.timezone ?? 'UTC')),
      target: new LambdaInvoke(this.fn, {
        input: ScheduleTargetInput.fromObject(o.input),
        role: this.invokerRole(),
        deadLetterQueue: this.failureQueue,
        // A late run is still correct (the input carries the scheduled time), so retry for a while.
        retryAttempts: 5,
        maxEventAge: Duration.hours(2),
      }),
    });
  }

  /** An EventBridge rule on the default bus that invokes this function with the event as-is. */
  addEventRule(
    id: string,
    description: string,
    eventPattern: EventPattern,
    o: { eventBus?: IEventBus; event?: RuleTargetInput } = {},
  ): Rule {
    const failures = FailureQueue.of(this, this.config, this.need('notifications'));
    const rule = new Rule(this, id, {
      description,
      eventPattern,
      ...(o.eventBus ? { eventBus: o.eventBus } : {}),
      targets: [
        new LambdaFunction(this.fn, {
          deadLetterQueue: failures.forRules,
          retryAttempts: 4,
          maxEventAge: Duration.hours(2),
          ...(o.event ? { event: o.event } : {}),
        }),
      ],
    });
    failures.allowRule(rule);
    return rule;
  }

  /**
   * An EventBridge rule on the default bus that parks the events it matches in the stage's failure queue, whose
   * alarm warns: for a failure that no function is there to handle (a fleet cycle that timed out). Each message
   * is the event itself, which names what failed.
   */
  parkEvents(scope: Construct, id: string, description: string, eventPattern: EventPattern): Rule {
    const failures = FailureQueue.of(this, this.config, this.need('notifications'));
    // The queue itself as the target: its one AllowStewardRules statement admits the rule (allowRule), where
    // CDK's SqsQueue target would add a statement per rule to a policy that holds 20.
    const queue: IRuleTarget = {
      bind: () => ({
        arn: failures.queue.queueArn,
        retryPolicy: { maximumRetryAttempts: 4, maximumEventAgeInSeconds: Duration.hours(2).toSeconds() },
      }),
    };
    const rule = new Rule(scope, id, { description, eventPattern, targets: [queue] });
    failures.allowRule(rule);
    return rule;
  }

  /**
   * What Lambda needs to attach the function to the VPC (Hyperplane ENIs), as in the AWS managed
   * AWSLambdaVPCAccessExecutionRole, but with every write bound to this one VPC.
   * https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
   */
  private allowNetworkInterfaces(vpc: IVpc): void {
    const stack = Stack.of(this);
    const ec2 = (resource: string) => stack.formatArn({ service: 'ec2', resource, resourceName: '*' });
    const inVpc = { ArnEquals: { 'ec2:Vpc': vpc.vpcArn } };
    this.allow({
      sid: 'DescribeVpcNetworkInterfaces',
      actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
      resources: ['*'],
      wildcardReason:
        'Lambda looks up the subnets and its network interfaces when it attaches the function to the VPC; ' +
        'these Describe calls support no resource-level permissions.',
    });
    // A new interface carries no ec2:Vpc (the Service Authorization Reference lists none for it on
    // CreateNetworkInterface); its subnet and security groups do, and both are required resources.
    this.allow({
      sid: 'CreateVpcNetworkInterfaces',
      actions: ['ec2:CreateNetworkInterface'],
      resources: [ec2('network-interface')],
      wildcardReason:
        'Lambda creates its Hyperplane network interfaces (ids unknown until then); the subnet and security ' +
        "group of the same request must be in this function's VPC (CreateVpcNetworkInterfacesInVpc).",
    });
    this.allow({
      sid: 'CreateVpcNetworkInterfacesInVpc',
      actions: ['ec2:CreateNetworkInterface'],
      resources: [ec2('subnet'), ec2('security-group')],
      conditions: inVpc,
      wildcardReason: "Subnets and security groups of this function's VPC only (ec2:Vpc).",
    });
    this.allow({
      sid: 'ManageVpcNetworkInterfaces',
      actions: [
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      resources: [ec2('network-interface')],
      conditions: inVpc,
      wildcardReason:
        "Lambda deletes and re-addresses its own network interfaces; ec2:Vpc limits every write to this function's VPC.",
    });
  }

  /**
   * One role for all of this function's schedules, also passed to the one-time schedules the function creates
   * itself: invoke this function, park failures in its queue.
   */
  invokerRole(): Role {
    if (!this.schedulerRole) {
      const stack = Stack.of(this);
      this.schedulerRole = new Role(this, 'SchedulerRole', {
        assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
        description: `EventBridge Scheduler invokes steward ${this.props.config.stage} ${this.shortName}`,
      });
      // LambdaInvoke grants lambda:InvokeFunction on the function and its versions/aliases (`<arn>:*`).
      for (const f of wildcardFindings(this, [], [`${this.fn.functionArn}:*`])) {
        acknowledge(
          this.schedulerRole,
          `AwsSolutions-IAM5[${f}]`,
          'Scheduler may invoke this one function, any version or alias of it; the wildcard is the qualifier only.',
        );
      }
    }
    return this.schedulerRole;
  }

  /** This function's ARN as a literal (its own environment cannot reference it: a cycle). */
  get literalArn(): string {
    return Stack.of(this).formatArn({
      service: 'lambda',
      region: this.props.config.region,
      resource: 'function',
      resourceName: `steward-${this.props.config.stage}-${this.shortName}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
}

/**
 * RDS creating a database from an encrypted source (restore, read replica) whose customer managed key
 * steward does not know: RDS creates a grant on the key for the new database and reads its metadata, with
 * the caller's permissions. Only through RDS in `region`, and grants only for AWS resources.
 */
export const allowKeysViaRds = (fn: Grantee & IConstruct, purpose: string, region: string): void => {
  const keys = Stack.of(fn).formatArn({ service: 'kms', resource: 'key', resourceName: '*' });
  const viaRds = { 'kms:ViaService': `rds.${region}.amazonaws.com` };
  const why = `${purpose} a database encrypted with a customer managed key steward does not know`;
  fn.allow({
    sid: 'GrantSourceKeysToRds',
    actions: ['kms:CreateGrant'],
    resources: [keys],
    conditions: { StringEquals: viaRds, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    wildcardReason: `${why}: RDS creates a grant for the new database; only through RDS in ${region}, only for AWS resources.`,
  });
  fn.allow({
    sid: 'DescribeSourceKeysViaRds',
    actions: ['kms:DescribeKey'],
    resources: [keys],
    conditions: { StringEquals: viaRds },
    wildcardReason: `${why}: RDS reads the key's metadata; only through RDS in ${region}.`,
  });
};
