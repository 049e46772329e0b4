import { PublishCommand, type PublishCommandInput, type SNSClient } from '@aws-sdk/client-sns';
import type { Severity } from '../config/schema.js';
import { fitToBudget, MESSAGE_BUDGET, publishedBytes } from '../notify/budget.js';
import { type ChatMarkdown, snsMessage } from '../notify/formats.js';
import type { Notification, Notifier } from '../notify/notifier.js';
import { call } from './call.js';

/**
 * Notifier that publishes to the severity's SNS topic, one message per protocol: email (and SQS, Lambda)
 * get the readable body, HTTPS subscribers (Amazon Q Developer in chat applications) the chat form.
 * Every message fits steward's budget (well under SNS's 256 KiB), measured on the request as it is
 * published, both forms included: a message over it is cut, saying so.
 */
export const snsNotifier = (
  sns: SNSClient,
  topics: Record<Severity, string>,
  stage: string,
  chat: ChatMarkdown = 'slack',
): Notifier => {
  const publish = (n: Notification): PublishCommandInput => ({
    TopicArn: topics[n.severity],
    ...snsMessage(n, stage, chat),
    MessageAttributes: {
      severity: { DataType: 'String', StringValue: n.severity },
      capability: { DataType: 'String', StringValue: n.capability },
    },
  });
  return {
    send: async (n) => {
      // Built once: a message within the budget (nearly every one) is published as first built.
      const whole = publish(n);
      const input =
        publishedBytes(whole) <= MESSAGE_BUDGET
          ? whole
          : publish(fitToBudget(n, (m) => publishedBytes(publish(m))));
      await call('Publish', topics[n.severity], () => sns.send(new PublishCommand(input)));
    },
  };
};
