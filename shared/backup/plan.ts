import type { BackupPolicy } from '../config/schema.js';
import { type Place, placeTags } from '../fleet/place.js';
import type { Database, Quota, QuotaFinding, ResourceKind } from '../model.js';
import { ADHOC_POLICY, Tag, type Tags } from '../tags.js';
import { adhocSnapshotId, snapshotId, type SnapshotKind } from './ids.js';

/** `steward:created-by` on everything the backup function creates. */
export const CREATED_BY = 'backup';

export { ADHOC_POLICY };

/** The account quota a manual snapshot of this kind counts against (ElastiCache limits per node instead). */
export const QUOTA_BY_KIND: Readonly<Partial<Record<ResourceKind, string>>> = {
  'rds-instance': 'ManualSnapshots',
  'aurora-cluster': 'ManualClusterSnapshots',
};

export type SkipReason =
  /** No `steward:backup` tag: not ours to back up. */
  | 'not-opted-in'
  /** Tagged for another backup policy. */
  | 'other-policy'
  /** Tagged for this policy, but the policy does not cover this kind. */
  | 'kind-not-in-policy'
  /** An Aurora member instance: RDS snapshots the cluster, not the instance. */
  | 'aurora-member'
  /** A backup is already running (RDS `backing-up`, ElastiCache `snapshotting`). */
  | 'already-backing-up'
  /** Any other state than `available` (modifying, stopped, rebooting, ...; a DB instance also snapshots in `storage-optimization`). */
  | 'not-available'
  /** The engine has no snapshots (Memcached). */
  | 'not-snapshottable'
  /** Creating it would reach past the account's manual snapshot quota. */
  | 'quota-full'
  /** An EBS volume attached to an instance whose own set (same policy) already holds it. */
  | 'instance-covers'
  /** An EC2 instance with no EBS volume attached (instance store only): nothing to snapshot. */
  | 'no-volumes'
  /** An RDS read replica whose source this policy backs up: the source's snapshot holds the same data. */
  | 'replica-covered';

/** The database an action is about. */
export interface DbRef {
  kind: ResourceKind;
  id: string;
  arn: string;
  /** An ElastiCache serverless cache (its snapshot is a serverless cache snapshot). */
  serverless?: true;
}

export type BackupAction =
  | {
      action: 'create';
      db: DbRef;
      snapshotId: string;
      tags: Tags;
      detail?: string;
      /** For EBS: the volumes of the set (the instance's attached volumes, or the one volume). */
      volumes?: string[];
    }
  | {
      action: 'skip';
      db: DbRef;
      reason: SkipReason;
      detail: string;
      /** The database is opted in to this policy but gets no snapshot this run (worth a warning). */
      missed: boolean;
    };

/** A quota at or above the warning share (`warning`) or too full to create the planned snapshots (`critical`). */
export type { QuotaFinding };

export interface BackupPlan {
  kind: SnapshotKind;
  /** Backup policy name, or `adhoc`. */
  policy: string;
  /** ISO time the snapshot ids are stamped with. */
  at: string;
  actions: BackupAction[];
  findings: QuotaFinding[];
}

export interface PlanOptions {
  /** Warn when a quota's use after this run reaches this share (percent). */
  quotaWarnPercent: number;
  /** The run's account: its snapshots carry `steward:account`, and `steward:region` (the database's). */
  place?: Pick<Place, 'account'>;
  /**
   * Planned snapshot ids that exist already (a retried run's, after a throttled or failed create): the quota's
   * `used` counts them, so the guard does not count them again, nor refuses them (their create finds them).
   */
  taken?: ReadonlySet<string>;
}

/** What an ad-hoc snapshot request adds: why, how long to keep it, and what names it (see BackupRequest). */
export interface SnapshotRequestInput {
  reason: string;
  retainDays: number;
  identity?: { key: string } | { at: Date };
}

const DAY_MS = 86_400_000;
const BUSY = new Set(['backing-up', 'snapshotting']);
/**
 * States a snapshot may be taken in besides `available`, per kind. CreateDBSnapshot (RDS API Reference): "The
 * source DB instance must be in the available or storage-optimization state"; storage optimization follows
 * every storage change (storage autoscaling included) and can last hours, sometimes days.
 */
const SNAPSHOTTABLE_ALSO: Readonly<Partial<Record<ResourceKind, ReadonlySet<string>>>> = {
  'rds-instance': new Set(['storage-optimization']),
};

const ref = (db: Database): DbRef => ({
  kind: db.kind,
  id: db.id,
  arn: db.arn,
  ...(db.serverless ? { serverless: true } : {}),
});

const skip = (db: DbRef, reason: SkipReason, detail: string, missed = true): BackupAction => ({
  action: 'skip',
  db,
  reason,
  detail,
  missed,
});

/**
 * What every snapshot steward takes carries: ownership, policy, the database (`steward:source`), and with
 * a placed run where the database lives (`steward:account`, `steward:region`). Nine at most with an ad-hoc
 * request's two: RDS and ElastiCache take 50 tags per resource, and a DR copy adds `steward:copied-from` to
 * what CopyTags carries over, so 40 are left for the team's own.
 */
const baseTags = (db: Database, policy: string, kind: SnapshotKind, o: PlanOptions): Tags => ({
  [Tag.managed]: 'true',
  [Tag.policy]: policy,
  [Tag.source]: db.id,
  [Tag.createdBy]: CREATED_BY,
  [Tag.kind]: kind,
  ...(o.place ? placeTags({ ...o.place, region: db.region }) : {}),
});

/**
 * An EBS set's own tags, on every volume's snapshot: the set (EBS snapshot ids are AWS's, so the set's
 * deterministic id is this tag) and how many volumes it holds (so a partial set is seen).
 */
const setTags = (db: Database, id: string): Tags =>
  db.kind === 'ebs' ? { [Tag.set]: id, [Tag.setSize]: String(db.ebs?.volumes.length ?? 1) } : {};

/** The create action of one database: its snapshot id and tags (an EBS set's too). */
const create = (db: Database, snapshotId: string, tags: Tags, detail?: string): BackupAction => ({
  action: 'create',
  db: ref(db),
  snapshotId,
  tags: { ...tags, ...setTags(db, snapshotId) },
  ...(detail ? { detail } : {}),
  ...(db.kind === 'ebs' ? { volumes: db.ebs?.volumes ?? [] } : {}),
});

/** Why `db` cannot be snapshotted now, or undefined when it can. Pure. */
export const unsnapshottable = (db: Database): { reason: SkipReason; detail: string } | undefined => {
  if (db.kind === 'rds-instance' && db.clusterId) {
    return {
      reason: 'aurora-member',
      detail: `member of cluster ${db.clusterId}: snapshot the cluster instead`,
    };
  }
  // Serverless Memcached is snapshotted ("Available for Valkey, Redis OSS and Serverless Memcached only",
  // CreateServerlessCacheSnapshot, API Reference).
  if (db.kind === 'elasticache' && !db.serverless && db.cacheEngine?.toLowerCase() === 'memcached') {
    return { reason: 'not-snapshottable', detail: 'Memcached cannot be snapshotted' };
  }
  if (db.kind === 'ebs' && db.ebs?.volumes.length === 0) {
    return {
      reason: 'no-volumes',
      detail: 'no EBS volume attached (instance store only): nothing to snapshot',
    };
  }
  const status = db.status.toLowerCase();
  if (status === 'available' || SNAPSHOTTABLE_ALSO[db.kind]?.has(status)) return undefined;
  if (BUSY.has(status))
    return { reason: 'already-backing-up', detail: `status ${db.status}: a backup is already running` };
  return {
    reason: 'not-available',
    detail: `status ${db.status}: only available databases can be snapshotted`,
  };
};

/**
 * Why a group whose tags could not be read gets no snapshot (Database.tagsUnread): it may be opted in, so the
 * skip counts as missed; ElastiCache reads its tags again once it is available.
 */
const tagsUnreadDetail = (db: Database): string =>
  `status ${db.status}: its tags could not be read (${db.tagsUnread}); if it is opted in, a later run snapshots it once it is available`;

/** An RDS instance among `databases` by id or ARN (how RDS names a read replica's source). */
const findSource = (databases: readonly Database[], of: string): Database | undefined =>
  databases.find((d) => d.kind === 'rds-instance' && (d.id === of || d.arn === of));

/**
 * The source of an RDS read replica tagged for the same backup policy as the replica: that policy's snapshots of
 * the source hold the replica's data, so the replica is not backed up on its own (`replica-covered`), and status
 * and evidence read it as protected by its source. RDS names a source by id, or by ARN in another region (then
 * it is not found here, and the replica is backed up as a database of its own). Pure.
 */
export const replicaCoveredBy = (
  db: Database,
  find: (replicaOf: string) => Database | undefined,
): Database | undefined => {
  const policy = db.tags[Tag.backup];
  if (db.kind !== 'rds-instance' || !db.replicaOf || policy === undefined) return undefined;
  const source = find(db.replicaOf);
  return source?.tags[Tag.backup] === policy ? source : undefined;
};

/**
 * Refuse every create that a full quota cannot take, and report quotas at or above the warning share.
 * Only quotas of `kinds` are considered, so a Redis-only policy does not report the RDS quota. A create whose
 * snapshot exists already (`opts.taken`: a retried run) is in the quota's `used`: it is not counted again.
 */
const guardQuotas = (
  plan: BackupPlan,
  quotas: readonly Quota[],
  kinds: ReadonlySet<ResourceKind>,
  opts: PlanOptions,
): BackupPlan => {
  let actions = plan.actions;
  const findings: QuotaFinding[] = [];
  for (const [kind, name] of Object.entries(QUOTA_BY_KIND) as [ResourceKind, string][]) {
    if (!kinds.has(kind)) continue;
    const q = quotas.find((x) => x.name === name);
    if (!q || q.max <= 0) continue;
    const isCreate = (a: BackupAction) =>
      a.action === 'create' && a.db.kind === kind && !opts.taken?.has(a.snapshotId);
    const planned = actions.filter(isCreate).length;
    const after = q.used + planned;
    const base = { quota: q.name, used: q.used, max: q.max, planned };
    if (q.used >= q.max || after > q.max) {
      const why =
        q.used >= q.max
          ? `${q.name} quota full (${q.used}/${q.max} used)`
          : `${q.name} quota ${q.used}/${q.max} used: ${planned} more would exceed it`;
      findings.push({ severity: 'critical', ...base, message: `${why}; no ${kind} snapshots created` });
      actions = actions.map((a) => (isCreate(a) ? skip(a.db, 'quota-full', why) : a));
    } else if (after * 100 >= q.max * opts.quotaWarnPercent) {
      const pct = Math.floor((after * 100) / q.max);
      findings.push({
        severity: 'warning',
        ...base,
        message: `${q.name} quota at ${pct}% (${after}/${q.max} after this run; warning at ${opts.quotaWarnPercent}%)`,
      });
    }
  }
  return { ...plan, actions, findings: [...plan.findings, ...findings] };
};

/** The outcome action of a quota that could not be read (the run goes on unguarded and warns). */
export const QUOTA_READ = 'read-quota';

/** The copies `guardCopyQuotas` lets start, the ones it refused (and why), and its findings. */
export interface CopyQuotaGuard<T> {
  start: T[];
  refused: { copy: T; why: string }[];
  findings: QuotaFinding[];
}

/**
 * The primary's quota guard for DR copies: a copy is a manual snapshot of the DR region, counted against its
 * quota of the copy's kind. The copies that fit start, in the order given (the schedule's: oldest-missing
 * first); the rest are refused (they wait for a later run: retention deleting expired copies, or a raised
 * quota, makes room). With `warnPercent`, a quota at or above that share after the copies is a warning. Pure.
 */
export const guardCopyQuotas = <T extends { source: { kind: ResourceKind } }>(
  starts: readonly T[],
  quotas: readonly Quota[],
  region: string,
  warnPercent?: number,
): CopyQuotaGuard<T> => {
  const refused: CopyQuotaGuard<T>['refused'] = [];
  const findings: QuotaFinding[] = [];
  for (const [kind, name] of Object.entries(QUOTA_BY_KIND) as [ResourceKind, string][]) {
    const q = quotas.find((x) => x.name === name);
    const of = starts.filter((c) => c.source.kind === kind);
    if (!q || q.max <= 0 || !of.length) continue;
    const room = Math.max(0, q.max - q.used);
    const base = { quota: q.name, used: q.used, max: q.max, planned: of.length };
    if (of.length > room) {
      const why =
        room === 0
          ? `${q.name} quota full (${q.used}/${q.max} used) in ${region}`
          : `${q.name} quota ${q.used}/${q.max} used in ${region}: room for ${room} of ${of.length} copies`;
      const waiting = of.slice(room);
      for (const copy of waiting) refused.push({ copy, why });
      findings.push({
        severity: 'critical',
        ...base,
        message: `${why}; ${waiting.length} DR ${kind} copies wait until retention or a raised quota makes room`,
      });
    } else if (warnPercent !== undefined && (q.used + of.length) * 100 >= q.max * warnPercent) {
      const after = q.used + of.length;
      findings.push({
        severity: 'warning',
        ...base,
        message: `${q.name} quota in ${region} at ${Math.floor((after * 100) / q.max)}% (${after}/${q.max} after this run's DR copies; warning at ${warnPercent}%)`,
      });
    }
  }
  const out = new Set(refused.map((r) => r.copy));
  return { start: starts.filter((c) => !out.has(c)), refused, findings };
};

/**
 * Plan one scheduled backup run: every database tagged `steward:backup=<policyName>` of a kind the policy
 * covers gets a create (deterministic id, ownership tags); everything else gets a skip with its reason.
 * A quota that cannot take the planned snapshots refuses all of them and yields a critical finding.
 */
export const planBackups = (
  databases: readonly Database[],
  policyName: string,
  policy: Pick<BackupPolicy, 'kinds'>,
  quotas: readonly Quota[],
  when: Date,
  opts: PlanOptions,
): BackupPlan => {
  const kinds = new Set(policy.kinds);
  const actions = databases.map((db): BackupAction => {
    if (db.tagsUnread) return skip(ref(db), 'not-available', tagsUnreadDetail(db));
    const tag = db.tags[Tag.backup];
    if (tag === undefined) return skip(ref(db), 'not-opted-in', `no ${Tag.backup} tag`, false);
    if (tag !== policyName) return skip(ref(db), 'other-policy', `tagged ${Tag.backup}=${tag}`, false);
    if (!kinds.has(db.kind)) {
      return skip(ref(db), 'kind-not-in-policy', `policy ${policyName} covers ${policy.kinds.join(', ')}`);
    }
    const no = unsnapshottable(db);
    if (no?.reason === 'aurora-member') {
      const cluster = databases.find((d) => d.kind === 'aurora-cluster' && d.id === db.clusterId);
      const covered = cluster?.tags[Tag.backup] === policyName && kinds.has('aurora-cluster');
      const detail = covered
        ? `member of cluster ${db.clusterId}: the cluster snapshot covers it`
        : `member of cluster ${db.clusterId}: tag the cluster ${Tag.backup}=${policyName} instead`;
      return skip(ref(db), no.reason, detail, !covered);
    }
    if (no) return skip(ref(db), no.reason, no.detail);
    const source = replicaCoveredBy(db, (of) => findSource(databases, of));
    if (source)
      // Its own snapshots would double the storage for the same data (and RDS refuses some engines'). Tag it with
      // another policy to back it up as well.
      return skip(
        ref(db),
        'replica-covered',
        `read replica of ${source.id}, whose snapshot covers it (tag it for another policy to back it up too)`,
        false,
      );
    const host = db.ebs?.attachedTo;
    if (db.kind === 'ebs' && host) {
      // A volume tagged for the same policy as its instance is already in the instance's set.
      const instance = databases.find((d) => d.kind === 'ebs' && d.id === host);
      if (instance?.tags[Tag.backup] === policyName && !unsnapshottable(instance))
        return skip(ref(db), 'instance-covers', `attached to ${host}, whose snapshot set holds it`, false);
    }
    return create(db, snapshotId(db.id, when, 'sched'), baseTags(db, policyName, 'sched', opts));
  });
  return guardQuotas(
    { kind: 'sched', policy: policyName, at: when.toISOString(), actions, findings: [] },
    quotas,
    kinds,
    opts,
  );
};

/** Find the database an ad-hoc request names, by ARN or (case-insensitive) id. */
export const findDatabase = (
  databases: readonly Database[],
  resource: string,
): { db: Database } | { error: string } => {
  const byArn = databases.find((d) => d.arn === resource);
  if (byArn) return { db: byArn };
  const id = resource.toLowerCase();
  const matches = databases.filter((d) => d.id.toLowerCase() === id);
  if (matches.length === 1) return { db: matches[0]! };
  if (matches.length > 1) {
    return {
      error: `"${resource}" matches ${matches.map((d) => `${d.kind} ${d.id}`).join(' and ')}: pass the ARN`,
    };
  }
  const regions = [...new Set(databases.map((d) => d.region))].join(', ') || 'the primary region';
  return { error: `no database with id or ARN "${resource}" in ${regions}` };
};

/** `when + days`, as an ISO date (UTC). */
export const retainUntil = (when: Date, days: number): string =>
  new Date(when.getTime() + days * DAY_MS).toISOString().slice(0, 10);

/**
 * Plan one ad-hoc (pre-change) snapshot of `target`, which must be opted in (`steward:backup`, any policy).
 * An Aurora member instance is redirected to its cluster. The snapshot carries `steward:reason` and
 * `steward:retain-until`.
 */
export const planSnapshot = (
  target: Database,
  databases: readonly Database[],
  req: SnapshotRequestInput,
  quotas: readonly Quota[],
  when: Date,
  opts: PlanOptions,
): BackupPlan => {
  let db = target;
  let detail: string | undefined;
  if (target.kind === 'rds-instance' && target.clusterId) {
    const cluster = databases.find((d) => d.kind === 'aurora-cluster' && d.id === target.clusterId);
    if (cluster) {
      db = cluster;
      detail = `${target.id} is a member of cluster ${cluster.id}: snapshotting the cluster`;
    }
  }
  // Opt-in holds for ad-hoc snapshots too (the function's IAM only allows tagged databases).
  const no: { reason: SkipReason; detail: string } | undefined = db.tagsUnread
    ? { reason: 'not-available', detail: tagsUnreadDetail(db) }
    : db.tags[Tag.backup] === undefined
      ? { reason: 'not-opted-in', detail: `no ${Tag.backup} tag: steward only snapshots opted-in databases` }
      : unsnapshottable(db);
  const action: BackupAction = no
    ? skip(ref(db), no.reason, no.detail)
    : create(
        db,
        req.identity && 'key' in req.identity
          ? adhocSnapshotId(db.id, req.identity.key)
          : snapshotId(db.id, req.identity?.at ?? when, 'adhoc'),
        {
          ...baseTags(db, ADHOC_POLICY, 'adhoc', opts),
          [Tag.reason]: req.reason,
          [Tag.retainUntil]: retainUntil(when, req.retainDays),
        },
        detail,
      );
  const plan: BackupPlan = {
    kind: 'adhoc',
    policy: ADHOC_POLICY,
    at: when.toISOString(),
    actions: [action],
    findings: [],
  };
  return guardQuotas(plan, quotas, new Set([db.kind]), opts);
};
