import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { beforeAll, describe, expect, it } from 'vitest';
import * as backup from '../../functions/backup/handler.js';
import * as retention from '../../functions/retention/handler.js';
import { parseConfig } from '../../shared/config/schema.js';
import { fanOutTargets } from '../../shared/fleet/fan-out.js';
import { runFleetEvent } from '../../shared/fleet/child.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import type { BaseDeps } from '../../shared/runtime.js';
import { motoCredentials } from '../support/fleet-moto.js';
import { createMotoDatabases, useMotoEnvironment } from '../support/moto.js';
import { createStateTable } from '../support/state-table.js';

// A hub (moto's default account 123456789012) and two workload accounts, each in two regions, over real
// HTTP. The children run with the credentials moto's STS AssumeRole hands out for each spoke role: moto
// keeps each account's resources apart by those credentials (checked below before anything else), so every
// snapshot landing in the right account-region is the hub's child code choosing the right credentials and
// region. moto does not evaluate IAM or trust policies (the assume chain's permissions are the IAM suite's),
// and grants every AssumeRole: a refused one is proven with mocks and the local Distributed Map run.
const HUB = '123456789012';
const REGIONS = ['eu-west-1', 'eu-central-1'];
const WORKLOADS = ['222222222222', '333333333333'];
const STATE_TABLE = 'steward-fleet-state';

const config = parseConfig(
  {
    stage: 'fleet',
    account: HUB,
    region: 'eu-west-1',
    fleet: { externalId: 'steward-fleet-e2e' },
    backup: { policies: { daily: { kinds: ['rds-instance'], retention: 'standard' } } },
    retention: { includeDrRegion: false, policies: { standard: { daily: 14, keepAtLeast: 3 } } },
    targets: [
      {},
      { account: WORKLOADS[0], regions: REGIONS },
      // This account keeps fewer: its override must reach its children only.
      { account: WORKLOADS[1], regions: REGIONS, retention: { policies: { standard: { keepAtLeast: 2 } } } },
    ],
  },
  'fleet-e2e',
);

const base = (): BaseDeps => ({ config, dryRun: false, notifier: memoryNotifier(), now: () => new Date() });
const TIMES = [
  '2026-01-15T03:00:00Z',
  '2026-01-16T03:00:00Z',
  '2026-01-17T03:00:00Z',
  '2026-01-18T03:00:00Z',
];

/** An RDS client in one account-region, signed with what moto's STS hands out for a role there. */
const rdsIn = async (account: string, region: string): Promise<RDSClient> => {
  if (account === HUB) return new RDSClient({ region });
  return new RDSClient({ region, credentials: await motoCredentials(account) });
};

const snapshotIds = async (rds: RDSClient) =>
  ((await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }))).DBSnapshots ?? [])
    .map((s) => s.DBSnapshotIdentifier!)
    .sort();

describe('the fleet fan-out against an emulated AWS over real HTTP, one hub and two accounts x two regions', () => {
  useMotoEnvironment('eu-west-1');
  const places = [
    { account: HUB, region: 'eu-west-1' },
    ...WORKLOADS.flatMap((account) => REGIONS.map((region) => ({ account, region }))),
  ];
  const clients = new Map<string, RDSClient>();
  const at = (p: { account: string; region: string }) => clients.get(`${p.account} ${p.region}`)!;

  beforeAll(async () => {
    for (const p of places) {
      const rds = await rdsIn(p.account, p.region);
      clients.set(`${p.account} ${p.region}`, rds);
      // The same database names in every account-region, and a snapshot made by hand in each.
      await createMotoDatabases(rds);
      await rds.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: 'orders-db',
          DBSnapshotIdentifier: 'orders-db-by-hand',
        }),
      );
    }
    await createStateTable(new DynamoDBClient({ region: 'eu-west-1' }), STATE_TABLE);
  });

  it("keeps each account's resources apart by the assumed credentials (what the rest relies on)", async () => {
    // Prepare
    const sts = new STSClient({ region: 'eu-west-1' });
    const { Credentials: c } = await sts.send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${WORKLOADS[0]}:role/probe`, RoleSessionName: 'probe' }),
    );
    const assumed = new STSClient({
      region: 'eu-west-1',
      credentials: {
        accessKeyId: c!.AccessKeyId!,
        secretAccessKey: c!.SecretAccessKey!,
        sessionToken: c!.SessionToken!,
      },
    });
    // Act
    const who = await assumed.send(new GetCallerIdentityCommand({}));
    const arns = await Promise.all(
      places.map(
        async (p) =>
          (await at(p).send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders-db' })))
            .DBInstances![0]!.DBInstanceArn,
      ),
    );
    // Assert: one orders-db per account-region, each with its own account and region in its ARN
    expect(who.Account).toBe(WORKLOADS[0]);
    expect(arns).toEqual(places.map((p) => `arn:aws:rds:${p.region}:${p.account}:db:orders-db`));
  });

  it("backs up every target in its own account and region with the target's credentials", async () => {
    // Prepare
    const targets = fanOutTargets(config, 'backup');
    const wiring = backup.fleetWiring(base, {});
    // Act: what each child of the Map runs, four scheduled days
    for (const scheduledTime of TIMES)
      for (const target of targets)
        await runFleetEvent(
          { action: 'scheduled-backup', policy: 'daily', scheduledTime, target },
          wiring,
          backup.run,
        );
    // Assert
    expect(targets.map((t) => `${t.account} ${t.region}`)).toEqual(
      places.map((p) => `${p.account} ${p.region}`),
    );
    for (const p of places) {
      const snaps = (await at(p).send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' })))
        .DBSnapshots!;
      const ours = snaps.filter((s) => s.DBSnapshotIdentifier!.startsWith('steward-'));
      expect(ours.map((s) => s.DBSnapshotIdentifier).sort()).toEqual([
        'steward-orders-db-202601150300-sched',
        'steward-orders-db-202601160300-sched',
        'steward-orders-db-202601170300-sched',
        'steward-orders-db-202601180300-sched',
      ]);
      for (const s of ours) expect(s.DBSnapshotArn).toContain(`:rds:${p.region}:${p.account}:snapshot:`);
    }
  });

  it("expires each target's own snapshots by its policy, never touching the hand-made ones", async () => {
    // Prepare
    const targets = fanOutTargets(config, 'retention');
    const wiring = retention.fleetWiring(base, () => ({ STATE_TABLE, REPORT_BUCKET: undefined }));
    // Act
    for (const target of targets) await runFleetEvent({ action: 'retention', target }, wiring, retention.run);
    // Assert: the floor keeps 3 (2 in 333333333333, its override), the hand-made snapshot stays everywhere
    for (const p of places) {
      const ids = await snapshotIds(at(p));
      expect(ids).toContain('orders-db-by-hand');
      expect(ids.filter((id) => id.startsWith('steward-'))).toHaveLength(p.account === WORKLOADS[1] ? 2 : 3);
    }
    // Each account-region spent its own day's deletion budget in the hub's table.
    const ddb = new DynamoDBClient({ region: 'eu-west-1' });
    const day = new Date().toISOString().slice(0, 10);
    const used = async (scope?: string) =>
      (
        await ddb.send(
          new GetItemCommand({
            TableName: STATE_TABLE,
            Key: { pk: { S: `retention-budget#${day}${scope ? `#${scope}` : ''}` } },
          }),
        )
      ).Item?.used;
    expect(await used(`${WORKLOADS[1]}-eu-central-1`)).toEqual({ N: '2' });
    expect(await used(`${HUB}-eu-west-1`)).toEqual({ N: '1' });
  });
});
