import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DescribeReplicationGroupsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { hourOutside, init, planInit, tagCommand } from '../../cli/init.js';
import type { Flags } from '../../cli/flags.js';
import { main } from '../../cli/main.js';
import { checkStageText, readStageFile } from '../../shared/config/files.js';
import type { Database } from '../../shared/model.js';
import { useTempDir, writeStageFile } from '../support/bad-configs.js';
import { cliFlags, EXAMPLES_DIR } from '../support/examples.js';
import { noServerlessCaches } from '../support/serverless-mocks.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ACCOUNT = '111122223333';
const db = (id: string, kind: Database['kind'], extra: Partial<Database> = {}): Database => ({
  kind,
  id,
  arn: `arn:aws:${kind === 'elasticache' ? 'elasticache' : 'rds'}:eu-west-1:${ACCOUNT}:${
    kind === 'rds-instance' ? 'db' : kind === 'aurora-cluster' ? 'cluster' : 'replicationgroup'
  }:${id}`,
  region: 'eu-west-1',
  engine: kind === 'elasticache' ? 'redis' : 'postgres',
  status: 'available',
  tags: {},
  ...extra,
});

// Against no config: init writes one.
const flags = (f: Partial<Flags> = {}): Flags => cliFlags({ config: undefined, stage: undefined, ...f });

describe('hourOutside', () => {
  it.each<[string[], number]>([
    [[], 3],
    [['04:00-04:30'], 3],
    [['02:30-03:00'], 4],
    [['02:45-03:15', '03:30-04:00'], 5],
    [['23:30-03:30'], 4],
    [['03:00-03:30', '04:00-04:30', '05:00-05:30'], 6],
  ])('with automated backups in %j, schedules at %i:00 UTC', (windows, hour) => {
    expect(hourOutside(windows)).toBe(hour);
  });
});

describe('planInit', () => {
  const at = new Date('2026-11-30T10:00:00Z');
  const base = {
    stage: 'acme',
    region: 'eu-west-1',
    schemaRef: '../shared/config/steward-config.schema.json',
    at,
  };

  it('writes a valid dry-run config and one exact tagging command per picked database', () => {
    // Prepare
    const orders = db('orders-db', 'rds-instance', {
      automatedBackup: { retentionDays: 7, window: '02:30-03:00' },
    });
    const billing = db('billing', 'aurora-cluster', {
      automatedBackup: { retentionDays: 7, window: '05:00-05:30' },
    });
    const sessions = db('sessions-redis', 'elasticache', {
      automatedBackup: { retentionDays: 1, window: '03:00-04:00' },
    });
    const databases = [orders, billing, sessions];
    // Act
    const plan = planInit({ ...base, databases, picked: databases });
    const check = checkStageText(plan.yaml, 'steward.acme.yaml');
    // Assert
    expect(check.ok).toBe(true);
    const config = check.ok ? check.config : undefined;
    expect(config?.dryRun).toBe(true);
    expect(config?.backup.policies).toEqual({
      daily: expect.objectContaining({
        schedule: 'cron(0 4 * * ? *)',
        kinds: ['rds-instance', 'aurora-cluster'],
        retention: 'standard',
      }),
      cache: expect.objectContaining({
        schedule: 'cron(0 5 * * ? *)',
        kinds: ['elasticache'],
        retention: 'cache',
      }),
    });
    expect(plan.commands).toEqual([
      `aws rds add-tags-to-resource --region eu-west-1 --resource-name arn:aws:rds:eu-west-1:${ACCOUNT}:db:orders-db --tags Key=steward:backup,Value=daily`,
      `aws rds add-tags-to-resource --region eu-west-1 --resource-name arn:aws:rds:eu-west-1:${ACCOUNT}:cluster:billing --tags Key=steward:backup,Value=daily`,
      `aws elasticache add-tags-to-resource --region eu-west-1 --resource-name arn:aws:elasticache:eu-west-1:${ACCOUNT}:replicationgroup:sessions-redis --tags Key=steward:backup,Value=cache`,
    ]);
    expect(plan.yaml).toContain(
      'schedule: cron(0 4 * * ? *) # 03:00 falls in an automated backup window (02:30-03:00, 05:00-05:30): moved to 04:00',
    );
  });

  it("keeps the account's existing steward:backup policies, and tags nothing already opted in", () => {
    // Prepare
    const weekly = db('reports-db', 'rds-instance', { tags: { 'steward:backup': 'weekly' } });
    const odd = db('odd-db', 'rds-instance', { tags: { 'steward:backup': 'Nightly!' } });
    const fresh = db('fresh-db', 'rds-instance');
    // Act
    const plan = planInit({ ...base, databases: [weekly, odd, fresh], picked: [weekly, fresh] });
    const check = checkStageText(plan.yaml, 'steward.acme.yaml');
    // Assert
    expect(check.ok && Object.keys(check.config.backup.policies)).toEqual(['daily', 'weekly']);
    expect(plan.commands).toEqual([tagCommand(fresh, 'daily')]);
    expect(plan.notes).toEqual([
      'odd-db has steward:backup=Nightly!, which is not a usable policy name: retag it (lowercase letters, digits, hyphens)',
    ]);
  });

  it('says when a picked database has no automated backups', () => {
    // Act
    const plan = planInit({
      ...base,
      databases: [db('orders-db', 'rds-instance', { automatedBackup: { retentionDays: 0 } })],
      picked: [db('orders-db', 'rds-instance', { automatedBackup: { retentionDays: 0 } })],
    });
    // Assert
    expect(plan.notes).toEqual([
      'orders-db: automated backups are off, so there is no point-in-time restore (drills with pointInTime fail, read replicas cannot be added)',
    ]);
  });
});

describe('steward init', () => {
  const tempDir = useTempDir();
  // The adapters are proven against moto (test/e2e/init-moto.test.ts); here only the command around them.
  const rds = mockClient(RDSClient);
  const cache = mockClient(ElastiCacheClient);
  beforeEach(() => {
    rds.reset();
    cache.reset();
    noServerlessCaches(cache);
    cache.on(DescribeReplicationGroupsCommand).resolves({ ReplicationGroups: [] });
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });
  });
  const account = (...ids: string[]) =>
    rds.on(DescribeDBInstancesCommand).resolves({
      DBInstances: ids.map((id) => ({
        DBInstanceIdentifier: id,
        DBInstanceArn: db(id, 'rds-instance').arn,
        Engine: 'postgres',
        TagList: [],
      })),
    });

  it('asks which databases to protect on a terminal, and writes the config for the answer', async () => {
    // Prepare
    const dir = tempDir();
    const out: string[] = [];
    const prompt = vi.fn(async () => '2');
    account('a-db', 'b-db');
    // Act
    const code = await init(
      [],
      flags({ stage: 'acme', config: dir, region: 'eu-west-1' }),
      (s) => out.push(s),
      {
        interactive: true,
        prompt,
      },
    );
    // Assert
    expect(code).toBe(0);
    expect(prompt).toHaveBeenCalledOnce();
    expect(out.join('\n')).toContain(`--resource-name arn:aws:rds:eu-west-1:${ACCOUNT}:db:b-db --tags`);
    expect(out.join('\n')).not.toContain(':db:a-db --tags');
    expect(readStageFile(join(dir, 'steward.acme.yaml')).ok).toBe(true);
  });

  it('on a terminal the inventory is printed once, before the question (500 databases: 500 rows, not 1000)', async () => {
    // Prepare
    const dir = tempDir();
    const out: string[] = [];
    account(...Array.from({ length: 500 }, (_, i) => `db-${String(i).padStart(3, '0')}`));
    // Act
    const code = await init(
      [],
      flags({ stage: 'acme', config: dir, region: 'eu-west-1' }),
      (s) => out.push(s),
      { interactive: true, prompt: async () => '2' },
    );
    // Assert
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text.match(/^Databases in /gm)).toHaveLength(1);
    expect(text.match(/ db-499 /g)).toHaveLength(1);
    expect(text).toContain(`--resource-name arn:aws:rds:eu-west-1:${ACCOUNT}:db:db-001 --tags`);
  });

  it('never prompts without a terminal: it writes the config and says how to pick', async () => {
    // Prepare
    const dir = tempDir();
    const out: string[] = [];
    account('a-db');
    // Act
    const code = await init(
      [],
      flags({ stage: 'acme', config: dir, region: 'eu-west-1' }),
      (s) => out.push(s),
      {
        interactive: false,
      },
    );
    // Assert
    expect(code).toBe(0);
    expect(out.join('\n')).toContain(
      'No databases picked: rerun with --databases <a,b> or --all (and --force) for their tagging commands.',
    );
  });

  it('credentials that may not read ElastiCache still get a config of the RDS databases, and are told', async () => {
    // Prepare: a role with RDS read only (no elasticache:DescribeReplicationGroups)
    const dir = tempDir();
    const out: string[] = [];
    account('a-db');
    cache.on(DescribeReplicationGroupsCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: elasticache:DescribeReplicationGroups'), {
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    // Act
    const code = await init(
      [],
      flags({ stage: 'acme', config: dir, region: 'eu-west-1', all: true }),
      (s) => out.push(s),
      { interactive: false },
    );
    // Assert
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toContain(`--resource-name arn:aws:rds:eu-west-1:${ACCOUNT}:db:a-db --tags`);
    expect(text).toMatch(
      /ElastiCache replication groups not listed \(AccessDenied: .*\): none is in this config/,
    );
    expect(readStageFile(join(dir, 'steward.acme.yaml')).ok).toBe(true);
  });

  it('an RDS listing that is refused still fails init, naming it', async () => {
    // Prepare
    const dir = tempDir();
    rds.on(DescribeDBInstancesCommand).rejects(
      Object.assign(new Error('not authorized'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      }),
    );
    // Act / Assert
    await expect(
      init([], flags({ stage: 'acme', config: dir, region: 'eu-west-1' }), () => {}, { interactive: false }),
    ).rejects.toThrow(/AccessDenied|not authorized/);
    expect(existsSync(join(dir, 'steward.acme.yaml'))).toBe(false);
  });

  it('refuses an unknown database name (exit 2) before writing anything', async () => {
    // Prepare
    const dir = tempDir();
    account('orders-db');
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    // Act
    const code = await main(
      ['init', '--stage', 'acme', '--config', dir, '--region', 'eu-west-1', '--databases', 'ordrs-db'],
      () => {},
    );
    // Assert
    expect(code).toBe(2);
    expect(errors.mock.calls.flat().join('\n')).toBe(
      'steward: UsageError: no database "ordrs-db" in the account (orders-db): did you mean "orders-db"?',
    );
    expect(existsSync(join(dir, 'steward.acme.yaml'))).toBe(false);
    errors.mockRestore();
  });

  it('a name not in an account of 500 databases: the error names a dozen, not all 500', async () => {
    // Prepare
    const dir = tempDir();
    account(...Array.from({ length: 500 }, (_, i) => `db-${String(i).padStart(3, '0')}`));
    // Act
    const run = init(
      [],
      flags({ stage: 'acme', config: dir, region: 'eu-west-1', databases: 'billing' }),
      () => {},
      { interactive: false },
    );
    // Assert
    await expect(run).rejects.toThrow(
      'no database "billing" in the account of 500: known: db-000, db-001, db-002, db-003, db-004, db-005, db-006, db-007, db-008, db-009, db-010, db-011, … (488 more); numbers 1-500 pick them as listed',
    );
    expect(existsSync(join(dir, 'steward.acme.yaml'))).toBe(false);
  });

  it('never overwrites a config without --force (exit 2)', async () => {
    // Prepare
    const dir = tempDir();
    const file = writeStageFile(dir, 'region: eu-west-1\n');
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    // Act
    const code = await main(['init', '--stage', 'acme', '--config', dir], () => {});
    // Assert
    expect(code).toBe(2);
    expect(errors.mock.calls.flat().join('\n')).toContain(
      `${file} exists: steward init never overwrites a config (pass --force to replace it)`,
    );
    expect(readFileSync(file, 'utf8')).toBe('region: eu-west-1\n');
    errors.mockRestore();
  });

  it('without a region, writes the documented example and says how to continue, reading nothing', async () => {
    // Prepare
    const dir = tempDir();
    const out: string[] = [];
    // Act
    const code = await init([], flags({ stage: 'acme', config: dir }), (s) => out.push(s), { env: {} });
    // Assert
    expect(code).toBe(0);
    expect(rds.calls()).toEqual([]);
    const written = readFileSync(join(dir, 'steward.acme.yaml'), 'utf8');
    // The example as documented, in dry run: the README's first deploy is a dry run whatever init could read.
    expect(written.replace(/^# yaml-language-server.*$/m, '').replace(/^dryRun: true .*\n/m, '')).toBe(
      readFileSync(join(EXAMPLES_DIR, 'steward.prod.yaml'), 'utf8').replace(
        /^# yaml-language-server.*$/m,
        '',
      ),
    );
    const parsed = readStageFile(join(dir, 'steward.acme.yaml'));
    expect(parsed.ok && parsed.config.dryRun).toBe(true);
    expect(out.join('\n')).toMatch(
      /^no region \(--region or AWS_REGION\): steward init cannot read the account, so it wrote the documented example, in dry run \(dryRun: true\), to /,
    );
  });

  it.each([
    ['us-east-2', 'us-west-2'],
    // The example's own DR region: its copies then go to the example's stage region.
    ['us-west-2', 'eu-west-1'],
  ])(
    'without credentials, the example it writes is for the --region asked (%s; DR in %s)',
    async (region, drRegion) => {
      // Prepare
      const dir = tempDir();
      const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      });
      rds.on(DescribeDBInstancesCommand).rejects(noCredentials);
      rds.on(DescribeDBClustersCommand).rejects(noCredentials);
      cache.on(DescribeReplicationGroupsCommand).rejects(noCredentials);
      const out: string[] = [];
      // Act
      const code = await init([], flags({ stage: 'acme', config: dir, region }), (s) => out.push(s), {
        env: {},
      });
      // Assert
      expect(code).toBe(0);
      expect(out.join('\n')).toMatch(/^no AWS credentials: /);
      const written = readStageFile(join(dir, 'steward.acme.yaml'));
      expect(written.ok && written.config.region).toBe(region);
      expect(written.ok && written.config.dr.region).toBe(drRegion);
      expect(written.ok && written.config.dr.kmsKeyArn).toContain(`:kms:${drRegion}:`);
    },
  );

  it.each(['eu-wst-1', 'EU-WEST-1'])(
    '--region %s is bad usage naming --region (exit 2), before reading or writing anything',
    async (region) => {
      // Prepare
      const dir = tempDir();
      const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
      // Act
      const code = await main(['init', '--stage', 'acme', '--config', dir, '--region', region], () => {});
      // Assert
      expect(code).toBe(2);
      expect(errors.mock.calls.flat().join('\n')).toContain(
        `--region ${region}: must be an AWS region such as eu-west-1`,
      );
      expect(rds.calls()).toEqual([]);
      expect(existsSync(join(dir, 'steward.acme.yaml'))).toBe(false);
      errors.mockRestore();
    },
  );

  it('without credentials, writes the documented example and says how to continue (a fresh shell)', () => {
    // Prepare: a child process with no credentials anywhere the SDK looks.
    const dir = tempDir();
    const nowhere = join(dir, 'no-aws');
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && k !== 'CI'),
    ) as NodeJS.ProcessEnv;
    // Act
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, 'bin/steward.mjs'),
        'init',
        '--stage',
        'acme',
        '--config',
        dir,
        '--region',
        'eu-west-1',
        '--all',
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: {
          ...env,
          HOME: nowhere,
          AWS_SHARED_CREDENTIALS_FILE: join(nowhere, 'credentials'),
          AWS_CONFIG_FILE: join(nowhere, 'config'),
          AWS_EC2_METADATA_DISABLED: 'true',
        },
        timeout: 60_000,
      },
    );
    // Assert
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^no AWS credentials: steward init cannot read the account, so it wrote the documented example, in dry run \(dryRun: true\), to /,
    );
    expect(r.stdout).toContain(`npx steward validate --config ${join(dir, 'steward.acme.yaml')}`);
    const written = readStageFile(join(dir, 'steward.acme.yaml'));
    expect(written.ok && written.stage).toBe('acme');
    expect(written.ok && written.config.dryRun).toBe(true);
  });
});
