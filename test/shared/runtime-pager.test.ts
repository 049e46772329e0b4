import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { notifierFor } from '../../shared/runtime.js';
import type { Notification } from '../../shared/notify/notifier.js';
import { PAGER_SOURCE } from '../../shared/notify/formats.js';
import { loadExample } from '../support/examples.js';

// The pager route is imported at the first notification with a signal to page or resolve
// (shared/runtime.ts): what it sends must be what it sent when it was built with the notifier.
const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:steward-prod-critical';
const topics = { critical: TOPIC, warning: TOPIC, info: TOPIC };
const prod = loadExample('prod');
const paged = {
  ...prod,
  notifications: {
    ...prod.notifications,
    pagerDuty: {
      routingKeySecret: 'steward/pagerduty',
      severities: ['critical' as const],
      endpoint: 'https://events.pagerduty.com/v2/enqueue',
    },
  },
};
const note = (n: Partial<Notification>): Notification => ({
  severity: 'info',
  capability: 'backup',
  subject: 'orders-db backed up',
  lines: ['one snapshot'],
  ...n,
});

const mocks: { restore(): void }[] = [];
afterEach(() => mocks.splice(0).forEach((m) => m.restore()));

describe('the notifier of a stage with a pager route', () => {
  it('pages a critical notification and resolves a signal, through the bus, with the SNS message', async () => {
    // Prepare
    const sns = mockClient(SNSClient);
    const bus = mockClient(EventBridgeClient);
    mocks.push(sns, bus);
    sns.on(PublishCommand).resolves({});
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    const notifier = notifierFor(paged, topics);

    // Act
    await notifier.send(note({ severity: 'critical', subject: 'backup of orders-db failed' }));
    await notifier.send(
      note({ alerts: [{ key: 'backup:orders-db', action: 'resolve', severity: 'critical', summary: 'ok' }] }),
    );

    // Assert
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
    const entries = bus.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(entries.map((e) => [e.Source, JSON.parse(e.Detail!).pagerduty.event_action])).toEqual([
      [PAGER_SOURCE, 'trigger'],
      [PAGER_SOURCE, 'resolve'],
    ]);
  });

  it('sends the pager nothing for a notification without a signal, and fails the send when the bus refuses', async () => {
    // Prepare
    const sns = mockClient(SNSClient);
    const bus = mockClient(EventBridgeClient);
    mocks.push(sns, bus);
    sns.on(PublishCommand).resolves({});
    bus.on(PutEventsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const notifier = notifierFor(paged, topics);

    // Act
    await notifier.send(note({ severity: 'warning' }));
    const failed = notifier.send(note({ severity: 'critical' }));

    // Assert
    await expect(failed).rejects.toThrow(/PutEvents/);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
    expect(bus.commandCalls(PutEventsCommand)).toHaveLength(1);
  });

  it('has no pager route without pagerDuty in the config', async () => {
    // Prepare
    const sns = mockClient(SNSClient);
    const bus = mockClient(EventBridgeClient);
    mocks.push(sns, bus);
    sns.on(PublishCommand).resolves({});

    // Act
    await notifierFor(prod, topics).send(note({ severity: 'critical' }));

    // Assert
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(bus.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});
