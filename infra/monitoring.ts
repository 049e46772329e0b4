import { Duration } from 'aws-cdk-lib';
import {
  Dashboard,
  GraphWidget,
  type IMetric,
  type IWidget,
  Metric,
  Stats,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { StewardConfig } from '../shared/config/schema.js';
import type { Capability, StewardFunction } from './steward-function.js';

export interface MonitoringProps {
  config: StewardConfig;
}

const PERIOD = Duration.minutes(5);

/**
 * The stage's dashboard: one row per function (invocations, errors, duration, failure queue) and the
 * EMF metrics the handlers publish in the `Steward` namespace (dimension `service` = capability).
 */
export class Monitoring extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { stage } = props.config;
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `Steward-${stage}`,
      defaultInterval: Duration.days(7),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# steward ${stage}\nAlarms go to \`steward-${stage}-warning\`; failed triggers wait in each function's failure queue.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph('Snapshots created / copied (backup)', [
        stewardMetric('SnapshotsCreated', 'backup'),
        stewardMetric('SnapshotsCopied', 'backup'),
      ]),
      graph('Snapshots deleted (retention)', [stewardMetric('SnapshotsDeleted', 'retention')]),
      graph('Action failures', [
        stewardMetric('ActionFailures', 'backup'),
        stewardMetric('ActionFailures', 'retention'),
      ]),
    );
  }

  private readonly queues = new Set<string>();

  /** Add a row for one function; call it for every capability the stack builds. */
  addFunction(f: StewardFunction): void {
    const { fn, failureQueue, shortName } = f;
    // The stage's one failure queue gets one graph, next to the first function's row.
    const firstOfQueue = !this.queues.has(failureQueue.node.path);
    this.queues.add(failureQueue.node.path);
    this.dashboard.addWidgets(
      graph(`${shortName}: invocations and errors`, [
        fn.metricInvocations({ period: PERIOD, statistic: Stats.SUM }),
        fn.metricErrors({ period: PERIOD, statistic: Stats.SUM }),
        fn.metricThrottles({ period: PERIOD, statistic: Stats.SUM }),
      ]),
      graph(`${shortName}: duration`, [
        fn.metricDuration({ period: PERIOD, statistic: Stats.AVERAGE }),
        fn.metricDuration({ period: PERIOD, statistic: Stats.p(99) }),
        fn.metricDuration({ period: PERIOD, statistic: Stats.MAXIMUM }),
      ]),
      ...(firstOfQueue
        ? [
            graph('failure queue (every function)', [
              failureQueue.metricApproximateNumberOfMessagesVisible({
                period: PERIOD,
                statistic: Stats.MAXIMUM,
              }),
            ]),
          ]
        : []),
    );
  }

  /** A row for restore drills: executions, and pass / RTO / RPO per database (EMF, dimension `Database`). */
  addDrill(databases: string[], stateMachine: IStateMachine): void {
    const drillMetric = (metricName: string, database: string, statistic: string): Metric =>
      new Metric({
        namespace: 'Steward',
        metricName,
        dimensionsMap: { service: 'drill', Database: database },
        statistic,
        // Drills run monthly: a day per point keeps each drill one visible point on a 7-day dashboard.
        period: Duration.days(1),
        label: `${database}`,
      });
    this.dashboard.addWidgets(
      graph('drill: executions', [
        stateMachine.metricStarted({ period: PERIOD, statistic: Stats.SUM }),
        stateMachine.metricSucceeded({ period: PERIOD, statistic: Stats.SUM }),
        stateMachine.metricFailed({ period: PERIOD, statistic: Stats.SUM }),
        stateMachine.metricTimedOut({ period: PERIOD, statistic: Stats.SUM }),
      ]),
      graph(
        'DrillPassed by Database (1 = passed)',
        databases.map((d) => drillMetric('DrillPassed', d, Stats.MINIMUM)),
      ),
      graph(
        'DrillRtoSeconds / DrillRpoSeconds by Database',
        databases.map((d) => drillMetric('DrillRtoSeconds', d, Stats.MAXIMUM)),
        databases.map((d) => drillMetric('DrillRpoSeconds', d, Stats.MAXIMUM)),
      ),
    );
  }

  /** A row for scaling decisions (EMF, `service` = scaling). */
  addScaling(): void {
    this.dashboard.addWidgets(
      graph('scaling: decisions', [
        stewardMetric('ScalingActions', 'scaling'),
        stewardMetric('ScalingApprovalsRequested', 'scaling'),
        stewardMetric('ScalingPlanned', 'scaling'),
        stewardMetric('ScalingSkipped', 'scaling'),
        stewardMetric('ActionFailures', 'scaling'),
      ]),
    );
  }

  /** A row for cost checks: month-to-date and forecast (USD), Cost Explorer requests, alerts (EMF, `service` = cost). */
  addCost(): void {
    const daily = (metricName: string) =>
      new Metric({
        namespace: 'Steward',
        metricName,
        dimensionsMap: { service: 'cost' },
        statistic: Stats.MAXIMUM,
        // The check runs daily: one point per day.
        period: Duration.days(1),
        label: metricName,
      });
    this.dashboard.addWidgets(
      graph('cost: month-to-date and forecast month-end (USD)', [
        daily('MonthToDateUsd'),
        daily('ForecastMonthEndUsd'),
      ]),
      graph('cost: alerts', [
        stewardMetric('CostAlertsSent', 'cost'),
        stewardMetric('CostAlertsSuppressed', 'cost'),
        stewardMetric('ActionFailures', 'cost'),
      ]),
      graph('cost: Cost Explorer requests ($0.01 each)', [stewardMetric('CostExplorerRequests', 'cost')]),
    );
  }

  /** A row for the status check: databases FAILING, LATE and UNPROTECTED (EMF, `service` = report). */
  addReport(): void {
    const gauge = (metricName: string) =>
      new Metric({
        namespace: 'Steward',
        metricName,
        dimensionsMap: { service: 'report' },
        statistic: Stats.MAXIMUM,
        period: Duration.hours(1),
        label: metricName,
      });
    this.dashboard.addWidgets(
      graph('status: databases that need attention', [
        gauge('DatabasesFailing'),
        gauge('DatabasesLate'),
        gauge('DatabasesUnprotected'),
      ]),
    );
  }
}

const graph = (title: string, left: IMetric[], right: IMetric[] = []): IWidget =>
  new GraphWidget({ title, left, right, width: 8, height: 6 });

// Powertools adds `service` (POWERTOOLS_SERVICE_NAME = capability) as the default dimension.
const stewardMetric = (metricName: string, service: Capability): Metric =>
  new Metric({
    namespace: 'Steward',
    metricName,
    dimensionsMap: { service },
    statistic: Stats.SUM,
    period: PERIOD,
    label: `${metricName} (${service})`,
  });
