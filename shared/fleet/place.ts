import type { BackupPolicy, RetentionPolicy, StewardConfig } from '../config/schema.js';
import { keepsRedisDr } from '../backup/cache-dr.js';
import type { PoliciesOf, PolicySet } from '../retention/policy.js';
import { Tag } from '../tags.js';
import { expandTargets, spokeDrKeyArn, spokeTargets, type TargetRef, targetPolicies } from './targets.js';

// Where a run acts: the account and region every database it names lives in. Pure: the handler reads the
// account from what the invocation already carries (a fan-out child's `target`, else the Lambda context's
// invokedFunctionArn), so naming costs no STS call on the hot path.

/** The account-region one run acts in. */
export interface Place {
  /** 12-digit account id; undefined only where nothing names it (a local run without a config account). */
  account?: string;
  region: string;
  /**
   * The stage manages more than this account-region (several targets, or an OU): metric dimensions, pager
   * keys and report keys then carry the place too. A single-account stage keeps them as they were.
   */
  fleet: boolean;
}

const ACCOUNT = /^\d{12}$/;

/** The account of an ARN (`arn:aws:lambda:eu-west-1:111122223333:function:f` → 111122223333). */
export const accountOfArn = (arn: string | undefined): string | undefined => {
  const account = arn?.split(':')[4];
  return account !== undefined && ACCOUNT.test(account) ? account : undefined;
};

/** `111122223333/eu-west-1`, or the region alone when the account is unknown. */
export const placeLabel = (p: Pick<Place, 'account' | 'region'>): string =>
  p.account ? `${p.account}/${p.region}` : p.region;

/** A database (or any resource) with its place: `orders (111122223333/eu-west-1)`. */
export const placed = (name: string, p: Pick<Place, 'account' | 'region'> | undefined): string =>
  p ? `${name} (${placeLabel(p)})` : name;

/** Whether a stage manages more than one account-region (an OU target counts as many). */
export const isFleet = (c: Pick<StewardConfig, 'targets' | 'account'>): boolean => {
  const targets = expandTargets(c as StewardConfig);
  return targets.length > 1 || targets.some((t) => t.organizationalUnit !== undefined);
};

/** The `target` a fan-out child's event carries (`{ index, account, region, roleArn?, externalId? }`). */
const targetOf = (event: unknown): { account?: string; region: string } | undefined => {
  const t = (event as { target?: unknown } | null | undefined)?.target;
  if (typeof t !== 'object' || t === null) return undefined;
  const { account, region } = t as { account?: unknown; region?: unknown };
  if (typeof region !== 'string' || region === '') return undefined;
  return typeof account === 'string' && ACCOUNT.test(account) ? { account, region } : { region };
};

/**
 * Where one invocation acts: a fan-out child's `target`; else the stage's own region and its account (the
 * config's, else the one in the Lambda context's invokedFunctionArn, which is free).
 */
export const placeOf = (
  event: unknown,
  context: { invokedFunctionArn?: string } | undefined,
  config: Pick<StewardConfig, 'targets' | 'account' | 'region'>,
): Place => {
  const fleet = isFleet(config);
  const t = targetOf(event);
  if (t) return { ...t, fleet };
  const account = config.account ?? accountOfArn(context?.invokedFunctionArn);
  return { ...(account ? { account } : {}), region: config.region, fleet };
};

/** Tag values of a place for what steward creates: `steward:account`, `steward:region` (the database's). */
export const placeTags = (p: Pick<Place, 'account' | 'region'> | undefined): Record<string, string> =>
  p ? { [Tag.region]: p.region, ...(p.account ? { [Tag.account]: p.account } : {}) } : {};

/**
 * The stage's config as a run in one target sees it: the target's region and account, and the stage's
 * policies and thresholds with the target's overrides (what a fan-out child of that target runs with).
 * Outside the hub's own account-region, DR copies are encrypted with that account's own spoke DR key
 * (targets.ts, spokeDrKeyArn), named in `partition`. A target that names no account is the stage's own
 * account: with `account` now the target's, such targets name the stage's explicitly, so that what the run
 * reads of `targets` (copySourceRegions) does not take them for the target's account.
 */
export const configAt = (
  config: StewardConfig,
  t: Pick<TargetRef, 'index' | 'region'> & { account?: string; inherits?: readonly number[] },
  partition = 'aws',
): StewardConfig => {
  const p = targetPolicies(config, t);
  const spoke = t.account !== undefined && (t.account !== config.account || t.region !== config.region);
  const stage = config.account;
  const elsewhere = t.account !== undefined && stage !== undefined && t.account !== stage;
  return {
    ...config,
    region: t.region,
    ...(t.account !== undefined ? { account: t.account } : {}),
    ...(elsewhere
      ? {
          targets: config.targets.map((x) =>
            x.account === undefined && x.organizationalUnit === undefined ? { ...x, account: stage } : x,
          ),
        }
      : {}),
    backup: { ...config.backup, ...p.backup },
    retention: { ...config.retention, ...p.retention },
    scaling: { ...config.scaling, ...p.scaling },
    ...(spoke && config.dr.kmsKeyArn
      ? { dr: { ...config.dr, kmsKeyArn: spokeDrKeyArn(config, t.account!, partition) } }
      : {}),
  };
};

/**
 * Whether a spoke target keeps Redis DR: its config (overrides applied) copies caches to DR in another region.
 * The spoke stacks then hold the Redis DR buckets and the spoke roles their grants (infra/spoke.ts).
 */
export const spokesKeepRedisDr = (config: StewardConfig): boolean =>
  spokeTargets(config).some((t) => keepsRedisDr(configAt(config, t)));

/**
 * The policies a dump object is kept by: those of the target its instance ran under, so a spoke instance's
 * dumps, which land in the stage's buckets and are kept by the hub's run, follow that target's `retention`
 * overrides. The backup run tags each dump with its instance's `steward:account` and `steward:region`, and,
 * when a fan-out child reached the account through organizational-unit targets, their OU ids (`steward:ou`):
 * the dump then stacks the overrides exactly as the child did (planFanOut: the stage's, each named OU target's
 * in config order, then the account's own target last), with no Organizations call at retention. `stage` is
 * the stage's config before any target's overrides; `run` the policies of the run that keeps the dumps.
 *
 * Undefined (the run's own policies) for a snapshot, and in a stage of one account-region. A dump whose target
 * cannot be resolved (no place tags; an account-region no account target lists and no `steward:ou`; an OU id
 * no target of its region names, e.g. a target since removed) keeps the longest of the policies of every
 * target that could hold it, the run's own and the stage's (each count the largest, so never shorter than
 * any of them), with `unresolved` saying why: the run report names it.
 */
export const dumpPolicies = (stage: StewardConfig, run: PolicySet = stage): PoliciesOf => {
  const targets = expandTargets(stage);
  const fleet = isFleet(stage);
  const byPlace = new Map<string, TargetRef>();
  for (const t of targets) {
    const key = t.account !== undefined ? `${t.account} ${t.region}` : undefined;
    if (key && !byPlace.has(key)) byPlace.set(key, t);
  }
  const resolve = (account?: string, region?: string, ou?: string): PolicySet | undefined => {
    const longest = (why: string): PolicySet | undefined =>
      fleet
        ? {
            ...longestOf([
              run,
              stage,
              ...targets
                .filter(
                  (t) =>
                    !account ||
                    !region ||
                    (t.region === region && (t.organizationalUnit !== undefined || t.account === account)),
                )
                .map((t) => targetPolicies(stage, t)),
            ]),
            unresolved: why,
          }
        : undefined;
    if (!account || !region)
      return longest(`no ${Tag.account} and ${Tag.region} tags (written before dumps named their place)`);
    const own = byPlace.get(`${account} ${region}`);
    if (ou === undefined)
      return own
        ? targetPolicies(stage, own)
        : longest(`${account} ${region} is no account target and the dump names no ${Tag.ou}`);
    const chain = new Set<TargetRef>();
    for (const id of ou.split(' ').filter((x) => x !== '')) {
      const found = targets.filter((t) => t.organizationalUnit === id && t.region === region);
      if (!found.length)
        return longest(
          OU_ID.test(id)
            ? `${Tag.ou} names ${id}, no organizational-unit target in ${region} (removed from targets?)`
            : `${Tag.ou}=${JSON.stringify(ou)} names no organizational unit`,
        );
      for (const t of found) chain.add(t);
    }
    const stack = [...chain].sort((a, b) => a.index - b.index);
    if (own) stack.push(own);
    const last = stack.pop();
    if (!last) return longest(`${Tag.ou} is empty and ${account} ${region} is no account target`);
    return targetPolicies(stage, { index: last.index, inherits: stack.map((t) => t.index) });
  };
  // One resolution per distinct place and OU tag: a bucket holds many dumps of few places.
  const resolved = new Map<string, PolicySet | undefined>();
  return (s) => {
    if (!s.object) return undefined;
    const account = s.tags[Tag.account];
    const region = s.tags[Tag.region];
    const ou = s.tags[Tag.ou];
    const key = JSON.stringify([account, region, ou]);
    if (!resolved.has(key)) resolved.set(key, resolve(account, region, ou));
    return resolved.get(key);
  };
};

const OU_ID = /^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/;

const COUNTS = ['daily', 'weekly', 'monthly', 'yearly', 'keepAtLeast'] as const;

/**
 * The longest of several policy sets, per backup policy: every retention policy any of them names for it
 * (a target may point a backup policy at another retention policy), each count the largest any set gives
 * any of those names. GFS keeps more with every larger count, so nothing the sets would keep is deleted.
 * Named `<names> (longest)`, a retention group of its own.
 */
export const longestOf = (sets: readonly PolicySet[]): PolicySet => {
  const backup: Record<string, BackupPolicy> = {};
  const retention: Record<string, RetentionPolicy> = {};
  for (const [name, policy] of Object.entries(sets[0]?.backup.policies ?? {})) {
    const names = [
      ...new Set(
        sets.flatMap((p) =>
          Object.hasOwn(p.backup.policies, name) ? [p.backup.policies[name]!.retention] : [],
        ),
      ),
    ];
    const policies = sets.flatMap((p) =>
      names.flatMap((n) => (Object.hasOwn(p.retention.policies, n) ? [p.retention.policies[n]!] : [])),
    );
    // None of them resolves: left out, so the dump is kept on doubt (an unknown policy never deletes).
    if (!policies.length) continue;
    const longest = `${names.join('/')} (longest)`;
    backup[name] = { ...policy, retention: longest };
    retention[longest] = {
      ...policies[0]!,
      ...Object.fromEntries(COUNTS.map((k) => [k, Math.max(...policies.map((p) => p[k]))])),
    };
  }
  return { backup: { policies: backup }, retention: { policies: retention } };
};
