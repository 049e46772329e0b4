import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/schema.js';
import type { VaultCopy } from '../../../shared/drill/ports.js';
import type { DrillState } from '../../../shared/drill/state.js';
import { vaultCleanup, type VaultDrillDeps, vaultRestoreSource } from '../../../shared/drill/vault-tasks.js';
import { fakeVaultShareLedger } from '../../fakes/drill-ports.js';

// The cleanup of an RDS or Aurora drill from the vault: its own copy deleted, the vault copy's share taken back,
// unless another drill recorded a share of the same copy and still restores from it.
const HUB = '111111111111';
const VAULT = '999999999999';
const REGION = 'eu-west-1';
const COPY = 'steward-ledger-202601310300-sched-1a2b3c4d';

const setup = () => {
  const shared = new Set<string>();
  const log: string[] = [];
  const shares = fakeVaultShareLedger();
  const modify = async (c: Pick<VaultCopy, 'id'>, add: boolean) => {
    log.push(`${add ? 'share' : 'unshare'} ${c.id}`);
    if (add) shared.add(c.id);
    else shared.delete(c.id);
    return 'done' as const;
  };
  const vault: VaultDrillDeps = {
    account: HUB,
    vault: {
      account: VAULT,
      region: REGION,
      copies: async () => [],
      share: (c) => modify(c, true),
      unshare: (c) => modify(c, false),
      sharedWith: async (c, account) => account === HUB && shared.has(c.id),
    },
    staging: {
      copy: async () => 'started',
      status: async () => undefined,
      remove: async () => 'already-gone',
      listDrillCopies: async () => [],
    },
    key: 'alias/aws/rds',
    shares,
  };
  const deps = {
    config: parseConfig(
      { stage: 'prod', account: HUB, region: REGION, fleet: { organizationId: 'o-a1b2c3d4e5' } },
      'test',
    ),
    now: () => new Date('2026-02-01T05:00:00.000Z'),
    vault,
  };
  const drill = (drillId: string): Partial<DrillState> => ({
    drillId,
    database: 'ledger',
    kind: 'aurora-cluster',
    source: {
      snapshotId: `arn:aws:rds:${REGION}:${VAULT}:cluster-snapshot:${COPY}`,
      referenceTime: '2026-01-31T03:00:00.000Z',
      vault: {
        account: VAULT,
        region: REGION,
        copyId: COPY,
        copyArn: `arn:aws:rds:${REGION}:${VAULT}:cluster-snapshot:${COPY}`,
        encrypted: true,
      },
    },
  });
  /** A drill that recorded its share and made it, as vaultRestoreSource does. */
  const shareFor = async (drillId: string) => {
    await shares.record({
      kind: 'aurora-cluster',
      copyId: COPY,
      drillId,
      vaultAccount: VAULT,
      region: REGION,
      sharedAt: '2026-02-01T04:00:00.000Z',
    });
    await vault.vault.share({ kind: 'aurora-cluster', id: COPY }, HUB);
  };
  return { deps, drill, shareFor, shared, shares, log };
};

describe('vaultCleanup', () => {
  it('keeps the vault copy shared while another drill that shared it runs; the last drill out unshares it', async () => {
    // Prepare: a scheduled and a manual drill of `ledger` picked the same (newest) vault copy.
    const f = setup();
    await f.shareFor('scheduled');
    await f.shareFor('manual');

    // Act: the manual drill ends first.
    const first = await vaultCleanup(f.drill('manual'), f.deps);
    const sharedAfterFirst = f.shared.has(COPY);
    const second = await vaultCleanup(f.drill('scheduled'), f.deps);

    // Assert
    expect(first).toEqual([]);
    expect(sharedAfterFirst).toBe(true);
    expect(second).toEqual([]);
    expect(f.shared.has(COPY)).toBe(false);
    expect(f.log).toEqual([`share ${COPY}`, `share ${COPY}`, `unshare ${COPY}`]);
    expect(f.shares.shares.size).toBe(0);
  });

  it('leaves alone a share made by hand before the drill: not recorded, not made again, not taken back', async () => {
    // Prepare: an administrator shared the vault copy with the hub to restore it by hand.
    const f = setup();
    f.shared.add(COPY);

    // Act
    const source = await vaultRestoreSource(f.drill('scheduled') as DrillState, {}, f.deps);
    const failures = await vaultCleanup(f.drill('scheduled'), f.deps);

    // Assert: the drill restored from it, and the administrator's share is still there.
    expect(source).toMatchObject({ ready: true });
    expect(failures).toEqual([]);
    expect(f.shared.has(COPY)).toBe(true);
    expect(f.log).toEqual([]);
    expect(f.shares.shares.size).toBe(0);
  });

  it('shares and records a copy another drill shared (recorded), and the last drill out takes it back', async () => {
    const f = setup();
    await f.shareFor('manual');
    await vaultRestoreSource(f.drill('scheduled') as DrillState, {}, f.deps);
    expect([...f.shares.shares.values()].map((x) => x.drillId).sort()).toEqual(['manual', 'scheduled']);
    await vaultCleanup(f.drill('manual'), f.deps);
    expect(f.shared.has(COPY)).toBe(true);
    await vaultCleanup(f.drill('scheduled'), f.deps);
    expect(f.shared.has(COPY)).toBe(false);
  });

  it('takes back nothing when the drill never shared the copy (it failed before its restore)', async () => {
    const f = setup();
    await f.shareFor('manual');
    expect(await vaultCleanup(f.drill('scheduled'), f.deps)).toEqual([]);
    expect(f.shared.has(COPY)).toBe(true);
    expect([...f.shares.shares.values()].map((x) => x.drillId)).toEqual(['manual']);
  });

  it('unshares a copy no other drill recorded, as before', async () => {
    const f = setup();
    await f.shareFor('scheduled');
    expect(await vaultCleanup(f.drill('scheduled'), f.deps)).toEqual([]);
    expect(f.shared.has(COPY)).toBe(false);
    expect(f.shares.shares.size).toBe(0);
  });
});
