import { ArnFormat, Fn, Stack } from 'aws-cdk-lib';
import {
  InterfaceVpcEndpoint,
  InterfaceVpcEndpointAwsService,
  type IVpc,
  Port,
  SecurityGroup,
  type SubnetSelection,
} from 'aws-cdk-lib/aws-ec2';
import { InstanceProfile, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type * as v from '../shared/valid.js';
import { AL2023_ARM64_PARAMETER } from '../shared/aws/ebs-verifier.js';
import type { EbsVerifierEnv } from '../shared/drill/env.js';
import { VERIFIER_KIND } from '../shared/drill/ebs-verifier.js';
import type { EndpointKey } from '../shared/drill/endpoints.js';
import { Tag } from '../shared/tags.js';
import { allowOn, type Grantee } from './permission.js';

const HTTPS = Port.tcp(443);

// The three services an SSM Agent talks to for Run Command (Systems Manager User Guide, "Use VPC
// endpoints for Systems Manager"): ssm (registration, documents), ec2messages and ssmmessages (the
// agent's message channels; newer agents use ssmmessages for Run Command too).
const SSM_SERVICES = [
  ['Ssm', InterfaceVpcEndpointAwsService.SSM],
  ['Ec2Messages', InterfaceVpcEndpointAwsService.EC2_MESSAGES],
  ['SsmMessages', InterfaceVpcEndpointAwsService.SSM_MESSAGES],
] as const;

/**
 * The Run Command part of AmazonSSMManagedInstanceCore (AWS managed policy reference): the agent registers
 * and reports (ssm), and receives and answers commands (ec2messages, and ssmmessages' control channel on
 * newer agents). None supports a resource or condition that names the calling instance.
 */
export const SSM_AGENT_RUN_COMMAND = [
  'ssm:UpdateInstanceInformation',
  'ssm:ListInstanceAssociations',
  'ec2messages:AcknowledgeMessage',
  'ec2messages:DeleteMessage',
  'ec2messages:FailMessage',
  'ec2messages:GetEndpoint',
  'ec2messages:GetMessages',
  'ec2messages:SendReply',
  'ssmmessages:CreateControlChannel',
  'ssmmessages:OpenControlChannel',
] as const;

export interface EbsVerifierNetworkProps {
  stage: string;
  /** The drill VPC (isolated: no internet gateway, no NAT). */
  vpc: IVpc;
  /** Its isolated subnets: a verifier launches in the one of its volumes' zone. */
  subnets: SubnetSelection;
  /**
   * `always-on`: deploy the three Systems Manager endpoints with the stack. `per-drill` (drill.endpoints.mode):
   * deploy only their security group; a drill creates the endpoints for its duration (shared/drill/endpoints.ts).
   */
  endpoints?: 'always-on' | 'per-drill';
  /** A fixed name for the instances' role (the DR stack's: the stage's drill role passes it by name). */
  roleName?: string;
}

/**
 * What an EBS drill's verifier instance needs in the drill network: an instance role with the Systems
 * Manager agent's Run Command permissions and nothing else, its instance profile, a security group with no inbound rule
 * and outbound HTTPS to the Systems Manager endpoints only, and those three interface endpoints (always on, or
 * created by each drill that verifies). The drill VPC has no route out, so without them the instance's agent
 * could not register.
 *
 * Cost: each interface endpoint is billed per hour and per AZ it is in (~$0.01/h each, DESIGN.md; a partial
 * hour is billed as a full one). They live in one subnet (an endpoint serves the whole VPC, across zones).
 * Always on: 3 × $0.01 × 730 h ≈ $21.90 a month plus $0.01 per GB processed, for as long as a drill target
 * configures a verifier. Per drill: 3 × $0.01 for each hour a verifying drill runs.
 */
export class EbsVerifierNetwork extends Construct {
  readonly role: Role;
  readonly instanceProfile: InstanceProfile;
  readonly securityGroup: SecurityGroup;
  readonly endpointSecurityGroup: SecurityGroup;
  /** The verifier's environment for the function that runs it. */
  readonly environment: v.input<typeof EbsVerifierEnv>;
  readonly subnetIds: string[];
  readonly vpcId: string;
  /** The subnet the Systems Manager endpoints are (or a drill creates them) in. */
  readonly endpointSubnetIds: string[];
  /** The three services' full names (com.amazonaws.<region>.ssm, …), by construct name. */
  readonly endpointServices: (readonly [EndpointKey, string])[];

  constructor(scope: Construct, id: string, props: EbsVerifierNetworkProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new Role(this, 'InstanceRole', {
      assumedBy: new ServicePrincipal('ec2.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `steward ${props.stage}: EBS drill verifier instances (Systems Manager agent, Run Command only)`,
      ...(props.roleName ? { roleName: props.roleName } : {}),
    });
    // Inline, not the managed policy: no parameters, documents, inventory, patching or session data channels.
    allowOn(this.role, {
      sid: 'SsmAgentRunCommandOnly',
      actions: [...SSM_AGENT_RUN_COMMAND],
      resources: ['*'],
      wildcardReason:
        'The SSM Agent calls these for its own instance; ssm:UpdateInstanceInformation and the ec2messages/ssmmessages channel actions support no resource-level permissions that name the calling instance.',
    });
    this.instanceProfile = new InstanceProfile(this, 'InstanceProfile', { role: this.role });

    this.securityGroup = new SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: props.vpc,
      description:
        'steward EBS drill verifier instances: no inbound, HTTPS to the Systems Manager endpoints only',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup = new SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: props.vpc,
      description: 'steward drill Systems Manager endpoints: HTTPS from the EBS drill verifier only',
      allowAllOutbound: false,
    });
    this.securityGroup.connections.allowTo(this.endpointSecurityGroup, HTTPS, 'Verifier to SSM endpoints');

    const subnets = props.vpc.selectSubnets(props.subnets);
    // One subnet holds the endpoints: every zone of the VPC reaches them, and each zone more is billed.
    const endpointSubnets = { subnets: subnets.subnets.slice(0, 1) };
    this.endpointSubnetIds = endpointSubnets.subnets.map((s) => s.subnetId);
    // Keyed as the drill's endpoint steps name them (shared/drill/endpoints.ts): ssm, ec2messages, ssmmessages.
    this.endpointServices = SSM_SERVICES.map(
      ([name, service]) => [name.toLowerCase() as EndpointKey, service.name] as const,
    );
    if ((props.endpoints ?? 'always-on') === 'always-on')
      for (const [name, service] of SSM_SERVICES)
        new InterfaceVpcEndpoint(this, `${name}Endpoint`, {
          vpc: props.vpc,
          service,
          subnets: endpointSubnets,
          securityGroups: [this.endpointSecurityGroup],
          privateDnsEnabled: true,
          open: false,
        });

    this.subnetIds = subnets.subnetIds;
    this.vpcId = props.vpc.vpcId;
    this.environment = {
      DRILL_VERIFIER_SUBNETS: Fn.join(
        ',',
        subnets.subnets.map((s) => Fn.join('=', [s.availabilityZone, s.subnetId])),
      ),
      DRILL_VERIFIER_SECURITY_GROUP: this.securityGroup.securityGroupId,
      DRILL_VERIFIER_INSTANCE_PROFILE: this.instanceProfile.instanceProfileArn,
    };
  }
}

/**
 * A verifier network another region's stack deployed (the DR stack's): its subnet and security group ids are
 * unknown here, so grants name them by the tag that stack puts on its drill VPC, subnets and groups, and the
 * instances' role by its fixed name.
 */
export interface TaggedVerifierNetwork {
  tag: { key: string; value: string };
  roleArn: string;
}

export interface EbsVerifierGrants {
  region: string;
  network: EbsVerifierNetwork | TaggedVerifierNetwork;
  /** Appended to every statement id: the DR region's grants sit beside the stage region's in one policy. */
  sidSuffix?: string;
  /** steward's Command document (infra/consistency.ts): the only document the verifier's check runs. */
  documentArn: string;
  /** The instance types the drill targets configure: RunInstances is allowed for these only. */
  instanceTypes: readonly string[];
}

/**
 * What the function that runs verifyEbsSet (shared/drill/ebs-verifier.ts) needs, least privilege: launch
 * only Amazon's images into the drill subnets with the verifier's group and profile, tagged as a verifier
 * on create; attach and detach only drill volumes to verifiers; terminate only verifiers; run only steward's
 * document, only on verifiers; read registrations and command results (no resource-level permissions).
 */
export const allowEbsVerifier = (to: Grantee, stack: Stack, g: EbsVerifierGrants): void => {
  const suffix = g.sidSuffix ?? '';
  const fn: Pick<Grantee, 'allow'> = { allow: (p) => to.allow({ ...p, sid: `${p.sid}${suffix}` }) };
  const tagged = 'tag' in g.network ? g.network : undefined;
  const local = 'tag' in g.network ? undefined : g.network;
  // Another stack's network: its subnets and groups by tag; EC2 reads without resources held to its region.
  const byTag = tagged && {
    StringEquals: { [`aws:ResourceTag/${tagged.tag.key}`]: tagged.tag.value },
  };
  const inRegion = tagged && { conditions: { StringEquals: { 'aws:RequestedRegion': g.region } } };
  const ec2 = (resource: string, name: string, account?: string) =>
    stack.formatArn({
      service: 'ec2',
      region: g.region,
      resource,
      resourceName: name,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      ...(account !== undefined && { account }),
    });
  const verifierTag = {
    [`aws:ResourceTag/${Tag.kind}`]: VERIFIER_KIND,
    [`aws:ResourceTag/${Tag.managed}`]: 'true',
  };
  const launchTags = {
    [`aws:RequestTag/${Tag.kind}`]: VERIFIER_KIND,
    [`aws:RequestTag/${Tag.managed}`]: 'true',
  };
  fn.allow({
    sid: 'LaunchVerifierFromAmazonImages',
    actions: ['ec2:RunInstances'],
    // An image ARN names no account (arn:aws:ec2:region::image/ami-…); ec2:Owner says whose it is.
    resources: [ec2('image', '*', '')],
    conditions: { StringEquals: { 'ec2:Owner': 'amazon' } },
    wildcardReason:
      'The image is the latest Amazon Linux 2023 at launch time (public SSM parameter); only Amazon-owned images.',
  });
  if (local)
    fn.allow({
      sid: 'LaunchVerifierIntoDrillNetwork',
      actions: ['ec2:RunInstances'],
      resources: [
        ...local.subnetIds.map((id) => ec2('subnet', id)),
        ec2('security-group', local.securityGroup.securityGroupId),
        ec2('network-interface', '*'),
      ],
      wildcardReason:
        'The instance’s network interface is created by the launch, in the drill subnets and group named here.',
    });
  else {
    fn.allow({
      sid: 'LaunchVerifierIntoDrillNetwork',
      actions: ['ec2:RunInstances'],
      resources: [ec2('subnet', '*'), ec2('security-group', '*')],
      conditions: byTag!,
      wildcardReason: `The DR stack's drill subnets and verifier group exist only in that region's stack: only those tagged ${tagged!.tag.key}=${tagged!.tag.value}.`,
    });
    fn.allow({
      sid: 'LaunchVerifierInterface',
      actions: ['ec2:RunInstances'],
      resources: [ec2('network-interface', '*')],
      wildcardReason:
        'The instance’s network interface is created by the launch, in the tagged drill subnets and group.',
    });
  }
  fn.allow({
    sid: 'LaunchVerifierTagged',
    actions: ['ec2:RunInstances'],
    resources: [ec2('instance', '*')],
    conditions: {
      StringEquals: { ...launchTags, 'ec2:InstanceType': [...new Set(g.instanceTypes)] },
      Null: { [`aws:RequestTag/${Tag.drill}`]: 'false' },
    },
    wildcardReason: `A new instance has no id yet; it must be a configured type, created tagged ${Tag.kind}=${VERIFIER_KIND}, ${Tag.managed} and ${Tag.drill}.`,
  });
  fn.allow({
    sid: 'LaunchVerifierRootVolumeTagged',
    actions: ['ec2:RunInstances'],
    resources: [ec2('volume', '*')],
    conditions: { StringEquals: launchTags },
    wildcardReason: `The instance's root volume is created by the launch, tagged ${Tag.kind}=${VERIFIER_KIND}.`,
  });
  fn.allow({
    sid: 'TagVerifierOnLaunch',
    actions: ['ec2:CreateTags'],
    resources: [ec2('instance', '*'), ec2('volume', '*')],
    conditions: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
    wildcardReason: 'Tags only as part of RunInstances (tag on create), never on an existing resource.',
  });
  fn.allow({
    sid: 'ResolveLatestAmazonLinux',
    actions: ['ssm:GetParameters'],
    // AWS's public parameters name no account (arn:aws:ssm:region::parameter/aws/service/…).
    resources: [
      stack.formatArn({
        service: 'ssm',
        region: g.region,
        account: '',
        resource: 'parameter',
        resourceName: AL2023_ARM64_PARAMETER.slice(1),
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
    ],
  });
  fn.allow({
    sid: 'PassVerifierRole',
    actions: ['iam:PassRole'],
    resources: [local ? local.role.roleArn : tagged!.roleArn],
    conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
  });
  fn.allow({
    sid: 'AttachDrillVolumesToVerifiers',
    actions: ['ec2:AttachVolume', 'ec2:DetachVolume'],
    resources: [ec2('instance', '*')],
    conditions: { StringEquals: verifierTag },
    wildcardReason: `Verifier instances are launched per drill; only those tagged ${Tag.kind}=${VERIFIER_KIND}.`,
  });
  fn.allow({
    sid: 'AttachOnlyDrillVolumes',
    actions: ['ec2:AttachVolume', 'ec2:DetachVolume'],
    resources: [ec2('volume', '*')],
    conditions: {
      StringEquals: { [`aws:ResourceTag/${Tag.managed}`]: 'true' },
      Null: { [`aws:ResourceTag/${Tag.drill}`]: 'false' },
    },
    wildcardReason: `Volumes a drill restored are created per drill; only those tagged ${Tag.drill} and ${Tag.managed}.`,
  });
  fn.allow({
    sid: 'TerminateVerifiers',
    actions: ['ec2:TerminateInstances'],
    resources: [ec2('instance', '*')],
    conditions: { StringEquals: verifierTag },
    wildcardReason: `Verifier instances are launched per drill; only those tagged ${Tag.kind}=${VERIFIER_KIND}.`,
  });
  fn.allow({
    sid: 'RunCheckDocument',
    actions: ['ssm:SendCommand'],
    resources: [g.documentArn],
  });
  fn.allow({
    sid: 'RunCheckOnVerifiers',
    actions: ['ssm:SendCommand'],
    resources: [ec2('instance', '*')],
    conditions: { StringEquals: { [`ssm:resourceTag/${Tag.kind}`]: VERIFIER_KIND } },
    wildcardReason: `Verifier instances are launched per drill; only those tagged ${Tag.kind}=${VERIFIER_KIND}.`,
  });
  fn.allow({
    sid: 'WatchVerifiers',
    actions: [
      'ec2:DescribeInstances',
      'ec2:DescribeVolumes',
      'ssm:DescribeInstanceInformation',
      'ssm:GetCommandInvocation',
    ],
    resources: ['*'],
    ...inRegion,
    wildcardReason:
      'ec2:DescribeInstances, ec2:DescribeVolumes, ssm:DescribeInstanceInformation and ssm:GetCommandInvocation support no resource-level permissions.',
  });
};
