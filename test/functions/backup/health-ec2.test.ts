import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import driveDegraded from '../../../events/health/aws-ec2-instance-store-drive-degraded-backup.json' with { type: 'json' };
import publicIssue from '../../../events/health/aws-ec2-operational-issue.json' with { type: 'json' };
import retirement from '../../../events/health/aws-ec2-instance-retirement-scheduled.json' with { type: 'json' };
import { type BackupDeps, run } from '../../../functions/backup/handler.js';
import { schedulerBackup } from '../../../shared/aws/scheduler.js';
import { preChangeScheduleName } from '../../../shared/backup/maintenance.js';
import { parseConfig } from '../../../shared/config/schema.js';
import type { Database } from '../../../shared/model.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { fakeBackupPort, fakeCopyPort } from '../../fakes/backup-ports.js';
import { fakeSnapshotStore } from '../../fakes/snapshot-store.js';

// AWS Health beyond RDS and ElastiCache scheduled changes, with the AWS Health User Guide's own samples
// (events/README.md): an EC2 instance retirement gets a pre-change EBS set, as RDS maintenance gets a
// pre-change snapshot; an issue gets one bounded notification and no action.
const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const sched = mockClient(SchedulerClient);
const clone = <T>(v: T): T => structuredClone(v);
const INSTANCE = 'i-1234567890abcdef0';
const instanceArn = (id: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${id}`;

const instance = (id: string, tags: Record<string, string> = { 'steward:backup': 'mongo' }): Database => ({
  kind: 'ebs',
  id,
  arn: instanceArn(id),
  region: REGION,
  engine: 'ec2',
  status: 'available',
  tags,
  ebs: { volumes: [`vol-${id.slice(2, 10)}`] },
});
const volume = (id: string, attachedTo: string): Database => ({
  kind: 'ebs',
  id,
  arn: `arn:aws:ec2:${REGION}:${ACCOUNT}:volume/${id}`,
  region: REGION,
  engine: 'ebs',
  status: 'available',
  tags: { 'steward:backup': 'daily' },
  ebs: { volumes: [id], attachedTo },
});
const orders: Database = {
  kind: 'rds-instance',
  id: 'orders-db',
  arn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:orders-db`,
  region: REGION,
  engine: 'postgres',
  status: 'available',
  tags: { 'steward:backup': 'daily' },
};

const setup = (now: string, dbs: Database[]) => {
  const store = fakeSnapshotStore(REGION, []);
  const notifier = memoryNotifier();
  const deps: BackupDeps = {
    // Policies that back EBS up: a stage without one lists no EC2 (its role may not) and protects no instance.
    config: parseConfig(
      {
        stage: 'prod',
        region: REGION,
        account: ACCOUNT,
        backup: {
          policies: {
            daily: { kinds: ['rds-instance', 'aurora-cluster', 'elasticache', 'ebs'] },
            mongo: { kinds: ['ebs'] },
          },
        },
      },
      'test',
    ),
    dryRun: false,
    notifier,
    now: () => new Date(now),
    primary: fakeBackupPort(REGION, dbs, [], store),
    dr: fakeCopyPort('us-west-2'),
    snapshots: { primary: store, dr: fakeSnapshotStore('us-west-2', []) },
    scheduler: schedulerBackup(new SchedulerClient({ region: REGION }), {
      group: 'steward-prod',
      functionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:steward-prod-backup`,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/steward-prod-backup-scheduler`,
      deadLetterArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:steward-prod-backup-failures`,
    }),
  };
  return { deps, notifier };
};

/** An account issue of EC2 naming `entities`, open, in this region. */
const accountIssue = (entities: string[], status = 'open') => {
  const e = clone(driveDegraded);
  Object.assign(e.detail, {
    backupEvent: 'false',
    eventRegion: REGION,
    statusCode: status,
    affectedEntities: entities.map((entityValue) => ({ entityValue })),
  });
  return e;
};

describe('AWS Health: an EC2 scheduled change', () => {
  beforeEach(() => sched.reset());

  it("schedules a pre-change EBS set of the retiring instance, named by ARN in AWS's sample", async () => {
    // Prepare: the sample's window starts Thu 27 Aug 2026 13:19:03 UTC
    sched.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:x' });
    const { deps, notifier } = setup('2026-01-27T02:00:00Z', [instance(INSTANCE), orders]);

    // Act
    const r = await run(retirement, deps);

    // Assert
    const input = JSON.parse(sched.commandCalls(CreateScheduleCommand)[0]!.args[0].input.Target!.Input!);
    expect(input).toEqual({
      action: 'snapshot',
      resource: instanceArn(INSTANCE),
      reason: 'pre-maintenance AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED',
      retainDays: 90,
      requestedAt: '2026-08-27T12:19:03.000Z',
    });
    expect(sched).toReceiveCommandWith(CreateScheduleCommand, {
      Name: preChangeScheduleName('prod', retirement.detail.eventArn, instanceArn(INSTANCE)),
      ScheduleExpression: 'at(2026-08-27T12:19:03)',
    });
    expect(r.summary).toMatch(
      /AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED .*pre-change snapshot of i-1234567890abcdef0/,
    );
    expect(notifier.sent[0]!.lines.join('\n')).toMatch(/i-1234567890abcdef0 \(ebs\): pre-change snapshot/);
  });

  it('the payload it schedules is one the backup function accepts: a pre-change EBS set of the instance', async () => {
    // Prepare
    sched.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:x' });
    const { deps } = setup('2026-01-27T02:00:00Z', [instance(INSTANCE)]);
    await run(retirement, deps);
    const payload = JSON.parse(
      sched.commandCalls(CreateScheduleCommand)[0]!.args[0].input.Target!.Input!,
    ) as Record<string, unknown>;
    const at = setup(payload.requestedAt as string, [instance(INSTANCE)]);

    // Act: the schedule fires
    const r = await run(payload, at.deps);

    // Assert
    expect(r.outcomes).toEqual([expect.objectContaining({ status: 'done', resource: INSTANCE })]);
    expect((at.deps.primary as ReturnType<typeof fakeBackupPort>).created).toEqual([
      expect.objectContaining({ dbId: INSTANCE, kind: 'ebs' }),
    ]);
  });

  it('an instance protected only through its volumes gets a pre-change snapshot of each tagged volume', async () => {
    // Prepare
    sched.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:x' });
    const { deps } = setup('2026-01-27T02:00:00Z', [
      volume('vol-0aaa', INSTANCE),
      volume('vol-0bbb', INSTANCE),
      volume('vol-0ccc', 'i-0other'),
    ]);

    // Act
    await run(retirement, deps);

    // Assert
    const resources = sched
      .commandCalls(CreateScheduleCommand)
      .map((c) => (JSON.parse(c.args[0].input.Target!.Input!) as { resource: string }).resource);
    expect(resources).toEqual([
      `arn:aws:ec2:${REGION}:${ACCOUNT}:volume/vol-0aaa`,
      `arn:aws:ec2:${REGION}:${ACCOUNT}:volume/vol-0bbb`,
    ]);
  });

  it('ignores an instance steward does not protect, sending nothing', async () => {
    // Prepare
    const { deps, notifier } = setup('2026-01-27T02:00:00Z', [orders]);
    // Act
    const r = await run(retirement, deps);
    // Assert
    expect(r.maintenance).toEqual([expect.objectContaining({ mode: 'skip' })]);
    expect(notifier.sent).toEqual([]);
    expect(sched.calls()).toEqual([]);
  });
});

describe('AWS Health: an issue', () => {
  beforeEach(() => sched.reset());

  it('names the protected resources it touches in one warning, and changes nothing', async () => {
    // Prepare: two protected instances named, one not protected
    const { deps, notifier } = setup('2026-01-27T02:00:00Z', [
      instance('i-0aaa1111'),
      instance('i-0bbb2222'),
      orders,
    ]);
    const e = accountIssue(['i-0aaa1111', instanceArn('i-0bbb2222'), 'i-0unknown']);

    // Act
    const r = await run(e, deps);

    // Assert
    expect(r).toMatchObject({ action: 'health-issue', severity: 'warning' });
    expect(notifier.sent).toHaveLength(1);
    const [m] = notifier.sent;
    expect(m!.severity).toBe('warning');
    expect(m!.subject).toBe(
      'AWS Health issue: AWS_EC2_INSTANCE_STORE_DRIVE_PERFORMANCE_DEGRADED on i-0aaa1111, i-0bbb2222',
    );
    const text = m!.lines.join('\n');
    expect(text).toMatch(/Resources steward protects that it names \(2\):/);
    expect(text).toMatch(/- i-0aaa1111 \(ebs\), backup policy "mongo"/);
    expect(text).toMatch(/It also names 1 resources steward does not protect/);
    expect(text).toMatch(/AWS says: A description of the event will be provided here/);
    expect(text).toMatch(/Steward takes no action on an issue/);
    expect(sched.calls()).toEqual([]);
  });

  it('stays bounded: 300 protected resources are 25 lines and a count, a long description is cut', async () => {
    // Prepare
    const ids = Array.from({ length: 300 }, (_, i) => `i-0${String(i).padStart(8, '0')}`);
    const { deps, notifier } = setup(
      '2026-01-27T02:00:00Z',
      ids.map((id) => instance(id)),
    );
    const e = accountIssue(ids);
    e.detail.eventDescription = [{ language: 'en_US', latestDescription: 'x'.repeat(50_000) }];

    // Act
    await run(e, deps);

    // Assert
    const [m] = notifier.sent;
    expect(m!.subject).toMatch(/on i-000000000, i-000000001, i-000000002 and 297 more$/);
    expect(m!.lines.filter((l) => l.startsWith('- i-'))).toHaveLength(25);
    expect(m!.lines.join('\n')).toMatch(/and 275 more resources/);
    expect(JSON.stringify(m).length).toBeLessThan(10_000);
  });

  it('tells a public issue of the region as it is (no resource), and its resolution as info', async () => {
    // Prepare: AWS's public sample, as the run in its region receives it
    const { deps, notifier } = setup('2023-01-27T09:05:00Z', []);
    const e = clone(publicIssue);
    deps.config = { ...deps.config, region: 'af-south-1' };

    // Act
    await run(e, deps);
    e.detail.statusCode = 'closed';
    await run(e, deps);

    // Assert
    expect(notifier.sent.map((m) => [m.severity, m.subject])).toEqual([
      ['warning', 'AWS Health issue: AWS_EC2_OPERATIONAL_ISSUE on EC2 in af-south-1'],
      ['info', 'AWS Health issue resolved: AWS_EC2_OPERATIONAL_ISSUE on EC2 in af-south-1'],
    ]);
    expect(notifier.sent[0]!.lines.join('\n')).toMatch(/A public event: EC2 in af-south-1 as a whole/);
  });

  it.each([
    ['names only resources steward does not protect', accountIssue(['i-0unknown']), /none protected/],
    ["is about another region than the run's", clone(publicIssue), /about af-south-1, not us-east-1/],
    ['is the backup-region copy', clone(driveDegraded), /backup-region copy of an event about us-east-1/],
  ])('is ignored, with the reason, when it %s', async (_w, e, reason) => {
    // Prepare
    const { deps, notifier } = setup('2026-01-27T02:00:00Z', [orders]);
    // Act
    const r = await run(e, deps);
    // Assert
    expect(r).toMatchObject({ action: 'ignored', summary: expect.stringMatching(reason) });
    expect(notifier.sent).toEqual([]);
  });
});
