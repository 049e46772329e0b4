import { Duration } from 'aws-cdk-lib';
import { ContextAttribute } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import type * as v from '../shared/valid.js';
import type { BaseEnv } from '../shared/config/env.js';
import { CONDITIONS_KEY } from '../shared/report/conditions.js';
import type { ReportEnv } from '../shared/report/env.js';
import { approvalKey, cooldownKey, pendingApprovalsKey } from '../shared/scaling/ids.js';
import { DRILLS_PREFIX } from '../shared/report/history.js';
import { runReportsPrefix } from '../shared/notify/run-report.js';
import { RETENTION_RECORDS_PREFIX } from '../shared/retention/record.js';
import type { Reports } from './reports.js';
import type { StateTable } from './state-table.js';
import { type CapabilityProps, StewardFunction } from './steward-function.js';

export interface ReportProps extends CapabilityProps {
  reports: Reports;
  /** Scaling cooldowns and approvals for the status, when the stage has the table. */
  stateTable?: StateTable;
}

const EVIDENCE_PREFIX = 'evidence/';

/**
 * The operator's view in AWS: a status check (hourly by default) that alerts a database turning LATE or
 * FAILING and resolves it when OK again, and the monthly recovery-evidence report of the month before,
 * written to the report bucket and linked from an info notification. Read-only on databases.
 */
export class Report extends Construct {
  readonly function: StewardFunction;

  constructor(scope: Construct, id: string, props: ReportProps) {
    super(scope, id);
    const { config, reports, stateTable } = props;
    // DR copies are listed in the DR region: the role works in both (the region guard refuses the rest).
    const regions = [...new Set([config.region, config.dr.region])];
    this.function = new StewardFunction(this, 'Function', {
      ...props,
      capability: 'report',
      regions,
      description: `steward ${config.stage}: status check (alerts LATE/FAILING, resolves when cleared) and monthly recovery evidence`,
      // A month of evidence for hundreds of databases reads a few thousand objects (8 in parallel).
      timeout: Duration.minutes(10),
      memorySize: 1024,
      // REPORT_BUCKET comes with every function's base environment (props.reports).
      environment: (stateTable ? { STATE_TABLE: stateTable.tableName } : {}) satisfies Omit<
        v.input<typeof ReportEnv>,
        keyof v.input<typeof BaseEnv>
      >,
    });
    const fn = this.function;
    // No reserved concurrency: checks are an hour apart and run for seconds, and a repeated alert carries
    // the same pager dedup key. Reserving would fail to deploy on accounts at the 10-unreserved minimum.

    fn.addSchedule('StatusSchedule', {
      name: 'status-check',
      description: 'Status check: alert databases turning LATE or FAILING, resolve those OK again',
      expression: config.report.statusSchedule,
      input: { action: 'status-check', scheduledTime: ContextAttribute.scheduledTime },
    });
    fn.addSchedule('EvidenceSchedule', {
      name: 'evidence',
      description: 'Monthly recovery evidence of the month before: HTML, JSON and CSV to the report bucket',
      expression: config.report.schedule,
      input: { action: 'evidence', scheduledTime: ContextAttribute.scheduledTime },
    });

    fn.allow({
      sid: 'DescribeDatabasesAndSnapshots',
      actions: [
        'rds:DescribeDBInstances',
        'rds:DescribeDBClusters',
        'rds:DescribeDBSnapshots',
        'rds:DescribeDBClusterSnapshots',
        'elasticache:DescribeReplicationGroups',
        'elasticache:DescribeSnapshots',
        'elasticache:DescribeServerlessCaches',
        'elasticache:DescribeServerlessCacheSnapshots',
        'elasticache:ListTagsForResource',
        // EC2 instances and volumes tagged for backup, and the EBS snapshot sets (when a policy backs EBS up).
        ...(Object.values(config.backup.policies).some((p) => p.kinds.includes('ebs'))
          ? ['ec2:DescribeInstances', 'ec2:DescribeVolumes', 'ec2:DescribeSnapshots']
          : []),
      ],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:RequestedRegion': regions } },
      wildcardReason:
        'Read-only inventory of every database and snapshot of the stage region and the DR region (tagged or ' +
        'not: coverage is what the status reports); RDS and ElastiCache Describe calls list account-wide.',
    });
    reports.grantRead(fn, 'ReadHistory', [DRILLS_PREFIX, RETENTION_RECORDS_PREFIX, CONDITIONS_KEY]);
    reports.grantWrite(
      fn,
      'WriteEvidence',
      EVIDENCE_PREFIX,
      'the monthly evidence (report.html, report.json, CSV)',
    );
    reports.grantWrite(
      fn,
      'WriteRunReports',
      runReportsPrefix('report'),
      "each status check's full report (linked from its summary)",
    );
    fn.allow({
      sid: 'WriteOpenConditions',
      actions: ['s3:PutObject'],
      resources: [reports.bucket.arnForObjects(CONDITIONS_KEY)],
    });
    if (stateTable) {
      // By key, the scaling items only: cooldowns, the rules' approval indexes and the approvals they name.
      stateTable.grant(
        fn,
        'ReadScalingState',
        ['dynamodb:BatchGetItem'],
        [cooldownKey('rds-instance', '').split('#')[0]! + '#', pendingApprovalsKey(''), approvalKey('')],
      );
    }
  }
}
