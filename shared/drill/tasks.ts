import * as v from '../valid.js';
import type { DrillTarget as DrillTargetConfig, StewardConfig } from '../config/schema.js';
import {
  ConfigError,
  EventShapeError,
  errorMessage,
  formatIssues,
  type Failure,
  failureOf,
  PartialFailureError,
  StewardError,
} from '../errors.js';
import type { Outcome } from '../model.js';
import { logger, metrics, MetricUnit } from '../observability.js';
import { failedOutcome, settleEach, throwIfFailed } from '../outcomes.js';
import type { BaseDeps, StageDeps } from '../runtime.js';
import { Tag } from '../tags.js';
import { scrub } from './checks.js';
import { type CeilingVerdict, COST_CEILING, drillCost, type PriceOverrides, withinCeiling } from './cost.js';

export { COST_CEILING };
import { auroraWriterId, DRILL_PREFIX, drillTargetId, drillTargetOf, sanitiseDrillId } from './ids.js';
import { volumeResources } from './ebs.js';
import type { JanitorResult, SweptResource } from './janitor.js';
import {
  type CredentialsPort,
  type DrillCopy,
  type DrillNetwork,
  type ReportStore,
  type RestorePort,
  type ExecutionLookup,
  StaleTaskTokenError,
  type TargetRef,
  type TargetStatus,
  type TaskSignal,
  type TokenStore,
  type VaultShare,
} from './ports.js';
import { baselineKey, drillNotification, drillReport, drillVerdict, reportKey } from './report.js';
import { reportUnavailable, type RunReportResult, type RunReports } from '../notify/run-report.js';
import { selectSource } from './select.js';
import { restoreOverrides, restoreShape } from './shape.js';
import { DrillInput, type DrillState, type DrillTarget, DrillTaskEvent } from './state.js';
import type { PgConnection, VerifyFn, WarmUpFn } from './verification.js';
import { newWarmup, stopWarmup } from './warmup-progress.js';
import {
  fromVault,
  otherSourceAccount,
  selectFromVault,
  takeBackShare,
  vaultCleanup,
  type VaultDrillDeps,
  vaultRestoreSource,
} from './vault-tasks.js';
import {
  allDrillVolumes,
  allVerifiers,
  cleanupVolumes,
  type EbsDrillDeps,
  restoreVolumes,
  selectVolumes,
  startVolumes,
  volumesStatus,
  verifyVolumes,
  volumeTargetOf,
} from './ebs-tasks.js';
import {
  closeEndpoints,
  type DrillEndpointsDeps,
  ensureEndpoints,
  releaseEndpoints,
} from './endpoint-tasks.js';
import {
  type CacheDrillDeps,
  cacheCleanupRef,
  cacheTargetOf,
  restoreCache,
  selectCache,
  startCache,
  verifyCacheInDr,
} from './cache-tasks.js';

export type { VerifyFn, WarmUpFn };

/**
 * What the `verify` and `warmup` tasks need: the verifier function (inside the drill VPC, which reaches no
 * AWS API it does not need: no notifier) builds only this. The engines are injected, so that only the
 * bundles that verify carry pg.
 */
export interface VerifyDeps extends StageDeps {
  credentials: CredentialsPort;
  /** Fallback when the state names no secret: the source's RDS-managed master secret. */
  restore?: Pick<RestorePort, 'masterSecretArn'>;
  /** The verification engine: `verifyDatabase` (./verifier/verify.ts) in the verifier function. */
  verify: VerifyFn;
  /** The warm-up engine: `warmUp` (./verifier/warmup.ts) in the verifier function. */
  warmUp: WarmUpFn;
  /** TLS for the connection to the restored copy. Default: verify the certificate and host name. */
  ssl?: PgConnection['ssl'];
}

/**
 * What the control-plane tasks need (all but `verify` and `warmup`): the control-plane Lambda and the
 * CLI build it; the sandbox, which runs every task, builds it together with `VerifyDeps`.
 */
export interface DrillDeps extends BaseDeps {
  restore: RestorePort;
  tokens: TokenStore;
  signal: TaskSignal;
  reports: ReportStore;
  network: DrillNetwork;
  /** Why a drill execution failed (its error name); steward's own failures end in `DrillFailed`. */
  executions?: ExecutionLookup;
  /** Where a janitor run's full report goes (the report bucket's runs/drill/); without it none is kept. */
  runReports?: RunReports;
  /** ElastiCache ports for Redis drills (`drill.caches`); `restore` then covers their describe/remove too. */
  caches?: CacheDrillDeps;
  /** The backup vault, for targets drilled `from: vault` (the deployed function, with a vault). */
  vault?: VaultDrillDeps;
  /** EC2 for EBS drills (`drill.volumes`): snapshot sets and drill volumes; the janitor sweeps these too. */
  ebs?: EbsDrillDeps;
  /** `drill.endpoints.mode: per-drill`: the drill VPC's endpoints a drill creates and releases. */
  endpoints?: DrillEndpointsDeps;
  /**
   * Per-drill endpoints in the DR region's drill VPC (a verifying EBS drill from the DR copies), read from the
   * DR stack's published network on first use; undefined when that stack deploys them always on.
   */
  drEndpoints?: () => Promise<DrillEndpointsDeps | undefined>;
}

/** The restore reached a state from which it never becomes available. */
export class RestoreFailedError extends StewardError {
  override name = 'RestoreFailedError';
}

/**
 * Going on would exceed the target's `costCeilingUsd`: the task stops the drill, which then cleans up.
 * The drill is INCONCLUSIVE (not proven), not FAILED: nothing is known to be wrong with the backup.
 */
export class CostCeilingError extends StewardError {
  override name = COST_CEILING;
}

/** Error name `await` fails its task token with when the restore failed. */
export const RESTORE_FAILED = 'RestoreFailed';
/** `state.error.Error` when the restore did not become available within `drill.timeoutSeconds`. */
export const DRILL_TIMEOUT = 'DrillTimeout';
// A parked token outlives WaitForRestore's timeout (pollSeconds) a little, then it is useless.
const TOKEN_GRACE_SECONDS = 300;

// ---------------------------------------------------------------------------------------------
// Shapes

const IsoTime = /* @__PURE__ */ v.onFirstUse(() =>
  v.string().check(v.refine((s) => Number.isFinite(Date.parse(s)), 'must be an ISO-8601 time')),
);
const Kind = /* @__PURE__ */ v.onFirstUse(() => v.enum(['rds-instance', 'aurora-cluster', 'redis']));
const StateKind = /* @__PURE__ */ v.onFirstUse(() =>
  v.enum(['rds-instance', 'aurora-cluster', 'redis', 'ebs']),
);
const TargetShape = /* @__PURE__ */ v.onFirstUse(() =>
  v.looseObject({
    kind: Kind,
    id: v.string().check(v.minLength(1)),
    instanceId: v.optional(v.string().check(v.minLength(1))),
    requestedAt: IsoTime,
    availableAt: v.optional(IsoTime),
    status: v.optional(v.string()),
    endpoint: v.optional(
      v.object({ host: v.string().check(v.minLength(1)), port: v.int().check(v.positive()) }),
    ),
    secretArn: v.optional(v.string()),
    iamUser: v.optional(v.string()),
  }),
);
const StateShape = /* @__PURE__ */ v.onFirstUse(() =>
  v.looseObject({
    drillId: v.string().check(v.minLength(1)),
    startedAt: IsoTime,
    input: DrillInput,
    database: v.string().check(v.minLength(1)),
    kind: StateKind,
    targets: v.object({
      rtoSeconds: v.number().check(v.positive()),
      rpoSeconds: v.number().check(v.positive()),
      warmRtoSeconds: v.optional(v.number().check(v.positive())),
    }),
    source: v.optional(
      v.looseObject({
        snapshotId: v.optional(v.string()),
        snapshotArn: v.optional(v.string()),
        pointInTime: v.optional(IsoTime),
        referenceTime: IsoTime,
      }),
    ),
    target: v.optional(TargetShape),
  }),
);

const prefixed = (prefix: string, issues: string[]) => issues.map((i) => `${prefix}.${i}`);

/** Parse a drill task event; malformed → EventShapeError naming every bad field. */
export const parseDrillTaskEvent = (raw: unknown): DrillTaskEvent => {
  const r = DrillTaskEvent.safeParse(raw);
  if (!r.success) throw new EventShapeError('Invalid drill task event', formatIssues(r.error.issues));
  return r.data;
};

type Needed = 'source' | 'target' | 'endpoint';

/** The state a task received, checked for what the task needs. */
const stateFor = (event: DrillTaskEvent, ...needs: Needed[]): DrillState => {
  const r = StateShape.safeParse(event.state);
  if (!r.success) {
    throw new EventShapeError(
      `Invalid drill state for task ${event.task}`,
      prefixed('state', formatIssues(r.error.issues)),
    );
  }
  const s = r.data as unknown as DrillState;
  const missing = needs.flatMap((n) => {
    if (n === 'source' && !s.source) return ['state.source: required (did select run?)'];
    if (n === 'target' && !s.target) return ['state.target: required (did restore run?)'];
    if (n === 'endpoint' && !s.target?.endpoint) {
      return ['state.target.endpoint: required (the restored copy is not available yet)'];
    }
    return [];
  });
  if (missing.length) throw new EventShapeError(`Invalid drill state for task ${event.task}`, missing);
  return s;
};

/** The configured drill target of a database; unknown → EventShapeError naming the known ones. */
export const drillTargetConfig = (config: StewardConfig, database: string): DrillTargetConfig => {
  const t = Object.hasOwn(config.drill.targets, database) ? config.drill.targets[database] : undefined;
  if (!t) {
    const known = Object.keys(config.drill.targets);
    throw new EventShapeError('Unknown drill database', [
      `database: "${database}" is not in drill.targets of the ${config.stage} config (known: ${known.join(', ') || 'none'})`,
    ]);
  }
  return t;
};

// ---------------------------------------------------------------------------------------------
// Tasks

const compactTime = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

const start = (event: DrillTaskEvent, deps: BaseDeps): DrillState => {
  const r = DrillInput.safeParse(event.state);
  if (!r.success) throw new EventShapeError('Invalid drill input', formatIssues(r.error.issues));
  const input = r.data;
  const exec = event.execution;
  if (exec && !Number.isFinite(Date.parse(exec.startTime))) {
    throw new EventShapeError('Invalid drill task event', ['execution.startTime: must be an ISO-8601 time']);
  }
  const now = deps.now();
  const { drill } = deps.config;
  const base = {
    drillId: exec ? sanitiseDrillId(exec.name) : sanitiseDrillId(`${input.database}-${compactTime(now)}`),
    startedAt: exec ? new Date(exec.startTime).toISOString() : now.toISOString(),
    input,
    database: input.database,
  };
  if (cacheTargetOf(deps.config, input.database)) return startCache(base, deps.config);
  if (volumeTargetOf(deps.config, input.database)) return startVolumes(base, deps.config);
  const target = drillTargetConfig(deps.config, input.database);
  return {
    ...base,
    kind: target.kind,
    targets: {
      rtoSeconds: input.rtoSeconds ?? target.rtoSeconds ?? drill.rtoSeconds,
      rpoSeconds: input.rpoSeconds ?? target.rpoSeconds ?? drill.rpoSeconds,
      ...(target.warmup.enabled && target.warmup.rtoSeconds !== undefined
        ? { warmRtoSeconds: target.warmup.rtoSeconds }
        : {}),
    },
  };
};

/** The last passed drill's tables; an unreadable baseline is logged and ignored (checks fall back to config). */
const loadBaseline = async (database: string, deps: DrillDeps): Promise<DrillState['baseline']> => {
  try {
    const raw = await deps.reports.get(baselineKey(database));
    if (raw === undefined) return undefined;
    const parsed = Baseline.safeParse(JSON.parse(raw));
    if (parsed.success) return parsed.data;
    logger.warn('ignoring a malformed drill baseline', {
      database,
      issues: formatIssues(parsed.error.issues),
    });
  } catch (e) {
    logger.warn('drill baseline unreadable, using configured baselines only', {
      database,
      error: errorMessage(e),
    });
  }
  return undefined;
};

const Probe = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    from: v.string().check(v.regex(/^-?\d+$/)),
    to: v.string().check(v.regex(/^-?\d+$/)),
    rows: v.int().check(v.minimum(0)),
  }),
);
export const Baseline = /* @__PURE__ */ v.onFirstUse(() =>
  v.record(
    v.string(),
    v.object({
      rows: v.int().check(v.minimum(0)),
      method: v.optional(v.enum(['exact', 'estimate', 'sample'])),
      checksum: v.optional(v.string()),
      key: v.optional(v.string()),
      probes: v.optional(v.array(Probe)),
    }),
  ),
);

const select = async (s: DrillState, deps: DrillDeps): Promise<DrillState> => {
  if (s.kind === 'ebs') return selectVolumes(s, deps);
  if (s.kind === 'redis') {
    // A Redis drill's baseline is the last passed drill's key count per logical database (`db<N>`).
    const next = await selectCache(s, deps);
    const baseline = await loadBaseline(s.database, deps);
    return { ...next, ...(baseline ? { baseline } : {}) };
  }
  const target = drillTargetConfig(deps.config, s.database);
  const selector = s.input.snapshot ?? target.snapshot;
  if (target.from === 'vault') {
    const source = await selectFromVault(s, selector, deps, target);
    logger.info('drill source selected in the vault', {
      drillId: s.drillId,
      database: s.database,
      selector,
      source,
    });
    const baseline = await loadBaseline(s.database, deps);
    return { ...s, source, ...(baseline ? { baseline } : {}) };
  }
  const pitr = typeof selector === 'object' && 'pointInTime' in selector;
  const snapshots = pitr ? [] : await deps.restore.listSnapshots(s.kind, s.database);
  const window = pitr ? await deps.restore.restorableWindow(s.kind, s.database) : undefined;
  const source = selectSource(selector, snapshots, {
    database: s.database,
    kind: s.kind,
    now: deps.now(),
    seed: s.input.seed ?? s.drillId,
    ...(window ? { restorableWindow: window } : {}),
  });
  logger.info('drill source selected', { drillId: s.drillId, database: s.database, selector, source });
  const baseline = await loadBaseline(s.database, deps);
  return { ...s, source, ...(baseline ? { baseline } : {}) };
};

/**
 * How the verifier logs in: the role for IAM database authentication, or the secret to read (the
 * configured one, else the source's RDS-managed master secret). A restored target keeps what its
 * restore decided, so a drill in flight is not changed by a config update.
 */
const loginOf = async (
  s: DrillState,
  deps: Pick<VerifyDeps, 'config'> & { restore?: Pick<RestorePort, 'masterSecretArn'> | undefined },
  doing: string,
): Promise<{ iamUser: string } | { secretArn: string }> => {
  const cfg = drillTargetConfig(deps.config, s.database);
  if (s.target?.iamUser) return { iamUser: s.target.iamUser };
  if (s.target?.secretArn) return { secretArn: s.target.secretArn };
  if (cfg.auth === 'iam') return { iamUser: cfg.iamUser };
  const elsewhere = otherSourceAccount(s, deps.config);
  if (!cfg.secretArn && elsewhere) {
    // The config refuses this; a drill in flight across a config change still fails clearly, before a restore.
    throw new ConfigError(`No credentials to ${doing} ${s.database}`, [
      `drill.targets.${s.database}.secretArn: required with auth: secret because ${s.database} lives in account ${elsewhere}, whose master user secret the drill does not read (or use auth: iam)`,
    ]);
  }
  const secretArn = cfg.secretArn ?? (await deps.restore?.masterSecretArn(cfg.kind, s.database));
  if (!secretArn) {
    throw new ConfigError(`No credentials to ${doing} ${s.database}`, [
      `drill.targets.${s.database}.secretArn: required with auth: secret because ${s.database} has no RDS-managed master user secret (or use auth: iam)`,
    ]);
  }
  return { secretArn };
};

/** The credentials for the restored copy: a token signed for its endpoint, or the secret's user. */
const credentialsFor = (
  login: { iamUser: string } | { secretArn: string },
  target: NonNullable<DrillState['target']>,
  deps: Pick<VerifyDeps, 'credentials'>,
) =>
  deps.credentials.get(
    'iamUser' in login
      ? { iamUser: login.iamUser, host: target.endpoint!.host, port: target.endpoint!.port }
      : login,
  );

const restore = async (s: DrillState, deps: DrillDeps): Promise<DrillState> => {
  if (s.kind === 'ebs') return restoreVolumes(s, deps);
  if (s.kind === 'redis') return restoreCache(s, deps);
  const cfg = drillTargetConfig(deps.config, s.database);
  // Resolve credentials before paying for a restore: a drill that cannot log in is a failed drill.
  const login = await loginOf({ ...s, target: undefined }, deps, 'verify a restore of');
  const targetId = drillTargetId(s.database, s.drillId);
  const requestedAt = s.target?.id === targetId ? s.target.requestedAt : deps.now().toISOString();
  // A database of another account (drilled from the vault) is not this account's: a same-named one here is
  // another database, so its shape is not read; the copy is restored onto the configured class.
  const elsewhere = otherSourceAccount(s, deps.config);
  const read = elsewhere ? Promise.resolve(undefined) : deps.restore.sourceShape(s.kind, s.database);
  const source = await read.catch((e: unknown) => {
    // A deleted source (a real disaster) still restores from its snapshot, onto the configured class.
    logger.warn('source database unreadable: restoring with the configured shape', {
      database: s.database,
      error: errorMessage(e),
    });
    return undefined;
  });
  const shape = restoreShape(s.kind, cfg.restore, source);
  // The least a drill can cost: its copy billed for RDS's 10-minute minimum, plus its verification.
  const verifySeconds = cfg.profile.budgetSeconds ?? 600;
  guardCeiling(
    { ...s, shape },
    deps,
    verifySeconds,
    `before restoring onto ${shape.instanceClass}`,
    requestedAt,
  );
  const tags = {
    [Tag.drill]: s.drillId,
    [Tag.managed]: 'true',
    [Tag.source]: s.database,
    [Tag.createdBy]: 'drill',
  };
  // From the vault: shared for this drill, and for an instance first copied into this account.
  const vault = fromVault(s) ? await vaultRestoreSource(s, tags, deps) : undefined;
  if (vault && !vault.ready) {
    logger.info('drill waits for its copy of the vault copy', {
      drillId: s.drillId,
      copy: vault.staged,
      status: vault.status,
    });
    return {
      ...s,
      shape,
      target: {
        kind: s.kind,
        id: targetId,
        requestedAt,
        status: vault.status,
        staged: vault.staged,
        ...login,
      },
    };
  }
  const restored = await deps.restore.restore({
    kind: s.kind,
    sourceDbId: s.database,
    source: vault?.source ?? s.source!,
    targetId,
    tags,
    ...(vault?.kmsKeyId ? { kmsKeyId: vault.kmsKeyId } : {}),
    ...(vault?.engine ? { engine: vault.engine } : {}),
    instanceClass: shape.instanceClass,
    ...('iamUser' in login ? { iamAuth: true } : {}),
    ...restoreOverrides(cfg.restore),
    ...(s.kind === 'aurora-cluster' ? { instances: shape.instances } : {}),
    network: deps.network,
  });
  logger.info('drill restore requested', { drillId: s.drillId, target: restored, shape });
  return { ...s, shape, target: { ...restored, requestedAt, ...login } };
};

/** The target's ceiling and the stage's prices. */
const ceilingOf = (s: Pick<DrillState, 'database'>, config: BaseDeps['config']) => {
  const cfg = Object.hasOwn(config.drill.targets, s.database)
    ? config.drill.targets[s.database]
    : cacheTargetOf(config, s.database);
  const prices: PriceOverrides = config.drill.prices;
  return { ceilingUsd: cfg?.costCeilingUsd, prices };
};

/** Whether the drill may go on until `until` within its cost ceiling (always, without one). */
const ceilingVerdict = (
  s: DrillState,
  config: BaseDeps['config'],
  now: Date,
  until: Date,
  requestedAt = s.target!.requestedAt,
): CeilingVerdict => {
  const { ceilingUsd, prices } = ceilingOf(s, config);
  if (ceilingUsd === undefined || !s.shape) return { ok: true };
  // A copy not available yet is projected as available now: the worst case, 10-minute minimum included.
  const availableAt = s.target?.availableAt ?? now.toISOString();
  return withinCeiling(s.shape, { requestedAt, availableAt }, until, prices, ceilingUsd);
};

/** Throw CostCeilingError when going on until `until` would exceed the ceiling. */
const guardCeiling = (
  s: DrillState,
  deps: StageDeps,
  forSeconds: number,
  when: string,
  requestedAt?: string,
): void => {
  const now = deps.now();
  const v = ceilingVerdict(s, deps.config, now, new Date(now.getTime() + forSeconds * 1000), requestedAt);
  if (!v.ok) {
    logger.warn('drill stopped by its cost ceiling', { drillId: s.drillId, when, reason: v.reason });
    throw new CostCeilingError(`stopped ${when}: ${v.reason}`);
  }
};

/** The shape RDS reports for the copy, over what was requested. */
const withActualShape = (s: DrillState, d: TargetStatus): DrillState['shape'] =>
  s.shape && d.shape
    ? {
        ...s.shape,
        ...Object.fromEntries(Object.entries(d.shape).filter(([, v]) => v !== undefined)),
      }
    : s.shape;

const isReady = (d: TargetStatus) => d.status === 'available' && d.endpoint !== undefined;

const withStatus = (s: DrillState, d: TargetStatus): DrillTarget => ({ ...s.target!, status: d.status });

/** The next state once the restored copy is ready: where to connect and when it became ready. */
const markAvailable = (s: DrillState, d: TargetStatus, now: Date): DrillState => ({
  ...s,
  ...(s.shape ? { shape: withActualShape(s, d) } : {}),
  available: true,
  timedOut: false,
  target: {
    ...withStatus(s, d),
    availableAt: s.target!.availableAt ?? now.toISOString(),
    endpoint: d.endpoint!,
  },
});

const restoreFailedCause = (t: TargetRef, d: TargetStatus) =>
  `restore of ${t.kind} ${t.id} failed: status ${d.status}`;

/** A drill from the vault whose own copy was not available yet: try the restore again (idempotent). */
const restoreWhenStaged = async (s: DrillState, deps: DrillDeps): Promise<DrillState> =>
  s.target?.staged ? restore(s, deps) : s;

const awaitRestore = async (pending: DrillState, token: string, deps: DrillDeps): Promise<DrillState> => {
  const s = await restoreWhenStaged(pending, deps);
  // Still copying: no RDS instance event will come for a snapshot copy; the wait times out into polling.
  if (s.target?.staged) return s;
  const target = s.target!;
  const d = await deps.restore.describe(target);
  if (isReady(d)) {
    const next = markAvailable(s, d, deps.now());
    await deps.signal.success(token, next);
    return next;
  }
  const next = { ...s, target: withStatus(s, d) };
  if (d.failed) {
    await deps.signal.failure(token, RESTORE_FAILED, restoreFailedCause(target, d));
    return next;
  }
  // Waiting costs storage (and instances once available): stop rather than wait past the ceiling.
  guardCeiling(s, deps, deps.config.drill.pollSeconds, 'while waiting for the restore');
  // The RDS event (onRdsEvent) resumes the execution; if it never comes, WaitForRestore times out
  // and `status` polls.
  await deps.tokens.put(target.id, token, deps.config.drill.pollSeconds + TOKEN_GRACE_SECONDS, next);
  return next;
};

const status = async (pending: DrillState, deps: DrillDeps): Promise<DrillState> => {
  const s = await restoreWhenStaged(pending, deps);
  const target = s.target!;
  const d: TargetStatus = target.staged
    ? { status: target.status ?? 'copying', failed: false }
    : await deps.restore.describe(target);
  const now = deps.now();
  if (isReady(d)) return markAvailable(s, d, now);
  if (d.failed) throw new RestoreFailedError(restoreFailedCause(target, d));
  const waitedMs = now.getTime() - Date.parse(s.startedAt);
  const waited = Math.round(waitedMs / 1000);
  const limit = deps.config.drill.timeoutSeconds;
  // The state machine's Choice reads both flags, so both are always set.
  const next: DrillState = { ...s, available: false, timedOut: false, target: withStatus(s, d) };
  if (waitedMs <= limit * 1000) {
    guardCeiling(s, deps, deps.config.drill.pollSeconds, 'while waiting for the restore');
    return next;
  }
  return {
    ...next,
    timedOut: true,
    error: {
      Error: DRILL_TIMEOUT,
      Cause: `restore of ${target.id} not available after ${waited} s (status ${d.status}; drill.timeoutSeconds is ${limit})`,
    },
  };
};

const verify = async (s: DrillState, deps: VerifyDeps): Promise<DrillState> => {
  const target = s.target!;
  const cfg = drillTargetConfig(deps.config, s.database);
  const login = await loginOf(s, deps, 'verify the restore of');
  guardCeiling(s, deps, cfg.profile.budgetSeconds ?? 600, 'before verifying');
  // The restored copy keeps the source's roles and passwords as of the snapshot; a secret's host is
  // the source's, so only the user name and password are taken from it.
  const creds = await credentialsFor(login, target, deps);
  const verifyStartedAt = deps.now();
  const report = await deps.verify(
    {
      host: target.endpoint!.host,
      port: target.endpoint!.port,
      user: creds.username,
      password: creds.password,
      ssl: deps.ssl ?? { rejectUnauthorized: true },
    },
    cfg.profile,
    {
      referenceTime: new Date(s.source!.referenceTime),
      ...(s.baseline ? { baseline: s.baseline } : {}),
      now: () => deps.now().getTime(),
    },
  );
  const verifiedAt = deps.now();
  const verification = scrub(report, creds.password);
  logger.info('drill verified', {
    drillId: s.drillId,
    outcome: verification.outcome,
    failed: verification.checks.filter((c) => c.status === 'failed').map((c) => c.name),
    unfinished: verification.checks.filter((c) => c.status === 'unfinished').map((c) => c.name),
  });
  // Warm-up is worth its cost only for a copy that may be a recovery: not after a failed verification.
  const warm = cfg.warmup.enabled && verification.outcome !== 'failed';
  return {
    ...s,
    verifyStartedAt: verifyStartedAt.toISOString(),
    verifiedAt: verifiedAt.toISOString(),
    verification,
    ...(warm ? { warmup: newWarmup(verifiedAt, cfg.warmup.maxSeconds) } : {}),
  };
};

/**
 * One chunk of warm-up (at most `warmup.chunkSeconds` of reading); the state machine runs it again
 * while `warmup.pending`. Stops at `warmup.maxSeconds` or before the cost ceiling would be exceeded.
 */
const warmupTask = async (s: DrillState, deps: VerifyDeps): Promise<DrillState> => {
  const cfg = drillTargetConfig(deps.config, s.database);
  const progress = s.warmup;
  if (!progress?.pending) return s;
  const now = deps.now();
  const chunkMs = Math.min(cfg.warmup.chunkSeconds * 1000, Date.parse(progress.deadlineAt) - now.getTime());
  if (chunkMs <= 0) {
    return {
      ...s,
      warmup: stopWarmup(progress, 'deadline', `warmup.maxSeconds (${cfg.warmup.maxSeconds} s) reached`, now),
    };
  }
  const v = ceilingVerdict(s, deps.config, now, new Date(now.getTime() + chunkMs));
  if (!v.ok) {
    logger.warn('drill warm-up stopped by its cost ceiling', { drillId: s.drillId, reason: v.reason });
    return { ...s, warmup: stopWarmup(progress, 'cost-ceiling', v.reason, now) };
  }
  const target = s.target!;
  const creds = await credentialsFor(await loginOf(s, deps, 'warm up the restore of'), target, deps);
  const next = await deps.warmUp(
    {
      host: target.endpoint!.host,
      port: target.endpoint!.port,
      user: creds.username,
      password: creds.password,
      database: cfg.profile.database,
      ssl: deps.ssl ?? { rejectUnauthorized: true },
    },
    progress,
    {
      tables: cfg.warmup.tables,
      parallelism: cfg.warmup.parallelism,
      chunkMs,
      connectTimeoutMs: cfg.profile.connectTimeoutMs ?? 10_000,
      database: cfg.profile.database,
      now: () => deps.now().getTime(),
    },
  );
  const warmup = scrub(next, creds.password);
  logger.info('drill warm-up chunk', {
    drillId: s.drillId,
    blocksRead: warmup.blocksRead,
    blocksTotal: warmup.blocksTotal,
    complete: warmup.complete,
    chunks: warmup.chunks,
  });
  return { ...s, warmup };
};

/**
 * Delete the restored copy. Reached from every step (Catch), so the state may be partial, even the
 * raw execution input when `start` failed. Without `state.target` but past select, the copy is
 * looked up by its deterministic id: a restore that failed half-way may still have created it.
 */
const cleanup = async (raw: Record<string, unknown>, deps: DrillDeps): Promise<DrillState> => {
  const s = raw as Partial<DrillState>;
  if (s.kind === 'ebs') return cleanupVolumes(raw, deps);
  const at = deps.now().toISOString();
  let ref: TargetRef | undefined;
  if (s.target !== undefined) {
    const r = TargetShape.safeParse(s.target);
    if (!r.success) {
      throw new EventShapeError(
        'Invalid drill state for task cleanup',
        prefixed('state.target', formatIssues(r.error.issues)),
      );
    }
    ref = r.data;
  } else if (
    s.source &&
    s.drillId &&
    s.database &&
    (s.kind === 'rds-instance' || s.kind === 'aurora-cluster')
  ) {
    const id = drillTargetId(s.database, s.drillId);
    ref = { kind: s.kind, id, ...(s.kind === 'aurora-cluster' ? { instanceId: auroraWriterId(id) } : {}) };
  } else if (s.source && s.drillId && s.database && s.kind === 'redis') {
    ref = cacheCleanupRef({ database: s.database, drillId: s.drillId, source: s.source }, deps.config);
  }
  // A drill from the vault also deletes its own copy and unshares the vault's, whatever the restore did.
  let removed: Awaited<ReturnType<RestorePort['remove']>> | undefined;
  let failure: unknown;
  try {
    if (ref) removed = await deps.restore.remove(ref);
  } catch (e) {
    failure = e;
  }
  const vaultFailures = fromVault(s) ? await vaultCleanup(s, deps) : [];
  if (failure !== undefined && !vaultFailures.length) throw failure;
  if (failure !== undefined || vaultFailures.length)
    throw new PartialFailureError(`Drill ${s.drillId ?? '?'} cleanup incomplete`, [
      ...(failure !== undefined && ref ? [failureOf(`${ref.kind} ${ref.id}`, failure)] : []),
      ...vaultFailures,
    ]);
  if (!ref || !removed) {
    return { ...raw, cleanup: { status: 'skipped', at, detail: 'nothing was restored' } } as DrillState;
  }
  logger.info('drill cleanup', { drillId: s.drillId, target: ref, result: removed });
  return { ...raw, cleanup: { status: removed, at, detail: `${ref.kind} ${ref.id}` } } as DrillState;
};

/**
 * A state good enough to report on, from whatever reached Record (possibly the raw input when
 * `start` failed). `targets` stays absent then: it is how the report tells that start failed.
 */
const reportable = (raw: Record<string, unknown>, event: DrillTaskEvent, deps: BaseDeps): DrillState => {
  const s = raw as Partial<DrillState>;
  const database =
    typeof s.database === 'string' && s.database
      ? s.database
      : typeof raw.database === 'string'
        ? raw.database
        : 'unknown';
  const cfg = Object.hasOwn(deps.config.drill.targets, database)
    ? deps.config.drill.targets[database]
    : volumeTargetOf(deps.config, database)
      ? { kind: 'ebs' as const }
      : undefined;
  const exec = event.execution;
  return {
    ...(raw as object),
    drillId: s.drillId ?? sanitiseDrillId(exec?.name ?? `${database}-${compactTime(deps.now())}`),
    startedAt: s.startedAt ?? (exec ? new Date(exec.startTime).toISOString() : deps.now().toISOString()),
    input: s.input ?? ({ database } as DrillInput),
    database,
    kind: s.kind ?? cfg?.kind ?? 'rds-instance',
  } as DrillState;
};

/** One metric with the Database dimension (a single-metric emitter, so the dimension stays on it). */
const emit = (
  database: string,
  name: string,
  unit: (typeof MetricUnit)[keyof typeof MetricUnit],
  value: number,
) => {
  const m = metrics.singleMetric();
  m.addDimension('Database', database);
  m.addMetric(name, unit, value);
};

/** Instance-hours and estimated cost of the copy, from its shape and when it existed. */
const costOf = (s: DrillState, config: BaseDeps['config'], now: Date): DrillState['cost'] => {
  if (!s.shape || !s.target) return undefined;
  const { ceilingUsd, prices } = ceilingOf(s, config);
  return drillCost(
    s.shape,
    {
      requestedAt: s.target.requestedAt,
      ...(s.target.availableAt ? { availableAt: s.target.availableAt } : {}),
      until: s.cleanup?.at ?? now.toISOString(),
    },
    prices,
    ceilingUsd,
  );
};

const record = async (raw: DrillState, deps: DrillDeps): Promise<DrillState> => {
  const cost = costOf(raw, deps.config, deps.now());
  const s: DrillState = { ...raw, ...(cost ? { cost } : {}) };
  const v = drillVerdict(s);
  emit(s.database, 'DrillPassed', MetricUnit.Count, v.passed ? 1 : 0);
  emit(s.database, 'DrillInconclusive', MetricUnit.Count, v.outcome === 'inconclusive' ? 1 : 0);
  if (v.metrics) {
    emit(s.database, 'DrillRtoSeconds', MetricUnit.Seconds, v.metrics.rtoSeconds);
    if (v.metrics.rpoSeconds !== undefined) {
      emit(s.database, 'DrillRpoSeconds', MetricUnit.Seconds, v.metrics.rpoSeconds);
    }
    if (v.metrics.warm?.rtoSeconds !== undefined) {
      emit(s.database, 'DrillWarmRtoSeconds', MetricUnit.Seconds, v.metrics.warm.rtoSeconds);
    }
  }
  if (cost) {
    emit(s.database, 'DrillInstanceHours', MetricUnit.Count, cost.instanceHours);
    if (cost.estimatedUsd !== undefined)
      emit(s.database, 'DrillCostUsd', MetricUnit.NoUnit, cost.estimatedUsd);
  }
  const key = reportKey(s.database, s.drillId, s.startedAt);
  const next: DrillState = {
    ...s,
    result: {
      passed: v.passed,
      outcome: v.outcome,
      ...(v.metrics ? { metrics: v.metrics } : {}),
      reportKey: key,
      ...(v.failedStep ? { failedStep: v.failedStep } : {}),
      summary: v.summary,
    },
  };
  const failures: Failure[] = [];
  // The report first, then the message that links it (as every run summary does).
  let report: RunReportResult;
  try {
    report = {
      status: 'written',
      link: await deps.reports.put(key, JSON.stringify(drillReport(next, deps.place), null, 2)),
    };
  } catch (e) {
    failures.push(failureOf(`report ${key}`, e));
    report = reportUnavailable(e);
  }
  // Only a passed drill sets the bar for the next one: a failed restore must not lower it.
  if (v.passed && s.verification) {
    try {
      await deps.reports.put(baselineKey(s.database), JSON.stringify(s.verification.tables));
    } catch (e) {
      failures.push(failureOf(`baseline ${baselineKey(s.database)}`, e));
    }
  }
  try {
    await deps.notifier.send(
      drillNotification(
        next,
        v,
        key,
        report,
        (await import('./janitor.js')).janitorMaxAgeHours(deps.config.drill),
      ),
    );
  } catch (e) {
    failures.push(failureOf('drill notification', e));
  }
  logger.info('drill recorded', {
    drillId: s.drillId,
    database: s.database,
    passed: v.passed,
    failedStep: v.failedStep,
    outcome: v.outcome,
    rtoSeconds: v.metrics?.rtoSeconds,
    warmRtoSeconds: v.metrics?.warm?.rtoSeconds,
    rpoSeconds: v.metrics?.rpoSeconds,
    instanceHours: cost?.instanceHours,
    estimatedUsd: cost?.estimatedUsd,
    reportKey: key,
  });
  if (failures.length) throw new PartialFailureError(`Drill ${s.drillId} recorded incompletely`, failures);
  return next;
};

/** Run the `verify` or `warmup` task (the verifier function's whole job: both talk to the copy). */
export const runVerifyTask = async (raw: unknown, deps: VerifyDeps): Promise<DrillState> => {
  const event = parseDrillTaskEvent(raw);
  if (event.task !== 'verify' && event.task !== 'warmup') {
    throw new EventShapeError('Invalid drill task event', [
      `task: the verifier runs only "verify" and "warmup", not "${event.task}"`,
    ]);
  }
  const s = stateFor(event, 'source', 'target', 'endpoint');
  if (s.kind === 'redis') {
    throw new EventShapeError('Invalid drill task event', [
      'state.kind: a Redis drill is verified by the cache verifier (state VerifyCache), not the database verifier',
    ]);
  }
  return event.task === 'verify' ? verify(s, deps) : warmupTask(s, deps);
};

/** Run one control-plane task of the drill state machine (not `verify`, `warmup`) and return the next state. */
export const runDrillTask = async (raw: DrillTaskEvent | unknown, deps: DrillDeps): Promise<DrillState> => {
  const event = parseDrillTaskEvent(raw);
  switch (event.task) {
    case 'start':
      return start(event, deps);
    case 'select':
      return select(stateFor(event), deps);
    case 'restore':
      return restore(stateFor(event, 'source'), deps);
    case 'await': {
      if (!event.taskToken) {
        throw new EventShapeError('Invalid drill task event', [
          'taskToken: required by task await (invoke it with waitForTaskToken)',
        ]);
      }
      return awaitRestore(stateFor(event, 'source', 'target'), event.taskToken, deps);
    }
    case 'status': {
      const s = stateFor(event, 'source');
      // An EBS drill polls its volumes from a Wait loop in the state machine (no task token, no event).
      if (s.kind === 'ebs') return volumesStatus(s, deps);
      return status(stateFor(event, 'source', 'target'), deps);
    }
    case 'verify':
    case 'warmup':
      throw new EventShapeError('Invalid drill task event', [
        `task: "${event.task}" runs in the verifier function inside the VPC (runVerifyTask), not in the control plane`,
      ]);
    case 'verify-dr':
      return verifyCacheInDr(stateFor(event, 'source', 'target', 'endpoint'), event, deps);
    case 'verify-volumes':
      return verifyVolumes(stateFor(event, 'source'), deps);
    case 'endpoints':
      return ensureEndpoints(stateFor(event), deps);
    case 'close-endpoints':
      return closeEndpoints(event.state, event.execution?.name, deps);
    case 'cleanup':
      return cleanup(event.state, deps);
    case 'record':
      return record(reportable(event.state, event, deps), deps);
  }
};

// ---------------------------------------------------------------------------------------------
// RDS events

export const RdsEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.looseObject({
    source: v.literal('aws.rds'),
    'detail-type': v.string(),
    detail: v.looseObject({
      SourceIdentifier: v.string().check(v.minLength(1)),
      SourceType: v.optional(v.string()),
      EventID: v.optional(v.string()),
      Message: v.optional(v.string()),
    }),
  }),
);

export type RdsEventOutcome =
  | { outcome: 'ignored'; sourceId?: string; reason: string }
  | { outcome: 'not-ready' | 'no-token' | 'stale'; targetId: string; status: string }
  | { outcome: 'resumed' | 'failed'; targetId: string; status: string };

/**
 * An RDS event about a drill resource: if the restored copy is now ready (or failed), take the parked
 * task token and resume (or fail) the waiting execution. Not ready yet → the token stays parked.
 * Events are best effort; the state machine's polling (`status`) covers a lost one.
 */
export const onRdsEvent = async (raw: unknown, deps: DrillDeps): Promise<RdsEventOutcome> => {
  const r = RdsEvent.safeParse(raw);
  if (!r.success) throw new EventShapeError('Invalid RDS event', formatIssues(r.error.issues));
  const { SourceIdentifier, SourceType, EventID } = r.data.detail;
  const ref = drillTargetOf(SourceIdentifier, SourceType);
  if (!ref) {
    const reason = `${SourceIdentifier} is not a drill database (ids start with ${DRILL_PREFIX})`;
    logger.info('drill RDS event ignored', { eventId: EventID, reason });
    return { outcome: 'ignored', sourceId: SourceIdentifier, reason };
  }

  return resume(ref, EventID, deps);
};

// ---------------------------------------------------------------------------------------------
// ElastiCache events

// A drill group is `steward-drill-<name>-<8 hex>`; its nodes append `-001` (or `-0001-001` with shards).
const DRILL_CACHE = /^(steward-drill-(?:[a-z0-9-]*-)?[0-9a-f]{8})(?:-\d{3,4}(?:-\d{3})?)?$/;

export const CacheEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.looseObject({
    source: v.literal('aws.elasticache'),
    'detail-type': v.string(),
    resources: v.optional(v.array(v.string())),
    detail: v.optional(v.record(v.string(), v.unknown())),
  }),
);

/**
 * The drill group an ElastiCache event names, if any. The EventBridge reference lists "Cache Created" and
 * "Cache Creation Failed" without a detail schema, so the id is looked for in the detail's source
 * identifier and in the event's resource ARNs, for the group or one of its nodes.
 */
export const drillCacheOf = (raw: v.infer<typeof CacheEvent>): string | undefined => {
  const candidates = [
    ...Object.entries(raw.detail ?? {})
      .filter(([k, v]) => /source.?id/i.test(k) && typeof v === 'string')
      .map(([, v]) => v as string),
    ...(raw.resources ?? []).map((arn) => arn.split(':').at(-1) ?? ''),
  ];
  for (const c of candidates) {
    const m = DRILL_CACHE.exec(c.toLowerCase());
    if (m) return m[1];
  }
  return undefined;
};

/**
 * An ElastiCache event ("Cache Created", "Cache Creation Failed") about a Redis drill's group: resume (or
 * fail) the waiting execution, like an RDS event for a database drill. Best effort: polling covers a lost one.
 */
export const onCacheEvent = async (raw: unknown, deps: DrillDeps): Promise<RdsEventOutcome> => {
  const r = CacheEvent.safeParse(raw);
  if (!r.success) throw new EventShapeError('Invalid ElastiCache event', formatIssues(r.error.issues));
  const id = drillCacheOf(r.data);
  if (!id) {
    const reason = `${r.data['detail-type']}: names no drill replication group (ids start with ${DRILL_PREFIX})`;
    logger.info('drill ElastiCache event ignored', { reason });
    return { outcome: 'ignored', reason };
  }
  return resume({ kind: 'redis', id }, r.data['detail-type'], deps);
};

/** Resume (or fail) the execution waiting for `ref` if the copy is ready (or failed); else leave the token. */
const resume = async (
  ref: TargetRef,
  eventId: string | undefined,
  deps: DrillDeps,
): Promise<RdsEventOutcome> => {
  const d = await deps.restore.describe(ref);
  const base = { targetId: ref.id, status: d.status };
  logger.info('drill restore event', { eventId, ...base });
  if (!isReady(d) && !d.failed) return { outcome: 'not-ready', ...base };
  const parked = await deps.tokens.take(ref.id);
  if (!parked) return { outcome: 'no-token', ...base };
  try {
    if (isReady(d)) {
      await deps.signal.success(parked.token, markAvailable(parked.state, d, deps.now()));
      return { outcome: 'resumed', ...base };
    }
    await deps.signal.failure(parked.token, RESTORE_FAILED, restoreFailedCause(ref, d));
    return { outcome: 'failed', ...base };
  } catch (e) {
    // The execution stopped waiting (timed out into polling, or ended): polling carries on.
    if (e instanceof StaleTaskTokenError) return { outcome: 'stale', ...base };
    throw e;
  }
};

// ---------------------------------------------------------------------------------------------
// Step Functions: a drill execution that ended without steward's own handling

export const ExecutionStatusChange = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    source: v.literal('aws.states'),
    'detail-type': v.literal('Step Functions Execution Status Change'),
    detail: v.object({
      executionArn: v.string().check(v.minLength(1)),
      stateMachineArn: v.string().check(v.minLength(1)),
      name: v.string().check(v.minLength(1)),
      status: v.string().check(v.minLength(1)),
      startDate: v.optional(v.number()),
      stopDate: v.optional(v.nullable(v.number())),
    }),
  }),
);

/** Release the stage's drill endpoints after an execution ended, as outcomes (a failure is one, not a throw). */
const endpointOutcomes = async (wiring: DrillEndpointsDeps, at: Date, ended: string): Promise<Outcome[]> => {
  try {
    return (await releaseEndpoints(wiring, at, ended)).outcomes;
  } catch (e) {
    if (e instanceof PartialFailureError)
      return e.failures.map((f) => ({
        resource: f.resource,
        action: 'delete',
        status: 'failed',
        error: f.error,
      }));
    return [failedOutcome({ resource: 'drill endpoints', action: 'delete' }, e)];
  }
};

/** The DR region's drill endpoints, released as above; a DR network that cannot be read is a failed outcome. */
const drEndpointOutcomes = async (
  wiring: () => Promise<DrillEndpointsDeps | undefined>,
  at: Date,
  ended: string,
): Promise<Outcome[]> => {
  let dr: DrillEndpointsDeps | undefined;
  try {
    dr = await wiring();
  } catch (e) {
    return [failedOutcome({ resource: 'DR drill endpoints', action: 'delete' }, e)];
  }
  return dr ? endpointOutcomes(dr, at, ended) : [];
};

/** The error the drill state machine's own Fail state ends with: the drill was recorded and notified. */
export const DRILL_FAILED = 'DrillFailed';

export type ExecutionEndOutcome =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'alerted'; execution: string; status: string; cleanup: Outcome[] };

/**
 * A drill execution that ended ABORTED, TIMED_OUT or FAILED outside steward's own handling (someone stopped
 * it, a service error, the execution's own timeout): a critical alert at once, and its restored databases
 * (tagged `steward:drill=<execution name>`) deleted now rather than by the janitor hours later. A FAILED that
 * ended in steward's `DrillFailed` state was recorded and notified already: ignored.
 */
export const onExecutionEnd = async (raw: unknown, deps: DrillDeps): Promise<ExecutionEndOutcome> => {
  const r = ExecutionStatusChange.safeParse(raw);
  if (!r.success) throw new EventShapeError('Invalid Step Functions event', formatIssues(r.error.issues));
  const d = r.data.detail;
  const ours = `:stateMachine:steward-${deps.config.stage}-drill`;
  const ignore = (reason: string): ExecutionEndOutcome => {
    logger.info('drill execution event ignored', { execution: d.executionArn, reason });
    return { outcome: 'ignored', reason };
  };
  if (!d.stateMachineArn.endsWith(ours))
    return ignore(`${d.stateMachineArn} is not this stage's drill state machine`);
  if (!['ABORTED', 'TIMED_OUT', 'FAILED'].includes(d.status))
    return ignore(`execution ${d.name} is ${d.status}: nothing went wrong outside the drill`);
  if (d.status === 'FAILED') {
    const error = await deps.executions?.errorOf(d.executionArn);
    if (error === DRILL_FAILED)
      return ignore(
        `execution ${d.name} failed through the drill's own ${DRILL_FAILED} state: recorded and notified already`,
      );
  }
  const drillId = sanitiseDrillId(d.name);
  const drillVolumes = deps.ebs ? allDrillVolumes(deps.ebs) : undefined;
  let resources: Awaited<ReturnType<typeof deps.restore.listDrillResources>> = [];
  let volumes: Awaited<ReturnType<NonNullable<typeof drillVolumes>['listDrillVolumes']>> = [];
  let unlisted: ReturnType<typeof failedOutcome> | undefined;
  try {
    [resources, volumes] = await Promise.all([
      deps.restore.listDrillResources(),
      drillVolumes ? drillVolumes.listDrillVolumes() : [],
    ]);
  } catch (e) {
    // One failed outcome, as for the vault leftovers below: the alert still goes out, the vault's copy and shares
    // and the endpoints are still released, and the run fails after it (the janitor deletes what was left).
    unlisted = failedOutcome({ resource: 'restored databases and volumes', action: 'list' }, e);
  }
  // Verifier instances are not swept here: their own step ends them (the cleanup runs from every state), the
  // janitor sweeps strays; endpoints are closed by their own step. A vault drill's copy and shares go below.
  const leftovers: Exclude<
    SweptResource,
    { kind: 'ebs-verifier' | 'drill-copy' | 'vault-share' | 'vpc-endpoint' }
  >[] = [
    ...resources,
    ...volumeResources(volumes).filter((v) => v.status !== 'deleting' && v.status !== 'deleted'),
  ].filter((x) => x.drillId === drillId);
  const cleanup = [
    ...(unlisted ? [unlisted] : []),
    ...(await settleEach(
      leftovers,
      async (x): Promise<Outcome> => {
        const base = { resource: `${x.kind} ${x.id}`, action: 'delete' };
        if (deps.dryRun) return { ...base, status: 'planned' };
        const done =
          x.kind === 'ebs-volume' ? await drillVolumes!.remove(x.id) : await deps.restore.remove(x);
        return { ...base, status: done === 'deleted' ? 'done' : 'already-done' };
      },
      (x) => ({ resource: `${x.kind} ${x.id}`, action: 'delete' }),
    )),
  ];
  // A drill from the vault: its own copy, then the vault shares it recorded, once nothing of it reads them.
  const vaultCleanup = await vaultLeftovers(drillId, deps);
  // Its endpoints too, unless another drill runs (that drill's own Close, or the janitor, deletes them then),
  // in the stage's drill VPC and the DR region's.
  const endpoints = deps.dryRun
    ? []
    : [
        ...(deps.endpoints ? await endpointOutcomes(deps.endpoints, deps.now(), d.name) : []),
        ...(deps.drEndpoints ? await drEndpointOutcomes(deps.drEndpoints, deps.now(), d.name) : []),
      ];
  const started = d.startDate ? new Date(d.startDate).toISOString() : '?';
  const stopped = d.stopDate ? new Date(d.stopDate).toISOString() : '?';
  await deps.notifier.send({
    severity: 'critical',
    capability: 'drill',
    subject: `Drill execution ${d.name} ended ${d.status} outside the drill's own handling`,
    lines: [
      `Execution ${d.executionArn} started ${started}, ended ${d.status} at ${stopped}: the drill did not record a result, so this backup's restore is unproven.`,
      d.status === 'ABORTED'
        ? 'Someone or something stopped it (StopExecution).'
        : d.status === 'TIMED_OUT'
          ? "It ran past the state machine's own timeout."
          : "A state failed without reaching the drill's cleanup and record steps (a service error).",
      unlisted
        ? `Could not list its restored databases and volumes (FAILED: ${unlisted.error}): the janitor deletes them once they are older than its age.`
        : leftovers.length
          ? `Cleaned up its restored databases: ${cleanup.map((o) => `${o.resource} ${o.status === 'failed' ? `FAILED (${o.error})` : o.status}`).join(', ')}.`
          : 'It left no restored database behind.',
      ...(vaultCleanup.length
        ? [
            `Removed what it took from the backup vault: ${vaultCleanup.map((o) => `${o.action} ${o.resource} ${o.status === 'failed' ? `FAILED (${o.error})` : o.status === 'skipped' ? `skipped (${o.reason})` : o.status}`).join(', ')}.`,
          ]
        : []),
      ...(endpoints.length
        ? [
            `Released the drill endpoints (no other drill runs): ${endpoints.map((o) => `${o.resource} ${o.status === 'failed' ? `FAILED (${o.error})` : o.status}`).join(', ')}.`,
          ]
        : []),
      'Start the drill again: steward drill <database> --stage ' + deps.config.stage,
    ],
    data: {
      execution: d.executionArn,
      status: d.status,
      cleanup: [...cleanup, ...vaultCleanup, ...endpoints],
    },
  });
  metrics.addMetric('DrillExecutionsLost', MetricUnit.Count, 1);
  throwIfFailed(`cleanup after drill ${d.name}`, [...cleanup, ...vaultCleanup, ...endpoints]);
  return {
    outcome: 'alerted',
    execution: d.executionArn,
    status: d.status,
    cleanup: [...cleanup, ...vaultCleanup, ...endpoints],
  };
};

/**
 * What a drill from the vault that ended outside its own handling left: its own copy of a vault copy (deleted),
 * then the vault shares it recorded (taken back with the vault drill role, records forgotten), in that order.
 * Only this drill's: found by its drill id. Without the vault wiring, nothing (the janitor's then).
 */
const vaultLeftovers = async (drillId: string, deps: DrillDeps): Promise<Outcome[]> => {
  const v = deps.vault;
  if (!v) return [];
  let copies: DrillCopy[];
  let shares: VaultShare[];
  try {
    [copies, shares] = await Promise.all([
      v.staging.listDrillCopies(),
      v.shares ? v.shares.list(v.vault.account, v.vault.region) : [],
    ]);
  } catch (e) {
    // One failed outcome: the alert still goes out and the endpoints are still released; the janitor retries.
    return [failedOutcome({ resource: 'drill copies and vault shares', action: 'list' }, e)];
  }
  const copyOutcomes = await settleEach(
    copies.filter((c) => c.drillId === drillId),
    async (c): Promise<Outcome> => {
      const base = { resource: `drill copy ${c.id}`, action: 'delete' };
      if (deps.dryRun) return { ...base, status: 'planned' };
      return { ...base, status: (await v.staging.remove(c.id)) === 'deleted' ? 'done' : 'already-done' };
    },
    (c) => ({ resource: `drill copy ${c.id}`, action: 'delete' }),
  );
  const label = (x: VaultShare) => `vault copy ${x.copyId} (vault ${x.vaultAccount})`;
  const shareOutcomes = await settleEach(
    shares.filter((x) => x.drillId === drillId),
    async (x): Promise<Outcome> => {
      const base = { resource: label(x), action: 'unshare' };
      if (deps.dryRun) return { ...base, status: 'planned' };
      // Another drill's recorded share of the same copy keeps it shared (takeBackShare): that drill still runs.
      const r = await takeBackShare(v, x, shares);
      if (r.result === 'kept') return { ...base, status: 'skipped', reason: r.reason };
      return { ...base, status: r.result === 'done' ? 'done' : 'already-done' };
    },
    (x) => ({ resource: label(x), action: 'unshare' }),
  );
  return [...copyOutcomes, ...shareOutcomes];
};

// ---------------------------------------------------------------------------------------------
// Control-plane entry

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * Everything the drill control-plane function accepts: a task of the state machine (not `verify`,
 * which runs in the VPC), an RDS event, or `{ "action": "janitor" }`.
 */
export const runDrillControl = async (
  raw: unknown,
  deps: DrillDeps,
): Promise<DrillState | RdsEventOutcome | JanitorResult | ExecutionEndOutcome> => {
  if (isObject(raw) && ('task' in raw || 'state' in raw)) return runDrillTask(raw, deps);
  if (isObject(raw) && raw.source === 'aws.rds') return onRdsEvent(raw, deps);
  if (isObject(raw) && raw.source === 'aws.elasticache') return onCacheEvent(raw, deps);
  if (isObject(raw) && raw.source === 'aws.states') return onExecutionEnd(raw, deps);
  // The janitor's code is a chunk of its own, loaded by the janitor run (and a drill's last notice) only.
  if (isObject(raw) && raw.action === 'janitor')
    return (await import('./janitor.js')).runJanitor({
      ...deps,
      ...(deps.ebs ? { volumes: allDrillVolumes(deps.ebs) } : {}),
      ...(deps.ebs && allVerifiers(deps.ebs) ? { verifiers: allVerifiers(deps.ebs)! } : {}),
      ...(deps.endpoints ? { endpoints: deps.endpoints } : {}),
      ...(deps.drEndpoints ? { drEndpoints: deps.drEndpoints } : {}),
    });
  throw new EventShapeError('Unrecognised drill event', [
    '(root): expected a drill task { task, state }, an RDS event (source aws.rds), a Step Functions execution status change (source aws.states) or { "action": "janitor" }',
  ]);
};
