import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { run as runBackupHandler, wire as wireBackup } from '../../functions/backup/handler.js';
import { run as runRetentionHandler, wire as wireRetention } from '../../functions/retention/handler.js';
import { DescribeReplicationGroupsCommand } from '@aws-sdk/client-elasticache';
import { DescribeAccountAttributesCommand } from '@aws-sdk/client-rds';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { elastiCacheClient } from '../../shared/aws/clients/elasticache.js';
import { rdsClient } from '../../shared/aws/clients/rds.js';
import { stateTableClient } from '../../shared/aws/state-table-client.js';
import { snapshotId } from '../../shared/backup/ids.js';
import { parseBackupRequest } from '../../shared/backup/events.js';
import { readStageFile } from '../../shared/config/files.js';
import type { StewardConfig } from '../../shared/config/schema.js';
import { errorMessage } from '../../shared/errors.js';
import type { BaseDeps } from '../../shared/runtime.js';
import { retentionRegions } from '../../shared/retention/policy.js';
import { Tag } from '../../shared/tags.js';
import { SimClock, warmUp } from './clock.js';
import { offlineAws } from './offline-aws.js';
import { pages, percentile, policyKeeps } from './expected.js';
import { DAY_MS, FakeAws, MINUTE, type SimDatabase, type SimEvent, type SnapshotRecord } from './fake-aws.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Every factory of shared/aws/clients/ (one module per client), loaded before any simulated clock runs. */
const CLIENTS_DIR = join(ROOT, 'shared/aws/clients');
const clients: Record<string, unknown> = Object.assign(
  {},
  ...(await Promise.all(
    readdirSync(CLIENTS_DIR)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => import(pathToFileURL(join(CLIENTS_DIR, f)).href) as Promise<Record<string, unknown>>),
  )),
);
const HOUR = 60 * MINUTE;

/** The estate and the run: sizes, days, and what the self-tests change. */
export interface EstateSpec {
  instances: number;
  clusters: number;
  caches: number;
  /** Simulated days. */
  days: number;
  /** Days of history before day 1 (reduced to what the policy keeps, copies in place). */
  historyDays: number;
  seed: number;
  /** Overrides of the seed config (self-tests): DR copies in flight, and the most retention may delete a day. */
  maxCopiesInFlight?: number;
  retentionCap?: number;
  /** Stop early (and say so) when the simulation has used this much CPU. */
  cpuBudgetSeconds: number;
  /** Function timeouts (seconds) as deployed. */
  timeouts: { backup: number; retention: number };
  /** Day 1 (ms, midnight UTC); default 2026-09-01. Later simulations in one process must start later. */
  start?: number;
}

/** One function invocation, as Lambda would have run it. */
export interface Invocation {
  fn: 'backup' | 'retention';
  trigger: string;
  queuedAt: number;
  startedAt?: number;
  endedAt?: number;
  /** CPU milliseconds of steward's code (the fake's own work taken out). */
  cpuMs?: number;
  error?: string;
}

export interface EstateResult {
  spec: EstateSpec;
  daysRun: number;
  stoppedEarly?: string;
  /** DR lag (hours) of every copied-policy snapshot taken on a simulated day: until its copy was available. */
  lagHours: number[];
  /** Per database: its worst lag (hours). */
  worstLagByDb: Map<string, number>;
  /** Snapshots never copied (still missing at the end, or lost because their source was deleted first). */
  neverCopied: number;
  /** Retention checks: one per (day, region, database); how many matched the policy exactly. */
  retention: {
    checks: number;
    atPolicy: number;
    over: number;
    under: number;
    heldForDr: number;
    worst: string;
  };
  /** API requests (RDS, ElastiCache, tagging; throttled ones apart) per simulated day, and the day's minimum. */
  callsPerDay: { calls: number; throttled: number; minimum: number; ddb: number }[];
  invocations: Invocation[];
  /** CPU seconds the simulation took (steward and the fake). */
  cpuSeconds: number;
}

/** Deterministic random numbers (mulberry32). */
const random = (seed: number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** `cron(M H * * ? *)` (daily at H:M UTC) or `rate(N hour[s]|minute[s])`: offsets in ms within a day. */
const firings = (expression: string): { first: number; every: number } => {
  const cron = /^cron\((\d+) (\d+) \* \* \? \*\)$/.exec(expression);
  if (cron) return { first: Number(cron[2]) * HOUR + Number(cron[1]) * MINUTE, every: DAY_MS };
  const rate = /^rate\((\d+) (hour|hours|minute|minutes)\)$/.exec(expression);
  // A rate schedule starts when it is created: say 17 minutes past.
  if (rate)
    return { first: 17 * MINUTE, every: Number(rate[1]) * (rate[2]!.startsWith('hour') ? HOUR : MINUTE) };
  throw new Error(`the estate simulation cannot schedule "${expression}"`);
};

const loadSeedConfig = (spec: EstateSpec): StewardConfig => {
  const r = readStageFile(join(ROOT, 'examples/steward.prod.yaml'), 'prod');
  if (!r.ok) throw new Error(`examples/steward.prod.yaml: ${r.problems.map((p) => p.message).join('; ')}`);
  const c = r.config;
  const retention = c.retention as Record<string, unknown>;
  const cap = spec.retentionCap;
  return {
    ...c,
    backup: { ...c.backup, ...(spec.maxCopiesInFlight ? { maxCopiesInFlight: spec.maxCopiesInFlight } : {}) },
    retention: {
      ...c.retention,
      // A per-run cap, or a daily allowance under a safety cap: whichever this version of the config has.
      ...(cap === undefined
        ? {}
        : 'deletions' in retention
          ? {
              deletions: {
                ...(retention.deletions as Record<string, number>),
                floor: Math.min(cap, (retention.deletions as Record<string, number>).floor ?? 0),
                safetyCap: cap,
              },
            }
          : { maxDeletionsPerRun: cap }),
    } as StewardConfig['retention'],
  };
};

/** The policy a database is tagged for, and whether it copies to DR. */
const policyOf = (config: StewardConfig, db: SimDatabase) => {
  const name = db.tags[Tag.backup]!;
  const backup = config.backup.policies[name]!;
  return { name, backup, retention: config.retention.policies[backup.retention]! };
};

/**
 * Run the estate: 500 databases (by default) over `days` simulated days, driving the backup and retention
 * functions' real `run` with their real `wire` (SDK clients, adapters, services) over the fake AWS.
 */
export const simulateEstate = async (spec: EstateSpec): Promise<EstateResult> => {
  const config = loadSeedConfig(spec);
  const primary = config.region;
  const drRegion = config.dr.region;
  const rand = random(spec.seed);
  const start = spec.start ?? Date.UTC(2026, 8, 1);
  const clock = new SimClock(start - spec.historyDays * DAY_MS);

  // --- bookkeeping the bench keeps from the fake's state changes (its own view, not steward's) -------
  /** Per database and region: creation times of its snapshots that became available, and when. */
  const history = new Map<string, { takenAt: number; availableAt: number }[]>();
  const hkey = (region: string, db: string) => `${region}\u0000${db}`;
  const record = (s: Readonly<SnapshotRecord>, at: number) => {
    const k = hkey(s.region, s.sourceId);
    let h = history.get(k);
    if (!h) history.set(k, (h = []));
    h.push({ takenAt: s.takenAt, availableAt: at });
  };
  /** Primary snapshots of copying policies: taken, and when their copy became available. */
  const copied = new Map<string, { db: string; takenAt: number; copiedAt?: number; lost?: boolean }>();
  let deliver: (e: SimEvent) => void = () => {};
  let started = false;

  const fake = new FakeAws({
    clock,
    onEvent: (e) => deliver(e),
    onSnapshot: (s, change) => {
      if (change === 'available') {
        record(s, clock.now);
        if (s.copyOf) {
          const c = copied.get(s.copyOf.arn);
          if (c && c.copiedAt === undefined) c.copiedAt = clock.now;
        } else if (s.region === primary && s.kind !== 'elasticache' && started)
          copied.set(s.arn, { db: s.sourceId, takenAt: s.takenAt });
      } else if (change === 'deleted' && s.region === primary) {
        const c = copied.get(s.arn);
        if (c && c.copiedAt === undefined) c.lost = true;
      }
    },
  });

  // --- the estate ---------------------------------------------------------------------------------
  const size = () => Math.min(2000, Math.max(5, Math.exp(Math.log(50) + 1.0 * normal(rand))));
  const change = () => 0.01 + rand() * 0.07;
  const dbs: SimDatabase[] = [];
  for (let i = 0; i < spec.instances; i++)
    dbs.push({
      kind: 'rds-instance',
      id: `orders-${i}`,
      region: primary,
      sizeGb: size(),
      dailyChange: change(),
      tags: { [Tag.backup]: 'daily' },
    });
  for (let i = 0; i < spec.clusters; i++) {
    const id = `ledger-${i}`;
    dbs.push({
      kind: 'aurora-cluster',
      id,
      region: primary,
      sizeGb: size(),
      dailyChange: change(),
      tags: { [Tag.backup]: 'daily' },
    });
    for (const m of ['a', 'b'])
      fake.addDatabase({
        kind: 'rds-instance',
        id: `${id}-${m}`,
        region: primary,
        sizeGb: 0,
        dailyChange: 0,
        tags: {},
        clusterId: id,
      });
  }
  for (let i = 0; i < spec.caches; i++)
    dbs.push({
      kind: 'elasticache',
      id: `sessions-${i}`,
      region: primary,
      sizeGb: Math.max(1, size() / 10),
      dailyChange: 0.2,
      tags: { [Tag.backup]: 'cache' },
    });
  for (const db of dbs) fake.addDatabase(db);

  // History before day 1: one snapshot a day at the policy's hour, reduced to what the policy keeps, each
  // copied to DR when the policy copies: the estate starts at policy and caught up.
  for (const db of dbs) {
    const p = policyOf(config, db);
    const at = firings(p.backup.schedule).first;
    const days = Array.from(
      { length: spec.historyDays },
      (_, d) => start - (spec.historyDays - d) * DAY_MS + at,
    );
    const keep = policyKeeps(
      days.map((d) => d + 5 * MINUTE),
      p.retention,
    );
    for (const day of days) {
      const takenAt = day + 5 * MINUTE;
      const id = snapshotId(db.id, new Date(day), 'sched');
      const tags = {
        [Tag.managed]: 'true',
        [Tag.policy]: p.name,
        [Tag.source]: db.id,
        [Tag.createdBy]: 'backup',
        [Tag.kind]: 'sched',
      };
      const h = { takenAt, availableAt: takenAt };
      (
        history.get(hkey(primary, db.id)) ?? history.set(hkey(primary, db.id), []).get(hkey(primary, db.id))!
      ).push(h);
      if (p.backup.copyToDr)
        (
          history.get(hkey(drRegion, db.id)) ??
          history.set(hkey(drRegion, db.id), []).get(hkey(drRegion, db.id))!
        ).push({ takenAt, availableAt: takenAt + HOUR });
      if (!keep.has(takenAt)) continue;
      const arn = fake.seedSnapshot({
        kind: db.kind,
        id,
        region: primary,
        sourceId: db.id,
        takenAt,
        tags,
        gb: db.sizeGb,
      });
      if (p.backup.copyToDr)
        fake.seedSnapshot({
          kind: db.kind,
          id,
          region: drRegion,
          sourceId: db.id,
          takenAt,
          tags: { ...tags, [Tag.copiedFrom]: arn },
          copyOf: { arn, region: primary },
          gb: db.sizeGb,
        });
    }
  }
  clock.now = start;
  started = true;

  // --- the functions, as deployed: one run at a time each (reserved concurrency 1) ----------------
  const restoreAws = offlineAws('ASIASIMULATEDESTATE0');
  const invocations: Invocation[] = [];
  const cpuStart = process.cpuUsage();
  clock.install();
  try {
    const base: BaseDeps = {
      config,
      dryRun: false,
      notifier: { send: async () => {} },
      now: () => new Date(Date.now()),
    };
    // The environment the constructs give the functions: the state table (retention's budget, the DR copy
    // queue when the backup function has one).
    const backupDeps = wireBackup(base, { STATE_TABLE: 'steward-prod-state' });
    const retentionDeps = wireRetention(base, { STATE_TABLE: 'steward-prod-state' } as never);
    // Every client the factory can build, in both regions: the fake answers the services it simulates and
    // refuses the others, so a call this simulation does not model fails loudly instead of reaching AWS.
    for (const region of new Set([primary, drRegion]))
      for (const [name, make] of Object.entries({ ...clients, stateTableClient }))
        if (typeof make === 'function' && /^[a-z]\w*Client$/.test(name) && name !== 'costExplorerClient')
          fake.attach((make as (r: string) => { middlewareStack: unknown })(region), region);
    await warmUp(clock, [
      ...[...new Set([primary, drRegion])].flatMap((region) => [
        () => rdsClient(region).send(new DescribeAccountAttributesCommand({})),
        () => elastiCacheClient(region).send(new DescribeReplicationGroupsCommand({})),
      ]),
      () => stateTableClient(primary).send(new GetCommand({ TableName: 'warm-up', Key: { pk: 'warm-up' } })),
    ]);

    const queues = {
      backup: queue(
        clock,
        fake,
        'backup',
        (e) => runBackupHandler(e, backupDeps, { requestId: `sim-${invocations.length}` }),
        invocations,
      ),
      retention: queue(clock, fake, 'retention', (e) => runRetentionHandler(e, retentionDeps), invocations),
    };

    // Schedules (EventBridge Scheduler), from the config.
    const every = (expression: string, f: (at: number) => void) => {
      const { first, every: period } = firings(expression);
      const fire = (at: number) => {
        clock.at(at - clock.now, () => {
          f(at);
          fire(at + period);
        });
      };
      let at = start + first;
      while (at < clock.now) at += period;
      fire(at);
    };
    for (const [name, p] of Object.entries(config.backup.policies))
      every(p.schedule, (at) =>
        queues.backup.invoke(`schedule ${name}`, {
          action: 'scheduled-backup',
          policy: name,
          scheduledTime: new Date(at).toISOString(),
        }),
      );
    if (Object.values(config.backup.policies).some((p) => p.copyToDr))
      every(config.backup.copySchedule, () =>
        queues.backup.invoke('schedule copies', { action: 'reconcile-copies' }),
      );
    every(config.retention.schedule, (at) =>
      queues.retention.invoke('schedule', { action: 'retention', scheduledTime: new Date(at).toISOString() }),
    );

    // RDS events reach the backup function when its rules would take them: the ones it understands.
    deliver = (e) => {
      let action: string;
      try {
        action = parseBackupRequest(e, config.backup).action;
      } catch {
        return; // Not an event the function's rules select.
      }
      if (action === 'ignored') return;
      // EventBridge delivers within seconds.
      clock.within(undefined, () =>
        clock.at(2_000, () => queues.backup.invoke(`event ${e.detail.EventID}`, e)),
      );
    };

    // The CPU budget, so one slow day cannot run for ever.
    clock.watchdog = () => {
      const used = process.cpuUsage(cpuStart);
      if ((used.user + used.system) / 1e6 > spec.cpuBudgetSeconds) clock.halted = true;
    };

    // --- day by day ------------------------------------------------------------------------------
    const callsPerDay: EstateResult['callsPerDay'] = [];
    const checks = { checks: 0, atPolicy: 0, over: 0, under: 0, heldForDr: 0, worst: '' };
    let worstDiff = 0;
    let stoppedEarly: string | undefined;
    let day = 0;
    for (; day < spec.days; day++) {
      const dayStart = start + day * DAY_MS;
      const callsBefore = fake.calls.length;
      await clock.run(dayStart + DAY_MS);
      const calls = fake.calls.slice(callsBefore);
      const api = calls.filter((c) => c.service !== 'dynamodb' && c.service !== 'other');
      callsPerDay.push({
        calls: api.filter((c) => !c.throttled).length,
        throttled: api.filter((c) => c.throttled).length,
        ddb: calls.length - api.length,
        minimum: minimumCalls(config, dbs, history, dayStart, primary, drRegion, hkey),
      });
      // Retention, checked after each of the day's runs against the policy over what it could have listed.
      for (const inv of invocations) {
        if (
          inv.fn !== 'retention' ||
          inv.startedAt === undefined ||
          inv.startedAt < dayStart ||
          inv.startedAt >= dayStart + DAY_MS
        )
          continue;
        for (const region of new Set([primary, drRegion])) {
          // What is there now (the run's deletions done, the next run not started), with when it appeared.
          const present = new Map<string, { takenAt: number; availableAt: number }[]>();
          for (const s of fake.snapshotsIn(region)) {
            if (s.status !== 'available') continue;
            const h = history.get(hkey(region, s.sourceId))?.find((x) => x.takenAt === s.takenAt);
            if (h) (present.get(s.sourceId) ?? present.set(s.sourceId, []).get(s.sourceId)!).push(h);
          }
          for (const db of dbs) {
            const p = policyOf(config, db);
            if (region === drRegion && !p.backup.copyToDr) continue;
            const all = history.get(hkey(region, db.id)) ?? [];
            // The run judged what it listed, at some moment between its start and its end: a copy that
            // became available meanwhile may or may not be in it. Any of those moments' policy is right.
            const moments = [
              inv.startedAt,
              ...all.map((x) => x.availableAt).filter((t) => t > inv.startedAt! && t <= inv.endedAt!),
            ];
            const judge = (at: number) => {
              const want = policyKeeps(
                all.filter((x) => x.availableAt <= at).map((x) => x.takenAt),
                p.retention,
              );
              const have = (present.get(db.id) ?? [])
                .filter((x) => x.availableAt <= at)
                .map((x) => x.takenAt);
              const extra = have.filter((t) => !want.has(t));
              // Kept past its policy only because its DR copy is not there yet: right, and counted apart.
              const held =
                region === primary && p.backup.copyToDr
                  ? extra.filter((t) => !drHas(history, hkey(drRegion, db.id), t, at))
                  : [];
              const under = [...want].filter((t) => !have.includes(t)).length;
              return { want, have, held: held.length, over: extra.length - held.length, under };
            };
            const verdicts = moments.map(judge);
            const v = verdicts.find((x) => !x.over && !x.under) ?? verdicts[0]!;
            checks.checks++;
            checks.heldForDr += v.held;
            if (!v.over && !v.under) checks.atPolicy++;
            checks.over += v.over;
            checks.under += v.under;
            if (v.over + v.under > worstDiff) {
              worstDiff = v.over + v.under;
              checks.worst = `${db.id} in ${region} on day ${day + 1}: ${v.have.length} kept, policy ${v.want.size} (${v.over} over, ${v.under} missing)`;
            }
          }
        }
      }
      if (clock.halted) {
        stoppedEarly = `stopped on day ${day + 1} of ${spec.days} (${new Date(clock.now).toISOString().slice(11, 16)}): the simulation used its ${spec.cpuBudgetSeconds} s CPU budget`;
        day++;
        break;
      }
    }

    // --- DR lag of every snapshot taken during the simulation ------------------------------------
    const end = clock.now;
    const lagHours: number[] = [];
    const worstLagByDb = new Map<string, number>();
    let neverCopied = 0;
    for (const c of copied.values()) {
      if (c.copiedAt === undefined) neverCopied++;
      const lag = ((c.copiedAt ?? (c.lost ? Infinity : end)) - c.takenAt) / HOUR;
      lagHours.push(lag);
      worstLagByDb.set(c.db, Math.max(worstLagByDb.get(c.db) ?? 0, lag));
    }
    const cpu = process.cpuUsage(cpuStart);
    return {
      spec,
      daysRun: day,
      ...(stoppedEarly ? { stoppedEarly } : {}),
      lagHours,
      worstLagByDb,
      neverCopied,
      retention: checks,
      callsPerDay,
      invocations,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
  } finally {
    clock.uninstall();
    restoreAws();
  }
};

/** A standard normal deviate (Box–Muller). */
const normal = (rand: () => number) => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

const drHas = (
  history: Map<string, { takenAt: number; availableAt: number }[]>,
  key: string,
  takenAt: number,
  by: number,
) => history.get(key)?.some((x) => x.takenAt === takenAt && x.availableAt <= by) ?? false;

/** A function with reserved concurrency 1: invocations queue and run one at a time, in order. */
const queue = (
  clock: SimClock,
  fake: FakeAws,
  fn: Invocation['fn'],
  handler: (event: unknown) => Promise<unknown>,
  all: Invocation[],
) => {
  const waiting: { inv: Invocation; event: unknown }[] = [];
  let busy = false;
  const next = () => {
    const item = waiting.shift();
    if (!item) {
      busy = false;
      return;
    }
    busy = true;
    const { inv, event } = item;
    clock.within(inv, () =>
      clock.at(0, () => {
        inv.startedAt = clock.now;
        void handler(event)
          .catch((e: unknown) => {
            inv.error = errorMessage(e);
          })
          .finally(() => {
            inv.endedAt = clock.now;
            // CPU charged while this run's timers fired, less the fake's own work for it.
            inv.cpuMs = ((clock.cpu.get(inv) ?? 0) - (fake.cpuMicros.get(inv) ?? 0)) / 1000;
            clock.within(undefined, () => clock.at(0, next));
          });
      }),
    );
  };
  return {
    invoke(trigger: string, event: unknown) {
      const inv: Invocation = { fn, trigger, queuedAt: clock.now };
      all.push(inv);
      waiting.push({ inv, event });
      if (!busy) next();
    },
  };
};

/**
 * The fewest RDS and ElastiCache requests the day's work needs, from the estate and the policy alone: one
 * listing of the databases (tags in bulk), one quota read, one create per database, one copy per snapshot of
 * a copying policy, one listing of each region's snapshots for retention (cache tags in bulk), and one delete
 * per snapshot the policy expires that day. DR progress comes from events and costs nothing.
 *
 * "That day" is the day's retention run (the config's schedule): a snapshot can only be deleted once what
 * expires it is there to be listed, so a DR copy that lands after the day's run expires its older copies on
 * the next day's run (the check of "retention at policy" judges each run the same way, by what it could list).
 */
const minimumCalls = (
  config: StewardConfig,
  dbs: readonly SimDatabase[],
  history: Map<string, { takenAt: number; availableAt: number }[]>,
  dayStart: number,
  primary: string,
  dr: string,
  hkey: (region: string, db: string) => string,
): number => {
  const count = (kind: SimDatabase['kind']) => dbs.filter((d) => d.kind === kind).length;
  const instances = count('rds-instance') + 2 * count('aurora-cluster');
  const caches = count('elasticache');
  let calls =
    pages(instances, 100) + pages(count('aurora-cluster'), 100) + pages(caches, 100) + pages(caches, 100) + 1;
  const run = dayStart + firings(config.retention.schedule).first;
  const held = { primary: { rds: 0, cluster: 0, cache: 0 }, dr: { rds: 0, cluster: 0 } };
  for (const db of dbs) {
    const p = policyOf(config, db);
    calls += 1; // create
    if (p.backup.copyToDr) calls += 1; // copy
    for (const region of p.backup.copyToDr ? [primary, dr] : [primary]) {
      const all = history.get(hkey(region, db.id)) ?? [];
      const before = all.filter((x) => x.availableAt <= run - DAY_MS).map((x) => x.takenAt);
      const upTo = all.filter((x) => x.availableAt <= run).map((x) => x.takenAt);
      const keptBefore = policyKeeps(before, p.retention);
      const keptAfter = policyKeeps(upTo, p.retention);
      // Deleted by today's run: kept by yesterday's or new since, and not kept today.
      const fresh = all
        .filter((x) => x.availableAt > run - DAY_MS && x.availableAt <= run)
        .map((x) => x.takenAt);
      calls += [...new Set([...keptBefore, ...fresh])].filter((t) => !keptAfter.has(t)).length;
      const n = keptAfter.size;
      if (region === dr) held.dr[db.kind === 'aurora-cluster' ? 'cluster' : 'rds'] += n;
      else
        held.primary[
          db.kind === 'aurora-cluster' ? 'cluster' : db.kind === 'elasticache' ? 'cache' : 'rds'
        ] += n;
    }
  }
  calls +=
    pages(held.primary.rds, 100) +
    pages(held.primary.cluster, 100) +
    pages(held.primary.cache, 50) +
    pages(held.primary.cache, 100);
  calls += pages(held.dr.rds, 100) + pages(held.dr.cluster, 100) + 1;
  // Retention also lists each swept region's EBS snapshot sets: one page each (the estate has no EBS).
  calls += retentionRegions(config).length;
  return calls;
};

/** Median, p99 and max of a sample. */
export const spread = (xs: readonly number[]) => ({
  p50: percentile(xs, 50),
  p99: percentile(xs, 99),
  max: xs.length ? Math.max(...xs) : 0,
});
