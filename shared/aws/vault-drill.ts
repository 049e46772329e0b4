import {
  CopyDBSnapshotCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBSnapshotAttributesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBSnapshots,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { DRILL_PREFIX } from '../drill/ids.js';
import type { DrillCopy, StagedCopyPort, VaultCopy, VaultDrillPort } from '../drill/ports.js';
import { AwsCallError, errorName, GuardRefusedError } from '../errors.js';
import { Tag, tagList, tagRecord } from '../tags.js';
import { attempt } from './call.js';
import { collectPages, PAGE } from './pages.js';
import { iso } from './rds-drill-lookup.js';
import { fromClusterSnapshot, fromDbSnapshot } from './snapshots.js';

const NOT_FOUND = ['DBSnapshotNotFoundFault', 'DBClusterSnapshotNotFoundFault'];
// RDS's attribute for "accounts that may copy or restore this manual snapshot" (ModifyDBSnapshotAttribute).
const RESTORE = 'restore';
// Statuses from which a snapshot copy never becomes available.
const FAILED = new Set(['failed', 'incompatible-restore', 'deleting', 'deleted']);

/**
 * The vault side of a drill from the vault, with the vault drill role's credentials in one vault region: list
 * the vault's copies of one database, and share (or unshare) one copy with the drill's account. Sharing is all
 * the role may do to a copy: it can neither copy, delete nor re-tag one (infra/vault-drill.ts).
 */
export const rdsVaultDrillPort = (region: string, rds: RDSClient, account: string): VaultDrillPort => {
  // A filter, not DB(Cluster)Identifier: that one must name a database that exists, and the vault has none (RDS
  // API Reference, DescribeDBSnapshots/DescribeDBClusterSnapshots: db-instance-id / db-cluster-id filters).
  const copies = async (kind: 'rds-instance' | 'aurora-cluster', database: string): Promise<VaultCopy[]> =>
    kind === 'aurora-cluster'
      ? collectPages(
          paginateDescribeDBClusterSnapshots(
            { client: rds, ...PAGE },
            { Filters: [{ Name: 'db-cluster-id', Values: [database] }], SnapshotType: 'manual' },
          ),
          (p) => p.DBClusterSnapshots,
          (s) => ({ ...fromClusterSnapshot(s, region), engine: s.Engine, engineVersion: s.EngineVersion }),
          'DescribeDBClusterSnapshots',
          `vault copies of cluster ${database} in vault ${account} ${region}`,
        )
      : collectPages(
          paginateDescribeDBSnapshots(
            { client: rds, ...PAGE },
            { Filters: [{ Name: 'db-instance-id', Values: [database] }], SnapshotType: 'manual' },
          ),
          (p) => p.DBSnapshots,
          (s) => ({ ...fromDbSnapshot(s, region), engine: s.Engine, engineVersion: s.EngineVersion }),
          'DescribeDBSnapshots',
          `vault copies of ${database} in vault ${account} ${region}`,
        );

  const modify = async (
    copy: Pick<VaultCopy, 'kind' | 'id'>,
    to: string,
    add: boolean,
  ): Promise<'done' | 'gone'> => {
    if (copy.kind !== 'rds-instance' && copy.kind !== 'aurora-cluster')
      throw new TypeError(`a drill from the vault restores RDS and Aurora copies, not ${copy.kind}`);
    const cluster = copy.kind === 'aurora-cluster';
    const values = add ? { ValuesToAdd: [to] } : { ValuesToRemove: [to] };
    const r = await attempt(
      cluster ? 'ModifyDBClusterSnapshotAttribute' : 'ModifyDBSnapshotAttribute',
      `vault copy ${copy.id} in vault ${account} ${region} (${add ? 'share with' : 'unshare from'} drill account ${to})`,
      () =>
        cluster
          ? rds.send(
              new ModifyDBClusterSnapshotAttributeCommand({
                DBClusterSnapshotIdentifier: copy.id,
                AttributeName: RESTORE,
                ...values,
              }),
            )
          : rds.send(
              new ModifyDBSnapshotAttributeCommand({
                DBSnapshotIdentifier: copy.id,
                AttributeName: RESTORE,
                ...values,
              }),
            ),
      { gone: NOT_FOUND },
    );
    return r.ok ? 'done' : 'gone';
  };

  // The accounts in a copy's `restore` attribute now (RDS API Reference, DescribeDBSnapshotAttributes and
  // DescribeDBClusterSnapshotAttributes: AttributeName `restore`, AttributeValues the account ids or `all`).
  const sharedWith = async (copy: Pick<VaultCopy, 'kind' | 'id'>, to: string): Promise<boolean> => {
    if (copy.kind !== 'rds-instance' && copy.kind !== 'aurora-cluster')
      throw new TypeError(`a drill from the vault restores RDS and Aurora copies, not ${copy.kind}`);
    const cluster = copy.kind === 'aurora-cluster';
    const r = await attempt(
      cluster ? 'DescribeDBClusterSnapshotAttributes' : 'DescribeDBSnapshotAttributes',
      `vault copy ${copy.id} in vault ${account} ${region} (who may restore it)`,
      async () =>
        cluster
          ? (
              await rds.send(
                new DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: copy.id }),
              )
            )?.DBClusterSnapshotAttributesResult?.DBClusterSnapshotAttributes
          : (await rds.send(new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: copy.id })))
              ?.DBSnapshotAttributesResult?.DBSnapshotAttributes,
      { gone: NOT_FOUND },
    );
    return r.ok
      ? (r.value ?? []).some((a) => a.AttributeName === RESTORE && (a.AttributeValues ?? []).includes(to))
      : false;
  };

  return {
    account,
    region,
    copies,
    share: (copy, to) => modify(copy, to, true),
    unshare: (copy, to) => modify(copy, to, false),
    sharedWith,
  };
};

/**
 * The drill's own copy of a shared vault copy, in the drill's account and region (the drill role's
 * credentials): RDS restores no DB instance from a shared encrypted snapshot, so the drill copies it first. The
 * copy is named and tagged like the drill's restored database, and deleted with it.
 */
export const rdsStagedCopies = (region: string, rds: RDSClient): StagedCopyPort => {
  const describe = async (id: string) => {
    const r = await attempt(
      'DescribeDBSnapshots',
      `drill copy ${id} in ${region}`,
      () => rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id })),
      { gone: NOT_FOUND },
    );
    return r.ok ? r.value.DBSnapshots?.[0] : undefined;
  };

  return {
    copy: async ({ sourceArn, targetId, kmsKeyId, tags }) => {
      const target = `vault copy ${sourceArn} -> drill copy ${targetId} in ${region}`;
      const r = await attempt(
        'CopyDBSnapshot',
        target,
        () =>
          rds.send(
            new CopyDBSnapshotCommand({
              // A shared snapshot is named by its ARN; copying a shared encrypted one requires KmsKeyId
              // (RDS API Reference, CopyDBSnapshot SourceDBSnapshotIdentifier and KmsKeyId).
              SourceDBSnapshotIdentifier: sourceArn,
              TargetDBSnapshotIdentifier: targetId,
              KmsKeyId: kmsKeyId,
              Tags: tagList(tags),
            }),
          ),
        { exists: ['DBSnapshotAlreadyExistsFault'] },
        (e) =>
          errorName(e) === 'KMSKeyNotAccessibleFault'
            ? new AwsCallError(
                'CopyDBSnapshot',
                `${target}: a KMS key is not usable: the vault key must allow this account's drill role through RDS (the vault stack's key policy), and ${kmsKeyId} must be usable here`,
                e,
              )
            : undefined,
      );
      return r.ok ? 'started' : 'already-done';
    },
    status: async (id) => {
      const s = await describe(id);
      if (!s) return undefined;
      const status = s.Status ?? 'unknown';
      return { status, failed: FAILED.has(status) };
    },
    remove: async (id) => {
      const s = await describe(id);
      if (!s) return 'already-gone';
      if (!tagRecord(s.TagList)[Tag.drill] || !id.startsWith(DRILL_PREFIX))
        throw new GuardRefusedError(
          `refusing to delete snapshot ${id} in ${region}: it has no ${Tag.drill} tag (or not a drill id), so a drill did not copy it`,
        );
      if (s.Status === 'deleting') return 'deleted';
      const r = await attempt(
        'DeleteDBSnapshot',
        `drill copy ${id} in ${region}`,
        () => rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: id })),
        { gone: NOT_FOUND },
      );
      return r.ok ? 'deleted' : 'already-gone';
    },
    // Manual snapshots only (a drill copy is one); DescribeDBSnapshots has no id-prefix or tag filter, so the
    // listing is filtered here: a steward-drill-* id carrying steward:drill, as `remove` requires.
    listDrillCopies: () =>
      collectPages(
        paginateDescribeDBSnapshots({ client: rds, ...PAGE }, { SnapshotType: 'manual' }),
        (p) => p.DBSnapshots,
        (s): DrillCopy | undefined => {
          const id = s.DBSnapshotIdentifier ?? '';
          const drillId = tagRecord(s.TagList)[Tag.drill];
          if (!drillId || !id.startsWith(DRILL_PREFIX)) return undefined;
          // A copy's SnapshotCreateTime is the copy's own (OriginalSnapshotCreateTime is the source's): RDS
          // API Reference, DBSnapshot.
          const createdAt = iso(s.SnapshotCreateTime);
          return {
            id,
            drillId,
            ...(createdAt ? { createdAt } : {}),
            ...(s.Status ? { status: s.Status } : {}),
          };
        },
        'DescribeDBSnapshots',
        `drill copies in ${region}`,
      ),
  };
};
