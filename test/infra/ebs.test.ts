import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackId, StewardStack } from '../../infra/stack.js';
import { loadExample } from '../support/examples.js';
import { allowing, statements, unbundledContext } from './iam.js';

// EBS snapshot sets as deployed: the prod example with `ebs` in its copying daily policy. Every EC2 grant is
// conditioned on a key its action and resource carry (Service Authorization Reference; the IAM suite
// simulates the recorded calls against the same roles).
let app: App;
let t: Template;

beforeAll(() => {
  app = new App({ context: unbundledContext });
  const config = loadExample('prod');
  const daily = config.backup!.policies!.daily!;
  daily.kinds = [...(daily.kinds ?? ['rds-instance', 'aurora-cluster', 'elasticache']), 'ebs'];
  t = Template.fromStack(new StewardStack(app, stackId('prod'), { config }));
});

const bySid = (sid: string) => statements(t).filter((s) => s.Sid === sid);

describe('EBS grants', () => {
  it('snapshots only opted-in instances and volumes, with every new snapshot tagged steward:managed', () => {
    expect(bySid('SnapshotOptedInInstances')[0]).toMatchObject({
      Action: 'ec2:CreateSnapshots',
      Condition: { Null: { 'aws:ResourceTag/steward:backup': 'false' } },
    });
    expect(bySid('SnapshotOptedInVolumes')[0]).toMatchObject({
      Action: 'ec2:CreateSnapshot',
      Condition: { Null: { 'aws:ResourceTag/steward:backup': 'false' } },
    });
    // The unconditioned volume statement grants CreateSnapshots alone (which also needs the tagged instance).
    expect(bySid('SnapshotVolumesOfOptedInInstances')[0]!.Action).toBe('ec2:CreateSnapshots');
    expect(bySid('CreateManagedEbsSnapshots')[0]!.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/steward:managed': 'true' },
    });
  });

  it('tags EBS snapshots only on creation', () => {
    expect(bySid('TagManagedEbsSnapshotsOnCreate')[0]!.Condition).toEqual({
      StringEquals: {
        'aws:RequestTag/steward:managed': 'true',
        'ec2:CreateAction': ['CreateSnapshots', 'CreateSnapshot', 'CopySnapshot'],
      },
    });
    expect(allowing(t, 'ec2:CreateTags')).toHaveLength(1);
  });

  it('copies to DR tagged as steward-managed, and uses the DR key only through EC2 in the DR region', () => {
    expect(bySid('CopyManagedEbsSnapshotsToDr')[0]!.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/steward:managed': 'true' },
    });
    expect(JSON.stringify(bySid('UseDrKeyViaEbs')[0]!.Condition)).toContain('ec2.us-west-2.amazonaws.com');
  });

  it('deletes only steward-managed EBS snapshots, never held ones', () => {
    const [del] = allowing(t, 'ec2:DeleteSnapshot');
    expect(del!.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/steward:managed': 'true' } });
    const deny = statements(t).find((s) => s.Sid === 'NeverDeleteHeldEbsSnapshots')!;
    expect(deny).toMatchObject({
      Effect: 'Deny',
      Condition: { Null: { 'aws:ResourceTag/steward:hold': 'false' } },
    });
  });

  it('prints the DR key statement with EC2 as a service allowed to use the key', () => {
    const out = JSON.stringify(t.findOutputs('*'));
    expect(out).toContain('ec2.us-west-2.amazonaws.com');
  });

  it('passes cdk-nag AwsSolutions with no unacknowledged finding', () => {
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(
      report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
  });
});
