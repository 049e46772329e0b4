import { fileURLToPath } from 'node:url';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { RDSClient } from '@aws-sdk/client-rds';
import { STSClient } from '@aws-sdk/client-sts';
import { ebsBackup } from '../../shared/aws/ebs.js';
import { ebsVaultShares } from '../../shared/aws/ebs-vault.js';
import { ebsVaultStore } from '../../shared/aws/ebs-vault-store.js';
import { awsSnapshotStore } from '../../shared/aws/snapshots.js';
import { targetCredentials } from '../../shared/aws/target-credentials.js';
import { rdsVaultShares, rdsVaultStore } from '../../shared/aws/vault.js';
import type { VaultDeps } from '../../shared/backup/vault.js';
import { parseConfig, type StewardConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import { spokeRoleName } from '../../shared/fleet/targets.js';
import { vaultKeyAlias, vaultRoleArn } from '../../shared/fleet/vault.js';

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
 * The three roles steward assumes from the hub, as credential providers: the workload account's spoke backup
 * role, and the vault account's copy and retention roles. Call with moto's endpoint in the environment.
 */
export const vaultRoles = (config: StewardConfig, region: string, sessionName = 'steward-e2e') => {
  const creds = targetCredentials(new STSClient({ region }), { sessionName });
  const as = (account: string, roleArn: string) =>
    creds.forTarget({ account, region, roleArn, externalId: 'steward-e2e-fleet' });
  return {
    workload: as(WORKLOAD, `arn:aws:iam::${WORKLOAD}:role/${spokeRoleName('e2e', 'backup', region)}`),
    vault: as(VAULT, vaultRoleArn(config, 'copy', region)),
    vaultRetention: as(VAULT, vaultRoleArn(config, 'retention', region)),
  };
};

/**
 * The backup function's vault deps for the workload account's `daily` snapshots, each side signing with its
 * role: RDS and ElastiCache always, and EBS snapshot sets with `ebs`.
 */
export const workloadVaultDeps = (
  config: StewardConfig,
  region: string,
  roles: ReturnType<typeof vaultRoles>,
  ebs = false,
): VaultDeps => {
  const workloadRds = new RDSClient({ region, credentials: roles.workload });
  const workloadEc2 = new EC2Client({ region, credentials: roles.workload });
  return {
    account: WORKLOAD,
    region,
    vaultAccount: VAULT,
    vaultKey: vaultKeyAlias(config),
    policies: ['daily'],
    maxInFlight: 20,
    maxClusterInFlight: 5,
    sources: awsSnapshotStore(
      region,
      workloadRds,
      new ElastiCacheClient({ region, credentials: roles.workload }),
      undefined,
      ebs ? ebsBackup(region, workloadEc2) : undefined,
    ),
    shares: rdsVaultShares(region, workloadRds),
    vault: rdsVaultStore(region, new RDSClient({ region, credentials: roles.vault })),
    ...(ebs
      ? {
          sets: {
            shares: ebsVaultShares(region, workloadEc2),
            vault: ebsVaultStore(region, new EC2Client({ region, credentials: roles.vault })),
            maxInFlight: 20,
          },
        }
      : {}),
  };
};

/** The vault account's snapshot store as vault retention reads it: signed with the vault retention role. */
export const vaultRetentionStore = (region: string, roles: ReturnType<typeof vaultRoles>, ebs = false) =>
  awsSnapshotStore(
    region,
    new RDSClient({ region, credentials: roles.vaultRetention }),
    new ElastiCacheClient({ region, credentials: roles.vaultRetention }),
    undefined,
    ebs ? ebsBackup(region, new EC2Client({ region, credentials: roles.vaultRetention })) : undefined,
  );
