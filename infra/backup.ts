import { Annotations, ArnFormat, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as v from '../shared/valid.js';
import { ContextAttribute } from 'aws-cdk-lib/aws-scheduler';
import { type EventPattern, type IEventBus } from 'aws-cdk-lib/aws-events';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ID_PREFIX } from '../shared/backup/ids.js';
import { COPY_QUEUE_PREFIX } from '../shared/aws/copy-ledger.js';
import { DR_LAG_MAX_METRIC } from '../shared/backup/copies.js';
import type { BackupSchedulerEnv, ConsistencyEnv, CopyQueueEnv } from '../shared/backup/env.js';
import type { VaultEnv } from '../shared/config/env.js';
import {
  EBS_SNAPSHOT_DETAIL_TYPES,
  EBS_SNAPSHOT_EVENTS,
  HEALTH_CATEGORIES,
  HEALTH_SERVICES,
  RDS_DATABASE_DETAIL_TYPES,
  RDS_OPERATIONAL_EVENTS,
  RDS_SNAPSHOT_DETAIL_TYPES,
  SNAPSHOT_COPIED_EVENT_IDS,
  SNAPSHOT_CREATED_EVENT_IDS,
} from '../shared/backup/request.js';
import { drLagObjectiveSeconds } from '../shared/report/schedule.js';
import type { ResourceKind, StewardConfig } from '../shared/config/schema.js';
import { runReportsPrefix } from '../shared/notify/run-report.js';
import { Tag } from '../shared/tags.js';
import { copiesEbs } from './dr-events.js';
import { awsArn, constructId, ec2Arn } from './arns.js';
import { allowConsistency, ConsistencyDocument, consistentPolicies } from './consistency.js';
import type { StateTable } from './state-table.js';
import { copiesToDr, hasSpokes, hubRoleName } from '../shared/fleet/targets.js';
import { allowAssumeSpokeRoles, allowAssumeVaultRole, allowShareWithVault, forwardedInput } from './fleet.js';
import { hasVault } from '../shared/fleet/vault.js';
import { FleetFanOut } from './fan-out.js';
import { grantRedisDrBackup, redisExportBucket } from './cache-dr.js';
import { CACHE_SNAPSHOT_CREATED } from '../shared/backup/request.js';
import { keepsRedisDr } from '../shared/backup/cache-dr.js';
import { spokesKeepRedisDr } from '../shared/fleet/place.js';
import type { EstateScope, Grantee } from './permission.js';
import { drKeyScope } from './dr-key.js';
import { type CapabilityProps, StewardFunction } from './steward-function.js';

/** A failover, stop/start or storage event of a database (the backup function notifies when it protects it). */
export const DATABASE_EVENTS = {
  source: ['aws.rds'],
  detailType: [...RDS_DATABASE_DETAIL_TYPES],
  detail: { EventID: Object.keys(RDS_OPERATIONAL_EVENTS) },
} satisfies EventPattern;

/** One of steward's snapshots became available. */
export const SNAPSHOT_CREATED = {
  source: ['aws.rds'],
  detailType: [...RDS_SNAPSHOT_DETAIL_TYPES],
  detail: {
    EventID: [SNAPSHOT_CREATED_EVENT_IDS.db, SNAPSHOT_CREATED_EVENT_IDS.cluster],
    SourceIdentifier: [{ prefix: ID_PREFIX }],
  },
} satisfies EventPattern;

/** A copy of one of steward's snapshots finished (emitted in the copy's region). */
export const COPY_FINISHED = {
  source: ['aws.rds'],
  detailType: ['RDS DB Snapshot Event'],
  detail: { EventID: [SNAPSHOT_COPIED_EVENT_IDS.db], SourceIdentifier: [{ prefix: ID_PREFIX }] },
} satisfies EventPattern;

/**
 * An EBS snapshot (one volume's) or multi-volume set completed. The event carries no tags, so this matches
 * every snapshot of the account and region: the backup function reads the snapshot once and copies only
 * steward's sets (EBS User Guide, "Amazon EventBridge events for Amazon EBS").
 */
export const EBS_SNAPSHOT_CREATED = {
  source: ['aws.ec2'],
  detailType: [...EBS_SNAPSHOT_DETAIL_TYPES],
  detail: { event: [...EBS_SNAPSHOT_EVENTS.created], result: ['succeeded'] },
} satisfies EventPattern;

/** An EBS snapshot copy finished (emitted in the copy's region, the DR region's stack forwards it). */
export const EBS_COPY_FINISHED = {
  source: ['aws.ec2'],
  detailType: ['EBS Snapshot Notification'],
  detail: { event: [EBS_SNAPSHOT_EVENTS.copied], result: ['succeeded'] },
} satisfies EventPattern;

/**
 * AWS Health scheduled changes (a pre-change snapshot before) and issues (a notification) of the services
 * whose resources steward protects: RDS, ElastiCache, EC2 and EBS.
 */
export const HEALTH_EVENTS = {
  source: ['aws.health'],
  detailType: ['AWS Health Event'],
  detail: { service: [...HEALTH_SERVICES], eventTypeCategory: [...HEALTH_CATEGORIES] },
} satisfies EventPattern;

export interface BackupProps extends CapabilityProps {
  /** Holds each destination's DR copy queue, so an RDS event reconciles one database. */
  stateTable: StateTable;
}

// A fixed reference time for the default objective at synth (a schedule's typical interval): synth is
// deterministic, and a daily cron's interval is a day whichever day it is asked.
const OBJECTIVE_REFERENCE = new Date(Date.UTC(2026, 0, 15));

/**
 * Backup: one schedule per backup policy; when a policy copies to DR, RDS "manual snapshot created" events
 * and "copy finished" events (forwarded from the DR region by the `Steward-<stage>-dr` stack) start the
 * cross-region copies, an hourly reconcile (the copies in flight, a full sweep once a day) is the safety net
 * and follows Aurora copies, and one alarm per copying policy watches its DR lag.
 */
export class Backup extends Construct {
  readonly function: StewardFunction;
  /** steward's Command document, when a policy configures application consistency. */
  readonly consistencyDocument?: ConsistencyDocument;
  /** One per copying policy: the worst database's DR lag is over the policy's objective. */
  readonly drLagAlarms: Alarm[] = [];
  /** A stage with spokes: the scheduled runs fan out over the targets (a Distributed Map). */
  readonly fanOut?: FleetFanOut;
  /** Redis DR's export bucket in the stage region (a policy copies caches to DR). */
  readonly redisExport?: Bucket;

  constructor(scope: Construct, id: string, props: BackupProps) {
    super(scope, id);
    const { config } = props;
    const policies = Object.entries(config.backup.policies);
    const copiesToDr = policies.some(([, p]) => p.copyToDr);
    const group = props.scheduleGroup.scheduleGroupName;
    const maintenance = config.backup.maintenance.enabled;
    const fleet = hasSpokes(config);
    const vault = hasVault(config);
    const fn = new StewardFunction(this, 'Function', {
      ...props,
      capability: 'backup',
      description: `steward ${config.stage}: scheduled and ad-hoc snapshots, DR copies, pre-maintenance snapshots`,
      // A run that freezes instances waits, bounded, for its dumps and pre/post commands (a few minutes at most
      // per instance, shared/config/consistency.ts): Lambda's maximum then, else five minutes.
      timeout: consistentPolicies(config).length ? Duration.minutes(15) : Duration.minutes(5),
      // One run at a time: two overlapping reconciles would each start copies up to the in-flight limit.
      // A fleet runs one child per target at once, up to fleet.maxConcurrency (each in its own account-region).
      reservedConcurrency: fleet && config.fleet ? config.fleet.maxConcurrency : 1,
      regions: copiesToDr ? [config.region, config.dr.region] : [config.region],
      // The DR key's policy (often in another account) and the spoke roles' trust name this role: give it a
      // name known at synth.
      ...(copiesToDr || fleet || vault ? { roleName: backupRoleName(config.stage, config.region) } : {}),
    });
    this.function = fn;
    if (maintenance) this.maintenance(fn, group);
    // Each run's full report (the notification carries its summary), when the stage has a report bucket.
    props.reports?.grantWrite(fn, 'WriteRunReports', runReportsPrefix('backup'), "each run's full report");

    fn.addEventRule(
      'DatabaseEventRule',
      'A failover, stop/start or storage event of a database: notify when steward protects it',
      DATABASE_EVENTS,
    );

    // With spokes, each schedule starts a cycle over the targets instead of invoking the function.
    const fanOut = FleetFanOut.of(this, 'backup', fn, props);
    if (fanOut) this.fanOut = fanOut;
    const scheduler = fanOut ?? fn;
    for (const [name, policy] of policies) {
      scheduler.addSchedule(`Schedule${constructId(name)}`, {
        name: `backup-${name}`,
        description: `Backup policy "${name}" (${policy.kinds.join(', ')})`,
        expression: policy.schedule,
        timezone: policy.timezone,
        input: { action: 'scheduled-backup', policy: name, scheduledTime: ContextAttribute.scheduledTime },
      });
    }

    const copying = policies.filter(([, p]) => p.copyToDr);
    // The event-free copy reconcile also follows the vault: it copies snapshots that became available after
    // their backup's run and takes back the shares of finished copies, with or without DR copies.
    if (copying.length || vault) {
      scheduler.addSchedule('ScheduleCopies', {
        name: 'backup-copies',
        description: copying.length
          ? `Safety net: follow the DR copies in flight (Aurora sends no event), list all once a day${vault ? '; copy new snapshots into the vault, unshare finished vault copies' : ''}`
          : 'Copy new snapshots into the vault, unshare finished vault copies',
        expression: config.backup.copySchedule,
        input: { action: 'reconcile-copies' },
      });
    }
    if (copying.length) {
      fn.addEventRule(
        'SnapshotCreatedRule',
        'A steward snapshot is available: copy it to the DR region',
        SNAPSHOT_CREATED,
      );
      // Emitted in the DR region; the Steward-<stage>-dr stack forwards it to this region's default bus.
      fn.addEventRule(
        'CopyFinishedRule',
        'A DR copy of a steward snapshot finished: start the next copy to the DR region',
        // Keys in pattern order (the template renders them as given).
        {
          source: COPY_FINISHED.source,
          detailType: COPY_FINISHED.detailType,
          region: [config.dr.region],
          detail: COPY_FINISHED.detail,
        },
      );
      // EBS: a set completed, or one of its volumes' copies finished in the DR region (forwarded by the
      // Steward-<stage>-dr stack): the same targeted, queued reconcile as RDS events.
      if (copiesEbs(config)) {
        fn.addEventRule(
          'EbsSnapshotCreatedRule',
          'An EBS snapshot set completed: copy it to the DR region if it is steward',
          EBS_SNAPSHOT_CREATED,
        );
        fn.addEventRule(
          'EbsCopyFinishedRule',
          'An EBS snapshot copy finished in the DR region: start the next copy',
          {
            source: EBS_COPY_FINISHED.source,
            detailType: EBS_COPY_FINISHED.detailType,
            region: [config.dr.region],
            detail: EBS_COPY_FINISHED.detail,
          },
        );
      }
      // The copy queue: an event's run reads and conditionally writes its destination's item, nothing else.
      fn.fn.addEnvironment(
        'STATE_TABLE',
        props.stateTable.tableName satisfies v.input<typeof CopyQueueEnv>['STATE_TABLE'],
      );
      props.stateTable.grant(
        fn,
        'DrCopyQueue',
        ['dynamodb:GetItem', 'dynamodb:PutItem'],
        [COPY_QUEUE_PREFIX],
      );
      for (const [name, policy] of copying) this.drLagAlarm(props, name, policy);
    }

    // Redis DR: ElastiCache has no cross-region copy; its exports land in this region's bucket and are copied
    // to the DR stack's bucket. ElastiCache sends "Snapshot Created" to EventBridge directly, best effort
    // (EventBridge events reference, "Amazon ElastiCache events"): the hourly reconcile is the safety net.
    if (keepsRedisDr(config)) {
      this.redisExport = redisExportBucket(this, config, props.removalPolicy);
      grantRedisDrBackup(fn, this.redisExport);
      fn.addEventRule(
        'CacheSnapshotCreatedRule',
        "An ElastiCache snapshot is available: export steward's cache snapshots and copy them to the DR region",
        { source: ['aws.elasticache'], detailType: [CACHE_SNAPSHOT_CREATED] },
      );
    }

    const copied = new Set(copying.flatMap(([, p]) => p.kinds));
    grantBackupEstate(
      fn,
      { stack: Stack.of(this), region: config.region, dr: config.dr },
      new Set(policies.flatMap(([, p]) => p.kinds)),
      copied,
    );
    const keyUsers = drKeyServices(config);
    if (keyUsers.length) this.printDrKeyPolicy(fn, keyUsers);
    // Application consistency of EC2 instances: steward's Command document, and the grants to run it.
    if (consistentPolicies(config).length) {
      const doc = new ConsistencyDocument(this, 'ConsistencyDocument', {
        stage: config.stage,
        region: config.region,
      });
      this.consistencyDocument = doc;
      allowConsistency(fn, Stack.of(this), config, doc);
      fn.fn.addEnvironment(
        'CONSISTENCY_DOCUMENT',
        doc.documentName satisfies NonNullable<v.input<typeof ConsistencyEnv>['CONSISTENCY_DOCUMENT']>,
      );
    }
    if (fleet) allowAssumeSpokeRoles(fn, config, 'backup');
    // The vault: share steward's snapshots with the vault account, and act there as the vault's copy role.
    if (vault) {
      allowShareWithVault(fn, Stack.of(this), config.region, config);
      allowAssumeVaultRole(fn, config, 'copy');
      // The function assumes the copy role by the ARN allowAssumeVaultRole grants (shared/fleet/vault.ts names).
      fn.fn.addEnvironment(
        'VAULT_PARTITION',
        Stack.of(this).partition satisfies v.input<typeof VaultEnv>['VAULT_PARTITION'],
      );
    }
  }

  /**
   * The policy's DR lag over its objective: the worst database's age of newest DR data (`DrLagMaxSeconds`),
   * which each run without an event (hourly by default) sends only while it is over the objective. No data is
   * a lag within the objective (OK); a run that fails reaches the stage's failure queue alarm, and the hourly
   * status check calls the same copy LATE.
   */
  private drLagAlarm(
    props: BackupProps,
    name: string,
    policy: BackupProps['config']['backup']['policies'][string],
  ): void {
    const { config } = props;
    const objective = drLagObjectiveSeconds(policy, config.report.drGraceHours, OBJECTIVE_REFERENCE);
    if (objective === undefined) {
      Annotations.of(this).addWarningV2(
        `steward:dr-lag-${name}`,
        `Backup policy "${name}" copies to DR but its schedule ${policy.schedule} has no interval: set drLagObjectiveHours for a DR-lag alarm.`,
      );
      return;
    }
    const alarm = new Alarm(this, `DrLagAlarm${constructId(name)}`, {
      alarmName: `steward-${config.stage}-dr-lag-${name}`,
      alarmDescription:
        `steward ${config.stage}: a database of backup policy "${name}" has no DR copy in ${config.dr.region} newer than ` +
        `${Math.round(objective / 3600)} h (its DR-lag objective). Which one: \`steward status\`, or the backup run report's drLag.`,
      metric: new Metric({
        namespace: 'Steward',
        metricName: DR_LAG_MAX_METRIC,
        dimensionsMap: { service: 'backup', policy: name },
        statistic: Stats.MAXIMUM,
        period: Duration.hours(1),
      }),
      threshold: objective,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(props.notifications.warning));
    alarm.addOkAction(new SnsAction(props.notifications.warning));
    this.drLagAlarms.push(alarm);
  }

  /**
   * AWS Health scheduled changes of RDS, ElastiCache, EC2 and EBS → the function schedules a pre-change
   * snapshot (an EBS set for an instance) with a one-time schedule in the stage's group, which it may only create under its own name prefix and
   * only with the function's own invoker role. Their issues reach it too: one notification, no action.
   */
  private maintenance(fn: StewardFunction, group: string): void {
    const { config } = fn;
    const stack = Stack.of(this);
    const role = fn.invokerRole();
    fn.fn.grantInvoke(role);
    fn.failureQueue.grantSendMessages(role);
    const prefix = `steward-${config.stage}-pre-`;
    const env = {
      MAINTENANCE_SCHEDULE_GROUP: group,
      MAINTENANCE_TARGET_ARN: fn.literalArn,
      MAINTENANCE_ROLE_ARN: role.roleArn,
      MAINTENANCE_DLQ_ARN: fn.failureQueue.queueArn,
    } satisfies v.input<typeof BackupSchedulerEnv>;
    for (const [k, v] of Object.entries(env)) fn.fn.addEnvironment(k, v);
    fn.allow({
      sid: 'SchedulePreMaintenanceSnapshots',
      actions: ['scheduler:CreateSchedule'],
      resources: [
        stack.formatArn({
          service: 'scheduler',
          region: config.region,
          resource: 'schedule',
          resourceName: `${group}/${prefix}*`,
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        }),
      ],
      wildcardReason: `One-time schedules named ${prefix}<hash of the maintenance and the database>, known only when AWS Health announces it; they delete themselves after running.`,
    });
    fn.allow({
      sid: 'PassInvokerRoleToScheduler',
      actions: ['iam:PassRole'],
      resources: [role.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
    fn.addEventRule(
      'MaintenanceRule',
      'AWS Health scheduled changes (snapshot before) and issues (tell) of RDS, ElastiCache, EC2 and EBS',
      HEALTH_EVENTS,
    );
  }

  /**
   * The DR key's own policy must allow the backup role too (a key in another account trusts nobody by
   * default): the statement is printed at synth.
   */
  private printDrKeyPolicy(fn: StewardFunction, services: readonly DrKeyService[]): void {
    const { dr, stage, region } = fn.config;
    const roleArn = Stack.of(this).formatArn({
      service: 'iam',
      region: '',
      resource: 'role',
      resourceName: backupRoleName(stage, region),
    });
    new CfnOutput(this, 'DrKeyPolicyStatement', {
      description: `Add these statements to the policy of the DR key ${dr.kmsKeyArn} (README: The DR key's policy)`,
      value: Stack.of(this).toJsonString(drKeyPolicyStatement(roleArn, dr.region, services)),
    });
    Annotations.of(this).addInfo(
      `DR copies use ${dr.kmsKeyArn}: its key policy must allow the backup role ${backupRoleName(stage, region)} ` +
        `(stack output DrKeyPolicyStatement, README "The DR key's policy"): ${JSON.stringify(
          drKeyPolicyStatement(
            `arn:aws:iam::${fn.config.account ?? '<account of this stack>'}:role/${backupRoleName(stage, region)}`,
            dr.region,
            services,
          ),
        )}`,
    );
  }

  /**
   * Act on the spokes' events in their own account-region: their database events and AWS Health (told, and
   * pre-change snapshots), and their snapshot events: a steward snapshot became available, or
   * a DR copy finished (forwarded from the DR region by the spoke DR stack). Each reaches the fleet bus and
   * is handed to the function wrapped as `forwarded` (shared/fleet/forwarded.ts), which runs the same DR
   * copy reconcile the hub runs for its own events, in that target, with the target's credentials.
   */
  forwardFromFleet(bus: IEventBus): void {
    // A spoke's AWS Health scheduled changes and issues of RDS, ElastiCache, EC2 and EBS: the same pre-change
    // snapshots and notifications as the hub's own, in that target (the schedule's payload names it), naming
    // its account and region.
    if (this.function.config.backup.maintenance.enabled)
      this.function.addEventRule(
        'FleetHealthRule',
        'AWS Health in a spoke: snapshot its protected resources before a scheduled change, tell its issues',
        HEALTH_EVENTS,
        { eventBus: bus, event: forwardedInput() },
      );
    // A spoke's failover, stop/start and storage events (the spoke forwards DATABASE_EVENTS whatever the
    // policies): told as for the hub's own when steward protects the database there, naming its account and
    // region. Without this rule the fleet bus dropped them, a spoke's storage-full included.
    this.function.addEventRule(
      'FleetDatabaseEventRule',
      "A spoke's database failed over, stopped or started, or ran low on storage: notify when steward protects it",
      DATABASE_EVENTS,
      { eventBus: bus, event: forwardedInput() },
    );
    if (!copiesToDr(this.function.config)) return;
    this.function.addEventRule(
      'FleetSnapshotRule',
      "A spoke's steward snapshot is available, or its DR copy finished: reconcile its DR copies there",
      {
        source: SNAPSHOT_CREATED.source,
        detailType: [...new Set([...SNAPSHOT_CREATED.detailType, ...COPY_FINISHED.detailType])],
        detail: {
          EventID: [...SNAPSHOT_CREATED.detail.EventID, ...COPY_FINISHED.detail.EventID],
          SourceIdentifier: SNAPSHOT_CREATED.detail.SourceIdentifier,
        },
      },
      {
        eventBus: bus,
        event: forwardedInput(),
      },
    );
    // A spoke's ElastiCache snapshot is available: export it and copy it to DR in that account (Redis DR in
    // spoke targets); the hourly reconcile's fan-out is the safety net, as for the hub's own.
    if (spokesKeepRedisDr(this.function.config))
      this.function.addEventRule(
        'FleetCacheSnapshotRule',
        "A spoke's ElastiCache snapshot is available: export steward's and copy them to DR in that account",
        { source: ['aws.elasticache'], detailType: [CACHE_SNAPSHOT_CREATED] },
        { eventBus: bus, event: forwardedInput() },
      );
  }
}

/** A service that uses the DR key: RDS and EC2 for copies of databases and EBS sets, S3 for Redis DR copies. */
export type DrKeyService = 'rds' | 'ec2' | 's3';

/** The backup role's name: fixed, so the DR key's policy can name it before the stack exists. */
export const backupRoleName = (stage: string, region: string): string => hubRoleName(stage, 'backup', region);

/**
 * The statements the DR key's own policy needs so the backup role can encrypt DR copies with it (a key
 * in another account trusts no one by default): RDS creates a grant for the copy and uses the key on the
 * role's behalf, in the DR region only. Printed at synth; the IAM suite simulates copies against them.
 */
export const drKeyPolicyStatement = (
  roleArn: string,
  drRegion: string,
  /** The services that use the key: RDS and EC2 copy databases and EBS sets with it, S3 encrypts Redis DR copies. */
  services: readonly DrKeyService[] = ['rds'],
): {
  Sid: string;
  Effect: 'Allow';
  Principal: { AWS: string };
  Action: string | string[];
  Resource: string;
  Condition: Record<string, Record<string, string | string[]>>;
}[] => {
  const copiers = services.filter((s) => s !== 's3');
  const via = copiers.map((s) => `${s}.${drRegion}.amazonaws.com`);
  const viaRds = { 'kms:ViaService': via.length === 1 ? via[0]! : via };
  return [
    ...(copiers.length
      ? [
          {
            Sid: 'StewardBackupGrantsForRds',
            Effect: 'Allow' as const,
            Principal: { AWS: roleArn },
            Action: 'kms:CreateGrant',
            Resource: '*',
            Condition: { StringEquals: viaRds, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
          },
          {
            Sid: 'StewardBackupUsesKeyThroughRds',
            Effect: 'Allow' as const,
            Principal: { AWS: roleArn },
            Action: [
              'kms:DescribeKey',
              'kms:Encrypt',
              'kms:Decrypt',
              'kms:ReEncrypt*',
              'kms:GenerateDataKey*',
            ],
            Resource: '*',
            Condition: { StringEquals: viaRds },
          },
        ]
      : []),
    // Redis DR copies: S3 encrypts each RDB copy with the key and decrypts parts of a multipart copy.
    ...(services.includes('s3')
      ? [
          {
            Sid: 'StewardBackupUsesKeyThroughS3',
            Effect: 'Allow' as const,
            Principal: { AWS: roleArn },
            Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
            Resource: '*',
            Condition: { StringEquals: { 'kms:ViaService': `s3.${drRegion}.amazonaws.com` } },
          },
        ]
      : []),
  ];
};

/** Which services use the DR key for the stage's copies: RDS, EC2 for EBS sets, S3 for Redis DR copies. */
export const drKeyServices = (config: StewardConfig): DrKeyService[] => {
  const copied = new Set(
    Object.values(config.backup.policies)
      .filter((p) => p.copyToDr)
      .flatMap((p) => p.kinds),
  );
  return [
    ...(copied.has('rds-instance') || copied.has('aurora-cluster') ? (['rds'] as const) : []),
    ...(copied.has('ebs') ? (['ec2'] as const) : []),
    ...(keepsRedisDr(config) ? (['s3'] as const) : []),
  ];
};

/**
 * Least privilege for the kinds the policies back up and copy, on the estate of `at` (the hub function's
 * own account and region, or a spoke's): the same statements wherever the backup code acts.
 */
export const grantBackupEstate = (
  to: Grantee,
  at: EstateScope,
  kinds: ReadonlySet<ResourceKind>,
  copied: ReadonlySet<ResourceKind>,
): void => {
  const { stack } = at;
  const here = at.region;
  const dr = at.dr.region;
  const rds = (region: string, type: string, name = '*') => awsArn(stack, 'rds', region, type, name);
  const ours = `${ID_PREFIX}*`;
  const instances = kinds.has('rds-instance');
  const clusters = kinds.has('aurora-cluster');
  const caches = kinds.has('elasticache');
  const ebs = kinds.has('ebs');
  const requestManaged = { StringEquals: { [`aws:RequestTag/${Tag.managed}`]: 'true' } };

  to.allow({
    sid: 'ReadDatabasesAndSnapshots',
    actions: [
      'rds:DescribeDBInstances',
      'rds:DescribeDBClusters',
      'rds:DescribeDBSnapshots',
      'rds:DescribeDBClusterSnapshots',
      'rds:DescribeAccountAttributes',
      'rds:ListTagsForResource',
      ...(caches
        ? [
            'elasticache:DescribeReplicationGroups',
            'elasticache:DescribeSnapshots',
            // Serverless caches are listed (and backed up) beside the replication groups.
            'elasticache:DescribeServerlessCaches',
            'elasticache:DescribeServerlessCacheSnapshots',
            'elasticache:ListTagsForResource',
            // ElastiCache snapshot tags in bulk (the copy reconciler's listing).
            'tag:GetResources',
          ]
        : []),
      ...(ebs ? ['ec2:DescribeInstances', 'ec2:DescribeVolumes', 'ec2:DescribeSnapshots'] : []),
    ],
    resources: ['*'],
    wildcardReason:
      'Read-only discovery: Describe* list every database/snapshot of the account (opt-in is by tag, so ' +
      'names are unknown at deploy time); DescribeAccountAttributes, tag:GetResources and the EC2 Describe* ' +
      'have no resource type.',
  });
  if (ebs) grantEbsSnapshots(to, at, copied.has('ebs'));

  if (instances) {
    to.allow({
      sid: 'SnapshotOptedInDbInstances',
      actions: ['rds:CreateDBSnapshot'],
      resources: [rds(here, 'db')],
      conditions: { Null: { [`rds:db-tag/${Tag.backup}`]: 'false' } },
      wildcardReason: `Any DB instance may opt in; the rds:db-tag/${Tag.backup} condition limits this to the opted-in ones.`,
    });
  }
  if (clusters) {
    to.allow({
      sid: 'SnapshotOptedInDbClusters',
      actions: ['rds:CreateDBClusterSnapshot'],
      resources: [rds(here, 'cluster')],
      conditions: { Null: { [`rds:cluster-tag/${Tag.backup}`]: 'false' } },
      wildcardReason: `Any Aurora cluster may opt in; the rds:cluster-tag/${Tag.backup} condition limits this to the opted-in ones.`,
    });
  }
  if (instances || clusters) {
    const snapshots = (region: string) => [
      ...(instances ? [rds(region, 'snapshot', ours)] : []),
      ...(clusters ? [rds(region, 'cluster-snapshot', ours)] : []),
    ];
    to.allow({
      sid: 'CreateManagedRdsSnapshots',
      actions: [
        ...(instances ? ['rds:CreateDBSnapshot'] : []),
        ...(clusters ? ['rds:CreateDBClusterSnapshot'] : []),
      ],
      resources: snapshots(here),
      conditions: requestManaged,
      wildcardReason: `Snapshot ids are generated per run (${ID_PREFIX}<db>-<time>-<kind>); the id prefix and the ${Tag.managed}=true request tag limit this to steward's own snapshots.`,
    });
    // Tags on create are authorized as rds:AddTagsToResource on the new snapshot.
    to.allow({
      sid: 'TagManagedRdsSnapshots',
      actions: ['rds:AddTagsToResource'],
      resources: [...snapshots(here), ...(copied.size ? snapshots(dr) : [])],
      conditions: requestManaged,
      wildcardReason: `Tag-on-create for steward's snapshots and DR copies: id prefix ${ID_PREFIX} and the ${Tag.managed}=true request tag; foreign snapshots cannot be adopted.`,
    });
  }

  const copiesInstances = copied.has('rds-instance');
  const copiesClusters = copied.has('aurora-cluster');
  if (copiesInstances || copiesClusters) {
    const types = [...(copiesInstances ? ['snapshot'] : []), ...(copiesClusters ? ['cluster-snapshot'] : [])];
    const actions = [
      ...(copiesInstances ? ['rds:CopyDBSnapshot'] : []),
      ...(copiesClusters ? ['rds:CopyDBClusterSnapshot'] : []),
    ];
    // The copy is requested in the DR region; the presigned half is authorized in the primary region.
    to.allow({
      sid: 'CopyManagedSnapshotsToDr',
      actions,
      resources: types.flatMap((t) => [rds(here, t, ours), rds(dr, t, ours)]),
      conditions: requestManaged,
      wildcardReason: `Copies of steward's own snapshots only: id prefix ${ID_PREFIX} and the ${Tag.managed}=true request tag (copy ids are generated).`,
    });
    if (copiesInstances) {
      to.allow({
        sid: 'CopyFromManagedDbSnapshots',
        actions: ['rds:CopyDBSnapshot'],
        resources: [rds(here, 'snapshot', ours)],
        conditions: { StringEquals: { [`rds:snapshot-tag/${Tag.managed}`]: 'true' } },
        wildcardReason: `Source side of a DR copy: only snapshots tagged ${Tag.managed}=true with the ${ID_PREFIX} prefix.`,
      });
    }
    if (copiesClusters) {
      to.allow({
        sid: 'CopyFromManagedClusterSnapshots',
        actions: ['rds:CopyDBClusterSnapshot'],
        resources: [rds(here, 'cluster-snapshot', ours)],
        conditions: { StringEquals: { [`rds:cluster-snapshot-tag/${Tag.managed}`]: 'true' } },
        wildcardReason: `Source side of a DR copy: only cluster snapshots tagged ${Tag.managed}=true with the ${ID_PREFIX} prefix.`,
      });
    }
    grantDrKeyUse(to, at.dr);
  }

  if (caches) {
    // ElastiCache supplies request tags on the snapshot resource only (Service Authorization Reference):
    // a request-tag condition on the replication group would deny every cache backup.
    to.allow({
      sid: 'SnapshotOptedInReplicationGroups',
      actions: ['elasticache:CreateSnapshot'],
      resources: [awsArn(stack, 'elasticache', here, 'replicationgroup', '*')],
      conditions: { Null: { [`aws:ResourceTag/${Tag.backup}`]: 'false' } },
      wildcardReason: `Any replication group may opt in; the aws:ResourceTag/${Tag.backup} condition limits this to the opted-in ones.`,
    });
    to.allow({
      sid: 'CreateManagedCacheSnapshots',
      actions: ['elasticache:CreateSnapshot'],
      resources: [awsArn(stack, 'elasticache', here, 'snapshot', ours)],
      conditions: requestManaged,
      wildcardReason: `Snapshot names are generated per run; every request must tag the new snapshot ${Tag.managed}=true and its name has the ${ID_PREFIX} prefix.`,
    });
    to.allow({
      sid: 'TagManagedCacheSnapshots',
      actions: ['elasticache:AddTagsToResource'],
      resources: [awsArn(stack, 'elasticache', here, 'snapshot', ours)],
      conditions: requestManaged,
      wildcardReason: `Tag-on-create for steward's ElastiCache snapshots: name prefix ${ID_PREFIX} and the ${Tag.managed}=true request tag.`,
    });
    // Serverless caches: CreateServerlessCacheSnapshot authorizes the cache and the new snapshot, as
    // CreateSnapshot authorizes the group and the snapshot.
    to.allow({
      sid: 'SnapshotOptedInServerlessCaches',
      actions: ['elasticache:CreateServerlessCacheSnapshot'],
      resources: [awsArn(stack, 'elasticache', here, 'serverlesscache', '*')],
      conditions: { Null: { [`aws:ResourceTag/${Tag.backup}`]: 'false' } },
      wildcardReason: `Any serverless cache may opt in; the aws:ResourceTag/${Tag.backup} condition limits this to the opted-in ones.`,
    });
    to.allow({
      sid: 'CreateManagedServerlessSnapshots',
      actions: ['elasticache:CreateServerlessCacheSnapshot', 'elasticache:AddTagsToResource'],
      resources: [awsArn(stack, 'elasticache', here, 'serverlesscachesnapshot', ours)],
      conditions: requestManaged,
      wildcardReason: `Serverless snapshot names are generated per run; every request must tag the new snapshot ${Tag.managed}=true and its name has the ${ID_PREFIX} prefix.`,
    });
  }
};

/**
 * EBS snapshot sets of opted-in instances and volumes, and (`copies`) their DR copies. Each action × resource
 * pair is conditioned on a key the Service Authorization Reference says it carries: CreateSnapshots authorizes
 * the instance (aws:ResourceTag), every attached volume and every new snapshot (aws:RequestTag);
 * CreateSnapshot the volume and the snapshot; CopySnapshot the snapshot (aws:RequestTag); tag-on-create is
 * ec2:CreateTags with ec2:CreateAction.
 */
const grantEbsSnapshots = (to: Grantee, at: EstateScope, copies: boolean): void => {
  const { stack } = at;
  const here = at.region;
  const snapshots = (region: string) => ec2Arn(stack, region, 'snapshot', '*');
  const requestManaged = { StringEquals: { [`aws:RequestTag/${Tag.managed}`]: 'true' } };
  const optedIn = { Null: { [`aws:ResourceTag/${Tag.backup}`]: 'false' } };
  to.allow({
    sid: 'SnapshotOptedInInstances',
    actions: ['ec2:CreateSnapshots'],
    resources: [ec2Arn(stack, here, 'instance', '*')],
    conditions: optedIn,
    wildcardReason: `Any EC2 instance may opt in; the aws:ResourceTag/${Tag.backup} condition limits this to the opted-in ones.`,
  });
  to.allow({
    sid: 'SnapshotVolumesOfOptedInInstances',
    actions: ['ec2:CreateSnapshots'],
    resources: [ec2Arn(stack, here, 'volume', '*')],
    wildcardReason: `CreateSnapshots also authorizes each volume attached to the instance, which need not be tagged; the instance statement (aws:ResourceTag/${Tag.backup}) decides which instances, and this action takes nothing but an instance.`,
  });
  to.allow({
    sid: 'SnapshotOptedInVolumes',
    actions: ['ec2:CreateSnapshot'],
    resources: [ec2Arn(stack, here, 'volume', '*')],
    conditions: optedIn,
    wildcardReason: `Any EBS volume may opt in on its own; the aws:ResourceTag/${Tag.backup} condition limits this to the opted-in ones.`,
  });
  to.allow({
    sid: 'CreateManagedEbsSnapshots',
    actions: ['ec2:CreateSnapshots', 'ec2:CreateSnapshot'],
    resources: [snapshots(here)],
    conditions: requestManaged,
    wildcardReason: `EBS snapshot ids are AWS's; every request must tag the new snapshots ${Tag.managed}=true.`,
  });
  to.allow({
    sid: 'TagManagedEbsSnapshotsOnCreate',
    actions: ['ec2:CreateTags'],
    resources: copies ? [snapshots(here), snapshots(at.dr.region)] : [snapshots(here)],
    conditions: {
      StringEquals: {
        ...requestManaged.StringEquals,
        'ec2:CreateAction': ['CreateSnapshots', 'CreateSnapshot', ...(copies ? ['CopySnapshot'] : [])],
      },
    },
    wildcardReason: `Tag-on-create only (ec2:CreateAction), with the ${Tag.managed}=true request tag: no existing snapshot can be retagged or adopted.`,
  });
  if (!copies) return;
  // The copy is requested in the DR region; the source snapshot is authorized in its own region.
  to.allow({
    sid: 'CopyManagedEbsSnapshotsToDr',
    actions: ['ec2:CopySnapshot'],
    resources: [snapshots(here), snapshots(at.dr.region)],
    conditions: requestManaged,
    wildcardReason: `Copies of steward's own EBS snapshots: every request tags the copy ${Tag.managed}=true (copy ids are AWS's).`,
  });
  grantDrKeyUse(to, at.dr, 'ec2');
};

/**
 * Encrypted cross-region copies re-encrypt with the DR key, through RDS only: RDS creates a grant for the
 * copy (an AWS resource) and uses the key on the role's behalf. The key's own policy must allow the same.
 */
const grantDrKeyUse = (to: Grantee, dr: EstateScope['dr'], service: 'rds' | 'ec2' = 'rds'): void => {
  const key = drKeyScope(dr);
  const viaRds = { StringEquals: { 'kms:ViaService': `${service}.${dr.region}.amazonaws.com` } };
  const by = service === 'rds' ? 'RDS' : 'EBS';
  const why = key.wildcard
    ? key.why.replace(
        'pin it to that alias',
        `and kms:ViaService=${service}.${dr.region} pin it to that alias, through ${by} only`,
      )
    : `${key.why.replace(/\.$/, '')}, through ${by} in ${dr.region} only.`;
  to.allow({
    sid: service === 'rds' ? 'GrantDrKeyToRds' : 'GrantDrKeyToEbs',
    actions: ['kms:CreateGrant'],
    resources: key.resources,
    conditions: { ...viaRds, ...key.alias, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    ...(key.wildcard ? { wildcardReason: why } : {}),
  });
  to.allow({
    sid: service === 'rds' ? 'UseDrKeyViaRds' : 'UseDrKeyViaEbs',
    actions: ['kms:DescribeKey', 'kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
    resources: key.resources,
    conditions: { ...viaRds, ...key.alias },
    wildcardReason: `${by} re-encrypts the copy with the DR key (ReEncrypt*/GenerateDataKey* families). ${why}`,
  });
};
