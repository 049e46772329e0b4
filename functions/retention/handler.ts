import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { ec2Client } from '../../shared/aws/clients/ec2.js';
import { elastiCacheClient } from '../../shared/aws/clients/elasticache.js';
import { rdsClient } from '../../shared/aws/clients/rds.js';
import { s3Client } from '../../shared/aws/clients/s3.js';
import { taggingClient } from '../../shared/aws/clients/tagging.js';
import { backsUpEbs, ebsSetStore } from '../../shared/aws/ebs.js';
import {
  fleetSessions,
  fleetWiring as fleetWiringOf,
  type RoleSessions,
  type TargetWiring,
} from '../../shared/aws/fleet-sessions.js';
import { type FleetWiring, runFleetEvent } from '../../shared/fleet/child.js';
import { s3RunReports } from '../../shared/aws/run-reports.js';
import { stateTableClient } from '../../shared/aws/state-table-client.js';
import { s3RetentionRecorder } from '../../shared/aws/retention-records.js';
import { dynamoDeletionBudget, vaultBudgetScope } from '../../shared/aws/retention-budget.js';
import { awsSnapshotStore } from '../../shared/aws/snapshots.js';
import { s3RdbStore } from '../../shared/aws/cache-dr.js';
import { s3DumpStore } from '../../shared/aws/dump-objects.js';
import { dumpLocations } from '../../shared/backup/consistency.js';
import { DR_RDB_PREFIX, keepsRedisDr, spokeRedisDr } from '../../shared/backup/cache-dr.js';
import { loadEnv, VaultEnv } from '../../shared/config/env.js';
import type { RunReports } from '../../shared/notify/run-report.js';
import { injectLambdaContext, logger, logMetrics, metrics } from '../../shared/observability.js';
import { readableStacks } from '../../shared/stack-traces.js';
import { drReadOnlyRegion, type PoliciesOf, retentionRegions } from '../../shared/retention/policy.js';
import { RetentionEnv } from '../../shared/retention/env.js';
import type { DeletionBudget, RetentionRecorder, SnapshotStore } from '../../shared/retention/ports.js';
import {
  isVaultRetentionRequest,
  parseRetentionRequest,
  parseVaultRetentionRequest,
} from '../../shared/retention/request.js';
import { runVaultRetentionRequest, type VaultRetentionRunDeps } from '../../shared/retention/vault-run.js';
import { vaultOf, vaultRoleArn } from '../../shared/fleet/vault.js';
import { dumpPolicies } from '../../shared/fleet/place.js';
import type { StewardConfig } from '../../shared/config/schema.js';
import { type RetentionResult, runRetention } from '../../shared/retention/service.js';
import { atPlace, type BaseDeps, wireBase } from '../../shared/runtime.js';

export interface RetentionDeps extends BaseDeps {
  /** The primary region's store, then the DR region's when retention sweeps it. */
  stores: SnapshotStore[];
  /** The DR region's store, read only, when a policy copies there and retention does not sweep it. */
  drStore?: SnapshotStore;
  /** The day's deletion budget in the state table. */
  budget: DeletionBudget;
  /** Where the record of deletions goes (the report bucket), when the stage has one. */
  records?: RetentionRecorder;
  /** Where each run's full report goes (the report bucket), when the stage has one. */
  reports?: RunReports;
  /** A spoke instance's dumps: kept with its target's overrides (fleet/place.ts dumpPolicies). */
  policiesOf?: PoliciesOf;
}

/** Parse the trigger and run retention; malformed events throw EventShapeError before anything is listed. */
export const run = async (event: unknown, deps: RetentionDeps): Promise<RetentionResult> =>
  runRetention(deps, parseRetentionRequest(event));

/**
 * Real deps: one snapshot store per swept region (and the DR region's, read only, when a policy copies
 * there and retention does not sweep it), over the per-region SDK clients; the budget in the state
 * table; the report bucket for the record of what was deleted (when the stage has one). A fan-out child
 * (`at`): the stores sign with the target's role; the budget (its own key per account and region), records
 * and reports stay in the hub.
 */
export const wire = (
  base: BaseDeps,
  env: Pick<RetentionEnv, 'STATE_TABLE' | 'REPORT_BUCKET' | 'REDIS_DR_BUCKET'> = loadEnv(RetentionEnv),
  at?: TargetWiring,
  stage: StewardConfig | undefined = at ? undefined : base.config,
): RetentionDeps => {
  const as = at?.as;
  // A spoke target: one the fleet reaches through its spoke role (`roleArn`; the hub's own account-region has
  // none). The fan-out child signs with that role's session (`as`); `steward plan retention --target` reads the
  // same stores with the caller's own profile of that account (spoke roles trust only the hub's functions).
  const spokeTarget = at?.target.roleArn !== undefined;
  const hubRegion = at?.hubRegion ?? base.config.region;
  const storeIn = (region: string) =>
    awsSnapshotStore(
      region,
      rdsClient(region, undefined, as),
      elastiCacheClient(region, undefined, as),
      taggingClient(region, undefined, as),
      ebsSetStore(region, ec2Client(region, undefined, as)),
    );
  const drOnly = drReadOnlyRegion(base.config);
  // A child's own key part in the hub's table and bucket: its account and region.
  const scope = at ? `${at.target.account}-${at.target.region}` : undefined;
  const reports = env.REPORT_BUCKET
    ? s3RunReports(s3Client(hubRegion), env.REPORT_BUCKET, hubRegion)
    : undefined;
  // Redis DR copies in the DR bucket: kept under GFS beside the DR region's snapshots, listed before them so
  // their deletes go to the bucket. The hub's own account-region: the bucket its environment names, under
  // `elasticache/`; a spoke target (signing with its role): its account's DR bucket, under its region's prefix.
  const { dr } = base.config;
  const swept = retentionRegions(base.config);
  const spoke = spokeTarget && at ? spokeRedisDr(base.config, at.target.account) : undefined;
  const place = spoke
    ? { bucket: spoke.drBucket, prefix: spoke.drPrefix }
    : env.REDIS_DR_BUCKET && !spokeTarget && keepsRedisDr(base.config)
      ? { bucket: env.REDIS_DR_BUCKET, prefix: DR_RDB_PREFIX }
      : undefined;
  const rdb =
    place && swept.includes(dr.region)
      ? [
          s3RdbStore(
            dr.region,
            s3Client(dr.region, undefined, as),
            place.bucket,
            base.config.region,
            place.prefix,
          ),
        ]
      : [];
  // EC2 instances' dump objects: in the stage's buckets (its account and region), so kept by the hub's own run,
  // or in a fleet by the fan-out child of the hub's own account-region (a target without a role), spokes'
  // instances' dumps included; kept under GFS, listed before the snapshots so their deletes go to S3.
  const locations = spokeTarget ? [] : dumpLocations(base.config);
  const dumps = locations.length
    ? [s3DumpStore(base.config.region, s3Client(base.config.region), locations)]
    : [];
  return {
    ...base,
    // Each dump is kept with the overrides of its instance's target (the stage's config, before the child's),
    // or, when that target cannot be resolved, the longest of the candidates' and this run's own policies.
    ...(dumps.length && stage ? { policiesOf: dumpPolicies(stage, base.config) } : {}),
    stores: [...dumps, ...swept.flatMap((r) => (r === dr.region ? [...rdb, storeIn(r)] : [storeIn(r)]))],
    ...(drOnly ? { drStore: storeIn(drOnly) } : {}),
    budget: dynamoDeletionBudget(stateTableClient(hubRegion), env.STATE_TABLE, scope),
    ...(env.REPORT_BUCKET && reports
      ? {
          records: s3RetentionRecorder(s3Client(hubRegion), env.REPORT_BUCKET),
          reports,
        }
      : {}),
  };
};

/** The deployed function's wiring: today's deps, a fan-out child's per target, the fan-out summary's. */
export const fleetWiring = (
  base: () => BaseDeps,
  env: () => Pick<RetentionEnv, 'STATE_TABLE' | 'REPORT_BUCKET' | 'REDIS_DR_BUCKET'> = () =>
    loadEnv(RetentionEnv),
): FleetWiring<RetentionDeps> =>
  fleetWiringOf('retention', base, (b, at) => wire(b, env(), at, base().config));

/**
 * The backup vault's retention (config `fleet.vault`): each vault region's store signs with the vault retention
 * role, assumed by the hub's retention role through `sessions` (fleet-sessions.ts) when the environment names
 * the partition (the deployed function); the day's deletion budget is in the hub's state table, the full report
 * in the hub's bucket.
 */
export const wireVault = (
  base: BaseDeps,
  env: Record<string, string | undefined> = process.env,
  sessions?: RoleSessions,
): VaultRetentionRunDeps & BaseDeps => {
  const { config } = base;
  const vault = vaultOf(config);
  const partition = VaultEnv.safeParse(env).data?.VAULT_PARTITION;
  const bucket = env.REPORT_BUCKET;
  const table = env.STATE_TABLE;
  return {
    ...base,
    ...(bucket ? { reports: s3RunReports(s3Client(config.region), bucket, config.region) } : {}),
    // Its own key per vault account and region in the hub's table: never the hub's or a target's budget.
    ...(vault && table
      ? {
          vaultBudget: (region: string) =>
            dynamoDeletionBudget(
              stateTableClient(config.region),
              table,
              vaultBudgetScope(vault.account, region),
            ),
        }
      : {}),
    ...(vault && partition && sessions
      ? {
          vaultStore: (region: string) => {
            const as = sessions.role({
              account: vault.account,
              region,
              roleArn: vaultRoleArn(config, 'retention', region, partition),
              ...(config.fleet?.externalId ? { externalId: config.fleet.externalId } : {}),
            });
            // The vault holds RDS and Aurora copies, and EBS sets when a policy backs EBS up.
            return awsSnapshotStore(
              region,
              rdsClient(region, undefined, as),
              elastiCacheClient(region, undefined, as),
              taggingClient(region, undefined, as),
              backsUpEbs(config) ? ebsSetStore(region, ec2Client(region, undefined, as)) : undefined,
            );
          },
        }
      : {}),
  };
};

/** The vault's deps once per container, its role sessions in their own cache (session `steward-<stage>-retention`). */
export const vaultWiring = (base: () => BaseDeps, env: Record<string, string | undefined> = process.env) => {
  let deps: (VaultRetentionRunDeps & BaseDeps) | undefined;
  return () => {
    if (deps) return deps;
    const b = base();
    let cache: ReturnType<typeof fleetSessions> | undefined;
    return (deps = wireVault(b, env, {
      role: (r) => (cache ??= fleetSessions(b.config.stage, b.config.region, 'retention')).role(r),
    }));
  };
};

let base: BaseDeps | undefined;
const wiring = fleetWiring(() => (base ??= wireBase()));
const vault = vaultWiring(() => (base ??= wireBase()));

export const handler = middy()
  .use(readableStacks())
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  // Where this invocation acts (a fan-out child's target, else this account-region), per invocation; the
  // vault's retention runs in the hub and names the vault's account and region itself.
  .handler((event: unknown, context: Context) =>
    isVaultRetentionRequest(event)
      ? runVaultRetentionRequest(parseVaultRetentionRequest(event), atPlace(vault(), event, context))
      : runFleetEvent(event, wiring, (e, d) => run(e, atPlace(d, event, context))),
  );
