import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll } from 'vitest';
import type { RecordedCall } from '../support/sdk-recorder.js';
import { binderFor, type IamRequest } from './requests.js';
import { simulate } from './simulate.js';
import type { Deployment, RoleUnderTest } from './template.js';

/**
 * The IAM of a record the drill keeps in the stage's state table (shared/aws/drill-stores.ts: the copies being
 * deleted, the fast snapshot restores turned on). `requests` runs the adapter against a mocked document client
 * (`exercise`: its record, list and forget) and binds what it sent to the drill role's IAM requests; `decide`
 * simulates one against a role. Call once per file, at its top: the IAM files share a process (vitest project
 * `iam`, `isolate: false`), so the client is restored after the file.
 */
export const drillLedgerIam = (o: {
  account: string;
  region: string;
  /** The adapter's `<file>:<function>`, as a recorded call names its frame. */
  frame: string;
  /** The test file, as a recorded call names it. */
  test: string;
}) => {
  const doc = mockClient(DynamoDBDocumentClient);
  afterAll(() => doc.restore());
  return {
    requests: async (
      deployment: Deployment,
      exercise: (client: DynamoDBDocumentClient) => Promise<void>,
    ): Promise<IamRequest[]> => {
      doc.reset();
      doc.on(UpdateCommand).resolves({});
      doc.on(GetCommand).resolves({ Item: undefined });
      await exercise(DynamoDBDocumentClient.from(new DynamoDBClient({ region: o.region })));
      const calls: RecordedCall[] = [
        ...doc.commandCalls(UpdateCommand).map((x) => ({ command: 'Update', input: x.args[0].input })),
        ...doc.commandCalls(GetCommand).map((x) => ({ command: 'Get', input: x.args[0].input })),
      ].map((c) => ({
        client: 'DynamoDBDocumentClient',
        ...c,
        region: o.region,
        frames: [o.frame],
        test: o.test,
        mocked: true,
      }));
      return calls.flatMap((c) => binderFor(c)!(c, deployment, 'drill'));
    },
    decide: async (role: RoleUnderTest, r: IamRequest) =>
      (await simulate(role.arn, role.policy, r, o.account, o.region)).decision,
  };
};
