import { EC2Client } from '@aws-sdk/client-ec2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import failover from '../../../events/rds/aws-instance-failover.json' with { type: 'json' };
import { fleetWiring, run } from '../../../functions/backup/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { runFleetEvent } from '../../../shared/fleet/child.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { atPlace, type BaseDeps } from '../../../shared/runtime.js';
import { SCALING_FLEET_CONFIG } from '../../support/fleet.js';
import { assumedRole, sentBy } from '../../support/fleet-mocks.js';

// A spoke's RDS database event, forwarded to the hub's fleet bus (the hub rule FleetDatabaseEventRule wraps it,
// test/infra/event-patterns.test.ts), through the backup handler's fleet wiring (SDK mocked): the database is
// looked up in the spoke with the spoke backup role, and the notification names the spoke's account and region.
const sts = mockClient(STSClient);
const rds = mockClient(RDSClient);
const cache = mockClient(ElastiCacheClient);
const ec2 = mockClient(EC2Client);
const scheduler = mockClient(SchedulerClient);

const ACCOUNT = '222222222222';
const REGION = 'eu-central-1';
const config = parseConfig(SCALING_FLEET_CONFIG, 'fleet');

/** The documented RDS event (events/README.md) about `db`, with `eventId`, as the spoke in ACCOUNT REGION forwards it. */
const forwarded = (db: string, eventId: string) => {
  const arn = `arn:aws:rds:${REGION}:${ACCOUNT}:db:${db}`;
  const event = {
    ...structuredClone(failover),
    account: ACCOUNT,
    region: REGION,
    resources: [arn],
    detail: { ...failover.detail, SourceArn: arn, SourceIdentifier: `rds:${db}`, EventID: eventId },
  };
  return { action: 'forwarded', partition: 'aws', event };
};

const base = (notifier: ReturnType<typeof memoryNotifier>) => (): BaseDeps => ({
  config,
  dryRun: false,
  notifier,
  now: () => new Date('2018-09-27T22:40:00Z'),
});

beforeEach(() => {
  for (const m of [sts, rds, cache, ec2, scheduler]) m.reset();
  rds.onAnyCommand().resolves({});
  cache.onAnyCommand().resolves({});
  ec2.onAnyCommand().resolves({});
  sts.on(AssumeRoleCommand).resolves(assumedRole('SPOKEDB'));
  rds.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'orders',
        DBInstanceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:orders`,
        DBInstanceStatus: 'storage-full',
        Engine: 'postgres',
        TagList: [{ Key: 'steward:backup', Value: 'daily' }],
      },
    ],
  });
});

describe("a spoke's forwarded RDS database event in the backup handler", () => {
  it('tells a storage-full of a protected database at critical, naming the spoke, and changes nothing', async () => {
    // Prepare
    const notifier = memoryNotifier();
    const raw = forwarded('orders', 'RDS-EVENT-0007');

    // Act
    await runFleetEvent(raw, fleetWiring(base(notifier), {}), (e, d) => run(e, atPlace(d, raw)));

    // Assert
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: `arn:aws:iam::${ACCOUNT}:role/steward-prod-spoke-backup-${REGION}`,
    });
    expect(await sentBy(rds, DescribeDBInstancesCommand)).toEqual({ key: 'AKIASPOKEDB', region: REGION });
    expect(notifier.sent).toHaveLength(1);
    const [message] = notifier.sent;
    expect(message!.severity).toBe('critical');
    expect(message!.place).toEqual({ account: ACCOUNT, region: REGION, fleet: true });
    expect(message!.subject).toContain('orders');
    expect(message!.subject).toContain('RDS-EVENT-0007');
    expect(scheduler.calls()).toEqual([]);
  });

  it('ignores the event of a database steward does not protect there', async () => {
    // Prepare
    const notifier = memoryNotifier();
    const raw = forwarded('scratch', 'RDS-EVENT-0049');

    // Act
    await runFleetEvent(raw, fleetWiring(base(notifier), {}), (e, d) => run(e, atPlace(d, raw)));

    // Assert
    expect(notifier.sent).toEqual([]);
  });
});
