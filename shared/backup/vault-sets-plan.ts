import { isVaultCopy, vaultCopyId, VaultTag } from '../fleet/vault.js';
import type { EbsPart, Snapshot } from '../model.js';
import { ADHOC_POLICY, Tag, type Tags } from '../tags.js';
import { nextAfterNewestCopy, vaultTagsOf } from './vault-plan.js';

// What the vault copy reconciler decides for one source account-region's EBS snapshot sets, from what it
// observed: no I/O, no clock. Like RDS snapshots (vault-plan.ts), one source (instance or volume) at a time:
// its next set after its newest vault copy (its newest when it has none), never one vault retention expired.
// Unlike them, a set is many snapshots: every part is shared, copied and unshared on its own, a set whose
// copy stopped half-way is completed by the next run, and EBS's copy limit counts parts.

/** What the EBS plan needs to know about the vault and the source. */
export interface VaultSetsPlanInput {
  account: string;
  region: string;
  /** The source region's EBS snapshot sets (steward's and others'). */
  sources: readonly Snapshot[];
  /** The vault region's EBS snapshot sets (every source account's copies among them). */
  copies: readonly Snapshot[];
  /** Ids of the source account's snapshots shared with the vault account in this region. */
  shared: readonly string[];
  /** Backup policies whose snapshots go to the vault. */
  policies: readonly string[];
  /** Snapshot copies in flight the vault region allows (EBS: 20 per destination region; a set counts one per part). */
  maxInFlight: number;
}

export interface VaultSetCopyAction {
  /** Steward's set in the source account (its parts are shared, then copied). */
  source: Snapshot;
  targetId: string;
  tags: Tags;
  /** Parts whose copy is already in the vault (a copy that stopped half-way): shared and copied no more. */
  done: string[];
}

export interface VaultSetUnshareAction {
  snapshotId: string;
  /** The set the part belongs to (for reports). */
  set: string;
  reason: 'copied' | 'copy-failed' | 'not-copying';
}

export interface VaultSetsPlan {
  copy: VaultSetCopyAction[];
  unshare: VaultSetUnshareAction[];
  /** Due, but over the vault region's copy limit: the next run starts them. */
  deferred: VaultSetCopyAction[];
  /** This account's parts in flight into the vault region. */
  inFlight: number;
  /** Vault copies of this account-region that failed: kept for inspection, reported. */
  failed: Snapshot[];
}

const settled = (state: string) => state === 'completed' || state === 'error';

/** Plan one source account-region's EBS vault copies. */
export const planVaultSets = (i: VaultSetsPlanInput): VaultSetsPlan => {
  const policies = new Set(i.policies);
  const ours = i.sources.filter(
    (s) =>
      s.kind === 'ebs' &&
      s.type === 'manual' &&
      s.tags[Tag.managed] === 'true' &&
      !isVaultCopy(s.tags) &&
      s.tags[Tag.copiedFrom] === undefined &&
      s.tags[Tag.policy] !== ADHOC_POLICY &&
      policies.has(s.tags[Tag.policy] ?? ''),
  );
  const vaultCopies = i.copies.filter((c) => c.kind === 'ebs' && isVaultCopy(c.tags));
  const mine = vaultCopies.filter(
    (c) => c.tags[VaultTag.sourceAccount] === i.account && c.tags[VaultTag.sourceRegion] === i.region,
  );
  const copyOf = new Map(mine.map((c) => [c.tags[Tag.copiedFrom] ?? '', c]));
  const pending = (s: Snapshot) => (s.parts ?? []).filter((p) => p.state === 'pending').length;
  let free = Math.max(0, i.maxInFlight - vaultCopies.reduce((n, c) => n + pending(c), 0));

  // One source at a time, like DR copies.
  const bySource = new Map<string, Snapshot[]>();
  for (const s of ours) bySource.set(s.sourceId, [...(bySource.get(s.sourceId) ?? []), s]);
  const due: { action: VaultSetCopyAction; behind: string; size: number }[] = [];
  for (const sets of bySource.values()) {
    const source = sets[0]!.sourceId;
    const copies = mine.filter((c) => c.tags[Tag.source] === source);
    if (copies.some((c) => pending(c) > 0)) continue;
    // A copy that stopped between its parts (`incomplete`) is completed before anything newer.
    const resume = copies
      .filter((c) => c.status === 'incomplete')
      .flatMap((c) => sets.filter((s) => s.arn === c.tags[Tag.copiedFrom]));
    const after = nextAfterNewestCopy(copies, sets, (s) => copyOf.has(s.arn));
    const newest = after.newest;
    const next = resume[0] ?? after.next;
    if (!next) continue;
    const parts = next.parts ?? [];
    const copied = new Set((copyOf.get(next.arn)?.parts ?? []).map((p) => p.volumeId));
    const targetId = vaultCopyId(i.account, next.id);
    due.push({
      behind: resume.length ? '' : (newest ?? ''),
      size: parts.filter((p) => !copied.has(p.volumeId)).length,
      action: {
        source: next,
        targetId,
        done: parts.filter((p) => copied.has(p.volumeId)).map((p) => p.id),
        tags: {
          ...vaultTagsOf(i, next),
          [Tag.set]: targetId,
          [Tag.setSize]: String(parts.length),
          ...(next.createdAt ? { [Tag.takenAt]: next.createdAt } : {}),
        },
      },
    });
  }
  // Furthest behind first; a set counts one copy per part still to copy. A set larger than the whole limit
  // starts alone in an empty region (EBS refuses the parts beyond it; the next run completes the set).
  due.sort((a, b) => a.behind.localeCompare(b.behind) || a.action.targetId.localeCompare(b.action.targetId));
  const copy: VaultSetCopyAction[] = [];
  const deferred: VaultSetCopyAction[] = [];
  for (const d of due) {
    if (d.size <= free || (free === i.maxInFlight && free > 0)) {
      copy.push(d.action);
      free = Math.max(0, free - d.size);
    } else deferred.push(d.action);
  }

  // Take back each shared part of steward's sets whose copy settled, or that nothing copies. A part that is
  // not one of steward's sets is not ours to unshare.
  const starting = new Set(copy.flatMap((a) => (a.source.parts ?? []).map((p) => p.id)));
  const partOf = new Map<string, { set: Snapshot; part: EbsPart }>();
  for (const s of ours) for (const part of s.parts ?? []) partOf.set(part.id, { set: s, part });
  const unshare: VaultSetUnshareAction[] = i.shared.flatMap((id): VaultSetUnshareAction[] => {
    const of = partOf.get(id);
    if (!of || starting.has(id)) return [];
    const c = copyOf.get(of.set.arn)?.parts?.find((p) => p.volumeId === of.part.volumeId);
    if (c && !settled(c.state)) return [];
    const reason = !c ? 'not-copying' : c.state === 'error' ? 'copy-failed' : 'copied';
    return [{ snapshotId: id, set: of.set.id, reason }];
  });

  return {
    copy,
    unshare,
    deferred,
    inFlight: mine.reduce((n, c) => n + pending(c), 0),
    failed: mine.filter((c) => c.status === 'failed'),
  };
};
