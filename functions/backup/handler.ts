import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { awsBackupPort, awsCopyPort, awsSnapshotReader } from '../../shared/aws/backup-ports.js';
import { cacheDrPort, DR_COPY_TIMEOUTS, PART_COPY } from '../../shared/aws/cache-dr.js';
import { elastiCacheClient } from '../../shared/aws/clients/elasticache.js';
import type { ClientIdentity } from '../../shared/aws/clients/kit.js';
import { rdsClient } from '../../shared/aws/clients/rds.js';
import { s3Client } from '../../shared/aws/clients/s3.js';
import { taggingClient } from '../../shared/aws/clients/tagging.js';
import { stateTableClient } from '../../shared/aws/state-table-client.js';
import { ebsLazily } from '../../shared/aws/ebs-lazily.js';
import { elastiCacheBackup } from '../../shared/aws/elasticache.js';
import { rdsBackup } from '../../shared/aws/rds.js';
import { s3RunReports } from '../../shared/aws/run-reports.js';
import { awsSnapshotStore, rdsSnapshotReader } from '../../shared/aws/snapshots.js';
import { dynamoCopyLedger, dynamoCopySlots } from '../../shared/aws/copy-ledger.js';
import {
  fleetWiring as fleetWiringOf,
  type RoleSessions,
  type TargetWiring,
} from '../../shared/aws/fleet-sessions.js';
import { AWS_COPY_LIMITS } from '../../shared/backup/copy-plan.js';
import { DR_RDB_PREFIX, type RedisDrPlace, spokeRedisDr } from '../../shared/backup/cache-dr.js';
import {
  BackupSchedulerEnv,
  CacheDrEnv,
  ConsistencyEnv,
  CopyQueueEnv,
  RunReportsEnv,
} from '../../shared/backup/env.js';
import { VaultEnv } from '../../shared/config/env.js';
import { backsUpEbs } from '../../shared/backup/kinds.js';
import type { BackupScheduler, SnapshotAround } from '../../shared/backup/ports.js';
import { type Invocation, isEventEnvelope, parseBackupPayload } from '../../shared/backup/request.js';
import { type BackupDeps, type BackupResult, runBackup } from '../../shared/backup/service.js';
import { injectLambdaContext, logger, logMetrics, metrics } from '../../shared/observability.js';
import { readableStacks } from '../../shared/stack-traces.js';
import { type FleetWiring, runFleetEvent } from '../../shared/fleet/child.js';
import { copySourceRegions, organizationalUnitsOf } from '../../shared/fleet/targets.js';
import { vaultKeyAlias, vaultOf, vaultRoleArn, vaultShareKeyAlias } from '../../shared/fleet/vault.js';
import { deferredPort } from '../../shared/deferred.js';
import { once } from '../../shared/once.js';
import { atPlace, type BaseDeps, wireBase } from '../../shared/runtime.js';

// Modules loaded on first use, once per container (shared/once.ts: `import()` resolves again at each call).
const loadEvents = /* @__PURE__ */ once(() => import('../../shared/backup/events.js'));
const loadVault = /* @__PURE__ */ once(() => import('../../shared/aws/vault.js'));
const loadEbsVault = /* @__PURE__ */ once(() => import('../../shared/aws/ebs-vault.js'));
const loadEbsVaultStore = /* @__PURE__ */ once(() => import('../../shared/aws/ebs-vault-store.js'));
const loadConsistency = /* @__PURE__ */ once(() => import('../../shared/backup/consistency.js'));
const loadSsmCommands = /* @__PURE__ */ once(() => import('../../shared/aws/ssm-commands.js'));
const loadScheduler = /* @__PURE__ */ once(() => import('../../shared/aws/scheduler.js'));
// The EBS, Systems Manager and Scheduler adapter modules bring the factory of the client they send through
// (EC2, SSM, Scheduler): a trigger that sends none parses none of their code (test/infra/bundles.test.ts).

export type { BackupDeps, BackupResult };

/**
 * Parse any backup trigger (schedules, pre-change requests, RDS snapshot and database events, AWS Health
 * maintenance) and run it; dry run = the deps' forced flag or the request's. The invocation's request id
 * names an ad-hoc snapshot that carries neither a client token nor a requested time. AWS's events are parsed
 * by events.ts, loaded only by an invocation that gets one; a direct payload (a schedule's) never loads it.
 */
export const run = async (event: unknown, deps: BackupDeps, invocation?: Invocation): Promise<BackupResult> =>
  runBackup(
    isEventEnvelope(event)
      ? (await loadEvents()).parseBackupRequest(event, deps.config.backup, invocation)
      : parseBackupPayload(event, deps.config.backup, invocation),
    deps,
  );

/**
 * The vault copy of this account-region, when config `fleet.vault` is set and the environment names the
 * partition (the deployed function): the shares with the acting identity (the hub's own, or the target's
 * role), the vault side with the vault's copy role in the same region (a shared snapshot is copied within its
 * region), assumed by the hub's backup role through `sessions`.
 */
const wireVault = (
  config: BaseDeps['config'],
  env: Record<string, string | undefined>,
  sources: BackupDeps['snapshots']['primary'],
  rds: ReturnType<typeof rdsClient>,
  acting: ClientIdentity | undefined,
  sessions: RoleSessions | undefined,
): BackupDeps['vault'] => {
  const vault = vaultOf(config);
  const partition = VaultEnv.safeParse(env).data?.VAULT_PARTITION;
  const { account, region } = config;
  // The schema requires the account with a vault, and a vault region for every target region.
  if (!vault || !partition || !sessions || !account || !vault.regions.includes(region)) return undefined;
  const as = sessions.role({
    account: vault.account,
    region,
    roleArn: vaultRoleArn(config, 'copy', region, partition),
    ...(config.fleet?.externalId ? { externalId: config.fleet.externalId } : {}),
  });
  const vaultRds = rdsClient(region, undefined, as);
  return {
    account,
    region,
    vaultAccount: vault.account,
    vaultKey: vaultKeyAlias(config),
    // The stacks make it in the hub's and every spoke's account and region (infra/fleet.ts allowShareWithVault).
    shareKey: vaultShareKeyAlias(config.stage),
    policies: Object.keys(config.backup.policies),
    maxInFlight: config.backup.maxCopiesInFlight,
    maxClusterInFlight: AWS_COPY_LIMITS['aurora-cluster'],
    sources,
    // The vault adapters' modules are loaded by the first call (a run that reconciles the vault).
    shares: deferredPort(region, async () => (await loadVault()).rdsVaultShares(region, rds)),
    vault: deferredPort(region, async () => (await loadVault()).rdsVaultStore(region, vaultRds)),
    // EBS snapshot sets, when a policy backs EBS up: shared by the acting identity, copied by the vault role.
    ...(backsUpEbs(config)
      ? {
          sets: {
            shares: deferredPort(region, async () => {
              const { ebsVaultShares, ec2Client } = await loadEbsVault();
              return ebsVaultShares(region, ec2Client(region, undefined, acting));
            }),
            vault: deferredPort(region, async () => {
              const { ebsVaultStore, ec2Client } = await loadEbsVaultStore();
              return ebsVaultStore(region, ec2Client(region, undefined, as));
            }),
            maxInFlight: Math.min(config.backup.maxCopiesInFlight, AWS_COPY_LIMITS.ebs),
          },
        }
      : {}),
  };
};

/**
 * Application consistency around each EBS set, by the stage's Command document `doc` (in every target: the
 * spoke stack deploys it under the same name, and a child sends the commands with the target's credentials);
 * the dump objects are tagged in the hub's bucket. Its code (the freeze/thaw runner, the SSM adapter) is
 * loaded by the first set it wraps: a run that takes no EBS set never parses it.
 */
const consistencyLazily = (
  base: BaseDeps,
  doc: string,
  w: {
    region: string;
    hubRegion: string;
    as: ClientIdentity | undefined;
    at: TargetWiring | undefined;
    account: string | undefined;
  },
): SnapshotAround => {
  const { region, hubRegion, as, at, account } = w;
  const s3 = s3Client(hubRegion);
  // The instances' account and region on each dump, and the OU targets a child reached the account through:
  // retention keeps it with those targets' overrides (fleet/place.ts, dumpPolicies).
  const place = {
    ...(account ? { account } : {}),
    region,
    ...(at ? { organizationalUnits: organizationalUnitsOf(base.config, at.target) } : {}),
  };
  const where = at ? { account: at.target.account, region } : {};
  const around = once(async (): Promise<SnapshotAround> => {
    const { consistencyAround } = await loadConsistency();
    const { abortableSleep, s3DumpTagger, ssmClient, ssmStepRunner } = await loadSsmCommands();
    const ssm = ssmClient(region, undefined, as);
    return consistencyAround(
      base.config.backup.policies,
      {
        runner: ssmStepRunner(ssm, doc),
        dumps: s3DumpTagger(s3),
        place,
        now: base.now,
        sleep: abortableSleep,
      },
      (instance, r) =>
        (r.severity === 'info' ? logger.info : logger.warn).call(logger, 'application consistency', {
          ...where,
          document: doc,
          instance,
          consistency: r.consistency,
          frozenSeconds: r.frozenSeconds,
          problems: r.problems,
          steps: r.steps,
          ...(r.dump ? { dump: r.dump } : {}),
        }),
    );
  });
  return async (target, snapshot) => (await around())(target, snapshot);
};

/**
 * The hub's one-time schedules (its group, its role, this function) for pre-maintenance snapshots; the
 * Scheduler adapter is loaded by the first schedule (an AWS Health scheduled change), not by other triggers.
 */
const scheduler = (e: BackupSchedulerEnv, hubRegion: string): BackupScheduler => {
  const target = {
    group: e.MAINTENANCE_SCHEDULE_GROUP,
    functionArn: e.MAINTENANCE_TARGET_ARN,
    roleArn: e.MAINTENANCE_ROLE_ARN,
    ...(e.MAINTENANCE_DLQ_ARN ? { deadLetterArn: e.MAINTENANCE_DLQ_ARN } : {}),
  };
  const adapter = once(async () => {
    const { schedulerBackup, schedulerClient } = await loadScheduler();
    return schedulerBackup(schedulerClient(hubRegion), target);
  });
  return { scheduleOnce: async (o) => (await adapter()).scheduleOnce(o) };
};

/**
 * A target's pre-maintenance snapshot (a spoke's forwarded AWS Health event) is scheduled in the hub, and
 * its payload names the target: when it fires, the function takes the snapshot there, with the target's role.
 */
const inTarget = (s: BackupScheduler, at: TargetWiring | undefined): BackupScheduler =>
  at ? { scheduleOnce: (o) => s.scheduleOnce({ ...o, payload: { ...o.payload, target: at.target } }) } : s;

/**
 * Real adapters for `config.region` and, for copies, `config.dr.region`. The scheduler for pre-maintenance
 * snapshots is wired when the environment names its group, target and role (the deployed function); the
 * full run reports when it names the report bucket; the DR copy queue when it names the state table.
 * A fan-out child (`at`): the RDS, ElastiCache, EC2 and Systems Manager clients sign with the target's role;
 * the report bucket, state table and dump tagging stay the hub's; the hub's scheduler, whose payloads name the
 * target (inTarget); no copy queue in another account (its keys name no account: its reconcile lists in full).
 * The backup vault when `sessions` are given (wireVault). Application consistency when the environment names
 * the stage's document, in every target (the spoke stack deploys it under the same name). Redis DR when the
 * environment names its two buckets (the hub's own account-region), or in a spoke target that keeps it, into
 * that account's own buckets (spokeRedisDr). The adapters only some triggers use (EBS, the vault's, application
 * consistency, the Scheduler) load their modules on their first call (deferredPort and the `*Lazily` wrappers),
 * so a trigger that never calls them never parses them.
 */
export const wire = (
  base: BaseDeps,
  env: Record<string, string | undefined> = process.env,
  at?: TargetWiring,
  sessions?: RoleSessions,
): BackupDeps => {
  const { region, dr } = base.config;
  const hubRegion = at?.hubRegion ?? region;
  const as = at?.as;
  const s = BackupSchedulerEnv.safeParse(env);
  const bucket = RunReportsEnv.safeParse(env).data?.REPORT_BUCKET;
  const stateTable = CopyQueueEnv.safeParse(env).data?.STATE_TABLE;
  const table = as ? undefined : stateTable;
  // Other source regions of this account copy to the same DR region: they share its in-flight budget, kept in
  // the hub's state table (the hub's credentials) whichever account the copies are in.
  const account = base.config.account;
  const shared =
    stateTable &&
    account &&
    base.config.fleet &&
    copySourceRegions(base.config, account, at?.target).length > 1;
  const rds = rdsClient(region, undefined, as);
  const cache = elastiCacheClient(region, undefined, as);
  const drRds = rdsClient(dr.region, undefined, as);
  const ebs = ebsLazily(region, as);
  const drEbs = ebsLazily(dr.region, as);
  const reports = bucket ? s3RunReports(s3Client(hubRegion), bucket, hubRegion) : undefined;
  const primary = awsSnapshotStore(region, rds, cache, taggingClient(region, undefined, as), ebs);
  const vault = wireVault(base.config, env, primary, rds, as, sessions);
  // Redis DR: the hub's own account-region (and its fan-out child, a target without a role) uses the buckets
  // its environment names; a child signing with a spoke role uses its account's buckets, made by the spoke
  // stacks under fixed names, and its region's prefix in the DR bucket. Steward's consistency document has one
  // name per stage (infra/consistency.ts), deployed by the hub stack and by the spoke stack in every target's
  // account-region: a child sends the commands there with the target's credentials (a spoke role's SSM grants
  // are the hub role's). The dump objects are the stage's, in its bucket in the hub's account and region.
  const hubBuckets = as ? undefined : CacheDrEnv.safeParse(env).data;
  const buckets: RedisDrPlace | undefined = hubBuckets
    ? {
        exportBucket: hubBuckets.REDIS_EXPORT_BUCKET,
        drBucket: hubBuckets.REDIS_DR_BUCKET,
        drPrefix: DR_RDB_PREFIX,
      }
    : as && at
      ? spokeRedisDr(base.config, at.target.account)
      : undefined;
  const doc = ConsistencyEnv.safeParse(env).data?.CONSISTENCY_DOCUMENT;
  return {
    ...base,
    primary: awsBackupPort(rdsBackup(region, rds), elastiCacheBackup(region, cache), ebs),
    // The copy is requested in the destination region; the SDK presigns the source-region half.
    dr: awsCopyPort(rdsBackup(dr.region, drRds), drEbs),
    snapshots: {
      primary,
      dr: awsSnapshotStore(dr.region, drRds, elastiCacheClient(dr.region, undefined, as), undefined, drEbs),
    },
    // Targeted reads plus the queue: an RDS snapshot event reconciles its database only.
    readers: {
      primary: awsSnapshotReader(rdsSnapshotReader(region, rds), ebs),
      dr: awsSnapshotReader(rdsSnapshotReader(dr.region, drRds), drEbs),
    },
    ...(table ? { copyLedger: dynamoCopyLedger(stateTableClient(hubRegion), table) } : {}),
    ...(shared
      ? { copySlots: dynamoCopySlots(stateTableClient(hubRegion), stateTable, account, dr.region) }
      : {}),
    ...(reports ? { reports } : {}),
    ...(vault ? { vault } : {}),
    ...(buckets
      ? {
          cacheDr: cacheDrPort(
            region,
            dr.region,
            // The copy runs in the DR region and may take minutes per request (a 5 GB CopyObject, a part).
            {
              elasticache: cache,
              s3: s3Client(region, undefined, as),
              drS3: s3Client(dr.region, DR_COPY_TIMEOUTS, as),
              tagging: taggingClient(region, undefined, as),
            },
            // A spoke's copies are encrypted with its account's own DR key (configAt names it).
            { ...buckets, ...(dr.kmsKeyArn ? { drKmsKeyArn: dr.kmsKeyArn } : {}) },
            PART_COPY,
            base.now,
          ),
        }
      : {}),
    ...(doc ? { around: consistencyLazily(base, doc, { region, hubRegion, as, at, account }) } : {}),
    ...(s.success ? { scheduler: inTarget(scheduler(s.data, hubRegion), at) } : {}),
  };
};

/**
 * The deployed function's wiring: today's deps, a fan-out child's per target, the fan-out summary's. The hub's
 * backup role assumes the target roles and the vault copy role through one session cache (the hub region's STS).
 */
export const fleetWiring = (
  base: () => BaseDeps,
  env: Record<string, string | undefined> = process.env,
): FleetWiring<BackupDeps> => fleetWiringOf('backup', base, (b, at, sessions) => wire(b, env, at, sessions));

let base: BaseDeps | undefined;
const wiring = fleetWiring(() => (base ??= wireBase()));

export const handler = middy()
  .use(readableStacks())
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  .handler((event: unknown, context: Context) =>
    // Where this invocation acts (a fan-out child's target, else this account-region), per invocation.
    runFleetEvent(event, wiring, (e, d) =>
      run(e, atPlace(d, event, context), { requestId: context.awsRequestId }),
    ),
  );
