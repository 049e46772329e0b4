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

type Report = { cleanup?: { status: string; detail?: string }; cleanupError?: unknown } | undefined;

/**
 * The drill run locally until its restore times out with the cluster still `creating`: WaitForRestore parks its
 * token and no event comes; CheckRestore finds the drill past its timeoutSeconds; Cleanup's delete is refused.
 * `parked` runs once the token is parked (an event handler seeing it live).
 */
const runPastTimeout = async (parked?: (deps: ReturnType<typeof depsWith>) => void) => {
  let skew = 0;
  const now = () => new Date(Date.now() + skew);
  const deps = depsWith(now);
  let cleanedUp: Report;
  const r = await runDrillLocally({
    definition,
    input: { database: DB },
    executionName: 'drill-ledger-creating',
    waitMs: 20,
    tasks: async (e: DrillTaskEvent) => {
      if (e.task === 'await') {
        await runDrillTask(e, deps);
        parked?.(deps);
        return new Promise(() => {});
      }
      // The restore takes longer than the drill's timeoutSeconds.
      if (e.task === 'status') skew = (config.drill.timeoutSeconds + 60) * 1000;
      const out = await runDrillTask(e, deps);
      if (e.task === 'cleanup') cleanedUp = out as Report;
      return out;
    },
  });
  // What Cleanup handed to Record (DrillFailed, a Fail state, has no output).
  return { r, deps, report: cleanedUp };
};

/** The only drill cluster, made available by RDS. */
const finishCreating = () => {
  const [id] = [...clusters.keys()];
  clusters.get(id!)!.Status = 'available';
  return id!;
};

describe('an Aurora drill whose cluster is still creating when it ends', () => {
  it('Cleanup hands the cluster over at once, with no timer, and its "created" event deletes it with no writer', async () => {
    // Prepare: the drill ran out of time while RDS was creating the cluster (it would be for hours).
    const { r, deps, report } = await runPastTimeout();

    // Assert: one refused delete, not a wait; the drill ends with its copy handed over, not a cleanup failure.
    expect(r.status).toBe('FAILED');
    expect(r.path.slice(-4)).toEqual(drillEnd(false));
    expect(rds.commandCalls(DeleteDBClusterCommand)).toHaveLength(1);
    expect(report?.cleanupError).toBeUndefined();
    expect(report?.cleanup).toMatchObject({ status: 'handed-over' });
    expect(report?.cleanup?.detail).toContain('its next RDS event');
    // Cleanup took the token WaitForRestore parked; the copy is recorded as being deleted.
    expect(deps.tokens.parked.size).toBe(0);
    const [id] = [...clusters.keys()];
    expect([...deps.deletions.records.values()]).toEqual([
      expect.objectContaining({
        kind: 'aurora-cluster',
        id,
        region: REGION,
        drillId: 'drill-ledger-creating',
      }),
    ]);

    // Act: RDS finishes the cluster and says so.
    finishCreating();
    const outcome = await runDrillControl(clusterCreated(id!), deps);

    // Assert: deleted at once, no billed writer, the record forgotten.
    expect(outcome).toMatchObject({ outcome: 'deleted', status: 'deleted' });
    expect(clusters.get(id!)?.Status).toBe('deleting');
    expect(created).toEqual([]);
    expect(deps.deletions.records.size).toBe(0);
  });

  it('an event while RDS still refuses keeps the record; a later one deletes the copy', async () => {
    const { deps } = await runPastTimeout();
    const [id] = [...clusters.keys()];

    const early = await runDrillControl(clusterCreated(id!), deps);
    expect(early).toMatchObject({ outcome: 'busy' });
    expect(deps.deletions.records.size).toBe(1);

    finishCreating();
    expect(await runDrillControl(clusterCreated(id!), deps)).toMatchObject({ outcome: 'deleted' });
    expect(deps.deletions.records.size).toBe(0);
    expect(created).toEqual([]);
  });

  it("the janitor's sweep deletes a handed-over cluster whatever its age once RDS allows, and keeps it quietly before", async () => {
    // Prepare: handed over; the cluster's event is lost.
    const { deps } = await runPastTimeout();
    const [id] = [...clusters.keys()];

    // Act: a sweep while RDS still creates it, then one after.
    const before = await runDrillControl({ action: 'janitor' }, deps);
    const deletesBefore = rds.commandCalls(DeleteDBClusterCommand).length;
    finishCreating();
    const after = await runDrillControl({ action: 'janitor' }, deps);

    // Assert: kept without a delete or an alert while creating; deleted after, young as it is, record forgotten.
    expect(before).toMatchObject({
      verdicts: [
        expect.objectContaining({ action: 'keep', reason: expect.stringContaining('still creating') }),
      ],
      outcomes: [],
    });
    expect(deletesBefore).toBe(1);
    expect(after).toMatchObject({
      verdicts: [
        expect.objectContaining({ action: 'delete', reason: expect.stringContaining('handed over') }),
      ],
      outcomes: [expect.objectContaining({ status: 'done' })],
    });
    expect(clusters.get(id!)?.Status).toBe('deleting');
    expect(deps.deletions.records.size).toBe(0);
    expect(created).toEqual([]);
  });

  it('deletes the writer an event handler adds after it saw a live token and stalled past Cleanup', async () => {
    // Prepare: an event comes while the drill waits; its handler reads the token as live, then stalls (a slow
    // Lambda, a throttled GetItem) while the drill times out and Cleanup is refused deleting the creating cluster.
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => (release = resolve));
    let handler: Promise<unknown> | undefined;
    const { r, deps, report } = await runPastTimeout((d) => {
      const [id] = [...clusters.keys()];
      const slow = {
        ...d,
        tokens: {
          ...d.tokens,
          waiting: async (targetId: string) => {
            const live = await d.tokens.waiting(targetId);
            await stalled;
            return live;
          },
        },
      };
      handler = runDrillControl(clusterCreated(id!), slow);
    });
    expect(r.path.slice(-4)).toEqual(drillEnd(false));
    expect(report?.cleanup).toMatchObject({ status: 'handed-over' });

    // Act: RDS finishes the cluster; the stalled handler goes on, sees it available and adds its writer.
    const id = finishCreating();
    release();
    const outcome = await handler;

    // Assert: the writer it added is deleted with the cluster; nothing billed is left, the record forgotten.
    expect(created).toEqual([auroraWriterId(id)]);
    expect(instances.get(auroraWriterId(id))?.DBInstanceStatus).toBe('deleting');
    expect(clusters.get(id)?.Status).toBe('deleting');
    expect(outcome).toMatchObject({ outcome: 'deleted' });
    expect(deps.deletions.records.size).toBe(0);
  });

  it('the execution-ended rule hands over a cluster a stopped drill left creating; its event deletes it, adding no writer', async () => {
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
    const ended = await runDrillControl(
      drillExecutionEnded(REGION, '111122223333', 'drill-ledger-stopped', 'ABORTED'),
      deps,
    );
    expect(ended).toMatchObject({
      cleanup: [
        expect.objectContaining({
          status: 'skipped',
          reason: expect.stringContaining('still being created'),
        }),
      ],
    });
    expect(deps.deletions.records.size).toBe(1);
    expect(deps.notifier.sent[0]!.lines.join('\n')).toMatch(
      /Cleaned up its restored databases: aurora-cluster steward-drill-\S+ handed over \(RDS does not delete it/,
    );

    // Act
    const id = finishCreating();
    const outcome = await runDrillControl(clusterCreated(id), deps);

    // Assert
    expect(outcome).toMatchObject({ outcome: 'deleted' });
    expect(created).toEqual([]);
    expect(clusters.get(id)?.Status).toBe('deleting');
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

    const id = finishCreating();
    const outcome = await runDrillControl(clusterCreated(id), deps);

    expect(created).toEqual([auroraWriterId(id)]);
    expect(outcome).toMatchObject({ outcome: 'not-ready', status: 'creating-instance' });
    expect(deps.deletions.records.size).toBe(0);
  });
});
