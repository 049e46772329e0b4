import { execFileSync } from 'node:child_process';
import {
  AttachVolumeCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AL2023_ARM64_PARAMETER,
  ec2EbsVerifierPort,
  parseSubnets,
  type VerifierNetwork,
} from '../../../shared/aws/ebs-verifier.js';
import { EbsVerify } from '../../../shared/config/ebs-verifier.js';
import { verifierTags, verifyEbsSet, type VerifyVolume } from '../../../shared/drill/ebs-verifier.js';
import { GuardRefusedError } from '../../../shared/errors.js';
import { Tag, tagList } from '../../../shared/tags.js';
import { motoClient, useMoto } from '../../support/moto.js';

const REGION = 'eu-west-1';
const meta = { $metadata: {} };
const NETWORK: VerifierNetwork = {
  subnets: { 'eu-west-1a': 'subnet-a', 'eu-west-1b': 'subnet-b' },
  securityGroupId: 'sg-verifier',
  instanceProfileArn: 'arn:aws:iam::123456789012:instance-profile/steward-prod-ebs-verifier',
};
const named = (name: string, message = name) => Object.assign(new Error(message), { name });
const TAGS = verifierTags('d1');
// The root volume: steward's, not a drill volume (the janitor's volume sweep must not take it).
const { [Tag.drill]: _drill, ...ROOT_TAGS } = TAGS;
const LAUNCH = {
  availabilityZone: 'eu-west-1a',
  instanceType: 't4g.small',
  clientToken: 'd1-verifier',
  tags: TAGS,
  lifetimeMinutes: 30,
};

describe('ec2EbsVerifierPort (mocked EC2 and SSM)', () => {
  const ec2 = mockClient(EC2Client);
  const ssm = mockClient(SSMClient);
  const port = () =>
    ec2EbsVerifierPort(REGION, new EC2Client({ region: REGION }), new SSMClient({ region: REGION }), NETWORK);
  beforeEach(() => {
    ec2.reset();
    ssm.reset();
  });
  afterAll(() => {
    ec2.restore();
    ssm.restore();
  });

  it('launches the latest arm64 AL2023 in the zone’s drill subnet: no public address, IMDSv2, self-terminating, tagged on create', async () => {
    // Prepare
    ec2.on(RunInstancesCommand).resolves({
      ...meta,
      Instances: [
        { InstanceId: 'i-1', State: { Name: 'pending' }, LaunchTime: new Date('2026-02-01T05:00:00Z') },
      ],
    });

    // Act
    const i = await port().launch(LAUNCH);

    // Assert
    expect(i).toEqual({
      instanceId: 'i-1',
      state: 'pending',
      launchedAt: '2026-02-01T05:00:00.000Z',
      tags: {},
    });
    expect(ec2).toReceiveCommandWith(RunInstancesCommand, {
      ImageId: `resolve:ssm:${AL2023_ARM64_PARAMETER}`,
      InstanceType: 't4g.small',
      MinCount: 1,
      MaxCount: 1,
      ClientToken: 'd1-verifier',
      IamInstanceProfile: { Arn: NETWORK.instanceProfileArn },
      NetworkInterfaces: [
        { DeviceIndex: 0, SubnetId: 'subnet-a', Groups: ['sg-verifier'], AssociatePublicIpAddress: false },
      ],
      MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
      InstanceInitiatedShutdownBehavior: 'terminate',
      TagSpecifications: [
        { ResourceType: 'instance', Tags: tagList(TAGS) },
        { ResourceType: 'volume', Tags: tagList(ROOT_TAGS) },
      ],
    });
    const sent = ec2.commandCalls(RunInstancesCommand)[0]!.args[0].input;
    expect(Buffer.from(sent.UserData!, 'base64').toString()).toBe('#!/bin/sh\nshutdown -h +30\n');
  });

  it('refuses a zone without a drill subnet, sending nothing', async () => {
    await expect(port().launch({ ...LAUNCH, availabilityZone: 'eu-west-1c' })).rejects.toThrow(
      'no drill subnet in eu-west-1c (the drill network in eu-west-1 has eu-west-1a, eu-west-1b)',
    );
    expect(ec2.calls()).toHaveLength(0);
  });

  it('is registered only when Systems Manager sees the instance online', async () => {
    // Prepare
    ssm
      .on(DescribeInstanceInformationCommand)
      .resolvesOnce({ ...meta, InstanceInformationList: [] })
      .resolvesOnce({
        ...meta,
        InstanceInformationList: [{ InstanceId: 'i-1', PingStatus: 'ConnectionLost' }],
      })
      .resolvesOnce({ ...meta, InstanceInformationList: [{ InstanceId: 'i-1', PingStatus: 'Online' }] });

    // Act
    const seen = [
      await port().registered('i-1'),
      await port().registered('i-1'),
      await port().registered('i-1'),
    ];

    // Assert
    expect(seen).toEqual([false, false, true]);
    expect(ssm).toReceiveCommandWith(DescribeInstanceInformationCommand, {
      Filters: [{ Key: 'InstanceIds', Values: ['i-1'] }],
    });
  });

  it('attaches at the device asked for', async () => {
    ec2.on(AttachVolumeCommand).resolves({ ...meta, State: 'attaching' });
    await port().attach('vol-1', 'i-1', '/dev/sdf');
    expect(ec2).toReceiveCommandWith(AttachVolumeCommand, {
      VolumeId: 'vol-1',
      InstanceId: 'i-1',
      Device: '/dev/sdf',
    });
  });

  it('reads each volume’s attachment to this instance; attached elsewhere, nowhere or gone is detached', async () => {
    // Prepare
    ec2.on(DescribeVolumesCommand).resolves({
      ...meta,
      Volumes: [
        { VolumeId: 'vol-1', Attachments: [{ InstanceId: 'i-1', State: 'attached' }] },
        { VolumeId: 'vol-2', Attachments: [{ InstanceId: 'i-other', State: 'attached' }] },
        { VolumeId: 'vol-3', Attachments: [] },
        { VolumeId: 'vol-4', Attachments: [{ InstanceId: 'i-1', State: 'detaching' }] },
      ],
    });

    // Act
    const a = await port().attachments(['vol-1', 'vol-2', 'vol-3', 'vol-4', 'vol-5'], 'i-1');

    // Assert
    expect(a).toEqual({
      'vol-1': 'attached',
      'vol-2': 'detached',
      'vol-3': 'detached',
      'vol-4': 'detaching',
      'vol-5': 'detached',
    });
    expect(ec2).toReceiveCommandWith(DescribeVolumesCommand, {
      VolumeIds: ['vol-1', 'vol-2', 'vol-3', 'vol-4', 'vol-5'],
    });
  });

  it('detaches by force; a volume already detached or gone is not an error', async () => {
    // Prepare
    ec2
      .on(DetachVolumeCommand)
      .rejectsOnce(named('IncorrectState', "vol-1 is in the 'available' state"))
      .rejectsOnce(named('InvalidVolume.NotFound'))
      .rejectsOnce(named('UnauthorizedOperation'));

    // Act / Assert
    await port().detach('vol-1', 'i-1', true);
    await port().detach('vol-1', 'i-1', true);
    await expect(port().detach('vol-1', 'i-1', true)).rejects.toThrow(/DetachVolume/);
    expect(ec2).toReceiveCommandWith(DetachVolumeCommand, {
      VolumeId: 'vol-1',
      InstanceId: 'i-1',
      Force: true,
    });
  });

  it('terminates only an instance tagged as a steward drill verifier', async () => {
    // Prepare
    ec2
      .on(DescribeInstancesCommand, { InstanceIds: ['i-ours'] })
      .resolves({
        ...meta,
        Reservations: [
          { Instances: [{ InstanceId: 'i-ours', State: { Name: 'running' }, Tags: tagList(TAGS) }] },
        ],
      })
      .on(DescribeInstancesCommand, { InstanceIds: ['i-app'] })
      .resolves({
        ...meta,
        Reservations: [
          {
            Instances: [
              {
                InstanceId: 'i-app',
                State: { Name: 'running' },
                Tags: tagList({ [Tag.drill]: 'd1', [Tag.managed]: 'true' }),
              },
            ],
          },
        ],
      })
      .on(DescribeInstancesCommand, { InstanceIds: ['i-gone'] })
      .rejects(named('InvalidInstanceID.NotFound'));
    ec2.on(TerminateInstancesCommand).resolves(meta);

    // Act / Assert
    expect(await port().terminate('i-ours')).toBe('terminated');
    await expect(port().terminate('i-app')).rejects.toBeInstanceOf(GuardRefusedError);
    expect(await port().terminate('i-gone')).toBe('gone');
    expect(ec2.commandCalls(TerminateInstancesCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceIds: ['i-ours'] },
    ]);
  });

  it('lists live verifiers by their tags, every page', async () => {
    // Prepare
    const inst = (id: string, tags = TAGS) => ({
      InstanceId: id,
      State: { Name: 'running' as const },
      Tags: tagList(tags),
    });
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce({ ...meta, Reservations: [{ Instances: [inst('i-1')] }], NextToken: 't' })
      .resolvesOnce({
        ...meta,
        Reservations: [{ Instances: [inst('i-2'), inst('i-x', { [Tag.kind]: 'ebs-verifier' })] }],
      });

    // Act
    const found = await port().listVerifiers();

    // Assert
    expect(found.map((i) => i.instanceId)).toEqual(['i-1', 'i-2']);
    expect(ec2).toReceiveCommandWith(DescribeInstancesCommand, {
      Filters: [
        { Name: `tag:${Tag.kind}`, Values: ['ebs-verifier'] },
        { Name: 'tag-key', Values: [Tag.drill] },
        {
          Name: 'instance-state-name',
          Values: ['pending', 'running', 'stopping', 'stopped', 'shutting-down'],
        },
      ],
      MaxResults: 1000,
      NextToken: 't',
    });
  });

  it('reads the construct’s subnet list', () => {
    expect(parseSubnets('eu-west-1a=subnet-a, eu-west-1b=subnet-b,')).toEqual({
      'eu-west-1a': 'subnet-a',
      'eu-west-1b': 'subnet-b',
    });
  });
});

// End to end over real HTTP against moto: the verifier launches in the drill subnet, the restored volumes
// attach to it and are detached when it is terminated, and nothing is left running. moto has no Systems
// Manager instance registry (DescribeInstanceInformation) and runs no command: registration and the check
// are the fakes here, proven with mocks above and in test/shared/drill/ebs-verifier.test.ts.
// moto checks that the instance profile exists; the SDK's IAM client is not a dependency, so boto3 (which
// moto ships with) creates it.
const createInstanceProfile = (endpoint: string, name: string): string =>
  execFileSync(
    'python3',
    [
      '-c',
      'import sys, boto3; print(boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing").create_instance_profile(InstanceProfileName=sys.argv[2])["InstanceProfile"]["Arn"])',
      endpoint,
      name,
    ],
    { encoding: 'utf8' },
  ).trim();

describe('EBS verifier against moto', () => {
  // An empty AMI catalogue: EC2 holds only what the test makes.
  const endpoint = useMoto({ emptyAmis: true });
  let ec2: EC2Client;
  beforeAll(() => {
    ec2 = motoClient(EC2Client, REGION, endpoint());
  });

  it('launches, attaches, checks, terminates, and leaves the volumes detached for the drill to delete', async () => {
    // Prepare: the drill network's subnet and two restored volumes in its zone.
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }));
    const subnet = await ec2.send(
      new CreateSubnetCommand({
        VpcId: vpc.Vpc!.VpcId!,
        CidrBlock: '10.9.1.0/24',
        AvailabilityZone: 'eu-west-1a',
      }),
    );
    const sg = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: 'verifier',
        Description: 'verifier',
        VpcId: vpc.Vpc!.VpcId!,
      }),
    );
    const volumes: VerifyVolume[] = [];
    for (const device of ['/dev/xvda', '/dev/sdf']) {
      const v = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'eu-west-1a', Size: 8 }));
      volumes.push({ volumeId: v.VolumeId!, sourceVolumeId: `src-${device}`, device });
    }
    const real = ec2EbsVerifierPort(REGION, ec2, new SSMClient({ region: REGION }), {
      instanceProfileArn: createInstanceProfile(endpoint(), 'steward-test-ebs-verifier'),
      subnets: { 'eu-west-1a': subnet.Subnet!.SubnetId! },
      securityGroupId: sg.GroupId!,
    });
    const sent: string[] = [];
    // No SSM registry in moto: registered at once; the check is recorded, not run.
    const port = { ...real, registered: async () => true };
    const runner = {
      run: async (s: { instanceId: string; command: string }) => {
        sent.push(s.command);
        const attached = await real.attachments(
          volumes.map((v) => v.volumeId),
          s.instanceId,
        );
        return { status: 'success' as const, output: JSON.stringify(attached) };
      },
    };

    // Act
    const r = await verifyEbsSet(
      { verifier: port, runner, now: () => new Date(), sleep: async () => undefined },
      { drillId: 'drill-moto-1', availabilityZone: 'eu-west-1a', volumes },
      EbsVerify.parse({ command: 'fsck -n /dev/sdf' }),
    );

    // Assert
    expect(r).toMatchObject({ status: 'passed', problems: [] });
    expect(sent).toEqual(['fsck -n /dev/sdf']);
    expect(JSON.parse(r.check!.output!)).toEqual({
      [volumes[0]!.volumeId]: 'attached',
      [volumes[1]!.volumeId]: 'attached',
    });
    const launched = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [r.instanceId!] }));
    const instance = launched.Reservations![0]!.Instances![0]!;
    expect(instance.State?.Name).toBe('terminated');
    expect(instance.SubnetId).toBe(subnet.Subnet!.SubnetId);
    expect(instance.InstanceType).toBe('t4g.small');
    expect(instance.Tags).toEqual(expect.arrayContaining(tagList(verifierTags('drill-moto-1'))));
    const after = await ec2.send(new DescribeVolumesCommand({ VolumeIds: volumes.map((v) => v.volumeId) }));
    expect(after.Volumes!.map((v) => v.State)).toEqual(['available', 'available']);
    expect(await real.listVerifiers()).toEqual([]);
  });
});
