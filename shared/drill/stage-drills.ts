import type { EbsDrillTarget, RedisDrillTarget, StewardConfig } from '../config/schema.js';

// What a stage's drill config asks of the drill function's wiring (and of the stacks that deploy it): which
// kinds of drill run from the DR region, where the DR stack publishes their networks, which key a vault
// copy is copied under. Kept apart from the tasks (./cache-tasks.ts, ./ebs-tasks.ts, ./vault-tasks.ts) so
// the wiring reads them without loading the tasks' code.

/**
 * Whether the stage drills a cache from its DR copy in another region: the DR stack then gets a drill network
 * for caches, and the DR bucket lets ElastiCache read the copies.
 */
export const drillsCachesFromDr = (
  config: Pick<StewardConfig, 'region' | 'dr'> & {
    drill: { enabled: boolean; caches: Record<string, Pick<RedisDrillTarget, 'from'>> };
  },
): boolean =>
  config.drill.enabled &&
  config.dr.region !== config.region &&
  Object.values(config.drill.caches).some((c) => c.from === 'dr');

/**
 * The DR stack's cache verifier runs at most this long (room for the largest `budgetSeconds`, 840 s); the drill
 * function relays to it synchronously, so it waits a little longer and itself runs Lambda's maximum, 900 s.
 */
export const DR_CACHE_VERIFY_SECONDS = 870;
/** How long the relay's invoke of the DR cache verifier may take: its timeout, plus the invoke's own time. */
export const DR_CACHE_RELAY_MS = (DR_CACHE_VERIFY_SECONDS + 15) * 1000;

/** The SSM parameter (in the DR region) where the DR stack publishes its cache drill network. */
export const drCacheNetworkParameter = (stage: string): string => `/steward/${stage}/drill/dr-cache-network`;

/** Whether a target drills from the DR copies and verifies them: the verifier then runs in `dr.region`. */
export const verifiesVolumesInDr = (
  config: Parameters<typeof drillsVolumesFromDr>[0] & {
    drill: { volumes: Record<string, Pick<EbsDrillTarget, 'from' | 'verify'>> };
  },
): boolean =>
  drillsVolumesFromDr(config) &&
  Object.values(config.drill.volumes).some((v) => v.from === 'dr' && v.verify !== undefined);

/** Whether the stage drills an instance or volume from its DR copies (in another region). */
export const drillsVolumesFromDr = (
  config: Pick<StewardConfig, 'region' | 'dr'> & {
    drill: { enabled: boolean; volumes: Record<string, Pick<EbsDrillTarget, 'from'>> };
  },
): boolean =>
  config.drill.enabled &&
  config.dr.region !== config.region &&
  Object.values(config.drill.volumes).some((v) => v.from === 'dr');

/**
 * The String parameter (in `dr.region`) where the `Steward-<stage>-dr` stack publishes the DR region's EBS
 * verifier network (subnets, security group, instance profile, Command document, per-drill endpoint placements)
 * for drills `from: dr` with `verify`: stacks in two regions cannot reference each other.
 */
export const drEbsVerifierParameter = (stage: string): string => `/steward/${stage}/drill/dr-ebs-verifier`;

/** RDS's AWS-managed key in the drill's account and region (an alias name resolves in the caller's account). */
export const DRILL_COPY_KEY = 'alias/aws/rds';

/** The configured Redis drill target of a name, or undefined when it names none. */
export const cacheTargetOf = (config: StewardConfig, name: string): RedisDrillTarget | undefined =>
  Object.hasOwn(config.drill.caches, name) ? config.drill.caches[name] : undefined;

/** The configured EBS drill target of a key, or undefined. */
export const volumeTargetOf = (config: StewardConfig, name: string): EbsDrillTarget | undefined =>
  Object.hasOwn(config.drill.volumes, name) ? config.drill.volumes[name] : undefined;

/**
 * The longest a drill execution may run: waiting for the restore (drill.timeoutSeconds), the longest
 * warm-up of any target, and an hour for verification, cleanup and record.
 */
export const drillExecutionSeconds = (drill: StewardConfig['drill']): number =>
  Math.max(drill.timeoutSeconds, ...Object.values(drill.volumes).map((v) => v.timeoutSeconds)) +
  Math.max(0, ...Object.values(drill.targets).map((t) => (t.warmup.enabled ? t.warmup.maxSeconds : 0))) +
  3600;

/**
 * The age after which a drill resource is an orphan: the configured age, but never less than the
 * longest a drill may run (restore wait, warm-up, +1 h), so a running drill keeps its copy.
 */
export const janitorMaxAgeHours = (drill: StewardConfig['drill']): number =>
  Math.max(drill.janitorMaxAgeHours, Math.ceil(drillExecutionSeconds(drill) / 3600));
