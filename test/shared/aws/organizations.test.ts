import {
  type AccountState,
  DescribeOrganizationCommand,
  ListAccountsForParentCommand,
  ListChildrenCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { organizationDirectory } from '../../../shared/aws/organizations.js';
import { AwsCallError } from '../../../shared/errors.js';

const org = mockClient(OrganizationsClient);
const directory = () => organizationDirectory(new OrganizationsClient({ region: 'eu-west-1' }));
const account = (Id: string, State: AccountState = 'ACTIVE') => ({ Id, State });

// ou-root-prod holds 111 and (on a second page after an empty one) 222 and a suspended 999; it nests
// ou-root-team, which holds 333 and nests ou-root-deep (444, and 222 again: listed once).
beforeEach(() => {
  org.reset();
  org
    .on(ListAccountsForParentCommand, { ParentId: 'ou-root-prod' })
    .resolvesOnce({ Accounts: [account('111111111111')], NextToken: 'a' })
    .resolvesOnce({ Accounts: [], NextToken: 'b' })
    .resolvesOnce({ Accounts: [account('222222222222'), account('999999999999', 'SUSPENDED')] })
    .on(ListAccountsForParentCommand, { ParentId: 'ou-root-team' })
    .resolves({ Accounts: [account('333333333333'), account('888888888888', 'PENDING_CLOSURE')] })
    .on(ListAccountsForParentCommand, { ParentId: 'ou-root-deep' })
    .resolves({ Accounts: [account('444444444444'), { Id: '222222222222', Status: 'ACTIVE' }] })
    .on(ListChildrenCommand, { ParentId: 'ou-root-prod' })
    .resolves({ Children: [{ Id: 'ou-root-team', Type: 'ORGANIZATIONAL_UNIT' }] })
    .on(ListChildrenCommand, { ParentId: 'ou-root-team' })
    .resolvesOnce({ Children: [], NextToken: 'c' })
    .resolvesOnce({ Children: [{ Id: 'ou-root-deep', Type: 'ORGANIZATIONAL_UNIT' }] })
    .on(ListChildrenCommand, { ParentId: 'ou-root-deep' })
    .resolves({ Children: [] });
});

describe('organizationDirectory', () => {
  it('lists the ACTIVE accounts of an OU and of every OU nested in it, following every page', async () => {
    // Act
    const accounts = await directory().accountsUnder('ou-root-prod');
    // Assert
    expect(accounts).toEqual(['111111111111', '222222222222', '333333333333', '444444444444']);
    expect(org).toHaveReceivedCommandWith(ListAccountsForParentCommand, {
      ParentId: 'ou-root-prod',
      NextToken: 'b',
      MaxResults: 20,
    });
    expect(org).toHaveReceivedCommandWith(ListChildrenCommand, {
      ParentId: 'ou-root-team',
      ChildType: 'ORGANIZATIONAL_UNIT',
      NextToken: 'c',
    });
    expect(org).toHaveReceivedCommandTimes(ListAccountsForParentCommand, 5);
  });

  it('names the management account', async () => {
    // Prepare
    org.on(DescribeOrganizationCommand).resolves({ Organization: { MasterAccountId: '555555555555' } });
    // Act, Assert
    await expect(directory().managementAccount()).resolves.toBe('555555555555');
  });

  it('fails naming the OU when Organizations refuses (the hub is neither management nor delegated admin)', async () => {
    // Prepare
    org.on(ListAccountsForParentCommand, { ParentId: 'ou-root-prod' }).rejects(
      Object.assign(new Error('You don’t have permissions to access this resource.'), {
        name: 'AccessDeniedException',
      }),
    );
    // Act
    const e = await directory()
      .accountsUnder('ou-root-prod')
      .catch((x: unknown) => x);
    // Assert
    expect(e).toBeInstanceOf(AwsCallError);
    expect(String((e as Error).message)).toMatch(/ListAccountsForParent.*ou-root-prod/);
  });
});
