import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { eventBridgePager } from '../../../shared/aws/pager-events.js';
import { AwsCallError } from '../../../shared/errors.js';
import { PAGER_DETAIL_TYPE, PAGER_SOURCE } from '../../../shared/notify/formats.js';
import type { AlertSignal, Notification } from '../../../shared/notify/notifier.js';

const events = mockClient(EventBridgeClient);

const signal = (i: number, action: AlertSignal['action'] = 'trigger'): AlertSignal => ({
  key: `db-${i}:backup`,
  action,
  severity: 'critical',
  summary: `db-${i} FAILING: no snapshot for 52h`,
  resource: `db-${i}`,
});

const note = (alerts: AlertSignal[]): Notification => ({
  severity: 'critical',
  capability: 'report',
  subject: 'db FAILING',
  lines: [],
  alerts,
});

describe('eventBridgePager', () => {
  beforeEach(() => events.reset());

  it("puts one event per signal on the default bus under steward's source, ten per request", async () => {
    // Prepare
    events.on(PutEventsCommand).callsFake((i: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: i.Entries.map((_, n) => ({ EventId: `e-${n}` })),
    }));
    const pager = eventBridgePager(new EventBridgeClient({ region: 'eu-west-1' }), 'prod', ['critical']);
    // Act
    await pager.send(note([...Array.from({ length: 11 }, (_, i) => signal(i)), signal(99, 'resolve')]));
    // Assert
    const calls = events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!);
    expect(calls.map((e) => e.length)).toEqual([10, 2]);
    const first = calls[0]![0]!;
    expect(first).toMatchObject({
      EventBusName: 'default',
      Source: PAGER_SOURCE,
      DetailType: PAGER_DETAIL_TYPE,
    });
    expect(JSON.parse(first.Detail!)).toMatchObject({
      stage: 'prod',
      pagerduty: { event_action: 'trigger', dedup_key: 'steward/prod/db-0:backup' },
    });
    expect(JSON.parse(calls[1]![1]!.Detail!)).toEqual({
      stage: 'prod',
      pagerduty: { event_action: 'resolve', dedup_key: 'steward/prod/db-99:backup' },
    });
  });

  it('sends nothing for a notification that neither pages nor resolves', async () => {
    const pager = eventBridgePager(new EventBridgeClient({ region: 'eu-west-1' }), 'prod', ['critical']);
    await pager.send({ severity: 'info', capability: 'backup', subject: 'ok', lines: [] });
    expect(events).toHaveReceivedCommandTimes(PutEventsCommand, 0);
  });

  it('puts again only the entries EventBridge refused (throttled, internal failure), then succeeds', async () => {
    // Prepare: the first request takes db-0 and refuses db-1; the second takes db-1
    events
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [{ EventId: 'e-0' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    const waits: number[] = [];
    const pager = eventBridgePager(new EventBridgeClient({ region: 'eu-west-1' }), 'prod', ['critical'], {
      sleep: async (ms) => void waits.push(ms),
    });

    // Act
    await pager.send(note([signal(0), signal(1)]));

    // Assert: one page each, no duplicate of db-0, after a short wait
    const keys = events
      .commandCalls(PutEventsCommand)
      .map((c) => c.args[0].input.Entries!.map((e) => JSON.parse(e.Detail!).pagerduty.dedup_key));
    expect(keys).toEqual([
      ['steward/prod/db-0:backup', 'steward/prod/db-1:backup'],
      ['steward/prod/db-1:backup'],
    ]);
    expect(waits).toHaveLength(1);
  });

  it('fails naming the bus when EventBridge refuses entries (a lost page must not pass silently)', async () => {
    // Prepare
    events.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });
    const pager = eventBridgePager(new EventBridgeClient({ region: 'eu-west-1' }), 'prod', ['critical'], {
      sleep: async () => {},
    });
    // Act / Assert
    const sent = pager.send(note([signal(1)]));
    await expect(sent).rejects.toThrow(AwsCallError);
    await expect(pager.send(note([signal(1)]))).rejects.toThrow(
      /PutEvents failed for event bus default .*InternalFailure/,
    );
  });

  it("every event stays bounded however large the notification: under PagerDuty's 512 KB and EventBridge's 256 KB per request", async () => {
    // Prepare: 50 signals on databases with long names, a subject, lines and links far past any limit.
    events.on(PutEventsCommand).callsFake((i: { Entries: unknown[] }) => ({
      FailedEntryCount: 0,
      Entries: i.Entries.map((_, n) => ({ EventId: `e-${n}` })),
    }));
    const pager = eventBridgePager(new EventBridgeClient({ region: 'eu-west-1' }), 'prod', ['critical']);
    const long = (s: string) => s.repeat(2_000);
    const big: Notification = {
      ...note(
        Array.from({ length: 50 }, (_, i) => ({
          ...signal(i),
          resource: `${long('db')}-${i}`,
          summary: long('x'),
        })),
      ),
      subject: long('subject '),
      lines: Array.from({ length: 30 }, (_, i) => `${i}: ${long('an error text ')}`),
      links: Array.from({ length: 8 }, (_, i) => ({
        text: long('t'),
        href: `https://example.com/${long('p')}/${i}`,
      })),
    };
    // Act
    await pager.send(big);
    // Assert: PutEvents counts Source, DetailType and Detail in UTF-8 bytes; the request total must stay
    // under 256 KB (EventBridge), each event's body under 512 KB (PagerDuty): the tighter one binds.
    const utf8 = (s?: string) => Buffer.byteLength(s ?? '', 'utf8');
    const requests = events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!);
    expect(requests.flat()).toHaveLength(50);
    for (const entries of requests) {
      const size = entries.reduce((n, e) => n + utf8(e.Source) + utf8(e.DetailType) + utf8(e.Detail), 0);
      expect(size).toBeLessThan(256 * 1024);
    }
    const first = JSON.parse(requests[0]![0]!.Detail!) as {
      pagerduty: { payload: { custom_details: { details: string } } };
    };
    expect(first.pagerduty.payload.custom_details.details).toMatch(/\.\.\. \(\d+ chars\)/);
  });
});
