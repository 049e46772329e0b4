import {
  DescribeSnapshotAttributeCommand,
  type EC2Client,
  ModifySnapshotAttributeCommand,
} from '@aws-sdk/client-ec2';
import type { VaultDrillPort } from '../drill/ports.js';
import { VaultTag } from '../fleet/vault.js';
import { Tag } from '../tags.js';
import { attempt } from './call.js';
import { ownedSnapshotSets } from './ebs-drill.js';

/**
 * The EBS half of the vault side of a drill from the vault, with the vault drill role's credentials in one vault
 * region: the vault's copies of one instance's (or volume's) snapshot sets, and the create-volume permission of
 * one part for the drill's account. Everything else (`kind` an RDS or Aurora copy) goes to `rds`, the RDS half.
 * The role may change the permission of steward's tagged vault copies for the hub account only, and can
 * neither copy, delete nor re-tag one (infra/vault-drill.ts).
 */
export const withEbsVaultSets = (rds: VaultDrillPort, ec2: EC2Client): VaultDrillPort => {
  const { account, region } = rds;
  const modify = async (snapshotId: string, to: string, add: boolean): Promise<'done' | 'gone'> => {
    const r = await attempt(
      'ModifySnapshotAttribute',
      `vault ebs copy ${snapshotId} in vault ${account} ${region} (${add ? 'share with' : 'unshare from'} drill account ${to})`,
      () =>
        ec2.send(
          new ModifySnapshotAttributeCommand({
            SnapshotId: snapshotId,
            Attribute: 'createVolumePermission',
            OperationType: add ? 'add' : 'remove',
            UserIds: [to],
          }),
        ),
      { gone: ['InvalidSnapshot.NotFound'] },
    );
    return r.ok ? 'done' : 'gone';
  };
  return {
    ...rds,
    // The vault's own snapshots, by the vault copy's tags: only steward's copies of that source and account.
    // Awaited here, so that this module is on the call's stack: it runs as the vault drill role.
    sets: async (source, sourceAccount) =>
      await ownedSnapshotSets(
        ec2,
        region,
        [
          { Name: `tag:${VaultTag.vault}`, Values: ['true'] },
          { Name: `tag:${Tag.source}`, Values: [source] },
          { Name: `tag:${VaultTag.sourceAccount}`, Values: [sourceAccount] },
        ],
        `vault copies of the sets of ${source} (account ${sourceAccount}) in vault ${account} ${region}`,
      ),
    share: (copy, to) => (copy.kind === 'ebs' ? modify(copy.id, to, true) : rds.share(copy, to)),
    unshare: (copy, to) => (copy.kind === 'ebs' ? modify(copy.id, to, false) : rds.unshare(copy, to)),
    // The part's create-volume permission now (EC2 API Reference, DescribeSnapshotAttribute).
    sharedWith: async (copy, to) => {
      if (copy.kind !== 'ebs') return rds.sharedWith(copy, to);
      const r = await attempt(
        'DescribeSnapshotAttribute',
        `vault ebs copy ${copy.id} in vault ${account} ${region} (who may create volumes from it)`,
        () =>
          ec2.send(
            new DescribeSnapshotAttributeCommand({
              SnapshotId: copy.id,
              Attribute: 'createVolumePermission',
            }),
          ),
        { gone: ['InvalidSnapshot.NotFound'] },
      );
      return r.ok ? (r.value?.CreateVolumePermissions ?? []).some((p) => p.UserId === to) : false;
    },
  };
};
