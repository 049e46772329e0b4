import type { RedisDrillTarget, StewardConfig } from '../config/schema.js';
import { ConfigError, EventShapeError } from '../errors.js';
import { logger } from '../observability.js';
import type { BaseDeps } from '../runtime.js';
import { Tag } from '../tags.js';
import { cacheRestoreShape } from './cache-shape.js';
import { cacheDrillTargetId } from './ids.js';
import type { CacheRestoreRequest, CacheSnapshot, TargetRef } from './ports.js';
import { notBefore, SnapshotSelectionError } from './pick.js';
import { selectSource } from './select.js';
import type { DrillState, DrillTaskEvent } from './state.js';
import {
  cacheTargetOf,
  DR_CACHE_RELAY_MS,
  DR_CACHE_VERIFY_SECONDS,
  drCacheNetworkParameter,
  drillsCachesFromDr,
} from './stage-drills.js';
import { type CacheDrillDeps, portFor, withCacheDrills } from './cache-restore.js';

export { type CacheDrillDeps, withCacheDrills };

export {
  cacheTargetOf,
  DR_CACHE_RELAY_MS,
  DR_CACHE_VERIFY_SECONDS,
  drCacheNetworkParameter,
  drillsCachesFromDr,
};

/** The ElastiCache IAM-authenticated user the verifier logs in as (created by the stack, per stage). */
export const cacheVerifierUser = (stage: string): string => `steward-${stage}-drill-verifier`;

const cacheTarget = (config: StewardConfig, name: string): RedisDrillTarget => {
  const t = cacheTargetOf(config, name);
  if (!t) {
    throw new EventShapeError('Unknown drill cache', [
      `database: "${name}" is not in drill.caches of the ${config.stage} config (known: ${Object.keys(config.drill.caches).join(', ') || 'none'})`,
    ]);
  }
  return t;
};

/** The replication group a Redis drill target protects. */
export const cacheGroupOf = (name: string, t: Pick<RedisDrillTarget, 'replicationGroupId'>): string =>
  (t.replicationGroupId ?? name).toLowerCase();

const needCaches = (deps: { caches?: CacheDrillDeps | undefined }, doing: string): CacheDrillDeps => {
  if (!deps.caches) {
    throw new ConfigError(`Cannot ${doing}: this function has no ElastiCache drill wiring`, [
      'drill.caches: Redis drills need the stage deployed with drill.caches configured',
    ]);
  }
  return deps.caches;
};

/** The first state of a Redis drill: its targets from `drill.caches.<name>` (no warm-up: memory is not lazy). */
export const startCache = (
  base: Pick<DrillState, 'drillId' | 'startedAt' | 'input' | 'database'>,
  config: StewardConfig,
): DrillState => {
  const t = cacheTarget(config, base.database);
  return {
    ...base,
    kind: 'redis',
    targets: {
      rtoSeconds: base.input.rtoSeconds ?? t.rtoSeconds ?? config.drill.rtoSeconds,
      rpoSeconds: base.input.rpoSeconds ?? t.rpoSeconds ?? config.drill.rpoSeconds,
    },
  };
};

/**
 * Pick the snapshot: an ElastiCache snapshot of the group (steward's or ElastiCache's automatic ones), or
 * with `from: dr` an RDB copy in the DR bucket. The same rules as a database drill (latest, seeded random
 * within N days, a named one).
 */
export const selectCache = async (
  s: DrillState,
  deps: BaseDeps & { caches?: CacheDrillDeps | undefined },
): Promise<DrillState> => {
  const t = cacheTarget(deps.config, s.database);
  const caches = needCaches(deps, `select a snapshot of ${s.database}`);
  const group = cacheGroupOf(s.database, t);
  const selector = s.input.snapshot ?? t.snapshot;
  if (typeof selector === 'object' && 'pointInTime' in selector) {
    throw new EventShapeError('Invalid drill input', [
      `snapshot: ElastiCache has no point-in-time restore; ${s.database} takes latest, { randomWithinDays } or { id }`,
    ]);
  }
  let snapshots: CacheSnapshot[];
  if (t.from === 'dr') {
    if (!caches.copies) {
      throw new ConfigError(`Cannot drill ${s.database} from its DR copy`, [
        `drill.caches.${s.database}.from: dr needs dr.region and a backup policy with copyToDr for ${group}`,
      ]);
    }
    // The copies of an earlier group of the same name stay in the DR bucket under its name. A copy names its
    // snapshot's creation (the steward-created-at metadata, or the time in its name) and nothing of its group's,
    // so the stage region's rule holds here: one taken before the live group was created is not its backup. The
    // live group is looked up in the stage region; one that is gone is refused.
    const since = await caches.primary.groupCreatedAt(group);
    const all = await caches.copies.listCopies(group);
    snapshots = all.filter((c) => notBefore(Date.parse(since), c));
    const earlier = all.filter((c) => !snapshots.includes(c));
    if (earlier.length)
      logger.info('DR copies of an earlier group left out', {
        drillId: s.drillId,
        group,
        groupCreatedAt: since,
        copies: earlier.map((c) => c.id),
      });
    if (typeof selector === 'object' && 'id' in selector) {
      const named = earlier.find((c) => c.id === selector.id);
      if (named)
        throw new SnapshotSelectionError(
          `DR copy ${named.id} was taken ${named.createdAt}, before replication group ${group} was created (${since}): ` +
            'it is a copy of an earlier group of the same name, not a backup of the live one',
        );
    }
  } else snapshots = await caches.primary.listSnapshots(group);
  const source = selectSource(selector, snapshots, {
    database: group,
    kind: 'redis',
    now: deps.now(),
    seed: s.input.seed ?? s.drillId,
  });
  const chosen = snapshots.find((x) => x.id === source.snapshotId)!;
  const cache = {
    shards: chosen.shards,
    ...(chosen.sourceNodeType ? { sourceNodeType: chosen.sourceNodeType } : {}),
    ...(chosen.engine ? { engine: chosen.engine } : {}),
    ...(chosen.engineVersion ? { engineVersion: chosen.engineVersion } : {}),
    ...(chosen.largestShardBytes !== undefined ? { largestShardBytes: chosen.largestShardBytes } : {}),
  };
  logger.info('drill source selected', { drillId: s.drillId, database: s.database, selector, source, cache });
  return {
    ...s,
    source: {
      ...source,
      ...(chosen.rdbArns ? { rdbArns: chosen.rdbArns } : {}),
      cache,
      region: chosen.region,
    },
  };
};

/**
 * Restore the chosen snapshot into `steward-drill-<name>-<hash>` in the drill network of the snapshot's
 * region, TLS and at-rest encryption on, the verifier's user group attached, tagged `steward:drill`.
 */
export const restoreCache = async (
  s: DrillState,
  deps: BaseDeps & { caches?: CacheDrillDeps | undefined },
): Promise<DrillState> => {
  const t = cacheTarget(deps.config, s.database);
  const caches = needCaches(deps, `restore ${s.database}`);
  const src = s.source!;
  const region = src.region ?? caches.primary.region;
  const port = portFor(caches, region);
  const network = region === caches.primary.region ? caches.network : await caches.drNetwork?.();
  if (!network) {
    throw new ConfigError(`Cannot restore ${s.database} in ${region}`, [
      `drill.caches.${s.database}.from: dr restores in ${region}, where the stage has no drill network`,
    ]);
  }
  // A restore carries neither an AUTH token nor RBAC users over from the source. `iam`: steward's user group
  // (the verifier signs its own token). `token`: the configured secret's AUTH token, set on the copy at
  // creation (read here, passed to ElastiCache only, never put in state or logs). `user`: the source's RBAC
  // user group (`userGroupId`) attached to the copy. `none`: no AUTH, TLS only, reachable from the verifier.
  const login = await cacheLogin(t, s.database, caches);
  const facts = src.cache ?? { shards: 1 };
  const shape = cacheRestoreShape(t.nodeType ?? 'smallest', facts, `drill.caches.${s.database}.nodeType`);
  const targetId = cacheDrillTargetId(s.database, s.drillId);
  const requestedAt = s.target?.id === targetId ? s.target.requestedAt : deps.now().toISOString();
  const restored = await port.restore({
    targetId,
    tags: {
      [Tag.drill]: s.drillId,
      [Tag.managed]: 'true',
      [Tag.source]: cacheGroupOf(s.database, t),
      [Tag.createdBy]: 'drill',
    },
    nodeType: shape.instanceClass,
    source: src.rdbArns ? { rdbArns: src.rdbArns } : { snapshotName: src.snapshotId! },
    shards: facts.shards,
    ...(facts.engine ? { engine: facts.engine } : {}),
    ...(facts.engineVersion ? { engineVersion: facts.engineVersion } : {}),
    network:
      t.auth === 'iam'
        ? network
        : { cacheSubnetGroupName: network.cacheSubnetGroupName, securityGroupIds: network.securityGroupIds },
    ...(login ? { login } : {}),
  });
  logger.info('drill restore requested', { drillId: s.drillId, target: restored, shape });
  return {
    ...s,
    shape,
    target: {
      ...restored,
      requestedAt,
      ...(t.auth === 'iam' ? { iamUser: cacheVerifierUser(deps.config.stage) } : {}),
      // The verifier reads the same secret inside the drill VPC: the state carries its ARN, never its value.
      ...((t.auth === 'token' || t.auth === 'user') && t.secretArn ? { secretArn: t.secretArn } : {}),
    },
  };
};

/** The login the restored copy must take, as the source takes it (undefined: `iam` or `none`). */
const cacheLogin = async (
  t: RedisDrillTarget,
  name: string,
  caches: CacheDrillDeps,
): Promise<CacheRestoreRequest['login']> => {
  if (t.auth === 'user') return { userGroupId: t.userGroupId! };
  if (t.auth !== 'token') return undefined;
  if (!caches.secrets) {
    throw new ConfigError(`Cannot drill ${name} with auth: token`, [
      `drill.caches.${name}.auth: this function cannot read secrets; deploy the stage with this cache configured`,
    ]);
  }
  return { authToken: await caches.secrets.token(t.secretArn!) };
};

/**
 * `verify-dr`: verify a group restored in the DR region (a drill from the DR copy). Only a verifier inside
 * that region's drill VPC reaches it, and Step Functions invokes no Lambda function in another region (Step
 * Functions Developer Guide, "Accessing resources in other AWS accounts": cross-Region AWS resource access
 * is not available), so the drill function relays the `verify` task to the DR stack's cache verifier and
 * returns its state. The verifier's failure fails this task under the verifier's error name.
 */
export const verifyCacheInDr = async (
  s: DrillState,
  event: Pick<DrillTaskEvent, 'execution'>,
  deps: BaseDeps & { caches?: CacheDrillDeps | undefined },
): Promise<DrillState> => {
  const caches = needCaches(deps, `verify ${s.database} in the DR region`);
  const region = s.target?.region ?? caches.primary.region;
  const remote = caches.drVerifier;
  if (!remote || remote.region !== region) {
    throw new ConfigError(`Cannot verify ${s.database} in ${region}`, [
      remote
        ? `state.target.region: the drill group is in ${region}; the DR cache verifier runs in ${remote.region}`
        : `state.target.region: the drill group is in ${region}, where this function knows no cache verifier (drill.caches.${s.database}.from: dr needs dr.region and the Steward-${deps.config.stage}-dr stack)`,
    ]);
  }
  const out = await remote.verify({
    task: 'verify',
    state: s as unknown as Record<string, unknown>,
    ...(event.execution ? { execution: event.execution } : {}),
  });
  const next = out as Partial<DrillState> | null;
  if (!next || typeof next !== 'object' || next.drillId !== s.drillId || !next.verification) {
    throw new EventShapeError(`The ${region} cache verifier answered no verification`, [
      `verify-dr: expected the drill state of ${s.drillId} with its verification`,
    ]);
  }
  return next as DrillState;
};

/** The drill copy a Redis drill that failed before `restore` returned may have created anyway. */
export const cacheCleanupRef = (
  s: Pick<DrillState, 'database' | 'drillId' | 'source'>,
  config: StewardConfig,
): TargetRef => ({
  kind: 'redis',
  id: cacheDrillTargetId(s.database, s.drillId),
  ...(s.source?.region && s.source.region !== config.region ? { region: s.source.region } : {}),
});
