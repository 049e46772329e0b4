import {
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  CreateScheduleGroupCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import healthEvent from '../../events/health/rds-maintenance-scheduled.json' with { type: 'json' };
import snapshotEvent from '../../events/rds/snapshot-created.json' with { type: 'json' };
import alarmEvent from '../../events/scaling/alarm-state-change.json' with { type: 'json' };
import { handler as backupHandler } from '../../functions/backup/handler.js';
import { handler as scalingHandler } from '../../functions/scaling/handler.js';
import { drCopyId } from '../../shared/backup/ids.js';
import { parseConfig } from '../../shared/config/schema.js';
import { tagList } from '../../shared/tags.js';
import { embedConfig } from '../support/examples.js';
import { motoCredentials } from '../support/fleet-moto.js';
import { createMotoKey, useMotoEnvironment } from '../support/moto.js';
import { createStateTable } from '../support/state-table.js';

// A spoke's events, forwarded to the hub's fleet bus and wrapped by the hub's rules as
// {"action":"forwarded","partition":"aws","event":…}, through the deployed functions' own entry points (the
// middy handlers, their cold-start wiring from the embedded config and the environment) against moto over real
// HTTP. The hub is moto's default account; the spoke's account is reached only with the credentials moto's STS
// hands out for the spoke roles, and moto keeps each account's resources apart by them (test/e2e/fleet-moto.test.ts
// checks that first), so a resource in the spoke's account and region, and none in the hub's, is the handler
// choosing the right role and region. The events are AWS's documented examples (events/README.md: RDS User Guide
// "Amazon RDS event examples", CloudWatch User Guide "Alarm events and EventBridge", AWS Health User Guide
// "Reference: AWS Health events Amazon EventBridge schema") with the spoke's account, region and ids.
// What moto does not model, proven with mocks elsewhere: IAM and trust policies (every AssumeRole is granted:
// test/iam/fleet.test.ts), a refused AssumeRole (test/shared/fleet/forwarded.test.ts), EventBridge's rules and
// input transformers (test/infra/fleet.test.ts), and Scheduler firing a schedule (here the test invokes the
// handler with the schedule's payload, as Scheduler would).
const HUB = '123456789012';
const HUB_REGION = 'eu-west-1';
const SPOKE = '222222222222';
const SPOKE_REGION = 'eu-central-1';
const DR = 'us-west-2';
const STAGE = 'fleet';
const STATE_TABLE = `steward-${STAGE}-state`;
const GROUP = `steward-${STAGE}`;
const LADDER = ['db.r6g.large', 'db.r6g.xlarge'];

const config = parseConfig(
  {
    stage: STAGE,
    account: HUB,
    region: HUB_REGION,
    fleet: { externalId: 'steward-fleet-e2e' },
    backup: {
      policies: { daily: { kinds: ['rds-instance'], retention: 'standard', copyToDr: true } },
      maintenance: { enabled: true },
    },
    retention: { policies: { standard: {} } },
    dr: { region: DR, kmsKeyArn: `arn:aws:kms:${DR}:${HUB}:alias/steward-dr` },
    scaling: {
      enabled: true,
      rules: {
        'orders-cpu': {
          alarm: { name: 'orders-cpu-high' },
          resource: 'orders',
          action: { type: 'rds.scaleUp', ladder: LADDER, max: LADDER[1], applyImmediately: true },
          cooldownMinutes: 0,
        },
      },
    },
    targets: [{}, { account: SPOKE, regions: [SPOKE_REGION] }],
  },
  'fleet-forwarded-e2e',
);

/** What Lambda hands the hub's function: its ARN names the hub account (atPlace reads it). */
const contextOf = (fn: string): Context =>
  ({
    functionName: `steward-${STAGE}-${fn}`,
    functionVersion: '$LATEST',
    memoryLimitInMB: '512',
    awsRequestId: `req-${fn}-${Date.now()}`,
    invokedFunctionArn: `arn:aws:lambda:${HUB_REGION}:${HUB}:function:steward-${STAGE}-${fn}`,
    getRemainingTimeInMillis: () => 60_000,
  }) as unknown as Context;

/** The hub rules' wrapping of a spoke's event (infra/fleet.ts input transformer). */
const forwarded = (event: Record<string, unknown>) => ({ action: 'forwarded', partition: 'aws', event });

/** An RDS client in one account-region: the hub's own credentials, or a role assumed in the spoke. */
const rdsIn = async (account: string, region: string): Promise<RDSClient> => {
  if (account === HUB) return new RDSClient({ region });
  return new RDSClient({ region, credentials: await motoCredentials(account) });
};

const manualSnapshots = async (rds: RDSClient) =>
  ((await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }))).DBSnapshots ?? []).sort(
    (a, b) => (a.DBSnapshotIdentifier ?? '').localeCompare(b.DBSnapshotIdentifier ?? ''),
  );

const classOf = async (rds: RDSClient, id: string) =>
  (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances![0]!
    .DBInstanceClass;

describe("a spoke's forwarded events through the hub's deployed handlers, against moto over real HTTP", () => {
  useMotoEnvironment(HUB_REGION);
  const saved = { ...process.env };
  let unembed: () => void = () => undefined;
  let spoke: RDSClient;
  let spokeDr: RDSClient;
  let hub: RDSClient;
  let hubDr: RDSClient;
  let hubSpokeRegion: RDSClient;
  let spokeDrKey = '';

  beforeAll(async () => {
    // The hub as the stack deploys it: topics, state table, schedule group; the function's environment.
    const sns = new SNSClient({ region: HUB_REGION });
    const topic = async (s: string) =>
      (await sns.send(new CreateTopicCommand({ Name: `steward-${STAGE}-${s}` }))).TopicArn!;
    await createStateTable(new DynamoDBClient({ region: HUB_REGION }), STATE_TABLE);
    await new SchedulerClient({ region: HUB_REGION }).send(new CreateScheduleGroupCommand({ Name: GROUP }));
    Object.assign(process.env, {
      CRITICAL_TOPIC_ARN: await topic('critical'),
      WARNING_TOPIC_ARN: await topic('warning'),
      INFO_TOPIC_ARN: await topic('info'),
      DRY_RUN: 'false',
      STATE_TABLE,
      MAINTENANCE_SCHEDULE_GROUP: GROUP,
      MAINTENANCE_TARGET_ARN: `arn:aws:lambda:${HUB_REGION}:${HUB}:function:steward-${STAGE}-backup`,
      MAINTENANCE_ROLE_ARN: `arn:aws:iam::${HUB}:role/steward-${STAGE}-scheduler`,
    });
    unembed = embedConfig(config);

    hub = await rdsIn(HUB, HUB_REGION);
    hubDr = await rdsIn(HUB, DR);
    hubSpokeRegion = await rdsIn(HUB, SPOKE_REGION);
    spoke = await rdsIn(SPOKE, SPOKE_REGION);
    spokeDr = await rdsIn(SPOKE, DR);
    // The same databases in the hub and the spoke: a protected one, and one the scaling rule names.
    for (const rds of [hub, spoke])
      for (const [id, cls, tags] of [
        ['orders-db', 'db.t4g.micro', { 'steward:backup': 'daily' }],
        ['orders', LADDER[0], {}],
      ] as const)
        await rds.send(
          new CreateDBInstanceCommand({
            DBInstanceIdentifier: id,
            DBInstanceClass: cls,
            Engine: 'postgres',
            MasterUsername: 'app',
            MasterUserPassword: 'not-a-secret-1',
            AllocatedStorage: 20,
            Tags: tagList(tags),
          }),
        );
    // The spoke DR stack's key (infra/fleet.ts): a spoke's DR copies name its alias ARN as KmsKeyId.
    const { accessKeyId } = await spokeDr.config.credentials();
    spokeDrKey = await createMotoKey(
      process.env.AWS_ENDPOINT_URL!,
      accessKeyId,
      DR,
      `alias/steward-${STAGE}-spoke-dr`,
    );
  });

  afterAll(() => {
    unembed();
    process.env = saved;
  });

  it('a forwarded "snapshot created" event makes the DR copy in the spoke\'s account and DR region', async () => {
    // Prepare: the spoke's daily snapshot as its scheduled backup leaves it (id and tags), then its
    // RDS-EVENT-0042 as the spoke forwards it. (A scheduled run copies at once when the snapshot is available,
    // which moto's always is: the event is the path under test, so the snapshot is made here.)
    const id = 'steward-orders-db-202601150300-sched';
    const arn = `arn:aws:rds:${SPOKE_REGION}:${SPOKE}:snapshot:${id}`;
    await spoke.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: 'orders-db',
        DBSnapshotIdentifier: id,
        Tags: tagList({
          'steward:managed': 'true',
          'steward:policy': 'daily',
          'steward:source': 'orders-db',
          'steward:account': SPOKE,
          'steward:region': SPOKE_REGION,
        }),
      }),
    );
    const event = structuredClone(snapshotEvent);
    Object.assign(event, { account: SPOKE, region: SPOKE_REGION, resources: [arn] });
    Object.assign(event.detail, { SourceArn: arn, SourceIdentifier: id });
    expect((await manualSnapshots(spokeDr)).map((s) => s.DBSnapshotIdentifier)).toEqual([]);

    // Act
    await backupHandler(forwarded(event), contextOf('backup'));

    // Assert: the copy is in the spoke's account, in the DR region, under the spoke's DR key, from its source
    const [copy, ...more] = await manualSnapshots(spokeDr);
    expect(more).toEqual([]);
    // Named after its source region: the same database id in another region of the account gets its own.
    expect(copy!.DBSnapshotArn).toBe(`arn:aws:rds:${DR}:${SPOKE}:snapshot:${drCopyId(id, SPOKE_REGION)}`);
    expect(copy!.KmsKeyId).toBe(spokeDrKey);
    expect(copy!.TagList).toEqual(
      expect.arrayContaining([
        { Key: 'steward:copied-from', Value: arn },
        { Key: 'steward:account', Value: SPOKE },
        { Key: 'steward:region', Value: SPOKE_REGION },
      ]),
    );
    // …and nothing of it in the hub: no snapshot in its region, its DR region, or the spoke's region.
    for (const rds of [hub, hubDr, hubSpokeRegion]) expect(await manualSnapshots(rds)).toEqual([]);
  });

  it("a forwarded alarm scales the spoke's database, not the hub's of the same name", async () => {
    // Prepare: the spoke's alarm state change, now (an old transition is stale and not acted on)
    const event = structuredClone(alarmEvent);
    Object.assign(event, {
      account: SPOKE,
      region: SPOKE_REGION,
      resources: [`arn:aws:cloudwatch:${SPOKE_REGION}:${SPOKE}:alarm:orders-cpu-high`],
    });
    event.detail.alarmName = 'orders-cpu-high';
    event.detail.state.timestamp = new Date().toISOString().replace('Z', '+0000');

    // Act
    await scalingHandler(forwarded(event), contextOf('scaling'));

    // Assert: one rung up in the spoke; the hub's `orders` keeps its class
    expect(await classOf(spoke, 'orders')).toBe(LADDER[1]);
    expect(await classOf(hub, 'orders')).toBe(LADDER[0]);
  });

  it('a forwarded Health scheduled change schedules the pre-change snapshot in the hub, taken in the spoke', async () => {
    // Prepare: maintenance of the spoke's orders-db in a week
    const start = new Date(Date.now() + 7 * 86_400_000);
    const event = structuredClone(healthEvent);
    Object.assign(event, { account: SPOKE, region: SPOKE_REGION, time: new Date().toISOString() });
    Object.assign(event.detail, {
      affectedAccount: SPOKE,
      eventRegion: SPOKE_REGION,
      startTime: start.toUTCString(),
      endTime: new Date(start.getTime() + 4 * 3_600_000).toUTCString(),
    });
    const before = (await manualSnapshots(spoke)).map((s) => s.DBSnapshotIdentifier);
    const scheduler = new SchedulerClient({ region: HUB_REGION });

    // Act: the forwarded event, then the schedule's payload as Scheduler delivers it when it fires
    await backupHandler(forwarded(event), contextOf('backup'));
    const listed = await scheduler.send(new ListSchedulesCommand({ GroupName: GROUP }));
    const [one, ...others] = listed.Schedules ?? [];
    const schedule = await scheduler.send(new GetScheduleCommand({ GroupName: GROUP, Name: one!.Name! }));
    const payload = JSON.parse(schedule.Target!.Input!) as Record<string, unknown>;
    await backupHandler(payload, contextOf('backup'));

    // Assert: the schedule is the hub's (its group, its function), its payload names the spoke target…
    expect(others).toEqual([]);
    expect(schedule.Target!.Arn).toBe(process.env.MAINTENANCE_TARGET_ARN);
    expect(payload).toMatchObject({
      action: 'snapshot',
      resource: `arn:aws:rds:${SPOKE_REGION}:${SPOKE}:db:orders-db`,
      target: { account: SPOKE, region: SPOKE_REGION },
    });
    // …and the pre-change snapshot is in the spoke's account and region, none in the hub's
    const made = (await manualSnapshots(spoke)).filter((s) => !before.includes(s.DBSnapshotIdentifier));
    expect(made).toHaveLength(1);
    expect(made[0]!.DBSnapshotArn).toMatch(
      new RegExp(`^arn:aws:rds:${SPOKE_REGION}:${SPOKE}:snapshot:steward-orders-db-`),
    );
    for (const rds of [hub, hubDr, hubSpokeRegion]) expect(await manualSnapshots(rds)).toEqual([]);
  });
});
