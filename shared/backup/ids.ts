import { createHash } from 'node:crypto';
import type { Snapshot } from '../model.js';

/** Why a snapshot was taken: the daily schedule or an ad-hoc (pre-change) request. */
export type SnapshotKind = 'sched' | 'adhoc';

/** Every snapshot id steward creates starts with this (letter first, as RDS requires). */
export const ID_PREFIX = 'steward-';

/**
 * Whether a snapshot's id can be steward's: every RDS, Aurora and ElastiCache snapshot steward takes or copies
 * is named ID_PREFIX…, and its roles may copy or delete no other. One named otherwise that carries steward's tags
 * is a copy someone made with the tags copied (the console's "Copy tags"): theirs. EBS snapshot ids are AWS's,
 * so for EBS only the tags tell.
 */
export const namedBySteward = (s: Pick<Snapshot, 'kind' | 'id'>): boolean =>
  s.kind === 'ebs' || s.id.startsWith(ID_PREFIX);

// RDS cluster snapshot ids allow 1–63 characters (DB snapshot ids 255, ElastiCache names are looser).
// One limit for every kind keeps an id valid wherever it is used, including its DR copy.
/** Longest id steward creates: the DB cluster snapshot limit. */
export const SNAPSHOT_ID_MAX = 63;

const HASH_LEN = 7;
const VALID = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$/;

/** True when `id` satisfies the RDS snapshot identifier rules steward relies on. */
export const isValidSnapshotId = (id: string): boolean => id.length <= SNAPSHOT_ID_MAX && VALID.test(id);

/** `yyyymmddhhmm` in UTC. */
export const utcStamp = (time: Date): string => {
  if (Number.isNaN(time.getTime())) throw new RangeError('snapshot time is not a valid date');
  return time.toISOString().slice(0, 16).replace(/[-T:]/g, '');
};

// FNV-1a, 32 bit: a short, stable fingerprint that keeps truncated ids of different databases apart.
/** A short, stable FNV-1a fingerprint of `s` (7 base-36 characters). */
export const fingerprint = (s: string): string => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36).padStart(HASH_LEN, '0');
};

/** Lowercase letters, digits and single hyphens; never empty. */
const sanitize = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '') || 'db';

/** The database part of an id: sanitized, and cut with a fingerprint of the full id when it does not fit. */
const dbPart = (dbId: string, suffix: string): string => {
  const room = SNAPSHOT_ID_MAX - ID_PREFIX.length - suffix.length;
  let db = sanitize(dbId);
  if (db.length > room) {
    const head = db.slice(0, room - HASH_LEN - 1).replace(/-+$/, '');
    db = `${head}-${fingerprint(dbId.toLowerCase())}`;
  }
  return db;
};

/**
 * Deterministic snapshot id `steward-<db>-<yyyymmddhhmm>-<kind>` (UTC), so a repeated event is a no-op.
 * The database part is sanitized to RDS identifier rules; when it does not fit in 63 characters it is
 * cut and suffixed with a fingerprint of the full database id.
 */
export const snapshotId = (dbId: string, time: Date, kind: SnapshotKind): string => {
  const suffix = `-${utcStamp(time)}-${kind}`;
  return `${ID_PREFIX}${dbPart(dbId, suffix)}${suffix}`;
};

/**
 * Ad-hoc snapshot id from the request's identity instead of the clock: `steward-<db>-<10 chars>-adhoc`,
 * the 10 characters a digest of `key` (a client token, or the Lambda request id, which Lambda's async
 * retries keep). A retry a minute later names the same snapshot, and RDS answers "already exists".
 */
export const adhocSnapshotId = (dbId: string, key: string): string => {
  const digest = createHash('sha256').update(key).digest();
  // 10 base-36 characters from 64 bits of the digest; a leading letter is not needed mid-id.
  const suffix = `-${digest.readBigUInt64BE().toString(36).padStart(13, '0').slice(-10)}-adhoc`;
  return `${ID_PREFIX}${dbPart(dbId, suffix)}${suffix}`;
};

// `-<yyyymmddhhmm>-<kind>`: the same length for every kind, so the head of an id depends on the database only.
const SUFFIX_LENGTH = '-000000000000-sched'.length;

/** `steward-<db>-`: how every snapshot id steward creates for `dbId` begins (truncation included). */
export const snapshotIdHead = (dbId: string): string => {
  const id = snapshotId(dbId, new Date(0), 'sched');
  return id.slice(0, id.length - SUFFIX_LENGTH + 1);
};

const DIRECTIONS: Readonly<Record<string, string>> = {
  north: 'n',
  south: 's',
  east: 'e',
  west: 'w',
  central: 'c',
  northeast: 'ne',
  northwest: 'nw',
  southeast: 'se',
  southwest: 'sw',
};

/**
 * A short, distinct code for a region: `us-east-1` → `use1`, `ap-southeast-2` → `apse2`, `eu-central-1` →
 * `euc1` (directions abbreviated, any other word kept whole, so two regions never share a code).
 */
export const regionCode = (region: string): string =>
  sanitize(region)
    .split('-')
    .map((w) => DIRECTIONS[w] ?? w)
    .join('');

/**
 * The id of a snapshot's DR copy: the source id with its source region's code before the stamp
 * (`steward-orders-202612010300-sched` from us-east-1 → `steward-orders-use1-202612010300-sched`), so the
 * same database id in two source regions of one account gets two copies in the DR region, not one refused
 * (or taken for the other's). The stamp stays last (`dataTime` reads it); an id that would pass 63
 * characters is cut with a fingerprint of the source id and region. Copies made before this carry the
 * source id itself: they are recognised by their `steward:copied-from` ARN.
 */
export const drCopyId = (sourceId: string, sourceRegion: string): string => {
  const code = regionCode(sourceRegion);
  const m = /^(.*?)(-[a-z0-9]+-(?:sched|adhoc))$/.exec(sourceId);
  const [head, tail] = m ? [m[1]!, m[2]!] : [sourceId, ''];
  const id = `${head}-${code}${tail}`;
  if (id.length <= SNAPSHOT_ID_MAX) return id;
  const room = SNAPSHOT_ID_MAX - tail.length - code.length - HASH_LEN - 2;
  const cut = head.slice(0, room).replace(/-+$/, '');
  return `${cut}-${fingerprint(`${sourceId}@${sourceRegion}`)}-${code}${tail}`;
};
