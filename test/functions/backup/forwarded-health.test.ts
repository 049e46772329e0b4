import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import driveDegraded from '../../../events/health/aws-ec2-instance-store-drive-degraded-backup.json' with { type: 'json' };
import healthEvent from '../../../events/health/rds-maintenance-scheduled.json' with { type: 'json' };
import { fleetWiring, run } from '../../../functions/backup/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { runFleetEvent } from '../../../shared/fleet/child.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { atPlace, type BaseDeps } from '../../../shared/runtime.js';
import { SCALING_FLEET_CONFIG } from '../../support/fleet.js';
import { assumedRole, sentBy } from '../../support/fleet-mocks.js';

// A spoke's AWS Health scheduled maintenance, forwarded to the hub's fleet bus, through the backup handler's
// fleet wiring (SDK mocked): the spoke's protected database is found with the spoke backup role, its
// pre-change snapshot is scheduled in the hub with a payload that names the target, and the notification
// names the spoke's account and region.
const sts = mockClient(STSClient);
const rds = mockClient(RDSClient);
const cache = mockClient(ElastiCacheClient);
const ec2 = mockClient(EC2Client);
const scheduler = mockClient(SchedulerClient);

const ACCOUNT = '222222222222';
const REGION = 'eu-central-1';
// A policy backs EC2 instances up (`instances`): a stage without one lists no EC2, as its roles may not.
const config = parseConfig(
  {
    ...SCALING_FLEET_CONFIG,
    backup: {
      ...SCALING_FLEET_CONFIG.backup,
      policies: { ...SCALING_FLEET_CONFIG.backup!.policies, instances: { kinds: ['ebs'] } },
      maintenance: { enabled: true },
    },
  },
  'fleet',
);
const env = {
  MAINTENANCE_SCHEDULE_GROUP: 'steward-prod',
  MAINTENANCE_TARGET_ARN: 'arn:aws:lambda:eu-west-1:111111111111:function:steward-prod-backup',
  MAINTENANCE_ROLE_ARN: 'arn:aws:iam::111111111111:role/steward-prod-scheduler',
};

/** The documented Health event (events/README.md), as the spoke in ACCOUNT REGION forwards it. */
const forwarded = () => {
  const event = structuredClone(healthEvent);
  Object.assign(event, { account: ACCOUNT, region: REGION });
  Object.assign(event.detail, { affectedAccount: ACCOUNT, eventRegion: REGION });
  return { action: 'forwarded', partition: 'aws', event };
};

beforeEach(() => {
  for (const m of [sts, rds, cache, ec2, scheduler]) m.reset();
  rds.onAnyCommand().resolves({});
  cache.onAnyCommand().resolves({});
  ec2.onAnyCommand().resolves({});
  sts.on(AssumeRoleCommand).resolves(assumedRole('SPOKEHEALTH'));
  rds.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'orders-db',
        DBInstanceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:orders-db`,
        DBInstanceStatus: 'available',
        Engine: 'postgres',
        TagList: [{ Key: 'steward:backup', Value: 'daily' }],
      },
    ],
  });
  scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:::schedule/x' });
});

describe("a spoke's forwarded AWS Health maintenance in the backup handler", () => {
  it('schedules the pre-change snapshot in the hub for the target, and names its account and region', async () => {
    // Prepare
    const notifier = memoryNotifier();
    const base = (): BaseDeps => ({
      config,
      dryRun: false,
      notifier,
      now: () => new Date('2026-01-12T09:00:00Z'),
    });
    const raw = forwarded();

    // Act
    await runFleetEvent(raw, fleetWiring(base, env), (e, d) => run(e, atPlace(d, raw)));

    // Assert
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: `arn:aws:iam::${ACCOUNT}:role/steward-prod-spoke-backup-${REGION}`,
    });
    const client = rds.commandCalls(DescribeDBInstancesCommand)[0]!.thisValue as RDSClient;
    expect(await client.config.region()).toBe(REGION);
    const [create] = scheduler.commandCalls(CreateScheduleCommand);
    expect(await (create!.thisValue as SchedulerClient).config.region()).toBe('eu-west-1');
    const payload = JSON.parse(create!.args[0].input.Target!.Input!) as Record<string, unknown>;
    expect(payload).toMatchObject({
      action: 'snapshot',
      resource: `arn:aws:rds:${REGION}:${ACCOUNT}:db:orders-db`,
      target: {
        account: ACCOUNT,
        region: REGION,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/steward-prod-spoke-backup-${REGION}`,
      },
    });
    // The place every route renders (subject, body, chat, pager: shared/notify) is the spoke's.
    const [message] = notifier.sent;
    expect(message!.place).toEqual({ account: ACCOUNT, region: REGION, fleet: true });
    expect(message!.lines.join('\n')).toContain('AWS_RDS_MAINTENANCE_SCHEDULED');
  });

  it("tells a spoke's EC2 issue on a protected instance, naming its account and region, and acts on nothing", async () => {
    // Prepare: AWS's account issue sample, as delivered in the spoke's own region
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: 'i-abcd1111',
              State: { Name: 'running' },
              BlockDeviceMappings: [{ Ebs: { VolumeId: 'vol-0abcd1111' } }],
              Tags: [{ Key: 'steward:backup', Value: 'instances' }],
            },
          ],
        },
      ],
    });
    const event = structuredClone(driveDegraded);
    Object.assign(event, { account: ACCOUNT, region: REGION });
    Object.assign(event.detail, { affectedAccount: ACCOUNT, eventRegion: REGION, backupEvent: 'false' });
    const raw = { action: 'forwarded', partition: 'aws', event };
    const notifier = memoryNotifier();
    const base = (): BaseDeps => ({
      config,
      dryRun: false,
      notifier,
      now: () => new Date('2022-06-03T07:00:00Z'),
    });

    // Act
    await runFleetEvent(raw, fleetWiring(base, env), (e, d) => run(e, atPlace(d, raw)));

    // Assert
    expect(await sentBy(ec2, DescribeInstancesCommand)).toEqual({ key: 'AKIASPOKEHEALTH', region: REGION });
    expect(notifier.sent).toHaveLength(1);
    const [message] = notifier.sent;
    expect(message!.place).toEqual({ account: ACCOUNT, region: REGION, fleet: true });
    expect(message!.subject).toBe(
      'AWS Health issue: AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED on i-abcd1111',
    );
    expect(scheduler.calls()).toEqual([]);
  });
});
