import { App, Stack } from 'aws-cdk-lib';
import { SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { allowEbsVerifier, EbsVerifierNetwork } from '../../infra/ebs-verifier.js';
import { allowOn, denyOn } from '../../infra/permission.js';
import { AL2023_ARM64_PARAMETER } from '../../shared/aws/ebs-verifier.js';
import { parseConfig } from '../../shared/config/schema.js';
import { verifierTags } from '../../shared/drill/ebs-verifier.js';
import { Tag, tagList } from '../../shared/tags.js';
import type { RecordedCall } from '../support/sdk-recorder.js';
import { lintPolicy } from './lint.js';
import { binderFor, type IamRequest, requestTags, resourceTags } from './requests.js';
import { simulate } from './simulate.js';
import { type Deployment, rolesOf, type RoleUnderTest } from './template.js';

// The EBS verifier's grants (infra/ebs-verifier.ts) on a role of their own, simulated with the requests the
// adapter (shared/aws/ebs-verifier.ts) and the check (the steward document through SendCommand) make: the
// refusals (other images, subnets, types, untagged instances) in detail. The drill function's role holds the
// same grants when a drill.volumes target configures `verify` (test/iam/suite.ts attributes the calls).
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
let role: RoleUnderTest;
let d: Deployment;
let subnetId: string;
let securityGroupId: string;
let instanceRole: string;

const call = (client: string, command: string, input: Record<string, unknown>): RecordedCall => ({
  client,
  command,
  input,
  region: REGION,
  frames: ['shared/aws/ebs-verifier.ts:launch'],
  test: 'test/iam/ebs-verifier.test.ts',
  mocked: true,
});
const TAGS = verifierTags('monthly-mongo-202602010500');
const { [Tag.drill]: _drill, ...ROOT_TAGS } = TAGS;
const launch = (over: Record<string, unknown> = {}) =>
  call('EC2Client', 'RunInstances', {
    ImageId: `resolve:ssm:${AL2023_ARM64_PARAMETER}`,
    InstanceType: 't4g.small',
    MinCount: 1,
    MaxCount: 1,
    IamInstanceProfile: { Arn: `arn:aws:iam::${ACCOUNT}:instance-profile/${instanceRole}` },
    NetworkInterfaces: [
      { DeviceIndex: 0, SubnetId: subnetId, Groups: [securityGroupId], AssociatePublicIpAddress: false },
    ],
    TagSpecifications: [
      { ResourceType: 'instance', Tags: tagList(TAGS) },
      { ResourceType: 'volume', Tags: tagList(ROOT_TAGS) },
    ],
    ...over,
  });

beforeAll(() => {
  const app = new App();
  const stack = new Stack(app, 'EbsVerifier', { env: { account: ACCOUNT, region: REGION } });
  const vpc = new Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    createInternetGateway: false,
    subnetConfiguration: [{ name: 'Isolated', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    restrictDefaultSecurityGroup: false,
  });
  const network = new EbsVerifierNetwork(stack, 'Verifier', {
    stage: 'x',
    vpc,
    subnets: { subnetType: SubnetType.PRIVATE_ISOLATED },
  });
  const r = new Role(stack, 'Drill', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
  allowEbsVerifier({ allow: (p) => allowOn(r, p), deny: (p) => denyOn(r, p) }, stack, {
    region: REGION,
    network,
    documentArn: `arn:aws:ssm:${REGION}:${ACCOUNT}:document/steward-x-consistency`,
    instanceTypes: ['t4g.small'],
  });
  const template = app.synth().getStackByName('EbsVerifier').template as Parameters<typeof rolesOf>[0];
  const roles = [...rolesOf(template, 'x', ACCOUNT, REGION).values()];
  role = roles.find((x) => x.logicalId.startsWith('Drill'))!;
  instanceRole = roles
    .find((x) => x.logicalId.includes('InstanceRole'))!
    .arn.split('/')
    .pop()!;
  // The drill subnets and the verifier group as the template names them (the resolver's stand-in ids).
  const resources = template.Resources;
  const logical = (type: string, part: string) =>
    Object.keys(resources)
      .find((id) => resources[id]!.Type === type && id.includes(part))!
      .toLowerCase();
  subnetId = `subnet-${logical('AWS::EC2::Subnet', 'IsolatedSubnet1')}`;
  securityGroupId = `sg-${logical('AWS::EC2::SecurityGroup', 'InstanceSecurityGroup')}`;
  d = {
    name: 'ebs-verifier',
    // A stage with an EBS drill target: the drill role's EC2 reads are bound only then.
    config: parseConfig(
      { stage: 'x', region: REGION, drill: { enabled: true, volumes: { 'i-0123456789abcdef0': {} } } },
      'test',
    ),
    account: ACCOUNT,
    region: REGION,
    partition: 'aws',
  } as Deployment;
});

const decide = async (r: IamRequest) => (await simulate(role.arn, role.policy, r, ACCOUNT, REGION)).decision;
const bound = (c: RecordedCall) => binderFor(c)!(c, d, 'drill');

describe('EBS verifier IAM', () => {
  it('allows every request a verification makes: launch, watch, attach, check, detach, terminate', async () => {
    const requests = [
      ...bound(launch()),
      ...bound(
        call('SSMClient', 'DescribeInstanceInformation', {
          Filters: [{ Key: 'InstanceIds', Values: ['i-1'] }],
        }),
      ),
      ...bound(
        call('EC2Client', 'AttachVolume', { VolumeId: 'vol-1', InstanceId: 'i-1', Device: '/dev/sdf' }),
      ),
      ...bound(call('EC2Client', 'DescribeVolumes', { VolumeIds: ['vol-1'] })),
      ...bound(
        call('SSMClient', 'SendCommand', {
          DocumentName: 'steward-x-consistency',
          InstanceIds: ['i-0123456789abcdef0'],
        }),
      ),
      ...bound(call('SSMClient', 'GetCommandInvocation', { CommandId: 'c', InstanceId: 'i-1' })),
      ...bound(call('EC2Client', 'DescribeInstances', { InstanceIds: ['i-1'] })),
      ...bound(call('EC2Client', 'TerminateInstances', { InstanceIds: ['i-0123456789abcdef0'] })),
      ...bound(call('EC2Client', 'DetachVolume', { VolumeId: 'vol-1', InstanceId: 'i-1', Force: true })),
    ];
    expect(requests).toHaveLength(21);
    // AWS's public parameters have ARNs without an account (arn:aws:ssm:<region>::parameter/aws/service/…),
    // which the simulator's resource pattern for ssm:GetParameters does not accept: that one is checked
    // against the statement's resource as written instead.
    const isPublicParameter = (r: IamRequest) => r.action === 'ssm:GetParameters';
    for (const r of requests.filter((x) => !isPublicParameter(x)))
      expect(await decide(r), r.label).toBe('Allowed');
    const parameter = requests.find(isPublicParameter)!;
    expect(parameter.resource).toBe(`arn:aws:ssm:${REGION}::parameter${AL2023_ARM64_PARAMETER}`);
    const granted = role.policy.Statement.find((s) => s.Sid === 'ResolveLatestAmazonLinux')!;
    expect(granted).toMatchObject({
      Effect: 'Allow',
      Action: 'ssm:GetParameters',
      Resource: parameter.resource,
    });
  });

  it('denies a launch of another type, untagged, from a non-Amazon image, outside the drill network, or passing another role', async () => {
    const [image, subnet, group, , instance, volume] = bound(launch());
    expect(await decide({ ...image!, context: { 'ec2:Owner': '111122223333' } })).not.toBe('Allowed');
    expect(
      await decide({ ...subnet!, resource: subnet!.resource.replace(subnetId, 'subnet-0app') }),
    ).not.toBe('Allowed');
    expect(
      await decide({ ...group!, resource: group!.resource.replace(securityGroupId, 'sg-0open') }),
    ).not.toBe('Allowed');
    expect(
      await decide({ ...instance!, context: { ...instance!.context, 'ec2:InstanceType': 'p5.48xlarge' } }),
    ).not.toBe('Allowed');
    const { [`aws:RequestTag/${Tag.drill}`]: _, ...noDrill } = instance!.context;
    expect(await decide({ ...instance!, context: noDrill })).not.toBe('Allowed');
    expect(await decide({ ...volume!, context: requestTags({}) })).not.toBe('Allowed');
    const pass = bound(launch()).find((r) => r.action === 'iam:PassRole')!;
    expect(await decide(pass)).toBe('Allowed');
    expect(await decide({ ...pass, resource: pass.resource.replace(instanceRole, 'admin') })).not.toBe(
      'Allowed',
    );
    expect(await decide({ ...pass, context: { 'iam:PassedToService': 'lambda.amazonaws.com' } })).not.toBe(
      'Allowed',
    );
  });

  it("denies terminating, attaching to or running commands on an instance that is not a verifier, and attaching a volume that is not a drill's", async () => {
    const app = { [Tag.drill]: 'x', [Tag.managed]: 'true' };
    const [terminate] = bound(call('EC2Client', 'TerminateInstances', { InstanceIds: ['i-0app'] }));
    expect(await decide({ ...terminate!, context: resourceTags(terminate!.resource, app) })).not.toBe(
      'Allowed',
    );
    const [onInstance, onVolume] = bound(
      call('EC2Client', 'AttachVolume', { VolumeId: 'vol-0app', InstanceId: 'i-0app' }),
    );
    expect(await decide({ ...onInstance!, context: resourceTags(onInstance!.resource, app) })).not.toBe(
      'Allowed',
    );
    expect(
      await decide({ ...onVolume!, context: resourceTags(onVolume!.resource, { [Tag.managed]: 'true' }) }),
    ).not.toBe('Allowed');
    const [, send] = bound(call('SSMClient', 'SendCommand', { InstanceIds: ['i-0app'] }));
    expect(await decide({ ...send!, context: { [`ssm:resourceTag/${Tag.backup}`]: 'daily' } })).not.toBe(
      'Allowed',
    );
    expect(
      await decide({
        action: 'ssm:SendCommand',
        resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:document/AWS-RunShellScript`,
        context: {},
        label: 'AWS-RunShellScript',
      }),
    ).not.toBe('Allowed');
  });

  it('never tags an existing instance or volume', async () => {
    const tags = bound(launch()).filter((r) => r.action === 'ec2:CreateTags');
    expect(tags).toHaveLength(2);
    for (const t of tags) {
      const { 'ec2:CreateAction': _, ...noCreate } = t.context;
      expect(
        await decide({ ...t, resource: t.resource.replace('*', 'i-0123456789abcdef0'), context: noCreate }),
      ).not.toBe('Allowed');
    }
  });

  it('has statements that mean what they say by the Service Authorization Reference', async () => {
    expect(await lintPolicy(role.policy)).toEqual([]);
  });
});
