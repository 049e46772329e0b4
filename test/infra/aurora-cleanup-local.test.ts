import {
  CreateDBInstanceCommand,
  DBClusterNotFoundFault,
  DBInstanceNotFoundFault,
  type DBCluster,
  type DBInstance,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBInstancesCommand,
  InvalidDBClusterStateFault,
  RDSClient,
  RestoreDBClusterFromSnapshotCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { drillDefinition } from '../../infra/drill-synth.js';
import { type AslDefinition, runDrillLocally } from '../../infra/local-drill.js';
import { rdsRestorePort } from '../../shared/aws/rds-restore.js';
import { parseConfig } from '../../shared/config/schema.js';
import type { DrillTaskEvent } from '../../shared/drill/state.js';
import { runDrillControl, runDrillTask } from '../../shared/drill/tasks.js';
import { auroraWriterId } from '../../shared/drill/ids.js';
import { fakeRestorePort } from '../fakes/drill-ports.js';
import { drillExecutionEnded } from '../support/drill-tasks.js';
import { drillEnd, localDrillDeps } from '../support/local-drill.js';

// An Aurora drill whose restore outlives it: the cluster is still `creating` when the drill's Cleanup (or the
// execution-ended rule) deletes it, and RDS refuses (InvalidDBClusterStateFault). Once the cluster becomes
// available, RDS sends its "DB cluster created" event. Nothing may then add the billed writer to the copy of a
// drill that already ended: the synthesized definition run locally with the real drill tasks and the real RDS
// adapter, over an RDS that answers as described (aws-sdk-client-mock, with state).
const REGION = 'eu-west-1';
const DB = 'ledger';
const config = parseConfig(
  {
    stage: 'prod',
    region: REGION,
    drill: {
      enabled: true,
      pollSeconds: 30,
      timeoutSeconds: 600,
      targets: { [DB]: { kind: 'aurora-cluster', snapshot: 'latest', profile: { database: 'app' } } },
    },
  },
  'test',
);

/** RDS for one drill cluster, with state: what the drill adapter sends, answered as RDS answers it. */
const rds = mockClient(RDSClient);
const clusters = new Map<string, DBCluster>();
const instances = new Map<string, DBInstance>();
const created: string[] = [];
/** How many deletes RDS refuses before the cluster is available: forever by default. */
const creatingFor = { deletes: Infinity };
afterAll(() => rds.restore());

const fault = <T>(Ctor: new (o: { message: string; $metadata: object }) => T, message: string) =>
  new Ctor({ message, $metadata: {} });

const fakeRds = () => {
  rds.reset();
  clusters.clear();
  instances.clear();
  created.length = 0;
  creatingFor.deletes = Infinity;
  rds.on(DescribeDBClusterSnapshotsCommand).resolves({
    DBClusterSnapshots: [{ Engine: 'aurora-postgresql', EngineVersion: '16.4' }],
  });
  rds.on(RestoreDBClusterFromSnapshotCommand).callsFake((i: { DBClusterIdentifier: string; Tags?: [] }) => {
    const c: DBCluster = {
      DBClusterIdentifier: i.DBClusterIdentifier,
      Engine: 'aurora-postgresql',
      Status: 'creating',
      TagList: i.Tags ?? [],
      DBClusterMembers: [],
    };
    clusters.set(i.DBClusterIdentifier, c);
    return { DBCluster: c };
  });
  rds.on(DescribeDBClustersCommand).callsFake((i: { DBClusterIdentifier?: string }) => {
    if (!i.DBClusterIdentifier) return { DBClusters: [...clusters.values()].map((c) => structuredClone(c)) };
    const c = clusters.get(i.DBClusterIdentifier);
    if (!c) throw fault(DBClusterNotFoundFault, `DBCluster ${i.DBClusterIdentifier} not found`);
    return { DBClusters: [structuredClone(c)] };
  });
  rds.on(DescribeDBInstancesCommand).callsFake((i: { DBInstanceIdentifier?: string }) => {
    if (!i.DBInstanceIdentifier)
      return { DBInstances: [...instances.values()].map((db) => structuredClone(db)) };
    const db = instances.get(i.DBInstanceIdentifier);
    if (!db) throw fault(DBInstanceNotFoundFault, `DBInstance ${i.DBInstanceIdentifier} not found`);
    return { DBInstances: [structuredClone(db)] };
  });
  rds
    .on(CreateDBInstanceCommand)
    .callsFake((i: { DBInstanceIdentifier: string; DBClusterIdentifier: string }) => {
      const c = clusters.get(i.DBClusterIdentifier);
      if (c?.Status !== 'available')
        throw fault(InvalidDBClusterStateFault, `DB cluster ${i.DBClusterIdentifier} is not available`);
      created.push(i.DBInstanceIdentifier);
      const db: DBInstance = {
        DBInstanceIdentifier: i.DBInstanceIdentifier,
        DBClusterIdentifier: i.DBClusterIdentifier,
        DBInstanceStatus: 'creating',
        TagList: c.TagList,
      };
      instances.set(i.DBInstanceIdentifier, db);
      c.DBClusterMembers = [...(c.DBClusterMembers ?? []), { DBInstanceIdentifier: i.DBInstanceIdentifier }];
      return { DBInstance: db };
    });
  rds.on(DeleteDBInstanceCommand).callsFake((i: { DBInstanceIdentifier: string }) => {
    const db = instances.get(i.DBInstanceIdentifier);
    if (!db) throw fault(DBInstanceNotFoundFault, `DBInstance ${i.DBInstanceIdentifier} not found`);
    db.DBInstanceStatus = 'deleting';
    return { DBInstance: db };
  });
  // RDS deletes no cluster while it is being created (it finishes after `creatingFor` refused deletes).
  rds.on(DeleteDBClusterCommand).callsFake((i: { DBClusterIdentifier: string }) => {
    const c = clusters.get(i.DBClusterIdentifier);
    if (c?.Status === 'creating' && --creatingFor.deletes < 0) c.Status = 'available';
    if (!c) throw fault(DBClusterNotFoundFault, `DBCluster ${i.DBClusterIdentifier} not found`);
    if (c.Status === 'creating')
      throw fault(
        InvalidDBClusterStateFault,
        `DB cluster ${i.DBClusterIdentifier} is not in available state`,
      );
    c.Status = 'deleting';
    return { DBCluster: c };
  });
};

/** The drill tasks over the real RDS drill adapter (restore, describe, remove); snapshots and shape from a fake. */
const depsWith = (now: () => Date) => {
  const real = rdsRestorePort(REGION, new RDSClient({ region: REGION }));
  const lookup = fakeRestorePort(REGION);
  lookup.snapshots = [
    {
      kind: 'aurora-cluster',
      id: 'steward-ledger-202603010300-sched',
      arn: `arn:aws:rds:${REGION}:111122223333:cluster-snapshot:steward-ledger-202603010300-sched`,
      region: REGION,
      sourceId: DB,
      createdAt: new Date(Date.now() - 3_600_000).toISOString(),
      status: 'available',
      type: 'manual',
      tags: {},
    },
  ];
  lookup.sources[DB] = { instanceClass: 'db.r6g.large', instances: 1, storageType: 'aurora' };
  return localDrillDeps(config, now, {
    restore: {
      ...lookup,
      restore: real.restore,
      describe: real.describe,
      remove: real.remove,
      listDrillResources: real.listDrillResources,
    },
  });
};

/** A cluster event as RDS sends it once the restored cluster is available ("DB cluster created"). */
const clusterCreated = (id: string) => ({
  source: 'aws.rds',
  'detail-type': 'RDS DB Cluster Event',
  detail: {
    SourceIdentifier: id,
    SourceType: 'CLUSTER',
    EventID: 'RDS-EVENT-0170',
    Message: 'DB cluster created',
  },
});

let definition: AslDefinition;
beforeAll(() => {
  definition = drillDefinition(config);
});
beforeEach(fakeRds);

/**
 * The drill run locally until its restore times out with the cluster still `creating`: WaitForRestore parks its
 * token and no event comes; CheckRestore finds the drill past its timeoutSeconds; Cleanup's delete is refused.
 */
const runPastTimeout = async () => {
  let skew = 0;
  const now = () => new Date(Date.now() + skew);
  const deps = depsWith(now);
  const r = await runDrillLocally({
    definition,
    input: { database: DB },
    executionName: 'drill-ledger-creating',
    waitMs: 20,
    tasks: async (e: DrillTaskEvent) => {
      if (e.task === 'await') {
        await runDrillTask(e, deps);
        return new Promise(() => {});
      }
      // The restore takes longer than the drill's timeoutSeconds.
      if (e.task === 'status') skew = (config.drill.timeoutSeconds + 60) * 1000;
      return runDrillTask(e, deps);
    },
  });
  return { r, deps };
};

describe('an Aurora drill whose cluster is still creating when it ends', () => {
  it('adds no writer to the cluster once its Cleanup started, whatever event comes after', async () => {
    // Prepare: the drill ran out of time while RDS was creating the cluster; Cleanup's delete was refused.
    const { r, deps } = await runPastTimeout();
    expect(r.status).toBe('FAILED');
    expect(r.path.slice(-4)).toEqual(drillEnd(false));
    const [id] = [...clusters.keys()];
    expect(clusters.get(id!)?.Status).toBe('creating');
    expect(rds.commandCalls(DeleteDBClusterCommand).length).toBeGreaterThan(0);
    // Cleanup took the token WaitForRestore parked: no execution waits for this copy any more.
    expect(deps.tokens.parked.size).toBe(0);

    // Act: RDS finishes the cluster and says so.
    clusters.get(id!)!.Status = 'available';
    const outcome = await runDrillControl(clusterCreated(id!), deps);

    // Assert: no billed writer for a drill that ended.
    expect(created).toEqual([]);
    expect(instances.size).toBe(0);
    expect(outcome).toMatchObject({ outcome: 'no-token' });
  });

  it('Cleanup waits for a cluster RDS is still creating, deletes it once it can, and no writer is ever added', async () => {
    // Prepare: RDS finishes the cluster after refusing five deletes: more than Cleanup's retries on any error.
    creatingFor.deletes = 5;

    // Act
    const { r } = await runPastTimeout();

    // Assert
    expect(r.status).toBe('FAILED');
    expect(r.path.slice(-4)).toEqual(drillEnd(false));
    expect(rds.commandCalls(DeleteDBClusterCommand)).toHaveLength(6);
    expect([...clusters.values()].map((c) => c.Status)).toEqual(['deleting']);
    expect(created).toEqual([]);
    // Not a cleanup failure: the drill records the copy deleted.
    const report = r.output as { cleanup?: { status: string }; cleanupError?: unknown } | undefined;
    expect(report?.cleanupError).toBeUndefined();
  });

  it('adds no writer after the execution-ended rule tried to delete a cluster a stopped drill left creating', async () => {
    // Prepare: the drill waits for its restore (token parked) and is stopped; the rule's delete is refused.
    const deps = depsWith(() => new Date());
    const e = (task: DrillTaskEvent['task'], state: object): DrillTaskEvent => ({
      task,
      state: state as Record<string, unknown>,
      execution: { name: 'drill-ledger-stopped', startTime: new Date().toISOString() },
    });
    const started = await runDrillTask(e('start', { database: DB }), deps);
    const restored = await runDrillTask(e('restore', await runDrillTask(e('select', started), deps)), deps);
    await runDrillTask({ ...e('await', restored), taskToken: 'token-1' }, deps);
    await expect(
      runDrillControl(drillExecutionEnded(REGION, '111122223333', 'drill-ledger-stopped', 'ABORTED'), deps),
    ).rejects.toThrow('InvalidDBClusterStateFault');

    // Act
    const [id] = [...clusters.keys()];
    clusters.get(id!)!.Status = 'available';
    await runDrillControl(clusterCreated(id!), deps);

    // Assert
    expect(created).toEqual([]);
  });

  it('still adds the writer while the drill waits for its cluster (the event resumes it)', async () => {
    const deps = depsWith(() => new Date());
    const e = (task: DrillTaskEvent['task'], state: object): DrillTaskEvent => ({
      task,
      state: state as Record<string, unknown>,
      execution: { name: 'drill-ledger-waits', startTime: new Date().toISOString() },
    });
    const started = await runDrillTask(e('start', { database: DB }), deps);
    const restored = await runDrillTask(e('restore', await runDrillTask(e('select', started), deps)), deps);
    await runDrillTask({ ...e('await', restored), taskToken: 'token-1' }, deps);

    const [id] = [...clusters.keys()];
    clusters.get(id!)!.Status = 'available';
    const outcome = await runDrillControl(clusterCreated(id!), deps);

    expect(created).toEqual([auroraWriterId(id!)]);
    expect(outcome).toMatchObject({ outcome: 'not-ready', status: 'creating-instance' });
  });
});
