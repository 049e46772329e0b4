import { beforeAll, describe, expect, it } from 'vitest';
import { consistencyDocumentName } from '../../infra/consistency.js';
import { stepParameters } from '../../shared/backup/consistency-document.js';
import { dumpTags } from '../../shared/backup/consistency.js';
import { Tag, tagList } from '../../shared/tags.js';
import type { RecordedCall } from '../support/sdk-recorder.js';
import { fullConfig } from './full-config.js';
import { lintPolicy } from './lint.js';
import { binderFor, type IamRequest, resourceTags } from './requests.js';
import { simulate } from './simulate.js';
import { type Deployment, synthesize } from './template.js';

// Application consistency's grants, simulated on the full config (policy "mongo" configures it) with the
// calls shared/aws/ssm-commands.ts sends, and the negative cases: another document, an instance of another
// policy, an object outside the dump prefix. (test/iam/suite.ts simulates the recorded calls too.)
let d: Deployment;
const INSTANCE = 'i-0abc1234def567890';

const call = (client: string, command: string, input: Record<string, unknown>): RecordedCall => ({
  client,
  command,
  input,
  region: 'eu-west-1',
  frames: ['shared/aws/ssm-commands.ts:run'],
  test: 'test/iam/consistency.test.ts',
  mocked: true,
});

const SEND = call('SSMClient', 'SendCommand', {
  DocumentName: consistencyDocumentName('staging'),
  InstanceIds: [INSTANCE],
  Parameters: stepParameters({ phase: 'pre', command: 'x', runId: 'r', timeoutSeconds: 15 }),
  TimeoutSeconds: 30,
});
const TAG_DUMP = call('S3Client', 'PutObjectTagging', {
  Bucket: 'team-dumps',
  Key: `steward/mongo/${INSTANCE}/202601150300.dump`,
  Tagging: { TagSet: tagList({ [Tag.managed]: 'true', [Tag.policy]: 'mongo', [Tag.kind]: 'dump' }) },
});

const decide = async (r: IamRequest) => {
  const role = d.roles.get('backup')!;
  return (await simulate(role.arn, role.policy, r, d.account, d.region)).decision;
};
const bound = (c: RecordedCall) => binderFor(c)!(c, d, 'backup');

beforeAll(() => {
  d = synthesize('full', fullConfig);
});

describe('application consistency IAM (backup role, full config)', () => {
  it('allows every request the step runner and the dump tagger make', async () => {
    const requests = [
      ...bound(SEND),
      ...bound(call('SSMClient', 'GetCommandInvocation', { CommandId: 'c', InstanceId: INSTANCE })),
      ...bound(TAG_DUMP),
    ];
    expect(requests).toHaveLength(4);
    for (const r of requests) expect(await decide(r), r.label).toBe('Allowed');
  });

  it('denies another document (AWS-RunShellScript), an instance of another policy, an untagged instance', async () => {
    const [doc, instance] = bound(SEND);
    expect(
      await decide({
        ...doc!,
        resource: doc!.resource.replace(/document\/.*/, 'document/AWS-RunShellScript'),
      }),
    ).not.toBe('Allowed');
    const other = { [Tag.backup]: 'daily' };
    expect(
      await decide({
        ...instance!,
        context: { ...resourceTags(instance!.resource, other), [`ssm:resourceTag/${Tag.backup}`]: 'daily' },
      }),
    ).not.toBe('Allowed');
    expect(await decide({ ...instance!, context: {} })).not.toBe('Allowed');
  });

  it("allows the tags a fan-out child writes on an OU account's dump (steward:account, steward:region, steward:ou)", async () => {
    // No new grant: the same PutObjectTagging, whose only condition is steward:managed=true.
    const TagSet = tagList(
      dumpTags(
        { instanceId: INSTANCE, policy: 'mongo', setId: '202601150300', createdBy: 'backup' },
        { account: '444444444444', region: 'eu-central-1', organizationalUnits: ['ou-ab12-cd34ef56'] },
      ),
    );
    expect(TagSet).toContainEqual({ Key: Tag.ou, Value: 'ou-ab12-cd34ef56' });
    const requests = bound(
      call('S3Client', 'PutObjectTagging', {
        Bucket: 'team-dumps',
        Key: `steward/mongo/${INSTANCE}/202601150300.dump`,
        Tagging: { TagSet },
      }),
    );
    expect(requests).toHaveLength(1);
    for (const r of requests) expect(await decide(r), r.label).toBe('Allowed');
  });

  it('denies tagging objects outside the dump prefix, or without steward:managed', async () => {
    const [tag] = bound(TAG_DUMP);
    expect(await decide({ ...tag!, resource: 'arn:aws:s3:::team-dumps/other/x.dump' })).not.toBe('Allowed');
    expect(await decide({ ...tag!, resource: 'arn:aws:s3:::someone-else/steward/x.dump' })).not.toBe(
      'Allowed',
    );
    const { [`s3:RequestObjectTag/${Tag.managed}`]: _, ...withoutManaged } = tag!.context;
    expect(await decide({ ...tag!, context: withoutManaged })).not.toBe('Allowed');
  });

  it('has statements that mean what they say by the Service Authorization Reference', async () => {
    const findings = await lintPolicy(d.roles.get('backup')!.policy);
    expect(findings).toEqual([]);
  });
});

describe('dump retention IAM (retention role, full config)', () => {
  const KEY = `steward/mongo/${INSTANCE}/steward-${INSTANCE}-202601150300-sched.dump`;
  const dumpCall = (command: string, input: Record<string, unknown>): RecordedCall => ({
    ...call('S3Client', command, input),
    frames: ['shared/aws/dump-objects.ts:list'],
  });
  const retention = async (r: IamRequest) => {
    const role = d.roles.get('retention')!;
    return (await simulate(role.arn, role.policy, r, d.account, d.region)).decision;
  };
  const boundTo = (c: RecordedCall) => binderFor(c)!(c, d, 'retention');

  it('allows listing the dump prefix, reading a dump’s tags and deleting it', async () => {
    const requests = [
      ...boundTo(dumpCall('ListObjectsV2', { Bucket: 'team-dumps', Prefix: 'steward/' })),
      ...boundTo(dumpCall('GetObjectTagging', { Bucket: 'team-dumps', Key: KEY })),
      ...boundTo(dumpCall('DeleteObject', { Bucket: 'team-dumps', Key: KEY })),
    ];
    expect(requests.map((r) => r.action)).toEqual([
      's3:ListBucket',
      's3:GetObjectTagging',
      's3:DeleteObject',
    ]);
    for (const r of requests) expect(await retention(r), r.label).toBe('Allowed');
  });

  it('denies deleting outside the dump prefix, an object not named .dump, and listing another prefix', async () => {
    const [list] = boundTo(dumpCall('ListObjectsV2', { Bucket: 'team-dumps', Prefix: 'steward/' }));
    const [del] = boundTo(dumpCall('DeleteObject', { Bucket: 'team-dumps', Key: KEY }));
    expect(await retention({ ...del!, resource: 'arn:aws:s3:::team-dumps/other/x.dump' })).not.toBe(
      'Allowed',
    );
    expect(
      await retention({ ...del!, resource: 'arn:aws:s3:::team-dumps/steward/mongo/notes.txt' }),
    ).not.toBe('Allowed');
    expect(await retention({ ...del!, resource: 'arn:aws:s3:::someone-else/steward/x.dump' })).not.toBe(
      'Allowed',
    );
    expect(await retention({ ...list!, context: { 's3:prefix': '' } })).not.toBe('Allowed');
    expect(await retention({ ...list!, context: { 's3:prefix': 'other/' } })).not.toBe('Allowed');
  });

  it('the backup role may not delete dumps', async () => {
    const [del] = boundTo(dumpCall('DeleteObject', { Bucket: 'team-dumps', Key: KEY }));
    expect(await decide(del!)).not.toBe('Allowed');
  });

  it('has statements that mean what they say by the Service Authorization Reference', async () => {
    expect(await lintPolicy(d.roles.get('retention')!.policy)).toEqual([]);
  });
});
