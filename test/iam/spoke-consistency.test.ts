import { beforeAll, describe, expect, it } from 'vitest';
import { consistencyDocumentName } from '../../infra/consistency.js';
import { stepParameters } from '../../shared/backup/consistency-document.js';
import { parseConfig } from '../../shared/config/schema.js';
import { Tag, tagList } from '../../shared/tags.js';
import { CONSISTENT_FLEET_CONFIG } from '../support/fleet.js';
import type { RecordedCall } from '../support/sdk-recorder.js';
import { deployFleet, HUB, REGION, WORKLOAD } from './fleet-deployment.js';
import { lintPolicy } from './lint.js';
import { binderFor, type IamRequest, resourceTags } from './requests.js';
import { simulate } from './simulate.js';
import type { Deployment, RoleUnderTest } from './template.js';

// Application consistency in a spoke target, simulated: the spoke backup role (deployed in a workload account)
// may send steward's document, its own account's copy, to that account's instances tagged for a policy that
// configures consistency, and read the results: the requests shared/aws/ssm-commands.ts makes, bound by the
// IAM suite's own binder to the spoke's account and region. Refused: another document (AWS-RunShellScript,
// the hub's copy), an untagged instance or one of another policy, an instance of another region, and the
// dump tagging the hub does.
const INSTANCE = 'i-0abc1234def567890';

let spoke: Deployment;
let role: RoleUnderTest;

beforeAll(() => {
  const d = deployFleet(CONSISTENT_FLEET_CONFIG, 'fleet');
  role = [...d.spokeRoles.values()].find((r) => r.arn.includes('spoke-backup-'))!;
  // The spoke as a deployment of its own: the binder names its account and region.
  spoke = {
    name: 'spoke',
    config: parseConfig(CONSISTENT_FLEET_CONFIG, 'fleet'),
    account: WORKLOAD,
    region: REGION,
    partition: 'aws',
    roles: new Map([['backup', role]]),
    functions: new Map(),
    topicKeyArn: '',
    keyPolicies: new Map(),
    template: d.spokeTemplate as Deployment['template'],
  };
});

const call = (client: string, command: string, input: Record<string, unknown>): RecordedCall => ({
  client,
  command,
  input,
  region: REGION,
  frames: ['shared/aws/ssm-commands.ts:run'],
  test: 'test/iam/spoke-consistency.test.ts',
  mocked: true,
});
const SEND = call('SSMClient', 'SendCommand', {
  DocumentName: consistencyDocumentName('prod'),
  InstanceIds: [INSTANCE],
  Parameters: stepParameters({ phase: 'pre', command: 'x', runId: 'r', timeoutSeconds: 15 }),
  TimeoutSeconds: 30,
});
const bound = (c: RecordedCall) => binderFor(c)!(c, spoke, 'backup');
const decide = async (r: IamRequest) => (await simulate(role.arn, role.policy, r, WORKLOAD, REGION)).decision;

describe('application consistency IAM (spoke backup role)', () => {
  it('allows sending the document to a tagged instance of its account and reading the result', async () => {
    const requests = [
      ...bound(SEND),
      ...bound(call('SSMClient', 'GetCommandInvocation', { CommandId: 'c', InstanceId: INSTANCE })),
    ];
    expect(requests.map((r) => r.resource)).toEqual([
      `arn:aws:ssm:${REGION}:${WORKLOAD}:document/steward-prod-consistency`,
      `arn:aws:ec2:${REGION}:${WORKLOAD}:instance/${INSTANCE}`,
      '*',
    ]);
    for (const r of requests) expect(await decide(r), r.label).toBe('Allowed');
  });

  it("denies another document: AWS-RunShellScript, and the hub account's copy of steward's", async () => {
    const [doc] = bound(SEND);
    const other = (resource: string) => decide({ ...doc!, resource });
    expect(await other(doc!.resource.replace(/document\/.*/, 'document/AWS-RunShellScript'))).not.toBe(
      'Allowed',
    );
    expect(await other(doc!.resource.replace(WORKLOAD, HUB))).not.toBe('Allowed');
  });

  it('denies an untagged instance, an instance of another policy, and one in another region (even the DR region)', async () => {
    const [, instance] = bound(SEND);
    const daily = { [Tag.backup]: 'daily' };
    expect(await decide({ ...instance!, context: {} })).not.toBe('Allowed');
    expect(
      await decide({
        ...instance!,
        context: { ...resourceTags(instance!.resource, daily), [`ssm:resourceTag/${Tag.backup}`]: 'daily' },
      }),
    ).not.toBe('Allowed');
    expect(
      await decide({ ...instance!, resource: instance!.resource.replace(REGION, 'us-west-2') }),
    ).not.toBe('Allowed');
  });

  it('may not tag dump objects (the hub tags them in its own bucket)', async () => {
    const tag = call('S3Client', 'PutObjectTagging', {
      Bucket: 'team-dumps',
      Key: `steward/mongo/${INSTANCE}/202601150300.dump`,
      Tagging: { TagSet: tagList({ [Tag.managed]: 'true', [Tag.policy]: 'mongo', [Tag.kind]: 'dump' }) },
    });
    const requests = binderFor(tag)!(tag, spoke, 'backup');
    expect(requests.length).toBeGreaterThan(0);
    for (const r of requests) expect(await decide(r), r.label).not.toBe('Allowed');
  });

  it('has statements that mean what they say by the Service Authorization Reference', async () => {
    expect(await lintPolicy(role.policy)).toEqual([]);
  });
});
