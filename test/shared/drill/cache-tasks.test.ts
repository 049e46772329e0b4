import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type StewardConfigInput } from '../../../shared/config/schema.js';
import {
  cacheVerifierUser,
  type CacheDrillDeps,
  withCacheDrills,
} from '../../../shared/drill/cache-tasks.js';
import { drillTargetId } from '../../../shared/drill/ids.js';
import { runJanitor } from '../../../shared/drill/janitor.js';
import type { CacheSnapshot } from '../../../shared/drill/ports.js';
import type { DrillState, DrillTaskEvent } from '../../../shared/drill/state.js';
import { drillCacheOf, onCacheEvent } from '../../../shared/drill/restore-events.js';
import { type DrillDeps, runDrillControl, runDrillTask } from '../../../shared/drill/tasks.js';
import type { VerificationReport } from '../../../shared/drill/verification.js';
import { ConfigError, EventShapeError, GuardRefusedError } from '../../../shared/errors.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import type { Database } from '../../../shared/model.js';
import { diffConditions } from '../../../shared/report/conditions.js';
import { assessEstate } from '../../../shared/report/health.js';
import { Tag } from '../../../shared/tags.js';
import { fakeCachePort, fakeCopyLister } from '../../fakes/cache-ports.js';
import { fakeReportStore, fakeRestorePort, fakeTaskSignal, fakeTokenStore } from '../../fakes/drill-ports.js';
import { drillExecutionEnded, quietMetricsEachTest } from '../../support/drill-tasks.js';

const REGION = 'eu-west-1';
const DR = 'us-west-2';
const EXECUTION = { name: 'monthly-sessions-20260201-0500', startTime: '2026-02-01T05:00:03.512Z' };
const TARGET = drillTargetId('sessions', EXECUTION.name);

const configInput = {
  stage: 'prod',
  region: REGION,
  dr: { region: DR },
  drill: {
    enabled: true,
    caches: {
      sessions: { rpoSeconds: 86_400, auth: 'iam' },
      'rate-limits': {
        auth: 'iam',
        replicationGroupId: 'ratelimit-prod',
        from: 'dr',
        nodeType: 'cache.r7g.large',
      },
    },
  },
} satisfies StewardConfigInput;

const snap = (id: string, createdAt: string, over: Partial<CacheSnapshot> = {}): CacheSnapshot => ({
  kind: 'elasticache',
  id,
  arn: `arn:aws:elasticache:${REGION}:111122223333:snapshot:${id}`,
  region: REGION,
  sourceId: 'sessions',
  createdAt,
  status: 'available',
  type: 'manual',
  tags: {},
  sourceNodeType: 'cache.r7g.xlarge',
  engine: 'redis',
  engineVersion: '7.1.0',
  shards: 1,
  largestShardBytes: 1.2e9,
  ...over,
});

const passed: VerificationReport = {
  passed: true,
  outcome: 'passed',
  budgetMs: 600_000,
  host: `master.${TARGET}.abc123.${REGION}.cache.amazonaws.com`,
  port: 6379,
  database: 'db0',
  user: cacheVerifierUser('prod'),
  referenceTime: '2026-01-31T03:00:00.000Z',
  checks: [
    {
      name: 'keys db0',
      kind: 'row-count',
      passed: true,
      status: 'passed',
      measured: 1200,
      expected: '>= 1100',
      detail: 'DBSIZE 1200',
      ms: 3,
    },
  ],
  dataRpoSeconds: 12,
  verifyMs: 900,
  tables: { db0: { rows: 1200 } },
};

let clock: Date;
const at = (iso: string) => void (clock = new Date(iso));

const fakeDeps = () => {
  const primary = fakeCachePort(REGION);
  primary.snapshots = [
    snap('automatic.sessions-2026-01-31-03-00', '2026-01-31T03:00:00.000Z', { type: 'automated' }),
    snap('steward-sessions-202601300300-sched', '2026-01-30T03:00:00.000Z'),
    snap('hand-made', '2026-01-31T09:00:00.000Z'),
  ];
  // The live groups in the stage region: sessions, and the group rate-limits drills from its DR copies.
  primary.live.set('sessions', '2025-06-01T00:00:00.000Z');
  primary.live.set('ratelimit-prod', '2025-06-01T00:00:00.000Z');
  const dr = fakeCachePort(DR);
  const copies = fakeCopyLister(DR, [
    snap('steward-ratelimit-prod-202601310300-sched', '2026-01-31T03:00:00.000Z', {
      region: DR,
      sourceId: 'ratelimit-prod',
      arn: 'arn:aws:s3:::steward-prod-redis-dr/elasticache/eu-west-1/ratelimit-prod/steward-ratelimit-prod-202601310300-sched/steward-ratelimit-prod-202601310300-sched-0001.rdb',
      rdbArns: [
        'arn:aws:s3:::steward-prod-redis-dr/elasticache/eu-west-1/ratelimit-prod/steward-ratelimit-prod-202601310300-sched/steward-ratelimit-prod-202601310300-sched-0001.rdb',
      ],
    }),
  ]);
  const network = {
    cacheSubnetGroupName: 'steward-prod-drill',
    securityGroupIds: ['sg-0cache'],
    userGroupId: 'steward-prod-drill',
  };
  const caches: CacheDrillDeps = {
    primary,
    dr,
    copies,
    network,
    drNetwork: () => Promise.resolve({ ...network, securityGroupIds: ['sg-0drcache'] }),
  };
  const rds = fakeRestorePort(REGION);
  const deps: DrillDeps = {
    config: parseConfig(configInput, 'test'),
    dryRun: false,
    notifier: memoryNotifier(),
    now: () => clock,
    restore: withCacheDrills(rds, caches),
    caches,
    tokens: fakeTokenStore(),
    signal: fakeTaskSignal(),
    reports: fakeReportStore(),
    network: { dbSubnetGroupName: 'steward-drill', securityGroupIds: ['sg-0abc1234'] },
  };
  return { deps, primary, dr, copies, rds };
};

const task = (t: DrillTaskEvent['task'], state: unknown, extra: Partial<DrillTaskEvent> = {}) =>
  ({ task: t, state, execution: EXECUTION, ...extra }) as DrillTaskEvent;

beforeEach(() => at('2026-02-01T05:00:04.000Z'));
quietMetricsEachTest();

describe('a Redis drill through the drill tasks', () => {
  it('starts from drill.caches, picks the newest restorable snapshot and restores it onto the smallest node that holds it', async () => {
    // Prepare
    const f = fakeDeps();

    // Act
    const started = await runDrillTask(task('start', { database: 'sessions' }), f.deps);
    const selected = await runDrillTask(task('select', started), f.deps);
    at('2026-02-01T05:00:10.000Z');
    const restored = await runDrillTask(task('restore', selected), f.deps);

    // Assert
    expect(started).toMatchObject({
      kind: 'redis',
      database: 'sessions',
      targets: { rtoSeconds: 3600, rpoSeconds: 86_400 },
    });
    // The hand-made snapshot is newer but not one a drill may restore (IAM grants steward's and automatic ones).
    expect(selected.source).toMatchObject({
      snapshotId: 'automatic.sessions-2026-01-31-03-00',
      region: REGION,
    });
    expect(f.primary.requests).toEqual([
      {
        targetId: TARGET,
        tags: {
          [Tag.drill]: EXECUTION.name,
          [Tag.managed]: 'true',
          [Tag.source]: 'sessions',
          [Tag.createdBy]: 'drill',
        },
        // 1.2 GB × 1.1 needs more than a t4g.small's 1.37 GiB × 0.75.
        nodeType: 'cache.t4g.medium',
        source: { snapshotName: 'automatic.sessions-2026-01-31-03-00' },
        shards: 1,
        engine: 'redis',
        engineVersion: '7.1.0',
        network: {
          cacheSubnetGroupName: 'steward-prod-drill',
          securityGroupIds: ['sg-0cache'],
          userGroupId: 'steward-prod-drill',
        },
      },
    ]);
    expect(restored.shape).toMatchObject({
      kind: 'redis',
      instanceClass: 'cache.t4g.medium',
      instanceClassFrom: 'fit',
      sourceInstanceClass: 'cache.r7g.xlarge',
    });
    expect(restored.target).toMatchObject({
      kind: 'redis',
      id: TARGET,
      tls: true,
      iamUser: 'steward-prod-drill-verifier',
      requestedAt: '2026-02-01T05:00:10.000Z',
    });
  });

  it.each([
    [
      'token',
      {
        auth: 'token',
        secretArn: `arn:aws:secretsmanager:${REGION}:111122223333:secret:sessions-auth-AbCdEf`,
      },
      { authToken: 'the-source-auth-token-0123456789' },
    ],
    [
      'user',
      {
        auth: 'user',
        secretArn: `arn:aws:secretsmanager:${REGION}:111122223333:secret:sessions-app-AbCdEf`,
        userGroupId: 'sessions-users',
      },
      { userGroupId: 'sessions-users' },
    ],
  ] as const)(
    "with auth: %s, restores the copy with the source's login and keeps only the secret's ARN in state",
    async (_, auth, login) => {
      // Prepare
      const f = fakeDeps();
      f.deps.config = parseConfig(
        {
          ...configInput,
          drill: { ...configInput.drill, caches: { sessions: { rpoSeconds: 86_400, ...auth } } },
        },
        'test',
      );
      const read: string[] = [];
      f.deps.caches!.secrets = {
        token: async (arn) => (read.push(arn), 'the-source-auth-token-0123456789'),
        user: async () => {
          throw new Error('the control plane never reads an RBAC password');
        },
      };

      // Act
      const started = await runDrillTask(task('start', { database: 'sessions' }), f.deps);
      const selected = await runDrillTask(task('select', started), f.deps);
      const restored = await runDrillTask(task('restore', selected), f.deps);

      // Assert
      expect(f.primary.requests[0]).toMatchObject({
        login,
        // Not steward's IAM user group: the copy takes the source's login.
        network: { cacheSubnetGroupName: 'steward-prod-drill', securityGroupIds: ['sg-0cache'] },
      });
      expect(f.primary.requests[0]!.network).not.toHaveProperty('userGroupId');
      expect(read).toEqual(auth.auth === 'token' ? [auth.secretArn] : []);
      expect(restored.target).toMatchObject({ secretArn: auth.secretArn });
      expect(restored.target).not.toHaveProperty('iamUser');
      expect(JSON.stringify(restored)).not.toContain('the-source-auth-token');
    },
  );

  it('parks the wait token, and the "Cache Created" event resumes the execution with the endpoint', async () => {
    // Prepare
    const f = fakeDeps();
    let s = await runDrillTask(task('start', { database: 'sessions' }), f.deps);
    s = await runDrillTask(task('select', s), f.deps);
    s = await runDrillTask(task('restore', s), f.deps);
    await runDrillTask(task('await', s, { taskToken: 'token-1' }), f.deps);
    f.primary.setStatus(TARGET, 'available');
    at('2026-02-01T05:11:00.000Z');

    // Act
    const outcome = await onCacheEvent(
      {
        source: 'aws.elasticache',
        'detail-type': 'Cache Created',
        resources: [`arn:aws:elasticache:${REGION}:111122223333:replicationgroup:${TARGET}`],
        detail: {},
      },
      f.deps,
    );

    // Assert
    expect(outcome).toEqual({ outcome: 'resumed', targetId: TARGET, status: 'available' });
    const signal = f.deps.signal as ReturnType<typeof fakeTaskSignal>;
    expect(signal.calls[0]).toMatchObject({
      kind: 'success',
      token: 'token-1',
      output: {
        available: true,
        target: { endpoint: { port: 6379 }, availableAt: '2026-02-01T05:11:00.000Z' },
      },
    });
  });

  it('polls without an event and times out after drill.timeoutSeconds, still cleaning up the group', async () => {
    // Prepare
    const f = fakeDeps();
    let s = await runDrillTask(task('start', { database: 'sessions' }), f.deps);
    s = await runDrillTask(task('select', s), f.deps);
    s = await runDrillTask(task('restore', s), f.deps);

    // Act
    at('2026-02-01T05:30:00.000Z');
    const waiting = await runDrillTask(task('status', s), f.deps);
    at('2026-02-01T08:00:04.000Z');
    const late = await runDrillTask(task('status', s), f.deps);
    const cleaned = await runDrillTask(task('cleanup', late), f.deps);

    // Assert
    expect(waiting).toMatchObject({ available: false, timedOut: false });
    expect(late).toMatchObject({ timedOut: true, error: { Error: 'DrillTimeout' } });
    expect(cleaned.cleanup).toMatchObject({ status: 'deleted', detail: `redis ${TARGET}` });
    expect(f.primary.removed).toEqual([TARGET]);
  });

  it('cleans up a group a failed restore may have created, found by its deterministic id', async () => {
    // Prepare: the restore call created the group, then failed (a timeout after the request reached AWS).
    const f = fakeDeps();
    let s = await runDrillTask(task('start', { database: 'sessions' }), f.deps);
    s = await runDrillTask(task('select', s), f.deps);
    f.primary.groups.set(TARGET, {
      id: TARGET,
      tags: { [Tag.drill]: EXECUTION.name, [Tag.managed]: 'true' },
      status: 'creating',
    });
    f.primary.failRestore = new Error('socket hang up');
    await expect(runDrillTask(task('restore', s), f.deps)).rejects.toThrow('socket hang up');

    // Act: the Catch puts the error in the state and goes to Cleanup.
    const cleaned = await runDrillTask(
      task('cleanup', { ...s, error: { Error: 'Error', Cause: 'socket hang up' } }),
      f.deps,
    );

    // Assert
    expect(cleaned.cleanup?.status).toBe('deleted');
    expect(f.primary.groups.has(TARGET)).toBe(false);
  });

  it("names the copy of a long-named group within ElastiCache's 40 characters, cleanup and events included", async () => {
    // Prepare: a replication group id of 30 characters (ElastiCache allows 40); steward-drill-<name>-<hash>
    // would be 53, and CreateReplicationGroup refuses any ReplicationGroupId over 40 (InvalidParameterValue).
    const name = 'session-store-production-eu-01';
    const f = fakeDeps();
    f.deps.config = parseConfig(
      {
        ...configInput,
        drill: { ...configInput.drill, caches: { ...configInput.drill.caches, [name]: { auth: 'iam' } } },
      },
      'test',
    );
    f.primary.snapshots.push(
      snap(`automatic.${name}-2026-01-31-03-00`, '2026-01-31T03:00:00.000Z', {
        type: 'automated',
        sourceId: name,
      }),
    );

    // Act
    let s = await runDrillTask(task('start', { database: name }), f.deps);
    s = await runDrillTask(task('select', s), f.deps);
    const selected = s;
    s = await runDrillTask(task('restore', s), f.deps);
    const id = f.primary.requests[0]!.targetId;
    // A restore that failed before it returned is cleaned up by the same id.
    const cleaned = await runDrillTask(
      task('cleanup', { ...selected, error: { Error: 'Error', Cause: 'socket hang up' } }),
      f.deps,
    );

    // Assert
    expect(id.length).toBeLessThanOrEqual(40);
    expect(id).toMatch(/^steward-drill-[a-z0-9-]*[0-9a-f]{8}$/);
    expect(id).not.toMatch(/--/);
    expect(s.target?.id).toBe(id);
    expect(cleaned.cleanup).toMatchObject({ status: 'deleted', detail: `redis ${id}` });
    // ElastiCache names the nodes <group>-001 or <group>-0001-001: the event still finds the drill's group.
    expect(
      drillCacheOf({
        source: 'aws.elasticache',
        'detail-type': 'Cache Created',
        detail: { SourceIdentifier: `${id}-0001-001` },
      }),
    ).toBe(id);
  });

  it('records a verified Redis drill with RTO, RPO and its report, like a database drill', async () => {
    // Prepare
    const f = fakeDeps();
    let s = await runDrillTask(task('start', { database: 'sessions' }), f.deps);
    s = await runDrillTask(task('select', s), f.deps);
    s = await runDrillTask(task('restore', s), f.deps);
    f.primary.setStatus(TARGET, 'available');
    at('2026-02-01T05:12:00.000Z');
    s = await runDrillTask(task('status', s), f.deps);
    const verified: DrillState = {
      ...s,
      verifyStartedAt: '2026-02-01T05:12:01.000Z',
      verifiedAt: '2026-02-01T05:12:02.000Z',
      verification: passed,
    };
    at('2026-02-01T05:12:30.000Z');
    s = await runDrillTask(task('cleanup', verified), f.deps);

    // Act
    const recorded = await runDrillTask(task('record', s), f.deps);

    // Assert
    expect(recorded.result).toMatchObject({
      passed: true,
      outcome: 'passed',
      metrics: { rtoSeconds: 718.488, rpoSeconds: 12 },
    });
    expect(recorded.cost).toMatchObject({ instanceUsdPerHour: 0.065 });
    const reports = f.deps.reports as ReturnType<typeof fakeReportStore>;
    expect([...reports.objects.keys()]).toEqual([
      `drills/sessions/2026/02/${EXECUTION.name}.json`,
      'baselines/sessions.json',
    ]);
    // The pager condition the status check keys the same way: kind, replication group, aspect.
    expect((f.deps.notifier as ReturnType<typeof memoryNotifier>).sent[0]?.alerts).toEqual([
      expect.objectContaining({ key: 'elasticache:sessions:drill', action: 'resolve' }),
    ]);
  });

  it('restores the DR copy in the DR region from its RDB files, on the configured node type', async () => {
    // Prepare
    const f = fakeDeps();
    const exec = { name: 'dr-rate-limits', startTime: EXECUTION.startTime };

    // Act
    let s = await runDrillTask(task('start', { database: 'rate-limits' }, { execution: exec }), f.deps);
    s = await runDrillTask(task('select', s, { execution: exec }), f.deps);
    s = await runDrillTask(task('restore', s, { execution: exec }), f.deps);
    const id = drillTargetId('rate-limits', 'dr-rate-limits');
    f.dr.setStatus(id, 'available');
    const status = await runDrillTask(task('status', s, { execution: exec }), f.deps);
    const cleaned = await runDrillTask(task('cleanup', status, { execution: exec }), f.deps);

    // Assert
    expect(f.primary.requests).toEqual([]);
    expect(f.dr.requests).toMatchObject([
      {
        targetId: id,
        nodeType: 'cache.r7g.large',
        source: { rdbArns: [expect.stringMatching(/^arn:aws:s3:::steward-prod-redis-dr\/.+-0001\.rdb$/)] },
        network: { securityGroupIds: ['sg-0drcache'] },
      },
    ]);
    expect(status).toMatchObject({ available: true, target: { region: DR } });
    expect(cleaned.cleanup?.status).toBe('deleted');
    expect(f.dr.removed).toEqual([id]);
  });

  // The DR bucket keeps the copies of a group deleted and re-created under the same name (its files stay
  // under the name). A copy carries its snapshot's creation, nothing of its group's: one taken before the live
  // group was created is an earlier group's backup, and restoring it would pass the drill with a wrong RPO.
  const recreated = (f: ReturnType<typeof fakeDeps>, at: string) => {
    f.primary.live.set('ratelimit-prod', at);
    f.copies.copies.unshift(
      snap('steward-ratelimit-prod-202601190300-sched', '2026-01-19T03:00:00.000Z', {
        region: DR,
        sourceId: 'ratelimit-prod',
        rdbArns: ['arn:aws:s3:::steward-prod-redis-dr/elasticache/ratelimit-prod/old-0001.rdb'],
      }),
    );
  };
  const selectDr = async (f: ReturnType<typeof fakeDeps>, input: Record<string, unknown> = {}) => {
    const exec = { name: 'dr-rate-limits', startTime: EXECUTION.startTime };
    const s = await runDrillTask(
      task('start', { database: 'rate-limits', ...input }, { execution: exec }),
      f.deps,
    );
    return runDrillTask(task('select', s, { execution: exec }), f.deps);
  };

  it('never picks a DR copy taken before the live group was created', async () => {
    // Prepare: ratelimit-prod was re-created on 2026-01-20; the copy of the 19th is the old group's.
    const f = fakeDeps();
    recreated(f, '2026-01-20T10:00:00.000Z');

    // Act: a random pick within 30 days, under many seeds
    const picked = new Set<string>();
    for (let i = 0; i < 20; i++)
      picked.add(
        (await selectDr(f, { snapshot: { randomWithinDays: 30 }, seed: `s${i}` })).source!.snapshotId!,
      );

    // Assert
    expect([...picked]).toEqual(['steward-ratelimit-prod-202601310300-sched']);
  });

  it("refuses when the live group has no DR copy yet, rather than restore an earlier group's", async () => {
    // Prepare: re-created on the 31st at 10:00, after the last copy (the old group's, 03:00).
    const f = fakeDeps();
    f.primary.live.set('ratelimit-prod', '2026-01-31T10:00:00.000Z');

    // Act / Assert
    await expect(selectDr(f)).rejects.toThrow(
      /no available snapshot of ElastiCache replication group ratelimit-prod/,
    );
    expect(f.dr.requests).toEqual([]);
  });

  it("refuses a DR copy named by id that is an earlier group's, saying why", async () => {
    const f = fakeDeps();
    recreated(f, '2026-01-20T10:00:00.000Z');

    await expect(
      selectDr(f, { snapshot: { id: 'steward-ratelimit-prod-202601190300-sched' } }),
    ).rejects.toThrow(
      /DR copy steward-ratelimit-prod-202601190300-sched was taken 2026-01-19T03:00:00.000Z, before replication group ratelimit-prod was created \(2026-01-20T10:00:00.000Z\)/,
    );
  });

  it('refuses a drill from DR copies of a group that no longer exists, naming it', async () => {
    const f = fakeDeps();
    f.primary.live.delete('ratelimit-prod');

    await expect(selectDr(f)).rejects.toThrow(/replication group ratelimit-prod not found in eu-west-1/);
  });

  it('refuses a point in time (ElastiCache has none) and an unknown cache, naming the field', async () => {
    // Prepare
    const f = fakeDeps();
    const s = await runDrillTask(
      task('start', { database: 'sessions', snapshot: { pointInTime: '2026-01-31T00:00:00Z' } }),
      f.deps,
    );

    // Act / Assert
    await expect(runDrillTask(task('select', s), f.deps)).rejects.toThrow(EventShapeError);
    await expect(runDrillTask(task('start', { database: 'nope' }), f.deps)).rejects.toThrow(
      /not in drill.targets/,
    );
  });

  it('asks for a node type when the snapshot states neither size nor type', async () => {
    // Prepare
    const f = fakeDeps();
    f.primary.snapshots = [
      snap('steward-sessions-202601300300-sched', '2026-01-30T03:00:00.000Z', {
        sourceNodeType: undefined,
        largestShardBytes: undefined,
      }),
    ];
    let s = await runDrillTask(task('start', { database: 'sessions' }), f.deps);
    s = await runDrillTask(task('select', s), f.deps);

    // Act / Assert
    await expect(runDrillTask(task('restore', s), f.deps)).rejects.toThrow(ConfigError);
    expect(f.primary.requests).toEqual([]);
  });
});

describe('the janitor and Redis drills', () => {
  it('sweeps drill groups left behind in both regions with the database drills, and never an untagged one', async () => {
    // Prepare
    const f = fakeDeps();
    f.primary.groups.set('steward-drill-sessions-0badc0de', {
      id: 'steward-drill-sessions-0badc0de',
      tags: { [Tag.drill]: 'old' },
      status: 'available',
      createdAt: '2026-01-31T20:00:00.000Z',
    });
    f.dr.groups.set('steward-drill-rate-limits-0badc0de', {
      id: 'steward-drill-rate-limits-0badc0de',
      tags: { [Tag.drill]: 'old' },
      status: 'available',
      createdAt: '2026-01-31T20:00:00.000Z',
    });
    f.primary.groups.set('steward-drill-young-0badc0de', {
      id: 'steward-drill-young-0badc0de',
      tags: { [Tag.drill]: 'new' },
      status: 'creating',
      createdAt: '2026-02-01T04:00:00.000Z',
    });

    // Act
    const r = await runJanitor({ ...f.deps, restore: f.deps.restore });

    // Assert
    expect(r.outcomes.map((o) => [o.resource, o.status])).toEqual([
      ['redis steward-drill-sessions-0badc0de', 'done'],
      ['redis steward-drill-rate-limits-0badc0de', 'done'],
    ]);
    expect(f.primary.removed).toEqual(['steward-drill-sessions-0badc0de']);
    expect(f.dr.removed).toEqual(['steward-drill-rate-limits-0badc0de']);
    await expect(f.deps.restore.remove({ kind: 'redis', id: 'not-ours' })).resolves.toBe('already-gone');
    f.primary.groups.set('steward-drill-x-12345678', {
      id: 'steward-drill-x-12345678',
      tags: {},
      status: 'available',
    });
    await expect(f.deps.restore.remove({ kind: 'redis', id: 'steward-drill-x-12345678' })).rejects.toThrow(
      GuardRefusedError,
    );
  });
});

describe('one region that cannot be listed', () => {
  const unlistable = (f: ReturnType<typeof fakeDeps>) => {
    f.dr.listDrillResources = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    };
    f.rds.resources.set('steward-drill-orders-db-0badc0de', {
      kind: 'rds-instance',
      id: 'steward-drill-orders-db-0badc0de',
      tags: { [Tag.drill]: EXECUTION.name, [Tag.managed]: 'true' },
      status: 'available',
      createdAt: '2026-01-31T20:00:00.000Z',
    });
    f.primary.groups.set(TARGET, {
      id: TARGET,
      tags: { [Tag.drill]: EXECUTION.name, [Tag.managed]: 'true' },
      status: 'available',
      createdAt: '2026-01-31T20:00:00.000Z',
    });
  };

  it('does not keep the janitor from deleting what the other ports list', async () => {
    // Prepare: the DR region's ElastiCache is throttled; the stage region's database and group are listed.
    const f = fakeDeps();
    unlistable(f);

    // Act
    const run = runJanitor(f.deps);

    // Assert
    await expect(run).rejects.toThrow(/Rate exceeded/);
    expect(f.rds.removed).toEqual(['steward-drill-orders-db-0badc0de']);
    expect(f.primary.removed).toEqual([TARGET]);
  });

  it('does not keep an execution that ended outside the drill from deleting its copies the other ports list', async () => {
    // Prepare
    const f = fakeDeps();
    unlistable(f);

    // Act
    const run = runDrillControl(drillExecutionEnded(REGION, '111122223333', EXECUTION.name), f.deps);

    // Assert
    await expect(run).rejects.toThrow(/Rate exceeded/);
    expect(f.rds.removed).toEqual(['steward-drill-orders-db-0badc0de']);
    expect(f.primary.removed).toEqual([TARGET]);
    expect((f.deps.notifier as ReturnType<typeof memoryNotifier>).sent[0]?.lines.join('\n')).toMatch(
      /Could not list .*Rate exceeded/,
    );
  });
});

describe('drillCacheOf', () => {
  it.each([
    [{ resources: [`arn:aws:elasticache:${REGION}:1:replicationgroup:${TARGET}`] }, TARGET],
    [{ detail: { SourceIdentifier: `${TARGET}-001` } }, TARGET],
    [{ detail: { 'source-id': `${TARGET}-0002-001` } }, TARGET],
    [{ detail: { SourceIdentifier: 'sessions-001' } }, undefined],
    [{ resources: ['arn:aws:elasticache:eu-west-1:1:cluster:steward-drill-orders'] }, undefined],
  ])('finds the drill group in %j', (e, want) => {
    expect(drillCacheOf({ source: 'aws.elasticache', 'detail-type': 'Cache Created', ...e })).toBe(want);
  });
});

describe('the pager key of a Redis drill', () => {
  it('is its replication group’s, as the status check keys the group: one incident, not two', async () => {
    // Prepare: rate-limits drills the group ratelimit-prod; its start failed (the raw input reaches Record),
    // and the status check finds the group's last drill failed.
    const f = fakeDeps();
    at('2026-02-01T05:03:00.000Z');
    const raw = { database: 'rate-limits', error: { Error: 'EventShapeError' } };
    const config = f.deps.config;
    const group: Database = {
      kind: 'elasticache',
      id: 'ratelimit-prod',
      arn: `arn:aws:elasticache:${REGION}:111122223333:replicationgroup:ratelimit-prod`,
      region: REGION,
      engine: 'redis',
      status: 'available',
      tags: {},
    };
    const status = assessEstate(
      {
        databases: [group],
        snapshots: [],
        drSnapshots: [],
        drills: [
          {
            drillId: 'd-1',
            database: 'rate-limits',
            startedAt: '2026-02-01T05:00:03.512Z',
            passed: false,
            summary: 'start failed',
            reasons: ['start failed'],
            checks: [],
          },
        ],
        scaling: [],
      },
      config,
      clock,
    );

    // Act
    await runDrillTask(task('record', raw), f.deps).catch(() => undefined);
    const opened = diffConditions([], status).opened;

    // Assert
    const sent = (f.deps.notifier as ReturnType<typeof memoryNotifier>).sent[0]!;
    expect(sent.alerts).toEqual([
      expect.objectContaining({ key: 'elasticache:ratelimit-prod:drill', action: 'trigger' }),
    ]);
    expect(opened.map((c) => c.key)).toEqual(['elasticache:ratelimit-prod:drill']);
  });
});
