import { table } from '../shared/table.js';
import { benchColdStarts } from './cold-start.js';
import { benchCost } from './cost.js';
import { benchDrCopies } from './dr-copies.js';
import { benchDrill } from './drill.js';
import { benchEbs } from './ebs.js';
import { benchEstate } from './estate.js';
import { benchFixedCost } from './fixed-cost.js';
import { benchFleet } from './fleet.js';
import { benchGfsProperties } from './properties.js';
import { benchRedisDr } from './redis-dr.js';
import { benchRedisDrill } from './redis-drill.js';
import { benchRedisVerify } from './redis-verify.js';
import { benchRetention } from './retention.js';
import { benchWarmupChunks } from './warmup.js';
import type { BenchRow } from './stats.js';
import { BENCH_GROUPS, type BenchGroup } from './groups.js';

/** `npm run bench`: every figure is a ratio measured side by side in this one run. */
export const bench = async (
  only: string[],
  flags: { json: boolean },
  out: (s: string) => void,
): Promise<number> => {
  const quick = process.env.BENCH_QUICK === '1';
  // `npm run bench -- estate retention`: only the named groups. Every group of bench/groups.ts and no other
  // (`satisfies`): `steward bench <group>` checks names against that list before loading this module.
  const byName = {
    // Every function the CDK app ships, bundled by CDK, cold-started on the Lambda runtime's Node.js major.
    bundles: () => benchColdStarts(quick ? 5 : 21, process.env.BENCH_FUNCTIONS?.split(',')),
    retention: () => benchRetention(10_000, quick ? 5 : 31),
    properties: () => benchGfsProperties(quick ? 10_000 : 100_000),
    // 1, 10 and 100 × the sandbox's default size (100 × is about 1 GB of data, 5 000 000 transactions). Each
    // process runs two drills; the rows judge the second (the first pays the process's one-time costs).
    drill: () => benchDrill(quick ? [5_000] : [50_000, 500_000, 5_000_000], quick ? [1] : [3, 3, 1]),
    // The Redis sandbox drill (the synthesized definition) at 1 and 10 × its default size: overhead share of RTO.
    // The 20 000-session drill's local restore takes tens of ms, so its 5 % is a few ms: a median of 5 (3 quick).
    'redis-drill': () => benchRedisDrill(quick ? [20_000] : [20_000, 200_000], quick ? [3] : [5, 3]),
    // Redis verification at 1 M and 10 M keys (10 M small keys is about 1 GB in redis-server).
    'redis-verify': () =>
      benchRedisVerify(quick ? [100_000, 1_000_000] : [1_000_000, 10_000_000], quick ? 1 : 9),
    warmup: () => benchWarmupChunks(quick ? 20_000 : 1_000_000, 200, quick ? 1 : 3),
    cost: () => benchCost(quick ? 3 : 15),
    // DR copy reconcile per RDS event at 100 and 500 databases: the event's database, not the estate.
    'dr-copies': () => benchDrCopies([100, 500]),
    // Redis DR requests per ElastiCache "Snapshot Created" event and per hourly run at 100 and 500 caches.
    'redis-dr': () => benchRedisDr([100, 500]),
    // 500 databases over 60 simulated days on the fake AWS (about 6-9 s of CPU a simulated day); each
    // simulation stops at its CPU budget.
    estate: () => benchEstate(quick ? 5 : 60, quick ? 60 : 900, quick ? 60 : 90),
    // Fixed monthly cost of the prod example and the defaults, from the synthesized template and real runs.
    'fixed-cost': () => benchFixedCost(quick ? [100] : [10, 100, 500]),
    // One scheduled backup and retention cycle over 100 accounts x 3 regions x 20 databases (simulated
    // clock), and the fan-out's Step Functions transitions from the synthesized hub.
    fleet: () => benchFleet(quick ? 10 : 100),
    // EBS: EC2 requests per backed-up instance (300 instances, 30 lone volumes), and retention over 10 000
    // EBS snapshots in sets of two volumes.
    ebs: async () => benchEbs(quick ? 30 : 300, quick ? 1_000 : 10_000),
  } satisfies Record<BenchGroup, () => Promise<BenchRow[]>>;
  const groups = BENCH_GROUPS.map((g) => [g, byName[g]] as const);
  const unknown = only.filter((name) => !groups.some(([g]) => g === name));
  if (unknown.length) {
    out(`unknown bench ${unknown.join(', ')}: one of ${groups.map(([g]) => g).join(', ')}`);
    return 2;
  }
  const rows: BenchRow[] = [];
  for (const [name, run] of groups) if (!only.length || only.includes(name)) rows.push(...(await run()));
  if (flags.json) {
    out(JSON.stringify(rows, null, 2));
  } else {
    out(
      table(
        ['BENCH', 'METRIC', 'STEWARD', 'BASELINE', 'RATIO', 'TARGET', 'OK'],
        rows.map((r) => [
          r.bench,
          r.metric,
          r.value,
          r.baseline,
          r.ratio?.toFixed(2),
          r.target,
          r.ok ? 'yes' : 'NO',
        ]),
      ),
    );
  }
  return 0;
};
