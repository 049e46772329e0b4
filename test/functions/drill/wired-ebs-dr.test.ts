import {
  AttachVolumeCommand,
  CreateVpcEndpointCommand,
  DeleteVpcEndpointsCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  GetParameterCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../../functions/drill/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import type { DrillState } from '../../../shared/drill/state.js';
import { drillEnv, drillTask, EXECUTION, wiredDrill } from '../../support/drill-wiring.js';

// A verifying EBS drill from the DR copies through the drill function's real wiring (SDK clients mocked): the
// DR stack's published network is read in the DR region, the verifier is launched there into that network and
// checked with that region's document, and the per-drill endpoints are created in the DR drill VPC; every EC2
// and Systems Manager call goes to the DR region's clients. The IAM suite simulates the grants
// (test/iam/ebs-verifier-dr.test.ts).
const REGION = 'eu-west-1';
const DR = 'us-west-2';
const ACCOUNT = '111122223333';
const INSTANCE = 'i-0abc1234def567890';
const NOW = new Date('2026-02-01T05:01:00Z');
const config = parseConfig(
  {
    stage: 'prod',
    region: REGION,
    account: ACCOUNT,
    dr: { region: DR, kmsKeyArn: `arn:aws:kms:${DR}:${ACCOUNT}:alias/steward-dr` },
    backup: { policies: { daily: { kinds: ['ebs'], copyToDr: true } } },
    drill: {
      enabled: true,
      volumes: { [INSTANCE]: { from: 'dr', verify: { command: 'fsck -n /dev/sdf1', timeoutSeconds: 60 } } },
    },
  },
  'test',
);
const STATE_MACHINE = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:steward-prod-drill`;
const env = drillEnv({ DRILL_STATE_MACHINE_ARN: STATE_MACHINE }, ACCOUNT, REGION);
const deps = () => wiredDrill(config, env, NOW);
const PARAMETER = '/steward/prod/drill/dr-ebs-verifier';
const SITE = {
  vpcId: 'vpc-0d0e1',
  subnets: `${DR}a=subnet-0d0a,${DR}b=subnet-0d0b`,
  securityGroupId: 'sg-0d0e1f',
  instanceProfileArn: `arn:aws:iam::${ACCOUNT}:instance-profile/steward-prod-ebs-verifier-dr`,
  documentName: 'steward-prod-consistency',
  endpoints: Object.fromEntries(
    ['ssm', 'ec2messages', 'ssmmessages'].map((k) => [
      k,
      { serviceName: `com.amazonaws.${DR}.${k}`, subnetIds: ['subnet-0d0a'], securityGroupIds: ['sg-0e0ff'] },
    ]),
  ),
};

const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
const sfn = mockClient(SFNClient);
beforeEach(() => {
  ec2.reset();
  ssm.reset();
  sfn.reset();
  ssm.on(GetParameterCommand, { Name: PARAMETER }).resolves({
    $metadata: {},
    Parameter: { Value: JSON.stringify(SITE) },
  });
});

/** Every volume of the DR copy available in the DR region, as CheckVolumes leaves it. */
const available = (): DrillState => ({
  drillId: EXECUTION.name,
  startedAt: EXECUTION.startTime,
  input: { database: INSTANCE },
  database: INSTANCE,
  kind: 'ebs',
  targets: { rtoSeconds: 3600, rpoSeconds: 90_000 },
  source: { snapshotId: 'set-1', referenceTime: '2026-01-31T03:00:00.000Z', region: DR },
  ebs: {
    set: {
      id: 'set-1',
      sourceId: INSTANCE,
      createdAt: '2026-01-31T03:00:00.000Z',
      members: [{ snapshotId: 'snap-0dr1', volumeId: 'vol-0src1' }],
    },
    settings: {
      availabilityZone: `${DR}a`,
      region: DR,
      volumeType: 'gp3',
      fastSnapshotRestore: false,
      timeoutSeconds: 1800,
      pollSeconds: 15,
    },
    volumes: [
      { snapshotId: 'snap-0dr1', sourceVolumeId: 'vol-0src1', volumeId: 'vol-0drill1', state: 'available' },
    ],
  },
  available: true,
});

const regionsOf = async (calls: { thisValue: unknown }[]) =>
  new Set(await Promise.all(calls.map((c) => (c.thisValue as EC2Client | SSMClient).config.region())));

describe('a verifying EBS drill from the DR copies through the drill function', () => {
  it('launches the verifier into the DR stack’s network and runs the check with its document, all in the DR region', async () => {
    // Prepare: the instance registers, the volume attaches, the check passes, the volume detaches
    ec2.on(RunInstancesCommand).resolves({
      $metadata: {},
      Instances: [{ InstanceId: 'i-0verifier', State: { Name: 'pending' } }],
    });
    ssm.on(DescribeInstanceInformationCommand).resolves({
      $metadata: {},
      InstanceInformationList: [{ InstanceId: 'i-0verifier', PingStatus: 'Online' }],
    });
    ec2.on(AttachVolumeCommand).resolves({ $metadata: {} });
    let attached = true;
    ec2.on(DescribeVolumesCommand).callsFake(() => ({
      $metadata: {},
      Volumes: [
        {
          VolumeId: 'vol-0drill1',
          Attachments: attached ? [{ InstanceId: 'i-0verifier', State: 'attached' }] : [],
        },
      ],
    }));
    ssm.on(SendCommandCommand).resolves({ $metadata: {}, Command: { CommandId: 'c-1' } });
    ssm.on(GetCommandInvocationCommand).resolves({
      $metadata: {},
      Status: 'Success',
      StandardOutputContent: 'clean',
      ResponseCode: 0,
    });
    ec2.on(DescribeInstancesCommand).resolves({
      $metadata: {},
      Reservations: [
        {
          Instances: [
            {
              InstanceId: 'i-0verifier',
              State: { Name: 'running' },
              Tags: [
                { Key: 'steward:drill', Value: EXECUTION.name },
                { Key: 'steward:managed', Value: 'true' },
                { Key: 'steward:kind', Value: 'ebs-verifier' },
              ],
            },
          ],
        },
      ],
    });
    ec2.on(TerminateInstancesCommand).callsFake(() => {
      attached = false;
      return { $metadata: {} };
    });

    // Act
    const s = (await run(drillTask('verify-volumes', available()), deps())) as DrillState;

    // Assert
    expect(s.ebs?.verification).toMatchObject({ outcome: 'passed' });
    expect(ssm).toReceiveCommandWith(GetParameterCommand, { Name: PARAMETER });
    expect(ec2).toReceiveCommandWith(RunInstancesCommand, {
      IamInstanceProfile: { Arn: SITE.instanceProfileArn },
      NetworkInterfaces: [
        { DeviceIndex: 0, SubnetId: 'subnet-0d0a', Groups: ['sg-0d0e1f'], AssociatePublicIpAddress: false },
      ],
    });
    expect(ssm).toReceiveCommandWith(SendCommandCommand, {
      DocumentName: 'steward-prod-consistency',
      InstanceIds: ['i-0verifier'],
    });
    expect(ec2).toReceiveCommandWith(TerminateInstancesCommand, { InstanceIds: ['i-0verifier'] });
    expect(await regionsOf(ec2.calls())).toEqual(new Set([DR]));
    expect(await regionsOf(ssm.calls())).toEqual(new Set([DR]));
  }, 30_000);

  it('creates the Systems Manager endpoints in the DR drill VPC, where the DR stack says', async () => {
    // Prepare: none yet
    ec2.on(DescribeVpcEndpointsCommand).resolves({ $metadata: {}, VpcEndpoints: [] });
    ec2.on(CreateVpcEndpointCommand).callsFake((input: { ServiceName?: string }) => ({
      $metadata: {},
      VpcEndpoint: {
        VpcEndpointId: `vpce-0${input.ServiceName?.split('.').pop()}`,
        ServiceName: input.ServiceName,
        State: 'pending',
        PrivateDnsEnabled: true,
      },
    }));

    // Act
    const s = (await run(drillTask('endpoints', available()), deps())) as DrillState;

    // Assert
    expect(s.endpoints).toMatchObject({ ready: false, needed: ['ssm', 'ec2messages', 'ssmmessages'] });
    expect(ec2).toHaveReceivedCommandTimes(CreateVpcEndpointCommand, 3);
    expect(ec2).toReceiveCommandWith(CreateVpcEndpointCommand, {
      VpcId: 'vpc-0d0e1',
      ServiceName: `com.amazonaws.${DR}.ssm`,
      SubnetIds: ['subnet-0d0a'],
      SecurityGroupIds: ['sg-0e0ff'],
      PrivateDnsEnabled: true,
    });
    expect(ec2).toReceiveCommandWith(DescribeVpcEndpointsCommand, {
      Filters: expect.arrayContaining([{ Name: 'vpc-id', Values: ['vpc-0d0e1'] }]),
    });
    expect(await regionsOf(ec2.calls())).toEqual(new Set([DR]));
  });

  it('closes the DR endpoints after the drill when no other drill runs', async () => {
    // Prepare
    ec2.on(DescribeVpcEndpointsCommand).resolves({
      $metadata: {},
      VpcEndpoints: [
        {
          VpcEndpointId: 'vpce-0ssm',
          ServiceName: `com.amazonaws.${DR}.ssm`,
          State: 'Available',
          PrivateDnsEnabled: true,
          Tags: [
            { Key: 'steward:managed', Value: 'true' },
            { Key: 'steward:drill-endpoint', Value: 'ssm' },
          ],
        },
      ],
    });
    sfn.on(ListExecutionsCommand).resolves({ $metadata: {}, executions: [] });
    ec2.on(DeleteVpcEndpointsCommand).resolves({ $metadata: {}, Unsuccessful: [] });

    // Act
    const s = (await run(drillTask('close-endpoints', available()), deps())) as DrillState;

    // Assert
    expect(s.endpointsClosed).toMatchObject({ status: 'deleted' });
    expect(ec2).toReceiveCommandWith(DeleteVpcEndpointsCommand, { VpcEndpointIds: ['vpce-0ssm'] });
    expect(await regionsOf(ec2.calls())).toEqual(new Set([DR]));
    expect(sfn).toReceiveCommandWith(ListExecutionsCommand, { stateMachineArn: STATE_MACHINE });
  });

  it('fails the selection, naming the parameter and the DR stack, when that stack has no verifier network', async () => {
    // Prepare
    ssm.reset();
    ssm
      .on(GetParameterCommand, { Name: PARAMETER })
      .rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
    const d = deps();
    const started = (await run(drillTask('start', { database: INSTANCE }), d)) as DrillState;

    // Act
    const failure = run(drillTask('select', started), d);

    // Assert: nothing asked of EC2
    await expect(failure).rejects.toMatchObject({ name: 'ConfigError' });
    await expect(failure).rejects.toThrow('No EBS verifier network in us-west-2');
    const err = (await failure.catch((e: unknown) => e)) as { issues?: string[] };
    expect(JSON.stringify(err.issues)).toContain(`${PARAMETER}: parameter not found; deploy Steward-prod-dr`);
    expect(ec2.calls()).toEqual([]);
  });
});
