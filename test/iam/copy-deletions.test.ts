import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoCopyDeletionLedger } from '../../shared/aws/drill-stores.js';
import type { StewardConfigInput } from '../../shared/config/schema.js';
import type { RecordedCall } from '../support/sdk-recorder.js';
import { binderFor, type IamRequest } from './requests.js';
import { simulate } from './simulate.js';
import { type Deployment, type RoleUnderTest, synthesize } from './template.js';

// The drill's record of the copies being deleted (shared/aws/drill-stores.ts): Cleanup and the execution-ended
// rule record a copy before deleting it, and its RDS event and the janitor delete and forget one RDS refused while
// it was being created. The drill function's role records, lists and forgets them under their own partition key.
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const CONFIG = {
  stage: 'handover',
  region: REGION,
  account: ACCOUNT,
  drill: {
    enabled: true,
    targets: { ledger: { kind: 'aurora-cluster', profile: { database: 'app' } } },
  },
} satisfies StewardConfigInput;

let deployment: Deployment;
let drill: RoleUnderTest;

const doc = mockClient(DynamoDBDocumentClient);
// The IAM files share a process (vitest project `iam`, `isolate: false`): the client is left as it was.
afterAll(() => doc.restore());

beforeAll(() => {
  deployment = synthesize('copy-deletions', CONFIG);
  drill = deployment.roles.get('drill')!;
});

const decide = async (role: RoleUnderTest, r: IamRequest) =>
  (await simulate(role.arn, role.policy, r, ACCOUNT, REGION)).decision;

/** The IAM requests of what the ledger sends (record, list, forget), from the adapter itself. */
const ledgerRequests = async (): Promise<IamRequest[]> => {
  doc.reset();
  doc.on(UpdateCommand).resolves({});
  doc.on(GetCommand).resolves({ Item: undefined });
  const ledger = dynamoCopyDeletionLedger(
    DynamoDBDocumentClient.from(new DynamoDBClient({ region: REGION })),
    'steward-handover-state',
  );
  const d = {
    kind: 'aurora-cluster' as const,
    id: 'steward-drill-ledger-0a1b2c3d',
    drillId: 'monthly-x',
    region: REGION,
    since: '2026-02-01T06:10:00.000Z',
  };
  await ledger.record(d);
  await ledger.list();
  await ledger.forget(d);
  const calls: RecordedCall[] = [
    ...doc.commandCalls(UpdateCommand).map((x) => ({ command: 'Update', input: x.args[0].input })),
    ...doc.commandCalls(GetCommand).map((x) => ({ command: 'Get', input: x.args[0].input })),
  ].map((c) => ({
    client: 'DynamoDBDocumentClient',
    ...c,
    region: REGION,
    frames: ['shared/aws/drill-stores.ts:dynamoCopyDeletionLedger'],
    test: 'test/iam/copy-deletions.test.ts',
    mocked: true,
  }));
  return calls.flatMap((c) => binderFor(c)!(c, deployment, 'drill'));
};

describe('drill copies being deleted IAM', () => {
  it('lets the drill role record, list and forget them in the state table', async () => {
    const requests = await ledgerRequests();
    expect(requests.map((r) => r.action)).toEqual([
      'dynamodb:UpdateItem',
      'dynamodb:UpdateItem',
      'dynamodb:GetItem',
    ]);
    for (const r of requests) expect(await decide(drill, r), r.label).toBe('Allowed');
  });

  it('grants no other partition key', async () => {
    const [update] = await ledgerRequests();
    const other = { ...update!, context: { 'dynamodb:LeadingKeys': ['scaling-cooldown#x'] } };
    expect(await decide(drill, other)).not.toBe('Allowed');
    const fsr = { ...update!, context: { 'dynamodb:LeadingKeys': ['drill-fast-restores'] } };
    expect(await decide(drill, fsr)).not.toBe('Allowed');
  });
});
