import {
  CopySnapshotCommand,
  DescribeSnapshotsCommand as DescribeEbsSnapshotsCommand,
  EC2Client,
  ModifySnapshotAttributeCommand,
} from '@aws-sdk/client-ec2';
import { DescribeSnapshotsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import {
  CopyDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type BackupDeps, fleetWiring, wire } from '../../../functions/backup/handler.js';
import { reconcileVault } from '../../../shared/backup/vault.js';
import { parseConfig } from '../../../shared/config/schema.js';
import type { FanOutTarget } from '../../../shared/fleet/fan-out.js';
import { runFleetEvent } from '../../../shared/fleet/child.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import type { BaseDeps } from '../../../shared/runtime.js';
import { FLEET_CONFIG, VAULT_ACCOUNT, VAULT_CONFIG } from '../../support/fleet.js';
import { assumedRole, sentBy } from '../../support/fleet-mocks.js';
import { noServerlessCaches } from '../../support/serverless-mocks.js';

// The backup handler's vault wiring with the SDK mocked: the shares sign with the acting identity (the hub's
// own credentials, or the target's role), the vault side with the vault copy role assumed by the hub's backup
// role, in the source's region; without fleet.vault (or outside the deployed function) there is no vault.
const NOW = new Date('2026-03-01T12:00:00Z');
const sts = mockClient(STSClient);
const rds = mockClient(RDSClient);
const cache = mockClient(ElastiCacheClient);
const tagging = mockClient(ResourceGroupsTaggingAPIClient);
const ec2 = mockClient(EC2Client);

// SDK clients are cached per container by region and identity (the vault role's ARN names the stage): each
// test its own stage, as each Lambda container has its own clients.
const stageConfig = (stage: string) => parseConfig({ ...VAULT_CONFIG, stage }, 'vault');
const config = stageConfig('prod');
const base =
  (c = config) =>
  (): BaseDeps => ({
    config: c,
    dryRun: false,
    notifier: memoryNotifier(),
    now: () => new Date('2026-11-23T05:00:00Z'),
  });
const env = { VAULT_PARTITION: 'aws' };
const event = { action: 'reconcile-copies' };

// Each test its own workload account: SDK clients are cached per container by identity, as in a Lambda.
let account = 500000000000;
const targetIn = (region: string): FanOutTarget => {
  const a = String(++account);
  return {
    index: 1,
    account: a,
    region,
    roleArn: `arn:aws:iam::${a}:role/steward-prod-spoke-backup-${region}`,
    externalId: 'steward-prod-fleet',
  };
};

const snapshot = (acct: string, region: string) => ({
  DBSnapshotIdentifier: 'steward-orders-202611230300-daily',
  DBSnapshotArn: `arn:aws:rds:${region}:${acct}:snapshot:steward-orders-202611230300-daily`,
  DBInstanceIdentifier: 'orders',
  SnapshotType: 'manual',
  Status: 'available',
  Encrypted: true,
  SnapshotCreateTime: new Date('2026-11-23T03:00:00Z'),
  TagList: [
    { Key: 'steward:managed', Value: 'true' },
    { Key: 'steward:policy', Value: 'daily' },
    { Key: 'steward:source', Value: 'orders' },
  ],
});

/** One vault reconcile through the fleet wiring (the service's hook is proven in vault.test.ts). */
const reconcile = (raw: unknown, wiring: ReturnType<typeof fleetWiring>) =>
  runFleetEvent(raw, wiring, async (_e, d: BackupDeps) => {
    expect(d.vault).toBeDefined();
    await reconcileVault(d.vault!, false, NOW);
    return d;
  });

beforeEach(() => {
  sts.reset();
  rds.reset();
  cache.reset();
  noServerlessCaches(cache);
  tagging.reset();
  ec2.reset();
  rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
  rds.on(ModifyDBSnapshotAttributeCommand).resolves({});
  rds.on(CopyDBSnapshotCommand).resolves({});
  cache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [] });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the backup vault in the deployed backup function', () => {
  it("shares with the target's role and copies with the vault copy role, in the target's region", async () => {
    // Prepare
    const t = targetIn('eu-central-1');
    const vaultRole = `arn:aws:iam::${VAULT_ACCOUNT}:role/steward-prod-vault-copy-eu-central-1`;
    rds
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [snapshot(t.account, t.region)] })
      .on(DescribeDBSnapshotsCommand, { IncludeShared: true })
      .resolves({ DBSnapshots: [] });
    sts
      .on(AssumeRoleCommand, { RoleArn: t.roleArn })
      .resolves(assumedRole('TARGET'))
      .on(AssumeRoleCommand, { RoleArn: vaultRole })
      .resolves(assumedRole('VAULT'));
    // Act
    const deps = (await reconcile({ ...event, target: t }, fleetWiring(base(), env))) as BackupDeps;
    // Assert: the vault's half of the deps names the target as the source, the vault account and key
    expect(deps.vault).toMatchObject({
      account: t.account,
      region: 'eu-central-1',
      vaultAccount: VAULT_ACCOUNT,
      vaultKey: 'alias/steward-prod-vault',
      policies: ['daily', 'nightly'],
    });
    expect(rds).toHaveReceivedCommandWith(ModifyDBSnapshotAttributeCommand, {
      DBSnapshotIdentifier: 'steward-orders-202611230300-daily',
      ValuesToAdd: [VAULT_ACCOUNT],
    });
    expect(await sentBy(rds, ModifyDBSnapshotAttributeCommand)).toEqual({
      key: 'AKIATARGET',
      region: 'eu-central-1',
    });
    expect(await sentBy(rds, CopyDBSnapshotCommand)).toEqual({ key: 'AKIAVAULT', region: 'eu-central-1' });
    expect(rds).toHaveReceivedCommandWith(CopyDBSnapshotCommand, {
      SourceDBSnapshotIdentifier: snapshot(t.account, t.region).DBSnapshotArn,
      KmsKeyId: 'alias/steward-prod-vault',
    });
    // The vault role is assumed by the hub's backup role (the STS client's own credentials), with the
    // fleet's external id, under the backup function's session name.
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: vaultRole,
      RoleSessionName: 'steward-prod-backup',
      ExternalId: 'steward-prod-fleet',
    });
    const vaultAssume = sts
      .calls()
      .find((c) => (c.args[0].input as { RoleArn: string }).RoleArn === vaultRole)!;
    expect(await (vaultAssume.thisValue as STSClient).config.region()).toBe('eu-west-1');
  });

  it('assumes the vault copy role once per region and container, and one per vault region', async () => {
    // Prepare
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    sts.on(AssumeRoleCommand).resolves(assumedRole('ANY'));
    const wiring = fleetWiring(base(stageConfig('cache')), env);
    const a = targetIn('eu-west-1');
    const b = targetIn('eu-west-1');
    const c = targetIn('eu-central-1');
    // Act
    for (const t of [a, b, c]) await reconcile({ ...event, target: t }, wiring);
    // Every client that sent something signs (the SDK resolves credentials per request).
    for (const client of new Set(rds.calls().map((x) => x.thisValue as RDSClient)))
      await client.config.credentials();
    // Assert
    const vaultAssumes = sts
      .calls()
      .map((x) => (x.args[0].input as { RoleArn: string }).RoleArn)
      .filter((r) => r.includes(':role/steward-cache-vault-copy-'));
    expect(vaultAssumes.sort(), 'one AssumeRole per vault region').toEqual([
      `arn:aws:iam::${VAULT_ACCOUNT}:role/steward-cache-vault-copy-eu-central-1`,
      `arn:aws:iam::${VAULT_ACCOUNT}:role/steward-cache-vault-copy-eu-west-1`,
    ]);
  });

  it("shares with the hub's own credentials when the event names no target", async () => {
    // Prepare: the function's own credentials, as Lambda sets them
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAHUBOWN');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    const hub = config.account!;
    rds
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [snapshot(hub, 'eu-west-1')] })
      .on(DescribeDBSnapshotsCommand, { IncludeShared: true })
      .resolves({ DBSnapshots: [] });
    sts.on(AssumeRoleCommand).resolves(assumedRole('HUBVAULT'));
    // Act
    const deps = (await reconcile(event, fleetWiring(base(stageConfig('hub')), env))) as BackupDeps;
    // Assert
    expect(deps.vault).toMatchObject({ account: hub, region: 'eu-west-1' });
    expect(await sentBy(rds, ModifyDBSnapshotAttributeCommand)).toEqual({
      key: 'AKIAHUBOWN',
      region: 'eu-west-1',
    });
    expect(await sentBy(rds, CopyDBSnapshotCommand)).toEqual({ key: 'AKIAHUBVAULT', region: 'eu-west-1' });
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: `arn:aws:iam::${VAULT_ACCOUNT}:role/steward-hub-vault-copy-eu-west-1`,
      RoleSessionName: 'steward-hub-backup',
    });
  });

  it('builds no vault without fleet.vault, nor outside the deployed function (no partition), and assumes nothing', async () => {
    // Prepare
    const fleet = parseConfig(FLEET_CONFIG, 'fleet');
    const sessions = { role: () => expect.unreachable('no role is assumed without a vault') };
    // Act
    const withoutVault = wire(base(fleet)(), env, undefined, sessions);
    const local = wire(base()(), {}, undefined, sessions);
    const withoutSessions = wire(base()(), env);
    // Assert
    expect(withoutVault.vault).toBeUndefined();
    expect(local.vault).toBeUndefined();
    expect(withoutSessions.vault).toBeUndefined();
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 0);
  });

  it("EBS sets: shares each part with the target's role and copies with the vault copy role, in the target's region", async () => {
    // Prepare: a stage whose policy backs EBS up; the target holds one set of one volume.
    const ebsConfig = parseConfig(
      {
        ...VAULT_CONFIG,
        stage: 'ebs',
        backup: { policies: { ...VAULT_CONFIG.backup!.policies, hosts: { kinds: ['ebs'] } } },
      },
      'vault',
    );
    const t = targetIn('eu-central-1');
    const setId = 'steward-i-0abc-202611230300-sched';
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    sts.on(AssumeRoleCommand, { RoleArn: t.roleArn }).resolves(assumedRole('TARGET'));
    sts
      .on(AssumeRoleCommand, {
        RoleArn: `arn:aws:iam::${VAULT_ACCOUNT}:role/steward-ebs-vault-copy-eu-central-1`,
      })
      .resolves(assumedRole('VAULT'));
    // The source account lists its set; the vault (same request) holds nothing and is shared nothing.
    ec2
      .on(DescribeEbsSnapshotsCommand)
      .callsFake(async (input: { RestorableByUserIds?: string[] }, client) => {
        const key = (await (client() as EC2Client).config.credentials()).accessKeyId;
        if (key !== 'AKIATARGET' || input.RestorableByUserIds) return { Snapshots: [] };
        return {
          Snapshots: [
            {
              SnapshotId: 'snap-0part',
              VolumeId: 'vol-0a',
              OwnerId: t.account,
              State: 'completed',
              StartTime: new Date('2026-11-23T03:00:05Z'),
              Description: `steward ${setId}`,
              Tags: Object.entries({
                'steward:managed': 'true',
                'steward:policy': 'hosts',
                'steward:source': 'i-0abc',
                'steward:set': setId,
                'steward:set-size': '1',
              }).map(([Key, Value]) => ({ Key, Value })),
            },
          ],
        };
      });
    ec2.on(ModifySnapshotAttributeCommand).resolves({});
    ec2.on(CopySnapshotCommand).resolves({ SnapshotId: 'snap-0copy' });
    // Act
    const deps = (await reconcile({ ...event, target: t }, fleetWiring(base(ebsConfig), env))) as BackupDeps;
    // Assert
    expect(deps.vault!.sets).toMatchObject({ maxInFlight: 20 });
    expect(ec2).toHaveReceivedCommandWith(ModifySnapshotAttributeCommand, {
      SnapshotId: 'snap-0part',
      OperationType: 'add',
      UserIds: [VAULT_ACCOUNT],
    });
    expect(await sentBy(ec2, ModifySnapshotAttributeCommand)).toEqual({
      key: 'AKIATARGET',
      region: 'eu-central-1',
    });
    expect(await sentBy(ec2, CopySnapshotCommand)).toEqual({ key: 'AKIAVAULT', region: 'eu-central-1' });
    expect(ec2).toHaveReceivedCommandWith(CopySnapshotCommand, {
      SourceSnapshotId: 'snap-0part',
      SourceRegion: 'eu-central-1',
      KmsKeyId: 'alias/steward-ebs-vault',
    });
  });

  it('wires no EBS half when no policy backs EBS up', () => {
    const deps = wire(base()(), env, undefined, {
      role: (r) => ({ key: r.roleArn, credentials: () => Promise.reject(new Error('unused')) }),
    });
    expect(deps.vault).toBeDefined();
    expect(deps.vault!.sets).toBeUndefined();
  });
});
