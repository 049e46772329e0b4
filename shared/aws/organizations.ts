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

/**
 * How long a forwarded event reuses the OU listing of an earlier one in the same container
 * (`recentDirectory`). A spoke's alarm storm then lists each OU once per container per 5 minutes, not once
 * per event (Organizations allows few requests per second per account). What a listing up to this old can
 * do: an account that joined an OU since is not found, so its forwarded events are ignored (logged) until
 * the listing expires; its spoke forwards nothing before the StackSet deploys to it, which takes minutes of
 * that window. An account that left an OU is still acted in, with its spoke role, as the cycle that listed it
 * would: at most this long after the listing.
 */
export const RECENT_LISTING_MAX_AGE_MS = 5 * 60_000;

/**
 * `directory` with each answer kept for `maxAgeMs` (by `now`, in ms): calls that come while one is being
 * listed share it; a failed listing is not kept, so the next call lists again. For forwarded events only:
 * a fan-out cycle lists afresh (shared/fleet/organization.ts, runFanOutTargets).
 */
export const recentDirectory = (
  directory: OrganizationDirectory,
  now: () => number,
  maxAgeMs = RECENT_LISTING_MAX_AGE_MS,
): OrganizationDirectory => {
  const kept = new Map<string, { at: number; answer: Promise<unknown> }>();
  const recent = <T>(key: string, ask: () => Promise<T>): Promise<T> => {
    const t = now();
    const k = kept.get(key);
    // A clock that went back counts as expired.
    if (k && t >= k.at && t - k.at < maxAgeMs) return k.answer as Promise<T>;
    const entry = { at: t, answer: ask() };
    kept.set(key, entry);
    entry.answer.catch(() => {
      if (kept.get(key) === entry) kept.delete(key);
    });
    return entry.answer;
  };
  return {
    accountsUnder: (parentId) => recent(`accounts ${parentId}`, () => directory.accountsUnder(parentId)),
    managementAccount: () => recent('management', () => directory.managementAccount()),
  };
};
