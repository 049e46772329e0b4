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
