import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  App,
  Aws,
  CfnCondition,
  type CfnResource,
  DefaultStackSynthesizer,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { CfnStackSet } from 'aws-cdk-lib/aws-cloudformation';
import { EventBus, type EventPattern, Rule } from 'aws-cdk-lib/aws-events';
import { EventBus as EventBusTarget } from 'aws-cdk-lib/aws-events-targets';
import { Role } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { ResourceKind, StewardConfig } from '../shared/config/schema.js';
import {
  copiesToDr,
  type FleetCapability,
  hubRoleName,
  type SpokeCapability,
  spokeDrKeyAlias,
  spokeRoleName,
  spokeTargets,
} from '../shared/fleet/targets.js';
import { namedRules } from '../shared/scaling/request.js';
import {
  COPY_FINISHED,
  DATABASE_EVENTS,
  grantBackupEstate,
  HEALTH_EVENTS,
  SNAPSHOT_CREATED,
} from './backup.js';
import { allowConsistency, ConsistencyDocument, consistentPolicies } from './consistency.js';
import { allowShareWithVault, fleetBusArn, trustHubRole } from './fleet.js';
import { hasVault } from '../shared/fleet/vault.js';
import { CACHE_SNAPSHOT_CREATED } from '../shared/backup/request.js';
import { spokesKeepRedisDr } from '../shared/fleet/place.js';
import {
  keepsRedisDr,
  redisDrBucketName,
  redisExportBucketName,
  spokeRdbPrefix,
} from '../shared/backup/cache-dr.js';
import { allowRedisDrBackup, allowRedisDrRetention, redisDrBucket, redisExportBucket } from './cache-dr.js';
import { allowRetentionDeletes, denyHeldDeletes } from './retention.js';
import { forwardedAlarmPatterns, grantScalingEstate } from './scaling.js';
import { allowOn, denyOn, denyOutsideOwnership, type Grantee, type Permission } from './permission.js';

/** `Steward-<stage>-spoke`: deployed once per target account and region. */
export const spokeStackId = (stage: string): string => `Steward-${stage}-spoke`;

/** `Steward-<stage>-spoke-dr`: a spoke account's DR key, deployed once per account in the DR region. */
export const spokeDrStackId = (stage: string): string => `Steward-${stage}-spoke-dr`;

/** `Steward-<stage>-spokes`: the StackSet that deploys the spoke to the OU targets. */
export const spokeStackSetStackId = (stage: string): string => `Steward-${stage}-spokes`;

// CloudFormation's limit for a StackSet's inline TemplateBody.
const TEMPLATE_BODY_MAX = 51_200;

// No bootstrap-version rule: a StackSet instance runs in accounts that `cdk bootstrap` never saw, and the
// spoke has no assets. `cdk deploy` of the spoke uses the same template.
const spokeSynthesizer = () => new DefaultStackSynthesizer({ generateBootstrapVersionRule: false });

export interface SpokeRoleProps {
  config: StewardConfig;
  capability: SpokeCapability;
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
 * One spoke of the fleet: a role per hub capability that acts in targets (backup, retention, and scaling with
 * scaling rules), steward's consistency Command document when a policy configures application consistency,
 * and rules that
 * forward this region's RDS, Health, copy and alarm events to the hub's fleet bus. Environment-agnostic: the
 * same template deploys with `cdk deploy` into any target account and region, and as the StackSet body.
 */
export class SpokeStack extends Stack {
  readonly roles: Record<FleetCapability, SpokeRole> & { scaling?: SpokeRole };
  readonly forwardRules: Rule[] = [];
  /** steward's Command document, when a backup policy configures application consistency. */
  readonly consistencyDocument?: ConsistencyDocument;
  /** Redis DR's export bucket in this account and region, when a target keeps Redis DR. */
  readonly redisExport?: Bucket;

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
    const copying = copiesToDr(config);
    const copied = copying ? new Set<ResourceKind>(kinds) : new Set<ResourceKind>();
    const regions = copying ? [here, config.dr.region] : [here];

    const backup = new SpokeRole(this, 'BackupRole', { config, capability: 'backup' });
    denyOutsideOwnership(backup, regions);
    // DR copies are encrypted with this account's own DR key (the spoke DR stack), named by its alias.
    const dr = {
      region: config.dr.region,
      kmsKeyArn: `arn:${Aws.PARTITION}:kms:${config.dr.region}:${Aws.ACCOUNT_ID}:${spokeDrKeyAlias(config.stage)}`,
    };
    grantBackupEstate(backup, { stack: this, region: here, dr }, kinds, copied);
    // With a vault, this account's steward snapshots are shared with the vault account for its copy, then unshared.
    if (hasVault(config)) allowShareWithVault(backup, this, here, config);
    // Application consistency of this account-region's instances: steward's Command document, the same content
    // and the same deterministic name as the hub's (so the hub's fan-out child names it without a lookup), and
    // the hub backup role's own statements to run it, in this account and region. Dumps land in the stage's
    // bucket, in the hub's account, and the hub tags them: no S3 grant here.
    if (consistentPolicies(config).length) {
      const doc = new ConsistencyDocument(this, 'ConsistencyDocument', { stage: config.stage, region: here });
      this.consistencyDocument = doc;
      allowConsistency(backup, this, config, doc, { region: here, tagDumps: false });
    }

    const retention = new SpokeRole(this, 'RetentionRole', { config, capability: 'retention' });
    // The DR region's copies are swept as the hub sweeps its own (retention.includeDrRegion).
    const swept = copying && config.retention.includeDrRegion ? regions : [here];
    denyOutsideOwnership(retention, swept);
    const at = { stack: this, regions: swept, cacheRegion: here };
    allowRetentionDeletes(retention, at);
    denyHeldDeletes(retention, at);
    this.roles = { backup, retention };

    // Redis DR in this account-region (a target whose policies copy caches to DR): ElastiCache exports only to
    // a bucket in the snapshot's region that the caller owns, so the account has its own export bucket here,
    // built as the hub's, and the roles the hub roles' Redis DR statements, pointed at this account's buckets
    // and at this region's prefix of its DR bucket (`elasticache-<region>/`). Not made in the DR region itself:
    // a cache there has no other region to copy to.
    if (spokesKeepRedisDr(config)) {
      const exporting = new CfnCondition(this, 'ExportsCaches', {
        expression: Fn.conditionNot(Fn.conditionEquals(Aws.REGION, config.dr.region)),
      });
      const removal = config.deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
      this.redisExport = onlyIf(exporting, redisExportBucket(this, config, removal));
      // By name, not by reference: the bucket may not exist in this region (the condition above).
      const exportArn = `arn:${Aws.PARTITION}:s3:::${redisExportBucketName(config.stage, Aws.ACCOUNT_ID, here)}`;
      const place = {
        stack: this,
        region: here,
        drBucket: redisDrBucketName(config.stage, Aws.ACCOUNT_ID, config.dr.region),
        prefix: spokeRdbPrefix(here),
        dr,
      };
      allowRedisDrBackup(backup, exportArn, place);
      if (swept.includes(config.dr.region)) allowRedisDrRetention(retention, place);
    }

    // Scaling acts here when one of this region's alarms reaches the hub: the hub scaling function's own
    // statements (the rules' resources, steward's replicas, the ladder's classes), in this account and region.
    const rules = namedRules(config.scaling);
    if (config.scaling.enabled && rules.length) {
      const scaling = new SpokeRole(this, 'ScalingRole', { config, capability: 'scaling' });
      denyOutsideOwnership(scaling, [here]);
      grantScalingEstate(scaling, here, rules);
      this.roles.scaling = scaling;
    }

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
      'AWS Health scheduled changes and issues of RDS, ElastiCache, EC2 and EBS',
      HEALTH_EVENTS,
    );
    if (config.scaling.enabled && rules.length)
      forwardedAlarmPatterns(rules).forEach((pattern, i) =>
        forward(`ForwardAlarms${i ? i + 1 : ''}`, "State changes of the scaling rules' alarms", pattern),
      );
    // ElastiCache sends "Snapshot Created" directly to EventBridge, best effort: the hub exports and copies
    // that snapshot in this account at once (the hourly reconcile is the safety net).
    if (spokesKeepRedisDr(config))
      forward('ForwardCacheSnapshots', 'ElastiCache snapshots became available (Redis DR)', {
        source: ['aws.elasticache'],
        detailType: [CACHE_SNAPSHOT_CREATED],
      });
  }
}

/**
 * A spoke account's DR key, in the stage's DR region: the account's spoke backup roles encrypt its DR copies
 * with it (through RDS, by alias: infra/backup.ts grantDrKeyUse). The key belongs to the account whose data
 * it protects, with the default key policy (the account's IAM policies decide, so its administrators can
 * restore a DR copy after a disaster without the hub); rotating, retained on delete (losing it loses every
 * DR copy of the account). Also forwards the account's copy-finished events of the DR region to the hub. Deployed with `cdk deploy` into each account target's DR region, and by the DR
 * StackSet into the OU targets' accounts.
 */
export class SpokeDrStack extends Stack {
  readonly key: Key;
  readonly forwardRule: Rule;
  /** The account's Redis DR bucket, when a target keeps Redis DR. */
  readonly redisDrBucket?: Bucket;

  constructor(scope: Construct, id: string, props: SpokeStackProps) {
    const { config, ...stackProps } = props;
    super(scope, id, {
      description: `steward ${config.stage}: the DR key of a spoke account in ${config.dr.region} (DR copies of its databases)`,
      ...stackProps,
      env: { region: config.dr.region },
      synthesizer: spokeSynthesizer(),
      tags: { 'steward:stage': config.stage },
    });
    this.key = new Key(this, 'DrKey', {
      alias: spokeDrKeyAlias(config.stage),
      description: `steward ${config.stage}: encrypts this account's DR copies in ${config.dr.region}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
    // RDS emits "copy finished" in the copy's region: forward this account's to the hub's fleet bus, whose
    // rule reconciles the account's DR copies (infra/backup.ts, forwardFromFleet).
    this.forwardRule = new Rule(this, 'ForwardCopyFinished', {
      description: `A DR copy of a steward snapshot finished in ${config.dr.region}: tell the hub`,
      eventPattern: {
        source: COPY_FINISHED.source,
        detailType: COPY_FINISHED.detailType,
        detail: COPY_FINISHED.detail,
      },
      targets: [new EventBusTarget(EventBus.fromEventBusArn(this, 'HubBus', fleetBusArn(config)))],
    });
    // Redis DR's bucket of this account's RDB copies, every region's under its own prefix, built as the hub's
    // (encrypted with this account's DR key when the stage names one). In the hub's account the hub's DR stack
    // already holds a bucket of that name when the stage itself keeps Redis DR: the hub account's other regions
    // copy into it, and this stack makes none there.
    if (spokesKeepRedisDr(config)) {
      const bucket = redisDrBucket(this, config, { kmsKeyArn: this.key.keyArn });
      this.redisDrBucket = keepsRedisDr(config)
        ? onlyIf(
            new CfnCondition(this, 'OwnsRedisDrBucket', {
              expression: Fn.conditionNot(Fn.conditionEquals(Aws.ACCOUNT_ID, config.account ?? '')),
            }),
            bucket,
          )
        : bucket;
    }
  }
}

/** A bucket and its policy made only where `condition` holds (an environment-agnostic template's choice). */
const onlyIf = (condition: CfnCondition, bucket: Bucket): Bucket => {
  (bucket.node.defaultChild as CfnResource).cfnOptions.condition = condition;
  if (bucket.policy) (bucket.policy.node.defaultChild as CfnResource).cfnOptions.condition = condition;
  return bucket;
};

/** Synthesize one environment-agnostic stack on its own (offline, in a temporary directory): its template. */
const templateOf = (make: (app: App) => Stack, context: Record<string, unknown>): Record<string, unknown> => {
  const dir = mkdtempSync(join(tmpdir(), 'steward-spoke-'));
  try {
    const app = new App({ outdir: dir, context });
    const stack = make(app);
    return app.synth().getStackByName(stack.stackName).template as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/**
 * The spoke's template as the StackSet deploys it: synthesized on its own (offline, in a temporary
 * directory) with `context` (the calling app's, so feature flags match the `Steward-<stage>-spoke` stack).
 */
export const spokeTemplate = (
  config: StewardConfig,
  context: Record<string, unknown> = {},
): Record<string, unknown> =>
  templateOf((app) => new SpokeStack(app, spokeStackId(config.stage), { config }), context);

/** The spoke DR stack's template as the DR StackSet deploys it. */
export const spokeDrTemplate = (
  config: StewardConfig,
  context: Record<string, unknown> = {},
): Record<string, unknown> =>
  templateOf((app) => new SpokeDrStack(app, spokeDrStackId(config.stage), { config }), context);

/**
 * `Steward-<stage>-spokes`, deployed in the organization's management account (or a delegated
 * administrator's, `fleet.callAs`): a service-managed StackSet of the spoke, deployed to the OU targets in
 * their regions, and automatically to accounts that join those OUs later.
 */
export class SpokeStackSetStack extends Stack {
  readonly stackSet: CfnStackSet;
  /** The spoke DR key's StackSet, to the same OUs in the DR region (when a policy copies to DR). */
  readonly drStackSet?: CfnStackSet;

  constructor(scope: Construct, id: string, props: SpokeStackProps) {
    const { config, ...stackProps } = props;
    super(scope, id, {
      description: `steward ${config.stage}: the spokes of the fleet, as a StackSet over its organizational units`,
      ...stackProps,
      env: { region: config.region },
      tags: { 'steward:stage': config.stage },
    });
    const context = this.node.getAllContext() as Record<string, unknown>;
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
    this.stackSet = this.stackSetOf(config, 'Spokes', {
      name: `steward-${config.stage}-spokes`,
      description: `steward ${config.stage}: spoke roles and event forwarding to the hub in ${config.account} ${config.region}`,
      template: spokeTemplate(config, context),
      groups: [...groups.values()],
      capabilities: ['CAPABILITY_NAMED_IAM'],
    });
    if (copiesToDr(config) && groups.size)
      this.drStackSet = this.stackSetOf(config, 'SpokesDr', {
        name: `steward-${config.stage}-spokes-dr`,
        description: `steward ${config.stage}: each spoke account's DR key in ${config.dr.region}`,
        template: spokeDrTemplate(config, context),
        groups: [
          { regions: [config.dr.region], ous: [...new Set([...groups.values()].flatMap((g) => g.ous))] },
        ],
      });
  }

  private stackSetOf(
    config: StewardConfig,
    id: string,
    o: {
      name: string;
      description: string;
      template: Record<string, unknown>;
      groups: { regions: string[]; ous: string[] }[];
      capabilities?: string[];
    },
  ): CfnStackSet {
    const body = JSON.stringify(o.template);
    if (body.length > TEMPLATE_BODY_MAX)
      throw new Error(
        `The ${o.name} template is ${body.length} bytes, over the ${TEMPLATE_BODY_MAX} of a StackSet's TemplateBody`,
      );
    return new CfnStackSet(this, id, {
      stackSetName: o.name,
      description: o.description,
      permissionModel: 'SERVICE_MANAGED',
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      callAs: config.fleet?.callAs ?? 'SELF',
      ...(o.capabilities ? { capabilities: o.capabilities } : {}),
      managedExecution: { Active: true },
      operationPreferences: {
        // One account failing (a region disabled, an SCP) is reported and does not stop the others.
        failureTolerancePercentage: 10,
        maxConcurrentPercentage: 25,
        regionConcurrencyType: 'PARALLEL',
      },
      templateBody: body,
      stackInstancesGroup: o.groups.map((g) => ({
        regions: g.regions,
        deploymentTargets: { organizationalUnitIds: g.ous },
      })),
    });
  }
}
