import { Duration, SecretValue, Stack } from 'aws-cdk-lib';
import { type CfnRole, type Role } from 'aws-cdk-lib/aws-iam';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import {
  ApiDestination,
  Authorization,
  Connection,
  HttpMethod,
  HttpParameter,
  Rule,
  RuleTargetInput,
} from 'aws-cdk-lib/aws-events';
import { ApiDestination as ApiDestinationTarget } from 'aws-cdk-lib/aws-events-targets';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { PagerDutyConfig, StewardConfig } from '../shared/config/schema.js';
import { PAGER_DETAIL_TYPE, PAGER_SOURCE } from '../shared/notify/formats.js';
import { acknowledge } from './nag.js';
import { parkedMessages } from './parked-messages.js';

export interface PagerProps {
  config: StewardConfig;
  pagerDuty: PagerDutyConfig;
  /** Where the alarm on undelivered events goes: the stage's warning topic. */
  warning: ITopic;
}

// PagerDuty's Events API v2 takes about 120 events a minute per integration key; EventBridge queues the rest.
// https://developer.pagerduty.com/docs/events-api-v2/rate-limits/
const PAGERDUTY_EVENTS_PER_SECOND = 2;

/**
 * The pager route: steward's functions put PagerDuty events on the default bus (source `steward`,
 * detail-type `Steward Pager Event`); this stage's rule hands `detail.pagerduty` to an EventBridge API
 * destination for the Events API v2. The routing key lives only in the connection: CloudFormation resolves
 * it from the user's Secrets Manager secret at deploy and EventBridge keeps it in its own connection secret;
 * the template, the config and the logs only ever hold the secret's name. Undeliverable events wait in a
 * queue whose depth alarms to the warning topic.
 */
export class Pager extends Construct {
  readonly connection: Connection;
  readonly destination: ApiDestination;
  readonly rule: Rule;
  readonly deadLetterQueue: Queue;
  readonly failedAlarm: Alarm;

  constructor(scope: Construct, id: string, props: PagerProps) {
    super(scope, id);
    const { config, pagerDuty, warning } = props;
    const routingKey = () => SecretValue.secretsManager(pagerDuty.routingKeySecret);
    this.connection = new Connection(this, 'Connection', {
      connectionName: `steward-${config.stage}-pagerduty`,
      description: `steward ${config.stage}: PagerDuty Events API v2 (routing key from ${pagerDuty.routingKeySecret})`,
      // Events API v2 authenticates by the routing_key in the body; EventBridge connections need an
      // authorization type, so the same key also rides in a header PagerDuty ignores.
      authorization: Authorization.apiKey('X-Routing-Key', routingKey()),
      bodyParameters: { routing_key: HttpParameter.fromSecret(routingKey()) },
    });
    this.destination = new ApiDestination(this, 'Destination', {
      apiDestinationName: `steward-${config.stage}-pagerduty`,
      description: `steward ${config.stage}: PagerDuty Events API v2`,
      connection: this.connection,
      endpoint: pagerDuty.endpoint,
      httpMethod: HttpMethod.POST,
      rateLimitPerSecond: PAGERDUTY_EVENTS_PER_SECOND,
    });
    this.deadLetterQueue = new Queue(this, 'FailedEvents', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is the dead-letter queue of the PagerDuty target itself; its depth alarms to the warning topic.',
    );
    this.rule = new Rule(this, 'Rule', {
      description: `steward ${config.stage}: PagerDuty events (trigger, resolve) to the Events API v2`,
      eventPattern: {
        source: [PAGER_SOURCE],
        detailType: [PAGER_DETAIL_TYPE],
        detail: { stage: [config.stage] },
      },
      targets: [
        new ApiDestinationTarget(this.destination, {
          event: RuleTargetInput.fromEventPath('$.detail.pagerduty'),
          deadLetterQueue: this.deadLetterQueue,
          // A page is worth retrying for a while, not for a day: after an hour it is stale.
          retryAttempts: 20,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });
    // The role EventBridge assumes to call the destination (the target makes it): only for this account.
    const invoker = this.destination.node.tryFindChild('EventsRole') as Role | undefined;
    if (!invoker) throw new Error('the PagerDuty target made no EventsRole: CDK changed, check the trust');
    (invoker.node.defaultChild as CfnRole).addPropertyOverride(
      'AssumeRolePolicyDocument.Statement.0.Condition',
      {
        StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
      },
    );
    this.failedAlarm = new Alarm(this, 'FailedEventsAlarm', {
      alarmName: `steward-${config.stage}-pagerduty-undelivered`,
      alarmDescription: `steward ${config.stage}: PagerDuty did not accept events (routing key, rate limit, outage); they wait in ${this.deadLetterQueue.node.path}.`,
      ...parkedMessages(this.deadLetterQueue),
    });
    this.failedAlarm.addAlarmAction(new SnsAction(warning));
  }
}
