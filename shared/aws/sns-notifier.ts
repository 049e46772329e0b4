import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Severity } from '../config/schema.js';
import { type ChatMarkdown, snsMessage } from '../notify/formats.js';
import type { Notifier } from '../notify/notifier.js';
import { call } from './call.js';

/**
 * Notifier that publishes to the severity's SNS topic, one message per protocol: email (and SQS, Lambda)
 * get the readable body, HTTPS subscribers (Amazon Q Developer in chat applications) the chat form.
 */
export const snsNotifier = (
  sns: SNSClient,
  topics: Record<Severity, string>,
  stage: string,
  chat: ChatMarkdown = 'slack',
): Notifier => ({
  send: async (n) => {
    const message = snsMessage(n, stage, chat);
    await call('Publish', topics[n.severity], () =>
      sns.send(
        new PublishCommand({
          TopicArn: topics[n.severity],
          ...message,
          MessageAttributes: {
            severity: { DataType: 'String', StringValue: n.severity },
            capability: { DataType: 'String', StringValue: n.capability },
          },
        }),
      ),
    );
  },
});
