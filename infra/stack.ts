import { Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';
import { parseConfig, type StewardConfig, type StewardConfigInput } from '../shared/config/schema.js';
import { Backup } from './backup.js';
import { Cost } from './cost.js';
import { Drill } from './drill.js';
import { FleetBus } from './fleet.js';
import { hasSpokes } from '../shared/fleet/targets.js';
import { Monitoring } from './monitoring.js';
import { Notifications } from './notifications.js';
import { Report } from './report.js';
import { Reports } from './reports.js';
import { Retention } from './retention.js';
import { Scaling } from './scaling.js';
import { StateTable } from './state-table.js';
import type { CapabilityProps, StewardFunction } from './steward-function.js';

export interface StewardStackProps extends Omit<StackProps, 'env' | 'tags'> {
  /**
   * Stage config (a parsed config, or any input object); validated here with the config schema, and
   * embedded, resolved, in every function bundle, which reads it as data at cold start.
   */
  config: StewardConfigInput | StewardConfig;
  /** Where the config came from, for the error message. @default the stack id */
  configSource?: string;
}

/** `Steward-<stage>`: the one stack of a stage. */
export const stackId = (stage: string): string => `Steward-${stage}`;

/**
 * One stage of steward: notification topics, then one construct per capability, then the dashboard.
 * Account and region come from the config (no account → account-agnostic, resolved at deploy time).
 */
export class StewardStack extends Stack {
  readonly config: StewardConfig;
  readonly notifications: Notifications;
  readonly backup: Backup;
  readonly retention: Retention;
  /** Short-lived state: retention's daily budget, drill tokens, scaling cooldowns, cost alert dedup. */
  readonly stateTable: StateTable;
  readonly drill?: Drill;
  /** The report bucket (drill reports, retention records, evidence); built when drills or reports are on. */
  readonly reports?: Reports;
  /** Alarm-driven scaling and playbooks (config.scaling.enabled). */
  readonly scaling?: Scaling;
  /** Cost thresholds, spikes and anomaly alerts (config.cost.enabled). */
  readonly cost?: Cost;
  /** Status check and monthly evidence (config.report.enabled). */
  readonly report?: Report;
  /** The event bus the fleet's spokes forward to (a stage with spoke targets). */
  readonly fleetBus?: FleetBus;
  /** The stage's dashboard (config `dashboard: true`). */
  readonly monitoring?: Monitoring;

  constructor(scope: Construct, id: string, props: StewardStackProps) {
    // Validate before anything is built: a bad config fails synth with ConfigError naming the field path.
    const { config: input, configSource, ...stackProps } = props;
    const config = parseConfig(input, configSource ?? id);
    super(scope, id, {
      description: `steward ${config.stage}: scheduled RDS/Aurora/ElastiCache backups, DR copies and retention`,
      terminationProtection: config.deletionProtection,
      ...stackProps,
      env: { account: config.account, region: config.region },
      tags: { 'steward:stage': config.stage },
    });
    this.config = config;
    const removalPolicy = config.deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.notifications = new Notifications(this, 'Notifications', { config, removalPolicy });
    const scheduleGroup = new ScheduleGroup(this, 'Schedules', {
      scheduleGroupName: `steward-${config.stage}`,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // The audit trail every capability writes to or reads from: built when drills or reports are on, and
    // for a fleet (its cycles' results).
    if (config.drill.enabled || config.report.enabled || hasSpokes(config)) {
      this.reports = new Reports(this, 'Reports', { config });
    }
    const capability: CapabilityProps = {
      config,
      notifications: this.notifications,
      scheduleGroup,
      removalPolicy,
      ...(this.reports ? { reports: this.reports } : {}),
    };

    // Retention's daily budget, drill tokens, scaling cooldowns and cost alert dedup share one table;
    // retention is always on, so every stage has it.
    this.stateTable = new StateTable(this, 'State', { config, removalPolicy });
    this.backup = new Backup(this, 'Backup', { ...capability, stateTable: this.stateTable });
    this.retention = new Retention(this, 'Retention', { ...capability, stateTable: this.stateTable });
    if (config.drill.enabled && this.reports) {
      this.drill = new Drill(this, 'Drill', {
        ...capability,
        stateTable: this.stateTable,
        reports: this.reports,
        ...(this.backup.consistencyDocument ? { consistencyDocument: this.backup.consistencyDocument } : {}),
      });
    }
    if (config.scaling.enabled) {
      this.scaling = new Scaling(this, 'Scaling', { ...capability, stateTable: this.stateTable });
    }
    if (config.cost.enabled) {
      this.cost = new Cost(this, 'Cost', { ...capability, stateTable: this.stateTable });
    }

    if (config.report.enabled && this.reports) {
      this.report = new Report(this, 'Report', {
        ...capability,
        reports: this.reports,
        ...(this.stateTable ? { stateTable: this.stateTable } : {}),
      });
    }

    if (hasSpokes(config)) {
      this.fleetBus = new FleetBus(this, 'Fleet', { config });
      // The spokes' forwarded snapshot events drive the DR copy reconcile in their own account-region.
      this.backup.forwardFromFleet(this.fleetBus.bus);
      // Their alarms scale in their own account-region.
      this.scaling?.forwardFromFleet(this.fleetBus.bus);
    }

    // $3 a month beyond the account's three free dashboards: opt-in (`dashboard: true`).
    if (config.dashboard) {
      const monitoring = new Monitoring(this, 'Monitoring', { config });
      for (const f of this.functions) monitoring.addFunction(f);
      if (this.drill) monitoring.addDrill(this.drill.databases, this.drill.stateMachine);
      if (this.scaling) monitoring.addScaling();
      if (this.cost) monitoring.addCost();
      if (this.report) monitoring.addReport();
      this.monitoring = monitoring;
    }
  }

  /** Every steward function of the stage. */
  get functions(): StewardFunction[] {
    return [
      this.backup.function,
      this.retention.function,
      ...(this.drill ? [this.drill.function, this.drill.verifier] : []),
      ...(this.scaling ? [this.scaling.function] : []),
      ...(this.cost ? [this.cost.function] : []),
      ...(this.report ? [this.report.function] : []),
    ];
  }

  /**
   * Always the deploy-time AZs (`Fn::GetAZs`), even when the config names the account: CDK would otherwise
   * look them up at synth, and synth must run offline without credentials. The drill VPC takes the first two.
   */
  override get availabilityZones(): string[] {
    return [Fn.select(0, Fn.getAzs()), Fn.select(1, Fn.getAzs())];
  }
}
