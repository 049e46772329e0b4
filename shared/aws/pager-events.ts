import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Severity } from '../config/schema.js';
import { AwsCallError } from '../errors.js';
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
 * Notifier for the pager route: each notification's PagerDuty events (triggers at `severities`, every
 * resolve) go to the default event bus, where the stage's rule hands `detail.pagerduty` to the PagerDuty
 * API destination (the connection adds the routing key). Entries PutEvents refuses are a failure.
 */
export const eventBridgePager = (
  events: EventBridgeClient,
  stage: string,
  severities: readonly Severity[],
  bus = 'default',
): Notifier => ({
  send: async (n) => {
    const entries = pagerDutyEvents(n, stage, severities).map((pagerduty) => ({
      EventBusName: bus,
      Source: PAGER_SOURCE,
      DetailType: PAGER_DETAIL_TYPE,
      Detail: JSON.stringify({ stage, pagerduty }),
    }));
    for (let i = 0; i < entries.length; i += BATCH) {
      const batch = entries.slice(i, i + BATCH);
      const r = await call('PutEvents', `event bus ${bus}`, () =>
        events.send(new PutEventsCommand({ Entries: batch })),
      );
      if (r.FailedEntryCount) {
        const failed = (r.Entries ?? []).find((e) => e.ErrorCode);
        throw new AwsCallError(
          'PutEvents',
          `event bus ${bus} (${r.FailedEntryCount} of ${batch.length} entries)`,
          {
            name: failed?.ErrorCode ?? 'FailedEntry',
            message: failed?.ErrorMessage ?? 'entries not accepted',
          },
        );
      }
    }
  },
});
