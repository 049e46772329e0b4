import { createHash } from 'node:crypto';
import { ArnFormat, Duration, RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import {
  InterfaceVpcEndpoint,
  InterfaceVpcEndpointAwsService,
  Port,
  SecurityGroup,
  type SubnetSelection,
  type Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { type IRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnSubnetGroup as CfnCacheSubnetGroup, CfnUserGroup } from 'aws-cdk-lib/aws-elasticache';
import { SubnetGroup } from 'aws-cdk-lib/aws-rds';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import {
  type CfnStateMachine,
  Choice,
  Condition,
  DefinitionBody,
  Errors,
  Fail,
  type IChainable,
  IntegrationPattern,
  JsonPath,
  LogLevel,
  Pass,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  type TaskStateBase,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type * as v from '../shared/valid.js';
import type { BaseEnv, VaultEnv } from '../shared/config/env.js';
import type { ConsistencyEnv } from '../shared/backup/env.js';
import type { EbsVerify } from '../shared/config/ebs-verifier.js';
import type { StewardConfig } from '../shared/config/schema.js';
import { hasVaultDrills, hubDrillRoleName } from '../shared/fleet/vault-drill.js';
import type { DrillEnv, DrillVerifyEnv } from '../shared/drill/env.js';
import {
  DRILL_ALERTS_PREFIX,
  COPY_DELETIONS_KEY,
  FAST_RESTORES_KEY,
  tokenKey,
  VAULT_SHARES_PREFIX,
} from '../shared/aws/drill-stores.js';
import { cacheGroupOf, drillsCachesFromDr } from '../shared/drill/cache-tasks.js';
import {
  cacheRestorableSnapshotPatterns,
  DRILL_PREFIX,
  restorableSnapshotPatterns,
} from '../shared/drill/ids.js';
import { drillExecutionSeconds } from '../shared/drill/janitor.js';
import {
  drillEndpointKeys,
  ENDPOINT_POLL_SECONDS,
  SSM_ENDPOINT_KEYS,
  type EndpointSpec,
  perDrillEndpoints,
} from '../shared/drill/endpoints.js';
import { allowDrillEndpoints } from './drill-endpoints.js';
import { runReportsPrefix } from '../shared/notify/run-report.js';
import { drillsVolumesFromDr } from '../shared/drill/ebs-tasks.js';
import type { DrillTask } from '../shared/drill/state.js';
import { Tag } from '../shared/tags.js';
import { awsArn, constructId } from './arns.js';
import { grantRedisDrDrill } from './cache-dr.js';
import { allowCacheConnect, cacheDrillNetwork, drillVpc, ISOLATED } from './drill-network.js';
import { allowEbsDrill } from './ebs-drill.js';
import { allowEbsVerifier, EbsVerifierNetwork } from './ebs-verifier.js';
import { ConsistencyDocument, consistencyDocumentName } from './consistency.js';
import {
  DR_DRILL_NETWORK_TAG,
  drEbsVerifierParameter,
  drEbsVerifierRoleName,
} from '../shared/drill/ebs-verifier.js';
import type { Reports } from './reports.js';
import { acknowledgeStateMachineRole, stateMachineLogGroup } from './state-machines.js';
import type { StateTable } from './state-table.js';
import { grantVaultDrills } from './vault-drill.js';
import { allowKeysViaRds, type CapabilityProps, LAMBDA_RETRY, StewardFunction } from './steward-function.js';

/** Put the endpoint wait in front of a verify step (`next`) of one path, or return `next` if it needs none. */
type EndpointGate = (path: 'database' | 'volumes', next: IChainable) => IChainable;

/**
 * The `verify` settings of the stage's EBS drill targets that configure a verifier: all of them, those that
 * verify in the stage region (`stage`), or those that verify in the DR region (`dr`, drills from the DR copies).
 */
const ebsVerifies = (config: StewardConfig, where: 'all' | 'stage' | 'dr' = 'all'): EbsVerify[] =>
  Object.values(config.drill.volumes).flatMap((v) => {
    const inDr = v.from === 'dr' && config.dr.region !== config.region;
    return v.verify && (where === 'all' || (where === 'dr') === inDr) ? [v.verify] : [];
  });

/**
 * State names of the drill state machine. The local runner, the sandbox and the tasks rely on them:
 * rename one and every caller breaks.
 */
export const DrillStates = {
  start: 'Start',
  select: 'SelectSnapshot',
  restore: 'Restore',
  wait: 'WaitForRestore',
  check: 'CheckRestore',
  restored: 'Restored?',
  verify: 'Verify',
  engine: 'Engine?',
  verifyCache: 'VerifyCache',
  verifyCacheDr: 'VerifyCacheInDr',
  volumes: 'Volumes?',
  waitVolumes: 'WaitForVolumes',
  checkVolumes: 'CheckVolumes',
  volumesRestored: 'VolumesRestored?',
  verifyVolumes: 'VerifyVolumes',
  warm: 'WarmUp?',
  warmup: 'WarmUp',
  openEndpoints: 'OpenEndpoints',
  checkEndpoints: 'CheckEndpoints',
  endpointsReady: 'EndpointsReady?',
  waitEndpoints: 'WaitForEndpoints',
  checkVolumeEndpoints: 'CheckVolumeEndpoints',
  volumeEndpointsReady: 'VolumeEndpointsReady?',
  waitVolumeEndpoints: 'WaitForVolumeEndpoints',
  cleanup: 'Cleanup',
  closeEndpoints: 'CloseEndpoints',
  record: 'Record',
  passed: 'Passed?',
  succeeded: 'DrillSucceeded',
  inconclusive: 'DrillInconclusive',
  failed: 'DrillFailed',
  recordFailed: 'DrillRecordFailed',
} as const;

/** The task each Task state asks its function to run (`DrillTaskEvent.task`). */
export const DRILL_STATE_TASKS = {
  [DrillStates.start]: 'start',
  [DrillStates.select]: 'select',
  [DrillStates.restore]: 'restore',
  [DrillStates.wait]: 'await',
  [DrillStates.check]: 'status',
  [DrillStates.checkVolumes]: 'status',
  [DrillStates.verify]: 'verify',
  [DrillStates.verifyCache]: 'verify',
  [DrillStates.verifyCacheDr]: 'verify-dr',
  [DrillStates.warmup]: 'warmup',
  [DrillStates.verifyVolumes]: 'verify-volumes',
  [DrillStates.openEndpoints]: 'endpoints',
  [DrillStates.checkEndpoints]: 'endpoints',
  [DrillStates.checkVolumeEndpoints]: 'endpoints',
  [DrillStates.closeEndpoints]: 'close-endpoints',
  [DrillStates.cleanup]: 'cleanup',
  [DrillStates.record]: 'record',
} as const satisfies Record<string, DrillTask>;

const POSTGRES = Port.tcp(5432);
const HTTPS = Port.tcp(443);
const DRILL_TIMEOUT = Duration.minutes(5);
// Lambda's maximum: restored storage lazy-loads from S3, so the first full read of a table is slow.
const VERIFY_TIMEOUT = Duration.minutes(15);

export interface DrillProps extends CapabilityProps {
  /** Holds the restore task tokens the RDS event handler resolves. */
  stateTable: StateTable;
  /** The stage's report bucket: drill reports and baselines go there. */
  reports: Reports;
  /**
   * steward's Command document when backup deploys it (a policy configures consistency): an EBS drill's
   * verifier runs its check through the same document, and deploys it itself only when backup does not.
   */
  consistencyDocument?: ConsistencyDocument;
}

/**
 * Restore drills: a Step Functions state machine restores a snapshot (or point in time) into an
 * isolated VPC, waits for it (RDS event, with polling as fallback), verifies it from a Lambda inside
 * that VPC, cleans up (always, through Catch), and records RTO/RPO and the report. A janitor sweeps
 * drill databases a failed cleanup left behind.
 */
export class Drill extends Construct {
  static readonly states = DrillStates;

  readonly function: StewardFunction;
  readonly verifier: StewardFunction;
  readonly stateMachine: StateMachine;
  readonly vpc: Vpc;
  readonly databaseSecurityGroup: SecurityGroup;
  readonly verifierSecurityGroup: SecurityGroup;
  readonly subnetGroup: SubnetGroup;
  readonly reportBucket: IBucket;
  /** Redis drills (`drill.caches`): the verifier, the caches' network and user group. */
  readonly caches?: {
    verifier: StewardFunction;
    securityGroup: SecurityGroup;
    verifierSecurityGroup: SecurityGroup;
    subnetGroup: CfnCacheSubnetGroup;
    userGroup?: CfnUserGroup;
  };
  private readonly props: DrillProps;

  constructor(scope: Construct, id: string, props: DrillProps) {
    super(scope, id);
    this.props = props;
    const { config, stateTable } = props;
    const { drill } = config;
    const name = `steward-${config.stage}-drill`;

    // --- Network: nothing in the drill VPC can reach anything but the drill database and Secrets Manager.
    this.vpc = drillVpc(this, config.stage, props.removalPolicy);
    const isolated = ISOLATED;

    const group = (groupId: string, description: string) =>
      new SecurityGroup(this, groupId, { vpc: this.vpc, description, allowAllOutbound: false });
    this.databaseSecurityGroup = group(
      'DatabaseSecurityGroup',
      'steward drill databases: PostgreSQL from the drill verifier only',
    );
    // IAM database authentication (the default login) signs its token locally: the verifier then needs no
    // AWS endpoint at all. Only a target that logs in with a secret needs Secrets Manager, through an
    // interface endpoint billed every hour in every AZ, so it exists only then.
    const secretLogins = Object.values(drill.targets).some((t) => t.auth === 'secret');
    this.verifierSecurityGroup = group(
      'VerifierSecurityGroup',
      secretLogins
        ? 'steward drill verifier: out to the drill database (5432) and Secrets Manager (443) only'
        : 'steward drill verifier: out to the drill database (5432) only',
    );
    this.verifierSecurityGroup.connections.allowTo(
      this.databaseSecurityGroup,
      POSTGRES,
      'Verifier to drill database',
    );

    this.subnetGroup = new SubnetGroup(this, 'DatabaseSubnetGroup', {
      vpc: this.vpc,
      vpcSubnets: isolated,
      subnetGroupName: name,
      description: `steward ${config.stage}: isolated subnets for restore drills`,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // --- Reports: JSON per drill in the stage's report bucket (infra/reports.ts).
    this.reportBucket = props.reports.bucket;

    // --- Functions: control tasks + RDS events + janitor outside the VPC; the verifier inside it.
    // REPORT_BUCKET comes with every function's base environment (props.reports).
    const cacheNet = Object.keys(drill.caches).length
      ? cacheDrillNetwork(this, this.vpc, config.stage, name, Object.values(drill.caches))
      : undefined;
    // A cache with an AUTH token or RBAC user: its verifier reads the secret through the same endpoint.
    const cacheSecrets =
      cacheNet && Object.values(drill.caches).some((c) => c.auth === 'token' || c.auth === 'user');
    const secretClients = [
      ...(secretLogins ? [this.verifierSecurityGroup] : []),
      ...(cacheSecrets ? [cacheNet.verifierSecurityGroup] : []),
    ];
    // Per-drill endpoints: the groups are deployed (free), the endpoints created by each drill that needs them.
    const perDrill = perDrillEndpoints(config);
    const secretsEndpoint = secretClients.length
      ? this.secretsEndpoint(isolated, secretClients, !perDrill)
      : undefined;
    const environment = {
      DRILL_TABLE: stateTable.tableName,
      DRILL_SUBNET_GROUP: this.subnetGroup.subnetGroupName,
      DRILL_SECURITY_GROUP_IDS: this.databaseSecurityGroup.securityGroupId,
      ...(cacheNet
        ? {
            DRILL_CACHE_SUBNET_GROUP: cacheNet.subnetGroup.ref,
            DRILL_CACHE_SECURITY_GROUP_IDS: cacheNet.securityGroup.securityGroupId,
            ...(cacheNet.userGroup ? { DRILL_CACHE_USER_GROUP: cacheNet.userGroup.ref } : {}),
          }
        : {}),
      // EBS drills restore into the zone of the drill VPC's first isolated subnet, where a verifier instance
      // in that subnet can attach them (a volume attaches only to an instance in its own zone).
      ...(Object.keys(drill.volumes).length
        ? { DRILL_EBS_AZ: this.vpc.selectSubnets(isolated).subnets[0]!.availabilityZone }
        : {}),
    } satisfies Omit<v.input<typeof DrillEnv>, keyof BaseEnvInput>;
    const vaultDrills = hasVaultDrills(config);
    // EBS drills with `verify`: verifier instances in the drill subnets, reaching only Systems Manager, and
    // steward's Command document for the check (backup's, or this stage's own when no policy needs one).
    const verifies = ebsVerifies(config, 'stage');
    // Verifying drills from the DR copies run their verifier in the DR stack's network (infra/drill-network.ts).
    const drVerifies = ebsVerifies(config, 'dr');
    const ebsVerifier = verifies.length
      ? {
          network: new EbsVerifierNetwork(this, 'EbsVerifier', {
            stage: config.stage,
            vpc: this.vpc,
            subnets: isolated,
            endpoints: perDrill ? 'per-drill' : 'always-on',
          }),
          document:
            props.consistencyDocument ??
            new ConsistencyDocument(this, 'ConsistencyDocument', {
              stage: config.stage,
              region: config.region,
            }),
        }
      : undefined;
    this.function = new StewardFunction(this, 'Function', {
      ...props,
      capability: 'drill',
      description: `steward ${config.stage}: restore drill tasks, RDS restore events, drill janitor`,
      // The verify-volumes task runs one verification in one invocation (at most verifySeconds, <= 870 s), and
      // verify-dr waits for the DR region's cache verifier (at most DR_CACHE_VERIFY_SECONDS).
      timeout:
        ebsVerifier || drVerifies.length || drillsCachesFromDr(config) ? VERIFY_TIMEOUT : DRILL_TIMEOUT,
      environment: {
        ...environment,
        ...(ebsVerifier
          ? {
              ...ebsVerifier.network.environment,
              CONSISTENCY_DOCUMENT: ebsVerifier.document.documentName satisfies NonNullable<
                v.input<typeof ConsistencyEnv>['CONSISTENCY_DOCUMENT']
              >,
            }
          : {}),
        // Drills from the vault assume its drill role, by the name the vault stack gives it in this partition.
        ...(vaultDrills
          ? {
              VAULT_PARTITION: Stack.of(this).partition satisfies v.input<typeof VaultEnv>['VAULT_PARTITION'],
            }
          : {}),
      },
      // The vault drill role trusts this role by its ARN.
      ...(vaultDrills ? { roleName: hubDrillRoleName(config.stage, config.region) } : {}),
      // A Redis or EBS drill from the DR copies restores (and is cleaned up, and verified) in the DR region.
      ...((Object.values(drill.caches).some((c) => c.from === 'dr') || drillsVolumesFromDr(config)) &&
      config.dr.region !== config.region
        ? { regions: [config.region, config.dr.region] }
        : {}),
    });
    if (cacheNet) {
      const verifier = new StewardFunction(this, 'CacheVerifier', {
        ...props,
        capability: 'drill',
        name: 'drill-verify-cache',
        description: `steward ${config.stage}: verify a restored drill cache (Redis) from inside the drill VPC`,
        timeout: VERIFY_TIMEOUT,
        placement: { vpc: this.vpc, subnets: isolated, securityGroups: [cacheNet.verifierSecurityGroup] },
        // The verify task returns its result to the state machine; Record (control plane) notifies.
        publishes: false,
      });
      this.caches = { ...cacheNet, verifier };
    }
    this.verifier = new StewardFunction(this, 'Verifier', {
      ...props,
      capability: 'drill',
      name: 'drill-verify',
      description: `steward ${config.stage}: verify a restored drill database from inside the drill VPC`,
      timeout: VERIFY_TIMEOUT,
      environment: { PG_SSL_MODE: 'verify-full' } satisfies Omit<
        v.input<typeof DrillVerifyEnv>,
        keyof BaseEnvInput
      >,
      placement: { vpc: this.vpc, subnets: isolated, securityGroups: [this.verifierSecurityGroup] },
      // The verify task returns its result to the state machine; Record (control plane) notifies.
      publishes: false,
    });
    const secretReaders = [
      ...(secretLogins ? [this.verifier.role] : []),
      ...(cacheSecrets && this.caches ? [this.caches.verifier.role] : []),
    ];
    secretsEndpoint?.endpoint?.addToPolicy(
      new PolicyStatement({
        sid: 'VerifierReadsSecretsOnly',
        principals: secretReaders,
        actions: ['secretsmanager:GetSecretValue'],
        resources: ['*'],
      }),
    );
    if (perDrill) this.perDrillEndpoints(secretsEndpoint, secretReaders, ebsVerifier?.network);

    // --- State machine.
    const logGroup = stateMachineLogGroup(this, 'StateMachineLogGroup', name, props.removalPolicy);
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: name,
      stateMachineType: StateMachineType.STANDARD,
      comment: `steward ${config.stage} restore drill: restore, wait, verify, clean up, record`,
      definitionBody: DefinitionBody.fromChainable(this.definition()),
      // The drill's own deadlines (drill.timeoutSeconds for the restore, warmup.maxSeconds) fire first; the
      // extra hour is for verification, cleanup and record, which must still run inside the execution.
      timeout: Duration.seconds(drillExecutionSeconds(drill)),
      tracingEnabled: true,
      // Execution data carries task tokens, endpoints and user names: log the transitions, not the data.
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
    });
    // As for the functions: CDK adds a DependsOn on the role next to the RoleArn GetAtt (cfn-lint W3005).
    (this.stateMachine.node.defaultChild as CfnStateMachine).addMetadata('cfn-lint', {
      config: { ignore_checks: ['W3005'] },
    });
    acknowledgeStateMachineRole(
      this,
      this.stateMachine.role,
      [this.function, this.verifier, ...(this.caches ? [this.caches.verifier] : [])],
      (fn) => `The drill state machine invokes ${fn.shortName}`,
    );

    // --- Triggers.
    this.function.addEventRule('RestoreEventRule', 'A drill database changed state: resolve its task token', {
      source: ['aws.rds'],
      detailType: ['RDS DB Instance Event', 'RDS DB Cluster Event'],
      // Its id as real events carry it, or as the RDS User Guide's examples do (`rds:<id>`).
      detail: { SourceIdentifier: [{ prefix: DRILL_PREFIX }, { prefix: `rds:${DRILL_PREFIX}` }] },
    });
    if (this.caches) {
      // ElastiCache sends these directly to EventBridge, best effort (EventBridge events reference,
      // "Amazon ElastiCache events"); the state machine's polling covers a lost one.
      this.function.addEventRule(
        'CacheEventRule',
        'A drill cache was created (or failed): resolve its task token',
        {
          source: ['aws.elasticache'],
          detailType: ['Cache Created', 'Cache Creation Failed'],
        },
      );
    }
    // A drill that ends outside its own handling (stopped, timed out, a service error): alert and clean up now.
    this.function.addEventRule(
      'ExecutionEndedRule',
      'A drill execution ended ABORTED, TIMED_OUT or FAILED: alert at once and delete what it restored',
      {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [this.stateMachine.stateMachineArn],
          status: ['ABORTED', 'TIMED_OUT', 'FAILED'],
        },
      },
    );
    this.function.addSchedule('JanitorSchedule', {
      name: 'drill-janitor',
      description: `Delete drill databases older than ${drill.janitorMaxAgeHours} h that a cleanup left behind`,
      expression: drill.janitorSchedule,
      input: { action: 'janitor' },
    });
    this.scheduleDrills();

    this.grantDrill();
    this.grantVerifier();
    this.grantCacheDrills();
    if (Object.keys(drill.volumes).length)
      allowEbsDrill(this.function, Stack.of(this), config.region, {
        ...(drillsVolumesFromDr(config) ? { drRegion: config.dr.region } : {}),
      });
    if (ebsVerifier) {
      allowEbsVerifier(this.function, Stack.of(this), {
        region: config.region,
        network: ebsVerifier.network,
        documentArn: ebsVerifier.document.documentArn,
        instanceTypes: verifies.map((v) => v.instanceType),
      });
    }
    if (drVerifies.length) this.grantDrEbsVerifier(drVerifies);

    // No alarm on ExecutionsFailed: a drill that fails is recorded and paged by its own record step
    // (DrillFailed), and an execution that ends FAILED, TIMED_OUT or ABORTED any other way reaches the drill
    // function through the ExecutionEndedRule above, which cleans up and pages (critical); if that function
    // cannot run, the event waits in the stage's failure queue, whose alarm warns.
  }

  /** The configured databases that get drills. */
  get databases(): string[] {
    return Object.keys(this.props.config.drill.targets);
  }

  /**
   * Start → SelectSnapshot → Restore → WaitForRestore → Verify → WarmUp? ⇄ WarmUp → Cleanup → Record → Passed?
   * WaitForRestore times out after pollSeconds into CheckRestore (the polling fallback); WarmUp runs one
   * bounded chunk per invocation and loops while `warmup.pending`; every failure before Cleanup is caught
   * into Cleanup, so a restored database is always deleted.
   */
  private definition() {
    const { drill } = this.props.config;
    const task = (state: keyof typeof DRILL_STATE_TASKS, fn: StewardFunction, timeout: Duration) => {
      // Lambda stops the function at its own timeout; this bounds a stuck invoke as States.Timeout, and never
      // before the invocation is over: a Restore (or CheckRestore) Step Functions gave up on while it still ran
      // would create the copy (or an Aurora writer) after the Catch sent the drill to Cleanup. The drill function
      // runs 15 minutes on stages with a verifier task of its own, whatever `timeout` its other tasks expect.
      const runs = Math.max(timeout.toSeconds(), fn.fn.timeout?.toSeconds() ?? 0);
      const t = new LambdaInvoke(this, state, {
        stateName: state,
        lambdaFunction: fn.fn,
        payloadResponseOnly: true,
        payload: payload(DRILL_STATE_TASKS[state]),
        taskTimeout: Timeout.duration(Duration.seconds(runs).plus(Duration.minutes(1))),
        retryOnServiceExceptions: false,
      });
      return t.addRetry(LAMBDA_RETRY);
    };
    const start = task(DrillStates.start, this.function, DRILL_TIMEOUT);
    const select = task(DrillStates.select, this.function, DRILL_TIMEOUT);
    const restore = task(DrillStates.restore, this.function, DRILL_TIMEOUT);
    const check = task(DrillStates.check, this.function, DRILL_TIMEOUT);
    const verify = task(DrillStates.verify, this.verifier, VERIFY_TIMEOUT);
    const verifyCache = this.caches
      ? task(DrillStates.verifyCache, this.caches.verifier, VERIFY_TIMEOUT)
      : undefined;
    // A group restored in dr.region (a drill from the DR copy) is verified by the DR stack's cache verifier,
    // inside that region's drill VPC. Step Functions invokes no Lambda function in another region (Developer
    // Guide, "Accessing resources in other AWS accounts": cross-Region resource access is not available), so
    // the drill function relays: it invokes that verifier synchronously and returns its state.
    const drRegion = drillsCachesFromDr(this.props.config) ? this.props.config.dr.region : undefined;
    const verifyCacheDr = drRegion
      ? task(DrillStates.verifyCacheDr, this.function, VERIFY_TIMEOUT)
      : undefined;
    const warmup = task(DrillStates.warmup, this.verifier, VERIFY_TIMEOUT);
    const cleanup = task(DrillStates.cleanup, this.function, DRILL_TIMEOUT);
    const record = task(DrillStates.record, this.function, DRILL_TIMEOUT);
    // Per-drill endpoints: opened after the selection (creation runs while the copy restores), waited for
    // right before the verify step that needs them, closed after Cleanup on every path.
    const endpoints = this.endpointStates(cleanup, task);
    // The function stores the token; the RDS event handler (or nothing, then the timeout) completes it.
    const wait = new LambdaInvoke(this, DrillStates.wait, {
      stateName: DrillStates.wait,
      lambdaFunction: this.function.fn,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: payload(DRILL_STATE_TASKS[DrillStates.wait], { taskToken: JsonPath.taskToken }),
      taskTimeout: Timeout.duration(Duration.seconds(drill.pollSeconds)),
      retryOnServiceExceptions: false,
    }).addRetry(LAMBDA_RETRY);

    const succeeded = new Succeed(this, DrillStates.succeeded, { stateName: DrillStates.succeeded });
    // Inconclusive (a check not finished in its bound, or stopped by the cost ceiling) is no failed backup:
    // the execution succeeds, so the failed-executions alarm stays quiet; the report and a warning say why.
    const inconclusive = new Succeed(this, DrillStates.inconclusive, {
      stateName: DrillStates.inconclusive,
      comment: 'Nothing failed, but evidence is missing: the drill report and its warning say which.',
    });
    const failed = new Fail(this, DrillStates.failed, {
      stateName: DrillStates.failed,
      error: 'DrillFailed',
      cause: 'The restore drill did not pass; the drill report and its notification say which step and why.',
    });
    // Not DrillFailed: the execution-ended rule ignores that one (the drill notified it), and a Record that failed
    // may not have sent the drill's notification at all.
    const recordFailed = new Fail(this, DrillStates.recordFailed, {
      stateName: DrillStates.recordFailed,
      error: 'DrillRecordFailed',
      cause:
        'Recording the drill (its report, baseline or notification) failed: the execution-ended rule alerts.',
    });
    const isTrue = (path: string) =>
      Condition.and(Condition.isPresent(path), Condition.booleanEquals(path, true));
    // Only a stage with Redis drills gets the Engine? choice: a database-only stage's definition is unchanged.
    const isRedis = Condition.and(Condition.isPresent('$.kind'), Condition.stringEquals('$.kind', 'redis'));
    const engine = verifyCache && new Choice(this, DrillStates.engine, { stateName: DrillStates.engine });
    if (engine && verifyCacheDr && drRegion) {
      engine.when(
        Condition.and(
          isRedis,
          Condition.isPresent('$.target.region'),
          Condition.stringEquals('$.target.region', drRegion),
        ),
        verifyCacheDr,
      );
    }
    const verifyNext = engine && verifyCache ? engine.when(isRedis, verifyCache).otherwise(verify) : verify;
    const verifyGated = endpoints?.gate('database', verifyNext) ?? verifyNext;
    const restored = new Choice(this, DrillStates.restored, { stateName: DrillStates.restored })
      .when(isTrue('$.available'), verifyGated)
      .when(isTrue('$.timedOut'), cleanup)
      .otherwise(wait);
    const passed = new Choice(this, DrillStates.passed, { stateName: DrillStates.passed })
      .when(isTrue('$.result.passed'), succeeded)
      .when(
        Condition.and(
          Condition.isPresent('$.result.outcome'),
          Condition.stringEquals('$.result.outcome', 'inconclusive'),
        ),
        inconclusive,
      )
      .otherwise(failed);
    const warm = new Choice(this, DrillStates.warm, { stateName: DrillStates.warm })
      .when(isTrue('$.warmup.pending'), warmup)
      .otherwise(cleanup);

    // No event within pollSeconds: ask RDS directly. The state is kept as it was (ResultPath null).
    wait.addCatch(check, { errors: [Errors.TIMEOUT], resultPath: JsonPath.DISCARD });
    const cacheVerifies = [...(verifyCache ? [verifyCache] : []), ...(verifyCacheDr ? [verifyCacheDr] : [])];
    for (const t of [
      start,
      select,
      ...(endpoints ? [endpoints.open] : []),
      restore,
      wait,
      check,
      verify,
      ...cacheVerifies,
    ]) {
      t.addCatch(cleanup, { errors: [Errors.ALL], resultPath: '$.error' });
    }
    // A Redis copy has nothing to warm: memory is not loaded lazily.
    for (const t of cacheVerifies) t.next(cleanup);
    // A chunk resumes from the last one's progress: retry a failed one, then give up on warm-up only.
    warmup.addRetry({ errors: [Errors.ALL], interval: Duration.seconds(10), maxAttempts: 2, backoffRate: 2 });
    warmup.addCatch(cleanup, { errors: [Errors.ALL], resultPath: '$.warmupError' });
    warmup.next(warm);
    // RDS deletes no copy it is still creating (a drill that timed out or failed early): Cleanup does not wait for
    // it but hands it over (the state table's record of copies being deleted); its own next RDS event, or the
    // janitor's next sweep, deletes it once RDS allows (shared/drill/copy-deletions.ts).
    cleanup.addRetry({
      errors: [Errors.ALL],
      interval: Duration.seconds(30),
      maxAttempts: 3,
      backoffRate: 2,
    });
    cleanup.addCatch(endpoints?.close ?? record, { errors: [Errors.ALL], resultPath: '$.cleanupError' });
    record.addCatch(recordFailed, { errors: [Errors.ALL], resultPath: '$.recordError' });

    check.next(restored);
    if (endpoints) {
      // An endpoint Close could not delete is the janitor's (idle, no drill running); the drill is recorded.
      endpoints.close.addCatch(record, { errors: [Errors.ALL], resultPath: '$.endpointsError' });
      cleanup.next(endpoints.close);
      endpoints.close.next(record);
    } else cleanup.next(record);
    record.next(passed);
    start.next(select);
    if (endpoints) {
      select.next(endpoints.open);
      endpoints.open.next(restore);
    } else select.next(restore);
    restore.next(this.volumesBranch(wait, cleanup, task, endpoints?.gate) ?? wait);
    wait.next(verifyGated);
    verify.next(warm);
    return start;
  }

  /**
   * EBS drills (`drill.volumes`): Volumes? sends them from Restore into a polling loop of their own, bounded
   * in the state machine rather than inside one Lambda: WaitForVolumes (the target's pollSeconds) →
   * CheckVolumes (DescribeVolumes) → VolumesRestored?, until every volume is available (→ VerifyVolumes) or
   * the target's timeoutSeconds passed (→ Cleanup). EC2's "EBS Volume Notification" events are best effort,
   * and a volume from a snapshot is usually available within seconds, so polling costs little. VerifyVolumes
   * is where a verifier instance's check of the volumes goes; until one is configured it passes the state on.
   * A stage without drill.volumes keeps its definition unchanged (undefined).
   */
  private volumesBranch(
    wait: TaskStateBase,
    cleanup: TaskStateBase,
    task: (state: keyof typeof DRILL_STATE_TASKS, fn: StewardFunction, timeout: Duration) => TaskStateBase,
    gate?: EndpointGate,
  ): Choice | undefined {
    if (!Object.keys(this.props.config.drill.volumes).length) return undefined;
    const isTrue = (path: string) =>
      Condition.and(Condition.isPresent(path), Condition.booleanEquals(path, true));
    const waitVolumes = new Wait(this, DrillStates.waitVolumes, {
      stateName: DrillStates.waitVolumes,
      time: WaitTime.secondsPath('$.ebs.settings.pollSeconds'),
    });
    const checkVolumes = task(DrillStates.checkVolumes, this.function, DRILL_TIMEOUT);
    checkVolumes.addCatch(cleanup, { errors: [Errors.ALL], resultPath: '$.error' });
    // Only a stage with a `verify` target runs the verifier task (a target without one passes through it).
    let verifyVolumes: Pass | TaskStateBase;
    if (ebsVerifies(this.props.config).length) {
      verifyVolumes = task(DrillStates.verifyVolumes, this.function, VERIFY_TIMEOUT);
      verifyVolumes.addCatch(cleanup, { errors: [Errors.ALL], resultPath: '$.error' });
    } else {
      verifyVolumes = new Pass(this, DrillStates.verifyVolumes, {
        stateName: DrillStates.verifyVolumes,
        comment:
          'The verifier step: attach the restored volumes to a short-lived instance and run a read-only check.',
      });
    }
    verifyVolumes.next(cleanup);
    const restored = new Choice(this, DrillStates.volumesRestored, { stateName: DrillStates.volumesRestored })
      .when(isTrue('$.available'), gate?.('volumes', verifyVolumes) ?? verifyVolumes)
      .when(isTrue('$.timedOut'), cleanup)
      .otherwise(waitVolumes);
    waitVolumes.next(checkVolumes).next(restored);
    return new Choice(this, DrillStates.volumes, { stateName: DrillStates.volumes })
      .when(
        Condition.and(Condition.isPresent('$.kind'), Condition.stringEquals('$.kind', 'ebs')),
        waitVolumes,
      )
      .otherwise(wait);
  }

  /**
   * `drill.endpoints.mode: per-drill` (and some drill needs an endpoint): OpenEndpoints (the `endpoints` task:
   * create what this drill needs), CloseEndpoints (`close-endpoints`: delete steward's drill endpoints unless
   * another drill runs), and a gate per verify path: CheckEndpoints → EndpointsReady? ⇄ WaitForEndpoints (a
   * Wait state, no Lambda sleeping) until every endpoint is available; the task itself stops the drill once
   * drill.endpoints.timeoutSeconds passed. A gate is built only for the paths whose drills need endpoints.
   * Undefined otherwise: the definition is then unchanged.
   */
  private endpointStates(
    cleanup: TaskStateBase,
    task: (state: keyof typeof DRILL_STATE_TASKS, fn: StewardFunction, timeout: Duration) => TaskStateBase,
  ): { open: TaskStateBase; close: TaskStateBase; gate: EndpointGate } | undefined {
    const { config } = this.props;
    if (!perDrillEndpoints(config)) return undefined;
    const needs = (names: string[]) => names.some((n) => drillEndpointKeys(config, n).length > 0);
    const paths = {
      database: needs([...Object.keys(config.drill.targets), ...Object.keys(config.drill.caches)]),
      volumes: needs(Object.keys(config.drill.volumes)),
    };
    const open = task(DrillStates.openEndpoints, this.function, DRILL_TIMEOUT);
    const close = task(DrillStates.closeEndpoints, this.function, DRILL_TIMEOUT);
    close.addRetry({ errors: [Errors.ALL], interval: Duration.seconds(30), maxAttempts: 3, backoffRate: 2 });
    const gate: EndpointGate = (path, next) => {
      if (!paths[path]) return next;
      const [checkName, readyName, waitName] =
        path === 'database'
          ? [DrillStates.checkEndpoints, DrillStates.endpointsReady, DrillStates.waitEndpoints]
          : [
              DrillStates.checkVolumeEndpoints,
              DrillStates.volumeEndpointsReady,
              DrillStates.waitVolumeEndpoints,
            ];
      const check = task(checkName, this.function, DRILL_TIMEOUT);
      check.addCatch(cleanup, { errors: [Errors.ALL], resultPath: '$.error' });
      const pause = new Wait(this, waitName, {
        stateName: waitName,
        time: WaitTime.duration(Duration.seconds(ENDPOINT_POLL_SECONDS)),
      });
      const ready = new Choice(this, readyName, { stateName: readyName })
        .when(
          Condition.and(
            Condition.isPresent('$.endpoints.ready'),
            Condition.booleanEquals('$.endpoints.ready', true),
          ),
          next,
        )
        .otherwise(pause);
      pause.next(check);
      check.next(ready);
      return check;
    };
    return { open, close, gate };
  }

  /** One EventBridge Scheduler schedule per target: start an execution with `{ database }`. */
  private scheduleDrills(): void {
    const { config, scheduleGroup } = this.props;
    const targets: [string, { schedule?: string | undefined; kind: string }][] = [
      ...Object.entries(config.drill.targets),
      ...Object.entries(config.drill.caches).map(
        ([n, c]): [string, { schedule?: string | undefined; kind: string }] => [
          n,
          { schedule: c.schedule, kind: 'redis' },
        ],
      ),
      ...Object.entries(config.drill.volumes).map(
        ([n, v]): [string, { schedule?: string | undefined; kind: string }] => [
          n,
          { schedule: v.schedule, kind: 'ebs' },
        ],
      ),
    ];
    if (!targets.length) return;
    const stack = Stack.of(this);
    const role = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `EventBridge Scheduler starts steward ${config.stage} restore drills`,
    });
    for (const [database, target] of targets) {
      new Schedule(this, `Schedule${constructId(database)}`, {
        scheduleName: scheduleName(`steward-${config.stage}-drill-${database}`),
        scheduleGroup,
        description: `Restore drill of ${database} (${target.kind})`,
        schedule: ScheduleExpression.expression(target.schedule ?? config.drill.schedule, TimeZone.of('UTC')),
        target: new StepFunctionsStartExecution(this.stateMachine, {
          input: ScheduleTargetInput.fromObject({ database }),
          role,
          deadLetterQueue: this.function.failureQueue,
          // A drill started late is still a valid drill; a duplicate start costs one restore at most.
          retryAttempts: 3,
          maxEventAge: Duration.hours(6),
        }),
      });
    }
  }

  /** Control tasks, RDS events and janitor: restore only into steward-drill-*, delete only tagged drill databases. */
  private grantDrill(): void {
    const fn = this.function;
    const { config, stateTable } = this.props;
    const stack = Stack.of(this);
    const region = config.region;
    const rds = (type: string, name: string) => awsArn(stack, 'rds', region, type, name);
    const ours = `${DRILL_PREFIX}*`;
    const targets = Object.entries(config.drill.targets);
    const clusters = targets.filter(([, t]) => t.kind === 'aurora-cluster').map(([db]) => db);
    const subnetGroup = rds('subgrp', this.subnetGroup.subnetGroupName);
    const requestManaged = { StringEquals: { [`aws:RequestTag/${Tag.managed}`]: 'true' } };

    fn.allow({
      sid: 'ReadDrillInventory',
      actions: ['rds:Describe*', 'rds:ListTagsForResource'],
      resources: ['*'],
      wildcardReason:
        'Read-only: selecting a snapshot, polling the restore and the janitor sweep describe databases and ' +
        'snapshots (automated ones included) whose ids are only known at run time.',
    });
    // A restore is authorized on each resource it names: the new database (steward-drill-*, tagged
    // managed), its source (a snapshot of a configured target, or the target itself for PITR), the drill
    // subnet group, and the source's own option and parameter groups (names unknown to steward).
    const kinds = [
      {
        kind: 'rds-instance',
        what: 'database',
        sids: ['RestoreDrillInstances', 'RestoreFromTargetSnapshots', 'RestoreTargetsToPointInTime'],
        fromSnapshot: 'rds:RestoreDBInstanceFromDBSnapshot',
        toPointInTime: 'rds:RestoreDBInstanceToPointInTime',
        db: 'db',
        snapshot: 'snapshot',
        parameterGroup: 'pg',
      },
      {
        kind: 'aurora-cluster',
        what: 'cluster',
        sids: [
          'RestoreDrillClusters',
          'RestoreFromTargetClusterSnapshots',
          'RestoreTargetClustersToPointInTime',
        ],
        fromSnapshot: 'rds:RestoreDBClusterFromSnapshot',
        toPointInTime: 'rds:RestoreDBClusterToPointInTime',
        db: 'cluster',
        snapshot: 'cluster-snapshot',
        parameterGroup: 'cluster-pg',
      },
    ] as const;
    for (const k of kinds) {
      const sourceDbs = targets.filter(([, t]) => t.kind === k.kind);
      if (!sourceDbs.length) continue;
      const [into, fromSnapshots, toPointInTime] = k.sids;
      fn.allow({
        sid: into,
        actions: [k.fromSnapshot, k.toPointInTime],
        resources: [rds(k.db, ours), subnetGroup, rds('og', '*'), rds(k.parameterGroup, '*')],
        conditions: requestManaged,
        wildcardReason:
          `The new ${k.what} is ${ours} and must be tagged ${Tag.managed}=true; it keeps its source's option and ` +
          'parameter groups, whose names steward does not know.',
      });
      fn.allow({
        sid: fromSnapshots,
        actions: [k.fromSnapshot],
        resources: sourceDbs.flatMap(([db, t]) =>
          [
            ...restorableSnapshotPatterns(db),
            ...(typeof t.snapshot === 'object' && 'id' in t.snapshot ? [t.snapshot.id] : []),
          ].map((id) => rds(k.snapshot, id)),
        ),
        conditions: requestManaged,
        wildcardReason:
          "Only the configured targets' snapshots: steward's (steward-<db>-<12 digits>-sched|adhoc) and RDS's " +
          'automated ones (rds:<db>-<yyyy-mm-dd-hh-mm>), and a snapshot id the config names.',
      });
      fn.allow({
        sid: toPointInTime,
        actions: [k.toPointInTime],
        resources: sourceDbs.map(([db]) => rds(k.db, db)),
        conditions: requestManaged,
      });
    }
    if (clusters.length) {
      // RestoreDBClusterFromSnapshot creates no instance: the drill adds one to query.
      fn.allow({
        sid: 'CreateDrillClusterInstances',
        actions: ['rds:CreateDBInstance'],
        resources: [rds('db', ours), rds('cluster', ours), subnetGroup, rds('og', '*'), rds('pg', '*')],
        conditions: requestManaged,
        wildcardReason: `Only the instance of a ${ours} drill cluster, tagged ${Tag.managed}=true; default parameter and option groups.`,
      });
    }
    fn.allow({
      sid: 'TagDrillDatabases',
      actions: ['rds:AddTagsToResource'],
      resources: [rds('db', ours), ...(clusters.length ? [rds('cluster', ours)] : [])],
      conditions: requestManaged,
      wildcardReason: `Tag-on-create of the drill databases (${ours}, ids generated per execution), ${Tag.managed}=true required.`,
    });
    fn.allow({
      sid: 'DeleteDrillInstances',
      actions: ['rds:DeleteDBInstance'],
      resources: [rds('db', ours)],
      conditions: {
        StringEquals: { [`rds:db-tag/${Tag.managed}`]: 'true' },
        Null: { [`rds:db-tag/${Tag.drill}`]: 'false' },
      },
      wildcardReason: `Cleanup and janitor delete drill instances only: id prefix ${ours}, tagged ${Tag.managed}=true and ${Tag.drill}.`,
    });
    if (clusters.length) {
      fn.allow({
        sid: 'DeleteDrillClusters',
        actions: ['rds:DeleteDBCluster'],
        resources: [rds('cluster', ours)],
        conditions: {
          StringEquals: { [`rds:cluster-tag/${Tag.managed}`]: 'true' },
          Null: { [`rds:cluster-tag/${Tag.drill}`]: 'false' },
        },
        wildcardReason: `Cleanup and janitor delete drill clusters only: id prefix ${ours}, tagged ${Tag.managed}=true and ${Tag.drill}.`,
      });
    }
    // Restoring a snapshot encrypted with a customer managed key: RDS creates a grant for the new database.
    allowKeysViaRds(fn, 'Restoring', region);
    if (hasVaultDrills(config)) grantVaultDrills(fn, this, config);
    // SendTask* support no resource-level permissions (Service Authorization Reference): the task token,
    // which only this state machine hands out (stored in the state table), is what names the task.
    fn.allow({
      sid: 'CompleteRestoreWaits',
      actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
      resources: ['*'],
      wildcardReason:
        'states:SendTaskSuccess/Failure support no resource-level permissions; the task token names the task, ' +
        'and the function only holds tokens of its own state machine.',
    });
    // Why a drill execution failed: its own DrillFailed state (recorded already) or something else.
    fn.allow({
      sid: 'DescribeDrillExecutions',
      actions: ['states:DescribeExecution'],
      resources: [
        stack.formatArn({
          service: 'states',
          resource: 'execution',
          resourceName: `steward-${config.stage}-drill:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      wildcardReason: 'Executions of the stage’s drill state machine, named per run.',
    });
    stateTable.grantReadWrite(fn, 'DrillTaskTokens', [tokenKey('')]);
    // Copies being deleted, recorded before each delete; Cleanup hands over those RDS is still creating.
    stateTable.grantReadWrite(fn, 'DrillCopyDeletions', [COPY_DELETIONS_KEY]);
    // The alerts of executions that ended outside the drill, once sent: a retried event does not page twice.
    stateTable.grant(fn, 'DrillAlertsSent', ['dynamodb:GetItem', 'dynamodb:PutItem'], [DRILL_ALERTS_PREFIX]);
    // Drills from the vault record each share of a vault copy there; the janitor reads and forgets them.
    if (hasVaultDrills(config)) stateTable.grantReadWrite(fn, 'DrillVaultShares', [VAULT_SHARES_PREFIX]);
    // EBS drills record each fast snapshot restore they turn on before turning it on (shared/aws/drill-stores.ts).
    if (Object.keys(config.drill.volumes).length)
      stateTable.grantReadWrite(fn, 'DrillFastRestores', [FAST_RESTORES_KEY]);
    fn.allow({
      sid: 'WriteDrillReports',
      actions: ['s3:PutObject'],
      resources: [this.reportBucket.arnForObjects(`${REPORT_PREFIX}*`)],
      wildcardReason: `One report per drill under ${REPORT_PREFIX}<database>/<yyyy>/<mm>/<drill id>.json; the key is known only at run time.`,
    });
    // GetObject of a missing key is a 404 (no baseline yet) only with ListBucket; else S3 answers 403.
    fn.allow({
      sid: 'ListDrillReports',
      actions: ['s3:ListBucket'],
      resources: [this.reportBucket.bucketArn],
    });
    // The janitor's full report of each run that deleted leftovers, linked from its summary.
    this.props.reports.grantWrite(
      fn,
      'WriteRunReports',
      runReportsPrefix('drill'),
      "each janitor run's full report",
    );
    fn.allow({
      sid: 'ReadWriteDrillBaselines',
      actions: ['s3:GetObject', 's3:PutObject'],
      resources: [this.reportBucket.arnForObjects(`${BASELINE_PREFIX}*`)],
      wildcardReason: `One baseline per database at ${BASELINE_PREFIX}<database>.json (the last passed drill's tables); databases come from config.`,
    });
  }

  /**
   * Redis drills: restore only into steward-drill-* from the configured groups' snapshots (or the DR copies'
   * RDB files), tagged managed; delete only groups tagged managed and steward:drill; the cache verifier may
   * connect only to drill groups, as steward's verifier user.
   */
  private grantCacheDrills(): void {
    const caches = this.caches;
    if (!caches) return;
    const { config } = this.props;
    const fn = this.function;
    const stack = Stack.of(this);
    const ours = `${DRILL_PREFIX}*`;
    const entries = Object.entries(config.drill.caches);
    const regions = [
      config.region,
      ...(entries.some(([, c]) => c.from === 'dr') && config.dr.region !== config.region
        ? [config.dr.region]
        : []),
    ];
    const ec = (region: string, type: string, name: string) =>
      awsArn(stack, 'elasticache', region, type, name);
    const managed = { StringEquals: { [`aws:RequestTag/${Tag.managed}`]: 'true' } };
    fn.allow({
      sid: 'ReadDrillCaches',
      actions: [
        'elasticache:DescribeReplicationGroups',
        'elasticache:DescribeSnapshots',
        'elasticache:ListTagsForResource',
      ],
      resources: ['*'],
      wildcardReason:
        'Read-only: selecting a snapshot, polling the restore and the janitor sweep describe replication groups ' +
        'and snapshots (automatic ones included) whose names are only known at run time.',
    });
    // CreateReplicationGroup is authorized on every resource it names; request tags are supplied on the
    // replication group only, so the tag condition goes on that resource alone.
    fn.allow({
      sid: 'RestoreDrillCaches',
      actions: ['elasticache:CreateReplicationGroup', 'elasticache:AddTagsToResource'],
      resources: regions.map((r) => ec(r, 'replicationgroup', ours)),
      conditions: managed,
      wildcardReason: `The new replication group is ${ours} (one id per drill) and must be tagged ${Tag.managed}=true.`,
    });
    fn.allow({
      sid: 'RestoreDrillCachesInto',
      actions: ['elasticache:CreateReplicationGroup'],
      resources: regions.flatMap((r) => [
        ec(r, 'cluster', ours),
        ec(r, 'subnetgroup', caches.subnetGroup.ref),
        ec(r, 'parametergroup', 'default.*'),
        ...(caches.userGroup ? [ec(r, 'usergroup', caches.userGroup.ref)] : []),
        // `auth: user`: the source's RBAC user group, attached to the copy as a restore does not carry it.
        ...[...new Set(entries.flatMap(([, c]) => (c.userGroupId ? [c.userGroupId] : [])))].map((g) =>
          ec(r, 'usergroup', g),
        ),
      ]),
      wildcardReason:
        `The drill group's nodes (${ours}-…), the drill cache subnet group and user groups (steward's, and ` +
        "those of auth: user caches), and the engine's default parameter group (default.redis7, default.valkey8, …).",
    });
    // A drill from the DR copy picks among the DR bucket's copies and restores into the DR stack's network.
    if (drillsCachesFromDr(config)) grantRedisDrDrill(fn);
    const fromSnapshots = entries.filter(([, c]) => c.from === 'source');
    if (fromSnapshots.length) {
      fn.allow({
        sid: 'RestoreFromCacheSnapshots',
        actions: ['elasticache:CreateReplicationGroup'],
        resources: fromSnapshots.flatMap(([n, c]) =>
          [
            ...cacheRestorableSnapshotPatterns(cacheGroupOf(n, c)),
            ...(typeof c.snapshot === 'object' && 'id' in c.snapshot ? [c.snapshot.id] : []),
          ].map((id) => ec(config.region, 'snapshot', id)),
        ),
        wildcardReason:
          "Only the configured groups' snapshots: steward's (steward-<group>-<12 digits>-sched|adhoc) and " +
          "ElastiCache's automatic ones (automatic.<group>-<yyyy-mm-dd-hh-mm>), and a snapshot the config names.",
      });
    }
    fn.allow({
      sid: 'DeleteDrillCaches',
      actions: ['elasticache:DeleteReplicationGroup'],
      resources: regions.map((r) => ec(r, 'replicationgroup', ours)),
      conditions: {
        StringEquals: { [`aws:ResourceTag/${Tag.managed}`]: 'true' },
        Null: { [`aws:ResourceTag/${Tag.drill}`]: 'false' },
      },
      wildcardReason: `Cleanup and janitor delete drill groups only: id prefix ${ours}, tagged ${Tag.managed}=true and ${Tag.drill}.`,
    });
    if (caches.userGroup) allowCacheConnect(caches.verifier, config.region);
    // `auth: token`: the restore sets the AUTH token on the copy, so the drill function reads it; the
    // verifier reads `token` and `user` secrets to log in. Each only the configured secrets.
    const secretsOf = (auth: readonly string[]) => [
      ...new Set(entries.flatMap(([, c]) => (auth.includes(c.auth) && c.secretArn ? [c.secretArn] : []))),
    ];
    for (const [sid, grantee, arns] of [
      ['ReadCacheAuthTokens', fn, secretsOf(['token'])],
      ['ReadCacheLoginSecrets', caches.verifier, secretsOf(['token', 'user'])],
    ] as const) {
      if (!arns.length) continue;
      grantee.allow({ sid, actions: ['secretsmanager:GetSecretValue'], resources: arns });
      grantee.allow({
        sid: `${sid}Decrypt`,
        actions: ['kms:Decrypt'],
        resources: [stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' })],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${config.region}.amazonaws.com` } },
        wildcardReason:
          'A secret may be encrypted with a customer managed key; kms:ViaService limits decryption to ' +
          'Secrets Manager in this region, and the only secrets readable are the configured ones above.',
      });
    }
  }

  /**
   * The Secrets Manager endpoint for `auth: secret` logins: HTTPS from the verifier only. Its security group
   * always; the endpoint itself only when `alwaysOn` (else each drill that needs it creates it).
   */
  private secretsEndpoint(
    subnets: SubnetSelection,
    clients: SecurityGroup[],
    alwaysOn: boolean,
  ): { securityGroup: SecurityGroup; subnetIds: string[]; endpoint?: InterfaceVpcEndpoint } {
    const securityGroup = new SecurityGroup(this, 'SecretsManagerEndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'steward drill VPC endpoint for Secrets Manager: HTTPS from the drill verifier only',
      allowAllOutbound: false,
    });
    for (const client of clients)
      client.connections.allowTo(securityGroup, HTTPS, 'Verifier to Secrets Manager');
    const subnetIds = this.vpc.selectSubnets(subnets).subnetIds;
    if (!alwaysOn) return { securityGroup, subnetIds };
    // The verifier's only AWS call is GetSecretValue; results go back through Lambda's response.
    const endpoint = new InterfaceVpcEndpoint(this, 'SecretsManagerEndpoint', {
      vpc: this.vpc,
      service: InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      subnets,
      securityGroups: [securityGroup],
      privateDnsEnabled: true,
      open: false,
    });
    return { securityGroup, subnetIds, endpoint };
  }

  /**
   * `drill.endpoints.mode: per-drill`: tell the drill function where it may create each endpoint a drill
   * needs (DRILL_ENDPOINTS) and which state machine's running executions keep them, and let it create (tagged,
   * only those services, only in the drill VPC, subnets and endpoint groups), list, and delete only steward's.
   */
  private perDrillEndpoints(
    secrets: { securityGroup: SecurityGroup; subnetIds: string[] } | undefined,
    readers: IRole[],
    ebs: EbsVerifierNetwork | undefined,
  ): void {
    const { config } = this.props;
    const stack = Stack.of(this);
    const spec: EndpointSpec = {
      vpcId: this.vpc.vpcId,
      endpoints: {
        ...(secrets
          ? {
              secretsmanager: {
                serviceName: InterfaceVpcEndpointAwsService.SECRETS_MANAGER.name,
                subnetIds: secrets.subnetIds,
                securityGroupIds: [secrets.securityGroup.securityGroupId],
                readers: readers.map((r) => r.roleArn),
              },
            }
          : {}),
        ...(ebs
          ? Object.fromEntries(
              ebs.endpointServices.map(([key, serviceName]) => [
                key,
                {
                  serviceName,
                  subnetIds: ebs.endpointSubnetIds,
                  securityGroupIds: [ebs.endpointSecurityGroup.securityGroupId],
                },
              ]),
            )
          : {}),
      },
    };
    const stateMachineArn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: `steward-${config.stage}-drill`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const placements = Object.values(spec.endpoints);
    // Only verifying drills from the DR copies need endpoints: none in this region's drill VPC, only the state
    // machine whose running executions keep the DR region's.
    const env = {
      ...(placements.length ? { DRILL_ENDPOINTS: stack.toJsonString(spec) } : {}),
      DRILL_STATE_MACHINE_ARN: stateMachineArn,
    } satisfies Pick<v.input<typeof DrillEnv>, 'DRILL_ENDPOINTS' | 'DRILL_STATE_MACHINE_ARN'>;
    for (const [k, v] of Object.entries(env)) this.function.fn.addEnvironment(k, v);
    if (placements.length)
      allowDrillEndpoints(this.function, stack, {
        region: config.region,
        vpcId: this.vpc.vpcId,
        serviceNames: placements.map((p) => p!.serviceName),
        keys: Object.keys(spec.endpoints),
        subnetIds: [...new Set(placements.flatMap((p) => p!.subnetIds))],
        securityGroupIds: [...new Set(placements.flatMap((p) => p!.securityGroupIds))],
        stateMachineArn,
      });
    // The DR region's drill VPC (verifying EBS drills from the DR copies): the three Systems Manager endpoints,
    // only into the DR stack's tagged VPC, subnets and endpoint group, region-pinned.
    if (ebsVerifies(config, 'dr').length)
      allowDrillEndpoints(this.function, stack, {
        region: config.dr.region,
        networkTag: { key: DR_DRILL_NETWORK_TAG, value: config.stage },
        serviceNames: SSM_ENDPOINT_KEYS.map((k) => `com.amazonaws.${config.dr.region}.${k}`),
        keys: [...SSM_ENDPOINT_KEYS],
        stateMachineArn,
        sidSuffix: 'InDr',
      });
  }

  /**
   * Verifying EBS drills from the DR copies: the drill function runs the verifier in the DR region, in the
   * network the DR stack publishes (read here: ssm:GetParameter on that one parameter). The launch grants name
   * that stack's subnets and groups by their `steward:drill-network` tag, its instance role by its fixed name
   * and its Command document by name, all in `dr.region`.
   */
  private grantDrEbsVerifier(verifies: EbsVerify[]): void {
    const { config } = this.props;
    const stack = Stack.of(this);
    const { region } = config.dr;
    allowEbsVerifier(this.function, stack, {
      region,
      network: {
        tag: { key: DR_DRILL_NETWORK_TAG, value: config.stage },
        roleArn: stack.formatArn({
          service: 'iam',
          region: '',
          resource: 'role',
          resourceName: drEbsVerifierRoleName(config.stage, region),
        }),
      },
      documentArn: stack.formatArn({
        service: 'ssm',
        region,
        resource: 'document',
        resourceName: consistencyDocumentName(config.stage),
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
      instanceTypes: verifies.map((v) => v.instanceType),
      sidSuffix: 'InDr',
    });
    this.function.allow({
      sid: 'ReadDrEbsVerifierNetwork',
      actions: ['ssm:GetParameter'],
      resources: [
        stack.formatArn({
          service: 'ssm',
          region,
          resource: 'parameter',
          resourceName: drEbsVerifierParameter(config.stage).slice(1),
        }),
      ],
    });
  }

  /**
   * The verifier logs in to the configured targets and nothing else. `auth: iam`: as the configured roles
   * (rds-db:connect has no condition keys; the copy's resource id is assigned at restore, and the verifier's
   * network reaches only drill copies). `auth: secret`: a configured secret, or the RDS-managed master
   * secret of a target database, which RDS tags with that database's ARN (`aws:rds:primaryDBInstanceArn` /
   * `aws:rds:primaryDBClusterArn`, reserved `aws:` keys no one else can set).
   */
  private grantVerifier(): void {
    const { config } = this.props;
    const stack = Stack.of(this);
    const iamUsers = [
      ...new Set(Object.values(config.drill.targets).flatMap((t) => (t.auth === 'iam' ? [t.iamUser] : []))),
    ].sort();
    if (iamUsers.length) {
      this.verifier.allow({
        sid: 'ConnectToDrillCopiesAsVerifier',
        actions: ['rds-db:connect'],
        resources: iamUsers.map((user) => awsArn(stack, 'rds-db', config.region, 'dbuser', `*/${user}`)),
        wildcardReason:
          'A restored copy gets its resource id (db-…/cluster-…) from RDS at restore; the user names are the ' +
          "configured verifier roles, and the verifier's security group reaches only the drill databases.",
      });
    }
    const targets = Object.entries(config.drill.targets).filter(([, t]) => t.auth === 'secret');
    const configured = [...new Set(targets.flatMap(([, t]) => (t.secretArn ? [t.secretArn] : [])))];
    const managed = (kind: 'rds-instance' | 'aurora-cluster') =>
      targets.filter(([, t]) => t.kind === kind && !t.secretArn).map(([db]) => db.toLowerCase());
    const secrets = (name: string) =>
      stack.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const rds = (type: string, name: string) => awsArn(stack, 'rds', config.region, type, name);
    for (const [sid, kind, type, tag] of [
      ['ReadTargetInstanceMasterSecrets', 'rds-instance', 'db', 'aws:rds:primaryDBInstanceArn'],
      ['ReadTargetClusterMasterSecrets', 'aurora-cluster', 'cluster', 'aws:rds:primaryDBClusterArn'],
    ] as const) {
      const dbs = managed(kind);
      if (!dbs.length) continue;
      this.verifier.allow({
        sid,
        actions: ['secretsmanager:GetSecretValue'],
        resources: [secrets(`rds!${type}-*`)],
        conditions: { StringEquals: { [`aws:ResourceTag/${tag}`]: dbs.map((db) => rds(type, db)) } },
        wildcardReason:
          `RDS-managed master secrets are named rds!${type}-<uuid>, unknown at deploy time; the ${tag} tag RDS ` +
          'sets limits this to the secrets of the configured drill targets.',
      });
    }
    if (!targets.length) return;
    if (configured.length) {
      this.verifier.allow({
        sid: 'ReadConfiguredDrillSecrets',
        actions: ['secretsmanager:GetSecretValue'],
        resources: configured,
      });
    }
    this.verifier.allow({
      sid: 'DecryptSecretsViaSecretsManager',
      actions: ['kms:Decrypt'],
      resources: [stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' })],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${config.region}.amazonaws.com` } },
      wildcardReason:
        'A master secret may be encrypted with a customer managed key; kms:ViaService limits decryption to ' +
        "Secrets Manager in this region, and the secrets readable at all are the targets' above.",
    });
  }
}

/** Reports go under this key prefix in the report bucket (`drills/<database>/<yyyy>/<mm>/<drillId>.json`). */
export const REPORT_PREFIX = 'drills/';
/** The last passed drill's tables per database (`baselines/<database>.json`), see shared/drill/report.ts. */
const BASELINE_PREFIX = 'baselines/';

type BaseEnvInput = v.input<typeof BaseEnv>;

/** `{ task, state: $, execution: { name, startTime } }`: the DrillTaskEvent every task function parses. */
const payload = (task: DrillTask, extra: Record<string, unknown> = {}) =>
  TaskInput.fromObject({
    task,
    state: JsonPath.entirePayload,
    execution: {
      name: JsonPath.stringAt('$$.Execution.Name'),
      startTime: JsonPath.stringAt('$$.Execution.StartTime'),
    },
    ...extra,
  });

// Scheduler names are at most 64 characters; a long database id keeps a readable head and a stable hash.
const scheduleName = (full: string): string =>
  full.length <= 64
    ? full
    : `${full.slice(0, 55)}-${createHash('sha256').update(full).digest('hex').slice(0, 8)}`;
