import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { RDSClient } from '@aws-sdk/client-rds';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsBackupPort, awsCopyPort } from '../../shared/aws/backup-ports.js';
import { cloudWatchAlarms } from '../../shared/aws/cloudwatch-alarms.js';
import { API_PACE, http, paced } from '../../shared/aws/clients/kit.js';
import { elastiCacheBackup } from '../../shared/aws/elasticache.js';
import { rdsBackup } from '../../shared/aws/rds.js';
import { dynamoDeletionBudget } from '../../shared/aws/retention-budget.js';
import { awsSnapshotStore } from '../../shared/aws/snapshots.js';
import { targetCredentials } from '../../shared/aws/target-credentials.js';
import { snapshotId } from '../../shared/backup/ids.js';
import { parseBackupRequest } from '../../shared/backup/events.js';
import { type BackupDeps, runBackup } from '../../shared/backup/service.js';
import { parseConfig, type StewardConfig } from '../../shared/config/schema.js';
import { configAt } from '../../shared/fleet/place.js';
import { expandTargets, isHub, targetRoleArn, type TargetRef } from '../../shared/fleet/targets.js';
import { metrics } from '../../shared/observability.js';
import { tokenBucket } from '../../shared/pool.js';
import { runRetention } from '../../shared/retention/service.js';
import { elastiCacheScaling } from '../../shared/aws/elasticache-scaling.js';
import { rdsScaling } from '../../shared/aws/rds-scaling.js';
import { awsScalingResources } from '../../shared/aws/scaling-resources.js';
import { dynamoScalingStore } from '../../shared/aws/scaling-store.js';
import { parseScalingRequest } from '../../shared/scaling/request.js';
import { runScaling, type ScalingDeps } from '../../shared/scaling/service.js';
import { atPlace, type BaseDeps } from '../../shared/runtime.js';
import { Tag } from '../../shared/tags.js';
import { SimClock, warmUp } from '../estate/clock.js';
import { DAY_MS, FakeAws, MINUTE } from '../estate/fake-aws.js';
import { offlineAws } from '../estate/offline-aws.js';

// One scheduled cycle of a fleet (backup, retention, or the scaling scale-in check), on simulated time: every account is its own fake AWS (RDS, ElastiCache,
// DynamoDB with latency and RDS's token-bucket throttling per account and region, bench/estate/fake-aws.ts),
// STS answers AssumeRole after a latency, and the children of the Distributed Map run `maxConcurrency` at a
// time, each one the shipped shared logic (runBackup, runRetention, runScaling) over the shipped adapters and SDK
// clients, signed with the target's assumed role. The wiring of one child (clients per target with the
// target's credentials, one session cache per Lambda container) is this file's own, mirroring the fan-out
// child's: the services, adapters, SDK, retries and pacing are what ships.

/** What a child costs before its own code runs (assumptions, not measurements; see docs/benchmarks.md). */
export const CHILD_OVERHEAD = {
  /** Step Functions starting a child execution and its Lambda invoke on a warm container. */
  startMs: 250,
  /** Each container's first invocation: Lambda init plus steward's cold start (bench bundles: ~0.2 s CPU). */
  coldStartMs: 1_000,
  /** STS AssumeRole round trip. */
  assumeRoleMs: 150,
} as const;

export interface FleetSpec {
  accounts: number;
  regions: readonly string[];
  /** Per account-region: instances (the rest of `databases` are Aurora clusters, two of them). */
  databases: number;
  /** The Distributed Map's MaxConcurrency (and the functions' reserved concurrency). */
  maxConcurrency: number;
  /** Self-test faults: run the children one at a time while reporting the configured concurrency; or sign
   * without the session cache (one AssumeRole per request); or run each child's work twice; or count every
   * metric sent above zero as a per-target series (the news rule undone). */
  fault?: 'serial' | 'no-session-cache' | 'twice' | 'every-metric-per-target';
  /** Scaling: each child checks again 15 minutes later, with nothing changed in between (`restNamesPerChild`). */
  rest?: boolean;
}

const CLUSTERS = 2;
/** Daily backups kept 7 days, 8 taken: one expires per database per retention cycle. */
const KEEP_DAYS = 7;
const HUB_TABLE = 'steward-fleet-state';
const START = Date.UTC(2026, 2, 2, 3, 0);

const account = (i: number) => String(100000000000 + i);

/** The class ladder of every instance's scaling rule. */
const LADDER = ['db.r6g.large', 'db.r6g.xlarge', 'db.r6g.2xlarge'];
/** How long a rule's alarm must stay OK before one step back (`scaleIn.afterOkMinutes`). */
const AFTER_OK_MINUTES = 60;

/**
 * The scale-in estate of every account-region, by instance (in id order): the first `stepping` instances
 * sit one rung above the ladder's bottom with their alarm OK for two hours (each steps back once), the next
 * `atFloor` sit at the bottom with their alarm OK as long (nothing to do: at-min), and every other instance's
 * alarm is in ALARM (nothing to do). The bench's minimum is computed from these counts.
 */
export const SCALE_IN_ESTATE = { stepping: 2, atFloor: 2 } as const;

/** The instances of an account-region (the first CLUSTERS databases are Aurora clusters). */
const instanceIds = (databases: number) =>
  Array.from({ length: Math.max(0, databases - CLUSTERS) }, (_, i) => `orders-${i + CLUSTERS}`);

/** One scale-in rule per instance: a CPU alarm climbs the class ladder; an hour OK steps back one rung. */
const scalingRules = (databases: number) =>
  Object.fromEntries(
    instanceIds(databases).map((id) => [
      `${id}-cpu`,
      {
        alarm: { name: `${id}-cpu-high` },
        resource: id,
        action: {
          type: 'rds.scaleUp',
          ladder: LADDER,
          max: LADDER[LADDER.length - 1],
          applyImmediately: true,
        },
        scaleIn: { enabled: true, afterOkMinutes: AFTER_OK_MINUTES },
      },
    ]),
  );

/**
 * The fleet's stage config: the hub is account 0; every account is a target in every region; one scaling
 * rule that scales in per instance.
 */
export const fleetConfig = (
  spec: Pick<FleetSpec, 'accounts' | 'regions'> & { databases?: number },
): StewardConfig =>
  parseConfig(
    {
      stage: 'fleet',
      account: account(0),
      region: spec.regions[0]!,
      fleet: { organizationId: 'o-a1b2c3d4e5' },
      backup: { policies: { daily: { kinds: ['rds-instance', 'aurora-cluster'], retention: 'standard' } } },
      retention: { policies: { standard: { daily: KEEP_DAYS, weekly: 0, monthly: 0, yearly: 0 } } },
      scaling: { enabled: true, rules: scalingRules(spec.databases ?? 20) },
      targets: Array.from({ length: spec.accounts }, (_, i) => ({
        account: account(i),
        regions: [...spec.regions],
      })),
    },
    'fleet',
  );

export interface TargetCalls {
  account: string;
  region: string;
  /** RDS, ElastiCache, tagging and DynamoDB requests this child sent (attempts, throttled ones included). */
  calls: number;
  throttled: number;
  byOp: Record<string, number>;
  /** Simulated ms from the child's start to its end (overheads included). */
  ms: number;
  ok: boolean;
  error?: string;
}

/** What a simulated cycle runs in each target. */
export type CycleCapability = 'backup' | 'retention' | 'scaling';

export interface CycleResult {
  capability: CycleCapability;
  targets: number;
  maxConcurrency: number;
  /** Simulated wall time of the Map Run: first child started to last child finished. */
  wallMs: number;
  children: TargetCalls[];
  assumeRoleCalls: number;
  /** Distinct EMF metric names each child sent with news in its target (its per-target series). */
  metricNamesPerChild: number[];
  /** Distinct metric names over the cycle (the fleet-wide series, as a single account sends them). */
  metricNames: number;
  /** With `rest`: the per-target series of each child's second check, 15 minutes later, nothing changed. */
  restNamesPerChild?: number[];
  cpuSeconds: number;
}

interface Seeded {
  fakes: FakeAws[];
  clock: SimClock;
}

/** The estate: per account-region `databases` (two of them Aurora clusters), 8 daily backups each. */
const seed = (spec: FleetSpec): Seeded => {
  const clock = new SimClock(START - 1);
  const fakes = Array.from({ length: spec.accounts }, (_, a) => new FakeAws({ clock, account: account(a) }));
  fakes.forEach((fake) => {
    for (const region of spec.regions)
      for (let d = 0; d < spec.databases; d++) {
        const cluster = d < CLUSTERS;
        const id = cluster ? `ledger-${d}` : `orders-${d}`;
        fake.addDatabase({
          kind: cluster ? 'aurora-cluster' : 'rds-instance',
          id,
          region,
          sizeGb: 50,
          dailyChange: 0.03,
          tags: { [Tag.backup]: 'daily' },
          // The stepping instances sit one rung up (SCALE_IN_ESTATE).
          ...(cluster ? {} : { instanceClass: LADDER[d - CLUSTERS < SCALE_IN_ESTATE.stepping ? 1 : 0] }),
        });
        for (let day = KEEP_DAYS + 1; day >= 1; day--) {
          const at = START - day * DAY_MS;
          fake.seedSnapshot({
            kind: cluster ? 'aurora-cluster' : 'rds-instance',
            id: snapshotId(id, new Date(at), 'sched'),
            region,
            sourceId: id,
            takenAt: at + 5 * MINUTE,
            tags: {
              [Tag.managed]: 'true',
              [Tag.policy]: 'daily',
              [Tag.source]: id,
              [Tag.createdBy]: 'backup',
              [Tag.kind]: 'sched',
            },
          });
        }
      }
  });
  return { fakes, clock };
};

/** STS in the hub: AssumeRole answered after a latency, counted. */
const fakeSts = (clock: SimClock, sts: STSClient, calls: { n: number }) => {
  (
    sts.middlewareStack as unknown as { addRelativeTo(mw: unknown, o: Record<string, unknown>): void }
  ).addRelativeTo(
    () => async (args: { input: { RoleArn?: string } }) => {
      await clock.sleep(CHILD_OVERHEAD.assumeRoleMs);
      calls.n++;
      const account = args.input.RoleArn?.split(':')[4] ?? 'unknown';
      return {
        response: { statusCode: 200, headers: {} },
        output: {
          Credentials: {
            AccessKeyId: `ASIA${account}`,
            SecretAccessKey: 'simulated',
            SessionToken: 'simulated',
            Expiration: new Date(Date.now() + 3_600_000),
          },
          $metadata: { httpStatusCode: 200 },
        },
      };
    },
    { relation: 'before', toMiddleware: 'deserializerMiddleware', name: 'stewardFakeSts', override: true },
  );
  return sts;
};

type Credentials = () => Promise<{
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}>;

/** A client as the shared factory builds it (adaptive retries, timeouts, steward's pace), for one target. */
const targetClient = <C extends { middlewareStack: unknown }>(
  make: new (o: Record<string, unknown>) => C,
  region: string,
  credentials: Credentials,
): C =>
  paced(
    new make({ region, retryMode: 'adaptive', maxAttempts: 5, ...http(), credentials }),
    tokenBucket(API_PACE),
  );

/** One target's backup deps, as the fan-out child wires them: its region, its role's session, the hub's table. */
const childDeps = (
  hub: StewardConfig,
  ref: TargetRef & { account: string },
  fake: FakeAws,
  credentials: Credentials,
  hubDb: DynamoDBDocumentClient,
): BackupDeps & {
  stores: ReturnType<typeof awsSnapshotStore>[];
  budget: ReturnType<typeof dynamoDeletionBudget>;
} => {
  const config = configAt(hub, ref);
  const { region } = config;
  const rds = targetClient(RDSClient, region, credentials);
  const cache = targetClient(ElastiCacheClient, region, credentials);
  const tagging = targetClient(ResourceGroupsTaggingAPIClient, region, credentials);
  for (const c of [rds, cache, tagging]) fake.attach(c, region);
  const base: BaseDeps = {
    config,
    dryRun: false,
    notifier: { send: async () => {} },
    now: () => new Date(Date.now()),
  };
  const store = awsSnapshotStore(region, rds, cache, tagging);
  return atPlace(
    {
      ...base,
      primary: awsBackupPort(rdsBackup(region, rds), elastiCacheBackup(region, cache)),
      // No policy copies to DR here: the DR port is wired but never called.
      dr: awsCopyPort(rdsBackup(config.dr.region, rds)),
      snapshots: { primary: store, dr: store },
      stores: [store],
      // Each target's own deletion budget item (a table per target in the fake: the same calls as one
      // item per target in the hub's table).
      budget: dynamoDeletionBudget(hubDb, `${HUB_TABLE}-${ref.account}-${region}`),
    },
    { target: { index: ref.index, account: ref.account, region } },
  );
};

/** One target's scaling deps, as the scaling fan-out child wires them: its region and role, the hub's table. */
const scalingChildDeps = (
  hub: StewardConfig,
  ref: TargetRef & { account: string },
  fake: FakeAws,
  credentials: Credentials,
  hubDb: DynamoDBDocumentClient,
): ScalingDeps => {
  const config = configAt(hub, ref);
  const { region } = config;
  const rds = targetClient(RDSClient, region, credentials);
  const cache = targetClient(ElastiCacheClient, region, credentials);
  const cw = targetClient(CloudWatchClient, region, credentials);
  for (const c of [rds, cache, cw]) fake.attach(c, region);
  const now = () => new Date(Date.now());
  // The hub's own account-region keeps its keys unplaced (functions/scaling/handler.ts, wire).
  const place = isHub(hub, ref) ? undefined : { account: ref.account, region };
  return atPlace(
    {
      config,
      dryRun: false,
      notifier: { send: async () => {} },
      now,
      resources: awsScalingResources(rdsScaling(region, rds), elastiCacheScaling(region, cache)),
      state: dynamoScalingStore(hubDb, HUB_TABLE, now, place),
      alarms: cloudWatchAlarms(cw, region),
    },
    { target: { index: ref.index, account: ref.account, region } },
  );
};

/**
 * Each instance's alarm state in the hub's table, as its live transitions left it (SCALE_IN_ESTATE), and the
 * same state in the target's CloudWatch, which the check confirms before stepping back.
 */
const seedAlarmStates = (deps: ScalingDeps, fake: FakeAws, databases: number): (() => Promise<unknown>)[] =>
  instanceIds(databases).map((id, i) => () => {
    const ok = i < SCALE_IN_ESTATE.stepping + SCALE_IN_ESTATE.atFloor;
    const since = new Date(START - (ok ? 2 * 60 : 30) * MINUTE);
    fake.setAlarm(deps.config.region, `${id}-cpu-high`, ok ? 'OK' : 'ALARM', since);
    return deps.state.setAlarmState(`${id}-cpu-high`, ok ? 'OK' : 'ALARM', since, 7 * 24 * 3600);
  });

const realSetTimeout = globalThis.setTimeout;

/** Run one scheduled cycle of `capability` over the fleet and count what it cost. */
export const simulateCycle = async (spec: FleetSpec, capability: CycleCapability): Promise<CycleResult> => {
  const hub = fleetConfig(spec);
  const { fakes, clock } = seed(spec);
  const targets = expandTargets(hub).map((t) => ({ ...t, account: t.account! }));
  const restoreAws = offlineAws('ASIASIMULATEDFLEET00');
  const addMetric = metrics.addMetric.bind(metrics);
  const names = new Map<unknown, Set<string>>();
  const all = new Set<string>();
  // Counted, not stored: the shared writer would print EMF documents as the cycle fills it. Every name is a
  // fleet-wide series; a child's per-target series are the names it sent with news in its target (the
  // value, or the perTarget part, above zero: Metrics.setScope).
  metrics.addMetric = ((name: string, _unit: unknown, value: number, options?: { perTarget?: number }) => {
    all.add(name);
    const news = spec.fault === 'every-metric-per-target' ? value : (options?.perTarget ?? value);
    if (news <= 0) return metrics;
    const owner = clock.context.getStore();
    (names.get(owner) ?? names.set(owner, new Set()).get(owner)!).add(name);
    return metrics;
  }) as typeof metrics.addMetric;
  const cpu = process.cpuUsage();
  clock.install();
  const assumed = { n: 0 };
  try {
    const hubDb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: hub.region, ...http() }));
    fakes[0]!.attach(hubDb, hub.region);
    // One STS client and one session cache per Lambda container (the function's reserved concurrency).
    const containers = Array.from({ length: spec.maxConcurrency }, () => {
      const sts = fakeSts(clock, new STSClient({ region: hub.region, ...http() }), assumed);
      return {
        sts,
        sessions: targetCredentials(sts, { sessionName: `steward-fleet-${capability}` }),
        warm: false,
      };
    });
    // Each child's deps, built up front so the SDK's lazy start-up happens before the cycle; credentials
    // resolve through the container's session cache when the child first signs.
    const live = new Map<number, Credentials>();
    const deps = targets.map((t, i) => {
      const credentials = async () => {
        const get = live.get(i);
        // Expired at once, so the SDK asks again at the cycle's first request.
        if (!get)
          return { accessKeyId: 'ASIAWARMUP', secretAccessKey: 'warm-up', expiration: new Date(Date.now()) };
        return get();
      };
      const fake = fakes[Number(t.account) - 100000000000]!;
      return capability === 'scaling'
        ? { scaling: scalingChildDeps(hub, t, fake, credentials, hubDb), fake }
        : { backup: childDeps(hub, t, fake, credentials, hubDb) };
    });
    await warmUp(
      clock,
      deps.flatMap(({ backup, scaling, fake }) =>
        backup
          ? [() => backup.primary.quotas(), () => backup.stores[0]!.list(['elasticache'])]
          : [
              () => scaling!.resources.describe('rds-instance', instanceIds(spec.databases)[0] ?? 'none'),
              ...seedAlarmStates(scaling!, fake!, spec.databases),
            ],
      ),
      { tries: 2000, pauseMs: 2 },
    );
    for (const f of fakes) f.calls.length = 0;
    assumed.n = 0;

    // The Map Run: children in target order, `maxConcurrency` at once.
    const children: TargetCalls[] = [];
    const started = clock.now;
    let ended = started;
    let next = 0;
    const slot = async (c: (typeof containers)[number]) => {
      while (next < targets.length) {
        const i = next++;
        const t = targets[i]!;
        const owner = { child: i };
        const t0 = clock.now;
        const result = await clock.within(owner, async () => {
          await clock.sleep(CHILD_OVERHEAD.startMs + (c.warm ? 0 : CHILD_OVERHEAD.coldStartMs));
          c.warm = true;
          const role = { account: t.account, region: t.region, roleArn: targetRoleArn(hub, t, capability) };
          // The fault: no session cache, and credentials the SDK takes as expired: AssumeRole per request.
          const provider: Credentials =
            spec.fault === 'no-session-cache'
              ? async () => ({
                  ...(await targetCredentials(c.sts, { sessionName: 'uncached' }).forTarget(role)()),
                  expiration: new Date(Date.now()),
                })
              : c.sessions.forTarget(role);
          // The hub's own account-region signs with the function's own role: no AssumeRole.
          live.set(
            i,
            t.account === hub.account
              ? async () => ({ accessKeyId: 'ASIAHUB', secretAccessKey: 'hub' })
              : provider,
          );
          try {
            const { backup, scaling } = deps[i]!;
            if (scaling) {
              const r = await runScaling(
                parseScalingRequest(
                  { action: 'scale-in-check', scheduledTime: new Date(START).toISOString() },
                  scaling.config.scaling,
                  scaling.now(),
                ),
                scaling,
              );
              // The fault: the child's check runs again (as a child retried after it had acted would).
              if (spec.fault === 'twice')
                await runScaling(
                  parseScalingRequest({ action: 'scale-in-check' }, scaling.config.scaling, scaling.now()),
                  scaling,
                );
              const failed = r.decisions.filter((d) => d.status === 'failed');
              if (failed.length) throw new Error(`${failed.length} decisions failed: ${failed[0]!.error}`);
              const done = r.decisions.filter((d) => d.status === 'done').length;
              if (done !== SCALE_IN_ESTATE.stepping)
                throw new Error(`${done} instances stepped back, ${SCALE_IN_ESTATE.stepping} expected`);
              // The check at rest: 15 minutes on, what every check finds until an alarm changes.
              if (spec.rest) {
                await clock.sleep(15 * MINUTE);
                const again = await clock.within({ rest: i }, () =>
                  runScaling(
                    parseScalingRequest({ action: 'scale-in-check' }, scaling.config.scaling, scaling.now()),
                    scaling,
                  ),
                );
                if (again.decisions.some((d) => d.status !== 'skipped'))
                  throw new Error('the check 15 minutes later acted or failed: it is not at rest');
              }
            } else if (capability === 'backup')
              await runBackup(
                parseBackupRequest(
                  {
                    action: 'scheduled-backup',
                    policy: 'daily',
                    scheduledTime: new Date(START).toISOString(),
                  },
                  hub.backup,
                ),
                backup!,
              );
            else await runRetention(backup!, { scheduledTime: new Date(START).toISOString() });
            return { ok: true as const };
          } catch (e) {
            return { ok: false as const, error: (e as Error).message };
          }
        });
        ended = Math.max(ended, clock.now);
        // The target's account, and the hub's (the deletion budget in its table).
        const own = fakes[Number(t.account) - 100000000000]!;
        const mine = [...new Set([own, fakes[0]!])].flatMap((f) => f.calls.filter((r) => r.owner === owner));
        const byOp: Record<string, number> = {};
        for (const r of mine) byOp[r.op] = (byOp[r.op] ?? 0) + 1;
        children[i] = {
          account: t.account,
          region: t.region,
          calls: mine.length,
          throttled: mine.filter((r) => r.throttled).length,
          byOp,
          ms: clock.now - t0,
          ...result,
        };
      }
    };
    const lanes = spec.fault === 'serial' ? [containers[0]!] : containers;
    const done = Promise.all(lanes.map(slot));
    let finished = false;
    void done.finally(() => (finished = true));
    while (!finished) {
      await clock.run(clock.now + 60_000);
      if (clock.pending() === 0 && !finished) await new Promise((resolve) => realSetTimeout(resolve, 1));
    }
    await done;
    const wallMs = ended - started;
    const namesOf = (key: 'child' | 'rest') =>
      children.map((_, i) => {
        for (const [owner, set] of names)
          if ((owner as Record<string, number> | undefined)?.[key] === i) return set.size;
        return 0;
      });
    const perChild = namesOf('child');
    const used = process.cpuUsage(cpu);
    return {
      capability,
      targets: targets.length,
      maxConcurrency: spec.maxConcurrency,
      wallMs,
      children,
      assumeRoleCalls: assumed.n,
      metricNamesPerChild: perChild,
      metricNames: all.size,
      ...(spec.rest ? { restNamesPerChild: namesOf('rest') } : {}),
      cpuSeconds: (used.user + used.system) / 1e6,
    };
  } finally {
    clock.uninstall();
    metrics.addMetric = addMetric;
    metrics.setScope(undefined);
    restoreAws();
  }
};
