import { DescribeSnapshotsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import {
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fleetWiring, type RetentionDeps } from '../../../functions/retention/handler.js';
import { fleetWiring as backupFleetWiring } from '../../../functions/backup/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { type FanOutTarget, TargetFailedError } from '../../../shared/fleet/fan-out.js';
import { runFleetEvent } from '../../../shared/fleet/child.js';
import { fleetWiring as sharedFleetWiring } from '../../../shared/aws/fleet-sessions.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import type { BaseDeps } from '../../../shared/runtime.js';
import { FLEET_CONFIG } from '../../support/fleet.js';
import { assumedRole, signer } from '../../support/fleet-mocks.js';
import { noServerlessCaches } from '../../support/serverless-mocks.js';

// The handler's target wiring with the SDK mocked: which credentials each target's clients sign with, that
// a session is assumed once per target and container, and replaced before it expires.
const sts = mockClient(STSClient);
const rds = mockClient(RDSClient);
const cache = mockClient(ElastiCacheClient);
const tagging = mockClient(ResourceGroupsTaggingAPIClient);
// The stage keeps Redis DR: a spoke child's retention lists its account's DR bucket too (redis-dr-wiring.test.ts).
const s3 = mockClient(S3Client);

const config = parseConfig(FLEET_CONFIG, 'fleet');
const base = (): BaseDeps => ({ config, dryRun: true, notifier: memoryNotifier(), now: () => new Date() });
const env = () => ({ STATE_TABLE: 'steward-prod-state', REPORT_BUCKET: undefined });
const event = { action: 'retention', scheduledTime: '2026-11-23T04:30:00Z' };

// Each test its own account: SDK clients are cached per container by identity, as in a Lambda.
let account = 400000000000;
const targetIn = (region = 'eu-west-1'): FanOutTarget => {
  const a = String(++account);
  return {
    index: 1,
    account: a,
    region,
    roleArn: `arn:aws:iam::${a}:role/steward-prod-spoke-retention-${region}`,
    externalId: 'steward-prod-fleet',
  };
};

/** The access key the client of an RDS call signed with. */
const signedWith = async (i: number): Promise<string> => (await signer(rds.call(i).thisValue)).key;

const runRetention = (raw: unknown, wiring = fleetWiring(base, env)) =>
  runFleetEvent(raw, wiring, async (_e, d: RetentionDeps) => {
    // The run only lists: enough to see which clients, regions and config the target got.
    for (const s of d.stores) await s.list(['rds-instance', 'aurora-cluster', 'elasticache']);
    return d;
  });

beforeEach(() => {
  sts.reset();
  rds.reset();
  cache.reset();
  noServerlessCaches(cache);
  tagging.reset();
  s3.reset();
  s3.on(ListObjectsV2Command).resolves({ Contents: [] });
  rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
  rds.on(DescribeDBClusterSnapshotsCommand).resolves({ DBClusterSnapshots: [] });
  cache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  tagging.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [] });
});

describe('a fan-out child of retention', () => {
  it("signs the target's clients with its role's session, in the target's region, with its overrides", async () => {
    // Prepare
    const t = { ...targetIn('eu-central-1'), index: 2 };
    sts.on(AssumeRoleCommand).resolves(assumedRole('TARGETA', 3_600_000));
    // Act
    const deps = (await runRetention({ ...event, target: t })) as RetentionDeps;
    // Assert
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: t.roleArn,
      RoleSessionName: 'steward-prod-retention',
      ExternalId: 'steward-prod-fleet',
    });
    expect(rds.calls().length).toBeGreaterThan(0);
    for (let i = 0; i < rds.calls().length; i++) expect(await signedWith(i)).toBe('AKIATARGETA');
    expect(await (rds.call(0).thisValue as RDSClient).config.region()).toBe('eu-central-1');
    expect(deps.config.region).toBe('eu-central-1');
    expect(deps.config.account).toBe(t.account);
    // targets[2] keeps 14 dailies of "standard" (the stage keeps the default).
    expect(deps.config.retention.policies.standard!.daily).toBe(14);
    expect(config.retention.policies.standard!.daily).not.toBe(14);
  });

  it('assumes the role once per target and container while the session is fresh', async () => {
    // Prepare
    const t = targetIn();
    sts.on(AssumeRoleCommand).resolves(assumedRole('CACHED', 3_600_000));
    const wiring = fleetWiring(base, env);
    // Act
    await runRetention({ ...event, target: t }, wiring);
    await runRetention({ ...event, target: t }, wiring);
    // Assert
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
  });

  it('assumes again when the session is about to expire, and signs with the new one', async () => {
    // Prepare: the first session ends in 2 minutes, inside the 5-minute refresh margin
    const t = targetIn();
    sts
      .on(AssumeRoleCommand)
      .resolvesOnce(assumedRole('OLD', 120_000))
      .resolves(assumedRole('NEW', 3_600_000));
    const wiring = fleetWiring(base, env);
    // Act
    await runRetention({ ...event, target: t }, wiring);
    const before = rds.calls().length;
    await runRetention({ ...event, target: t }, wiring);
    // Assert
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    expect(await signedWith(rds.calls().length - 1)).toBe('AKIANEW');
    expect(rds.calls().length).toBeGreaterThan(before);
  });

  it('keeps one session per target: two targets, two roles, two sets of credentials', async () => {
    // Prepare
    const a = targetIn();
    const b = targetIn();
    sts
      .on(AssumeRoleCommand, { RoleArn: a.roleArn })
      .resolves(assumedRole('AAA', 3_600_000))
      .on(AssumeRoleCommand, { RoleArn: b.roleArn })
      .resolves(assumedRole('BBB', 3_600_000));
    const wiring = fleetWiring(base, env);
    // Act
    await runRetention({ ...event, target: a }, wiring);
    const split = rds.calls().length;
    await runRetention({ ...event, target: b }, wiring);
    // Assert
    expect(await signedWith(0)).toBe('AKIAAAA');
    expect(await signedWith(split)).toBe('AKIABBB');
  });

  it('fails the child with an error naming the account and region when AssumeRole is refused, calling nothing else', async () => {
    // Prepare
    const t = targetIn('eu-central-1');
    sts.on(AssumeRoleCommand).rejects(
      Object.assign(
        new Error(`User is not authorized to perform: sts:AssumeRole on resource: ${t.roleArn}`),
        {
          name: 'AccessDenied',
        },
      ),
    );
    // Act
    const failure = await runRetention({ ...event, target: t }).catch((e: unknown) => e);
    // Assert
    expect(failure).toBeInstanceOf(TargetFailedError);
    expect((failure as TargetFailedError).kind).toBe('access-denied');
    expect((failure as Error).message).toMatch(
      new RegExp(`^Target ${t.account} eu-central-1 \\(targets\\[1\\]\\): access denied .*AccessDenied`),
    );
    expect(rds.calls()).toHaveLength(0);
  });

  it("runs the hub target with the function's own credentials, assuming nothing", async () => {
    // Prepare
    const hub: FanOutTarget = { index: 0, account: '111111111111', region: 'eu-west-1' };
    // Act
    const deps = (await runRetention({ ...event, target: hub })) as RetentionDeps;
    // Assert
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 0);
    expect(deps.config.region).toBe('eu-west-1');
  });

  it('behaves as today for an event without a target', async () => {
    // Act
    const deps = (await runRetention(event)) as RetentionDeps;
    // Assert
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 0);
    expect(deps.config).toBe(config);
  });

  it('refuses a malformed target before anything is called', async () => {
    // Act
    const failure = await runRetention({
      ...event,
      target: { index: 1, account: '12', region: 'eu-west-1' },
    }).catch((e: unknown) => e);
    // Assert
    expect((failure as Error).name).toBe('EventShapeError');
    expect((failure as Error).message).toContain('target.account');
    expect(sts.calls()).toHaveLength(0);
    expect(rds.calls()).toHaveLength(0);
  });
});

describe('a fan-out child of backup', () => {
  it('uses its own session name and signs its clients in the target with it', async () => {
    // Prepare
    const t = { ...targetIn(), roleArn: `arn:aws:iam::${account}:role/steward-prod-spoke-backup-eu-west-1` };
    sts.on(AssumeRoleCommand).resolves(assumedRole('BACKUP', 3_600_000));
    // Act
    const deps = await runFleetEvent(
      { action: 'scheduled-backup', policy: 'daily', scheduledTime: '2026-11-23T03:00:00Z', target: t },
      backupFleetWiring(base, {}),
      async (_e, d) => {
        await d.snapshots.primary.list(['rds-instance']);
        return d;
      },
    );
    // Assert
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleSessionName: 'steward-prod-backup' });
    expect(await signedWith(0)).toBe('AKIABACKUP');
    // No copy queue or scheduler of the hub in another account.
    expect('copyLedger' in deps).toBe(false);
    expect('scheduler' in deps).toBe(false);
  });
});

describe('a backup child of an account with two source regions', () => {
  it("shares the DR region's copy slots in the hub's table, signed with the hub's own credentials", async () => {
    // Prepare: 222222222222 copies to us-west-2 from eu-west-1 and eu-central-1
    const doc = mockClient(DynamoDBDocumentClient);
    doc.on(GetCommand).resolves({});
    const t: FanOutTarget = {
      index: 1,
      account: '222222222222',
      region: 'eu-central-1',
      roleArn: 'arn:aws:iam::222222222222:role/steward-prod-spoke-backup-eu-central-1',
      externalId: 'steward-prod-fleet',
    };
    sts.on(AssumeRoleCommand).resolves(assumedRole('SLOTS', 3_600_000));
    try {
      // Act
      const deps = await runFleetEvent(
        { action: 'reconcile-copies', scheduledTime: '2026-11-23T03:00:00Z', target: t },
        backupFleetWiring(base, { STATE_TABLE: 'steward-prod-state' }),
        async (_e, d) => {
          await d.copySlots?.read();
          return d;
        },
      );
      // Assert: no copy queue in another account, but the shared slots, keyed by account and destination
      expect('copyLedger' in deps).toBe(false);
      expect(doc).toHaveReceivedCommandWith(GetCommand, {
        TableName: 'steward-prod-state',
        Key: { pk: 'dr-copies#slots#222222222222#us-west-2' },
      });
      const client = doc.commandCalls(GetCommand)[0]!.thisValue as DynamoDBDocumentClient;
      expect(await client.config.region()).toBe('eu-west-1');
      // The function's own credentials (the environment's, in Lambda), not the target's session.
      vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAHUBFUNCTION');
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
      expect((await client.config.credentials()).accessKeyId).toBe('AKIAHUBFUNCTION');
    } finally {
      doc.restore();
      vi.unstubAllEnvs();
    }
  });

  it("a spoke account with one source region gets no slots, though the stage's own account copies from two", async () => {
    // Prepare: the stage's account (no `account` in its target) in two regions; 333333333333 in one
    const two = parseConfig(
      {
        ...FLEET_CONFIG,
        targets: [{ regions: ['eu-west-1', 'eu-central-1'] }, { account: '333333333333' }],
      },
      'two',
    );
    const t: FanOutTarget = {
      index: 1,
      account: '333333333333',
      region: 'eu-west-1',
      roleArn: 'arn:aws:iam::333333333333:role/steward-prod-spoke-backup-eu-west-1',
      externalId: 'steward-prod-fleet',
    };
    sts.on(AssumeRoleCommand).resolves(assumedRole('ONE', 3_600_000));
    // Act
    const deps = await runFleetEvent(
      { action: 'reconcile-copies', scheduledTime: '2026-11-23T03:00:00Z', target: t },
      backupFleetWiring(() => ({ ...base(), config: two }), { STATE_TABLE: 'steward-prod-state' }),
      async (_e, d) => d,
    );
    // Assert: nobody shares its destination, so no state-table item to read or write
    expect('copySlots' in deps).toBe(false);
  });

  it('a spoke account target gets no slots for an OU target of its region that does not hold it', async () => {
    // Prepare: 333333333333 in eu-west-1 (targets[2]); the OU of targets[3] copies from two regions, without it
    const t: FanOutTarget = {
      index: 2,
      account: '333333333333',
      region: 'eu-west-1',
      roleArn: 'arn:aws:iam::333333333333:role/steward-prod-spoke-backup-eu-west-1',
      externalId: 'steward-prod-fleet',
    };
    const inOu: FanOutTarget = {
      index: 3,
      account: '444444444444',
      region: 'eu-west-1',
      roleArn: 'arn:aws:iam::444444444444:role/steward-prod-spoke-backup-eu-west-1',
      externalId: 'steward-prod-fleet',
    };
    sts.on(AssumeRoleCommand).resolves(assumedRole('OU', 3_600_000));
    const wiring = backupFleetWiring(base, { STATE_TABLE: 'steward-prod-state' });
    const wired = (target: FanOutTarget) =>
      runFleetEvent(
        { action: 'reconcile-copies', scheduledTime: '2026-11-23T03:00:00Z', target },
        wiring,
        async (_e, d) => d,
      );
    // Act
    const [alone, member] = [await wired(t), await wired(inOu)];
    // Assert: the OU's account shares the destination with its other region; 333333333333 has it alone
    expect('copySlots' in alone).toBe(false);
    expect('copySlots' in member).toBe(true);
  });

  it('a single-account stage gets no slots: its one region has the destination to itself', async () => {
    // Prepare
    const single = parseConfig({ ...FLEET_CONFIG, fleet: undefined, targets: undefined }, 'single');
    // Act
    const deps = await runFleetEvent(
      { action: 'reconcile-copies', scheduledTime: '2026-11-23T03:00:00Z' },
      backupFleetWiring(() => ({ ...base(), config: single }), { STATE_TABLE: 'steward-prod-state' }),
      async (_e, d) => d,
    );
    // Assert
    expect('copySlots' in deps).toBe(false);
    expect('copyLedger' in deps).toBe(true);
  });
});

// A capability whose event starts with work in the hub (scaling's forwarded failover: a cooldown in the hub's
// table) gets its target's identity without an AssumeRole; the role is assumed when a client first signs.
describe('a target event that starts in the hub (fleetWiring startsInHub)', () => {
  const wiring = () =>
    sharedFleetWiring('scaling', base, (_b, at) => at, {
      startsInHub: (e) => (e as { source?: string }).source === 'aws.rds',
    });

  it('wires the target assuming nothing, then assumes the role when a client first signs with it', async () => {
    // Prepare
    const t = targetIn('eu-central-1');
    sts.on(AssumeRoleCommand).resolves(assumedRole('LATE', 3_600_000));
    // Act
    const at = await wiring().target(t, { source: 'aws.rds' });
    const before = sts.calls().length;
    const signed = await at!.as!.credentials();
    // Assert
    expect(before).toBe(0);
    expect(signed.accessKeyId).toBe('AKIALATE');
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleArn: t.roleArn });
  });

  it("a role refused at the first signing fails that call naming the role; another event's wiring fails first", async () => {
    // Prepare
    const t = targetIn('eu-central-1');
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    // Act
    const at = await wiring().target(t, { source: 'aws.rds' });
    const late = await at!.as!.credentials().catch((e: unknown) => e);
    const early = await wiring()
      .target(t, { source: 'aws.cloudwatch' })
      .catch((e: unknown) => e);
    // Assert
    for (const e of [late, early])
      expect((e as Error).message).toBe(
        `AssumeRole failed for ${t.roleArn} (target ${t.account} eu-central-1): AccessDenied: not authorized`,
      );
  });
});
