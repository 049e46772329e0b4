import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateReplicationGroupCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { CreateDBSnapshotCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { awsEstate, run as runReportFunction, type ReportDeps } from '../../functions/report/handler.js';
import { awsStatusDeps, status } from '../../cli/status.js';
import type { Flags } from '../../cli/flags.js';
import { snapshotId } from '../../shared/backup/ids.js';
import { parseConfig } from '../../shared/config/schema.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import { tagList } from '../../shared/tags.js';
import { createMotoDatabases, useMotoEnvironment } from '../support/moto.js';

// steward status, the status check and the evidence report end to end through real HTTP and the real SDK
// serialisers against moto: the describes without filters, the S3 listing, GETs and PUTs, the state table
// Scan and STS naming the report bucket are requests the APIs accept. Health rules are proven with fakes.
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012'; // moto's account
const BUCKET = `steward-staging-reports-${ACCOUNT}-${REGION}`;
const TABLE = 'steward-staging-state';

describe('status and evidence against emulated AWS endpoints', () => {
  const now = new Date();
  const config = parseConfig(
    {
      stage: 'staging',
      region: REGION,
      backup: {
        policies: {
          daily: { schedule: 'rate(1 day)', kinds: ['rds-instance'] },
          cache: { schedule: 'rate(1 day)', kinds: ['elasticache'] },
        },
      },
      drill: {
        enabled: true,
        targets: { 'orders-db': { profile: { database: 'orders', tables: [{ name: 'orders' }] } } },
      },
      scaling: {
        enabled: true,
        rules: {
          'orders-db-cpu': {
            alarm: { name: 'orders-db-cpu-high' },
            resource: 'orders-db',
            action: { type: 'rds.scaleUp', ladder: ['db.t4g.micro', 'db.t4g.small'], max: 'db.t4g.small' },
          },
        },
      },
    },
    'e2e',
  );
  const flags = { stage: 'staging', json: true, wait: false, 'dry-run': false, help: false } as Flags;

  useMotoEnvironment(REGION);

  beforeAll(async () => {
    const rds = new RDSClient({ region: REGION });
    await createMotoDatabases(rds);
    await rds.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: 'orders-db',
        DBSnapshotIdentifier: snapshotId('orders-db', now, 'sched'),
        Tags: tagList({
          'steward:managed': 'true',
          'steward:policy': 'daily',
          'steward:source': 'orders-db',
        }),
      }),
    );
    await new ElastiCacheClient({ region: REGION }).send(
      new CreateReplicationGroupCommand({
        ReplicationGroupId: 'sessions',
        ReplicationGroupDescription: 'sessions',
        Engine: 'redis',
        CacheNodeType: 'cache.t4g.micro',
        Tags: tagList({ 'steward:backup': 'cache' }),
      }),
    );
    const s3 = new S3Client({ region: REGION, forcePathStyle: true });
    await s3.send(
      new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }),
    );
    const month = now.toISOString().slice(0, 7).replace('-', '/');
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `drills/orders-db/${month}/orders-db-e2e.json`,
        Body: JSON.stringify({
          type: 'steward-drill-report',
          version: 1,
          drillId: 'orders-db-e2e',
          database: 'orders-db',
          passed: true,
          summary: 'DR drill PASSED for orders-db',
          reasons: [],
          startedAt: now.toISOString(),
          targets: { rtoSeconds: 3600, rpoSeconds: 300 },
          metrics: {
            rtoSeconds: 1200,
            rpoSeconds: 60,
            rtoTargetSeconds: 3600,
            rpoTargetSeconds: 300,
            rtoMet: true,
            rpoMet: true,
          },
        }),
      }),
    );
    const ddb = new DynamoDBClient({ region: REGION });
    await ddb.send(
      new CreateTableCommand({
        TableName: TABLE,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await ddb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          pk: { S: 'scaling-cooldown#rds-instance:orders-db' },
          until: { S: new Date(now.getTime() + 600_000).toISOString() },
          rule: { S: 'orders-db-cpu' },
        },
      }),
    );
  });

  it('steward status reads every database, names the report bucket through STS and reads the drill and the cooldown', async () => {
    // Prepare
    const lines: string[] = [];
    const deps = await awsStatusDeps(config, undefined, () => now);
    // Act
    const code = await status([], flags, (s) => lines.push(s), { status: deps, now: () => now });
    // Assert
    const doc = JSON.parse(lines.join('\n'));
    expect(doc.notes).toEqual([]);
    const byId = Object.fromEntries(doc.databases.map((d: { id: string }) => [d.id, d]));
    expect(byId['orders-db']).toMatchObject({
      health: 'OK',
      policy: 'daily',
      held: 1,
      drill: { last: { passed: true } },
      scaling: { lastRule: 'orders-db-cpu' },
    });
    expect(byId['orders-db'].scaling.cooldownUntil).toBeDefined();
    expect(byId['legacy-db']).toMatchObject({ health: 'UNPROTECTED' });
    expect(byId.sessions).toMatchObject({ kind: 'elasticache', policy: 'cache' });
    expect(code).toBe(byId.sessions.health === 'OK' ? 0 : 1);
  });

  it("the report function writes this month's evidence and the status check remembers what is open", async () => {
    // Prepare
    const notifier = memoryNotifier();
    const deps: ReportDeps = {
      config,
      dryRun: false,
      notifier,
      now: () => now,
      estate: awsEstate(config, BUCKET, TABLE, () => now),
    };
    const s3 = new S3Client({ region: REGION, forcePathStyle: true });
    const month = now.toISOString().slice(0, 7);
    // Act
    const evidence = await runReportFunction({ action: 'evidence', month }, deps);
    const check = await runReportFunction({ action: 'status-check' }, deps);
    // Assert
    expect(evidence).toMatchObject({
      action: 'evidence',
      month,
      summary: { databases: 3, protected: 2, unprotected: 1 },
    });
    const html = await (
      await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `evidence/${month}/report.html` }))
    ).Body!.transformToString();
    expect(html).toContain('<title>Recovery evidence: staging');
    const csv = await (
      await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `evidence/${month}/databases.csv` }))
    ).Body!.transformToString();
    expect(csv.split('\r\n')[0]).toMatch(/^month,database,kind/);
    expect(check).toMatchObject({ action: 'status-check' });
    const memory = await (
      await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'status/conditions.json' }))
    ).Body!.transformToString();
    expect(JSON.parse(memory)).toMatchObject({ type: 'steward-open-conditions' });
    expect(notifier.sent[0]!.links![0]!.href).toContain(`evidence%2F${month}%2Freport.html`);
  });
});
