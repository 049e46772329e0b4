import {
  DescribeOrganizationCommand,
  type OrganizationsClient,
  paginateListAccountsForParent,
  paginateListChildren,
} from '@aws-sdk/client-organizations';
import { StewardError } from '../errors.js';
import type { OrganizationDirectory } from '../fleet/organization.js';
import { call } from './call.js';
import { collectPages } from './pages.js';

// The factory of the client this adapter sends through, for the callers that load this module on first use:
// the client's code then loads with the adapter that uses it, never before (test/infra/bundles.test.ts).
export { organizationsClient } from './clients/organizations.js';

// ListAccountsForParent answers only the accounts directly in a parent (AWS Organizations API Reference:
// "you get a list of all the accounts in only that OU and not in any child OUs"), so nested OUs are walked
// with ListChildren (ChildType ORGANIZATIONAL_UNIT). Both may return an empty page with a NextToken: the
// paginators follow NextToken until it is null, as the reference asks. Page size: both allow 1-20.
const PAGE = { pageSize: 20 } as const;

/** The organization's accounts as Organizations lists them, from the hub (management or delegated admin). */
export const organizationDirectory = (client: OrganizationsClient): OrganizationDirectory => {
  const accountsIn = (parentId: string) =>
    collectPages(
      paginateListAccountsForParent({ client, ...PAGE }, { ParentId: parentId }),
      (p) => p.Accounts,
      // `Status` is retired on 9 September 2026 in favour of `State` (the SDK's Account shape); either
      // says ACTIVE for an account steward may act in (not suspended, closed or closing).
      (a) => ((a.State ?? a.Status) === 'ACTIVE' && a.Id ? a.Id : undefined),
      'ListAccountsForParent',
      parentId,
    );
  const childOus = (parentId: string) =>
    collectPages(
      paginateListChildren({ client, ...PAGE }, { ParentId: parentId, ChildType: 'ORGANIZATIONAL_UNIT' }),
      (p) => p.Children,
      (c) => c.Id,
      'ListChildren',
      parentId,
    );
  const accountsUnder = async (parentId: string): Promise<string[]> => {
    // Breadth first, one OU at a time: Organizations allows few requests per second per account.
    const out = new Set<string>();
    const queue = [parentId];
    for (let ou = queue.shift(); ou !== undefined; ou = queue.shift()) {
      for (const a of await accountsIn(ou)) out.add(a);
      queue.push(...(await childOus(ou)));
    }
    return [...out].sort();
  };
  return {
    accountsUnder,
    managementAccount: async () => {
      const r = await call('DescribeOrganization', 'organization', () =>
        client.send(new DescribeOrganizationCommand({})),
      );
      const id = r.Organization?.MasterAccountId;
      if (!id) throw new StewardError('DescribeOrganization named no management account');
      return id;
    },
  };
};
