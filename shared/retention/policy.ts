import type { StewardConfig } from '../config/schema.js';
import type { Snapshot } from '../model.js';
import { Tag } from '../tags.js';
import { planRetention, type PolicyResolver, type RetentionPlan } from './gfs.js';

/**
 * Resolve a snapshot's retention policy from config: `steward:policy` names a backup policy, whose
 * `retention` names the retention policy. Pure; an unknown name resolves to `undefined`.
 */
export const retentionPolicyResolver =
  (config: Pick<StewardConfig, 'backup' | 'retention'>): PolicyResolver =>
  (s) => {
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

/** Plan retention for an inventory with a stage config's policies and cap (the handler and the CLI share it). */
export const planRetentionFor = (
  snapshots: readonly Snapshot[],
  config: StewardConfig,
  now: Date,
): RetentionPlan =>
  planRetention(snapshots, retentionPolicyResolver(config), now, {
    maxDeletionsPerRun: config.retention.maxDeletionsPerRun,
  });
