import { readFileSync } from 'node:fs';
import type { Template } from 'aws-cdk-lib/assertions';
import { SSM_AGENT_RUN_COMMAND } from '../../infra/ebs-verifier.js';

/** The feature flags `cdk synth` runs with, so the tests see the same templates. */
export const cdkContext = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

/**
 * The same context without bundling (`aws:cdk:bundling-stacks: []`): CDK puts a placeholder asset where each
 * bundle goes. The template, the IAM policies and cdk-nag's findings are the same; only the tests that read
 * the bundles themselves (test/infra/stack.test.ts) need the real ones. Bundling every function of every
 * stack in every infra test file was most of `npm test`'s time.
 */
export const unbundledContext: Record<string, unknown> = { ...cdkContext, 'aws:cdk:bundling-stacks': [] };

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
interface PolicyDocument {
  Statement: Statement[];
}

export const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);
// A resource may be a plain string or an Fn::Join; serialized, a wildcard anywhere shows up as '*'.
export const hasWildcard = (resource: unknown): boolean => JSON.stringify(resource).includes('*');
export const isDestructive = (action: string): boolean =>
  action === '*' ||
  /^[\w-]+:(\*|Delete|Remove|Terminate|Purge|Stop|Reboot|Failover|Modify|Restore|Revoke|Reset|Disable)/.test(
    action,
  );

/**
 * What Step Functions needs to deliver its execution logs to CloudWatch Logs ("vended" log delivery); none
 * of these actions supports resource-level permissions or a useful condition, so CDK grants them on "*".
 * https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy
 * They manage log delivery configurations, not data: exempt exactly these, like X-Ray.
 */
export const STEP_FUNCTIONS_LOG_DELIVERY = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
];

/** Every statement of every identity policy in the template (policies, managed policies, inline role policies). */
export const statements = (t: Template): (Statement & { policy: string })[] => {
  const out: (Statement & { policy: string })[] = [];
  const add = (policy: string, doc: PolicyDocument) =>
    doc.Statement.forEach((s) => out.push({ ...s, policy }));
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [id, r] of Object.entries(t.findResources(type))) add(id, r.Properties.PolicyDocument);
  }
  for (const [id, r] of Object.entries(t.findResources('AWS::IAM::Role'))) {
    for (const p of (r.Properties.Policies ?? []) as { PolicyDocument: PolicyDocument }[])
      add(id, p.PolicyDocument);
  }
  return out;
};

export const allowing = (t: Template, action: string) =>
  statements(t).filter((s) => s.Effect === 'Allow' && list(s.Action).includes(action));

/** The object writes (`s3:PutObject`) allowed to one construct's role: its policies' ids start with `owner`. */
export const objectWrites = (t: Template, owner: string) =>
  allowing(t, 's3:PutObject').filter((s) => s.policy.startsWith(owner));

/** Allow statements with a destructive action on a wildcard resource and no condition. */
export const unguardedDestructive = (t: Template) =>
  statements(t).filter(
    (s) =>
      s.Effect === 'Allow' &&
      list(s.Action).some((a) => isDestructive(a) && !STEP_FUNCTIONS_LOG_DELIVERY.includes(a)) &&
      list(s.Resource).some(hasWildcard) &&
      !s.Condition,
  );

/**
 * Completing a Step Functions task: no resource-level permissions (Service Authorization Reference); the
 * task token, which only the state machine hands out, names the task.
 */
export const TASK_TOKEN_CALLBACKS = ['states:SendTaskSuccess', 'states:SendTaskFailure'];

// The EBS drill verifier instance's own role: its SSM Agent's registration and message channels, which
// support no resource-level permission or condition naming the instance (infra/ebs-verifier.ts).
const SSM_AGENT: readonly string[] = SSM_AGENT_RUN_COMMAND;

/** Write actions allowed on Resource "*" without a condition (X-Ray, log delivery and task tokens aside). */
export const unconditionedWildcardWrites = (t: Template): string[] =>
  statements(t)
    .filter((s) => s.Effect === 'Allow' && !s.Condition && list(s.Resource).includes('*'))
    .flatMap((s) => list(s.Action))
    .filter(
      (a) =>
        !/^[\w-]+:(Describe|List|Get)/.test(a) &&
        !a.startsWith('xray:') &&
        !STEP_FUNCTIONS_LOG_DELIVERY.includes(a) &&
        !TASK_TOKEN_CALLBACKS.includes(a) &&
        !SSM_AGENT.includes(a),
    );
