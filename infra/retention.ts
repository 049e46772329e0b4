import { Duration, Stack } from 'aws-cdk-lib';
import { ContextAttribute } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { keepsRedisDr } from '../shared/backup/cache-dr.js';
import { grantRedisDrRetention } from './cache-dr.js';
import { allowDumpRetention } from './consistency.js';
import type * as v from '../shared/valid.js';
import { ID_PREFIX } from '../shared/backup/ids.js';
import type { BaseEnv, VaultEnv } from '../shared/config/env.js';
import type { RetentionEnv } from '../shared/retention/env.js';
import { budgetKey } from '../shared/aws/retention-budget.js';
import { drReadOnlyRegion, retentionRegions } from '../shared/retention/policy.js';
import { RETENTION_RECORDS_PREFIX } from '../shared/retention/record.js';
import { Tag } from '../shared/tags.js';
import { hasSpokes, hubRoleName } from '../shared/fleet/targets.js';
import { allowAssumeSpokeRoles, allowAssumeVaultRole } from './fleet.js';
import { hasVault, vaultOf } from '../shared/fleet/vault.js';
import { FleetFanOut } from './fan-out.js';
import { awsArn, constructId, ec2Arn } from './arns.js';
import type { StateTable } from './state-table.js';
import type { Grantee } from './permission.js';
import { type CapabilityProps, StewardFunction } from './steward-function.js';

/**
 * Retention: one schedule expires steward's snapshots by the GFS policies, in the primary region and,
 * when configured, the DR region. Deletes are allowed only on snapshots tagged `steward:managed=true`
 * and never on held ones (`steward:hold`), whatever the code decides.
 */
export interface RetentionProps extends CapabilityProps {
  /** Holds the day's deletion budget. */
  stateTable: StateTable;
}

export class Retention extends Construct {
  readonly function: StewardFunction;
  /** A stage with spokes: the scheduled sweep fans out over the targets (a Distributed Map). */
  readonly fanOut?: FleetFanOut;

  constructor(scope: Construct, id: string, props: RetentionProps) {
    super(scope, id);
    const { config, stateTable } = props;
    // Same rule the handler uses to pick its regions, so the grant and the sweep cannot drift apart.
    const regions = retentionRegions(config);
    // The DR region, read only, when a policy copies there and retention does not sweep it.
    const drOnly = drReadOnlyRegion(config);
    const readRegions = drOnly ? [...regions, drOnly] : regions;
    const fleet = hasSpokes(config);
    const vault = hasVault(config);
    const fn = new StewardFunction(this, 'Function', {
      ...props,
      capability: 'retention',
      description: `steward ${config.stage}: expire steward snapshots by retention policy`,
      timeout: Duration.minutes(10),
      environment: { STATE_TABLE: stateTable.tableName } satisfies Omit<
        v.input<typeof RetentionEnv>,
        keyof v.input<typeof BaseEnv>
      >,
      // One run at a time, and the day's budget in the state table: together they bound a day's deletions
      // whatever the retries, redeliveries and manual invokes. A fleet runs one child per target at once
      // (up to fleet.maxConcurrency), each with its own day's budget.
      reservedConcurrency: fleet && config.fleet ? config.fleet.maxConcurrency : 1,
      // Deletes are granted in the swept regions only (below); the read-only DR region is only listed.
      regions: readRegions,
      // The spoke roles' trust names this role: give it a name known at synth.
      ...(fleet || vault ? { roleName: hubRoleName(config.stage, 'retention', config.region) } : {}),
    });
    this.function = fn;
    stateTable.grant(fn, 'RetentionBudget', ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [budgetKey('')]);

    const fanOut = FleetFanOut.of(this, 'retention', fn, props);
    if (fanOut) this.fanOut = fanOut;
    (fanOut ?? fn).addSchedule('Schedule', {
      name: 'retention',
      description: `Retention sweep (at most ${config.retention.deletions.safetyCap} deletions per day)`,
      expression: config.retention.schedule,
      input: { action: 'retention', scheduledTime: ContextAttribute.scheduledTime },
    });

    const at: RetentionScope = { stack: Stack.of(this), regions, cacheRegion: config.region };
    allowRetentionDeletes(fn, at);
    // Redis DR copies (S3 objects in the DR stack's bucket) are kept under GFS with the DR region's snapshots.
    if (keepsRedisDr(config) && regions.includes(config.dr.region)) grantRedisDrRetention(fn);
    // EC2 instances' dump objects (application consistency's dump step) are kept under GFS in the stage's region.
    allowDumpRetention(fn, Stack.of(this), config);

    // What each run deleted stays on record for the monthly evidence report, and each run's full report
    // (linked from its summary) sits beside it: both under runs/retention/.
    props.reports?.grantWrite(
      fn,
      'WriteRetentionRecords',
      RETENTION_RECORDS_PREFIX,
      "one record per run that deleted snapshots, and each run's full report",
    );

    denyHeldDeletes(fn, at);
    if (fleet) allowAssumeSpokeRoles(fn, config, 'retention');
    const v = vaultOf(config);
    if (v) {
      allowAssumeVaultRole(fn, config, 'retention');
      // The function assumes the vault retention role by the ARN allowAssumeVaultRole grants (its name is the
      // vault stack's, shared/fleet/vault.ts).
      fn.fn.addEnvironment(
        'VAULT_PARTITION',
        Stack.of(this).partition satisfies v.input<typeof VaultEnv>['VAULT_PARTITION'],
      );
      // The vault's own retention, once a day per vault region at the sweep's time, straight to the function:
      // it is one run per vault region, not per target, so it is no child of the fan-out.
      for (const region of v.regions) {
        fn.addSchedule(`ScheduleVault${constructId(region)}`, {
          name: `vault-retention-${region}`,
          description: `Backup vault retention in ${region} (policy "${v.retention}", with the vault retention role)`,
          expression: config.retention.schedule,
          input: { action: 'vault-retention', region, scheduledTime: ContextAttribute.scheduledTime },
        });
      }
    }
  }
}

/** Where retention deletes: the stack whose account the ARNs name, the swept regions, the caches' region. */
export interface RetentionScope {
  stack: Stack;
  regions: readonly string[];
  cacheRegion: string;
}

const retentionArns = (at: RetentionScope) => {
  const ours = `${ID_PREFIX}*`;
  return {
    rds: (type: string) => at.regions.map((r) => awsArn(at.stack, 'rds', r, type, ours)),
    caches: [awsArn(at.stack, 'elasticache', at.cacheRegion, 'snapshot', ours)],
    serverless: [awsArn(at.stack, 'elasticache', at.cacheRegion, 'serverlesscachesnapshot', ours)],
    // EBS snapshot ids are AWS's (snap-...): ownership is the steward:managed tag alone.
    ebs: at.regions.map((r) => ec2Arn(at.stack, r, 'snapshot', '*')),
  };
};

/** Read every snapshot, delete only steward's own (the hub function's role, and each spoke's). */
export const allowRetentionDeletes = (to: Grantee, at: RetentionScope): void => {
  const { rds, caches, serverless, ebs } = retentionArns(at);

  to.allow({
    sid: 'ReadSnapshots',
    actions: [
      'rds:DescribeDBInstances',
      'rds:DescribeDBClusters',
      'rds:DescribeDBSnapshots',
      'rds:DescribeDBClusterSnapshots',
      'rds:ListTagsForResource',
      'elasticache:DescribeSnapshots',
      'elasticache:DescribeServerlessCacheSnapshots',
      'elasticache:ListTagsForResource',
      // ElastiCache snapshot tags in bulk: one call per 100 snapshots instead of one per snapshot.
      'tag:GetResources',
      // EBS snapshot sets (tags come with the listing).
      'ec2:DescribeSnapshots',
    ],
    resources: ['*'],
    wildcardReason:
      'Read-only inventory: Describe* list every snapshot of the account in each swept region; ownership is ' +
      'decided from tags, which need ListTagsForResource on snapshots whose ids are unknown at deploy time; ' +
      'tag:GetResources has no resource type and no condition key.',
  });
  to.allow({
    sid: 'DeleteManagedDbSnapshots',
    actions: ['rds:DeleteDBSnapshot'],
    resources: rds('snapshot'),
    conditions: { StringEquals: { [`rds:snapshot-tag/${Tag.managed}`]: 'true' } },
    wildcardReason: `Expired snapshot ids are generated per run; only ${ID_PREFIX}* snapshots tagged ${Tag.managed}=true can be deleted.`,
  });
  to.allow({
    sid: 'DeleteManagedClusterSnapshots',
    actions: ['rds:DeleteDBClusterSnapshot'],
    resources: rds('cluster-snapshot'),
    conditions: { StringEquals: { [`rds:cluster-snapshot-tag/${Tag.managed}`]: 'true' } },
    wildcardReason: `Expired cluster snapshot ids are generated per run; only ${ID_PREFIX}* cluster snapshots tagged ${Tag.managed}=true can be deleted.`,
  });
  to.allow({
    sid: 'DeleteManagedCacheSnapshots',
    actions: ['elasticache:DeleteSnapshot'],
    resources: caches,
    conditions: { StringEquals: { [`aws:ResourceTag/${Tag.managed}`]: 'true' } },
    wildcardReason: `Expired ElastiCache snapshot names are generated per run; only ${ID_PREFIX}* snapshots tagged ${Tag.managed}=true can be deleted.`,
  });
  to.allow({
    sid: 'DeleteManagedServerlessSnapshots',
    actions: ['elasticache:DeleteServerlessCacheSnapshot'],
    resources: serverless,
    conditions: { StringEquals: { [`aws:ResourceTag/${Tag.managed}`]: 'true' } },
    wildcardReason: `Expired serverless cache snapshot names are generated per run; only ${ID_PREFIX}* snapshots tagged ${Tag.managed}=true can be deleted.`,
  });
  to.allow({
    sid: 'DeleteManagedEbsSnapshots',
    actions: ['ec2:DeleteSnapshot'],
    resources: ebs,
    conditions: { StringEquals: { [`aws:ResourceTag/${Tag.managed}`]: 'true' } },
    wildcardReason: `EBS snapshot ids are AWS's (snap-...); only snapshots tagged ${Tag.managed}=true can be deleted.`,
  });
};

/** A held snapshot is kept forever, whatever an Allow says. */
export const denyHeldDeletes = (to: Grantee, at: RetentionScope): void => {
  const { rds, caches, serverless, ebs } = retentionArns(at);
  // A held snapshot is kept forever: enforce it in IAM too, not only in the retention engine.
  to.deny({
    sid: 'NeverDeleteHeldDbSnapshots',
    actions: ['rds:DeleteDBSnapshot'],
    resources: rds('snapshot'),
    conditions: { Null: { [`rds:snapshot-tag/${Tag.hold}`]: 'false' } },
  });
  to.deny({
    sid: 'NeverDeleteHeldClusterSnapshots',
    actions: ['rds:DeleteDBClusterSnapshot'],
    resources: rds('cluster-snapshot'),
    conditions: { Null: { [`rds:cluster-snapshot-tag/${Tag.hold}`]: 'false' } },
  });
  to.deny({
    sid: 'NeverDeleteHeldCacheSnapshots',
    actions: ['elasticache:DeleteSnapshot'],
    resources: caches,
    conditions: { Null: { [`aws:ResourceTag/${Tag.hold}`]: 'false' } },
  });
  to.deny({
    sid: 'NeverDeleteHeldServerlessSnapshots',
    actions: ['elasticache:DeleteServerlessCacheSnapshot'],
    resources: serverless,
    conditions: { Null: { [`aws:ResourceTag/${Tag.hold}`]: 'false' } },
  });
  to.deny({
    sid: 'NeverDeleteHeldEbsSnapshots',
    actions: ['ec2:DeleteSnapshot'],
    resources: ebs,
    conditions: { Null: { [`aws:ResourceTag/${Tag.hold}`]: 'false' } },
  });
};
