import { describe, expect, it } from 'vitest';
import reconcileEvent from '../../../events/backup/reconcile-copies.json' with { type: 'json' };
import scheduledEvent from '../../../events/backup/scheduled.json' with { type: 'json' };
import databasesFixture from '../../../events/inventory/databases.json' with { type: 'json' };
import { type BackupDeps, run } from '../../../functions/backup/handler.js';
import type { VaultCopyInput, VaultShares, VaultStore } from '../../../shared/backup/ports.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { PartialFailureError } from '../../../shared/errors.js';
import type { Database, Snapshot } from '../../../shared/model.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { fakeBackupPort, fakeCopyPort, fakeSnapshotArn } from '../../fakes/backup-ports.js';
import { fakeSnapshotStore } from '../../fakes/snapshot-store.js';

// The vault hook of the backup run: a scheduled backup, and the event-free (hourly) copy reconcile, also
// copy into the vault; an RDS event's run does not. The vault is in memory here (the adapters are proven
// under aws-sdk-client-mock and against moto).
const REGION = 'eu-west-1';
const ACCOUNT = '111111111111';
const VAULT = '999999999999';
const NOW = new Date('2026-01-15T10:30:00Z');

const config = parseConfig(
  {
    stage: 'prod',
    account: ACCOUNT,
    region: REGION,
    fleet: { externalId: 'steward-prod-fleet', vault: { account: VAULT, retention: 'standard' } },
    backup: { policies: { daily: { retention: 'standard' } } },
    retention: { policies: { standard: {} } },
  },
  'test',
);

const available = (id: string): Snapshot => ({
  kind: 'rds-instance',
  id,
  arn: fakeSnapshotArn('rds-instance', REGION, id),
  region: REGION,
  sourceId: 'orders-db',
  createdAt: '2026-01-14T03:05:00.000Z',
  status: 'available',
  type: 'manual',
  encrypted: true,
  tags: { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': 'orders-db' },
});

const memoryVault = (fail?: Error) => {
  const copies: VaultCopyInput[] = [];
  const shared: string[] = [];
  const shares: VaultShares = {
    region: REGION,
    share: (s) => {
      shared.push(s.id);
      return Promise.resolve('done');
    },
    unshare: () => Promise.resolve('done'),
    reencrypt: () => Promise.resolve('started'),
    remove: () => Promise.resolve('deleted'),
  };
  const vault: VaultStore = {
    region: REGION,
    copies: () => (fail ? Promise.reject(fail) : Promise.resolve([])),
    shared: () => Promise.resolve([]),
    copy: (input) => {
      copies.push(input);
      return Promise.resolve('started');
    },
  };
  return { copies, shared, shares, vault };
};

const deps = (m: ReturnType<typeof memoryVault>, snaps: Snapshot[]): BackupDeps => {
  const primaryStore = fakeSnapshotStore(REGION, snaps);
  return {
    config,
    dryRun: false,
    notifier: memoryNotifier(),
    now: () => NOW,
    primary: fakeBackupPort(REGION, databasesFixture as Database[], [], primaryStore),
    dr: fakeCopyPort(config.dr.region),
    snapshots: { primary: primaryStore, dr: fakeSnapshotStore(config.dr.region) },
    vault: {
      account: ACCOUNT,
      region: REGION,
      vaultAccount: VAULT,
      vaultKey: 'alias/steward-prod-vault',
      policies: ['daily'],
      maxInFlight: 20,
      maxClusterInFlight: 5,
      sources: primaryStore,
      shares: m.shares,
      vault: m.vault,
    },
  };
};

describe('the backup run with a vault', () => {
  it('copies an available snapshot into the vault after a scheduled backup', async () => {
    // Prepare
    const m = memoryVault();
    // Act
    const r = await run(
      structuredClone(scheduledEvent),
      deps(m, [available('steward-orders-db-202601140300-sched')]),
    );
    // Assert
    expect(m.shared).toEqual(['steward-orders-db-202601140300-sched']);
    expect(m.copies.map((c) => c.sourceArn)).toEqual([
      fakeSnapshotArn('rds-instance', REGION, 'steward-orders-db-202601140300-sched'),
    ]);
    expect(r.summary).toMatch(/; vault copies 1 started$/);
  });

  it('follows the vault on the hourly reconcile, even with no policy copying to DR', async () => {
    const m = memoryVault();
    const r = await run(
      structuredClone(reconcileEvent),
      deps(m, [available('steward-orders-db-202601140300-sched')]),
    );
    expect(m.copies).toHaveLength(1);
    expect(r.summary).toBe('DR copies: no backup policy copies to DR; vault copies 1 started');
  });

  it('reports an unreadable vault as one failure, after the rest of the run', async () => {
    const m = memoryVault(new Error('AccessDenied'));
    const e = await run(structuredClone(reconcileEvent), deps(m, [])).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PartialFailureError);
    expect((e as PartialFailureError).message).toMatch(/1 of 1 actions failed/);
  });
});
