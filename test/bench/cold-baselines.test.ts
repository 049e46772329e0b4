import { describe, expect, it } from 'vitest';
import {
  baselineSource,
  weightSource,
  firstDifference,
  frameworkUse,
  pgModules,
  pgUse,
  sdkSurvivors,
  survivingCommands,
  survivingInputs,
} from '../../bench/cold/baselines.js';
import { resolveValue } from '../../bench/cold/deployed.js';
import { pairedRatio } from '../../bench/stats.js';

const rds = 'node_modules/@aws-sdk/client-rds/dist-es';
const meta = (kept: string[], shaken: string[]) => ({
  inputs: {},
  outputs: {
    'index.mjs': {
      bytes: 1,
      inputs: Object.fromEntries([
        ...kept.map((f) => [f, { bytesInOutput: 10 }]),
        ...shaken.map((f) => [f, { bytesInOutput: 0 }]),
      ]),
    },
    'index.mjs.map': { bytes: 1, inputs: {} },
  },
});

describe('fair baselines from the metafile', () => {
  it('keeps only the SDK modules that contribute bytes to the bundle', () => {
    // Prepare
    const m = meta(
      [
        `${rds}/RDSClient.js`,
        `${rds}/commands/DescribeDBSnapshotsCommand.js`,
        `${rds}/pagination/DescribeDBSnapshotsPaginator.js`,
      ],
      // Loaded by esbuild but tree-shaken: a client the function never ships.
      [
        'node_modules/@aws-sdk/client-elasticache/dist-es/ElastiCacheClient.js',
        `${rds}/commands/DeleteDBSnapshotCommand.js`,
      ],
    );

    // Act
    const s = sdkSurvivors(survivingInputs(m));

    // Assert
    expect([...s.keys()]).toEqual(['@aws-sdk/client-rds']);
    expect([...s.get('@aws-sdk/client-rds')!].sort()).toEqual([
      'DescribeDBSnapshotsCommand',
      'RDSClient',
      'paginateDescribeDBSnapshots',
    ]);
    expect(survivingCommands(s)).toEqual(['@aws-sdk/client-rds/DescribeDBSnapshotsCommand']);
  });

  it('names the document client, its commands and the RDS signer', () => {
    const s = sdkSurvivors([
      'node_modules/@aws-sdk/lib-dynamodb/dist-es/DynamoDBDocumentClient.js',
      'node_modules/@aws-sdk/lib-dynamodb/dist-es/commands/GetCommand.js',
      'node_modules/@aws-sdk/rds-signer/dist-es/Signer.js',
      'node_modules/@aws-sdk/client-rds/dist-es/waiters/waitForDBInstanceAvailable.js',
    ]);
    expect([...s.get('@aws-sdk/lib-dynamodb')!].sort()).toEqual(['DynamoDBDocumentClient', 'GetCommand']);
    expect([...s.get('@aws-sdk/rds-signer')!]).toEqual(['Signer']);
    expect([...s.get('@aws-sdk/client-rds')!]).toEqual(['waitUntilDBInstanceAvailable']);
  });

  it('tells zod/mini from classic zod and sees which Powertools parts are used', () => {
    const mini = frameworkUse([
      'node_modules/zod/v4/mini/schemas.js',
      'node_modules/@middy/core/index.js',
      'node_modules/@aws-lambda-powertools/logger/lib/esm/Logger.js',
    ]);
    expect(mini).toEqual({
      middy: true,
      logger: true,
      loggerMiddleware: false,
      metrics: false,
      metricsMiddleware: false,
      zod: 'zod/mini',
    });
    expect(
      frameworkUse(['node_modules/zod/v4/classic/schemas.js', 'node_modules/zod/v4/mini/x.js']).zod,
    ).toBe('zod');
  });

  it('writes a baseline that imports exactly the survivors, and the framework only as used', () => {
    // Prepare
    const s = sdkSurvivors([`${rds}/RDSClient.js`, `${rds}/commands/DescribeDBSnapshotsCommand.js`]);
    const fw = frameworkUse(['node_modules/zod/v4/mini/schemas.js', 'node_modules/@middy/core/index.js']);

    // Act
    const bare = baselineSource(s);
    const framework = baselineSource(s, fw);
    const injected = baselineSource(s, undefined, { modules: ['pg', '@aws-lambda-powertools/logger'] });

    // Assert
    expect(bare).toContain(
      "import { DescribeDBSnapshotsCommand as s0, RDSClient as s1 } from '@aws-sdk/client-rds';",
    );
    expect(bare).not.toMatch(/middy|powertools|zod|pg/);
    expect(framework).toContain("import * as z from 'zod/mini';");
    expect(framework).toContain("import middy from '@middy/core';");
    expect(framework).not.toContain('powertools');
    expect(injected).toContain("import * as injected0 from 'pg';");
    expect(injected).toContain("import * as injected1 from '@aws-lambda-powertools/logger';");
  });
});

describe("the verifier's bare SDK + pg baseline, from the metafile", () => {
  // The verifier's own module imports pg's Client alone; pg's modules, and one the tree-shaker emptied.
  const verifierMeta = {
    inputs: {
      'shared/drill/verifier/pg-client.ts': {
        bytes: 1,
        imports: [
          { path: 'node_modules/pg/lib/client.js', kind: 'import-statement', original: 'pg/lib/client.js' },
        ],
      },
      'shared/drill/verifier/verify.ts': {
        bytes: 1,
        imports: [{ path: 'shared/drill/verifier/pg-client.ts', kind: 'import-statement' }],
      },
      // A steward module that imports pg but ships no bytes (tree-shaken): not what the baseline carries.
      'shared/unused.ts': {
        bytes: 1,
        imports: [{ path: 'node_modules/pg/lib/index.js', kind: 'import-statement' }],
      },
    },
    outputs: {},
  };

  it("imports the pg modules steward's surviving code imports, by their package paths", () => {
    // Act
    const use = pgUse(verifierMeta, [
      'shared/drill/verifier/pg-client.ts',
      'shared/drill/verifier/verify.ts',
      'node_modules/pg/lib/client.js',
    ]);

    // Assert
    expect(use).toEqual({ imports: ['pg/lib/client.js'] });
    expect(baselineSource(new Map(), undefined, undefined, use)).toContain(
      "import pg0 from 'pg/lib/client.js';",
    );
  });

  it('is none for a function that speaks no PostgreSQL', () => {
    expect(pgUse(verifierMeta, ['shared/drill/verifier/verify.ts'])).toBeUndefined();
  });

  it("lists the PostgreSQL client's modules among the inputs, sorted, and nothing else", () => {
    expect(
      pgModules([
        'node_modules/pg/lib/client.js',
        'node_modules/@aws-sdk/rds-signer/dist-es/Signer.js',
        'node_modules/pg-protocol/dist/parser.js',
        'node_modules/pgpass/lib/index.js',
        'node_modules/postgres-array/index.js',
        'node_modules/split2/index.js',
        'shared/drill/verifier/pg-client.ts',
      ]),
    ).toEqual([
      'node_modules/pg-protocol/dist/parser.js',
      'node_modules/pg/lib/client.js',
      'node_modules/pgpass/lib/index.js',
      'node_modules/postgres-array/index.js',
      'node_modules/split2/index.js',
    ]);
  });
});

describe('the fairness check', () => {
  it.each([
    [['rds:DescribeDBSnapshots@eu-west-1'], ['rds:DescribeDBSnapshots@eu-west-1'], undefined],
    // Same operation name, another service: the retention and report baselines' fault.
    [
      ['rds:DescribeDBSnapshots@eu-west-1', 'elasticache:DescribeSnapshots@eu-west-1'],
      ['rds:DescribeDBSnapshots@eu-west-1', 'ec2:DescribeSnapshots@eu-west-1'],
      '#2 elasticache:DescribeSnapshots@eu-west-1 vs ec2:DescribeSnapshots@eu-west-1',
    ],
    // Same request, another region.
    [
      ['s3:ListObjectsV2@us-west-2'],
      ['s3:ListObjectsV2@eu-west-1'],
      '#1 s3:ListObjectsV2@us-west-2 vs s3:ListObjectsV2@eu-west-1',
    ],
    // One more request on either side.
    [
      ['sns:Publish@eu-west-1'],
      ['sns:Publish@eu-west-1', 'sts:GetCallerIdentity@eu-west-1'],
      '#2 (none) vs sts:GetCallerIdentity@eu-west-1',
    ],
    [['sns:Publish@eu-west-1'], [], '#1 sns:Publish@eu-west-1 vs (none)'],
  ])('compares %j with %j in order: %s', (ours, theirs, expected) => {
    expect(firstDifference(ours, theirs)).toBe(expected);
  });
});

describe('the function environment as deployed', () => {
  const resources = {
    Topic: { Type: 'AWS::SNS::Topic' },
    Table: { Type: 'AWS::DynamoDB::Table' },
    Queue: { Type: 'AWS::SQS::Queue' },
  };
  it.each([
    [{ Ref: 'Topic' }, 'arn:aws:sns:eu-west-1:111122223333:Topic'],
    [{ Ref: 'Table' }, 'table'],
    [{ 'Fn::GetAtt': ['Queue', 'Arn'] }, 'arn:aws:sqs:eu-west-1:111122223333:Queue'],
    [{ 'Fn::Join': ['', ['arn:aws:lambda:', { Ref: 'AWS::Region' }, ':x']] }, 'arn:aws:lambda:eu-west-1:x'],
    ['--enable-source-maps', '--enable-source-maps'],
  ])('resolves %j to %s', (value, expected) => {
    expect(resolveValue(value, resources, 'eu-west-1', '111122223333')).toBe(expected);
  });
});

describe('paired ratios', () => {
  it('is the median of per-pair ratios, not the ratio of medians', () => {
    // The second side is slow only when the machine is: pairing cancels it.
    expect(pairedRatio([10, 20, 40], [10, 20, 40])).toBe(1);
    expect(pairedRatio([11, 22, 44, 100], [10, 20, 40, 10])).toBeCloseTo(1.1);
  });

  it('refuses samples of different lengths', () => {
    expect(() => pairedRatio([1, 2], [1])).toThrow(/differ in length/);
  });

  it('weighs the injection in proportion: about the bytes asked for, every function run once at load', () => {
    // Act
    const small = weightSource(1_000);
    const big = weightSource(70_000);
    const run = (code: string) => {
      const g = globalThis as { __weight?: number };
      delete g.__weight;
      new Function(code)();
      return g.__weight;
    };

    // Assert
    expect(small.length).toBeGreaterThanOrEqual(1_000);
    expect(small.length).toBeLessThan(1_200);
    expect(big.length).toBeGreaterThanOrEqual(70_000);
    expect(big.length).toBeLessThan(71_000);
    expect(typeof run(big)).toBe('number');
    expect(run(big)).not.toBe(run(small));
    expect(baselineSource(new Map(), undefined, { modules: [], weightBytes: 2_000 })).toContain(
      weightSource(2_000),
    );
  });
});
