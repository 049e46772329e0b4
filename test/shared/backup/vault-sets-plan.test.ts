import { describe, expect, it } from 'vitest';
import { setArn } from '../../../shared/aws/ebs.js';
import { planVaultSets, type VaultSetsPlanInput } from '../../../shared/backup/vault-sets-plan.js';
import { vaultCopyId } from '../../../shared/fleet/vault.js';
import type { Snapshot } from '../../../shared/model.js';

// The EBS vault plan, pure: which sets are copied, deferred or unshared, from the two listings.
const ACCOUNT = '222222222222';
const REGION = 'eu-west-1';

const set = (source: string, day: number, extra: Partial<Snapshot> = {}, volumes = 2): Snapshot => {
  const id = `steward-${source}-202601${String(day).padStart(2, '0')}0300-sched`;
  const createdAt = `2026-01-${String(day).padStart(2, '0')}T03:00:05.000Z`;
  return {
    kind: 'ebs',
    id,
    arn: setArn(REGION, ACCOUNT, id),
    region: REGION,
    sourceId: source,
    createdAt,
    status: 'available',
    type: 'manual',
    tags: {
      'steward:managed': 'true',
      'steward:policy': 'daily',
      'steward:source': source,
      'steward:set': id,
    },
    parts: Array.from({ length: volumes }, (_, i) => ({
      id: `snap-${source}-${day}-${i}`,
      volumeId: `vol-${source}-${i}`,
      state: 'completed',
    })),
    ...extra,
  };
};

/** The vault's copy of `s`, every part in `state` (or only the first `parts`). */
const copyOf = (s: Snapshot, state = 'completed', parts = s.parts!.length): Snapshot => {
  const id = vaultCopyId(ACCOUNT, s.id);
  const done = s.parts!.slice(0, parts);
  return {
    ...s,
    id,
    arn: setArn(REGION, '999999999999', id),
    status:
      state === 'pending'
        ? 'copying'
        : state === 'error'
          ? 'failed'
          : parts < s.parts!.length
            ? 'incomplete'
            : 'available',
    tags: {
      ...s.tags,
      'steward:set': id,
      'steward:vault': 'true',
      'steward:created-by': 'vault',
      'steward:copied-from': s.arn,
      'steward:source-account': ACCOUNT,
      'steward:source-region': REGION,
      'steward:data-time': s.createdAt!,
    },
    parts: done.map((p, i) => ({ ...p, id: `snap-vault-${s.id}-${i}`, state })),
  };
};

const plan = (i: Partial<VaultSetsPlanInput>) =>
  planVaultSets({
    account: ACCOUNT,
    region: REGION,
    sources: [],
    copies: [],
    shared: [],
    policies: ['daily'],
    maxInFlight: 20,
    ...i,
  });

describe('planVaultSets', () => {
  it('copies the newest set of a source without a copy, tagged as a vault set of its parts', () => {
    const older = set('i-a', 1);
    const newer = set('i-a', 2);
    const p = plan({ sources: [older, newer] });
    expect(p.copy.map((a) => a.source.id)).toEqual([newer.id]);
    expect(p.copy[0]!.tags).toMatchObject({
      'steward:set': vaultCopyId(ACCOUNT, newer.id),
      'steward:set-size': '2',
      'steward:taken-at': newer.createdAt,
      'steward:vault': 'true',
      'steward:source-account': ACCOUNT,
    });
  });

  it('copies the next set after the newest copy, never one before it (vault retention expired it)', () => {
    const [a, b, c] = [set('i-a', 1), set('i-a', 2), set('i-a', 3)];
    const p = plan({ sources: [a, b, c], copies: [copyOf(b)] });
    expect(p.copy.map((x) => x.source.id)).toEqual([c.id]);
  });

  it.each([
    ['another policy', set('i-a', 1, { tags: { ...set('i-a', 1).tags, 'steward:policy': 'weekly' } })],
    ['an ad-hoc set', set('i-a', 1, { tags: { ...set('i-a', 1).tags, 'steward:policy': 'adhoc' } })],
    ['a hand-made set', set('i-a', 1, { tags: { 'steward:set': 'x', 'steward:source': 'i-a' } })],
    ['a set made by AWS Backup', set('i-a', 1, { type: 'awsbackup' })],
    [
      'a DR copy of another region',
      set('i-a', 1, { tags: { ...set('i-a', 1).tags, 'steward:copied-from': 'arn:x' } }),
    ],
    ['a set still being taken', set('i-a', 1, { status: 'creating' })],
    ['an incomplete set', set('i-a', 1, { status: 'incomplete' })],
  ])('copies nothing of %s', (_what, s) => {
    expect(plan({ sources: [s] }).copy).toEqual([]);
  });

  it('waits while a part of the source copy is pending, then copies the next', () => {
    const [a, b] = [set('i-a', 1), set('i-a', 2)];
    expect(plan({ sources: [a, b], copies: [copyOf(a, 'pending')] }).copy).toEqual([]);
    expect(plan({ sources: [a, b], copies: [copyOf(a)] }).copy.map((x) => x.source.id)).toEqual([b.id]);
  });

  it('resumes a copy that stopped between parts before anything newer, naming the parts done', () => {
    const [a, b] = [set('i-a', 1), set('i-a', 2)];
    const p = plan({ sources: [a, b], copies: [copyOf(a, 'completed', 1)] });
    expect(p.copy.map((x) => [x.source.id, x.done])).toEqual([[a.id, [a.parts![0]!.id]]]);
  });

  it('counts parts against the copy limit: a set that does not fit waits, a smaller one goes', () => {
    const big = set('i-big', 1, {}, 3);
    const small = set('i-small', 1, {}, 1);
    const busy = copyOf(set('i-other', 1, {}, 18), 'pending');
    const p = plan({ sources: [big, small], copies: [busy] });
    expect(p.copy.map((x) => x.source.id)).toEqual([small.id]);
    expect(p.deferred.map((x) => x.source.id)).toEqual([big.id]);
  });

  it('starts a set larger than the whole limit alone in an empty vault region', () => {
    const huge = set('i-huge', 1, {}, 25);
    expect(plan({ sources: [huge] }).copy.map((x) => x.source.id)).toEqual([huge.id]);
  });

  it('unshares settled parts and those nothing copies, keeps pending ones, and leaves foreign shares alone', () => {
    const [a, b] = [set('i-a', 1), set('i-b', 1)];
    const copyA = copyOf(a);
    copyA.parts![1]!.state = 'pending';
    const p = plan({
      sources: [a, b],
      copies: [copyA, copyOf(b, 'error')],
      shared: [...a.parts!.map((x) => x.id), b.parts![0]!.id, 'snap-not-steward'],
    });
    expect(p.unshare).toEqual([
      { snapshotId: a.parts![0]!.id, set: a.id, reason: 'copied' },
      { snapshotId: b.parts![0]!.id, set: b.id, reason: 'copy-failed' },
    ]);
    expect(p.failed.map((c) => c.id)).toEqual([vaultCopyId(ACCOUNT, b.id)]);
    expect(p.inFlight).toBe(1);
  });

  it('never unshares a part it is about to copy', () => {
    const a = set('i-a', 1);
    const p = plan({ sources: [a], shared: a.parts!.map((x) => x.id) });
    expect(p.copy).toHaveLength(1);
    expect(p.unshare).toEqual([]);
  });

  it("ignores another account's vault copies for its own sources, but counts their parts in flight", () => {
    const a = set('i-a', 1);
    const foreign = { ...copyOf(a, 'pending') };
    foreign.tags = { ...foreign.tags, 'steward:source-account': '333333333333' };
    const p = plan({ sources: [a], copies: [foreign], maxInFlight: 4 });
    expect(p.copy).toHaveLength(1);
    expect(plan({ sources: [a], copies: [foreign], maxInFlight: 3 }).copy).toHaveLength(0);
  });
});
