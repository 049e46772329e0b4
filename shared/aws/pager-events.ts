import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Severity } from '../config/schema.js';
import { AwsCallError } from '../errors.js';
import { doubling, retrying } from '../retry.js';
import { PAGER_DETAIL_TYPE, PAGER_SOURCE } from '../notify/formats.js';
import { pagerDutyEvents } from '../notify/pager.js';
import type { Notifier } from '../notify/notifier.js';
import { call } from './call.js';

// The factory of the client this adapter sends through, for the callers that load this module on first use:
// the client's code then loads with the adapter that uses it, never before (test/infra/bundles.test.ts).
export { eventBridgeClient } from './clients/eventbridge.js';

// PutEvents takes at most 10 entries per request, totalling under 256 KB: each event is at most
// PD_EVENT_MAX_BYTES (16 KiB, see pager.ts), so ten always fit.
const BATCH = 10;
/**
 * Waits before putting again the entries PutEvents refused (0.1, 0.2, 0.4 s): a refused entry (throttled, an
 * internal failure) is retried alone, as EventBridge asks, so one bad moment neither fails the whole
 * notification (repeated by the next run, every route again) nor pages an accepted entry twice.
 */
const REFUSED_WAITS_MS = doubling(100, 3);

/**
 * Notifier for the pager route: each notification's PagerDuty events (triggers at `severities`, every
 * resolve) go to the default event bus, where the stage's rule hands `detail.pagerduty` to the PagerDuty
 * API destination (the connection adds the routing key). Entries PutEvents refuses are put again, alone,
 * a few times; still refused, they are a failure.
 */
export const eventBridgePager = (
  events: EventBridgeClient,
  stage: string,
  severities: readonly Severity[],
  o: { bus?: string; sleep?: (ms: number) => Promise<void> } = {},
): Notifier => ({
  send: async (n) => {
    const bus = o.bus ?? 'default';
    const entries = pagerDutyEvents(n, stage, severities).map((pagerduty) => ({
      EventBusName: bus,
      Source: PAGER_SOURCE,
      DetailType: PAGER_DETAIL_TYPE,
      Detail: JSON.stringify({ stage, pagerduty }),
    }));
    for (let i = 0; i < entries.length; i += BATCH) {
      let batch = entries.slice(i, i + BATCH);
      let refused = false;
      await retrying(
        async () => {
          refused = false;
          const r = await call('PutEvents', `event bus ${bus}`, () =>
            events.send(new PutEventsCommand({ Entries: batch })),
          );
          if (!r.FailedEntryCount) return;
          const failed = (r.Entries ?? []).find((e) => e.ErrorCode);
          // The answer's entries are in the request's order: keep the refused ones (all, if it says none).
          const again = batch.filter((_, n) => r.Entries?.[n]?.ErrorCode);
          const total = batch.length;
          batch = again.length ? again : batch;
          refused = true;
          throw new AwsCallError(
            'PutEvents',
            `event bus ${bus} (${r.FailedEntryCount} of ${total} entries)`,
            {
              name: failed?.ErrorCode ?? 'FailedEntry',
              message: failed?.ErrorMessage ?? 'entries not accepted',
            },
          );
        },
        { waitsMs: REFUSED_WAITS_MS, retryable: () => refused, sleep: o.sleep },
      );
    }
  },
});
