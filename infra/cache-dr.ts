import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type * as v from '../shared/valid.js';
import { DR_RDB_PREFIX, redisDrBucketName, redisExportBucketName } from '../shared/backup/cache-dr.js';
import type { CacheDrEnv } from '../shared/backup/env.js';
import { ID_PREFIX } from '../shared/backup/ids.js';
import type { StewardConfig } from '../shared/config/schema.js';
import type { DrillEnv } from '../shared/drill/env.js';
import { drCacheNetworkParameter, drillsCachesFromDr } from '../shared/drill/cache-tasks.js';
import { Tag } from '../shared/tags.js';
import { awsArn } from './arns.js';
import { drKeyScope } from './dr-key.js';
import { drCacheVerifierName } from './drill-network.js';
import { acknowledge } from './nag.js';
import type { EstateScope, Grantee } from './permission.js';
import type { StewardFunction } from './steward-function.js';

// Export objects ElastiCache writes are deleted once DR holds them; what is left (a copy that never finished,
// a snapshot whose policy stopped copying) is dropped after this many days. The next export makes a new one.
const EXPORT_DAYS = 7;
// A deleted or overwritten DR copy stays recoverable this long as a noncurrent version.
const DR_NONCURRENT_DAYS = 7;
// A multipart copy to DR continues across hourly runs (each starts parts for two minutes): S3 aborts an upload
// no run finished within this many days of its start, so a copy abandoned for good stops being billed.
const DR_UPLOAD_DAYS = 7;

const ACCESS_LOGS =
  'Only steward writes and reads these RDB objects (ElastiCache by the bucket policy, the backup and retention roles by IAM); the objects are not served to anyone. CloudTrail S3 data events are the audit trail when an account needs one; an access-log bucket per region would add cost for no reader.';

/**
 * The stage region's export bucket for Redis DR: ElastiCache's CopySnapshot writes a snapshot's RDB files
 * there (same region only). Encrypted (SSE-S3: the export destination ElastiCache documents), private, TLS
 * only, ACLs disabled: ElastiCache gets its access from the bucket policy instead of the older canonical-ID
 * ACL grant. The exports are deleted once copied; a lifecycle rule drops leftovers.
 */
export const redisExportBucket = (
  scope: Construct,
  config: StewardConfig,
  removalPolicy: RemovalPolicy,
): Bucket => {
  const stack = Stack.of(scope);
  const bucket = new Bucket(scope, 'RedisExportBucket', {
    bucketName: redisExportBucketName(config.stage, stack.account, stack.region),
    encryption: BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [
      {
        id: 'drop-leftover-exports',
        expiration: Duration.days(EXPORT_DAYS),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
    removalPolicy,
  });
  // ElastiCache User Guide, "Exporting a backup", step "Grant ElastiCache access to your Amazon S3 bucket":
  // the regional principal `<region>.elasticache-snapshot.amazonaws.com` with these six actions, by bucket
  // policy (the replacement for the canonical-ID ACL grant when ACLs are disabled, S3 User Guide,
  // "Prerequisites for disabling ACLs"). No aws:SourceAccount: ElastiCache documents none for this principal,
  // and CopySnapshot refuses a TargetBucket its caller does not own ("The S3 bucket %s is not owned by the
  // authenticated user", API Reference), so another account cannot aim an export here.
  bucket.addToResourcePolicy(
    new PolicyStatement({
      sid: 'ElastiCacheWritesExports',
      principals: [new ServicePrincipal(`${stack.region}.elasticache-snapshot.amazonaws.com`)],
      actions: [
        's3:PutObject',
        's3:GetObject',
        's3:ListBucket',
        's3:GetBucketAcl',
        's3:ListMultipartUploadParts',
        's3:ListBucketMultipartUploads',
      ],
      resources: [bucket.bucketArn, bucket.arnForObjects(`${ID_PREFIX}*`)],
    }),
  );
  acknowledge(bucket, 'AwsSolutions-S1', ACCESS_LOGS);
  return bucket;
};

/**
 * The DR region's bucket of RDB copies (in the `Steward-<stage>-dr` stack): encrypted by default with the DR
 * key (`dr.kmsKeyArn`, which may be an alias ARN: S3 takes a key id, key ARN or alias ARN), private, TLS
 * only, versioned (a deleted copy is recoverable for a week), retained with the stack. Steward's copies live
 * under `elasticache/`; GFS retention deletes them, nothing expires them.
 */
export const redisDrBucket = (
  scope: Construct,
  config: StewardConfig,
  /**
   * A spoke account's bucket (infra/spoke.ts): encrypted with the account's own spoke DR key when the stage
   * names a DR key (`kmsKeyArn`), and never read by a drill (drills restore in the hub's account only).
   */
  spoke?: { kmsKeyArn: string },
): Bucket => {
  const stack = Stack.of(scope);
  const bucket = new Bucket(scope, 'RedisDrBucket', {
    bucketName: redisDrBucketName(config.stage, stack.account, stack.region),
    encryption: BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    lifecycleRules: [
      {
        id: 'expire-replaced-copies',
        noncurrentVersionExpiration: Duration.days(DR_NONCURRENT_DAYS),
        abortIncompleteMultipartUploadAfter: Duration.days(DR_UPLOAD_DAYS),
      },
    ],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // The DR key by its ARN as configured: an imported key object would refuse an alias ARN.
  if (config.dr.kmsKeyArn) {
    (bucket.node.defaultChild as CfnBucket).addPropertyOverride('BucketEncryption', {
      ServerSideEncryptionConfiguration: [
        {
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: spoke?.kmsKeyArn ?? config.dr.kmsKeyArn,
          },
          BucketKeyEnabled: true,
        },
      ],
    });
  }
  if (!spoke && drillsCachesFromDr(config)) {
    // A drill `from: dr` restores the copy with CreateReplicationGroup's SnapshotArns: ElastiCache reads the
    // RDB files as its regional principal, which the bucket policy admits (ElastiCache User Guide, "Seeding a
    // new self-designed cluster with an externally created backup", the read grant: s3:GetObject on the
    // files, s3:ListBucket and s3:GetBucketAcl on the bucket). Unlike an export (CopySnapshot refuses a bucket
    // its caller does not own), nothing stops another account's restore from naming these files, so the grant
    // holds only for restores by this account (aws:SourceAccount; not verified against AWS: a drill that fails
    // with access denied on its restore points here). The copies are SSE-KMS with the DR key: that tutorial
    // (step 4) documents these S3 grants only, no key-policy grant for this principal and no condition keys it
    // would carry, so steward's printed DR key statement grants ElastiCache nothing (README, Redis DR limits).
    bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'ElastiCacheReadsDrCopies',
        principals: [new ServicePrincipal(`${stack.region}.elasticache-snapshot.amazonaws.com`)],
        actions: ['s3:GetObject', 's3:ListBucket', 's3:GetBucketAcl'],
        resources: [bucket.bucketArn, bucket.arnForObjects(`${DR_RDB_PREFIX}*`)],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
  }
  acknowledge(bucket, 'AwsSolutions-S1', ACCESS_LOGS);
  return bucket;
};

const bucketArn = (stack: Stack, name: string) => `arn:${stack.partition}:s3:::${name}`;
const drCopies = (stack: Stack, dr: string, prefix = DR_RDB_PREFIX) => `${bucketArn(stack, dr)}/${prefix}*`;

// Every grant on the two buckets holds only in this account: the names are fixed, and a bucket of the same
// name elsewhere (if ours were deleted) must never receive a copy or lose an object to steward.
const inAccount = (stack: Stack) => ({ 's3:ResourceAccount': stack.account });

/**
 * Where a role's Redis DR grants point: the stack whose account owns both buckets (a spoke's is its deploy-time
 * account), the region whose caches are exported, the DR bucket's name and this place's prefix in it
 * (`elasticache/` for the hub's own account-region, `elasticache-<region>/` for a spoke region), and the DR key.
 */
export interface RedisDrScope {
  stack: Stack;
  region: string;
  drBucket: string;
  prefix: string;
  dr: EstateScope['dr'];
}

/**
 * Listing the DR bucket: under the place's prefix only (backup to find what is copied, or one snapshot's files
 * for an event; retention to sweep).
 */
const allowListDrCopies = (to: Grantee, at: Pick<RedisDrScope, 'stack' | 'drBucket' | 'prefix'>) =>
  to.allow({
    sid: 'ListRedisDrCopies',
    actions: ['s3:ListBucket'],
    resources: [bucketArn(at.stack, at.drBucket)],
    conditions: {
      StringLike: { 's3:prefix': `${at.prefix}*` },
      StringEquals: inAccount(at.stack),
    },
  });

/** The DR bucket's name as the primary stack sees it (same account, the DR region). */
const drBucketName = (stack: Stack, config: StewardConfig) =>
  redisDrBucketName(config.stage, stack.account, config.dr.region);

/**
 * The backup function's half of Redis DR: its environment names both buckets, and its role gets
 * allowRedisDrBackup's statements for the hub's own account-region (prefix `elasticache/`).
 */
export const grantRedisDrBackup = (fn: StewardFunction, exportBucket: Bucket): void => {
  const { config } = fn;
  const stack = Stack.of(exportBucket);
  const dr = drBucketName(stack, config);
  const env = {
    REDIS_EXPORT_BUCKET: exportBucket.bucketName,
    REDIS_DR_BUCKET: dr,
  } satisfies v.input<typeof CacheDrEnv>;
  for (const [k, v] of Object.entries(env)) fn.fn.addEnvironment(k, v);
  allowRedisDrBackup(fn, exportBucket.bucketArn, {
    stack,
    region: config.region,
    drBucket: dr,
    prefix: DR_RDB_PREFIX,
    dr: config.dr,
  });
};

/**
 * Exporting and copying one place's caches (the hub backup role, and each spoke backup role, pointed at its
 * account's buckets): export steward's snapshots (CopySnapshot, and the two S3 reads ElastiCache checks on the
 * caller), read and delete steward's exports, and write copies under the place's prefix of the DR bucket,
 * tagged as steward's, with the DR key through S3 in the DR region only.
 */
export const allowRedisDrBackup = (to: Grantee, exportBucketArn: string, at: RedisDrScope): void => {
  const { stack } = at;
  const ours = `${ID_PREFIX}*`;
  // The source and the target of an export are both snapshots named like steward's (the target name is the
  // source's). No tag condition: the export's target is no tagged resource, and a condition on a key the
  // request does not carry would deny it.
  to.allow({
    sid: 'ExportManagedCacheSnapshots',
    actions: ['elasticache:CopySnapshot'],
    resources: [awsArn(stack, 'elasticache', at.region, 'snapshot', ours)],
    wildcardReason: `Snapshot names are generated per run (${ID_PREFIX}<group>-<time>-<kind>); the prefix limits exports to steward's snapshots, to the stage's export bucket (the bucket policy admits ElastiCache there only).`,
  });
  // ElastiCache API permissions reference, CopySnapshot: the caller also needs s3:GetBucketLocation and
  // s3:ListAllMyBuckets, the latter on * (it has no resource type).
  to.allow({
    sid: 'ExportNeedsBucketLookups',
    actions: ['s3:ListAllMyBuckets'],
    resources: ['*'],
    wildcardReason:
      'ElastiCache checks the caller of an export may list buckets; s3:ListAllMyBuckets has no resource type.',
  });
  to.allow({
    sid: 'ReadRedisExports',
    actions: ['s3:GetBucketLocation', 's3:ListBucket'],
    resources: [exportBucketArn],
    conditions: { StringEquals: inAccount(stack) },
  });
  to.allow({
    sid: 'CopyAndCleanRedisExports',
    actions: ['s3:GetObject', 's3:DeleteObject'],
    resources: [`${exportBucketArn}/${ID_PREFIX}*`],
    conditions: { StringEquals: inAccount(stack) },
    wildcardReason: `Exported RDB files are named <snapshot>-<shard>.rdb by ElastiCache; the ${ID_PREFIX} prefix limits reads and deletes to steward's exports.`,
  });
  allowListDrCopies(to, at);
  // CopyObject, CreateMultipartUpload, UploadPartCopy and CompleteMultipartUpload are s3:PutObject (a stale
  // multipart copy is aborted: s3:AbortMultipartUpload); a copy's tags are
  // s3:PutObjectTagging, which must carry steward's ownership tag. No tag condition on PutObject: an
  // UploadPartCopy carries no tags, so s3:RequestObjectTag would deny every part.
  // A multipart copy is resumed by a later run: it finds the key's open upload (ListMultipartUploads, on the
  // bucket) and the parts it holds (ListParts is s3:ListMultipartUploadParts, on the object), and aborts a stale one.
  to.allow({
    sid: 'ResumeRedisDrCopies',
    actions: ['s3:ListBucketMultipartUploads'],
    resources: [bucketArn(stack, at.drBucket)],
    conditions: { StringEquals: inAccount(stack) },
  });
  to.allow({
    sid: 'WriteRedisDrCopies',
    actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
    resources: [drCopies(stack, at.drBucket, at.prefix)],
    conditions: { StringEquals: inAccount(stack) },
    wildcardReason: `DR copies are keyed ${at.prefix}<group>/<policy>/<snapshot>-<shard>.rdb, known at run time; the prefix is steward's own in steward's DR bucket.`,
  });
  to.allow({
    sid: 'TagRedisDrCopies',
    actions: ['s3:PutObjectTagging'],
    resources: [drCopies(stack, at.drBucket, at.prefix)],
    conditions: { StringEquals: { [`s3:RequestObjectTag/${Tag.managed}`]: 'true', ...inAccount(stack) } },
    wildcardReason: `Tags on steward's DR copies under ${at.prefix}, only with ${Tag.managed}=true.`,
  });
  // S3 encrypts each copy with the DR key (GenerateDataKey) and reads it back to assemble a multipart copy
  // (Decrypt), on the role's behalf, in the DR region only.
  const key = drKeyScope(at.dr);
  to.allow({
    sid: 'UseDrKeyViaS3',
    actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    resources: key.resources,
    conditions: { StringEquals: { 'kms:ViaService': `s3.${at.dr.region}.amazonaws.com` }, ...key.alias },
    ...(key.wildcard ? { wildcardReason: `S3 encrypts Redis DR copies with the DR key. ${key.why}` } : {}),
  });
};

/**
 * The retention function's half: its environment names the DR bucket, and its role gets
 * allowRedisDrRetention's statements under `elasticache/`.
 */
export const grantRedisDrRetention = (fn: StewardFunction): void => {
  const { config } = fn;
  const stack = Stack.of(fn);
  const dr = drBucketName(stack, config);
  fn.fn.addEnvironment('REDIS_DR_BUCKET', dr satisfies v.input<typeof CacheDrEnv>['REDIS_DR_BUCKET']);
  allowRedisDrRetention(fn, { stack, drBucket: dr, prefix: DR_RDB_PREFIX });
};

/**
 * Sweeping one place's copies (the hub retention role, and each spoke retention role): list steward's copies,
 * read their tags (the code deletes only objects tagged `steward:managed=true`: s3:DeleteObject offers no
 * object-tag condition key) and delete them, under the place's prefix only. ListBucket allows no other prefix.
 */
export const allowRedisDrRetention = (
  to: Grantee,
  at: Pick<RedisDrScope, 'stack' | 'drBucket' | 'prefix'>,
): void => {
  allowListDrCopies(to, at);
  to.allow({
    sid: 'ExpireRedisDrCopies',
    actions: ['s3:GetObjectTagging', 's3:DeleteObject'],
    resources: [drCopies(at.stack, at.drBucket, at.prefix)],
    conditions: { StringEquals: inAccount(at.stack) },
    wildcardReason: `GFS retention of steward's RDB copies under ${at.prefix} in steward's DR bucket; s3:DeleteObject has no object-tag condition key, so the code checks ${Tag.managed}=true first.`,
  });
};

/**
 * The drill function's half, for Redis drills `from: dr`: its environment names the DR bucket; its role may
 * list and read (HeadObject: the copy's sizing facts) steward's copies under `elasticache/`, read the DR
 * stack's cache drill network parameter in the DR region, and invoke the DR stack's cache verifier. The restore itself (CreateReplicationGroup with the
 * copies' S3 ARNs) is ElastiCache reading the files under the bucket policy above.
 */
export const grantRedisDrDrill = (fn: StewardFunction): void => {
  const { config } = fn;
  const stack = Stack.of(fn);
  const dr = drBucketName(stack, config);
  fn.fn.addEnvironment('REDIS_DR_BUCKET', dr satisfies v.input<typeof DrillEnv>['REDIS_DR_BUCKET']);
  allowListDrCopies(fn, { stack, drBucket: dr, prefix: DR_RDB_PREFIX });
  fn.allow({
    sid: 'ReadRedisDrCopies',
    actions: ['s3:GetObject'],
    resources: [drCopies(stack, dr)],
    conditions: { StringEquals: inAccount(stack) },
    wildcardReason: `A drill from the DR copy reads the sizing facts of steward's RDB copies under ${DR_RDB_PREFIX} (HeadObject) to choose one and size its restore.`,
  });
  // The relay to the DR stack's cache verifier (Step Functions invokes no function in another region): that one
  // function, by the name the DR stack gives it.
  fn.allow({
    sid: 'InvokeDrCacheVerifier',
    actions: ['lambda:InvokeFunction'],
    resources: [awsArn(stack, 'lambda', config.dr.region, 'function', drCacheVerifierName(config.stage))],
  });
  fn.allow({
    sid: 'ReadDrCacheDrillNetwork',
    actions: ['ssm:GetParameter'],
    resources: [
      stack.formatArn({
        service: 'ssm',
        region: config.dr.region,
        resource: 'parameter',
        resourceName: drCacheNetworkParameter(config.stage).slice(1),
      }),
    ],
  });
};
