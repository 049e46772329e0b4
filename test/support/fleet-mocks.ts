import {
  DescribeOrganizationCommand,
  ListAccountsForParentCommand,
  ListChildrenCommand,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';

// The hub's fleet wiring with the SDK mocked (aws-sdk-client-mock): STS's answer to AssumeRole and the
// organization the OU target of FLEET_CONFIG (test/support/fleet.ts) lists its accounts from.

/**
 * STS AssumeRole's answer: a session whose access key is AKIA<key> (so a test can tell which role a client
 * signs with), expiring `expiresInMs` from now.
 */
export const assumedRole = (key: string, expiresInMs = 3_600_000) => ({
  Credentials: {
    AccessKeyId: `AKIA${key}`,
    SecretAccessKey: 'secret',
    SessionToken: `token-${key}`,
    Expiration: new Date(Date.now() + expiresInMs),
  },
});

/** The organization, mocked: the OU holds `accounts` (active) and no child OUs; it is managed from 555555555555. */
export const mockOrganization = (org: AwsClientStub<OrganizationsClient>, accounts: string[]): void => {
  org
    .on(ListAccountsForParentCommand)
    .resolves({ Accounts: accounts.map((Id) => ({ Id, Status: 'ACTIVE' })) });
  org.on(ListChildrenCommand).resolves({ Children: [] });
  org.on(DescribeOrganizationCommand).resolves({ Organization: { MasterAccountId: '555555555555' } });
};

/** Who a client signs as, resolved as signing resolves it: its access key and region. */
export const signer = async (client: unknown): Promise<{ key: string; region: string }> => {
  const { config } = client as {
    config: { credentials: () => Promise<{ accessKeyId: string }>; region: () => Promise<string> };
  };
  return { key: (await config.credentials()).accessKeyId, region: await config.region() };
};

/** Who sent the first `command` a mocked client received: its client's access key and region. */
export const sentBy = async (
  stub: { calls(): { args: unknown[]; thisValue: unknown }[] },
  command: abstract new (...args: never[]) => object,
): Promise<{ key: string; region: string }> => {
  const call = stub.calls().find((c) => c.args[0] instanceof command);
  if (!call) throw new Error(`no ${command.name} was sent`);
  return signer(call.thisValue);
};

/**
 * The state table's records of drills' vault shares (shared/aws/drill-stores.ts) kept by a mocked document
 * client, so a drill's cleanup finds the share it recorded (it takes back only those): an UpdateItem
 * `SET #s = if_not_exists(#s, :s)` records, `REMOVE #s` forgets, a GetItem answers the item. `apply` keeps the
 * records for a test that answers UpdateItem itself.
 */
export const mockShareRecords = (doc: AwsClientStub<DynamoDBDocumentClient>) => {
  const items = new Map<string, Record<string, unknown>>();
  const apply = (i: UpdateCommandInput): Record<string, never> => {
    const pk = String(i.Key?.pk);
    const name = i.ExpressionAttributeNames?.['#s'];
    const item = items.get(pk) ?? { pk };
    if (name && i.UpdateExpression?.startsWith('SET')) item[name] ??= i.ExpressionAttributeValues?.[':s'];
    if (name && i.UpdateExpression?.startsWith('REMOVE')) delete item[name];
    items.set(pk, item);
    return {};
  };
  doc.on(UpdateCommand).callsFake(apply);
  doc.on(GetCommand).callsFake((i: GetCommandInput) => ({ Item: items.get(String(i.Key?.pk)) }));
  return { items, apply };
};
