import type { ConnectionOptions } from 'node:tls';
import type { TableBaseline, VerificationReport } from '../verification.js';
import type { RedisVerificationProfileInput } from './profile.js';

// What the Redis verification engine (./verify.ts, with its own small RESP client, ./client.ts) takes and
// returns. The report is the PostgreSQL engine's shape, so report.ts, rto-rpo.ts, the drill's record
// step and the evidence read a Redis drill as they read a database drill: `tables` holds one entry per
// logical database, `db<N>`, whose `rows` is its key count (the next drill's baseline).

/** Where the restored cache listens, and how to log in. Neither secret is ever logged or put in an error. */
export interface RedisConnection {
  host: string;
  port: number;
  /** RBAC user (`AUTH <username> <password>`); absent: `AUTH <password>` with the AUTH token. */
  username?: string;
  /** The AUTH token or the user's password; absent: no AUTH. */
  password?: string;
  /**
   * `true` (verify the certificate against the system CAs and the host name), or TLS options such as
   * `{ ca, servername }`. Absent or `false`: plain TCP (the local sandbox only).
   */
  tls?: boolean | ConnectionOptions;
}

/** The key count baseline of a logical database, keyed `db<N>` (a `TableBaseline` with `rows` = keys). */
export type RedisBaseline = Record<string, TableBaseline>;

export interface RedisVerifyContext {
  /** Snapshot time: data RPO is measured against it. */
  referenceTime: Date;
  /** From the last passed drill (its report's `tables`), keyed `db<N>`. */
  baseline?: RedisBaseline;
  /** Millisecond clock, injected so timing is testable. */
  now: () => number;
}

/** The baseline key of logical database `db`. */
export const dbKey = (db: number): string => `db${db}`;

/**
 * The Redis engine's signature: a verifier function injects `verifyRedis` (./verify.ts), tests their own.
 * Never throws for what it finds (a refused connection is a failed `connect` check); throws ConfigError
 * only for an invalid profile.
 */
export type RedisVerifyFn = (
  conn: RedisConnection,
  profile: RedisVerificationProfileInput,
  ctx: RedisVerifyContext,
) => Promise<VerificationReport>;
