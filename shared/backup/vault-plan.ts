import { isVaultCopy, vaultCopyId, vaultCopyTags, VaultTag } from '../fleet/vault.js';
import type { Snapshot } from '../model.js';
import { ADHOC_POLICY, Tag, type Tags } from '../tags.js';

// What the vault copy reconciler decides for one source account and region, from what it observed: no I/O,
// no clock. The vault holds at most one copy per source snapshot (deterministic ids), copies each database's
// next snapshot after its newest copy (its newest when it has none), never re-copies what vault retention
// expired, and stays within the copy limits of the vault region.

/** What the plan needs to know about the vault and the source. */
export interface VaultPlanInput {
  /** The source account and region (where `sources` live). */
  account: string;
  region: string;
  vaultAccount: string;
  /** The source region's manual RDS and ElastiCache snapshots (steward's and others'; EBS sets: vault-sets-plan.ts). */
  sources: readonly Snapshot[];
  /** The vault region's own manual snapshots (every source account's copies among them). */
  copies: readonly Snapshot[];
  /** Snapshots shared with the vault account in this region (every account's). */
  shared: readonly Snapshot[];
  /** Backup policies whose snapshots go to the vault. */
  policies: readonly string[];
  /** In-flight copies the vault region allows (`backup.maxCopiesInFlight`), and DB cluster snapshot copies within it. */
  maxInFlight: number;
  maxClusterInFlight: number;
}

export interface VaultCopyAction {
  /** What is shared and copied: steward's snapshot, or its re-encrypted copy (see `reencrypted`). */
  source: Snapshot;
  targetId: string;
  tags: Tags;
  /** Set when `source` is the re-encrypted copy of this `aws/rds`-key snapshot (the vault copy names this one). */
  reencrypted?: Pick<Snapshot, 'id' | 'arn'>;
}

export interface VaultUnshareAction {
  source: Pick<Snapshot, 'kind' | 'id' | 'arn'>;
  reason: 'copied' | 'copy-failed' | 'not-copying';
}

export type VaultSkipReason = 'unsupported' | 'copy-failed' | 'reencrypt-failed';

export interface VaultSkip {
  resource: string;
  reason: VaultSkipReason;
  detail: string;
}

export interface VaultPlan {
  /** Share, then copy, in this order (databases furthest behind first). */
  copy: VaultCopyAction[];
  /** Shares to take back: the vault holds the copy (or it failed), or nothing is copying it. */
  unshare: VaultUnshareAction[];
  /** Due, but over the vault region's copy limits: the next run starts them. */
  deferred: VaultCopyAction[];
  /** This account's copies in flight into the vault region. */
  inFlight: number;
  skipped: VaultSkip[];
  /**
   * Re-encrypted copies (steward's own, in the source account) to delete: their vault copy settled, or the
   * re-encryption failed (the next run starts it again).
   */
  drop: Snapshot[];
}

const IN_FLIGHT = new Set(['pending', 'creating', 'copying']);
const isInFlight = (s: Snapshot) => IN_FLIGHT.has(s.status);

/** When the data of a source or a copy was taken: a copy's tag, else its (original) create time. */
export const dataTime = (s: Snapshot): string => s.tags[VaultTag.dataTime] ?? s.createdAt ?? '';

/** The vault copy's tags for one of `source`'s (account and region) snapshots or sets. */
export const vaultTagsOf = (source: { account: string; region: string }, s: Snapshot): Tags =>
  vaultCopyTags({
    sourceAccount: source.account,
    sourceRegion: source.region,
    sourceArn: s.arn,
    db: s.sourceId,
    policy: s.tags[Tag.policy] ?? '',
    ...(s.createdAt ? { dataTime: s.createdAt } : {}),
  });

/**
 * One source's next snapshot (or set) to copy into the vault: the first available one after the data time of
 * its newest available copy, or its newest when it has none; never an older one (vault retention may have
 * expired its copy). `newest` is that copy's data time, for "furthest behind first".
 */
export const nextAfterNewestCopy = (
  copies: readonly Snapshot[],
  sources: readonly Snapshot[],
  copied: (s: Snapshot) => boolean,
): { next: Snapshot | undefined; newest: string | undefined } => {
  const newest = copies
    .filter((c) => c.status === 'available')
    .map(dataTime)
    .sort()
    .at(-1);
  const candidates = sources
    .filter((s) => s.status === 'available' && !copied(s))
    .sort((a, b) => dataTime(a).localeCompare(dataTime(b)));
  const next =
    newest === undefined ? candidates.at(-1) : candidates.find((s) => dataTime(s).localeCompare(newest) > 0);
  return { next, newest };
};

const accountOfArn = (arn: string) => arn.split(':')[4];

/** A re-encrypted copy steward made of one of its `aws/rds`-key snapshots (managed, with the source's ARN). */
const reencryptedOf = (s: Snapshot): string | undefined =>
  s.type === 'manual' && s.tags[Tag.managed] === 'true' ? s.tags[VaultTag.reencryptedFrom] : undefined;

/** Plan one source account-region's vault copies. */
export const planVault = (i: VaultPlanInput): VaultPlan => {
  const policies = new Set(i.policies);
  const skipped: VaultSkip[] = [];
  // Steward's available scheduled snapshots of the vaulted policies (pre-change ones are kept by their date).
  const ours = i.sources.filter(
    (s) =>
      s.type === 'manual' &&
      s.tags[Tag.managed] === 'true' &&
      !isVaultCopy(s.tags) &&
      s.tags[Tag.policy] !== ADHOC_POLICY &&
      policies.has(s.tags[Tag.policy] ?? ''),
  );
  // ElastiCache cannot reach the vault: it has no cross-account snapshot copy, and its export (CopySnapshot
  // with TargetBucket) refuses a bucket the exporting account does not own ("The S3 bucket %s is not owned by
  // the authenticated user", ElastiCache API Reference, CopySnapshot errors).
  const caches = ours.filter((s) => s.kind === 'elasticache');
  if (caches.length)
    skipped.push({
      resource: `elasticache ${i.account} ${i.region}`,
      reason: 'unsupported',
      detail: `${caches.length} ElastiCache backups are not copied into the vault: unsupported (ElastiCache has no cross-account copy, and exports only to a bucket of its own account)`,
    });
  // The vault's copies of this account-region, by source ARN; and every copy in flight (the region's limit).
  const vaultCopies = i.copies.filter((c) => isVaultCopy(c.tags));
  const mine = vaultCopies.filter(
    (c) => c.tags[VaultTag.sourceAccount] === i.account && c.tags[VaultTag.sourceRegion] === i.region,
  );
  const copyOf = new Map(mine.map((c) => [c.tags[Tag.copiedFrom] ?? '', c]));
  // Re-encrypted copies, by the ARN of the snapshot each re-encrypts (and back, for shares listed by ARN).
  const reencrypted = new Map<string, Snapshot>();
  for (const r of i.sources) {
    const from = reencryptedOf(r);
    if (from) reencrypted.set(from, r);
  }
  const originalOf = new Map([...reencrypted].map(([from, r]) => [r.arn, from]));
  const drop: Snapshot[] = [];
  for (const [from, r] of reencrypted) {
    const c = copyOf.get(from);
    if (r.status === 'failed') {
      skipped.push({
        resource: r.tags[Tag.source] ?? r.id,
        reason: 'reencrypt-failed',
        detail: `re-encrypting ${from.split(':').at(-1)} for the vault failed (${r.id}); it is deleted and the next run starts again`,
      });
      drop.push(r);
    } else if (c && (c.status === 'available' || c.status === 'failed')) drop.push(r);
  }
  const flying = vaultCopies.filter(isInFlight);
  let free = Math.max(0, i.maxInFlight - flying.length);
  let freeClusters = Math.max(
    0,
    i.maxClusterInFlight - flying.filter((c) => c.kind === 'aurora-cluster').length,
  );

  for (const c of mine)
    if (c.status === 'failed')
      skipped.push({
        resource: c.tags[Tag.source] ?? c.id,
        reason: 'copy-failed',
        detail: `vault copy ${c.id} of ${c.tags[Tag.copiedFrom] ?? '?'} failed; it stays in the vault for inspection (vault retention removes it)`,
      });

  // One database at a time, like DR copies: its next snapshot after its newest copy.
  const byDb = new Map<string, Snapshot[]>();
  for (const s of ours) {
    if (s.kind === 'elasticache' || s.kind === 'ebs') continue;
    const key = `${s.kind} ${s.sourceId}`;
    byDb.set(key, [...(byDb.get(key) ?? []), s]);
  }
  const due: { action: VaultCopyAction; behind: string }[] = [];
  for (const snaps of byDb.values()) {
    const copies = snaps.flatMap((s) => (copyOf.has(s.arn) ? [copyOf.get(s.arn)!] : []));
    // Copies whose source retention already removed still date the database's newest copy.
    const db = snaps[0]!;
    const others = mine.filter(
      (c) => c.kind === db.kind && c.tags[Tag.source] === db.sourceId && !copies.includes(c),
    );
    const all = [...copies, ...others];
    if (all.some(isInFlight)) continue;
    // A re-encryption still running holds its database, like a copy in flight.
    if (snaps.some((s) => reencrypted.has(s.arn) && isInFlight(reencrypted.get(s.arn)!))) continue;
    const { next, newest } = nextAfterNewestCopy(all, snaps, (s) => copyOf.has(s.arn));
    if (!next) continue;
    // An `aws/rds`-key snapshot cannot be shared: its re-encrypted copy (once available) goes in its place,
    // and the vault's copy still names the original (id, copied-from, data time).
    const via = reencrypted.get(next.arn);
    if (via && (via.status !== 'available' || drop.includes(via))) continue;
    due.push({
      behind: newest ?? '',
      action: {
        source: via ?? next,
        ...(via ? { reencrypted: { id: next.id, arn: next.arn } } : {}),
        targetId: vaultCopyId(i.account, next.id),
        tags: vaultTagsOf(i, next),
      },
    });
  }
  // Furthest behind first: no copy at all (''), then the oldest newest copy.
  due.sort((a, b) => a.behind.localeCompare(b.behind) || a.action.targetId.localeCompare(b.action.targetId));
  const copy: VaultCopyAction[] = [];
  const deferred: VaultCopyAction[] = [];
  for (const d of due) {
    const cluster = d.action.source.kind === 'aurora-cluster';
    if (free > 0 && (!cluster || freeClusters > 0)) {
      copy.push(d.action);
      free--;
      if (cluster) freeClusters--;
    } else deferred.push(d.action);
  }

  // Take back every share of this account-region whose copy is settled, or that nothing copies.
  const starting = new Set(copy.map((c) => c.source.arn));
  // A re-encrypted copy about to be deleted needs no unshare (deleting it ends the share).
  const dropping = new Set(drop.map((r) => r.arn));
  const unshare: VaultUnshareAction[] = i.shared
    .filter((s) => accountOfArn(s.arn) === i.account && !starting.has(s.arn) && !dropping.has(s.arn))
    .flatMap((s): VaultUnshareAction[] => {
      const c = copyOf.get(originalOf.get(s.arn) ?? s.arn);
      if (c && isInFlight(c)) return [];
      const reason = !c ? 'not-copying' : c.status === 'failed' ? 'copy-failed' : 'copied';
      // A shared snapshot is listed by ARN: its id in the source account is the ARN's last part.
      return [{ source: { kind: s.kind, id: s.arn.split(':').at(-1)!, arn: s.arn }, reason }];
    });

  return { copy, unshare, deferred, inFlight: mine.filter(isInFlight).length, skipped, drop };
};
