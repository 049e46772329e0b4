import type { CreateVolumeInput, DrillVolume, EbsDrillPort } from '../../shared/drill/ebs.js';
import type { EbsDrillDeps } from '../../shared/drill/ebs-tasks.js';
import type { VaultDrillPort } from '../../shared/drill/ports.js';
import type { VaultDrillDeps } from '../../shared/drill/vault-tasks.js';
import { VaultTag, vaultCopyId } from '../../shared/fleet/vault.js';
import type { Snapshot } from '../../shared/model.js';
import { Tag } from '../../shared/tags.js';
import { fakeVaultShareLedger } from './drill-ports.js';

export interface FakeEbsOptions {
  /** Describes until a snapshot's volume is available (default 1: available on the first poll). */
  readyAfterPolls?: Record<string, number>;
  /** CreateVolume of this snapshot is refused. */
  failCreate?: string;
  /** The volume of this snapshot goes to `error`. */
  errorState?: string;
  /** DeleteVolume fails (as when a volume is still attached). */
  failDelete?: boolean;
  /**
   * Whether this account may create a volume from the snapshot (a vault part: only while shared with it); a
   * create from one it may not is refused as EC2 refuses it.
   */
  readable?: (snapshotId: string) => boolean;
  /** Fast snapshot restore someone else turned on before the drill, as `<snapshot>@<zone>`. */
  fastRestoreOn?: string[];
  /** EnableFastSnapshotRestores turns it on, and then the answer is lost (the task fails after the enable). */
  failEnable?: boolean;
  /** DisableFastSnapshotRestores fails (throttled past its retries). */
  failDisable?: boolean;
}

export type FakeEbs = EbsDrillDeps & {
  volumes: EbsDrillPort;
  /** Volumes that exist, by id. */
  live: Map<string, DrillVolume & { polls: number }>;
  /** Every call, in order: `create <snap>`, `describe <n>`, `delete <vol>`, `fsr on|off <snaps>`, `list`. */
  log: string[];
  sets: EbsDrillDeps['sets'] & { all: Snapshot[] };
};

/**
 * EC2 for EBS drills in memory: snapshot sets to pick from, volumes that become available after some
 * describes, a refused create, a volume in error, a delete that fails. A retried create with the same client
 * token returns the same volume, as EC2's does.
 */
export const fakeEbs = (sets: Snapshot[], o: FakeEbsOptions = {}, region = 'eu-west-1'): FakeEbs => {
  const live = new Map<string, DrillVolume & { polls: number }>();
  const tokens = new Map<string, string>();
  const log: string[] = [];
  let n = 0;
  const volumes: EbsDrillPort = {
    region,
    createVolume: async (i: CreateVolumeInput) => {
      log.push(`create ${i.snapshotId}`);
      if (i.snapshotId === o.failCreate) throw new Error(`InvalidSnapshot.NotFound: ${i.snapshotId}`);
      if (o.readable && !o.readable(i.snapshotId))
        throw new Error(`InvalidSnapshot.NotFound: ${i.snapshotId} is not shared with this account`);
      const known = tokens.get(i.clientToken);
      if (known && live.has(known)) return { ...live.get(known)! };
      // Ids differ between regions, as EC2's do (a DR region's fake makes its own).
      const id = `vol-0${region === 'eu-west-1' ? 'drill' : 'other'}${String(++n).padStart(4, '0')}`;
      tokens.set(i.clientToken, id);
      const v = {
        volumeId: id,
        state: 'creating',
        snapshotId: i.snapshotId,
        availabilityZone: i.availabilityZone,
        createdAt: new Date(0).toISOString(),
        tags: { ...i.tags },
        ...(i.encrypted ? { encrypted: true } : {}),
        polls: 0,
      };
      live.set(id, v);
      return { ...v };
    },
    describe: async (ids) => {
      log.push(`describe ${ids.length}`);
      return ids.flatMap((id) => {
        const v = live.get(id);
        if (!v) return [];
        v.polls++;
        if (v.snapshotId === o.errorState) v.state = 'error';
        else if (v.polls >= (o.readyAfterPolls?.[v.snapshotId!] ?? 1)) v.state = 'available';
        return [{ ...v }];
      });
    },
    remove: async (id) => {
      log.push(`delete ${id}`);
      if (o.failDelete) throw new Error(`VolumeInUse: ${id}`);
      const v = live.get(id);
      if (!v) return 'gone';
      if (!v.tags[Tag.drill]) throw new Error(`refusing to delete ${id}: not a drill volume`);
      live.delete(id);
      return 'deleted';
    },
    enableFastRestore: async (s, zone, _since, writeAhead) => {
      // Someone else's (o.fastRestoreOn, per zone) is left as it is; the rest is the drill's.
      const ours = s.filter((id) => !o.fastRestoreOn?.includes(`${id}@${zone}`));
      if (ours.length) await writeAhead?.(ours);
      log.push(`fsr on ${ours.join(',')}`);
      if (o.failEnable) throw new Error(`RequestLimitExceeded: EnableFastSnapshotRestores ${ours.join(',')}`);
      return ours;
    },
    disableFastRestore: async (s) => {
      log.push(`fsr off ${s.join(',')}`);
      if (o.failDisable) throw new Error(`RequestLimitExceeded: DisableFastSnapshotRestores ${s.join(',')}`);
    },
    listDrillVolumes: async () => {
      log.push('list');
      return [...live.values()].filter((v) => v.tags[Tag.drill]).map(({ polls: _, ...v }) => v);
    },
  };
  return {
    volumes,
    live,
    log,
    availabilityZone: `${region}a`,
    sets: { all: sets, setsOf: async (id) => sets.filter((s) => s.sourceId === id) },
  };
};

/** A steward snapshot set of `source` taken at `createdAt`, one completed part per volume. */
export const ebsSet = (
  source: string,
  createdAt: string,
  volumes: string[],
  over: Partial<Snapshot> = {},
  region = 'eu-west-1',
): Snapshot => {
  const id = `steward-${source}-${createdAt.replace(/[-:T]/g, '').slice(0, 12)}-sched`;
  return {
    kind: 'ebs',
    id,
    arn: `arn:aws:ec2:${region}:111122223333:snapshot-set/${id}`,
    region,
    sourceId: source,
    createdAt,
    status: 'available',
    type: 'manual',
    tags: { [Tag.set]: id, [Tag.source]: source, [Tag.managed]: 'true' },
    encrypted: true,
    parts: volumes.map((v, i) => ({
      id: `snap-0${createdAt.slice(8, 10)}${String(i).padStart(3, '0')}${v.slice(-4)}`,
      volumeId: v,
      state: 'completed',
      startedAt: createdAt,
      encrypted: true,
    })),
    ...over,
  };
};

/**
 * The vault's copy of `source`'s set taken at `takenAt` in `sourceAccount`, as the vault copy role makes it
 * (shared/backup/vault-sets-plan.ts): the vault's own snapshot ids, the vault's set id, the source set's time.
 */
export const vaultEbsSet = (
  source: string,
  takenAt: string,
  volumes: string[],
  o: { sourceAccount: string; vaultAccount: string; region?: string; over?: Partial<Snapshot> },
): Snapshot => {
  const region = o.region ?? 'eu-west-1';
  const from = ebsSet(source, takenAt, volumes, {}, region);
  const id = vaultCopyId(o.sourceAccount, from.id);
  const sourceArn = `arn:aws:ec2:${region}:${o.sourceAccount}:snapshot-set/${from.id}`;
  return {
    ...from,
    id,
    arn: `arn:aws:ec2:${region}:${o.vaultAccount}:snapshot-set/${id}`,
    tags: {
      [Tag.set]: id,
      [Tag.source]: source,
      [Tag.managed]: 'true',
      [Tag.createdBy]: 'vault',
      [Tag.copiedFrom]: sourceArn,
      [Tag.takenAt]: takenAt,
      [Tag.setSize]: String(volumes.length),
      [VaultTag.vault]: 'true',
      [VaultTag.sourceAccount]: o.sourceAccount,
      [VaultTag.sourceRegion]: region,
      [VaultTag.dataTime]: takenAt,
    },
    sourceRegion: region,
    // The vault's own part ids: a copy is a new snapshot.
    parts: (from.parts ?? []).map((p) => ({ ...p, id: p.id.replace(/^snap-0/, 'snap-0f') })),
    ...o.over,
  };
};

export interface FakeEbsVaultOptions {
  /** ModifySnapshotAttribute of this part is refused (AccessDenied). */
  refuseShare?: string;
  /** Removing the share of this part is refused. */
  refuseUnshare?: string;
  /** This part no longer exists (vault retention expired it): its share is `gone`. */
  gone?: string;
}

/**
 * The vault side of an EBS drill from the vault in memory: the vault's sets, the create-volume permission of
 * each part (who may create volumes from it), and every call in order (`share <snap> <account>`, `unshare …`,
 * `sets <source> <account>`), with the state-table ledger the drill records each share in.
 */
export const fakeEbsVault = (
  sets: Snapshot[],
  o: FakeEbsVaultOptions & { hub: string; vaultAccount: string; region?: string },
): VaultDrillDeps & {
  log: string[];
  /** Accounts allowed to create volumes from each vault part. */
  permitted: Map<string, Set<string>>;
  shares: ReturnType<typeof fakeVaultShareLedger>;
  /** What the drill account may read now (EC2's answer to a CreateVolume). */
  readable: (snapshotId: string) => boolean;
} => {
  const region = o.region ?? 'eu-west-1';
  const log: string[] = [];
  const permitted = new Map<string, Set<string>>();
  const parts = new Set(sets.flatMap((s) => (s.parts ?? []).map((p) => p.id)));
  const ledger = fakeVaultShareLedger();
  const shares: typeof ledger = {
    ...ledger,
    record: async (x) => {
      log.push(`record ${x.kind} ${x.copyId}`);
      await ledger.record(x);
    },
    forget: async (x) => {
      log.push(`forget ${x.kind} ${x.copyId}`);
      await ledger.forget(x);
    },
  };
  const modify = async (id: string, to: string, add: boolean): Promise<'done' | 'gone'> => {
    log.push(`${add ? 'share' : 'unshare'} ${id} ${to}`);
    if (id === (add ? o.refuseShare : o.refuseUnshare))
      throw new Error(`AccessDenied: ModifySnapshotAttribute ${id}`);
    if (id === o.gone || !parts.has(id)) return 'gone';
    const who = permitted.get(id) ?? new Set<string>();
    if (add) who.add(to);
    else who.delete(to);
    permitted.set(id, who);
    return 'done';
  };
  const vault: VaultDrillPort = {
    account: o.vaultAccount,
    region,
    copies: async () => [],
    sets: async (source, account) => {
      log.push(`sets ${source} ${account}`);
      return sets
        .filter((s) => s.sourceId === source && s.tags[VaultTag.sourceAccount] === account)
        .map((s) => structuredClone(s));
    },
    share: (copy, to) => {
      if (copy.kind !== 'ebs') throw new TypeError(`not an EBS part: ${copy.kind}`);
      return modify(copy.id, to, true);
    },
    unshare: (copy, to) => {
      if (copy.kind !== 'ebs') throw new TypeError(`not an EBS part: ${copy.kind}`);
      return modify(copy.id, to, false);
    },
    sharedWith: async (copy, account) => permitted.get(copy.id)?.has(account) ?? false,
  };
  return {
    account: o.hub,
    vault,
    staging: {
      copy: async () => 'started',
      status: async () => undefined,
      remove: async () => 'already-gone',
      listDrillCopies: async () => [],
    },
    key: 'alias/aws/rds',
    shares,
    log,
    permitted,
    readable: (id) => !parts.has(id) || (permitted.get(id)?.has(o.hub) ?? false),
  };
};
