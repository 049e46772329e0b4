import { type EC2Client, ModifySnapshotAttributeCommand } from '@aws-sdk/client-ec2';
import type { VaultSetShares } from '../backup/ports.js';
import { errorMessage } from '../errors.js';
import { attempt } from './call.js';

// The factory of the client this adapter sends through, for the callers that load this module on first use:
// the client's code then loads with the adapter that uses it, never before (test/infra/bundles.test.ts).
export { ec2Client } from './clients/ec2.js';

// How EC2 may word its refusal to share an `aws/ebs`-key snapshot ("Snapshots encrypted with your default KMS
// key cannot be shared with other accounts", EC2 API Reference, ModifySnapshotAttribute): matched on the
// message, as for RDS, since the API documents no error code of its own for it.
const DEFAULT_KEY = /default (kms|aws|ebs)? ?(cmk|key)|aws\/ebs|AWS managed (cmk|key)/i;

/**
 * The source side of an EBS vault copy, in the account and region that own the snapshot sets (the hub's own
 * credentials, or a spoke role's): add the vault account to a part's create-volume permissions, and remove
 * it once the vault holds the part's copy. Both are idempotent (adding an account that is there, or removing
 * one that is not, changes nothing); a snapshot that is gone is answered `gone`; an `aws/ebs`-key snapshot
 * `default-key`.
 */
export const ebsVaultShares = (region: string, ec2: EC2Client): VaultSetShares => {
  const modify = async (
    snapshotId: string,
    account: string,
    add: boolean,
  ): Promise<'done' | 'gone' | 'default-key'> => {
    const r = await attempt(
      'ModifySnapshotAttribute',
      `ebs snapshot ${snapshotId} in ${region} (${add ? 'share with' : 'unshare from'} vault ${account})`,
      () =>
        ec2
          .send(
            new ModifySnapshotAttributeCommand({
              SnapshotId: snapshotId,
              Attribute: 'createVolumePermission',
              OperationType: add ? 'add' : 'remove',
              UserIds: [account],
            }),
          )
          .then(
            () => 'done' as const,
            (e: unknown) => {
              if (add && DEFAULT_KEY.test(errorMessage(e))) return 'default-key' as const;
              throw e;
            },
          ),
      { gone: ['InvalidSnapshot.NotFound'] },
    );
    return r.ok ? r.value : 'gone';
  };
  return {
    region,
    share: (id, account) => modify(id, account, true),
    unshare: async (id, account) => ((await modify(id, account, false)) === 'gone' ? 'gone' : 'done'),
  };
};
