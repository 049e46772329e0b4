import { ConfigError } from '../errors.js';
import type {
  CacheCopyLister,
  CacheDrillNetwork,
  CacheRestorePort,
  CacheSecrets,
  DrillResource,
  RemoteCacheVerifier,
  RestorePort,
} from './ports.js';
import { listEach } from './ports.js';

// A Redis drill's ports, and the restore port that covers its copies too: the drill function's wiring builds
// these for every task, so they stay apart from the Redis drill's tasks (./cache-tasks.ts).

/** What the control tasks of a Redis drill need besides the database drill's deps. */
export interface CacheDrillDeps {
  /** The stage's region. */
  primary: CacheRestorePort;
  /** The DR region (`dr.region`): restores of the DR copy. */
  dr?: CacheRestorePort;
  /** The RDB copies in the DR bucket. */
  copies?: CacheCopyLister;
  /** The drill VPC's cache network in the stage's region. */
  network: CacheDrillNetwork;
  /**
   * The DR region's cache drill network (the `Steward-<stage>-dr` stack publishes it): looked up when a
   * drill restores there, as its security group ids are only known once that stack is deployed.
   */
  drNetwork?: () => Promise<CacheDrillNetwork>;
  /** Reads an `auth: token` cache's AUTH token, which the restore sets on the copy. */
  secrets?: CacheSecrets;
  /** The DR region's cache verifier (the `Steward-<stage>-dr` stack's): verifies a group restored there. */
  drVerifier?: RemoteCacheVerifier;
}

/** The ElastiCache port of `region` (the stage's when undefined). */
export const portFor = (caches: CacheDrillDeps, region: string | undefined): CacheRestorePort => {
  if (region === undefined || region === caches.primary.region) return caches.primary;
  if (caches.dr && caches.dr.region === region) return caches.dr;
  throw new ConfigError(`No ElastiCache drill port for ${region}`, [
    `dr.region: a Redis drill from the DR copy restores in ${region}; its drill network is not wired`,
  ]);
};

/**
 * One RestorePort over the database drills' port and the Redis drills' ports: describe and remove go by
 * the target's kind (and region), the janitor's inventory lists them all. What the janitor and the
 * execution-ended cleanup see.
 */
export const withCacheDrills = (rds: RestorePort, caches: CacheDrillDeps | undefined): RestorePort => {
  if (!caches) return rds;
  const ports = [caches.primary, ...(caches.dr ? [caches.dr] : [])];
  return {
    ...rds,
    describe: (t) => (t.kind === 'redis' ? portFor(caches, t.region).describe(t) : rds.describe(t)),
    remove: (t) => (t.kind === 'redis' ? portFor(caches, t.region).remove(t) : rds.remove(t)),
    // One region or service that cannot be listed does not hide what the others list (PartialListingError).
    listDrillResources: (): Promise<DrillResource[]> =>
      listEach('drill resources', [
        { name: `drill databases in ${rds.region}`, list: () => rds.listDrillResources() },
        ...ports.map((p) => ({
          name: `drill replication groups in ${p.region}`,
          list: () => p.listDrillResources(),
        })),
      ]),
  };
};
