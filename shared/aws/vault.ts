import {
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBSnapshots,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { VaultCopyInput, VaultShares, VaultStore } from '../backup/ports.js';
import { AwsCallError, errorMessage, errorName } from '../errors.js';
import type { Snapshot } from '../model.js';
import { tagList } from '../tags.js';
import { attempt } from './call.js';
import { collectPages, PAGE } from './pages.js';
import { fromClusterSnapshot, fromDbSnapshot } from './snapshots.js';

const ALREADY_EXISTS = ['DBSnapshotAlreadyExistsFault', 'DBClusterSnapshotAlreadyExistsFault'];
const NOT_FOUND = ['DBSnapshotNotFoundFault', 'DBClusterSnapshotNotFoundFault'];

// RDS's attribute for "accounts that may copy or restore this manual snapshot" (ModifyDBSnapshotAttribute).
const RESTORE = 'restore';

/**
 * The source side of a vault copy, in the account and region that own the snapshot (the hub's own
 * credentials, or a spoke role's): share one of steward's snapshots with the vault account, and unshare it
 * once the vault holds its copy. Both are idempotent: adding an account that is already there, or removing
 * one that is not, changes nothing; a snapshot that is gone is answered `gone`.
 */
export const rdsVaultShares = (region: string, rds: RDSClient): VaultShares => {
  const modify = async (
    s: Pick<Snapshot, 'kind' | 'id'>,
    account: string,
    add: boolean,
  ): Promise<'done' | 'gone'> => {
    if (s.kind === 'elasticache') throw new TypeError('ElastiCache backups are not shared with the vault');
    const cluster = s.kind === 'aurora-cluster';
    const values = add ? { ValuesToAdd: [account] } : { ValuesToRemove: [account] };
    const r = await attempt(
      cluster ? 'ModifyDBClusterSnapshotAttribute' : 'ModifyDBSnapshotAttribute',
      `${s.kind} snapshot ${s.id} in ${region} (${add ? 'share with' : 'unshare from'} vault ${account})`,
      () =>
        cluster
          ? rds.send(
              new ModifyDBClusterSnapshotAttributeCommand({
                DBClusterSnapshotIdentifier: s.id,
                AttributeName: RESTORE,
                ...values,
              }),
            )
          : rds.send(
              new ModifyDBSnapshotAttributeCommand({
                DBSnapshotIdentifier: s.id,
                AttributeName: RESTORE,
                ...values,
              }),
            ),
      { gone: NOT_FOUND },
      (e) =>
        // "You can't share a snapshot that has been encrypted using the default KMS key of the AWS account
        // that shared the snapshot" (RDS User Guide, "Sharing encrypted snapshots"): say what to do.
        add && /default (kms|aws) key|aws\/rds|AWS managed key/i.test(errorMessage(e))
          ? new AwsCallError(
              cluster ? 'ModifyDBClusterSnapshotAttribute' : 'ModifyDBSnapshotAttribute',
              `${s.kind} snapshot ${s.id} in ${region}: it is encrypted with the AWS-managed aws/rds key, which cannot be shared with another account; encrypt the database with a customer managed key whose policy lets the vault account use it through RDS`,
              e,
            )
          : undefined,
    );
    return r.ok ? 'done' : 'gone';
  };
  return {
    region,
    share: (s, account) => modify(s, account, true),
    unshare: (s, account) => modify(s, account, false),
  };
};

/**
 * The vault side, with the vault copy role's credentials in one vault region: the vault's own snapshots,
 * the snapshots other accounts share with it, and the copy (re-encrypted with the vault key).
 */
export const rdsVaultStore = (region: string, rds: RDSClient): VaultStore => {
  const list = async (type: 'manual' | 'shared'): Promise<Snapshot[]> => {
    const shared = type === 'shared' ? { IncludeShared: true } : {};
    const [dbs, clusters] = await Promise.all([
      collectPages(
        paginateDescribeDBSnapshots({ client: rds, ...PAGE }, { SnapshotType: type, ...shared }),
        (p) => p.DBSnapshots,
        (s) => fromDbSnapshot(s, region),
        'DescribeDBSnapshots',
        `${type} snapshots in vault region ${region}`,
      ),
      collectPages(
        paginateDescribeDBClusterSnapshots({ client: rds, ...PAGE }, { SnapshotType: type, ...shared }),
        (p) => p.DBClusterSnapshots,
        (s) => fromClusterSnapshot(s, region),
        'DescribeDBClusterSnapshots',
        `${type} cluster snapshots in vault region ${region}`,
      ),
    ]);
    return [...dbs, ...clusters];
  };

  /**
   * Copy a snapshot shared with the vault into it, by the source's ARN (required for a shared snapshot), with
   * the vault key (required for a shared encrypted one; an unencrypted cluster snapshot cannot be encrypted
   * by a copy, so it gets none). Explicit tags, no CopyTags: the copy carries steward's vault tags only.
   */
  const copy = async (input: VaultCopyInput): Promise<'started' | 'already-done'> => {
    if (input.kind === 'elasticache')
      throw new TypeError('ElastiCache backups are not copied into the vault');
    const cluster = input.kind === 'aurora-cluster';
    const op = cluster ? 'CopyDBClusterSnapshot' : 'CopyDBSnapshot';
    const Tags = tagList(input.tags);
    const target = `${input.kind} snapshot ${input.sourceArn} -> vault ${input.targetId} in ${region}`;
    const r = await attempt(
      op,
      target,
      () =>
        cluster
          ? rds.send(
              new CopyDBClusterSnapshotCommand({
                SourceDBClusterSnapshotIdentifier: input.sourceArn,
                TargetDBClusterSnapshotIdentifier: input.targetId,
                KmsKeyId: input.encrypted === false ? undefined : input.kmsKeyId,
                Tags,
              }),
            )
          : rds.send(
              new CopyDBSnapshotCommand({
                SourceDBSnapshotIdentifier: input.sourceArn,
                TargetDBSnapshotIdentifier: input.targetId,
                KmsKeyId: input.kmsKeyId,
                Tags,
              }),
            ),
      { exists: ALREADY_EXISTS },
      (e) =>
        errorName(e) === 'KMSKeyNotAccessibleFault'
          ? new AwsCallError(
              op,
              `${target}: a KMS key is not usable: the vault key ${input.kmsKeyId} must allow the vault copy role through RDS, and the source snapshot's key must allow the vault account (its key policy, in the source account)`,
              e,
            )
          : undefined,
    );
    return r.ok ? 'started' : 'already-done';
  };

  return { region, copies: () => list('manual'), shared: () => list('shared'), copy };
};
