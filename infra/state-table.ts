import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { OUTBOX } from '../shared/aws/alert-ledger.js';
import type { StewardConfig } from '../shared/config/schema.js';
import type { StewardFunction } from './steward-function.js';

export interface StateTableProps {
  config: StewardConfig;
  removalPolicy: RemovalPolicy;
}

/** Item reads and conditional writes on single keys; no Scan: every reader knows the `pk` it wants. */
const READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
const WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

/**
 * `steward-<stage>-state`: the one small table for steward's short-lived state (retention's daily deletion
 * budget; drill task tokens; scaling seen events, cooldowns and approvals; cost alert dedup). Every stage
 * has it. Key: `pk` (string, prefixed by its user, e.g. `drill-token#<db id>`); items expire through the
 * `ttl` attribute (epoch seconds).
 */
export class StateTable extends Construct {
  /** Name of the TTL attribute, in epoch seconds. */
  static readonly TTL_ATTRIBUTE = 'ttl';
  static readonly PARTITION_KEY = 'pk';

  readonly table: Table;

  constructor(scope: Construct, id: string, props: StateTableProps) {
    super(scope, id);
    const { config } = props;
    const prod = props.removalPolicy === RemovalPolicy.RETAIN;
    this.table = new Table(this, 'Table', {
      tableName: `steward-${config.stage}-state`,
      partitionKey: { name: StateTable.PARTITION_KEY, type: AttributeType.STRING },
      timeToLiveAttribute: StateTable.TTL_ATTRIBUTE,
      billingMode: BillingMode.PAY_PER_REQUEST,
      // The AWS managed key (aws/dynamodb): KMS at rest, and its key policy already admits this account's
      // principals through DynamoDB, so readers need no kms grants. Items are tokens and timestamps, not data.
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: prod,
      removalPolicy: props.removalPolicy,
    });
    // Sparse: only cost alerts claimed and not yet confirmed sent carry these attributes, so a run finds
    // what earlier runs owe with one Query instead of a Scan.
    this.table.addGlobalSecondaryIndex({
      indexName: OUTBOX.index,
      partitionKey: { name: OUTBOX.partition, type: AttributeType.STRING },
      sortKey: { name: OUTBOX.sort, type: AttributeType.NUMBER },
      projectionType: ProjectionType.ALL,
    });
  }

  /** ARN of one of the table's indexes. */
  indexArn(name: string): string {
    return `${this.table.tableArn}/index/${name}`;
  }

  /** Query one index, only under the given values of its partition key (`dynamodb:LeadingKeys`). */
  grantQueryIndex(fn: StewardFunction, sid: string, index: string, partitions: readonly string[]): void {
    fn.allow({
      sid,
      actions: ['dynamodb:Query'],
      resources: [this.indexArn(index)],
      conditions: {
        'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [...partitions] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    });
  }

  get tableName(): string {
    return this.table.tableName;
  }

  /**
   * Read and write the items of one user of the table: every request's partition keys must start with one
   * of `prefixes` (`dynamodb:LeadingKeys`), so drills, scaling and cost alerts cannot touch each other's state.
   */
  grantReadWrite(fn: StewardFunction, sid: string, prefixes: readonly string[]): void {
    this.grant(fn, sid, [...READ, ...WRITE], prefixes);
  }

  /** `actions` on the items whose partition keys start with one of `prefixes` (`dynamodb:LeadingKeys`). */
  grant(fn: StewardFunction, sid: string, actions: readonly string[], prefixes: readonly string[]): void {
    fn.allow({
      sid,
      actions: [...actions],
      resources: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes.map((p) => `${p}*`) },
        // ForAllValues holds for a request without keys (a Scan): require keys.
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    });
  }
}
