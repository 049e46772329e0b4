import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig, type StewardConfigInput } from '../../../shared/config/schema.js';
import type { Database, Snapshot } from '../../../shared/model.js';
import { assessEstate, dataTime, type EstateInputs, needsAttention } from '../../../shared/report/health.js';
import { HEALTH_RANK, type DrillSummary } from '../../../shared/report/model.js';
import { rdsDatabase, stewardSnapshot } from '../../fakes/estate-rows.js';

const NOW = new Date('2026-11-23T06:00:00Z');
const DAY = 86_400_000;

const config = (extra: Partial<StewardConfigInput> = {}) =>
  parseConfig(
    {
      stage: 'prod',
      region: 'eu-west-1',
      backup: {
        policies: {
          daily: { schedule: 'cron(0 3 * * ? *)', retention: 'standard', copyToDr: true },
          cache: { schedule: 'cron(0 3 * * ? *)', kinds: ['elasticache'], retention: 'cache' },
        },
      },
      retention: { policies: { standard: { daily: 30, keepAtLeast: 3 }, cache: { daily: 7 } } },
      dr: { region: 'us-west-2', kmsKeyArn: 'arn:aws:kms:us-west-2:111122223333:alias/dr' },
      drill: {
        enabled: true,
        targets: { 'orders-db': { profile: { database: 'orders', tables: [{ name: 'orders' }] } } },
      },
      ...extra,
    },
    'test',
  );

const db = (id: string, tags: Record<string, string> = {}, extra: Partial<Database> = {}): Database =>
  rdsDatabase(id, tags, { createdAt: '2025-01-01T00:00:00.000Z', ...extra });

/** A steward scheduled snapshot of `dbId` for the 03:00 backup `daysAgo` days before NOW's day. */
const sched = (dbId: string, daysAgo: number, extra: Partial<Snapshot> = {}): Snapshot => {
  const at = new Date(Date.UTC(2026, 10, 23, 3) - daysAgo * DAY);
  return stewardSnapshot(dbId, at, { createdAt: new Date(at.getTime() + 120_000).toISOString(), ...extra });
};

const drCopy = (dbId: string, daysAgo: number): Snapshot => ({
  ...sched(dbId, daysAgo),
  region: 'us-west-2',
  sourceRegion: 'eu-west-1',
});

const passed = (database: string, startedAt: string): DrillSummary => ({
  drillId: `${database}-drill`,
  database,
  startedAt,
  passed: true,
  summary: 'DR drill PASSED',
  reasons: [],
  rtoSeconds: 1800,
  rpoSeconds: 120,
  rtoTargetSeconds: 3600,
  rpoTargetSeconds: 300,
  rtoMet: true,
  rpoMet: true,
  checks: [],
});

const inputs = (over: Partial<EstateInputs> = {}): EstateInputs => ({
  databases: [],
  snapshots: [],
  drSnapshots: [],
  drills: [],
  scaling: [],
  ...over,
});

const row = (i: EstateInputs, id: string, c = config()) =>
  assessEstate(i, c, NOW).databases.find((d) => d.id === id)!;

describe('assessEstate', () => {
  it('calls a protected database OK when the last scheduled backup and its DR copy exist', () => {
    // Prepare
    const i = inputs({
      databases: [db('billing-db', { 'steward:backup': 'daily' })],
      snapshots: [sched('billing-db', 0), sched('billing-db', 1)],
      drSnapshots: [drCopy('billing-db', 1)],
    });
    // Act
    const r = row(i, 'billing-db');
    // Assert
    expect(r).toMatchObject({ health: 'OK', policy: 'daily', held: 2, reasons: [] });
    expect(r.newestSnapshot).toMatchObject({
      id: 'steward-billing-db-202611230300-sched',
      owner: 'steward',
      ageSeconds: 3 * 3600,
    });
    expect(r.dr).toMatchObject({ region: 'us-west-2', copies: 1, lagSeconds: 27 * 3600 });
    expect(r.nextBackupAt).toBe('2026-11-24T03:00:00.000Z');
  });

  it("never counts another source region's copy of a database with the same id as this one's (issue #17)", () => {
    // Prepare: billing-db of eu-central-1 has its copies in us-west-2; eu-west-1's billing-db has none
    const theirs = (daysAgo: number): Snapshot => ({
      ...drCopy('billing-db', daysAgo),
      sourceRegion: 'eu-central-1',
    });
    const i = inputs({
      databases: [db('billing-db', { 'steward:backup': 'daily' })],
      snapshots: [sched('billing-db', 0), sched('billing-db', 1), sched('billing-db', 2)],
      drSnapshots: [theirs(1), theirs(2)],
    });
    // Act
    const r = row(i, 'billing-db');
    // Assert
    expect(r.dr).toMatchObject({ region: 'us-west-2', copies: 0 });
    expect(r.health).toBe('FAILING');
  });

  it("calls it LATE when today's 03:00 backup is missing after the grace, FAILING when two in a row are", () => {
    // Prepare
    const late = inputs({
      databases: [db('billing-db', { 'steward:backup': 'daily' })],
      snapshots: [sched('billing-db', 1)],
      drSnapshots: [drCopy('billing-db', 1)],
    });
    const failing = { ...late, snapshots: [sched('billing-db', 2)] };
    // Act
    const l = row(late, 'billing-db');
    const f = row(failing, 'billing-db');
    // Assert
    expect(l.health).toBe('LATE');
    expect(l.reasons[0]).toMatch(
      /^backup: the scheduled backup of 2026-11-23 03:00 UTC missing; newest backup steward-billing-db-202611220300-sched is 27 h old$/,
    );
    expect(f.health).toBe('FAILING');
    expect(f.reasons[0]).toMatch(
      /the last two scheduled backups of 2026-11-23 03:00 UTC and 2026-11-22 03:00 UTC missing/,
    );
  });

  it('waits for the grace period before calling a backup missing', () => {
    // Prepare: 04:30 is within the default 120 minutes after 03:00.
    const i = inputs({
      databases: [db('billing-db', { 'steward:backup': 'daily' })],
      snapshots: [sched('billing-db', 1)],
      drSnapshots: [drCopy('billing-db', 1)],
    });
    // Act
    const s = assessEstate(i, config(), new Date('2026-11-23T04:30:00Z'));
    // Assert
    expect(s.databases[0]!.health).toBe('OK');
  });

  it('calls a failed snapshot of the due backup FAILING', () => {
    const i = inputs({
      databases: [db('billing-db', { 'steward:backup': 'daily' })],
      snapshots: [sched('billing-db', 0, { status: 'failed' }), sched('billing-db', 1)],
      drSnapshots: [drCopy('billing-db', 1)],
    });
    expect(row(i, 'billing-db')).toMatchObject({
      health: 'FAILING',
      reasons: [expect.stringMatching(/backup steward-billing-db-202611230300-sched failed/)],
    });
  });

  it('calls a missing DR copy LATE with the DR lag, and never judges DR for ElastiCache', () => {
    // Prepare
    const i = inputs({
      databases: [
        db('billing-db', { 'steward:backup': 'daily' }),
        db('sessions', { 'steward:backup': 'cache' }, { kind: 'elasticache', engine: 'redis' }),
      ],
      snapshots: [
        sched('billing-db', 0),
        sched('billing-db', 1),
        { ...sched('sessions', 0), kind: 'elasticache', tags: {} },
      ],
      drSnapshots: [drCopy('billing-db', 2)],
    });
    // Act
    const billing = row(i, 'billing-db');
    const sessions = row(i, 'sessions');
    // Assert
    expect(billing.health).toBe('LATE');
    expect(billing.reasons[0]).toMatch(
      /^dr: the scheduled DR copy of 2026-11-22 03:00 UTC missing; .* in us-west-2$/,
    );
    expect(billing.dr?.lagSeconds).toBe(51 * 3600);
    expect(sessions).toMatchObject({ health: 'OK', held: 1, keeps: 1 });
    expect(sessions.dr).toBeUndefined();
  });

  it('says UNPROTECTED for an untagged database and shows its newest automated snapshot', () => {
    // Prepare
    const automated: Snapshot = {
      ...sched('legacy-db', 0),
      id: 'rds:legacy-db-2026-11-23-04-10',
      type: 'automated',
      tags: {},
      createdAt: '2026-11-23T04:10:00.000Z',
    };
    const i = inputs({ databases: [db('legacy-db')], snapshots: [automated] });
    // Act
    const r = row(i, 'legacy-db');
    // Assert
    expect(r).toMatchObject({
      health: 'UNPROTECTED',
      held: 0,
      reasons: ['no steward:backup tag: steward takes no snapshots of it'],
    });
    expect(r.newestSnapshot).toMatchObject({ owner: 'automated', ageSeconds: 110 * 60 });
    expect(r.policy).toBeUndefined();
  });

  it('says why a cache group whose tags ElastiCache would not read is listed as UNPROTECTED', () => {
    // Prepare: ListTagsForResource refuses a group that is not available (shared/aws/elasticache.ts)
    const group = db(
      'queues',
      {},
      {
        kind: 'elasticache',
        status: 'modifying',
        tagsUnread: 'ListTagsForResource refused while the group is modifying',
      },
    );
    // Act
    const r = row(inputs({ databases: [group] }), 'queues');
    // Assert
    expect(r).toMatchObject({
      health: 'UNPROTECTED',
      reasons: [
        'its tags could not be read (ListTagsForResource refused while the group is modifying): whether it is tagged steward:backup is unknown until it is available',
      ],
    });
  });

  it('calls a tag naming an unknown policy, or a policy that skips the kind, FAILING', () => {
    const i = inputs({
      databases: [
        db('typo-db', { 'steward:backup': 'dialy' }),
        db('wrong-kind', { 'steward:backup': 'cache' }),
      ],
    });
    expect(row(i, 'typo-db').reasons[0]).toBe(
      'backup: steward:backup=dialy names no backup policy (known: daily, cache)',
    );
    expect(row(i, 'wrong-kind')).toMatchObject({
      health: 'FAILING',
      reasons: ['backup: policy cache does not back up rds-instance (it covers elasticache)'],
    });
  });

  it('calls an inconclusive drill LATE with what is missing, never FAILING: nothing was found wrong', () => {
    // Prepare: the verifier ran out of time on a big table (issue 13); the drill proved nothing, and broke nothing
    const base = inputs({
      databases: [db('orders-db', { 'steward:backup': 'daily' })],
      snapshots: [sched('orders-db', 0)],
      drSnapshots: [drCopy('orders-db', 1)],
    });
    const inconclusive: DrillSummary = {
      ...passed('orders-db', '2026-11-02T05:00:00Z'),
      passed: false,
      outcome: 'inconclusive',
      gaps: ['row-count public.ledger: not finished in 120 s'],
    };
    // Act
    const r = row({ ...base, drills: [inconclusive] }, 'orders-db');
    // Assert
    expect(r).toMatchObject({
      health: 'LATE',
      reasons: [
        'drill: drill of 2026-11-02 05:00 UTC inconclusive: row-count public.ledger: not finished in 120 s',
      ],
    });
  });

  it('judges drills: none on record is LATE, a failed one FAILING, a missed monthly one LATE', () => {
    // Prepare
    const base = inputs({
      databases: [db('orders-db', { 'steward:backup': 'daily' })],
      snapshots: [sched('orders-db', 0)],
      drSnapshots: [drCopy('orders-db', 1)],
    });
    const failed: DrillSummary = {
      ...passed('orders-db', '2026-11-01T05:00:00Z'),
      passed: false,
      failedStep: 'verify',
      reasons: ['row-count public.orders: 10 (expected >= 1000)'],
    };
    // Act / Assert
    expect(row(base, 'orders-db')).toMatchObject({
      health: 'LATE',
      reasons: ['drill: no drill on record: run steward drill orders-db'],
    });
    expect(row({ ...base, drills: [failed] }, 'orders-db').reasons[0]).toBe(
      'drill: drill of 2026-11-01 05:00 UTC failed at verify: row-count public.orders: 10 (expected >= 1000)',
    );
    expect(
      row({ ...base, drills: [passed('orders-db', '2026-10-01T05:00:00Z')] }, 'orders-db').reasons[0],
    ).toBe('drill: the drill due 2026-11-01 05:00 UTC did not run; last passed 2026-10-01 05:00 UTC');
    const ok = row({ ...base, drills: [failed, passed('orders-db', '2026-11-02T09:00:00Z')] }, 'orders-db');
    expect(ok).toMatchObject({
      health: 'OK',
      drill: { rtoTargetSeconds: 3600, rpoTargetSeconds: 300, last: { passed: true } },
    });
  });

  it('judges the EBS drill of an instance in drill.volumes on the instance’s row', () => {
    // Prepare
    const instance = 'i-0abc1234def567890';
    const c = config({ drill: { enabled: true, volumes: { [instance]: { rtoSeconds: 900 } } } });
    const base = inputs({
      databases: [db(instance, {}, { kind: 'ebs', engine: 'ec2-instance', ebs: { volumes: ['vol-0a'] } })],
    });

    // Act
    const none = row(base, instance, c);
    const ok = row({ ...base, drills: [passed(instance, '2026-11-02T09:00:00Z')] }, instance, c);

    // Assert
    expect(none.reasons).toContain(`drill: no drill on record: run steward drill ${instance}`);
    expect(ok.drill).toMatchObject({
      rtoTargetSeconds: 900,
      rpoTargetSeconds: 90_000,
      last: { passed: true },
    });
    expect(ok.reasons.filter((r) => r.startsWith('drill:'))).toEqual([]);
  });

  it('judges the Redis drill of a replication group in drill.caches, named by its drill.caches key', () => {
    // Prepare: drill name "sessions" drills replication group "sessions-prod"; its drills are filed as "sessions"
    const c = config({
      drill: {
        enabled: true,
        caches: { sessions: { replicationGroupId: 'sessions-prod', auth: 'none', rtoSeconds: 1200 } },
      },
    });
    const base = inputs({
      databases: [
        db('sessions-prod', { 'steward:backup': 'cache' }, { kind: 'elasticache', engine: 'redis' }),
      ],
      snapshots: [{ ...sched('sessions-prod', 0), kind: 'elasticache', tags: {} }],
    });
    const failed: DrillSummary = {
      ...passed('sessions', '2026-11-02T05:00:00Z'),
      passed: false,
      failedStep: 'verify',
      reasons: ['key-count: 0 keys (expected >= 1000)'],
    };

    // Act
    const none = row(base, 'sessions-prod', c);
    const bad = row({ ...base, drills: [failed] }, 'sessions-prod', c);
    const ok = row({ ...base, drills: [passed('sessions', '2026-11-02T09:00:00Z')] }, 'sessions-prod', c);

    // Assert: no proof is LATE and a failed drill FAILING, as for a database; a passed one is shown
    expect(none).toMatchObject({
      health: 'LATE',
      reasons: ['drill: no drill on record: run steward drill sessions'],
    });
    expect(bad.health).toBe('FAILING');
    expect(bad.reasons[0]).toBe(
      'drill: drill of 2026-11-02 05:00 UTC failed at verify: key-count: 0 keys (expected >= 1000)',
    );
    expect(ok).toMatchObject({
      health: 'OK',
      drill: { rtoTargetSeconds: 1200, rpoTargetSeconds: 300, last: { drillId: 'sessions-drill' } },
    });
  });

  it('shows an Aurora cluster once (not its members) and covers a replica through its source', () => {
    // Prepare
    const i = inputs({
      databases: [
        db('ledger', { 'steward:backup': 'daily' }, { kind: 'aurora-cluster', engine: 'aurora-postgresql' }),
        db('ledger-1', {}, { clusterId: 'ledger', engine: 'aurora-postgresql' }),
        db('billing-db', { 'steward:backup': 'daily' }),
        db('billing-db-replica-1', {}, { replicaOf: 'billing-db' }),
        db('legacy-replica', {}, { replicaOf: 'legacy' }),
      ],
    });
    // Act
    const s = assessEstate(i, config(), NOW);
    // Assert
    expect(s.databases.map((d) => d.id).sort()).toEqual([
      'billing-db',
      'billing-db-replica-1',
      'ledger',
      'legacy-replica',
    ]);
    expect(s.databases.find((d) => d.id === 'billing-db-replica-1')).toMatchObject({
      health: 'OK',
      replicaOf: 'billing-db',
    });
    expect(s.databases.find((d) => d.id === 'legacy-replica')?.health).toBe('UNPROTECTED');
  });

  it('reads a replica tagged like its source as covered by it (backup skips it), not as LATE', () => {
    // Prepare: the source backed up today; the replica tagged too, with no snapshot of its own.
    const i = inputs({
      databases: [
        db('billing-db', { 'steward:backup': 'daily' }),
        db('billing-db-replica-1', { 'steward:backup': 'daily' }, { replicaOf: 'billing-db' }),
      ],
      snapshots: [sched('billing-db', 0)],
    });
    // Act
    const s = assessEstate(i, config(), NOW);
    // Assert
    expect(s.databases.find((d) => d.id === 'billing-db-replica-1')).toMatchObject({
      health: 'OK',
      replicaOf: 'billing-db',
    });
  });

  it('does not expect a backup from a database created after the last scheduled time', () => {
    const i = inputs({
      databases: [db('new-db', { 'steward:backup': 'daily' }, { createdAt: '2026-11-23T03:30:00Z' })],
    });
    expect(row(i, 'new-db')).toMatchObject({ health: 'OK' });
  });

  it('counts held snapshots against what the retention policy keeps', () => {
    // Prepare: 40 daily snapshots, each copied to DR; the policy keeps 30 days.
    const snaps = Array.from({ length: 40 }, (_, d) => sched('billing-db', d));
    const i = inputs({
      databases: [db('billing-db', { 'steward:backup': 'daily' })],
      snapshots: snaps,
      drSnapshots: snaps.map((_, d) => drCopy('billing-db', d)),
    });
    // Act / Assert
    expect(row(i, 'billing-db')).toMatchObject({ held: 40, keeps: 30 });
  });

  it('counts the days not yet in DR as kept, as retention keeps them', () => {
    // Prepare: only the newest day has reached DR: the 10 expired days each stay until they are copied.
    const snaps = Array.from({ length: 40 }, (_, d) => sched('billing-db', d));
    const i = inputs({
      databases: [db('billing-db', { 'steward:backup': 'daily' })],
      snapshots: snaps,
      drSnapshots: [drCopy('billing-db', 0)],
    });
    // Act / Assert
    expect(row(i, 'billing-db')).toMatchObject({ held: 40, keeps: 40 });
  });

  it('orders the worst first, counts each word, and flags what needs attention', () => {
    // Prepare
    const i = inputs({
      databases: [
        db('a-ok', { 'steward:backup': 'daily' }),
        db('b-none'),
        db('c-late', { 'steward:backup': 'daily' }),
      ],
      snapshots: [sched('a-ok', 0), sched('c-late', 1)],
      drSnapshots: [drCopy('a-ok', 1), drCopy('c-late', 1)],
    });
    // Act
    const s = assessEstate(i, config(), NOW);
    // Assert
    expect(s.databases.map((d) => `${d.health} ${d.id}`)).toEqual([
      'LATE c-late',
      'UNPROTECTED b-none',
      'OK a-ok',
    ]);
    expect(s.counts).toEqual({ OK: 1, LATE: 1, FAILING: 0, UNPROTECTED: 1 });
    expect(needsAttention(s)).toBe(true);
  });

  it('dates a copied snapshot by the scheduled stamp in its id, not by the copy time', () => {
    expect(dataTime({ id: 'steward-db-202611220300-sched', createdAt: '2026-11-22T09:00:00Z' })).toBe(
      Date.parse('2026-11-22T03:00:00Z'),
    );
    expect(dataTime({ id: 'by-hand', createdAt: '2026-11-22T09:00:00Z' })).toBe(
      Date.parse('2026-11-22T09:00:00Z'),
    );
  });
});

describe('assessEstate properties', () => {
  const history = fc.uniqueArray(fc.integer({ min: 0, max: 20 }), { maxLength: 12 });

  it('never gets worse when a newer available backup and DR copy appear', () => {
    fc.assert(
      fc.property(history, history, fc.integer({ min: 0, max: 5 }), (days, drDays, newer) => {
        // Prepare
        const base = inputs({
          databases: [db('x', { 'steward:backup': 'daily' })],
          snapshots: days.map((d) => sched('x', d)),
          drSnapshots: drDays.map((d) => drCopy('x', d)),
        });
        const more = {
          ...base,
          snapshots: [...base.snapshots, sched('x', newer)],
          drSnapshots: [...base.drSnapshots, drCopy('x', newer)],
        };
        // Act
        const before = row(base, 'x').health;
        const after = row(more, 'x').health;
        // Assert
        expect(HEALTH_RANK[after]).toBeLessThanOrEqual(HEALTH_RANK[before]);
      }),
    );
  });

  it('is never OK when no backup of the last two days exists, and does not depend on input order', () => {
    fc.assert(
      fc.property(history, fc.boolean(), (days, reverse) => {
        // Prepare
        const snaps = days.map((d) => sched('x', d));
        const i = inputs({
          databases: [db('x', { 'steward:backup': 'daily' }), db('y')],
          snapshots: reverse ? [...snaps].reverse() : snaps,
        });
        // Act
        const s = assessEstate(i, config(), NOW);
        const again = assessEstate(
          { ...i, snapshots: [...snaps].sort(() => 0).reverse(), databases: [...i.databases].reverse() },
          config(),
          NOW,
        );
        // Assert
        if (!days.some((d) => d <= 1)) expect(s.databases.find((d) => d.id === 'x')!.health).not.toBe('OK');
        expect(again).toEqual(s);
      }),
    );
  });
});

describe('assessEstate over EBS', () => {
  it('calls an EC2 instance backed up by EBS sets OK, with its newest set and its DR copy', () => {
    // Prepare: the daily policy backs EBS up too; today's and yesterday's sets, yesterday's copied.
    const c = config({
      backup: {
        policies: {
          daily: {
            schedule: 'cron(0 3 * * ? *)',
            kinds: ['rds-instance', 'aurora-cluster', 'ebs'],
            retention: 'standard',
            copyToDr: true,
          },
        },
      },
    });
    const instance: Database = {
      kind: 'ebs',
      id: 'i-0abc',
      arn: 'arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc',
      region: 'eu-west-1',
      engine: 'ec2-instance',
      status: 'available',
      tags: { 'steward:backup': 'daily' },
      ebs: { volumes: ['vol-1', 'vol-2'] },
    };
    const set = (daysAgo: number, region = 'eu-west-1'): Snapshot => ({
      ...sched('i-0abc', daysAgo),
      kind: 'ebs',
      region,
      ...(region !== 'eu-west-1' ? { sourceRegion: 'eu-west-1' } : {}),
    });

    // Act
    const r = row(
      inputs({ databases: [instance], snapshots: [set(0), set(1)], drSnapshots: [set(1, 'us-west-2')] }),
      'i-0abc',
      c,
    );

    // Assert
    expect(r).toMatchObject({ kind: 'ebs', health: 'OK', policy: 'daily', held: 2, reasons: [] });
    expect(r.newestSnapshot).toMatchObject({ id: 'steward-i-0abc-202611230300-sched', owner: 'steward' });
    expect(r.dr).toMatchObject({ copies: 1 });
  });
});
