import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import {
  ec2Client,
  elastiCacheClient,
  rdsClient,
  s3Client,
  secretsClient,
  sfnClient,
} from '../../shared/aws/clients.js';
import { secretsCacheLogins } from '../../shared/aws/secrets.js';
import { ec2EbsDrillPort, ec2SnapshotSets } from '../../shared/aws/ebs-drill.js';
import { elastiCacheDrillPort } from '../../shared/aws/elasticache-drill.js';
import { s3RunReports } from '../../shared/aws/run-reports.js';
import { stateTableClient } from '../../shared/aws/state-table-client.js';
import { dynamoTokenStore, s3ReportStore } from '../../shared/aws/drill-stores.js';
import { rdsRestorePort } from '../../shared/aws/rds-restore.js';
import { sfnExecutions, sfnTaskSignal } from '../../shared/aws/sfn.js';
import { loadEnv } from '../../shared/config/env.js';
import { DrillEnv } from '../../shared/drill/env.js';
import { type CacheDrillDeps, withCacheDrills } from '../../shared/drill/cache-tasks.js';
import type { EbsDrillDeps } from '../../shared/drill/ebs-tasks.js';
import { type DrillDeps, runDrillControl } from '../../shared/drill/tasks.js';
import { injectLambdaContext, logger, logMetrics, metrics } from '../../shared/observability.js';
import { readableStacks } from '../../shared/stack-traces.js';
import { atPlace, type BaseDeps, wireBase } from '../../shared/runtime.js';

export type { DrillDeps };

/**
 * A drill task (all but verify), an RDS event about a drill resource, a Step Functions status change of a
 * drill execution, or `{ "action": "janitor" }`.
 */
export const run = (event: unknown, deps: DrillDeps) => runDrillControl(event, deps);

/** Real adapters for `config.region`; the network and stores come from the function's environment. */
export const wire = (base: BaseDeps, env: DrillEnv = loadEnv(DrillEnv)): DrillDeps => {
  const { region } = base.config;
  const caches = cacheDeps(base, env);
  return {
    ...base,
    // The restore task decides how the verifier logs in (a secret's ARN or an IAM user); only the
    // verifier, inside the drill VPC, reads a password or signs a token. The one exception is a cache's
    // AUTH token, which the restore must set on the copy (`auth: token`).
    restore: withCacheDrills(rdsRestorePort(region, rdsClient(region)), caches),
    ...(caches ? { caches } : {}),
    ...(Object.keys(base.config.drill.volumes).length ? { ebs: ebsDeps(region, env) } : {}),
    tokens: dynamoTokenStore(stateTableClient(region), env.DRILL_TABLE, base.now),
    signal: sfnTaskSignal(sfnClient(region)),
    executions: sfnExecutions(sfnClient(region)),
    reports: s3ReportStore(s3Client(region), env.REPORT_BUCKET, region, env.REPORT_KMS_KEY_ARN),
    runReports: s3RunReports(s3Client(region), env.REPORT_BUCKET, region),
    network: { dbSubnetGroupName: env.DRILL_SUBNET_GROUP, securityGroupIds: env.DRILL_SECURITY_GROUP_IDS },
  };
};

/**
 * Redis drills (`drill.caches`, when the stack gave the cache network): ElastiCache in the stage region.
 * Restores from the DR copy need the DR region's drill network, which no stack deploys yet: such a drill
 * fails at restore, naming it.
 */
const cacheDeps = (base: BaseDeps, env: DrillEnv): CacheDrillDeps | undefined => {
  if (!env.DRILL_CACHE_SUBNET_GROUP || !env.DRILL_CACHE_SECURITY_GROUP_IDS) return undefined;
  const { region, dr } = base.config;
  const fromDr = Object.values(base.config.drill.caches).some((c) => c.from === 'dr') && dr.region !== region;
  const tokens = Object.values(base.config.drill.caches).some((c) => c.auth === 'token');
  return {
    ...(tokens ? { secrets: secretsCacheLogins(secretsClient(region)) } : {}),
    primary: elastiCacheDrillPort(region, elastiCacheClient(region)),
    ...(fromDr ? { dr: elastiCacheDrillPort(dr.region, elastiCacheClient(dr.region)) } : {}),
    network: {
      cacheSubnetGroupName: env.DRILL_CACHE_SUBNET_GROUP,
      securityGroupIds: env.DRILL_CACHE_SECURITY_GROUP_IDS,
      ...(env.DRILL_CACHE_USER_GROUP ? { userGroupId: env.DRILL_CACHE_USER_GROUP } : {}),
    },
  };
};

/** EBS drills (`drill.volumes`): the sets and drill volumes through EC2 in the stage region. */
const ebsDeps = (region: string, env: DrillEnv): EbsDrillDeps => {
  const ec2 = ec2Client(region);
  return {
    sets: ec2SnapshotSets(region, ec2),
    volumes: ec2EbsDrillPort(region, ec2),
    ...(env.DRILL_EBS_AZ ? { availabilityZone: env.DRILL_EBS_AZ } : {}),
  };
};

let deps: DrillDeps | undefined;

export const handler = middy()
  .use(readableStacks())
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  // Where this invocation acts (a fan-out child's target, else this account-region), per invocation.
  .handler((event: unknown, context: Context) =>
    run(event, atPlace((deps ??= wire(wireBase())), event, context)),
  );
