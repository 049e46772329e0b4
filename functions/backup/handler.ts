import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { awsBackupPort, awsCopyPort } from '../../shared/aws/backup-ports.js';
import { elastiCacheClient, rdsClient } from '../../shared/aws/clients.js';
import { elastiCacheBackup } from '../../shared/aws/elasticache.js';
import { rdsBackup } from '../../shared/aws/rds.js';
import { awsSnapshotStore } from '../../shared/aws/snapshots.js';
import { type Invocation, parseBackupRequest } from '../../shared/backup/request.js';
import { type BackupDeps, type BackupResult, runBackup } from '../../shared/backup/service.js';
import { logger, metrics } from '../../shared/observability.js';
import { type BaseDeps, wireBase } from '../../shared/runtime.js';

export type { BackupDeps, BackupResult };

/**
 * Parse any backup trigger and run it; dry run = the deps' forced flag or the request's. The invocation's
 * request id names an ad-hoc snapshot that carries neither a client token nor a requested time.
 */
export const run = async (event: unknown, deps: BackupDeps, invocation?: Invocation): Promise<BackupResult> =>
  runBackup(parseBackupRequest(event, deps.config.backup, invocation), deps);

/** Real adapters for `config.region` and, for copies, `config.dr.region`. */
export const wire = (base: BaseDeps): BackupDeps => {
  const { region, dr } = base.config;
  const rds = rdsClient(region);
  const cache = elastiCacheClient(region);
  const drRds = rdsClient(dr.region);
  return {
    ...base,
    primary: awsBackupPort(rdsBackup(region, rds), elastiCacheBackup(region, cache)),
    // The copy is requested in the destination region; the SDK presigns the source-region half.
    dr: awsCopyPort(rdsBackup(dr.region, drRds)),
    snapshots: {
      primary: awsSnapshotStore(region, rds, cache),
      dr: awsSnapshotStore(dr.region, drRds, elastiCacheClient(dr.region)),
    },
  };
};

let deps: BackupDeps | undefined;

export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }))
  .handler((event: unknown, context: Context) =>
    run(event, (deps ??= wire(wireBase())), { requestId: context.awsRequestId }),
  );
