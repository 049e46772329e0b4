import { Duration } from 'aws-cdk-lib';
import { type AlarmProps, ComparisonOperator, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { Queue } from 'aws-cdk-lib/aws-sqs';

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
