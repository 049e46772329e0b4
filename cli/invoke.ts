import { DrillEnv, DrillVerifyEnv } from '../shared/drill/env.js';
import type { DrillDeps } from '../shared/drill/tasks.js';
import { ConfigError } from '../shared/errors.js';
import type { BaseDeps } from '../shared/runtime.js';
import { stateTableName } from '../shared/scaling/env.js';
import { loadEnv } from '../shared/config/env.js';
import * as v from '../shared/valid.js';
import { FLEET_CAPABILITIES, type SpokeCapability } from '../shared/fleet/targets.js';
import { placeLabel } from '../shared/fleet/place.js';
import { suggestion } from '../shared/config/suggest.js';
import { readJson, UsageError } from './base.js';
import { actingIn, checkCredentialsFor, fanOutTargetOf, localBaseAt, placeFor } from './target.js';
import type { TargetWiring } from '../shared/aws/fleet-sessions.js';
import type { Flags } from './flags.js';
import { printResult } from './print.js';
import { accountOf, reportBucketFor } from './status.js';
import { keepsRedisDr, redisDrBucketName } from '../shared/backup/cache-dr.js';

interface Capability {
  run(event: unknown, deps: never): Promise<unknown>;
  wire(base: BaseDeps, env: never, at?: TargetWiring): unknown;
}

type LocalEnv = Record<string, unknown>;

/** What the CLI knows of the deployed stage: the names infra gives the state table and report bucket. */
const stageEnv = async (base: BaseDeps, bucket: boolean): Promise<LocalEnv> => ({
  STATE_TABLE: stateTableName(base.config.stage),
  ...(bucket ? { REPORT_BUCKET: await reportBucketFor(base.config, process.env.REPORT_BUCKET) } : {}),
});

// The drill's network is the deployed stack's (ids CloudFormation picked): only its environment knows it.
const DrillNetworkEnv = v.pick(DrillEnv, {
  DRILL_SUBNET_GROUP: true,
  DRILL_SECURITY_GROUP_IDS: true,
  REPORT_KMS_KEY_ARN: true,
});

/**
 * The stage's Redis DR bucket by its fixed name (`steward-<stage>-rdb-dr-<account>-<dr region>`, infra/cache-dr.ts),
 * when the stage keeps Redis DR copies: retention keeps those copies beside the DR region's snapshots. The account
 * from the config, else from the CLI's credentials (STS). Only the hub's own account-region keeps them there.
 */
export const redisDrBucketFor = async (base: BaseDeps, hub: boolean): Promise<string | undefined> =>
  hub && keepsRedisDr(base.config)
    ? redisDrBucketName(
        base.config.stage,
        base.config.account ?? (await accountOf(base.config.region)),
        base.config.dr.region,
      )
    : undefined;

/** The retention function's environment as the CLI knows it: its state table and Redis DR bucket. */
const retentionEnv = async (base: BaseDeps, hub: boolean): Promise<LocalEnv> => {
  const bucket = await redisDrBucketFor(base, hub);
  return { ...(await stageEnv(base, false)), ...(bucket ? { REDIS_DR_BUCKET: bucket } : {}) };
};

const drillEnv = async (base: BaseDeps): Promise<LocalEnv> => {
  const env = await stageEnv(base, true);
  const network = DrillNetworkEnv.safeParse(process.env);
  return { ...env, DRILL_TABLE: env.STATE_TABLE, ...(network.success ? network.data : {}) };
};

/**
 * Without the deployed drill network a restore would land in the account's default network: refuse it,
 * saying where the values are. Every other drill event (janitor, status changes) runs.
 */
const guardDrillNetwork = (deps: unknown, base: BaseDeps): unknown => {
  const d = deps as DrillDeps;
  if (d.network.dbSubnetGroupName && d.network.securityGroupIds?.length) return d;
  const fn = `steward-${base.config.stage}-drill`;
  return {
    ...d,
    restore: {
      ...d.restore,
      restore: async () => {
        throw new ConfigError(
          `steward invoke drill restores only into the deployed drill network: set DRILL_SUBNET_GROUP and ` +
            `DRILL_SECURITY_GROUP_IDS to the ${fn} function's values (aws lambda get-function-configuration ` +
            `--function-name ${fn} --query Environment.Variables)`,
          ['DRILL_SUBNET_GROUP', 'DRILL_SECURITY_GROUP_IDS'],
        );
      },
    },
  } satisfies DrillDeps;
};

interface Invokable {
  load: () => Promise<Capability>;
  /** The part of the function's environment its wiring reads, as the CLI can know it (`hub`: the stage's own place). */
  env: (base: BaseDeps, hub: boolean) => Promise<LocalEnv>;
  /** Adjusts the wired deps for a local run. */
  guard?: (deps: unknown, base: BaseDeps) => unknown;
  /**
   * In another account-region, wire as the fan-out child of that target (`wire(base, env, { target, hubRegion })`,
   * no session: the caller's profile of that account signs), so the run reads what that target's run reads.
   */
  asChild?: SpokeCapability;
}

const module = (load: () => Promise<unknown>) => load as () => Promise<Capability>;

/**
 * Functions `steward invoke` can run (every one with sample events in events/); each module exports the
 * same `run` and `wire` the Lambda uses. Topics are never read: a local run prints its notifications.
 */
export const functions: Record<string, Invokable> = {
  backup: { load: module(() => import('../functions/backup/handler.js')), env: async () => ({}) },
  retention: {
    load: module(() => import('../functions/retention/handler.js')),
    env: retentionEnv,
    asChild: 'retention',
  },
  drill: {
    load: module(() => import('../functions/drill/handler.js')),
    env: drillEnv,
    guard: guardDrillNetwork,
  },
  'drill-verify': {
    load: module(() => import('../functions/drill-verify/handler.js')),
    env: async () => loadEnv(v.pick(DrillVerifyEnv, { PG_SSL_MODE: true, PG_CA_FILE: true })),
  },
  cost: { load: module(() => import('../functions/cost/handler.js')), env: (b) => stageEnv(b, false) },
  scaling: { load: module(() => import('../functions/scaling/handler.js')), env: (b) => stageEnv(b, false) },
  report: { load: module(() => import('../functions/report/handler.js')), env: (b) => stageEnv(b, true) },
};

/** `bakup` → `unknown function "bakup": did you mean "backup"?` */
const unknownFunction = (name: string): UsageError =>
  new UsageError(`unknown function "${name}": ${suggestion(name, Object.keys(functions))}`, [name]);

/** Run one function's real handler core on `event` with real SDK clients, and print its result. */
export const invokeFunction = async (
  name: string,
  event: unknown,
  flags: Flags,
  out: (s: string) => void,
): Promise<number> => {
  const fn = functions[name];
  if (!fn) throw unknownFunction(name);
  const mod = await fn.load();
  const { at, base } = localBaseAt(flags, flags['dry-run'], out);
  if (at.target && !at.target.hub) {
    // Another account-region: its deletion budget, copy queue and reports are the hub's, which the
    // caller's credentials for that account do not reach. A dry run only reads.
    if (!(FLEET_CAPABILITIES as readonly string[]).includes(name))
      throw new UsageError(
        `--target ${placeLabel(at.target)}: only ${FLEET_CAPABILITIES.join(' and ')} act in the stage's targets; ${name} runs in ${placeLabel(at.place.fleet ? placeFor(at.hub, undefined) : at.place)}`,
        ['--target'],
      );
    if (!base.dryRun)
      throw new UsageError(
        `--target ${placeLabel(at.target)} is another account-region than the stage's own: add --dry-run (the deployed fan-out acts there; from the CLI, only a dry run)`,
        ['--dry-run'],
      );
  }
  await checkCredentialsFor(actingIn(at));
  // Retention in a spoke target: its account's Redis DR copies, none of the stage's dump objects (the hub's).
  const child = fn.asChild ? await fanOutTargetOf(at, fn.asChild) : undefined;
  const env = (await fn.env(base, !child && (!at.target || at.target.hub))) as never;
  const wired = child
    ? mod.wire(base, env, { target: child, hubRegion: at.hub.region })
    : mod.wire(base, env);
  const result = await mod.run(event, (fn.guard ? fn.guard(wired, base) : wired) as never);
  printResult(name, result, flags.json, out, base.notifier.sent);
  return 0;
};

/** `steward invoke <function> --event <file>`: the real handler core with real SDK clients, locally. */
export const invoke = async (
  [name, ...extra]: string[],
  flags: Flags,
  out: (s: string) => void,
): Promise<number> => {
  const known = Object.keys(functions);
  if (!name) throw new UsageError(`invoke needs a function name (${known.join(', ')})`);
  if (extra.length) throw new UsageError(`invoke takes one function, got also: ${extra.join(' ')}`);
  if (!functions[name]) throw unknownFunction(name);
  if (!flags.event)
    throw new UsageError(
      name === 'drill-verify'
        ? "invoke drill-verify needs --event <file>: the drill state machine's Verify task input (events/ has no sample: a drill's own restore makes it)"
        : `invoke needs --event <file> (samples are in events/${name}/)`,
      ['--event'],
    );
  return invokeFunction(name, await readJson(flags.event, '--event'), flags, out);
};
