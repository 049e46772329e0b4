import type { BackupPolicy, RetentionPolicy, ScalingRule, StewardConfig } from '../config/schema.js';

// The fleet's pure half: which account-regions a stage manages, what each of them runs with, and the names
// of the roles the hub assumes there. No SDK, no environment: infra, the CLI and (later) the fan-out share it.

/** Hub functions that act in targets, each through its own spoke role (least privilege per capability). */
export const FLEET_CAPABILITIES = ['backup', 'retention'] as const;
export type FleetCapability = (typeof FLEET_CAPABILITIES)[number];

/**
 * Hub functions with a role in every spoke: backup and retention, and scaling, which acts in a spoke's
 * account when one of its alarms is forwarded to the hub, and on its scale-in schedule (a fan-out of its own
 * when a rule scales in: `hasFanOut`).
 */
export const SPOKE_CAPABILITIES = [...FLEET_CAPABILITIES, 'scaling'] as const;
export type SpokeCapability = (typeof SPOKE_CAPABILITIES)[number];

/** One account (or every account of an OU) in one region. */
export interface TargetRef {
  /** Position in `targets`: overrides and error messages refer to it. */
  index: number;
  /** Undefined for an OU target, and for the stage's own account when the config names none. */
  account?: string;
  organizationalUnit?: string;
  region: string;
  /** The target's own role (name or ARN) instead of the spoke roles. */
  role?: string;
}

/** Every account-region of the config's targets, in config order. */
export const expandTargets = (c: StewardConfig): TargetRef[] =>
  c.targets.flatMap((t, index) =>
    t.regions.map((region) => ({
      index,
      region,
      ...(t.organizationalUnit !== undefined
        ? { organizationalUnit: t.organizationalUnit }
        : (t.account ?? c.account) !== undefined
          ? { account: (t.account ?? c.account)! }
          : {}),
      ...(t.role !== undefined ? { role: t.role } : {}),
    })),
  );

/** The stage's own account and region: the hub's functions act there with their own roles. */
export const isHub = (c: StewardConfig, t: TargetRef): boolean =>
  t.organizationalUnit === undefined && (t.account ?? c.account) === c.account && t.region === c.region;

/** Targets the hub reaches through spoke roles (empty without a `fleet` section: a single-account stage). */
export const spokeTargets = (c: StewardConfig): TargetRef[] =>
  c.fleet ? expandTargets(c).filter((t) => !isHub(c, t)) : [];

/** Whether the stage has spokes: its hub gets the fleet event bus and the spoke stacks synthesize. */
export const hasSpokes = (c: StewardConfig): boolean => spokeTargets(c).length > 0;

/**
 * Whether the scheduled cycles of `capability` fan out over the targets on a Distributed Map
 * (infra/fan-out.ts): backup and retention whenever the stage has spokes; scaling when, with spokes, a rule
 * scales in (the scale-in check is its only schedule).
 */
export const hasFanOut = (c: StewardConfig, capability: SpokeCapability): boolean =>
  hasSpokes(c) &&
  (capability !== 'scaling' ||
    (c.scaling.enabled && Object.values(c.scaling.rules).some((r) => r.scaleIn.enabled)));

/** Whether any policy (or a target's override) copies to DR: spokes then need their own DR key. */
export const copiesToDr = (c: StewardConfig): boolean =>
  [
    ...Object.values(c.backup.policies),
    ...c.targets.flatMap((t) => Object.values(t.backup?.policies ?? {})),
  ].some((p) => p.copyToDr);

/**
 * The source regions of `account` whose DR copies all go to the stage's one DR region, which AWS limits per
 * account, whatever the source: the regions of every account target naming it and of every OU target that may
 * hold it, the DR region itself left out. Two or more: they share the destination's budget
 * (shared/backup/copy-plan.ts, `siblingUse`). An OU's accounts are known only where it was listed: a fan-out
 * child (`reached`: its target's `index`, `inherits` and region) was planned with every OU target of its
 * region that holds its account, so an OU none of them names does not hold it, in any region; an OU not
 * targeted in its region, and any OU for a run that does not say where it was reached (the hub's own
 * events), may.
 */
export const copySourceRegions = (
  c: StewardConfig,
  account: string | undefined,
  reached?: Pick<TargetRef, 'index' | 'region'> & { inherits?: readonly number[] },
): string[] => {
  const targets = expandTargets(c);
  const through = new Set(reached ? [reached.index, ...(reached.inherits ?? [])] : []);
  // OU id → whether it holds the account, for the OUs targeted in the child's region.
  const known = new Map<string, boolean>();
  for (const t of targets)
    if (reached && t.organizationalUnit !== undefined && t.region === reached.region)
      known.set(t.organizationalUnit, (known.get(t.organizationalUnit) ?? false) || through.has(t.index));
  return [
    ...new Set(
      targets
        .filter((t) =>
          t.organizationalUnit !== undefined
            ? known.get(t.organizationalUnit) !== false
            : (t.account ?? c.account) === account,
        )
        .map((t) => t.region)
        .filter((r) => r !== c.dr.region),
    ),
  ];
};

/** Regions with spokes, in first-seen order. */
export const spokeRegions = (c: StewardConfig): string[] => [
  ...new Set(spokeTargets(c).map((t) => t.region)),
];

/**
 * The spoke role of one hub capability in one region: `steward-<stage>-spoke-<capability>-<region>` (at
 * most 55 characters of IAM's 64: a 16-character stage, `retention`, a 14-character region). Per region,
 * so one StackSet template deploys to every region of an account without a name clash.
 */
export const spokeRoleName = (stage: string, capability: SpokeCapability, region: string): string =>
  `steward-${stage}-spoke-${capability}-${region}`;

/** The hub role of a fleet capability: named, so that spoke trust policies can name it before it exists. */
export const hubRoleName = (stage: string, capability: SpokeCapability, region: string): string =>
  `steward-${stage}-${capability}-${region}`;

/**
 * The DR key of a spoke account: `alias/steward-<stage>-spoke-dr`, in the DR region of every account the hub
 * reaches through a spoke role (the spoke DR stack, infra/spoke.ts). Each account's DR copies are encrypted
 * with its own key, not the hub's: RDS documents a key of another account for new instances and clusters
 * (CreateDBInstance/CreateDBCluster `KmsKeyId`: "To use a KMS key in a different Amazon Web Services
 * account, specify the key ARN or alias ARN"), but not for CopyDBSnapshot/CopyDBClusterSnapshot, and a
 * shared hub key would make every account's DR copies depend on the hub's key policy.
 */
export const spokeDrKeyAlias = (stage: string): string => `alias/steward-${stage}-spoke-dr`;

/** The alias ARN of a spoke account's DR key (CopyDB(Cluster)Snapshot takes an alias ARN as `KmsKeyId`). */
export const spokeDrKeyArn = (
  c: Pick<StewardConfig, 'stage' | 'dr'>,
  account: string,
  partition = 'aws',
): string => `arn:${partition}:kms:${c.dr.region}:${account}:${spokeDrKeyAlias(c.stage)}`;

/** The role the hub assumes for `capability` in one account target: the target's own role, else the spoke's. */
export const targetRoleArn = (
  c: StewardConfig,
  t: TargetRef & { account: string },
  capability: SpokeCapability,
  partition = 'aws',
): string => {
  if (t.role?.startsWith('arn:')) return t.role;
  return `arn:${partition}:iam::${t.account}:role/${t.role ?? spokeRoleName(c.stage, capability, t.region)}`;
};

/** What a target runs with: the stage's policies, rules and thresholds with the target's overrides applied. */
export interface TargetPolicies {
  backup: { quotaWarnPercent: number; policies: Record<string, BackupPolicy> };
  retention: {
    deletions: StewardConfig['retention']['deletions'];
    policies: Record<string, RetentionPolicy>;
  };
  scaling: { staleAfterMinutes: number; rules: Record<string, ScalingRule> };
}

const merged = <T extends object>(base: Record<string, T>, over: Record<string, Partial<T>> = {}) =>
  Object.fromEntries(Object.entries(base).map(([name, p]) => [name, { ...p, ...defined(over[name]) }]));

// An override's keys that are set: `{ daily: undefined }` (a parsed optional) must not erase the stage's value.
const defined = <T extends object>(o: T | undefined): Partial<T> =>
  Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * The effective policies and thresholds of targets[t.index] (validation guarantees the names exist). An
 * account listed from organizational units also `inherits` their targets' overrides: the stage's, then
 * each inherited target's in order, then its own, each over the one before.
 */
export const targetPolicies = (
  c: StewardConfig,
  t: Pick<TargetRef, 'index'> & { inherits?: readonly number[] },
): TargetPolicies => {
  const base: TargetPolicies = {
    backup: { quotaWarnPercent: c.backup.quotaWarnPercent, policies: c.backup.policies },
    retention: { deletions: c.retention.deletions, policies: c.retention.policies },
    scaling: { staleAfterMinutes: c.scaling.staleAfterMinutes, rules: c.scaling.rules },
  };
  return [...(t.inherits ?? []), t.index].reduce<TargetPolicies>((p, i) => {
    const o = c.targets[i];
    return {
      backup: {
        quotaWarnPercent: o?.backup?.quotaWarnPercent ?? p.backup.quotaWarnPercent,
        policies: merged(p.backup.policies, o?.backup?.policies),
      },
      retention: {
        deletions: { ...p.retention.deletions, ...defined(o?.retention?.deletions) },
        policies: merged(p.retention.policies, o?.retention?.policies),
      },
      scaling: {
        staleAfterMinutes: o?.scaling?.staleAfterMinutes ?? p.scaling.staleAfterMinutes,
        rules: merged(p.scaling.rules, o?.scaling?.rules),
      },
    };
  }, base);
};

/**
 * The organizational units through which a fan-out child reached its account-region: the OU ids of the OU
 * targets among `inherits` and `index`, in that order (config order), each once. Empty for an account target
 * alone. Dumps carry them (`steward:ou`), so the hub's retention finds the overrides the account ran with
 * without listing the organization again (fleet/place.ts, dumpPolicies).
 */
export const organizationalUnitsOf = (
  c: Pick<StewardConfig, 'targets'>,
  t: Pick<TargetRef, 'index'> & { inherits?: readonly number[] },
): string[] => [
  ...new Set(
    [...(t.inherits ?? []), t.index].flatMap((i) => {
      const ou = c.targets[i]?.organizationalUnit;
      return ou !== undefined ? [ou] : [];
    }),
  ),
];
