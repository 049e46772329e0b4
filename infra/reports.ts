import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { StewardConfig } from '../shared/config/schema.js';
import { reportBucketName } from '../shared/report/history.js';
import type { Grantee } from './permission.js';

export interface ReportsProps {
  config: StewardConfig;
}

/**
 * `steward-<stage>-reports-<account>-<region>`: the stage's audit trail. Drill reports (`drills/`), the last
 * passed drill's tables (`baselines/`), retention records (`runs/`) and the monthly evidence reports
 * (`evidence/`). Encrypted, SSL-only, private, versioned (a report cannot be silently replaced), access
 * logged, and retained: CloudFormation cannot delete a non-empty bucket, and auditors need what is in it.
 * The fixed name lets `steward status` and `steward report` find it from the stage and account alone.
 */
export class Reports extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: ReportsProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);
    const days = config.drill.reportRetentionDays;
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(days) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // cdk-nag S1 accepts a bucket that is another bucket's access log target: no acknowledgement needed.
    this.bucket = new Bucket(this, 'Bucket', {
      bucketName: reportBucketName(config.stage, stack.account, stack.region),
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'reports/',
      lifecycleRules: [
        {
          id: 'expire-reports',
          expiration: Duration.days(days),
          noncurrentVersionExpiration: Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  get bucketName(): string {
    return this.bucket.bucketName;
  }

  /** Read objects under the prefixes, and list them (the listing is limited to the same prefixes). */
  grantRead(fn: Grantee, sid: string, prefixes: readonly string[]): void {
    fn.allow({
      sid,
      actions: ['s3:GetObject'],
      resources: prefixes.map((p) => this.bucket.arnForObjects(`${p}*`)),
      wildcardReason: `Reads reports under ${prefixes.join(', ')} in the report bucket; keys carry dates and ids known only at run time.`,
    });
    // Listing, and GetObject of a missing key (no open conditions yet) answering 404 rather than 403: S3
    // checks ListBucket for that without a prefix, so a prefix condition would turn the 404 into a 403.
    fn.allow({
      sid: `${sid}List`,
      actions: ['s3:ListBucket'],
      resources: [this.bucket.bucketArn],
    });
  }

  /** Write objects under one prefix. */
  grantWrite(fn: Grantee, sid: string, prefix: string, what: string): void {
    fn.allow({
      sid,
      actions: ['s3:PutObject'],
      resources: [this.bucket.arnForObjects(`${prefix}*`)],
      wildcardReason: `Writes ${what} under ${prefix} in the report bucket; the key is known only at run time.`,
    });
  }
}
