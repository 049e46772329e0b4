import type { Severity, StewardConfig } from '../config/schema.js';
import { ResourceKind } from '../config/parts.js';
import type { DeletionBudget, RetentionRecorder, SnapshotStore } from './ports.js';
import { retentionRecord } from './record.js';
import { refundDeletions, reserveDeletions } from './day-budget.js';
import { clip, errorMessage } from '../errors.js';
import type { Outcome, Snapshot } from '../model.js';
import { TOP_FAILURES, TOP_N, topLines } from '../notify/budget.js';
import type { Notification, Notifier } from '../notify/notifier.js';
import { reportRun, type RunReports, runReportLines, type RunReportResult } from '../notify/run-report.js';
import { outcomeCounts } from '../notify/summary.js';
import { addCount, logger, metrics, MetricUnit } from '../observability.js';
import { failedOutcome, settleEach, tally, throwIfFailed } from '../outcomes.js';
import { Tag } from '../tags.js';
import { DOUBT_RULES, type RetentionPlan, type Verdict } from './gfs.js';
import { drCopying, type DrSnapshots, type PoliciesOf, planRetentionFor } from './policy.js';
import type { RetentionRequest } from './request.js';
import type { Place } from '../fleet/place.js';

/** What a retention run needs; the handler and the CLI build it. */
export interface RetentionServiceDeps {
  /** One store per region swept: the primary and, when configured, the DR region (see `retentionRegions`). */
  stores: readonly SnapshotStore[];
  /**
   * The DR region's store when a policy copies there but retention does not sweep it (`drReadOnlyRegion`):
   * only read, to know which days reached DR. Without it the DR snapshots come from the swept stores.
   */
  drStore?: SnapshotStore;
  /** The day's deletion budget, shared by every run of the day (retries, overlaps, manual invokes). */
  budget: DeletionBudget;
  config: StewardConfig;
  notifier: Notifier;
  now: () => Date;
  /** Forced dry run; a request can add dry run, never remove it. */
  dryRun: boolean;
  /** Where the run acts (see BaseDeps.place): in its report, its record and its messages. */
  place?: Place;
  /** Where the record of deletions goes (the report bucket); without it no record is kept. */
  records?: RetentionRecorder;
  /** Where each run's full report goes (the report bucket); without it none is kept. */
  reports?: RunReports;
  /** The policies of some snapshots instead of `config`'s: a spoke instance's dump, its target's. */
  policiesOf?: PoliciesOf;
}

/** A region's listing: how many snapshots were read (and how many resources could not be), or why none. */
export type RegionListing =
  { region: string; listed: number; unreadable?: number } | { region: string; error: string };

export interface RetentionResult {
  dryRun: boolean;
  /** The `now` the plan was made with (ISO). */
  at: string;
  scheduledTime?: string;
  regions: RegionListing[];
  /** The full plan: a verdict for every listed snapshot. */
  plan: RetentionPlan;
  /** One per region listing and per planned deletion (`planned` in a dry run). */
  outcomes: Outcome[];
  notification: Notification;
}

const ALL_KINDS = ResourceKind.options;
// One log line stays readable (and under CloudWatch's 256 KB event limit): long id lists are cut and counted.
const LIST_MAX = 50;
// The longest error text the summary quotes (the full report keeps all of it).
const ERROR_MAX = 300;

const label = (s: Pick<Snapshot, 'kind' | 'id' | 'region' | 'object' | 'serverless'>) =>
  s.object
    ? `dump object ${s.id}`
    : `${s.kind}${s.serverless ? ' serverless' : ''} snapshot ${s.id} in ${s.region}`;

/**
 * Add one store's listing to its region's: two stores share the DR region (its snapshots and the Redis DR
 * bucket's copies), which the result, report and message name once. A failed listing makes the region's
 * a failure (it was not fully read); the counts of the others add up.
 */
const addListing = (regions: RegionListing[], l: RegionListing): void => {
  const i = regions.findIndex((r) => r.region === l.region);
  const had = regions[i];
  if (!had) {
    regions.push(l);
    return;
  }
  if ('error' in had || 'error' in l) {
    const errors = [had, l].flatMap((r) => ('error' in r ? [r.error] : []));
    regions[i] = { region: l.region, error: errors.join('; ') };
    return;
  }
  const unreadable = (had.unreadable ?? 0) + (l.unreadable ?? 0);
  regions[i] = { region: l.region, listed: had.listed + l.listed, ...(unreadable ? { unreadable } : {}) };
};

/** What a retention run reads before it plans (listForRetention); `steward plan retention` reads the same. */
export interface RetentionListing {
  /** Every snapshot, dump object and Redis DR copy the stores listed. */
  inventory: Snapshot[];
  regions: RegionListing[];
  /** One per store listing, and a failed one per resource (or store) that could not be read. */
  outcomes: Outcome[];
  /** The stores whose listing was read. */
  listed: SnapshotStore[];
  drSnapshots: DrSnapshots;
  /** Whether the Redis DR copies are in the listing. */
  redisDr: boolean;
}

/**
 * List every store of a retention run (its swept regions, its dump objects and Redis DR copies, the DR region
 * read only): what the run plans from, and what `steward plan retention` shows, so the two never differ.
 */
export const listForRetention = async (
  deps: Pick<RetentionServiceDeps, 'stores' | 'drStore' | 'config'>,
): Promise<RetentionListing> => {
  // The DR region, when only read, is read for its RDS and EBS copies: ElastiCache has no cross-region copy.
  const [listings, drListing] = await Promise.all([
    Promise.allSettled(deps.stores.map((store) => store.list(ALL_KINDS))),
    deps.drStore?.list(['rds-instance', 'aurora-cluster', 'ebs']).then(
      (l) => ({ ok: true as const, l }),
      (e: unknown) => ({ ok: false as const, e }),
    ),
  ]);
  const regions: RegionListing[] = [];
  const outcomes: Outcome[] = [];
  const inventory: Snapshot[] = [];
  const listed: SnapshotStore[] = [];
  deps.stores.forEach((store, i) => {
    const r = listings[i]!;
    const resource = `snapshots in ${store.region}`;
    if (r.status === 'fulfilled') {
      const { snapshots, failures } = r.value;
      inventory.push(...snapshots);
      listed.push(store);
      addListing(regions, {
        region: store.region,
        listed: snapshots.length,
        ...(failures.length ? { unreadable: failures.length } : {}),
      });
      outcomes.push({ resource, action: 'list', status: 'done', detail: `${snapshots.length} snapshots` });
      // What could not be read is reported on its own; everything that was read is still judged.
      for (const f of failures)
        outcomes.push(failedOutcome({ resource: f.resource, action: 'list' }, f.cause));
    } else {
      addListing(regions, { region: store.region, error: errorMessage(r.reason) });
      outcomes.push(failedOutcome({ resource, action: 'list' }, r.reason));
    }
  });

  let drSnapshots: DrSnapshots = 'in-inventory';
  const drRegion = drCopying(deps.config)?.region;
  if (deps.drStore && drListing) {
    const resource = `snapshots in ${deps.drStore.region} (DR, read only)`;
    if (drListing.ok && !drListing.l.failures.length) {
      drSnapshots = drListing.l.snapshots;
      outcomes.push({ resource, action: 'list', status: 'done', detail: `${drSnapshots.length} snapshots` });
    } else {
      // Without the full DR listing no day is known to be in DR: every such day keeps a snapshot.
      drSnapshots = 'unreadable';
      if (drListing.ok)
        for (const f of drListing.l.failures)
          outcomes.push(failedOutcome({ resource: f.resource, action: 'list' }, f.cause));
      else outcomes.push(failedOutcome({ resource, action: 'list' }, drListing.e));
    }
  } else if (drRegion && regions.some((r) => r.region === drRegion && ('error' in r || r.unreadable))) {
    drSnapshots = 'unreadable';
  }

  // The Redis DR copies are in the DR listing when a store lists them (read, or failed: then held as unread).
  const redisDr = deps.stores.some((st) => st.redisDrCopies === true);
  return { inventory, regions, outcomes, listed, drSnapshots, redisDr };
};

/** The run's plan of a listing (the CLI's plan is the same call). */
export const planListed = (
  deps: Pick<RetentionServiceDeps, 'config' | 'policiesOf'>,
  l: RetentionListing,
  now: Date,
): RetentionPlan =>
  planRetentionFor(l.inventory, deps.config, now, l.drSnapshots, l.redisDr, deps.policiesOf);

/**
 * One retention run: list every region, plan, delete (unless dry run), report with metrics, a log line and
 * one notification, then throw PartialFailureError if any listing, deletion or the notification failed.
 * A region that cannot be listed is reported; the other regions are still handled.
 */
export const runRetention = async (
  deps: RetentionServiceDeps,
  request: Pick<RetentionRequest, 'dryRun' | 'scheduledTime'> = {},
): Promise<RetentionResult> => {
  const dryRun = deps.dryRun || request.dryRun === true;
  const now = deps.now();
  const listing = await listForRetention(deps);
  const { inventory, regions, outcomes, listed } = listing;
  // The store a snapshot was listed from: the first of its region that holds it.
  const storeOf = (s: Snapshot) => listed.find((st) => st.region === s.region && (st.holds?.(s) ?? true));
  const plan = planListed(deps, listing, now);
  const unresolved = unresolvedTargets(inventory, plan.verdicts, deps.policiesOf);
  const describe = (s: Snapshot) => ({ resource: label(s), action: 'delete' });
  const budget = dryRun
    ? undefined
    : await reserveDeletions(deps.budget, now, plan.delete.length, plan.allowance.allowed);
  if (budget?.failed) outcomes.push(budget.failed);
  const granted = dryRun ? plan.delete : plan.delete.slice(0, budget?.granted ?? 0);
  const overBudget = dryRun ? [] : plan.delete.slice(granted.length);
  const deletions = dryRun
    ? plan.delete.map((s): Outcome => ({ ...describe(s), status: 'planned' }))
    : await settleEach(
        granted,
        async (s): Promise<Outcome> => {
          const store = storeOf(s);
          if (!store) throw new Error(`no snapshot store for region ${s.region}`);
          const r = await store.remove(s);
          return r === 'deleted'
            ? { ...describe(s), status: 'done' }
            : { ...describe(s), status: 'already-done', detail: 'already gone' };
        },
        describe,
      );
  outcomes.push(...deletions);
  const why = budget?.failed
    ? 'not deleted: the deletion budget could not be reserved'
    : `deferred: today's deletion budget (${plan.allowance.allowed}) was used by an earlier run (a retry, an overlap)`;
  outcomes.push(...overBudget.map((s): Outcome => ({ ...describe(s), status: 'skipped', reason: why })));
  if (budget?.day) await refundDeletions(deps.budget, budget.day, granted.length - tally(deletions).done);
  if (!dryRun && deps.records)
    outcomes.push(...(await keepRecord(deps.records, now, request, plan, granted, deletions, deps.place)));

  // The full report first (every verdict and outcome), then the bounded summary that links it.
  const reported = await reportRun(
    deps,
    {
      capability: 'retention',
      at: now,
      name: dryRun ? 'retention-dry-run' : 'retention',
      report: {
        dryRun,
        ...(request.scheduledTime !== undefined && { scheduledTime: request.scheduledTime }),
        regions,
        summary: plan.summary,
        allowance: plan.allowance,
        counts: outcomeCounts(outcomes),
        outcomes: [...outcomes],
        verdicts: plan.verdicts,
        deferred: plan.deferred.map((s) => `${s.region}/${s.id}`),
        ...(unresolved.length ? { unresolvedTargets: unresolved } : {}),
      },
    },
    (report) =>
      retentionNotification({
        dryRun,
        regions,
        plan,
        outcomes,
        safetyCap: deps.config.retention.deletions.safetyCap,
        overBudget: overBudget.length,
        unresolved,
        report,
      }),
  );
  const result: RetentionResult = {
    dryRun,
    at: now.toISOString(),
    ...(request.scheduledTime !== undefined && { scheduledTime: request.scheduledTime }),
    regions,
    plan,
    outcomes,
    notification: reported.notification,
  };
  outcomes.push(...reported.outcomes);

  const failed = outcomes.filter((o) => o.status === 'failed');
  addCount('SnapshotsExpired', plan.delete.length);
  addCount('SnapshotsDeleted', tally(deletions).done);
  addCount('SnapshotsDeferred', plan.deferred.length + overBudget.length);
  // The day's allowance and what it was computed from; SafetyCapHit is the one to alarm on. Gauges, not
  // news: fleet-wide only (a target's own are in its run report).
  metrics.addMetric('SnapshotsDue', MetricUnit.Count, plan.allowance.due, { perTarget: 0 });
  metrics.addMetric('DeletionAllowance', MetricUnit.Count, plan.allowance.allowed, { perTarget: 0 });
  addCount('SafetyCapHit', plan.allowance.capHit === 'safety' ? 1 : 0);
  addCount('SnapshotsAwaitingDr', plan.summary.byRule['awaiting-dr'] ?? 0);
  addCount('ActionFailures', failed.length);

  const report = {
    dryRun,
    regions,
    summary: plan.summary,
    allowance: plan.allowance,
    outcomes: tally(outcomes),
    // Capped like the notification: one log line must stay readable (and under CloudWatch's 256 KB event limit).
    expired: capped(plan.delete.map((s) => `${s.region}/${s.id}`)),
    deferred: capped(plan.deferred.map((s) => `${s.region}/${s.id}`)),
    doubt: doubtful(plan.verdicts).map(({ id, region, reason }) => ({ id, region, reason })),
    // Dumps kept with the longest candidate policies (their target could not be resolved): the first few.
    ...(unresolved.length
      ? { unresolvedTargets: { count: unresolved.length, first: unresolved.slice(0, TOP_N) } }
      : {}),
    failed,
  };
  if (failed.length) logger.warn('retention run had failures', report);
  else logger.info('retention run', report);

  throwIfFailed('retention', outcomes);
  return result;
};

/**
 * Keep the record of what this run deleted, so the monthly evidence still counts those backups. A failed
 * write is a failed outcome: the run reports it and fails, the deletions themselves stand.
 */
const keepRecord = async (
  recorder: RetentionRecorder,
  now: Date,
  request: Pick<RetentionRequest, 'scheduledTime'>,
  plan: RetentionPlan,
  attempted: readonly Snapshot[],
  deletions: readonly Outcome[],
  place: Place | undefined,
): Promise<Outcome[]> => {
  const record = retentionRecord({
    at: now.toISOString(),
    ...(place ? { place } : {}),
    ...(request.scheduledTime !== undefined ? { scheduledTime: request.scheduledTime } : {}),
    deleted: attempted.map((snapshot, i) => {
      const o = deletions[i]!;
      return {
        snapshot,
        status: o.status === 'failed' ? 'failed' : o.status === 'already-done' ? 'already-gone' : 'deleted',
        ...(o.status === 'failed' ? { error: o.error } : {}),
      };
    }),
    verdicts: plan.verdicts,
    deferred: plan.deferred.length,
  });
  if (!record) return [];
  try {
    const key = await recorder.record(record);
    return [{ resource: 'retention record', action: 'record', status: 'done', detail: key }];
  } catch (e) {
    return [failedOutcome({ resource: 'retention record', action: 'record' }, e)];
  }
};

/** A dump judged with the longest candidate policies because its own target could not be resolved. */
export interface UnresolvedTarget {
  id: string;
  /** Why (fleet/place.ts, dumpPolicies). */
  reason: string;
  /** The retention policy it was judged by: `<names> (longest)`. */
  policy?: string;
}

/** The judged (not skipped) snapshots whose policies came with `unresolved`, in inventory order. */
const unresolvedTargets = (
  inventory: readonly Snapshot[],
  verdicts: readonly Verdict[],
  policiesOf: PoliciesOf | undefined,
): UnresolvedTarget[] => {
  if (!policiesOf) return [];
  const byId = new Map(verdicts.map((v) => [`${v.region}\u0000${v.id}`, v]));
  return inventory.flatMap((s) => {
    const reason = policiesOf(s)?.unresolved;
    const v = reason !== undefined ? byId.get(`${s.region}\u0000${s.id}`) : undefined;
    return reason !== undefined && v && v.action !== 'skip'
      ? [{ id: s.id, reason, ...(v.policy !== undefined ? { policy: v.policy } : {}) }]
      : [];
  });
};

/** Verdicts a human should look at: keeps on doubt, and snapshots whose source tag disagrees with AWS. */
const doubtful = (verdicts: readonly Verdict[]) =>
  verdicts
    .filter(
      (v) =>
        (v.action === 'keep' && DOUBT_RULES.includes(v.rule)) ||
        (v.action === 'skip' && v.rule === 'source-mismatch'),
    )
    .map((v) =>
      v.rule === 'source-mismatch'
        ? {
            ...v,
            reason: `skipped: its ${Tag.source} tag names another database than its source ${v.sourceId}`,
          }
        : v,
    );

const capped = (items: readonly string[]): string[] =>
  items.length > LIST_MAX
    ? [...items.slice(0, LIST_MAX), `... and ${items.length - LIST_MAX} more`]
    : [...items];

/**
 * The one notification of a run. Severity: `critical` when the safety cap stopped deletions (a policy
 * change, a removed hold or a bad inventory expires far more than a day's normal work: a human must look
 * before tomorrow's run deletes another cap's worth); `warning` when an action failed, expired snapshots
 * were deferred, or snapshots were kept on doubt (each needs a human, none is urgent); `info` otherwise.
 * Normal work never pages: a missed run only costs storage, the Lambda error alarm still fires, and the
 * backup capability warns before the manual-snapshot quota stops backups.
 */
export const retentionNotification = (run: {
  dryRun: boolean;
  regions: readonly RegionListing[];
  plan: RetentionPlan;
  outcomes: readonly Outcome[];
  safetyCap: number;
  /** Expired snapshots left for tomorrow because today's budget was used (or could not be reserved). */
  overBudget?: number;
  /** Dumps kept with the longest candidate policies: their target could not be resolved. */
  unresolved?: readonly UnresolvedTarget[];
  /** Where the run's full report went (every verdict and outcome); the summary links it. */
  report?: RunReportResult;
}): Notification => {
  const { dryRun, regions, plan, outcomes } = run;
  const { allowance } = plan;
  const deletes = outcomes.filter((o) => o.action === 'delete');
  const t = tally(deletes);
  const failures = outcomes.flatMap((o) =>
    o.status === 'failed' ? [`${o.resource}: ${clip(o.error, ERROR_MAX)}`] : [],
  );
  const doubt = doubtful(plan.verdicts);
  const overBudget = run.overBudget ?? 0;
  const safety = allowance.capHit === 'safety';
  const awaitingDr = plan.summary.byRule['awaiting-dr'] ?? 0;
  const severity: Severity = safety
    ? 'critical'
    : failures.length || plan.deferred.length || overBudget || doubt.length
      ? 'warning'
      : 'info';

  const subject = safety
    ? `safety cap: ${allowance.expired} snapshots expired, ${plan.delete.length} deleted at most, ${plan.deferred.length} held back`
    : failures.length
      ? `${failures.length} of ${outcomes.length} actions failed, ${t.done} snapshots deleted`
      : dryRun
        ? `dry run: would delete ${plan.delete.length} expired snapshots`
        : plan.delete.length
          ? `deleted ${t.done} expired snapshots${t['already-done'] ? `, ${t['already-done']} already gone` : ''}`
          : 'nothing to expire';
  const deferredNote = plan.deferred.length ? `, ${plan.deferred.length} deferred to the next run` : '';

  const lines = [
    `Regions: ${regions.map((r) => ('error' in r ? `${r.region} (listing failed)` : `${r.region} (${r.listed} snapshots${r.unreadable ? `, ${r.unreadable} unreadable` : ''})`)).join(', ')}.`,
    `Kept ${plan.summary.keep}, skipped ${plan.summary.skip} (not ours, on hold or not available), expired ${plan.summary.expire}${deferredNote}.`,
    `Today's allowance: ${allowance.allowed} deletions (${allowance.due} became due in the last 48 h; safety cap ${run.safetyCap}).`,
    dryRun
      ? 'Dry run: nothing was deleted.'
      : `Deleted ${t.done}, already gone ${t['already-done']}, failed ${t.failed}.`,
    ...(run.report ? runReportLines(run.report) : []),
  ];
  if (safety) {
    lines.push(
      '',
      `SAFETY CAP REACHED: ${allowance.expired} snapshots are expired, ${allowance.due} of them became due in the last 48 h; at most ${run.safetyCap} are deleted per UTC day, so ${plan.deferred.length} were held back.`,
      allowance.due > run.safetyCap
        ? `What became due today alone exceeds the safety cap: raise retention.deletions.safetyCap above ${allowance.due}.`
        : 'Far more expired than a normal day: check recent retention policy changes, removed holds and the inventory before the next run deletes another day of them.',
    );
  }
  if (failures.length)
    lines.push(
      '',
      `Failed (${failures.length}):`,
      ...topLines(failures, (f) => `- ${f}`, 'failed', TOP_FAILURES),
    );
  if (plan.deferred.length && !safety) {
    lines.push(
      '',
      `Deferred: ${plan.deferred.length} expired snapshots over today's allowance of ${allowance.allowed} deletions; the next runs continue with the oldest.`,
    );
  }
  if (overBudget) {
    lines.push(
      '',
      `Over today's budget: ${overBudget} expired snapshots not deleted; the day's allowance holds for all runs together (retries, overlaps, manual invokes).`,
    );
  }
  if (awaitingDr) {
    lines.push(
      '',
      `Awaiting DR: ${awaitingDr} expired snapshots kept because they are the only one of their day and no copy of it is available in the DR region yet.`,
    );
  }
  const unresolved = run.unresolved ?? [];
  if (unresolved.length) {
    const byReason = new Map<string, UnresolvedTarget[]>();
    for (const u of unresolved) byReason.set(u.reason, [...(byReason.get(u.reason) ?? []), u]);
    lines.push(
      '',
      `Target not resolved (${unresolved.length} dump objects, kept with the longest of the policies that could apply, never shorter):`,
      ...topLines(
        [...byReason],
        ([reason, us]) =>
          `- ${clip(reason, ERROR_MAX)}: ${us.length} (e.g. ${us[0]!.id}${us[0]!.policy ? `, ${us[0]!.policy}` : ''})`,
        'reasons',
      ),
    );
  }
  if (doubt.length) {
    lines.push(
      '',
      `Kept on doubt or skipped (${doubt.length}; fix the tag or the config):`,
      ...topLines(doubt, (v) => `- ${v.id} (${v.region}): ${clip(v.reason, ERROR_MAX)}`, 'of these'),
    );
  }

  return {
    severity,
    capability: 'retention',
    subject: subject + (failures.length || safety ? '' : deferredNote),
    lines,
    // Counts and the first few of each list: the full lists are in the full report.
    data: {
      dryRun,
      summary: plan.summary,
      allowance,
      regions: regions.slice(0, TOP_N),
      counts: outcomeCounts(outcomes),
      report: run.report?.status === 'written' ? run.report.link.uri : null,
      expired: plan.delete.slice(0, TOP_N).map((s) => `${s.region}/${s.id}`),
      deferred: plan.deferred.slice(0, TOP_N).map((s) => `${s.region}/${s.id}`),
      doubt: doubt
        .slice(0, TOP_N)
        .map(({ id, region, reason }) => ({ id, region, reason: clip(reason, ERROR_MAX) })),
      failures: failures.slice(0, TOP_N),
      ...(unresolved.length
        ? {
            unresolvedTargets: {
              count: unresolved.length,
              first: unresolved.slice(0, TOP_N).map((u) => ({ ...u, reason: clip(u.reason, ERROR_MAX) })),
            },
          }
        : {}),
    },
  };
};
