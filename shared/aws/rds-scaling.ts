import {
  CreateDBInstanceCommand,
  CreateDBInstanceReadReplicaCommand,
  DeleteDBInstanceCommand,
  type DBInstance,
  FailoverDBClusterCommand,
  ModifyDBInstanceCommand,
  paginateDescribeDBInstances,
  type RDSClient,
  RebootDBInstanceCommand,
} from '@aws-sdk/client-rds';
import { replicaNumber } from '../scaling/ids.js';
import type { AuroraClusterState, PlannedChange, RdsInstanceState } from '../scaling/model.js';
import { tagList, tagRecord, type Tags } from '../tags.js';
import { attempt, call } from './call.js';
import { collectPages, PAGE } from './pages.js';
import { findDbCluster, findDbInstance } from './rds-describe.js';

// The factory of the client this adapter sends through, for the callers that load this module on first use:
// the client's code then loads with the adapter that uses it, never before (test/infra/bundles.test.ts).
export { rdsClient } from './clients/rds.js';

/** Names of the pending modified values that are set (an empty PendingModifiedValues means none). */
export const pendingNames = (pending: object | undefined): string[] =>
  Object.entries(pending ?? {})
    .filter(([, v]) => {
      if (v === undefined || v === null) return false;
      if (Array.isArray(v)) return v.length > 0;
      if (typeof v === 'object') return Object.keys(v as object).length > 0;
      return true;
    })
    .map(([k]) => k)
    .sort();

const instanceState = (db: DBInstance): RdsInstanceState => ({
  kind: 'rds-instance',
  id: db.DBInstanceIdentifier ?? '',
  arn: db.DBInstanceArn ?? '',
  status: db.DBInstanceStatus ?? 'unknown',
  engine: db.Engine ?? 'unknown',
  instanceClass: db.DBInstanceClass ?? 'unknown',
  multiAz: db.MultiAZ ?? false,
  pending: pendingNames(db.PendingModifiedValues),
  replicas: [...(db.ReadReplicaDBInstanceIdentifiers ?? [])].sort(),
  ...(db.DBClusterIdentifier ? { clusterId: db.DBClusterIdentifier } : {}),
  tags: tagRecord(db.TagList),
});

type CreateReplica = Extract<PlannedChange, { type: 'rds.createReadReplica' }>;
type CreateReader = Extract<PlannedChange, { type: 'rds.createClusterReader' }>;

/** RDS side of scaling in one region: describe one instance or cluster, and the scaling calls. */
export const rdsScaling = (region: string, rds: RDSClient) => {
  /**
   * One DB instance, or undefined when it does not exist. With `replicaTags` (a read-replica rule), also the
   * tags and status of each replica named like steward's, one DescribeDBInstances by id each (at most 15
   * replicas; the scaling role may describe only `<id>-replica-*`): the engine removes only a replica they say
   * is steward's, and adds or removes none while one is not available yet (still being created).
   */
  const describeInstance = async (
    id: string,
    o: { replicaTags?: boolean } = {},
  ): Promise<RdsInstanceState | undefined> => {
    const db = await findDbInstance(rds, region, id);
    if (!db) return undefined;
    const state = instanceState(db);
    if (!o.replicaTags) return state;
    const named = state.replicas.filter((r) => replicaNumber(state.id, r, 'replica') !== undefined);
    const described = await Promise.all(named.map((r) => findDbInstance(rds, region, r)));
    // A replica gone since the source was described has no tags: it is not removed.
    const replicaTags: Record<string, Tags> = {};
    const replicaStatus: Record<string, string> = {};
    named.forEach((r, i) => {
      const db = described[i];
      if (!db) return;
      replicaTags[r] = tagRecord(db.TagList);
      if (db.DBInstanceStatus) replicaStatus[r] = db.DBInstanceStatus;
    });
    return { ...state, replicaTags, replicaStatus };
  };

  /** One Aurora cluster with its instances' classes and states, or undefined when it does not exist. */
  const describeCluster = async (id: string): Promise<AuroraClusterState | undefined> => {
    const cluster = await findDbCluster(rds, region, id);
    if (!cluster) return undefined;
    const instances = new Map<string, DBInstance>(
      (
        await collectPages(
          paginateDescribeDBInstances(
            { client: rds, ...PAGE },
            { Filters: [{ Name: 'db-cluster-id', Values: [id] }] },
          ),
          (p) => p.DBInstances,
          (db) => db,
          'DescribeDBInstances',
          `members of DB cluster ${id} in ${region}`,
        )
      ).map((db) => [db.DBInstanceIdentifier ?? '', db]),
    );
    const members = (cluster.DBClusterMembers ?? [])
      .map((m) => {
        const db = instances.get(m.DBInstanceIdentifier ?? '');
        return {
          id: m.DBInstanceIdentifier ?? '',
          writer: m.IsClusterWriter ?? false,
          ...(db?.DBInstanceClass ? { instanceClass: db.DBInstanceClass } : {}),
          ...(db?.DBInstanceStatus ? { status: db.DBInstanceStatus } : {}),
          ...(db ? { tags: tagRecord(db.TagList) } : {}),
        };
      })
      .sort((a, b) => a.id.localeCompare(b.id));
    return {
      kind: 'aurora-cluster',
      id: cluster.DBClusterIdentifier ?? id,
      arn: cluster.DBClusterArn ?? '',
      status: cluster.Status ?? 'unknown',
      engine: cluster.Engine ?? 'unknown',
      // A member still creating or modifying is a change in flight too.
      pending: [
        ...pendingNames(cluster.PendingModifiedValues),
        ...members.filter((m) => m.status && m.status !== 'available').map((m) => `${m.id} is ${m.status}`),
      ],
      members,
      tags: tagRecord(cluster.TagList),
    };
  };

  /** Change an instance's class now or in its next maintenance window. */
  const modifyInstanceClass = async (id: string, instanceClass: string, applyImmediately: boolean) => {
    await call('ModifyDBInstance', `DB instance ${id} (→ ${instanceClass}) in ${region}`, () =>
      rds.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: id,
          DBInstanceClass: instanceClass,
          ApplyImmediately: applyImmediately,
        }),
      ),
    );
    return 'done' as const;
  };

  /**
   * Create a read replica with explicit tags (the source's own plus steward's). The name is deterministic,
   * so "already exists" means an earlier try of this same change got through.
   */
  const createReadReplica = async (c: CreateReplica): Promise<'done' | 'already-done'> => {
    const r = await attempt(
      'CreateDBInstanceReadReplica',
      `${c.replicaId} of ${c.sourceId} in ${region}`,
      () =>
        rds.send(
          new CreateDBInstanceReadReplicaCommand({
            DBInstanceIdentifier: c.replicaId,
            SourceDBInstanceIdentifier: c.sourceId,
            ...(c.instanceClass ? { DBInstanceClass: c.instanceClass } : {}),
            CopyTagsToSnapshot: true,
            Tags: tagList(c.tags),
          }),
        ),
      { exists: ['DBInstanceAlreadyExistsFault'] },
    );
    return r.ok ? 'done' : 'already-done';
  };

  /** Add a reader instance to an Aurora cluster (Aurora has no CreateDBInstanceReadReplica). */
  const createClusterReader = async (c: CreateReader): Promise<'done' | 'already-done'> => {
    const r = await attempt(
      'CreateDBInstance',
      `reader ${c.instanceId} of cluster ${c.clusterId} in ${region}`,
      () =>
        rds.send(
          new CreateDBInstanceCommand({
            DBInstanceIdentifier: c.instanceId,
            DBClusterIdentifier: c.clusterId,
            Engine: c.engine,
            DBInstanceClass: c.instanceClass,
            Tags: tagList(c.tags),
          }),
        ),
      { exists: ['DBInstanceAlreadyExistsFault'] },
    );
    return r.ok ? 'done' : 'already-done';
  };

  /** Scale-in: delete a replica steward created. A replica has no final snapshot (its source has the data). */
  const deleteReplica = async (id: string): Promise<'done' | 'already-done'> => {
    const r = await attempt(
      'DeleteDBInstance',
      `replica ${id} in ${region}`,
      () => rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: id, SkipFinalSnapshot: true })),
      { gone: ['DBInstanceNotFoundFault'] },
    );
    return r.ok ? 'done' : 'already-done';
  };

  /** Multi-AZ instance: reboot with a forced failover to the standby. */
  const rebootWithFailover = async (id: string) => {
    await call('RebootDBInstance', `DB instance ${id} (ForceFailover) in ${region}`, () =>
      rds.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: id, ForceFailover: true })),
    );
    return 'done' as const;
  };

  /** Aurora: promote a reader to writer; RDS picks the highest-priority reader. */
  const failoverCluster = async (id: string) => {
    await call('FailoverDBCluster', `DB cluster ${id} in ${region}`, () =>
      rds.send(new FailoverDBClusterCommand({ DBClusterIdentifier: id })),
    );
    return 'done' as const;
  };

  return {
    region,
    describeInstance,
    describeCluster,
    modifyInstanceClass,
    createReadReplica,
    createClusterReader,
    deleteReplica,
    rebootWithFailover,
    failoverCluster,
  };
};

/** The RDS scaling adapter of one region. */
export type RdsScaling = ReturnType<typeof rdsScaling>;
