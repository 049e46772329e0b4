import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baselineSource,
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
      { service: 'rds', op: 'DescribeDBSnapshots' },
      { service: 'dynamodb', op: 'GetItem' },
      { service: 's3', op: 'PutObject' },
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
});
