import type { Stack } from 'aws-cdk-lib';
import { Tag } from '../shared/tags.js';
import { ec2Arn } from './arns.js';
import type { Grantee } from './permission.js';

interface DrillEndpointGrantsBase {
  region: string;
  /** The services a drill may create an endpoint for (com.amazonaws.<region>.secretsmanager, …). */
  serviceNames: string[];
  /** Their keys, the values a drill tags its endpoints `steward:drill-endpoint` with (secretsmanager, ssm, …). */
  keys: string[];
  /** The drill state machine: its running executions keep the endpoints. */
  stateMachineArn: string;
  /** Appended to every statement id: the DR region's grants sit beside the stage region's in one policy. */
  sidSuffix?: string;
}

export type DrillEndpointGrants = DrillEndpointGrantsBase &
  (
    | {
        vpcId: string;
        /** Where: the drill subnets and the endpoint security groups the construct deployed. */
        subnetIds: string[];
        securityGroupIds: string[];
      }
    | {
        /** Another region's stack's drill VPC (the DR stack's): its VPC, subnets and groups by this tag. */
        networkTag: { key: string; value: string };
      }
  );

/**
 * What the drill function needs for per-drill endpoints (shared/drill/endpoint-tasks.ts), least privilege, as
 * the Service Authorization Reference lists ec2:CreateVpcEndpoint: authorized on the new vpc-endpoint (request
 * tags and ec2:VpceServiceName), on the VPC (required) and on each subnet and security group the request names.
 * Tag on create is ec2:CreateTags with ec2:CreateAction. DeleteVpcEndpoints only of endpoints tagged as a
 * drill's (aws:ResourceTag) for those services; DescribeVpcEndpoints has no resource-level permissions. No
 * Route 53 permission: the reference lists no dependent action for ec2:CreateVpcEndpoint, and AWS creates and
 * manages the hidden private hosted zone of an endpoint with private DNS (AWS PrivateLink Guide, "Private DNS").
 */
export const allowDrillEndpoints = (to: Grantee, stack: Stack, g: DrillEndpointGrants): void => {
  const suffix = g.sidSuffix ?? '';
  const fn: Pick<Grantee, 'allow'> = { allow: (p) => to.allow({ ...p, sid: `${p.sid}${suffix}` }) };
  const ec2 = (resource: string, name: string) => ec2Arn(stack, g.region, resource, name);
  const tag = 'networkTag' in g ? g.networkTag : undefined;
  fn.allow({
    sid: 'CreateDrillEndpointsTagged',
    actions: ['ec2:CreateVpcEndpoint'],
    resources: [ec2('vpc-endpoint', '*')],
    conditions: {
      // StringEquals on a key the request lacks does not match: the drill-endpoint tag must be present.
      StringEquals: {
        [`aws:RequestTag/${Tag.managed}`]: 'true',
        [`aws:RequestTag/${Tag.drillEndpoint}`]: g.keys,
        'ec2:VpceServiceName': g.serviceNames,
      },
    },
    wildcardReason: `A new endpoint has no id yet; only the drill's services, created tagged ${Tag.managed}=true and ${Tag.drillEndpoint}=<service>.`,
  });
  if ('vpcId' in g)
    fn.allow({
      sid: 'CreateDrillEndpointsInDrillVpc',
      actions: ['ec2:CreateVpcEndpoint'],
      resources: [
        ec2('vpc', g.vpcId),
        ...g.subnetIds.map((id) => ec2('subnet', id)),
        ...g.securityGroupIds.map((id) => ec2('security-group', id)),
      ],
    });
  else
    fn.allow({
      sid: 'CreateDrillEndpointsInDrillVpc',
      actions: ['ec2:CreateVpcEndpoint'],
      resources: [ec2('vpc', '*'), ec2('subnet', '*'), ec2('security-group', '*')],
      conditions: { StringEquals: { [`aws:ResourceTag/${tag!.key}`]: tag!.value } },
      wildcardReason: `The DR stack's drill VPC, subnets and endpoint group exist only in that region's stack: only those tagged ${tag!.key}=${tag!.value}.`,
    });
  fn.allow({
    sid: 'TagDrillEndpointsOnCreate',
    actions: ['ec2:CreateTags'],
    resources: [ec2('vpc-endpoint', '*')],
    conditions: { StringEquals: { 'ec2:CreateAction': 'CreateVpcEndpoint' } },
    wildcardReason: 'Tags only as part of CreateVpcEndpoint (tag on create), never on an existing endpoint.',
  });
  fn.allow({
    sid: 'DeleteDrillEndpoints',
    actions: ['ec2:DeleteVpcEndpoints'],
    resources: [ec2('vpc-endpoint', '*')],
    conditions: {
      StringEquals: {
        [`aws:ResourceTag/${Tag.managed}`]: 'true',
        [`aws:ResourceTag/${Tag.drillEndpoint}`]: g.keys,
        'ec2:VpceServiceName': g.serviceNames,
      },
    },
    wildcardReason: `Endpoints are created per drill; only those tagged ${Tag.managed}=true and ${Tag.drillEndpoint}=<service>, for the drill's services.`,
  });
  fn.allow({
    sid: 'ListDrillEndpoints',
    actions: ['ec2:DescribeVpcEndpoints'],
    resources: ['*'],
    ...(tag ? { conditions: { StringEquals: { 'aws:RequestedRegion': g.region } } } : {}),
    wildcardReason: 'ec2:DescribeVpcEndpoints supports no resource-level permissions.',
  });
  fn.allow({
    sid: 'ListRunningDrills',
    actions: ['states:ListExecutions'],
    resources: [g.stateMachineArn],
  });
};
