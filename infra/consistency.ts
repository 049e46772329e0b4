import { ArnFormat, Stack } from 'aws-cdk-lib';
import { CfnDocument } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { dumpLocations } from '../shared/backup/consistency.js';
import { consistencyDocument } from '../shared/backup/consistency-document.js';
import type { StewardConfig } from '../shared/config/schema.js';
import { Tag } from '../shared/tags.js';
import type { Grantee } from './permission.js';

/** The steward Command document's name in a stage. */
export const consistencyDocumentName = (stage: string): string => `steward-${stage}-consistency`;

export { dumpLocations };

/** The backup policies whose instances get application consistency (pre/post commands or a dump). */
export const consistentPolicies = (config: StewardConfig): string[] =>
  Object.entries(config.backup.policies)
    .filter(([, p]) => p.consistency)
    .map(([name]) => name);

/**
 * The steward Command document (shared/backup/consistency-document.ts), as code: one per stage, present
 * only when a backup policy configures application consistency. A new version on every content change.
 */
export class ConsistencyDocument extends Construct {
  readonly documentName: string;
  readonly documentArn: string;

  constructor(scope: Construct, id: string, props: { stage: string; region: string }) {
    super(scope, id);
    this.documentName = consistencyDocumentName(props.stage);
    new CfnDocument(this, 'Document', {
      name: this.documentName,
      documentType: 'Command',
      documentFormat: 'JSON',
      content: consistencyDocument(),
      updateMethod: 'NewVersion',
      targetType: '/AWS::EC2::Instance',
    });
    this.documentArn = Stack.of(this).formatArn({
      service: 'ssm',
      region: props.region,
      resource: 'document',
      resourceName: this.documentName,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }
}

/**
 * Where the consistency grants point: the region the role runs commands in (a spoke's is its deploy-time
 * region), and whether the role also tags dump objects (the hub's role only: the dump buckets are the stage's,
 * in its account and region, and a spoke's dumps are tagged by the hub).
 */
export interface ConsistencyScope {
  region: string;
  tagDumps: boolean;
}

/**
 * What application consistency needs, least privilege: SendCommand of steward's document only, on
 * instances tagged for one of the policies that configure it (`ssm:resourceTag`, which SendCommand
 * supports on the instance), the results of those commands, and tagging the dump objects under each
 * configured prefix with steward's own tags. The hub's backup role and each spoke backup role get these
 * statements from here, each pointed at its own account (the stack's) and region.
 */
export const allowConsistency = (
  fn: Grantee,
  stack: Stack,
  config: StewardConfig,
  doc: ConsistencyDocument,
  at: ConsistencyScope = { region: config.region, tagDumps: true },
): void => {
  const policies = consistentPolicies(config);
  if (!policies.length) return;
  fn.allow({
    sid: 'RunConsistencyDocument',
    actions: ['ssm:SendCommand'],
    resources: [doc.documentArn],
  });
  fn.allow({
    sid: 'RunConsistencyOnTaggedInstances',
    actions: ['ssm:SendCommand'],
    resources: [
      stack.formatArn({
        service: 'ec2',
        region: at.region,
        resource: 'instance',
        resourceName: '*',
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
    ],
    conditions: { StringEquals: { [`ssm:resourceTag/${Tag.backup}`]: policies } },
    wildcardReason: `Instances are chosen by their ${Tag.backup} tag, not by id: only those tagged with a policy that configures application consistency.`,
  });
  fn.allow({
    sid: 'ReadConsistencyCommandResults',
    actions: ['ssm:GetCommandInvocation'],
    resources: ['*'],
    wildcardReason:
      'ssm:GetCommandInvocation supports no resource-level permissions (Service Authorization Reference).',
  });
  const dumps = at.tagDumps ? dumpLocations(config) : [];
  if (dumps.length)
    fn.allow({
      sid: 'TagDumpObjects',
      actions: ['s3:PutObjectTagging'],
      resources: dumps.map((d) => `arn:${stack.partition}:s3:::${d.bucket}/${d.prefix}*`),
      conditions: { StringEquals: { [`s3:RequestObjectTag/${Tag.managed}`]: 'true' } },
      wildcardReason:
        'Dump objects are named <prefix><policy>/<instance>/<snapshot set id>.dump, under the configured prefix only.',
    });
};

/**
 * Retention's half of the dumps: list each dump bucket under its configured prefixes only, read the dump
 * objects' tags and delete them, under those prefixes, named `*.dump` and in the stage's account only. The code deletes only objects
 * tagged `steward:managed=true`, read just before: s3:DeleteObject supports no s3:ExistingObjectTag
 * condition (https://docs.aws.amazon.com/AmazonS3/latest/userguide/tagging-and-policies.html).
 */
export const allowDumpRetention = (fn: Grantee, stack: Stack, config: StewardConfig): void => {
  const dumps = dumpLocations(config);
  if (!dumps.length) return;
  const buckets = [...new Set(dumps.map((d) => d.bucket))];
  buckets.forEach((bucket, i) => {
    const prefixes = dumps.filter((d) => d.bucket === bucket).map((d) => d.prefix);
    fn.allow({
      sid: `ListDumpObjects${i}`,
      actions: ['s3:ListBucket'],
      resources: [`arn:${stack.partition}:s3:::${bucket}`],
      // An empty prefix lists the whole bucket (ListObjectsV2 without Prefix): no condition then.
      ...(prefixes.includes('') ? {} : { conditions: { StringEquals: { 's3:prefix': prefixes } } }),
    });
  });
  fn.allow({
    sid: 'ExpireDumpObjects',
    actions: ['s3:GetObjectTagging', 's3:DeleteObject'],
    resources: dumps.map((d) => `arn:${stack.partition}:s3:::${d.bucket}/${d.prefix}*.dump`),
    // Never in a bucket of another account, whatever its name.
    conditions: { StringEquals: { 's3:ResourceAccount': stack.account } },
    wildcardReason: `Dump objects are named <prefix><policy>/<instance>/<snapshot set id>.dump, known at run time; s3:DeleteObject has no object-tag condition key, so the code checks ${Tag.managed}=true first.`,
  });
};
