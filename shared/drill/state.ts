import * as v from '../valid.js';
import { SnapshotSelector } from '../config/parts.js';
import type { DrillCost, DrillKind, RestoreShape } from './cost.js';
import type { EbsDrillProgress } from './ebs-progress.js';
import type { EndpointsClosed, EndpointsProgress } from './endpoints.js';
import type { DrillMetrics } from './rto-rpo.js';
import type { VerificationReport } from './verification.js';
import type { WarmupProgress } from './warmup-progress.js';

/**
 * The drill state machine's contract. Every Task state invokes a drill function with
 * `{ task, state }` and gets the next `DrillState` back (payloadResponseOnly), so the whole
 * execution carries one growing, typed document. Catches put the error in `state.error`.
 */
export const DRILL_TASKS = [
  'start',
  'select',
  'restore',
  'await',
  'status',
  'verify',
  // A Redis drill from the DR copy: the drill function relays `verify` to the DR region's cache verifier.
  'verify-dr',
  'warmup',
  'verify-volumes',
  'endpoints',
  'close-endpoints',
  'cleanup',
  'record',
] as const;
export type DrillTask = (typeof DRILL_TASKS)[number];

/** Execution input: `steward drill`, the drill schedules and the console all start drills with this. */
export const DrillInput = /* @__PURE__ */ v.onFirstUse(() =>
  v.strictObject({
    /** A key of `drill.targets`, `drill.caches` or `drill.volumes` in the stage config. */
    database: v.string().check(v.minLength(1)),
    /** Overrides the target's configured selector. */
    snapshot: v.optional(SnapshotSelector),
    /** Override the configured targets for this drill. */
    rtoSeconds: v.optional(v.int().check(v.positive())),
    rpoSeconds: v.optional(v.int().check(v.positive())),
    /** Seed for `randomWithinDays`, so a retried select picks the same snapshot. Default: execution name. */
    seed: v.optional(v.string()),
  }),
);
export type DrillInput = v.infer<typeof DrillInput>;

/** The vault copy a drill restores (`from: vault`): where it is and who may be let restore it. */
export interface VaultSource {
  /** The vault account, and the region of the copy (the database's own: copies stay in their region). */
  account: string;
  region: string;
  copyId: string;
  copyArn: string;
  /**
   * The account the database lives in (the copy's `steward:source-account`): the hub's, or a target's
   * (`drill.targets.<db>.account`). Absent in a drill selected before it was recorded: the hub's.
   */
  sourceAccount?: string;
  /** An encrypted instance copy cannot be restored while shared: the drill copies it into its own account. */
  encrypted: boolean;
  /** Aurora: the copy's engine and version (RestoreDBClusterFromSnapshot requires the engine). */
  engine?: string;
  engineVersion?: string;
}

/** The restored, isolated copy under test. */
export interface DrillTarget {
  kind: DrillKind;
  /** Deterministic: `steward-drill-<db>-<execution short id>`, so a retried restore is a no-op. */
  id: string;
  /** For Aurora: the instance created in the restored cluster. */
  instanceId?: string;
  requestedAt: string;
  availableAt?: string;
  status?: string;
  endpoint?: { host: string; port: number };
  /**
   * Secret with credentials that open the restored copy (set by `restore`): the configured
   * `secretArn`, else the source's RDS-managed master secret (a restore keeps the master password).
   * An ARN, never a credential. Absent when the verifier logs in as `iamUser`.
   */
  secretArn?: string;
  /** The role the verifier logs in as with IAM database authentication (`auth: iam`). */
  iamUser?: string;
  /** Set when the copy is not in the stage's region: a Redis drill restored from the DR copy. */
  region?: string;
  /**
   * A drill from the vault of an RDS instance: the snapshot the drill copied the shared vault copy into, in this
   * account (same id as the copy; snapshot and instance ids are separate namespaces); restored once available.
   */
  staged?: string;
  /** Redis: TLS in transit is always on for a drill's replication group. */
  tls?: boolean;
}

export interface DrillState {
  /** Execution name (or the sandbox's run id); tags every drill resource as `steward:drill`. */
  drillId: string;
  /** ISO time the execution started: RTO is measured from here. */
  startedAt: string;
  input: DrillInput;
  /** The source database (config target key) and its resolved settings. */
  database: string;
  /** `ebs`: an EC2 instance's (or one volume's) snapshot set, restored as volumes (`ebs`, not `target`). */
  kind: DrillKind | 'ebs';
  /** RTO (to first verified query), RPO and, when configured, time-to-warm targets. */
  targets: { rtoSeconds: number; rpoSeconds: number; warmRtoSeconds?: number };
  /** What is restored: a snapshot, or a point in time of the source. */
  source?: {
    snapshotId?: string;
    snapshotArn?: string;
    /** Redis from the DR copy: the RDB files (S3 ARNs) restored with SnapshotArns. */
    rdbArns?: string[];
    /** Redis: what sizing the restore needs, as the snapshot (or the DR copy's metadata) states it. */
    cache?: {
      sourceNodeType?: string;
      engine?: string;
      engineVersion?: string;
      shards: number;
      largestShardBytes?: number;
    };
    /** A drill from the backup vault (`from: vault`): the vault's copy, shared with this account for the drill. */
    vault?: VaultSource;
    /** Redis: the region the snapshot is in (the DR region for `from: dr`). */
    region?: string;
    pointInTime?: string;
    /** Snapshot creation time or PITR target: data RPO is measured against it. */
    referenceTime: string;
  };
  target?: DrillTarget;
  /** EBS drills: the set, the volumes restored from it and their times, the verifier's answer, cleanup. */
  ebs?: EbsDrillProgress;
  /** What the copy is restored on (set by `restore`, updated with what RDS reports once available). */
  shape?: RestoreShape;
  /** Set by `status` (polling fallback): true once the target is available. */
  available?: boolean;
  /** Set by `status`: the drill ran out of time (drill.timeoutSeconds) waiting. */
  timedOut?: boolean;
  /**
   * Rows and checksums per table from the last passed drill of this database (loaded by `select`):
   * the baseline when the profile gives none.
   */
  baseline?: Record<string, { rows: number; checksum?: string }>;
  verifyStartedAt?: string;
  /** Set by `verify` when the checks finished: RTO ends here. */
  verifiedAt?: string;
  verification?: VerificationReport;
  /** Set by `verify` when warm-up is on and verification did not fail; `warmup` tasks move it on. */
  warmup?: WarmupProgress;
  /** Set by WarmUp's Catch once its retries are spent: warm-up incomplete, verification stands. */
  warmupError?: { Error: string; Cause?: string };
  /** `handed-over`: RDS would not delete the copy yet (still creating); its next event or the janitor does. */
  cleanup?: { status: 'deleted' | 'already-gone' | 'skipped' | 'handed-over'; at: string; detail?: string };
  /** `drill.endpoints.mode: per-drill`: the interface endpoints this drill needs (OpenEndpoints, CheckEndpoints). */
  endpoints?: EndpointsProgress;
  /** Set by CloseEndpoints: what became of the stage's drill endpoints. */
  endpointsClosed?: EndpointsClosed;
  /** Set by CloseEndpoints' Catch once its retries are spent: an endpoint may still exist (the janitor's then). */
  endpointsError?: { Error: string; Cause?: string };
  /** Set by a Catch: what failed, as Step Functions reports it. */
  error?: { Error: string; Cause?: string };
  /** Set by Cleanup's Catch once its retries are spent: the restored copy may still exist. */
  cleanupError?: { Error: string; Cause?: string };
  /** Set by `record`: instance-hours and estimated cost of the copy. */
  cost?: DrillCost;
  /**
   * Set by `record` when a passed drill left the baseline as it was: another drill (they overlapped, or this one
   * restored older data) had recorded one of newer data. Whose, and why.
   */
  baselineKept?: string;
  /** Set by `record`. */
  result?: {
    passed: boolean;
    outcome?: 'passed' | 'failed' | 'inconclusive';
    metrics?: DrillMetrics;
    reportKey?: string;
    failedStep?: string;
    summary: string;
  };
}

/** What a drill task Lambda receives. `taskToken` is present for the `await` task (waitForTaskToken). */
export const DrillTaskEvent = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    task: v.enum(DRILL_TASKS),
    state: v.record(v.string(), v.unknown()),
    taskToken: v.optional(v.string()),
    /** The execution's context: name and start time (from `$$.Execution`). */
    execution: v.optional(
      v.object({ name: v.string().check(v.minLength(1)), startTime: v.string().check(v.minLength(1)) }),
    ),
  }),
);
export type DrillTaskEvent = v.infer<typeof DrillTaskEvent>;
