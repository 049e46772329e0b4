import { describe, expect, it } from 'vitest';
import { isValidSnapshotId, snapshotId } from '../../../shared/backup/ids.js';
import { isVaultCopy, vaultCopyId, vaultCopyTags } from '../../../shared/fleet/vault.js';

describe('vaultCopyId', () => {
  it.each([
    ['a short id', 'steward-orders-db-202601150300-sched'],
    ['the longest id steward makes', snapshotId('x'.repeat(80), new Date('2026-01-15T03:00:00Z'), 'sched')],
  ])('keeps %s valid for a cluster snapshot, deterministic and steward-prefixed', (_label, source) => {
    // Act
    const id = vaultCopyId('222222222222', source);
    // Assert
    expect(isValidSnapshotId(id)).toBe(true);
    expect(id.startsWith('steward-')).toBe(true);
    expect(vaultCopyId('222222222222', source)).toBe(id);
  });

  it('tells apart the same database and time in two accounts', () => {
    const source = 'steward-orders-db-202601150300-sched';
    expect(vaultCopyId('222222222222', source)).not.toBe(vaultCopyId('333333333333', source));
  });
});

describe('isVaultCopy', () => {
  const tags = vaultCopyTags({
    sourceAccount: '222222222222',
    sourceRegion: 'eu-west-1',
    sourceArn: 'arn:aws:rds:eu-west-1:222222222222:snapshot:steward-orders-db-202601150300-sched',
    db: 'orders-db',
    policy: 'daily',
  });

  it.each([
    ['a copy the vault made', tags, true],
    ['a steward snapshot the vault did not copy', { 'steward:managed': 'true' }, false],
    ['a copy marked but not steward-managed', { ...tags, 'steward:managed': 'false' }, false],
    ['a snapshot someone else made', {}, false],
  ])('%s: %s', (_label, t, expected) => {
    expect(isVaultCopy(t)).toBe(expected);
  });
});
