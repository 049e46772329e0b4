import {
  DescribeOrganizationCommand,
  ListAccountsForParentCommand,
  ListChildrenCommand,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
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
