import { Arn, ArnFormat } from 'aws-cdk-lib';
import type { EstateScope } from './permission.js';

/**
 * The DR key as IAM resources: the key ARN itself, or (configured by alias, whose key id synth cannot know)
 * every key of its account and region narrowed by `kms:ResourceAliases`. An alias ARN authorizes nothing for
 * key use. `why` explains the choice for a cdk-nag acknowledgement.
 */
export const drKeyScope = (
  dr: EstateScope['dr'],
): {
  resources: string[];
  alias: Record<string, Record<string, unknown>>;
  wildcard: boolean;
  why: string;
} => {
  // The schema refuses copyToDr without a key; this keeps the types honest.
  if (!dr.kmsKeyArn) throw new Error('dr.kmsKeyArn is required when a backup policy copies to DR');
  const key = Arn.split(dr.kmsKeyArn, ArnFormat.SLASH_RESOURCE_NAME);
  const byAlias = key.resource !== 'key';
  return byAlias
    ? {
        resources: [`arn:${key.partition}:kms:${key.region}:${key.account}:key/*`],
        alias: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': `alias/${key.resourceName}` } },
        wildcard: true,
        why: `Config names the DR key by alias (${dr.kmsKeyArn}), so the key id is unknown at synth; kms:ResourceAliases pin it to that alias.`,
      }
    : {
        resources: [dr.kmsKeyArn],
        alias: {},
        wildcard: false,
        why: `The resource is the one DR key (${dr.kmsKeyArn}).`,
      };
};
