import {
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  DeleteDBClusterSnapshotCommand,
  DeleteDBSnapshotCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBSnapshots,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { ReencryptInput, VaultCopyInput, VaultShares, VaultStore } from '../backup/ports.js';
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

// How RDS words its refusal to share an `aws/rds`-key snapshot (the message, not a distinct error code).
const DEFAULT_KEY = /default (kms|aws) key|aws\/rds|AWS managed key/i;

/**
 * The source side of a vault copy, in the account and region that own the snapshot (the hub's own
 * credentials, or a spoke role's): share one of steward's snapshots with the vault account, and unshare it
 * once the vault holds its copy. Both are idempotent: adding an account that is already there, or removing
 * one that is not, changes nothing; a snapshot that is gone is answered `gone`. An `aws/rds`-key snapshot is
 * answered `default-key`: the flow re-encrypts it (`reencrypt`) and deletes that copy afterwards (`remove`).
 */
export const rdsVaultShares = (region: string, rds: RDSClient): VaultShares => {
  const modify = async (
    s: Pick<Snapshot, 'kind' | 'id'>,
    account: string,
    add: boolean,
  ): Promise<'done' | 'gone' | 'default-key'> => {
    if (s.kind === 'elasticache') throw new TypeError('ElastiCache backups are not shared with the vault');
    const cluster = s.kind === 'aurora-cluster';
    const values = add ? { ValuesToAdd: [account] } : { ValuesToRemove: [account] };
    const r = await attempt(
      cluster ? 'ModifyDBClusterSnapshotAttribute' : 'ModifyDBSnapshotAttribute',
      `${s.kind} snapshot ${s.id} in ${region} (${add ? 'share with' : 'unshare from'} vault ${account})`,
      () =>
        (cluster
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
            )
        ).then(
          () => 'done' as const,
          (e: unknown) => {
            // "You can't share a snapshot that has been encrypted using the default KMS key of the AWS account
            // that shared the snapshot" (RDS User Guide, "Sharing encrypted snapshots"): the caller re-encrypts.
            if (add && DEFAULT_KEY.test(errorMessage(e))) return 'default-key' as const;
            throw e;
          },
        ),
      { gone: NOT_FOUND },
    );
    return r.ok ? r.value : 'gone';
  };

  /**
   * Copy one of steward's snapshots within its account and region, re-encrypted with a customer managed key
   * (KmsKeyId re-encrypts a same-account copy: RDS API Reference, CopyDBSnapshot/CopyDBClusterSnapshot
   * KmsKeyId). Explicit tags, no CopyTags: the copy carries no backup policy, so no GFS group counts it.
   */
  const reencrypt = async (input: ReencryptInput): Promise<'started' | 'already-done'> => {
    if (input.kind === 'elasticache') throw new TypeError('ElastiCache backups are not re-encrypted');
    const cluster = input.kind === 'aurora-cluster';
    const Tags = tagList(input.tags);
    const r = await attempt(
      cluster ? 'CopyDBClusterSnapshot' : 'CopyDBSnapshot',
      `${input.kind} snapshot ${input.sourceId} -> ${input.targetId} in ${region} (re-encrypted for the vault)`,
      () =>
        cluster
          ? rds.send(
              new CopyDBClusterSnapshotCommand({
                SourceDBClusterSnapshotIdentifier: input.sourceId,
                TargetDBClusterSnapshotIdentifier: input.targetId,
                KmsKeyId: input.kmsKeyId,
                Tags,
              }),
            )
          : rds.send(
              new CopyDBSnapshotCommand({
                SourceDBSnapshotIdentifier: input.sourceId,
                TargetDBSnapshotIdentifier: input.targetId,
                KmsKeyId: input.kmsKeyId,
                Tags,
              }),
            ),
      { exists: ALREADY_EXISTS },
    );
    return r.ok ? 'started' : 'already-done';
  };

  const remove = async (s: Pick<Snapshot, 'kind' | 'id'>): Promise<'deleted' | 'already-gone'> => {
    if (s.kind === 'elasticache') throw new TypeError('ElastiCache backups are not re-encrypted');
    const cluster = s.kind === 'aurora-cluster';
    const r = await attempt(
      cluster ? 'DeleteDBClusterSnapshot' : 'DeleteDBSnapshot',
      `${s.kind} snapshot ${s.id} in ${region} (re-encrypted copy, the vault holds its copy)`,
      () =>
        cluster
          ? rds.send(new DeleteDBClusterSnapshotCommand({ DBClusterSnapshotIdentifier: s.id }))
          : rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: s.id })),
      { gone: NOT_FOUND },
    );
    return r.ok ? 'deleted' : 'already-gone';
  };

  return {
    region,
    share: (s, account) => modify(s, account, true),
    unshare: async (s, account) => ((await modify(s, account, false)) === 'gone' ? 'gone' : 'done'),
    reencrypt,
    remove,
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
