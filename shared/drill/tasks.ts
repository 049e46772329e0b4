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
import { once } from '../once.js';

// Modules loaded on first use, once per container (shared/once.ts: `import()` resolves again at each call).
const loadCacheTasks = /* @__PURE__ */ once(() => import('./cache-tasks.js'));
const loadEbsTasks = /* @__PURE__ */ once(() => import('./ebs-tasks.js'));
const loadVaultTasks = /* @__PURE__ */ once(() => import('./vault-tasks.js'));
const loadRestoreTasks = /* @__PURE__ */ once(() => import('./restore-tasks.js'));
const loadEndpointTasks = /* @__PURE__ */ once(() => import('./endpoint-tasks.js'));
const loadCleanupTask = /* @__PURE__ */ once(() => import('./cleanup-task.js'));
const loadRecordTask = /* @__PURE__ */ once(() => import('./record-task.js'));
const loadRestoreEvents = /* @__PURE__ */ once(() => import('./restore-events.js'));
const loadExecutionEnd = /* @__PURE__ */ once(() => import('./execution-end.js'));

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
    return (await loadCacheTasks()).startCache(base, deps.config);
  if (volumeTargetOf(deps.config, input.database))
    return (await loadEbsTasks()).startVolumes(base, deps.config);
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
  if (s.kind === 'ebs') return (await loadEbsTasks()).selectVolumes(s, await withAdapters(deps));
  if (s.kind === 'redis') {
    // A Redis drill's baseline is the last passed drill's key count per logical database (`db<N>`).
    const next = await (await loadCacheTasks()).selectCache(s, await withAdapters(deps));
    const baseline = await loadBaseline(s.database, deps);
    return { ...next, ...(baseline ? { baseline } : {}) };
  }
  const target = drillTargetConfig(deps.config, s.database);
  const selector = s.input.snapshot ?? target.snapshot;
  if (target.from === 'vault') {
    const { selectFromVault } = await loadVaultTasks();
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
      if (s.kind === 'ebs') return (await loadEbsTasks()).restoreVolumes(s, deps);
      if (s.kind === 'redis') return (await loadCacheTasks()).restoreCache(s, deps);
      return (await loadRestoreTasks()).restore(s, deps);
    }
    case 'await': {
      if (!event.taskToken) {
        throw new EventShapeError('Invalid drill task event', [
          'taskToken: required by task await (invoke it with waitForTaskToken)',
        ]);
      }
      const s = stateFor(event, 'source', 'target');
      return (await loadRestoreTasks()).awaitRestore(s, event.taskToken, deps);
    }
    case 'status': {
      const s = stateFor(event, 'source');
      // An EBS drill polls its volumes from a Wait loop in the state machine (no task token, no event).
      if (s.kind === 'ebs') return (await loadEbsTasks()).volumesStatus(s, deps);
      const pending = stateFor(event, 'source', 'target');
      return (await loadRestoreTasks()).status(pending, deps);
    }
    case 'verify-dr': {
      const s = stateFor(event, 'source', 'target', 'endpoint');
      return (await loadCacheTasks()).verifyCacheInDr(s, event, deps);
    }
    case 'verify-volumes': {
      const s = stateFor(event, 'source');
      return (await loadEbsTasks()).verifyVolumes(s, deps);
    }
    case 'endpoints': {
      const s = stateFor(event);
      return (await loadEndpointTasks()).ensureEndpoints(s, deps);
    }
    case 'close-endpoints':
      return (await loadEndpointTasks()).closeEndpoints(event.state, event.execution?.name, deps);
    case 'cleanup':
      if (event.state.kind === 'ebs') return (await loadEbsTasks()).cleanupVolumes(event.state, deps);
      return (await loadCleanupTask()).cleanup(event.state, deps);
    case 'record': {
      const { record, reportable } = await loadRecordTask();
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
    return (await loadRestoreEvents()).onRdsEvent(raw, await withAdapters(plain));
  if (isObject(raw) && raw.source === 'aws.elasticache')
    return (await loadRestoreEvents()).onCacheEvent(raw, await withAdapters(plain));
  if (isObject(raw) && raw.source === 'aws.states')
    return (await loadExecutionEnd()).onExecutionEnd(raw, await withAdapters(plain));
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
      ...(deps.ebs?.fastRestores ? { fastRestores: deps.ebs.fastRestores } : {}),
      ...(verifiers ? { verifiers } : {}),
      ...(deps.endpoints ? { endpoints: deps.endpoints } : {}),
      ...(deps.drEndpoints ? { drEndpoints: deps.drEndpoints } : {}),
    });
  }
  throw new EventShapeError('Unrecognised drill event', [
    '(root): expected a drill task { task, state }, an RDS event (source aws.rds), a Step Functions execution status change (source aws.states) or { "action": "janitor" }',
  ]);
};
