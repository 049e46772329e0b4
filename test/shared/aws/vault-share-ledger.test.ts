import { describe, expect, it } from 'vitest';
import {
  dynamoCopyDeletionLedger,
  dynamoFastRestoreLedger,
  dynamoVaultShareLedger,
} from '../../../shared/aws/drill-stores.js';
import type {
  CopyDeletion,
  CopyDeletionLedger,
  FastRestoreLedger,
  FastRestoreRecord,
  VaultShare,
  VaultShareLedger,
} from '../../../shared/drill/ports.js';
import {
  fakeCopyDeletionLedger,
  fakeFastRestoreLedger,
  fakeVaultShareLedger,
} from '../../fakes/drill-ports.js';
import { motoStateTables } from '../../support/state-table.js';

const VAULT = '999999999999';
const share = (over: Partial<VaultShare> = {}): VaultShare => ({
  kind: 'rds-instance',
  copyId: 'steward-orders-db-202601310300-sched-1a2b3c4d',
  drillId: 'monthly-2026-02',
  vaultAccount: VAULT,
  region: 'eu-west-1',
  sharedAt: '2026-02-01T05:00:10.000Z',
  ...over,
});
const byCopy = (a: VaultShare, b: VaultShare) =>
  `${a.drillId}${a.copyId}`.localeCompare(`${b.drillId}${b.copyId}`);

/**
 * What every VaultShareLedger must do: the state-table ledger (over moto's DynamoDB) and the in-memory fake both
 * run it, so the fake cannot drift from the real semantics.
 */
const ledgerContract = (name: string, make: () => Promise<VaultShareLedger>) =>
  describe(`${name} (VaultShareLedger contract)`, () => {
    it('lists what was recorded, per vault account and region', async () => {
      // Prepare
      const ledger = await make();
      const cluster = share({
        kind: 'aurora-cluster',
        copyId: 'steward-ledger-202601310300-c',
        drillId: 'd2',
      });
      // One part of a vault EBS set (an EBS drill from the vault shares each part).
      const part = share({ kind: 'ebs', copyId: 'snap-0f1234567890abcde', drillId: 'd3' });
      // Act
      await ledger.record(share());
      await ledger.record(cluster);
      await ledger.record(part);
      await ledger.record(share({ region: 'eu-central-1' }));
      // Assert
      expect((await ledger.list(VAULT, 'eu-west-1')).sort(byCopy)).toEqual(
        [cluster, share(), part].sort(byCopy),
      );
      expect(await ledger.list(VAULT, 'eu-central-1')).toEqual([share({ region: 'eu-central-1' })]);
      expect(await ledger.list('888888888888', 'eu-west-1')).toEqual([]);
    });

    it('keeps the first time a share was recorded (a retried task does not make it younger)', async () => {
      const ledger = await make();
      await ledger.record(share());
      await ledger.record(share({ sharedAt: '2026-02-01T07:00:00.000Z' }));
      expect(await ledger.list(VAULT, 'eu-west-1')).toEqual([share()]);
    });

    it("forgets one drill's share of a copy, and keeps another drill's share of the same copy", async () => {
      const ledger = await make();
      await ledger.record(share());
      await ledger.record(share({ drillId: 'adhoc-1' }));
      await ledger.forget(share());
      await ledger.forget(share({ copyId: 'never-recorded' }));
      expect(await ledger.list(VAULT, 'eu-west-1')).toEqual([share({ drillId: 'adhoc-1' })]);
    });
  });

ledgerContract('fakeVaultShareLedger', async () => fakeVaultShareLedger());

describe('dynamoVaultShareLedger against an emulated DynamoDB', () => {
  const tables = motoStateTables();
  ledgerContract('dynamoVaultShareLedger', async () => {
    const { doc, name } = await tables.table();
    return dynamoVaultShareLedger(doc, name);
  });
});

const fsr = (over: Partial<FastRestoreRecord> = {}): FastRestoreRecord => ({
  drillId: 'monthly-mongo-2026-02',
  snapshotId: 'snap-0123456789abcdef0',
  availabilityZone: 'eu-west-1b',
  region: 'eu-west-1',
  enabledAt: '2026-02-01T05:00:10.000Z',
  ...over,
});
const byKey = (a: FastRestoreRecord, b: FastRestoreRecord) =>
  `${a.drillId}${a.snapshotId}${a.availabilityZone}`.localeCompare(
    `${b.drillId}${b.snapshotId}${b.availabilityZone}`,
  );

/** What every FastRestoreLedger must do (the same store as the vault shares: one item, an attribute each). */
const fastRestoreContract = (name: string, make: () => Promise<FastRestoreLedger>) =>
  describe(`${name} (FastRestoreLedger contract)`, () => {
    it("lists every record, keeps the first time, and forgets one drill's record of a snapshot and zone only", async () => {
      // Prepare
      const ledger = await make();
      const other = fsr({ drillId: 'adhoc-1' });
      const zone = fsr({ availabilityZone: 'us-west-2a', region: 'us-west-2' });

      // Act
      await ledger.record(fsr());
      await ledger.record(fsr({ enabledAt: '2026-02-01T07:00:00.000Z' }));
      await ledger.record(other);
      await ledger.record(zone);
      const all = await ledger.list();
      await ledger.forget(fsr());
      await ledger.forget(fsr({ snapshotId: 'snap-0never' }));

      // Assert
      expect(all.sort(byKey)).toEqual([fsr(), other, zone].sort(byKey));
      expect((await ledger.list()).sort(byKey)).toEqual([other, zone].sort(byKey));
    });
  });

fastRestoreContract('fakeFastRestoreLedger', async () => fakeFastRestoreLedger());

describe('dynamoFastRestoreLedger against an emulated DynamoDB', () => {
  const tables = motoStateTables();
  fastRestoreContract('dynamoFastRestoreLedger', async () => {
    const { doc, name } = await tables.table();
    return dynamoFastRestoreLedger(doc, name);
  });
});

const copy = (over: Partial<CopyDeletion> = {}): CopyDeletion => ({
  kind: 'aurora-cluster',
  id: 'steward-drill-ledger-0a1b2c3d',
  instanceId: 'steward-drill-ledger-0a1b2c3d-1',
  drillId: 'monthly-ledger-2026-02',
  region: 'eu-west-1',
  since: '2026-02-01T06:10:00.000Z',
  ...over,
});
const byCopyId = (a: CopyDeletion, b: CopyDeletion) =>
  `${a.region}${a.id}`.localeCompare(`${b.region}${b.id}`);

/** What every CopyDeletionLedger must do (the same store again: one item, an attribute per region and copy). */
const copyDeletionContract = (name: string, make: () => Promise<CopyDeletionLedger>) =>
  describe(`${name} (CopyDeletionLedger contract)`, () => {
    it('lists every copy, keeps the first time, and forgets one copy of one region only', async () => {
      // Prepare
      const ledger = await make();
      const instance = copy({
        kind: 'rds-instance',
        id: 'steward-drill-orders-1a2b3c4d',
        drillId: 'adhoc-1',
      });
      delete instance.instanceId;
      const dr = copy({ region: 'us-west-2' });

      // Act
      await ledger.record(copy());
      await ledger.record(copy({ since: '2026-02-01T07:00:00.000Z', drillId: 'retried' }));
      await ledger.record(instance);
      await ledger.record(dr);
      const all = await ledger.list();
      await ledger.forget(copy());
      await ledger.forget(copy({ id: 'steward-drill-never-00000000' }));

      // Assert
      expect(all.sort(byCopyId)).toEqual([copy(), instance, dr].sort(byCopyId));
      expect((await ledger.list()).sort(byCopyId)).toEqual([instance, dr].sort(byCopyId));
    });
  });

copyDeletionContract('fakeCopyDeletionLedger', async () => fakeCopyDeletionLedger());

describe('dynamoCopyDeletionLedger against an emulated DynamoDB', () => {
  const tables = motoStateTables();
  copyDeletionContract('dynamoCopyDeletionLedger', async () => {
    const { doc, name } = await tables.table();
    return dynamoCopyDeletionLedger(doc, name);
  });
});
