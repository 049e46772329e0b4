import type { EC2Client } from '@aws-sdk/client-ec2';
import { ec2Client } from '../../shared/aws/clients/ec2.js';
import { elastiCacheClient } from '../../shared/aws/clients/elasticache.js';
import type { ClientIdentity } from '../../shared/aws/clients/kit.js';
import { lambdaClient } from '../../shared/aws/clients/lambda.js';
import { rdsClient } from '../../shared/aws/clients/rds.js';
import { s3Client } from '../../shared/aws/clients/s3.js';
import { secretsClient } from '../../shared/aws/clients/secrets-manager.js';
import { sfnClient } from '../../shared/aws/clients/sfn.js';
import { ssmClient } from '../../shared/aws/clients/ssm.js';
import { stsClient } from '../../shared/aws/clients/sts.js';
import { lambdaCacheVerifier } from '../../shared/aws/cache-verifier.js';
import { s3RdbCopyLister } from '../../shared/aws/cache-dr.js';
import { ec2DrillEndpoints, sfnRunningDrills } from '../../shared/aws/drill-endpoints.js';
import {
  type DrEbsVerifierSite,
  ssmDrDrillSite,
  ssmDrEbsVerifierSite,
} from '../../shared/aws/drill-network.js';
import { ec2EbsDrillPort, ec2FirstZone, ec2SnapshotSets } from '../../shared/aws/ebs-drill.js';
import { ec2EbsVerifierPort, verifierNetworkFromEnv } from '../../shared/aws/ebs-verifier.js';
import { withEbsVaultSets } from '../../shared/aws/ebs-vault-drill.js';
import { elastiCacheDrillPort } from '../../shared/aws/elasticache-drill.js';
import { dynamoFastRestoreLedger, dynamoVaultShareLedger } from '../../shared/aws/drill-stores.js';
import { secretsCacheLogins } from '../../shared/aws/secrets.js';
import { ssmStepRunner } from '../../shared/aws/ssm-commands.js';
import { stateTableClient } from '../../shared/aws/state-table-client.js';
import { targetCredentials } from '../../shared/aws/target-credentials.js';
import { rdsStagedCopies, rdsVaultDrillPort } from '../../shared/aws/vault-drill.js';
import { ConsistencyEnv } from '../../shared/backup/env.js';
import { VaultEnv } from '../../shared/config/env.js';
import { type CacheDrillDeps, withCacheDrills } from '../../shared/drill/cache-restore.js';
import type { EbsDrDrillDeps, EbsDrillDeps } from '../../shared/drill/ebs-tasks.js';
import type { DrillEndpointsDeps } from '../../shared/drill/endpoint-tasks.js';
import { parseEndpointSpec, perDrillEndpoints } from '../../shared/drill/endpoints.js';
import { type DrillEnv, EbsVerifierEnv } from '../../shared/drill/env.js';
import type { RestorePort } from '../../shared/drill/ports.js';
import {
  DR_CACHE_RELAY_MS,
  drCacheNetworkParameter,
  drEbsVerifierParameter,
  DRILL_COPY_KEY,
  drillsCachesFromDr,
  drillsVolumesFromDr,
  verifiesVolumesInDr,
} from '../../shared/drill/stage-drills.js';
import type { LateAdapters } from '../../shared/drill/tasks.js';
import type { VaultDrillDeps } from '../../shared/drill/vault-tasks.js';
import { hasEbsVaultDrills, hasVaultDrills, vaultDrillRoleArn } from '../../shared/fleet/vault-drill.js';
import { vaultOf } from '../../shared/fleet/vault.js';
import type { BaseDeps } from '../../shared/runtime.js';

// The drill function's adapters that only some tasks and triggers use: Redis drills, EBS drills, drills from
// the backup vault, per-drill endpoints. The handler imports this module when a task first needs them
// (`DrillDeps.adapters`), so the select task of an RDS drill loads none of their code.

/**
 * The late adapters for `config.region` and the function's environment: `restore` (the RDS port) then covers
 * the Redis drills' copies too.
 */
export const lateAdapters = (
  base: BaseDeps,
  env: DrillEnv,
  raw: Record<string, string | undefined>,
  restore: RestorePort,
): LateAdapters => {
  const { region } = base.config;
  const caches = cacheDeps(base, env);
  const vault = vaultDeps(base, env, raw);
  const drSite = drEbsSite(base);
  return {
    restore: withCacheDrills(restore, caches),
    ...(caches ? { caches } : {}),
    ...(vault ? { vault } : {}),
    ...(Object.keys(base.config.drill.volumes).length ? { ebs: ebsDeps(base, env, raw, drSite) } : {}),
    ...(env.DRILL_ENDPOINTS && env.DRILL_STATE_MACHINE_ARN
      ? { endpoints: endpointDeps(region, env.DRILL_ENDPOINTS, env.DRILL_STATE_MACHINE_ARN) }
      : {}),
    ...(drSite && perDrillEndpoints(base.config) && env.DRILL_STATE_MACHINE_ARN
      ? { drEndpoints: drEndpointDeps(base, drSite, env.DRILL_STATE_MACHINE_ARN) }
      : {}),
  };
};

/**
 * The DR region's EBS verifier network, as the `Steward-<stage>-dr` stack publishes it, when a target drills from
 * the DR copies and verifies: one reader per wiring, so per container (the verifier's launch, the drill zone and
 * the DR endpoints share one GetParameter).
 */
const drEbsSite = (base: BaseDeps): (() => Promise<DrEbsVerifierSite>) | undefined => {
  const { dr, stage } = base.config;
  if (!verifiesVolumesInDr(base.config)) return undefined;
  return ssmDrEbsVerifierSite(
    ssmClient(dr.region),
    drEbsVerifierParameter(stage),
    dr.region,
    `Steward-${stage}-dr`,
  );
};

/** Per-drill endpoints in the DR region's drill VPC: where the DR stack says, EC2 there, the running drills. */
const drEndpointDeps =
  (base: BaseDeps, drSite: () => Promise<DrEbsVerifierSite>, stateMachineArn: string) =>
  async (): Promise<DrillEndpointsDeps | undefined> => {
    const { region, dr } = base.config;
    const site = await drSite();
    if (!site.endpoints) return undefined;
    return {
      spec: site.endpoints,
      port: ec2DrillEndpoints(ec2Client(dr.region), site.endpoints.vpcId),
      drills: sfnRunningDrills(sfnClient(region), stateMachineArn),
    };
  };

/** Per-drill endpoints (`drill.endpoints.mode: per-drill`): EC2 in the drill VPC, the running drills. */
const endpointDeps = (region: string, text: string, stateMachineArn: string): DrillEndpointsDeps => {
  const spec = parseEndpointSpec(text);
  return {
    spec,
    port: ec2DrillEndpoints(ec2Client(region), spec.vpcId),
    drills: sfnRunningDrills(sfnClient(region), stateMachineArn),
  };
};

/**
 * Redis drills (`drill.caches`, when the stack gave the cache network): ElastiCache in the stage region, and
 * for `from: dr` in the DR region, into the drill network the `Steward-<stage>-dr` stack publishes there.
 */
const cacheDeps = (base: BaseDeps, env: DrillEnv): CacheDrillDeps | undefined => {
  if (!env.DRILL_CACHE_SUBNET_GROUP || !env.DRILL_CACHE_SECURITY_GROUP_IDS) return undefined;
  const { region, dr, stage } = base.config;
  const fromDr = drillsCachesFromDr(base.config);
  const tokens = Object.values(base.config.drill.caches).some((c) => c.auth === 'token');
  // The DR stack publishes its drill network and its cache verifier in one parameter: one read serves both.
  const site = fromDr
    ? ssmDrDrillSite(ssmClient(dr.region), drCacheNetworkParameter(stage), dr.region, `Steward-${stage}-dr`)
    : undefined;
  return {
    ...(tokens ? { secrets: secretsCacheLogins(secretsClient(region)) } : {}),
    primary: elastiCacheDrillPort(region, elastiCacheClient(region)),
    ...(site
      ? {
          dr: elastiCacheDrillPort(dr.region, elastiCacheClient(dr.region)),
          ...(env.REDIS_DR_BUCKET
            ? { copies: s3RdbCopyLister(dr.region, s3Client(dr.region), env.REDIS_DR_BUCKET, region) }
            : {}),
          drNetwork: site.network,
          drVerifier: lambdaCacheVerifier(
            lambdaClient(dr.region, { requestTimeoutMs: DR_CACHE_RELAY_MS }),
            dr.region,
            site.verifierFunctionArn,
          ),
        }
      : {}),
    network: {
      cacheSubnetGroupName: env.DRILL_CACHE_SUBNET_GROUP,
      securityGroupIds: env.DRILL_CACHE_SECURITY_GROUP_IDS,
      ...(env.DRILL_CACHE_USER_GROUP ? { userGroupId: env.DRILL_CACHE_USER_GROUP } : {}),
    },
  };
};

/**
 * Drills from the backup vault (`from: vault`, RDS and Aurora copies, EBS sets), when the stage has a vault region
 * here and the environment names the partition (the deployed function): the vault side with the vault drill role, assumed lazily (with the
 * fleet's external id) when a drill first reads the vault, so a vault that refuses fails that drill only; the
 * drill's own copies with this function's role; each share recorded in the state table (the janitor's list).
 */
const vaultDeps = (
  base: BaseDeps,
  env: DrillEnv,
  raw: Record<string, string | undefined>,
): VaultDrillDeps | undefined => {
  const { config } = base;
  const { region, account } = config;
  const vault = vaultOf(config);
  const partition = VaultEnv.safeParse(raw).data?.VAULT_PARTITION;
  if (!vault || !partition || !account || !hasVaultDrills(config) || !vault.regions.includes(region))
    return undefined;
  const roleArn = vaultDrillRoleArn(config, region, partition);
  const sessions = targetCredentials(stsClient(region), { sessionName: `steward-${config.stage}-drill` });
  const as: ClientIdentity = {
    key: `${vault.account}:${roleArn}`,
    credentials: sessions.forTarget({
      account: vault.account,
      region,
      roleArn,
      ...(config.fleet?.externalId ? { externalId: config.fleet.externalId } : {}),
    }),
  };
  const rdsSide = rdsVaultDrillPort(region, rdsClient(region, undefined, as), vault.account);
  return {
    account,
    // EBS sets too when a target drills them from the vault: listed and shared part by part with the same role.
    vault: hasEbsVaultDrills(config) ? withEbsVaultSets(rdsSide, ec2Client(region, undefined, as)) : rdsSide,
    staging: rdsStagedCopies(region, rdsClient(region)),
    key: DRILL_COPY_KEY,
    shares: dynamoVaultShareLedger(stateTableClient(region), env.DRILL_TABLE),
  };
};

/**
 * EBS drills (`drill.volumes`): the sets and drill volumes through EC2 in the stage region; when the stack
 * deployed the verifier network (a target configures `verify`), the verifier: instances through EC2 and
 * Systems Manager, the check through steward's Command document; when a target drills `from: dr`, the copied
 * sets and the volumes through EC2 in the DR region.
 */
const ebsDeps = (
  base: BaseDeps,
  env: DrillEnv,
  raw: Record<string, string | undefined>,
  drSite: (() => Promise<DrEbsVerifierSite>) | undefined,
): EbsDrillDeps => {
  const { region, dr } = base.config;
  const ec2 = ec2Client(region);
  const drEc2 = drillsVolumesFromDr(base.config) ? ec2Client(dr.region) : undefined;
  const network = verifierNetworkFromEnv(EbsVerifierEnv.safeParse(raw).data ?? {});
  const doc = ConsistencyEnv.safeParse(raw).data?.CONSISTENCY_DOCUMENT;
  const ssm = network && doc ? ssmClient(region) : undefined;
  return {
    sets: ec2SnapshotSets(region, ec2),
    volumes: ec2EbsDrillPort(region, ec2),
    ...(env.DRILL_EBS_AZ ? { availabilityZone: env.DRILL_EBS_AZ } : {}),
    // Each fast snapshot restore a drill turns on, recorded before it is (the janitor's list when a drill dies).
    fastRestores: dynamoFastRestoreLedger(stateTableClient(region), env.DRILL_TABLE),
    ...(drEc2
      ? {
          dr: {
            sets: ec2SnapshotSets(dr.region, drEc2),
            volumes: ec2EbsDrillPort(dr.region, drEc2),
            availabilityZone: ec2FirstZone(dr.region, drEc2),
            ...(drSite ? drVerifierDeps(base, drEc2, drSite) : {}),
          },
        }
      : {}),
    ...(network && doc && ssm
      ? {
          verifier: {
            verifier: ec2EbsVerifierPort(region, ec2, ssm, network),
            runner: ssmStepRunner(ssm, doc),
            now: base.now,
            sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
          },
        }
      : {}),
  };
};

/**
 * The verifier in the DR region (a `from: dr` target with `verify`): instances through EC2 and Systems Manager
 * there, in the network the DR stack publishes, the check through that stack's Command document.
 */
const drVerifierDeps = (
  base: BaseDeps,
  drEc2: EC2Client,
  site: () => Promise<DrEbsVerifierSite>,
): Pick<EbsDrDrillDeps, 'verifier' | 'verifierZone'> => {
  const { dr } = base.config;
  const ssm = ssmClient(dr.region);
  return {
    verifier: {
      verifier: ec2EbsVerifierPort(dr.region, drEc2, ssm, async () => (await site()).network),
      runner: { run: async (step) => ssmStepRunner(ssm, (await site()).documentName).run(step) },
      now: base.now,
      sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
    },
    verifierZone: async () => (await site()).availabilityZone,
  };
};
