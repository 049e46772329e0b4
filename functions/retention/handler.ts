import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { elastiCacheClient, rdsClient } from '../../shared/aws/clients.js';
import { awsSnapshotStore } from '../../shared/aws/snapshots.js';
import { logger, metrics } from '../../shared/observability.js';
import { retentionRegions } from '../../shared/retention/policy.js';
import type { SnapshotStore } from '../../shared/retention/ports.js';
import { parseRetentionRequest } from '../../shared/retention/request.js';
import { type RetentionResult, runRetention } from '../../shared/retention/service.js';
import { type BaseDeps, wireBase } from '../../shared/runtime.js';

export interface RetentionDeps extends BaseDeps {
  /** The primary region's store, then the DR region's when retention sweeps it. */
  stores: SnapshotStore[];
}

/** Parse the trigger and run retention; malformed events throw EventShapeError before anything is listed. */
export const run = async (event: unknown, deps: RetentionDeps): Promise<RetentionResult> =>
  runRetention(deps, parseRetentionRequest(event));

/** Real deps: one snapshot store per swept region, over the per-region SDK clients. */
export const wire = (base: BaseDeps): RetentionDeps => ({
  ...base,
  stores: retentionRegions(base.config).map((region) =>
    awsSnapshotStore(region, rdsClient(region), elastiCacheClient(region)),
  ),
});

let deps: RetentionDeps | undefined;

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .handler((event: unknown) => run(event, (deps ??= wire(wireBase()))));
