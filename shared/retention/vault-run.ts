import type { Severity, StewardConfig } from '../config/schema.js';
import { clip, ConfigError, EventShapeError } from '../errors.js';
import { vaultOf } from '../fleet/vault.js';
import type { Place } from '../fleet/place.js';
import type { Outcome } from '../model.js';
import { TOP_FAILURES, TOP_N, topLines } from '../notify/budget.js';
import { notifierAt, type Notification, type Notifier, sendReported } from '../notify/notifier.js';
import { reportRun, type RunReports, runReportLines, type RunReportResult } from '../notify/run-report.js';
import { outcomeCounts } from '../notify/summary.js';
import { addCount, logger } from '../observability.js';
import { tally, throwIfFailed } from '../outcomes.js';
import type { RetentionPlan } from './gfs.js';
import type { DeletionBudget, SnapshotStore } from './ports.js';
import type { VaultRetentionRequest } from './request.js';
import { runVaultRetention, VAULT_EXPIRE } from './vault.js';

/** What one vault retention run needs; the retention handler builds it. */
export interface VaultRetentionRunDeps {
  config: StewardConfig;
  dryRun: boolean;
  notifier: Notifier;
  now: () => Date;
  reports?: RunReports;
  /**
   * A vault region's snapshots, listed and deleted with the vault retention role. Undefined where the function
   * cannot act as that role (a local run: the vault trusts only the hub's retention role).
   */
  vaultStore?: (region: string) => SnapshotStore;
  /**
   * A vault region's day deletion budget (the hub's state table, its own key per vault account and region).
   * Undefined without a state table (a local run).
   */
  vaultBudget?: (region: string) => DeletionBudget;
}

export interface VaultRetentionResult {
  action: 'vault-retention';
  account: string;
  region: string;
  dryRun: boolean;
  policy: string;
  summary: RetentionPlan['summary'];
  /** Snapshots of the vault region that are not steward's vault copies: never judged. */
  ignored: number;
  outcomes: Outcome[];
}

const ERROR_MAX = 300;

/** The vault run's summary: `info` normally, `warning` on failures or deferrals, `critical` at the safety cap. */
export const vaultRetentionNotification = (run: {
  place: Place;
  policy: string;
  dryRun: boolean;
  plan: RetentionPlan;
  ignored: number;
  outcomes: readonly Outcome[];
  safetyCap: number;
  /** Expired copies left for tomorrow because today's budget was used (or could not be reserved). */
  overBudget?: number;
  report?: RunReportResult;
}): Notification => {
  const { plan, outcomes, dryRun } = run;
  const t = tally(outcomes.filter((o) => o.action === VAULT_EXPIRE));
  const failures = outcomes.flatMap((o) =>
    o.status === 'failed' ? [`${o.resource}: ${clip(o.error, ERROR_MAX)}`] : [],
  );
  const safety = plan.allowance.capHit === 'safety';
  const overBudget = run.overBudget ?? 0;
  const severity: Severity = safety
    ? 'critical'
    : failures.length || plan.deferred.length || overBudget
      ? 'warning'
      : 'info';
  const vault = `vault ${run.place.account ?? ''} ${run.place.region}`.replace('  ', ' ');
  const subject = safety
    ? `${vault}: safety cap, ${plan.allowance.expired} copies expired, ${plan.delete.length} deleted at most`
    : failures.length
      ? `${vault}: ${failures.length} of ${outcomes.length} actions failed, ${t.done} copies deleted`
      : dryRun
        ? `${vault}: dry run, would delete ${plan.delete.length} expired copies`
        : plan.delete.length
          ? `${vault}: deleted ${t.done} expired copies${t['already-done'] ? `, ${t['already-done']} already gone` : ''}`
          : `${vault}: nothing to expire`;
  const lines = [
    `Vault retention policy "${run.policy}" over the vault's own copies; ${run.ignored} other snapshots of the vault region are never judged.`,
    `Kept ${plan.summary.keep}, skipped ${plan.summary.skip}, expired ${plan.summary.expire}${plan.deferred.length ? `, ${plan.deferred.length} deferred to the next run` : ''}.`,
    `Today's allowance: ${plan.allowance.allowed} deletions (${plan.allowance.due} became due in the last 48 h; safety cap ${run.safetyCap}).`,
    dryRun
      ? 'Dry run: nothing was deleted.'
      : `Deleted ${t.done}, already gone ${t['already-done']}, failed ${t.failed}.`,
    ...(run.report ? runReportLines(run.report) : []),
  ];
  if (safety)
    lines.push(
      '',
      `SAFETY CAP REACHED: ${plan.allowance.expired} vault copies are expired; at most ${run.safetyCap} are deleted per run, so ${plan.deferred.length} were held back. Check recent changes to the vault's retention policy.`,
    );
  if (failures.length)
    lines.push(
      '',
      `Failed (${failures.length}):`,
      ...topLines(failures, (f) => `- ${f}`, 'failed', TOP_FAILURES),
    );
  if (overBudget)
    lines.push(
      '',
      `Over today's budget: ${overBudget} expired vault copies not deleted; the day's allowance holds for all of the vault region's runs together (retries, overlaps, manual invokes).`,
    );
  return {
    severity,
    capability: 'retention',
    subject,
    lines,
    data: {
      vault: true,
      dryRun,
      policy: run.policy,
      summary: plan.summary,
      allowance: plan.allowance,
      overBudget,
      counts: outcomeCounts(outcomes),
      report: run.report?.status === 'written' ? run.report.link.uri : null,
      expired: plan.delete.slice(0, TOP_N).map((s) => `${s.region}/${s.id}`),
      failures: failures.slice(0, TOP_N),
    },
  };
};

/**
 * Expire the backup vault's copies in one vault region by the vault's own policy (config `fleet.vault.retention`)
 * with the vault retention role: plan (the GFS engine, capped by `retention.deletions`), reserve from the vault
 * region's day budget (shared by every run of the day, like workload retention's), delete unless dry run,
 * write the full report, send one summary that names the vault's account and region, then throw
 * PartialFailureError if anything failed. A stage without a vault, or a region that is not a vault region, is
 * a bad request; a listing that fails is reported critical and thrown.
 */
export const runVaultRetentionRequest = async (
  req: VaultRetentionRequest,
  deps: VaultRetentionRunDeps,
): Promise<VaultRetentionResult> => {
  const vault = vaultOf(deps.config);
  if (!vault)
    throw new EventShapeError('Invalid vault retention request', [
      `action: "vault-retention" needs config fleet.vault, which stage ${deps.config.stage} does not set`,
    ]);
  if (!vault.regions.includes(req.region))
    throw new EventShapeError('Invalid vault retention request', [
      `region: ${req.region} is not a vault region (${vault.regions.join(', ')})`,
    ]);
  if (!deps.vaultStore)
    throw new ConfigError('Vault retention cannot reach the vault', [
      'VAULT_PARTITION: not set, so the vault retention role cannot be assumed (the deployed function sets it)',
    ]);
  if (!deps.vaultBudget)
    throw new ConfigError('Vault retention has no day budget', [
      "STATE_TABLE: not set, so the day's deletion budget cannot be kept (the deployed function sets it)",
    ]);
  const place: Place = { account: vault.account, region: req.region, fleet: true };
  const notifier = notifierAt(deps.notifier, place);
  const dryRun = deps.dryRun || (req.dryRun ?? false);
  const policy = { name: vault.retention, policy: deps.config.retention.policies[vault.retention]! };
  const limits = deps.config.retention.deletions;
  let run: Awaited<ReturnType<typeof runVaultRetention>>;
  try {
    run = await runVaultRetention(
      {
        store: deps.vaultStore(req.region),
        policy,
        limits,
        budget: deps.vaultBudget(req.region),
        now: deps.now,
      },
      dryRun,
    );
  } catch (e) {
    await sendReported(notifier, {
      severity: 'critical',
      capability: 'retention',
      subject: `vault ${vault.account} ${req.region}: retention failed before acting`,
      lines: [clip(e instanceof Error ? e.message : String(e), ERROR_MAX)],
      data: { request: req, dryRun },
    });
    throw e;
  }
  const { plan, ignored } = run;
  const done = tally(run.outcomes).done;
  addCount('VaultCopiesExpired', dryRun ? 0 : done);
  addCount('VaultCopiesDeferred', plan.deferred.length + run.overBudget);
  const reported = await reportRun(
    { reports: deps.reports, notifier, place },
    {
      capability: 'retention',
      at: deps.now(),
      name: `vault-${req.region}`,
      report: {
        vault: { account: vault.account, region: req.region, policy: vault.retention },
        dryRun,
        summary: plan.summary,
        allowance: plan.allowance,
        overBudget: run.overBudget,
        ignored,
        verdicts: plan.verdicts,
        outcomes: run.outcomes,
      },
    },
    (report) =>
      vaultRetentionNotification({
        place,
        policy: vault.retention,
        dryRun,
        plan,
        ignored,
        outcomes: run.outcomes,
        safetyCap: limits.safetyCap,
        overBudget: run.overBudget,
        report,
      }),
  );
  const outcomes = [...run.outcomes, ...reported.outcomes];
  logger.info('vault retention run', {
    region: req.region,
    dryRun,
    summary: plan.summary,
    counts: outcomeCounts(outcomes),
  });
  throwIfFailed('vault retention', outcomes);
  return {
    action: 'vault-retention',
    account: vault.account,
    region: req.region,
    dryRun,
    policy: vault.retention,
    summary: plan.summary,
    ignored,
    outcomes,
  };
};
