import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { snsNotifier } from '../../../shared/aws/sns-notifier.js';
import { fitToBudget, MESSAGE_BUDGET, publishedBytes, topLines } from '../../../shared/notify/budget.js';
import type { Notification } from '../../../shared/notify/notifier.js';
import { clip, echo } from '../../../shared/errors.js';

const sns = mockClient(SNSClient);
const topics = {
  critical: 'arn:aws:sns:eu-west-1:111122223333:critical',
  warning: 'arn:aws:sns:eu-west-1:111122223333:warning',
  info: 'arn:aws:sns:eu-west-1:111122223333:info',
};

/** A notification that forgot to summarise: one line per item, every item in the JSON details. */
const unbounded = (items: number, text = 'x'.repeat(200)): Notification => ({
  severity: 'critical',
  capability: 'retention',
  subject: 'too much to say',
  lines: Array.from({ length: items }, (_, i) => `line ${i}: ${text}`),
  data: { items: Array.from({ length: items }, (_, i) => ({ i, text })) },
});

describe('message budget', () => {
  beforeEach(() => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: '1' });
  });

  it('a message under the budget is published as it is', () => {
    const n = unbounded(3);
    expect(fitToBudget(n, () => 10)).toBe(n);
  });

  it('a message over the budget keeps the most lines that fit, first ones first, and says what it left out', () => {
    // Prepare: each line counts 100 bytes, the JSON details 10 000.
    const n = unbounded(50);
    const size = (m: Notification) => m.lines.length * 100 + (m.data === undefined ? 0 : 10_000);
    // Act
    const fitted = fitToBudget(n, size, 2_000);
    // Assert
    expect(fitted.data).toBeUndefined();
    expect(fitted.lines).toHaveLength(20);
    expect(fitted.lines.slice(0, 19)).toEqual(n.lines.slice(0, 19));
    expect(fitted.lines.at(-1)).toBe(
      '... message cut to fit 2000 bytes: 31 more lines and the JSON details left out',
    );
  });

  it('an unsummarised message of 5000 items and multi-byte text is published under the budget', async () => {
    // Act
    await snsNotifier(new SNSClient({ region: 'eu-west-1' }), topics, 'prod').send(
      unbounded(5000, 'é→'.repeat(100)),
    );
    // Assert
    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(publishedBytes(input)).toBeLessThanOrEqual(MESSAGE_BUDGET);
    expect(publishedBytes(input)).toBeGreaterThan(MESSAGE_BUDGET - 2_000);
    const body = (JSON.parse(input.Message!) as { default: string }).default;
    expect(body).toContain('line 0: é→');
    expect(body).toMatch(/message cut to fit 65536 bytes: \d+ more lines and the JSON details left out$/);
  });

  it('topLines names the first n and counts the rest', () => {
    expect(topLines([1, 2, 3], String, 'numbers', 2)).toEqual([
      '1',
      '2',
      '... and 1 more numbers (in the full report)',
    ]);
    expect(topLines([1, 2], String, 'numbers', 2)).toEqual(['1', '2']);
  });
});

describe('inputs echoed in error messages', () => {
  it('are quoted and cut to a bounded length that says how long they were', () => {
    expect(echo('daily')).toBe('"daily"');
    const long = echo('p'.repeat(10_000));
    expect(long).toHaveLength(80);
    expect(long).toMatch(/^"p+\.\.\. \(10002 chars\)$/);
    expect(echo({ policy: 'x'.repeat(500) }, 60)).toHaveLength(60);
    expect(clip('short', 10)).toBe('short');
  });
});
