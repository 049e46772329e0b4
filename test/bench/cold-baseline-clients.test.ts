import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { baselineSource, sdkSurvivors, signingNamesOf } from '../../bench/cold/baselines.js';

// Stand-ins for the SDK packages, resolved by the generated baseline from its own folder's node_modules: each
// client class records its construction (and its region) and carries its signing name as the SDK's does, each
// command is an empty class.
const stub = (dir: string, pkg: string, classes: Record<string, string>) => {
  const root = join(dir, 'node_modules', pkg);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module', exports: './index.js' }));
  writeFileSync(
    join(root, 'index.js'),
    Object.entries(classes)
      .map(([name, body]) => `export class ${name} { ${body} }`)
      .join('\n'),
  );
};
const client = (name: string, service: string) =>
  `constructor(o) { (globalThis.__built ??= []).push('${name} ' + (o?.region ?? 'default')); this.config = { defaultSigningName: '${service}' }; } async send() {}`;

describe('a baseline handler builds SDK clients as steward does', () => {
  mkdirSync(resolve('.bench'), { recursive: true });
  const dir = mkdtempSync(join(resolve('.bench'), 'test-baseline-clients-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  stub(dir, '@aws-sdk/client-rds', {
    RDSClient: client('RDSClient', 'rds'),
    DescribeDBSnapshotsCommand: '',
  });
  stub(dir, '@aws-sdk/client-ssm', { SSMClient: client('SSMClient', 'ssm'), GetParameterCommand: '' });
  stub(dir, '@aws-sdk/client-dynamodb', { DynamoDBClient: client('DynamoDBClient', 'dynamodb') });
  stub(dir, '@aws-sdk/lib-dynamodb', {
    DynamoDBDocumentClient: `static from(c) { (globalThis.__built ??= []).push('DynamoDBDocumentClient'); return c; }`,
    GetCommand: '',
  });

  /** The clients the baseline built on its first invoke of `calls`, in a fresh process. */
  const built = async (source: string, calls: string[]): Promise<string[]> => {
    const entry = join(dir, `baseline-${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(entry, source);
    const run = `const m = await import(${JSON.stringify(entry)}); const r = await m.handler({ calls: ${JSON.stringify(calls)} }); console.log(JSON.stringify({ sent: r.sent, built: globalThis.__built ?? [] }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', run], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', AWS_REGION: 'eu-west-1' },
    });
    const out = JSON.parse(stdout) as { sent: number; built: string[] };
    expect(out.sent).toBe(calls.length);
    return out.built;
  };

  it('builds only the client a request is sent through, at its first send, in the region it sends to', async () => {
    // Prepare: a function that imports RDS and SSM clients but whose first invoke sends only to RDS (as a
    // trigger whose chunk carries a client it does not send through), twice here and once in the DR region.
    const rds = 'node_modules/@aws-sdk/client-rds/dist-es';
    const ssm = 'node_modules/@aws-sdk/client-ssm/dist-es';
    const survivors = sdkSurvivors([
      `${rds}/RDSClient.js`,
      `${rds}/commands/DescribeDBSnapshotsCommand.js`,
      `${ssm}/SSMClient.js`,
      `${ssm}/commands/GetParameterCommand.js`,
    ]);

    // Act
    const clients = await built(baselineSource(survivors), [
      'rds:DescribeDBSnapshots@eu-west-1',
      'rds:DescribeDBSnapshots@eu-west-1',
      'rds:DescribeDBSnapshots@us-west-2',
    ]);

    // Assert: one client per region sent to; none for SSM, and none built to learn what a client signs for.
    expect(clients).toEqual(['RDSClient eu-west-1', 'RDSClient us-west-2']);
  });

  it('builds the document client and the DynamoDB client it wraps at the first send through it', async () => {
    // Prepare
    const ddb = 'node_modules/@aws-sdk/client-dynamodb/dist-es';
    const doc = 'node_modules/@aws-sdk/lib-dynamodb/dist-es';
    const rds = 'node_modules/@aws-sdk/client-rds/dist-es';
    const survivors = sdkSurvivors([
      `${ddb}/DynamoDBClient.js`,
      `${doc}/DynamoDBDocumentClient.js`,
      `${doc}/commands/GetCommand.js`,
      `${rds}/RDSClient.js`,
      `${rds}/commands/DescribeDBSnapshotsCommand.js`,
    ]);

    // Act
    const none = await built(baselineSource(survivors), []);
    const one = await built(baselineSource(survivors), [
      'dynamodb:GetItem@eu-west-1',
      'dynamodb:GetItem@eu-west-1',
    ]);

    // Assert
    expect(none).toEqual([]);
    expect(one).toEqual(['DynamoDBClient eu-west-1', 'DynamoDBDocumentClient']);
  });

  it('reads the service each package signs for from the installed SDK, without a baseline client', () => {
    // Prepare
    const survivors = sdkSurvivors([
      'node_modules/@aws-sdk/client-rds/dist-es/RDSClient.js',
      'node_modules/@aws-sdk/client-resource-groups-tagging-api/dist-es/ResourceGroupsTaggingAPIClient.js',
      'node_modules/@aws-sdk/lib-dynamodb/dist-es/DynamoDBDocumentClient.js',
      'node_modules/@aws-sdk/rds-signer/dist-es/Signer.js',
    ]);

    // Act
    const names = signingNamesOf(survivors);

    // Assert: the signer builds no client and signs for no service of its own.
    expect(names).toEqual({
      '@aws-sdk/client-rds': 'rds',
      '@aws-sdk/client-resource-groups-tagging-api': 'tagging',
      '@aws-sdk/lib-dynamodb': 'dynamodb',
    });
  });
});
