import {
  DescribeServerlessCacheSnapshotsCommand,
  DescribeServerlessCachesCommand,
  type ElastiCacheClient,
} from '@aws-sdk/client-elasticache';
import type { AwsClientStub } from 'aws-sdk-client-mock';

/**
 * An ElastiCache mock's region has no serverless cache and no serverless cache snapshot (DescribeServerlessCaches
 * and DescribeServerlessCacheSnapshots answer empty): steward lists both wherever it lists replication groups
 * and their backups, and an unstubbed call of aws-sdk-client-mock answers nothing at all. Call it after each
 * reset of the mock, as the mock's other answers are set.
 */
export const noServerlessCaches = (ec: AwsClientStub<ElastiCacheClient>): void => {
  ec.on(DescribeServerlessCachesCommand).resolves({ ServerlessCaches: [] });
  ec.on(DescribeServerlessCacheSnapshotsCommand).resolves({ ServerlessCacheSnapshots: [] });
};
