import { App, Stack } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { allowEbsDrill } from '../../infra/ebs-drill.js';
import { allowOn, denyOn } from '../../infra/permission.js';
import { parseConfig } from '../../shared/config/schema.js';
import { Tag, tagList } from '../../shared/tags.js';
import type { RecordedCall } from '../support/sdk-recorder.js';
import { lintPolicy } from './lint.js';
import { binderFor, type IamRequest, resourceTags } from './requests.js';
import { simulate } from './simulate.js';
import { type Deployment, rolesOf, type RoleUnderTest } from './template.js';

// The EBS drill's grants (infra/ebs-drill.ts) on a role of their own, simulated with the requests the EC2
// adapter (shared/aws/ebs-drill.ts) makes, refusals included. The drill function's role in a deployment with
// drill.volumes is simulated with the rest by the IAM suite (test/iam/iam-full.test.ts).
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
let role: RoleUnderTest;
let d: Deployment;

const call = (command: string, input: Record<string, unknown>): RecordedCall => ({
  client: 'EC2Client',
  command,
  input,
  region: REGION,
  frames: ['shared/aws/ebs-drill.ts:createVolume'],
  test: 'test/iam/ebs-drill.test.ts',
  mocked: true,
});
const drillTags = { [Tag.drill]: 'monthly-mongo', [Tag.managed]: 'true', [Tag.source]: 'vol-0data' };
const CREATE = call('CreateVolume', {
  SnapshotId: 'snap-0123456789abcdef0',
  AvailabilityZone: 'eu-west-1a',
  VolumeType: 'gp3',
  TagSpecifications: [{ ResourceType: 'volume', Tags: tagList(drillTags) }],
});

beforeAll(() => {
  const app = new App();
  const stack = new Stack(app, 'EbsDrill', { env: { account: ACCOUNT, region: REGION } });
  const r = new Role(stack, 'Drill', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
  allowEbsDrill({ allow: (p) => allowOn(r, p), deny: (p) => denyOn(r, p) }, stack, REGION);
  const template = app.synth().getStackByName('EbsDrill').template as Parameters<typeof rolesOf>[0];
  role = [...rolesOf(template, 'x', ACCOUNT, REGION).values()][0]!;
  d = {
    name: 'ebs-drill',
    config: parseConfig(
      { stage: 'x', region: REGION, drill: { volumes: { 'i-0a1b2c3d4e5f60718': {} } } },
      'test',
    ),
    account: ACCOUNT,
    region: REGION,
    partition: 'aws',
  } as Deployment;
});

const decide = async (r: IamRequest) => (await simulate(role.arn, role.policy, r, ACCOUNT, REGION)).decision;
const bound = (c: RecordedCall) => binderFor(c)!(c, d, 'drill');

describe('EBS drill IAM', () => {
  it('allows every request the drill makes: create (tag on create), describe, fast restore, delete', async () => {
    const requests = [
      ...bound(CREATE),
      ...bound(call('DescribeVolumes', { VolumeIds: ['vol-1'] })),
      ...bound(
        call('DescribeFastSnapshotRestores', {
          Filters: [{ Name: 'snapshot-id', Values: ['snap-1'] }],
        }),
      ),
      ...bound(
        call('EnableFastSnapshotRestores', {
          SourceSnapshotIds: ['snap-1'],
          AvailabilityZones: ['eu-west-1a'],
        }),
      ),
      ...bound(
        call('DisableFastSnapshotRestores', {
          SourceSnapshotIds: ['snap-1'],
          AvailabilityZones: ['eu-west-1a'],
        }),
      ),
      ...bound(call('DeleteVolume', { VolumeId: 'vol-0123456789abcdef0' })),
    ];
    expect(requests).toHaveLength(8);
    for (const r of requests) expect(await decide(r), r.label).toBe('Allowed');
  });

  it("denies restoring someone else's snapshot, an untagged volume, and deleting a volume that is not a drill's", async () => {
    const [snapshot, volume] = bound(CREATE);
    expect(await decide({ ...snapshot!, context: resourceTags(snapshot!.resource, {}) })).not.toBe('Allowed');
    const { [`aws:RequestTag/${Tag.drill}`]: _, ...noDrillTag } = volume!.context;
    expect(await decide({ ...volume!, context: noDrillTag })).not.toBe('Allowed');
    const [del] = bound(call('DeleteVolume', { VolumeId: 'vol-0123456789abcdef0' }));
    expect(
      await decide({ ...del!, context: resourceTags(del!.resource, { [Tag.managed]: 'true' }) }),
    ).not.toBe('Allowed');
    expect(await decide({ ...del!, context: resourceTags(del!.resource, { [Tag.drill]: 'x' }) })).not.toBe(
      'Allowed',
    );
  });

  it('never tags an existing volume', async () => {
    const [, , tag] = bound(CREATE);
    const { 'ec2:CreateAction': _, ...noCreate } = tag!.context;
    expect(
      await decide({
        ...tag!,
        resource: tag!.resource.replace('*', 'vol-0123456789abcdef0'),
        context: noCreate,
      }),
    ).not.toBe('Allowed');
  });

  it('has statements that mean what they say by the Service Authorization Reference', async () => {
    expect(await lintPolicy(role.policy)).toEqual([]);
  });
});

describe('EBS drill IAM with a drill from the DR copies (from: dr)', () => {
  const DR = 'us-west-2';
  let drRole: RoleUnderTest;
  let drD: Deployment;
  beforeAll(() => {
    const app = new App();
    const stack = new Stack(app, 'EbsDrillDr', { env: { account: ACCOUNT, region: REGION } });
    const r = new Role(stack, 'Drill', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    allowEbsDrill({ allow: (p) => allowOn(r, p), deny: (p) => denyOn(r, p) }, stack, REGION, {
      drRegion: DR,
    });
    const template = app.synth().getStackByName('EbsDrillDr').template as Parameters<typeof rolesOf>[0];
    drRole = [...rolesOf(template, 'x', ACCOUNT, REGION).values()][0]!;
    drD = {
      ...d,
      config: parseConfig(
        {
          stage: 'x',
          region: REGION,
          dr: { region: DR },
          drill: { enabled: true, volumes: { 'i-0a1b2c3d4e5f60718': { from: 'dr' } } },
        },
        'test',
      ),
    } as Deployment;
  });
  const decideDr = async (r: IamRequest) =>
    (await simulate(drRole.arn, drRole.policy, r, ACCOUNT, REGION)).decision;
  const boundDr = (c: RecordedCall) => binderFor(c)!(c, drD, 'drill');

  it('allows the drill in both regions: create, describe, delete, and the DR zone lookup', async () => {
    const requests = [
      ...boundDr(CREATE),
      ...boundDr(call('DescribeVolumes', { VolumeIds: ['vol-1'] })),
      ...boundDr(call('DeleteVolume', { VolumeId: 'vol-0123456789abcdef0' })),
      ...boundDr(call('DescribeAvailabilityZones', {})),
    ];
    expect(requests.map((r) => r.label)).toContain('CreateVolume in us-west-2 (from: dr) (new volume)');
    expect(requests).toHaveLength(3 * 2 + 2 + 2 + 1);
    for (const r of requests) expect(await decideDr(r), r.label).toBe('Allowed');
  });

  it('restores in no third region, and looks up zones in the DR region only', async () => {
    const [, volume] = boundDr(CREATE);
    const elsewhere = {
      ...volume!,
      resource: volume!.resource.replace(REGION, 'ap-southeast-2'),
      context: { ...volume!.context, 'ec2:Region': 'ap-southeast-2' },
    };
    expect(await decideDr(elsewhere)).not.toBe('Allowed');
    const [zones] = boundDr(call('DescribeAvailabilityZones', {}));
    expect(await decideDr({ ...zones!, context: { 'aws:RequestedRegion': 'ap-southeast-2' } })).not.toBe(
      'Allowed',
    );
    // The stage-only role has no zone lookup at all.
    expect(await decide(zones!)).not.toBe('Allowed');
  });

  it('has statements that mean what they say by the Service Authorization Reference', async () => {
    expect(await lintPolicy(drRole.policy)).toEqual([]);
  });
});
