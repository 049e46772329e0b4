import {
  DeleteDBSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { wireVault } from '../../../functions/retention/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { ConfigError, EventShapeError } from '../../../shared/errors.js';
import { fleetSessions } from '../../../shared/aws/fleet-sessions.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { parseVaultRetentionRequest } from '../../../shared/retention/request.js';
import { runVaultRetentionRequest } from '../../../shared/retention/vault-run.js';
import type { BaseDeps } from '../../../shared/runtime.js';
import { FLEET_CONFIG, VAULT_ACCOUNT, VAULT_CONFIG } from '../../support/fleet.js';
import { assumedRole, sentBy } from '../../support/fleet-mocks.js';

// The vault's retention as the retention function runs it, SDK mocked: the vault region's store signs with the
// vault retention role (assumed by the hub's retention role), only the vault's own expired copies are deleted,
// and the summary names the vault's account and region.
const sts = mockClient(STSClient);
const rds = mockClient(RDSClient);
const ddb = mockClient(DynamoDBDocumentClient);

const NOW = new Date('2026-11-23T04:30:00Z');
// The vault keeps 7 dailies here (policy "short"), so a test needs few copies.
const config = parseConfig(
  {
    ...VAULT_CONFIG,
    fleet: { ...VAULT_CONFIG.fleet!, vault: { account: VAULT_ACCOUNT, retention: 'short' } },
  },
  'vault',
);
const baseOf = (c = config, notifier = memoryNotifier()): BaseDeps => ({
  config: c,
  dryRun: false,
  notifier,
  now: () => NOW,
});
const env = { VAULT_PARTITION: 'aws', STATE_TABLE: 'steward-prod-state' };
const request = { action: 'vault-retention', region: 'eu-central-1', scheduledTime: '2026-11-23T04:30:00Z' };

const copy = (id: string, at: string, tags: Record<string, string> = {}) => ({
  DBSnapshotIdentifier: id,
  DBSnapshotArn: `arn:aws:rds:eu-central-1:${VAULT_ACCOUNT}:snapshot:${id}`,
  DBInstanceIdentifier: 'orders',
  SnapshotType: 'manual',
  Status: 'available',
  SnapshotCreateTime: new Date(at),
  TagList: Object.entries({
    'steward:managed': 'true',
    'steward:vault': 'true',
    'steward:created-by': 'vault',
    'steward:policy': 'daily',
    'steward:source': 'orders',
    'steward:source-account': '222222222222',
    'steward:source-region': 'eu-central-1',
    'steward:data-time': at,
    ...tags,
  }).map(([Key, Value]) => ({ Key, Value })),
});

/** 7 daily copies up to Nov 22nd (the vault policy's daily count): all kept. */
const sevenDailies = () =>
  Array.from({ length: 7 }, (_, i) => {
    const at = new Date(Date.UTC(2026, 10, 22 - i, 3)).toISOString();
    return copy(`steward-orders-${at.slice(0, 10).replaceAll('-', '')}0300-sched-a1b2c3`, at);
  });

beforeEach(() => {
  sts.reset();
  rds.reset();
  ddb.reset();
  ddb.on(GetCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});
  rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
  rds.on(DeleteDBSnapshotCommand).resolves({});
  sts.on(AssumeRoleCommand).resolves(assumedRole('VAULTRET'));
});

describe('vault retention in the deployed retention function', () => {
  it('deletes only the expired vault copies, with the vault retention role in the requested vault region', async () => {
    // Prepare: 7 recent daily copies, one from 2024, one snapshot the vault did not copy
    const old = copy('steward-orders-202401150300-sched-a1b2c3', '2024-01-15T03:00:00Z');
    const foreign = {
      ...copy('hand-made-2024', '2024-01-15T03:00:00Z'),
      TagList: [{ Key: 'owner', Value: 'dba' }],
    };
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [...sevenDailies(), old, foreign] });
    const notifier = memoryNotifier();
    const sessions = fleetSessions('prod', 'eu-west-1', 'retention');
    const deps = wireVault(baseOf(config, notifier), env, sessions);
    // Act
    const result = await runVaultRetentionRequest(parseVaultRetentionRequest(request), deps);
    // Assert
    expect(rds).toHaveReceivedCommandTimes(DeleteDBSnapshotCommand, 1);
    expect(rds).toHaveReceivedCommandWith(DeleteDBSnapshotCommand, {
      DBSnapshotIdentifier: old.DBSnapshotIdentifier,
    });
    expect(await sentBy(rds, DeleteDBSnapshotCommand)).toEqual({
      key: 'AKIAVAULTRET',
      region: 'eu-central-1',
    });
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: `arn:aws:iam::${VAULT_ACCOUNT}:role/steward-prod-vault-retention-eu-central-1`,
      RoleSessionName: 'steward-prod-retention',
      ExternalId: 'steward-prod-fleet',
    });
    expect(result).toMatchObject({
      account: VAULT_ACCOUNT,
      region: 'eu-central-1',
      policy: 'short',
      ignored: 1,
    });
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]).toMatchObject({
      severity: 'info',
      capability: 'retention',
      place: { account: VAULT_ACCOUNT, region: 'eu-central-1' },
    });
    expect(notifier.sent[0]!.subject).toContain('deleted 1 expired copies');
    // The day's budget: the hub's state table, the vault region's own key, reserved before the delete.
    expect(ddb).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: 'steward-prod-state',
      Key: { pk: `retention-budget#2026-11-23#vault-${VAULT_ACCOUNT}-eu-central-1` },
      ExpressionAttributeValues: expect.objectContaining({ ':next': 1 }),
    });
  });

  it("defers the vault's deletions when today's budget is already used", async () => {
    // Prepare: an earlier run today used the whole allowance (100 deletions at the floor).
    ddb.on(GetCommand).resolves({
      Item: { pk: `retention-budget#2026-11-23#vault-${VAULT_ACCOUNT}-eu-central-1`, used: 100 },
    });
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        ...sevenDailies(),
        copy('steward-orders-202401150300-sched-a1b2c3', '2024-01-15T03:00:00Z'),
      ],
    });
    const notifier = memoryNotifier();
    const deps = wireVault(baseOf(config, notifier), env, fleetSessions('prod', 'eu-west-1', 'retention'));
    // Act
    await runVaultRetentionRequest(parseVaultRetentionRequest(request), deps);
    // Assert
    expect(rds).toHaveReceivedCommandTimes(DeleteDBSnapshotCommand, 0);
    expect(notifier.sent[0]).toMatchObject({ severity: 'warning' });
    expect(notifier.sent[0]!.lines.join('\n')).toContain("Over today's budget: 1 expired vault copies");
  });

  it('plans and deletes nothing on a dry run', async () => {
    // Prepare
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [copy('steward-orders-202401150300-sched-a1b2c3', '2024-01-15T03:00:00Z')],
    });
    const deps = wireVault(baseOf(), env, fleetSessions('prod', 'eu-west-1', 'retention'));
    // Act
    const result = await runVaultRetentionRequest(
      parseVaultRetentionRequest({ ...request, dryRun: true }),
      deps,
    );
    // Assert
    expect(result.dryRun).toBe(true);
    expect(rds).toHaveReceivedCommandTimes(DeleteDBSnapshotCommand, 0);
  });

  it.each([
    ['a region that is not a vault region', baseOf(), { ...request, region: 'us-east-1' }, EventShapeError],
    ['a stage without fleet.vault', baseOf(parseConfig(FLEET_CONFIG, 'fleet')), request, EventShapeError],
  ])('refuses %s before anything is called', async (_name, base, raw, error) => {
    // Act
    const deps = wireVault(base, env, fleetSessions('prod', 'eu-west-1', 'retention'));
    // Assert
    await expect(runVaultRetentionRequest(parseVaultRetentionRequest(raw), deps)).rejects.toThrow(error);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 0);
    expect(rds.calls()).toHaveLength(0);
  });

  it.each([
    ['no partition: the vault trusts only the hub role', { STATE_TABLE: 'steward-prod-state' }],
    ['no state table: no day budget', { VAULT_PARTITION: 'aws' }],
  ])('refuses to run outside the deployed function (%s)', async (_name, env) => {
    const deps = wireVault(baseOf(), env, fleetSessions('prod', 'eu-west-1', 'retention'));
    await expect(runVaultRetentionRequest(parseVaultRetentionRequest(request), deps)).rejects.toThrow(
      ConfigError,
    );
    expect(rds.calls()).toHaveLength(0);
  });

  it('rejects a malformed request naming the field', () => {
    expect(() => parseVaultRetentionRequest({ action: 'vault-retention', region: 'nowhere' })).toThrow(
      EventShapeError,
    );
    expect(() => parseVaultRetentionRequest({ ...request, dry_run: true })).toThrow(/dry_run/);
  });
});
