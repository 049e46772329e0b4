import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { stsClient } from '../shared/aws/clients/sts.js';
import type { StewardConfig } from '../shared/config/schema.js';
import { closest } from '../shared/config/suggest.js';
import { AwsCallError } from '../shared/errors.js';
import { configAt, isFleet, type Place, placeLabel } from '../shared/fleet/place.js';
import type { FanOutTarget } from '../shared/fleet/fan-out.js';
import {
  expandTargets,
  isHub,
  type SpokeCapability,
  targetRoleArn,
  type TargetRef,
} from '../shared/fleet/targets.js';
import {
  isNotDeployed,
  localBase,
  type LookedFor,
  notDeployedHint,
  StageNotDeployedError,
  stageConfig,
  UsageError,
} from './base.js';

// `--target <index|account/region>`, `--account`, `--region`: which of the stage's account-regions a
// command acts on or lists, checked against the config's targets. Without them: the stage's own.

/** The options that pick a target, as the commands take them. */
export interface TargetFlags {
  target?: string;
  account?: string;
  region?: string;
}

/** The account-region a command acts in, and the config target it belongs to. */
export interface SelectedTarget {
  ref: TargetRef;
  /** Undefined only for the stage's own account when the config names none. */
  account?: string;
  region: string;
  /** The stage's own account-region (the hub): its functions act there with their own roles. */
  hub: boolean;
}

const ACCOUNT = /^\d{12}$/;

const describe = (t: TargetRef) => `${t.account ?? t.organizationalUnit ?? 'this account'}/${t.region}`;

/** An `<account>/<region>` the flag takes: a target's own account, or a placeholder account in its region. */
const exampleOf = (targets: readonly TargetRef[]) => {
  const t = targets.find((x) => x.account !== undefined) ?? targets[0];
  return `${t?.account ?? '123456789012'}/${t?.region ?? 'eu-west-1'}`;
};

/** Every account-region of the stage, for an error message. */
const listOf = (targets: readonly TargetRef[]) =>
  targets.map((t) => `targets[${t.index}] ${describe(t)}`).join(', ');

/**
 * The target the flags name, checked against `config.targets`; undefined when none of the options is given
 * (the stage's own account-region, as before). An account of an OU cannot be checked offline: it is
 * accepted in a region the OU's target covers, and the credentials check says whether it is reachable.
 */
export const selectTarget = (config: StewardConfig, flags: TargetFlags): SelectedTarget | undefined => {
  if (flags.target === undefined && flags.account === undefined && flags.region === undefined)
    return undefined;
  const targets = expandTargets(config);
  let account = flags.account;
  let region = flags.region;
  let index: number | undefined;
  if (flags.target !== undefined) {
    const t = flags.target.trim();
    const pair = /^(\d{12})\/([a-z0-9-]+)$/.exec(t);
    if (/^\d{1,4}$/.test(t)) index = Number(t);
    else if (pair) {
      if (account !== undefined && account !== pair[1])
        throw new UsageError(`--target ${t} and --account ${account} name different accounts`, ['--account']);
      if (region !== undefined && region !== pair[2])
        throw new UsageError(`--target ${t} and --region ${region} name different regions`, ['--region']);
      account = pair[1];
      region = pair[2];
    } else
      throw new UsageError(
        `--target ${t}: give an index of targets (0-${config.targets.length - 1}) or <account>/<region> such as ${exampleOf(targets)}`,
        ['--target'],
      );
  }
  if (account !== undefined && !ACCOUNT.test(account))
    throw new UsageError(`--account ${account}: must be a 12-digit account id`, ['--account']);

  if (index !== undefined) {
    const ofIndex = targets.filter((t) => t.index === index);
    if (!ofIndex.length)
      throw new UsageError(
        `--target ${index}: stage ${config.stage} has targets 0-${config.targets.length - 1} (${listOf(targets)})`,
        ['--target'],
      );
    const ou = ofIndex[0]!.organizationalUnit;
    if (ou !== undefined && account === undefined)
      throw new UsageError(`targets[${index}] is every account of ${ou}: add --account <one of them>`, [
        '--account',
      ]);
    const inRegion = region === undefined ? ofIndex : ofIndex.filter((t) => t.region === region);
    if (inRegion.length === 0)
      throw new UsageError(
        `targets[${index}] has no region ${region} (it has ${ofIndex.map((t) => t.region).join(', ')})`,
        ['--region'],
      );
    if (inRegion.length > 1)
      throw new UsageError(
        `targets[${index}] (${ofIndex[0]!.account ?? ou ?? 'this account'}) has regions ${inRegion.map((t) => t.region).join(', ')}: add --region <one of them>`,
        ['--region'],
      );
    const ref = inRegion[0]!;
    if (ou === undefined && account !== undefined && account !== ref.account)
      throw new UsageError(`targets[${index}] is account ${ref.account ?? 'of the stage'}, not ${account}`, [
        '--account',
      ]);
    return selected(config, ref, account ?? ref.account);
  }

  const want = { account: account ?? config.account, region: region ?? config.region };
  const exact = targets.find(
    (t) => t.region === want.region && t.account !== undefined && t.account === want.account,
  );
  if (exact) return selected(config, exact, exact.account);
  // The stage's own account when the config names none: only its own-account targets match.
  if (account === undefined) {
    const own = targets.find(
      (t) => t.region === want.region && t.account === undefined && !t.organizationalUnit,
    );
    if (own) return selected(config, own, undefined);
  }
  const ou = targets.find((t) => t.organizationalUnit !== undefined && t.region === want.region);
  if (ou && account !== undefined) return selected(config, ou, account);
  const asked = `${want.account ?? 'this account'}/${want.region}`;
  const near = closest(
    asked,
    targets.map((t) => describe(t)),
  );
  throw new UsageError(
    `${asked} is not a target of stage ${config.stage}${near ? ` (did you mean ${near}?)` : ''}: its targets are ${listOf(targets)}`,
    [flags.target !== undefined ? '--target' : account !== undefined ? '--account' : '--region'],
  );
};

const selected = (config: StewardConfig, ref: TargetRef, account: string | undefined): SelectedTarget => ({
  ref,
  ...(account !== undefined ? { account } : {}),
  region: ref.region,
  hub: ref.organizationalUnit === undefined && isHub(config, ref),
});

/** Where a CLI run acts: the selected target, else the stage's own account-region. */
export const placeFor = (hub: StewardConfig, t: SelectedTarget | undefined): Place => ({
  ...((t ? t.account : hub.account) !== undefined ? { account: (t ? t.account : hub.account)! } : {}),
  region: t?.region ?? hub.region,
  fleet: isFleet(hub),
});

/**
 * The caller's account and partition (one STS call): whose profile the CLI runs with, and the partition a role
 * ARN it names is in.
 */
export const callerOf = async (region: string): Promise<{ account?: string; partition: string }> => {
  try {
    const r = await stsClient(region).send(new GetCallerIdentityCommand({}));
    return { ...(r.Account ? { account: r.Account } : {}), partition: r.Arn?.split(':')[1] ?? 'aws' };
  } catch (e) {
    throw new AwsCallError('GetCallerIdentity', `region ${region}`, e);
  }
};

/**
 * Run `work`, which reads a resource the stage deploys (`looked.resource`, in `looked.region`); if that was not
 * there, a StageNotDeployedError saying what was looked for, in which account (the stage's, else the
 * credentials': one STS call, only then) and region, and the deploy command. Other errors pass as they are.
 */
export const expectDeployed = async <T>(
  stage: string,
  looked: LookedFor,
  work: () => Promise<T>,
): Promise<T> => {
  try {
    return await work();
  } catch (e) {
    if (!isNotDeployed(e)) throw e;
    const account =
      looked.account ??
      (await callerOf(looked.region).then(
        (c) => c.account,
        () => undefined,
      ));
    throw new StageNotDeployedError(notDeployedHint(stage, { ...looked, ...(account ? { account } : {}) }), {
      cause: e,
    });
  }
};

/**
 * Refuse to read or act with credentials of another account than the target's: the CLI runs with the
 * caller's own credentials (AWS_PROFILE; spoke roles trust only the hub's functions), so a profile of the
 * wrong account would list or change the wrong databases. One STS call, only when a target was named or
 * the stage's config names its account (`stage`: the stage's own account-region, see actingIn).
 */
export const checkCredentialsFor = async (
  t: (Pick<SelectedTarget, 'account' | 'region'> & { stage?: string }) | undefined,
): Promise<void> => {
  if (!t?.account) return;
  let caller: string | undefined;
  try {
    caller = (await stsClient(t.region).send(new GetCallerIdentityCommand({}))).Account;
  } catch (e) {
    throw new AwsCallError('GetCallerIdentity', `region ${t.region}`, e);
  }
  if (caller !== t.account)
    throw new UsageError(
      `the credentials are for account ${caller ?? 'unknown'}, but ${t.stage === undefined ? 'the target is' : `stage ${t.stage} acts in`} ${placeLabel(t)}: use a profile of ${t.account} (AWS_PROFILE)`,
      [t.stage === undefined ? '--target' : 'account'],
    );
};

/**
 * Whose credentials a command needs: the named target's, else the stage's own account-region when its config
 * names the account (without --target a run acts there, whatever account AWS_PROFILE is for).
 */
export const actingIn = (at: {
  hub: StewardConfig;
  target?: SelectedTarget;
}): (Pick<SelectedTarget, 'account' | 'region'> & { stage?: string }) | undefined =>
  at.target ??
  (at.hub.account ? { account: at.hub.account, region: at.hub.region, stage: at.hub.stage } : undefined);

/**
 * The selected target as the deployed fan-out starts its child (fleet/fan-out.ts), for a local run to wire as
 * that child: undefined for the stage's own account-region (no role), else the target with the role the fleet
 * reaches it through. The local run itself signs with the caller's profile of that account, not the role (which
 * trusts only the hub's functions): the role ARN only says the target is a spoke. One STS call (the account when
 * the config names none, and the partition).
 */
export const fanOutTargetOf = async (
  at: { hub: StewardConfig; target?: SelectedTarget },
  capability: SpokeCapability,
): Promise<FanOutTarget | undefined> => {
  const t = at.target;
  if (!t || (t.hub && t.ref.role === undefined)) return undefined;
  const caller = await callerOf(t.region);
  const account = t.account ?? caller.account;
  if (!account)
    throw new AwsCallError('GetCallerIdentity', `region ${t.region}`, new Error('no account in the answer'));
  return {
    index: t.ref.index,
    account,
    region: t.region,
    roleArn: targetRoleArn(at.hub, { ...t.ref, account }, capability, caller.partition),
  };
};

/** The stage config of `--config`/`--stage` as the run in the selected target sees it, and where that is. */
export const targetedStage = (
  flags: TargetFlags & { config?: string; stage?: string },
): { hub: StewardConfig; config: StewardConfig; target?: SelectedTarget; place: Place } => {
  const { config: hub } = stageConfig(flags);
  const target = selectTarget(hub, flags);
  return {
    hub,
    config: target
      ? configAt(hub, {
          index: target.ref.index,
          region: target.region,
          ...(target.account ? { account: target.account } : {}),
        })
      : hub,
    ...(target ? { target } : {}),
    place: placeFor(hub, target),
  };
};

/** A local run's base deps in the selected target (its config, its place in every message). */
export const localBaseAt = (
  flags: TargetFlags & { config?: string; stage?: string; json?: boolean },
  dryRun: boolean,
  out: (s: string) => void,
) => {
  const at = targetedStage(flags);
  // Without a target a local run stays what it was: the stage's own config, messages as before.
  return { at, base: localBase(flags, dryRun, out, at.target ? at : undefined) };
};
