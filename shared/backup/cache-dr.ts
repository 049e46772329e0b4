import type { Outcome, Snapshot } from '../model.js';
import { failedOutcome } from '../outcomes.js';
import { Tag } from '../tags.js';

/**
 * Redis DR. ElastiCache has no cross-region snapshot copy: a steward snapshot of a copying policy is exported
 * to the stage's export bucket (CopySnapshot with TargetBucket, same region only), each RDB file is copied to
 * the DR bucket in `dr.region` (S3 CopyObject, encrypted with the DR key), and the export is deleted once DR
 * holds the whole snapshot. An export copies a snapshot that already exists: it makes no new backup, so it
 * adds nothing to ElastiCache's limit of 20 manual backups per node per 24 hours (ElastiCache User Guide,
 * "Backup constraints"), which the backup schedule's own snapshots respect.
 */

/** A steward snapshot as the DR reconcile sees it: the snapshot, and how many RDB files (shards) it has. */
export interface CacheDrSource {
  snapshot: Snapshot;
  shards: number;
  /** What a restore from the copy needs to size itself, kept as the copy's metadata. */
  facts: Record<string, string>;
}

/** An RDB file in a bucket: `<snapshot>-<NNNN>.rdb` in the export bucket, `elasticache/<group>/<same>` in DR. */
export interface RdbObject {
  key: string;
  snapshot: string;
  size?: number;
  /** When the object was written (ISO): a multipart copy begun before the export was rewritten is stale. */
  modified?: string;
}

/** A multipart copy left open for the next run: how far it got. */
export interface CopyInProgress {
  uploadId: string;
  partsDone: number;
  parts: number;
}

export type CacheDrStep =
  | { action: 'export'; source: CacheDrSource }
  | { action: 'copy'; source: CacheDrSource; file: RdbObject; drKey: string }
  | { action: 'clean-export'; file: RdbObject }
  | { action: 'wait'; source: CacheDrSource; reason: string };

/**
 * The stage's export bucket in its region (`steward-<stage>-rdb-export-<account>-<region>`, at most 63
 * characters with a 16-character stage) and its DR bucket in `dr.region`: fixed names, so the primary stack
 * names the DR stack's bucket without a cross-region reference.
 */
export const redisExportBucketName = (stage: string, account: string, region: string): string =>
  `steward-${stage}-rdb-export-${account}-${region}`;
export const redisDrBucketName = (stage: string, account: string, drRegion: string): string =>
  `steward-${stage}-rdb-dr-${account}-${drRegion}`;

/** Whether the stage keeps Redis DR copies: a policy copies caches to DR, in another region. */
export const keepsRedisDr = (config: {
  region: string;
  dr: { region: string };
  backup: { policies: Record<string, { copyToDr: boolean; kinds: readonly string[] }> };
}): boolean => config.dr.region !== config.region && cacheDrPolicies(config.backup.policies).size > 0;

/** Where one place's Redis DR lives: its two buckets and its prefix in the DR bucket. */
export interface RedisDrPlace {
  exportBucket: string;
  drBucket: string;
  drPrefix: string;
}

/**
 * A spoke target's Redis DR (undefined when its config, overrides applied, keeps none): the buckets the spoke
 * stacks make in its account (`Steward-<stage>-spoke` the export bucket in its region, `Steward-<stage>-spoke-dr`
 * the DR bucket in `dr.region`, or the hub's DR stack in the hub's account), by their fixed names, and the
 * target region's prefix. `config` is the target's (fleet/place.ts configAt): its region is the target's.
 */
export const spokeRedisDr = (
  config: Parameters<typeof keepsRedisDr>[0] & { stage: string },
  account: string,
): RedisDrPlace | undefined =>
  keepsRedisDr(config)
    ? {
        exportBucket: redisExportBucketName(config.stage, account, config.region),
        drBucket: redisDrBucketName(config.stage, account, config.dr.region),
        drPrefix: spokeRdbPrefix(config.region),
      }
    : undefined;

/** The prefix of every RDB copy in the DR bucket: steward's own objects, the only ones it lists or deletes. */
export const DR_RDB_PREFIX = 'elasticache/';

/**
 * The prefix of the RDB copies a spoke target (an account-region the hub reaches through a spoke role) keeps
 * in its account's DR bucket: `elasticache-<region>/`. One DR bucket serves every region of an account (its
 * name carries the DR region only), and replication group names are unique per region only, so each source
 * region has its own prefix; the hub's own account-region keeps `elasticache/`, which no spoke prefix is
 * under (the hub account's other regions share its DR bucket as spokes).
 */
export const spokeRdbPrefix = (region: string): string => `elasticache-${region}/`;

/**
 * The DR key of an exported RDB file: grouped by replication group, then by the backup policy of the snapshot
 * (`<prefix><group>/<policy>/<file>`), named as exported. The policy in the key is what retention needs from a
 * copy beside its name: the listing alone gives it, with no request per copy. Copies made before keyed no
 * policy (`<prefix><group>/<file>`): retention reads their tags instead.
 */
export const drRdbKey = (group: string, file: string, prefix = DR_RDB_PREFIX, policy?: string): string =>
  `${prefix}${group}/${policy ? `${policy}/` : ''}${file}`;

/** What a DR copy's key says (see drRdbKey): its group, and its policy when keyed with one. */
export const drRdbKeyParts = (key: string, prefix = DR_RDB_PREFIX): { group: string; policy?: string } => {
  const parts = key.slice(prefix.length).split('/');
  return parts.length === 3 ? { group: parts[0]!, policy: parts[1]! } : { group: parts[0]! };
};

// ElastiCache names an export's files `<TargetSnapshotName>-<shard, 4 digits>.rdb` (one per node group).
const RDB_FILE = /^(?:.*\/)?(steward-[a-z0-9-]+-\d{12}-(?:sched|adhoc))-(\d{4})\.rdb$/;

/** The snapshot an RDB object belongs to, when it is a steward snapshot's export; else undefined. */
export const rdbObjectOf = (key: string, size?: number, modified?: string): RdbObject | undefined => {
  const m = RDB_FILE.exec(key);
  return m
    ? {
        key,
        snapshot: m[1]!,
        ...(size !== undefined ? { size } : {}),
        ...(modified !== undefined ? { modified } : {}),
      }
    : undefined;
};

/**
 * How long after a run's Redis DR step begins its multipart copies may start new parts: two minutes, so the
 * parts in flight end within the backup function's five-minute timeout (a 512 MiB part copy takes seconds;
 * the DR client allows one four minutes). A copy not done by then continues in the next run.
 */
export const COPY_BUDGET_MS = 120_000;

/** S3 CopyObject copies up to 5 GB in one request (Amazon S3 API Reference, CopyObject). */
export const COPY_OBJECT_MAX_BYTES = 5 * 1024 ** 3;

/**
 * A multipart copy's parts: 5 MiB to 5 GiB each, at most 10,000 (Amazon S3 User Guide, "Amazon S3 multipart
 * upload limits"); the last part may be smaller. 512 MiB parts keep each UploadPartCopy short (a retry
 * repeats little) and reach 5 TiB, S3's largest object, in 10,000 parts. Pure: byte ranges, inclusive.
 */
export const copyParts = (
  size: number,
  partBytes = 512 * 1024 ** 2,
): { part: number; first: number; last: number }[] => {
  const MIN = 5 * 1024 ** 2;
  const each = Math.max(partBytes, MIN, Math.ceil(size / 10_000));
  const parts: { part: number; first: number; last: number }[] = [];
  for (let first = 0, part = 1; first < size; first += each, part++)
    parts.push({ part, first, last: Math.min(first + each, size) - 1 });
  return parts;
};

/**
 * Whether a snapshot is one Redis DR copies: steward's ElastiCache snapshot of a policy that copies. Not a
 * serverless cache's: its export is another call (ExportServerlessCacheSnapshot), which Redis DR does not make.
 */
export const goesToDr = (s: CacheDrSource, policiesThatCopy: ReadonlySet<string>): boolean =>
  s.snapshot.kind === 'elasticache' &&
  !s.snapshot.serverless &&
  s.snapshot.tags[Tag.managed] === 'true' &&
  policiesThatCopy.has(s.snapshot.tags[Tag.policy] ?? '');

/**
 * What the reconcile does now. Pure. A steward snapshot of a copying policy that DR does not hold whole is
 * exported (at most `maxExports` a run, newest first), its exported files copied to DR once all are there,
 * and an export is cleaned once DR holds every file. Snapshots not available, not steward's, or of a
 * policy that does not copy are left alone.
 */
export const planCacheDr = (
  sources: readonly CacheDrSource[],
  policiesThatCopy: ReadonlySet<string>,
  exported: readonly RdbObject[],
  inDr: readonly RdbObject[],
  maxExports: number,
  drPrefix = DR_RDB_PREFIX,
): CacheDrStep[] => {
  const by = (objs: readonly RdbObject[]) => {
    const m = new Map<string, RdbObject[]>();
    for (const o of objs) m.set(o.snapshot, [...(m.get(o.snapshot) ?? []), o]);
    return m;
  };
  const exports = by(exported);
  const copies = by(inDr);
  const steps: CacheDrStep[] = [];
  let exportsLeft = maxExports;
  const ours = sources
    .filter((s) => goesToDr(s, policiesThatCopy))
    .sort((a, b) => (b.snapshot.createdAt ?? '').localeCompare(a.snapshot.createdAt ?? ''));
  for (const source of ours) {
    const id = source.snapshot.id;
    const inDrFiles = copies.get(id) ?? [];
    const exportFiles = exports.get(id) ?? [];
    if (inDrFiles.length >= source.shards) {
      steps.push(...exportFiles.map((file): CacheDrStep => ({ action: 'clean-export', file })));
      continue;
    }
    if (source.snapshot.status !== 'available') {
      steps.push({ action: 'wait', source, reason: `snapshot is ${source.snapshot.status}` });
      continue;
    }
    if (exportFiles.length >= source.shards) {
      const have = new Set(inDrFiles.map((f) => f.key.split('/').at(-1)));
      for (const file of exportFiles) {
        const name = file.key.split('/').at(-1)!;
        if (have.has(name)) continue;
        // A file over CopyObject's 5 GB is copied in parts by the adapter (copyRdbInParts).
        steps.push({
          action: 'copy',
          source,
          file,
          drKey: drRdbKey(source.snapshot.sourceId, name, drPrefix, source.snapshot.tags[Tag.policy]),
        });
      }
      continue;
    }
    if (exportFiles.length) {
      steps.push({
        action: 'wait',
        source,
        reason: `export in progress (${exportFiles.length}/${source.shards} files)`,
      });
      continue;
    }
    if (exportsLeft > 0) {
      exportsLeft -= 1;
      steps.push({ action: 'export', source });
    } else steps.push({ action: 'wait', source, reason: `at most ${maxExports} exports a run` });
  }
  return steps;
};

/** Port: ElastiCache export and the two buckets. */
export interface CacheDrPort {
  /** Where this place's copies live in the DR bucket (`elasticache/`, or a spoke region's `elasticache-<region>/`). */
  readonly drPrefix?: string;
  /** Steward's ElastiCache snapshots in the stage region, with their shard counts and tags. */
  sources(): Promise<CacheDrSource[]>;
  /** One snapshot by name, with its shard count and tags (an event's); undefined when it does not exist. */
  source(name: string): Promise<CacheDrSource | undefined>;
  /** RDB files in the export bucket; with `snapshot`, only that snapshot's. */
  exported(snapshot?: string): Promise<RdbObject[]>;
  /** RDB files in the DR bucket (under `elasticache/`); with `of`, only that snapshot's. */
  inDr(of?: { group: string; snapshot: string }): Promise<RdbObject[]>;
  /** CopySnapshot with TargetBucket; an export already there or running is done. */
  export(snapshot: Snapshot): Promise<'started' | 'already-done'>;
  /**
   * Copy one exported file to the DR bucket, tagged as steward's, with the source's facts as metadata. A file
   * copied in parts resumes the upload an earlier run left open, and starts no new part after `until`: it
   * then returns how far it got, and the next run continues.
   */
  copy(source: CacheDrSource, file: RdbObject, drKey: string, until?: Date): Promise<void | CopyInProgress>;
  /** Delete one exported file (DR holds the snapshot). */
  cleanExport(file: RdbObject): Promise<void>;
}

/** The outcomes' actions: what a run report and its counts call each step. */
export const CACHE_DR_ACTION = {
  export: 'export-rdb',
  copy: 'copy-rdb-to-dr',
  'clean-export': 'clean-rdb-export',
} as const;

/** The backup policies whose ElastiCache snapshots go to DR: they copy to DR and back up caches. */
export const cacheDrPolicies = (policies: Record<string, { copyToDr: boolean; kinds: readonly string[] }>) =>
  new Set(
    Object.entries(policies)
      .filter(([, p]) => p.copyToDr && p.kinds.includes('elasticache'))
      .map(([name]) => name),
  );

/**
 * What a run reads: every steward snapshot and both buckets whole (the hourly and scheduled runs), or, for
 * one snapshot (an ElastiCache "Snapshot Created" event), that snapshot and its own files only: a few
 * requests whatever the estate's size. A snapshot that is gone or not one Redis DR copies reads no bucket.
 */
const observe = async (
  port: CacheDrPort,
  policiesThatCopy: ReadonlySet<string>,
  snapshot: string | undefined,
): Promise<[CacheDrSource[], RdbObject[], RdbObject[]]> => {
  if (snapshot === undefined) return Promise.all([port.sources(), port.exported(), port.inDr()]);
  const one = await port.source(snapshot);
  if (!one || !goesToDr(one, policiesThatCopy)) return [[], [], []];
  const [exported, inDr] = await Promise.all([
    port.exported(snapshot),
    port.inDr({ group: one.snapshot.sourceId, snapshot }),
  ]);
  return [[one], exported, inDr];
};

/**
 * Run the plan (or only report it in a dry run): one outcome per step that acts; one failure stops nothing.
 * With `snapshot`, only that snapshot is looked at (see `observe`). A multipart copy starts no new part after
 * `until` (the run's copy budget) and is reported waiting, to be continued by the next run.
 */
export const reconcileCacheDr = async (
  port: CacheDrPort,
  policiesThatCopy: ReadonlySet<string>,
  dryRun: boolean,
  maxExports = 5,
  snapshot?: string,
  until?: Date,
): Promise<Outcome[]> => {
  const [sources, exported, inDr] = await observe(port, policiesThatCopy, snapshot);
  const steps = planCacheDr(sources, policiesThatCopy, exported, inDr, maxExports, port.drPrefix);
  const outcomes: Outcome[] = [];
  for (const step of steps) {
    if (step.action === 'wait') {
      const resource = `elasticache snapshot ${step.source.snapshot.id}`;
      outcomes.push({ resource, action: CACHE_DR_ACTION.copy, status: 'skipped', reason: step.reason });
      continue;
    }
    const resource =
      step.action === 'clean-export'
        ? `export ${step.file.key}`
        : `elasticache snapshot ${step.source.snapshot.id}`;
    const action = CACHE_DR_ACTION[step.action];
    const detail = step.action === 'copy' ? { detail: `${step.file.key} -> ${step.drKey}` } : {};
    if (dryRun) {
      outcomes.push({ resource, action, status: 'planned', ...detail });
      continue;
    }
    try {
      if (step.action === 'export') {
        const r = await port.export(step.source.snapshot);
        outcomes.push({ resource, action, status: r === 'started' ? 'done' : 'already-done' });
      } else if (step.action === 'copy') {
        const left = await port.copy(step.source, step.file, step.drKey, until);
        outcomes.push(
          left
            ? {
                resource,
                action,
                status: 'skipped',
                reason: `multipart copy of ${step.file.key} in progress (${left.partsDone}/${left.parts} parts): the next run continues upload ${left.uploadId}`,
              }
            : { resource, action, status: 'done', ...detail },
        );
      } else {
        await port.cleanExport(step.file);
        outcomes.push({ resource, action, status: 'done' });
      }
    } catch (e) {
      outcomes.push(failedOutcome({ resource, action }, e));
    }
  }
  return outcomes;
};
