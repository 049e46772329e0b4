import { errorMessage, EventShapeError } from '../errors.js';
import { logger } from '../observability.js';
import { Tag } from '../tags.js';
import { guardCeiling } from './ceiling.js';
import { drillTargetId } from './ids.js';
import { loginOf } from './login.js';
import type { TargetStatus } from './ports.js';
import { restoreOverrides, restoreShape } from './shape.js';
import type { DrillState } from './state.js';
import {
  DRILL_TIMEOUT,
  type DrillDeps,
  drillTargetConfig,
  isReady,
  markAvailable,
  RESTORE_FAILED,
  RestoreFailedError,
  restoreFailedCause,
  TOKEN_GRACE_SECONDS,
  withStatus,
} from './task-core.js';
import { fromVault, otherSourceAccount, vaultRestoreSource } from './vault-tasks.js';

// The restore of an RDS instance or Aurora cluster drill and the wait for it: the `restore`, `await` and
// `status` tasks (loaded by ./tasks.ts when a drill first reaches them).

/** Restore an RDS instance or Aurora cluster drill's copy (EBS and Redis drills restore in their own modules). */
export const restore = async (s: DrillState, deps: DrillDeps): Promise<DrillState> => {
  if (s.kind === 'ebs' || s.kind === 'redis') {
    // The dispatcher (./tasks.ts) sends these to their own modules; reaching here is a wiring fault.
    throw new EventShapeError('Invalid drill state for task restore', [
      `state.kind: a ${s.kind} drill is restored by its own task module, not the database restore`,
    ]);
  }
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

/** A drill from the vault whose own copy was not available yet: try the restore again (idempotent). */
const restoreWhenStaged = async (s: DrillState, deps: DrillDeps): Promise<DrillState> =>
  s.target?.staged ? restore(s, deps) : s;

export const awaitRestore = async (
  pending: DrillState,
  token: string,
  deps: DrillDeps,
): Promise<DrillState> => {
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

export const status = async (pending: DrillState, deps: DrillDeps): Promise<DrillState> => {
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
