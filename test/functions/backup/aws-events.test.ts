import { SchedulerClient, CreateScheduleCommand } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import classicScheduled from '../../../events/backup/aws-classic-scheduled-event.json' with { type: 'json' };
import databasesFixture from '../../../events/inventory/databases.json' with { type: 'json' };
import cacheHealth from '../../../events/health/elasticache-maintenance-scheduled.json' with { type: 'json' };
import health from '../../../events/health/rds-maintenance-scheduled.json' with { type: 'json' };
import failover from '../../../events/rds/aws-instance-failover.json' with { type: 'json' };
import clusterFailover from '../../../events/rds/cluster-failover.json' with { type: 'json' };
import { type BackupDeps, run } from '../../../functions/backup/handler.js';
import { run as runRetention } from '../../../functions/retention/handler.js';
import { schedulerBackup } from '../../../shared/aws/scheduler.js';
import { preChangeScheduleName } from '../../../shared/backup/maintenance.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { EventShapeError, PartialFailureError } from '../../../shared/errors.js';
import type { Database } from '../../../shared/model.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { fakeBackupPort, fakeCopyPort } from '../../fakes/backup-ports.js';
import { fakeSnapshotStore } from '../../fakes/snapshot-store.js';

const REGION = 'eu-west-1';
const sched = mockClient(SchedulerClient);
const meta = { $metadata: {} };
const clone = <T>(v: T): T => structuredClone(v);
const FN = 'arn:aws:lambda:eu-west-1:111122223333:function:steward-prod-backup';
const ROLE = 'arn:aws:iam::111122223333:role/steward-prod-backup-scheduler';
const DLQ = 'arn:aws:sqs:eu-west-1:111122223333:steward-prod-backup-failures';
// The documented RDS failover example names `my-db-instance`: here it is a protected database too.
const mine: Database = {
  kind: 'rds-instance',
  id: 'my-db-instance',
  arn: 'arn:aws:rds:eu-west-1:111122223333:db:my-db-instance',
  region: REGION,
  engine: 'postgres',
  status: 'available',
  tags: { 'steward:backup': 'daily' },
};

const setup = (now: string, over: { scheduler?: boolean; dbs?: Database[]; config?: object } = {}) => {
  const store = fakeSnapshotStore(REGION, []);
  const primary = fakeBackupPort(REGION, over.dbs ?? [...(databasesFixture as Database[]), mine], [], store);
  const notifier = memoryNotifier();
  const deps: BackupDeps = {
    config: parseConfig({ stage: 'prod', region: REGION, ...over.config }, 'test'),
    dryRun: false,
    notifier,
    now: () => new Date(now),
    primary,
    dr: fakeCopyPort('us-west-2'),
    snapshots: { primary: store, dr: fakeSnapshotStore('us-west-2', []) },
    ...(over.scheduler === false
      ? {}
      : {
          scheduler: schedulerBackup(new SchedulerClient({ region: REGION }), {
            group: 'steward-prod',
            functionArn: FN,
            roleArn: ROLE,
            deadLetterArn: DLQ,
          }),
        }),
  };
  return { deps, notifier, primary };
};

describe('AWS Health scheduled maintenance', () => {
  beforeEach(() => sched.reset());

  it('schedules a pre-change snapshot of the protected database at window start minus the lead time, and says when', async () => {
    // Prepare: window Sat 24 Jan 2026 02:00–06:00 UTC, lead 60 min by default
    sched.on(CreateScheduleCommand).resolves({ ...meta, ScheduleArn: 'arn:x' });
    const { deps, notifier, primary } = setup('2026-01-10T09:00:05Z');

    // Act
    const r = await run(health, deps);

    // Assert
    const name = preChangeScheduleName(
      'prod',
      health.detail.eventArn,
      'arn:aws:rds:eu-west-1:111122223333:db:orders-db',
    );
    expect(sched).toReceiveCommandWith(CreateScheduleCommand, {
      Name: name,
      GroupName: 'steward-prod',
      ScheduleExpression: 'at(2026-01-24T01:00:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: expect.objectContaining({ Arn: FN, RoleArn: ROLE, DeadLetterConfig: { Arn: DLQ } }),
    });
    const input = JSON.parse(sched.commandCalls(CreateScheduleCommand)[0]!.args[0].input.Target!.Input!);
    expect(input).toEqual({
      action: 'snapshot',
      resource: 'arn:aws:rds:eu-west-1:111122223333:db:orders-db',
      reason: 'pre-maintenance AWS_RDS_MAINTENANCE_SCHEDULED',
      retainDays: 90,
      requestedAt: '2026-01-24T01:00:00.000Z',
    });
    expect(name).toMatch(/^steward-prod-pre-[0-9a-f]{16}$/);
    expect(r.summary).toBe(
      'AWS_RDS_MAINTENANCE_SCHEDULED 2026-01-24T02:00Z to 2026-01-24T06:00Z: pre-change snapshot of orders-db 60 min before',
    );
    expect(notifier.sent[0]!.lines.join('\n')).toMatch(
      /orders-db \(rds-instance\): pre-change snapshot at 2026-01-24T01:00Z, 60 min before the window, kept 90 days/,
    );
    expect(primary.created).toEqual([]);
  });

  it('an ElastiCache node in the event means its replication group: the pre-change snapshot is of the group', async () => {
    // Prepare: the sample names node sessions-0001-001 of the protected group `sessions`
    sched.on(CreateScheduleCommand).resolves({ ...meta, ScheduleArn: 'arn:x' });
    const { deps, primary } = setup('2026-01-10T09:00:05Z');

    // Act
    const r = await run(cacheHealth, deps);

    // Assert
    const input = JSON.parse(sched.commandCalls(CreateScheduleCommand)[0]!.args[0].input.Target!.Input!);
    expect(input).toMatchObject({
      action: 'snapshot',
      resource: 'arn:aws:elasticache:eu-west-1:111122223333:replicationgroup:sessions',
      reason: 'pre-maintenance AWS_ELASTICACHE_MAINTENANCE_SCHEDULED',
      requestedAt: '2026-01-24T01:00:00.000Z',
    });
    expect(sched.commandCalls(CreateScheduleCommand)).toHaveLength(1);
    expect(r.summary).toMatch(/pre-change snapshot of sessions 60 min before/);
    expect(primary.created).toEqual([]);
  });

  it('is idempotent on a retried event: the schedule name is taken, nothing is scheduled twice', async () => {
    sched
      .on(CreateScheduleCommand)
      .rejects(Object.assign(new Error('exists'), { name: 'ConflictException' }));
    const { deps } = setup('2026-01-10T09:00:05Z');

    const r = await run(health, deps);

    expect(r.outcomes[0]).toMatchObject({ status: 'already-done', resource: 'orders-db' });
  });

  it('the payload it schedules is one the backup function accepts: a pre-change snapshot taken at the scheduled time', async () => {
    sched.on(CreateScheduleCommand).resolves(meta);
    const { deps, primary } = setup('2026-01-10T09:00:05Z');
    await run(health, deps);
    const input = JSON.parse(sched.commandCalls(CreateScheduleCommand)[0]!.args[0].input.Target!.Input!);

    const fired = setup('2026-01-24T01:00:02Z');
    await run(input, { ...fired.deps });

    expect(fired.primary.created[0]).toMatchObject({
      dbId: 'orders-db',
      snapshotId: 'steward-orders-db-202601240100-adhoc',
    });
    expect(primary.created).toEqual([]);
  });

  it('takes the snapshot now when the window is closer than the lead time', async () => {
    const { deps, primary } = setup('2026-01-24T01:30:00Z');

    await run(health, deps);

    expect(sched).toReceiveCommandTimes(CreateScheduleCommand, 0);
    expect(primary.created[0]).toMatchObject({ dbId: 'orders-db' });
  });

  it('ignores, with the reason, a database steward does not protect, and sends nothing', async () => {
    const { deps, notifier } = setup('2026-01-10T09:00:05Z');
    const e = clone(health);
    e.detail.affectedEntities = [{ entityValue: 'legacy-reporting', lastUpdatedTime: '', status: 'PENDING' }];

    const r = await run(e, deps);

    expect(r.maintenance).toEqual([
      expect.objectContaining({
        mode: 'skip',
        reason: 'legacy-reporting is not protected (no steward:backup tag)',
      }),
    ]);
    expect(notifier.sent).toEqual([]);
    expect(sched).toReceiveCommandTimes(CreateScheduleCommand, 0);
  });

  it.each([
    [
      'an account notification, neither a scheduled change nor an issue',
      (e: typeof health) => (e.detail.eventTypeCategory = 'accountNotification'),
      /is a accountNotification, not a scheduled change or an issue/,
    ],
    [
      'another service',
      (e: typeof health) => (e.detail.service = 'LAMBDA'),
      /about LAMBDA, not RDS, ELASTICACHE, EC2, EBS/,
    ],
    [
      "the backup-region copy of an event (the event's own region acts on it)",
      (e: typeof health) => Object.assign(e.detail, { backupEvent: 'true' }),
      /backup-region copy of an event about eu-west-1/,
    ],
  ])('ignores %s, logging why', async (_w, change, reason) => {
    const { deps } = setup('2026-01-10T09:00:05Z');
    const e = clone(health);
    change(e);

    const r = await run(e, deps);

    expect(r).toMatchObject({ action: 'ignored', summary: expect.stringMatching(reason) });
  });

  it('fails loudly, naming the field, on a scheduled change without a start time', async () => {
    const { deps } = setup('2026-01-10T09:00:05Z');
    const e = clone(health) as { detail: Record<string, unknown> };
    delete e.detail.startTime;

    const err = (await run(e, deps).catch((x: unknown) => x)) as EventShapeError;

    expect(err.issues).toEqual([
      'detail.startTime: required for a scheduled change (when the window starts)',
    ]);
  });

  it('reports a failure to schedule as critical and fails the run', async () => {
    sched
      .on(CreateScheduleCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const { deps, notifier } = setup('2026-01-10T09:00:05Z');

    const err = await run(health, deps).catch((x: unknown) => x);

    expect(err).toBeInstanceOf(PartialFailureError);
    expect(notifier.sent[0]!.severity).toBe('critical');
  });
});

describe('RDS failover, stop/start and storage events', () => {
  it('tells about a failover of a protected database at warning (the documented RDS-EVENT-0049 example)', async () => {
    const { deps, notifier } = setup('2018-09-27T22:36:45Z');

    const r = await run(failover, deps);

    expect(r.action).toBe('rds-event');
    expect(notifier.sent[0]).toMatchObject({
      severity: 'warning',
      subject: 'my-db-instance: Multi-AZ failover completed (RDS-EVENT-0049)',
    });
    expect(notifier.sent[0]!.lines.join('\n')).toMatch(/RDS says: A Multi-AZ failover has completed\./);
  });

  it.each([
    ['RDS-EVENT-0087', 'warning', /stopped/],
    ['RDS-EVENT-0088', 'info', /started/],
    ['RDS-EVENT-0007', 'critical', /storage-full/],
    ['RDS-EVENT-0089', 'warning', /more than 90 %/],
  ])('%s becomes a %s notification', async (id, severity, what) => {
    const { deps, notifier } = setup('2018-09-27T22:36:45Z');
    const e = clone(failover);
    e.detail.EventID = id;

    await run(e, deps);

    expect(notifier.sent[0]).toMatchObject({ severity, subject: expect.stringMatching(what) });
  });

  it('tells about an Aurora cluster failover of a protected cluster (RDS-EVENT-0071, a DB cluster event)', async () => {
    const { deps, notifier } = setup('2018-09-27T22:36:45Z');

    const r = await run(clusterFailover, deps);

    expect(r.action).toBe('rds-event');
    expect(notifier.sent[0]).toMatchObject({
      severity: 'warning',
      subject: 'analytics: cluster failover completed (RDS-EVENT-0071)',
    });
    expect(notifier.sent[0]!.lines.join('\n')).toMatch(
      /on aurora-cluster analytics, protected by backup policy "daily"[\s\S]*RDS says: Completed failover to DB instance: analytics-instance-2/,
    );
  });

  it.each([
    ['RDS-EVENT-0069', 'critical', /cluster failover failed/],
    ['RDS-EVENT-0070', 'warning', /promoting the previous primary again/],
    ['RDS-EVENT-0072', 'warning', /same-AZ failover started/],
    ['RDS-EVENT-0073', 'warning', /cross-AZ failover started/],
    ['RDS-EVENT-0150', 'warning', /cluster stopped/],
    ['RDS-EVENT-0151', 'info', /cluster started/],
    ['RDS-EVENT-0153', 'warning', /started by RDS after .* stopped/],
  ])('the DB cluster event %s becomes a %s notification', async (id, severity, what) => {
    const { deps, notifier } = setup('2018-09-27T22:36:45Z');
    const e = clone(clusterFailover);
    e.detail.EventID = id;

    await run(e, deps);

    expect(notifier.sent[0]).toMatchObject({ severity, subject: expect.stringMatching(what) });
  });

  it('takes a DB cluster event for the cluster, not for an instance of the same name, and the other way round', async () => {
    const twin: Database = {
      ...mine,
      id: 'analytics',
      arn: 'arn:aws:rds:eu-west-1:111122223333:db:analytics',
      tags: {},
    };
    const { deps, notifier } = setup('2018-09-27T22:36:45Z', {
      dbs: [twin, ...(databasesFixture as Database[])],
    });

    await run(clusterFailover, deps);
    expect(notifier.sent[0]!.lines[0]).toMatch(/on aurora-cluster analytics/);

    // An instance event names the instance: the unprotected twin is not told about, whatever the cluster is.
    const instance = JSON.parse(
      JSON.stringify(failover).replaceAll('my-db-instance', 'analytics'),
    ) as typeof failover;
    expect(await run(instance, deps)).toMatchObject({
      action: 'ignored',
      summary: expect.stringContaining('not protected'),
    });
  });

  it('ignores, with the reason, an event about an unprotected database or one steward does not tell about', async () => {
    const { deps, notifier } = setup('2018-09-27T22:36:45Z', { dbs: databasesFixture as Database[] });
    const other = clone(failover);
    other.detail.EventID = 'RDS-EVENT-0006';

    expect(await run(failover, deps)).toMatchObject({
      action: 'ignored',
      summary: expect.stringContaining('not a database in this region'),
    });
    expect(await run(other, deps)).toMatchObject({
      action: 'ignored',
      summary: expect.stringContaining('RDS-EVENT-0006'),
    });
    expect(notifier.sent).toEqual([]);
  });
});

describe('a classic EventBridge "Scheduled Event" wired by hand', () => {
  it('gets a message that says what payload the backup function expects', async () => {
    const { deps } = setup('2015-10-08T16:53:07Z');

    const err = (await run(classicScheduled, deps).catch((x: unknown) => x)) as EventShapeError;

    expect(err).toBeInstanceOf(EventShapeError);
    expect(err.message).toMatch(/classic EventBridge "Scheduled Event" carries no backup request/);
    expect(err.issues[0]).toMatch(
      /"action":"scheduled-backup","policy":"<one of: daily>","scheduledTime":"<aws.scheduler.scheduled-time>"/,
    );
  });

  it('and so does the retention function', async () => {
    const err = (await runRetention(classicScheduled, {} as never).catch(
      (x: unknown) => x,
    )) as EventShapeError;

    expect(err.issues[0]).toMatch(
      /send \{"action":"retention","scheduledTime":"<aws.scheduler.scheduled-time>"\}/,
    );
  });
});
