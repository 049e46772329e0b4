import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackId, StewardStack } from '../../infra/stack.js';
import { AL2023_ARM64_PARAMETER } from '../../shared/aws/ebs-verifier.js';
import { parseConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import { verifierTags } from '../../shared/drill/ebs-verifier.js';
import { endpointTags } from '../../shared/drill/endpoints.js';
import { Tag } from '../../shared/tags.js';
import { exampleInput } from '../support/examples.js';
import { unbundledContext } from '../infra/iam.js';
import { lintPolicy } from './lint.js';
import { type IamRequest, requestTags, resourceTags } from './requests.js';
import { simulate } from './simulate.js';
import { rolesOf, type RoleUnderTest } from './template.js';

// The drill function's role of a stage whose instance is drilled from its DR copies and verified there
// (infra/drill.ts grantDrEbsVerifier, per-drill endpoints in the DR region), simulated as synthesized, with
// its guards (OnlyConfiguredRegions): every request the verifier and the DR endpoint steps make in dr.region is
// allowed, on the DR stack's network only (its steward:drill-network tag), and nothing in a third region,
// another network, another role, document or service.
const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const DR = 'us-west-2';
const ELSEWHERE = 'ap-southeast-2';
const INSTANCE = 'i-0abc1234def567890';

let role: RoleUnderTest;
beforeAll(() => {
  const app = new App({ context: unbundledContext });
  const config = parseConfig(
    {
      ...exampleInput('prod'),
      account: ACCOUNT,
      region: REGION,
      drill: {
        ...exampleInput('prod').drill,
        volumes: {
          [INSTANCE]: { from: 'dr', verify: { command: 'fsck -n /dev/sdf1', instanceType: 'm7g.large' } },
        },
      },
    } as StewardConfigInput,
    'test',
  );
  const stack = new StewardStack(app, stackId('prod'), { config });
  const template = app.synth().getStackByName(stack.stackName).template as Parameters<typeof rolesOf>[0];
  role = [...rolesOf(template, 'prod', ACCOUNT, REGION).values()].find((r) =>
    r.logicalId.startsWith('DrillFunction'),
  )!;
});

const decide = async (r: IamRequest) => (await simulate(role.arn, role.policy, r, ACCOUNT, DR)).decision;
const req = (
  action: string,
  resource: string,
  context: IamRequest['context'],
  label: string,
): IamRequest => ({
  action,
  resource,
  context,
  label,
});
const ec2 = (type: string, id: string, region = DR) => `arn:aws:ec2:${region}:${ACCOUNT}:${type}/${id}`;
const NETWORK = { 'steward:drill-network': 'prod' };
const TAGS = verifierTags('monthly-mongo-202602010500');
const { [Tag.drill]: _drill, ...ROOT_TAGS } = TAGS;
const VERIFIER = { [Tag.kind]: 'ebs-verifier', [Tag.managed]: 'true', [Tag.drill]: 'x' };
const DRILL_VOLUME = { [Tag.managed]: 'true', [Tag.drill]: 'x' };

/** What one verification and its endpoints ask for in `region` (the DR region unless told). */
const requests = (region = DR) => {
  const net = (type: string, id: string) => {
    const arn = ec2(type, id, region);
    return { arn, context: resourceTags(arn, NETWORK) };
  };
  const subnet = net('subnet', 'subnet-0dr1');
  const group = net('security-group', 'sg-0verifier');
  const vpc = net('vpc', 'vpc-0dr');
  const endpointGroup = net('security-group', 'sg-0endpoints');
  const instance = { ...requestTags(TAGS), 'ec2:InstanceType': 'm7g.large' };
  const instanceArn = ec2('instance', 'i-0verifier', region);
  const volumeArn = ec2('volume', 'vol-0drill', region);
  const service = `com.amazonaws.${region}.ssm`;
  const endpoint = { ...requestTags(endpointTags('ssm', 'x')), 'ec2:VpceServiceName': service };
  const existing = ec2('vpc-endpoint', 'vpce-0ssm', region);
  return {
    image: req(
      'ec2:RunInstances',
      `arn:aws:ec2:${region}::image/ami-0a1b2c3d`,
      { 'ec2:Owner': 'amazon' },
      'RunInstances (Amazon image)',
    ),
    subnet: req('ec2:RunInstances', subnet.arn, subnet.context, 'RunInstances (DR subnet)'),
    group: req('ec2:RunInstances', group.arn, group.context, 'RunInstances (verifier group)'),
    nic: req('ec2:RunInstances', ec2('network-interface', '*', region), {}, 'RunInstances (new interface)'),
    instance: req('ec2:RunInstances', ec2('instance', '*', region), instance, 'RunInstances (new instance)'),
    rootVolume: req(
      'ec2:RunInstances',
      ec2('volume', '*', region),
      requestTags(ROOT_TAGS),
      'RunInstances (root volume)',
    ),
    tagOnLaunch: req(
      'ec2:CreateTags',
      ec2('instance', '*', region),
      { ...instance, 'ec2:CreateAction': 'RunInstances' },
      'CreateTags on launch',
    ),
    pass: req(
      'iam:PassRole',
      `arn:aws:iam::${ACCOUNT}:role/steward-prod-ebs-verifier-${DR}`,
      { 'iam:PassedToService': 'ec2.amazonaws.com', 'aws:RequestedRegion': region },
      'PassRole (DR verifier role)',
    ),
    registered: req(
      'ssm:DescribeInstanceInformation',
      '*',
      { 'aws:RequestedRegion': region },
      'DescribeInstanceInformation',
    ),
    describe: req('ec2:DescribeInstances', '*', { 'aws:RequestedRegion': region }, 'DescribeInstances'),
    attachInstance: req(
      'ec2:AttachVolume',
      instanceArn,
      resourceTags(instanceArn, VERIFIER),
      'AttachVolume (verifier)',
    ),
    attachVolume: req(
      'ec2:AttachVolume',
      volumeArn,
      resourceTags(volumeArn, DRILL_VOLUME),
      'AttachVolume (drill volume)',
    ),
    detachVolume: req(
      'ec2:DetachVolume',
      volumeArn,
      resourceTags(volumeArn, DRILL_VOLUME),
      'DetachVolume (drill volume)',
    ),
    document: req(
      'ssm:SendCommand',
      `arn:aws:ssm:${region}:${ACCOUNT}:document/steward-prod-consistency`,
      {},
      'SendCommand (document)',
    ),
    onVerifier: req(
      'ssm:SendCommand',
      instanceArn,
      { [`ssm:resourceTag/${Tag.kind}`]: 'ebs-verifier' },
      'SendCommand (verifier)',
    ),
    results: req('ssm:GetCommandInvocation', '*', { 'aws:RequestedRegion': region }, 'GetCommandInvocation'),
    terminate: req(
      'ec2:TerminateInstances',
      instanceArn,
      resourceTags(instanceArn, VERIFIER),
      'TerminateInstances',
    ),
    network: req(
      'ssm:GetParameter',
      `arn:aws:ssm:${region}:${ACCOUNT}:parameter/steward/prod/drill/dr-ebs-verifier`,
      {},
      'GetParameter (DR verifier network)',
    ),
    createEndpoint: req(
      'ec2:CreateVpcEndpoint',
      ec2('vpc-endpoint', '*', region),
      endpoint,
      'CreateVpcEndpoint (new)',
    ),
    endpointVpc: req('ec2:CreateVpcEndpoint', vpc.arn, vpc.context, 'CreateVpcEndpoint (DR VPC)'),
    endpointSubnet: req('ec2:CreateVpcEndpoint', subnet.arn, subnet.context, 'CreateVpcEndpoint (DR subnet)'),
    endpointGroup: req(
      'ec2:CreateVpcEndpoint',
      endpointGroup.arn,
      endpointGroup.context,
      'CreateVpcEndpoint (endpoint group)',
    ),
    tagEndpoint: req(
      'ec2:CreateTags',
      ec2('vpc-endpoint', '*', region),
      { ...endpoint, 'ec2:CreateAction': 'CreateVpcEndpoint' },
      'CreateTags on endpoint create',
    ),
    listEndpoints: req(
      'ec2:DescribeVpcEndpoints',
      '*',
      { 'aws:RequestedRegion': region },
      'DescribeVpcEndpoints',
    ),
    deleteEndpoint: req(
      'ec2:DeleteVpcEndpoints',
      existing,
      { ...resourceTags(existing, endpointTags('ssm', 'x')), 'ec2:VpceServiceName': service },
      'DeleteVpcEndpoints',
    ),
  };
};

describe('EBS verifier IAM in the DR region (a verifying drill from the DR copies)', () => {
  it('allows every request a verification and its endpoints make in the DR region', async () => {
    const all = Object.values(requests());
    // AWS's public parameter ARN (no account) is refused by the simulator's pattern: checked as written.
    for (const r of all) expect(await decide(r), r.label).toBe('Allowed');
    const parameter = role.policy.Statement.find((s) => s.Sid === 'ResolveLatestAmazonLinuxInDr');
    expect(parameter).toMatchObject({
      Action: 'ssm:GetParameters',
      Resource: `arn:aws:ssm:${DR}::parameter${AL2023_ARM64_PARAMETER}`,
    });
  });

  it('denies every one of them in a third region', async () => {
    for (const r of Object.values(requests(ELSEWHERE)))
      expect(
        await decide({ ...r, context: { ...r.context, 'aws:RequestedRegion': ELSEWHERE } }),
        r.label,
      ).not.toBe('Allowed');
  });

  it('denies launching into, or creating endpoints in, a subnet, group or VPC without the DR network’s tag', async () => {
    const r = requests();
    for (const x of [r.subnet, r.group, r.endpointVpc, r.endpointSubnet, r.endpointGroup]) {
      expect(await decide({ ...x, context: {} }), `${x.label} untagged`).not.toBe('Allowed');
      expect(
        await decide({ ...x, context: resourceTags(x.resource, { 'steward:drill-network': 'staging' }) }),
        `${x.label} of another stage`,
      ).not.toBe('Allowed');
    }
  });

  it('denies another role, another document, another instance type, another service and another parameter', async () => {
    const r = requests();
    expect(await decide({ ...r.pass, resource: `arn:aws:iam::${ACCOUNT}:role/admin` })).not.toBe('Allowed');
    expect(
      await decide({ ...r.document, resource: `arn:aws:ssm:${DR}:${ACCOUNT}:document/AWS-RunShellScript` }),
    ).not.toBe('Allowed');
    expect(
      await decide({ ...r.instance, context: { ...r.instance.context, 'ec2:InstanceType': 'p5.48xlarge' } }),
    ).not.toBe('Allowed');
    expect(
      await decide({
        ...r.createEndpoint,
        context: { ...r.createEndpoint.context, 'ec2:VpceServiceName': `com.amazonaws.${DR}.secretsmanager` },
      }),
    ).not.toBe('Allowed');
    expect(
      await decide({ ...r.network, resource: `arn:aws:ssm:${DR}:${ACCOUNT}:parameter/steward/prod/other` }),
    ).not.toBe('Allowed');
    expect(
      await decide({ ...r.terminate, context: resourceTags(r.terminate.resource, DRILL_VOLUME) }),
    ).not.toBe('Allowed');
    expect(
      await decide({ ...r.deleteEndpoint, context: { 'ec2:VpceServiceName': `com.amazonaws.${DR}.ssm` } }),
    ).not.toBe('Allowed');
  });

  it('has statements that mean what they say by the Service Authorization Reference', async () => {
    expect(await lintPolicy(role.policy)).toEqual([]);
  });
});
