/** What a drill restores: an RDS instance, an Aurora cluster or an ElastiCache (Redis OSS / Valkey) replication group. */
export type DrillKind = 'rds-instance' | 'aurora-cluster' | 'redis';

/**
 * List prices steward estimates a drill's cost with: on-demand, Single-AZ, us-east-1, PostgreSQL
 * engines, as published on https://aws.amazon.com/rds/postgresql/pricing/ and
 * https://aws.amazon.com/rds/aurora/pricing/ (transcribed November 2026). Other regions cost
 * typically 0–30 % more: set `drill.prices` for yours. An ESTIMATE: no Cost Explorer call is made,
 * and Aurora I/O, backup storage and data transfer are not included.
 */
export const PRICE_LIST = {
  source: 'AWS list prices, us-east-1 on-demand Single-AZ, PostgreSQL (aws.amazon.com/rds/pricing), Nov 2026',
  hoursPerMonth: 730,
  /** RDS bills instances per second from the moment they are available, with a 10-minute minimum. */
  minimumBilledSeconds: 600,
  instanceUsdPerHour: {
    'rds-instance': {
      'db.t3.micro': 0.018,
      'db.t3.small': 0.036,
      'db.t3.medium': 0.072,
      'db.t3.large': 0.145,
      'db.t3.xlarge': 0.29,
      'db.t3.2xlarge': 0.579,
      'db.t4g.micro': 0.016,
      'db.t4g.small': 0.032,
      'db.t4g.medium': 0.065,
      'db.t4g.large': 0.129,
      'db.t4g.xlarge': 0.258,
      'db.t4g.2xlarge': 0.517,
      'db.m5.large': 0.178,
      'db.m5.xlarge': 0.356,
      'db.m5.2xlarge': 0.712,
      'db.m5.4xlarge': 1.424,
      'db.m5.8xlarge': 2.848,
      'db.m5.12xlarge': 4.272,
      'db.m5.16xlarge': 5.696,
      'db.m5.24xlarge': 8.544,
      'db.m6g.large': 0.159,
      'db.m6g.xlarge': 0.318,
      'db.m6g.2xlarge': 0.636,
      'db.m6g.4xlarge': 1.272,
      'db.m6g.8xlarge': 2.544,
      'db.m6g.12xlarge': 3.816,
      'db.m6g.16xlarge': 5.088,
      'db.m6i.large': 0.178,
      'db.m6i.xlarge': 0.356,
      'db.m6i.2xlarge': 0.712,
      'db.m6i.4xlarge': 1.424,
      'db.m6i.8xlarge': 2.848,
      'db.m6i.12xlarge': 4.272,
      'db.m6i.16xlarge': 5.696,
      'db.m7g.large': 0.168,
      'db.m7g.xlarge': 0.336,
      'db.m7g.2xlarge': 0.672,
      'db.m7g.4xlarge': 1.344,
      'db.m7g.8xlarge': 2.688,
      'db.m7g.12xlarge': 4.032,
      'db.m7g.16xlarge': 5.376,
      'db.r5.large': 0.25,
      'db.r5.xlarge': 0.5,
      'db.r5.2xlarge': 1.0,
      'db.r5.4xlarge': 2.0,
      'db.r5.8xlarge': 4.0,
      'db.r5.12xlarge': 6.0,
      'db.r5.16xlarge': 8.0,
      'db.r5.24xlarge': 12.0,
      'db.r6g.large': 0.225,
      'db.r6g.xlarge': 0.45,
      'db.r6g.2xlarge': 0.899,
      'db.r6g.4xlarge': 1.798,
      'db.r6g.8xlarge': 3.597,
      'db.r6g.12xlarge': 5.395,
      'db.r6g.16xlarge': 7.194,
      'db.r6i.large': 0.25,
      'db.r6i.xlarge': 0.5,
      'db.r6i.2xlarge': 1.0,
      'db.r6i.4xlarge': 2.0,
      'db.r6i.8xlarge': 4.0,
      'db.r6i.12xlarge': 6.0,
      'db.r6i.16xlarge': 8.0,
      'db.r6i.24xlarge': 12.0,
      'db.r7g.large': 0.239,
      'db.r7g.xlarge': 0.478,
      'db.r7g.2xlarge': 0.956,
      'db.r7g.4xlarge': 1.913,
      'db.r7g.8xlarge': 3.826,
      'db.r7g.12xlarge': 5.738,
      'db.r7g.16xlarge': 7.651,
    },
    'aurora-cluster': {
      'db.t3.medium': 0.082,
      'db.t4g.medium': 0.073,
      'db.t4g.large': 0.146,
      'db.r5.large': 0.29,
      'db.r5.xlarge': 0.58,
      'db.r5.2xlarge': 1.16,
      'db.r5.4xlarge': 2.32,
      'db.r5.8xlarge': 4.64,
      'db.r5.12xlarge': 6.96,
      'db.r5.16xlarge': 9.28,
      'db.r5.24xlarge': 13.92,
      'db.r6g.large': 0.26,
      'db.r6g.xlarge': 0.519,
      'db.r6g.2xlarge': 1.038,
      'db.r6g.4xlarge': 2.076,
      'db.r6g.8xlarge': 4.152,
      'db.r6g.12xlarge': 6.228,
      'db.r6g.16xlarge': 8.304,
      'db.r6i.large': 0.29,
      'db.r6i.xlarge': 0.58,
      'db.r6i.2xlarge': 1.16,
      'db.r6i.4xlarge': 2.32,
      'db.r6i.8xlarge': 4.64,
      'db.r6i.12xlarge': 6.96,
      'db.r6i.16xlarge': 9.28,
      'db.r6i.24xlarge': 13.92,
      'db.r7g.large': 0.276,
      'db.r7g.xlarge': 0.552,
      'db.r7g.2xlarge': 1.104,
      'db.r7g.4xlarge': 2.208,
      'db.r7g.8xlarge': 4.416,
      'db.r7g.12xlarge': 6.624,
      'db.r7g.16xlarge': 8.832,
    },
    // ElastiCache (Valkey / Redis OSS) on-demand nodes, us-east-1 (aws.amazon.com/elasticache/pricing,
    // Redis OSS prices; Valkey's are lower). The estimate bills them like RDS instances (per second, at
    // least 10 minutes), which may understate short drills if ElastiCache bills whole node-hours.
    redis: {
      'cache.t4g.micro': 0.016,
      'cache.t4g.small': 0.032,
      'cache.t4g.medium': 0.065,
      'cache.r7g.large': 0.219,
      'cache.r7g.xlarge': 0.437,
      'cache.r7g.2xlarge': 0.873,
      'cache.r7g.4xlarge': 1.747,
      'cache.r7g.8xlarge': 3.493,
      'cache.r7g.12xlarge': 5.24,
      'cache.r7g.16xlarge': 6.986,
    },
  } as Record<DrillKind, Record<string, number>>,
  /** Aurora I/O-Optimized instances cost this much more than standard ones. */
  auroraIoOptimizedFactor: 1.3,
  storageUsdPerGbMonth: {
    gp2: 0.115,
    gp3: 0.115,
    io1: 0.125,
    io2: 0.125,
    standard: 0.1,
    aurora: 0.1,
    'aurora-iopt1': 0.225,
  } as Record<string, number>,
  /** io1/io2: every provisioned IOPS. gp3: IOPS above the included baseline. */
  iopsUsdPerMonth: { io1: 0.1, io2: 0.1, gp3: 0.02 } as Record<string, number>,
  /** gp3 throughput above the included baseline, per MiB/s-month. */
  gp3ThroughputUsdPerMiBpsMonth: 0.08,
  /** RDS gp3 includes 3000 IOPS / 125 MiB/s below 400 GB and 12000 IOPS / 500 MiB/s from 400 GB. */
  gp3Baseline: (gb: number) => (gb >= 400 ? { iops: 12_000, mibps: 500 } : { iops: 3000, mibps: 125 }),
} as const;

/** `state.error.Error` of a drill stopped by its cost ceiling (an inconclusive drill, not a failed one). */
export const COST_CEILING = 'CostCeilingReached';

/** Per-stage price overrides (`drill.prices`). */
export interface PriceOverrides {
  /** $/hour per instance class: replaces (or adds to) the list price for every kind. */
  instanceUsdPerHour?: Record<string, number>;
  /** Multiplies every list price (not the overrides): a region's uplift over us-east-1. */
  multiplier?: number;
}

/** What a drill restored: the report states it, so its RTO means something. */
export interface RestoreShape {
  kind: DrillKind;
  instanceClass: string;
  /** Why that class: the source's, the configured one, or the fallback when the source is unknown. */
  instanceClassFrom: 'source' | 'config' | 'default' | 'fit';
  /** The source's class, when known (a configured class may be a stated cheaper one). */
  sourceInstanceClass?: string;
  /** Instances: 1 for RDS; writer plus readers for Aurora. */
  instances: number;
  storageType?: string;
  allocatedGb?: number;
  iops?: number;
  storageThroughputMiBps?: number;
}

/** The estimated cost of one drill copy. */
export interface DrillCost {
  /** Billed instance-hours: instances × (available → deleted), each at least 10 minutes. */
  instanceHours: number;
  /** Hours the storage existed (requested → deleted). */
  storageHours: number;
  instanceUsdPerHour?: number;
  /** Undefined when the instance class has no known price (see `notes`). */
  estimatedUsd?: number;
  breakdown: { instanceUsd?: number; storageUsd: number; iopsUsd: number; throughputUsd: number };
  ceilingUsd?: number;
  /** Always true: list prices, not the bill. */
  estimate: true;
  /**
   * Set when the copy was not yet deleted when the cost was recorded (handed over while RDS still created it, or
   * its Cleanup failed): counted to the record, so it cost at least this; its deletion is pending.
   */
  lowerBound?: true;
  priceSource: string;
  notes: string[];
}

/** The instance's $/hour: an override, else the list price (× multiplier); undefined when unknown. */
export const instancePrice = (
  shape: Pick<RestoreShape, 'kind' | 'instanceClass' | 'storageType'>,
  prices: PriceOverrides = {},
): number | undefined => {
  const override = prices.instanceUsdPerHour?.[shape.instanceClass];
  if (override !== undefined) return override;
  const list = PRICE_LIST.instanceUsdPerHour[shape.kind][shape.instanceClass];
  if (list === undefined) return undefined;
  const ioOptimized = shape.storageType === 'aurora-iopt1' ? PRICE_LIST.auroraIoOptimizedFactor : 1;
  return round(list * ioOptimized * (prices.multiplier ?? 1), 4);
};

/** Storage, provisioned IOPS and throughput per hour for the shape (0 where unknown). */
const storagePerHour = (shape: RestoreShape, multiplier: number) => {
  const month = PRICE_LIST.hoursPerMonth;
  const type = shape.storageType ?? (shape.kind === 'aurora-cluster' ? 'aurora' : 'gp3');
  const gb = shape.allocatedGb ?? 0;
  const storage = ((PRICE_LIST.storageUsdPerGbMonth[type] ?? 0) * gb) / month;
  let iops = 0;
  let throughput = 0;
  if (type === 'io1' || type === 'io2')
    iops = ((shape.iops ?? 0) * PRICE_LIST.iopsUsdPerMonth[type]!) / month;
  if (type === 'gp3') {
    const base = PRICE_LIST.gp3Baseline(gb);
    iops = (Math.max(0, (shape.iops ?? 0) - base.iops) * PRICE_LIST.iopsUsdPerMonth.gp3!) / month;
    throughput =
      (Math.max(0, (shape.storageThroughputMiBps ?? 0) - base.mibps) *
        PRICE_LIST.gp3ThroughputUsdPerMiBpsMonth) /
      month;
  }
  return { storage: storage * multiplier, iops: iops * multiplier, throughput: throughput * multiplier };
};

/** `n` to `digits` decimal places, as a number. */
export const round = (n: number, digits: number) => Number(n.toFixed(digits));
const HOUR_MS = 3_600_000;

/** When the copy existed: requested (storage) and available (instances) until deleted (or `until`). */
export interface CostWindow {
  requestedAt: string;
  availableAt?: string;
  /** Deleted, or the moment the estimate is made for a copy still running. */
  until: string;
}

/**
 * Instance-hours and estimated cost of a drill copy. Pure. Instances are billed from availability (at
 * least 10 minutes each, as RDS does), storage from the request.
 */
export const drillCost = (
  shape: RestoreShape,
  window: CostWindow,
  prices: PriceOverrides = {},
  ceilingUsd?: number,
): DrillCost => {
  const until = Date.parse(window.until);
  const requested = Date.parse(window.requestedAt);
  const available = window.availableAt === undefined ? undefined : Date.parse(window.availableAt);
  const billedMs =
    available === undefined
      ? 0
      : Math.max(Math.max(0, until - available), PRICE_LIST.minimumBilledSeconds * 1000);
  const instanceHours = round((shape.instances * billedMs) / HOUR_MS, 4);
  const storageHours = round(Math.max(0, until - requested) / HOUR_MS, 4);
  const rate = instancePrice(shape, prices);
  const per = storagePerHour(shape, prices.multiplier ?? 1);
  const instanceUsd = rate === undefined ? undefined : round(rate * instanceHours, 4);
  const storageUsd = round(per.storage * storageHours, 4);
  const iopsUsd = round(per.iops * storageHours, 4);
  const throughputUsd = round(per.throughput * storageHours, 4);
  const notes = [
    ...(rate === undefined
      ? [`no price for ${shape.instanceClass} (${shape.kind}): set drill.prices.instanceUsdPerHour`]
      : []),
    ...(shape.allocatedGb === undefined ? ['storage size unknown: storage not included'] : []),
    ...(shape.kind === 'aurora-cluster' && shape.storageType !== 'aurora-iopt1'
      ? ['Aurora I/O requests not included']
      : []),
  ];
  return {
    instanceHours,
    storageHours,
    ...(rate === undefined ? {} : { instanceUsdPerHour: rate }),
    ...(instanceUsd === undefined
      ? {}
      : { estimatedUsd: round(instanceUsd + storageUsd + iopsUsd + throughputUsd, 2) }),
    breakdown: { ...(instanceUsd === undefined ? {} : { instanceUsd }), storageUsd, iopsUsd, throughputUsd },
    ...(ceilingUsd === undefined ? {} : { ceilingUsd }),
    estimate: true,
    priceSource:
      prices.instanceUsdPerHour?.[shape.instanceClass] !== undefined
        ? 'drill.prices.instanceUsdPerHour'
        : `${PRICE_LIST.source}${prices.multiplier && prices.multiplier !== 1 ? ` × ${prices.multiplier}` : ''}`,
    notes,
  };
};

/** Time a deletion is assumed to take when projecting cost (RDS keeps billing until the copy is gone). */
export const CLEANUP_ALLOWANCE_SECONDS = 600;

/** A ceiling's verdict on going on until `untilMs`: the projected cost, and whether it stays within. */
export type CeilingVerdict =
  { ok: true; projectedUsd?: number } | { ok: false; projectedUsd?: number; reason: string };

/**
 * Whether a drill may go on until `until` without exceeding `ceilingUsd`, leaving `cleanupSeconds`
 * for the deletion (the copy is billed until it is gone). No ceiling: always. Unknown price with a
 * ceiling: never, since the ceiling could not be kept.
 */
export const withinCeiling = (
  shape: RestoreShape,
  window: Omit<CostWindow, 'until'>,
  until: Date,
  prices: PriceOverrides,
  ceilingUsd: number | undefined,
  cleanupSeconds = CLEANUP_ALLOWANCE_SECONDS,
): CeilingVerdict => {
  if (ceilingUsd === undefined) return { ok: true };
  const end = new Date(until.getTime() + cleanupSeconds * 1000).toISOString();
  // A copy not yet available is projected as available now: its 10-minute minimum counts.
  const cost = drillCost(
    shape,
    { ...window, availableAt: window.availableAt ?? until.toISOString(), until: end },
    prices,
  );
  if (cost.estimatedUsd === undefined) {
    return {
      ok: false,
      reason: `cost ceiling $${ceilingUsd} cannot be kept: ${cost.notes[0] ?? 'no price'}`,
    };
  }
  return cost.estimatedUsd <= ceilingUsd
    ? { ok: true, projectedUsd: cost.estimatedUsd }
    : {
        ok: false,
        projectedUsd: cost.estimatedUsd,
        reason: `going on would cost about $${cost.estimatedUsd.toFixed(2)} (with ${Math.round(cleanupSeconds / 60)} min to delete), over the $${ceilingUsd} ceiling`,
      };
};
