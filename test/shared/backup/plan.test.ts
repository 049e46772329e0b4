import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import databasesFixture from '../../../events/inventory/databases.json' with { type: 'json' };
import { isValidSnapshotId } from '../../../shared/backup/ids.js';
import {
  type BackupAction,
  findDatabase,
  planBackups,
  planSnapshot,
  QUOTA_BY_KIND,
  retainUntil,
} from '../../../shared/backup/plan.js';
import type { Database, Quota, ResourceKind } from '../../../shared/model.js';

const databases = databasesFixture as Database[];
const when = new Date('2026-01-15T03:00:00Z');
const daily = { kinds: ['rds-instance', 'aurora-cluster', 'elasticache'] as ResourceKind[] };
const opts = { quotaWarnPercent: 80 };
const roomy: Quota[] = [
  { name: 'ManualSnapshots', used: 10, max: 100 },
  { name: 'ManualClusterSnapshots', used: 2, max: 100 },
];

const db = (over: Partial<Database> = {}): Database => ({
  kind: 'rds-instance',
  id: 'orders-db',
  arn: 'arn:aws:rds:eu-west-1:111122223333:db:orders-db',
  region: 'eu-west-1',
  engine: 'postgres',
  status: 'available',
  tags: { 'steward:backup': 'daily' },
  ...over,
});

const byId = (actions: BackupAction[], id: string) => actions.find((a) => a.db.id === id)!;
const creates = (actions: BackupAction[]) => actions.filter((a) => a.action === 'create');

describe('planBackups', () => {
  it.each([
    ['orders-db', 'create', undefined],
    ['billing-db', 'create', undefined],
    ['analytics', 'create', undefined],
    ['analytics-writer', 'skip', 'aurora-member'],
    ['analytics-reader-1', 'skip', 'not-opted-in'],
    ['sessions', 'skip', 'other-policy'],
    ['legacy-reporting', 'skip', 'not-opted-in'],
    ['inventory-db', 'skip', 'not-available'],
  ])('decides %s: %s %s', (id, action, reason) => {
    // Act
    const plan = planBackups(databases, 'daily', daily, roomy, when, opts);

    // Assert
    const a = byId(plan.actions, id);
    expect(a.action).toBe(action);
    if (a.action === 'skip') expect(a.reason).toBe(reason);
  });

  it('lists every database exactly once, in input order', () => {
    // Act
    const plan = planBackups(databases, 'daily', daily, roomy, when, opts);

    // Assert
    expect(plan.actions.map((a) => a.db.id)).toEqual(databases.map((d) => d.id));
  });

  it('tags every snapshot with ownership, policy, source, creator and kind', () => {
    // Act
    const plan = planBackups(databases, 'daily', daily, roomy, when, opts);

    // Assert
    expect(byId(plan.actions, 'orders-db')).toEqual({
      action: 'create',
      db: { kind: 'rds-instance', id: 'orders-db', arn: 'arn:aws:rds:eu-west-1:111122223333:db:orders-db' },
      snapshotId: 'steward-orders-db-202601150300-sched',
      tags: {
        'steward:managed': 'true',
        'steward:policy': 'daily',
        'steward:source': 'orders-db',
        'steward:created-by': 'backup',
        'steward:kind': 'sched',
      },
    });
  });

  it.each([
    [db({ status: 'backing-up' }), 'already-backing-up'],
    [db({ kind: 'aurora-cluster', status: 'backing-up' }), 'already-backing-up'],
    [db({ kind: 'elasticache', status: 'snapshotting', cacheEngine: 'redis' }), 'already-backing-up'],
    [db({ status: 'stopped' }), 'not-available'],
    [db({ status: 'storage-full' }), 'not-available'],
    [db({ kind: 'elasticache', status: 'available', cacheEngine: 'memcached' }), 'not-snapshottable'],
  ])('skips a database it cannot snapshot now (%j → %s) and flags it as missed', (d, reason) => {
    // Act
    const [a] = planBackups([d], 'daily', daily, roomy, when, opts).actions;

    // Assert
    expect(a).toMatchObject({ action: 'skip', reason, missed: true });
  });

  // CreateDBSnapshot (RDS API Reference): "The source DB instance must be in the available or
  // storage-optimization state". Storage optimization follows every storage change (storage autoscaling
  // included) and can last hours to days: skipping it missed every backup meanwhile.
  it('snapshots an RDS instance in storage-optimization, as RDS allows', () => {
    // Act
    const [a] = planBackups(
      [db({ status: 'storage-optimization' })],
      'daily',
      daily,
      roomy,
      when,
      opts,
    ).actions;

    // Assert
    expect(a).toMatchObject({ action: 'create', snapshotId: 'steward-orders-db-202601150300-sched' });
  });

  it('takes a pre-change snapshot of an RDS instance in storage-optimization', () => {
    // Act
    const plan = planSnapshot(
      db({ status: 'storage-optimization' }),
      [],
      { reason: 'resize', retainDays: 7 },
      roomy,
      when,
      opts,
    );

    // Assert
    expect(plan.actions[0]).toMatchObject({ action: 'create' });
  });

  it.each(['aurora-cluster', 'elasticache'] as const)(
    'still skips a %s in storage-optimization (only DB instances snapshot in that state)',
    (kind) => {
      // Act
      const [a] = planBackups(
        [db({ kind, status: 'storage-optimization' })],
        'daily',
        daily,
        roomy,
        when,
        opts,
      ).actions;

      // Assert
      expect(a).toMatchObject({ action: 'skip', reason: 'not-available', missed: true });
    },
  );

  // ElastiCache reads no tags of a group that is not available: whether it is opted in is unknown this run.
  const unread = db({
    kind: 'elasticache',
    id: 'queues',
    status: 'modifying',
    cacheEngine: 'valkey',
    tags: {},
    tagsUnread: 'ListTagsForResource refused while the group is modifying',
  });

  it('skips a cache group whose tags could not be read as not available, a missed backup naming why', () => {
    // Act
    const [a] = planBackups([unread], 'daily', daily, roomy, when, opts).actions;

    // Assert
    expect(a).toMatchObject({
      action: 'skip',
      reason: 'not-available',
      missed: true,
      detail: expect.stringMatching(
        /^status modifying: its tags could not be read \(ListTagsForResource refused while the group is modifying\)/,
      ),
    });
  });

  it('refuses a pre-change snapshot of a cache group whose tags could not be read, naming its state', () => {
    // Act
    const plan = planSnapshot(unread, [unread], { reason: 'resize', retainDays: 7 }, roomy, when, opts);

    // Assert
    expect(plan.actions[0]).toMatchObject({ action: 'skip', reason: 'not-available' });
  });

  it('skips a tagged database whose kind the policy does not cover', () => {
    // Act
    const [a] = planBackups([db()], 'daily', { kinds: ['elasticache'] }, roomy, when, opts).actions;

    // Assert
    expect(a).toMatchObject({ action: 'skip', reason: 'kind-not-in-policy', missed: true });
  });

  it('does not count an Aurora member as missed when its cluster is backed up by the same policy', () => {
    // Act
    const plan = planBackups(databases, 'daily', daily, roomy, when, opts);

    // Assert
    expect(byId(plan.actions, 'analytics-writer')).toMatchObject({
      missed: false,
      detail: expect.stringContaining('covers'),
    });
  });

  // RDS read replicas (DescribeDBInstances ReadReplicaSourceDBInstanceIdentifier): the same data as their source.
  it('skips a tagged read replica whose source the same policy backs up, not as missed, naming the source', () => {
    // Prepare
    const source = db({ id: 'orders-db' });
    const replica = db({ id: 'orders-ro', replicaOf: 'orders-db' });

    // Act
    const plan = planBackups([source, replica], 'daily', daily, roomy, when, opts);

    // Assert
    expect(creates(plan.actions).map((a) => a.db.id)).toEqual(['orders-db']);
    expect(byId(plan.actions, 'orders-ro')).toMatchObject({
      action: 'skip',
      reason: 'replica-covered',
      missed: false,
      detail: expect.stringContaining('read replica of orders-db'),
    });
  });

  it.each([
    ['its source is not opted in', db({ id: 'orders-db', tags: {} })],
    [
      'its source is tagged for another policy',
      db({ id: 'orders-db', tags: { 'steward:backup': 'weekly' } }),
    ],
    ['its source is in another region (named by ARN)', db({ id: 'billing-db' })],
  ])('backs a tagged read replica up when %s', (why, other) => {
    // Prepare
    const replica = db({
      id: 'orders-ro',
      replicaOf: why.includes('ARN') ? 'arn:aws:rds:us-east-1:111122223333:db:orders-db' : 'orders-db',
    });

    // Act
    const plan = planBackups([other, replica], 'daily', daily, roomy, when, opts);

    // Assert
    expect(byId(plan.actions, 'orders-ro')).toMatchObject({ action: 'create' });
  });

  it('a hand-tagged Aurora reader is skipped, never snapshotted on its own: the cluster covers it', () => {
    // Prepare
    const reader = db({ id: 'analytics-r1', clusterId: 'analytics', engine: 'aurora-postgresql' });
    const cluster = db({ kind: 'aurora-cluster', id: 'analytics', engine: 'aurora-postgresql' });

    // Act
    const plan = planBackups([cluster, reader], 'daily', daily, roomy, when, opts);

    // Assert
    expect(creates(plan.actions).map((a) => a.db.id)).toEqual(['analytics']);
    expect(byId(plan.actions, 'analytics-r1')).toMatchObject({ reason: 'aurora-member', missed: false });
  });

  it('tells to tag the cluster when only an Aurora member is opted in', () => {
    // Prepare
    const member = db({ id: 'w1', clusterId: 'c1' });
    const cluster = db({ kind: 'aurora-cluster', id: 'c1', tags: {} });

    // Act
    const plan = planBackups([member, cluster], 'daily', daily, roomy, when, opts);

    // Assert
    expect(byId(plan.actions, 'w1')).toMatchObject({
      reason: 'aurora-member',
      missed: true,
      detail: 'member of cluster c1: tag the cluster steward:backup=daily instead',
    });
  });

  it.each([
    // used, max, creates planned (2 instances), expected severity, creates kept
    [10, 100, undefined, 2],
    [77, 100, undefined, 2],
    [78, 100, 'warning', 2],
    [98, 100, 'warning', 2],
    [99, 100, 'critical', 0],
    [100, 100, 'critical', 0],
    [120, 100, 'critical', 0],
  ] as const)(
    'with ManualSnapshots %i/%i reports %s and keeps %i instance creates',
    (used, max, severity, kept) => {
      // Prepare
      const quotas = [{ name: 'ManualSnapshots', used, max }];

      // Act
      const plan = planBackups(databases, 'daily', daily, quotas, when, opts);

      // Assert
      const instanceCreates = creates(plan.actions).filter((a) => a.db.kind === 'rds-instance');
      expect(instanceCreates).toHaveLength(kept);
      expect(plan.findings.map((f) => f.severity)).toEqual(severity ? [severity] : []);
      if (severity === 'critical') {
        expect(plan.findings[0]!.message).toContain(`ManualSnapshots`);
        expect(plan.findings[0]!.message).toContain(`${used}/${max}`);
        expect(byId(plan.actions, 'orders-db')).toMatchObject({
          action: 'skip',
          reason: 'quota-full',
          missed: true,
        });
      }
    },
  );

  it('refuses cluster snapshots on a full ManualClusterSnapshots quota but still creates instance snapshots', () => {
    // Prepare
    const quotas = [
      { name: 'ManualSnapshots', used: 10, max: 100 },
      { name: 'ManualClusterSnapshots', used: 100, max: 100 },
    ];

    // Act
    const plan = planBackups(databases, 'daily', daily, quotas, when, opts);

    // Assert
    expect(creates(plan.actions).map((a) => a.db.id)).toEqual(['orders-db', 'billing-db']);
    expect(byId(plan.actions, 'analytics')).toMatchObject({ reason: 'quota-full' });
    expect(plan.findings).toEqual([
      expect.objectContaining({
        severity: 'critical',
        quota: 'ManualClusterSnapshots',
        used: 100,
        max: 100,
        planned: 1,
      }),
    ]);
  });

  it('reports a full quota as critical even when this run plans nothing against it', () => {
    // Act
    const plan = planBackups(
      [],
      'daily',
      daily,
      [{ name: 'ManualSnapshots', used: 100, max: 100 }],
      when,
      opts,
    );

    // Assert
    expect(plan.findings).toEqual([expect.objectContaining({ severity: 'critical', planned: 0 })]);
  });

  it('does not report RDS quotas for a policy that only backs up ElastiCache', () => {
    // Act
    const plan = planBackups(
      databases,
      'cache',
      { kinds: ['elasticache'] },
      [{ name: 'ManualSnapshots', used: 100, max: 100 }],
      when,
      opts,
    );

    // Assert
    expect(plan.findings).toEqual([]);
    expect(creates(plan.actions).map((a) => a.db.id)).toEqual(['sessions']);
  });

  it('does not count against the quota again a snapshot a retried run already took', () => {
    // Prepare: the first attempt took orders-db's snapshot (ManualSnapshots 98 -> 99) and failed billing-db's
    // (throttled); the retry plans both again with the same deterministic ids.
    const first = planBackups(
      databases,
      'daily',
      daily,
      [{ name: 'ManualSnapshots', used: 98, max: 100 }],
      when,
      opts,
    );
    const taken = new Set([(byId(first.actions, 'orders-db') as { snapshotId: string }).snapshotId]);

    // Act
    const retry = planBackups(
      databases,
      'daily',
      daily,
      [{ name: 'ManualSnapshots', used: 99, max: 100 }],
      when,
      {
        ...opts,
        taken,
      },
    );

    // Assert: 99 used + 1 new fits; orders-db's create stays (it finds its snapshot already there).
    expect(creates(retry.actions).map((a) => a.db.id)).toEqual(['orders-db', 'billing-db', 'analytics']);
    expect(retry.findings).toEqual([
      expect.objectContaining({ severity: 'warning', quota: 'ManualSnapshots', used: 99, planned: 1 }),
    ]);
    expect(retry.findings[0]!.message).toContain('100/100 after this run');
  });

  it('still refuses when the snapshots not yet taken do not fit', () => {
    // Prepare
    const first = planBackups(databases, 'daily', daily, roomy, when, opts);
    const taken = new Set([(byId(first.actions, 'orders-db') as { snapshotId: string }).snapshotId]);

    // Act
    const plan = planBackups(
      databases,
      'daily',
      daily,
      [{ name: 'ManualSnapshots', used: 100, max: 100 }],
      when,
      {
        ...opts,
        taken,
      },
    );

    // Assert
    expect(byId(plan.actions, 'billing-db')).toMatchObject({ action: 'skip', reason: 'quota-full' });
    expect(byId(plan.actions, 'orders-db')).toMatchObject({ action: 'create' });
    expect(plan.findings[0]).toMatchObject({ severity: 'critical', planned: 1 });
  });

  it('never lets the creates of a guarded kind exceed the quota (property)', () => {
    const arbDb = fc.record({
      kind: fc.constantFrom<ResourceKind>('rds-instance', 'aurora-cluster', 'elasticache'),
      id: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
      status: fc.constantFrom('available', 'available', 'modifying', 'backing-up'),
      tagged: fc.constantFrom('daily', 'other', undefined),
    });
    fc.assert(
      fc.property(
        fc.array(arbDb, { maxLength: 30 }),
        fc.nat(120),
        fc.integer({ min: 1, max: 120 }),
        fc.integer({ min: 1, max: 100 }),
        (rows, used, max, warn) => {
          const dbs = rows.map((r, i) =>
            db({
              kind: r.kind,
              id: `${r.id}-${i}`,
              status: r.status,
              tags: r.tagged ? { 'steward:backup': r.tagged } : {},
            }),
          );
          const quotas = Object.values(QUOTA_BY_KIND).map((name) => ({ name: name!, used, max }));
          const plan = planBackups(dbs, 'daily', daily, quotas, when, { quotaWarnPercent: warn });
          expect(plan.actions).toHaveLength(dbs.length);
          for (const kind of ['rds-instance', 'aurora-cluster'] as const) {
            const n = creates(plan.actions).filter((a) => a.db.kind === kind).length;
            expect(n === 0 || used + n <= max).toBe(true);
          }
          for (const a of creates(plan.actions)) {
            const source = dbs.find((d) => d.id === a.db.id)!;
            expect(source.tags['steward:backup']).toBe('daily');
            expect(source.status).toBe('available');
            expect(isValidSnapshotId(a.snapshotId)).toBe(true);
          }
        },
      ),
    );
  });
});

describe('planSnapshot', () => {
  const req = { reason: 'pre-migration', retainDays: 90 };

  it('snapshots the requested opted-in database with reason and retain-until, whatever its policy', () => {
    // Prepare
    const target = databases.find((d) => d.id === 'sessions')!;

    // Act
    const plan = planSnapshot(target, databases, req, roomy, when, opts);

    // Assert
    expect(plan).toMatchObject({
      kind: 'adhoc',
      policy: 'adhoc',
      at: '2026-01-15T03:00:00.000Z',
      findings: [],
    });
    expect(plan.actions).toEqual([
      {
        action: 'create',
        db: { kind: 'elasticache', id: 'sessions', arn: target.arn },
        snapshotId: 'steward-sessions-202601150300-adhoc',
        tags: {
          'steward:managed': 'true',
          'steward:policy': 'adhoc',
          'steward:source': 'sessions',
          'steward:created-by': 'backup',
          'steward:kind': 'adhoc',
          'steward:reason': 'pre-migration',
          'steward:retain-until': '2026-04-15',
        },
      },
    ]);
  });

  it('redirects an Aurora member to its cluster', () => {
    // Prepare
    const member = databases.find((d) => d.id === 'analytics-writer')!;

    // Act
    const plan = planSnapshot(member, databases, req, roomy, when, opts);

    // Assert
    expect(plan.actions[0]).toMatchObject({
      action: 'create',
      db: { kind: 'aurora-cluster', id: 'analytics' },
      snapshotId: 'steward-analytics-202601150300-adhoc',
      detail: 'analytics-writer is a member of cluster analytics: snapshotting the cluster',
    });
  });

  it.each([
    ['inventory-db', 'not-available'],
    ['legacy-reporting', 'not-opted-in'],
  ])('refuses %s (%s)', (id, reason) => {
    // Act
    const plan = planSnapshot(
      databases.find((d) => d.id === id)!,
      databases,
      req,
      roomy,
      when,
      opts,
    );

    // Assert
    expect(plan.actions[0]).toMatchObject({ action: 'skip', reason });
  });

  it('refuses the cluster of a redirected Aurora member when the cluster is not opted in', () => {
    // Prepare
    const member = db({ id: 'w1', clusterId: 'c1' });
    const cluster = db({ kind: 'aurora-cluster', id: 'c1', tags: {} });

    // Act
    const plan = planSnapshot(member, [member, cluster], req, roomy, when, opts);

    // Assert
    expect(plan.actions[0]).toMatchObject({ action: 'skip', reason: 'not-opted-in', db: { id: 'c1' } });
  });

  it('refuses when the quota is full', () => {
    // Act
    const plan = planSnapshot(
      databases[0]!,
      databases,
      req,
      [{ name: 'ManualSnapshots', used: 100, max: 100 }],
      when,
      opts,
    );

    // Assert
    expect(plan.actions[0]).toMatchObject({ action: 'skip', reason: 'quota-full' });
    expect(plan.findings[0]).toMatchObject({ severity: 'critical', quota: 'ManualSnapshots' });
  });
});

describe('findDatabase', () => {
  it.each([
    ['orders-db', 'orders-db'],
    ['ORDERS-DB', 'orders-db'],
    ['arn:aws:rds:eu-west-1:111122223333:cluster:analytics', 'analytics'],
    ['arn:aws:elasticache:eu-west-1:111122223333:replicationgroup:sessions', 'sessions'],
  ])('finds %s', (resource, id) => {
    // Act
    const r = findDatabase(databases, resource);

    // Assert
    expect(r).toEqual({ db: expect.objectContaining({ id }) });
  });

  it('names the resource and region when nothing matches', () => {
    // Act
    const r = findDatabase(databases, 'ordres-db');

    // Assert
    expect(r).toEqual({ error: 'no database with id or ARN "ordres-db" in eu-west-1' });
  });

  it('asks for the ARN when an id matches an instance and a cluster', () => {
    // Prepare
    const dbs = [
      db({ id: 'twin' }),
      db({ kind: 'aurora-cluster', id: 'twin', arn: 'arn:aws:rds:eu-west-1:1:cluster:twin' }),
    ];

    // Act
    const r = findDatabase(dbs, 'twin');

    // Assert
    expect(r).toEqual({ error: '"twin" matches rds-instance twin and aurora-cluster twin: pass the ARN' });
  });
});

describe('retainUntil', () => {
  it.each([
    ['2026-01-15T03:00:00Z', 90, '2026-04-15'],
    ['2026-12-31T23:59:00Z', 1, '2027-01-01'],
    ['2028-02-28T12:00:00Z', 1, '2028-02-29'],
  ])('%s + %i days → %s', (iso, days, expected) => {
    // Act / Assert
    expect(retainUntil(new Date(iso), days)).toBe(expected);
  });
});
