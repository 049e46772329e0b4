import { Duration } from 'aws-cdk-lib';
import { type AlarmProps, ComparisonOperator, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';

/** Alarm on any message parked in a dead-letter queue (the 5-minute maximum of visible messages above 0). */
export const parkedMessages = (queue: Queue) =>
  ({
    metric: queue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(5),
      statistic: Stats.MAXIMUM,
    }),
    threshold: 0,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  }) satisfies Partial<AlarmProps>;

/**
 * Alarm on any execution of a state machine that ended FAILED (`ExecutionsFailed`, dimension StateMachineArn; TIMED_OUT
 * and ABORTED are other metrics). Summed over an hour: a cycle that fails every 15 minutes keeps the alarm in ALARM
 * (one warning), not one warning per cycle.
 */
export const failedExecutions = (stateMachine: IStateMachine) =>
  ({
    metric: stateMachine.metricFailed({ period: Duration.hours(1), statistic: Stats.SUM }),
    threshold: 0,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  }) satisfies Partial<AlarmProps>;
