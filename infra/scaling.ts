import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IAlarmAction, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { EventPattern, IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { ContextAttribute } from 'aws-cdk-lib/aws-scheduler';
import { FilterOrPolicy, SubscriptionFilter, Topic } from 'aws-cdk-lib/aws-sns';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct, type IConstruct } from 'constructs';
import type * as v from '../shared/valid.js';
import type { BaseEnv } from '../shared/config/env.js';
import type { ScalingAlarmSpec } from '../shared/config/schema.js';
import { runReportsPrefix } from '../shared/notify/run-report.js';
import type { ScalingEnv } from '../shared/scaling/env.js';
import { replicaPattern, SCALING_KEY_PREFIX } from '../shared/scaling/ids.js';
import { ladderFor } from '../shared/scaling/ladder.js';
import type { NamedRule } from '../shared/scaling/model.js';
import {
  ALARM_CONFIGURATION_CHANGE,
  ALARM_STATE_CHANGE,
  namedRules,
  RDS_CLUSTER_FAILOVER_EVENT_IDS,
  RDS_FAILOVER_EVENT_IDS,
} from '../shared/scaling/request.js';
import { Tag } from '../shared/tags.js';
import { awsArn, constructId } from './arns.js';
import type { StateTable } from './state-table.js';
import type { Grantee } from './permission.js';
import { FleetFanOut } from './fan-out.js';
import { allowAssumeSpokeRoles, allowListOrganization, forwardedInput } from './fleet.js';
import { organizationalUnitTargets } from '../shared/fleet/fan-out.js';
import { hasSpokes, hubRoleName } from '../shared/fleet/targets.js';
import { allowKeysViaRds, type CapabilityProps, StewardFunction } from './steward-function.js';

export interface ScalingProps extends CapabilityProps {
  /** Seen events, cooldowns, approvals and alarm states. */
  stateTable: StateTable;
}

const COMPARISON: Record<ScalingAlarmSpec['comparison'], ComparisonOperator> = {
  '>': ComparisonOperator.GREATER_THAN_THRESHOLD,
  '>=': ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  '<': ComparisonOperator.LESS_THAN_THRESHOLD,
  '<=': ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
};

export { ALARM_STATE_CHANGE };

/** CloudWatch invokes a function as an alarm action with this service principal (scoped by aws:SourceArn). */
export const ALARM_ACTION_PRINCIPAL = 'lambda.alarms.cloudwatch.amazonaws.com';

/**
 * Scaling: a few EventBridge rules for the config rules' alarms' state changes (ALARM, and OK with scale-in),
 * or with `delivery: lambda-action` the alarms invoking the function themselves; the alarms config asks steward
 * to create, SNS subscriptions to the topics existing alarms notify, and a scale-in check schedule when a rule
 * scales in. Mutating permissions name exactly the resources the rules name; replicas steward creates carry
 * `steward:managed=true`, and only those can be deleted.
 */
export class Scaling extends Construct {
  readonly function: StewardFunction;
  /** Alarms created from config (`alarm.create`). */
  readonly alarms: Alarm[] = [];
  readonly eventRules: Rule[] = [];
  /** The scale-in check's fan-out over the targets (a stage with spokes and a rule that scales in). */
  readonly fanOut?: FleetFanOut;
  private readonly stageRegion: string;

  constructor(scope: Construct, id: string, props: ScalingProps) {
    super(scope, id);
    const { config, stateTable } = props;
    const rules = namedRules(config.scaling);
    this.stageRegion = config.region;
    const fn = new StewardFunction(this, 'Function', {
      ...props,
      capability: 'scaling',
      description: `steward ${config.stage}: alarm-driven scaling and remediation playbooks`,
      // One invocation acts in one account-region: an alarm, a playbook, or one target's scale-in check (with
      // spokes, one child of the scaling fan-out each).
      timeout: Duration.minutes(2),
      // The spokes' scaling roles trust this role by its ARN: give it a name known at synth.
      ...(hasSpokes(config) && rules.length
        ? { roleName: hubRoleName(config.stage, 'scaling', config.region) }
        : {}),
      environment: { STATE_TABLE: stateTable.tableName } satisfies Omit<
        v.input<typeof ScalingEnv>,
        keyof v.input<typeof BaseEnv>
      >,
    });
    this.function = fn;
    stateTable.grantReadWrite(fn, 'ScalingState', [SCALING_KEY_PREFIX]);
    // The full report of a run that summarises many decisions (a scale-in check over many databases).
    props.reports?.grantWrite(
      fn,
      'WriteRunReports',
      runReportsPrefix('scaling'),
      'the full report of a run with many decisions',
    );

    const direct = config.scaling.delivery === 'lambda-action';
    // With lambda-action the alarms invoke the function themselves. A few permissions for all the rules' alarms,
    // not one each: each statement is ~0.45 KB of the function's 20 KB resource policy (full at ~45 rules) and a
    // resource toward CloudFormation's 500. Each covers a name prefix of the rules' alarms in this account and
    // region (aws:SourceArn is matched with ArnLike); an alarm it lets in that no rule answers is ignored
    // (shared/scaling/alarm-event.ts). aws:SourceAccount keeps another account's alarms out whatever their name.
    const permissions = direct
      ? alarmArnPatterns(rules.map(alarmPattern), ALARM_PERMISSIONS).map((pattern, i, all) => {
          const id = `AlarmActions${all.length > 1 ? i + 1 : ''}`;
          fn.fn.addPermission(id, {
            principal: new ServicePrincipal(ALARM_ACTION_PRINCIPAL),
            action: 'lambda:InvokeFunction',
            sourceArn: this.alarmArn(pattern),
            sourceAccount: Stack.of(this).account,
          });
          return { pattern, permission: fn.fn.node.findChild(id) };
        })
      : [];
    for (const rule of rules) {
      if ('name' in rule.alarm && rule.alarm.create) {
        const name = rule.alarm.name;
        const alarm = this.alarm(rule, name, rule.alarm.create);
        // The alarm invokes the function itself, let in by the shared permissions above (CDK's LambdaAction
        // would add one more, scoped to this alarm's ARN). CloudFormation creates in parallel what nothing
        // orders, so an alarm created before its permission could fire into a refused invoke (the alarm's
        // history shows it; the scaling never happens): each alarm DependsOn the one permission that covers its
        // name, one entry (all 10 on every alarm would add ~225 KB to a template of 500 alarms).
        if (direct) {
          const action = invokes(fn.fn);
          alarm.addAlarmAction(action);
          if (rule.scaleIn.enabled) alarm.addOkAction(action);
          const covering = permissions.find(({ pattern }) => alarmPatternCovers(pattern, name));
          if (!covering)
            throw new Error(`scaling.rules.${rule.name}.alarm.name: no alarm permission covers ${name}`);
          alarm.node.addDependency(covering.permission);
        }
        this.alarms.push(alarm);
      }
    }
    if (!direct) {
      // A few rules for all the scaling rules' alarms, not one each: every rule adds a Lambda permission (~0.45 KB
      // of a 20 KB resource policy, full at ~45 rules) and two resources to a stack that holds 500. One group
      // takes ALARM and OK (the rules that scale in), the other ALARM; each is cut where its pattern would pass
      // EventBridge's 2,048 characters. An alarm both groups name reaches the function twice: the event id
      // dedupes it.
      const scalesIn = rules.filter((r) => r.scaleIn.enabled);
      const alarmOnly = rules.filter((r) => !r.scaleIn.enabled);
      for (const [group, states, label] of [
        [scalesIn, ['ALARM', 'OK'], 'ScaleInAlarms'],
        [alarmOnly, ['ALARM'], 'Alarms'],
      ] as const) {
        patternsFor(group, (matchers) => alarmStatePattern(matchers, [...states])).forEach(
          (pattern, i, all) => {
            this.eventRules.push(
              fn.addEventRule(
                `${label}Rule${all.length > 1 ? i + 1 : ''}`,
                `Scaling rules' alarms (${states.join(' or ')})${all.length > 1 ? `, part ${i + 1} of ${all.length}` : ''}`,
                pattern,
              ),
            );
          },
        );
      }
    }
    // A deleted (or renamed) alarm silences its rules: the function warns.
    patternsFor(rules, (matchers) => ({
      source: ['aws.cloudwatch'],
      detailType: [ALARM_CONFIGURATION_CHANGE],
      detail: { alarmName: matchers },
    })).forEach((pattern, i) => {
      this.eventRules.push(
        fn.addEventRule(
          `AlarmConfigurationRule${i ? i + 1 : ''}`,
          'A scaling rule’s alarm was created, changed or deleted',
          pattern,
        ),
      );
    });
    const failovers = failoverPattern(rules);
    if (failovers)
      this.eventRules.push(
        fn.addEventRule(
          'FailoverRule',
          'A scaling rule’s database failed over: its cooldown restarts',
          failovers,
        ),
      );

    this.subscribe(fn, rules);
    if (rules.some((r) => r.scaleIn.enabled)) {
      // With spokes the check fans out as the backup and retention cycles do: one child per account-region
      // on the Distributed Map `steward-<stage>-scaling-fleet` (infra/fan-out.ts), each child this function
      // with the check plus its target. Without spokes the schedule invokes the function, as it always did.
      const fanOut = FleetFanOut.of(this, 'scaling', fn, props);
      if (fanOut) this.fanOut = fanOut;
      (fanOut ?? fn).addSchedule('ScaleInSchedule', {
        name: 'scaling-scale-in',
        description: 'Scale in where an alarm has stayed OK for its rule’s afterOkMinutes',
        expression: config.scaling.scaleInSchedule,
        input: { action: 'scale-in-check', scheduledTime: ContextAttribute.scheduledTime },
      });
    }
    grantScalingEstate(fn, config.region, rules);
    // A spoke's alarm acts in its account and region, through its spoke scaling role (infra/spoke.ts).
    // An alarm of an OU's account is placed by listing the OU targets' accounts (shared/fleet/child.ts).
    if (hasSpokes(config) && rules.length) {
      allowAssumeSpokeRoles(fn, config, 'scaling');
      // (The fan-out grants the listing itself, for its first state.)
      if (organizationalUnitTargets(config).length && !this.fanOut) allowListOrganization(fn, config);
    }
  }

  /**
   * Act on the spokes' alarms in their own account-region: the spoke forwards its rules' alarm state changes
   * to the fleet bus (infra/spoke.ts), whose rule hands them to the function wrapped as `forwarded`; it finds
   * the target by the event's account and region (shared/fleet/forwarded.ts) and runs today's scaling there
   * with the spoke's scaling role and the target's overrides. An alarm of an account-region that is no target
   * is ignored.
   */
  forwardFromFleet(bus: IEventBus): void {
    const rules = namedRules(this.function.config.scaling);
    if (!rules.length) return;
    // A spoke's database failover (the spoke forwards its database events: infra/spoke.ts,
    // ForwardDatabaseEvents) restarts that database's cooldown in its target, as the hub's own does: without
    // this rule only backup took it, and a spoke database scaled again right after a failover.
    const failovers = failoverPattern(rules);
    if (failovers)
      this.eventRules.push(
        this.function.addEventRule(
          'FleetFailoverRule',
          "A spoke's scaling rule database failed over: its cooldown restarts in that account and region",
          failovers,
          { eventBus: bus, event: forwardedInput() },
        ),
      );
    forwardedAlarmPatterns(rules).forEach((pattern, i) => {
      this.eventRules.push(
        this.function.addEventRule(
          `FleetAlarmRule${i ? i + 1 : ''}`,
          "A spoke's scaling alarm changed state: scale in that account and region",
          pattern,
          { eventBus: bus, event: forwardedInput() },
        ),
      );
    });
  }

  /** A CloudWatch alarm on the rule's resource; its state changes reach the function through EventBridge. */
  private alarm(rule: NamedRule, alarmName: string, spec: ScalingAlarmSpec): Alarm {
    const cache = rule.kind === 'elasticache';
    const dimensionsMap =
      spec.dimensions ??
      (rule.kind === 'aurora-cluster'
        ? { DBClusterIdentifier: rule.resource }
        : { DBInstanceIdentifier: rule.resource });
    return new Alarm(this, `${constructId(rule.name)}Alarm`, {
      alarmName,
      alarmDescription: `steward scaling rule ${rule.name}: ${rule.action.type} on ${rule.resource} (mode ${rule.mode})`,
      metric: new Metric({
        namespace: cache ? 'AWS/ElastiCache' : 'AWS/RDS',
        metricName: spec.metric,
        dimensionsMap,
        statistic: spec.statistic,
        period: Duration.seconds(spec.periodSeconds),
      }),
      threshold: spec.threshold,
      comparisonOperator: COMPARISON[spec.comparison],
      evaluationPeriods: spec.evaluationPeriods,
      ...(spec.datapointsToAlarm ? { datapointsToAlarm: spec.datapointsToAlarm } : {}),
    });
  }

  private alarmArn(name: string): string {
    return Stack.of(this).formatArn({
      service: 'cloudwatch',
      region: this.stageRegion,
      resource: 'alarm',
      resourceName: name,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /** Subscribe to the topics existing alarms notify, filtered on the message body to the rules' alarms. */
  private subscribe(fn: StewardFunction, rules: NamedRule[]): void {
    const allowlist = rules.flatMap((r) => ('name' in r.alarm ? [r.alarm.name] : []));
    const matchPrefixes = rules.flatMap((r) => ('prefix' in r.alarm ? [r.alarm.prefix] : []));
    fn.config.scaling.alarmTopicArns.forEach((arn, i) => {
      const topic = Topic.fromTopicArn(this, `AlarmTopic${i + 1}`, arn);
      topic.addSubscription(
        new LambdaSubscription(fn.fn, {
          deadLetterQueue: fn.failureQueue,
          filterPolicyWithMessageBody: {
            AlarmName: FilterOrPolicy.filter(
              SubscriptionFilter.stringFilter({
                ...(allowlist.length ? { allowlist } : {}),
                ...(matchPrefixes.length ? { matchPrefixes } : {}),
              }),
            ),
          },
        }),
      );
    });
  }
}

/**
 * Every failover of an account-region's instances (and clusters, when a rule is on one), not the rules'
 * databases by ARN: a pattern holds 2,048 characters, which a list of ARNs outgrew at ~35 databases
 * (CloudFormation could not create the rule). Failovers are rare; the function ignores one of a database no
 * rule names, and takes an instance id only from an instance event (shared/scaling/request.ts). Undefined
 * when no rule is on an RDS database.
 */
export const failoverPattern = (rules: NamedRule[]): EventPattern | undefined => {
  const instances = rules.some((r) => r.kind === 'rds-instance');
  const clusters = rules.some((r) => r.kind === 'aurora-cluster');
  if (!instances && !clusters) return undefined;
  return {
    source: ['aws.rds'],
    detailType: [
      ...(instances ? ['RDS DB Instance Event'] : []),
      ...(clusters ? ['RDS DB Cluster Event'] : []),
    ],
    detail: {
      EventID: [
        ...(instances ? RDS_FAILOVER_EVENT_IDS : []),
        ...(clusters ? RDS_CLUSTER_FAILOVER_EVENT_IDS : []),
      ],
    },
  };
};

/**
 * Least privilege: every mutating action on the resources (and steward's own replicas) the rules name, in
 * `region` of the grantee's account. The hub's scaling function, and each spoke's scaling role (the same
 * statements in the spoke's account and region: infra/spoke.ts).
 */
export const grantScalingEstate = (fn: Grantee & IConstruct, region: string, rules: NamedRule[]): void => {
  const stack = Stack.of(fn);
  const rds = (type: string, name: string) => awsArn(stack, 'rds', region, type, name);
  const group = (name: string) => awsArn(stack, 'elasticache', region, 'replicationgroup', name);
  const ids = (type: string, kind?: NamedRule['kind'], scaleIn = false) => [
    ...new Set(
      rules
        .filter(
          (r) => r.action.type === type && (!kind || r.kind === kind) && (!scaleIn || r.scaleIn.enabled),
        )
        .map((r) => r.resource),
    ),
  ];
  const requestManaged = { StringEquals: { [`aws:RequestTag/${Tag.managed}`]: 'true' } };
  const managedDb = { StringEquals: { [`rds:db-tag/${Tag.managed}`]: 'true' } };

  const instances = [
    ...new Set(
      rules.filter((r) => r.kind === 'rds-instance' && r.action.type !== 'notify').map((r) => r.resource),
    ),
  ];
  const clusters = [
    ...new Set(
      rules.filter((r) => r.kind === 'aurora-cluster' && r.action.type !== 'notify').map((r) => r.resource),
    ),
  ];
  const groups = [
    ...new Set(
      rules.filter((r) => r.kind === 'elasticache' && r.action.type !== 'notify').map((r) => r.resource),
    ),
  ];

  if (rules.length)
    fn.allow({
      sid: 'DescribeRuleAlarms',
      actions: ['cloudwatch:DescribeAlarms'],
      resources: [...new Set(rules.map(alarmPattern))].map((a) =>
        stack.formatArn({
          service: 'cloudwatch',
          region,
          resource: 'alarm',
          resourceName: a,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ),
      wildcardReason:
        'Read-only: which side of its threshold or anomaly band a rule’s alarm breaches (its comparison operator); a prefix rule names its alarms by prefix.',
    });
  // A read-replica rule reads each steward-named replica's tags (scale-in removes only steward's own) and
  // status (no replica is added or removed while one is still being created).
  const replicaSources = ids('rds.addReadReplica', 'rds-instance');
  if (instances.length)
    fn.allow({
      sid: 'DescribeScaledDbInstances',
      actions: ['rds:DescribeDBInstances'],
      resources: [
        ...instances.map((i) => rds('db', i)),
        ...replicaSources.map((s) => rds('db', replicaPattern(s, 'replica'))),
      ],
      wildcardReason: `Read-only: a read-replica rule reads the tags and status of the replicas named like steward's (<source>-replica-<n>): scale-in removes only its own, and neither direction steps while one is still being created.`,
    });
  if (clusters.length)
    fn.allow({
      sid: 'DescribeScaledDbClusters',
      actions: ['rds:DescribeDBClusters', 'rds:DescribeDBInstances'],
      resources: [...clusters.map((c) => rds('cluster', c)), rds('db', '*')],
      wildcardReason:
        'Read-only: the members of a scaled Aurora cluster are listed with the db-cluster-id filter, which is authorized on db:*.',
    });
  if (groups.length)
    fn.allow({
      sid: 'DescribeScaledReplicationGroups',
      actions: ['elasticache:DescribeReplicationGroups'],
      resources: groups.map(group),
    });

  // ModifyDBInstance changes a class only to one of the rule's ladder (rds:DatabaseClass); a request
  // without a class, or one that moves the database to other option/parameter/subnet groups (resources
  // of the request no statement names), is refused. Keys IAM cannot see (master password, public access,
  // deletion protection) are only as safe as the code that never sends them (README: Safety).
  const classes = new Map<string, Set<string>>();
  for (const r of rules) {
    if (r.action.type !== 'rds.scaleUp') continue;
    const set = classes.get(r.resource) ?? new Set<string>();
    ladderFor(r.action.ladder, r.action.max).forEach((c) => set.add(c));
    classes.set(r.resource, set);
  }
  for (const [db, ladder] of classes) {
    fn.allow({
      sid: `ModifyClass${constructId(db)}`,
      actions: ['rds:ModifyDBInstance'],
      resources: [rds('db', db)],
      conditions: { StringEquals: { 'rds:DatabaseClass': [...ladder] } },
    });
  }
  if (classes.size) {
    fn.deny({
      sid: 'NeverManageMasterPasswords',
      actions: ['rds:ModifyDBInstance'],
      resources: ['*'],
      conditions: { Null: { 'rds:ManageMasterUserPassword': 'false' } },
    });
  }

  const sources = ids('rds.addReadReplica', 'rds-instance');
  if (sources.length) {
    const replicas = sources.map((s) => rds('db', replicaPattern(s, 'replica')));
    // RDS authorizes the replica on the source and the new instance and on the option, parameter and
    // subnet groups the replica inherits (Service Authorization Reference: db, og, pg, subgrp required).
    fn.allow({
      sid: 'CreateManagedReadReplicas',
      actions: ['rds:CreateDBInstanceReadReplica'],
      resources: [
        ...sources.map((s) => rds('db', s)),
        ...replicas,
        rds('og', '*'),
        rds('pg', '*'),
        rds('subgrp', '*'),
      ],
      conditions: requestManaged,
      wildcardReason: `Replica ids are numbered per run (<source>-replica-<n>) and inherit the source's option, parameter and subnet groups; every request must tag the replica ${Tag.managed}=true.`,
    });
    allowKeysViaRds(fn, 'Replicating', region);
    fn.allow({
      sid: 'TagManagedReadReplicas',
      actions: ['rds:AddTagsToResource'],
      resources: replicas,
      conditions: requestManaged,
      wildcardReason: `Tag-on-create of steward's read replicas (<source>-replica-<n>), ${Tag.managed}=true required.`,
    });
    const shrinking = ids('rds.addReadReplica', 'rds-instance', true);
    if (shrinking.length)
      fn.allow({
        sid: 'DeleteManagedReadReplicas',
        actions: ['rds:DeleteDBInstance'],
        resources: shrinking.map((s) => rds('db', replicaPattern(s, 'replica'))),
        conditions: managedDb,
        wildcardReason: `Scale-in removes only steward's own replicas: <source>-replica-<n>, tagged ${Tag.managed}=true.`,
      });
  }

  const auroras = ids('rds.addReadReplica', 'aurora-cluster');
  if (auroras.length) {
    const readers = auroras.map((c) => rds('db', replicaPattern(c, 'reader')));
    fn.allow({
      sid: 'CreateManagedAuroraReaders',
      actions: ['rds:CreateDBInstance'],
      resources: [
        ...readers,
        ...auroras.map((c) => rds('cluster', c)),
        rds('og', '*'),
        rds('pg', '*'),
        rds('subgrp', '*'),
      ],
      conditions: requestManaged,
      wildcardReason: `Reader ids are numbered per run (<cluster>-reader-<n>) and use the cluster's default groups; every request must tag the reader ${Tag.managed}=true.`,
    });
    fn.allow({
      sid: 'TagManagedAuroraReaders',
      actions: ['rds:AddTagsToResource'],
      resources: readers,
      conditions: requestManaged,
      wildcardReason: `Tag-on-create of steward's Aurora readers (<cluster>-reader-<n>), ${Tag.managed}=true required.`,
    });
    const shrinking = ids('rds.addReadReplica', 'aurora-cluster', true);
    if (shrinking.length)
      fn.allow({
        sid: 'DeleteManagedAuroraReaders',
        actions: ['rds:DeleteDBInstance'],
        resources: shrinking.map((c) => rds('db', replicaPattern(c, 'reader'))),
        conditions: managedDb,
        wildcardReason: `Scale-in removes only steward's own readers: <cluster>-reader-<n>, tagged ${Tag.managed}=true.`,
      });
  }

  const rebooted = ids('rds.failover', 'rds-instance');
  if (rebooted.length)
    fn.allow({
      sid: 'FailOverDbInstances',
      actions: ['rds:RebootDBInstance'],
      resources: rebooted.map((i) => rds('db', i)),
    });
  const failedOver = ids('rds.failover', 'aurora-cluster');
  if (failedOver.length)
    fn.allow({
      sid: 'FailOverDbClusters',
      actions: ['rds:FailoverDBCluster'],
      resources: failedOver.map((c) => rds('cluster', c)),
    });

  const resharded = ids('elasticache.addShard');
  if (resharded.length)
    fn.allow({
      sid: 'ReshardReplicationGroups',
      actions: ['elasticache:ModifyReplicationGroupShardConfiguration'],
      resources: resharded.map(group),
    });
  const replicated = ids('elasticache.addReplica');
  if (replicated.length)
    fn.allow({
      sid: 'AddCacheReplicas',
      actions: ['elasticache:IncreaseReplicaCount'],
      resources: replicated.map(group),
    });
  const fewer = ids('elasticache.addReplica', undefined, true);
  if (fewer.length)
    fn.allow({
      sid: 'RemoveCacheReplicas',
      actions: ['elasticache:DecreaseReplicaCount'],
      resources: fewer.map(group),
    });
  const cacheFailover = ids('elasticache.failover');
  if (cacheFailover.length)
    fn.allow({
      sid: 'TestCacheFailover',
      actions: ['elasticache:TestFailover'],
      resources: cacheFailover.map(group),
    });
};

/** The function as an alarm's action, with no permission of its own (the stage's alarm permissions let it in). */
const invokes = (fn: IFunction): IAlarmAction => ({ bind: () => ({ alarmActionArn: fn.functionArn }) });

/**
 * The most Lambda permissions the rules' alarms take with lambda-action delivery: ~0.45 KB each of the function's
 * 20 KB resource policy, which the EventBridge rules and SNS subscriptions share.
 */
export const ALARM_PERMISSIONS = 10;

/**
 * At most `max` alarm name patterns (`name`, or `prefix*`) that together cover each of `patterns`: the patterns
 * themselves when there are few, else the names' shared prefixes, the longest first (every alarm name
 * `orders-db-0…` becomes `orders-db-0*`), down to `*` (every alarm) only when the names share nothing.
 */
export const alarmArnPatterns = (patterns: readonly string[], max: number): string[] => {
  // Sorted by stem, a prefix before the name equal to it: the names a prefix covers follow it, contiguous.
  let stems = [...new Set(patterns)]
    .map((p) => (p.endsWith('*') ? { stem: p.slice(0, -1), wild: true } : { stem: p, wild: false }))
    .sort((a, b) => (a.stem < b.stem ? -1 : a.stem > b.stem ? 1 : Number(b.wild) - Number(a.wild)))
    .filter((s, i, all) => !all.slice(0, i).some((o) => o.wild && s.stem.startsWith(o.stem)));
  const shared = (a: string, b: string): number => {
    let n = 0;
    while (n < a.length && n < b.length && a[n] === b[n]) n++;
    return n;
  };
  while (stems.length > Math.max(1, max)) {
    // The longest prefix two neighbours share becomes one wildcard for every stem under it (a contiguous run).
    let at = 1;
    for (let i = 2; i < stems.length; i++)
      if (shared(stems[i - 1]!.stem, stems[i]!.stem) > shared(stems[at - 1]!.stem, stems[at]!.stem)) at = i;
    const prefix = stems[at]!.stem.slice(0, shared(stems[at - 1]!.stem, stems[at]!.stem));
    let from = at - 1;
    while (from > 0 && stems[from - 1]!.stem.startsWith(prefix)) from--;
    let to = at + 1;
    while (to < stems.length && stems[to]!.stem.startsWith(prefix)) to++;
    stems = [...stems.slice(0, from), { stem: prefix, wild: true }, ...stems.slice(to)];
  }
  return stems.map((s) => (s.wild ? `${s.stem}*` : s.stem));
};

/** Whether an alarm ARN pattern of {@link alarmArnPatterns} (`name`, or `prefix*`) lets the alarm `name` in. */
const alarmPatternCovers = (pattern: string, name: string): boolean =>
  pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;

/** The alarm name, or the prefix with `*`, as an ARN resource pattern. */
const alarmPattern = (r: NamedRule): string => ('name' in r.alarm ? r.alarm.name : `${r.alarm.prefix}*`);

/** An alarm state change of the named alarms, in the given states. */
const alarmStatePattern = (matchers: AlarmMatcher[], states: string[]): EventPattern => ({
  source: ['aws.cloudwatch'],
  detailType: [ALARM_STATE_CHANGE],
  detail: { alarmName: matchers, state: { value: states } },
});

/**
 * The alarm state changes a spoke forwards and the hub's fleet rule takes: the rules' alarms, ALARM (and OK
 * for a rule that scales in), as each hub rule takes its own. One pattern per part of the alarms that fits
 * EventBridge's 2,048 characters.
 */
export const forwardedAlarmPatterns = (rules: readonly NamedRule[]): EventPattern[] => {
  const states = rules.some((r) => r.scaleIn.enabled) ? ['ALARM', 'OK'] : ['ALARM'];
  return patternsFor(rules, (matchers) => alarmStatePattern(matchers, states));
};

type AlarmMatcher = string | { prefix: string };

/** EventBridge matchers for the rules' alarms: exact names and prefixes. */
export const alarmMatchers = (rules: readonly NamedRule[]): AlarmMatcher[] => [
  ...rules.flatMap((r) => ('name' in r.alarm ? [r.alarm.name] : [])),
  ...rules.flatMap((r) => ('prefix' in r.alarm ? [{ prefix: r.alarm.prefix }] : [])),
];

/**
 * EventBridge refuses a pattern over 2,048 characters (its default quota). Kept under this many, as
 * CloudFormation writes it (`detail-type`, not CDK's `detailType`), with room for what CDK adds.
 */
const PATTERN_CHARS = 1900;

/** The rules' alarm matchers cut into parts whose pattern stays under EventBridge's limit: one pattern each. */
const patternsFor = (
  rules: readonly NamedRule[],
  pattern: (matchers: AlarmMatcher[]) => EventPattern,
): EventPattern[] => {
  const size = (m: AlarmMatcher[]) => JSON.stringify(pattern(m)).length;
  const parts: AlarmMatcher[][] = [];
  for (const m of alarmMatchers(rules)) {
    const last = parts.at(-1);
    if (last && size([...last, m]) <= PATTERN_CHARS) last.push(m);
    else parts.push([m]);
  }
  return parts.map(pattern);
};
