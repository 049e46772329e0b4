import {
  CopyDBClusterSnapshotCommand,
  CopyDBSnapshotCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBSnapshotCommand,
  DescribeAccountAttributesCommand,
  paginateDescribeDBClusters,
  paginateDescribeDBInstances,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { AwsCallError, errorMessage, errorName } from '../errors.js';
import { attempt, call } from './call.js';
import type { CopySnapshotInput, CreateSnapshotInput, Database, Quota } from '../model.js';
import { tagList, tagRecord } from '../tags.js';
import { collectPages, PAGE } from './pages.js';

/** Account quotas the backup guard reads from DescribeAccountAttributes. */
export const SNAPSHOT_QUOTAS = ['ManualSnapshots', 'ManualClusterSnapshots'] as const;

const ALREADY_EXISTS = ['DBSnapshotAlreadyExistsFault', 'DBClusterSnapshotAlreadyExistsFault'];

/** A KMS problem: the key is missing, disabled, in another region, or its policy does not allow RDS. */
const isKmsError = (e: unknown): boolean =>
  errorName(e) === 'KMSKeyNotAccessibleFault' ||
  (/^InvalidParameter/.test(errorName(e)) && /kms/i.test(errorMessage(e)));

/** AWS's automated backup settings as plain data, when the describe carried them. */
export const automated = (retentionDays: number | undefined, window: string | undefined) =>
  retentionDays === undefined ? {} : { automatedBackup: { retentionDays, ...(window ? { window } : {}) } };

/**
 * The databases of one region as plain data (instances, Aurora clusters): what the status check and the
 * evidence read. A factory of its own because esbuild keeps every member of an object a bundle builds: a
 * bundle that only lists (report) leaves `rdsBackup`'s snapshot writers, quota read and their commands out.
 */
export const rdsDatabases = (region: string, rds: RDSClient) => {
  const listInstances = () =>
    collectPages(
      paginateDescribeDBInstances({ client: rds, ...PAGE }, {}),
      (p) => p.DBInstances,
      (db): Database => ({
        kind: 'rds-instance',
        id: db.DBInstanceIdentifier ?? '',
        arn: db.DBInstanceArn ?? '',
        region,
        engine: db.Engine ?? 'unknown',
        status: db.DBInstanceStatus ?? 'unknown',
        tags: tagRecord(db.TagList),
        ...(db.DBClusterIdentifier ? { clusterId: db.DBClusterIdentifier } : {}),
        ...(db.StorageEncrypted !== undefined ? { encrypted: db.StorageEncrypted } : {}),
        ...automated(db.BackupRetentionPeriod, db.PreferredBackupWindow),
        ...(db.InstanceCreateTime ? { createdAt: db.InstanceCreateTime.toISOString() } : {}),
        ...(db.ReadReplicaSourceDBInstanceIdentifier
          ? { replicaOf: db.ReadReplicaSourceDBInstanceIdentifier }
          : {}),
      }),
      'DescribeDBInstances',
      `region ${region}`,
    );

  const listClusters = () =>
    collectPages(
      paginateDescribeDBClusters({ client: rds, ...PAGE }, {}),
      (p) => p.DBClusters,
      (c): Database => ({
        kind: 'aurora-cluster',
        id: c.DBClusterIdentifier ?? '',
        arn: c.DBClusterArn ?? '',
        region,
        engine: c.Engine ?? 'unknown',
        status: c.Status ?? 'unknown',
        tags: tagRecord(c.TagList),
        ...(c.StorageEncrypted !== undefined ? { encrypted: c.StorageEncrypted } : {}),
        ...automated(c.BackupRetentionPeriod, c.PreferredBackupWindow),
        ...(c.ClusterCreateTime ? { createdAt: c.ClusterCreateTime.toISOString() } : {}),
      }),
      'DescribeDBClusters',
      `region ${region}`,
    );

  return { region, listInstances, listClusters };
};

/** RDS side of backups in one region: databases as plain data, snapshot creation, cross-region copy, quota. */
export const rdsBackup = (region: string, rds: RDSClient) => {
  const { listInstances, listClusters } = rdsDatabases(region, rds);

  /**
   * Take a manual DB snapshot (instance) or DB cluster snapshot with explicit tags: the database's
   * CopyTagsToSnapshot is off by default and would copy its own tags, not ours. Our ids are deterministic,
   * so "already exists" means an earlier attempt of this same run succeeded.
   */
  const createSnapshot = async (input: CreateSnapshotInput): Promise<'created' | 'already-done'> => {
    if (input.kind === 'elasticache') throw new TypeError('the RDS adapter cannot snapshot ElastiCache');
    const Tags = tagList(input.tags);
    const cluster = input.kind === 'aurora-cluster';
    const r = await attempt(
      cluster ? 'CreateDBClusterSnapshot' : 'CreateDBSnapshot',
      `${input.kind} ${input.dbId} (snapshot ${input.snapshotId}) in ${region}`,
      () =>
        cluster
          ? rds.send(
              new CreateDBClusterSnapshotCommand({
                DBClusterIdentifier: input.dbId,
                DBClusterSnapshotIdentifier: input.snapshotId,
                Tags,
              }),
            )
          : rds.send(
              new CreateDBSnapshotCommand({
                DBInstanceIdentifier: input.dbId,
                DBSnapshotIdentifier: input.snapshotId,
                Tags,
              }),
            ),
      { exists: ALREADY_EXISTS },
    );
    return r.ok ? 'created' : 'already-done';
  };

  /**
   * Copy a snapshot from another region into this one: call it on the DR region's adapter. The source is
   * given by ARN: SDK v3 has no `SourceRegion` input; its RDS middleware sees a foreign-region ARN and
   * generates the `PreSignedUrl` itself (signed for the source region, with KmsKeyId and DestinationRegion).
   * Tags are explicit (`steward:copied-from` included); CopyTags also carries the source's own tags.
   */
  const copySnapshot = async (input: CopySnapshotInput): Promise<'started' | 'already-done'> => {
    if (input.kind === 'elasticache') throw new TypeError('ElastiCache has no cross-region snapshot copy');
    const Tags = tagList(input.tags);
    const cluster = input.kind === 'aurora-cluster';
    const op = cluster ? 'CopyDBClusterSnapshot' : 'CopyDBSnapshot';
    const target = `${input.kind} snapshot ${input.sourceArn} -> ${input.targetId} in ${region}`;
    const r = await attempt(
      op,
      target,
      () =>
        cluster
          ? rds.send(
              new CopyDBClusterSnapshotCommand({
                SourceDBClusterSnapshotIdentifier: input.sourceArn,
                TargetDBClusterSnapshotIdentifier: input.targetId,
                // A KmsKeyId on an unencrypted cluster snapshot is an error (an instance copy gets encrypted).
                KmsKeyId: input.encrypted === false ? undefined : input.kmsKeyId,
                CopyTags: true,
                Tags,
              }),
            )
          : rds.send(
              new CopyDBSnapshotCommand({
                SourceDBSnapshotIdentifier: input.sourceArn,
                TargetDBSnapshotIdentifier: input.targetId,
                KmsKeyId: input.kmsKeyId,
                CopyTags: true,
                Tags,
              }),
            ),
      { exists: ALREADY_EXISTS },
      (e) =>
        isKmsError(e)
          ? new AwsCallError(
              op,
              `${target}: KMS key ${input.kmsKeyId ?? '(no key given)'} must exist in ${region} and allow RDS to use it`,
              e,
            )
          : undefined,
    );
    return r.ok ? 'started' : 'already-done';
  };

  /** Manual snapshot quotas (used/max) of this region; a quota the account does not report is left out. */
  const quotas = async (): Promise<Quota[]> => {
    const r = await call('DescribeAccountAttributes', `region ${region}`, () =>
      rds.send(new DescribeAccountAttributesCommand({})),
    );
    return (r.AccountQuotas ?? []).flatMap((q) =>
      q.AccountQuotaName && (SNAPSHOT_QUOTAS as readonly string[]).includes(q.AccountQuotaName)
        ? [{ name: q.AccountQuotaName, used: q.Used ?? 0, max: q.Max ?? 0 }]
        : [],
    );
  };

  return { region, listInstances, listClusters, createSnapshot, copySnapshot, quotas };
};

/** The RDS backup adapter of one region. */
export type RdsBackup = ReturnType<typeof rdsBackup>;
