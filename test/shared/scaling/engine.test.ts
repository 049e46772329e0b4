import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkApproval,
  decideScaling,
  describeChange,
  planChange,
  replicaTags,
} from '../../../shared/scaling/engine.js';
import { confirmSustained } from '../../../shared/scaling/guard.js';
import { nextReplicaId, replicaNumber } from '../../../shared/scaling/ids.js';
import type {
  Approval,
  ScalingDecision,
  ScalingMemory,
  ScalingResource,
} from '../../../shared/scaling/model.js';
import { alarm, billing, NOW, ordersDb, rule, sessions } from './fixtures.js';

const fresh: ScalingMemory = { seen: false };
const verdict = (d: ScalingDecision) => (d.verdict === 'act' ? describeChange(d.change) : `skip ${d.reason}`);

describe('decideScaling: one verdict per action', () => {
  const cases: [string, string, ScalingResource | undefined, string][] = [
    [
      'orders-db-cpu',
      'orders-db-cpu-high',
      ordersDb(),
      'modify orders-db class db.r6g.large → db.r6g.xlarge (apply immediately)',
    ],
    ['orders-db-cpu', 'orders-db-cpu-high', ordersDb({ instanceClass: 'db.r6g.2xlarge' }), 'skip at-max'],
    ['orders-db-cpu', 'orders-db-cpu-high', ordersDb({ instanceClass: 'db.m5.large' }), 'skip not-on-ladder'],
    [
      'orders-db-connections',
      'orders-db-connections-high',
      ordersDb(),
      'create read replica orders-db-replica-1 of orders-db',
    ],
    [
      'orders-db-connections',
      'orders-db-connections-high',
      ordersDb({ replicas: ['orders-db-replica-1'] }),
      'create read replica orders-db-replica-2 of orders-db',
    ],
    [
      'orders-db-connections',
      'orders-db-connections-high',
      ordersDb({ replicas: ['orders-db-replica-1', 'reporting'] }),
      'skip at-max',
    ],
    [
      'billing-readers',
      'billing-aurora-load-cpu',
      billing(),
      'add reader billing-reader-1 (db.r6g.xlarge) to Aurora cluster billing',
    ],
    [
      'sessions-redis-memory',
      'sessions-redis-memory-high',
      sessions(),
      'reshard sessions-redis 2 → 3 shards',
    ],
    [
      'sessions-redis-memory',
      'sessions-redis-memory-high',
      sessions({
        nodeGroups: ['0001', '0002', '0003', '0004'].map((id) => ({ id, status: 'available', replicas: 1 })),
      }),
      'skip at-max',
    ],
    [
      'sessions-redis-memory',
      'sessions-redis-memory-high',
      sessions({ clusterMode: false }),
      'skip unsupported',
    ],
    [
      'sessions-redis-reads',
      'sessions-redis-cpu-high',
      sessions(),
      'set sessions-redis replicas per shard 1 → 2',
    ],
    ['orders-db-failover', 'orders-db-unhealthy', ordersDb(), 'reboot orders-db with forced failover'],
    ['orders-db-failover', 'orders-db-unhealthy', ordersDb({ multiAz: false }), 'skip unsupported'],
    ['billing-failover', 'billing-aurora-unhealthy', billing(), 'fail over Aurora cluster billing'],
    [
      'sessions-redis-recovery',
      'sessions-redis-unhealthy',
      sessions(),
      'fail over shard 0001 of sessions-redis',
    ],
    [
      'sessions-redis-recovery',
      'sessions-redis-unhealthy',
      sessions({ automaticFailover: 'disabled' }),
      'skip unsupported',
    ],
    ['orders-db-heads-up', 'orders-db-disk-low', undefined, 'notify about orders-db'],
  ];
  it.each(cases.map(([n, a, r, e]) => [n, a, e, r] as const))(
    '%s on %s: %s',
    (name, alarmName, expected, resource) => {
      // Act
      const d = decideScaling(alarm(alarmName), rule(name), resource, fresh, NOW);

      // Assert
      expect(verdict(d)).toBe(expected);
    },
  );
});

describe('decideScaling: guardrails before any call', () => {
  const cpu = rule('orders-db-cpu');
  it.each<[string, ScalingResource | undefined, ScalingMemory, string]>([
    ['a duplicate delivery', ordersDb(), { seen: true }, 'skip duplicate'],
    [
      'an ALARM older than the last acted-on transition',
      ordersDb(),
      { seen: false, lastActedAt: new Date('2026-01-15T10:25:00Z') },
      'skip out-of-order',
    ],
    [
      'a resource cooling down',
      ordersDb(),
      { seen: false, cooldownUntil: new Date('2026-01-15T10:45:00Z') },
      'skip cooldown',
    ],
    ['a resource that is modifying', ordersDb({ status: 'modifying' }), fresh, 'skip not-available'],
    [
      'a pending modification',
      ordersDb({ pending: ['DBInstanceClass'] }),
      fresh,
      'skip pending-modification',
    ],
    ['a resource that does not exist', undefined, fresh, 'skip not-found'],
  ])('skips %s', (_what, resource, memory, expected) => {
    // Act
    const d = decideScaling(alarm('orders-db-cpu-high'), cpu, resource, memory, NOW);

    // Assert
    expect(verdict(d)).toBe(expected);
  });

  it('acts again once the cooldown has passed', () => {
    // Act
    const d = decideScaling(
      alarm('orders-db-cpu-high'),
      cpu,
      ordersDb(),
      { seen: false, cooldownUntil: new Date('2026-01-15T10:29:59Z') },
      NOW,
    );

    // Assert
    expect(d.verdict).toBe('act');
  });

  it('ignores OK and INSUFFICIENT_DATA when the rule has no scale-in', () => {
    for (const state of ['OK', 'INSUFFICIENT_DATA'] as const) {
      expect(
        verdict(decideScaling(alarm('orders-db-cpu-high', undefined, state), cpu, ordersDb(), fresh, NOW)),
      ).toBe('skip ignored-state');
    }
  });

  it('a notification neither waits for nor is blocked by a cooldown', () => {
    // Act
    const d = decideScaling(
      alarm('orders-db-disk-low'),
      rule('orders-db-heads-up'),
      undefined,
      { seen: false, cooldownUntil: new Date('2026-01-15T11:00:00Z') },
      NOW,
    );

    // Assert
    expect(verdict(d)).toBe('notify about orders-db');
  });

  it('says why, with the numbers', () => {
    // Act
    const d = decideScaling(
      alarm('orders-db-cpu-high'),
      cpu,
      ordersDb({ instanceClass: 'db.r6g.2xlarge' }),
      fresh,
      NOW,
    );

    // Assert
    expect(d).toEqual({
      verdict: 'skip',
      reason: 'at-max',
      detail: 'db.r6g.2xlarge is already at the top (max db.r6g.2xlarge)',
    });
  });
});

describe('scale-in on a sustained OK', () => {
  const reads = rule('sessions-redis-reads');
  const ok = (at: string) => ({
    ...alarm('sessions-redis-cpu-high', at, 'OK'),
    source: 'scale-in-check' as const,
  });

  it('waits until the alarm has been OK for afterOkMinutes', () => {
    // Act
    const d = decideScaling(
      ok('2026-01-15T10:00:00Z'),
      reads,
      sessions({ nodeGroups: [{ id: '0001', status: 'available', replicas: 2 }] }),
      fresh,
      NOW,
    );

    // Assert
    expect(d).toMatchObject({ verdict: 'skip', reason: 'not-sustained' });
  });

  it("confirms with CloudWatch's word: OK held since the later change steps back, anything else never", () => {
    // Prepare: steward remembers OK since 09:00 (held 90 min at NOW, the rule waits 60).
    const event = ok('2026-01-15T09:00:00Z');
    const live = (state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA', since: string) => ({
      state,
      since: new Date(since),
    });

    // Act
    const verdicts = [
      confirmSustained(event, reads, live('OK', '2026-01-15T08:00:00Z'), NOW),
      confirmSustained(event, reads, live('OK', '2026-01-15T09:31:00Z'), NOW),
      confirmSustained(event, reads, live('OK', '2026-01-15T09:20:00Z'), NOW),
      confirmSustained(event, reads, live('INSUFFICIENT_DATA', '2026-01-15T10:00:00Z'), NOW),
      confirmSustained(event, reads, live('ALARM', '2026-01-15T08:59:58Z'), NOW),
      confirmSustained(event, reads, null, NOW),
      // Not read in this run: the OK reached its hold after the check read CloudWatch.
      confirmSustained(event, reads, undefined, NOW),
    ];

    // Assert
    expect(verdicts.map((v) => (v?.verdict === 'skip' ? v.reason : undefined))).toEqual([
      undefined,
      'not-sustained',
      undefined,
      'not-sustained',
      'not-sustained',
      'not-sustained',
      'not-sustained',
    ]);
    expect(verdicts.slice(1).map((v) => (v?.verdict === 'skip' ? v.detail : ''))).toEqual([
      'sessions-redis-cpu-high changed state at 2026-01-15T09:31:00.000Z (CloudWatch), after the OK remembered at 2026-01-15T09:00:00.000Z: OK for 59 of 60 min',
      '',
      'sessions-redis-cpu-high is INSUFFICIENT_DATA since 2026-01-15T10:00:00.000Z (CloudWatch, now), not OK: no step back while its metric is missing',
      'sessions-redis-cpu-high is ALARM since 2026-01-15T08:59:58.000Z (CloudWatch, now), not OK: no step back while it is in alarm',
      'sessions-redis-cpu-high was not found by DescribeAlarms: no step back on an alarm whose state cannot be confirmed',
      "sessions-redis-cpu-high's OK reached 60 min during this check, after CloudWatch was read: the next check confirms it",
    ]);
  });

  it('steps back one replica after the OK held, never below the floor', () => {
    // Prepare
    const two = sessions({ nodeGroups: [{ id: '0001', status: 'available', replicas: 2 }] });
    const one = sessions({ nodeGroups: [{ id: '0001', status: 'available', replicas: 1 }] });

    // Act
    const down = decideScaling(ok('2026-01-15T09:00:00Z'), reads, two, fresh, NOW);
    const floor = decideScaling(ok('2026-01-15T09:00:00Z'), reads, one, fresh, NOW);

    // Assert
    expect(verdict(down)).toBe('set sessions-redis replicas per shard 2 → 1');
    expect(down).toMatchObject({ direction: 'in' });
    expect(verdict(floor)).toBe('skip at-min');
  });

  it('removes only replicas steward created (named and tagged by it), newest first', () => {
    // Prepare
    const r = { ...rule('orders-db-connections'), scaleIn: { enabled: true, afterOkMinutes: 60 } };
    const ours = replicaTags('orders-db', {}, r.name);

    // Act
    const mixed = planChange(
      'in',
      r,
      ordersDb({
        replicas: ['reporting', 'orders-db-replica-1', 'orders-db-replica-3'],
        replicaTags: { 'orders-db-replica-1': ours, 'orders-db-replica-3': ours },
      }),
    );
    const foreign = planChange('in', r, ordersDb({ replicas: ['reporting'] }));

    // Assert
    expect(verdict(mixed)).toBe('delete replica orders-db-replica-3 of orders-db');
    expect(verdict(foreign)).toBe('skip at-min');
  });

  it("skips a hand-made replica with steward's name, naming it, and removes steward's own older one", () => {
    // Prepare: someone made orders-db-replica-3 by hand (the newest by name). Before, scale-in picked it by its
    // name every check, RDS refused the delete (the IAM condition wants steward:managed=true): every check
    // failed, and steward's own replicas were never removed.
    const r = { ...rule('orders-db-connections'), scaleIn: { enabled: true, afterOkMinutes: 60 } };
    const ours = replicaTags('orders-db', {}, r.name);
    const db = (replicaTags: Record<string, Record<string, string>>) =>
      ordersDb({ replicas: Object.keys(replicaTags).sort(), replicaTags });

    // Act
    const mixed = planChange(
      'in',
      r,
      db({
        'orders-db-replica-1': ours,
        'orders-db-replica-2': ours,
        'orders-db-replica-3': { team: 'orders' },
      }),
    );
    const onlyTheirs = planChange('in', r, db({ 'orders-db-replica-1': { team: 'orders' } }));
    // Tags copied from steward's replica onto another source's, or steward:managed alone: not steward's either.
    const lookalikes = planChange(
      'in',
      r,
      db({
        'orders-db-replica-1': { ...ours, 'steward:source': 'billing-db' },
        'orders-db-replica-2': { 'steward:managed': 'true' },
      }),
    );
    // Tags not read (a describe that did not ask for them): nothing is steward's, nothing is removed.
    const unread = planChange('in', r, ordersDb({ replicas: ['orders-db-replica-1'] }));

    // Assert
    expect(mixed).toEqual({
      verdict: 'act',
      direction: 'in',
      change: { type: 'rds.deleteReplica', instanceId: 'orders-db-replica-2', of: 'orders-db', remaining: 2 },
      reason:
        "3 → 2 replicas: remove orders-db-replica-2 (orders-db-replica-3 is named like steward's but not tagged as created by it: left alone)",
    });
    expect(onlyTheirs).toEqual({
      verdict: 'skip',
      reason: 'at-min',
      detail:
        "no replica steward created is left to remove (only steward's own are removed; orders-db-replica-1 is named like steward's but not tagged as created by it: left alone)",
    });
    expect(verdict(lookalikes)).toBe('skip at-min');
    expect(verdict(unread)).toBe('skip at-min');
  });

  it("picks an Aurora reader to remove the same way: steward's newest tagged reader, never a hand-made one", () => {
    // Prepare
    const r = { ...rule('billing-readers'), scaleIn: { enabled: true, afterOkMinutes: 60 } };
    const ours = replicaTags('billing', {}, r.name);
    const cluster = billing({
      members: [
        { id: 'billing-1', writer: true, instanceClass: 'db.r6g.xlarge', status: 'available' },
        { id: 'billing-2', writer: false, instanceClass: 'db.r6g.xlarge', status: 'available', tags: {} },
        { id: 'billing-reader-1', writer: false, status: 'available', tags: ours },
        { id: 'billing-reader-2', writer: false, status: 'available', tags: { team: 'billing' } },
      ],
    });

    // Act
    const d = planChange('in', r, cluster);

    // Assert
    expect(d).toMatchObject({
      verdict: 'act',
      change: { type: 'rds.deleteReplica', instanceId: 'billing-reader-1', of: 'billing', remaining: 2 },
      reason:
        "3 → 2 readers: remove billing-reader-1 (billing-reader-2 is named like steward's but not tagged as created by it: left alone)",
    });
  });

  it('never steps a class below a floor that is not on the ladder: it refuses, naming scaleIn.min', () => {
    // Prepare: the family moved from r5 to r6g and the floor did not (or names a class above max). The config
    // refuses both (test/shared/config/scaling.test.ts); a rule built otherwise still meets this guard.
    const shadow = rule('orders-db-cpu-shadow'); // rds.scaleUp to db.r6g.4xlarge, no ladder
    const floored = (min: string) => ({ ...shadow, scaleIn: { enabled: true, afterOkMinutes: 60, min } });

    // Act
    const moved = planChange('in', floored('db.r5.2xlarge'), ordersDb({ instanceClass: 'db.r6g.2xlarge' }));
    const above = planChange('in', floored('db.r6g.8xlarge'), ordersDb({ instanceClass: 'db.r6g.large' }));

    // Assert: on main both stepped down towards db.r6g.micro.
    for (const d of [moved, above]) {
      expect(d).toMatchObject({ verdict: 'skip', reason: 'not-on-ladder' });
      expect(d.verdict === 'skip' && d.detail).toContain('scaleIn.min');
    }
  });

  it('an Aurora Serverless v2 instance (db.serverless) is named so, not sent to a ladder it can never be on', () => {
    // Act: both directions; Aurora scales a db.serverless instance's capacity itself (its cluster's ACU range).
    const out = planChange('out', rule('orders-db-cpu'), ordersDb({ instanceClass: 'db.serverless' }));
    const back = planChange('in', rule('orders-db-cpu'), ordersDb({ instanceClass: 'db.serverless' }));

    // Assert: on main, 'db.serverless is not on the ladder db.r6g.large → …', as if adding it to the ladder
    // would do (the config refuses db.serverless on a ladder).
    for (const d of [out, back]) {
      expect(d).toMatchObject({ verdict: 'skip', reason: 'unsupported' });
      expect(d.verdict === 'skip' && d.detail).toBe(
        'orders-db is Aurora Serverless v2 (db.serverless): Aurora scales its capacity itself, within its cluster’s MinCapacity and MaxCapacity (ACUs); a class ladder does not apply (raise MaxCapacity, or add readers with rds.addReadReplica on the cluster)',
      );
    }
  });

  it('steps an instance class down the ladder and a cluster down one shard, naming it', () => {
    // Act
    const cls = planChange('in', rule('orders-db-cpu'), ordersDb({ instanceClass: 'db.r6g.2xlarge' }));
    const shards = planChange('in', rule('sessions-redis-memory'), sessions());

    // Assert
    expect(verdict(cls)).toBe('modify orders-db class db.r6g.2xlarge → db.r6g.xlarge (apply immediately)');
    expect(verdict(shards)).toBe('reshard sessions-redis 2 → 1 shards (remove 0002)');
  });
});

describe('ElastiCache replicas: each shard one step from its own count', () => {
  // DecreaseReplicaCount's NewReplicaCount sets every shard to one count; a shard changed by hand (or left by
  // a partly applied change) would be pushed below the floor, to no replica (no failover), or refused.
  // Unequal shards are changed through ReplicaConfiguration, one entry per shard that moves.
  const reads = rule('sessions-redis-reads');
  const floored = (min: number) => ({ ...reads, scaleIn: { enabled: true, afterOkMinutes: 60, min } });
  const okSince = {
    ...alarm('sessions-redis-cpu-high', '2026-01-15T09:00:00Z', 'OK'),
    source: 'scale-in-check' as const,
  };
  const groups = (...counts: number[]) =>
    counts.map((replicas, i) => ({ id: String(i + 1).padStart(4, '0'), status: 'available', replicas }));

  it('steps in each shard from its own count, leaving a shard at the floor as it is', () => {
    // Act
    const d = decideScaling(okSince, reads, sessions({ nodeGroups: groups(3, 1, 2) }), fresh, NOW);

    // Assert: floor 1 (the default); shard 0002 stays at 1, never to 0 (2 → 1 for every shard would be).
    expect(d).toMatchObject({
      verdict: 'act',
      direction: 'in',
      change: {
        type: 'elasticache.setReplicaCount',
        replicationGroupId: 'sessions-redis',
        from: 6,
        to: 4,
        shards: [
          { nodeGroupId: '0001', from: 3, to: 2 },
          { nodeGroupId: '0003', from: 2, to: 1 },
        ],
      },
    });
    expect(verdict(d)).toBe('set sessions-redis replicas: shard 0001 3 → 2, shard 0003 2 → 1');
  });

  it('keeps one NewReplicaCount while the shards are equal', () => {
    // Act
    const d = decideScaling(okSince, reads, sessions({ nodeGroups: groups(2, 2) }), fresh, NOW);

    // Assert
    expect(d).toMatchObject({ verdict: 'act', change: { from: 2, to: 1 } });
    expect(d.verdict === 'act' && 'shards' in d.change).toBe(false);
  });

  it('never takes a Multi-AZ or automatic-failover group to no replica, whatever scaleIn.min says', () => {
    // Act
    const multiAz = decideScaling(
      okSince,
      floored(0),
      sessions({ multiAz: true, nodeGroups: groups(1, 1) }),
      fresh,
      NOW,
    );
    const failover = decideScaling(
      okSince,
      floored(0),
      sessions({ clusterMode: false, automaticFailover: 'enabled', nodeGroups: groups(1) }),
      fresh,
      NOW,
    );
    const plain = decideScaling(
      okSince,
      floored(0),
      sessions({ automaticFailover: 'disabled', multiAz: false, nodeGroups: groups(1, 2) }),
      fresh,
      NOW,
    );

    // Assert
    expect(multiAz).toEqual({
      verdict: 'skip',
      reason: 'at-min',
      detail:
        'sessions-redis has 1 replicas per shard, floor 1 (Multi-AZ or automatic failover needs a replica in each shard)',
    });
    expect(failover).toMatchObject({ verdict: 'skip', reason: 'at-min' });
    expect(plain).toMatchObject({
      verdict: 'act',
      change: {
        from: 3,
        to: 1,
        shards: [
          { nodeGroupId: '0001', from: 1, to: 0 },
          { nodeGroupId: '0002', from: 2, to: 1 },
        ],
      },
    });
  });

  it('is at-min only when every shard is at or below the floor', () => {
    // Act
    const d = decideScaling(okSince, floored(2), sessions({ nodeGroups: groups(2, 1) }), fresh, NOW);

    // Assert
    expect(d).toEqual({
      verdict: 'skip',
      reason: 'at-min',
      detail: 'sessions-redis has 1-2 replicas per shard, floor 2',
    });
  });

  it('steps out each shard below max by one, leaving a shard at max as it is', () => {
    // Act
    const d = decideScaling(
      alarm('sessions-redis-cpu-high'),
      reads,
      sessions({ nodeGroups: groups(3, 1, 2) }),
      fresh,
      NOW,
    );
    const full = decideScaling(
      alarm('sessions-redis-cpu-high'),
      reads,
      sessions({ nodeGroups: groups(3, 3) }),
      fresh,
      NOW,
    );

    // Assert: max 3.
    expect(d).toMatchObject({
      verdict: 'act',
      direction: 'out',
      change: {
        from: 6,
        to: 8,
        shards: [
          { nodeGroupId: '0002', from: 1, to: 2 },
          { nodeGroupId: '0003', from: 2, to: 3 },
        ],
      },
    });
    expect(full).toMatchObject({ verdict: 'skip', reason: 'at-max' });
  });

  it('property: no shard moves more than one step, below the floor or above max, and all move one way', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        fc.constantFrom('in', 'out'),
        (counts, min, multiAz, way) => {
          // Prepare
          const group = sessions({ multiAz, automaticFailover: 'disabled', nodeGroups: groups(...counts) });
          const event = way === 'in' ? okSince : alarm('sessions-redis-cpu-high');
          const floor = Math.max(min, multiAz ? 1 : 0);

          // Act
          const d = decideScaling(event, floored(min), group, fresh, NOW);

          // Assert
          if (d.verdict !== 'act' || d.change.type !== 'elasticache.setReplicaCount') return;
          const { shards, to } = d.change;
          const moves = shards ?? group.nodeGroups.map((g) => ({ nodeGroupId: g.id, from: g.replicas, to }));
          for (const m of moves) {
            const before = group.nodeGroups.find((g) => g.id === m.nodeGroupId)!.replicas;
            expect(m.from).toBe(before);
            expect(m.to - m.from).toBe(way === 'in' ? -1 : 1);
            if (way === 'in') expect(m.to).toBeGreaterThanOrEqual(floor);
            else expect(m.to).toBeLessThanOrEqual(3);
          }
        },
      ),
    );
  });
});

describe('read replicas in flight', () => {
  const connections = rule('orders-db-connections');
  const ours = replicaTags('orders-db', {}, connections.name);
  const withReplica = (status: string) =>
    ordersDb({
      replicas: ['orders-db-replica-1'],
      replicaTags: { 'orders-db-replica-1': ours },
      replicaStatus: { 'orders-db-replica-1': status },
    });

  it.each(['creating', 'modifying'])(
    'adds no second read replica while the first is %s, and says which one it waits for',
    (status) => {
      // Prepare: the alarm stayed in ALARM past the cooldown (or a second alarm fired) while RDS still builds
      // the replica steward added. Before, the engine counted the replica as one of maxReplicas and planned
      // orders-db-replica-2 next to it: two replicas for one load peak.
      // Act
      const d = decideScaling(
        alarm('orders-db-connections-high'),
        connections,
        withReplica(status),
        fresh,
        NOW,
      );

      // Assert
      expect(d).toEqual({
        verdict: 'skip',
        reason: 'pending-modification',
        detail: `orders-db-replica-1 is ${status}: no new read replica of orders-db until it is available`,
      });
    },
  );

  it('adds the next replica once the first is available, and names every one still in flight', () => {
    // Act
    const ready = planChange('out', connections, withReplica('available'));
    const two = planChange(
      'out',
      { ...connections, action: { type: 'rds.addReadReplica', maxReplicas: 5 } },
      ordersDb({
        replicas: ['orders-db-replica-1', 'orders-db-replica-2', 'orders-db-replica-3'],
        replicaStatus: {
          'orders-db-replica-1': 'available',
          'orders-db-replica-2': 'creating',
          'orders-db-replica-3': 'backing-up',
        },
      }),
    );

    // Assert
    expect(verdict(ready)).toBe('create read replica orders-db-replica-2 of orders-db');
    expect(two).toMatchObject({
      verdict: 'skip',
      reason: 'pending-modification',
      detail:
        'orders-db-replica-2 is creating, orders-db-replica-3 is backing-up: no new read replica of orders-db until they are available',
    });
  });

  it('removes no replica while one is still being created (the step back waits for it too)', () => {
    // Act
    const d = planChange(
      'in',
      { ...connections, scaleIn: { enabled: true, afterOkMinutes: 60 } },
      ordersDb({
        replicas: ['orders-db-replica-1', 'orders-db-replica-2'],
        replicaTags: { 'orders-db-replica-1': ours, 'orders-db-replica-2': ours },
        replicaStatus: { 'orders-db-replica-1': 'available', 'orders-db-replica-2': 'creating' },
      }),
    );

    // Assert
    expect(d).toMatchObject({
      verdict: 'skip',
      reason: 'pending-modification',
      detail:
        'orders-db-replica-2 is creating: no read replica of orders-db is removed until it is available',
    });
  });

  it('adds no Aurora reader while another member is still creating', () => {
    // Act
    const d = planChange(
      'out',
      rule('billing-readers'),
      billing({
        pending: ['billing-reader-1 is creating'],
        members: [
          ...billing().members,
          { id: 'billing-reader-1', writer: false, instanceClass: 'db.r6g.xlarge', status: 'creating' },
        ],
      }),
    );

    // Assert
    expect(d).toMatchObject({ verdict: 'skip', reason: 'pending-modification' });
  });
});

describe('states AWS changes a resource in', () => {
  // RDS takes ModifyDBInstance while an automated backup runs: the User Guide's status table lists
  // `backing-up` as an operational state (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.DBInstance.Status.html),
  // and RDS records the class change as pending then (integr8ly/cloud-resource-operator#186 modified an instance
  // in `backing-up`). During `storage-optimization` only further storage changes wait: "you can perform any other
  // instance modifications, such as scaling instance size" (AWS Knowledge Center, rds-stuck-in-storage-optimization).
  const cpu = rule('orders-db-cpu');
  const connections = rule('orders-db-connections');

  it.each(['backing-up', 'storage-optimization'])('scales an instance class up while it is %s', (status) => {
    // Act
    const d = decideScaling(alarm('orders-db-cpu-high'), cpu, ordersDb({ status }), fresh, NOW);

    // Assert: before this, a load alarm inside the daily backup window was refused (not-available).
    expect(verdict(d)).toBe('modify orders-db class db.r6g.large → db.r6g.xlarge (apply immediately)');
  });

  it('steps a class back down while a backup runs', () => {
    // Act
    const d = planChange('in', cpu, ordersDb({ status: 'backing-up', instanceClass: 'db.r6g.2xlarge' }));

    // Assert
    expect(verdict(d)).toBe('modify orders-db class db.r6g.2xlarge → db.r6g.xlarge (apply immediately)');
  });

  it.each<[string, ScalingResource, ReturnType<typeof rule>, string]>([
    [
      'a class change while enhanced monitoring is configured',
      ordersDb({ status: 'configuring-enhanced-monitoring' }),
      cpu,
      'orders-db is configuring-enhanced-monitoring: RDS changes its class only when available, backing-up or storage-optimization',
    ],
    [
      'a class change while modifying',
      ordersDb({ status: 'modifying' }),
      cpu,
      'orders-db is modifying: RDS changes its class only when available, backing-up or storage-optimization',
    ],
    [
      'a read replica while the source backs up (not documented as allowed)',
      ordersDb({ status: 'backing-up' }),
      connections,
      'orders-db is backing-up, not available',
    ],
    [
      'a shard while the group is modifying',
      sessions({ status: 'modifying' }),
      rule('sessions-redis-memory'),
      'sessions-redis is modifying, not available',
    ],
    [
      'a replica while the group takes a snapshot',
      sessions({ status: 'snapshotting' }),
      rule('sessions-redis-reads'),
      'sessions-redis is snapshotting, not available',
    ],
  ])('still refuses %s, naming the state', (_what, resource, r, detail) => {
    // Act
    const d = decideScaling(
      alarm('name' in r.alarm ? r.alarm.name : `${r.alarm.prefix}x`),
      r,
      resource,
      fresh,
      NOW,
    );

    // Assert
    expect(d).toEqual({ verdict: 'skip', reason: 'not-available', detail });
  });
});

describe('checkApproval', () => {
  const failover = rule('orders-db-failover');
  const approval = (over: Partial<Approval> = {}): Approval => ({
    id: '0123456789ab',
    status: 'pending',
    rule: 'orders-db-failover',
    alarmName: 'orders-db-unhealthy',
    at: '2026-01-15T10:19:59.987Z',
    direction: 'out',
    change: { type: 'rds.rebootWithFailover', dbInstanceId: 'orders-db' },
    createdAt: '2026-01-15T10:20:01.000Z',
    expiresAt: '2026-01-16T10:20:01.000Z',
    ...over,
  });

  it('lets the exact planned change run while it is still what the rule would do', () => {
    expect(checkApproval(approval(), failover, ordersDb(), {}, NOW)).toMatchObject({
      verdict: 'act',
      change: approval().change,
    });
  });

  it.each<[string, Approval, ScalingResource | undefined, object, string]>([
    ['expired', approval({ expiresAt: '2026-01-15T10:00:00.000Z' }), ordersDb(), {}, 'skip expired'],
    [
      'a resource that is not available',
      approval(),
      ordersDb({ status: 'rebooting' }),
      {},
      'skip not-available',
    ],
    [
      'a resource in cooldown',
      approval(),
      ordersDb(),
      { cooldownUntil: new Date('2026-01-15T11:00:00Z') },
      'skip cooldown',
    ],
    [
      'a resource that changed since (stale)',
      approval({
        rule: 'orders-db-cpu',
        change: {
          type: 'rds.modifyClass',
          dbInstanceId: 'orders-db',
          from: 'db.r6g.large',
          to: 'db.r6g.xlarge',
          applyImmediately: true,
        },
      }),
      ordersDb({ instanceClass: 'db.r6g.xlarge' }),
      {},
      'skip stale-approval',
    ],
  ])('refuses %s', (_what, a, resource, memory, expected) => {
    // Act
    const r = a.rule === 'orders-db-cpu' ? rule('orders-db-cpu') : failover;
    const d = checkApproval(a, r, resource, memory, NOW);

    // Assert
    expect(verdict(d)).toBe(expected);
  });

  it('refuses an approval whose rule left the config', () => {
    expect(verdict(checkApproval(approval(), undefined, ordersDb(), {}, NOW))).toBe('skip stale-approval');
  });
});

describe('replicas', () => {
  it('copies the source tags except AWS and steward opt-ins, and marks the replica as steward-managed', () => {
    expect(replicaTags('orders-db', ordersDb().tags, 'orders-db-connections')).toEqual({
      team: 'orders',
      'steward:managed': 'true',
      'steward:source': 'orders-db',
      'steward:created-by': 'scaling',
      'steward:reason': 'scaling:orders-db-connections',
    });
  });

  it("keeps a replica within RDS's 50 tags: steward's four, then the source's own by key", () => {
    // Prepare: a source with 50 tags of its own (RDS's limit per resource)
    const own = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [`cost-${String(i).padStart(2, '0')}`, 'x']),
    );

    // Act
    const tags = replicaTags('orders-db', own, 'orders-db-connections');

    // Assert: CreateDBInstanceReadReplica (and an Aurora reader) would refuse more than 50.
    expect(Object.keys(tags)).toHaveLength(50);
    expect(tags).toMatchObject({
      'steward:managed': 'true',
      'steward:source': 'orders-db',
      'steward:created-by': 'scaling',
      'steward:reason': 'scaling:orders-db-connections',
      'cost-00': 'x',
      'cost-45': 'x',
    });
    expect(tags).not.toHaveProperty('cost-46');
  });

  it('names replicas deterministically within the 63-character identifier limit', () => {
    fc.assert(
      fc.property(
        // Valid RDS identifiers: no "--", no trailing hyphen.
        fc.stringMatching(/^[a-z][a-z0-9-]{0,62}$/).filter((s) => !/--|-$/.test(s)),
        fc.array(fc.integer({ min: 1, max: 20 }), { maxLength: 10 }),
        (source, taken) => {
          // Prepare
          const existing = taken.map((n) => nextReplicaId(source, [], 'replica').replace(/-1$/, `-${n}`));

          // Act
          const id = nextReplicaId(source, existing, 'replica');

          // Assert
          expect(id.length).toBeLessThanOrEqual(63);
          expect(id).not.toMatch(/--|-$/);
          expect(existing).not.toContain(id);
          expect(replicaNumber(source, id, 'replica')).toBeGreaterThan(0);
          expect(nextReplicaId(source, existing, 'replica')).toBe(id);
        },
      ),
    );
  });
});

describe('invariants', () => {
  const counts = fc.integer({ min: 0, max: 8 });

  it('never plans more shards, replicas or read replicas than the rule allows', () => {
    fc.assert(
      fc.property(counts, counts, (shards, replicas) => {
        // Prepare
        const groups = Array.from({ length: Math.max(1, shards) }, (_, i) => ({
          id: String(i + 1).padStart(4, '0'),
          status: 'available',
          replicas: Math.min(replicas, 5),
        }));
        const cache = sessions({ nodeGroups: groups });
        const db = ordersDb({
          replicas: Array.from({ length: replicas }, (_, i) => `orders-db-replica-${i + 1}`),
        });

        // Act
        const shard = decideScaling(
          alarm('sessions-redis-memory-high'),
          rule('sessions-redis-memory'),
          cache,
          fresh,
          NOW,
        );
        const rep = decideScaling(
          alarm('sessions-redis-cpu-high'),
          rule('sessions-redis-reads'),
          cache,
          fresh,
          NOW,
        );
        const rr = decideScaling(
          alarm('orders-db-connections-high'),
          rule('orders-db-connections'),
          db,
          fresh,
          NOW,
        );

        // Assert
        if (shard.verdict === 'act' && shard.change.type === 'elasticache.setShardCount')
          expect(shard.change.to).toBeLessThanOrEqual(4);
        if (rep.verdict === 'act' && rep.change.type === 'elasticache.setReplicaCount')
          expect(rep.change.to).toBeLessThanOrEqual(3);
        if (rr.verdict === 'act' && rr.change.type === 'rds.createReadReplica')
          expect(rr.change.replicas).toBeLessThanOrEqual(2);
      }),
    );
  });

  it('never acts on a duplicate, a cooling-down resource or a resource with pending changes', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: -60, max: 60 }),
        fc.boolean(),
        fc.constantFrom('available', 'modifying', 'backing-up', 'storage-optimization', 'rebooting'),
        (seen, cooldownOffsetMin, pending, status) => {
          // Prepare
          const memory: ScalingMemory = {
            seen,
            cooldownUntil: new Date(NOW.getTime() + cooldownOffsetMin * 60_000),
          };
          const db = ordersDb({ status, pending: pending ? ['AllocatedStorage'] : [] });

          // Act
          const d = decideScaling(alarm('orders-db-cpu-high'), rule('orders-db-cpu'), db, memory, NOW);

          // Assert
          // RDS takes a class change in backing-up and storage-optimization too (describe block above).
          const blocked =
            seen || cooldownOffsetMin > 0 || pending || ['modifying', 'rebooting'].includes(status);
          expect(d.verdict === 'act').toBe(!blocked);
        },
      ),
    );
  });
});
