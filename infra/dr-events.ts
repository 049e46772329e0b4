import { Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { EventBus as EventBusTarget } from 'aws-cdk-lib/aws-events-targets';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { keepsRedisDr } from '../shared/backup/cache-dr.js';
import { redisDrBucket } from './cache-dr.js';
import { ID_PREFIX } from '../shared/backup/ids.js';
import { EBS_SNAPSHOT_EVENTS, SNAPSHOT_COPIED_EVENT_IDS } from '../shared/backup/request.js';
import type { StewardConfig } from '../shared/config/schema.js';
import { drillsCachesFromDr } from '../shared/drill/cache-tasks.js';
import { DrDrillNetwork } from './drill-network.js';
import { verifiesVolumesInDr } from '../shared/drill/ebs-tasks.js';

export interface DrEventsStackProps extends Omit<StackProps, 'env' | 'tags'> {
  config: StewardConfig;
}

/** Whether a policy copies EBS sets to the DR region: their snapshot events drive the copies. */
export const copiesEbs = (config: StewardConfig): boolean =>
  config.dr.region !== config.region &&
  Object.values(config.backup.policies).some((p) => p.copyToDr && p.kinds.includes('ebs'));

/** `Steward-<stage>-dr`: the stage's one stack in its DR region. */
export const drEventsStackId = (stage: string): string => `Steward-${stage}-dr`;

/**
 * The DR region's half of event-driven DR copies: RDS emits "copy finished" (RDS-EVENT-0060) in the
 * destination region, and EventBridge rules only see their own region's events, so one rule forwards
 * steward's copy-finished events to the primary region's default bus, where the backup function's
 * CopyFinishedRule starts the next copy. When a policy copies caches, the bucket of Redis DR copies lives here
 * too (ElastiCache has no cross-region copy: the backup function copies exported RDB files into it), and when
 * a cache is drilled from its DR copy, the DR region's drill network for caches and its cache verifier (the
 * stack's one function, invoked only by the stage's drill function); when an EBS drill from the DR copies
 * verifies, the verifier instances' network, role, Command document and Systems Manager endpoints there.
 */
export class DrEventsStack extends Stack {
  readonly rule: Rule;
  /** Forwards EBS copy-finished events, when a policy copies EBS sets. */
  readonly ebsRule?: Rule;
  /** Redis DR copies (`elasticache/<group>/<policy>/<snapshot>-<shard>.rdb`), encrypted with the DR key. */
  readonly redisDrBucket?: Bucket;
  /**
   * The DR region's drill network for drills from the DR copies: Redis (`drill.caches.<name>.from: dr`) and
   * verifying EBS drills (`drill.volumes.<id>.from: dr` with `verify`).
   */
  readonly drill?: DrDrillNetwork;

  constructor(scope: Construct, id: string, props: DrEventsStackProps) {
    const { config, ...stackProps } = props;
    super(scope, id, {
      description: `steward ${config.stage}: forwards DR copy-finished events from ${config.dr.region} to ${config.region}${keepsRedisDr(config) ? '; holds Redis DR copies' : ''}`,
      terminationProtection: config.deletionProtection,
      ...stackProps,
      env: { account: config.account, region: config.dr.region },
      tags: { 'steward:stage': config.stage },
    });
    // Same account, another region: the primary default bus needs no resource policy; the rule's role
    // (created by the target) may put events on that one bus only.
    const primaryBus = EventBus.fromEventBusArn(
      this,
      'PrimaryBus',
      Stack.of(this).formatArn({
        service: 'events',
        region: config.region,
        resource: 'event-bus',
        resourceName: 'default',
      }),
    );
    this.rule = new Rule(this, 'CopyFinishedForwardRule', {
      description: `A DR copy of a steward snapshot finished in ${config.dr.region}: tell the backup function in ${config.region}`,
      eventPattern: {
        source: ['aws.rds'],
        detailType: ['RDS DB Snapshot Event'],
        detail: { EventID: [SNAPSHOT_COPIED_EVENT_IDS.db], SourceIdentifier: [{ prefix: ID_PREFIX }] },
      },
      targets: [new EventBusTarget(primaryBus)],
    });
    // EBS copies finish here too ("EBS Snapshot Notification", copySnapshot): forwarded like RDS's. The event
    // carries no tags, so every copy of the account in this region is forwarded; the function reads it once.
    if (copiesEbs(config))
      this.ebsRule = new Rule(this, 'EbsCopyFinishedForwardRule', {
        description: `An EBS snapshot copy finished in ${config.dr.region}: tell the backup function in ${config.region}`,
        eventPattern: {
          source: ['aws.ec2'],
          detailType: ['EBS Snapshot Notification'],
          detail: { event: [EBS_SNAPSHOT_EVENTS.copied], result: ['succeeded'] },
        },
        targets: [new EventBusTarget(primaryBus)],
      });
    if (keepsRedisDr(config)) this.redisDrBucket = redisDrBucket(this, config);
    if (drillsCachesFromDr(config) || verifiesVolumesInDr(config)) {
      this.drill = new DrDrillNetwork(this, 'Drill', {
        config,
        removalPolicy: config.deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
    }
  }

  /** As for the stage stack: the deploy-time AZs (`Fn::GetAZs`), so synth needs no lookup. */
  override get availabilityZones(): string[] {
    return [Fn.select(0, Fn.getAzs()), Fn.select(1, Fn.getAzs())];
  }
}
