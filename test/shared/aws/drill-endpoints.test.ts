import {
  CreateVpcEndpointCommand,
  DeleteVpcEndpointsCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ec2DrillEndpoints, sfnRunningDrills } from '../../../shared/aws/drill-endpoints.js';
import { endpointTags } from '../../../shared/drill/endpoints.js';
import { AwsCallError, GuardRefusedError } from '../../../shared/errors.js';

const ec2 = mockClient(EC2Client);
const sfn = mockClient(SFNClient);
const VPC = 'vpc-0drill1234';
const SECRETS = 'com.amazonaws.eu-west-1.secretsmanager';
const MACHINE = 'arn:aws:states:eu-west-1:111122223333:stateMachine:steward-prod-drill';
const port = () => ec2DrillEndpoints(new EC2Client({ region: 'eu-west-1' }), VPC);
const ours = endpointTags('secretsmanager', 'drill-1');
const request = {
  key: 'secretsmanager' as const,
  serviceName: SECRETS,
  subnetIds: ['subnet-0a1', 'subnet-0b2'],
  securityGroupIds: ['sg-0secrets'],
  readers: ['arn:aws:iam::111122223333:role/verifier'],
  clientToken: 'steward-0123456789abcdef',
  tags: ours,
};

describe('ec2DrillEndpoints', () => {
  beforeEach(() => ec2.reset());

  it('lists the drill VPC’s interface endpoints of the services asked, every page, as plain data', async () => {
    // Prepare
    ec2
      .on(DescribeVpcEndpointsCommand)
      .resolvesOnce({
        VpcEndpoints: [
          {
            VpcEndpointId: 'vpce-01',
            ServiceName: SECRETS,
            State: 'Available',
            PrivateDnsEnabled: true,
            CreationTimestamp: new Date('2026-12-01T05:00:00Z'),
            Tags: [{ Key: 'team', Value: 'net' }],
          },
        ],
        NextToken: 'p2',
      })
      .resolvesOnce({
        VpcEndpoints: [{ VpcEndpointId: 'vpce-02', ServiceName: SECRETS, State: 'Pending' }],
      });

    // Act
    const found = await port().list([SECRETS]);

    // Assert
    expect(found).toEqual([
      {
        id: 'vpce-01',
        serviceName: SECRETS,
        state: 'available',
        privateDns: true,
        createdAt: '2026-12-01T05:00:00.000Z',
        tags: { team: 'net' },
      },
      { id: 'vpce-02', serviceName: SECRETS, state: 'pending', privateDns: false, tags: {} },
    ]);
    expect(ec2).toReceiveCommandWith(DescribeVpcEndpointsCommand, {
      Filters: [
        { Name: 'vpc-id', Values: [VPC] },
        { Name: 'service-name', Values: [SECRETS] },
        { Name: 'vpc-endpoint-type', Values: ['Interface'] },
      ],
    });
    expect(ec2).toReceiveCommandWith(DescribeVpcEndpointsCommand, { NextToken: 'p2' });
  });

  it('creates an interface endpoint with private DNS, the verifiers-only policy, the token and tags on create', async () => {
    // Prepare
    ec2.on(CreateVpcEndpointCommand).resolves({
      VpcEndpoint: {
        VpcEndpointId: 'vpce-0new',
        ServiceName: SECRETS,
        State: 'Pending',
        PrivateDnsEnabled: true,
      },
    });

    // Act
    const r = await port().create(request);

    // Assert
    expect(r).toEqual({
      created: { id: 'vpce-0new', serviceName: SECRETS, state: 'pending', privateDns: true, tags: {} },
    });
    const sent = ec2.commandCalls(CreateVpcEndpointCommand)[0]!.args[0].input;
    expect(sent).toMatchObject({
      VpcEndpointType: 'Interface',
      VpcId: VPC,
      ServiceName: SECRETS,
      SubnetIds: ['subnet-0a1', 'subnet-0b2'],
      SecurityGroupIds: ['sg-0secrets'],
      PrivateDnsEnabled: true,
      ClientToken: 'steward-0123456789abcdef',
      TagSpecifications: [
        {
          ResourceType: 'vpc-endpoint',
          Tags: [
            { Key: 'steward:created-by', Value: 'drill' },
            { Key: 'steward:drill', Value: 'drill-1' },
            { Key: 'steward:drill-endpoint', Value: 'secretsmanager' },
            { Key: 'steward:managed', Value: 'true' },
          ],
        },
      ],
    });
    expect(JSON.parse(sent.PolicyDocument!)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'VerifierReadsSecretsOnly',
          Effect: 'Allow',
          Principal: { AWS: ['arn:aws:iam::111122223333:role/verifier'] },
          Action: 'secretsmanager:GetSecretValue',
          Resource: '*',
        },
      ],
    });
  });

  it('answers conflict when EC2 refuses the create and the VPC has a private-DNS endpoint for the service', async () => {
    // Prepare: the refusal's text is not documented by AWS (this is the wording commonly reported); the adapter
    // asks the VPC instead, where a private-DNS endpoint for the service (here one being deleted) holds the name.
    const message =
      'private-dns-enabled cannot be set because there is already a conflicting DNS domain for secretsmanager.eu-west-1.amazonaws.com in the VPC vpc-0drill1234';
    ec2.on(CreateVpcEndpointCommand).rejects(Object.assign(new Error(message), { name: 'InvalidParameter' }));
    ec2.on(DescribeVpcEndpointsCommand).resolves({
      VpcEndpoints: [
        { VpcEndpointId: 'vpce-0nodns', ServiceName: SECRETS, State: 'Available', PrivateDnsEnabled: false },
        { VpcEndpointId: 'vpce-0old', ServiceName: SECRETS, State: 'Deleting', PrivateDnsEnabled: true },
      ],
    });

    // Act
    const r = await port().create(request);

    // Assert
    expect(r).toEqual({
      conflict: `the VPC already has an endpoint with private DNS for ${SECRETS} (vpce-0old deleting); EC2 said: ${message}`,
    });
    expect(ec2).toReceiveCommandWith(DescribeVpcEndpointsCommand, {
      Filters: expect.arrayContaining([{ Name: 'service-name', Values: [SECRETS] }]),
    });
  });

  it('does not trust the wording: the same refusal with no private-DNS endpoint in the VPC is a fault', async () => {
    // Prepare: e.g. a private hosted zone of the same name the team associated with the VPC by hand.
    const message =
      'private-dns-enabled cannot be set because there is already a conflicting DNS domain for secretsmanager.eu-west-1.amazonaws.com in the VPC vpc-0drill1234';
    ec2.on(CreateVpcEndpointCommand).rejects(Object.assign(new Error(message), { name: 'InvalidParameter' }));
    ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });

    // Act
    const e = await port()
      .create(request)
      .catch((x: unknown) => x);

    // Assert
    expect(e).toBeInstanceOf(AwsCallError);
    expect(String((e as Error).message)).toContain('conflicting DNS domain');
  });

  it('throws AwsCallError naming the service for any other refusal (quota, IAM, another bad parameter)', async () => {
    ec2
      .on(CreateVpcEndpointCommand)
      .rejectsOnce(Object.assign(new Error('too many'), { name: 'VpcEndpointLimitExceeded' }))
      .rejectsOnce(
        Object.assign(new Error('subnet in no zone of the service'), { name: 'InvalidParameter' }),
      );
    ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });

    await expect(port().create(request)).rejects.toThrow(AwsCallError);
    await expect(port().create(request)).rejects.toThrow(/CreateVpcEndpoint failed for com\.amazonaws/);
  });

  it('deletes a drill endpoint; one already gone is already-gone', async () => {
    // Prepare
    ec2
      .on(DeleteVpcEndpointsCommand)
      .resolvesOnce({ Unsuccessful: [] })
      .resolvesOnce({
        Unsuccessful: [
          {
            ResourceId: 'vpce-01',
            Error: { Code: 'InvalidVpcEndpointId.NotFound', Message: 'does not exist' },
          },
        ],
      });

    // Act / Assert
    expect(await port().remove({ id: 'vpce-01', tags: ours })).toBe('deleted');
    expect(await port().remove({ id: 'vpce-01', tags: ours })).toBe('already-gone');
    expect(ec2).toReceiveCommandWith(DeleteVpcEndpointsCommand, { VpcEndpointIds: ['vpce-01'] });
  });

  it('throws when EC2 answers the delete unsuccessful for another reason, or refuses it', async () => {
    ec2
      .on(DeleteVpcEndpointsCommand)
      .resolvesOnce({
        Unsuccessful: [{ ResourceId: 'vpce-01', Error: { Code: 'OperationNotPermitted', Message: 'no' } }],
      })
      .rejectsOnce(Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation' }));

    await expect(port().remove({ id: 'vpce-01', tags: ours })).rejects.toThrow(/OperationNotPermitted/);
    await expect(port().remove({ id: 'vpce-01', tags: ours })).rejects.toThrow(/UnauthorizedOperation/);
  });

  it('refuses to delete an endpoint a steward drill did not create, without calling EC2', async () => {
    await expect(port().remove({ id: 'vpce-0theirs', tags: { team: 'net' } })).rejects.toThrow(
      GuardRefusedError,
    );
    await expect(port().remove({ id: 'vpce-0half', tags: { 'steward:managed': 'true' } })).rejects.toThrow(
      GuardRefusedError,
    );
    expect(ec2.commandCalls(DeleteVpcEndpointsCommand)).toHaveLength(0);
  });
});

describe('sfnRunningDrills', () => {
  beforeEach(() => sfn.reset());

  it('lists the names of the state machine’s RUNNING executions, every page', async () => {
    // Prepare
    const exec = (name: string) => ({
      executionArn: `${MACHINE.replace('stateMachine', 'execution')}:${name}`,
      stateMachineArn: MACHINE,
      name,
      status: 'RUNNING' as const,
      startDate: new Date(0),
    });
    sfn
      .on(ListExecutionsCommand)
      .resolvesOnce({ executions: [exec('monthly-a')], nextToken: 't2' })
      .resolvesOnce({ executions: [exec('monthly-b')] });

    // Act
    const names = await sfnRunningDrills(new SFNClient({ region: 'eu-west-1' }), MACHINE).running();

    // Assert
    expect(names).toEqual(['monthly-a', 'monthly-b']);
    expect(sfn).toReceiveCommandWith(ListExecutionsCommand, {
      stateMachineArn: MACHINE,
      statusFilter: 'RUNNING',
    });
    expect(sfn).toReceiveCommandWith(ListExecutionsCommand, { nextToken: 't2' });
  });
});
