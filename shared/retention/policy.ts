import type { StewardConfig } from '../config/schema.js';
import type { Snapshot } from '../model.js';
import { Tag } from '../tags.js';
import { planRetention, type PolicyResolver, type RetentionPlan } from './gfs.js';

/** The policies one snapshot is kept by instead of the run's (a spoke instance's dump: its target's); else undefined. */
export type PoliciesOf = (s: Snapshot) => PolicySet | undefined;

/** The backup and retention policies a snapshot is judged by. */
export interface PolicySet {
  backup: Pick<StewardConfig['backup'], 'policies'>;
  retention: Pick<StewardConfig['retention'], 'policies'>;
  /**
   * Set when the snapshot's own target could not be resolved: why. These policies are then the longest of
   * every target that could hold it (never shorter than any), and the run report names the snapshot.
   */
  unresolved?: string;
}

/**
 * Resolve a snapshot's retention policy from config: `steward:policy` names a backup policy, whose
 * `retention` names the retention policy. Pure; an unknown name resolves to `undefined`. `policiesOf` names
 * other policies for some snapshots (fleet/place.ts dumpPolicies).
 */
export const retentionPolicyResolver =
  (run: PolicySet, policiesOf?: PoliciesOf): PolicyResolver =>
  (s) => {
    const config = policiesOf?.(s) ?? run;
    const backupName = s.tags[Tag.policy];
    // Tag values are user input: only own keys count, so `constructor` or `__proto__` resolve to nothing.
    if (backupName === undefined || !Object.hasOwn(config.backup.policies, backupName)) return undefined;
    const name = config.backup.policies[backupName]!.retention;
    if (!Object.hasOwn(config.retention.policies, name)) return undefined;
    return { name, policy: config.retention.policies[name]! };
  };

/** Regions retention sweeps: the primary, plus the DR region when it is included and some policy copies there. */
export const retentionRegions = (
  config: Pick<StewardConfig, 'region' | 'dr' | 'retention' | 'backup'>,
): string[] => {
  const copies = Object.values(config.backup.policies).some((p) => p.copyToDr);
  return config.retention.includeDrRegion && copies && config.dr.region !== config.region
    ? [config.region, config.dr.region]
    : [config.region];
};

/**
 * The DR region when retention must read it without sweeping it: a policy copies there and retention does
 * not sweep it (`includeDrRegion: false`). Retention reads its copies to know which days reached DR.
 */
export const drReadOnlyRegion = (
  config: Pick<StewardConfig, 'region' | 'dr' | 'retention' | 'backup'>,
): string | undefined => {
  const dr = drCopying(config);
  return dr && !retentionRegions(config).includes(dr.region) ? dr.region : undefined;
};

/** The DR region and the backup policies that copy there; `undefined` when nothing is copied. */
export const drCopying = (
  config: Pick<StewardConfig, 'region' | 'dr' | 'backup'>,
): { region: string; policiesThatCopy: Set<string> } | undefined => {
  const names = Object.entries(config.backup.policies).flatMap(([name, p]) => (p.copyToDr ? [name] : []));
  return names.length && config.dr.region !== config.region
    ? { region: config.dr.region, policiesThatCopy: new Set(names) }
    : undefined;
};

/** Where the DR region's snapshots come from: the inventory itself (it sweeps DR), a separate listing, or nowhere. */
export type DrSnapshots = 'in-inventory' | readonly Snapshot[] | 'unreadable';

/**
 * Plan retention for an inventory with a stage config's policies and deletion limits (the handler, the
 * CLI and the bench share it). When a policy copies to DR, no primary day is deleted before it reached DR;
 * an ElastiCache day only when `redisDrCopies` says the Redis DR copies are in the DR listing.
 */
export const planRetentionFor = (
  snapshots: readonly Snapshot[],
  config: StewardConfig,
  now: Date,
  drSnapshots: DrSnapshots = 'in-inventory',
  redisDrCopies = false,
  policiesOf?: PoliciesOf,
): RetentionPlan => {
  const dr = drCopying(config);
  return planRetention(snapshots, retentionPolicyResolver(config, policiesOf), now, {
    limits: config.retention.deletions,
    ...(dr && {
      dr: {
        ...dr,
        caches: redisDrCopies,
        snapshots:
          drSnapshots === 'unreadable'
            ? undefined
            : drSnapshots === 'in-inventory'
              ? snapshots.filter((s) => s.region === dr.region)
              : drSnapshots,
      },
    }),
  });
};
