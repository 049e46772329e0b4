import { ArnFormat, Stack } from 'aws-cdk-lib';
import { CfnDocument } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { consistencyDocument } from '../shared/backup/consistency-document.js';
import type { StewardConfig } from '../shared/config/schema.js';
import { Tag } from '../shared/tags.js';
import type { Grantee } from './permission.js';

/** The steward Command document's name in a stage. */
export const consistencyDocumentName = (stage: string): string => `steward-${stage}-consistency`;

/** The backup policies whose instances get application consistency (pre/post commands or a dump). */
export const consistentPolicies = (config: StewardConfig): string[] =>
  Object.entries(config.backup.policies)
    .filter(([, p]) => p.consistency)
    .map(([name]) => name);

/** The dump buckets and prefixes of every policy that dumps (per-instance settings included). */
export const dumpLocations = (config: StewardConfig): { bucket: string; prefix: string }[] => {
  const out = new Map<string, { bucket: string; prefix: string }>();
  for (const p of Object.values(config.backup.policies)) {
    const c = p.consistency;
    if (!c) continue;
    for (const s of [c, ...Object.values(c.instances)]) {
      if (s && s.dump)
        out.set(`${s.dump.bucket}/${s.dump.prefix}`, { bucket: s.dump.bucket, prefix: s.dump.prefix });
    }
  }
  return [...out.values()];
};

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
 * What application consistency needs, least privilege: SendCommand of steward's document only, on
 * instances tagged for one of the policies that configure it (`ssm:resourceTag`, which SendCommand
 * supports on the instance), the results of those commands, and tagging the dump objects under each
 * configured prefix with steward's own tags.
 */
export const allowConsistency = (
  fn: Grantee,
  stack: Stack,
  config: StewardConfig,
  doc: ConsistencyDocument,
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
        region: config.region,
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
  const dumps = dumpLocations(config);
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
