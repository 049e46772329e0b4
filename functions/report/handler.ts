import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { elastiCacheClient } from '../../shared/aws/clients/elasticache.js';
import { rdsClient } from '../../shared/aws/clients/rds.js';
import { s3Client } from '../../shared/aws/clients/s3.js';
import { ebsLazily } from '../../shared/aws/ebs-lazily.js';
import { stateTableClient } from '../../shared/aws/state-table-client.js';
import { awsEstateReader, dynamoScalingReader, s3History } from '../../shared/aws/estate.js';
import { backsUpEbs } from '../../shared/backup/kinds.js';
import { loadEnv } from '../../shared/config/env.js';
import type { StewardConfig } from '../../shared/config/schema.js';
import { injectLambdaContext, logger, logMetrics, metrics } from '../../shared/observability.js';
import { readableStacks } from '../../shared/stack-traces.js';
import { ReportEnv } from '../../shared/report/env.js';
import type { EvidenceDeps } from '../../shared/report/monthly.js';
import { parseReportRequest } from '../../shared/report/request.js';
import { type ReportDeps, type ReportResult, runReport } from '../../shared/report/service.js';
import { atPlace, type BaseDeps, wireBase } from '../../shared/runtime.js';

export type { ReportDeps, ReportResult };

/** The monthly evidence report or the status check; a malformed event throws EventShapeError first. */
export const run = async (event: unknown, deps: ReportDeps): Promise<ReportResult> =>
  runReport(parseReportRequest(event), deps);

/** What the scaling rules act on, so approvals and cooldowns land on their database. */
export const ruleResources = (config: StewardConfig) =>
  Object.fromEntries(
    Object.entries(config.scaling.rules).map(([name, r]) => [name, { resource: r.resource, kind: r.kind }]),
  );

/**
 * The estate in AWS: the stage region's databases and snapshots, the DR region's snapshots, the report
 * bucket and (when given) the state table. The CLI wires `steward status` and `steward report` with it too.
 */
export const awsEstate = (
  config: StewardConfig,
  bucket: string,
  stateTable: string | undefined,
  now: () => Date,
  notes: string[] = [],
): EvidenceDeps => {
  const { region, dr } = config;
  // EC2 instances, volumes and EBS sets are read only when a policy backs EBS up; the EBS adapter and EC2's
  // client are loaded by the first read, so a stage that backs no EBS up never parses them.
  const ebsIn = (r: string) => (backsUpEbs(config) ? ebsLazily(r) : undefined);
  return {
    config,
    primary: awsEstateReader(region, rdsClient(region), elastiCacheClient(region), ebsIn(region)),
    dr: awsEstateReader(dr.region, rdsClient(dr.region), elastiCacheClient(dr.region), ebsIn(dr.region)),
    history: s3History(s3Client(region), bucket, region),
    ...(stateTable
      ? { scaling: dynamoScalingReader(stateTableClient(region), stateTable, ruleResources(config), now) }
      : {}),
    now,
    notes,
  };
};

/** Real deps from the function's environment. */
export const wire = (base: BaseDeps, env: ReportEnv = loadEnv(ReportEnv)): ReportDeps => ({
  ...base,
  estate: awsEstate(base.config, env.REPORT_BUCKET, env.STATE_TABLE, base.now),
});

let deps: ReportDeps | undefined;

export const handler = middy()
  .use(readableStacks())
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics))
  // Where this invocation acts (a fan-out child's target, else this account-region), per invocation.
  .handler((event: unknown, context: Context) =>
    run(event, atPlace((deps ??= wire(wireBase())), event, context)),
  );
