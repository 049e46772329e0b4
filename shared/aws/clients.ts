import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { RDSClient } from '@aws-sdk/client-rds';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

// Every SDK client steward uses is built here, once per container: one place for retries and timeouts.
// Endpoint and credentials come from the environment (AWS_PROFILE, AWS_ENDPOINT_URL, the Lambda role).

// Adaptive retry backs off client-side when RDS throttles (~12 req/s sustained per account-region);
// 5 attempts rides out bursts that the standard 3 would surface as failures.
const retry = { retryMode: 'adaptive', maxAttempts: 5 } as const;

const cache = new Map<string, unknown>();
const memo = <T>(key: string, make: () => T): T => {
  if (!cache.has(key)) cache.set(key, make());
  return cache.get(key) as T;
};

/** One RDS client per region per container. */
export const rdsClient = (region: string): RDSClient =>
  memo(`rds:${region}`, () => new RDSClient({ region, ...retry }));

/** One ElastiCache client per region per container. */
export const elastiCacheClient = (region: string): ElastiCacheClient =>
  memo(`elasticache:${region}`, () => new ElastiCacheClient({ region, ...retry }));

/** One SNS client per region per container. */
export const snsClient = (region: string): SNSClient =>
  memo(`sns:${region}`, () => new SNSClient({ region }));

/** The state table's document client (plain JS values in and out) per region per container. */
export const stateTableClient = (region: string): DynamoDBDocumentClient =>
  memo(`dynamodb:${region}`, () => DynamoDBDocumentClient.from(new DynamoDBClient({ region })));

/** One S3 client per region per container (drill reports and baselines). */
export const s3Client = (region: string): S3Client => memo(`s3:${region}`, () => new S3Client({ region }));

/** One Step Functions client per region per container (task tokens, the drill CLI). */
export const sfnClient = (region: string): SFNClient =>
  memo(`sfn:${region}`, () => new SFNClient({ region }));

/** One Secrets Manager client per region per container (drill credentials). */
export const secretsClient = (region: string): SecretsManagerClient =>
  memo(`secretsmanager:${region}`, () => new SecretsManagerClient({ region }));

/** Cost Explorer is served from us-east-1 only, whatever the stage's region. */
export const COST_EXPLORER_REGION = 'us-east-1';

/**
 * One Cost Explorer client per container, pinned to us-east-1. No SDK retries: every attempt is a billed
 * request ($0.01), so the adapter retries itself, with backoff, and counts each attempt.
 */
export const costExplorerClient = (): CostExplorerClient =>
  memo('ce', () => new CostExplorerClient({ region: COST_EXPLORER_REGION, maxAttempts: 1 }));
