import { errorMessage } from '../errors.js';
import type { VerificationOutcome } from './checks.js';
import { ENDPOINTS_UNAVAILABLE } from './endpoints.js';
import { type DrillMetrics, drillMetrics, formatDuration } from './rto-rpo.js';
import type { DrillState } from './state.js';
import { causeText, type DrillVerdict } from './verdict.js';

/** The task an EBS drill did not get past, from how far its state got. */
export const ebsReachedStep = (s: Partial<DrillState>): string => {
  if (!s.drillId || !s.targets) return 'start';
  if (!s.source || !s.ebs) return 'select';
  if (!s.ebs.requestedAt) return 'restore';
  if (!s.ebs.availableAt) return 'await';
  if (s.ebs.verification === undefined && s.error) return 'verify';
  return 'record';
};

/**
 * RTO, RPO and pass/fail of an EBS drill. RTO: drill start to the set's last volume available (to the end of
 * the verifier's check when one ran). Each volume's restore time is in the state. RPO: the set's age when
 * the drill started (a crash-consistent set holds what was on disk when it was taken), judged against the
 * target for `latest` only: an older set chosen on purpose says nothing about how fresh backups are.
 */
export const ebsDrillVerdict = (s: DrillState): DrillVerdict => {
  const reasons: string[] = [];
  const gaps: string[] = [];
  // The verifier's Systems Manager endpoints never became available: the check could not run (inconclusive).
  const noEndpoints = s.error?.Error === ENDPOINTS_UNAVAILABLE;
  const failedStep = s.error && !noEndpoints ? ebsReachedStep(s) : undefined;
  if (s.error) {
    const cause = causeText(s.error.Cause);
    if (noEndpoints)
      gaps.push(
        `the verifier could not run: its VPC endpoints were not available${cause ? ` (${cause})` : ''}`,
      );
    else reasons.push(`${failedStep} failed: ${s.error.Error}${cause ? `: ${cause}` : ''}`);
  }
  const p = s.ebs;
  let metrics: DrillMetrics | undefined;
  if (!s.error && p?.availableAt && p.requestedAt && s.source && s.targets) {
    const v = p.verification;
    const rpo = Math.round((Date.parse(s.startedAt) - Date.parse(s.source.referenceTime)) / 1000);
    try {
      const m = drillMetrics({
        startedAt: s.startedAt,
        restoreStartedAt: p.requestedAt,
        restoredAt: p.availableAt,
        verifyStartedAt: v?.startedAt ?? p.availableAt,
        verifiedAt: v?.finishedAt ?? p.availableAt,
        referenceTime: s.source.referenceTime,
        dataRpoSeconds: Math.max(0, rpo),
        checksPassed: v === undefined || v.outcome === 'passed',
        checksOutcome: v?.outcome ?? 'passed',
        targets: s.targets,
      });
      const judged = (s.input.snapshot ?? 'latest') === 'latest';
      const kept = m.reasons.filter((r) => judged || !r.startsWith('RPO '));
      const outcome: VerificationOutcome = kept.length ? 'failed' : m.gaps.length ? 'inconclusive' : 'passed';
      metrics = {
        ...m,
        reasons: kept,
        rpoMet: judged ? m.rpoMet : true,
        outcome,
        passed: outcome === 'passed',
      };
      reasons.push(...(v?.outcome === 'failed' ? [`verifier: ${v.summary}`] : []), ...kept);
      gaps.push(...m.gaps, ...(v?.outcome === 'inconclusive' ? [`verifier: ${v.summary}`] : []));
    } catch (e) {
      reasons.push(`could not measure RTO/RPO: ${errorMessage(e)}`);
    }
  } else if (!s.error) {
    reasons.push('the snapshot set was not restored');
  }
  const unique = [...new Set(reasons)];
  const outcome: VerificationOutcome = unique.length ? 'failed' : gaps.length ? 'inconclusive' : 'passed';
  const passed = outcome === 'passed';
  const volumes = p?.volumes.length ?? 0;
  const summary = passed
    ? `EBS drill PASSED for ${s.database}: set ${p!.set.id} (${volumes} volume${volumes === 1 ? '' : 's'}) restored in ${formatDuration(metrics!.restoreSeconds)}, RTO ${formatDuration(metrics!.rtoSeconds)} (target ${formatDuration(metrics!.rtoTargetSeconds)}), RPO ${formatDuration(metrics!.rpoSeconds!)} (target ${formatDuration(metrics!.rpoTargetSeconds)})`
    : outcome === 'inconclusive'
      ? `EBS drill INCONCLUSIVE for ${s.database}: ${gaps[0]}`
      : `EBS drill FAILED for ${s.database}${failedStep ? ` at ${failedStep}` : ''}: ${unique[0]}${unique.length > 1 ? ` (+${unique.length - 1} more)` : ''}`;
  return {
    passed,
    outcome,
    ...(failedStep ? { failedStep } : {}),
    ...(metrics ? { metrics } : {}),
    reasons: unique,
    gaps,
    summary,
  };
};

/** The volume lines of an EBS drill's message: each volume, its snapshot, state and restore time. */
export const ebsVolumeLines = (s: DrillState): string[] => {
  const p = s.ebs;
  if (!p) return [];
  return [
    `Set:       ${p.set.id} of ${p.set.sourceId}, taken ${p.set.createdAt}, restored in ${p.settings.availabilityZone}${p.settings.fastSnapshotRestore ? ' (fast snapshot restore)' : ''}`,
    ...(p.vault
      ? [
          `Vault:     the copy in vault ${p.vault.account} ${p.vault.region} of account ${p.vault.sourceAccount}'s set${p.vault.copiedFrom ? ` ${p.vault.copiedFrom}` : ''}`,
        ]
      : []),
    ...p.volumes.map(
      (v) =>
        `  ${v.state === 'available' ? '✓' : '✗'} ${v.volumeId ?? '(not created)'} from ${v.snapshotId}${v.sourceVolumeId ? ` (of ${v.sourceVolumeId})` : ''}: ${v.state}${v.seconds !== undefined ? ` in ${formatDuration(v.seconds)}` : ''}${v.error ? ` (${v.error})` : ''}`,
    ),
    ...(p.verification ? [`Verifier:  ${p.verification.outcome}: ${p.verification.summary}`] : []),
  ];
};
