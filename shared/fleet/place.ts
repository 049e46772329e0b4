import type { StewardConfig } from '../config/schema.js';
import { keepsRedisDr } from '../backup/cache-dr.js';
import type { PoliciesOf } from '../retention/policy.js';
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
 * (targets.ts, spokeDrKeyArn), named in `partition`.
 */
export const configAt = (
  config: StewardConfig,
  t: Pick<TargetRef, 'index' | 'region'> & { account?: string; inherits?: readonly number[] },
  partition = 'aws',
): StewardConfig => {
  const p = targetPolicies(config, t);
  const spoke = t.account !== undefined && (t.account !== config.account || t.region !== config.region);
  return {
    ...config,
    region: t.region,
    ...(t.account !== undefined ? { account: t.account } : {}),
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
 * The policies a dump object is kept by: those of the target its instance's account and region belong to
 * (`steward:account` and `steward:region`, tagged by the backup run), so a spoke instance's dumps, which land
 * in the stage's buckets and are kept by the hub's run, follow that target's `retention` overrides. `stage` is
 * the stage's config before any target's overrides. Undefined (the run's own policies) for a snapshot, for a
 * dump without both tags (written before they were) and for an account-region no target lists by account
 * (one listed from an organizational unit: its accounts are known only to the fan-out's listing).
 */
export const dumpPolicies = (stage: StewardConfig): PoliciesOf => {
  const byPlace = new Map<string, TargetRef>();
  for (const t of expandTargets(stage)) {
    const key = t.account !== undefined ? `${t.account} ${t.region}` : undefined;
    if (key && !byPlace.has(key)) byPlace.set(key, t);
  }
  const resolved = new Map<TargetRef, ReturnType<PoliciesOf>>();
  return (s) => {
    const account = s.tags[Tag.account];
    const region = s.tags[Tag.region];
    const t = s.object && account && region ? byPlace.get(`${account} ${region}`) : undefined;
    if (!t) return undefined;
    if (!resolved.has(t)) resolved.set(t, targetPolicies(stage, t));
    return resolved.get(t);
  };
};
