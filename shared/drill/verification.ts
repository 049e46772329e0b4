import type { ConnectionOptions } from 'node:tls';
import type { CheckResult, CountMethod, Probe, VerificationOutcome } from './checks.js';
import type { VerificationProfileInput } from './profile.js';
import type { WarmupOptions, WarmupProgress } from './warmup-progress.js';

// What the verification engine (./verifier/, the only drill code that speaks PostgreSQL) takes and
// returns. The rules and the tasks need only these shapes, so pg stays out of every bundle but the
// verifier's.

/** Where the restored database listens. `database` defaults to the profile's. */
export interface PgConnection {
  host: string;
  port: number;
  user: string;
  password?: string;
  database?: string;
  /** `true`, or TLS options such as `{ ca, rejectUnauthorized: true }` for RDS. */
  ssl?: boolean | ConnectionOptions;
}

/** A table's numbers from a drill: the next drill's baseline. */
export interface TableBaseline {
  rows: number;
  /** How `rows` was obtained; absent in baselines written before estimates existed (exact). */
  method?: CountMethod;
  checksum?: string;
  /** The key the probes ranged over, and the probed ranges with their exact counts. */
  key?: string;
  probes?: Probe[];
}

export interface VerifyContext {
  /** Snapshot time, or the PITR target time: data RPO is measured against it. */
  referenceTime: Date;
  /** From config or the last successful drill, keyed by the profile's table name. */
  baseline?: Record<string, TableBaseline>;
  /** Millisecond clock, injected so timing is testable. */
  now: () => number;
}

export interface VerificationReport {
  /** True only when every check passed. */
  passed: boolean;
  /** `inconclusive`: nothing failed, but at least one check did not finish within its bound. */
  outcome: VerificationOutcome;
  host: string;
  port: number;
  database: string;
  user: string;
  referenceTime: string;
  checks: CheckResult[];
  /** Worst data RPO over the tables with a freshness column. */
  dataRpoSeconds?: number;
  /** Newest row time of the table that sets `dataRpoSeconds`. */
  newestRowTime?: string;
  verifyMs: number;
  /** The verification's time budget (`budgetSeconds`), in milliseconds. */
  budgetMs: number;
  /** Rows and checksums measured now: a new baseline when the drill passes. */
  tables: Record<string, TableBaseline>;
}

/** The verification engine's signature: the verifier function injects `verifyDatabase`, tests their own. */
export type VerifyFn = (
  conn: PgConnection,
  profile: VerificationProfileInput,
  ctx: VerifyContext,
) => Promise<VerificationReport>;

/** The warm-up engine's signature: the verifier function injects `warmUp`, tests their own. */
export type WarmUpFn = (
  conn: PgConnection,
  progress: WarmupProgress,
  options: WarmupOptions,
) => Promise<WarmupProgress>;
