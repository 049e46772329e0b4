import type { Severity } from '../config/schema.js';
import { echo, errorMessage, EventShapeError } from '../errors.js';
import type { Outcome, Quota } from '../model.js';
import { TOP_FAILURES, TOP_N } from '../notify/budget.js';
import { sendReported } from '../notify/notifier.js';
import { reportRun, type RunReports, runReportLines, type RunReportResult } from '../notify/run-report.js';
import { countLines, outcomeCounts, outcomeLines } from '../notify/summary.js';
import { addCount, logger } from '../observability.js';
import { failedOutcome, settleEach, tally, throwIfFailed } from '../outcomes.js';
import type { BaseDeps } from '../runtime.js';
import {
  CACHE_DR_ACTION,
  type CacheDrPort,
  cacheDrPolicies,
  COPY_BUDGET_MS,
  reconcileCacheDr,
} from './cache-dr.js';
import { type CopyReconcile, type DrLag, reconcileCopies } from './copies.js';
import type { CopyKind, CopyPlan } from './copy-plan.js';
import {
  type BackupAction,
  type BackupPlan,
  findDatabase,
  planBackups,
  planSnapshot,
  QUOTA_BY_KIND,
  QUOTA_READ,
} from './plan.js';
import type { MaintenanceItem } from './maintenance.js';
import type {
  BackupPort,
  BackupScheduler,
  CopyLedger,
  CopySlots,
  CopyPort,
  SnapshotAround,
  SnapshotLister,
  SnapshotReader,
} from './ports.js';
import { backedUpKinds } from './kinds.js';
import type { BackupRequest } from './request.js';
import type { VaultDeps } from './vault.js';
import { VAULT_COPY } from './vault-actions.js';
import { once } from '../once.js';

// Modules loaded on first use, once per container (shared/once.ts: `import()` resolves again at each call).
const loadVault = /* @__PURE__ */ once(() => import('./vault.js'));
const loadMaintenance = /* @__PURE__ */ once(() => import('./maintenance.js'));

/** Capability name: log service, notification speaker, metric dimension. */
export const CAPABILITY = 'backup';

/** Everything a backup run needs; the Lambda and the CLI wire the same shape. */
export interface BackupDeps extends BaseDeps {
  /** Databases, quota and snapshot creation in `config.region`. */
  primary: BackupPort;
  /** Cross-region copies, called in `config.dr.region`. */
  dr: CopyPort;
  snapshots: { primary: SnapshotLister; dr: SnapshotLister };
  /** Targeted snapshot reads; with `copyLedger`, an RDS snapshot event reconciles only its database. */
  readers?: { primary: SnapshotReader; dr: SnapshotReader };
  /** The DR copy queue per destination (the state table); absent (local runs), every reconcile lists all. */
  copyLedger?: CopyLedger;
  /** The DR region's copy slots shared with this account's other source regions (a fleet); absent: none. */
  copySlots?: CopySlots;
  /** One-time schedules for pre-maintenance snapshots; absent outside the deployed function. */
  scheduler?: BackupScheduler;
  /** Where a run's full report goes (the report bucket); absent in local runs without one. */
  reports?: RunReports;
  /** The backup vault of this account-region (config `fleet.vault`); absent without one. */
  vault?: VaultDeps;
  /** Pre/post commands around the taking of each EBS set (application consistency); absent: crash-consistent. */
  around?: SnapshotAround;
  /**
   * Redis DR (ElastiCache has no cross-region copy): the export bucket and the DR bucket, when a copying
   * policy backs up caches and the stack made the buckets; absent, cache snapshots are not copied.
   */
  cacheDr?: CacheDrPort;
}

/** What one run decided and did. A dry run returns the full plan with `planned` outcomes. */
export interface BackupResult {
  action: BackupRequest['action'];
  dryRun: boolean;
  severity: Severity;
  /** One line, also the notification subject. */
  summary: string;
  /** Snapshot plan (scheduled and ad-hoc runs). */
  backup?: BackupPlan;
  /** DR copy plan (scheduled and reconcile runs, when a policy copies). */
  copies?: CopyPlan;
  /** AWS Health maintenance: the protected databases it touches and their pre-change snapshots. */
  maintenance?: MaintenanceItem[];
  /** Each copying database's DR lag, from a full listing or the copy queue (not an event's run). */
  drLag?: DrLag[];
  /** One per create, copy and relevant skip; not-opted-in databases are only in `backup.actions`. */
  outcomes: Outcome[];
}

type Draft = Pick<BackupResult, 'backup' | 'copies' | 'drLag'> & { outcomes: Outcome[] };

/** The requests that are backup runs (snapshots and copies), not events to tell about. */
type BackupRun = Exclude<BackupRequest, { action: 'maintenance' | 'health-issue' | 'rds-event' | 'ignored' }>;

const CREATE = 'create-snapshot';
const COPY = 'copy-to-dr';

const isCreate = (a: BackupAction): a is Extract<BackupAction, { action: 'create' }> => a.action === 'create';

/**
 * The EBS sets of this plan that exist already, in a few requests for the whole run instead of one per set;
 * undefined (each create then looks for itself) when the port cannot tell or the lookup failed.
 */
const takenSets = async (
  deps: BackupDeps,
  creates: readonly Extract<BackupAction, { action: 'create' }>[],
): Promise<Set<string> | undefined> => {
  const ids = creates.filter((a) => a.db.kind === 'ebs').map((a) => a.snapshotId);
  if (!ids.length || !deps.primary.takenSets) return undefined;
  try {
    return await deps.primary.takenSets(ids);
  } catch (e) {
    logger.warn('could not look up existing EBS snapshot sets; each set is looked up on its own', {
      error: errorMessage(e),
    });
    return undefined;
  }
};

/** Execute (or, in a dry run, only list) the plan's creates; skips become outcomes too. */
const act = async (
  plan: BackupPlan,
  deps: BackupDeps,
  dryRun: boolean,
  skipFails: boolean,
): Promise<Outcome[]> => {
  const creates = plan.actions.filter(isCreate);
  const taken = dryRun ? undefined : await takenSets(deps, creates);
  const created: Outcome[] = dryRun
    ? creates.map((a) => ({ resource: a.db.id, action: CREATE, status: 'planned', detail: a.snapshotId }))
    : await settleEach(
        creates,
        async (a): Promise<Outcome> => {
          const ebs = a.db.kind === 'ebs' && taken !== undefined;
          const r =
            ebs && taken.has(a.snapshotId)
              ? 'already-done'
              : await deps.primary.createSnapshot(
                  {
                    kind: a.db.kind,
                    dbId: a.db.id,
                    snapshotId: a.snapshotId,
                    tags: a.tags,
                    ...(a.volumes ? { volumes: a.volumes } : {}),
                    ...(a.db.serverless ? { serverless: true } : {}),
                  },
                  deps.around,
                  ebs,
                );
          return {
            resource: a.db.id,
            action: CREATE,
            status: r === 'created' ? 'done' : 'already-done',
            detail: a.snapshotId,
          };
        },
        (a) => ({ resource: a.db.id, action: CREATE }),
      );
  let i = 0;
  return plan.actions.flatMap((a): Outcome[] => {
    if (a.action === 'create') return [created[i++]!];
    if (!a.missed && !skipFails) return [];
    const why = `${a.reason}: ${a.detail}`;
    // An explicit request that cannot be honoured fails, so the caller (and a Lambda retry) sees it.
    return [
      skipFails
        ? { resource: a.db.id, action: CREATE, status: 'failed', error: why }
        : { resource: a.db.id, action: CREATE, status: 'skipped', reason: why },
    ];
  });
};

/** Copy reconciliation after a scheduled backup: its failure is one failed outcome, not a lost report. */
const reconcileAfterBackup = async (deps: BackupDeps, dryRun: boolean): Promise<CopyReconcile> => {
  try {
    return await reconcileCopies(deps, dryRun);
  } catch (e) {
    return {
      outcomes: [
        failedOutcome({ resource: `snapshots ${deps.config.region} -> ${deps.dr.region}`, action: COPY }, e),
      ],
    };
  }
};

/**
 * Copy new snapshots into the backup vault after a backup or an event-free copy reconcile (the hourly run
 * follows copies in flight and unshares finished ones). A vault that cannot be read is one failed outcome.
 */
const vaultAfter = async (deps: BackupDeps, dryRun: boolean): Promise<Outcome[]> => {
  if (!deps.vault) return [];
  try {
    // The vault reconcile's module is loaded only by a stage with a vault.
    const { reconcileVault } = await loadVault();
    return (await reconcileVault(deps.vault, dryRun, deps.now())).outcomes;
  } catch (e) {
    const v = deps.vault;
    return [
      failedOutcome(
        { resource: `snapshots ${v.account} ${v.region} -> vault ${v.vaultAccount}`, action: VAULT_COPY },
        e,
      ),
    ];
  }
};

/**
 * Redis DR after a backup, an hourly reconcile or an ElastiCache "Snapshot Created" event: export steward's
 * available cache snapshots of copying policies, copy the exports to DR, clean what DR holds; an event's
 * `snapshot` only. A listing that fails is one failed outcome; the rest of the run stands.
 */
const cacheDrAfter = async (deps: BackupDeps, dryRun: boolean, snapshot?: string): Promise<Outcome[]> => {
  const policies = cacheDrPolicies(deps.config.backup.policies);
  if (!deps.cacheDr || !policies.size) return [];
  try {
    const until = new Date(deps.now().getTime() + COPY_BUDGET_MS);
    return await reconcileCacheDr(deps.cacheDr, policies, dryRun, undefined, snapshot, until);
  } catch (e) {
    return [
      failedOutcome(
        {
          resource: `ElastiCache snapshots ${deps.config.region} -> ${deps.dr.region}`,
          action: CACHE_DR_ACTION.copy,
        },
        e,
      ),
    ];
  }
};

/**
 * Read the snapshot quotas. An unreadable quota (AccessDenied, an endpoint without the call) must not cost
 * the backup itself: AWS still refuses a snapshot past the quota, so we go on unguarded and warn.
 */
const readQuotas = async (deps: BackupDeps): Promise<{ quotas: Quota[]; outcomes: Outcome[] }> => {
  try {
    return { quotas: await deps.primary.quotas(), outcomes: [] };
  } catch (e) {
    const resource = `manual snapshot quotas in ${deps.config.region}`;
    logger.warn('quota unreadable, backing up without the quota guard', { error: errorMessage(e) });
    return {
      quotas: [],
      outcomes: [
        { resource, action: QUOTA_READ, status: 'skipped', reason: `quota guard off: ${errorMessage(e)}` },
      ],
    };
  }
};

/**
 * A plan the quota guard refused or warned about may count snapshots an earlier attempt of the same run took
 * (a retry after a throttled or failed create: the ids are deterministic, and the quota's `used` already
 * counts them). Only then, their ids are looked up (one DescribeDB(Cluster)Snapshots per kind near its quota)
 * and the run planned again without counting them. A failed lookup keeps the plan as it was.
 */
const lessTaken = async (
  deps: BackupDeps,
  plan: BackupPlan,
  replan: (quotas: readonly Quota[], taken?: ReadonlySet<string>) => BackupPlan,
  quotas: readonly Quota[],
): Promise<BackupPlan> => {
  const reader = deps.readers?.primary;
  if (!reader || !plan.findings.length) return plan;
  const near = new Set(plan.findings.map((f) => f.quota));
  const creates = replan([])
    .actions.filter(isCreate)
    .filter((a) => near.has(QUOTA_BY_KIND[a.db.kind] ?? ''));
  if (!creates.length) return plan;
  try {
    const taken = new Set<string>();
    for (const kind of new Set(creates.map((a) => a.db.kind as CopyKind))) {
      const ids = creates.filter((a) => a.db.kind === kind).map((a) => a.snapshotId);
      for (const s of await reader.some(kind, ids)) taken.add(s.id);
    }
    return taken.size ? replan(quotas, taken) : plan;
  } catch (e) {
    logger.warn('could not look up the snapshots a retried run took; the quota guard counts them', {
      error: errorMessage(e),
    });
    return plan;
  }
};

const opts = (deps: BackupDeps) => ({
  quotaWarnPercent: deps.config.backup.quotaWarnPercent,
  ...(deps.place ? { place: deps.place } : {}),
});

const scheduled = async (
  req: Extract<BackupRequest, { action: 'scheduled-backup' }>,
  deps: BackupDeps,
  dryRun: boolean,
): Promise<Draft> => {
  const policy = deps.config.backup.policies[req.policy];
  if (!policy)
    throw new EventShapeError(`Unknown backup policy ${echo(req.policy)}`, [
      `policy: not in backup.policies`,
    ]);
  const guarded = policy.kinds.some((k) => QUOTA_BY_KIND[k] !== undefined);
  const [databases, { quotas, outcomes: quotaOutcomes }] = await Promise.all([
    deps.primary.listDatabases(policy.kinds),
    guarded ? readQuotas(deps) : { quotas: [], outcomes: [] },
  ]);
  const plan = (q: readonly Quota[], taken?: ReadonlySet<string>) =>
    planBackups(databases, req.policy, policy, q, req.scheduledTime, {
      ...opts(deps),
      ...(taken ? { taken } : {}),
    });
  const backup = await lessTaken(deps, plan(quotas), plan, quotas);
  const outcomes = [...quotaOutcomes, ...(await act(backup, deps, dryRun, false))];
  // New snapshots are still `creating`: the hourly reconcile or the RDS "created" event copies them.
  const copies = await reconcileAfterBackup(deps, dryRun);
  const vaulted = await vaultAfter(deps, dryRun);
  // The new cache snapshots are still `creating` too: exported by their "Snapshot Created" event's run or
  // the hourly one; this run moves on what earlier runs exported.
  const cached = await cacheDrAfter(deps, dryRun);
  return { backup, ...copies, outcomes: [...outcomes, ...copies.outcomes, ...vaulted, ...cached] };
};

const adhoc = async (
  req: Extract<BackupRequest, { action: 'snapshot' }>,
  deps: BackupDeps,
  dryRun: boolean,
): Promise<Draft> => {
  const [databases, { quotas, outcomes: quotaOutcomes }] = await Promise.all([
    deps.primary.listDatabases(backedUpKinds(deps.config)),
    readQuotas(deps),
  ]);
  const found = findDatabase(databases, req.resource);
  if ('error' in found) throw new EventShapeError('Unknown resource', [`resource: ${found.error}`]);
  const when = req.requestedAt ?? deps.now();
  const plan = (q: readonly Quota[], taken?: ReadonlySet<string>) =>
    planSnapshot(found.db, databases, req, q, when, { ...opts(deps), ...(taken ? { taken } : {}) });
  const backup = await lessTaken(deps, plan(quotas), plan, quotas);
  return { backup, outcomes: [...quotaOutcomes, ...(await act(backup, deps, dryRun, true))] };
};

/** The databases furthest behind in DR, for the log line (the full list is in the result and the report). */
const worstLag = (lag: readonly DrLag[]) =>
  [...lag]
    .filter((d) => d.lagSeconds !== undefined)
    .sort((a, b) => b.lagSeconds! - a.lagSeconds!)
    .slice(0, TOP_N)
    .map((d) => ({ database: d.db, kind: d.kind, lagSeconds: d.lagSeconds }));

const count = (outcomes: readonly Outcome[], action: string, status: Outcome['status']) =>
  outcomes.filter((o) => o.action === action && o.status === status).length;

/** The run's quota findings: the primary's (its backups) and the DR region's (its copies). */
const findingsOf = (d: Pick<Draft, 'backup' | 'copies'>) => [
  ...(d.backup?.findings ?? []),
  ...(d.copies?.findings ?? []),
];

const severityOf = (d: Draft, dryRun: boolean): Severity => {
  const findings = findingsOf(d);
  if (d.outcomes.some((o) => o.status === 'failed')) return 'critical';
  // A dry run only planned: what it found is worth a look (warning), never a page.
  if (findings.some((f) => f.severity === 'critical')) return dryRun ? 'warning' : 'critical';
  const missed = d.backup?.actions.some((a) => a.action === 'skip' && a.missed) ?? false;
  const brokenCopy =
    d.copies?.skipped.some((s) => s.reason === 'copy-failed' || s.reason === 'source-failed') ?? false;
  const unguarded = d.outcomes.some((o) => o.action === QUOTA_READ);
  return findings.length || missed || brokenCopy || unguarded ? 'warning' : 'info';
};

const summarize = (req: BackupRun, d: Draft, dryRun: boolean): string => {
  const prefix = dryRun ? '[dry run] ' : '';
  const verb = dryRun ? 'planned' : 'created';
  // Counts say what happened: a snapshot that already existed or a create that failed is not "created".
  const made = count(d.outcomes, CREATE, dryRun ? 'planned' : 'done');
  const existed = count(d.outcomes, CREATE, 'already-done');
  const skipped = count(d.outcomes, CREATE, 'skipped');
  const failed = d.outcomes.filter((o) => o.status === 'failed').length;
  const copied = count(d.outcomes, COPY, dryRun ? 'planned' : 'done');
  const copiedBefore = count(d.outcomes, COPY, 'already-done');
  const refused = d.copies?.skipped.filter((s) => s.reason === 'dr-quota-full').length ?? 0;
  const copies = d.copies
    ? `DR copies ${copied} ${dryRun ? 'planned' : 'started'}${copiedBefore ? `, ${copiedBefore} already copied` : ''}, ${d.copies.deferred.length} deferred` +
      (refused ? `, ${refused} waiting for the DR quota` : '') +
      (d.copies.queued ? `, ${d.copies.queued} databases queued` : '')
    : undefined;
  const existedText = existed ? `, ${existed} already existed` : '';
  const vaulted = count(d.outcomes, VAULT_COPY, dryRun ? 'planned' : 'done');
  const vault = d.outcomes.some((o) => o.action.endsWith('-vault'))
    ? `; vault copies ${vaulted} ${dryRun ? 'planned' : 'started'}`
    : '';
  const redis = redisDrText(d.outcomes, dryRun);
  const full = d.backup?.findings.find((f) => f.severity === 'critical');
  switch (req.action) {
    case 'scheduled-backup':
      return full
        ? `${prefix}${req.policy} backup: ${full.message}`
        : `${prefix}${req.policy} backup: ${made} ${verb}${existedText}, ${skipped} skipped, ${failed} failed${copies ? `; ${copies}` : ''}${vault}${redis ? `; ${redis}` : ''}`;
    case 'snapshot': {
      const a = d.backup?.actions[0];
      const name = a?.db.id ?? req.resource;
      if (a?.action !== 'create' || failed > 0)
        return `${prefix}snapshot of ${name} (${req.reason}): not created`;
      return existed
        ? `${prefix}snapshot of ${name} (${req.reason}): ${a.snapshotId} already existed`
        : `${prefix}snapshot of ${name} (${req.reason}): ${verb} ${a.snapshotId}`;
    }
    case 'reconcile-copies':
      return copies
        ? `${prefix}${copies}, ${d.copies!.inFlight} already in flight, ${failed} failed${vault}${redis ? `; ${redis}` : ''}`
        : `${prefix}DR copies: no backup policy copies to DR${vault}${vault && failed ? `, ${failed} failed` : ''}`;
    case 'reconcile-cache-dr':
      return `${prefix}${redis ?? 'Redis DR: nothing to export or copy'}${failed ? `, ${failed} failed` : ''}`;
  }
};

/** Redis DR's part of a summary line (exports, copies, cleaned exports), when the run did any of it. */
const redisDrText = (outcomes: readonly Outcome[], dryRun: boolean): string | undefined => {
  const status = dryRun ? 'planned' : 'done';
  const exported = count(outcomes, CACHE_DR_ACTION.export, status);
  const copied = count(outcomes, CACHE_DR_ACTION.copy, status);
  const cleaned = count(outcomes, CACHE_DR_ACTION['clean-export'], status);
  const waiting = count(outcomes, CACHE_DR_ACTION.copy, 'skipped');
  if (!exported && !copied && !cleaned && !waiting) return undefined;
  return `Redis DR ${exported} exports ${dryRun ? 'planned' : 'started'}, ${copied} RDB files ${dryRun ? 'to copy' : 'copied'}, ${cleaned} exports cleaned, ${waiting} waiting`;
};

/**
 * The notification's lines: counts per action, where the full report is, then the findings and the
 * outcomes as a bounded summary (failures first, the first few of each group named, the rest counted).
 */
const detailLines = (d: Draft, report: RunReportResult): string[] => {
  const findings = findingsOf(d);
  return [
    ...countLines(d.outcomes),
    ...runReportLines(report),
    '',
    ...findings.slice(0, TOP_N).map((f) => `${f.severity.toUpperCase()}: ${f.message}`),
    ...(findings.length > TOP_N
      ? [`... and ${findings.length - TOP_N} more findings (in the full report)`]
      : []),
    ...outcomeLines(d.outcomes),
  ];
};

/** A name for the run in its report's key: its action, and its policy or resource. */
const reportName = (req: BackupRun): string =>
  req.action === 'scheduled-backup'
    ? `${req.action}-${req.policy}`
    : req.action === 'snapshot'
      ? `${req.action}-${req.resource}`
      : req.action;

/**
 * A reconcile run with nothing to say stays quiet: it runs hourly and on every RDS snapshot event. An event's
 * run (one database, hundreds a day) speaks only of a problem; the hourly one also of copies it started or
 * deferred.
 */
const worthNotifying = (req: BackupRun, d: Draft, severity: Severity): boolean =>
  (req.action !== 'reconcile-copies' && req.action !== 'reconcile-cache-dr') ||
  severity !== 'info' ||
  d.outcomes.some((o) => o.action === CACHE_DR_ACTION.copy && o.status === 'done') ||
  (req.trigger === undefined &&
    ((d.copies !== undefined && d.copies.start.length + d.copies.deferred.length > 0) ||
      d.outcomes.some((o) => o.action === VAULT_COPY && o.status === 'done')));

const label = (req: BackupRun): string =>
  req.action === 'scheduled-backup'
    ? `${req.policy} backup`
    : req.action === 'snapshot'
      ? `snapshot of ${req.resource}`
      : req.action === 'reconcile-cache-dr'
        ? 'Redis DR'
        : 'DR copies';

/**
 * Run one backup request: observe, plan (pure), act unless dry run (one failure does not stop the others),
 * count, send one notification at the run's severity, then throw PartialFailureError if anything failed.
 * Dry run is the request's flag or the deps' forced one.
 */
export const runBackup = async (req: BackupRequest, deps: BackupDeps): Promise<BackupResult> => {
  if (
    req.action === 'maintenance' ||
    req.action === 'health-issue' ||
    req.action === 'rds-event' ||
    req.action === 'ignored'
  )
    // AWS Health and RDS database events: their module is loaded only by the triggers that need it.
    return (await loadMaintenance()).runBackupEvent(req, {
      ...deps,
      listDatabases: () => deps.primary.listDatabases(backedUpKinds(deps.config)),
      snapshotNow: async (p) =>
        (
          await runBackup(
            {
              action: 'snapshot',
              resource: p.resource,
              reason: p.reason,
              retainDays: p.retainDays,
              requestedAt: new Date(p.requestedAt),
              dryRun: false,
            },
            deps,
          )
        ).outcomes,
    });
  const dryRun = deps.dryRun || req.dryRun;
  let draft: Draft;
  try {
    switch (req.action) {
      case 'scheduled-backup':
        draft = await scheduled(req, deps, dryRun);
        break;
      case 'snapshot':
        draft = await adhoc(req, deps, dryRun);
        break;
      case 'reconcile-copies': {
        // An event's run is about one DR copy (a failure fails it, and the event is retried); the event-free
        // (hourly) run also follows the vault and Redis DR, which a failed copy reconcile (a throttled DR
        // listing, a lost queue race) must not stop: its failure is one failed outcome beside theirs.
        const copies =
          req.trigger === undefined
            ? await reconcileAfterBackup(deps, dryRun)
            : await reconcileCopies(deps, dryRun, req.trigger);
        const vaulted = req.trigger === undefined ? await vaultAfter(deps, dryRun) : [];
        const cached = req.trigger === undefined ? await cacheDrAfter(deps, dryRun) : [];
        draft = { ...copies, outcomes: [...copies.outcomes, ...vaulted, ...cached] };
        break;
      }
      case 'reconcile-cache-dr':
        draft = { outcomes: await cacheDrAfter(deps, dryRun, req.snapshot) };
        break;
    }
  } catch (e) {
    // Nothing was decided (describe or quota failed): say so once, then let Lambda's error alarm see it.
    if (!(e instanceof EventShapeError)) {
      await sendReported(deps.notifier, {
        severity: 'critical',
        capability: CAPABILITY,
        subject: `${label(req)} failed before acting`,
        lines: [errorMessage(e)],
        data: { request: req, dryRun },
      });
    }
    throw e;
  }

  const severity = severityOf(draft, dryRun);
  const summary = summarize(req, draft, dryRun);
  addCount('SnapshotsCreated', count(draft.outcomes, CREATE, 'done'));
  addCount('SnapshotsCopied', count(draft.outcomes, COPY, 'done'));
  addCount('CopiesDeferred', draft.copies?.deferred.length ?? 0);
  if (deps.vault) addCount('VaultCopiesStarted', count(draft.outcomes, VAULT_COPY, 'done'));

  const outcomes = [...draft.outcomes];
  if (worthNotifying(req, draft, severity)) {
    // The full report first, so the summary can link it; a failed write only costs the link.
    const failures = draft.outcomes.filter((o) => o.status === 'failed');
    const reported = await reportRun(
      deps,
      {
        capability: CAPABILITY,
        at: deps.now(),
        name: reportName(req),
        report: {
          request: req,
          dryRun,
          severity,
          summary,
          counts: outcomeCounts(draft.outcomes),
          findings: findingsOf(draft),
          outcomes: draft.outcomes,
          // Per-database DR lag lives here (and in the log and `steward status`), not in 500 custom metrics.
          ...(draft.drLag ? { drLag: draft.drLag } : {}),
        },
      },
      (report) => ({
        severity,
        capability: CAPABILITY,
        subject: summary,
        lines: detailLines(draft, report),
        data: {
          action: req.action,
          dryRun,
          counts: outcomeCounts(draft.outcomes),
          report: report.status === 'written' ? report.link.uri : null,
          findings: findingsOf(draft).slice(0, TOP_N),
          failures: failures.slice(0, TOP_FAILURES),
        },
      }),
    );
    outcomes.push(...reported.outcomes);
  }
  addCount('ActionFailures', outcomes.filter((o) => o.status === 'failed').length);
  logger.info('backup run finished', {
    action: req.action,
    dryRun,
    severity,
    summary,
    tally: tally(outcomes),
    ...(draft.drLag ? { drLagWorst: worstLag(draft.drLag) } : {}),
  });

  const result: BackupResult = {
    action: req.action,
    dryRun,
    severity,
    summary,
    ...(draft.backup ? { backup: draft.backup } : {}),
    ...(draft.copies ? { copies: draft.copies } : {}),
    ...(draft.drLag ? { drLag: draft.drLag } : {}),
    outcomes,
  };
  throwIfFailed(label(req), outcomes);
  return result;
};
