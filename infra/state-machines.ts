import type { RemovalPolicy } from 'aws-cdk-lib';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledge, wildcardFindings } from './nag.js';
import type { StewardFunction } from './steward-function.js';

/** A state machine's log group: `/aws/vendedlogs/states/<name>`, kept three months. */
export const stateMachineLogGroup = (
  scope: Construct,
  id: string,
  name: string,
  removalPolicy: RemovalPolicy,
): LogGroup =>
  new LogGroup(scope, id, {
    // The /aws/vendedlogs/ prefix keeps CloudWatch Logs' resource policy under its size limit.
    logGroupName: `/aws/vendedlogs/states/${name}`,
    retention: RetentionDays.THREE_MONTHS,
    removalPolicy,
  });

/** What CDK grants a state machine role that logs, traces and invokes `functions`, and why each wildcard. */
export const acknowledgeStateMachineRole = (
  scope: Construct,
  role: IRole,
  functions: readonly StewardFunction[],
  invokes: (fn: StewardFunction) => string,
): void => {
  acknowledge(
    role,
    'AwsSolutions-IAM5[Resource::*]',
    'Step Functions needs logs:*LogDelivery, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups ' +
      '(vended log delivery) and X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling*; none supports ' +
      'resource-level permissions.',
  );
  for (const fn of functions)
    for (const f of wildcardFindings(scope, [], [`${fn.fn.functionArn}:*`]))
      acknowledge(
        role,
        `AwsSolutions-IAM5[${f}]`,
        `${invokes(fn)}, any version or alias of it; the wildcard is the qualifier only.`,
      );
};
