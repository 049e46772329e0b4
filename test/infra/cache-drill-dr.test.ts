import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { drEventsStackId, DrEventsStack } from '../../infra/dr-events.js';
import { stackId, StewardStack } from '../../infra/stack.js';
import { parseConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import { exampleInput } from '../support/examples.js';
import { list, statements, unbundledContext } from './iam.js';

// The prod example (eu-west-1, Redis DR copies in us-west-2) with a cache drilled from its DR copy: the DR
// stack gets the drill network for caches and lets ElastiCache read the copies; the drill function may read
// that network's parameter and the copies' facts, in the DR region only.
const ACCOUNT = '111122223333';
const withCaches = (caches: Record<string, unknown>) =>
  parseConfig(
    {
      ...exampleInput('prod'),
      account: ACCOUNT,
      drill: { ...exampleInput('prod').drill, caches },
    } as StewardConfigInput,
    'test',
  );

const synth = (caches: Record<string, unknown>) => {
  const app = new App({ context: unbundledContext });
  const config = withCaches(caches);
  const stage = new StewardStack(app, stackId('prod'), { config });
  const dr = new DrEventsStack(app, drEventsStackId('prod'), { config });
  return { app, dr, primary: Template.fromStack(stage), drT: Template.fromStack(dr) };
};

let s: ReturnType<typeof synth>;
beforeAll(() => {
  s = synth({
    sessions: { auth: 'iam' },
    'rate-limits': { auth: 'iam', from: 'dr' },
  });
});

describe('the DR region’s drill network for caches', () => {
  it('builds an isolated, flow-logged VPC with the cache subnet group and a Redis rule from the verifier only', () => {
    const { drT } = s;
    drT.resourceCountIs('AWS::EC2::VPC', 1);
    drT.resourceCountIs('AWS::EC2::InternetGateway', 0);
    drT.resourceCountIs('AWS::EC2::NatGateway', 0);
    drT.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL' });
    drT.hasResourceProperties('AWS::ElastiCache::SubnetGroup', {
      CacheSubnetGroupName: 'steward-prod-drill',
    });
    drT.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 6379,
      ToPort: 6379,
      Description: 'Cache verifier to drill caches',
    });
    // auth: iam in the DR region: its own verifier user and user group (users are regional).
    drT.hasResourceProperties('AWS::ElastiCache::User', {
      UserId: 'steward-prod-drill-verifier',
      AuthenticationMode: { Type: 'iam' },
    });
    drT.hasResourceProperties('AWS::ElastiCache::UserGroup', { UserGroupId: 'steward-prod-drill' });
  });

  it('runs a cache verifier inside it that signs for the DR region, connects only to drill groups as steward’s user, and reads no secret', () => {
    const { drT } = s;
    drT.resourceCountIs('AWS::Lambda::Function', 1);
    drT.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'steward-prod-drill-verify-cache',
      Timeout: 870,
      VpcConfig: Match.objectLike({
        SecurityGroupIds: [
          { 'Fn::GetAtt': [Match.stringLikeRegexp('^DrillCacheVerifierSecurityGroup'), 'GroupId'] },
        ],
      }),
      Environment: {
        Variables: Match.objectLike({
          CACHE_VERIFIER_REGION: 'us-west-2',
          CRITICAL_TOPIC_ARN: `arn:aws:sns:eu-west-1:${ACCOUNT}:steward-prod-critical`,
        }),
      },
    });
    // Invoked only synchronously by the drill function: no failure queue, no topics, no endpoint.
    drT.resourceCountIs('AWS::SQS::Queue', 0);
    drT.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    const verifier = statements(drT).filter((x) => /DrillCacheVerifier/.test(x.policy));
    const actions = verifier.filter((x) => x.Effect === 'Allow').flatMap((x) => list(x.Action));
    expect(actions.filter((a) => !/^(logs|xray|ec2):/.test(a))).toEqual([
      'elasticache:Connect',
      'elasticache:Connect',
    ]);
    const bySid = Object.fromEntries(verifier.map((x) => [x.Sid, x]));
    expect(bySid.ConnectToDrillCaches).toMatchObject({
      Resource: `arn:aws:elasticache:us-west-2:${ACCOUNT}:replicationgroup:steward-drill-*`,
      Condition: { Null: { 'aws:ResourceTag/steward:drill': 'false' } },
    });
    expect(bySid.ConnectAsDrillVerifier).toMatchObject({
      Resource: `arn:aws:elasticache:us-west-2:${ACCOUNT}:user:steward-prod-drill-verifier`,
    });
  });

  it('publishes the network and the verifier as a JSON parameter the drill function reads', () => {
    const params = s.drT.findResources('AWS::SSM::Parameter');
    const [param] = Object.values(params);
    expect(param?.Properties.Name).toBe('/steward/prod/drill/dr-cache-network');
    expect(param?.Properties.Type).toBe('String');
    const ref = (id: string) => ({ Ref: Match.stringLikeRegexp(`^Drill${id}`) });
    s.drT.hasResourceProperties('AWS::SSM::Parameter', {
      Value: Match.objectEquals({
        'Fn::Join': [
          '',
          [
            '{"cacheSubnetGroupName":"',
            ref('CacheSubnetGroup'),
            '","securityGroupIds":["',
            { 'Fn::GetAtt': [Match.stringLikeRegexp('^DrillCacheSecurityGroup'), 'GroupId'] },
            '"],"userGroupId":"',
            ref('CacheUserGroup'),
            '","verifierFunctionArn":"',
            { 'Fn::GetAtt': [Match.stringLikeRegexp('^DrillCacheVerifierHandler'), 'Arn'] },
            '"}',
          ],
        ],
      }),
    });
  });

  it('lets ElastiCache in the DR region read the copies, for this account’s restores only', () => {
    s.drT.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'ElastiCacheReadsDrCopies',
            Effect: 'Allow',
            Principal: { Service: 'us-west-2.elasticache-snapshot.amazonaws.com' },
            Action: ['s3:GetBucketAcl', 's3:GetObject', 's3:ListBucket'],
            Resource: [
              { 'Fn::GetAtt': [Match.stringLikeRegexp('RedisDrBucket'), 'Arn'] },
              {
                'Fn::Join': [
                  '',
                  [{ 'Fn::GetAtt': [Match.stringLikeRegexp('RedisDrBucket'), 'Arn'] }, '/elasticache/*'],
                ],
              },
            ],
            Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
          }),
        ]),
      },
    });
  });

  it('passes cdk-nag', () => {
    const report = new AwsSolutionsChecks(s.app).validateScope(s.dr);
    expect(
      report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
  });
});

describe('the drill function’s grants for drills from the DR copy', () => {
  const drill = () => statements(s.primary).filter((x) => /DrillFunction/.test(x.policy));

  it('reads the DR network parameter and the copies’ facts, in the DR region and this account only', () => {
    const bySid = Object.fromEntries(drill().map((x) => [x.Sid, x]));
    expect(bySid.ReadDrCacheDrillNetwork).toMatchObject({
      Action: 'ssm:GetParameter',
      Resource: `arn:aws:ssm:us-west-2:${ACCOUNT}:parameter/steward/prod/drill/dr-cache-network`,
    });
    expect(bySid.ReadRedisDrCopies).toMatchObject({
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::steward-prod-rdb-dr-${ACCOUNT}-us-west-2/elasticache/*`,
      Condition: { StringEquals: { 's3:ResourceAccount': ACCOUNT } },
    });
    // Listed by each cache's own prefix under `elasticache/` (the backup function lists one snapshot's files).
    expect(bySid.ListRedisDrCopies).toMatchObject({
      Condition: {
        StringLike: { 's3:prefix': 'elasticache/*' },
        StringEquals: { 's3:ResourceAccount': ACCOUNT },
      },
    });
    // The relay to the DR verifier: that one function, and the drill function waits as long as it runs.
    expect(bySid.InvokeDrCacheVerifier).toMatchObject({
      Action: 'lambda:InvokeFunction',
      Resource: `arn:aws:lambda:us-west-2:${ACCOUNT}:function:steward-prod-drill-verify-cache`,
    });
    expect(
      drill()
        .filter((x) => /DrillFunctionRole/.test(x.policy) && x.Effect === 'Allow')
        .filter((x) => list(x.Action).some((a) => a.startsWith('lambda:')))
        .map((x) => x.Sid),
    ).toEqual(['InvokeDrCacheVerifier']);
    s.primary.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'steward-prod-drill',
      Timeout: 900,
    });
    s.primary.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'steward-prod-drill',
      Environment: {
        Variables: Match.objectLike({ REDIS_DR_BUCKET: `steward-prod-rdb-dr-${ACCOUNT}-us-west-2` }),
      },
    });
  });
});

describe('a stage that drills no cache from its DR copy', () => {
  it('gets no DR drill network, no ElastiCache read of the copies and no drill grants on them', () => {
    const plain = synth({ sessions: { auth: 'iam' } });
    plain.drT.resourceCountIs('AWS::EC2::VPC', 0);
    plain.drT.resourceCountIs('AWS::SSM::Parameter', 0);
    plain.drT.resourceCountIs('AWS::Lambda::Function', 0);
    expect(JSON.stringify(plain.drT.toJSON())).not.toContain('ElastiCacheReadsDrCopies');
    expect(
      statements(plain.primary)
        .map((x) => x.Sid)
        .filter((sid) =>
          ['ReadDrCacheDrillNetwork', 'ReadRedisDrCopies', 'InvokeDrCacheVerifier'].includes(sid!),
        ),
    ).toEqual([]);
  });
});
