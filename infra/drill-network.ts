import { Duration, type RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import {
  FlowLog,
  FlowLogDestination,
  FlowLogResourceType,
  FlowLogTrafficType,
  Port,
  SecurityGroup,
  type SubnetSelection,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { CfnSubnetGroup as CfnCacheSubnetGroup, CfnUser, CfnUserGroup } from 'aws-cdk-lib/aws-elasticache';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type * as v from '../shared/valid.js';
import type { RedisDrillTarget, StewardConfig } from '../shared/config/schema.js';
import {
  cacheVerifierUser,
  DR_CACHE_VERIFY_SECONDS,
  drCacheNetworkParameter,
  drillsCachesFromDr,
} from '../shared/drill/cache-tasks.js';
import type { CacheVerifyEnv } from '../shared/drill/env.js';
import { verifiesVolumesInDr } from '../shared/drill/ebs-tasks.js';
import {
  DR_DRILL_NETWORK_TAG,
  drEbsVerifierParameter,
  drEbsVerifierRoleName,
} from '../shared/drill/ebs-verifier.js';
import { perDrillEndpoints } from '../shared/drill/endpoints.js';
import { ConsistencyDocument } from './consistency.js';
import { EbsVerifierNetwork } from './ebs-verifier.js';
import { DRILL_PREFIX } from '../shared/drill/ids.js';
import type { CacheDrillNetwork } from '../shared/drill/ports.js';
import { Tag } from '../shared/tags.js';
import { awsArn } from './arns.js';
import { StewardFunction } from './steward-function.js';

// CreateReplicationGroup's default port, which a drill's restore keeps.
const REDIS = Port.tcp(6379);

/** The isolated subnets of a drill VPC. */
export const ISOLATED: SubnetSelection = { subnetType: SubnetType.PRIVATE_ISOLATED };

/**
 * A drill VPC: two AZs of isolated subnets (no internet gateway, no NAT: nothing in it reaches anything but
 * the drill copies and the endpoints a stack adds), all traffic flow-logged to CloudWatch Logs.
 */
export const drillVpc = (scope: Construct, stage: string, removalPolicy: RemovalPolicy): Vpc => {
  const vpc = new Vpc(scope, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    createInternetGateway: false,
    subnetConfiguration: [{ name: 'Isolated', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    // Nothing is ever placed in the default security group (every ENI here gets one of steward's groups)
    // and the VPC has no route out, so stripping its rules would only add a custom-resource Lambda.
    restrictDefaultSecurityGroup: false,
  });
  // The delivery role trusts VPC Flow Logs for this account's flow logs only (confused-deputy guard).
  const stack = Stack.of(scope);
  const flowLogRole = new Role(scope, 'FlowLogRole', {
    assumedBy: new ServicePrincipal('vpc-flow-logs.amazonaws.com', {
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: {
          'aws:SourceArn': stack.formatArn({ service: 'ec2', resource: 'vpc-flow-log', resourceName: '*' }),
        },
      },
    }),
    description: `VPC Flow Logs delivers steward ${stage} drill VPC flow logs`,
  });
  new FlowLog(scope, 'FlowLog', {
    resourceType: FlowLogResourceType.fromVpc(vpc),
    trafficType: FlowLogTrafficType.ALL,
    destination: FlowLogDestination.toCloudWatchLogs(
      new LogGroup(scope, 'FlowLogGroup', {
        logGroupName: `/steward/${stage}/drill-vpc-flow-logs`,
        retention: RetentionDays.THREE_MONTHS,
        removalPolicy,
      }),
      flowLogRole,
    ),
  });
  return vpc;
};

/** The caches' side of a drill VPC (what a restore names, and the verifier's own group). */
export interface CacheDrillNet {
  securityGroup: SecurityGroup;
  verifierSecurityGroup: SecurityGroup;
  subnetGroup: CfnCacheSubnetGroup;
  userGroup?: CfnUserGroup;
}

/**
 * The caches' side of a drill VPC for these cache drills: a cache subnet group `name` over the isolated
 * subnets, a security group that admits Redis from the cache verifier only, and (when one logs in with
 * `auth: iam`) the RBAC user group every restored drill group gets: steward's IAM-authenticated verifier
 * user, plus a disabled `default` user, which every ElastiCache user group must contain. Users and user
 * groups are regional: the DR region gets its own, with the same ids.
 */
export const cacheDrillNetwork = (
  scope: Construct,
  vpc: Vpc,
  stage: string,
  name: string,
  caches: readonly Pick<RedisDrillTarget, 'auth'>[],
): CacheDrillNet => {
  const securityGroup = new SecurityGroup(scope, 'CacheSecurityGroup', {
    vpc,
    description: 'steward drill caches: Redis (6379) from the drill cache verifier only',
    allowAllOutbound: false,
  });
  const verifierSecurityGroup = new SecurityGroup(scope, 'CacheVerifierSecurityGroup', {
    vpc,
    description: caches.some((c) => c.auth === 'token' || c.auth === 'user')
      ? 'steward drill cache verifier: out to the drill caches (6379) and Secrets Manager (443) only'
      : 'steward drill cache verifier: out to the drill caches (6379) only',
    allowAllOutbound: false,
  });
  verifierSecurityGroup.connections.allowTo(securityGroup, REDIS, 'Cache verifier to drill caches');
  const subnetGroup = new CfnCacheSubnetGroup(scope, 'CacheSubnetGroup', {
    cacheSubnetGroupName: name,
    description: `steward ${stage}: isolated subnets for Redis restore drills`,
    subnetIds: vpc.selectSubnets(ISOLATED).subnetIds,
  });
  if (!caches.some((c) => c.auth === 'iam')) return { securityGroup, verifierSecurityGroup, subnetGroup };
  // IAM authentication: the user id and user name must be the same (ElastiCache User Guide,
  // "Authenticating with IAM"); read-only commands plus what a check needs (INFO, SELECT, connection).
  const verifierId = cacheVerifierUser(stage);
  const verifierUser = new CfnUser(scope, 'CacheVerifierUser', {
    engine: 'redis',
    userId: verifierId,
    userName: verifierId,
    accessString: 'on ~* &* -@all +@read +@connection +info +select',
    authenticationMode: { Type: 'iam' },
  });
  const defaultUser = new CfnUser(scope, 'CacheDefaultUser', {
    engine: 'redis',
    userId: `steward-${stage}-drill-default`,
    userName: 'default',
    accessString: 'off -@all',
    noPasswordRequired: true,
  });
  const userGroup = new CfnUserGroup(scope, 'CacheUserGroup', {
    engine: 'redis',
    userGroupId: name,
    userIds: [defaultUser.ref, verifierUser.ref],
  });
  return { securityGroup, verifierSecurityGroup, subnetGroup, userGroup };
};

/**
 * What a cache verifier may connect to with IAM authentication (`auth: iam`), in its own region: drill groups
 * only (tagged `steward:drill`), as steward's verifier user only. elasticache:Connect is authorized on the group
 * and on the user; tags exist on the group only.
 */
export const allowCacheConnect = (verifier: StewardFunction, region: string): void => {
  const stack = Stack.of(verifier);
  const ours = `${DRILL_PREFIX}*`;
  verifier.allow({
    sid: 'ConnectToDrillCaches',
    actions: ['elasticache:Connect'],
    resources: [awsArn(stack, 'elasticache', region, 'replicationgroup', ours)],
    conditions: { Null: { [`aws:ResourceTag/${Tag.drill}`]: 'false' } },
    wildcardReason: `A drill group's id (${ours}) is made per execution; only groups tagged ${Tag.drill}.`,
  });
  verifier.allow({
    sid: 'ConnectAsDrillVerifier',
    actions: ['elasticache:Connect'],
    resources: [awsArn(stack, 'elasticache', region, 'user', cacheVerifierUser(verifier.config.stage))],
  });
};

/** The DR stack's cache verifier's function name (as in the stage region: Lambda names are regional). */
export const drCacheVerifierName = (stage: string): string => `steward-${stage}-drill-verify-cache`;

/**
 * The DR region's drill network (in `Steward-<stage>-dr`): a drill VPC of its own, and what the stage's drills
 * from the DR copies need in it. Caches (a `drill.caches` entry with `from: dr`): the cache network, named as in
 * the stage region (`steward-<stage>-drill`), and a cache verifier inside it (only a function in that VPC
 * reaches the drill groups). EBS (a `drill.volumes` entry with `from: dr` and `verify`): the verifier instances'
 * network, role and instance profile, the Systems Manager endpoints (or their group, per drill), and steward's
 * Command document (SSM documents are regional). Security group and subnet ids exist only once this stack is
 * deployed, and stacks in two regions cannot reference each other, so each part is published as a JSON String
 * parameter in the DR region, which the drill function reads (ssm:GetParameter on those parameters only).
 */
export class DrDrillNetwork extends Construct {
  readonly vpc: Vpc;
  /** Redis drills from the DR copy: the cache network, its verifier and the parameter naming both. */
  readonly caches?: CacheDrillNet;
  readonly verifier?: StewardFunction;
  readonly parameter?: StringParameter;
  /** Verifying EBS drills from the DR copies: the verifier network and its parameter. */
  readonly ebs?: { network: EbsVerifierNetwork; document: ConsistencyDocument; parameter: StringParameter };

  constructor(scope: Construct, id: string, props: { config: StewardConfig; removalPolicy: RemovalPolicy }) {
    super(scope, id);
    const { config, removalPolicy } = props;
    const name = `steward-${config.stage}-drill`;
    this.vpc = drillVpc(this, config.stage, removalPolicy);
    if (drillsCachesFromDr(config)) this.buildCaches(config, name, removalPolicy);
    if (verifiesVolumesInDr(config)) this.ebs = this.buildEbsVerifier(config);
  }

  private buildCaches(config: StewardConfig, name: string, removalPolicy: RemovalPolicy): void {
    const fromDr = Object.values(config.drill.caches).filter((c) => c.from === 'dr');
    const caches = cacheDrillNetwork(this, this.vpc, config.stage, name, fromDr);
    // The stage's cache verifier code, told its region. `from: dr` takes auth: iam or none only (the config
    // refuses token and user): it reads no secret, and this VPC has no endpoint at all. Invoked only by the
    // drill function's relay, synchronously: no topics, no failure queue, no schedule.
    const verifier = new StewardFunction(this, 'CacheVerifier', {
      config,
      removalPolicy,
      capability: 'drill',
      name: 'drill-verify-cache',
      description: `steward ${config.stage}: verify a drill cache restored from the DR copy, inside the ${config.dr.region} drill VPC`,
      timeout: Duration.seconds(DR_CACHE_VERIFY_SECONDS),
      environment: {
        CACHE_VERIFIER_REGION: config.dr.region,
      } satisfies Pick<v.input<typeof CacheVerifyEnv>, 'CACHE_VERIFIER_REGION'>,
      placement: {
        vpc: this.vpc,
        subnets: ISOLATED,
        securityGroups: [caches.verifierSecurityGroup],
      },
      publishes: false,
    });
    if (caches.userGroup) allowCacheConnect(verifier, config.dr.region);
    const network = {
      cacheSubnetGroupName: caches.subnetGroup.ref,
      securityGroupIds: [caches.securityGroup.securityGroupId],
      ...(caches.userGroup ? { userGroupId: caches.userGroup.ref } : {}),
    } satisfies CacheDrillNetwork;
    const parameter = new StringParameter(this, 'CacheNetworkParameter', {
      parameterName: drCacheNetworkParameter(config.stage),
      description: `steward ${config.stage}: the ${config.dr.region} drill network and cache verifier for Redis drills from the DR copy`,
      stringValue: Stack.of(this).toJsonString({
        ...network,
        verifierFunctionArn: verifier.fn.functionArn,
      }),
    });
    Object.assign(this, { caches, verifier, parameter });
  }

  /**
   * The EBS verifier's side: its network in this VPC (the instances' role by a fixed name, which the stage's
   * drill role passes), steward's Command document here, and the Systems Manager endpoints (always on, or their
   * placements for the drill to create). The VPC, its subnets and the verifier's groups carry
   * `steward:drill-network=<stage>`: the stage's drill role launches and creates endpoints only into what
   * carries it. Published as `/steward/<stage>/drill/dr-ebs-verifier`.
   */
  private buildEbsVerifier(config: StewardConfig) {
    const stack = Stack.of(this);
    const perDrill = perDrillEndpoints(config);
    const network = new EbsVerifierNetwork(this, 'EbsVerifier', {
      stage: config.stage,
      vpc: this.vpc,
      subnets: ISOLATED,
      endpoints: perDrill ? 'per-drill' : 'always-on',
      roleName: drEbsVerifierRoleName(config.stage, config.dr.region),
    });
    for (const tagged of [this.vpc, network.securityGroup, network.endpointSecurityGroup])
      Tags.of(tagged).add(DR_DRILL_NETWORK_TAG, config.stage);
    const document = new ConsistencyDocument(this, 'ConsistencyDocument', {
      stage: config.stage,
      region: config.dr.region,
    });
    const endpoints = perDrill
      ? Object.fromEntries(
          network.endpointServices.map(([key, serviceName]) => [
            key,
            {
              serviceName,
              subnetIds: network.endpointSubnetIds,
              securityGroupIds: [network.endpointSecurityGroup.securityGroupId],
            },
          ]),
        )
      : undefined;
    const parameter = new StringParameter(this, 'EbsVerifierParameter', {
      parameterName: drEbsVerifierParameter(config.stage),
      description: `steward ${config.stage}: the ${config.dr.region} drill network for EBS drill verifiers (drills from the DR copies)`,
      stringValue: stack.toJsonString({
        vpcId: network.vpcId,
        subnets: network.environment.DRILL_VERIFIER_SUBNETS,
        securityGroupId: network.securityGroup.securityGroupId,
        instanceProfileArn: network.instanceProfile.instanceProfileArn,
        documentName: document.documentName,
        ...(endpoints ? { endpoints } : {}),
      }),
    });
    return { network, document, parameter };
  }
}
