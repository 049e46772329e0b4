import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AwsCallError } from '../../../shared/errors.js';
import { snsNotifier } from '../../../shared/aws/sns-notifier.js';
import { renderNotification } from '../../../shared/notify/notifier.js';

const sns = mockClient(SNSClient);
const topics = {
  critical: 'arn:aws:sns:eu-west-1:111122223333:critical',
  warning: 'arn:aws:sns:eu-west-1:111122223333:warning',
  info: 'arn:aws:sns:eu-west-1:111122223333:info',
};

describe('notifier', () => {
  beforeEach(() => sns.reset());
  afterEach(() => vi.restoreAllMocks());

  it('publishes to the topic of the severity with a short subject, readable body and JSON details', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: '1' });
    const n = snsNotifier(new SNSClient({}), topics, 'prod');
    // Act
    await n.send({
      severity: 'critical',
      capability: 'backup',
      subject: 'Quota full',
      lines: ['ManualSnapshots 100/100'],
      data: { used: 100 },
    });
    // Assert
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: topics.critical,
      Subject: '[steward prod] CRITICAL backup: Quota full',
    });
    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input.MessageStructure).toBe('json');
    // Email (the default protocol) gets the readable body; formats.test.ts checks the chat form.
    const msg = (JSON.parse(input.Message!) as { default: string }).default;
    expect(msg).toContain('ManualSnapshots 100/100');
    expect(msg).toContain('"used": 100');
  });

  it('keeps subjects within the SNS limit of 100 ASCII characters', () => {
    // Act
    const { subject } = renderNotification(
      { severity: 'info', capability: 'retention', subject: `é${'x'.repeat(200)}`, lines: [] },
      'dev',
    );
    // Assert
    expect(subject.length).toBeLessThanOrEqual(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });

  it('builds a message within the budget once, and normalizes only a subject that is not printable ASCII', async () => {
    // Prepare: String.prototype.normalize runs once per subject built that needs it (snsSubject).
    sns.on(PublishCommand).resolves({ MessageId: '1' });
    const n = snsNotifier(new SNSClient({}), topics, 'prod');
    const normalize = vi.spyOn(String.prototype, 'normalize');
    // Act
    await n.send({
      severity: 'info',
      capability: 'backup',
      subject: 'Snapshots taken',
      lines: ['orders-db'],
    });
    const ascii = normalize.mock.calls.length;
    await n.send({ severity: 'info', capability: 'backup', subject: 'Café → done', lines: ['orders-db'] });
    // Assert
    expect(ascii).toBe(0);
    expect(normalize).toHaveBeenCalledTimes(1);
    expect(sns.commandCalls(PublishCommand).map((c) => c.args[0].input.Subject)).toEqual([
      '[steward prod] INFO backup: Snapshots taken',
      '[steward prod] INFO backup: Cafe -> done',
    ]);
  });

  it('wraps a publish failure naming the topic', async () => {
    // Prepare
    sns
      .on(PublishCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AuthorizationErrorException' }));
    const n = snsNotifier(new SNSClient({}), topics, 'prod');
    // Act / Assert
    await expect(n.send({ severity: 'info', capability: 'backup', subject: 's', lines: [] })).rejects.toThrow(
      AwsCallError,
    );
    await expect(n.send({ severity: 'info', capability: 'backup', subject: 's', lines: [] })).rejects.toThrow(
      /Publish failed for arn:aws:sns:.*:info: AuthorizationErrorException/,
    );
  });
});
