import {
  DBInstanceAlreadyExistsFault,
  DBInstanceNotFoundFault,
  DBSnapshotNotFoundFault,
  DeleteDBInstanceCommand,
  type DeleteDBInstanceCommandInput,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  type DescribeDBInstancesCommandInput,
  DescribeDBSnapshotsCommand,
  type DescribeDBSnapshotsCommandInput,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  type RestoreDBInstanceFromDBSnapshotCommandInput,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rdsRestorePort } from '../../../shared/aws/rds-restore.js';
import { localEstate, type LocalEstate } from '../../../shared/drill/local/local-provider.js';
import { type RestorePort, type RestoreRequest, SnapshotGoneError } from '../../../shared/drill/ports.js';
import {
  type PgServer,
  startPostgres,
  stopAllPostgres,
} from '../../../shared/drill/local/postgres-server.js';
import { GuardRefusedError } from '../../../shared/errors.js';
import { Tag, tagList, tagRecord, type Tags } from '../../../shared/tags.js';
import { fakeRestorePort } from '../../fakes/drill-ports.js';
import { leftIn, ownTmpDir, processesUnder, removeOwnTmpDir } from '../../support/own-tmp.js';

const DB = 'app-db';
const SNAPSHOT = 'steward-app-db-202602010300-sched';
const SOURCE_DBI = 'db-APPDB0000000000000000000A';

/** One implementation under the contract, seeded with one snapshot of DB. */
interface Subject {
  port: RestorePort;
  /** Delete the seeded snapshot behind the port's back (retention, or by hand). */
  vanish(): Promise<void>;
  /** Whatever time a restore needs to become available (a no-op where describe waits for it). */
  settle(targetId: string): Promise<void>;
}

const request = (targetId: string, tags: Tags = { [Tag.drill]: 'drill-1' }): RestoreRequest => ({
  kind: 'rds-instance',
  sourceDbId: DB,
  source: { snapshotId: SNAPSHOT, referenceTime: '2026-02-01T03:00:00.000Z' },
  targetId,
  tags,
  network: {},
});

/**
 * What every RestorePort must do: the RDS adapter (over a stateful RDS mock), the local provider the sandbox
 * uses (real PostgreSQL servers) and the in-memory fake the drill tests use all run it.
 */
const restorePortContract = (name: string, make: () => Promise<Subject>) =>
  describe(`${name} (RestorePort contract)`, () => {
    it('lists the snapshots of a database as plain data', async () => {
      // Prepare
      const { port } = await make();
      // Act
      const snaps = await port.listSnapshots('rds-instance', DB);
      // Assert
      expect(snaps.map((s) => [s.id, s.sourceId, s.kind])).toEqual([[SNAPSHOT, DB, 'rds-instance']]);
    });

    it('restores into a separate copy that becomes available with an endpoint; a retry returns the same copy', async () => {
      // Prepare
      const { port, settle } = await make();
      const target = 'steward-drill-app-db-00000001';

      // Act
      const first = await port.restore(request(target));
      await settle(target);
      const status = await port.describe(first);
      const again = await port.restore(request(target));
      const resources = await port.listDrillResources();

      // Assert
      expect(first).toMatchObject({ kind: 'rds-instance', id: target });
      expect(status).toMatchObject({ status: 'available', failed: false, endpoint: expect.anything() });
      expect(again.id).toBe(target);
      expect(resources.map((r) => [r.id, r.drillId])).toEqual([[target, 'drill-1']]);
      await port.remove(first);
    });

    it('says SnapshotGoneError when the selected snapshot vanished before the restore', async () => {
      // Prepare
      const { port, vanish } = await make();
      await vanish();

      // Act
      const err = await port.restore(request('steward-drill-app-db-00000002')).catch((e: unknown) => e);

      // Assert
      expect(err).toBeInstanceOf(SnapshotGoneError);
    });

    it('removes a copy; removing it again is harmless; afterwards it is not ready', async () => {
      // Prepare
      const { port, settle } = await make();
      const target = 'steward-drill-app-db-00000003';
      const t = await port.restore(request(target));
      await settle(target);

      // Act
      const removed = await port.remove(t);
      const again = await port.remove(t);
      const after = await port.describe(t);

      // Assert
      expect(removed).toBe('deleted');
      expect(['deleted', 'already-gone']).toContain(again);
      expect(after.failed).toBe(true);
      expect(await port.listDrillResources()).toEqual([]);
    });

    it('refuses to remove a copy a drill did not create (no steward:drill tag)', async () => {
      // Prepare
      const { port, settle } = await make();
      const target = 'steward-drill-app-db-untagged';
      const t = await port.restore(request(target, {}));
      await settle(target);

      // Act
      const err = await port.remove(t).catch((e: unknown) => e);

      // Assert
      expect(err).toBeInstanceOf(GuardRefusedError);
    });
  });

// The in-memory fake: restores stay `creating` until the test moves them on.
restorePortContract('fakeRestorePort', async () => {
  const port = fakeRestorePort('eu-west-1');
  port.snapshots.push({
    kind: 'rds-instance',
    id: SNAPSHOT,
    arn: `arn:aws:rds:eu-west-1:111122223333:snapshot:${SNAPSHOT}`,
    region: 'eu-west-1',
    sourceId: DB,
    createdAt: '2026-02-01T03:00:00.000Z',
    status: 'available',
    type: 'manual',
    tags: {},
  });
  return {
    port,
    vanish: async () => void port.snapshots.splice(0),
    settle: async (id) => port.setStatus(id, 'available'),
  };
});

// The RDS adapter over a stateful stand-in for the RDS API: restores are `creating` on the first describe
// and `available` on the next, a deleted instance is gone, names are unique.
describe('rdsRestorePort over a stateful RDS mock', () => {
  const rds = mockClient(RDSClient);
  afterAll(() => rds.restore());
  const meta = { $metadata: {} };

  const simulate = () => {
    rds.reset();
    const snapshots = new Map([[SNAPSHOT, { db: DB }]]);
    const instances = new Map<string, { status: string; tags: Tags; seen: number }>();
    const shape = (id: string) => {
      const i = instances.get(id)!;
      return {
        DBInstanceIdentifier: id,
        DBInstanceStatus: i.status,
        TagList: tagList(i.tags),
        InstanceCreateTime: new Date('2026-02-01T05:00:00Z'),
        ...(i.status === 'available' && {
          Endpoint: { Address: `${id}.abc.eu-west-1.rds.amazonaws.com`, Port: 5432 },
        }),
      };
    };
    rds.on(DescribeDBSnapshotsCommand).callsFake((input: DescribeDBSnapshotsCommandInput) => ({
      DBSnapshots: [...snapshots]
        .filter(([, s]) => s.db === input.DBInstanceIdentifier)
        .map(([id, s]) => ({
          DBSnapshotIdentifier: id,
          DBSnapshotArn: `arn:aws:rds:eu-west-1:111122223333:snapshot:${id}`,
          DBInstanceIdentifier: s.db,
          DbiResourceId: SOURCE_DBI,
          SnapshotCreateTime: new Date('2026-02-01T03:00:00Z'),
          Status: 'available',
          SnapshotType: 'manual',
          TagList: [],
        })),
    }));
    rds
      .on(RestoreDBInstanceFromDBSnapshotCommand)
      .callsFake((input: RestoreDBInstanceFromDBSnapshotCommandInput) => {
        const id = input.DBInstanceIdentifier!;
        if (instances.has(id)) throw new DBInstanceAlreadyExistsFault({ message: `${id} exists`, ...meta });
        if (!snapshots.has(input.DBSnapshotIdentifier!))
          throw new DBSnapshotNotFoundFault({ message: `${input.DBSnapshotIdentifier} not found`, ...meta });
        instances.set(id, { status: 'creating', tags: tagRecord(input.Tags), seen: 0 });
        return { DBInstance: shape(id) };
      });
    rds.on(DescribeDBInstancesCommand).callsFake((input: DescribeDBInstancesCommandInput) => {
      const id = input.DBInstanceIdentifier;
      if (!id) return { DBInstances: [...instances.keys()].map(shape) };
      // The live source: listing its snapshots looks it up to tell them from an earlier namesake's.
      if (id === DB) return { DBInstances: [{ DBInstanceIdentifier: DB, DbiResourceId: SOURCE_DBI }] };
      const i = instances.get(id);
      if (!i) throw new DBInstanceNotFoundFault({ message: `${id} not found`, ...meta });
      if (i.status === 'creating' && ++i.seen > 1) i.status = 'available';
      return { DBInstances: [shape(id)] };
    });
    rds.on(DeleteDBInstanceCommand).callsFake((input: DeleteDBInstanceCommandInput) => {
      if (!instances.delete(input.DBInstanceIdentifier!))
        throw new DBInstanceNotFoundFault({ message: 'not found', ...meta });
      return {};
    });
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });
    return { snapshots };
  };

  restorePortContract('rdsRestorePort', async () => {
    const { snapshots } = simulate();
    const port = rdsRestorePort('eu-west-1', new RDSClient({ region: 'eu-west-1' }));
    return {
      port,
      vanish: async () => void snapshots.clear(),
      // Two describes: creating, then available.
      settle: async (id) => void (await port.describe({ kind: 'rds-instance', id })),
    };
  });
});

// The local provider: a real PostgreSQL source, pg_basebackup snapshots, restores as separate servers.
describe('the local provider (the sandbox) over real PostgreSQL servers', () => {
  let tmp: string;
  let source: PgServer;
  const saved = process.env.TMPDIR;
  const estates: LocalEstate[] = [];
  beforeAll(async () => {
    tmp = ownTmpDir('steward-restore-contract');
    process.env.TMPDIR = tmp;
    source = await startPostgres({ name: 'contract-source' });
  });
  afterEach(async () => {
    for (const e of estates.splice(0)) await e.dispose();
  });
  afterAll(async () => {
    await stopAllPostgres();
    process.env.TMPDIR = saved;
    if (saved === undefined) delete process.env.TMPDIR;
    // Only what this file started, and all of it gone.
    expect(processesUnder(tmp)).toEqual([]);
    expect(leftIn(tmp).filter((d) => d.startsWith('steward-'))).toEqual([]);
    removeOwnTmpDir(tmp);
  });

  it('accepts an IAM login only as its user and only on a copy restored with IAM authentication, as RDS does', async () => {
    // Prepare
    const estate = localEstate({
      source: { id: DB, server: source, tags: { 'steward:backup': 'daily' } },
      credentials: { username: 'drill_reader', password: 'reader-password' },
      now: () => new Date('2026-02-01T03:00:00Z'),
    });
    estates.push(estate);
    await estate.backup.createSnapshot({ kind: 'rds-instance', dbId: DB, snapshotId: SNAPSHOT, tags: {} });
    const endpointOf = async (targetId: string, iamAuth: boolean) => {
      const t = await estate.restore.restore({ ...request(targetId), iamAuth });
      return (await estate.restore.describe(t)).endpoint!;
    };
    const withIam = await endpointOf('steward-drill-app-db-00000011', true);
    const without = await endpointOf('steward-drill-app-db-00000012', false);

    // Act
    const login = (user: string, at: { host: string; port: number }) =>
      estate.credentials.get({ iamUser: user, ...at }).catch((e: unknown) => (e as Error).message);

    // Assert
    expect(await login('drill_reader', withIam)).toEqual({
      username: 'drill_reader',
      password: 'reader-password',
    });
    expect(await login('postgres', withIam)).toBe(
      'PAM authentication failed for user "postgres" on steward-drill-app-db-00000011',
    );
    expect(await login('drill_reader', without)).toBe(
      'PAM authentication failed for user "drill_reader" on steward-drill-app-db-00000012 (restored without IAM database authentication)',
    );
  });

  restorePortContract('localEstate', async () => {
    const estate = localEstate({
      source: { id: DB, server: source, tags: { 'steward:backup': 'daily' } },
      credentials: { username: 'postgres', password: 'unused' },
      now: () => new Date('2026-02-01T03:00:00Z'),
    });
    estates.push(estate);
    await estate.backup.createSnapshot({ kind: 'rds-instance', dbId: DB, snapshotId: SNAPSHOT, tags: {} });
    return {
      port: estate.restore,
      vanish: async () => void (await estate.snapshots.remove({ kind: 'rds-instance', id: SNAPSHOT })),
      settle: async () => {},
    };
  });
});
