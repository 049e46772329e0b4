import { type ElastiCacheClient, paginateDescribeSnapshots } from '@aws-sdk/client-elasticache';
import {
  paginateDescribeDBClusterSnapshots,
  paginateDescribeDBSnapshots,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { type DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { ResourceKind } from '../model.js';
import { SCALING_ATTRIBUTES, type ScalingState } from '../report/model.js';
import { describeChange } from '../scaling/engine.js';
import type { Approval } from '../scaling/model.js';
import type { RetentionRecorder } from '../retention/ports.js';
import { retentionRecordKey } from '../retention/record.js';
import type { EstateReader, HistoryStore, ScalingReader, StoredObject } from '../report/ports.js';
import { s3ReportStore } from './drill-stores.js';
import { elastiCacheBackup } from './elasticache.js';
import { collectPages, PAGE } from './pages.js';
import { rdsBackup } from './rds.js';
import { fromCacheSnapshot, fromClusterSnapshot, fromDbSnapshot } from './snapshots.js';

/**
 * EstateReader over the RDS and ElastiCache APIs of one region: one paginated describe per kind of
 * database and of snapshot. Snapshot lists come without a SnapshotType filter, so automated backups are
 * in the same pages; ElastiCache snapshots are read without their tags (no per-snapshot call).
 */
export const awsEstateReader = (
  region: string,
  rds: RDSClient,
  elasticache: ElastiCacheClient,
): EstateReader => {
  const databases = rdsBackup(region, rds);
  const caches = elastiCacheBackup(region, elasticache);
  return {
    region,
    databases: async () =>
      (
        await Promise.all([
          databases.listInstances(),
          databases.listClusters(),
          caches.listReplicationGroups(),
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
        ])
      ).flat(),
  };
};

/** HistoryStore over the report bucket: list (all pages), get, put (SSE-S3). */
export const s3History = (s3: S3Client, bucket: string, region: string): HistoryStore => {
  const store = s3ReportStore(s3, bucket);
  return {
    location: `s3://${bucket}`,
    href: (key) =>
      `https://s3.console.aws.amazon.com/s3/object/${bucket}?region=${region}&prefix=${encodeURIComponent(key)}`,
    get: store.get,
    put: store.put,
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

/** RetentionRecorder over the report bucket: one JSON object per run that deleted something. */
export const s3RetentionRecorder = (s3: S3Client, bucket: string): RetentionRecorder => {
  const store = s3ReportStore(s3, bucket);
  return {
    record: async (r) => {
      const key = retentionRecordKey(r.at);
      await store.put(key, JSON.stringify(r));
      return `s3://${bucket}/${key}`;
    },
  };
};

const COOLDOWN = 'scaling-cooldown#';
const APPROVAL = 'scaling-approval#';

/**
 * ScalingReader over the state table: one paginated Scan filtered to cooldown and approval items (the
 * table holds short-lived state only, so it stays small). Expired items DynamoDB has not swept yet are
 * left out here, as the scaling store does.
 */
export const dynamoScalingReader = (
  doc: DynamoDBDocumentClient,
  table: string,
  rules: Record<string, { resource: string; kind: ResourceKind }>,
  now: () => Date,
): ScalingReader => ({
  scalingState: async () => {
    const epoch = Math.floor(now().getTime() / 1000);
    const items = await collectPages(
      paginateScan(
        { client: doc },
        {
          TableName: table,
          FilterExpression:
            '(begins_with(#pk, :cooldown) OR begins_with(#pk, :approval)) AND (attribute_not_exists(#ttl) OR #ttl > :now)',
          // Only the scaling attributes: the role may read nothing else of the table (IAM dynamodb:Attributes).
          Select: 'SPECIFIC_ATTRIBUTES',
          ProjectionExpression: SCALING_ATTRIBUTES.map((a) => `#${a}`).join(', '),
          ExpressionAttributeNames: Object.fromEntries(SCALING_ATTRIBUTES.map((a) => [`#${a}`, a])),
          ExpressionAttributeValues: { ':cooldown': COOLDOWN, ':approval': APPROVAL, ':now': epoch },
        },
      ),
      (p) => p.Items,
      (i) => i as Record<string, unknown>,
      'Scan',
      table,
    );
    const byResource = new Map<string, ScalingState>();
    const entry = (kind: ResourceKind, resource: string) => {
      const k = `${kind}:${resource}`;
      let s = byResource.get(k);
      if (!s) byResource.set(k, (s = { kind, resource, approvals: [] }));
      return s;
    };
    for (const item of items) {
      const pk = String(item.pk);
      if (pk.startsWith(COOLDOWN)) {
        const [kind, ...rest] = pk.slice(COOLDOWN.length).split(':');
        const s = entry(kind as ResourceKind, rest.join(':'));
        if (typeof item.until === 'string' && Date.parse(item.until) > now().getTime())
          s.cooldownUntil = item.until;
        if (typeof item.rule === 'string') s.lastRule = item.rule;
      } else if (item.status === 'pending' && typeof item.approval === 'string') {
        let a: Approval;
        try {
          a = JSON.parse(item.approval) as Approval;
        } catch {
          continue;
        }
        const rule = rules[a.rule];
        if (!rule || !a.id || Date.parse(a.expiresAt) <= now().getTime()) continue;
        entry(rule.kind, rule.resource).approvals.push({
          id: a.id,
          rule: a.rule,
          change: describeChange(a.change),
          expiresAt: a.expiresAt,
        });
      }
    }
    return [...byResource.values()].filter((s) => s.cooldownUntil || s.approvals.length);
  },
});
