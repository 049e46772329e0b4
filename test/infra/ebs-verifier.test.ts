import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { allowEbsVerifier, EbsVerifierNetwork } from '../../infra/ebs-verifier.js';
import { acknowledge } from '../../infra/nag.js';
import { allowOn, denyOn } from '../../infra/permission.js';
import { allowing, unconditionedWildcardWrites } from './iam.js';

// The verifier's network and grants as synthesized, in a stack of their own with a drill-like VPC (isolated
// subnets, no route out): the drill construct deploys them once a drill target configures a verifier.
let app: App;
let t: Template;

beforeAll(() => {
  app = new App();
  const stack = new Stack(app, 'Verifier', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = new Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    createInternetGateway: false,
    subnetConfiguration: [{ name: 'Isolated', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    restrictDefaultSecurityGroup: false,
  });
  acknowledge(
    vpc,
    'AwsSolutions-VPC7',
    'A stand-in for the drill VPC, whose own construct deploys its flow log.',
  );
  const network = new EbsVerifierNetwork(stack, 'EbsVerifier', {
    stage: 'prod',
    vpc,
    subnets: { subnetType: SubnetType.PRIVATE_ISOLATED },
  });
  const role = new Role(stack, 'Drill', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
  allowEbsVerifier({ allow: (p) => allowOn(role, p), deny: (p) => denyOn(role, p) }, stack, {
    region: 'eu-west-1',
    network,
    documentArn: 'arn:aws:ssm:eu-west-1:123456789012:document/steward-prod-consistency',
    instanceTypes: ['t4g.small', 'm7g.large', 't4g.small'],
  });
  t = Template.fromStack(stack);
});

describe('EBS verifier network', () => {
  it('has the three Systems Manager endpoints, private DNS, in one subnet only (each zone more is billed)', () => {
    const endpoints = t.findResources('AWS::EC2::VPCEndpoint');
    const services = Object.values(endpoints).map((e) => JSON.stringify(e.Properties.ServiceName));
    expect(services.map((s) => s.match(/\.(ssm|ec2messages|ssmmessages)"/)?.[1]).sort()).toEqual([
      'ec2messages',
      'ssm',
      'ssmmessages',
    ]);
    for (const e of Object.values(endpoints)) {
      expect(e.Properties.PrivateDnsEnabled).toBe(true);
      expect(e.Properties.SubnetIds).toHaveLength(1);
      expect(e.Properties.VpcEndpointType).toBe('Interface');
    }
  });

  it('lets the instance out to the endpoints on 443 only, and nothing in', () => {
    const groups = t.findResources('AWS::EC2::SecurityGroup');
    const instance = Object.entries(groups).find(([id]) => id.includes('InstanceSecurityGroup'))!;
    expect(instance[1].Properties.SecurityGroupIngress).toBeUndefined();
    t.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    t.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': [instance[0], 'GroupId'] },
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
    });
    t.resourceCountIs('AWS::EC2::SecurityGroupEgress', 1);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 443, ToPort: 443 });
  });

  it("gives the instance the agent's Run Command permissions and nothing else, trusted by this account's EC2", () => {
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'ec2.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          }),
        ],
      },
      ManagedPolicyArns: Match.absent(),
    });
    t.resourceCountIs('AWS::IAM::InstanceProfile', 1);
    const instancePolicies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes('InstanceRole'),
    );
    expect(instancePolicies).toHaveLength(1);
    const statements = instancePolicies[0]!.Properties.PolicyDocument.Statement as { Action: string[] }[];
    expect(statements.flatMap((s) => s.Action).every((a) => /^(ssm|ec2messages|ssmmessages):/.test(a))).toBe(
      true,
    );
    expect(statements.flatMap((s) => s.Action)).not.toContain('ssm:GetParameter');
  });
});

describe('EBS verifier grants', () => {
  it('launches only tagged verifiers of the configured types, from Amazon images, into the drill subnets', () => {
    const runs = allowing(t, 'ec2:RunInstances');
    expect(runs.map((s) => s.Sid).sort()).toEqual([
      'LaunchVerifierFromAmazonImages',
      'LaunchVerifierIntoDrillNetwork',
      'LaunchVerifierRootVolumeTagged',
      'LaunchVerifierTagged',
    ]);
    expect(runs.find((s) => s.Sid === 'LaunchVerifierTagged')!.Condition).toEqual({
      StringEquals: {
        'aws:RequestTag/steward:kind': 'ebs-verifier',
        'aws:RequestTag/steward:managed': 'true',
        'ec2:InstanceType': ['t4g.small', 'm7g.large'],
      },
      Null: { 'aws:RequestTag/steward:drill': 'false' },
    });
    expect(runs.find((s) => s.Sid === 'LaunchVerifierFromAmazonImages')!.Condition).toEqual({
      StringEquals: { 'ec2:Owner': 'amazon' },
    });
    const network = JSON.stringify(runs.find((s) => s.Sid === 'LaunchVerifierIntoDrillNetwork')!.Resource);
    expect(network.match(/:subnet\//g)).toHaveLength(2);
    expect(network).toContain(':security-group/');
  });

  it('passes only the verifier role, only to EC2', () => {
    const [pass, ...more] = allowing(t, 'iam:PassRole');
    expect(more).toEqual([]);
    expect(pass!.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
    expect(JSON.stringify(pass!.Resource)).toContain('InstanceRole');
  });

  it("runs only steward's document, only on verifiers; terminates and attaches only what carries the tags", () => {
    const sends = allowing(t, 'ssm:SendCommand');
    expect(sends.map((s) => [s.Sid, s.Condition])).toEqual([
      ['RunCheckDocument', undefined],
      ['RunCheckOnVerifiers', { StringEquals: { 'ssm:resourceTag/steward:kind': 'ebs-verifier' } }],
    ]);
    expect(sends[0]!.Resource).toBe('arn:aws:ssm:eu-west-1:123456789012:document/steward-prod-consistency');
    const [terminate] = allowing(t, 'ec2:TerminateInstances');
    expect(terminate!.Condition).toEqual({
      StringEquals: {
        'aws:ResourceTag/steward:kind': 'ebs-verifier',
        'aws:ResourceTag/steward:managed': 'true',
      },
    });
    expect(allowing(t, 'ec2:AttachVolume').map((s) => s.Sid)).toEqual([
      'AttachDrillVolumesToVerifiers',
      'AttachOnlyDrillVolumes',
    ]);
    expect(unconditionedWildcardWrites(t)).toEqual([]);
  });

  it('passes cdk-nag with a reason on every acknowledgement', () => {
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(
      report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
  });
});
