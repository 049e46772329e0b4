import {
  CopyDBSnapshotCommand,
  CreateDBInstanceCommand,
  type DBClusterSnapshot,
  type DBInstance,
  type DBSnapshot,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
  type RDSClient,
  RestoreDBClusterFromSnapshotCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { run, wire } from '../../functions/drill/handler.js';
import { parseConfig, type StewardConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import type { DrillDeps } from '../../shared/drill/tasks.js';
import { DrillEnv } from '../../shared/drill/env.js';
import type { DrillState } from '../../shared/drill/state.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';

// The drill function's real wiring as its wired tests run it (test/functions/drill/*wired*.test.ts, SDK
// clients mocked): a `prod` stage's environment, the monthly execution, and a task's input.

/** The drill function's environment in a `prod` stage of `account` and `region`, with `extra` variables. */
export const drillEnv = (
  extra: Record<string, string> = {},
  account = '111122223333',
  region = 'eu-west-1',
): Record<string, string> => ({
  STAGE: 'prod',
  CRITICAL_TOPIC_ARN: `arn:aws:sns:${region}:${account}:steward-prod-critical`,
  WARNING_TOPIC_ARN: `arn:aws:sns:${region}:${account}:steward-prod-warning`,
  INFO_TOPIC_ARN: `arn:aws:sns:${region}:${account}:steward-prod-info`,
  DRILL_TABLE: 'steward-prod-state',
  REPORT_BUCKET: 'steward-prod-drill-reports',
  DRILL_SUBNET_GROUP: 'steward-prod-drill',
  DRILL_SECURITY_GROUP_IDS: 'sg-0abc1234',
  DRY_RUN: 'false',
  ...extra,
});

/** The Redis drill network's variables (a stage with cache drills). */
export const CACHE_DRILL_ENV = {
  DRILL_CACHE_SUBNET_GROUP: 'steward-prod-drill',
  DRILL_CACHE_SECURITY_GROUP_IDS: 'sg-0cac4e123',
  DRILL_CACHE_USER_GROUP: 'steward-prod-drill',
};

/** The execution the wired drills run in: the monthly schedule's February 2026 run. */
export const EXECUTION = { name: 'monthly-2026-02', startTime: '2026-02-01T05:00:03.512Z' };

/** A task's input as the state machine passes it: the task, the drill state, the execution, and `extra`. */
export const drillTask = (name: string, state: unknown, extra: Record<string, unknown> = {}) => ({
  task: name,
  state,
  execution: EXECUTION,
  ...extra,
});

/** The drill function's real deps (handler `wire()`) for `config` at `now`, live unless `dryRun`, with a memory notifier. */
export const wiredDrill = (
  config: StewardConfig,
  env: Record<string, string>,
  now: Date,
  raw?: Record<string, string | undefined>,
  dryRun = false,
): DrillDeps =>
  wire({ config, dryRun, notifier: memoryNotifier(), now: () => now }, DrillEnv.parse(env), raw);

// Drills from the backup vault (test/functions/drill/vault*-wired.test.ts).

/**
 * A `prod` stage of `account` in `region` whose fleet keeps a backup vault in `vault` (its copies kept by the
 * `vault` retention policy, 35 dailies), with `extra` (the drill targets, more fleet targets).
 */
export const vaultDrillStage = (
  account: string,
  region: string,
  vault: string,
  extra: Partial<StewardConfigInput>,
): StewardConfig =>
  parseConfig(
    {
      stage: 'prod',
      account,
      region,
      fleet: {
        organizationId: 'o-a1b2c3d4e5',
        externalId: 'steward-prod-fleet',
        vault: { account: vault, retention: 'vault' },
      },
      retention: { policies: { standard: {}, vault: { daily: 35 } } },
      ...extra,
    },
    'test',
  );

/** The tags the backup vault's copy of `account`'s RDS or Aurora `db` carries, its data dated `dataTime`. */
export const rdsVaultCopyTags = (db: string, account: string, region: string, dataTime: string) => [
  { Key: 'steward:managed', Value: 'true' },
  { Key: 'steward:vault', Value: 'true' },
  { Key: 'steward:created-by', Value: 'vault' },
  { Key: 'steward:source', Value: db },
  { Key: 'steward:source-account', Value: account },
  { Key: 'steward:source-region', Value: region },
  { Key: 'steward:data-time', Value: dataTime },
];

/** The drill state of `database` after the wired `start` and `select` tasks, each with fresh `deps()`. */
export const selectedWith =
  (deps: () => DrillDeps) =>
  async (database: string): Promise<DrillState> => {
    const started = (await run(drillTask('start', { database }), deps())) as DrillState;
    return (await run(drillTask('select', started), deps())) as DrillState;
  };

/** The ModifyDBSnapshotAttribute input that adds (or removes) `account` on the restore attribute of snapshot `id`. */
export const restoreShare = (id: string, account: string, add: boolean) => ({
  DBSnapshotIdentifier: id,
  AttributeName: 'restore',
  ...(add ? { ValuesToAdd: [account] } : { ValuesToRemove: [account] }),
});

/** The tags of an RDS snapshot, as DescribeDBSnapshots lists them. */
type TagList = { Key: string; Value: string }[];

/** The copies in the backup vault of account `vault` in `region`, as its DescribeDB(Cluster)Snapshots list them. */
export const vaultCopies = (vault: string, region: string) => ({
  /** Its copy `id` of RDS instance `db`, made at `at`, with `tags`. */
  instance: (db: string, id: string, tags: TagList, at: string): DBSnapshot => ({
    DBSnapshotIdentifier: id,
    DBSnapshotArn: `arn:aws:rds:${region}:${vault}:snapshot:${id}`,
    DBInstanceIdentifier: db,
    SnapshotCreateTime: new Date(at),
    Status: 'available',
    SnapshotType: 'manual',
    Encrypted: true,
    TagList: tags,
  }),
  /** Its copy `id` of Aurora PostgreSQL 16.4 cluster `cluster`, made 2026-01-31 04:00, with `tags`. */
  cluster: (cluster: string, id: string, tags: TagList): DBClusterSnapshot => ({
    DBClusterSnapshotIdentifier: id,
    DBClusterSnapshotArn: `arn:aws:rds:${region}:${vault}:cluster-snapshot:${id}`,
    DBClusterIdentifier: cluster,
    SnapshotCreateTime: new Date('2026-01-31T04:00:00Z'),
    Status: 'available',
    SnapshotType: 'manual',
    StorageEncrypted: true,
    Engine: 'aurora-postgresql',
    EngineVersion: '16.4',
    TagList: tags,
  }),
});

/** What `fakeVaultRds` answers with; `staged` may be set by a test. */
export interface VaultRdsFake {
  /** The status of the drill's own copy of an instance copy (undefined: none yet; CopyDBSnapshot makes it `creating`). */
  staged: string | undefined;
}

/**
 * The RDS answers a wired drill from the vault gets: the vault's instance copies from
 * `copies` (a page a Marker) and its cluster copies `clusterCopies`; the drill's own copy of an instance copy
 * (`steward-drill-<db>-…`, asked by id) with the fake's `staged` status, not found while none; the drill's
 * restored instances and clusters (`steward-drill-…`) available and tagged as the February drill's, any other
 * not found unless `instances` names it; every share, copy, restore and delete accepted.
 */
export const fakeVaultRds = (
  rds: AwsClientStub<RDSClient>,
  db: string,
  answers: {
    copies: (marker?: string) => { DBSnapshots: DBSnapshot[]; Marker?: string };
    clusterCopies: DBClusterSnapshot[];
    instances?: Record<string, DBInstance>;
  },
): VaultRdsFake => {
  const fake: VaultRdsFake = { staged: undefined };
  const drillTagList = [
    { Key: 'steward:managed', Value: 'true' },
    { Key: 'steward:drill', Value: 'monthly-2026-02' },
  ];
  rds
    .on(DescribeDBSnapshotsCommand)
    .callsFake((input: { DBSnapshotIdentifier?: string; Marker?: string }) => {
      if (!input.DBSnapshotIdentifier) return answers.copies(input.Marker);
      if (!fake.staged || !input.DBSnapshotIdentifier.startsWith(`steward-drill-${db}-`))
        throw Object.assign(new Error('not found'), { name: 'DBSnapshotNotFoundFault' });
      return {
        DBSnapshots: [
          {
            DBSnapshotIdentifier: input.DBSnapshotIdentifier,
            Status: fake.staged,
            TagList: [{ Key: 'steward:drill', Value: 'monthly-2026-02' }],
          },
        ],
      };
    });
  rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: answers.clusterCopies });
  /** The drill's own resource `id` (`steward-drill-…`) as `made` describes it; any other is not found (`fault`). */
  const drillOwn = <T>(id: string, fault: string, made: () => T): T => {
    if (!id.startsWith('steward-drill-')) throw Object.assign(new Error('gone'), { name: fault });
    return made();
  };
  rds.on(DescribeDBInstancesCommand).callsFake(({ DBInstanceIdentifier: id = '' }) => {
    const other = answers.instances?.[id];
    if (other) return { DBInstances: [other] };
    return drillOwn(id, 'DBInstanceNotFoundFault', () => ({
      DBInstances: [
        {
          DBInstanceIdentifier: id,
          DBInstanceStatus: 'available',
          Endpoint: { Address: `${id}.example`, Port: 5432 },
          TagList: drillTagList,
        },
      ],
    }));
  });
  rds.on(DescribeDBClustersCommand).callsFake(({ DBClusterIdentifier: id = '' }) =>
    drillOwn(id, 'DBClusterNotFoundFault', () => ({
      DBClusters: [
        {
          DBClusterIdentifier: id,
          Status: 'available',
          Engine: 'aurora-postgresql',
          DBClusterMembers: [],
          TagList: drillTagList,
        },
      ],
    })),
  );
  rds.on(ModifyDBSnapshotAttributeCommand).resolves({});
  rds.on(ModifyDBClusterSnapshotAttributeCommand).resolves({});
  rds.on(CopyDBSnapshotCommand).callsFake(() => ((fake.staged = 'creating'), {}));
  rds.on(DeleteDBSnapshotCommand).resolves({});
  rds.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({});
  rds
    .on(RestoreDBClusterFromSnapshotCommand)
    .resolves({ DBCluster: { Engine: 'aurora-postgresql', Status: 'creating' } });
  rds.on(CreateDBInstanceCommand).resolves({});
  rds.on(DeleteDBInstanceCommand).resolves({});
  rds.on(DeleteDBClusterCommand).resolves({});
  return fake;
};
