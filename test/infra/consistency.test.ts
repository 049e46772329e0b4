import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackId, StewardStack } from '../../infra/stack.js';
import { consistencyDocument } from '../../shared/backup/consistency-document.js';
import { parseConfig } from '../../shared/config/schema.js';
import { exampleInput } from '../support/examples.js';
import { allowing, unconditionedWildcardWrites, unbundledContext } from './iam.js';

// Application consistency as deployed: steward's Command document, and a backup role that may run that
// document only, only on instances tagged for a policy that configures it, and tag only its dump objects.
let app: App;
let t: Template;

beforeAll(() => {
  app = new App({ context: unbundledContext });
  const base = exampleInput('staging');
  const config = parseConfig(
    {
      ...base,
      backup: {
        policies: {
          daily: {
            consistency: {
              pre: 'fsfreeze -f /data',
              post: 'fsfreeze -u /data',
              dump: { command: 'mongodump --archive', bucket: 'team-dumps', prefix: 'steward/' },
            },
          },
          weekly: {},
        },
      },
    },
    'test',
  );
  t = Template.fromStack(new StewardStack(app, stackId('staging'), { config }));
});

describe('application consistency', () => {
  it("deploys steward's Command document as code, parameters as environment variables", () => {
    t.hasResourceProperties('AWS::SSM::Document', {
      Name: 'steward-staging-consistency',
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
      UpdateMethod: 'NewVersion',
      Content: consistencyDocument(),
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CONSISTENCY_DOCUMENT: 'steward-staging-consistency' }) },
      Timeout: 900,
    });
  });

  it('lets the backup role run that document only, only on instances tagged for a policy that configures it', () => {
    const sends = allowing(t, 'ssm:SendCommand');
    expect(sends.map((s) => s.Sid).sort()).toEqual([
      'RunConsistencyDocument',
      'RunConsistencyOnTaggedInstances',
    ]);
    const onInstances = sends.find((s) => s.Sid === 'RunConsistencyOnTaggedInstances')!;
    expect(onInstances.Condition).toEqual({ StringEquals: { 'ssm:resourceTag/steward:backup': ['daily'] } });
    expect(JSON.stringify(sends.find((s) => s.Sid === 'RunConsistencyDocument')!.Resource)).toContain(
      ':document/steward-staging-consistency',
    );
    expect(JSON.stringify(t.toJSON())).not.toContain('AWS-RunShellScript');
  });

  it('tags dump objects under the configured prefix only, and only with steward:managed', () => {
    const tags = allowing(t, 's3:PutObjectTagging');
    expect(tags).toHaveLength(1);
    expect(JSON.stringify(tags[0]!.Resource)).toContain(':s3:::team-dumps/steward/*');
    expect(tags[0]!.Condition).toEqual({ StringEquals: { 's3:RequestObjectTag/steward:managed': 'true' } });
    expect(unconditionedWildcardWrites(t)).toEqual([]);
  });

  it('lets retention list, read the tags of and delete dump objects under the configured prefix only, in its account', () => {
    const deletes = allowing(t, 's3:DeleteObject');
    expect(deletes.map((s) => s.Sid)).toEqual(['ExpireDumpObjects']);
    expect(JSON.stringify(deletes[0]!.Resource)).toContain(':s3:::team-dumps/steward/*.dump');
    expect(deletes[0]!.Condition).toEqual({
      StringEquals: { 's3:ResourceAccount': expect.anything() },
    });
    const lists = allowing(t, 's3:ListBucket').filter((s) => s.Sid?.startsWith('ListDumpObjects'));
    expect(lists).toHaveLength(1);
    expect(lists[0]!.Condition).toEqual({ StringEquals: { 's3:prefix': ['steward/'] } });
  });

  it('passes cdk-nag with a reason on every acknowledgement', () => {
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(
      report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
  });
});
