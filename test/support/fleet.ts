import type { StewardConfigInput } from '../../shared/config/schema.js';

// Hub and spokes as synthesized: a hub in 111111111111, two workload accounts and an OU, in two regions.
export const FLEET_CONFIG: StewardConfigInput = {
  stage: 'prod',
  account: '111111111111',
  region: 'eu-west-1',
  fleet: { organizationId: 'o-a1b2c3d4e5', externalId: 'steward-prod-fleet' },
  backup: {
    policies: {
      daily: { copyToDr: true },
      nightly: { kinds: ['elasticache'], retention: 'short' },
    },
  },
  retention: { policies: { standard: {}, short: { daily: 7 } } },
  dr: {
    region: 'us-west-2',
    kmsKeyArn: 'arn:aws:kms:us-west-2:111111111111:key/3f7a0c1e-aaaa-bbbb-cccc-0123456789ab',
  },
  targets: [
    {},
    { account: '222222222222', regions: ['eu-west-1', 'eu-central-1'] },
    { account: '333333333333', retention: { policies: { standard: { daily: 14 } } } },
    { organizationalUnit: 'ou-ab12-cd34ef56', regions: ['eu-west-1', 'eu-central-1'] },
  ],
};

/** The same fleet with a backup vault in account 999999999999, in both target regions. */
export const VAULT_ACCOUNT = '999999999999';
export const VAULT_CONFIG: StewardConfigInput = {
  ...FLEET_CONFIG,
  fleet: {
    ...FLEET_CONFIG.fleet!,
    vault: { account: VAULT_ACCOUNT, retention: 'vault' },
  },
  retention: { policies: { standard: {}, short: { daily: 7 }, vault: { daily: 35, monthly: 12 } } },
};

/** The fleet with a vault, and two drill targets restored from it (an instance and an Aurora cluster). */
export const VAULT_DRILL_CONFIG: StewardConfigInput = {
  ...VAULT_CONFIG,
  drill: {
    enabled: true,
    targets: {
      'orders-db': { kind: 'rds-instance', from: 'vault', profile: { database: 'app' } },
      ledger: { kind: 'aurora-cluster', from: 'vault', profile: { database: 'app' } },
    },
  },
};

/** An EC2 instance of the workload account 222222222222 and one of the hub, drilled from the vault's EBS sets. */
export const SPOKE_INSTANCE = 'i-0abc1234def567890';
export const HUB_INSTANCE = 'i-0fedcba9876543210';

/**
 * The fleet with a vault that also holds EBS sets (a policy backs instances up), and two EBS drill targets
 * restored from the vault: a workload account's instance and the hub's own.
 */
export const VAULT_EBS_DRILL_CONFIG: StewardConfigInput = {
  ...VAULT_CONFIG,
  backup: {
    policies: {
      ...FLEET_CONFIG.backup!.policies,
      instances: { kinds: ['ebs'] },
    },
  },
  drill: {
    enabled: true,
    volumes: {
      [SPOKE_INSTANCE]: { from: 'vault', account: '222222222222', pollSeconds: 10, timeoutSeconds: 120 },
      [HUB_INSTANCE]: { from: 'vault' },
    },
  },
};

/**
 * The same fleet with scaling rules: a read replica added to `orders` (scaling in), a class ladder for
 * `billing`, and one notify-only rule; account 333333333333 answers `orders-cpu` in dryRun mode with a longer
 * cooldown.
 */
export const SCALING_FLEET_CONFIG: StewardConfigInput = {
  ...FLEET_CONFIG,
  scaling: {
    enabled: true,
    rules: {
      'orders-cpu': {
        alarm: { name: 'orders-cpu-high' },
        resource: 'orders',
        action: { type: 'rds.addReadReplica', maxReplicas: 2 },
        scaleIn: { enabled: true },
      },
      'billing-cpu': {
        alarm: { name: 'billing-cpu-high' },
        resource: 'billing',
        action: { type: 'rds.scaleUp', ladder: ['db.r6g.large', 'db.r6g.xlarge'], max: 'db.r6g.xlarge' },
      },
      'cache-memory': {
        alarm: { prefix: 'sessions-memory' },
        resource: 'sessions',
        action: { type: 'notify' },
      },
    },
  },
  targets: FLEET_CONFIG.targets!.map((t) =>
    t.account === '333333333333'
      ? { ...t, scaling: { rules: { 'orders-cpu': { mode: 'dryRun', cooldownMinutes: 120 } } } }
      : t,
  ),
};

type PolicyInput = NonNullable<NonNullable<StewardConfigInput['backup']>['policies']>[string];

/**
 * A `mongo` backup policy of EBS snapshot sets with application consistency: the filesystem frozen around the
 * set, and a mongodump into `bucket`.
 */
export const mongoConsistency = (bucket = 'team-dumps', extra: Partial<PolicyInput> = {}): PolicyInput => ({
  kinds: ['ebs'],
  ...extra,
  consistency: {
    pre: 'fsfreeze -f /data',
    post: 'fsfreeze -u /data',
    dump: { command: 'mongodump --archive', bucket },
  },
});

/** The fleet with the `mongo` consistency policy added to its policies (spoke consistency, IAM and infra). */
export const CONSISTENT_FLEET_CONFIG: StewardConfigInput = {
  ...FLEET_CONFIG,
  backup: { policies: { ...FLEET_CONFIG.backup!.policies, mongo: mongoConsistency() } },
};
