import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { Severity, type StewardConfig } from '../shared/config/schema.js';

export interface NotificationsProps {
  config: StewardConfig;
  removalPolicy: RemovalPolicy;
}

/**
 * The three severity topics (critical → pager, warning → chat, info → email), encrypted with one
 * customer-managed key. Users subscribe their own endpoints; config adds email subscriptions.
 */
export class Notifications extends Construct {
  readonly key: Key;
  readonly critical: Topic;
  readonly warning: Topic;
  readonly info: Topic;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);

    this.key = new Key(this, 'TopicKey', {
      description: `steward ${config.stage}: encrypts the notification topics`,
      alias: `alias/steward-${config.stage}-notifications`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(7),
      removalPolicy: props.removalPolicy,
    });
    // CloudWatch alarm actions publish as the service: without this an encrypted topic drops their messages
    // (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html). Only for this account's alarms
    // (confused-deputy guard); nothing else publishes to these topics as a service.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm:*' }) },
        },
      }),
    );

    const topic = (severity: Severity, name: string): Topic => {
      const t = new Topic(this, name, {
        topicName: `steward-${config.stage}-${severity}`,
        displayName: `steward ${config.stage} ${severity}`,
        masterKey: this.key,
        enforceSSL: true,
      });
      // A topic policy replaces SNS's default one, so alarm publishing is allowed explicitly, from this
      // account's alarms only (confused-deputy guard).
      t.addToResourcePolicy(
        new PolicyStatement({
          sid: 'AllowCloudWatchAlarms',
          principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [t.topicArn],
          conditions: {
            StringEquals: { 'aws:SourceAccount': stack.account },
            ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm:*' }) },
          },
        }),
      );
      for (const email of config.notifications[severity].emails)
        t.addSubscription(new EmailSubscription(email));
      return t;
    };
    this.critical = topic(Severity.def.entries.critical, 'Critical');
    this.warning = topic(Severity.def.entries.warning, 'Warning');
    this.info = topic(Severity.def.entries.info, 'Info');
  }

  /** All three topics, for grants and environment variables. */
  get all(): Topic[] {
    return [this.critical, this.warning, this.info];
  }
}
