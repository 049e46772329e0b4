import { snapshotIdHead } from '../backup/ids.js';
import type { DrillTarget } from './state.js';

/** Every resource a drill restores has an id starting with this; the RDS event rule filters on it. */
export const DRILL_PREFIX = 'steward-drill-';

/**
 * Suffix of the writer instance a drill adds to a restored Aurora cluster. Not a hex digit, so an
 * instance id can be told from a cluster id (which ends in the 8-hex drill hash).
 */
export const AURORA_WRITER_SUFFIX = '-w';
/** Readers of a drill's Aurora cluster (`restore.instances` > 1) end in `-r<n>`, n from 1 to 15. */
const AURORA_READER = /-r(\d{1,2})$/;
const LONGEST_MEMBER_SUFFIX = '-r15'.length;

// RDS identifiers: 1–63 letters, digits, hyphens; letter first; no `--`; no trailing hyphen.
const RDS_ID_MAX = 63;
const HASH_LEN = 8;

/** FNV-1a (32 bit) of a string's UTF-8 bytes: a stable, dependency-free hash for ids and seeds. */
export const fnv1a = (text: string): number => {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
};

/** 8 hex digits of FNV-1a. */
export const shortHash = (text: string): string => fnv1a(text).toString(16).padStart(HASH_LEN, '0');

/**
 * The restored copy's id: `steward-drill-<db>-<hash of drillId>`. Deterministic, so a retried restore
 * finds its own resource; short enough (≤ 59) that the Aurora member ids (`-w`, `-r15`) still fit in 63.
 */
export const drillTargetId = (
  database: string,
  drillId: string,
  max = RDS_ID_MAX - LONGEST_MEMBER_SUFFIX,
): string => {
  const room = max - DRILL_PREFIX.length - HASH_LEN - 1;
  const db = database
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .slice(0, room)
    .replace(/^-+|-+$/g, '');
  return `${DRILL_PREFIX}${db ? `${db}-` : ''}${shortHash(drillId)}`;
};

// CreateReplicationGroup API reference: ReplicationGroupId is 1-40 characters (its nodes add -0001-001 within
// the cluster id's 50).
const CACHE_ID_MAX = 40;

/**
 * A Redis drill's replication group id: `steward-drill-<group>-<hash of drillId>` in ElastiCache's 40
 * characters (the group part cut to 17), deterministic like `drillTargetId`.
 */
export const cacheDrillTargetId = (group: string, drillId: string): string =>
  drillTargetId(group, drillId, CACHE_ID_MAX);

/** The writer instance id of a drill's Aurora cluster. */
export const auroraWriterId = (clusterId: string): string => `${clusterId}${AURORA_WRITER_SUFFIX}`;

/** Reader `n` (1–15) of a drill's Aurora cluster. */
export const auroraReaderId = (clusterId: string, n: number): string => `${clusterId}-r${n}`;

/** Every instance of a drill's Aurora cluster of `instances` instances: the writer, then the readers. */
export const auroraMemberIds = (clusterId: string, instances: number): string[] => [
  auroraWriterId(clusterId),
  ...Array.from({ length: Math.max(0, instances - 1) }, (_, i) => auroraReaderId(clusterId, i + 1)),
];

/** Where a drill resource named in an RDS event belongs: the drill target it is (part of), or none. */
export const drillTargetOf = (
  sourceIdentifier: string,
  sourceType: string | undefined,
): Pick<DrillTarget, 'kind' | 'id' | 'instanceId'> | undefined => {
  // The RDS User Guide's DB instance and cluster event examples name the database `rds:<id>`.
  const id = sourceIdentifier.toLowerCase().replace(/^rds:/, '');
  if (!id.startsWith(DRILL_PREFIX)) return undefined;
  if (sourceType === 'CLUSTER') return { kind: 'aurora-cluster', id, instanceId: auroraWriterId(id) };
  if (id.endsWith(AURORA_WRITER_SUFFIX)) {
    const cluster = id.slice(0, -AURORA_WRITER_SUFFIX.length);
    return { kind: 'aurora-cluster', id: cluster, instanceId: id };
  }
  const reader = AURORA_READER.exec(id);
  if (reader) {
    const cluster = id.slice(0, -reader[0].length);
    return { kind: 'aurora-cluster', id: cluster, instanceId: auroraWriterId(cluster) };
  }
  return { kind: 'rds-instance', id };
};

// Tag values allow letters, digits, spaces and `_ . : / = + - @`; execution names are stricter already.
const TAG_VALUE = /[^A-Za-z0-9_.:/=+@-]/g;

/** A drill id safe as a tag value and S3 key segment: the execution name, cleaned and capped. */
export const sanitiseDrillId = (name: string): string => name.replace(TAG_VALUE, '-').slice(0, 128);

/**
 * Snapshot ids a drill of `database` may restore, as IAM resource-name patterns (`?` one character,
 * `*` any): steward's own scheduled and pre-change snapshots, and RDS's automated ones. The drill role is
 * granted exactly these (plus a configured `{ id }`), and selection picks only among them.
 */
export const restorableSnapshotPatterns = (database: string): string[] => {
  const head = snapshotIdHead(database);
  const stamp = '????????????';
  return [`${head}${stamp}-sched`, `${head}${stamp}-adhoc`, `rds:${database.toLowerCase()}-????-??-??-??-??`];
};

/**
 * Snapshot names a Redis drill of replication group `group` may restore, as IAM resource-name patterns:
 * steward's own and ElastiCache's automatic backups (`automatic.<group>-<yyyy-mm-dd-hh-mm>`).
 */
export const cacheRestorableSnapshotPatterns = (group: string): string[] => {
  const head = snapshotIdHead(group);
  const stamp = '????????????';
  return [
    `${head}${stamp}-sched`,
    `${head}${stamp}-adhoc`,
    `automatic.${group.toLowerCase()}-????-??-??-??-??`,
  ];
};

/** True when `id` matches an IAM resource-name pattern (`?` one character, `*` any run). */
export const matchesNamePattern = (id: string, pattern: string): boolean =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '?' ? '.' : c === '*' ? '.*' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  ).test(id);
