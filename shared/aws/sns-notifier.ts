import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Severity } from '../config/schema.js';
import { type Notifier, renderNotification } from '../notify/notifier.js';
import { call } from './call.js';

/** Notifier that publishes to the severity's SNS topic. */
export const snsNotifier = (sns: SNSClient, topics: Record<Severity, string>, stage: string): Notifier => ({
  send: async (n) => {
    const { subject, message } = renderNotification(n, stage);
    await call('Publish', topics[n.severity], () =>
      sns.send(
        new PublishCommand({
          TopicArn: topics[n.severity],
          Subject: subject,
          Message: message,
          MessageAttributes: {
            severity: { DataType: 'String', StringValue: n.severity },
            capability: { DataType: 'String', StringValue: n.capability },
          },
        }),
      ),
    );
  },
});
