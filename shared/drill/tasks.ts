import { EventShapeError, formatIssues } from '../errors.js';
import { logger } from '../observability.js';
import type { BaseDeps } from '../runtime.js';
import type { ExecutionEndOutcome } from './execution-end.js';
import { sanitiseDrillId } from './ids.js';
import type { JanitorResult } from './janitor.js';
import type { RdsEventOutcome } from './restore-events.js';
import { selectSource } from './select.js';
import { cacheTargetOf, volumeTargetOf } from './stage-drills.js';
import { DrillInput, type DrillState, type DrillTaskEvent } from './state.js';
import {
  compactTime,
  type DrillDeps,
  drillTargetConfig,
  loadBaseline,
  parseDrillTaskEvent,
  stateFor,
  withAdapters,
} from './task-core.js';
import type * as CacheTasksModule from './cache-tasks.js';
import type * as EbsTasksModule from './ebs-tasks.js';
import type * as VaultTasksModule from './vault-tasks.js';
import type * as RestoreTasksModule from './restore-tasks.js';
import type * as EndpointTasksModule from './endpoint-tasks.js';
import type * as CleanupTaskModule from './cleanup-task.js';
import type * as RecordTaskModule from './record-task.js';
import type * as RestoreEventsModule from './restore-events.js';
import type * as ExecutionEndModule from './execution-end.js';

// Modules loaded on first use, once per container: `await import()` resolves again at every call, so each
// is kept as the promise of its first load (`await (loadedX ??= import(...))`).
let loadedCacheTasks: Promise<typeof CacheTasksModule> | undefined;
let loadedEbsTasks: Promise<typeof EbsTasksModule> | undefined;
let loadedVaultTasks: Promise<typeof VaultTasksModule> | undefined;
let loadedRestoreTasks: Promise<typeof RestoreTasksModule> | undefined;
let loadedEndpointTasks: Promise<typeof EndpointTasksModule> | undefined;
let loadedCleanupTask: Promise<typeof CleanupTaskModule> | undefined;
let loadedRecordTask: Promise<typeof RecordTaskModule> | undefined;
let loadedRestoreEvents: Promise<typeof RestoreEventsModule> | undefined;
let loadedExecutionEnd: Promise<typeof ExecutionEndModule> | undefined;

// The drill control plane's dispatcher: every task, event and the janitor. Each task, each kind's path (EBS,
// Redis, the vault) and each trigger other than a task is in a module of its own, imported here when first
// needed: a container loads only the code of what it runs (the select task of an RDS drill: this module,
// ./task-core.ts and ./select.ts). Keep it so: import those modules here with `await import()` only.

export {
  Baseline,
  DRILL_TIMEOUT,
  type DrillDeps,
  drillTargetConfig,
  type LateAdapters,
  parseDrillTaskEvent,
  RESTORE_FAILED,
  RestoreFailedError,
  type VerifyDeps,
  type VerifyFn,
  type WarmUpFn,
} from './task-core.js';

// ---------------------------------------------------------------------------------------------
// Tasks

const start = async (event: DrillTaskEvent, deps: BaseDeps): Promise<DrillState> => {
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
  if (cacheTargetOf(deps.config, input.database))
    return (await (loadedCacheTasks ??= import('./cache-tasks.js'))).startCache(base, deps.config);
  if (volumeTargetOf(deps.config, input.database))
    return (await (loadedEbsTasks ??= import('./ebs-tasks.js'))).startVolumes(base, deps.config);
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

const select = async (s: DrillState, deps: DrillDeps): Promise<DrillState> => {
  if (s.kind === 'ebs')
    return (await (loadedEbsTasks ??= import('./ebs-tasks.js'))).selectVolumes(s, await withAdapters(deps));
  if (s.kind === 'redis') {
    // A Redis drill's baseline is the last passed drill's key count per logical database (`db<N>`).
    const next = await (
      await (loadedCacheTasks ??= import('./cache-tasks.js'))
    ).selectCache(s, await withAdapters(deps));
    const baseline = await loadBaseline(s.database, deps);
    return { ...next, ...(baseline ? { baseline } : {}) };
  }
  const target = drillTargetConfig(deps.config, s.database);
  const selector = s.input.snapshot ?? target.snapshot;
  if (target.from === 'vault') {
    const { selectFromVault } = await (loadedVaultTasks ??= import('./vault-tasks.js'));
    const source = await selectFromVault(s, selector, await withAdapters(deps), target);
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

/** Run one control-plane task of the drill state machine (not `verify`, `warmup`) and return the next state. */
export const runDrillTask = async (raw: DrillTaskEvent | unknown, plain: DrillDeps): Promise<DrillState> => {
  const event = parseDrillTaskEvent(raw);
  // start and select need no late adapter (select builds them for the kinds that do); the others do.
  if (event.task === 'start') return start(event, plain);
  if (event.task === 'select') return select(stateFor(event), plain);
  if (event.task === 'verify' || event.task === 'warmup') {
    throw new EventShapeError('Invalid drill task event', [
      `task: "${event.task}" runs in the verifier function inside the VPC (runVerifyTask), not in the control plane`,
    ]);
  }
  const deps = await withAdapters(plain);
  switch (event.task) {
    case 'restore': {
      const s = stateFor(event, 'source');
      if (s.kind === 'ebs')
        return (await (loadedEbsTasks ??= import('./ebs-tasks.js'))).restoreVolumes(s, deps);
      if (s.kind === 'redis')
        return (await (loadedCacheTasks ??= import('./cache-tasks.js'))).restoreCache(s, deps);
      return (await (loadedRestoreTasks ??= import('./restore-tasks.js'))).restore(s, deps);
    }
    case 'await': {
      if (!event.taskToken) {
        throw new EventShapeError('Invalid drill task event', [
          'taskToken: required by task await (invoke it with waitForTaskToken)',
        ]);
      }
      const s = stateFor(event, 'source', 'target');
      return (await (loadedRestoreTasks ??= import('./restore-tasks.js'))).awaitRestore(
        s,
        event.taskToken,
        deps,
      );
    }
    case 'status': {
      const s = stateFor(event, 'source');
      // An EBS drill polls its volumes from a Wait loop in the state machine (no task token, no event).
      if (s.kind === 'ebs')
        return (await (loadedEbsTasks ??= import('./ebs-tasks.js'))).volumesStatus(s, deps);
      const pending = stateFor(event, 'source', 'target');
      return (await (loadedRestoreTasks ??= import('./restore-tasks.js'))).status(pending, deps);
    }
    case 'verify-dr': {
      const s = stateFor(event, 'source', 'target', 'endpoint');
      return (await (loadedCacheTasks ??= import('./cache-tasks.js'))).verifyCacheInDr(s, event, deps);
    }
    case 'verify-volumes': {
      const s = stateFor(event, 'source');
      return (await (loadedEbsTasks ??= import('./ebs-tasks.js'))).verifyVolumes(s, deps);
    }
    case 'endpoints': {
      const s = stateFor(event);
      return (await (loadedEndpointTasks ??= import('./endpoint-tasks.js'))).ensureEndpoints(s, deps);
    }
    case 'close-endpoints':
      return (await (loadedEndpointTasks ??= import('./endpoint-tasks.js'))).closeEndpoints(
        event.state,
        event.execution?.name,
        deps,
      );
    case 'cleanup':
      if (event.state.kind === 'ebs')
        return (await (loadedEbsTasks ??= import('./ebs-tasks.js'))).cleanupVolumes(event.state, deps);
      return (await (loadedCleanupTask ??= import('./cleanup-task.js'))).cleanup(event.state, deps);
    case 'record': {
      const { record, reportable } = await (loadedRecordTask ??= import('./record-task.js'));
      return record(reportable(event.state, event, deps), deps);
    }
  }
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
  plain: DrillDeps,
): Promise<DrillState | RdsEventOutcome | JanitorResult | ExecutionEndOutcome> => {
  if (isObject(raw) && ('task' in raw || 'state' in raw)) return runDrillTask(raw, plain);
  // Every other trigger needs the late adapters (a Redis copy's port, the EBS volumes, the endpoints).
  if (isObject(raw) && raw.source === 'aws.rds')
    return (await (loadedRestoreEvents ??= import('./restore-events.js'))).onRdsEvent(
      raw,
      await withAdapters(plain),
    );
  if (isObject(raw) && raw.source === 'aws.elasticache')
    return (await (loadedRestoreEvents ??= import('./restore-events.js'))).onCacheEvent(
      raw,
      await withAdapters(plain),
    );
  if (isObject(raw) && raw.source === 'aws.states')
    return (await (loadedExecutionEnd ??= import('./execution-end.js'))).onExecutionEnd(
      raw,
      await withAdapters(plain),
    );
  if (isObject(raw) && raw.action === 'janitor') {
    const deps = await withAdapters(plain);
    const [{ runJanitor }, ebs] = await Promise.all([
      import('./janitor.js'),
      deps.ebs ? import('./ebs-tasks.js') : undefined,
    ]);
    const verifiers = deps.ebs && ebs?.allVerifiers(deps.ebs);
    return runJanitor({
      ...deps,
      ...(deps.ebs && ebs ? { volumes: ebs.allDrillVolumes(deps.ebs) } : {}),
      ...(verifiers ? { verifiers } : {}),
      ...(deps.endpoints ? { endpoints: deps.endpoints } : {}),
      ...(deps.drEndpoints ? { drEndpoints: deps.drEndpoints } : {}),
    });
  }
  throw new EventShapeError('Unrecognised drill event', [
    '(root): expected a drill task { task, state }, an RDS event (source aws.rds), a Step Functions execution status change (source aws.states) or { "action": "janitor" }',
  ]);
};
