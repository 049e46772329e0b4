/** Tag keys steward reads and writes (DESIGN.md "Ownership and tags"). */
export const Tag = {
  backup: 'steward:backup',
  managed: 'steward:managed',
  policy: 'steward:policy',
  source: 'steward:source',
  /** The source database's account (a fleet names it; snapshots from before it have none). */
  account: 'steward:account',
  /** The source database's region: a DR copy keeps its source's, not the region it lives in. */
  region: 'steward:region',
  /**
   * On a dump object of an account a fan-out child reached through organizational-unit targets: those OU ids
   * (space-separated, config order), so retention finds the overrides the account ran with (fleet/place.ts).
   */
  ou: 'steward:ou',
  createdBy: 'steward:created-by',
  hold: 'steward:hold',
  retainUntil: 'steward:retain-until',
  reason: 'steward:reason',
  kind: 'steward:kind',
  drill: 'steward:drill',
  /** On an interface endpoint a drill created in the drill VPC: which one (`secretsmanager`, `ssm`, …). */
  drillEndpoint: 'steward:drill-endpoint',
  /** On a DR copy: the source snapshot's ARN, so the copy reconciler can tell what is copied. */
  copiedFrom: 'steward:copied-from',
  /** On every EBS snapshot steward takes or copies: the snapshot set it belongs to (retention keeps or deletes a set whole). */
  set: 'steward:set',
  /** On every EBS snapshot of a set: how many volumes the set holds, so a partial set (or copy) is seen as one. */
  setSize: 'steward:set-size',
  /** On every file of a Redis DR copy (RDB files in S3): how many shard files the copy holds, so a partial copy is seen as one. */
  shards: 'steward:shards',
  /** On an EBS snapshot copy: its source's volume (a copy's own VolumeId is arbitrary, per the EC2 API reference). */
  volume: 'steward:volume',
  /** On an EBS snapshot copy: when its source set was taken (a copy's own start time is when it was copied). */
  takenAt: 'steward:taken-at',
} as const;

/** `steward:policy` of ad-hoc (pre-change) snapshots: governed by `steward:retain-until` alone. Reserved. */
export const ADHOC_POLICY = 'adhoc';

export type Tags = Record<string, string>;

/** Turn an SDK tag list (`{Key, Value}[]`) into a plain record. */
export const tagRecord = (list: readonly { Key?: string; Value?: string }[] | undefined): Tags => {
  const out: Tags = {};
  for (const t of list ?? []) if (t.Key) out[t.Key] = t.Value ?? '';
  return out;
};

/** Turn a plain record into an SDK tag list, sorted for stable requests. */
export const tagList = (tags: Tags): { Key: string; Value: string }[] =>
  Object.keys(tags)
    .sort()
    .map((Key) => ({ Key, Value: tags[Key]! }));

/** True when steward created this resource. */
export const isManaged = (tags: Tags): boolean => tags[Tag.managed] === 'true';
