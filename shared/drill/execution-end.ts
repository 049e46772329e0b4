import * as v from '../valid.js';
import { errorMessage, EventShapeError, formatIssues, PartialFailureError } from '../errors.js';
import type { Notification } from '../notify/notifier.js';
import type { Outcome } from '../model.js';
import { logger, metrics, MetricUnit } from '../observability.js';
import { failedOutcome, settleEach, throwIfFailed } from '../outcomes.js';
import { Tag } from '../tags.js';
import { type DrillVolume, FAST_RESTORE_TAG, volumeResources } from './ebs.js';
import { allDrillVolumes } from './ebs-tasks.js';
import {
  addFastRestores,
  type FastRestoresByZone,
  listFastRestores,
  turnOffFastRestores,
} from './fast-restores.js';
import { type DrillEndpointsDeps, releaseEndpoints } from './endpoint-tasks.js';
import { sanitiseDrillId } from './ids.js';
import type { SweptResource } from './janitor.js';
import { type DrillCopy, PartialListingError, type VaultShare } from './ports.js';
import { deleteCopy, deletedInDryRun, HANDED_OVER } from './copy-deletions.js';
import type { DrillDeps } from './task-core.js';
import { takeBackShare } from './vault-tasks.js';

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
      /** The execution's input as JSON (null when over the event's size limit). */
      input: v.optional(v.nullable(v.string())),
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
/** The error a drill ends with when its Record step failed: its notification may never have gone out. */
export const DRILL_RECORD_FAILED = 'DrillRecordFailed';

export type ExecutionEndOutcome =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'alerted'; execution: string; status: string; cleanup: Outcome[] };

/**
 * A drill execution that ended ABORTED, TIMED_OUT or FAILED outside steward's own handling (someone stopped
 * it, a service error, the execution's own timeout): a critical alert at once, and its restored databases
 * (tagged `steward:drill=<execution name>`) deleted now rather than by the janitor hours later. A FAILED that
 * ended in steward's `DrillFailed` state was recorded and notified already: ignored. One that ended in
 * `DrillRecordFailed` (its Record step failed, so its notification may be lost) is alerted like the others.
 * In a dry-run stage its restored copy and its own copy of a vault copy are deleted all the same (its drill
 * created them for real); everything else is only planned, and an operator's preview plans everything.
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
  // Why it failed, when Step Functions cannot say (after the adapter's retries): the alert goes out, naming
  // that, rather than be lost to a guess; at worst it repeats the drill's own.
  let unknown: string | undefined;
  let error: string | undefined;
  if (d.status === 'FAILED') {
    try {
      error = await deps.executions?.errorOf(d.executionArn);
    } catch (e) {
      unknown = errorMessage(e);
      logger.warn('Could not read how a drill execution failed: alerting', {
        execution: d.executionArn,
        unknown,
      });
    }
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
  // A listing that fails is one failed outcome, as for the vault leftovers below: the alert still goes out, what
  // the other listings (regions, services) found is still deleted, the vault's copy and shares and the endpoints
  // are still released, and the run fails after it (the janitor deletes what was left).
  const listing = async <T>(list: () => Promise<T[]>): Promise<T[]> => {
    try {
      return await list();
    } catch (e) {
      unlisted ??= failedOutcome({ resource: 'restored databases and volumes', action: 'list' }, e);
      return e instanceof PartialListingError ? [...(e.found as readonly T[])] : [];
    }
  };
  [resources, volumes] = await Promise.all([
    listing(() => deps.restore.listDrillResources()),
    drillVolumes ? listing(() => drillVolumes.listDrillVolumes()) : [],
  ]);
  // Verifier instances are not swept here: their own step ends them (the cleanup runs from every state), the
  // janitor sweeps strays; endpoints are closed by their own step. A vault drill's copy and shares go below.
  const leftovers: Exclude<
    SweptResource,
    { kind: 'ebs-verifier' | 'drill-copy' | 'vault-share' | 'vpc-endpoint' }
  >[] = [
    ...resources,
    ...volumeResources(volumes).filter((v) => v.status !== 'deleting' && v.status !== 'deleted'),
  ].filter((x) => x.drillId === drillId);
  // Fast snapshot restore this EBS drill turned on at its restore, billed per snapshot and zone hour until turned
  // off, which its Cleanup step does and this execution never reached: off for the snapshots its ledger records
  // (written before each was turned on: the execution may have ended before any volume existed) and its volumes
  // record, in their zone, and the records forgotten. One that was on before the drill is recorded nowhere, and
  // stays on; one another drill's record names stays on for that drill.
  const ledger = deps.ebs?.fastRestores;
  const { records, failed: recordsUnread } = await listFastRestores(ledger);
  const want = fastRestoresOf(volumes.filter((x) => x.tags[Tag.drill] === drillId));
  for (const r of records)
    if (r.drillId === drillId) addFastRestores(want, r.availabilityZone, [r.snapshotId]);
  const fastRestores = [...want].map(([zone, ids]) => ({ zone, snapshots: [...ids].sort() }));
  const cleanup = [
    ...(unlisted ? [unlisted] : []),
    ...(await settleEach(
      leftovers,
      async (x): Promise<Outcome> => {
        const base = { resource: `${x.kind} ${x.id}`, action: 'delete' };
        // A dry-run stage's drill deletes its restored copy for real: so does this, in its place.
        if (deps.dryRun && !deletedInDryRun(x.kind, deps)) return { ...base, status: 'planned' };
        // Recorded and its token taken first, as Cleanup does; one RDS is still creating is handed over.
        const done =
          x.kind === 'ebs-volume' ? await drillVolumes!.remove(x.id) : await deleteCopy(x, drillId, deps);
        if (done === 'handed-over') return { ...base, status: 'skipped', reason: HANDED_OVER };
        return { ...base, status: done === 'deleted' ? 'done' : 'already-done' };
      },
      (x) => ({ resource: `${x.kind} ${x.id}`, action: 'delete' }),
    )),
    ...(recordsUnread ? [recordsUnread] : []),
    ...(drillVolumes
      ? await turnOffFastRestores(drillVolumes, want, {
          ledger,
          records,
          ending: (x) => x.drillId === drillId,
          dryRun: deps.dryRun,
        })
      : []),
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
  const sent = await sendOnce(deps, d.executionArn, {
    severity: 'critical',
    capability: 'drill',
    subject:
      unknown === undefined
        ? `Drill execution ${d.name} ended ${d.status} outside the drill's own handling`
        : `Drill execution ${d.name} ended ${d.status}; whether the drill recorded it is unknown`,
    lines: [
      unknown === undefined
        ? `Execution ${d.executionArn} started ${started}, ended ${d.status} at ${stopped}: the drill did not record a result, so this backup's restore is unproven.`
        : `Execution ${d.executionArn} started ${started}, ended ${d.status} at ${stopped}.`,
      d.status === 'ABORTED'
        ? 'Someone or something stopped it (StopExecution).'
        : d.status === 'TIMED_OUT'
          ? "It ran past the state machine's own timeout."
          : error === DRILL_RECORD_FAILED
            ? "The drill reached its Record step, but recording it failed (its report, baseline or notification): its verdict may never have been sent; the drill function's logs say which part failed."
            : unknown === undefined
              ? "A state failed without reaching the drill's cleanup and record steps (a service error)."
              : `Could not read how it failed (${unknown}): if it ended in the drill's own ${DRILL_FAILED} state, the drill recorded and notified it already and this alert repeats it; if not, this backup's restore is unproven.`,
      ...(unlisted
        ? [
            `Could not list its restored databases and volumes (FAILED: ${unlisted.error}): the janitor deletes what is left once it is older than its age.`,
          ]
        : []),
      ...(leftovers.length || fastRestores.length || recordsUnread
        ? [
            `Cleaned up its restored databases: ${cleanup
              .filter((o) => o !== unlisted)
              .map(
                (o) =>
                  `${o.resource} ${o.status === 'failed' ? `FAILED (${o.error})` : o.status === 'skipped' ? `handed over (${o.reason})` : o.status}`,
              )
              .join(', ')}.`,
          ]
        : unlisted
          ? []
          : ['It left no restored database behind.']),
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
      ...(unknown !== undefined ? { error: 'unknown' } : {}),
      cleanup: [...cleanup, ...vaultCleanup, ...endpoints],
    },
  });
  if (sent) metrics.addMetric('DrillExecutionsLost', MetricUnit.Count, 1);
  throwIfFailed(`cleanup after drill ${d.name}`, [...cleanup, ...vaultCleanup, ...endpoints]);
  return {
    outcome: 'alerted',
    execution: d.executionArn,
    status: d.status,
    cleanup: [...cleanup, ...vaultCleanup, ...endpoints],
  };
};

/**
 * The fast snapshot restores an EBS drill that ended outside its own handling left on: those it turned on
 * itself, as its volumes record (`steward:fast-restore`), by zone. One someone else had on is not recorded there.
 */
const fastRestoresOf = (volumes: readonly DrillVolume[]): FastRestoresByZone => {
  const byZone: FastRestoresByZone = new Map();
  for (const v of volumes) {
    if (!v.tags[FAST_RESTORE_TAG] || !v.availabilityZone || !v.snapshotId) continue;
    addFastRestores(byZone, v.availabilityZone, [v.snapshotId]);
  }
  return byZone;
};

/**
 * How long the record of a sent alert is kept: past every retry of its event (Lambda retries an async event
 * for 6 hours at most) and a redrive from the stage's failure queue within the week.
 */
export const ALERT_RECORD_SECONDS = 7 * 24 * 3600;

/**
 * Send the alert of an ended execution unless an earlier run of the same event did (`deps.alerts`): a retry
 * (its cleanup failed after the alert, so the run failed and Lambda retries it) cleans up again without
 * paging twice. Recorded only once sent, so a failed send is sent by the retry. Every failure of the record
 * falls on the side of a duplicate, never of a lost alert: one that cannot be read is taken as unsent, one
 * that cannot be written is logged. True when this run sent it.
 */
const sendOnce = async (deps: DrillDeps, execution: string, n: Notification): Promise<boolean> => {
  const sent = await deps.alerts?.sent(execution).catch((e: unknown) => {
    logger.warn('Could not read whether this drill execution was alerted; alerting', {
      execution,
      error: errorMessage(e),
    });
    return false;
  });
  if (sent) {
    logger.info('Drill execution alerted already by an earlier run of this event', { execution });
    return false;
  }
  await deps.notifier.send(n);
  await deps.alerts?.record(execution, ALERT_RECORD_SECONDS).catch((e: unknown) =>
    logger.warn('Could not record the drill execution alert; a retry of this event sends it again', {
      execution,
      error: errorMessage(e),
    }),
  );
  return true;
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
      if (deps.dryRun && !deletedInDryRun('drill-copy', deps)) return { ...base, status: 'planned' };
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
