import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { drKeyPolicyStatement } from '../../infra/backup.js';
import { drEventsStackId, DrEventsStack } from '../../infra/dr-events.js';
import { stackId, StewardStack } from '../../infra/stack.js';
import { parseConfig } from '../../shared/config/schema.js';
import { loadExample } from '../support/examples.js';
import { allowing, statements, unbundledContext } from './iam.js';

// Redis DR as deployed (the prod example copies its ElastiCache snapshots to DR): the export bucket in the
// stage region with ElastiCache's bucket-policy grant, the DR bucket in the DR stack under the DR key, the
// "Snapshot Created" rule, and the backup and retention roles' grants, each held to steward's prefixes.
const ACCOUNT = '111122223333';
let primary: Template;
let dr: Template;
let drStack: DrEventsStack;
let app: App;

beforeAll(() => {
  app = new App({ context: unbundledContext });
  const config = parseConfig({ ...loadExample('prod'), account: ACCOUNT }, 'prod');
  const stack = new StewardStack(app, stackId('prod'), { config });
  drStack = new DrEventsStack(app, drEventsStackId('prod'), { config });
  primary = Template.fromStack(stack);
  dr = Template.fromStack(drStack);
});

const role = (sid: string) => statements(primary).filter((s) => s.Sid === sid);

describe('Redis DR buckets', () => {
  it('builds the export bucket in the stage region: SSE-S3, private, TLS only, leftovers expire', () => {
    primary.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: `steward-prod-rdb-export-${ACCOUNT}-eu-west-1`,
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            ExpirationInDays: 7,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          }),
        ],
      },
    });
  });

  it("grants ElastiCache's regional principal the six export actions by bucket policy, on steward's keys", () => {
    primary.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Sid: 'ElastiCacheWritesExports',
            Effect: 'Allow',
            Principal: { Service: 'eu-west-1.elasticache-snapshot.amazonaws.com' },
            Action: [
              's3:GetBucketAcl',
              's3:GetObject',
              's3:ListBucket',
              's3:ListBucketMultipartUploads',
              's3:ListMultipartUploadParts',
              's3:PutObject',
            ],
            Resource: [
              { 'Fn::GetAtt': [Match.stringLikeRegexp('RedisExportBucket'), 'Arn'] },
              {
                'Fn::Join': [
                  '',
                  [{ 'Fn::GetAtt': [Match.stringLikeRegexp('RedisExportBucket'), 'Arn'] }, '/steward-*'],
                ],
              },
            ],
          }),
        ]),
      },
    });
  });

  it('builds the DR bucket in the DR region, encrypted with the DR key, versioned, retained', () => {
    expect(drStack.region).toBe('us-west-2');
    dr.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketName: `steward-prod-rdb-dr-${ACCOUNT}-us-west-2`,
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: 'arn:aws:kms:us-west-2:111122223333:alias/steward-dr',
              },
              BucketKeyEnabled: true,
            },
          ],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        // A multipart copy continues across runs: S3 aborts only an upload no run finished in a week.
        LifecycleConfiguration: {
          Rules: [
            Match.objectLike({
              NoncurrentVersionExpiration: { NoncurrentDays: 7 },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            }),
          ],
        },
      }),
    });
  });

  it('the DR stack passes cdk-nag with the Redis DR bucket', () => {
    const report = new AwsSolutionsChecks(app).validateScope(drStack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('Redis DR triggers and grants', () => {
  it('sends ElastiCache "Snapshot Created" events to the backup function, which learns both buckets', () => {
    primary.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.elasticache'], 'detail-type': ['Snapshot Created'] },
    });
    primary.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'steward-prod-backup',
      Environment: {
        Variables: Match.objectLike({
          REDIS_EXPORT_BUCKET: Match.anyValue(),
          REDIS_DR_BUCKET: `steward-prod-rdb-dr-${ACCOUNT}-us-west-2`,
        }),
      },
    });
    primary.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'steward-prod-retention',
      Environment: {
        Variables: Match.objectLike({ REDIS_DR_BUCKET: `steward-prod-rdb-dr-${ACCOUNT}-us-west-2` }),
      },
    });
  });

  it("exports only steward's snapshots, and deletes only steward's exports and DR copies, in this account", () => {
    expect(role('ExportManagedCacheSnapshots')[0]!.Resource).toBe(
      `arn:aws:elasticache:eu-west-1:${ACCOUNT}:snapshot:steward-*`,
    );
    const deletes = allowing(primary, 's3:DeleteObject');
    expect(deletes.map((s) => [s.Sid, s.Condition])).toEqual([
      ['CopyAndCleanRedisExports', { StringEquals: { 's3:ResourceAccount': ACCOUNT } }],
      ['ExpireRedisDrCopies', { StringEquals: { 's3:ResourceAccount': ACCOUNT } }],
    ]);
    expect(JSON.stringify(deletes[0]!.Resource)).toMatch(/\/steward-\*"\]\]\}$/);
    expect(deletes[1]!.Resource).toBe(`arn:aws:s3:::steward-prod-rdb-dr-${ACCOUNT}-us-west-2/elasticache/*`);
    // Listing the DR bucket: under steward's prefix only (a whole listing, or one snapshot's files).
    const listing = {
      StringLike: { 's3:prefix': 'elasticache/*' },
      StringEquals: { 's3:ResourceAccount': ACCOUNT },
    };
    expect(
      allowing(primary, 's3:ListBucket')
        .filter((s) => s.Sid === 'ListRedisDrCopies')
        .map((s) => s.Condition),
    ).toEqual([listing, listing]);
  });

  it("tags copies only as steward's, and uses the DR key only through S3 in the DR region", () => {
    expect(role('TagRedisDrCopies')[0]!.Condition).toEqual({
      StringEquals: { 's3:RequestObjectTag/steward:managed': 'true', 's3:ResourceAccount': ACCOUNT },
    });
    expect(role('UseDrKeyViaS3')[0]).toMatchObject({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: `arn:aws:kms:us-west-2:${ACCOUNT}:key/*`,
      Condition: {
        StringEquals: { 'kms:ViaService': 's3.us-west-2.amazonaws.com' },
        'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/steward-dr' },
      },
    });
  });

  it("prints the DR key policy's S3 statement beside the RDS ones", () => {
    const statementsFor = drKeyPolicyStatement('arn:aws:iam::1:role/r', 'us-west-2', ['rds', 's3']);
    expect(statementsFor.map((s) => s.Sid)).toEqual([
      'StewardBackupGrantsForRds',
      'StewardBackupUsesKeyThroughRds',
      'StewardBackupUsesKeyThroughS3',
    ]);
    const output = primary.findOutputs('*', { Description: Match.stringLikeRegexp('DR key') });
    expect(JSON.stringify(output)).toContain('StewardBackupUsesKeyThroughS3');
  });

  it('a stage whose policies copy no caches gets neither bucket nor grants', () => {
    const plain = new App({ context: unbundledContext });
    const config = parseConfig(
      {
        ...loadExample('prod'),
        account: ACCOUNT,
        backup: { policies: { daily: { kinds: ['rds-instance'], copyToDr: true } } },
      },
      'prod',
    );
    const stack = new StewardStack(plain, stackId('prod'), { config });
    const drOnly = new DrEventsStack(plain, drEventsStackId('prod'), { config });
    const t = Template.fromStack(stack);
    const d = Template.fromStack(drOnly);
    expect(
      Object.keys(
        t.findResources('AWS::S3::Bucket', { Properties: { BucketName: Match.stringLikeRegexp('rdb') } }),
      ),
    ).toEqual([]);
    expect(Object.keys(d.findResources('AWS::S3::Bucket'))).toEqual([]);
    expect(statements(t).filter((s) => /Redis/.test(s.Sid ?? ''))).toEqual([]);
  });
});
