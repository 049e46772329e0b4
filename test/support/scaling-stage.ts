import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { StewardStack } from '../../infra/stack.js';
import { parseConfig } from '../../shared/config/schema.js';
import { unbundledContext } from '../infra/iam.js';
import { resolver } from '../iam/template.js';

export interface ScalingStageOptions {
  /** `scaling.delivery` (default EventBridge). */
  delivery?: 'eventbridge' | 'lambda-action';
  /** Whether steward creates rule `i`'s alarm (`alarm.create`); default none (alarms the team owns). */
  created?: (i: number) => boolean;
}

export const SCALING_STAGE_ID = 'Steward-production';

/**
 * A production stage with `count` scaling rules, one per database (`orders-db-000-cpu-high` …), every other one
 * scaling in: its template, and the alarm names in rule order.
 */
export const scalingStage = (
  count: number,
  o: ScalingStageOptions = {},
): { template: Template; names: string[] } => {
  const scaling: Record<string, unknown> = {};
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const db = `orders-db-${String(i).padStart(3, '0')}`;
    const name = `${db}-cpu-high`;
    names.push(name);
    scaling[`${db}-cpu`] = {
      alarm: o.created?.(i) ? { name, create: { metric: 'CPUUtilization', threshold: 80 } } : { name },
      resource: db,
      action: { type: 'rds.addReadReplica', maxReplicas: 2 },
      scaleIn: { enabled: i % 2 === 0 },
    };
  }
  const config = parseConfig(
    {
      stage: 'production',
      region: 'eu-west-1',
      scaling: {
        enabled: true,
        ...(o.delivery ? { delivery: o.delivery } : {}),
        rules: scaling,
      },
    },
    'limits',
  );
  const stack = new StewardStack(new App({ context: unbundledContext }), SCALING_STAGE_ID, { config });
  return { template: Template.fromStack(stack), names };
};

export interface LambdaStatement {
  Sid: string;
  Effect: 'Allow';
  Principal: { Service: string } | { AWS: string };
  Action: string;
  Resource: string;
  Condition?: { StringEquals?: Record<string, string>; ArnLike?: Record<string, string> };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

export interface LambdaPolicy {
  Version: string;
  Id: string;
  Statement: LambdaStatement[];
}

/**
 * A function's resource-based policy as Lambda holds it once CloudFormation has created each of the template's
 * AWS::Lambda::Permission on it, in `account` and `region`: one statement each, shaped as AddPermission writes it
 * (Lambda API Reference, AddPermission example: `StringEquals` on `AWS:SourceAccount`, `ArnLike` on
 * `AWS:SourceArn`), its Sid the permission's physical id (`<stack>-<logical id>-<suffix>`, as long as
 * CloudFormation makes it: the size is an upper estimate).
 */
export const lambdaResourcePolicy = (
  t: Template,
  functionName: string,
  stackName: string,
  account: string,
  region: string,
): { policy: LambdaPolicy; functionArn: string } => {
  const json = t.toJSON() as { Resources: Resources };
  const { resolve, getAtt } = resolver(json, account, region);
  const [fnId] = Object.entries(json.Resources).find(
    ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties?.FunctionName === functionName,
  )!;
  const functionArn = getAtt(fnId, 'Arn');
  const statements = Object.entries(json.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Permission')
    .map(([id, r]) => [id, resolve(r.Properties) as Record<string, string>] as const)
    .filter(([, p]) => p.FunctionName === functionArn)
    .map(([id, p]): LambdaStatement => {
      const condition = {
        ...(p.SourceAccount ? { StringEquals: { 'AWS:SourceAccount': p.SourceAccount } } : {}),
        ...(p.SourceArn ? { ArnLike: { 'AWS:SourceArn': p.SourceArn } } : {}),
      };
      return {
        Sid: `${stackName}-${id}-1A2B3C4D5E6F`,
        Effect: 'Allow',
        Principal: p.Principal!.includes('.') ? { Service: p.Principal! } : { AWS: p.Principal! },
        Action: p.Action!,
        Resource: functionArn,
        ...(Object.keys(condition).length ? { Condition: condition } : {}),
      };
    });
  return { policy: { Version: '2012-10-17', Id: 'default', Statement: statements }, functionArn };
};
