import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** The one structured logger; `service` is the capability name (set by POWERTOOLS_SERVICE_NAME). */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'steward' });

/** The one EMF metrics emitter, namespace `Steward`. */
export const metrics = new Metrics({
  namespace: 'Steward',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'steward',
});

export { MetricUnit };

/**
 * Count something that happened: sent only when it is above zero. CloudWatch bills a custom metric for
 * every hour it receives data ($0.30 a month if sent hourly), so a quiet hour costs nothing; graphs and
 * alarms read a missing count as zero.
 */
export const addCount = (name: string, n: number): void => {
  if (n > 0) metrics.addMetric(name, MetricUnit.Count, n);
};
