import { GetCostAndUsageCommand } from '@aws-sdk/client-cost-explorer';
import { DescribeReplicationGroupsCommand } from '@aws-sdk/client-elasticache';
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costExplorerClient } from '../../../shared/aws/clients/cost-explorer.js';
import { elastiCacheClient } from '../../../shared/aws/clients/elasticache.js';
import { type ClientOptions, DEFAULT_TIMEOUTS } from '../../../shared/aws/clients/kit.js';
import { rdsClient } from '../../../shared/aws/clients/rds.js';
import { s3Client } from '../../../shared/aws/clients/s3.js';
import { secretsClient } from '../../../shared/aws/clients/secrets-manager.js';
import { sfnClient } from '../../../shared/aws/clients/sfn.js';
import { snsClient } from '../../../shared/aws/clients/sns.js';
import { stateTableClient } from '../../../shared/aws/state-table-client.js';
import { awsSnapshotStore } from '../../../shared/aws/snapshots.js';
import { errorName } from '../../../shared/errors.js';

// A server that accepts every connection and never answers: the hung connection a Lambda must not wait on
// until its own timeout. Only this file's process points the SDK at it.
let server: Server;
const sockets = new Set<Socket>();
const saved = { ...process.env };
const REGION = 'eu-west-1';
// Short bounds so the test is quick; the shipped defaults are asserted separately.
const fast: ClientOptions = { connectionTimeoutMs: 200, requestTimeoutMs: 300 };

beforeAll(async () => {
  server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  });
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
  process.env = saved;
});

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'answered',
    (e: unknown) => errorName(e),
  );

describe('every SDK client from the factory', () => {
  it('gives up on a hung connection with a TimeoutError instead of waiting for the Lambda timeout', async () => {
    // Act
    const results = await Promise.all([
      outcome(rdsClient(REGION, fast).send(new DescribeDBInstancesCommand({}))),
      outcome(elastiCacheClient(REGION, fast).send(new DescribeReplicationGroupsCommand({}))),
      outcome(snsClient(REGION, fast).send(new PublishCommand({ TopicArn: 'arn:t', Message: 'm' }))),
      outcome(stateTableClient(REGION, fast).send(new GetCommand({ TableName: 't', Key: { pk: 'k' } }))),
      outcome(s3Client(REGION, fast).send(new GetObjectCommand({ Bucket: 'b', Key: 'k' }))),
      outcome(sfnClient(REGION, fast).send(new SendTaskSuccessCommand({ taskToken: 't', output: '{}' }))),
      outcome(secretsClient(REGION, fast).send(new GetSecretValueCommand({ SecretId: 's' }))),
      outcome(
        costExplorerClient(fast).send(
          new GetCostAndUsageCommand({
            TimePeriod: { Start: '2026-11-01', End: '2026-11-02' },
            Granularity: 'DAILY',
            Metrics: ['UnblendedCost'],
          }),
        ),
      ),
    ]);

    // Assert
    expect(results).toEqual(Array(8).fill('TimeoutError'));
  }, 30_000);

  it('ships bounded timeouts that leave room for every Cost Explorer retry inside the 2-minute cost function', () => {
    // Assert: 4 attempts (the adapter's own retries, 1 + 2 + 4 s of backoff) per request, under 120 s.
    expect(DEFAULT_TIMEOUTS.connectionTimeoutMs).toBeGreaterThan(0);
    expect(DEFAULT_TIMEOUTS.requestTimeoutMs).toBeGreaterThan(0);
    expect(
      4 * (DEFAULT_TIMEOUTS.connectionTimeoutMs + DEFAULT_TIMEOUTS.requestTimeoutMs) + 7_000,
    ).toBeLessThan(120_000);
  });

  it('reports a timeout through an adapter like any other failure: AwsCallError naming the call', async () => {
    // Prepare
    const store = awsSnapshotStore(REGION, rdsClient(REGION, fast), elastiCacheClient(REGION, fast));

    // Act
    const { snapshots, failures } = await store.list(['rds-instance']);

    // Assert
    expect(snapshots).toEqual([]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      resource: 'rds-instance snapshots in eu-west-1',
      code: 'TimeoutError',
    });
    expect(failures[0]!.cause).toMatchObject({ name: 'AwsCallError', operation: 'DescribeDBSnapshots' });
  }, 30_000);
});
