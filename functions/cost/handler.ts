import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { dynamoAlertLedger } from '../../shared/aws/alert-ledger.js';
import { costExplorerClient } from '../../shared/aws/clients/cost-explorer.js';
import { s3Client } from '../../shared/aws/clients/s3.js';
import { stateTableClient } from '../../shared/aws/state-table-client.js';
import { costExplorerSource } from '../../shared/aws/cost-explorer.js';
import { s3RunReports } from '../../shared/aws/run-reports.js';
import { loadEnv } from '../../shared/config/env.js';
import { CostEnv } from '../../shared/cost/env.js';
import { parseCostTrigger } from '../../shared/cost/request.js';
import { type CostResult, type CostServiceDeps, runCost } from '../../shared/cost/service.js';
import { injectLambdaContext, logger, logMetrics, metrics } from '../../shared/observability.js';
import { readableStacks } from '../../shared/stack-traces.js';
import { atPlace, type BaseDeps, wireBase } from '../../shared/runtime.js';

export type CostDeps = CostServiceDeps;

/**
 * A scheduled/on-demand check (`{"action":"cost-check"}`) or a Cost Anomaly Detection event (EventBridge or
 * SNS-wrapped). A malformed trigger throws EventShapeError before anything is read or sent.
 */
export const run = async (event: unknown, deps: CostDeps): Promise<CostResult> =>
  runCost(deps, parseCostTrigger(event));

/**
 * Real deps: Cost Explorer in us-east-1 (a fresh request counter per container is fine: the service counts
 * per run by difference), the ledger in the stage's state table, each delivery's full report in the report
 * bucket when the stage has one.
 */
export const wire = (base: BaseDeps, env: CostEnv = loadEnv(CostEnv)): CostDeps => ({
  ...base,
  source: costExplorerSource(costExplorerClient()),
  ledger: dynamoAlertLedger(stateTableClient(base.config.region), env.STATE_TABLE, base.now),
  ...(env.REPORT_BUCKET
    ? { reports: s3RunReports(s3Client(base.config.region), env.REPORT_BUCKET, base.config.region) }
    : {}),
});

let deps: CostDeps | undefined;

export const handler = middy()
  .use(readableStacks())
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  // Where this invocation acts (a fan-out child's target, else this account-region), per invocation.
  .handler((event: unknown, context: Context) =>
    run(event, atPlace((deps ??= wire(wireBase())), event, context)),
  );
