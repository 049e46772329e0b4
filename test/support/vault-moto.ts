import { fileURLToPath } from 'node:url';
import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DescribeSnapshotAttributeCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import {
  CreateDBClusterCommand,
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotAttributesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { STSClient } from '@aws-sdk/client-sts';
import { ebsBackup } from '../../shared/aws/ebs.js';
import { ebsVaultShares } from '../../shared/aws/ebs-vault.js';
import { ebsVaultStore } from '../../shared/aws/ebs-vault-store.js';
import { rdsBackup } from '../../shared/aws/rds.js';
import { rdsRestorePort } from '../../shared/aws/rds-restore.js';
import { awsSnapshotStore } from '../../shared/aws/snapshots.js';
import {
  type AwsCredentialIdentityProvider,
  targetCredentials,
} from '../../shared/aws/target-credentials.js';
import { rdsVaultShares, rdsVaultStore } from '../../shared/aws/vault.js';
import { rdsStagedCopies, rdsVaultDrillPort } from '../../shared/aws/vault-drill.js';
import { snapshotId } from '../../shared/backup/ids.js';
import { reconcileVault, type VaultDeps } from '../../shared/backup/vault.js';
import { parseConfig, type StewardConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import type { DrillTaskEvent } from '../../shared/drill/state.js';
import { type DrillDeps, runDrillTask } from '../../shared/drill/tasks.js';
import { DRILL_COPY_KEY, type VaultDrillDeps } from '../../shared/drill/vault-tasks.js';
import { spokeRoleName } from '../../shared/fleet/targets.js';
import { vaultKeyAlias, vaultRoleArn } from '../../shared/fleet/vault.js';
import { vaultDrillRoleArn } from '../../shared/fleet/vault-drill.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import { Tag, tagList } from '../../shared/tags.js';
import {
  fakeReportStore,
  fakeTaskSignal,
  fakeTokenStore,
  fakeVaultShareLedger,
} from '../fakes/drill-ports.js';
import { runMotoInstance } from './fleet-moto.js';
import { createMotoInstance, createMotoKey } from './moto.js';

// The backup vault end to end against moto with three accounts: the hub (moto's default account, whose
// credentials the test starts with), a workload account and the vault account, each reached through STS
// AssumeRole with the shipped credentials provider (test/e2e/vault*-moto.test.ts).

/**
 * moto's server with what moto 5.2.1 lacks for the vault: a copy of a snapshot another account shares (RDS and
 * EC2), allowed only while the owner shares it, as AWS does. Pass as `useMotoEnvironment`'s `script`.
 */
export const SHARED_COPY_MOTO = fileURLToPath(new URL('./moto-shared-copy.py', import.meta.url));

export const HUB = '123456789012';
export const WORKLOAD = '222222222222';
export const VAULT = '999999999999';

/** The e2e stage: the hub and the workload account as targets, the vault in VAULT; `extra` adds to it. */
export const vaultStage = (region: string, extra: Partial<StewardConfigInput> = {}): StewardConfig =>
  parseConfig(
    {
      stage: 'e2e',
      account: HUB,
      region,
      fleet: { externalId: 'steward-e2e-fleet', vault: { account: VAULT, retention: 'standard' } },
      targets: [{}, { account: WORKLOAD }],
      ...extra,
    },
    'e2e',
  );

/**
 * The roles steward assumes from the hub, as credential providers: the workload account's spoke backup role,
 * and the vault account's copy, retention and drill roles. Call with moto's endpoint in the environment.
 */
export const vaultRoles = (config: StewardConfig, region: string, sessionName = 'steward-e2e') => {
  const creds = targetCredentials(new STSClient({ region }), { sessionName });
  const as = (account: string, roleArn: string) =>
    creds.forTarget({ account, region, roleArn, externalId: 'steward-e2e-fleet' });
  return {
    workload: as(WORKLOAD, `arn:aws:iam::${WORKLOAD}:role/${spokeRoleName('e2e', 'backup', region)}`),
    vault: as(VAULT, vaultRoleArn(config, 'copy', region)),
    vaultRetention: as(VAULT, vaultRoleArn(config, 'retention', region)),
    drill: as(VAULT, vaultDrillRoleArn(config, region)),
  };
};

/**
 * The backup function's vault deps for `account`'s `daily` snapshots (signing as `credentials`, or as the
 * environment's for the hub), the vault side as the vault copy role: RDS and ElastiCache always, and EBS
 * snapshot sets with `ebs`.
 */
const vaultDepsOf = (
  config: StewardConfig,
  region: string,
  roles: ReturnType<typeof vaultRoles>,
  account: string,
  credentials: AwsCredentialIdentityProvider | undefined,
  ebs: boolean,
): VaultDeps => {
  const as = { region, ...(credentials ? { credentials } : {}) };
  const rds = new RDSClient(as);
  const ec2 = new EC2Client(as);
  return {
    account,
    region,
    vaultAccount: VAULT,
    vaultKey: vaultKeyAlias(config),
    policies: ['daily'],
    maxInFlight: 20,
    maxClusterInFlight: 5,
    sources: awsSnapshotStore(
      region,
      rds,
      new ElastiCacheClient(as),
      undefined,
      ebs ? ebsBackup(region, ec2) : undefined,
    ),
    shares: rdsVaultShares(region, rds),
    vault: rdsVaultStore(region, new RDSClient({ region, credentials: roles.vault })),
    ...(ebs
      ? {
          sets: {
            shares: ebsVaultShares(region, ec2),
            vault: ebsVaultStore(region, new EC2Client({ region, credentials: roles.vault })),
            maxInFlight: 20,
          },
        }
      : {}),
  };
};

/** The backup function's vault deps for the workload account's `daily` snapshots, as its spoke backup role. */
export const workloadVaultDeps = (
  config: StewardConfig,
  region: string,
  roles: ReturnType<typeof vaultRoles>,
  ebs = false,
): VaultDeps => vaultDepsOf(config, region, roles, WORKLOAD, roles.workload, ebs);

/** The backup function's vault deps for the hub's own `daily` snapshots, with the hub's credentials. */
export const hubVaultDeps = (
  config: StewardConfig,
  region: string,
  roles: ReturnType<typeof vaultRoles>,
  ebs = false,
): VaultDeps => vaultDepsOf(config, region, roles, HUB, undefined, ebs);

/** The vault account's snapshot store as vault retention reads it: signed with the vault retention role. */
export const vaultRetentionStore = (region: string, roles: ReturnType<typeof vaultRoles>, ebs = false) =>
  awsSnapshotStore(
    region,
    new RDSClient({ region, credentials: roles.vaultRetention }),
    new ElastiCacheClient({ region, credentials: roles.vaultRetention }),
    undefined,
    ebs ? ebsBackup(region, new EC2Client({ region, credentials: roles.vaultRetention })) : undefined,
  );

// Vault drills (test/e2e/vault*-drill-moto.test.ts): the drill's execution, its deps, and what it leaves.

export const DRILL_EXECUTION = { name: 'monthly-2026-02', startTime: '2026-02-01T05:00:00.000Z' };

export { quietMetrics } from './drill-tasks.js';

/**
 * The hub's drill deps for drills from the vault, with one share ledger (the in-memory fake; its contract runs
 * over moto's DynamoDB in test/shared/aws/vault-share-ledger.test.ts) for every drill of the block. `config`
 * is read on each call. Returns the deps, the task runner for DRILL_EXECUTION, and a drill's first steps.
 */
export const vaultDrill = (
  config: StewardConfig | (() => StewardConfig),
  ports: Pick<DrillDeps, 'restore' | 'ebs'> & Pick<VaultDrillDeps, 'vault' | 'staging'>,
) => {
  const shares = fakeVaultShareLedger();
  const deps = (): DrillDeps => ({
    config: typeof config === 'function' ? config() : config,
    dryRun: false,
    notifier: memoryNotifier(),
    now: () => new Date('2026-02-01T05:00:10Z'),
    restore: ports.restore,
    ...(ports.ebs ? { ebs: ports.ebs } : {}),
    vault: { account: HUB, vault: ports.vault, staging: ports.staging, key: DRILL_COPY_KEY, shares },
    tokens: fakeTokenStore(),
    signal: fakeTaskSignal(),
    reports: fakeReportStore(),
    network: {},
  });
  const task = (t: DrillTaskEvent['task'], state: unknown) =>
    runDrillTask({ task: t, state, execution: DRILL_EXECUTION } as DrillTaskEvent, deps());
  /** A drill of `database` started, its snapshot selected and its restore begun: the select and restore states. */
  const restore = async (database: string) => {
    const selected = await task('select', await task('start', { database }));
    return { selected, restored: await task('restore', selected) };
  };
  return { deps, task, restore };
};

/**
 * Into the vault with the backup's own flow, run at `first` and again at `then`: share, copy (as the vault copy
 * role), then unshare (moto makes a copy available at once, so the unshare comes with the second run).
 */
export const intoVault = async (backup: VaultDeps, first: Date, then: Date): Promise<void> => {
  await reconcileVault(backup, false, first);
  await reconcileVault(backup, false, then);
};

/**
 * An RDS drill from the vault against moto at `endpoint`: the roles, the hub's RDS client (the environment's
 * credentials), the vault's as the vault drill role, the vault key made in the vault account, and the drill's
 * task runner over the real RDS adapters (restore, vault share, staged copies in the hub).
 */
export const rdsVaultDrillMoto = async (config: StewardConfig, region: string, endpoint: string) => {
  const roles = vaultRoles(config, region);
  const hub = new RDSClient({ region });
  const vault = new RDSClient({ region, credentials: roles.drill });
  await createMotoKey(endpoint, (await roles.vault()).accessKeyId, region, vaultKeyAlias(config));
  const { task, restore } = vaultDrill(config, {
    restore: rdsRestorePort(region, hub),
    vault: rdsVaultDrillPort(region, vault, VAULT),
    staging: rdsStagedCopies(region, hub),
  });
  return { roles, hub, vault, task, restore };
};

/** The accounts an RDS snapshot (`id`, in `rds`'s account) is shared with: its `restore` attribute. */
export const rdsSharedWith = async (rds: RDSClient, id: string): Promise<string[]> =>
  (
    await rds.send(new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: id }))
  ).DBSnapshotAttributesResult?.DBSnapshotAttributes?.find((a) => a.AttributeName === 'restore')
    ?.AttributeValues ?? [];

/** The accounts an Aurora cluster snapshot (`id`, in `rds`'s account) is shared with. */
export const clusterSharedWith = async (rds: RDSClient, id: string): Promise<string[]> =>
  (
    await rds.send(new DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: id }))
  ).DBClusterSnapshotAttributesResult?.DBClusterSnapshotAttributes?.find((a) => a.AttributeName === 'restore')
    ?.AttributeValues ?? [];

/** The accounts an EBS snapshot (`id`, in `ec2`'s account) is shared with: its createVolumePermission. */
export const ebsSharedWith = async (ec2: EC2Client, id: string): Promise<(string | undefined)[]> =>
  (
    (
      await ec2.send(
        new DescribeSnapshotAttributeCommand({ SnapshotId: id, Attribute: 'createVolumePermission' }),
      )
    ).CreateVolumePermissions ?? []
  ).map((p) => p.UserId);

const drillIds = (ids: string[]) => ids.filter((id) => id.startsWith('steward-drill-'));

/** What a drill made in `rds`'s account, by its `steward-drill-` ids: instances, clusters, manual snapshots. */
export const drillLeftovers = (rds: RDSClient) => ({
  instances: async () =>
    drillIds(
      ((await rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? []).map(
        (d) => d.DBInstanceIdentifier!,
      ),
    ),
  clusters: async () =>
    drillIds(
      ((await rds.send(new DescribeDBClustersCommand({}))).DBClusters ?? []).map(
        (d) => d.DBClusterIdentifier!,
      ),
    ),
  copies: async () =>
    drillIds(
      ((await rds.send(new DescribeDBSnapshotsCommand({ SnapshotType: 'manual' }))).DBSnapshots ?? []).map(
        (s) => s.DBSnapshotIdentifier!,
      ),
    ),
});

/** The tags of steward's scheduled `daily` snapshot of `source`, as the backup takes it. */
const dailyTags = (source: string) => ({
  [Tag.managed]: 'true',
  [Tag.policy]: 'daily',
  [Tag.source]: source,
  [Tag.createdBy]: 'backup',
});

/**
 * In `rds`'s account: an encrypted `orders-db` instance (and with `cluster`, an encrypted `ledger` Aurora
 * cluster) tagged for the `daily` policy, and steward's scheduled snapshot of each taken at `at`.
 */
export const backedUpRds = async (
  rds: RDSClient,
  region: string,
  at: Date,
  cluster = true,
): Promise<void> => {
  await createMotoInstance(rds, 'orders-db', {
    StorageEncrypted: true,
    Tags: tagList({ 'steward:backup': 'daily' }),
  });
  if (cluster)
    await rds.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: 'ledger',
        Engine: 'aurora-postgresql',
        MasterUsername: 'app',
        MasterUserPassword: 'not-a-secret-1',
        StorageEncrypted: true,
        Tags: tagList({ 'steward:backup': 'daily' }),
      }),
    );
  const dbs = [
    ['rds-instance', 'orders-db'] as const,
    ...(cluster ? [['aurora-cluster', 'ledger'] as const] : []),
  ];
  for (const [kind, db] of dbs)
    await rdsBackup(region, rds).createSnapshot({
      kind,
      dbId: db,
      snapshotId: snapshotId(db, at, 'sched'),
      tags: dailyTags(db),
    });
};

/** In `ec2`'s account: an instance in zone a with a 10 GiB data volume attached (a snapshot set of two). */
export const instanceWithDataVolume = async (
  ec2: EC2Client,
  region: string,
): Promise<{ instanceId: string; dataVolume: string }> => {
  const instanceId = await runMotoInstance(ec2, region);
  const dataVolume = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 10 })))
    .VolumeId!;
  await ec2.send(
    new AttachVolumeCommand({ InstanceId: instanceId, VolumeId: dataVolume, Device: '/dev/sdf' }),
  );
  return { instanceId, dataVolume };
};

/**
 * Steward's scheduled `daily` snapshot set of `instanceId` (in `ec2`'s account, its two volumes: see
 * `instanceWithDataVolume`) taken at `at`. Returns the set's id.
 */
export const backedUpSet = async (ec2: EC2Client, region: string, instanceId: string, at: Date) => {
  const id = snapshotId(instanceId, at, 'sched');
  await ebsBackup(region, ec2).createSnapshot({
    kind: 'ebs',
    dbId: instanceId,
    snapshotId: id,
    tags: { ...dailyTags(instanceId), [Tag.set]: id, [Tag.setSize]: '2' },
  });
  return id;
};
