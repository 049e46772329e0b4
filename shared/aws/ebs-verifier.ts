import {
  AttachVolumeCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  type EC2Client,
  type Instance,
  paginateDescribeInstances,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { EbsVerifierEnv } from '../drill/env.js';
import {
  type AttachmentState,
  type EbsVerifierPort,
  isVerifier,
  type LaunchRequest,
  VERIFIER_KIND,
  type VerifierInstance,
} from '../drill/ebs-verifier.js';
import { GuardRefusedError } from '../errors.js';
import { Tag, tagList, tagRecord, type Tags } from '../tags.js';
import { attempt, call } from './call.js';

/**
 * The latest Amazon Linux 2023 image for arm64, as AWS publishes it in a public SSM parameter. RunInstances
 * resolves `resolve:ssm:<name>` itself (EC2 User Guide, "Use a Systems Manager parameter to launch an
 * instance"), so steward sends no GetParameter of its own; the caller needs ssm:GetParameters on it.
 */
export const AL2023_ARM64_PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64';

/** Where verifiers launch: the drill network, as the construct deploys it. */
export interface VerifierNetwork {
  /** The drill VPC's isolated subnet in each Availability Zone. */
  subnets: Record<string, string>;
  /** The verifier instances' security group: no inbound, out to the Systems Manager endpoints only. */
  securityGroupId: string;
  /** The instance profile with the Systems Manager core permissions and nothing else. */
  instanceProfileArn: string;
}

/** The verifier network from the function's environment; undefined when the stage deploys none. */
export const verifierNetworkFromEnv = (env: EbsVerifierEnv): VerifierNetwork | undefined =>
  env.DRILL_VERIFIER_SUBNETS && env.DRILL_VERIFIER_SECURITY_GROUP && env.DRILL_VERIFIER_INSTANCE_PROFILE
    ? {
        subnets: parseSubnets(env.DRILL_VERIFIER_SUBNETS),
        securityGroupId: env.DRILL_VERIFIER_SECURITY_GROUP,
        instanceProfileArn: env.DRILL_VERIFIER_INSTANCE_PROFILE,
      }
    : undefined;

/** "az=subnet,az=subnet" (the construct's DRILL_VERIFIER_SUBNETS) as a record. */
export const parseSubnets = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split(',')
      .map((pair) => pair.trim().split('='))
      .filter((kv): kv is [string, string] => kv.length === 2 && Boolean(kv[0]) && Boolean(kv[1])),
  );

// The instance shuts itself down after its lifetime: with InstanceInitiatedShutdownBehavior `terminate`,
// a shutdown from inside terminates it, so a verifier steward lost track of ends on its own.
const userData = (minutes: number) =>
  Buffer.from(`#!/bin/sh\nshutdown -h +${Math.max(1, Math.floor(minutes))}\n`).toString('base64');

const rootVolumeTags = (tags: Tags): Tags => {
  const { [Tag.drill]: _drill, ...rest } = tags;
  return rest;
};

const instanceOf = (i: Instance): VerifierInstance => ({
  instanceId: i.InstanceId ?? '',
  state: i.State?.Name ?? 'unknown',
  ...(i.LaunchTime && { launchedAt: i.LaunchTime.toISOString() }),
  tags: tagRecord(i.Tags),
});

const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];
// DescribeInstances by filter: pages of up to 1000 (MaxResults 5-1000).
const PAGE = 1000;

/** Verifier instances through EC2 and their Systems Manager registration through SSM. */
export const ec2EbsVerifierPort = (
  region: string,
  ec2: EC2Client,
  ssm: SSMClient,
  /** The network, or how to find it when it is published elsewhere (the DR stack's parameter): read at launch. */
  network: VerifierNetwork | (() => Promise<VerifierNetwork>),
): EbsVerifierPort => {
  const describeOne = async (instanceId: string): Promise<VerifierInstance | undefined> => {
    const r = await attempt(
      'DescribeInstances',
      instanceId,
      () => ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })),
      { gone: ['InvalidInstanceID.NotFound'] },
    );
    const found = r.ok ? r.value.Reservations?.flatMap((x) => x.Instances ?? [])[0] : undefined;
    return found && instanceOf(found);
  };

  return {
    region,
    launch: async (r: LaunchRequest) => {
      const net = typeof network === 'function' ? await network() : network;
      const subnetId = net.subnets[r.availabilityZone];
      if (!subnetId)
        throw new GuardRefusedError(
          `no drill subnet in ${r.availabilityZone} (the drill network in ${region} has ${Object.keys(net.subnets).join(', ') || 'none'})`,
        );
      const out = await call('RunInstances', `verifier in ${r.availabilityZone}`, () =>
        ec2.send(
          new RunInstancesCommand({
            ImageId: `resolve:ssm:${AL2023_ARM64_PARAMETER}`,
            InstanceType: r.instanceType as never,
            MinCount: 1,
            MaxCount: 1,
            ClientToken: r.clientToken,
            IamInstanceProfile: { Arn: net.instanceProfileArn },
            // One interface in the isolated subnet, no public address (the subnet has no route out anyway).
            NetworkInterfaces: [
              {
                DeviceIndex: 0,
                SubnetId: subnetId,
                Groups: [net.securityGroupId],
                AssociatePublicIpAddress: false,
              },
            ],
            // IMDSv2 only, one hop: nothing on the host but its own processes reaches the role's credentials.
            MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
            InstanceInitiatedShutdownBehavior: 'terminate',
            UserData: userData(r.lifetimeMinutes),
            TagSpecifications: [
              { ResourceType: 'instance', Tags: tagList(r.tags) },
              // The root volume goes with the instance (DeleteOnTermination): steward's, but without
              // steward:drill, so the drill janitor never tries to delete it while its instance runs.
              { ResourceType: 'volume', Tags: tagList(rootVolumeTags(r.tags)) },
            ],
          }),
        ),
      );
      const i = out.Instances?.[0];
      if (!i?.InstanceId) throw new Error('RunInstances returned no instance');
      return instanceOf(i);
    },
    registered: async (instanceId: string) => {
      const r = await call('DescribeInstanceInformation', instanceId, () =>
        ssm.send(
          new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }),
        ),
      );
      return (r.InstanceInformationList ?? []).some(
        (i) => i.InstanceId === instanceId && i.PingStatus === 'Online',
      );
    },
    attach: async (volumeId: string, instanceId: string, device: string) => {
      await call('AttachVolume', `${volumeId} to ${instanceId} at ${device}`, () =>
        ec2.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Device: device })),
      );
    },
    attachments: async (volumeIds: readonly string[], instanceId: string) => {
      // A drill asks for its set's few volumes: one request by ids (EC2 refuses MaxResults with VolumeIds).
      const r = await attempt(
        'DescribeVolumes',
        volumeIds.join(', '),
        () => ec2.send(new DescribeVolumesCommand({ VolumeIds: [...volumeIds] })),
        { gone: ['InvalidVolume.NotFound'] },
      );
      const out: Record<string, AttachmentState> = {};
      for (const id of volumeIds) out[id] = 'detached';
      if (!r.ok) return out;
      for (const v of r.value.Volumes ?? []) {
        const a = v.Attachments?.find((x) => x.InstanceId === instanceId);
        if (v.VolumeId && a?.State && a.State !== 'detached') out[v.VolumeId] = a.State as AttachmentState;
      }
      return out;
    },
    detach: async (volumeId: string, instanceId: string, force: boolean) => {
      await attempt(
        'DetachVolume',
        `${volumeId} from ${instanceId}`,
        () => ec2.send(new DetachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Force: force })),
        // Already detached (the instance ended meanwhile) or gone: nothing to do.
        { gone: ['InvalidVolume.NotFound', 'IncorrectState', 'InvalidAttachment.NotFound'] },
      );
    },
    terminate: async (instanceId: string) => {
      // Never end what a drill did not launch: the instance must carry the verifier's tags (the role's
      // policy says the same with tag conditions).
      const i = await describeOne(instanceId);
      if (!i || i.state === 'terminated') return 'gone';
      if (!isVerifier(i.tags))
        throw new GuardRefusedError(
          `refusing to terminate ${instanceId}: it is not a steward drill verifier`,
        );
      const r = await attempt(
        'TerminateInstances',
        instanceId,
        () => ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })),
        { gone: ['InvalidInstanceID.NotFound'] },
      );
      return r.ok ? 'terminated' : 'gone';
    },
    listVerifiers: () =>
      call('DescribeInstances', `${Tag.kind}=${VERIFIER_KIND}`, async () => {
        const out: VerifierInstance[] = [];
        const pages = paginateDescribeInstances(
          { client: ec2, pageSize: PAGE },
          {
            Filters: [
              { Name: `tag:${Tag.kind}`, Values: [VERIFIER_KIND] },
              { Name: 'tag-key', Values: [Tag.drill] },
              { Name: 'instance-state-name', Values: LIVE_STATES },
            ],
          },
        );
        for await (const page of pages)
          for (const res of page.Reservations ?? []) out.push(...(res.Instances ?? []).map(instanceOf));
        return out.filter((i) => isVerifier(i.tags));
      }),
  };
};
