import type { PolicyDocument } from './template.js';

interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

// A Lambda execution role is assumed by Lambda for the function it is attached to; attaching it takes
// iam:PassRole, so the trust needs no confused-deputy condition (and Lambda supplies none to test).
// The chat channel role (Amazon Q Developer in chat applications) holds no permissions and its guardrail
// denies every action, so a confused deputy would gain nothing; the service documents no source keys for it.
// ElastiCache's regional export principal (`<region>.elasticache-snapshot.amazonaws.com`) on the Redis DR
// export bucket: ElastiCache documents no source keys for it, and CopySnapshot refuses a TargetBucket its
// caller does not own (API Reference, CopySnapshot errors), so no other account can aim an export there.
const EXEMPT = new Set(['lambda.amazonaws.com', 'chatbot.amazonaws.com']);
const EXEMPT_PATTERN = /^[a-z0-9-]+\.elasticache-snapshot\.amazonaws\.com$/;

const guarded = (condition: unknown) =>
  /"aws:Source(Account|Arn|OrgID)"/.test(JSON.stringify(condition ?? {}));

/**
 * Statements that let an AWS service principal act without `aws:SourceAccount` / `aws:SourceArn` (the
 * confused-deputy guard): in role trust policies, key policies, topic, queue and bucket policies, and
 * Lambda permissions of the template.
 */
export const unguardedServicePrincipals = (template: Template): string[] => {
  const out: string[] = [];
  const check = (where: string, doc: PolicyDocument | undefined) => {
    for (const s of doc?.Statement ?? []) {
      const services = list((s as { Principal?: { Service?: unknown } }).Principal?.Service).map(String);
      const open = services.filter((p) => !EXEMPT.has(p) && !EXEMPT_PATTERN.test(p));
      if (s.Effect === 'Allow' && open.length && !guarded(s.Condition)) {
        out.push(`${where} ${s.Sid ?? ''}: ${open.join(', ')} without aws:SourceAccount/aws:SourceArn`);
      }
    }
  };
  for (const [id, r] of Object.entries(template.Resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::IAM::Role') check(`role ${id} trust`, p.AssumeRolePolicyDocument as PolicyDocument);
    if (r.Type === 'AWS::KMS::Key') check(`key ${id} policy`, p.KeyPolicy as PolicyDocument);
    if (['AWS::SNS::TopicPolicy', 'AWS::SQS::QueuePolicy', 'AWS::S3::BucketPolicy'].includes(r.Type)) {
      check(`${r.Type} ${id}`, p.PolicyDocument as PolicyDocument);
    }
    if (r.Type === 'AWS::Lambda::Permission') {
      const principal = String(p.Principal ?? '');
      if (principal.endsWith('.amazonaws.com') && !p.SourceArn && !p.SourceAccount) {
        out.push(`Lambda permission ${id}: ${principal} without SourceArn/SourceAccount`);
      }
    }
  }
  return out;
};

/** State machines that log execution data (task tokens, endpoints, user names) in clear text. */
export const stateMachinesLoggingData = (template: Template): string[] =>
  Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')
    .filter(
      ([, r]) =>
        (r.Properties?.LoggingConfiguration as { IncludeExecutionData?: boolean } | undefined)
          ?.IncludeExecutionData,
    )
    .map(([id]) => id);
