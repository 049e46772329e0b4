import * as v from '../valid.js';
import { ConfigError, formatIssues } from '../errors.js';

const TopicArn = v
  .string()
  .check(v.regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:.+$/, 'must be an SNS topic ARN'));
const Bool = v.pipe(
  v._default(v.enum(['true', 'false']), 'false'),
  v.transform((v) => v === 'true'),
);

/** Environment every steward function gets from its construct. */
export const BaseEnv = v.object({
  CRITICAL_TOPIC_ARN: TopicArn,
  WARNING_TOPIC_ARN: TopicArn,
  INFO_TOPIC_ARN: TopicArn,
  /** Forces dry run for this function regardless of the request. */
  DRY_RUN: Bool,
  /** The stage's report bucket (drill reports, retention records, evidence), when the stage has one. */
  REPORT_BUCKET: v.optional(v.string().check(v.minLength(3))),
});
export type BaseEnv = v.infer<typeof BaseEnv>;

/**
 * The backup vault's roles are assumed in the vault account by ARN, named as the vault stack names them
 * (`steward-<stage>-vault-<role>-<region>`) in this partition; the backup and retention constructs set it when
 * config `fleet.vault` is. Absent (a local run, whose credentials the vault roles do not trust), the function
 * does not reach the vault.
 */
export const VaultEnv = v.object({
  VAULT_PARTITION: v
    .string()
    .check(v.regex(/^aws(-[a-z]+)*$/, 'must be an AWS partition (aws, aws-cn, ...)')),
});

/** Parse the environment with `schema`; one ConfigError names every bad variable. */
export const loadEnv = <S extends v.Type>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): v.infer<S> => {
  const r = schema.safeParse(env);
  if (!r.success) throw new ConfigError('Invalid function environment', formatIssues(r.error.issues));
  return r.data;
};
