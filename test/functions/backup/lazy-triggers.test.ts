import { EC2Client } from '@aws-sdk/client-ec2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { RDSClient } from '@aws-sdk/client-rds';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import healthEvent from '../../../events/health/rds-maintenance-scheduled.json' with { type: 'json' };
import scheduledEvent from '../../../events/backup/scheduled.json' with { type: 'json' };
import snapshotRequest from '../../../events/backup/snapshot-request.json' with { type: 'json' };
import { parseConfig, type StewardConfig } from '../../../shared/config/schema.js';
import { fanOutTargets } from '../../../shared/fleet/fan-out.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { loadExample } from '../../support/examples.js';
import { FLEET_CONFIG } from '../../support/fleet.js';

// The backup function loads a trigger's code when that trigger arrives (`await import()` at the dispatch
// points and in `wire`); with the bundles split at those imports, each trigger parses only what it runs.
// Every module below records its loading (vi.doMock's factory runs when the module is first imported, statically
// or dynamically, in the fresh module graph of one invocation): the bench's first invoke, the prod stage's scheduled backup through the deployed wiring,
// must load none of them; the triggers that need one must load it (the check can fail both ways).
const loaded = new Set<string>();
const MODULES: Record<string, string> = {
  'backup/maintenance': '../../../shared/backup/maintenance.js',
  'backup/events': '../../../shared/backup/events.js',
  'backup/vault': '../../../shared/backup/vault.js',
  'backup/consistency': '../../../shared/backup/consistency.js',
  'fleet/forwarded-run': '../../../shared/fleet/forwarded-run.js',
  'aws/vault': '../../../shared/aws/vault.js',
  'aws/ebs-vault': '../../../shared/aws/ebs-vault.js',
  'aws/ebs-vault-store': '../../../shared/aws/ebs-vault-store.js',
  'aws/ebs': '../../../shared/aws/ebs.js',
  'aws/ssm-commands': '../../../shared/aws/ssm-commands.js',
  'aws/scheduler': '../../../shared/aws/scheduler.js',
  'aws/map-run-results': '../../../shared/aws/map-run-results.js',
  'aws/organizations': '../../../shared/aws/organizations.js',
  'fleet/fan-out': '../../../shared/fleet/fan-out.js',
  'fleet/summary': '../../../shared/fleet/summary.js',
  'fleet/organization': '../../../shared/fleet/organization.js',
  'fleet/forwarded': '../../../shared/fleet/forwarded.js',
  'aws/target-credentials': '../../../shared/aws/target-credentials.js',
};

// What the prod stack sets for the backup function (infra/backup.ts, infra/cache-dr.ts, the report bucket).
const ENV = {
  STATE_TABLE: 'steward-prod-state',
  REDIS_EXPORT_BUCKET: 'steward-prod-redis-export',
  REDIS_DR_BUCKET: 'steward-prod-redis-dr',
  REPORT_BUCKET: 'steward-prod-reports',
  MAINTENANCE_SCHEDULE_GROUP: 'steward-prod-maintenance',
  MAINTENANCE_TARGET_ARN: 'arn:aws:lambda:eu-west-1:111122223333:function:steward-prod-backup',
  MAINTENANCE_ROLE_ARN: 'arn:aws:iam::111122223333:role/steward-prod-scheduler',
};
const NOW = new Date('2026-01-15T03:05:00Z');

const clients = [
  mockClient(RDSClient),
  mockClient(ElastiCacheClient),
  mockClient(EC2Client),
  mockClient(S3Client),
  mockClient(SchedulerClient),
  mockClient(ResourceGroupsTaggingAPIClient),
  mockClient(DynamoDBDocumentClient),
];
const sts = mockClient(STSClient);
/** Every command of a mocked client answers `{}` (what an empty estate answers), as the bench's fake does. */
const answerEmpty = (m: { reset(): { onAnyCommand(): { resolves(v: never): unknown } } }) =>
  m
    .reset()
    .onAnyCommand()
    .resolves({} as never);

/** One invocation through the deployed wiring (handler.ts's fleetWiring, runFleetEvent, atPlace), fresh modules. */
const invoke = async (event: unknown, config: StewardConfig = loadExample('prod')) => {
  vi.resetModules();
  loaded.clear();
  for (const [name, path] of Object.entries(MODULES))
    vi.doMock(path, async (original: () => Promise<unknown>) => {
      loaded.add(name);
      return original();
    });
  const { fleetWiring, run } = await import('../../../functions/backup/handler.js');
  const { runFleetEvent } = await import('../../../shared/fleet/child.js');
  const { atPlace } = await import('../../../shared/runtime.js');
  const wiring = fleetWiring(
    () => ({ config, dryRun: false, notifier: memoryNotifier(), now: () => NOW }),
    ENV,
  );
  const result = await runFleetEvent(event, wiring, (e, d) => run(e, atPlace(d, e))).catch((e: unknown) => e);
  return { result, loaded: [...loaded].sort() };
};

beforeEach(() => {
  for (const c of clients) answerEmpty(c);
  sts
    .reset()
    .on(AssumeRoleCommand)
    .resolves({
      Credentials: {
        AccessKeyId: 'AKIASPOKE',
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        Expiration: new Date(Date.now() + 3600_000),
      },
    });
});

describe('the backup function loads what a trigger runs, and nothing else', () => {
  it("the prod stage's scheduled backup (the bench's first invoke) loads no event, vault, EBS, consistency or fleet code", async () => {
    // Act
    const { result, loaded: modules } = await invoke(scheduledEvent);

    // Assert
    expect(result).toMatchObject({ action: 'scheduled-backup', severity: 'info' });
    expect(modules).toEqual([]);
  });

  it('an AWS Health event loads the event parsers and the maintenance module', async () => {
    // Act
    const { loaded: modules } = await invoke({ ...healthEvent, time: NOW.toISOString() });

    // Assert
    expect(modules).toEqual(expect.arrayContaining(['backup/events', 'backup/maintenance']));
    expect(modules).not.toContain('fleet/forwarded-run');
  });

  it('a pre-change snapshot request lists the kinds the policies cover: the prod stage backs no EBS up, so it loads no EBS adapter', async () => {
    // Act
    const { loaded: modules } = await invoke(snapshotRequest);

    // Assert
    expect(modules).not.toContain('aws/ebs');
    expect(modules).not.toContain('backup/events');
  });

  it('a fan-out summary loads the fleet code', async () => {
    // Act
    const { loaded: modules } = await invoke({ action: 'fan-out-summary' });

    // Assert
    expect(modules).toEqual(expect.arrayContaining(['fleet/fan-out', 'fleet/summary']));
  });

  it("a fan-out child in a spoke account loads the STS adapter for the spoke role's session", async () => {
    // Prepare: the fleet's child for account 222222222222, whose spoke role the hub assumes.
    const config = parseConfig(FLEET_CONFIG, 'fleet');
    const target = fanOutTargets(config, 'backup').find(
      (t) => t.account === '222222222222' && t.region === 'eu-west-1',
    )!;

    // Act
    const { loaded: modules } = await invoke({ ...scheduledEvent, target }, config);

    // Assert
    expect(modules).toContain('aws/target-credentials');
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleArn: target.roleArn });
  });
});
