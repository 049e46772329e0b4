import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { consistencyDocumentName } from '../../infra/consistency.js';
import {
  SpokeStack,
  spokeStackId,
  SpokeStackSetStack,
  spokeStackSetStackId,
  spokeTemplate,
} from '../../infra/spoke.js';
import { stackId, StewardStack } from '../../infra/stack.js';
import { consistencyDocument } from '../../shared/backup/consistency-document.js';
import { parseConfig } from '../../shared/config/schema.js';
import { CONSISTENT_FLEET_CONFIG, FLEET_CONFIG } from '../support/fleet.js';
import { resolver } from '../iam/template.js';
import { allowing, statements, unbundledContext } from './iam.js';

// Application consistency in spoke targets, as synthesized: the spoke carries steward's Command document
// (the hub's content, the stage's name) and its backup role the hub backup role's SSM statements, built by the
// same code and pointed at the spoke's account and region, only when a policy configures consistency.
const config = parseConfig(CONSISTENT_FLEET_CONFIG, 'fleet');

let hub: Template;
let spokeStack: SpokeStack;
let spoke: Template;
let stackSet: Template;

beforeAll(() => {
  const app = new App({ context: unbundledContext });
  const hubStack = new StewardStack(app, stackId('prod'), { config });
  spokeStack = new SpokeStack(app, spokeStackId('prod'), { config });
  const setStack = new SpokeStackSetStack(app, spokeStackSetStackId('prod'), { config });
  hub = Template.fromStack(hubStack);
  spoke = Template.fromStack(spokeStack);
  stackSet = Template.fromStack(setStack);
});

const roleId = (t: Template, name: string) =>
  Object.entries(t.findResources('AWS::IAM::Role')).find(([, r]) =>
    JSON.stringify(r.Properties.RoleName ?? '').includes(name),
  )![0];
/** The statements of one role, by Sid. */
const of = (t: Template, name: string) => {
  const id = roleId(t, name);
  return statements(t).filter((s) =>
    JSON.stringify(t.toJSON().Resources[s.policy].Properties.Roles ?? []).includes(id),
  );
};
const SSM_SIDS = [
  'ReadConsistencyCommandResults',
  'RunConsistencyDocument',
  'RunConsistencyOnTaggedInstances',
];
const ssmSids = (t: Template, name: string) =>
  of(t, name)
    .map((s) => s.Sid!)
    .filter((sid) => /Consistency|Dump/.test(sid))
    .sort();
/** Statements as deployed in `account` and `region` (pseudo parameters and joins resolved). */
const deployed = (t: Template, sts: ReturnType<typeof statements>, account: string, region: string) => {
  const { resolve } = resolver(t.toJSON() as Parameters<typeof resolver>[0], account, region);
  return sts.map(({ policy: _, ...s }) => resolve(s as Parameters<typeof resolve>[0]));
};

describe('the spoke of a stage with application consistency', () => {
  it("carries steward's Command document: the hub's content, under the stage's name", () => {
    // Prepare
    const [hubDoc] = Object.values(hub.findResources('AWS::SSM::Document'));
    // Act
    const docs = Object.values(spoke.findResources('AWS::SSM::Document'));
    // Assert
    expect(docs).toHaveLength(1);
    expect(docs[0]!.Properties).toEqual({
      Name: consistencyDocumentName('prod'),
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
      UpdateMethod: 'NewVersion',
      TargetType: '/AWS::EC2::Instance',
      Content: consistencyDocument(),
    });
    expect(docs[0]!.Properties).toEqual(hubDoc!.Properties);
    // The name the hub's function sends to, in every target, without a lookup.
    hub.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CONSISTENCY_DOCUMENT: docs[0]!.Properties.Name }) },
    });
  });

  it("gives the spoke backup role the hub backup role's SSM statements, pointed at its account and region", () => {
    // Act
    const hubSsm = of(hub, 'steward-prod-backup-').filter((s) => SSM_SIDS.includes(s.Sid!));
    const spokeSsm = of(spoke, 'spoke-backup-').filter((s) => SSM_SIDS.includes(s.Sid!));
    // Assert: deployed in the hub's account and region the spoke's statements would be the hub's own; deployed
    // in a workload account's region they name that account and region only
    expect(ssmSids(spoke, 'spoke-backup-')).toEqual(SSM_SIDS);
    expect(deployed(spoke, spokeSsm, '111111111111', 'eu-west-1')).toEqual(
      deployed(hub, hubSsm, '111111111111', 'eu-west-1'),
    );
    const there = JSON.stringify(deployed(spoke, spokeSsm, '222222222222', 'eu-central-1'));
    expect(there).toContain('arn:aws:ssm:eu-central-1:222222222222:document/steward-prod-consistency');
    expect(there).toContain('arn:aws:ec2:eu-central-1:222222222222:instance/*');
    expect(there).not.toMatch(/111111111111|eu-west-1/);
    const tagged = spokeSsm.find((s) => s.Sid === 'RunConsistencyOnTaggedInstances')!;
    expect(tagged.Condition).toEqual({ StringEquals: { 'ssm:resourceTag/steward:backup': ['mongo'] } });
    expect(JSON.stringify(tagged.Resource)).toContain(':instance/*');
    expect(JSON.stringify(spokeSsm.find((s) => s.Sid === 'RunConsistencyDocument')!.Resource)).toContain(
      ':document/steward-prod-consistency',
    );
  });

  it('grants no S3 for dumps in the spoke (the hub tags them in its bucket), and nothing to the other roles', () => {
    expect(ssmSids(hub, 'steward-prod-backup-')).toEqual([...SSM_SIDS, 'TagDumpObjects'].sort());
    // No grant on the dump bucket (Redis DR's own copies in the spoke's buckets are tagged under their grants).
    expect(JSON.stringify(allowing(spoke, 's3:PutObjectTagging'))).not.toContain('team-dumps');
    expect(JSON.stringify(spoke.toJSON())).not.toContain('team-dumps');
    expect(
      allowing(spoke, 'ssm:SendCommand')
        .map((s) => s.Sid)
        .sort(),
    ).toEqual(['RunConsistencyDocument', 'RunConsistencyOnTaggedInstances']);
    expect(ssmSids(spoke, 'spoke-retention-')).toEqual([]);
    expect(JSON.stringify(spoke.toJSON())).not.toContain('AWS-RunShellScript');
  });

  it('is in the StackSet template too', () => {
    const [set] = Object.values(stackSet.findResources('AWS::CloudFormation::StackSet'));
    const body = set!.Properties.TemplateBody as string;
    expect(JSON.parse(body)).toEqual(spoke.toJSON());
    expect(spokeTemplate(config, unbundledContext)).toEqual(spoke.toJSON());
    expect(Object.values(spoke.findResources('AWS::SSM::Document'))).toHaveLength(1);
    // CloudFormation's limit for an inline TemplateBody, with the document's script inside.
    expect(body.length).toBeLessThan(51_200);
  });

  it('passes cdk-nag', () => {
    const report = new AwsSolutionsChecks(spokeStack).validateScope(spokeStack);
    expect(report.violations.map((v) => `${v.ruleName}: ${JSON.stringify(v.violatingResources)}`)).toEqual(
      [],
    );
  });
});

describe('the spoke of a stage without application consistency', () => {
  it('has no document and no SSM grant', () => {
    const t = Template.fromStack(
      new SpokeStack(new App({ context: unbundledContext }), spokeStackId('prod'), {
        config: parseConfig(FLEET_CONFIG, 'fleet'),
      }),
    );
    t.resourceCountIs('AWS::SSM::Document', 0);
    expect(statements(t).filter((s) => JSON.stringify(s.Action).includes('ssm:'))).toEqual([]);
  });
});
