import { EventShapeError } from '../errors.js';
import { logger } from '../observability.js';
import { ceilingVerdict, guardCeiling } from './ceiling.js';
import { scrub } from './checks.js';
import { credentialsFor, loginOf } from './login.js';
import type { DrillState } from './state.js';
import { drillTargetConfig, parseDrillTaskEvent, stateFor, type VerifyDeps } from './task-core.js';
import { newWarmup, stopWarmup } from './warmup-progress.js';

// The `verify` and `warmup` tasks: the verifier function's whole job (both talk to the restored copy).

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
