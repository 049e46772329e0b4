import { createHash } from 'node:crypto';
import type { ResourceKind } from '../config/schema.js';
import type { Direction } from './model.js';

// RDS identifiers: 1–63 letters, digits and hyphens, no "--", no trailing hyphen.
const MAX_ID = 63;

/** Every scaling key in the shared state table starts with this; IAM confines the scaling role to it. */
export const SCALING_KEY_PREFIX = 'scaling-';

/** An account-region of a fleet whose scaling memory is kept apart from every other's. */
export interface KeyPlace {
  account: string;
  region: string;
}

/**
 * One key of a spoke account-region: `scaling-seen#orders-cpu#…` becomes
 * `scaling-222222222222/eu-central-1#seen#orders-cpu#…`, so two accounts' alarms of one name (and their
 * resources of one id) never share a seen event, a cooldown, an alarm state or an approval. The hub's own
 * account-region keeps its keys unplaced (a single-account stage's cooldowns survive an upgrade). Still
 * under SCALING_KEY_PREFIX: the scaling role's table grant covers it.
 */
export const placedKey = (key: string, place: KeyPlace | undefined): string =>
  place && key.startsWith(SCALING_KEY_PREFIX)
    ? `${SCALING_KEY_PREFIX}${place.account}/${place.region}#${key.slice(SCALING_KEY_PREFIX.length)}`
    : key;

/** `rds-instance:orders-db`: one resource across kinds (an instance and a cluster may share a name). */
export const resourceKey = (kind: ResourceKind, id: string): string => `${kind}:${id}`;

/** Idempotency key of one alarm transition: alarm name + state timestamp (DESIGN.md). */
export const seenKey = (alarmName: string, at: Date, direction: Direction = 'out'): string =>
  `${SCALING_KEY_PREFIX}seen#${alarmName}#${at.toISOString()}${direction === 'in' ? '#scale-in' : ''}`;

/** Last acted-on transition and cooldown of one resource. */
export const cooldownKey = (kind: ResourceKind, id: string): string =>
  `${SCALING_KEY_PREFIX}cooldown#${resourceKey(kind, id)}`;

/** A dry run's plan on a resource and its would-be cooldown, apart from the live cooldown (never read by it). */
export const plannedKey = (kind: ResourceKind, id: string): string =>
  `${SCALING_KEY_PREFIX}planned#${resourceKey(kind, id)}`;

/** The latest state steward saw for an alarm (scale-in waits for a sustained OK). */
export const alarmStateKey = (alarmName: string): string => `${SCALING_KEY_PREFIX}alarm#${alarmName}`;

/**
 * The approvals a rule has asked for (a set of ids), so a reader finds the pending ones by key, without a
 * Scan of the shared table. Executed and expired ids stay until the item expires; readers check each one.
 */
export const pendingApprovalsKey = (rule: string): string => `${SCALING_KEY_PREFIX}pending#${rule}`;

/** A planned change waiting for approval. */
export const approvalKey = (id: string): string => `${SCALING_KEY_PREFIX}approval#${id}`;

/** Short, typeable, deterministic: the same transition always asks for the same approval. */
export const approvalId = (rule: string, alarmName: string, at: Date, direction: Direction): string =>
  createHash('sha256')
    .update(`${rule}\n${alarmName}\n${at.toISOString()}\n${direction}`)
    .digest('hex')
    .slice(0, 12);

const base = (source: string, suffix: string): string =>
  source
    .slice(0, MAX_ID - suffix.length - 4)
    .replace(/-+$/, '')
    .toLowerCase();

const ours = (source: string, suffix: 'replica' | 'reader') =>
  new RegExp(`^${base(source, suffix)}-${suffix}-(\\d{1,3})$`);

/** Number of a replica steward named for `source`, or undefined when it is not one of ours. */
export const replicaNumber = (
  source: string,
  id: string,
  suffix: 'replica' | 'reader',
): number | undefined => {
  const m = ours(source, suffix).exec(id.toLowerCase());
  return m ? Number(m[1]) : undefined;
};

/**
 * Deterministic name of the next replica (`orders-db-replica-2`) or Aurora reader (`orders-reader-1`):
 * the lowest free number, so a retried request names the same instance and AWS refuses a double.
 */
export const nextReplicaId = (
  source: string,
  existing: readonly string[],
  suffix: 'replica' | 'reader',
): string => {
  const taken = new Set(existing.map((e) => e.toLowerCase()));
  for (let n = 1; ; n++) {
    const id = `${base(source, suffix)}-${suffix}-${n}`;
    if (!taken.has(id)) return id;
  }
};

/** Steward's replica with the highest number (scale-in removes the newest first). */
export const newestOwnReplica = (
  source: string,
  existing: readonly string[],
  suffix: 'replica' | 'reader',
): string | undefined =>
  existing
    .map((id) => ({ id, n: replicaNumber(source, id, suffix) }))
    .filter((r): r is { id: string; n: number } => r.n !== undefined)
    .sort((a, b) => b.n - a.n)[0]?.id;

/** IAM resource-name pattern of the replicas steward names for `source` (`orders-db-replica-*`). */
export const replicaPattern = (source: string, suffix: 'replica' | 'reader'): string =>
  `${base(source, suffix)}-${suffix}-*`;
