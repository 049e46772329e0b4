import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { rdsClient } from '../../shared/aws/clients/rds.js';
import { s3Client } from '../../shared/aws/clients/s3.js';
import { sfnClient } from '../../shared/aws/clients/sfn.js';
import {
  dynamoCopyDeletionLedger,
  dynamoSentAlerts,
  dynamoTokenStore,
  s3ReportStore,
} from '../../shared/aws/drill-stores.js';
import { rdsRestorePort } from '../../shared/aws/rds-restore.js';
import { s3RunReports } from '../../shared/aws/run-reports.js';
import { sfnExecutions, sfnTaskSignal } from '../../shared/aws/sfn.js';
import { stateTableClient } from '../../shared/aws/state-table-client.js';
import { loadEnv } from '../../shared/config/env.js';
import { DrillEnv } from '../../shared/drill/env.js';
import { type DrillDeps, runDrillControl } from '../../shared/drill/tasks.js';
import { injectLambdaContext, logger, logMetrics, metrics } from '../../shared/observability.js';
import { once } from '../../shared/once.js';
import { readableStacks } from '../../shared/stack-traces.js';
import { atPlace, type BaseDeps, wireBase } from '../../shared/runtime.js';

export type { DrillDeps };

/**
 * A drill task (all but verify), an RDS event about a drill resource, a Step Functions status change of a
 * drill execution, or `{ "action": "janitor" }`.
 */
export const run = (event: unknown, deps: DrillDeps) => runDrillControl(event, deps);

/**
 * Real adapters for `config.region`; the network and stores come from the function's environment. The
 * adapters only some tasks use (Redis, EBS, the vault, endpoints: ./adapters.ts) are loaded and built when
 * a task first needs them, once per container.
 */
export const wire = (
  base: BaseDeps,
  env: DrillEnv = loadEnv(DrillEnv),
  raw: Record<string, string | undefined> = process.env,
): DrillDeps => {
  const { region } = base.config;
  // The restore task decides how the verifier logs in (a secret's ARN or an IAM user); only the
  // verifier, inside the drill VPC, reads a password or signs a token. The one exception is a cache's
  // AUTH token, which the restore must set on the copy (`auth: token`).
  const restore = rdsRestorePort(region, rdsClient(region));
  return {
    ...base,
    restore,
    tokens: dynamoTokenStore(stateTableClient(region), env.DRILL_TABLE, base.now),
    signal: sfnTaskSignal(sfnClient(region)),
    executions: sfnExecutions(sfnClient(region)),
    alerts: dynamoSentAlerts(stateTableClient(region), env.DRILL_TABLE, base.now),
    deletions: dynamoCopyDeletionLedger(stateTableClient(region), env.DRILL_TABLE),
    reports: s3ReportStore(s3Client(region), env.REPORT_BUCKET, region, env.REPORT_KMS_KEY_ARN),
    runReports: s3RunReports(s3Client(region), env.REPORT_BUCKET, region),
    network: { dbSubnetGroupName: env.DRILL_SUBNET_GROUP, securityGroupIds: env.DRILL_SECURITY_GROUP_IDS },
    // A failed load is not kept: the next task tries again (shared/once.ts).
    adapters: once(async () => (await import('./adapters.js')).lateAdapters(base, env, raw, restore)),
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
