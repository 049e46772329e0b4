import type { Severity } from '../config/schema.js';
import { clip, PartialFailureError } from '../errors.js';
import { TOP_FAILURES, topLines } from '../notify/budget.js';
import { sendReported, type Notifier } from '../notify/notifier.js';
import { logger } from '../observability.js';
import { throwIfFailed } from '../outcomes.js';
import {
  CYCLE_FAILED_ERROR,
  type ChildExecution,
  type FanOutSummary,
  type FanOutSummaryEvent,
  summariseFanOut,
  type TargetResult,
} from './fan-out.js';

/** Port: the children of one Map Run, from the export ResultWriter wrote (its manifest's location). */
export interface MapRunResults {
  read(
    bucket: string,
    manifestKey: string,
  ): Promise<{
    succeeded: ChildExecution[];
    failed: ChildExecution[];
    pending: ChildExecution[];
  }>;
}

export interface FanOutSummaryDeps {
  notifier: Notifier;
  results: MapRunResults;
}

/**
 * The cycle's deliberate failure, thrown once its notification went out: the only error of the summary the
 * state machine does not park in the failure queue (it ends the cycle SUCCEEDED with the error in its output:
 * told once, infra/fan-out.ts). Any other, including the PartialFailureError of a notification that failed,
 * means the cycle may have told nobody.
 */
export class FleetCycleFailedError extends PartialFailureError {
  override name = CYCLE_FAILED_ERROR;
}

const line = (t: TargetResult) =>
  `${t.account} ${t.region}${t.index !== undefined ? ` (targets[${t.index}])` : ''}${t.error ? `: ${t.error}` : ''}`;

const what = (e: FanOutSummaryEvent) => {
  const ev = e.event ?? {};
  if (typeof ev.policy === 'string') return `${e.capability} "${ev.policy}"`;
  return e.capability === 'scaling' ? 'scaling scale-in check' : e.capability;
};

/**
 * The parent's report of one scheduled cycle: read the children's results from the Map Run's export, name
 * every target that failed (account, region and why) in one notification, and throw FleetCycleFailedError
 * (after notifying) when any did, which the state machine puts in the cycle's output; a summary that fails
 * otherwise is parked in the failure queue by the state machine. Every target that
 * succeeded already reported its own run; a cycle where all succeeded sends nothing more.
 */
export const runFanOutSummary = async (
  e: FanOutSummaryEvent,
  deps: FanOutSummaryDeps,
): Promise<FanOutSummary> => {
  const details = e.results?.ResultWriterDetails;
  const unlisted = e.unlisted?.length ? { unlisted: e.unlisted } : {};
  let summary: FanOutSummary;
  if (details) {
    const children = await deps.results.read(details.Bucket, details.Key);
    summary = summariseFanOut(e.capability, e.targets, children, {
      results: `s3://${details.Bucket}/${details.Key}`,
      ...unlisted,
    });
  } else {
    // The Map Run failed as a whole: too many children failed (ToleratedFailurePercentage), or the
    // export itself failed. Its error is all the state machine passes on.
    const error = e.error ?? { Error: 'States.Runtime', Cause: 'the Map state ended without results' };
    summary = summariseFanOut(
      e.capability,
      e.targets,
      { succeeded: [], failed: [], pending: [] },
      { runError: clip(`${error.Error ?? 'Error'}: ${error.Cause ?? ''}`, 900), ...unlisted },
    );
  }
  const { failed, pending, runError } = summary;
  const missed = summary.unlisted ?? [];
  logger.info('fan-out finished', {
    capability: e.capability,
    targets: e.targets,
    succeeded: summary.succeeded.length,
    failed: failed.length,
    pending: pending.length,
    ...(runError ? { runError } : {}),
    ...(missed.length ? { unlisted: missed.map((u) => u.organizationalUnit) } : {}),
  });
  if (!failed.length && !pending.length && !runError && !missed.length) return summary;

  // An OU that could not be listed is every one of its accounts not protected this cycle: critical.
  const severity: Severity =
    runError || missed.length || failed.length * 2 >= Math.max(1, e.targets) ? 'critical' : 'warning';
  const notListed = missed.length
    ? `${missed.length} organizational unit${missed.length > 1 ? 's' : ''} not listed (${missed.map((u) => u.organizationalUnit).join(', ')})`
    : '';
  const subject = runError
    ? `Fleet ${what(e)}: the cycle failed over ${e.targets} targets${notListed ? `; ${notListed}` : ''}`
    : failed.length || pending.length || !notListed
      ? `Fleet ${what(e)}: ${failed.length} of ${e.targets} targets failed${pending.length ? `, ${pending.length} unfinished` : ''}${notListed ? `; ${notListed}` : ''}`
      : `Fleet ${what(e)}: ${notListed}, their accounts did not run`;
  const outcomes = await sendReported(deps.notifier, {
    severity,
    capability: e.capability,
    subject,
    lines: [
      ...missed.map(
        (u) =>
          `Organizational unit ${u.organizationalUnit}${u.targets?.length ? ` (targets[${u.targets.join('], targets[')}])` : ''} could not be listed, none of its accounts ran: ${u.error}`,
      ),
      ...(runError ? [`The Map Run failed: ${runError}`] : []),
      ...topLines(failed, line, 'failed targets', TOP_FAILURES),
      ...topLines(pending, line, 'unfinished targets'),
      `${summary.succeeded.length} of ${e.targets} targets succeeded; each reported its own run.`,
      ...(summary.results ? [`Every child's result: ${summary.results}`] : []),
    ],
    nextSteps: [
      ...(missed.length
        ? [
            'Organizational unit not listed: the hub must be the management account or a delegated administrator, with organizations:ListAccountsForParent and ListChildren; a throttle passes by the next cycle.',
          ]
        : []),
      'Access denied: deploy the spoke stack in that account and region, or check its role trusts this hub.',
      'Region disabled or credentials refused: enable the region for the account (or STS in the hub region), or remove it from targets; if it is enabled, the credentials are invalid.',
    ],
    data: {
      capability: e.capability,
      targets: e.targets,
      succeeded: summary.succeeded.length,
      failed: failed.slice(0, TOP_FAILURES),
      pending: pending.length,
      runError: runError ?? null,
      results: summary.results ?? null,
      unlisted: missed,
    },
  });
  throwIfFailed(`Fleet ${e.capability} summary`, outcomes);
  throw new FleetCycleFailedError(`Fleet ${what(e)}`, [
    ...missed.map((u) => ({ resource: u.organizationalUnit, error: `not listed: ${u.error}` })),
    ...(runError
      ? [{ resource: `${e.targets} targets`, error: runError }]
      : [...failed, ...pending].map((t) => ({
          resource: `${t.account} ${t.region}`,
          error: t.error ?? 'unfinished',
        }))),
  ]);
};
