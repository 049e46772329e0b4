import {
  run as runRetention,
  wire as wireRetention,
  type RetentionDeps,
} from '../../functions/retention/handler.js';
import { ec2Client } from '../../shared/aws/clients/ec2.js';
import { elastiCacheClient } from '../../shared/aws/clients/elasticache.js';
import { rdsClient } from '../../shared/aws/clients/rds.js';
import { taggingClient } from '../../shared/aws/clients/tagging.js';
import { stateTableClient } from '../../shared/aws/state-table-client.js';
import { snapshotId } from '../../shared/backup/ids.js';
import type { Snapshot } from '../../shared/model.js';
import { parseConfig, type RetentionPolicy, type StewardConfig } from '../../shared/config/schema.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import { planRetentionFor } from '../../shared/retention/policy.js';
import type { BaseDeps } from '../../shared/runtime.js';
import { Tag } from '../../shared/tags.js';
import { SimClock } from '../estate/clock.js';
import { offlineAws } from '../estate/offline-aws.js';
import { pages, policyKeeps } from '../estate/expected.js';
import { FakeAws, type SimDatabase } from '../estate/fake-aws.js';

const DAY = 86_400_000;
const REGION = 'eu-west-1';
const NOW = Date.UTC(2026, 10, 23, 4, 30);

export const POLICIES: Record<string, RetentionPolicy> = {
  standard: { daily: 30, weekly: 8, monthly: 12, yearly: 3, keepAtLeast: 7 },
  cache: { daily: 7, weekly: 0, monthly: 0, yearly: 0, keepAtLeast: 3 },
};

/**
 * The stage config: RDS instances and Aurora clusters on `standard`, ElastiCache on `cache`, one region.
 * The deletion allowance is the shipped default (the day's due × 2, at least 50, at most 2 000).
 */
const configFor = (policies: Record<string, RetentionPolicy>): StewardConfig =>
  parseConfig(
    {
      stage: 'prod',
      region: REGION,
      backup: {
        policies: {
          daily: { kinds: ['rds-instance', 'aurora-cluster'], retention: 'standard' },
          cache: { kinds: ['elasticache'], retention: 'cache' },
        },
      },
      retention: { includeDrRegion: false, policies },
    },
    'bench',
  );

interface Estate {
  dbs: SimDatabase[];
  /** Per database: creation times of its managed, not held snapshots (what the policy rules over). */
  managed: Map<string, number[]>;
  /** Creation times steward must leave whatever the policy says: held, and not steward's. */
  untouchable: Map<string, number[]>;
  counts: { db: number; cluster: number; cache: number; managedCache: number };
}

/**
 * Seed `fake` with at least `n` snapshots, as an estate looks the morning after a day of backups: RDS
 * instances, Aurora clusters and ElastiCache groups (8 : 1 : 1), 400 days of one snapshot a day at 03:00–
 * 03:59 UTC reduced to what the policy kept at yesterday's run, plus last night's. Every 25th day's snapshot
 * is held (`steward:hold`) and kept whatever the policy says; every 50th day also has a manual snapshot that
 * is not steward's (no tags, another name).
 */
const seed = (fake: FakeAws, n: number): Estate => {
  const estate: Estate = {
    dbs: [],
    managed: new Map(),
    untouchable: new Map(),
    counts: { db: 0, cluster: 0, cache: 0, managedCache: 0 },
  };
  const count = (kind: SimDatabase['kind'], ours: boolean) => {
    if (kind === 'rds-instance') estate.counts.db++;
    else if (kind === 'aurora-cluster') estate.counts.cluster++;
    else {
      estate.counts.cache++;
      if (ours) estate.counts.managedCache++;
    }
  };
  const put = (into: Map<string, number[]>, db: string, t: number) =>
    into.set(db, [...(into.get(db) ?? []), t]);
  let total = 0;
  for (let i = 0; total < n; i++) {
    const kind: SimDatabase['kind'] =
      i % 10 === 8 ? 'aurora-cluster' : i % 10 === 9 ? 'elasticache' : 'rds-instance';
    const id = `${kind === 'elasticache' ? 'sessions' : kind === 'aurora-cluster' ? 'ledger' : 'orders'}-${i}`;
    const db: SimDatabase = { kind, id, region: REGION, sizeGb: 10, dailyChange: 0.05, tags: {} };
    estate.dbs.push(db);
    fake.addDatabase(db);
    const policy = kind === 'elasticache' ? 'cache' : 'daily';
    const takenAt = (d: number) => NOW - d * DAY - 90 * 60_000 + ((i * 7 + d) % 60) * 60_000;
    const held = (d: number) => (i + d) % 25 === 0;
    const days = Array.from({ length: 400 }, (_, d) => d);
    // Day 0 is last night's backup. Yesterday's run (24 h ago) left what the policy kept of the snapshots it
    // saw (day 1 and older) and the held ones.
    const keptYesterday = policyKeeps(
      days.filter((d) => d >= 1 && !held(d)).map(takenAt),
      POLICIES[kind === 'elasticache' ? 'cache' : 'standard']!,
    );
    for (const d of days) {
      const t = takenAt(d);
      if (d === 0 || held(d) || keptYesterday.has(t)) {
        const tags: Record<string, string> = {
          [Tag.managed]: 'true',
          [Tag.policy]: policy,
          [Tag.source]: id,
          [Tag.createdBy]: 'backup',
          [Tag.kind]: 'sched',
          ...(held(d) ? { [Tag.hold]: 'legal' } : {}),
        };
        fake.seedSnapshot({
          kind,
          id: snapshotId(id, new Date(t), 'sched'),
          region: REGION,
          sourceId: id,
          takenAt: t,
          tags,
        });
        put(held(d) ? estate.untouchable : estate.managed, id, t);
        count(kind, true);
        total++;
      }
      if ((i + d) % 50 === 1) {
        const manual = t + 5 * 60_000;
        fake.seedSnapshot({
          kind,
          id: `manual-${id}-${d}`,
          region: REGION,
          sourceId: id,
          takenAt: manual,
          tags: {},
        });
        put(estate.untouchable, id, manual);
        count(kind, false);
        total++;
      }
    }
  }
  return estate;
};

/**
 * The fewest rate-limited requests the run needs, from the estate and the policy alone: every page of the
 * region's manual DB, cluster and ElastiCache snapshot listings (RDS pages 100, ElastiCache 50), the
 * managed ElastiCache snapshots' tags in bulk (100 a page), and one delete per snapshot the policy expires.
 */
const minimumFor = (e: Estate, expires: number): number =>
  pages(e.counts.db, 100) +
  pages(e.counts.cluster, 100) +
  pages(e.counts.cache, 50) +
  pages(e.counts.managedCache, 100) +
  // The region's EBS snapshot sets (none in this estate): one page of 1 000.
  pages(0, 1000) +
  expires;

/** What the policy expires (managed, not held, not kept), per database: computed without steward's engine. */
const expectedExpiries = (e: Estate): Map<string, Set<number>> =>
  new Map(
    e.dbs.map((db) => {
      const taken = e.managed.get(db.id) ?? [];
      const keep = policyKeeps(taken, POLICIES[db.kind === 'elasticache' ? 'cache' : 'standard']!);
      return [db.id, new Set(taken.filter((t) => !keep.has(t)))];
    }),
  );

/**
 * The least a plan must do, written without steward's engine: read each listed snapshot's tags, status and
 * creation time, group steward's own (managed, available, not held) by database, and apply the policy once
 * (`policyKeeps`). It writes no verdicts and judges once; the engine also judges the day before (the
 * deletion allowance) and gives every snapshot a verdict with its reason. Returns the expired count.
 */
export const minimalPlan = (snapshots: readonly Snapshot[], config: StewardConfig): number => {
  const groups = new Map<string, { policy: RetentionPolicy; times: number[] }>();
  for (const s of snapshots) {
    const t = s.tags;
    if (s.type !== 'manual' || s.status !== 'available' || t[Tag.managed] !== 'true' || Tag.hold in t)
      continue;
    const backup = config.backup.policies[t[Tag.policy] ?? ''];
    const policy = backup && config.retention.policies[backup.retention];
    if (!policy || s.createdAt === undefined) continue;
    const key = `${s.region} ${s.kind} ${s.sourceId}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { policy, times: [] }));
    g.times.push(Date.parse(s.createdAt));
  }
  let expired = 0;
  for (const { policy, times } of groups.values()) expired += times.length - policyKeeps(times, policy).size;
  return expired;
};

/** Run `f` on the simulated clock until it settles. */
export const drive = async <T>(clock: SimClock, f: () => Promise<T>): Promise<T> => {
  let done = false;
  const p = f().finally(() => (done = true));
  for (let i = 0; !done; i++) {
    if (i > 100_000) throw new Error('the simulated retention run did not finish');
    await clock.run(clock.now + 1_000);
    await new Promise((resolve) => realSetTimeout(resolve, 0));
  }
  return p;
};
const realSetTimeout = globalThis.setTimeout;

export interface Outcome {
  calls: number;
  throttled: number;
  dynamodb: number;
  minimum: number;
  expires: number;
  deleted: number;
  atPolicy: number;
  databases: number;
  untouchableLost: number;
  seconds: number;
  /** Planning CPU ms, each sample paired with the minimal plan's, run right after it. */
  planMs: number[];
  minimalMs: number[];
  /** The engine's own view of the day: due, expired, allowed. */
  allowance: { due: number; expired: number; allowed: number };
}

/** What a simulation changes (the self-tests): an extra listing, or another policy than the one checked. */
export interface Injection {
  extraListing?: boolean;
  /** Every request this many times slower than the estate fake's latency. */
  latencyFactor?: number;
  policies?: Record<string, RetentionPolicy>;
  /** Each timed plan is made twice (extra planning work the planning row must catch). */
  planTwice?: boolean;
}

/**
 * One retention run through the function's own `run` and `wire` (real SDK clients, adapters and service)
 * over the fake AWS: paging as the services page, 90–270 ms a request, throttling past RDS's documented
 * rate (300 burst, 12 a second) per service and region, on simulated time. `inject` changes the run (the
 * self-tests). The SDK clients come from steward's factory (one per process, with their pacers and
 * adaptive rate limiters on the simulated clock): run one simulation per process (./worker.ts).
 */
export const simulateRetention = async (
  n: number,
  planRuns: number,
  inject: Injection = {},
): Promise<Outcome> => {
  const clock = new SimClock(NOW - 400 * DAY);
  const factor = inject.latencyFactor ?? 1;
  const fake = new FakeAws({
    clock,
    // The estate fake's own latency (bench/estate/fake-aws.ts), scaled for the self-test.
    ...(factor !== 1 && {
      latencyMs: (op: string, items: number) =>
        factor * (op.startsWith('Describe') ? 120 + items * 1.5 : op.endsWith('Item') ? 8 : 90),
    }),
  });
  const estate = seed(fake, n);
  clock.now = NOW;
  const config = configFor(inject.policies ?? POLICIES);
  const restoreAws = offlineAws('ASIABENCHRETENTION00');
  clock.install();
  try {
    const base: BaseDeps = {
      config,
      dryRun: false,
      notifier: memoryNotifier(),
      now: () => new Date(Date.now()),
    };
    const deps: RetentionDeps = wireRetention(base, { STATE_TABLE: 'steward-prod-state' });
    for (const client of [
      rdsClient(REGION),
      elastiCacheClient(REGION),
      taggingClient(REGION),
      ec2Client(REGION),
      stateTableClient(REGION),
    ])
      fake.attach(client as never, REGION);
    if (inject.extraListing)
      deps.stores = deps.stores.map((s) => ({
        ...s,
        list: async (kinds) => {
          await s.list(kinds);
          return s.list(kinds);
        },
      }));
    const started = clock.now;
    const result = await drive(clock, () =>
      runRetention({ action: 'retention', scheduledTime: new Date(NOW).toISOString() }, deps),
    );
    const seconds = (clock.now - started) / 1000;

    // The run's requests only (the planning listing below adds its own).
    const ran = [...fake.calls];
    const limited = ran.filter((c) => c.service !== 'dynamodb');
    const expected = expectedExpiries(estate);
    const expires = [...expected.values()].reduce((a, s) => a + s.size, 0);
    // Left in the fake, per database, against what the policy keeps and what must never go.
    const left = new Map<string, Set<number>>();
    for (const s of fake.snapshotsIn(REGION))
      left.set(s.sourceId, (left.get(s.sourceId) ?? new Set()).add(s.takenAt));
    let atPolicy = 0;
    let untouchableLost = 0;
    for (const db of estate.dbs) {
      const has = left.get(db.id) ?? new Set<number>();
      const managed = estate.managed.get(db.id) ?? [];
      const gone = expected.get(db.id)!;
      if (managed.every((t) => has.has(t) !== gone.has(t))) atPolicy++;
      untouchableLost += (estate.untouchable.get(db.id) ?? []).filter((t) => !has.has(t)).length;
    }
    const deleted = ran.filter((c) => c.op.startsWith('Delete') && !c.throttled).length;

    // Planning CPU time on the inventory as listed (what the engine sees); synchronous, no simulated time.
    const listing = await drive(clock, () =>
      deps.stores[0]!.list(['rds-instance', 'aurora-cluster', 'elasticache']),
    );
    // CPU time of this process (the machine is shared: wall time would count other processes' work).
    const cpuMs = (f: () => unknown) => {
      const t = process.cpuUsage();
      f();
      const u = process.cpuUsage(t);
      return (u.user + u.system) / 1000;
    };
    const planMs: number[] = [];
    const minimalMs: number[] = [];
    const plan = () => {
      planRetentionFor(listing.snapshots, config, new Date(NOW));
      if (inject.planTwice) planRetentionFor(listing.snapshots, config, new Date(NOW));
    };
    for (let i = 0; i < planRuns; i++) {
      // Alternate which goes first, so a collection the one leaves behind does not always land on the other.
      if (i % 2) minimalMs.push(cpuMs(() => minimalPlan(listing.snapshots, config)));
      planMs.push(cpuMs(plan));
      if (!(i % 2)) minimalMs.push(cpuMs(() => minimalPlan(listing.snapshots, config)));
    }
    // The same job: on the same listing, the minimal plan expires what the engine expires.
    const engineExpires = planRetentionFor(listing.snapshots, config, new Date(NOW)).allowance.expired;
    if (planRuns && minimalPlan(listing.snapshots, config) !== engineExpires)
      throw new Error('the minimal plan and the engine disagree on what expires');
    return {
      calls: limited.length,
      throttled: limited.filter((c) => c.throttled).length,
      dynamodb: ran.length - limited.length,
      minimum: minimumFor(estate, expires),
      expires,
      deleted,
      atPolicy,
      databases: estate.dbs.length,
      untouchableLost,
      seconds,
      planMs,
      minimalMs,
      allowance: {
        due: result.plan.allowance.due,
        expired: result.plan.allowance.expired,
        allowed: result.plan.allowance.allowed,
      },
    };
  } finally {
    clock.uninstall();
    restoreAws();
  }
};
