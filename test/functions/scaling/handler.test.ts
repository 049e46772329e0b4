import {
  DecreaseReplicaCountCommand,
  DescribeReplicationGroupsCommand,
  ElastiCacheClient,
  IncreaseReplicaCountCommand,
  ModifyReplicationGroupShardConfigurationCommand,
  type ReplicationGroup,
  TestFailoverCommand,
} from '@aws-sdk/client-elasticache';
import {
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  DBInstanceAlreadyExistsFault,
  DeleteDBInstanceCommand,
  type DBInstance,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  FailoverDBClusterCommand,
  InvalidDBInstanceStateFault,
  ModifyDBInstanceCommand,
  RDSClient,
  RDSServiceException,
  RebootDBInstanceCommand,
} from '@aws-sdk/client-rds';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import alarmEvent from '../../../events/scaling/alarm-state-change.json' with { type: 'json' };
import okEvent from '../../../events/scaling/alarm-ok.json' with { type: 'json' };
import approveEvent from '../../../events/scaling/approve.json' with { type: 'json' };
import playbookEvent from '../../../events/scaling/run-playbook.json' with { type: 'json' };
import scaleInEvent from '../../../events/scaling/scale-in-check.json' with { type: 'json' };
import snsEvent from '../../../events/scaling/sns-alarm.json' with { type: 'json' };
import { run, type ScalingDeps } from '../../../functions/scaling/handler.js';
import { cloudWatchAlarms } from '../../../shared/aws/cloudwatch-alarms.js';
import { elastiCacheScaling } from '../../../shared/aws/elasticache-scaling.js';
import { rdsScaling } from '../../../shared/aws/rds-scaling.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { EventShapeError, PartialFailureError } from '../../../shared/errors.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { memoryRunReports } from '../../../shared/notify/run-report.js';
import { metrics, MetricUnit } from '../../../shared/observability.js';
import { replicaTags } from '../../../shared/scaling/engine.js';
import { cooldownKey, seenKey } from '../../../shared/scaling/ids.js';
import { tagList } from '../../../shared/tags.js';
import { awsScalingResources } from '../../../shared/aws/scaling-resources.js';
import type { ScalingResult } from '../../../shared/scaling/service.js';
import { fakeScalingStore } from '../../fakes/scaling.js';
import { expectBoundedSummary, onlyReport } from '../../support/bounded.js';
import { answerAlarms } from '../../support/scaling-wiring.js';
import { scaleInEstate, scalingConfigInput } from '../../shared/scaling/fixtures.js';
import { noServerlessCaches } from '../../support/serverless-mocks.js';

const REGION = 'eu-west-1';
const rds = mockClient(RDSClient);
const ec = mockClient(ElastiCacheClient);
const cw = mockClient(CloudWatchClient);
const meta = { $metadata: {} };
const clone = <T>(v: T): T => structuredClone(v);
const CPU_AT = '2026-01-15T10:19:59.987+0000';

const instance = (over: Partial<DBInstance> = {}): DBInstance => ({
  DBInstanceIdentifier: 'orders-db',
  DBInstanceArn: `arn:aws:rds:${REGION}:111122223333:db:orders-db`,
  DBInstanceStatus: 'available',
  Engine: 'postgres',
  DBInstanceClass: 'db.r6g.large',
  MultiAZ: true,
  PendingModifiedValues: {},
  ReadReplicaDBInstanceIdentifiers: [],
  TagList: [
    { Key: 'team', Value: 'orders' },
    { Key: 'steward:backup', Value: 'daily' },
  ],
  ...over,
});
const shard = (id: string, replicas = 1) => ({
  NodeGroupId: id,
  Status: 'available',
  NodeGroupMembers: Array.from({ length: replicas + 1 }, (_, i) => ({
    CacheClusterId: `sessions-redis-${id}-00${i + 1}`,
  })),
});
const group = (over: Partial<ReplicationGroup> = {}): ReplicationGroup => ({
  ReplicationGroupId: 'sessions-redis',
  ARN: `arn:aws:elasticache:${REGION}:111122223333:replicationgroup:sessions-redis`,
  Status: 'available',
  ClusterEnabled: true,
  AutomaticFailover: 'enabled',
  PendingModifiedValues: {},
  NodeGroups: [shard('0001'), shard('0002')],
  ...over,
});

const givenInstance = (over: Partial<DBInstance> = {}) =>
  rds
    .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-db' })
    .resolves({ ...meta, DBInstances: [instance(over)] });
/** A read replica of orders-db as RDS describes it by id (the scaling role reads steward-named ones). */
const givenReplica = (id: string, status = 'available') =>
  rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: id }).resolves({
    ...meta,
    DBInstances: [{ DBInstanceIdentifier: id, DBInstanceStatus: status, TagList: [] }],
  });
/** The Aurora cluster `billing` with its members (the first listed is the writer). */
const givenCluster = (...members: string[]) =>
  rds.on(DescribeDBClustersCommand).resolves({
    ...meta,
    DBClusters: [
      {
        DBClusterIdentifier: 'billing',
        Status: 'available',
        Engine: 'aurora-postgresql',
        DBClusterMembers: members.map((id, i) => ({ DBInstanceIdentifier: id, IsClusterWriter: i === 0 })),
        TagList: [],
      },
    ],
  });
const givenGroup = (over: Partial<ReplicationGroup> = {}) =>
  ec.on(DescribeReplicationGroupsCommand).resolves({ ...meta, ReplicationGroups: [group(over)] });

/** CloudWatch's answer to DescribeAlarms: every alarm asked for OK since the start of the day, unless `over` says. */
const givenAlarms = (over: Parameters<typeof answerAlarms>[1] = {}) => answerAlarms(cw, over);

/** Real adapters over mocked SDK clients, the in-memory store, a hand-moved clock. */
const setup = (over: { dryRun?: boolean; now?: string; config?: object } = {}) => {
  let now = new Date(over.now ?? '2026-01-15T10:20:03Z');
  const state = fakeScalingStore(() => now);
  const notifier = memoryNotifier();
  const deps: ScalingDeps = {
    config: parseConfig(over.config ?? scalingConfigInput, 'test'),
    dryRun: over.dryRun ?? false,
    notifier,
    now: () => now,
    resources: awsScalingResources(
      rdsScaling(REGION, new RDSClient({ region: REGION })),
      elastiCacheScaling(REGION, new ElastiCacheClient({ region: REGION })),
    ),
    state,
    alarms: cloudWatchAlarms(new CloudWatchClient({ region: REGION }), REGION),
  };
  return { deps, state, notifier, at: (iso: string) => (now = new Date(iso)) };
};

const alarmAt = (alarmName: string, timestamp: string, value = 'ALARM') => {
  const e = clone(alarmEvent);
  e.detail.alarmName = alarmName;
  e.detail.state.timestamp = timestamp;
  e.detail.state.value = value;
  return e;
};

/** RDS refusing a call (an explicit deny, or no allow). */
const accessDenied = (message: string) =>
  new RDSServiceException({ name: 'AccessDenied', $fault: 'client', $metadata: {}, message });

const failing = async (p: Promise<ScalingResult>): Promise<PartialFailureError> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof PartialFailureError) return e;
    throw e;
  }
  throw new Error('expected a PartialFailureError');
};

let addMetric: MockInstance<typeof metrics.addMetric>;
beforeEach(() => {
  rds.reset();
  ec.reset();
  noServerlessCaches(ec);
  cw.reset();
  givenAlarms();
  addMetric = vi.spyOn(metrics, 'addMetric');
});
afterEach(() => {
  vi.restoreAllMocks();
});
const metric = (name: string) => addMetric.mock.calls.filter((c) => c[0] === name).map((c) => c[2]);

describe('rds.scaleUp', () => {
  it('moves one rung up the ladder, starts the cooldown and tells the rule’s severity', async () => {
    // Prepare
    const { deps, state, notifier } = setup();
    givenInstance();
    rds.on(ModifyDBInstanceCommand).resolves(meta);

    // Act
    const r = await run(alarmEvent, deps);

    // Assert
    expect(rds).toReceiveCommandTimes(ModifyDBInstanceCommand, 1);
    expect(rds).toReceiveCommandWith(ModifyDBInstanceCommand, {
      DBInstanceIdentifier: 'orders-db',
      DBInstanceClass: 'db.r6g.xlarge',
      ApplyImmediately: true,
    });
    expect(r.decisions.map((d) => d.status)).toEqual(['done']);
    expect(state.items.get(cooldownKey('rds-instance', 'orders-db'))).toMatchObject({
      lastActedAt: '2026-01-15T10:19:59.987Z',
      until: '2026-01-15T10:50:03.000Z',
    });
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]).toMatchObject({
      severity: 'warning',
      capability: 'scaling',
      subject: 'orders-db-cpu: modify orders-db class db.r6g.large → db.r6g.xlarge (apply immediately)',
    });
    expect(metric('ScalingActions')).toEqual([1]);
  });

  it('at the top of the ladder makes no call and says so', async () => {
    // Prepare
    const { deps, notifier } = setup();
    givenInstance({ DBInstanceClass: 'db.r6g.2xlarge' });

    // Act
    const r = await run(alarmEvent, deps);

    // Assert
    expect(rds).not.toReceiveCommand(ModifyDBInstanceCommand);
    expect(r.decisions[0]!.decision).toEqual({
      verdict: 'skip',
      reason: 'at-max',
      detail: 'db.r6g.2xlarge is already at the top (max db.r6g.2xlarge)',
    });
    expect(notifier.sent.map((n) => [n.severity, n.subject])).toEqual([
      ['warning', 'orders-db-cpu: skipped (at-max) on orders-db'],
    ]);
    expect(metric('ScalingSkipped')).toEqual([1]);
  });

  it('skips a resource with a pending modification', async () => {
    // Prepare
    const { deps, notifier } = setup();
    givenInstance({ PendingModifiedValues: { DBInstanceClass: 'db.r6g.xlarge' } });

    // Act
    const r = await run(alarmEvent, deps);

    // Assert
    expect(rds).not.toReceiveCommand(ModifyDBInstanceCommand);
    expect(r.outcomes[0]).toEqual({
      resource: 'orders-db',
      action: 'rds.scaleUp',
      status: 'skipped',
      reason: 'pending-modification: orders-db has pending modifications: DBInstanceClass',
    });
    expect(notifier.sent[0]!.lines.join('\n')).toContain('pending-modification');
  });

  it('waits out the cooldown: a new ALARM 10 minutes later changes nothing, one after 30 minutes acts', async () => {
    // Prepare
    const { deps, at } = setup();
    givenInstance();
    rds.on(ModifyDBInstanceCommand).resolves(meta);
    await run(alarmEvent, deps);
    givenInstance({ DBInstanceClass: 'db.r6g.xlarge' });

    // Act
    at('2026-01-15T10:30:05Z');
    const early = await run(alarmAt('orders-db-cpu-high', '2026-01-15T10:30:00.000+0000'), deps);
    at('2026-01-15T10:51:00Z');
    const later = await run(alarmAt('orders-db-cpu-high', '2026-01-15T10:50:30.000+0000'), deps);

    // Assert
    expect(early.decisions[0]!.decision).toMatchObject({ verdict: 'skip', reason: 'cooldown' });
    expect(later.decisions[0]!.status).toBe('done');
    expect(rds).toReceiveCommandTimes(ModifyDBInstanceCommand, 2);
    expect(rds).toReceiveNthCommandWith(ModifyDBInstanceCommand, 2, { DBInstanceClass: 'db.r6g.2xlarge' });
  });
});

describe('idempotency and ordering', () => {
  it('does nothing for a duplicate delivery: no call, no second notification', async () => {
    // Prepare
    const { deps, notifier } = setup();
    givenInstance();
    rds.on(ModifyDBInstanceCommand).resolves(meta);
    await run(alarmEvent, deps);

    // Act
    const again = await run(alarmEvent, deps);

    // Assert
    expect(rds).toReceiveCommandTimes(ModifyDBInstanceCommand, 1);
    expect(rds).toReceiveCommandTimes(DescribeDBInstancesCommand, 1);
    expect(again.decisions[0]!.decision).toMatchObject({ verdict: 'skip', reason: 'duplicate' });
    expect(notifier.sent).toHaveLength(1);
  });

  it('treats the SNS copy of a transition EventBridge delivered as the same event', async () => {
    // Prepare
    const { deps } = setup();
    givenInstance();
    rds.on(ModifyDBInstanceCommand).resolves(meta);
    const sns = clone(snsEvent);
    const msg = JSON.parse(sns.Records[0]!.Sns.Message) as Record<string, unknown>;
    sns.Records[0]!.Sns.Message = JSON.stringify({
      ...msg,
      AlarmName: 'orders-db-cpu-high',
      StateChangeTime: CPU_AT,
    });

    // Act
    await run(alarmEvent, deps);
    const viaSns = await run(sns, deps);

    // Assert
    expect(viaSns.decisions[0]!.decision).toMatchObject({ reason: 'duplicate' });
    expect(rds).toReceiveCommandTimes(ModifyDBInstanceCommand, 1);
  });

  it('ignores an ALARM older than the last acted-on transition (out of order)', async () => {
    // Prepare
    const { deps, at } = setup();
    givenInstance();
    rds.on(ModifyDBInstanceCommand).resolves(meta);
    await run(alarmEvent, deps);
    at('2026-01-15T11:00:00Z');

    // Act (a delayed retry of a transition from before the one acted on, after the cooldown)
    const r = await run(alarmAt('orders-db-cpu-high', '2026-01-15T10:05:00.000+0000'), deps);

    // Assert
    expect(r.decisions[0]!.decision).toMatchObject({ verdict: 'skip', reason: 'out-of-order' });
    expect(rds).toReceiveCommandTimes(ModifyDBInstanceCommand, 1);
  });
});

describe('approve mode (orders-db failover playbook)', () => {
  it('sends the exact planned change, then `approve <id>` executes it exactly once', async () => {
    // Prepare
    const { deps, notifier, at } = setup({ now: '2026-01-15T10:45:02Z' });
    givenInstance();
    rds.on(RebootDBInstanceCommand).resolves(meta);

    // Act
    const asked = await run(playbookEvent, deps);
    at('2026-01-15T10:52:00Z');
    const executed = await run(approveEvent, deps);
    const again = await run(approveEvent, deps);

    // Assert
    expect(asked.decisions[0]).toMatchObject({ status: 'approval-requested', approvalId: approveEvent.id });
    expect(notifier.sent[0]).toMatchObject({
      severity: 'critical',
      subject: `orders-db-failover: approval needed (${approveEvent.id}): reboot orders-db with forced failover`,
    });
    expect(notifier.sent[0]!.lines).toEqual(
      expect.arrayContaining([
        'Exact change: {"type":"rds.rebootWithFailover","dbInstanceId":"orders-db"}',
        `To execute it once: steward approve ${approveEvent.id} --stage prod`,
      ]),
    );
    expect(executed.decisions[0]).toMatchObject({ status: 'done', approvalId: approveEvent.id });
    expect(again.decisions[0]).toMatchObject({ status: 'already-done' });
    expect(rds).toReceiveCommandTimes(RebootDBInstanceCommand, 1);
    expect(rds).toReceiveCommandWith(RebootDBInstanceCommand, {
      DBInstanceIdentifier: 'orders-db',
      ForceFailover: true,
    });
  });

  it('refuses an unknown approval id clearly, changing nothing', async () => {
    // Prepare
    const { deps, state } = setup();

    // Act
    const call = run({ action: 'approve', id: 'ffffffffffff' }, deps);

    // Assert
    await expect(call).rejects.toThrow(EventShapeError);
    await expect(call).rejects.toThrow(/No approval "ffffffffffff"/);
    expect(state.writes).toBe(0);
  });
});

describe('malformed and unknown events', () => {
  it.each<[string, unknown, RegExp]>([
    [
      'a malformed alarm event',
      (() => {
        const e = clone(alarmEvent) as { detail: Partial<typeof alarmEvent.detail> };
        delete e.detail.state;
        return e;
      })(),
      /detail\.state/,
    ],
    [
      'an alarm no rule answers',
      alarmAt('payments-db-cpu-high', CPU_AT),
      /No scaling rule for alarm "payments-db-cpu-high"/,
    ],
    ['an empty SNS batch', { Records: [] }, /Records/],
  ])('refuses %s with a clear error, calling and writing nothing', async (_what, event, message) => {
    // Prepare
    const { deps, state, notifier } = setup();

    // Act
    const call = run(event, deps);

    // Assert
    await expect(call).rejects.toThrow(EventShapeError);
    await expect(call).rejects.toThrow(message);
    expect(rds.calls()).toHaveLength(0);
    expect(ec.calls()).toHaveLength(0);
    expect(state.writes).toBe(0);
    expect(notifier.sent).toEqual([]);
  });
});

describe('every action’s calls', () => {
  it('SNS-wrapped alarm: adds one shard to the replication group', async () => {
    // Prepare: the sample notification's alarm changed state at 10:30:12.
    const { deps } = setup({ now: '2026-01-15T10:30:15Z' });
    givenGroup();
    ec.on(ModifyReplicationGroupShardConfigurationCommand).resolves(meta);

    // Act
    const r = await run(snsEvent, deps);

    // Assert
    expect(ec).toReceiveCommandWith(ModifyReplicationGroupShardConfigurationCommand, {
      ReplicationGroupId: 'sessions-redis',
      NodeGroupCount: 3,
      ApplyImmediately: true,
    });
    expect(r.decisions[0]).toMatchObject({ status: 'done', alarmName: 'sessions-redis-memory-high' });
  });

  it('rds.addReadReplica: a deterministic replica with the source’s tags plus steward’s', async () => {
    // Prepare
    const { deps } = setup();
    givenInstance({ ReadReplicaDBInstanceIdentifiers: ['orders-db-replica-1'] });
    givenReplica('orders-db-replica-1');
    rds.on(CreateDBInstanceReadReplicaCommand).resolves(meta);

    // Act
    await run(alarmAt('orders-db-connections-high', CPU_AT), deps);

    // Assert
    expect(rds).toReceiveCommandWith(CreateDBInstanceReadReplicaCommand, {
      DBInstanceIdentifier: 'orders-db-replica-2',
      SourceDBInstanceIdentifier: 'orders-db',
      CopyTagsToSnapshot: true,
      Tags: [
        { Key: 'steward:created-by', Value: 'scaling' },
        { Key: 'steward:managed', Value: 'true' },
        { Key: 'steward:reason', Value: 'scaling:orders-db-connections' },
        { Key: 'steward:source', Value: 'orders-db' },
        { Key: 'team', Value: 'orders' },
      ],
    });
  });

  it('adds no second read replica while the first is still creating, past the cooldown, and names it', async () => {
    // Prepare: the first alarm added orders-db-replica-1; RDS takes longer to create it than the rule's
    // cooldown. Before, the next ALARM after the cooldown counted it (1 of 2) and created orders-db-replica-2.
    const { deps, notifier, at } = setup();
    givenInstance();
    rds.on(CreateDBInstanceReadReplicaCommand).resolves(meta);
    await run(alarmAt('orders-db-connections-high', CPU_AT), deps);
    givenInstance({ ReadReplicaDBInstanceIdentifiers: ['orders-db-replica-1'] });
    givenReplica('orders-db-replica-1', 'creating');

    // Act
    at('2026-01-15T11:20:05Z');
    const r = await run(alarmAt('orders-db-connections-high', '2026-01-15T11:20:00.000+0000'), deps);

    // Assert
    expect(rds.commandCalls(CreateDBInstanceReadReplicaCommand)).toHaveLength(1);
    expect(r.decisions).toHaveLength(1);
    expect(r.decisions[0]).toMatchObject({
      status: 'skipped',
      decision: {
        reason: 'pending-modification',
        detail: 'orders-db-replica-1 is creating: no new read replica of orders-db until it is available',
      },
    });
    expect(notifier.sent.at(-1)?.subject).toBe(
      'orders-db-connections: skipped (pending-modification) on orders-db',
    );
    expect(JSON.stringify(notifier.sent.at(-1))).toContain('orders-db-replica-1 is creating');
  });

  it('headlines count what happened: a replica an earlier try created is "already done", not "acted"', async () => {
    // Prepare: one SNS delivery carries two alarms; the replica's deterministic name is taken by an earlier try.
    const { deps, notifier } = setup({ now: '2026-01-15T10:30:15Z' });
    givenGroup();
    givenInstance({ ReadReplicaDBInstanceIdentifiers: ['orders-db-replica-1'] });
    givenReplica('orders-db-replica-1');
    ec.on(ModifyReplicationGroupShardConfigurationCommand).resolves(meta);
    rds
      .on(CreateDBInstanceReadReplicaCommand)
      .rejects(new DBInstanceAlreadyExistsFault({ $metadata: {}, message: 'DB instance already exists' }));
    const batch = clone(snsEvent);
    const replica = clone(snsEvent.Records[0]!);
    const msg = JSON.parse(replica.Sns.Message) as Record<string, unknown>;
    replica.Sns.Message = JSON.stringify({
      ...msg,
      AlarmName: 'orders-db-connections-high',
      StateChangeTime: CPU_AT,
    });
    batch.Records.push(replica);

    // Act
    const r = await run(batch, deps);

    // Assert
    expect(r.decisions.map((d) => d.status)).toEqual(['done', 'already-done']);
    expect(r.summary).toBe(
      '2 decisions: 1 acted, 1 already done, 0 awaiting approval, 0 planned, 0 skipped, 0 failed',
    );
    expect(notifier.sent.map((n) => n.subject)).toEqual([
      'sessions-redis-memory: reshard sessions-redis 2 → 3 shards',
      'orders-db-connections: already done: create read replica orders-db-replica-2 of orders-db',
    ]);
  });

  it('rds.addReadReplica on Aurora: a reader instance in the cluster, in the writer’s class', async () => {
    // Prepare
    const { deps } = setup();
    givenCluster('billing-1');
    rds.on(DescribeDBInstancesCommand).resolves({
      ...meta,
      DBInstances: [
        {
          DBInstanceIdentifier: 'billing-1',
          DBInstanceClass: 'db.r6g.xlarge',
          DBInstanceStatus: 'available',
        },
      ],
    });
    rds.on(CreateDBInstanceCommand).resolves(meta);

    // Act
    await run(alarmAt('billing-aurora-load-cpu', CPU_AT), deps);

    // Assert
    expect(rds).toReceiveCommandWith(CreateDBInstanceCommand, {
      DBInstanceIdentifier: 'billing-reader-1',
      DBClusterIdentifier: 'billing',
      Engine: 'aurora-postgresql',
      DBInstanceClass: 'db.r6g.xlarge',
    });
  });

  it('elasticache.addReplica: one more replica in every shard', async () => {
    // Prepare
    const { deps } = setup();
    givenGroup();
    ec.on(IncreaseReplicaCountCommand).resolves(meta);

    // Act
    await run(alarmAt('sessions-redis-cpu-high', CPU_AT), deps);

    // Assert
    expect(ec).toReceiveCommandWith(IncreaseReplicaCountCommand, {
      ReplicationGroupId: 'sessions-redis',
      NewReplicaCount: 2,
      ApplyImmediately: true,
    });
  });

  it('recovery playbooks: Aurora FailoverDBCluster and ElastiCache TestFailover', async () => {
    // Prepare
    const { deps } = setup();
    givenCluster('billing-1', 'billing-2');
    rds.on(DescribeDBInstancesCommand).resolves({ ...meta, DBInstances: [] });
    rds.on(FailoverDBClusterCommand).resolves(meta);
    givenGroup();
    ec.on(TestFailoverCommand).resolves(meta);

    // Act
    await run(alarmAt('billing-aurora-unhealthy', CPU_AT), deps);
    await run(alarmAt('sessions-redis-unhealthy', CPU_AT), deps);

    // Assert
    expect(rds).toReceiveCommandWith(FailoverDBClusterCommand, { DBClusterIdentifier: 'billing' });
    expect(ec).toReceiveCommandWith(TestFailoverCommand, {
      ReplicationGroupId: 'sessions-redis',
      NodeGroupId: '0001',
    });
  });

  it('notify: tells at the rule’s severity and calls nothing', async () => {
    // Prepare
    const { deps, notifier } = setup();

    // Act
    const r = await run(alarmAt('orders-db-disk-low', CPU_AT), deps);

    // Assert
    expect(rds.calls()).toHaveLength(0);
    expect(r.decisions[0]!.status).toBe('done');
    expect(notifier.sent.map((n) => [n.severity, n.subject])).toEqual([
      ['info', 'orders-db-heads-up: notify about orders-db'],
    ]);
  });
});

describe('dry runs', () => {
  it('mode dryRun plans and tells, changing nothing', async () => {
    // Prepare
    const { deps, notifier } = setup();
    givenInstance();

    // Act
    const r = await run(alarmAt('orders-db-cpu-shadow', CPU_AT), deps);

    // Assert
    expect(rds).not.toReceiveCommand(ModifyDBInstanceCommand);
    expect(r.decisions[0]!.status).toBe('planned');
    expect(notifier.sent[0]!.subject).toBe(
      '[dry run] orders-db-cpu-shadow: would modify orders-db class db.r6g.large → db.r6g.xlarge (next maintenance window)',
    );
  });

  it('a dry-run stage plans each change once per cooldown, and its plan never holds back a live rule', async () => {
    // Prepare: a stage-wide dry run. Before, nothing started a cooldown there: every new ALARM of the same load
    // planned (and told) the same change again, where a live stage would have acted once and waited.
    const { deps, notifier, at } = setup({ dryRun: true });
    givenInstance();
    await run(alarmEvent, deps);

    // Act: a new transition 10 minutes later (inside the 30-minute cooldown), then one after it.
    at('2026-01-15T10:30:05Z');
    const early = await run(alarmAt('orders-db-cpu-high', '2026-01-15T10:30:00.000+0000'), deps);
    at('2026-01-15T10:51:00Z');
    const later = await run(alarmAt('orders-db-cpu-high', '2026-01-15T10:50:30.000+0000'), deps);
    // The same database, live (the stage no longer in dry run): the dry run's plan is not a cooldown for it.
    const live = await run(alarmAt('orders-db-cpu-high', '2026-01-15T10:50:45.000+0000'), {
      ...deps,
      dryRun: false,
    });

    // Assert
    expect(early.decisions[0]!.status).toBe('skipped');
    expect(early.decisions[0]!.decision).toMatchObject({
      verdict: 'skip',
      reason: 'cooldown',
      detail: expect.stringContaining(
        'dry run: modify orders-db class db.r6g.large → db.r6g.xlarge (apply immediately) was planned at 2026-01-15T10:20:03.000Z',
      ),
    });
    expect(later.decisions[0]!.status).toBe('planned');
    expect(live.decisions[0]!.status).toBe('done');
    expect(rds).toReceiveCommandTimes(ModifyDBInstanceCommand, 1);
    expect(notifier.sent.map((n) => n.subject)).toEqual([
      expect.stringContaining('[dry run] orders-db-cpu: would modify'),
      expect.stringContaining('skipped (cooldown)'),
      expect.stringContaining('[dry run] orders-db-cpu: would modify'),
      expect.stringContaining('orders-db-cpu: modify'),
    ]);
  });

  it('a dry-run rule on a live stage keeps its plan apart: the live rules on its database do not wait for it', async () => {
    // Prepare
    const { deps, at } = setup();
    givenInstance();
    rds.on(ModifyDBInstanceCommand).resolves(meta);
    await run(alarmAt('orders-db-cpu-shadow', CPU_AT), deps);

    // Act
    at('2026-01-15T10:25:05Z');
    const shadowAgain = await run(alarmAt('orders-db-cpu-shadow', '2026-01-15T10:25:00.000+0000'), deps);
    const live = await run(alarmAt('orders-db-cpu-high', '2026-01-15T10:25:01.000+0000'), deps);

    // Assert
    expect(shadowAgain.decisions[0]!.decision).toMatchObject({ verdict: 'skip', reason: 'cooldown' });
    expect(live.decisions[0]!.status).toBe('done');
  });

  it('a dry-run request (steward scale --dry-run) reads only: no call, no state written', async () => {
    // Prepare
    const { deps, state } = setup();
    givenInstance();

    // Act
    const r = await run({ action: 'run-playbook', alarm: 'orders-db-cpu-high', dryRun: true }, deps);

    // Assert
    expect(r.dryRun).toBe(true);
    expect(r.decisions[0]!.status).toBe('planned');
    expect(rds).not.toReceiveCommand(ModifyDBInstanceCommand);
    expect(state.writes).toBe(0);
  });

  it('a stage-wide dry run plans, and still remembers the event so a redelivery stays quiet', async () => {
    // Prepare
    const { deps, notifier } = setup({ dryRun: true });
    givenInstance();

    // Act
    await run(alarmEvent, deps);
    const again = await run(alarmEvent, deps);

    // Assert
    expect(rds).not.toReceiveCommand(ModifyDBInstanceCommand);
    expect(again.decisions[0]!.decision).toMatchObject({ reason: 'duplicate' });
    expect(notifier.sent).toHaveLength(1);
  });
});

describe('partial failure', () => {
  it('reports every decision, then throws once; the failed event can be retried', async () => {
    // Prepare: the sample notification's alarm changed state at 10:30:12.
    const { deps, state, notifier } = setup({ now: '2026-01-15T10:30:15Z' });
    givenInstance();
    givenGroup();
    ec.on(ModifyReplicationGroupShardConfigurationCommand).resolves(meta);
    rds
      .on(ModifyDBInstanceCommand)
      .rejectsOnce(new InvalidDBInstanceStateFault({ $metadata: {}, message: 'not in available state' }))
      .resolves(meta);
    const batch = clone(snsEvent);
    const cpu = clone(snsEvent.Records[0]!);
    const msg = JSON.parse(cpu.Sns.Message) as Record<string, unknown>;
    cpu.Sns.Message = JSON.stringify({ ...msg, AlarmName: 'orders-db-cpu-high', StateChangeTime: CPU_AT });
    batch.Records.push(cpu);

    // Act
    const error = await failing(run(batch, deps));
    const retry = await run(batch, deps);

    // Assert
    expect(error.message).toMatch(
      /scaling alarms: 1 of 2 actions failed: orders-db \(ModifyDBInstance failed for DB instance orders-db/,
    );
    expect(notifier.sent.slice(0, 2).map((n) => [n.severity, n.subject])).toEqual([
      ['warning', 'sessions-redis-memory: reshard sessions-redis 2 → 3 shards'],
      [
        'critical',
        'orders-db-cpu: FAILED to modify orders-db class db.r6g.large → db.r6g.xlarge (apply immediately)',
      ],
    ]);
    expect(metric('ActionFailures')[0]).toBe(1);
    expect(retry.decisions.map((d) => [d.rule, d.status])).toEqual([
      ['sessions-redis-memory', 'skipped'],
      ['orders-db-cpu', 'done'],
    ]);
    expect(ec).toReceiveCommandTimes(ModifyReplicationGroupShardConfigurationCommand, 1);
    expect(state.items.has(seenKey('orders-db-cpu-high', new Date(CPU_AT)))).toBe(true);
  });

  it('an AWS error of 300 KB is told cut: the message stays a bounded summary, the error keeps it whole', async () => {
    // Prepare: an explicit deny quotes a long policy; some services return whole documents.
    const { deps, notifier } = setup();
    rds
      .on(DescribeDBInstancesCommand)
      .rejects(
        accessDenied(`not authorized: ${'{"Effect":"Deny","Action":"rds:*","Resource":"*"} '.repeat(6000)}`),
      );

    // Act
    const error = await failing(run(alarmEvent, deps));

    // Assert
    expectBoundedSummary(notifier.sent[0]!);
    expect(JSON.stringify(notifier.sent[0]!.data).length).toBeLessThan(8000);
    const errorLine = notifier.sent[0]!.lines.find((l) => l.startsWith('Error: '))!;
    expect(errorLine).toContain('AccessDenied: not authorized: ');
    expect(errorLine.length).toBeLessThanOrEqual(1100);
    expect(errorLine.endsWith(' chars)')).toBe(true);
    expect(error.failures[0]!.error.length).toBeGreaterThan(300_000);
  });

  it('a describe that fails is a failed decision, told at critical severity', async () => {
    // Prepare
    const { deps, notifier } = setup();
    rds.on(DescribeDBInstancesCommand).rejects(accessDenied('not authorized'));

    // Act
    const error = await failing(run(alarmEvent, deps));

    // Assert
    expect(error.failures[0]!.error).toMatch(
      /DescribeDBInstances failed for DB instance orders-db in eu-west-1: AccessDenied/,
    );
    expect(notifier.sent[0]).toMatchObject({ severity: 'critical', subject: 'orders-db-cpu: FAILED' });
  });
});

describe('scale-in on a sustained OK', () => {
  it('remembers the OK quietly, then the scale-in check steps back one replica once it held for an hour', async () => {
    // Prepare
    const { deps, notifier, at } = setup({ now: '2026-01-15T11:40:00Z' });
    givenGroup({ NodeGroups: [shard('0001', 2), shard('0002', 2)] });
    ec.on(DecreaseReplicaCountCommand).resolves(meta);
    const ok = clone(okEvent);
    ok.detail.alarmName = 'sessions-redis-cpu-high';

    // Act
    const onOk = await run(ok, deps);
    at('2026-01-15T12:10:00Z');
    const early = await run(scaleInEvent, deps);
    at('2026-01-15T12:45:00Z');
    const held = await run(scaleInEvent, deps);
    at('2026-01-15T13:00:00Z');
    const next = await run(scaleInEvent, deps);

    // Assert
    expect(onOk.decisions[0]!.decision).toMatchObject({ reason: 'not-sustained' });
    expect(early.decisions[0]!.decision).toMatchObject({ reason: 'not-sustained' });
    expect(held.decisions[0]).toMatchObject({ status: 'done', decision: { direction: 'in' } });
    // CloudWatch confirmed the OK before the step back; the checks before the OK had held asked nothing.
    expect(cw).toReceiveCommandTimes(DescribeAlarmsCommand, 1);
    expect(cw).toReceiveCommandWith(DescribeAlarmsCommand, { AlarmNames: ['sessions-redis-cpu-high'] });
    expect(ec).toReceiveCommandTimes(DecreaseReplicaCountCommand, 1);
    expect(ec).toReceiveCommandWith(DecreaseReplicaCountCommand, {
      ReplicationGroupId: 'sessions-redis',
      NewReplicaCount: 1,
      ApplyImmediately: true,
    });
    // One step per sustained period: the clock restarted at the step.
    expect(next.decisions[0]!.decision).toMatchObject({ reason: 'not-sustained' });
    expect(notifier.sent.map((n) => n.subject)).toEqual([
      'sessions-redis-reads: set sessions-redis replicas per shard 2 → 1',
    ]);
  });

  it('steps each shard back from its own count: a shard changed by hand is never pushed to no replica', async () => {
    // Prepare: shard 0002 was taken to 1 replica by hand. One NewReplicaCount from the largest (3 − 1 = 2)
    // would ask 0002 to "decrease" from 1 to 2; the floor (1) leaves 0002 as it is, the others step down one.
    const { deps, notifier } = setup({ now: '2026-01-15T12:45:00Z' });
    givenGroup({ NodeGroups: [shard('0001', 3), shard('0002', 1), shard('0003', 2)] });
    ec.on(DecreaseReplicaCountCommand).resolves(meta);
    await deps.state.setAlarmState('sessions-redis-cpu-high', 'OK', new Date('2026-01-15T11:39:58Z'), 3600);

    // Act
    const r = await run(scaleInEvent, deps);

    // Assert
    expect(r.decisions[0]).toMatchObject({ status: 'done', decision: { direction: 'in' } });
    expect(ec).toReceiveCommandTimes(DecreaseReplicaCountCommand, 1);
    expect(ec.commandCalls(DecreaseReplicaCountCommand)[0]!.args[0].input).toEqual({
      ReplicationGroupId: 'sessions-redis',
      ReplicaConfiguration: [
        { NodeGroupId: '0001', NewReplicaCount: 2 },
        { NodeGroupId: '0003', NewReplicaCount: 1 },
      ],
      ApplyImmediately: true,
    });
    expect(notifier.sent.map((n) => n.subject)).toEqual([
      'sessions-redis-reads: set sessions-redis replicas: shard 0001 3 → 2, shard 0003 2 → 1',
    ]);
  });

  it('never steps back on missing data: an alarm gone OK → INSUFFICIENT_DATA is skipped quietly, named', async () => {
    // Prepare: the OK of 11:39:58 is remembered; at 12:30 the metric stopped (the database or its metrics
    // pipeline down): the alarm is INSUFFICIENT_DATA, a transition no rule is sent.
    const { deps, notifier, at } = setup({ now: '2026-01-15T11:40:00Z' });
    givenGroup({ NodeGroups: [shard('0001', 2), shard('0002', 2)] });
    ec.on(DecreaseReplicaCountCommand).resolves(meta);
    const ok = clone(okEvent);
    ok.detail.alarmName = 'sessions-redis-cpu-high';
    await run(ok, deps);
    givenAlarms({
      'sessions-redis-cpu-high': {
        StateValue: 'INSUFFICIENT_DATA',
        StateTransitionedTimestamp: new Date('2026-01-15T12:30:00Z'),
      },
    });
    addMetric.mockClear();

    // Act
    at('2026-01-15T12:45:00Z');
    const r = await run(scaleInEvent, deps);

    // Assert: no step back (on the branch this started from: one replica removed), logged and counted.
    expect(ec).not.toReceiveCommand(DecreaseReplicaCountCommand);
    expect(r.decisions).toHaveLength(1);
    expect(r.decisions[0]).toMatchObject({ status: 'skipped', decision: { reason: 'not-sustained' } });
    expect(r.decisions[0]!.decision).toMatchObject({
      detail: expect.stringContaining(
        'sessions-redis-cpu-high is INSUFFICIENT_DATA since 2026-01-15T12:30:00.000Z',
      ),
    });
    expect(metric('ScalingSkipped')).toEqual([1]);
    expect(notifier.sent).toEqual([]);
  });

  it('an ALARM a little older than the step back, delivered after it, holds the next step back', async () => {
    // Prepare: the step back of 12:45 restarts the sustained OK at 12:45:00; the ALARM of 12:44:58 arrives
    // at 12:45:05 and is older than that record, so the store keeps "OK since 12:45".
    const { deps, at } = setup({ now: '2026-01-15T11:40:00Z' });
    givenGroup({ NodeGroups: [shard('0001', 3), shard('0002', 3)] });
    ec.on(DecreaseReplicaCountCommand).resolves(meta);
    ec.on(IncreaseReplicaCountCommand).resolves(meta);
    const ok = clone(okEvent);
    ok.detail.alarmName = 'sessions-redis-cpu-high';
    await run(ok, deps);
    at('2026-01-15T12:45:00Z');
    const step = await run(scaleInEvent, deps);
    at('2026-01-15T12:45:05Z');
    await run(alarmAt('sessions-redis-cpu-high', '2026-01-15T12:44:58.000+0000'), deps);
    givenAlarms({
      'sessions-redis-cpu-high': {
        StateValue: 'ALARM',
        StateTransitionedTimestamp: new Date('2026-01-15T12:44:58Z'),
      },
    });

    // Act: the next period, the alarm still in ALARM.
    at('2026-01-15T13:46:00Z');
    const next = await run(scaleInEvent, deps);

    // Assert: one step back, not two (on the branch this started from: a second one at 13:46).
    expect(step.decisions[0]).toMatchObject({ status: 'done', decision: { direction: 'in' } });
    expect(ec).toReceiveCommandTimes(DecreaseReplicaCountCommand, 1);
    expect(next.decisions[0]).toMatchObject({ status: 'skipped', decision: { reason: 'not-sustained' } });
    expect(next.decisions[0]!.decision).toMatchObject({
      detail: expect.stringContaining('sessions-redis-cpu-high is ALARM since 2026-01-15T12:44:58.000Z'),
    });
  });

  it('an OK newer than the remembered one (a missed ALARM and OK) holds from the newer, then steps back', async () => {
    // Prepare: steward remembers OK since 11:39:58; CloudWatch says OK since 12:20 (ALARM and OK in between
    // never reached steward).
    const { deps, at } = setup({ now: '2026-01-15T11:40:00Z' });
    givenGroup({ NodeGroups: [shard('0001', 2), shard('0002', 2)] });
    ec.on(DecreaseReplicaCountCommand).resolves(meta);
    const ok = clone(okEvent);
    ok.detail.alarmName = 'sessions-redis-cpu-high';
    await run(ok, deps);
    givenAlarms({
      'sessions-redis-cpu-high': { StateTransitionedTimestamp: new Date('2026-01-15T12:20:00Z') },
    });

    // Act
    at('2026-01-15T12:45:00Z');
    const early = await run(scaleInEvent, deps);
    at('2026-01-15T13:20:00Z');
    const held = await run(scaleInEvent, deps);

    // Assert
    expect(early.decisions[0]!.decision).toMatchObject({
      reason: 'not-sustained',
      detail: expect.stringContaining('OK for 25 of 60 min'),
    });
    expect(held.decisions[0]).toMatchObject({ status: 'done', decision: { direction: 'in' } });
    expect(ec).toReceiveCommandTimes(DecreaseReplicaCountCommand, 1);
  });

  it('a check CloudWatch cannot answer fails, naming the alarms, and steps nothing back', async () => {
    // Prepare
    const { deps, at } = setup({ now: '2026-01-15T11:40:00Z' });
    givenGroup({ NodeGroups: [shard('0001', 2), shard('0002', 2)] });
    const ok = clone(okEvent);
    ok.detail.alarmName = 'sessions-redis-cpu-high';
    await run(ok, deps);
    cw.on(DescribeAlarmsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));

    // Act
    at('2026-01-15T12:45:00Z');
    const error = await failing(run(scaleInEvent, deps));

    // Assert
    expect(ec).not.toReceiveCommand(DecreaseReplicaCountCommand);
    expect(error.failures).toHaveLength(1);
    expect(error.message).toMatch(
      /DescribeAlarms failed for 1 alarms in eu-west-1 \(sessions-redis-cpu-high\)/,
    );
  });

  it('counts a resource resting at its floor in the fleet-wide skips only, never in its target series', async () => {
    // Prepare: the alarm OK since 11:40, the group already at one replica per shard (the floor).
    const { deps, notifier, at } = setup({ now: '2026-01-15T11:40:00Z' });
    givenGroup({ NodeGroups: [shard('0001', 1), shard('0002', 1)] });
    const ok = clone(okEvent);
    ok.detail.alarmName = 'sessions-redis-cpu-high';
    await run(ok, deps);
    addMetric.mockClear();

    // Act: two checks, 15 minutes apart, once the OK has held.
    at('2026-01-15T12:45:00Z');
    const first = await run(scaleInEvent, deps);
    at('2026-01-15T13:00:00Z');
    await run(scaleInEvent, deps);

    // Assert
    expect(first.decisions[0]!.decision).toMatchObject({ reason: 'at-min' });
    expect(addMetric.mock.calls.filter((c) => c[0] === 'ScalingSkipped')).toEqual([
      ['ScalingSkipped', MetricUnit.Count, 1, { perTarget: 0 }],
      ['ScalingSkipped', MetricUnit.Count, 1, { perTarget: 0 }],
    ]);
    // Nor is it told: a resource at rest is not news every 15 minutes.
    expect(notifier.sent).toEqual([]);
  });

  describe("read replicas: only steward's own are removed", () => {
    const config = {
      ...scalingConfigInput,
      scaling: {
        ...scalingConfigInput.scaling,
        rules: {
          'orders-db-connections': {
            ...scalingConfigInput.scaling.rules['orders-db-connections'],
            scaleIn: { enabled: true, afterOkMinutes: 60 },
          },
        },
      },
    };
    const ours = tagList(replicaTags('orders-db', {}, 'orders-db-connections'));
    /** orders-db with these replicas, each described by id with its tags (a hand-made one has its own). */
    const givenReplicas = (replicas: Record<string, { Key: string; Value: string }[]>) => {
      givenInstance({ ReadReplicaDBInstanceIdentifiers: Object.keys(replicas) });
      for (const [id, TagList] of Object.entries(replicas))
        rds
          .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: id })
          .resolves({ ...meta, DBInstances: [instance({ DBInstanceIdentifier: id, TagList })] });
      // IAM lets steward delete only a replica tagged steward:managed=true (infra/scaling.ts).
      rds.on(DeleteDBInstanceCommand).callsFake((input: { DBInstanceIdentifier?: string }) => {
        const tags = replicas[input.DBInstanceIdentifier ?? ''] ?? [];
        if (!tags.some((t) => t.Key === 'steward:managed' && t.Value === 'true'))
          throw accessDenied(`not authorized to delete ${input.DBInstanceIdentifier}`);
        return meta;
      });
    };
    const holdOk = async (deps: ScalingDeps, at: (iso: string) => Date) => {
      const ok = clone(okEvent);
      ok.detail.alarmName = 'orders-db-connections-high';
      await run(ok, deps);
      at('2026-01-15T12:45:00Z');
    };

    it("removes steward's own replica, not a newer hand-made one of steward's name (which failed every check)", async () => {
      // Prepare: steward made orders-db-replica-1; someone made orders-db-replica-2 by hand, newest by name.
      const { deps, notifier, at } = setup({ now: '2026-01-15T11:40:00Z', config });
      givenReplicas({
        'orders-db-replica-1': ours,
        'orders-db-replica-2': [{ Key: 'team', Value: 'orders' }],
      });
      await holdOk(deps, at);

      // Act: before, the check picked orders-db-replica-2 by name, IAM refused, and the run failed (every run).
      const r = await run(scaleInEvent, deps);

      // Assert
      expect(rds).toReceiveCommandTimes(DeleteDBInstanceCommand, 1);
      expect(rds).toReceiveCommandWith(DeleteDBInstanceCommand, {
        DBInstanceIdentifier: 'orders-db-replica-1',
        SkipFinalSnapshot: true,
      });
      expect(r.decisions[0]).toMatchObject({
        status: 'done',
        decision: {
          reason:
            "2 → 1 replicas: remove orders-db-replica-1 (orders-db-replica-2 is named like steward's but not tagged as created by it: left alone)",
        },
      });
      expect(notifier.sent.map((n) => n.subject)).toEqual([
        'orders-db-connections: delete replica orders-db-replica-1 of orders-db',
      ]);
    });

    it('with only a hand-made one left: a quiet skip naming it, logged and counted, never a failure', async () => {
      // Prepare
      const { deps, notifier, at } = setup({ now: '2026-01-15T11:40:00Z', config });
      givenReplicas({ 'orders-db-replica-1': [{ Key: 'team', Value: 'orders' }] });
      await holdOk(deps, at);
      addMetric.mockClear();

      // Act
      const r = await run(scaleInEvent, deps);

      // Assert
      expect(rds).not.toReceiveCommand(DeleteDBInstanceCommand);
      expect(r.decisions[0]).toMatchObject({
        status: 'skipped',
        decision: {
          reason: 'at-min',
          detail: expect.stringContaining(
            "orders-db-replica-1 is named like steward's but not tagged as created by it: left alone",
          ),
        },
      });
      expect(r.outcomes.filter((o) => o.status === 'failed')).toEqual([]);
      expect(metric('ScalingSkipped')).toEqual([1]);
      expect(notifier.sent).toEqual([]);
    });
  });

  it('a new ALARM cancels a pending scale-in', async () => {
    // Prepare
    const { deps, at } = setup({ now: '2026-01-15T11:40:00Z' });
    givenGroup();
    ec.on(IncreaseReplicaCountCommand).resolves(meta);
    const ok = clone(okEvent);
    ok.detail.alarmName = 'sessions-redis-cpu-high';
    await run(ok, deps);
    at('2026-01-15T11:50:00Z');
    await run(alarmAt('sessions-redis-cpu-high', '2026-01-15T11:49:00.000+0000'), deps);

    // Act
    at('2026-01-15T13:00:00Z');
    const r = await run(scaleInEvent, deps);

    // Assert
    expect(r.decisions).toEqual([]);
    expect(ec).not.toReceiveCommand(DecreaseReplicaCountCommand);
  });

  it('a step back waiting for the maintenance window is told once, not at every check until then', async () => {
    // Prepare: orders-db's class rule scales in, its changes wait for the maintenance window (the default).
    const cpu = scalingConfigInput.scaling.rules['orders-db-cpu'];
    const config = {
      ...scalingConfigInput,
      scaling: {
        ...scalingConfigInput.scaling,
        rules: {
          ...scalingConfigInput.scaling.rules,
          'orders-db-cpu': {
            ...cpu,
            action: { ...cpu.action, applyImmediately: false },
            scaleIn: { enabled: true, afterOkMinutes: 60 },
          },
        },
      },
    };
    const { deps, notifier, at } = setup({ now: '2026-01-15T11:40:00Z', config });
    givenInstance({ DBInstanceClass: 'db.r6g.2xlarge' });
    rds.on(ModifyDBInstanceCommand).resolves(meta);
    await run(clone(okEvent), deps);
    at('2026-01-15T12:45:00Z');
    const step = await run(scaleInEvent, deps);
    givenInstance({
      DBInstanceClass: 'db.r6g.2xlarge',
      PendingModifiedValues: { DBInstanceClass: 'db.r6g.xlarge' },
    });

    // Act: the checks once the OK has held again, every 15 minutes, while the change is still pending.
    const later: ScalingResult[] = [];
    for (const t of ['13:50', '14:05', '14:20']) {
      at(`2026-01-15T${t}:00Z`);
      later.push(await run(scaleInEvent, deps));
    }

    // Assert: the step is told; the wait for its window is bookkeeping (on main: three more warnings).
    expect(step.decisions[0]).toMatchObject({ status: 'done', decision: { direction: 'in' } });
    expect(later.map((r) => r.decisions[0]!.decision)).toMatchObject([
      { reason: 'pending-modification' },
      { reason: 'pending-modification' },
      { reason: 'pending-modification' },
    ]);
    expect(notifier.sent.map((n) => n.subject)).toEqual([
      'orders-db-cpu: modify orders-db class db.r6g.2xlarge → db.r6g.xlarge (next maintenance window)',
    ]);
  });

  it('a step back waiting on a backup is logged and counted, told only once the backup outlasts an hour', async () => {
    // Prepare: the OK of 11:39:58 has held for its hour at 12:45; the group is in its daily snapshot.
    const { deps, notifier, at } = setup({ now: '2026-01-15T11:40:00Z' });
    givenGroup({ Status: 'snapshotting', NodeGroups: [shard('0001', 2), shard('0002', 2)] });
    ec.on(DecreaseReplicaCountCommand).resolves(meta);
    const ok = clone(okEvent);
    ok.detail.alarmName = 'sessions-redis-cpu-high';
    await run(ok, deps);
    addMetric.mockClear();

    // Act: a check every 15 minutes through a snapshot of 75 minutes, then the group is available again.
    const checks: ScalingResult[] = [];
    for (const t of ['12:45', '13:00', '13:15', '13:30', '13:45', '14:00']) {
      at(`2026-01-15T${t}:00Z`);
      checks.push(await run(scaleInEvent, deps));
    }
    givenGroup({ NodeGroups: [shard('0001', 2), shard('0002', 2)] });
    at('2026-01-15T14:15:00Z');
    const after = await run(scaleInEvent, deps);

    // Assert: quiet while the snapshot is young, each skip naming the state and how long it has lasted.
    expect(checks.map((r) => r.decisions[0]!.decision)).toMatchObject([
      { reason: 'transient-state', detail: expect.stringContaining('is snapshotting (0 min so far') },
      { reason: 'transient-state', detail: expect.stringContaining('is snapshotting (15 min so far') },
      { reason: 'transient-state' },
      { reason: 'transient-state' },
      { reason: 'not-available', detail: expect.stringContaining('snapshotting for 60 min') },
      { reason: 'transient-state', detail: expect.stringContaining('told at 2026-01-15T13:45:00.000Z') },
    ]);
    expect(metric('ScalingSkipped').reduce((a, b) => a + b, 0)).toBe(6);
    expect(after.decisions[0]).toMatchObject({ status: 'done', decision: { direction: 'in' } });
    // On the branch before this fix: a warning at every one of the six checks.
    expect(notifier.sent.map((n) => n.subject)).toEqual([
      'sessions-redis-reads: skipped (not-available) on sessions-redis',
      'sessions-redis-reads: set sessions-redis replicas per shard 2 → 1',
    ]);
    expect(notifier.sent[0]!.lines.join('\n')).toContain('snapshotting for 60 min');
  });

  it('a rule whose group was deleted is told at the first check that finds it gone, then quiet while it stays gone', async () => {
    // Prepare: the group is deleted after its OK; its alarm stays OK (missing data treated as not breaching, or
    // an alarm on another metric), so every check reaches the describe and finds nothing.
    const { deps, notifier, at } = setup({ now: '2026-01-15T11:40:00Z' });
    const ok = clone(okEvent);
    ok.detail.alarmName = 'sessions-redis-cpu-high';
    await run(ok, deps);
    ec.on(DescribeReplicationGroupsCommand).rejects(
      Object.assign(new Error('ReplicationGroup sessions-redis not found.'), {
        name: 'ReplicationGroupNotFoundFault',
        $fault: 'client',
        $metadata: {},
      }),
    );

    // Act: a check every 15 minutes for an hour.
    const checks: ScalingResult[] = [];
    for (const t of ['12:45', '13:00', '13:15', '13:30', '13:45']) {
      at(`2026-01-15T${t}:00Z`);
      checks.push(await run(scaleInEvent, deps));
    }

    // Assert: each check names the missing group; one warning, not one every 15 minutes (96 a day).
    for (const c of checks)
      expect(c.decisions[0]!.decision).toMatchObject({
        verdict: 'skip',
        detail: expect.stringContaining('sessions-redis'),
      });
    expect(checks.map((c) => c.decisions[0]!.decision)).toMatchObject([
      {
        reason: 'not-found',
        detail: expect.stringContaining('fix or remove scaling.rules.sessions-redis-reads'),
      },
      ...Array(4).fill({
        reason: 'already-told',
        detail: expect.stringContaining('since 2026-01-15T12:45:00.000Z, told at 2026-01-15T12:45:00.000Z'),
      }),
    ]);
    expect(notifier.sent.map((n) => n.subject)).toEqual([
      'sessions-redis-reads: skipped (not-found) on sessions-redis',
    ]);
  });

  it('an instance moved off the ladder by hand is told once by the scale-in check, and again when it moves', async () => {
    // Prepare: orders-db's class rule scales in; someone moved orders-db to db.r7g.xlarge (off the r6g ladder).
    const cpu = scalingConfigInput.scaling.rules['orders-db-cpu'];
    const config = {
      ...scalingConfigInput,
      scaling: {
        ...scalingConfigInput.scaling,
        rules: {
          ...scalingConfigInput.scaling.rules,
          'orders-db-cpu': { ...cpu, scaleIn: { enabled: true, afterOkMinutes: 60 } },
        },
      },
    };
    const { deps, notifier, at } = setup({ now: '2026-01-15T11:40:00Z', config });
    givenInstance({ DBInstanceClass: 'db.r7g.xlarge' });
    await run(clone(okEvent), deps);

    // Act: a check every 15 minutes; at 13:30 it is moved again, to db.r7g.2xlarge.
    const checks: ScalingResult[] = [];
    for (const t of ['12:45', '13:00', '13:15', '13:30', '13:45']) {
      if (t === '13:30') givenInstance({ DBInstanceClass: 'db.r7g.2xlarge' });
      at(`2026-01-15T${t}:00Z`);
      checks.push(await run(scaleInEvent, deps));
    }

    // Assert: every check names the class off the ladder; told at the first check and when the class changed.
    expect(checks.map((c) => c.decisions[0]!.decision)).toMatchObject([
      { reason: 'not-on-ladder', detail: expect.stringContaining('db.r7g.xlarge is not on the ladder') },
      { reason: 'already-told', detail: expect.stringContaining('db.r7g.xlarge is not on the ladder') },
      { reason: 'already-told' },
      { reason: 'not-on-ladder', detail: expect.stringContaining('db.r7g.2xlarge is not on the ladder') },
      { reason: 'already-told', detail: expect.stringContaining('told at 2026-01-15T13:30:00.000Z') },
    ]);
    expect(notifier.sent.map((n) => n.subject)).toEqual([
      'orders-db-cpu: skipped (not-on-ladder) on orders-db',
      'orders-db-cpu: skipped (not-on-ladder) on orders-db',
    ]);
  });

  it('a stopped instance is told once by the scale-in check, not at every check while it stays stopped', async () => {
    // Prepare: orders-db (db.r6g.xlarge, one rung above the floor) is stopped; its alarm stays OK.
    const cpu = scalingConfigInput.scaling.rules['orders-db-cpu'];
    const config = {
      ...scalingConfigInput,
      scaling: {
        ...scalingConfigInput.scaling,
        rules: {
          ...scalingConfigInput.scaling.rules,
          'orders-db-cpu': { ...cpu, scaleIn: { enabled: true, afterOkMinutes: 60 } },
        },
      },
    };
    const { deps, notifier, at } = setup({ now: '2026-01-15T11:40:00Z', config });
    givenInstance({ DBInstanceClass: 'db.r6g.xlarge', DBInstanceStatus: 'stopped' });
    rds.on(ModifyDBInstanceCommand).resolves(meta);
    await run(clone(okEvent), deps);

    // Act: checks every 15 minutes; started again at 13:30.
    const checks: ScalingResult[] = [];
    for (const t of ['12:45', '13:00', '13:15', '13:30']) {
      if (t === '13:30') givenInstance({ DBInstanceClass: 'db.r6g.xlarge' });
      at(`2026-01-15T${t}:00Z`);
      checks.push(await run(scaleInEvent, deps));
    }

    // Assert
    expect(checks.map((c) => c.decisions[0]!.decision)).toMatchObject([
      { reason: 'not-available', detail: expect.stringContaining('orders-db is stopped') },
      { reason: 'already-told', detail: expect.stringContaining('orders-db is stopped') },
      { reason: 'already-told' },
      { verdict: 'act', direction: 'in' },
    ]);
    expect(notifier.sent.map((n) => n.subject)).toEqual([
      'orders-db-cpu: skipped (not-available) on orders-db',
      'orders-db-cpu: modify orders-db class db.r6g.xlarge → db.r6g.large (apply immediately)',
    ]);
  });

  it('a group at its floor in a long snapshot is at-min, not a wait: nothing to step back, nothing to tell', async () => {
    // Prepare
    const { deps, notifier, at } = setup({ now: '2026-01-15T11:40:00Z' });
    givenGroup({ Status: 'snapshotting', NodeGroups: [shard('0001', 1), shard('0002', 1)] });
    const ok = clone(okEvent);
    ok.detail.alarmName = 'sessions-redis-cpu-high';
    await run(ok, deps);

    // Act
    const checks: ScalingResult[] = [];
    for (const t of ['12:45', '13:15', '13:45', '14:15']) {
      at(`2026-01-15T${t}:00Z`);
      checks.push(await run(scaleInEvent, deps));
    }

    // Assert
    expect(checks.map((r) => r.decisions[0]!.decision)).toMatchObject(
      Array(4).fill({ reason: 'at-min', detail: 'sessions-redis has 1 replicas per shard, floor 1' }),
    );
    expect(notifier.sent).toEqual([]);
  });

  it("a backup on another day starts a new wait: yesterday's does not count", async () => {
    // Prepare
    const { deps, notifier, at } = setup({ now: '2026-01-15T11:40:00Z' });
    givenGroup({ Status: 'snapshotting', NodeGroups: [shard('0001', 2), shard('0002', 2)] });
    const ok = clone(okEvent);
    ok.detail.alarmName = 'sessions-redis-cpu-high';
    await run(ok, deps);

    // Act: snapshots seen at 12:45-13:15 on the 15th and at 12:45 on the 16th; no wait seen between.
    const seen: ScalingResult[] = [];
    for (const t of ['15T12:45', '15T13:00', '15T13:15', '16T12:45']) {
      at(`2026-01-${t}:00Z`);
      seen.push(await run(scaleInEvent, deps));
    }

    // Assert
    expect(seen.at(-1)!.decisions[0]!.decision).toMatchObject({
      reason: 'transient-state',
      detail: expect.stringContaining('(0 min so far'),
    });
    expect(notifier.sent).toEqual([]);
  });

  it('an OK delivered late never steps back by itself: the alarm may be in ALARM again since', async () => {
    // Prepare: the ALARM of 11:49 finds the group at its max (3 replicas per shard), so nothing is acted on.
    const { deps, at } = setup({ now: '2026-01-15T11:50:00Z' });
    givenGroup({ NodeGroups: [shard('0001', 3), shard('0002', 3)] });
    ec.on(DecreaseReplicaCountCommand).resolves(meta);
    const alarm = await run(alarmAt('sessions-redis-cpu-high', '2026-01-15T11:49:00.000+0000'), deps);
    const ok = clone(okEvent);
    ok.detail.alarmName = 'sessions-redis-cpu-high';

    // Act: the OK of 11:39:58, whose first delivery was throttled, comes at 13:00 (Lambda's async queue
    // retries for up to 6 hours, EventBridge for 24), and the scale-in check runs after it.
    at('2026-01-15T13:00:00Z');
    const late = await run(ok, deps);
    const check = await run(scaleInEvent, deps);

    // Assert
    expect(alarm.decisions[0]!.decision).toMatchObject({ reason: 'at-max' });
    expect(late.decisions[0]!.decision).toMatchObject({ verdict: 'skip', reason: 'not-sustained' });
    expect(check.decisions).toEqual([]);
    expect(ec).not.toReceiveCommand(DecreaseReplicaCountCommand);
  });
});

describe('a run with many decisions', () => {
  /** `n` databases on xlarge whose alarms have been OK since 11:00 (scale-in due at 12:45), a report bucket. */
  const scaleInRun = async (n: number, approve = 0) => {
    const config = scaleInEstate(n, approve);
    const s = setup({ now: '2026-01-15T12:45:00Z', config });
    const reports = memoryRunReports('steward-reports', REGION);
    s.deps.reports = reports;
    for (const r of Object.keys(config.scaling.rules))
      await s.state.setAlarmState(`${r}-high`, 'OK', new Date('2026-01-15T11:00:00Z'), 86_400);
    rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier: string }) => ({
      ...meta,
      DBInstances: [
        instance({
          DBInstanceIdentifier: input.DBInstanceIdentifier,
          DBInstanceArn: `arn:aws:rds:${REGION}:111122223333:db:${input.DBInstanceIdentifier}`,
          DBInstanceClass: 'db.r6g.xlarge',
        }),
      ],
    }));
    return { ...s, reports };
  };

  it('a scale-in check over 500 databases sends one bounded summary; the run report holds every decision', async () => {
    // Prepare: 500 databases OK for 105 minutes; every 50th refuses the change; the first 5 need approval.
    const { deps, state, notifier, reports } = await scaleInRun(500, 5);
    rds.on(ModifyDBInstanceCommand).callsFake((input: { DBInstanceIdentifier: string }) => {
      if (Number(input.DBInstanceIdentifier.slice(3)) % 50 === 49)
        throw new InvalidDBInstanceStateFault({ $metadata: {}, message: 'not in available state' });
      return meta;
    });

    // Act
    const error = await failing(run(scaleInEvent, deps));

    // Assert: 5 approval requests (each one change a person approves by its id) and one summary, not 500.
    expect(error.failures).toHaveLength(10);
    // CloudWatch confirmed the 500 alarms in 5 calls of 100 names, not one call per database.
    expect(cw).toReceiveCommandTimes(DescribeAlarmsCommand, 5);
    const asked = cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input.AlarmNames ?? []);
    expect(asked.map((n) => n.length)).toEqual([100, 100, 100, 100, 100]);
    expect(new Set(asked.flat()).size).toBe(500);
    const [approvals, summaries] = [
      notifier.sent.filter((n) => n.subject.includes('approval needed')),
      notifier.sent.filter((n) => !n.subject.includes('approval needed')),
    ];
    expect(approvals).toHaveLength(5);
    expect(summaries).toHaveLength(1);
    const summary = summaries[0]!;
    const body = expectBoundedSummary(summary);
    expect(summary).toMatchObject({
      severity: 'critical',
      capability: 'scaling',
      subject: 'scale-in check: 10 FAILED, 5 awaiting approval, 485 acted of 500 decisions',
    });
    expect(body).toContain(
      '500 decisions: 485 acted, 0 already done, 5 awaiting approval, 0 planned, 0 skipped, 10 failed',
    );
    // Failures first, each named with its error.
    expect(body.indexOf('db-049-cpu: FAILED')).toBeLessThan(body.indexOf('db-005-cpu: modify db-005'));
    expect(body).toContain('... and 475 more acted (in the full report)');
    const { key, report } = onlyReport<{ decisions: { rule: string; status: string }[] }>(reports);
    expect(key).toMatch(/^runs\/scaling\/2026-01-15\/20260115T124500Z-scale-in-check\.json$/);
    expect(body).toContain(`Full report: s3://steward-reports/${key}`);
    expect(report.decisions).toHaveLength(500);
    expect(report.decisions.filter((d) => d.status === 'failed')).toHaveLength(10);
    // The pager still opens one incident per failed resource and clears the others.
    expect(summary.alerts?.filter((a) => a.action === 'trigger')).toHaveLength(10);
    // Told: every decision is marked announced, so a redelivery stays quiet.
    const told = [...state.items.values()].filter((i) => typeof i.outcome === 'string');
    expect(told).toHaveLength(490);
    expect(told.every((i) => i.announced === true)).toBe(true);
  });

  it('a few decisions are still each their own message', async () => {
    // Prepare
    const { deps, notifier, reports } = await scaleInRun(3);
    rds.on(ModifyDBInstanceCommand).resolves(meta);

    // Act
    await run(scaleInEvent, deps);

    // Assert
    expect(notifier.sent.map((n) => n.subject)).toEqual([
      'db-000-cpu: modify db-000 class db.r6g.xlarge → db.r6g.large (next maintenance window)',
      'db-001-cpu: modify db-001 class db.r6g.xlarge → db.r6g.large (next maintenance window)',
      'db-002-cpu: modify db-002 class db.r6g.xlarge → db.r6g.large (next maintenance window)',
    ]);
    expect(reports.objects.size).toBe(0);
  });
});

describe('faults that used to leave half states', () => {
  it('two alarms on one database at the same moment: exactly one acts, the other finds it claimed', async () => {
    // Prepare: scale-up (orders-db-cpu) and a new replica (orders-db-connections) both answer orders-db.
    const { deps, state } = setup();
    givenInstance();
    rds.on(ModifyDBInstanceCommand).resolves(meta);
    rds.on(CreateDBInstanceReadReplicaCommand).resolves(meta);

    // Act: both transitions delivered at once (two Lambda invocations).
    const [cpu, connections] = await Promise.all([
      run(alarmAt('orders-db-cpu-high', CPU_AT), deps),
      run(alarmAt('orders-db-connections-high', CPU_AT), deps),
    ]);

    // Assert
    const changes =
      rds.commandCalls(ModifyDBInstanceCommand).length +
      rds.commandCalls(CreateDBInstanceReadReplicaCommand).length;
    expect(changes).toBe(1);
    const statuses = [cpu.decisions[0]!, connections.decisions[0]!].map((d) =>
      d.decision.verdict === 'skip' ? `skip:${d.decision.reason}` : d.status,
    );
    expect(statuses.sort()).toEqual(['done', 'skip:cooldown']);
    expect(state.items.get(cooldownKey('rds-instance', 'orders-db'))).toMatchObject({
      until: '2026-01-15T10:50:03.000Z',
    });
  });

  it('a state write that fails after a successful modify: reported done, and the cooldown still holds', async () => {
    // Prepare: the state table starts refusing writes right after RDS accepted the change.
    const { deps, state, at } = setup();
    givenInstance();
    rds.on(ModifyDBInstanceCommand).callsFake(() => {
      state.failWrites = new Error('ProvisionedThroughputExceededException');
      return meta;
    });

    // Act
    const first = await run(alarmEvent, deps);
    state.failWrites = undefined;
    at('2026-01-15T10:30:05Z');
    const later = await run(alarmAt('orders-db-cpu-high', '2026-01-15T10:30:00.000+0000'), deps);

    // Assert
    expect(first.decisions[0]!.status).toBe('done');
    expect(later.decisions[0]!.decision).toMatchObject({ verdict: 'skip', reason: 'cooldown' });
    expect(rds).toReceiveCommandTimes(ModifyDBInstanceCommand, 1);
  });

  it('an SNS failure after a successful modify: the retry announces it, without changing anything again', async () => {
    // Prepare
    const { deps, notifier } = setup();
    givenInstance();
    rds.on(ModifyDBInstanceCommand).resolves(meta);
    let down = true;
    const send = notifier.send;
    deps.notifier = {
      send: async (n) => {
        if (down) throw new Error('SNS: Internal Error');
        return send(n);
      },
    };

    // Act: the first attempt changes the class and cannot tell; Lambda retries it.
    const error = await failing(run(alarmEvent, deps));
    down = false;
    givenInstance({ DBInstanceClass: 'db.r6g.xlarge' });
    const retry = await run(alarmEvent, deps);

    // Assert
    expect(error.failures[0]!.resource).toBe('warning notification');
    expect(rds).toReceiveCommandTimes(ModifyDBInstanceCommand, 1);
    expect(notifier.sent.map((n) => n.subject)).toEqual([
      'orders-db-cpu: modify orders-db class db.r6g.large → db.r6g.xlarge (apply immediately)',
    ]);
    expect(retry.decisions[0]).toMatchObject({ status: 'done' });
    // A third delivery finds it announced: quiet.
    const third = await run(alarmEvent, deps);
    expect(third.decisions[0]!.decision).toMatchObject({ reason: 'duplicate' });
    expect(notifier.sent).toHaveLength(1);
  });

  it('a failed approved action does not consume the approval: it can be approved again', async () => {
    // Prepare
    const { deps, at } = setup({ now: '2026-01-15T10:45:02Z' });
    givenInstance();
    rds
      .on(RebootDBInstanceCommand)
      .rejectsOnce(new InvalidDBInstanceStateFault({ $metadata: {}, message: 'not in available state' }))
      .resolves(meta);
    await run(playbookEvent, deps);
    at('2026-01-15T10:52:00Z');

    // Act
    const failed = await failing(run(approveEvent, deps));
    const retried = await run(approveEvent, deps);

    // Assert
    expect(failed.failures[0]!.error).toMatch(/RebootDBInstance failed/);
    expect(retried.decisions[0]).toMatchObject({ status: 'done', approvalId: approveEvent.id });
    expect(rds).toReceiveCommandTimes(RebootDBInstanceCommand, 2);
  });

  it.each<[string, () => unknown, RegExp]>([
    [
      'a playbook requestedAt days in the future',
      () => ({ ...clone(playbookEvent), requestedAt: '2026-01-18T10:45:00Z' }),
      /requestedAt: must be within 300 s of now/,
    ],
    [
      'a playbook requestedAt hours in the past',
      () => ({ ...clone(playbookEvent), requestedAt: '2026-01-15T06:00:00Z' }),
      /requestedAt: must be within 300 s of now/,
    ],
    [
      'an alarm state timestamp days in the future',
      () => alarmAt('orders-db-cpu-high', '2026-01-17T10:19:59.987+0000'),
      /detail\.state\.timestamp: \S+ is more than 300 s ahead of now/,
    ],
  ])('refuses %s, so it cannot block the database for days', async (_what, event, message) => {
    // Prepare
    const { deps, state } = setup({ now: '2026-01-15T10:45:02Z' });

    // Act
    const call = run(event(), deps);

    // Assert
    await expect(call).rejects.toThrow(EventShapeError);
    await expect(call).rejects.toThrow(message);
    expect(state.writes).toBe(0);
  });
});
