import { ConfigError } from '../errors.js';
import type { RestoreShape } from './cost.js';

/**
 * Memory of the ElastiCache node types a Redis drill picks from, in GiB (the "Memory" column of
 * aws.amazon.com/elasticache/pricing, on-demand node types, transcribed November 2026). Ordered
 * smallest first within the ladder below.
 */
export const CACHE_NODE_MEMORY_GIB: Readonly<Record<string, number>> = {
  'cache.t4g.micro': 0.5,
  'cache.t4g.small': 1.37,
  'cache.t4g.medium': 3.09,
  'cache.r7g.large': 13.07,
  'cache.r7g.xlarge': 26.32,
  'cache.r7g.2xlarge': 52.82,
  'cache.r7g.4xlarge': 105.81,
  'cache.r7g.8xlarge': 209.55,
  'cache.r7g.12xlarge': 317.77,
  'cache.r7g.16xlarge': 419.09,
};

/** The ladder `nodeType: smallest` climbs: Graviton burstable, then memory-optimized (current generation). */
export const NODE_LADDER = Object.keys(CACHE_NODE_MEMORY_GIB);

/**
 * ElastiCache keeps 25 % of a node's memory for non-data use by default (`reserved-memory-percent`,
 * ElastiCache User Guide, "Managing reserved memory"), and a restore needs room above the data itself
 * (fragmentation, client buffers): 10 % on top.
 */
export const RESERVED_MEMORY_SHARE = 0.25;
export const HEADROOM = 1.1;

const UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

/**
 * `NodeSnapshot.CacheSize` ("the size of the cache on the source cache node", e.g. `10 MB`) in bytes;
 * undefined when absent or in a form not recognised.
 */
export const parseCacheSize = (size: string | undefined): number | undefined => {
  const m = size === undefined ? null : /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?B)\s*$/i.exec(size);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!);
};

/** What a Redis drill knows of the snapshot it restores. */
export interface CacheSnapshotFacts {
  /** The source's node type when the snapshot was taken. */
  sourceNodeType?: string;
  /** Bytes of the largest shard (node group), from the snapshot's node snapshots; undefined when unknown. */
  largestShardBytes?: number;
  /** Node groups (shards): 1 with cluster mode disabled. */
  shards: number;
}

/** Usable data bytes of a node type under the default reserved memory. */
export const usableBytes = (nodeType: string): number | undefined => {
  const gib = CACHE_NODE_MEMORY_GIB[nodeType];
  return gib === undefined ? undefined : gib * 2 ** 30 * (1 - RESERVED_MEMORY_SHARE);
};

/**
 * The node type a Redis drill restores onto. A configured type wins. `smallest`: the first type of the
 * ladder whose usable memory holds the largest shard with 10 % to spare. The source's own type when the
 * shard size is unknown, when nothing on the ladder holds it, or when the source uses data tiering
 * (`r6gd`: its snapshots restore only onto data-tiering nodes). Neither known: ConfigError naming `field`.
 * Pure; the report says which rule chose.
 */
export const cacheRestoreShape = (
  configured: 'smallest' | string,
  facts: CacheSnapshotFacts,
  field = 'nodeType',
): RestoreShape => {
  const base = {
    kind: 'redis' as const,
    instances: facts.shards,
    ...(facts.sourceNodeType ? { sourceInstanceClass: facts.sourceNodeType } : {}),
  };
  if (configured !== 'smallest') return { ...base, instanceClass: configured, instanceClassFrom: 'config' };
  const source = facts.sourceNodeType;
  const tiered = source !== undefined && /^cache\.[a-z0-9]+d\./.test(source);
  const need = facts.largestShardBytes === undefined ? undefined : facts.largestShardBytes * HEADROOM;
  const fit =
    tiered || need === undefined ? undefined : NODE_LADDER.find((t) => (usableBytes(t) ?? 0) >= need);
  if (fit) return { ...base, instanceClass: fit, instanceClassFrom: 'fit' };
  if (source) return { ...base, instanceClass: source, instanceClassFrom: 'source' };
  // Neither a size nor a source type: guessing could restore onto a node too small (the restore fails) or
  // far too large (billed by the hour): ask.
  throw new ConfigError('Cannot choose the node type of a Redis drill', [
    `${field}: the snapshot states neither its size nor its node type; set a node type such as cache.r7g.large`,
  ]);
};
