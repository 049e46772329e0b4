import * as v from '../valid.js';
import type { DrillTarget as DrillTargetConfig, StewardConfig } from '../config/schema.js';
import { EventShapeError, errorMessage, formatIssues, StewardError } from '../errors.js';
import { logger } from '../observability.js';
import type { BaseDeps, StageDeps } from '../runtime.js';
import type { RunReports } from '../notify/run-report.js';
import type {
  CopyDeletionLedger,
  CredentialsPort,
  DrillNetwork,
  ExecutionLookup,
  ReportStore,
  RestorePort,
  SentAlerts,
  TargetRef,
  TargetStatus,
  TaskSignal,
  TokenStore,
} from './ports.js';
import { baselineKey } from './report-keys.js';
import { DrillInput, type DrillState, type DrillTarget, DrillTaskEvent } from './state.js';
import type { PgConnection, VerifyFn, WarmUpFn } from './verification.js';
import type { VaultDrillDeps } from './vault-tasks.js';
import type { EbsDrillDeps } from './ebs-tasks.js';
import type { DrillEndpointsDeps } from './endpoint-tasks.js';
import type { CacheDrillDeps } from './cache-tasks.js';

// What every drill task shares: its deps, the task event and state shapes, the last passed drill's baseline
// and the restored copy's status. The tasks themselves live in modules of their own, which the dispatcher
// (./tasks.ts) imports when a task first needs them, so a Lambda container loads only the code it runs.

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
  /** The critical alerts of executions that ended outside the drill, sent already; without it, each run sends. */
  alerts?: SentAlerts;
  /**
   * The copies being deleted (state table): Cleanup hands one RDS will not delete yet to its next event and the
   * janitor; without it such a copy is a cleanup failure left to the janitor's age rule.
   */
  deletions?: CopyDeletionLedger;
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
  /**
   * The adapters only some tasks use (the Redis, EBS, vault and endpoint ports, and the restore port that
   * covers Redis copies too), built on first use: the Lambda's wiring loads their code only when a task or
   * trigger needs them (not for the select task of an RDS drill). What it returns replaces those fields.
   */
  adapters?: () => Promise<LateAdapters>;
}

/** What `DrillDeps.adapters` builds. */
export type LateAdapters = Partial<
  Pick<DrillDeps, 'restore' | 'caches' | 'vault' | 'ebs' | 'endpoints' | 'drEndpoints'>
>;

/** The deps with their late adapters built (`DrillDeps.adapters`); the same deps when there are none. */
export const withAdapters = async (deps: DrillDeps): Promise<DrillDeps> =>
  deps.adapters ? { ...deps, ...(await deps.adapters()) } : deps;

/** The restore reached a state from which it never becomes available. */
export class RestoreFailedError extends StewardError {
  override name = 'RestoreFailedError';
}

/** Error name `await` fails its task token with when the restore failed. */
export const RESTORE_FAILED = 'RestoreFailed';
/** `state.error.Error` when the restore did not become available within `drill.timeoutSeconds`. */
export const DRILL_TIMEOUT = 'DrillTimeout';
// A parked token outlives WaitForRestore's timeout (pollSeconds) a little, then it is useless.
export const TOKEN_GRACE_SECONDS = 300;

// ---------------------------------------------------------------------------------------------
// Shapes

const IsoTime = /* @__PURE__ */ v.onFirstUse(() =>
  v.string().check(v.refine((s) => Number.isFinite(Date.parse(s)), 'must be an ISO-8601 time')),
);
const Kind = /* @__PURE__ */ v.onFirstUse(() => v.enum(['rds-instance', 'aurora-cluster', 'redis']));
const StateKind = /* @__PURE__ */ v.onFirstUse(() =>
  v.enum(['rds-instance', 'aurora-cluster', 'redis', 'ebs']),
);
export const TargetShape = /* @__PURE__ */ v.onFirstUse(() =>
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

export const prefixed = (prefix: string, issues: string[]) => issues.map((i) => `${prefix}.${i}`);

/** Parse a drill task event; malformed → EventShapeError naming every bad field. */
export const parseDrillTaskEvent = (raw: unknown): DrillTaskEvent => {
  const r = DrillTaskEvent.safeParse(raw);
  if (!r.success) throw new EventShapeError('Invalid drill task event', formatIssues(r.error.issues));
  return r.data;
};

type Needed = 'source' | 'target' | 'endpoint';

/** The state a task received, checked for what the task needs. */
export const stateFor = (event: DrillTaskEvent, ...needs: Needed[]): DrillState => {
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

export const compactTime = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');

/** The stored baseline's `type`: the document also says whose drill set it and from which data time. */
export const BASELINE_TYPE = 'steward-drill-baseline';

/** A stored baseline: its tables, and (since steward records them) the drill that set it and its data time. */
export interface StoredBaseline {
  tables: NonNullable<DrillState['baseline']>;
  drillId?: string;
  referenceTime?: string;
}

/**
 * The baseline a drill of `database` left: the tables, with who set it and from which data time; one written
 * before steward recorded those is the bare tables. An unreadable or malformed one is logged and ignored.
 */
export const readBaseline = async (
  database: string,
  deps: DrillDeps,
): Promise<StoredBaseline | undefined> => {
  try {
    const raw = await deps.reports.get(baselineKey(database));
    if (raw === undefined) return undefined;
    const json: unknown = JSON.parse(raw);
    const doc =
      typeof json === 'object' && json !== null && (json as { type?: unknown }).type === BASELINE_TYPE;
    let issues;
    if (doc) {
      const d = BaselineDocument.safeParse(json);
      if (d.success) {
        const { tables, drillId, referenceTime } = d.data;
        return { tables, drillId, ...(referenceTime ? { referenceTime } : {}) };
      }
      issues = d.error.issues;
    } else {
      const t = Baseline.safeParse(json);
      if (t.success) return { tables: t.data };
      issues = t.error.issues;
    }
    logger.warn('ignoring a malformed drill baseline', { database, issues: formatIssues(issues) });
  } catch (e) {
    logger.warn('drill baseline unreadable, using configured baselines only', {
      database,
      error: errorMessage(e),
    });
  }
  return undefined;
};

/** The last passed drill's tables; an unreadable baseline is logged and ignored (checks fall back to config). */
export const loadBaseline = async (database: string, deps: DrillDeps): Promise<DrillState['baseline']> =>
  (await readBaseline(database, deps))?.tables;

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

const BaselineDocument = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    type: v.literal(BASELINE_TYPE),
    drillId: v.string(),
    referenceTime: v.optional(v.string()),
    tables: Baseline,
  }),
);

/** The shape RDS reports for the copy, over what was requested. */
export const withActualShape = (s: DrillState, d: TargetStatus): DrillState['shape'] =>
  s.shape && d.shape
    ? {
        ...s.shape,
        ...Object.fromEntries(Object.entries(d.shape).filter(([, v]) => v !== undefined)),
      }
    : s.shape;

export const isReady = (d: TargetStatus) => d.status === 'available' && d.endpoint !== undefined;

export const withStatus = (s: DrillState, d: TargetStatus): DrillTarget => ({
  ...s.target!,
  status: d.status,
});

/** The next state once the restored copy is ready: where to connect and when it became ready. */
export const markAvailable = (s: DrillState, d: TargetStatus, now: Date): DrillState => ({
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

export const restoreFailedCause = (t: TargetRef, d: TargetStatus) =>
  `restore of ${t.kind} ${t.id} failed: status ${d.status}`;

/**
 * Take the copy's parked task token, if any (a WaitForRestore that timed out into polling leaves it until its
 * time to live): from then on no RDS event makes the drill add an Aurora writer or reader to a copy being
 * deleted (RDS refuses to delete a cluster still creating; the writer would be billed until the janitor). A
 * store that cannot be reached is logged: the token expires within pollSeconds and a grace anyway.
 */
export const dropToken = async (targetId: string, deps: { tokens: TokenStore }): Promise<void> => {
  try {
    await deps.tokens.take(targetId);
  } catch (e) {
    logger.warn('Could not take the parked task token of a drill copy being deleted', {
      targetId,
      error: errorMessage(e),
    });
  }
};
