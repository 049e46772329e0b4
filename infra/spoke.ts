import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Aws, DefaultStackSynthesizer, Stack, type StackProps } from 'aws-cdk-lib';
import { CfnStackSet } from 'aws-cdk-lib/aws-cloudformation';
import { EventBus, type EventPattern, Rule } from 'aws-cdk-lib/aws-events';
import { EventBus as EventBusTarget } from 'aws-cdk-lib/aws-events-targets';
import { Role } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { ResourceKind, StewardConfig } from '../shared/config/schema.js';
import { type FleetCapability, hubRoleName, spokeRoleName, spokeTargets } from '../shared/fleet/targets.js';
import { ALARM_STATE_CHANGE, namedRules } from '../shared/scaling/request.js';
import {
  COPY_FINISHED,
  DATABASE_EVENTS,
  grantBackupEstate,
  SCHEDULED_MAINTENANCE,
  SNAPSHOT_CREATED,
} from './backup.js';
import { allowShareWithVault, fleetBusArn, trustHubRole } from './fleet.js';
import { hasVault } from '../shared/fleet/vault.js';
import { allowRetentionDeletes, denyHeldDeletes } from './retention.js';
import { alarmMatchers } from './scaling.js';
import { allowOn, denyOn, denyOutsideOwnership, type Grantee, type Permission } from './permission.js';

/** `Steward-<stage>-spoke`: deployed once per target account and region. */
export const spokeStackId = (stage: string): string => `Steward-${stage}-spoke`;

/** `Steward-<stage>-spokes`: the StackSet that deploys the spoke to the OU targets. */
export const spokeStackSetStackId = (stage: string): string => `Steward-${stage}-spokes`;

// CloudFormation's limit for a StackSet's inline TemplateBody.
const TEMPLATE_BODY_MAX = 51_200;

// No bootstrap-version rule: a StackSet instance runs in accounts that `cdk bootstrap` never saw, and the
// spoke has no assets. `cdk deploy` of the spoke uses the same template.
const spokeSynthesizer = () => new DefaultStackSynthesizer({ generateBootstrapVersionRule: false });

export interface SpokeRoleProps {
  config: StewardConfig;
  capability: FleetCapability;
}

/**
 * The role a hub function assumes in this account and region. Only that hub role may assume it (by ARN, as
 * `aws:PrincipalArn`, so a recreated hub role keeps working), and only from the organization
 * (`aws:PrincipalOrgID`) and/or with the fleet's external id. Its permissions are the hub function's own
 * estate statements (the same builders), pointed at this account and region, with the same guards.
 */
export class SpokeRole extends Construct implements Grantee {
  readonly role: Role;
  /** The hub function role this role trusts. */
  readonly hubRoleArn: string;

  constructor(scope: Construct, id: string, props: SpokeRoleProps) {
    super(scope, id);
    const { config, capability } = props;
    const hub = config.account;
    // The schema requires the hub account for any target in another account.
    if (!hub) throw new Error('a spoke needs the hub account (config account)');
    const fleet = config.fleet;
    if (!fleet) throw new Error('a spoke needs the fleet section (organizationId or externalId)');
    this.hubRoleArn = `arn:${Aws.PARTITION}:iam::${hub}:role/${hubRoleName(config.stage, capability, config.region)}`;
    this.role = new Role(this, 'Role', {
      roleName: spokeRoleName(config.stage, capability, Aws.REGION),
      description: `steward ${config.stage}: the hub's ${capability} function acts in this account and region`,
      assumedBy: trustHubRole(hub, this.hubRoleArn, fleet),
    });
  }

  allow(p: Permission): void {
    allowOn(this.role, p);
  }

  deny(p: Omit<Permission, 'wildcardReason'>): void {
    denyOn(this.role, p);
  }
}

export interface SpokeStackProps extends Omit<StackProps, 'env' | 'tags' | 'synthesizer'> {
  config: StewardConfig;
}

/**
 * One spoke of the fleet: a role per hub capability that acts in targets (backup, retention), and rules that
 * forward this region's RDS, Health, copy and alarm events to the hub's fleet bus. Environment-agnostic: the
 * same template deploys with `cdk deploy` into any target account and region, and as the StackSet body.
 */
export class SpokeStack extends Stack {
  readonly roles: Record<FleetCapability, SpokeRole>;
  readonly forwardRules: Rule[] = [];

  constructor(scope: Construct, id: string, props: SpokeStackProps) {
    const { config, ...stackProps } = props;
    super(scope, id, {
      description: `steward ${config.stage}: spoke of the fleet (roles for the hub in ${config.account ?? 'the hub account'} ${config.region}, event forwarding)`,
      ...stackProps,
      synthesizer: spokeSynthesizer(),
      tags: { 'steward:stage': config.stage },
    });
    const here = Aws.REGION;
    const policies = Object.values(config.backup.policies);
    const kinds = new Set<ResourceKind>(policies.flatMap((p) => p.kinds));
    // Per-target overrides may turn copies on: the spoke grants what any target may need.
    const copying = [
      ...policies,
      ...config.targets.flatMap((t) => Object.values(t.backup?.policies ?? {})),
    ].some((p) => p.copyToDr);
    const copied = copying ? new Set<ResourceKind>(kinds) : new Set<ResourceKind>();
    const regions = copying ? [here, config.dr.region] : [here];

    const backup = new SpokeRole(this, 'BackupRole', { config, capability: 'backup' });
    denyOutsideOwnership(backup, regions);
    grantBackupEstate(backup, { stack: this, region: here, dr: config.dr }, kinds, copied);
    // With a vault, this account's steward snapshots are shared with the vault account for its copy, then unshared.
    if (hasVault(config)) allowShareWithVault(backup, this, here, config);

    const retention = new SpokeRole(this, 'RetentionRole', { config, capability: 'retention' });
    // The DR region's copies are swept as the hub sweeps its own (retention.includeDrRegion).
    const swept = copying && config.retention.includeDrRegion ? regions : [here];
    denyOutsideOwnership(retention, swept);
    const at = { stack: this, regions: swept, cacheRegion: here };
    allowRetentionDeletes(retention, at);
    denyHeldDeletes(retention, at);
    this.roles = { backup, retention };

    const hubBus = EventBus.fromEventBusArn(this, 'HubBus', fleetBusArn(config));
    const forward = (ruleId: string, description: string, eventPattern: EventPattern) =>
      this.forwardRules.push(
        new Rule(this, ruleId, { description, eventPattern, targets: [new EventBusTarget(hubBus)] }),
      );
    forward('ForwardDatabaseEvents', 'Failover, stop/start and storage events of databases', DATABASE_EVENTS);
    forward('ForwardSnapshotEvents', "steward's snapshots became available, or their copies finished", {
      source: SNAPSHOT_CREATED.source,
      detailType: [...new Set([...SNAPSHOT_CREATED.detailType, ...COPY_FINISHED.detailType])],
      detail: {
        EventID: [...SNAPSHOT_CREATED.detail.EventID, ...COPY_FINISHED.detail.EventID],
        SourceIdentifier: SNAPSHOT_CREATED.detail.SourceIdentifier,
      },
    });
    forward(
      'ForwardMaintenance',
      'AWS Health scheduled maintenance of RDS and ElastiCache',
      SCHEDULED_MAINTENANCE,
    );
    const rules = namedRules(config.scaling);
    if (config.scaling.enabled && rules.length)
      forward('ForwardAlarms', "State changes of the scaling rules' alarms", {
        source: ['aws.cloudwatch'],
        detailType: [ALARM_STATE_CHANGE],
        detail: { alarmName: alarmMatchers(rules) },
      });
  }
}

/**
 * The spoke's template as the StackSet deploys it: synthesized on its own (offline, in a temporary
 * directory) with `context` (the calling app's, so feature flags match the `Steward-<stage>-spoke` stack).
 */
export const spokeTemplate = (
  config: StewardConfig,
  context: Record<string, unknown> = {},
): Record<string, unknown> => {
  const dir = mkdtempSync(join(tmpdir(), 'steward-spoke-'));
  try {
    const app = new App({ outdir: dir, context });
    const stack = new SpokeStack(app, spokeStackId(config.stage), { config });
    return app.synth().getStackByName(stack.stackName).template as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/**
 * `Steward-<stage>-spokes`, deployed in the organization's management account (or a delegated
 * administrator's, `fleet.callAs`): a service-managed StackSet of the spoke, deployed to the OU targets in
 * their regions, and automatically to accounts that join those OUs later.
 */
export class SpokeStackSetStack extends Stack {
  readonly stackSet: CfnStackSet;

  constructor(scope: Construct, id: string, props: SpokeStackProps) {
    const { config, ...stackProps } = props;
    super(scope, id, {
      description: `steward ${config.stage}: the spokes of the fleet, as a StackSet over its organizational units`,
      ...stackProps,
      env: { region: config.region },
      tags: { 'steward:stage': config.stage },
    });
    const body = JSON.stringify(spokeTemplate(config, this.node.getAllContext() as Record<string, unknown>));
    if (body.length > TEMPLATE_BODY_MAX)
      throw new Error(
        `The spoke template is ${body.length} bytes, over the ${TEMPLATE_BODY_MAX} of a StackSet's TemplateBody`,
      );
    // One instance group per set of regions: OU targets that share their regions deploy together.
    const groups = new Map<string, { regions: string[]; ous: string[] }>();
    for (const t of spokeTargets(config)) {
      if (t.organizationalUnit === undefined) continue;
      const regions = config.targets[t.index]!.regions;
      const key = regions.join(',');
      const g = groups.get(key) ?? { regions, ous: [] };
      if (!g.ous.includes(t.organizationalUnit)) g.ous.push(t.organizationalUnit);
      groups.set(key, g);
    }
    this.stackSet = new CfnStackSet(this, 'Spokes', {
      stackSetName: `steward-${config.stage}-spokes`,
      description: `steward ${config.stage}: spoke roles and event forwarding to the hub in ${config.account} ${config.region}`,
      permissionModel: 'SERVICE_MANAGED',
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      callAs: config.fleet?.callAs ?? 'SELF',
      capabilities: ['CAPABILITY_NAMED_IAM'],
      managedExecution: { Active: true },
      operationPreferences: {
        // One account failing (a region disabled, an SCP) is reported and does not stop the others.
        failureTolerancePercentage: 10,
        maxConcurrentPercentage: 25,
        regionConcurrencyType: 'PARALLEL',
      },
      templateBody: body,
      stackInstancesGroup: [...groups.values()].map((g) => ({
        regions: g.regions,
        deploymentTargets: { organizationalUnitIds: g.ous },
      })),
    });
  }
}
