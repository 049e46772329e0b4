import type { ConnectionOptions } from 'node:tls';
import type { CacheSecrets, CacheTokenSigner } from './ports.js';
import { ConfigError, EventShapeError, formatIssues } from '../errors.js';
import { logger } from '../observability.js';
import type { StageDeps } from '../runtime.js';
import { scrub } from './checks.js';
import type { RedisConnection, RedisVerifyFn } from './redis/verification.js';
import { DrillTaskEvent, type DrillState } from './state.js';

/** What the cache verifier (inside the drill VPC) needs: the Redis engine and a token signer, nothing else. */
export interface CacheVerifyDeps extends StageDeps {
  /** The Redis verification engine: `verifyRedis` (./redis/verify.ts) in the function, tests their own. */
  verify: RedisVerifyFn;
  /** Signs the verifier user's IAM authentication token for the restored group (no AWS call). */
  sign: CacheTokenSigner;
  /** Reads the AUTH token or RBAC login of `auth: token` / `auth: user` (through the VPC endpoint). */
  secrets?: CacheSecrets;
  /** TLS for the connection: default verify the certificate (Amazon's CAs are public roots) and host name. */
  tls?: boolean | ConnectionOptions;
  /**
   * The region whose drill VPC this verifier runs in: the stage's, or `dr.region` for the DR stack's verifier
   * (drills from the DR copy). @default config.region
   */
  region?: string;
}

const need = (s: Partial<DrillState>): string[] => [
  ...(s.kind === 'redis'
    ? []
    : [`state.kind: the cache verifier verifies Redis drills, not ${String(s.kind)}`]),
  ...(s.source?.referenceTime ? [] : ['state.source: required (did select run?)']),
  ...(s.target?.endpoint
    ? []
    : ['state.target.endpoint: required (the restored group is not available yet)']),
];

/**
 * The `verify` task of a Redis drill: log in to the restored group (IAM token for steward's verifier user,
 * or no AUTH), run the checks of `drill.caches.<name>.checks`, and return the state with the report. The
 * token is scrubbed from anything the engine returned; it is never logged.
 */
export const runCacheVerifyTask = async (raw: unknown, deps: CacheVerifyDeps): Promise<DrillState> => {
  const e = DrillTaskEvent.safeParse(raw);
  if (!e.success) throw new EventShapeError('Invalid drill task event', formatIssues(e.error.issues));
  if (e.data.task !== 'verify') {
    throw new EventShapeError('Invalid drill task event', [
      `task: the cache verifier runs only "verify", not "${e.data.task}"`,
    ]);
  }
  const s = e.data.state as unknown as DrillState;
  const missing = need(s);
  if (missing.length) throw new EventShapeError('Invalid drill state for task verify', missing);
  const cfg = Object.hasOwn(deps.config.drill.caches, s.database)
    ? deps.config.drill.caches[s.database]
    : undefined;
  if (!cfg) {
    throw new EventShapeError('Unknown drill cache', [
      `state.database: "${s.database}" is not in drill.caches`,
    ]);
  }
  const target = s.target!;
  // The verifier reaches only its own drill VPC: a group in another region would only time out. Refuse at
  // once, so the drill cleans up and records why. (A group restored in dr.region is verified by the DR stack's
  // verifier, which the drill function relays to: state VerifyCacheInDr.)
  const here = deps.region ?? deps.config.region;
  const there = target.region ?? deps.config.region;
  if (there !== here) {
    throw new ConfigError(`Cannot verify ${s.database} in ${there}`, [
      `state.target.region: the drill group is in ${there}; this cache verifier reaches drill groups in ${here} only`,
    ]);
  }
  const login = await loginOf(target, cfg.auth, deps);
  const conn: RedisConnection = {
    host: target.endpoint!.host,
    port: target.endpoint!.port,
    tls: deps.tls ?? true,
    ...login,
  };
  const verifyStartedAt = deps.now();
  const report = await deps.verify(conn, cfg.checks, {
    referenceTime: new Date(s.source!.referenceTime),
    ...(s.baseline ? { baseline: s.baseline } : {}),
    now: () => deps.now().getTime(),
  });
  const verifiedAt = deps.now();
  const verification = login.password ? scrub(report, login.password) : report;
  logger.info('drill verified', {
    drillId: s.drillId,
    outcome: verification.outcome,
    failed: verification.checks.filter((c) => c.status === 'failed').map((c) => c.name),
    unfinished: verification.checks.filter((c) => c.status === 'unfinished').map((c) => c.name),
  });
  return {
    ...s,
    verifyStartedAt: verifyStartedAt.toISOString(),
    verifiedAt: verifiedAt.toISOString(),
    verification,
  };
};

/**
 * The verifier's login to the restored group: an IAM token it signs for steward's user (`iam`), the AUTH
 * token (`token`) or an RBAC user's login (`user`) from the secret the restore set on the copy, or none.
 */
const loginOf = async (
  target: NonNullable<DrillState['target']>,
  auth: 'token' | 'user' | 'none' | 'iam',
  deps: CacheVerifyDeps,
): Promise<{ username?: string; password?: string }> => {
  if (target.iamUser) {
    return {
      username: target.iamUser,
      password: await deps.sign({ groupId: target.id, userId: target.iamUser }),
    };
  }
  if (!target.secretArn || (auth !== 'token' && auth !== 'user')) return {};
  if (!deps.secrets) {
    throw new EventShapeError('Invalid drill state for task verify', [
      `state.target.secretArn: this verifier reads no secrets (auth: ${auth} needs the Secrets Manager endpoint)`,
    ]);
  }
  return auth === 'token'
    ? { password: await deps.secrets.token(target.secretArn) }
    : deps.secrets.user(target.secretArn);
};
