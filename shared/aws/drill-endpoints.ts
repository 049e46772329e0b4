import {
  CreateVpcEndpointCommand,
  DeleteVpcEndpointsCommand,
  type EC2Client,
  paginateDescribeVpcEndpoints,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { paginateListExecutions, type SFNClient } from '@aws-sdk/client-sfn';
import {
  type DrillEndpointsPort,
  isDrillEndpoint,
  readersPolicy,
  type RunningDrills,
  type VpcEndpointInfo,
} from '../drill/endpoints.js';
import { AwsCallError, errorMessage, GuardRefusedError } from '../errors.js';
import { tagList, tagRecord } from '../tags.js';
import { attempt } from './call.js';
import { collectPages } from './pages.js';

const infoOf = (e: VpcEndpoint): VpcEndpointInfo | undefined =>
  e.VpcEndpointId
    ? {
        id: e.VpcEndpointId,
        serviceName: e.ServiceName ?? '',
        state: (e.State ?? 'unknown').toLowerCase(),
        privateDns: e.PrivateDnsEnabled === true,
        ...(e.CreationTimestamp && { createdAt: e.CreationTimestamp.toISOString() }),
        tags: tagRecord(e.Tags),
      }
    : undefined;

// An endpoint id DeleteVpcEndpoints does not know (it answers per item, in `Unsuccessful`).
const NOT_FOUND = /NotFound/;
// DescribeVpcEndpoints: MaxResults up to 1000.
const PAGE_SIZE = 1000;

/** The drill VPC's interface endpoints through EC2: list by service, create with private DNS, delete ours only. */
export const ec2DrillEndpoints = (ec2: EC2Client, vpcId: string): DrillEndpointsPort => {
  const list = (serviceNames: readonly string[]) =>
    collectPages(
      paginateDescribeVpcEndpoints(
        { client: ec2, pageSize: PAGE_SIZE },
        {
          Filters: [
            { Name: 'vpc-id', Values: [vpcId] },
            { Name: 'service-name', Values: [...serviceNames] },
            { Name: 'vpc-endpoint-type', Values: ['Interface'] },
          ],
        },
      ),
      (p) => p.VpcEndpoints,
      infoOf,
      'DescribeVpcEndpoints',
      `endpoints of ${vpcId}`,
    );
  return {
    list,
    create: async (r) => {
      const out = await attempt(
        'CreateVpcEndpoint',
        `${r.serviceName} in ${vpcId}`,
        () =>
          ec2.send(
            new CreateVpcEndpointCommand({
              VpcEndpointType: 'Interface',
              VpcId: vpcId,
              ServiceName: r.serviceName,
              SubnetIds: r.subnetIds,
              SecurityGroupIds: r.securityGroupIds,
              PrivateDnsEnabled: true,
              ...(r.readers?.length ? { PolicyDocument: readersPolicy(r.readers) } : {}),
              ClientToken: r.clientToken,
              TagSpecifications: [{ ResourceType: 'vpc-endpoint', Tags: tagList(r.tags) }],
            }),
          ),
        { refused: ['InvalidParameter', 'InvalidParameterValue'] },
      );
      if (!out.ok) {
        // Private DNS allows one endpoint per service and VPC: EC2 refuses another with InvalidParameter. AWS
        // documents no wording for that refusal (commonly reported: "private-dns-enabled cannot be set because
        // there is already a conflicting DNS domain for <service domain> in the VPC <vpc>"), so the text is not
        // read: the refusal is a conflict when the VPC has, or just had, an endpoint with private DNS for the
        // service (a concurrent drill's new one, or one being deleted). Any other invalid parameter is a fault.
        const holders = (await list([r.serviceName])).filter((e) => e.privateDns);
        if (holders.length)
          return {
            conflict: `the VPC already has an endpoint with private DNS for ${r.serviceName} (${holders
              .map((e) => `${e.id} ${e.state}`)
              .join(', ')}); EC2 said: ${errorMessage(out.cause)}`,
          };
        throw new AwsCallError('CreateVpcEndpoint', `${r.serviceName} in ${vpcId}`, out.cause);
      }
      const created = out.value.VpcEndpoint && infoOf(out.value.VpcEndpoint);
      if (!created)
        throw new AwsCallError(
          'CreateVpcEndpoint',
          `${r.serviceName} in ${vpcId}`,
          new Error('the response named no endpoint'),
        );
      return { created };
    },
    remove: async (endpoint) => {
      if (!isDrillEndpoint(endpoint.tags))
        throw new GuardRefusedError(
          `refusing to delete ${endpoint.id}: not created by a steward drill (no steward:managed=true and steward:drill-endpoint tags)`,
        );
      const out = await attempt('DeleteVpcEndpoints', endpoint.id, () =>
        ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [endpoint.id] })),
      );
      const failed = (out.ok ? out.value.Unsuccessful : undefined)?.find((u) => u.ResourceId === endpoint.id);
      if (!failed) return 'deleted';
      if (NOT_FOUND.test(failed.Error?.Code ?? '')) return 'already-gone';
      const e = Object.assign(new Error(failed.Error?.Message ?? 'not deleted'), {
        name: failed.Error?.Code ?? 'Unsuccessful',
      });
      throw new AwsCallError('DeleteVpcEndpoints', endpoint.id, e);
    },
  };
};

/** The drill state machine's RUNNING executions (Step Functions ListExecutions, paginated). */
export const sfnRunningDrills = (sfn: SFNClient, stateMachineArn: string): RunningDrills => ({
  running: () =>
    collectPages(
      paginateListExecutions(
        { client: sfn, pageSize: PAGE_SIZE },
        { stateMachineArn, statusFilter: 'RUNNING' },
      ),
      (p) => p.executions,
      (e) => e.name,
      'ListExecutions',
      `running executions of ${stateMachineArn}`,
    ),
});
