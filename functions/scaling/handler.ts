import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { cloudWatchClient, elastiCacheClient, rdsClient, s3Client } from '../../shared/aws/clients.js';
import { s3RunReports } from '../../shared/aws/run-reports.js';
import { stateTableClient } from '../../shared/aws/state-table-client.js';
import { cloudWatchAlarms } from '../../shared/aws/cloudwatch-alarms.js';
import { elastiCacheScaling } from '../../shared/aws/elasticache-scaling.js';
import { rdsScaling } from '../../shared/aws/rds-scaling.js';
import { awsScalingResources } from '../../shared/aws/scaling-resources.js';
import { dynamoScalingStore } from '../../shared/aws/scaling-store.js';
import { loadEnv } from '../../shared/config/env.js';
import { injectLambdaContext, logger, logMetrics, metrics } from '../../shared/observability.js';
import { readableStacks } from '../../shared/stack-traces.js';
import { atPlace, type BaseDeps, wireBase } from '../../shared/runtime.js';
import { ScalingEnv } from '../../shared/scaling/env.js';
import { parseScalingRequest } from '../../shared/scaling/request.js';
import { runScaling, type ScalingDeps, type ScalingResult } from '../../shared/scaling/service.js';

export type { ScalingDeps, ScalingResult };

/**
 * An EventBridge alarm state or configuration change, a CloudWatch Lambda alarm action, an SNS-delivered
 * alarm notification, an RDS failover event, or a direct payload (`run-playbook`, `approve`,
 * `scale-in-check`). Unknown alarms and malformed events throw before anything is read or changed.
 */
export const run = async (event: unknown, deps: ScalingDeps): Promise<ScalingResult> =>
  runScaling(parseScalingRequest(event, deps.config.scaling, deps.now()), deps);

/**
 * Real adapters for `config.region`; the state table comes from the environment, and the report bucket,
 * when the stage has one, keeps the full report of a run that summarises many decisions.
 */
export const wire = (
  base: BaseDeps,
  env: Pick<ScalingEnv, 'STATE_TABLE' | 'REPORT_BUCKET'> = loadEnv(ScalingEnv),
): ScalingDeps => {
  const { region } = base.config;
  return {
    ...base,
    resources: awsScalingResources(
      rdsScaling(region, rdsClient(region)),
      elastiCacheScaling(region, elastiCacheClient(region)),
    ),
    state: dynamoScalingStore(stateTableClient(region), env.STATE_TABLE, base.now),
    alarms: cloudWatchAlarms(cloudWatchClient(region), region),
    ...(env.REPORT_BUCKET ? { reports: s3RunReports(s3Client(region), env.REPORT_BUCKET, region) } : {}),
  };
};

let deps: ScalingDeps | undefined;

export const handler = middy()
  .use(readableStacks())
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  // Where this invocation acts (a fan-out child's target, else this account-region), per invocation.
  .handler((event: unknown, context: Context) =>
    run(event, atPlace((deps ??= wire(wireBase())), event, context)),
  );
