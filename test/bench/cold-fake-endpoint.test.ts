import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DescribeSnapshotsCommand as DescribeEbsSnapshots, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeSnapshotsCommand as DescribeCacheSnapshots,
  ElastiCacheClient,
} from '@aws-sdk/client-elasticache';
import {
  CreateDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baselineSource,
  replayInput,
  requestOf,
  sdkSurvivors,
  survivingCommands,
  survivingInputs,
} from '../../bench/cold/baselines.js';
import type { Metafile } from '../../bench/cold/deployed.js';
import { startFakeEndpoint } from '../../bench/cold/fake-endpoint.js';

describe('the cold-start fake endpoint', () => {
  let fake: Awaited<ReturnType<typeof startFakeEndpoint>>;
  beforeAll(async () => {
    fake = await startFakeEndpoint();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('answers the query, JSON and REST protocols over real HTTP and records each operation', async () => {
    // Prepare
    const options = {
      region: 'eu-west-1',
      endpoint: fake.url,
      credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
      maxAttempts: 1,
    };

    // Act
    const rds = await new RDSClient(options).send(new DescribeDBSnapshotsCommand({}));
    const ddb = await new DynamoDBClient(options).send(new GetItemCommand({ TableName: 't', Key: {} }));
    await new S3Client({ ...options, forcePathStyle: true }).send(
      new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'x' }),
    );

    // Assert
    expect(rds.DBSnapshots ?? []).toEqual([]);
    expect(ddb.Item).toBeUndefined();
    expect(fake.calls).toEqual([
      { service: 'rds', op: 'DescribeDBSnapshots', region: 'eu-west-1', input: {} },
      { service: 'dynamodb', op: 'GetItem', region: 'eu-west-1', input: { TableName: 't', Key: {} } },
      // An S3 request's input is read back from its path, headers (the SDK's default content type) and body.
      {
        service: 's3',
        op: 'PutObject',
        region: 'eu-west-1',
        input: { Bucket: 'b', Key: 'k', Body: 'x', ContentType: 'application/octet-stream' },
      },
    ]);
  });

  it('answers a query operation with the body set for it, parsed by the real SDK', async () => {
    // Prepare
    fake.calls.length = 0;
    fake.answers.DescribeDBSnapshots = () =>
      '<DBSnapshots><DBSnapshot><DBSnapshotIdentifier>snap-1</DBSnapshotIdentifier>' +
      '<Status>available</Status></DBSnapshot></DBSnapshots>';
    const rds = new RDSClient({
      region: 'eu-west-1',
      endpoint: fake.url,
      credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
      maxAttempts: 1,
    });

    // Act
    const r = await rds.send(new DescribeDBSnapshotsCommand({}));
    delete fake.answers.DescribeDBSnapshots;
    const empty = await rds.send(new DescribeDBSnapshotsCommand({}));

    // Assert
    expect(r.DBSnapshots).toEqual([{ DBSnapshotIdentifier: 'snap-1', Status: 'available' }]);
    expect(empty.DBSnapshots ?? []).toEqual([]);
  });
});

describe('a baseline bundle', () => {
  // Inside the repository (its own temp dir under the gitignored .bench/), so the SDK resolves from node_modules.
  mkdirSync(resolve('.bench'), { recursive: true });
  const dir = mkdtempSync(join(resolve('.bench'), 'test-baseline-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps exactly the SDK commands it was written from (the fairness check round-trips)', async () => {
    // Prepare: what a function's metafile says survives.
    const rds = 'node_modules/@aws-sdk/client-rds/dist-es';
    const wanted = sdkSurvivors([
      `${rds}/RDSClient.js`,
      `${rds}/commands/DescribeDBSnapshotsCommand.js`,
      `${rds}/commands/DeleteDBSnapshotCommand.js`,
    ]);
    const entry = join(dir, 'baseline.mjs');
    writeFileSync(entry, baselineSource(wanted));

    // Act
    const r = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      // As infra bundles (ESM first): the SDK's per-command modules, which the metafile names one by one.
      mainFields: ['module', 'main'],
      minify: true,
      outfile: join(dir, 'index.mjs'),
      metafile: true,
      logLevel: 'silent',
    });

    // Assert
    const kept = sdkSurvivors(survivingInputs(r.metafile as Metafile));
    expect(survivingCommands(kept)).toEqual(survivingCommands(wanted));
    expect(readFileSync(join(dir, 'index.mjs'), 'utf8')).toContain('DescribeDBSnapshots');
  });

  it('sends each recorded request to its own service, where two clients share the operation name', async () => {
    // Prepare: EC2 and ElastiCache both name an operation DescribeSnapshots (the retention and report
    // functions list both); EC2 comes first in the survivors, as it may in a function's metafile.
    const ec2 = 'node_modules/@aws-sdk/client-ec2/dist-es';
    const cache = 'node_modules/@aws-sdk/client-elasticache/dist-es';
    const entry = join(dir, 'shared-names.mjs');
    writeFileSync(
      entry,
      baselineSource(
        sdkSurvivors([
          `${ec2}/EC2Client.js`,
          `${ec2}/commands/DescribeSnapshotsCommand.js`,
          `${cache}/ElastiCacheClient.js`,
          `${cache}/commands/DescribeSnapshotsCommand.js`,
        ]),
      ),
    );
    const fake = await startFakeEndpoint();
    const options = (region: string) => ({
      region,
      endpoint: fake.url,
      credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
      maxAttempts: 1,
    });
    try {
      // What a function's first invoke sent: cache snapshots here and in the DR region, EBS snapshots there.
      await new ElastiCacheClient(options('eu-west-1')).send(new DescribeCacheSnapshots({}));
      await new EC2Client(options('us-west-2')).send(new DescribeEbsSnapshots({}));
      await new ElastiCacheClient(options('us-west-2')).send(new DescribeCacheSnapshots({}));
      const sent = fake.calls.splice(0);
      const event = join(dir, 'shared-names-event.json');
      writeFileSync(event, JSON.stringify({ calls: sent.map(requestOf) }));

      // Act: the baseline's first invoke in a fresh process, as the bench runs it.
      await promisify(execFile)(process.execPath, [resolve('bench/cold/harness.mjs'), entry, event], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'AKIDBENCH',
          AWS_SECRET_ACCESS_KEY: 'bench',
          AWS_ENDPOINT_URL: fake.url,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      });

      // Assert
      expect(fake.calls.map(requestOf)).toEqual([
        'elasticache:DescribeSnapshots@eu-west-1',
        'ec2:DescribeSnapshots@us-west-2',
        'elasticache:DescribeSnapshots@us-west-2',
      ]);
      expect(fake.calls).toEqual(sent);
    } finally {
      await fake.close();
    }
  });

  it("replays each request with steward's input: the same bodies, a DynamoDB one through the document client", async () => {
    // Prepare: what scaling's acting alarm sends (a document-client write, an RDS change, an SNS message with
    // attributes); its bundle keeps the document client's command and the DynamoDB command it wraps.
    const ddb = 'node_modules/@aws-sdk/client-dynamodb/dist-es';
    const doc = 'node_modules/@aws-sdk/lib-dynamodb/dist-es';
    const rds = 'node_modules/@aws-sdk/client-rds/dist-es';
    const sns = 'node_modules/@aws-sdk/client-sns/dist-es';
    const entry = join(dir, 'inputs.mjs');
    writeFileSync(
      entry,
      baselineSource(
        sdkSurvivors([
          `${ddb}/DynamoDBClient.js`,
          `${ddb}/commands/PutItemCommand.js`,
          `${doc}/DynamoDBDocumentClient.js`,
          `${doc}/commands/PutCommand.js`,
          `${rds}/RDSClient.js`,
          `${rds}/commands/ModifyDBInstanceCommand.js`,
          `${sns}/SNSClient.js`,
          `${sns}/commands/PublishCommand.js`,
        ]),
      ),
    );
    const fake = await startFakeEndpoint();
    const options = {
      region: 'eu-west-1',
      endpoint: fake.url,
      credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
      maxAttempts: 1,
    };
    try {
      await DynamoDBDocumentClient.from(new DynamoDBClient(options)).send(
        new PutCommand({
          TableName: 'state',
          Item: { pk: 'scaling-seen#a', ttl: 1796364113, announced: false, outcome: { n: [1, 'x'] } },
          ConditionExpression: 'attribute_not_exists(#pk) OR #ttl <= :now',
          ExpressionAttributeNames: { '#pk': 'pk', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': 1796191313 },
        }),
      );
      await new RDSClient(options).send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: 'orders-db',
          DBInstanceClass: 'db.r6g.xlarge',
          ApplyImmediately: true,
        }),
      );
      await new SNSClient(options).send(
        new PublishCommand({
          TopicArn: 'arn:aws:sns:eu-west-1:111122223333:t',
          Subject: 'scaled',
          Message: '{"default":"orders-db → xlarge"}',
          MessageStructure: 'json',
          MessageAttributes: {
            severity: { DataType: 'String', StringValue: 'warning' },
            capability: { DataType: 'String', StringValue: 'scaling' },
          },
        }),
      );
      const sent = fake.calls.splice(0);
      const event = join(dir, 'inputs-event.json');
      writeFileSync(event, JSON.stringify({ calls: sent.map(requestOf), inputs: sent.map(replayInput) }));

      // Act: the baseline's first invoke in a fresh process, as the bench runs it.
      await promisify(execFile)(process.execPath, [resolve('bench/cold/harness.mjs'), entry, event], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'AKIDBENCH',
          AWS_SECRET_ACCESS_KEY: 'bench',
          AWS_ENDPOINT_URL: fake.url,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      });

      // Assert: the same requests with the same inputs (the item in DynamoDB's wire form: marshalled again).
      expect(sent.map((c) => c.input)).toEqual([
        expect.objectContaining({ Item: expect.objectContaining({ ttl: { N: '1796364113' } }) }),
        expect.objectContaining({ ApplyImmediately: 'true' }),
        expect.objectContaining({
          MessageAttributes: expect.objectContaining({ severity: expect.anything() }),
        }),
      ]);
      expect(fake.calls).toEqual(sent);
    } finally {
      await fake.close();
    }
  });
  it("replays a tagged RDS snapshot and S3 puts and listings with steward's input, not a stand-in", async () => {
    // Prepare: what backup's scheduled run sends among others: a snapshot with its tags (RDS writes them as
    // `Tags.Tag.1.Key`), its run report (a JSON put) and the Redis DR listings (a prefix).
    const rds = 'node_modules/@aws-sdk/client-rds/dist-es';
    const s3 = 'node_modules/@aws-sdk/client-s3/dist-es';
    const entry = join(dir, 'rest-inputs.mjs');
    writeFileSync(
      entry,
      baselineSource(
        sdkSurvivors([
          `${rds}/RDSClient.js`,
          `${rds}/commands/CreateDBSnapshotCommand.js`,
          `${s3}/S3Client.js`,
          `${s3}/commands/ListObjectsV2Command.js`,
          `${s3}/commands/PutObjectCommand.js`,
        ]),
      ),
    );
    const fake = await startFakeEndpoint();
    const options = {
      region: 'eu-west-1',
      endpoint: fake.url,
      credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench' },
      maxAttempts: 1,
    };
    try {
      await new RDSClient(options).send(
        new CreateDBSnapshotCommand({
          DBSnapshotIdentifier: 'steward-orders-db-202601150300-sched',
          DBInstanceIdentifier: 'orders-db',
          Tags: [
            { Key: 'steward:managed', Value: 'true' },
            { Key: 'steward:policy', Value: 'daily' },
          ],
        }),
      );
      const objects = new S3Client(options);
      await objects.send(
        new ListObjectsV2Command({ Bucket: 'dr-bucket', Prefix: 'rdb/eu-west-1/', MaxKeys: 1000 }),
      );
      await objects.send(
        new PutObjectCommand({
          Bucket: 'reports',
          Key: 'runs/backup/2026-01-15/run 1.json',
          Body: '{"created":1}',
          ContentType: 'application/json',
          ServerSideEncryption: 'AES256',
          Metadata: { run: 'daily' },
        }),
      );
      const sent = fake.calls.splice(0);
      const event = join(dir, 'rest-inputs-event.json');
      writeFileSync(event, JSON.stringify({ calls: sent.map(requestOf), inputs: sent.map(replayInput) }));

      // Act: the baseline's first invoke in a fresh process, as the bench runs it.
      await promisify(execFile)(process.execPath, [resolve('bench/cold/harness.mjs'), entry, event], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'AKIDBENCH',
          AWS_SECRET_ACCESS_KEY: 'bench',
          AWS_ENDPOINT_URL: fake.url,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      });

      // Assert: every input recorded in its command's shape, and the baseline sends the same bodies.
      expect(sent.map((c) => c.input)).toEqual([
        expect.objectContaining({
          Tags: [
            { Key: 'steward:managed', Value: 'true' },
            { Key: 'steward:policy', Value: 'daily' },
          ],
        }),
        { Bucket: 'dr-bucket', Prefix: 'rdb/eu-west-1/', MaxKeys: 1000 },
        {
          Bucket: 'reports',
          Key: 'runs/backup/2026-01-15/run 1.json',
          Body: '{"created":1}',
          ContentType: 'application/json',
          ServerSideEncryption: 'AES256',
          Metadata: { run: 'daily' },
        },
      ]);
      expect(fake.calls).toEqual(sent);
    } finally {
      await fake.close();
    }
  });
});
