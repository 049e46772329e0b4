import { type EC2Client, paginateDescribeSnapshots } from '@aws-sdk/client-ec2';
import type { VaultSetStore } from '../backup/ports.js';
import { ebsBackup } from './ebs.js';
import { collectPages } from './pages.js';

// The factory of the client this adapter sends through, for the callers that load this module on first use:
// the client's code then loads with the adapter that uses it, never before (test/infra/bundles.test.ts).
export { ec2Client } from './clients/ec2.js';

// DescribeSnapshots takes MaxResults 5–1000 (EC2 API Reference).
const SNAPSHOT_PAGE = 1000;

/**
 * The vault side of EBS vault copies, with the vault copy role's credentials in one vault region: the vault's
 * own snapshot sets, the snapshots a source account shares with the vault, and the copy of a shared set
 * (each part on its own, re-encrypted with the vault key, tagged on creation, idempotent by `steward:set`
 * and `steward:volume`: a run that stopped half-way is completed by the next).
 */
export const ebsVaultStore = (region: string, ec2: EC2Client): VaultSetStore => {
  const ebs = ebsBackup(region, ec2);
  return {
    region,
    // Awaited here (not handed through), so every call this store sends names it on its stack.
    copies: async () => {
      const sets = await ebs.listSets();
      return sets;
    },
    /**
     * Snapshots of `account` the vault may create volumes from: EC2 lists another account's snapshot only
     * while it is shared ("If you specify one or more snapshot owners using the OwnerIds option, only
     * snapshots from the specified owners and for which you have access are returned", EC2 API Reference,
     * DescribeSnapshots). Ids only: the plan finds each in the source account's own listing of its sets.
     */
    shared: async (account) => {
      const ids = await collectPages(
        paginateDescribeSnapshots(
          { client: ec2, pageSize: SNAPSHOT_PAGE },
          { OwnerIds: [account], RestorableByUserIds: ['self'] },
        ),
        (p) => p.Snapshots,
        (s) => s.SnapshotId ?? '',
        'DescribeSnapshots',
        `snapshots ${account} shares with the vault in ${region}`,
      );
      return ids.filter(Boolean);
    },
    copySet: async (input, onStarted) => {
      const r = await ebs.copySnapshot(
        {
          kind: 'ebs',
          sourceArn: input.sourceArn,
          targetId: input.targetId,
          // Every vault copy is encrypted with the vault key, an unencrypted source too.
          kmsKeyId: input.kmsKeyId,
          parts: input.parts,
          tags: input.tags,
        },
        onStarted,
      );
      return r;
    },
  };
};
