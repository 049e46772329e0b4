import { Duration } from 'aws-cdk-lib';
import { ContextAttribute } from 'aws-cdk-lib/aws-scheduler';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type * as v from '../shared/valid.js';
import type { BaseEnv } from '../shared/config/env.js';
import type { CostEnv } from '../shared/cost/env.js';
import { COST_KEY_PREFIX } from '../shared/cost/engine.js';
import { OUTBOX } from '../shared/aws/alert-ledger.js';
import { runReportsPrefix } from '../shared/notify/run-report.js';
import { CostBudgets } from './cost-budgets.js';
import type { StateTable } from './state-table.js';
import { type CapabilityProps, StewardFunction } from './steward-function.js';

export interface CostProps extends CapabilityProps {
  /** Holds the alert dedup ledger (`cost-alert#…`, `cost-spike#…`, `cost-anomaly#…`). */
  stateTable: StateTable;
}

/** The Cost Explorer reads one run makes; nothing else of `ce:` is allowed. */
export const COST_EXPLORER_ACTIONS = ['ce:GetCostAndUsage', 'ce:GetCostForecast', 'ce:GetAnomalies'];

/**
 * Cost alerts. `alertsBy: budgets` (the default): the thresholds and per-hour limits are AWS Budgets that
 * publish to the severity topics, at no fee and with no schedule. `alertsBy: cost-explorer`: a schedule (daily
 * by default) checks month-to-date cost, the month-end forecast, spikes, per-hour limits and recent anomalies
 * in Cost Explorer (us-east-1), and alerts each threshold once per month through the severity topics. Either
 * way Cost Anomaly Detection events reach the function from EventBridge and, when configured, an SNS topic,
 * and an on-demand check still works. Its errors and failed triggers alarm like every function.
 */
export class Cost extends Construct {
  readonly function: StewardFunction;
  /** The thresholds and per-hour limits as AWS Budgets (`alertsBy: budgets`). */
  readonly budgets?: CostBudgets;

  constructor(scope: Construct, id: string, props: CostProps) {
    super(scope, id);
    const { config, stateTable } = props;
    const { cost } = config;
    this.function = new StewardFunction(this, 'Function', {
      ...props,
      capability: 'cost',
      description: `steward ${config.stage}: cost thresholds, forecast, spikes and anomaly alerts`,
      // Up to 4 requests with backoff (1 + 2 + 4 s per throttled request) and a few DynamoDB writes.
      timeout: Duration.minutes(2),
      // Cost Explorer is served from us-east-1 whatever the stage's region (shared/aws/clients/cost-explorer.ts).
      regions: [config.region, 'us-east-1'],
      environment: { STATE_TABLE: stateTable.tableName } satisfies Omit<
        v.input<typeof CostEnv>,
        keyof v.input<typeof BaseEnv>
      >,
    });
    const fn = this.function;
    // Each delivery's full report (every alert that fired), linked from its bounded summary.
    props.reports?.grantWrite(fn, 'WriteRunReports', runReportsPrefix('cost'), "each delivery's full report");

    if (cost.alertsBy === 'budgets') {
      this.budgets = new CostBudgets(this, 'Budgets', { config, notifications: props.notifications });
    } else {
      fn.addSchedule('Schedule', {
        name: 'cost',
        description: `Cost check: ${cost.thresholds.length} thresholds on actuals${cost.forecast ? ' and forecast' : ''}, spikes, per-hour limits, anomalies`,
        expression: cost.schedule,
        input: { action: 'cost-check', scheduledTime: ContextAttribute.scheduledTime },
      });
    }

    if (cost.anomalies.enabled) {
      // Cost Anomaly Detection emits to its home region (us-east-1); in another region forward the events
      // with a rule there, or use the SNS route below (README: Cost alerts). The scheduled poll catches up anyway.
      fn.addEventRule('AnomalyRule', 'Cost Anomaly Detection found an anomaly: route it by impact', {
        source: ['aws.ce'],
        detailType: ['Anomaly Detected'],
      });
      if (cost.anomalies.snsTopicArn) {
        const topic = Topic.fromTopicArn(this, 'AnomalyTopic', cost.anomalies.snsTopicArn);
        topic.addSubscription(new LambdaSubscription(fn.fn, { deadLetterQueue: fn.failureQueue }));
      }
    }

    fn.allow({
      sid: 'ReadCostExplorer',
      actions: COST_EXPLORER_ACTIONS,
      resources: ['*'],
      wildcardReason:
        'Cost Explorer reads are account-wide: GetCostAndUsage and GetCostForecast support no resource-level ' +
        'permissions, and GetAnomalies reads every monitor of the account. Read-only, three actions.',
    });
    stateTable.grantReadWrite(fn, 'CostAlertLedger', [COST_KEY_PREFIX]);
    // What earlier runs claimed and never confirmed: one Query on the sparse outbox index.
    stateTable.grantQueryIndex(fn, 'CostAlertOutbox', OUTBOX.index, [OUTBOX.value]);
  }
}
