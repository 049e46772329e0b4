import { CfnBudget } from 'aws-cdk-lib/aws-budgets';
import { Construct } from 'constructs';
import {
  budgetServiceMatch,
  type HourlyCostLimit,
  type Severity,
  type StewardConfig,
} from '../shared/config/schema.js';
import type { Notifications } from './notifications.js';

export interface CostBudgetsProps {
  config: StewardConfig;
  notifications: Notifications;
}

/** A threshold's id as the alert ledger spells it (shared with the Cost Explorer check). */
const thresholdId = (t: { id?: string | undefined; amountUsd: number }) => t.id ?? `usd-${t.amountUsd}`;

/**
 * The cost thresholds and per-hour limits as AWS Budgets, which carry no fee (only budgets with actions are
 * billed, beyond the first two: https://aws.amazon.com/aws-cost-management/aws-budgets/pricing/) and
 * evaluate the account's cost several times a day, with no request of steward's:
 * - each threshold is a MONTHLY cost budget of that amount in the configured metric, alerting on the
 *   actual and (with `forecast`) on the forecast month-end, each once per month, through its severity topic;
 * - each per-hour limit is a DAILY cost budget of 24 × the limit on its services: the same "day's cost ÷ 24
 *   above the limit" rule the Cost Explorer check applies without hourly granularity, alerted during the day.
 * The budget's name carries the stage, the threshold id and the severity, so the notification AWS sends
 * (its own text, naming the account and the budget) says which stage and threshold fired.
 */
export class CostBudgets extends Construct {
  readonly budgets: CfnBudget[] = [];

  constructor(scope: Construct, id: string, props: CostBudgetsProps) {
    super(scope, id);
    const { config, notifications } = props;
    const { cost, stage } = config;
    notifications.allowBudgets();
    const subscribers = (severity: Severity) => [
      { subscriptionType: 'SNS', address: notifications.topicOf(severity).topicArn },
    ];
    // GREATER_THAN 100 % of the budgeted amount: Budgets alerts once per period when the amount is exceeded.
    const over = (type: 'ACTUAL' | 'FORECASTED', severity: Severity) => ({
      notification: {
        notificationType: type,
        comparisonOperator: 'GREATER_THAN',
        threshold: 100,
        thresholdType: 'PERCENTAGE',
      },
      subscribers: subscribers(severity),
    });

    for (const t of cost.thresholds) {
      const name = `steward-${stage}-${thresholdId(t)}-${t.severity}`;
      this.budgets.push(
        new CfnBudget(this, `Threshold-${thresholdId(t)}`, {
          budget: {
            budgetName: name,
            budgetType: 'COST',
            timeUnit: 'MONTHLY',
            budgetLimit: { amount: t.amountUsd, unit: 'USD' },
            metrics: [cost.metric],
          },
          notificationsWithSubscribers: [
            over('ACTUAL', t.severity),
            ...(cost.forecast ? [over('FORECASTED', t.severity)] : []),
          ],
        }),
      );
    }
    for (const l of cost.hourlyLimits) {
      this.budgets.push(
        new CfnBudget(this, `HourlyLimit-${l.id}`, {
          budget: {
            budgetName: `steward-${stage}-${l.id}-${l.severity}`,
            budgetType: 'COST',
            timeUnit: 'DAILY',
            budgetLimit: { amount: round2(24 * l.maxUsdPerHour), unit: 'USD' },
            metrics: [cost.metric],
            filterExpression: serviceFilter(l),
          },
          notificationsWithSubscribers: [over('ACTUAL', l.severity)],
        }),
      );
    }
  }
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * The limit's services as a Budgets filter expression on SERVICE: one dimension per match option
 * (EQUALS, STARTS_WITH, ENDS_WITH, CONTAINS; one option per dimension), OR-ed when there are several.
 * The schema admits only patterns a budget can express (budgetServiceMatch).
 */
export const serviceFilter = (l: HourlyCostLimit): CfnBudget.ExpressionProperty => {
  const byOption = new Map<string, string[]>();
  for (const s of l.services) {
    const m = budgetServiceMatch(s);
    if (!m) throw new Error(`hourlyLimits ${l.id}: "${s}" cannot be a budget filter`);
    byOption.set(m.option, [...(byOption.get(m.option) ?? []), m.value]);
  }
  const dims = [...byOption].map(([option, values]): CfnBudget.ExpressionProperty => ({
    dimensions: { key: 'SERVICE', values, matchOptions: [option] },
  }));
  return dims.length === 1 ? dims[0]! : { or: dims };
};
