import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { drEventsStackId, DrEventsStack } from '../../infra/dr-events.js';
import { type AslDefinition, definitionFromTemplate } from '../../infra/local-drill.js';
import { stackId, StewardStack } from '../../infra/stack.js';
import { parseConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import type { DrillState } from '../../shared/drill/state.js';
import { ebsSet, fakeEbs } from '../fakes/ebs-drill-ports.js';
import { fakeVerifier } from '../fakes/ebs-verifier-ports.js';
import { fakeEndpoints } from '../fakes/drill-endpoints.js';
import { localDrillDeps, runLocalEbsDrill, runnerClock, VERIFIED_EBS_PATH } from '../support/local-drill.js';
import { exampleInput } from '../support/examples.js';
import { allowing, list, statements, unbundledContext } from './iam.js';

// The prod example (eu-west-1, DR copies in us-west-2) with an instance drilled from its DR copies and verified:
// the DR stack gets the verifier's network, role, document and endpoints; the stage's drill function runs the
// verifier there (grants region-pinned, the network by tag); the synthesized definition runs locally over the
// from: dr + verify path with the DR region's EC2, verifier and endpoints in memory.
const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const DR = 'us-west-2';
const INSTANCE = 'i-0abc1234def567890';
const VERIFY = { command: 'fsck -n /dev/sdf1', instanceType: 'm7g.large' };

const configWith = (volumes: Record<string, unknown>, drill: Record<string, unknown> = {}) =>
  parseConfig(
    {
      ...exampleInput('prod'),
      account: ACCOUNT,
      region: REGION,
      drill: { ...exampleInput('prod').drill, volumes, ...drill },
    } as StewardConfigInput,
    'test',
  );

const synth = (volumes: Record<string, unknown>, drill: Record<string, unknown> = {}) => {
  const app = new App({ context: unbundledContext });
  const config = configWith(volumes, drill);
  const stage = new StewardStack(app, stackId('prod'), { config });
  const dr = new DrEventsStack(app, drEventsStackId('prod'), { config });
  return { app, dr, config, primary: Template.fromStack(stage), drT: Template.fromStack(dr) };
};

const FROM_DR = { [INSTANCE]: { from: 'dr', pollSeconds: 10, timeoutSeconds: 120, verify: VERIFY } };

let s: ReturnType<typeof synth>;
let definition: AslDefinition;
beforeAll(() => {
  s = synth(FROM_DR);
  definition = definitionFromTemplate(
    s.primary.toJSON() as Parameters<typeof definitionFromTemplate>[0],
    'steward-prod-drill',
  );
});

describe('the DR stack’s EBS verifier network', () => {
  it('builds a tagged, isolated VPC with the verifier’s groups, its fixed-name role and steward’s document', () => {
    const { drT } = s;
    drT.resourceCountIs('AWS::EC2::VPC', 1);
    drT.resourceCountIs('AWS::EC2::InternetGateway', 0);
    drT.resourceCountIs('AWS::EC2::NatGateway', 0);
    const tagged = { Tags: Match.arrayWith([{ Key: 'steward:drill-network', Value: 'prod' }]) };
    drT.hasResourceProperties('AWS::EC2::VPC', tagged);
    drT.allResourcesProperties('AWS::EC2::Subnet', tagged);
    drT.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('EBS drill verifier instances'),
      ...tagged,
    });
    drT.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('Systems Manager endpoints'),
      ...tagged,
    });
    drT.hasResourceProperties('AWS::IAM::Role', { RoleName: `steward-prod-ebs-verifier-${DR}` });
    drT.resourceCountIs('AWS::IAM::InstanceProfile', 1);
    drT.hasResourceProperties('AWS::SSM::Document', {
      Name: 'steward-prod-consistency',
      DocumentType: 'Command',
    });
    // per-drill (the default): the drill creates the endpoints, the stack deploys only their group.
    drT.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    // No cache verifier: no cache is drilled from DR here.
    drT.resourceCountIs('AWS::Lambda::Function', 0);
  });

  it('publishes the network, the document and the endpoints’ placements as one parameter', () => {
    const params = s.drT.findResources('AWS::SSM::Parameter', {
      Properties: { Name: '/steward/prod/drill/dr-ebs-verifier' },
    });
    const [param] = Object.values(params);
    const value = JSON.stringify(param?.Properties?.Value);
    for (const key of [
      'vpcId',
      'subnets',
      'securityGroupId',
      'instanceProfileArn',
      'documentName',
      'steward-prod-consistency',
      'endpoints',
      'ssmmessages',
      'ec2messages',
    ])
      expect(value).toContain(key);
  });

  it('deploys the three endpoints with the stack with drill.endpoints.mode: always-on, and publishes no placements', () => {
    const on = synth(FROM_DR, { endpoints: { mode: 'always-on' } });
    on.drT.resourceCountIs('AWS::EC2::VPCEndpoint', 3);
    const [param] = Object.values(
      on.drT.findResources('AWS::SSM::Parameter', {
        Properties: { Name: '/steward/prod/drill/dr-ebs-verifier' },
      }),
    );
    expect(JSON.stringify(param?.Properties?.Value)).not.toContain('endpoints');
    // The stage stack then opens no endpoint at all: no endpoint states, no endpoint grants.
    expect(allowing(on.primary, 'ec2:CreateVpcEndpoint')).toEqual([]);
  });

  it('passes cdk-nag', () => {
    const report = new AwsSolutionsChecks(s.app).validateScope(s.dr);
    expect(
      report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
  });

  it('is not built for a stage that verifies in its own region, nor for a restore-only drill from DR', () => {
    for (const volumes of [{ [INSTANCE]: { verify: VERIFY } }, { [INSTANCE]: { from: 'dr' } }]) {
      const other = synth(volumes);
      other.drT.resourceCountIs('AWS::EC2::VPC', 0);
      other.drT.resourceCountIs('AWS::SSM::Document', 0);
      // Either way the drill role grants nothing of the DR verifier.
      expect(
        statements(other.primary).filter((x) => /DrillFunction/.test(x.policy) && x.Sid?.endsWith('InDr')),
      ).toEqual([]);
      if (JSON.stringify(volumes).includes('"dr"')) {
        // A restore-only drill from DR still restores there: the drill role may act in dr.region (the guard
        // listed it only for Redis drills from DR before).
        const deny = statements(other.primary).find(
          (x) => /DrillFunction/.test(x.policy) && x.Sid === 'OnlyConfiguredRegions',
        );
        expect(deny?.Condition).toEqual({ StringNotEquals: { 'aws:RequestedRegion': [REGION, DR] } });
      }
    }
  });
});

describe('the stage stack for a verifying drill from the DR copies', () => {
  const drill = () => statements(s.primary).filter((x) => /DrillFunction/.test(x.policy));
  const bySid = () => Object.fromEntries(drill().map((x) => [x.Sid, x]));

  it('deploys no verifier network, document or endpoints in the stage region', () => {
    const { primary } = s;
    primary.resourceCountIs('AWS::SSM::Document', 0);
    expect(
      Object.keys(primary.findResources('AWS::EC2::SecurityGroup')).filter((id) =>
        id.includes('EbsVerifier'),
      ),
    ).toEqual([]);
    primary.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('restore drill tasks'),
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({
          DRILL_STATE_MACHINE_ARN: Match.anyValue(),
          DRILL_VERIFIER_SUBNETS: Match.absent(),
          DRILL_ENDPOINTS: Match.absent(),
        }),
      },
    });
  });

  it('reads the DR network parameter and launches, attaches, checks and terminates in the DR region only', () => {
    const sid = bySid();
    expect(sid.ReadDrEbsVerifierNetwork).toMatchObject({
      Action: 'ssm:GetParameter',
      Resource: `arn:aws:ssm:${DR}:${ACCOUNT}:parameter/steward/prod/drill/dr-ebs-verifier`,
    });
    expect(sid.LaunchVerifierIntoDrillNetworkInDr).toMatchObject({
      Action: 'ec2:RunInstances',
      Resource: [`arn:aws:ec2:${DR}:${ACCOUNT}:security-group/*`, `arn:aws:ec2:${DR}:${ACCOUNT}:subnet/*`],
      Condition: { StringEquals: { 'aws:ResourceTag/steward:drill-network': 'prod' } },
    });
    expect(sid.PassVerifierRoleInDr).toMatchObject({
      Resource: `arn:aws:iam::${ACCOUNT}:role/steward-prod-ebs-verifier-${DR}`,
    });
    expect(sid.RunCheckDocumentInDr).toMatchObject({
      Resource: `arn:aws:ssm:${DR}:${ACCOUNT}:document/steward-prod-consistency`,
    });
    expect(sid.WatchVerifiersInDr?.Condition).toEqual({ StringEquals: { 'aws:RequestedRegion': DR } });
    expect(JSON.stringify(sid.LaunchVerifierTaggedInDr)).toContain('m7g.large');
    // Every resource the DR grants name is in the DR region (or IAM's, which has none); one that cannot be
    // named is held to the DR region by condition. The one exception: the stage's own drill state machine,
    // whose running executions keep the DR endpoints.
    for (const x of drill().filter((d) => d.Sid?.endsWith('InDr'))) {
      for (const r of list(x.Resource as string | string[])) {
        if (r === '*')
          expect(x.Condition, x.Sid).toMatchObject({ StringEquals: { 'aws:RequestedRegion': DR } });
        else if (x.Sid === 'ListRunningDrillsInDr')
          expect(r).toBe(`arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:steward-prod-drill`);
        else expect(r, x.Sid).toMatch(new RegExp(`^arn:aws:(iam::|[a-z0-9-]+:${DR}:)`));
      }
    }
  });

  it('creates the DR endpoints only into the tagged DR network, for the three Systems Manager services there', () => {
    const sid = bySid();
    expect(sid.CreateDrillEndpointsTaggedInDr?.Condition).toMatchObject({
      StringEquals: {
        'ec2:VpceServiceName': [
          `com.amazonaws.${DR}.ssm`,
          `com.amazonaws.${DR}.ec2messages`,
          `com.amazonaws.${DR}.ssmmessages`,
        ],
      },
    });
    expect(sid.CreateDrillEndpointsInDrillVpcInDr).toMatchObject({
      Condition: { StringEquals: { 'aws:ResourceTag/steward:drill-network': 'prod' } },
    });
    expect(sid.ListDrillEndpointsInDr?.Condition).toEqual({ StringEquals: { 'aws:RequestedRegion': DR } });
    // The stage region's drill VPC needs no endpoint: no grant there.
    expect(sid.CreateDrillEndpointsTagged).toBeUndefined();
  });

  it('lets the drill function act in both regions (OnlyConfiguredRegions)', () => {
    const deny = statements(s.primary).find(
      (x) => /DrillFunction/.test(x.policy) && x.Sid === 'OnlyConfiguredRegions',
    );
    expect(deny?.Condition).toEqual({ StringNotEquals: { 'aws:RequestedRegion': [REGION, DR] } });
  });
});

// ---------------------------------------------------------------------------------------------
// The synthesized definition, run locally over the from: dr + verify path.

const EXECUTION = 'drill-ebs-dr-local';
const copy = () =>
  ebsSet(
    INSTANCE,
    new Date(Date.now() - 3_600_000).toISOString(),
    ['vol-0root', 'vol-0data'],
    { sourceRegion: REGION, copiedAt: new Date(Date.now() - 1_800_000).toISOString() },
    DR,
  );

const scenario = (check: { status: 'success' | 'failed'; output?: string }) => {
  const now = runnerClock();
  const stage = fakeEbs([], {}, REGION);
  const dr = fakeEbs([copy()], {}, DR);
  const stageVerifier = fakeVerifier({}, now);
  const drVerifier = fakeVerifier({ check }, now, DR);
  const drEndpoints = fakeEndpoints({}, DR);
  const deps = localDrillDeps(s.config, now, {
    ebs: {
      ...stage,
      verifier: stageVerifier,
      dr: {
        sets: dr.sets,
        volumes: dr.volumes,
        availabilityZone: async () => `${DR}c`,
        verifier: drVerifier,
        verifierZone: async () => `${DR}a`,
      },
    },
    drEndpoints: async () => drEndpoints,
  });
  return { stage, dr, stageVerifier, drVerifier, drEndpoints, deps, notifier: deps.notifier };
};

const run = (f: ReturnType<typeof scenario>) => runLocalEbsDrill(definition, EXECUTION, INSTANCE, f.deps);

// The endpoints are asked for after the selection, waited for (one Wait) before VerifyVolumes, and released
// after Cleanup: all in the DR region.
const PATH = VERIFIED_EBS_PATH;

describe('the synthesized drill definition, run locally for a verifying drill from the DR copies', () => {
  it('restores the copy in the DR region, opens the endpoints and verifies there, cleans up and records a pass', async () => {
    // Prepare
    const f = scenario({ status: 'success', output: 'clean' });

    // Act
    const r = await run(f);

    // Assert
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path).toEqual([...PATH, 'DrillSucceeded']);
    const out = r.output as DrillState;
    expect(out.ebs?.settings).toMatchObject({ region: DR, availabilityZone: `${DR}a` });
    expect(out.ebs?.verification).toMatchObject({ outcome: 'passed', output: 'clean' });
    expect(f.drVerifier.log.filter((l) => l.startsWith('launch'))).toEqual([`launch ${DR}a m7g.large`]);
    expect(f.drVerifier.log.filter((l) => l.startsWith('attach'))).toHaveLength(2);
    expect(f.drEndpoints.log.filter((l) => l.startsWith('create')).sort()).toEqual([
      'create ec2messages',
      'create ssm',
      'create ssmmessages',
    ]);
    expect(out.endpointsClosed).toMatchObject({ status: 'deleted' });
    // Nothing left anywhere; nothing touched in the stage region.
    expect(f.drEndpoints.live()).toEqual([]);
    expect(f.drVerifier.live.size).toBe(0);
    expect(f.dr.live.size).toBe(0);
    expect(f.stage.log).toEqual([]);
    expect(f.stageVerifier.log).toEqual([]);
  });

  it('a failed check ends DrillFailed, with the volumes, the verifier and the endpoints gone in the DR region', async () => {
    // Prepare
    const f = scenario({ status: 'failed', output: 'fsck: /dev/sdf1 has errors' });

    // Act
    const r = await run(f);

    // Assert
    expect(r.status).toBe('FAILED');
    expect(r.error?.Error).toBe('DrillFailed');
    expect(r.path).toEqual([...PATH, 'DrillFailed']);
    expect(f.drVerifier.log.filter((l) => l.startsWith('check'))).toHaveLength(1);
    expect(f.drVerifier.live.size).toBe(0);
    expect(f.dr.live.size).toBe(0);
    expect(f.dr.log.filter((l) => l.startsWith('delete'))).toHaveLength(2);
    expect(f.drEndpoints.live()).toEqual([]);
    expect(f.notifier.sent.map((m) => m.severity)).toEqual(['critical']);
  });
});
