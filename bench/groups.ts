// The bench's groups by name, in the order a full run takes them. A module of its own so `steward bench <group>`
// checks a name (and the help lists them) without loading the benches themselves (tens of seconds of imports).

export const BENCH_GROUPS = [
  'bundles',
  'retention',
  'properties',
  'drill',
  'redis-drill',
  'redis-verify',
  'warmup',
  'cost',
  'dr-copies',
  'redis-dr',
  'estate',
  'fixed-cost',
  'fleet',
  'ebs',
] as const;

export type BenchGroup = (typeof BENCH_GROUPS)[number];
