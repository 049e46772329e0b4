import { DescribeSnapshotsCommand as DescribeEbsSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeSnapshotsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { handler, run, wire } from '../../../functions/retention/handler.js';
import { embedConfig, type ExampleStage, loadExample } from '../../support/examples.js';
import { AwsCallError, EventShapeError, PartialFailureError } from '../../../shared/errors.js';
import type { Snapshot } from '../../../shared/model.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { planRetentionFor } from '../../../shared/retention/policy.js';
import type { BaseDeps } from '../../../shared/runtime.js';
import {
  fakeRetentionDeps,
  NOW,
  retentionEvents,
  retentionTestConfig,
  sampleInventory,
} from '../../fakes/retention-fixtures.js';
import { noServerlessCaches } from '../../support/serverless-mocks.js';

const key = (s: Pick<Snapshot, 'region' | 'kind' | 'id'>) => `${s.region}/${s.kind}/${s.id}`;
const listable = (snaps: Snapshot[]) => snaps.filter((s) => s.type === 'manual');
/** What retention should delete from the sample inventory, planned independently of the handler. */
const expectedDeletes = () =>
  planRetentionFor(listable(sampleInventory()), retentionTestConfig(), NOW).delete.map(key).sort();

describe('retention handler run()', () => {
  it('in a dry run deletes nothing and returns the full plan', async () => {
    // Prepare
    const { deps, primary, dr, notifier } = fakeRetentionDeps();
    const before = [...primary.snapshots, ...dr.snapshots];

    // Act
    const result = await run(retentionEvents().dryRun, deps);

    // Assert
    expect(result.dryRun).toBe(true);
    expect(primary.removed).toEqual([]);
    expect(dr.removed).toEqual([]);
    expect([...primary.snapshots, ...dr.snapshots]).toEqual(before);
    expect(result.plan.verdicts).toHaveLength(listable(sampleInventory()).length);
    expect(result.plan.delete.map(key).sort()).toEqual(expectedDeletes());
    expect(result.outcomes.filter((o) => o.action === 'delete').every((o) => o.status === 'planned')).toBe(
      true,
    );
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]!.subject).toBe(
      `dry run: would delete ${expectedDeletes().length} expired snapshots`,
    );
  });

  it('on schedule deletes exactly the planned snapshots, in the primary and the DR region', async () => {
    // Prepare
    const { deps, primary, dr, notifier } = fakeRetentionDeps();

    // Act
    const result = await run(retentionEvents().scheduled, deps);

    // Assert
    const removed = [
      ...primary.removed.map((k) => `eu-west-1/${k}`),
      ...dr.removed.map((k) => `us-west-2/${k}`),
    ].sort();
    expect(removed).toEqual(expectedDeletes());
    expect(result.plan.delete.map(key).sort()).toEqual(expectedDeletes());
    expect(dr.removed).toEqual([
      'rds-instance/steward-orders-db-202608310300-sched',
      'rds-instance/steward-orders-db-202611120300-sched',
      'rds-instance/steward-orders-db-202611130300-sched',
      'rds-instance/steward-orders-db-202611140300-sched',
    ]);
    expect(result.scheduledTime).toBe('2026-11-23T04:30:00Z');
    expect(result.outcomes.filter((o) => o.status === 'failed')).toEqual([]);
    expect(notifier.sent).toHaveLength(1);
  });

  it('never deletes a held, unmanaged, automated, unavailable or retained snapshot of the sample inventory', async () => {
    // Prepare
    const { deps, primary, dr } = fakeRetentionDeps();
    const protectedIds = [
      'steward-orders-db-202607010300-sched', // held
      'orders-db-before-pg16-upgrade', // unmanaged
      'rds:orders-db-2026-11-22-02-10', // automated
      'steward-orders-db-202611230300-sched', // creating
      'steward-orders-db-202611181412-adhoc', // retain-until 2027-02-16
      'steward-orders-db-202609151130-adhoc', // malformed retain-until
      'steward-billing-aurora-202611050300-hourly', // unknown policy
    ];

    // Act
    await run(retentionEvents().scheduled, deps);

    // Assert
    const removed = [...primary.removed, ...dr.removed].map((k) => k.split('/')[1]);
    expect(removed.filter((id) => protectedIds.includes(id!))).toEqual([]);
  });

  it('lets a base dry run win over a request that does not ask for one', async () => {
    // Prepare
    const { deps, primary, dr } = fakeRetentionDeps({ dryRun: true });

    // Act
    const result = await run(retentionEvents().scheduled, deps);

    // Assert
    expect(result.dryRun).toBe(true);
    expect([...primary.removed, ...dr.removed]).toEqual([]);
  });

  it('keeps deleting after one deletion fails, notifies once, then throws PartialFailureError', async () => {
    // Prepare
    const { deps, primary, dr, notifier } = fakeRetentionDeps();
    const victim = 'steward-sessions-redis-202611130300-sched';
    primary.failRemove.set(
      victim,
      new AwsCallError('DeleteSnapshot (ElastiCache)', `elasticache snapshot ${victim} in eu-west-1`, {
        name: 'InvalidSnapshotStateFault',
        message: 'snapshot is being exported',
      }),
    );

    // Act
    const error = await run(retentionEvents().scheduled, deps).catch((e: unknown) => e);

    // Assert
    expect(error).toBeInstanceOf(PartialFailureError);
    expect((error as PartialFailureError).failures).toMatchObject([
      {
        resource: `elasticache snapshot ${victim} in eu-west-1`,
        error: expect.stringContaining('InvalidSnapshotStateFault'),
        code: 'InvalidSnapshotStateFault',
        cause: { name: 'AwsCallError', cause: { name: 'InvalidSnapshotStateFault' } },
      },
    ]);
    const removed = [
      ...primary.removed.map((k) => `eu-west-1/${k}`),
      ...dr.removed.map((k) => `us-west-2/${k}`),
    ].sort();
    expect(removed).toEqual(expectedDeletes().filter((k) => !k.endsWith(`/${victim}`)));
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]).toMatchObject({ severity: 'warning', capability: 'retention' });
    expect(notifier.sent[0]!.lines.join('\n')).toContain(victim);
  });

  it.each<[string, (e: Record<string, unknown>) => unknown, RegExp]>([
    [
      'whose action was deleted',
      (e) => {
        delete e.action;
        return e;
      },
      /action: /,
    ],
    ['for another capability', (e) => ({ ...e, action: 'backup' }), /action: /],
    [
      'with an unreadable scheduledTime',
      (e) => ({ ...e, scheduledTime: '<aws.scheduler.scheduled-time>' }),
      /scheduledTime: /,
    ],
    ['with dryRun as a string', (e) => ({ ...e, dryRun: 'true' }), /dryRun: /],
    ['with a misspelt dry_run', (e) => ({ ...e, dry_run: true }), /dry_run/],
    ['that is not an object', () => null, /\(root\)/],
  ])(
    'rejects an event %s with EventShapeError naming the field, and touches nothing',
    async (_, mutate, field) => {
      // Prepare
      const { deps, primary, dr, notifier } = fakeRetentionDeps();
      const event = mutate(retentionEvents().scheduled);

      // Act
      const error = await run(event, deps).catch((e: unknown) => e);

      // Assert
      expect(error).toBeInstanceOf(EventShapeError);
      expect((error as EventShapeError).message).toMatch(field);
      expect([...primary.removed, ...dr.removed]).toEqual([]);
      expect(notifier.sent).toEqual([]);
    },
  );
});

describe('retention handler wire()', () => {
  const base = (stage: ExampleStage): BaseDeps => ({
    config: loadExample(stage),
    dryRun: false,
    notifier: memoryNotifier(),
    now: () => NOW,
  });

  it('sweeps the DR region when a policy copies there and retention includes it', () => {
    // Prepare / Act
    const deps = wire(base('prod'), { STATE_TABLE: 'steward-prod-state' });

    // Assert
    expect(deps.stores.map((s) => s.region)).toEqual(['eu-west-1', 'us-west-2']);
  });

  it('sweeps only the primary region when retention excludes the DR region', () => {
    // Prepare / Act
    const deps = wire(base('dev'), { STATE_TABLE: 'steward-dev-state' });

    // Assert
    expect(deps.stores.map((s) => s.region)).toEqual(['eu-west-1']);
  });
});

describe('retention handler (middy, real wiring over mocked AWS)', () => {
  it('lists both prod regions, publishes one notification and returns the plan', async () => {
    // Prepare
    const rds = mockClient(RDSClient);
    const ec = mockClient(ElastiCacheClient);
    const ec2 = mockClient(EC2Client);
    const sns = mockClient(SNSClient);
    ec2.on(DescribeEbsSnapshotsCommand).resolves({ Snapshots: [] });
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
    ec.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    noServerlessCaches(ec);
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const topic = (name: string) => `arn:aws:sns:eu-west-1:111122223333:steward-prod-${name}`;
    // The prod config as the CDK app embeds it in the bundle; the topics come from the environment.
    const unembed = embedConfig(loadExample('prod'));
    Object.assign(process.env, {
      CRITICAL_TOPIC_ARN: topic('critical'),
      WARNING_TOPIC_ARN: topic('warning'),
      INFO_TOPIC_ARN: topic('info'),
      DRY_RUN: 'false',
      STATE_TABLE: 'steward-prod-state',
    });
    const context = {
      functionName: 'steward-prod-retention',
      awsRequestId: 'req-1',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:steward-prod-retention',
    } as Context;

    try {
      // Act
      const result = await handler(retentionEvents().scheduled, context);

      // Assert
      expect(result.regions).toEqual([
        { region: 'eu-west-1', listed: 0 },
        { region: 'us-west-2', listed: 0 },
      ]);
      expect(rds).toReceiveCommandTimes(DescribeDBSnapshotsCommand, 2);
      // EBS snapshot sets too, in both regions.
      expect(ec2).toReceiveCommandTimes(DescribeEbsSnapshotsCommand, 2);
      expect(sns).toReceiveCommandExactlyOnceWith(PublishCommand, {
        TopicArn: topic('info'),
        // Where it acted: the region, and the account from the invoked function's ARN (no STS call).
        Subject: '[steward prod] INFO retention 111122223333/eu-west-1: nothing to expire',
      });
    } finally {
      for (const k of ['CRITICAL_TOPIC_ARN', 'WARNING_TOPIC_ARN', 'INFO_TOPIC_ARN', 'DRY_RUN', 'STATE_TABLE'])
        delete process.env[k];
      unembed();
      rds.restore();
      ec.restore();
      ec2.restore();
      sns.restore();
    }
  });
});
