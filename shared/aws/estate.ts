import {
  type ElastiCacheClient,
  paginateDescribeServerlessCacheSnapshots,
  paginateDescribeSnapshots,
} from '@aws-sdk/client-elasticache';
import {
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBSnapshots,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ResourceKind } from '../model.js';
import type { ScalingState } from '../report/model.js';
import { describeChange } from '../scaling/engine.js';
import { approvalKey, cooldownKey, pendingApprovalsKey, resourceKey } from '../scaling/ids.js';
import type { Approval } from '../scaling/model.js';
import type { EstateReader, HistoryStore, ScalingReader, StoredObject } from '../report/ports.js';
import type { EbsBackup } from './ebs.js';
import { elastiCacheGroups } from './elasticache.js';
import { batchGetAll } from './batch-get.js';
import { s3Objects } from './objects.js';
import { collectPages, PAGE } from './pages.js';
import { rdsDatabases } from './rds.js';
import {
  fromCacheSnapshot,
  fromClusterSnapshot,
  fromDbSnapshot,
  fromServerlessSnapshot,
  SERVERLESS_SNAPSHOT_PAGE,
} from './snapshots.js';

/**
 * EstateReader over the RDS and ElastiCache APIs of one region: one paginated describe per kind of
 * database and of snapshot. Snapshot lists come without a SnapshotType filter, so automated backups are
 * in the same pages; ElastiCache snapshots (of groups and of serverless caches) are read without their tags
 * (no per-snapshot call). With `ebs`,
 * the EC2 instances and volumes tagged for backup and steward's EBS snapshot sets too.
 */
export const awsEstateReader = (
  region: string,
  rds: RDSClient,
  elasticache: ElastiCacheClient,
  ebs?: EbsBackup,
): EstateReader => {
  const databases = rdsDatabases(region, rds);
  const caches = elastiCacheGroups(region, elasticache);
  return {
    region,
    databases: async () =>
      (
        await Promise.all([
          databases.listInstances(),
          databases.listClusters(),
          caches.listCaches(),
          ebs ? ebs.listTargets() : [],
        ])
      ).flat(),
    snapshots: async () =>
      (
        await Promise.all([
          collectPages(
            paginateDescribeDBSnapshots({ client: rds, ...PAGE }, {}),
            (p) => p.DBSnapshots,
            (s) => fromDbSnapshot(s, region),
            'DescribeDBSnapshots',
            `region ${region}`,
          ),
          collectPages(
            paginateDescribeDBClusterSnapshots({ client: rds, ...PAGE }, {}),
            (p) => p.DBClusterSnapshots,
            (s) => fromClusterSnapshot(s, region),
            'DescribeDBClusterSnapshots',
            `region ${region}`,
          ),
          collectPages(
            // DescribeSnapshots pages hold at most 50.
            paginateDescribeSnapshots({ client: elasticache, pageSize: 50 }, {}),
            (p) => p.Snapshots,
            (s) => fromCacheSnapshot(s, region),
            'DescribeSnapshots (ElastiCache)',
            `region ${region}`,
          ),
          collectPages(
            paginateDescribeServerlessCacheSnapshots(
              { client: elasticache, ...SERVERLESS_SNAPSHOT_PAGE },
              {},
            ),
            (p) => p.ServerlessCacheSnapshots,
            (s) => fromServerlessSnapshot(s, region),
            'DescribeServerlessCacheSnapshots',
            `region ${region}`,
          ),
          ebs ? ebs.listSets() : [],
        ])
      ).flat(),
  };
};

/** HistoryStore over the report bucket: list (all pages), get, put (SSE-S3). */
export const s3History = (s3: S3Client, bucket: string, region: string): HistoryStore => {
  const objects = s3Objects(s3, bucket);
  return {
    location: `s3://${bucket}`,
    href: (key) =>
      `https://s3.console.aws.amazon.com/s3/object/${bucket}?region=${region}&prefix=${encodeURIComponent(key)}`,
    get: (key) => objects.get(key),
    put: (key: string, body: string, contentType?: string) => objects.put(key, body, contentType),
    list: (prefix) =>
      collectPages(
        paginateListObjectsV2({ client: s3, pageSize: 1000 }, { Bucket: bucket, Prefix: prefix }),
        (p) => p.Contents,
        (o): StoredObject | undefined =>
          o.Key
            ? { key: o.Key, ...(o.LastModified ? { lastModified: o.LastModified.toISOString() } : {}) }
            : undefined,
        'ListObjectsV2',
        `s3://${bucket}/${prefix}`,
      ),
  };
};

/**
 * ScalingReader over the state table, by key (the scaling role's items, no Scan): one BatchGetItem for the
 * rules' cooldowns and approval indexes (`scaling-pending#<rule>`), one for the approvals they name. Expired
 * items DynamoDB has not swept yet, executed and expired approvals are left out.
 */
export const dynamoScalingReader = (
  doc: DynamoDBDocumentClient,
  table: string,
  rules: Record<string, { resource: string; kind: ResourceKind }>,
  now: () => Date,
): ScalingReader => {
  const getAll = (keys: readonly string[]) =>
    batchGetAll(
      doc,
      table,
      keys.map((pk) => ({ pk })),
    );
  return {
    scalingState: async () => {
      const at = now().getTime();
      const live = (i: Record<string, unknown>) => !(typeof i.ttl === 'number' && i.ttl * 1000 <= at);
      const names = Object.keys(rules);
      const resources = new Map(
        names.map((n) => [resourceKey(rules[n]!.kind, rules[n]!.resource), rules[n]!] as const),
      );
      const first = (
        await getAll([
          ...[...resources.values()].map((r) => cooldownKey(r.kind, r.resource)),
          ...names.map(pendingApprovalsKey),
        ])
      ).filter(live);
      const ids = first.flatMap((i) => (i.ids instanceof Set ? [...(i.ids as Set<string>)] : []));
      const approvals = (await getAll([...new Set(ids)].map(approvalKey))).filter(live);
      const byResource = new Map<string, ScalingState>();
      const entry = (kind: ResourceKind, resource: string) => {
        const k = resourceKey(kind, resource);
        let s = byResource.get(k);
        if (!s) byResource.set(k, (s = { kind, resource, approvals: [] }));
        return s;
      };
      for (const [k, r] of resources) {
        const item = first.find((i) => i.pk === cooldownKey(r.kind, r.resource));
        if (!item) continue;
        const s = entry(r.kind, r.resource);
        if (typeof item.until === 'string' && Date.parse(item.until) > at) s.cooldownUntil = item.until;
        if (typeof item.rule === 'string') s.lastRule = item.rule;
        if (!s.cooldownUntil && !s.lastRule) byResource.delete(k);
      }
      for (const item of approvals) {
        if (item.status !== 'pending' || typeof item.approval !== 'string') continue;
        const a = JSON.parse(item.approval) as Approval;
        const rule = rules[a.rule];
        if (!rule || Date.parse(a.expiresAt) <= at) continue;
        entry(rule.kind, rule.resource).approvals.push({
          id: a.id,
          rule: a.rule,
          change: describeChange(a.change),
          expiresAt: a.expiresAt,
        });
      }
      return [...byResource.values()].filter((s) => s.cooldownUntil || s.approvals.length);
    },
  };
};
