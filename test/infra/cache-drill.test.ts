import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AslDefinition, definitionFromTemplate } from '../../infra/local-drill.js';
import { StewardStack } from '../../infra/stack.js';
import { parseConfig } from '../../shared/config/schema.js';
import { exampleInput } from '../support/examples.js';
import { allowing, unbundledContext, unconditionedWildcardWrites, unguardedDestructive } from './iam.js';

// The prod example plus two Redis drills: sessions (its snapshots, IAM login) and rate-limits (the DR copy).
const config = parseConfig(
  {
    ...exampleInput('prod'),
    drill: {
      ...exampleInput('prod').drill,
      caches: {
        sessions: { auth: 'iam', checks: { patterns: [{ match: 'session:*', mustExpire: true }] } },
        'rate-limits': {
          auth: 'none',
          from: 'dr',
          snapshot: { id: 'steward-rate-limits-202601310300-sched' },
        },
      },
    },
  },
  'test',
);

let app: App;
let t: Template;
let definition: AslDefinition;
beforeAll(() => {
  app = new App({ context: unbundledContext });
  const stack = new StewardStack(app, 'Steward-cache', { config });
  t = Template.fromStack(stack);
  definition = definitionFromTemplate(
    t.toJSON() as Parameters<typeof definitionFromTemplate>[0],
    'steward-prod-drill',
  );
});

describe('the drill state machine with Redis drills', () => {
  it('routes a Redis drill to VerifyCache (or, restored in dr.region, to VerifyCacheInDr) and then to Cleanup, every other drill to Verify as before', () => {
    const engine = definition.States['Engine?']!;
    const redis = [
      { Variable: '$.kind', IsPresent: true },
      { Variable: '$.kind', StringEquals: 'redis' },
    ];
    expect(engine.Choices).toEqual([
      {
        And: [
          { And: redis },
          { Variable: '$.target.region', IsPresent: true },
          { Variable: '$.target.region', StringEquals: 'us-west-2' },
        ],
        Next: 'VerifyCacheInDr',
      },
      {
        And: [
          { Variable: '$.kind', IsPresent: true },
          { Variable: '$.kind', StringEquals: 'redis' },
        ],
        Next: 'VerifyCache',
      },
    ]);
    expect(engine.Default).toBe('Verify');
    expect(definition.States.WaitForRestore!.Next).toBe('Engine?');
    expect(definition.States['Restored?']!.Choices?.[0]?.Next).toBe('Engine?');
    expect(definition.States.VerifyCache!.Next).toBe('Cleanup');
    expect(definition.States.VerifyCache!.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Cleanup' },
    ]);
    expect(definition.States.Verify!.Next).toBe('WarmUp?');
    // The relay runs in the drill function: Step Functions invokes no function in another region.
    const relay = definition.States.VerifyCacheInDr!;
    expect(relay.Next).toBe('Cleanup');
    expect(relay.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Cleanup' }]);
    expect(JSON.stringify(relay)).toContain('"task":"verify-dr"');
    const invoked = (state: string) => definition.States[state]!.Resource;
    expect(invoked('VerifyCacheInDr')).toBe(invoked('CheckRestore'));
    expect(invoked('VerifyCacheInDr')).not.toBe(invoked('VerifyCache'));
  });
});

describe('the drill network for caches', () => {
  it('has a cache subnet group and admits Redis to drill caches only from the cache verifier', () => {
    t.hasResourceProperties('AWS::ElastiCache::SubnetGroup', { CacheSubnetGroupName: 'steward-prod-drill' });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 6379,
      ToPort: 6379,
      Description: 'Cache verifier to drill caches',
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      IpProtocol: 'tcp',
      FromPort: 6379,
      ToPort: 6379,
      Description: 'Cache verifier to drill caches',
    });
    // No Secrets Manager endpoint: the IAM login is signed locally.
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  it('creates the IAM-authenticated verifier user and a disabled default user in the drill user group', () => {
    t.hasResourceProperties('AWS::ElastiCache::User', {
      UserId: 'steward-prod-drill-verifier',
      UserName: 'steward-prod-drill-verifier',
      AuthenticationMode: { Type: 'iam' },
      AccessString: Match.stringLikeRegexp('^on .*-@all \\+@read'),
    });
    t.hasResourceProperties('AWS::ElastiCache::User', { UserName: 'default', AccessString: 'off -@all' });
    t.hasResourceProperties('AWS::ElastiCache::UserGroup', { UserGroupId: 'steward-prod-drill' });
  });

  it('runs the cache verifier in the drill VPC with no AWS permission but connecting as its user to drill groups', () => {
    const connect = allowing(t, 'elasticache:Connect');
    expect(connect.map((s) => [JSON.stringify(s.Resource), s.Condition])).toEqual([
      [
        expect.stringMatching(/elasticache:eu-west-1:.*:replicationgroup:steward-drill-\*"/),
        { Null: { 'aws:ResourceTag/steward:drill': 'false' } },
      ],
      [expect.stringMatching(/elasticache:eu-west-1:.*:user:steward-prod-drill-verifier"/), undefined],
    ]);
    expect(connect.every((s) => s.policy.includes('CacheVerifier'))).toBe(true);
  });
});

describe('drill permissions for caches', () => {
  it('creates groups only as steward-drill-*, tagged managed, from the configured groups snapshots, in both regions for a DR drill', () => {
    const create = allowing(t, 'elasticache:CreateReplicationGroup');
    const tagged = create.find((s) => s.Sid === 'RestoreDrillCaches')!;
    expect(tagged.Condition).toEqual({ StringEquals: { 'aws:RequestTag/steward:managed': 'true' } });
    expect(JSON.stringify(tagged.Resource)).toMatch(
      /elasticache:eu-west-1:.*replicationgroup:steward-drill-\*/,
    );
    expect(JSON.stringify(tagged.Resource)).toMatch(
      /elasticache:us-west-2:.*replicationgroup:steward-drill-\*/,
    );
    const snaps = JSON.stringify(create.find((s) => s.Sid === 'RestoreFromCacheSnapshots')!.Resource);
    expect(snaps).toContain(':snapshot:steward-sessions-????????????-sched');
    expect(snaps).toContain(':snapshot:automatic.sessions-????-??-??-??-??');
    expect(snaps).not.toContain('rate-limits');
  });

  it('deletes only groups tagged managed and steward:drill, and nothing destructive is left unguarded', () => {
    const del = allowing(t, 'elasticache:DeleteReplicationGroup');
    expect(del.map((s) => s.Condition)).toEqual([
      {
        StringEquals: { 'aws:ResourceTag/steward:managed': 'true' },
        Null: { 'aws:ResourceTag/steward:drill': 'false' },
      },
    ]);
    expect(unguardedDestructive(t)).toEqual([]);
    expect(unconditionedWildcardWrites(t)).toEqual([]);
  });

  it('listens to ElastiCache "Cache Created" and "Cache Creation Failed" events', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.elasticache'],
        'detail-type': ['Cache Created', 'Cache Creation Failed'],
      },
    });
  });

  it('schedules each cache drill with { database: <name> }', () => {
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'steward-prod-drill-sessions',
      Target: Match.objectLike({ Input: JSON.stringify({ database: 'sessions' }) }),
    });
  });
});

describe('cdk-nag AwsSolutions with Redis drills', () => {
  it('reports no unacknowledged errors or warnings', () => {
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(
      report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
  });
});

describe('caches that log in with an AUTH token or an RBAC user', () => {
  const TOKEN_SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:sessions-auth-AbCdEf';
  const USER_SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:queue-app-AbCdEf';
  let tl: Template;
  let loginsApp: App;
  beforeAll(() => {
    const withLogins = parseConfig(
      {
        stage: 'dev',
        region: 'eu-west-1',
        drill: {
          enabled: true,
          caches: {
            sessions: { auth: 'token', secretArn: TOKEN_SECRET },
            queue: { auth: 'user', secretArn: USER_SECRET, userGroupId: 'queue-users' },
          },
        },
      },
      'test',
    );
    loginsApp = new App({ context: unbundledContext });
    tl = Template.fromStack(new StewardStack(loginsApp, 'Steward-logins', { config: withLogins }));
  });

  it('gives the drill function the per-drill endpoint grants, tag-conditioned, with no cdk-nag finding', () => {
    const create = allowing(tl, 'ec2:CreateVpcEndpoint').find((x) => x.Sid === 'CreateDrillEndpointsTagged')!;
    expect(create.Condition).toMatchObject({
      StringEquals: {
        'aws:RequestTag/steward:managed': 'true',
        'aws:RequestTag/steward:drill-endpoint': ['secretsmanager'],
      },
    });
    const del = allowing(tl, 'ec2:DeleteVpcEndpoints')[0]!;
    expect(del.Condition).toMatchObject({
      StringEquals: {
        'aws:ResourceTag/steward:managed': 'true',
        'aws:ResourceTag/steward:drill-endpoint': ['secretsmanager'],
      },
    });
    expect(allowing(tl, 'states:ListExecutions')).toHaveLength(1);
    const report = new AwsSolutionsChecks(loginsApp).validateScope(loginsApp);
    expect(
      report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
  });

  it('lets the drill function read the AUTH token only, the cache verifier both secrets, through the endpoint a drill creates', () => {
    const reads = allowing(tl, 'secretsmanager:GetSecretValue').filter((s) => s.Sid?.startsWith('ReadCache'));
    expect(reads.map((s) => [s.Sid, s.Resource])).toEqual(
      expect.arrayContaining([
        ['ReadCacheAuthTokens', TOKEN_SECRET],
        ['ReadCacheLoginSecrets', [USER_SECRET, TOKEN_SECRET]],
      ]),
    );
    expect(reads.find((s) => s.Sid === 'ReadCacheAuthTokens')!.policy).not.toContain('CacheVerifier');
    expect(reads.find((s) => s.Sid === 'ReadCacheLoginSecrets')!.policy).toContain('CacheVerifier');
    // Per-drill endpoints (the default): the stack deploys the endpoint's group, a drill creates the endpoint.
    tl.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    expect(JSON.stringify(tl.toJSON())).toMatch(/DRILL_ENDPOINTS.*secretsmanager/);
    tl.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription:
        'steward drill cache verifier: out to the drill caches (6379) and Secrets Manager (443) only',
    });
    tl.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      FromPort: 443,
      ToPort: 443,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('CacheVerifierSecurityGroup'), 'GroupId'] },
    });
  });

  it('attaches the configured RBAC user group to the copy: CreateReplicationGroup may name it', () => {
    const into = allowing(tl, 'elasticache:CreateReplicationGroup').find(
      (s) => s.Sid === 'RestoreDrillCachesInto',
    )!;
    expect(JSON.stringify(into.Resource)).toMatch(/elasticache:eu-west-1:.*:usergroup:queue-users"/);
  });
});
