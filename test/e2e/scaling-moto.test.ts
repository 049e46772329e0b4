import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateDBInstanceReadReplicaCommand,
  DescribeDBInstancesCommand,
  ListTagsForResourceCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import alarmEvent from '../../events/scaling/alarm-state-change.json' with { type: 'json' };
import okEvent from '../../events/scaling/alarm-ok.json' with { type: 'json' };
import * as scaling from '../../functions/scaling/handler.js';
import { parseConfig } from '../../shared/config/schema.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import type { BaseDeps } from '../../shared/runtime.js';
import { createMotoInstance, useMotoEnvironment } from '../support/moto.js';

// End to end through real HTTP and the real SDK serialisers against moto: the RDS requests scaling sends
// and the DynamoDB conditions it relies on are ones the APIs accept. Timing and states: mocks, elsewhere.
const REGION = 'eu-west-1';
const TABLE = 'steward-e2e-state';

describe('scaling against emulated RDS and DynamoDB endpoints', () => {
  let rds: RDSClient;
  const config = parseConfig(
    {
      stage: 'staging',
      region: REGION,
      scaling: {
        enabled: true,
        rules: {
          'orders-db-cpu': {
            alarm: { name: 'orders-db-cpu-high' },
            resource: 'orders-db',
            action: {
              type: 'rds.scaleUp',
              ladder: ['db.r6g.large', 'db.r6g.xlarge'],
              max: 'db.r6g.xlarge',
              applyImmediately: true,
            },
            cooldownMinutes: 0,
          },
          'orders-db-connections': {
            alarm: { name: 'orders-db-connections-high' },
            resource: 'orders-db',
            action: { type: 'rds.addReadReplica', maxReplicas: 1 },
            cooldownMinutes: 0,
          },
          'ledger-db-connections': {
            alarm: { name: 'ledger-db-connections-high' },
            resource: 'ledger-db',
            action: { type: 'rds.addReadReplica', maxReplicas: 2 },
            cooldownMinutes: 0,
            scaleIn: { enabled: true, afterOkMinutes: 60 },
          },
          'orders-db-failover': {
            alarm: { name: 'orders-db-unhealthy' },
            resource: 'orders-db',
            action: { type: 'rds.failover' },
            mode: 'approve',
            cooldownMinutes: 0,
          },
        },
      },
    },
    'e2e',
  );
  // The run happens just after the transition: an ALARM delivered much later is stale and not acted on.
  const deps = (now = new Date()) => {
    const base: BaseDeps = { config, dryRun: false, notifier: memoryNotifier(), now: () => now };
    return scaling.wire(base, { STATE_TABLE: TABLE });
  };
  const alarm = (alarmName: string, timestamp: string) => {
    const e = structuredClone(alarmEvent);
    e.detail.alarmName = alarmName;
    e.detail.state.timestamp = timestamp;
    return e;
  };
  const ordersDb = async () =>
    (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders-db' }))).DBInstances![0]!;

  useMotoEnvironment(REGION);

  beforeAll(async () => {
    rds = new RDSClient({ region: REGION });
    await createMotoInstance(rds, 'orders-db', {
      DBInstanceClass: 'db.r6g.large',
      MultiAZ: true,
      BackupRetentionPeriod: 1,
      Tags: [{ Key: 'team', Value: 'orders' }],
    });
    await new DynamoDBClient({ region: REGION }).send(
      new CreateTableCommand({
        TableName: TABLE,
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });

  it('scales the class up one rung, and the same transition again changes nothing', async () => {
    // Act
    const first = await scaling.run(
      alarm('orders-db-cpu-high', '2026-01-15T10:00:00.000+0000'),
      deps(new Date('2026-01-15T10:00:00.000Z')),
    );
    const again = await scaling.run(
      alarm('orders-db-cpu-high', '2026-01-15T10:00:00.000+0000'),
      deps(new Date('2026-01-15T10:00:00.000Z')),
    );

    // Assert
    expect(first.decisions[0]!.status).toBe('done');
    expect(again.decisions[0]!.decision).toMatchObject({ reason: 'duplicate' });
    expect((await ordersDb()).DBInstanceClass).toBe('db.r6g.xlarge');
  });

  it('creates a tagged read replica, then refuses a second one over maxReplicas', async () => {
    // Act
    const first = await scaling.run(
      alarm('orders-db-connections-high', '2026-01-15T10:10:00.000+0000'),
      deps(new Date('2026-01-15T10:10:00.000Z')),
    );
    const second = await scaling.run(
      alarm('orders-db-connections-high', '2026-01-15T10:20:00.000+0000'),
      deps(new Date('2026-01-15T10:20:00.000Z')),
    );

    // Assert
    expect(first.decisions[0]!.status).toBe('done');
    expect(second.decisions[0]!.decision).toMatchObject({ verdict: 'skip', reason: 'at-max' });
    const replica = (
      await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders-db-replica-1' }))
    ).DBInstances![0]!;
    const tags = await rds.send(new ListTagsForResourceCommand({ ResourceName: replica.DBInstanceArn }));
    expect(Object.fromEntries((tags.TagList ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({
      team: 'orders',
      'steward:managed': 'true',
      'steward:source': 'orders-db',
    });
  });

  it('asks for approval, then executes the failover once', async () => {
    // Act
    const asked = await scaling.run({ action: 'run-playbook', alarm: 'orders-db-unhealthy' }, deps());
    const id = asked.decisions[0]!.approvalId!;
    const done = await scaling.run({ action: 'approve', id }, deps());
    const again = await scaling.run({ action: 'approve', id }, deps());

    // Assert
    expect(asked.decisions[0]!.status).toBe('approval-requested');
    expect(done.decisions[0]!.status).toBe('done');
    expect(again.decisions[0]!.status).toBe('already-done');
  });

  it("scale-in deletes steward's own replica and leaves a newer hand-made one of steward's name", async () => {
    // Prepare: steward's ledger-db-replica-1 (through the function), then ledger-db-replica-2 made by hand.
    // Times around the real clock: moto stamps the alarm's state change with it.
    const cw = new CloudWatchClient({ region: REGION });
    const minutes = (n: number) => new Date(Date.now() + n * 60_000);
    const iso = (d: Date) => d.toISOString().replace('Z', '+0000');
    await createMotoInstance(rds, 'ledger-db', { BackupRetentionPeriod: 1 });
    const created = await scaling.run(
      alarm('ledger-db-connections-high', iso(minutes(-10))),
      deps(minutes(-10)),
    );
    await rds.send(
      new CreateDBInstanceReadReplicaCommand({
        DBInstanceIdentifier: 'ledger-db-replica-2',
        SourceDBInstanceIdentifier: 'ledger-db',
        Tags: [{ Key: 'team', Value: 'ledger' }],
      }),
    );
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'ledger-db-connections-high',
        Namespace: 'AWS/RDS',
        MetricName: 'DatabaseConnections',
        Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'ledger-db' }],
        Statistic: 'Average',
        Period: 60,
        EvaluationPeriods: 3,
        Threshold: 800,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    );
    await cw.send(
      new SetAlarmStateCommand({
        AlarmName: 'ledger-db-connections-high',
        StateValue: 'OK',
        StateReason: 'e2e',
      }),
    );
    const ok = structuredClone(okEvent);
    ok.detail.alarmName = 'ledger-db-connections-high';
    ok.detail.state.timestamp = iso(minutes(-5));
    await scaling.run(ok, deps(minutes(-5)));

    // Act: the check two hours on (the OK held, CloudWatch confirms it).
    const check = await scaling.run({ action: 'scale-in-check' }, deps(minutes(120)));

    // Assert
    expect(created.decisions[0]!.status).toBe('done');
    expect(check.decisions[0]).toMatchObject({
      status: 'done',
      decision: {
        change: { type: 'rds.deleteReplica', instanceId: 'ledger-db-replica-1' },
        reason: expect.stringContaining(
          "ledger-db-replica-2 is named like steward's but not tagged as created by it: left alone",
        ),
      },
    });
    const left = await rds.send(new DescribeDBInstancesCommand({}));
    expect(left.DBInstances!.map((d) => d.DBInstanceIdentifier)).toContain('ledger-db-replica-2');
    expect(left.DBInstances!.map((d) => d.DBInstanceIdentifier)).not.toContain('ledger-db-replica-1');
  });

  it("reads the scale-in check's alarm states in one DescribeAlarms: OK, INSUFFICIENT_DATA, ALARM, missing", async () => {
    // Prepare: three alarms as the scale-in check would find them after their transitions.
    const cw = new CloudWatchClient({ region: REGION });
    const states = { 'e2e-ok-high': 'OK', 'e2e-nodata-high': 'INSUFFICIENT_DATA', 'e2e-alarm-high': 'ALARM' };
    for (const [name, state] of Object.entries(states)) {
      await cw.send(
        new PutMetricAlarmCommand({
          AlarmName: name,
          Namespace: 'AWS/RDS',
          MetricName: 'CPUUtilization',
          Dimensions: [{ Name: 'DBInstanceIdentifier', Value: 'orders-db' }],
          Statistic: 'Average',
          Period: 60,
          EvaluationPeriods: 3,
          Threshold: 80,
          ComparisonOperator: 'GreaterThanThreshold',
        }),
      );
      await cw.send(
        new SetAlarmStateCommand({ AlarmName: name, StateValue: state as 'OK', StateReason: 'e2e' }),
      );
    }

    // Act: through the function's own wiring (the describer the scale-in check uses).
    const live = await deps().alarms!.states!([...Object.keys(states), 'e2e-missing-high']);

    // Assert
    expect(Object.fromEntries([...live].map(([n, s]) => [n, s.state]))).toEqual(states);
    for (const s of live.values()) expect(s.since).toBeInstanceOf(Date);
  });
});
