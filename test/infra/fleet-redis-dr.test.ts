import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  SpokeDrStack,
  spokeDrStackId,
  spokeDrTemplate,
  SpokeStack,
  spokeStackId,
  spokeTemplate,
} from '../../infra/spoke.js';
import { DrEventsStack, drEventsStackId } from '../../infra/dr-events.js';
import { stackId, StewardStack } from '../../infra/stack.js';
import { parseConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import { FLEET_CONFIG } from '../support/fleet.js';
import { statements, unbundledContext } from './iam.js';

// Redis DR in the spokes, synthesized: each spoke account-region gets its own export bucket (ElastiCache exports
// only to a bucket of the snapshot's region that its caller owns) and each spoke account its DR bucket (the
// spoke DR stack), built by the hub's code; the spoke roles carry the hub roles' Redis DR statements pointed at
// them and at the region's prefix `elasticache-<region>/`. A fleet without Redis DR gets none of it.
const config = parseConfig(FLEET_CONFIG, 'fleet');
let spoke: Template;
let spokeStack: SpokeStack;
let spokeDr: Template;
let spokeDrStack: SpokeDrStack;
let hub: Template;

beforeAll(() => {
  const app = new App({ context: unbundledContext });
  const hubStack = new StewardStack(app, stackId('prod'), { config });
  spokeStack = new SpokeStack(app, spokeStackId('prod'), { config });
  spokeDrStack = new SpokeDrStack(app, spokeDrStackId('prod'), { config });
  hub = Template.fromStack(hubStack);
  spoke = Template.fromStack(spokeStack);
  spokeDr = Template.fromStack(spokeDrStack);
});

const join = (...parts: unknown[]) => ({ 'Fn::Join': ['', parts] });
const ACCOUNT = { Ref: 'AWS::AccountId' };
const REGION = { Ref: 'AWS::Region' };
const PARTITION = { Ref: 'AWS::Partition' };
const roleStatements = (t: Template, role: string) =>
  statements(t).filter((s) =>
    JSON.stringify(t.toJSON().Resources[s.policy].Properties.Roles ?? []).includes(role),
  );
const sid = (t: Template, role: string, name: string) => roleStatements(t, role).find((s) => s.Sid === name);

describe("a spoke's export bucket", () => {
  it("is the hub's bucket, named for the spoke's account and region, made everywhere but the DR region", () => {
    // Assert
    spoke.hasResource('AWS::S3::Bucket', {
      Condition: 'ExportsCaches',
      Properties: Match.objectLike({
        BucketName: join('steward-prod-rdb-export-', ACCOUNT, '-', REGION),
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
          Rules: [Match.objectLike({ Id: 'drop-leftover-exports', ExpirationInDays: 7 })],
        },
      }),
    });
    expect(spoke.toJSON().Conditions.ExportsCaches).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [REGION, 'us-west-2'] }],
    });
  });

  it("lets the region's ElastiCache write steward's exports, TLS only, under the same condition", () => {
    spoke.hasResource('AWS::S3::BucketPolicy', {
      Condition: 'ExportsCaches',
      Properties: {
        Bucket: Match.anyValue(),
        PolicyDocument: Match.objectLike({
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({
              Sid: 'ElastiCacheWritesExports',
              Principal: { Service: join(REGION, '.elasticache-snapshot.amazonaws.com') },
              Action: Match.arrayWith(['s3:GetBucketAcl', 's3:PutObject']),
            }),
          ]),
        }),
      },
    });
  });
});

describe('the spoke roles for Redis DR', () => {
  const drBucket = join('arn:', PARTITION, ':s3:::steward-prod-rdb-dr-', ACCOUNT, '-us-west-2');
  const drCopies = join(
    'arn:',
    PARTITION,
    ':s3:::steward-prod-rdb-dr-',
    ACCOUNT,
    '-us-west-2/elasticache-',
    REGION,
    '/*',
  );

  it("the backup role exports the spoke's own snapshots and writes only under its region's prefix, by name", () => {
    // Assert
    expect(sid(spoke, 'BackupRole', 'ExportManagedCacheSnapshots')?.Resource).toEqual(
      join('arn:', PARTITION, ':elasticache:', REGION, ':', ACCOUNT, ':snapshot:steward-*'),
    );
    // The export bucket by name: a reference would break the template where the bucket is not made.
    expect(sid(spoke, 'BackupRole', 'CopyAndCleanRedisExports')?.Resource).toEqual(
      join('arn:', PARTITION, ':s3:::steward-prod-rdb-export-', ACCOUNT, '-', REGION, '/steward-*'),
    );
    expect(sid(spoke, 'BackupRole', 'WriteRedisDrCopies')?.Resource).toEqual(drCopies);
    expect(sid(spoke, 'BackupRole', 'TagRedisDrCopies')?.Condition).toEqual({
      StringEquals: { 's3:RequestObjectTag/steward:managed': 'true', 's3:ResourceAccount': ACCOUNT },
    });
    expect(sid(spoke, 'BackupRole', 'ListRedisDrCopies')).toMatchObject({
      Resource: drBucket,
      Condition: { StringLike: { 's3:prefix': join('elasticache-', REGION, '/*') } },
    });
    // S3 encrypts a copy with the account's own spoke DR key, in the DR region only.
    expect(sid(spoke, 'BackupRole', 'UseDrKeyViaS3')?.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 's3.us-west-2.amazonaws.com' },
      'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/steward-prod-spoke-dr' },
    });
  });

  it("the retention role lists, reads tags of and deletes only under its region's prefix", () => {
    expect(sid(spoke, 'RetentionRole', 'ExpireRedisDrCopies')).toMatchObject({
      Action: ['s3:DeleteObject', 's3:GetObjectTagging'],
      Resource: drCopies,
    });
    expect(sid(spoke, 'RetentionRole', 'ListRedisDrCopies')?.Resource).toEqual(drBucket);
    expect(sid(spoke, 'RetentionRole', 'WriteRedisDrCopies')).toBeUndefined();
  });

  it('passes cdk-nag, and the StackSet body stays within its size limit', () => {
    const report = new AwsSolutionsChecks(spokeStack).validateScope(spokeStack);
    expect(report.violations.map((v) => `${v.ruleName}: ${JSON.stringify(v.violatingResources)}`)).toEqual(
      [],
    );
    expect(JSON.stringify(spokeTemplate(config, unbundledContext)).length).toBeLessThan(51_200);
  });
});

describe("a spoke's ElastiCache snapshot events", () => {
  it("are forwarded to the hub's fleet bus, whose rule hands them to the backup function, wrapped", () => {
    // Assert: the spoke's rule
    spoke.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.elasticache'], 'detail-type': ['Snapshot Created'] },
      Targets: [Match.objectLike({ Arn: Match.objectLike({ 'Fn::Join': Match.anyValue() }) })],
    });
    // and the hub's, on the fleet bus (the hub's own default-bus rule is the other one).
    const rules = Object.values(hub.findResources('AWS::Events::Rule')).filter(
      (r) => r.Properties.EventPattern.source?.[0] === 'aws.elasticache',
    );
    const fleet = rules.filter((r) => JSON.stringify(r.Properties.EventBusName ?? '').includes('FleetBus'));
    expect(rules).toHaveLength(2);
    expect(fleet).toHaveLength(1);
    const target = fleet[0]!.Properties.Targets[0];
    expect(JSON.stringify(target.InputTransformer.InputTemplate)).toContain('\\"action\\":\\"forwarded\\"');
    expect(JSON.stringify(target.Arn)).toContain('BackupFunction');
  });
});

describe("a spoke account's DR bucket", () => {
  it("is the hub's DR bucket, encrypted with the account's own DR key, versioned and retained", () => {
    spokeDr.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketName: join('steward-prod-rdb-dr-', ACCOUNT, '-us-west-2'),
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DrKey'), 'Arn'] },
              },
              BucketKeyEnabled: true,
            },
          ],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicPolicy: true }),
      }),
    });
  });

  it("is not made in the hub's account, whose DR stack holds a bucket of that name", () => {
    // Prepare: the hub's own DR stack in the hub account.
    const hubDr = Template.fromStack(
      new DrEventsStack(new App({ context: unbundledContext }), drEventsStackId('prod'), { config }),
    );
    // Assert
    spokeDr.hasResource('AWS::S3::Bucket', { Condition: 'OwnsRedisDrBucket' });
    spokeDr.hasResource('AWS::S3::BucketPolicy', { Condition: 'OwnsRedisDrBucket' });
    expect(spokeDr.toJSON().Conditions.OwnsRedisDrBucket).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [ACCOUNT, '111111111111'] }],
    });
    hubDr.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'steward-prod-rdb-dr-111111111111-us-west-2',
    });
  });

  it('admits no ElastiCache restore (drills restore in the hub only), and passes cdk-nag', () => {
    const policies = JSON.stringify(spokeDr.findResources('AWS::S3::BucketPolicy'));
    expect(policies).not.toContain('elasticache-snapshot');
    const report = new AwsSolutionsChecks(spokeDrStack).validateScope(spokeDrStack);
    expect(report.violations).toEqual([]);
    expect(JSON.stringify(spokeDrTemplate(config, unbundledContext)).length).toBeLessThan(51_200);
  });

  it("is made in every account, the hub's too, when only a target's override copies caches", () => {
    // Prepare: the stage copies databases only; targets[1] also backs caches up.
    const only: StewardConfigInput = {
      ...FLEET_CONFIG,
      backup: {
        policies: {
          daily: { kinds: ['rds-instance'], copyToDr: true },
          nightly: { kinds: ['elasticache'], retention: 'short' },
        },
      },
      targets: FLEET_CONFIG.targets!.map((t, i) =>
        i === 1 ? { ...t, backup: { policies: { daily: { kinds: ['rds-instance', 'elasticache'] } } } } : t,
      ),
    };
    const app = new App({ context: unbundledContext });
    const c = parseConfig(only, 'fleet');
    const drStack = new SpokeDrStack(app, spokeDrStackId('prod'), { config: c });
    const spokeOf = new SpokeStack(app, spokeStackId('prod'), { config: c });
    // Act
    const dr = Template.fromStack(drStack);
    const s = Template.fromStack(spokeOf);
    // Assert
    dr.resourceCountIs('AWS::S3::Bucket', 1);
    expect(dr.toJSON().Conditions).toBeUndefined();
    s.resourceCountIs('AWS::S3::Bucket', 1);
  });
});

describe('a fleet without Redis DR', () => {
  it('gives its spokes no bucket and no Redis DR statement', () => {
    // Prepare: no policy copies caches to DR.
    const none: StewardConfigInput = {
      ...FLEET_CONFIG,
      backup: {
        policies: {
          daily: { kinds: ['rds-instance', 'aurora-cluster'], copyToDr: true },
          nightly: { kinds: ['elasticache'], retention: 'short' },
        },
      },
    };
    const app = new App({ context: unbundledContext });
    const c = parseConfig(none, 'fleet');
    const spokeOf = new SpokeStack(app, spokeStackId('prod'), { config: c });
    const drStack = new SpokeDrStack(app, spokeDrStackId('prod'), { config: c });
    // Act
    const s = Template.fromStack(spokeOf);
    const dr = Template.fromStack(drStack);
    // Assert
    s.resourceCountIs('AWS::S3::Bucket', 0);
    dr.resourceCountIs('AWS::S3::Bucket', 0);
    expect(statements(s).filter((x) => /Redis/.test(x.Sid ?? ''))).toEqual([]);
  });
});
