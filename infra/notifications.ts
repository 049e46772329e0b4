import { Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  CfnMicrosoftTeamsChannelConfiguration,
  LoggingLevel,
  SlackChannelConfiguration,
} from 'aws-cdk-lib/aws-chatbot';
import { Effect, ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { type ChatConfig, Severity, type StewardConfig } from '../shared/config/schema.js';
import { Pager } from './pager.js';

export interface NotificationsProps {
  config: StewardConfig;
  removalPolicy: RemovalPolicy;
}

/** A severity topic's name (`steward-<stage>-<severity>`). */
export const topicName = (stage: string, severity: Severity): string => `steward-${stage}-${severity}`;

/**
 * The three severity topics (critical → pager, warning → chat, info → email), encrypted with one
 * customer-managed key. Users subscribe their own endpoints; config adds email subscriptions, Slack and
 * Teams channels (Amazon Q Developer in chat applications) and the PagerDuty route.
 */
export class Notifications extends Construct {
  readonly key: Key;
  readonly critical: Topic;
  readonly warning: Topic;
  readonly info: Topic;
  /** The PagerDuty route (config.notifications.pagerDuty). */
  readonly pager?: Pager;
  /** Chat channel configurations (config.notifications.chat). */
  slack?: SlackChannelConfiguration;
  teams?: CfnMicrosoftTeamsChannelConfiguration;
  chatRole?: Role;

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
        topicName: topicName(config.stage, severity),
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

    const chat = config.notifications.chat;
    if (chat?.slack || chat?.teams) this.wireChat(config.stage, chat);
    if (config.notifications.pagerDuty) {
      this.pager = new Pager(this, 'PagerDuty', {
        config,
        pagerDuty: config.notifications.pagerDuty,
        warning: this.warning,
      });
    }
  }

  /** The topic of each severity. */
  topicOf(severity: Severity): Topic {
    return severity === 'critical' ? this.critical : severity === 'warning' ? this.warning : this.info;
  }

  /**
   * Amazon Q Developer in chat applications channel configurations for the configured Slack and Teams
   * channels, subscribed to the chosen severity topics. Notifications only: the channel role has no
   * permissions and its guardrail denies everything, so nobody runs AWS commands from the channel.
   */
  private wireChat(stage: string, chat: ChatConfig): void {
    this.chatRole = new Role(this, 'ChatRole', {
      assumedBy: new ServicePrincipal('chatbot.amazonaws.com'),
      description: `steward ${stage}: Amazon Q Developer chat channel (notifications only, no permissions)`,
    });
    // Without a guardrail a channel defaults to AdministratorAccess for commands typed in chat.
    const guardrail = new ManagedPolicy(this, 'ChatGuardrail', {
      description: `steward ${stage}: chat channel guardrail, notifications only (every command denied)`,
      statements: [
        new PolicyStatement({
          sid: 'NotificationsOnly',
          effect: Effect.DENY,
          actions: ['*'],
          resources: ['*'],
        }),
      ],
    });
    const topics = (severities: readonly Severity[]) => severities.map((s) => this.topicOf(s));
    if (chat.slack) {
      this.slack = new SlackChannelConfiguration(this, 'Slack', {
        slackChannelConfigurationName: `steward-${stage}`,
        slackWorkspaceId: chat.slack.workspaceId,
        slackChannelId: chat.slack.channelId,
        notificationTopics: topics(chat.slack.severities),
        role: this.chatRole,
        guardrailPolicies: [guardrail],
        loggingLevel: LoggingLevel.ERROR,
      });
    }
    if (chat.teams) {
      this.teams = new CfnMicrosoftTeamsChannelConfiguration(this, 'Teams', {
        configurationName: `steward-${stage}-teams`,
        iamRoleArn: this.chatRole.roleArn,
        teamId: chat.teams.teamId,
        teamsTenantId: chat.teams.tenantId,
        // CloudFormation takes the id URL-encoded (19%3A…%40thread.tacv2), as the channel link shows it.
        teamsChannelId: encodeURIComponent(decodeURIComponent(chat.teams.channelId)),
        snsTopicArns: topics(chat.teams.severities).map((t) => t.topicArn),
        guardrailPolicies: [guardrail.managedPolicyArn],
        loggingLevel: 'ERROR',
      });
    }
  }

  private budgetsAllowed = false;

  /**
   * Let AWS Budgets publish this account's budget notifications to the topics: the topic policy statement
   * the Budgets guide gives (service principal, source account, `arn:aws:budgets::<account>:*`), and the
   * key use every AWS service needs to publish to an encrypted topic (SNS: key management, "compatibility
   * between event sources from AWS services and encrypted topics"). Idempotent.
   * https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html
   */
  allowBudgets(): void {
    if (this.budgetsAllowed) return;
    this.budgetsAllowed = true;
    const stack = Stack.of(this);
    const principal = new ServicePrincipal('budgets.amazonaws.com');
    const conditions = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:budgets::${stack.account}:*` },
    };
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowBudgetsToPublish',
        principals: [principal],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions,
      }),
    );
    for (const t of this.all)
      t.addToResourcePolicy(
        new PolicyStatement({
          sid: 'AllowBudgets',
          principals: [principal],
          actions: ['sns:Publish'],
          resources: [t.topicArn],
          conditions,
        }),
      );
  }

  /** All three topics, for grants and environment variables. */
  get all(): Topic[] {
    return [this.critical, this.warning, this.info];
  }
}
