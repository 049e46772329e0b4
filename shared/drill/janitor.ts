import type { StewardConfig } from '../config/schema.js';
import { clip } from '../errors.js';
import type { Outcome } from '../model.js';
import { TOP_FAILURES, TOP_N, topLines } from '../notify/budget.js';
import type { Notifier } from '../notify/notifier.js';
import { reportRun, runReportLines, type RunReports } from '../notify/run-report.js';
import { logger } from '../observability.js';
import { failedOutcome, settleEach, tally, throwIfFailed } from '../outcomes.js';
import {
  type CopyDeletion,
  type CopyDeletionLedger,
  type DrillCopy,
  type DrillResource,
  type FastRestoreLedger,
  type FastRestoreRecord,
  PartialListingError,
  type RestorePort,
  type VaultShare,
} from './ports.js';
import {
  type DrillVolume,
  type EbsDrillPort,
  FAST_RESTORE_TAG,
  type VolumeResource,
  volumeResources,
} from './ebs.js';
import { deletedInDryRun, deleteHandedOver, HANDED_OVER } from './copy-deletions.js';
import { addFastRestores, type FastRestoresByZone, turnOffFastRestores } from './fast-restores.js';
import { type EbsVerifierPort, type VerifierResource, verifierResources } from './ebs-verifier.js';
import { takeBackShare, type VaultDrillDeps } from './vault-tasks.js';
import {
  type DrillEndpointsPort,
  type EndpointResource,
  endpointResources,
  ENDPOINT_IDLE_HOURS,
  planEndpointJanitor,
  type RunningDrills,
} from './endpoints.js';
import { drillExecutionSeconds, janitorMaxAgeHours } from './stage-drills.js';

export { drillExecutionSeconds, janitorMaxAgeHours };

/** A drill's own copy of a vault copy, in this account (`steward-drill-*`, tagged `steward:drill`). */
export type DrillCopyResource = Omit<DrillResource, 'kind'> & { kind: 'drill-copy' };

/** A vault copy a drill shared with this account (`id`: the copy; `createdAt`: when the drill shared it). */
export type VaultShareResource = Omit<DrillResource, 'kind'> & { kind: 'vault-share'; share: VaultShare };

/**
 * What the janitor sweeps: restored databases and caches, EBS drill volumes and their verifier instances, what
 * drills from the vault leave (their copies in this account and the vault copies shared with it), and the
 * interface endpoints drills created (`drill.endpoints.mode: per-drill`).
 */
export type SweptResource =
  | DrillResource
  | VolumeResource
  | VerifierResource
  | DrillCopyResource
  | VaultShareResource
  | EndpointResource;

const copyResources = (copies: readonly DrillCopy[]): DrillCopyResource[] =>
  copies.map((c) => ({ ...c, kind: 'drill-copy' }));

const shareResources = (shares: readonly VaultShare[]): VaultShareResource[] =>
  shares.map((share) => ({
    kind: 'vault-share',
    id: share.copyId,
    drillId: share.drillId,
    createdAt: share.sharedAt,
    share,
  }));

export type JanitorVerdict =
  | { resource: SweptResource; action: 'delete' | 'keep'; reason: string; ageHours?: number }
  | { resource: SweptResource; action: 'skip'; reason: 'already deleting' };

const HOUR_MS = 3_600_000;
const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * Fast snapshot restore a drill turned on and never turned off (billed per snapshot and zone hour): what the
 * ledger recorded for a drill older than `maxAgeHours` (its execution has ended: its Cleanup failed, or it ended
 * between the enable and its first volume), and what the volumes this run deletes record (`steward:fast-restore`,
 * from drills before the ledger), by zone, turned off and the records forgotten; unless a running drill records
 * the same snapshot in the same zone (in the ledger, or on a volume the janitor keeps). One outcome per zone
 * (`planned` in a dry run). One someone else turned on is recorded nowhere, and stays on.
 */
const fastRestoresLeftOn = async (
  deps: JanitorDeps,
  volumes: readonly DrillVolume[],
  verdicts: readonly JanitorVerdict[],
  records: readonly FastRestoreRecord[],
  maxAgeHours: number,
  now: Date,
): Promise<Outcome[]> => {
  const port = deps.volumes;
  if (!port) return [];
  const deleted = new Set(
    verdicts.flatMap((v) =>
      v.action === 'delete' && v.resource.kind === 'ebs-volume' ? [v.resource.id] : [],
    ),
  );
  const key = (v: { snapshotId?: string | undefined; availabilityZone?: string | undefined }) =>
    `${v.snapshotId}@${v.availabilityZone}`;
  const stale = (r: FastRestoreRecord) => {
    const at = Date.parse(r.enabledAt);
    // A record without a readable time is kept as young: never turned off on a guess.
    return Number.isFinite(at) && (now.getTime() - at) / HOUR_MS > maxAgeHours;
  };
  const recorded = volumes.filter((v) => v.tags[FAST_RESTORE_TAG] && v.snapshotId && v.availabilityZone);
  const inUse = new Set(recorded.filter((v) => !deleted.has(v.volumeId) && v.state !== 'deleted').map(key));
  const want: FastRestoresByZone = new Map();
  for (const v of recorded) {
    if (!deleted.has(v.volumeId) || inUse.has(key(v))) continue;
    addFastRestores(want, v.availabilityZone!, [v.snapshotId!]);
  }
  for (const r of records) {
    if (stale(r) && !inUse.has(key(r))) addFastRestores(want, r.availabilityZone, [r.snapshotId]);
  }
  return turnOffFastRestores(port, want, {
    ledger: deps.fastRestores,
    records,
    ending: stale,
    dryRun: deps.dryRun,
  });
};

/**
 * Which drill resources to delete: those older than `maxAgeHours`, and those a drill's cleanup handed over
 * (`handedOver`, by id: RDS was still creating them) whatever their age, unless RDS is still creating them (their
 * own RDS event deletes them then, or a later sweep). Pure. A resource without a creation time is still being
 * created, so it is young.
 */
export const planJanitor = (
  resources: readonly SweptResource[],
  now: Date,
  maxAgeHours: number,
  handedOver: ReadonlyMap<string, CopyDeletion> = new Map(),
): JanitorVerdict[] =>
  resources.map((resource): JanitorVerdict => {
    if (resource.status === 'deleting') return { resource, action: 'skip', reason: 'already deleting' };
    const handed = handedOver.get(resource.id);
    if (handed) {
      const by = `handed over by drill ${handed.drillId}'s cleanup at ${handed.since}`;
      return resource.status === 'creating'
        ? { resource, action: 'keep', reason: `${by}; RDS is still creating it` }
        : { resource, action: 'delete', reason: by };
    }
    const created = resource.createdAt === undefined ? NaN : Date.parse(resource.createdAt);
    if (!Number.isFinite(created)) {
      return { resource, action: 'keep', reason: 'no creation time yet (still creating)' };
    }
    const ageHours = round1((now.getTime() - created) / HOUR_MS);
    return ageHours > maxAgeHours
      ? { resource, action: 'delete', reason: `${ageHours} h old, older than ${maxAgeHours} h`, ageHours }
      : { resource, action: 'keep', reason: `${ageHours} h old, within ${maxAgeHours} h`, ageHours };
  });

export interface JanitorDeps {
  config: StewardConfig;
  /** Only plans, except drills' own copies (deletedInDryRun): a dry-run stage's drills create them for real. */
  dryRun: boolean;
  /** An operator's preview: plans everything, drills' copies too. */
  preview?: boolean;
  notifier: Notifier;
  now: () => Date;
  restore: Pick<RestorePort, 'region' | 'listDrillResources' | 'remove'>;
  /** Where the run's full report goes (the report bucket); without it none is kept. */
  runReports?: RunReports;
  /** The copies drills' cleanups handed over (RDS was still creating them): deleted whatever their age. */
  deletions?: CopyDeletionLedger;
  /** EBS drill volumes (tagged steward:drill), swept with the rest; absent: none are looked for. */
  volumes?: Pick<EbsDrillPort, 'listDrillVolumes' | 'remove' | 'disableFastRestore'>;
  /** The fast snapshot restores EBS drills recorded (with `volumes`); absent: only the volumes' tags are read. */
  fastRestores?: FastRestoreLedger;
  /** EBS drill verifier instances (tagged steward:drill, kind ebs-verifier); absent: none are looked for. */
  verifiers?: Pick<EbsVerifierPort, 'listVerifiers' | 'terminate'>;
  /**
   * Drills from the vault: their copies in this account, deleted with this function's role, and the shares they
   * recorded, removed with the vault drill role; absent: neither is looked for.
   */
  vault?: Pick<VaultDrillDeps, 'account' | 'vault' | 'staging' | 'shares'>;
  /** The drill VPC's endpoints drills create; absent: none are looked for. */
  endpoints?: JanitorEndpoints;
  /**
   * The DR region's drill VPC endpoints (verifying EBS drills from the DR copies), read from the DR stack's
   * network on first use; undefined when always on. A network that cannot be read is a failed outcome, and the
   * rest is swept all the same.
   */
  drEndpoints?: () => Promise<JanitorEndpoints | undefined>;
}

/** One drill VPC's endpoints, as the janitor sweeps them. */
export interface JanitorEndpoints {
  spec: { endpoints: Partial<Record<string, { serviceName: string }>> };
  port: Pick<DrillEndpointsPort, 'list' | 'remove'>;
  drills: RunningDrills;
}

export interface JanitorResult {
  at: string;
  dryRun: boolean;
  maxAgeHours: number;
  verdicts: JanitorVerdict[];
  outcomes: Outcome[];
  notified: boolean;
}

const label = (r: SweptResource) =>
  r.kind === 'vault-share' ? `vault copy ${r.id} (vault ${r.share.vaultAccount})` : `${r.kind} ${r.id}`;

/** A share is removed, everything else deleted. */
const verb = (r: SweptResource) => (r.kind === 'vault-share' ? 'unshare' : 'delete');

// Verifier instances first (a volume still attached to one cannot be deleted until it has ended); a drill's
// copy after what was restored from it; a vault copy's share last, once nothing of this account reads it.
const PHASES: Partial<Record<SweptResource['kind'], number>> = {
  'ebs-verifier': 0,
  'drill-copy': 2,
  'vault-share': 3,
};
const phaseOf = (r: SweptResource) => PHASES[r.kind] ?? 1;

const resources = (n: number) => `${n} leftover drill resource${n === 1 ? '' : 's'}`;

/** What the janitor did, counted by outcome: gone already or failed is not "deleted". */
const janitorSubject = (outcomes: readonly Outcome[], dryRun: boolean, region: string): string => {
  const n = (status: Outcome['status']) => outcomes.filter((o) => o.status === status).length;
  if (dryRun && n('planned') === outcomes.length)
    return `Would delete ${resources(outcomes.length)} in ${region}`;
  // A dry-run stage deletes drills' own copies (deletedInDryRun) and plans the rest.
  const parts = [
    `Janitor deleted ${resources(n('done'))}`,
    ...(n('already-done') ? [`${n('already-done')} already gone`] : []),
    ...(n('failed') ? [`${n('failed')} failed`] : []),
    ...(n('planned') ? [`${n('planned')} more planned (dry-run stage)`] : []),
  ];
  return `${parts.join(', ')} in ${region}`;
};

/**
 * Steward's drill endpoints, kept while any drill runs, deleted once idle (ENDPOINT_IDLE_HOURS), in the stage's
 * drill VPC and the DR region's; `where` learns which VPC's port deletes each.
 */
const endpointVerdicts = async (
  deps: JanitorDeps,
  now: Date,
  where: Map<string, JanitorEndpoints['port']>,
  unreadable: Outcome[],
): Promise<JanitorVerdict[]> => {
  let dr: JanitorEndpoints | undefined;
  if (deps.drEndpoints) {
    try {
      dr = await deps.drEndpoints();
    } catch (e) {
      unreadable.push(failedOutcome({ resource: 'DR drill endpoints', action: 'list' }, e));
    }
  }
  const sites = [deps.endpoints, dr].filter((x): x is JanitorEndpoints => x !== undefined);
  const verdicts: JanitorVerdict[] = [];
  for (const site of sites) {
    const names = Object.values(site.spec.endpoints).flatMap((p) => (p ? [p.serviceName] : []));
    if (!names.length) continue;
    const ours = endpointResources(await site.port.list(names));
    if (!ours.length) continue;
    for (const e of ours) where.set(e.id, site.port);
    verdicts.push(...planEndpointJanitor(ours, (await site.drills.running()).length, now));
  }
  return verdicts;
};

/**
 * Delete `steward:drill` resources a drill left behind (its cleanup failed or never ran). Says so in
 * one warning naming each; nothing to delete → no notification. Throws after reporting when a
 * deletion failed.
 */
export const runJanitor = async (deps: JanitorDeps): Promise<JanitorResult> => {
  const now = deps.now();
  const maxAgeHours = janitorMaxAgeHours(deps.config.drill);
  const vault = deps.vault;
  const endpointPorts = new Map<string, JanitorEndpoints['port']>();
  const unreadable: Outcome[] = [];
  // A listing that fails (throttled past its retries, refused) is a failed outcome: the rest is still swept, and
  // the run fails after it.
  const listed = async <T>(what: string, list: (() => Promise<T[]>) | undefined): Promise<T[]> => {
    if (!list) return [];
    try {
      return await list();
    } catch (e) {
      unreadable.push(failedOutcome({ resource: what, action: 'list' }, e));
      // A listing over several regions keeps what the others listed.
      return e instanceof PartialListingError ? [...(e.found as readonly T[])] : [];
    }
  };
  const shareLedger = vault?.shares;
  const fastLedger = deps.volumes ? deps.fastRestores : undefined;
  const deletions = deps.deletions;
  const [found, volumes, verifiers, copies, shares, fastRecords, handed] = await Promise.all([
    listed('restored drill databases and caches', () => deps.restore.listDrillResources()),
    listed('EBS drill volumes', deps.volumes && (() => deps.volumes!.listDrillVolumes())),
    listed('EBS verifier instances', deps.verifiers && (() => deps.verifiers!.listVerifiers())),
    listed('drill copies of vault copies', vault && (() => vault.staging.listDrillCopies())),
    listed(
      'vault shares',
      shareLedger && (() => shareLedger.list(vault!.vault.account, vault!.vault.region)),
    ),
    listed('fast snapshot restore records', fastLedger && (() => fastLedger.list())),
    listed('drill copies being deleted', deletions && (() => deletions.list())),
  ]);
  const handedOver = new Map(
    handed.filter((d) => d.region === deps.restore.region).map((d) => [d.id, d] as const),
  );
  // A record whose copy is gone (deleted, by its event or by hand) is forgotten; nothing to report.
  const listedIds = new Set(found.map((r) => r.id));
  // The ledger is of drills' own copies: kept as they are, in a dry-run stage too, unless a preview.
  const copiesDeleted = !deps.dryRun || deletedInDryRun('rds-instance', deps);
  if (deletions && copiesDeleted && !unreadable.some((o) => o.resource.startsWith('restored drill')))
    for (const d of handedOver.values())
      if (!listedIds.has(d.id)) await deletions.forget(d).catch(() => undefined);
  // A drill's copy and a vault share go once nothing of this account reads them: with a listing missing, not
  // known, so they wait for the next run.
  const readersKnown = unreadable.every(
    (o) => o.resource === 'fast snapshot restore records' || o.resource === 'drill copies being deleted',
  );
  const verdicts: JanitorVerdict[] = [
    ...planJanitor(
      [
        ...found,
        ...volumeResources(volumes),
        ...verifierResources(verifiers),
        ...(readersKnown ? [...copyResources(copies), ...shareResources(shares)] : []),
      ],
      now,
      maxAgeHours,
      handedOver,
    ),
    ...(await endpointVerdicts(deps, now, endpointPorts, unreadable)),
  ];
  const doomed = verdicts
    .filter((v) => v.action === 'delete')
    .sort((a, b) => phaseOf(a.resource) - phaseOf(b.resource));
  // Shares the janitor keeps (a drill still running recorded them): a copy one of them names stays shared.
  const liveShares = verdicts.flatMap((v) =>
    v.action !== 'delete' && v.resource.kind === 'vault-share' ? [v.resource.share] : [],
  );
  const remove = async (r: SweptResource): Promise<string | { kept: string }> => {
    if (r.kind === 'ebs-volume') return deps.volumes!.remove(r.id);
    if (r.kind === 'ebs-verifier')
      return (await deps.verifiers!.terminate(r.id)) === 'terminated' ? 'deleted' : 'gone';
    if (r.kind === 'drill-copy') return vault!.staging.remove(r.id);
    if (r.kind === 'vault-share') {
      // The vault drill role may change the restore attribute of steward's vault copies, nothing more. A copy
      // a running drill shared again stays shared: only the old record is forgotten.
      const done = await takeBackShare(vault!, r.share, [...liveShares, r.share]);
      return done.result === 'kept' ? { kept: done.reason } : done.result === 'done' ? 'deleted' : 'gone';
    }
    if (r.kind === 'vpc-endpoint') return (endpointPorts.get(r.id) ?? deps.endpoints!.port).remove(r);
    const d = handedOver.get(r.id);
    if (d && deletions) {
      const done = await deleteHandedOver(d, { restore: deps.restore, deletions });
      return done === 'busy' ? { kept: HANDED_OVER } : done;
    }
    return deps.restore.remove(r);
  };
  const sweep = (group: JanitorVerdict[]) =>
    settleEach(
      group,
      async (v): Promise<Outcome> => {
        const base = { resource: label(v.resource), action: verb(v.resource) };
        if (deps.dryRun && !deletedInDryRun(v.resource.kind, deps))
          return { ...base, status: 'planned', detail: v.reason };
        const r = await remove(v.resource);
        if (typeof r === 'object') return { ...base, status: 'skipped', reason: r.kept };
        return { ...base, status: r === 'deleted' ? 'done' : 'already-done', detail: v.reason };
      },
      (v) => ({ resource: label(v.resource), action: verb(v.resource) }),
    );
  const outcomes: Outcome[] = [];
  for (const phase of [...new Set(doomed.map((v) => phaseOf(v.resource)))])
    outcomes.push(...(await sweep(doomed.filter((v) => phaseOf(v.resource) === phase))));
  const fastRestores = await fastRestoresLeftOn(deps, volumes, verdicts, fastRecords, maxAgeHours, now);

  let notified = false;
  const all = [...outcomes, ...unreadable, ...fastRestores];
  if (doomed.length || fastRestores.length) {
    const what = (i: number) => {
      const v = doomed[i]!;
      return `${label(v.resource)} (drill ${v.resource.drillId}, created ${v.resource.createdAt}, ${v.reason})`;
    };
    const failed: string[] = unreadable.map(
      (o) => `FAILED to ${o.action} ${o.resource}: ${clip(o.status === 'failed' ? o.error : '', 300)}`,
    );
    const handled: string[] = [];
    outcomes.forEach((o, i) => {
      const does = verb(doomed[i]!.resource);
      if (o.status === 'failed') failed.push(`FAILED to ${does} ${what(i)}: ${clip(o.error, 300)}`);
      else if (o.status === 'skipped')
        handled.push(
          doomed[i]!.resource.kind === 'vault-share'
            ? `Forgot the record of ${what(i)}: ${o.reason}`
            : `Kept ${what(i)}: ${o.reason}`,
        );
      else
        handled.push(
          o.status === 'planned'
            ? `Would ${does} ${what(i)}`
            : `Had to clean up after a drill: ${does}d ${what(i)}`,
        );
    });
    // Fast snapshot restore the deleted volumes' drills left on, after the volumes.
    for (const o of fastRestores) {
      if (o.status === 'failed') failed.push(`FAILED to ${o.action} ${o.resource}: ${clip(o.error, 300)}`);
      else if (o.status === 'skipped') handled.push(`Forgot the record of ${o.resource}: ${o.reason}`);
      else handled.push(`${deps.dryRun ? 'Would turn off' : 'Turned off'} ${o.resource}`);
    }
    const unshares = doomed.some((v) => v.resource.kind === 'vault-share')
      ? ` Vault copies a drill shared with this account more than ${maxAgeHours} h ago are unshared.`
      : '';
    // The full report (every verdict and outcome) first, then a bounded summary that links it.
    const reported = await reportRun(
      { reports: deps.runReports, notifier: deps.notifier },
      {
        capability: 'drill',
        at: now,
        name: deps.dryRun ? 'janitor-dry-run' : 'janitor',
        report: {
          dryRun: deps.dryRun,
          maxAgeHours,
          region: deps.restore.region,
          verdicts,
          outcomes,
          ...(fastRestores.length ? { fastRestores } : {}),
        },
      },
      (report) => ({
        severity: 'warning',
        capability: 'drill',
        subject: doomed.length
          ? janitorSubject(outcomes, deps.dryRun, deps.restore.region)
          : `${deps.dryRun ? 'Would turn off' : 'Janitor turned off'} fast snapshot restore a drill left on in ${deps.restore.region}`,
        lines: [
          ...topLines(failed, (l) => l, 'failed', TOP_FAILURES),
          ...topLines(
            handled,
            (l) => l,
            !deps.dryRun
              ? 'deleted'
              : outcomes.some((o) => o.status !== 'planned')
                ? 'deleted or planned'
                : 'to delete',
          ),
          '',
          `A drill's cleanup did not finish: check the drill's execution. Resources tagged steward:drill older than ${maxAgeHours} h are deleted.${unshares}`,
          ...(deps.dryRun && outcomes.some((o) => o.status !== 'planned')
            ? [
                "Dry-run stage: a drill's own restored copy is deleted all the same (its drill created it for real); the rest is only planned.",
              ]
            : []),
          ...(doomed.some((v) => v.resource.kind === 'vpc-endpoint')
            ? [
                `Interface endpoints a drill created are deleted once no drill runs and they are older than ${ENDPOINT_IDLE_HOURS} h (a drill's CloseEndpoints step did not run).`,
              ]
            : []),
          ...runReportLines(report),
        ],
        data: {
          dryRun: deps.dryRun,
          maxAgeHours,
          counts: tally(outcomes),
          failures: outcomes.filter((o) => o.status === 'failed').slice(0, TOP_N),
          report: report.status === 'written' ? report.link.uri : null,
        },
      }),
    );
    all.push(...reported.outcomes);
    notified = !reported.outcomes.length;
  }
  logger.info('drill janitor finished', {
    maxAgeHours,
    dryRun: deps.dryRun,
    tally: tally(all),
    failed: all.filter((o) => o.status === 'failed').slice(0, TOP_FAILURES),
  });
  throwIfFailed('Drill janitor', all);
  return { at: now.toISOString(), dryRun: deps.dryRun, maxAgeHours, verdicts, outcomes, notified };
};
